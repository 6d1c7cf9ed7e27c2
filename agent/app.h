/*
 * app.h - application protocols in reassembled flows, as events.
 *
 * Each flow's protocol is recognised by content (the first bytes each side
 * sends), not by port: HTTP/1.x, TLS, the PostgreSQL frontend protocol,
 * SSH, and DNS in UDP. Its extractor turns what it reads into the same
 * events the log parsers produce (docs/events.md): an HTTP request and its
 * response is one `http` event like an nginx log line, a PostgreSQL
 * statement a `sql` event like the postgres log parser's, a startup an
 * `auth` event; DNS queries and answers are `dns`, a TLS ClientHello a
 * `tls` event with its SNI, an SSH banner a `flow` event. Cleartext that
 * leaves a host (HTTP bodies both ways, and both directions of flows of no
 * known protocol) is scanned, within a budget per flow, for e-mail
 * addresses and payment card numbers (app_pii.c); what it finds is a `flow`
 * event with action "pii", detail "to_client" (the number found in
 * bytes_out) or "to_server" (in bytes_in).
 *
 * Extractors read bytes as they come, keep bounded state per flow, and
 * stop reading a direction that breaks their protocol (counted) instead of
 * guessing. Events point into the extractor's memory and are valid only
 * during the emit callback (the caller copies what it keeps).
 */
#ifndef BW_APP_H
#define BW_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/event.h"
#include "flow.h"

struct app_limits {
	uint32_t max_header;   /* an HTTP header block; default 16 KB */
	uint32_t max_pending;  /* pipelined HTTP requests per flow; 32 */
	uint32_t max_message;  /* a PostgreSQL message kept; default 64 KB */
	uint32_t pii_budget;   /* cleartext bytes scanned per flow and
				  direction; default 1 MB */
	uint64_t max_memory;   /* what all flows' extractors may hold
				  (headers, pending requests, messages);
				  default 256 MB */
};

#define APP_LIMITS_DEFAULT                                              \
	((struct app_limits){ .max_header = 16u << 10,                  \
			      .max_pending = 32,                         \
			      .max_message = 64u << 10,                  \
			      .pii_budget = 1u << 20,                    \
			      .max_memory = 256ull << 20 })

enum app_proto {
	APP_UNKNOWN = 0, /* not (yet) recognised */
	APP_HTTP,
	APP_TLS,
	APP_PGSQL,
	APP_SSH,
	APP_DNS,
	APP_NONE, /* recognised as none of the above */
	APP__COUNT
};

struct app_stats {
	uint64_t flows[APP__COUNT];  /* flows recognised per protocol */
	uint64_t events[APP__COUNT]; /* events made per protocol */
	uint64_t errors[APP__COUNT]; /* directions given up as malformed */
	uint64_t gaps;               /* gaps that cost a message */
	uint64_t pii_emails, pii_cards;
	uint64_t pii_bytes;          /* bytes scanned */
	uint64_t memcap;             /* buffers refused for the memory budget */
	uint64_t mem_now, mem_peak;  /* bytes the extractors hold */
};

typedef void (*app_emit_fn)(void *arg, struct bw_event *ev);

/* Shared by the flows of one capture. */
struct app_ctx {
	struct app_limits lim;
	struct app_stats st;
	app_emit_fn emit;
	void *arg;
	const char *file; /* the evidence reference's file */
	struct bw_buf raw; /* scratch for evidence summaries */
};

/* The packet that brought the bytes: its time and number. */
struct app_pkt {
	int64_t ts_us;
	uint64_t number;
};

struct app_flow;

void app_ctx_init(struct app_ctx *c, const struct app_limits *lim,
		  app_emit_fn emit, void *arg, const char *file);
void app_ctx_fini(struct app_ctx *c);

/* Per-flow state, for flow->user. Caller owns it (app_flow_end frees). */
struct app_flow *app_flow_new(void);

/* Bytes of a TCP flow in order, in direction dir (FLOW_C2S, FLOW_S2C);
 * data NULL for a gap of len bytes. */
void app_stream(struct app_ctx *c, struct app_flow *af, const struct flow *f,
		int dir, const uint8_t *data, uint32_t len,
		const struct app_pkt *pk);

/* A UDP datagram's payload in direction dir. */
void app_datagram(struct app_ctx *c, struct app_flow *af,
		  const struct flow *f, int dir, const uint8_t *data,
		  uint32_t len, const struct app_pkt *pk);

/* The flow ended: emit what is pending (a response read to the close,
 * requests never answered, PII counts) and free *af. */
void app_flow_end(struct app_ctx *c, struct app_flow **af,
		  const struct flow *f, const struct app_pkt *pk);

/* An event of kind k about flow f seen in packet pk: addresses (the
 * client as src), ports, time, source pcap, evidence reference. */
void app_event(struct app_ctx *c, struct bw_event *ev, const struct flow *f,
	       enum bw_kind k, const struct app_pkt *pk);

/* The evidence line of an event: "CLIENT:PORT > SERVER:PORT " then the
 * printf text, in c->raw (valid until the next call on c). */
struct bw_str app_raw(struct app_ctx *c, const struct flow *f,
		      const char *fmt, ...) BW_PRINTF(3, 4);

enum app_proto app_flow_proto(const struct app_flow *af);
/* "http", "tls", "postgres", "ssh", "dns", "" */
const char *app_proto_name(enum app_proto p);

#endif
