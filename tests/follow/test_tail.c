/*
 * test_tail.c - following real files in a temporary directory: appends,
 * rotation by rename and by copytruncate, missing and deleted files,
 * partial lines, checkpoints and restarts, bounded reads.
 *
 * The inotify fd is polled with short timeouts, and every wait is bounded:
 * pump() stops as soon as the lines it expects have arrived.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tail.h"
#include "xmalloc.h"
#include "check_main.h"

#define MAX_REC 4096

struct rec {
	size_t idx;
	char *data;
	size_t len;
	uint64_t offset, lineno;
	bool truncated;
};

/* What the callbacks saw. Static: one test per forked process. */
static struct rec recs[MAX_REC];
static size_t n_recs;
static enum tail_notice notices[256];
static size_t n_notices;
static char dir[64];

static void on_line(void *arg, size_t idx, const struct lines_line *ln)
{
	struct rec *r;

	ck_assert_uint_lt(n_recs, MAX_REC);
	ck_assert_ptr_eq(arg, &recs); /* the arg given to tail_add */
	r = &recs[n_recs++];
	r->idx = idx;
	r->data = xmalloc(ln->len + 1);
	memcpy(r->data, ln->data, ln->len);
	r->data[ln->len] = '\0';
	r->len = ln->len;
	r->offset = ln->offset;
	r->lineno = ln->lineno;
	r->truncated = ln->truncated;
}

static void on_notice(void *arg, size_t idx, const char *path,
                      enum tail_notice kind, int errnum)
{
	if (kind != TAIL_NOTICE_OVERFLOW)
		ck_assert_ptr_nonnull(path);
	if (n_notices < sizeof(notices) / sizeof(notices[0]))
		notices[n_notices++] = kind;
}

static bool saw_notice(enum tail_notice kind)
{
	size_t i;

	for (i = 0; i < n_notices; i++)
		if (notices[i] == kind)
			return true;
	return false;
}

static void reset_recs(void)
{
	size_t i;

	for (i = 0; i < n_recs; i++)
		free(recs[i].data);
	n_recs = 0;
	n_notices = 0;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bw-tail-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	n_recs = 0;
	n_notices = 0;
}

static void teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d != NULL) {
		while ((de = readdir(d)) != NULL) {
			char p[512];

			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
	reset_recs();
}

static char *tpath(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void write_fd(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static struct tail *mk(const char *ck, int rotate_wait_ms)
{
	struct tail_options opt = TAIL_OPTIONS_DEFAULT;
	struct bw_error err;
	struct tail *t;

	opt.checkpoint = ck;
	opt.rotate_wait_ms = rotate_wait_ms;
	opt.on_line = on_line;
	opt.on_notice = on_notice;
	t = tail_new(&opt, &err);
	ck_assert_msg(t != NULL, "tail_new: %s", err.msg);
	return t;
}

static int add(struct tail *t, const char *path, enum tail_start start)
{
	struct bw_error err;
	int idx = tail_add(t, path, start, &recs, &err);

	ck_assert_msg(idx >= 0, "tail_add %s: %s", path, err.msg);
	return idx;
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the agent's loop until `want` lines in all have been seen, or
 * max_ms. */
static void pump(struct tail *t, size_t want, int max_ms)
{
	int64_t deadline = ms_now() + max_ms;
	struct bw_error err;
	int more = 1;

	while (n_recs < want && ms_now() < deadline) {
		struct pollfd pfd = {.fd = tail_fd(t), .events = POLLIN};

		if (!more)
			(void)poll(&pfd, 1, 20);
		more = tail_process(t, &err);
		ck_assert_msg(more >= 0, "tail_process: %s", err.msg);
	}
}

/* Let events and polls run for a while: nothing unexpected may arrive. */
static void settle(struct tail *t, int ms)
{
	int64_t deadline = ms_now() + ms;
	struct bw_error err;

	while (ms_now() < deadline) {
		struct pollfd pfd = {.fd = tail_fd(t), .events = POLLIN};

		(void)poll(&pfd, 1, 10);
		ck_assert_int_ge(tail_process(t, &err), 0);
	}
	ck_assert_int_ge(tail_poll(t, &err), 0);
}

static void expect(size_t i, const char *data, uint64_t offset, uint64_t lineno)
{
	ck_assert_msg(i < n_recs, "line %zu (%s) not seen; %zu lines", i, data,
	              n_recs);
	ck_assert_str_eq(recs[i].data, data);
	ck_assert_msg(recs[i].offset == offset,
	              "line %zu (%s): offset %llu, want %llu", i, data,
	              (unsigned long long)recs[i].offset,
	              (unsigned long long)offset);
	ck_assert_msg(recs[i].lineno == lineno,
	              "line %zu (%s): lineno %llu, want %llu", i, data,
	              (unsigned long long)recs[i].lineno,
	              (unsigned long long)lineno);
}

START_TEST(test_appends_from_end)
{
	char *p = tpath("access.log");
	struct tail *t;

	append(p, "old1\nold2\n");
	t = mk(NULL, 0);
	ck_assert_int_eq(add(t, p, TAIL_START_END), 0);
	settle(t, 50);
	ck_assert_uint_eq(n_recs, 0);
	ck_assert(saw_notice(TAIL_NOTICE_STARTED));
	append(p, "a\nb\n");
	pump(t, 2, 2000);
	expect(0, "a", 10, 3);
	expect(1, "b", 12, 4);
	append(p, "c");
	settle(t, 50);
	ck_assert_uint_eq(n_recs, 2); /* partial line held */
	append(p, "d\r\n");
	pump(t, 3, 2000);
	expect(2, "cd", 14, 5);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 3);
	tail_destroy(&t);
	ck_assert_ptr_null(t);
	free(p);
}
END_TEST

START_TEST(test_start_beginning_and_end_mid_line)
{
	char *a = tpath("a.log"), *b = tpath("b.log");
	struct tail *t;

	append(a, "one\ntwo\n");
	append(b, "x\nhalf"); /* a writer is in the middle of a line */
	t = mk(NULL, 0);
	ck_assert_int_eq(add(t, a, TAIL_START_BEGINNING), 0);
	ck_assert_int_eq(add(t, b, TAIL_START_END), 1);
	pump(t, 2, 2000);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 2);
	expect(0, "one", 0, 1);
	expect(1, "two", 4, 2);
	ck_assert_uint_eq(recs[0].idx, 0);
	/* Starting at the end of b means after its last complete line, so
	 * the line being written is read whole. */
	append(b, "-done\n");
	pump(t, 3, 2000);
	expect(2, "half-done", 2, 2);
	ck_assert_uint_eq(recs[2].idx, 1);
	tail_destroy(&t);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_rename_rotation)
{
	char *p = tpath("app.log"), *p1 = tpath("app.log.1");
	struct tail_stats st;
	struct tail *t;
	int wfd;

	append(p, "");
	t = mk(NULL, 0);
	add(t, p, TAIL_START_BEGINNING);
	/* The writer keeps its fd across the rename, like nginx until it is
	 * told to reopen. */
	wfd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(wfd, 0);
	write_fd(wfd, "A1\nA2\n");
	pump(t, 2, 2000);
	ck_assert_int_eq(rename(p, p1), 0);
	write_fd(wfd, "B1\n");
	pump(t, 3, 2000);
	expect(2, "B1", 6, 3);
	/* The new file appears; the old one still gets a line and a partial
	 * last line before the writer lets go of it. */
	append(p, "C1\n");
	write_fd(wfd, "B2\nB3");
	close(wfd);
	pump(t, 6, 2000);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 6);
	expect(3, "B2", 9, 4);
	expect(4, "B3", 12, 5);
	expect(5, "C1", 0, 1);
	ck_assert(saw_notice(TAIL_NOTICE_ROTATED));
	append(p, "C2\n");
	pump(t, 7, 2000);
	expect(6, "C2", 3, 2);
	tail_stats(t, 0, &st);
	ck_assert_uint_eq(st.rotations, 1);
	ck_assert_uint_eq(st.lines, 7);
	tail_destroy(&t);
	free(p);
	free(p1);
}
END_TEST

START_TEST(test_rotate_wait)
{
	char *p = tpath("app.log"), *p1 = tpath("app.log.1");
	struct bw_error err;
	struct tail *t;
	int wfd;

	append(p, "");
	t = mk(NULL, 800);
	add(t, p, TAIL_START_BEGINNING);
	wfd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(wfd, 0);
	write_fd(wfd, "A1\n");
	pump(t, 1, 2000);
	ck_assert_int_eq(rename(p, p1), 0);
	append(p, "C1\n");
	write_fd(wfd, "B1\n"); /* a late write to the old file */
	pump(t, 2, 2000);
	settle(t, 50);
	ck_assert_uint_eq(n_recs, 2);
	expect(1, "B1", 3, 2);
	/* Only once the old file has been idle for rotate_wait. */
	write_fd(wfd, "B2\n");
	close(wfd);
	pump(t, 3, 2000);
	expect(2, "B2", 6, 3);
	usleep(900 * 1000);
	ck_assert_int_ge(tail_poll(t, &err), 0);
	ck_assert_uint_eq(n_recs, 4);
	expect(3, "C1", 0, 1);
	tail_destroy(&t);
	free(p);
	free(p1);
}
END_TEST

START_TEST(test_copytruncate)
{
	char *p = tpath("app.log");
	struct tail_stats st;
	struct tail *t;

	append(p, "");
	t = mk(NULL, 0);
	add(t, p, TAIL_START_BEGINNING);
	append(p, "first line\nsecond line\npartial");
	pump(t, 2, 2000);
	ck_assert_int_eq(truncate(p, 0), 0);
	append(p, "x\n");
	pump(t, 3, 2000);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 3);
	expect(2, "x", 0, 1);
	ck_assert(saw_notice(TAIL_NOTICE_TRUNCATED));
	tail_stats(t, 0, &st);
	ck_assert_uint_eq(st.truncations, 1);
	ck_assert_uint_eq(st.dropped_bytes, 7); /* "partial" */
	tail_destroy(&t);
	free(p);
}
END_TEST

START_TEST(test_missing_then_created)
{
	char *p = tpath("later.log");
	char *bad = xasprintf("%s/nodir/x.log", dir);
	struct bw_error err;
	struct tail *t;

	t = mk(NULL, 0);
	add(t, p, TAIL_START_END);
	ck_assert(saw_notice(TAIL_NOTICE_MISSING));
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 0);
	/* start END does not apply: the file is new, read it all. */
	append(p, "hello\nworld\n");
	pump(t, 2, 2000);
	expect(0, "hello", 0, 1);
	expect(1, "world", 6, 2);
	ck_assert(saw_notice(TAIL_NOTICE_APPEARED));
	/* The directory itself must exist. */
	ck_assert_int_eq(tail_add(t, bad, TAIL_START_END, NULL, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "nodir"));
	ck_assert_uint_eq(tail_count(t), 1);
	tail_destroy(&t);
	free(p);
	free(bad);
}
END_TEST

START_TEST(test_deleted_then_recreated)
{
	char *p = tpath("app.log");
	struct tail_stats st;
	struct tail *t;

	append(p, "");
	t = mk(NULL, 0);
	add(t, p, TAIL_START_BEGINNING);
	append(p, "one\ntail");
	pump(t, 1, 2000);
	ck_assert_int_eq(unlink(p), 0);
	/* Deleted: its unterminated last line is read, the file closed. */
	pump(t, 2, 2000);
	expect(1, "tail", 4, 2);
	settle(t, 30);
	ck_assert(saw_notice(TAIL_NOTICE_DELETED));
	append(p, "again\n");
	pump(t, 3, 2000);
	expect(2, "again", 0, 1);
	tail_stats(t, 0, &st);
	ck_assert_uint_eq(st.deletions, 1);
	tail_destroy(&t);
	free(p);
}
END_TEST

START_TEST(test_checkpoint_restart)
{
	char *p = tpath("app.log"), *ck = tpath("positions");
	struct bw_error err;
	uint64_t off, lineno;
	struct tail *t;

	append(p, "l1\nl2\nl3\n");
	t = mk(ck, 0);
	add(t, p, TAIL_START_BEGINNING);
	pump(t, 3, 2000);
	append(p, "l4\npart");
	pump(t, 4, 2000);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 4);
	tail_position(t, 0, &off, &lineno);
	ck_assert_uint_eq(off, 12); /* the partial line is not acknowledged */
	ck_assert_uint_eq(lineno, 4);
	ck_assert_int_eq(tail_checkpoint(t, &err), 0);
	tail_destroy(&t);

	/* While we are down; a checkpoint write was cut short by a crash
	 * (and one of an older version): the next start removes them, and
	 * only them. */
	append(p, "ial\nl6\n");
	{
		char *tmp1 = tpath("positions.tmp.a1B2c3");
		char *tmp2 = tpath("positions.tmp");
		char *other = tpath("positions2.tmp.a1B2c3");

		append(tmp1, "breachwatch-positions 1\n");
		append(tmp2, "x");
		append(other, "x");
		reset_recs();
		t = mk(ck, 0);
		ck_assert_int_ne(access(tmp1, F_OK), 0);
		ck_assert_int_ne(access(tmp2, F_OK), 0);
		ck_assert_int_eq(access(other, F_OK), 0);
		ck_assert_int_eq(unlink(other), 0);
		free(tmp1);
		free(tmp2);
		free(other);
	}
	add(t, p, TAIL_START_END); /* the saved position wins */
	ck_assert(saw_notice(TAIL_NOTICE_RESUMED));
	pump(t, 2, 2000);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 2);
	expect(0, "partial", 12, 5);
	expect(1, "l6", 20, 6);
	append(p, "l7\n");
	pump(t, 3, 2000);
	expect(2, "l7", 23, 7);
	ck_assert_int_eq(tail_checkpoint(t, &err), 0);
	tail_destroy(&t);

	/* A restart with nothing new reads nothing. */
	reset_recs();
	t = mk(ck, 0);
	add(t, p, TAIL_START_BEGINNING);
	settle(t, 50);
	ck_assert_uint_eq(n_recs, 0);
	tail_destroy(&t);
	free(p);
	free(ck);
}
END_TEST

START_TEST(test_rotation_while_down)
{
	char *p = tpath("app.log"), *p1 = tpath("app.log.1");
	char *ck = tpath("positions");
	struct bw_error err;
	struct tail *t;

	append(p, "old1\n");
	t = mk(ck, 0);
	add(t, p, TAIL_START_BEGINNING);
	pump(t, 1, 2000);
	ck_assert_int_eq(tail_checkpoint(t, &err), 0);
	tail_destroy(&t);

	ck_assert_int_eq(rename(p, p1), 0);
	append(p, "new1\nnew2\n");
	reset_recs();
	t = mk(ck, 0);
	add(t, p, TAIL_START_END);
	ck_assert(saw_notice(TAIL_NOTICE_RESTARTED));
	pump(t, 2, 2000);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 2);
	expect(0, "new1", 0, 1);
	expect(1, "new2", 5, 2);
	tail_destroy(&t);
	free(p);
	free(p1);
	free(ck);
}
END_TEST

START_TEST(test_truncated_while_down)
{
	char *p = tpath("app.log"), *ck = tpath("positions");
	struct bw_error err;
	struct tail *t;

	append(p, "aaaa\nbbbb\n");
	t = mk(ck, 0);
	add(t, p, TAIL_START_BEGINNING);
	pump(t, 2, 2000);
	ck_assert_int_eq(tail_checkpoint(t, &err), 0);
	tail_destroy(&t);

	ck_assert_int_eq(truncate(p, 0), 0);
	append(p, "c\n");
	reset_recs();
	t = mk(ck, 0);
	add(t, p, TAIL_START_END);
	pump(t, 1, 2000);
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 1);
	expect(0, "c", 0, 1);
	tail_destroy(&t);
	free(p);
	free(ck);
}
END_TEST

START_TEST(test_missing_while_saved)
{
	char *p = tpath("later.log"), *ck = tpath("positions");
	struct bw_error err;
	struct tail *t;

	/* Missing at the first run: saved as such. */
	t = mk(ck, 0);
	add(t, p, TAIL_START_END);
	ck_assert_int_eq(tail_checkpoint(t, &err), 0);
	tail_destroy(&t);
	/* Created while we are down: it is new, read from 0. */
	append(p, "early\n");
	t = mk(ck, 0);
	add(t, p, TAIL_START_END);
	pump(t, 1, 2000);
	expect(0, "early", 0, 1);
	tail_destroy(&t);
	free(p);
	free(ck);
}
END_TEST

START_TEST(test_checkpoint_file_format)
{
	char *p = tpath("we ird%name.log"), *ck = tpath("positions");
	struct tail_options opt = TAIL_OPTIONS_DEFAULT;
	struct bw_error err;
	struct tail *t;
	struct stat sb;
	char buf[512], want[512];
	ssize_t n;
	int fd;

	append(p, "l1\n");
	t = mk(ck, 0);
	add(t, p, TAIL_START_BEGINNING);
	pump(t, 1, 2000);
	ck_assert_int_eq(tail_checkpoint(t, &err), 0);
	tail_destroy(&t);
	ck_assert_int_eq(stat(p, &sb), 0);
	fd = open(ck, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want),
	         "breachwatch-positions 1\n%s/we%%20ird%%25name.log %llu "
	         "%llu 3 1\n",
	         dir, (unsigned long long)sb.st_dev,
	         (unsigned long long)sb.st_ino);
	ck_assert_str_eq(buf, want);
	/* The encoded path is found again: nothing re-read. */
	reset_recs();
	t = mk(ck, 0);
	add(t, p, TAIL_START_BEGINNING);
	ck_assert(saw_notice(TAIL_NOTICE_RESUMED));
	settle(t, 30);
	ck_assert_uint_eq(n_recs, 0);
	tail_destroy(&t);

	/* A damaged file is refused with its line. */
	append(ck, "/x 1 2 three 4\n");
	opt.checkpoint = ck;
	opt.on_line = on_line;
	ck_assert_ptr_null(tail_new(&opt, &err));
	ck_assert_str_eq(err.file, ck);
	ck_assert_int_eq(err.line, 3);
	free(p);
	free(ck);
}
END_TEST

START_TEST(test_bounded_reads)
{
	struct tail_options opt = TAIL_OPTIONS_DEFAULT;
	char *a = tpath("busy.log"), *b = tpath("quiet.log");
	struct bw_error err;
	struct tail *t;
	char line[101];
	size_t i, from_b = 0;
	int fd, rc;

	memset(line, 'x', 99);
	line[99] = '\n';
	line[100] = '\0';
	fd = open(a, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	for (i = 0; i < 1000; i++)
		write_fd(fd, line);
	close(fd);
	append(b, "quiet\n");
	opt.max_read = 4096;
	opt.on_line = on_line;
	t = tail_new(&opt, &err);
	ck_assert_ptr_nonnull(t);
	add(t, a, TAIL_START_BEGINNING);
	add(t, b, TAIL_START_BEGINNING);
	rc = tail_process(t, &err);
	ck_assert_int_eq(rc, 1); /* more to read */
	ck_assert_uint_le(n_recs, 4096 / 100 + 1);
	for (i = 0; i < n_recs; i++)
		from_b += recs[i].idx == 1;
	ck_assert_uint_eq(from_b, 1); /* b was not starved */
	pump(t, 1001, 5000);
	ck_assert_uint_eq(n_recs, 1001);
	tail_destroy(&t);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_long_line_and_unknown_lineno)
{
	struct tail_options opt = TAIL_OPTIONS_DEFAULT;
	char *p = tpath("app.log"), *ck = tpath("positions");
	struct tail_stats st;
	struct bw_error err;
	struct tail *t;
	char big[300];

	append(p, "a\nb\n");
	opt.max_line = 64;
	opt.checkpoint = ck;
	opt.count_max = 1; /* too big to count: line numbers unknown */
	opt.rotate_wait_ms = 0;
	opt.on_line = on_line;
	t = tail_new(&opt, &err);
	ck_assert_ptr_nonnull(t);
	add(t, p, TAIL_START_END);
	memset(big, 'L', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	append(p, big);
	append(p, "next\n");
	pump(t, 2, 2000);
	ck_assert_uint_eq(recs[0].len, 64);
	ck_assert(recs[0].truncated);
	expect(1, "next", 4 + 299, 0);
	tail_stats(t, TAIL_ALL, &st);
	ck_assert_uint_eq(st.truncated_lines, 1);
	ck_assert_uint_eq(st.skipped_bytes, 298 - 64);
	ck_assert_uint_eq(st.bytes, 299 + 5);
	ck_assert_int_eq(tail_checkpoint(t, &err), 0);
	tail_destroy(&t);

	/* Unknown line numbers stay unknown after a restart. */
	append(p, "again\n");
	t = tail_new(&opt, &err);
	ck_assert_ptr_nonnull(t);
	add(t, p, TAIL_START_END);
	pump(t, 3, 2000);
	expect(2, "again", 308, 0);
	tail_destroy(&t);
	free(p);
	free(ck);
}
END_TEST

START_TEST(test_poll_without_events)
{
	char *p = tpath("app.log");
	struct bw_error err;
	struct tail *t;

	append(p, "");
	t = mk(NULL, 0);
	add(t, p, TAIL_START_END);
	append(p, "seen by poll\n");
	/* tail_poll looks at every file whatever inotify said. */
	ck_assert_int_ge(tail_poll(t, &err), 0);
	ck_assert_uint_eq(n_recs, 1);
	expect(0, "seen by poll", 0, 1);
	tail_destroy(&t);
	free(p);
}
END_TEST

START_TEST(test_queue_overflow)
{
	char *p = tpath("app.log");
	struct tail_stats st;
	struct bw_error err;
	struct tail *t;
	FILE *fp;
	long limit = 0, i;

	fp = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fscanf(fp, "%ld", &limit), 1);
	fclose(fp);
	ck_assert_int_le(limit, 1L << 20);
	append(p, "");
	t = mk(NULL, 0);
	add(t, p, TAIL_START_BEGINNING);
	settle(t, 30); /* nothing left to look at */
	/* Fill the queue with creations in the watched directory, so that
	 * the write to app.log has no event of its own. */
	for (i = 0; i < limit + 100; i++) {
		char *f = xasprintf("%s/f%ld", dir, i);
		int fd = open(f, O_WRONLY | O_CREAT, 0644);

		ck_assert_int_ge(fd, 0);
		close(fd);
		free(f);
	}
	append(p, "after overflow\n");
	ck_assert_int_ge(tail_process(t, &err), 0);
	ck_assert(saw_notice(TAIL_NOTICE_OVERFLOW));
	ck_assert_uint_eq(n_recs, 1);
	expect(0, "after overflow", 0, 1);
	tail_stats(t, TAIL_ALL, &st);
	ck_assert_uint_eq(st.overflows, 1);
	tail_destroy(&t);
	free(p);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("tail");
	TCase *tc = tcase_create("files");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_appends_from_end);
	tcase_add_test(tc, test_start_beginning_and_end_mid_line);
	tcase_add_test(tc, test_rename_rotation);
	tcase_add_test(tc, test_rotate_wait);
	tcase_add_test(tc, test_copytruncate);
	tcase_add_test(tc, test_missing_then_created);
	tcase_add_test(tc, test_deleted_then_recreated);
	tcase_add_test(tc, test_checkpoint_restart);
	tcase_add_test(tc, test_rotation_while_down);
	tcase_add_test(tc, test_truncated_while_down);
	tcase_add_test(tc, test_missing_while_saved);
	tcase_add_test(tc, test_checkpoint_file_format);
	tcase_add_test(tc, test_bounded_reads);
	tcase_add_test(tc, test_long_line_and_unknown_lineno);
	tcase_add_test(tc, test_poll_without_events);
	tcase_add_test(tc, test_queue_overflow);
	suite_add_tcase(s, tc);
	return s;
}
