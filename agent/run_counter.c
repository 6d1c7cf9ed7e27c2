/*
 * run_counter.c - numbering the runs of an agent (see run_counter.h).
 */
#include "run_counter.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/file.h"
#include "../common/xmalloc.h"

/* "4294967295\n" and some room to tell a longer file from it. */
#define RUN_FILE_MAX 32

/* Parse "<decimal>\n" into *out, at most max. Returns 0 or -1. */
static int parse(const char *data, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len < 2 || len > 11 || data[len - 1] != '\n')
		return -1;
	for (i = 0; i + 1 < len; i++) {
		if (data[i] < '0' || data[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(data[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int run_counter_next(const char *state_dir, uint32_t max, uint32_t *run,
		     struct bw_error *err)
{
	char *path = xasprintf("%s/%s", state_dir, RUN_COUNTER_FILE);
	char *data = NULL, text[16];
	size_t len = 0;
	uint32_t last = 0;
	int rc = -1;

	if (bw_file_read(path, RUN_FILE_MAX, &data, &len, err) < 0) {
		if (errno != ENOENT)
			goto out;
	} else if (parse(data, len, max, &last) < 0) {
		bw_error_set(err, path, 0,
			     "not a run number from 0 to %" PRIu32
			     " (the number of the agent's latest run)",
			     max);
		goto out;
	}
	if (last == max) {
		*run = max;
		rc = 1;
		goto out;
	}
	snprintf(text, sizeof(text), "%" PRIu32 "\n", last + 1);
	if (bw_file_write_atomic(path, text, strlen(text), 0600, true, err) < 0)
		goto out;
	*run = last + 1;
	rc = 0;
out:
	free(data);
	free(path);
	return rc;
}
