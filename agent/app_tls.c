/*
 * app_tls.c - the TLS ClientHello as a `tls` event: action "client_hello",
 * resource the server name (SNI), detail the first ALPN protocol offered.
 *
 * The client's handshake bytes are gathered from its records (a
 * ClientHello may span records and segments) up to app_limits.max_message;
 * once the ClientHello is whole it is decoded field by field, each length
 * checked against what is left, and the flow is not read further.
 */
#include "app_int.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"

#define REC_MAX (16384 + 2048)
#define SNI_MAX 255

struct tls {
	uint8_t rec_hdr[5];
	uint32_t rec_have;  /* bytes of the record header read */
	uint32_t rec_left;  /* payload bytes left in the current record */
	bool rec_hs;        /* the record is a handshake record */
	struct bw_buf hs;   /* handshake bytes */
	bool done;
};

static int detect(const uint8_t *p, uint32_t len, int dir)
{
	if (dir != FLOW_C2S)
		return 0;
	if (len >= 1 && p[0] != 0x16)
		return 0;
	if (len >= 2 && p[1] != 0x03)
		return 0;
	if (len >= 3 && p[2] > 0x04)
		return 0;
	if (len >= 6)
		return p[5] == 0x01; /* a ClientHello */
	return -1;
}

static void *open_(struct app_ctx *c)
{
	struct tls *t = xcalloc(1, sizeof(*t));

	bw_buf_init(&t->hs, c->lim.max_message);
	return t;
}

static void free_(struct app_ctx *c, void *st)
{
	struct tls *t = st;

	app_buf_free(c, &t->hs);
	free(t);
}

struct rd {
	const uint8_t *p;
	size_t len;
};

static bool take(struct rd *r, size_t n, const uint8_t **out)
{
	if (r->len < n)
		return false;
	*out = r->p;
	r->p += n;
	r->len -= n;
	return true;
}

static bool vec(struct rd *r, size_t lenbytes, struct rd *out)
{
	const uint8_t *h, *b;
	size_t n = 0;

	if (!take(r, lenbytes, &h))
		return false;
	for (size_t i = 0; i < lenbytes; i++)
		n = n << 8 | h[i];
	if (!take(r, n, &b))
		return false;
	out->p = b;
	out->len = n;
	return true;
}

/* Decode the ClientHello body; 0 with sni/alpn (may be empty), or -1. */
static int client_hello(const uint8_t *p, size_t len, struct bw_str *sni,
			struct bw_str *alpn)
{
	struct rd r = { p, len }, v, exts;
	const uint8_t *x;

	*sni = *alpn = BW_STR_NULL;
	if (!take(&r, 2 + 32, &x) || !vec(&r, 1, &v) || !vec(&r, 2, &v) ||
	    !vec(&r, 1, &v))
		return -1;
	if (r.len == 0)
		return 0; /* no extensions */
	if (!vec(&r, 2, &exts))
		return -1;
	while (exts.len > 0) {
		const uint8_t *t;
		struct rd body, list, name;

		if (!take(&exts, 2, &t) || !vec(&exts, 2, &body))
			return -1;
		if (t[0] == 0 && t[1] == 0) { /* server_name */
			const uint8_t *type;

			if (!vec(&body, 2, &list))
				return -1;
			while (list.len > 0) {
				if (!take(&list, 1, &type) ||
				    !vec(&list, 2, &name))
					return -1;
				if (type[0] == 0 && name.len > 0 &&
				    name.len <= SNI_MAX && sni->len == 0)
					*sni = (struct bw_str){
						(const char *)name.p,
						(uint32_t)name.len
					};
			}
		} else if (t[0] == 0 && t[1] == 16) { /* ALPN */
			if (!vec(&body, 2, &list) || !vec(&list, 1, &name))
				return -1;
			*alpn = (struct bw_str){ (const char *)name.p,
						 (uint32_t)name.len };
		}
	}
	return 0;
}

static bool printable(struct bw_str s)
{
	for (uint32_t i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] <= 0x20 ||
		    (unsigned char)s.p[i] >= 0x7f)
			return false;
	return true;
}

/* The handshake buffer may hold a whole ClientHello: decode it. */
static void try_hello(struct app_ctx *c, struct tls *t, const struct flow *f,
		      const struct app_pkt *pk)
{
	const uint8_t *p = (const uint8_t *)t->hs.data;
	struct bw_str sni, alpn;
	struct bw_event ev;
	uint32_t n;

	if (t->hs.len < 4)
		return;
	n = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	if (p[0] != 1 || n + 4 > t->hs.max) {
		t->done = true;
		c->st.errors[APP_TLS]++;
		return;
	}
	if (t->hs.len < n + 4)
		return;
	t->done = true;
	if (client_hello(p + 4, n, &sni, &alpn) < 0 || !printable(sni) ||
	    !printable(alpn)) {
		c->st.errors[APP_TLS]++;
		return;
	}
	app_event(c, &ev, f, BW_KIND_TLS, pk);
	ev.action = BW_STR_LIT("client_hello");
	ev.resource = sni;
	ev.detail = alpn;
	ev.raw = app_raw(c, f, "TLS ClientHello sni=%.*s alpn=%.*s",
			 (int)sni.len, sni.p ? sni.p : "", (int)alpn.len,
			 alpn.p ? alpn.p : "");
	app_emit(c, APP_TLS, &ev);
}

static void stream(struct app_ctx *c, struct app_flow *af,
		   const struct flow *f, int dir, const uint8_t *p,
		   uint32_t len, const struct app_pkt *pk)
{
	struct tls *t = af->st;

	if (dir != FLOW_C2S || t->done)
		return;
	if (p == NULL) {
		t->done = true;
		c->st.gaps++;
		return;
	}
	while (len > 0 && !t->done) {
		uint32_t n;

		if (t->rec_left == 0) { /* a record header */
			t->rec_hdr[t->rec_have++] = *p++;
			len--;
			if (t->rec_have < 5)
				continue;
			t->rec_have = 0;
			t->rec_left = (uint32_t)t->rec_hdr[3] << 8 |
				      t->rec_hdr[4];
			t->rec_hs = t->rec_hdr[0] == 0x16;
			if (t->rec_hdr[1] != 0x03 || t->rec_left == 0 ||
			    t->rec_left > REC_MAX || !t->rec_hs) {
				t->done = true;
				c->st.errors[APP_TLS]++;
			}
			continue;
		}
		n = t->rec_left < len ? t->rec_left : len;
		if (app_buf_add(c, &t->hs, p, n) < 0) {
			t->done = true;
			c->st.errors[APP_TLS]++;
			return;
		}
		t->rec_left -= n;
		p += n;
		len -= n;
		try_hello(c, t, f, pk);
	}
}

const struct app_ops app_tls_ops = {
	.proto = APP_TLS,
	.name = "tls",
	.detect = detect,
	.open = open_,
	.stream = stream,
	.free = free_,
};
