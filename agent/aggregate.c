/*
 * aggregate.c - turning rule matches into incidents.
 *
 * Active incidents live in a chained hash table keyed by (rule id, key).
 * Two binary heaps order them by time so that agg_tick() does work only for
 * what is due:
 *  - the quiet heap holds every active incident by last_seen (event time):
 *    its top is the first to go quiet, and the least recently updated one,
 *    which is closed early when max_incidents is reached;
 *  - the due heap holds the incidents with changes not yet emitted, by the
 *    time their next revision may go out (last emission + interval).
 * Ties are broken by the order incidents were opened, so the order of
 * emitted revisions never depends on hash values.
 *
 * Emission: the first revision goes out from agg_match() when the
 * incident opens. Later changes are emitted only by agg_tick(), at most once per
 * revision_interval of event time, and carry everything that changed since
 * the last revision. agg_match() emits nothing else, with one exception: a
 * match for an incident that went quiet before the match's event time (the
 * caller did not tick in between) closes that incident first and opens a
 * new one, exactly as a tick at the match's time would have. The results
 * therefore do not depend on how often the caller ticks, only on the times.
 *
 * Containment steps (agg_step_update) are the one other source of
 * revisions: a finished step is emitted at once, whatever the interval,
 * and an incident closing with steps still pending waits on the closing
 * list, out of the table and the heaps, for its last revision.
 *
 * Evidence: for a first match, the engine's prior evidence (oldest first)
 * and then the matching event; otherwise the event alone. The first
 * max_evidence items are kept; every event a match stands for beyond those
 * kept counts in evidence_omitted, so n_evidence + evidence_omitted equals
 * event_count.
 *
 * Strings taken from events (customer ids, the actor, refs) are cleaned:
 * control bytes and invalid UTF-8 become "\xNN", so the incident always
 * encodes to valid JSON. A customer id longer than BW_INC_MAX_STR is not
 * kept, and the scope is then marked unknown.
 */
#include "aggregate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../common/event.h"
#include "../common/mask.h"
#include "../common/xmalloc.h"
#include "../common/utf8.h"

#define DEFAULT_QUIET_US      (30 * 60 * INT64_C(1000000))
#define DEFAULT_INTERVAL_US   (10 * INT64_C(1000000))
#define DEFAULT_MAX_EVIDENCE  20
#define DEFAULT_MAX_CUSTOMERS 100000
#define DEFAULT_MAX_INCIDENTS 10000

enum { HEAP_QUIET, HEAP_DUE, N_HEAPS };

#define NOT_IN_HEAP SIZE_MAX

/* Id hashes of incidents closed early, remembered (direct-mapped) so that a
 * new incident cannot take one of them. */
#define EVICTED_CACHE 4096

/* An active incident and what the aggregator keeps beside it. */
struct active {
	struct bw_incident *inc;
	char *rule_id;
	char *key;
	uint64_t hash;
	struct active *next; /* hash chain; the closing list once closing */
	uint64_t seq;        /* open order, breaks ties */
	uint64_t id_hash;    /* the number in the incident id */
	uint32_t n_emitted;  /* revisions emitted in this run */

	size_t heap_pos[N_HEAPS];
	int64_t due_us; /* when the pending change may be emitted */
	int64_t last_emit_us;
	bool dirty; /* changed since the last emitted revision */
	size_t pending; /* containment steps not finished */
	bool closing;   /* closed, waiting for its pending steps */

	/* Set of the customer ids the incident holds: open addressing over
	 * pointers to the strings in inc->customers. */
	const char **cset;
	size_t cset_cap;
};

struct heap {
	struct active **v;
	size_t n, cap;
	int which;
};

struct agg {
	struct agg_config cfg;
	char *host;
	agg_emit_fn emit;
	void *arg;

	struct active **buckets;
	size_t n_buckets; /* a power of two */
	size_t n_active;
	struct heap heaps[N_HEAPS];

	uint64_t seed; /* for table hashes only, never for ids */
	uint64_t evicted[EVICTED_CACHE]; /* id hashes closed early */
	uint64_t seq;
	uint32_t revision_base; /* run * AGG_RUN_REVISIONS */
	struct agg_stats stats;

	agg_contain_fn contain;
	void *contain_arg;
	struct active *closing; /* closed incidents waiting for their steps */
};

/*
 * Hashing. Table hashes are seeded (the keys come from outside); the
 * incident id uses the plain FNV-1a so that it is the same in every run.
 */

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME  UINT64_C(0x100000001b3)

static uint64_t fnv1a(uint64_t h, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* The murmur3 finaliser: spreads the seeded FNV state over all bits. */
static uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64_C(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

static uint64_t table_hash(uint64_t seed, const char *a, const char *b)
{
	uint64_t h = FNV_OFFSET ^ seed;

	h = fnv1a(h, a, strlen(a) + 1);
	if (b != NULL)
		h = fnv1a(h, b, strlen(b));
	return fmix64(h);
}

static uint64_t make_seed(const struct agg *a)
{
	uint64_t seed;
	struct timespec ts;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == sizeof(seed))
		return seed;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return fmix64((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
	              (uint64_t)(uintptr_t)a);
}

static int64_t sat_add(int64_t x, int64_t y)
{
	int64_t r;

	if (__builtin_add_overflow(x, y, &r))
		return y > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

static uint64_t sat_addu(uint64_t x, uint64_t y)
{
	return x > UINT64_MAX - y ? UINT64_MAX : x + y;
}

/*
 * Cleaning strings taken from events.
 */

/*
 * Copy p[0..len) with control bytes and invalid UTF-8 shown as "\xNN",
 * keeping whole characters and escapes only, at most max bytes. *cut says
 * whether some of the input did not fit. Caller owns the result.
 */
static char *clean(const char *p, size_t len, size_t max, bool *cut)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)p;
	size_t i, n = 0, cl, size;
	char *out;

	/* Each input byte takes at most 4 output bytes. */
	size = len < max / 4 ? len * 4 : max;
	out = xmalloc(size + 1);
	for (i = 0; i < len; i += cl) {
		cl = bw_utf8_len(s + i, len - i);
		if (cl == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			if (n + 4 > size)
				break;
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[s[i] >> 4];
			out[n++] = hex[s[i] & 0xf];
			cl = 1;
		} else {
			if (n + cl > size)
				break;
			memcpy(out + n, s + i, cl);
			n += cl;
		}
	}
	out[n] = '\0';
	*cut = i < len;
	return out;
}

/* clean() a NUL-terminated string (NULL is ""), cut to max if need be. */
static char *clean_str(const char *p, size_t max)
{
	bool cut;

	if (p == NULL)
		return xstrdup("");
	return clean(p, strlen(p), max, &cut);
}

/*
 * Heaps.
 */

static int64_t heap_key(const struct heap *h, const struct active *x)
{
	return h->which == HEAP_QUIET ? x->inc->last_seen_us : x->due_us;
}

static bool heap_less(const struct heap *h, const struct active *x,
                      const struct active *y)
{
	int64_t kx = heap_key(h, x), ky = heap_key(h, y);

	if (kx != ky)
		return kx < ky;
	return x->seq < y->seq;
}

static void heap_set(struct heap *h, size_t pos, struct active *x)
{
	h->v[pos] = x;
	x->heap_pos[h->which] = pos;
}

static void heap_up(struct heap *h, size_t pos)
{
	struct active *x = h->v[pos];

	while (pos > 0) {
		size_t parent = (pos - 1) / 2;

		if (!heap_less(h, x, h->v[parent]))
			break;
		heap_set(h, pos, h->v[parent]);
		pos = parent;
	}
	heap_set(h, pos, x);
}

static void heap_down(struct heap *h, size_t pos)
{
	struct active *x = h->v[pos];

	for (;;) {
		size_t l = 2 * pos + 1, r = l + 1, m = pos;
		struct active *best = x;

		if (l < h->n && heap_less(h, h->v[l], best)) {
			m = l;
			best = h->v[l];
		}
		if (r < h->n && heap_less(h, h->v[r], best))
			m = r;
		if (m == pos)
			break;
		heap_set(h, pos, h->v[m]);
		pos = m;
	}
	heap_set(h, pos, x);
}

static void heap_push(struct heap *h, struct active *x)
{
	if (h->n == h->cap) {
		h->cap = h->cap < 16 ? 16 : h->cap * 2;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	heap_set(h, h->n++, x);
	heap_up(h, h->n - 1);
}

static void heap_remove(struct heap *h, struct active *x)
{
	size_t pos = x->heap_pos[h->which];
	struct active *last;

	if (pos == NOT_IN_HEAP)
		return;
	x->heap_pos[h->which] = NOT_IN_HEAP;
	last = h->v[--h->n];
	if (last == x)
		return;
	heap_set(h, pos, last);
	heap_up(h, pos);
	heap_down(h, last->heap_pos[h->which]);
}

/* After x's key changed. */
static void heap_fix(struct heap *h, struct active *x)
{
	size_t pos = x->heap_pos[h->which];

	if (pos == NOT_IN_HEAP)
		return;
	heap_up(h, pos);
	heap_down(h, x->heap_pos[h->which]);
}

static struct active *heap_top(const struct heap *h)
{
	return h->n > 0 ? h->v[0] : NULL;
}

/*
 * The table of active incidents.
 */

static struct active **bucket_of(struct agg *a, uint64_t hash)
{
	return &a->buckets[hash & (a->n_buckets - 1)];
}

static struct active *table_find(struct agg *a, const char *rule_id,
                                 const char *key, uint64_t hash)
{
	struct active *x;

	for (x = *bucket_of(a, hash); x != NULL; x = x->next) {
		if (x->hash == hash && strcmp(x->rule_id, rule_id) == 0 &&
		    strcmp(x->key, key) == 0)
			return x;
	}
	return NULL;
}

static void table_grow(struct agg *a)
{
	struct active **old = a->buckets, *x, *next;
	size_t n_old = a->n_buckets, i;

	a->n_buckets *= 2;
	a->buckets = xcalloc(a->n_buckets, sizeof(*a->buckets));
	for (i = 0; i < n_old; i++) {
		for (x = old[i]; x != NULL; x = next) {
			struct active **b = bucket_of(a, x->hash);

			next = x->next;
			x->next = *b;
			*b = x;
		}
	}
	free(old);
}

static void table_insert(struct agg *a, struct active *x)
{
	struct active **b;

	if (a->n_active + 1 > a->n_buckets)
		table_grow(a);
	b = bucket_of(a, x->hash);
	x->next = *b;
	*b = x;
	a->n_active++;
}

static void table_remove(struct agg *a, struct active *x)
{
	struct active **pp;

	for (pp = bucket_of(a, x->hash); *pp != NULL; pp = &(*pp)->next) {
		if (*pp == x) {
			*pp = x->next;
			a->n_active--;
			return;
		}
	}
}

/*
 * The per-incident customer set.
 */

static bool cset_has(const struct agg *a, const struct active *x,
                     const char *id)
{
	size_t mask, i;

	if (x->cset_cap == 0)
		return false;
	mask = x->cset_cap - 1;
	for (i = table_hash(a->seed, id, NULL) & mask; x->cset[i] != NULL;
	     i = (i + 1) & mask) {
		if (strcmp(x->cset[i], id) == 0)
			return true;
	}
	return false;
}

static void cset_put(const struct agg *a, struct active *x, const char *id)
{
	size_t mask, i;

	mask = x->cset_cap - 1;
	for (i = table_hash(a->seed, id, NULL) & mask; x->cset[i] != NULL;
	     i = (i + 1) & mask)
		;
	x->cset[i] = id;
}

/* Add id (kept by the incident) to the set, growing it at half full. */
static void cset_add(const struct agg *a, struct active *x, const char *id)
{
	const char **old = x->cset;
	size_t old_cap = x->cset_cap, i;

	if ((x->inc->n_customers + 1) * 2 > x->cset_cap) {
		x->cset_cap = old_cap < 16 ? 16 : old_cap * 2;
		x->cset = xcalloc(x->cset_cap, sizeof(*x->cset));
		for (i = 0; i < old_cap; i++) {
			if (old[i] != NULL)
				cset_put(a, x, old[i]);
		}
		free(old);
	}
	cset_put(a, x, id);
}

/*
 * Building the incident from matches.
 */

static const char *source_name(enum bw_source s)
{
	const char *name = bw_source_name(s);

	return name != NULL ? name : "unknown";
}

/* "file:line", or "file#packet" for a capture. */
static char *make_ref(enum bw_source src, const char *file, uint64_t number)
{
	char *ref, *s;

	ref = xasprintf("%s%c%" PRIu64, file != NULL ? file : "",
	                src == BW_SRC_PCAP ? '#' : ':', number);
	s = clean_str(ref, BW_INC_MAX_STR);
	free(ref);
	return s;
}

static void add_evidence(struct bw_incident *inc, int64_t ts_us,
                         enum bw_source src, const char *file, uint64_t number,
                         const char *raw, size_t len)
{
	char excerpt[BW_INC_MAX_EXCERPT + 1];
	char *ref;

	bw_mask_excerpt(raw, len, excerpt, sizeof(excerpt));
	ref = make_ref(src, file, number);
	bw_incident_add_evidence(inc, ts_us, source_name(src), ref, excerpt);
	free(ref);
}

static void see_time(struct active *x, int64_t ts_us, bool *have)
{
	struct bw_incident *inc = x->inc;

	if (!*have) {
		inc->first_seen_us = inc->last_seen_us = ts_us;
		*have = true;
		return;
	}
	if (ts_us < inc->first_seen_us)
		inc->first_seen_us = ts_us;
	if (ts_us > inc->last_seen_us)
		inc->last_seen_us = ts_us;
}

static bool actor_has(const struct bw_incident *inc, const char *key)
{
	size_t i;

	for (i = 0; i < inc->n_actor; i++) {
		if (strcmp(inc->actor[i].key, key) == 0)
			return true;
	}
	return false;
}

/* Fill the actor's members the incident does not have yet. */
static void add_actor(struct bw_incident *inc, const struct bw_event *ev)
{
	char buf[64];
	bool cut;
	char *s;

	if (ev->src_ip.family != 0 && !actor_has(inc, "ip")) {
		bw_event_format(ev, BW_F_SRC_IP, buf, sizeof(buf));
		if (buf[0] != '\0')
			bw_incident_set_actor(inc, "ip", buf);
	}
	if (ev->principal.len > 0 && ev->principal.p != NULL &&
	    !actor_has(inc, "user")) {
		s = clean(ev->principal.p, ev->principal.len, BW_INC_MAX_STR,
		          &cut);
		bw_incident_set_actor(inc, "user", s);
		free(s);
	}
}

static void add_customers(struct agg *a, struct active *x,
                          const struct rules_match *m)
{
	struct bw_incident *inc = x->inc;
	bool cut;
	size_t i;
	char *id;

	for (i = 0; i < m->n_customers; i++) {
		if (m->customers[i] == NULL || m->customers[i][0] == '\0')
			continue;
		id = clean(m->customers[i], strlen(m->customers[i]),
		           BW_INC_MAX_STR, &cut);
		if (cut) {
			/* Too long to be a real id: the scope is unsure. */
			free(id);
			inc->affected_unknown = true;
			a->stats.customers_dropped++;
			continue;
		}
		if (cset_has(a, x, id)) {
			free(id);
			continue;
		}
		if (inc->n_customers >= a->cfg.max_customers) {
			inc->affected_unknown = true;
			a->stats.customers_dropped++;
			free(id);
			continue;
		}
		bw_incident_add_customer(inc, id);
		free(id);
		cset_add(a, x, inc->customers[inc->n_customers - 1]);
	}
	if (m->affected_unknown)
		inc->affected_unknown = true;
}

static void add_data_kinds(struct bw_incident *inc, const struct rules_match *m)
{
	size_t i, k;
	char *kind;

	for (i = 0; i < m->n_data_kinds; i++) {
		if (m->data_kinds[i] == NULL || m->data_kinds[i][0] == '\0')
			continue;
		kind = clean_str(m->data_kinds[i], BW_INC_MAX_STR);
		for (k = 0; k < inc->n_data_kinds; k++) {
			if (strcmp(inc->data_kinds[k], kind) == 0)
				break;
		}
		if (k == inc->n_data_kinds &&
		    inc->n_data_kinds < BW_INC_MAX_DATA_KINDS)
			bw_incident_add_data_kind(inc, kind);
		free(kind);
	}
}

/* Add what m brings to x's incident. */
static void apply(struct agg *a, struct active *x, const struct rules_match *m,
                  bool have_time)
{
	struct bw_incident *inc = x->inc;
	const struct bw_event *ev = m->ev;
	uint64_t count, kept = 0;
	size_t i;

	if (m->first) {
		for (i = 0; i < m->n_prior; i++) {
			const struct rules_evidence *p = &m->prior[i];

			see_time(x, p->ts_us, &have_time);
			if (inc->n_evidence >= a->cfg.max_evidence)
				continue;
			add_evidence(inc, p->ts_us, p->source, p->ref_file,
			             p->ref_number, p->raw,
			             p->raw != NULL ? strlen(p->raw) : 0);
			kept++;
		}
	}
	if (ev != NULL) {
		see_time(x, ev->ts_us, &have_time);
		if (inc->n_evidence < a->cfg.max_evidence) {
			add_evidence(inc, ev->ts_us, ev->source, ev->ref.file,
			             ev->ref.number, ev->raw.p, ev->raw.len);
			kept++;
		}
		add_actor(inc, ev);
	}
	count = m->event_count > 0 ? m->event_count : 1;
	inc->event_count = sat_addu(inc->event_count, count);
	if (count > kept)
		inc->evidence_omitted =
		    sat_addu(inc->evidence_omitted, count - kept);
	add_customers(a, x, m);
	add_data_kinds(inc, m);
}

/* The event time a match happened at. */
static int64_t match_time(const struct rules_match *m)
{
	if (m->ev != NULL)
		return m->ev->ts_us;
	if (m->n_prior > 0)
		return m->prior[m->n_prior - 1].ts_us;
	return 0;
}

/* Was an incident with this id hash closed early by eviction lately? */
static bool evicted_has(const struct agg *a, uint64_t h)
{
	return h != 0 && a->evicted[h % EVICTED_CACHE] == h;
}

/*
 * "bw-" and 16 hex digits of FNV-1a over (host, rule, key, first_seen).
 * An incident evicted at max_incidents may see its key match again at the
 * same first_seen (a burst within one tick of a log's clock): the new
 * incident must not take the old one's id, which the notifier would take
 * for a resend. Such an id is hashed once more, which is as deterministic
 * as the input order.
 */
static uint64_t make_id(const struct agg *a, const char *rule_id,
                        const char *key, int64_t first_seen_us)
{
	char num[32];
	uint64_t h = FNV_OFFSET;

	snprintf(num, sizeof(num), "%" PRId64, first_seen_us);
	h = fnv1a(h, a->host, strlen(a->host) + 1);
	h = fnv1a(h, rule_id, strlen(rule_id) + 1);
	h = fnv1a(h, key, strlen(key) + 1);
	h = fnv1a(h, num, strlen(num));
	while (evicted_has(a, h))
		h = fnv1a(h, "+", 1);
	return h;
}

/* Emit x's next revision, numbered in this run's block (aggregate.h):
 * a change that is not the closing revision is withheld once only the
 * block's last number is left. */
static void emit(struct agg *a, struct active *x, int64_t now_us)
{
	x->dirty = false;
	heap_remove(&a->heaps[HEAP_DUE], x);
	if (!x->inc->closed && x->n_emitted >= AGG_RUN_REVISIONS - 2) {
		a->stats.revisions_withheld++;
		return;
	}
	x->n_emitted++;
	x->inc->revision = a->revision_base + x->n_emitted;
	x->last_emit_us = now_us;
	a->stats.revisions++;
	if (a->emit != NULL)
		a->emit(x->inc, a->arg);
}

static void free_active(struct active *x)
{
	bw_incident_destroy(&x->inc);
	free(x->cset);
	free(x->rule_id);
	free(x->key);
	free(x);
}

/* Emit the last revision (closed = true) and forget the incident. One
 * with containment steps pending leaves the table and waits on the
 * closing list instead (agg_step_update closes it). */
static void close_active(struct agg *a, struct active *x, int64_t now_us)
{
	heap_remove(&a->heaps[HEAP_QUIET], x);
	table_remove(a, x);
	if (x->pending > 0) {
		heap_remove(&a->heaps[HEAP_DUE], x);
		x->closing = true;
		x->next = a->closing;
		a->closing = x;
		return;
	}
	x->inc->closed = true;
	emit(a, x, now_us);
	a->stats.closed++;
	free_active(x);
}

/* x changed: its next revision is due one interval after the last. */
static void mark_dirty(struct agg *a, struct active *x)
{
	if (x->dirty)
		return;
	x->dirty = true;
	x->due_us = sat_add(x->last_emit_us, a->cfg.revision_interval_us);
	heap_push(&a->heaps[HEAP_DUE], x);
}

static struct active *open_active(struct agg *a, const struct rules_match *m,
                                  const char *key, uint64_t hash)
{
	const struct rule_info *r = m->rule;
	struct bw_incident *inc;
	struct active *x;
	size_t i;

	x = xcalloc(1, sizeof(*x));
	for (i = 0; i < N_HEAPS; i++)
		x->heap_pos[i] = NOT_IN_HEAP;
	x->rule_id = xstrdup(r->id);
	x->key = xstrdup(key);
	x->hash = hash;
	x->seq = a->seq++;
	x->inc = inc = bw_incident_new();
	inc->rule = clean_str(r->id, BW_INC_MAX_STR);
	inc->category = clean_str(r->category, BW_INC_MAX_STR);
	/* The decoder refuses an unknown severity; the engine should never
	 * hand one over, but an incident must not get lost for it. */
	inc->severity =
	    bw_severity_name(r->severity) != NULL ? r->severity : BW_SEV_MEDIUM;
	inc->title =
	    clean_str(r->title != NULL ? r->title : r->id, BW_INC_MAX_STR);
	inc->summary = m->summary != NULL
	                   ? clean_str(m->summary, BW_INC_MAX_STR)
	                   : xstrdup(inc->title);
	inc->host = xstrdup(a->host);
	inc->notify_customers = r->notify_customers;
	inc->credentials = r->credentials;
	apply(a, x, m, false);
	x->id_hash = make_id(a, r->id, key, inc->first_seen_us);
	inc->id = xasprintf("bw-%016" PRIx64, x->id_hash);
	table_insert(a, x);
	heap_push(&a->heaps[HEAP_QUIET], x);
	a->stats.opened++;
	return x;
}

struct agg *agg_new(const struct agg_config *cfg, agg_emit_fn emit_fn,
                    void *arg)
{
	struct agg *a;
	size_t i;

	a = xcalloc(1, sizeof(*a));
	if (cfg != NULL)
		a->cfg = *cfg;
	a->host = clean_str(a->cfg.host, BW_INC_MAX_STR);
	a->cfg.host = a->host;
	if (a->cfg.quiet_period_us <= 0)
		a->cfg.quiet_period_us = DEFAULT_QUIET_US;
	if (a->cfg.revision_interval_us <= 0)
		a->cfg.revision_interval_us = DEFAULT_INTERVAL_US;
	if (a->cfg.max_evidence == 0)
		a->cfg.max_evidence = DEFAULT_MAX_EVIDENCE;
	if (a->cfg.max_evidence > BW_INC_MAX_EVIDENCE)
		a->cfg.max_evidence = BW_INC_MAX_EVIDENCE;
	if (a->cfg.max_customers == 0)
		a->cfg.max_customers = DEFAULT_MAX_CUSTOMERS;
	if (a->cfg.max_customers > BW_INC_MAX_CUSTOMERS)
		a->cfg.max_customers = BW_INC_MAX_CUSTOMERS;
	if (a->cfg.max_incidents == 0)
		a->cfg.max_incidents = DEFAULT_MAX_INCIDENTS;
	a->emit = emit_fn;
	a->arg = arg;
	a->n_buckets = 64;
	a->buckets = xcalloc(a->n_buckets, sizeof(*a->buckets));
	for (i = 0; i < N_HEAPS; i++)
		a->heaps[i].which = (int)i;
	a->seed = make_seed(a);
	return a;
}

void agg_destroy(struct agg **ap)
{
	struct agg *a;
	struct active *x, *next;
	size_t i;

	if (ap == NULL || *ap == NULL)
		return;
	a = *ap;
	for (i = 0; i < a->n_buckets; i++) {
		for (x = a->buckets[i]; x != NULL; x = next) {
			next = x->next;
			free_active(x);
		}
	}
	for (x = a->closing; x != NULL; x = next) {
		next = x->next;
		free_active(x);
	}
	free(a->buckets);
	for (i = 0; i < N_HEAPS; i++)
		free(a->heaps[i].v);
	free(a->host);
	free(a);
	*ap = NULL;
}

void agg_match(struct agg *a, const struct rules_match *m)
{
	struct active *x;
	const char *key;
	uint64_t hash;
	int64_t ts;

	if (a == NULL || m == NULL || m->rule == NULL || m->rule->id == NULL)
		return;
	if (m->ev == NULL && m->n_prior == 0)
		return; /* nothing happened at any time */
	key = m->key != NULL ? m->key : "";
	ts = match_time(m);
	hash = table_hash(a->seed, m->rule->id, key);
	x = table_find(a, m->rule->id, key, hash);
	if (x != NULL &&
	    sat_add(x->inc->last_seen_us, a->cfg.quiet_period_us) <= ts) {
		/* It went quiet before this match: close it as a tick would
		 * have, and open a new incident below. */
		close_active(
		    a, x,
		    sat_add(x->inc->last_seen_us, a->cfg.quiet_period_us));
		x = NULL;
	}
	if (x == NULL) {
		while (a->n_active >= a->cfg.max_incidents) {
			struct active *oldest = heap_top(&a->heaps[HEAP_QUIET]);

			a->stats.incidents_evicted++;
			a->evicted[oldest->id_hash % EVICTED_CACHE] =
			    oldest->id_hash;
			close_active(a, oldest, ts);
		}
		x = open_active(a, m, key, hash);
		if (a->contain != NULL && m->rule->n_actions > 0)
			x->pending = a->contain(x->inc, m, a->contain_arg);
		emit(a, x, ts);
		return;
	}
	apply(a, x, m, true);
	heap_fix(&a->heaps[HEAP_QUIET], x);
	mark_dirty(a, x);
}

void agg_tick(struct agg *a, int64_t now_us)
{
	struct active *x;

	if (a == NULL)
		return;
	/* Close what went quiet first: its last revision carries any
	 * pending change, so there is no point sending that one apart. */
	while ((x = heap_top(&a->heaps[HEAP_QUIET])) != NULL &&
	       sat_add(x->inc->last_seen_us, a->cfg.quiet_period_us) <= now_us)
		close_active(a, x, now_us);
	while ((x = heap_top(&a->heaps[HEAP_DUE])) != NULL &&
	       x->due_us <= now_us)
		emit(a, x, now_us);
}

void agg_flush(struct agg *a)
{
	struct active *x;

	if (a == NULL)
		return;
	/* Oldest first, so the order is the same in every run. */
	while ((x = heap_top(&a->heaps[HEAP_QUIET])) != NULL)
		close_active(a, x, x->inc->last_seen_us);
}

void agg_get_stats(const struct agg *a, struct agg_stats *out)
{
	*out = a->stats;
	out->active = a->n_active;
}

void agg_set_run(struct agg *a, uint32_t run)
{
	if (run > AGG_MAX_RUN)
		run = AGG_MAX_RUN;
	a->revision_base = run * AGG_RUN_REVISIONS;
}

void agg_set_contain(struct agg *a, agg_contain_fn fn, void *arg)
{
	a->contain = fn;
	a->contain_arg = fn != NULL ? arg : NULL;
}

/* The incident ref names: open, or closing; NULL if neither. *prev is set
 * to the closing list's link that points to it. */
static struct active *find_ref(struct agg *a, const struct agg_step_ref *ref,
                               struct active ***prev)
{
	struct active *x, **pp;

	*prev = NULL;
	x = table_find(a, ref->rule, ref->key,
	               table_hash(a->seed, ref->rule, ref->key));
	if (x != NULL && strcmp(x->inc->id, ref->incident_id) == 0)
		return x;
	for (pp = &a->closing; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->inc->id, ref->incident_id) == 0) {
			*prev = pp;
			return *pp;
		}
	}
	return NULL;
}

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = xstrdup(src != NULL ? src : "");
}

int agg_step_update(struct agg *a, const struct agg_step_ref *ref,
                    int64_t started_us, int64_t finished_us,
                    const char *status, const char *detail, bool final)
{
	struct active *x, **prev;
	struct bw_step *s;

	x = find_ref(a, ref, &prev);
	if (x == NULL || ref->step >= x->inc->n_steps)
		return -1;
	s = &x->inc->steps[ref->step];
	s->started_us = started_us;
	s->finished_us = finished_us;
	set_str(&s->status, status);
	set_str(&s->detail, detail);
	if (!final) {
		if (!x->closing)
			mark_dirty(a, x);
		return 0;
	}
	if (x->pending > 0)
		x->pending--;
	if (x->closing && x->pending == 0) {
		*prev = x->next;
		x->inc->closed = true;
		emit(a, x, x->last_emit_us);
		a->stats.closed++;
		free_active(x);
		return 0;
	}
	/* At once; last_emit_us stays, so the revision interval of the
	 * matches' own revisions is not pushed back. */
	emit(a, x, x->last_emit_us);
	return 0;
}
