/*
 * app_int.h - what the application-protocol files share (app.c and
 * app_*.c). Not for other modules: use app.h.
 */
#ifndef BW_APP_INT_H
#define BW_APP_INT_H

#include <stdarg.h>

#include "app.h"

#define APP_DETECT_MAX 16 /* bytes held per direction to recognise a flow */
/* Server bytes let pass while waiting for the client to say what the
 * protocol is (a flow joined midway starts with the server's data). */
#define APP_DETECT_WAIT (1u << 20)
#define PII_CARRY 80      /* bytes kept across chunks for the PII scan */
#define PII_SAMPLE 64

/* The PII scan of one direction of a flow. */
struct app_pii {
	uint32_t scanned;     /* bytes scanned so far (the budget) */
	uint32_t emails, cards; /* found and not yet reported */
	char email[PII_SAMPLE]; /* the first found since the last report */
	char card[PII_SAMPLE];  /* (masked) */
	uint8_t carry[PII_CARRY];
	uint8_t carry_len;
};

struct app_flow {
	enum app_proto proto;
	uint8_t det[2][APP_DETECT_MAX];
	uint8_t det_len[2];
	uint32_t det_lost[2]; /* bytes past det while waiting (a gap later) */
	bool wait_client;     /* the server spoke first: wait for the client */
	bool scan[2];  /* scan this direction's bytes for PII as they come */
	void *st;      /* the protocol's state */
	struct app_pii pii[2];
};

/* A protocol: recognise, read, end. */
struct app_ops {
	enum app_proto proto;
	const char *name;
	/* 1: the first bytes len of direction dir are this protocol; 0: not;
	 * -1: need more (at most APP_DETECT_MAX bytes are ever given). */
	int (*detect)(const uint8_t *p, uint32_t len, int dir);
	void *(*open)(struct app_ctx *c);
	void (*stream)(struct app_ctx *c, struct app_flow *af,
		       const struct flow *f, int dir, const uint8_t *data,
		       uint32_t len, const struct app_pkt *pk);
	/* may be NULL: nothing is pending at the end */
	void (*end)(struct app_ctx *c, struct app_flow *af,
		    const struct flow *f, const struct app_pkt *pk);
	void (*free)(struct app_ctx *c, void *st);
};

extern const struct app_ops app_http_ops, app_tls_ops, app_pg_ops,
	app_ssh_ops, app_dns_tcp_ops;

/* Hand ev to the consumer and count it for proto. */
void app_emit(struct app_ctx *c, enum app_proto proto, struct bw_event *ev);

/* Scan len bytes that direction dir of f sent for PII (bounded by the
 * per-direction budget); data NULL is a gap. Reports (below) once many
 * finds are pending. */
void app_pii_scan(struct app_ctx *c, struct app_flow *af, const struct flow *f,
		  int dir, const uint8_t *data, uint32_t len,
		  const struct app_pkt *pk);
/* Emit what the scan of direction dir found since the last report: one
 * `flow` event per kind (action "pii"). */
void app_pii_report(struct app_ctx *c, struct app_flow *af,
		    const struct flow *f, int dir, const struct app_pkt *pk);

/* DNS in one UDP datagram (app_dns.c): 1 and an event emitted when it is a
 * well-formed DNS message, else 0. strict: only a message that parses to
 * its last byte counts (to recognise DNS on other ports). */
int app_dns_datagram(struct app_ctx *c, const struct flow *f, int dir,
		     const uint8_t *p, uint32_t len, const struct app_pkt *pk,
		     bool strict);

/* Big-endian reads; the caller has checked the bounds. */
static inline uint16_t app_rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t app_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Extractors' buffers, charged to the context's memory budget
 * (app_limits.max_memory). app_buf_add appends like bw_buf_add and returns
 * -1 (the buffer unchanged) past the buffer's own ceiling or past the
 * budget (counted in st.memcap): the extractor gives up what it was
 * reading. app_buf_free releases a buffer; app_buf_steal hands its
 * contents over with their charge (*charged), which app_mem_free releases.
 */
int app_buf_add(struct app_ctx *c, struct bw_buf *b, const void *p,
		size_t n) BW_WUR;
void app_buf_free(struct app_ctx *c, struct bw_buf *b);
char *app_buf_steal(struct app_ctx *c, struct bw_buf *b, size_t *charged);
void app_mem_free(struct app_ctx *c, void *p, size_t charged);

/* Case-insensitive prefix test. */
bool app_prefix_ci(const uint8_t *p, size_t len, const char *prefix);

#endif
