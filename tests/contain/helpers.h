/*
 * helpers.h - what the containment tests share: temporary directories,
 * configs written to files (so errors carry file:line), an aggregator whose
 * revisions are kept, incidents opened by hand, and the test HTTP server
 * (http_server.py, a real process on 127.0.0.1).
 */
#ifndef BW_TEST_CONTAIN_HELPERS_H
#define BW_TEST_CONTAIN_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../agent/aggregate.h"
#include "../../agent/contain.h"
#include "error.h"
#include "incident.h"

#define S INT64_C(1000000)
#define T0 (INT64_C(1795421700) * S)

#define SCRIPTS BW_SOURCE_DIR "/tests/contain"

/* A new directory under /tmp; th_rmdir removes it and what it holds. */
char *th_tmpdir(void);
void th_rmdir(char *dir);

/* Write text to dir/name; returns the path (caller frees). */
char *th_write(const char *dir, const char *name, const char *text);
/* The whole file, or NULL when it does not exist (caller frees). */
char *th_read(const char *path);
bool th_exists(const char *path);

/* Write text as dir/agent.conf and load it (agentconf_load); returns its
 * actions (caller owns) or NULL with err. */
struct contain_actions *th_actions(const char *dir, const char *text,
				   struct bw_error *err);

/* Every revision the aggregator emits, deep copies, checked to survive a
 * JSON round trip. */
struct th_sink {
	struct bw_incident **inc;
	size_t n, cap;
};
void th_sink_free(struct th_sink *k);
/* The last revision of incident id, or NULL. */
const struct bw_incident *th_last(const struct th_sink *k, const char *id);

/* An aggregator (quiet period 10 min, revision interval 10 s) feeding k. */
struct agg *th_agg(struct th_sink *k);

/* Open an incident of rule r for key with a first match at T0 + t_s of an
 * nginx event from 203.0.113.<ip> by user (may be NULL), naming customers.
 * Returns the id of the incident opened (the last revision emitted). */
const char *th_open(struct agg *a, struct th_sink *k,
		    const struct rule_info *r, const char *key, int t_s,
		    int ip, const char *user, const char *const *customers,
		    size_t n_customers);

/* The step of the incident's last revision for action, or NULL. */
const struct bw_step *th_step(const struct th_sink *k, const char *id,
			      const char *action);

/* The test HTTP server. */
struct th_server {
	pid_t pid;
	int stdin_fd; /* closing it stops the server */
	int port;
	char *record; /* its JSON lines of requests */
};
/* Start it (waits at most 20 s for its port). Fails the test on error. */
void th_server_start(struct th_server *s, const char *dir);
/* Stop it by its PID and reap it. */
void th_server_stop(struct th_server *s);

#endif
