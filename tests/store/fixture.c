/*
 * fixture.c - see fixture.h.
 */
#include "fixture.h"

#include <check.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

/*
 * Fixtures: a store in a fresh directory, raw SQL beside it.
 */

char dir[64];
char path[128];

void fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bw-store-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/record.db", dir);
}

void remove_dir(void)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
}

struct store *open_ok(void)
{
	struct bw_error err = {0};
	struct store *s = store_open(path, &err);

	ck_assert_msg(s != NULL, "store_open: %s", err.msg);
	return s;
}

void raw_exec(const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK,
		      "%s: %s", sql, msg);
	sqlite3_close(db);
}

int64_t raw_int(const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int64_t v;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
		      "%s: %s", sql, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

struct bw_incident *make(const char *id, uint32_t revision)
{
	struct bw_incident *inc = bw_incident_new();

	inc->id = xstrdup(id);
	inc->revision = revision;
	inc->rule = xstrdup("bulk-contacts");
	inc->category = xstrdup("bulk-read");
	inc->severity = BW_SEV_HIGH;
	inc->title = xstrdup("One principal read many contact lists");
	inc->summary = xstrdup("alice read 3 lists from 203.0.113.9");
	inc->first_seen_us = T0;
	inc->last_seen_us = T0 + revision * 10 * SEC;
	inc->host = xstrdup("db1");
	bw_incident_set_actor(inc, "ip", "203.0.113.9");
	bw_incident_set_actor(inc, "user", "alice");
	inc->event_count = 25 * revision;
	inc->notify_customers = true;
	return inc;
}

void put(struct store *s, const struct bw_incident *inc,
		int64_t received_us, bool want_inserted)
{
	struct bw_error err = {0};
	bool inserted = !want_inserted;

	ck_assert_msg(store_put_revision(s, inc, "agent-db1", received_us,
					 &inserted, &err) == 0,
		      "put: %s", err.msg);
	ck_assert_int_eq(inserted, want_inserted);
}

struct store_record *get(struct store *s, const char *id)
{
	struct bw_error err = {0};
	struct store_record *r = store_get(s, id, &err);

	ck_assert_msg(r != NULL, "get: %s", err.msg);
	return r;
}

void verify_ok(struct store *s, int64_t *entries)
{
	struct bw_error err = {0};
	struct store_verify v;

	ck_assert_msg(store_verify_chain(s, &v, &err) == 0, "%s", err.msg);
	ck_assert_msg(v.ok, "verify: %s (entry %" PRId64 ")", v.reason,
		      v.first_bad);
	ck_assert_int_eq(v.first_bad, 0);
	ck_assert_uint_eq(strlen(v.head), 64);
	if (entries != NULL)
		*entries = v.entries;
}

struct bw_incident *full_sample(void)
{
	struct bw_incident *inc = make("bw-0123456789abcdef", 1);

	bw_incident_add_customer(inc, "c42");
	bw_incident_add_customer(inc, "c7");
	inc->affected_unknown = true;
	inc->credentials = true;
	inc->evidence_omitted = 23;
	bw_incident_add_data_kind(inc, "contact_list");
	bw_incident_add_data_kind(inc, "account");
	bw_incident_add_evidence(inc, T0, "nginx",
				 "/var/log/nginx/access.log:12",
				 "GET /api/c42/contacts?token=****");
	bw_incident_add_evidence(inc, T0 + SEC, "postgres", "pg.log:7",
				 "SELECT * FROM contacts WHERE owner='c7'");
	bw_incident_add_step(inc, "block-ip", T0 + 2 * SEC, 0, "running", "");
	return inc;
}

/* A store with every kind of audited row. Ends with a note (an insert). */
void populate(void)
{
	struct bw_incident *a = full_sample(), *b = full_sample();
	struct bw_error err = {0};
	struct store *s = open_ok();

	put(s, a, T0 + 10 * SEC, true);
	b->revision = 2;
	bw_incident_add_customer(b, "c99");
	free(b->steps[0].status);
	b->steps[0].status = xstrdup("ok");
	b->steps[0].finished_us = T0 + 3 * SEC;
	put(s, b, T0 + 20 * SEC, true);
	ck_assert_int_eq(store_add_manual_step(s, a->id, "erin", "locked",
					       T0 + HOUR, &err),
			 0);
	ck_assert_int_eq(store_set_aware(s, a->id, T0, "erin", "first line",
					 T0 + HOUR, &err),
			 0);
	ck_assert_int_eq(store_close_incident(s, a->id, "frank", "fixed",
					      T0 + 2 * HOUR, &err),
			 0);
	ck_assert_int_eq(store_add_note(s, a->id, "frank", "filed with the DPA",
					T0 + 3 * HOUR, &err),
			 0);
	verify_ok(s, NULL);
	store_close(&s);
	bw_incident_destroy(&a);
	bw_incident_destroy(&b);
}

