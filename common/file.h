/*
 * file.h - whole files: reading with a ceiling, and durable atomic writes.
 *
 * A durable write goes to a temporary file beside the target (named
 * "<path>.tmp.XXXXXX", so a directory scan can tell it from finished files),
 * is written, fsync'ed, closed, then put in place with rename() (replace) or
 * link() (never replace an existing file), and the directory is fsync'ed. A
 * reader sees the old file or the whole new one, never a part, and after a
 * crash at most a leftover temporary file remains.
 */
#ifndef BW_FILE_H
#define BW_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"

/* The marker in the names of temporary files of bw_file_write_atomic. */
#define BW_FILE_TMP_MARK ".tmp."

/* Write all len bytes to fd, retrying on EINTR and short writes. Returns 0,
 * or -1 with errno set. */
int bw_write_all(int fd, const void *p, size_t len) BW_WUR;

/* Write data to path durably and atomically, with the given mode (not
 * narrowed by the umask: the file gets exactly mode & 0777). When replace is
 * false and path exists, nothing is written and -1 is returned with err
 * saying so and errno EEXIST. Returns 0, or -1 with err filled (file = path)
 * and no temporary file left behind. */
int bw_file_write_atomic(const char *path, const void *data, size_t len,
			 mode_t mode, bool replace, struct bw_error *err) BW_WUR;

/* Read the whole of path into a new NUL-terminated buffer (the NUL not
 * counted in *len). A file larger than max bytes is an error. Returns 0
 * with *out (caller frees) and *len set, or -1 with err filled (file =
 * path) and errno set. */
int bw_file_read(const char *path, size_t max, char **out, size_t *len,
		 struct bw_error *err) BW_WUR;

#endif
