/*
 * parse_clf.c - nginx and Apache access logs in the `combined` and `common`
 * formats:
 *
 *   addr ident user [10/Oct/2000:13:55:36 -0700] "request" status bytes
 *       "referer" "user-agent"        (the last two in combined only)
 *
 * This is the agent's hot path: one pass of memchr and pointer arithmetic,
 * no allocation, no sscanf, no regex. String fields point into the line.
 *
 * Inside quoted fields nginx writes '"' as \x22 and Apache as \" (and a
 * backslash as \x5C or \\), so a quote ends a field unless an odd number of
 * backslashes precede it. Nothing is decoded: fields keep the escapes.
 * Both servers escape control bytes, so a raw one means the line is not
 * theirs (binary garbage) and it is rejected. Fields after the user agent
 * (a trailing "$http_x_forwarded_for", say) are allowed and ignored.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "parse_util.h"

/* [dd/Mon/yyyy:hh:mm:ss +zzzz] */
#define CLF_TIME_LEN 26

struct clf {
	bool combined;
	/* The last time field and its value: neighbouring lines share it. */
	bool have_last;
	char last_time[CLF_TIME_LEN];
	int64_t last_us;
};

const char *const parse_clf_keys[] = {"format", NULL};

void *parse_clf_create(const config_setting_t *opts, enum bw_source source,
                       struct bw_error *err)
{
	const char *fmt = NULL;
	struct clf *c;
	bool combined = true;

	(void)source;
	if (opts != NULL) {
		if (bw_cfg_string(opts, "format", false, &fmt, err) != 0)
			return NULL;
		if (fmt != NULL && strcmp(fmt, "common") == 0) {
			combined = false;
		} else if (fmt != NULL && strcmp(fmt, "combined") != 0) {
			bw_cfg_error(
			    err, config_setting_get_member(opts, "format"),
			    "format must be \"combined\" or \"common\", "
			    "not \"%s\"",
			    fmt);
			return NULL;
		}
	}
	c = xcalloc(1, sizeof(*c));
	c->combined = combined;
	return c;
}

void parse_clf_destroy(void *st)
{
	free(st);
}

/* The closing quote of a field that starts at p, or NULL. */
static const char *quoted_end(const char *p, const char *end)
{
	const char *q = p, *b;

	while ((q = memchr(q, '"', (size_t)(end - q))) != NULL) {
		b = q;
		while (b > p && b[-1] == '\\')
			b--;
		if (((q - b) & 1) == 0)
			return q;
		q++;
	}
	return NULL;
}

/* A quoted field at *pp (" \"...\""), "-" meaning absent. */
static int quoted_field(const char **pp, const char *end, struct bw_str *out)
{
	const char *p = *pp, *q;

	if (end - p < 3 || p[0] != ' ' || p[1] != '"')
		return -1;
	p += 2;
	q = quoted_end(p, end);
	if (q == NULL)
		return -1;
	if (!(q - p == 1 && *p == '-'))
		*out = pstr(p, (size_t)(q - p));
	*pp = q + 1;
	return 0;
}

static int reject(struct bw_error *err, const char *why)
{
	bw_error_set(err, NULL, 0, "%s", why);
	return PARSE_REJECT;
}

int parse_clf_parse(void *st, const char *line, size_t len, struct bw_event *ev,
                    struct bw_error *err)
{
	struct clf *c = st;
	const char *p = line, *end = line + len, *sp, *q, *user, *t;
	int64_t n;

	if (parse_util_has_ctl(line, len))
		return reject(err, "control byte in line");

	/* remote address */
	sp = memchr(p, ' ', len);
	if (sp == NULL)
		return reject(err, "missing fields");
	if (parse_util_addr(p, (size_t)(sp - p), &ev->src_ip) != 0)
		return reject(err, "bad remote address");
	p = sp + 1;

	/* ident (always "-" in practice) */
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL || sp == p || *p == '[')
		return reject(err, "missing ident or user field");
	p = sp + 1;

	/* user, up to the " [" that opens a well-formed time field (a user
	 * name may hold spaces or brackets) */
	user = p;
	for (;;) {
		q = memchr(p, '[', (size_t)(end - p));
		if (q == NULL)
			return reject(err, "missing time field");
		if (q - 1 > user && q[-1] == ' ' &&
		    end - q >= CLF_TIME_LEN + 4 && q[CLF_TIME_LEN + 1] == ']' &&
		    q[CLF_TIME_LEN + 2] == ' ' && q[CLF_TIME_LEN + 3] == '"')
			break;
		p = q + 1;
	}
	if (!(q - 1 - user == 1 && *user == '-'))
		ev->principal = pstr(user, (size_t)(q - 1 - user));

	/* time */
	t = q + 1;
	if (c->have_last && memcmp(t, c->last_time, CLF_TIME_LEN) == 0) {
		ev->ts_us = c->last_us;
	} else {
		if (bw_time_parse_clf(t, CLF_TIME_LEN, &ev->ts_us) != 0)
			return reject(err, "bad time");
		memcpy(c->last_time, t, CLF_TIME_LEN);
		c->last_us = ev->ts_us;
		c->have_last = true;
	}

	/* "request" */
	p = q + CLF_TIME_LEN + 4;
	q = quoted_end(p, end);
	if (q == NULL)
		return reject(err, "unterminated request");
	parse_util_request(p, (size_t)(q - p), ev);
	p = q + 1;

	/* status */
	if (end - p < 6 || p[0] != ' ' || p[4] != ' ' ||
	    parse_util_uint(p + 1, 3, &n) != 0)
		return reject(err, "bad status");
	ev->status = (int32_t)n;
	p += 5;

	/* bytes sent ("-" for none, in Apache's %b) */
	sp = memchr(p, ' ', (size_t)(end - p));
	if (sp == NULL)
		sp = end;
	if (sp - p == 1 && *p == '-')
		ev->bytes_out = 0;
	else if (parse_util_uint(p, (size_t)(sp - p), &ev->bytes_out) != 0)
		return reject(err, "bad byte count");
	p = sp;

	if (c->combined) {
		if (quoted_field(&p, end, &ev->referer) != 0)
			return reject(err, "bad referer field");
		if (quoted_field(&p, end, &ev->user_agent) != 0)
			return reject(err, "bad user agent field");
	}
	if (p != end && *p != ' ')
		return reject(err, "trailing bytes after the last field");
	ev->kind = BW_KIND_HTTP;
	return PARSE_EVENT;
}
