/*
 * app_dns.c - DNS messages in UDP datagrams as `dns` events.
 *
 * A query is action "query", an answer "answer"; resource is the question's
 * name (lowercase, no final dot; bytes outside printable ASCII, '.' and
 * '\' inside a label written \DDD as dig does), detail the question's type
 * ("A", "TXT", or "TYPE65"), status the answer's RCODE, text "answers=N"
 * for answers, bytes_in the query's size and bytes_out the answer's.
 *
 * Names are read with compression pointers that must point backwards
 * (so no loop), at most 255 bytes of name and 128 labels. In strict mode
 * (UDP ports that are not DNS ports) a datagram counts only if it has one
 * question, opcode QUERY, and its sections end exactly at its last byte.
 * DNS over TCP: app_dns_tcp_ops, at the end of the file.
 */
#include "app_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"

#define NAME_TEXT_MAX (255 * 4 + 1)
#define MAX_RR 256 /* records walked in strict mode */

struct dname {
	char text[NAME_TEXT_MAX];
	size_t len;
};

/* Read a name at *off. Returns 0 with *off past it (past the first
 * pointer when compressed), or -1. */
static int read_name(const uint8_t *p, size_t len, size_t *off,
		     struct dname *out)
{
	size_t o = *off, wire = 0, end_off = 0;
	int labels = 0;
	bool jumped = false;

	if (out != NULL)
		out->len = 0;
	for (;;) {
		uint8_t l;

		if (o >= len)
			return -1;
		l = p[o];
		if ((l & 0xc0) == 0xc0) {
			size_t to;

			if (o + 1 >= len)
				return -1;
			to = (size_t)(l & 0x3f) << 8 | p[o + 1];
			if (to >= o) /* only backwards: no loops */
				return -1;
			if (!jumped)
				end_off = o + 2;
			jumped = true;
			o = to;
			continue;
		}
		if (l & 0xc0)
			return -1; /* reserved label types */
		o++;
		if (l == 0)
			break;
		if (++labels > 128 || o + l > len)
			return -1;
		wire += (size_t)l + 1;
		if (wire > 255)
			return -1;
		if (out != NULL) {
			if (out->len > 0)
				out->text[out->len++] = '.';
			for (size_t i = 0; i < l; i++) {
				uint8_t ch = p[o + i];

				if (ch >= 'A' && ch <= 'Z')
					ch = (uint8_t)(ch + 32);
				if (ch > 0x20 && ch < 0x7f && ch != '.' &&
				    ch != '\\')
					out->text[out->len++] = (char)ch;
				else
					out->len += (size_t)snprintf(
						out->text + out->len, 5,
						"\\%03u", ch);
			}
		}
		o += l;
	}
	*off = jumped ? end_off : o;
	if (out != NULL)
		out->text[out->len] = '\0';
	return 0;
}

static const struct {
	uint16_t type;
	const char *name;
} types[] = {
	{ 1, "A" },     { 2, "NS" },     { 5, "CNAME" }, { 6, "SOA" },
	{ 10, "NULL" }, { 12, "PTR" },   { 15, "MX" },   { 16, "TXT" },
	{ 28, "AAAA" }, { 33, "SRV" },   { 35, "NAPTR" }, { 43, "DS" },
	{ 46, "RRSIG" }, { 48, "DNSKEY" }, { 64, "SVCB" }, { 65, "HTTPS" },
	{ 99, "SPF" },  { 252, "AXFR" }, { 255, "ANY" }, { 257, "CAA" },
};

static void type_name(uint16_t t, char *buf, size_t size)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t) {
			snprintf(buf, size, "%s", types[i].name);
			return;
		}
	snprintf(buf, size, "TYPE%u", t);
}

/* Walk n resource records from *off. */
static int skip_rrs(const uint8_t *p, size_t len, size_t *off, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		size_t rdlen;

		if (read_name(p, len, off, NULL) < 0 || *off + 10 > len)
			return -1;
		rdlen = app_rd16(p + *off + 8);
		*off += 10;
		if (*off + rdlen > len)
			return -1;
		*off += rdlen;
	}
	return 0;
}

int app_dns_datagram(struct app_ctx *c, const struct flow *f, int dir,
		     const uint8_t *p, uint32_t len, const struct app_pkt *pk,
		     bool strict)
{
	struct dname name;
	struct bw_event ev;
	char tname[16], text[32];
	unsigned qd, an, ns, ar, opcode, rcode;
	bool answer;
	size_t off = 12;
	uint16_t qtype;

	if (len < 12)
		return 0;
	answer = (p[2] & 0x80) != 0;
	opcode = (p[2] >> 3) & 0x0f;
	rcode = p[3] & 0x0f;
	qd = app_rd16(p + 4);
	an = app_rd16(p + 6);
	ns = app_rd16(p + 8);
	ar = app_rd16(p + 10);
	if (qd != 1 || (strict && opcode != 0))
		return 0;
	if (read_name(p, len, &off, &name) < 0 || off + 4 > len)
		return 0;
	qtype = app_rd16(p + off);
	off += 4;
	if (strict) {
		if (an + ns + ar > MAX_RR ||
		    skip_rrs(p, len, &off, an + ns + ar) < 0 || off != len)
			return 0;
	}
	/* Queries go client to server; a query the other way is a new
	 * exchange seen from its answer's side, and still one of this flow. */
	(void)dir;
	type_name(qtype, tname, sizeof(tname));
	app_event(c, &ev, f, BW_KIND_DNS, pk);
	ev.action = answer ? BW_STR_LIT("answer") : BW_STR_LIT("query");
	ev.resource = (struct bw_str){ name.text, (uint32_t)name.len };
	ev.detail = (struct bw_str){ tname, (uint32_t)strlen(tname) };
	if (answer) {
		ev.status = (int32_t)rcode;
		ev.bytes_out = len;
		snprintf(text, sizeof(text), "answers=%u", an);
		ev.text = (struct bw_str){ text, (uint32_t)strlen(text) };
	} else {
		ev.bytes_in = len;
	}
	ev.raw = app_raw(c, f, "DNS %s %s %s%s%s", answer ? "answer" : "query",
			 tname, name.len ? name.text : ".",
			 answer ? " " : "", answer ? text : "");
	app_emit(c, APP_DNS, &ev);
	return 1;
}

/*
 * DNS over TCP (RFC 7766): messages with a 2-byte length in front, read
 * from either direction of a TCP flow and handed to app_dns_datagram. A
 * flow is taken for DNS by content: a first message of a plausible length
 * (17 to 4096 bytes) whose header is a standard query with one question
 * and no answers.
 */
#define DNS_TCP_MAX 65535

struct dns_tcp {
	struct bw_buf msg[2]; /* the message being read, with its length */
	bool dead[2];
};

static int tcp_detect(const uint8_t *p, uint32_t len, int dir)
{
	uint32_t n;

	if (dir != FLOW_C2S)
		return 0;
	if (len < 14)
		return len >= 1 && p[0] > 0x0f ? 0 : -1;
	n = app_rd16(p);
	if (n < 17 || n > 4096)
		return 0;
	/* QR = 0, opcode QUERY; one question, no answers or authority */
	return (p[4] & 0xf8) == 0 && app_rd16(p + 6) == 1 &&
	       app_rd16(p + 8) == 0 && app_rd16(p + 10) == 0;
}

static void *tcp_open(struct app_ctx *c)
{
	struct dns_tcp *d = xcalloc(1, sizeof(*d));

	(void)c;
	bw_buf_init(&d->msg[0], DNS_TCP_MAX + 2);
	bw_buf_init(&d->msg[1], DNS_TCP_MAX + 2);
	return d;
}

static void tcp_free(struct app_ctx *c, void *st)
{
	struct dns_tcp *d = st;

	app_buf_free(c, &d->msg[0]);
	app_buf_free(c, &d->msg[1]);
	free(d);
}

static void tcp_stream(struct app_ctx *c, struct app_flow *af,
		       const struct flow *f, int dir, const uint8_t *p,
		       uint32_t len, const struct app_pkt *pk)
{
	struct dns_tcp *d = af->st;
	struct bw_buf *b = &d->msg[dir];

	if (d->dead[dir])
		return;
	if (p == NULL) { /* a gap: the framing is lost */
		d->dead[dir] = true;
		c->st.gaps++;
		return;
	}
	while (len > 0) {
		size_t want = b->len < 2 ? 2 : 2 + (size_t)app_rd16(
						       (const uint8_t *)b->data);
		size_t k = want - b->len < len ? want - b->len : len;

		if (app_buf_add(c, b, p, k) < 0) { /* the memory budget */
			d->dead[dir] = true;
			return;
		}
		p += k;
		len -= (uint32_t)k;
		if (b->len == 2 && app_rd16((const uint8_t *)b->data) < 12) {
			d->dead[dir] = true;
			c->st.errors[APP_DNS]++;
			return;
		}
		if (b->len <= 2 || b->len < want)
			continue; /* the length only, or a part of the message */
		if (app_dns_datagram(c, f, dir, (const uint8_t *)b->data + 2,
				     (uint32_t)(b->len - 2), pk, false) == 0)
			c->st.errors[APP_DNS]++;
		bw_buf_reset(b);
	}
}

const struct app_ops app_dns_tcp_ops = {
	.proto = APP_DNS,
	.name = "dns",
	.detect = tcp_detect,
	.open = tcp_open,
	.stream = tcp_stream,
	.free = tcp_free,
};
