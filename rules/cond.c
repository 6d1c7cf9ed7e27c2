/*
 * cond.c - field values and conditions.
 *
 * An absent field (an empty string, an unknown number, no address) has no
 * value: every operator but `exists` is false on it, so `not` makes it
 * true. A multi-valued field (customer, data_kind) satisfies an operator
 * when any of its values does; same_as wants every value.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <string.h>

#include "engine.h"

enum { R_FALSE, R_TRUE, R_MAYBE };

void cond_derived(struct rules *r)
{
	site_enrich(r);
}

static struct bw_str cstr(const char *s)
{
	struct bw_str v = {s, (uint32_t)strlen(s)};

	return v;
}

/* Where each string field lives in struct bw_event (0: not a string). */
#define STR_AT(f, m) [f] = offsetof(struct bw_event, m)
static const uint16_t str_off[BW_F__COUNT] = {
    STR_AT(BW_F_PRINCIPAL, principal),
    STR_AT(BW_F_ACTION, action),
    STR_AT(BW_F_RESOURCE, resource),
    STR_AT(BW_F_QUERY, query),
    STR_AT(BW_F_OUTCOME, outcome),
    STR_AT(BW_F_HOST, host),
    STR_AT(BW_F_USER_AGENT, user_agent),
    STR_AT(BW_F_REFERER, referer),
    STR_AT(BW_F_DATABASE, database),
    STR_AT(BW_F_DETAIL, detail),
    STR_AT(BW_F_TEXT, text),
};

static inline struct bw_str ev_str(const struct bw_event *ev, uint16_t id)
{
	struct bw_str s;

	if (id >= BW_F__COUNT || str_off[id] == 0)
		return BW_STR_NULL;
	memcpy(&s, (const char *)ev + str_off[id], sizeof(s));
	return s;
}

/* The string values of f, without copying: a pointer to an array and its
 * length. one (with room for RULES_MAX_DATA_KINDS) backs single values. */
static const struct bw_str *str_vals(struct rules *r, const struct fref *f,
                                     struct bw_str *one, size_t *n)
{
	struct ectx *x = &r->x;
	size_t k = 0;

	*n = 0;
	switch (f->fk) {
	case FK_EVENT:
		one[0] = ev_str(x->ev, f->id);
		*n = one[0].len > 0;
		return one;
	case FK_CUSTOMER:
		cond_derived(r);
		*n = x->n_cust;
		return x->cust;
	case FK_DATA_KIND:
		cond_derived(r);
		for (size_t i = 0; i < r->site.n_dk; i++)
			if (x->dkinds & (1u << i))
				one[k++] = cstr(r->site.dk_names[i]);
		*n = k;
		return one;
	case FK_PRINCIPAL_CUSTOMER:
		site_principal_customer(r);
		one[0] = x->pc;
		*n = x->pc.len > 0;
		return one;
	case FK_CAPTURE:
		one[0] = x->caps[f->id];
		*n = one[0].len > 0;
		return one;
	default:
		return one;
	}
}

bool cond_int(struct rules *r, const struct fref *f, int64_t *out)
{
	const struct bw_event *ev = r->x.ev;

	if (f->fk != FK_EVENT)
		return false;
	if (f->vt == VT_ENUM) {
		*out = f->id == BW_F_KIND ? (int64_t)ev->kind
		                          : (int64_t)ev->source;
		return *out != 0;
	}
	return bw_event_int(ev, (enum bw_field)f->id, out);
}

/* Decimal digits of v (>= 0) at the end of buf; returns the start. */
static char *put_uint(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* Canonical text of an address (IPv4 by hand: keys are built per event),
 * or 0 when absent. tb must hold INET6_ADDRSTRLEN bytes. */
static size_t addr_text(const struct bw_addr *a, char *tb, size_t tbsz)
{
	size_t n = 0;

	if (a == NULL || a->family == 0 || tbsz < INET6_ADDRSTRLEN)
		return 0;
	if (a->family == 6)
		return inet_ntop(AF_INET6, a->bytes, tb, (socklen_t)tbsz)
		           ? strlen(tb)
		           : 0;
	for (int i = 0; i < 4; i++) {
		unsigned v = a->bytes[i];

		if (i > 0)
			tb[n++] = '.';
		if (v >= 100)
			tb[n++] = (char)('0' + v / 100);
		if (v >= 10)
			tb[n++] = (char)('0' + v / 10 % 10);
		tb[n++] = (char)('0' + v % 10);
	}
	tb[n] = '\0';
	return n;
}

/* Text of a non-string event field into tb; 0 when absent. */
static size_t other_text(struct rules *r, const struct fref *f, char *tb,
                         size_t tbsz)
{
	const char *name;
	int64_t v;
	char *p;
	size_t n;

	switch (f->vt) {
	case VT_ADDR:
		return addr_text(bw_event_addr(r->x.ev, (enum bw_field)f->id),
		                 tb, tbsz);
	case VT_INT:
		if (!cond_int(r, f, &v) || tbsz < 21)
			return 0;
		p = put_uint(tb + 20, (uint64_t)v);
		n = (size_t)(tb + 20 - p);
		memmove(tb, p, n);
		tb[n] = '\0';
		return n;
	case VT_ENUM:
		if (!cond_int(r, f, &v))
			return 0;
		name = f->id == BW_F_KIND ? bw_kind_name((enum bw_kind)v)
		                          : bw_source_name((enum bw_source)v);
		if (name == NULL || strlen(name) >= tbsz)
			return 0;
		n = strlen(name);
		memcpy(tb, name, n + 1);
		return n;
	default:
		return 0;
	}
}

size_t cond_values(struct rules *r, const struct fref *f, struct bw_str *out,
                   size_t max, char *tb, size_t tbsz)
{
	struct bw_str one[RULES_MAX_DATA_KINDS];
	const struct bw_str *v;
	size_t n;

	if (max == 0)
		return 0;
	if (f->fk == FK_EVENT && f->vt != VT_STR) {
		n = other_text(r, f, tb, tbsz);
		if (n == 0)
			return 0;
		out[0].p = tb;
		out[0].len = (uint32_t)n;
		return 1;
	}
	v = str_vals(r, f, one, &n);
	if (n > max)
		n = max;
	memcpy(out, v, n * sizeof(*out));
	return n;
}

static bool has_value(struct rules *r, const struct fref *f)
{
	const struct bw_addr *a;
	int64_t v;

	switch (f->fk) {
	case FK_EVENT:
		if (f->vt == VT_STR)
			return ev_str(r->x.ev, f->id).len > 0;
		if (f->vt == VT_ADDR) {
			a = bw_event_addr(r->x.ev, (enum bw_field)f->id);
			return a != NULL && a->family != 0;
		}
		return cond_int(r, f, &v);
	case FK_CUSTOMER:
		cond_derived(r);
		return r->x.n_cust > 0;
	case FK_DATA_KIND:
		cond_derived(r);
		return r->x.dkinds != 0;
	case FK_PRINCIPAL_CUSTOMER:
		site_principal_customer(r);
		return r->x.pc.len > 0;
	case FK_CAPTURE:
		return r->x.caps[f->id].len > 0;
	default:
		return false;
	}
}

static inline bool same_bytes(const struct cond *c, const char *t,
                              const char *p, size_t len)
{
	if (!c->nocase)
		return t[len - 1] == p[len - 1] && t[0] == p[0] &&
		       memcmp(t, p, len) == 0;
	for (size_t k = 0; k < len; k++)
		if (strset_lower((unsigned char)p[k]) != (unsigned char)t[k])
			return false;
	return true;
}

static bool text_contains(const struct cond *c, size_t i, struct bw_str s)
{
	const char *t = c->texts[i];
	size_t tl = c->tlens[i];

	if (tl > s.len)
		return false;
	if (!c->nocase)
		return memmem(s.p, s.len, t, tl) != NULL;
	for (size_t k = 0; k + tl <= s.len; k++)
		if (same_bytes(c, t, s.p + k, tl))
			return true;
	return false;
}

/* Whether one value satisfies equals / in (text), prefix or contains for
 * any operand. */
static bool text_match(const struct cond *c, struct bw_str s)
{
	size_t i;

	if (c->set != NULL)
		return strset_has(c->set, s.p, s.len);
	switch (c->op) {
	case OP_PREFIX:
		for (i = 0; i < c->n_texts; i++)
			if (s.len >= c->tlens[i] &&
			    same_bytes(c, c->texts[i], s.p, c->tlens[i]))
				return true;
		return false;
	case OP_CONTAINS:
		for (i = 0; i < c->n_texts; i++)
			if (text_contains(c, i, s))
				return true;
		return false;
	default:
		for (i = 0; i < c->n_texts; i++)
			if (s.len == c->tlens[i] &&
			    same_bytes(c, c->texts[i], s.p, s.len))
				return true;
		return false;
	}
}

/* Whether any value of the condition's field satisfies it. */
static bool any_text(struct rules *r, const struct cond *c)
{
	struct bw_str one[RULES_MAX_DATA_KINDS];
	const struct bw_str *v;
	struct bw_str s;
	size_t n;

	if (c->f.fk == FK_EVENT) {
		s = ev_str(r->x.ev, c->f.id);
		return s.len > 0 && text_match(c, s);
	}
	v = str_vals(r, &c->f, one, &n);
	for (size_t k = 0; k < n; k++)
		if (text_match(c, v[k]))
			return true;
	return false;
}

static bool eval_equals(struct rules *r, const struct cond *c)
{
	const struct bw_addr *a;
	int64_t v;

	switch (c->f.vt) {
	case VT_INT:
	case VT_ENUM:
		if (c->f.fk != FK_EVENT || !cond_int(r, &c->f, &v))
			return false;
		for (size_t i = 0; i < c->n_ints; i++)
			if (c->ints[i] == v)
				return true;
		return false;
	case VT_ADDR:
		a = bw_event_addr(r->x.ev, (enum bw_field)c->f.id);
		if (a == NULL || a->family == 0)
			return false;
		for (size_t i = 0; i < c->n_addrs; i++)
			if (bw_addr_equal(a, &c->addrs[i]))
				return true;
		return false;
	default:
		return any_text(r, c);
	}
}

static bool eval_text(struct rules *r, const struct cond *c)
{
	return any_text(r, c);
}

static bool eval_cidr(struct rules *r, const struct cond *c)
{
	const struct bw_addr *a =
	    bw_event_addr(r->x.ev, (enum bw_field)c->f.id);

	return a != NULL && a->family != 0 && bw_cidr_contains(c->cidr, a);
}

static bool eval_in(struct rules *r, const struct cond *c)
{
	if (c->f.vt == VT_ADDR)
		return eval_cidr(r, c);
	return eval_equals(r, c);
}

static bool eval_cmp(struct rules *r, const struct cond *c)
{
	int64_t v;

	if (!cond_int(r, &c->f, &v))
		return false;
	switch (c->op) {
	case OP_GT:
		return v > c->ints[0];
	case OP_GE:
		return v >= c->ints[0];
	case OP_LT:
		return v < c->ints[0];
	case OP_LE:
		return v <= c->ints[0];
	default:
		return false;
	}
}

static bool eval_class(struct rules *r, const struct cond *c)
{
	int64_t v;

	if (!cond_int(r, &c->f, &v) || v < 100 || v > 599)
		return false;
	return (c->class_mask >> (v / 100)) & 1;
}

static bool eval_exists(struct rules *r, const struct cond *c)
{
	return has_value(r, &c->f) == c->flag;
}

static bool eval_bh(struct rules *r, const struct cond *c)
{
	return site_business_hours(r) == c->flag;
}

static bool is_textual(const struct fref *f)
{
	return f->vt == VT_STR || f->vt == VT_MULTI;
}

/* Every value of the field equals one of the other field's values. */
static bool eval_same_as(struct rules *r, const struct cond *c)
{
	struct bw_str oa[RULES_MAX_DATA_KINDS], ob[RULES_MAX_DATA_KINDS];
	const struct bw_str *a, *b;
	char ta[64], tb[64];
	size_t na, nb;

	if (is_textual(&c->f)) {
		a = str_vals(r, &c->f, oa, &na);
	} else {
		na = cond_values(r, &c->f, oa, 1, ta, sizeof(ta));
		a = oa;
	}
	if (na == 0)
		return false;
	if (is_textual(&c->other)) {
		b = str_vals(r, &c->other, ob, &nb);
	} else {
		nb = cond_values(r, &c->other, ob, 1, tb, sizeof(tb));
		b = ob;
	}
	if (nb == 0)
		return false;
	for (size_t i = 0; i < na; i++) {
		size_t j;

		for (j = 0; j < nb; j++)
			if (a[i].len == b[j].len &&
			    memcmp(a[i].p, b[j].p, a[i].len) == 0)
				break;
		if (j == nb)
			return false;
	}
	return true;
}

static struct bw_str regex_subject(struct rules *r, const struct cond *c)
{
	return ev_str(r->x.ev, c->f.id);
}

/* What Hyperscan can say about a regex condition, before negation. */
static int regex_pre(struct rules *r, const struct cond *c)
{
	struct ectx *x = &r->x;
	struct bw_str s = regex_subject(r, c);
	struct pfdb *db;

	if (s.len == 0)
		return R_FALSE;
	if (!r->prefilter_on || c->re->hs == HSM_NONE)
		return R_MAYBE;
	db = r->pf[x->ev->kind][c->f.id];
	if (db == NULL || db->db == NULL)
		return R_MAYBE;
	pfdb_scan(db, r->scratch, s.p, s.len, x->gen);
	if (db->failed)
		return R_MAYBE;
	if (c->re->hit_gen != x->gen)
		return R_FALSE;
	if (c->re->hs == HSM_EXACT && !c->re->captures_used)
		return R_TRUE;
	return R_MAYBE;
}

/* PCRE2 decides; captures of a positive regex become fields. */
static bool regex_full(struct rules *r, const struct cond *c)
{
	struct bw_str s = regex_subject(r, c), g;
	const struct regex *re = c->re;

	if (s.len == 0 || regex_run(r, c->re, s.p, s.len) != 1)
		return false;
	if (!c->negate)
		for (size_t i = 0; i < re->n_names; i++)
			if (re->names[i].slot != RULES_NO_SLOT &&
			    regex_group(re, s.p, re->names[i].group, &g))
				r->x.caps[re->names[i].slot] = g;
	return true;
}

static bool eval_regex(struct rules *r, const struct cond *c)
{
	int pre = regex_pre(r, c);

	if (pre == R_MAYBE)
		return regex_full(r, c);
	return pre == R_TRUE;
}

typedef bool (*eval_fn)(struct rules *r, const struct cond *c);

static const eval_fn evals[] = {
    [OP_REGEX] = eval_regex,     [OP_EQUALS] = eval_equals,
    [OP_PREFIX] = eval_text,     [OP_CONTAINS] = eval_text,
    [OP_IN] = eval_in,           [OP_CIDR] = eval_cidr,
    [OP_GT] = eval_cmp,          [OP_GE] = eval_cmp,
    [OP_LT] = eval_cmp,          [OP_LE] = eval_cmp,
    [OP_CLASS] = eval_class,     [OP_EXISTS] = eval_exists,
    [OP_SAME_AS] = eval_same_as, [OP_BH] = eval_bh,
};

/* A condition other than a regex, through its per-event cache. */
static bool eval_plain(struct rules *r, const struct cond *c)
{
	struct memo *m;

	if (c->memo == 0)
		return evals[c->op](r, c);
	m = &r->memo[c->memo - 1];
	if (m->gen != r->x.gen) {
		m->val = evals[c->op](r, c);
		m->gen = r->x.gen;
	}
	return m->val;
}

bool cond_pre(struct rules *r, const struct condlist *cl, uint64_t *maybe)
{
	*maybe = 0;
	for (size_t i = 0; i < cl->n; i++) {
		const struct cond *c = &cl->v[i];
		bool truth;

		if (c->stage == ST_CAPTURE)
			break;
		if (c->op == OP_REGEX) {
			int pre = regex_pre(r, c);

			if (pre == R_MAYBE) {
				*maybe |= (uint64_t)1 << i;
				continue;
			}
			truth = pre == R_TRUE;
		} else {
			truth = eval_plain(r, c);
		}
		if (truth == c->negate)
			return false;
	}
	return true;
}

bool cond_post(struct rules *r, const struct condlist *cl, uint64_t maybe)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct cond *c = &cl->v[i];
		bool truth;

		if (c->stage == ST_CAPTURE)
			truth = evals[c->op](r, c);
		else if (maybe & ((uint64_t)1 << i))
			truth = regex_full(r, c);
		else
			continue;
		if (truth == c->negate)
			return false;
	}
	return true;
}

bool cond_any(struct rules *r, const struct condlist *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		const struct cond *c = &cl->v[i];

		if (eval_plain(r, c) != c->negate)
			return true;
	}
	return false;
}
