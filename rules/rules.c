/*
 * rules.c - the engine's life cycle, the evaluation loop, and the matches
 * it hands out (see rules.h).
 *
 * Per event: the rules of its kind (and source) are tried in load order.
 * Each rule runs its conditions in two phases (cond.c): everything that
 * needs no PCRE2 first, Hyperscan answering for regexes; then PCRE2 for the
 * regexes that need captures or confirmation, and what reads captures.
 * Derived fields are computed once per event, when something first asks.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "engine.h"

#define SWEEP_US    1000000 /* expire window state at most once a second */
#define SMALL_DEDUP 64

static const struct rules_limits default_limits = {
    .max_keys_per_rule = 100000,
    .max_distinct_per_key = 10000,
    .max_prior = 8,
    .max_customers_per_key = 10000,
};

struct rules *rules_new(void)
{
	struct rules *r = xcalloc(1, sizeof(*r));

	r->lim = default_limits;
	r->prefilter_on = true;
	strset_init(&r->files, false);
	regex_setup(r);
	r->vals = xcalloc(RULES_MAX_EV_CUSTOMERS, sizeof(*r->vals));
	return r;
}

static void free_conds(struct condlist *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		struct cond *c = &cl->v[i];

		for (size_t k = 0; k < c->n_texts; k++)
			free(c->texts[k]);
		free(c->texts);
		free(c->tlens);
		free(c->ints);
		free(c->addrs);
		if (c->set != NULL) {
			strset_free(c->set);
			free(c->set);
		}
		bw_cidr_destroy(&c->cidr);
	}
	free(cl->v);
	memset(cl, 0, sizeof(*cl));
}

void rules_free_rule(struct rule *ru)
{
	free((char *)ru->info.id);
	free((char *)ru->info.title);
	free((char *)ru->info.category);
	free((char *)ru->info.summary);
	for (size_t i = 0; i < ru->info.n_actions; i++)
		free(ru->actions[i]);
	free(ru->actions);
	free_conds(&ru->match);
	free_conds(&ru->unless);
	for (size_t i = 0; i < ru->n_steps; i++) {
		free(ru->steps[i].name);
		free_conds(&ru->steps[i].match);
		free_conds(&ru->steps[i].unless);
	}
	free(ru->steps);
	for (size_t i = 0; i < ru->n_caps; i++)
		free(ru->caps[i]);
	tmpl_free(&ru->summary);
	window_destroy(&ru->win);
}

void rules_destroy(struct rules **rp)
{
	struct rules *r = *rp;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_rules; i++) {
		rules_free_rule(r->rules[i]);
		free(r->rules[i]);
	}
	free(r->rules);
	for (size_t i = 0; i < r->n_rx; i++)
		regex_free(&r->rx[i]);
	free(r->rx);
	for (int k = 0; k < BW_KIND__COUNT; k++) {
		for (int f = 0; f < BW_F__COUNT; f++) {
			if (r->pf[k][f] == NULL)
				continue;
			pfdb_free(r->pf[k][f]);
			free(r->pf[k][f]);
		}
		free(r->by_kind[k]);
	}
	site_free(&r->site);
	hs_free_scratch(r->scratch);
	regex_teardown(r);
	strset_free(&r->files);
	free(r->x.arena);
	free(r->vals);
	free(r->mcust);
	free(r->mtext);
	free(r->mprior);
	free(r->memo);
	free(r->keymemo);
	free(r);
	*rp = NULL;
}

void rules_set_limits(struct rules *r, const struct rules_limits *lim)
{
	if (r->compiled)
		return;
	r->lim.max_keys_per_rule = lim->max_keys_per_rule
	                               ? lim->max_keys_per_rule
	                               : default_limits.max_keys_per_rule;
	r->lim.max_distinct_per_key = lim->max_distinct_per_key
	                                  ? lim->max_distinct_per_key
	                                  : default_limits.max_distinct_per_key;
	r->lim.max_prior =
	    lim->max_prior ? lim->max_prior : default_limits.max_prior;
	r->lim.max_customers_per_key =
	    lim->max_customers_per_key ? lim->max_customers_per_key
	                               : default_limits.max_customers_per_key;
}

void rules_set_prefilter(struct rules *r, bool enabled)
{
	r->prefilter_on = enabled;
}

const char *rules_intern(struct rules *r, const char *s)
{
	const char *v;

	if (s == r->intern_ptr && r->intern_val != NULL &&
	    strcmp(s, r->intern_val) == 0)
		return r->intern_val;
	v = strset_get(&r->files, s, strlen(s));
	if (v == NULL) {
		strset_add(&r->files, s, strlen(s));
		v = strset_get(&r->files, s, strlen(s));
	}
	r->intern_ptr = s;
	r->intern_val = v;
	return v;
}

void rules_set_cache(struct rules *r, const struct rules_cache *cache)
{
	if (cache != NULL)
		r->cache = *cache;
	else
		memset(&r->cache, 0, sizeof(r->cache));
}

int rules_compile(struct rules *r, struct bw_error *err)
{
	return compile_rules(r, err);
}

size_t rules_count(const struct rules *r)
{
	return r->n_rules;
}

const struct rule_info *rules_info(const struct rules *r, size_t i)
{
	return i < r->n_rules ? &r->rules[i]->info : NULL;
}

void rules_get_stats(const struct rules *r, struct rules_stats *out)
{
	*out = r->st;
}

void rules_expire(struct rules *r, int64_t now_us)
{
	for (size_t i = 0; i < r->n_rules; i++)
		if (r->rules[i]->win != NULL)
			window_expire(r, r->rules[i], now_us);
}

/* Append a customer id to the match scratch (offsets: the text may move
 * while it grows). Returns false for a repeat among the first few. */
static bool add_cust(struct rules *r, size_t n, struct bw_str s, size_t *used)
{
	if (n <= SMALL_DEDUP)
		for (size_t j = 0; j < n; j++)
			if (r->vals[j].len == s.len &&
			    memcmp(r->mtext + (size_t)(uintptr_t)r->vals[j].p,
			           s.p, s.len) == 0)
				return false;
	if (r->mtext_cap < *used + s.len + 1) {
		r->mtext_cap = (*used + s.len + 1) * 2;
		r->mtext = xreallocarray(r->mtext, r->mtext_cap, 1);
	}
	memcpy(r->mtext + *used, s.p, s.len);
	r->mtext[*used + s.len] = '\0';
	/* vals[n].p holds the offset until the text stops moving. */
	r->vals[n].p = (const char *)(uintptr_t)*used;
	r->vals[n].len = s.len;
	*used += s.len + 1;
	return true;
}

void rules_event_info(struct rules *r, const struct rule *ru,
                      struct evinfo *out)
{
	struct ectx *x = &r->x;
	struct bw_str one[64];
	const struct bw_str *v;
	char tb[64];
	size_t n = 0, used = 0, got;
	bool touched = ru->affected_unknown, scope = false;

	memset(out, 0, sizeof(*out));
	if (r->site.n_http > 0 || r->site.n_sql > 0) {
		cond_derived(r);
		out->dkinds = x->dkinds;
		touched |= x->dkinds != 0;
		scope = x->dkinds != 0 && x->unknown;
	}
	for (size_t i = 0; i < ru->n_custf; i++) {
		const struct fref *f = &ru->custf[i];

		if (f->fk == FK_CUSTOMER) {
			cond_derived(r);
			v = x->cust;
			got = x->n_cust;
		} else {
			got = cond_values(r, f, one, 64, tb, sizeof(tb));
			v = one;
		}
		for (size_t k = 0; k < got && n < RULES_MAX_EV_CUSTOMERS; k++)
			if (v[k].len > 0 && v[k].len <= RULES_MAX_VALUE &&
			    add_cust(r, n, v[k], &used))
				n++;
	}
	if (r->cap_mcust < n) {
		r->cap_mcust = n;
		r->mcust = xreallocarray(r->mcust, n, sizeof(*r->mcust));
	}
	for (size_t i = 0; i < n; i++)
		r->mcust[i] = r->mtext + (size_t)(uintptr_t)r->vals[i].p;
	out->cust = r->mcust;
	out->n_cust = n;
	out->unknown = touched && (n == 0 || scope);
}

void rules_emit(struct rules *r, const struct rule *ru, const char *key,
                bool first, const struct evinfo *evi, const struct gathered *g,
                rules_match_fn cb, void *arg)
{
	struct rules_match m;
	uint32_t dk;
	size_t n = 0;

	memset(&m, 0, sizeof(m));
	m.rule = &ru->info;
	m.key = key;
	m.ev = r->x.ev;
	m.first = first;
	if (g != NULL) {
		m.customers = g->cust;
		m.n_customers = g->n_cust;
		m.affected_unknown = g->unknown;
		m.prior = g->prior;
		m.n_prior = g->n_prior;
		m.event_count = g->count;
		dk = g->dkinds;
	} else {
		m.customers = evi->cust;
		m.n_customers = evi->n_cust;
		m.affected_unknown = evi->unknown;
		m.event_count = 1;
		dk = evi->dkinds;
	}
	for (size_t i = 0; i < r->site.n_dk; i++)
		if (dk & (1u << i))
			r->mdk[n++] = r->site.dk_names[i];
	m.data_kinds = r->mdk;
	m.n_data_kinds = n;
	m.summary = tmpl_render(r, &ru->summary, key, m.event_count);
	r->st.matches++;
	cb(&m, arg);
}

/* Replace each NUL of p[0..len) by '?'. */
static void no_nul(char *p, size_t len)
{
	char *z = memchr(p, '\0', len);

	while (z != NULL) {
		*z = '?';
		z = memchr(z + 1, '\0', len - (size_t)(z + 1 - p));
	}
}

/* The aggregation key: each key field's values joined by ',', fields by
 * '|', into *key (valid until the next event). False when every key field
 * is absent (the event does not count). Rules keyed alike (no capture)
 * build it once per event. */
static bool build_key(struct rules *r, const struct rule *ru,
                      struct aggkey *key)
{
	struct bw_str vals[64];
	struct keymemo *m = NULL;
	char tb[64];
	char *out = r->keybuf;
	size_t used = 0, n;
	bool any = false, absent;

	if (ru->keyspec != 0) {
		m = &r->keymemo[ru->keyspec - 1];
		if (m->gen == r->x.gen) {
			*key = m->k;
			return !m->absent;
		}
		out = m->text;
	}
	for (size_t i = 0; i < ru->n_keys; i++) {
		if (i > 0 && used < RULES_MAX_KEY_LEN)
			out[used++] = '|';
		n = cond_values(r, &ru->keys[i], vals, 64, tb, sizeof(tb));
		any |= n > 0;
		for (size_t k = 0; k < n; k++) {
			size_t len = vals[k].len;

			if (k > 0 && used < RULES_MAX_KEY_LEN)
				out[used++] = ',';
			if (len > RULES_MAX_KEY_LEN - used)
				len = RULES_MAX_KEY_LEN - used;
			if (len > 0) {
				memcpy(out + used, vals[k].p, len);
				no_nul(out + used, len);
				used += len;
			}
		}
	}
	out[used] = '\0';
	absent = ru->n_keys > 0 && !any;
	key->p = out;
	key->len = used;
	key->hash = absent ? 0 : strset_hash(out, used);
	if (m != NULL) {
		m->gen = r->x.gen;
		m->absent = absent;
		m->k = *key;
	}
	return !absent;
}

static void eval_rule(struct rules *r, struct rule *ru, rules_match_fn cb,
                      void *arg)
{
	struct evinfo evi;
	struct aggkey key;
	uint64_t maybe;

	if (ru->n_caps > 0)
		memset(r->x.caps, 0, ru->n_caps * sizeof(r->x.caps[0]));
	if (!cond_pre(r, &ru->match, &maybe))
		return;
	r->st.candidates++;
	if (!cond_post(r, &ru->match, maybe) || cond_any(r, &ru->unless))
		return;
	if (ru->agg == AGG_SINGLE) {
		rules_event_info(r, ru, &evi);
		rules_emit(r, ru, "", true, &evi, NULL, cb, arg);
		return;
	}
	if (!build_key(r, ru, &key))
		return;
	rules_event_info(r, ru, &evi);
	window_threshold(r, ru, &key, &evi, cb, arg);
}

static void eval_sequence(struct rules *r, struct rule *ru, rules_match_fn cb,
                          void *arg)
{
	struct bw_str saved[RULES_MAX_CAPS];
	uint32_t kbit = 1u << r->x.ev->kind;
	struct aggkey key;
	uint64_t maybe;
	bool counted = false;

	memset(r->x.caps, 0, ru->n_caps * sizeof(r->x.caps[0]));
	if (!cond_pre(r, &ru->match, &maybe) ||
	    !cond_post(r, &ru->match, maybe))
		return;
	memcpy(saved, r->x.caps, ru->n_caps * sizeof(saved[0]));
	for (size_t i = 0; i < ru->n_steps; i++) {
		struct step *st = &ru->steps[i];

		if (!(st->kinds & kbit))
			continue;
		/* A later step only advances a key that exists. */
		if (i > 0 && window_keys(ru->win) == 0)
			continue;
		memcpy(r->x.caps, saved, ru->n_caps * sizeof(saved[0]));
		if (!cond_pre(r, &st->match, &maybe))
			continue;
		if (!counted) {
			r->st.candidates++;
			counted = true;
		}
		if (!cond_post(r, &st->match, maybe) ||
		    cond_any(r, &ru->unless) || cond_any(r, &st->unless))
			continue;
		if (!build_key(r, ru, &key))
			continue;
		window_sequence(r, ru, i, &key, cb, arg);
	}
}

size_t rules_eval(struct rules *r, const struct bw_event *ev, rules_match_fn cb,
                  void *arg)
{
	struct ectx *x = &r->x;
	uint64_t before = r->st.matches;
	uint32_t sbit;
	unsigned kind = (unsigned)ev->kind;
	int64_t now;

	if (!r->compiled)
		return 0;
	r->st.events++;
	x->ev = ev;
	x->gen++;
	x->derived_done = x->pc_done = x->bh_done = false;
	now = bw_evclock_feed(&r->clock, ev->ts_us);
	if (now - r->last_sweep_us >= SWEEP_US) {
		rules_expire(r, now);
		r->last_sweep_us = now;
	}
	if (kind >= BW_KIND__COUNT)
		return 0;
	sbit = (unsigned)ev->source < 32 ? 1u << ev->source : 0;
	for (size_t i = 0; i < r->n_by_kind[kind]; i++) {
		struct rule *ru = r->by_kind[kind][i];

		if (ru->sources != 0 && !(ru->sources & sbit))
			continue;
		if (ru->agg == AGG_SEQUENCE)
			eval_sequence(r, ru, cb, arg);
		else
			eval_rule(r, ru, cb, arg);
	}
	return (size_t)(r->st.matches - before);
}
