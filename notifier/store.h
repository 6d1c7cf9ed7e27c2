/*
 * store.h - the notifier's breach record: an SQLite store (WAL,
 * synchronous=FULL) owned by breachwatch-notifier alone.
 *
 * It keeps every incident revision as received, the current state of each
 * incident (from its highest revision), the affected customers, kinds of
 * data, evidence, containment steps (from the agents and by hand), state
 * changes with who/when/why, notes, the clocks (detected, aware, the GDPR
 * 72-hour deadline) and an append-only, hash-chained audit trail: every
 * write to the record adds an audit entry in the same transaction, and
 * store_verify_chain() recomputes the chain and checks every audited row
 * against the entry that last wrote it. docs/breach-record.md describes the
 * schema, the migrations and the chain.
 *
 * Times are UTC microseconds. The functions that write take the time of the
 * write from the caller (received_us, now_us); the store reads the clock
 * only to stamp a schema migration. One struct store is used by one thread
 * at a time.
 *
 * The notifications (the outbox: every message rendered and stored before
 * it is sent) and the operators' decisions about them (approvals) are
 * tables of the same record, written through outbox.h and read back here
 * with the incident.
 */
#ifndef BW_STORE_H
#define BW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/incident.h"

/* The schema version this code writes (PRAGMA user_version). A store at a
 * lower version is migrated step by step on open; a higher one is refused. */
#define STORE_SCHEMA_VERSION 4

/* GDPR Art. 33(1): notify the supervisory authority within 72 hours of
 * becoming aware. */
#define STORE_GDPR_DEADLINE_US (INT64_C(72) * 3600 * 1000000)

/* Limits on what operators hand in (through the CLI and the control
 * socket): names are one line, texts may have several. */
#define STORE_MAX_NAME 256
#define STORE_MAX_TEXT 65536

/* Where an incident stands. The order matters: the state is the furthest
 * milestone reached (closed > notified > contained > detected). */
enum store_state {
	STORE_DETECTED = 1,
	STORE_CONTAINED,
	STORE_NOTIFIED,
	STORE_CLOSED,
};

/* "detected", "contained", "notified", "closed"; NULL when out of range. */
const char *store_state_name(enum store_state st);
/* 0 for other names. */
enum store_state store_state_by_name(const char *name);

struct store;

/* Open the store at path, creating it (mode 0600) if missing, migrating an
 * older schema to STORE_SCHEMA_VERSION one step per transaction. Refuses a
 * store whose user_version is newer than this code, a database that is not
 * a breachwatch store, and a store another struct store (in any process)
 * holds open. Returns NULL with err filled. Caller owns the result. */
struct store *store_open(const char *path, struct bw_error *err) BW_WUR;
/* Accepts NULL; nulls the caller's pointer. */
void store_close(struct store **s);

/* The schema version of the open store (STORE_SCHEMA_VERSION once open). */
int store_version(const struct store *s);

/*
 * Writing.
 */

/* Store one incident revision received from agent at received_us, in one
 * transaction: the revision (as JSON), the incident's current state when
 * this is its highest revision so far, new customers, data kinds and
 * evidence, agent containment steps, and the state changes that follow
 * (detected for a new incident; contained when a containment step first
 * succeeded; reopened when a closed incident shows new activity). Idempotent
 * on (inc->id, inc->revision): a pair already stored changes nothing and sets
 * *inserted to false (the first arrival wins even if a later one differs).
 * Revisions may arrive in any order; all are kept. Returns 0 once committed
 * (so the caller may acknowledge), -1 with err filled and nothing written.
 * inc and agent are borrowed. */
int store_put_revision(struct store *s, const struct bw_incident *inc,
		       const char *agent, int64_t received_us, bool *inserted,
		       struct bw_error *err) BW_WUR;

/* Record a containment step taken by hand by operator (a name), with a note
 * saying what was done, at now_us; marks the incident contained if it was
 * not. Returns -1 with err for an unknown id or bad strings. */
int store_add_manual_step(struct store *s, const char *id,
			  const char *operator_name, const char *note,
			  int64_t now_us, struct bw_error *err) BW_WUR;

/* Close the incident: operator's decision, with the resolution (why it is
 * closed). Refused when it is already closed. A later revision showing new
 * activity (a later last_seen) reopens it. */
int store_close_incident(struct store *s, const char *id,
			 const char *operator_name, const char *resolution,
			 int64_t now_us, struct bw_error *err) BW_WUR;

/* Record that the incident's notifications went out (for the mailer):
 * the notified milestone, once. Returns 0 also when already notified. */
int store_mark_notified(struct store *s, const char *id, const char *actor,
			const char *reason, int64_t now_us,
			struct bw_error *err) BW_WUR;

/* Add a note by author to the incident's record. */
int store_add_note(struct store *s, const char *id, const char *author,
		   const char *text, int64_t now_us,
		   struct bw_error *err) BW_WUR;

/* Set the time the organisation became aware of the incident (by default
 * its first detection), which moves the 72-hour deadline; operator and a
 * reason are required and kept with the old and new times. */
int store_set_aware(struct store *s, const char *id, int64_t aware_us,
		    const char *operator_name, const char *reason,
		    int64_t now_us, struct bw_error *err) BW_WUR;

/*
 * Reading. Everything returned is owned by the caller unless said.
 */

/* The current state of one incident. */
struct store_incident {
	char *id;
	uint32_t revision; /* the highest stored */
	uint32_t n_revisions;
	char *rule;
	char *category;
	enum bw_severity severity;
	char *title;
	char *summary; /* may be NULL */
	char *host;
	struct bw_kv *actor;
	size_t n_actor;
	int64_t first_seen_us, last_seen_us; /* event time */
	uint64_t event_count;
	uint64_t evidence_omitted;
	size_t n_customers; /* distinct, over all revisions */
	bool affected_unknown;
	bool notify_customers; /* the rule asks for customer notices */
	bool notify_decided;   /* an operator decided they are to be told
	                          (breachwatch notify), whatever the rule */
	bool credentials;
	bool quiet; /* the agent closed it: no activity for its quiet period */
	enum store_state state;
	int64_t detected_us; /* first revision stored */
	int64_t aware_us;    /* detected_us unless set */
	char *aware_reason;  /* NULL while aware_us is the default */
	int64_t deadline_us; /* aware_us + 72 h */
	int64_t contained_us, notified_us, closed_us; /* 0: not reached */
	char *closed_by;  /* NULL unless closed */
	char *resolution; /* NULL unless closed */
};

struct store_revision {
	uint32_t revision;
	char *agent;
	int64_t received_us;
	enum bw_severity severity;
	uint64_t event_count;
	size_t n_customers;
	bool quiet;
};

struct store_customer {
	char *id;
	uint32_t first_revision; /* the lowest revision naming them */
};

struct store_data_kind {
	char *kind;
	uint32_t first_revision;
};

struct store_evidence {
	int64_t ts_us;
	char *source;
	char *ref;
	char *excerpt;
	uint32_t first_revision;
};

struct store_step {
	bool manual;         /* by an operator; else from an agent */
	uint32_t position;   /* agent: index in the incident's containment */
	char *action;        /* agent: the action id; manual: "manual" */
	int64_t started_us;  /* 0: not started */
	int64_t finished_us; /* 0: not finished */
	char *status;
	char *detail;        /* manual: the operator's note */
	char *operator_name; /* manual only, else NULL */
	uint32_t revision;   /* agent: the revision the values come from */
	int64_t recorded_us; /* when the store first recorded the step */
};

struct store_state_change {
	int64_t at_us;
	char *milestone; /* detected, contained, notified, closed, reopened */
	enum store_state before; /* 0 for detected */
	enum store_state after;
	char *actor;
	char *reason;
	uint32_t revision; /* the revision that caused it, or 0 */
};

struct store_note {
	int64_t at_us;
	char *author;
	char *text;
};

struct store_clock_change {
	int64_t at_us;
	char *clock; /* "aware" */
	int64_t old_us, new_us;
	char *actor;
	char *reason;
};

/* One message of the outbox (outbox.h), without its text. */
struct store_notification {
	int64_t rowid;
	char *kind;  /* team_alert, team_problem, team_reminder, customer_notice */
	char *customer_id; /* customer notices only */
	uint32_t version;  /* the notice's version, or the team message's number */
	char *reason;      /* why it was made */
	char *recipient;   /* NULL while unresolved */
	char *recipient_kind; /* primary, alternate, team; NULL if unresolved */
	char *state; /* unresolved, held, pending, sending, sent, failed,
			ambiguous */
	char *hold;   /* approval, credentials: why it was held; NULL if never */
	char *detail; /* why held, unresolved, failed, ambiguous; may be NULL */
	enum bw_severity severity; /* the incident's when it was made */
	uint64_t customers;        /* affected customers when it was made */
	uint32_t attempts;
	int64_t next_attempt_us; /* 0: none */
	int smtp_code;           /* 0: none */
	char *smtp_text;
	char *message_id;
	char *subject;
	int64_t created_us, updated_us, sent_us, told_us; /* 0: not yet */
	char *incident_id;
};

/* An operator's decision about an incident's customer notices (table
 * approvals): "approve" (the notices held by policy approve may go),
 * "notify" (the customers are to be told although the rule did not ask
 * for it; counts as an approval too) or "update" (every customer sent a
 * notice gets a new version of it). */
struct store_approval {
	int64_t rowid;
	int64_t at_us;
	char *operator_name;
	char *decision;
	char *reason; /* may be NULL for approve */
	uint64_t released; /* notices held for approval it released */
	uint64_t customers; /* notify: customers named then; update: customers
	                       it is for; 0 for approve */
};

/* One incident with its timeline. Arrays are in time order (revisions by
 * number, customers by first revision then arrival, notifications by their
 * making). */
struct store_record {
	struct store_incident inc;
	struct store_revision *revisions;
	size_t n_revisions;
	struct store_customer *customers;
	size_t n_customers;
	struct store_data_kind *data_kinds;
	size_t n_data_kinds;
	struct store_evidence *evidence;
	size_t n_evidence;
	struct store_step *steps;
	size_t n_steps;
	struct store_state_change *changes;
	size_t n_changes;
	struct store_note *notes;
	size_t n_notes;
	struct store_clock_change *clocks;
	size_t n_clocks;
	struct store_notification *notifications;
	size_t n_notifications;
	struct store_approval *approvals;
	size_t n_approvals;
	uint64_t n_audit; /* audit entries about this incident */
};

/* Free what a notification holds (not n itself). */
void store_notification_clear(struct store_notification *n);

/* Which incidents store_list returns; 0 members match everything. */
struct store_filter {
	enum store_state state;
	enum bw_severity min_severity;
	int64_t since_us; /* detected at or after */
	size_t limit;
};

/* Called once per incident, newest detection first; row is borrowed for the
 * call. Return non-zero to stop early. */
typedef int (*store_list_fn)(const struct store_incident *row, void *arg);

/* List the incidents that match f (NULL: all). Returns the number listed,
 * or -1 with err filled. */
int64_t store_list(struct store *s, const struct store_filter *f,
		   store_list_fn fn, void *arg, struct bw_error *err) BW_WUR;

/* Whether incident id is in the store: 1 yes, 0 no, -1 with err filled when
 * the store could not be read. (The control socket tells "no such incident"
 * from other failures with it.) */
int store_has_incident(struct store *s, const char *id,
		       struct bw_error *err) BW_WUR;

/* The incident id with its timeline. Returns NULL with err filled (also for
 * an unknown id). Caller owns the result: store_record_destroy(). */
struct store_record *store_get(struct store *s, const char *id,
			       struct bw_error *err) BW_WUR;
/* The incident with its revisions, kinds of data and containment steps
 * only (inc.n_customers counts its customers; the arrays of customers,
 * evidence, state changes, notes, clocks, notifications and approvals are
 * empty, n_audit 0): what a customer's notice needs, without reading
 * thousands of rows. Returns NULL with err filled. Caller owns the
 * result: store_record_destroy(). */
struct store_record *store_get_facts(struct store *s, const char *id,
				     struct bw_error *err) BW_WUR;

/* Accepts NULL; nulls the caller's pointer. */
void store_record_destroy(struct store_record **r);

/* When revision rev of r arrived (its received_us), or the incident's
 * detection when r does not hold that revision. */
int64_t store_record_received(const struct store_record *r, uint32_t rev);

/* The JSON of one stored revision, as stored. Caller frees. NULL with err
 * when there is no such revision. */
char *store_revision_json(struct store *s, const char *id, uint32_t revision,
			  struct bw_error *err) BW_WUR;

/*
 * The audit chain.
 */

struct store_verify {
	bool ok;
	int64_t entries;   /* entries in the chain */
	int64_t first_bad; /* seq of the first entry found wrong; 0 when ok, or
	                      when the fault is a row no entry records */
	char head[65];     /* hex SHA-256 of the last entry ("" if none) */
	char reason[512];  /* what is wrong, when !ok */
};

/* Check the audit trail: the entries form an unbroken chain (seq 1..n, each
 * hash = SHA-256(previous hash || canonical entry)), every audited row
 * matches the digest in the latest entry about it, and no entry records a
 * row that is gone. Returns 0 with out filled (out->ok false on tampering),
 * -1 with err only when the check itself could not run. */
int store_verify_chain(struct store *s, struct store_verify *out,
		       struct bw_error *err) BW_WUR;

#endif
