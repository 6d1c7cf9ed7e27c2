/*
 * test_contain_run.c - containment runs with real processes: programs
 * under tests/contain/ (their argv recorded to a file, exit statuses,
 * hangs, floods of output) and requests to a real HTTP server on
 * 127.0.0.1 (http_server.py, port chosen by the OS, stopped by PID). The
 * aggregator is the real one; incidents are opened by hand, as the rules
 * engine would, and every emitted revision is kept.
 */
#include <check.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../agent/contain.h"
#include "bwtime.h"
#include "check_main.h"
#include "helpers.h"
#include "xmalloc.h"

/* The actions of every test; DIR is the test's directory, PORT the HTTP
 * server's (0: no server, the HTTP actions point to a closed port). */
static struct contain_actions *actions(const char *dir, int port,
				       const char *limits)
{
	struct contain_actions *d;
	struct bw_error err;
	char *text;

	text = xasprintf(
		"%s\n"
		"actions = (\n"
		"  { id = \"rec\"; type = \"exec\";\n"
		"    argv = [ \"" SCRIPTS "/record-argv.sh\", \"%s/argv\",\n"
		"             \"{\", \"${src_ip}\", \"}\", \"x ${user} y\",\n"
		"             \"; touch %s/pwned\", \"$(touch %s/pwned2)\",\n"
		"             \"${incident_id}\" ];\n"
		"    env = [ \"BW_T_ALLOWED\" ]; timeout = \"10s\"; },\n"
		"  { id = \"fail\"; type = \"exec\";\n"
		"    argv = [ \"" SCRIPTS "/exit3.sh\" ]; },\n"
		"  { id = \"hang\"; type = \"exec\"; timeout = \"300ms\";\n"
		"    argv = [ \"" SCRIPTS "/hang.sh\", \"%s/hang.pid\" ]; },\n"
		"  { id = \"stubborn\"; type = \"exec\"; timeout = \"300ms\";\n"
		"    grace = \"300ms\";\n"
		"    argv = [ \"" SCRIPTS "/hang.sh\", \"%s/stubborn.pid\",\n"
		"             \"ignore-term\" ]; },\n"
		"  { id = \"long\"; type = \"exec\"; timeout = \"30s\";\n"
		"    argv = [ \"/bin/sleep\", \"60\" ]; },\n"
		"  { id = \"big\"; type = \"exec\";\n"
		"    argv = [ \"" SCRIPTS "/bigout.sh\" ]; },\n"
		"  { id = \"missing\"; type = \"exec\";\n"
		"    argv = [ \"/nonexistent/program\" ]; },\n"
		"  { id = \"lock\"; type = \"http\"; method = \"PUT\";\n"
		"    url = \"http://127.0.0.1:%d/users/${user}/lock?src=${src_ip}\";\n"
		"    headers = [ \"X-Token: s3cret\", \"X-Incident: "
		"${incident_id}\" ];\n"
		"    body = { ip = \"${src_ip}\"; user = \"${user}\";\n"
		"             note = \"quote \\\" backslash \\\\ end\"; n = 3; "
		"};\n"
		"    timeout = \"10s\"; },\n"
		"  { id = \"http500\"; type = \"http\";\n"
		"    url = \"http://127.0.0.1:%d/status/500/${user}\"; },\n"
		"  { id = \"http-hang\"; type = \"http\"; timeout = \"500ms\";\n"
		"    url = \"http://127.0.0.1:%d/hang/${user}\"; }\n"
		");\n",
		limits != NULL ? limits : "", dir, dir, dir, dir, dir, port,
		port, port);
	d = th_actions(dir, text, &err);
	ck_assert_msg(d != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	free(text);
	return d;
}

#define RULE(name, ...)                                                      \
	static const char *const name##_actions[] = { __VA_ARGS__ };         \
	static const struct rule_info name = {                               \
		.id = #name,                                                 \
		.title = "a rule with actions",                              \
		.category = "probe",                                         \
		.severity = BW_SEV_HIGH,                                     \
		.actions = name##_actions,                                   \
		.n_actions = sizeof(name##_actions) / sizeof(char *),        \
	}

RULE(r_rec, "rec");
RULE(r_rec_twice, "rec", "rec");
RULE(r_rec_other, "rec");
RULE(r_fail, "fail");
RULE(r_hang, "hang");
RULE(r_stubborn, "stubborn");
RULE(r_long, "long");
RULE(r_big, "big");
RULE(r_missing, "missing");
RULE(r_lock, "lock");
RULE(r_500, "http500");
RULE(r_http_hang, "http-hang");

/* One test's world: a directory, revisions, the aggregator, the engine. */
struct world {
	char *dir;
	struct th_sink k;
	struct agg *a;
	struct contain *c;
	struct th_server srv;
};

static void world_start(struct world *w, bool server, const char *limits)
{
	struct contain_actions *d;

	memset(w, 0, sizeof(*w));
	w->dir = th_tmpdir();
	if (server)
		th_server_start(&w->srv, w->dir);
	w->a = th_agg(&w->k);
	d = actions(w->dir, server ? w->srv.port : 9, limits);
	w->c = contain_new(&d, w->a);
	ck_assert_ptr_null(d);
}

static void world_stop(struct world *w)
{
	contain_destroy(&w->c);
	ck_assert_ptr_null(w->c);
	agg_destroy(&w->a);
	th_sink_free(&w->k);
	th_server_stop(&w->srv);
	th_rmdir(w->dir);
}

/* Wait for every run; fails past 15 s. Returns the seconds since t0
 * (taken before the runs were started: a run's clock starts with it). */
static double wait_all_since(struct world *w, int64_t t0)
{
	ck_assert_int_eq(contain_wait(w->c, 15 * S), 0);
	ck_assert(!contain_busy(w->c));
	return (double)(bw_mono_us() - t0) / 1e6;
}

static double wait_all(struct world *w)
{
	return wait_all_since(w, bw_mono_us());
}

static char *path(const struct world *w, const char *name)
{
	return xasprintf("%s/%s", w->dir, name);
}

START_TEST(exec_runs_argv_verbatim)
{
	struct world w;
	const struct bw_step *st;
	const struct bw_incident *inc;
	char *argv_file, *got, *want, *env, *p1, *p2;
	const char *id;

	setenv("BW_T_ALLOWED", "yes", 1);
	setenv("BW_T_SECRET", "hidden", 1);
	world_start(&w, false, NULL);
	id = th_open(w.a, &w.k, &r_rec, "alice", 0, 9, "alice", NULL, 0);
	/* Revision 1 carries the step, running. */
	st = th_step(&w.k, id, "rec");
	ck_assert_ptr_nonnull(st);
	ck_assert_str_eq(st->status, "running");
	ck_assert_int_gt(st->started_us, 0);
	ck_assert_int_eq(st->finished_us, 0);
	ck_assert_ptr_nonnull(strstr(st->detail, "record-argv.sh"));
	ck_assert(contain_busy(w.c));

	wait_all(&w);
	/* The finished step went out at once, as revision 2, though no
	 * revision interval passed and nobody ticked. */
	ck_assert_uint_eq(w.k.n, 2);
	inc = th_last(&w.k, id);
	ck_assert_uint_eq(inc->revision, 2);
	ck_assert(!inc->closed);
	st = th_step(&w.k, id, "rec");
	ck_assert_str_eq(st->status, "ok");
	ck_assert_int_ge(st->finished_us, st->started_us);
	ck_assert_msg(strstr(st->detail, ": exit 0; output: recorded 7 "
					 "arguments") != NULL,
		      "%s", st->detail);

	/* Each argument as written, the placeholders filled, and nothing
	 * a shell would have done. */
	argv_file = path(&w, "argv");
	got = th_read(argv_file);
	ck_assert_ptr_nonnull(got);
	want = xasprintf("{\n203.0.113.9\n}\nx alice y\n; touch %s/pwned\n"
			 "$(touch %s/pwned2)\n%s\n",
			 w.dir, w.dir, id);
	ck_assert_str_eq(got, want);
	p1 = path(&w, "pwned");
	p2 = path(&w, "pwned2");
	ck_assert(!th_exists(p1));
	ck_assert(!th_exists(p2));
	/* Only the allow-listed environment. */
	env = xasprintf("%s.env", argv_file);
	free(got);
	got = th_read(env);
	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strstr(got, "BW_T_ALLOWED") != NULL, "%s", got);
	ck_assert_msg(strstr(got, "BW_T_SECRET") == NULL, "%s", got);
	ck_assert_msg(strstr(got, "HOME=") == NULL, "%s", got);
	free(env);
	free(got);
	free(want);
	free(p1);
	free(p2);
	free(argv_file);
	world_stop(&w);
}
END_TEST

/* A user that is not a plain name refuses the run: nothing is started. */
START_TEST(hostile_user_refused_nothing_runs)
{
	static const char *const users[] = { "alice; touch /tmp/x", "a b",
					     "-rf", "$(reboot)" };
	struct world w;
	char *argv_file;

	world_start(&w, false, NULL);
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		const struct bw_step *st;
		const char *id = th_open(w.a, &w.k, &r_rec, users[i], 0,
					 (int)i + 1, users[i], NULL, 0);

		st = th_step(&w.k, id, "rec");
		ck_assert_ptr_nonnull(st);
		ck_assert_str_eq(st->status, "refused");
		ck_assert_msg(strstr(st->detail, "${user}: ") == NULL ||
				      strstr(st->detail, "nothing run") != NULL,
			      "%s", st->detail);
		ck_assert_ptr_nonnull(strstr(st->detail, "${user}"));
		ck_assert_int_eq(st->finished_us, st->started_us);
		ck_assert(!contain_busy(w.c));
	}
	argv_file = path(&w, "argv");
	ck_assert(!th_exists(argv_file));
	free(argv_file);
	world_stop(&w);
}
END_TEST

START_TEST(exit_status_fails_the_step)
{
	struct world w;
	const struct bw_step *st;
	const char *id;

	world_start(&w, false, NULL);
	id = th_open(w.a, &w.k, &r_fail, "k", 0, 9, "alice", NULL, 0);
	wait_all(&w);
	st = th_step(&w.k, id, "fail");
	ck_assert_str_eq(st->status, "failed");
	ck_assert_msg(strstr(st->detail, "exit3.sh: exit 3; output: ") !=
			      NULL,
		      "%s", st->detail);
	/* stdout and stderr both. */
	ck_assert_ptr_nonnull(strstr(st->detail, "going to fail"));
	ck_assert_ptr_nonnull(strstr(st->detail, "no such account"));
	world_stop(&w);
}
END_TEST

/* Alive: the process exists and is not a zombie waiting for its parent. */
static bool alive(pid_t pid)
{
	char proc[64], *stat;
	const char *close_paren;
	bool yes;

	snprintf(proc, sizeof(proc), "/proc/%d/stat", (int)pid);
	stat = th_read(proc);
	if (stat == NULL)
		return false;
	close_paren = strrchr(stat, ')');
	yes = close_paren != NULL && close_paren[1] == ' ' &&
	      close_paren[2] != 'Z' && close_paren[2] != 'X';
	free(stat);
	return yes;
}

/* The sleep the script started, from its pid file. */
static pid_t child_pid(const struct world *w, const char *name)
{
	char *p = path(w, name), *text = th_read(p);
	int pid = 0;

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(sscanf(text, "%d", &pid), 1);
	free(text);
	free(p);
	return (pid_t)pid;
}

/* Gone within a second (a killed process may take a moment). */
static void assert_gone(pid_t pid)
{
	int64_t end = bw_mono_us() + S;

	while (alive(pid) && bw_mono_us() < end)
		usleep(10000);
	ck_assert_msg(!alive(pid), "process %d survived", (int)pid);
}

START_TEST(hanging_action_killed_at_timeout)
{
	struct world w;
	const struct bw_step *st;
	const char *id;
	int64_t t0;
	double took;

	world_start(&w, false, NULL);
	t0 = bw_mono_us();
	id = th_open(w.a, &w.k, &r_hang, "k", 0, 9, "alice", NULL, 0);
	took = wait_all_since(&w, t0);
	st = th_step(&w.k, id, "hang");
	ck_assert_str_eq(st->status, "timeout");
	ck_assert_msg(strstr(st->detail, "timeout after 0.3 s: killed by "
					 "SIGTERM; output: hanging") != NULL,
		      "%s", st->detail);
	ck_assert_msg(took >= 0.29 && took < 3.0, "took %.2f s", took);
	ck_assert_int_ge(st->finished_us - st->started_us, 290000);
	/* The whole group: the script's sleep too. */
	assert_gone(child_pid(&w, "hang.pid"));
	world_stop(&w);
}
END_TEST

START_TEST(action_ignoring_sigterm_gets_sigkill)
{
	struct world w;
	const struct bw_step *st;
	const char *id;
	int64_t t0;
	double took;

	world_start(&w, false, NULL);
	t0 = bw_mono_us();
	id = th_open(w.a, &w.k, &r_stubborn, "k", 0, 9, "alice", NULL, 0);
	took = wait_all_since(&w, t0);
	st = th_step(&w.k, id, "stubborn");
	ck_assert_str_eq(st->status, "timeout");
	ck_assert_msg(strstr(st->detail, "killed by SIGKILL (it outlived "
					 "SIGTERM)") != NULL,
		      "%s", st->detail);
	/* Timeout, then the grace period, then SIGKILL. */
	ck_assert_msg(took >= 0.59 && took < 3.0, "took %.2f s", took);
	assert_gone(child_pid(&w, "stubborn.pid"));
	world_stop(&w);
}
END_TEST

START_TEST(output_excerpt_bounded)
{
	struct world w;
	const struct bw_step *st;
	const char *id;

	world_start(&w, false, NULL);
	id = th_open(w.a, &w.k, &r_big, "k", 0, 9, "alice", NULL, 0);
	wait_all(&w);
	st = th_step(&w.k, id, "big");
	/* All of it was read (or the program would block and time out),
	 * the first KiB kept. */
	ck_assert_str_eq(st->status, "ok");
	ck_assert_ptr_nonnull(strstr(st->detail, "output: line 0 of output"));
	ck_assert_ptr_null(strstr(st->detail, "line 1999"));
	ck_assert_msg(strstr(st->detail, " more bytes not kept)") != NULL,
		      "%s", st->detail);
	ck_assert_uint_lt(strlen(st->detail), 2048);
	world_stop(&w);
}
END_TEST

START_TEST(program_that_cannot_start_fails_at_once)
{
	struct world w;
	const struct bw_step *st;
	const char *id;

	world_start(&w, false, NULL);
	id = th_open(w.a, &w.k, &r_missing, "k", 0, 9, "alice", NULL, 0);
	st = th_step(&w.k, id, "missing");
	ck_assert_str_eq(st->status, "failed");
	ck_assert_str_eq(st->detail, "cannot run /nonexistent/program: No "
				     "such file or directory");
	ck_assert_int_gt(st->finished_us, 0);
	ck_assert(!contain_busy(w.c));
	world_stop(&w);
}
END_TEST

/* The request the server recorded last. */
static json_t *last_request(const struct world *w)
{
	char *text = th_read(w->srv.record), *line, *last = NULL, *save;
	json_error_t jerr;
	json_t *j;

	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		last = line;
	ck_assert_ptr_nonnull(last);
	j = json_loads(last, 0, &jerr);
	ck_assert_msg(j != NULL, "%s", jerr.text);
	free(text);
	return j;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	ck_assert_msg(s != NULL, "no %s", k);
	return s;
}

START_TEST(http_request_as_configured)
{
	struct world w;
	const struct bw_step *st;
	json_t *req, *hdr, *body;
	json_error_t jerr;
	const char *id;
	char *want;

	world_start(&w, true, NULL);
	id = th_open(w.a, &w.k, &r_lock, "k", 0, 9, "al@ice", NULL, 0);
	st = th_step(&w.k, id, "lock");
	ck_assert_str_eq(st->status, "running");
	/* The query is not shown: it may carry a key. */
	want = xasprintf("PUT http://127.0.0.1:%d/users/al%%40ice/lock?...",
			 w.srv.port);
	ck_assert_str_eq(st->detail, want);
	free(want);
	wait_all(&w);
	st = th_step(&w.k, id, "lock");
	ck_assert_str_eq(st->status, "ok");
	ck_assert_msg(strstr(st->detail, ": HTTP 200; response: locked "
					 "/users/al%40ice/lock?src=203.0.113."
					 "9") != NULL,
		      "%s", st->detail);
	/* What the server saw. */
	req = last_request(&w);
	ck_assert_str_eq(jstr(req, "method"), "PUT");
	ck_assert_str_eq(jstr(req, "path"),
			 "/users/al%40ice/lock?src=203.0.113.9");
	hdr = json_object_get(req, "headers");
	ck_assert_str_eq(jstr(hdr, "x-token"), "s3cret");
	ck_assert_str_eq(jstr(hdr, "x-incident"), id);
	ck_assert_str_eq(jstr(hdr, "content-type"), "application/json");
	body = json_loads(jstr(req, "body"), 0, &jerr);
	ck_assert_msg(body != NULL, "%s", jerr.text);
	ck_assert_str_eq(jstr(body, "ip"), "203.0.113.9");
	ck_assert_str_eq(jstr(body, "user"), "al@ice");
	ck_assert_str_eq(jstr(body, "note"), "quote \" backslash \\ end");
	ck_assert_int_eq(json_integer_value(json_object_get(body, "n")), 3);
	ck_assert_uint_eq(json_object_size(body), 4);
	/* The secret header stays out of the record. */
	ck_assert_ptr_null(strstr(st->detail, "s3cret"));
	json_decref(body);
	json_decref(req);
	world_stop(&w);
}
END_TEST

START_TEST(http_unexpected_status_fails)
{
	struct world w;
	const struct bw_step *st;
	const char *id;

	world_start(&w, true, NULL);
	id = th_open(w.a, &w.k, &r_500, "k", 0, 9, "alice", NULL, 0);
	wait_all(&w);
	st = th_step(&w.k, id, "http500");
	ck_assert_str_eq(st->status, "failed");
	ck_assert_msg(strstr(st->detail, ": HTTP 500, expected 200 to 299; "
					 "response: status 500") != NULL,
		      "%s", st->detail);
	world_stop(&w);
}
END_TEST

START_TEST(http_server_that_never_answers_times_out)
{
	struct world w;
	const struct bw_step *st;
	json_t *req;
	const char *id;
	int64_t t0;
	double took;

	world_start(&w, true, NULL);
	t0 = bw_mono_us();
	id = th_open(w.a, &w.k, &r_http_hang, "k", 0, 9, "alice", NULL, 0);
	took = wait_all_since(&w, t0);
	st = th_step(&w.k, id, "http-hang");
	ck_assert_str_eq(st->status, "timeout");
	ck_assert_msg(strstr(st->detail, ": timeout after 0.5 s: ") != NULL,
		      "%s", st->detail);
	ck_assert_msg(took >= 0.49 && took < 3.0, "took %.2f s", took);
	/* It did reach the server. */
	req = last_request(&w);
	ck_assert_str_eq(jstr(req, "path"), "/hang/alice");
	json_decref(req);
	world_stop(&w);
}
END_TEST

START_TEST(http_connection_refused_fails)
{
	struct world w;
	const struct bw_step *st;
	const char *id;

	world_start(&w, false, NULL); /* port 9: nothing listens */
	id = th_open(w.a, &w.k, &r_500, "k", 0, 9, "alice", NULL, 0);
	wait_all(&w);
	st = th_step(&w.k, id, "http500");
	ck_assert_str_eq(st->status, "failed");
	ck_assert_msg(strstr(st->detail, "curl error 7: ") != NULL, "%s",
		      st->detail);
	world_stop(&w);
}
END_TEST

/* One incident runs an action once; another incident for the same target
 * is skipped while the first runs or after it succeeded; another target
 * runs. */
START_TEST(deduplication)
{
	struct world w;
	const struct bw_step *st;
	const struct bw_incident *inc;
	const char *id1, *id2, *id3;
	char *first;

	world_start(&w, false, NULL);
	id1 = th_open(w.a, &w.k, &r_rec_twice, "k", 0, 9, "alice", NULL, 0);
	first = xstrdup(id1);
	ck_assert_uint_eq(w.k.inc[0]->n_steps, 1);
	/* The same target from another rule, while the first runs. */
	id2 = th_open(w.a, &w.k, &r_rec_other, "k", 1, 9, "alice", NULL, 0);
	st = th_step(&w.k, id2, "rec");
	ck_assert_str_eq(st->status, "skipped");
	ck_assert_msg(strstr(st->detail, "is running for incident") != NULL &&
			      strstr(st->detail, first) != NULL,
		      "%s", st->detail);
	wait_all(&w);
	/* After it succeeded. */
	id2 = th_open(w.a, &w.k, &r_rec, "k", 2, 9, "alice", NULL, 0);
	st = th_step(&w.k, id2, "rec");
	ck_assert_str_eq(st->status, "skipped");
	ck_assert_ptr_nonnull(strstr(st->detail, "succeeded for incident"));
	/* Another address is another target. */
	id3 = th_open(w.a, &w.k, &r_rec, "k2", 3, 10, "alice", NULL, 0);
	st = th_step(&w.k, id3, "rec");
	ck_assert_str_eq(st->status, "running");
	wait_all(&w);
	st = th_step(&w.k, id3, "rec");
	ck_assert_str_eq(st->status, "ok");
	inc = th_last(&w.k, first);
	ck_assert_uint_eq(inc->n_steps, 1);
	ck_assert_str_eq(inc->steps[0].status, "ok");
	free(first);
	world_stop(&w);
}
END_TEST

/* A failed run does not hold back the next one for the same target. */
START_TEST(failure_does_not_deduplicate)
{
	struct world w;
	const struct bw_step *st;
	const char *id;

	world_start(&w, false, NULL);
	id = th_open(w.a, &w.k, &r_fail, "k", 0, 9, "alice", NULL, 0);
	wait_all(&w);
	ck_assert_str_eq(th_step(&w.k, id, "fail")->status, "failed");
	id = th_open(w.a, &w.k, &r_fail, "k2", 1, 9, "alice", NULL, 0);
	st = th_step(&w.k, id, "fail");
	ck_assert_str_eq(st->status, "running");
	wait_all(&w);
	world_stop(&w);
}
END_TEST

START_TEST(limits_queue_and_refuse)
{
	struct world w;
	const struct bw_step *st;
	const char *id1, *id2, *id3;
	char *keep1, *keep2;

	world_start(&w, false,
		    "containment = { max_running = 1; max_queued = 1; };");
	id1 = th_open(w.a, &w.k, &r_rec, "a", 0, 1, "alice", NULL, 0);
	keep1 = xstrdup(id1);
	ck_assert_str_eq(th_step(&w.k, id1, "rec")->status, "running");
	id2 = th_open(w.a, &w.k, &r_rec, "b", 0, 2, "alice", NULL, 0);
	keep2 = xstrdup(id2);
	st = th_step(&w.k, id2, "rec");
	ck_assert_str_eq(st->status, "queued");
	ck_assert_int_eq(st->started_us, 0);
	id3 = th_open(w.a, &w.k, &r_rec, "c", 0, 3, "alice", NULL, 0);
	st = th_step(&w.k, id3, "rec");
	ck_assert_str_eq(st->status, "refused");
	ck_assert_msg(strstr(st->detail, "max_queued") != NULL, "%s",
		      st->detail);
	wait_all(&w);
	ck_assert_str_eq(th_step(&w.k, keep1, "rec")->status, "ok");
	st = th_step(&w.k, keep2, "rec");
	ck_assert_str_eq(st->status, "ok");
	ck_assert_int_gt(st->started_us, 0);
	ck_assert_int_ge(st->finished_us, st->started_us);
	free(keep1);
	free(keep2);
	world_stop(&w);
}
END_TEST

/* An incident that closes while its step runs keeps its last revision
 * until the step ends; that revision carries the outcome. */
START_TEST(closing_waits_for_steps)
{
	struct world w;
	const struct bw_incident *inc;
	struct agg_stats as;
	char *id;
	size_t closed = 0;

	world_start(&w, false, NULL);
	id = xstrdup(
		th_open(w.a, &w.k, &r_hang, "k", 0, 9, "alice", NULL, 0));
	agg_flush(w.a);
	ck_assert_uint_eq(w.k.n, 1); /* no last revision yet */
	agg_get_stats(w.a, &as);
	ck_assert_uint_eq(as.closed, 0);
	ck_assert_uint_eq(as.active, 0); /* out of the table */
	/* A new match for the same key opens a new incident. */
	th_open(w.a, &w.k, &r_hang, "k", 5, 9, "alice", NULL, 0);
	wait_all(&w);
	inc = th_last(&w.k, id);
	ck_assert(inc->closed);
	ck_assert_str_eq(inc->steps[0].status, "timeout");
	for (size_t i = 0; i < w.k.n; i++)
		closed += strcmp(w.k.inc[i]->id, id) == 0 && w.k.inc[i]->closed;
	ck_assert_uint_eq(closed, 1);
	free(id);
	world_stop(&w);
}
END_TEST

/* Stopping the engine cancels what runs and what waits; every incident
 * still gets its last revision. */
START_TEST(destroy_cancels_runs)
{
	struct world w;
	const struct bw_incident *inc;
	char *id1, *id2;
	int64_t t;

	world_start(&w, false, "containment = { max_running = 1; };");
	id1 = xstrdup(th_open(w.a, &w.k, &r_long, "a", 0, 1, "x", NULL, 0));
	id2 = xstrdup(th_open(w.a, &w.k, &r_long, "b", 0, 2, "y", NULL, 0));
	ck_assert_str_eq(th_step(&w.k, id2, "long")->status, "queued");
	agg_flush(w.a);
	t = bw_mono_us();
	contain_destroy(&w.c);
	ck_assert_int_lt(bw_mono_us() - t, 3 * S);
	inc = th_last(&w.k, id1);
	ck_assert(inc->closed);
	ck_assert_str_eq(inc->steps[0].status, "cancelled");
	ck_assert_msg(strstr(inc->steps[0].detail,
			     "the agent stopped: killed (killed by SIGKILL)") !=
			      NULL,
		      "%s", inc->steps[0].detail);
	inc = th_last(&w.k, id2);
	ck_assert(inc->closed);
	ck_assert_str_eq(inc->steps[0].status, "cancelled");
	ck_assert_str_eq(inc->steps[0].detail,
			 "the agent stopped before the action started");
	free(id1);
	free(id2);
	world_stop(&w);
}
END_TEST

/* Without the engine (a replay without --contain), a rule's actions do
 * nothing. */
START_TEST(no_engine_no_steps)
{
	struct th_sink k = { 0 };
	struct agg *a = th_agg(&k);
	const char *id = th_open(a, &k, &r_rec, "k", 0, 9, "alice", NULL, 0);

	ck_assert_uint_eq(th_last(&k, id)->n_steps, 0);
	agg_flush(a);
	ck_assert(th_last(&k, id)->closed);
	agg_destroy(&a);
	th_sink_free(&k);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("contain_run");
	TCase *tc = tcase_create("exec");

	tcase_add_test(tc, exec_runs_argv_verbatim);
	tcase_add_test(tc, hostile_user_refused_nothing_runs);
	tcase_add_test(tc, exit_status_fails_the_step);
	tcase_add_test(tc, hanging_action_killed_at_timeout);
	tcase_add_test(tc, action_ignoring_sigterm_gets_sigkill);
	tcase_add_test(tc, output_excerpt_bounded);
	tcase_add_test(tc, program_that_cannot_start_fails_at_once);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_add_test(tc, http_request_as_configured);
	tcase_add_test(tc, http_unexpected_status_fails);
	tcase_add_test(tc, http_server_that_never_answers_times_out);
	tcase_add_test(tc, http_connection_refused_fails);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("engine");
	tcase_add_test(tc, deduplication);
	tcase_add_test(tc, failure_does_not_deduplicate);
	tcase_add_test(tc, limits_queue_and_refuse);
	tcase_add_test(tc, closing_waits_for_steps);
	tcase_add_test(tc, destroy_cancels_runs);
	tcase_add_test(tc, no_engine_no_steps);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
