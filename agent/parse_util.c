/*
 * parse_util.c - scanning helpers shared by the log parsers.
 *
 * All of them work on (pointer, length) views of a line, never read past
 * the length and allocate nothing.
 */
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../common/cidr.h"
#include "parse_util.h"

struct bw_str *parse_util_strp(struct bw_event *ev, enum bw_field f)
{
	switch (f) {
	case BW_F_PRINCIPAL:
		return &ev->principal;
	case BW_F_ACTION:
		return &ev->action;
	case BW_F_RESOURCE:
		return &ev->resource;
	case BW_F_QUERY:
		return &ev->query;
	case BW_F_OUTCOME:
		return &ev->outcome;
	case BW_F_HOST:
		return &ev->host;
	case BW_F_USER_AGENT:
		return &ev->user_agent;
	case BW_F_REFERER:
		return &ev->referer;
	case BW_F_DATABASE:
		return &ev->database;
	case BW_F_DETAIL:
		return &ev->detail;
	case BW_F_TEXT:
		return &ev->text;
	default:
		return NULL;
	}
}

/* Dotted quad, no leading zeros (as inet_pton). Returns 0 or -1. */
static int parse_ipv4(const char *p, size_t len, uint8_t out[4])
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		unsigned v = 0, nd = 0;

		while (i < len && p[i] >= '0' && p[i] <= '9') {
			if (nd > 0 && v == 0)
				return -1; /* leading zero */
			v = v * 10 + (unsigned)(p[i] - '0');
			if (++nd > 3 || v > 255)
				return -1;
			i++;
		}
		if (nd == 0)
			return -1;
		out[part] = (uint8_t)v;
		if (part < 3) {
			if (i >= len || p[i] != '.')
				return -1;
			i++;
		}
	}
	return i == len ? 0 : -1;
}

int parse_util_addr(const char *p, size_t len, struct bw_addr *out)
{
	if (len >= 7 && len <= 15 && memchr(p, ':', len) == NULL) {
		memset(out, 0, sizeof(*out));
		if (parse_ipv4(p, len, out->bytes) != 0)
			return -1;
		out->family = 4;
		return 0;
	}
	if (len < 2 || len > 64)
		return -1;
	return bw_addr_parse(p, len, out);
}

int parse_util_uint(const char *p, size_t len, int64_t *out)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

bool parse_util_has_ctl(const char *p, size_t len)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t highs = 0x8080808080808080ull;
	size_t i = 0;

#ifdef __SSE2__
	/* 16 bytes at a time: x is below 0x20 iff min(x, 0x1f) == x. */
	const __m128i top = _mm_set1_epi8(0x1f);

	for (; i + 16 <= len; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + i));

		if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, top), x)))
			return true;
	}
#endif
	/* A word holds a byte below 0x20 iff (x - 0x20..) & ~x & 0x80.. is
	 * non-zero (the classic "hasless" test, exact for n <= 128). */
	for (; i + 8 <= len; i += 8) {
		uint64_t x;

		memcpy(&x, p + i, 8);
		if (((x - ones * 0x20) & ~x & highs) != 0)
			return true;
	}
	for (; i < len; i++)
		if ((unsigned char)p[i] < 0x20)
			return true;
	return false;
}

bool parse_util_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

void parse_util_request(const char *p, size_t len, struct bw_event *ev)
{
	const char *end = p + len, *sp, *target, *tend, *last, *q;

	if (len == 0)
		return;
	ev->text = pstr(p, len);
	sp = memchr(p, ' ', len);
	if (sp == NULL || sp == p)
		return;
	for (q = p; q < sp; q++)
		if (!parse_util_tchar((unsigned char)*q))
			return;
	target = sp + 1;
	tend = end;
	last = memrchr(target, ' ', (size_t)(end - target));
	if (last != NULL &&
	    PSTARTS(last + 1, (size_t)(end - last - 1), "HTTP/"))
		tend = last;
	if (tend == target)
		return;
	ev->action = pstr(p, (size_t)(sp - p));
	q = memchr(target, '?', (size_t)(tend - target));
	if (q != NULL) {
		ev->resource = pstr(target, (size_t)(q - target));
		ev->query = pstr(q + 1, (size_t)(tend - q - 1));
	} else {
		ev->resource = pstr(target, (size_t)(tend - target));
	}
}

const char *parse_util_find(const char *p, size_t len, const char *needle,
                            size_t nlen)
{
	return memmem(p, len, needle, nlen);
}

const char *parse_util_rfind(const char *p, size_t len, const char *needle,
                             size_t nlen)
{
	const char *q;

	if (nlen == 0 || nlen > len)
		return NULL;
	q = p + len - nlen;
	for (;;) {
		q = memrchr(p, needle[0], (size_t)(q - p) + 1);
		if (q == NULL)
			return NULL;
		if (memcmp(q, needle, nlen) == 0)
			return q;
		if (q == p)
			return NULL;
		q--;
	}
}

/* The next space-delimited token of [*pp, end); *pp moves past it and one
 * space. Returns false when there is none. */
static bool next_token(const char **pp, const char *end, struct bw_str *tok)
{
	const char *p = *pp, *sp;

	if (p >= end || *p == ' ')
		return false;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL)
		sp = end;
	*tok = pstr(p, (size_t)(sp - p));
	*pp = sp < end ? sp + 1 : end;
	return true;
}

/* RFC 5424 after "<PRI>1 ": TS HOST APP PROCID MSGID SD [MSG]. */
static int syslog_5424(const char *p, const char *end, struct syslog_hdr *h,
                       struct bw_error *err)
{
	struct bw_str ts, host, app, procid, msgid;
	bool inq = false;

	if (!next_token(&p, end, &ts) || !next_token(&p, end, &host) ||
	    !next_token(&p, end, &app) || !next_token(&p, end, &procid) ||
	    !next_token(&p, end, &msgid) || p >= end)
		return bw_error_set(err, NULL, 0, "short RFC 5424 header");
	if (bw_time_parse_rfc3339(ts.p, ts.len, &h->ts_us) != 0)
		return bw_error_set(err, NULL, 0, "bad RFC 5424 timestamp");
	if (!(host.len == 1 && host.p[0] == '-'))
		h->host = host;
	if (!(app.len == 1 && app.p[0] == '-'))
		h->prog = app;
	if (!(procid.len == 1 && procid.p[0] == '-'))
		h->pid = procid;
	if (*p == '-') {
		p++;
	} else {
		/* [id k="v" ...][...]: quoted values escape \" \\ \] */
		while (p < end && *p == '[') {
			p++;
			while (p < end && (inq || *p != ']')) {
				if (inq && *p == '\\' && p + 1 < end)
					p++;
				else if (*p == '"')
					inq = !inq;
				p++;
			}
			if (p >= end)
				return bw_error_set(
				    err, NULL, 0,
				    "unterminated structured data");
			p++;
		}
	}
	if (p < end && *p == ' ')
		p++;
	if (end - p >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	h->msg = p;
	h->msglen = (size_t)(end - p);
	return 0;
}

int parse_util_syslog(const char *line, size_t len, const struct bw_tz *tz,
                      int year, int64_t ref_us, struct syslog_hdr *h,
                      struct bw_error *err)
{
	const char *p = line, *end = line + len, *q;
	struct bw_str tok;

	memset(h, 0, sizeof(*h));
	if (p < end && *p == '<') {
		q = memchr(p, '>', len < 5 ? len : 5);
		if (q == NULL || q == p + 1)
			return bw_error_set(err, NULL, 0,
			                    "bad syslog priority");
		p = q + 1;
		if (end - p >= 2 && p[0] == '1' && p[1] == ' ')
			return syslog_5424(p + 2, end, h, err);
	}
	if (end - p >= 20 && p[0] >= '0' && p[0] <= '9' && p[4] == '-' &&
	    p[10] == 'T') {
		q = memchr(p, ' ', (size_t)(end - p));
		if (q == NULL ||
		    bw_time_parse_rfc3339(p, (size_t)(q - p), &h->ts_us) != 0)
			return bw_error_set(err, NULL, 0,
			                    "bad RFC 3339 timestamp");
		p = q + 1;
	} else {
		char buf[15];
		size_t n;
		int64_t ref = ref_us;
		int mon;

		/* "Nov 23 08:15:00", "Nov  3 08:15:00", or unpadded "Nov 3 ..."
		 */
		if (end - p < 15 || p[3] != ' ')
			return bw_error_set(err, NULL, 0,
			                    "bad syslog timestamp");
		if (p[5] == ' ') {
			buf[0] = p[0], buf[1] = p[1], buf[2] = p[2],
			buf[3] = ' ';
			buf[4] = ' ';
			memcpy(buf + 5, p + 4, 10);
			n = 14;
		} else {
			memcpy(buf, p, 15);
			n = 15;
		}
		mon = bw_month_abbr(buf);
		if (year > 0 && mon > 0)
			ref = (bw_days_from_civil(year, mon, 15) * 86400 + 43200) *
			      (int64_t)1000000;
		if (mon < 0 ||
		    bw_time_parse_syslog(buf, 15, tz, ref, &h->ts_us) != 0)
			return bw_error_set(err, NULL, 0,
			                    "bad syslog timestamp");
		p += n;
		if (p >= end || *p != ' ')
			return bw_error_set(err, NULL, 0,
			                    "bad syslog timestamp");
		p++;
	}
	/* host (optional), then "prog[pid]:" */
	if (!next_token(&p, end, &tok))
		return bw_error_set(err, NULL, 0, "missing syslog host");
	if (tok.p[tok.len - 1] != ':') {
		const char *save = p;

		h->host = tok;
		if (!next_token(&p, end, &tok) || tok.p[tok.len - 1] != ':') {
			/* No tag: a line from no program we know. */
			h->msg = save;
			h->msglen = (size_t)(end - save);
			return 0;
		}
	}
	tok.len--; /* the ':' */
	q = memchr(tok.p, '[', tok.len);
	if (q != NULL && tok.p[tok.len - 1] == ']') {
		h->prog = pstr(tok.p, (size_t)(q - tok.p));
		h->pid = pstr(q + 1, (size_t)(tok.p + tok.len - 1 - q - 1));
	} else {
		h->prog = tok;
	}
	h->msg = p;
	h->msglen = (size_t)(end - p);
	return 0;
}
