/*
 * cmd_show.c - breachwatch show ID: one incident for a person.
 *
 * The notifier answers with the incident's breach record (the members of
 * the report's JSON, docs/breach-record.md) without the chain check; this
 * prints it in sections: the incident, its clocks and deadline, the
 * customers, data and evidence, containment, the notifications (and the
 * operators' decisions about them), notes, and the timeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "args.h"
#include "client.h"
#include "out.h"

/* Customers and evidence items printed at most; --json has them all. */
#define SHOW_MAX_CUSTOMERS 50
#define SHOW_MAX_EVIDENCE 20

static void field(const char *label, const char *value)
{
	printf("  %-12s ", label);
	out_text(stdout, value, false);
	putchar('\n');
}

static void facts(const json_t *rec)
{
	const json_t *f = json_object_get(rec, "facts");
	const json_t *actor = json_object_get(f, "actor");
	const char *key;
	json_t *v;
	char buf[160];

	printf("Incident ");
	out_text(stdout, out_str(rec, "id"), false);
	printf("\n");
	field("Title", out_str(f, "what"));
	if (out_str(f, "summary") != NULL)
		field("Summary", out_str(f, "summary"));
	field("Severity", out_str(f, "severity"));
	field("State", out_str(f, "state"));
	field("Rule", out_str(f, "rule"));
	field("Category", out_str(f, "category"));
	field("Host", out_str(f, "host"));
	json_object_foreach((json_t *)actor, key, v) {
		snprintf(buf, sizeof(buf), "Actor %s", key);
		field(buf, json_string_value(v));
	}
	field("First seen", out_str(f, "first_seen"));
	field("Last seen", out_str(f, "last_seen"));
	snprintf(buf, sizeof(buf), "%lld", out_int(f, "event_count"));
	field("Events", buf);
	snprintf(buf, sizeof(buf), "%lld (%lld stored)", out_int(f, "revision"),
		 out_int(f, "revisions"));
	field("Revision", buf);
}

static void clocks(const json_t *rec)
{
	const json_t *f = json_object_get(rec, "facts");
	const char *deadline = out_str(f, "deadline");
	char buf[200], span[40];
	int64_t dl;

	printf("\nClocks\n");
	field("Detected", out_str(f, "detected"));
	field("Aware", out_str(f, "aware"));
	if (out_str(f, "aware_reason") != NULL)
		field("  because", out_str(f, "aware_reason"));
	if (deadline != NULL &&
	    bw_time_parse_rfc3339(deadline, strlen(deadline), &dl) == 0) {
		int64_t left = dl - bw_now_us();

		if (left >= 0)
			snprintf(buf, sizeof(buf), "%s (GDPR 72 h: in %s)",
				 deadline, out_span(left, span, sizeof(span)));
		else
			snprintf(buf, sizeof(buf),
				 "%s (GDPR 72 h: passed %s ago)", deadline,
				 out_span(left, span, sizeof(span)));
		field("Deadline", buf);
	}
	field("Contained", out_str(f, "contained"));
	field("Notified", out_str(f, "notified"));
	field("Closed", out_str(f, "closed"));
	if (out_str(f, "closed_by") != NULL) {
		field("Closed by", out_str(f, "closed_by"));
		field("Resolution", out_str(f, "resolution"));
	}
}

static void effects(const json_t *rec)
{
	const json_t *e = json_object_get(rec, "effects");
	const json_t *list = json_object_get(e, "affected_customers");
	const json_t *kinds = json_object_get(e, "data_kinds");
	const json_t *ev = json_object_get(e, "evidence");
	size_t i;
	json_t *x;

	printf("\nCustomers (%lld%s)\n", out_int(e, "affected_customers_count"),
	       json_is_true(json_object_get(e, "affected_unknown"))
		       ? ", and the scope is not known" : "");
	json_array_foreach(list, i, x) {
		if (i == SHOW_MAX_CUSTOMERS) {
			printf("  ... %zu more (--json lists them all)\n",
			       json_array_size(list) - i);
			break;
		}
		printf("  ");
		out_text(stdout, out_str(x, "id"), false);
		printf("  (revision %lld)\n", out_int(x, "first_revision"));
	}
	if (json_array_size(kinds) > 0) {
		printf("\nData\n");
		json_array_foreach(kinds, i, x) {
			printf("  ");
			out_text(stdout, json_string_value(x), false);
			putchar('\n');
		}
	}
	printf("\nEvidence (%zu kept, %lld omitted)\n", json_array_size(ev),
	       out_int(e, "evidence_omitted"));
	json_array_foreach(ev, i, x) {
		if (i == SHOW_MAX_EVIDENCE) {
			printf("  ... %zu more (--json lists them all)\n",
			       json_array_size(ev) - i);
			break;
		}
		printf("  %s  ", out_str(x, "ts") ? out_str(x, "ts") : "-");
		out_text(stdout, out_str(x, "source"), false);
		printf("  ");
		out_text(stdout, out_str(x, "ref"), false);
		printf("\n    ");
		out_text(stdout, out_str(x, "excerpt"), false);
		putchar('\n');
	}
}

static void containment(const json_t *rec)
{
	static const char *const headers[] = { "STARTED", "BY", "ACTION",
					       "STATUS", "DETAIL" };
	const json_t *steps = json_object_get(rec, "remedial_action");
	struct out_table *t;
	size_t i;
	json_t *x;

	printf("\nContainment\n");
	if (json_array_size(steps) == 0) {
		printf("  (no steps)\n");
		return;
	}
	t = out_table_new(5, headers);
	json_array_foreach(steps, i, x) {
		const char *by = out_str(x, "operator");
		const char *cells[5] = {
			out_str(x, "started"),
			by != NULL ? by : out_str(x, "origin"),
			out_str(x, "action"),
			out_str(x, "status"),
			out_str(x, "detail"),
		};

		out_table_add(t, cells);
	}
	out_table_print(t, stdout, "  ");
	out_table_destroy(&t);
}

/* Several lines of text, each with the indent. */
static void indented(const char *text, const char *indent)
{
	char *safe = out_safe(text, true), *line = safe, *nl;

	do {
		nl = strchr(line, '\n');
		if (nl != NULL)
			*nl = '\0';
		printf("%s%s\n", indent, line);
		line = nl + 1;
	} while (nl != NULL);
	free(safe);
}

static void notifications(const json_t *rec)
{
	printf("\nNotifications\n");
	cmd_notify_decisions(json_object_get(rec, "notifications"));
	cmd_notify_table(json_object_get(rec, "notifications"), false);
}

static void notes(const json_t *rec)
{
	const json_t *tl = json_object_get(rec, "timeline");
	size_t i, n = 0;
	json_t *x;

	printf("\nNotes\n");
	json_array_foreach(tl, i, x) {
		if (strcmp(out_str(x, "kind") ? out_str(x, "kind") : "",
			   "note") != 0)
			continue;
		printf("  %s  ", out_str(x, "at"));
		out_text(stdout, out_str(x, "by"), false);
		printf(":\n");
		indented(out_str(x, "detail"), "    ");
		n++;
	}
	if (n == 0)
		printf("  (none)\n");
}

static void timeline(const json_t *rec)
{
	static const char *const headers[] = { "AT", "EVENT", "BY", "DETAIL" };
	const json_t *tl = json_object_get(rec, "timeline");
	struct out_table *t = out_table_new(4, headers);
	size_t i;
	json_t *x;

	printf("\nTimeline\n");
	json_array_foreach(tl, i, x) {
		const char *cells[4] = {
			out_str(x, "at"),
			out_str(x, "event"),
			out_str(x, "by"),
			out_str(x, "detail"),
		};

		out_table_add(t, cells);
	}
	out_table_print(t, stdout, "  ");
	out_table_destroy(&t);
}

int cmd_show(struct cli *c, int argc, char **argv)
{
	const struct args_spec spec = { .usage = "show ID", .min_pos = 1,
					.max_pos = 1 };
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	json_t *resp;
	const json_t *rec;
	int rc;

	rc = args_parse(c, argc, argv, &spec, pos, &n_pos);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	rc = client_call(c, json_pack("{s:s, s:s}", "cmd", "show", "id", pos[0]),
			 &resp);
	if (rc != CLI_OK)
		return rc;
	if (c->json) {
		client_print_json(resp);
	} else {
		rec = json_object_get(resp, "record");
		facts(rec);
		clocks(rec);
		effects(rec);
		containment(rec);
		notifications(rec);
		notes(rec);
		timeline(rec);
	}
	json_decref(resp);
	return CLI_OK;
}
