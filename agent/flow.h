/*
 * flow.h - the table of network flows: bidirectional, bounded.
 *
 * A flow is one TCP connection, or the UDP/ICMP packets between two
 * endpoints, seen from both directions. Its client is the side that sent
 * the first SYN (or, joining a connection already running, the side with
 * the higher port; for UDP, the first sender unless it used a low port
 * and the other side did not). Packets and IP bytes are counted each way.
 *
 * Memory is bounded by max_flows, allocated at creation. A flow ends when
 * both sides have sent FIN, either sent RST, it stays idle past its
 * timeout (event time), it is evicted to make room for a new one (the
 * oldest idle first; counted), or the table is flushed. Each flow is
 * opened (on_open) and ended (on_end) exactly once; the caller's per-flow
 * state (flow->user) must be released by on_end. A TCP flow that ended
 * with FIN or RST lingers briefly, so that its last ACKs and
 * retransmissions do not open a new flow; a new SYN on it starts one.
 */
#ifndef BW_FLOW_H
#define BW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/event.h"
#include "decode.h"

struct flow_limits {
	uint32_t max_flows;        /* default 65536 */
	int64_t tcp_timeout_us;    /* idle TCP, default 10 min */
	int64_t udp_timeout_us;    /* idle UDP and ICMP, default 1 min */
	int64_t linger_us;         /* an ended TCP flow, default 10 s */
};

#define FLOW_LIMITS_DEFAULT                                                \
	((struct flow_limits){ .max_flows = 65536,                         \
			       .tcp_timeout_us = 600 * 1000000LL,          \
			       .udp_timeout_us = 60 * 1000000LL,           \
			       .linger_us = 10 * 1000000LL })

/* The bounds of max_flows (the config loader enforces the same). */
#define FLOW_MAX_FLOWS_MIN 16u
#define FLOW_MAX_FLOWS_MAX (16u << 20)

enum flow_end {
	FLOW_END_FIN,      /* both sides sent FIN */
	FLOW_END_RST,      /* a side sent RST */
	FLOW_END_TIMEOUT,  /* idle past its timeout */
	FLOW_END_EVICTED,  /* made room for a new flow */
	FLOW_END_SHUTDOWN, /* the table was flushed (end of input) */
};

/* Directions: FLOW_C2S from the client, FLOW_S2C from the server. */
enum { FLOW_C2S = 0, FLOW_S2C = 1 };

struct flow_dir {
	uint64_t packets;
	uint64_t bytes;   /* IP bytes on the wire */
	uint64_t payload; /* transport payload bytes on the wire */
};

struct flow {
	struct bw_addr client, server;
	uint16_t cport, sport;
	uint8_t proto;
	bool syn;       /* the client's SYN was seen: not joined midway */
	bool synack;
	bool fin[2];
	bool rst;
	bool ended;     /* on_end was called */
	int64_t first_ts, last_ts;
	struct flow_dir dir[2];
	uint64_t id;    /* 1-based, in order of creation */
	void *user;     /* the caller's; released by on_end */

	/* the table's */
	uint32_t hnext, prev, next;
	uint8_t list;
	uint32_t hash;
};

struct flow_stats {
	uint64_t created;
	uint64_t active;      /* flows not ended, now */
	uint64_t ended_fin, ended_rst, ended_timeout, ended_shutdown;
	uint64_t evicted;     /* flows ended to make room */
	uint64_t peak;        /* most flows in the table at once */
};

typedef void (*flow_open_fn)(void *arg, struct flow *f, int64_t ts_us);
typedef void (*flow_end_fn)(void *arg, struct flow *f, enum flow_end why,
			    int64_t ts_us);

struct flow_table;

/* A table of at most lim->max_flows flows (clamped to the bounds), calling
 * on_open and on_end (either may be NULL) with arg. Caller owns it. */
struct flow_table *flow_table_new(const struct flow_limits *lim,
				  flow_open_fn on_open, flow_end_fn on_end,
				  void *arg);
/* Free the table without calling on_end (flush it first). */
void flow_table_destroy(struct flow_table **t);

/*
 * The flow of a decoded packet, created (on_open) if there is none; its
 * counters and TCP state are updated, and *dir says the packet's
 * direction. Ends flows idle past their timeouts first (on_end). Returns
 * NULL only for a packet that belongs to an ended flow (a late ACK or
 * retransmission in its linger time), which is counted and has no flow.
 */
struct flow *flow_packet(struct flow_table *t, const struct decode_pkt *pkt,
			 int *dir);

/* After the caller has used a packet of f: end f (on_end) if the packet
 * finished it (both FINs, or a RST). */
void flow_settle(struct flow_table *t, struct flow *f, int64_t ts_us);

/* End every flow idle past its timeout at event time now_us. */
void flow_expire(struct flow_table *t, int64_t now_us);

/* End every flow (FLOW_END_SHUTDOWN) and empty the table. */
void flow_flush(struct flow_table *t, int64_t now_us);

void flow_get_stats(const struct flow_table *t, struct flow_stats *st);

/* "fin", "rst", "timeout", "evicted", "end". */
const char *flow_end_name(enum flow_end why);

#endif
