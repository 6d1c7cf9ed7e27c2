/*
 * test_store.c - the breach record (notifier/store.c) on real SQLite files:
 * create, migrate (from version 1, and from 3 with an approval kept
 * through the rebuild of its table) and refuse; revisions read back field
 * by field; idempotency and out-of-order arrival; customers, steps, state
 * changes, clocks; the audit chain and tampering made directly with SQL.
 */
#include <check.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bwtime.h"
#include "incident.h"
#include "outbox.h"
#include "store.h"
#include "xmalloc.h"
#include "check_main.h"
#include "fixture.h"

/*
 * Open, create, migrate, refuse.
 */

START_TEST(test_create)
{
	struct store *s;
	struct stat st;
	int64_t entries;

	fresh_dir();
	s = open_ok();
	ck_assert_int_eq(store_version(s), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* One audited entry per migration step. */
	verify_ok(s, &entries);
	ck_assert_int_eq(entries, STORE_SCHEMA_VERSION);
	store_close(&s);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int("PRAGMA application_id"), 0x42577374);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM schema_migrations"),
			 STORE_SCHEMA_VERSION);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM pragma_journal_mode"
				 " WHERE journal_mode = 'wal'"),
			 1);
	/* Reopening an up-to-date store migrates nothing. */
	s = open_ok();
	verify_ok(s, &entries);
	ck_assert_int_eq(entries, STORE_SCHEMA_VERSION);
	store_close(&s);
	remove_dir();
}
END_TEST

START_TEST(test_one_owner)
{
	struct bw_error err = {0};
	struct store *s, *t;

	fresh_dir();
	s = open_ok();
	t = store_open(path, &err);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err.msg, "in use") != NULL, "%s", err.msg);
	store_close(&s);
	t = open_ok(); /* free again once closed */
	store_close(&t);
	remove_dir();
}
END_TEST

START_TEST(test_future_version_refused)
{
	struct bw_error err = {0};
	struct store *s;
	char sql[128];

	fresh_dir();
	s = open_ok();
	store_close(&s);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 STORE_SCHEMA_VERSION + 1);
	raw_exec(sql);
	s = store_open(path, &err);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err.msg, "newer") != NULL, "%s", err.msg);
	/* Refused without touching it. */
	ck_assert_int_eq(raw_int("PRAGMA user_version"),
			 STORE_SCHEMA_VERSION + 1);
	remove_dir();
}
END_TEST

START_TEST(test_foreign_database_refused)
{
	struct bw_error err = {0};
	struct store *s;

	fresh_dir();
	raw_exec("CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT)");
	s = store_open(path, &err);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err.msg, "not a breachwatch store") != NULL, "%s",
		      err.msg);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM sqlite_schema"), 1);
	remove_dir();

	fresh_dir();
	raw_exec("PRAGMA application_id = 1234; CREATE TABLE t (x)");
	raw_exec("PRAGMA user_version = 1");
	s = store_open(path, &err);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err.msg, "not a breachwatch store") != NULL, "%s",
		      err.msg);
	remove_dir();
}
END_TEST

/*
 * A store at version 1, as the first release wrote it, built here from
 * the schema of that release and docs/breach-record.md's audit encoding
 * (written again here, independently of store.c).
 */
static const char SCHEMA_V1[] =
    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL, applied_us INTEGER NOT NULL);"
    "CREATE TABLE incidents (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL UNIQUE,"
    " revision INTEGER NOT NULL CHECK (revision >= 1),"
    " rule TEXT NOT NULL, category TEXT NOT NULL,"
    " severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),"
    " title TEXT NOT NULL, summary TEXT, host TEXT NOT NULL,"
    " actor TEXT NOT NULL, first_seen_us INTEGER NOT NULL,"
    " last_seen_us INTEGER NOT NULL, event_count INTEGER NOT NULL,"
    " evidence_omitted INTEGER NOT NULL,"
    " affected_unknown INTEGER NOT NULL,"
    " notify_customers INTEGER NOT NULL, credentials INTEGER NOT NULL,"
    " quiet INTEGER NOT NULL, state TEXT NOT NULL"
    "  CHECK (state IN ('detected','contained','notified','closed')),"
    " detected_us INTEGER NOT NULL, aware_us INTEGER NOT NULL,"
    " contained_us INTEGER, notified_us INTEGER, closed_us INTEGER,"
    " closed_by TEXT, resolution TEXT);"
    "CREATE TABLE revisions (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " revision INTEGER NOT NULL CHECK (revision >= 1),"
    " agent TEXT NOT NULL, received_us INTEGER NOT NULL,"
    " severity INTEGER NOT NULL, event_count INTEGER NOT NULL,"
    " n_customers INTEGER NOT NULL, quiet INTEGER NOT NULL,"
    " json TEXT NOT NULL, UNIQUE (incident_id, revision));"
    "CREATE TABLE customers (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " customer_id TEXT NOT NULL, first_revision INTEGER NOT NULL,"
    " UNIQUE (incident_id, customer_id));"
    "CREATE TABLE data_kinds (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " kind TEXT NOT NULL, first_revision INTEGER NOT NULL,"
    " UNIQUE (incident_id, kind));"
    "CREATE TABLE evidence (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " ts_us INTEGER NOT NULL, source TEXT NOT NULL, ref TEXT NOT NULL,"
    " excerpt TEXT NOT NULL, first_revision INTEGER NOT NULL,"
    " UNIQUE (incident_id, ts_us, source, ref, excerpt));"
    "CREATE TABLE steps (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " origin TEXT NOT NULL CHECK (origin IN ('agent','manual')),"
    " position INTEGER, action TEXT NOT NULL, started_us INTEGER,"
    " finished_us INTEGER, status TEXT NOT NULL, detail TEXT NOT NULL,"
    " operator TEXT, revision INTEGER, recorded_us INTEGER NOT NULL,"
    " CHECK ((origin = 'agent') = (position IS NOT NULL)),"
    " UNIQUE (incident_id, position));"
    "CREATE TABLE state_changes (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL, milestone TEXT NOT NULL CHECK (milestone IN"
    "  ('detected','contained','notified','closed','reopened')),"
    " state_before TEXT, state_after TEXT NOT NULL, actor TEXT NOT NULL,"
    " reason TEXT NOT NULL, revision INTEGER);"
    "CREATE INDEX state_changes_incident ON state_changes(incident_id);"
    "CREATE TABLE notes (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX notes_incident ON notes(incident_id);"
    "CREATE TABLE audit (seq INTEGER PRIMARY KEY, at_us INTEGER NOT NULL,"
    " actor TEXT NOT NULL, action TEXT NOT NULL, incident_id TEXT,"
    " object TEXT NOT NULL, object_id INTEGER NOT NULL,"
    " digest TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_object ON audit(object, object_id, seq);"
    "CREATE INDEX audit_incident ON audit(incident_id);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "PRAGMA application_id = 1113027444;"; /* "BWst" */

static void be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void h_int(crypto_hash_sha256_state *h, int64_t v)
{
	unsigned char b[9] = {'I'};

	be64(b + 1, (uint64_t)v);
	crypto_hash_sha256_update(h, b, 9);
}

static void h_text(crypto_hash_sha256_state *h, char tag, const void *p,
		   size_t n)
{
	unsigned char b[9] = {(unsigned char)tag};

	be64(b + 1, n);
	crypto_hash_sha256_update(h, b, 9);
	crypto_hash_sha256_update(h, p, n);
}

/* The documented row digest: table name, then each non-NULL column by
 * name and value. The fixture only has integers and text. */
static void doc_row_digest(sqlite3 *db, const char *table, int64_t rowid,
			   unsigned char out[32])
{
	crypto_hash_sha256_state h;
	sqlite3_stmt *st = NULL;
	char sql[128];
	int i;

	snprintf(sql, sizeof(sql), "SELECT * FROM %s WHERE rowid = %" PRId64,
		 table, rowid);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	crypto_hash_sha256_init(&h);
	h_text(&h, 'T', table, strlen(table));
	for (i = 0; i < sqlite3_column_count(st); i++) {
		const char *name = sqlite3_column_name(st, i);

		if (sqlite3_column_type(st, i) == SQLITE_NULL)
			continue;
		h_text(&h, 'T', name, strlen(name));
		if (sqlite3_column_type(st, i) == SQLITE_INTEGER)
			h_int(&h, sqlite3_column_int64(st, i));
		else
			h_text(&h, 'T', sqlite3_column_text(st, i),
			       (size_t)sqlite3_column_bytes(st, i));
	}
	crypto_hash_sha256_final(&h, out);
	sqlite3_finalize(st);
}

/* Append the documented audit entry for a row. */
static void doc_audit(sqlite3 *db, int64_t seq, const char *action,
		      const char *incident, const char *table, int64_t rowid,
		      unsigned char prev[32])
{
	static const char domain[] = "breachwatch audit v1";
	crypto_hash_sha256_state h;
	unsigned char digest[32], hash[32];
	char dh[65], ph[65], hh[65], sql[640];
	unsigned char n = 'N';

	doc_row_digest(db, table, rowid, digest);
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, prev, 32);
	h_text(&h, 'T', domain, strlen(domain));
	h_int(&h, seq);
	h_int(&h, T0);
	h_text(&h, 'T', "breachwatch-notifier", 20);
	h_text(&h, 'T', action, strlen(action));
	if (incident != NULL)
		h_text(&h, 'T', incident, strlen(incident));
	else
		crypto_hash_sha256_update(&h, &n, 1);
	h_text(&h, 'T', table, strlen(table));
	h_int(&h, rowid);
	h_text(&h, 'B', digest, 32);
	crypto_hash_sha256_final(&h, hash);
	sodium_bin2hex(dh, sizeof(dh), digest, 32);
	sodium_bin2hex(ph, sizeof(ph), prev, 32);
	sodium_bin2hex(hh, sizeof(hh), hash, 32);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO audit VALUES (%" PRId64 ", %" PRId64
		 ", 'breachwatch-notifier', '%s', %s%s%s, '%s', %" PRId64
		 ", '%s', '%s', '%s')",
		 seq, T0, action, incident ? "'" : "",
		 incident ? incident : "NULL", incident ? "'" : "", table, rowid,
		 dh, ph, hh);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	memcpy(prev, hash, 32);
}

/* A store at version 1 in a fresh directory, on db: the migration, the
 * incident bw-old and its customer c9, audit entries 1-3. */
static void build_v1(sqlite3 **db, unsigned char prev[32])
{
	char sql[1024];

	ck_assert_int_ge(sodium_init(), 0);
	fresh_dir();
	ck_assert_int_eq(sqlite3_open(path, db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(*db, SCHEMA_V1, NULL, NULL, NULL),
			 SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO schema_migrations VALUES (1, 'the breach "
		 "record', %" PRId64 ");"
		 "INSERT INTO incidents (id, incident_id, revision, rule,"
		 " category, severity, title, summary, host, actor,"
		 " first_seen_us, last_seen_us, event_count, evidence_omitted,"
		 " affected_unknown, notify_customers, credentials, quiet,"
		 " state, detected_us, aware_us) VALUES (1, 'bw-old', 1,"
		 " 'ssh-brute', 'credential-stuffing', 3, 'Old incident', NULL,"
		 " 'mx1', '{\"ip\":\"198.51.100.7\"}', %" PRId64 ", %" PRId64
		 ", 40, 0, 1, 0, 1, 0, 'detected', %" PRId64 ", %" PRId64 ");"
		 "INSERT INTO customers VALUES (1, 'bw-old', 'c9', 1);",
		 T0, T0 - HOUR, T0 - 1, T0, T0);
	ck_assert_int_eq(sqlite3_exec(*db, sql, NULL, NULL, NULL), SQLITE_OK);
	doc_audit(*db, 1, "migrate", NULL, "schema_migrations", 1, prev);
	doc_audit(*db, 2, "create", "bw-old", "incidents", 1, prev);
	doc_audit(*db, 3, "add", "bw-old", "customers", 1, prev);
	ck_assert_int_eq(
	    sqlite3_exec(*db, "PRAGMA user_version = 1", NULL, NULL, NULL),
	    SQLITE_OK);
}

START_TEST(test_migrate_from_v1)
{
	struct bw_error err = {0};
	unsigned char prev[32] = {0};
	struct store_record *r;
	struct store *s;
	sqlite3 *db = NULL;
	int64_t entries;

	build_v1(&db, prev);
	sqlite3_close(db);

	s = open_ok();
	ck_assert_int_eq(store_version(s), STORE_SCHEMA_VERSION);
	/* The old rows, audited by the v1 chain, still verify after the
	 * new column and tables; migration 2 is entry 4, 3 is entry 5. */
	verify_ok(s, &entries);
	ck_assert_int_eq(entries, 3 + STORE_SCHEMA_VERSION - 1);
	r = get(s, "bw-old");
	ck_assert_str_eq(r->inc.title, "Old incident");
	ck_assert_ptr_null(r->inc.aware_reason);
	ck_assert_int_eq(r->inc.aware_us, T0);
	ck_assert_uint_eq(r->inc.n_customers, 1);
	ck_assert_str_eq(r->customers[0].id, "c9");
	ck_assert_uint_eq(r->inc.n_actor, 1);
	ck_assert_str_eq(r->inc.actor[0].value, "198.51.100.7");
	store_record_destroy(&r);
	/* What version 2 added works on the migrated store. */
	ck_assert_msg(store_set_aware(s, "bw-old", T0 - HOUR, "erin",
				      "the host's owner saw it first", T0 + SEC,
				      &err) == 0,
		      "%s", err.msg);
	verify_ok(s, NULL);
	store_close(&s);
	ck_assert_int_eq(raw_int("PRAGMA user_version"), STORE_SCHEMA_VERSION);
	ck_assert_int_eq(
	    raw_int("SELECT COUNT(*) FROM audit WHERE object = "
		    "'schema_migrations' AND object_id = 2 AND seq = 4"),
	    1);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM clock_changes"), 1);
	remove_dir();
}
END_TEST

/*
 * A store at version 3, as release 3 left it (the tables migrations 2 and
 * 3 added, as far as this test needs them: approvals as it was, with its
 * CHECK allowing 'approve' only), with an approval recorded and audited:
 * migration 4 must keep the row, and its digest, while it makes the table
 * again.
 */
static const char SCHEMA_V2_V3[] =
    "ALTER TABLE incidents ADD COLUMN aware_reason TEXT;"
    "CREATE TABLE clock_changes (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL, clock TEXT NOT NULL CHECK (clock IN"
    " ('aware')), old_us INTEGER NOT NULL, new_us INTEGER NOT NULL,"
    " actor TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE TABLE notifications (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " kind TEXT NOT NULL, customer_row INTEGER REFERENCES customers(id),"
    " customer_id TEXT, version INTEGER NOT NULL, reason TEXT NOT NULL,"
    " recipient TEXT, recipient_kind TEXT, state TEXT NOT NULL, hold TEXT,"
    " detail TEXT, severity INTEGER NOT NULL, customers INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL, next_attempt_us INTEGER,"
    " smtp_code INTEGER, smtp_text TEXT, message_id TEXT UNIQUE,"
    " subject TEXT, created_us INTEGER NOT NULL,"
    " updated_us INTEGER NOT NULL, sent_us INTEGER, team_told_us INTEGER,"
    " message TEXT);"
    "CREATE UNIQUE INDEX notifications_customer"
    " ON notifications(customer_row, version)"
    " WHERE kind = 'customer_notice';"
    "CREATE TABLE approvals (id INTEGER PRIMARY KEY,"
    " incident_id TEXT NOT NULL REFERENCES incidents(incident_id),"
    " at_us INTEGER NOT NULL, operator TEXT NOT NULL,"
    " decision TEXT NOT NULL CHECK (decision IN ('approve')),"
    " reason TEXT, released INTEGER NOT NULL);"
    "CREATE INDEX approvals_incident ON approvals(incident_id);"
    "CREATE TRIGGER approvals_no_update BEFORE UPDATE ON approvals"
    " BEGIN SELECT RAISE(ABORT, 'approvals are append-only'); END;"
    "CREATE TRIGGER approvals_no_delete BEFORE DELETE ON approvals"
    " BEGIN SELECT RAISE(ABORT, 'the breach record keeps everything'); END;"
    "INSERT INTO schema_migrations VALUES (2, 'awareness', 1);"
    "INSERT INTO schema_migrations VALUES (3, 'the outbox', 1);"
    "INSERT INTO notifications (id, incident_id, kind, customer_row,"
    " customer_id, version, reason, recipient, recipient_kind, state,"
    " severity, customers, attempts, smtp_code, smtp_text, message_id,"
    " subject, created_us, updated_us, sent_us, message) VALUES (1,"
    " 'bw-old', 'customer_notice', 1, 'c9', 1, 'affected by the incident',"
    " 'c9@example.org', 'primary', 'sent', 3, 1, 1, 250, '250 ok',"
    " '<c9.1@example.com>', 'Notice of Data Breach', 5, 6, 6, 'To: x');"
    "INSERT INTO approvals VALUES (1, 'bw-old', 4, 'erin', 'approve',"
    " 'checked with legal', 1);"
    "PRAGMA user_version = 3;";

START_TEST(test_migrate_from_v3)
{
	struct bw_error err = {0};
	unsigned char prev[32] = {0};
	struct outbox_decision_req d = {
	    .decision = OUTBOX_NOTIFY,
	    .operator_name = "frank",
	    .reason = "the customers must know",
	};
	struct outbox_decided done;
	struct store_record *r;
	struct store *s;
	sqlite3 *db = NULL;
	int64_t entries;

	build_v1(&db, prev);
	ck_assert_int_eq(sqlite3_exec(db, SCHEMA_V2_V3, NULL, NULL, NULL),
			 SQLITE_OK);
	doc_audit(db, 4, "migrate", NULL, "schema_migrations", 2, prev);
	doc_audit(db, 5, "migrate", NULL, "schema_migrations", 3, prev);
	doc_audit(db, 6, "add", "bw-old", "notifications", 1, prev);
	doc_audit(db, 7, "add", "bw-old", "approvals", 1, prev);
	sqlite3_close(db);

	s = open_ok();
	ck_assert_int_eq(store_version(s), STORE_SCHEMA_VERSION);
	/* the approval made again in the new table, its digest unchanged:
	 * the old chain verifies, migration 4 is entry 8 */
	verify_ok(s, &entries);
	ck_assert_int_eq(entries, 7 + STORE_SCHEMA_VERSION - 3);
	r = get(s, "bw-old");
	ck_assert_uint_eq(r->n_approvals, 1);
	ck_assert_str_eq(r->approvals[0].decision, "approve");
	ck_assert_str_eq(r->approvals[0].operator_name, "erin");
	ck_assert_str_eq(r->approvals[0].reason, "checked with legal");
	ck_assert_uint_eq(r->approvals[0].released, 1);
	ck_assert_int_eq(r->approvals[0].at_us, 4);
	ck_assert(!r->inc.notify_decided);
	ck_assert_uint_eq(r->n_notifications, 1);
	store_record_destroy(&r);
	/* what version 4 allows: the decisions notify and update */
	ck_assert_msg(outbox_decide(s, "bw-old", &d, NULL, 0, "x", T0 + SEC,
				    &done, &err) == 0,
		      "%s", err.msg);
	d.decision = OUTBOX_UPDATE;
	d.reason = "more is known";
	ck_assert_msg(outbox_decide(s, "bw-old", &d, NULL, 0, "x",
				    T0 + 2 * SEC, &done, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(done.upto_row, 1);
	r = get(s, "bw-old");
	ck_assert(r->inc.notify_decided);
	ck_assert_uint_eq(r->n_approvals, 3);
	ck_assert_str_eq(r->approvals[1].decision, "notify");
	ck_assert_str_eq(r->approvals[2].decision, "update");
	store_record_destroy(&r);
	verify_ok(s, NULL);
	store_close(&s);
	/* still append-only, and named as before */
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM sqlite_schema WHERE"
				 " name IN ('approvals_no_update',"
				 " 'approvals_no_delete', 'approvals_incident',"
				 " 'approvals')"),
			 4);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM sqlite_schema WHERE"
				 " name = 'approvals_v4'"),
			 0);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM audit WHERE object = "
				 "'schema_migrations' AND object_id = 4 AND "
				 "seq = 8"),
			 1);
	remove_dir();
}
END_TEST

/*
 * Revisions.
 */

START_TEST(test_put_read_back)
{
	struct bw_incident *inc = full_sample(), *back;
	struct bw_error err = {0};
	struct store_record *r;
	struct store *s;
	char *json, *want;
	int64_t recv = T0 + 5 * SEC;

	fresh_dir();
	s = open_ok();
	put(s, inc, recv, true);
	r = get(s, inc->id);

	ck_assert_str_eq(r->inc.id, "bw-0123456789abcdef");
	ck_assert_uint_eq(r->inc.revision, 1);
	ck_assert_uint_eq(r->inc.n_revisions, 1);
	ck_assert_str_eq(r->inc.rule, "bulk-contacts");
	ck_assert_str_eq(r->inc.category, "bulk-read");
	ck_assert_int_eq(r->inc.severity, BW_SEV_HIGH);
	ck_assert_str_eq(r->inc.title, inc->title);
	ck_assert_str_eq(r->inc.summary, inc->summary);
	ck_assert_str_eq(r->inc.host, "db1");
	ck_assert_uint_eq(r->inc.n_actor, 2);
	ck_assert_str_eq(r->inc.actor[0].key, "ip");
	ck_assert_str_eq(r->inc.actor[0].value, "203.0.113.9");
	ck_assert_str_eq(r->inc.actor[1].key, "user");
	ck_assert_str_eq(r->inc.actor[1].value, "alice");
	ck_assert_int_eq(r->inc.first_seen_us, T0);
	ck_assert_int_eq(r->inc.last_seen_us, T0 + 10 * SEC);
	ck_assert_uint_eq(r->inc.event_count, 25);
	ck_assert_uint_eq(r->inc.evidence_omitted, 23);
	ck_assert_uint_eq(r->inc.n_customers, 2);
	ck_assert(r->inc.affected_unknown);
	ck_assert(r->inc.notify_customers);
	ck_assert(r->inc.credentials);
	ck_assert(!r->inc.quiet);
	ck_assert_int_eq(r->inc.state, STORE_DETECTED);
	ck_assert_int_eq(r->inc.detected_us, recv);
	ck_assert_int_eq(r->inc.aware_us, recv);
	ck_assert_int_eq(r->inc.deadline_us, recv + 72 * HOUR);
	ck_assert_int_eq(r->inc.contained_us, 0);
	ck_assert_int_eq(r->inc.closed_us, 0);
	ck_assert_ptr_null(r->inc.closed_by);

	ck_assert_uint_eq(r->n_revisions, 1);
	ck_assert_uint_eq(r->revisions[0].revision, 1);
	ck_assert_str_eq(r->revisions[0].agent, "agent-db1");
	ck_assert_int_eq(r->revisions[0].received_us, recv);
	ck_assert_int_eq(r->revisions[0].severity, BW_SEV_HIGH);
	ck_assert_uint_eq(r->revisions[0].event_count, 25);
	ck_assert_uint_eq(r->revisions[0].n_customers, 2);

	ck_assert_uint_eq(r->n_customers, 2);
	ck_assert_str_eq(r->customers[0].id, "c42");
	ck_assert_str_eq(r->customers[1].id, "c7");
	ck_assert_uint_eq(r->customers[1].first_revision, 1);
	ck_assert_uint_eq(r->n_data_kinds, 2);
	ck_assert_str_eq(r->data_kinds[0].kind, "contact_list");
	ck_assert_str_eq(r->data_kinds[1].kind, "account");
	ck_assert_uint_eq(r->n_evidence, 2);
	ck_assert_int_eq(r->evidence[0].ts_us, T0);
	ck_assert_str_eq(r->evidence[0].source, "nginx");
	ck_assert_str_eq(r->evidence[0].ref, "/var/log/nginx/access.log:12");
	ck_assert_str_eq(r->evidence[0].excerpt,
			 "GET /api/c42/contacts?token=****");
	ck_assert_str_eq(r->evidence[1].source, "postgres");
	ck_assert_uint_eq(r->n_steps, 1);
	ck_assert(!r->steps[0].manual);
	ck_assert_str_eq(r->steps[0].action, "block-ip");
	ck_assert_int_eq(r->steps[0].started_us, T0 + 2 * SEC);
	ck_assert_int_eq(r->steps[0].finished_us, 0);
	ck_assert_str_eq(r->steps[0].status, "running");
	ck_assert_ptr_null(r->steps[0].operator_name);
	ck_assert_uint_eq(r->steps[0].revision, 1);
	ck_assert_int_eq(r->steps[0].recorded_us, recv);

	ck_assert_uint_eq(r->n_changes, 1);
	ck_assert_str_eq(r->changes[0].milestone, "detected");
	ck_assert_int_eq(r->changes[0].before, 0);
	ck_assert_int_eq(r->changes[0].after, STORE_DETECTED);
	ck_assert_str_eq(r->changes[0].actor, "agent-db1");
	ck_assert_int_eq(r->changes[0].at_us, recv);
	ck_assert_uint_eq(r->changes[0].revision, 1);
	ck_assert_ptr_nonnull(strstr(r->changes[0].reason, "bulk-contacts"));
	ck_assert_uint_gt(r->n_audit, 8);
	store_record_destroy(&r);
	ck_assert_ptr_null(r);

	/* The revision is kept as JSON that decodes to what was put. */
	json = store_revision_json(s, inc->id, 1, &err);
	ck_assert_msg(json != NULL, "%s", err.msg);
	want = bw_incident_to_json(inc);
	ck_assert_str_eq(json, want);
	back = bw_incident_from_json(json, strlen(json), &err);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(back->customers[1], "c7");
	ck_assert_ptr_null(store_revision_json(s, inc->id, 2, &err));
	ck_assert_ptr_null(store_get(s, "bw-nope", &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "no incident"));
	verify_ok(s, NULL);
	free(json);
	free(want);
	bw_incident_destroy(&back);
	bw_incident_destroy(&inc);
	store_close(&s);
	remove_dir();
}
END_TEST

START_TEST(test_idempotent)
{
	struct bw_incident *inc = full_sample();
	struct store_verify v1, v2;
	struct bw_error err = {0};
	struct store *s;

	fresh_dir();
	s = open_ok();
	put(s, inc, T0, true);
	ck_assert_int_eq(store_verify_chain(s, &v1, &err), 0);
	/* The same pair again, even with other contents and later. */
	put(s, inc, T0 + SEC, false);
	free(inc->title);
	inc->title = xstrdup("changed");
	put(s, inc, T0 + 2 * SEC, false);
	ck_assert_int_eq(store_verify_chain(s, &v2, &err), 0);
	ck_assert(v2.ok);
	ck_assert_int_eq(v2.entries, v1.entries);
	ck_assert_str_eq(v2.head, v1.head);
	store_close(&s);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM revisions"), 1);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM customers"), 2);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM state_changes"), 1);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM incidents WHERE "
				 "title = 'changed'"),
			 0);
	bw_incident_destroy(&inc);
	remove_dir();
}
END_TEST

/* Revisions 1..3, each adding a customer c<rev>, arriving 3, 1, 2. */
START_TEST(test_out_of_order)
{
	struct bw_incident *inc[4] = {NULL};
	struct store_record *r;
	struct store *s;
	uint32_t i, j;

	for (i = 1; i <= 3; i++) {
		inc[i] = make("bw-ooo", i);
		for (j = 1; j <= i; j++) {
			char c[8];

			snprintf(c, sizeof(c), "c%" PRIu32, j);
			bw_incident_add_customer(inc[i], c);
		}
		inc[i]->severity = (enum bw_severity)i;
		free(inc[i]->title);
		inc[i]->title = xasprintf("title %" PRIu32, i);
	}
	fresh_dir();
	s = open_ok();
	put(s, inc[3], T0 + 3 * SEC, true);
	put(s, inc[1], T0 + 4 * SEC, true);
	r = get(s, "bw-ooo");
	ck_assert_uint_eq(r->inc.revision, 3);
	ck_assert_str_eq(r->inc.title, "title 3");
	/* Until revision 1 came, revision 3 was the first naming c1. */
	ck_assert_uint_eq(r->n_customers, 3);
	store_record_destroy(&r);
	put(s, inc[2], T0 + 5 * SEC, true);
	put(s, inc[2], T0 + 6 * SEC, false);

	r = get(s, "bw-ooo");
	/* All kept; the current state follows the highest revision. */
	ck_assert_uint_eq(r->n_revisions, 3);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(r->revisions[i].revision, i + 1);
	ck_assert_int_eq(r->revisions[0].received_us, T0 + 4 * SEC);
	ck_assert_uint_eq(r->inc.revision, 3);
	ck_assert_str_eq(r->inc.title, "title 3");
	ck_assert_int_eq(r->inc.severity, 3);
	ck_assert_int_eq(r->inc.last_seen_us, T0 + 30 * SEC);
	ck_assert_uint_eq(r->inc.event_count, 75);
	/* Detected when the first revision (3) arrived. */
	ck_assert_int_eq(r->inc.detected_us, T0 + 3 * SEC);
	/* Each customer with the revision that first named them. */
	ck_assert_uint_eq(r->n_customers, 3);
	for (i = 0; i < 3; i++) {
		char c[8];

		snprintf(c, sizeof(c), "c%" PRIu32, i + 1);
		ck_assert_str_eq(r->customers[i].id, c);
		ck_assert_uint_eq(r->customers[i].first_revision, i + 1);
	}
	ck_assert_uint_eq(r->n_changes, 1);
	store_record_destroy(&r);
	verify_ok(s, NULL);
	store_close(&s);
	for (i = 1; i <= 3; i++)
		bw_incident_destroy(&inc[i]);
	remove_dir();
}
END_TEST

START_TEST(test_customers_accumulate)
{
	struct bw_incident *a = make("bw-acc", 1), *b = make("bw-acc", 2);
	struct bw_incident *c = make("bw-acc", 3);
	struct store_record *r;
	struct store *s;

	bw_incident_add_customer(a, "alice");
	bw_incident_add_customer(a, "bob");
	bw_incident_add_customer(b, "alice");
	bw_incident_add_customer(b, "bob");
	bw_incident_add_customer(b, "carol");
	/* An agent restarted may send a revision without the old ones. */
	bw_incident_add_customer(c, "dave");
	bw_incident_add_customer(c, "bob");
	bw_incident_add_data_kind(a, "contact_list");
	bw_incident_add_data_kind(c, "message");
	fresh_dir();
	s = open_ok();
	put(s, a, T0, true);
	put(s, b, T0 + SEC, true);
	put(s, c, T0 + 2 * SEC, true);
	r = get(s, "bw-acc");
	ck_assert_uint_eq(r->inc.n_customers, 4);
	ck_assert_uint_eq(r->n_customers, 4);
	ck_assert_str_eq(r->customers[0].id, "alice");
	ck_assert_uint_eq(r->customers[0].first_revision, 1);
	ck_assert_str_eq(r->customers[1].id, "bob");
	ck_assert_uint_eq(r->customers[1].first_revision, 1);
	ck_assert_str_eq(r->customers[2].id, "carol");
	ck_assert_uint_eq(r->customers[2].first_revision, 2);
	ck_assert_str_eq(r->customers[3].id, "dave");
	ck_assert_uint_eq(r->customers[3].first_revision, 3);
	ck_assert_uint_eq(r->n_data_kinds, 2);
	ck_assert_str_eq(r->data_kinds[1].kind, "message");
	ck_assert_uint_eq(r->data_kinds[1].first_revision, 3);
	ck_assert_uint_eq(r->revisions[2].n_customers, 2);
	store_record_destroy(&r);
	verify_ok(s, NULL);
	store_close(&s);
	bw_incident_destroy(&a);
	bw_incident_destroy(&b);
	bw_incident_destroy(&c);
	remove_dir();
}
END_TEST

START_TEST(test_agent_steps)
{
	struct bw_incident *a = make("bw-steps", 1), *b = make("bw-steps", 2);
	struct store_record *r;
	struct store *s;

	bw_incident_add_step(a, "block-ip", T0 + SEC, 0, "running", "");
	bw_incident_add_step(b, "block-ip", T0 + SEC, T0 + 2 * SEC, "ok",
			     "exit 0");
	bw_incident_add_step(b, "revoke-key", T0 + 3 * SEC, T0 + 4 * SEC,
			     "failed", "HTTP 500");
	fresh_dir();
	s = open_ok();
	put(s, b, T0 + 20 * SEC, true);
	/* The older revision, late, does not undo the newer values. */
	put(s, a, T0 + 21 * SEC, true);
	r = get(s, "bw-steps");
	ck_assert_uint_eq(r->n_steps, 2);
	ck_assert_str_eq(r->steps[0].action, "block-ip");
	ck_assert_str_eq(r->steps[0].status, "ok");
	ck_assert_int_eq(r->steps[0].finished_us, T0 + 2 * SEC);
	ck_assert_str_eq(r->steps[0].detail, "exit 0");
	ck_assert_uint_eq(r->steps[0].revision, 2);
	ck_assert_str_eq(r->steps[1].status, "failed");
	ck_assert_uint_eq(r->steps[1].position, 1);
	/* A step that succeeded contains the incident. */
	ck_assert_int_eq(r->inc.state, STORE_CONTAINED);
	ck_assert_int_eq(r->inc.contained_us, T0 + 20 * SEC);
	ck_assert_uint_eq(r->n_changes, 2);
	ck_assert_str_eq(r->changes[1].milestone, "contained");
	ck_assert_str_eq(r->changes[1].actor, "agent-db1");
	ck_assert_ptr_nonnull(strstr(r->changes[1].reason, "block-ip"));
	store_record_destroy(&r);
	store_close(&s);
	bw_incident_destroy(&a);
	bw_incident_destroy(&b);
	remove_dir();

	/* In order: running, then ok, updates the one step. */
	a = make("bw-steps", 1);
	b = make("bw-steps", 2);
	bw_incident_add_step(a, "block-ip", T0 + SEC, 0, "running", "");
	bw_incident_add_step(b, "block-ip", T0 + SEC, T0 + 2 * SEC, "ok",
			     "exit 0");
	fresh_dir();
	s = open_ok();
	put(s, a, T0 + 10 * SEC, true);
	r = get(s, "bw-steps");
	ck_assert_int_eq(r->inc.state, STORE_DETECTED);
	store_record_destroy(&r);
	put(s, b, T0 + 20 * SEC, true);
	r = get(s, "bw-steps");
	ck_assert_uint_eq(r->n_steps, 1);
	ck_assert_str_eq(r->steps[0].status, "ok");
	ck_assert_int_eq(r->steps[0].recorded_us, T0 + 10 * SEC);
	ck_assert_int_eq(r->inc.state, STORE_CONTAINED);
	store_record_destroy(&r);
	verify_ok(s, NULL);
	store_close(&s);
	bw_incident_destroy(&a);
	bw_incident_destroy(&b);
	remove_dir();
}
END_TEST

START_TEST(test_manual_close_reopen)
{
	struct bw_incident *a = make("bw-man", 1), *b = make("bw-man", 2);
	struct bw_incident *q;
	struct bw_error err = {0};
	struct store_record *r;
	struct store *s;

	fresh_dir();
	s = open_ok();
	put(s, a, T0, true);
	ck_assert_msg(store_add_manual_step(s, "bw-man", "erin",
					    "locked alice's account",
					    T0 + HOUR, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(store_add_manual_step(s, "bw-none", "erin", "x",
					       T0 + HOUR, &err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no incident"));
	ck_assert_int_eq(store_add_manual_step(s, "bw-man", "", "x",
					       T0 + HOUR, &err),
			 -1);
	ck_assert_int_eq(store_add_manual_step(s, "bw-man", "er\nin", "x",
					       T0 + HOUR, &err),
			 -1);
	ck_assert_int_eq(store_add_manual_step(s, "bw-man", "erin", "\xff",
					       T0 + HOUR, &err),
			 -1);
	ck_assert_msg(store_mark_notified(s, "bw-man", "mailer",
					  "team alerted, 2 customers told",
					  T0 + 2 * HOUR, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(store_mark_notified(s, "bw-man", "mailer", "again",
					     T0 + 3 * HOUR, &err),
			 0);
	ck_assert_msg(store_add_note(s, "bw-man", "frank",
				     "Checked with the DPO:\nreport filed.",
				     T0 + 4 * HOUR, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(store_close_incident(s, "bw-man", "frank",
					   "account locked, key rotated",
					   T0 + 5 * HOUR, &err) == 0,
		      "%s", err.msg);
	ck_assert_int_eq(store_close_incident(s, "bw-man", "frank", "again",
					      T0 + 6 * HOUR, &err),
			 -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "already closed"));

	r = get(s, "bw-man");
	ck_assert_uint_eq(r->n_steps, 1);
	ck_assert(r->steps[0].manual);
	ck_assert_str_eq(r->steps[0].operator_name, "erin");
	ck_assert_str_eq(r->steps[0].detail, "locked alice's account");
	ck_assert_int_eq(r->steps[0].started_us, T0 + HOUR);
	ck_assert_str_eq(r->steps[0].status, "ok");
	ck_assert_int_eq(r->inc.state, STORE_CLOSED);
	ck_assert_int_eq(r->inc.contained_us, T0 + HOUR);
	ck_assert_int_eq(r->inc.notified_us, T0 + 2 * HOUR);
	ck_assert_int_eq(r->inc.closed_us, T0 + 5 * HOUR);
	ck_assert_str_eq(r->inc.closed_by, "frank");
	ck_assert_str_eq(r->inc.resolution, "account locked, key rotated");
	ck_assert_uint_eq(r->n_changes, 4);
	ck_assert_str_eq(r->changes[1].milestone, "contained");
	ck_assert_str_eq(r->changes[1].actor, "erin");
	ck_assert_int_eq(r->changes[1].before, STORE_DETECTED);
	ck_assert_int_eq(r->changes[1].after, STORE_CONTAINED);
	ck_assert_str_eq(r->changes[2].milestone, "notified");
	ck_assert_int_eq(r->changes[2].after, STORE_NOTIFIED);
	ck_assert_str_eq(r->changes[3].milestone, "closed");
	ck_assert_str_eq(r->changes[3].actor, "frank");
	ck_assert_str_eq(r->changes[3].reason, "account locked, key rotated");
	ck_assert_int_eq(r->changes[3].before, STORE_NOTIFIED);
	ck_assert_int_eq(r->changes[3].at_us, T0 + 5 * HOUR);
	ck_assert_uint_eq(r->n_notes, 1);
	ck_assert_str_eq(r->notes[0].author, "frank");
	ck_assert_str_eq(r->notes[0].text,
			 "Checked with the DPO:\nreport filed.");
	store_record_destroy(&r);

	/* The agent's last revision (quiet, no new activity) does not
	 * reopen it; new activity does. */
	q = make("bw-man", 2);
	q->last_seen_us = a->last_seen_us;
	q->closed = true;
	put(s, q, T0 + 6 * HOUR, true);
	r = get(s, "bw-man");
	ck_assert_int_eq(r->inc.state, STORE_CLOSED);
	ck_assert(r->inc.quiet);
	store_record_destroy(&r);
	b->revision = 3;
	b->last_seen_us = T0 + 7 * HOUR;
	put(s, b, T0 + 7 * HOUR, true);
	r = get(s, "bw-man");
	ck_assert_int_eq(r->inc.state, STORE_NOTIFIED);
	ck_assert_int_eq(r->inc.closed_us, 0);
	ck_assert_ptr_null(r->inc.resolution);
	ck_assert_uint_eq(r->n_changes, 5);
	ck_assert_str_eq(r->changes[4].milestone, "reopened");
	ck_assert_int_eq(r->changes[4].before, STORE_CLOSED);
	ck_assert_int_eq(r->changes[4].after, STORE_NOTIFIED);
	store_record_destroy(&r);
	/* It can be closed again. */
	ck_assert_int_eq(store_close_incident(s, "bw-man", "frank",
					      "blocked for good",
					      T0 + 8 * HOUR, &err),
			 0);
	verify_ok(s, NULL);
	store_close(&s);
	bw_incident_destroy(&a);
	bw_incident_destroy(&b);
	bw_incident_destroy(&q);
	remove_dir();
}
END_TEST

/* A later run of the agent rebuilds a closed incident from lines it reads
 * again: its revisions are numbered above the first run's (agent/
 * aggregate.h) and may show less activity at first. They are stored,
 * customers accumulate, last_seen does not go back, and the incident is
 * reopened only by activity after the stored last_seen. */
START_TEST(test_later_run_rebuilds)
{
	struct bw_incident *a = make("bw-rerun", 65537);
	struct bw_incident *b = make("bw-rerun", 131073);
	struct bw_error err = {0};
	struct store_record *r;
	struct store *s;

	fresh_dir();
	s = open_ok();
	a->last_seen_us = T0 + HOUR;
	bw_incident_add_customer(a, "c1");
	bw_incident_add_customer(a, "c2");
	put(s, a, T0 + HOUR, true);
	ck_assert_msg(store_close_incident(s, "bw-rerun", "frank", "done",
					   T0 + 2 * HOUR, &err) == 0,
		      "%s", err.msg);
	/* The new run's first revision: only the first line read again. */
	b->last_seen_us = a->first_seen_us;
	bw_incident_add_customer(b, "c1");
	put(s, b, T0 + 3 * HOUR, true);
	/* Its second: the rest read again, nothing new in time. */
	b->revision = 131074;
	b->last_seen_us = T0 + HOUR;
	bw_incident_add_customer(b, "c2");
	put(s, b, T0 + 3 * HOUR, true);
	r = get(s, "bw-rerun");
	ck_assert_uint_eq(r->inc.revision, 131074);
	ck_assert_int_eq(r->inc.last_seen_us, T0 + HOUR);
	ck_assert_int_eq(r->inc.state, STORE_CLOSED);
	ck_assert_uint_eq(r->n_customers, 2);
	store_record_destroy(&r);
	/* Its third: a line after the close, and a customer only it saw. */
	b->revision = 131075;
	b->last_seen_us = T0 + 4 * HOUR;
	bw_incident_add_customer(b, "c3");
	put(s, b, T0 + 4 * HOUR, true);
	r = get(s, "bw-rerun");
	ck_assert_int_eq(r->inc.state, STORE_DETECTED);
	ck_assert_int_eq(r->inc.last_seen_us, T0 + 4 * HOUR);
	ck_assert_uint_eq(r->n_customers, 3);
	ck_assert_uint_eq(r->n_revisions, 4);
	ck_assert_str_eq(r->changes[r->n_changes - 1].milestone, "reopened");
	store_record_destroy(&r);
	verify_ok(s, NULL);
	store_close(&s);
	bw_incident_destroy(&a);
	bw_incident_destroy(&b);
	remove_dir();
}
END_TEST

START_TEST(test_deadline)
{
	struct bw_incident *a = make("bw-clock", 1), *b = make("bw-clock", 2);
	struct bw_error err = {0};
	struct store_record *r;
	struct store *s;
	int64_t recv = T0 + 90 * SEC;

	fresh_dir();
	s = open_ok();
	put(s, a, recv, true);
	put(s, b, recv + HOUR, true);
	r = get(s, "bw-clock");
	ck_assert_int_eq(r->inc.detected_us, recv);
	ck_assert_int_eq(r->inc.aware_us, recv);
	ck_assert_int_eq(r->inc.deadline_us, recv + 72 * HOUR);
	ck_assert_ptr_null(r->inc.aware_reason);
	store_record_destroy(&r);

	ck_assert_int_eq(store_set_aware(s, "bw-clock", recv - 2 * HOUR, "erin",
					 "", recv + 2 * HOUR, &err),
			 -1);
	ck_assert_msg(store_set_aware(s, "bw-clock", recv - 2 * HOUR, "erin",
				      "a customer reported it by phone",
				      recv + 2 * HOUR, &err) == 0,
		      "%s", err.msg);
	r = get(s, "bw-clock");
	ck_assert_int_eq(r->inc.detected_us, recv);
	ck_assert_int_eq(r->inc.aware_us, recv - 2 * HOUR);
	ck_assert_int_eq(r->inc.deadline_us, recv - 2 * HOUR + 72 * HOUR);
	ck_assert_str_eq(r->inc.aware_reason,
			 "a customer reported it by phone");
	ck_assert_uint_eq(r->n_clocks, 1);
	ck_assert_str_eq(r->clocks[0].clock, "aware");
	ck_assert_int_eq(r->clocks[0].old_us, recv);
	ck_assert_int_eq(r->clocks[0].new_us, recv - 2 * HOUR);
	ck_assert_str_eq(r->clocks[0].actor, "erin");
	ck_assert_int_eq(r->clocks[0].at_us, recv + 2 * HOUR);
	store_record_destroy(&r);
	verify_ok(s, NULL);
	store_close(&s);
	bw_incident_destroy(&a);
	bw_incident_destroy(&b);
	remove_dir();
}
END_TEST

struct seen {
	char ids[8][16];
	int n;
};

static int collect(const struct store_incident *row, void *arg)
{
	struct seen *seen = arg;

	snprintf(seen->ids[seen->n++], sizeof(seen->ids[0]), "%s", row->id);
	return seen->n == 8;
}

static void list(struct store *s, const struct store_filter *f,
		 struct seen *out, int64_t want)
{
	struct bw_error err = {0};

	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(store_list(s, f, collect, out, &err), want);
}

START_TEST(test_list)
{
	static const enum bw_severity sev[4] = {BW_SEV_LOW, BW_SEV_CRITICAL,
						BW_SEV_MEDIUM, BW_SEV_HIGH};
	struct store_filter f;
	struct bw_error err = {0};
	struct seen seen;
	struct store *s;
	int i;

	fresh_dir();
	s = open_ok();
	for (i = 0; i < 4; i++) {
		char id[16];
		struct bw_incident *inc;

		snprintf(id, sizeof(id), "bw-%d", i);
		inc = make(id, 1);
		inc->severity = sev[i];
		bw_incident_add_customer(inc, "c1");
		put(s, inc, T0 + i * HOUR, true);
		bw_incident_destroy(&inc);
	}
	ck_assert_int_eq(
	    store_close_incident(s, "bw-1", "frank", "done", T0 + 9 * HOUR, &err),
	    0);
	list(s, NULL, &seen, 4);
	ck_assert_str_eq(seen.ids[0], "bw-3"); /* newest first */
	ck_assert_str_eq(seen.ids[3], "bw-0");

	memset(&f, 0, sizeof(f));
	f.min_severity = BW_SEV_HIGH;
	list(s, &f, &seen, 2);
	ck_assert_str_eq(seen.ids[0], "bw-3");
	ck_assert_str_eq(seen.ids[1], "bw-1");

	memset(&f, 0, sizeof(f));
	f.state = STORE_CLOSED;
	list(s, &f, &seen, 1);
	ck_assert_str_eq(seen.ids[0], "bw-1");

	memset(&f, 0, sizeof(f));
	f.state = STORE_DETECTED;
	f.since_us = T0 + 2 * HOUR;
	list(s, &f, &seen, 2);
	ck_assert_str_eq(seen.ids[0], "bw-3");
	ck_assert_str_eq(seen.ids[1], "bw-2");

	memset(&f, 0, sizeof(f));
	f.limit = 1;
	list(s, &f, &seen, 1);
	ck_assert_str_eq(seen.ids[0], "bw-3");
	store_close(&s);
	remove_dir();
}
END_TEST

/*
 * The audit chain against edits made directly with SQL.
 */

struct tamper {
	const char *what;
	const char *expect; /* the entry verify must point at, read first */
	const char *edit;
};

#define LATEST(table, where)                                                   \
	"SELECT MAX(seq) FROM audit WHERE object = '" table "' AND object_id " \
	"= (SELECT rowid FROM " table " WHERE " where ")"

static const struct tamper tampers[] = {
    {"incident title", LATEST("incidents", "1"),
     "UPDATE incidents SET title = 'nothing happened'"},
    {"incident severity", LATEST("incidents", "1"),
     "UPDATE incidents SET severity = 1"},
    {"incident resolution removed", LATEST("incidents", "1"),
     "UPDATE incidents SET resolution = NULL"},
    {"revision json", LATEST("revisions", "revision = 1"),
     "DROP TRIGGER revisions_no_update;"
     "UPDATE revisions SET json = replace(json, 'c42', 'c43')"
     " WHERE revision = 1"},
    {"revision agent", LATEST("revisions", "revision = 2"),
     "DROP TRIGGER revisions_no_update;"
     "UPDATE revisions SET agent = 'agent-x' WHERE revision = 2"},
    {"customer id", LATEST("customers", "customer_id = 'c7'"),
     "UPDATE customers SET customer_id = 'c8' WHERE customer_id = 'c7'"},
    {"customer first revision", LATEST("customers", "customer_id = 'c99'"),
     "UPDATE customers SET first_revision = 1 WHERE customer_id = 'c99'"},
    {"customer deleted", LATEST("customers", "customer_id = 'c42'"),
     "DROP TRIGGER customers_no_delete;"
     "DELETE FROM customers WHERE customer_id = 'c42'"},
    {"data kind", LATEST("data_kinds", "kind = 'account'"),
     "UPDATE data_kinds SET kind = 'nothing' WHERE kind = 'account'"},
    {"evidence unmasked", LATEST("evidence", "source = 'nginx'"),
     "UPDATE evidence SET excerpt = replace(excerpt, '****', 's3cr3t')"},
    {"agent step status", LATEST("steps", "origin = 'agent'"),
     "UPDATE steps SET status = 'failed' WHERE origin = 'agent'"},
    {"manual step operator", LATEST("steps", "origin = 'manual'"),
     "UPDATE steps SET operator = 'mallory' WHERE origin = 'manual'"},
    {"state change reason", LATEST("state_changes", "milestone = 'closed'"),
     "DROP TRIGGER state_changes_no_update;"
     "UPDATE state_changes SET reason = 'nothing' WHERE milestone = "
     "'closed'"},
    {"state change time", LATEST("state_changes", "milestone = 'detected'"),
     "DROP TRIGGER state_changes_no_update;"
     "UPDATE state_changes SET at_us = at_us + 1 WHERE milestone = "
     "'detected'"},
    {"note text", LATEST("notes", "1"),
     "DROP TRIGGER notes_no_update; UPDATE notes SET text = 'nothing'"},
    {"clock change", LATEST("clock_changes", "1"),
     "DROP TRIGGER clock_changes_no_update;"
     "UPDATE clock_changes SET new_us = new_us + 3600000000"},
    {"migration name", LATEST("schema_migrations", "version = 1"),
     "DROP TRIGGER schema_migrations_no_update;"
     "UPDATE schema_migrations SET name = 'x' WHERE version = 1"},
    {"audit actor", "SELECT 5",
     "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'x' WHERE "
     "seq = 5"},
    {"audit digest", "SELECT 9",
     "DROP TRIGGER audit_no_update; UPDATE audit SET digest = (SELECT "
     "digest FROM audit WHERE seq = 8) WHERE seq = 9"},
    {"audit object id", "SELECT 7",
     "DROP TRIGGER audit_no_update; UPDATE audit SET object_id = 99 "
     "WHERE seq = 7"},
    {"audit entry removed", "SELECT 6",
     "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 6"},
    {"audit entries swapped", "SELECT 10",
     "DROP TRIGGER audit_no_update;"
     "UPDATE audit SET seq = -10 WHERE seq = 10;"
     "UPDATE audit SET seq = 10 WHERE seq = 11;"
     "UPDATE audit SET seq = 11 WHERE seq = -10"},
};

#define N_TAMPERS ((int)(sizeof(tampers) / sizeof(tampers[0])))

START_TEST(test_tamper_detected)
{
	const struct tamper *t = &tampers[_i];
	struct bw_error err = {0};
	struct store_verify v;
	struct store *s;
	int64_t expect;

	fresh_dir();
	populate();
	expect = raw_int(t->expect);
	ck_assert_int_gt(expect, 0);
	raw_exec(t->edit);
	s = open_ok();
	ck_assert_int_eq(store_verify_chain(s, &v, &err), 0);
	ck_assert_msg(!v.ok, "%s: not detected", t->what);
	ck_assert_msg(v.first_bad == expect,
		      "%s: verify points at entry %" PRId64 ", not %" PRId64
		      " (%s)",
		      t->what, v.first_bad, expect, v.reason);
	ck_assert(v.reason[0] != '\0');
	store_close(&s);
	remove_dir();
}
END_TEST

START_TEST(test_tamper_without_entry)
{
	struct bw_error err = {0};
	struct store_verify v;
	struct store *s;

	/* A row slipped in with no entry. */
	fresh_dir();
	populate();
	raw_exec("INSERT INTO notes (incident_id, at_us, author, text)"
		 " SELECT incident_id, 1, 'mallory', 'all fine' FROM incidents");
	s = open_ok();
	ck_assert_int_eq(store_verify_chain(s, &v, &err), 0);
	ck_assert(!v.ok);
	ck_assert_int_eq(v.first_bad, 0);
	ck_assert_ptr_nonnull(strstr(v.reason, "notes row"));
	store_close(&s);
	remove_dir();

	/* The last entry removed: the note it recorded has none now. */
	fresh_dir();
	populate();
	raw_exec("DROP TRIGGER audit_no_delete;"
		 "DELETE FROM audit WHERE seq = (SELECT MAX(seq) FROM audit)");
	s = open_ok();
	ck_assert_int_eq(store_verify_chain(s, &v, &err), 0);
	ck_assert(!v.ok);
	ck_assert_ptr_nonnull(strstr(v.reason, "notes row"));
	store_close(&s);
	remove_dir();
}
END_TEST

START_TEST(test_triggers_guard)
{
	sqlite3 *db = NULL;

	fresh_dir();
	populate();
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, "UPDATE audit SET actor = 'x'", NULL,
				      NULL, NULL),
			 SQLITE_OK);
	ck_assert_int_ne(
	    sqlite3_exec(db, "DELETE FROM customers", NULL, NULL, NULL),
	    SQLITE_OK);
	ck_assert_int_ne(sqlite3_exec(db, "UPDATE revisions SET agent = 'x'",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	remove_dir();
}
END_TEST

START_TEST(test_bad_incident)
{
	struct bw_incident *inc = make("bw-bad", 1);
	struct bw_error err = {0};
	struct store *s;
	bool inserted = true;

	fresh_dir();
	s = open_ok();
	inc->revision = 0;
	ck_assert_int_eq(store_put_revision(s, inc, "agent-db1", T0, &inserted,
					    &err),
			 -1);
	ck_assert(!inserted);
	inc->revision = 1;
	inc->severity = 9;
	ck_assert_int_eq(store_put_revision(s, inc, "agent-db1", T0, &inserted,
					    &err),
			 -1);
	inc->severity = BW_SEV_LOW;
	ck_assert_int_eq(
	    store_put_revision(s, inc, "", T0, &inserted, &err), -1);
	verify_ok(s, NULL);
	store_close(&s);
	ck_assert_int_eq(raw_int("SELECT COUNT(*) FROM incidents"), 0);
	bw_incident_destroy(&inc);
	remove_dir();
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("open");

	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_one_owner);
	tcase_add_test(tc, test_future_version_refused);
	tcase_add_test(tc, test_foreign_database_refused);
	tcase_add_test(tc, test_migrate_from_v1);
	tcase_add_test(tc, test_migrate_from_v3);
	suite_add_tcase(s, tc);

	tc = tcase_create("record");
	tcase_add_test(tc, test_put_read_back);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_out_of_order);
	tcase_add_test(tc, test_customers_accumulate);
	tcase_add_test(tc, test_agent_steps);
	tcase_add_test(tc, test_manual_close_reopen);
	tcase_add_test(tc, test_later_run_rebuilds);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_list);
	tcase_add_test(tc, test_bad_incident);
	suite_add_tcase(s, tc);

	tc = tcase_create("audit");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_tamper_detected, 0, N_TAMPERS);
	tcase_add_test(tc, test_tamper_without_entry);
	tcase_add_test(tc, test_triggers_guard);
	suite_add_tcase(s, tc);
	return s;
}
