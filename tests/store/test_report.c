/*
 * test_report.c - the breach record of one incident (notifier/report.c) as
 * Markdown and JSON, from a real store; the operators' decisions about the
 * notices (approve, notify, update) among its decisions.
 */
#include <check.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "incident.h"
#include "outbox.h"
#include "report.h"
#include "store.h"
#include "xmalloc.h"
#include "check_main.h"
#include "fixture.h"

#define ID "bw-0123456789abcdef"

/* The report of id in format f at now_us, from the store at path. */
static char *report(const char *id, enum report_format f, int64_t now_us)
{
	struct bw_error err = {0};
	struct store *s = open_ok();
	struct bw_buf b;

	bw_buf_init(&b, 1 << 20);
	ck_assert_msg(report_write(s, id, f, now_us, &b, &err) == 0, "%s",
		      err.msg);
	store_close(&s);
	return bw_buf_steal(&b);
}

static void has(const char *text, const char *want)
{
	ck_assert_msg(strstr(text, want) != NULL, "missing \"%s\" in:\n%s",
		      want, text);
}

static size_t count(const char *text, const char *what)
{
	size_t n = 0;
	const char *p = text;

	while ((p = strstr(p, what)) != NULL) {
		n++;
		p += strlen(what);
	}
	return n;
}

START_TEST(test_markdown_has_everything)
{
	const char *step;
	char *md;

	fresh_dir();
	populate();
	md = report(ID, REPORT_MARKDOWN, T0 + 4 * HOUR);
	has(md, "# Breach record: One principal read many contact lists");
	/* Facts. */
	has(md, "| Rule | bulk-contacts (category bulk-read) |");
	has(md, "| Severity | high |");
	has(md, "| Host | db1 |");
	has(md, "| Actor | ip 203.0.113.9, user alice |");
	has(md, "| Detected | 2026-11-23T08:15:10Z |");
	has(md, "| Aware | 2026-11-23T08:15:00Z (set: first line) |");
	/* Awareness moved to T0: the deadline is 72 hours after it. */
	has(md, "(72 h from awareness) | 2026-11-26T08:15:00Z, 2 d 20 h after "
		"this report |");
	has(md, "closed 2026-11-23T10:15:00Z by frank: fixed");
	/* Effects: every customer with its first revision, the kinds. */
	has(md, "Affected customers: **3** (the full scope is not known)");
	has(md, "| c42 | 1 |");
	has(md, "| c7 | 1 |");
	has(md, "| c99 | 2 |");
	has(md, "Kinds of data: contact\\_list, account");
	has(md, "The customers' own credentials: yes");
	has(md, "GET /api/c42/contacts?token=\\*\\*\\*\\*");
	has(md, "23 more matching events were not kept");
	/* Remedial action: both steps, the agent's and the operator's. */
	has(md, "| 1 | block-ip | agent (revision 2) | 2026-11-23T08:15:02Z | "
		"2026-11-23T08:15:03Z | ok |");
	has(md, "| 2 | manual | erin | 2026-11-23T09:15:00Z |");
	has(md, "| ok | locked |");
	ck_assert_uint_eq(count(md, "| 3 | "), 0);
	/* Timeline: every revision and state change with its time. */
	has(md, "| 2026-11-23T08:15:10Z | revision 1 received | agent-db1 | "
		"severity high, 2 customers, 25 events |");
	has(md, "| 2026-11-23T08:15:20Z | revision 2 received | agent-db1 |");
	has(md, "| 2026-11-23T08:15:10Z | detected | agent-db1 | detected: "
		"revision 1 of rule bulk-contacts received from agent "
		"agent-db1 |");
	has(md, "| 2026-11-23T08:15:20Z | contained | agent-db1 | detected "
		"\u2192 contained: containment action block-ip succeeded "
		"(revision 2) |");
	has(md, "| 2026-11-23T10:15:00Z | closed | frank | contained \u2192 "
		"closed: fixed |");
	has(md, "| 2026-11-23T09:15:00Z | aware time set | erin | from "
		"2026-11-23T08:15:10Z to 2026-11-23T08:15:00Z: first line |");
	/* In time order: the step started before revision 1 came. */
	step = strstr(md, "| 2026-11-23T08:15:02Z | containment block-ip");
	ck_assert_ptr_nonnull(step);
	ck_assert(step < strstr(md, "revision 1 received"));
	/* Decisions with their reasons. */
	has(md, "- 2026-11-23T10:15:00Z, **closure** by frank: fixed\n");
	has(md, "**awareness** by erin: from 2026-11-23T08:15:10Z");
	has(md, "- 2026-11-23T11:15:00Z, **note** by frank: filed with the "
		"DPA");
	/* The chain. */
	has(md, "Hash chain: **verified**");
	has(md, "Head of the chain (SHA-256): `");
	free(md);

	md = report(ID, REPORT_MARKDOWN, T0 + 80 * HOUR);
	has(md, "2026-11-26T08:15:00Z, passed 8 h 0 min before this report");
	free(md);
	remove_dir();
}
END_TEST

static json_t *member(json_t *o, const char *path_)
{
	char *p = xstrdup(path_), *save = NULL, *key;
	json_t *j = o;

	for (key = strtok_r(p, ".", &save); key != NULL;
	     key = strtok_r(NULL, ".", &save)) {
		j = json_object_get(j, key);
		ck_assert_msg(j != NULL, "no member %s (at %s)", path_, key);
	}
	free(p);
	return j;
}

static const char *mstr(json_t *o, const char *p)
{
	json_t *j = member(o, p);

	ck_assert_msg(json_is_string(j), "%s is not a string", p);
	return json_string_value(j);
}

START_TEST(test_json_members)
{
	json_error_t jerr;
	json_t *o, *a, *x;
	char *text;
	size_t i;
	bool closure = false, awareness = false, note = false;

	fresh_dir();
	populate();
	text = report(ID, REPORT_JSON, T0 + 4 * HOUR);
	o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(o != NULL, "%s: %s", jerr.text, text);
	ck_assert_str_eq(mstr(o, "format"), "breachwatch-breach-record");
	ck_assert_int_eq(json_integer_value(member(o, "version")), 1);
	ck_assert_str_eq(mstr(o, "id"), ID);
	ck_assert_str_eq(mstr(o, "generated"), "2026-11-23T12:15:00Z");

	ck_assert_str_eq(mstr(o, "facts.what"),
			 "One principal read many contact lists");
	ck_assert_str_eq(mstr(o, "facts.rule"), "bulk-contacts");
	ck_assert_str_eq(mstr(o, "facts.host"), "db1");
	ck_assert_str_eq(mstr(o, "facts.actor.ip"), "203.0.113.9");
	ck_assert_str_eq(mstr(o, "facts.detected"), "2026-11-23T08:15:10Z");
	ck_assert_str_eq(mstr(o, "facts.aware"), "2026-11-23T08:15:00Z");
	ck_assert_str_eq(mstr(o, "facts.aware_reason"), "first line");
	ck_assert_str_eq(mstr(o, "facts.deadline"), "2026-11-26T08:15:00Z");
	ck_assert(json_is_false(member(o, "facts.deadline_passed")));
	ck_assert_str_eq(mstr(o, "facts.state"), "closed");
	ck_assert_str_eq(mstr(o, "facts.resolution"), "fixed");
	ck_assert_str_eq(mstr(o, "facts.closed_by"), "frank");
	ck_assert_int_eq(json_integer_value(member(o, "facts.revisions")), 2);

	ck_assert_int_eq(json_integer_value(
			     member(o, "effects.affected_customers_count")),
			 3);
	a = member(o, "effects.affected_customers");
	ck_assert_uint_eq(json_array_size(a), 3);
	ck_assert_str_eq(json_string_value(json_object_get(
			     json_array_get(a, 2), "id")),
			 "c99");
	ck_assert_int_eq(json_integer_value(json_object_get(
			     json_array_get(a, 2), "first_revision")),
			 2);
	ck_assert(json_is_true(member(o, "effects.affected_unknown")));
	ck_assert_uint_eq(json_array_size(member(o, "effects.data_kinds")), 2);
	ck_assert_uint_eq(json_array_size(member(o, "effects.evidence")), 2);

	a = member(o, "remedial_action");
	ck_assert_uint_eq(json_array_size(a), 2);
	x = json_array_get(a, 1);
	ck_assert_str_eq(json_string_value(json_object_get(x, "origin")),
			 "manual");
	ck_assert_str_eq(json_string_value(json_object_get(x, "operator")),
			 "erin");
	ck_assert_str_eq(json_string_value(json_object_get(x, "detail")),
			 "locked");
	x = json_array_get(a, 0);
	ck_assert_str_eq(json_string_value(json_object_get(x, "action")),
			 "block-ip");
	ck_assert(json_is_null(json_object_get(x, "operator")));

	/* 2 revisions, 3 state changes, 2 steps, 1 note, 1 clock change. */
	a = member(o, "timeline");
	ck_assert_uint_eq(json_array_size(a), 9);
	for (i = 1; i < json_array_size(a); i++)
		ck_assert_str_le(
		    json_string_value(
			json_object_get(json_array_get(a, i - 1), "at")),
		    json_string_value(
			json_object_get(json_array_get(a, i), "at")));

	a = member(o, "decisions");
	ck_assert_uint_eq(json_array_size(a), 3);
	for (i = 0; i < json_array_size(a); i++) {
		const char *kind, *reason;

		x = json_array_get(a, i);
		kind = json_string_value(json_object_get(x, "kind"));
		reason = json_string_value(json_object_get(x, "reason"));
		ck_assert_ptr_nonnull(kind);
		ck_assert_ptr_nonnull(reason);
		if (strcmp(kind, "closure") == 0) {
			closure = true;
			ck_assert_str_eq(reason, "fixed");
			ck_assert_str_eq(json_string_value(json_object_get(x, "by")),
					 "frank");
		} else if (strcmp(kind, "awareness") == 0) {
			awareness = true;
			ck_assert_str_eq(reason, "first line");
		} else if (strcmp(kind, "note") == 0) {
			note = true;
			ck_assert_str_eq(reason, "filed with the DPA");
		}
	}
	ck_assert(closure && awareness && note);

	ck_assert(json_is_true(member(o, "audit.verified")));
	ck_assert_int_gt(json_integer_value(member(o, "audit.entries")), 10);
	ck_assert_int_gt(
	    json_integer_value(member(o, "audit.entries_for_incident")), 10);
	ck_assert_uint_eq(strlen(mstr(o, "audit.head")), 64);
	ck_assert(json_is_null(member(o, "audit.first_bad")));
	json_decref(o);
	free(text);
	remove_dir();
}
END_TEST

START_TEST(test_broken_chain_reported)
{
	json_t *o;
	char *text, want[64];
	int64_t bad;

	fresh_dir();
	populate();
	bad = raw_int("SELECT MAX(seq) FROM audit WHERE object = 'incidents'");
	raw_exec("UPDATE incidents SET resolution = 'nothing to see'");
	text = report(ID, REPORT_MARKDOWN, T0 + 4 * HOUR);
	snprintf(want, sizeof(want), "**BROKEN** at entry %" PRId64, bad);
	has(text, want);
	free(text);
	text = report(ID, REPORT_JSON, T0 + 4 * HOUR);
	o = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_is_false(member(o, "audit.verified")));
	ck_assert_int_eq(json_integer_value(member(o, "audit.first_bad")), bad);
	ck_assert_ptr_nonnull(strstr(mstr(o, "audit.problem"), "incidents"));
	json_decref(o);
	free(text);
	remove_dir();
}
END_TEST

START_TEST(test_hostile_text)
{
	struct bw_incident *inc = make("bw-x", 1);
	json_t *o;
	char *md, *js;
	struct store *s;

	free(inc->title);
	inc->title = xstrdup("A | B <script> [x](http://e) *b* \xff end");
	free(inc->summary);
	inc->summary = xstrdup("line one\nline two");
	bw_incident_add_customer(inc, "c|1");
	fresh_dir();
	s = open_ok();
	put(s, inc, T0, true);
	store_close(&s);
	md = report("bw-x", REPORT_MARKDOWN, T0);
	has(md, "# Breach record: A \\| B &lt;script&gt; \\[x\\](http://e) "
		"\\*b\\* \\xff end\n");
	has(md, "line one<br>line two");
	has(md, "| c\\|1 | 1 |");
	ck_assert_ptr_null(strstr(md, "<script>"));
	js = report("bw-x", REPORT_JSON, T0);
	o = json_loads(js, 0, NULL);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(mstr(o, "facts.what"),
			 "A | B <script> [x](http://e) *b* \\xff end");
	ck_assert_str_eq(mstr(o, "facts.summary"), "line one\nline two");
	json_decref(o);
	free(md);
	free(js);
	bw_incident_destroy(&inc);
	remove_dir();
}
END_TEST

/* The populated incident after an approval, an operator's notify and an
 * update whose notice (version 2) was made. */
static void decide_all(void)
{
	struct bw_error err = {0};
	struct store *s = open_ok();
	struct outbox_decision_req d = {
		.decision = OUTBOX_NOTIFY,
		.operator_name = "erin",
		.reason = "ticket 12: staff had no reason",
		.customers = 3,
	};
	struct outbox_decided done;
	struct outbox_msg m = {
		.kind = OUTBOX_CUSTOMER,
		.customer_id = "c99",
		.version = 2,
		.reason = "update asked for by frank",
		.recipient = "c99@example.org",
		.recipient_kind = "primary",
		.state = OUTBOX_PENDING,
		.severity = BW_SEV_HIGH,
		.customers = 3,
		.message_id = "<c99.2@example.com>",
		.subject = "Update to our Notice of Data Breach",
		.message = "To: c99@example.org\r\n\r\nbody\r\n",
	};
	uint64_t released;

	ck_assert_int_eq(outbox_approve(s, ID, "dora", NULL, T0 + 2 * HOUR,
					&released, &err),
			 0);
	ck_assert_int_eq(outbox_decide(s, ID, &d, NULL, 0, "x",
				       T0 + 2 * HOUR + SEC, &done, &err),
			 0);
	d = (struct outbox_decision_req){.decision = OUTBOX_UPDATE,
					 .operator_name = "frank",
					 .reason = "the access was stopped",
					 .customers = 1};
	ck_assert_int_eq(outbox_decide(s, ID, &d, NULL, 0, "x",
				       T0 + 2 * HOUR + 2 * SEC, &done, &err),
			 0);
	m.customer_row = raw_int("SELECT id FROM customers WHERE customer_id ="
				 " 'c99'");
	ck_assert_msg(outbox_add(s, ID, &m, 1, "x", T0 + 2 * HOUR + 3 * SEC,
				 NULL, &err) == 0,
		      "%s", err.msg);
	store_close(&s);
}

START_TEST(test_decisions)
{
	json_error_t jerr;
	json_t *o, *a, *x;
	char *md, *text;
	size_t i;
	const char *kinds[3] = {0};

	fresh_dir();
	populate();
	decide_all();
	md = report(ID, REPORT_MARKDOWN, T0 + 4 * HOUR);
	has(md, "- Customers to be notified: yes (an operator's decision)");
	has(md, "- Customer notices approved, 2026-11-23T10:15:00Z, by dora: "
		"0 held notices released");
	has(md, "- Customers to be told (an operator's decision), "
		"2026-11-23T10:15:01Z, by erin: 3 customers named then, 0 held "
		"notices released: ticket 12: staff had no reason");
	has(md, "- Update of the customer notices asked for, "
		"2026-11-23T10:15:02Z, by frank: for the 1 customers sent a "
		"notice: the access was stopped");
	has(md, "| customer notice (update, version 2) | c99 |");
	has(md, "customer notice updates made (version 2)");
	has(md, "**notify** by erin: 3 customers named then");
	has(md, "**update** by frank: for the 1 customers");
	has(md, "**approval** by dora");
	free(md);

	text = report(ID, REPORT_JSON, T0 + 4 * HOUR);
	o = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	ck_assert_msg(o != NULL, "%s", jerr.text);
	ck_assert(json_is_true(member(o, "effects.notify_decided")));
	a = member(o, "notifications.approvals");
	ck_assert_uint_eq(json_array_size(a), 3);
	ck_assert_str_eq(mstr(json_array_get(a, 1), "decision"), "notify");
	ck_assert_str_eq(mstr(json_array_get(a, 2), "decision"), "update");
	ck_assert_int_eq(json_integer_value(json_object_get(
			     json_array_get(a, 2), "customers")),
			 1);
	a = member(o, "decisions");
	for (i = 0; i < json_array_size(a); i++) {
		x = json_array_get(a, i);
		if (strcmp(mstr(x, "kind"), "approval") == 0)
			kinds[0] = mstr(x, "by");
		else if (strcmp(mstr(x, "kind"), "notify") == 0)
			kinds[1] = mstr(x, "reason");
		else if (strcmp(mstr(x, "kind"), "update") == 0)
			kinds[2] = mstr(x, "reason");
	}
	ck_assert_str_eq(kinds[0], "dora");
	ck_assert_str_eq(kinds[1], "ticket 12: staff had no reason");
	ck_assert_str_eq(kinds[2], "the access was stopped");
	ck_assert(json_is_true(member(o, "audit.verified")));
	json_decref(o);
	free(text);
	remove_dir();
}
END_TEST

START_TEST(test_errors)
{
	struct bw_error err = {0};
	enum report_format f;
	struct store *s;
	struct bw_buf b;

	fresh_dir();
	populate();
	s = open_ok();
	bw_buf_init(&b, 200);
	ck_assert_int_eq(
	    report_write(s, ID, REPORT_MARKDOWN, T0, &b, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than 200 bytes"));
	bw_buf_reset(&b);
	ck_assert_int_eq(report_write(s, ID, REPORT_JSON, T0, &b, &err), -1);
	bw_buf_free(&b);
	bw_buf_init(&b, 1 << 20);
	ck_assert_int_eq(
	    report_write(s, "bw-none", REPORT_MARKDOWN, T0, &b, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no incident"));
	bw_buf_free(&b);
	store_close(&s);
	remove_dir();

	ck_assert_int_eq(report_format_by_name("md", &f), 0);
	ck_assert_int_eq(f, REPORT_MARKDOWN);
	ck_assert_int_eq(report_format_by_name("json", &f), 0);
	ck_assert_int_eq(f, REPORT_JSON);
	ck_assert_int_eq(report_format_by_name("pdf", &f), -1);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, test_markdown_has_everything);
	tcase_add_test(tc, test_json_members);
	tcase_add_test(tc, test_broken_chain_reported);
	tcase_add_test(tc, test_hostile_text);
	tcase_add_test(tc, test_decisions);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}
