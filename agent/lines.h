/*
 * lines.h - splitting blocks of bytes into log lines.
 *
 * The splitter is fed blocks as they are read (1 MB blocks in replay, what
 * inotify says is new when following) and yields complete lines: without the
 * "\n" and without one trailing "\r", each with the byte offset of its first
 * byte in the file and its 1-based line number. A line that lies whole in a
 * block is yielded as a pointer into the block (memchr, no copy); only the
 * partial last line of a block is copied, into a carry buffer bounded by
 * max_line + 1 bytes.
 *
 * A partial last line is held until its newline arrives, or until the
 * caller says the input has ended (lines_finish), when an unterminated last
 * line is yielded. A line longer than max_line is cut at max_line and
 * yielded once, flagged truncated, when its newline arrives; the rest of it
 * is skipped and counted, never buffered. NUL bytes and invalid UTF-8 pass
 * through untouched: lines are bytes, not strings (not NUL-terminated).
 *
 * Pull use:
 *	lines_push(&l, block, n);
 *	while (lines_next(&l, &ln) == 1)
 *		use(ln);
 *	...more blocks...
 *	if (lines_finish(&l, &ln) == 1)
 *		use(ln);
 * or push use: lines_feed(&l, block, n, cb, arg) and lines_end(&l, cb, arg).
 */
#ifndef BW_LINES_H
#define BW_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/error.h"

/* The bounds of max_line (the agent config enforces the same). */
#define LINES_MAX_LINE_MIN 16u
#define LINES_MAX_LINE_MAX (16u << 20)

/* One line. data is not NUL-terminated and may contain NUL bytes. It points
 * into the caller's block or into the splitter's carry buffer, and stays
 * valid until the next call on the splitter (lines_next, lines_push,
 * lines_finish, lines_reset) or until the caller reuses the block,
 * whichever comes first. */
struct lines_line {
	const char *data;
	size_t len;      /* <= max_line */
	uint64_t offset; /* byte offset of the line's first byte */
	uint64_t lineno; /* 1-based */
	bool truncated;  /* the line was longer than max_line and was cut */
};

struct lines_stats {
	uint64_t lines;         /* lines yielded */
	uint64_t truncated;     /* of them, cut at max_line */
	uint64_t skipped_bytes; /* bytes of cut lines not passed on */
};

/* The splitter. Its fields are private; it is a plain struct so that it can
 * live inside its owner without an allocation. */
struct lines {
	size_t max_line;
	const char *blk; /* the current block (borrowed) */
	size_t blk_len;
	size_t pos;          /* next unread byte of blk */
	uint64_t blk_off;    /* file offset of blk[0] */
	struct bw_buf carry; /* the held partial line, at most max_line+1 */
	bool held;           /* a partial line is held in carry */
	bool carry_out;      /* carry was yielded: empty it at the next call */
	uint64_t held_off;   /* file offset of the held line */
	uint64_t held_len;   /* its full length so far (carry holds a prefix) */
	char held_last;      /* its last byte so far */
	uint64_t lineno;     /* lines yielded since the start of the file */
	struct lines_stats stats;
};

typedef void (*lines_fn)(void *arg, const struct lines_line *ln);

/* Set up a splitter whose first byte will be at file offset `offset`, after
 * `lineno` lines (0 and 0 for the start of a file). max_line is clamped to
 * [LINES_MAX_LINE_MIN, LINES_MAX_LINE_MAX]. */
void lines_init(struct lines *l, size_t max_line, uint64_t offset,
                uint64_t lineno);
/* Free the carry buffer. The splitter may be reused after lines_init. */
void lines_free(struct lines *l);
/* Start again at `offset` after `lineno` lines, dropping the held partial
 * line and the current block; the statistics are kept. Returns the number
 * of bytes of the held partial line that were dropped. */
uint64_t lines_reset(struct lines *l, uint64_t offset, uint64_t lineno);

/* Hand the splitter the next block of the input (len may be 0). The block is
 * borrowed: it must stay unchanged until lines_next() has returned 0. The
 * previous block must have been used up (lines_next() returned 0). */
void lines_push(struct lines *l, const char *block, size_t len);
/* The next complete line of the current block into *out. Returns 1, or 0
 * when the block is used up (its partial last line, if any, is now held). */
int lines_next(struct lines *l, struct lines_line *out);
/* The input ended: yield the held unterminated last line, if any. Returns 1
 * with *out set, or 0 when nothing was held. Call after lines_next() has
 * returned 0; more blocks may be pushed afterwards (a file that grows). */
int lines_finish(struct lines *l, struct lines_line *out);

/* Push use: lines_push() then cb for every complete line of the block. */
void lines_feed(struct lines *l, const char *block, size_t len, lines_fn cb,
                void *arg);
/* Push use: lines_finish(), calling cb for the unterminated last line. */
void lines_end(struct lines *l, lines_fn cb, void *arg);

/* Where the yielded lines end: the file offset just past the last complete
 * line yielded (the start of the held partial line, if any) and the number
 * of lines yielded. A checkpoint stores these, so that a restart resumes at
 * the held line. */
uint64_t lines_offset(const struct lines *l);
uint64_t lines_lineno(const struct lines *l);
/* Bytes held as a partial line (its full length, beyond the carry too). */
uint64_t lines_held(const struct lines *l);

/*
 * A whole-file reader for replay: reads the file in 1 MB blocks and splits
 * it. Pull use: lines_reader_next() until it returns 0. The line it yields
 * stays valid until the next call on the reader.
 */
struct lines_reader {
	char *path; /* owned copy, for error messages */
	int fd;
	char *buf;    /* owned, LINES_READ_BLOCK bytes */
	uint64_t off; /* file offset of the next read */
	bool eof;
	bool done;
	struct lines lines;
};

#define LINES_READ_BLOCK (1u << 20)

/* Open path for reading ("-" is standard input, not closed at the end).
 * Returns -1 with err ("PATH: reason") when it cannot be opened. */
int lines_reader_open(struct lines_reader *r, const char *path, size_t max_line,
                      struct bw_error *err) BW_WUR;
/* The next line into *out. Returns 1, 0 at the end of the file (the
 * unterminated last line has then been yielded), or -1 on a read error with
 * err ("PATH: read: reason"); lines already yielded stay yielded. */
int lines_reader_next(struct lines_reader *r, struct lines_line *out,
                      struct bw_error *err) BW_WUR;
/* Close the file and free the buffers. Safe on a reader that failed to
 * open or was already closed. */
void lines_reader_close(struct lines_reader *r);

/* Read the whole file at path, calling cb for each line (the unterminated
 * last line included). st (may be NULL) receives the counts. Returns 0, or
 * -1 with err when the file cannot be opened or read. */
int lines_read_file(const char *path, size_t max_line, lines_fn cb, void *arg,
                    struct lines_stats *st, struct bw_error *err) BW_WUR;

#endif
