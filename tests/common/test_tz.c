/*
 * test_tz.c - time zones from TZif files.
 *
 * Offsets at the 2026 changes were computed with Python's zoneinfo; a sweep
 * compares every offset with glibc's localtime_r for the same zone.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bwtime.h"
#include "check_main.h"

#define S(x) ((int64_t)(x) * 1000000)

/* UTC instants of the 2026 and 2100 changes. */
#define BERLIN_SPRING_2026 1774746000 /* 2026-03-29T01:00:00Z */
#define BERLIN_FALL_2026 1792890000   /* 2026-10-25T01:00:00Z */
#define NY_SPRING_2026 1772953200     /* 2026-03-08T07:00:00Z */
#define NY_FALL_2026 1793512800	      /* 2026-11-01T06:00:00Z */
#define BERLIN_SPRING_2100 4109878800 /* past the file's transitions */
#define BERLIN_FALL_2100 4128627600
#define NY_SPRING_2100 4108690800
#define NY_FALL_2100 4129250400

static struct bw_tz *load(const char *name)
{
	struct bw_error err;
	struct bw_tz *tz = bw_tz_load(name, &err);

	ck_assert_msg(tz != NULL, "%s: %s", name, err.msg);
	ck_assert_str_eq(bw_tz_name(tz), name);
	return tz;
}

/* The offset just before and at a change. */
static void change(const struct bw_tz *tz, int64_t at, int32_t before,
		   int32_t after)
{
	ck_assert_int_eq(bw_tz_offset(tz, S(at) - 1), before);
	ck_assert_int_eq(bw_tz_offset(tz, S(at - 3600)), before);
	ck_assert_int_eq(bw_tz_offset(tz, S(at)), after);
	ck_assert_int_eq(bw_tz_offset(tz, S(at + 3600)), after);
}

START_TEST(test_berlin)
{
	struct bw_tz *tz = load("Europe/Berlin");

	change(tz, BERLIN_SPRING_2026, 3600, 7200);
	change(tz, BERLIN_FALL_2026, 7200, 3600);
	/* After the last transition in the file: the footer's rule. */
	change(tz, BERLIN_SPRING_2100, 3600, 7200);
	change(tz, BERLIN_FALL_2100, 7200, 3600);
	/* 1945: Berlin's "midsummer" double summer time, +3h. */
	ck_assert_int_eq(bw_tz_offset(tz, S(-775000000)), 10800);
	bw_tz_destroy(&tz);
	ck_assert_ptr_null(tz);
	bw_tz_destroy(&tz);
	bw_tz_destroy(NULL);
}
END_TEST

START_TEST(test_new_york)
{
	struct bw_tz *tz = load("America/New_York");

	change(tz, NY_SPRING_2026, -18000, -14400);
	change(tz, NY_FALL_2026, -14400, -18000);
	change(tz, NY_SPRING_2100, -18000, -14400);
	change(tz, NY_FALL_2100, -14400, -18000);
	bw_tz_destroy(&tz);
}
END_TEST

START_TEST(test_local_to_utc)
{
	struct bw_tz *ber = load("Europe/Berlin");
	struct bw_tz *ny = load("America/New_York");
	/* Local wall clock, read as UTC. */
	int64_t ber_gap = BERLIN_SPRING_2026 + 3600 + 1800;   /* 02:30 */
	int64_t ber_overlap = BERLIN_FALL_2026 + 3600 + 1800; /* 02:30 */
	int64_t ny_gap = NY_SPRING_2026 - 18000 + 1800;	      /* 02:30 */
	int64_t ny_overlap = NY_FALL_2026 - 18000 + 1800;     /* 01:30 */

	/* Plain times. */
	ck_assert_int_eq(bw_tz_local_to_utc(ber, 1782907200), 1782900000);
	ck_assert_int_eq(bw_tz_local_to_utc(ber, 1768478400), 1768474800);
	ck_assert_int_eq(bw_tz_local_to_utc(ny, 1782907200), 1782921600);
	/* In a gap: the earlier reading, with the offset after the change
	 * (02:30 in Berlin is 00:30Z, i.e. 01:30 CET). */
	ck_assert_int_eq(bw_tz_local_to_utc(ber, ber_gap),
			 BERLIN_SPRING_2026 - 1800);
	ck_assert_int_eq(bw_tz_local_to_utc(ny, ny_gap), NY_SPRING_2026 - 1800);
	/* In an overlap: the first pass. */
	ck_assert_int_eq(bw_tz_local_to_utc(ber, ber_overlap),
			 BERLIN_FALL_2026 - 1800);
	ck_assert_int_eq(bw_tz_local_to_utc(ny, ny_overlap),
			 NY_FALL_2026 - 1800);
	/* The abbreviation picks the reading in an overlap. */
	ck_assert_int_eq(bw_tz_local_to_utc_abbr(ber, ber_overlap, "CEST", 4),
			 BERLIN_FALL_2026 - 1800);
	ck_assert_int_eq(bw_tz_local_to_utc_abbr(ber, ber_overlap, "CET", 3),
			 BERLIN_FALL_2026 + 1800);
	ck_assert_int_eq(bw_tz_local_to_utc_abbr(ny, ny_overlap, "EST", 3),
			 NY_FALL_2026 + 1800);
	ck_assert_int_eq(bw_tz_local_to_utc_abbr(ny, ny_overlap, "EDT", 3),
			 NY_FALL_2026 - 1800);
	/* A prefix of an abbreviation is not the abbreviation. */
	ck_assert_int_eq(bw_tz_local_to_utc_abbr(ber, ber_overlap, "CE", 2),
			 BERLIN_FALL_2026 - 1800);
	/* Outside an overlap a wrong abbreviation changes nothing. */
	ck_assert_int_eq(bw_tz_local_to_utc_abbr(ber, 1782907200, "CET", 3),
			 1782900000);
	/* The footer's rule, 2100. */
	ck_assert_int_eq(bw_tz_local_to_utc(ber, BERLIN_FALL_2100 + 5400),
			 BERLIN_FALL_2100 - 1800);
	ck_assert_int_eq(bw_tz_local_to_utc(ber, BERLIN_SPRING_2100 + 5400),
			 BERLIN_SPRING_2100 - 1800);
	/* NULL is UTC. */
	ck_assert_int_eq(bw_tz_local_to_utc(NULL, 12345), 12345);
	bw_tz_destroy(&ber);
	bw_tz_destroy(&ny);
}
END_TEST

START_TEST(test_local_fields)
{
	struct bw_tz *ber = load("Europe/Berlin");
	struct bw_tz *ny = load("America/New_York");
	int wday, min;

	/* 2026-11-23T08:15Z: Monday 09:15 in Berlin. */
	bw_tz_local(ber, S(1795421700), &wday, &min);
	ck_assert_int_eq(wday, 1);
	ck_assert_int_eq(min, 9 * 60 + 15);
	/* 2026-11-23T03:00Z: Sunday 22:00 in New York. */
	bw_tz_local(ny, S(1795402800), &wday, &min);
	ck_assert_int_eq(wday, 0);
	ck_assert_int_eq(min, 22 * 60);
	/* 2026-07-04T23:59:59.9Z: Saturday 19:59 in New York (EDT). */
	bw_tz_local(ny, S(1783209599) + 900000, &wday, &min);
	ck_assert_int_eq(wday, 6);
	ck_assert_int_eq(min, 19 * 60 + 59);
	/* UTC before 1970: 1969-12-31T23:59:59.5Z was a Wednesday. */
	bw_tz_local(NULL, -500000, &wday, &min);
	ck_assert_int_eq(wday, 3);
	ck_assert_int_eq(min, 23 * 60 + 59);
	bw_tz_destroy(&ber);
	bw_tz_destroy(&ny);
}
END_TEST

START_TEST(test_utc)
{
	struct bw_tz *tz = load("UTC");
	int wday, min;

	ck_assert_int_eq(bw_tz_offset(tz, S(1795421700)), 0);
	ck_assert_int_eq(bw_tz_local_to_utc(tz, 1795421700), 1795421700);
	bw_tz_local(tz, S(1795421700), &wday, &min);
	ck_assert_int_eq(wday, 1);
	ck_assert_int_eq(min, 8 * 60 + 15);
	bw_tz_destroy(&tz);
	tz = load("Etc/UTC");
	ck_assert_int_eq(bw_tz_offset(tz, 0), 0);
	bw_tz_destroy(&tz);
	ck_assert_int_eq(bw_tz_offset(NULL, S(1795421700)), 0);
	ck_assert_str_eq(bw_tz_name(NULL), "UTC");
}
END_TEST

static void load_fails(const char *name, const char *want)
{
	struct bw_error err;
	struct bw_tz *tz;

	memset(&err, 0, sizeof(err));
	tz = bw_tz_load(name, &err);
	ck_assert_msg(tz == NULL, "loaded %s", name ? name : "(null)");
	ck_assert_msg(strstr(err.msg, want) != NULL, "%s: \"%s\" lacks \"%s\"",
		      name ? name : "(null)", err.msg, want);
}

START_TEST(test_bad_names)
{
	load_fails("../../etc/passwd", "bad time zone name");
	load_fails("Europe/../../../etc/passwd", "bad time zone name");
	load_fails("/etc/localtime", "bad time zone name");
	load_fails("/usr/share/zoneinfo/UTC", "bad time zone name");
	load_fails("", "bad time zone name");
	load_fails(NULL, "bad time zone name");
	load_fails("Europe/Berlin\n", "bad time zone name");
	load_fails("Europe Berlin", "bad time zone name");
	load_fails("No/Such_Zone", "unknown time zone \"No/Such_Zone\"");
	load_fails("Europe", "unknown time zone");  /* a directory */
	load_fails("zone.tab", "not a TZif file"); /* not TZif */
	ck_assert_ptr_null(bw_tz_load("Nowhere", NULL)); /* err may be NULL */
}
END_TEST

/* The rule kinds no installed zone uses: Jn, n, year-round DST. */
START_TEST(test_posix_rules)
{
	/* 2024 is a leap year: J60 is March 1st, 59 (zero-based) Feb 29. */
	const int64_t feb29 = 1709164800, mar1 = 1709251200;
	const int64_t mar1_2023 = 1677628800;
	struct bw_tz *tz;

	tz = load("AAA0BBB,J60/0,J300/0");
	ck_assert_int_eq(bw_tz_offset(tz, S(mar1) - 1), 0);
	ck_assert_int_eq(bw_tz_offset(tz, S(mar1)), 3600);
	ck_assert_int_eq(bw_tz_offset(tz, S(mar1_2023) - 1), 0);
	ck_assert_int_eq(bw_tz_offset(tz, S(mar1_2023)), 3600);
	bw_tz_destroy(&tz);

	tz = load("AAA0BBB,59/0,300/0");
	ck_assert_int_eq(bw_tz_offset(tz, S(feb29) - 1), 0);
	ck_assert_int_eq(bw_tz_offset(tz, S(feb29)), 3600);
	ck_assert_int_eq(bw_tz_offset(tz, S(mar1_2023) - 1), 0);
	ck_assert_int_eq(bw_tz_offset(tz, S(mar1_2023)), 3600);
	bw_tz_destroy(&tz);

	/* Year-round DST, as RFC 8536 writes it. */
	tz = load("EST5EDT,0/0,J365/25");
	ck_assert_int_eq(bw_tz_offset(tz, S(1767225600)), -14400); /* Jan 1 */
	ck_assert_int_eq(bw_tz_offset(tz, S(1782907200)), -14400); /* Jul 1 */
	ck_assert_int_eq(bw_tz_offset(tz, S(1798761599)), -14400); /* Dec 31 */
	bw_tz_destroy(&tz);

	/* Quoted numeric names, minutes, an explicit DST offset. */
	tz = load("<+0530>-5:30");
	ck_assert_int_eq(bw_tz_offset(tz, S(1782907200)), 19800);
	bw_tz_destroy(&tz);
	tz = load("<-03>3<-02>2,M3.5.0/-2,M10.5.0/-1");
	ck_assert_int_eq(bw_tz_offset(tz, S(1767225600)), -10800);
	ck_assert_int_eq(bw_tz_offset(tz, S(1782907200)), -7200);
	bw_tz_destroy(&tz);

}
END_TEST

START_TEST(test_posix_bad)
{
	static const char *const cases[] = {
		"CET-1CEST,M3.5.0",	      "CET-1CEST,M13.5.0,M10.5.0",
		"CET-1CEST,M3.6.0,M10.5.0",   "CET-1CEST,M3.5.7,M10.5.0",
		"CET-1CEST,J0,J100",	      "CET-1CEST,J366,J100",
		"CET-1CEST,366,100",	      "<+0530-5:30",
		"AB5",			      "CET-25",
		"CET-1CEST,M3.5.0/168,M10.5.0", "CET-1 CEST",
		"CET-1CEST,M3.5.0,M10.5.0,",  "CET-1:60",
		NULL};
	struct bw_error err;
	size_t i;

	for (i = 0; cases[i] != NULL; i++)
		ck_assert_msg(bw_tz_load(cases[i], &err) == NULL, "loaded %s",
			      cases[i]);
}
END_TEST

/*
 * Compare with glibc over 1890..2150 for zones with odd rules: southern
 * hemisphere DST, half and quarter hours, negative DST, DST abolished,
 * and a footer with year-round DST.
 */
START_TEST(test_vs_glibc)
{
	static const char *const zones[] = {
		"Europe/Berlin",   "America/New_York", "Australia/Sydney",
		"Asia/Kolkata",	   "Pacific/Chatham",  "Europe/Dublin",
		"America/Sao_Paulo", "Africa/Casablanca", "Asia/Tehran",
		"America/St_Johns", "Australia/Lord_Howe", "Europe/London",
		"America/Santiago", "Pacific/Apia", "Asia/Gaza", NULL};
	struct tm tm;
	int64_t t, local, u;
	size_t z, checked = 0;
	time_t tt;

	for (z = 0; zones[z] != NULL; z++) {
		struct bw_tz *tz = load(zones[z]);

		ck_assert_int_eq(setenv("TZ", zones[z], 1), 0);
		tzset();
		for (t = -2524521600; t < 5680281600; t += 11 * 3600 + 1234) {
			/* No ck_assert in the loop: each one is a write to
			 * Check's pipe. */
			tt = (time_t)t;
			if (localtime_r(&tt, &tm) == NULL)
				ck_abort_msg("localtime_r failed");
			if (bw_tz_offset(tz, S(t)) != tm.tm_gmtoff)
				ck_abort_msg("%s at %lld: %d, glibc %ld",
					     zones[z], (long long)t,
					     bw_tz_offset(tz, S(t)),
					     tm.tm_gmtoff);
			/* local_to_utc inverts: the result maps back to the
			 * same wall clock and is no later than t. */
			local = t + tm.tm_gmtoff;
			u = bw_tz_local_to_utc(tz, local);
			if (u > t || u + bw_tz_offset(tz, S(u)) != local)
				ck_abort_msg("%s: local %lld -> %lld, from %lld",
					     zones[z], (long long)local,
					     (long long)u, (long long)t);
			checked++;
		}
		bw_tz_destroy(&tz);
	}
	ck_assert_uint_gt(checked, 15 * 100000);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("tz");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_berlin);
	tcase_add_test(tc, test_new_york);
	tcase_add_test(tc, test_local_to_utc);
	tcase_add_test(tc, test_local_fields);
	tcase_add_test(tc, test_utc);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_posix_rules);
	tcase_add_test(tc, test_posix_bad);
	tcase_add_test(tc, test_vs_glibc);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}
