/*
 * sender.h - the agent's side of the link to the notifier.
 *
 * A DEALER socket, a CURVE client with the agent's key pair and the
 * notifier's public key, connects to the notifier's ROUTER over TCP and
 * sends the spooled revisions (spool.h) in the order they were spooled,
 * with at most max_in_flight unacknowledged at a time. An ACK with status
 * ok removes the revision from the spool; a rejection moves it into the
 * spool's quarantine, counts it and reports it (SENDER_EV_REJECTED): the
 * notifier will never take that revision, so it is not sent again. A
 * revision with no ACK is sent again after ack_timeout, then after twice
 * that, and so on up to max_backoff; and at once whenever a new connection
 * to the notifier is made (what was in flight on the old one is likely
 * lost). The notifier stores each (id, revision) once, so a revision sent
 * twice does no harm.
 *
 * The link survives the notifier going away and coming back: ZeroMQ
 * reconnects (every reconnect_min, backing off to reconnect_max), ZMTP
 * heartbeats notice a dead peer, and the spool keeps everything meanwhile.
 * After a failed handshake (the notifier refused our key, or a CURVE
 * error), which ZeroMQ does not retry, the sender connects again itself:
 * after 1 s (at least reconnect_min, at most reconnect_max), doubling up to
 * reconnect_max while it keeps failing; so an agent refused before the
 * operator authorised it gets in without a restart.
 * Nothing is sent while there is no connection (ZMQ_IMMEDIATE), so nothing
 * piles up in ZeroMQ's queues. The sender also sends a HEARTBEAT message
 * every heartbeat interval while connected, telling the notifier how many
 * revisions wait in the spool.
 *
 * For the agent's poll loop (single-threaded; the sender never blocks):
 *
 *	for (;;) {
 *		poll sender_fd(s) for POLLIN, with a timeout up to
 *		    sender_next_deadline(s, now) - now  (and the other fds);
 *		... spool_put() new revisions ...
 *		if (sender_process(s, bw_mono_us(), &err) < 0) fatal
 *	}
 *
 * sender_fd() is edge-triggered like ZMQ_FD: sender_process() drains every
 * socket, so call it once at start, then whenever the fd is readable, when
 * the deadline has come, and after spool_put(). Times are bw_mono_us()
 * microseconds.
 *
 * What happens is reported through the on_event callback, for the agent to
 * log and count; the sender itself never logs.
 */
#ifndef BW_SENDER_H
#define BW_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/keys.h"
#include "spool.h"

enum sender_event_kind {
	SENDER_EV_CONNECTED,     /* the handshake with the notifier succeeded */
	SENDER_EV_DISCONNECTED,  /* the connection was lost */
	SENDER_EV_AUTH_REFUSED,  /* the notifier refused our key (code: the
				    ZAP status, e.g. 400) */
	SENDER_EV_HANDSHAKE_FAILED, /* another handshake failure (e.g. a
				       wrong server key; code: zmq's value) */
	SENDER_EV_REJECTED,      /* the notifier rejected a revision (code:
				    its status, text: its reason); the revision
				    is in the spool's quarantine */
	SENDER_EV_SPOOL_BAD,     /* a spooled revision was corrupt and put in
				    the quarantine (text: why) */
	SENDER_EV_PROTOCOL,      /* a malformed or unexpected message from the
				    notifier was dropped (text: why) */
	SENDER_EV_ERROR,         /* a local error, e.g. reading the spool;
				    retried later (text: why) */
};

/* Borrowed for the duration of the callback. */
struct sender_event {
	enum sender_event_kind kind;
	uint64_t seq;      /* REJECTED, SPOOL_BAD: the spool sequence */
	const char *id;    /* REJECTED: the incident id */
	uint32_t revision; /* REJECTED */
	unsigned code;
	const char *text;  /* "" when there is nothing to say */
};

typedef void (*sender_event_fn)(const struct sender_event *ev, void *arg);

struct sender_params {
	void *zctx;               /* ZeroMQ context (borrowed); NULL: the
				     sender makes and ends its own */
	const char *endpoint;     /* "tcp://notifier.example:7401" */
	const struct bw_keypair *keys;  /* the agent's pair (copied) */
	const uint8_t *server_key;      /* the notifier's public key,
					   BW_KEY_LEN bytes (copied) */
	struct spool *spool;      /* borrowed; must outlive the sender */
	unsigned max_in_flight;   /* default 32 */
	int64_t ack_timeout_us;   /* first resend; default 10 s */
	int64_t max_backoff_us;   /* resend interval cap; default 5 min */
	int64_t heartbeat_us;     /* ZMTP and HEARTBEAT interval; default
				     10 s */
	int64_t heartbeat_timeout_us; /* no traffic for this long: the
					 connection is dead; default 3 x
					 heartbeat */
	int64_t reconnect_min_us; /* default 100 ms */
	int64_t reconnect_max_us; /* default 30 s */
	sender_event_fn on_event; /* may be NULL */
	void *arg;
};

struct sender_stats {
	uint64_t sent;        /* revisions sent the first time */
	uint64_t resent;      /* sent again (no ACK in time, reconnection) */
	uint64_t acked;       /* ok ACKs: removed from the spool */
	uint64_t rejected;    /* rejections: moved to the quarantine */
	uint64_t spool_bad;   /* corrupt spool files met */
	uint64_t stale_acks;  /* ACKs for revisions no longer in flight */
	uint64_t protocol_errors; /* dropped messages from the notifier */
	uint64_t heartbeats_sent, heartbeats_received;
	uint64_t connects, disconnects, auth_refused, handshake_failed;
	uint64_t retries;     /* reconnections after a failed handshake */
	uint64_t in_flight;   /* now */
	bool connected;       /* now */
};

/* Create the socket and start connecting (ZeroMQ connects in the
 * background). Returns NULL with err filled on a bad parameter or a
 * ZeroMQ failure. Caller owns the result. */
struct sender *sender_new(const struct sender_params *p,
			  struct bw_error *err) BW_WUR;

/* Close the sockets at once (unacknowledged revisions stay in the spool).
 * Accepts NULL; nulls the caller's pointer. */
void sender_destroy(struct sender **s);

/* The fd to poll for POLLIN (owned by the sender). */
int sender_fd(const struct sender *s);

/* When sender_process() must run next at the latest (bw_mono_us() time):
 * now when there is something to send at once, the time of a reconnection
 * after a failed handshake, INT64_MAX when only the fd
 * can bring work. */
int64_t sender_next_deadline(const struct sender *s, int64_t now_us);

/* Handle everything pending: connection events, ACKs and HEARTBEATs from
 * the notifier, revisions to send or send again, the heartbeat. Never
 * blocks. Returns 0, or -1 with err when the sockets failed (the sender
 * cannot go on). Problems with messages or spool files are reported
 * through on_event, not as failures. */
int sender_process(struct sender *s, int64_t now_us,
		   struct bw_error *err) BW_WUR;

void sender_get_stats(const struct sender *s, struct sender_stats *out);

#endif
