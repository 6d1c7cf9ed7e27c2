/*
 * test_cfg.c - libconfig helpers: types, ranges, required and unknown keys,
 * and that every error names the right file and line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfg.h"
#include "check_main.h"

static char g_dir[64];
static char g_main[128];
static config_t g_cfg;

/* Line numbers below are the lines of this text. */
static const char main_conf[] =
	"# breachwatch test config\n"		     /* 1 */
	"agent = {\n"				     /* 2 */
	"  name = \"a1\";\n"			     /* 3 */
	"  max_line = \"big\";\n"		     /* 4 */
	"  workers = 4;\n"			     /* 5 */
	"  huge = 5000000000L;\n"		     /* 6 */
	"  small_l = 7L;\n"			     /* 7 */
	"  ratio = 1.5;\n"			     /* 8 */
	"  enabled = true;\n"			     /* 9 */
	"  window = \"10m\";\n"			     /* 10 */
	"  window_s = 90;\n"			     /* 11 */
	"  window_bad = \"10x\";\n"		     /* 12 */
	"  window_neg = -5;\n"			     /* 13 */
	"  window_float = 1.5;\n"		     /* 14 */
	"  rules = [ \"a.conf\", \"b.conf\" ];\n"    /* 15 */
	"  rules_list = ( \"a.conf\",\n"	     /* 16 */
	"                 5 );\n"		     /* 17 */
	"  one_rule = \"c.conf\";\n"		     /* 18 */
	"  spelt_wrong = 1;\n"			     /* 19 */
	"};\n"					     /* 20 */
	"@include \"sub.conf\"\n";		     /* 21 */

static const char sub_conf[] = "\n"
			       "extra = { x = \"one\"; };\n"; /* 2 */

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

static void remove_dir(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Each test (a forked child) gets a fresh directory, read from "/" so a
 * relative @include only works through the include dir. */
static void setup(void)
{
	struct bw_error err;

	snprintf(g_dir, sizeof(g_dir), "/tmp/bw-test-cfg-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	snprintf(g_main, sizeof(g_main), "%s/main.conf", g_dir);
	write_file(g_dir, "main.conf", main_conf);
	write_file(g_dir, "sub.conf", sub_conf);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_msg(bw_cfg_read_file(&g_cfg, g_main, NULL, &err) == 0,
		      "%s:%d: %s", err.file, err.line, err.msg);
}

static void teardown(void)
{
	config_destroy(&g_cfg);
	remove_dir(g_dir);
}

static const config_setting_t *agent(void)
{
	const config_setting_t *g = config_lookup(&g_cfg, "agent");

	ck_assert_ptr_nonnull(g);
	return g;
}

/* err must be at line of main.conf and mention want. */
static void expect_err(const struct bw_error *err, int line, const char *want)
{
	ck_assert_str_eq(err->file, g_main);
	ck_assert_int_eq(err->line, line);
	ck_assert_msg(strstr(err->msg, want) != NULL, "\"%s\" lacks \"%s\"",
		      err->msg, want);
}

START_TEST(test_string)
{
	const char *s = "unchanged";
	struct bw_error err;

	ck_assert_int_eq(bw_cfg_string(agent(), "name", true, &s, &err), 0);
	ck_assert_str_eq(s, "a1");
	ck_assert_int_eq(bw_cfg_string(agent(), "nope", false, &s, &err), 0);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(bw_cfg_string(agent(), "nope", true, &s, &err), -1);
	expect_err(&err, 2, "missing required setting \"nope\" in \"agent\"");
	ck_assert_int_eq(bw_cfg_string(agent(), "workers", false, &s, &err),
			 -1);
	expect_err(&err, 5, "\"workers\" must be a string, not an integer");
}
END_TEST

START_TEST(test_int)
{
	struct bw_error err;
	int64_t v = -7;

	ck_assert_int_eq(
		bw_cfg_int(agent(), "workers", true, 1, 64, &v, &err), 0);
	ck_assert_int_eq(v, 4);
	/* int64 settings ("L": libconfig 1.5 wraps bare literals past 32
	 * bits) are integers too. */
	ck_assert_int_eq(bw_cfg_int(agent(), "huge", true, 0, INT64_MAX, &v,
				    &err),
			 0);
	ck_assert_int_eq(v, 5000000000LL);
	ck_assert_int_eq(
		bw_cfg_int(agent(), "small_l", true, 0, 10, &v, &err), 0);
	ck_assert_int_eq(v, 7);
	/* Absent and optional: unchanged. */
	v = -7;
	ck_assert_int_eq(bw_cfg_int(agent(), "nope", false, 0, 10, &v, &err),
			 0);
	ck_assert_int_eq(v, -7);
	ck_assert_int_eq(bw_cfg_int(agent(), "max_line", false, 0, 10, &v,
				    &err),
			 -1);
	expect_err(&err, 4, "\"max_line\" must be an integer, not a string");
	ck_assert_int_eq(bw_cfg_int(agent(), "ratio", false, 0, 10, &v, &err),
			 -1);
	expect_err(&err, 8, "not a float");
	ck_assert_int_eq(
		bw_cfg_int(agent(), "workers", false, 1, 2, &v, &err), -1);
	expect_err(&err, 5, "\"workers\" is 4, must be between 1 and 2");
	ck_assert_int_eq(
		bw_cfg_int(agent(), "huge", false, 0, INT32_MAX, &v, &err), -1);
	expect_err(&err, 6, "is 5000000000");
	ck_assert_int_eq(v, -7);
}
END_TEST

START_TEST(test_bool)
{
	struct bw_error err;
	bool b = false;

	ck_assert_int_eq(bw_cfg_bool(agent(), "enabled", true, &b, &err), 0);
	ck_assert(b);
	ck_assert_int_eq(bw_cfg_bool(agent(), "name", true, &b, &err), -1);
	expect_err(&err, 3, "\"name\" must be true or false, not a string");
	ck_assert_int_eq(bw_cfg_bool(agent(), "workers", true, &b, &err), -1);
	expect_err(&err, 5, "not an integer");
}
END_TEST

START_TEST(test_duration)
{
	struct bw_error err;
	int64_t us = -1;

	ck_assert_int_eq(
		bw_cfg_duration(agent(), "window", true, &us, &err), 0);
	ck_assert_int_eq(us, 600LL * 1000000);
	ck_assert_int_eq(
		bw_cfg_duration(agent(), "window_s", true, &us, &err), 0);
	ck_assert_int_eq(us, 90LL * 1000000);
	us = 1;
	ck_assert_int_eq(bw_cfg_duration(agent(), "nope", false, &us, &err),
			 0);
	ck_assert_int_eq(us, 1);
	ck_assert_int_eq(
		bw_cfg_duration(agent(), "window_bad", true, &us, &err), -1);
	expect_err(&err, 12, "bad duration \"10x\"");
	ck_assert_int_eq(
		bw_cfg_duration(agent(), "window_neg", true, &us, &err), -1);
	expect_err(&err, 13, "out of range");
	ck_assert_int_eq(
		bw_cfg_duration(agent(), "window_float", true, &us, &err), -1);
	expect_err(&err, 14, "must be a duration");
	ck_assert_int_eq(bw_cfg_duration(agent(), "nope", true, &us, &err),
			 -1);
	expect_err(&err, 2, "missing required setting \"nope\"");
	ck_assert_int_eq(us, 1);
}
END_TEST

START_TEST(test_strings)
{
	const config_setting_t *s = NULL;
	struct bw_error err;

	ck_assert_int_eq(bw_cfg_strings(agent(), "rules", true, &s, &err), 0);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(config_setting_length(s), 2);
	ck_assert_str_eq(config_setting_get_string_elem(s, 1), "b.conf");
	ck_assert_int_eq(bw_cfg_strings(agent(), "one_rule", true, &s, &err),
			 0);
	ck_assert_int_eq(config_setting_type(s), CONFIG_TYPE_STRING);
	ck_assert_str_eq(config_setting_get_string(s), "c.conf");
	ck_assert_int_eq(bw_cfg_strings(agent(), "nope", false, &s, &err), 0);
	ck_assert_ptr_null(s);
	/* The bad element is reported on its own line. */
	ck_assert_int_eq(
		bw_cfg_strings(agent(), "rules_list", true, &s, &err), -1);
	expect_err(&err, 17, "\"rules_list\": element 2 must be a string");
	ck_assert_ptr_null(s);
	ck_assert_int_eq(bw_cfg_strings(agent(), "workers", true, &s, &err),
			 -1);
	expect_err(&err, 5, "must be a list of strings");
}
END_TEST

START_TEST(test_check_keys)
{
	static const char *const most[] = {
		"name",	      "max_line",     "workers",    "huge",
		"small_l",    "ratio",	      "enabled",    "window",
		"window_s",   "window_bad",   "window_neg", "window_float",
		"rules",      "rules_list",   "one_rule",   NULL};
	static const char *const all[] = {
		"name",	      "max_line",     "workers",    "huge",
		"small_l",    "ratio",	      "enabled",    "window",
		"window_s",   "window_bad",   "window_neg", "window_float",
		"rules",      "rules_list",   "one_rule",   "spelt_wrong",
		NULL};
	static const char *const top[] = {"agent", "extra", NULL};
	static const char *const few[] = {"agent", NULL};
	struct bw_error err;

	ck_assert_int_eq(bw_cfg_check_keys(agent(), all, &err), 0);
	ck_assert_int_eq(bw_cfg_check_keys(agent(), most, &err), -1);
	expect_err(&err, 19, "unknown setting \"spelt_wrong\" in \"agent\"");
	ck_assert_ptr_nonnull(strstr(err.msg, "(allowed: name, max_line, "));
	ck_assert_int_eq(
		bw_cfg_check_keys(config_root_setting(&g_cfg), top, &err), 0);
	/* A member from the included file is located in that file. */
	ck_assert_int_eq(
		bw_cfg_check_keys(config_root_setting(&g_cfg), few, &err), -1);
	ck_assert_str_eq(err.file, "sub.conf"); /* as the @include names it */
	ck_assert_int_eq(err.line, 2);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown setting \"extra\""));
	/* NULL (an absent optional group) has no keys. */
	ck_assert_int_eq(bw_cfg_check_keys(NULL, few, &err), 0);
}
END_TEST

START_TEST(test_not_a_group)
{
	static const char *const none[] = {NULL};
	const config_setting_t *rules = config_lookup(&g_cfg, "agent.rules");
	struct bw_error err;
	const char *s;
	int64_t v = 3;

	ck_assert_ptr_nonnull(rules);
	ck_assert_int_eq(bw_cfg_string(rules, "x", false, &s, &err), -1);
	expect_err(&err, 15, "\"rules\" must be a group, not an array");
	ck_assert_int_eq(bw_cfg_check_keys(rules, none, &err), -1);
	expect_err(&err, 15, "must be a group");
	/* A NULL group: every key is absent. */
	ck_assert_int_eq(bw_cfg_int(NULL, "x", false, 0, 9, &v, &err), 0);
	ck_assert_int_eq(v, 3);
	ck_assert_int_eq(bw_cfg_int(NULL, "x", true, 0, 9, &v, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "missing required setting"));
}
END_TEST

START_TEST(test_locations)
{
	const config_setting_t *x = config_lookup(&g_cfg, "extra.x");
	struct bw_error err;

	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(bw_cfg_file(x), "sub.conf");
	ck_assert_int_eq(bw_cfg_line(x), 2);
	ck_assert_str_eq(bw_cfg_file(NULL), "");
	ck_assert_int_eq(bw_cfg_line(NULL), 0);
	ck_assert_int_eq(bw_cfg_error(&err, x, "bad %s %d", "thing", 7), -1);
	ck_assert_str_eq(err.msg, "bad thing 7");
	ck_assert_int_eq(err.line, 2);
	ck_assert_int_eq(bw_cfg_error(NULL, x, "ignored"), -1);
}
END_TEST

/* bw_cfg_read_file on text (or on path when text is NULL) must fail. */
static void read_fails(const char *text, const char *path, int line,
		       const char *want)
{
	char file[128];
	struct bw_error err;
	config_t cfg;

	if (text != NULL) {
		write_file(g_dir, "bad.conf", text);
		snprintf(file, sizeof(file), "%s/bad.conf", g_dir);
		path = file;
	}
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(bw_cfg_read_file(&cfg, path, NULL, &err), -1);
	ck_assert_str_eq(err.file, path);
	ck_assert_int_eq(err.line, line);
	ck_assert_msg(strstr(err.msg, want) != NULL, "\"%s\" lacks \"%s\"",
		      err.msg, want);
	/* Already destroyed; destroying again is harmless. */
	config_destroy(&cfg);
}

START_TEST(test_read_errors)
{
	read_fails("a = 1;\nb = ;\nc = 2;\n", NULL, 2, "syntax error");
	read_fails("a = 1;\n\n\nb = [1, \"x\"];\n", NULL, 4,
		   "mismatched element type in array");
	read_fails("@include \"missing.conf\"\n", NULL, 1, "");
	read_fails(NULL, "/nonexistent/bw.conf", 0,
		   "cannot open: No such file or directory");
	read_fails(NULL, "/tmp", 0, "not a regular file");
}
END_TEST

START_TEST(test_read_error_in_include)
{
	char path[128];
	struct bw_error err;
	config_t cfg;

	write_file(g_dir, "bad_sub.conf", "\nx = 1;\ny = ;\n");
	write_file(g_dir, "top.conf", "a = 1;\n@include \"bad_sub.conf\"\n");
	snprintf(path, sizeof(path), "%s/top.conf", g_dir);
	ck_assert_int_eq(bw_cfg_read_file(&cfg, path, NULL, &err), -1);
	ck_assert_str_eq(err.file, "bad_sub.conf");
	ck_assert_int_eq(err.line, 3);
	ck_assert_str_eq(err.msg, "syntax error");
}
END_TEST

START_TEST(test_include_dir)
{
	char other[96];
	struct bw_error err;
	config_t cfg;

	/* An explicit include dir replaces the file's own. */
	snprintf(other, sizeof(other), "%s/inc", g_dir);
	ck_assert_int_eq(mkdir(other, 0700), 0);
	write_file(other, "sub.conf", "from_inc = 1;\n");
	ck_assert_int_eq(bw_cfg_read_file(&cfg, g_main, other, &err), 0);
	ck_assert_ptr_nonnull(config_lookup(&cfg, "from_inc"));
	ck_assert_ptr_null(config_lookup(&cfg, "extra"));
	config_destroy(&cfg);
	/* A file named without a directory includes from ".". */
	ck_assert_int_eq(chdir(g_dir), 0);
	ck_assert_int_eq(bw_cfg_read_file(&cfg, "main.conf", NULL, &err), 0);
	ck_assert_ptr_nonnull(config_lookup(&cfg, "extra"));
	config_destroy(&cfg);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_string);
	tcase_add_test(tc, test_int);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_check_keys);
	tcase_add_test(tc, test_not_a_group);
	tcase_add_test(tc, test_locations);
	tcase_add_test(tc, test_read_errors);
	tcase_add_test(tc, test_read_error_in_include);
	tcase_add_test(tc, test_include_dir);
	suite_add_tcase(s, tc);
	return s;
}
