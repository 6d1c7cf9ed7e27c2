/*
 * tail.c - following live log files with inotify (see tail.h).
 *
 * Each file's directory is watched for names appearing and going
 * (IN_CREATE, IN_MOVED_TO, IN_MOVED_FROM, IN_DELETE), and the open file
 * itself for writes, truncation, renames and link count changes (IN_MODIFY,
 * IN_ATTRIB, IN_MOVE_SELF). An event only marks files dirty; the work is
 * done by service(), which is also what tail_poll() runs on every file, so
 * that a lost event (queue overflow) costs at most a poll interval:
 *
 *   1. no open file: try to open the path (a file that appeared: from 0);
 *   2. the open file shrank below our read offset: copytruncate, from 0;
 *   3. read new data with pread, up to max_read bytes per call;
 *   4. at its end, if the path no longer names this file (rotated or
 *      deleted) and the file has been idle for rotate_wait: yield its
 *      unterminated last line, close it, and go to 1.
 *
 * Reads use pread at our own offset, never the file position, and the
 * watch is put on /proc/self/fd/N so that it is on the inode we opened even
 * if the path was renamed in between.
 */
#include "tail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/file.h"
#include "../common/path.h"
#include "../common/xmalloc.h"

#define READ_BLOCK  (256u << 10)
#define CK_MAX_SIZE (16u << 20) /* a checkpoint file bigger is refused */
#define CK_MAGIC    "breachwatch-positions 1"
#define DIR_MASK                                                               \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |                 \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

struct ckentry {
	char *path;
	uint64_t dev, ino, offset, lineno;
};

struct tdir {
	char *path;
	int wd; /* -1 while the directory is gone */
};

struct tfile {
	char *path;
	const char *name; /* the last component of path */
	size_t dir;       /* index in tail.dirs */
	void *arg;
	int fd; /* -1 when the file is missing */
	uint64_t dev, ino;
	uint64_t read_off; /* next byte to read */
	struct lines lines;
	bool lineno_known;
	int wd;               /* the open file's watch, or -1 */
	bool dirty;           /* look at it at the next service round */
	bool more;            /* max_read was reached: more to read */
	int64_t last_data_us; /* when the open file last gave data */
	int last_err; /* the error last reported, so it is reported once */
	struct tail_stats st;
};

struct tail {
	struct tail_options opt;
	char *ck_path;
	int ifd;
	struct tfile *files;
	size_t n_files;
	struct tdir *dirs;
	size_t n_dirs;
	struct ckentry *ck;
	size_t n_ck;
	bool ck_dirty;
	char *buf;
	size_t buf_size;
	uint64_t overflows;
};

static const char *const notice_names[] = {
    [TAIL_NOTICE_RESUMED] = "resumed at the saved position",
    [TAIL_NOTICE_STARTED] = "started (no saved position)",
    [TAIL_NOTICE_RESTARTED] = "file changed since the saved position, "
                              "reading it from the start",
    [TAIL_NOTICE_MISSING] = "missing, waiting for it to appear",
    [TAIL_NOTICE_APPEARED] = "appeared",
    [TAIL_NOTICE_ROTATED] = "rotated",
    [TAIL_NOTICE_TRUNCATED] = "truncated, reading it from the start",
    [TAIL_NOTICE_DELETED] = "deleted",
    [TAIL_NOTICE_ERROR] = "error",
    [TAIL_NOTICE_NOT_REGULAR] = "not a regular file",
    [TAIL_NOTICE_NO_WATCH] = "no inotify watch, polling it",
    [TAIL_NOTICE_OVERFLOW] = "inotify queue overflow, rescanning",
};

const char *tail_notice_str(enum tail_notice kind)
{
	if ((size_t)kind >= sizeof(notice_names) / sizeof(notice_names[0]) ||
	    notice_names[kind] == NULL)
		return "?";
	return notice_names[kind];
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void notice(struct tail *t, size_t idx, enum tail_notice kind,
                   int errnum)
{
	struct tfile *f = &t->files[idx];

	if (t->opt.on_notice != NULL)
		t->opt.on_notice(f->arg, idx, f->path, kind, errnum);
}

/* Report an error once until the file works again. */
static void file_error(struct tail *t, size_t idx, enum tail_notice kind,
                       int errnum)
{
	struct tfile *f = &t->files[idx];
	int key = kind == TAIL_NOTICE_NOT_REGULAR ? -1 : errnum;

	f->st.errors++;
	if (f->last_err == key)
		return;
	f->last_err = key;
	notice(t, idx, kind, errnum);
}

/* --- checkpoint file ---------------------------------------------------- */

/* Paths are written with bytes <= ' ', DEL and '%' as %XX, so that a line
 * is always five space-separated fields. */
static int path_encode(struct bw_buf *b, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if (*p <= ' ' || *p == 0x7f || *p == '%') {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

			if (bw_buf_add(b, esc, 3) < 0)
				return -1;
		} else if (bw_buf_addc(b, (char)*p) < 0) {
			return -1;
		}
	}
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode s[0..len) into a new string. Returns NULL on a bad escape or an
 * encoded NUL. */
static char *path_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (len - i < 3)
				goto fail;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi | lo) == 0)
				goto fail;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

/* Parse a decimal uint64 field at *p (up to the next space or the end of
 * the line at end); advance *p past it and one space. */
static int parse_u64(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -1;
	while (s < end && *s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		s++;
	}
	if (s < end) {
		if (*s != ' ')
			return -1;
		s++;
	}
	*out = v;
	*p = s;
	return 0;
}

/* One entry line: PATH DEV INO OFFSET LINENO. */
static int ck_parse_line(const char *s, const char *end, struct ckentry *e)
{
	const char *sp = memchr(s, ' ', (size_t)(end - s));

	if (sp == NULL || sp == s)
		return -1;
	e->path = path_decode(s, (size_t)(sp - s));
	if (e->path == NULL)
		return -1;
	s = sp + 1;
	if (parse_u64(&s, end, &e->dev) < 0 ||
	    parse_u64(&s, end, &e->ino) < 0 ||
	    parse_u64(&s, end, &e->offset) < 0 ||
	    parse_u64(&s, end, &e->lineno) < 0 || s != end) {
		free(e->path);
		e->path = NULL;
		return -1;
	}
	return 0;
}

/* Read the whole checkpoint file into a new buffer; *len set. Returns 1,
 * 0 when there is no such file, -1 with err. */
static int ck_slurp(const char *path, char **data, size_t *len,
                    struct bw_error *err)
{
	if (bw_file_read(path, CK_MAX_SIZE, data, len, err) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

/* Remove what an interrupted tail_checkpoint left: "<ck>.tmp.XXXXXX"
 * (file.h), and "<ck>.tmp" of older versions. Best effort. */
static void ck_remove_tmp(const struct tail *t)
{
	char *dir = bw_path_dir(t->ck_path), *old;
	const char *slash = strrchr(t->ck_path, '/');
	const char *base = slash != NULL ? slash + 1 : t->ck_path;
	size_t blen = strlen(base), mlen = strlen(BW_FILE_TMP_MARK);
	struct dirent *de;
	DIR *dp;

	old = xasprintf("%s.tmp", t->ck_path);
	(void)unlink(old);
	free(old);
	dp = opendir(dir);
	while (dp != NULL && (de = readdir(dp)) != NULL) {
		if (strncmp(de->d_name, base, blen) != 0 ||
		    strncmp(de->d_name + blen, BW_FILE_TMP_MARK, mlen) != 0)
			continue;
		(void)unlinkat(dirfd(dp), de->d_name, 0);
	}
	if (dp != NULL)
		closedir(dp);
	free(dir);
}

static int ck_load(struct tail *t, struct bw_error *err)
{
	const char *s, *end, *eol;
	char *data = NULL;
	size_t len = 0, cap = 0;
	int line = 0;
	int rc;

	rc = ck_slurp(t->ck_path, &data, &len, err);
	if (rc <= 0)
		return rc;
	s = data;
	end = data + len;
	while (s < end) {
		struct ckentry e;

		line++;
		eol = memchr(s, '\n', (size_t)(end - s));
		if (eol == NULL) {
			bw_error_set(err, t->ck_path, line,
			             "unterminated line (file cut short?)");
			goto fail;
		}
		if (line == 1) {
			if ((size_t)(eol - s) != strlen(CK_MAGIC) ||
			    memcmp(s, CK_MAGIC, strlen(CK_MAGIC)) != 0) {
				bw_error_set(err, t->ck_path, line,
				             "not a breachwatch positions file "
				             "(version 1)");
				goto fail;
			}
		} else {
			if (ck_parse_line(s, eol, &e) < 0) {
				bw_error_set(err, t->ck_path, line,
				             "malformed entry (want PATH DEV "
				             "INO OFFSET LINENO)");
				goto fail;
			}
			if (t->n_ck == cap) {
				cap = cap ? cap * 2 : 16;
				t->ck =
				    xreallocarray(t->ck, cap, sizeof(*t->ck));
			}
			t->ck[t->n_ck++] = e;
		}
		s = eol + 1;
	}
	if (line == 0) {
		bw_error_set(err, t->ck_path, 0, "empty positions file");
		goto fail;
	}
	free(data);
	return 0;
fail:
	free(data);
	return -1;
}

static const struct ckentry *ck_find(const struct tail *t, const char *path)
{
	size_t i;

	for (i = 0; i < t->n_ck; i++)
		if (strcmp(t->ck[i].path, path) == 0)
			return &t->ck[i];
	return NULL;
}

int tail_checkpoint(struct tail *t, struct bw_error *err)
{
	struct bw_buf b;
	size_t i;

	if (t->ck_path == NULL || !t->ck_dirty)
		return 0;
	bw_buf_init(&b, CK_MAX_SIZE); /* what ck_load accepts */
	if (bw_buf_addstr(&b, CK_MAGIC "\n") < 0)
		goto toobig;
	for (i = 0; i < t->n_files; i++) {
		uint64_t off = 0, lineno = 0, dev = 0, ino = 0;
		struct tfile *f = &t->files[i];

		if (f->fd >= 0) {
			dev = f->dev;
			ino = f->ino;
			tail_position(t, i, &off, &lineno);
		}
		if (path_encode(&b, f->path) < 0 ||
		    bw_buf_printf(&b,
		                  " %" PRIu64 " %" PRIu64 " %" PRIu64
		                  " %" PRIu64 "\n",
		                  dev, ino, off, lineno) < 0)
			goto toobig;
	}
	if (bw_file_write_atomic(t->ck_path, b.data, b.len, 0600, true,
	                         err) < 0)
		goto fail;
	t->ck_dirty = false;
	bw_buf_free(&b);
	return 0;
toobig:
	bw_error_set(err, t->ck_path, 0, "positions too big");
fail:
	bw_buf_free(&b);
	return -1;
}

/* --- watches ------------------------------------------------------------ */

/* Put a watch on the inode behind f->fd. */
static void watch_file(struct tail *t, size_t idx)
{
	struct tfile *f = &t->files[idx];
	char proc[64];
	int wd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", f->fd);
	wd = inotify_add_watch(t->ifd, proc, FILE_MASK);
	if (wd < 0 && errno == ENOENT) /* no /proc: the path, racily */
		wd = inotify_add_watch(t->ifd, f->path, FILE_MASK);
	if (wd < 0) {
		f->wd = -1;
		notice(t, idx, TAIL_NOTICE_NO_WATCH, errno);
		return;
	}
	f->wd = wd;
}

/* Remove f's watch unless another file shares it (the same inode). */
static void unwatch_file(struct tail *t, size_t idx)
{
	struct tfile *f = &t->files[idx];
	size_t i;

	if (f->wd < 0)
		return;
	for (i = 0; i < t->n_files; i++)
		if (i != idx && t->files[i].wd == f->wd)
			break;
	if (i == t->n_files)
		(void)inotify_rm_watch(t->ifd, f->wd);
	f->wd = -1;
}

/* --- reading ------------------------------------------------------------ */

static void emit(struct tail *t, size_t idx, struct lines_line *ln)
{
	struct tfile *f = &t->files[idx];

	if (!f->lineno_known)
		ln->lineno = 0;
	t->opt.on_line(f->arg, idx, ln);
}

/* Close the open file after yielding its unterminated last line. */
static void file_close(struct tail *t, size_t idx)
{
	struct tfile *f = &t->files[idx];
	struct lines_line ln;

	if (lines_finish(&f->lines, &ln) == 1)
		emit(t, idx, &ln);
	unwatch_file(t, idx);
	close(f->fd);
	f->fd = -1;
	f->dev = f->ino = 0;
	f->read_off = 0;
	lines_reset(&f->lines, 0, 0);
	f->lineno_known = true;
	t->ck_dirty = true;
}

/* Adopt an opened fd as f's file, read from offset `off` after `lineno`
 * lines. */
static void file_adopt(struct tail *t, size_t idx, int fd,
                       const struct stat *sb, uint64_t off, uint64_t lineno,
                       bool lineno_known)
{
	struct tfile *f = &t->files[idx];

	f->fd = fd;
	f->dev = (uint64_t)sb->st_dev;
	f->ino = (uint64_t)sb->st_ino;
	f->read_off = off;
	lines_reset(&f->lines, off, lineno);
	f->lineno_known = lineno_known;
	f->last_data_us = now_us();
	f->last_err = 0;
	f->dirty = true;
	t->ck_dirty = true;
	watch_file(t, idx);
}

/* Open f's path. Returns the fd with *sb filled, or -1 with errno (EISDIR
 * style problems as ENODEV: not a regular file). */
static int open_regular(const char *path, struct stat *sb)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, sb) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (!S_ISREG(sb->st_mode)) {
		close(fd);
		errno = ENODEV;
		return -1;
	}
	return fd;
}

/* A file at f's path, after a missing one or a rotation: read it from 0.
 * Returns 0 when it is open. */
static int file_open_new(struct tail *t, size_t idx, enum tail_notice kind)
{
	struct tfile *f = &t->files[idx];
	struct stat sb;
	int fd;

	fd = open_regular(f->path, &sb);
	if (fd < 0) {
		if (errno == ENOENT) {
			f->last_err = 0;
		} else if (errno == ENODEV) {
			file_error(t, idx, TAIL_NOTICE_NOT_REGULAR, 0);
		} else {
			file_error(t, idx, TAIL_NOTICE_ERROR, errno);
		}
		return -1;
	}
	file_adopt(t, idx, fd, &sb, 0, 0, true);
	notice(t, idx, kind, 0);
	return 0;
}

/* Read up to *budget bytes of new data. Returns 0 at the end of the file,
 * 1 when the budget ran out, -1 on a read error (reported). */
static int file_read(struct tail *t, size_t idx, size_t *budget)
{
	struct tfile *f = &t->files[idx];
	struct lines_line ln;
	uint64_t before = lines_offset(&f->lines);
	int rc = 1;

	while (*budget > 0) {
		size_t want = *budget < t->buf_size ? *budget : t->buf_size;
		ssize_t n;

		n = pread(f->fd, t->buf, want, (off_t)f->read_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			file_error(t, idx, TAIL_NOTICE_ERROR, errno);
			rc = -1;
			break;
		}
		if (n == 0) {
			rc = 0;
			break;
		}
		f->read_off += (uint64_t)n;
		f->st.bytes += (uint64_t)n;
		*budget -= (size_t)n;
		f->last_data_us = now_us();
		f->last_err = 0;
		lines_push(&f->lines, t->buf, (size_t)n);
		while (lines_next(&f->lines, &ln) == 1)
			emit(t, idx, &ln);
	}
	if (lines_offset(&f->lines) != before)
		t->ck_dirty = true;
	return rc;
}

/* Look at file idx: open, detect truncation, read, detect rotation and
 * deletion. Returns 1 when it has more to read than the budget allowed. */
static int service(struct tail *t, size_t idx)
{
	struct tfile *f = &t->files[idx];
	size_t budget = t->opt.max_read;
	struct stat sb, pb;
	enum tail_notice kind;
	int rc, switches = 0;

	f->dirty = false;
	f->more = false;
	if (f->fd < 0 && file_open_new(t, idx, TAIL_NOTICE_APPEARED) < 0)
		return 0;
	for (;;) {
		if (fstat(f->fd, &sb) < 0) {
			file_error(t, idx, TAIL_NOTICE_ERROR, errno);
			return 0;
		}
		if ((uint64_t)sb.st_size < f->read_off) {
			f->st.dropped_bytes += lines_reset(&f->lines, 0, 0);
			f->read_off = 0;
			f->lineno_known = true;
			f->st.truncations++;
			t->ck_dirty = true;
			notice(t, idx, TAIL_NOTICE_TRUNCATED, 0);
		}
		rc = file_read(t, idx, &budget);
		if (rc < 0)
			return 0;
		if (rc > 0) {
			f->more = true;
			return 1;
		}
		/* At the end of the file: does the path still name it? */
		if (stat(f->path, &pb) == 0) {
			if ((uint64_t)pb.st_dev == f->dev &&
			    (uint64_t)pb.st_ino == f->ino)
				return 0;
		} else if (errno != ENOENT) {
			file_error(t, idx, TAIL_NOTICE_ERROR, errno);
			return 0;
		} else if (sb.st_nlink > 0) {
			return 0; /* renamed away, no new file yet: keep on */
		}
		/* Rotated, or deleted: let late writers finish first. */
		if (now_us() - f->last_data_us <
		    (int64_t)t->opt.rotate_wait_ms * 1000)
			return 0;
		/* A path replaced faster than we read waits for the next
		 * round rather than looping here. */
		if (switches++ >= 2) {
			f->more = true;
			return 1;
		}
		file_close(t, idx);
		if (sb.st_nlink == 0) {
			f->st.deletions++;
			notice(t, idx, TAIL_NOTICE_DELETED, 0);
			kind = TAIL_NOTICE_APPEARED;
		} else {
			f->st.rotations++;
			kind = TAIL_NOTICE_ROTATED;
		}
		if (file_open_new(t, idx, kind) < 0)
			return 0;
	}
}

static int service_all(struct tail *t)
{
	size_t i;
	int more = 0;

	for (i = 0; i < t->n_files; i++)
		if (t->files[i].dirty || t->files[i].more)
			more |= service(t, i);
	return more;
}

/* --- inotify events ----------------------------------------------------- */

static void on_event(struct tail *t, const struct inotify_event *ev)
{
	size_t i, j;

	if (ev->mask & IN_Q_OVERFLOW) {
		t->overflows++;
		for (i = 0; i < t->n_files; i++)
			t->files[i].dirty = true;
		if (t->opt.on_notice != NULL)
			t->opt.on_notice(NULL, TAIL_ALL, NULL,
			                 TAIL_NOTICE_OVERFLOW, 0);
		return;
	}
	for (j = 0; j < t->n_dirs; j++) {
		if (t->dirs[j].wd != ev->wd)
			continue;
		if (ev->mask & IN_IGNORED)
			t->dirs[j].wd = -1; /* gone: tail_poll re-adds it */
		for (i = 0; i < t->n_files; i++) {
			struct tfile *f = &t->files[i];

			if (f->dir != j)
				continue;
			if (ev->len == 0 || strcmp(ev->name, f->name) == 0)
				f->dirty = true;
		}
	}
	for (i = 0; i < t->n_files; i++) {
		if (t->files[i].wd != ev->wd)
			continue;
		t->files[i].dirty = true;
		if (ev->mask & IN_IGNORED)
			t->files[i].wd = -1;
	}
}

static int read_events(struct tail *t, struct bw_error *err)
{
	char buf[16384]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(t->ifd, buf, sizeof(buf));
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return bw_error_set(err, NULL, 0, "inotify read: %s",
			                    strerror(errno));
		if (n == 0)
			return 0;
		while ((size_t)n - off >= sizeof(struct inotify_event)) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)(buf + off);
			size_t sz = sizeof(*ev) + ev->len;

			if (sz > (size_t)n - off)
				break;
			on_event(t, ev);
			off += sz;
		}
	}
}

int tail_process(struct tail *t, struct bw_error *err)
{
	if (read_events(t, err) < 0)
		return -1;
	return service_all(t);
}

int tail_poll(struct tail *t, struct bw_error *err)
{
	size_t i, j;

	if (read_events(t, err) < 0)
		return -1;
	for (j = 0; j < t->n_dirs; j++) {
		if (t->dirs[j].wd >= 0)
			continue;
		t->dirs[j].wd =
		    inotify_add_watch(t->ifd, t->dirs[j].path, DIR_MASK);
	}
	for (i = 0; i < t->n_files; i++)
		t->files[i].dirty = true;
	return service_all(t);
}

/* --- set-up ------------------------------------------------------------- */

struct tail *tail_new(const struct tail_options *opt, struct bw_error *err)
{
	struct tail *t;

	if (opt->on_line == NULL || opt->max_read == 0 ||
	    opt->rotate_wait_ms < 0) {
		bw_error_set(err, NULL, 0,
		             "tail: bad options (no on_line callback, "
		             "max_read 0 or rotate_wait_ms < 0)");
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->opt = *opt;
	t->opt.checkpoint = NULL;
	t->ifd = -1;
	if (opt->checkpoint != NULL) {
		t->ck_path = xstrdup(opt->checkpoint);
		ck_remove_tmp(t);
		if (ck_load(t, err) < 0)
			goto fail;
	}
	t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (t->ifd < 0) {
		bw_error_set(err, NULL, 0, "inotify_init1: %s",
		             strerror(errno));
		goto fail;
	}
	t->buf_size = READ_BLOCK;
	t->buf = xmalloc(t->buf_size);
	return t;
fail:
	tail_destroy(&t);
	return NULL;
}

void tail_destroy(struct tail **tp)
{
	struct tail *t = *tp;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n_files; i++) {
		if (t->files[i].fd >= 0)
			close(t->files[i].fd);
		lines_free(&t->files[i].lines);
		free(t->files[i].path);
	}
	free(t->files);
	for (i = 0; i < t->n_dirs; i++)
		free(t->dirs[i].path);
	free(t->dirs);
	for (i = 0; i < t->n_ck; i++)
		free(t->ck[i].path);
	free(t->ck);
	if (t->ifd >= 0)
		close(t->ifd);
	free(t->buf);
	free(t->ck_path);
	free(t);
	*tp = NULL;
}

/* Find or add the watch on directory dir. Returns its index or -1. */
static int dir_watch(struct tail *t, const char *dir, const char *path,
                     struct bw_error *err)
{
	struct stat sb;
	size_t j;
	int wd;

	for (j = 0; j < t->n_dirs; j++)
		if (strcmp(t->dirs[j].path, dir) == 0)
			return (int)j;
	if (stat(dir, &sb) < 0)
		return bw_error_set(err, path, 0, "directory %s: %s", dir,
		                    strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return bw_error_set(err, path, 0, "%s is not a directory", dir);
	wd = inotify_add_watch(t->ifd, dir, DIR_MASK);
	if (wd < 0)
		return bw_error_set(err, path, 0, "inotify watch on %s: %s",
		                    dir, strerror(errno));
	t->dirs = xreallocarray(t->dirs, t->n_dirs + 1, sizeof(*t->dirs));
	t->dirs[t->n_dirs].path = xstrdup(dir);
	t->dirs[t->n_dirs].wd = wd;
	return (int)t->n_dirs++;
}

/*
 * Where to start in an existing file with no saved position, at its end:
 * just after its last newline, so that a line being written now is read
 * whole. Its lines are counted when it is at most count_max bytes; else
 * only its last max_line + 1 bytes are searched and the line number is
 * unknown. Returns 0, or -1 with errno on a read error.
 */
static int find_end(struct tail *t, int fd, uint64_t size, uint64_t *off,
                    uint64_t *lineno, bool *known)
{
	uint64_t pos, last_nl_end = 0, count = 0;
	bool counting = size <= t->opt.count_max;

	pos = 0;
	if (!counting) {
		uint64_t back = (uint64_t)t->opt.max_line + 1;

		pos = size > back ? size - back : 0;
		/* No newline in the last max_line + 1 bytes: at the end. */
		last_nl_end = pos > 0 ? size : 0;
	}
	while (pos < size) {
		uint64_t left = size - pos;
		size_t want = left < t->buf_size ? (size_t)left : t->buf_size;
		ssize_t n = pread(fd, t->buf, want, (off_t)pos);
		const char *p, *q, *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break; /* shrank meanwhile */
		p = t->buf;
		end = t->buf + n;
		for (;;) {
			q = memchr(p, '\n', (size_t)(end - p));
			if (q == NULL)
				break;
			count++;
			last_nl_end = pos + (uint64_t)(q - t->buf) + 1;
			p = q + 1;
		}
		pos += (uint64_t)n;
	}
	*off = last_nl_end;
	*lineno = counting ? count : 0;
	*known = counting;
	return 0;
}

int tail_add(struct tail *t, const char *path, enum tail_start start, void *arg,
             struct bw_error *err)
{
	const struct ckentry *ck;
	const char *slash;
	struct tfile *f;
	struct stat sb;
	char *dir;
	size_t idx;
	uint64_t off = 0, lineno = 0;
	bool known = true;
	enum tail_notice kind;
	int d, fd;

	slash = strrchr(path, '/');
	if (path[0] == '\0' || (slash != NULL && slash[1] == '\0'))
		return bw_error_set(err, path, 0, "not a file name");
	dir = bw_path_dir(path);
	d = dir_watch(t, dir, path, err);
	free(dir);
	if (d < 0)
		return -1;

	fd = open_regular(path, &sb);
	if (fd < 0 && errno == ENODEV)
		return bw_error_set(err, path, 0, "not a regular file");
	if (fd < 0 && errno != ENOENT)
		return bw_error_set(err, path, 0, "%s", strerror(errno));

	ck = ck_find(t, path);
	if (fd < 0) {
		kind = TAIL_NOTICE_MISSING;
	} else if (ck != NULL && ck->dev == (uint64_t)sb.st_dev &&
	           ck->ino == (uint64_t)sb.st_ino &&
	           ck->offset <= (uint64_t)sb.st_size) {
		kind = TAIL_NOTICE_RESUMED;
		off = ck->offset;
		lineno = ck->lineno;
		known = !(ck->lineno == 0 && ck->offset > 0);
	} else if (ck != NULL) {
		kind = TAIL_NOTICE_RESTARTED;
	} else {
		kind = TAIL_NOTICE_STARTED;
		if (start == TAIL_START_END &&
		    find_end(t, fd, (uint64_t)sb.st_size, &off, &lineno,
		             &known) < 0) {
			bw_error_set(err, path, 0, "read: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}

	t->files = xreallocarray(t->files, t->n_files + 1, sizeof(*t->files));
	idx = t->n_files++;
	f = &t->files[idx];
	memset(f, 0, sizeof(*f));
	f->path = xstrdup(path);
	slash = strrchr(f->path, '/');
	f->name = slash ? slash + 1 : f->path;
	f->dir = (size_t)d;
	f->arg = arg;
	f->fd = -1;
	f->wd = -1;
	f->lineno_known = true;
	f->dirty = true;
	lines_init(&f->lines, t->opt.max_line, 0, 0);
	t->ck_dirty = true;
	if (fd >= 0)
		file_adopt(t, idx, fd, &sb, off, lineno, known);
	notice(t, idx, kind, 0);
	return (int)idx;
}

int tail_fd(const struct tail *t)
{
	return t->ifd;
}

size_t tail_count(const struct tail *t)
{
	return t->n_files;
}

void tail_position(const struct tail *t, size_t idx, uint64_t *offset,
                   uint64_t *lineno)
{
	const struct tfile *f = &t->files[idx];

	*offset = lines_offset(&f->lines);
	*lineno = f->lineno_known ? lines_lineno(&f->lines) : 0;
}

static void add_stats(struct tail_stats *to, const struct tfile *f)
{
	to->lines += f->lines.stats.lines;
	to->truncated_lines += f->lines.stats.truncated;
	to->skipped_bytes += f->lines.stats.skipped_bytes;
	to->bytes += f->st.bytes;
	to->rotations += f->st.rotations;
	to->truncations += f->st.truncations;
	to->deletions += f->st.deletions;
	to->dropped_bytes += f->st.dropped_bytes;
	to->errors += f->st.errors;
}

void tail_stats(const struct tail *t, size_t idx, struct tail_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	if (idx != TAIL_ALL) {
		add_stats(st, &t->files[idx]);
		return;
	}
	for (i = 0; i < t->n_files; i++)
		add_stats(st, &t->files[i]);
	st->overflows = t->overflows;
}
