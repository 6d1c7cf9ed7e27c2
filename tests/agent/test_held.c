/*
 * test_held.c - the revisions held in memory while the spool is full
 * (agent/held.c): newest per incident, order of first hold, sizes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/held.h"
#include "xmalloc.h"
#include "check_main.h"

static enum held_put_rc put(struct held *h, const char *id, uint32_t rev)
{
	char *json = xasprintf("{\"id\":\"%s\",\"revision\":%u}", id, rev);

	return held_put(h, id, rev, json, strlen(json));
}

static void expect_first(struct held *h, const char *id, uint32_t rev)
{
	const struct held_item *it = held_first(h);
	char *want = xasprintf("{\"id\":\"%s\",\"revision\":%u}", id, rev);

	ck_assert_ptr_nonnull(it);
	ck_assert_str_eq(it->id, id);
	ck_assert_uint_eq(it->revision, rev);
	ck_assert_str_eq(it->json, want);
	ck_assert_uint_eq(it->json_len, strlen(want));
	free(want);
}

START_TEST(newest_per_incident_in_first_order)
{
	struct held *h = held_new();

	ck_assert_ptr_null(held_first(h));
	ck_assert_int_eq(put(h, "bw-a", 1), HELD_ADDED);
	ck_assert_int_eq(put(h, "bw-b", 1), HELD_ADDED);
	ck_assert_int_eq(put(h, "bw-a", 2), HELD_REPLACED);
	ck_assert_int_eq(put(h, "bw-c", 4), HELD_ADDED);
	ck_assert_int_eq(put(h, "bw-a", 3), HELD_REPLACED);
	/* an older or equal revision changes nothing */
	ck_assert_int_eq(put(h, "bw-c", 3), HELD_OLDER);
	ck_assert_int_eq(put(h, "bw-c", 4), HELD_OLDER);
	ck_assert_uint_eq(held_count(h), 3);
	ck_assert_uint_eq(held_find(h, "bw-a")->revision, 3);
	ck_assert_uint_eq(held_find(h, "bw-c")->revision, 4);
	ck_assert_ptr_null(held_find(h, "bw-d"));

	/* a keeps its place (first held), with its newest revision */
	expect_first(h, "bw-a", 3);
	held_drop_first(h);
	expect_first(h, "bw-b", 1);
	held_drop_first(h);
	expect_first(h, "bw-c", 4);
	held_drop_first(h);
	ck_assert_ptr_null(held_first(h));
	ck_assert_uint_eq(held_count(h), 0);
	ck_assert_uint_eq(held_bytes(h), 0);
	held_drop_first(h); /* on empty: nothing */

	/* an incident dropped may be held again, at the end */
	ck_assert_int_eq(put(h, "bw-b", 2), HELD_ADDED);
	ck_assert_int_eq(put(h, "bw-a", 5), HELD_ADDED);
	expect_first(h, "bw-b", 2);
	held_destroy(&h);
	ck_assert_ptr_null(h);
	held_destroy(&h);
}
END_TEST

START_TEST(bytes_follow_replacements)
{
	struct held *h = held_new();
	char *big = xmalloc(1001);

	memset(big, 'x', 1000);
	big[1000] = '\0';
	ck_assert_int_eq(held_put(h, "bw-a", 1, big, 1000), HELD_ADDED);
	ck_assert_uint_eq(held_bytes(h), strlen("bw-a") + 1000);
	ck_assert_int_eq(put(h, "bw-a", 2), HELD_REPLACED);
	ck_assert_uint_eq(held_bytes(h),
			  strlen("bw-a") +
				  strlen("{\"id\":\"bw-a\",\"revision\":2}"));
	held_drop_first(h);
	ck_assert_uint_eq(held_bytes(h), 0);
	held_destroy(&h);
}
END_TEST

static void collect(const struct held_item *it, void *arg)
{
	char *order = arg;

	strcat(order, it->id + 3);
}

/* Enough incidents to grow the index many times; drops from the front
 * keep the index right (every remaining one is found, dropped ones are
 * not). */
START_TEST(many_incidents)
{
	struct held *h = held_new();
	char id[32], order[64] = "";
	size_t i, n = 20000;

	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "bw-%06zu", i);
		ck_assert_int_eq(put(h, id, 1), HELD_ADDED);
	}
	for (i = 0; i < n; i += 7) {
		snprintf(id, sizeof(id), "bw-%06zu", i);
		ck_assert_int_eq(put(h, id, 2), HELD_REPLACED);
	}
	ck_assert_uint_eq(held_count(h), n);
	for (i = 0; i < n / 2; i++) {
		snprintf(id, sizeof(id), "bw-%06zu", i);
		ck_assert_str_eq(held_first(h)->id, id);
		ck_assert_uint_eq(held_first(h)->revision, i % 7 ? 1 : 2);
		held_drop_first(h);
	}
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "bw-%06zu", i);
		if (i < n / 2)
			ck_assert_ptr_null(held_find(h, id));
		else
			ck_assert_ptr_nonnull(held_find(h, id));
	}
	while (held_count(h) > 3)
		held_drop_first(h);
	held_foreach(h, collect, order);
	ck_assert_str_eq(order, "019997019998019999");
	held_destroy(&h);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("held");
	TCase *tc = tcase_create("held");

	tcase_add_test(tc, newest_per_incident_in_first_order);
	tcase_add_test(tc, bytes_follow_replacements);
	tcase_add_test(tc, many_incidents);
	suite_add_tcase(s, tc);
	return s;
}
