/*
 * sqlscan.c - customer tables and ids in SQL text (see sqlscan.h).
 *
 * Not a parser: the tokens of common/sqllex.c, four of them looked ahead,
 * and a handful of patterns. It errs towards "unknown": whatever it does not
 * understand about a touched customer table widens the scope instead of
 * narrowing it.
 */
#include "sqlscan.h"

#include <string.h>
#include <strings.h>

#include "../common/sqllex.h"

#define MAX_REFS 32
#define MAX_OCCS 64

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
	struct bw_sqllex lx;
	const struct sqlscan_table *tabs;
	size_t n_tabs, max_value;
	struct sqlscan_out *out;
	struct tref refs[MAX_REFS];
	size_t n_refs;
	struct occ occs[MAX_OCCS];
	size_t n_occs;
	bool saw_or, overflow;
};

/* Words that are no table, column or alias name. */
static const char reserved[] =
    "all alter analyze and any array as asc begin between by case cast commit "
    "conflict copy create cross default delete desc distinct do drop else end "
    "escape except exists explain false fetch filter for from full grant group "
    "having ilike in inner insert intersect interval into is join lateral left "
    "like limit lock natural not nothing null offset on only or order outer "
    "over partition returning revoke right rollback select set similar some "
    "table then to true truncate union update using values when where window "
    "with";

static bool eq_nocase(const char *p, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(p, word, len) == 0;
}

/* A quoted identifier whose value is known: not U&"...". */
static bool is_qident(const struct bw_sqltok *t)
{
	return t->kind == BW_SQL_QIDENT && t->esc != BW_SQLESC_UNICODE;
}

/* A part of a dotted name. */
static bool is_part(const struct bw_sqltok *t)
{
	return t->kind == BW_SQL_NAME || is_qident(t);
}

static bool is_name(const struct bw_sqltok *t)
{
	return is_qident(t) ||
	       (t->kind == BW_SQL_NAME && !bw_sqllex_is_kw_in(t, reserved));
}

/* A string or number whose value is known: not U&'...'. */
static bool is_literal(const struct bw_sqltok *t)
{
	return (t->kind == BW_SQL_STRING && t->esc != BW_SQLESC_UNICODE) ||
	       t->kind == BW_SQL_NUMBER;
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
static void dotted_name(struct bw_sqllex *lx, const struct bw_sqltok **last,
                        const struct bw_sqltok **qual, struct bw_sqltok *buf)
{
	/* buf[0..1] hold copies, since advancing recycles look-ahead. */
	buf[0] = *bw_sqllex_peek(lx, 0);
	*qual = NULL;
	*last = &buf[0];
	bw_sqllex_advance(lx);
	while (bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), '.') &&
	       is_part(bw_sqllex_peek(lx, 1))) {
		buf[1] = buf[0];
		buf[0] = *bw_sqllex_peek(lx, 1);
		*qual = &buf[1];
		bw_sqllex_advance(lx);
		bw_sqllex_advance(lx);
	}
}

/* Skip a ::type cast after a value. */
static void skip_cast(struct bw_sqllex *lx)
{
	while (bw_sqllex_is_op(bw_sqllex_peek(lx, 0), "::") &&
	       bw_sqllex_peek(lx, 1)->kind == BW_SQL_NAME) {
		bw_sqllex_advance(lx);
		bw_sqllex_advance(lx);
	}
}

static bool add_value(struct scan *sc, const struct bw_sqltok *t)
{
	struct sqlscan_out *o = sc->out;
	const char *p = t->p;
	size_t len = t->len;
	char *dst;

	if (len == 0 || len > sc->max_value || o->n_vals >= o->max_vals) {
		sc->overflow = true;
		return false;
	}
	if (t->kind == BW_SQL_STRING && t->esc != BW_SQLESC_NONE) {
		if (o->arena_cap - o->arena_len < len) {
			sc->overflow = true;
			return false;
		}
		dst = o->arena + o->arena_len;
		if (bw_sqllex_unescape(t, dst, len, &len) != 0) {
			sc->overflow = true;
			return false;
		}
		o->arena_len += len;
		p = dst;
		if (len == 0)
			return false;
	}
	o->vals[o->n_vals].p = p;
	o->vals[o->n_vals].len = (uint32_t)len;
	o->n_vals++;
	return true;
}

static struct occ *new_occ(struct scan *sc, uint64_t cols,
                           const struct bw_sqltok *qual, int ref)
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
	struct bw_sqllex *lx = &sc->lx;
	struct bw_sqltok v;

	if (!bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), '(')) {
		o->unknown = true;
		return;
	}
	bw_sqllex_advance(lx);
	for (;;) {
		v = *bw_sqllex_peek(lx, 0);
		if (!is_literal(&v)) {
			/* A subquery or expression: the main loop reads on
			 * (it may name more tables). */
			o->unknown = true;
			return;
		}
		bw_sqllex_advance(lx);
		skip_cast(lx);
		if (!add_value(sc, &v))
			o->unknown = true;
		if (bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), ',')) {
			bw_sqllex_advance(lx);
			continue;
		}
		if (bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), ')')) {
			bw_sqllex_advance(lx);
			break;
		}
		o->unknown = true;
		return;
	}
	o->v1 = sc->out->n_vals;
}

static bool is_comparison(const struct bw_sqltok *t)
{
	static const char *const ops[] = {
	    "<>", "!=", "<", ">", "<=", ">=", "~", "~*", "!~"};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (bw_sqllex_is_op(t, ops[i]))
			return true;
	return bw_sqllex_is_kw_in(t, "between ilike is like not similar");
}

/* A column name (possibly qualified) at the current token. */
static void column_ref(struct scan *sc)
{
	struct bw_sqllex *lx = &sc->lx;
	const struct bw_sqltok *last, *qual, *t;
	struct bw_sqltok buf[2], v;
	struct occ *o;
	uint64_t cols;

	dotted_name(lx, &last, &qual, buf);
	cols = column_mask(sc, last->p, last->len);
	if (cols == 0)
		return;
	t = bw_sqllex_peek(lx, 0);
	if (bw_sqllex_is_op(t, "=") || bw_sqllex_is_op(t, "==")) {
		bw_sqllex_advance(lx);
		o = new_occ(sc, cols, qual, -1);
		if (o == NULL)
			return;
		v = *bw_sqllex_peek(lx, 0);
		if (!is_literal(&v)) {
			o->unknown = true;
			return;
		}
		bw_sqllex_advance(lx);
		skip_cast(lx);
		t = bw_sqllex_peek(lx, 0);
		if (t->kind == BW_SQL_OP || !add_value(sc, &v))
			o->unknown = true;
		o->v1 = sc->out->n_vals;
	} else if (bw_sqllex_is_kw(t, "in")) {
		bw_sqllex_advance(lx);
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
	struct bw_sqllex *lx = &sc->lx;
	const struct bw_sqltok *last, *qual;
	struct bw_sqltok buf[2], v = *bw_sqllex_peek(lx, 0);
	struct occ *o;
	uint64_t cols;

	bw_sqllex_advance(lx); /* the literal */
	if (!bw_sqllex_is_op(bw_sqllex_peek(lx, 0), "=") ||
	    !is_name(bw_sqllex_peek(lx, 1)))
		return;
	bw_sqllex_advance(lx); /* = */
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
	struct bw_sqllex *lx = &sc->lx;
	const struct bw_sqltok *last, *qual, *t;
	struct bw_sqltok buf[2];
	struct tref *ref;
	int decl;

	if (!is_name(bw_sqllex_peek(lx, 0)))
		return -1;
	dotted_name(lx, &last, &qual, buf);
	if (!into && bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), '('))
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
	t = bw_sqllex_peek(lx, 0);
	if (bw_sqllex_is_kw(t, "as") && is_name(bw_sqllex_peek(lx, 1))) {
		bw_sqllex_advance(lx);
		t = bw_sqllex_peek(lx, 0);
	}
	if (is_name(t) && !into) {
		ref->alias = t->p;
		ref->alen = t->len;
		bw_sqllex_advance(lx);
	}
	return (int)sc->n_refs++;
}

static void table_list(struct scan *sc)
{
	struct bw_sqllex *lx = &sc->lx;

	for (;;) {
		while (bw_sqllex_is_kw_in(bw_sqllex_peek(lx, 0),
		                          "lateral only table"))
			bw_sqllex_advance(lx);
		if (!is_name(bw_sqllex_peek(lx, 0)))
			return;
		(void)table_ref(sc, false);
		if (!bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), ','))
			return;
		bw_sqllex_advance(lx);
	}
}

/* INSERT INTO t (cols) VALUES (...), (...) after INTO. */
static void into_clause(struct scan *sc)
{
	struct bw_sqllex *lx = &sc->lx;
	const struct bw_sqltok *t;
	struct occ *o;
	int ref, pos = -1, i = 0, depth, elem;

	ref = table_ref(sc, true);
	if (ref < 0 || sc->tabs[sc->refs[ref].decl].column == NULL)
		return;
	o = new_occ(sc, (uint64_t)1 << sc->refs[ref].decl, NULL, ref);
	if (o == NULL)
		return;
	o->unknown = true; /* until VALUES say otherwise */
	if (!bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), '('))
		return;
	bw_sqllex_advance(lx);
	while (is_part(bw_sqllex_peek(lx, 0))) {
		t = bw_sqllex_peek(lx, 0);
		if (eq_nocase(t->p, t->len,
		              sc->tabs[sc->refs[ref].decl].column))
			pos = i;
		bw_sqllex_advance(lx);
		if (!bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), ','))
			break;
		bw_sqllex_advance(lx);
		i++;
	}
	if (!bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), ')'))
		return;
	bw_sqllex_advance(lx);
	if (pos < 0 || !bw_sqllex_is_kw(bw_sqllex_peek(lx, 0), "values"))
		return;
	bw_sqllex_advance(lx);
	o->unknown = false;
	while (bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), '(')) {
		bw_sqllex_advance(lx);
		depth = 1;
		elem = 0;
		while (depth > 0 &&
		       (t = bw_sqllex_peek(lx, 0))->kind != BW_SQL_END) {
			if (depth == 1 && elem == pos) {
				struct bw_sqltok v = *t;

				bw_sqllex_advance(lx);
				skip_cast(lx);
				t = bw_sqllex_peek(lx, 0);
				if (!is_literal(&v) ||
				    !(bw_sqllex_is_punct(t, ',') ||
				      bw_sqllex_is_punct(t, ')')) ||
				    !add_value(sc, &v))
					o->unknown = true;
				elem++; /* past the column: no second look */
				if (bw_sqllex_is_punct(&v, '('))
					depth++;
				else if (bw_sqllex_is_punct(&v, ')'))
					depth--;
				continue;
			}
			if (bw_sqllex_is_punct(t, '('))
				depth++;
			else if (bw_sqllex_is_punct(t, ')'))
				depth--;
			else if (bw_sqllex_is_punct(t, ',') && depth == 1)
				elem++;
			bw_sqllex_advance(lx);
		}
		if (elem <= pos)
			o->unknown = true;
		o->v1 = sc->out->n_vals;
		if (!bw_sqllex_is_punct(bw_sqllex_peek(lx, 0), ','))
			break;
		bw_sqllex_advance(lx);
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
	struct bw_sqllex *lx = &sc.lx;
	const struct bw_sqltok *t;

	memset(&sc, 0, sizeof(sc));
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
	bw_sqllex_init(lx, text, len, BW_SQLLEX_BACKTICKS);
	while ((t = bw_sqllex_peek(lx, 0))->kind != BW_SQL_END) {
		if (bw_sqllex_is_kw(t, "from") || bw_sqllex_is_kw(t, "join") ||
		    bw_sqllex_is_kw(t, "truncate") ||
		    bw_sqllex_is_kw(t, "table")) {
			bw_sqllex_advance(lx);
			table_list(&sc);
		} else if (bw_sqllex_is_kw(t, "update") ||
		           bw_sqllex_is_kw(t, "copy")) {
			bool copy = bw_sqllex_is_kw(t, "copy");

			bw_sqllex_advance(lx);
			while (bw_sqllex_is_kw(bw_sqllex_peek(lx, 0), "only"))
				bw_sqllex_advance(lx);
			(void)table_ref(&sc, copy);
		} else if (bw_sqllex_is_kw(t, "into")) {
			bw_sqllex_advance(lx);
			into_clause(&sc);
		} else if (bw_sqllex_is_kw(t, "or")) {
			sc.saw_or = true;
			bw_sqllex_advance(lx);
		} else if (is_name(t)) {
			column_ref(&sc);
		} else if (is_literal(t)) {
			reversed_compare(&sc);
		} else {
			bw_sqllex_advance(lx);
		}
	}
	attribute(&sc);
}
