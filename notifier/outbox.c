/*
 * outbox.c - the outbox of the breach record (see outbox.h), written
 * through the store's transactions and audit chain (store_int.h).
 *
 * Its transactions are relaxed (synchronous=NORMAL): committed, they
 * survive a crash of the notifier, but a power failure may undo the last
 * of them. That can only make a message go again (a notice made again is
 * the same notice; a "sent" undone is sent again), never lose one, and it
 * halves the time 10,000 notices take. Revisions, whose acknowledgement
 * makes the agent forget them, stay synchronous=FULL.
 */
#include "outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "store_int.h"

/* Statement slots in the store (store_int_stmt). The inserts take their
 * row id from sqlite3_last_insert_rowid(), not RETURNING: RETURNING opens
 * and closes an ephemeral table per row (see MIGRATION_3 in store.c for
 * what that costs). */
enum slot {
	O_ADD,
	O_RECORD,
	O_TOLD,
	O_APPROVE_ADD,
	O_APPROVE_HELD,
	O_APPROVE_RELEASE,
	O_APPROVED,
	O_SENDING,
	O_RESET,
	O_DUE,
	O_NEXT,
	O_UNTOLD,
	O_LAST,
	O_COUNT,
	O_TODO,
	O_OPEN,
	O_SINCE,
	O_MESSAGE,
	O_HAS_INCIDENT,
	O_MAX_ROW,
	O_LAST_UPDATE,
	O_UPDATE_TODO,
	O_NEVER_SENT,
	O_ROW,
	N_SLOTS
};

_Static_assert(N_SLOTS <= STORE_INT_MAX_STMTS, "statement slots");

static const char *const sql[N_SLOTS] = {
    [O_ADD] = "INSERT INTO notifications (incident_id, kind, customer_row,"
              " customer_id, version, reason, recipient, recipient_kind,"
              " state, hold, detail, severity, customers, attempts,"
              " next_attempt_us, message_id, subject, message, created_us,"
              " updated_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
              " ?10, ?11, ?12, ?13, 0, ?14, ?15, ?16, ?17, ?18, ?18)",
    [O_RECORD] = "UPDATE notifications SET state = ?2, attempts = ?3,"
                 " next_attempt_us = ?4, smtp_code = ?5, smtp_text = ?6,"
                 " detail = ?7, sent_us = COALESCE(?8, sent_us),"
                 " updated_us = ?9 WHERE id = ?1",
    [O_TOLD] = "UPDATE notifications SET team_told_us = ?2, updated_us = ?2"
               " WHERE id = ?1",
    [O_APPROVE_ADD] = "INSERT INTO approvals (incident_id, at_us, operator,"
                      " decision, reason, released, upto_row, customers)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [O_APPROVE_HELD] = "SELECT id FROM notifications WHERE incident_id = ?1"
                       " AND state = 'held' AND hold = 'approval'"
                       " ORDER BY id",
    [O_APPROVE_RELEASE] = "UPDATE notifications SET state = 'pending',"
                          " next_attempt_us = ?2, updated_us = ?2,"
                          " detail = ?3 WHERE id = ?1",
    /* an operator's notify decision counts as an approval; an update
     * does not */
    [O_APPROVED] = "SELECT 1 FROM approvals WHERE incident_id = ?1"
                   " AND decision <> 'update' LIMIT 1",
    [O_SENDING] = "SELECT id, incident_id FROM notifications"
                  " WHERE state = 'sending' ORDER BY id",
    [O_RESET] = "UPDATE notifications SET state = 'pending',"
                " next_attempt_us = ?2, updated_us = ?2, detail = ?3"
                " WHERE id = ?1",
    [O_DUE] = "SELECT " STORE_NOTIF_COLS ", message FROM notifications"
              " WHERE state = 'pending' AND (next_attempt_us IS NULL"
              " OR next_attempt_us <= ?1)"
              " ORDER BY kind = 'customer_notice', next_attempt_us, id"
              " LIMIT ?2",
    [O_NEXT] = "SELECT MIN(COALESCE(next_attempt_us, 0))"
               " FROM notifications WHERE state = 'pending'",
    [O_UNTOLD] = "SELECT " STORE_NOTIF_COLS " FROM notifications"
                 " WHERE kind = 'customer_notice' AND team_told_us IS NULL"
                 " AND (state IN ('unresolved','failed','ambiguous')"
                 " OR (state = 'held' AND hold = 'credentials'))"
                 " ORDER BY incident_id, id LIMIT ?1",
    [O_LAST] = "SELECT " STORE_NOTIF_COLS " FROM notifications"
               " WHERE incident_id = ?1 AND kind = ?2"
               " ORDER BY id DESC LIMIT 1",
    [O_COUNT] = "SELECT kind, state, hold, COUNT(*) FROM notifications"
                " WHERE incident_id = ?1 GROUP BY kind, state, hold",
    [O_TODO] = "SELECT c.id, c.customer_id, c.first_revision FROM customers c"
               " WHERE c.incident_id = ?1 AND NOT EXISTS"
               " (SELECT 1 FROM notifications n WHERE n.customer_row = c.id"
               " AND n.kind = 'customer_notice' AND n.version = 1)"
               " ORDER BY c.first_revision, c.id LIMIT ?2",
    [O_OPEN] = "SELECT i.incident_id FROM incidents i"
               " WHERE i.detected_us >= ?1 AND ("
               " NOT EXISTS (SELECT 1 FROM notifications n"
               "  WHERE n.incident_id = i.incident_id"
               "  AND n.kind = 'team_alert')"
               " OR (i.notify_customers AND i.state <> 'closed'"
               "  AND EXISTS (SELECT 1 FROM customers c"
               "  WHERE c.incident_id = i.incident_id AND NOT EXISTS"
               "  (SELECT 1 FROM notifications n WHERE n.customer_row = c.id"
               "  AND n.kind = 'customer_notice' AND n.version = 1)))"
               " OR EXISTS (SELECT 1 FROM notifications n"
               "  WHERE n.incident_id = i.incident_id AND n.state = 'held'"
               "  AND n.hold = 'approval')"
               /* an operator's notify or update: looked at once */
               " OR EXISTS (SELECT 1 FROM approvals a"
               "  WHERE a.incident_id = i.incident_id"
               "  AND a.decision <> 'approve'))"
               " ORDER BY i.detected_us, i.id",
    [O_SINCE] = "SELECT applied_us FROM schema_migrations"
                " WHERE version = 3",
    [O_MESSAGE] = "SELECT message FROM notifications WHERE id = ?1",
    [O_HAS_INCIDENT] = "SELECT 1 FROM incidents WHERE incident_id = ?1",
    [O_MAX_ROW] = "SELECT COALESCE(MAX(id), 0) FROM notifications",
    [O_LAST_UPDATE] = "SELECT id, at_us, upto_row, operator FROM approvals"
                      " WHERE incident_id = ?1 AND decision = 'update'"
                      " ORDER BY id DESC LIMIT 1",
    /* The customers an update is for that have no notice of it yet: a
     * notice of theirs up to row ?2 was sent (p, the latest such), and
     * no notice of theirs was made after ?2 (only the update makes
     * one; the index notifications_customer answers it). */
    [O_UPDATE_TODO] =
        "SELECT c.id, c.customer_id, (SELECT MAX(v.version)"
        "  FROM notifications v WHERE v.customer_row = c.id"
        "  AND v.kind = 'customer_notice'), p.sent_us, p.message_id"
        " FROM customers c JOIN notifications p ON p.id ="
        "  (SELECT MAX(q.id) FROM notifications q WHERE q.customer_row = c.id"
        "  AND q.kind = 'customer_notice' AND q.state = 'sent'"
        "  AND q.id <= ?2)"
        " WHERE c.incident_id = ?1 AND NOT EXISTS (SELECT 1"
        "  FROM notifications m WHERE m.customer_row = c.id"
        "  AND m.kind = 'customer_notice' AND m.id > ?2)"
        " ORDER BY c.id LIMIT ?3",
    [O_NEVER_SENT] =
        "SELECT c.customer_id, (SELECT MAX(n.id) FROM notifications n"
        "  WHERE n.customer_row = c.id AND n.kind = 'customer_notice')"
        " FROM customers c WHERE c.incident_id = ?1 AND NOT EXISTS"
        " (SELECT 1 FROM notifications n WHERE n.customer_row = c.id"
        "  AND n.kind = 'customer_notice' AND n.state = 'sent')"
        " ORDER BY c.first_revision, c.id",
    [O_ROW] = "SELECT " STORE_NOTIF_COLS " FROM notifications WHERE id = ?1",
};

static const char *const decision_names[] = {
    [OUTBOX_APPROVE] = "approve",
    [OUTBOX_NOTIFY] = "notify",
    [OUTBOX_UPDATE] = "update",
};

static const char *const kind_names[] = {
    [OUTBOX_TEAM_ALERT] = "team_alert",
    [OUTBOX_TEAM_PROBLEM] = "team_problem",
    [OUTBOX_TEAM_REMINDER] = "team_reminder",
    [OUTBOX_CUSTOMER] = "customer_notice",
};

static const char *const state_names[] = {
    [OUTBOX_UNRESOLVED] = "unresolved",
    [OUTBOX_HELD] = "held",
    [OUTBOX_PENDING] = "pending",
    [OUTBOX_SENDING] = "sending",
    [OUTBOX_SENT] = "sent",
    [OUTBOX_FAILED] = "failed",
    [OUTBOX_AMBIGUOUS] = "ambiguous",
};

static const char *const hold_names[] = {
    [OUTBOX_HOLD_NONE] = NULL,
    [OUTBOX_HOLD_APPROVAL] = "approval",
    [OUTBOX_HOLD_CREDENTIALS] = "credentials",
};

/* Names by number in table (entries first..last), and back (0: none). */
static const char *name_of(const char *const *table, int first, int last, int k)
{
	return k < first || k > last ? NULL : table[k];
}

static int by_name(const char *const *table, int first, int last,
                   const char *name)
{
	for (int k = first; name != NULL && k <= last; k++)
		if (strcmp(table[k], name) == 0)
			return k;
	return 0;
}

const char *outbox_kind_name(enum outbox_kind k)
{
	return name_of(kind_names, OUTBOX_TEAM_ALERT, OUTBOX_CUSTOMER, (int)k);
}

enum outbox_kind outbox_kind_by_name(const char *name)
{
	return (enum outbox_kind)by_name(kind_names, OUTBOX_TEAM_ALERT,
	                                 OUTBOX_CUSTOMER, name);
}

const char *outbox_state_name(enum outbox_state st)
{
	return name_of(state_names, OUTBOX_UNRESOLVED, OUTBOX_AMBIGUOUS,
	               (int)st);
}

enum outbox_state outbox_state_by_name(const char *name)
{
	return (enum outbox_state)by_name(state_names, OUTBOX_UNRESOLVED,
	                                  OUTBOX_AMBIGUOUS, name);
}

const char *outbox_decision_name(enum outbox_decision d)
{
	return name_of(decision_names, OUTBOX_APPROVE, OUTBOX_UPDATE, (int)d);
}

static sqlite3_stmt *stmt(struct store *s, enum slot i, struct bw_error *err)
{
	return store_int_stmt(s, i, sql[i], err);
}

/*
 * Writing.
 */

static int check_msg(const struct outbox_msg *m, struct bw_error *err)
{
	if (outbox_kind_name(m->kind) == NULL || m->version < 1 ||
	    m->reason == NULL)
		return bw_error_set(err, NULL, 0,
		                    "outbox: a message needs a kind, a version "
		                    "and a reason");
	if ((m->kind == OUTBOX_CUSTOMER) !=
	    (m->customer_row > 0 && m->customer_id != NULL))
		return bw_error_set(err, NULL, 0,
		                    "outbox: customer notices, and only they, "
		                    "name a customer");
	if (m->state != OUTBOX_UNRESOLVED && m->state != OUTBOX_HELD &&
	    m->state != OUTBOX_PENDING)
		return bw_error_set(err, NULL, 0,
		                    "outbox: a new message is unresolved, held "
		                    "or pending");
	if ((m->state == OUTBOX_HELD) != (m->hold != OUTBOX_HOLD_NONE))
		return bw_error_set(err, NULL, 0,
		                    "outbox: a held message says why");
	if (m->state != OUTBOX_UNRESOLVED &&
	    (m->recipient == NULL || m->message == NULL ||
	     m->message_id == NULL || m->subject == NULL))
		return bw_error_set(err, NULL, 0,
		                    "outbox: a message to send needs its "
		                    "recipient, text, Message-ID and subject");
	return 0;
}

/* Insert the n messages (checked) inside the caller's transaction, each
 * audited. */
static int add_rows(struct store *s, const char *id, const struct outbox_msg *m,
                    size_t n, const char *actor, int64_t now_us,
                    int64_t *rowids, struct bw_error *err)
{
	struct store_who w = {actor, now_us, id};
	int64_t row = 0;

	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = stmt(s, O_ADD, err);

		if (st == NULL)
			return -1;
		store_int_bind_text(st, 1, id);
		store_int_bind_text(st, 2, outbox_kind_name(m[i].kind));
		store_int_bind_time_or_null(st, 3, m[i].customer_row);
		store_int_bind_text(st, 4, m[i].customer_id);
		store_int_bind_int(st, 5, m[i].version);
		store_int_bind_text(st, 6, m[i].reason);
		store_int_bind_text(st, 7, m[i].recipient);
		store_int_bind_text(
		    st, 8, m[i].recipient != NULL ? m[i].recipient_kind : NULL);
		store_int_bind_text(st, 9, outbox_state_name(m[i].state));
		store_int_bind_text(st, 10, hold_names[m[i].hold]);
		store_int_bind_text(st, 11, m[i].detail);
		store_int_bind_int(st, 12, m[i].severity);
		store_int_bind_int(st, 13,
		                   m[i].customers > INT64_MAX
		                       ? INT64_MAX
		                       : (int64_t)m[i].customers);
		if (m[i].state == OUTBOX_PENDING)
			store_int_bind_int(st, 14,
			                   m[i].next_attempt_us > 0
			                       ? m[i].next_attempt_us
			                       : now_us);
		store_int_bind_text(st, 15, m[i].message_id);
		store_int_bind_text(st, 16, m[i].subject);
		store_int_bind_text(st, 17, m[i].message);
		store_int_bind_int(st, 18, now_us);
		if (store_int_run(s, st, "add a notification", err) < 0)
			return -1;
		row = store_int_last_rowid(s);
		if (store_int_audit(s, &w, T_NOTIFICATIONS, row, "add", err) <
		    0)
			return -1;
		if (rowids != NULL)
			rowids[i] = row;
	}
	return 0;
}

int outbox_add(struct store *s, const char *id, const struct outbox_msg *m,
               size_t n, const char *actor, int64_t now_us, int64_t *rowids,
               struct bw_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (check_msg(&m[i], err) < 0)
			return -1;
	if (store_int_begin_relaxed(s, err) < 0)
		return -1;
	if (add_rows(s, id, m, n, actor, now_us, rowids, err) < 0) {
		store_int_rollback(s);
		return -1;
	}
	return store_int_commit(s, err);
}

static const char *action_of(enum outbox_state st)
{
	switch (st) {
	case OUTBOX_PENDING:
		return "retry";
	case OUTBOX_SENDING:
		return "sending";
	case OUTBOX_SENT:
		return "sent";
	case OUTBOX_FAILED:
		return "failed";
	case OUTBOX_AMBIGUOUS:
		return "ambiguous";
	default:
		return "state";
	}
}

int outbox_record(struct store *s, const struct outbox_result *r, size_t n,
                  const char *actor, int64_t now_us, struct bw_error *err)
{
	if (n == 0)
		return 0;
	if (store_int_begin_relaxed(s, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct store_who w = {actor, now_us, r[i].incident_id};
		sqlite3_stmt *st = stmt(s, O_RECORD, err);

		if (st == NULL || outbox_state_name(r[i].state) == NULL) {
			if (st != NULL)
				bw_error_set(err, NULL, 0, "outbox: bad state");
			goto fail;
		}
		store_int_bind_int(st, 1, r[i].rowid);
		store_int_bind_text(st, 2, outbox_state_name(r[i].state));
		store_int_bind_int(st, 3, r[i].attempts);
		store_int_bind_time_or_null(st, 4, r[i].next_attempt_us);
		store_int_bind_time_or_null(st, 5, r[i].smtp_code);
		store_int_bind_text(st, 6, r[i].smtp_text);
		store_int_bind_text(st, 7, r[i].detail);
		store_int_bind_time_or_null(
		    st, 8,
		    r[i].state == OUTBOX_SENT
		        ? (r[i].sent_us > 0 ? r[i].sent_us : now_us)
		        : 0);
		store_int_bind_int(st, 9, now_us);
		if (store_int_run(s, st, "record a delivery", err) < 0 ||
		    store_int_audit(s, &w, T_NOTIFICATIONS, r[i].rowid,
		                    r[i].action != NULL ? r[i].action
		                                        : action_of(r[i].state),
		                    err) < 0)
			goto fail;
	}
	return store_int_commit(s, err);
fail:
	store_int_rollback(s);
	return -1;
}

int outbox_mark_told(struct store *s, const int64_t *rowids,
                     const char *const *incident_ids, size_t n,
                     const char *actor, int64_t now_us, struct bw_error *err)
{
	if (n == 0)
		return 0;
	if (store_int_begin_relaxed(s, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct store_who w = {actor, now_us, incident_ids[i]};
		sqlite3_stmt *st = stmt(s, O_TOLD, err);

		if (st == NULL)
			goto fail;
		store_int_bind_int(st, 1, rowids[i]);
		store_int_bind_int(st, 2, now_us);
		if (store_int_run(s, st, "mark told", err) < 0 ||
		    store_int_audit(s, &w, T_NOTIFICATIONS, rowids[i], "told",
		                    err) < 0)
			goto fail;
	}
	return store_int_commit(s, err);
fail:
	store_int_rollback(s);
	return -1;
}

/* Run a statement bound to text id returning rows of one integer; the ids
 * go to a new array. Returns the count or -1. */
static int64_t collect_ids(struct store *s, sqlite3_stmt *st, int64_t **out,
                           const char *what, struct bw_error *err)
{
	int64_t n = 0, cap = 0;
	int rc;

	*out = NULL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			*out = xreallocarray(*out, (size_t)cap, sizeof(**out));
		}
		(*out)[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		return store_int_fail(s, what, err);
	}
	return n;
}

int outbox_decide(struct store *s, const char *id,
                  const struct outbox_decision_req *d,
                  const struct outbox_msg *m, size_t n, const char *actor,
                  int64_t now_us, struct outbox_decided *out,
                  struct bw_error *err)
{
	struct store_who w = {d->operator_name, now_us, id};
	sqlite3_stmt *st;
	int64_t *rows = NULL, held = 0, one = 0, row = 0, upto = 0;
	char *detail = NULL;

	memset(out, 0, sizeof(*out));
	if (outbox_decision_name(d->decision) == NULL)
		return bw_error_set(err, NULL, 0, "outbox: bad decision");
	if (store_int_check_str("operator", d->operator_name, STORE_MAX_NAME,
	                        false, err) < 0)
		return -1;
	if (d->reason == NULL && d->decision != OUTBOX_APPROVE)
		return bw_error_set(err, NULL, 0, "a reason is required for %s",
		                    outbox_decision_name(d->decision));
	if (d->reason != NULL &&
	    store_int_check_str("reason", d->reason, STORE_MAX_TEXT, true,
	                        err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (check_msg(&m[i], err) < 0)
			return -1;
	if (store_int_begin_relaxed(s, err) < 0)
		return -1;
	st = stmt(s, O_HAS_INCIDENT, err);
	if (st == NULL)
		goto fail;
	store_int_bind_text(st, 1, id);
	switch (store_int_run_int(s, st, "look up incident", &one, err)) {
	case 1:
		break;
	case 0:
		bw_error_set(err, NULL, 0, "no incident %s", id);
		/* fall through */
	default:
		goto fail;
	}
	if (d->decision == OUTBOX_UPDATE) {
		/* the customers sent a notice up to this row */
		st = stmt(s, O_MAX_ROW, err);
		if (st == NULL || store_int_run_int(s, st, "last notification",
		                                    &upto, err) < 0)
			goto fail;
	} else {
		/* approve, notify: the notices held for approval go */
		st = stmt(s, O_APPROVE_HELD, err);
		if (st == NULL)
			goto fail;
		store_int_bind_text(st, 1, id);
		held = collect_ids(s, st, &rows, "list held notices", err);
		if (held < 0)
			goto fail;
		detail = xasprintf("%s by %s",
		                   d->decision == OUTBOX_NOTIFY
		                       ? "customers to be told, decided"
		                       : "approved",
		                   d->operator_name);
		for (int64_t i = 0; i < held; i++) {
			st = stmt(s, O_APPROVE_RELEASE, err);
			if (st == NULL)
				goto fail;
			store_int_bind_int(st, 1, rows[i]);
			store_int_bind_int(st, 2, now_us);
			store_int_bind_text(st, 3, detail);
			if (store_int_run(s, st, "release a notice", err) < 0 ||
			    store_int_audit(s, &w, T_NOTIFICATIONS, rows[i],
			                    "released", err) < 0)
				goto fail;
		}
	}
	st = stmt(s, O_APPROVE_ADD, err);
	if (st == NULL)
		goto fail;
	store_int_bind_text(st, 1, id);
	store_int_bind_int(st, 2, now_us);
	store_int_bind_text(st, 3, d->operator_name);
	store_int_bind_text(st, 4, outbox_decision_name(d->decision));
	store_int_bind_text(st, 5, d->reason);
	store_int_bind_int(st, 6, held);
	if (d->decision == OUTBOX_UPDATE)
		store_int_bind_int(st, 7, upto);
	if (d->decision != OUTBOX_APPROVE)
		store_int_bind_int(st, 8,
		                   d->customers > INT64_MAX
		                       ? INT64_MAX
		                       : (int64_t)d->customers);
	if (store_int_run(s, st, "add a decision", err) < 0)
		goto fail;
	row = store_int_last_rowid(s);
	if (store_int_audit(s, &w, T_APPROVALS, row, "add", err) < 0)
		goto fail;
	if (add_rows(s, id, m, n, actor, now_us, NULL, err) < 0)
		goto fail;
	if (store_int_commit(s, err) < 0)
		goto fail_committed;
	out->released = (uint64_t)held;
	out->rowid = row;
	out->upto_row = upto;
	free(rows);
	free(detail);
	return 0;
fail:
	store_int_rollback(s);
fail_committed:
	free(rows);
	free(detail);
	return -1;
}

int outbox_approve(struct store *s, const char *id, const char *operator_name,
                   const char *reason, int64_t now_us, uint64_t *released,
                   struct bw_error *err)
{
	struct outbox_decision_req d = {
	    .decision = OUTBOX_APPROVE,
	    .operator_name = operator_name,
	    .reason = reason,
	};
	struct outbox_decided out;
	int rc = outbox_decide(s, id, &d, NULL, 0, NULL, now_us, &out, err);

	*released = out.released;
	return rc;
}

int outbox_approved(struct store *s, const char *id, struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_APPROVED, err);
	int64_t one = 0;

	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, id);
	return store_int_run_int(s, st, "look up approvals", &one, err);
}

int outbox_reset_sending(struct store *s, const char *actor, int64_t now_us,
                         uint64_t *n_out, struct bw_error *err)
{
	static const char detail[] =
	    "the notifier stopped while sending it: sent again; it may "
	    "have been delivered before";
	sqlite3_stmt *st;
	int64_t n = 0, cap = 0;
	int64_t *rows = NULL;
	char **ids = NULL;
	int rc;

	*n_out = 0;
	if (store_int_begin_relaxed(s, err) < 0)
		return -1;
	st = stmt(s, O_SENDING, err);
	if (st == NULL)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			rows = xreallocarray(rows, (size_t)cap, sizeof(*rows));
			ids = xreallocarray(ids, (size_t)cap, sizeof(*ids));
		}
		rows[n] = sqlite3_column_int64(st, 0);
		ids[n++] = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_int_fail(s, "list messages being sent", err);
		goto fail;
	}
	for (int64_t i = 0; i < n; i++) {
		struct store_who w = {actor, now_us, ids[i]};

		st = stmt(s, O_RESET, err);
		if (st == NULL)
			goto fail;
		store_int_bind_int(st, 1, rows[i]);
		store_int_bind_int(st, 2, now_us);
		store_int_bind_text(st, 3, detail);
		if (store_int_run(s, st, "reset a message", err) < 0 ||
		    store_int_audit(s, &w, T_NOTIFICATIONS, rows[i],
		                    "interrupted", err) < 0)
			goto fail;
	}
	if (store_int_commit(s, err) < 0)
		goto fail_committed;
	*n_out = (uint64_t)n;
	for (int64_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(rows);
	return 0;
fail:
	store_int_rollback(s);
fail_committed:
	for (int64_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(rows);
	return -1;
}

/*
 * Reading.
 */

int64_t outbox_due(struct store *s, int64_t now_us, size_t limit,
                   outbox_due_fn fn, void *arg, struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_DUE, err);
	struct store_notification n;
	int64_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_int_bind_int(st, 1, now_us);
	store_int_bind_int(st, 2,
	                   limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *msg =
		    (const char *)sqlite3_column_text(st, STORE_NOTIF_NCOLS);
		size_t len =
		    (size_t)sqlite3_column_bytes(st, STORE_NOTIF_NCOLS);
		int stop;

		store_int_read_notification(st, &n);
		count++;
		stop =
		    fn(&n, msg != NULL ? msg : "", msg != NULL ? len : 0, arg);
		store_notification_clear(&n);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "list due messages", err);
	return count;
}

int outbox_next_due(struct store *s, int64_t *at_us, struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_NEXT, err);
	int rc, found = 0;

	if (st == NULL)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) != SQLITE_NULL) {
			*at_us = sqlite3_column_int64(st, 0);
			found = 1;
		}
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "next due message", err);
	return found;
}

/* Hand every row of st (STORE_NOTIF_COLS) to fn. */
static int64_t each_row(struct store *s, sqlite3_stmt *st, outbox_row_fn fn,
                        void *arg, const char *what, struct bw_error *err)
{
	struct store_notification n;
	int64_t count = 0;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int stop;

		store_int_read_notification(st, &n);
		count++;
		stop = fn(&n, arg);
		store_notification_clear(&n);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, what, err);
	return count;
}

int64_t outbox_untold(struct store *s, size_t limit, outbox_row_fn fn,
                      void *arg, struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_UNTOLD, err);

	if (st == NULL)
		return -1;
	store_int_bind_int(st, 1,
	                   limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	return each_row(s, st, fn, arg, "list problems", err);
}

int outbox_last(struct store *s, const char *id, enum outbox_kind kind,
                struct store_notification *out, struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_LAST, err);
	int rc, found = 0;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, id);
	store_int_bind_text(st, 2, outbox_kind_name(kind));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		store_int_read_notification(st, out);
		found = 1;
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_notification_clear(out);
		return store_int_fail(s, "last notification", err);
	}
	return found;
}

int outbox_count(struct store *s, const char *id, struct outbox_counts *out,
		 struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_COUNT, err);
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum outbox_kind k = outbox_kind_by_name(
		    (const char *)sqlite3_column_text(st, 0));
		enum outbox_state v = outbox_state_by_name(
		    (const char *)sqlite3_column_text(st, 1));
		const unsigned char *hold = sqlite3_column_text(st, 2);
		uint64_t c = (uint64_t)sqlite3_column_int64(st, 3);

		if (k == 0 || v == 0)
			continue;
		out->n[k][v] += c;
		if (v == OUTBOX_HELD && hold != NULL &&
		    strcmp((const char *)hold, "approval") == 0)
			out->held_approval += c;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "count notifications", err);
	return 0;
}

int64_t outbox_customers_todo(struct store *s, const char *id, size_t limit,
                              outbox_customer_fn fn, void *arg,
                              struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_TODO, err);
	int64_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, id);
	store_int_bind_int(st, 2,
	                   limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		count++;
		if (fn(sqlite3_column_int64(st, 0),
		       (const char *)sqlite3_column_text(st, 1),
		       (uint32_t)sqlite3_column_int64(st, 2), arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "list customers to notify", err);
	return count;
}

int64_t outbox_incidents_open(struct store *s, int64_t since_us,
                              outbox_incident_fn fn, void *arg,
                              struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_OPEN, err);
	int64_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_int_bind_int(st, 1, since_us);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		count++;
		if (fn((const char *)sqlite3_column_text(st, 0), arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "list incidents to notify", err);
	return count;
}

int outbox_since(struct store *s, int64_t *since_us, struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_SINCE, err);
	int rc;

	if (st == NULL)
		return -1;
	rc = store_int_run_int(s, st, "outbox start", since_us, err);
	if (rc == 0)
		return bw_error_set(err, NULL, 0,
		                    "store: migration 3 is not recorded");
	return rc < 0 ? -1 : 0;
}

int outbox_message(struct store *s, int64_t rowid, char **out,
                   struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_MESSAGE, err);
	int rc, found = 0;

	*out = NULL;
	if (st == NULL)
		return -1;
	store_int_bind_int(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		if (t != NULL) {
			*out = xstrdup((const char *)t);
			found = 1;
		}
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(*out);
		*out = NULL;
		return store_int_fail(s, "read a message", err);
	}
	return found;
}

int outbox_last_update(struct store *s, const char *id,
                       struct outbox_update *out, struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_LAST_UPDATE, err);
	int rc, found = 0;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *op = sqlite3_column_text(st, 3);

		out->rowid = sqlite3_column_int64(st, 0);
		out->at_us = sqlite3_column_int64(st, 1);
		out->upto_row = sqlite3_column_int64(st, 2);
		snprintf(out->operator_name, sizeof(out->operator_name), "%s",
		         op != NULL ? (const char *)op : "");
		found = 1;
		rc = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "last update", err);
	return found;
}

int64_t outbox_update_todo(struct store *s, const char *id, int64_t upto_row,
                           size_t limit, outbox_update_fn fn, void *arg,
                           struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_UPDATE_TODO, err);
	int64_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, id);
	store_int_bind_int(st, 2, upto_row);
	store_int_bind_int(st, 3,
	                   limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const struct outbox_update_todo t = {
		    .customer_row = sqlite3_column_int64(st, 0),
		    .customer_id = (const char *)sqlite3_column_text(st, 1),
		    .last_version = (uint32_t)sqlite3_column_int64(st, 2),
		    .sent_us = sqlite3_column_int64(st, 3),
		    .message_id = (const char *)sqlite3_column_text(st, 4),
		};

		count++;
		if (fn != NULL && fn(&t, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "list customers to update", err);
	return count;
}

int64_t outbox_never_sent(struct store *s, const char *id, size_t limit,
                          outbox_never_sent_fn fn, void *arg,
                          struct bw_error *err)
{
	sqlite3_stmt *st = stmt(s, O_NEVER_SENT, err);
	int64_t count = 0;
	int rc;

	if (st == NULL)
		return -1;
	store_int_bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cust = (const char *)sqlite3_column_text(st, 0);
		int64_t latest = sqlite3_column_int64(st, 1);
		struct store_notification n;
		sqlite3_stmt *r;
		int found = 0;

		if ((uint64_t)count++ >= limit || fn == NULL)
			continue; /* counted only */
		memset(&n, 0, sizeof(n));
		if (latest > 0) {
			r = stmt(s, O_ROW, err);
			if (r == NULL)
				goto fail;
			store_int_bind_int(r, 1, latest);
			rc = sqlite3_step(r);
			if (rc == SQLITE_ROW) {
				store_int_read_notification(r, &n);
				found = 1;
				rc = sqlite3_step(r);
			}
			sqlite3_reset(r);
			if (rc != SQLITE_DONE) {
				store_notification_clear(&n);
				store_int_fail(s, "read a notification", err);
				goto fail;
			}
		}
		rc = fn(cust, found ? &n : NULL, arg);
		store_notification_clear(&n);
		if (rc != 0)
			limit = 0; /* the rest counted only */
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_int_fail(s, "list customers never told", err);
	return count;
fail:
	sqlite3_reset(st);
	return -1;
}
