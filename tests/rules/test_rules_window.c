/*
 * test_rules_window.c - thresholds (count, distinct, sum) sliding on event
 * time, sequences, continuation matches, expiry and the bounds; the key
 * state across its inline/heap boundaries (ring, distinct values,
 * customers, evidence, long keys), the key index under churn, and block
 * reuse; and the pools the state lives in (rules/pool.c).
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../rules/engine.h"
#include "../../rules/pool.h"
#include "rtest.h"
#include "check_main.h"

#define RULES(...) #__VA_ARGS__

static struct rt_log *new_log(void)
{
	return calloc(1, sizeof(struct rt_log));
}

static size_t http_at(struct rules *r, struct rt_log *log, int64_t t,
		      const char *ip, const char *path, int64_t bytes)
{
	struct bw_event ev;

	rt_http(&ev, t, ip, "GET", path, 200);
	ev.bytes_out = bytes;
	return rt_eval(r, &ev, log);
}

START_TEST(test_threshold_sliding)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "burst"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "path"; prefix = "/login"; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "60s"; min = 3; }; }
	);));
	struct rt_log *log = new_log();

	ck_assert_uint_eq(http_at(r, log, 1000, "192.0.2.1", "/login", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 1030, "192.0.2.1", "/login", 0), 0);
	/* Another key does not add up. */
	ck_assert_uint_eq(http_at(r, log, 1031, "192.0.2.2", "/login", 0), 0);
	/* 1000 has left the window at 1070: only two inside. */
	ck_assert_uint_eq(http_at(r, log, 1070, "192.0.2.1", "/login", 0), 0);
	/* 1030, 1070, 1080: three within 60 s. */
	ck_assert_uint_eq(http_at(r, log, 1080, "192.0.2.1", "/login", 0), 1);
	ck_assert(log->m[0].first);
	ck_assert_str_eq(log->m[0].key, "192.0.2.1");
	ck_assert_uint_eq(log->m[0].count, 4);
	ck_assert_uint_eq(log->m[0].n_prior, 3);
	/* Later events of the key: continuation matches. */
	ck_assert_uint_eq(http_at(r, log, 1100, "192.0.2.1", "/login", 0), 1);
	ck_assert(!log->m[1].first);
	ck_assert_uint_eq(log->m[1].count, 1);
	ck_assert_uint_eq(log->m[1].n_prior, 0);
	/* Quiet for longer than the window: the state is gone, it starts
	 * over. */
	ck_assert_uint_eq(http_at(r, log, 1161, "192.0.2.1", "/login", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 1162, "192.0.2.1", "/login", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 1163, "192.0.2.1", "/login", 0), 1);
	ck_assert(log->m[2].first);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_threshold_distinct)
{
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "scrape"; title = "t"; category = "c"; severity = "high";
		  summary = "${key} read ${count} requests";
		  kinds = ["http", "sql"];
		  match = ({ field = "data_kind"; equals = "contact_list"; });
		  aggregate = { type = "threshold"; key = ["src_ip"]; window = "10m";
				distinct = "customer"; min = 3; };
		  customers = "customer"; }
	);));
	struct rt_log *log = new_log();
	struct bw_event ev;

	ck_assert_uint_eq(http_at(r, log, 0, "192.0.2.1", "/api/v1/customers/c1/contacts", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 1, "192.0.2.1", "/api/v1/customers/c1/contacts", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 110, "192.0.2.1", "/api/v1/customers/c2/contacts", 0), 0);
	/* c1 (last seen at 1) has left the 10 minute window at 700. */
	ck_assert_uint_eq(http_at(r, log, 700, "192.0.2.1", "/api/v1/customers/c3/contacts", 0), 0);
	/* At 705: c2 (110), c3, c4 */
	ck_assert_uint_eq(http_at(r, log, 705, "192.0.2.1", "/api/v1/customers/c4/contacts", 0), 1);
	ck_assert(log->m[0].first);
	/* The customers gathered for the key, in the order first seen. */
	ck_assert_uint_eq(log->m[0].n_cust, 4);
	ck_assert_str_eq(log->m[0].cust[0], "c1");
	ck_assert_str_eq(log->m[0].cust[3], "c4");
	ck_assert_str_eq(log->m[0].dk[0], "contact_list");
	ck_assert_str_eq(log->m[0].summary, "192.0.2.1 read 5 requests");
	rules_destroy(&r);

	/* Every id of a multi-valued customer counts. */
	r = rt_engine(rtest_site, RULES(rules = (
		{ id = "scrape"; title = "t"; category = "c"; severity = "high";
		  kinds = ["sql"];
		  match = ({ field = "data_kind"; equals = "contact_list"; });
		  aggregate = { type = "threshold"; key = "principal"; window = "10m";
				distinct = "customer"; min = 3; };
		  customers = "customer"; }
	);));
	log->n = 0;
	rt_sql(&ev, 10, "app", "SELECT * FROM contacts WHERE customer_id IN ('a', 'b')");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_sql(&ev, 11, "app", "SELECT * FROM contacts WHERE customer_id IN ('b', 'c')");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 1);
	ck_assert_str_eq(log->m[0].key, "app");
	ck_assert_uint_eq(log->m[0].n_cust, 3);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_threshold_sum)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "exfil"; title = "t"; category = "c"; severity = "high";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1m";
				sum = "bytes_out"; min = 1000; }; }
	);));
	struct rt_log *log = new_log();

	ck_assert_uint_eq(http_at(r, log, 0, "192.0.2.1", "/a", 400), 0);
	ck_assert_uint_eq(http_at(r, log, 30, "192.0.2.1", "/a", 400), 0);
	ck_assert_uint_eq(http_at(r, log, 31, "192.0.2.1", "/a", -1), 0);
	/* 0 has left: 400 + 300 */
	ck_assert_uint_eq(http_at(r, log, 70, "192.0.2.1", "/a", 300), 0);
	/* 400 + 300 + 400 */
	ck_assert_uint_eq(http_at(r, log, 80, "192.0.2.1", "/a", 400), 1);
	ck_assert(log->m[0].first);
	free(log);
	rules_destroy(&r);
}
END_TEST

static const char *const seq_rules = RULES(rules = (
	{ id = "brute-then-in"; title = "t"; category = "c"; severity = "critical";
	  kinds = ["auth"];
	  aggregate = { type = "sequence"; key = "src_ip"; within = "10m";
			steps = ( { name = "failures"; min = 3;
				    match = ({ field = "outcome"; equals = "failure"; }); },
				  { name = "success";
				    match = ({ field = "outcome"; equals = "success"; }); } ); };
	  customers = "principal"; }
););

static size_t auth_at(struct rules *r, struct rt_log *log, int64_t t,
		      const char *ip, const char *user, const char *outcome)
{
	struct bw_event ev;

	rt_auth(&ev, t, ip, user, outcome);
	return rt_eval(r, &ev, log);
}

START_TEST(test_sequence_order_and_min)
{
	struct rules *r = rt_engine(NULL, seq_rules);
	struct rt_log *log = new_log();

	/* Success first: nothing (the sequence starts with failures). */
	ck_assert_uint_eq(auth_at(r, log, 0, "192.0.2.1", "c1", "success"), 0);
	ck_assert_uint_eq(auth_at(r, log, 1, "192.0.2.1", "c1", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 2, "192.0.2.1", "c2", "failure"), 0);
	/* Two failures are not enough. */
	ck_assert_uint_eq(auth_at(r, log, 3, "192.0.2.1", "c2", "success"), 0);
	ck_assert_uint_eq(auth_at(r, log, 4, "192.0.2.1", "c3", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 5, "192.0.2.1", "c3", "success"), 1);
	ck_assert(log->m[0].first);
	ck_assert_uint_eq(log->m[0].count, 4);
	/* Customers gathered over the sequence. */
	ck_assert_uint_eq(log->m[0].n_cust, 3);
	ck_assert_str_eq(log->m[0].cust[0], "c1");
	ck_assert_str_eq(log->m[0].cust[2], "c3");
	ck_assert_uint_eq(log->m[0].n_prior, 3);
	ck_assert_str_eq(log->m[0].prior_raw[0], "failure");
	/* Continuation: more successes feed the same key; failures do not. */
	ck_assert_uint_eq(auth_at(r, log, 6, "192.0.2.1", "c3", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 7, "192.0.2.1", "c4", "success"), 1);
	ck_assert(!log->m[1].first);
	ck_assert_uint_eq(log->m[1].n_cust, 1);
	ck_assert_str_eq(log->m[1].cust[0], "c4");
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_sequence_within)
{
	struct rules *r = rt_engine(NULL, seq_rules);
	struct rt_log *log = new_log();

	ck_assert_uint_eq(auth_at(r, log, 0, "192.0.2.1", "u", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 100, "192.0.2.1", "u", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 200, "192.0.2.1", "u", "failure"), 0);
	/* 601 s after the first step: too late, the key starts over. */
	ck_assert_uint_eq(auth_at(r, log, 601, "192.0.2.1", "u", "success"), 0);
	/* And the failures must be counted again. */
	ck_assert_uint_eq(auth_at(r, log, 602, "192.0.2.1", "u", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 603, "192.0.2.1", "u", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 604, "192.0.2.1", "u", "success"), 0);
	ck_assert_uint_eq(auth_at(r, log, 605, "192.0.2.1", "u", "failure"), 0);
	ck_assert_uint_eq(auth_at(r, log, 606, "192.0.2.1", "u", "success"), 1);
	/* A match within the time of a completed sequence continues it;
	 * after `within` without one it is over. */
	ck_assert_uint_eq(auth_at(r, log, 1000, "192.0.2.1", "u", "success"), 1);
	ck_assert(!log->m[1].first);
	ck_assert_uint_eq(auth_at(r, log, 1601, "192.0.2.1", "u", "success"), 0);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_sequence_steps_kinds)
{
	/* A login from outside, then a bulk read by the same principal. */
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "login-then-read"; title = "t"; category = "c"; severity = "high";
		  kinds = ["auth", "sql"];
		  aggregate = { type = "sequence"; key = "principal"; within = "1h";
				steps = ( { kinds = ["auth"];
					    match = ({ field = "outcome"; equals = "success"; },
						     { field = "src_ip"; in = "@trusted"; not = true; }); },
					  { kinds = ["sql"];
					    match = ({ field = "data_kind"; exists = true; }); } ); };
		  customers = "customer"; }
	);));
	struct rt_log *log = new_log();
	struct bw_event ev;

	rt_sql(&ev, 0, "dave", "SELECT * FROM contacts");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_auth(&ev, 10, "10.0.0.1", "dave", "success"); /* trusted */
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_sql(&ev, 20, "dave", "SELECT * FROM contacts");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_auth(&ev, 30, "203.0.113.1", "dave", "success");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_sql(&ev, 40, "eve", "SELECT * FROM contacts");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_sql(&ev, 50, "dave", "SELECT * FROM contacts");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 1);
	ck_assert_str_eq(log->m[0].key, "dave");
	ck_assert(log->m[0].unknown);
	ck_assert_str_eq(log->m[0].dk[0], "contact_list");
	free(log);
	rules_destroy(&r);
}
END_TEST

/* Two events of a key within an hour. */
static const char *const two_rules = RULES(rules = (
	{ id = "two"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  aggregate = { type = "threshold"; key = "src_ip"; window = "1h"; min = 2; }; }
););

START_TEST(test_max_keys_eviction)
{
	struct rules_limits lim = { .max_keys_per_rule = 2 };
	struct rules *r = rt_engine_lim(NULL, two_rules, &lim);
	struct rt_log *log = new_log();
	struct rules_stats st;

	ck_assert_uint_eq(http_at(r, log, 0, "192.0.2.1", "/", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 1, "192.0.2.2", "/", 0), 0);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(st.evictions, 0);
	/* A third key evicts the least recently seen (192.0.2.1). */
	ck_assert_uint_eq(http_at(r, log, 2, "192.0.2.3", "/", 0), 0);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 2);
	ck_assert_uint_eq(st.evictions, 1);
	/* 192.0.2.1 starts over; 192.0.2.2 kept its count. */
	ck_assert_uint_eq(http_at(r, log, 3, "192.0.2.1", "/", 0), 0);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.evictions, 2); /* evicted 192.0.2.2 */
	ck_assert_uint_eq(http_at(r, log, 4, "192.0.2.1", "/", 0), 1);
	/* Expiry by event time frees the keys. */
	rules_expire(r, 10000LL * 1000000);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 0);
	free(log);
	rules_destroy(&r);
}
END_TEST

/* A key moves to the front of the use list at most every eighth of the
 * window: eviction takes the key moved longest ago, and expiry still
 * finds every idle key, also one seen after it last moved. */
START_TEST(test_eviction_lazy_order)
{
	struct rules_limits lim = { .max_keys_per_rule = 2 };
	struct rules *r = rt_engine_lim(NULL, RULES(rules = (
		{ id = "two"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "src_ip"; window = "80s"; min = 3; }; }
	);), &lim);
	struct rt_log *log = new_log();
	struct rules_stats st;

	/* A at 0, B at 1; A again at 20 (moves: 20 s > 80 s / 8). */
	ck_assert_uint_eq(http_at(r, log, 0, "192.0.2.1", "/", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 1, "192.0.2.2", "/", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 20, "192.0.2.1", "/", 0), 0);
	/* C evicts B, the key moved longest ago; A kept its two events. */
	ck_assert_uint_eq(http_at(r, log, 21, "192.0.2.3", "/", 0), 0);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.evictions, 1);
	ck_assert_uint_eq(http_at(r, log, 22, "192.0.2.1", "/", 0), 1);
	ck_assert_str_eq(log->m[0].key, "192.0.2.1");

	/* C (moved at 21) seen at 25 without moving; at 103 it was moved
	 * longer than the window ago but seen within it: it stays, while A
	 * (last seen at 22) goes. */
	ck_assert_uint_eq(http_at(r, log, 25, "192.0.2.3", "/", 0), 0);
	rules_expire(r, 103 * 1000000LL);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 1);
	/* C kept its state: 25, 104 and 105 are three within 80 s (had it
	 * started over at 104, there would be two). */
	ck_assert_uint_eq(http_at(r, log, 104, "192.0.2.3", "/", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 105, "192.0.2.3", "/", 0), 1);
	/* Every key idle for the window is freed. */
	rules_expire(r, (105 + 81) * 1000000LL);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 0);
	free(log);
	rules_destroy(&r);
}
END_TEST

/* A distinct threshold copies as evidence only the events that brought a
 * new value: repeats of one value are not what makes the case. */
START_TEST(test_prior_distinct_new_values)
{
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "scrape"; title = "t"; category = "c"; severity = "high";
		  kinds = ["http"];
		  match = ({ field = "data_kind"; equals = "contact_list"; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "10m";
				distinct = "customer"; min = 3; };
		  customers = "customer"; }
	);));
	struct rt_log *log = new_log();

	ck_assert_uint_eq(http_at(r, log, 0, "192.0.2.1", "/api/v1/customers/c1/contacts", 0), 0);
	for (int i = 1; i <= 5; i++)
		ck_assert_uint_eq(http_at(r, log, i, "192.0.2.1", "/api/v1/customers/c1/contacts", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 10, "192.0.2.1", "/api/v1/customers/c2/contacts", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 11, "192.0.2.1", "/api/v1/customers/c2/contacts", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 12, "192.0.2.1", "/api/v1/customers/c3/contacts", 0), 1);
	ck_assert_uint_eq(log->m[0].n_prior, 2);
	ck_assert_str_eq(log->m[0].prior_raw[0], "/api/v1/customers/c1/contacts");
	ck_assert_str_eq(log->m[0].prior_raw[1], "/api/v1/customers/c2/contacts");
	ck_assert_uint_eq(log->m[0].count, 9);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_prior_bound)
{
	struct rules_limits lim = { .max_prior = 2 };
	struct rules *r = rt_engine_lim(NULL, RULES(rules = (
		{ id = "five"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1h"; min = 5; }; }
	);), &lim);
	struct rt_log *log = new_log();
	char path[32];

	for (int i = 1; i <= 5; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		ck_assert_uint_eq(http_at(r, log, i, "192.0.2.1", path, 0),
				  i == 5 ? 1 : 0);
	}
	ck_assert_uint_eq(log->m[0].n_prior, 2);
	ck_assert_str_eq(log->m[0].prior_raw[0], "/p3");
	ck_assert_str_eq(log->m[0].prior_raw[1], "/p4");
	ck_assert_uint_eq(log->m[0].count, 5);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_customer_bound)
{
	struct rules_limits lim = { .max_customers_per_key = 2 };
	struct rules *r = rt_engine_lim(rtest_site, RULES(rules = (
		{ id = "many"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "customer"; exists = true; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1h";
				distinct = "customer"; min = 3; };
		  customers = "customer"; }
	);), &lim);
	struct rt_log *log = new_log();
	struct rules_stats st;

	ck_assert_uint_eq(http_at(r, log, 1, "192.0.2.1", "/api/v1/customers/a/contacts", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 2, "192.0.2.1", "/api/v1/customers/b/contacts", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 3, "192.0.2.1", "/api/v1/customers/c/contacts", 0), 1);
	ck_assert_uint_eq(log->m[0].n_cust, 2);
	ck_assert(log->m[0].unknown); /* more were touched than kept */
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.bound_drops, 1);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_key_absent)
{
	/* An event without any key field does not count. */
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "by-user"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "principal"; window = "1h"; min = 2; }; }
	);));
	struct rt_log *log = new_log();
	struct rules_stats st;

	ck_assert_uint_eq(http_at(r, log, 1, "192.0.2.1", "/", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 2, "192.0.2.1", "/", 0), 0);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 0);
	free(log);
	rules_destroy(&r);
}
END_TEST


/* End a test: the engine and the log go. */
static void finish(struct rules **r, struct rt_log *log)
{
	free(log);
	rules_destroy(r);
}

/* Distinct values: the first few are kept in the key's block, more move
 * to a table; values leave the window by their last time either way. */
START_TEST(test_distinct_inline_and_spill)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "d3"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "path"; prefix = "/s/"; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "60s";
				distinct = "path"; min = 3; }; },
		{ id = "d7"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "path"; prefix = "/v"; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "60s";
				distinct = "path"; min = 7; }; }
	);));
	static const struct {
		int64_t t;
		const char *path;
	} seven[] = {
		{ 0, "/v1" },  { 20, "/v2" }, { 40, "/v3" }, { 50, "/v4" },
		{ 55, "/v5" }, { 58, "/v1" }, { 65, "/v6" }, { 82, "/v7" },
		{ 83, "/v7" }, { 83, "/v2" },
	};
	struct rt_log *log = new_log();

	/* Few values: a has left the window at 61, seen again it counts. */
	ck_assert_uint_eq(http_at(r, log, 0, "192.0.2.1", "/s/a", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 30, "192.0.2.1", "/s/b", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 61, "192.0.2.1", "/s/c", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 62, "192.0.2.1", "/s/a", 0), 1);
	ck_assert_str_eq(log->m[0].rule, "d3");
	ck_assert_uint_eq(log->m[0].count, 4);

	/* Seven: past the block's room. v1 seen again does not count twice;
	 * v2 (20) has left at 82, and counts again at 83. */
	log->n = 0;
	for (size_t i = 0; i < sizeof(seven) / sizeof(seven[0]); i++)
		ck_assert_uint_eq(http_at(r, log, seven[i].t, "192.0.2.2",
					  seven[i].path, 0),
				  i == 9 ? 1 : 0);
	ck_assert_str_eq(log->m[0].rule, "d7");
	ck_assert_uint_eq(log->m[0].count, 10);
	finish(&r, log);
}
END_TEST

/* Count: the first ring entries are in the key's block, then on the heap;
 * at the bound the two oldest merge and leave with the later time. */
START_TEST(test_ring_inline_spill_merge)
{
	const char *text = RULES(rules = (
		{ id = "c6"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "path"; prefix = "/c"; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "10s"; min = 6; }; },
		{ id = "m7"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "path"; prefix = "/m"; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "20s"; min = 7; }; }
	););
	struct rules_limits lim = { .max_distinct_per_key = 5 };
	struct rules *r = rt_engine(NULL, text);
	struct rt_log *log = new_log();
	int64_t t;

	/* 0..4, then 0 leaves at 11, 1 at 12: five in the window each time,
	 * until a second event at 12. */
	for (t = 0; t <= 4; t++)
		ck_assert_uint_eq(http_at(r, log, t, "192.0.2.1", "/c", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 11, "192.0.2.1", "/c", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 12, "192.0.2.1", "/c", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 12, "192.0.2.1", "/c", 0), 1);
	ck_assert_uint_eq(log->m[0].count, 8);
	rules_destroy(&r);

	/* A ring of 5: at 10 the events of 0 and 2 merge into one of 2,
	 * which is still in the window at 21 (an unmerged 0 would not be). */
	r = rt_engine_lim(NULL, text, &lim);
	log->n = 0;
	for (t = 0; t <= 10; t += 2)
		ck_assert_uint_eq(http_at(r, log, t, "192.0.2.1", "/m", 0), 0);
	ck_assert_uint_eq(http_at(r, log, 21, "192.0.2.1", "/m", 0), 1);
	ck_assert_uint_eq(log->m[0].count, 7);
	finish(&r, log);
}
END_TEST

/* Customers: the first short ids in the block, then a set; order first
 * seen, no repeats, exact count. */
START_TEST(test_customers_spill)
{
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "many"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "customer"; exists = true; });
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1h";
				distinct = "customer"; min = 5; };
		  customers = "customer"; }
	);));
	static const char *const ids[] = {
		"a", "bb", "a", "a-customer-id-too-long-for-the-block-xyz",
		"bb", "c", "a-customer-id-too-long-for-the-block-xyz", "d",
	};
	static const char *const want[] = {
		"a", "bb", "a-customer-id-too-long-for-the-block-xyz", "c", "d",
	};
	struct rt_log *log = new_log();
	char path[128];

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		snprintf(path, sizeof(path), "/api/v1/customers/%s/contacts",
			 ids[i]);
		ck_assert_uint_eq(http_at(r, log, (int64_t)i, "192.0.2.1", path,
					  0), i == 7 ? 1 : 0);
	}
	ck_assert_uint_eq(log->m[0].n_cust, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(log->m[0].cust[i], want[i]);
	ck_assert_uint_eq(log->m[0].count, 8);

	/* Two short ids only (all in the block). */
	log->n = 0;
	for (int i = 0; i < 4; i++)
		ck_assert_uint_eq(http_at(r, log, 10 + i, "192.0.2.2",
					  i % 2 ? "/api/v1/customers/y/contacts"
						: "/api/v1/customers/x/contacts",
					  0), 0);
	rules_expire(r, 100000LL * 1000000);
	finish(&r, log);
}
END_TEST

struct full_prior {
	size_t n, len[16];
	char raw[16][RULES_MAX_RAW + 1];
};

static void on_prior(const struct rules_match *m, void *arg)
{
	struct full_prior *fp = arg;

	if (!m->first)
		return;
	fp->n = m->n_prior;
	for (size_t i = 0; i < m->n_prior && i < 16; i++) {
		fp->len[i] = strlen(m->prior[i].raw);
		memcpy(fp->raw[i], m->prior[i].raw, fp->len[i] + 1);
	}
}

/* Evidence copies of every size (overwritten in place or by a block of
 * another size as the ring wraps) come back exact, oldest first. */
START_TEST(test_prior_sizes)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "n"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1h"; min = 30; }; }
	);));
	static const size_t lens[] = { 1,    20,  40,  100, 200, 260,
				       300,  400, 600, 900, 1023, 1024,
				       1025, 3000, 5,  700 };
	struct full_prior *fp = calloc(1, sizeof(*fp));
	char *raw = malloc(4000);
	struct bw_event ev;
	size_t want;

	for (int i = 0; i < 30; i++) {
		size_t len = lens[(size_t)i * 7 % 16];

		for (size_t k = 0; k < len; k++)
			raw[k] = (char)('a' + (k + (size_t)i) % 26);
		raw[0] = (char)('A' + i % 26);
		rt_http(&ev, i, "192.0.2.1", "GET", "/", 200);
		ev.raw.p = raw;
		ev.raw.len = (uint32_t)len;
		ck_assert_uint_eq(rules_eval(r, &ev, on_prior, fp),
				  i == 29 ? 1 : 0);
	}
	ck_assert_uint_eq(fp->n, 8);
	for (int k = 0; k < 8; k++) {
		int i = 21 + k;

		want = lens[(size_t)i * 7 % 16];
		if (want > RULES_MAX_RAW)
			want = RULES_MAX_RAW;
		ck_assert_uint_eq(fp->len[k], want);
		ck_assert_int_eq(fp->raw[k][0], 'A' + i % 26);
		ck_assert_int_eq(fp->raw[k][want - 1],
				 want == 1 ? 'A' + i % 26
					   : 'a' + (int)((want - 1 + (size_t)i) % 26));
	}
	free(raw);
	free(fp);
	rules_destroy(&r);
}
END_TEST

/* Keys longer than a block holds: kept whole, told apart past the room. */
START_TEST(test_long_keys)
{
	char ua[3][200];
	struct bw_event ev;
	struct rt_log *log = new_log();
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "ua"; title = "t"; category = "c"; severity = "low"; kinds = ["http"];
		  aggregate = { type = "threshold"; key = "user_agent"; window = "1h"; min = 2; }; }
	);));

	for (int i = 0; i < 3; i++) {
		memset(ua[i], 'x', 150);
		ua[i][i == 2 ? 20 : 149] = (char)('0' + i);
		ua[i][150] = '\0';
	}
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 3; i++) {
			rt_http(&ev, round * 10 + i, "192.0.2.1", "GET", "/", 200);
			ev.user_agent.p = ua[i];
			ev.user_agent.len = 150;
			ck_assert_uint_eq(rt_eval(r, &ev, log), round);
		}
	ck_assert_uint_eq(log->n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(strlen(log->m[i].key), 150);
		ck_assert_int_eq(log->m[i].key[i == 2 ? 20 : 149], '0' + i);
	}
	finish(&r, log);
}
END_TEST

/* Keys evicted and created at the bound, expired and created again: the
 * blocks are reused, and every key left in the table is still found. */
START_TEST(test_index_churn_and_reuse)
{
	struct rules_limits lim = { .max_keys_per_rule = 64 };
	struct rules *r = rt_engine_lim(NULL, two_rules, &lim);
	struct rt_log *log = new_log();
	struct rules_stats st;
	char ip[32];
	size_t made;

	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250);
		ck_assert_uint_eq(http_at(r, log, 100 + i / 100, ip, "/", 0),
				  0);
	}
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 64);
	ck_assert_uint_eq(st.evictions, 5000 - 64);
	/* A key block and an evidence copy per key in the table, at most:
	 * the evicted keys' blocks were reused. */
	made = window_blocks_made(r->rules[0]->win);
	ck_assert_uint_le(made, 2 * 64);
	/* The last 64 are all still there (one more event matches); the
	 * first is not. */
	for (int i = 5000 - 64; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 250, i % 250);
		ck_assert_uint_eq(http_at(r, log, 200, ip, "/", 0), 1);
	}
	ck_assert_uint_eq(http_at(r, log, 200, "10.0.0.0", "/", 0), 0);
	/* Expired, then new keys again: nothing more allocated. */
	rules_expire(r, 10000LL * 1000000);
	rules_get_stats(r, &st);
	ck_assert_uint_eq(st.keys, 0);
	for (int i = 0; i < 64; i++) {
		snprintf(ip, sizeof(ip), "10.1.0.%d", i);
		ck_assert_uint_eq(http_at(r, log, 20000, ip, "/", 0), 0);
	}
	ck_assert_uint_eq(window_blocks_made(r->rules[0]->win), made);
	finish(&r, log);
}
END_TEST

/* Rules keyed alike share the key built for an event; a key read from a
 * capture is the rule's own. */
START_TEST(test_shared_keys)
{
	struct rt_log *log = new_log();
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "ip"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1h"; min = 1; }; },
		{ id = "seg"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "path"; regex = "^/(?<seg>[a-z]+)"; });
		  aggregate = { type = "threshold"; key = ["src_ip", "seg"]; window = "1h"; min = 1; }; },
		{ id = "ip2"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1h"; min = 1; }; }
	);));

	ck_assert_uint_eq(http_at(r, log, 1, "192.0.2.1", "/abc/x", 0), 3);
	ck_assert_str_eq(log->m[0].key, "192.0.2.1");
	ck_assert_str_eq(log->m[1].key, "192.0.2.1|abc");
	ck_assert_str_eq(log->m[2].key, "192.0.2.1");
	/* The next event builds its own. */
	ck_assert_uint_eq(http_at(r, log, 2, "192.0.2.2", "/de", 0), 3);
	ck_assert_str_eq(log->m[3].key, "192.0.2.2");
	ck_assert_str_eq(log->m[4].key, "192.0.2.2|de");
	ck_assert_str_eq(log->m[5].key, "192.0.2.2");
	finish(&r, log);
}
END_TEST

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t) * (void *const *)a;
	uintptr_t y = (uintptr_t) * (void *const *)b;

	return x < y ? -1 : x > y;
}

START_TEST(test_blocks_distinct)
{
	enum { N = 20000, SIZE = 40 };
	void **b = calloc(N, sizeof(*b));
	struct pool p;

	pool_init(&p, SIZE);
	ck_assert_uint_ge(p.size, SIZE);
	ck_assert_uint_eq(p.size % 16, 0);
	for (size_t i = 0; i < N; i++) {
		b[i] = pool_get(&p);
		ck_assert_uint_eq((uintptr_t)b[i] % 16, 0);
		memset(b[i], (int)(i & 0xff), SIZE);
	}
	ck_assert_uint_eq(p.made, N);
	/* Several slabs, no two blocks overlapping. */
	for (size_t i = 0; i < N; i++)
		ck_assert_int_eq(((unsigned char *)b[i])[SIZE - 1],
		                 (int)(i & 0xff));
	qsort(b, N, sizeof(*b), cmp_ptr);
	for (size_t i = 1; i < N; i++)
		ck_assert_uint_ge((uintptr_t)b[i] - (uintptr_t)b[i - 1],
		                  p.size);
	pool_free(&p);
	free(b);
}
END_TEST

START_TEST(test_reuse_before_new)
{
	struct pool p;
	void *a, *b, *c;

	pool_init(&p, 100);
	a = pool_get(&p);
	b = pool_get(&p);
	ck_assert_ptr_ne(a, b);
	ck_assert_uint_eq(p.made, 2);
	/* Given back: handed out again, last given first, nothing new. */
	pool_put(&p, a);
	pool_put(&p, b);
	pool_put(&p, NULL);
	ck_assert_ptr_eq(pool_get(&p), b);
	ck_assert_ptr_eq(pool_get(&p), a);
	ck_assert_uint_eq(p.made, 2);
	c = pool_get(&p);
	ck_assert_ptr_ne(c, a);
	ck_assert_ptr_ne(c, b);
	ck_assert_uint_eq(p.made, 3);
	/* A steady stream of puts and gets allocates nothing. */
	for (int i = 0; i < 100000; i++) {
		pool_put(&p, c);
		c = pool_get(&p);
	}
	ck_assert_uint_eq(p.made, 3);
	pool_free(&p);
	/* Reusable after pool_free. */
	ck_assert_uint_eq(p.made, 0);
	a = pool_get(&p);
	memset(a, 1, 100);
	pool_free(&p);
}
END_TEST

START_TEST(test_array_zeroed)
{
	/* Small, and large enough for huge pages. */
	size_t ns[] = {1, 100, POOL_HUGE / 8 + 3};

	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		uint64_t *a = pool_array(ns[k], sizeof(*a));

		for (size_t i = 0; i < ns[k]; i++)
			ck_assert_uint_eq(a[i], 0);
		a[ns[k] - 1] = 7;
		free(a);
	}
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("rules_window");
	TCase *tc = tcase_create("window");

	tcase_add_test(tc, test_threshold_sliding);
	tcase_add_test(tc, test_threshold_distinct);
	tcase_add_test(tc, test_threshold_sum);
	tcase_add_test(tc, test_sequence_order_and_min);
	tcase_add_test(tc, test_sequence_within);
	tcase_add_test(tc, test_sequence_steps_kinds);
	tcase_add_test(tc, test_max_keys_eviction);
	tcase_add_test(tc, test_eviction_lazy_order);
	tcase_add_test(tc, test_prior_distinct_new_values);
	tcase_add_test(tc, test_prior_bound);
	tcase_add_test(tc, test_customer_bound);
	tcase_add_test(tc, test_key_absent);
	suite_add_tcase(s, tc);
	tc = tcase_create("state");
	tcase_add_test(tc, test_distinct_inline_and_spill);
	tcase_add_test(tc, test_ring_inline_spill_merge);
	tcase_add_test(tc, test_customers_spill);
	tcase_add_test(tc, test_prior_sizes);
	tcase_add_test(tc, test_long_keys);
	tcase_add_test(tc, test_index_churn_and_reuse);
	tcase_add_test(tc, test_shared_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("pool");
	tcase_add_test(tc, test_blocks_distinct);
	tcase_add_test(tc, test_reuse_before_new);
	tcase_add_test(tc, test_array_zeroed);
	suite_add_tcase(s, tc);
	return s;
}
