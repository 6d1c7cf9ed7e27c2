/*
 * zap.c - the notifier's ZAP handler (zap.h).
 *
 * A request (RFC 27) is: version "1.0", request id, domain, address,
 * identity, mechanism, then the mechanism's credentials (CURVE: one frame,
 * the client's 32-byte public key). The reply is: version, request id,
 * status code, status text, user id, metadata (empty). Requests come from
 * libzmq's own I/O threads, but are still decoded field by field: a
 * malformed one is refused (500) and counted.
 */
#include "zap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "../common/xmalloc.h"
#include "../common/zmsg.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_VERSION "1.0"
/* version, id, domain, address, identity, mechanism, and at most two
 * credential frames (PLAIN) */
#define ZAP_MAX_FRAMES 8
#define ZAP_MIN_FRAMES 6

enum { F_VERSION, F_ID, F_DOMAIN, F_ADDRESS, F_IDENTITY, F_MECHANISM,
       F_CRED };

struct zap {
	void *sock;
	char *auth_path;
	struct bw_keys_auth *auth;
	struct zap_event events[ZAP_MAX_EVENTS]; /* ring */
	size_t ev_head, ev_count;
	struct zap_stats stats;
};

struct zap *zap_new(void *zctx, const char *auth_path, struct bw_error *err)
{
	struct zap *z = xcalloc(1, sizeof(*z));
	int linger = 0;

	z->auth_path = xstrdup(auth_path);
	z->auth = bw_keys_auth_load(auth_path, err);
	if (z->auth == NULL)
		goto fail;
	z->sock = zmq_socket(zctx, ZMQ_REP);
	if (z->sock == NULL) {
		bw_error_set(err, NULL, 0, "ZAP socket: %s",
		             zmq_strerror(errno));
		goto fail;
	}
	if (zmq_setsockopt(z->sock, ZMQ_LINGER, &linger, sizeof(linger)) != 0 ||
	    zmq_bind(z->sock, ZAP_ENDPOINT) != 0) {
		bw_error_set(err, NULL, 0, "ZAP handler at %s: %s",
		             ZAP_ENDPOINT, zmq_strerror(errno));
		goto fail;
	}
	z->stats.agents = bw_keys_auth_count(z->auth);
	return z;
fail:
	zap_destroy(&z);
	return NULL;
}

void zap_destroy(struct zap **zp)
{
	struct zap *z;

	if (zp == NULL || *zp == NULL)
		return;
	z = *zp;
	if (z->sock != NULL)
		zmq_close(z->sock);
	bw_keys_auth_destroy(&z->auth);
	free(z->auth_path);
	free(z);
	*zp = NULL;
}

void *zap_socket(struct zap *z)
{
	return z->sock;
}

int zap_fd(struct zap *z, struct bw_error *err)
{
	int fd = -1;
	size_t len = sizeof(fd);

	if (zmq_getsockopt(z->sock, ZMQ_FD, &fd, &len) != 0)
		return bw_error_set(err, NULL, 0, "ZAP socket ZMQ_FD: %s",
		                    zmq_strerror(errno));
	return fd;
}

static struct zap_event *new_event(struct zap *z)
{
	struct zap_event *e;

	if (z->ev_count == ZAP_MAX_EVENTS) {
		/* drop the oldest */
		z->ev_head = (z->ev_head + 1) % ZAP_MAX_EVENTS;
		z->ev_count--;
		z->stats.events_dropped++;
	}
	e = &z->events[(z->ev_head + z->ev_count) % ZAP_MAX_EVENTS];
	z->ev_count++;
	memset(e, 0, sizeof(*e));
	return e;
}

bool zap_next_event(struct zap *z, struct zap_event *out)
{
	if (z->ev_count == 0)
		return false;
	*out = z->events[z->ev_head];
	z->ev_head = (z->ev_head + 1) % ZAP_MAX_EVENTS;
	z->ev_count--;
	return true;
}

/* Copy a frame as printable text (other bytes become '?'). */
static void frame_text(zmq_msg_t *m, char *dst, size_t size)
{
	const unsigned char *p = zmq_msg_data(m);
	size_t len = zmq_msg_size(m), i;

	if (len > size - 1)
		len = size - 1;
	for (i = 0; i < len; i++)
		dst[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	dst[len] = '\0';
}

static bool frame_is(zmq_msg_t *m, const char *s)
{
	size_t len = strlen(s);

	return zmq_msg_size(m) == len && memcmp(zmq_msg_data(m), s, len) == 0;
}

static int send_part(void *sock, const void *data, size_t len, bool more)
{
	int flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0);

	return zmq_send(sock, data, len, flags) < 0 ? -1 : 0;
}

/* Send the reply; request_id may be NULL (a malformed request). */
static int reply(struct zap *z, zmq_msg_t *request_id, const char *code,
                 const char *text, const char *user_id)
{
	const void *rid = request_id != NULL ? zmq_msg_data(request_id) : "";
	size_t rid_len = request_id != NULL ? zmq_msg_size(request_id) : 0;

	if (send_part(z->sock, ZAP_VERSION, strlen(ZAP_VERSION), true) < 0 ||
	    send_part(z->sock, rid, rid_len, true) < 0 ||
	    send_part(z->sock, code, strlen(code), true) < 0 ||
	    send_part(z->sock, text, strlen(text), true) < 0 ||
	    send_part(z->sock, user_id, strlen(user_id), true) < 0 ||
	    send_part(z->sock, "", 0, false) < 0)
		return -1;
	return 0;
}

/* Decide on one request of n frames (more were dropped: extra). */
static int decide(struct zap *z, zmq_msg_t *f, size_t n, size_t extra)
{
	struct zap_event *e = new_event(z);
	const char *agent;

	if (n >= ZAP_MIN_FRAMES) {
		frame_text(&f[F_ADDRESS], e->address, sizeof(e->address));
		frame_text(&f[F_MECHANISM], e->mechanism, sizeof(e->mechanism));
	}
	if (n < ZAP_MIN_FRAMES || extra > 0 || !frame_is(&f[F_VERSION], "1.0")) {
		z->stats.malformed++;
		z->stats.refused++;
		snprintf(e->reason, sizeof(e->reason),
		         "malformed ZAP request (%zu frames)", n + extra);
		return reply(z, n > F_ID ? &f[F_ID] : NULL, "500",
		             "malformed request", "");
	}
	if (!frame_is(&f[F_MECHANISM], "CURVE")) {
		char mech[sizeof(e->mechanism)];

		z->stats.refused++;
		memcpy(mech, e->mechanism, sizeof(mech));
		snprintf(e->reason, sizeof(e->reason),
		         "mechanism %s (only CURVE is allowed)", mech);
		return reply(z, &f[F_ID], "400", "CURVE required", "");
	}
	if (n != F_CRED + 1 || zmq_msg_size(&f[F_CRED]) != BW_KEY_LEN) {
		z->stats.malformed++;
		z->stats.refused++;
		snprintf(e->reason, sizeof(e->reason),
		         "malformed CURVE credentials");
		return reply(z, &f[F_ID], "500", "malformed request", "");
	}
	bw_keys_z85(zmq_msg_data(&f[F_CRED]), e->key_z85);
	agent = bw_keys_auth_lookup(z->auth, zmq_msg_data(&f[F_CRED]));
	if (agent == NULL) {
		z->stats.refused++;
		snprintf(e->reason, sizeof(e->reason),
		         "key not in the authorised agents");
		return reply(z, &f[F_ID], "400", "unknown key", "");
	}
	z->stats.accepted++;
	e->accepted = true;
	snprintf(e->agent, sizeof(e->agent), "%s", agent);
	return reply(z, &f[F_ID], "200", "OK", agent);
}

/* Receive one request and answer it. Returns 1 when one was answered, 0
 * when none was waiting, -1 with err when the socket failed. */
static int handle_one(struct zap *z, struct bw_error *err)
{
	zmq_msg_t f[ZAP_MAX_FRAMES];
	size_t n = 0, extra = 0;
	int rc;

	rc = bw_zmsg_recv(z->sock, f, ZAP_MAX_FRAMES, &n, &extra,
	                  ZMQ_DONTWAIT);
	if (rc <= 0) {
		if (rc < 0)
			bw_error_set(err, NULL, 0, "ZAP receive: %s",
			             zmq_strerror(errno));
		return rc;
	}
	rc = 1;
	if (decide(z, f, n, extra) < 0) {
		bw_error_set(err, NULL, 0, "ZAP reply: %s", zmq_strerror(errno));
		rc = -1;
	}
	bw_zmsg_close(f, n);
	return rc;
}

int zap_process(struct zap *z, struct bw_error *err)
{
	int handled = 0, rc;

	/* Drain: ZMQ_FD is edge-triggered, so a request left waiting would
	 * not wake the caller again. Requests come no faster than CURVE
	 * handshakes complete. */
	for (;;) {
		rc = handle_one(z, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return handled;
		handled++;
	}
}

int zap_reload(struct zap *z, struct bw_error *err)
{
	struct bw_keys_auth *a = bw_keys_auth_load(z->auth_path, err);

	if (a == NULL)
		return -1;
	bw_keys_auth_destroy(&z->auth);
	z->auth = a;
	z->stats.reloads++;
	z->stats.agents = bw_keys_auth_count(a);
	return 0;
}

bool zap_is_authorized(const struct zap *z, const char *agent)
{
	return bw_keys_auth_has_name(z->auth, agent);
}

void zap_get_stats(const struct zap *z, struct zap_stats *out)
{
	*out = z->stats;
}
