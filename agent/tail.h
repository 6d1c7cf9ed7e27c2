/*
 * tail.h - following live log files with inotify, with checkpoints.
 *
 * One struct tail follows any number of files through one inotify fd, which
 * the agent polls. Each file is followed by its path across rotation by
 * rename (the old file is read to its end, then the new file at the path is
 * read from offset 0), copytruncate (the file shrinks below our offset: read
 * again from 0), deletion, and a file that appears only later (its directory
 * is watched; the directory must exist). A partial last line is held until
 * its newline arrives; lines are handed to the on_line callback.
 *
 * Read positions are kept in a checkpoint file, one line per path with
 * device, inode, offset and line number, written with write, fsync, rename.
 * The offset is that of the end of the last complete line handed out, so a
 * line still partial at shutdown is read again, whole, after a restart.
 * See docs/following.md for the rules at start-up.
 *
 * The module never logs: it returns errors (struct bw_error) and reports
 * what happened to a file (rotated, truncated, unreadable, ...) through the
 * optional on_notice callback, for the caller to log. It is not thread-safe,
 * and the callbacks must not call back into the same struct tail.
 *
 * The agent's loop:
 *	more = 1;  (files were just added: read what is there)
 *	for (;;) {
 *		poll tail_fd(t) with timeout (more ? 0 : up to 1000 ms);
 *		more = tail_process(t, &err);     (-1: log and stop)
 *		every second or so: more |= tail_poll(t, &err);
 *		every few seconds and at exit: tail_checkpoint(t, &err);
 *	}
 */
#ifndef BW_TAIL_H
#define BW_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "lines.h"

/* Where to begin a file that has no saved position. */
enum tail_start {
	TAIL_START_END,       /* only lines written from now on */
	TAIL_START_BEGINNING, /* the whole file */
};

/* What happened to a followed file (for the caller's log). */
enum tail_notice {
	/* start-up: resumed at the saved position */
	TAIL_NOTICE_RESUMED,
	/* start-up: no saved position, began per start */
	TAIL_NOTICE_STARTED,
	/* start-up: the saved file is gone or was truncated: the file at the
	 * path is read from 0 */
	TAIL_NOTICE_RESTARTED,
	/* start-up: the file does not exist (yet) */
	TAIL_NOTICE_MISSING,
	/* a missing file appeared: read from 0 */
	TAIL_NOTICE_APPEARED,
	/* the path names a new file: the old one was read to its end, the
	 * new one is read from 0 */
	TAIL_NOTICE_ROTATED,
	/* the file shrank below our offset (copytruncate): read from 0 */
	TAIL_NOTICE_TRUNCATED,
	/* the file was deleted: read to its end and closed; waiting for it
	 * to reappear */
	TAIL_NOTICE_DELETED,
	/* open, stat or read failed (errnum); retried at every tail_poll(),
	 * reported once */
	TAIL_NOTICE_ERROR,
	/* the path is not a regular file; retried */
	TAIL_NOTICE_NOT_REGULAR,
	/* no inotify watch for the file (errnum, e.g. ENOSPC): it is read at
	 * tail_poll() */
	TAIL_NOTICE_NO_WATCH,
	/* the inotify queue overflowed: every file is rescanned (idx
	 * TAIL_ALL, arg and path NULL) */
	TAIL_NOTICE_OVERFLOW,
};

#define TAIL_ALL ((size_t)-1)

/* A line of file idx (arg as given to tail_add). ln->lineno is 0 when the
 * line number is unknown (see count_max). ln->data is valid only during
 * the call. */
typedef void (*tail_line_fn)(void *arg, size_t idx,
                             const struct lines_line *ln);
/* Something happened to file idx (see enum tail_notice); errnum is an errno
 * value for TAIL_NOTICE_ERROR and TAIL_NOTICE_NO_WATCH, else 0. */
typedef void (*tail_notice_fn)(void *arg, size_t idx, const char *path,
                               enum tail_notice kind, int errnum);

struct tail_options {
	size_t max_line;    /* longer lines are cut (lines.h) */
	size_t max_read;    /* bytes read per file per call, so that one busy
	                     * file cannot starve the others (> 0) */
	int rotate_wait_ms; /* after the path names a new file, keep reading
	                     * the old one until it has had no new data for
	                     * this long (writers reopen late); 0: switch at
	                     * once */
	uint64_t count_max; /* starting at the end of an existing file with no
	                     * saved position, its lines are counted when it is
	                     * at most this big; else line numbers are unknown
	                     * (0) until the file is rotated */
	const char *checkpoint;   /* the positions file, or NULL for none
	                           * (copied) */
	tail_line_fn on_line;     /* required */
	tail_notice_fn on_notice; /* may be NULL */
};

#define TAIL_OPTIONS_DEFAULT                                                   \
	{                                                                      \
		.max_line = 65536, .max_read = 1u << 20,                       \
		.rotate_wait_ms = 2000, .count_max = 256u << 20,               \
	}

/* Counts for one file, or for all (TAIL_ALL). */
struct tail_stats {
	uint64_t lines;           /* lines handed out */
	uint64_t truncated_lines; /* of them, cut at max_line */
	uint64_t skipped_bytes;   /* bytes of cut lines not handed out */
	uint64_t bytes;           /* bytes read */
	uint64_t rotations;
	uint64_t truncations; /* copytruncate seen (shrink below offset) */
	uint64_t deletions;
	uint64_t dropped_bytes; /* partial lines lost to a truncation */
	uint64_t errors;        /* open, stat and read errors */
	uint64_t overflows;     /* inotify queue overflows (TAIL_ALL only) */
};

struct tail;

/* Create the follower: an inotify fd, and the saved positions read from
 * opt->checkpoint when that file exists (temporary files an interrupted
 * tail_checkpoint left beside it are removed). Returns NULL with err when inotify
 * cannot be set up, the options are bad, or the checkpoint file cannot be
 * read or is malformed (file:line: reason; delete it to start afresh).
 * Caller owns the result (tail_destroy). */
struct tail *tail_new(const struct tail_options *opt,
                      struct bw_error *err) BW_WUR;
/* Close every file and the inotify fd and free t; sets *t to NULL. Does not
 * write the checkpoint (call tail_checkpoint first). Accepts NULL. */
void tail_destroy(struct tail **t);

/*
 * Follow path (copied). Where reading starts: the saved position if the
 * checkpoint has one for this path and the file at the path is the same
 * (device, inode) and not shorter; offset 0 if the checkpoint has the path
 * but the file differs (it was rotated or recreated while we were down) or
 * is shorter; else per start (at the end: after its last complete line).
 * A file that does not exist yet is read from 0 when it appears. arg is
 * handed to the callbacks. Returns the file's index (0, 1, ... in the order
 * of the calls), or -1 with err when the directory of path does not exist
 * or cannot be watched, or the file exists but cannot be opened or read or
 * is not a regular file. Lines are read only by tail_process/tail_poll.
 */
int tail_add(struct tail *t, const char *path, enum tail_start start, void *arg,
             struct bw_error *err) BW_WUR;

/* The inotify fd to poll for POLLIN (owned by t). */
int tail_fd(const struct tail *t);

/* Read the pending inotify events, then the new data of the files they
 * concern (at most max_read bytes per file), calling on_line. Returns 1
 * when some file has more to read (call again without waiting), 0 when all
 * is read, -1 with err when the inotify fd cannot be read. Problems with
 * one file are not errors: they go to on_notice and the counters. */
int tail_process(struct tail *t, struct bw_error *err) BW_WUR;

/* Check every file (stat, size, new data), whatever inotify said: catches
 * copytruncate, missed events, files that became readable, directories that
 * reappeared, and old files whose rotate_wait has passed. Call every second
 * or so. Returns as tail_process. */
int tail_poll(struct tail *t, struct bw_error *err) BW_WUR;

/* Write the positions of every file to the checkpoint file durably and
 * atomically (bw_file_write_atomic: temporary file, write, fsync, rename,
 * fsync of the directory), if any changed since the last write. Returns 0 (also with no checkpoint configured), or -1 with
 * err; the old checkpoint then stays intact. */
int tail_checkpoint(struct tail *t, struct bw_error *err) BW_WUR;

/* The number of files added. */
size_t tail_count(const struct tail *t);
/* File idx's position as a checkpoint would save it: the offset just past
 * the last complete line handed out, and the number of lines before it
 * (0 when unknown). */
void tail_position(const struct tail *t, size_t idx, uint64_t *offset,
                   uint64_t *lineno);
/* Counts of file idx, or of all files with TAIL_ALL. */
void tail_stats(const struct tail *t, size_t idx, struct tail_stats *st);
/* A short English phrase for a notice ("rotated", ...). */
const char *tail_notice_str(enum tail_notice kind);

#endif
