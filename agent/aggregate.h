/*
 * aggregate.h - turning rule matches into incidents.
 *
 * An incident is keyed by (rule id, key). While it is active, later matches
 * add evidence, affected customers and data kinds; each change becomes a new
 * revision, emitted at most once per revision_interval of event time (the
 * first revision at once). An incident with no match for quiet_period of
 * event time is closed: a last revision with closed = true. Evidence kept
 * per incident is capped (max_evidence), and what is not kept is counted in
 * evidence_omitted. Excerpts are masked (mask.h) before they are kept.
 *
 * Time is event time: agg_tick() is driven by the events' clock, and, when
 * live and every input has been read to its end, by an idle clock running
 * on from the latest event time (live.c), so a quiet incident closes while
 * no lines arrive.
 */
#ifndef BW_AGGREGATE_H
#define BW_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/incident.h"
#include "../rules/rules.h"

struct agg_config {
	const char *host;            /* the agent's name, copied */
	int64_t quiet_period_us;     /* default 30 min */
	int64_t revision_interval_us; /* default 10 s */
	size_t max_evidence;         /* default 20, <= BW_INC_MAX_EVIDENCE */
	size_t max_customers;        /* default 100000 per incident */
	size_t max_incidents;        /* active at once, default 10000 */
};

struct agg_stats {
	uint64_t opened, revisions, closed;
	uint64_t revisions_withheld; /* past AGG_RUN_REVISIONS - 2 (below) */
	uint64_t customers_dropped; /* past max_customers */
	uint64_t incidents_evicted; /* closed early at max_incidents */
	uint64_t active;
};

struct agg;

/* Called for every revision emitted. inc is borrowed for the call; copy it
 * (bw_incident_dup) to keep it. */
typedef void (*agg_emit_fn)(const struct bw_incident *inc, void *arg);

/* Caller owns the result. cfg fields left 0 take their defaults. */
struct agg *agg_new(const struct agg_config *cfg, agg_emit_fn emit,
		    void *arg);
void agg_destroy(struct agg **a);

/* Add a match: opens an incident or updates the active one. Emits the
 * first revision at once for a new incident; later changes wait for
 * agg_tick. */
void agg_match(struct agg *a, const struct rules_match *m);

/* Advance time to now_us: emit revisions that are due, close incidents that
 * went quiet. */
void agg_tick(struct agg *a, int64_t now_us);

/* End of input: emit pending revisions and close every incident. */
void agg_flush(struct agg *a);

void agg_get_stats(const struct agg *a, struct agg_stats *out);

/*
 * Revision numbers never repeat across runs of one agent (live.c numbers
 * its runs, run_counter.h): the revisions of an incident in run r are
 * r * AGG_RUN_REVISIONS + n, n = 1, 2, ... per incident in this run, so
 * after a restart that rebuilds an incident from re-read lines (same id)
 * its revisions follow, for the notifier, every revision of the earlier
 * runs. Without agg_set_run (replay), r is 0: 1, 2, ...
 *
 * n stays within its run's block: the last number (AGG_RUN_REVISIONS - 1)
 * is kept for the incident's closing revision, and a change after n
 * reached AGG_RUN_REVISIONS - 2 is not emitted but counted
 * (revisions_withheld); it goes out with the closing revision, which
 * carries the whole incident. At the default revision interval (10 s)
 * that takes a week of changes without a quiet period.
 */
#define AGG_RUN_REVISIONS UINT32_C(65536)
#define AGG_MAX_RUN       UINT32_C(65535) /* keeps numbers within u32 */

/* Number this run's revisions in run's block (run > AGG_MAX_RUN counts as
 * AGG_MAX_RUN). Call before the first revision is emitted: an incident's
 * revisions must grow. */
void agg_set_run(struct agg *a, uint32_t run);

/*
 * Containment (contain.h). The hook is called once when an incident opens
 * from a rule that names actions, before its first revision goes out, and
 * never for other rules (a rule without actions costs nothing). It may add
 * steps to inc (bw_incident_add_step) and returns how many of those are
 * pending (not finished: "running" or "queued"). An incident with pending
 * steps is not forgotten when it closes (quiet, evicted, or flushed): it
 * stops taking matches (a new match opens a new incident) and its last
 * revision (closed = true) goes out when its last pending step finishes.
 */
typedef size_t (*agg_contain_fn)(struct bw_incident *inc,
				 const struct rules_match *m, void *arg);
/* Set (or, with fn NULL, remove) the hook. */
void agg_set_contain(struct agg *a, agg_contain_fn fn, void *arg);

/* Which step of which incident: the rule id and key of the match that
 * opened it (m->rule->id, m->key or ""), its id, and the step's index. */
struct agg_step_ref {
	const char *rule;
	const char *key;
	const char *incident_id;
	size_t step;
};

/*
 * Change a step of an open (or closing) incident: its times, status and
 * detail (copied). With final, the step has finished: a new revision is
 * emitted at once, outside the revision interval (a containment result
 * must not wait), and when it was the incident's last pending step of a
 * closing incident that revision is its last. Without final (a queued step
 * that started), the change goes out with the incident's next revision.
 * Returns -1 when no such incident or step is known (nothing changes).
 */
int agg_step_update(struct agg *a, const struct agg_step_ref *ref,
		    int64_t started_us, int64_t finished_us, const char *status,
		    const char *detail, bool final) BW_WUR;

#endif
