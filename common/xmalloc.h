/*
 * xmalloc.h - allocation that cannot fail.
 *
 * Out of memory aborts the process with a message: callers never check for
 * NULL after these. Sizes are checked for overflow.
 */
#ifndef BW_XMALLOC_H
#define BW_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
/* nmemb * size with overflow check; ptr may be NULL. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size)
	__attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((malloc, returns_nonnull));
/* Copy len bytes of s and NUL-terminate. */
char *xstrndup(const char *s, size_t len) __attribute__((malloc, returns_nonnull));
/* printf into a new string. */
char *xasprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), malloc, returns_nonnull));

#endif
