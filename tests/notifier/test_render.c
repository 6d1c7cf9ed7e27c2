/*
 * test_render.c - the notifier's messages (notifier/render.c) from the
 * shipped templates (notifier/templates) over a real store: a customer
 * notice with one recipient, its title and five headings, this customer's
 * facts and no one else's, text and HTML saying the same with HTML
 * escaped, a stable Message-ID; the alternate contact; refused names; an
 * update of a notice (what changed since the one it updates, another
 * Message-ID, In-Reply-To); the team alert with everything the team needs
 * (and how to have the customers told when the rule does not); a site's
 * templates over the shipped ones, locales, and template errors at file:line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bwtime.h"
#include "check_main.h"
#include "incident.h"
#include "msgcheck.h"
#include "outbox.h"
#include "render.h"
#include "store.h"
#include "xmalloc.h"

#define SHIPPED BW_SOURCE_DIR "/notifier/templates"
#define T0      INT64_C(1795421700000000) /* 2026-11-23T08:15:00Z */
#define SEC     INT64_C(1000000)

static char dir[64];

static struct store_record *sample(void)
{
	struct bw_incident *inc = bw_incident_new();
	struct store_record *r;
	struct store *s;
	struct bw_error err;
	char path[128];
	bool ins;

	snprintf(dir, sizeof(dir), "/tmp/bw-render-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/r.db", dir);
	inc->id = xstrdup("bw-0123456789abcdef");
	inc->revision = 2;
	inc->rule = xstrdup("web-bulk-contacts");
	inc->category = xstrdup("bulk-read");
	inc->severity = BW_SEV_CRITICAL;
	inc->title =
	    xstrdup("Contact lists read in bulk\r\nBcc: x@evil.example");
	inc->summary = xstrdup("api-user-7 read 3 lists from 203.0.113.9");
	inc->first_seen_us = T0;
	inc->last_seen_us = T0 + 86400 * SEC;
	inc->host = xstrdup("mail-db-1");
	bw_incident_set_actor(inc, "ip", "203.0.113.9");
	bw_incident_set_actor(inc, "user", "api-user-7");
	bw_incident_add_customer(inc, "c1001");
	bw_incident_add_customer(inc, "c1002");
	bw_incident_add_customer(inc, "c1003");
	bw_incident_add_data_kind(inc, "contact_list");
	bw_incident_add_data_kind(inc, "weird\x1b[31mkind");
	bw_incident_add_evidence(inc, T0, "nginx", "access.log:12",
	                         "GET /api/c1002/contacts?token=****");
	bw_incident_add_step(inc, "block-src", T0 + SEC, T0 + 2 * SEC, "ok",
	                     "exit 0");
	bw_incident_add_step(inc, "lock-account", T0 + SEC, T0 + 2 * SEC,
	                     "failed", "exit 1: no such user");
	inc->event_count = 40;
	inc->notify_customers = true;
	s = store_open(path, &err);
	ck_assert_msg(s != NULL, "%s", err.msg);
	ck_assert_int_eq(
	    store_put_revision(s, inc, "mail-db-1", T0 + 3 * SEC, &ins, &err),
	    0);
	r = store_get(s, inc->id, &err);
	ck_assert_ptr_nonnull(r);
	store_close(&s);
	bw_incident_destroy(&inc);
	return r;
}

static void cleanup(void)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static struct render *open_render(const char *site)
{
	struct render_params p = {
	    .site_dir = site,
	    .shipped_dir = SHIPPED,
	    .org =
	        {
	            .name = "Example Mail",
	            .contact = "privacy@example.com or +44 20 7946 0000",
	            .dpo = "Dana Protector, dpo@example.com",
	            .website = "https://example.com/security",
	            .from_name = "Example Mail Security",
	            .from = "security-notices@example.com",
	            .reply_to = "privacy@example.com",
	        },
	    .cli = "breachwatch",
	};
	struct bw_error err;
	struct render *r = render_new(&p, &err);

	ck_assert_msg(r != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	return r;
}

/* text with its line breaks (and a wrapped item's indent) as spaces */
static char *flat(const char *text)
{
	char *f = xstrdup(text), *o = f;

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n') {
			*o++ = ' ';
			while (p[1] == ' ')
				p++;
			continue;
		}
		*o++ = *p;
	}
	*o = '\0';
	return f;
}

static const char *const headings[] = {
    "NOTICE OF DATA BREACH", "What Happened",   "What Information Was Involved",
    "What We Are Doing",     "What You Can Do", "For More Information",
};

START_TEST(test_customer_notice)
{
	struct store_record *rec = sample();
	struct render *r = open_render(NULL);
	struct directory_entry who = {
	    .id = "c1001",
	    .name = "Zoë <b>Müller</b> & Co",
	    .email = "zoe@example.org",
	    .locale = "de-AT",
	};
	struct render_msg m, again, other;
	struct bw_error err;
	char *h, *text, *html, *dec, *ft;
	const char *p;

	ck_assert_msg(render_customer(r, rec, &who, who.email, false, 1, NULL,
	                              T0, &m, &err) == 0,
	              "%s:%d: %s", err.file, err.line, err.msg);
	lines_ok(m.message, 78);
	/* one recipient: the customer */
	h = header_of(m.message, "To");
	dec = header_decode(h);
	ck_assert_str_eq(dec, "Zoë <b>Müller</b> & Co <zoe@example.org>");
	free(dec);
	free(h);
	ck_assert_ptr_null(header_of(m.message, "Cc"));
	ck_assert_ptr_null(header_of(m.message, "Bcc"));
	h = header_of(m.message, "Subject");
	ck_assert_str_eq(h, "Notice of Data Breach");
	free(h);
	ck_assert_str_eq(m.subject, "Notice of Data Breach");
	h = header_of(m.message, "Auto-Submitted");
	ck_assert_str_eq(h, "auto-generated");
	free(h);
	h = header_of(m.message, "From");
	ck_assert_str_eq(h, "\"Example Mail Security\" "
	                    "<security-notices@example.com>");
	free(h);
	ck_assert_ptr_nonnull(strstr(m.message_id, "@example.com>"));

	text = part_of(m.message, "text/plain");
	html = part_of(m.message, "text/html");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(html);
	/* the headings, in order, in both parts */
	p = text;
	for (size_t i = 0; i < sizeof(headings) / sizeof(headings[0]); i++) {
		p = strstr(p, headings[i]);
		ck_assert_msg(p != NULL, "no \"%s\" in order in:\n%s",
		              headings[i], text);
	}
	p = html;
	for (size_t i = 1; i < sizeof(headings) / sizeof(headings[0]); i++) {
		char tag[80];

		snprintf(tag, sizeof(tag), "<h2>%s</h2>", headings[i]);
		p = strstr(p, tag);
		ck_assert_msg(p != NULL, "no %s in order", tag);
	}
	ck_assert_ptr_nonnull(strstr(html, "<h1>Notice of Data Breach</h1>"));
	/* this customer's facts */
	ft = flat(text);
	ck_assert_ptr_nonnull(strstr(ft, "Dear Zoë <b>Müller</b> & Co,"));
	ck_assert_ptr_nonnull(strstr(html, "Dear Zoë &lt;b&gt;Müller&lt;/b&gt; "
	                                   "&amp; Co,"));
	ck_assert_ptr_null(strstr(html, "<b>Müller"));
	ck_assert_ptr_nonnull(strstr(ft, "the names and e-mail addresses"));
	ck_assert_ptr_nonnull(strstr(ft, "between 23 November 2026 and 24 "
	                                 "November 2026"));
	ck_assert_ptr_nonnull(strstr(ft, "We blocked the network address the "
	                                 "access came from (23 November 2026 "
	                                 "at 08:15 UTC)."));
	/* a step that failed is not claimed */
	ck_assert_ptr_null(strstr(ft, "locked the account"));
	ck_assert_ptr_nonnull(strstr(ft, "privacy@example.com or +44 20"));
	ck_assert_ptr_nonnull(strstr(ft, "Dana Protector"));
	ck_assert_ptr_nonnull(strstr(ft, "bw-0123456789abcdef / c1001"));
	ck_assert_ptr_nonnull(strstr(ft, "Someone read a large number"));
	/* a control character from an agent is shown, not sent */
	ck_assert_ptr_nonnull(strstr(ft, "weird\\x1b[31mkind"));
	/* no one else's facts: other customers, the evidence, the actor */
	ck_assert_ptr_null(strstr(m.message, "c1002"));
	ck_assert_ptr_null(strstr(m.message, "c1003"));
	ck_assert_ptr_null(strstr(text, "203.0.113.9"));
	ck_assert_ptr_null(strstr(text, "api-user-7"));
	ck_assert_ptr_null(strstr(html, "c1002"));
	free(ft);
	free(text);
	free(html);

	/* the same inputs, the same Message-ID; another customer, another */
	ck_assert_int_eq(render_customer(r, rec, &who, who.email, false, 1,
	                                 NULL, T0 + 99 * SEC, &again, &err),
	                 0);
	ck_assert_str_eq(again.message_id, m.message_id);
	who.id = "c1002";
	ck_assert_int_eq(render_customer(r, rec, &who, who.email, false, 1,
	                                 NULL, T0, &other, &err),
	                 0);
	ck_assert_str_ne(other.message_id, m.message_id);
	render_msg_clear(&again);
	render_msg_clear(&other);
	render_msg_clear(&m);

	/* the alternate contact */
	who.id = "c1001";
	who.alt_email = "zoe.private@example.net";
	ck_assert_int_eq(render_customer(r, rec, &who, who.alt_email, true, 1,
	                                 NULL, T0, &m, &err),
	                 0);
	h = header_of(m.message, "To");
	ck_assert_ptr_nonnull(strstr(h, "<zoe.private@example.net>"));
	free(h);
	text = part_of(m.message, "text/plain");
	ft = flat(text);
	ck_assert_ptr_nonnull(strstr(ft, "your alternate contact"));
	free(ft);
	free(text);
	render_msg_clear(&m);

	/* a line break in a name is refused, not cleaned */
	who.name = "Eve\r\nBcc: everyone@example.com";
	ck_assert_int_lt(render_customer(r, rec, &who, who.email, false, 1,
	                                 NULL, T0, &m, &err),
	                 0);
	ck_assert_ptr_null(m.message);
	render_destroy(&r);
	store_record_destroy(&rec);
	cleanup();
}
END_TEST

START_TEST(test_team_alert)
{
	struct store_record *rec = sample();
	struct render *r = open_render(NULL);
	struct render_team t = {
	    .kind = OUTBOX_TEAM_ALERT,
	    .to = "soc@example.com",
	    .number = 1,
	    .reason = "A new incident.",
	    .policy = "approve",
	    .notify_customers = true,
	};
	struct render_msg m;
	struct bw_error err;
	char *h, *text, *dec;

	ck_assert_msg(
	    render_team_message(r, rec, &t, T0 + 3600 * SEC, &m, &err) == 0,
	    "%s:%d: %s", err.file, err.line, err.msg);
	lines_ok(m.message, 78);
	h = header_of(m.message, "Subject");
	dec = header_decode(h);
	/* the title's line break is a space in the subject */
	ck_assert_ptr_nonnull(strstr(dec, "[breachwatch] critical: Contact "
	                                  "lists read in bulk  Bcc: "
	                                  "x@evil.example"));
	free(dec);
	free(h);
	ck_assert_ptr_null(header_of(m.message, "Bcc"));
	h = header_of(m.message, "To");
	ck_assert_str_eq(h, "<soc@example.com>");
	free(h);
	h = header_of(m.message, "X-Breachwatch-Severity");
	ck_assert_str_eq(h, "critical");
	free(h);
	ck_assert_ptr_null(strstr(m.message, "text/html"));
	text = part_of(m.message, "text/plain");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "Rule          web-bulk-contacts"));
	ck_assert_ptr_nonnull(strstr(text, "Category      bulk-read"));
	ck_assert_ptr_nonnull(strstr(text, "Host          mail-db-1"));
	/* the number of events on a line of its own: never "1 events" */
	ck_assert_ptr_nonnull(strstr(text, "\nEvents        40\n"));
	ck_assert_ptr_nonnull(strstr(text, "Actor ip      203.0.113.9"));
	ck_assert_ptr_nonnull(strstr(text, "AFFECTED CUSTOMERS: 3"));
	ck_assert_ptr_nonnull(strstr(text, "  c1001\n  c1002\n  c1003\n"));
	ck_assert_ptr_nonnull(
	    strstr(text, "GET /api/c1002/contacts?token=****"));
	ck_assert_ptr_nonnull(strstr(text, "agent  block-src: ok - exit 0"));
	ck_assert_ptr_nonnull(strstr(text, "lock-account: failed"));
	ck_assert_ptr_nonnull(strstr(text, "72 hours:   2026-11-26T08:15:03Z "
	                                   "(in 2 d 23 h)"));
	ck_assert_ptr_nonnull(strstr(text, "breachwatch approve "
	                                   "bw-0123456789abcdef"));
	ck_assert_ptr_nonnull(strstr(text, "breachwatch show "
	                                   "bw-0123456789abcdef"));
	ck_assert_ptr_nonnull(strstr(text, "HELD"));
	free(text);
	render_msg_clear(&m);

	/* a rule that does not ask for customer notices: the alert says
	 * how to have them told; not when they are turned off */
	t.policy = "auto";
	t.notify_customers = false;
	t.notify_hint = true;
	ck_assert_int_eq(render_team_message(r, rec, &t, T0, &m, &err), 0);
	text = part_of(m.message, "text/plain");
	ck_assert_ptr_nonnull(
	    strstr(text, "The rule does not ask for customer notices"));
	ck_assert_ptr_nonnull(strstr(text, "    breachwatch notify "
	                                   "bw-0123456789abcdef --reason"));
	ck_assert_ptr_null(strstr(text, "breachwatch approve"));
	free(text);
	render_msg_clear(&m);
	t.notify_hint = false;
	t.customers_off = true;
	ck_assert_int_eq(render_team_message(r, rec, &t, T0, &m, &err), 0);
	text = part_of(m.message, "text/plain");
	ck_assert_ptr_nonnull(strstr(text, "notify.customers = false"));
	ck_assert_ptr_null(strstr(text, "--reason"));
	free(text);
	render_msg_clear(&m);
	/* decided by an operator: no approval asked for */
	t.customers_off = false;
	t.notify_customers = true;
	t.notify_decided = true;
	t.policy = "approve";
	ck_assert_int_eq(render_team_message(r, rec, &t, T0, &m, &err), 0);
	text = part_of(m.message, "text/plain");
	ck_assert_ptr_nonnull(strstr(text, "without a further approval"));
	ck_assert_ptr_null(strstr(text, "HELD"));
	ck_assert_ptr_null(strstr(text, "breachwatch approve"));
	free(text);
	render_msg_clear(&m);
	t.notify_decided = false;

	/* problems: each customer with what is wrong */
	{
		struct store_notification probs[2] = {
		    {.customer_id = "c1002",
		     .state = "unresolved",
		     .detail = "not in customers.csv"},
		    {.customer_id = "c1003",
		     .state = "failed",
		     .recipient = "c3@example.com",
		     .detail = "refused by the relay",
		     .smtp_text = "550 5.1.1 no such user"},
		};

		t.kind = OUTBOX_TEAM_PROBLEM;
		t.problems = probs;
		t.n_problems = 2;
		t.problems_total = 2;
		ck_assert_int_eq(render_team_message(r, rec, &t, T0, &m, &err),
		                 0);
		text = part_of(m.message, "text/plain");
		ck_assert_ptr_nonnull(strstr(text, "c1002  unresolved"));
		ck_assert_ptr_nonnull(strstr(text, "not in customers.csv"));
		ck_assert_ptr_nonnull(strstr(text, "c1003  failed  "
		                                   "c3@example.com"));
		ck_assert_ptr_nonnull(strstr(text, "550 5.1.1 no such user"));
		free(text);
		render_msg_clear(&m);
	}
	render_destroy(&r);
	store_record_destroy(&rec);
	cleanup();
}
END_TEST

START_TEST(test_customer_update)
{
	struct store_record *rec = sample();
	struct render *r = open_render(NULL);
	struct directory_entry who = {
	    .id = "c1001",
	    .name = "Zoë <b>Müller</b>",
	    .email = "zoe@example.org",
	};
	/* version 1 was sent before the step and before revision 2 came */
	struct render_update upd = {
	    .previous_us = T0 + SEC,
	    .previous_message_id = "<v1.1@example.com>",
	};
	struct render_msg m, v1;
	struct bw_error err;
	char *h, *text, *html, *ft, *changes;
	const char *p;

	ck_assert_msg(render_customer(r, rec, &who, who.email, false, 2, &upd,
	                              T0 + 60 * SEC, &m, &err) == 0,
	              "%s:%d: %s", err.file, err.line, err.msg);
	lines_ok(m.message, 78);
	ck_assert_str_eq(m.subject, "Update to our Notice of Data Breach");
	h = header_of(m.message, "In-Reply-To");
	ck_assert_str_eq(h, "<v1.1@example.com>");
	free(h);
	h = header_of(m.message, "References");
	ck_assert_str_eq(h, "<v1.1@example.com>");
	free(h);
	/* derived from (incident, customer, version): not version 1's */
	ck_assert_int_eq(render_customer(r, rec, &who, who.email, false, 1,
	                                 NULL, T0, &v1, &err),
	                 0);
	ck_assert_str_ne(m.message_id, v1.message_id);
	ck_assert_ptr_nonnull(strstr(m.message_id, ".2@example.com>"));
	ck_assert_ptr_null(header_of(v1.message, "In-Reply-To"));
	render_msg_clear(&v1);
	/* a Message-ID of a sender with a long domain is a msg-id in
	 * In-Reply-To and References too, never an encoded word (which
	 * would break the thread); folded before it, not inside */
	{
		static const char long_id[] =
		    "<0123456789abcdef0123456789abcdef.1@"
		    "notices.mail.example-company.co.uk>";
		const struct render_update lu = {
		    .previous_us = T0 + SEC, .previous_message_id = long_id};
		static const char *const names[] = {"In-Reply-To",
		                                    "References"};

		ck_assert_int_eq(render_customer(r, rec, &who, who.email,
		                                 false, 2, &lu, T0 + 60 * SEC,
		                                 &v1, &err),
		                 0);
		lines_ok(v1.message, 78);
		for (size_t i = 0; i < 2; i++) {
			char *raw = header_of(v1.message, names[i]), *o = raw;

			ck_assert_ptr_nonnull(raw);
			for (const char *q = raw; *q != '\0'; q++)
				if (*q != '\r' && *q != '\n' && *q != ' ')
					*o++ = *q;
			*o = '\0';
			ck_assert_str_eq(raw, long_id);
			free(raw);
		}
		render_msg_clear(&v1);
	}

	text = part_of(m.message, "text/plain");
	html = part_of(m.message, "text/html");
	ft = flat(text);
	ck_assert_ptr_nonnull(
	    strstr(ft, "UPDATE TO OUR NOTICE OF DATA BREACH"));
	ck_assert_ptr_nonnull(strstr(ft, "an update to the notice of data "
	                                 "breach we sent you on 23 November "
	                                 "2026 about a security incident at "
	                                 "Example Mail"));
	/* what changed since then, before the notice's sections */
	changes = strstr(ft, "What has changed since then:");
	ck_assert_ptr_nonnull(changes);
	ck_assert_ptr_nonnull(strstr(changes, "We stopped the access on 23 "
	                                      "November 2026 at 08:15 UTC."));
	ck_assert_ptr_nonnull(strstr(changes, "- We blocked the network "
	                                      "address the access came from"));
	ck_assert_ptr_nonnull(strstr(changes, "also involved your contact "
	                                      "list"));
	ck_assert_ptr_null(strstr(ft, "completed our investigation"));
	ck_assert_ptr_null(strstr(ft, "locked the account"));
	ck_assert(strstr(ft, "What has changed") < strstr(ft, "What Happened"));
	p = ft;
	for (size_t i = 1; i < sizeof(headings) / sizeof(headings[0]); i++) {
		p = strstr(p, headings[i]);
		ck_assert_msg(p != NULL, "no \"%s\" in order in:\n%s",
		              headings[i], text);
	}
	ck_assert_ptr_nonnull(strstr(ft, "bw-0123456789abcdef / c1001"));
	ck_assert_ptr_null(strstr(m.message, "c1002"));
	ck_assert_ptr_null(strstr(text, "203.0.113.9"));
	ck_assert_ptr_nonnull(
	    strstr(html, "<h1>Update to our Notice of Data Breach</h1>"));
	ck_assert_ptr_nonnull(strstr(html, "<h2>What Happened</h2>"));
	ck_assert_ptr_nonnull(strstr(html, "Dear Zoë &lt;b&gt;Müller"));
	ck_assert_ptr_nonnull(strstr(html, "What has changed since then"));
	free(ft);
	free(text);
	free(html);
	render_msg_clear(&m);

	/* sent after everything: nothing new to say, the notice again */
	upd.previous_us = T0 + 10 * SEC;
	ck_assert_int_eq(render_customer(r, rec, &who, who.email, false, 3,
	                                 &upd, T0 + 60 * SEC, &m, &err),
	                 0);
	text = part_of(m.message, "text/plain");
	ft = flat(text);
	ck_assert_ptr_null(strstr(ft, "What has changed"));
	ck_assert_ptr_nonnull(strstr(ft, "has not changed since then"));
	/* the sections still tell every step taken */
	ck_assert_ptr_nonnull(strstr(ft, "We blocked the network address"));
	free(ft);
	free(text);
	render_msg_clear(&m);

	/* closed since: said among the changes; closed before: said apart */
	rec->inc.state = STORE_CLOSED;
	rec->inc.closed_us = T0 + 86400 * SEC;
	ck_assert_int_eq(render_customer(r, rec, &who, who.email, false, 3,
	                                 &upd, T0 + 90000 * SEC, &m, &err),
	                 0);
	text = part_of(m.message, "text/plain");
	ft = flat(text);
	changes = strstr(ft, "What has changed since then:");
	ck_assert_ptr_nonnull(changes);
	ck_assert_ptr_nonnull(strstr(changes, "- We completed our "
	                                      "investigation of the incident "
	                                      "on 24 November 2026."));
	free(ft);
	free(text);
	render_msg_clear(&m);
	upd.previous_us = T0 + 2 * 86400 * SEC;
	ck_assert_int_eq(render_customer(r, rec, &who, who.email, false, 4,
	                                 &upd, T0 + 3 * 86400 * SEC, &m, &err),
	                 0);
	text = part_of(m.message, "text/plain");
	ft = flat(text);
	ck_assert_ptr_null(strstr(ft, "What has changed"));
	ck_assert_ptr_nonnull(strstr(ft, "we sent you on 25 November 2026"));
	ck_assert_ptr_nonnull(strstr(ft, "We completed our investigation of "
	                                 "the incident on 24 November 2026."));
	free(ft);
	free(text);
	render_msg_clear(&m);
	render_destroy(&r);
	store_record_destroy(&rec);
	cleanup();
}
END_TEST

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_site_templates)
{
	struct store_record *rec = sample();
	struct directory_entry who = {.id = "c1001",
	                              .name = "Ann",
	                              .email = "ann@example.org",
	                              .locale = "fr-CA"};
	struct render_params p = {
	    .shipped_dir = SHIPPED,
	    .org = {.name = "X", .contact = "c", .from = "a@b.example"},
	};
	struct render *r;
	struct render_msg m;
	struct bw_error err;
	char site[160], path[200], *text;

	snprintf(site, sizeof(site), "%s/site", dir);
	ck_assert_int_eq(mkdir(site, 0700), 0);
	snprintf(path, sizeof(path), "%s/fr", site);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/fr/customer.txt", site);
	put_file(path, "Subject: Avis de violation de donnees\n\nBonjour "
	               "{{customer.name}}, {{category.what_happened}}\n");
	snprintf(path, sizeof(path), "%s/fr/categories", site);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/fr/categories/bulk-read.conf", site);
	put_file(path, "what_happened = \"On a lu vos contacts.\";\n");
	p.site_dir = site;
	r = render_new(&p, &err);
	ck_assert_msg(r != NULL, "%s", err.msg);
	ck_assert_int_eq(render_customer(r, rec, &who, who.email, false, 1,
	                                 NULL, T0, &m, &err),
	                 0);
	ck_assert_str_eq(m.subject, "Avis de violation de donnees");
	text = part_of(m.message, "text/plain");
	ck_assert_str_eq(text, "Bonjour Ann, On a lu vos contacts.\n");
	free(text);
	/* no French HTML: the shipped English one, which says it is in
	 * English (not in the customer's fr-CA) */
	text = part_of(m.message, "text/html");
	ck_assert_ptr_nonnull(strstr(text, "What Happened"));
	ck_assert_ptr_nonnull(strstr(text, "<html lang=\"en\">"));
	free(text);
	render_msg_clear(&m);
	/* the update's template is the site's too; the sections it does
	 * not override are the shipped ones */
	snprintf(path, sizeof(path), "%s/fr/customer-update.txt", site);
	put_file(path, "Subject: Mise a jour de notre avis\n\nDepuis le "
	               "{{update.previous_date}}:\n{{> "
	               "notice-sections.txt}}");
	{
		const struct render_update upd = {.previous_us = T0};

		ck_assert_int_eq(render_customer(r, rec, &who, who.email, false,
		                                 2, &upd, T0, &m, &err),
		                 0);
	}
	ck_assert_str_eq(m.subject, "Mise a jour de notre avis");
	text = part_of(m.message, "text/plain");
	ck_assert_ptr_nonnull(strstr(text, "Depuis le 23 November 2026:\n"));
	ck_assert_ptr_nonnull(strstr(text, "What Happened"));
	free(text);
	render_msg_clear(&m);
	render_destroy(&r);

	/* a broken site template: refused at start with file:line */
	snprintf(path, sizeof(path), "%s/en", site);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/en/team-alert.txt", site);
	put_file(path, "Subject: x\n\n{{#incident.steps}}\nno end\n");
	ck_assert_ptr_null(render_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.file, "site/en/team-alert.txt"));
	ck_assert_int_eq(err.line, 3);
	ck_assert_ptr_nonnull(strstr(err.msg, "never closed"));
	/* nor a bad From */
	unlink(path);
	p.org.from = "not an address";
	ck_assert_ptr_null(render_new(&p, &err));
	store_record_destroy(&rec);
	cleanup();
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, test_customer_notice);
	tcase_add_test(tc, test_customer_update);
	tcase_add_test(tc, test_team_alert);
	tcase_add_test(tc, test_site_templates);
	suite_add_tcase(s, tc);
	return s;
}
