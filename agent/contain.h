/*
 * contain.h - running containment actions and recording them as steps of
 * the incident.
 *
 * When the aggregator opens an incident from a rule that names actions
 * (rule `actions`, defined in the agent config's `actions` list, see
 * contain_action.h and docs/configuration.md), each action is rendered
 * from the incident and started at once, before the incident's first
 * revision goes out; that revision carries one step per action:
 *
 *   running    started, not finished yet
 *   queued     waiting for a free slot (max_running runs at once)
 *   refused    not run: a placeholder's value failed validation, the
 *              action is not defined, or max_queued runs already wait
 *   skipped    not run: the same action for the same target already ran
 *              (or runs) for another incident within its dedup time
 *   failed     could not be started, exited non-zero or was killed by a
 *              signal, or the HTTP status was not the expected one
 *
 * When a run ends its step becomes ok, failed or timeout (with finished,
 * exit status or HTTP status, and an output excerpt in detail) and the
 * aggregator emits a new revision at once, outside its rate limit (see
 * agg_step_update). A queued step that starts becomes running without a
 * revision of its own. An incident whose steps are still running when it
 * would close keeps its last revision until they end. Runs cancelled when
 * the agent stops become cancelled.
 *
 * One incident runs an action once (a rule that lists it twice still
 * runs it once). Across incidents, a run is keyed by the action id and the
 * target fields its templates use (src_ip, user, customer, key; with none,
 * the incident id): while such a run is going, or within the action's
 * dedup time after it succeeded, the same key is skipped. A run that
 * failed or timed out does not hold back the next one.
 *
 * Everything happens in the caller's poll loop: contain_pollfds() and
 * contain_deadline() say what to wait for, contain_process() does the
 * work; nothing blocks (contain_destroy aside).
 */
#ifndef BW_CONTAIN_H
#define BW_CONTAIN_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aggregate.h"
#include "contain_action.h"

struct contain;

struct contain_stats {
	uint64_t started, ok, failed, timeout, refused, skipped, cancelled;
	uint64_t running, queued; /* now */
};

/*
 * Take the definitions (*defs is nulled; the engine owns them) and hook
 * the engine into agg: from now on incidents it opens run their rules'
 * actions. agg must outlive the engine. Caller owns the result.
 */
struct contain *contain_new(struct contain_actions **defs, struct agg *agg);

/*
 * Stop: queued runs and running ones (killed with SIGKILL to their process
 * group and reaped; HTTP requests abandoned) are recorded as cancelled, so
 * every incident waiting for its steps gets its last revision, then the
 * hook is removed from the aggregator. Accepts NULL; nulls the caller's
 * pointer. This one may block briefly (reaping killed programs).
 */
void contain_destroy(struct contain **c);

/* Replace the definitions (a reload); runs already started or queued keep
 * what they were rendered with. *defs is nulled. */
void contain_set_actions(struct contain *c, struct contain_actions **defs);

/* The number of descriptors to poll now, and those descriptors:
 * contain_pollfds writes at most max of them into pfd and returns how many
 * it wrote. */
size_t contain_npollfds(const struct contain *c);
size_t contain_pollfds(const struct contain *c, struct pollfd *pfd,
		       size_t max);

/* When contain_process must run even if no descriptor is ready
 * (bw_mono_us() clock), INT64_MAX when nothing is due. */
int64_t contain_deadline(const struct contain *c);

/* Do what is due: read output, reap programs, enforce timeouts, drive
 * libcurl with pfd[0..n) (as written by contain_pollfds and filled by
 * poll; n may be 0), record finished steps, start queued runs. */
void contain_process(struct contain *c, const struct pollfd *pfd, size_t n);

/* Any run going or queued? */
bool contain_busy(const struct contain *c);

/* Record every queued run as cancelled with detail why (a stop). */
void contain_cancel_queued(struct contain *c, const char *why);

/* For callers without a poll loop of their own (replay): poll the
 * engine's descriptors for at most timeout_ms (less when its deadline
 * comes first; 0 only looks), then contain_process. Returns -1 when poll
 * failed (errno), 0 otherwise. */
int contain_poll(struct contain *c, int timeout_ms) BW_WUR;

/* contain_poll until no run is left, at most max_us (monotonic). Returns
 * 0 when idle, -1 when max_us went by first. */
int contain_wait(struct contain *c, int64_t max_us) BW_WUR;

void contain_get_stats(const struct contain *c, struct contain_stats *out);

#endif
