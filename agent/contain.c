/*
 * contain.c - the containment engine: runs, their limits and their steps
 * (see contain.h).
 *
 * Runs live on two singly linked lists: running (at most max_running) and
 * queued (FIFO, at most max_queued). A run knows the step it fills by
 * (rule, key, incident id, index) and reports to the aggregator through
 * agg_step_update(); it never holds a pointer into the aggregator.
 *
 * De-duplication keeps, per key (contain_request.dedup), the incident that
 * ran it and until when it holds: forever while it runs, dedup_us after it
 * succeeded; a failed run drops its entry. The table is a plain array with
 * a bound (MAX_DEDUP): runs start when incidents open, which is rare next
 * to events, and a full table first forgets what has expired, then the
 * oldest entry.
 */
#include "contain.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "../common/mask.h"
#include "../common/xmalloc.h"
#include "contain_run.h"

#define MAX_DEDUP 4096
/* What a step's detail says of the command or request, at most. */
#define MAX_DESCRIBE 512

struct dedup {
	char *key;
	char *incident_id;
	int64_t started_us; /* wall clock, for the detail */
	int64_t until_mono; /* INT64_MAX while the run goes */
};

struct contain {
	struct contain_actions *defs;
	struct agg *agg;
	struct contain_http *http; /* made at the first HTTP run */

	struct contain_run *running;
	size_t n_running;
	struct contain_run *queue, **queue_tail;
	size_t n_queued;

	struct dedup *dedup;
	size_t n_dedup;

	struct contain_stats stats;
};

/*
 * Output excerpts (shared with the runners).
 */

void contain_run_output(struct contain_run *r, const char *p, size_t len)
{
	size_t room = sizeof(r->out) - r->out_len;
	size_t take = len < room ? len : room;

	memcpy(r->out + r->out_len, p, take);
	r->out_len += take;
	r->out_dropped += len - take;
}

void contain_run_excerpt(struct contain_run *r, const char *label)
{
	char masked[CONTAIN_EXCERPT + 64];
	size_t used = strlen(r->detail), len = r->out_len;

	/* The line end of the last line says nothing. */
	while (len > 0 && (r->out[len - 1] == '\n' || r->out[len - 1] == '\r'))
		len--;
	if (len == 0 && r->out_dropped == 0)
		return;
	/* Secrets and personal data masked, control bytes shown as \xNN. */
	bw_mask_excerpt(r->out, len, masked, sizeof(masked));
	snprintf(r->detail + used, sizeof(r->detail) - used, "; %s: %s", label,
		 masked);
	if (r->out_dropped > 0) {
		used = strlen(r->detail);
		snprintf(r->detail + used, sizeof(r->detail) - used,
			 " (%llu more bytes not kept)",
			 (unsigned long long)r->out_dropped);
	}
}

/*
 * Runs.
 */

static void run_free(struct contain_run *r)
{
	if (r == NULL)
		return;
	contain_request_free(&r->req);
	free(r->action);
	free(r->method);
	free(r->proxy);
	free(r->rule);
	free(r->key);
	free(r->incident_id);
	free(r);
}

/* A run of a (rendered into req, taken) for step `step` of inc. */
static struct contain_run *run_new(const struct contain_action *a,
				   struct contain_request *req,
				   const struct bw_incident *inc,
				   const struct rules_match *m, size_t step)
{
	struct contain_run *r = xcalloc(1, sizeof(*r));

	r->type = a->type;
	r->action = xstrdup(a->id);
	r->timeout_us = a->timeout_us;
	r->grace_us = a->grace_us;
	r->dedup_us = a->dedup_us;
	r->expect_min = a->expect_min;
	r->expect_max = a->expect_max;
	r->method = a->method != NULL ? xstrdup(a->method) : NULL;
	r->proxy = a->proxy != NULL ? xstrdup(a->proxy) : NULL;
	r->req = *req;
	memset(req, 0, sizeof(*req));
	r->rule = xstrdup(m->rule->id);
	r->key = xstrdup(m->key != NULL ? m->key : "");
	r->incident_id = xstrdup(inc->id);
	r->step = step;
	r->pid = 0;
	r->pidfd = -1;
	r->out_fd = -1;
	return r;
}

/* What the run does, for a person: the argument vector, or the method and
 * the URL without its query (which may carry a key). */
static void describe(const struct contain_run *r, char *buf, size_t size)
{
	size_t used = 0;
	int w;

	buf[0] = '\0';
	if (r->type == CONTAIN_HTTP) {
		size_t n = strcspn(r->req.url, "?#");

		snprintf(buf, size, "%s %.*s%s", r->method, (int)n, r->req.url,
			 r->req.url[n] != '\0' ? "?..." : "");
		return;
	}
	for (size_t i = 0; i < r->req.argc; i++) {
		const char *a = r->req.argv[i];
		bool quote = a[0] == '\0' || strpbrk(a, " \t'\"") != NULL;

		w = snprintf(buf + used, size - used, "%s%s%s%s",
			     i > 0 ? " " : "", quote ? "'" : "", a,
			     quote ? "'" : "");
		if (w < 0 || (size_t)w >= size - used) {
			if (size > 4)
				strcpy(buf + size - 4, "...");
			return;
		}
		used += (size_t)w;
	}
}

static struct agg_step_ref run_ref(const struct contain_run *r)
{
	return (struct agg_step_ref){ .rule = r->rule,
				      .key = r->key,
				      .incident_id = r->incident_id,
				      .step = r->step };
}

/* Record a step's change; the aggregator forgot no incident with a pending
 * step, so a failure here is a bug of ours. */
static void update_step(struct contain *c, const struct contain_run *r,
			int64_t started_us, int64_t finished_us,
			const char *status, const char *detail, bool final)
{
	struct agg_step_ref ref = run_ref(r);

	int rc = agg_step_update(c->agg, &ref, started_us, finished_us,
				 status, detail, final);

	assert(rc == 0);
	(void)rc;
}

/*
 * De-duplication.
 */

static void dedup_remove_at(struct contain *c, size_t i)
{
	free(c->dedup[i].key);
	free(c->dedup[i].incident_id);
	c->dedup[i] = c->dedup[--c->n_dedup];
}

static struct dedup *dedup_find(struct contain *c, const char *key,
				int64_t now_mono)
{
	for (size_t i = 0; i < c->n_dedup; i++) {
		if (c->dedup[i].until_mono <= now_mono) {
			dedup_remove_at(c, i--);
			continue;
		}
		if (strcmp(c->dedup[i].key, key) == 0)
			return &c->dedup[i];
	}
	return NULL;
}

static void dedup_add(struct contain *c, const struct contain_run *r,
		      int64_t now_us, int64_t now_mono)
{
	struct dedup *d;

	if (r->dedup_us <= 0)
		return;
	if (c->n_dedup == MAX_DEDUP) {
		size_t oldest = 0;

		for (size_t i = 0; i < c->n_dedup; i++) {
			if (c->dedup[i].until_mono <= now_mono) {
				dedup_remove_at(c, i--);
				continue;
			}
			if (c->dedup[i].started_us <
			    c->dedup[oldest].started_us)
				oldest = i;
		}
		if (c->n_dedup == MAX_DEDUP)
			dedup_remove_at(c, oldest);
	}
	if (c->dedup == NULL)
		c->dedup = xcalloc(MAX_DEDUP, sizeof(*c->dedup));
	d = &c->dedup[c->n_dedup++];
	d->key = xstrdup(r->req.dedup);
	d->incident_id = xstrdup(r->incident_id);
	d->started_us = now_us;
	d->until_mono = INT64_MAX;
}

/* The run ended with status: hold its key dedup_us more, or let go. */
static void dedup_done(struct contain *c, const struct contain_run *r,
		       bool ok, int64_t now_mono)
{
	for (size_t i = 0; i < c->n_dedup; i++) {
		if (strcmp(c->dedup[i].key, r->req.dedup) != 0 ||
		    strcmp(c->dedup[i].incident_id, r->incident_id) != 0)
			continue;
		if (ok)
			c->dedup[i].until_mono = now_mono + r->dedup_us;
		else
			dedup_remove_at(c, i);
		return;
	}
}

/*
 * Starting and finishing.
 */

/* Start r now. Returns -1 with why when it cannot be started. */
static int run_start(struct contain *c, struct contain_run *r,
		     int64_t now_mono, char *why, size_t why_size)
{
	r->started_us = bw_now_us();
	r->started_mono = now_mono;
	if (r->type == CONTAIN_EXEC)
		return contain_exec_start(r, now_mono, why, why_size);
	if (c->http == NULL)
		c->http = contain_http_new();
	return contain_http_start(c->http, r, why, why_size);
}

static void push_running(struct contain *c, struct contain_run *r)
{
	r->next = c->running;
	c->running = r;
	c->n_running++;
	c->stats.started++;
}

/* Record r's outcome (r->status, r->detail) on its step; frees r. */
static void run_finish(struct contain *c, struct contain_run *r)
{
	char what[MAX_DESCRIBE], detail[MAX_DESCRIBE + CONTAIN_DETAIL + 8];
	int64_t mono = bw_mono_us();

	describe(r, what, sizeof(what));
	snprintf(detail, sizeof(detail), "%s: %s", what, r->detail);
	if (strcmp(r->status, "ok") == 0)
		c->stats.ok++;
	else if (strcmp(r->status, "timeout") == 0)
		c->stats.timeout++;
	else if (strcmp(r->status, "cancelled") == 0)
		c->stats.cancelled++;
	else
		c->stats.failed++;
	dedup_done(c, r, strcmp(r->status, "ok") == 0, mono);
	update_step(c, r, r->started_us, bw_now_us(), r->status, detail, true);
	run_free(r);
}

/* Start queued runs while there is room. */
static void start_queued(struct contain *c)
{
	char why[CONTAIN_DETAIL], what[MAX_DESCRIBE];
	struct contain_run *r;

	while (c->queue != NULL && c->n_running < c->defs->max_running) {
		r = c->queue;
		c->queue = r->next;
		if (c->queue == NULL)
			c->queue_tail = &c->queue;
		c->n_queued--;
		if (run_start(c, r, bw_mono_us(), why, sizeof(why)) < 0) {
			r->status = "failed";
			snprintf(r->detail, sizeof(r->detail), "%s", why);
			run_finish(c, r);
			continue;
		}
		push_running(c, r);
		describe(r, what, sizeof(what));
		update_step(c, r, r->started_us, 0, "running", what, false);
	}
}

/* One action of a rule for the incident that opens: a step, final or
 * pending. Returns 1 when pending. */
static size_t start_one(struct contain *c, struct bw_incident *inc,
			const struct rules_match *m, const char *id,
			const struct contain_fields *f)
{
	const struct contain_action *a = contain_actions_find(c->defs, id);
	struct contain_request req;
	struct contain_run *r;
	struct dedup *d;
	char why[CONTAIN_DETAIL], what[MAX_DESCRIBE], t[40];
	int64_t now = bw_now_us(), mono = bw_mono_us();
	size_t step = inc->n_steps;

	if (a == NULL) {
		c->stats.refused++;
		bw_incident_add_step(inc, id, now, now, "refused",
				     "the action is not defined in the agent "
				     "config");
		return 0;
	}
	if (contain_action_render(a, f, &req, why, sizeof(why)) < 0) {
		c->stats.refused++;
		bw_incident_add_step(inc, id, now, now, "refused", why);
		return 0;
	}
	if (a->dedup_us > 0 && (d = dedup_find(c, req.dedup, mono)) != NULL) {
		c->stats.skipped++;
		snprintf(why, sizeof(why),
			 "the same action for the same target %s for "
			 "incident %s (started %s); not run again",
			 d->until_mono == INT64_MAX ? "is running"
						    : "succeeded",
			 d->incident_id,
			 bw_time_format(d->started_us, t, sizeof(t)));
		bw_incident_add_step(inc, id, now, now, "skipped", why);
		contain_request_free(&req);
		return 0;
	}
	r = run_new(a, &req, inc, m, step);
	if (c->n_running < c->defs->max_running) {
		if (run_start(c, r, mono, why, sizeof(why)) < 0) {
			c->stats.failed++;
			bw_incident_add_step(inc, id, r->started_us,
					     bw_now_us(), "failed", why);
			run_free(r);
			return 0;
		}
		push_running(c, r);
		dedup_add(c, r, now, mono);
		describe(r, what, sizeof(what));
		bw_incident_add_step(inc, id, r->started_us, 0, "running",
				     what);
		return 1;
	}
	if (c->n_queued < c->defs->max_queued) {
		*c->queue_tail = r;
		c->queue_tail = &r->next;
		c->n_queued++;
		dedup_add(c, r, now, mono);
		snprintf(why, sizeof(why),
			 "waiting for a free slot (%zu runs at once)",
			 c->defs->max_running);
		bw_incident_add_step(inc, id, 0, 0, "queued", why);
		return 1;
	}
	c->stats.refused++;
	snprintf(why, sizeof(why),
		 "not run: %zu runs going and %zu waiting already "
		 "(containment max_queued)",
		 c->n_running, c->n_queued);
	bw_incident_add_step(inc, id, now, now, "refused", why);
	run_free(r);
	return 0;
}

/* The aggregator's hook: an incident opens from a rule with actions. */
static size_t on_open(struct bw_incident *inc, const struct rules_match *m,
		      void *arg)
{
	struct contain *c = arg;
	struct contain_fields f;
	size_t pending = 0;

	contain_fields_from_incident(&f, inc, m->key);
	for (size_t i = 0; i < m->rule->n_actions; i++) {
		const char *id = m->rule->actions[i];
		bool seen = false;

		/* An incident runs an action once. */
		for (size_t k = 0; k < i && !seen; k++)
			seen = strcmp(m->rule->actions[k], id) == 0;
		if (!seen)
			pending += start_one(c, inc, m, id, &f);
	}
	return pending;
}

/*
 * The engine.
 */

struct contain *contain_new(struct contain_actions **defs, struct agg *agg)
{
	struct contain *c = xcalloc(1, sizeof(*c));

	curl_global_init(CURL_GLOBAL_DEFAULT);
	c->defs = *defs;
	*defs = NULL;
	if (c->defs == NULL) {
		struct bw_error err;

		/* No definitions: every default, no action. */
		c->defs = contain_actions_load(NULL, NULL, &err);
		if (c->defs == NULL)
			abort();
	}
	c->agg = agg;
	c->queue_tail = &c->queue;
	agg_set_contain(agg, on_open, c);
	return c;
}

void contain_destroy(struct contain **cp)
{
	struct contain *c = *cp;
	struct contain_run *r;

	if (c == NULL)
		return;
	contain_cancel_queued(c, "the agent stopped before the action "
				 "started");
	while ((r = c->running) != NULL) {
		char was[CONTAIN_DETAIL];

		c->running = r->next;
		c->n_running--;
		/* One that ended but is not recorded yet stays as it ended. */
		if (!r->done && r->type == CONTAIN_EXEC) {
			contain_exec_kill(r);
			snprintf(was, sizeof(was), "%s", r->detail);
			snprintf(r->detail, sizeof(r->detail),
				 "the agent stopped: killed (%.1900s)", was);
			r->status = "cancelled";
		} else if (!r->done) {
			contain_http_cancel(c->http, r);
			snprintf(r->detail, sizeof(r->detail),
				 "the agent stopped before the response");
			r->status = "cancelled";
		}
		run_finish(c, r);
	}
	agg_set_contain(c->agg, NULL, NULL);
	while (c->n_dedup > 0)
		dedup_remove_at(c, 0);
	free(c->dedup);
	contain_http_destroy(&c->http);
	contain_actions_destroy(&c->defs);
	free(c);
	curl_global_cleanup();
	*cp = NULL;
}

void contain_set_actions(struct contain *c, struct contain_actions **defs)
{
	if (*defs == NULL)
		return;
	contain_actions_destroy(&c->defs);
	c->defs = *defs;
	*defs = NULL;
	start_queued(c); /* max_running may have grown */
}

size_t contain_npollfds(const struct contain *c)
{
	return 2 * c->n_running +
	       (c->http != NULL ? contain_http_npollfds(c->http) : 0);
}

size_t contain_pollfds(const struct contain *c, struct pollfd *pfd,
		       size_t max)
{
	struct pollfd two[2];
	size_t n = 0;

	for (const struct contain_run *r = c->running; r != NULL; r = r->next) {
		size_t k;

		if (r->type != CONTAIN_EXEC)
			continue;
		k = contain_exec_pollfds(r, two);
		for (size_t i = 0; i < k && n < max; i++)
			pfd[n++] = two[i];
	}
	if (c->http != NULL)
		n += contain_http_pollfds(c->http, pfd + n, max - n);
	return n;
}

int64_t contain_deadline(const struct contain *c)
{
	int64_t d = INT64_MAX, t;

	for (const struct contain_run *r = c->running; r != NULL; r = r->next) {
		if (r->type != CONTAIN_EXEC)
			continue;
		t = contain_exec_deadline(r);
		if (t < d)
			d = t;
	}
	if (c->http != NULL) {
		t = contain_http_deadline(c->http);
		if (t < d)
			d = t;
	}
	return d;
}

void contain_process(struct contain *c, const struct pollfd *pfd, size_t n)
{
	int64_t mono = bw_mono_us();
	struct contain_run **pp, *r;

	if (c->http != NULL)
		contain_http_process(c->http, pfd, n, mono);
	for (r = c->running; r != NULL; r = r->next)
		if (r->type == CONTAIN_EXEC)
			contain_exec_process(r, mono);
	for (pp = &c->running; (r = *pp) != NULL;) {
		if (!r->done) {
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		c->n_running--;
		run_finish(c, r);
	}
	start_queued(c);
}

bool contain_busy(const struct contain *c)
{
	return c->n_running > 0 || c->n_queued > 0;
}

void contain_cancel_queued(struct contain *c, const char *why)
{
	struct contain_run *r;

	while ((r = c->queue) != NULL) {
		c->queue = r->next;
		c->n_queued--;
		c->stats.cancelled++;
		dedup_done(c, r, false, bw_mono_us());
		update_step(c, r, 0, bw_now_us(), "cancelled", why, true);
		run_free(r);
	}
	c->queue_tail = &c->queue;
}

int contain_poll(struct contain *c, int timeout_ms)
{
	struct pollfd stack[16], *pfd = stack;
	size_t want = contain_npollfds(c), n;
	int64_t now = bw_mono_us(), until = contain_deadline(c);
	int rc = 0;

	if (want > sizeof(stack) / sizeof(stack[0]))
		pfd = xreallocarray(NULL, want, sizeof(*pfd));
	n = contain_pollfds(c, pfd, want);
	if (until <= now)
		timeout_ms = 0;
	else if (until - now < (int64_t)timeout_ms * 1000)
		timeout_ms = (int)((until - now + 999) / 1000);
	if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR)
		rc = -1;
	else
		contain_process(c, pfd, n);
	if (pfd != stack)
		free(pfd);
	return rc;
}

int contain_wait(struct contain *c, int64_t max_us)
{
	int64_t start = bw_mono_us();
	int64_t end = max_us > INT64_MAX - start ? INT64_MAX : start + max_us;

	while (contain_busy(c)) {
		int64_t now = bw_mono_us();

		if (now >= end)
			return -1;
		/* At most a second at a time: a clock step must not stall
		 * the wait. */
		if (contain_poll(c, end - now >= 1000000
					    ? 1000
					    : (int)((end - now + 999) / 1000)) <
		    0)
			return -1;
	}
	return 0;
}

void contain_get_stats(const struct contain *c, struct contain_stats *out)
{
	*out = c->stats;
	out->running = c->n_running;
	out->queued = c->n_queued;
}
