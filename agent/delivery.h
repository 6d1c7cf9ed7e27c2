/*
 * delivery.h - the agent's incident revisions on their way to the
 * notifier: the spool (spool.h), the revisions it refused held in memory
 * (held.h), and the sender (sender.h), joined for live mode.
 *
 * delivery_put() writes each revision into the spool before anything else
 * happens to it; the sender sends it from there, and an ACK removes it.
 * When the spool refuses a revision (its bound is reached, or an I/O
 * error), the revision is held in memory instead: the newest revision of
 * each incident, in the order the incidents were first held. While any
 * revision is held, new ones join them (so an incident's revisions reach
 * the spool in order), and the held revisions go into the spool, oldest
 * first, as soon as it has room: when ACKs (or the quarantine) have freed
 * some, and at least every second. Only a revision that cannot fit into
 * even an empty spool is given up (reported as DELIVERY_EV_LOST).
 *
 * The held revisions are bounded by the caller's limits: once they are
 * reached, delivery_blocked() is true and live mode stops reading its
 * inputs (the log lines wait in their files) until the spool takes the
 * held revisions. Revisions of the lines of a read in progress, and those
 * made without new input (containment results, the closing revisions at a
 * stop) are held past the bounds.
 *
 * Driven from the agent's poll loop like the sender: poll delivery_fd()
 * for POLLIN, wake by delivery_next_deadline(), and call
 * delivery_process() then (and once at start). What happens is reported
 * through on_event, for the agent to log; this code never logs. Not
 * thread-safe.
 */
#ifndef BW_DELIVERY_H
#define BW_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/incident.h"
#include "held.h"
#include "sender.h"
#include "spool.h"

#define DELIVERY_DEFAULT_HELD_MAX_REVISIONS 10000u
#define DELIVERY_DEFAULT_HELD_MAX_BYTES (256u << 20)

enum delivery_event_kind {
	DELIVERY_EV_SENDER,  /* the sender reported ev->sender */
	DELIVERY_EV_SPOOLED, /* a revision is in the spool (id, revision, seq;
				code 1 when it had been held) */
	DELIVERY_EV_HELD,    /* the spool refused a revision (text: why) or
				others are held before it (code: how many);
				it is held in memory (replaced: the revision
				of the incident it replaces there, or 0) */
	DELIVERY_EV_DRAINED, /* every held revision is in the spool now
				(code: how many went in since the first was
				held) */
	DELIVERY_EV_SPOOL_ERROR, /* a held revision could not be spooled for
				    another reason than the bound (text);
				    tried again in a second */
	DELIVERY_EV_LOST,    /* a revision larger than the whole spool may
				hold: given up (id, revision, text) */
};

/* Borrowed for the duration of the callback. */
struct delivery_event {
	enum delivery_event_kind kind;
	const struct sender_event *sender; /* DELIVERY_EV_SENDER */
	const char *id;
	uint32_t revision;
	uint64_t seq;
	uint64_t code;
	uint32_t replaced;
	const char *text; /* "" when there is nothing to say */
};

typedef void (*delivery_event_fn)(const struct delivery_event *ev,
				  void *arg);

struct delivery_params {
	struct spool_params spool;
	/* The link; its spool, on_event and arg are delivery's own. */
	struct sender_params sender;
	uint64_t held_max_revisions; /* 0: the default above */
	uint64_t held_max_bytes;     /* 0: the default above */
	delivery_event_fn on_event;  /* may be NULL */
	void *arg;
};

struct delivery_stats {
	struct spool_stats spool;
	struct sender_stats sender;
	uint64_t held_now;    /* revisions held in memory now */
	uint64_t held_bytes;  /* their size */
	uint64_t held;        /* revisions that had to be held */
	uint64_t superseded;  /* held revisions replaced by a newer revision
				 of their incident before they were spooled */
	uint64_t unheld;      /* held revisions spooled later */
	uint64_t spool_errors; /* puts failed for another reason than the
				  bound */
	uint64_t lost;        /* revisions given up (DELIVERY_EV_LOST) */
	bool blocked;         /* delivery_blocked() now */
};

/* Open the spool (spool_new: it may be locked by another agent) and start
 * the sender. Returns NULL with err filled. Caller owns the result. */
struct delivery *delivery_new(const struct delivery_params *p,
			      struct bw_error *err) BW_WUR;

/* Stop the sender and close the spool; held revisions are freed (call
 * delivery_held() before to report them). Accepts NULL; nulls the
 * caller's pointer. */
void delivery_destroy(struct delivery **d);

/* Put one revision (inc is borrowed): into the spool, durably, before this
 * returns, then let the sender send what it can (so sending keeps pace
 * with a backlog of lines), or else hold it in memory (see the top). Never
 * fails: what goes wrong is reported through on_event and counted, and a
 * failure of the sender's sockets by the next delivery_process(). Call
 * delivery_process() soon after (delivery_next_deadline() says when). */
void delivery_put(struct delivery *d, const struct bw_incident *inc);

/* The fd to poll for POLLIN (the sender's; owned by the sender). */
int delivery_fd(const struct delivery *d);

/* When delivery_process() must run next at the latest (bw_mono_us()). */
int64_t delivery_next_deadline(const struct delivery *d, int64_t now_us);

/* Run the sender (sender_process()) and put held revisions into the spool
 * when it has room. Returns 0, or -1 with err when the sender's sockets
 * failed (the agent cannot go on). */
int delivery_process(struct delivery *d, int64_t now_us,
		     struct bw_error *err) BW_WUR;

/* Whether the held revisions have reached a bound (live mode then stops
 * reading its inputs). */
bool delivery_blocked(const struct delivery *d);

/* The revisions held in memory (borrowed), for the report at a stop
 * (held_foreach). */
const struct held *delivery_held(const struct delivery *d);

void delivery_get_stats(const struct delivery *d, struct delivery_stats *out);

#endif
