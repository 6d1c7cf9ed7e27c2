/*
 * test_rules_cond.c - each condition operator, `not`, `unless`, sets,
 * captures, sources, and events that match several rules.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rtest.h"
#include "check_main.h"

#define RULES(...) #__VA_ARGS__

/* Run one http event through rules and say whether rule id matched. */
static bool hit(struct rules *r, struct bw_event *ev, const char *id)
{
	struct rt_log *log = calloc(1, sizeof(*log));
	bool found;

	rt_eval(r, ev, log);
	found = rt_find(log, id, 0) >= 0;
	free(log);
	return found;
}

START_TEST(test_regex)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "re"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "query"; regex = "union\\s+select"; }); },
		{ id = "re-nocase"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "query"; regex = "union\\s+select"; nocase = true; }); },
		{ id = "re-not"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "query"; regex = "^id=[0-9]+$"; not = true; }); }
	);));
	struct bw_event ev;

	rt_http(&ev, 1000, "203.0.113.9", "GET", "/search", 200);
	ev.query = (struct bw_str)BW_STR_LIT("q=1 union  select pw");
	ck_assert(hit(r, &ev, "re"));
	ck_assert(hit(r, &ev, "re-nocase"));
	ck_assert(hit(r, &ev, "re-not"));
	ev.query = (struct bw_str)BW_STR_LIT("q=1 UNION SELECT pw");
	ck_assert(!hit(r, &ev, "re"));
	ck_assert(hit(r, &ev, "re-nocase"));
	ev.query = (struct bw_str)BW_STR_LIT("id=42");
	ck_assert(!hit(r, &ev, "re"));
	ck_assert(!hit(r, &ev, "re-not"));
	/* An absent field: no regex holds, so `not` does. */
	ev.query = (struct bw_str)BW_STR_NULL;
	ck_assert(!hit(r, &ev, "re"));
	ck_assert(hit(r, &ev, "re-not"));
	rules_destroy(&r);
}
END_TEST

START_TEST(test_equals)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "eq-str"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "method"; equals = ["DELETE", "PUT"]; }); },
		{ id = "eq-nocase"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "method"; equals = "delete"; nocase = true; }); },
		{ id = "eq-int"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "status"; equals = [401, 403]; }); },
		{ id = "eq-addr"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "src_ip"; equals = "2001:db8::1"; }); },
		{ id = "eq-source"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "source"; equals = "apache"; }); },
		{ id = "eq-long"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "method"; equals = ["A1", "A2", "A3", "A4",
			"A5", "A6", "A7", "A8", "A9", "PATCH"]; }); }
	);));
	struct bw_event ev;

	rt_http(&ev, 1000, "2001:0db8:0:0::1", "DELETE", "/x", 403);
	ck_assert(hit(r, &ev, "eq-str"));
	ck_assert(hit(r, &ev, "eq-nocase"));
	ck_assert(hit(r, &ev, "eq-int"));
	ck_assert(hit(r, &ev, "eq-addr"));
	ck_assert(!hit(r, &ev, "eq-source"));
	ck_assert(!hit(r, &ev, "eq-long"));
	rt_http(&ev, 1000, "2001:db8::2", "Delete", "/x", 404);
	ev.source = BW_SRC_APACHE;
	ck_assert(!hit(r, &ev, "eq-str"));
	ck_assert(hit(r, &ev, "eq-nocase"));
	ck_assert(!hit(r, &ev, "eq-int"));
	ck_assert(!hit(r, &ev, "eq-addr"));
	ck_assert(hit(r, &ev, "eq-source"));
	rt_http(&ev, 1000, "192.0.2.1", "PATCH", "/x", -1);
	ck_assert(hit(r, &ev, "eq-long"));
	ck_assert(!hit(r, &ev, "eq-int")); /* unknown status */
	rules_destroy(&r);
}
END_TEST

START_TEST(test_prefix_contains)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "pre"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "path"; prefix = ["/admin/", "/internal/"]; }); },
		{ id = "con"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "user_agent"; contains = "sqlmap"; nocase = true; }); }
	);));
	struct bw_event ev;

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/internal/metrics", 200);
	ev.user_agent = (struct bw_str)BW_STR_LIT("Mozilla SQLMap/1.7");
	ck_assert(hit(r, &ev, "pre"));
	ck_assert(hit(r, &ev, "con"));
	rt_http(&ev, 1000, "192.0.2.1", "GET", "/adminx", 200);
	ev.user_agent = (struct bw_str)BW_STR_LIT("curl/8");
	ck_assert(!hit(r, &ev, "pre"));
	ck_assert(!hit(r, &ev, "con"));
	rules_destroy(&r);
}
END_TEST

START_TEST(test_in_sets)
{
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "staff"; title = "t"; category = "c"; severity = "low";
		  kinds = ["auth"];
		  match = ({ field = "user"; in = "@staff"; }); },
		{ id = "inline"; title = "t"; category = "c"; severity = "low";
		  kinds = ["auth"];
		  match = ({ field = "user"; in = ["root", "@service_accounts"]; }); },
		{ id = "trusted"; title = "t"; category = "c"; severity = "low";
		  kinds = ["auth"];
		  match = ({ field = "src_ip"; in = "@trusted"; }); },
		{ id = "untrusted"; title = "t"; category = "c"; severity = "low";
		  kinds = ["auth"];
		  match = ({ field = "src_ip"; in = "@trusted"; not = true; }); }
	);));
	struct bw_event ev;

	rt_auth(&ev, 1000, "10.9.8.7", "bob", "success");
	ck_assert(hit(r, &ev, "staff"));
	ck_assert(!hit(r, &ev, "inline"));
	ck_assert(hit(r, &ev, "trusted"));
	ck_assert(!hit(r, &ev, "untrusted"));
	rt_auth(&ev, 1000, "::1", "svc-indexer", "success");
	ck_assert(!hit(r, &ev, "staff"));
	ck_assert(hit(r, &ev, "inline"));
	ck_assert(hit(r, &ev, "trusted"));
	rt_auth(&ev, 1000, "203.0.113.5", "root", "failure");
	ck_assert(hit(r, &ev, "inline"));
	ck_assert(!hit(r, &ev, "trusted"));
	ck_assert(hit(r, &ev, "untrusted"));
	/* No address at all: in no set. */
	rt_auth(&ev, 1000, NULL, "Bob", "failure");
	ck_assert(!hit(r, &ev, "staff")); /* case matters without nocase */
	ck_assert(!hit(r, &ev, "trusted"));
	ck_assert(hit(r, &ev, "untrusted"));
	rules_destroy(&r);
}
END_TEST

START_TEST(test_cidr)
{
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "v4"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "src_ip"; cidr = ["198.51.100.0/24", "203.0.113.128/25"]; }); },
		{ id = "v6"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "src_ip"; cidr = "2001:db8:aa::/48"; }); },
		{ id = "apps"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "src_ip"; cidr = ["@app_servers"]; }); }
	);));
	struct bw_event ev;

	rt_http(&ev, 1000, "198.51.100.77", "GET", "/", 200);
	ck_assert(hit(r, &ev, "v4"));
	ck_assert(!hit(r, &ev, "v6"));
	rt_http(&ev, 1000, "203.0.113.127", "GET", "/", 200);
	ck_assert(!hit(r, &ev, "v4"));
	rt_http(&ev, 1000, "203.0.113.200", "GET", "/", 200);
	ck_assert(hit(r, &ev, "v4"));
	rt_http(&ev, 1000, "2001:db8:aa:ffff::9", "GET", "/", 200);
	ck_assert(hit(r, &ev, "v6"));
	ck_assert(!hit(r, &ev, "v4"));
	rt_http(&ev, 1000, "2001:db8:ab::9", "GET", "/", 200);
	ck_assert(!hit(r, &ev, "v6"));
	rt_http(&ev, 1000, "10.1.2.33", "GET", "/", 200);
	ck_assert(hit(r, &ev, "apps"));
	rt_http(&ev, 1000, "2001:db8:1:5::1", "GET", "/", 200);
	ck_assert(hit(r, &ev, "apps"));
	rt_http(&ev, 1000, "127.0.0.11", "GET", "/", 200);
	ck_assert(!hit(r, &ev, "apps"));
	rules_destroy(&r);
}
END_TEST

START_TEST(test_numeric)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "gt"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "bytes_out"; gt = 1000; }); },
		{ id = "ge"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "bytes_out"; ge = 1000; }); },
		{ id = "lt"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "bytes_out"; lt = 1000; }); },
		{ id = "le"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "bytes_out"; le = 1000; }); },
		{ id = "big"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "bytes_out"; gt = 10000000000L; }); }
	);));
	struct bw_event ev;

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/", 200);
	ev.bytes_out = 1000;
	ck_assert(!hit(r, &ev, "gt"));
	ck_assert(hit(r, &ev, "ge"));
	ck_assert(!hit(r, &ev, "lt"));
	ck_assert(hit(r, &ev, "le"));
	ev.bytes_out = 1001;
	ck_assert(hit(r, &ev, "gt"));
	ck_assert(!hit(r, &ev, "le"));
	ev.bytes_out = 999;
	ck_assert(hit(r, &ev, "lt"));
	ck_assert(!hit(r, &ev, "ge"));
	ev.bytes_out = 20000000000LL;
	ck_assert(hit(r, &ev, "big"));
	ev.bytes_out = -1; /* unknown: no comparison holds */
	ck_assert(!hit(r, &ev, "lt"));
	ck_assert(!hit(r, &ev, "gt"));
	rules_destroy(&r);
}
END_TEST

START_TEST(test_class)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "err"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "status"; class = ["4xx", "5xx"]; }); },
		{ id = "ok"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "status"; class = "2xx"; }); }
	);));
	struct bw_event ev;
	static const struct { int status; bool err, ok; } cases[] = {
		{ 200, false, true }, { 299, false, true }, { 302, false, false },
		{ 400, true, false }, { 404, true, false }, { 503, true, false },
		{ 600, false, false }, { 99, false, false }, { -1, false, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rt_http(&ev, 1000, "192.0.2.1", "GET", "/", cases[i].status);
		ck_assert_msg(hit(r, &ev, "err") == cases[i].err, "%d",
			      cases[i].status);
		ck_assert_msg(hit(r, &ev, "ok") == cases[i].ok, "%d",
			      cases[i].status);
	}
	rules_destroy(&r);
}
END_TEST

START_TEST(test_exists)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "anon"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "principal"; exists = false; }); },
		{ id = "named"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "principal"; exists = true; },
					      { field = "src_ip"; exists = true; }); }
	);));
	struct bw_event ev;

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/", 200);
	ck_assert(hit(r, &ev, "anon"));
	ck_assert(!hit(r, &ev, "named"));
	ev.principal = (struct bw_str)BW_STR_LIT("c1");
	ck_assert(!hit(r, &ev, "anon"));
	ck_assert(hit(r, &ev, "named"));
	rt_set_ip(&ev.src_ip, NULL);
	ck_assert(!hit(r, &ev, "named"));
	rules_destroy(&r);
}
END_TEST

START_TEST(test_same_as)
{
	/* A customer reading another customer's data. */
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "cross"; title = "t"; category = "c"; severity = "high";
		  kinds = ["http", "sql"];
		  match = ({ field = "customer"; exists = true; },
			   { field = "principal_customer"; exists = true; },
			   { field = "customer"; same_as = "principal_customer"; not = true; });
		  customers = "customer"; }
	);));
	struct bw_event ev;
	struct rt_log *log = calloc(1, sizeof(*log));

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/api/v1/customers/c42/contacts", 200);
	ev.principal = (struct bw_str)BW_STR_LIT("c42");
	ck_assert(!hit(r, &ev, "cross"));
	ev.principal = (struct bw_str)BW_STR_LIT("c7");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 1);
	ck_assert_str_eq(log->m[0].cust[0], "c42");
	/* Staff are no customer: principal_customer is absent. */
	ev.principal = (struct bw_str)BW_STR_LIT("alice");
	ck_assert(!hit(r, &ev, "cross"));
	/* SQL: every id must be the principal's own. */
	rt_sql(&ev, 1000, "c7", "SELECT * FROM contacts WHERE customer_id = 'c7'");
	ck_assert(!hit(r, &ev, "cross"));
	rt_sql(&ev, 1000, "c7",
	       "SELECT * FROM contacts WHERE customer_id IN ('c7', 'c8')");
	ck_assert(hit(r, &ev, "cross"));
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_unless)
{
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "admin"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"];
		  match = ({ field = "path"; prefix = "/admin/"; });
		  unless = ({ field = "src_ip"; in = "@trusted"; },
			    { field = "user"; in = "@staff"; },
			    { field = "user_agent"; regex = "^HealthCheck/"; }); }
	);));
	struct bw_event ev;

	rt_http(&ev, 1000, "203.0.113.9", "GET", "/admin/x", 200);
	ck_assert(hit(r, &ev, "admin"));
	rt_http(&ev, 1000, "10.0.0.9", "GET", "/admin/x", 200);
	ck_assert(!hit(r, &ev, "admin"));
	rt_http(&ev, 1000, "203.0.113.9", "GET", "/admin/x", 200);
	ev.principal = (struct bw_str)BW_STR_LIT("alice");
	ck_assert(!hit(r, &ev, "admin"));
	ev.principal = (struct bw_str)BW_STR_LIT("mallory");
	ev.user_agent = (struct bw_str)BW_STR_LIT("HealthCheck/1.0");
	ck_assert(!hit(r, &ev, "admin"));
	ev.user_agent = (struct bw_str)BW_STR_LIT("x HealthCheck/1.0");
	ck_assert(hit(r, &ev, "admin"));
	rules_destroy(&r);
}
END_TEST

START_TEST(test_captures)
{
	/* A capture feeds a later condition, the key, customers and the
	 * summary. */
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "idor"; title = "t"; category = "c"; severity = "high";
		  summary = "${src_ip} walked ${count} ids of ${victim} via ${method} (key ${key})";
		  kinds = ["http"];
		  match = ({ field = "path"; regex = "^/u/(?<victim>[a-z]+)/(?<num>[0-9]+)$"; },
			   { field = "victim"; not = true; equals = "public"; });
		  aggregate = { type = "threshold"; key = ["src_ip", "victim"];
				window = "1m"; min = 2; };
		  customers = "victim"; }
	);));
	struct bw_event ev;
	struct rt_log *log = calloc(1, sizeof(*log));

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/u/public/1", 200);
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_http(&ev, 1001, "192.0.2.1", "GET", "/u/anna/1", 200);
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	rt_http(&ev, 1002, "192.0.2.1", "GET", "/u/anna/2", 200);
	ck_assert_uint_eq(rt_eval(r, &ev, log), 1);
	ck_assert_str_eq(log->m[0].key, "192.0.2.1|anna");
	ck_assert(log->m[0].first);
	ck_assert_uint_eq(log->m[0].n_cust, 1);
	ck_assert_str_eq(log->m[0].cust[0], "anna");
	ck_assert_uint_eq(log->m[0].count, 2);
	ck_assert_str_eq(log->m[0].summary,
			 "192.0.2.1 walked 2 ids of anna via GET (key 192.0.2.1|anna)");
	/* Another victim is another key. */
	rt_http(&ev, 1003, "192.0.2.1", "GET", "/u/ben/2", 200);
	ck_assert_uint_eq(rt_eval(r, &ev, log), 0);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_multi_rule_and_sources)
{
	struct rules *r = rt_engine(NULL, RULES(rules = (
		{ id = "a"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "path"; regex = "etc/passwd"; }); },
		{ id = "b"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "path"; regex = "\\.\\./"; }); },
		{ id = "c"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; sources = ["apache"];
		  match = ({ field = "path"; contains = "passwd"; }); },
		{ id = "d"; title = "t"; category = "c"; severity = "low";
		  kinds = ["sql"]; match = ({ field = "text"; regex = "passwd"; }); }
	);));
	struct bw_event ev;
	struct rt_log *log = calloc(1, sizeof(*log));

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/../../etc/passwd", 200);
	ck_assert_uint_eq(rt_eval(r, &ev, log), 2);
	ck_assert_str_eq(log->m[0].rule, "a");
	ck_assert_str_eq(log->m[1].rule, "b");
	ev.source = BW_SRC_APACHE;
	ck_assert_uint_eq(rt_eval(r, &ev, log), 3);
	ck_assert_int_ge(rt_find(log, "c", 2), 0);
	free(log);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_customers_field)
{
	/* customers names several fields; the ids are those of this event. */
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "read"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "data_kind"; equals = "message_content"; });
		  customers = ["customer", "principal_customer"]; },
		{ id = "nocust"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; match = ({ field = "data_kind"; exists = true; }); }
	);));
	struct bw_event ev;
	struct rt_log *log = calloc(1, sizeof(*log));
	int i;

	rt_http(&ev, 1000, "192.0.2.1", "GET", "/api/v1/customers/c5/messages/9", 200);
	ev.principal = (struct bw_str)BW_STR_LIT("c6");
	ck_assert_uint_eq(rt_eval(r, &ev, log), 2);
	i = rt_find(log, "read", 0);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(log->m[i].n_cust, 2);
	ck_assert_str_eq(log->m[i].cust[0], "c5");
	ck_assert_str_eq(log->m[i].cust[1], "c6");
	ck_assert(!log->m[i].unknown);
	ck_assert_uint_eq(log->m[i].n_dk, 1);
	ck_assert_str_eq(log->m[i].dk[0], "message_content");
	/* No customers member: the touched data's owners are unknown. */
	i = rt_find(log, "nocust", 0);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(log->m[i].n_cust, 0);
	ck_assert(log->m[i].unknown);
	free(log);
	rules_destroy(&r);
}
END_TEST

/* The match of rule id among this event's matches (the last rt_eval). */
static const struct rt_match *only(const struct rt_log *log, size_t from,
                                   const char *id)
{
	int i = rt_find(log, id, from);

	ck_assert_msg(i >= 0, "rule %s did not match", id);
	return &log->m[i];
}

START_TEST(test_affected_unknown_option)
{
	/* affected_unknown = true: a match whose customers are not all known
	 * is affected_unknown even when the event touched no declared
	 * customer data (no data_kind); ids from the event keep it known
	 * unless the existing reasons (an unknown SQL scope, a data path
	 * without a customer) say otherwise. */
	struct rules *r = rt_engine(rtest_site, RULES(rules = (
		{ id = "opt"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http", "sql"]; affected_unknown = true;
		  customers = "customer"; },
		{ id = "opt-nocust"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http", "sql", "auth"]; affected_unknown = true; },
		{ id = "noopt"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http", "sql", "auth"]; customers = "customer"; },
		{ id = "opt-false"; title = "t"; category = "c"; severity = "low";
		  kinds = ["auth"]; affected_unknown = false; },
		{ id = "opt-thr"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; affected_unknown = true;
		  match = ({ field = "src_ip"; equals = "192.0.2.9"; });
		  aggregate = { type = "threshold"; key = "src_ip";
		                window = "10m"; min = 2; };
		  customers = "customer"; },
		{ id = "opt-thr-ids"; title = "t"; category = "c"; severity = "low";
		  kinds = ["http"]; affected_unknown = true;
		  match = ({ field = "customer"; exists = true; });
		  aggregate = { type = "threshold"; key = "src_ip";
		                window = "10m"; min = 2; };
		  customers = "customer"; }
	);));
	struct bw_event ev;
	struct rt_log *log = calloc(1, sizeof(*log));
	const struct rt_match *m;
	size_t from;

	/* A path naming its customer: known with or without the option. */
	from = log->n;
	rt_http(&ev, 1000, "192.0.2.1", "GET", "/api/v1/customers/c5/contacts", 200);
	rt_eval(r, &ev, log);
	m = only(log, from, "opt");
	ck_assert_uint_eq(m->n_cust, 1);
	ck_assert_str_eq(m->cust[0], "c5");
	ck_assert(!m->unknown);
	ck_assert_uint_eq(m->n_dk, 1);
	/* No customers member: unknown either way (it has a data_kind). */
	ck_assert(only(log, from, "opt-nocust")->unknown);
	ck_assert(!only(log, from, "noopt")->unknown);

	/* No declared customer data touched: the option alone says unknown. */
	from = log->n;
	rt_http(&ev, 1001, "192.0.2.1", "GET", "/healthz", 200);
	rt_eval(r, &ev, log);
	m = only(log, from, "opt");
	ck_assert_uint_eq(m->n_cust, 0);
	ck_assert_uint_eq(m->n_dk, 0);
	ck_assert(m->unknown);
	ck_assert(only(log, from, "opt-nocust")->unknown);
	ck_assert(!only(log, from, "noopt")->unknown);

	/* An auth event (no customer data field at all). */
	from = log->n;
	rt_auth(&ev, 1002, "192.0.2.1", "root", "success");
	rt_eval(r, &ev, log);
	ck_assert(only(log, from, "opt-nocust")->unknown);
	ck_assert(!only(log, from, "noopt")->unknown);
	ck_assert(!only(log, from, "opt-false")->unknown);

	/* SQL naming its customers: known; with an OR, the existing reason
	 * (the statement's scope) makes it unknown, ids kept. */
	from = log->n;
	rt_sql(&ev, 1003, "dave", "SELECT * FROM contacts WHERE customer_id = 'c7'");
	rt_eval(r, &ev, log);
	m = only(log, from, "opt");
	ck_assert_uint_eq(m->n_cust, 1);
	ck_assert(!m->unknown);
	from = log->n;
	rt_sql(&ev, 1004, "dave",
	       "SELECT * FROM contacts WHERE customer_id = 'c7' OR 1=1");
	rt_eval(r, &ev, log);
	m = only(log, from, "opt");
	ck_assert_uint_eq(m->n_cust, 1);
	ck_assert(m->unknown);
	ck_assert(only(log, from, "noopt")->unknown);
	/* SQL on no declared table: the option alone. */
	from = log->n;
	rt_sql(&ev, 1005, "dave", "SELECT 1");
	rt_eval(r, &ev, log);
	ck_assert(only(log, from, "opt")->unknown);
	ck_assert(!only(log, from, "noopt")->unknown);

	/* Threshold: the first match is unknown when any gathered event
	 * named no customer, and keeps the ids the others named. */
	rt_http(&ev, 1010, "192.0.2.9", "GET", "/api/v1/customers/c8/contacts", 200);
	rt_eval(r, &ev, log);
	ck_assert_int_lt(rt_find(log, "opt-thr", from), 0);
	from = log->n;
	rt_http(&ev, 1011, "192.0.2.9", "GET", "/healthz", 200);
	rt_eval(r, &ev, log);
	m = only(log, from, "opt-thr");
	ck_assert(m->first);
	ck_assert_uint_eq(m->n_cust, 1);
	ck_assert_str_eq(m->cust[0], "c8");
	ck_assert(m->unknown);
	ck_assert_int_lt(rt_find(log, "opt-thr-ids", from), 0); /* one so far */
	/* ...and known when every gathered event named its customers; a
	 * later match carries what its own event adds. */
	from = log->n;
	rt_http(&ev, 1012, "192.0.2.9", "GET", "/api/v1/customers/c9/messages/1", 200);
	rt_eval(r, &ev, log);
	m = only(log, from, "opt-thr-ids");
	ck_assert(m->first);
	ck_assert_uint_eq(m->n_cust, 2);
	ck_assert_str_eq(m->cust[0], "c8");
	ck_assert_str_eq(m->cust[1], "c9");
	ck_assert(!m->unknown);
	m = only(log, from, "opt-thr");
	ck_assert(!m->first);
	ck_assert_uint_eq(m->n_cust, 1);
	ck_assert(!m->unknown);
	free(log);
	rules_destroy(&r);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("rules_cond");
	TCase *tc = tcase_create("cond");

	tcase_add_test(tc, test_regex);
	tcase_add_test(tc, test_equals);
	tcase_add_test(tc, test_prefix_contains);
	tcase_add_test(tc, test_in_sets);
	tcase_add_test(tc, test_cidr);
	tcase_add_test(tc, test_numeric);
	tcase_add_test(tc, test_class);
	tcase_add_test(tc, test_exists);
	tcase_add_test(tc, test_same_as);
	tcase_add_test(tc, test_unless);
	tcase_add_test(tc, test_captures);
	tcase_add_test(tc, test_multi_rule_and_sources);
	tcase_add_test(tc, test_customers_field);
	tcase_add_test(tc, test_affected_unknown_option);
	suite_add_tcase(s, tc);
	return s;
}
