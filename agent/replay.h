/*
 * replay.h - reading recorded logs through the pipeline, merged in event
 * time order (breachwatch-agent --replay).
 */
#ifndef BW_REPLAY_H
#define BW_REPLAY_H

#include <stddef.h>

#include "config.h"
#include "pipeline.h"
#include "source.h"

struct replay_input {
	const char *type; /* "nginx", ... */
	const char *path;
	struct source_counts counts; /* filled by replay_run */
};

/*
 * Replay inputs (each TYPE:PATH, parser options from the config's first
 * input of that type) through p, merging events in time order, then flush
 * p so every incident gets its final revision. Malformed lines are counted
 * and reported (rate-limited) with file:line. A `pcap` input is a recorded
 * capture (netsrc.h; its counts: lines are packets, rejected the malformed
 * ones, ignored those of no interest, truncated those cut by the snapshot
 * length); one that ends mid-record is reported and read up to there.
 * Returns 0, or -1 when an input cannot be opened or read (err says
 * which); events already fed stay fed.
 */
int replay_run(const struct agentconf *conf, struct pipeline *p,
	       struct replay_input *inputs, size_t n, struct bw_error *err) BW_WUR;

/* Called every REPLAY_SERVICE_EVERY events while the inputs are read, so
 * that containment runs started by the replay move on (read output, reap,
 * time out) while a long replay reads. */
typedef void (*replay_service_fn)(void *arg);
#define REPLAY_SERVICE_EVERY 256

/* replay_run, calling service(arg) as above (service may be NULL). */
int replay_run_service(const struct agentconf *conf, struct pipeline *p,
		       struct replay_input *inputs, size_t n,
		       replay_service_fn service, void *arg,
		       struct bw_error *err) BW_WUR;

/* Split arg "TYPE:PATH" in place into out. Returns -1 when there is no
 * known TYPE (a parser's, or "pcap") before a ':'. */
int replay_parse_input(char *arg, struct replay_input *out) BW_WUR;

#endif
