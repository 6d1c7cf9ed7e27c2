/*
 * helpers.c - what the containment tests share (helpers.h).
 */
#include "helpers.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../agent/config.h"
#include "bwtime.h"
#include "event.h"
#include "xmalloc.h"

char *th_tmpdir(void)
{
	char *dir = xstrdup("/tmp/bw-contain-test.XXXXXX");

	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
	return dir;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void th_rmdir(char *dir)
{
	if (dir == NULL)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

char *th_write(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

char *th_read(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (f == NULL)
		return NULL;
	ck_assert_int_ge(getdelim(&buf, &len, '\0', f), 0);
	fclose(f);
	return buf;
}

bool th_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

struct contain_actions *th_actions(const char *dir, const char *text,
				   struct bw_error *err)
{
	char *path = th_write(dir, "agent.conf", text);
	struct agentconf *conf = agentconf_load(path, err);
	struct contain_actions *d = NULL;

	free(path);
	if (conf == NULL)
		return NULL;
	d = conf->actions;
	conf->actions = NULL;
	agentconf_destroy(&conf);
	return d;
}

static void collect(const struct bw_incident *inc, void *arg)
{
	struct th_sink *k = arg;
	struct bw_incident *back;
	struct bw_error err;
	char *json = bw_incident_to_json(inc);

	/* Every revision must be a valid incident. */
	back = bw_incident_from_json(json, strlen(json), &err);
	ck_assert_msg(back != NULL, "%s: %s", err.msg, json);
	bw_incident_destroy(&back);
	free(json);
	if (k->n == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 16;
		k->inc = xreallocarray(k->inc, k->cap, sizeof(*k->inc));
	}
	k->inc[k->n++] = bw_incident_dup(inc);
}

void th_sink_free(struct th_sink *k)
{
	for (size_t i = 0; i < k->n; i++)
		bw_incident_destroy(&k->inc[i]);
	free(k->inc);
	memset(k, 0, sizeof(*k));
}

const struct bw_incident *th_last(const struct th_sink *k, const char *id)
{
	for (size_t i = k->n; i > 0; i--)
		if (strcmp(k->inc[i - 1]->id, id) == 0)
			return k->inc[i - 1];
	return NULL;
}

struct agg *th_agg(struct th_sink *k)
{
	struct agg_config cfg = {
		.host = "test-host",
		.quiet_period_us = 600 * S,
		.revision_interval_us = 10 * S,
	};

	return agg_new(&cfg, collect, k);
}

const char *th_open(struct agg *a, struct th_sink *k,
		    const struct rule_info *r, const char *key, int t_s,
		    int ip, const char *user, const char *const *customers,
		    size_t n_customers)
{
	static const char raw[] = "GET /admin HTTP/1.1";
	struct bw_event ev;
	struct rules_match m = {
		.rule = r,
		.key = key,
		.ev = &ev,
		.first = true,
		.customers = customers,
		.n_customers = n_customers,
		.event_count = 1,
	};
	size_t before = k->n;

	bw_event_clear(&ev);
	ev.ts_us = T0 + t_s * S;
	ev.kind = BW_KIND_HTTP;
	ev.source = BW_SRC_NGINX;
	ev.src_ip.family = 4;
	ev.src_ip.bytes[0] = 203;
	ev.src_ip.bytes[1] = 0;
	ev.src_ip.bytes[2] = 113;
	ev.src_ip.bytes[3] = (uint8_t)ip;
	if (user != NULL) {
		ev.principal.p = user;
		ev.principal.len = (uint32_t)strlen(user);
	}
	ev.ref.file = "/var/log/nginx/access.log";
	ev.ref.number = 1;
	ev.raw.p = raw;
	ev.raw.len = (uint32_t)strlen(raw);
	agg_match(a, &m);
	ck_assert_uint_eq(k->n, before + 1);
	ck_assert_uint_eq(k->inc[k->n - 1]->revision, 1);
	return k->inc[k->n - 1]->id;
}

const struct bw_step *th_step(const struct th_sink *k, const char *id,
			      const char *action)
{
	const struct bw_incident *inc = th_last(k, id);

	if (inc == NULL)
		return NULL;
	for (size_t i = 0; i < inc->n_steps; i++)
		if (strcmp(inc->steps[i].action, action) == 0)
			return &inc->steps[i];
	return NULL;
}

void th_server_start(struct th_server *s, const char *dir)
{
	int in[2], out[2];
	char line[64];
	size_t len = 0;
	int64_t end = bw_mono_us() + 20 * S;

	memset(s, 0, sizeof(*s));
	s->record = xasprintf("%s/requests.jsonl", dir);
	ck_assert_int_eq(pipe2(in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(out, O_CLOEXEC), 0);
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl("/usr/bin/python3", "python3", SCRIPTS "/http_server.py",
		      s->record, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->stdin_fd = in[1];
	/* "PORT n\n", bounded in time. */
	while (len < sizeof(line) - 1 && memchr(line, '\n', len) == NULL) {
		struct pollfd p = { .fd = out[0], .events = POLLIN };
		int64_t left = end - bw_mono_us();
		ssize_t n;

		ck_assert_msg(left > 0, "the HTTP server did not start");
		ck_assert_int_ge(poll(&p, 1, (int)(left / 1000) + 1), 0);
		if (!(p.revents & (POLLIN | POLLHUP)))
			continue;
		n = read(out[0], line + len, sizeof(line) - 1 - len);
		ck_assert_msg(n > 0, "the HTTP server ended before its port");
		len += (size_t)n;
	}
	line[len] = '\0';
	close(out[0]);
	ck_assert_int_eq(sscanf(line, "PORT %d", &s->port), 1);
	ck_assert_int_gt(s->port, 0);
}

void th_server_stop(struct th_server *s)
{
	int st;

	if (s->pid > 0) {
		close(s->stdin_fd);
		kill(s->pid, SIGTERM);
		while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	free(s->record);
	memset(s, 0, sizeof(*s));
}
