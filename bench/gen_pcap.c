/*
 * gen_pcap.c - a deterministic capture of an e-mail service provider's
 * data host, for benchmarks (bench/pcap_bench.py).
 *
 *   gen_pcap MEGABYTES [SEED] > traffic.pcap
 *
 * Classic pcap (little-endian, microseconds), Ethernet, full frames (no
 * snaplen cut), TCP segments of at most 1448 bytes and an ACK for every
 * second segment, as a 1500-byte MTU gives. 64 conversations run at once
 * and their packets interleave. The mix, by bytes on the wire:
 *
 *   HTTP (port 80)  customers reading their contacts and messages over a
 *                   keep-alive connection (1-6 requests) with Basic auth: JSON bodies of
 *                   2-200 KB full of e-mail addresses (so the PII scan
 *                   works), some chunked
 *   TLS (port 443)  a ClientHello with a server name, then 50-500 KB of
 *                   encrypted records (random bytes) from the server
 *   PostgreSQL      the app servers' sessions: startup, AuthenticationOk,
 *                   simple queries naming one customer, rows of 10-100 KB
 *   DNS (UDP 53)    queries and answers for the provider's names
 *
 * Time starts on 2026-11-23 09:00:00 UTC and advances about 10 us per
 * packet. The same arguments always give the same bytes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSESS 64
#define MSS 1448
#define T0 1795424400LL /* 2026-11-23 09:00:00 UTC */

static uint64_t rng_state;

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t range(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static FILE *out;
static uint64_t written, limit, nframes;
static int64_t now_us = T0 * 1000000LL;

static void put(const void *p, size_t n)
{
	if (fwrite(p, 1, n, out) != n) {
		perror("gen_pcap: write");
		exit(1);
	}
	written += n;
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

/* One Ethernet/IPv4 frame with a TCP (proto 6) or UDP (17) header. */
static void frame(uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
		  uint8_t proto, uint32_t seq, uint32_t ack, uint8_t flags,
		  const uint8_t *data, uint32_t len)
{
	static uint8_t f[2048];
	uint32_t l4 = proto == 6 ? 20 : 8, n = 14 + 20 + l4 + len;
	uint32_t hdr[4] = { (uint32_t)(now_us / 1000000),
			    (uint32_t)(now_us % 1000000), n, n };

	memcpy(f, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00",
	       14);
	memset(f + 14, 0, 20 + l4);
	f[14] = 0x45;
	w16(f + 16, (uint16_t)(20 + l4 + len));
	f[22] = 64;
	f[23] = proto;
	w32(f + 26, src);
	w32(f + 30, dst);
	w16(f + 34, sp);
	w16(f + 36, dp);
	if (proto == 6) {
		w32(f + 38, seq);
		w32(f + 42, ack);
		f[46] = 5 << 4;
		f[47] = flags;
		w16(f + 48, 65535);
	} else {
		w16(f + 38, (uint16_t)(8 + len));
	}
	memcpy(f + 14 + 20 + l4, data, len);
	put(hdr, sizeof(hdr));
	put(f, n);
	nframes++;
	now_us += range(2, 18);
}

/* A conversation: a client and a server, and what each still has to send
 * (a queue of messages produced by its protocol's step function). */
enum proto { P_HTTP, P_TLS, P_PG, P_DNS };

struct side {
	uint32_t addr, seq;
	uint16_t port;
	uint8_t *buf; /* bytes queued to send */
	size_t len, off, cap;
	uint32_t unacked; /* segments since the last ACK from the peer */
};

struct sess {
	enum proto proto;
	struct side c, s;
	int phase;
	int left; /* exchanges still to come */
	uint32_t customer;
};

static struct sess sess[NSESS];
static char json_pattern[65536];
static uint8_t random_block[65536];

static void queue(struct side *sd, const void *p, size_t n)
{
	if (sd->len + n > sd->cap) {
		sd->cap = (sd->len + n) * 2;
		sd->buf = realloc(sd->buf, sd->cap);
		if (sd->buf == NULL)
			abort();
	}
	memcpy(sd->buf + sd->len, p, n);
	sd->len += n;
}

static void queuef(struct side *sd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void queuef(struct side *sd, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	queue(sd, tmp, (size_t)n);
}

/* n bytes of a pattern (JSON with addresses, or random) */
static void queue_body(struct side *sd, size_t n, bool json)
{
	while (n > 0) {
		size_t k = n < sizeof(json_pattern) ? n : sizeof(json_pattern);

		queue(sd, json ? (const void *)json_pattern : random_block, k);
		n -= k;
	}
}

/* The next exchange of a session: queue a request and its answer.
 * Returns false when the session is over. */
static bool step(struct sess *x)
{
	uint8_t m[512];

	if (x->left-- <= 0)
		return false;
	switch (x->proto) {
	case P_HTTP: {
		size_t body = range(2000, 200000);
		const char *what = rnd() % 2 ? "contacts" : "messages";

		x->customer = range(1001, 9999);
		queuef(&x->c,
		       "GET /api/v1/customers/c%u/%s?page=%u HTTP/1.1\r\n"
		       "Host: api.esp.test\r\nUser-Agent: esp-client/2.3.1\r\n"
		       "Authorization: Basic YzEwMDE6cHctYzEwMDE=\r\n"
		       "Accept: application/json\r\n\r\n",
		       x->customer, what, range(1, 9));
		if (rnd() % 4 == 0) { /* chunked */
			queuef(&x->s, "HTTP/1.1 200 OK\r\nContent-Type: "
				      "application/json\r\nTransfer-Encoding: "
				      "chunked\r\n\r\n");
			while (body > 0) {
				size_t k = body < 16384 ? body : 16384;

				queuef(&x->s, "%zx\r\n", k);
				queue_body(&x->s, k, true);
				queuef(&x->s, "\r\n");
				body -= k;
			}
			queuef(&x->s, "0\r\n\r\n");
		} else {
			queuef(&x->s, "HTTP/1.1 200 OK\r\nContent-Type: "
				      "application/json\r\nContent-Length: "
				      "%zu\r\n\r\n",
			       body);
			queue_body(&x->s, body, true);
		}
		return true;
	}
	case P_TLS:
		if (x->phase++ == 0) { /* ClientHello with a server name */
			static const char sni[] = "mail.esp.test";
			size_t sl = sizeof(sni) - 1, n = 0, body;

			m[n++] = 0x16;
			m[n++] = 3;
			m[n++] = 1;
			n += 2; /* record length */
			m[n++] = 1;
			n += 3; /* handshake length */
			m[n++] = 3;
			m[n++] = 3;
			memcpy(m + n, random_block, 32);
			n += 32;
			m[n++] = 0; /* session id */
			memcpy(m + n, "\x00\x02\x13\x01\x01\x00", 6);
			n += 6;
			w16(m + n, (uint16_t)(9 + sl));
			n += 2;
			w16(m + n, 0); /* server_name */
			w16(m + n + 2, (uint16_t)(5 + sl));
			w16(m + n + 4, (uint16_t)(3 + sl));
			m[n + 6] = 0;
			w16(m + n + 7, (uint16_t)sl);
			memcpy(m + n + 9, sni, sl);
			n += 9 + sl;
			body = n - 9;
			w16(m + 3, (uint16_t)(n - 5));
			m[6] = 0;
			w16(m + 7, (uint16_t)body);
			queue(&x->c, m, n);
		}
		{ /* 0.2-2 MB of records from the server, 16 KB each */
			size_t n = range(50000, 500000);

			while (n > 0) {
				size_t k = n < 16384 ? n : 16384;

				m[0] = 0x17;
				m[1] = 3;
				m[2] = 3;
				w16(m + 3, (uint16_t)k);
				queue(&x->s, m, 5);
				queue_body(&x->s, k, false);
				n -= k;
			}
			m[0] = 0x17;
			m[1] = 3;
			m[2] = 3;
			w16(m + 3, 64);
			queue(&x->c, m, 5);
			queue_body(&x->c, 64, false);
		}
		return true;
	case P_PG:
		if (x->phase++ == 0) {
			static const char st[] = "\x00\x03\x00\x00user\0app\0"
						 "database\0mail\0\0";

			w32(m, (uint32_t)(4 + sizeof(st) - 1));
			memcpy(m + 4, st, sizeof(st) - 1);
			queue(&x->c, m, 4 + sizeof(st) - 1);
			queue(&x->s, "R\x00\x00\x00\x08\x00\x00\x00\x00Z\x00\x00\x00\x05I",
			      15);
		}
		{
			char q[256];
			size_t rows = range(10, 100), ql;

			ql = (size_t)snprintf(q, sizeof(q),
					      "SELECT name, email FROM contacts "
					      "WHERE customer_id = 'c%u' ORDER "
					      "BY name",
					      range(1001, 9999));
			m[0] = 'Q';
			w32(m + 1, (uint32_t)(4 + ql + 1));
			queue(&x->c, m, 5);
			queue(&x->c, q, ql + 1);
			for (size_t i = 0; i < rows; i++) { /* DataRow ~1 KB */
				m[0] = 'D';
				w32(m + 1, 4 + 2 + 4 + 1000);
				w16(m + 5, 1);
				w32(m + 7, 1000);
				queue(&x->s, m, 11);
				queue_body(&x->s, 1000, true);
			}
			queue(&x->s, "C\x00\x00\x00\x0dSELECT 1\0Z\x00\x00\x00\x05I",
			      20);
		}
		return true;
	case P_DNS:
		return true;
	}
	return false;
}

static uint32_t client_addr(void)
{
	return 0x0a010000u | range(1, 60000); /* 10.1.0.0/16 */
}

static void open_sess(struct sess *x)
{
	uint32_t r = range(0, 99);

	for (int i = 0; i < 2; i++)
		free(i ? x->s.buf : x->c.buf);
	memset(x, 0, sizeof(*x));
	x->c.addr = client_addr();
	x->c.port = (uint16_t)range(32768, 60999);
	x->c.seq = (uint32_t)rnd();
	x->s.seq = (uint32_t)rnd();
	if (r < 45) {
		x->proto = P_HTTP;
		x->s.addr = 0x0a000001;
		x->s.port = 80;
		x->left = (int)range(1, 6);
	} else if (r < 70) {
		x->proto = P_TLS;
		x->s.addr = 0x0a000001;
		x->s.port = 443;
		x->left = 1;
	} else if (r < 85) {
		x->proto = P_PG;
		x->c.addr = 0x0a00000a + range(0, 1); /* the app servers */
		x->s.addr = 0x0a000002;
		x->s.port = 5432;
		x->left = (int)range(5, 20);
	} else {
		x->proto = P_DNS;
		x->s.addr = 0x0a000035;
		x->s.port = 53;
		x->left = (int)range(1, 4);
	}
	if (x->proto != P_DNS) { /* the handshake */
		frame(x->c.addr, x->s.addr, x->c.port, x->s.port, 6,
		      x->c.seq++, 0, 0x02, NULL, 0);
		frame(x->s.addr, x->c.addr, x->s.port, x->c.port, 6,
		      x->s.seq++, x->c.seq, 0x12, NULL, 0);
		frame(x->c.addr, x->s.addr, x->c.port, x->s.port, 6, x->c.seq,
		      x->s.seq, 0x10, NULL, 0);
	}
}

static void dns_exchange(struct sess *x)
{
	static const char *const names[] = { "mail", "api", "www", "smtp",
					     "imap", "static", "cdn" };
	uint8_t q[128];
	size_t n = 12;
	const char *name = names[range(0, 6)];
	uint16_t id = (uint16_t)rnd(), port = (uint16_t)range(32768, 60999);

	memset(q, 0, 12);
	w16(q, id);
	q[2] = 1;
	q[5] = 1;
	q[n++] = (uint8_t)strlen(name);
	memcpy(q + n, name, strlen(name));
	n += strlen(name);
	memcpy(q + n, "\x07" "esp-dns\x04test\x00\x00\x01\x00\x01", 18);
	n += 18;
	frame(x->c.addr, x->s.addr, port, 53, 17, 0, 0, 0, q, (uint32_t)n);
	q[2] = 0x85;
	q[3] = 0x80;
	q[7] = 1;
	memcpy(q + n, "\xc0\x0c\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04\x0a\x00\x00\x01",
	       16);
	frame(x->s.addr, x->c.addr, 53, port, 17, 0, 0, 0, q,
	      (uint32_t)n + 16);
}

/* Send the next segment of whichever side has bytes queued (the client
 * first: requests before answers). Returns false when both are idle. */
static bool pump(struct sess *x)
{
	struct side *a = x->c.len > x->c.off ? &x->c : &x->s;
	struct side *b = a == &x->c ? &x->s : &x->c;
	uint32_t n;

	if (a->len == a->off)
		return false;
	n = (uint32_t)(a->len - a->off < MSS ? a->len - a->off : MSS);
	frame(a->addr, b->addr, a->port, b->port, 6, a->seq, b->seq, 0x18,
	      a->buf + a->off, n);
	a->seq += n;
	a->off += n;
	if (++a->unacked == 2 || a->off == a->len) { /* delayed ACK */
		frame(b->addr, a->addr, b->port, a->port, 6, b->seq, a->seq,
		      0x10, NULL, 0);
		a->unacked = 0;
	}
	if (a->off == a->len)
		a->off = a->len = 0;
	return true;
}

static void close_sess(struct sess *x)
{
	if (x->proto == P_DNS)
		return;
	frame(x->c.addr, x->s.addr, x->c.port, x->s.port, 6, x->c.seq++,
	      x->s.seq, 0x11, NULL, 0);
	frame(x->s.addr, x->c.addr, x->s.port, x->c.port, 6, x->s.seq++,
	      x->c.seq, 0x11, NULL, 0);
	frame(x->c.addr, x->s.addr, x->c.port, x->s.port, 6, x->c.seq,
	      x->s.seq, 0x10, NULL, 0);
}

static void init_patterns(void)
{
	size_t at = 0;

	for (size_t i = 0; i < sizeof(random_block); i++)
		random_block[i] = (uint8_t)rnd();
	at += (size_t)snprintf(json_pattern, sizeof(json_pattern), "[");
	while (at < sizeof(json_pattern) - 200) {
		uint32_t c = range(1001, 9999), j = range(1, 999);

		at += (size_t)snprintf(json_pattern + at,
				       sizeof(json_pattern) - at,
				       "{\"name\":\"Contact %u\",\"email\":"
				       "\"friend%u.c%u@example.net\",\"phone\":"
				       "\"+49 30 %07u\",\"notes\":\"met at "
				       "the conference in spring\"},",
				       j, j, c, range(0, 9999999));
	}
	memset(json_pattern + at, ' ', sizeof(json_pattern) - at);
}

int main(int argc, char **argv)
{
	uint32_t hdr[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, 262144, 1 };
	uint64_t mb;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gen_pcap MEGABYTES [SEED] > file.pcap\n");
		return 2;
	}
	mb = strtoull(argv[1], NULL, 10);
	rng_state = argc == 3 ? strtoull(argv[2], NULL, 10) : 1;
	limit = mb << 20;
	out = stdout;
	init_patterns();
	put(hdr, sizeof(hdr));
	for (int i = 0; i < NSESS; i++) {
		open_sess(&sess[i]);
		step(&sess[i]);
	}
	while (written < limit) {
		struct sess *x = &sess[range(0, NSESS - 1)];

		if (x->proto == P_DNS) {
			dns_exchange(x);
			if (--x->left <= 0) {
				open_sess(x);
				step(x);
			}
			continue;
		}
		/* a few segments at a time, as a burst from one flow */
		for (int k = 0; k < 8; k++)
			if (!pump(x))
				break;
		if (x->c.len == x->c.off && x->s.len == x->s.off && !step(x)) {
			close_sess(x);
			open_sess(x);
			step(x);
		}
	}
	for (int i = 0; i < NSESS; i++)
		close_sess(&sess[i]);
	if (fflush(out) != 0) {
		perror("gen_pcap: write");
		return 1;
	}
	fprintf(stderr, "gen_pcap: %" PRIu64 " frames, %" PRIu64 " bytes\n",
		nframes, written);
	for (int i = 0; i < NSESS; i++) {
		free(sess[i].c.buf);
		free(sess[i].s.buf);
	}
	return 0;
}
