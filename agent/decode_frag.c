/*
 * decode_frag.c - IPv4 and IPv6 fragments put back together, within bounds.
 *
 * A pending datagram holds the bytes received so far at their offsets and
 * a bitmap of the 8-byte blocks they cover; it is whole when the last
 * fragment (no "more fragments") has said its length and every block
 * before it is covered. Bounds: a number of pending datagrams (the oldest
 * is dropped for a new one) and a number of buffered bytes (a fragment
 * that does not fit is dropped), and a timeout in event time. A fragment
 * that overlaps bytes already received with different bytes drops the
 * whole datagram (overlap tricks are how IDS evasion works); identical
 * overlaps (retransmissions) are accepted.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "decode_int.h"

#define BLOCKS (DECODE_MAX_DATAGRAM / 8 + 1)

struct pending {
	bool used;
	struct frag_key key;
	int64_t first_ts;
	uint8_t *data;      /* cap bytes */
	uint32_t cap;
	uint32_t total;     /* the datagram's length; 0 until the last fragment */
	uint32_t covered;   /* blocks covered */
	uint8_t proto;      /* of the first fragment (offset 0) */
	bool have_first;
	uint8_t bits[BLOCKS / 8 + 1];
};

struct frag_table {
	struct decode_limits lim;
	uint64_t *by_reason;
	struct pending *p; /* lim.frag_max_datagrams entries */
	uint64_t bytes;    /* buffered: sum of cap */
};

struct frag_table *frag_new(const struct decode_limits *lim,
			    uint64_t *by_reason)
{
	struct frag_table *t = xcalloc(1, sizeof(*t));

	t->lim = *lim;
	if (t->lim.frag_max_datagrams == 0)
		t->lim.frag_max_datagrams = 1;
	t->by_reason = by_reason;
	t->p = xcalloc(t->lim.frag_max_datagrams, sizeof(*t->p));
	return t;
}

static void release(struct frag_table *t, struct pending *e)
{
	t->bytes -= e->cap;
	free(e->data);
	memset(e, 0, sizeof(*e));
}

void frag_destroy(struct frag_table **tp)
{
	struct frag_table *t = *tp;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->lim.frag_max_datagrams; i++)
		if (t->p[i].used)
			release(t, &t->p[i]);
	free(t->p);
	free(t);
	*tp = NULL;
}

static bool key_eq(const struct frag_key *a, const struct frag_key *b)
{
	return a->family == b->family && a->id == b->id &&
	       (a->family == 6 || a->proto == b->proto) &&
	       memcmp(a->src, b->src, 16) == 0 &&
	       memcmp(a->dst, b->dst, 16) == 0;
}

/* The datagram of k, or a fresh entry for it (dropping the oldest when
 * every entry is in use). */
static struct pending *lookup(struct frag_table *t, const struct frag_key *k,
			      int64_t ts_us)
{
	struct pending *free_e = NULL, *oldest = NULL;

	for (uint32_t i = 0; i < t->lim.frag_max_datagrams; i++) {
		struct pending *e = &t->p[i];

		if (!e->used) {
			if (free_e == NULL)
				free_e = e;
			continue;
		}
		if (key_eq(&e->key, k))
			return e;
		if (oldest == NULL || e->first_ts < oldest->first_ts)
			oldest = e;
	}
	if (free_e == NULL) {
		release(t, oldest);
		t->by_reason[DR_FRAG_LIMIT]++;
		free_e = oldest;
	}
	free_e->used = true;
	free_e->key = *k;
	free_e->first_ts = ts_us;
	return free_e;
}

static bool bit(const struct pending *e, uint32_t b)
{
	return (e->bits[b >> 3] >> (b & 7)) & 1;
}

enum decode_result frag_add(struct frag_table *t, const struct frag_key *k,
			    uint32_t off, const uint8_t *p, uint32_t len,
			    bool more, int64_t ts_us, uint8_t *out,
			    uint32_t *out_len, uint8_t *proto,
			    enum decode_reason *r)
{
	struct pending *e;
	uint32_t end = off + len, b0, b1, need;

	/* Every fragment but the last carries a multiple of 8 bytes. */
	if (len == 0 || end > DECODE_MAX_DATAGRAM || (more && len % 8 != 0) ||
	    off % 8 != 0) {
		*r = DR_FRAG_BAD;
		return DECODE_DROPPED;
	}
	e = lookup(t, k, ts_us);
	/* A second, different end, or bytes past the end (cap is the
	 * largest end received so far). */
	if ((!more && e->total != 0 && e->total != end) ||
	    (e->total != 0 && end > e->total) || (!more && e->cap > end)) {
		release(t, e);
		*r = DR_FRAG_BAD;
		return DECODE_DROPPED;
	}
	if (end > e->cap) {
		if (t->bytes + (end - e->cap) > t->lim.frag_max_bytes) {
			if (e->covered == 0)
				release(t, e);
			*r = DR_FRAG_LIMIT;
			return DECODE_DROPPED;
		}
		e->data = xreallocarray(e->data, end, 1);
		t->bytes += end - e->cap;
		e->cap = end;
	}
	/* Blocks [b0, b1) of this fragment; compare what is already there. */
	b0 = off / 8;
	b1 = (end + 7) / 8;
	for (uint32_t b = b0; b < b1; b++) {
		uint32_t s = b * 8, n = (b + 1) * 8 > end ? end - s : 8;

		if (bit(e, b) && memcmp(e->data + s, p + (s - off), n) != 0) {
			release(t, e);
			*r = DR_FRAG_OVERLAP;
			return DECODE_DROPPED;
		}
	}
	memcpy(e->data + off, p, len);
	for (uint32_t b = b0; b < b1; b++) {
		if (!bit(e, b)) {
			e->bits[b >> 3] |= (uint8_t)(1u << (b & 7));
			e->covered++;
		}
	}
	if (off == 0) {
		e->have_first = true;
		e->proto = k->proto;
	}
	if (!more)
		e->total = end;
	need = (e->total + 7) / 8;
	if (e->total == 0 || !e->have_first || e->covered < need)
		return DECODE_HELD;
	memcpy(out, e->data, e->total);
	*out_len = e->total;
	*proto = e->proto;
	release(t, e);
	return DECODE_PACKET;
}

void frag_expire(struct frag_table *t, int64_t now_us)
{
	for (uint32_t i = 0; i < t->lim.frag_max_datagrams; i++) {
		struct pending *e = &t->p[i];

		if (e->used && now_us - e->first_ts > t->lim.frag_timeout_us) {
			release(t, e);
			t->by_reason[DR_FRAG_TIMEOUT]++;
		}
	}
}
