/*
 * test_link.c - the link over real sockets on 127.0.0.1: a notifier-side
 * ROUTER (CURVE server, the ZAP handler of notifier/zap.c) and the agent's
 * sender (agent/sender.c) with its spool, in one poll loop.
 *
 * The test's notifier is a stand-in for the daemon: it records what it
 * receives and acknowledges by a policy the test sets (ack, hold the acks,
 * ignore first copies, reject an id, send garbage first).
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "bwtime.h"
#include "file.h"
#include "keys.h"
#include "sender.h"
#include "spool.h"
#include "wire.h"
#include "xmalloc.h"
#include "zap.h"
#include "check_main.h"

#define MS INT64_C(1000)
#define MAX_GOT 256
#define MAX_HELD 64

#define DIR_TEMPLATE "/tmp/bw-link-XXXXXX"
static char dir[sizeof(DIR_TEMPLATE)];
static struct bw_keypair server_kp, agent1_kp, agent2_kp, stranger_kp;
static char *auth_path;

enum policy {
	ACK_ALL,     /* acknowledge at once */
	ACK_HOLD,    /* keep the acks until release_held() */
	ACK_NONE,    /* never acknowledge (a notifier about to crash) */
	ACK_SECOND,  /* ignore the first copy of each sequence number */
};

struct got {
	uint64_t seq;
	char id[64];
	uint32_t revision;
	char user[256];
	char address[64];
};

struct notifier {
	void *ctx;
	struct zap *zap;
	void *router;
	char endpoint[64];
	enum policy policy;
	const char *reject_id; /* reject revisions of this incident */
	bool garbage_first;    /* send a malformed message and a stale ACK
				  before the first ACK */
	struct got got[MAX_GOT];
	size_t n_got;
	size_t n_bad, n_hb;
	char last_bad[512], last_bad_user[256];
	struct {
		struct bw_wire_peer peer;
		struct got g;
	} held[MAX_HELD];
	size_t n_held;
};

/* What the sender reported. */
struct events {
	unsigned count[SENDER_EV_ERROR + 1];
	unsigned last_code;
	char last_text[512];
	char last_id[64];
};

static void on_event(const struct sender_event *ev, void *arg)
{
	struct events *e = arg;

	e->count[ev->kind]++;
	if (ev->kind == SENDER_EV_CONNECTED ||
	    ev->kind == SENDER_EV_DISCONNECTED)
		return;
	e->last_code = ev->code;
	snprintf(e->last_text, sizeof(e->last_text), "%s", ev->text);
	snprintf(e->last_id, sizeof(e->last_id), "%s",
	         ev->id != NULL ? ev->id : "");
}

static void write_auth(const char *text)
{
	struct bw_error err;

	ck_assert_msg(bw_file_write_atomic(auth_path, text, strlen(text), 0644,
	                                   true, &err) == 0,
	              "%s", err.msg);
}

static char *auth_line(const struct bw_keypair *kp, const char *name)
{
	char z[BW_KEY_Z85_LEN + 1];

	return xasprintf("%s %s\n", bw_keys_z85(kp->public_key, z), name);
}

static void setup(void)
{
	struct bw_error err;
	char *a, *b, *text;

	/* a fresh template each time: CK_FORK=no runs every test in one
	 * process */
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(bw_keys_generate(&server_kp, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&agent1_kp, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&agent2_kp, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&stranger_kp, &err), 0);
	auth_path = xasprintf("%s/agents", dir);
	a = auth_line(&agent1_kp, "db1");
	b = auth_line(&agent2_kp, "db2");
	text = xasprintf("# test agents\n%s%s", a, b);
	write_auth(text);
	free(text);
	free(a);
	free(b);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(auth_path);
}

static int set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof(v));
}

/* Start the notifier: on an OS-chosen port when endpoint is "", else on the
 * same endpoint again (retrying while the old listener goes away). */
static void notifier_start(struct notifier *nt)
{
	struct bw_error err;
	int64_t until = bw_mono_us() + 3000 * MS;
	size_t len;
	int rc;

	nt->ctx = zmq_ctx_new();
	ck_assert_ptr_nonnull(nt->ctx);
	nt->zap = zap_new(nt->ctx, auth_path, &err);
	ck_assert_msg(nt->zap != NULL, "%s", err.msg);
	nt->router = zmq_socket(nt->ctx, ZMQ_ROUTER);
	ck_assert_ptr_nonnull(nt->router);
	ck_assert_int_eq(set_int(nt->router, ZMQ_CURVE_SERVER, 1), 0);
	ck_assert_int_eq(zmq_setsockopt(nt->router, ZMQ_CURVE_SECRETKEY,
	                                server_kp.secret_key, BW_KEY_LEN),
	                 0);
	ck_assert_int_eq(set_int(nt->router, ZMQ_ROUTER_MANDATORY, 1), 0);
	ck_assert_int_eq(set_int(nt->router, ZMQ_LINGER, 0), 0);
	ck_assert_int_eq(set_int(nt->router, ZMQ_HEARTBEAT_IVL, 200), 0);
	ck_assert_int_eq(set_int(nt->router, ZMQ_HEARTBEAT_TIMEOUT, 600), 0);
	if (nt->endpoint[0] == '\0') {
		ck_assert_int_eq(zmq_bind(nt->router, "tcp://127.0.0.1:*"), 0);
		len = sizeof(nt->endpoint);
		ck_assert_int_eq(zmq_getsockopt(nt->router, ZMQ_LAST_ENDPOINT,
		                                nt->endpoint, &len),
		                 0);
		return;
	}
	while ((rc = zmq_bind(nt->router, nt->endpoint)) != 0 &&
	       errno == EADDRINUSE && bw_mono_us() < until)
		usleep(20000);
	ck_assert_msg(rc == 0, "bind %s: %s", nt->endpoint,
	              zmq_strerror(errno));
}

/* Stop it as a crash would: nothing is flushed. */
static void notifier_stop(struct notifier *nt)
{
	zap_destroy(&nt->zap);
	zmq_close(nt->router);
	nt->router = NULL;
	ck_assert_int_eq(zmq_ctx_term(nt->ctx), 0);
	nt->ctx = NULL;
}

static void send_ack(struct notifier *nt, const struct bw_wire_peer *peer,
                     const struct got *g, enum bw_wire_status st,
                     const char *reason)
{
	struct bw_wire_msg ack = {.type = BW_WIRE_ACK,
	                          .seq = g->seq,
	                          .id = (char *)g->id,
	                          .id_len = strlen(g->id),
	                          .revision = g->revision,
	                          .status = (uint16_t)st,
	                          .reason = (char *)(reason ? reason : ""),
	                          .reason_len = reason ? strlen(reason) : 0};
	struct bw_error err;

	ck_assert_msg(bw_wire_send(nt->router, peer, &ack, ZMQ_DONTWAIT,
	                           &err) == 0,
	              "%s", err.msg);
}

static void release_held(struct notifier *nt)
{
	size_t i;

	for (i = 0; i < nt->n_held; i++)
		send_ack(nt, &nt->held[i].peer, &nt->held[i].g, BW_WIRE_OK,
		         NULL);
	nt->n_held = 0;
}

static size_t times_got(const struct notifier *nt, uint64_t seq)
{
	size_t i, n = 0;

	for (i = 0; i < nt->n_got; i++)
		n += nt->got[i].seq == seq;
	return n;
}

static void send_garbage(struct notifier *nt, const struct bw_wire_peer *peer)
{
	static const unsigned char v2[] = {'B', 'W', 2, 2};
	struct got stale = {.seq = 999999, .id = "bw-nope", .revision = 1};

	ck_assert_int_eq(zmq_send(nt->router, peer->rid, peer->rid_len,
	                          ZMQ_SNDMORE),
	                 (int)peer->rid_len);
	ck_assert_int_eq(zmq_send(nt->router, v2, 4, 0), 4);
	send_ack(nt, peer, &stale, BW_WIRE_OK, NULL);
}

static void on_incident(struct notifier *nt, const struct bw_wire_msg *m,
                        const struct bw_wire_peer *peer)
{
	struct got *g;

	ck_assert_uint_lt(nt->n_got, MAX_GOT);
	g = &nt->got[nt->n_got++];
	g->seq = m->seq;
	snprintf(g->id, sizeof(g->id), "%s", m->id);
	g->revision = m->revision;
	snprintf(g->user, sizeof(g->user), "%s", peer->user_id);
	snprintf(g->address, sizeof(g->address), "%s", peer->address);
	if (nt->garbage_first) {
		nt->garbage_first = false;
		send_garbage(nt, peer);
	}
	if (nt->reject_id != NULL && strcmp(m->id, nt->reject_id) == 0) {
		send_ack(nt, peer, g, BW_WIRE_REJ_HOST,
		         "host db9 is not agent db1");
		return;
	}
	switch (nt->policy) {
	case ACK_ALL:
		send_ack(nt, peer, g, BW_WIRE_OK, NULL);
		break;
	case ACK_HOLD:
		ck_assert_uint_lt(nt->n_held, MAX_HELD);
		nt->held[nt->n_held].peer = *peer;
		nt->held[nt->n_held].g = *g;
		nt->n_held++;
		break;
	case ACK_NONE:
		break;
	case ACK_SECOND:
		if (times_got(nt, m->seq) >= 2)
			send_ack(nt, peer, g, BW_WIRE_OK, NULL);
		break;
	}
}

static void notifier_drain(struct notifier *nt)
{
	for (;;) {
		struct bw_wire_msg m;
		struct bw_wire_peer peer;
		struct bw_error err;
		int rc = bw_wire_recv(nt->router, true, ZMQ_DONTWAIT, &m, &peer,
		                      &err);

		ck_assert_int_ne(rc, BW_WIRE_RECV_ERROR);
		if (rc == BW_WIRE_RECV_NONE)
			return;
		if (rc == BW_WIRE_RECV_BAD) {
			nt->n_bad++;
			snprintf(nt->last_bad, sizeof(nt->last_bad), "%s",
			         err.msg);
			snprintf(nt->last_bad_user, sizeof(nt->last_bad_user),
			         "%s", peer.user_id);
			continue;
		}
		if (m.type == BW_WIRE_INCIDENT) {
			on_incident(nt, &m, &peer);
		} else if (m.type == BW_WIRE_HEARTBEAT) {
			struct bw_wire_msg hb = {.type = BW_WIRE_HEARTBEAT,
			                         .time_us = bw_now_us()};

			nt->n_hb++;
			ck_assert_int_eq(bw_wire_send(nt->router, &peer, &hb,
			                              ZMQ_DONTWAIT, &err),
			                 0);
		}
		bw_wire_msg_clear(&m);
	}
}

typedef bool (*done_fn)(void *arg);

/* Run the poll loop of both sides (nt->router may be NULL: the notifier is
 * down; s may be NULL) until done(arg) or max_ms. Returns done(arg). */
static bool pump(struct notifier *nt, struct sender *s, int64_t max_ms,
                 done_fn done, void *arg)
{
	int64_t until = bw_mono_us() + max_ms * MS;
	struct bw_error err;

	for (;;) {
		zmq_pollitem_t items[3];
		int n = 0, timeout_ms = 10;
		int64_t now = bw_mono_us();

		if (done != NULL && done(arg))
			return true;
		if (now >= until)
			return done != NULL && done(arg);
		if (nt != NULL && nt->router != NULL) {
			items[n++] = (zmq_pollitem_t){nt->router, 0, ZMQ_POLLIN,
			                              0};
			items[n++] = (zmq_pollitem_t){zap_socket(nt->zap), 0,
			                              ZMQ_POLLIN, 0};
		}
		if (s != NULL) {
			int64_t d = sender_next_deadline(s, now);

			items[n++] = (zmq_pollitem_t){NULL, sender_fd(s),
			                              ZMQ_POLLIN, 0};
			if (d <= now)
				timeout_ms = 0;
			else if (d - now < timeout_ms * MS)
				timeout_ms = (int)((d - now) / MS) + 1;
		}
		ck_assert_int_ge(zmq_poll(items, n, timeout_ms), 0);
		if (nt != NULL && nt->router != NULL) {
			ck_assert_int_ge(zap_process(nt->zap, &err), 0);
			notifier_drain(nt);
		}
		if (s != NULL)
			ck_assert_msg(sender_process(s, bw_mono_us(), &err) ==
			                  0,
			              "%s", err.msg);
	}
}

static struct spool *open_spool(const char *name)
{
	struct spool_params p = {.dir = NULL};
	struct bw_error err;
	struct spool *sp;
	char *d = xasprintf("%s/%s", dir, name);

	p.dir = d;
	sp = spool_new(&p, &err);
	ck_assert_msg(sp != NULL, "%s", err.msg);
	free(d);
	return sp;
}

static void put(struct spool *sp, const char *id, uint32_t rev)
{
	char *json = xasprintf("{\"id\":\"%s\",\"revision\":%u}", id, rev);
	struct bw_error err;

	ck_assert_msg(spool_put(sp, id, rev, json, strlen(json), NULL, &err) ==
	                  0,
	              "%s", err.msg);
	free(json);
}

static struct sender *start_sender(const struct notifier *nt,
                                   struct spool *sp,
                                   const struct bw_keypair *kp,
                                   unsigned in_flight, int64_t ack_ms,
                                   struct events *ev)
{
	struct sender_params p = {.endpoint = nt->endpoint,
	                          .keys = kp,
	                          .server_key = server_kp.public_key,
	                          .spool = sp,
	                          .max_in_flight = in_flight,
	                          .ack_timeout_us = ack_ms * MS,
	                          .max_backoff_us = 1000 * MS,
	                          .heartbeat_us = 200 * MS,
	                          .heartbeat_timeout_us = 600 * MS,
	                          .reconnect_min_us = 20 * MS,
	                          .reconnect_max_us = 200 * MS,
	                          .on_event = on_event,
	                          .arg = ev};
	struct bw_error err;
	struct sender *s = sender_new(&p, &err);

	ck_assert_msg(s != NULL, "%s", err.msg);
	return s;
}

static bool spool_empty(void *arg)
{
	struct spool_stats st;

	spool_get_stats(arg, &st);
	return st.pending == 0;
}

struct got_n {
	struct notifier *nt;
	size_t n;
};

static bool got_at_least(void *arg)
{
	struct got_n *g = arg;

	return g->nt->n_got >= g->n;
}

/* Wait for a kind of sender event. */
struct ev_wait {
	struct events *ev;
	enum sender_event_kind kind;
};

static bool event_seen(void *arg)
{
	struct ev_wait *w = arg;

	return w->ev->count[w->kind] >= 1;
}

START_TEST(authorised_agent_delivers)
{
	struct notifier nt = {.policy = ACK_ALL};
	struct spool *sp = open_spool("spool1");
	struct events ev = {.last_code = 0};
	struct sender_stats st;
	struct zap_event ze;
	struct sender *s;
	char z[BW_KEY_Z85_LEN + 1], id[16];
	size_t i;

	notifier_start(&nt);
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "bw-%02zu", i);
		put(sp, id, (uint32_t)(i % 3) + 1);
	}
	s = start_sender(&nt, sp, &agent1_kp, 4, 5000, &ev);
	ck_assert(pump(&nt, s, 5000, spool_empty, sp));

	/* each once, in the order spooled, from the authenticated agent */
	ck_assert_uint_eq(nt.n_got, 20);
	for (i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "bw-%02zu", i);
		ck_assert_str_eq(nt.got[i].id, id);
		ck_assert_uint_eq(nt.got[i].revision, (uint32_t)(i % 3) + 1);
		ck_assert_str_eq(nt.got[i].user, "db1");
		ck_assert_str_eq(nt.got[i].address, "127.0.0.1");
		if (i > 0)
			ck_assert_uint_gt(nt.got[i].seq, nt.got[i - 1].seq);
	}
	sender_get_stats(s, &st);
	ck_assert_uint_eq(st.sent, 20);
	ck_assert_uint_eq(st.acked, 20);
	ck_assert_uint_eq(st.resent, 0);
	ck_assert_uint_eq(st.in_flight, 0);
	ck_assert(st.connected);
	ck_assert_uint_eq(ev.count[SENDER_EV_CONNECTED], 1);
	ck_assert_uint_eq(nt.n_bad, 0);

	/* the ZAP handler let db1 in, by its key */
	ck_assert(zap_next_event(nt.zap, &ze));
	ck_assert(ze.accepted);
	ck_assert_str_eq(ze.agent, "db1");
	ck_assert_str_eq(ze.mechanism, "CURVE");
	ck_assert_str_eq(ze.key_z85, bw_keys_z85(agent1_kp.public_key, z));
	ck_assert_str_eq(ze.address, "127.0.0.1");

	/* heartbeats both ways */
	ck_assert(pump(&nt, s, 2000, NULL, NULL) == false);
	sender_get_stats(s, &st);
	ck_assert_uint_ge(nt.n_hb, 2);
	ck_assert_uint_ge(st.heartbeats_received, 2);

	sender_destroy(&s);
	ck_assert_ptr_null(s);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

START_TEST(window_bounded)
{
	struct notifier nt = {.policy = ACK_HOLD};
	struct spool *sp = open_spool("spool2");
	struct events ev = {.last_code = 0};
	struct sender_stats st;
	struct sender *s;
	struct got_n three = {&nt, 3};
	size_t i;

	notifier_start(&nt);
	for (i = 0; i < 10; i++)
		put(sp, "bw-w", (uint32_t)i + 1);
	s = start_sender(&nt, sp, &agent1_kp, 3, 5000, &ev);
	ck_assert(pump(&nt, s, 3000, got_at_least, &three));
	/* no more than three without an acknowledgement */
	pump(&nt, s, 400, NULL, NULL);
	ck_assert_uint_eq(nt.n_got, 3);
	sender_get_stats(s, &st);
	ck_assert_uint_eq(st.in_flight, 3);
	/* each acknowledgement lets one more go */
	nt.policy = ACK_ALL;
	release_held(&nt);
	ck_assert(pump(&nt, s, 3000, spool_empty, sp));
	ck_assert_uint_eq(nt.n_got, 10);
	for (i = 0; i < 10; i++)
		ck_assert_uint_eq(nt.got[i].revision, i + 1);
	sender_destroy(&s);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

START_TEST(unknown_key_refused)
{
	struct notifier nt = {.policy = ACK_ALL};
	struct spool *sp = open_spool("spool3");
	struct events ev = {.last_code = 0};
	struct sender_stats st;
	struct spool_stats ss;
	struct zap_stats zs;
	struct zap_event ze;
	struct sender *s;
	char z[BW_KEY_Z85_LEN + 1];

	notifier_start(&nt);
	put(sp, "bw-x", 1);
	put(sp, "bw-x", 2);
	s = start_sender(&nt, sp, &stranger_kp, 4, 200, &ev);
	ck_assert(pump(&nt, s, 3000, event_seen,
	               &(struct ev_wait){&ev, SENDER_EV_AUTH_REFUSED}));
	pump(&nt, s, 300, NULL, NULL);

	/* the ROUTER got nothing at all */
	ck_assert_uint_eq(nt.n_got, 0);
	ck_assert_uint_eq(nt.n_bad, 0);
	ck_assert_uint_eq(nt.n_hb, 0);
	/* the refusal is recorded with the key and the address */
	ck_assert(zap_next_event(nt.zap, &ze));
	ck_assert(!ze.accepted);
	ck_assert_str_eq(ze.key_z85, bw_keys_z85(stranger_kp.public_key, z));
	ck_assert_str_eq(ze.address, "127.0.0.1");
	ck_assert_str_eq(ze.agent, "");
	ck_assert_ptr_nonnull(strstr(ze.reason, "not in the authorised"));
	zap_get_stats(nt.zap, &zs);
	ck_assert_uint_ge(zs.refused, 1);
	ck_assert_uint_eq(zs.accepted, 0);
	ck_assert_uint_eq(zs.agents, 2);
	/* the agent knows, and keeps its revisions */
	ck_assert_uint_eq(ev.last_code, 400);
	sender_get_stats(s, &st);
	ck_assert(!st.connected);
	ck_assert_uint_eq(st.sent, 0);
	spool_get_stats(sp, &ss);
	ck_assert_uint_eq(ss.pending, 2);
	/* it keeps trying (ZeroMQ alone would not after a refusal) */
	ck_assert_uint_ge(st.retries, 1);
	ck_assert_uint_ge(st.auth_refused, 2);

	/* once the operator authorises it, the same sender gets in and
	 * delivers what it kept */
	{
		char *a = auth_line(&agent1_kp, "db1");
		char *b = auth_line(&stranger_kp, "db3");
		char *text = xasprintf("%s%s", a, b);
		struct bw_error err;

		write_auth(text);
		ck_assert_msg(zap_reload(nt.zap, &err) == 0, "%s", err.msg);
		free(text);
		free(a);
		free(b);
	}
	ck_assert(pump(&nt, s, 5000, spool_empty, sp));
	ck_assert_uint_eq(nt.n_got, 2);
	ck_assert_str_eq(nt.got[0].user, "db3");
	sender_get_stats(s, &st);
	ck_assert_uint_eq(st.connects, 1);
	ck_assert_uint_eq(st.acked, 2);
	sender_destroy(&s);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

START_TEST(notifier_restart)
{
	struct notifier nt = {.policy = ACK_ALL};
	struct spool *sp = open_spool("spool4");
	struct events ev = {.last_code = 0};
	struct sender_stats st;
	struct spool_stats ss;
	struct sender *s;
	struct got_n ten = {&nt, 10};
	char id[16];
	size_t i, j;

	notifier_start(&nt);
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "bw-%zu", i);
		put(sp, id, 1);
	}
	/* no resend by timeout within the test: what the dead notifier never
	 * acknowledged goes again because of the new connection */
	s = start_sender(&nt, sp, &agent1_kp, 8, 10000, &ev);
	ck_assert(pump(&nt, s, 3000, spool_empty, sp));

	/* five more reach a notifier that dies before acknowledging */
	nt.policy = ACK_NONE;
	for (i = 5; i < 10; i++) {
		snprintf(id, sizeof(id), "bw-%zu", i);
		put(sp, id, 1);
	}
	ck_assert(pump(&nt, s, 3000, got_at_least, &ten));
	notifier_stop(&nt);

	/* while it is down, five more are spooled */
	for (i = 10; i < 15; i++) {
		snprintf(id, sizeof(id), "bw-%zu", i);
		put(sp, id, 1);
	}
	ck_assert(pump(NULL, s, 3000, event_seen,
	               &(struct ev_wait){&ev, SENDER_EV_DISCONNECTED}));
	pump(NULL, s, 300, NULL, NULL);
	spool_get_stats(sp, &ss);
	ck_assert_uint_eq(ss.pending, 10);

	/* it comes back on the same address: everything drains */
	nt.policy = ACK_ALL;
	notifier_start(&nt);
	ck_assert(pump(&nt, s, 5000, spool_empty, sp));
	for (i = 0; i < 15; i++) {
		bool seen = false;

		snprintf(id, sizeof(id), "bw-%zu", i);
		for (j = 0; j < nt.n_got; j++)
			seen = seen || strcmp(nt.got[j].id, id) == 0;
		ck_assert_msg(seen, "%s never arrived", id);
	}
	sender_get_stats(s, &st);
	ck_assert_uint_eq(st.acked, 15);
	ck_assert_uint_ge(st.resent, 5); /* those the first one never acked */
	ck_assert_uint_eq(st.connects, 2);
	ck_assert_uint_eq(st.disconnects, 1);
	ck_assert_uint_eq(ev.count[SENDER_EV_CONNECTED], 2);
	sender_destroy(&s);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

START_TEST(resend_after_timeout)
{
	struct notifier nt = {.policy = ACK_SECOND};
	struct spool *sp = open_spool("spool5");
	struct events ev = {.last_code = 0};
	struct sender_stats st;
	struct sender *s;
	size_t i;

	notifier_start(&nt);
	put(sp, "bw-r", 1);
	put(sp, "bw-r", 2);
	put(sp, "bw-s", 1);
	s = start_sender(&nt, sp, &agent1_kp, 8, 150, &ev);
	ck_assert(pump(&nt, s, 3000, spool_empty, sp));
	sender_get_stats(s, &st);
	ck_assert_uint_eq(st.sent, 3);
	ck_assert_uint_eq(st.resent, 3);
	ck_assert_uint_eq(st.acked, 3);
	ck_assert_uint_eq(nt.n_got, 6);
	for (i = 0; i < 3; i++)
		ck_assert_uint_eq(times_got(&nt, nt.got[i].seq), 2);
	sender_destroy(&s);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

START_TEST(rejected_revision)
{
	struct notifier nt = {.policy = ACK_ALL, .reject_id = "bw-bad"};
	struct spool *sp = open_spool("spool6");
	struct events ev = {.last_code = 0};
	struct sender_stats st;
	struct spool_stats ss;
	struct bw_error err;
	struct sender *s;
	char *path, *reason;
	size_t len;

	notifier_start(&nt);
	put(sp, "bw-1", 1);
	put(sp, "bw-bad", 1);
	put(sp, "bw-2", 1);
	s = start_sender(&nt, sp, &agent1_kp, 8, 3000, &ev);
	ck_assert(pump(&nt, s, 3000, spool_empty, sp));
	sender_get_stats(s, &st);
	ck_assert_uint_eq(st.acked, 2);
	ck_assert_uint_eq(st.rejected, 1);
	ck_assert_uint_eq(st.resent, 0);
	ck_assert_uint_eq(ev.count[SENDER_EV_REJECTED], 1);
	ck_assert_uint_eq(ev.last_code, BW_WIRE_REJ_HOST);
	ck_assert_str_eq(ev.last_id, "bw-bad");
	ck_assert_str_eq(ev.last_text, "host db9 is not agent db1");
	spool_get_stats(sp, &ss);
	ck_assert_uint_eq(ss.quarantined, 1);
	/* set aside with the reason, never deleted */
	path = xasprintf("%s/spool6/quarantine/%020llu.rev.reason", dir,
	                 (unsigned long long)nt.got[1].seq);
	ck_assert_msg(bw_file_read(path, 4096, &reason, &len, &err) == 0, "%s",
	              err.msg);
	ck_assert_str_eq(reason, "rejected by the notifier: host (3): host "
	                         "db9 is not agent db1\n");
	free(reason);
	free(path);
	sender_destroy(&s);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

START_TEST(garbage_from_notifier)
{
	struct notifier nt = {.policy = ACK_ALL, .garbage_first = true};
	struct spool *sp = open_spool("spool7");
	struct events ev = {.last_code = 0};
	struct sender_stats st;
	struct sender *s;

	notifier_start(&nt);
	put(sp, "bw-g", 1);
	put(sp, "bw-g", 2);
	s = start_sender(&nt, sp, &agent1_kp, 8, 3000, &ev);
	ck_assert(pump(&nt, s, 3000, spool_empty, sp));
	sender_get_stats(s, &st);
	ck_assert_uint_eq(st.protocol_errors, 1);
	ck_assert_uint_eq(st.stale_acks, 1);
	ck_assert_uint_eq(st.acked, 2);
	ck_assert_uint_eq(ev.count[SENDER_EV_PROTOCOL], 1);
	ck_assert_ptr_nonnull(strstr(ev.last_text, "protocol version 2"));
	sender_destroy(&s);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

struct bad_n {
	struct notifier *nt;
	size_t n;
};

static bool bad_at_least(void *arg)
{
	struct bad_n *b = arg;

	return b->nt->n_bad >= b->n;
}

/* A raw CURVE DEALER with db2's key. */
static void *raw_agent(void *ctx, const char *endpoint)
{
	void *d = zmq_socket(ctx, ZMQ_DEALER);

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(zmq_setsockopt(d, ZMQ_CURVE_SERVERKEY,
	                                server_kp.public_key, BW_KEY_LEN),
	                 0);
	ck_assert_int_eq(zmq_setsockopt(d, ZMQ_CURVE_PUBLICKEY,
	                                agent2_kp.public_key, BW_KEY_LEN),
	                 0);
	ck_assert_int_eq(zmq_setsockopt(d, ZMQ_CURVE_SECRETKEY,
	                                agent2_kp.secret_key, BW_KEY_LEN),
	                 0);
	ck_assert_int_eq(set_int(d, ZMQ_LINGER, 0), 0);
	ck_assert_int_eq(zmq_connect(d, endpoint), 0);
	return d;
}

static void raw_send(void *d, const void *const *f, const size_t *len,
                     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(zmq_send(d, f[i], len[i],
		                          i + 1 < n ? ZMQ_SNDMORE : 0),
		                 (int)len[i]);
}

START_TEST(malformed_from_authenticated_peer)
{
	struct notifier nt = {.policy = ACK_ALL};
	struct spool *sp = open_spool("spool8");
	struct events ev = {.last_code = 0};
	struct bad_n five = {&nt, 5};
	void *actx = zmq_ctx_new(), *raw;
	static const unsigned char inc[] = {'B', 'W', 1, 1};
	static const unsigned char v9[] = {'B', 'W', 9, 1};
	static const unsigned char seq[] = {0, 0, 0, 0, 0, 0, 0, 7};
	static const unsigned char seq9[] = {0, 0, 0, 0, 0, 0, 0, 7, 0};
	static const unsigned char rev[] = {0, 0, 0, 1};
	struct sender *s;

	notifier_start(&nt);
	raw = raw_agent(actx, nt.endpoint);
	{
		/* trailing bytes; wrong version; short; extra frames; an
		 * oversized-looking garbage header */
		const void *a[] = {inc, seq9, "bw-1", rev, "{}"};
		const size_t al[] = {4, 9, 4, 4, 2};
		const void *b[] = {v9, seq, "bw-1", rev, "{}"};
		const size_t bl[] = {4, 8, 4, 4, 2};
		const void *c[] = {inc, seq, "bw-1"};
		const size_t cl[] = {4, 8, 4};
		const void *d[] = {inc, seq, "bw-1", rev, "{}", "x", "y"};
		const size_t dl[] = {4, 8, 4, 4, 2, 1, 1};
		const void *e[] = {"GET / HTTP/1.1\r\n\r\n"};
		const size_t el[] = {18};

		raw_send(raw, a, al, 5);
		raw_send(raw, b, bl, 5);
		raw_send(raw, c, cl, 3);
		raw_send(raw, d, dl, 7);
		raw_send(raw, e, el, 1);
	}
	ck_assert(pump(&nt, NULL, 3000, bad_at_least, &five));
	ck_assert_uint_eq(nt.n_bad, 5);
	ck_assert_uint_eq(nt.n_got, 0);
	/* the refusals name the authenticated sender */
	ck_assert_str_eq(nt.last_bad_user, "db2");
	ck_assert_ptr_nonnull(strstr(nt.last_bad, "frame 0 (header): 18 bytes"));

	/* and the notifier goes on serving the others */
	put(sp, "bw-ok", 1);
	s = start_sender(&nt, sp, &agent1_kp, 8, 3000, &ev);
	ck_assert(pump(&nt, s, 3000, spool_empty, sp));
	ck_assert_uint_eq(nt.n_got, 1);
	ck_assert_str_eq(nt.got[0].user, "db1");
	sender_destroy(&s);
	zmq_close(raw);
	zmq_ctx_term(actx);
	spool_destroy(&sp);
	notifier_stop(&nt);
}
END_TEST

START_TEST(reload_keeps_connections)
{
	struct notifier nt = {.policy = ACK_ALL};
	struct spool *sp1 = open_spool("spool9"), *sp3 = open_spool("spool10");
	struct events ev1 = {.last_code = 0}, ev3 = {.last_code = 0};
	struct sender *s1, *s3;
	struct bw_error err;
	struct zap_stats zs;
	char *line, *text;
	struct got_n two = {&nt, 2};

	notifier_start(&nt);
	s1 = start_sender(&nt, sp1, &agent1_kp, 8, 3000, &ev1);
	put(sp1, "bw-a", 1);
	ck_assert(pump(&nt, s1, 3000, spool_empty, sp1));

	/* a broken file leaves the old set in force */
	write_auth("# oops\nnot-a-key db1\n");
	ck_assert_int_eq(zap_reload(nt.zap, &err), -1);
	ck_assert_int_eq(err.line, 2);
	ck_assert(zap_is_authorized(nt.zap, "db1"));

	/* db1 removed, db3 (the stranger's key) added */
	line = auth_line(&stranger_kp, "db3");
	text = xasprintf("# new set\n%s", line);
	write_auth(text);
	free(text);
	free(line);
	ck_assert_msg(zap_reload(nt.zap, &err) == 0, "%s", err.msg);
	zap_get_stats(nt.zap, &zs);
	ck_assert_uint_eq(zs.reloads, 1);
	ck_assert_uint_eq(zs.agents, 1);
	ck_assert(!zap_is_authorized(nt.zap, "db1"));
	ck_assert(zap_is_authorized(nt.zap, "db3"));

	/* db1's connection was not dropped (the daemon's check of User-Id
	 * is what shuts it out) */
	put(sp1, "bw-b", 1);
	ck_assert(pump(&nt, s1, 3000, spool_empty, sp1));
	ck_assert_uint_eq(ev1.count[SENDER_EV_DISCONNECTED], 0);
	ck_assert_str_eq(nt.got[1].user, "db1");

	/* db3 is let in now */
	s3 = start_sender(&nt, sp3, &stranger_kp, 8, 3000, &ev3);
	ck_assert(pump(&nt, s3, 3000, event_seen,
	               &(struct ev_wait){&ev3, SENDER_EV_CONNECTED}));
	put(sp3, "bw-c", 1);
	two.n = 3;
	ck_assert(pump(&nt, s3, 3000, got_at_least, &two));
	ck_assert_str_eq(nt.got[2].user, "db3");
	sender_destroy(&s3);
	sender_destroy(&s1);
	spool_destroy(&sp1);
	spool_destroy(&sp3);
	notifier_stop(&nt);
}
END_TEST

START_TEST(bad_params)
{
	struct spool *sp = open_spool("spool11");
	struct sender_params p = {.endpoint = "tcp://127.0.0.1:1",
	                          .keys = &agent1_kp,
	                          .server_key = server_kp.public_key,
	                          .spool = NULL};
	struct bw_error err;
	struct notifier nt = {.policy = ACK_ALL};
	void *ctx = zmq_ctx_new();

	ck_assert_ptr_null(sender_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "required"));
	p.spool = sp;
	p.endpoint = "nonsense://x";
	ck_assert_ptr_null(sender_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "connect to nonsense://x"));

	/* one ZAP handler per context */
	nt.ctx = ctx;
	nt.zap = zap_new(ctx, auth_path, &err);
	ck_assert_ptr_nonnull(nt.zap);
	ck_assert_ptr_null(zap_new(ctx, auth_path, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "inproc://zeromq.zap.01"));
	zap_destroy(&nt.zap);
	ck_assert_ptr_null(zap_new(ctx, "/nonexistent/agents", &err));
	ck_assert_str_eq(err.file, "/nonexistent/agents");
	zmq_ctx_term(ctx);
	spool_destroy(&sp);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("link");
	TCase *tc = tcase_create("link");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, authorised_agent_delivers);
	tcase_add_test(tc, window_bounded);
	tcase_add_test(tc, unknown_key_refused);
	tcase_add_test(tc, notifier_restart);
	tcase_add_test(tc, resend_after_timeout);
	tcase_add_test(tc, rejected_revision);
	tcase_add_test(tc, garbage_from_notifier);
	tcase_add_test(tc, malformed_from_authenticated_peer);
	tcase_add_test(tc, reload_keeps_connections);
	tcase_add_test(tc, bad_params);
	suite_add_tcase(s, tc);
	return s;
}
