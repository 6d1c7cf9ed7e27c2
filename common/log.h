/*
 * log.h - the daemons' logging, with the OpenBSD verbs.
 *
 * log_warn and fatal add strerror(errno); log_warnx and fatalx do not.
 * Lines go to stderr with a journald priority prefix ("<4>") when
 * log_init() was told so (under systemd), else with the program name.
 * Library code (common/ beyond this file, rules/) never logs.
 */
#ifndef BW_LOG_H
#define BW_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARNING = 4, LOG_LVL_NOTICE = 5,
		 LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Set the program name, the most verbose level printed, and whether lines
 * carry "<N>" priority prefixes for journald (pass -1 to decide from the
 * JOURNAL_STREAM environment variable). */
void log_init(const char *progname, enum log_level max, int journald);
void log_set_level(enum log_level max);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * A rate limit for repeated warnings: at most `burst` messages per
 * `interval_us` (by the monotonic clock); log_ratelimit_ok() returns true
 * when the caller may log now, and counts what it suppresses in
 * `suppressed`, which the caller may report and reset.
 */
struct log_ratelimit {
	int64_t interval_us;
	unsigned burst;
	int64_t window_start;
	unsigned in_window;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(iv_us, b) { .interval_us = (iv_us), .burst = (b) }
bool log_ratelimit_ok(struct log_ratelimit *rl);

#endif
