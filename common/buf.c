/*
 * buf.c - a growable byte buffer with a ceiling (see buf.h).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void bw_buf_init(struct bw_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void bw_buf_free(struct bw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void bw_buf_reset(struct bw_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

/* Make room for need more bytes plus the NUL. Returns -1 past the ceiling. */
static int reserve(struct bw_buf *b, size_t need)
{
	size_t want, ncap;

	if (need > b->max || b->len > b->max - need)
		return -1;
	want = b->len + need + 1;
	if (want <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	b->data = xreallocarray(b->data, ncap, 1);
	b->cap = ncap;
	return 0;
}

int bw_buf_add(struct bw_buf *b, const void *p, size_t len)
{
	if (reserve(b, len) < 0)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int bw_buf_addstr(struct bw_buf *b, const char *s)
{
	return bw_buf_add(b, s, strlen(s));
}

int bw_buf_addc(struct bw_buf *b, char c)
{
	return bw_buf_add(b, &c, 1);
}

int bw_buf_vprintf(struct bw_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int bw_buf_printf(struct bw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = bw_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void bw_buf_consume(struct bw_buf *b, size_t n)
{
	if (n >= b->len) {
		bw_buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

char *bw_buf_steal(struct bw_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}
