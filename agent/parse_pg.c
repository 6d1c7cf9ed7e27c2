/*
 * parse_pg.c - PostgreSQL server logs (stderr/logging collector, or
 * syslog), with the site's log_line_prefix.
 *
 * Options:
 *   prefix = "%m [%p] "     log_line_prefix as in postgresql.conf
 *   timezone = "UTC"        log_timezone (zone abbreviations, syslog stamps)
 *   syslog = false          lines come through syslog: "Nov 23 08:15:00 host
 *                           postgres[123]: [4-1] <prefix>LOG:  ..."
 *   syslog_ident = "postgres"   the program name of those lines
 *   year = 2026             year of year-less syslog stamps (default: by
 *                           the reference time)
 *
 * The prefix is compiled at parser_new into a program of literal and
 * escape tokens. Escapes with a fixed syntax (%m %t %n %s %p %l %c %v %x
 * %e %h %r %Q %P) are scanned by it; free text (%u %d %a %b %i) runs to
 * the next literal, trying the leftmost first and backtracking (bounded)
 * until the rest of the prefix and a "LEVEL:  " fit, so a client's
 * application_name cannot easily shift the fields after it. %q ends the
 * prefix of non-session processes.
 *
 * Events (string fields from %u %d %h/%r of the prefix):
 *   LOG:  statement: SQL / execute NAME: SQL / duration: N ms  statement: SQL
 *       kind sql: action the verb, resource the tables (parse_sql.c), text
 *       the statement, duration when logged
 *   LOG:  connection received: host=H port=P
 *       kind auth, action connect, detail received
 *   LOG:  connection authorized: user=U database=D ...
 *       kind auth, action connect, outcome success
 *   FATAL:  password authentication failed for user "U" (any method)
 *   FATAL:  no pg_hba.conf entry for host "H", user "U", database "D", ...
 *   FATAL:  role "U" does not exist / database "D" does not exist
 *       kind auth, outcome failure (detail no_hba, no_role, no_database)
 *
 * PostgreSQL writes a tab after every newline of a message, so a statement
 * continues on the lines that start with one (syslog: "#011" in the next
 * part "[4-2]"). Every event is therefore held until the next line that is
 * not a continuation; continuation text is joined with a space in the
 * parser's bounded scratch buffers. The event handed over carries the ref
 * and raw text of its first line (raw: all its lines).
 */
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "parse_util.h"

#define PG_MAX_TOKS     64
#define PG_MATCH_BUDGET 1024
#define PG_TEXT_MAX     (1024u * 1024)
#define PG_RAW_MAX      (1024u * 1024 + 65536)
#define PG_META_MAX     65536
#define PG_DERIVED_MAX  8192
#define PG_MAX_STRS     8

struct ptok {
	char esc;    /* 0 for literal text */
	bool padded; /* "%10u" or "%-10u" */
	char *lit;   /* owned, for literals */
	size_t litlen;
};

struct pgslot {
	struct bw_event ev; /* ints, addresses, constant strings */
	struct bw_buf meta; /* copied strings, placed by strs[] */
	struct {
		enum bw_field f;
		size_t off, len;
	} strs[PG_MAX_STRS];
	size_t nstrs;
	struct bw_buf text;    /* message or statement, lines joined by '\n' */
	struct bw_buf raw;     /* the lines as read */
	struct bw_buf derived; /* verb and tables */
	bool sql, truncated;
	int64_t pid, seq; /* syslog: process and sequence number */
};

struct pg {
	struct ptok toks[PG_MAX_TOKS];
	size_t ntoks;
	size_t qpos; /* token index where %q stood, or SIZE_MAX */
	bool syslog;
	char *ident;
	struct bw_tz *tz;
	int year;
	bool ref_set;
	int64_t ref_us;
	struct pgslot slots[2];
	int held;  /* slot holding an event, or -1 */
	bool open; /* the held event may still get continuation lines */
};

/* The values the prefix gave, by escape letter. */
struct pmatch {
	struct bw_str v[128];
	const char *msg;
	int budget;
};

const char *const parse_pg_keys[] = {"prefix",       "timezone", "syslog",
                                     "syslog_ident", "year",     NULL};

static const char free_escapes[] = "udabi";
static const char typed_escapes[] = "mtnsplcvxehrQP";

static const struct bw_str S_FAILURE = BW_STR_LIT("failure");
static const struct bw_str S_SUCCESS = BW_STR_LIT("success");
static const struct bw_str S_CONNECT = BW_STR_LIT("connect");
static const struct bw_str S_RECEIVED = BW_STR_LIT("received");
static const struct bw_str S_NOHBA = BW_STR_LIT("no_hba");
static const struct bw_str S_NOROLE = BW_STR_LIT("no_role");
static const struct bw_str S_NODB = BW_STR_LIT("no_database");
static const struct bw_str S_TRUNCATED = BW_STR_LIT("truncated");

static void slot_init(struct pgslot *s)
{
	bw_buf_init(&s->meta, PG_META_MAX);
	bw_buf_init(&s->text, PG_TEXT_MAX);
	bw_buf_init(&s->raw, PG_RAW_MAX);
	bw_buf_init(&s->derived, PG_DERIVED_MAX);
}

static void slot_free(struct pgslot *s)
{
	bw_buf_free(&s->meta);
	bw_buf_free(&s->text);
	bw_buf_free(&s->raw);
	bw_buf_free(&s->derived);
}

static void slot_reset(struct pgslot *s, const struct bw_event *ev)
{
	s->ev = *ev;
	bw_buf_reset(&s->meta);
	bw_buf_reset(&s->text);
	bw_buf_reset(&s->raw);
	bw_buf_reset(&s->derived);
	s->nstrs = 0;
	s->sql = false;
	s->truncated = false;
	s->pid = -1;
	s->seq = -1;
}

/* Copy a string field into the slot (placed at hand-over). */
static void slot_str(struct pgslot *s, enum bw_field f, const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	for (i = 0; i < s->nstrs; i++)
		if (s->strs[i].f == f)
			break;
	if (i == PG_MAX_STRS)
		return;
	if (bw_buf_add(&s->meta, p, n) != 0) {
		s->truncated = true;
		return;
	}
	s->strs[i].f = f;
	s->strs[i].off = s->meta.len - n;
	s->strs[i].len = n;
	if (i == s->nstrs)
		s->nstrs++;
}

static void slot_text(struct pgslot *s, const char *sep, size_t seplen,
                      const char *p, size_t n)
{
	if (bw_buf_add(&s->text, sep, seplen) != 0 ||
	    bw_buf_add(&s->text, p, n) != 0)
		s->truncated = true;
}

static void slot_raw(struct pgslot *s, const char *p, size_t n)
{
	if (s->raw.len > 0 && bw_buf_addc(&s->raw, '\n') != 0)
		return;
	if (bw_buf_add(&s->raw, p, n) != 0)
		s->truncated = true;
}

/* Hand the slot's event over into *ev. */
static void slot_out(struct pgslot *s, struct bw_event *ev)
{
	size_t i;
	char *q;

	*ev = s->ev;
	for (i = 0; i < s->nstrs; i++)
		*parse_util_strp(ev, s->strs[i].f) =
		    pstr(s->meta.data + s->strs[i].off, s->strs[i].len);
	if (s->text.len > 0) {
		if (s->sql)
			parse_sql_analyze(s->text.data, s->text.len,
			                  &s->derived, &ev->action,
			                  &ev->resource);
		/* continuation lines are joined with a space */
		q = s->text.data;
		while ((q = memchr(q, '\n',
		                   s->text.len - (size_t)(q - s->text.data))) !=
		       NULL)
			*q++ = ' ';
		ev->text = pstr(s->text.data, s->text.len);
	}
	if (s->truncated && ev->detail.len == 0)
		ev->detail = S_TRUNCATED;
	ev->raw = pstr(s->raw.data, s->raw.len);
}

void parse_pg_destroy(void *st)
{
	struct pg *g = st;
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->ntoks; i++)
		free(g->toks[i].lit);
	slot_free(&g->slots[0]);
	slot_free(&g->slots[1]);
	bw_tz_destroy(&g->tz);
	free(g->ident);
	free(g);
}

static int add_tok(struct pg *g, char esc, bool padded, struct bw_buf *lit,
                   struct bw_error *err)
{
	struct ptok *t;

	if (esc == 0 && lit->len == 0)
		return 0;
	if (g->ntoks >= PG_MAX_TOKS)
		return bw_error_set(err, NULL, 0, "prefix too long");
	t = &g->toks[g->ntoks++];
	t->esc = esc;
	t->padded = padded;
	if (esc == 0) {
		t->litlen = lit->len;
		t->lit = bw_buf_steal(lit);
	}
	return 0;
}

/* Compile log_line_prefix into g->toks. Returns 0, or -1 with err (no
 * location: the caller adds the setting's). */
static int compile_prefix(struct pg *g, const char *pre, struct bw_error *err)
{
	struct bw_buf lit;
	bool has_time = false;
	size_t i;
	int rc = -1;

	bw_buf_init(&lit, 4096);
	g->qpos = SIZE_MAX;
	for (i = 0; pre[i] != '\0'; i++) {
		bool padded = false;
		char c;

		if (pre[i] != '%') {
			if (bw_buf_addc(&lit, pre[i]) != 0) {
				bw_error_set(err, NULL, 0, "prefix too long");
				goto done;
			}
			continue;
		}
		i++;
		if (pre[i] == '-') {
			padded = true;
			i++;
		}
		while (pre[i] >= '0' && pre[i] <= '9') {
			padded = true;
			i++;
		}
		c = pre[i];
		if (c == '\0') {
			bw_error_set(err, NULL, 0,
			             "prefix ends with a lone %%");
			goto done;
		}
		if (c == '%' && !padded) {
			if (bw_buf_addc(&lit, '%') != 0)
				goto done;
			continue;
		}
		if (c == 'q' && !padded) {
			if (add_tok(g, 0, false, &lit, err) != 0)
				goto done;
			g->qpos = g->ntoks;
			continue;
		}
		if ((unsigned char)c >= 128 ||
		    (strchr(free_escapes, c) == NULL &&
		     strchr(typed_escapes, c) == NULL)) {
			bw_error_set(err, NULL, 0,
			             "unknown escape %%%c in prefix", c);
			goto done;
		}
		has_time = has_time || c == 'm' || c == 't' || c == 'n';
		if (add_tok(g, 0, false, &lit, err) != 0 ||
		    add_tok(g, c, padded, &lit, err) != 0)
			goto done;
	}
	if (add_tok(g, 0, false, &lit, err) != 0)
		goto done;
	for (i = 0; i < g->ntoks; i++) {
		char c = g->toks[i].esc;

		if (c != 0 && strchr(free_escapes, c) != NULL &&
		    (i + 1 == g->ntoks || g->toks[i + 1].esc != 0 ||
		     g->qpos == i + 1)) {
			bw_error_set(
			    err, NULL, 0,
			    "%%%c in prefix must be followed by literal "
			    "text (a separator)",
			    c);
			goto done;
		}
	}
	if (!g->syslog && !has_time) {
		bw_error_set(err, NULL, 0,
		             "prefix has no time (%%m, %%t or %%n) and syslog "
		             "is off: events would have no time");
		goto done;
	}
	rc = 0;
done:
	bw_buf_free(&lit);
	return rc;
}

void *parse_pg_create(const config_setting_t *opts, enum bw_source source,
                      struct bw_error *err)
{
	struct pg *g = xcalloc(1, sizeof(*g));
	const char *prefix = "%m [%p] ", *tzname = NULL, *ident = "postgres";
	int64_t year = 0;
	struct bw_error e;

	(void)source;
	g->held = -1;
	slot_init(&g->slots[0]);
	slot_init(&g->slots[1]);
	if (opts != NULL &&
	    (bw_cfg_string(opts, "prefix", false, &prefix, err) != 0 ||
	     bw_cfg_string(opts, "timezone", false, &tzname, err) != 0 ||
	     bw_cfg_bool(opts, "syslog", false, &g->syslog, err) != 0 ||
	     bw_cfg_string(opts, "syslog_ident", false, &ident, err) != 0 ||
	     bw_cfg_int(opts, "year", false, 1970, 9999, &year, err) != 0))
		goto fail;
	if (prefix == NULL)
		prefix = "%m [%p] ";
	if (ident == NULL)
		ident = "postgres";
	g->ident = xstrdup(ident);
	g->year = (int)year;
	if (compile_prefix(g, prefix, &e) != 0) {
		if (opts != NULL && config_setting_get_member(opts, "prefix"))
			bw_cfg_error(err,
			             config_setting_get_member(opts, "prefix"),
			             "%s", e.msg);
		else if (opts != NULL)
			bw_cfg_error(err, opts, "%s", e.msg);
		else
			bw_error_set(err, NULL, 0, "%s", e.msg);
		goto fail;
	}
	if (tzname != NULL) {
		g->tz = bw_tz_load(tzname, &e);
		if (g->tz == NULL) {
			bw_cfg_error(
			    err, config_setting_get_member(opts, "timezone"),
			    "timezone: %s", e.msg);
			goto fail;
		}
	}
	return g;
fail:
	parse_pg_destroy(g);
	return NULL;
}

void parse_pg_set_ref(void *st, int64_t ref_us)
{
	struct pg *g = st;

	g->ref_set = true;
	g->ref_us = ref_us;
}

/*
 * Prefix matching.
 */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *digits(const char *p, const char *end)
{
	while (p < end && is_digit(*p))
		p++;
	return p;
}

/* "2026-11-23 08:15:00[.123] ZONE" */
static const char *scan_ts(const char *p, const char *end)
{
	static const char shape[] = "dddd-dd-dd dd:dd:dd";
	const char *q, *z;
	size_t i;

	if (end - p < 19)
		return NULL;
	for (i = 0; i < 19; i++)
		if (shape[i] == 'd' ? !is_digit(p[i]) : p[i] != shape[i])
			return NULL;
	q = p + 19;
	if (q < end && *q == '.') {
		z = digits(q + 1, end);
		if (z == q + 1)
			return NULL;
		q = z;
	}
	if (q >= end || *q != ' ')
		return NULL;
	z = q + 1;
	while (z < end && (is_alnum(*z) || *z == '+' || *z == '-' ||
	                   (*z == ':' && z + 1 < end && is_digit(z[1]))))
		z++;
	return z > q + 1 ? z : NULL;
}

static bool host_char(char c)
{
	return is_alnum(c) || c == '.' || c == ':' || c == '%' || c == '_' ||
	       c == '-';
}

/* The end of a typed escape's value at p, or NULL. */
static const char *scan_typed(char esc, const char *p, const char *end)
{
	const char *q;

	switch (esc) {
	case 'm':
	case 't':
	case 's':
		return scan_ts(p, end);
	case 'n':
		q = digits(p, end);
		if (q == p)
			return NULL;
		if (q < end && *q == '.')
			q = digits(q + 1, end);
		return q;
	case 'p':
	case 'l':
		q = digits(p, end);
		return q > p ? q : NULL;
	case 'x':
		return digits(p, end);
	case 'Q':
	case 'P':
		q = p < end && *p == '-' ? p + 1 : p;
		return digits(q, end);
	case 'c':
		for (q = p; q < end && ((*q >= '0' && *q <= '9') ||
		                        (*q >= 'a' && *q <= 'f') || *q == '.');
		     q++)
			;
		return q > p ? q : NULL;
	case 'v':
		for (q = p; q < end && (is_digit(*q) || *q == '/' || *q == '-');
		     q++)
			;
		return q;
	case 'e':
		if (end - p < 5)
			return NULL;
		for (q = p; q < p + 5; q++)
			if (!is_alnum(*q))
				return NULL;
		return q;
	case 'h':
	case 'r':
		if (PSTARTS(p, (size_t)(end - p), "[local]"))
			return p + 7;
		for (q = p; q < end && host_char(*q); q++)
			;
		if (esc == 'r' && q < end && *q == '(') {
			const char *d = digits(q + 1, end);

			if (d > q + 1 && d < end && *d == ')')
				q = d + 1;
		}
		return q;
	default:
		return NULL;
	}
}

/* Levels, and "LEVEL:  " at p: returns the message start or NULL. With
 * log_error_verbosity = verbose a SQLSTATE follows ("LOG:  00000: "). */
static const char *const levels[] = {
    "LOG",   "ERROR",     "FATAL",   "PANIC",  "WARNING",  "NOTICE", "INFO",
    "DEBUG", "DEBUG1",    "DEBUG2",  "DEBUG3", "DEBUG4",   "DEBUG5", "DETAIL",
    "HINT",  "STATEMENT", "CONTEXT", "QUERY",  "LOCATION", NULL};

static const char *level_at(const char *p, const char *end, size_t *lvl)
{
	size_t i, n;

	for (i = 0; levels[i] != NULL; i++) {
		n = strlen(levels[i]);
		if ((size_t)(end - p) >= n + 3 &&
		    memcmp(p, levels[i], n) == 0 &&
		    memcmp(p + n, ":  ", 3) == 0) {
			p += n + 3;
			if (end - p >= 7 && p[5] == ':' && p[6] == ' ' &&
			    is_alnum(p[0]) && is_alnum(p[1]) &&
			    is_alnum(p[2]) && is_alnum(p[3]) && is_alnum(p[4]))
				p += 7;
			*lvl = i;
			return p;
		}
	}
	return NULL;
}

static bool match(const struct pg *g, size_t ti, const char *p, const char *end,
                  struct pmatch *m)
{
	const struct ptok *t;
	const char *q, *next;
	size_t lvl;

	if (--m->budget < 0)
		return false;
	if (ti == g->qpos && level_at(p, end, &lvl) != NULL) {
		m->msg = p; /* a non-session process: the prefix ends at %q */
		return true;
	}
	if (ti == g->ntoks) {
		if (level_at(p, end, &lvl) == NULL)
			return false;
		m->msg = p;
		return true;
	}
	t = &g->toks[ti];
	if (t->esc == 0) {
		if ((size_t)(end - p) < t->litlen ||
		    memcmp(p, t->lit, t->litlen) != 0)
			return false;
		return match(g, ti + 1, p + t->litlen, end, m);
	}
	if (strchr(free_escapes, t->esc) != NULL) {
		/* up to an occurrence of the next literal, leftmost first */
		const struct ptok *nt = &g->toks[ti + 1];

		for (q = p; (size_t)(end - q) >= nt->litlen; q++) {
			q = parse_util_find(q, (size_t)(end - q), nt->lit,
			                    nt->litlen);
			if (q == NULL)
				break;
			if (match(g, ti + 1, q, end, m)) {
				const char *a = p, *b = q;

				if (t->padded) {
					while (a < b && *a == ' ')
						a++;
					while (b > a && b[-1] == ' ')
						b--;
				}
				m->v[(unsigned char)t->esc] =
				    pstr(a, (size_t)(b - a));
				return true;
			}
			if (m->budget < 0)
				return false;
		}
		return false;
	}
	q = p;
	if (t->padded)
		while (q < end && *q == ' ')
			q++;
	next = scan_typed(t->esc, q, end);
	if (next == NULL)
		return false;
	m->v[(unsigned char)t->esc] = pstr(q, (size_t)(next - q));
	if (match(g, ti + 1, next, end, m))
		return true;
	if (t->padded) { /* left-aligned: trailing spaces */
		while (next < end && *next == ' ') {
			next++;
			if (match(g, ti + 1, next, end, m))
				return true;
		}
	}
	return false;
}

/*
 * Messages.
 */

/* What a message handler sees. */
struct pgmsg {
	struct pgslot *s;
	const struct pmatch *m;
	bool have_user, have_db, have_addr;
};

static bool absent_value(struct bw_str v)
{
	return v.len == 0 || (v.len == 9 && memcmp(v.p, "[unknown]", 9) == 0) ||
	       (v.len == 7 && memcmp(v.p, "[local]", 7) == 0);
}

/* "SQL" of a statement message; duration in ms when given. */
static int sql_event(struct pgmsg *x, const char *sql, const char *end)
{
	x->s->ev.kind = BW_KIND_SQL;
	x->s->sql = true;
	slot_text(x->s, "", 0, sql, (size_t)(end - sql));
	return PARSE_HELD;
}

static int on_statement(struct pgmsg *x, const char *p, const char *end)
{
	return sql_event(x, p, end);
}

/* "execute NAME: SQL" (NAME may be "<unnamed>" or "S_1/C_2"); also
 * "execute fetch from S_1/C_2: SQL". */
static int on_execute(struct pgmsg *x, const char *p, const char *end)
{
	const char *c = parse_util_find(p, (size_t)(end - p), ": ", 2);

	if (c == NULL)
		return PARSE_IGNORED;
	return sql_event(x, c + 2, end);
}

/* "duration: 1.234 ms  statement: SQL", "... ms  execute NAME: SQL";
 * a bare duration, or parse/bind steps, are of no interest. */
static int on_duration(struct pgmsg *x, const char *p, const char *end)
{
	const char *ms = parse_util_find(p, (size_t)(end - p), " ms  ", 5);
	const char *dot, *q;
	int64_t whole, frac = 0, scale = 1000;

	if (ms == NULL)
		return PARSE_IGNORED;
	dot = memchr(p, '.', (size_t)(ms - p));
	if (parse_util_uint(p, (size_t)((dot ? dot : ms) - p), &whole) != 0)
		return PARSE_IGNORED;
	for (q = dot ? dot + 1 : ms; q < ms && scale > 1; q++) {
		if (!is_digit(*q))
			return PARSE_IGNORED;
		scale /= 10;
		frac += (*q - '0') * scale;
	}
	if (whole > INT64_MAX / 2000)
		return PARSE_IGNORED;
	x->s->ev.duration_us = whole * 1000 + frac;
	p = ms + 5;
	if (PSTARTS(p, (size_t)(end - p), "statement: "))
		return on_statement(x, p + 11, end);
	if (PSTARTS(p, (size_t)(end - p), "execute "))
		return on_execute(x, p + 8, end);
	return PARSE_IGNORED;
}

/* The value of "key=" up to the next space (or to stop, when found). */
static struct bw_str kv(const char *p, const char *end, const char *key,
                        const char *stop)
{
	size_t kl = strlen(key);
	const char *k = parse_util_find(p, (size_t)(end - p), key, kl), *e;

	if (k == NULL)
		return BW_STR_NULL;
	k += kl;
	e = stop != NULL
	        ? parse_util_find(k, (size_t)(end - k), stop, strlen(stop))
	        : NULL;
	if (e == NULL)
		e = memchr(k, ' ', (size_t)(end - k));
	if (e == NULL)
		e = end;
	return pstr(k, (size_t)(e - k));
}

static void set_addr(struct pgmsg *x, struct bw_str h, struct bw_str port)
{
	int64_t n;

	if (x->have_addr || absent_value(h))
		return;
	if (parse_util_addr(h.p, h.len, &x->s->ev.src_ip) == 0) {
		x->have_addr = true;
		if (port.len > 0 && port.len <= 5 &&
		    parse_util_uint(port.p, port.len, &n) == 0 && n <= 65535)
			x->s->ev.src_port = (uint16_t)n;
	}
}

static void set_user(struct pgmsg *x, struct bw_str u)
{
	if (!x->have_user && !absent_value(u)) {
		slot_str(x->s, BW_F_PRINCIPAL, u.p, u.len);
		x->have_user = true;
	}
}

static void set_db(struct pgmsg *x, struct bw_str d)
{
	if (!x->have_db && !absent_value(d)) {
		slot_str(x->s, BW_F_DATABASE, d.p, d.len);
		x->have_db = true;
	}
}

static int auth_event(struct pgmsg *x, const char *p, const char *end)
{
	x->s->ev.kind = BW_KIND_AUTH;
	slot_text(x->s, "", 0, p, (size_t)(end - p));
	return PARSE_HELD;
}

/* "connection received: host=H port=P" */
static int on_conn_received(struct pgmsg *x, const char *p, const char *end)
{
	set_addr(x, kv(p, end, "host=", NULL), kv(p, end, "port=", NULL));
	x->s->ev.action = S_CONNECT;
	x->s->ev.detail = S_RECEIVED;
	return auth_event(x, p - 21, end);
}

/* "connection authorized: user=U database=D[ application_name=A][ SSL ...]" */
static int on_conn_authorized(struct pgmsg *x, const char *p, const char *end)
{
	set_user(x, kv(p, end, "user=", " database="));
	set_db(x, kv(p, end, " database=", NULL));
	x->s->ev.action = S_CONNECT;
	x->s->ev.outcome = S_SUCCESS;
	return auth_event(x, p - 23, end);
}

/* A quoted value after key ("host \"" ...) up to closer. */
static struct bw_str quoted(const char *p, const char *end, const char *key,
                            const char *closer)
{
	size_t kl = strlen(key);
	const char *k = parse_util_find(p, (size_t)(end - p), key, kl), *e;

	if (k == NULL)
		return BW_STR_NULL;
	k += kl;
	e = parse_util_find(k, (size_t)(end - k), closer, strlen(closer));
	if (e == NULL)
		return BW_STR_NULL;
	return pstr(k, (size_t)(e - k));
}

/* FATAL:  no pg_hba.conf entry for host "H", user "U", database "D"[, ...] */
static int on_no_hba(struct pgmsg *x, const char *p, const char *end)
{
	const char *msg = p - 25;
	struct bw_str db;

	set_addr(x, quoted(p, end, "host \"", "\""), BW_STR_NULL);
	set_user(x, quoted(p, end, "user \"", "\", database \""));
	db = quoted(p, end, "\", database \"", "\"");
	/* the database name runs to the last quote */
	if (db.len > 0) {
		const char *last = memrchr(db.p, '"', (size_t)(end - db.p));

		db.len = (uint32_t)(last - db.p);
	}
	set_db(x, db);
	x->s->ev.action = S_CONNECT;
	x->s->ev.outcome = S_FAILURE;
	x->s->ev.detail = S_NOHBA;
	return auth_event(x, msg, end);
}

/* FATAL:  role "U" does not exist / database "D" does not exist */
static int on_no_object(struct pgmsg *x, const char *p, const char *end,
                        bool role)
{
	const char *msg = p - (role ? 6 : 10);
	const char *e =
	    parse_util_rfind(p, (size_t)(end - p), "\" does not exist", 16);

	if (e == NULL || e + 16 != end)
		return PARSE_IGNORED;
	if (role)
		set_user(x, pstr(p, (size_t)(e - p)));
	else
		set_db(x, pstr(p, (size_t)(e - p)));
	x->s->ev.action = S_CONNECT;
	x->s->ev.outcome = S_FAILURE;
	x->s->ev.detail = role ? S_NOROLE : S_NODB;
	return auth_event(x, msg, end);
}

static int on_no_role(struct pgmsg *x, const char *p, const char *end)
{
	return on_no_object(x, p, end, true);
}

static int on_no_db(struct pgmsg *x, const char *p, const char *end)
{
	return on_no_object(x, p, end, false);
}

/* "METHOD authentication failed for user \"U\"" */
static int on_auth_failed(struct pgmsg *x, const char *p, const char *end)
{
	static const char tail[] = " authentication failed for user \"";
	const char *t =
	    parse_util_find(p, (size_t)(end - p), tail, sizeof(tail) - 1);
	const char *u, *last;
	size_t i, n;
	char *a;

	if (t == NULL || memchr(p, ' ', (size_t)(t - p)) != NULL || t == p)
		return PARSE_IGNORED;
	u = t + sizeof(tail) - 1;
	last = memrchr(u, '"', (size_t)(end - u));
	if (last == NULL)
		return PARSE_IGNORED;
	set_user(x, pstr(u, (size_t)(last - u)));
	/* the method, lowercased ("Ident" -> "ident") */
	n = (size_t)(t - p);
	slot_str(x->s, BW_F_ACTION, p, n);
	if (x->s->nstrs > 0 && x->s->strs[x->s->nstrs - 1].f == BW_F_ACTION) {
		a = x->s->meta.data + x->s->strs[x->s->nstrs - 1].off;
		for (i = 0; i < n; i++)
			if (a[i] >= 'A' && a[i] <= 'Z')
				a[i] = (char)(a[i] - 'A' + 'a');
	}
	x->s->ev.outcome = S_FAILURE;
	return auth_event(x, p, end);
}

static const struct {
	const char *level;
	const char *prefix;
	size_t len;
	int (*fn)(struct pgmsg *x, const char *p, const char *end);
} messages[] = {
#define MSG(l, s, f)                                                           \
	{                                                                      \
		l, s, sizeof(s) - 1, f                                         \
	}
    MSG("LOG", "statement: ", on_statement),
    MSG("LOG", "execute ", on_execute),
    MSG("LOG", "duration: ", on_duration),
    MSG("LOG", "connection received: ", on_conn_received),
    MSG("LOG", "connection authorized: ", on_conn_authorized),
    MSG("FATAL", "no pg_hba.conf entry for ", on_no_hba),
    MSG("FATAL", "role \"", on_no_role),
    MSG("FATAL", "database \"", on_no_db),
    MSG("FATAL", "", on_auth_failed),
#undef MSG
};

/*
 * Parse one record's first line (body: after any syslog header) into slot
 * s. Returns PARSE_HELD when s holds an event, PARSE_IGNORED, or
 * PARSE_REJECT with err.
 */
static int parse_record(struct pg *g, const char *body, size_t blen,
                        const struct syslog_hdr *h, struct pgslot *s,
                        struct bw_error *err)
{
	const char *end = body + blen, *msg;
	struct pmatch m;
	struct pgmsg x = {s, &m, false, false, false};
	size_t lvl, i;
	struct bw_str ts;
	int rc;

	memset(m.v, 0, sizeof(m.v));
	m.msg = NULL;
	m.budget = PG_MATCH_BUDGET;
	if (!match(g, 0, body, end, &m)) {
		bw_error_set(err, NULL, 0,
		             "postgres: line does not match the "
		             "log_line_prefix");
		return PARSE_REJECT;
	}
	msg = level_at(m.msg, end, &lvl);
	if (msg == NULL)
		return PARSE_IGNORED; /* cannot happen: match checked it */
	for (i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if (strcmp(levels[lvl], messages[i].level) == 0 &&
		    (size_t)(end - msg) >= messages[i].len &&
		    memcmp(msg, messages[i].prefix, messages[i].len) == 0)
			break;
	if (i == sizeof(messages) / sizeof(messages[0]))
		return PARSE_IGNORED;

	/* time: %m, %n or %t of the prefix, else the syslog stamp */
	ts = m.v['m'].len ? m.v['m'] : m.v['n'].len ? m.v['n'] : m.v['t'];
	if (ts.len > 0) {
		if (bw_time_parse_pg(ts.p, ts.len, g->tz, &s->ev.ts_us) != 0) {
			bw_error_set(err, NULL, 0,
			             "postgres: bad time \"%.*s\"", (int)ts.len,
			             ts.p);
			return PARSE_REJECT;
		}
	} else if (h != NULL) {
		s->ev.ts_us = h->ts_us;
	} else {
		bw_error_set(err, NULL, 0,
		             "postgres: no time in this line's "
		             "prefix");
		return PARSE_REJECT;
	}
	set_user(&x, m.v['u']);
	set_db(&x, m.v['d']);
	if (m.v['h'].len > 0) {
		set_addr(&x, m.v['h'], BW_STR_NULL);
	} else if (m.v['r'].len > 0) {
		struct bw_str r = m.v['r'], port = BW_STR_NULL;
		const char *paren = memchr(r.p, '(', r.len);

		if (paren != NULL) {
			port =
			    pstr(paren + 1, (size_t)(r.p + r.len - paren - 2));
			r.len = (uint32_t)(paren - r.p);
		}
		set_addr(&x, r, port);
	}
	if (h != NULL && h->host.len > 0)
		slot_str(s, BW_F_HOST, h->host.p, h->host.len);
	rc = messages[i].fn(&x, msg + messages[i].len, end);
	return rc;
}

/* Whether the slot's record is the one a syslog part continues. */
static bool same_record(const struct pgslot *s, int64_t pid, int64_t seq)
{
	return s->pid == pid && s->seq == seq;
}

/* The syslog sequence "[N-M] " at the start of a message: N, M and the
 * text after it; N = M = -1 when absent. */
static const char *syslog_seq(const char *p, const char *end, int64_t *n,
                              int64_t *part)
{
	const char *a, *b;

	*n = *part = -1;
	if (p >= end || *p != '[')
		return p;
	a = digits(p + 1, end);
	if (a == p + 1 || a >= end || *a != '-')
		return p;
	b = digits(a + 1, end);
	if (b == a + 1 || end - b < 2 || b[0] != ']' || b[1] != ' ')
		return p;
	if (parse_util_uint(p + 1, (size_t)(a - p - 1), n) != 0 ||
	    parse_util_uint(a + 1, (size_t)(b - a - 1), part) != 0) {
		*n = *part = -1;
		return p;
	}
	return b + 2;
}

int parse_pg_parse(void *st, const char *line, size_t len, struct bw_event *ev,
                   struct bw_error *err)
{
	struct pg *g = st;
	struct syslog_hdr h, *hp = NULL;
	const char *body = line, *end = line + len;
	struct pgslot *held = g->held >= 0 ? &g->slots[g->held] : NULL, *s;
	int64_t pid = -1, seq = -1, part = -1;
	struct bw_str raw = ev->raw.p != NULL ? ev->raw : pstr(line, len);
	int rc, spare;

	if (g->syslog) {
		if (parse_util_syslog(line, len, g->tz, g->year,
		                      g->ref_set ? g->ref_us : bw_now_us(), &h,
		                      err) != 0)
			return PARSE_REJECT;
		if (h.prog.len != strlen(g->ident) ||
		    memcmp(h.prog.p, g->ident, h.prog.len) != 0)
			return PARSE_IGNORED;
		hp = &h;
		if (h.pid.len > 0 &&
		    parse_util_uint(h.pid.p, h.pid.len, &pid) != 0)
			pid = -1;
		body = syslog_seq(h.msg, end, &seq, &part);
		/* a later part of a record: a continuation line ("#011" is
		 * rsyslog's escape of the tab) or a long line cut in two */
		if (part > 1 || PSTARTS(body, (size_t)(end - body), "#011") ||
		    PSTARTS(body, (size_t)(end - body), "\t")) {
			bool tab = PSTARTS(body, (size_t)(end - body), "#011");

			if (held == NULL || !g->open ||
			    (part > 1 && !same_record(held, pid, seq)))
				return PARSE_IGNORED;
			if (tab || *body == '\t') {
				body += tab ? 4 : 1;
				slot_text(held, "\n", 1, body,
				          (size_t)(end - body));
			} else {
				slot_text(held, "", 0, body,
				          (size_t)(end - body));
			}
			slot_raw(held, raw.p, raw.len);
			return PARSE_HELD;
		}
	} else if (len > 0 && line[0] == '\t') {
		if (held == NULL || !g->open)
			return PARSE_IGNORED;
		slot_text(held, "\n", 1, line + 1, len - 1);
		slot_raw(held, raw.p, raw.len);
		return PARSE_HELD;
	}

	/* A new record: parse it into the spare slot. */
	spare = g->held == 0 ? 1 : 0;
	s = &g->slots[spare];
	slot_reset(s, ev);
	s->pid = pid;
	s->seq = seq;
	rc = parse_record(g, body, (size_t)(end - body), hp, s, err);
	if (rc == PARSE_HELD)
		slot_raw(s, raw.p, raw.len);
	if (held == NULL) {
		if (rc == PARSE_HELD) {
			g->held = spare;
			g->open = true;
		}
		return rc;
	}
	if (rc == PARSE_REJECT) {
		/* keep the held event for the next call, closed */
		g->open = false;
		return PARSE_REJECT;
	}
	slot_out(held, ev);
	if (rc == PARSE_HELD) {
		g->held = spare;
		g->open = true;
		return PARSE_EVENT;
	}
	g->held = -1;
	return PARSE_EVENT_IGNORED;
}

int parse_pg_flush(void *st, struct bw_event *ev)
{
	struct pg *g = st;

	if (g->held < 0)
		return 0;
	slot_out(&g->slots[g->held], ev);
	g->held = -1;
	return 1;
}
