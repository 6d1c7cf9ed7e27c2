/*
 * test_contain_config.c - containment action definitions: config errors at
 * file:line, rules naming undefined actions, and rendering (validation of
 * every placeholder's value, percent-encoding in URLs, JSON escaping in
 * bodies, the environment allow-list, de-duplication keys).
 */
#include <check.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/config.h"
#include "../../agent/contain_action.h"
#include "../../agent/pipeline.h"
#include "check_main.h"
#include "helpers.h"
#include "xmalloc.h"

/* A config refused at its line `line` with a message containing want. */
struct bad_case {
	const char *text;
	int line;
	const char *want;
};

static const struct bad_case bad_cases[] = {
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\"; argv = [ \"/bin/true\" ];\n"
	  "    bogus = 1; }\n"
	  ");\n",
	  3, "unknown setting \"bogus\"" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\";\n"
	  "    argv = \"/bin/sh -c 'nft add ...'\"; }\n"
	  ");\n",
	  3, "must be a list of strings (the program and its arguments, "
	     "never a shell command line)" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\";\n"
	  "    argv = [ \"/bin/echo\", \"${nope}\" ]; }\n"
	  ");\n",
	  3, "undefined placeholder \"${nope}\" (known: src_ip, user," },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\";\n"
	  "    argv = [ \"/bin/echo\", \"${src_ip\" ]; }\n"
	  ");\n",
	  3, "\"${\" without a closing \"}\"" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\";\n"
	  "    argv = [ \"nft\", \"add\" ]; }\n"
	  ");\n",
	  3, "the program must be an absolute path" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\";\n"
	  "    argv = [ \"/usr/bin/${user}\" ]; }\n"
	  ");\n",
	  3, "no placeholder may appear here" },
	{ "actions = (\n"
	  "  { id = \"a\";\n"
	  "    type = \"shell\"; argv = [ \"/bin/true\" ]; }\n"
	  ");\n",
	  3, "type must be \"exec\" or \"http\"" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\"; argv = [ \"/bin/true\" ];\n"
	  "    env = [ \"PATH\", \"1X\" ]; }\n"
	  ");\n",
	  3, "\"1X\" is not a variable name" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\"; argv = [ \"/bin/true\" ];\n"
	  "    timeout = 0; }\n"
	  ");\n",
	  3, "\"timeout\" must be more than 0" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\"; argv = [ \"/bin/true\" ];\n"
	  "    timeout = \"soon\"; }\n"
	  ");\n",
	  3, "bad duration" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\"; argv = [ \"/bin/true\" ];\n"
	  "    grace = \"2m\"; }\n"
	  ");\n",
	  3, "\"grace\": at most 60 s" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"exec\"; argv = [ \"/bin/true\" ]; },\n"
	  "  { id = \"a\"; type = \"exec\"; argv = [ \"/bin/false\" ]; }\n"
	  ");\n",
	  3, "action \"a\" is defined twice" },
	{ "actions = (\n"
	  "  { type = \"exec\"; argv = [ \"/bin/true\" ];\n"
	  "    id = \"Block_IP\"; }\n"
	  ");\n",
	  3, "bad action id \"Block_IP\"" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\";\n"
	  "    url = \"http://${src_ip}/block\"; }\n"
	  ");\n",
	  3, "placeholders may appear only in the path and query" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\";\n"
	  "    url = \"ftp://files.example/x\"; }\n"
	  ");\n",
	  3, "must start with http:// or https://" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\"; url = \"http://h/x\";\n"
	  "    method = \"TRACE\"; }\n"
	  ");\n",
	  3, "\"TRACE\" is not GET, POST, PUT, PATCH or DELETE" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\"; url = \"http://h/x\"; method = "
	  "\"GET\";\n"
	  "    body = { ip = \"${src_ip}\"; }; }\n"
	  ");\n",
	  3, "a GET request has none" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\"; url = \"http://h/x\";\n"
	  "    body = \"{\\\"ip\\\": \\\"${src_ip}\\\"}\"; }\n"
	  ");\n",
	  3, "\"body\" must be a group" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\"; url = \"http://h/x\";\n"
	  "    body = { a = { b = [ \"${zzz}\" ]; }; }; }\n"
	  ");\n",
	  3, "undefined placeholder \"${zzz}\"" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\"; url = \"http://h/x\";\n"
	  "    headers = [ \"Authorization Bearer x\" ]; }\n"
	  ");\n",
	  3, "is not \"Name: value\"" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\"; url = \"http://h/x\";\n"
	  "    headers = [ \"X-${user}: 1\" ]; }\n"
	  ");\n",
	  3, "placeholders may appear only in the value" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\"; url = \"http://h/x\";\n"
	  "    expect = [ 600, 700 ]; }\n"
	  ");\n",
	  3, "statuses from 100 to 599" },
	{ "actions = (\n"
	  "  { id = \"a\"; type = \"http\";\n"
	  "    urls = \"http://h/x\"; }\n"
	  ");\n",
	  3, "unknown setting \"urls\"" },
	{ "agent = { name = \"x\"; };\n"
	  "containment = { max_running = 2;\n"
	  "  max_runing = 3; };\n",
	  3, "unknown setting \"max_runing\"" },
	{ "agent = { name = \"x\"; };\n"
	  "containment = {\n"
	  "  max_running = 0; };\n",
	  3, "\"max_running\" is 0, must be between 1 and 64" },
	{ "agent = { name = \"x\"; };\n"
	  "\n"
	  "actions = { a = 1; };\n",
	  3, "actions: must be a list" },
};

START_TEST(config_errors_at_file_line)
{
	const struct bad_case *bc = &bad_cases[_i];
	char *dir = th_tmpdir();
	struct contain_actions *d;
	struct bw_error err;
	char msg[1024], *want;

	memset(&err, 0, sizeof(err));
	d = th_actions(dir, bc->text, &err);
	ck_assert_msg(d == NULL, "case %d was accepted", _i);
	want = xasprintf("%s/agent.conf:%d: ", dir, bc->line);
	bw_error_str(&err, msg, sizeof(msg));
	ck_assert_msg(strncmp(msg, want, strlen(want)) == 0 &&
			      strstr(msg, bc->want) != NULL,
		      "case %d: got \"%s\", want \"%s...%s\"", _i, msg, want,
		      bc->want);
	free(want);
	th_rmdir(dir);
}
END_TEST

START_TEST(good_config_loads)
{
	char *dir = th_tmpdir();
	struct contain_actions *d;
	const struct contain_action *a;
	struct bw_error err;

	d = th_actions(dir,
		       "containment = { max_running = 2; max_queued = 5; };\n"
		       "actions = (\n"
		       "  { id = \"block-src\"; type = \"exec\";\n"
		       "    argv = [ \"/usr/sbin/nft\", \"add\", \"element\", "
		       "\"inet\", \"breachwatch\", \"blocklist\", \"{\", "
		       "\"${src_ip}\", \"}\" ];\n"
		       "    timeout = \"500ms\"; env = [ \"PATH\" ]; },\n"
		       "  { id = \"lock.account\"; type = \"http\"; method = "
		       "\"PUT\";\n"
		       "    url = \"https://accounts.example/u/${user}/lock\";\n"
		       "    headers = [ \"Authorization: Bearer t0ken\" ];\n"
		       "    body = { user = \"${user}\"; n = 1; };\n"
		       "    expect = 204; dedup = 0; }\n"
		       ");\n",
		       &err);
	ck_assert_msg(d != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	ck_assert_uint_eq(d->n, 2);
	ck_assert_uint_eq(d->max_running, 2);
	ck_assert_uint_eq(d->max_queued, 5);
	a = contain_actions_find(d, "block-src");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->type, CONTAIN_EXEC);
	ck_assert_uint_eq(a->argc, 9);
	ck_assert_int_eq(a->timeout_us, 500000);
	ck_assert_int_eq(a->grace_us, 2 * S);
	ck_assert_int_eq(a->dedup_us, 600 * S);
	ck_assert_int_eq(a->line, 3);
	a = contain_actions_find(d, "lock.account");
	ck_assert_ptr_nonnull(a);
	ck_assert_int_eq(a->type, CONTAIN_HTTP);
	ck_assert_str_eq(a->method, "PUT");
	ck_assert_int_eq(a->expect_min, 204);
	ck_assert_int_eq(a->expect_max, 204);
	ck_assert_int_eq(a->dedup_us, 0);
	ck_assert_ptr_null(contain_actions_find(d, "nope"));
	contain_actions_destroy(&d);
	ck_assert_ptr_null(d);
	th_rmdir(dir);
}
END_TEST

/* A rule naming an action the config does not define: the rule file is
 * refused at the rule's line, before anything runs. */
START_TEST(undefined_action_refused_at_rule_line)
{
	char *dir = th_tmpdir(), *conf_text, *rules, *cpath, *want;
	struct agentconf *conf;
	struct pipeline *p;
	struct bw_error err;
	const char *paths[1];
	char msg[1024];

	conf_text = xasprintf("agent = { state_dir = \"%s\"; };\n"
			      "actions = ( { id = \"block\"; type = \"exec\"; "
			      "argv = [ \"/bin/true\" ]; } );\n",
			      dir);
	cpath = th_write(dir, "agent.conf", conf_text);
	rules = th_write(dir, "r.conf",
			 "rules = (\n"
			 "  { id = \"ok\"; title = \"t\"; category = \"c\"; "
			 "severity = \"low\"; kinds = \"http\";\n"
			 "    actions = [ \"block\" ]; },\n"
			 "  { id = \"bad\"; title = \"t\"; category = \"c\";\n"
			 "    severity = \"low\"; kinds = \"http\";\n"
			 "    actions = [ \"block\", \"nope\" ]; }\n"
			 ");\n");
	conf = agentconf_load(cpath, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	paths[0] = rules;
	p = pipeline_new(conf, paths, 1, NULL, NULL, &err);
	ck_assert_ptr_null(p);
	bw_error_str(&err, msg, sizeof(msg));
	want = xasprintf("%s:4: rule \"bad\": action \"nope\" is not defined "
			 "in the agent config's actions",
			 rules);
	ck_assert_str_eq(msg, want);
	free(want);
	agentconf_destroy(&conf);

	/* With the action defined, the same rules load. */
	free(conf_text);
	conf_text = xasprintf("agent = { state_dir = \"%s\"; };\n"
			      "actions = (\n"
			      "  { id = \"block\"; type = \"exec\"; argv = [ "
			      "\"/bin/true\" ]; },\n"
			      "  { id = \"nope\"; type = \"exec\"; argv = [ "
			      "\"/bin/true\" ]; }\n"
			      ");\n",
			      dir);
	free(cpath);
	cpath = th_write(dir, "agent.conf", conf_text);
	conf = agentconf_load(cpath, &err);
	ck_assert_msg(conf != NULL, "%s", err.msg);
	p = pipeline_new(conf, paths, 1, NULL, NULL, &err);
	ck_assert_msg(p != NULL, "%s", err.msg);
	ck_assert_uint_eq(pipeline_rule_count(p), 2);
	pipeline_destroy(&p);
	agentconf_destroy(&conf);
	free(conf_text);
	free(cpath);
	free(rules);
	th_rmdir(dir);
}
END_TEST

/*
 * Rendering.
 */

static struct contain_actions *render_actions(char **dir)
{
	struct contain_actions *d;
	struct bw_error err;

	*dir = th_tmpdir();
	d = th_actions(
		*dir,
		"actions = (\n"
		"  { id = \"x\"; type = \"exec\";\n"
		"    argv = [ \"/usr/sbin/nft\", \"add\", \"element\", \"inet\", "
		"\"bw\", \"blocklist\", \"{\", \"${src_ip}\", \"}\", "
		"\"u=${user}\" ];\n"
		"    env = [ \"BW_T_ALLOWED\", \"BW_T_MISSING\" ]; },\n"
		"  { id = \"c\"; type = \"exec\";\n"
		"    argv = [ \"/bin/lock\", \"${customer}\" ]; },\n"
		"  { id = \"i\"; type = \"exec\";\n"
		"    argv = [ \"/bin/page\", \"${incident_id}\", \"${rule}\", "
		"\"${severity}\", \"${host}\", \"${category}\" ]; },\n"
		"  { id = \"h\"; type = \"http\"; method = \"PATCH\";\n"
		"    url = \"http://h.example:8080/u/${user}/x?ip=${src_ip}&k=1\";\n"
		"    headers = [ \"X-Ip: ${src_ip}\", \"X-Fixed: a b\" ];\n"
		"    body = { note = \"say \\\"hi\\\" \\\\ ${user}\"; n = 3; "
		"ok = true;\n"
		"             list = ( \"${src_ip}\", 2 ); }; }\n"
		");\n",
		&err);
	ck_assert_msg(d != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	return d;
}

static void base_fields(struct contain_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->src_ip = "203.0.113.9";
	f->user = "alice";
	f->key = "alice";
	f->rule = "web-probe";
	f->incident_id = "bw-0123456789abcdef";
	f->host = "mx-data-01";
	f->severity = "high";
	f->category = "probe";
}

/* Values that are not what their field allows refuse the run. */
START_TEST(hostile_values_refused)
{
	static const struct {
		const char *src_ip, *user;
		const char *want;
	} cases[] = {
		{ "1.2.3.4; touch /tmp/x", "alice",
		  "${src_ip}: \"1.2.3.4; touch /tmp/x\" is not an IPv4 or "
		  "IPv6 address; nothing run" },
		{ "1.2.3.4/24", "alice", "is not an IPv4 or IPv6 address" },
		{ "fe80::1%eth0", "alice", "is not an IPv4 or IPv6 address" },
		{ "203.0.113.9", "a b", "${user}: \"a b\" is not 1 to 128 of" },
		{ "203.0.113.9", "-rf", "${user}: \"-rf\" is not" },
		{ "203.0.113.9", "$(id)", "${user}: \"$(id)\" is not" },
		{ "203.0.113.9", "a\nb", "${user}: \"a?b\" is not" },
		{ "203.0.113.9", "", "${user}: the incident has no value" },
		{ NULL, "alice", "${src_ip}: the incident has no value" },
	};
	char *dir, why[512];
	struct contain_actions *d = render_actions(&dir);
	const struct contain_action *a = contain_actions_find(d, "x");
	struct contain_request req;
	struct contain_fields f;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		base_fields(&f);
		f.src_ip = cases[i].src_ip;
		f.user = cases[i].user;
		ck_assert_int_eq(
			contain_action_render(a, &f, &req, why, sizeof(why)),
			-1);
		ck_assert_msg(strstr(why, cases[i].want) != NULL,
			      "case %zu: \"%s\"", i, why);
		ck_assert_ptr_null(req.argv);
		ck_assert_ptr_null(req.dedup);
	}
	/* A user longer than 128 bytes. */
	{
		char longer[200];

		memset(longer, 'a', sizeof(longer) - 1);
		longer[sizeof(longer) - 1] = '\0';
		base_fields(&f);
		f.user = longer;
		ck_assert_int_eq(
			contain_action_render(a, &f, &req, why, sizeof(why)),
			-1);
	}
	/* ${customer} needs exactly one affected customer. */
	a = contain_actions_find(d, "c");
	base_fields(&f);
	f.n_customers = 3;
	ck_assert_int_eq(contain_action_render(a, &f, &req, why, sizeof(why)),
			 -1);
	ck_assert_str_eq(why, "${customer}: the incident names 3 affected "
			      "customers, not one; nothing run");
	f.n_customers = 1;
	f.customer = "c1013";
	ck_assert_int_eq(contain_action_render(a, &f, &req, why, sizeof(why)),
			 0);
	ck_assert_str_eq(req.argv[1], "c1013");
	ck_assert_str_eq(req.dedup, "c\ncustomer=c1013");
	contain_request_free(&req);
	contain_actions_destroy(&d);
	th_rmdir(dir);
}
END_TEST

START_TEST(exec_rendering)
{
	static const char *const want[] = {
		"/usr/sbin/nft", "add", "element", "inet",	"bw",
		"blocklist",	 "{",	"2001:db8::1", "}", "u=al.ice@x+y",
	};
	char *dir, why[512];
	struct contain_actions *d = render_actions(&dir);
	struct contain_request req;
	struct contain_fields f;

	setenv("BW_T_ALLOWED", "yes", 1);
	setenv("BW_T_SECRET", "hidden", 1);
	unsetenv("BW_T_MISSING");
	base_fields(&f);
	f.src_ip = "2001:DB8:0:0::1"; /* written the long way: canonical */
	f.user = "al.ice@x+y";
	ck_assert_int_eq(contain_action_render(contain_actions_find(d, "x"), &f,
					       &req, why, sizeof(why)),
			 0);
	ck_assert_uint_eq(req.argc, 10);
	for (size_t i = 0; i < req.argc; i++)
		ck_assert_str_eq(req.argv[i], want[i]);
	ck_assert_ptr_null(req.argv[10]);
	/* Only the allow-listed variables that are set. */
	ck_assert_str_eq(req.envp[0], "BW_T_ALLOWED=yes");
	ck_assert_ptr_null(req.envp[1]);
	/* The target fields used make the de-duplication key. */
	ck_assert_str_eq(req.dedup, "x\nsrc_ip=2001:db8::1\nuser=al.ice@x+y");
	contain_request_free(&req);

	/* No target field: the incident is the key. */
	base_fields(&f);
	ck_assert_int_eq(contain_action_render(contain_actions_find(d, "i"), &f,
					       &req, why, sizeof(why)),
			 0);
	ck_assert_str_eq(req.argv[1], "bw-0123456789abcdef");
	ck_assert_str_eq(req.argv[2], "web-probe");
	ck_assert_str_eq(req.argv[3], "high");
	ck_assert_str_eq(req.argv[4], "mx-data-01");
	ck_assert_str_eq(req.argv[5], "probe");
	ck_assert_str_eq(req.dedup, "i\nincident_id=bw-0123456789abcdef");
	contain_request_free(&req);
	contain_actions_destroy(&d);
	th_rmdir(dir);
}
END_TEST

START_TEST(http_rendering)
{
	char *dir, why[512];
	struct contain_actions *d = render_actions(&dir);
	struct contain_request req;
	struct contain_fields f;
	json_error_t jerr;
	json_t *body, *list;

	base_fields(&f);
	f.src_ip = "::1";
	f.user = "a@b+c";
	ck_assert_int_eq(contain_action_render(contain_actions_find(d, "h"), &f,
					       &req, why, sizeof(why)),
			 0);
	/* Values percent-encoded in the URL, the rest as written. */
	ck_assert_str_eq(req.url,
			 "http://h.example:8080/u/a%40b%2Bc/x?ip=%3A%3A1&k=1");
	ck_assert_uint_eq(req.n_headers, 2);
	ck_assert_str_eq(req.headers[0], "X-Ip: ::1");
	ck_assert_str_eq(req.headers[1], "X-Fixed: a b");
	/* The body: valid JSON, strings escaped, other types kept. */
	body = json_loads(req.body, 0, &jerr);
	ck_assert_msg(body != NULL, "%s: %s", jerr.text, req.body);
	ck_assert_str_eq(json_string_value(json_object_get(body, "note")),
			 "say \"hi\" \\ a@b+c");
	ck_assert_int_eq(json_integer_value(json_object_get(body, "n")), 3);
	ck_assert(json_is_true(json_object_get(body, "ok")));
	list = json_object_get(body, "list");
	ck_assert_uint_eq(json_array_size(list), 2);
	ck_assert_str_eq(json_string_value(json_array_get(list, 0)), "::1");
	ck_assert_int_eq(json_integer_value(json_array_get(list, 1)), 2);
	ck_assert_ptr_nonnull(strstr(req.body, "\"say \\\"hi\\\" \\\\ a@b+c\""));
	json_decref(body);
	contain_request_free(&req);
	contain_actions_destroy(&d);
	th_rmdir(dir);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("contain_config");
	TCase *tc = tcase_create("config");

	tcase_add_loop_test(tc, config_errors_at_file_line, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, good_config_loads);
	tcase_add_test(tc, undefined_action_refused_at_rule_line);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("render");
	tcase_add_test(tc, hostile_values_refused);
	tcase_add_test(tc, exec_rendering);
	tcase_add_test(tc, http_rendering);
	suite_add_tcase(s, tc);
	return s;
}
