/*
 * app_http.c - HTTP/1.x requests and responses as `http` events.
 *
 * Each direction is read as a sequence of messages: a header block (kept
 * whole, at most app_limits.max_header bytes), then a body framed by
 * Content-Length, chunked transfer coding, or (responses only) the end of
 * the connection. Requests wait in a queue (pipelining: at most
 * max_pending) for their responses, which come in the same order; when a
 * response is complete, the pair is one event with the fields the nginx
 * parser fills: method, path and query as in the request line (through
 * parse_util_request, so both read a target alike), Host, User-Agent,
 * Referer, the Basic-auth user as principal, status, request bytes and
 * response body bytes, and the time between request and response.
 *
 * Bodies are counted, not kept; they go through the PII scan (response
 * bodies: what a client took; request bodies: what a client uploaded).
 * A direction whose header block is malformed or hit by a capture gap is
 * given up (counted); a gap inside a body only shortens it. Upgrades (101)
 * and CONNECT tunnels end the reading of the flow.
 */
#include "app_int.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "parse_util.h"

#define MAX_CHUNK_LINE 1024
#define MAX_FIELD 2048 /* a header value kept for the event */

enum hstate {
	H_HEAD,        /* reading a header block */
	H_BODY,        /* remain bytes of body */
	H_CHUNK_SIZE,  /* a chunk-size line */
	H_CHUNK_DATA,  /* remain bytes of a chunk */
	H_CHUNK_CRLF,  /* the CRLF after a chunk */
	H_TRAILER,     /* trailer lines after the last chunk */
	H_UNTIL_CLOSE, /* a response body read to the end of the flow */
	H_DEAD,        /* given up */
};

struct hdir {
	enum hstate s;
	struct bw_buf head; /* the header block, or a chunk-size line */
	uint64_t remain;
	uint64_t body;      /* body bytes of the current message */
	uint64_t bytes;     /* bytes of the current message */
};

/* A request waiting for its response. Its strings live in mem. */
struct hreq {
	char *mem;
	size_t charged; /* mem's charge to the memory budget */
	uint32_t line, line_len, host, host_len, ua, ua_len, ref, ref_len,
		user, user_len;
	int64_t ts_us;
	uint64_t pkt;
	uint64_t bytes;
	bool head_method, connect;
};

struct http {
	struct hdir d[2];
	struct hreq *q; /* ring of max_pending */
	uint32_t qhead, qn;
	struct hreq cur;  /* the request being read (its body) */
	bool cur_open;
	int status;       /* of the response being read */
	int64_t resp_ts;
};

static int detect(const uint8_t *p, uint32_t len, int dir)
{
	static const char *const methods[] = {
		"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ",
		"PATCH ", "CONNECT ", "TRACE ", "PROPFIND ",
	};
	bool maybe = false;

	if (dir == FLOW_S2C) {
		if (len >= 7)
			return memcmp(p, "HTTP/1.", 7) == 0;
		return memcmp(p, "HTTP/1.", len) == 0 ? -1 : 0;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		size_t n = strlen(methods[i]);

		if (len >= n && memcmp(p, methods[i], n) == 0)
			return 1;
		if (len < n && memcmp(p, methods[i], len) == 0)
			maybe = true;
	}
	return maybe ? -1 : 0;
}

static void *open_(struct app_ctx *c)
{
	struct http *h = xcalloc(1, sizeof(*h));

	for (int i = 0; i < 2; i++)
		bw_buf_init(&h->d[i].head, c->lim.max_header);
	h->q = xcalloc(c->lim.max_pending ? c->lim.max_pending : 1,
		       sizeof(*h->q));
	h->status = -1;
	return h;
}

static void free_(struct app_ctx *c, void *st)
{
	struct http *h = st;

	for (int i = 0; i < 2; i++)
		app_buf_free(c, &h->d[i].head);
	/* q entries are freed by end() */
	app_mem_free(c, h->cur.mem, h->cur.charged);
	free(h->q);
	free(h);
}

static struct bw_str sv(const struct hreq *r, uint32_t off, uint32_t len)
{
	return len ? (struct bw_str){ r->mem + off, len } : BW_STR_NULL;
}

/* Emit the request r with the response so far (status -1: none). */
static void emit(struct app_ctx *c, struct http *h, const struct flow *f,
		 struct hreq *r, int status, uint64_t body,
		 const struct app_pkt *pk)
{
	struct bw_event ev;
	struct bw_str line = sv(r, r->line, r->line_len);

	app_event(c, &ev, f, BW_KIND_HTTP, pk);
	parse_util_request(line.p, line.len, &ev);
	ev.host = sv(r, r->host, r->host_len);
	ev.user_agent = sv(r, r->ua, r->ua_len);
	ev.referer = sv(r, r->ref, r->ref_len);
	ev.principal = sv(r, r->user, r->user_len);
	ev.status = status;
	ev.bytes_in = (int64_t)r->bytes;
	if (status >= 0)
		ev.bytes_out = (int64_t)body;
	if (pk->ts_us >= r->ts_us)
		ev.duration_us = pk->ts_us - r->ts_us;
	ev.raw = app_raw(c, f, "\"%.*s\" %d %lld", (int)line.len, line.p,
			 status, (long long)(status >= 0 ? (int64_t)body : -1));
	ev.ref.number = r->pkt;
	app_emit(c, APP_HTTP, &ev);
	(void)h;
}

/* Case-insensitive header name test: line starts with "name:". */
static bool is_header(const char *p, size_t len, const char *name,
		      const char **val, size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || p[n] != ':' || !app_prefix_ci((const uint8_t *)p, len,
						       name))
		return false;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	*val = p;
	*vlen = len;
	return true;
}

/* The user of "Basic BASE64(user:password)" into out; its length. */
static size_t basic_user(const char *v, size_t len, char *out, size_t cap)
{
	unsigned char bin[256];
	size_t blen = 0, n = 0;

	if (len < 6 || !app_prefix_ci((const uint8_t *)v, len, "basic "))
		return 0;
	v += 6;
	len -= 6;
	while (len > 0 && *v == ' ')
		v++, len--;
	if (sodium_base642bin(bin, sizeof(bin), v, len, NULL, &blen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return 0;
	while (n < blen && n < cap && bin[n] != ':') {
		if (bin[n] < 0x20 || bin[n] == 0x7f)
			return 0;
		out[n] = (char)bin[n];
		n++;
	}
	return n < blen ? n : 0; /* no ':' : not user:password */
}

/* A decimal Content-Length; -1 when malformed. */
static int64_t content_length(const char *v, size_t len)
{
	int64_t n = 0;

	if (len == 0 || len > 15)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return n;
}

/* The framing headers of a message. Returns -1 when they are
 * contradictory (two different lengths, a bad length). */
struct framing {
	int64_t length; /* -1: none */
	bool chunked;
};

static int add_str(struct app_ctx *c, struct bw_buf *m, const char *p,
		   size_t len, uint32_t *off, uint32_t *olen)
{
	if (len > MAX_FIELD)
		len = MAX_FIELD;
	*off = (uint32_t)m->len;
	*olen = (uint32_t)len;
	return app_buf_add(c, m, p, len);
}

/* Read the header lines of a block (after its first line). */
static int headers(struct app_ctx *c, const char *p, size_t len,
		   struct framing *fr, struct hreq *r, struct bw_buf *m)
{
	const char *end = p + len;

	fr->length = -1;
	fr->chunked = false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		const char *v;
		size_t vl;

		if (ll > 0 && p[ll - 1] == '\r')
			ll--;
		if (ll == 0)
			break;
		if (is_header(p, ll, "content-length", &v, &vl)) {
			int64_t n = content_length(v, vl);

			if (n < 0 || (fr->length >= 0 && fr->length != n))
				return -1;
			fr->length = n;
		} else if (is_header(p, ll, "transfer-encoding", &v, &vl)) {
			fr->chunked = vl >= 7 &&
				      app_prefix_ci((const uint8_t *)v + vl - 7,
						    7, "chunked");
		} else if (r != NULL) {
			char user[128];
			size_t ul;
			int rc = 0;

			if (is_header(p, ll, "host", &v, &vl))
				rc = add_str(c, m, v, vl, &r->host,
					     &r->host_len);
			else if (is_header(p, ll, "user-agent", &v, &vl))
				rc = add_str(c, m, v, vl, &r->ua, &r->ua_len);
			else if (is_header(p, ll, "referer", &v, &vl))
				rc = add_str(c, m, v, vl, &r->ref,
					     &r->ref_len);
			else if (is_header(p, ll, "authorization", &v, &vl) &&
				 (ul = basic_user(v, vl, user, sizeof(user))) >
					 0)
				rc = add_str(c, m, user, ul, &r->user,
					     &r->user_len);
			if (rc < 0)
				return -1;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}

/* The first line of a block, without its line end. */
static size_t first_line(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);
	size_t n = nl ? (size_t)(nl - p) : len;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	return n;
}

/* Where the header lines start: after the first line's end. */
static size_t after_first(const char *p, size_t len)
{
	const char *nl = memchr(p, '\n', len);

	return nl ? (size_t)(nl - p) + 1 : len;
}

static void set_body(struct hdir *d, const struct framing *fr, bool until_close)
{
	d->body = 0;
	if (fr->chunked) {
		d->s = H_CHUNK_SIZE;
		bw_buf_reset(&d->head);
	} else if (fr->length > 0) {
		d->s = H_BODY;
		d->remain = (uint64_t)fr->length;
	} else if (fr->length < 0 && until_close) {
		d->s = H_UNTIL_CLOSE;
	} else {
		d->s = H_HEAD;
	}
}

static void push_request(struct app_ctx *c, struct http *h,
			 const struct flow *f, const struct app_pkt *pk)
{
	uint32_t max = c->lim.max_pending ? c->lim.max_pending : 1;

	if (h->qn == max) { /* the oldest will never be answered here */
		struct hreq *old = &h->q[h->qhead];

		emit(c, h, f, old, -1, 0, pk);
		app_mem_free(c, old->mem, old->charged);
		h->qhead = (h->qhead + 1) % max;
		h->qn--;
	}
	h->q[(h->qhead + h->qn) % max] = h->cur;
	h->qn++;
	memset(&h->cur, 0, sizeof(h->cur));
	h->cur_open = false;
}

/* A request's header block is whole in d->head. */
static int request_head(struct app_ctx *c, struct http *h, struct hdir *d,
			const struct app_pkt *pk)
{
	const char *p = d->head.data;
	size_t len = d->head.len, ll = first_line(p, len);
	struct bw_buf m;
	struct framing fr;
	struct hreq r = { 0 };
	const char *sp = memchr(p, ' ', ll);

	if (sp == NULL || sp == p || ll < 14 ||
	    memcmp(p + ll - 8, "HTTP/1.", 7) != 0)
		return -1;
	for (const char *q = p; q < sp; q++)
		if (!parse_util_tchar((unsigned char)*q))
			return -1;
	bw_buf_init(&m, c->lim.max_header + 4 * MAX_FIELD);
	if (add_str(c, &m, p, ll, &r.line, &r.line_len) < 0 ||
	    headers(c, p + after_first(p, len), len - after_first(p, len),
		    &fr, &r, &m) < 0) {
		app_buf_free(c, &m);
		return -1;
	}
	r.line_len = ll > MAX_FIELD ? MAX_FIELD : (uint32_t)ll;
	r.mem = app_buf_steal(c, &m, &r.charged);
	r.ts_us = pk->ts_us;
	r.pkt = pk->number;
	r.bytes = len;
	r.head_method = sp - p == 4 && memcmp(p, "HEAD", 4) == 0;
	r.connect = sp - p == 7 && memcmp(p, "CONNECT", 7) == 0;
	h->cur = r;
	h->cur_open = true;
	set_body(d, &fr, false);
	return 0;
}

static struct hreq *front(struct app_ctx *c, struct http *h)
{
	(void)c;
	return h->qn > 0 ? &h->q[h->qhead] : NULL;
}

static void pop(struct app_ctx *c, struct http *h)
{
	uint32_t max = c->lim.max_pending ? c->lim.max_pending : 1;

	app_mem_free(c, h->q[h->qhead].mem, h->q[h->qhead].charged);
	memset(&h->q[h->qhead], 0, sizeof(h->q[0]));
	h->qhead = (h->qhead + 1) % max;
	h->qn--;
}

/* The response being read is complete. */
static void response_done(struct app_ctx *c, struct http *h,
			  struct app_flow *af, const struct flow *f,
			  const struct app_pkt *pk)
{
	struct hreq *r = front(c, h);

	if (r != NULL) {
		emit(c, h, f, r, h->status, h->d[FLOW_S2C].body, pk);
		pop(c, h);
	}
	app_pii_report(c, af, f, FLOW_S2C, pk);
	h->status = -1;
}

static int response_head(struct app_ctx *c, struct http *h,
			 struct app_flow *af, const struct flow *f,
			 const struct app_pkt *pk)
{
	struct hdir *d = &h->d[FLOW_S2C];
	const char *p = d->head.data;
	size_t len = d->head.len, ll = first_line(p, len);
	struct framing fr;
	struct hreq *r;
	int st;

	if (ll < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9')
		return -1;
	st = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	if (headers(c, p + after_first(p, len), len - after_first(p, len), &fr,
		    NULL, NULL) < 0)
		return -1;
	if (st == 101) { /* switching protocols: no more HTTP */
		h->status = st;
		response_done(c, h, af, f, pk);
		d->s = H_DEAD;
		h->d[FLOW_C2S].s = H_DEAD;
		return 0;
	}
	if (st < 200) { /* 100 Continue and friends: the real one follows */
		d->s = H_HEAD;
		return 0;
	}
	h->status = st;
	r = front(c, h);
	if (r != NULL && r->connect && st < 300) {
		response_done(c, h, af, f, pk);
		d->s = H_DEAD;
		h->d[FLOW_C2S].s = H_DEAD;
		return 0;
	}
	if ((r != NULL && r->head_method) || st == 204 || st == 304) {
		d->body = 0;
		response_done(c, h, af, f, pk);
		d->s = H_HEAD;
		return 0;
	}
	set_body(d, &fr, true);
	if (d->s == H_HEAD)
		response_done(c, h, af, f, pk);
	return 0;
}

/* A message (request or response) ended its body. */
static void message_done(struct app_ctx *c, struct http *h,
			 struct app_flow *af, const struct flow *f, int dir,
			 const struct app_pkt *pk)
{
	h->d[dir].s = H_HEAD;
	if (dir == FLOW_C2S)
		push_request(c, h, f, pk);
	else
		response_done(c, h, af, f, pk);
}

static void give_up(struct app_ctx *c, struct http *h, int dir)
{
	h->d[dir].s = H_DEAD;
	c->st.errors[APP_HTTP]++;
}

/* Header bytes: append up to the blank line. Returns bytes used, or -1
 * when the block is too long. *done when it is whole. */
static int64_t head_bytes(struct app_ctx *c, struct hdir *d, const uint8_t *p,
			  uint32_t len, bool *done)
{
	size_t old = d->head.len, from, n = len;
	const char *b;

	*done = false;
	/* Blank lines before a message (after a body's CRLF) are skipped. */
	if (old == 0) {
		size_t k = 0;

		while (k < len && (p[k] == '\r' || p[k] == '\n'))
			k++;
		if (k > 0)
			return (int64_t)k;
	}
	if (n > d->head.max - old)
		n = d->head.max - old;
	if (app_buf_add(c, &d->head, p, n) < 0)
		return -1;
	b = d->head.data;
	from = old > 3 ? old - 3 : 0;
	for (size_t i = from; i + 1 < d->head.len; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n' ||
		    (b[i + 1] == '\r' && i + 2 < d->head.len &&
		     b[i + 2] == '\n')) {
			size_t end = b[i + 1] == '\n' ? i + 2 : i + 3;

			d->head.len = end; /* the rest is not the header's */
			*done = true;
			return (int64_t)(end - old);
		}
	}
	if (d->head.len == d->head.max)
		return -1;
	return (int64_t)n;
}

/* A chunk-size line: hex digits, maybe extensions. */
static int chunk_size(const char *p, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i = 0;

	for (; i < len; i++) {
		int v;

		if (p[i] >= '0' && p[i] <= '9')
			v = p[i] - '0';
		else if ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')
			v = (p[i] | 0x20) - 'a' + 10;
		else
			break;
		if (n >> 56)
			return -1;
		n = n * 16 + (uint64_t)v;
	}
	if (i == 0)
		return -1;
	*out = n;
	return 0;
}

/* One line (chunk size, CRLF, trailer) into d->head. Returns bytes used,
 * -1 on an overlong line; *done when the line is whole (in d->head,
 * without its end). */
static int64_t line_bytes(struct app_ctx *c, struct hdir *d, const uint8_t *p,
			  uint32_t len, bool *done)
{
	const uint8_t *nl = memchr(p, '\n', len);
	size_t n = nl ? (size_t)(nl - p) + 1 : len;

	*done = nl != NULL;
	if (app_buf_add(c, &d->head, p, n) < 0 || d->head.len > MAX_CHUNK_LINE)
		return -1;
	if (*done) {
		d->head.len--;
		if (d->head.len > 0 && d->head.data[d->head.len - 1] == '\r')
			d->head.len--;
	}
	return (int64_t)n;
}

static void body_bytes(struct app_ctx *c, struct app_flow *af,
		       const struct flow *f, int dir, const uint8_t *p,
		       uint32_t n, const struct app_pkt *pk)
{
	struct http *h = af->st;

	h->d[dir].body += n;
	if (dir == FLOW_C2S && h->cur_open)
		h->cur.bytes += n;
	app_pii_scan(c, af, f, dir, p, n, pk);
}

static void stream(struct app_ctx *c, struct app_flow *af,
		   const struct flow *f, int dir, const uint8_t *p,
		   uint32_t len, const struct app_pkt *pk)
{
	struct http *h = af->st;
	struct hdir *d = &h->d[dir];

	if (p == NULL) { /* a gap */
		if (d->s == H_UNTIL_CLOSE ||
		    ((d->s == H_BODY || d->s == H_CHUNK_DATA) &&
		     len <= d->remain)) {
			d->remain -= d->s == H_UNTIL_CLOSE ? 0 : len;
			d->body += len;
			app_pii_scan(c, af, f, dir, NULL, len, pk);
			if (d->remain == 0 && d->s == H_BODY)
				message_done(c, h, af, f, dir, pk);
			else if (d->remain == 0 && d->s == H_CHUNK_DATA)
				d->s = H_CHUNK_CRLF;
			return;
		}
		if (d->s != H_DEAD) {
			c->st.gaps++;
			give_up(c, h, dir);
		}
		return;
	}
	while (len > 0 && d->s != H_DEAD) {
		int64_t used;
		bool done;
		uint64_t n;

		if (dir == FLOW_C2S && h->cur_open && d->s == H_HEAD)
			push_request(c, h, f, pk); /* a request without body */
		switch (d->s) {
		case H_HEAD:
			used = head_bytes(c, d, p, len, &done);
			if (used < 0) {
				give_up(c, h, dir);
				return;
			}
			if (done) {
				int rc = dir == FLOW_C2S
						 ? request_head(c, h, d, pk)
						 : response_head(c, h, af, f,
								 pk);

				bw_buf_reset(&d->head);
				if (rc < 0) {
					give_up(c, h, dir);
					return;
				}
				if (dir == FLOW_C2S && d->s == H_HEAD)
					push_request(c, h, f, pk);
			}
			break;
		case H_BODY:
		case H_CHUNK_DATA:
			n = d->remain < len ? d->remain : len;
			body_bytes(c, af, f, dir, p, (uint32_t)n, pk);
			d->remain -= n;
			used = (int64_t)n;
			if (d->remain == 0) {
				if (d->s == H_BODY)
					message_done(c, h, af, f, dir, pk);
				else
					d->s = H_CHUNK_CRLF;
			}
			break;
		case H_UNTIL_CLOSE:
			body_bytes(c, af, f, dir, p, len, pk);
			used = len;
			break;
		case H_CHUNK_SIZE:
		case H_CHUNK_CRLF:
		case H_TRAILER:
			used = line_bytes(c, d, p, len, &done);
			if (used < 0) {
				give_up(c, h, dir);
				return;
			}
			/* chunk framing counts as request bytes too */
			if (dir == FLOW_C2S && h->cur_open)
				h->cur.bytes += (uint64_t)used;
			if (!done)
				break;
			if (d->s == H_CHUNK_CRLF) {
				d->s = d->head.len == 0 ? H_CHUNK_SIZE : H_DEAD;
				if (d->s == H_DEAD)
					c->st.errors[APP_HTTP]++;
			} else if (d->s == H_TRAILER) {
				if (d->head.len == 0)
					message_done(c, h, af, f, dir, pk);
			} else if (chunk_size(d->head.data, d->head.len,
					      &n) < 0) {
				bw_buf_reset(&d->head);
				give_up(c, h, dir);
				return;
			} else if (n == 0) {
				d->s = H_TRAILER;
			} else {
				d->s = H_CHUNK_DATA;
				d->remain = n;
			}
			bw_buf_reset(&d->head);
			break;
		default:
			return;
		}
		p += used;
		len -= (uint32_t)used;
	}
}

static void end(struct app_ctx *c, struct app_flow *af, const struct flow *f,
		const struct app_pkt *pk)
{
	struct http *h = af->st;

	if (h->cur_open)
		push_request(c, h, f, pk);
	/* A response read to the close ends here. */
	if (h->d[FLOW_S2C].s == H_UNTIL_CLOSE && h->status >= 0)
		response_done(c, h, af, f, pk);
	while (h->qn > 0) { /* never answered */
		emit(c, h, f, front(c, h), -1, 0, pk);
		pop(c, h);
	}
}

const struct app_ops app_http_ops = {
	.proto = APP_HTTP,
	.name = "http",
	.detect = detect,
	.open = open_,
	.stream = stream,
	.end = end,
	.free = free_,
};
