/*
 * compile.c - from parsed rules to something fast to evaluate: @sets
 * resolved into hash sets and CIDR sets, conditions ordered cheapest
 * first, every regex on one (kind, field) in one Hyperscan database, rules
 * indexed by event kind, window state created.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/xmalloc.h"
#include "engine.h"

#define SET_AT 8 /* equals lists at least this long use a hash set */

static int cerr(struct bw_error *err, const struct cond *c, const char *fmt,
                ...) BW_PRINTF(3, 4);

static int cerr(struct bw_error *err, const struct cond *c, const char *fmt,
                ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bw_error_set(err, c->file, c->line, "%s", msg);
}

static const struct site_set *named_set(struct rules *r, const struct cond *c,
                                        const char *text, struct bw_error *err)
{
	const struct site_set *set = site_find_set(&r->site, text + 1);

	if (set == NULL)
		cerr(err, c, "unknown set \"%s\"%s", text,
		     r->site.loaded ? "" : " (no site facts loaded)");
	return set;
}

static int build_cidr(struct rules *r, struct cond *c, struct bw_error *err)
{
	struct bw_error e;

	c->cidr = bw_cidr_new();
	for (size_t i = 0; i < c->n_texts; i++) {
		const char *t = c->texts[i];
		const struct site_set *set;

		if (t[0] != '@') {
			if (bw_cidr_add(c->cidr, t, &e) != 0)
				return cerr(err, c, "\"%s\": %s", t, e.msg);
			continue;
		}
		set = named_set(r, c, t, err);
		if (set == NULL)
			return -1;
		if (!set->networks)
			return cerr(err, c,
			            "set \"%s\" is not a set of "
			            "addresses and networks",
			            t);
		for (size_t k = 0; k < set->n; k++)
			if (bw_cidr_add(c->cidr, set->items[k], &e) != 0)
				return cerr(err, c, "set \"%s\": \"%s\": %s", t,
				            set->items[k], e.msg);
	}
	bw_cidr_freeze(c->cidr);
	return 0;
}

static int build_strset(struct rules *r, struct cond *c, bool sets,
                        struct bw_error *err)
{
	c->set = xmalloc(sizeof(*c->set));
	strset_init(c->set, c->nocase);
	for (size_t i = 0; i < c->n_texts; i++) {
		const char *t = c->texts[i];
		const struct site_set *set;

		if (!sets || t[0] != '@') {
			strset_add(c->set, t, c->tlens[i]);
			continue;
		}
		set = named_set(r, c, t, err);
		if (set == NULL)
			return -1;
		for (size_t k = 0; k < set->n; k++) {
			if (c->nocase && strlen(set->items[k]) > 255)
				return cerr(err, c,
				            "set \"%s\": member too "
				            "long for nocase",
				            t);
			strset_add(c->set, set->items[k],
			           strlen(set->items[k]));
		}
	}
	return 0;
}

static int resolve_cond(struct rules *r, struct cond *c, struct bw_error *err)
{
	switch (c->op) {
	case OP_IN:
		if (c->f.vt == VT_ADDR)
			return build_cidr(r, c, err);
		if (c->f.vt == VT_ENUM)
			return 0;
		return build_strset(r, c, true, err);
	case OP_CIDR:
		return build_cidr(r, c, err);
	case OP_EQUALS:
		if ((c->f.vt == VT_STR || c->f.vt == VT_MULTI) &&
		    c->n_texts >= SET_AT)
			return build_strset(r, c, false, err);
		return 0;
	case OP_BH:
		if (!r->site.has_bh)
			return cerr(err, c,
			            "business_hours: the site declares "
			            "no business_hours");
		return 0;
	default:
		return 0;
	}
}

/* Stable sort by stage (lists are short). */
static void order(struct condlist *cl)
{
	for (size_t i = 1; i < cl->n; i++) {
		struct cond c = cl->v[i];
		size_t j = i;

		while (j > 0 && cl->v[j - 1].stage > c.stage) {
			cl->v[j] = cl->v[j - 1];
			j--;
		}
		cl->v[j] = c;
	}
}

static int prepare(struct rules *r, struct condlist *cl, uint32_t kinds,
                   struct bw_error *err)
{
	for (size_t i = 0; i < cl->n; i++) {
		struct cond *c = &cl->v[i];

		if (resolve_cond(r, c, err) != 0)
			return -1;
		if (c->op != OP_REGEX)
			continue;
		for (int k = 1; k < BW_KIND__COUNT; k++) {
			struct pfdb **db = &r->pf[k][c->f.id];

			if (!(kinds & (1u << k)))
				continue;
			if (*db == NULL)
				*db = xcalloc(1, sizeof(**db));
			pfdb_add(*db, c->re);
		}
	}
	order(cl);
	return 0;
}

static int prepare_rule(struct rules *r, struct rule *ru, struct bw_error *err)
{
	if (prepare(r, &ru->match, ru->kinds, err) != 0 ||
	    prepare(r, &ru->unless, ru->kinds, err) != 0)
		return -1;
	for (size_t i = 0; i < ru->n_steps; i++)
		if (prepare(r, &ru->steps[i].match, ru->steps[i].kinds, err) !=
		        0 ||
		    prepare(r, &ru->steps[i].unless, ru->steps[i].kinds, err) !=
		        0)
			return -1;
	if (ru->agg == AGG_THRESHOLD && ru->mode == THR_DISTINCT &&
	    ru->min > r->lim.max_distinct_per_key)
		return bw_error_set(err, ru->info.file, ru->info.line,
		                    "rule %s: min %llu is above the limit of "
		                    "distinct values per key (%zu)",
		                    ru->info.id, (unsigned long long)ru->min,
		                    r->lim.max_distinct_per_key);
	if (ru->agg != AGG_SINGLE)
		ru->win = window_new(r->lim.max_prior, ru->window_us);
	return 0;
}

/* Append len, then the bytes, so that no two different conditions look
 * alike. Sets *ok to false past the ceiling (the condition then gets no
 * cache). */
static void sig_add(struct bw_buf *b, const void *p, size_t len, bool *ok)
{
	uint32_t n = (uint32_t)len;

	if (*ok && (bw_buf_add(b, &n, sizeof(n)) != 0 ||
	            (len > 0 && bw_buf_add(b, p, len) != 0)))
		*ok = false;
}

/* Conditions that read no capture and run no regex give the same answer
 * for every rule in one event: identical ones share a result cache, so
 * `status class 2xx` in ten rules is tested once per event. */
static void memoize(struct condlist *cl, struct strset *sigs)
{
	struct bw_buf b;
	bool ok;
	long idx;

	for (size_t i = 0; i < cl->n; i++) {
		struct cond *c = &cl->v[i];
		uint8_t head[] = {c->op,         c->nocase,  c->flag,
		                  c->class_mask, c->f.fk,    c->f.vt,
		                  c->other.fk,   c->other.vt};

		if (c->op == OP_REGEX || c->stage == ST_CAPTURE)
			continue;
		ok = true;
		bw_buf_init(&b, 64 * 1024);
		sig_add(&b, head, sizeof(head), &ok);
		sig_add(&b, &c->f.id, sizeof(c->f.id), &ok);
		sig_add(&b, &c->other.id, sizeof(c->other.id), &ok);
		for (size_t k = 0; k < c->n_texts; k++)
			sig_add(&b, c->texts[k], c->tlens[k], &ok);
		sig_add(&b, c->ints, c->n_ints * sizeof(*c->ints), &ok);
		sig_add(&b, c->addrs, c->n_addrs * sizeof(*c->addrs), &ok);
		if (ok) {
			idx = strset_index(sigs, b.data, b.len);
			if (idx < 0) {
				strset_add(sigs, b.data, b.len);
				idx = (long)sigs->n - 1;
			}
			c->memo = (uint32_t)idx + 1;
		}
		bw_buf_free(&b);
	}
}

static void memoize_all(struct rules *r)
{
	struct strset sigs;

	strset_init(&sigs, false);
	for (size_t i = 0; i < r->n_rules; i++) {
		struct rule *ru = r->rules[i];

		memoize(&ru->match, &sigs);
		memoize(&ru->unless, &sigs);
		for (size_t k = 0; k < ru->n_steps; k++) {
			memoize(&ru->steps[k].match, &sigs);
			memoize(&ru->steps[k].unless, &sigs);
		}
	}
	r->n_memo = sigs.n;
	r->memo = xcalloc(sigs.n ? sigs.n : 1, sizeof(*r->memo));
	strset_free(&sigs);
}

static bool same_keys(const struct rule *a, const struct rule *b)
{
	if (a->n_keys != b->n_keys)
		return false;
	for (size_t k = 0; k < a->n_keys; k++)
		if (a->keys[k].fk != b->keys[k].fk ||
		    a->keys[k].vt != b->keys[k].vt ||
		    a->keys[k].id != b->keys[k].id)
			return false;
	return true;
}

/* Rules whose keys read no capture and name the same fields share one
 * key per event (build_key). */
static void share_keys(struct rules *r)
{
	for (size_t i = 0; i < r->n_rules; i++) {
		struct rule *ru = r->rules[i];
		bool capture = false;

		if (ru->agg == AGG_SINGLE)
			continue;
		for (size_t k = 0; k < ru->n_keys; k++)
			capture |= ru->keys[k].fk == FK_CAPTURE;
		if (capture)
			continue;
		for (size_t j = 0; j < i && ru->keyspec == 0; j++) {
			const struct rule *o = r->rules[j];

			if (o->keyspec != 0 && same_keys(o, ru))
				ru->keyspec = o->keyspec;
		}
		if (ru->keyspec == 0)
			ru->keyspec = (uint32_t)++r->n_keymemo;
	}
	r->keymemo =
	    xcalloc(r->n_keymemo ? r->n_keymemo : 1, sizeof(*r->keymemo));
}

static void count_regexes(struct rules *r)
{
	for (size_t i = 0; i < r->n_rx; i++) {
		prefilter_classify(r->rx[i]);
		if (r->rx[i]->hs == HSM_NONE)
			r->st.regex_pcre_only++;
		else if (r->rx[i]->hs == HSM_PREFILTER)
			r->st.regex_prefilter++;
	}
	for (size_t i = 0; i < r->site.n_http; i++) {
		prefilter_classify(r->site.http[i].re);
		if (r->site.http[i].re->hs == HSM_NONE)
			r->st.regex_pcre_only++;
		else if (r->site.http[i].re->hs == HSM_PREFILTER)
			r->st.regex_prefilter++;
	}
}

int compile_rules(struct rules *r, struct bw_error *err)
{
	if (r->failed)
		return bw_error_set(err, NULL, 0,
		                    "a rule file was refused; "
		                    "the rules cannot be compiled");
	if (r->compiled)
		return bw_error_set(err, NULL, 0, "rules are already compiled");
	for (size_t i = 0; i < r->n_rules; i++)
		if (prepare_rule(r, r->rules[i], err) != 0)
			goto fail;
	for (int k = 0; k < BW_KIND__COUNT; k++)
		for (int f = 0; f < BW_F__COUNT; f++)
			if (r->pf[k][f] != NULL &&
			    pfdb_compile(r->pf[k][f], r, err) != 0)
				goto fail;
	count_regexes(r);
	memoize_all(r);
	share_keys(r);
	for (int k = 1; k < BW_KIND__COUNT; k++) {
		for (size_t i = 0; i < r->n_rules; i++) {
			struct rule *ru = r->rules[i];

			if (!(ru->kinds & (1u << k)))
				continue;
			r->by_kind[k] =
			    xreallocarray(r->by_kind[k], r->n_by_kind[k] + 1,
			                  sizeof(*r->by_kind[k]));
			r->by_kind[k][r->n_by_kind[k]++] = ru;
		}
	}
	r->compiled = true;
	return 0;
fail:
	r->failed = true;
	return -1;
}
