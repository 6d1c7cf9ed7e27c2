/*
 * test_parsers.c - the log parsers, field by field, on lines written the
 * way nginx, Apache and OpenSSH write them; malformed lines, escapes, log
 * injection, and bytes no log should hold.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "test_helpers.h"
#include "check_main.h"

/*
 * The table and the options.
 */

START_TEST(test_types_known)
{
	ck_assert(parser_type_known("nginx"));
	ck_assert(parser_type_known("apache"));
	ck_assert(parser_type_known("json"));
	ck_assert(parser_type_known("sshd"));
	ck_assert(parser_type_known("postgres"));
	ck_assert(!parser_type_known("mysql"));
	ck_assert(!parser_type_known(""));
}
END_TEST

START_TEST(test_options_checked)
{
	const char *e;

	/* the input's own keys are allowed */
	ck_assert_ptr_null(th_parser_error(
	    "nginx", "input = { type = \"nginx\"; path = \"/x\"; "
	             "start = \"end\"; format = \"common\"; };"));
	e = th_parser_error("nginx", "input = { type = \"nginx\";\n"
	                             "  fromat = \"common\"; };");
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(strstr(e, "line 2") && strstr(e, "fromat"), "%s", e);
	e = th_parser_error("apache", "input = {\n format = \"vhost\"; };");
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(strstr(e, "line 2") && strstr(e, "vhost"), "%s", e);
	e = th_parser_error("apache", "input = { format = 3; };");
	ck_assert_ptr_nonnull(e);
	e = th_parser_error("sshd",
	                    "input = {\n\n timezone = \"Mars/Olympus\"; };");
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(strstr(e, "line 3"), "%s", e);
	e = th_parser_error("sshd", "input = { year = 1800; };");
	ck_assert_ptr_nonnull(e);
	e = th_parser_error("syslog", "input = { };");
	ck_assert_ptr_nonnull(e);
	ck_assert_msg(strstr(e, "syslog"), "%s", e);
}
END_TEST

/*
 * nginx and Apache.
 */

static const char NGINX_LINE[] =
    "203.0.113.7 - alice [17/May/2015:10:05:03 +0000] "
    "\"GET /api/v1/customers/c42/contacts?page=2&sort=name HTTP/1.1\" 200 "
    "5316 \"https://mail.example.com/app\" \"Mozilla/5.0 (X11; Linux x86_64)\"";

START_TEST(test_clf_combined_fields)
{
	struct parser *p = th_parser("nginx", NULL);
	struct bw_event ev;

	ck_assert_int_eq(th_parse(p, NGINX_LINE, &ev), 1);
	ck_assert_int_eq(ev.kind, BW_KIND_HTTP);
	ck_assert_int_eq(ev.source, BW_SRC_NGINX);
	ck_assert_str_eq(th_ip(&ev), "203.0.113.7");
	ck_assert_str_eq(th_s(ev.principal), "alice");
	ck_assert_int_eq(ev.ts_us, 1431857103 * US);
	ck_assert_str_eq(th_s(ev.action), "GET");
	ck_assert_str_eq(th_s(ev.resource), "/api/v1/customers/c42/contacts");
	ck_assert_str_eq(th_s(ev.query), "page=2&sort=name");
	ck_assert_str_eq(th_s(ev.text),
	                 "GET /api/v1/customers/c42/contacts?page=2&sort=name "
	                 "HTTP/1.1");
	ck_assert_int_eq(ev.status, 200);
	ck_assert_int_eq(ev.bytes_out, 5316);
	ck_assert_int_eq(ev.bytes_in, -1);
	ck_assert_str_eq(th_s(ev.referer), "https://mail.example.com/app");
	ck_assert_str_eq(th_s(ev.user_agent),
	                 "Mozilla/5.0 (X11; Linux x86_64)");
	ck_assert_uint_eq(parser_get_stats(p)->events, 1);
	ck_assert_int_eq(parser_source(p), BW_SRC_NGINX);
	parser_destroy(&p);
	ck_assert_ptr_null(p);
	parser_destroy(&p); /* NULL is fine */
}
END_TEST

START_TEST(test_clf_dashes_and_apache)
{
	struct parser *p = th_parser("apache", NULL);
	struct bw_event ev;

	/* Apache %b writes "-" for no body; "-" user, referer, agent absent */
	ck_assert_int_eq(th_parse(p,
	                          "198.51.100.4 - - [10/Oct/2000:13:55:36 "
	                          "-0700] \"HEAD /index.html HTTP/1.0\" 304 - "
	                          "\"-\" \"-\"",
	                          &ev),
	                 1);
	ck_assert_int_eq(ev.source, BW_SRC_APACHE);
	ck_assert_int_eq(ev.ts_us, 971211336 * US);
	ck_assert_uint_eq(ev.principal.len, 0);
	ck_assert_uint_eq(ev.referer.len, 0);
	ck_assert_uint_eq(ev.user_agent.len, 0);
	ck_assert_int_eq(ev.bytes_out, 0);
	ck_assert_int_eq(ev.status, 304);
	ck_assert_uint_eq(ev.query.len, 0);
	ck_assert_str_eq(th_s(ev.resource), "/index.html");
	parser_destroy(&p);
}
END_TEST

START_TEST(test_clf_common_format)
{
	struct parser *p =
	    th_parser("apache", "input = { format = \"common\"; };");
	struct bw_event ev;

	ck_assert_int_eq(th_parse(p,
	                          "127.0.0.1 - frank [10/Oct/2000:13:55:36 "
	                          "-0700] \"GET /apache_pb.gif HTTP/1.0\" 200 "
	                          "2326",
	                          &ev),
	                 1);
	ck_assert_str_eq(th_s(ev.principal), "frank");
	ck_assert_int_eq(ev.bytes_out, 2326);
	ck_assert_uint_eq(ev.referer.len, 0);
	/* a combined line read as common: the extra fields are allowed */
	ck_assert_int_eq(th_parse(p, NGINX_LINE, &ev), 1);
	ck_assert_uint_eq(ev.user_agent.len, 0);
	ck_assert_int_eq(ev.bytes_out, 5316);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_clf_escapes)
{
	struct parser *p = th_parser("nginx", NULL);
	struct bw_event ev;

	/* nginx writes '"' as \x22: no field boundary moves */
	ck_assert_int_eq(th_parse(p,
	                          "192.0.2.9 - - [17/May/2015:10:05:03 +0000] "
	                          "\"GET /search?q=\\x22%20or%201=1 HTTP/1.1\" "
	                          "200 12 \"-\" \"curl \\x22x\\x22\"",
	                          &ev),
	                 1);
	ck_assert_str_eq(th_s(ev.query), "q=\\x22%20or%201=1");
	ck_assert_str_eq(th_s(ev.user_agent), "curl \\x22x\\x22");
	ck_assert_int_eq(ev.status, 200);
	parser_destroy(&p);

	p = th_parser("apache", NULL);
	/* Apache writes \" and \\; a request that tries to fake the fields
	 * after it stays one request */
	ck_assert_int_eq(
	    th_parse(p,
	             "192.0.2.9 - - [17/May/2015:10:05:03 +0000] "
	             "\"GET /a\\\" 200 1 \\\"-\\\" \\\"x HTTP/1.1\" "
	             "404 7 \"-\" \"UA \\\"quoted\\\" \\\\\"",
	             &ev),
	    1);
	ck_assert_int_eq(ev.status, 404);
	ck_assert_int_eq(ev.bytes_out, 7);
	ck_assert_str_eq(th_s(ev.resource), "/a\\\" 200 1 \\\"-\\\" \\\"x");
	ck_assert_str_eq(th_s(ev.user_agent), "UA \\\"quoted\\\" \\\\");
	parser_destroy(&p);
}
END_TEST

START_TEST(test_clf_odd_requests)
{
	struct parser *p = th_parser("nginx", NULL);
	struct bw_event ev;

	/* nginx 400 with an empty request line: valid, no method */
	ck_assert_int_eq(
	    th_parse(p,
	             "12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "
	             "\"\" 400 47 \"-\" \"-\" \"-\"",
	             &ev),
	    1);
	ck_assert_int_eq(ev.status, 400);
	ck_assert_uint_eq(ev.action.len, 0);
	ck_assert_uint_eq(ev.text.len, 0);
	/* one word: text only */
	ck_assert_int_eq(
	    th_parse(p,
	             "12.34.56.78 - - [20/Jan/2015:19:55:28 +0100] "
	             "\"batman\" 400 47 \"-\" \"-\"",
	             &ev),
	    1);
	ck_assert_uint_eq(ev.action.len, 0);
	ck_assert_str_eq(th_s(ev.text), "batman");
	/* an RDP probe: escaped bytes, no valid method */
	ck_assert_int_eq(
	    th_parse(p,
	             "12.34.56.78 - - [20/Jan/2015:19:53:28 +0100] "
	             "\"\\x03\\x00\\x00/*\\xE0\\x00\\x00\\x00\\x00\\x00"
	             "Cookie: mstshash=Administr\" 400 47 \"-\" \"-\"",
	             &ev),
	    1);
	ck_assert_uint_eq(ev.action.len, 0);
	ck_assert_uint_gt(ev.text.len, 10);
	/* CONNECT with an authority, and IPv6 clients */
	ck_assert_int_eq(
	    th_parse(p,
	             "2001:db8::1 - root [20/Jan/2015:01:17:07 +0100] "
	             "\"CONNECT 123.123.123.123:443 HTTP/1.1\" 400 162 "
	             "\"-\" \"-\"",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "2001:db8::1");
	ck_assert_str_eq(th_s(ev.action), "CONNECT");
	ck_assert_str_eq(th_s(ev.resource), "123.123.123.123:443");
	ck_assert_str_eq(th_s(ev.principal), "root");
	/* HTTP/0.9 style, no protocol */
	ck_assert_int_eq(th_parse(p,
	                          "10.0.0.1 - - [20/Jan/2015:01:17:07 +0100] "
	                          "\"GET /?x\" 200 1 \"-\" \"-\"",
	                          &ev),
	                 1);
	ck_assert_str_eq(th_s(ev.resource), "/");
	ck_assert_str_eq(th_s(ev.query), "x");
	/* a user name with a space and a bracket */
	ck_assert_int_eq(th_parse(p,
	                          "10.0.0.1 - bob [x] [20/Jan/2015:01:17:07 "
	                          "+0100] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
	                          &ev),
	                 1);
	ck_assert_str_eq(th_s(ev.principal), "bob [x]");
	parser_destroy(&p);
}
END_TEST

static void expect_reject(struct parser *p, const char *line, size_t len,
                          const char *why)
{
	struct bw_event ev;
	struct bw_error err;

	bw_event_clear(&ev);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(parser_parse(p, line, len, &ev, &err), -1);
	ck_assert_msg(strstr(err.msg, why) != NULL,
	              "reason \"%s\", wanted \"%s\"", err.msg, why);
}

#define REJ(p, lit, why) expect_reject((p), (lit), sizeof(lit) - 1, (why))

START_TEST(test_clf_malformed)
{
	struct parser *p = th_parser("nginx", NULL);
	static const char nul_line[] =
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] "
	    "\"GET /\0x HTTP/1.1\" 200 1 \"-\" \"-\"";
	struct bw_event ev;
	uint64_t before;

	/* the lnav sample: ident and user missing */
	REJ(p,
	    "192.168.202.254 [20/Jul/2009:22:59:29 +0000] \"GET "
	    "/vmw/vSphere/default/vmkboot.gz HTTP/1.0\" 404 46210 \"-\" "
	    "\"gPXE/0.9.7\"",
	    "ident");
	REJ(p,
	    "10.0.0.1 - - [32/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200 1 \"-\" \"-\"",
	    "time");
	REJ(p,
	    "10.0.0.1 - - [17/Mai/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200 1 \"-\" \"-\"",
	    "time");
	REJ(p,
	    "not-an-ip - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200 1 \"-\" \"-\"",
	    "address");
	REJ(p,
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200",
	    "status");
	REJ(p,
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 2x0 1 \"-\" \"-\"",
	    "status");
	REJ(p,
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200 1x \"-\" \"-\"",
	    "byte");
	REJ(p,
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200 1",
	    "referer");
	REJ(p,
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200 1 \"-\" \"ua",
	    "user agent");
	REJ(p,
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1\" 200 1 \"-\" \"ua\"garbage",
	    "trailing");
	REJ(p,
	    "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET / "
	    "HTTP/1.1",
	    "request");
	REJ(p, "10.0.0.1", "missing");
	/* binary garbage, NUL bytes */
	REJ(p, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "control");
	expect_reject(p, nul_line, sizeof(nul_line) - 1, "control");
	before = parser_get_stats(p)->rejected;
	ck_assert_uint_eq(before, 14);
	/* an empty line holds nothing: ignored */
	ck_assert_int_eq(th_parse(p, "", &ev), 0);
	ck_assert_uint_eq(parser_get_stats(p)->lines, 15);
	ck_assert_uint_eq(parser_get_stats(p)->ignored, 1);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_clf_long_and_utf8)
{
	struct parser *p = th_parser("nginx", NULL);
	size_t n = 100 * 1024, i;
	char *line = malloc(n + 200);
	struct bw_event ev;
	struct bw_error err;
	int k;

	/* a 100 KB request target */
	k = snprintf(line, 200,
	             "10.0.0.1 - - [17/May/2015:10:05:03 +0000] \"GET /");
	for (i = 0; i < n; i++)
		line[k + i] = (char)('a' + i % 26);
	memcpy(line + k + n, " HTTP/1.1\" 200 1 \"-\" \"-\"", 24);
	bw_event_clear(&ev);
	ck_assert_int_eq(parser_parse(p, line, k + n + 24, &ev, &err), 1);
	ck_assert_uint_eq(ev.resource.len, n + 1);
	/* 100 KB without a single field boundary */
	memset(line, 'A', n);
	ck_assert_int_eq(parser_parse(p, line, n, &ev, &err), -1);
	/* invalid UTF-8 is kept as bytes, not rejected (servers escape it,
	 * but other writers may not) */
	ck_assert_int_eq(
	    th_parse(p,
	             "10.0.0.1 - \xed\xb9\xa4 [17/May/2015:10:05:03 "
	             "+0000] \"GET /\xff\xfe HTTP/1.1\" 200 1 \"-\" "
	             "\"\xc3\x28\"",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.resource), "/\xff\xfe");
	ck_assert_str_eq(th_s(ev.principal), "\xed\xb9\xa4");
	/* CR of a CRLF file is not part of the line */
	ck_assert_int_eq(th_parse(p,
	                          "10.0.0.1 - - [17/May/2015:10:05:03 +0000] "
	                          "\"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\r",
	                          &ev),
	                 1);
	ck_assert_str_eq(th_s(ev.user_agent), "ua");
	free(line);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_clf_forwarded_for_and_time_cache)
{
	struct parser *p = th_parser("nginx", NULL);
	struct bw_event ev;

	ck_assert_int_eq(
	    th_parse(p,
	             "54.36.149.41 - - [22/Jan/2019:03:56:14 +0330] "
	             "\"GET /filter/27|13%20%D9%85 HTTP/1.1\" 200 30577 "
	             "\"-\" \"AhrefsBot/6.1\" \"-\"",
	             &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, (1548129374LL - 12600) * US);
	/* the same stamp again (cached) and a new one */
	ck_assert_int_eq(
	    th_parse(p,
	             "54.36.149.41 - - [22/Jan/2019:03:56:14 +0330] "
	             "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
	             &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, (1548129374LL - 12600) * US);
	ck_assert_int_eq(
	    th_parse(p,
	             "54.36.149.41 - - [22/Jan/2019:03:56:15 +0330] "
	             "\"GET / HTTP/1.1\" 200 1 \"-\" \"-\"",
	             &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, (1548129375LL - 12600) * US);
	parser_destroy(&p);
}
END_TEST

/*
 * JSON lines.
 */

static const char JSON_CFG[] =
    "input = { type = \"json\"; path = \"/var/log/nginx/api.json\";\n"
    "  time_format = \"rfc3339\";\n"
    "  fields = { ts = \"time\"; src_ip = \"remote_addr\";\n"
    "             principal = \"auth.user\"; request = \"request\";\n"
    "             status = \"status\"; bytes_out = \"body_bytes_sent\";\n"
    "             user_agent = \"http_user_agent\"; host = \"host\";\n"
    "             duration = \"request_time\"; dst_port = \"server.port\";\n"
    "             detail = \"x.flat\"; };\n"
    "};";

START_TEST(test_json_fields)
{
	struct parser *p = th_parser("json", JSON_CFG);
	struct bw_event ev;

	ck_assert_int_eq(
	    th_parse(p,
	             "{\"time\":\"2015-05-17T12:05:03+02:00\","
	             "\"remote_addr\":\"2001:db8::7\","
	             "\"auth\":{\"user\":\"svc-\\u00e9\\\"x\"},"
	             "\"request\":\"POST /api/v1/customers/c7/messages?all=1 "
	             "HTTP/2.0\",\"status\":\"201\",\"body_bytes_sent\":512,"
	             "\"http_user_agent\":\"-\",\"host\":\"api.example.com\","
	             "\"request_time\":0.25,\"server\":{\"port\":443},"
	             "\"x.flat\":true}",
	             &ev),
	    1);
	ck_assert_int_eq(ev.source, BW_SRC_JSON);
	ck_assert_int_eq(ev.kind, BW_KIND_HTTP);
	ck_assert_int_eq(ev.ts_us, 1431857103 * US);
	ck_assert_str_eq(th_ip(&ev), "2001:db8::7");
	ck_assert_str_eq(th_s(ev.principal), "svc-\xc3\xa9\"x");
	ck_assert_str_eq(th_s(ev.action), "POST");
	ck_assert_str_eq(th_s(ev.resource), "/api/v1/customers/c7/messages");
	ck_assert_str_eq(th_s(ev.query), "all=1");
	ck_assert_str_eq(th_s(ev.text),
	                 "POST /api/v1/customers/c7/messages?all=1 HTTP/2.0");
	ck_assert_int_eq(ev.status, 201);
	ck_assert_int_eq(ev.bytes_out, 512);
	ck_assert_uint_eq(ev.user_agent.len, 0);
	ck_assert_str_eq(th_s(ev.host), "api.example.com");
	ck_assert_int_eq(ev.duration_us, 250000);
	ck_assert_int_eq(ev.dst_port, 443);
	ck_assert_str_eq(th_s(ev.detail), "true");
	/* a missing optional key leaves the field unknown */
	ck_assert_int_eq(
	    th_parse(p, "{\"time\":\"2015-05-17T10:05:03Z\"}", &ev), 1);
	ck_assert_int_eq(ev.status, -1);
	ck_assert_int_eq(ev.src_ip.family, 0);
	ck_assert_uint_eq(ev.principal.len, 0);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_json_time_formats)
{
	struct parser *p;
	struct bw_event ev;

	p = th_parser("json", "input = { time_format = \"epoch\"; "
	                      "fields = { ts = \"t\"; method = \"m\"; }; };");
	ck_assert_int_eq(th_parse(p, "{\"t\":1431857103.5,\"m\":\"GET\"}", &ev),
	                 1);
	ck_assert_int_eq(ev.ts_us, 1431857103 * US + 500000);
	ck_assert_str_eq(th_s(ev.action), "GET"); /* alias "method" */
	ck_assert_int_eq(th_parse(p, "{\"t\":\"1431857103.000001\"}", &ev), 1);
	ck_assert_int_eq(ev.ts_us, 1431857103 * US + 1);
	ck_assert_int_eq(th_parse(p, "{\"t\":\"yesterday\"}", &ev), -1);
	parser_destroy(&p);

	p = th_parser("json", "input = { time_format = \"epoch_ms\"; "
	                      "fields = { ts = \"t\"; }; };");
	ck_assert_int_eq(th_parse(p, "{\"t\":1431857103250}", &ev), 1);
	ck_assert_int_eq(ev.ts_us, 1431857103 * US + 250000);
	parser_destroy(&p);

	p = th_parser("json", "input = { time_format = \"clf\"; "
	                      "fields = { ts = \"time_local\"; }; };");
	ck_assert_int_eq(
	    th_parse(p, "{\"time_local\":\"10/Oct/2000:13:55:36 -0700\"}", &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, 971211336 * US);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_json_malformed)
{
	struct parser *p = th_parser("json", JSON_CFG);
	static const char nul[] = "{\"time\":\"2015-05-17T10:05:03Z\",\"auth\":"
	                          "{\"user\":\"a\\u0000b\"}}";
	struct bw_event ev;
	struct bw_error err;

	REJ(p, "not json", "bad JSON");
	REJ(p, "[1,2]", "not a JSON object");
	REJ(p, "{\"time\":\"2015-05-17T10:05:03Z\"} trailing", "bad JSON");
	REJ(p, "{\"remote_addr\":\"1.2.3.4\"}", "missing time");
	REJ(p, "{\"time\":\"17 May 2015\"}", "bad time");
	REJ(p,
	    "{\"time\":\"2015-05-17T10:05:03Z\",\"remote_addr\":"
	    "\"999.1.1.1\"}",
	    "bad address in src_ip");
	REJ(p, "{\"time\":\"2015-05-17T10:05:03Z\",\"status\":\"ok\"}",
	    "bad number in status");
	REJ(p, "{\"time\":\"2015-05-17T10:05:03Z\",\"status\":-1}",
	    "bad number in status");
	REJ(p,
	    "{\"time\":\"2015-05-17T10:05:03Z\",\"server\":"
	    "{\"port\":70000}}",
	    "bad number in dst_port");
	REJ(p, "{\"time\":\"2015-05-17T10:05:03Z\",\"host\":{}}",
	    "bad or over-long value of host");
	REJ(p, "{\"time\":\"2015-05-17T10:05:03Z\",\"time\":\"x\"}",
	    "bad JSON");
	/* invalid UTF-8 inside a string: jansson refuses it */
	REJ(p, "{\"time\":\"2015-05-17T10:05:03Z\",\"host\":\"\xff\"}",
	    "bad JSON");
	/* an escaped NUL is a byte of the value */
	bw_event_clear(&ev);
	ck_assert_int_eq(parser_parse(p, nul, sizeof(nul) - 1, &ev, &err), 1);
	ck_assert_uint_eq(ev.principal.len, 3);
	ck_assert_int_eq(memcmp(ev.principal.p, "a\0b", 3), 0);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_json_config_errors)
{
	const char *e;

	e = th_parser_error("json", NULL);
	ck_assert_ptr_nonnull(e);
	e = th_parser_error("json", "input = { time_format = \"rfc3339\"; };");
	ck_assert_msg(e && strstr(e, "fields"), "%s", e);
	e = th_parser_error(
	    "json", "input = { fields = {\n src = \"a\"; ts = \"t\"; }; };");
	ck_assert_msg(e && strstr(e, "line 2") && strstr(e, "src"), "%s", e);
	e = th_parser_error("json",
	                    "input = { fields = { src_ip = \"a\"; }; };");
	ck_assert_msg(e && strstr(e, "ts"), "%s", e);
	e = th_parser_error(
	    "json", "input = { fields = { ts = \"t\"; source = \"s\"; }; };");
	ck_assert_msg(e && strstr(e, "source"), "%s", e);
	e = th_parser_error("json", "input = { fields = { ts = 3; }; };");
	ck_assert_ptr_nonnull(e);
	e = th_parser_error("json", "input = { time_format = \"iso\"; "
	                            "fields = { ts = \"t\"; }; };");
	ck_assert_msg(e && strstr(e, "iso"), "%s", e);
	e = th_parser_error("json", "input = { kind = \"smtp\"; "
	                            "fields = { ts = \"t\"; }; };");
	ck_assert_msg(e && strstr(e, "smtp"), "%s", e);
	ck_assert_ptr_null(th_parser_error("json",
	                                   "input = { kind = \"auth\"; "
	                                   "duration_unit = \"ms\"; "
	                                   "fields = { ts = \"t\"; }; };"));
}
END_TEST

/*
 * sshd.
 */

static const char SSHD_CFG[] = "input = { timezone = \"UTC\"; year = 2026; };";

START_TEST(test_sshd_failed_password)
{
	struct parser *p = th_parser("sshd", SSHD_CFG);
	struct bw_event ev;

	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 23 08:15:00 mx-data-01 sshd[24227]: Failed "
	             "password for root from 5.36.59.76 port 42393 ssh2",
	             &ev),
	    1);
	ck_assert_int_eq(ev.kind, BW_KIND_AUTH);
	ck_assert_int_eq(ev.source, BW_SRC_SSHD);
	ck_assert_int_eq(ev.ts_us, 1795421700 * US);
	ck_assert_str_eq(th_s(ev.host), "mx-data-01");
	ck_assert_str_eq(th_ip(&ev), "5.36.59.76");
	ck_assert_int_eq(ev.src_port, 42393);
	ck_assert_str_eq(th_s(ev.principal), "root");
	ck_assert_str_eq(th_s(ev.action), "password");
	ck_assert_str_eq(th_s(ev.outcome), "failure");
	ck_assert_uint_eq(ev.detail.len, 0);
	ck_assert_str_eq(th_s(ev.text),
	                 "Failed password for root from 5.36.59.76 "
	                 "port 42393 ssh2");

	ck_assert_int_eq(
	    th_parse(p,
	             "Nov  3 08:15:00 h sshd[1]: Failed password for "
	             "invalid user webmaster from 173.234.31.186 port "
	             "38926 ssh2",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.principal), "webmaster");
	ck_assert_str_eq(th_s(ev.detail), "invalid_user");
	ck_assert_int_eq(ev.ts_us, (1795421700LL - 20 * 86400) * US);

	/* unpadded day, IPv6, Failed none/publickey/keyboard-interactive */
	ck_assert_int_eq(
	    th_parse(p,
	             "Feb 7 16:01:07 h sshd[1]: Failed publickey for "
	             "invalid user graysky from aaaa:bbbb:cccc:1234::1:1 "
	             "port 37955 ssh2: RSA SHA256:v3dpapGleDaUKf$4V1v",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "aaaa:bbbb:cccc:1234::1:1");
	ck_assert_str_eq(th_s(ev.action), "publickey");
	ck_assert_str_eq(th_s(ev.principal), "graysky");
	ck_assert_int_eq(
	    th_parse(p,
	             "Apr 30 01:42:12 h sshd[2554]: Failed "
	             "keyboard-interactive/pam for invalid user jamedds "
	             "from 205.186.180.77 port 33723 ssh2",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.action), "keyboard-interactive/pam");
	/* Solaris */
	ck_assert_int_eq(
	    th_parse(p,
	             "Mar 29 05:59:23 dusky sshd[20878]: [ID 800047 "
	             "auth.info] Failed keyboard-interactive for "
	             "<invalid username> from 205.186.180.55 port 42742 "
	             "ssh2",
	             &ev),
	    1);
	ck_assert_uint_eq(ev.principal.len, 0);
	ck_assert_str_eq(th_s(ev.detail), "invalid_user");
	/* empty user name */
	ck_assert_int_eq(
	    th_parse(p,
	             "Jun  6 04:17:04 host sshd[1]: Failed none for "
	             "invalid user  from 192.0.2.68 port 34916 ssh2",
	             &ev),
	    1);
	ck_assert_uint_eq(ev.principal.len, 0);
	ck_assert_str_eq(th_ip(&ev), "192.0.2.68");
	/* message repeated: one event */
	ck_assert_int_eq(
	    th_parse(p,
	             "Dec 10 07:13:56 LabSZ sshd[24227]: message "
	             "repeated 5 times: [ Failed password for root from "
	             "5.36.59.76 port 42393 ssh2]",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.principal), "root");
	ck_assert_int_eq(ev.src_port, 42393);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_sshd_accepted_and_others)
{
	struct parser *p = th_parser("sshd", SSHD_CFG);
	struct bw_event ev;

	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 28 09:16:03 srv sshd[32307]: Accepted "
	             "publickey for git from 192.0.2.1 port 57904 ssh2: "
	             "ED25519 SHA256:36xxxxxxxxxxxxxxxxxxxxxxxx",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.outcome), "success");
	ck_assert_str_eq(th_s(ev.action), "publickey");
	ck_assert_str_eq(th_s(ev.principal), "git");
	ck_assert_str_eq(th_ip(&ev), "192.0.2.1");
	ck_assert_int_eq(ev.src_port, 57904);
	ck_assert_int_eq(
	    th_parse(p,
	             "Mar  7 18:53:20 bar sshd[1556]: Accepted "
	             "password for rda from 192.0.2.113 port 52100 ssh2",
	             &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, 1772909600 * US);
	ck_assert_str_eq(th_s(ev.action), "password");

	ck_assert_int_eq(
	    th_parse(p,
	             "Jul 20 14:42:12 localhost sshd[22708]: Invalid "
	             "user ftp from 192.0.2.2 port 37220",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.principal), "ftp");
	ck_assert_str_eq(th_s(ev.outcome), "failure");
	ck_assert_str_eq(th_s(ev.action), "none");
	ck_assert_str_eq(th_s(ev.detail), "invalid_user");
	ck_assert_int_eq(ev.src_port, 37220);
	ck_assert_int_eq(
	    th_parse(p,
	             "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user "
	             "webmaster from 173.234.31.186",
	             &ev),
	    1);
	ck_assert_int_eq(ev.src_port, 0);
	ck_assert_str_eq(th_ip(&ev), "173.234.31.186");

	ck_assert_int_eq(
	    th_parse(p,
	             "Mar 19 16:47:50 srv sshd[5672]: Disconnected "
	             "from authenticating user admin 192.0.2.6 port "
	             "33553 [preauth]",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.action), "disconnect");
	ck_assert_str_eq(th_s(ev.principal), "admin");
	ck_assert_str_eq(th_s(ev.outcome), "failure");
	ck_assert_str_eq(th_s(ev.detail), "preauth");
	ck_assert_str_eq(th_ip(&ev), "192.0.2.6");
	ck_assert_int_eq(ev.src_port, 33553);
	ck_assert_int_eq(
	    th_parse(p,
	             "Jun  6 04:17:09 host sshd[1]: Connection closed "
	             "by invalid user  192.0.2.68 port 34916 [preauth]",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.detail), "invalid_user");
	ck_assert_str_eq(th_ip(&ev), "192.0.2.68");
	ck_assert_int_eq(
	    th_parse(p,
	             "Dec 10 06:55:48 LabSZ sshd[24200]: Connection "
	             "closed by 173.234.31.186 [preauth]",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.detail), "preauth");
	ck_assert_uint_eq(ev.outcome.len, 0);
	ck_assert_uint_eq(ev.principal.len, 0);
	ck_assert_int_eq(
	    th_parse(p,
	             "Mar  7 18:53:38 bar sshd[1559]: Disconnected "
	             "from user known 192.0.2.116 port 52100",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.principal), "known");
	ck_assert_uint_eq(ev.outcome.len, 0);
	ck_assert_uint_eq(ev.detail.len, 0);

	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 23 21:50:38 myhost sshd[109798]: error: "
	             "maximum authentication attempts exceeded for "
	             "invalid user xxx from 192.0.2.7 port 49941 ssh2 "
	             "[preauth]",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.detail), "max_attempts");
	ck_assert_str_eq(th_s(ev.principal), "xxx");
	ck_assert_str_eq(th_ip(&ev), "192.0.2.7");
	ck_assert_int_eq(th_parse(p,
	                          "Jan  5 01:31:41 www sshd[1643]: ROOT LOGIN "
	                          "REFUSED FROM ::ffff:1.2.3.4",
	                          &ev),
	                 1);
	ck_assert_str_eq(th_s(ev.principal), "root");
	ck_assert_str_eq(th_s(ev.detail), "refused");
	ck_assert_int_eq(
	    th_parse(p,
	             "Feb 25 14:34:11 belka sshd[31607]: User root "
	             "from 211.188.220.49 not allowed because not "
	             "listed in AllowUsers",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.detail), "not_allowed");
	ck_assert_str_eq(th_ip(&ev), "211.188.220.49");
	parser_destroy(&p);
}
END_TEST

START_TEST(test_sshd_ignored_and_rejected)
{
	struct parser *p = th_parser("sshd", SSHD_CFG);
	struct bw_event ev;

	/* other programs, and sshd lines of no interest */
	ck_assert_int_eq(th_parse(p,
	                          "Nov 23 08:15:00 h CRON[99]: pam_unix(cron:"
	                          "session): session opened for user root",
	                          &ev),
	                 0);
	ck_assert_int_eq(th_parse(p,
	                          "Nov 23 08:15:00 h sshd(pam_unix)[99]: "
	                          "authentication failure",
	                          &ev),
	                 0);
	ck_assert_int_eq(th_parse(p,
	                          "Dec 10 07:07:45 LabSZ sshd[24206]: Received "
	                          "disconnect from 52.80.34.196: 11: Bye Bye "
	                          "[preauth]",
	                          &ev),
	                 0);
	ck_assert_int_eq(th_parse(p,
	                          "Dec 10 07:07:38 LabSZ sshd[24206]: pam_unix("
	                          "sshd:auth): check pass; user unknown",
	                          &ev),
	                 0);
	ck_assert_int_eq(
	    th_parse(p, "Nov 23 08:15:00 h kernel: [  970.699396] x", &ev), 0);
	ck_assert_int_eq(th_parse(p, "Nov 23 08:15:00 h -- MARK --", &ev), 0);
	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 23 08:15:00 h sshd[1]: Failed to release "
	             "session",
	             &ev),
	    0);
	ck_assert_uint_eq(parser_get_stats(p)->ignored, 7);
	/* not a syslog line at all */
	REJ(p, "srv sshd[13709]: Failed password for root from 1.2.3.4",
	    "timestamp");
	REJ(p, "Nov 31 08:15:00 h sshd[1]: x", "timestamp");
	REJ(p, "\x00\x01\x02", "timestamp");
	/* a Failed line with no address that fits */
	REJ(p,
	    "Nov 23 08:15:00 h sshd[1]: Failed password for root from "
	    "nowhere port 22 ssh2",
	    "no source address");
	parser_destroy(&p);
}
END_TEST

START_TEST(test_sshd_log_injection)
{
	struct parser *p = th_parser("sshd", SSHD_CFG);
	struct bw_event ev;

	/* user "from 10.10.1.1" */
	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 11 08:04:51 redbamboo sshd[2737]: Failed "
	             "password for invalid user from 10.10.1.1 from "
	             "127.0.0.1 port 58946 ssh2",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "127.0.0.1");
	ck_assert_str_eq(th_s(ev.principal), "from 10.10.1.1");
	/* user "test from 10.10.1.2 port 55555 ssh2" */
	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 11 08:04:52 redbamboo sshd[2737]: Failed "
	             "password for invalid user test from 10.10.1.2 port "
	             "55555 ssh2 from 127.0.0.1 port 58946 ssh2",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "127.0.0.1");
	ck_assert_int_eq(ev.src_port, 58946);
	ck_assert_str_eq(th_s(ev.principal),
	                 "test from 10.10.1.2 port 55555 ssh2");
	/* user "x from 6.6.6.6 port 1 ssh2: y": two tails fit, the real one
	 * is the rightmost, and the line is flagged */
	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 11 08:04:52 h sshd[2737]: Accepted password "
	             "for x from 6.6.6.6 port 1 ssh2: y from 192.0.2.9 "
	             "port 5 ssh2",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "192.0.2.9");
	ck_assert_int_eq(ev.src_port, 5);
	ck_assert_str_eq(th_s(ev.detail), "log_injection");
	/* ssh1 ruser after the real tail: the complete tail wins */
	ck_assert_int_eq(
	    th_parse(p,
	             "Sep 29 17:15:02 spaceman sshd[12946]: Failed "
	             "password for user from 127.0.0.1 port 20000 ssh1: "
	             "ruser from 1.2.3.4",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "127.0.0.1");
	ck_assert_uint_eq(ev.detail.len, 0);
	/* hostbased info with quotes after the real tail */
	ck_assert_int_eq(
	    th_parse(p,
	             "Sep 29 17:15:02 spaceman sshd[12946]: Failed "
	             "hostbased for dan from 127.0.0.1 port 45785 ssh2: "
	             "RSA 8c:e3:aa, client user \"dan\", client host "
	             "\"localhost.localdomain\"",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "127.0.0.1");
	ck_assert_str_eq(th_s(ev.action), "hostbased");
	/* Invalid user with an injected tail in the name */
	ck_assert_int_eq(
	    th_parse(p,
	             "Jul 20 14:42:12 localhost sshd[1]: Invalid user "
	             "a from 6.6.6.6 port 2 from 192.0.2.2 port 37220",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "192.0.2.2");
	ck_assert_str_eq(th_s(ev.principal), "a from 6.6.6.6 port 2");
	ck_assert_str_eq(th_s(ev.detail), "invalid_user"); /* one tail fits */
	/* User ... not allowed because: the address before the reason */
	ck_assert_int_eq(
	    th_parse(p,
	             "Feb 25 14:34:11 belka sshd[1]: User a from "
	             "6.6.6.6 not allowed because x from 192.0.2.3 not "
	             "allowed because listed in DenyUsers",
	             &ev),
	    1);
	ck_assert_str_eq(th_ip(&ev), "192.0.2.3");
	parser_destroy(&p);
}
END_TEST

START_TEST(test_sshd_prefixes_and_time)
{
	struct parser *p;
	struct bw_event ev;

	/* rsyslog RFC 3339 */
	p = th_parser("sshd", NULL);
	ck_assert_int_eq(
	    th_parse(p,
	             "2015-04-16T18:02:50.321974+00:00 host sshd[2716]: "
	             "Connection closed by 192.0.2.112 [preauth]",
	             &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, 1429207370321974LL);
	ck_assert_str_eq(th_s(ev.host), "host");
	/* RFC 5424 with structured data */
	ck_assert_int_eq(
	    th_parse(p,
	             "<38>1 2019-07-08T17:40:17.954167-04:00 "
	             "hostname.example.com sshd 55555 - [timeQuality "
	             "tzKnown=\"1\"][x@123 t=\"[br\\\"]\"] Failed unknown "
	             "for invalid user redmond from 192.0.2.2 port 55555 "
	             "ssh2",
	             &ev),
	    1);
	ck_assert_str_eq(th_s(ev.host), "hostname.example.com");
	ck_assert_str_eq(th_ip(&ev), "192.0.2.2");
	ck_assert_int_eq(ev.ts_us, (1562622017LL) * US + 954167);
	/* no host, sshd-session (OpenSSH 9.8) */
	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 23 21:50:37 sshd[8148]: Connection closed by "
	             "61.0.0.1 [preauth]",
	             &ev),
	    1);
	ck_assert_uint_eq(ev.host.len, 0);
	ck_assert_int_eq(
	    th_parse(p,
	             "Jul  3 14:59:17 host sshd-session[1571]: Failed "
	             "password for root from 192.0.2.1 port 56502 ssh2",
	             &ev),
	    1);
	/* year-less stamps near the turn of the year follow the reference */
	parser_set_reference_time(p, 1767571200LL * US); /* 2026-01-05 */
	ck_assert_int_eq(
	    th_parse(p,
	             "Dec 31 23:00:00 h sshd[1]: Invalid user a from "
	             "192.0.2.1",
	             &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, 1767222000LL * US); /* 2025-12-31 */
	parser_destroy(&p);

	/* a zone: 08:15 in Berlin is 07:15 UTC in November */
	p = th_parser(
	    "sshd", "input = { timezone = \"Europe/Berlin\"; year = 2026; };");
	ck_assert_int_eq(
	    th_parse(p,
	             "Nov 23 08:15:00 h sshd[1]: Invalid user a from "
	             "192.0.2.1",
	             &ev),
	    1);
	ck_assert_int_eq(ev.ts_us, 1795418100LL * US);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_sshd_hostile_bytes)
{
	struct parser *p = th_parser("sshd", SSHD_CFG);
	static const char nul[] =
	    "Nov 23 08:15:00 h sshd[1]: Failed password for "
	    "ro\0ot from 192.0.2.1 port 22 ssh2";
	size_t n = 100 * 1024;
	char *big = malloc(n + 100);
	struct bw_event ev;
	struct bw_error err;
	int k;

	bw_event_clear(&ev);
	ck_assert_int_eq(parser_parse(p, nul, sizeof(nul) - 1, &ev, &err), 1);
	ck_assert_uint_eq(ev.principal.len, 5);
	/* a 100 KB user name of " from " repeated */
	k = snprintf(big, 100,
	             "Nov 23 08:15:00 h sshd[1]: Failed password for ");
	for (size_t i = 0; i + 6 <= n; i += 6)
		memcpy(big + k + i, " from ", 6);
	memcpy(big + k + n - n % 6, " from 192.0.2.1 port 22 ssh2", 28);
	ck_assert_int_eq(parser_parse(p, big, k + n - n % 6 + 28, &ev, &err),
	                 1);
	ck_assert_str_eq(th_ip(&ev), "192.0.2.1");
	memset(big, 0xff, n);
	ck_assert_int_eq(parser_parse(p, big, n, &ev, &err), -1);
	free(big);
	parser_destroy(&p);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("parsers");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_types_known);
	tcase_add_test(tc, test_options_checked);
	tcase_add_test(tc, test_clf_combined_fields);
	tcase_add_test(tc, test_clf_dashes_and_apache);
	tcase_add_test(tc, test_clf_common_format);
	tcase_add_test(tc, test_clf_escapes);
	tcase_add_test(tc, test_clf_odd_requests);
	tcase_add_test(tc, test_clf_malformed);
	tcase_add_test(tc, test_clf_long_and_utf8);
	tcase_add_test(tc, test_clf_forwarded_for_and_time_cache);
	tcase_add_test(tc, test_json_fields);
	tcase_add_test(tc, test_json_time_formats);
	tcase_add_test(tc, test_json_malformed);
	tcase_add_test(tc, test_json_config_errors);
	tcase_add_test(tc, test_sshd_failed_password);
	tcase_add_test(tc, test_sshd_accepted_and_others);
	tcase_add_test(tc, test_sshd_ignored_and_rejected);
	tcase_add_test(tc, test_sshd_log_injection);
	tcase_add_test(tc, test_sshd_prefixes_and_time);
	tcase_add_test(tc, test_sshd_hostile_bytes);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, th_pg_tcase());
	suite_add_tcase(s, th_sql_tcase());
	return s;
}
