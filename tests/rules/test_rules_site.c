/*
 * test_rules_site.c - site facts: customer data enrichment (HTTP paths,
 * SQL statements), principal_customer, business hours across DST.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rtest.h"
#include "check_main.h"

#define RULES(...) #__VA_ARGS__

static const char *const touch_rules = RULES(rules = (
	{ id = "touch"; title = "t"; category = "c"; severity = "low";
	  summary = "${principal} touched ${data_kind} of ${customer}";
	  kinds = ["http", "sql"];
	  match = ({ field = "data_kind"; exists = true; });
	  customers = "customer"; }
););

/* Evaluate ev against the touch rule; return its match (or NULL). */
static const struct rt_match *touch(struct rules *r, struct bw_event *ev,
				    struct rt_log *log)
{
	log->n = 0;
	if (rt_eval(r, ev, log) == 0)
		return NULL;
	return &log->m[0];
}

START_TEST(test_http_customer)
{
	struct rules *r = rt_engine(rtest_site, touch_rules);
	struct rt_log *log = calloc(1, sizeof(*log));
	const struct rt_match *m;
	struct bw_event ev;

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/api/v1/customers/c42/contacts?page=2", 200);
	ev.principal = (struct bw_str)BW_STR_LIT("svc");
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->n_cust, 1);
	ck_assert_str_eq(m->cust[0], "c42");
	ck_assert_str_eq(m->dk[0], "contact_list");
	ck_assert(!m->unknown);
	ck_assert_str_eq(m->summary, "svc touched contact_list of c42");
	/* The first declared pattern that matches wins: messages, not
	 * account. */
	rt_http(&ev, 1000, "192.0.2.1", "GET", "/admin/customers/c9/messages/1", 200);
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->dk[0], "message_content");
	ck_assert_str_eq(m->cust[0], "c9");
	rt_http(&ev, 1000, "192.0.2.1", "GET", "/admin/customers/c9", 200);
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->dk[0], "account");
	/* A declared path without a customer capture: ids unknown. */
	rt_http(&ev, 1000, "192.0.2.1", "GET", "/api/v1/export/all", 200);
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->n_cust, 0);
	ck_assert(m->unknown);
	/* Not customer data. */
	rt_http(&ev, 1000, "192.0.2.1", "GET", "/api/v1/status", 200);
	ck_assert_ptr_null(touch(r, &ev, log));
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_sql_customer)
{
	struct rules *r = rt_engine(rtest_site, touch_rules);
	struct rt_log *log = calloc(1, sizeof(*log));
	const struct rt_match *m;
	struct bw_event ev;

	rt_sql(&ev, 1000, "app", "SELECT * FROM contacts WHERE customer_id = 'c1' LIMIT 5");
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->n_cust, 1);
	ck_assert_str_eq(m->cust[0], "c1");
	ck_assert_str_eq(m->dk[0], "contact_list");
	ck_assert(!m->unknown);

	rt_sql(&ev, 1000, "app",
	       "select m.body from public.messages m where m.customer_id in ('c1','c2', 'c3') and m.id = 7");
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->n_cust, 3);
	ck_assert_str_eq(m->cust[0], "c1");
	ck_assert_str_eq(m->cust[2], "c3");
	ck_assert_str_eq(m->dk[0], "message_content");
	ck_assert(!m->unknown);

	/* No customer condition: the whole table, ids unknown. */
	rt_sql(&ev, 1000, "app", "SELECT email FROM contacts");
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->n_cust, 0);
	ck_assert(m->unknown);

	/* OR widens the scope. */
	rt_sql(&ev, 1000, "app", "SELECT * FROM contacts WHERE customer_id = 'c1' OR 1=1");
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->cust[0], "c1");
	ck_assert(m->unknown);

	/* customers.id is the customer; a table without a column too. */
	rt_sql(&ev, 1000, "app", "UPDATE customers SET plan = 'x' WHERE id = 42");
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->cust[0], "42");
	ck_assert_str_eq(m->dk[0], "account");
	rt_sql(&ev, 1000, "app", "DELETE FROM audit_log");
	m = touch(r, &ev, log);
	ck_assert_ptr_nonnull(m);
	ck_assert(m->unknown);

	rt_sql(&ev, 1000, "app", "SELECT 1");
	ck_assert_ptr_null(touch(r, &ev, log));
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_principal_customer)
{
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "own"; title = "t"; category = "c"; severity = "low";
		  summary = "${principal_customer}";
		  kinds = ["http"];
		  match = ({ field = "customer"; same_as = "principal_customer"; });
		  customers = "principal_customer"; }
	);));
	struct rt_log *log = calloc(1, sizeof(*log));
	struct bw_event ev;

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/api/v1/customers/c77/profile", 200);
	ev.principal = (struct bw_str)BW_STR_LIT("c77");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 1);
	ck_assert_str_eq(log->m[0].cust[0], "c77");
	ck_assert_str_eq(log->m[0].summary, "c77");
	ev.principal = (struct bw_str)BW_STR_LIT("c777");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	ev.principal = (struct bw_str)BW_STR_LIT("xc77");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_http_prefix_quantifiers)
{
	/* Each path must still be recognised where a quantifier, a class
	 * or an alternative follows the literal start of the pattern. */
	static const char *const site =
		"site: { customer_data = { http = (\n"
		"{ path = \"^/ab?c/(?<customer>[0-9]+)\"; data = \"k1\"; },\n"
		"{ path = \"^/x{2}y/(?<customer>[0-9]+)\"; data = \"k2\"; },\n"
		"{ path = \"^/q*r/(?<customer>[0-9]+)\"; data = \"k3\"; },\n"
		"{ path = \"^/p/|^/z/(?<customer>[0-9]+)\"; data = \"k4\"; },\n"
		"{ path = \"^/m[0-9]/(?<customer>[0-9]+)\"; data = \"k5\"; }\n"
		"); }; };\n";
	static const struct { const char *path, *cust, *dk; } cases[] = {
		{ "/ac/5", "5", "k1" },	  { "/abc/6", "6", "k1" },
		{ "/xxy/7", "7", "k2" },  { "/r/8", "8", "k3" },
		{ "/qqr/9", "9", "k3" },  { "/z/10", "10", "k4" },
		{ "/m3/11", "11", "k5" },
	};
	struct rules *r = rt_engine(site, touch_rules);
	struct rt_log *log = calloc(1, sizeof(*log));
	const struct rt_match *m;
	struct bw_event ev;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rt_http(&ev, 1000, "192.0.2.1", "GET", cases[i].path, 200);
		m = touch(r, &ev, log);
		ck_assert_msg(m != NULL, "%s", cases[i].path);
		ck_assert_uint_eq(m->n_cust, 1);
		ck_assert_str_eq(m->cust[0], cases[i].cust);
		ck_assert_str_eq(m->dk[0], cases[i].dk);
	}
	rt_http(&ev, 1000, "192.0.2.1", "GET", "/abbc/5", 200);
	ck_assert_ptr_null(touch(r, &ev, log));
	free(log);
	rules_destroy(&r);
}
END_TEST

static bool in_hours(struct rules *r, int64_t ts_s)
{
	struct rt_log *log = calloc(1, sizeof(*log));
	struct bw_event ev;
	size_t n;

	rt_auth(&ev, ts_s, "192.0.2.1", "alice", "success");
	n = rt_eval(r, &ev, log);
	free(log);
	return n == 1;
}

START_TEST(test_business_hours_dst)
{
	/* Europe/Berlin, Mon-Fri 08:00-18:00. 2026: DST starts Sunday 29
	 * March (01:00 UTC), ends Sunday 25 October (01:00 UTC). */
	struct rules *in = rt_engine(rtest_site, RULES(rules = (
		{ id = "in"; title = "t"; category = "c"; severity = "low";
		  kinds = ["auth"]; match = ({ business_hours = true; }); }
	);));
	struct rules *out = rt_engine(rtest_site, RULES(rules = (
		{ id = "out"; title = "t"; category = "c"; severity = "low";
		  kinds = ["auth"]; match = ({ business_hours = false; }); }
	);));

	/* Friday 27 March, CET (UTC+1): 07:30 UTC is 08:30 local. */
	ck_assert(in_hours(in, rt_utc(2026, 3, 27, 7, 30)));
	ck_assert(in_hours(out, rt_utc(2026, 3, 27, 6, 30))); /* 07:30 */
	/* Monday 30 March, CEST (UTC+2): 06:30 UTC is 08:30 local. */
	ck_assert(in_hours(in, rt_utc(2026, 3, 30, 6, 30)));
	ck_assert(!in_hours(out, rt_utc(2026, 3, 30, 6, 30)));
	ck_assert(in_hours(out, rt_utc(2026, 3, 30, 5, 30))); /* 07:30 */
	/* 16:30 UTC is 18:30 CEST: closed; 15:59 UTC is 17:59: open. */
	ck_assert(in_hours(out, rt_utc(2026, 3, 30, 16, 30)));
	ck_assert(in_hours(in, rt_utc(2026, 3, 30, 15, 59)));
	ck_assert(in_hours(out, rt_utc(2026, 3, 30, 16, 0))); /* 18:00 */
	/* Friday 23 October, CEST: 06:30 UTC is 08:30. */
	ck_assert(in_hours(in, rt_utc(2026, 10, 23, 6, 30)));
	/* Tuesday 27 October, CET again: 06:30 UTC is 07:30, closed. */
	ck_assert(in_hours(out, rt_utc(2026, 10, 27, 6, 30)));
	ck_assert(in_hours(in, rt_utc(2026, 10, 27, 7, 30)));
	/* Weekends are out: Saturday 28 March, 10:00 UTC. */
	ck_assert(in_hours(out, rt_utc(2026, 3, 28, 10, 0)));
	/* Local Monday 00:30 is still Sunday in UTC: 22:30 UTC on Sunday
	 * 29 March is Monday 00:30 CEST, outside 08-18 anyway; Monday
	 * 08:00 CEST is 06:00 UTC. */
	ck_assert(in_hours(in, rt_utc(2026, 3, 30, 6, 0)));
	rules_destroy(&in);
	rules_destroy(&out);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("rules_site");
	TCase *tc = tcase_create("site");

	tcase_add_test(tc, test_http_customer);
	tcase_add_test(tc, test_http_prefix_quantifiers);
	tcase_add_test(tc, test_sql_customer);
	tcase_add_test(tc, test_principal_customer);
	tcase_add_test(tc, test_business_hours_dst);
	suite_add_tcase(s, tc);
	return s;
}
