/*
 * pipeline.h - events in, incident revisions out: the rules engine and the
 * aggregator joined, shared by replay and live mode.
 */
#ifndef BW_PIPELINE_H
#define BW_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/event.h"
#include "aggregate.h"
#include "config.h"

struct pipeline;

/* Build the engine from the config's site facts and the rule paths (files,
 * or directories whose *.conf files are loaded in name order; rule_paths
 * overrides the config's agent.rules when n_rule_paths > 0). Compiled
 * Hyperscan databases are kept in <state_dir>/rules-cache (rcache.h) when
 * agent.rules_cache is on and the state directory exists; without it they
 * are compiled each time. emit is called
 * for every incident revision. Returns NULL with err (file:line: reason) on
 * a bad site group or rule file, or a rule naming an action that
 * conf->actions does not define. Caller owns the result. */
struct pipeline *pipeline_new(const struct agentconf *conf,
			      const char *const *rule_paths,
			      size_t n_rule_paths, agg_emit_fn emit, void *arg,
			      struct bw_error *err) BW_WUR;
void pipeline_destroy(struct pipeline **p);

/* Replace the rules with those of conf and rule_paths (as pipeline_new),
 * keeping the active incidents. On an error the old rules stay and -1 is
 * returned with err. Window state starts afresh with the new rules. */
int pipeline_reload(struct pipeline *p, const struct agentconf *conf,
		    const char *const *rule_paths, size_t n_rule_paths,
		    struct bw_error *err) BW_WUR;

/* Feed one event (event time drives windows and revisions: the latest
 * stamp seen, except that a lone stamp far ahead is held, evclock.h). */
void pipeline_event(struct pipeline *p, const struct bw_event *ev);
/* Advance time with no event (live mode idle ticks). */
void pipeline_tick(struct pipeline *p, int64_t now_us);
/* End of input: every incident gets its final revision (one with
 * containment steps still running gets it when they end, contain.h). */
void pipeline_flush(struct pipeline *p);

/* The aggregator, for containment (contain_new); owned by p. */
struct agg *pipeline_agg(struct pipeline *p);

/* The events' clock (0 before the first event); *held (if not NULL) gets
 * the number of lone far-ahead stamps it did not follow. */
int64_t pipeline_clock(const struct pipeline *p, uint64_t *held);

size_t pipeline_rule_count(const struct pipeline *p);
void pipeline_stats(const struct pipeline *p, struct rules_stats *rs,
		    struct agg_stats *as);

/* Load rule files from paths (files, or directories of *.conf loaded in
 * name order) into r. A path that does not exist is an error unless
 * missing_ok. Returns -1 with err on the first bad file. */
int pipeline_load_rules(struct rules *r, const char *const *paths, size_t n,
			bool missing_ok, struct bw_error *err) BW_WUR;

#endif
