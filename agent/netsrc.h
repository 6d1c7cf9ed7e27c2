/*
 * netsrc.h - a network input: packets in, events out.
 *
 * Joins the capture (capture.h), the decoder (decode.h), the flow table
 * (flow.h), TCP reassembly (stream.h) and the protocol extractors (app.h)
 * into one pull source shaped like a log input: netsrc_next() hands out
 * the next event, reading packets as needed. Besides the extractors'
 * events it makes `flow` events: when a flow opens (action "open"), while
 * a long one runs (action "progress", every report_bytes in a direction or
 * report_us of activity) and when it ends (action "close"). The bytes_in
 * and bytes_out of a flow's progress and close events are the IP bytes
 * since its previous report, so they add up to the flow's total (a rule
 * that sums them counts every byte once, in time); see docs/capture.md.
 *
 * Events come out in the order they were made, which is packet order:
 * event time is the time of the packet that completed them (a flow that
 * times out ends at the time of the packet that found it idle).
 */
#ifndef BW_NETSRC_H
#define BW_NETSRC_H

#include <libconfig.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/event.h"
#include "app.h"
#include "capture.h"
#include "decode.h"
#include "flow.h"
#include "stream.h"

struct netsrc_options {
	const char *filter; /* BPF, also for recorded files; may be NULL */
	struct decode_limits decode;
	struct flow_limits flow;
	struct stream_limits stream;
	struct app_limits app;
	uint64_t report_bytes; /* progress event after this many unreported
				  bytes in a direction; default 64 MB */
	int64_t report_us;     /* or after this long since the last report,
				  event time; default 5 min */
};

/* The smallest report_bytes a config may set: below it, a busy flow would
 * make an event of nearly every segment. */
#define NETSRC_REPORT_BYTES_MIN (64 * 1024)

#define NETSRC_OPTIONS_DEFAULT                                             \
	((struct netsrc_options){ .filter = NULL,                          \
				  .decode = DECODE_LIMITS_DEFAULT,         \
				  .flow = FLOW_LIMITS_DEFAULT,             \
				  .stream = STREAM_LIMITS_DEFAULT,         \
				  .app = APP_LIMITS_DEFAULT,               \
				  .report_bytes = 64ull << 20,             \
				  .report_us = 300 * 1000000LL })

struct netsrc_stats {
	struct capture_stats capture;
	struct decode_stats decode;
	struct flow_stats flow;
	struct stream_stats stream;
	struct app_stats app;
	uint64_t events;
	uint64_t late; /* packets of flows already ended (lingering) */
};

struct netsrc;

/*
 * The options of a `pcap` input group of the agent config (docs/capture.md):
 * interface, filter, snaplen, buffer_size, promisc, max_flows,
 * tcp_timeout, udp_timeout, app_memory (bytes), report_bytes and
 * report_interval (when a long flow's progress event is due), and "type"
 * which belongs to the input.
 * co and no (either may be NULL) receive them over their defaults; strings
 * are borrowed from the config. Returns -1 with err at the key's
 * file:line on an unknown key, a bad type or a value out of range.
 */
int netsrc_config(const config_setting_t *opts, struct capture_options *co,
		  struct netsrc_options *no, struct bw_error *err) BW_WUR;

/* A recorded capture at path. NULL with err ("PATH: reason") when it
 * cannot be read as a capture. Caller owns the result. */
struct netsrc *netsrc_open_file(const char *path,
				const struct netsrc_options *o,
				struct bw_error *err) BW_WUR;

/* A live capture (non-blocking; netsrc_fd for poll). NULL with err. */
struct netsrc *netsrc_open_live(const struct capture_options *co,
				const struct netsrc_options *o,
				struct bw_error *err) BW_WUR;

/* A source fed frames of link type dlt by the caller (netsrc_frame)
 * instead of a capture: for tests, fuzzing and benchmarks. Events are
 * named after name. Caller owns the result. */
struct netsrc *netsrc_new_frames(int dlt, const char *name,
				 const struct netsrc_options *o);

/* Feed one frame to a source made by netsrc_new_frames (caplen bytes at
 * data, len on the wire, seen at ts_us); its events follow from
 * netsrc_next, which returns 0 once they are handed out. */
void netsrc_frame(struct netsrc *ns, int64_t ts_us, const uint8_t *data,
		  uint32_t caplen, uint32_t len);

/* Free everything (flows still open get no events: netsrc_finish first). */
void netsrc_destroy(struct netsrc **ns);

/*
 * The next event into *ev, valid until the next call. Returns 1; 0 when a
 * recorded capture is used up (its flows ended, their events handed out)
 * or a live one has nothing waiting now (or has read many packets that
 * made no event: call again when the loop has had its turn); -1 when the
 * file cannot be read further (err: "PATH: after packet N: reason"): the
 * caller reports it and calls on, getting the events of the flows the
 * file leaves open, then 0.
 */
int netsrc_next(struct netsrc *ns, struct bw_event *ev,
		struct bw_error *err) BW_WUR;

/* Live: advance event time with no packet (end idle flows). */
void netsrc_tick(struct netsrc *ns, int64_t now_us);

/* Live: end every flow now (at a stop); their events follow from
 * netsrc_next. */
void netsrc_finish(struct netsrc *ns);

int netsrc_fd(const struct netsrc *ns);
void netsrc_get_stats(struct netsrc *ns, struct netsrc_stats *st);

/* Log the counts of ns, named name (agent code: replay and live). */
void netsrc_log_summary(struct netsrc *ns, const char *name);

#endif
