/*
 * buf.h - a growable byte buffer with a ceiling.
 *
 * Every buffer fed from outside has a maximum size (curl's dynbuf "toobig"):
 * an append that would pass it fails and leaves the buffer as it was. The
 * contents are always NUL-terminated (the NUL is not counted in len).
 */
#ifndef BW_BUF_H
#define BW_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h"

struct bw_buf {
	char *data; /* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max; /* the ceiling for len */
};

/* Set up an empty buffer that may hold at most max bytes. */
void bw_buf_init(struct bw_buf *b, size_t max);
/* Free the contents; the buffer may be reused after bw_buf_init. */
void bw_buf_free(struct bw_buf *b);
/* Empty the buffer, keeping its memory. */
void bw_buf_reset(struct bw_buf *b);
/* Append len bytes. Returns -1 (buffer unchanged) when the ceiling would be
 * passed, 0 otherwise. */
int bw_buf_add(struct bw_buf *b, const void *p, size_t len) BW_WUR;
int bw_buf_addstr(struct bw_buf *b, const char *s) BW_WUR;
int bw_buf_addc(struct bw_buf *b, char c) BW_WUR;
int bw_buf_printf(struct bw_buf *b, const char *fmt, ...) BW_WUR BW_PRINTF(2, 3);
int bw_buf_vprintf(struct bw_buf *b, const char *fmt, va_list ap) BW_WUR;
/* Remove the first n bytes (n <= len). */
void bw_buf_consume(struct bw_buf *b, size_t n);
/* Hand the contents to the caller, who must free() them; the buffer is left
 * empty. Returns an empty string (caller frees) when nothing was added. */
char *bw_buf_steal(struct bw_buf *b);

#endif
