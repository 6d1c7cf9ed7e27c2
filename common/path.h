/*
 * path.h - file paths and durable directory updates.
 */
#ifndef BW_PATH_H
#define BW_PATH_H

/* The directory part of path, newly allocated: "." when path has no slash,
 * "/" for a file in the root. Like dirname(3), without touching path. */
char *bw_path_dir(const char *path);

/* fsync the directory holding path, so that a rename or a new file in it
 * survives a crash. Returns 0, or -1 with errno set. */
int bw_fsync_dir_of(const char *path);

#endif
