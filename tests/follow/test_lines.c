/*
 * test_lines.c - the line splitter: block boundaries at every position,
 * CRLF, NUL bytes, cut long lines, offsets and line numbers, the file
 * reader.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "xmalloc.h"
#include "check_main.h"

struct rline {
	char *data;
	size_t len;
	uint64_t offset, lineno;
	bool truncated;
};

struct rlist {
	struct rline *v;
	size_t n;
};

static void rlist_add(struct rlist *r, const char *data, size_t len,
                      uint64_t offset, uint64_t lineno, bool truncated)
{
	struct rline *x;

	r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
	x = &r->v[r->n++];
	x->data = xmalloc(len + 1);
	memcpy(x->data, data, len);
	x->len = len;
	x->offset = offset;
	x->lineno = lineno;
	x->truncated = truncated;
}

static void rlist_free(struct rlist *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->v[i].data);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

static void collect(void *arg, const struct lines_line *ln)
{
	rlist_add(arg, ln->data, ln->len, ln->offset, ln->lineno,
	          ln->truncated);
}

/* The obvious byte-at-a-time splitter the fast one must agree with. */
static void ref_split(const char *in, size_t len, size_t max_line,
                      struct rlist *out, uint64_t *skipped)
{
	size_t start = 0, i;
	uint64_t lineno = 0;

	*skipped = 0;
	for (i = 0; i <= len; i++) {
		size_t l;

		if (i == len && start == len)
			break;
		if (i < len && in[i] != '\n')
			continue;
		l = i - start;
		if (l > 0 && in[start + l - 1] == '\r')
			l--;
		if (l > max_line)
			*skipped += l - max_line;
		rlist_add(out, in + start, l > max_line ? max_line : l, start,
		          ++lineno, l > max_line);
		start = i + 1;
	}
}

static void assert_same(const struct rlist *got, const struct rlist *want,
                        const char *what)
{
	size_t i;

	ck_assert_msg(got->n == want->n, "%s: %zu lines, want %zu", what,
	              got->n, want->n);
	for (i = 0; i < want->n; i++) {
		const struct rline *g = &got->v[i], *w = &want->v[i];

		ck_assert_msg(g->len == w->len &&
		                  memcmp(g->data, w->data, w->len) == 0,
		              "%s: line %zu differs", what, i + 1);
		ck_assert_msg(g->offset == w->offset,
		              "%s: line %zu offset %llu, want %llu", what,
		              i + 1, (unsigned long long)g->offset,
		              (unsigned long long)w->offset);
		ck_assert_msg(g->lineno == w->lineno, "%s: line %zu number",
		              what, i + 1);
		ck_assert_msg(g->truncated == w->truncated,
		              "%s: line %zu truncated flag", what, i + 1);
	}
}

/* Feed in[0..len) cut at the given points, each block in its own buffer
 * that is scribbled over and freed once used, then finish. */
static void split_at(const char *in, size_t len, const size_t *cuts,
                     size_t ncuts, size_t max_line, struct rlist *out,
                     struct lines_stats *st)
{
	struct lines l;
	size_t prev = 0, k;

	lines_init(&l, max_line, 0, 0);
	for (k = 0; k <= ncuts; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		char *blk = xmalloc(end - prev + 1);

		memcpy(blk, in + prev, end - prev);
		lines_feed(&l, blk, end - prev, collect, out);
		ck_assert_uint_le(l.carry.cap, l.max_line + 2); /* + NUL */
		memset(blk, 0x55, end - prev + 1);
		free(blk);
		prev = end;
	}
	lines_end(&l, collect, out);
	ck_assert_uint_eq(lines_offset(&l), len);
	*st = l.stats;
	lines_free(&l);
}

/* max_line 16 */
static const char sample[] = "GET / 200\n"
                             "\r\n"
                             "\n"
                             "crlf line\r\n"
                             "nul\0byte\n"
                             "LLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLLL\n"
                             "\xff\xfe bad utf8\n"
                             "x\r\r\n"
                             "0123456789abcdef\r\n"
                             "0123456789abcdefg\r\n"
                             "0123456789abcdef\n"
                             "after\n"
                             "last unterm";

START_TEST(test_every_split_point)
{
	size_t len = sizeof(sample) - 1, i, j;
	struct rlist want = {0};
	struct lines_stats st;
	uint64_t skipped;

	ref_split(sample, len, 16, &want, &skipped);
	ck_assert_uint_eq(want.n, 13);
	ck_assert_uint_eq(skipped, 24 + 1);
	for (i = 0; i <= len; i++) {
		struct rlist got = {0};
		char what[64];

		snprintf(what, sizeof(what), "split at %zu", i);
		split_at(sample, len, &i, 1, 16, &got, &st);
		assert_same(&got, &want, what);
		ck_assert_uint_eq(st.lines, 13);
		ck_assert_uint_eq(st.truncated, 2);
		ck_assert_uint_eq(st.skipped_bytes, 25);
		rlist_free(&got);
	}
	/* Three blocks: the middle one short enough to lie inside a line. */
	for (i = 0; i <= len; i++) {
		for (j = i; j <= len && j <= i + 24; j++) {
			struct rlist got = {0};
			size_t cuts[2] = {i, j};
			char what[64];

			snprintf(what, sizeof(what), "split at %zu,%zu", i, j);
			split_at(sample, len, cuts, 2, 16, &got, &st);
			assert_same(&got, &want, what);
			rlist_free(&got);
		}
	}
	rlist_free(&want);
}
END_TEST

START_TEST(test_one_byte_blocks)
{
	size_t len = sizeof(sample) - 1, i;
	size_t *cuts = xcalloc(len, sizeof(*cuts));
	struct rlist want = {0}, got = {0};
	struct lines_stats st;
	uint64_t skipped;

	for (i = 0; i < len; i++)
		cuts[i] = i + 1;
	ref_split(sample, len, 16, &want, &skipped);
	split_at(sample, len, cuts, len, 16, &got, &st);
	assert_same(&got, &want, "one-byte blocks");
	ck_assert_uint_eq(st.skipped_bytes, skipped);
	rlist_free(&want);
	rlist_free(&got);
	free(cuts);
}
END_TEST

START_TEST(test_explicit_values)
{
	static const char in[] = "a\nbb\r\n\nc\0d\r\nlast";
	struct rlist got = {0};
	struct lines_stats st;

	split_at(in, sizeof(in) - 1, NULL, 0, 64, &got, &st);
	ck_assert_uint_eq(got.n, 5);
	ck_assert_uint_eq(got.v[0].len, 1);
	ck_assert_uint_eq(got.v[0].offset, 0);
	ck_assert_uint_eq(got.v[0].lineno, 1);
	ck_assert_uint_eq(got.v[1].len, 2);
	ck_assert_mem_eq(got.v[1].data, "bb", 2);
	ck_assert_uint_eq(got.v[1].offset, 2);
	ck_assert_uint_eq(got.v[2].len, 0);
	ck_assert_uint_eq(got.v[2].offset, 6);
	ck_assert_uint_eq(got.v[3].len, 3);
	ck_assert_mem_eq(got.v[3].data, "c\0d", 3);
	ck_assert_uint_eq(got.v[3].offset, 7);
	ck_assert_uint_eq(got.v[3].lineno, 4);
	ck_assert_uint_eq(got.v[4].len, 4);
	ck_assert_mem_eq(got.v[4].data, "last", 4);
	ck_assert_uint_eq(got.v[4].offset, 12);
	ck_assert_uint_eq(got.v[4].lineno, 5);
	ck_assert(!got.v[4].truncated);
	rlist_free(&got);
}
END_TEST

START_TEST(test_long_line_cut_once)
{
	struct lines l;
	struct lines_line ln;
	char big[1000];
	int n = 0;

	memset(big, 'A', sizeof(big));
	lines_init(&l, 16, 0, 0);
	/* 3000 bytes of one line over three blocks, then its newline. */
	lines_push(&l, big, sizeof(big));
	ck_assert_int_eq(lines_next(&l, &ln), 0);
	lines_push(&l, big, sizeof(big));
	ck_assert_int_eq(lines_next(&l, &ln), 0);
	ck_assert_uint_le(l.carry.cap, 18); /* 16 + CR + NUL */
	ck_assert_uint_eq(lines_held(&l), 2000);
	ck_assert_uint_eq(lines_offset(&l), 0);
	lines_push(&l, big, sizeof(big));
	ck_assert_int_eq(lines_next(&l, &ln), 0);
	lines_push(&l, "\nnext\n", 6);
	while (lines_next(&l, &ln) == 1) {
		if (n == 0) {
			ck_assert(ln.truncated);
			ck_assert_uint_eq(ln.len, 16);
			ck_assert_mem_eq(ln.data, "AAAAAAAAAAAAAAAA", 16);
			ck_assert_uint_eq(ln.offset, 0);
			ck_assert_uint_eq(ln.lineno, 1);
		} else {
			ck_assert(!ln.truncated);
			ck_assert_uint_eq(ln.len, 4);
			ck_assert_mem_eq(ln.data, "next", 4);
			ck_assert_uint_eq(ln.offset, 3001);
			ck_assert_uint_eq(ln.lineno, 2);
		}
		n++;
	}
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(l.stats.truncated, 1);
	ck_assert_uint_eq(l.stats.skipped_bytes, 3000 - 16);
	ck_assert_uint_eq(lines_offset(&l), 3006);
	ck_assert_int_eq(lines_finish(&l, &ln), 0);
	lines_free(&l);
}
END_TEST

START_TEST(test_position_and_reset)
{
	struct lines l;
	struct lines_line ln;

	lines_init(&l, 100, 500, 7);
	lines_push(&l, "abc\nde", 6);
	ck_assert_int_eq(lines_next(&l, &ln), 1);
	ck_assert_uint_eq(ln.offset, 500);
	ck_assert_uint_eq(ln.lineno, 8);
	ck_assert_int_eq(lines_next(&l, &ln), 0);
	/* The partial "de" is held, not acknowledged. */
	ck_assert_uint_eq(lines_offset(&l), 504);
	ck_assert_uint_eq(lines_lineno(&l), 8);
	ck_assert_uint_eq(lines_held(&l), 2);
	ck_assert_uint_eq(lines_reset(&l, 0, 0), 2);
	ck_assert_uint_eq(lines_offset(&l), 0);
	ck_assert_uint_eq(lines_held(&l), 0);
	lines_push(&l, "x\n", 2);
	ck_assert_int_eq(lines_next(&l, &ln), 1);
	ck_assert_uint_eq(ln.len, 1);
	ck_assert_uint_eq(ln.offset, 0);
	ck_assert_uint_eq(ln.lineno, 1);
	/* A file that grows after its end was seen: finish, then more. */
	lines_push(&l, "y", 1);
	ck_assert_int_eq(lines_next(&l, &ln), 0);
	ck_assert_int_eq(lines_finish(&l, &ln), 1);
	ck_assert_mem_eq(ln.data, "y", 1);
	ck_assert_uint_eq(ln.offset, 2);
	lines_push(&l, "z\n", 2);
	ck_assert_int_eq(lines_next(&l, &ln), 1);
	ck_assert_mem_eq(ln.data, "z", 1);
	ck_assert_uint_eq(ln.offset, 3);
	ck_assert_uint_eq(ln.lineno, 3);
	lines_free(&l);
}
END_TEST

START_TEST(test_empty_and_newline_only)
{
	struct rlist got = {0};
	struct lines_stats st;

	split_at("", 0, NULL, 0, 64, &got, &st);
	ck_assert_uint_eq(got.n, 0);
	split_at("\n", 1, NULL, 0, 64, &got, &st);
	ck_assert_uint_eq(got.n, 1);
	ck_assert_uint_eq(got.v[0].len, 0);
	rlist_free(&got);
}
END_TEST

/* The content of line i of the generated file. */
static size_t gen_line(char *out, size_t size, uint64_t i)
{
	int n = snprintf(
	    out, size, "%llu %.*s", (unsigned long long)i, (int)(i * 7 % 300),
	    "......................................................"
	    "......................................................"
	    "......................................................"
	    "......................................................"
	    "......................................................"
	    "......................................................");

	return (size_t)n;
}

struct readcheck {
	uint64_t next_off;
	uint64_t n;
};

static void check_line(void *arg, const struct lines_line *ln)
{
	struct readcheck *rc = arg;
	char want[512];
	size_t len;

	rc->n++;
	len = gen_line(want, sizeof(want), rc->n);
	ck_assert_uint_eq(ln->lineno, rc->n);
	ck_assert_uint_eq(ln->offset, rc->next_off);
	ck_assert_uint_eq(ln->len, len);
	ck_assert(memcmp(ln->data, want, len) == 0);
	rc->next_off += len + 1;
}

START_TEST(test_read_file)
{
	char path[] = "/tmp/bw-lines-XXXXXX";
	struct readcheck rc = {0};
	struct lines_stats st;
	struct bw_error err;
	char line[512];
	FILE *fp;
	uint64_t i, total = 20000;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	/* About 3 MB: lines straddle the 1 MB blocks; no final newline. */
	for (i = 1; i <= total; i++) {
		size_t len = gen_line(line, sizeof(line), i);

		fwrite(line, 1, len, fp);
		if (i < total)
			fputc('\n', fp);
	}
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_int_eq(
	    lines_read_file(path, 4096, check_line, &rc, &st, &err), 0);
	ck_assert_uint_eq(rc.n, total);
	ck_assert_uint_eq(st.lines, total);
	ck_assert_uint_eq(st.truncated, 0);
	ck_assert_uint_gt(rc.next_off, 2 * LINES_READ_BLOCK);
	unlink(path);
}
END_TEST

START_TEST(test_read_errors)
{
	struct lines_reader r;
	struct lines_line ln;
	struct bw_error err;
	int rc;

	ck_assert_int_eq(
	    lines_read_file("/nonexistent/bw", 100, collect, NULL, NULL, &err),
	    -1);
	ck_assert_str_eq(err.file, "/nonexistent/bw");
	ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
	/* A directory opens but cannot be read. */
	ck_assert_int_eq(lines_reader_open(&r, "/tmp", 100, &err), 0);
	rc = lines_reader_next(&r, &ln, &err);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(err.file, "/tmp");
	ck_assert_ptr_nonnull(strstr(err.msg, "read:"));
	lines_reader_close(&r);
	lines_reader_close(&r); /* twice is harmless */
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("lines");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_every_split_point);
	tcase_add_test(tc, test_one_byte_blocks);
	tcase_add_test(tc, test_explicit_values);
	tcase_add_test(tc, test_long_line_cut_once);
	tcase_add_test(tc, test_position_and_reset);
	tcase_add_test(tc, test_empty_and_newline_only);
	tcase_add_test(tc, test_read_file);
	tcase_add_test(tc, test_read_errors);
	suite_add_tcase(s, tc);
	return s;
}
