/*
 * source.h - one log input: its parser, its counters, and the warnings for
 * its bad lines. Shared by replay and live mode: a line in, an event out.
 */
#ifndef BW_SOURCE_H
#define BW_SOURCE_H

#include <stdint.h>

#include "../common/event.h"
#include "../common/log.h"
#include "config.h"
#include "lines.h"
#include "parser.h"

struct source_counts {
	uint64_t lines, events, ignored, rejected, truncated;
};

struct source {
	const char *type; /* borrowed */
	const char *path; /* borrowed; the evidence reference */
	struct parser *parser;
	struct source_counts counts;
	struct log_ratelimit warn_rl;
};

/* Set up src for a TYPE input at path, with parser options opts (may be
 * NULL). Returns -1 with err on a bad option. */
int source_init(struct source *src, const char *type, const char *path,
		const config_setting_t *opts, struct bw_error *err) BW_WUR;
/* Take the parser's count of ignored lines into counts, log the count of
 * suppressed warnings, free the parser. */
void source_fini(struct source *src);

/*
 * Parse one line into *ev. Returns 1 when *ev holds an event (its ref and
 * raw set: the line's, or for an event completed from held lines, the
 * first of those), 0 when the line yields none. A malformed line is counted
 * and logged as "path:line: reason" (rate-limited), and yields none.
 */
int source_line(struct source *src, const struct lines_line *ln,
		struct bw_event *ev);

/* At the end of input (or when idle), hand over an event the parser holds.
 * Returns 1 with *ev, or 0. */
int source_flush(struct source *src, struct bw_event *ev);

#endif
