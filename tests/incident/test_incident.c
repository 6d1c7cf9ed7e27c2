/*
 * test_incident.c - the incident model and its strict JSON codec.
 */
#include <check.h>
#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwtime.h"
#include "incident.h"
#include "xmalloc.h"
#include "check_main.h"

/* 2026-11-23T08:15:00Z */
#define T0 INT64_C(1795421700000000)

static struct bw_incident *sample(void)
{
	struct bw_incident *inc = bw_incident_new();

	inc->id = xstrdup("bw-0123456789abcdef");
	inc->revision = 3;
	inc->rule = xstrdup("bulk-contacts");
	inc->category = xstrdup("bulk-read");
	inc->severity = BW_SEV_HIGH;
	inc->title = xstrdup("One principal read many contact lists");
	inc->summary =
	    xstrdup("alice read 3 lists from 203.0.113.9 \"quoted\" \xc3\xa9");
	inc->first_seen_us = T0;
	inc->last_seen_us = T0 + 1234567;
	inc->host = xstrdup("db1");
	bw_incident_set_actor(inc, "ip", "203.0.113.9");
	bw_incident_set_actor(inc, "user", "alice");
	bw_incident_add_customer(inc, "c42");
	bw_incident_add_customer(inc, "c7");
	bw_incident_add_customer(inc, "c1000");
	inc->affected_unknown = true;
	bw_incident_add_data_kind(inc, "contact_list");
	inc->event_count = 25;
	bw_incident_add_evidence(inc, T0, "nginx",
	                         "/var/log/nginx/access.log:12",
	                         "GET /api/c42/contacts?token=****");
	bw_incident_add_evidence(inc, T0 + 1234567, "pcap", "x.pcap#17",
	                         "line\\x0aend");
	inc->evidence_omitted = 23;
	inc->notify_customers = true;
	inc->credentials = false;
	bw_incident_add_step(inc, "block-ip", T0 + 2000000, T0 + 2500000, "ok",
	                     "exit 0");
	bw_incident_add_step(inc, "manual", T0 + 3000000, 0, "running", "");
	return inc;
}

static void assert_same(const struct bw_incident *a,
                        const struct bw_incident *b)
{
	size_t i;

	ck_assert_str_eq(a->id, b->id);
	ck_assert_uint_eq(a->revision, b->revision);
	ck_assert_str_eq(a->rule, b->rule);
	ck_assert_str_eq(a->category, b->category);
	ck_assert_int_eq(a->severity, b->severity);
	ck_assert_str_eq(a->title, b->title);
	ck_assert_pstr_eq(a->summary, b->summary);
	ck_assert_int_eq(a->first_seen_us, b->first_seen_us);
	ck_assert_int_eq(a->last_seen_us, b->last_seen_us);
	ck_assert_str_eq(a->host, b->host);
	ck_assert_uint_eq(a->n_actor, b->n_actor);
	for (i = 0; i < a->n_actor; i++) {
		ck_assert_str_eq(a->actor[i].key, b->actor[i].key);
		ck_assert_str_eq(a->actor[i].value, b->actor[i].value);
	}
	ck_assert_uint_eq(a->n_customers, b->n_customers);
	for (i = 0; i < a->n_customers; i++)
		ck_assert_str_eq(a->customers[i], b->customers[i]);
	ck_assert_int_eq(a->affected_unknown, b->affected_unknown);
	ck_assert_uint_eq(a->n_data_kinds, b->n_data_kinds);
	for (i = 0; i < a->n_data_kinds; i++)
		ck_assert_str_eq(a->data_kinds[i], b->data_kinds[i]);
	ck_assert_uint_eq(a->event_count, b->event_count);
	ck_assert_uint_eq(a->n_evidence, b->n_evidence);
	for (i = 0; i < a->n_evidence; i++) {
		ck_assert_int_eq(a->evidence[i].ts_us, b->evidence[i].ts_us);
		ck_assert_str_eq(a->evidence[i].source, b->evidence[i].source);
		ck_assert_str_eq(a->evidence[i].ref, b->evidence[i].ref);
		ck_assert_str_eq(a->evidence[i].excerpt,
		                 b->evidence[i].excerpt);
	}
	ck_assert_uint_eq(a->evidence_omitted, b->evidence_omitted);
	ck_assert_int_eq(a->notify_customers, b->notify_customers);
	ck_assert_int_eq(a->credentials, b->credentials);
	ck_assert_int_eq(a->closed, b->closed);
	ck_assert_uint_eq(a->n_steps, b->n_steps);
	for (i = 0; i < a->n_steps; i++) {
		ck_assert_str_eq(a->steps[i].action, b->steps[i].action);
		ck_assert_int_eq(a->steps[i].started_us,
		                 b->steps[i].started_us);
		ck_assert_int_eq(a->steps[i].finished_us,
		                 b->steps[i].finished_us);
		ck_assert_str_eq(a->steps[i].status, b->steps[i].status);
		ck_assert_str_eq(a->steps[i].detail, b->steps[i].detail);
	}
}

START_TEST(severity_names)
{
	ck_assert_str_eq(bw_severity_name(BW_SEV_LOW), "low");
	ck_assert_str_eq(bw_severity_name(BW_SEV_CRITICAL), "critical");
	ck_assert_ptr_null(bw_severity_name(0));
	ck_assert_ptr_null(bw_severity_name((enum bw_severity)99));
	ck_assert_int_eq(bw_severity_by_name("medium"), BW_SEV_MEDIUM);
	ck_assert_int_eq(bw_severity_by_name("high"), BW_SEV_HIGH);
	ck_assert_int_eq(bw_severity_by_name("HIGH"), 0);
	ck_assert_int_eq(bw_severity_by_name(""), 0);
	ck_assert_int_eq(bw_severity_by_name(NULL), 0);
}
END_TEST

START_TEST(round_trip)
{
	struct bw_incident *inc = sample(), *back;
	struct bw_error err;
	char *json, *json2;

	json = bw_incident_to_json(inc);
	ck_assert_ptr_null(strchr(json, '\n'));
	back = bw_incident_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	assert_same(inc, back);
	json2 = bw_incident_to_json(back);
	ck_assert_str_eq(json, json2);
	free(json);
	free(json2);
	bw_incident_destroy(&back);
	bw_incident_destroy(&inc);
	ck_assert_ptr_null(inc);
}
END_TEST

/* The exact text: member order, time format, nulls for unset step times. */
START_TEST(encoding_is_stable)
{
	struct bw_incident *inc = bw_incident_new();
	char *json;

	inc->id = xstrdup("bw-1");
	inc->revision = 1;
	inc->rule = xstrdup("r");
	inc->category = xstrdup("c");
	inc->severity = BW_SEV_LOW;
	inc->title = xstrdup("t");
	inc->first_seen_us = T0;
	inc->last_seen_us = T0 + 5;
	inc->host = xstrdup("h");
	bw_incident_add_customer(inc, "b");
	bw_incident_add_customer(inc, "a");
	inc->event_count = 1;
	bw_incident_add_step(inc, "manual", 0, 0, "planned", "");
	json = bw_incident_to_json(inc);
	ck_assert_str_eq(
	    json,
	    "{\"id\":\"bw-1\",\"revision\":1,\"rule\":\"r\","
	    "\"category\":\"c\",\"severity\":\"low\",\"title\":\"t\","
	    "\"first_seen\":\"2026-11-23T08:15:00Z\","
	    "\"last_seen\":\"2026-11-23T08:15:00.000005Z\",\"host\":\"h\","
	    "\"affected_customers\":[\"b\",\"a\"],"
	    "\"affected_unknown\":false,\"data_kinds\":[],"
	    "\"event_count\":1,\"evidence\":[],\"evidence_omitted\":0,"
	    "\"notify_customers\":false,\"credentials\":false,"
	    "\"containment\":[{\"action\":\"manual\",\"started\":null,"
	    "\"finished\":null,\"status\":\"planned\",\"detail\":\"\"}],"
	    "\"closed\":false}");
	free(json);
	bw_incident_destroy(&inc);
}
END_TEST

START_TEST(invalid_utf8_is_replaced)
{
	struct bw_incident *inc = sample(), *back;
	struct bw_error err;
	char *json;

	free(inc->title);
	inc->title = xstrdup("a\xff"
	                     "b");
	json = bw_incident_to_json(inc);
	back = bw_incident_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s", err.msg);
	ck_assert_str_eq(back->title, "a\xef\xbf\xbd"
	                              "b");
	free(json);
	bw_incident_destroy(&back);
	bw_incident_destroy(&inc);
}
END_TEST

START_TEST(dup_is_deep)
{
	struct bw_incident *inc = sample(), *copy;

	copy = bw_incident_dup(inc);
	assert_same(inc, copy);
	ck_assert_ptr_ne(inc->customers[0], copy->customers[0]);
	ck_assert_ptr_ne(inc->evidence[0].excerpt, copy->evidence[0].excerpt);
	bw_incident_destroy(&inc);
	/* The copy lives on after the original is gone. */
	ck_assert_str_eq(copy->customers[2], "c1000");
	ck_assert_str_eq(copy->steps[1].status, "running");
	bw_incident_destroy(&copy);
	bw_incident_destroy(&copy); /* NULL is accepted */
}
END_TEST

START_TEST(optional_members)
{
	static const char *const text =
	    "{\"id\":\"x\",\"revision\":2,\"rule\":\"r\",\"category\":\"\","
	    "\"severity\":\"critical\",\"title\":\"t\","
	    "\"first_seen\":\"2026-11-23T09:15:00+01:00\","
	    "\"last_seen\":\"2026-11-23T08:15:00.5Z\",\"host\":\"h\","
	    "\"affected_customers\":[],\"affected_unknown\":true,"
	    "\"event_count\":7,\"evidence\":[],\"notify_customers\":true,"
	    "\"containment\":[]}";
	struct bw_incident *inc;
	struct bw_error err;

	inc = bw_incident_from_json(text, strlen(text), &err);
	ck_assert_msg(inc != NULL, "%s", err.msg);
	ck_assert_ptr_null(inc->summary);
	ck_assert_uint_eq(inc->n_actor, 0);
	ck_assert_uint_eq(inc->n_data_kinds, 0);
	ck_assert_uint_eq(inc->evidence_omitted, 0);
	ck_assert(!inc->credentials);
	ck_assert(!inc->closed);
	ck_assert_int_eq(inc->severity, BW_SEV_CRITICAL);
	ck_assert_int_eq(inc->first_seen_us, T0);
	ck_assert_int_eq(inc->last_seen_us, T0 + 500000);
	bw_incident_destroy(&inc);
}
END_TEST

/*
 * Strictness: each case changes one member of a valid incident (a path of
 * member names and array indices separated by '.') to a JSON value, or
 * deletes it (value NULL), and names the error expected.
 */
struct strict_case {
	const char *path;
	const char *value;
	const char *error;
};

static const struct strict_case strict_cases[] = {
    {"foo", "1", "foo: unknown member"},
    {"evidence.0.foo", "1", "evidence[0].foo: unknown member"},
    {"containment.1.extra", "\"x\"", "containment[1].extra: unknown member"},
    {"id", NULL, "id: missing"},
    {"revision", NULL, "revision: missing"},
    {"rule", NULL, "rule: missing"},
    {"category", NULL, "category: missing"},
    {"severity", NULL, "severity: missing"},
    {"title", NULL, "title: missing"},
    {"first_seen", NULL, "first_seen: missing"},
    {"last_seen", NULL, "last_seen: missing"},
    {"host", NULL, "host: missing"},
    {"affected_customers", NULL, "affected_customers: missing"},
    {"affected_unknown", NULL, "affected_unknown: missing"},
    {"event_count", NULL, "event_count: missing"},
    {"evidence", NULL, "evidence: missing"},
    {"notify_customers", NULL, "notify_customers: missing"},
    {"containment", NULL, "containment: missing"},
    {"evidence.1.ref", NULL, "evidence[1].ref: missing"},
    {"evidence.0.ts", NULL, "evidence[0].ts: missing"},
    {"containment.0.status", NULL, "containment[0].status: missing"},
    {"id", "\"\"", "id: empty"},
    {"id", "7", "id: not a string"},
    {"revision", "0", "revision: out of range"},
    {"revision", "4294967296", "revision: out of range"},
    {"revision", "\"1\"", "revision: not an integer"},
    {"revision", "1.0", "revision: not an integer"},
    {"event_count", "-1", "event_count: out of range"},
    {"evidence_omitted", "true", "evidence_omitted: not an integer"},
    {"severity", "\"urgent\"", "severity: not a severity name"},
    {"severity", "\"High\"", "severity: not a severity name"},
    {"severity", "3", "severity: not a string"},
    {"first_seen", "\"yesterday\"", "first_seen: not an RFC 3339 time"},
    {"last_seen", "\"2026-11-23T08:15:00\"", "last_seen: not an RFC 3339 time"},
    {"last_seen", "\"2026-11-23T08:14:59Z\"", "last_seen: before first_seen"},
    {"first_seen", "1795421700", "first_seen: not a string"},
    {"last_seen", "\"9999-12-31T23:59:59-01:00\"",
     "last_seen: time out of range"},
    {"first_seen", "\"0000-12-31T23:59:59Z\"", "first_seen: time out of range"},
    {"evidence.1.ts", "\"2026-13-01T00:00:00Z\"",
     "evidence[1].ts: not an RFC 3339 time"},
    {"containment.0.started", "\"soon\"",
     "containment[0].started: not an RFC 3339 time"},
    {"containment.0.finished", "5",
     "containment[0].finished: not a time or null"},
    {"containment.0.action", "\"\"", "containment[0].action: empty"},
    {"affected_unknown", "\"yes\"", "affected_unknown: not a boolean"},
    {"notify_customers", "null", "notify_customers: not a boolean"},
    {"closed", "1", "closed: not a boolean"},
    {"credentials", "0", "credentials: not a boolean"},
    {"affected_customers", "{}", "affected_customers: not an array"},
    {"affected_customers", "[\"a\",\"b\",\"a\"]",
     "affected_customers[2]: duplicate customer id"},
    {"affected_customers", "[\"a\",\"\"]", "affected_customers[1]: empty"},
    {"affected_customers", "[\"a\",3]", "affected_customers[1]: not a string"},
    {"affected_customers", "[\"a\",\"b\\u0000c\"]",
     "affected_customers[1]: contains a NUL byte"},
    {"title", "\"bad\\u0000title\"", "title: contains a NUL byte"},
    {"evidence.2.excerpt", "\"a\\u0000\"",
     "evidence[2].excerpt: contains a NUL byte"},
    {"data_kinds", "\"contact_list\"", "data_kinds: not an array"},
    {"data_kinds", "[\"x\",null]", "data_kinds[1]: not a string"},
    {"evidence", "{}", "evidence: not an array"},
    {"evidence.1", "5", "evidence[1]: not an object"},
    {"evidence.1.source", "[]", "evidence[1].source: not a string"},
    {"containment", "[1]", "containment[0]: not an object"},
    {"actor", "[]", "actor: not an object"},
    {"actor", "{\"ip\":5}", "actor.ip: not a string"},
    {"actor", "{\"\":\"x\"}", "actor: empty member name"},
    {"actor", "{\"ip\":\"a\\u0000b\"}", "actor.ip: contains a NUL byte"},
    {"summary", "null", "summary: not a string"},
};

/* Set (or delete, value NULL) the member at a dotted path. */
static void patch(json_t *root, const char *path, const char *value)
{
	char buf[128], *part, *save = NULL, *next;
	json_t *cur = root, *v = NULL;
	json_error_t jerr;

	snprintf(buf, sizeof(buf), "%s", path);
	part = strtok_r(buf, ".", &save);
	for (;;) {
		next = strtok_r(NULL, ".", &save);
		if (next == NULL)
			break;
		if (json_is_array(cur))
			cur = json_array_get(cur, strtoul(part, NULL, 10));
		else
			cur = json_object_get(cur, part);
		ck_assert_ptr_nonnull(cur);
		part = next;
	}
	if (value != NULL) {
		v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		ck_assert_msg(v != NULL, "bad test value %s", value);
	}
	if (json_is_array(cur)) {
		size_t i = strtoul(part, NULL, 10);

		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(json_array_set_new(cur, i, v), 0);
	} else if (v != NULL) {
		ck_assert_int_eq(json_object_set_new(cur, part, v), 0);
	} else {
		ck_assert_int_eq(json_object_del(cur, part), 0);
	}
}

/* A valid incident with 3 evidence items and 2 steps, as a json_t. */
static json_t *sample_json(void)
{
	struct bw_incident *inc = sample();
	json_error_t jerr;
	json_t *root;
	char *s;

	bw_incident_add_evidence(inc, T0 + 7, "sshd", "/var/log/auth.log:9",
	                         "x");
	s = bw_incident_to_json(inc);
	root = json_loads(s, 0, &jerr);
	ck_assert_ptr_nonnull(root);
	free(s);
	bw_incident_destroy(&inc);
	return root;
}

static void expect_error(const char *json, size_t len, const char *error)
{
	struct bw_incident *inc;
	struct bw_error err;

	memset(&err, 0, sizeof(err));
	inc = bw_incident_from_json(json, len, &err);
	ck_assert_msg(inc == NULL, "accepted, expected \"%s\"", error);
	ck_assert_msg(strstr(err.msg, error) != NULL,
	              "got \"%s\", expected \"%s\"", err.msg, error);
}

START_TEST(strict)
{
	const struct strict_case *c = &strict_cases[_i];
	json_t *root = sample_json();
	char *s;

	patch(root, c->path, c->value);
	s = json_dumps(root, JSON_COMPACT);
	ck_assert_ptr_nonnull(s);
	expect_error(s, strlen(s), c->error);
	free(s);
	json_decref(root);
}
END_TEST

/* Each string limit: at the limit it passes, one byte over it fails. */
static void expect_string_limit(const char *path, size_t max, const char *error)
{
	json_t *root;
	struct bw_incident *inc;
	struct bw_error err;
	char *big, *s;
	int pass;

	big = xmalloc(max + 4);
	for (pass = 0; pass < 2; pass++) {
		size_t len = max + (size_t)pass;

		big[0] = '"';
		memset(big + 1, 'a', len);
		big[len + 1] = '"';
		big[len + 2] = '\0';
		root = sample_json();
		patch(root, path, big);
		s = json_dumps(root, JSON_COMPACT);
		if (pass == 0) {
			inc = bw_incident_from_json(s, strlen(s), &err);
			ck_assert_msg(inc != NULL, "%s", err.msg);
			bw_incident_destroy(&inc);
		} else {
			expect_error(s, strlen(s), error);
		}
		free(s);
		json_decref(root);
	}
	free(big);
}

START_TEST(string_limits)
{
	expect_string_limit("evidence.2.excerpt", BW_INC_MAX_EXCERPT,
	                    "evidence[2].excerpt: longer than 1024 bytes");
	expect_string_limit("title", BW_INC_MAX_STR,
	                    "title: longer than 4096 bytes");
	expect_string_limit("affected_customers.1", BW_INC_MAX_STR,
	                    "affected_customers[1]: longer than 4096 bytes");
	expect_string_limit("containment.1.detail", BW_INC_MAX_STR,
	                    "containment[1].detail: longer than 4096 bytes");
	expect_string_limit("actor.user", BW_INC_MAX_STR,
	                    "actor.user: longer than 4096 bytes");
}
END_TEST

/* An array member with n items, each pre, a number, post. */
static void expect_count_limit(const char *member, const char *pre,
                               const char *post, size_t n, const char *error)
{
	json_t *root = sample_json(), *arr;
	json_error_t jerr;
	struct bw_incident *inc;
	struct bw_error err;
	size_t i;
	char *s;

	arr = json_array();
	for (i = 0; i < n; i++) {
		char buf[256];
		json_t *v;

		/* Customer ids must differ: the number makes them. */
		snprintf(buf, sizeof(buf), "%s%zu%s", pre, i, post);
		v = json_loads(buf, JSON_DECODE_ANY, &jerr);
		ck_assert_ptr_nonnull(v);
		json_array_append_new(arr, v);
	}
	json_object_set_new(root, member, arr);
	s = json_dumps(root, JSON_COMPACT);
	ck_assert_ptr_nonnull(s);
	inc = bw_incident_from_json(s, strlen(s), &err);
	if (error == NULL) {
		ck_assert_msg(inc != NULL, "%s", err.msg);
		bw_incident_destroy(&inc);
	} else {
		ck_assert_ptr_null(inc);
		ck_assert_str_eq(err.msg, error);
	}
	free(s);
	json_decref(root);
}

#define EVIDENCE_ITEM                                                          \
	"{\"ts\":\"2026-11-23T08:15:00Z\",\"source\":\"nginx\",\"ref\":\"f:",  \
	    "\",\"excerpt\":\"x\"}"
#define STEP_ITEM                                                              \
	"{\"action\":\"a",                                                     \
	    "\",\"started\":null,\"finished\":null,\"status\":\"ok\","         \
	    "\"detail\":\"\"}"
#define KIND_ITEM "\"k", "\""

START_TEST(count_limits)
{
	expect_count_limit("evidence", EVIDENCE_ITEM, BW_INC_MAX_EVIDENCE,
	                   NULL);
	expect_count_limit("evidence", EVIDENCE_ITEM, BW_INC_MAX_EVIDENCE + 1,
	                   "evidence: more than 256 items");
	expect_count_limit("containment", STEP_ITEM, BW_INC_MAX_STEPS, NULL);
	expect_count_limit("containment", STEP_ITEM, BW_INC_MAX_STEPS + 1,
	                   "containment: more than 1024 items");
	expect_count_limit("data_kinds", KIND_ITEM, BW_INC_MAX_DATA_KINDS,
	                   NULL);
	expect_count_limit("data_kinds", KIND_ITEM, BW_INC_MAX_DATA_KINDS + 1,
	                   "data_kinds: more than 32 items");
}
END_TEST

START_TEST(too_many_customers)
{
	expect_count_limit("affected_customers", "\"c", "\"",
	                   BW_INC_MAX_CUSTOMERS + 1,
	                   "affected_customers: more than 1000000 items");
}
END_TEST

START_TEST(too_many_actor_members)
{
	json_t *root = sample_json(), *actor = json_object();
	char key[16], *s;
	int i;

	for (i = 0; i <= BW_INC_MAX_ACTOR; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		json_object_set_new(actor, key, json_string("v"));
	}
	json_object_set_new(root, "actor", actor);
	s = json_dumps(root, JSON_COMPACT);
	expect_error(s, strlen(s), "actor: more than 16 members");
	free(s);
	json_decref(root);
}
END_TEST

/* What cannot be made by patching a valid incident. */
START_TEST(bad_documents)
{
	struct bw_incident *inc = sample();
	char *good = bw_incident_to_json(inc), *bad;
	size_t len = strlen(good);

	/* A duplicate member. */
	bad = xasprintf("{\"id\":\"dup\",%s", good + 1);
	expect_error(bad, strlen(bad), "duplicate");
	free(bad);
	/* Trailing bytes after the object. */
	bad = xasprintf("%s{}", good);
	expect_error(bad, strlen(bad), "json:");
	free(bad);
	/* Cut short. */
	expect_error(good, len - 1, "json:");
	/* A raw NUL byte inside the text. */
	bad = xstrdup(good);
	bad[10] = '\0';
	expect_error(bad, len, "json:");
	free(bad);
	/* Not an object. */
	expect_error("[]", 2, "incident: not an object");
	expect_error("", 0, "json:");
	expect_error("null", 4, "json:");
	/* Invalid UTF-8 in a string. */
	expect_error("{\"id\":\"\xff\"}", 9, "json:");
	/* Bigger than the whole-document limit: refused before parsing. */
	expect_error(good, (size_t)BW_INC_MAX_JSON + 1,
	             "incident: longer than");
	free(good);
	bw_incident_destroy(&inc);
}
END_TEST

/* Error messages name members safely even when the input's names are not
 * printable. */
START_TEST(unknown_member_is_printable)
{
	static const char text[] = "{\"\\u0001\\u00e9x\":1}";
	struct bw_error err;
	struct bw_incident *inc;

	inc = bw_incident_from_json(text, sizeof(text) - 1, &err);
	ck_assert_ptr_null(inc);
	ck_assert_str_eq(err.msg, "???x: unknown member");
}
END_TEST

/* The fuzz corpus doubles as fixtures: valid-* decode, broken-* do not. */
START_TEST(corpus_files)
{
	const char *dir = BW_SOURCE_DIR "/tests/incident/fuzz-corpus";
	struct bw_incident *inc;
	struct bw_error err;
	struct dirent *de;
	char path[4096], *data;
	int n_valid = 0, n_broken = 0;
	size_t len;
	FILE *f;
	DIR *d;

	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	data = xmalloc(1 << 20);
	while ((de = readdir(d)) != NULL) {
		bool valid = strncmp(de->d_name, "valid-", 6) == 0;

		if (!valid && strncmp(de->d_name, "broken-", 7) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		len = fread(data, 1, 1 << 20, f);
		fclose(f);
		memset(&err, 0, sizeof(err));
		inc = bw_incident_from_json(data, len, &err);
		if (valid) {
			ck_assert_msg(inc != NULL, "%s: %s", de->d_name,
			              err.msg);
			n_valid++;
		} else {
			ck_assert_msg(inc == NULL, "%s accepted", de->d_name);
			ck_assert_msg(err.msg[0] != '\0', "%s: no message",
			              de->d_name);
			n_broken++;
		}
		bw_incident_destroy(&inc);
	}
	closedir(d);
	free(data);
	ck_assert_int_ge(n_valid, 3);
	ck_assert_int_ge(n_broken, 10);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("incident");
	TCase *tc = tcase_create("json");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, severity_names);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, encoding_is_stable);
	tcase_add_test(tc, invalid_utf8_is_replaced);
	tcase_add_test(tc, dup_is_deep);
	tcase_add_test(tc, optional_members);
	tcase_add_loop_test(
	    tc, strict, 0,
	    (int)(sizeof(strict_cases) / sizeof(strict_cases[0])));
	tcase_add_test(tc, string_limits);
	tcase_add_test(tc, count_limits);
	tcase_add_test(tc, too_many_customers);
	tcase_add_test(tc, too_many_actor_members);
	tcase_add_test(tc, bad_documents);
	tcase_add_test(tc, unknown_member_is_printable);
	tcase_add_test(tc, corpus_files);
	suite_add_tcase(s, tc);
	return s;
}
