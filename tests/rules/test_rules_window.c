/*
 * test_rules_window.c - thresholds (count, distinct, sum) sliding on event
 * time, sequences, continuation matches, expiry and the bounds.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtest.h"

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

START_TEST(test_max_keys_eviction)
{
	struct rules_limits lim = { .max_keys_per_rule = 2 };
	struct rules *r = rt_engine_lim(NULL, RULES(rules = (
		{ id = "two"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  aggregate = { type = "threshold"; key = "src_ip"; window = "1h"; min = 2; }; }
	);), &lim);
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

static Suite *suite(void)
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
	tcase_add_test(tc, test_prior_bound);
	tcase_add_test(tc, test_customer_bound);
	tcase_add_test(tc, test_key_absent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
