/*
 * test_decode.c - agent/decode*.c: every link type, VLAN tags, IPv4 and
 * IPv6 (extension headers), fragments, transport headers, and a drop with
 * its reason for each kind of short or inconsistent frame.
 */
#include <check.h>
#include <string.h>

#include "../../agent/decode.h"
#include "check_main.h"
#include "pktgen.h"

#define DLT_EN10MB 1
#define DLT_NULL 0
#define DLT_RAW 12
#define DLT_LOOP 108
#define DLT_LINUX_SLL 113
#define DLT_IPV4 228
#define DLT_IPV6 229
#define DLT_LINUX_SLL2 276

static uint8_t l4[4096], ip[4096], fr[4096];

static size_t tcp4(const char *payload)
{
	struct pg_ep a = pg_ep("192.0.2.1", 40000), b = pg_ep("192.0.2.2", 80);
	size_t n = pg_tcp(l4, a.port, b.port, 7, 9, 0x18, payload,
			  strlen(payload));

	return pg_ip(ip, &a, &b, 6, l4, n);
}

static size_t tcp6(const char *payload)
{
	struct pg_ep a = pg_ep("2001:db8::1", 40000), b = pg_ep("2001:db8::2", 443);
	size_t n = pg_tcp(l4, a.port, b.port, 7, 9, 0x18, payload,
			  strlen(payload));

	return pg_ip(ip, &a, &b, 6, l4, n);
}

static enum decode_result run(int dlt, const uint8_t *p, size_t caplen,
			      size_t len, struct decode_pkt *out,
			      enum decode_reason *why)
{
	struct decoder *d = decoder_new(dlt, NULL);
	enum decode_result r = decoder_frame(d, p, (uint32_t)caplen,
					     (uint32_t)len, 42, out, why);

	ck_assert_uint_eq(decoder_stats(d)->frames, 1);
	if (r == DECODE_DROPPED || r == DECODE_IGNORED)
		ck_assert_uint_eq(decoder_stats(d)->by_reason[*why], 1);
	decoder_destroy(&d);
	ck_assert_ptr_null(d);
	return r;
}

static void check_tcp4(const struct decode_pkt *p, const char *payload)
{
	ck_assert_int_eq(p->proto, DP_TCP);
	ck_assert_int_eq(p->src.family, 4);
	ck_assert_mem_eq(p->src.bytes, "\xc0\x00\x02\x01", 4);
	ck_assert_mem_eq(p->dst.bytes, "\xc0\x00\x02\x02", 4);
	ck_assert_uint_eq(p->sport, 40000);
	ck_assert_uint_eq(p->dport, 80);
	ck_assert_uint_eq(p->seq, 7);
	ck_assert_uint_eq(p->ack, 9);
	ck_assert_uint_eq(p->tcp_flags, 0x18);
	ck_assert_uint_eq(p->payload_len, strlen(payload));
	ck_assert_uint_eq(p->payload_wire, strlen(payload));
	ck_assert_mem_eq(p->payload, payload, strlen(payload));
	ck_assert_int_eq(p->ts_us, 42);
	ck_assert(!p->truncated);
}

START_TEST(ethernet)
{
	struct decode_pkt p;
	enum decode_reason why;
	size_t n = pg_eth(fr, ip, tcp4("GET /"));

	ck_assert_int_eq(run(DLT_EN10MB, fr, n, n, &p, &why), DECODE_PACKET);
	check_tcp4(&p, "GET /");
	ck_assert_uint_eq(p.ip_len, 20 + 20 + 5);
	/* Ethernet padding after the datagram is not payload */
	memset(fr + n, 0, 10);
	ck_assert_int_eq(run(DLT_EN10MB, fr, n + 10, n + 10, &p, &why),
			 DECODE_PACKET);
	check_tcp4(&p, "GET /");
	/* ARP is ignored, not dropped */
	fr[12] = 0x08;
	fr[13] = 0x06;
	ck_assert_int_eq(run(DLT_EN10MB, fr, n, n, &p, &why), DECODE_IGNORED);
	ck_assert_int_eq(why, DR_NOT_IP);
	ck_assert(!decode_reason_is_drop(why));
	ck_assert_int_eq(run(DLT_EN10MB, fr, 13, 13, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_LINK_SHORT);
	ck_assert(decode_reason_is_drop(why));
	ck_assert_str_eq(decode_reason_name(why), "link_short");
}
END_TEST

/* n 802.1Q/802.1ad tags between the MACs and the ethertype. */
static size_t tagged(int ntags, size_t iplen)
{
	static const uint16_t tpid[] = { 0x88a8, 0x8100, 0x9100, 0x8100,
					 0x8100, 0x8100 };
	size_t n = pg_eth(fr, ip, iplen);

	memmove(fr + 12 + 4 * ntags, fr + 12, n - 12);
	for (int i = 0; i < ntags; i++) {
		fr[12 + 4 * i] = (uint8_t)(tpid[i] >> 8);
		fr[13 + 4 * i] = (uint8_t)tpid[i];
		fr[14 + 4 * i] = 0xa0; /* PCP 5 */
		fr[15 + 4 * i] = (uint8_t)(10 + i);
	}
	return n + 4 * (size_t)ntags;
}

START_TEST(vlan)
{
	struct decode_pkt p;
	enum decode_reason why;
	size_t iplen = tcp4("x"), n;

	for (int tags = 1; tags <= DECODE_MAX_VLAN; tags++) {
		n = tagged(tags, iplen);
		ck_assert_int_eq(run(DLT_EN10MB, fr, n, n, &p, &why),
				 DECODE_PACKET);
		check_tcp4(&p, "x");
	}
	n = tagged(DECODE_MAX_VLAN + 1, iplen);
	ck_assert_int_eq(run(DLT_EN10MB, fr, n, n, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(why, DR_VLAN_DEPTH);
	n = tagged(2, iplen);
	ck_assert_int_eq(run(DLT_EN10MB, fr, 19, 19, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_LINK_SHORT);
}
END_TEST

START_TEST(cooked_and_raw)
{
	struct decode_pkt p;
	enum decode_reason why;
	size_t iplen = tcp4("sll");

	/* SLL: 16 bytes, protocol at 14 */
	memset(fr, 0, 16);
	fr[14] = 0x08;
	memcpy(fr + 16, ip, iplen);
	ck_assert_int_eq(run(DLT_LINUX_SLL, fr, 16 + iplen, 16 + iplen, &p,
			     &why),
			 DECODE_PACKET);
	check_tcp4(&p, "sll");
	/* SLL2: 20 bytes, protocol first */
	memset(fr, 0, 20);
	fr[0] = 0x08;
	memcpy(fr + 20, ip, iplen);
	ck_assert_int_eq(run(DLT_LINUX_SLL2, fr, 20 + iplen, 20 + iplen, &p,
			     &why),
			 DECODE_PACKET);
	check_tcp4(&p, "sll");
	ck_assert_int_eq(run(DLT_LINUX_SLL2, fr, 19, 19, &p, &why),
			 DECODE_DROPPED);
	/* raw: the version nibble decides; IPV4 insists on 4 */
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_PACKET);
	check_tcp4(&p, "sll");
	ck_assert_int_eq(run(DLT_IPV4, ip, iplen, iplen, &p, &why),
			 DECODE_PACKET);
	ck_assert_int_eq(run(DLT_IPV6, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP_VERSION);
	iplen = tcp6("v6");
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_PACKET);
	ck_assert_int_eq(p.src.family, 6);
	ck_assert_uint_eq(p.dport, 443);
	ck_assert_mem_eq(p.payload, "v6", 2);
}
END_TEST

START_TEST(bsd_null)
{
	struct decode_pkt p;
	enum decode_reason why;
	size_t iplen = tcp6("lo");
	static const uint8_t af_le[][4] = { { 24, 0, 0, 0 }, { 28, 0, 0, 0 },
					    { 30, 0, 0, 0 } };

	for (size_t i = 0; i < 3; i++) {
		memcpy(fr, af_le[i], 4);
		memcpy(fr + 4, ip, iplen);
		ck_assert_int_eq(run(DLT_NULL, fr, 4 + iplen, 4 + iplen, &p,
				     &why),
				 DECODE_PACKET);
		ck_assert_int_eq(p.src.family, 6);
		/* the same family written big-endian */
		fr[0] = 0;
		fr[3] = af_le[i][0];
		ck_assert_int_eq(run(DLT_NULL, fr, 4 + iplen, 4 + iplen, &p,
				     &why),
				 DECODE_PACKET);
		ck_assert_int_eq(run(DLT_LOOP, fr, 4 + iplen, 4 + iplen, &p,
				     &why),
				 DECODE_PACKET);
	}
	iplen = tcp4("lo");
	memcpy(fr, "\x02\x00\x00\x00", 4);
	memcpy(fr + 4, ip, iplen);
	ck_assert_int_eq(run(DLT_NULL, fr, 4 + iplen, 4 + iplen, &p, &why),
			 DECODE_PACKET);
	check_tcp4(&p, "lo");
	memcpy(fr, "\x07\x00\x00\x00", 4);
	ck_assert_int_eq(run(DLT_NULL, fr, 4 + iplen, 4 + iplen, &p, &why),
			 DECODE_IGNORED);
	ck_assert_int_eq(run(DLT_NULL, fr, 3, 3, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(run(105, fr, 4 + iplen, 4 + iplen, &p, &why),
			 DECODE_IGNORED);
	ck_assert_int_eq(why, DR_LINK_UNKNOWN);
}
END_TEST

START_TEST(ip4_bad)
{
	struct decode_pkt p;
	enum decode_reason why;
	size_t iplen = tcp4("payload");

	ck_assert_int_eq(run(DLT_RAW, ip, 19, 19, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP4_SHORT);
	ip[0] = 0x44; /* header length 16 */
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP4_HLEN);
	ip[0] = 0x4f; /* 60 bytes of header, more than there is */
	ck_assert_int_eq(run(DLT_RAW, ip, 40, 40, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP4_HLEN);
	ip[0] = 0x45;
	ip[2] = 0x01; /* total length 256+ on a whole 47-byte frame */
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP4_TOTLEN);
	/* ... but expected when the frame was cut by the snapshot length */
	ip[2] = 0;
	ip[3] = (uint8_t)iplen;
	ck_assert_int_eq(run(DLT_RAW, ip, iplen - 3, iplen, &p, &why),
			 DECODE_PACKET);
	ck_assert(p.truncated);
	ck_assert_uint_eq(p.payload_len, 4);
	ck_assert_uint_eq(p.payload_wire, 7);
	ip[3] = 10; /* total length below the header */
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP4_TOTLEN);
	/* a zero total length (segmentation offload) takes the frame's */
	ip[3] = 0;
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_PACKET);
	check_tcp4(&p, "payload");
	ip[9] = 47; /* GRE */
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_IGNORED);
	ck_assert_int_eq(why, DR_OTHER_PROTO);
}
END_TEST

START_TEST(l4_bad)
{
	struct decode_pkt p;
	enum decode_reason why;
	struct pg_ep a = pg_ep("192.0.2.1", 5353), b = pg_ep("192.0.2.2", 53);
	size_t n, iplen;

	/* TCP shorter than its header; data offset too small or too big */
	iplen = tcp4("");
	ck_assert_int_eq(run(DLT_RAW, ip, 39, 39, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP4_TOTLEN); /* whole frame, short datagram */
	ip[3] = 39;
	ck_assert_int_eq(run(DLT_RAW, ip, 39, 39, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(why, DR_TCP_SHORT);
	iplen = tcp4("");
	ip[20 + 12] = 4 << 4;
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_TCP_HLEN);
	ip[20 + 12] = 15 << 4;
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_TCP_HLEN);
	/* UDP: good, length field too small, too big */
	n = pg_udp(l4, a.port, b.port, "abcd", 4);
	iplen = pg_ip(ip, &a, &b, 17, l4, n);
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_PACKET);
	ck_assert_int_eq(p.proto, DP_UDP);
	ck_assert_uint_eq(p.sport, 5353);
	ck_assert_uint_eq(p.payload_len, 4);
	ip[20 + 5] = 7;
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_UDP_LEN);
	ip[20 + 5] = 13;
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_UDP_LEN);
	ip[3] = 27;
	ck_assert_int_eq(run(DLT_RAW, ip, 27, 27, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(why, DR_UDP_SHORT);
	/* ICMP echo; three bytes are too few */
	memcpy(l4, "\x08\x00\x00\x00\x00\x01\x00\x01ping", 12);
	iplen = pg_ip(ip, &a, &b, 1, l4, 12);
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_PACKET);
	ck_assert_int_eq(p.proto, DP_ICMP);
	ck_assert_int_eq(p.icmp_type, 8);
	ck_assert_uint_eq(p.payload_len, 4);
	iplen = pg_ip(ip, &a, &b, 1, l4, 3);
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_ICMP_SHORT);
}
END_TEST

/* IPv6 with hop-by-hop and destination options before TCP. */
START_TEST(ip6_ext)
{
	struct decode_pkt p;
	enum decode_reason why;
	uint8_t ext[16 + 20 + 3];
	struct pg_ep a = pg_ep("2001:db8::1", 1), b = pg_ep("2001:db8::2", 2);
	size_t n = pg_tcp(l4, 1, 2, 1, 1, 0x10, "abc", 3), iplen;

	memset(ext, 0, 16);
	ext[0] = 60; /* hop-by-hop, then destination options */
	ext[1] = 0;
	ext[8] = 6; /* destination options, then TCP */
	ext[9] = 0;
	memcpy(ext + 16, l4, n);
	iplen = pg_ip(ip, &a, &b, 0, ext, 16 + n);
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_PACKET);
	ck_assert_int_eq(p.proto, DP_TCP);
	ck_assert_mem_eq(p.payload, "abc", 3);
	ck_assert_uint_eq(p.ip_len, iplen);
	/* an extension that claims more than there is */
	ip[40 + 9] = 200;
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP6_EXT);
	/* payload length past a whole frame */
	ip[40 + 9] = 0;
	ip[5] = (uint8_t)(ip[5] + 1);
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP6_PLEN);
	ck_assert_int_eq(run(DLT_RAW, ip, 39, 39, &p, &why), DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP6_SHORT);
}
END_TEST

START_TEST(ip6_ext_depth)
{
	struct decode_pkt p;
	enum decode_reason why;
	uint8_t ext[8 * 10];
	struct pg_ep a = pg_ep("2001:db8::1", 1), b = pg_ep("2001:db8::2", 2);
	size_t iplen;

	memset(ext, 0, sizeof(ext));
	for (int i = 0; i < 10; i++)
		ext[8 * i] = 60; /* destination options, over and over */
	iplen = pg_ip(ip, &a, &b, 60, ext, sizeof(ext));
	ck_assert_int_eq(run(DLT_RAW, ip, iplen, iplen, &p, &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_IP6_EXT_DEPTH);
}
END_TEST

/* IPv4 fragment of the UDP datagram in l4 (len bytes): [off, off+n). */
static size_t frag4(const uint8_t *whole, size_t off, size_t n, bool more,
		    uint16_t id)
{
	struct pg_ep a = pg_ep("192.0.2.1", 1), b = pg_ep("192.0.2.2", 2);
	size_t iplen = pg_ip(ip, &a, &b, 17, whole + off, n);
	uint16_t fo = (uint16_t)(off / 8) | (more ? 0x2000 : 0);

	ip[4] = (uint8_t)(id >> 8);
	ip[5] = (uint8_t)id;
	ip[6] = (uint8_t)(fo >> 8);
	ip[7] = (uint8_t)fo;
	return iplen;
}

START_TEST(ip4_fragments)
{
	struct decoder *d = decoder_new(DLT_RAW, NULL);
	struct decode_pkt p;
	enum decode_reason why;
	uint8_t whole[8 + 40];
	char data[41] = "0123456789abcdefghijklmnopqrstuvwxyzABCD";
	size_t n;

	pg_udp(whole, 1111, 53, data, 40);
	/* last piece first, then the middle, then the first */
	n = frag4(whole, 32, 16, false, 7);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 1, &p,
				       &why),
			 DECODE_HELD);
	n = frag4(whole, 16, 16, true, 7);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 2, &p,
				       &why),
			 DECODE_HELD);
	/* the same middle piece again (a retransmission) is fine */
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 2, &p,
				       &why),
			 DECODE_HELD);
	n = frag4(whole, 0, 16, true, 7);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 3, &p,
				       &why),
			 DECODE_PACKET);
	ck_assert(p.reassembled);
	ck_assert_int_eq(p.proto, DP_UDP);
	ck_assert_uint_eq(p.sport, 1111);
	ck_assert_uint_eq(p.payload_len, 40);
	ck_assert_mem_eq(p.payload, data, 40);
	ck_assert_uint_eq(decoder_stats(d)->reassembled, 1);
	ck_assert_uint_eq(decoder_stats(d)->fragments, 4);

	/* overlapping bytes that differ drop the datagram */
	n = frag4(whole, 0, 16, true, 8);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 4, &p,
				       &why),
			 DECODE_HELD);
	n = frag4(whole, 8, 16, true, 8);
	ip[20 + 2] ^= 0xff;
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 5, &p,
				       &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_FRAG_OVERLAP);

	/* a non-last fragment whose length is not a multiple of 8 */
	n = frag4(whole, 0, 12, true, 9);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 6, &p,
				       &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_FRAG_BAD);

	/* past 65535 */
	n = frag4(whole, 0, 16, false, 10);
	ip[6] = 0x1f;
	ip[7] = 0xff;
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 7, &p,
				       &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_FRAG_BAD);

	/* an incomplete datagram times out */
	n = frag4(whole, 0, 16, true, 11);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 8, &p,
				       &why),
			 DECODE_HELD);
	decoder_expire(d, 8 + 31 * 1000000LL);
	ck_assert_uint_eq(decoder_stats(d)->by_reason[DR_FRAG_TIMEOUT], 1);
	decoder_destroy(&d);
}
END_TEST

START_TEST(frag_limits)
{
	struct decode_limits lim = { .frag_max_datagrams = 2,
				     .frag_max_bytes = 40,
				     .frag_timeout_us = 1000000 };
	struct decoder *d = decoder_new(DLT_RAW, &lim);
	struct decode_pkt p;
	enum decode_reason why;
	uint8_t whole[64] = { 0 };
	size_t n;

	/* three datagrams pending: the oldest goes */
	for (uint16_t id = 1; id <= 3; id++) {
		n = frag4(whole, 0, 8, true, id);
		ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n,
					       (uint32_t)n, id, &p, &why),
				 DECODE_HELD);
	}
	ck_assert_uint_eq(decoder_stats(d)->by_reason[DR_FRAG_LIMIT], 1);
	/* past the byte budget: dropped */
	n = frag4(whole, 8, 48, true, 3);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 4, &p,
				       &why),
			 DECODE_DROPPED);
	ck_assert_int_eq(why, DR_FRAG_LIMIT);
	decoder_destroy(&d);
}
END_TEST

START_TEST(ip6_fragments)
{
	struct decoder *d = decoder_new(DLT_RAW, NULL);
	struct decode_pkt p;
	enum decode_reason why;
	struct pg_ep a = pg_ep("2001:db8::1", 1), b = pg_ep("2001:db8::2", 2);
	uint8_t whole[8 + 24], fh[8 + 16];
	size_t n;

	pg_udp(whole, 4444, 53, "ABCDEFGHIJKLMNOPQRSTUVWX", 24);
	for (int i = 0; i < 2; i++) {
		uint16_t off = (uint16_t)(i * 16);

		memset(fh, 0, 8);
		fh[0] = 17;
		fh[2] = (uint8_t)(off >> 8);
		fh[3] = (uint8_t)((off & 0xf8) | (i == 0 ? 1 : 0));
		fh[7] = 99;
		memcpy(fh + 8, whole + off, 16);
		n = pg_ip(ip, &a, &b, 44, fh, 8 + 16);
		ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n,
					       (uint32_t)n, 1, &p, &why),
				 i == 0 ? DECODE_HELD : DECODE_PACKET);
	}
	ck_assert(p.reassembled);
	ck_assert_int_eq(p.proto, DP_UDP);
	ck_assert_uint_eq(p.sport, 4444);
	ck_assert_uint_eq(p.payload_len, 24);
	ck_assert_mem_eq(p.payload, "ABCDEFGHIJKLMNOPQRSTUVWX", 24);
	/* an atomic fragment (offset 0, no more) is the datagram itself */
	memset(fh, 0, 8);
	fh[0] = 17;
	memcpy(fh + 8, whole, 16);
	whole[5] = 16; /* UDP length 16: 8 bytes of payload */
	memcpy(fh + 8, whole, 16);
	n = pg_ip(ip, &a, &b, 44, fh, 8 + 16);
	ck_assert_int_eq(decoder_frame(d, ip, (uint32_t)n, (uint32_t)n, 2, &p,
				       &why),
			 DECODE_PACKET);
	ck_assert(!p.reassembled);
	ck_assert_uint_eq(p.payload_len, 8);
	decoder_destroy(&d);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, ethernet);
	tcase_add_test(tc, vlan);
	tcase_add_test(tc, cooked_and_raw);
	tcase_add_test(tc, bsd_null);
	tcase_add_test(tc, ip4_bad);
	tcase_add_test(tc, l4_bad);
	tcase_add_test(tc, ip6_ext);
	tcase_add_test(tc, ip6_ext_depth);
	tcase_add_test(tc, ip4_fragments);
	tcase_add_test(tc, frag_limits);
	tcase_add_test(tc, ip6_fragments);
	suite_add_tcase(s, tc);
	return s;
}
