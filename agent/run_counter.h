/*
 * run_counter.h - numbering the runs of an agent.
 *
 * <state_dir>/run holds the number of the latest run (decimal, one line;
 * no file: 0). Each start of live mode takes the next number and writes it
 * back durably (common/file.h) before the run emits anything, so that no
 * two runs share a number, whatever way the earlier one ended (kill -9,
 * power loss). The aggregator numbers a run's revisions in its own block
 * (agg_set_run, aggregate.h).
 */
#ifndef BW_RUN_COUNTER_H
#define BW_RUN_COUNTER_H

#include <stdint.h>

#include "../common/error.h"

#define RUN_COUNTER_FILE "run"

/*
 * Read the counter in state_dir (which must exist), add one and write it
 * back (mode 0600), at most max. Returns 0 with *run the number of this
 * run; 1 with *run = max when the counter was at max already (an earlier
 * run had this number too: nothing written); -1 with err filled when the
 * file cannot be read or written, or does not hold a number from 0 to max
 * (the run is then not to start: its numbers could repeat a run's).
 */
int run_counter_next(const char *state_dir, uint32_t max, uint32_t *run,
		     struct bw_error *err) BW_WUR;

#endif
