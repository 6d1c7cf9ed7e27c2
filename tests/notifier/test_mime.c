/*
 * test_mime.c - messages (notifier/mime.c) and templates
 * (notifier/template.c): addresses checked, headers folded and encoded
 * and decoded back, CR/LF refused wherever a header or envelope would get
 * it, quoted-printable that decodes to the text with short CRLF lines, a
 * whole multipart message; the template language with its escaping,
 * sections, partials and errors at file:line.
 */
#include <check.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check_main.h"
#include "mime.h"
#include "msgcheck.h"
#include "template.h"
#include "xmalloc.h"

START_TEST(test_addresses)
{
	static const char *const good[] = {
	    "a@b",
	    "alice@example.com",
	    "a.b+tag@mail.example.co.uk",
	    "o'brien@example.ie",
	    "x_y-z@sub-domain.example",
	    "root@localhost",
	    "u@[127.0.0.1]",
	};
	static const char *const bad[] = {
	    "",
	    "ab",
	    "alice",
	    "@example.com",
	    "alice@",
	    "a@@b.c",
	    "a@b@c",
	    "a b@example.com",
	    "a@exa mple.com",
	    "a@example.com\r\nBcc: eve@evil.example",
	    "a@example.com\n",
	    ".a@example.com",
	    "a.@example.com",
	    "a..b@example.com",
	    "a@-example.com",
	    "a@example-.com",
	    "a@example..com",
	    "a@exa_mple.com",
	    "\"a\"@example.com",
	    "a@example.com>",
	    "<a@example.com",
	    "ä@example.com",
	    "a@bücher.example",
	};
	struct bw_error err;
	char big[300];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(mime_addr_check(good[i], "t", &err) == 0,
		              "%s: %s", good[i], err.msg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(mime_addr_check(bad[i], "t", &err) < 0,
		              "accepted \"%s\"", bad[i]);
	memset(big, 'a', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	big[10] = '@';
	ck_assert_int_lt(mime_addr_check(big, "t", &err), 0);
	ck_assert_str_eq(mime_addr_domain("alice@example.com"), "example.com");
	ck_assert(mime_value_ok("abc", 3));
	ck_assert(!mime_value_ok("a\rb", 3));
	ck_assert(!mime_value_ok("a\nb", 3));
	ck_assert(!mime_value_ok("a\0b", 3));
}
END_TEST

static void header_roundtrip(const char *value, bool want_encoded)
{
	struct bw_buf b;
	struct bw_error err;
	char *raw, *dec;

	bw_buf_init(&b, 1 << 20);
	ck_assert_msg(mime_header(&b, "Subject", value, &err) == 0, "%s",
	              err.msg);
	lines_ok(b.data, want_encoded ? 76 : 78);
	raw = header_of(b.data, "Subject");
	ck_assert_ptr_nonnull(raw);
	ck_assert_msg((strstr(raw, "=?UTF-8?B?") != NULL) == want_encoded,
	              "encoding of \"%s\": %s", value, raw);
	dec = header_decode(raw);
	ck_assert_str_eq(dec, value);
	free(dec);
	free(raw);
	bw_buf_free(&b);
}

START_TEST(test_headers)
{
	struct bw_buf b;
	struct bw_error err;

	header_roundtrip("Notice of Data Breach", false);
	header_roundtrip("A rather long subject line that will certainly have "
	                 "to be folded somewhere because it goes on and on and "
	                 "on past the seventy-eight columns",
	                 false);
	header_roundtrip("Hinweis auf eine Datenschutzverletzung: Ihre "
	                 "Kontaktliste bei Müller & Söhne wurde gelesen — "
	                 "bitte lesen Sie diese Nachricht vollständig 日本語",
	                 true);
	header_roundtrip("looks like =?UTF-8?B?Zm9v?= an encoded word", true);
	/* a character is never split across encoded words */
	header_roundtrip("ééééééééééééééééééééééééééééééééééééééééééééééééééééé"
	                 "ééééééééééééééééééééé",
	                 true);

	bw_buf_init(&b, 1 << 20);
	ck_assert_int_lt(mime_header(&b, "Subject", "Hi\r\nBcc: x@y.z", &err),
	                 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "line break"));
	ck_assert_int_lt(mime_header(&b, "Subject", "Hi\nthere", &err), 0);
	ck_assert_int_lt(mime_header(&b, "Subject", "bad \xff utf8", &err), 0);
	ck_assert_int_lt(mime_header(&b, "Bad Name", "v", &err), 0);
	ck_assert_int_lt(mime_header(&b, "X:Y", "v", &err), 0);
	ck_assert_uint_eq(b.len, 0);

	/* display names: quoted ASCII with escapes, encoded otherwise */
	ck_assert_int_eq(mime_header_addr(&b, "To", "Alice \"Al\" O\\Brien",
	                                  "alice@example.com", &err),
	                 0);
	ck_assert_str_eq(b.data, "To: \"Alice \\\"Al\\\" O\\\\Brien\" "
	                         "<alice@example.com>\r\n");
	bw_buf_reset(&b);
	ck_assert_int_eq(
	    mime_header_addr(&b, "To", "Zoë Ångström", "zoe@example.com", &err),
	    0);
	{
		char *raw = header_of(b.data, "To"), *dec = header_decode(raw);

		ck_assert_str_eq(dec, "Zoë Ångström <zoe@example.com>");
		free(dec);
		free(raw);
	}
	bw_buf_reset(&b);
	ck_assert_int_lt(mime_header_addr(&b, "To",
	                                  "Eve\r\nBcc: x@evil.example",
	                                  "eve@example.com", &err),
	                 0);
	ck_assert_int_lt(mime_header_addr(&b, "To", "Eve",
	                                  "eve@example.com\r\nBcc: x@y.z",
	                                  &err),
	                 0);
	ck_assert_int_lt(
	    mime_header_addr(&b, "To", "Eve\x01", "e@example.com", &err), 0);
	ck_assert_uint_eq(b.len, 0);
	bw_buf_free(&b);
}
END_TEST

static void qp_roundtrip(const char *text, const char *want)
{
	struct bw_buf b;
	char *dec;

	bw_buf_init(&b, 1 << 24);
	ck_assert_int_eq(mime_qp(&b, text, strlen(text)), 0);
	lines_ok(b.data, 76);
	for (const char *l = b.data; l != NULL && *l != '\0';) {
		ck_assert_msg(l[0] != '.', "a line starts with a dot");
		ck_assert_msg(strncmp(l, "From ", 5) != 0, "a line starts "
		                                           "with From");
		l = strstr(l, "\r\n");
		if (l != NULL)
			l += 2;
	}
	dec = qp_decode(b.data);
	ck_assert_str_eq(dec, want);
	free(dec);
	bw_buf_free(&b);
}

START_TEST(test_quoted_printable)
{
	char long_line[400];

	qp_roundtrip("plain text\n", "plain text\n");
	qp_roundtrip("no line end", "no line end\n");
	qp_roundtrip("", "\n");
	qp_roundtrip("crlf\r\nlines\r\n", "crlf\nlines\n");
	qp_roundtrip("trailing spaces   \nand tab\t\n",
	             "trailing spaces   \nand tab\t\n");
	qp_roundtrip(".\n..leading dots\nFrom me\n",
	             ".\n..leading dots\nFrom me\n");
	qp_roundtrip("a = b; 100% sure\n", "a = b; 100% sure\n");
	qp_roundtrip("Grüße, Zoë — 日本語\n", "Grüße, Zoë — 日本語\n");
	qp_roundtrip("\n\n\nblank lines\n\n", "\n\n\nblank lines\n\n");
	memset(long_line, 'x', sizeof(long_line));
	for (size_t i = 0; i < sizeof(long_line); i += 7)
		long_line[i] = i % 2 ? '.' : '=';
	long_line[sizeof(long_line) - 1] = '\0';
	{
		char *want = xasprintf("%s\n", long_line);

		qp_roundtrip(long_line, want);
		free(want);
	}
}
END_TEST

START_TEST(test_date_and_id)
{
	char buf[40], *a, *b, *c;

	/* 2026-11-23T08:15:00Z is a Monday */
	ck_assert_str_eq(mime_date(INT64_C(1795421700000000), buf, sizeof(buf)),
	                 "Mon, 23 Nov 2026 08:15:00 +0000");
	a = mime_message_id("customer", "bw-1", "c2001", 1, "example.com");
	b = mime_message_id("customer", "bw-1", "c2001", 1, "example.com");
	c = mime_message_id("customer", "bw-1", "c2001", 2, "example.com");
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_uint_eq(strlen(a), 1 + 32 + 2 + 12 + 1);
	ck_assert_ptr_nonnull(strstr(a, ".1@example.com>"));
	free(c);
	/* no ambiguity between the fields */
	c = mime_message_id("customer", "bw-1c", "2001", 1, "example.com");
	ck_assert_str_ne(a, c);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_build)
{
	struct mime_header_kv extra[] = {{"X-Breachwatch-Incident", "bw-1"}};
	struct mime_msg m = {
	    .from_name = "Example Mail Security",
	    .from = "security@example.com",
	    .to_name = "Zoë Müller",
	    .to = "zoe@example.org",
	    .reply_to = "privacy@example.com",
	    .subject = "Notice of Data Breach",
	    .message_id = "<0123.1@example.com>",
	    .date_us = INT64_C(1795421700000000),
	    .text = "Dear Zoë,\n\nWhat Happened\n.\n",
	    .html = "<p>Dear Zo&euml;,</p>\n<h2>What Happened</h2>\n",
	    .extra = extra,
	    .n_extra = 1,
	};
	struct bw_buf b;
	struct bw_error err;
	const char *body, *p1, *p2, *end;
	char *h;

	bw_buf_init(&b, MIME_MAX_MESSAGE);
	ck_assert_msg(mime_build(&m, &b, &err) == 0, "%s", err.msg);
	lines_ok(b.data, 78);
	h = header_of(b.data, "Auto-Submitted");
	ck_assert_str_eq(h, "auto-generated");
	free(h);
	h = header_of(b.data, "Date");
	ck_assert_str_eq(h, "Mon, 23 Nov 2026 08:15:00 +0000");
	free(h);
	h = header_of(b.data, "Message-ID");
	ck_assert_str_eq(h, "<0123.1@example.com>");
	free(h);
	h = header_of(b.data, "MIME-Version");
	ck_assert_str_eq(h, "1.0");
	free(h);
	h = header_of(b.data, "X-Breachwatch-Incident");
	ck_assert_str_eq(h, "bw-1");
	free(h);
	h = header_of(b.data, "Reply-To");
	ck_assert_str_eq(h, "<privacy@example.com>");
	free(h);
	ck_assert_ptr_nonnull(strstr(b.data, "multipart/alternative"));
	body = strstr(b.data, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	/* two parts, text then HTML, and the closing boundary */
	p1 =
	    strstr(body, "--=_bw_alternative_7f3a\r\nContent-Type: text/plain");
	p2 = strstr(body, "--=_bw_alternative_7f3a\r\nContent-Type: text/html");
	end = strstr(body, "--=_bw_alternative_7f3a--\r\n");
	ck_assert_ptr_nonnull(p1);
	ck_assert_ptr_nonnull(p2);
	ck_assert_ptr_nonnull(end);
	ck_assert(p1 < p2 && p2 < end);
	ck_assert_ptr_nonnull(strstr(p1, "Dear Zo=C3=AB,\r\n\r\nWhat Happened"
	                                 "\r\n=2E\r\n"));

	/* refused: a CR or LF anywhere headed for a header or envelope */
	bw_buf_reset(&b);
	m.to_name = "Eve\r\nBcc: all@example.com";
	ck_assert_int_lt(mime_build(&m, &b, &err), 0);
	bw_buf_reset(&b);
	m.to_name = "Eve";
	m.to = "eve@example.org\nBcc: all@example.com";
	ck_assert_int_lt(mime_build(&m, &b, &err), 0);
	bw_buf_reset(&b);
	m.to = "eve@example.org";
	m.subject = "Notice\r\nBcc: all@example.com";
	ck_assert_int_lt(mime_build(&m, &b, &err), 0);
	bw_buf_reset(&b);
	m.subject = "Notice";
	m.message_id = "<a@b>\r\nBcc: x@y";
	ck_assert_int_lt(mime_build(&m, &b, &err), 0);
	bw_buf_reset(&b);

	/* text only */
	m.message_id = "<0123.1@example.com>";
	m.html = NULL;
	ck_assert_int_eq(mime_build(&m, &b, &err), 0);
	ck_assert_ptr_null(strstr(b.data, "multipart"));
	ck_assert_ptr_nonnull(strstr(b.data, "Content-Type: text/plain; "
	                                     "charset=utf-8\r\n"));
	bw_buf_free(&b);
}
END_TEST

/*
 * Templates.
 */

static char *render(const char *tpl, const char *json, bool html)
{
	json_t *ctx = json_loads(json, 0, NULL);
	struct bw_buf b;
	struct bw_error err;

	ck_assert_ptr_nonnull(ctx);
	bw_buf_init(&b, 1 << 20);
	ck_assert_msg(
	    template_render(tpl, "t.txt", ctx, html, NULL, NULL, &b, &err) == 0,
	    "%s:%d: %s", err.file, err.line, err.msg);
	json_decref(ctx);
	return bw_buf_steal(&b);
}

static void render_eq(const char *tpl, const char *json, bool html,
                      const char *want)
{
	char *got = render(tpl, json, html);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_template_values)
{
	render_eq("Dear {{name}},", "{\"name\":\"Zoë\"}", false, "Dear Zoë,");
	render_eq("{{ name }}|{{missing}}|{{n}}|{{b}}|{{x.y}}",
	          "{\"name\":\"a\",\"n\":42,\"b\":true,\"x\":{\"y\":\"z\"}}",
	          false, "a||42|yes|z");
	render_eq("<b>{{v}}</b>", "{\"v\":\"<script>&\\\"'\"}", true,
	          "<b>&lt;script&gt;&amp;&quot;&#39;</b>");
	render_eq("{{v}}", "{\"v\":\"<script>\"}", false, "<script>");
	/* a value is never read as a template */
	render_eq("{{v}}", "{\"v\":\"{{w}}\",\"w\":\"no\"}", false, "{{w}}");
}
END_TEST

START_TEST(test_template_sections)
{
	const char *list = "{\"items\":[{\"a\":\"1\"},{\"a\":\"2\"}],"
	                   "\"words\":[\"x\",\"y\"],\"empty\":[],"
	                   "\"yes\":true,\"no\":false,\"s\":\"\","
	                   "\"obj\":{\"k\":\"v\"},\"top\":\"T\"}";

	render_eq("{{#items}}[{{a}}{{top}}]{{/items}}", list, false,
	          "[1T][2T]");
	render_eq("{{#words}}{{.}};{{/words}}", list, false, "x;y;");
	render_eq("{{#empty}}E{{/empty}}{{^empty}}none{{/empty}}", list, false,
	          "none");
	render_eq("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{^no}}n{{/no}}{{#s}}S{{/s}}"
	          "{{#absent}}A{{/absent}}{{^absent}}a{{/absent}}",
	          list, false, "Yna");
	render_eq("{{#obj}}{{k}}{{/obj}}", list, false, "v");
	/* a tag alone on its line takes the line */
	render_eq("Items:\n  {{#words}}\n- {{.}}\n  {{/words}}\n{{! note }}\n"
	          "end\n",
	          list, false, "Items:\n- x\n- y\nend\n");
	render_eq("a {{#yes}}b{{/yes}} c\n", list, false, "a b c\n");
}
END_TEST

static int partial_fn(const char *name, char **text, char **where, void *arg,
                      struct bw_error *err)
{
	if (strcmp(name, "greet") == 0) {
		*text = xstrdup("Hello {{name}}!");
		*where = xstrdup("greet.txt");
		return 0;
	}
	if (strcmp(name, "loop") == 0) {
		*text = xstrdup("{{> loop}}");
		*where = xstrdup("loop.txt");
		return 0;
	}
	return bw_error_set(err, NULL, 0, "no template %s", name);
}

START_TEST(test_template_partials_and_errors)
{
	static const struct {
		const char *tpl;
		int line;
		const char *msg;
	} bad[] = {
	    {"a\n{{#x}}\nb\n", 2, "never closed"},
	    {"{{#x}}\n{{/y}}\n", 2, "closes"},
	    {"a\n\n{{/x}}", 3, "closes nothing"},
	    {"x {{ bad name }}", 1, "bad name"},
	    {"x\n{{a", 2, "without"},
	    {"{{}}", 1, "bad name"},
	};
	json_t *ctx = json_pack("{s:s}", "name", "Zoë");
	struct bw_buf b;
	struct bw_error err;

	bw_buf_init(&b, 1 << 20);
	ck_assert_int_eq(template_render("{{> greet}} ok", "t.txt", ctx, false,
	                                 partial_fn, NULL, &b, &err),
	                 0);
	ck_assert_str_eq(b.data, "Hello Zoë! ok");
	bw_buf_reset(&b);
	ck_assert_int_lt(template_render("{{> nope}}", "t.txt", ctx, false,
	                                 partial_fn, NULL, &b, &err),
	                 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "no template nope"));
	ck_assert_int_lt(template_render("{{> loop}}", "t.txt", ctx, false,
	                                 partial_fn, NULL, &b, &err),
	                 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "nested"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(template_check(bad[i].tpl, "t.txt", &err) < 0,
		              "accepted %s", bad[i].tpl);
		ck_assert_str_eq(err.file, "t.txt");
		ck_assert_msg(err.line == bad[i].line, "%s: line %d, want %d",
		              bad[i].tpl, err.line, bad[i].line);
		ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL, "%s: \"%s\"",
		              bad[i].tpl, err.msg);
	}
	/* the ceiling */
	{
		struct bw_buf small;

		bw_buf_init(&small, 8);
		ck_assert_int_lt(template_render("0123456789", "t.txt", ctx,
		                                 false, NULL, NULL, &small,
		                                 &err),
		                 0);
		bw_buf_free(&small);
	}
	json_decref(ctx);
	bw_buf_free(&b);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("mime");
	TCase *tc = tcase_create("mime");

	tcase_add_test(tc, test_addresses);
	tcase_add_test(tc, test_headers);
	tcase_add_test(tc, test_quoted_printable);
	tcase_add_test(tc, test_date_and_id);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_template_values);
	tcase_add_test(tc, test_template_sections);
	tcase_add_test(tc, test_template_partials_and_errors);
	suite_add_tcase(s, tc);
	return s;
}
