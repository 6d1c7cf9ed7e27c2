/*
 * mailer.h - delivery of the outbox (outbox.h): the messages due are taken
 * from the store, marked sending, and handed to the relay by libcurl SMTP
 * in the notifier's loop (curlloop.h), or written as .eml files.
 *
 * SMTP: smtp://HOST:PORT with STARTTLS required (unless tls is "none"), or
 * smtps://HOST:PORT; AUTH when a user name is given; at most `connections`
 * messages in flight, so at most that many connections, which curl keeps
 * and reuses (one message per transaction, CRLF bodies, dot-stuffed by
 * curl); connect and whole-transfer timeouts; at most `rate` messages a
 * second started (a token bucket: the rate limit of the relay). Outcomes:
 *
 *   accepted (2xx)            sent, with the relay's reply
 *   4xx, a connection that    pending again, the next attempt after an
 *   fails, a timeout before   exponential back-off (retry_min doubling up
 *   the message went, TLS,    to retry_max) with jitter (a delay between
 *   a refused login           half and all of it); failed once the message
 *                             is older than max_age. A failure of the
 *                             connection also holds every other message
 *                             back for a relay back-off, so a relay that is
 *                             down is not hammered
 *   5xx                       failed: refused for good
 *   the connection broke or   ambiguous: it may have been delivered; it
 *   timed out after the whole is not sent again by itself
 *   message and its final dot
 *   went
 *
 * file:DIR: each message is written (write, fsync, rename) to
 * DIR/<incident>/<row>-<kind>-<recipient>.eml and is then sent.
 *
 * Every change of state is written to the store in batches (one
 * transaction per batch) and audited. Nothing here logs: on_event tells
 * the daemon.
 */
#ifndef BW_MAILER_H
#define BW_MAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "curlloop.h"
#include "outbox.h"
#include "store.h"

#define MAILER_ACTOR "breachwatch-notifier"
#define MAILER_BATCH 256 /* rows marked or recorded per transaction */

enum mailer_transport { MAILER_FILE, MAILER_SMTP, MAILER_SMTPS };

enum mailer_event_kind {
	MAILER_EV_SENT,
	MAILER_EV_RETRY,
	MAILER_EV_FAILED,
	MAILER_EV_AMBIGUOUS,
	MAILER_EV_ERROR, /* the store or a file failed (text) */
};

/* Borrowed for the call. */
struct mailer_event {
	enum mailer_event_kind kind;
	int64_t rowid;
	const char *incident_id;
	enum outbox_kind msg_kind;
	const char *customer_id; /* may be NULL */
	const char *recipient;
	uint32_t attempts;
	int smtp_code;
	const char *text; /* the relay's reply, or what went wrong */
	int64_t next_attempt_us;
};

struct mailer_params {
	struct store *store;   /* borrowed */
	struct curlloop *loop; /* borrowed; SMTP */
	enum mailer_transport transport;
	const char *dir;                 /* file: where the .eml files go */
	const char *url;                 /* smtp, smtps: "smtp://host:port" */
	bool starttls;                   /* smtp: require STARTTLS */
	const char *ca_file;             /* may be NULL: the system's CAs */
	const char *username, *password; /* may be NULL; copied */
	const char *envelope_from;       /* MAIL FROM */
	size_t connections;              /* default 4 */
	int64_t rate;                    /* messages/s, 0: no limit */
	int64_t connect_timeout_us, timeout_us; /* defaults 10 s, 60 s */
	int64_t retry_min_us, retry_max_us, max_age_us;
	void (*on_event)(const struct mailer_event *ev, void *arg);
	void *arg;
};

struct mailer_stats {
	uint64_t started, sent, retried, failed, ambiguous, errors;
	size_t in_flight;
	int64_t relay_hold_until_us; /* 0: the relay is not held back */
};

struct mailer;

/* Check the parameters (the file: directory is made, mode 0750, when
 * missing). Returns NULL with err. Caller owns the result. */
struct mailer *mailer_new(const struct mailer_params *p,
                          struct bw_error *err) BW_WUR;

/* Stop: transfers in flight are cancelled and their rows left sending
 * (the next start sends them again: they may have been delivered). Accepts
 * NULL; nulls the caller's pointer. Call before curlloop_destroy(). */
void mailer_destroy(struct mailer **m);

/* Record the outcomes that came in, then start what is due at now_us (UTC)
 * as far as the free connections and the rate allow. Returns 1 when more
 * is due now (call again soon), 0, or -1 with err when the store failed
 * (the daemon logs it and goes on: the rows stay as they are). */
int mailer_process(struct mailer *m, int64_t now_us,
                   struct bw_error *err) BW_WUR;

/* New rows may be due: look at the outbox at the next mailer_process. */
void mailer_kick(struct mailer *m);

/* When mailer_process has something to do next (UTC us), or -1. */
int64_t mailer_next_us(const struct mailer *m);

void mailer_get_stats(const struct mailer *m, struct mailer_stats *out);

#endif
