/*
 * test_flow.c - agent/flow.c (both directions, client and server, ends by
 * FIN, RST, timeout and eviction, lingering) and agent/stream.c (order,
 * holes, retransmissions, bounds, cut segments, wrapping sequence numbers).
 */
#include <check.h>
#include <string.h>

#include "../../agent/flow.h"
#include "../../agent/stream.h"
#include "check_main.h"
#include "pktgen.h"

struct log {
	int opened, ended;
	enum flow_end last_end;
	uint64_t last_id;
};

static void on_open(void *arg, struct flow *f, int64_t ts)
{
	struct log *l = arg;

	(void)ts;
	l->opened++;
	f->user = l; /* must be released by on_end */
}

static void on_end(void *arg, struct flow *f, enum flow_end why, int64_t ts)
{
	struct log *l = arg;

	(void)ts;
	ck_assert_ptr_eq(f->user, l);
	f->user = NULL;
	l->ended++;
	l->last_end = why;
	l->last_id = f->id;
}

static struct decode_pkt pkt(const char *src, uint16_t sp, const char *dst,
			     uint16_t dp, uint8_t proto, uint8_t flags,
			     int64_t ts, uint32_t len)
{
	struct decode_pkt p = { .ts_us = ts, .proto = proto, .sport = sp,
				.dport = dp, .tcp_flags = flags,
				.ip_len = 40 + len, .payload_wire = len };
	struct pg_ep a = pg_ep(src, sp), b = pg_ep(dst, dp);

	p.src.family = (uint8_t)a.family;
	p.dst.family = (uint8_t)b.family;
	memcpy(p.src.bytes, a.addr, 16);
	memcpy(p.dst.bytes, b.addr, 16);
	return p;
}

START_TEST(tcp_lifecycle)
{
	struct log l = { 0 };
	struct flow_table *t = flow_table_new(NULL, on_open, on_end, &l);
	struct decode_pkt p;
	struct flow *f, *g;
	struct flow_stats st;
	int dir;

	p = pkt("10.0.0.1", 50000, "10.0.0.2", 5432, DP_TCP, TCPF_SYN, 1, 0);
	f = flow_packet(t, &p, &dir);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(dir, FLOW_C2S);
	ck_assert_int_eq(l.opened, 1);
	ck_assert(f->syn);
	ck_assert_uint_eq(f->sport, 5432);
	p = pkt("10.0.0.2", 5432, "10.0.0.1", 50000, DP_TCP,
		TCPF_SYN | TCPF_ACK, 2, 0);
	g = flow_packet(t, &p, &dir);
	ck_assert_ptr_eq(g, f);
	ck_assert_int_eq(dir, FLOW_S2C);
	ck_assert(f->synack);
	p = pkt("10.0.0.1", 50000, "10.0.0.2", 5432, DP_TCP, TCPF_ACK, 3, 100);
	flow_packet(t, &p, &dir);
	p = pkt("10.0.0.2", 5432, "10.0.0.1", 50000, DP_TCP, TCPF_ACK, 4, 1000);
	flow_packet(t, &p, &dir);
	ck_assert_uint_eq(f->dir[FLOW_C2S].packets, 2);
	ck_assert_uint_eq(f->dir[FLOW_C2S].bytes, 40 + 140);
	ck_assert_uint_eq(f->dir[FLOW_C2S].payload, 100);
	ck_assert_uint_eq(f->dir[FLOW_S2C].packets, 2);
	ck_assert_uint_eq(f->dir[FLOW_S2C].payload, 1000);
	/* one FIN does not end it; the second does */
	p = pkt("10.0.0.1", 50000, "10.0.0.2", 5432, DP_TCP,
		TCPF_FIN | TCPF_ACK, 5, 0);
	f = flow_packet(t, &p, &dir);
	flow_settle(t, f, 5);
	ck_assert_int_eq(l.ended, 0);
	p = pkt("10.0.0.2", 5432, "10.0.0.1", 50000, DP_TCP,
		TCPF_FIN | TCPF_ACK, 6, 0);
	f = flow_packet(t, &p, &dir);
	flow_settle(t, f, 6);
	ck_assert_int_eq(l.ended, 1);
	ck_assert_int_eq(l.last_end, FLOW_END_FIN);
	ck_assert_int_eq(f->last_ts - f->first_ts, 5);
	/* the last ACK belongs to the ended flow: no new one */
	p = pkt("10.0.0.1", 50000, "10.0.0.2", 5432, DP_TCP, TCPF_ACK, 7, 0);
	ck_assert_ptr_null(flow_packet(t, &p, &dir));
	/* a new SYN on the same ports is a new connection */
	p = pkt("10.0.0.1", 50000, "10.0.0.2", 5432, DP_TCP, TCPF_SYN, 8, 0);
	f = flow_packet(t, &p, &dir);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->id, 2);
	ck_assert_int_eq(l.opened, 2);
	/* RST ends it */
	p = pkt("10.0.0.2", 5432, "10.0.0.1", 50000, DP_TCP,
		TCPF_RST | TCPF_ACK, 9, 0);
	f = flow_packet(t, &p, &dir);
	flow_settle(t, f, 9);
	ck_assert_int_eq(l.last_end, FLOW_END_RST);
	flow_get_stats(t, &st);
	ck_assert_uint_eq(st.created, 2);
	ck_assert_uint_eq(st.ended_fin, 1);
	ck_assert_uint_eq(st.ended_rst, 1);
	ck_assert_uint_eq(st.active, 0);
	flow_flush(t, 10);
	ck_assert_int_eq(l.ended, 2); /* ended flows are not ended twice */
	flow_table_destroy(&t);
	ck_assert_ptr_null(t);
}
END_TEST

/* Who is the client when the start was not seen. */
START_TEST(client_guess)
{
	struct log l = { 0 };
	struct flow_table *t = flow_table_new(NULL, on_open, on_end, &l);
	struct decode_pkt p;
	struct flow *f;
	int dir;

	/* midstream data from the server (low port) */
	p = pkt("10.0.0.2", 443, "10.0.0.1", 51000, DP_TCP, TCPF_ACK, 1, 10);
	f = flow_packet(t, &p, &dir);
	ck_assert_int_eq(dir, FLOW_S2C);
	ck_assert(!f->syn);
	ck_assert_uint_eq(f->cport, 51000);
	/* a SYN-ACK first: its sender is the server */
	p = pkt("10.0.0.3", 9999, "10.0.0.1", 52000, DP_TCP,
		TCPF_SYN | TCPF_ACK, 1, 0);
	f = flow_packet(t, &p, &dir);
	ck_assert_int_eq(dir, FLOW_S2C);
	ck_assert_uint_eq(f->sport, 9999);
	/* UDP: a DNS answer seen first; a query first */
	p = pkt("10.0.0.53", 53, "10.0.0.1", 40000, DP_UDP, 0, 1, 10);
	f = flow_packet(t, &p, &dir);
	ck_assert_int_eq(dir, FLOW_S2C);
	p = pkt("10.0.0.1", 40001, "10.0.0.53", 53, DP_UDP, 0, 1, 10);
	f = flow_packet(t, &p, &dir);
	ck_assert_int_eq(dir, FLOW_C2S);
	/* IPv6 */
	p = pkt("2001:db8::1", 40002, "2001:db8::2", 80, DP_TCP, TCPF_SYN, 1, 0);
	f = flow_packet(t, &p, &dir);
	ck_assert_int_eq(f->client.family, 6);
	ck_assert_int_eq(l.opened, 5);
	flow_flush(t, 2);
	ck_assert_int_eq(l.ended, 5);
	ck_assert_int_eq(l.last_end, FLOW_END_SHUTDOWN);
	flow_table_destroy(&t);
}
END_TEST

START_TEST(timeouts)
{
	struct flow_limits lim = FLOW_LIMITS_DEFAULT;
	struct log l = { 0 };
	struct flow_table *t;
	struct decode_pkt p;
	struct flow_stats st;
	int dir;

	lim.udp_timeout_us = 10;
	lim.tcp_timeout_us = 100;
	t = flow_table_new(&lim, on_open, on_end, &l);
	p = pkt("10.0.0.1", 1000, "10.0.0.2", 53, DP_UDP, 0, 0, 10);
	flow_packet(t, &p, &dir);
	p = pkt("10.0.0.1", 1001, "10.0.0.2", 80, DP_TCP, TCPF_SYN, 0, 0);
	flow_packet(t, &p, &dir);
	flow_expire(t, 10);
	ck_assert_int_eq(l.ended, 0);
	flow_expire(t, 11);
	ck_assert_int_eq(l.ended, 1); /* UDP idle past 10 */
	ck_assert_int_eq(l.last_end, FLOW_END_TIMEOUT);
	/* a packet keeps a flow alive */
	p = pkt("10.0.0.2", 80, "10.0.0.1", 1001, DP_TCP, TCPF_ACK, 90, 0);
	flow_packet(t, &p, &dir);
	flow_expire(t, 150);
	ck_assert_int_eq(l.ended, 1);
	/* a packet of another flow expires it by its time */
	p = pkt("10.0.0.9", 1, "10.0.0.2", 80, DP_TCP, TCPF_SYN, 191, 0);
	flow_packet(t, &p, &dir);
	ck_assert_int_eq(l.ended, 2);
	flow_get_stats(t, &st);
	ck_assert_uint_eq(st.ended_timeout, 2);
	flow_flush(t, 200);
	flow_table_destroy(&t);
}
END_TEST

START_TEST(eviction)
{
	struct flow_limits lim = FLOW_LIMITS_DEFAULT;
	struct log l = { 0 };
	struct flow_table *t;
	struct decode_pkt p;
	struct flow_stats st;
	struct flow *f;
	int dir;

	lim.max_flows = 1; /* clamped to the minimum */
	t = flow_table_new(&lim, on_open, on_end, &l);
	for (uint16_t i = 0; i < 100; i++) {
		p = pkt("10.0.0.1", (uint16_t)(1000 + i), "10.0.0.2", 80,
			DP_TCP, TCPF_SYN, i, 0);
		f = flow_packet(t, &p, &dir);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(f->cport, 1000 + i);
	}
	flow_get_stats(t, &st);
	ck_assert_uint_eq(st.created, 100);
	ck_assert_uint_eq(st.evicted, 100 - FLOW_MAX_FLOWS_MIN);
	ck_assert_uint_eq(st.peak, FLOW_MAX_FLOWS_MIN);
	ck_assert_int_eq(l.last_end, FLOW_END_EVICTED);
	/* the oldest went first: flow 84 (port 1083) is still there */
	p = pkt("10.0.0.2", 80, "10.0.0.1", 1084, DP_TCP, TCPF_ACK, 101, 0);
	f = flow_packet(t, &p, &dir);
	ck_assert_uint_eq(f->id, 85);
	ck_assert_int_eq(dir, FLOW_S2C);
	flow_flush(t, 200);
	ck_assert_int_eq(l.ended, 100);
	ck_assert_str_eq(flow_end_name(FLOW_END_EVICTED), "evicted");
	flow_table_destroy(&t);
}
END_TEST

/* --- streams --- */

struct sink {
	char data[4096];
	size_t len;
	int gaps;
	size_t gap_bytes;
};

static void sink_fn(void *arg, const uint8_t *data, uint32_t len)
{
	struct sink *s = arg;

	if (data == NULL) {
		s->gaps++;
		s->gap_bytes += len;
		memset(s->data + s->len, '_', len);
	} else {
		memcpy(s->data + s->len, data, len);
	}
	s->len += len;
	s->data[s->len] = '\0';
}

static void seg(struct stream_ctx *c, struct stream *s, struct sink *k,
		uint8_t flags, uint32_t seq, const char *d)
{
	stream_segment(c, s, flags, seq, (const uint8_t *)d,
		       (uint32_t)strlen(d), (uint32_t)strlen(d), sink_fn, k);
}

START_TEST(stream_order)
{
	struct stream_ctx c;
	struct stream s;
	struct sink k = { 0 };

	stream_ctx_init(&c, NULL);
	stream_init(&s);
	seg(&c, &s, &k, TCPF_SYN, 99, "");
	seg(&c, &s, &k, 0, 100, "hello ");
	seg(&c, &s, &k, 0, 112, "world");  /* early: held */
	ck_assert_str_eq(k.data, "hello ");
	ck_assert_uint_eq(c.st.held_now, 5);
	seg(&c, &s, &k, 0, 106, "there "); /* fills the hole */
	ck_assert_str_eq(k.data, "hello there world");
	ck_assert_uint_eq(c.st.held_now, 0);
	seg(&c, &s, &k, 0, 106, "there "); /* a retransmission */
	seg(&c, &s, &k, 0, 114, "rld!");   /* overlaps, one byte new */
	ck_assert_str_eq(k.data, "hello there world!");
	ck_assert_uint_eq(c.st.retransmitted, 1);
	ck_assert_int_eq(k.gaps, 0);
	stream_flush(&c, &s, sink_fn, &k);
	stream_free(&c, &s);
}
END_TEST

START_TEST(stream_gaps)
{
	struct stream_limits lim = { .max_held_bytes = 8,
				     .max_held_segments = 4,
				     .max_total_bytes = 1000 };
	struct stream_ctx c;
	struct stream s;
	struct sink k = { 0 };

	stream_ctx_init(&c, &lim);
	stream_init(&s);
	seg(&c, &s, &k, 0, 1000, "ab"); /* joined midway */
	seg(&c, &s, &k, 0, 1004, "efgh");
	seg(&c, &s, &k, 0, 1010, "klmn"); /* 8 bytes held: at the bound */
	ck_assert_str_eq(k.data, "ab");
	seg(&c, &s, &k, 0, 1016, "qr"); /* past it: give up the holes */
	ck_assert_str_eq(k.data, "ab__efgh__klmn__qr");
	ck_assert_int_eq(k.gaps, 3);
	ck_assert_uint_eq(c.st.gaps, 3);
	ck_assert_uint_eq(c.st.gap_bytes, 6);
	/* at the end, what is held comes out after a gap */
	seg(&c, &s, &k, 0, 1020, "uv");
	stream_flush(&c, &s, sink_fn, &k);
	ck_assert_str_eq(k.data, "ab__efgh__klmn__qr__uv");
	ck_assert_uint_eq(c.st.held_now, 0);
	stream_free(&c, &s);
}
END_TEST

START_TEST(stream_cut_and_wrap)
{
	struct stream_ctx c;
	struct stream s;
	struct sink k = { 0 };

	stream_ctx_init(&c, NULL);
	stream_init(&s);
	seg(&c, &s, &k, TCPF_SYN, 0xfffffffd, "");
	seg(&c, &s, &k, 0, 0xfffffffe, "ab"); /* wraps to 0 */
	seg(&c, &s, &k, 0, 2, "ef");          /* early */
	seg(&c, &s, &k, 0, 0, "cd");
	ck_assert_str_eq(k.data, "abcdef");
	/* 3 of 6 bytes captured: the rest is a gap */
	stream_segment(&c, &s, 0, 4, (const uint8_t *)"ghi", 3, 6, sink_fn,
		       &k);
	ck_assert_str_eq(k.data, "abcdefghi___");
	seg(&c, &s, &k, 0, 10, "m");
	ck_assert_str_eq(k.data, "abcdefghi___m");
	stream_free(&c, &s);
}
END_TEST

/* A segment cut to nothing by the snapshot length (no byte captured of
 * its 4), out of order: held without data, its bytes a gap (found by
 * fuzzing: a copy from a null pointer). */
START_TEST(stream_empty_held)
{
	struct stream_ctx c;
	struct stream s;
	struct sink k = { 0 };

	stream_ctx_init(&c, NULL);
	stream_init(&s);
	seg(&c, &s, &k, 0, 100, "ab");
	stream_segment(&c, &s, 0, 106, NULL, 0, 4, sink_fn, &k);
	ck_assert_uint_eq(c.st.held, 1);
	seg(&c, &s, &k, 0, 102, "cdef");
	ck_assert_str_eq(k.data, "abcdef____");
	ck_assert_int_eq(k.gaps, 1);
	stream_free(&c, &s);
}
END_TEST

START_TEST(stream_total_bound)
{
	struct stream_limits lim = { .max_held_bytes = 100,
				     .max_held_segments = 100,
				     .max_total_bytes = 6 };
	struct stream_ctx c;
	struct stream a, b;
	struct sink ka = { 0 }, kb = { 0 };

	stream_ctx_init(&c, &lim);
	stream_init(&a);
	stream_init(&b);
	seg(&c, &a, &ka, 0, 0, "x");
	seg(&c, &b, &kb, 0, 0, "y");
	seg(&c, &a, &ka, 0, 5, "12345"); /* held: 5 of 6 */
	seg(&c, &b, &kb, 0, 5, "67");    /* no room in the context */
	ck_assert_str_eq(kb.data, "y____67");
	ck_assert_str_eq(ka.data, "x");
	ck_assert_uint_eq(c.st.held_peak, 5);
	stream_free(&c, &a);
	stream_free(&c, &b);
	ck_assert_uint_eq(c.st.held_now, 0);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *tc = tcase_create("flow");

	tcase_add_test(tc, tcp_lifecycle);
	tcase_add_test(tc, client_guess);
	tcase_add_test(tc, timeouts);
	tcase_add_test(tc, eviction);
	tcase_add_test(tc, stream_order);
	tcase_add_test(tc, stream_gaps);
	tcase_add_test(tc, stream_cut_and_wrap);
	tcase_add_test(tc, stream_total_bound);
	tcase_add_test(tc, stream_empty_held);
	suite_add_tcase(s, tc);
	return s;
}
