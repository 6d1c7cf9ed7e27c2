/*
 * bwtime.h - event time: parsing log timestamps to UTC microseconds, and
 * formatting RFC 3339.
 *
 * All parsers take (text, len), never read past len, and return 0 with
 * *out_us set, or -1 on anything malformed (including trailing bytes
 * unless noted). They allocate nothing.
 */
#ifndef BW_BWTIME_H
#define BW_BWTIME_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct bw_tz;

/* nginx/Apache $time_local: "10/Oct/2000:13:55:36 -0700". */
int bw_time_parse_clf(const char *s, size_t len, int64_t *out_us) BW_WUR;

/* RFC 3339 / ISO 8601: "2026-11-23T08:15:00Z", "...T08:15:00.123456+01:00",
 * also a space instead of 'T'. Fractions to microseconds (more digits are
 * truncated). A time without a zone is an error. */
int bw_time_parse_rfc3339(const char *s, size_t len, int64_t *out_us) BW_WUR;

/* Syslog "Nov 23 08:15:00" (RFC 3164, no year, local time in tz; NULL tz
 * means UTC). The year is chosen so the time is not more than ~1 month in the
 * future of ref_us (the time of reading), the rule rsyslog and journald use
 * for year-less stamps. Also accepts "Nov  3" with a padded day (and
 * "Nov 03"). Exactly 15 bytes. */
int bw_time_parse_syslog(const char *s, size_t len, const struct bw_tz *tz,
			 int64_t ref_us, int64_t *out_us) BW_WUR;

/* PostgreSQL %t / %m / %n: "2026-11-23 08:15:00 UTC",
 * "2026-11-23 08:15:00.123 CET", "2026-11-23 08:15:00.123 +01",
 * or epoch "1700000000.123". A zone abbreviation other than UTC/GMT/UT/Z
 * or a numeric offset is resolved with tz (the server's log_timezone, given
 * in config), the abbreviation choosing between the two readings of an
 * hour repeated at a DST change ("02:30 CEST" / "02:30 CET"); NULL tz then
 * means UTC. */
int bw_time_parse_pg(const char *s, size_t len, const struct bw_tz *tz,
		     int64_t *out_us) BW_WUR;

/* Unix epoch seconds with optional fraction: "1700000000.123456". */
int bw_time_parse_epoch(const char *s, size_t len, int64_t *out_us) BW_WUR;

/* Format as RFC 3339 UTC with microseconds only when non-zero:
 * "2026-11-23T08:15:00Z" or "2026-11-23T08:15:00.000123Z". Returns buf
 * (needs at least 32 bytes). */
const char *bw_time_format(int64_t us, char *buf, size_t size);

/* Parse a duration "30s", "10m", "2h", "1d", "500ms" or plain seconds "45"
 * into microseconds. Returns -1 on a bad string or a negative value. */
int bw_duration_parse(const char *s, int64_t *out_us) BW_WUR;

/* The current time, UTC microseconds (CLOCK_REALTIME), and a monotonic
 * clock in microseconds. */
int64_t bw_now_us(void);
int64_t bw_mono_us(void);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day
 * 1-31, not checked), and back. Integer arithmetic, any year. */
int64_t bw_days_from_civil(int64_t y, int m, int d);
void bw_civil_from_days(int64_t days, int64_t *y, int *m, int *d);

/* Calendar arithmetic shared by the time parsers and the zone code:
 * division rounding toward negative infinity (b > 0), Gregorian leap years,
 * the days of month m (1-12) of year y, and "Jan".."Dec" (case-sensitive, as
 * every logger writes it; three bytes are read) to 1..12, or -1. */
int64_t bw_floor_div(int64_t a, int64_t b);
bool bw_is_leap(int64_t y);
int bw_days_in_month(int64_t y, int m);
int bw_month_abbr(const char *p);

/*
 * Time zones, read from the system's TZif files (/usr/share/zoneinfo), so
 * a library can convert for a zone that is not the process's TZ.
 */
/* Load a zone by name ("Europe/Berlin", "UTC"). Caller owns the result.
 * Returns NULL with err filled if the name is unknown or the file bad; a
 * name starting with '/' or containing ".." is refused. "UTC" (and
 * "Etc/UTC") is built in and needs no file. Times after the file's last
 * transition follow its POSIX TZ footer rule. A name that is no file but a
 * POSIX TZ string ("CET-1CEST,M3.5.0,M10.5.0/3") is that rule.
 * In the functions below a NULL tz means UTC. */
struct bw_tz *bw_tz_load(const char *name, struct bw_error *err) BW_WUR;
/* Accepts NULL; nulls the caller's pointer. */
void bw_tz_destroy(struct bw_tz **tz);
/* The zone's UTC offset in seconds at UTC time us (east positive). */
int32_t bw_tz_offset(const struct bw_tz *tz, int64_t utc_us);
/* Convert a local wall-clock time (seconds since epoch as if it were UTC) to
 * UTC seconds; in a gap or an overlap the earlier interpretation wins (the
 * smaller UTC time: in a spring-forward gap, the offset after the change;
 * in a fall-back overlap, the first pass). */
int64_t bw_tz_local_to_utc(const struct bw_tz *tz, int64_t local_s);
/* Like bw_tz_local_to_utc, for a time written with a zone abbreviation
 * (abbr, len bytes: "CET", "CEST"): where both readings are valid the one
 * whose abbreviation matches wins. An abbreviation the zone does not use
 * there is ignored (the earlier interpretation wins). */
int64_t bw_tz_local_to_utc_abbr(const struct bw_tz *tz, int64_t local_s,
				const char *abbr, size_t len);
/* Broken-down local time at UTC us: weekday 0=Sunday..6, minute of day. */
void bw_tz_local(const struct bw_tz *tz, int64_t utc_us, int *wday,
		 int *minute_of_day);
const char *bw_tz_name(const struct bw_tz *tz);

#endif
