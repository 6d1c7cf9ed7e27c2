/*
 * app.c - recognising a flow's protocol and handing its bytes to the
 * protocol's extractor (see app.h).
 */
#include "app_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/cidr.h"
#include "../common/xmalloc.h"

#define RAW_MAX 2048

/* Recognised in this order; the first to say yes wins. */
static const struct app_ops *const protos[] = {
	&app_http_ops,
	&app_tls_ops,
	&app_pg_ops,
	&app_ssh_ops,
	&app_dns_tcp_ops,
};

#define NPROTOS (sizeof(protos) / sizeof(protos[0]))

/* The ops of a flow: DNS is in datagrams unless the flow is TCP. */
static const struct app_ops *ops_of(enum app_proto p, const struct flow *f)
{
	if (p == APP_DNS && f->proto != DP_TCP)
		return NULL;
	for (size_t i = 0; i < NPROTOS; i++)
		if (protos[i]->proto == p)
			return protos[i];
	return NULL;
}

const char *app_proto_name(enum app_proto p)
{
	static const char *const names[APP__COUNT] = {
		[APP_UNKNOWN] = "", [APP_HTTP] = "http", [APP_TLS] = "tls",
		[APP_PGSQL] = "postgres", [APP_SSH] = "ssh", [APP_DNS] = "dns",
		[APP_NONE] = "",
	};

	if ((unsigned)p >= APP__COUNT)
		return "";
	return names[p];
}

bool app_prefix_ci(const uint8_t *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && strncasecmp((const char *)p, prefix, n) == 0;
}

void app_ctx_init(struct app_ctx *c, const struct app_limits *lim,
		  app_emit_fn emit, void *arg, const char *file)
{
	memset(c, 0, sizeof(*c));
	c->lim = lim != NULL ? *lim : APP_LIMITS_DEFAULT;
	c->emit = emit;
	c->arg = arg;
	c->file = file;
	bw_buf_init(&c->raw, RAW_MAX);
}

void app_ctx_fini(struct app_ctx *c)
{
	bw_buf_free(&c->raw);
}

/* The capacity bw_buf_add will give b for n more bytes (common/buf.c: a
 * NUL after the data, 64 bytes at first, doubling, at most max + 1). */
static size_t grown_cap(const struct bw_buf *b, size_t n)
{
	size_t want = b->len + n + 1, ncap;

	if (want <= b->cap)
		return b->cap;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap *= 2;
	return ncap > b->max + 1 ? b->max + 1 : ncap;
}

int app_buf_add(struct app_ctx *c, struct bw_buf *b, const void *p, size_t n)
{
	size_t old = b->cap;

	if (n > b->max || b->len > b->max - n)
		return -1; /* the buffer's own ceiling */
	if (c->st.mem_now + (grown_cap(b, n) - old) > c->lim.max_memory) {
		c->st.memcap++;
		return -1;
	}
	if (bw_buf_add(b, p, n) < 0)
		return -1;
	c->st.mem_now += b->cap - old;
	if (c->st.mem_now > c->st.mem_peak)
		c->st.mem_peak = c->st.mem_now;
	return 0;
}

void app_buf_free(struct app_ctx *c, struct bw_buf *b)
{
	c->st.mem_now -= b->cap;
	bw_buf_free(b);
}

char *app_buf_steal(struct app_ctx *c, struct bw_buf *b, size_t *charged)
{
	(void)c;
	*charged = b->cap;
	return bw_buf_steal(b);
}

void app_mem_free(struct app_ctx *c, void *p, size_t charged)
{
	if (p == NULL)
		return;
	c->st.mem_now -= charged;
	free(p);
}

struct app_flow *app_flow_new(void)
{
	return xcalloc(1, sizeof(struct app_flow));
}

enum app_proto app_flow_proto(const struct app_flow *af)
{
	return af->proto;
}

void app_event(struct app_ctx *c, struct bw_event *ev, const struct flow *f,
	       enum bw_kind k, const struct app_pkt *pk)
{
	bw_event_clear(ev);
	ev->ts_us = pk->ts_us;
	ev->kind = k;
	ev->source = BW_SRC_PCAP;
	ev->src_ip = f->client;
	ev->dst_ip = f->server;
	ev->src_port = f->cport;
	ev->dst_port = f->sport;
	ev->ref.file = c->file;
	ev->ref.number = pk->number;
}

struct bw_str app_raw(struct app_ctx *c, const struct flow *f,
		      const char *fmt, ...)
{
	char a[64], b[64];
	va_list ap;
	int rc;

	bw_buf_reset(&c->raw);
	bw_addr_str(&f->client, a, sizeof(a));
	bw_addr_str(&f->server, b, sizeof(b));
	rc = bw_buf_printf(&c->raw, "%s:%u > %s:%u ", a, f->cport, b,
			   f->sport);
	va_start(ap, fmt);
	if (rc == 0)
		rc = bw_buf_vprintf(&c->raw, fmt, ap);
	va_end(ap);
	(void)rc; /* past the ceiling: the summary is cut */
	return (struct bw_str){ c->raw.data, (uint32_t)c->raw.len };
}

void app_emit(struct app_ctx *c, enum app_proto proto, struct bw_event *ev)
{
	c->st.events[proto]++;
	if (c->emit != NULL)
		c->emit(c->arg, ev);
}

/* Settle the protocol of af once detection has decided. */
static void decided(struct app_ctx *c, struct app_flow *af,
		    const struct app_ops *ops)
{
	af->proto = ops != NULL ? ops->proto : APP_NONE;
	c->st.flows[af->proto]++;
	if (ops != NULL) {
		af->st = ops->open(c);
	} else {
		/* Cleartext of no known protocol: scan both ways. */
		af->scan[0] = af->scan[1] = true;
	}
}

/* Feed bytes to the settled protocol. */
static void feed(struct app_ctx *c, struct app_flow *af, const struct flow *f,
		 int dir, const uint8_t *data, uint32_t len,
		 const struct app_pkt *pk)
{
	const struct app_ops *ops = ops_of(af->proto, f);

	if (len == 0)
		return;
	if (ops != NULL)
		ops->stream(c, af, f, dir, data, len, pk);
	if (af->scan[dir])
		app_pii_scan(c, af, f, dir, data, len, pk);
}

/* 1 when the bytes held for dir decide the protocol (*out, NULL for none
 * of them), 0 when more are needed. */
static int detect(const uint8_t *p, uint32_t len, int dir,
		  const struct app_ops **out)
{
	bool maybe = false;

	for (size_t i = 0; i < NPROTOS; i++) {
		int r = protos[i]->detect(p, len, dir);

		if (r == 1) {
			*out = protos[i];
			return 1;
		}
		if (r < 0)
			maybe = true;
	}
	*out = NULL;
	return maybe && len < APP_DETECT_MAX ? 0 : 1;
}

/*
 * The bytes of a flow whose protocol is not known yet. The first bytes of
 * each side are held (det) until a detector says yes or every one says no.
 * A server that speaks first in no protocol its side tells (a flow joined
 * midway, in the middle of a response) does not decide: its bytes wait
 * (only counted past det, at most APP_DETECT_WAIT) for the client's next
 * message, which does; if that names a protocol, the server's earlier
 * bytes are not given to its parser (they belong to an exchange not seen
 * from its start), else they are scanned like the rest.
 */
void app_stream(struct app_ctx *c, struct app_flow *af, const struct flow *f,
		int dir, const uint8_t *data, uint32_t len,
		const struct app_pkt *pk)
{
	const struct app_ops *ops = NULL;
	uint32_t take = 0;
	int other = !dir;
	bool waited;

	if (af->proto != APP_UNKNOWN) {
		feed(c, af, f, dir, data, len, pk);
		return;
	}
	if (af->wait_client && dir == FLOW_S2C &&
	    (data == NULL || af->det_len[dir] == APP_DETECT_MAX)) {
		af->det_lost[dir] += len;
		if (af->det_lost[dir] < APP_DETECT_WAIT)
			return;
		data = NULL; /* waited long enough: decide "none" */
		len = 0;
	} else if (data != NULL) {
		take = APP_DETECT_MAX - af->det_len[dir];
		if (take > len)
			take = len;
		memcpy(af->det[dir] + af->det_len[dir], data, take);
		af->det_len[dir] = (uint8_t)(af->det_len[dir] + take);
		if (detect(af->det[dir], af->det_len[dir], dir, &ops) == 0)
			return; /* every byte so far is held in det */
		if (ops == NULL && dir == FLOW_S2C &&
		    af->det_len[FLOW_C2S] == 0) {
			af->wait_client = true;
			af->det_lost[dir] += len - take;
			return;
		}
	}
	/* Decided (a gap before we knew decides "none": too late to tell):
	 * each side's held bytes and what it lost while we waited, the other
	 * side's first (it came first), then the rest of this chunk. */
	waited = af->wait_client && ops != NULL;
	decided(c, af, ops);
	if (!(waited && other == FLOW_S2C)) {
		feed(c, af, f, other, af->det[other], af->det_len[other], pk);
		feed(c, af, f, other, NULL, af->det_lost[other], pk);
	}
	feed(c, af, f, dir, af->det[dir], af->det_len[dir], pk);
	feed(c, af, f, dir, NULL, af->det_lost[dir], pk);
	if (data != NULL)
		feed(c, af, f, dir, data + take, len - take, pk);
	else
		feed(c, af, f, dir, NULL, len, pk);
}

static bool dns_port(uint16_t p)
{
	return p == 53 || p == 5353 || p == 5355;
}

void app_datagram(struct app_ctx *c, struct app_flow *af,
		  const struct flow *f, int dir, const uint8_t *data,
		  uint32_t len, const struct app_pkt *pk)
{
	if (af->proto == APP_UNKNOWN) {
		bool strict = !dns_port(f->sport) && !dns_port(f->cport);

		if (app_dns_datagram(c, f, dir, data, len, pk, strict) == 1) {
			af->proto = APP_DNS;
			c->st.flows[APP_DNS]++;
			return;
		}
		decided(c, af, NULL);
	} else if (af->proto == APP_DNS) {
		if (app_dns_datagram(c, f, dir, data, len, pk, false) == 0)
			c->st.errors[APP_DNS]++;
		return;
	}
	if (af->scan[dir])
		app_pii_scan(c, af, f, dir, data, len, pk);
}

void app_flow_end(struct app_ctx *c, struct app_flow **afp,
		  const struct flow *f, const struct app_pkt *pk)
{
	struct app_flow *af = *afp;
	const struct app_ops *ops;

	if (af == NULL)
		return;
	ops = ops_of(af->proto, f);
	if (ops != NULL && af->st != NULL) {
		if (ops->end != NULL)
			ops->end(c, af, f, pk);
		ops->free(c, af->st);
	}
	app_pii_report(c, af, f, FLOW_C2S, pk);
	app_pii_report(c, af, f, FLOW_S2C, pk);
	free(af);
	*afp = NULL;
}
