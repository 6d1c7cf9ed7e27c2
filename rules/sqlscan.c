/*
 * sqlscan.c - customer tables and ids in SQL text (see sqlscan.h).
 *
 * Not a parser: a tokenizer with four tokens of look-ahead and a handful of
 * patterns. It errs towards "unknown": whatever it does not understand
 * about a touched customer table widens the scope instead of narrowing it.
 */
#include "sqlscan.h"

#include <string.h>
#include <strings.h>

#define MAX_REFS  32
#define MAX_OCCS  64
#define LOOKAHEAD 4

enum tk {
	TK_END,
	TK_IDENT,
	TK_QIDENT,
	TK_STRING,
	TK_NUMBER,
	TK_PARAM,
	TK_OP,
	TK_PUNCT,
};

struct tok {
	unsigned char t;
	bool esc;  /* the content has escapes to undo */
	bool estr; /* E'...': backslash escapes */
	const char *p;
	size_t len;
};

struct lexer {
	const char *s, *end;
	struct tok la[LOOKAHEAD];
	size_t nla;
};

/* A reference to a declared table. */
struct tref {
	int decl;
	const char *name, *alias; /* views (content of quoted names) */
	size_t nlen, alen;
};

/* A comparison of a declared customer column. */
struct occ {
	uint64_t cols;    /* declared tables whose column this names */
	const char *qual; /* qualifier, NULL if none */
	size_t qlen;
	int ref;       /* bound to this ref (INSERT), or -1 */
	size_t v0, v1; /* values in out->vals */
	bool unknown;
};

struct scan {
	struct lexer lx;
	const struct sqlscan_table *tabs;
	size_t n_tabs, max_value;
	struct sqlscan_out *out;
	struct tref refs[MAX_REFS];
	size_t n_refs;
	struct occ occs[MAX_OCCS];
	size_t n_occs;
	bool saw_or, overflow;
};

static const char *const reserved[] = {
    "all",     "alter",     "analyze",  "and",      "any",       "array",
    "as",      "asc",       "begin",    "between",  "by",        "case",
    "cast",    "commit",    "conflict", "copy",     "create",    "cross",
    "default", "delete",    "desc",     "distinct", "do",        "drop",
    "else",    "end",       "escape",   "except",   "exists",    "explain",
    "false",   "fetch",     "filter",   "for",      "from",      "full",
    "grant",   "group",     "having",   "ilike",    "in",        "inner",
    "insert",  "intersect", "interval", "into",     "is",        "join",
    "lateral", "left",      "like",     "limit",    "lock",      "natural",
    "not",     "nothing",   "null",     "offset",   "on",        "only",
    "or",      "order",     "outer",    "over",     "partition", "returning",
    "revoke",  "right",     "rollback", "select",   "set",       "similar",
    "some",    "table",     "then",     "to",       "true",      "truncate",
    "union",   "update",    "using",    "values",   "when",      "where",
    "window",  "with",
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c >= 0x80;
}

static bool is_ident(unsigned char c)
{
	return is_ident_start(c) || is_digit(c) || c == '$';
}

static bool is_opchar(unsigned char c)
{
	return strchr("<>=!~+-*/%^|&@#:?", c) != NULL && c != '\0';
}

static void skip_blank(struct lexer *lx)
{
	const char *s = lx->s, *end = lx->end;
	int depth;

	while (s < end) {
		if (is_space((unsigned char)*s)) {
			s++;
		} else if (*s == '-' && end - s >= 2 && s[1] == '-') {
			while (s < end && *s != '\n')
				s++;
		} else if (*s == '/' && end - s >= 2 && s[1] == '*') {
			/* PostgreSQL nests block comments. */
			depth = 1;
			s += 2;
			while (s < end && depth > 0) {
				if (*s == '*' && end - s >= 2 && s[1] == '/') {
					depth--;
					s += 2;
				} else if (*s == '/' && end - s >= 2 &&
				           s[1] == '*') {
					depth++;
					s += 2;
				} else {
					s++;
				}
			}
		} else {
			break;
		}
	}
	lx->s = s;
}

/* A '...' string starting at s (the quote). */
static void lex_string(struct lexer *lx, const char *s, bool estr,
                       struct tok *t)
{
	const char *end = lx->end;

	t->t = TK_STRING;
	t->estr = estr;
	t->esc = false;
	t->p = ++s;
	while (s < end) {
		if (*s == '\'') {
			if (end - s >= 2 && s[1] == '\'') {
				t->esc = true;
				s += 2;
				continue;
			}
			break;
		}
		if (estr && *s == '\\' && end - s >= 2) {
			t->esc = true;
			s += 2;
			continue;
		}
		s++;
	}
	if (s > end)
		s = end;
	t->len = (size_t)(s - t->p);
	lx->s = s < end ? s + 1 : end;
}

/* "..." or `...` identifiers, the quote doubled inside. */
static void lex_quoted(struct lexer *lx, const char *s, struct tok *t)
{
	const char *end = lx->end;
	char q = *s;

	t->t = TK_QIDENT;
	t->p = ++s;
	while (s < end) {
		if (*s == q) {
			if (end - s >= 2 && s[1] == q) {
				t->esc = true;
				s += 2;
				continue;
			}
			break;
		}
		s++;
	}
	t->len = (size_t)(s - t->p);
	lx->s = s < end ? s + 1 : end;
}

/* $tag$...$tag$ at s; false if s does not start a dollar quote. */
static bool lex_dollar(struct lexer *lx, const char *s, struct tok *t)
{
	const char *end = lx->end, *tag = s, *q;
	size_t tlen;

	q = s + 1;
	while (q < end && (is_ident_start((unsigned char)*q) ||
	                   is_digit((unsigned char)*q)))
		q++;
	if (q >= end || *q != '$')
		return false;
	tlen = (size_t)(q - tag) + 1; /* "$tag$" */
	t->t = TK_STRING;
	t->p = q + 1;
	for (q = t->p; q + tlen <= end; q++) {
		if (*q == '$' && memcmp(q, tag, tlen) == 0) {
			t->len = (size_t)(q - t->p);
			lx->s = q + tlen;
			return true;
		}
	}
	t->len = (size_t)(end - t->p);
	lx->s = end;
	return true;
}

static void lex_one(struct lexer *lx, struct tok *t)
{
	const char *s, *end = lx->end;
	unsigned char c;

	memset(t, 0, sizeof(*t));
	skip_blank(lx);
	s = lx->s;
	if (s >= end) {
		t->t = TK_END;
		return;
	}
	c = (unsigned char)*s;
	t->p = s;
	if (c == '\'') {
		lex_string(lx, s, false, t);
	} else if (strchr("EeNnBbXx", c) != NULL && end - s >= 2 &&
	           s[1] == '\'') {
		lex_string(lx, s + 1, c == 'E' || c == 'e', t);
	} else if (c == '"' || c == '`') {
		lex_quoted(lx, s, t);
	} else if (c == '$' && end - s >= 2 && is_digit((unsigned char)s[1])) {
		t->t = TK_PARAM;
		s++;
		while (s < end && is_digit((unsigned char)*s))
			s++;
		t->len = (size_t)(s - t->p);
		lx->s = s;
	} else if (c == '$' && lex_dollar(lx, s, t)) {
		/* done */
	} else if (is_digit(c) || (c == '.' && end - s >= 2 &&
	                           is_digit((unsigned char)s[1]))) {
		t->t = TK_NUMBER;
		while (s < end && (is_digit((unsigned char)*s) || *s == '.'))
			s++;
		if (s < end && (*s == 'e' || *s == 'E')) {
			const char *e = s + 1;

			if (e < end && (*e == '+' || *e == '-'))
				e++;
			if (e < end && is_digit((unsigned char)*e)) {
				s = e;
				while (s < end && is_digit((unsigned char)*s))
					s++;
			}
		}
		t->len = (size_t)(s - t->p);
		lx->s = s;
	} else if (is_ident_start(c)) {
		t->t = TK_IDENT;
		while (s < end && is_ident((unsigned char)*s))
			s++;
		t->len = (size_t)(s - t->p);
		lx->s = s;
	} else if (c == '?') {
		t->t = TK_PARAM;
		t->len = 1;
		lx->s = s + 1;
	} else if (is_opchar(c)) {
		/* One operator: known two-byte ones, else one byte. */
		static const char *const two[] = {
		    "<>", "!=", "<=", ">=", "==", "::", "||", "!~", "~*"};
		t->t = TK_OP;
		t->len = 1;
		for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
			if (end - s >= 2 && s[0] == two[i][0] &&
			    s[1] == two[i][1])
				t->len = 2;
		lx->s = s + t->len;
	} else {
		t->t = TK_PUNCT;
		t->len = 1;
		lx->s = s + 1;
	}
}

static const struct tok *peek(struct lexer *lx, size_t k)
{
	while (lx->nla <= k)
		lex_one(lx, &lx->la[lx->nla++]);
	return &lx->la[k];
}

static void advance(struct lexer *lx)
{
	(void)peek(lx, 0);
	if (lx->la[0].t == TK_END)
		return;
	memmove(&lx->la[0], &lx->la[1], (lx->nla - 1) * sizeof(lx->la[0]));
	lx->nla--;
}

static bool eq_nocase(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

static bool is_kw(const struct tok *t, const char *word)
{
	return t->t == TK_IDENT && eq_nocase(t->p, t->len, word);
}

static bool is_punct(const struct tok *t, char c)
{
	return t->t == TK_PUNCT && t->len == 1 && t->p[0] == c;
}

static bool is_op(const struct tok *t, const char *op)
{
	return t->t == TK_OP && t->len == strlen(op) &&
	       memcmp(t->p, op, t->len) == 0;
}

static bool is_reserved(const struct tok *t)
{
	size_t lo = 0, hi = sizeof(reserved) / sizeof(reserved[0]);
	char low[16];
	int c;

	if (t->t != TK_IDENT || t->len >= sizeof(low))
		return false;
	for (size_t i = 0; i < t->len; i++) {
		unsigned char ch = (unsigned char)t->p[i];

		low[i] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
	}
	low[t->len] = '\0';
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		c = strcmp(low, reserved[mid]);
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

static bool is_name(const struct tok *t)
{
	return t->t == TK_QIDENT || (t->t == TK_IDENT && !is_reserved(t));
}

static bool is_literal(const struct tok *t)
{
	return t->t == TK_STRING || t->t == TK_NUMBER;
}

static int table_index(const struct scan *sc, const char *p, size_t len)
{
	for (size_t i = 0; i < sc->n_tabs; i++)
		if (eq_nocase(p, len, sc->tabs[i].name))
			return (int)i;
	return -1;
}

static uint64_t column_mask(const struct scan *sc, const char *p, size_t len)
{
	uint64_t m = 0;

	for (size_t i = 0; i < sc->n_tabs; i++)
		if (sc->tabs[i].column != NULL &&
		    eq_nocase(p, len, sc->tabs[i].column))
			m |= (uint64_t)1 << i;
	return m;
}

/* A dotted name at the current token: sets its last part and the part
 * before it (qualifier, or NULL). */
static void dotted_name(struct lexer *lx, const struct tok **last,
                        const struct tok **qual, struct tok *buf)
{
	/* buf[0..1] hold copies, since advancing recycles look-ahead. */
	buf[0] = *peek(lx, 0);
	*qual = NULL;
	*last = &buf[0];
	advance(lx);
	while (is_punct(peek(lx, 0), '.') &&
	       (peek(lx, 1)->t == TK_IDENT || peek(lx, 1)->t == TK_QIDENT)) {
		buf[1] = buf[0];
		buf[0] = *peek(lx, 1);
		*qual = &buf[1];
		advance(lx);
		advance(lx);
	}
}

/* Skip a ::type cast after a value. */
static void skip_cast(struct lexer *lx)
{
	while (is_op(peek(lx, 0), "::") && peek(lx, 1)->t == TK_IDENT) {
		advance(lx);
		advance(lx);
	}
}

static bool add_value(struct scan *sc, const struct tok *t)
{
	struct sqlscan_out *o = sc->out;
	const char *p = t->p;
	size_t len = t->len, n = 0;
	char *dst;

	if (len == 0 || len > sc->max_value || o->n_vals >= o->max_vals) {
		sc->overflow = true;
		return false;
	}
	if (t->t == TK_STRING && t->esc) {
		if (o->arena_cap - o->arena_len < len) {
			sc->overflow = true;
			return false;
		}
		dst = o->arena + o->arena_len;
		for (size_t i = 0; i < len; i++) {
			if (p[i] == '\'' && i + 1 < len && p[i + 1] == '\'')
				i++;
			else if (t->estr && p[i] == '\\' && i + 1 < len)
				i++;
			dst[n++] = p[i];
		}
		o->arena_len += n;
		p = dst;
		len = n;
		if (len == 0)
			return false;
	}
	o->vals[o->n_vals].p = p;
	o->vals[o->n_vals].len = (uint32_t)len;
	o->n_vals++;
	return true;
}

static struct occ *new_occ(struct scan *sc, uint64_t cols,
                           const struct tok *qual, int ref)
{
	struct occ *o;

	if (sc->n_occs == MAX_OCCS) {
		sc->overflow = true;
		return NULL;
	}
	o = &sc->occs[sc->n_occs++];
	memset(o, 0, sizeof(*o));
	o->cols = cols;
	o->ref = ref;
	if (qual != NULL) {
		o->qual = qual->p;
		o->qlen = qual->len;
	}
	o->v0 = o->v1 = sc->out->n_vals;
	return o;
}

/* `col IN (v, v, ...)` after IN. */
static void in_list(struct scan *sc, struct occ *o)
{
	struct lexer *lx = &sc->lx;
	struct tok v;

	if (!is_punct(peek(lx, 0), '(')) {
		o->unknown = true;
		return;
	}
	advance(lx);
	for (;;) {
		v = *peek(lx, 0);
		if (!is_literal(&v)) {
			/* A subquery or expression: the main loop reads on
			 * (it may name more tables). */
			o->unknown = true;
			return;
		}
		advance(lx);
		skip_cast(lx);
		if (!add_value(sc, &v))
			o->unknown = true;
		if (is_punct(peek(lx, 0), ',')) {
			advance(lx);
			continue;
		}
		if (is_punct(peek(lx, 0), ')')) {
			advance(lx);
			break;
		}
		o->unknown = true;
		return;
	}
	o->v1 = sc->out->n_vals;
}

static bool is_comparison(const struct tok *t)
{
	static const char *const ops[] = {
	    "<>", "!=", "<", ">", "<=", ">=", "~", "~*", "!~"};
	static const char *const words[] = {"not",     "like", "ilike",
	                                    "between", "is",   "similar"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (is_op(t, ops[i]))
			return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (is_kw(t, words[i]))
			return true;
	return false;
}

/* A column name (possibly qualified) at the current token. */
static void column_ref(struct scan *sc)
{
	struct lexer *lx = &sc->lx;
	const struct tok *last, *qual, *t;
	struct tok buf[2], v;
	struct occ *o;
	uint64_t cols;

	dotted_name(lx, &last, &qual, buf);
	cols = column_mask(sc, last->p, last->len);
	if (cols == 0)
		return;
	t = peek(lx, 0);
	if (is_op(t, "=") || is_op(t, "==")) {
		advance(lx);
		o = new_occ(sc, cols, qual, -1);
		if (o == NULL)
			return;
		v = *peek(lx, 0);
		if (!is_literal(&v)) {
			o->unknown = true;
			return;
		}
		advance(lx);
		skip_cast(lx);
		t = peek(lx, 0);
		if (t->t == TK_OP || !add_value(sc, &v))
			o->unknown = true;
		o->v1 = sc->out->n_vals;
	} else if (is_kw(t, "in")) {
		advance(lx);
		o = new_occ(sc, cols, qual, -1);
		if (o != NULL)
			in_list(sc, o);
	} else if (is_comparison(t)) {
		o = new_occ(sc, cols, qual, -1);
		if (o != NULL)
			o->unknown = true;
	}
}

/* `'v' = col`: the literal is the current token. */
static void reversed_compare(struct scan *sc)
{
	struct lexer *lx = &sc->lx;
	const struct tok *last, *qual;
	struct tok buf[2], v = *peek(lx, 0);
	struct occ *o;
	uint64_t cols;

	advance(lx); /* the literal */
	if (!is_op(peek(lx, 0), "=") || !is_name(peek(lx, 1)))
		return;
	advance(lx); /* = */
	dotted_name(lx, &last, &qual, buf);
	cols = column_mask(sc, last->p, last->len);
	if (cols == 0)
		return;
	o = new_occ(sc, cols, qual, -1);
	if (o == NULL)
		return;
	if (!add_value(sc, &v))
		o->unknown = true;
	o->v1 = sc->out->n_vals;
}

/* A table name at the current token, with an optional alias. Returns the
 * ref index, or -1 (not a declared table, or not a table at all). */
static int table_ref(struct scan *sc, bool into)
{
	struct lexer *lx = &sc->lx;
	const struct tok *last, *qual, *t;
	struct tok buf[2];
	struct tref *ref;
	int decl;

	if (!is_name(peek(lx, 0)))
		return -1;
	dotted_name(lx, &last, &qual, buf);
	if (!into && is_punct(peek(lx, 0), '('))
		return -1; /* a function call: FROM generate_series(...) */
	decl = table_index(sc, last->p, last->len);
	if (decl < 0)
		return -1;
	if (sc->n_refs == MAX_REFS) {
		sc->overflow = true;
		return -1;
	}
	ref = &sc->refs[sc->n_refs];
	memset(ref, 0, sizeof(*ref));
	ref->decl = decl;
	ref->name = last->p;
	ref->nlen = last->len;
	sc->out->found |= (uint64_t)1 << decl;
	t = peek(lx, 0);
	if (is_kw(t, "as") && is_name(peek(lx, 1))) {
		advance(lx);
		t = peek(lx, 0);
	}
	if (is_name(t) && !into) {
		ref->alias = t->p;
		ref->alen = t->len;
		advance(lx);
	}
	return (int)sc->n_refs++;
}

static void table_list(struct scan *sc)
{
	struct lexer *lx = &sc->lx;

	for (;;) {
		while (is_kw(peek(lx, 0), "only") ||
		       is_kw(peek(lx, 0), "lateral") ||
		       is_kw(peek(lx, 0), "table"))
			advance(lx);
		if (!is_name(peek(lx, 0)))
			return;
		(void)table_ref(sc, false);
		if (!is_punct(peek(lx, 0), ','))
			return;
		advance(lx);
	}
}

/* INSERT INTO t (cols) VALUES (...), (...) after INTO. */
static void into_clause(struct scan *sc)
{
	struct lexer *lx = &sc->lx;
	const struct tok *t;
	struct occ *o;
	int ref, pos = -1, i = 0, depth, elem;

	ref = table_ref(sc, true);
	if (ref < 0 || sc->tabs[sc->refs[ref].decl].column == NULL)
		return;
	o = new_occ(sc, (uint64_t)1 << sc->refs[ref].decl, NULL, ref);
	if (o == NULL)
		return;
	o->unknown = true; /* until VALUES say otherwise */
	if (!is_punct(peek(lx, 0), '('))
		return;
	advance(lx);
	while ((t = peek(lx, 0))->t == TK_IDENT || t->t == TK_QIDENT) {
		if (eq_nocase(t->p, t->len,
		              sc->tabs[sc->refs[ref].decl].column))
			pos = i;
		advance(lx);
		if (!is_punct(peek(lx, 0), ','))
			break;
		advance(lx);
		i++;
	}
	if (!is_punct(peek(lx, 0), ')'))
		return;
	advance(lx);
	if (pos < 0 || !is_kw(peek(lx, 0), "values"))
		return;
	advance(lx);
	o->unknown = false;
	while (is_punct(peek(lx, 0), '(')) {
		advance(lx);
		depth = 1;
		elem = 0;
		while (depth > 0 && (t = peek(lx, 0))->t != TK_END) {
			if (depth == 1 && elem == pos) {
				struct tok v = *t;

				advance(lx);
				skip_cast(lx);
				t = peek(lx, 0);
				if (!is_literal(&v) ||
				    !(is_punct(t, ',') || is_punct(t, ')')) ||
				    !add_value(sc, &v))
					o->unknown = true;
				elem++; /* past the column: no second look */
				if (is_punct(&v, '('))
					depth++;
				else if (is_punct(&v, ')'))
					depth--;
				continue;
			}
			if (is_punct(t, '('))
				depth++;
			else if (is_punct(t, ')'))
				depth--;
			else if (is_punct(t, ',') && depth == 1)
				elem++;
			advance(lx);
		}
		if (elem <= pos)
			o->unknown = true;
		o->v1 = sc->out->n_vals;
		if (!is_punct(peek(lx, 0), ','))
			break;
		advance(lx);
	}
	o->v1 = sc->out->n_vals;
}

static bool qual_matches(const struct tref *ref, const struct occ *o)
{
	if (o->ref >= 0)
		return false;
	if (o->qual == NULL)
		return true;
	if (ref->alias != NULL && o->qlen == ref->alen &&
	    strncasecmp(o->qual, ref->alias, o->qlen) == 0)
		return true;
	return o->qlen == ref->nlen &&
	       strncasecmp(o->qual, ref->name, o->qlen) == 0;
}

/* Decide which values belong to touched tables; keep only those. */
static void attribute(struct scan *sc)
{
	struct sqlscan_out *out = sc->out;
	bool keep[MAX_OCCS] = {false};
	size_t w = 0;

	for (size_t r = 0; r < sc->n_refs; r++) {
		const struct tref *ref = &sc->refs[r];
		uint64_t bit = (uint64_t)1 << ref->decl;
		bool known = false;

		if (sc->tabs[ref->decl].column == NULL) {
			out->unknown = true;
			continue;
		}
		for (size_t i = 0; i < sc->n_occs; i++) {
			const struct occ *o = &sc->occs[i];

			if (!(o->cols & bit))
				continue;
			if (o->ref != (int)r && !qual_matches(ref, o))
				continue;
			if (o->unknown)
				out->unknown = true;
			if (o->v1 > o->v0) {
				known = true;
				keep[i] = true;
			}
		}
		if (!known)
			out->unknown = true;
	}
	if (sc->n_refs > 0 && (sc->saw_or || sc->overflow))
		out->unknown = true;
	for (size_t i = 0; i < sc->n_occs; i++) {
		const struct occ *o = &sc->occs[i];

		if (!keep[i])
			continue;
		for (size_t v = o->v0; v < o->v1; v++)
			out->vals[w++] = out->vals[v];
	}
	out->n_vals = w;
}

void sqlscan(const char *text, size_t len, const struct sqlscan_table *tabs,
             size_t n_tabs, size_t max_value, struct sqlscan_out *out)
{
	struct scan sc;
	const struct tok *t;

	memset(&sc, 0, sizeof(sc));
	sc.lx.s = text;
	sc.lx.end = text + len;
	sc.tabs = tabs;
	sc.n_tabs = n_tabs < SQLSCAN_MAX_TABLES ? n_tabs : SQLSCAN_MAX_TABLES;
	sc.max_value = max_value;
	sc.out = out;
	out->found = 0;
	out->unknown = false;
	out->n_vals = 0;
	out->arena_len = 0;
	if (text == NULL || n_tabs == 0)
		return;
	while ((t = peek(&sc.lx, 0))->t != TK_END) {
		if (is_kw(t, "from") || is_kw(t, "join") ||
		    is_kw(t, "truncate") || is_kw(t, "table")) {
			advance(&sc.lx);
			table_list(&sc);
		} else if (is_kw(t, "update") || is_kw(t, "copy")) {
			bool copy = is_kw(t, "copy");

			advance(&sc.lx);
			while (is_kw(peek(&sc.lx, 0), "only"))
				advance(&sc.lx);
			(void)table_ref(&sc, copy);
		} else if (is_kw(t, "into")) {
			advance(&sc.lx);
			into_clause(&sc);
		} else if (is_kw(t, "or")) {
			sc.saw_or = true;
			advance(&sc.lx);
		} else if (is_name(t)) {
			column_ref(&sc);
		} else if (is_literal(t)) {
			reversed_compare(&sc);
		} else {
			advance(&sc.lx);
		}
	}
	attribute(&sc);
}
