/*
 * store_int.h - what store.c shares with the other writers of the breach
 * record (outbox.c): transactions, cached statements, the audit chain and
 * the checks, so that every table is written the same way. Not for other
 * files: they use store.h and outbox.h.
 */
#ifndef BW_STORE_INT_H
#define BW_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The tables whose rows the audit chain covers. */
enum table {
	T_MIGRATIONS,
	T_INCIDENTS,
	T_REVISIONS,
	T_CUSTOMERS,
	T_DATA_KINDS,
	T_EVIDENCE,
	T_STEPS,
	T_STATE_CHANGES,
	T_NOTES,
	T_CLOCK_CHANGES,
	T_NOTIFICATIONS,
	T_APPROVALS,
	N_TABLES
};

/* Who, when and about which incident the writes of one transaction are. */
struct store_who {
	const char *actor;
	int64_t at_us;
	const char *incident_id; /* NULL for store-level writes */
};

/* Statements other files keep in the store (prepared on first use). */
#define STORE_INT_MAX_STMTS 48

/* The columns of a notification as store_int_read_notification() reads
 * them (from the table notifications, no alias). */
#define STORE_NOTIF_COLS                                                       \
	"id, kind, customer_id, version, reason, recipient, recipient_kind,"   \
	" state, detail, severity, customers, attempts, next_attempt_us,"      \
	" smtp_code, smtp_text, message_id, subject, created_us, updated_us,"  \
	" sent_us, team_told_us, incident_id, hold"
#define STORE_NOTIF_NCOLS 23

/* The statement in slot (0..STORE_INT_MAX_STMTS-1) with sql, prepared the
 * first time, reset and without bindings. NULL with err when it does not
 * prepare. Borrowed. */
sqlite3_stmt *store_int_stmt(struct store *s, unsigned slot, const char *sql,
                             struct bw_error *err);

/* Bind a text (NULL: SQL NULL), an integer, an integer with 0 as NULL.
 * (A bad index is a bug; the step that follows reports a misuse.) */
void store_int_bind_text(sqlite3_stmt *st, int i, const char *v);
void store_int_bind_int(sqlite3_stmt *st, int i, int64_t v);
void store_int_bind_time_or_null(sqlite3_stmt *st, int i, int64_t v);

/* Fill err with what failed and SQLite's message; returns -1. */
int store_int_fail(struct store *s, const char *what, struct bw_error *err);

/* BEGIN IMMEDIATE / COMMIT (rolling back when it fails) / ROLLBACK. */
int store_int_begin(struct store *s, struct bw_error *err) BW_WUR;
/* A transaction whose commit is not synced to disk (synchronous=NORMAL for
 * it, FULL again after its commit or rollback): it survives the notifier's
 * crash, not the system's. For the outbox, where losing the last writes
 * to a power failure means sending a message again, never losing one. */
int store_int_begin_relaxed(struct store *s, struct bw_error *err) BW_WUR;
int store_int_commit(struct store *s, struct bw_error *err) BW_WUR;
void store_int_rollback(struct store *s);

/* Run a statement without rows (0, -1 with err) or with at most one
 * integer (1 with *out, 0 no row, -1 with err); both reset it. */
int store_int_run(struct store *s, sqlite3_stmt *st, const char *what,
                  struct bw_error *err) BW_WUR;
int store_int_run_int(struct store *s, sqlite3_stmt *st, const char *what,
                      int64_t *out, struct bw_error *err) BW_WUR;

/* The row id of the last row inserted on the store's connection. */
int64_t store_int_last_rowid(struct store *s);

/* Append the audit entry for row rowid of table t, just written by w. */
int store_int_audit(struct store *s, const struct store_who *w, enum table t,
                    int64_t rowid, const char *action,
                    struct bw_error *err) BW_WUR;

/* A name (one line) or a text (several) handed in from outside: UTF-8,
 * no control characters, 1..max bytes. */
int store_int_check_str(const char *what, const char *v, size_t max,
                        bool multiline, struct bw_error *err) BW_WUR;

/* Fill n from a row of STORE_NOTIF_COLS starting at column 0. */
void store_int_read_notification(sqlite3_stmt *st,
                                 struct store_notification *n);

#endif
