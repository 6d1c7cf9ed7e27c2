/*
 * test_evclock.c - event time that one wrong stamp cannot move.
 */
#include <check.h>

#include "../../common/evclock.h"
#include "check_main.h"

#define S 1000000LL
#define H (3600 * S)

START_TEST(test_follows_and_holds)
{
	struct bw_evclock c = { 0 };

	ck_assert_int_eq(bw_evclock_feed(&c, 1000 * S), 1000 * S);
	ck_assert_int_eq(bw_evclock_feed(&c, 1010 * S), 1010 * S);
	/* behind: the clock stays */
	ck_assert_int_eq(bw_evclock_feed(&c, 900 * S), 1010 * S);
	/* up to the jump limit ahead: followed at once */
	ck_assert_int_eq(bw_evclock_feed(&c, 1010 * S + H), 1010 * S + H);
	/* a lone stamp 70 years ahead: held, then dropped when the next
	 * event is back in line */
	ck_assert_int_eq(bw_evclock_feed(&c, 2200000000LL * S), 1010 * S + H);
	ck_assert_int_eq(bw_evclock_feed(&c, 1020 * S + H), 1020 * S + H);
	ck_assert_uint_eq(c.held, 1);
	ck_assert_uint_eq(c.jumps, 0);
}
END_TEST

START_TEST(test_confirmed_jump)
{
	struct bw_evclock c = { 0 };

	bw_evclock_feed(&c, 1000 * S);
	/* the host's clock was stepped two days forward: the second event
	 * ahead confirms it (to the nearer of the two stamps) */
	ck_assert_int_eq(bw_evclock_feed(&c, 1000 * S + 48 * H + 5 * S), 1000 * S);
	ck_assert_int_eq(bw_evclock_feed(&c, 1000 * S + 48 * H), 1000 * S + 48 * H);
	ck_assert_uint_eq(c.jumps, 1);
	ck_assert_uint_eq(c.held, 0);
	ck_assert_int_eq(bw_evclock_feed(&c, 1000 * S + 48 * H + 9 * S),
			 1000 * S + 48 * H + 9 * S);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("common_evclock");
	TCase *tc = tcase_create("evclock");

	tcase_add_test(tc, test_follows_and_holds);
	tcase_add_test(tc, test_confirmed_jump);
	suite_add_tcase(s, tc);
	return s;
}
