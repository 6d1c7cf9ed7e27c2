/*
 * contain_run.h - one containment run and the two ways of running it
 * (internal to contain*.c).
 *
 * contain.c owns runs (queue, limits, steps); contain_exec.c starts a
 * program and watches it, contain_http.c makes a request through one
 * libcurl multi handle. Both are driven from the agent's poll loop: they
 * hand out the descriptors to poll and the next deadline, and on
 * processing set run->done with run->status and run->detail.
 */
#ifndef BW_CONTAIN_RUN_H
#define BW_CONTAIN_RUN_H

#include <curl/curl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "contain_action.h"

/* Output (exec) or response body (http) kept for the step's detail. */
#define CONTAIN_EXCERPT 1024
#define CONTAIN_DETAIL 2048

enum run_exec_stage { EXEC_RUNNING, EXEC_TERM_SENT, EXEC_KILL_SENT };

struct contain_run {
	struct contain_run *next; /* in the engine's queue or running list */
	enum contain_type type;
	char *action; /* the action id */
	int64_t timeout_us, grace_us, dedup_us;
	long expect_min, expect_max;
	char *method, *proxy;
	struct contain_request req;

	/* The incident step this run fills (see agg_step_update). */
	char *rule, *key, *incident_id;
	size_t step;

	int64_t started_us;   /* wall clock, for the step */
	int64_t started_mono; /* monotonic, for the bounds */
	int64_t deadline_mono;

	/* Outcome, once done. status is a constant string. */
	bool done;
	const char *status; /* "ok", "failed", "timeout" */
	char detail[CONTAIN_DETAIL];

	/* The first CONTAIN_EXCERPT bytes of output; what did not fit is
	 * counted. */
	char out[CONTAIN_EXCERPT];
	size_t out_len;
	uint64_t out_dropped;

	/* exec */
	pid_t pid;
	int pidfd;  /* -1 when pidfd_open is not available */
	int out_fd; /* read end of the stdout/stderr pipe, -1 once closed */
	enum run_exec_stage stage;
	int64_t recheck_mono; /* without a pidfd: when to look again */

	/* http */
	CURL *easy;
	struct curl_slist *hdrs;
	char errbuf[CURL_ERROR_SIZE];
};

/* Keep len bytes of output in r->out, counting what does not fit. */
void contain_run_output(struct contain_run *r, const char *p, size_t len);

/* "; output: ..." (masked, printable) appended to r->detail, or nothing
 * when there was none. */
void contain_run_excerpt(struct contain_run *r, const char *label);

/*
 * exec (contain_exec.c).
 */

/* Start r's program: its own process group, an empty signal mask and
 * default dispositions, stdin /dev/null, stdout and stderr to a pipe, cwd
 * "/", only the allow-listed environment, no other descriptor. Returns -1
 * with why when it cannot be started (nothing runs then). */
int contain_exec_start(struct contain_run *r, int64_t now_mono, char *why,
		       size_t why_size) BW_WUR;
/* Descriptors to poll (at most 2). */
size_t contain_exec_pollfds(const struct contain_run *r, struct pollfd *pfd);
/* When r needs attention without a descriptor being ready. */
int64_t contain_exec_deadline(const struct contain_run *r);
/* Read output, reap, enforce the timeout (SIGTERM to the group, SIGKILL
 * grace_us later). Sets r->done when the program has been reaped. */
void contain_exec_process(struct contain_run *r, int64_t now_mono);
/* Kill the group (SIGKILL) and reap at once, for a stop. Sets r->done. */
void contain_exec_kill(struct contain_run *r);

/*
 * http (contain_http.c).
 */

struct contain_http;

/* Caller owns the result. */
struct contain_http *contain_http_new(void);
/* Every request still going is abandoned (its run is left as it was). */
void contain_http_destroy(struct contain_http **h);
/* Start r's request. Returns -1 with why when it cannot be. */
int contain_http_start(struct contain_http *h, struct contain_run *r,
		       char *why, size_t why_size) BW_WUR;
/* Sockets to poll; contain_http_pollfds writes at most max of them. */
size_t contain_http_npollfds(const struct contain_http *h);
size_t contain_http_pollfds(const struct contain_http *h, struct pollfd *pfd,
			    size_t max);
/* libcurl's next timer, INT64_MAX when none. */
int64_t contain_http_deadline(const struct contain_http *h);
/* Act on ready sockets among pfd[0..n) and on the timer; sets done on the
 * runs whose requests ended. */
void contain_http_process(struct contain_http *h, const struct pollfd *pfd,
			  size_t n, int64_t now_mono);
/* Abandon r's request (for a stop); r->done is not set. */
void contain_http_cancel(struct contain_http *h, struct contain_run *r);

#endif
