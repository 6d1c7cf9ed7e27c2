/*
 * pktgen.c - frames and capture files for the capture tests (pktgen.h).
 */
#include "pktgen.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pg_ep pg_ep(const char *addr, uint16_t port)
{
	struct pg_ep e = { .port = port };

	if (inet_pton(AF_INET, addr, e.addr) == 1)
		e.family = 4;
	else if (inet_pton(AF_INET6, addr, e.addr) == 1)
		e.family = 6;
	else
		abort();
	return e;
}

static void w16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t pg_ip(uint8_t *out, const struct pg_ep *src, const struct pg_ep *dst,
	     uint8_t proto, const uint8_t *l4, size_t l4len)
{
	if (src->family == 4) {
		memset(out, 0, 20);
		out[0] = 0x45;
		w16(out + 2, (uint16_t)(20 + l4len));
		w16(out + 4, 0x1234);
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, src->addr, 4);
		memcpy(out + 16, dst->addr, 4);
		memcpy(out + 20, l4, l4len);
		return 20 + l4len;
	}
	memset(out, 0, 40);
	out[0] = 0x60;
	w16(out + 4, (uint16_t)l4len);
	out[6] = proto;
	out[7] = 64;
	memcpy(out + 8, src->addr, 16);
	memcpy(out + 24, dst->addr, 16);
	memcpy(out + 40, l4, l4len);
	return 40 + l4len;
}

size_t pg_tcp(uint8_t *out, uint16_t sport, uint16_t dport, uint32_t seq,
	      uint32_t ack, uint8_t flags, const void *payload, size_t len)
{
	memset(out, 0, 20);
	w16(out, sport);
	w16(out + 2, dport);
	w32(out + 4, seq);
	w32(out + 8, ack);
	out[12] = 5 << 4;
	out[13] = flags;
	w16(out + 14, 65535);
	if (len > 0)
		memcpy(out + 20, payload, len);
	return 20 + len;
}

size_t pg_udp(uint8_t *out, uint16_t sport, uint16_t dport,
	      const void *payload, size_t len)
{
	w16(out, sport);
	w16(out + 2, dport);
	w16(out + 4, (uint16_t)(8 + len));
	w16(out + 6, 0);
	if (len > 0)
		memcpy(out + 8, payload, len);
	return 8 + len;
}

size_t pg_eth(uint8_t *out, const uint8_t *ip, size_t iplen)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

	memcpy(out, macs, 12);
	w16(out + 12, (ip[0] >> 4) == 6 ? 0x86dd : 0x0800);
	memmove(out + 14, ip, iplen);
	return 14 + iplen;
}

static void put32(struct pg_file *pf, uint32_t v)
{
	uint8_t b[4];

	if (pf->swap)
		w32(b, v);
	else
		memcpy(b, &v, 4); /* the tests run on little-endian hosts */
	ck_assert_uint_eq(fwrite(b, 1, 4, pf->f), 4);
}

static void put16(struct pg_file *pf, uint16_t v)
{
	uint8_t b[2];

	if (pf->swap)
		w16(b, v);
	else
		memcpy(b, &v, 2);
	ck_assert_uint_eq(fwrite(b, 1, 2, pf->f), 2);
}

void pg_file_open(struct pg_file *pf, const char *name, uint32_t linktype,
		  bool swap, bool nano)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	memset(pf, 0, sizeof(*pf));
	snprintf(pf->path, sizeof(pf->path), "%s/bwcap-%d-%s", dir,
		 (int)getpid(), name);
	pf->f = fopen(pf->path, "wb");
	ck_assert_ptr_nonnull(pf->f);
	pf->swap = swap;
	pf->nano = nano;
	pf->linktype = linktype;
	pf->ts_us = 1700000000LL * 1000000 + 123456;
	put32(pf, nano ? 0xa1b23c4d : 0xa1b2c3d4);
	put16(pf, 2);
	put16(pf, 4);
	put32(pf, 0);
	put32(pf, 0);
	put32(pf, 262144);
	put32(pf, linktype);
}

void pg_file_frame(struct pg_file *pf, const uint8_t *frame, size_t caplen,
		   size_t len)
{
	put32(pf, (uint32_t)(pf->ts_us / 1000000));
	put32(pf, (uint32_t)(pf->ts_us % 1000000) * (pf->nano ? 1000 : 1));
	put32(pf, (uint32_t)caplen);
	put32(pf, (uint32_t)len);
	ck_assert_uint_eq(fwrite(frame, 1, caplen, pf->f), caplen);
	pf->ts_us += 1000;
}

void pg_file_close(struct pg_file *pf)
{
	ck_assert_int_eq(fclose(pf->f), 0);
	pf->f = NULL;
}

static void tcp_frame(struct pg_tcp_session *t, bool to_server, uint32_t seq,
		      uint32_t ack, uint8_t flags, const void *data,
		      size_t len)
{
	static uint8_t l4[PG_MAX_FRAME], ip[PG_MAX_FRAME], fr[PG_MAX_FRAME];
	const struct pg_ep *a = to_server ? &t->c : &t->s;
	const struct pg_ep *b = to_server ? &t->s : &t->c;
	size_t n;

	n = pg_tcp(l4, a->port, b->port, seq, ack, flags, data, len);
	n = pg_ip(ip, a, b, 6, l4, n);
	n = pg_eth(fr, ip, n);
	pg_file_frame(t->pf, fr, n, n);
}

void pg_tcp_open(struct pg_tcp_session *t, struct pg_file *pf,
		 struct pg_ep c, struct pg_ep s)
{
	t->pf = pf;
	t->c = c;
	t->s = s;
	t->cseq = 1000;
	t->sseq = 5000;
	tcp_frame(t, true, t->cseq++, 0, 0x02, NULL, 0);
	tcp_frame(t, false, t->sseq++, t->cseq, 0x12, NULL, 0);
	tcp_frame(t, true, t->cseq, t->sseq, 0x10, NULL, 0);
}

void pg_tcp_send(struct pg_tcp_session *t, bool to_server, const void *data,
		 size_t len)
{
	if (to_server) {
		tcp_frame(t, true, t->cseq, t->sseq, 0x18, data, len);
		t->cseq += (uint32_t)len;
	} else {
		tcp_frame(t, false, t->sseq, t->cseq, 0x18, data, len);
		t->sseq += (uint32_t)len;
	}
}

void pg_tcp_send_at(struct pg_tcp_session *t, bool to_server, uint32_t seq,
		    const void *data, size_t len)
{
	if (to_server)
		tcp_frame(t, true, t->cseq + seq, t->sseq, 0x18, data, len);
	else
		tcp_frame(t, false, t->sseq + seq, t->cseq, 0x18, data, len);
}

void pg_tcp_close(struct pg_tcp_session *t)
{
	tcp_frame(t, true, t->cseq++, t->sseq, 0x11, NULL, 0);
	tcp_frame(t, false, t->sseq++, t->cseq, 0x11, NULL, 0);
	tcp_frame(t, true, t->cseq, t->sseq, 0x10, NULL, 0);
}

void pg_udp_send(struct pg_file *pf, struct pg_ep src, struct pg_ep dst,
		 const void *data, size_t len)
{
	static uint8_t l4[PG_MAX_FRAME], ip[PG_MAX_FRAME], fr[PG_MAX_FRAME];
	size_t n;

	n = pg_udp(l4, src.port, dst.port, data, len);
	n = pg_ip(ip, &src, &dst, 17, l4, n);
	n = pg_eth(fr, ip, n);
	pg_file_frame(pf, fr, n, n);
}
