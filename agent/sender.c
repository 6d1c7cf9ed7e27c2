/*
 * sender.c - the agent's side of the link to the notifier (sender.h).
 *
 * Two sockets: the DEALER, and a PAIR receiving the DEALER's monitor events
 * (handshake succeeded or refused, disconnected), which tell when sending
 * makes sense and when what was in flight must go again. The fd handed to
 * the caller is an epoll fd watching both sockets' ZMQ_FDs.
 *
 * In flight: an array, in sequence order, of the revisions taken from the
 * spool and not yet acknowledged (at most max_in_flight). An entry holds the
 * sequence number, and once sent the id and revision, to check the ACK
 * against; the JSON is read from the spool at each send and not kept, so
 * memory stays small however large the revisions are.
 */
#include "sender.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/bwtime.h"
#include "../common/wire.h"
#include "../common/xmalloc.h"
#include "../common/zmsg.h"

#define DEFAULT_IN_FLIGHT 32
#define DEFAULT_ACK_TIMEOUT_US (10 * INT64_C(1000000))
#define DEFAULT_MAX_BACKOFF_US (300 * INT64_C(1000000))
#define DEFAULT_HEARTBEAT_US (10 * INT64_C(1000000))
#define DEFAULT_RECONNECT_MIN_US (100 * INT64_C(1000))
#define DEFAULT_RECONNECT_MAX_US (30 * INT64_C(1000000))
/* wait after EAGAIN (the connection went, or zmq's queue is full) */
#define RETRY_SEND_US (100 * INT64_C(1000))
/* wait after a spool read failed for a passing reason (EMFILE) */
#define RETRY_SPOOL_US (1000 * INT64_C(1000))
#define MAX_US (3600 * INT64_C(1000000)) /* any interval parameter */
/* the first reconnection after a failed handshake, unless reconnect_max is
 * shorter */
#define RETRY_HANDSHAKE_US (1000 * INT64_C(1000))

struct flight {
	uint64_t seq;
	char *id;          /* NULL until sent */
	uint32_t revision;
	unsigned sends;    /* times sent */
	unsigned backoff;  /* resends since the last (re)connection */
	int64_t due;       /* next send, bw_mono_us() */
};

struct sender {
	void *ctx;
	bool own_ctx;
	void *dealer, *monitor;
	int epfd;
	struct spool *spool;
	unsigned max_in_flight;
	int64_t ack_timeout_us, max_backoff_us, heartbeat_us;
	sender_event_fn on_event;
	void *arg;

	char *endpoint;    /* as given to zmq_connect */
	int64_t retry_first_us, retry_max_us;
	int64_t retry_at;  /* connect again then (0: not needed) */
	int64_t retry_us;  /* the wait before the next such reconnection */

	struct flight *fl; /* in sequence order */
	size_t n_fl;
	uint64_t cursor;   /* the highest sequence taken from the spool */
	int64_t next_hb;
	bool again;        /* the sockets had more than one process() took */
	struct sender_stats st;
};

static void emit(struct sender *s, enum sender_event_kind kind, uint64_t seq,
                 const char *id, uint32_t revision, unsigned code,
                 const char *text)
{
	struct sender_event ev = {.kind = kind,
	                          .seq = seq,
	                          .id = id,
	                          .revision = revision,
	                          .code = code,
	                          .text = text != NULL ? text : ""};

	if (s->on_event != NULL)
		s->on_event(&ev, s->arg);
}

static int64_t or_default(int64_t v, int64_t def)
{
	return v > 0 ? v : def;
}

static int set_int(void *sock, int opt, int64_t v)
{
	int i = (int)v;

	return zmq_setsockopt(sock, opt, &i, sizeof(i));
}

/* Set up the DEALER: CURVE client, heartbeats, reconnection. */
static int setup_dealer(struct sender *s, const struct sender_params *p,
                        struct bw_error *err)
{
	int64_t hb = s->heartbeat_us;
	int64_t hb_timeout = or_default(p->heartbeat_timeout_us, 3 * hb);
	int64_t rmin = or_default(p->reconnect_min_us, DEFAULT_RECONNECT_MIN_US);
	int64_t rmax = or_default(p->reconnect_max_us, DEFAULT_RECONNECT_MAX_US);
	int64_t maxmsg = BW_WIRE_MAX_FRAME_TO_AGENT;

	if (hb_timeout > MAX_US || rmin > MAX_US || rmax > MAX_US)
		return bw_error_set(err, NULL, 0,
		                    "sender: an interval is over an hour");
	s->retry_max_us = rmax;
	s->retry_first_us = RETRY_HANDSHAKE_US < rmax ? RETRY_HANDSHAKE_US
	                                              : rmax;
	if (s->retry_first_us < rmin)
		s->retry_first_us = rmin;
	if (zmq_setsockopt(s->dealer, ZMQ_CURVE_SERVERKEY, p->server_key,
	                   BW_KEY_LEN) != 0 ||
	    zmq_setsockopt(s->dealer, ZMQ_CURVE_PUBLICKEY,
	                   p->keys->public_key, BW_KEY_LEN) != 0 ||
	    zmq_setsockopt(s->dealer, ZMQ_CURVE_SECRETKEY,
	                   p->keys->secret_key, BW_KEY_LEN) != 0 ||
	    set_int(s->dealer, ZMQ_LINGER, 0) != 0 ||
	    set_int(s->dealer, ZMQ_IMMEDIATE, 1) != 0 ||
	    set_int(s->dealer, ZMQ_HEARTBEAT_IVL, hb / 1000) != 0 ||
	    set_int(s->dealer, ZMQ_HEARTBEAT_TIMEOUT, hb_timeout / 1000) != 0 ||
	    set_int(s->dealer, ZMQ_HEARTBEAT_TTL, hb_timeout / 1000) != 0 ||
	    set_int(s->dealer, ZMQ_RECONNECT_IVL, rmin / 1000) != 0 ||
	    set_int(s->dealer, ZMQ_RECONNECT_IVL_MAX, rmax / 1000) != 0 ||
	    zmq_setsockopt(s->dealer, ZMQ_MAXMSGSIZE, &maxmsg,
	                   sizeof(maxmsg)) != 0)
		return bw_error_set(err, NULL, 0, "sender: socket options: %s",
		                    zmq_strerror(errno));
	return 0;
}

/* Watch the DEALER's connection events on a PAIR socket. */
static int setup_monitor(struct sender *s, struct bw_error *err)
{
	static unsigned counter;
	char ep[96];
	int events = ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |
	             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
	             ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL;

	snprintf(ep, sizeof(ep), "inproc://bw-sender-monitor-%p-%u", (void *)s,
	         counter++);
	if (zmq_socket_monitor(s->dealer, ep, events) != 0)
		return bw_error_set(err, NULL, 0, "sender: monitor: %s",
		                    zmq_strerror(errno));
	s->monitor = zmq_socket(s->ctx, ZMQ_PAIR);
	if (s->monitor == NULL || set_int(s->monitor, ZMQ_LINGER, 0) != 0 ||
	    zmq_connect(s->monitor, ep) != 0)
		return bw_error_set(err, NULL, 0, "sender: monitor socket: %s",
		                    zmq_strerror(errno));
	return 0;
}

static int watch_fd(struct sender *s, void *sock, struct bw_error *err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	size_t len = sizeof(int);
	int fd = -1;

	if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
		return bw_error_set(err, NULL, 0, "sender: ZMQ_FD: %s",
		                    zmq_strerror(errno));
	ev.data.fd = fd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		return bw_error_set(err, NULL, 0, "sender: epoll_ctl: %s",
		                    strerror(errno));
	return 0;
}

struct sender *sender_new(const struct sender_params *p, struct bw_error *err)
{
	struct sender *s;

	if (p->endpoint == NULL || p->keys == NULL || p->server_key == NULL ||
	    p->spool == NULL) {
		bw_error_set(err, NULL, 0,
		             "sender: endpoint, keys, server key and spool are "
		             "required");
		return NULL;
	}
	if (p->ack_timeout_us > MAX_US || p->max_backoff_us > MAX_US ||
	    p->heartbeat_us > MAX_US || p->max_in_flight > 100000) {
		bw_error_set(err, NULL, 0,
		             "sender: a parameter is out of range");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->epfd = -1;
	s->spool = p->spool;
	s->max_in_flight = p->max_in_flight ? p->max_in_flight
	                                    : DEFAULT_IN_FLIGHT;
	s->ack_timeout_us = or_default(p->ack_timeout_us, DEFAULT_ACK_TIMEOUT_US);
	s->max_backoff_us = or_default(p->max_backoff_us, DEFAULT_MAX_BACKOFF_US);
	if (s->max_backoff_us < s->ack_timeout_us)
		s->max_backoff_us = s->ack_timeout_us;
	s->heartbeat_us = or_default(p->heartbeat_us, DEFAULT_HEARTBEAT_US);
	s->on_event = p->on_event;
	s->arg = p->arg;
	s->fl = xcalloc(s->max_in_flight, sizeof(*s->fl));
	s->ctx = p->zctx;
	if (s->ctx == NULL) {
		s->ctx = zmq_ctx_new();
		s->own_ctx = true;
		if (s->ctx == NULL) {
			bw_error_set(err, NULL, 0, "sender: zmq_ctx_new: %s",
			             zmq_strerror(errno));
			goto fail;
		}
	}
	s->dealer = zmq_socket(s->ctx, ZMQ_DEALER);
	if (s->dealer == NULL) {
		bw_error_set(err, NULL, 0, "sender: socket: %s",
		             zmq_strerror(errno));
		goto fail;
	}
	if (setup_dealer(s, p, err) < 0 || setup_monitor(s, err) < 0)
		goto fail;
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0) {
		bw_error_set(err, NULL, 0, "sender: epoll_create1: %s",
		             strerror(errno));
		goto fail;
	}
	if (watch_fd(s, s->dealer, err) < 0 || watch_fd(s, s->monitor, err) < 0)
		goto fail;
	s->endpoint = xstrdup(p->endpoint);
	if (zmq_connect(s->dealer, p->endpoint) != 0) {
		bw_error_set(err, NULL, 0, "sender: connect to %s: %s",
		             p->endpoint, zmq_strerror(errno));
		goto fail;
	}
	return s;
fail:
	sender_destroy(&s);
	return NULL;
}

void sender_destroy(struct sender **sp)
{
	struct sender *s;
	size_t i;

	if (sp == NULL || *sp == NULL)
		return;
	s = *sp;
	if (s->dealer != NULL) {
		(void)zmq_socket_monitor(s->dealer, NULL, 0);
		zmq_close(s->dealer);
	}
	if (s->monitor != NULL)
		zmq_close(s->monitor);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->own_ctx && s->ctx != NULL)
		zmq_ctx_term(s->ctx);
	for (i = 0; i < s->n_fl; i++)
		free(s->fl[i].id);
	free(s->fl);
	free(s->endpoint);
	free(s);
	*sp = NULL;
}

int sender_fd(const struct sender *s)
{
	return s->epfd;
}

/*
 * In flight.
 */

static void remove_flight(struct sender *s, size_t i)
{
	free(s->fl[i].id);
	memmove(&s->fl[i], &s->fl[i + 1], (s->n_fl - i - 1) * sizeof(*s->fl));
	s->n_fl--;
}

static struct flight *find_flight(struct sender *s, uint64_t seq, size_t *idx)
{
	size_t i;

	for (i = 0; i < s->n_fl; i++) {
		if (s->fl[i].seq == seq) {
			*idx = i;
			return &s->fl[i];
		}
	}
	return NULL;
}

/* ack_timeout, doubled per resend, at most max_backoff. */
static int64_t backoff_us(const struct sender *s, unsigned level)
{
	int64_t t = s->ack_timeout_us;
	unsigned i;

	for (i = 0; i < level && t < s->max_backoff_us; i++)
		t *= 2;
	return t < s->max_backoff_us ? t : s->max_backoff_us;
}

/* Take revisions from the spool up to the window. */
static void fill(struct sender *s, int64_t now)
{
	uint64_t seq;

	while (s->n_fl < s->max_in_flight &&
	       spool_next(s->spool, s->cursor, &seq)) {
		struct flight *f = &s->fl[s->n_fl++];

		memset(f, 0, sizeof(*f));
		f->seq = seq;
		f->due = now;
		s->cursor = seq;
	}
}

/* SENT; LATER: this one waits (its due time moved); BLOCKED: zmq takes
 * nothing now; GONE: put in the quarantine, no longer in flight; FAILED:
 * the socket failed. */
enum send_rc { SENT, LATER, BLOCKED, GONE, FAILED };

/* Send (again) the revision of f. */
static enum send_rc send_one(struct sender *s, struct flight *f, int64_t now,
                             struct bw_error *err)
{
	struct spool_item it;
	struct bw_wire_msg m;
	struct bw_error e2;
	int rc;

	rc = spool_read(s->spool, f->seq, &it, &e2);
	if (rc == SPOOL_READ_BAD) {
		s->st.spool_bad++;
		emit(s, SENDER_EV_SPOOL_BAD, f->seq, f->id, f->revision, 0,
		     e2.msg);
		return GONE;
	}
	if (rc != SPOOL_READ_OK) {
		emit(s, SENDER_EV_ERROR, f->seq, f->id, f->revision, 0, e2.msg);
		f->due = now + RETRY_SPOOL_US;
		return LATER;
	}
	if (f->id == NULL) {
		f->id = xstrdup(it.id);
		f->revision = it.revision;
	}
	memset(&m, 0, sizeof(m));
	m.type = BW_WIRE_INCIDENT;
	m.seq = it.seq;
	m.id = it.id;
	m.id_len = strlen(it.id);
	m.revision = it.revision;
	m.json = it.json;
	m.json_len = it.json_len;
	rc = bw_wire_send(s->dealer, NULL, &m, ZMQ_DONTWAIT, &e2);
	if (rc < 0) {
		int saved = errno;
		enum send_rc ret = BLOCKED;

		if (saved == EAGAIN) {
			f->due = now + RETRY_SEND_US;
		} else if (saved == EINVAL) {
			/* spool_put checks what it takes: a file that was
			 * spooled but cannot be sent is damaged */
			char *why = xasprintf("cannot be sent: %s", e2.msg);

			if (spool_quarantine(s->spool, f->seq, why, &e2) < 0)
				emit(s, SENDER_EV_ERROR, f->seq, f->id,
				     f->revision, 0, e2.msg);
			s->st.spool_bad++;
			emit(s, SENDER_EV_SPOOL_BAD, f->seq, f->id,
			     f->revision, 0, why);
			free(why);
			ret = GONE;
		} else {
			bw_error_set(err, NULL, 0, "sender: %s", e2.msg);
			ret = FAILED;
		}
		spool_item_clear(&it);
		return ret;
	}
	spool_item_clear(&it);
	if (f->sends == 0)
		s->st.sent++;
	else
		s->st.resent++;
	f->sends++;
	f->due = now + backoff_us(s, f->backoff);
	f->backoff++;
	return SENT;
}

/* Send what is due, in sequence order. */
static int send_due(struct sender *s, int64_t now, struct bw_error *err)
{
	size_t i = 0;

	while (i < s->n_fl) {
		struct flight *f = &s->fl[i];
		enum send_rc rc;

		if (f->due > now) {
			i++;
			continue;
		}
		rc = send_one(s, f, now, err);
		if (rc == FAILED)
			return -1;
		if (rc == GONE) {
			remove_flight(s, i);
			continue;
		}
		if (rc == BLOCKED) {
			/* nothing more goes now: wait with all of them */
			size_t j;

			for (j = i + 1; j < s->n_fl; j++) {
				if (s->fl[j].due <= now)
					s->fl[j].due = now + RETRY_SEND_US;
			}
			return 0;
		}
		i++;
	}
	return 0;
}

static void heartbeat(struct sender *s, int64_t now)
{
	struct spool_stats ss;
	struct bw_wire_msg m;
	struct bw_error e2;

	if (now < s->next_hb)
		return;
	s->next_hb = now + s->heartbeat_us;
	spool_get_stats(s->spool, &ss);
	memset(&m, 0, sizeof(m));
	m.type = BW_WIRE_HEARTBEAT;
	m.time_us = bw_now_us();
	m.pending = ss.pending;
	if (bw_wire_send(s->dealer, NULL, &m, ZMQ_DONTWAIT, &e2) == 0)
		s->st.heartbeats_sent++;
}

/*
 * What comes in.
 */

static void on_ack(struct sender *s, const struct bw_wire_msg *m)
{
	struct bw_error e2;
	struct flight *f;
	size_t idx = 0;

	f = find_flight(s, m->seq, &idx);
	if (f == NULL || f->id == NULL) {
		s->st.stale_acks++;
		return;
	}
	if (strcmp(f->id, m->id) != 0 || f->revision != m->revision) {
		char *why = xasprintf("ACK for sequence %" PRIu64
		                      " names %.64s revision %" PRIu32
		                      ", we sent %.64s revision %" PRIu32,
		                      m->seq, m->id, m->revision, f->id,
		                      f->revision);

		s->st.protocol_errors++;
		emit(s, SENDER_EV_PROTOCOL, m->seq, f->id, f->revision, 0, why);
		free(why);
		return;
	}
	if (m->status == BW_WIRE_OK) {
		if (spool_ack(s->spool, m->seq, &e2) < 0)
			emit(s, SENDER_EV_ERROR, m->seq, f->id, f->revision, 0,
			     e2.msg);
		s->st.acked++;
	} else {
		const char *name = bw_wire_status_name(m->status);
		char *why = xasprintf("rejected by the notifier: %s (%u): %s",
		                      name != NULL ? name : "unknown",
		                      m->status, m->reason);

		if (spool_quarantine(s->spool, m->seq, why, &e2) < 0)
			emit(s, SENDER_EV_ERROR, m->seq, f->id, f->revision, 0,
			     e2.msg);
		s->st.rejected++;
		emit(s, SENDER_EV_REJECTED, m->seq, f->id, f->revision,
		     m->status, m->reason);
		free(why);
	}
	remove_flight(s, idx);
}

static int drain_dealer(struct sender *s, struct bw_error *err)
{
	for (;;) {
		struct bw_wire_msg m;
		struct bw_error e2;
		int rc;

		rc = bw_wire_recv(s->dealer, false, ZMQ_DONTWAIT, &m, NULL, &e2);
		if (rc == BW_WIRE_RECV_NONE)
			return 0;
		if (rc == BW_WIRE_RECV_ERROR)
			return bw_error_set(err, NULL, 0, "sender: %s", e2.msg);
		if (rc == BW_WIRE_RECV_BAD) {
			s->st.protocol_errors++;
			emit(s, SENDER_EV_PROTOCOL, 0, NULL, 0, 0, e2.msg);
			continue;
		}
		if (m.type == BW_WIRE_ACK) {
			on_ack(s, &m);
		} else if (m.type == BW_WIRE_HEARTBEAT) {
			s->st.heartbeats_received++;
		} else {
			s->st.protocol_errors++;
			emit(s, SENDER_EV_PROTOCOL, 0, NULL, 0, 0,
			     "unexpected INCIDENT from the notifier");
		}
		bw_wire_msg_clear(&m);
	}
}

static void on_connected(struct sender *s, int64_t now, const char *ep)
{
	size_t i;

	s->st.connected = true;
	s->st.connects++;
	s->retry_at = 0;
	s->retry_us = 0;
	/* What was in flight on an earlier connection is likely lost:
	 * send it again now, with the back-off started afresh. */
	for (i = 0; i < s->n_fl; i++) {
		s->fl[i].due = now;
		s->fl[i].backoff = 0;
	}
	s->next_hb = now + s->heartbeat_us;
	emit(s, SENDER_EV_CONNECTED, 0, NULL, 0, 0, ep);
}

/*
 * libzmq gives up on a connection whose handshake failed: after a ZAP
 * refusal or a CURVE error it does not reconnect (measured with 4.3.4), so
 * an agent refused once would never try again, even after the operator
 * authorised it. Connect again ourselves, after RETRY_HANDSHAKE_US (or
 * reconnect_max when shorter, at least reconnect_min), doubling up to
 * reconnect_max while the handshakes keep failing.
 */
static void schedule_retry(struct sender *s, int64_t now)
{
	if (s->retry_at != 0)
		return;
	if (s->retry_us == 0)
		s->retry_us = s->retry_first_us;
	s->retry_at = now + s->retry_us;
	s->retry_us = s->retry_us < s->retry_max_us / 2 ? s->retry_us * 2
	                                                : s->retry_max_us;
}

static int retry_connect(struct sender *s, int64_t now, struct bw_error *err)
{
	if (s->retry_at == 0 || now < s->retry_at)
		return 0;
	s->retry_at = 0;
	s->st.retries++;
	(void)zmq_disconnect(s->dealer, s->endpoint); /* if anything is left */
	if (zmq_connect(s->dealer, s->endpoint) != 0)
		return bw_error_set(err, NULL, 0, "sender: connect to %s: %s",
		                    s->endpoint, zmq_strerror(errno));
	return 0;
}

static int drain_monitor(struct sender *s, int64_t now, struct bw_error *err)
{
	for (;;) {
		zmq_msg_t parts[2];
		size_t n = 0, extra = 0;
		uint16_t event = 0;
		uint32_t value = 0;
		char ep[256] = "";
		int rc;

		rc = bw_zmsg_recv(s->monitor, parts, 2, &n, &extra,
		                  ZMQ_DONTWAIT);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return bw_error_set(err, NULL, 0, "sender: monitor: %s",
			                    zmq_strerror(errno));
		if (n == 2 && zmq_msg_size(&parts[0]) == 6) {
			const unsigned char *d = zmq_msg_data(&parts[0]);
			size_t len = zmq_msg_size(&parts[1]);

			memcpy(&event, d, 2);
			memcpy(&value, d + 2, 4);
			if (len >= sizeof(ep))
				len = sizeof(ep) - 1;
			memcpy(ep, zmq_msg_data(&parts[1]), len);
			ep[len] = '\0';
		}
		bw_zmsg_close(parts, n);
		switch (event) {
		case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
			on_connected(s, now, ep);
			break;
		case ZMQ_EVENT_DISCONNECTED:
			if (s->st.connected) {
				s->st.connected = false;
				s->st.disconnects++;
				emit(s, SENDER_EV_DISCONNECTED, 0, NULL, 0, 0,
				     ep);
			}
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
			s->st.auth_refused++;
			schedule_retry(s, now);
			emit(s, SENDER_EV_AUTH_REFUSED, 0, NULL, 0, value, ep);
			break;
		case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
		case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
			s->st.handshake_failed++;
			schedule_retry(s, now);
			emit(s, SENDER_EV_HANDSHAKE_FAILED, 0, NULL, 0, value,
			     ep);
			break;
		default:
			break;
		}
	}
}

static bool readable(void *sock)
{
	int events = 0;
	size_t len = sizeof(events);

	if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len) != 0)
		return false;
	return (events & ZMQ_POLLIN) != 0;
}

int sender_process(struct sender *s, int64_t now, struct bw_error *err)
{
	int round;

	/* A send may take the signal of a message that came meanwhile off
	 * ZMQ_FD: look again until the sockets are empty (a few rounds at
	 * most; then the deadline says "now"). */
	if (retry_connect(s, now, err) < 0)
		return -1;
	for (round = 0; round < 4; round++) {
		if (drain_monitor(s, now, err) < 0 || drain_dealer(s, err) < 0)
			return -1;
		if (s->st.connected) {
			fill(s, now);
			if (send_due(s, now, err) < 0)
				return -1;
			heartbeat(s, now);
		}
		if (!readable(s->dealer) && !readable(s->monitor)) {
			s->again = false;
			return 0;
		}
	}
	s->again = true;
	return 0;
}

int64_t sender_next_deadline(const struct sender *s, int64_t now)
{
	int64_t d = INT64_MAX;
	uint64_t seq;
	size_t i;

	if (s->again)
		return now;
	if (!s->st.connected)
		return s->retry_at != 0 ? s->retry_at : d;
	if (s->n_fl < s->max_in_flight &&
	    spool_next(s->spool, s->cursor, &seq))
		return now;
	d = s->next_hb;
	for (i = 0; i < s->n_fl; i++) {
		if (s->fl[i].due < d)
			d = s->fl[i].due;
	}
	return d;
}

void sender_get_stats(const struct sender *s, struct sender_stats *out)
{
	*out = s->st;
	out->in_flight = s->n_fl;
}
