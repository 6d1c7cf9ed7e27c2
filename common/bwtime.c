/*
 * bwtime.c - log timestamps to UTC microseconds, RFC 3339 output,
 * durations and clocks.
 *
 * The parsers sit on the per-line hot path: they check fixed positions,
 * compute days from the civil date with integer arithmetic (no timegm, no
 * locale, no allocation) and never look past len. Time zones are in tz.c.
 */
#include "bwtime.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define US_PER_S INT64_C(1000000)
#define EPOCH_DIGITS_MAX 12 /* seconds up to year 33658 */

int64_t bw_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

bool bw_is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int bw_days_in_month(int64_t y, int m)
{
	static const uint8_t mdays[12] = {31, 28, 31, 30, 31, 30,
					  31, 31, 30, 31, 30, 31};

	if (m == 2 && bw_is_leap(y))
		return 29;
	return mdays[m - 1];
}

/*
 * Counting years from March 1st puts the leap day at the end of the year,
 * so the day of the year is a linear function of the month; 400-year eras
 * of 146097 days repeat exactly. 719468 is the day number of 1970-01-01
 * counted from 0000-03-01.
 */
int64_t bw_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = bw_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void bw_civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
	int64_t z = days + 719468, era, doe, yoe, doy, mp;

	era = bw_floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* Two decimal digits at p, or -1. */
static int dig2(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + (p[1] - '0');
}

static int dig4(const char *p)
{
	int hi = dig2(p), lo = dig2(p + 2);

	if (hi < 0 || lo < 0)
		return -1;
	return hi * 100 + lo;
}

int bw_month_abbr(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	for (i = 0; i < 12; i++)
		if (memcmp(p, names + 3 * i, 3) == 0)
			return i + 1;
	return -1;
}

/*
 * Seconds since the epoch of a wall-clock time read as UTC, after checking
 * every field's range (max_sec is 60 where a leap second may be written).
 */
static int civil_seconds(int y, int mon, int d, int h, int mi, int s,
			 int max_sec, int64_t *out)
{
	if (y < 0 || mon < 1 || mon > 12 || d < 1 ||
	    d > bw_days_in_month(y, mon) || h < 0 || h > 23 || mi < 0 ||
	    mi > 59 || s < 0 || s > max_sec)
		return -1;
	*out = bw_days_from_civil(y, mon, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/*
 * A numeric UTC offset at s[i..len): "+HH", "+HHMM" or "+HH:MM" (or '-').
 * Returns the index after it and sets *off (seconds east), or 0.
 */
static size_t parse_numoff(const char *s, size_t len, size_t i, int32_t *off)
{
	int sign, hh, mm = 0;

	if (i + 3 > len || (s[i] != '+' && s[i] != '-'))
		return 0;
	sign = s[i] == '-' ? -1 : 1;
	hh = dig2(s + i + 1);
	i += 3;
	if (i < len && s[i] == ':') {
		if (i + 3 > len)
			return 0;
		mm = dig2(s + i + 1);
		i += 3;
	} else if (i + 2 <= len && s[i] >= '0' && s[i] <= '9') {
		mm = dig2(s + i);
		i += 2;
	}
	if (hh < 0 || hh > 23 || mm < 0 || mm > 59)
		return 0;
	*off = sign * (hh * 3600 + mm * 60);
	return i;
}

/*
 * A fraction ".ddd" at s[i..len) to microseconds; digits after the sixth
 * are dropped. Returns the index after it, or 0 when there is no digit.
 */
static size_t parse_frac(const char *s, size_t len, size_t i, int32_t *us)
{
	int32_t v = 0;
	size_t n = 0;

	if (i >= len || s[i] != '.')
		return 0;
	for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, n++)
		if (n < 6)
			v = v * 10 + (s[i] - '0');
	if (n == 0)
		return 0;
	for (; n < 6; n++)
		v *= 10;
	*us = v;
	return i;
}

/* "YYYY-MM-DD?HH:MM:SS" at s (19 bytes, checked by the caller), with sep
 * any byte; the caller checks it. */
static int parse_ymd_hms(const char *s, int max_sec, int64_t *out)
{
	if (s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':')
		return -1;
	return civil_seconds(dig4(s), dig2(s + 5), dig2(s + 8), dig2(s + 11),
			     dig2(s + 14), dig2(s + 17), max_sec, out);
}

int bw_time_parse_clf(const char *s, size_t len, int64_t *out_us)
{
	int64_t t;
	int32_t off;
	int oh, om;

	/* 10/Oct/2000:13:55:36 -0700 */
	if (len != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' ||
	    s[14] != ':' || s[17] != ':' || s[20] != ' ' ||
	    (s[21] != '+' && s[21] != '-'))
		return -1;
	if (civil_seconds(dig4(s + 7), bw_month_abbr(s + 3), dig2(s), dig2(s + 12),
			  dig2(s + 15), dig2(s + 18), 59, &t) != 0)
		return -1;
	oh = dig2(s + 22);
	om = dig2(s + 24);
	if (oh < 0 || oh > 23 || om < 0 || om > 59)
		return -1;
	off = oh * 3600 + om * 60;
	if (s[21] == '-')
		off = -off;
	*out_us = (t - off) * US_PER_S;
	return 0;
}

int bw_time_parse_rfc3339(const char *s, size_t len, int64_t *out_us)
{
	int64_t t;
	int32_t frac = 0, off = 0;
	size_t i = 19;

	if (len < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	if (parse_ymd_hms(s, 60, &t) != 0)
		return -1;
	if (s[i] == '.') {
		i = parse_frac(s, len, i, &frac);
		if (i == 0)
			return -1;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else
		i = parse_numoff(s, len, i, &off);
	if (i == 0 || i != len)
		return -1;
	*out_us = (t - off) * US_PER_S + frac;
	return 0;
}

/* Local wall-clock seconds (read as UTC) to UTC in tz; NULL means UTC. */
static int64_t local_to_utc(const struct bw_tz *tz, int64_t local_s)
{
	return tz != NULL ? bw_tz_local_to_utc(tz, local_s) : local_s;
}

int bw_time_parse_syslog(const char *s, size_t len, const struct bw_tz *tz,
			 int64_t ref_us, int64_t *out_us)
{
	int64_t ref_s, ref_local, ref_year, y, local, utc;
	int mon, d, h, mi, sec, rm, rd;

	/* Nov 23 08:15:00, or Nov  3 08:15:00 */
	if (len != 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' ||
	    s[12] != ':')
		return -1;
	mon = bw_month_abbr(s);
	if (s[4] == ' ')
		d = s[5] >= '1' && s[5] <= '9' ? s[5] - '0' : -1;
	else
		d = dig2(s + 4);
	h = dig2(s + 7);
	mi = dig2(s + 10);
	sec = dig2(s + 13);
	/* Check the fields against a leap year; the year is checked below. */
	if (civil_seconds(2000, mon, d, h, mi, sec, 59, &local) != 0)
		return -1;

	/* The latest year that puts the stamp at most a month after ref. */
	ref_s = bw_floor_div(ref_us, US_PER_S);
	ref_local = ref_s + (tz != NULL ? bw_tz_offset(tz, ref_us) : 0);
	bw_civil_from_days(bw_floor_div(ref_local, 86400), &ref_year, &rm, &rd);
	for (y = ref_year + 1; y >= ref_year - 8; y--) {
		if (d > bw_days_in_month(y, mon))
			continue; /* Feb 29 outside a leap year */
		local = bw_days_from_civil(y, mon, d) * 86400 + h * 3600 +
			mi * 60 + sec;
		utc = local_to_utc(tz, local);
		if (utc <= ref_s + 31 * 86400) {
			*out_us = utc * US_PER_S;
			return 0;
		}
	}
	return -1;
}

/* Zone abbreviations that mean UTC whatever the configured zone. */
static bool is_utc_abbr(const char *p, size_t n)
{
	static const char *const names[] = {"UTC", "GMT", "Z", "UT"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && memcmp(p, names[i], n) == 0)
			return true;
	return false;
}

int bw_time_parse_pg(const char *s, size_t len, const struct bw_tz *tz,
		     int64_t *out_us)
{
	int64_t t, utc;
	int32_t frac = 0, off = 0;
	size_t i = 19, z;

	if (len < 5 || s[4] != '-')
		return bw_time_parse_epoch(s, len, out_us);
	/* 2026-11-23 08:15:00[.123] ZONE */
	if (len < 21 || s[10] != ' ' || parse_ymd_hms(s, 59, &t) != 0)
		return -1;
	if (s[i] == '.') {
		i = parse_frac(s, len, i, &frac);
		if (i == 0)
			return -1;
	}
	if (i + 1 >= len || s[i] != ' ')
		return -1;
	z = ++i;
	if (s[z] == '+' || s[z] == '-') {
		i = parse_numoff(s, len, z, &off);
		if (i == 0 || i != len)
			return -1;
		utc = t - off;
	} else {
		for (; i < len; i++)
			if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			      (s[i] >= 'a' && s[i] <= 'z')))
				return -1;
		if (len - z > 10)
			return -1;
		if (is_utc_abbr(s + z, len - z) || tz == NULL)
			utc = t;
		else
			utc = bw_tz_local_to_utc_abbr(tz, t, s + z, len - z);
	}
	*out_us = utc * US_PER_S + frac;
	return 0;
}

int bw_time_parse_epoch(const char *s, size_t len, int64_t *out_us)
{
	int64_t sec = 0;
	int32_t frac = 0;
	size_t i;

	for (i = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (i == EPOCH_DIGITS_MAX)
			return -1;
		sec = sec * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	if (i < len) {
		i = parse_frac(s, len, i, &frac);
		if (i != len)
			return -1;
	}
	*out_us = sec * US_PER_S + frac;
	return 0;
}

const char *bw_time_format(int64_t us, char *buf, size_t size)
{
	int64_t sec = bw_floor_div(us, US_PER_S), days, y;
	int64_t frac = us - sec * US_PER_S, rem;
	int m, d;

	if (size == 0)
		return buf;
	days = bw_floor_div(sec, 86400);
	rem = sec - days * 86400;
	bw_civil_from_days(days, &y, &m, &d);
	if (frac != 0)
		snprintf(buf, size,
			 "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%06dZ", y, m,
			 d, (int)(rem / 3600), (int)(rem / 60 % 60),
			 (int)(rem % 60), (int)frac);
	else
		snprintf(buf, size, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ",
			 y, m, d, (int)(rem / 3600), (int)(rem / 60 % 60),
			 (int)(rem % 60));
	return buf;
}

int bw_duration_parse(const char *s, int64_t *out_us)
{
	static const struct {
		const char *suffix;
		int64_t us;
	} units[] = {
		{"", US_PER_S},		  {"ms", 1000},
		{"s", US_PER_S},	  {"m", 60 * US_PER_S},
		{"h", 3600 * US_PER_S},	  {"d", 86400 * US_PER_S},
	};
	int64_t v = 0;
	size_t i, u;

	if (s == NULL)
		return -1;
	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (i == 0)
		return -1;
	for (u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		if (strcmp(s + i, units[u].suffix) != 0)
			continue;
		if (v > INT64_MAX / units[u].us)
			return -1;
		*out_us = v * units[u].us;
		return 0;
	}
	return -1;
}

int64_t bw_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}

int64_t bw_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * US_PER_S + ts.tv_nsec / 1000;
}
