/*
 * lines.c - splitting blocks of bytes into log lines (see lines.h).
 *
 * The fast path is memchr over the block and a pointer into it. Only the
 * partial last line of a block goes into the carry buffer, which holds at
 * most max_line + 1 bytes (the extra byte lets a line of exactly max_line
 * bytes end in "\r\n" without being cut); what goes past that is counted,
 * not stored.
 */
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/xmalloc.h"

void lines_init(struct lines *l, size_t max_line, uint64_t offset,
                uint64_t lineno)
{
	if (max_line < LINES_MAX_LINE_MIN)
		max_line = LINES_MAX_LINE_MIN;
	if (max_line > LINES_MAX_LINE_MAX)
		max_line = LINES_MAX_LINE_MAX;
	memset(l, 0, sizeof(*l));
	l->max_line = max_line;
	l->blk_off = offset;
	l->lineno = lineno;
	bw_buf_init(&l->carry, max_line + 1);
}

void lines_free(struct lines *l)
{
	bw_buf_free(&l->carry);
	l->held = false;
	l->carry_out = false;
	l->blk = NULL;
	l->blk_len = 0;
	l->pos = 0;
}

uint64_t lines_reset(struct lines *l, uint64_t offset, uint64_t lineno)
{
	uint64_t dropped = l->held ? l->held_len : 0;

	bw_buf_reset(&l->carry);
	l->held = false;
	l->carry_out = false;
	l->blk = NULL;
	l->blk_len = 0;
	l->pos = 0;
	l->blk_off = offset;
	l->lineno = lineno;
	return dropped;
}

void lines_push(struct lines *l, const char *block, size_t len)
{
	l->blk_off += l->blk_len;
	l->blk = block;
	l->blk_len = len;
	l->pos = 0;
}

/* Add n bytes of the held line to the carry, keeping at most its ceiling. */
static void hold(struct lines *l, const char *p, size_t n)
{
	size_t room = l->carry.max - l->carry.len;
	size_t take = n < room ? n : room;

	if (n == 0)
		return;
	if (take > 0 && bw_buf_add(&l->carry, p, take) < 0)
		abort(); /* cannot happen: take fits under the ceiling */
	l->held_len += n;
	l->held_last = p[n - 1];
}

/* Fill *out with a line of full length len (after the "\r" was removed)
 * starting at data and count it. */
static void yield(struct lines *l, struct lines_line *out, const char *data,
                  uint64_t len, uint64_t offset)
{
	out->data = data;
	out->offset = offset;
	out->lineno = ++l->lineno;
	out->truncated = len > l->max_line;
	if (out->truncated) {
		l->stats.truncated++;
		l->stats.skipped_bytes += len - l->max_line;
		len = l->max_line;
	}
	out->len = (size_t)len;
	l->stats.lines++;
}

/* Yield the held line (its newline was found, or the input ended). */
static void yield_held(struct lines *l, struct lines_line *out)
{
	uint64_t len = l->held_len;

	if (len > 0 && l->held_last == '\r')
		len--;
	yield(l, out, l->carry.data, len, l->held_off);
	l->held = false;
	l->carry_out = true;
}

int lines_next(struct lines *l, struct lines_line *out)
{
	const char *p, *nl;
	size_t avail, n;

	if (l->carry_out) {
		bw_buf_reset(&l->carry);
		l->carry_out = false;
	}
	if (l->pos >= l->blk_len)
		return 0;
	p = l->blk + l->pos;
	avail = l->blk_len - l->pos;
	nl = memchr(p, '\n', avail);
	if (l->held) {
		n = nl ? (size_t)(nl - p) : avail;
		hold(l, p, n);
		if (nl == NULL) {
			l->pos = l->blk_len;
			return 0;
		}
		l->pos += n + 1;
		yield_held(l, out);
		return 1;
	}
	if (nl == NULL) {
		/* A partial last line: hold it until its newline. */
		l->held = true;
		l->held_off = l->blk_off + l->pos;
		l->held_len = 0;
		hold(l, p, avail);
		l->pos = l->blk_len;
		return 0;
	}
	n = (size_t)(nl - p);
	l->pos += n + 1;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	yield(l, out, p, n, l->blk_off + (uint64_t)(p - l->blk));
	return 1;
}

int lines_finish(struct lines *l, struct lines_line *out)
{
	if (l->carry_out) {
		bw_buf_reset(&l->carry);
		l->carry_out = false;
	}
	if (!l->held)
		return 0;
	yield_held(l, out);
	return 1;
}

void lines_feed(struct lines *l, const char *block, size_t len, lines_fn cb,
                void *arg)
{
	struct lines_line ln;

	lines_push(l, block, len);
	while (lines_next(l, &ln) == 1)
		cb(arg, &ln);
}

void lines_end(struct lines *l, lines_fn cb, void *arg)
{
	struct lines_line ln;

	if (lines_finish(l, &ln) == 1)
		cb(arg, &ln);
}

uint64_t lines_offset(const struct lines *l)
{
	if (l->held)
		return l->held_off;
	return l->blk_off + l->pos;
}

uint64_t lines_lineno(const struct lines *l)
{
	return l->lineno;
}

uint64_t lines_held(const struct lines *l)
{
	return l->held ? l->held_len : 0;
}

int lines_reader_open(struct lines_reader *r, const char *path, size_t max_line,
                      struct bw_error *err)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	if (strcmp(path, "-") == 0) {
		r->fd = STDIN_FILENO;
	} else {
		r->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (r->fd < 0)
			return bw_error_set(err, path, 0, "%s",
			                    strerror(errno));
	}
	r->path = xstrdup(path);
	r->buf = xmalloc(LINES_READ_BLOCK);
	lines_init(&r->lines, max_line, 0, 0);
	return 0;
}

int lines_reader_next(struct lines_reader *r, struct lines_line *out,
                      struct bw_error *err)
{
	ssize_t n;

	for (;;) {
		if (r->done)
			return 0;
		if (lines_next(&r->lines, out) == 1)
			return 1;
		if (r->eof) {
			r->done = true;
			return lines_finish(&r->lines, out);
		}
		do {
			n = read(r->fd, r->buf, LINES_READ_BLOCK);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			return bw_error_set(err, r->path, 0, "read: %s",
			                    strerror(errno));
		if (n == 0)
			r->eof = true;
		r->off += (uint64_t)n;
		lines_push(&r->lines, r->buf, (size_t)n);
	}
}

void lines_reader_close(struct lines_reader *r)
{
	if (r->fd >= 0 && r->fd != STDIN_FILENO)
		close(r->fd);
	r->fd = -1;
	free(r->buf);
	r->buf = NULL;
	free(r->path);
	r->path = NULL;
	lines_free(&r->lines);
}

int lines_read_file(const char *path, size_t max_line, lines_fn cb, void *arg,
                    struct lines_stats *st, struct bw_error *err)
{
	struct lines_reader r;
	struct lines_line ln;
	int rc;

	if (lines_reader_open(&r, path, max_line, err) < 0)
		return -1;
	for (;;) {
		rc = lines_reader_next(&r, &ln, err);
		if (rc != 1)
			break;
		cb(arg, &ln);
	}
	if (st != NULL)
		*st = r.lines.stats;
	lines_reader_close(&r);
	return rc;
}
