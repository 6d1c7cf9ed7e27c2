/*
 * inbox.h - the notifier's side of the link: a ROUTER socket, a CURVE
 * server, that receives incident revisions from the agents, commits each
 * to the store and only then acknowledges it (docs/transport.md).
 *
 * The ROUTER lives in the context of the ZAP handler (zap.h), which the
 * caller creates before inbox_new() binds: ZeroMQ asks it about every peer
 * at the handshake, and the agent name it returns comes with every message
 * as its User-Id. For each message:
 *
 *   INCIDENT   over max_incident_bytes: rejected (limit); JSON that is not
 *              a valid incident, or whose id/revision differ from the
 *              frames': rejected (malformed, mismatch); an incident whose
 *              host is not the authenticated agent: rejected (host). Else
 *              store_put_revision(); once it has committed, ACK ok. A pair
 *              already stored is acknowledged again (duplicate) when its
 *              contents are the same, rejected (conflict) when they
 *              differ. When the store fails, no ACK: the agent resends.
 *   HEARTBEAT  answered with a HEARTBEAT (our clock, pending 0); the agent's
 *              pending count is kept for status.
 *   ACK        not for us: counted and dropped (unexpected).
 *   anything that does not decode (wire.h): counted and dropped, no answer.
 *
 * A message whose User-Id is no longer authorised (zap_is_authorized(),
 * after a reload took the agent out) is dropped unread and reported.
 * A rejection's ACK carries the reason so the agent can quarantine it and
 * stop sending it.
 *
 * Single-threaded, driven by the notifier's zmq_poll loop: poll
 * inbox_socket() and inbox_monitor() for ZMQ_POLLIN and call
 * inbox_process() when either is readable. It never blocks and never
 * logs: what happens is reported through on_event and counted (stats).
 */
#ifndef BW_INBOX_H
#define BW_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/keys.h"
#include "../common/wire.h"
#include "store.h"
#include "zap.h"

/* Messages handled per inbox_process() call at most, so that one busy
 * agent cannot starve the control socket; the rest wait for the next. */
#define INBOX_BATCH 256
/* The status codes a rejection may carry (wire.h), for per-code counts. */
#define INBOX_N_STATUS (BW_WIRE_REJ_LIMIT + 1)

enum inbox_event_kind {
	INBOX_EV_STORED,       /* a new revision committed */
	INBOX_EV_DUPLICATE,    /* a revision stored before, acknowledged again */
	INBOX_EV_REJECTED,     /* a rejection ACK was sent (code, text) */
	INBOX_EV_BAD,          /* a message that does not decode, or an ACK
				  from an agent: dropped (text) */
	INBOX_EV_UNAUTHORISED, /* from an agent no longer authorised: dropped */
	INBOX_EV_STORE_FAILED, /* the store failed: no ACK (text) */
	INBOX_EV_SEND_FAILED,  /* an ACK or HEARTBEAT could not be sent (text) */
};

/* Borrowed for the duration of the callback. */
struct inbox_event {
	enum inbox_event_kind kind;
	const char *agent;   /* the User-Id; "" when the message had none */
	const char *address; /* the peer's IP address; "" if unknown */
	const char *id;      /* incident id, or NULL */
	uint32_t revision;
	uint64_t seq;
	unsigned code;       /* REJECTED: the status sent */
	const char *text;    /* why; "" when there is nothing to say */
};

typedef void (*inbox_event_fn)(const struct inbox_event *ev, void *arg);

struct inbox_params {
	void *zctx;           /* the ZAP handler's context (borrowed) */
	struct zap *zap;      /* borrowed; made before inbox_new */
	struct store *store;  /* borrowed */
	const struct bw_keypair *keys; /* the notifier's pair (copied) */
	const char *const *endpoints;  /* "tcp://ADDR:PORT", bound in order */
	size_t n_endpoints;
	int64_t heartbeat_us;          /* ZMTP heartbeats; default 10 s */
	int64_t heartbeat_timeout_us;  /* default 3 x heartbeat */
	size_t max_incident_bytes;     /* default BW_WIRE_MAX_JSON */
	inbox_event_fn on_event;       /* may be NULL */
	void *arg;
};

struct inbox_stats {
	uint64_t messages;      /* every message received, good or bad */
	uint64_t incidents;     /* INCIDENT messages */
	uint64_t stored;        /* new revisions committed */
	uint64_t duplicates;    /* revisions already stored, acked again */
	uint64_t acks;          /* ok ACKs sent */
	uint64_t rejected;      /* rejection ACKs sent */
	uint64_t rejected_by[INBOX_N_STATUS]; /* by status code */
	uint64_t bad;           /* messages that did not decode */
	uint64_t unexpected;    /* ACKs from agents */
	uint64_t unauthorised;  /* from agents no longer authorised */
	uint64_t store_failed;  /* store errors: not acknowledged */
	uint64_t send_failed;   /* ACKs and HEARTBEATs not sent */
	uint64_t heartbeats_in, heartbeats_out;
	uint64_t handshakes;    /* connections that completed the handshake */
	uint64_t disconnects;   /* of those, closed since */
	uint64_t connections;   /* open now (handshakes - disconnects) */
};

/* What the inbox knows of one agent, from its messages. */
struct inbox_agent {
	const char *name;    /* the User-Id */
	const char *address; /* of its last message */
	int64_t first_us;    /* its first message since start, UTC us */
	int64_t last_us;     /* its last message */
	const char *last_type; /* "INCIDENT", "HEARTBEAT", ... or "bad" */
	uint64_t pending;    /* from its last HEARTBEAT */
	uint64_t incidents, stored, duplicates, rejected, bad;
};

struct inbox;

/* Create the ROUTER in p->zctx with the CURVE server key, ROUTER_MANDATORY,
 * heartbeats and a message size limit, and bind every endpoint. Returns
 * NULL with err filled (an endpoint that cannot be bound is named). Caller
 * owns the result. */
struct inbox *inbox_new(const struct inbox_params *p,
			struct bw_error *err) BW_WUR;

/* Close the sockets. Accepts NULL; nulls the caller's pointer. */
void inbox_destroy(struct inbox **ib);

/* The sockets to poll for ZMQ_POLLIN (borrowed): the ROUTER, and the PAIR
 * socket of its connection monitor. */
void *inbox_socket(struct inbox *ib);
void *inbox_monitor(struct inbox *ib);

/* The endpoints bound, as ZeroMQ resolved them (a port of "*" made
 * concrete), in the order of the params. Borrowed. */
size_t inbox_n_endpoints(const struct inbox *ib);
const char *inbox_endpoint(const struct inbox *ib, size_t i);

/* Handle up to INBOX_BATCH waiting messages and every monitor event,
 * without blocking. Each revision's time of receipt is the clock
 * (bw_now_us) when its message is taken. Returns 1 when messages may still
 * be waiting (call again soon), 0 when the socket is drained, -1 with err
 * when a socket failed. */
int inbox_process(struct inbox *ib, struct bw_error *err) BW_WUR;

void inbox_get_stats(const struct inbox *ib, struct inbox_stats *out);

/* Call fn for each agent heard from since start, in the order first
 * heard; a is borrowed for the call. */
void inbox_agents(const struct inbox *ib,
		  void (*fn)(const struct inbox_agent *a, void *arg),
		  void *arg);

#endif
