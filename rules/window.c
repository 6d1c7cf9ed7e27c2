/*
 * window.c - threshold and sequence state per aggregation key, on event
 * time.
 *
 * Each aggregating rule has its own key table: an open-addressing index
 * (linear probing on a seeded hash, kept beside each key's pointer so that
 * a probe reads no key state it does not match), and a list in order of
 * use that serves both expiry and eviction. Moving a key to the front of
 * that list on every event would write to two other keys' blocks (cache
 * misses that cost more than the rest of the event), so a key moves only
 * when it was last moved more than an eighth of the rule's window ago
 * (memcached's rule): the list is ordered by the time of that move, which
 * is never later than the key's last event. Expiry walks from the back
 * and stops at the first key moved within the window; a key found there
 * that was seen since moves to the front instead. Eviction at the bound
 * takes the key at the back: one whose last event is at most an eighth
 * of the window later than the least recent (an approximate LRU), and is
 * counted.
 * A key's state grows only with what it must remember: the
 * events still in the window (a ring of time and amount, merged at the
 * bound), the distinct values (64-bit hashes with their last time), the
 * customers gathered, and the last few copies of earlier evidence. The
 * common case (a key seen once or a few times) fits in one fixed-size
 * block: a short key, a few ring entries, a few distinct values, the first
 * customer ids and the evidence pointers live in it, and each of the first
 * four spills to the heap only when it outgrows that room. Key blocks and
 * evidence copies come from the window's pools (pool.c) and go back to
 * them when a key is evicted, expires or matches, so a stream of new keys
 * at the bound allocates nothing. Once a key has matched, all of that is
 * dropped: later events only refresh its time until it expires.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "engine.h"
#include "pool.h"

#define KEY_INLINE  32 /* key bytes (with the NUL) kept in the block */
#define RING_INLINE 4  /* ring entries kept in the block */
#define DIST_INLINE 4  /* distinct values kept in the block */
#define CUST_INLINE 2  /* customer ids kept in the block... */
#define CUST_BYTES  32 /* ...in this many bytes, NULs included */
#define INDEX_MIN   64 /* index slots of an empty table */

/* Ring of (time, amount), oldest at head. cap 0: not used yet; ts and amt
 * point to its and iamt until it outgrows them. */
struct ring {
	uint32_t cap, head, n;
	int64_t total;
	int64_t *ts, *amt;
	int64_t its[RING_INLINE], iamt[RING_INLINE];
};

/* Distinct values. cap 0: up to DIST_INLINE in ih/its, unordered; then an
 * open-addressing table of cap (a power of two) in h/ts, 0 = empty. */
struct dtab {
	uint32_t cap, n;
	uint64_t *h;
	int64_t *ts;
	uint64_t ih[DIST_INLINE];
	int64_t its[DIST_INLINE];
};

/* Customer ids gathered, in the order first seen: in the block while they
 * fit (NUL-terminated, one after the other in buf), then in a string set. */
struct custs {
	uint32_t n, used; /* ids and bytes of buf, while set is NULL */
	struct strset *set;
	uint8_t lens[CUST_INLINE];
	char buf[CUST_BYTES];
};

/* A copy of earlier evidence: a block of one of the window's evidence
 * pools, the smallest that holds the line. */
struct evcopy {
	int64_t ts_us;
	uint64_t number;
	const char *file; /* interned */
	uint32_t len;
	uint8_t source;
	char raw[];
};

/* Block sizes of the evidence pools (log lines are mostly 150 to 300
 * bytes); the last holds the longest line. */
#define EV_MAX (sizeof(struct evcopy) + RULES_MAX_RAW + 1)
static const size_t ev_sizes[] = {128, 192, 256, 320, 384, 512, 768, EV_MAX};
#define EV_CLASSES (sizeof(ev_sizes) / sizeof(ev_sizes[0]))

enum store { STORE_NONE, STORE_RING, STORE_DIST };

/* A key's state: one block of the window's key pool. What a look-up and a
 * touch read comes first, so that a short key is found in one cache line.
 * The last max_prior evidence copies (oldest at prior_head) are pointed to
 * from ev, after which come the pool index of each (kept here: a copy is
 * overwritten without reading it first). */
struct kstate {
	uint32_t klen;
	uint8_t step;
	uint8_t store; /* enum store: which of u is in use */
	bool matched, unknown;
	struct kstate *newer, *older; /* use list */
	int64_t last_us;
	int64_t moved_us; /* when it last moved to the front of the list */
	union {
		char in[KEY_INLINE]; /* klen < KEY_INLINE */
		char *heap;
	} key;
	uint64_t hash;
	int64_t first_us;
	uint64_t n_events;
	uint32_t dkinds;
	uint32_t prior_head, prior_n;
	union {
		struct ring ring; /* count and sum thresholds */
		struct dtab dist; /* distinct thresholds */
		struct {
			/* The event generation that advanced it. */
			uint64_t gen;
			uint64_t step_count;
		} seq; /* sequences */
	} u;
	struct custs cust;
	struct evcopy *ev[]; /* max_prior, then max_prior uint8_t */
};

struct slot {
	uint64_t hash;
	struct kstate *k; /* NULL: empty */
};

struct window {
	struct slot *slots;
	size_t nslots, n; /* nslots: a power of two, at least 2 n */
	struct kstate *newest, *oldest;
	int64_t move_us; /* a key moves to the front at most this often */
	size_t max_prior;
	struct pool keys;           /* struct kstate and its ev */
	struct pool ev[EV_CLASSES]; /* struct evcopy by size */
};

static char *kkey(struct kstate *k)
{
	return k->klen < KEY_INLINE ? k->key.in : k->key.heap;
}

/* The pool index of each evidence copy of k. */
static uint8_t *ev_cls(const struct window *w, struct kstate *k)
{
	return (uint8_t *)(k->ev + w->max_prior);
}

struct window *window_new(size_t max_prior, int64_t window_us)
{
	struct window *w = xcalloc(1, sizeof(*w));

	w->max_prior = max_prior;
	w->move_us = window_us / 8;
	w->nslots = INDEX_MIN;
	w->slots = pool_array(w->nslots, sizeof(*w->slots));
	pool_init(&w->keys, sizeof(struct kstate) +
	                        max_prior * (sizeof(struct evcopy *) + 1));
	for (size_t i = 0; i < EV_CLASSES; i++)
		pool_init(&w->ev[i], ev_sizes[i]);
	return w;
}

size_t window_blocks_made(const struct window *w)
{
	size_t n = w->keys.made;

	for (size_t i = 0; i < EV_CLASSES; i++)
		n += w->ev[i].made;
	return n;
}

static void ring_free(struct ring *g)
{
	if (g->cap > RING_INLINE) {
		free(g->ts);
		free(g->amt);
	}
	memset(g, 0, sizeof(*g));
}

static void dtab_free(struct dtab *d)
{
	if (d->cap > 0) {
		free(d->h);
		free(d->ts);
	}
	d->cap = d->n = 0;
	d->h = NULL;
	d->ts = NULL;
}

static void prior_free(struct window *w, struct kstate *k)
{
	const uint8_t *cls = ev_cls(w, k);

	for (uint32_t i = 0; i < k->prior_n; i++) {
		size_t j = (k->prior_head + i) % w->max_prior;

		pool_put(&w->ev[cls[j]], k->ev[j]);
	}
	k->prior_head = k->prior_n = 0;
}

static void cust_free(struct custs *c)
{
	if (c->set != NULL) {
		strset_free(c->set);
		free(c->set);
		c->set = NULL;
	}
	c->n = c->used = 0;
}

/* Free what a key has on the heap besides its key (not in the pools). */
static void drop_heap(struct kstate *k)
{
	if (k->store == STORE_RING)
		ring_free(&k->u.ring);
	else if (k->store == STORE_DIST)
		dtab_free(&k->u.dist);
	k->store = STORE_NONE;
	cust_free(&k->cust);
}

/* Drop what only a key that has not matched yet needs. */
static void drop_extras(struct window *w, struct kstate *k)
{
	drop_heap(k);
	prior_free(w, k);
}

static void reset(struct window *w, struct kstate *k)
{
	drop_extras(w, k);
	memset(&k->u, 0, sizeof(k->u));
	k->first_us = k->last_us = 0;
	k->n_events = 0;
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

/* Put k at the front as moved at ts (no earlier than the front's move, so
 * the list stays in order). */
static void push_newest(struct window *w, struct kstate *k, int64_t ts)
{
	if (w->newest != NULL && ts < w->newest->moved_us)
		ts = w->newest->moved_us;
	k->moved_us = ts;
	k->older = w->newest;
	k->newer = NULL;
	if (w->newest != NULL)
		w->newest->newer = k;
	w->newest = k;
	if (w->oldest == NULL)
		w->oldest = k;
}

static void move_front(struct window *w, struct kstate *k, int64_t ts)
{
	unlink_use(w, k);
	push_newest(w, k, ts);
}

/* k was seen at ts. */
static void touch(struct window *w, struct kstate *k, int64_t ts)
{
	if (w->newest == k || ts - k->moved_us < w->move_us)
		return;
	move_front(w, k, ts);
}


/* Linear probing with deletion by backward shift: whether the entry at j,
 * whose home slot is home, may move back to the hole (it may unless its
 * home lies cyclically in (hole, j]). */
static bool may_fill(size_t hole, size_t j, size_t home, size_t mask)
{
	return ((j - home) & mask) >= ((j - hole) & mask);
}

/* Take k out of the index. */
static void index_remove(struct window *w, const struct kstate *k)
{
	size_t mask = w->nslots - 1, hole = (size_t)k->hash & mask, j;

	while (w->slots[hole].k != k)
		hole = (hole + 1) & mask;
	for (j = (hole + 1) & mask; w->slots[j].k != NULL; j = (j + 1) & mask)
		if (may_fill(hole, j, (size_t)w->slots[j].hash & mask, mask)) {
			w->slots[hole] = w->slots[j];
			hole = j;
		}
	w->slots[hole].k = NULL;
}

static void index_put(struct slot *slots, size_t mask, uint64_t h,
                      struct kstate *k)
{
	size_t i = (size_t)h & mask;

	while (slots[i].k != NULL)
		i = (i + 1) & mask;
	slots[i].hash = h;
	slots[i].k = k;
}

static void grow_index(struct window *w)
{
	size_t n = w->nslots * 2;
	struct slot *s = pool_array(n, sizeof(*s));

	for (size_t i = 0; i < w->nslots; i++)
		if (w->slots[i].k != NULL)
			index_put(s, n - 1, w->slots[i].hash, w->slots[i].k);
	free(w->slots);
	w->slots = s;
	w->nslots = n;
}

/* Give a key's block and what hangs off it back (not counted in stats). */
static void release(struct window *w, struct kstate *k)
{
	drop_extras(w, k);
	if (k->klen >= KEY_INLINE)
		free(k->key.heap);
	pool_put(&w->keys, k);
}

static void remove_key(struct rules *r, struct window *w, struct kstate *k)
{
	index_remove(w, k);
	unlink_use(w, k);
	release(w, k);
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
		drop_heap(k);
		if (k->klen >= KEY_INLINE)
			free(k->key.heap);
	}
	pool_free(&w->keys);
	for (size_t i = 0; i < EV_CLASSES; i++)
		pool_free(&w->ev[i]);
	free(w->slots);
	free(w);
	*wp = NULL;
}

size_t window_keys(const struct window *w)
{
	return w != NULL ? w->n : 0;
}

static struct kstate *find(struct window *w, const struct aggkey *key)
{
	size_t mask = w->nslots - 1, i = (size_t)key->hash & mask;
	struct kstate *k;

	for (; w->slots[i].k != NULL; i = (i + 1) & mask) {
		if (w->slots[i].hash != key->hash)
			continue;
		k = w->slots[i].k;
		if (k->klen == key->len &&
		    memcmp(kkey(k), key->p, key->len) == 0)
			return k;
	}
	return NULL;
}

static struct kstate *create(struct rules *r, struct window *w,
                             const struct aggkey *key)
{
	size_t klen = key->len;
	uint64_t h = key->hash;
	struct kstate *k;

	if (r->lim.max_keys_per_rule > 0 && w->n >= r->lim.max_keys_per_rule &&
	    w->oldest != NULL) {
		remove_key(r, w, w->oldest);
		r->st.evictions++;
	}
	if ((w->n + 1) * 2 > w->nslots)
		grow_index(w);
	k = pool_get(&w->keys);
	memset(k, 0, sizeof(*k)); /* ev is read only up to prior_n */
	k->hash = h;
	k->klen = (uint32_t)klen;
	if (klen >= KEY_INLINE)
		k->key.heap = xmalloc(klen + 1);
	memcpy(kkey(k), key->p, klen);
	kkey(k)[klen] = '\0';
	index_put(w->slots, w->nslots - 1, h, k);
	push_newest(w, k, r->x.ev != NULL ? r->x.ev->ts_us : 0);
	w->n++;
	r->st.keys++;
	return k;
}

void window_expire(struct rules *r, struct rule *ru, int64_t now_us)
{
	struct window *w = ru->win;

	while (w != NULL && w->oldest != NULL &&
	       now_us - w->oldest->moved_us > ru->window_us) {
		struct kstate *k = w->oldest;

		/* Not expired: it was seen since it moved. It moves now, as
		 * of its last event (or the front's move, if later), so the
		 * loop does not meet it again. */
		if (now_us - k->last_us > ru->window_us)
			remove_key(r, w, k);
		else
			move_front(w, k, k->last_us);
	}
}

/* Ring of (time, amount), oldest first; at the bound the two oldest merge
 * (the merged entry leaves the window with the later time). The first
 * RING_INLINE entries live in the key's block. */
static void ring_push(struct ring *g, size_t bound, int64_t ts, int64_t amt)
{
	uint32_t i;

	if (g->cap == 0) {
		g->cap = bound < RING_INLINE ? (uint32_t)bound : RING_INLINE;
		g->ts = g->its;
		g->amt = g->iamt;
	} else if (g->n == g->cap && g->cap < bound) {
		uint32_t ncap = g->cap * 2;
		int64_t *nts, *namt;

		if (ncap > bound)
			ncap = (uint32_t)bound;
		nts = xcalloc(ncap, sizeof(*nts));
		namt = xcalloc(ncap, sizeof(*namt));
		for (i = 0; i < g->n; i++) {
			nts[i] = g->ts[(g->head + i) % g->cap];
			namt[i] = g->amt[(g->head + i) % g->cap];
		}
		if (g->ts != g->its) {
			free(g->ts);
			free(g->amt);
		}
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

/* Insert into the table (cap > 0), or refresh the time of h. */
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

/* If h is there, refresh its time and return true. */
static bool dtab_refresh(struct dtab *d, uint64_t h, int64_t ts)
{
	uint32_t mask = d->cap - 1, i;

	if (d->cap == 0) {
		for (i = 0; i < d->n; i++)
			if (d->ih[i] == h) {
				d->its[i] = ts;
				return true;
			}
		return false;
	}
	for (i = (uint32_t)h & mask; d->h[i] != 0; i = (i + 1) & mask)
		if (d->h[i] == h) {
			d->ts[i] = ts;
			return true;
		}
	return false;
}

/* Double the table; the first time, move the values out of the block. */
static void dtab_grow(struct dtab *d)
{
	struct dtab old = *d;

	d->cap = old.cap ? old.cap * 2 : 16;
	d->n = 0;
	d->h = xcalloc(d->cap, sizeof(*d->h));
	d->ts = xcalloc(d->cap, sizeof(*d->ts));
	if (old.cap == 0) {
		for (uint32_t i = 0; i < old.n; i++)
			dtab_insert(d, old.ih[i], old.its[i]);
		return;
	}
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.h[i] != 0)
			dtab_insert(d, old.h[i], old.ts[i]);
	free(old.h);
	free(old.ts);
}

/* Delete entries last seen before oldest_ok (in place: in the block by
 * moving the last entry into the gap, in the table by backward shift). */
static void dtab_purge(struct dtab *d, int64_t oldest_ok)
{
	uint32_t mask = d->cap - 1, i = 0, hole, j;

	if (d->cap == 0) {
		while (i < d->n) {
			if (d->its[i] >= oldest_ok) {
				i++;
				continue;
			}
			d->n--;
			d->ih[i] = d->ih[d->n];
			d->its[i] = d->its[d->n];
		}
		return;
	}
	while (i < d->cap) {
		if (d->h[i] == 0 || d->ts[i] >= oldest_ok) {
			i++;
			continue;
		}
		hole = i;
		d->h[hole] = 0;
		d->n--;
		for (j = (hole + 1) & mask; d->h[j] != 0; j = (j + 1) & mask) {
			if (may_fill(hole, j, (uint32_t)d->h[j] & mask, mask)) {
				d->h[hole] = d->h[j];
				d->ts[hole] = d->ts[j];
				d->h[j] = 0;
				hole = j;
			}
		}
		/* Look at i again: something may have moved into it. */
	}
}

/* Add a value not there yet, making room: entries older than oldest_ok
 * go before the block spills or the table grows. */
static void dtab_add(struct dtab *d, uint64_t h, int64_t ts, int64_t oldest_ok)
{
	if (d->cap == 0) {
		if (d->n == DIST_INLINE)
			dtab_purge(d, oldest_ok);
		if (d->n < DIST_INLINE) {
			d->ih[d->n] = h;
			d->its[d->n] = ts;
			d->n++;
			return;
		}
		dtab_grow(d);
	} else if ((d->n + 1) * 2 > d->cap) {
		dtab_purge(d, oldest_ok);
		if ((d->n + 1) * 2 > d->cap)
			dtab_grow(d);
	}
	dtab_insert(d, h, ts);
}

/* The index in the ring of the copy to write: a new one (NULL), or the
 * oldest once max_prior are kept. */
static size_t prior_slot(struct window *w, struct kstate *k)
{
	size_t cap = w->max_prior, i;

	if (k->prior_n == cap) {
		i = k->prior_head;
		k->prior_head = (uint32_t)((i + 1) % cap);
		return i;
	}
	i = (k->prior_head + k->prior_n) % cap;
	k->prior_n++;
	k->ev[i] = NULL;
	return i;
}

static void prior_push(struct rules *r, struct window *w, struct kstate *k)
{
	const struct bw_event *ev = r->x.ev;
	uint8_t *cls = ev_cls(w, k), c = 0;
	struct evcopy *e;
	uint32_t len;
	size_t i;

	if (w->max_prior == 0)
		return;
	len = ev->raw.len < RULES_MAX_RAW ? ev->raw.len : RULES_MAX_RAW;
	while (ev_sizes[c] < sizeof(*e) + len + 1)
		c++;
	i = prior_slot(w, k);
	e = k->ev[i];
	if (e != NULL && cls[i] != c) {
		pool_put(&w->ev[cls[i]], e);
		e = NULL;
	}
	if (e == NULL) {
		e = pool_get(&w->ev[c]);
		k->ev[i] = e;
		cls[i] = c;
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

static bool cust_has(const struct custs *c, const char *p, size_t len)
{
	const char *it = c->buf;

	if (c->set != NULL)
		return strset_has(c->set, p, len);
	for (uint32_t i = 0; i < c->n; it += c->lens[i++] + 1)
		if (c->lens[i] == len && memcmp(it, p, len) == 0)
			return true;
	return false;
}

/* The ids kept in the block, as the array a match hands out. */
static void cust_items(const struct custs *c, const char *items[CUST_INLINE])
{
	const char *it = c->buf;

	for (uint32_t i = 0; i < c->n; it += c->lens[i++] + 1)
		items[i] = it;
}

static size_t cust_count(const struct custs *c)
{
	return c->set != NULL ? c->set->n : c->n;
}

/* Add an id not there yet: in the block while it fits, else (and from
 * then on) in a string set. */
static void cust_add(struct custs *c, const char *p, size_t len)
{
	if (c->set == NULL && c->n < CUST_INLINE &&
	    c->used + len + 1 <= CUST_BYTES) {
		char *to = c->buf + c->used;

		memcpy(to, p, len);
		to[len] = '\0';
		c->lens[c->n] = (uint8_t)len;
		c->n++;
		c->used += (uint32_t)len + 1;
		return;
	}
	if (c->set == NULL) {
		const char *it = c->buf;

		c->set = xmalloc(sizeof(*c->set));
		strset_init(c->set, false);
		for (uint32_t i = 0; i < c->n; it += c->lens[i++] + 1)
			strset_add(c->set, it, c->lens[i]);
	}
	strset_add(c->set, p, len);
}

static void gather(struct rules *r, struct kstate *k, const struct evinfo *evi)
{
	k->dkinds |= evi->dkinds;
	k->unknown |= evi->unknown;
	for (size_t i = 0; i < evi->n_cust; i++) {
		size_t len = strlen(evi->cust[i]);

		if (cust_has(&k->cust, evi->cust[i], len))
			continue;
		if (cust_count(&k->cust) >= r->lim.max_customers_per_key) {
			k->unknown = true; /* more were touched than we keep */
			r->st.bound_drops++;
			continue;
		}
		cust_add(&k->cust, evi->cust[i], len);
	}
}

static void first_match(struct rules *r, struct rule *ru, struct kstate *k,
                        const struct evinfo *evi, rules_match_fn cb, void *arg)
{
	const char *items[CUST_INLINE];
	struct gathered g;
	size_t cap = ru->win->max_prior;

	memset(&g, 0, sizeof(g));
	g.n_cust = cust_count(&k->cust);
	if (k->cust.set != NULL) {
		g.cust = (const char *const *)k->cust.set->items;
	} else if (g.n_cust > 0) {
		cust_items(&k->cust, items);
		g.cust = items;
	}
	g.dkinds = k->dkinds;
	g.unknown = k->unknown;
	g.count = k->n_events;
	if (k->prior_n > 0) {
		if (r->cap_mprior < k->prior_n) {
			r->cap_mprior = cap;
			r->mprior =
			    xreallocarray(r->mprior, cap, sizeof(*r->mprior));
		}
		for (uint32_t i = 0; i < k->prior_n; i++) {
			const struct evcopy *e =
			    k->ev[(k->prior_head + i) % cap];
			struct rules_evidence *o = &r->mprior[i];

			o->ts_us = e->ts_us;
			o->source = (enum bw_source)e->source;
			o->ref_file = e->file;
			o->ref_number = e->number;
			o->raw = e->raw;
		}
		g.prior = r->mprior;
		g.n_prior = k->prior_n;
	}
	k->matched = true;
	rules_emit(r, ru, kkey(k), true, evi, &g, cb, arg);
	drop_extras(ru->win, k);
}

/* Look a key up; a key whose state has expired starts over. */
static struct kstate *lookup(struct rule *ru, const struct aggkey *key,
                             int64_t now)
{
	struct kstate *k = find(ru->win, key);
	int64_t since;

	if (k == NULL || k->n_events == 0)
		return k;
	since =
	    (ru->agg == AGG_SEQUENCE && !k->matched) ? k->first_us : k->last_us;
	if (now - since > ru->window_us)
		reset(ru->win, k);
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

/* Count the distinct values of this event; returns how many are in the
 * window, and sets *added when the event brought a value not in it. */
static int64_t count_distinct(struct rules *r, struct rule *ru,
                              struct kstate *k, int64_t ts, bool *added)
{
	struct bw_str vals[64];
	const struct bw_str *dv;
	struct dtab *d = &k->u.dist;
	int64_t oldest = ts - ru->window_us;
	char tb[64];
	size_t n;

	k->store = STORE_DIST;
	if (ru->distinct.fk == FK_CUSTOMER) {
		/* Every id of the event counts. */
		cond_derived(r);
		dv = r->x.cust;
		n = r->x.n_cust;
	} else {
		n = cond_values(r, &ru->distinct, vals, 64, tb, sizeof(tb));
		dv = vals;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t dh = dhash(dv[i]);

		if (dtab_refresh(d, dh, ts))
			continue; /* seen again */
		if (d->n >= r->lim.max_distinct_per_key)
			dtab_purge(d, oldest);
		if (d->n >= r->lim.max_distinct_per_key) {
			r->st.bound_drops++;
			continue;
		}
		dtab_add(d, dh, ts, oldest);
		*added = true;
	}
	if (d->n >= ru->min)
		dtab_purge(d, oldest);
	return d->n;
}

void window_threshold(struct rules *r, struct rule *ru,
                      const struct aggkey *key, const struct evinfo *evi,
                      rules_match_fn cb, void *arg)
{
	int64_t ts = r->x.ev->ts_us, amt, total = 0;
	bool evidence = true;
	struct kstate *k;

	k = lookup(ru, key, ts);
	if (k == NULL)
		k = create(r, ru->win, key);
	touch(ru->win, k, ts);
	if (k->n_events > 0 && ts < k->last_us)
		ts = k->last_us; /* out of order: count it as now */
	seen(k, ts);
	if (k->matched) {
		rules_emit(r, ru, kkey(k), false, evi, NULL, cb, arg);
		return;
	}
	gather(r, k, evi);
	switch (ru->mode) {
	case THR_COUNT:
	case THR_SUM:
		amt = 1;
		if (ru->mode == THR_SUM && !cond_int(r, &ru->sum, &amt))
			amt = 0;
		k->store = STORE_RING;
		ring_expire(&k->u.ring, ts - ru->window_us);
		if (amt > 0)
			ring_push(&k->u.ring, r->lim.max_distinct_per_key, ts,
			          amt);
		total = k->u.ring.total;
		break;
	case THR_DISTINCT:
		/* Only an event that brings a new value is evidence worth a
		 * copy: the thousandth read of the same mailbox adds nothing
		 * to "ten distinct customers". */
		evidence = false;
		total = count_distinct(r, ru, k, ts, &evidence);
		break;
	}
	if (total >= 0 && (uint64_t)total >= ru->min) {
		first_match(r, ru, k, evi, cb, arg);
		return;
	}
	if (evidence)
		prior_push(r, ru->win, k);
}

void window_sequence(struct rules *r, struct rule *ru, size_t step,
                     const struct aggkey *key, rules_match_fn cb, void *arg)
{
	int64_t ts = r->x.ev->ts_us;
	struct evinfo evi;
	struct kstate *k;

	k = lookup(ru, key, ts);
	if (k != NULL && k->u.seq.gen == r->x.gen)
		return; /* one step per key per event */
	if (k == NULL) {
		if (step != 0)
			return;
		k = create(r, ru->win, key);
	}
	if (k->matched) {
		if (step != ru->n_steps - 1)
			return;
		k->u.seq.gen = r->x.gen;
		touch(ru->win, k, ts);
		seen(k, ts);
		rules_event_info(r, ru, &evi);
		rules_emit(r, ru, kkey(k), false, &evi, NULL, cb, arg);
		return;
	}
	if (step != k->step || (k->n_events == 0 && step != 0))
		return;
	k->u.seq.gen = r->x.gen;
	touch(ru->win, k, ts);
	seen(k, ts);
	rules_event_info(r, ru, &evi);
	gather(r, k, &evi);
	if (++k->u.seq.step_count >= ru->steps[step].min) {
		k->step++;
		k->u.seq.step_count = 0;
		if (k->step == ru->n_steps) {
			first_match(r, ru, k, &evi, cb, arg);
			return;
		}
	}
	prior_push(r, ru->win, k);
}
