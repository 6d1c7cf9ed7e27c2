/*
 * test_aggregate.c - turning rule matches into incidents.
 *
 * Matches are built by hand (struct rules_match), as the rules engine would
 * hand them over; every emitted revision is kept (deep copy) and must
 * survive a JSON round trip.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../agent/aggregate.h"
#include "../../agent/run_counter.h"
#include "event.h"
#include "file.h"
#include "incident.h"
#include "xmalloc.h"
#include "check_main.h"

#define S  INT64_C(1000000)
#define T0 (INT64_C(1795421700) * S)

/* The emitted revisions, in order. */
struct sink {
	struct bw_incident **inc;
	size_t n, cap;
};

static void collect(const struct bw_incident *inc, void *arg)
{
	struct sink *k = arg;
	struct bw_incident *back;
	struct bw_error err;
	char *json;

	/* Every revision the aggregator emits must be a valid incident. */
	json = bw_incident_to_json(inc);
	back = bw_incident_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s: %s", err.msg, json);
	bw_incident_destroy(&back);
	free(json);
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 16;
		k->inc = xreallocarray(k->inc, k->cap, sizeof(*k->inc));
	}
	k->inc[k->n++] = bw_incident_dup(inc);
}

static void sink_free(struct sink *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		bw_incident_destroy(&k->inc[i]);
	free(k->inc);
	memset(k, 0, sizeof(*k));
}

static const struct rule_info bulk_rule = {
    .id = "bulk-contacts",
    .title = "One principal read many contact lists",
    .category = "bulk-read",
    .summary = "${principal} read many lists",
    .severity = BW_SEV_HIGH,
    .notify_customers = true,
    .credentials = false,
};

static const struct rule_info sqli_rule = {
    .id = "sqli",
    .title = "SQL injection",
    .category = "injection",
    .severity = BW_SEV_CRITICAL,
    .notify_customers = false,
    .credentials = true,
};

/* An nginx event from 203.0.113.<ip> by user, at ts. */
static void make_event(struct bw_event *ev, int64_t ts, int ip,
                       const char *user, const char *raw, uint64_t line)
{
	bw_event_clear(ev);
	ev->ts_us = ts;
	ev->kind = BW_KIND_HTTP;
	ev->source = BW_SRC_NGINX;
	ev->src_ip.family = 4;
	ev->src_ip.bytes[0] = 203;
	ev->src_ip.bytes[1] = 0;
	ev->src_ip.bytes[2] = 113;
	ev->src_ip.bytes[3] = (uint8_t)ip;
	if (user != NULL) {
		ev->principal.p = user;
		ev->principal.len = (uint32_t)strlen(user);
	}
	ev->ref.file = "/var/log/nginx/access.log";
	ev->ref.number = line;
	ev->raw.p = raw;
	ev->raw.len = (uint32_t)strlen(raw);
}

/* A later (not first) match of one event, with its customers. */
static void match_one(struct agg *a, const struct rule_info *r, const char *key,
                      const struct bw_event *ev, const char *const *customers,
                      size_t n_customers)
{
	struct rules_match m = {
	    .rule = r,
	    .key = key,
	    .ev = ev,
	    .first = false,
	    .customers = customers,
	    .n_customers = n_customers,
	    .event_count = 1,
	};

	agg_match(a, &m);
}

static struct agg *new_agg(const char *host, struct sink *k,
                           size_t max_evidence, size_t max_customers,
                           size_t max_incidents)
{
	struct agg_config cfg = {
	    .host = host,
	    .quiet_period_us = 600 * S,
	    .revision_interval_us = 10 * S,
	    .max_evidence = max_evidence,
	    .max_customers = max_customers,
	    .max_incidents = max_incidents,
	};

	return agg_new(&cfg, collect, k);
}

static bool is_id(const char *id)
{
	size_t i;

	if (strncmp(id, "bw-", 3) != 0 || strlen(id) != 19)
		return false;
	for (i = 3; i < 19; i++) {
		if (strchr("0123456789abcdef", id[i]) == NULL)
			return false;
	}
	return true;
}

START_TEST(one_incident_from_many_matches)
{
	static const char *const first_customers[] = {"c1", "c2"};
	static const char *const kinds1[] = {"contact_list"};
	static const char *const kinds2[] = {"message_content", "contact_list"};
	static const struct rules_evidence prior[] = {
	    {T0 - 3 * S, BW_SRC_NGINX, "/var/log/nginx/access.log", 10,
	     "GET /api/c1/contacts?token=abc"},
	    {T0 - 2 * S, BW_SRC_NGINX, "/var/log/nginx/access.log", 11,
	     "GET /api/c2/contacts"},
	};
	struct sink k = {0};
	struct agg_stats st;
	struct bw_event ev;
	struct agg *a;
	const struct bw_incident *inc;
	char cust[16];
	const char *cp[1] = {cust};
	int i;

	a = new_agg("db1", &k, 0, 0, 0);
	make_event(&ev, T0, 9, "alice", "GET /api/c2/contacts", 12);
	{
		struct rules_match m = {
		    .rule = &bulk_rule,
		    .key = "alice",
		    .ev = &ev,
		    .first = true,
		    .customers = first_customers,
		    .n_customers = 2,
		    .data_kinds = kinds1,
		    .n_data_kinds = 1,
		    .prior = prior,
		    .n_prior = 2,
		    .event_count = 3,
		    .summary = "alice read many lists",
		};

		agg_match(a, &m);
	}
	/* Revision 1 at once. */
	ck_assert_uint_eq(k.n, 1);
	inc = k.inc[0];
	ck_assert(is_id(inc->id));
	ck_assert_uint_eq(inc->revision, 1);
	ck_assert_str_eq(inc->rule, "bulk-contacts");
	ck_assert_str_eq(inc->title, bulk_rule.title);
	ck_assert_str_eq(inc->summary, "alice read many lists");
	ck_assert_str_eq(inc->category, "bulk-read");
	ck_assert_int_eq(inc->severity, BW_SEV_HIGH);
	ck_assert_str_eq(inc->host, "db1");
	ck_assert(inc->notify_customers);
	ck_assert(!inc->credentials);
	ck_assert(!inc->closed);
	ck_assert_int_eq(inc->first_seen_us, T0 - 3 * S);
	ck_assert_int_eq(inc->last_seen_us, T0);
	ck_assert_uint_eq(inc->event_count, 3);
	ck_assert_uint_eq(inc->n_evidence, 3);
	ck_assert_int_eq(inc->evidence[0].ts_us, T0 - 3 * S);
	ck_assert_str_eq(inc->evidence[0].excerpt,
	                 "GET /api/c1/contacts?token=****");
	ck_assert_str_eq(inc->evidence[0].ref, "/var/log/nginx/access.log:10");
	ck_assert_str_eq(inc->evidence[0].source, "nginx");
	ck_assert_str_eq(inc->evidence[2].ref, "/var/log/nginx/access.log:12");
	ck_assert_uint_eq(inc->n_actor, 2);
	ck_assert_str_eq(inc->actor[0].key, "ip");
	ck_assert_str_eq(inc->actor[0].value, "203.0.113.9");
	ck_assert_str_eq(inc->actor[1].key, "user");
	ck_assert_str_eq(inc->actor[1].value, "alice");
	ck_assert_uint_eq(inc->n_customers, 2);
	ck_assert(!inc->affected_unknown);

	/* Ten more matches within 5 s: nothing emitted before the interval,
	 * even when ticked. Customers c1..c5 again and again. */
	for (i = 0; i < 10; i++) {
		snprintf(cust, sizeof(cust), "c%d", 1 + i % 5);
		make_event(&ev, T0 + (i + 1) * S / 2, 9, "alice",
		           "GET /api/x/contacts", 13 + (uint64_t)i);
		match_one(a, &bulk_rule, "alice", &ev, cp, 1);
		agg_tick(a, T0 + (i + 1) * S / 2);
	}
	{
		struct rules_match m = {
		    .rule = &bulk_rule,
		    .key = "alice",
		    .ev = &ev,
		    .data_kinds = kinds2,
		    .n_data_kinds = 2,
		    .event_count = 1,
		};

		/* An out-of-order event: first_seen moves, the id not. */
		ev.ts_us = T0 - 10 * S;
		agg_match(a, &m);
	}
	agg_tick(a, T0 + 9 * S);
	ck_assert_uint_eq(k.n, 1);
	agg_tick(a, T0 + 10 * S);
	ck_assert_uint_eq(k.n, 2);
	inc = k.inc[1];
	ck_assert_str_eq(inc->id, k.inc[0]->id);
	ck_assert_uint_eq(inc->revision, 2);
	ck_assert_uint_eq(inc->event_count, 14);
	ck_assert_uint_eq(inc->n_customers, 5);
	ck_assert_str_eq(inc->customers[0], "c1");
	ck_assert_str_eq(inc->customers[1], "c2");
	ck_assert_str_eq(inc->customers[2], "c3");
	ck_assert_str_eq(inc->customers[4], "c5");
	ck_assert_uint_eq(inc->n_data_kinds, 2);
	ck_assert_str_eq(inc->data_kinds[0], "contact_list");
	ck_assert_str_eq(inc->data_kinds[1], "message_content");
	ck_assert_int_eq(inc->first_seen_us, T0 - 10 * S);
	ck_assert_int_eq(inc->last_seen_us, T0 + 5 * S);
	ck_assert_uint_eq(inc->n_evidence + inc->evidence_omitted,
	                  inc->event_count);
	/* Nothing new: no more revisions. */
	agg_tick(a, T0 + 100 * S);
	ck_assert_uint_eq(k.n, 2);
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.opened, 1);
	ck_assert_uint_eq(st.revisions, 2);
	ck_assert_uint_eq(st.active, 1);
	agg_destroy(&a);
	ck_assert_ptr_null(a);
	sink_free(&k);
}
END_TEST

/* A match every second for a minute, ticked by event time: a revision at
 * most every 10 s, each one carrying all that came before its tick. */
START_TEST(revisions_rate_limited)
{
	struct sink k = {0};
	struct bw_event ev;
	struct agg *a;
	size_t i;

	a = new_agg("db1", &k, 0, 0, 0);
	for (i = 0; i <= 60; i++) {
		agg_tick(a, T0 + (int64_t)i * S);
		make_event(&ev, T0 + (int64_t)i * S, 9, NULL, "GET /", i + 1);
		match_one(a, &sqli_rule, "", &ev, NULL, 0);
	}
	/* Opened at 0; emitted at 10, 20, ..., 60. */
	ck_assert_uint_eq(k.n, 7);
	for (i = 0; i < k.n; i++) {
		ck_assert_uint_eq(k.inc[i]->revision, i + 1);
		ck_assert_str_eq(k.inc[i]->id, k.inc[0]->id);
	}
	ck_assert_int_eq(k.inc[1]->last_seen_us, T0 + 9 * S);
	ck_assert_uint_eq(k.inc[1]->event_count, 10);
	ck_assert_int_eq(k.inc[6]->last_seen_us, T0 + 59 * S);
	/* Ticking often in between changes nothing. */
	agg_tick(a, T0 + 65 * S);
	agg_tick(a, T0 + 69 * S);
	ck_assert_uint_eq(k.n, 7);
	agg_tick(a, T0 + 70 * S);
	ck_assert_uint_eq(k.n, 8);
	ck_assert_uint_eq(k.inc[7]->event_count, 61);
	ck_assert(!k.inc[7]->closed);
	/* The end of input closes it, with a last revision. */
	agg_flush(a);
	ck_assert_uint_eq(k.n, 9);
	ck_assert(k.inc[8]->closed);
	ck_assert_uint_eq(k.inc[8]->revision, 9);
	agg_destroy(&a);
	sink_free(&k);
}
END_TEST

START_TEST(quiet_close)
{
	struct sink k = {0};
	struct agg_stats st;
	struct bw_event ev;
	struct agg *a;

	a = new_agg("db1", &k, 0, 0, 0);
	make_event(&ev, T0, 9, NULL, "x", 1);
	match_one(a, &sqli_rule, "", &ev, NULL, 0);
	make_event(&ev, T0 + 2 * S, 9, NULL, "x", 2);
	match_one(a, &sqli_rule, "", &ev, NULL, 0);
	agg_tick(a, T0 + 600 * S + 2 * S - 1);
	/* The pending change went out at T0 + 10 s; not closed yet. */
	ck_assert_uint_eq(k.n, 2);
	ck_assert(!k.inc[1]->closed);
	agg_tick(a, T0 + 602 * S);
	ck_assert_uint_eq(k.n, 3);
	ck_assert(k.inc[2]->closed);
	ck_assert_uint_eq(k.inc[2]->revision, 3);
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.closed, 1);
	ck_assert_uint_eq(st.active, 0);
	/* The same key later: a new incident with a new id. */
	make_event(&ev, T0 + 700 * S, 9, NULL, "x", 3);
	match_one(a, &sqli_rule, "", &ev, NULL, 0);
	ck_assert_uint_eq(k.n, 4);
	ck_assert_uint_eq(k.inc[3]->revision, 1);
	ck_assert_str_ne(k.inc[3]->id, k.inc[0]->id);
	/* Without a tick in between, a match after the quiet period closes
	 * the old incident first, as a tick would have. */
	make_event(&ev, T0 + 1400 * S, 9, NULL, "x", 4);
	match_one(a, &sqli_rule, "", &ev, NULL, 0);
	ck_assert_uint_eq(k.n, 6);
	ck_assert(k.inc[4]->closed);
	ck_assert_str_eq(k.inc[4]->id, k.inc[3]->id);
	ck_assert_uint_eq(k.inc[5]->revision, 1);
	ck_assert_str_ne(k.inc[5]->id, k.inc[3]->id);
	agg_destroy(&a);
	sink_free(&k);
}
END_TEST

START_TEST(evidence_cap)
{
	static const struct rules_evidence prior[] = {
	    {T0 - 3 * S, BW_SRC_PCAP, "/cap/x.pcap", 17, "a"},
	    {T0 - 2 * S, BW_SRC_PCAP, "/cap/x.pcap", 18, "b"},
	    {T0 - 1 * S, BW_SRC_PCAP, "/cap/x.pcap", 19, "c"},
	};
	struct sink k = {0};
	struct bw_event ev;
	const struct bw_incident *inc;
	struct agg *a;
	int i;

	a = new_agg("db1", &k, 5, 0, 0);
	make_event(&ev, T0, 9, NULL, "password=hunter2", 1);
	{
		/* 20 events in the window, 3 of them kept by the engine. */
		struct rules_match m = {
		    .rule = &sqli_rule,
		    .key = "k",
		    .ev = &ev,
		    .first = true,
		    .prior = prior,
		    .n_prior = 3,
		    .event_count = 20,
		};

		agg_match(a, &m);
	}
	ck_assert_uint_eq(k.inc[0]->n_evidence, 4);
	ck_assert_uint_eq(k.inc[0]->evidence_omitted, 16);
	ck_assert_str_eq(k.inc[0]->evidence[0].ref, "/cap/x.pcap#17");
	ck_assert_str_eq(k.inc[0]->evidence[0].source, "pcap");
	ck_assert_str_eq(k.inc[0]->evidence[3].excerpt, "password=****");
	for (i = 0; i < 10; i++) {
		make_event(&ev, T0 + (i + 1) * S, 9, NULL, "y",
		           2 + (uint64_t)i);
		match_one(a, &sqli_rule, "k", &ev, NULL, 0);
	}
	agg_flush(a);
	ck_assert_uint_eq(k.n, 2);
	inc = k.inc[1];
	ck_assert(inc->closed);
	ck_assert_uint_eq(inc->n_evidence, 5);
	ck_assert_uint_eq(inc->event_count, 30);
	ck_assert_uint_eq(inc->evidence_omitted, 25);
	/* The first ones are kept. */
	ck_assert_str_eq(inc->evidence[0].excerpt, "a");
	ck_assert_str_eq(inc->evidence[4].ref, "/var/log/nginx/access.log:2");
	agg_destroy(&a);
	sink_free(&k);
}
END_TEST

START_TEST(customers_dedup_and_cap)
{
	static const char *const c1[] = {"a", "b", "a", ""};
	static const char *const c2[] = {"b", "c"};
	static const char *const c3[] = {"d", "a", "e"};
	struct sink k = {0};
	struct agg_stats st;
	struct bw_event ev;
	struct agg *a;

	a = new_agg("db1", &k, 0, 3, 0);
	make_event(&ev, T0, 9, NULL, "x", 1);
	match_one(a, &bulk_rule, "alice", &ev, c1, 4);
	ck_assert_uint_eq(k.inc[0]->n_customers, 2);
	ck_assert(!k.inc[0]->affected_unknown);
	match_one(a, &bulk_rule, "alice", &ev, c2, 2);
	match_one(a, &bulk_rule, "alice", &ev, c3, 3);
	agg_flush(a);
	ck_assert_uint_eq(k.n, 2);
	ck_assert_uint_eq(k.inc[1]->n_customers, 3);
	ck_assert_str_eq(k.inc[1]->customers[0], "a");
	ck_assert_str_eq(k.inc[1]->customers[1], "b");
	ck_assert_str_eq(k.inc[1]->customers[2], "c");
	/* The list is no longer complete. */
	ck_assert(k.inc[1]->affected_unknown);
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.customers_dropped, 2);
	agg_destroy(&a);
	sink_free(&k);
}
END_TEST

/* Many customers: the set grows, and no id is lost or doubled. */
START_TEST(many_customers)
{
	struct sink k = {0};
	struct bw_event ev;
	struct agg *a;
	char ids[3000][8];
	const char *p[3000];
	size_t i;

	for (i = 0; i < 3000; i++) {
		snprintf(ids[i], sizeof(ids[i]), "c%zu", i % 2000);
		p[i] = ids[i];
	}
	a = new_agg("db1", &k, 0, 0, 0);
	make_event(&ev, T0, 9, NULL, "x", 1);
	match_one(a, &bulk_rule, "k", &ev, p, 1);
	match_one(a, &bulk_rule, "k", &ev, p + 1, 2999);
	agg_flush(a);
	ck_assert_uint_eq(k.inc[1]->n_customers, 2000);
	for (i = 0; i < 2000; i++)
		ck_assert_str_eq(k.inc[1]->customers[i], ids[i]);
	ck_assert(!k.inc[1]->affected_unknown);
	agg_destroy(&a);
	sink_free(&k);
}
END_TEST

/* Bytes from logs that are not UTF-8 still give valid incidents. */
START_TEST(hostile_strings)
{
	static const char *const c[] = {"c\xff\x01", "ok"};
	struct sink k = {0};
	struct bw_event ev;
	struct agg *a;
	char *big;

	big = xmalloc(BW_INC_MAX_STR + 2);
	memset(big, 'x', BW_INC_MAX_STR + 1);
	big[BW_INC_MAX_STR + 1] = '\0';
	a = new_agg("db1", &k, 0, 0, 0);
	make_event(&ev, T0, 9,
	           "al\xc3"
	           "ice",
	           "raw\xff", 1);
	match_one(a, &bulk_rule, "k\xfe", &ev, c, 2);
	ck_assert_uint_eq(k.n, 1);
	ck_assert_str_eq(k.inc[0]->customers[0], "c\\xff\\x01");
	ck_assert_str_eq(k.inc[0]->actor[1].value, "al\\xc3ice");
	ck_assert_str_eq(k.inc[0]->evidence[0].excerpt, "raw\\xff");
	/* A customer id too long to be real is not kept: scope unknown. */
	{
		const char *const cb[] = {big};

		match_one(a, &bulk_rule, "k\xfe", &ev, cb, 1);
	}
	agg_flush(a);
	ck_assert_uint_eq(k.inc[1]->n_customers, 2);
	ck_assert(k.inc[1]->affected_unknown);
	agg_destroy(&a);
	sink_free(&k);
	free(big);
}
END_TEST

/* Feed the same matches to a fresh aggregator: the same revisions, byte
 * for byte. */
static void run_script(const char *host, struct sink *k)
{
	static const char *const cs[] = {"c1", "c2"};
	const struct rule_info *rules[] = {&bulk_rule, &sqli_rule};
	struct bw_event ev;
	struct agg *a;
	char key[16];
	int i;

	a = new_agg(host, k, 3, 0, 4);
	for (i = 0; i < 200; i++) {
		int64_t t = T0 + (int64_t)i * S / 3;

		snprintf(key, sizeof(key), "10.0.0.%d", i % 7);
		make_event(&ev, t, i % 7, "bob", "GET /?token=1", (uint64_t)i);
		agg_tick(a, t);
		match_one(a, rules[i % 2], key, &ev, cs, (size_t)(i % 3));
	}
	agg_flush(a);
	agg_destroy(&a);
}

START_TEST(deterministic_ids)
{
	struct sink k1 = {0}, k2 = {0}, k3 = {0};
	size_t i;

	run_script("db1", &k1);
	run_script("db1", &k2);
	run_script("db2", &k3);
	ck_assert_uint_gt(k1.n, 10);
	ck_assert_uint_eq(k1.n, k2.n);
	ck_assert_uint_eq(k1.n, k3.n);
	for (i = 0; i < k1.n; i++) {
		char *j1 = bw_incident_to_json(k1.inc[i]);
		char *j2 = bw_incident_to_json(k2.inc[i]);

		ck_assert_str_eq(j1, j2);
		ck_assert(is_id(k1.inc[i]->id));
		/* The host is part of the id. */
		ck_assert_str_ne(k1.inc[i]->id, k3.inc[i]->id);
		free(j1);
		free(j2);
	}
	sink_free(&k1);
	sink_free(&k2);
	sink_free(&k3);
}
END_TEST

START_TEST(max_incidents_eviction)
{
	struct sink k = {0};
	struct agg_stats st;
	struct bw_event ev;
	struct agg *a;

	a = new_agg("db1", &k, 0, 0, 2);
	make_event(&ev, T0, 1, NULL, "x", 1);
	match_one(a, &sqli_rule, "A", &ev, NULL, 0);
	make_event(&ev, T0 + 1 * S, 2, NULL, "x", 2);
	match_one(a, &sqli_rule, "B", &ev, NULL, 0);
	/* A is updated again: B is now the least recently updated. */
	make_event(&ev, T0 + 2 * S, 1, NULL, "x", 3);
	match_one(a, &sqli_rule, "A", &ev, NULL, 0);
	ck_assert_uint_eq(k.n, 2);
	make_event(&ev, T0 + 3 * S, 3, NULL, "x", 4);
	match_one(a, &sqli_rule, "C", &ev, NULL, 0);
	ck_assert_uint_eq(k.n, 4);
	/* B closed early, then C opened. */
	ck_assert_str_eq(k.inc[2]->id, k.inc[1]->id);
	ck_assert(k.inc[2]->closed);
	ck_assert_uint_eq(k.inc[2]->revision, 2);
	ck_assert_str_eq(k.inc[2]->actor[0].value, "203.0.113.2");
	ck_assert_uint_eq(k.inc[3]->revision, 1);
	ck_assert_str_eq(k.inc[3]->actor[0].value, "203.0.113.3");
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.incidents_evicted, 1);
	ck_assert_uint_eq(st.active, 2);
	ck_assert_uint_eq(st.opened, 3);
	/* The flush closes A (with its pending change) then C, oldest
	 * first. */
	agg_flush(a);
	ck_assert_uint_eq(k.n, 6);
	ck_assert_str_eq(k.inc[4]->id, k.inc[0]->id);
	ck_assert_uint_eq(k.inc[4]->event_count, 2);
	ck_assert(k.inc[4]->closed);
	ck_assert_str_eq(k.inc[5]->id, k.inc[3]->id);
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_eq(st.closed, 3);
	agg_destroy(&a);
	sink_free(&k);
}
END_TEST

/* A key evicted and matching again at the same time gets a new id, so the
 * notifier cannot take the new incident for a resend of the old one. */
START_TEST(evicted_key_gets_new_id)
{
	struct sink k = {0};
	struct bw_event ev;
	struct agg *a;

	a = new_agg("db1", &k, 0, 0, 1);
	make_event(&ev, T0, 1, NULL, "x", 1);
	match_one(a, &sqli_rule, "A", &ev, NULL, 0);
	match_one(a, &sqli_rule, "B", &ev, NULL, 0);
	match_one(a, &sqli_rule, "A", &ev, NULL, 0);
	agg_flush(a);
	/* A1, A1 closed, B1, B1 closed, A'1, A' closed. */
	ck_assert_uint_eq(k.n, 6);
	ck_assert_str_eq(k.inc[0]->id, k.inc[1]->id);
	ck_assert(k.inc[1]->closed);
	ck_assert_uint_eq(k.inc[4]->revision, 1);
	ck_assert(is_id(k.inc[4]->id));
	ck_assert_str_ne(k.inc[4]->id, k.inc[0]->id);
	ck_assert_str_ne(k.inc[4]->id, k.inc[2]->id);
	agg_destroy(&a);
	sink_free(&k);
}
END_TEST

START_TEST(defaults_and_null)
{
	struct agg *a = agg_new(NULL, NULL, NULL);
	struct agg_stats st;
	struct bw_event ev;

	/* No callback: matches are still counted. */
	make_event(&ev, T0, 1, NULL, "x", 1);
	match_one(a, &sqli_rule, NULL, &ev, NULL, 0);
	agg_match(a, NULL);
	agg_tick(a, T0 + 29 * 60 * S);
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.active, 1);
	/* The default quiet period is 30 minutes. */
	agg_tick(a, T0 + 30 * 60 * S);
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.active, 0);
	ck_assert_uint_eq(st.revisions, 2);
	agg_destroy(&a);
	agg_destroy(&a);
}
END_TEST

/* A run's revisions are numbered in its block: run * 2^16 + 1, 2, ...,
 * so those of a later run follow every revision of an earlier one, even
 * for an incident rebuilt with the same id. */
START_TEST(revisions_numbered_by_run)
{
	struct sink k1 = {0}, k2 = {0}, k3 = {0};
	struct bw_event ev;
	struct agg *a;
	size_t i;

	a = new_agg("db1", &k1, 0, 0, 0);
	agg_set_run(a, 3);
	for (i = 0; i < 3; i++) {
		make_event(&ev, T0 + (int64_t)i * 10 * S, 9, NULL, "x", i + 1);
		match_one(a, &sqli_rule, "", &ev, NULL, 0);
		agg_tick(a, T0 + (int64_t)i * 10 * S);
	}
	agg_flush(a);
	ck_assert_uint_eq(k1.n, 4);
	for (i = 0; i < k1.n; i++)
		ck_assert_uint_eq(k1.inc[i]->revision, 3 * 65536 + i + 1);
	ck_assert(k1.inc[3]->closed);
	agg_destroy(&a);

	/* The next run re-reads the first line: the same incident, numbered
	 * above all of run 3's. */
	a = new_agg("db1", &k2, 0, 0, 0);
	agg_set_run(a, 4);
	make_event(&ev, T0, 9, NULL, "x", 1);
	match_one(a, &sqli_rule, "", &ev, NULL, 0);
	ck_assert_uint_eq(k2.n, 1);
	ck_assert_str_eq(k2.inc[0]->id, k1.inc[0]->id);
	ck_assert_uint_eq(k2.inc[0]->revision, 4 * 65536 + 1);
	ck_assert_uint_gt(k2.inc[0]->revision, k1.inc[3]->revision);
	agg_destroy(&a);

	/* Past the last run with a block of its own: that last block, whose
	 * numbers still fit in 32 bits. */
	a = new_agg("db1", &k3, 0, 0, 0);
	agg_set_run(a, 70000);
	match_one(a, &sqli_rule, "", &ev, NULL, 0);
	agg_flush(a);
	ck_assert_uint_eq(k3.n, 2);
	ck_assert_uint_eq(k3.inc[0]->revision, UINT32_C(65535) * 65536 + 1);
	ck_assert_uint_eq(k3.inc[1]->revision, UINT32_C(65535) * 65536 + 2);
	agg_destroy(&a);
	sink_free(&k1);
	sink_free(&k2);
	sink_free(&k3);
}
END_TEST

/* The last revision seen, and how many there were. */
struct last {
	uint32_t revision, n;
	uint64_t event_count;
	bool closed;
};

static void keep_last(const struct bw_incident *inc, void *arg)
{
	struct last *l = arg;

	ck_assert_uint_gt(inc->revision, l->revision);
	l->revision = inc->revision;
	l->event_count = inc->event_count;
	l->closed = inc->closed;
	l->n++;
}

/* An incident that changes at every interval uses up its run's block: the
 * changes past 2^16 - 2 revisions are withheld and counted, never numbered
 * into the next run's block, and the closing revision takes the block's
 * last number with everything. */
START_TEST(revision_block_full)
{
	struct agg_config cfg = {
	    .host = "db1",
	    .quiet_period_us = 600 * S,
	    .revision_interval_us = 1 * S,
	};
	const uint32_t n = 65536 + 100;
	struct last l = {0};
	struct agg_stats st;
	struct bw_event ev;
	struct agg *a;
	uint32_t i;

	a = agg_new(&cfg, keep_last, &l);
	agg_set_run(a, 7);
	for (i = 0; i < n; i++) {
		make_event(&ev, T0 + (int64_t)i * S, 9, NULL, "x", i + 1);
		match_one(a, &sqli_rule, "", &ev, NULL, 0);
		agg_tick(a, T0 + (int64_t)(i + 1) * S);
	}
	ck_assert_uint_eq(l.n, 65534);
	ck_assert_uint_eq(l.revision, 7 * 65536 + 65534);
	ck_assert(!l.closed);
	agg_get_stats(a, &st);
	ck_assert_uint_eq(st.revisions, 65534);
	ck_assert_uint_eq(st.revisions_withheld, n - 65534);
	agg_flush(a);
	ck_assert_uint_eq(l.n, 65535);
	ck_assert_uint_eq(l.revision, 7 * 65536 + 65535);
	ck_assert(l.closed);
	ck_assert_uint_eq(l.event_count, n);
	agg_destroy(&a);
}
END_TEST

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* <state_dir>/run: missing is 0; each call takes the next number and
 * writes it back; at the maximum it stays; anything else is refused. */
START_TEST(run_counter_numbers_runs)
{
	static const char *const bad[] = {"", "12", "x\n", "-1\n", "1 \n",
	                                  "100\n", "99999999999\n"};
	char dir[] = "/tmp/bw-test-run-XXXXXX", path[64], *text;
	struct bw_error err;
	uint32_t run = 0;
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/run", dir);
	ck_assert_int_eq(run_counter_next(dir, 99, &run, &err), 0);
	ck_assert_uint_eq(run, 1);
	ck_assert_int_eq(run_counter_next(dir, 99, &run, &err), 0);
	ck_assert_uint_eq(run, 2);
	ck_assert_int_eq(bw_file_read(path, 64, &text, &i, &err), 0);
	ck_assert_str_eq(text, "2\n");
	free(text);
	write_text(path, "98\n");
	ck_assert_int_eq(run_counter_next(dir, 99, &run, &err), 0);
	ck_assert_uint_eq(run, 99);
	ck_assert_int_eq(run_counter_next(dir, 99, &run, &err), 1);
	ck_assert_uint_eq(run, 99);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run = 0;
		write_text(path, bad[i]);
		ck_assert_int_eq(run_counter_next(dir, 99, &run, &err), -1);
		ck_assert_ptr_nonnull(strstr(err.msg, "not a run number"));
		ck_assert_uint_eq(run, 0);
	}
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
	/* A state directory that is not there: an error, not run 1. */
	ck_assert_int_eq(run_counter_next(dir, 99, &run, &err), -1);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("aggregate");
	TCase *tc = tcase_create("aggregate");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, one_incident_from_many_matches);
	tcase_add_test(tc, revisions_rate_limited);
	tcase_add_test(tc, quiet_close);
	tcase_add_test(tc, evidence_cap);
	tcase_add_test(tc, customers_dedup_and_cap);
	tcase_add_test(tc, many_customers);
	tcase_add_test(tc, hostile_strings);
	tcase_add_test(tc, deterministic_ids);
	tcase_add_test(tc, max_incidents_eviction);
	tcase_add_test(tc, evicted_key_gets_new_id);
	tcase_add_test(tc, defaults_and_null);
	tcase_add_test(tc, revisions_numbered_by_run);
	tcase_add_test(tc, revision_block_full);
	tcase_add_test(tc, run_counter_numbers_runs);
	suite_add_tcase(s, tc);
	return s;
}
