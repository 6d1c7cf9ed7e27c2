/*
 * stream.c - TCP reassembly of one direction (see stream.h).
 *
 * Sequence numbers compare modulo 2^32 (seq_lt). A segment covers
 * [seq, seq + wire); of it, the first len bytes were captured.
 */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "decode.h"

struct stream_seg {
	struct stream_seg *next;
	uint32_t seq;
	uint32_t len;  /* captured bytes at data */
	uint32_t wire; /* bytes covered */
	uint8_t data[];
};

static bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

void stream_ctx_init(struct stream_ctx *c, const struct stream_limits *lim)
{
	memset(c, 0, sizeof(*c));
	c->lim = lim != NULL ? *lim : STREAM_LIMITS_DEFAULT;
}

void stream_init(struct stream *s)
{
	memset(s, 0, sizeof(*s));
}

static void gap(struct stream_ctx *c, uint32_t n, stream_fn fn, void *arg)
{
	if (n == 0)
		return;
	c->st.gaps++;
	c->st.gap_bytes += n;
	fn(arg, NULL, n);
}

/* Pass on the part of [seq, seq + wire) at or after s->next. */
static void deliver(struct stream_ctx *c, struct stream *s, uint32_t seq,
		    const uint8_t *data, uint32_t len, uint32_t wire,
		    stream_fn fn, void *arg)
{
	uint32_t skip = s->next - seq; /* seq <= next here */

	if (skip >= wire)
		return;
	if (skip < len) {
		c->st.bytes += len - skip;
		fn(arg, data + skip, len - skip);
	}
	/* bytes cut by the snapshot length */
	if (wire > len)
		gap(c, wire - (skip > len ? skip : len), fn, arg);
	s->next = seq + wire;
}

static void unhold(struct stream_ctx *c, struct stream *s,
		   struct stream_seg *g)
{
	s->held = g->next;
	s->held_bytes -= g->len;
	s->held_n--;
	c->st.held_now -= g->len;
	free(g);
}

/* Pass on held segments that are now in order. */
static void drain(struct stream_ctx *c, struct stream *s, stream_fn fn,
		  void *arg)
{
	while (s->held != NULL && !seq_lt(s->next, s->held->seq)) {
		struct stream_seg *g = s->held;

		deliver(c, s, g->seq, g->data, g->len, g->wire, fn, arg);
		unhold(c, s, g);
	}
}

/* Give up on the hole before the first held segment. */
static void skip_hole(struct stream_ctx *c, struct stream *s, stream_fn fn,
		      void *arg)
{
	gap(c, s->held->seq - s->next, fn, arg);
	s->next = s->held->seq;
	drain(c, s, fn, arg);
}

static void hold(struct stream_ctx *c, struct stream *s, uint32_t seq,
		 const uint8_t *data, uint32_t len, uint32_t wire)
{
	struct stream_seg **pp = &s->held, *g;

	while (*pp != NULL && seq_lt((*pp)->seq, seq))
		pp = &(*pp)->next;
	if (*pp != NULL && (*pp)->seq == seq && (*pp)->wire >= wire) {
		c->st.retransmitted++;
		return;
	}
	g = xmalloc(sizeof(*g) + len);
	g->seq = seq;
	g->len = len;
	g->wire = wire;
	if (len > 0) /* a segment cut to nothing by the snapshot length: none */
		memcpy(g->data, data, len);
	g->next = *pp;
	*pp = g;
	s->held_bytes += len;
	s->held_n++;
	c->st.held++;
	c->st.held_now += len;
	if (c->st.held_now > c->st.held_peak)
		c->st.held_peak = c->st.held_now;
}

void stream_segment(struct stream_ctx *c, struct stream *s, uint8_t flags,
		    uint32_t seq, const uint8_t *data, uint32_t len,
		    uint32_t wire, stream_fn fn, void *arg)
{
	if (wire < len)
		wire = len;
	c->st.segments++;
	if (flags & TCPF_SYN) {
		/* The SYN takes one sequence number; data on a SYN follows. */
		s->started = true;
		s->next = seq + 1;
		seq++;
	}
	if (wire == 0)
		return;
	if (!s->started) { /* joined midway: start here */
		s->started = true;
		s->next = seq;
	}
	if (!seq_lt(s->next, seq + wire)) {
		c->st.retransmitted++; /* nothing new */
		return;
	}
	if (!seq_lt(s->next, seq)) { /* seq <= next: in order */
		deliver(c, s, seq, data, len, wire, fn, arg);
		drain(c, s, fn, arg);
		return;
	}
	/* Out of order: hold it if the bounds allow, else give up on the
	 * hole before it. */
	if (s->held_bytes + len > c->lim.max_held_bytes ||
	    s->held_n + 1 > c->lim.max_held_segments ||
	    c->st.held_now + len > c->lim.max_total_bytes) {
		while (s->held != NULL && seq_lt(s->held->seq, seq))
			skip_hole(c, s, fn, arg);
		if (seq_lt(s->next, seq)) {
			gap(c, seq - s->next, fn, arg);
			s->next = seq;
		}
		deliver(c, s, seq, data, len, wire, fn, arg);
		drain(c, s, fn, arg);
		return;
	}
	hold(c, s, seq, data, len, wire);
}

void stream_flush(struct stream_ctx *c, struct stream *s, stream_fn fn,
		  void *arg)
{
	while (s->held != NULL)
		skip_hole(c, s, fn, arg);
}

void stream_free(struct stream_ctx *c, struct stream *s)
{
	while (s->held != NULL)
		unhold(c, s, s->held);
}
