/*
 * outbox.h - the outbox of the breach record (table notifications,
 * docs/breach-record.md): every message the notifier sends is rendered and
 * stored here before it is sent, and its delivery is recorded on its row.
 *
 * A row is one message to one recipient: a security-team alert (a new
 * incident, an escalation), a team problem report (customers who could
 * not be told, failures), a team reminder (notices held for approval), or
 * one customer's notice. Its states:
 *
 *   unresolved  a customer the directory could not give an address for
 *               (detail says why); nothing to send
 *   held        rendered, waiting: for an operator's approval (hold
 *               approval), or because the breach is of the customer's own
 *               mailbox and there is no alternate contact (hold
 *               credentials: the team is told to reach them another way)
 *   pending     rendered, to be sent at next_attempt_us
 *   sending     handed to the relay (or the file transport)
 *   sent        the relay accepted it (smtp_code, smtp_text, sent_us)
 *   failed      refused for good (5xx), or too old to try again
 *   ambiguous   the connection broke after the whole message went: it may
 *               have been delivered; not sent again by itself
 *
 * The message text (the whole RFC 5322 message), its Message-ID, subject
 * and recipient are written once and never changed (a trigger refuses it);
 * a customer has at most one notice of each version per incident (a unique
 * index). Every write appends its audit entry in the same transaction.
 * Batches are one transaction each: a reader sees all of one or none.
 */
#ifndef BW_OUTBOX_H
#define BW_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/incident.h"
#include "store.h"

enum outbox_kind {
	OUTBOX_TEAM_ALERT = 1,
	OUTBOX_TEAM_PROBLEM,
	OUTBOX_TEAM_REMINDER,
	OUTBOX_CUSTOMER,
};
#define OUTBOX_N_KINDS (OUTBOX_CUSTOMER + 1)

enum outbox_state {
	OUTBOX_UNRESOLVED = 1,
	OUTBOX_HELD,
	OUTBOX_PENDING,
	OUTBOX_SENDING,
	OUTBOX_SENT,
	OUTBOX_FAILED,
	OUTBOX_AMBIGUOUS,
};
#define OUTBOX_N_STATES (OUTBOX_AMBIGUOUS + 1)

enum outbox_hold {
	OUTBOX_HOLD_NONE,
	OUTBOX_HOLD_APPROVAL,
	OUTBOX_HOLD_CREDENTIALS
};

/* "team_alert", ...; "unresolved", ...; 0 for unknown names. */
const char *outbox_kind_name(enum outbox_kind k);
enum outbox_kind outbox_kind_by_name(const char *name);
const char *outbox_state_name(enum outbox_state st);
enum outbox_state outbox_state_by_name(const char *name);

/* A message to add. Strings are borrowed. */
struct outbox_msg {
	enum outbox_kind kind;
	int64_t customer_row;       /* customer notices: customers.id */
	const char *customer_id;    /* customer notices */
	uint32_t version;           /* >= 1 */
	const char *reason;         /* why it is made */
	const char *recipient;      /* NULL only when unresolved */
	const char *recipient_kind; /* "primary", "alternate", "team" */
	enum outbox_state state;    /* UNRESOLVED, HELD or PENDING */
	enum outbox_hold hold;      /* HELD: why */
	const char *detail;         /* may be NULL */
	enum bw_severity severity;
	uint64_t customers;
	const char *message_id, *subject, *message; /* NULL when unresolved */
	int64_t next_attempt_us; /* PENDING: when to send; 0: at once */
};

/* Add n messages about incident id in one transaction, each audited (actor,
 * now_us). rowids, when not NULL, gets their row ids. A customer notice
 * that exists (same customer and version) or a team message that exists
 * (same incident, kind, number and recipient) makes the whole batch fail:
 * a constraint, not a hope. Returns -1 with err and nothing added. */
int outbox_add(struct store *s, const char *id, const struct outbox_msg *m,
               size_t n, const char *actor, int64_t now_us, int64_t *rowids,
               struct bw_error *err) BW_WUR;

/* A delivery outcome or a change of state of one row. */
struct outbox_result {
	int64_t rowid;
	const char *incident_id; /* the row's, for its audit entry */
	enum outbox_state state; /* the new state */
	const char *action;      /* audit action; NULL: from the state */
	uint32_t attempts;       /* the new count */
	int64_t next_attempt_us; /* 0: none */
	int smtp_code;           /* 0: none */
	const char *smtp_text;   /* may be NULL */
	const char *detail;      /* may be NULL (clears it) */
	int64_t sent_us;         /* SENT: when */
};

/* Record n results in one transaction, each audited. */
int outbox_record(struct store *s, const struct outbox_result *r, size_t n,
                  const char *actor, int64_t now_us,
                  struct bw_error *err) BW_WUR;

/* Mark the rows told to the team (team_told_us = now_us), audited. */
int outbox_mark_told(struct store *s, const int64_t *rowids,
                     const char *const *incident_ids, size_t n,
                     const char *actor, int64_t now_us,
                     struct bw_error *err) BW_WUR;

/* The operators' decisions about an incident's customer notices (table
 * approvals). */
enum outbox_decision {
	OUTBOX_APPROVE = 1, /* the notices held for approval may go */
	OUTBOX_NOTIFY,      /* the customers are to be told although the
	                       rule did not ask for it; counts as approve */
	OUTBOX_UPDATE, /* every customer sent a notice gets a new version */
};

/* "approve", "notify", "update"; NULL when out of range. */
const char *outbox_decision_name(enum outbox_decision d);

/* A decision to record. Strings are borrowed. */
struct outbox_decision_req {
	enum outbox_decision decision;
	const char *operator_name; /* from the kernel, never the request */
	const char *reason;        /* required but for approve */
	uint64_t customers; /* notify: customers named now; update: customers
	                       it is for (store_approval.customers) */
};

/* What recording a decision did. */
struct outbox_decided {
	int64_t rowid;     /* the approvals row */
	uint64_t released; /* approve, notify: held notices now pending */
	int64_t upto_row;  /* update: the last notifications row before it */
};

/* Record operator's decision d about incident id at now_us, in one
 * transaction, audited: an approvals row; for approve and notify every
 * notice held for approval becomes pending (notices held because of
 * credentials stay held); for update, the last notifications row is kept
 * with it (upto_row: the customers sent a notice up to it are the ones it
 * is for, outbox_update_todo). The n messages m (team messages about the
 * decision, audited with actor; n may be 0) are added in the same
 * transaction. Returns -1 with err and nothing written for an unknown
 * incident, a missing reason, a bad string or a bad message. */
int outbox_decide(struct store *s, const char *id,
                  const struct outbox_decision_req *d,
                  const struct outbox_msg *m, size_t n, const char *actor,
                  int64_t now_us, struct outbox_decided *out,
                  struct bw_error *err) BW_WUR;

/* outbox_decide() of an approve by operator_name (reason may be NULL);
 * *released is how many held notices it released. */
int outbox_approve(struct store *s, const char *id, const char *operator_name,
                   const char *reason, int64_t now_us, uint64_t *released,
                   struct bw_error *err) BW_WUR;

/* Whether incident id's notices have been approved, by an approve or a
 * notify decision: 1 yes, 0 no, -1 with err. */
int outbox_approved(struct store *s, const char *id,
                    struct bw_error *err) BW_WUR;

/* At start: rows left sending by a notifier that stopped become pending
 * again (they may have been delivered: the detail says so). *n is how
 * many. */
int outbox_reset_sending(struct store *s, const char *actor, int64_t now_us,
                         uint64_t *n, struct bw_error *err) BW_WUR;

/*
 * Reading. Rows handed to a callback are borrowed for the call; a callback
 * returns non-zero to stop early. The functions return how many rows they
 * handed over, or -1 with err.
 */

typedef int (*outbox_row_fn)(const struct store_notification *n, void *arg);
typedef int (*outbox_due_fn)(const struct store_notification *n,
                             const char *message, size_t len, void *arg);

/* Pending rows whose next attempt is due at now_us, team messages first,
 * then by next attempt and id; at most limit, each with its message. */
int64_t outbox_due(struct store *s, int64_t now_us, size_t limit,
                   outbox_due_fn fn, void *arg, struct bw_error *err) BW_WUR;

/* The earliest next attempt of a pending row: 1 with *at_us, 0 when none
 * is pending, -1 with err. */
int outbox_next_due(struct store *s, int64_t *at_us,
                    struct bw_error *err) BW_WUR;

/* Customer notices the team has not been told about although something is
 * wrong with them (unresolved, failed, ambiguous, held for credentials),
 * by incident and row; at most limit. */
int64_t outbox_untold(struct store *s, size_t limit, outbox_row_fn fn,
                      void *arg, struct bw_error *err) BW_WUR;

/* The latest row of kind for incident id: 1 with *out (caller clears it),
 * 0 when there is none, -1 with err. */
int outbox_last(struct store *s, const char *id, enum outbox_kind kind,
                struct store_notification *out, struct bw_error *err) BW_WUR;

/* Rows of incident id by kind and state. */
struct outbox_counts {
	uint64_t n[OUTBOX_N_KINDS][OUTBOX_N_STATES];
	uint64_t held_approval; /* held for an operator's approval */
};
int outbox_count(struct store *s, const char *id, struct outbox_counts *out,
                 struct bw_error *err) BW_WUR;

/* The customers of incident id that have no notice of version 1 yet, in
 * the order they were recorded (by the revision first naming them); at
 * most limit. */
typedef int (*outbox_customer_fn)(int64_t customer_row, const char *customer_id,
                                  uint32_t first_revision, void *arg);
int64_t outbox_customers_todo(struct store *s, const char *id, size_t limit,
                              outbox_customer_fn fn, void *arg,
                              struct bw_error *err) BW_WUR;

/* The incidents detected at or after since_us that may need the
 * notifier: no team alert yet, or customers without a notice (when the
 * rule says to notify them and the incident is not closed), or notices
 * held for approval, or an operator's notify or update decision. */
typedef int (*outbox_incident_fn)(const char *id, void *arg);
int64_t outbox_incidents_open(struct store *s, int64_t since_us,
                              outbox_incident_fn fn, void *arg,
                              struct bw_error *err) BW_WUR;

/* When the outbox came to this store (migration 3): incidents detected
 * before it were never meant to be notified by it. */
int outbox_since(struct store *s, int64_t *since_us,
                 struct bw_error *err) BW_WUR;

/* The latest update decision about incident id: 1 with *out, 0 when
 * there is none, -1 with err. */
struct outbox_update {
	int64_t rowid; /* the approvals row */
	int64_t at_us;
	int64_t upto_row;
	char operator_name[STORE_MAX_NAME + 1];
};
int outbox_last_update(struct store *s, const char *id,
                       struct outbox_update *out, struct bw_error *err) BW_WUR;

/* One customer an update is for (borrowed for the call). */
struct outbox_update_todo {
	int64_t customer_row;
	const char *customer_id;
	uint32_t last_version;  /* the highest version of their notices */
	int64_t sent_us;        /* when their latest notice sent was */
	const char *message_id; /* its Message-ID */
};
typedef int (*outbox_update_fn)(const struct outbox_update_todo *t, void *arg);

/* The customers of incident id an update (upto_row: outbox_update) is for
 * that have no notice of it yet: those with a notice up to upto_row that
 * the relay accepted (sent), and no notice made after upto_row. By
 * customer row; at most limit; fn may be NULL (counting). INT64_MAX as
 * upto_row: the customers an update asked for now would be for. */
int64_t outbox_update_todo(struct store *s, const char *id, int64_t upto_row,
                           size_t limit, outbox_update_fn fn, void *arg,
                           struct bw_error *err) BW_WUR;

/* The customers of incident id none of whose notices was sent (never
 * told, or not for sure): each with its latest notice (NULL when none was
 * made), in the order they were named; fn gets the first limit of them
 * (fn may be NULL). Returns how many there are in all. */
typedef int (*outbox_never_sent_fn)(const char *customer_id,
                                    const struct store_notification *latest,
                                    void *arg);
int64_t outbox_never_sent(struct store *s, const char *id, size_t limit,
                          outbox_never_sent_fn fn, void *arg,
                          struct bw_error *err) BW_WUR;

/* The whole message of a row: 1 with *out (caller frees), 0 when the row
 * has none (unresolved) or does not exist, -1 with err. */
int outbox_message(struct store *s, int64_t rowid, char **out,
                   struct bw_error *err) BW_WUR;

#endif
