/*
 * flow.c - the flow table (see flow.h).
 *
 * Flows live in one array of max_flows entries allocated at creation; a
 * chained hash (indices, not pointers) finds them by either orientation
 * of their endpoints, with a seeded hash so that crafted addresses cannot
 * pile into one chain predictably. Three lists in order of last activity
 * (TCP, UDP/ICMP, lingering ended TCP) make expiry a walk from the oldest
 * end of each, and eviction takes the oldest flow of all.
 */
#include "flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../common/xmalloc.h"

#define NIL UINT32_MAX

enum { L_TCP, L_OTHER, L_LINGER, L__COUNT, L_FREE = 0xff };

struct list {
	uint32_t head, tail; /* oldest, newest */
	uint32_t n;
};

struct flow_table {
	struct flow_limits lim;
	flow_open_fn on_open;
	flow_end_fn on_end;
	void *arg;
	struct flow *f;    /* lim.max_flows entries */
	uint32_t *bucket;  /* nbuckets heads */
	uint32_t mask;     /* nbuckets - 1 */
	uint32_t free_head;
	uint32_t used;
	struct list lists[L__COUNT];
	uint64_t seed;
	uint64_t next_id;
	struct flow_stats st;
};

struct key {
	uint8_t a[16], b[16];
	uint16_t pa, pb;
	uint8_t proto, family;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xbf58476d1ce4e5b9ULL;
	return h ^ (h >> 31);
}

static uint64_t word(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Symmetric: both orientations of an endpoint pair hash alike. */
static uint32_t hash_of(const struct flow_table *t, const struct bw_addr *x,
			uint16_t px, const struct bw_addr *y, uint16_t py,
			uint8_t proto)
{
	uint64_t hx = t->seed, hy = t->seed;

	hx = mix(mix(mix(hx, word(x->bytes)), word(x->bytes + 8)), px);
	hy = mix(mix(mix(hy, word(y->bytes)), word(y->bytes + 8)), py);
	return (uint32_t)mix(hx ^ hy, (uint64_t)proto << 8 | x->family);
}

static bool addr_eq(const struct bw_addr *a, const struct bw_addr *b)
{
	return a->family == b->family &&
	       memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

static void list_unlink(struct flow_table *t, struct flow *f)
{
	struct list *l = &t->lists[f->list];
	uint32_t i = (uint32_t)(f - t->f);

	if (f->prev != NIL)
		t->f[f->prev].next = f->next;
	else
		l->head = f->next;
	if (f->next != NIL)
		t->f[f->next].prev = f->prev;
	else
		l->tail = f->prev;
	f->prev = f->next = NIL;
	l->n--;
	(void)i;
}

static void list_append(struct flow_table *t, struct flow *f, uint8_t which)
{
	struct list *l = &t->lists[which];
	uint32_t i = (uint32_t)(f - t->f);

	f->list = which;
	f->next = NIL;
	f->prev = l->tail;
	if (l->tail != NIL)
		t->f[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
	l->n++;
}

struct flow_table *flow_table_new(const struct flow_limits *lim,
				  flow_open_fn on_open, flow_end_fn on_end,
				  void *arg)
{
	struct flow_table *t = xcalloc(1, sizeof(*t));
	uint32_t nb = 16;

	t->lim = lim != NULL ? *lim : FLOW_LIMITS_DEFAULT;
	if (t->lim.max_flows < FLOW_MAX_FLOWS_MIN)
		t->lim.max_flows = FLOW_MAX_FLOWS_MIN;
	if (t->lim.max_flows > FLOW_MAX_FLOWS_MAX)
		t->lim.max_flows = FLOW_MAX_FLOWS_MAX;
	t->on_open = on_open;
	t->on_end = on_end;
	t->arg = arg;
	t->f = xcalloc(t->lim.max_flows, sizeof(*t->f));
	while (nb < t->lim.max_flows * 2)
		nb *= 2;
	t->bucket = xmalloc((size_t)nb * sizeof(*t->bucket));
	memset(t->bucket, 0xff, (size_t)nb * sizeof(*t->bucket));
	t->mask = nb - 1;
	for (uint32_t i = 0; i < t->lim.max_flows; i++) {
		t->f[i].list = L_FREE;
		t->f[i].hnext = i + 1 < t->lim.max_flows ? i + 1 : NIL;
	}
	t->free_head = 0;
	for (int l = 0; l < L__COUNT; l++)
		t->lists[l] = (struct list){ NIL, NIL, 0 };
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x5bd1e995u;
	return t;
}

void flow_table_destroy(struct flow_table **tp)
{
	struct flow_table *t = *tp;

	if (t == NULL)
		return;
	free(t->f);
	free(t->bucket);
	free(t);
	*tp = NULL;
}

/* Take f out of its chain and list, back to the free list. */
static void release(struct flow_table *t, struct flow *f)
{
	uint32_t i = (uint32_t)(f - t->f);
	uint32_t *pp = &t->bucket[f->hash & t->mask];

	while (*pp != i)
		pp = &t->f[*pp].hnext;
	*pp = f->hnext;
	list_unlink(t, f);
	memset(f, 0, sizeof(*f));
	f->list = L_FREE;
	f->hnext = t->free_head;
	t->free_head = i;
	t->used--;
}

static void end_flow(struct flow_table *t, struct flow *f, enum flow_end why,
		     int64_t ts_us)
{
	if (f->ended)
		return;
	f->ended = true;
	t->st.active--;
	switch (why) {
	case FLOW_END_FIN:
		t->st.ended_fin++;
		break;
	case FLOW_END_RST:
		t->st.ended_rst++;
		break;
	case FLOW_END_TIMEOUT:
		t->st.ended_timeout++;
		break;
	case FLOW_END_EVICTED:
		t->st.evicted++;
		break;
	case FLOW_END_SHUTDOWN:
		t->st.ended_shutdown++;
		break;
	}
	if (t->on_end != NULL)
		t->on_end(t->arg, f, why, ts_us);
}

static int64_t timeout_of(const struct flow_table *t, uint8_t list)
{
	switch (list) {
	case L_TCP:
		return t->lim.tcp_timeout_us;
	case L_OTHER:
		return t->lim.udp_timeout_us;
	default:
		return t->lim.linger_us;
	}
}

void flow_expire(struct flow_table *t, int64_t now_us)
{
	for (uint8_t l = 0; l < L__COUNT; l++) {
		int64_t to = timeout_of(t, l);

		while (t->lists[l].head != NIL) {
			struct flow *f = &t->f[t->lists[l].head];

			if (now_us - f->last_ts <= to)
				break;
			end_flow(t, f, FLOW_END_TIMEOUT, now_us);
			release(t, f);
		}
	}
}

/* Make room: drop a lingering flow, else end the oldest active one. */
static void evict(struct flow_table *t, int64_t ts_us)
{
	struct flow *victim = NULL;

	if (t->lists[L_LINGER].head != NIL) {
		victim = &t->f[t->lists[L_LINGER].head];
	} else {
		for (uint8_t l = L_TCP; l <= L_OTHER; l++) {
			struct flow *f;

			if (t->lists[l].head == NIL)
				continue;
			f = &t->f[t->lists[l].head];
			if (victim == NULL || f->last_ts < victim->last_ts)
				victim = f;
		}
		end_flow(t, victim, FLOW_END_EVICTED, ts_us);
	}
	release(t, victim);
}

static struct flow *lookup(struct flow_table *t, const struct decode_pkt *p,
			   uint32_t h, int *dir)
{
	for (uint32_t i = t->bucket[h & t->mask]; i != NIL; i = t->f[i].hnext) {
		struct flow *f = &t->f[i];

		if (f->hash != h || f->proto != p->proto)
			continue;
		if (f->cport == p->sport && f->sport == p->dport &&
		    addr_eq(&f->client, &p->src) &&
		    addr_eq(&f->server, &p->dst)) {
			*dir = FLOW_C2S;
			return f;
		}
		if (f->cport == p->dport && f->sport == p->sport &&
		    addr_eq(&f->client, &p->dst) &&
		    addr_eq(&f->server, &p->src)) {
			*dir = FLOW_S2C;
			return f;
		}
	}
	return NULL;
}

/* Whether the sender of the first packet seen is the server. */
static bool sender_is_server(const struct decode_pkt *p)
{
	if (p->proto == DP_TCP) {
		if ((p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
			return false;
		if ((p->tcp_flags & (TCPF_SYN | TCPF_ACK)) ==
		    (TCPF_SYN | TCPF_ACK))
			return true;
		return p->sport < p->dport;
	}
	if (p->proto == DP_UDP)
		return p->sport < 1024 && p->dport >= 1024;
	/* ICMP: echo replies (0, 129) come from the server. */
	return p->icmp_type == 0 || p->icmp_type == 129;
}

static struct flow *create(struct flow_table *t, const struct decode_pkt *p,
			   uint32_t h, int *dir)
{
	struct flow *f;
	uint32_t i;

	if (t->free_head == NIL)
		evict(t, p->ts_us);
	i = t->free_head;
	f = &t->f[i];
	t->free_head = f->hnext;
	memset(f, 0, sizeof(*f));
	if (sender_is_server(p)) {
		f->client = p->dst;
		f->cport = p->dport;
		f->server = p->src;
		f->sport = p->sport;
		*dir = FLOW_S2C;
	} else {
		f->client = p->src;
		f->cport = p->sport;
		f->server = p->dst;
		f->sport = p->dport;
		*dir = FLOW_C2S;
	}
	f->proto = p->proto;
	f->hash = h;
	f->first_ts = f->last_ts = p->ts_us;
	f->id = ++t->next_id;
	f->hnext = t->bucket[h & t->mask];
	t->bucket[h & t->mask] = i;
	list_append(t, f, p->proto == DP_TCP ? L_TCP : L_OTHER);
	t->used++;
	t->st.created++;
	t->st.active++;
	if (t->used > t->st.peak)
		t->st.peak = t->used;
	return f;
}

struct flow *flow_packet(struct flow_table *t, const struct decode_pkt *p,
			 int *dir)
{
	uint32_t h = hash_of(t, &p->src, p->sport, &p->dst, p->dport,
			     p->proto);
	struct flow *f;
	bool opened = false;

	flow_expire(t, p->ts_us);
	f = lookup(t, p, h, dir);
	if (f != NULL && f->ended) {
		/* A new connection on the same ports starts with a SYN. */
		if (p->proto == DP_TCP &&
		    (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN) {
			release(t, f);
			f = NULL;
		} else {
			return NULL;
		}
	}
	if (f == NULL) {
		f = create(t, p, h, dir);
		opened = true;
	} else {
		list_unlink(t, f);
		list_append(t, f, f->list);
	}
	if (p->ts_us > f->last_ts)
		f->last_ts = p->ts_us;
	f->dir[*dir].packets++;
	f->dir[*dir].bytes += p->ip_len;
	f->dir[*dir].payload += p->payload_wire;
	if (p->proto == DP_TCP) {
		if (p->tcp_flags & TCPF_SYN) {
			if (p->tcp_flags & TCPF_ACK)
				f->synack = true;
			else if (*dir == FLOW_C2S)
				f->syn = true;
		}
		if (p->tcp_flags & TCPF_FIN)
			f->fin[*dir] = true;
		if (p->tcp_flags & TCPF_RST)
			f->rst = true;
	}
	/* Opened once its first packet is counted (the SYN seen or not). */
	if (opened && t->on_open != NULL)
		t->on_open(t->arg, f, p->ts_us);
	return f;
}

void flow_settle(struct flow_table *t, struct flow *f, int64_t ts_us)
{
	if (f->ended || f->proto != DP_TCP)
		return;
	if (!f->rst && !(f->fin[0] && f->fin[1]))
		return;
	end_flow(t, f, f->rst ? FLOW_END_RST : FLOW_END_FIN, ts_us);
	list_unlink(t, f);
	list_append(t, f, L_LINGER);
}

void flow_flush(struct flow_table *t, int64_t now_us)
{
	for (uint8_t l = 0; l < L__COUNT; l++)
		while (t->lists[l].head != NIL) {
			struct flow *f = &t->f[t->lists[l].head];

			end_flow(t, f, FLOW_END_SHUTDOWN, now_us);
			release(t, f);
		}
}

void flow_get_stats(const struct flow_table *t, struct flow_stats *st)
{
	*st = t->st;
}

const char *flow_end_name(enum flow_end why)
{
	static const char *const names[] = {
		[FLOW_END_FIN] = "fin",
		[FLOW_END_RST] = "rst",
		[FLOW_END_TIMEOUT] = "timeout",
		[FLOW_END_EVICTED] = "evicted",
		[FLOW_END_SHUTDOWN] = "end",
	};

	if ((unsigned)why >= sizeof(names) / sizeof(names[0]))
		return NULL;
	return names[why];
}
