/*
 * test_time.c - log timestamp parsers, formatting, durations, clocks.
 *
 * Expected values are epoch seconds computed independently (Python's
 * datetime); every parser is fed from an exact-size heap copy so that ASan
 * catches a read past len.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bwtime.h"
#include "check_main.h"

#define S(x) ((int64_t)(x) * 1000000)

enum parser { CLF, RFC3339, SYSLOG, PG, EPOCH };

static const struct bw_tz *g_tz; /* zone for SYSLOG and PG */
static int64_t g_ref_us;	 /* reference time for SYSLOG */

static int run(enum parser p, const char *text, int64_t *out)
{
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int rc = -1;

	memcpy(copy, text, len);
	switch (p) {
	case CLF:
		rc = bw_time_parse_clf(copy, len, out);
		break;
	case RFC3339:
		rc = bw_time_parse_rfc3339(copy, len, out);
		break;
	case SYSLOG:
		rc = bw_time_parse_syslog(copy, len, g_tz, g_ref_us, out);
		break;
	case PG:
		rc = bw_time_parse_pg(copy, len, g_tz, out);
		break;
	case EPOCH:
		rc = bw_time_parse_epoch(copy, len, out);
		break;
	}
	free(copy);
	return rc;
}

static void good(enum parser p, const char *text, int64_t want)
{
	int64_t got = 12345;

	ck_assert_msg(run(p, text, &got) == 0, "rejected \"%s\"", text);
	ck_assert_msg(got == want, "\"%s\": got %lld, want %lld", text,
		      (long long)got, (long long)want);
}

static void bad(enum parser p, const char *text)
{
	int64_t got = 12345;

	ck_assert_msg(run(p, text, &got) == -1, "accepted \"%s\" as %lld", text,
		      (long long)got);
	ck_assert_msg(got == 12345, "\"%s\": output written on failure", text);
}

/* The test's own calendar, written the long way. */
static int month_len(int y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : len[m - 1];
}

START_TEST(test_civil)
{
	int64_t y, d;
	int m, dd, wy, wm, wd;

	ck_assert_int_eq(bw_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(bw_days_from_civil(1969, 12, 31), -1);
	ck_assert_int_eq(bw_days_from_civil(2000, 3, 1), 11017);
	ck_assert_int_eq(bw_days_from_civil(1, 1, 1), -719162);
	ck_assert_int_eq(bw_days_from_civil(1600, 1, 1), -135140);
	ck_assert_int_eq(bw_days_from_civil(2400, 12, 31), 157419);
	/* Every day from 1600 to 2400 against a calendar walked one day at
	 * a time (no ck_assert in the loop: each one writes to a pipe). */
	for (d = -135140, wy = 1600, wm = 1, wd = 1; d <= 157419; d++) {
		bw_civil_from_days(d, &y, &m, &dd);
		if (y != wy || m != wm || dd != wd ||
		    bw_days_from_civil(wy, wm, wd) != d)
			ck_abort_msg("day %lld: %lld-%d-%d, want %d-%d-%d",
				     (long long)d, (long long)y, m, dd, wy, wm,
				     wd);
		if (wd < month_len(wy, wm)) {
			wd++;
		} else if (wm < 12) {
			wm++;
			wd = 1;
		} else {
			wy++;
			wm = wd = 1;
		}
	}
	bw_civil_from_days(bw_days_from_civil(2024, 2, 29), &y, &m, &dd);
	ck_assert_int_eq(y, 2024);
	ck_assert_int_eq(m, 2);
	ck_assert_int_eq(dd, 29);
	bw_civil_from_days(-1, &y, &m, &dd);
	ck_assert_int_eq(y, 1969);
	ck_assert_int_eq(m, 12);
	ck_assert_int_eq(dd, 31);
}
END_TEST

START_TEST(test_clf_good)
{
	good(CLF, "10/Oct/2000:13:55:36 -0700", S(971211336));
	good(CLF, "10/Oct/2000:20:55:36 +0000", S(971211336));
	good(CLF, "10/Oct/2000:20:55:36 -0000", S(971211336));
	good(CLF, "01/Jan/1970:00:00:00 +0000", 0);
	good(CLF, "31/Dec/1969:23:59:59 +0000", S(-1));
	good(CLF, "01/Jan/1970:01:00:00 +0100", 0);
	good(CLF, "29/Feb/2024:23:59:59 +0000", S(1709251199));
	good(CLF, "29/Feb/2000:12:00:00 +0530", S(951805800));
	good(CLF, "01/Mar/2100:00:00:00 +0000", S(4107542400));
	good(CLF, "23/Nov/2026:08:15:00 +0000", S(1795421700));
	good(CLF, "31/Dec/9999:23:59:59 +0000", S(253402300799));
}
END_TEST

START_TEST(test_clf_bad)
{
	static const char *const cases[] = {
		"",
		"10/Oct/2000:13:55:36",
		"10/Oct/2000:13:55:36 -070",
		"10/Oct/2000:13:55:36 -07000",
		"10/Oct/2000:13:55:36 -0700 ",
		" 10/Oct/2000:13:55:36 -0700",
		"[10/Oct/2000:13:55:36 -0700]",
		"10/Oct/2000 13:55:36 -0700",
		"10-Oct-2000:13:55:36 -0700",
		"10/Oct/2000:13:55:36 *0700",
		"10/Oct/2000:13:55:36 07000",
		"10/oct/2000:13:55:36 -0700",
		"10/OCT/2000:13:55:36 -0700",
		"10/Okt/2000:13:55:36 -0700",
		"1a/Oct/2000:13:55:36 -0700",
		"10/Oct/2k00:13:55:36 -0700",
		"00/Oct/2000:13:55:36 -0700",
		"32/Oct/2000:13:55:36 -0700",
		"31/Apr/2000:13:55:36 -0700",
		"29/Feb/2023:13:55:36 -0700",
		"29/Feb/2100:13:55:36 -0700",
		"30/Feb/2024:13:55:36 -0700",
		"10/Oct/2000:24:00:00 -0700",
		"10/Oct/2000:25:00:00 -0700",
		"10/Oct/2000:13:60:36 -0700",
		"10/Oct/2000:13:55:60 -0700",
		"10/Oct/2000:13:55:3x -0700",
		"10/Oct/2000:-1:55:36 -0700",
		"10/Oct/2000:13:55:36 -2400",
		"10/Oct/2000:13:55:36 -0760",
		"10/Oct/2000:13:55:36 -07a0",
		"10/Oct/2000:13:55:36 - 700",
		NULL};
	size_t i;

	for (i = 0; cases[i] != NULL; i++)
		bad(CLF, cases[i]);
}
END_TEST

START_TEST(test_clf_prefix_only)
{
	const char *line = "10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\"";
	int64_t t;

	/* A caller passes the field's length; the rest of the line is not
	 * looked at, and a shorter length is refused. */
	ck_assert_int_eq(bw_time_parse_clf(line, 26, &t), 0);
	ck_assert_int_eq(t, S(971211336));
	ck_assert_int_eq(bw_time_parse_clf(line, 25, &t), -1);
	ck_assert_int_eq(bw_time_parse_clf(line, 27, &t), -1);
}
END_TEST

START_TEST(test_rfc3339_good)
{
	good(RFC3339, "2026-11-23T08:15:00Z", S(1795421700));
	good(RFC3339, "2026-11-23t08:15:00z", S(1795421700));
	good(RFC3339, "2026-11-23 08:15:00Z", S(1795421700));
	good(RFC3339, "2026-11-23T08:15:00+00:00", S(1795421700));
	good(RFC3339, "2026-11-23T08:15:00-00:00", S(1795421700));
	good(RFC3339, "2026-11-23T09:15:00+01:00", S(1795421700));
	good(RFC3339, "2026-11-23T09:15:00+0100", S(1795421700));
	good(RFC3339, "2026-11-23T09:15:00+01", S(1795421700));
	good(RFC3339, "2026-11-23T02:45:00-05:30", S(1795421700));
	good(RFC3339, "2026-11-23T08:15:00.123456+01:00",
	     S(1795421700 - 3600) + 123456);
	good(RFC3339, "2026-11-23T08:15:00.5Z", S(1795421700) + 500000);
	good(RFC3339, "2026-11-23T08:15:00.000001Z", S(1795421700) + 1);
	good(RFC3339, "2026-11-23T08:15:00.1234567891Z",
	     S(1795421700) + 123456);
	good(RFC3339, "2000-10-10T13:55:36-07:00", S(971211336));
	good(RFC3339, "2024-02-29T23:59:59Z", S(1709251199));
	good(RFC3339, "1969-12-31T23:59:59.5Z", -500000);
	good(RFC3339, "0001-01-01T00:00:00Z", S(-62135596800));
	/* A leap second is the next second's start. */
	good(RFC3339, "2016-12-31T23:59:60Z", S(1483228800));
}
END_TEST

START_TEST(test_rfc3339_bad)
{
	static const char *const cases[] = {
		"",
		"2026-11-23",
		"2026-11-23T08:15:00",
		"2026-11-23T08:15:00.123",
		"2026-11-23T08:15Z",
		"2026-11-23X08:15:00Z",
		"2026/11/23T08:15:00Z",
		"2026-11-23T08-15-00Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-11-31T00:00:00Z",
		"2025-02-29T00:00:00Z",
		"2026-11-23T24:00:00Z",
		"2026-11-23T25:00:00Z",
		"2026-11-23T08:60:00Z",
		"2026-11-23T08:15:61Z",
		"2026-11-23T08:15:00.Z",
		"2026-11-23T08:15:00..1Z",
		"2026-11-23T08:15:00,5Z",
		"2026-11-23T08:15:00Zjunk",
		"2026-11-23T08:15:00Z ",
		"2026-11-23T08:15:00 Z",
		"2026-11-23T08:15:00+01:0",
		"2026-11-23T08:15:00+01:",
		"2026-11-23T08:15:00+1",
		"2026-11-23T08:15:00+010",
		"2026-11-23T08:15:00+01000",
		"2026-11-23T08:15:00+24:00",
		"2026-11-23T08:15:00+01:60",
		"2026-11-23T08:15:00+01:00x",
		"2026-11-23T08:15:00UTC",
		"+2026-11-23T08:15:00Z",
		"2026-1-23T08:15:00Z",
		NULL};
	size_t i;

	for (i = 0; cases[i] != NULL; i++)
		bad(RFC3339, cases[i]);
}
END_TEST

START_TEST(test_syslog)
{
	/* Reference: 2026-11-23T12:00:00Z. */
	g_tz = NULL;
	g_ref_us = S(1795435200);
	good(SYSLOG, "Nov 23 08:15:00", S(1795421700));
	good(SYSLOG, "Nov  3 08:15:00", S(1795421700 - 20 * 86400));
	good(SYSLOG, "Nov 03 08:15:00", S(1795421700 - 20 * 86400));
	/* Up to 31 days ahead stays in this year... */
	good(SYSLOG, "Dec 24 11:59:59", S(1798113599));
	/* ...further ahead is last year's. */
	good(SYSLOG, "Dec 24 12:00:01", S(1798113601 - 365 * 86400));
	good(SYSLOG, "Dec 25 00:00:00", S(1766620800));
	good(SYSLOG, "Jan  1 00:00:00", S(1767225600));
}
END_TEST

START_TEST(test_syslog_new_year)
{
	g_tz = NULL;
	/* Read just after new year 2027: December is last year's. */
	g_ref_us = S(1798761605); /* 2027-01-01T00:00:05Z */
	good(SYSLOG, "Dec 31 23:59:59", S(1798761599));
	good(SYSLOG, "Jan  1 00:00:04", S(1798761604));
	/* Read just before new year: a stamp from a clock a little ahead is
	 * next year's, not eleven months old. */
	g_ref_us = S(1798761590); /* 2026-12-31T23:59:50Z */
	good(SYSLOG, "Jan  1 00:00:01", S(1798761601));
	good(SYSLOG, "Dec 31 23:59:49", S(1798761589));
	/* Feb 29 goes back to the last leap year. */
	g_ref_us = S(1772366400); /* 2026-03-01T12:00:00Z */
	good(SYSLOG, "Feb 29 12:00:00", S(1709208000)); /* 2024 */
	g_ref_us = S(1709294400); /* 2024-03-01T12:00:00Z */
	good(SYSLOG, "Feb 29 12:00:00", S(1709208000));
}
END_TEST

START_TEST(test_syslog_tz)
{
	struct bw_error err;
	struct bw_tz *tz = bw_tz_load("Europe/Berlin", &err);

	ck_assert_msg(tz != NULL, "%s", err.msg);
	g_tz = tz;
	g_ref_us = S(1782907200); /* 2026-07-01T12:00:00Z */
	good(SYSLOG, "Jul  1 10:00:00", S(1782892800)); /* CEST, 08:00Z */
	good(SYSLOG, "Jan 15 10:00:00", S(1768467600)); /* CET, 09:00Z */
	/* 2026-12-31T23:30:00Z is already 2027 in Berlin. */
	g_ref_us = S(1798759800);
	good(SYSLOG, "Jan  1 00:20:00", S(1798759200)); /* 2026-12-31T23:20Z */
	good(SYSLOG, "Dec 31 23:50:00", S(1798757400)); /* 2026-12-31T22:50Z */
	g_tz = NULL;
	bw_tz_destroy(&tz);
}
END_TEST

START_TEST(test_syslog_bad)
{
	static const char *const cases[] = {
		"",
		"Nov 23 08:15",
		"Nov 3 08:15:00",
		"Nov 23 08:15:00 ",
		"Nov 23 08:15:00.123",
		"Nov 23 08:15:00 host sshd[1]: x",
		"nov 23 08:15:00",
		"Nox 23 08:15:00",
		"Nov 31 08:15:00",
		"Feb 30 08:15:00",
		"Nov 00 08:15:00",
		"Nov  0 08:15:00",
		"Nov 32 08:15:00",
		"Nov 2a 08:15:00",
		"Nov  a 08:15:00",
		"Nov 23 24:00:00",
		"Nov 23 25:15:00",
		"Nov 23 08:60:00",
		"Nov 23 08:15:60",
		"Nov 23 08-15-00",
		"Nov-23 08:15:00",
		"2026-11-23T08:1",
		NULL};
	size_t i;

	g_tz = NULL;
	g_ref_us = S(1795435200);
	for (i = 0; cases[i] != NULL; i++)
		bad(SYSLOG, cases[i]);
}
END_TEST

START_TEST(test_pg)
{
	struct bw_error err;
	struct bw_tz *tz = bw_tz_load("Europe/Berlin", &err);

	ck_assert_msg(tz != NULL, "%s", err.msg);
	g_tz = tz;
	good(PG, "2026-11-23 08:15:00 UTC", S(1795421700));
	good(PG, "2026-11-23 08:15:00 GMT", S(1795421700));
	good(PG, "2026-11-23 08:15:00 Z", S(1795421700));
	good(PG, "2026-11-23 08:15:00.123 UTC", S(1795421700) + 123000);
	good(PG, "2026-11-23 09:15:00.123 CET", S(1795421700) + 123000);
	good(PG, "2026-11-23 09:15:00 +01", S(1795421700));
	good(PG, "2026-11-23 03:15:00 -05", S(1795421700));
	good(PG, "2026-11-23 13:45:00 +0530", S(1795421700));
	good(PG, "2026-11-23 04:45:00 -03:30", S(1795421700));
	good(PG, "2026-07-01 10:00:00 CEST", S(1782892800));
	/* The fall-back overlap: the abbreviation tells the two apart. */
	good(PG, "2026-10-25 02:30:00 CEST", S(1792890000 - 1800));
	good(PG, "2026-10-25 02:30:00 CET", S(1792890000 + 1800));
	/* An abbreviation the zone does not use: read in the zone. */
	good(PG, "2026-07-01 10:00:00 EST", S(1782892800));
	/* %n: epoch with milliseconds. */
	good(PG, "1700000000.123", S(1700000000) + 123000);
	good(PG, "1700000000", S(1700000000));

	/* Without a zone, an abbreviation means UTC. */
	g_tz = NULL;
	good(PG, "2026-11-23 08:15:00.123 CET", S(1795421700) + 123000);
	good(PG, "2026-11-23 09:15:00 +01", S(1795421700));
	bw_tz_destroy(&tz);
}
END_TEST

START_TEST(test_pg_bad)
{
	static const char *const cases[] = {
		"",
		"2026-11-23 08:15:00",
		"2026-11-23 08:15:00 ",
		"2026-11-23 08:15:00  UTC",
		"2026-11-23 08:15:00 UTC ",
		"2026-11-23 08:15:00UTC",
		"2026-11-23T08:15:00 UTC",
		"2026-11-23 08:15:00. UTC",
		"2026-11-23 08:15:00.123UTC",
		"2026-11-23 08:15:00 U1C",
		"2026-11-23 08:15:00 ABCDEFGHIJK",
		"2026-11-23 08:15:00 +1",
		"2026-11-23 08:15:00 +01:",
		"2026-11-23 08:15:00 +25",
		"2026-11-23 08:15:00 +01x",
		"2026-13-23 08:15:00 UTC",
		"2026-11-23 08:15:61 UTC",
		"2026-11-23 24:15:00 UTC",
		"2026-11-23",
		"1700000000.",
		"1700000000.12a",
		"-1700000000",
		"17e8",
		NULL};
	size_t i;

	g_tz = NULL;
	for (i = 0; cases[i] != NULL; i++)
		bad(PG, cases[i]);
}
END_TEST

START_TEST(test_epoch)
{
	static const char *const cases[] = {
		"",	     ".5",	      "1700000000.", "1700000000.1.",
		"-1",	     "+1",	      " 1",	     "1 ",
		"1e9",	     "0x10",	      "1,5",	     "1234567890123",
		"17000000000000000000000", NULL};
	size_t i;

	good(EPOCH, "0", 0);
	good(EPOCH, "1700000000", S(1700000000));
	good(EPOCH, "1700000000.123456", S(1700000000) + 123456);
	good(EPOCH, "1700000000.1", S(1700000000) + 100000);
	good(EPOCH, "1700000000.123456789", S(1700000000) + 123456);
	good(EPOCH, "253402300799", S(253402300799));
	for (i = 0; cases[i] != NULL; i++)
		bad(EPOCH, cases[i]);
}
END_TEST

START_TEST(test_format)
{
	char buf[40], small[8];
	int64_t t, back;
	int i;

	ck_assert_str_eq(bw_time_format(0, buf, sizeof(buf)),
			 "1970-01-01T00:00:00Z");
	ck_assert_str_eq(bw_time_format(S(1795421700), buf, sizeof(buf)),
			 "2026-11-23T08:15:00Z");
	ck_assert_str_eq(bw_time_format(S(1795421700) + 123, buf, sizeof(buf)),
			 "2026-11-23T08:15:00.000123Z");
	ck_assert_str_eq(bw_time_format(-1, buf, sizeof(buf)),
			 "1969-12-31T23:59:59.999999Z");
	ck_assert_str_eq(bw_time_format(S(1709251199), buf, sizeof(buf)),
			 "2024-02-29T23:59:59Z");
	ck_assert_str_eq(bw_time_format(S(253402300799), buf, sizeof(buf)),
			 "9999-12-31T23:59:59Z");
	/* Truncated, still terminated. */
	ck_assert_str_eq(bw_time_format(0, small, sizeof(small)), "1970-01");
	/* Round trip through the parser over a spread of times. */
	for (i = 0, t = S(-2208988800); i < 20000; i++) {
		t += S(86400 * 7 + 3671) + 7919 * i;
		bw_time_format(t, buf, sizeof(buf));
		if (bw_time_parse_rfc3339(buf, strlen(buf), &back) != 0 ||
		    back != t)
			ck_abort_msg("%s does not round-trip", buf);
	}
}
END_TEST

START_TEST(test_duration)
{
	static const struct {
		const char *text;
		int64_t us;
	} goods[] = {
		{"30s", S(30)},	  {"10m", S(600)},     {"2h", S(7200)},
		{"1d", S(86400)}, {"500ms", 500000},   {"45", S(45)},
		{"0", 0},	  {"0s", 0},	       {"007s", S(7)},
		{"106751991d", S(106751991LL * 86400)},
	};
	static const char *const bads[] = {
		"",	 "-5",	 "-5s",	 "5x",	 "5 s", " 5s",	"5s ",
		"s",	 "ms",	 "1.5h", "10M",	 "1h30m", "5sec", "+5",
		"106751992d", "9223372036854775807s", "99999999999999999999",
		NULL};
	int64_t v;
	size_t i;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		v = -1;
		ck_assert_msg(bw_duration_parse(goods[i].text, &v) == 0,
			      "rejected %s", goods[i].text);
		ck_assert_msg(v == goods[i].us, "%s: %lld", goods[i].text,
			      (long long)v);
	}
	for (i = 0; bads[i] != NULL; i++) {
		v = 42;
		ck_assert_msg(bw_duration_parse(bads[i], &v) == -1,
			      "accepted %s", bads[i]);
		ck_assert_int_eq(v, 42);
	}
	ck_assert_int_eq(bw_duration_parse(NULL, &v), -1);
}
END_TEST

START_TEST(test_clocks)
{
	int64_t now = bw_now_us(), m1, m2;
	int64_t sys = (int64_t)time(NULL);

	ck_assert_msg(now / 1000000 >= sys - 2 && now / 1000000 <= sys + 2,
		      "now %lld, time() %lld", (long long)now, (long long)sys);
	m1 = bw_mono_us();
	m2 = bw_mono_us();
	ck_assert(m1 > 0);
	ck_assert(m2 >= m1);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_civil);
	tcase_add_test(tc, test_clf_good);
	tcase_add_test(tc, test_clf_bad);
	tcase_add_test(tc, test_clf_prefix_only);
	tcase_add_test(tc, test_rfc3339_good);
	tcase_add_test(tc, test_rfc3339_bad);
	tcase_add_test(tc, test_syslog);
	tcase_add_test(tc, test_syslog_new_year);
	tcase_add_test(tc, test_syslog_tz);
	tcase_add_test(tc, test_syslog_bad);
	tcase_add_test(tc, test_pg);
	tcase_add_test(tc, test_pg_bad);
	tcase_add_test(tc, test_epoch);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_clocks);
	suite_add_tcase(s, tc);
	return s;
}
