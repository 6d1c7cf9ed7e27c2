/*
 * store.c - the breach record in SQLite (see store.h and
 * docs/breach-record.md).
 *
 * Layout of this file: the schema as a table of migrations; helpers around
 * prepared statements (all cached in struct store, every value bound); the
 * audit chain (canonical encodings, SHA-256 with libsodium); opening and
 * migrating; the writers, each one transaction; the readers; verify.
 *
 * The audit chain. Every row this code writes to a record table is followed,
 * in the same transaction, by an audit entry naming the table and rowid and
 * holding the SHA-256 digest of the row as it now is. The row digest is
 * computed the same way when writing and when verifying: the row is read
 * back with "SELECT * FROM t WHERE rowid = ?" and its non-NULL columns are
 * hashed by name and typed value (so a column added later as NULL leaves old
 * digests valid). An entry's hash covers the previous entry's hash and the
 * entry's own fields, so an entry cannot be edited, removed or reordered
 * without breaking the chain from there on; a row cannot be edited without
 * disagreeing with the latest entry about it.
 */
#include "store.h"
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/bwtime.h"
#include "../common/utf8.h"
#include "../common/xmalloc.h"

/* "BWst": marks the file as a breachwatch store (PRAGMA application_id). */
#define STORE_APPLICATION_ID 0x42577374

/* Who writes the entries that no agent or operator caused. */
#define STORE_SELF "breachwatch-notifier"

/*
 * The schema, one migration per step. A step is one transaction: its SQL,
 * a row in schema_migrations (audited) and PRAGMA user_version. Never edit
 * a step once released: add the next one. A step that changes existing
 * rows must audit them again (their digests change); adding a column that
 * is NULL for existing rows does not change any digest.
 */
static const char MIGRATION_1[] =
    "CREATE TABLE schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_us INTEGER NOT NULL);"

    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL UNIQUE,"
    " revision INTEGER NOT NULL CHECK (revision >= 1),"
    " rule TEXT NOT NULL,"
    " category TEXT NOT NULL,"
    " severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),"
    " title TEXT NOT NULL,"
    " summary TEXT,"
    " host TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " first_seen_us INTEGER NOT NULL,"
    " last_seen_us INTEGER NOT NULL,"
    " event_count INTEGER NOT NULL,"
    " evidence_omitted INTEGER NOT NULL,"
    " affected_unknown INTEGER NOT NULL,"
    " notify_customers INTEGER NOT NULL,"
    " credentials INTEGER NOT NULL,"
    " quiet INTEGER NOT NULL,"
    " state TEXT NOT NULL"
    "  CHECK (state IN ('detected','contained','notified','closed')),"
    " detected_us INTEGER NOT NULL,"
    " aware_us INTEGER NOT NULL,"
    " contained_us INTEGER,"
    " notified_us INTEGER,"
    " closed_us INTEGER,"
    " closed_by TEXT,"
    " resolution TEXT);"

    "CREATE TABLE revisions ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " revision INTEGER NOT NULL CHECK (revision >= 1),"
    " agent TEXT NOT NULL,"
    " received_us INTEGER NOT NULL,"
    " severity INTEGER NOT NULL,"
    " event_count INTEGER NOT NULL,"
    " n_customers INTEGER NOT NULL,"
    " quiet INTEGER NOT NULL,"
    " json TEXT NOT NULL,"
    " UNIQUE (incident_id, revision));"

    "CREATE TABLE customers ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " customer_id TEXT NOT NULL,"
    " first_revision INTEGER NOT NULL,"
    " UNIQUE (incident_id, customer_id));"

    "CREATE TABLE data_kinds ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " kind TEXT NOT NULL,"
    " first_revision INTEGER NOT NULL,"
    " UNIQUE (incident_id, kind));"

    "CREATE TABLE evidence ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " ts_us INTEGER NOT NULL,"
    " source TEXT NOT NULL,"
    " ref TEXT NOT NULL,"
    " excerpt TEXT NOT NULL,"
    " first_revision INTEGER NOT NULL,"
    " UNIQUE (incident_id, ts_us, source, ref, excerpt));"

    "CREATE TABLE steps ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " origin TEXT NOT NULL CHECK (origin IN ('agent','manual')),"
    " position INTEGER,"
    " action TEXT NOT NULL,"
    " started_us INTEGER,"
    " finished_us INTEGER,"
    " status TEXT NOT NULL,"
    " detail TEXT NOT NULL,"
    " operator TEXT,"
    " revision INTEGER,"
    " recorded_us INTEGER NOT NULL,"
    " CHECK ((origin = 'agent') = (position IS NOT NULL)),"
    " UNIQUE (incident_id, position));"

    "CREATE TABLE state_changes ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL,"
    " milestone TEXT NOT NULL CHECK (milestone IN"
    "  ('detected','contained','notified','closed','reopened')),"
    " state_before TEXT,"
    " state_after TEXT NOT NULL,"
    " actor TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " revision INTEGER);"
    "CREATE INDEX state_changes_incident ON state_changes(incident_id);"

    "CREATE TABLE notes ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL,"
    " author TEXT NOT NULL,"
    " text TEXT NOT NULL);"
    "CREATE INDEX notes_incident ON notes(incident_id);"

    "CREATE TABLE audit ("
    " seq INTEGER PRIMARY KEY,"
    " at_us INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " incident_id TEXT,"
    " object TEXT NOT NULL,"
    " object_id INTEGER NOT NULL,"
    " digest TEXT NOT NULL,"
    " prev TEXT NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE INDEX audit_object ON audit(object, object_id, seq);"
    "CREATE INDEX audit_incident ON audit(incident_id);"

    /* Nothing is ever deleted; what is written once is never changed. */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions"
    " BEGIN SELECT RAISE(ABORT, 'revisions are kept as received'); END;"
    "CREATE TRIGGER state_changes_no_update BEFORE UPDATE ON state_changes"
    " BEGIN SELECT RAISE(ABORT, 'state changes are append-only'); END;"
    "CREATE TRIGGER notes_no_update BEFORE UPDATE ON notes"
    " BEGIN SELECT RAISE(ABORT, 'notes are append-only'); END;"
    "CREATE TRIGGER schema_migrations_no_update BEFORE UPDATE"
    " ON schema_migrations"
    " BEGIN SELECT RAISE(ABORT, 'migrations are append-only'); END;"
    "CREATE TRIGGER incidents_no_delete BEFORE DELETE ON incidents"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER customers_no_delete BEFORE DELETE ON customers"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER data_kinds_no_delete BEFORE DELETE ON data_kinds"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER steps_no_delete BEFORE DELETE ON steps"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER state_changes_no_delete BEFORE DELETE ON state_changes"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TRIGGER schema_migrations_no_delete BEFORE DELETE"
    " ON schema_migrations"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;";

static const char MIGRATION_2[] =
    "ALTER TABLE incidents ADD COLUMN aware_reason TEXT;"
    "CREATE TABLE clock_changes ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL,"
    " clock TEXT NOT NULL CHECK (clock IN ('aware')),"
    " old_us INTEGER NOT NULL,"
    " new_us INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " reason TEXT NOT NULL);"
    "CREATE INDEX clock_changes_incident ON clock_changes(incident_id);"
    "CREATE TRIGGER clock_changes_no_update BEFORE UPDATE ON clock_changes"
    " BEGIN SELECT RAISE(ABORT, 'clock changes are append-only'); END;"
    "CREATE TRIGGER clock_changes_no_delete BEFORE DELETE ON clock_changes"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE INDEX incidents_detected ON incidents(detected_us);"
    "CREATE INDEX incidents_state ON incidents(state, detected_us);";

/* The outbox (issue 5): every message rendered and stored before it is
 * sent, its delivery, and the operators' approvals. A rendered message is
 * kept as it was rendered: what the record says was sent is what went out.
 * The CHECKs are written with OR, not IN (...): SQLite opens an ephemeral
 * table for every IN list at every row written, and malloc gives its page
 * cache back each time (10,000 rows: 14 s instead of 0.3 s). */
static const char MIGRATION_3[] =
    "CREATE TABLE notifications ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " kind TEXT NOT NULL CHECK (kind = 'team_alert' OR kind = 'team_problem'"
    "  OR kind = 'team_reminder' OR kind = 'customer_notice'),"
    " customer_row INTEGER REFERENCES customers(id),"
    " customer_id TEXT,"
    " version INTEGER NOT NULL CHECK (version >= 1),"
    " reason TEXT NOT NULL,"
    " recipient TEXT,"
    " recipient_kind TEXT CHECK (recipient_kind = 'primary'"
    "  OR recipient_kind = 'alternate' OR recipient_kind = 'team'),"
    " state TEXT NOT NULL CHECK (state = 'unresolved' OR state = 'held'"
    "  OR state = 'pending' OR state = 'sending' OR state = 'sent'"
    "  OR state = 'failed' OR state = 'ambiguous'),"
    " hold TEXT CHECK (hold = 'approval' OR hold = 'credentials'),"
    " detail TEXT,"
    " severity INTEGER NOT NULL,"
    " customers INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL,"
    " next_attempt_us INTEGER,"
    " smtp_code INTEGER,"
    " smtp_text TEXT,"
    " message_id TEXT UNIQUE,"
    " subject TEXT,"
    " created_us INTEGER NOT NULL,"
    " updated_us INTEGER NOT NULL,"
    " sent_us INTEGER,"
    " team_told_us INTEGER,"
    " message TEXT," /* last: reading the columns before it does not walk
		       its overflow pages */
    " CHECK ((kind = 'customer_notice') = (customer_row IS NOT NULL)),"
    " CHECK ((state = 'unresolved') = (message IS NULL)));"
    "CREATE UNIQUE INDEX notifications_customer"
    " ON notifications(customer_row, version)"
    " WHERE kind = 'customer_notice';"
    "CREATE UNIQUE INDEX notifications_team"
    " ON notifications(incident_id, kind, version, recipient)"
    " WHERE kind <> 'customer_notice';"
    "CREATE INDEX notifications_incident ON notifications(incident_id, kind);"
    "CREATE INDEX notifications_due ON notifications(state,"
    " kind = 'customer_notice', next_attempt_us);"
    "CREATE TRIGGER notifications_as_rendered BEFORE UPDATE ON notifications"
    " WHEN OLD.message IS NOT NULL AND (NEW.message IS NOT OLD.message"
    "  OR NEW.message_id IS NOT OLD.message_id"
    "  OR NEW.subject IS NOT OLD.subject"
    "  OR NEW.recipient IS NOT OLD.recipient"
    "  OR NEW.kind IS NOT OLD.kind OR NEW.version IS NOT OLD.version"
    "  OR NEW.customer_row IS NOT OLD.customer_row"
    "  OR NEW.incident_id IS NOT OLD.incident_id)"
    " BEGIN SELECT RAISE(ABORT, 'a rendered message is kept as rendered');"
    " END;"
    "CREATE TRIGGER notifications_no_delete BEFORE DELETE ON notifications"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "CREATE TABLE approvals ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL,"
    " operator TEXT NOT NULL,"
    " decision TEXT NOT NULL CHECK (decision IN ('approve')),"
    " reason TEXT,"
    " released INTEGER NOT NULL);"
    "CREATE INDEX approvals_incident ON approvals(incident_id);"
    "CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals"
    " BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;"
    "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;";

/* The operators' decisions about customer notices: besides approve (the
 * notices held by policy approve may go), notify (the customers are to be
 * told although the rule did not ask for it) and update (every customer
 * sent a notice gets a new version of it). The CHECK of a column cannot be
 * altered in SQLite: the table is made again with the same rows (same
 * rowids and values, the new columns NULL), so the digests the audit
 * chain holds for them stay true. The two new columns: upto_row, for an
 * update, the last notifications row when it was asked for (the customers
 * sent a notice up to it are the ones it is for); customers, how many
 * customers the decision was about. */
static const char MIGRATION_4[] =
    "CREATE TABLE approvals_v4 ("
    " id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL,"
    " operator TEXT NOT NULL,"
    " decision TEXT NOT NULL CHECK (decision = 'approve'"
    "  OR decision = 'notify' OR decision = 'update'),"
    " reason TEXT,"
    " released INTEGER NOT NULL,"
    " upto_row INTEGER,"
    " customers INTEGER,"
    " CHECK (decision = 'approve' OR reason IS NOT NULL),"
    " CHECK ((decision = 'update') = (upto_row IS NOT NULL)));"
    "INSERT INTO approvals_v4 (id, incident_id, at_us, operator, decision,"
    " reason, released) SELECT id, incident_id, at_us, operator, decision,"
    " reason, released FROM approvals ORDER BY id;"
    "DROP TABLE approvals;"
    "ALTER TABLE approvals_v4 RENAME TO approvals;"
    "CREATE INDEX approvals_incident ON approvals(incident_id, decision);"
    "CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals"
    " BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;"
    "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;";

struct migration {
	int version;
	const char *name;
	const char *sql;
};

static const struct migration migrations[] = {
    {1, "the breach record", MIGRATION_1},
    {2, "awareness set by an operator; listing indexes", MIGRATION_2},
    {3, "the outbox of notifications; approvals", MIGRATION_3},
    {4, "operators' decisions: notify and update", MIGRATION_4},
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

_Static_assert(N_MIGRATIONS == STORE_SCHEMA_VERSION,
	       "one migration per schema version");

static const struct {
	const char *name;
} tables[N_TABLES] = {
    [T_MIGRATIONS] = {"schema_migrations"},
    [T_INCIDENTS] = {"incidents"},
    [T_REVISIONS] = {"revisions"},
    [T_CUSTOMERS] = {"customers"},
    [T_DATA_KINDS] = {"data_kinds"},
    [T_EVIDENCE] = {"evidence"},
    [T_STEPS] = {"steps"},
    [T_STATE_CHANGES] = {"state_changes"},
    [T_NOTES] = {"notes"},
    [T_CLOCK_CHANGES] = {"clock_changes"},
    [T_NOTIFICATIONS] = {"notifications"},
    [T_APPROVALS] = {"approvals"},
};

/*
 * Statements, prepared once after the migrations. Every value is bound.
 */
#define INC_COLS                                                               \
	"incident_id, revision, rule, category, severity, title, summary,"    \
	" host, actor, first_seen_us, last_seen_us, event_count,"             \
	" evidence_omitted, affected_unknown, notify_customers, credentials," \
	" quiet, state, detected_us, aware_us, aware_reason, contained_us,"   \
	" notified_us, closed_us, closed_by, resolution,"                     \
	" (SELECT COUNT(*) FROM customers c"                                  \
	"  WHERE c.incident_id = incidents.incident_id),"                     \
	" (SELECT COUNT(*) FROM revisions r"                                  \
	"  WHERE r.incident_id = incidents.incident_id),"                     \
	" EXISTS (SELECT 1 FROM approvals a"                                  \
	"  WHERE a.incident_id = incidents.incident_id"                       \
	"  AND a.decision = 'notify')"

enum stmt {
	S_BEGIN,
	S_BEGIN_READ,
	S_COMMIT,
	S_ROLLBACK,
	S_HEAD,
	S_AUDIT_ADD,
	S_AUDIT_ALL,
	S_AUDIT_LATEST,
	S_AUDIT_COUNT,
	S_REV_EXISTS,
	S_REV_ADD,
	S_REV_JSON,
	S_CUR,
	S_INC_ADD,
	S_INC_UPDATE,
	S_INC_STATE,
	S_INC_CLOSE,
	S_INC_REOPEN,
	S_INC_AWARE,
	S_CUST_ADD,
	S_CUST_LOWER,
	S_KIND_ADD,
	S_KIND_LOWER,
	S_EVID_ADD,
	S_EVID_LOWER,
	S_STEP_ADD,
	S_STEP_UPDATE,
	S_STEP_MANUAL,
	S_CHANGE_ADD,
	S_NOTE_ADD,
	S_CLOCK_ADD,
	S_INC_GET,
	S_LIST,
	S_GET_REVS,
	S_GET_CUSTS,
	S_GET_KINDS,
	S_GET_EVID,
	S_GET_STEPS,
	S_GET_CHANGES,
	S_GET_NOTES,
	S_GET_CLOCKS,
	S_GET_NOTIFS,
	S_GET_APPROVALS,
	N_STMTS
};

static const char *const stmt_sql[N_STMTS] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_BEGIN_READ] = "BEGIN",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_HEAD] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [S_AUDIT_ADD] = "INSERT INTO audit (seq, at_us, actor, action,"
		    " incident_id, object, object_id, digest, prev, hash)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_AUDIT_ALL] = "SELECT seq, at_us, actor, action, incident_id, object,"
		    " object_id, digest, prev, hash FROM audit ORDER BY seq",
    [S_AUDIT_LATEST] = "SELECT seq, digest FROM audit WHERE object = ?1"
		       " AND object_id = ?2 ORDER BY seq DESC LIMIT 1",
    [S_AUDIT_COUNT] = "SELECT COUNT(*) FROM audit WHERE incident_id = ?1",
    [S_REV_EXISTS] = "SELECT 1 FROM revisions WHERE incident_id = ?1"
		     " AND revision = ?2",
    [S_REV_ADD] = "INSERT INTO revisions (incident_id, revision, agent,"
		  " received_us, severity, event_count, n_customers, quiet,"
		  " json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
		  " RETURNING id",
    [S_REV_JSON] = "SELECT json FROM revisions WHERE incident_id = ?1"
		   " AND revision = ?2",
    [S_CUR] = "SELECT id, revision, state, last_seen_us, contained_us,"
	      " notified_us, closed_us, aware_us FROM incidents"
	      " WHERE incident_id = ?1",
    [S_INC_ADD] = "INSERT INTO incidents (incident_id, revision, rule,"
		  " category, severity, title, summary, host, actor,"
		  " first_seen_us, last_seen_us, event_count,"
		  " evidence_omitted, affected_unknown, notify_customers,"
		  " credentials, quiet, state, detected_us, aware_us)"
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		  " ?13, ?14, ?15, ?16, ?17, 'detected', ?18, ?18)"
		  " RETURNING id",
    /* last_seen never goes back: a higher revision made by a later run
     * of the agent from lines read again may show less (a closed incident
     * reopens only on activity after it, revision_milestones). */
    [S_INC_UPDATE] = "UPDATE incidents SET revision = ?2, rule = ?3,"
		     " category = ?4, severity = ?5, title = ?6, summary = ?7,"
		     " host = ?8, actor = ?9, first_seen_us = ?10,"
		     " last_seen_us = max(last_seen_us, ?11),"
		     " event_count = ?12,"
		     " evidence_omitted = ?13, affected_unknown = ?14,"
		     " notify_customers = ?15, credentials = ?16, quiet = ?17"
		     " WHERE id = ?1",
    [S_INC_STATE] = "UPDATE incidents SET state = ?2, contained_us = ?3,"
		    " notified_us = ?4 WHERE id = ?1",
    [S_INC_CLOSE] = "UPDATE incidents SET state = 'closed', closed_us = ?2,"
		    " closed_by = ?3, resolution = ?4 WHERE id = ?1",
    [S_INC_REOPEN] = "UPDATE incidents SET state = ?2, closed_us = NULL,"
		     " closed_by = NULL, resolution = NULL WHERE id = ?1",
    [S_INC_AWARE] = "UPDATE incidents SET aware_us = ?2, aware_reason = ?3"
		    " WHERE id = ?1",
    [S_CUST_ADD] = "INSERT INTO customers (incident_id, customer_id,"
		   " first_revision) VALUES (?1, ?2, ?3)"
		   " ON CONFLICT (incident_id, customer_id) DO NOTHING"
		   " RETURNING id",
    [S_CUST_LOWER] = "UPDATE customers SET first_revision = ?3"
		     " WHERE incident_id = ?1 AND customer_id = ?2"
		     " AND first_revision > ?3 RETURNING id",
    [S_KIND_ADD] = "INSERT INTO data_kinds (incident_id, kind,"
		   " first_revision) VALUES (?1, ?2, ?3)"
		   " ON CONFLICT (incident_id, kind) DO NOTHING RETURNING id",
    [S_KIND_LOWER] = "UPDATE data_kinds SET first_revision = ?3"
		     " WHERE incident_id = ?1 AND kind = ?2"
		     " AND first_revision > ?3 RETURNING id",
    [S_EVID_ADD] = "INSERT INTO evidence (incident_id, ts_us, source, ref,"
		   " excerpt, first_revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		   " ON CONFLICT (incident_id, ts_us, source, ref, excerpt)"
		   " DO NOTHING RETURNING id",
    [S_EVID_LOWER] = "UPDATE evidence SET first_revision = ?6"
		     " WHERE incident_id = ?1 AND ts_us = ?2 AND source = ?3"
		     " AND ref = ?4 AND excerpt = ?5 AND first_revision > ?6"
		     " RETURNING id",
    [S_STEP_ADD] = "INSERT INTO steps (incident_id, origin, position,"
		   " action, started_us, finished_us, status, detail,"
		   " revision, recorded_us) VALUES (?1, 'agent', ?2, ?3, ?4,"
		   " ?5, ?6, ?7, ?8, ?9)"
		   " ON CONFLICT (incident_id, position) DO NOTHING"
		   " RETURNING id",
    [S_STEP_UPDATE] = "UPDATE steps SET action = ?3, started_us = ?4,"
		      " finished_us = ?5, status = ?6, detail = ?7,"
		      " revision = ?8"
		      " WHERE incident_id = ?1 AND position = ?2"
		      " AND revision < ?8 AND (action IS NOT ?3"
		      " OR started_us IS NOT ?4 OR finished_us IS NOT ?5"
		      " OR status IS NOT ?6 OR detail IS NOT ?7) RETURNING id",
    [S_STEP_MANUAL] = "INSERT INTO steps (incident_id, origin, position,"
		      " action, started_us, finished_us, status, detail,"
		      " operator, revision, recorded_us) VALUES (?1, 'manual',"
		      " NULL, 'manual', ?2, ?2, 'ok', ?3, ?4, NULL, ?2)"
		      " RETURNING id",
    [S_CHANGE_ADD] = "INSERT INTO state_changes (incident_id, at_us,"
		     " milestone, state_before, state_after, actor, reason,"
		     " revision) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		     " RETURNING id",
    [S_NOTE_ADD] = "INSERT INTO notes (incident_id, at_us, author, text)"
		   " VALUES (?1, ?2, ?3, ?4) RETURNING id",
    [S_CLOCK_ADD] = "INSERT INTO clock_changes (incident_id, at_us, clock,"
		    " old_us, new_us, actor, reason)"
		    " VALUES (?1, ?2, 'aware', ?3, ?4, ?5, ?6) RETURNING id",
    [S_INC_GET] = "SELECT " INC_COLS " FROM incidents"
		  " WHERE incident_id = ?1",
    [S_LIST] = "SELECT " INC_COLS " FROM incidents"
	       " WHERE (?1 IS NULL OR state = ?1)"
	       " AND (?2 IS NULL OR severity >= ?2)"
	       " AND (?3 IS NULL OR detected_us >= ?3)"
	       " ORDER BY detected_us DESC, id DESC LIMIT ?4",
    [S_GET_REVS] = "SELECT revision, agent, received_us, severity,"
		   " event_count, n_customers, quiet FROM revisions"
		   " WHERE incident_id = ?1 ORDER BY revision",
    [S_GET_CUSTS] = "SELECT customer_id, first_revision FROM customers"
		    " WHERE incident_id = ?1 ORDER BY first_revision, id",
    [S_GET_KINDS] = "SELECT kind, first_revision FROM data_kinds"
		    " WHERE incident_id = ?1 ORDER BY first_revision, id",
    [S_GET_EVID] = "SELECT ts_us, source, ref, excerpt, first_revision"
		   " FROM evidence WHERE incident_id = ?1 ORDER BY ts_us, id",
    [S_GET_STEPS] = "SELECT origin, position, action, started_us,"
		    " finished_us, status, detail, operator, revision,"
		    " recorded_us FROM steps WHERE incident_id = ?1"
		    " ORDER BY COALESCE(started_us, recorded_us), id",
    [S_GET_CHANGES] = "SELECT at_us, milestone, state_before, state_after,"
		      " actor, reason, revision FROM state_changes"
		      " WHERE incident_id = ?1 ORDER BY at_us, id",
    [S_GET_NOTES] = "SELECT at_us, author, text FROM notes"
		    " WHERE incident_id = ?1 ORDER BY at_us, id",
    [S_GET_CLOCKS] = "SELECT at_us, clock, old_us, new_us, actor, reason"
		     " FROM clock_changes WHERE incident_id = ?1"
		     " ORDER BY at_us, id",
    [S_GET_NOTIFS] = "SELECT " STORE_NOTIF_COLS " FROM notifications"
		     " WHERE incident_id = ?1 ORDER BY id",
    [S_GET_APPROVALS] = "SELECT at_us, operator, reason, released,"
			" decision, customers, id"
			" FROM approvals WHERE incident_id = ?1 ORDER BY id",
};

struct store {
	char *path;
	int lock_fd; /* flock()ed for the life of the store */
	sqlite3 *db;
	int version;
	sqlite3_stmt *st[N_STMTS];
	sqlite3_stmt *digest[N_TABLES]; /* SELECT * FROM t WHERE rowid = ? */
	sqlite3_stmt *ext[STORE_INT_MAX_STMTS]; /* store_int_stmt() */
	bool relaxed; /* in a store_int_begin_relaxed() transaction */

	/* The chain's head, loaded on the first audit entry of a
	 * transaction (the writer lock is held then). */
	bool head_loaded;
	int64_t head_seq;
	unsigned char head_hash[crypto_hash_sha256_BYTES];
};


static const char *const state_names[] = {
    [STORE_DETECTED] = "detected",
    [STORE_CONTAINED] = "contained",
    [STORE_NOTIFIED] = "notified",
    [STORE_CLOSED] = "closed",
};

#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *store_state_name(enum store_state st)
{
	if ((size_t)st >= N_STATES)
		return NULL;
	return state_names[st];
}

enum store_state store_state_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 1; i < N_STATES; i++) {
		if (strcmp(state_names[i], name) == 0)
			return (enum store_state)i;
	}
	return 0;
}

/*
 * Statement helpers.
 */

static int db_fail(struct store *s, const char *what, struct bw_error *err)
{
	return bw_error_set(err, NULL, 0, "store %s: %s: %s", s->path, what,
			    sqlite3_errmsg(s->db));
}

/* A cached statement, reset and with no bindings. */
static sqlite3_stmt *use(struct store *s, enum stmt id)
{
	sqlite3_stmt *st = s->st[id];

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* The bind calls fail only for a bad index or out of memory; an index is
 * a bug here, so their results are folded into the step that follows
 * (sqlite3_step reports a statement left half-bound as a misuse). */
static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		(void)sqlite3_bind_null(st, i);
	else
		(void)sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static void bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	(void)sqlite3_bind_int64(st, i, v);
}

/* 0 (meaning "not yet") is stored as NULL. */
static void bind_time_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == 0)
		(void)sqlite3_bind_null(st, i);
	else
		(void)sqlite3_bind_int64(st, i, v);
}

static int64_t clamp_u64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Run a statement that returns no rows. */
static int run(struct store *s, sqlite3_stmt *st, const char *what,
	       struct bw_error *err)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE) {
		db_fail(s, what, err);
		done(st);
		return -1;
	}
	done(st);
	return 0;
}

/* Run a statement returning at most one integer (RETURNING id, a lookup):
 * 1 with *out set, 0 when no row came back, -1 with err on failure. */
static int run_int(struct store *s, sqlite3_stmt *st, const char *what,
		   int64_t *out, struct bw_error *err)
{
	int rc = sqlite3_step(st);
	int found = 0;

	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		found = 1;
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, what, err);
		done(st);
		return -1;
	}
	done(st);
	return found;
}

static int exec_sql(struct store *s, const char *sql, const char *what,
		    struct bw_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		bw_error_set(err, NULL, 0, "store %s: %s: %s", s->path, what,
			     msg != NULL ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

static int64_t col_int(sqlite3_stmt *st, int i)
{
	return sqlite3_column_int64(st, i);
}

static enum store_state col_state(sqlite3_stmt *st, int i)
{
	return store_state_by_name((const char *)sqlite3_column_text(st, i));
}

/*
 * Transactions.
 */

static int tx_begin(struct store *s, struct bw_error *err)
{
	s->head_loaded = false;
	return run(s, use(s, S_BEGIN), "begin", err);
}

static int tx_commit(struct store *s, struct bw_error *err)
{
	if (run(s, use(s, S_COMMIT), "commit", err) < 0) {
		(void)sqlite3_step(use(s, S_ROLLBACK));
		done(s->st[S_ROLLBACK]);
		return -1;
	}
	return 0;
}

static void tx_rollback(struct store *s)
{
	if (sqlite3_get_autocommit(s->db))
		return; /* SQLite already rolled back (e.g. SQLITE_FULL) */
	(void)sqlite3_step(use(s, S_ROLLBACK));
	done(s->st[S_ROLLBACK]);
}

/*
 * The audit chain: canonical encodings.
 *
 * Every value is a tag byte and its content: 'I' + 8 bytes big-endian
 * (two's complement), 'T' (text) or 'B' (blob) + 8-byte big-endian length +
 * the bytes, 'R' + the 8 bytes of an IEEE double big-endian, 'N' for NULL.
 */

#define HASH_LEN crypto_hash_sha256_BYTES
#define HEX_LEN (2 * HASH_LEN)

static const char AUDIT_DOMAIN[] = "breachwatch audit v1";

static void put_be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static void enc_int(crypto_hash_sha256_state *h, int64_t v)
{
	unsigned char b[9];

	b[0] = 'I';
	put_be64(b + 1, (uint64_t)v);
	crypto_hash_sha256_update(h, b, sizeof(b));
}

static void enc_bytes(crypto_hash_sha256_state *h, char tag, const void *p,
		      size_t len)
{
	unsigned char b[9];

	b[0] = (unsigned char)tag;
	put_be64(b + 1, (uint64_t)len);
	crypto_hash_sha256_update(h, b, sizeof(b));
	if (len > 0)
		crypto_hash_sha256_update(h, p, len);
}

static void enc_text(crypto_hash_sha256_state *h, const char *s)
{
	if (s == NULL) {
		unsigned char n = 'N';

		crypto_hash_sha256_update(h, &n, 1);
		return;
	}
	enc_bytes(h, 'T', s, strlen(s));
}

/* One column of the current row of st, by SQLite's storage class. */
static void enc_column(crypto_hash_sha256_state *h, sqlite3_stmt *st, int i)
{
	unsigned char b[9];
	double d;
	uint64_t bits;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		enc_int(h, sqlite3_column_int64(st, i));
		break;
	case SQLITE_FLOAT:
		d = sqlite3_column_double(st, i);
		memcpy(&bits, &d, sizeof(bits));
		b[0] = 'R';
		put_be64(b + 1, bits);
		crypto_hash_sha256_update(h, b, sizeof(b));
		break;
	case SQLITE_TEXT:
		enc_bytes(h, 'T', sqlite3_column_text(st, i),
			  (size_t)sqlite3_column_bytes(st, i));
		break;
	case SQLITE_BLOB:
		enc_bytes(h, 'B', sqlite3_column_blob(st, i),
			  (size_t)sqlite3_column_bytes(st, i));
		break;
	default: /* NULL columns are left out by the caller */
		break;
	}
}

static sqlite3_stmt *digest_stmt(struct store *s, enum table t,
				 struct bw_error *err)
{
	char *sql;
	int rc;

	if (s->digest[t] != NULL)
		return s->digest[t];
	/* The table name comes from the static table above, never from
	 * outside; the rowid is bound. */
	sql = xasprintf("SELECT * FROM %s WHERE rowid = ?1", tables[t].name);
	rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
				&s->digest[t], NULL);
	free(sql);
	if (rc != SQLITE_OK) {
		db_fail(s, "prepare row digest", err);
		return NULL;
	}
	return s->digest[t];
}

/* The digest of row rowid of table t: SHA-256 over the table name and each
 * non-NULL column's name and value. Returns 1 with out filled, 0 when the
 * row does not exist, -1 with err. */
static int row_digest(struct store *s, enum table t, int64_t rowid,
		      unsigned char out[HASH_LEN], struct bw_error *err)
{
	crypto_hash_sha256_state h;
	sqlite3_stmt *st;
	int rc, i, n;

	st = digest_stmt(s, t, err);
	if (st == NULL)
		return -1;
	sqlite3_reset(st);
	bind_int(st, 1, rowid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		db_fail(s, "read row for its digest", err);
		sqlite3_reset(st);
		return -1;
	}
	crypto_hash_sha256_init(&h);
	enc_text(&h, tables[t].name);
	n = sqlite3_column_count(st);
	for (i = 0; i < n; i++) {
		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			continue;
		enc_text(&h, sqlite3_column_name(st, i));
		enc_column(&h, st, i);
	}
	crypto_hash_sha256_final(&h, out);
	sqlite3_reset(st);
	return 1;
}

struct entry {
	int64_t seq;
	int64_t at_us;
	const char *actor;
	const char *action;
	const char *incident_id; /* may be NULL */
	const char *object;
	int64_t object_id;
	unsigned char digest[HASH_LEN];
};

/* hash = SHA-256(prev || canonical(entry)). */
static void entry_hash(const unsigned char prev[HASH_LEN],
		       const struct entry *e, unsigned char out[HASH_LEN])
{
	crypto_hash_sha256_state h;

	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, prev, HASH_LEN);
	enc_text(&h, AUDIT_DOMAIN);
	enc_int(&h, e->seq);
	enc_int(&h, e->at_us);
	enc_text(&h, e->actor);
	enc_text(&h, e->action);
	enc_text(&h, e->incident_id);
	enc_text(&h, e->object);
	enc_int(&h, e->object_id);
	enc_bytes(&h, 'B', e->digest, HASH_LEN);
	crypto_hash_sha256_final(&h, out);
}

static void to_hex(const unsigned char bin[HASH_LEN], char hex[HEX_LEN + 1])
{
	sodium_bin2hex(hex, HEX_LEN + 1, bin, HASH_LEN);
}

/* Decode exactly 64 hex digits. */
static int from_hex(const unsigned char *hex, int len,
		    unsigned char bin[HASH_LEN])
{
	size_t n = 0;
	const char *end = NULL;

	if (hex == NULL || len != HEX_LEN)
		return -1;
	if (sodium_hex2bin(bin, HASH_LEN, (const char *)hex, (size_t)len,
			   NULL, &n, &end) != 0)
		return -1;
	if (n != HASH_LEN || end != (const char *)hex + len)
		return -1;
	return 0;
}

static int load_head(struct store *s, struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_HEAD);
	int rc;

	s->head_seq = 0;
	memset(s->head_hash, 0, sizeof(s->head_hash));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		s->head_seq = col_int(st, 0);
		if (from_hex(sqlite3_column_text(st, 1),
			     sqlite3_column_bytes(st, 1), s->head_hash) < 0) {
			done(st);
			return bw_error_set(err, NULL, 0,
					    "store %s: audit entry %" PRId64
					    " has a malformed hash; run verify",
					    s->path, s->head_seq);
		}
		rc = sqlite3_step(st);
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, "read the audit head", err);
		done(st);
		return -1;
	}
	done(st);
	s->head_loaded = true;
	return 0;
}

/* Append the audit entry for row rowid of table t, just written by w. */
static int audit(struct store *s, const struct store_who *w, enum table t,
		 int64_t rowid, const char *action, struct bw_error *err)
{
	struct entry e;
	unsigned char hash[HASH_LEN];
	char dhex[HEX_LEN + 1], phex[HEX_LEN + 1], hhex[HEX_LEN + 1];
	sqlite3_stmt *st;
	int rc;

	/* Statements in this transaction use S_HEAD's plan only once. */
	if (!s->head_loaded && load_head(s, err) < 0)
		return -1;
	rc = row_digest(s, t, rowid, e.digest, err);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return bw_error_set(err, NULL, 0,
				    "store %s: %s row %" PRId64
				    " vanished before its audit entry",
				    s->path, tables[t].name, rowid);
	e.seq = s->head_seq + 1;
	e.at_us = w->at_us;
	e.actor = w->actor;
	e.action = action;
	e.incident_id = w->incident_id;
	e.object = tables[t].name;
	e.object_id = rowid;
	entry_hash(s->head_hash, &e, hash);
	to_hex(e.digest, dhex);
	to_hex(s->head_hash, phex);
	to_hex(hash, hhex);

	st = use(s, S_AUDIT_ADD);
	bind_int(st, 1, e.seq);
	bind_int(st, 2, e.at_us);
	bind_text(st, 3, e.actor);
	bind_text(st, 4, e.action);
	bind_text(st, 5, e.incident_id);
	bind_text(st, 6, e.object);
	bind_int(st, 7, e.object_id);
	bind_text(st, 8, dhex);
	bind_text(st, 9, phex);
	bind_text(st, 10, hhex);
	if (run(s, st, "append an audit entry", err) < 0)
		return -1;
	s->head_seq = e.seq;
	memcpy(s->head_hash, hash, HASH_LEN);
	return 0;
}

/*
 * Opening and migrating.
 */

static int pragma_int(struct store *s, const char *sql, int64_t *out,
		      struct bw_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_fail(s, sql, err);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_fail(s, sql, err);
		sqlite3_finalize(st);
		return -1;
	}
	*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int set_journal_wal(struct store *s, struct bw_error *err)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *mode;
	int ok;

	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
			       NULL) != SQLITE_OK)
		return db_fail(s, "journal_mode", err);
	ok = sqlite3_step(st) == SQLITE_ROW;
	mode = ok ? sqlite3_column_text(st, 0) : NULL;
	ok = mode != NULL && strcmp((const char *)mode, "wal") == 0;
	sqlite3_finalize(st);
	if (!ok)
		return bw_error_set(err, NULL, 0,
				    "store %s: cannot switch to WAL journal",
				    s->path);
	return 0;
}

static void drop_digest_stmts(struct store *s)
{
	size_t i;

	for (i = 0; i < N_TABLES; i++) {
		sqlite3_finalize(s->digest[i]);
		s->digest[i] = NULL;
	}
}

/* Run one migration step in its own transaction. */
static int migrate_step(struct store *s, const struct migration *m,
			struct bw_error *err)
{
	struct store_who w = {STORE_SELF, bw_now_us(), NULL};
	sqlite3_stmt *st = NULL;
	char *pragma = NULL;
	int64_t version;

	s->head_loaded = false;
	if (exec_sql(s, "BEGIN IMMEDIATE", "begin migration", err) < 0)
		return -1;
	if (pragma_int(s, "PRAGMA user_version", &version, err) < 0)
		goto fail;
	if (version >= m->version) { /* another opener got here first */
		if (exec_sql(s, "COMMIT", "commit", err) < 0)
			goto fail;
		return 0;
	}
	if (exec_sql(s, m->sql, m->name, err) < 0)
		goto fail;
	if (m->version == 1) {
		pragma = xasprintf("PRAGMA application_id = %d",
				   STORE_APPLICATION_ID);
		if (exec_sql(s, pragma, "application_id", err) < 0)
			goto fail;
		free(pragma);
		pragma = NULL;
	}
	/* The audit head statement and the row digests need the tables
	 * this step may have created: prepare them here, once. */
	if (sqlite3_prepare_v2(s->db, stmt_sql[S_HEAD], -1, &s->st[S_HEAD],
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, stmt_sql[S_AUDIT_ADD], -1,
			       &s->st[S_AUDIT_ADD], NULL) != SQLITE_OK) {
		db_fail(s, "prepare the audit statements", err);
		goto fail;
	}
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO schema_migrations (version, name,"
			       " applied_us) VALUES (?1, ?2, ?3)",
			       -1, &st, NULL) != SQLITE_OK) {
		db_fail(s, "prepare schema_migrations", err);
		goto fail;
	}
	bind_int(st, 1, m->version);
	bind_text(st, 2, m->name);
	bind_int(st, 3, w.at_us);
	if (run(s, st, "record the migration", err) < 0)
		goto fail;
	if (audit(s, &w, T_MIGRATIONS, m->version, "migrate", err) < 0)
		goto fail;
	pragma = xasprintf("PRAGMA user_version = %d", m->version);
	if (exec_sql(s, pragma, "user_version", err) < 0)
		goto fail;
	if (exec_sql(s, "COMMIT", "commit migration", err) < 0)
		goto fail;
	free(pragma);
	sqlite3_finalize(st);
	sqlite3_finalize(s->st[S_HEAD]);
	sqlite3_finalize(s->st[S_AUDIT_ADD]);
	s->st[S_HEAD] = s->st[S_AUDIT_ADD] = NULL;
	drop_digest_stmts(s);
	return 0;

fail:
	free(pragma);
	sqlite3_finalize(st);
	sqlite3_finalize(s->st[S_HEAD]);
	sqlite3_finalize(s->st[S_AUDIT_ADD]);
	s->st[S_HEAD] = s->st[S_AUDIT_ADD] = NULL;
	drop_digest_stmts(s);
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int migrate(struct store *s, struct bw_error *err)
{
	int64_t version, app_id, n_objects;
	size_t i;

	if (pragma_int(s, "PRAGMA user_version", &version, err) < 0 ||
	    pragma_int(s, "PRAGMA application_id", &app_id, err) < 0 ||
	    pragma_int(s, "SELECT COUNT(*) FROM sqlite_schema", &n_objects,
		       err) < 0)
		return -1;
	if (app_id != 0 && app_id != STORE_APPLICATION_ID)
		return bw_error_set(err, NULL, 0,
				    "store %s: not a breachwatch store "
				    "(application_id %#" PRIx64 ")",
				    s->path, (uint64_t)app_id);
	if (version == 0 && n_objects > 0)
		return bw_error_set(err, NULL, 0,
				    "store %s: not a breachwatch store (it "
				    "has tables but no schema version)",
				    s->path);
	if (version > STORE_SCHEMA_VERSION)
		return bw_error_set(
		    err, NULL, 0,
		    "store %s: schema version %" PRId64
		    " is newer than this breachwatch-notifier knows (%d); "
		    "refusing to open it: run the newer notifier",
		    s->path, version, STORE_SCHEMA_VERSION);
	if (version < 0)
		return bw_error_set(err, NULL, 0,
				    "store %s: bad schema version %" PRId64,
				    s->path, version);
	for (i = 0; i < N_MIGRATIONS; i++) {
		if (migrations[i].version <= version)
			continue;
		if (migrate_step(s, &migrations[i], err) < 0)
			return -1;
	}
	s->version = STORE_SCHEMA_VERSION;
	return 0;
}

/* Create the file 0600 (it holds customer ids and evidence) and take an
 * exclusive flock on it: one owner at a time. */
static int lock_file(struct store *s, struct bw_error *err)
{
	s->lock_fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0)
		return bw_error_set(err, NULL, 0, "store %s: %s", s->path,
				    strerror(errno));
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		if (e == EWOULDBLOCK)
			return bw_error_set(err, NULL, 0,
					    "store %s: in use by another "
					    "breachwatch-notifier",
					    s->path);
		return bw_error_set(err, NULL, 0, "store %s: flock: %s",
				    s->path, strerror(e));
	}
	return 0;
}

struct store *store_open(const char *path, struct bw_error *err)
{
	struct store *s;
	size_t i;

	if (sodium_init() < 0) {
		bw_error_set(err, NULL, 0, "store: libsodium init failed");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->lock_fd = -1;
	if (lock_file(s, err) < 0)
		goto fail;
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		if (s->db != NULL)
			db_fail(s, "open", err);
		else
			bw_error_set(err, NULL, 0, "store %s: open failed",
				     path);
		goto fail;
	}
	(void)sqlite3_extended_result_codes(s->db, 1);
	(void)sqlite3_busy_timeout(s->db, 5000);
	/* synchronous=FULL: the WAL is synced at every commit, so a
	 * revision acknowledged after store_put_revision() survives a power
	 * failure (docs/breach-record.md). */
	if (set_journal_wal(s, err) < 0 ||
	    exec_sql(s,
		     "PRAGMA synchronous = FULL;"
		     "PRAGMA foreign_keys = ON;"
		     "PRAGMA trusted_schema = OFF;",
		     "pragmas", err) < 0)
		goto fail;
	if (migrate(s, err) < 0)
		goto fail;
	for (i = 0; i < N_STMTS; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
				       SQLITE_PREPARE_PERSISTENT, &s->st[i],
				       NULL) != SQLITE_OK) {
			db_fail(s, stmt_sql[i], err);
			goto fail;
		}
	}
	return s;

fail:
	store_close(&s);
	return NULL;
}

void store_close(struct store **sp)
{
	struct store *s;
	size_t i;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	for (i = 0; i < N_STMTS; i++)
		sqlite3_finalize(s->st[i]);
	for (i = 0; i < STORE_INT_MAX_STMTS; i++)
		sqlite3_finalize(s->ext[i]);
	drop_digest_stmts(s);
	if (s->db != NULL)
		sqlite3_close_v2(s->db);
	/* After SQLite's own descriptors: closing this one releases the
	 * flock, and SQLite's POSIX locks are gone by now. */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->path);
	free(s);
	*sp = NULL;
}

int store_version(const struct store *s)
{
	return s->version;
}

/*
 * Checking what operators hand in.
 */

static int check_str(const char *what, const char *v, size_t max,
		     bool multiline, struct bw_error *err)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t len, i, n;

	if (v == NULL || v[0] == '\0')
		return bw_error_set(err, NULL, 0, "%s is empty", what);
	len = strlen(v);
	if (len > max)
		return bw_error_set(err, NULL, 0, "%s is longer than %zu bytes",
				    what, max);
	for (i = 0; i < len; i += n) {
		n = bw_utf8_len(p + i, len - i);
		if (n == 0)
			return bw_error_set(err, NULL, 0,
					    "%s is not valid UTF-8", what);
		if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f) &&
		    !(multiline && (p[i] == '\n' || p[i] == '\t')))
			return bw_error_set(err, NULL, 0,
					    "%s has a control character",
					    what);
	}
	return 0;
}

static int check_incident(const struct bw_incident *inc, const char *agent,
			  struct bw_error *err)
{
	if (check_str("incident id", inc->id, BW_INC_MAX_STR, false, err) < 0 ||
	    check_str("agent name", agent, STORE_MAX_NAME, false, err) < 0)
		return -1;
	if (inc->revision < 1)
		return bw_error_set(err, NULL, 0, "incident %s: revision 0",
				    inc->id);
	if (bw_severity_name(inc->severity) == NULL)
		return bw_error_set(err, NULL, 0, "incident %s: bad severity",
				    inc->id);
	if (inc->rule == NULL || inc->category == NULL || inc->title == NULL ||
	    inc->host == NULL)
		return bw_error_set(err, NULL, 0,
				    "incident %s: rule, category, title or "
				    "host missing",
				    inc->id);
	return 0;
}

/*
 * Writing.
 */

/* The incident's row as the writers need it. */
struct cur {
	int64_t rowid;
	uint32_t revision;
	enum store_state state;
	int64_t last_seen_us;
	int64_t contained_us, notified_us, closed_us;
	int64_t aware_us;
};

/* Load the incident id: 1 found, 0 not, -1 error. */
static int load_cur(struct store *s, const char *id, struct cur *c,
		    struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_CUR);
	int rc;

	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		db_fail(s, "read incident", err);
		done(st);
		return -1;
	}
	c->rowid = col_int(st, 0);
	c->revision = (uint32_t)col_int(st, 1);
	c->state = col_state(st, 2);
	c->last_seen_us = col_int(st, 3);
	c->contained_us = col_int(st, 4);
	c->notified_us = col_int(st, 5);
	c->closed_us = col_int(st, 6);
	c->aware_us = col_int(st, 7);
	done(st);
	return 1;
}

static int need_cur(struct store *s, const char *id, struct cur *c,
		    struct bw_error *err)
{
	int rc = load_cur(s, id, c, err);

	if (rc == 0)
		return bw_error_set(err, NULL, 0, "no incident %s", id);
	return rc < 0 ? -1 : 0;
}

/* The furthest milestone reached. */
static enum store_state state_of(const struct cur *c)
{
	if (c->closed_us != 0)
		return STORE_CLOSED;
	if (c->notified_us != 0)
		return STORE_NOTIFIED;
	if (c->contained_us != 0)
		return STORE_CONTAINED;
	return STORE_DETECTED;
}

/* Append a state change (milestone) reached by w, c->state being the state
 * before and after the state after. */
static int add_change(struct store *s, const struct store_who *w,
		      const char *milestone, enum store_state before,
		      enum store_state after, const char *reason,
		      uint32_t revision, struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_CHANGE_ADD);
	int64_t id = 0;

	bind_text(st, 1, w->incident_id);
	bind_int(st, 2, w->at_us);
	bind_text(st, 3, milestone);
	bind_text(st, 4, before != 0 ? store_state_name(before) : NULL);
	bind_text(st, 5, store_state_name(after));
	bind_text(st, 6, w->actor);
	bind_text(st, 7, reason);
	if (revision != 0)
		bind_int(st, 8, revision);
	else
		bind_text(st, 8, NULL);
	if (run_int(s, st, "add a state change", &id, err) != 1)
		return -1;
	return audit(s, w, T_STATE_CHANGES, id, "add", err);
}

/* Write c's state and milestone times to the incident row. */
static int save_state(struct store *s, const struct store_who *w,
		      const struct cur *c, struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_INC_STATE);

	bind_int(st, 1, c->rowid);
	bind_text(st, 2, store_state_name(c->state));
	bind_time_or_null(st, 3, c->contained_us);
	bind_time_or_null(st, 4, c->notified_us);
	if (run(s, st, "update incident state", err) < 0)
		return -1;
	return audit(s, w, T_INCIDENTS, c->rowid, "state", err);
}

/* Reach the contained or notified milestone at w->at_us (once). */
static int reach(struct store *s, const struct store_who *w, struct cur *c,
		 enum store_state milestone, const char *reason,
		 uint32_t revision, struct bw_error *err)
{
	enum store_state before = c->state;

	if (milestone == STORE_CONTAINED) {
		if (c->contained_us != 0)
			return 0;
		c->contained_us = w->at_us;
	} else {
		if (c->notified_us != 0)
			return 0;
		c->notified_us = w->at_us;
	}
	c->state = state_of(c);
	if (save_state(s, w, c, err) < 0)
		return -1;
	return add_change(s, w, store_state_name(milestone), before, c->state,
			  reason, revision, err);
}

static char *actor_json(const struct bw_incident *inc)
{
	json_t *o = json_object();
	char *text;
	size_t i;

	if (o == NULL)
		abort();
	for (i = 0; i < inc->n_actor; i++) {
		json_t *v = json_string(inc->actor[i].value);

		/* The decoder only builds UTF-8 strings; skip anything
		 * else rather than store a half-made object. */
		if (v == NULL)
			continue;
		if (json_object_set_new(o, inc->actor[i].key, v) != 0)
			continue;
	}
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		abort();
	return text;
}

/* Bind the incident's current-state columns ?2..?17 (S_INC_ADD shares
 * this order with S_INC_UPDATE, ?1 differing). */
static void bind_current(sqlite3_stmt *st, const struct bw_incident *inc,
			 const char *actor)
{
	bind_int(st, 2, inc->revision);
	bind_text(st, 3, inc->rule);
	bind_text(st, 4, inc->category);
	bind_int(st, 5, inc->severity);
	bind_text(st, 6, inc->title);
	bind_text(st, 7, inc->summary);
	bind_text(st, 8, inc->host);
	bind_text(st, 9, actor);
	bind_int(st, 10, inc->first_seen_us);
	bind_int(st, 11, inc->last_seen_us);
	bind_int(st, 12, clamp_u64(inc->event_count));
	bind_int(st, 13, clamp_u64(inc->evidence_omitted));
	bind_int(st, 14, inc->affected_unknown);
	bind_int(st, 15, inc->notify_customers);
	bind_int(st, 16, inc->credentials);
	bind_int(st, 17, inc->closed);
}

/* Insert the first revision's incident row. */
static int add_incident(struct store *s, const struct store_who *w,
			const struct bw_incident *inc, struct cur *c,
			struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_INC_ADD);
	char *actor = actor_json(inc);
	int rc;

	bind_text(st, 1, inc->id);
	bind_current(st, inc, actor);
	bind_int(st, 18, w->at_us);
	rc = run_int(s, st, "add incident", &c->rowid, err);
	free(actor);
	if (rc != 1)
		return -1;
	c->revision = inc->revision;
	c->state = STORE_DETECTED;
	c->last_seen_us = inc->last_seen_us;
	c->contained_us = c->notified_us = c->closed_us = 0;
	c->aware_us = w->at_us;
	return audit(s, w, T_INCIDENTS, c->rowid, "create", err);
}

static int update_incident(struct store *s, const struct store_who *w,
			   const struct bw_incident *inc, struct cur *c,
			   struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_INC_UPDATE);
	char *actor = actor_json(inc);
	int rc;

	bind_int(st, 1, c->rowid);
	bind_current(st, inc, actor);
	rc = run(s, st, "update incident", err);
	free(actor);
	if (rc < 0)
		return -1;
	c->revision = inc->revision;
	return audit(s, w, T_INCIDENTS, c->rowid, "update", err);
}

static int add_revision(struct store *s, const struct store_who *w,
			const struct bw_incident *inc, const char *json,
			struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_REV_ADD);
	int64_t id = 0;

	bind_text(st, 1, inc->id);
	bind_int(st, 2, inc->revision);
	bind_text(st, 3, w->actor);
	bind_int(st, 4, w->at_us);
	bind_int(st, 5, inc->severity);
	bind_int(st, 6, clamp_u64(inc->event_count));
	bind_int(st, 7, (int64_t)inc->n_customers);
	bind_int(st, 8, inc->closed);
	bind_text(st, 9, json);
	if (run_int(s, st, "add revision", &id, err) != 1)
		return -1;
	return audit(s, w, T_REVISIONS, id, "add", err);
}

/* Insert a member of a set (customer, data kind, evidence) whose values
 * add has bound, or else, when lower is not NULL (a late revision), lower
 * its first revision with lower (bound the same way); audit whichever
 * wrote. A revision above every stored one cannot lower anything, so it
 * passes NULL and saves the statement. */
static int add_or_lower(struct store *s, const struct store_who *w, enum table t,
			sqlite3_stmt *add, sqlite3_stmt *lower,
			struct bw_error *err)
{
	int64_t id = 0;
	int rc;

	rc = run_int(s, add, "add to the record", &id, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return audit(s, w, t, id, "add", err);
	if (lower == NULL)
		return 0;
	rc = run_int(s, lower, "lower the first revision", &id, err);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return audit(s, w, t, id, "first revision", err);
	return 0;
}

/* Customers or data kinds: names, each with the revision naming them. */
static int add_names(struct store *s, const struct store_who *w,
		     const struct bw_incident *inc, bool late, enum table t,
		     enum stmt add_id, enum stmt lower_id, char *const *names,
		     size_t n, struct bw_error *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		sqlite3_stmt *add = use(s, add_id);
		sqlite3_stmt *lower = late ? use(s, lower_id) : NULL;

		bind_text(add, 1, inc->id);
		bind_text(add, 2, names[i]);
		bind_int(add, 3, inc->revision);
		if (late) {
			bind_text(lower, 1, inc->id);
			bind_text(lower, 2, names[i]);
			bind_int(lower, 3, inc->revision);
		}
		if (add_or_lower(s, w, t, add, lower, err) < 0)
			return -1;
	}
	return 0;
}

static void bind_evidence(sqlite3_stmt *st, const struct bw_incident *inc,
			  const struct bw_evidence *e)
{
	bind_text(st, 1, inc->id);
	bind_int(st, 2, e->ts_us);
	bind_text(st, 3, e->source);
	bind_text(st, 4, e->ref);
	bind_text(st, 5, e->excerpt);
	bind_int(st, 6, inc->revision);
}

static int add_evidence(struct store *s, const struct store_who *w,
			const struct bw_incident *inc, bool late,
			struct bw_error *err)
{
	size_t i;

	for (i = 0; i < inc->n_evidence; i++) {
		sqlite3_stmt *add = use(s, S_EVID_ADD);
		sqlite3_stmt *lower = late ? use(s, S_EVID_LOWER) : NULL;

		bind_evidence(add, inc, &inc->evidence[i]);
		if (late)
			bind_evidence(lower, inc, &inc->evidence[i]);
		if (add_or_lower(s, w, T_EVIDENCE, add, lower, err) < 0)
			return -1;
	}
	return 0;
}

/* Bind an agent step: ?1 incident, ?2 position, then the values; the
 * insert and the update place them differently from ?3 on. */
static void bind_step(sqlite3_stmt *st, bool insert,
		      const struct bw_incident *inc, size_t pos,
		      int64_t at_us)
{
	const struct bw_step *p = &inc->steps[pos];

	bind_text(st, 1, inc->id);
	bind_int(st, 2, (int64_t)pos);
	bind_text(st, 3, p->action);
	bind_time_or_null(st, 4, p->started_us);
	bind_time_or_null(st, 5, p->finished_us);
	bind_text(st, 6, p->status);
	bind_text(st, 7, p->detail);
	bind_int(st, 8, inc->revision);
	if (insert)
		bind_int(st, 9, at_us);
}

/* The agent's containment steps, by their position in its list: a new
 * position is a new step; a known one takes the values of the highest
 * revision that changed them. */
static int add_steps(struct store *s, const struct store_who *w,
		     const struct bw_incident *inc, struct bw_error *err)
{
	size_t i;

	for (i = 0; i < inc->n_steps; i++) {
		sqlite3_stmt *add = use(s, S_STEP_ADD);
		sqlite3_stmt *upd = use(s, S_STEP_UPDATE);
		int64_t id = 0;
		int rc;

		bind_step(add, true, inc, i, w->at_us);
		rc = run_int(s, add, "add a containment step", &id, err);
		if (rc < 0)
			return -1;
		if (rc == 1) {
			if (audit(s, w, T_STEPS, id, "add", err) < 0)
				return -1;
			continue;
		}
		bind_step(upd, false, inc, i, w->at_us);
		rc = run_int(s, upd, "update a containment step", &id, err);
		if (rc < 0)
			return -1;
		if (rc == 1 && audit(s, w, T_STEPS, id, "update", err) < 0)
			return -1;
	}
	return 0;
}

/* The first step of this revision that succeeded, or NULL. */
static const struct bw_step *first_ok_step(const struct bw_incident *inc)
{
	size_t i;

	for (i = 0; i < inc->n_steps; i++) {
		if (inc->steps[i].status != NULL &&
		    strcmp(inc->steps[i].status, "ok") == 0)
			return &inc->steps[i];
	}
	return NULL;
}

/* State changes a revision causes after its rows are in: a closed incident
 * with new activity reopens; a successful step contains. */
static int revision_milestones(struct store *s, const struct store_who *w,
			       const struct bw_incident *inc, struct cur *c,
			       int64_t prev_last_seen_us, struct bw_error *err)
{
	const struct bw_step *ok;
	char when[40], *reason;
	int rc;

	if (c->state == STORE_CLOSED && inc->last_seen_us > prev_last_seen_us) {
		sqlite3_stmt *st = use(s, S_INC_REOPEN);

		c->closed_us = 0;
		c->state = state_of(c);
		bind_int(st, 1, c->rowid);
		bind_text(st, 2, store_state_name(c->state));
		if (run(s, st, "reopen incident", err) < 0 ||
		    audit(s, w, T_INCIDENTS, c->rowid, "reopen", err) < 0)
			return -1;
		reason = xasprintf("revision %" PRIu32 " shows activity at %s,"
				   " after the incident was closed",
				   inc->revision,
				   bw_time_format(inc->last_seen_us, when,
						  sizeof(when)));
		rc = add_change(s, w, "reopened", STORE_CLOSED, c->state,
				reason, inc->revision, err);
		free(reason);
		if (rc < 0)
			return -1;
	}
	ok = first_ok_step(inc);
	if (ok != NULL && c->contained_us == 0) {
		reason = xasprintf("containment action %s succeeded (revision "
				   "%" PRIu32 ")",
				   ok->action, inc->revision);
		rc = reach(s, w, c, STORE_CONTAINED, reason, inc->revision,
			   err);
		free(reason);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int store_put_revision(struct store *s, const struct bw_incident *inc,
		       const char *agent, int64_t received_us, bool *inserted,
		       struct bw_error *err)
{
	struct store_who w = {agent, received_us, inc->id};
	struct cur c;
	char *json = NULL, *reason = NULL;
	int64_t one = 0, prev_last_seen;
	bool late = false; /* below the highest revision stored */
	int rc;

	*inserted = false;
	if (check_incident(inc, agent, err) < 0)
		return -1;
	if (tx_begin(s, err) < 0)
		return -1;
	{
		sqlite3_stmt *st = use(s, S_REV_EXISTS);

		bind_text(st, 1, inc->id);
		bind_int(st, 2, inc->revision);
		rc = run_int(s, st, "look up revision", &one, err);
	}
	if (rc < 0)
		goto fail;
	if (rc == 1) { /* stored already: nothing to do */
		tx_rollback(s);
		return 0;
	}
	rc = load_cur(s, inc->id, &c, err);
	if (rc < 0)
		goto fail;
	if (rc == 0) {
		if (add_incident(s, &w, inc, &c, err) < 0)
			goto fail;
		reason = xasprintf("revision %" PRIu32 " of rule %s received "
				   "from agent %s",
				   inc->revision, inc->rule, agent);
		if (add_change(s, &w, "detected", 0, STORE_DETECTED, reason,
			       inc->revision, err) < 0)
			goto fail;
		prev_last_seen = inc->last_seen_us;
	} else {
		prev_last_seen = c.last_seen_us;
		late = inc->revision < c.revision;
		if (inc->revision > c.revision &&
		    update_incident(s, &w, inc, &c, err) < 0)
			goto fail;
	}
	json = bw_incident_to_json(inc);
	if (add_revision(s, &w, inc, json, err) < 0 ||
	    add_names(s, &w, inc, late, T_CUSTOMERS, S_CUST_ADD, S_CUST_LOWER,
		      inc->customers, inc->n_customers, err) < 0 ||
	    add_names(s, &w, inc, late, T_DATA_KINDS, S_KIND_ADD,
		      S_KIND_LOWER, inc->data_kinds, inc->n_data_kinds,
		      err) < 0 ||
	    add_evidence(s, &w, inc, late, err) < 0 ||
	    add_steps(s, &w, inc, err) < 0 ||
	    revision_milestones(s, &w, inc, &c, prev_last_seen, err) < 0)
		goto fail;
	if (tx_commit(s, err) < 0)
		goto fail_committed;
	free(json);
	free(reason);
	*inserted = true;
	return 0;

fail:
	tx_rollback(s);
fail_committed:
	free(json);
	free(reason);
	return -1;
}

int store_add_manual_step(struct store *s, const char *id,
			  const char *operator_name, const char *note,
			  int64_t now_us, struct bw_error *err)
{
	struct store_who w = {operator_name, now_us, id};
	struct cur c;
	sqlite3_stmt *st;
	int64_t step = 0;
	char *reason = NULL;

	if (check_str("operator", operator_name, STORE_MAX_NAME, false, err) <
		0 ||
	    check_str("note", note, STORE_MAX_TEXT, true, err) < 0)
		return -1;
	if (tx_begin(s, err) < 0)
		return -1;
	if (need_cur(s, id, &c, err) < 0)
		goto fail;
	st = use(s, S_STEP_MANUAL);
	bind_text(st, 1, id);
	bind_int(st, 2, now_us);
	bind_text(st, 3, note);
	bind_text(st, 4, operator_name);
	if (run_int(s, st, "add a manual step", &step, err) != 1 ||
	    audit(s, &w, T_STEPS, step, "add", err) < 0)
		goto fail;
	reason = xasprintf("manual containment step: %s", note);
	if (reach(s, &w, &c, STORE_CONTAINED, reason, 0, err) < 0)
		goto fail;
	free(reason);
	return tx_commit(s, err);

fail:
	free(reason);
	tx_rollback(s);
	return -1;
}

int store_close_incident(struct store *s, const char *id,
			 const char *operator_name, const char *resolution,
			 int64_t now_us, struct bw_error *err)
{
	struct store_who w = {operator_name, now_us, id};
	struct cur c;
	enum store_state before;
	sqlite3_stmt *st;

	if (check_str("operator", operator_name, STORE_MAX_NAME, false, err) <
		0 ||
	    check_str("resolution", resolution, STORE_MAX_TEXT, true, err) < 0)
		return -1;
	if (tx_begin(s, err) < 0)
		return -1;
	if (need_cur(s, id, &c, err) < 0)
		goto fail;
	if (c.state == STORE_CLOSED) {
		bw_error_set(err, NULL, 0, "incident %s is already closed", id);
		goto fail;
	}
	before = c.state;
	st = use(s, S_INC_CLOSE);
	bind_int(st, 1, c.rowid);
	bind_int(st, 2, now_us);
	bind_text(st, 3, operator_name);
	bind_text(st, 4, resolution);
	if (run(s, st, "close incident", err) < 0 ||
	    audit(s, &w, T_INCIDENTS, c.rowid, "close", err) < 0 ||
	    add_change(s, &w, "closed", before, STORE_CLOSED, resolution, 0,
		       err) < 0)
		goto fail;
	return tx_commit(s, err);

fail:
	tx_rollback(s);
	return -1;
}

int store_mark_notified(struct store *s, const char *id, const char *actor,
			const char *reason, int64_t now_us,
			struct bw_error *err)
{
	struct store_who w = {actor, now_us, id};
	struct cur c;

	if (check_str("actor", actor, STORE_MAX_NAME, false, err) < 0 ||
	    check_str("reason", reason, STORE_MAX_TEXT, true, err) < 0)
		return -1;
	if (tx_begin(s, err) < 0)
		return -1;
	if (need_cur(s, id, &c, err) < 0 ||
	    reach(s, &w, &c, STORE_NOTIFIED, reason, 0, err) < 0)
		goto fail;
	return tx_commit(s, err);

fail:
	tx_rollback(s);
	return -1;
}

int store_add_note(struct store *s, const char *id, const char *author,
		   const char *text, int64_t now_us, struct bw_error *err)
{
	struct store_who w = {author, now_us, id};
	struct cur c;
	sqlite3_stmt *st;
	int64_t note = 0;

	if (check_str("author", author, STORE_MAX_NAME, false, err) < 0 ||
	    check_str("note", text, STORE_MAX_TEXT, true, err) < 0)
		return -1;
	if (tx_begin(s, err) < 0)
		return -1;
	if (need_cur(s, id, &c, err) < 0)
		goto fail;
	st = use(s, S_NOTE_ADD);
	bind_text(st, 1, id);
	bind_int(st, 2, now_us);
	bind_text(st, 3, author);
	bind_text(st, 4, text);
	if (run_int(s, st, "add a note", &note, err) != 1 ||
	    audit(s, &w, T_NOTES, note, "add", err) < 0)
		goto fail;
	return tx_commit(s, err);

fail:
	tx_rollback(s);
	return -1;
}

int store_set_aware(struct store *s, const char *id, int64_t aware_us,
		    const char *operator_name, const char *reason,
		    int64_t now_us, struct bw_error *err)
{
	struct store_who w = {operator_name, now_us, id};
	struct cur c;
	sqlite3_stmt *st;
	int64_t change = 0;

	if (check_str("operator", operator_name, STORE_MAX_NAME, false, err) <
		0 ||
	    check_str("reason", reason, STORE_MAX_TEXT, true, err) < 0)
		return -1;
	if (aware_us <= 0)
		return bw_error_set(err, NULL, 0, "awareness time not set");
	if (tx_begin(s, err) < 0)
		return -1;
	if (need_cur(s, id, &c, err) < 0)
		goto fail;
	st = use(s, S_INC_AWARE);
	bind_int(st, 1, c.rowid);
	bind_int(st, 2, aware_us);
	bind_text(st, 3, reason);
	if (run(s, st, "set awareness", err) < 0 ||
	    audit(s, &w, T_INCIDENTS, c.rowid, "aware", err) < 0)
		goto fail;
	st = use(s, S_CLOCK_ADD);
	bind_text(st, 1, id);
	bind_int(st, 2, now_us);
	bind_int(st, 3, c.aware_us);
	bind_int(st, 4, aware_us);
	bind_text(st, 5, operator_name);
	bind_text(st, 6, reason);
	if (run_int(s, st, "record the clock change", &change, err) != 1 ||
	    audit(s, &w, T_CLOCK_CHANGES, change, "add", err) < 0)
		goto fail;
	return tx_commit(s, err);

fail:
	tx_rollback(s);
	return -1;
}

/*
 * Reading.
 */

static void read_actor(struct store_incident *r, const char *text)
{
	json_t *o, *v;
	const char *key;

	if (text == NULL)
		return;
	o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	r->actor = xcalloc(json_object_size(o) + 1, sizeof(*r->actor));
	json_object_foreach(o, key, v)
	{
		if (!json_is_string(v))
			continue;
		r->actor[r->n_actor].key = xstrdup(key);
		r->actor[r->n_actor].value = xstrdup(json_string_value(v));
		r->n_actor++;
	}
	json_decref(o);
}

/* Fill r from a row of INC_COLS. */
static void read_incident(sqlite3_stmt *st, struct store_incident *r)
{
	memset(r, 0, sizeof(*r));
	r->id = col_dup(st, 0);
	r->revision = (uint32_t)col_int(st, 1);
	r->rule = col_dup(st, 2);
	r->category = col_dup(st, 3);
	r->severity = (enum bw_severity)col_int(st, 4);
	r->title = col_dup(st, 5);
	r->summary = col_dup(st, 6);
	r->host = col_dup(st, 7);
	read_actor(r, (const char *)sqlite3_column_text(st, 8));
	r->first_seen_us = col_int(st, 9);
	r->last_seen_us = col_int(st, 10);
	r->event_count = (uint64_t)col_int(st, 11);
	r->evidence_omitted = (uint64_t)col_int(st, 12);
	r->affected_unknown = col_int(st, 13) != 0;
	r->notify_customers = col_int(st, 14) != 0;
	r->credentials = col_int(st, 15) != 0;
	r->quiet = col_int(st, 16) != 0;
	r->state = col_state(st, 17);
	r->detected_us = col_int(st, 18);
	r->aware_us = col_int(st, 19);
	r->aware_reason = col_dup(st, 20);
	r->deadline_us = r->aware_us + STORE_GDPR_DEADLINE_US;
	r->contained_us = col_int(st, 21);
	r->notified_us = col_int(st, 22);
	r->closed_us = col_int(st, 23);
	r->closed_by = col_dup(st, 24);
	r->resolution = col_dup(st, 25);
	r->n_customers = (size_t)col_int(st, 26);
	r->n_revisions = (uint32_t)col_int(st, 27);
	r->notify_decided = col_int(st, 28) != 0;
}

static void free_incident(struct store_incident *r)
{
	size_t i;

	free(r->id);
	free(r->rule);
	free(r->category);
	free(r->title);
	free(r->summary);
	free(r->host);
	for (i = 0; i < r->n_actor; i++) {
		free(r->actor[i].key);
		free(r->actor[i].value);
	}
	free(r->actor);
	free(r->aware_reason);
	free(r->closed_by);
	free(r->resolution);
	memset(r, 0, sizeof(*r));
}

int64_t store_list(struct store *s, const struct store_filter *f,
		   store_list_fn fn, void *arg, struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_LIST);
	struct store_incident row;
	int64_t n = 0;
	int rc;

	if (f != NULL && f->state != 0)
		bind_text(st, 1, store_state_name(f->state));
	if (f != NULL && f->min_severity != 0)
		bind_int(st, 2, f->min_severity);
	if (f != NULL && f->since_us != 0)
		bind_int(st, 3, f->since_us);
	bind_int(st, 4,
		 f != NULL && f->limit != 0 && f->limit <= INT64_MAX
		     ? (int64_t)f->limit
		     : -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int stop;

		read_incident(st, &row);
		n++;
		stop = fn(&row, arg);
		free_incident(&row);
		if (stop != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, "list incidents", err);
		done(st);
		return -1;
	}
	done(st);
	return n;
}

/* Make room for item n of an array of n items: 4 at first, doubling each
 * time a power of two is full. Returns the (maybe moved) array. */
static void *grow_for(void *arr, size_t n, size_t item)
{
	if (n == 0)
		return xreallocarray(arr, 4, item);
	if (n >= 4 && (n & (n - 1)) == 0)
		return xreallocarray(arr, n * 2, item);
	return arr;
}

/* Append a zeroed item to arr, of n items; evaluates to the new item. */
#define APPEND(arr, n)                                                         \
	((arr) = grow_for((arr), (n), sizeof(*(arr))),                         \
	 memset(&(arr)[(n)], 0, sizeof(*(arr))), &(arr)[(n)++])

static void fill_revision(sqlite3_stmt *st, struct store_record *r)
{
	struct store_revision *v = APPEND(r->revisions, r->n_revisions);

	v->revision = (uint32_t)col_int(st, 0);
	v->agent = col_dup(st, 1);
	v->received_us = col_int(st, 2);
	v->severity = (enum bw_severity)col_int(st, 3);
	v->event_count = (uint64_t)col_int(st, 4);
	v->n_customers = (size_t)col_int(st, 5);
	v->quiet = col_int(st, 6) != 0;
}

static void fill_customer(sqlite3_stmt *st, struct store_record *r)
{
	struct store_customer *c = APPEND(r->customers, r->n_customers);

	c->id = col_dup(st, 0);
	c->first_revision = (uint32_t)col_int(st, 1);
}

static void fill_kind(sqlite3_stmt *st, struct store_record *r)
{
	struct store_data_kind *k = APPEND(r->data_kinds, r->n_data_kinds);

	k->kind = col_dup(st, 0);
	k->first_revision = (uint32_t)col_int(st, 1);
}

static void fill_evidence(sqlite3_stmt *st, struct store_record *r)
{
	struct store_evidence *e = APPEND(r->evidence, r->n_evidence);

	e->ts_us = col_int(st, 0);
	e->source = col_dup(st, 1);
	e->ref = col_dup(st, 2);
	e->excerpt = col_dup(st, 3);
	e->first_revision = (uint32_t)col_int(st, 4);
}

static void fill_step(sqlite3_stmt *st, struct store_record *r)
{
	struct store_step *p = APPEND(r->steps, r->n_steps);
	const unsigned char *origin = sqlite3_column_text(st, 0);

	p->manual =
	    origin != NULL && strcmp((const char *)origin, "manual") == 0;
	p->position = (uint32_t)col_int(st, 1);
	p->action = col_dup(st, 2);
	p->started_us = col_int(st, 3);
	p->finished_us = col_int(st, 4);
	p->status = col_dup(st, 5);
	p->detail = col_dup(st, 6);
	p->operator_name = col_dup(st, 7);
	p->revision = (uint32_t)col_int(st, 8);
	p->recorded_us = col_int(st, 9);
}

static void fill_change(sqlite3_stmt *st, struct store_record *r)
{
	struct store_state_change *c = APPEND(r->changes, r->n_changes);

	c->at_us = col_int(st, 0);
	c->milestone = col_dup(st, 1);
	c->before = col_state(st, 2);
	c->after = col_state(st, 3);
	c->actor = col_dup(st, 4);
	c->reason = col_dup(st, 5);
	c->revision = (uint32_t)col_int(st, 6);
}

static void fill_note(sqlite3_stmt *st, struct store_record *r)
{
	struct store_note *n = APPEND(r->notes, r->n_notes);

	n->at_us = col_int(st, 0);
	n->author = col_dup(st, 1);
	n->text = col_dup(st, 2);
}

static void fill_clock(sqlite3_stmt *st, struct store_record *r)
{
	struct store_clock_change *c = APPEND(r->clocks, r->n_clocks);

	c->at_us = col_int(st, 0);
	c->clock = col_dup(st, 1);
	c->old_us = col_int(st, 2);
	c->new_us = col_int(st, 3);
	c->actor = col_dup(st, 4);
	c->reason = col_dup(st, 5);
}

void store_int_read_notification(sqlite3_stmt *st,
				 struct store_notification *n)
{
	memset(n, 0, sizeof(*n));
	n->rowid = col_int(st, 0);
	n->kind = col_dup(st, 1);
	n->customer_id = col_dup(st, 2);
	n->version = (uint32_t)col_int(st, 3);
	n->reason = col_dup(st, 4);
	n->recipient = col_dup(st, 5);
	n->recipient_kind = col_dup(st, 6);
	n->state = col_dup(st, 7);
	n->detail = col_dup(st, 8);
	n->hold = col_dup(st, 22);
	n->severity = (enum bw_severity)col_int(st, 9);
	n->customers = (uint64_t)col_int(st, 10);
	n->attempts = (uint32_t)col_int(st, 11);
	n->next_attempt_us = col_int(st, 12);
	n->smtp_code = (int)col_int(st, 13);
	n->smtp_text = col_dup(st, 14);
	n->message_id = col_dup(st, 15);
	n->subject = col_dup(st, 16);
	n->created_us = col_int(st, 17);
	n->updated_us = col_int(st, 18);
	n->sent_us = col_int(st, 19);
	n->told_us = col_int(st, 20);
	n->incident_id = col_dup(st, 21);
}

void store_notification_clear(struct store_notification *n)
{
	free(n->kind);
	free(n->customer_id);
	free(n->reason);
	free(n->recipient);
	free(n->recipient_kind);
	free(n->state);
	free(n->detail);
	free(n->smtp_text);
	free(n->message_id);
	free(n->subject);
	free(n->incident_id);
	free(n->hold);
	memset(n, 0, sizeof(*n));
}

static void fill_notification(sqlite3_stmt *st, struct store_record *r)
{
	struct store_notification *n =
	    APPEND(r->notifications, r->n_notifications);

	store_int_read_notification(st, n);
}

static void fill_approval(sqlite3_stmt *st, struct store_record *r)
{
	struct store_approval *a = APPEND(r->approvals, r->n_approvals);

	a->at_us = col_int(st, 0);
	a->operator_name = col_dup(st, 1);
	a->reason = col_dup(st, 2);
	a->released = (uint64_t)col_int(st, 3);
	a->decision = col_dup(st, 4);
	a->customers = (uint64_t)col_int(st, 5);
	a->rowid = col_int(st, 6);
}

/* The parts of a record, each read by one statement bound to the id. */
static const struct {
	enum stmt stmt;
	void (*fill)(sqlite3_stmt *st, struct store_record *r);
	const char *what;
} record_parts[] = {
    {S_GET_REVS, fill_revision, "read revisions"},
    {S_GET_CUSTS, fill_customer, "read customers"},
    {S_GET_KINDS, fill_kind, "read data kinds"},
    {S_GET_EVID, fill_evidence, "read evidence"},
    {S_GET_STEPS, fill_step, "read containment steps"},
    {S_GET_CHANGES, fill_change, "read state changes"},
    {S_GET_NOTES, fill_note, "read notes"},
    {S_GET_CLOCKS, fill_clock, "read clock changes"},
    {S_GET_NOTIFS, fill_notification, "read notifications"},
    {S_GET_APPROVALS, fill_approval, "read approvals"},
};

int store_has_incident(struct store *s, const char *id, struct bw_error *err)
{
	struct cur c;

	return load_cur(s, id, &c, err);
}

/* The parts store_get_facts() reads. */
static bool is_fact_part(enum stmt st)
{
	return st == S_GET_REVS || st == S_GET_KINDS || st == S_GET_STEPS;
}

static struct store_record *get_record(struct store *s, const char *id,
				       bool facts_only, struct bw_error *err)
{
	struct store_record *r = xcalloc(1, sizeof(*r));
	sqlite3_stmt *st;
	int64_t n_audit = 0;
	size_t i;
	int rc;

	/* One read transaction: the parts agree with each other. */
	if (run(s, use(s, S_BEGIN_READ), "begin", err) < 0) {
		free(r);
		return NULL;
	}
	st = use(s, S_INC_GET);
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		done(st);
		bw_error_set(err, NULL, 0, "no incident %s", id);
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		db_fail(s, "read incident", err);
		done(st);
		goto fail;
	}
	read_incident(st, &r->inc);
	done(st);
	for (i = 0; i < sizeof(record_parts) / sizeof(record_parts[0]); i++) {
		if (facts_only && !is_fact_part(record_parts[i].stmt))
			continue;
		st = use(s, record_parts[i].stmt);
		bind_text(st, 1, id);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			record_parts[i].fill(st, r);
		if (rc != SQLITE_DONE) {
			db_fail(s, record_parts[i].what, err);
			done(st);
			goto fail;
		}
		done(st);
	}
	if (!facts_only) {
		st = use(s, S_AUDIT_COUNT);
		bind_text(st, 1, id);
		if (run_int(s, st, "count audit entries", &n_audit, err) < 0)
			goto fail;
		r->n_audit = (uint64_t)n_audit;
	}
	tx_rollback(s);
	return r;

fail:
	tx_rollback(s);
	store_record_destroy(&r);
	return NULL;
}

struct store_record *store_get(struct store *s, const char *id,
			       struct bw_error *err)
{
	return get_record(s, id, false, err);
}

struct store_record *store_get_facts(struct store *s, const char *id,
				     struct bw_error *err)
{
	return get_record(s, id, true, err);
}

void store_record_destroy(struct store_record **rp)
{
	struct store_record *r;
	size_t i;

	if (rp == NULL || *rp == NULL)
		return;
	r = *rp;
	free_incident(&r->inc);
	for (i = 0; i < r->n_revisions; i++)
		free(r->revisions[i].agent);
	free(r->revisions);
	for (i = 0; i < r->n_customers; i++)
		free(r->customers[i].id);
	free(r->customers);
	for (i = 0; i < r->n_data_kinds; i++)
		free(r->data_kinds[i].kind);
	free(r->data_kinds);
	for (i = 0; i < r->n_evidence; i++) {
		free(r->evidence[i].source);
		free(r->evidence[i].ref);
		free(r->evidence[i].excerpt);
	}
	free(r->evidence);
	for (i = 0; i < r->n_steps; i++) {
		free(r->steps[i].action);
		free(r->steps[i].status);
		free(r->steps[i].detail);
		free(r->steps[i].operator_name);
	}
	free(r->steps);
	for (i = 0; i < r->n_changes; i++) {
		free(r->changes[i].milestone);
		free(r->changes[i].actor);
		free(r->changes[i].reason);
	}
	free(r->changes);
	for (i = 0; i < r->n_notes; i++) {
		free(r->notes[i].author);
		free(r->notes[i].text);
	}
	free(r->notes);
	for (i = 0; i < r->n_clocks; i++) {
		free(r->clocks[i].clock);
		free(r->clocks[i].actor);
		free(r->clocks[i].reason);
	}
	free(r->clocks);
	for (i = 0; i < r->n_notifications; i++)
		store_notification_clear(&r->notifications[i]);
	free(r->notifications);
	for (i = 0; i < r->n_approvals; i++) {
		free(r->approvals[i].operator_name);
		free(r->approvals[i].reason);
		free(r->approvals[i].decision);
	}
	free(r->approvals);
	free(r);
	*rp = NULL;
}

int64_t store_record_received(const struct store_record *r, uint32_t rev)
{
	for (size_t i = 0; i < r->n_revisions; i++)
		if (r->revisions[i].revision == rev)
			return r->revisions[i].received_us;
	return r->inc.detected_us;
}

char *store_revision_json(struct store *s, const char *id, uint32_t revision,
			  struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_REV_JSON);
	char *json = NULL;
	int rc;

	bind_text(st, 1, id);
	bind_int(st, 2, revision);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		json = col_dup(st, 0);
	else if (rc == SQLITE_DONE)
		bw_error_set(err, NULL, 0, "no revision %" PRIu32
			     " of incident %s", revision, id);
	else
		db_fail(s, "read revision", err);
	done(st);
	if (json == NULL && rc == SQLITE_ROW)
		bw_error_set(err, NULL, 0, "revision %" PRIu32
			     " of incident %s has no JSON", revision, id);
	return json;
}

/*
 * Verify.
 */

/* Keep the earliest fault: the lowest entry number, an entry number
 * winning over a row without one (seq 0). */
static void fault(struct store_verify *out, int64_t seq, const char *fmt, ...)
	BW_PRINTF(3, 4);

static void fault(struct store_verify *out, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (!out->ok) {
		if (seq == 0)
			return;
		if (out->first_bad != 0 && out->first_bad <= seq)
			return;
	}
	out->ok = false;
	out->first_bad = seq;
	va_start(ap, fmt);
	vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
	va_end(ap);
}

/* Walk the chain from seq 1. */
static int verify_chain(struct store *s, struct store_verify *out,
			struct bw_error *err)
{
	sqlite3_stmt *st = use(s, S_AUDIT_ALL);
	unsigned char prev[HASH_LEN], stored_prev[HASH_LEN], hash[HASH_LEN];
	unsigned char want[HASH_LEN];
	struct entry e;
	bool broken = false;
	int rc;

	memset(prev, 0, sizeof(prev));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 9);

		e.seq = col_int(st, 0);
		out->entries++;
		/* The head is the last entry, good or not. */
		snprintf(out->head, sizeof(out->head), "%s",
			 h != NULL ? (const char *)h : "");
		if (broken)
			continue;
		if (e.seq != out->entries) {
			fault(out, out->entries,
			      "audit entry %" PRId64 " is missing (the next "
			      "entry is %" PRId64 ")",
			      out->entries, e.seq);
			broken = true;
			continue;
		}
		e.at_us = col_int(st, 1);
		e.actor = (const char *)sqlite3_column_text(st, 2);
		e.action = (const char *)sqlite3_column_text(st, 3);
		e.incident_id = (const char *)sqlite3_column_text(st, 4);
		e.object = (const char *)sqlite3_column_text(st, 5);
		e.object_id = col_int(st, 6);
		if (from_hex(sqlite3_column_text(st, 7),
			     sqlite3_column_bytes(st, 7), e.digest) < 0 ||
		    from_hex(sqlite3_column_text(st, 8),
			     sqlite3_column_bytes(st, 8), stored_prev) < 0 ||
		    from_hex(sqlite3_column_text(st, 9),
			     sqlite3_column_bytes(st, 9), hash) < 0) {
			fault(out, e.seq,
			      "audit entry %" PRId64 " has a malformed hash",
			      e.seq);
			broken = true;
			continue;
		}
		if (memcmp(stored_prev, prev, HASH_LEN) != 0) {
			fault(out, e.seq,
			      "audit entry %" PRId64 " does not follow entry "
			      "%" PRId64 " (its previous hash differs)",
			      e.seq, e.seq - 1);
			broken = true;
			continue;
		}
		entry_hash(prev, &e, want);
		if (memcmp(want, hash, HASH_LEN) != 0) {
			fault(out, e.seq,
			      "audit entry %" PRId64 " was altered (its hash "
			      "does not match its contents)",
			      e.seq);
			broken = true;
			continue;
		}
		memcpy(prev, hash, HASH_LEN);
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, "read the audit trail", err);
		done(st);
		return -1;
	}
	done(st);
	return 0;
}

/* Every row of table t against the latest entry about it. */
static int verify_rows(struct store *s, enum table t, struct store_verify *out,
		       struct bw_error *err)
{
	sqlite3_stmt *ids = NULL, *latest = s->st[S_AUDIT_LATEST];
	unsigned char have[HASH_LEN], want[HASH_LEN];
	char *sql;
	int rc;

	sql = xasprintf("SELECT rowid FROM %s ORDER BY rowid", tables[t].name);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &ids, NULL);
	free(sql);
	if (rc != SQLITE_OK)
		return db_fail(s, "list rows", err);
	while ((rc = sqlite3_step(ids)) == SQLITE_ROW) {
		int64_t rowid = col_int(ids, 0), seq = 0;
		int found;

		if (row_digest(s, t, rowid, have, err) < 0)
			goto fail;
		sqlite3_reset(latest);
		bind_text(latest, 1, tables[t].name);
		bind_int(latest, 2, rowid);
		found = sqlite3_step(latest);
		if (found == SQLITE_ROW) {
			seq = col_int(latest, 0);
			if (from_hex(sqlite3_column_text(latest, 1),
				     sqlite3_column_bytes(latest, 1),
				     want) < 0 ||
			    memcmp(have, want, HASH_LEN) != 0)
				fault(out, seq,
				      "%s row %" PRId64 " differs from audit "
				      "entry %" PRId64 ", the latest about it",
				      tables[t].name, rowid, seq);
		} else if (found == SQLITE_DONE) {
			fault(out, 0, "%s row %" PRId64 " has no audit entry",
			      tables[t].name, rowid);
		} else {
			db_fail(s, "look up audit entry", err);
			done(latest);
			goto fail;
		}
		done(latest);
	}
	if (rc != SQLITE_DONE) {
		db_fail(s, "list rows", err);
		goto fail;
	}
	sqlite3_finalize(ids);
	return 0;

fail:
	sqlite3_finalize(ids);
	return -1;
}

/* Entries about rows that are gone, and about unknown tables. */
static int verify_gone(struct store *s, struct store_verify *out,
		       struct bw_error *err)
{
	struct bw_buf sql;
	sqlite3_stmt *st = NULL;
	size_t t;
	int rc;

	bw_buf_init(&sql, 1 << 16);
	for (t = 0; t < N_TABLES; t++) {
		/* Names from the static table; nothing from outside. */
		if (bw_buf_printf(&sql,
				  "SELECT seq, object, object_id FROM audit a"
				  " WHERE object = '%s' AND NOT EXISTS"
				  " (SELECT 1 FROM %s WHERE rowid = a.object_id)"
				  " UNION ALL ",
				  tables[t].name, tables[t].name) < 0)
			abort();
	}
	if (bw_buf_addstr(&sql, "SELECT seq, object, object_id FROM audit"
				" WHERE object NOT IN (") < 0)
		abort();
	for (t = 0; t < N_TABLES; t++) {
		if (bw_buf_printf(&sql, "%s'%s'", t > 0 ? ", " : "",
				  tables[t].name) < 0)
			abort();
	}
	if (bw_buf_addstr(&sql, ") ORDER BY 1 LIMIT 1") < 0)
		abort();
	rc = sqlite3_prepare_v2(s->db, sql.data, -1, &st, NULL);
	bw_buf_free(&sql);
	if (rc != SQLITE_OK)
		return db_fail(s, "look for lost rows", err);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		fault(out, col_int(st, 0),
		      "audit entry %" PRId64 " records %s row %" PRId64
		      ", which is gone",
		      col_int(st, 0), sqlite3_column_text(st, 1),
		      col_int(st, 2));
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(s, "look for lost rows", err);
	return 0;
}

int store_verify_chain(struct store *s, struct store_verify *out,
		       struct bw_error *err)
{
	size_t t;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	if (run(s, use(s, S_BEGIN_READ), "begin", err) < 0)
		return -1;
	if (verify_chain(s, out, err) < 0)
		goto fail;
	for (t = 0; t < N_TABLES; t++) {
		if (verify_rows(s, (enum table)t, out, err) < 0)
			goto fail;
	}
	if (verify_gone(s, out, err) < 0)
		goto fail;
	tx_rollback(s);
	return 0;

fail:
	tx_rollback(s);
	return -1;
}

/*
 * For the other writers of the record (store_int.h).
 */

sqlite3_stmt *store_int_stmt(struct store *s, unsigned slot, const char *sql,
			     struct bw_error *err)
{
	if (slot >= STORE_INT_MAX_STMTS) {
		bw_error_set(err, NULL, 0, "store: statement slot %u", slot);
		return NULL;
	}
	if (s->ext[slot] == NULL &&
	    sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &s->ext[slot], NULL) != SQLITE_OK) {
		db_fail(s, sql, err);
		return NULL;
	}
	sqlite3_reset(s->ext[slot]);
	sqlite3_clear_bindings(s->ext[slot]);
	return s->ext[slot];
}

void store_int_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	bind_text(st, i, v);
}

void store_int_bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	bind_int(st, i, v);
}

void store_int_bind_time_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	bind_time_or_null(st, i, v);
}

int store_int_fail(struct store *s, const char *what, struct bw_error *err)
{
	return db_fail(s, what, err);
}

int store_int_begin(struct store *s, struct bw_error *err)
{
	return tx_begin(s, err);
}

int store_int_begin_relaxed(struct store *s, struct bw_error *err)
{
	if (exec_sql(s, "PRAGMA synchronous = NORMAL", "synchronous", err) < 0)
		return -1;
	s->relaxed = true;
	if (tx_begin(s, err) < 0) {
		store_int_rollback(s);
		return -1;
	}
	return 0;
}

/* Back to synchronous=FULL after a relaxed transaction. */
static void unrelax(struct store *s)
{
	struct bw_error e;

	if (!s->relaxed)
		return;
	s->relaxed = false;
	/* cannot fail outside a transaction; if it did, the next writer of
	 * the revisions would find out */
	(void)exec_sql(s, "PRAGMA synchronous = FULL", "synchronous", &e);
}

int store_int_commit(struct store *s, struct bw_error *err)
{
	int rc = tx_commit(s, err);

	unrelax(s);
	return rc;
}

void store_int_rollback(struct store *s)
{
	tx_rollback(s);
	unrelax(s);
}

int store_int_run(struct store *s, sqlite3_stmt *st, const char *what,
		  struct bw_error *err)
{
	return run(s, st, what, err);
}

int store_int_run_int(struct store *s, sqlite3_stmt *st, const char *what,
		      int64_t *out, struct bw_error *err)
{
	return run_int(s, st, what, out, err);
}

int64_t store_int_last_rowid(struct store *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

int store_int_audit(struct store *s, const struct store_who *w, enum table t,
		    int64_t rowid, const char *action, struct bw_error *err)
{
	return audit(s, w, t, rowid, action, err);
}

int store_int_check_str(const char *what, const char *v, size_t max,
			bool multiline, struct bw_error *err)
{
	return check_str(what, v, max, multiline, err);
}
