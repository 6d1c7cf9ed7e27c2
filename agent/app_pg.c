/*
 * app_pg.c - the PostgreSQL frontend/backend protocol (version 3) as the
 * events the postgres log parser makes (docs/events.md):
 *
 *   the startup message        remembered: user, database
 *   AuthenticationOk ('R' 0)   `auth`, action "connect", outcome "success"
 *   ErrorResponse before it    `auth`, action "connect", outcome "failure",
 *                              detail the SQLSTATE
 *   Query ('Q'), Parse ('P')   `sql`: action the verb and resource the
 *                              tables (parse_sql_analyze, as the log
 *                              parser), text the statement, principal and
 *                              database from the startup
 *
 * Messages are read field by field: a length below its minimum or above
 * the protocol's makes the direction unreadable (counted). A message
 * longer than app_limits.max_message is kept up to it and its event says
 * detail "truncated". An SSLRequest answered 'S' (or a GSSENCRequest
 * answered 'G') turns the flow to TLS, which is not read.
 */
#include "app_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "parse_util.h"

#define PG_V3 196608u
#define PG_SSL 80877103u
#define PG_GSS 80877104u
#define PG_CANCEL 80877102u
#define MAX_STARTUP 10000u /* the server's own limit */
#define MAX_LEN (1u << 30) /* the protocol's */
#define NAME_MAX_ 64

struct pgdir {
	uint8_t hdr[8];
	uint32_t have;    /* header bytes read */
	uint32_t hlen;    /* header size: 5 typed, 8 startup */
	uint32_t left;    /* body bytes still to come */
	uint8_t type;     /* 0: an untyped startup-phase message */
	struct bw_buf msg; /* the body, up to max_message */
	bool cut;         /* the body was longer than kept */
	bool dead;
};

struct pg {
	struct pgdir d[2];
	bool startup;    /* the client's next message is untyped */
	bool await_ssl;  /* the server answers with one byte */
	bool authed;
	bool auth_reported;
	char user[NAME_MAX_ + 1], db[NAME_MAX_ + 1];
	struct bw_buf derived; /* parse_sql_analyze's output */
};

static int detect(const uint8_t *p, uint32_t len, int dir)
{
	uint32_t n, code;

	if (dir != FLOW_C2S)
		return 0;
	if (len >= 1 && p[0] != 0)
		return 0; /* a length below 16 MB starts with a zero byte */
	if (len < 8)
		return -1;
	n = app_rd32(p);
	code = app_rd32(p + 4);
	if (code == PG_SSL || code == PG_GSS || code == PG_CANCEL)
		return n == (code == PG_CANCEL ? 16u : 8u);
	return code == PG_V3 && n >= 8 && n <= MAX_STARTUP;
}

static void *open_(struct app_ctx *c)
{
	struct pg *g = xcalloc(1, sizeof(*g));

	for (int i = 0; i < 2; i++) {
		bw_buf_init(&g->d[i].msg, c->lim.max_message);
		g->d[i].hlen = 5;
	}
	g->d[FLOW_C2S].hlen = 8;
	g->startup = true;
	bw_buf_init(&g->derived, 8192);
	return g;
}

static void free_(struct app_ctx *c, void *st)
{
	struct pg *g = st;

	for (int i = 0; i < 2; i++)
		app_buf_free(c, &g->d[i].msg);
	bw_buf_free(&g->derived);
	free(g);
}

static struct bw_str cstr(const char *s)
{
	return s[0] ? (struct bw_str){ s, (uint32_t)strlen(s) } : BW_STR_NULL;
}

/* The startup message's parameters: "name\0value\0...\0". */
static void startup_params(struct pg *g, const char *p, size_t len)
{
	const char *end = p + len;

	while (p < end && *p != '\0') {
		const char *k = p, *v, *ke = memchr(p, '\0', (size_t)(end - p));

		if (ke == NULL)
			return;
		v = ke + 1;
		if (v >= end)
			return;
		p = memchr(v, '\0', (size_t)(end - v));
		if (p == NULL)
			return;
		if (strcmp(k, "user") == 0)
			snprintf(g->user, sizeof(g->user), "%s", v);
		else if (strcmp(k, "database") == 0)
			snprintf(g->db, sizeof(g->db), "%s", v);
		p++;
	}
	if (g->db[0] == '\0') /* the server's default */
		snprintf(g->db, sizeof(g->db), "%s", g->user);
}

static void auth_event(struct app_ctx *c, struct pg *g, const struct flow *f,
		       const struct app_pkt *pk, bool ok, const char *sqlstate)
{
	struct bw_event ev;

	if (g->auth_reported)
		return;
	g->auth_reported = true;
	app_event(c, &ev, f, BW_KIND_AUTH, pk);
	ev.action = BW_STR_LIT("connect");
	ev.outcome = ok ? BW_STR_LIT("success") : BW_STR_LIT("failure");
	ev.principal = cstr(g->user);
	ev.database = cstr(g->db);
	if (sqlstate != NULL)
		ev.detail = cstr(sqlstate);
	ev.raw = app_raw(c, f, "postgres login user=%s database=%s %s",
			 g->user, g->db, ok ? "succeeded" : "failed");
	app_emit(c, APP_PGSQL, &ev);
}

static void sql_event(struct app_ctx *c, struct pg *g, const struct flow *f,
		      const struct app_pkt *pk, const char *sql, size_t len,
		      bool cut)
{
	struct bw_event ev;

	while (len > 0 && (sql[len - 1] == ' ' || sql[len - 1] == '\n' ||
			   sql[len - 1] == ';'))
		len--;
	if (len == 0)
		return;
	app_event(c, &ev, f, BW_KIND_SQL, pk);
	parse_sql_analyze(sql, len, &g->derived, &ev.action, &ev.resource);
	ev.text = (struct bw_str){ sql, (uint32_t)len };
	ev.principal = cstr(g->user);
	ev.database = cstr(g->db);
	if (cut)
		ev.detail = BW_STR_LIT("truncated");
	ev.raw = app_raw(c, f, "postgres %s@%s: %.*s", g->user, g->db,
			 (int)(len > 512 ? 512 : len), sql);
	app_emit(c, APP_PGSQL, &ev);
}

/* One whole client message. */
static void client_msg(struct app_ctx *c, struct pg *g, const struct flow *f,
		       const struct app_pkt *pk, struct pgdir *d)
{
	const char *b = d->msg.data;
	size_t n = d->msg.len;

	if (d->type == 0) { /* startup phase: code then parameters */
		uint32_t code = n >= 4 ? app_rd32((const uint8_t *)b) : 0;

		if (code == PG_SSL || code == PG_GSS) {
			g->await_ssl = true;
			return; /* the next client message is untyped too */
		}
		if (code != PG_V3) { /* cancel, or unknown */
			d->dead = g->d[FLOW_S2C].dead = true;
			return;
		}
		startup_params(g, b + 4, n - 4);
		g->startup = false;
		d->hlen = 5;
		return;
	}
	if (d->type == 'Q') {
		const char *z = memchr(b, '\0', n);

		sql_event(c, g, f, pk, b, z ? (size_t)(z - b) : n, d->cut);
	} else if (d->type == 'P') {
		const char *z = memchr(b, '\0', n), *q, *qz;

		if (z == NULL)
			return;
		q = z + 1;
		qz = memchr(q, '\0', n - (size_t)(q - b));
		sql_event(c, g, f, pk, q, qz ? (size_t)(qz - q) : n - (size_t)(q - b),
			  d->cut);
	}
}

/* The SQLSTATE ('C' field) of an ErrorResponse. */
static void sqlstate(const char *b, size_t n, char out[6])
{
	const char *end = b + n;

	out[0] = '\0';
	while (b < end && *b != '\0') {
		const char *z = memchr(b + 1, '\0', (size_t)(end - b - 1));

		if (z == NULL)
			return;
		if (*b == 'C' && z - b - 1 == 5) {
			memcpy(out, b + 1, 5);
			out[5] = '\0';
			return;
		}
		b = z + 1;
	}
}

static void server_msg(struct app_ctx *c, struct pg *g, const struct flow *f,
		       const struct app_pkt *pk, struct pgdir *d)
{
	char st[6];

	if (d->type == 'R' && d->msg.len >= 4 &&
	    app_rd32((const uint8_t *)d->msg.data) == 0) {
		g->authed = true;
		auth_event(c, g, f, pk, true, NULL);
	} else if (d->type == 'E' && !g->authed && !g->startup) {
		sqlstate(d->msg.data, d->msg.len, st);
		auth_event(c, g, f, pk, false, st);
	}
}

/* Feed one direction's bytes through the message framing. */
static void frame(struct app_ctx *c, struct pg *g, const struct flow *f,
		  int dir, const uint8_t *p, uint32_t len,
		  const struct app_pkt *pk)
{
	struct pgdir *d = &g->d[dir];

	while (len > 0 && !d->dead) {
		uint32_t n;

		if (dir == FLOW_S2C && g->await_ssl && d->have == 0) {
			g->await_ssl = false;
			if (*p == 'S' || *p == 'G') { /* encrypted from here */
				d->dead = g->d[FLOW_C2S].dead = true;
				return;
			}
			if (*p != 'N') {
				d->dead = true;
				c->st.errors[APP_PGSQL]++;
				return;
			}
			p++;
			len--;
			continue;
		}
		if (d->have < d->hlen) {
			d->hdr[d->have++] = *p++;
			len--;
			if (d->have < d->hlen)
				continue;
			if (d->hlen == 8) { /* untyped: length, then code */
				d->type = 0;
				n = app_rd32(d->hdr);
				if (n < 8 || n > MAX_STARTUP) {
					d->dead = true;
					c->st.errors[APP_PGSQL]++;
					return;
				}
				d->left = n - 8;
				bw_buf_reset(&d->msg);
				d->cut = false;
				if (app_buf_add(c, &d->msg, d->hdr + 4, 4) < 0)
					d->cut = true;
			} else {
				d->type = d->hdr[0];
				n = app_rd32(d->hdr + 1);
				if (n < 4 || n > MAX_LEN) {
					d->dead = true;
					c->st.errors[APP_PGSQL]++;
					return;
				}
				d->left = n - 4;
				bw_buf_reset(&d->msg);
				d->cut = false;
			}
		}
		n = d->left < len ? d->left : len;
		if (!d->cut && n > 0) {
			uint32_t room = (uint32_t)(d->msg.max - d->msg.len);
			uint32_t k = n < room ? n : room;

			if (app_buf_add(c, &d->msg, p, k) < 0 || k < n)
				d->cut = true;
		}
		d->left -= n;
		p += n;
		len -= n;
		if (d->left > 0)
			break;
		d->have = 0;
		if (dir == FLOW_C2S)
			client_msg(c, g, f, pk, d);
		else
			server_msg(c, g, f, pk, d);
		/* After an SSLRequest answered 'N', a startup follows. */
		if (dir == FLOW_C2S && g->startup)
			d->hlen = 8;
	}
}

static void stream(struct app_ctx *c, struct app_flow *af,
		   const struct flow *f, int dir, const uint8_t *p,
		   uint32_t len, const struct app_pkt *pk)
{
	struct pg *g = af->st;

	if (p == NULL) { /* a gap: the framing is lost */
		if (!g->d[dir].dead) {
			g->d[dir].dead = true;
			c->st.gaps++;
		}
		return;
	}
	frame(c, g, f, dir, p, len, pk);
}

const struct app_ops app_pg_ops = {
	.proto = APP_PGSQL,
	.name = "postgres",
	.detect = detect,
	.open = open_,
	.stream = stream,
	.free = free_,
};
