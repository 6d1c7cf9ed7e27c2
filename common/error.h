/*
 * error.h - the error a library function hands back to its caller.
 *
 * Library code (common/, rules/) never logs and never exits: a fallible
 * function takes a struct bw_error * and fills it on failure. The daemon
 * decides what to do and logs once. file/line locate the cause in the input
 * (a config or rule file) when there is one; file is "" and line 0 otherwise.
 */
#ifndef BW_ERROR_H
#define BW_ERROR_H

#include <stddef.h>

#define BW_WUR __attribute__((warn_unused_result))
#define BW_PRINTF(a, b) __attribute__((format(printf, a, b)))

struct bw_error {
	char file[256];
	int line;
	char msg[512];
};

/* Fill err (which may be NULL) with a message located at file:line. file may
 * be NULL. Always returns -1 so callers can write `return bw_error_set(...)`. */
int bw_error_set(struct bw_error *err, const char *file, int line,
		 const char *fmt, ...) BW_PRINTF(4, 5);

/* Format err as "file:line: msg" (or "file: msg", or "msg") into buf.
 * Returns buf. */
const char *bw_error_str(const struct bw_error *err, char *buf, size_t size);

#endif
