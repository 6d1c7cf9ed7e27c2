/*
 * test_rules_load.c - every load error names file:line and the reason;
 * a refused file leaves the engine unusable for compile.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtest.h"
#include "check_main.h"

/* Lines: 1 "rules = (", 2 "{", 3 id..., 4 kinds, 5 the member tested. */
#define HEAD                                                              \
	"rules = (\n{\n  id = \"r1\"; title = \"t\"; category = \"c\"; "  \
	"severity = \"low\";\n  kinds = [\"http\", \"auth\"];\n"
#define TAIL "}\n);\n"

static const struct {
	const char *text;
	bool site;
	const char *expect;
} bad[] = {
	{ "rules = (\n{ id = = \"x\"; }\n);\n", false,
	  "test.conf:2: syntax error" },
	{ "rule = ();\n", false, "test.conf:1: unknown setting \"rule\"" },
	{ "rules = { };\n", false, "test.conf:1: rules must be a list" },
	{ HEAD "  colour = \"red\";\n" TAIL, false,
	  "test.conf:5: unknown setting \"colour\"" },
	{ HEAD "  notify_customers = \"yes\";\n" TAIL, false,
	  "test.conf:5: \"notify_customers\" must be true or false" },
	{ HEAD "  affected_unknown = \"yes\";\n" TAIL, false,
	  "test.conf:5: \"affected_unknown\" must be true or false" },
	{ HEAD "\n\n  affected_unknown = 1;\n" TAIL, false,
	  "test.conf:7: \"affected_unknown\" must be true or false" },
	{ HEAD "  affected_unknwon = true;\n" TAIL, false,
	  "test.conf:5: unknown setting \"affected_unknwon\"" },
	{ "rules = (\n{\n  id = \"r1\"; category = \"c\"; severity = \"low\"; "
	  "kinds = [\"http\"];\n}\n);\n", false,
	  "test.conf:2: missing required setting \"title\"" },
	{ "rules = (\n{\n  id = \"Bad ID\"; title = \"t\"; category = \"c\";\n"
	  "  severity = \"low\"; kinds = [\"http\"];\n}\n);\n", false,
	  "test.conf:3: bad rule id \"Bad ID\"" },
	{ "rules = (\n{\n  id = \"r1\"; title = \"t\"; category = \"c\";\n"
	  "  severity = \"urgent\"; kinds = [\"http\"];\n}\n);\n", false,
	  "test.conf:4: unknown severity \"urgent\"" },
	{ "rules = (\n{\n  id = \"r1\"; title = \"t\"; category = \"c\";\n"
	  "  severity = \"low\";\n  kinds = [\"http\", \"smtp\"];\n}\n);\n",
	  false, "test.conf:5: unknown kind \"smtp\"" },
	{ HEAD "  sources = [\"iis\"];\n" TAIL, false,
	  "test.conf:5: unknown source \"iis\"" },
	{ HEAD "  match = { field = \"path\"; equals = \"/\"; };\n" TAIL, false,
	  "test.conf:5: match must be a list" },
	{ HEAD "  match = ({ field = \"nope\"; equals = \"x\"; });\n" TAIL, false,
	  "test.conf:5: unknown field or capture \"nope\"" },
	{ HEAD "  match = ({ feild = \"path\"; equals = \"x\"; });\n" TAIL, false,
	  "test.conf:5: unknown member \"feild\" in a condition" },
	{ HEAD "  match = ({ field = \"path\"; });\n" TAIL, false,
	  "test.conf:5: condition without an operator" },
	{ HEAD "  match = ({ field = \"path\"; equals = \"/\"; prefix = \"/\"; });\n"
	  TAIL, false, "test.conf:5: a condition has one operator" },
	{ HEAD "  match = ({ field = \"user\"; in = \"@ghosts\"; });\n" TAIL, true,
	  "test.conf:5: unknown set \"@ghosts\"" },
	{ HEAD "  match = ({ field = \"user\"; in = \"@staff\"; });\n" TAIL, false,
	  "test.conf:5: unknown set \"@staff\" (no site facts loaded)" },
	{ HEAD "\n  match = ({ field = \"path\";\n    regex = \"a(b\"; });\n" TAIL,
	  false, "test.conf:7: bad regex \"a(b\" at offset 3: missing closing "
	  "parenthesis" },
	{ HEAD "  match = ({ field = \"path\"; regex = \"(?<status>x)\"; });\n"
	  TAIL, false, "test.conf:5: capture \"status\" reuses a field name" },
	{ HEAD "  match = ({ field = \"path\"; regex = \"(?<customer>x)\"; });\n"
	  TAIL, false, "test.conf:5: capture \"customer\" reuses a field name" },
	{ HEAD "  match = ({ field = \"v\"; equals = \"x\"; },\n"
	  "           { field = \"path\"; regex = \"(?<v>x)\"; });\n" TAIL, false,
	  "test.conf:5: unknown field or capture \"v\"" },
	{ HEAD "  match = ({ field = \"path\"; cidr = \"10.0.0.0/8\"; });\n" TAIL,
	  false, "test.conf:5: cidr applies to address fields" },
	{ HEAD "  match = ({ field = \"src_ip\"; cidr = \"10.0.0.300/8\"; });\n"
	  TAIL, false, "test.conf:5: cidr: \"10.0.0.300/8\"" },
	{ HEAD "  match = ({ field = \"src_ip\"; cidr = \"@staff\"; });\n" TAIL,
	  true, "test.conf:5: set \"@staff\" is not a set of addresses" },
	{ HEAD "  match = ({ field = \"path\"; gt = 5; });\n" TAIL, false,
	  "test.conf:5: gt compares integer fields" },
	{ HEAD "  match = ({ field = \"bytes_out\"; lt = \"5\"; });\n" TAIL, false,
	  "test.conf:5: lt needs an integer" },
	{ HEAD "  match = ({ field = \"status\"; equals = \"200\"; });\n" TAIL,
	  false, "test.conf:5: equals: status is an integer field" },
	{ HEAD "  match = ({ field = \"status\"; in = [200]; });\n" TAIL, false,
	  "test.conf:5: in applies to text" },
	{ HEAD "  match = ({ field = \"status\"; regex = \"^2\"; });\n" TAIL, false,
	  "test.conf:5: regex applies to text fields of the event" },
	{ HEAD "  match = ({ field = \"src_ip\"; prefix = \"10.\"; });\n" TAIL,
	  false, "test.conf:5: prefix applies to text fields" },
	{ HEAD "  match = ({ field = \"bytes_out\"; class = \"2xx\"; });\n" TAIL,
	  false, "test.conf:5: class applies to the status field" },
	{ HEAD "  match = ({ field = \"status\"; class = \"6xx\"; });\n" TAIL,
	  false, "test.conf:5: class: \"6xx\" is not a status class" },
	{ HEAD "  match = ({ field = \"src_ip\"; cidr = \"10.0.0.0/8\"; nocase = true; });\n"
	  TAIL, false, "test.conf:5: nocase does not apply to cidr" },
	{ HEAD "  match = ({ field = \"kind\"; equals = \"smtp\"; });\n" TAIL,
	  false, "test.conf:5: equals: unknown kind \"smtp\"" },
	{ HEAD "  match = ({ field = \"path\"; equals = \"\"; });\n" TAIL, false,
	  "test.conf:5: equals: empty string" },
	{ HEAD "  match = ({ business_hours = false; });\n" TAIL, false,
	  "test.conf:5: business_hours: the site declares no business_hours" },
	{ HEAD "  match = ({ field = \"src_ip\"; business_hours = false; });\n"
	  TAIL, true, "test.conf:5: business_hours takes no field" },
	{ HEAD "  match = ({ field = \"path\"; same_as = \"nobody\"; });\n" TAIL,
	  false, "test.conf:5: unknown field or capture \"nobody\" in same_as" },
	{ HEAD "  aggregate = { type = \"burst\"; };\n" TAIL, false,
	  "test.conf:5: unknown aggregate type \"burst\"" },
	{ HEAD "  aggregate = { type = \"threshold\"; key = \"src_ip\"; min = 3; };\n"
	  TAIL, false, "test.conf:5: missing required setting \"window\"" },
	{ HEAD "  aggregate = { type = \"threshold\"; window = \"5 minutes\"; min = 3; };\n"
	  TAIL, false, "test.conf:5: \"window\": bad duration" },
	{ HEAD "  aggregate = { type = \"threshold\"; window = \"5m\"; within = \"5m\"; min = 3; };\n"
	  TAIL, false, "test.conf:5: unknown setting \"within\"" },
	{ HEAD "  aggregate = { type = \"threshold\"; window = \"5m\"; min = 0; };\n"
	  TAIL, false, "test.conf:5: \"min\" is 0, must be between 1" },
	{ HEAD "  aggregate = { type = \"threshold\"; window = \"5m\"; min = 3;\n"
	  "    distinct = \"path\"; sum = \"bytes_out\"; };\n" TAIL, false,
	  "test.conf:6: distinct and sum do not go together" },
	{ HEAD "  aggregate = { type = \"threshold\"; window = \"5m\"; min = 3;\n"
	  "    sum = \"path\"; };\n" TAIL, false,
	  "test.conf:6: sum adds up an integer field" },
	{ HEAD "  aggregate = { type = \"threshold\"; window = \"5m\"; min = 3;\n"
	  "    key = [\"src_ip\", \"ghost\"]; };\n" TAIL, false,
	  "test.conf:6: unknown field or capture \"ghost\" in key" },
	{ HEAD "  aggregate = { type = \"sequence\"; within = \"5m\"; };\n" TAIL,
	  false, "test.conf:5: a sequence needs steps" },
	{ HEAD "  aggregate = { type = \"sequence\"; within = \"5m\"; steps = (\n"
	  "    { kinds = [\"sql\"]; } ); };\n" TAIL, false,
	  "test.conf:6: a step's kinds must be among the rule's kinds" },
	{ HEAD "  aggregate = { type = \"sequence\"; within = \"5m\"; steps = (\n"
	  "    { min = 2; matches = (); } ); };\n" TAIL, false,
	  "test.conf:6: unknown setting \"matches\"" },
	{ HEAD "  summary = \"${src_ip} did ${what}\";\n" TAIL, false,
	  "test.conf:5: summary: unknown field or capture ${what}" },
	{ HEAD "  summary = \"${src_ip\";\n" TAIL, false,
	  "test.conf:5: summary: unclosed ${" },
	{ HEAD "  customers = [\"customer\", \"victim\"];\n" TAIL, false,
	  "test.conf:5: unknown field or capture \"victim\" in customers" },
	{ HEAD "  actions = [\"block src\"];\n" TAIL, false,
	  "test.conf:5: bad action id \"block src\"" },
	{ HEAD TAIL ", {\n  id = \"r1\"; title = \"t\"; category = \"c\";\n"
	  "  severity = \"low\"; kinds = [\"http\"];\n}\n);\n", false,
	  "test.conf:7: duplicate rule id \"r1\"" },
};

START_TEST(test_bad_rule)
{
	char msg[1024];
	char text[2048];

	/* The duplicate case glues two rules: drop the first TAIL's ");". */
	snprintf(text, sizeof(text), "%s", bad[_i].text);
	if (strstr(text, "}\n);\n, {") != NULL) {
		char *p = strstr(text, "}\n);\n, {");

		memmove(p + 2, p + 5, strlen(p + 5) + 1);
	}
	ck_assert_int_eq(rt_try(bad[_i].site ? rtest_site : NULL, text, msg,
				sizeof(msg)),
			 -1);
	ck_assert_msg(strstr(msg, bad[_i].expect) != NULL,
		      "case %d: got \"%s\", want \"%s\"", _i, msg,
		      bad[_i].expect);
}
END_TEST

START_TEST(test_good_rule)
{
	char msg[1024];

	ck_assert_msg(rt_try(rtest_site, HEAD TAIL, msg, sizeof(msg)) == 0,
		      "%s", msg);
	ck_assert_msg(rt_try(rtest_site, HEAD "  affected_unknown = true;\n" TAIL,
			     msg, sizeof(msg)) == 0, "%s", msg);
	ck_assert_msg(rt_try(NULL, HEAD "  affected_unknown = false;\n" TAIL,
			     msg, sizeof(msg)) == 0, "%s", msg);
}
END_TEST

START_TEST(test_duplicate_across_files)
{
	struct rules *r = rules_new();
	struct bw_error err;
	char msg[512];

	ck_assert_int_eq(rules_add_string(r, "a.conf", HEAD TAIL, &err), 0);
	ck_assert_int_eq(rules_add_string(r, "b.conf", HEAD TAIL, &err), -1);
	bw_error_str(&err, msg, sizeof(msg));
	ck_assert_str_eq(msg, "b.conf:3: duplicate rule id \"r1\"");
	/* The refused file leaves the engine unusable. */
	ck_assert_int_eq(rules_compile(r, &err), -1);
	ck_assert_uint_eq(rules_count(r), 1);
	rules_destroy(&r);
}
END_TEST

START_TEST(test_rule_file)
{
	/* A file on disk: its path is in the error. */
	char path[] = "/tmp/bw-rules-test-XXXXXX";
	struct rules *r = rules_new();
	struct bw_error err;
	char msg[512];
	int fd = mkstemp(path);
	FILE *fp;

	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(HEAD "  colour = 1;\n" TAIL, fp);
	fclose(fp);
	ck_assert_int_eq(rules_add_file(r, path, &err), -1);
	ck_assert_str_eq(err.file, path);
	ck_assert_int_eq(err.line, 5);
	bw_error_str(&err, msg, sizeof(msg));
	ck_assert_ptr_nonnull(strstr(msg, "unknown setting \"colour\""));
	unlink(path);
	rules_destroy(&r);
	/* And a good one loads, with file and line in the rule's info. */
	r = rules_new();
	snprintf(path, sizeof(path), "/tmp/bw-rules-test-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs(HEAD TAIL, fp);
	fclose(fp);
	ck_assert_int_eq(rules_add_file(r, path, &err), 0);
	ck_assert_int_eq(rules_compile(r, &err), 0);
	ck_assert_str_eq(rules_info(r, 0)->file, path);
	ck_assert_int_eq(rules_info(r, 0)->line, 2);
	ck_assert_str_eq(rules_info(r, 0)->id, "r1");
	unlink(path);
	rules_destroy(&r);
}
END_TEST

#define SITE_OK_RULES HEAD TAIL

static const struct {
	const char *site;
	const char *expect;
} bad_site[] = {
	{ "site: {\n timezone = \"Mars/Olympus\";\n};\n",
	  ":2: timezone \"Mars/Olympus\"" },
	{ "site: {\n business_hours = { days = [\"mon\", \"fry\"];\n"
	  " start = \"08:00\"; end = \"18:00\"; };\n};\n",
	  ":2: unknown day \"fry\"" },
	{ "site: {\n business_hours = { days = [\"mon\"];\n"
	  " start = \"18:00\"; end = \"08:00\"; };\n};\n",
	  ":2: business hours end (08:00) must be after start (18:00)" },
	{ "site: {\n business_hours = { days = [\"mon\"];\n"
	  " start = \"8am\"; end = \"18:00\"; };\n};\n",
	  ":3: bad time \"8am\"" },
	{ "site: {\n trusted_networks = [\"10.0.0.0/8\",\n \"10.0.0.1/8\"];\n};\n",
	  ":2: trusted_networks: \"10.0.0.1/8\"" },
	{ "site: {\n sets = { trusted = [\"a\"]; };\n};\n",
	  ":2: set name \"trusted\" is reserved" },
	{ "site: {\n customer_data = { http = (\n"
	  "  { path = \"^/c/(?<customer>[0-9]+\"; data = \"x\"; } ); };\n};\n",
	  ":3: bad regex \"^/c/(?<customer>[0-9]+\" at offset" },
	{ "site: {\n customer_data = { http = (\n"
	  "  { path = \"^/c/\"; } ); };\n};\n",
	  ":3: missing required setting \"data\"" },
	{ "site: {\n customer_data = {\n principal_customer = \"^c[0-9]+$\"; };\n};\n",
	  ":3: principal_customer needs a named capture" },
	{ "site: {\n customer_data = { sql = (\n"
	  "  { table = \"t\"; col = \"x\"; data = \"d\"; } ); };\n};\n",
	  ":3: unknown setting \"col\"" },
	{ "site: {\n weather = \"sunny\";\n};\n", ":2: unknown setting \"weather\"" },
};

START_TEST(test_bad_site)
{
	char msg[1024];

	ck_assert_int_eq(rt_try(bad_site[_i].site, SITE_OK_RULES, msg,
				sizeof(msg)),
			 -1);
	ck_assert_msg(strstr(msg, bad_site[_i].expect) != NULL,
		      "case %d: got \"%s\", want \"%s\"", _i, msg,
		      bad_site[_i].expect);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("rules_load");
	TCase *tc = tcase_create("load");

	tcase_add_loop_test(tc, test_bad_rule, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	tcase_add_loop_test(tc, test_bad_site, 0,
			    (int)(sizeof(bad_site) / sizeof(bad_site[0])));
	tcase_add_test(tc, test_good_rule);
	tcase_add_test(tc, test_duplicate_across_files);
	tcase_add_test(tc, test_rule_file);
	suite_add_tcase(s, tc);
	return s;
}
