/*
 * error.c - filling and printing struct bw_error.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bw_error_set(struct bw_error *err, const char *file, int line,
		 const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *bw_error_str(const struct bw_error *err, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (err->file[0] != '\0' && err->line > 0)
		snprintf(buf, size, "%s:%d: %s", err->file, err->line, err->msg);
	else if (err->file[0] != '\0')
		snprintf(buf, size, "%s: %s", err->file, err->msg);
	else
		snprintf(buf, size, "%s", err->msg);
	return buf;
}
