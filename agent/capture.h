/*
 * capture.h - packets from libpcap: a recorded file (classic pcap in either
 * byte order, micro- or nanosecond stamps, pcapng) or a live interface.
 *
 * A capture hands out one packet at a time with its time (UTC
 * microseconds), its captured bytes (borrowed from libpcap, valid until the
 * next call) and its 1-based number, which evidence references use. Only
 * the link types the decoder understands are accepted (capture_linktype_ok);
 * any other is refused at open with its name, so a capture the agent
 * cannot read says so instead of yielding nothing.
 *
 * Live captures are non-blocking: capture_fd() is a descriptor for the
 * agent's poll loop, and capture_next() returns 0 when nothing is waiting.
 * Promiscuous mode is off unless asked for.
 */
#ifndef BW_CAPTURE_H
#define BW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"

/* Link types by libpcap's DLT numbers; older headers lack the newer. */
#include <pcap/dlt.h>
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

struct capture;

/* Live capture settings (docs/capture.md; the agent config's pcap input). */
struct capture_options {
	const char *interface; /* required: "lo", "eth0", "any" */
	const char *filter;    /* BPF expression, or NULL for every packet */
	int snaplen;           /* bytes kept per packet; 0: 262144 */
	int buffer_size;       /* kernel buffer bytes; 0: libpcap's default */
	bool promisc;          /* default false */
};

/* Bounds of the options (the config loader enforces the same). */
#define CAPTURE_SNAPLEN_MIN 64
#define CAPTURE_SNAPLEN_MAX 262144
#define CAPTURE_BUFFER_MAX (1 << 30)

/* One packet. data is borrowed and valid until the next call on the
 * capture. */
struct capture_packet {
	int64_t ts_us;       /* UTC microseconds */
	const uint8_t *data; /* caplen bytes */
	uint32_t caplen;     /* bytes captured */
	uint32_t len;        /* bytes on the wire (>= caplen) */
	uint64_t number;     /* 1-based */
};

struct capture_stats {
	uint64_t packets;   /* packets handed out */
	uint64_t bytes;     /* their wire lengths summed */
	uint64_t truncated; /* packets with caplen < len (snaplen cut) */
	uint64_t errors;    /* read errors (a file that ends mid-record) */
	uint64_t kernel_drops; /* live: dropped by the kernel or interface */
};

/*
 * Open a recorded capture at path. filter (may be NULL) is a BPF
 * expression applied while reading. Returns NULL with err ("PATH: reason")
 * when libpcap cannot open the file, the filter does not compile, or the
 * link type is not supported. Caller owns the capture.
 */
struct capture *capture_open_file(const char *path, const char *filter,
				  struct bw_error *err) BW_WUR;

/*
 * Open a live capture as o says, non-blocking. Returns NULL with err
 * ("INTERFACE: reason": no such device, no permission (CAP_NET_RAW), bad
 * filter, unsupported link type). Caller owns the capture.
 */
struct capture *capture_open_live(const struct capture_options *o,
				  struct bw_error *err) BW_WUR;

/* Close and free; *c becomes NULL. Accepts NULL. */
void capture_destroy(struct capture **c);

/*
 * The next packet into *pkt. Returns 1; 0 at the end of a file, or when a
 * live capture has nothing waiting; -1 on a read error with err ("PATH:
 * after packet N: reason", e.g. a file that ends mid-record), which is
 * counted in errors. After an error on a file the capture is at its end.
 */
int capture_next(struct capture *c, struct capture_packet *pkt,
		 struct bw_error *err) BW_WUR;

/* The selectable descriptor of a live capture (-1 for a file). */
int capture_fd(const struct capture *c);

/* The DLT of the capture (pcap_datalink). */
int capture_linktype(const struct capture *c);

/* The snapshot length the capture was opened with. */
int capture_snaplen(const struct capture *c);

/* Counters so far (for a live capture, kernel_drops is read now). */
void capture_get_stats(struct capture *c, struct capture_stats *st);

/* Whether the decoder reads this DLT: Ethernet (with 802.1Q/QinQ), Linux
 * SLL and SLL2, raw IP (DLT_RAW, IPv4, IPv6), BSD null and loop. */
bool capture_linktype_ok(int dlt);

#endif
