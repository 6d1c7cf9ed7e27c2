/*
 * tz.c - time zones from TZif files (RFC 8536), without touching the
 * process's TZ.
 *
 * A zone is its transitions (UTC seconds, ascending), the local time types
 * they switch to, and the POSIX TZ rule from the file's footer for times
 * after the last transition. Version 2+ files are read from their 64-bit
 * section; version 1 files from the 32-bit one.
 */
#include "bwtime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmalloc.h"

#define TZ_DIR "/usr/share/zoneinfo"
#define TZ_NAME_MAX 255
#define TZ_FILE_MAX (1024 * 1024)
#define TZ_FOOTER_MAX 128
#define TZ_ABBR_MAX 15
#define TZ_TYPES_MAX 256
/* RFC 8536: utoff lies in [-89999, 93599]; a probe window of this width
 * around a local time holds every UTC time that could map to it. */
#define TZ_OFF_MIN (-89999)
#define TZ_OFF_MAX 93599

struct ttype {
	int32_t off; /* seconds east of UTC */
	bool dst;
	char abbr[TZ_ABBR_MAX + 1];
};

enum rule_kind {
	RULE_JULIAN1, /* Jn: day 1..365, Feb 29 never counted */
	RULE_JULIAN0, /* n: day 0..365, Feb 29 counted */
	RULE_MWD      /* Mm.w.d: day d of week w of month m */
};

struct rule {
	enum rule_kind kind;
	int day, week, month;
	int32_t time; /* seconds after local midnight, -167h..167h */
};

/* A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". */
struct posix_tz {
	struct ttype std, dst;
	bool has_dst;
	struct rule start, end;
};

struct bw_tz {
	char *name;
	int64_t *trans; /* UTC seconds, strictly ascending */
	uint8_t *trans_type;
	size_t ntrans;
	struct ttype *types;
	size_t ntypes;
	bool has_footer;
	struct posix_tz footer;
};

/* A bounded reader over the file's bytes. */
struct cursor {
	const uint8_t *p;
	size_t len, off;
};

/*
 * POSIX TZ strings.
 */

/* A zone name: alphabetic ("CET"), or quoted ("<+0530>"), 3 or more. */
static const char *parse_tzname(const char *p, char *out)
{
	size_t n = 0;

	if (*p == '<') {
		for (p++; *p != '>'; p++) {
			if (*p == '\0' || n == TZ_ABBR_MAX ||
			    !(*p == '+' || *p == '-' ||
			      (*p >= '0' && *p <= '9') ||
			      (*p >= 'A' && *p <= 'Z') ||
			      (*p >= 'a' && *p <= 'z')))
				return NULL;
			out[n++] = *p;
		}
		p++;
	} else {
		for (; (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z');
		     p++) {
			if (n == TZ_ABBR_MAX)
				return NULL;
			out[n++] = *p;
		}
	}
	if (n < 3)
		return NULL;
	out[n] = '\0';
	return p;
}

/* A number of at most max_digits digits, at most max. */
static const char *parse_num(const char *p, int max_digits, int max, int *out)
{
	int v = 0, n;

	for (n = 0; *p >= '0' && *p <= '9'; p++, n++) {
		if (n == max_digits)
			return NULL;
		v = v * 10 + (*p - '0');
	}
	if (n == 0 || v > max)
		return NULL;
	*out = v;
	return p;
}

/* [+-]hh[:mm[:ss]], hours up to max_h. */
static const char *parse_hms(const char *p, int max_h, int32_t *out)
{
	int sign = 1, h, m = 0, s = 0;

	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
	}
	p = parse_num(p, 3, max_h, &h);
	if (p != NULL && *p == ':') {
		p = parse_num(p + 1, 2, 59, &m);
		if (p != NULL && *p == ':')
			p = parse_num(p + 1, 2, 59, &s);
	}
	if (p == NULL)
		return NULL;
	*out = sign * (h * 3600 + m * 60 + s);
	return p;
}

static const char *parse_rule(const char *p, struct rule *r)
{
	if (*p == 'J') {
		r->kind = RULE_JULIAN1;
		p = parse_num(p + 1, 3, 365, &r->day);
		if (p != NULL && r->day < 1)
			return NULL;
	} else if (*p == 'M') {
		r->kind = RULE_MWD;
		p = parse_num(p + 1, 2, 12, &r->month);
		if (p == NULL || r->month < 1 || *p != '.')
			return NULL;
		p = parse_num(p + 1, 1, 5, &r->week);
		if (p == NULL || r->week < 1 || *p != '.')
			return NULL;
		p = parse_num(p + 1, 1, 6, &r->day);
	} else {
		r->kind = RULE_JULIAN0;
		p = parse_num(p, 3, 365, &r->day);
	}
	if (p == NULL)
		return NULL;
	r->time = 2 * 3600;
	if (*p == '/')
		p = parse_hms(p + 1, 167, &r->time);
	return p;
}

/* "std offset [dst [offset] [,start[/time],end[/time]]]". */
static int parse_posix_tz(const char *p, struct posix_tz *tz)
{
	int32_t west;

	memset(tz, 0, sizeof(*tz));
	p = parse_tzname(p, tz->std.abbr);
	if (p == NULL)
		return -1;
	p = parse_hms(p, 24, &west);
	if (p == NULL)
		return -1;
	tz->std.off = -west;
	if (*p == '\0')
		return 0;
	tz->has_dst = true;
	tz->dst.dst = true;
	p = parse_tzname(p, tz->dst.abbr);
	if (p == NULL)
		return -1;
	tz->dst.off = tz->std.off + 3600;
	if (*p != ',' && *p != '\0') {
		p = parse_hms(p, 24, &west);
		if (p == NULL)
			return -1;
		tz->dst.off = -west;
	}
	if (*p == '\0') {
		/* No rule given: the US rule, as glibc assumes. */
		tz->start = (struct rule){RULE_MWD, 0, 2, 3, 7200};
		tz->end = (struct rule){RULE_MWD, 0, 1, 11, 7200};
		return 0;
	}
	if (*p != ',')
		return -1;
	p = parse_rule(p + 1, &tz->start);
	if (p == NULL || *p != ',')
		return -1;
	p = parse_rule(p + 1, &tz->end);
	if (p == NULL || *p != '\0')
		return -1;
	return 0;
}

/* Local seconds (as if UTC) at which rule r fires in year y. */
static int64_t rule_local(const struct rule *r, int64_t y)
{
	int64_t days = bw_days_from_civil(y, 1, 1), first;
	int wday, day;

	switch (r->kind) {
	case RULE_JULIAN1:
		days += r->day - 1;
		if (bw_is_leap(y) && r->day >= 60)
			days++;
		break;
	case RULE_JULIAN0:
		days += r->day;
		break;
	case RULE_MWD:
		first = bw_days_from_civil(y, r->month, 1);
		wday = (int)((first + 4) % 7 + 7) % 7; /* 1970-01-01: Thu */
		day = 1 + (r->day - wday + 7) % 7 + (r->week - 1) * 7;
		while (day > bw_days_in_month(y, r->month))
			day -= 7;
		days = first + day - 1;
		break;
	}
	return days * 86400 + r->time;
}

static const struct ttype *posix_type(const struct posix_tz *p, int64_t t)
{
	int64_t y, start, end;
	int m, d;

	if (!p->has_dst)
		return &p->std;
	bw_civil_from_days(bw_floor_div(t + p->std.off, 86400), &y, &m, &d);
	start = rule_local(&p->start, y) - p->std.off;
	end = rule_local(&p->end, y) - p->dst.off;
	if (start < end)
		return t >= start && t < end ? &p->dst : &p->std;
	/* Southern hemisphere: DST spans the new year. */
	return t >= end && t < start ? &p->std : &p->dst;
}

/* The local time type in effect at UTC second t. */
static const struct ttype *tz_type(const struct bw_tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->ntrans, mid;

	if (tz->has_footer && (tz->ntrans == 0 || t >= tz->trans[tz->ntrans - 1]))
		return posix_type(&tz->footer, t);
	if (tz->ntrans == 0 || t < tz->trans[0])
		return &tz->types[0];
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &tz->types[tz->trans_type[lo - 1]];
}

/*
 * TZif files.
 */

static int get_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if (n > c->len - c->off)
		return -1;
	*out = c->p + c->off;
	c->off += n;
	return 0;
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static int64_t be64(const uint8_t *b)
{
	return (int64_t)((uint64_t)be32(b) << 32 | be32(b + 4));
}

struct tzif_header {
	char version;
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_header(struct cursor *c, struct tzif_header *h)
{
	const uint8_t *b;

	if (get_bytes(c, 44, &b) != 0 || memcmp(b, "TZif", 4) != 0)
		return -1;
	h->version = (char)b[4];
	h->isutcnt = be32(b + 20);
	h->isstdcnt = be32(b + 24);
	h->leapcnt = be32(b + 28);
	h->timecnt = be32(b + 32);
	h->typecnt = be32(b + 36);
	h->charcnt = be32(b + 40);
	return 0;
}

/* Bytes of the data block that follows header h, with tsize-byte times. */
static uint64_t block_size(const struct tzif_header *h, unsigned tsize)
{
	return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 +
	       h->charcnt + (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt +
	       h->isutcnt;
}

/* Read one data block into tz. Returns NULL or the reason it is bad. */
static const char *read_block(struct cursor *c, const struct tzif_header *h,
			      unsigned tsize, struct bw_tz *tz)
{
	const uint8_t *times, *idx, *types, *chars, *skip;
	size_t i;

	if (h->typecnt == 0 || h->typecnt > TZ_TYPES_MAX || h->charcnt == 0)
		return "no local time types";
	if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
	    (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return "bad indicator counts";
	if (h->leapcnt != 0)
		return "leap-second zones (\"right/\") are not supported";
	if (block_size(h, tsize) > c->len - c->off)
		return "truncated";
	if (get_bytes(c, (size_t)h->timecnt * tsize, &times) != 0 ||
	    get_bytes(c, h->timecnt, &idx) != 0 ||
	    get_bytes(c, (size_t)h->typecnt * 6, &types) != 0 ||
	    get_bytes(c, h->charcnt, &chars) != 0 ||
	    get_bytes(c, (size_t)h->isstdcnt + h->isutcnt, &skip) != 0)
		return "truncated";
	if (chars[h->charcnt - 1] != '\0')
		return "unterminated abbreviation";

	tz->ntypes = h->typecnt;
	tz->types = xcalloc(tz->ntypes, sizeof(*tz->types));
	for (i = 0; i < tz->ntypes; i++) {
		const uint8_t *t = types + 6 * i;
		int32_t off = (int32_t)be32(t);

		if (off < TZ_OFF_MIN || off > TZ_OFF_MAX || t[4] > 1 ||
		    t[5] >= h->charcnt)
			return "bad local time type";
		tz->types[i].off = off;
		tz->types[i].dst = t[4] == 1;
		snprintf(tz->types[i].abbr, sizeof(tz->types[i].abbr), "%s",
			 (const char *)chars + t[5]);
	}
	tz->ntrans = h->timecnt;
	tz->trans = xcalloc(tz->ntrans + 1, sizeof(*tz->trans));
	tz->trans_type = xcalloc(tz->ntrans + 1, 1);
	for (i = 0; i < tz->ntrans; i++) {
		tz->trans[i] = tsize == 8 ? be64(times + 8 * i)
					  : (int32_t)be32(times + 4 * i);
		tz->trans_type[i] = idx[i];
		if (idx[i] >= tz->ntypes)
			return "bad transition type";
		if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
			return "transitions out of order";
	}
	return NULL;
}

/* The footer: "\n" TZ-string "\n". Returns NULL or the reason it is bad. */
static const char *read_footer(struct cursor *c, struct bw_tz *tz)
{
	char s[TZ_FOOTER_MAX + 1];
	const uint8_t *b, *nl;
	size_t n;

	if (get_bytes(c, 1, &b) != 0 || b[0] != '\n')
		return "missing footer";
	nl = memchr(c->p + c->off, '\n', c->len - c->off);
	if (nl == NULL)
		return "unterminated footer";
	n = (size_t)(nl - (c->p + c->off));
	if (n > TZ_FOOTER_MAX)
		return "footer too long";
	memcpy(s, c->p + c->off, n);
	s[n] = '\0';
	if (n == 0)
		return NULL; /* no rule: the last type holds */
	if (memchr(s, '\0', n) != NULL || parse_posix_tz(s, &tz->footer) != 0)
		return "bad TZ rule in footer";
	tz->has_footer = true;
	return NULL;
}

static const char *parse_tzif(const uint8_t *data, size_t len, struct bw_tz *tz)
{
	struct cursor c = {data, len, 0};
	struct tzif_header h;
	const char *why;
	uint64_t v1;

	if (read_header(&c, &h) != 0)
		return "not a TZif file";
	if (h.version == '\0')
		return read_block(&c, &h, 4, tz);
	v1 = block_size(&h, 4);
	if (v1 > c.len - c.off)
		return "truncated";
	c.off += (size_t)v1;
	if (read_header(&c, &h) != 0)
		return "missing 64-bit header";
	why = read_block(&c, &h, 8, tz);
	if (why != NULL)
		return why;
	return read_footer(&c, tz);
}

/* Names are paths under TZ_DIR: no leading '/', no "..", plain bytes. */
static bool name_ok(const char *name)
{
	size_t i, n = strnlen(name, TZ_NAME_MAX + 1);

	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' ||
	    strstr(name, "..") != NULL)
		return false;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' ||
		      ch == '-' || ch == '+' || ch == '.'))
			return false;
	}
	return true;
}

/* Read a whole (small) regular file. Caller frees *out. */
static int read_file(const char *path, uint8_t **out, size_t *outlen,
		     struct bw_error *err)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		bw_error_set(err, path, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		bw_error_set(err, path, 0, "cannot stat: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
		bw_error_set(err, path, 0, "not a time zone file");
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			bw_error_set(err, path, 0, "cannot read: %s",
				     n < 0 ? strerror(errno) : "short file");
			goto fail;
		}
		got += (size_t)n;
	}
	close(fd);
	*out = buf;
	*outlen = got;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

static struct bw_tz *tz_utc(const char *name)
{
	struct bw_tz *tz = xcalloc(1, sizeof(*tz));

	tz->name = xstrdup(name);
	tz->ntypes = 1;
	tz->types = xcalloc(1, sizeof(*tz->types));
	memcpy(tz->types[0].abbr, "UTC", 4);
	return tz;
}

/* A POSIX TZ string as a zone of its own: no transitions, only the rule. */
static struct bw_tz *tz_posix(const char *name)
{
	struct posix_tz p;
	struct bw_tz *tz;

	if (strnlen(name, TZ_FOOTER_MAX + 1) > TZ_FOOTER_MAX ||
	    parse_posix_tz(name, &p) != 0)
		return NULL;
	tz = xcalloc(1, sizeof(*tz));
	tz->name = xstrdup(name);
	tz->ntypes = 1;
	tz->types = xcalloc(1, sizeof(*tz->types));
	tz->types[0] = p.std;
	tz->has_footer = true;
	tz->footer = p;
	return tz;
}

struct bw_tz *bw_tz_load(const char *name, struct bw_error *err)
{
	char path[sizeof(TZ_DIR) + TZ_NAME_MAX + 1];
	struct bw_error ferr;
	struct bw_tz *tz = NULL;
	uint8_t *data = NULL;
	const char *why;
	size_t len;

	if (name == NULL || name[0] == '/' || strstr(name, "..") != NULL) {
		bw_error_set(err, NULL, 0, "bad time zone name \"%.64s\"",
			     name ? name : "");
		return NULL;
	}
	if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0)
		return tz_utc(name);
	if (!name_ok(name)) {
		tz = tz_posix(name);
		if (tz == NULL)
			bw_error_set(err, NULL, 0,
				     "bad time zone name \"%.64s\"", name);
		return tz;
	}
	snprintf(path, sizeof(path), "%s/%s", TZ_DIR, name);
	if (read_file(path, &data, &len, &ferr) != 0) {
		/* "EST5EDT,M3.2.0,M11.1.0" names no file but is a zone. */
		tz = tz_posix(name);
		if (tz == NULL)
			bw_error_set(err, NULL, 0,
				     "unknown time zone \"%s\" (%s: %s)", name,
				     path, ferr.msg);
		return tz;
	}
	tz = xcalloc(1, sizeof(*tz));
	tz->name = xstrdup(name);
	why = parse_tzif(data, len, tz);
	free(data);
	if (why != NULL) {
		bw_error_set(err, path, 0, "bad time zone file: %s", why);
		bw_tz_destroy(&tz);
		return NULL;
	}
	return tz;
}

void bw_tz_destroy(struct bw_tz **tz)
{
	if (tz == NULL || *tz == NULL)
		return;
	free((*tz)->name);
	free((*tz)->trans);
	free((*tz)->trans_type);
	free((*tz)->types);
	free(*tz);
	*tz = NULL;
}

int32_t bw_tz_offset(const struct bw_tz *tz, int64_t utc_us)
{
	if (tz == NULL)
		return 0;
	return tz_type(tz, bw_floor_div(utc_us, 1000000))->off;
}

/*
 * Every UTC time u with u + offset(u) == local lies within the offset
 * bounds of local; offsets change at most once in such a window (zones do
 * not change twice in two days), so probing its two ends and its middle
 * finds every candidate offset. A candidate is valid when the offset at
 * local - off is off; a gap has no valid one, an overlap two.
 */
static int64_t resolve(const struct bw_tz *tz, int64_t local_s,
		       const char *abbr, size_t len)
{
	const int64_t probes[3] = {local_s - TZ_OFF_MAX, local_s,
				   local_s - TZ_OFF_MIN};
	int64_t best_valid = INT64_MAX, best_any = INT64_MAX, u;
	const struct ttype *t;
	int i;

	if (tz == NULL)
		return local_s;
	for (i = 0; i < 3; i++) {
		int32_t off = tz_type(tz, probes[i])->off;

		u = local_s - off;
		if (u < best_any)
			best_any = u;
		t = tz_type(tz, u);
		if (t->off != off)
			continue;
		if (abbr != NULL && strlen(t->abbr) == len &&
		    memcmp(t->abbr, abbr, len) == 0)
			return u;
		if (u < best_valid)
			best_valid = u;
	}
	return best_valid != INT64_MAX ? best_valid : best_any;
}

int64_t bw_tz_local_to_utc(const struct bw_tz *tz, int64_t local_s)
{
	return resolve(tz, local_s, NULL, 0);
}

int64_t bw_tz_local_to_utc_abbr(const struct bw_tz *tz, int64_t local_s,
				const char *abbr, size_t len)
{
	return resolve(tz, local_s, abbr, len);
}

void bw_tz_local(const struct bw_tz *tz, int64_t utc_us, int *wday,
		 int *minute_of_day)
{
	int64_t local = bw_floor_div(utc_us, 1000000) + bw_tz_offset(tz, utc_us);
	int64_t days = bw_floor_div(local, 86400);

	*wday = (int)(((days + 4) % 7 + 7) % 7);
	*minute_of_day = (int)((local - days * 86400) / 60);
}

const char *bw_tz_name(const struct bw_tz *tz)
{
	return tz != NULL ? tz->name : "UTC";
}
