/*
 * test_rcache.c - the directory of compiled rule databases (agent/rcache.c):
 * what is put is got back, a torn or edited file is refused and removed,
 * the least recently used files go past the bound, and a real ruleset
 * compiled twice through it is compiled once.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agent/rcache.h"
#include "../../rules/rules.h"
#include "check_main.h"

static char tmp[64];

static void setup(void)
{
	strcpy(tmp, "/tmp/bw-rcache-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	ck_assert_int_eq(system(cmd), 0);
}

static struct rcache *open_in(const char *sub)
{
	struct bw_error err;
	char dir[128];
	struct rcache *c;

	snprintf(dir, sizeof(dir), "%s/%s", tmp, sub);
	c = rcache_open(dir, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	return c;
}

static void key_of(unsigned char key[RULES_CACHE_KEY], int n)
{
	memset(key, 0, RULES_CACHE_KEY);
	key[0] = (unsigned char)n;
	key[31] = 0xab;
}

static char *path_of(int n)
{
	static char p[256];
	int at = snprintf(p, sizeof(p), "%s/c/%02x", tmp, n);

	for (int i = 1; i < RULES_CACHE_KEY - 1; i++)
		at += snprintf(p + at, sizeof(p) - (size_t)at, "00");
	snprintf(p + at, sizeof(p) - (size_t)at, "ab.db");
	return p;
}

START_TEST(test_put_get)
{
	struct rcache *c = open_in("c");
	struct rules_cache rc;
	struct rcache_stats st;
	unsigned char key[RULES_CACHE_KEY];
	const char blob[] = "a compiled database, or as good as one";
	size_t len = 0;
	char *got;

	rcache_bind(c, &rc);
	key_of(key, 1);
	ck_assert_ptr_null(rc.get(rc.arg, key, &len));
	rc.put(rc.arg, key, blob, sizeof(blob));
	ck_assert_int_eq(access(path_of(1), R_OK), 0);
	got = rc.get(rc.arg, key, &len);
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(len, sizeof(blob));
	ck_assert_mem_eq(got, blob, sizeof(blob));
	free(got);
	rcache_get_stats(c, &st);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.written, 1);
	rcache_destroy(&c);
	ck_assert_ptr_null(c);
}
END_TEST

/* One byte changed anywhere, or the file cut short: refused, removed. */
START_TEST(test_corrupt_refused)
{
	struct rcache *c = open_in("c");
	struct rules_cache rc;
	struct rcache_stats st;
	unsigned char key[RULES_CACHE_KEY];
	char blob[300];
	size_t len = 0;
	struct stat sb;
	int fd;

	memset(blob, 'q', sizeof(blob));
	rcache_bind(c, &rc);
	key_of(key, 2);
	rc.put(rc.arg, key, blob, sizeof(blob));
	fd = open(path_of(2), O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "Q", 1, 48 + 100), 1);
	close(fd);
	ck_assert_ptr_null(rc.get(rc.arg, key, &len));
	ck_assert_int_ne(stat(path_of(2), &sb), 0);

	rc.put(rc.arg, key, blob, sizeof(blob));
	ck_assert_int_eq(truncate(path_of(2), 48 + 299), 0);
	ck_assert_ptr_null(rc.get(rc.arg, key, &len));
	rcache_get_stats(c, &st);
	ck_assert_uint_eq(st.refused, 2);
	ck_assert_uint_eq(st.hits, 0);
	rcache_destroy(&c);
}
END_TEST

/* Past RCACHE_MAX_FILES the least recently used go: a hit counts as a
 * use. */
START_TEST(test_prune_lru)
{
	struct rcache *c = open_in("c");
	struct rules_cache rc;
	struct rcache_stats st;
	unsigned char key[RULES_CACHE_KEY];
	size_t len;
	char *got;

	rcache_bind(c, &rc);
	for (int i = 0; i < RCACHE_MAX_FILES; i++) {
		struct timespec ts[2] = { { 1000 + i, 0 }, { 1000 + i, 0 } };

		key_of(key, i);
		rc.put(rc.arg, key, "x", 1);
		/* distinct ages, oldest first, whatever the clock's grain */
		ck_assert_int_eq(utimensat(AT_FDCWD, path_of(i), ts, 0), 0);
	}
	key_of(key, 0);
	got = rc.get(rc.arg, key, &len); /* 0 is now the most recent */
	ck_assert_ptr_nonnull(got);
	free(got);
	key_of(key, 200);
	rc.put(rc.arg, key, "y", 1);
	rcache_get_stats(c, &st);
	ck_assert_uint_eq(st.pruned, 1);
	ck_assert_int_eq(access(path_of(0), F_OK), 0);
	ck_assert_int_ne(access(path_of(1), F_OK), 0); /* the oldest went */
	ck_assert_int_eq(access(path_of(200), F_OK), 0);
	rcache_destroy(&c);
}
END_TEST

/* No parent directory: no cache (and the error says where). */
START_TEST(test_open_errors)
{
	struct bw_error err;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/none/c", tmp);
	ck_assert_ptr_null(rcache_open(dir, &err));
	ck_assert_ptr_nonnull(strstr(err.file, "none/c"));
}
END_TEST

static const char rules_text[] =
    "rules = ({ id = \"sqli\"; title = \"t\"; category = \"c\";\n"
    "  severity = \"low\"; kinds = [\"http\"];\n"
    "  match = ({ field = \"query\"; regex = \"union\\\\s+select\";\n"
    "             nocase = true; },\n"
    "           { field = \"path\"; regex = \"^/api/v[0-9]+/\"; }); });\n";

/* A real ruleset through the directory: compiled the first time, loaded
 * the second, with the same rules. */
START_TEST(test_rules_through_cache)
{
	struct rcache *c = open_in("c");
	struct rules_cache rc;
	struct rules_stats st[2];
	struct bw_error err;

	rcache_bind(c, &rc);
	for (int i = 0; i < 2; i++) {
		struct rules *r = rules_new();

		rules_set_cache(r, &rc);
		ck_assert_int_eq(rules_add_string(r, "t.conf", rules_text,
						  &err), 0);
		ck_assert_int_eq(rules_compile(r, &err), 0);
		rules_get_stats(r, &st[i]);
		rules_destroy(&r);
	}
	ck_assert_uint_gt(st[0].db_compiled, 0);
	ck_assert_uint_eq(st[0].db_cached, 0);
	ck_assert_uint_eq(st[1].db_compiled, 0);
	ck_assert_uint_eq(st[1].db_cached, st[0].db_compiled);
	rcache_destroy(&c);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("agent_rcache");
	TCase *tc = tcase_create("rcache");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_corrupt_refused);
	tcase_add_test(tc, test_prune_lru);
	tcase_add_test(tc, test_open_errors);
	tcase_add_test(tc, test_rules_through_cache);
	suite_add_tcase(s, tc);
	return s;
}
