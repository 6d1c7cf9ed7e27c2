/*
 * log.c - the daemons' logging with the OpenBSD verbs (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *log_progname = "breachwatch";
static enum log_level log_max = LOG_LVL_INFO;
static int log_journald;

void log_init(const char *progname, enum log_level max, int journald)
{
	log_progname = progname;
	log_max = max;
	if (journald < 0)
		journald = getenv("JOURNAL_STREAM") != NULL;
	log_journald = journald;
}

void log_set_level(enum log_level max)
{
	log_max = max;
}

static void vlog(enum log_level lvl, int errnum, const char *fmt, va_list ap)
{
	char msg[2048];

	if (lvl > log_max)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journald) {
		if (errnum != 0)
			fprintf(stderr, "<%d>%s: %s\n", lvl, msg,
				strerror(errnum));
		else
			fprintf(stderr, "<%d>%s\n", lvl, msg);
	} else {
		if (errnum != 0)
			fprintf(stderr, "%s: %s: %s\n", log_progname, msg,
				strerror(errnum));
		else
			fprintf(stderr, "%s: %s\n", log_progname, msg);
	}
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARNING, saved, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_WARNING, 0, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_INFO, 0, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool log_ratelimit_ok(struct log_ratelimit *rl)
{
	int64_t now = mono_us();

	if (rl->in_window == 0 || now - rl->window_start >= rl->interval_us) {
		rl->window_start = now;
		rl->in_window = 0;
	}
	if (rl->in_window < rl->burst) {
		rl->in_window++;
		return true;
	}
	rl->suppressed++;
	return false;
}
