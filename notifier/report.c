/*
 * report.c - the breach record of one incident as Markdown and JSON (see
 * report.h).
 *
 * Both renderings are built from the same parts: the facts, the effects,
 * the remedial action (every containment step), one timeline (revisions,
 * state changes, steps, notes and clock changes merged in time order), the
 * decisions with their reasons, and the audit chain's state. Text from the
 * record is escaped for Markdown (it came from agents and operators: a
 * title must not become a heading or a link); bytes that are not UTF-8 are
 * written as \xNN in both renderings.
 */
#include "report.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "../common/utf8.h"
#include "../common/xmalloc.h"
#include "jb.h"

int report_format_by_name(const char *name, enum report_format *out)
{
	if (name == NULL)
		return -1;
	if (strcmp(name, "md") == 0 || strcmp(name, "markdown") == 0) {
		*out = REPORT_MARKDOWN;
		return 0;
	}
	if (strcmp(name, "json") == 0) {
		*out = REPORT_JSON;
		return 0;
	}
	return -1;
}

/*
 * Text.
 */

/* Append s to b: bytes that are not UTF-8 as \xNN; for Markdown also
 * control characters (a line break as <br>), the punctuation Markdown
 * acts on inline escaped with a backslash, and <, >, & as entities. */
static int put_text(struct bw_buf *b, const char *s, bool markdown)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), i, n;
	int rc = 0;

	for (i = 0; i < len && rc == 0; i += n) {
		unsigned char c = p[i];

		n = bw_utf8_len(p + i, len - i);
		if (n == 0 || (markdown && (c < 0x20 || c == 0x7f) &&
			       c != '\n' && c != '\t' && c != '\r')) {
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};

			rc = bw_buf_add(b, esc, sizeof(esc));
			n = 1;
		} else if (!markdown || n > 1) {
			rc = bw_buf_add(b, p + i, n);
		} else if (c == '\n') {
			rc = bw_buf_addstr(b, "<br>");
		} else if (c == '\t') {
			rc = bw_buf_addc(b, ' ');
		} else if (c == '\r') {
			continue; /* CRLF is one break */
		} else if (c == '<') {
			rc = bw_buf_addstr(b, "&lt;");
		} else if (c == '>') {
			rc = bw_buf_addstr(b, "&gt;");
		} else if (c == '&') {
			rc = bw_buf_addstr(b, "&amp;");
		} else if (strchr("\\`*_[]|~", c) != NULL) {
			char esc[2] = {'\\', (char)c};

			rc = bw_buf_add(b, esc, sizeof(esc));
		} else {
			rc = bw_buf_addc(b, (char)c);
		}
	}
	return rc;
}

static const char *when(int64_t us, char *buf, size_t size)
{
	if (us == 0)
		return "-";
	return bw_time_format(us, buf, size);
}

/* "2 d 3 h", "3 h 10 min", "5 min", "under a minute". */
static const char *span(int64_t us, char *buf, size_t size)
{
	int64_t min = (us < 0 ? -us : us) / (60 * INT64_C(1000000));
	int64_t d = min / (24 * 60), h = min / 60 % 24, m = min % 60;

	if (d > 0)
		snprintf(buf, size, "%" PRId64 " d %" PRId64 " h", d, h);
	else if (h > 0)
		snprintf(buf, size, "%" PRId64 " h %" PRId64 " min", h, m);
	else if (m > 0)
		snprintf(buf, size, "%" PRId64 " min", m);
	else
		snprintf(buf, size, "under a minute");
	return buf;
}

static const char *sev(enum bw_severity s)
{
	const char *n = bw_severity_name(s);

	return n != NULL ? n : "unknown";
}

static const char *state(enum store_state s)
{
	const char *n = store_state_name(s);

	return n != NULL ? n : "unknown";
}

/*
 * The timeline and the decisions, shared by both renderings.
 */

enum tl_kind {
	TL_REVISION,
	TL_STATE,
	TL_STEP,
	TL_NOTE,
	TL_CLOCK,
	TL_MAIL,
	TL_APPROVAL
};

static const char *const tl_kinds[] = {
    [TL_REVISION] = "revision",
    [TL_STATE] = "state",
    [TL_STEP] = "step",
    [TL_NOTE] = "note",
    [TL_CLOCK] = "clock",
    [TL_MAIL] = "mail",
    [TL_APPROVAL] = "approval",
};

struct tl_item {
	int64_t at_us;
	size_t order; /* ties keep the order of building */
	enum tl_kind kind;
	char *event;        /* owned */
	const char *by;     /* borrowed from the record */
	char *detail;       /* owned */
	const char *reason; /* borrowed; a decision's reason, or NULL */
	const char *decision; /* TL_APPROVAL: approve, notify or update */
	uint32_t revision;
};

struct timeline {
	struct tl_item *items;
	size_t n;
};

/* Add an item; event and detail are taken over. */
static struct tl_item *tl_add(struct timeline *t, int64_t at_us,
			      enum tl_kind kind, char *event, const char *by,
			      char *detail, uint32_t revision)
{
	struct tl_item *it;

	t->items = xreallocarray(t->items, t->n + 1, sizeof(*t->items));
	it = &t->items[t->n];
	it->at_us = at_us;
	it->order = t->n;
	it->kind = kind;
	it->event = event;
	it->by = by;
	it->detail = detail;
	it->reason = NULL;
	it->decision = NULL;
	it->revision = revision;
	t->n++;
	return it;
}

static int tl_cmp(const void *a, const void *b)
{
	const struct tl_item *x = a, *y = b;

	if (x->at_us != y->at_us)
		return x->at_us < y->at_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static bool is_customer(const struct store_notification *n)
{
	return strcmp(n->kind, "customer_notice") == 0;
}

/* "3 sent, 1 unresolved" for the customer notices of one version (0:
 * all), by state. */
static char *notice_counts(const struct store_record *r, uint32_t version)
{
	static const char *const states[] = { "sent", "pending", "sending",
					      "held", "unresolved", "failed",
					      "ambiguous" };
	struct bw_buf b;

	bw_buf_init(&b, 4096);
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++) {
		size_t n = 0;

		for (size_t i = 0; i < r->n_notifications; i++)
			if (is_customer(&r->notifications[i]) &&
			    (version == 0 ||
			     r->notifications[i].version == version) &&
			    strcmp(r->notifications[i].state, states[k]) == 0)
				n++;
		if (n > 0 && bw_buf_printf(&b, "%s%zu %s", b.len > 0 ? ", " : "",
					   n, states[k]) < 0)
			abort();
	}
	return bw_buf_steal(&b);
}

/* Each team message, and the customer notices as one item per version
 * (there may be 10,000 of them: the Notifications section lists each). */
static void mail_timeline(const struct store_record *r, struct timeline *t)
{
	uint32_t top = 0;

	for (size_t i = 0; i < r->n_notifications; i++) {
		const struct store_notification *n = &r->notifications[i];

		if (is_customer(n)) {
			if (n->version > top)
				top = n->version;
			continue;
		}
		tl_add(t, n->sent_us != 0 ? n->sent_us : n->created_us, TL_MAIL,
		       xasprintf("%s to %s: %s", n->kind,
				 n->recipient != NULL ? n->recipient : "-",
				 n->state),
		       "breachwatch-notifier",
		       xasprintf("%s%s%s", n->reason,
				 n->smtp_text != NULL ? " Relay: " : "",
				 n->smtp_text != NULL ? n->smtp_text : ""),
		       0);
	}
	for (uint32_t v = 1; v <= top; v++) {
		int64_t first = 0;

		for (size_t i = 0; i < r->n_notifications; i++) {
			const struct store_notification *n =
				&r->notifications[i];

			if (is_customer(n) && n->version == v &&
			    (first == 0 || n->created_us < first))
				first = n->created_us;
		}
		if (first == 0)
			continue;
		tl_add(t, first, TL_MAIL,
		       v == 1 ? xstrdup("customer notices made")
			      : xasprintf("customer notice updates made "
					  "(version %" PRIu32 ")", v),
		       "breachwatch-notifier", notice_counts(r, v), 0);
	}
}

/* The words of a decision in the timeline: what, and the detail. */
static char *decision_event(const struct store_approval *p)
{
	if (strcmp(p->decision, "notify") == 0)
		return xstrdup("customers to be told (an operator's "
			       "decision)");
	if (strcmp(p->decision, "update") == 0)
		return xstrdup("update of the customer notices asked for");
	return xstrdup("customer notices approved");
}

static char *decision_detail(const struct store_approval *p)
{
	const char *sep = p->reason != NULL ? ": " : "";
	const char *why = p->reason != NULL ? p->reason : "";

	if (strcmp(p->decision, "notify") == 0)
		return xasprintf("%" PRIu64 " customers named then, %" PRIu64
				 " held notices released%s%s",
				 p->customers, p->released, sep, why);
	if (strcmp(p->decision, "update") == 0)
		return xasprintf("for the %" PRIu64 " customers sent a "
				 "notice%s%s",
				 p->customers, sep, why);
	return xasprintf("%" PRIu64 " held notices released%s%s",
			 p->released, sep, why);
}

static void build_timeline(const struct store_record *r, struct timeline *t)
{
	char a[40], b[40];
	size_t i;

	t->items = NULL;
	t->n = 0;
	for (i = 0; i < r->n_revisions; i++) {
		const struct store_revision *v = &r->revisions[i];

		tl_add(t, v->received_us, TL_REVISION,
		       xasprintf("revision %" PRIu32 " received", v->revision),
		       v->agent,
		       xasprintf("severity %s, %zu customer%s, %" PRIu64
				 " event%s%s",
				 sev(v->severity), v->n_customers,
				 v->n_customers == 1 ? "" : "s",
				 v->event_count,
				 v->event_count == 1 ? "" : "s",
				 v->quiet ? "; the agent closed it (quiet)"
					  : ""),
		       v->revision);
	}
	for (i = 0; i < r->n_changes; i++) {
		const struct store_state_change *c = &r->changes[i];

		tl_add(t, c->at_us, TL_STATE, xstrdup(c->milestone), c->actor,
		       c->before != 0
			   ? xasprintf("%s \u2192 %s: %s", state(c->before),
				       state(c->after), c->reason)
			   : xasprintf("%s: %s", state(c->after), c->reason),
		       c->revision)
		    ->reason = c->reason;
	}
	for (i = 0; i < r->n_steps; i++) {
		const struct store_step *p = &r->steps[i];

		if (p->manual)
			tl_add(t, p->started_us, TL_STEP,
			       xstrdup("containment step by hand"),
			       p->operator_name,
			       xasprintf("%s: %s", p->status, p->detail), 0);
		else
			tl_add(t,
			       p->started_us != 0 ? p->started_us
						  : p->recorded_us,
			       TL_STEP, xasprintf("containment %s", p->action),
			       "agent",
			       xasprintf("%s, finished %s%s%s", p->status,
					 when(p->finished_us, a, sizeof(a)),
					 p->detail[0] != '\0' ? ": " : "",
					 p->detail),
			       p->revision);
	}
	for (i = 0; i < r->n_notes; i++)
		tl_add(t, r->notes[i].at_us, TL_NOTE, xstrdup("note"),
		       r->notes[i].author, xstrdup(r->notes[i].text), 0)
		    ->reason = r->notes[i].text;
	for (i = 0; i < r->n_clocks; i++) {
		const struct store_clock_change *c = &r->clocks[i];

		tl_add(t, c->at_us, TL_CLOCK, xasprintf("%s time set", c->clock),
		       c->actor,
		       xasprintf("from %s to %s: %s",
				 when(c->old_us, a, sizeof(a)),
				 when(c->new_us, b, sizeof(b)), c->reason),
		       0)
		    ->reason = c->reason;
	}
	mail_timeline(r, t);
	for (i = 0; i < r->n_approvals; i++) {
		const struct store_approval *p = &r->approvals[i];

		struct tl_item *it =
			tl_add(t, p->at_us, TL_APPROVAL, decision_event(p),
			       p->operator_name, decision_detail(p), 0);

		it->reason = p->reason != NULL ? p->reason : "approved";
		it->decision = p->decision;
	}
	if (t->n > 1)
		qsort(t->items, t->n, sizeof(*t->items), tl_cmp);
}

static void free_timeline(struct timeline *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->items[i].event);
		free(t->items[i].detail);
	}
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

/* Decisions are the timeline items a person decided with a reason:
 * closures and reopenings, clock changes, notes, and the decisions about
 * customer notices (approve, notify, update). */
static bool is_decision(const struct tl_item *it)
{
	if (it->kind == TL_NOTE || it->kind == TL_CLOCK ||
	    it->kind == TL_APPROVAL)
		return true;
	return it->kind == TL_STATE && (strcmp(it->event, "closed") == 0 ||
					strcmp(it->event, "reopened") == 0);
}

static const char *decision_kind(const struct tl_item *it)
{
	if (it->kind == TL_NOTE)
		return "note";
	if (it->kind == TL_CLOCK)
		return "awareness";
	if (it->kind == TL_APPROVAL)
		return it->decision != NULL &&
				       strcmp(it->decision, "approve") != 0
			       ? it->decision
			       : "approval";
	return strcmp(it->event, "closed") == 0 ? "closure" : "reopening";
}

/*
 * Markdown.
 */

struct md {
	struct bw_buf *b;
	bool full; /* the ceiling was reached: stop writing */
};

static void mdf(struct md *o, const char *fmt, ...) BW_PRINTF(2, 3);

static void mdf(struct md *o, const char *fmt, ...)
{
	va_list ap;

	if (o->full)
		return;
	va_start(ap, fmt);
	if (bw_buf_vprintf(o->b, fmt, ap) < 0)
		o->full = true;
	va_end(ap);
}

/* Text from the record, escaped. */
static void mdt(struct md *o, const char *s)
{
	if (!o->full && put_text(o->b, s, true) < 0)
		o->full = true;
}

static void md_facts(struct md *o, const struct store_record *r,
		     int64_t now_us)
{
	const struct store_incident *inc = &r->inc;
	char a[40], b[40], d[48], e[40];
	size_t i;

	mdf(o, "## Facts\n\n| | |\n|---|---|\n| What happened | ");
	mdt(o, inc->title);
	if (inc->summary != NULL) {
		mdf(o, ". ");
		mdt(o, inc->summary);
	}
	mdf(o, " |\n| Rule | ");
	mdt(o, inc->rule);
	mdf(o, " (category ");
	mdt(o, inc->category);
	mdf(o, ") |\n| Severity | %s |\n| Host | ", sev(inc->severity));
	mdt(o, inc->host);
	mdf(o, " |\n| Actor | ");
	for (i = 0; i < inc->n_actor; i++) {
		mdf(o, "%s", i > 0 ? ", " : "");
		mdt(o, inc->actor[i].key);
		mdf(o, " ");
		mdt(o, inc->actor[i].value);
	}
	if (inc->n_actor == 0)
		mdf(o, "unknown");
	mdf(o,
	    " |\n| Activity | from %s to %s, %" PRIu64 " events |\n"
	    "| Detected | %s |\n| Aware | %s (",
	    when(inc->first_seen_us, a, sizeof(a)),
	    when(inc->last_seen_us, b, sizeof(b)), inc->event_count,
	    when(inc->detected_us, d, sizeof(d)),
	    when(inc->aware_us, e, sizeof(e)));
	if (inc->aware_reason != NULL) {
		mdf(o, "set: ");
		mdt(o, inc->aware_reason);
	} else {
		mdf(o, "first detection");
	}
	mdf(o, ") |\n| Deadline to notify the supervisory authority "
	       "(72 h from awareness) | %s, ",
	    when(inc->deadline_us, a, sizeof(a)));
	if (now_us > inc->deadline_us)
		mdf(o, "passed %s before this report",
		    span(now_us - inc->deadline_us, b, sizeof(b)));
	else
		mdf(o, "%s after this report",
		    span(inc->deadline_us - now_us, b, sizeof(b)));
	mdf(o, " |\n| State | %s", state(inc->state));
	if (inc->contained_us != 0)
		mdf(o, "; contained %s", when(inc->contained_us, a, sizeof(a)));
	if (inc->notified_us != 0)
		mdf(o, "; notified %s", when(inc->notified_us, a, sizeof(a)));
	if (inc->closed_us != 0) {
		mdf(o, "; closed %s by ", when(inc->closed_us, a, sizeof(a)));
		mdt(o, inc->closed_by);
		mdf(o, ": ");
		mdt(o, inc->resolution);
	}
	mdf(o, " |\n| Revisions | %" PRIu32 " received, the latest is %" PRIu32
	       " |\n\n",
	    inc->n_revisions, inc->revision);
}

static void md_effects(struct md *o, const struct store_record *r)
{
	const struct store_incident *inc = &r->inc;
	char a[40];
	size_t i;

	mdf(o, "## Effects\n\n- Affected customers: **%zu**%s\n",
	    r->n_customers,
	    inc->affected_unknown ? " (the full scope is not known)" : "");
	mdf(o, "- Kinds of data: ");
	for (i = 0; i < r->n_data_kinds; i++) {
		mdf(o, "%s", i > 0 ? ", " : "");
		mdt(o, r->data_kinds[i].kind);
	}
	if (r->n_data_kinds == 0)
		mdf(o, "not known");
	mdf(o,
	    "\n- The customers' own credentials: %s\n"
	    "- Customers to be notified: %s\n\n",
	    inc->credentials ? "yes" : "no",
	    inc->notify_decided     ? "yes (an operator's decision)"
	    : inc->notify_customers ? "yes (the rule)"
				    : "no (the rule does not ask for it)");
	if (r->n_customers > 0) {
		mdf(o, "### Affected customers\n\n| Customer | First named in "
		       "revision |\n|---|---|\n");
		for (i = 0; i < r->n_customers; i++) {
			mdf(o, "| ");
			mdt(o, r->customers[i].id);
			mdf(o, " | %" PRIu32 " |\n",
			    r->customers[i].first_revision);
		}
		mdf(o, "\n");
	}
	mdf(o, "### Evidence (masked)\n\n");
	if (r->n_evidence == 0)
		mdf(o, "No evidence kept.\n\n");
	else
		mdf(o, "| Time | Source | Reference | Excerpt |\n"
		       "|---|---|---|---|\n");
	for (i = 0; i < r->n_evidence; i++) {
		const struct store_evidence *e = &r->evidence[i];

		mdf(o, "| %s | ", when(e->ts_us, a, sizeof(a)));
		mdt(o, e->source);
		mdf(o, " | ");
		mdt(o, e->ref);
		mdf(o, " | ");
		mdt(o, e->excerpt);
		mdf(o, " |\n");
	}
	if (r->n_evidence > 0)
		mdf(o, "\n");
	if (inc->evidence_omitted > 0)
		mdf(o, "%" PRIu64 " more matching events were not kept as "
		       "evidence.\n\n",
		    inc->evidence_omitted);
}

static void md_remedial(struct md *o, const struct store_record *r)
{
	char a[40], b[40];
	size_t i;

	mdf(o, "## Remedial action\n\n");
	if (r->n_steps == 0) {
		mdf(o, "No containment step recorded.\n\n");
		return;
	}
	mdf(o, "| # | Action | By | Started | Finished | Status | Detail |\n"
	       "|---|---|---|---|---|---|---|\n");
	for (i = 0; i < r->n_steps; i++) {
		const struct store_step *p = &r->steps[i];

		mdf(o, "| %zu | ", i + 1);
		mdt(o, p->action);
		mdf(o, " | ");
		if (p->manual)
			mdt(o, p->operator_name);
		else
			mdf(o, "agent (revision %" PRIu32 ")", p->revision);
		mdf(o, " | %s | %s | ", when(p->started_us, a, sizeof(a)),
		    when(p->finished_us, b, sizeof(b)));
		mdt(o, p->status);
		mdf(o, " | ");
		mdt(o, p->detail);
		mdf(o, " |\n");
	}
	mdf(o, "\n");
}

static void md_notifications(struct md *o, const struct store_record *r)
{
	char a[40], b[40], *counts = notice_counts(r, 0);
	size_t team = 0, cust = 0;

	mdf(o, "## Notifications\n\n");
	for (size_t i = 0; i < r->n_notifications; i++) {
		if (is_customer(&r->notifications[i]))
			cust++;
		else
			team++;
	}
	if (team + cust == 0) {
		mdf(o, "No message made.\n\n");
		free(counts);
		return;
	}
	mdf(o, "- Messages to the security team: %zu\n", team);
	mdf(o, "- Customer notices: %zu%s%s%s\n", cust, cust > 0 ? " (" : "",
	    counts, cust > 0 ? ")" : "");
	free(counts);
	for (size_t i = 0; i < r->n_approvals; i++) {
		const struct store_approval *p = &r->approvals[i];
		char *what = decision_event(p), *detail = decision_detail(p);

		mdf(o, "- %c%s, %s, by ", what[0] - 'a' + 'A', what + 1,
		    when(p->at_us, a, sizeof(a)));
		mdt(o, p->operator_name);
		mdf(o, ": ");
		mdt(o, detail);
		mdf(o, "\n");
		free(what);
		free(detail);
	}
	mdf(o, "\n| Made | Kind | Customer | To | State | Attempts | Relay's "
	       "reply | Sent | Detail |\n|---|---|---|---|---|---|---|---|---|"
	       "\n");
	for (size_t i = 0; i < r->n_notifications; i++) {
		const struct store_notification *n = &r->notifications[i];

		mdf(o, "| %s | %s", when(n->created_us, a, sizeof(a)),
		    is_customer(n) ? "customer notice" : n->kind);
		if (is_customer(n) && n->version > 1)
			mdf(o, " (update, version %" PRIu32 ")", n->version);
		mdf(o, " | ");
		mdt(o, n->customer_id != NULL ? n->customer_id : "");
		mdf(o, " | ");
		mdt(o, n->recipient != NULL ? n->recipient : "-");
		if (n->recipient_kind != NULL &&
		    strcmp(n->recipient_kind, "alternate") == 0)
			mdf(o, " (alternate)");
		mdf(o, " | %s%s%s | %" PRIu32 " | ", n->state,
		    n->hold != NULL ? ", held for " : "",
		    n->hold != NULL ? n->hold : "", n->attempts);
		mdt(o, n->smtp_text != NULL ? n->smtp_text : "");
		mdf(o, " | %s | ", when(n->sent_us, b, sizeof(b)));
		mdt(o, n->detail != NULL ? n->detail : "");
		mdf(o, " |\n");
	}
	mdf(o, "\n");
}

static void md_timeline(struct md *o, const struct timeline *t)
{
	char a[40];
	size_t i, n = 0;

	mdf(o, "## Timeline\n\n| Time | Event | By | Details |\n"
	       "|---|---|---|---|\n");
	for (i = 0; i < t->n; i++) {
		const struct tl_item *it = &t->items[i];

		mdf(o, "| %s | ", when(it->at_us, a, sizeof(a)));
		mdt(o, it->event);
		mdf(o, " | ");
		mdt(o, it->by);
		mdf(o, " | ");
		mdt(o, it->detail);
		mdf(o, " |\n");
	}
	mdf(o, "\n## Decisions\n\n");
	for (i = 0; i < t->n; i++) {
		const struct tl_item *it = &t->items[i];

		if (!is_decision(it))
			continue;
		n++;
		mdf(o, "- %s, **%s** by ", when(it->at_us, a, sizeof(a)),
		    decision_kind(it));
		mdt(o, it->by);
		mdf(o, ": ");
		/* A state change's reason alone; a clock change's times
		 * with it. */
		mdt(o, it->kind == TL_STATE ? it->reason : it->detail);
		mdf(o, "\n");
	}
	mdf(o, "%s\n", n == 0 ? "None recorded yet.\n" : "");
}

static void md_audit(struct md *o, const struct store_record *r,
		     const struct store_verify *v)
{
	mdf(o, "## Audit trail\n\n");
	if (v->ok)
		mdf(o, "- Hash chain: **verified**, %" PRId64 " entries\n",
		    v->entries);
	else if (v->first_bad != 0)
		mdf(o, "- Hash chain: **BROKEN** at entry %" PRId64 " of %" PRId64
		       ": ",
		    v->first_bad, v->entries);
	else
		mdf(o, "- Hash chain: **BROKEN** (%" PRId64 " entries): ",
		    v->entries);
	if (!v->ok) {
		mdt(o, v->reason);
		mdf(o, "\n");
	}
	mdf(o,
	    "- Entries about this incident: %" PRIu64 "\n"
	    "- Head of the chain (SHA-256): `%s`\n",
	    r->n_audit, v->head[0] != '\0' ? v->head : "none");
}

static int render_markdown(const struct store_record *r,
			   const struct store_verify *v, int64_t now_us,
			   struct bw_buf *out, struct bw_error *err)
{
	struct md o = {out, false};
	struct timeline t;
	char a[40];

	build_timeline(r, &t);
	mdf(&o, "# Breach record: ");
	mdt(&o, r->inc.title);
	mdf(&o, "\n\nIncident ");
	mdt(&o, r->inc.id);
	mdf(&o,
	    ". The record of a personal data breach that GDPR Art. 33(5) "
	    "asks for, generated %s.\n\n",
	    when(now_us, a, sizeof(a)));
	md_facts(&o, r, now_us);
	md_effects(&o, r);
	md_remedial(&o, r);
	md_notifications(&o, r);
	md_timeline(&o, &t);
	md_audit(&o, r, v);
	free_timeline(&t);
	if (o.full)
		return bw_error_set(err, NULL, 0,
				    "report of %s: larger than %zu bytes",
				    r->inc.id, out->max);
	return 0;
}

/*
 * JSON.
 */




/* A string from the record; NULL is null. */
static json_t *jstr(const char *s)
{
	struct bw_buf b;
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	if (j != NULL)
		return j;
	bw_buf_init(&b, (size_t)-1 / 4);
	if (put_text(&b, s, false) < 0)
		abort();
	j = json_stringn(b.data != NULL ? b.data : "", b.len);
	bw_buf_free(&b);
	return j;
}

static json_t *jtime(int64_t us)
{
	char buf[40];

	if (us == 0)
		return json_null();
	return json_string(bw_time_format(us, buf, sizeof(buf)));
}

static json_t *jint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *json_facts(const struct store_record *r, int64_t now_us)
{
	const struct store_incident *inc = &r->inc;
	json_t *f = jb_new(json_object()), *actor = jb_new(json_object());
	size_t i;

	jb_set(f, "what", jstr(inc->title));
	jb_set(f, "summary", jstr(inc->summary));
	jb_set(f, "rule", jstr(inc->rule));
	jb_set(f, "category", jstr(inc->category));
	jb_set(f, "severity", jstr(sev(inc->severity)));
	jb_set(f, "host", jstr(inc->host));
	for (i = 0; i < inc->n_actor; i++)
		jb_set(actor, inc->actor[i].key, jstr(inc->actor[i].value));
	jb_set(f, "actor", actor);
	jb_set(f, "first_seen", jtime(inc->first_seen_us));
	jb_set(f, "last_seen", jtime(inc->last_seen_us));
	jb_set(f, "event_count", jint(inc->event_count));
	jb_set(f, "detected", jtime(inc->detected_us));
	jb_set(f, "aware", jtime(inc->aware_us));
	jb_set(f, "aware_reason", jstr(inc->aware_reason));
	jb_set(f, "deadline", jtime(inc->deadline_us));
	jb_set(f, "deadline_passed", json_boolean(now_us > inc->deadline_us));
	jb_set(f, "state", jstr(state(inc->state)));
	jb_set(f, "contained", jtime(inc->contained_us));
	jb_set(f, "notified", jtime(inc->notified_us));
	jb_set(f, "closed", jtime(inc->closed_us));
	jb_set(f, "closed_by", jstr(inc->closed_by));
	jb_set(f, "resolution", jstr(inc->resolution));
	jb_set(f, "revision", json_integer(inc->revision));
	jb_set(f, "revisions", json_integer(inc->n_revisions));
	return f;
}

static json_t *json_effects(const struct store_record *r)
{
	json_t *e = jb_new(json_object()), *a;
	size_t i;

	jb_set(e, "affected_customers_count", jint(r->n_customers));
	a = jb_new(json_array());
	for (i = 0; i < r->n_customers; i++) {
		json_t *c = jb_new(json_object());

		jb_set(c, "id", jstr(r->customers[i].id));
		jb_set(c, "first_revision",
		     json_integer(r->customers[i].first_revision));
		jb_push(a, c);
	}
	jb_set(e, "affected_customers", a);
	jb_set(e, "affected_unknown", json_boolean(r->inc.affected_unknown));
	a = jb_new(json_array());
	for (i = 0; i < r->n_data_kinds; i++)
		jb_push(a, jstr(r->data_kinds[i].kind));
	jb_set(e, "data_kinds", a);
	jb_set(e, "credentials", json_boolean(r->inc.credentials));
	jb_set(e, "notify_customers", json_boolean(r->inc.notify_customers));
	jb_set(e, "notify_decided", json_boolean(r->inc.notify_decided));
	a = jb_new(json_array());
	for (i = 0; i < r->n_evidence; i++) {
		const struct store_evidence *ev = &r->evidence[i];
		json_t *x = jb_new(json_object());

		jb_set(x, "ts", jtime(ev->ts_us));
		jb_set(x, "source", jstr(ev->source));
		jb_set(x, "ref", jstr(ev->ref));
		jb_set(x, "excerpt", jstr(ev->excerpt));
		jb_set(x, "first_revision", json_integer(ev->first_revision));
		jb_push(a, x);
	}
	jb_set(e, "evidence", a);
	jb_set(e, "evidence_omitted", jint(r->inc.evidence_omitted));
	return e;
}

static json_t *json_remedial(const struct store_record *r)
{
	json_t *a = jb_new(json_array());
	size_t i;

	for (i = 0; i < r->n_steps; i++) {
		const struct store_step *p = &r->steps[i];
		json_t *x = jb_new(json_object());

		jb_set(x, "origin", jstr(p->manual ? "manual" : "agent"));
		jb_set(x, "action", jstr(p->action));
		jb_set(x, "started", jtime(p->started_us));
		jb_set(x, "finished", jtime(p->finished_us));
		jb_set(x, "status", jstr(p->status));
		jb_set(x, "detail", jstr(p->detail));
		jb_set(x, "operator", jstr(p->operator_name));
		jb_set(x, "revision",
		     p->manual ? json_null() : json_integer(p->revision));
		jb_set(x, "recorded", jtime(p->recorded_us));
		jb_push(a, x);
	}
	return a;
}

static json_t *json_notifications(const struct store_record *r)
{
	json_t *o = jb_new(json_object()), *list = jb_new(json_array());
	json_t *counts = jb_new(json_object()), *appr = jb_new(json_array());

	for (size_t i = 0; i < r->n_notifications; i++) {
		const struct store_notification *n = &r->notifications[i];
		json_t *x = jb_new(json_object()), *k;

		k = json_object_get(counts, n->kind);
		if (k == NULL) {
			k = jb_new(json_object());
			jb_set(counts, n->kind, k);
		}
		jb_set(k, n->state,
		       json_integer(json_integer_value(
					    json_object_get(k, n->state)) +
				    1));
		jb_set(x, "id", json_integer(n->rowid));
		jb_set(x, "kind", jstr(n->kind));
		jb_set(x, "customer", jstr(n->customer_id));
		jb_set(x, "version", json_integer(n->version));
		jb_set(x, "reason", jstr(n->reason));
		jb_set(x, "recipient", jstr(n->recipient));
		jb_set(x, "recipient_kind", jstr(n->recipient_kind));
		jb_set(x, "state", jstr(n->state));
		jb_set(x, "hold", jstr(n->hold));
		jb_set(x, "detail", jstr(n->detail));
		jb_set(x, "attempts", json_integer(n->attempts));
		jb_set(x, "next_attempt", jtime(n->next_attempt_us));
		jb_set(x, "smtp_code", n->smtp_code != 0
					       ? json_integer(n->smtp_code)
					       : json_null());
		jb_set(x, "smtp_text", jstr(n->smtp_text));
		jb_set(x, "message_id", jstr(n->message_id));
		jb_set(x, "subject", jstr(n->subject));
		jb_set(x, "created", jtime(n->created_us));
		jb_set(x, "sent", jtime(n->sent_us));
		jb_set(x, "team_told", jtime(n->told_us));
		jb_push(list, x);
	}
	for (size_t i = 0; i < r->n_approvals; i++) {
		json_t *x = jb_new(json_object());

		jb_set(x, "at", jtime(r->approvals[i].at_us));
		jb_set(x, "decision", jstr(r->approvals[i].decision));
		jb_set(x, "operator", jstr(r->approvals[i].operator_name));
		jb_set(x, "reason", jstr(r->approvals[i].reason));
		jb_set(x, "released", jint(r->approvals[i].released));
		jb_set(x, "customers", jint(r->approvals[i].customers));
		jb_push(appr, x);
	}
	jb_set(o, "counts", counts);
	jb_set(o, "messages", list);
	jb_set(o, "approvals", appr);
	return o;
}

static json_t *json_item(const struct tl_item *it, bool decision)
{
	json_t *x = jb_new(json_object());

	jb_set(x, "at", jtime(it->at_us));
	if (decision) {
		jb_set(x, "kind", jstr(decision_kind(it)));
		jb_set(x, "by", jstr(it->by));
		jb_set(x, "reason", jstr(it->reason));
		jb_set(x, "detail", jstr(it->detail));
		return x;
	}
	jb_set(x, "kind", jstr(tl_kinds[it->kind]));
	jb_set(x, "event", jstr(it->event));
	jb_set(x, "by", jstr(it->by));
	jb_set(x, "detail", jstr(it->detail));
	jb_set(x, "revision",
	     it->revision != 0 ? json_integer(it->revision) : json_null());
	return x;
}

static json_t *json_audit(const struct store_record *r,
			  const struct store_verify *v)
{
	json_t *a = jb_new(json_object());

	jb_set(a, "verified", json_boolean(v->ok));
	jb_set(a, "entries", json_integer(v->entries));
	jb_set(a, "entries_for_incident", jint(r->n_audit));
	jb_set(a, "head", jstr(v->head[0] != '\0' ? v->head : NULL));
	jb_set(a, "first_bad",
	     v->first_bad != 0 ? json_integer(v->first_bad) : json_null());
	jb_set(a, "problem", jstr(v->ok ? NULL : v->reason));
	return a;
}

json_t *report_json(const struct store_record *r, const struct store_verify *v,
		    int64_t now_us)
{
	json_t *o = jb_new(json_object()), *tl, *dec;
	struct timeline t;
	size_t i;

	build_timeline(r, &t);
	jb_set(o, "format", jstr("breachwatch-breach-record"));
	jb_set(o, "version", json_integer(1));
	jb_set(o, "generated", jtime(now_us));
	jb_set(o, "id", jstr(r->inc.id));
	jb_set(o, "facts", json_facts(r, now_us));
	jb_set(o, "effects", json_effects(r));
	jb_set(o, "remedial_action", json_remedial(r));
	jb_set(o, "notifications", json_notifications(r));
	tl = jb_new(json_array());
	dec = jb_new(json_array());
	for (i = 0; i < t.n; i++) {
		jb_push(tl, json_item(&t.items[i], false));
		if (is_decision(&t.items[i]))
			jb_push(dec, json_item(&t.items[i], true));
	}
	jb_set(o, "timeline", tl);
	jb_set(o, "decisions", dec);
	jb_set(o, "audit", json_audit(r, v));
	free_timeline(&t);
	return o;
}

static int render_json(const struct store_record *r,
		       const struct store_verify *v, int64_t now_us,
		       struct bw_buf *out, struct bw_error *err)
{
	json_t *o = report_json(r, v, now_us);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int rc = 0;

	json_decref(o);
	if (text == NULL)
		abort();
	if (bw_buf_addstr(out, text) < 0 || bw_buf_addc(out, '\n') < 0)
		rc = bw_error_set(err, NULL, 0,
				  "report of %s: larger than %zu bytes",
				  r->inc.id, out->max);
	free(text);
	return rc;
}

int report_render(const struct store_record *r, const struct store_verify *v,
		  enum report_format f, int64_t now_us, struct bw_buf *out,
		  struct bw_error *err)
{
	if (f == REPORT_JSON)
		return render_json(r, v, now_us, out, err);
	return render_markdown(r, v, now_us, out, err);
}

int report_write(struct store *s, const char *id, enum report_format f,
		 int64_t now_us, struct bw_buf *out, struct bw_error *err)
{
	struct store_record *r;
	struct store_verify v;
	int rc;

	r = store_get(s, id, err);
	if (r == NULL)
		return -1;
	if (store_verify_chain(s, &v, err) < 0) {
		store_record_destroy(&r);
		return -1;
	}
	rc = report_render(r, &v, f, now_us, out, err);
	store_record_destroy(&r);
	return rc;
}
