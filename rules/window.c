/*
 * window.c - threshold and sequence state per aggregation key, on event
 * time.
 *
 * Each aggregating rule has its own key table: a chained hash table with a
 * seeded hash, and a list in order of last use (the least recently seen key
 * is evicted when the table is full, and counted). A key's state is small
 * and grows only with what it must remember: the events still in the
 * window (a ring of time and amount, merged at the bound), the distinct
 * values (64-bit hashes with their last time), the customers gathered, and
 * a few copies of earlier evidence. Once a key has matched, all of that is
 * dropped: later events only refresh its time until it expires.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "engine.h"

struct ring {
	uint32_t cap, head, n; /* oldest at head */
	int64_t *ts;
	int64_t *amt;
	int64_t total;
};

struct dtab {
	uint32_t cap, n; /* cap: power of two */
	uint64_t *h;     /* 0 = empty */
	int64_t *ts;
};

struct evcopy {
	int64_t ts_us;
	uint8_t source;
	const char *file; /* interned */
	uint64_t number;
	char *raw;
	uint32_t len, cap;
};

struct prior {
	uint32_t head, n;
	struct evcopy e[];
};

struct kstate {
	struct kstate *hnext;
	struct kstate *newer, *older; /* use list */
	uint64_t hash;
	int64_t first_us, last_us;
	uint64_t n_events;
	uint64_t gen; /* sequences: the event generation that advanced it */
	uint64_t step_count;
	uint32_t dkinds;
	uint8_t step;
	bool matched, unknown;
	struct ring *ring;
	struct dtab *dist;
	struct strset *cust;
	struct prior *prior;
	uint32_t klen;
	char key[];
};

struct window {
	struct kstate **b;
	size_t nb, n;
	struct kstate *newest, *oldest;
	size_t max_prior;
};

struct window *window_new(size_t max_prior)
{
	struct window *w = xcalloc(1, sizeof(*w));

	w->max_prior = max_prior;
	w->nb = 64;
	w->b = xcalloc(w->nb, sizeof(*w->b));
	return w;
}

static void ring_free(struct ring **rp)
{
	if (*rp == NULL)
		return;
	free((*rp)->ts);
	free((*rp)->amt);
	free(*rp);
	*rp = NULL;
}

static void dtab_free(struct dtab **dp)
{
	if (*dp == NULL)
		return;
	free((*dp)->h);
	free((*dp)->ts);
	free(*dp);
	*dp = NULL;
}

static void prior_free(struct prior **pp, size_t cap)
{
	if (*pp == NULL)
		return;
	for (size_t i = 0; i < cap; i++)
		free((*pp)->e[i].raw);
	free(*pp);
	*pp = NULL;
}

static void cust_free(struct strset **sp)
{
	if (*sp == NULL)
		return;
	strset_free(*sp);
	free(*sp);
	*sp = NULL;
}

/* Drop what only a key that has not matched yet needs. */
static void drop_extras(struct kstate *k, size_t max_prior)
{
	ring_free(&k->ring);
	dtab_free(&k->dist);
	prior_free(&k->prior, max_prior);
	cust_free(&k->cust);
}

static void reset(struct kstate *k, size_t max_prior)
{
	drop_extras(k, max_prior);
	k->first_us = k->last_us = 0;
	k->n_events = 0;
	k->gen = 0;
	k->step_count = 0;
	k->dkinds = 0;
	k->step = 0;
	k->matched = false;
	k->unknown = false;
}

static void unlink_use(struct window *w, struct kstate *k)
{
	if (k->newer != NULL)
		k->newer->older = k->older;
	else
		w->newest = k->older;
	if (k->older != NULL)
		k->older->newer = k->newer;
	else
		w->oldest = k->newer;
	k->newer = k->older = NULL;
}

static void push_newest(struct window *w, struct kstate *k)
{
	k->older = w->newest;
	k->newer = NULL;
	if (w->newest != NULL)
		w->newest->newer = k;
	w->newest = k;
	if (w->oldest == NULL)
		w->oldest = k;
}

static void touch(struct window *w, struct kstate *k)
{
	if (w->newest == k)
		return;
	unlink_use(w, k);
	push_newest(w, k);
}

static void remove_key(struct rules *r, struct window *w, struct kstate *k)
{
	struct kstate **pp = &w->b[k->hash & (w->nb - 1)];

	while (*pp != k)
		pp = &(*pp)->hnext;
	*pp = k->hnext;
	unlink_use(w, k);
	drop_extras(k, w->max_prior);
	free(k);
	w->n--;
	r->st.keys--;
}

void window_destroy(struct window **wp)
{
	struct window *w = *wp;
	struct kstate *k, *next;

	if (w == NULL)
		return;
	for (k = w->newest; k != NULL; k = next) {
		next = k->older;
		drop_extras(k, w->max_prior);
		free(k);
	}
	free(w->b);
	free(w);
	*wp = NULL;
}

size_t window_keys(const struct window *w)
{
	return w != NULL ? w->n : 0;
}

static void grow_table(struct window *w)
{
	size_t nb = w->nb * 2;
	struct kstate **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < w->nb; i++) {
		struct kstate *k = w->b[i], *next;

		for (; k != NULL; k = next) {
			next = k->hnext;
			k->hnext = b[k->hash & (nb - 1)];
			b[k->hash & (nb - 1)] = k;
		}
	}
	free(w->b);
	w->b = b;
	w->nb = nb;
}

static struct kstate *find(struct window *w, const char *key, size_t klen,
                           uint64_t h)
{
	struct kstate *k = w->b[h & (w->nb - 1)];

	for (; k != NULL; k = k->hnext)
		if (k->hash == h && k->klen == klen &&
		    memcmp(k->key, key, klen) == 0)
			return k;
	return NULL;
}

static struct kstate *create(struct rules *r, struct window *w, const char *key,
                             size_t klen, uint64_t h)
{
	struct kstate *k;

	if (r->lim.max_keys_per_rule > 0 && w->n >= r->lim.max_keys_per_rule &&
	    w->oldest != NULL) {
		remove_key(r, w, w->oldest);
		r->st.evictions++;
	}
	if (w->n >= w->nb)
		grow_table(w);
	k = xcalloc(1, sizeof(*k) + klen + 1);
	k->hash = h;
	k->klen = (uint32_t)klen;
	memcpy(k->key, key, klen);
	k->hnext = w->b[h & (w->nb - 1)];
	w->b[h & (w->nb - 1)] = k;
	push_newest(w, k);
	w->n++;
	r->st.keys++;
	return k;
}

void window_expire(struct rules *r, struct rule *ru, int64_t now_us)
{
	struct window *w = ru->win;

	while (w != NULL && w->oldest != NULL &&
	       now_us - w->oldest->last_us > ru->window_us)
		remove_key(r, w, w->oldest);
}

/* Ring of (time, amount), oldest first; at the bound the two oldest merge
 * (the merged entry leaves the window with the later time). */
static void ring_push(struct ring *g, size_t bound, int64_t ts, int64_t amt)
{
	uint32_t i;

	if (g->n == g->cap && g->cap < bound) {
		uint32_t ncap = g->cap ? g->cap * 2 : 4;
		int64_t *nts, *namt;

		if (ncap > bound)
			ncap = (uint32_t)bound;
		nts = xcalloc(ncap, sizeof(*nts));
		namt = xcalloc(ncap, sizeof(*namt));
		for (i = 0; i < g->n; i++) {
			nts[i] = g->ts[(g->head + i) % g->cap];
			namt[i] = g->amt[(g->head + i) % g->cap];
		}
		free(g->ts);
		free(g->amt);
		g->ts = nts;
		g->amt = namt;
		g->cap = ncap;
		g->head = 0;
	}
	if (g->n == g->cap) {
		uint32_t a = g->head, b = (g->head + 1) % g->cap;

		if (g->cap == 1) {
			g->total -= g->amt[a];
			g->n = 0;
		} else {
			g->amt[b] += g->amt[a];
			g->head = b;
			g->n--;
		}
	}
	i = (g->head + g->n) % g->cap;
	g->ts[i] = ts;
	g->amt[i] = amt;
	g->n++;
	g->total += amt;
}

static void ring_expire(struct ring *g, int64_t oldest_ok)
{
	while (g->n > 0 && g->ts[g->head] < oldest_ok) {
		g->total -= g->amt[g->head];
		g->head = (g->head + 1) % g->cap;
		g->n--;
	}
}

static uint64_t dhash(struct bw_str v)
{
	uint64_t h = strset_hash(v.p, v.len);

	return h != 0 ? h : 1;
}

static void dtab_insert(struct dtab *d, uint64_t h, int64_t ts)
{
	uint32_t mask = d->cap - 1, i = (uint32_t)h & mask;

	while (d->h[i] != 0 && d->h[i] != h)
		i = (i + 1) & mask;
	if (d->h[i] == 0) {
		d->h[i] = h;
		d->n++;
	}
	d->ts[i] = ts;
}

static bool dtab_has(const struct dtab *d, uint64_t h)
{
	uint32_t mask = d->cap - 1, i = (uint32_t)h & mask;

	while (d->h[i] != 0) {
		if (d->h[i] == h)
			return true;
		i = (i + 1) & mask;
	}
	return false;
}

static void dtab_grow(struct dtab *d)
{
	struct dtab old = *d;

	d->cap = old.cap ? old.cap * 2 : 16;
	d->n = 0;
	d->h = xcalloc(d->cap, sizeof(*d->h));
	d->ts = xcalloc(d->cap, sizeof(*d->ts));
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.h[i] != 0)
			dtab_insert(d, old.h[i], old.ts[i]);
	free(old.h);
	free(old.ts);
}

/* Delete entries last seen before oldest_ok (in place: linear probing
 * with backward shift). */
static void dtab_purge(struct dtab *d, int64_t oldest_ok)
{
	uint32_t mask = d->cap - 1, i = 0, hole, j, home;

	while (i < d->cap) {
		if (d->h[i] == 0 || d->ts[i] >= oldest_ok) {
			i++;
			continue;
		}
		hole = i;
		d->h[hole] = 0;
		d->n--;
		for (j = (hole + 1) & mask; d->h[j] != 0; j = (j + 1) & mask) {
			home = (uint32_t)d->h[j] & mask;
			/* Move j back if its home is not in (hole, j]. */
			if ((j > hole && (home <= hole || home > j)) ||
			    (j < hole && (home <= hole && home > j))) {
				d->h[hole] = d->h[j];
				d->ts[hole] = d->ts[j];
				d->h[j] = 0;
				hole = j;
			}
		}
		/* Look at i again: something may have moved into it. */
	}
}

static void prior_push(struct rules *r, size_t cap, struct kstate *k)
{
	const struct bw_event *ev = r->x.ev;
	struct evcopy *e;
	uint32_t len;

	if (cap == 0)
		return;
	if (k->prior == NULL)
		k->prior = xcalloc(1, sizeof(*k->prior) + cap * sizeof(*e));
	if (k->prior->n == cap) {
		e = &k->prior->e[k->prior->head];
		k->prior->head = (uint32_t)((k->prior->head + 1) % cap);
	} else {
		e = &k->prior->e[(k->prior->head + k->prior->n) % cap];
		k->prior->n++;
	}
	len = ev->raw.len < RULES_MAX_RAW ? ev->raw.len : RULES_MAX_RAW;
	if (e->cap < len + 1) {
		free(e->raw);
		e->cap = len + 1;
		e->raw = xmalloc(e->cap);
	}
	if (len > 0)
		memcpy(e->raw, ev->raw.p, len);
	e->raw[len] = '\0';
	e->len = len;
	e->ts_us = ev->ts_us;
	e->source = (uint8_t)ev->source;
	e->file = ev->ref.file != NULL ? rules_intern(r, ev->ref.file) : NULL;
	e->number = ev->ref.number;
}

static void gather(struct rules *r, struct kstate *k, const struct evinfo *evi)
{
	k->dkinds |= evi->dkinds;
	k->unknown |= evi->unknown;
	for (size_t i = 0; i < evi->n_cust; i++) {
		size_t len = strlen(evi->cust[i]);

		if (k->cust == NULL) {
			k->cust = xmalloc(sizeof(*k->cust));
			strset_init(k->cust, false);
		}
		if (strset_has(k->cust, evi->cust[i], len))
			continue;
		if (k->cust->n >= r->lim.max_customers_per_key) {
			k->unknown = true; /* more were touched than we keep */
			r->st.bound_drops++;
			continue;
		}
		strset_add(k->cust, evi->cust[i], len);
	}
}

static void first_match(struct rules *r, struct rule *ru, struct kstate *k,
                        const struct evinfo *evi, rules_match_fn cb, void *arg)
{
	struct gathered g;
	size_t cap = ru->win->max_prior;

	memset(&g, 0, sizeof(g));
	if (k->cust != NULL) {
		g.cust = (const char *const *)k->cust->items;
		g.n_cust = k->cust->n;
	}
	g.dkinds = k->dkinds;
	g.unknown = k->unknown;
	g.count = k->n_events;
	if (k->prior != NULL && k->prior->n > 0) {
		if (r->cap_mprior < k->prior->n) {
			r->cap_mprior = cap;
			r->mprior =
			    xreallocarray(r->mprior, cap, sizeof(*r->mprior));
		}
		for (uint32_t i = 0; i < k->prior->n; i++) {
			const struct evcopy *e =
			    &k->prior->e[(k->prior->head + i) % cap];
			struct rules_evidence *o = &r->mprior[i];

			o->ts_us = e->ts_us;
			o->source = (enum bw_source)e->source;
			o->ref_file = e->file;
			o->ref_number = e->number;
			o->raw = e->raw;
		}
		g.prior = r->mprior;
		g.n_prior = k->prior->n;
	}
	k->matched = true;
	rules_emit(r, ru, k->key, true, evi, &g, cb, arg);
	drop_extras(k, cap);
}

/* Look a key up; a key whose state has expired starts over. */
static struct kstate *lookup(struct rules *r, struct rule *ru, const char *key,
                             size_t klen, uint64_t h, int64_t now)
{
	struct kstate *k = find(ru->win, key, klen, h);
	int64_t since;

	if (k == NULL || k->n_events == 0)
		return k;
	since =
	    (ru->agg == AGG_SEQUENCE && !k->matched) ? k->first_us : k->last_us;
	if (now - since > ru->window_us)
		reset(k, ru->win->max_prior);
	return k;
}

static void seen(struct kstate *k, int64_t ts)
{
	if (k->n_events == 0)
		k->first_us = ts;
	if (ts > k->last_us || k->n_events == 0)
		k->last_us = ts;
	k->n_events++;
}

void window_threshold(struct rules *r, struct rule *ru, const char *key,
                      const struct evinfo *evi, rules_match_fn cb, void *arg)
{
	struct bw_str vals[64];
	const struct bw_str *dv;
	char tb[64];
	size_t klen = strlen(key), n;
	uint64_t h = strset_hash(key, klen);
	int64_t ts = r->x.ev->ts_us, amt, total = 0;
	struct kstate *k;

	k = lookup(r, ru, key, klen, h, ts);
	if (k == NULL)
		k = create(r, ru->win, key, klen, h);
	touch(ru->win, k);
	if (k->n_events > 0 && ts < k->last_us)
		ts = k->last_us; /* out of order: count it as now */
	seen(k, ts);
	if (k->matched) {
		rules_emit(r, ru, k->key, false, evi, NULL, cb, arg);
		return;
	}
	gather(r, k, evi);
	switch (ru->mode) {
	case THR_COUNT:
	case THR_SUM:
		amt = 1;
		if (ru->mode == THR_SUM && !cond_int(r, &ru->sum, &amt))
			amt = 0;
		if (k->ring == NULL)
			k->ring = xcalloc(1, sizeof(*k->ring));
		ring_expire(k->ring, ts - ru->window_us);
		if (amt > 0)
			ring_push(k->ring, r->lim.max_distinct_per_key, ts,
			          amt);
		total = k->ring->total;
		break;
	case THR_DISTINCT:
		if (k->dist == NULL)
			k->dist = xcalloc(1, sizeof(*k->dist));
		if (ru->distinct.fk == FK_CUSTOMER) {
			/* Every id of the event counts. */
			cond_derived(r);
			dv = r->x.cust;
			n = r->x.n_cust;
		} else {
			n = cond_values(r, &ru->distinct, vals, 64, tb,
			                sizeof(tb));
			dv = vals;
		}
		for (size_t i = 0; i < n; i++) {
			uint64_t dh = dhash(dv[i]);
			int64_t oldest = ts - ru->window_us;

			if (k->dist->cap > 0 && dtab_has(k->dist, dh)) {
				dtab_insert(k->dist, dh, ts); /* seen again */
				continue;
			}
			if (k->dist->n >= r->lim.max_distinct_per_key)
				dtab_purge(k->dist, oldest);
			if (k->dist->n >= r->lim.max_distinct_per_key) {
				r->st.bound_drops++;
				continue;
			}
			if ((k->dist->n + 1) * 2 > k->dist->cap) {
				if (k->dist->cap > 0)
					dtab_purge(k->dist, oldest);
				if ((k->dist->n + 1) * 2 > k->dist->cap)
					dtab_grow(k->dist);
			}
			dtab_insert(k->dist, dh, ts);
		}
		if (k->dist->n >= ru->min && k->dist->cap > 0)
			dtab_purge(k->dist, ts - ru->window_us);
		total = k->dist->n;
		break;
	}
	if (total >= 0 && (uint64_t)total >= ru->min) {
		first_match(r, ru, k, evi, cb, arg);
		return;
	}
	prior_push(r, ru->win->max_prior, k);
}

void window_sequence(struct rules *r, struct rule *ru, size_t step,
                     const char *key, rules_match_fn cb, void *arg)
{
	size_t klen = strlen(key);
	uint64_t h = strset_hash(key, klen);
	int64_t ts = r->x.ev->ts_us;
	struct evinfo evi;
	struct kstate *k;

	k = lookup(r, ru, key, klen, h, ts);
	if (k != NULL && k->gen == r->x.gen)
		return; /* one step per key per event */
	if (k == NULL) {
		if (step != 0)
			return;
		k = create(r, ru->win, key, klen, h);
	}
	if (k->matched) {
		if (step != ru->n_steps - 1)
			return;
		k->gen = r->x.gen;
		touch(ru->win, k);
		seen(k, ts);
		rules_event_info(r, ru, &evi);
		rules_emit(r, ru, k->key, false, &evi, NULL, cb, arg);
		return;
	}
	if (step != k->step || (k->n_events == 0 && step != 0))
		return;
	k->gen = r->x.gen;
	touch(ru->win, k);
	seen(k, ts);
	rules_event_info(r, ru, &evi);
	gather(r, k, &evi);
	if (++k->step_count >= ru->steps[step].min) {
		k->step++;
		k->step_count = 0;
		if (k->step == ru->n_steps) {
			first_match(r, ru, k, &evi, cb, arg);
			return;
		}
	}
	prior_push(r, ru->win->max_prior, k);
}
