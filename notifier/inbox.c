/*
 * inbox.c - the ROUTER that takes incident revisions from the agents,
 * stores them and acknowledges them (see inbox.h).
 */
#include "inbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "../common/bwtime.h"
#include "../common/incident.h"
#include "../common/utf8.h"
#include "../common/xmalloc.h"
#include "../common/zmsg.h"

#define DEFAULT_HEARTBEAT_US (10 * INT64_C(1000000))
#define MAX_ENDPOINT 256
/* Monitor events: one 6-byte frame (event, value) and the endpoint. */
#define MONITOR_FRAMES 2

struct agent_rec {
	char *name;
	char address[64];
	int64_t first_us, last_us;
	const char *last_type;
	uint64_t pending;
	uint64_t incidents, stored, duplicates, rejected, bad;
};

struct inbox {
	void *router;
	void *monitor;
	struct zap *zap;
	struct store *store;
	size_t max_incident_bytes;
	inbox_event_fn on_event;
	void *arg;
	char **endpoints; /* as bound */
	size_t n_endpoints;
	struct inbox_stats st;
	/* the fds of the connections that completed the handshake */
	int *open_fds;
	size_t n_open, cap_open;
	/* every agent heard from; looked up linearly: there are as many as
	 * the authorised-agents file names, tens in practice */
	struct agent_rec *agents;
	size_t n_agents, cap_agents;
};

static int set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof(v));
}

static void emit(struct inbox *ib, enum inbox_event_kind kind,
		 const struct bw_wire_peer *peer, const struct bw_wire_msg *m,
		 unsigned code, const char *text)
{
	struct inbox_event ev = {
		.kind = kind,
		.agent = peer->user_id,
		.address = peer->address,
		.id = m != NULL ? m->id : NULL,
		.revision = m != NULL ? m->revision : 0,
		.seq = m != NULL ? m->seq : 0,
		.code = code,
		.text = text != NULL ? text : "",
	};

	if (ib->on_event != NULL)
		ib->on_event(&ev, ib->arg);
}

/* The record of the agent that sent a message (made on first contact). */
static struct agent_rec *agent_of(struct inbox *ib,
				  const struct bw_wire_peer *peer,
				  int64_t now_us, const char *type)
{
	struct agent_rec *a = NULL;

	for (size_t i = 0; i < ib->n_agents; i++) {
		if (strcmp(ib->agents[i].name, peer->user_id) == 0) {
			a = &ib->agents[i];
			break;
		}
	}
	if (a == NULL) {
		if (ib->n_agents == ib->cap_agents) {
			ib->cap_agents = ib->cap_agents ? 2 * ib->cap_agents
							: 8;
			ib->agents = xreallocarray(ib->agents, ib->cap_agents,
						   sizeof(*ib->agents));
		}
		a = &ib->agents[ib->n_agents++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(peer->user_id);
		a->first_us = now_us;
	}
	snprintf(a->address, sizeof(a->address), "%s", peer->address);
	a->last_us = now_us;
	a->last_type = type;
	return a;
}

/* A rejection reason the wire accepts: clean UTF-8 without control
 * characters, 1..BW_WIRE_MAX_REASON bytes. Other bytes become '?' (an
 * error message may quote a cut piece of hostile text). */
static void clean_reason(const char *in, char *out, size_t size)
{
	size_t len = strlen(in), i = 0, o = 0;

	while (i < len && o + 4 < size) {
		unsigned char c = (unsigned char)in[i];
		size_t n = bw_utf8_len((const unsigned char *)in + i, len - i);

		if (n == 0 || c < 0x20 || c == 0x7f) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, in + i, n);
		o += n;
		i += n;
	}
	if (o == 0)
		out[o++] = '?';
	out[o] = '\0';
}

static void send_ack(struct inbox *ib, const struct bw_wire_peer *peer,
		     const struct bw_wire_msg *inc, enum bw_wire_status status,
		     const char *reason)
{
	struct bw_wire_msg ack;
	struct bw_error e;
	char clean[BW_WIRE_MAX_REASON + 1];

	if (status != BW_WIRE_OK)
		clean_reason(reason, clean, sizeof(clean));
	bw_wire_ack_for(inc, status, status != BW_WIRE_OK ? clean : NULL,
			&ack);
	if (bw_wire_send(ib->router, peer, &ack, ZMQ_DONTWAIT, &e) < 0) {
		/* EHOSTUNREACH: the agent went; EAGAIN: its queue is full.
		 * Either way it sends the revision again. */
		ib->st.send_failed++;
		emit(ib, INBOX_EV_SEND_FAILED, peer, inc, status, e.msg);
		return;
	}
	if (status == BW_WIRE_OK) {
		ib->st.acks++;
		return;
	}
	ib->st.rejected++;
	if (status < INBOX_N_STATUS)
		ib->st.rejected_by[status]++;
	emit(ib, INBOX_EV_REJECTED, peer, inc, status, clean);
}

static void reject(struct inbox *ib, struct agent_rec *a,
		   const struct bw_wire_peer *peer, const struct bw_wire_msg *m,
		   enum bw_wire_status status, const char *reason)
{
	a->rejected++;
	send_ack(ib, peer, m, status, reason);
}

/* A pair already stored: the same contents (acknowledge again) or not
 * (reject: conflict). 1 same, 0 different, -1 store error. */
static int same_as_stored(struct inbox *ib, const struct bw_incident *inc,
			  struct bw_error *err)
{
	char *stored = store_revision_json(ib->store, inc->id, inc->revision,
					   err);
	char *mine;
	int same;

	if (stored == NULL)
		return -1;
	mine = bw_incident_to_json(inc);
	same = strcmp(stored, mine) == 0;
	free(stored);
	free(mine);
	return same;
}

static void handle_incident(struct inbox *ib, const struct bw_wire_peer *peer,
			    const struct bw_wire_msg *m, int64_t now_us)
{
	struct agent_rec *a = agent_of(ib, peer, now_us, "INCIDENT");
	enum bw_wire_status rej;
	struct bw_incident *inc;
	struct bw_error e;
	char why[BW_WIRE_MAX_REASON + 1];
	bool inserted = false;
	int same;

	ib->st.incidents++;
	a->incidents++;
	if (m->json_len > ib->max_incident_bytes) {
		snprintf(why, sizeof(why),
			 "incident JSON of %zu bytes is over this notifier's "
			 "max_incident_bytes (%zu)",
			 m->json_len, ib->max_incident_bytes);
		reject(ib, a, peer, m, BW_WIRE_REJ_LIMIT, why);
		return;
	}
	inc = bw_wire_incident(m, &rej, &e);
	if (inc == NULL) {
		reject(ib, a, peer, m, rej, e.msg);
		return;
	}
	if (strcmp(inc->host, peer->user_id) != 0) {
		snprintf(why, sizeof(why),
			 "the incident's host \"%.200s\" is not the agent "
			 "\"%.200s\" that sent it",
			 inc->host, peer->user_id);
		reject(ib, a, peer, m, BW_WIRE_REJ_HOST, why);
		goto done;
	}
	if (store_put_revision(ib->store, inc, peer->user_id, now_us,
			       &inserted, &e) < 0)
		goto store_failed;
	if (inserted) {
		ib->st.stored++;
		a->stored++;
		send_ack(ib, peer, m, BW_WIRE_OK, NULL);
		emit(ib, INBOX_EV_STORED, peer, m, 0, "");
		goto done;
	}
	same = same_as_stored(ib, inc, &e);
	if (same < 0)
		goto store_failed;
	if (same == 0) {
		snprintf(why, sizeof(why),
			 "revision %" PRIu32 " of this incident is stored "
			 "with other contents",
			 inc->revision);
		reject(ib, a, peer, m, BW_WIRE_REJ_CONFLICT, why);
		goto done;
	}
	ib->st.duplicates++;
	a->duplicates++;
	send_ack(ib, peer, m, BW_WIRE_OK, NULL);
	emit(ib, INBOX_EV_DUPLICATE, peer, m, 0, "");
	goto done;

store_failed:
	/* Not a rejection: the store may recover (disk full, busy), and the
	 * agent sends the revision again when no ACK comes. */
	ib->st.store_failed++;
	emit(ib, INBOX_EV_STORE_FAILED, peer, m, 0, e.msg);
done:
	bw_incident_destroy(&inc);
}

static void handle_heartbeat(struct inbox *ib, const struct bw_wire_peer *peer,
			     const struct bw_wire_msg *m, int64_t now_us)
{
	struct agent_rec *a = agent_of(ib, peer, now_us, "HEARTBEAT");
	struct bw_wire_msg hb = {
		.type = BW_WIRE_HEARTBEAT,
		.time_us = now_us,
		.pending = 0,
	};
	struct bw_error e;

	ib->st.heartbeats_in++;
	a->pending = m->pending;
	if (bw_wire_send(ib->router, peer, &hb, ZMQ_DONTWAIT, &e) < 0) {
		ib->st.send_failed++;
		emit(ib, INBOX_EV_SEND_FAILED, peer, NULL, 0, e.msg);
		return;
	}
	ib->st.heartbeats_out++;
}

/* Receive and handle one message: 1 handled, 0 none waiting, -1 error. */
static int handle_one(struct inbox *ib, struct bw_error *err)
{
	int64_t now_us;
	struct bw_wire_msg m;
	struct bw_wire_peer peer;
	struct bw_error e;
	char why[600];
	int rc;

	rc = bw_wire_recv(ib->router, true, ZMQ_DONTWAIT, &m, &peer, &e);
	if (rc == BW_WIRE_RECV_NONE)
		return 0;
	if (rc == BW_WIRE_RECV_ERROR) {
		if (errno == EINTR)
			return 0;
		bw_error_set(err, NULL, 0, "inbox: %s", e.msg);
		return -1;
	}
	now_us = bw_now_us();
	ib->st.messages++;
	/* ZAP let in only authorised agents, but the file may have been
	 * reloaded since this connection was made. */
	if (peer.user_id[0] == '\0' || !zap_is_authorized(ib->zap, peer.user_id)) {
		ib->st.unauthorised++;
		emit(ib, INBOX_EV_UNAUTHORISED, &peer,
		     rc == BW_WIRE_RECV_MSG ? &m : NULL, 0,
		     "the agent is not in the authorised-agents file");
		bw_wire_msg_clear(&m);
		return 1;
	}
	if (rc == BW_WIRE_RECV_BAD) {
		ib->st.bad++;
		agent_of(ib, &peer, now_us, "bad")->bad++;
		emit(ib, INBOX_EV_BAD, &peer, NULL, 0, e.msg);
		return 1;
	}
	switch (m.type) {
	case BW_WIRE_INCIDENT:
		handle_incident(ib, &peer, &m, now_us);
		break;
	case BW_WIRE_HEARTBEAT:
		handle_heartbeat(ib, &peer, &m, now_us);
		break;
	case BW_WIRE_ACK:
	default:
		ib->st.unexpected++;
		agent_of(ib, &peer, now_us, "bad")->bad++;
		snprintf(why, sizeof(why), "%s from an agent: not expected",
			 bw_wire_type_name(m.type));
		emit(ib, INBOX_EV_BAD, &peer, NULL, 0, why);
		break;
	}
	bw_wire_msg_clear(&m);
	return 1;
}

static void fd_open(struct inbox *ib, int fd)
{
	if (ib->n_open == ib->cap_open) {
		ib->cap_open = ib->cap_open ? 2 * ib->cap_open : 16;
		ib->open_fds = xreallocarray(ib->open_fds, ib->cap_open,
					     sizeof(*ib->open_fds));
	}
	ib->open_fds[ib->n_open++] = fd;
	ib->st.handshakes++;
}

static void fd_closed(struct inbox *ib, int fd)
{
	for (size_t i = 0; i < ib->n_open; i++) {
		if (ib->open_fds[i] == fd) {
			ib->open_fds[i] = ib->open_fds[--ib->n_open];
			ib->st.disconnects++;
			return;
		}
	}
	/* a connection that never completed its handshake (refused) */
}

/* Drain the monitor: count the connections that are open. */
static int process_monitor(struct inbox *ib, struct bw_error *err)
{
	zmq_msg_t parts[MONITOR_FRAMES];
	size_t n, extra;
	int rc;

	for (;;) {
		rc = bw_zmsg_recv(ib->monitor, parts, MONITOR_FRAMES, &n,
				  &extra, ZMQ_DONTWAIT);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return bw_error_set(err, NULL, 0, "inbox monitor: %s",
					    zmq_strerror(errno));
		if (n >= 1 && zmq_msg_size(&parts[0]) == 6) {
			const uint8_t *d = zmq_msg_data(&parts[0]);
			uint16_t event;
			int32_t value;

			memcpy(&event, d, sizeof(event));
			memcpy(&value, d + 2, sizeof(value));
			if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
				fd_open(ib, value);
			else if (event == ZMQ_EVENT_DISCONNECTED)
				fd_closed(ib, value);
		}
		bw_zmsg_close(parts, n);
	}
}

static int setup_monitor(struct inbox *ib, void *zctx, struct bw_error *err)
{
	char ep[96];

	snprintf(ep, sizeof(ep), "inproc://bw-inbox-monitor-%p", (void *)ib);
	if (zmq_socket_monitor(ib->router, ep,
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
				       ZMQ_EVENT_DISCONNECTED) != 0)
		return bw_error_set(err, NULL, 0, "inbox: monitor: %s",
				    zmq_strerror(errno));
	ib->monitor = zmq_socket(zctx, ZMQ_PAIR);
	if (ib->monitor == NULL || set_int(ib->monitor, ZMQ_LINGER, 0) != 0 ||
	    zmq_connect(ib->monitor, ep) != 0)
		return bw_error_set(err, NULL, 0, "inbox: monitor: %s",
				    zmq_strerror(errno));
	return 0;
}

static int setup_router(struct inbox *ib, const struct inbox_params *p,
			struct bw_error *err)
{
	int64_t hb = p->heartbeat_us > 0 ? p->heartbeat_us
					 : DEFAULT_HEARTBEAT_US;
	int64_t hb_timeout = p->heartbeat_timeout_us > 0
		? p->heartbeat_timeout_us : 3 * hb;
	int64_t maxmsg = BW_WIRE_MAX_FRAME_TO_NOTIFIER;
	int ipv6 = 0;

	for (size_t i = 0; i < p->n_endpoints; i++)
		if (strncmp(p->endpoints[i], "tcp://[", 7) == 0 ||
		    strncmp(p->endpoints[i], "tcp://*", 7) == 0)
			ipv6 = 1;
	/* CURVE server with our key pair: every peer must do the CURVE
	 * handshake, and ZAP (bound in this context) decides who may. */
	if (set_int(ib->router, ZMQ_CURVE_SERVER, 1) != 0 ||
	    zmq_setsockopt(ib->router, ZMQ_CURVE_SECRETKEY,
			   p->keys->secret_key, BW_KEY_LEN) != 0 ||
	    zmq_setsockopt(ib->router, ZMQ_ZAP_DOMAIN, "breachwatch", 11) !=
		    0 ||
	    set_int(ib->router, ZMQ_ROUTER_MANDATORY, 1) != 0 ||
	    set_int(ib->router, ZMQ_LINGER, 0) != 0 ||
	    set_int(ib->router, ZMQ_IPV6, ipv6) != 0 ||
	    set_int(ib->router, ZMQ_HEARTBEAT_IVL, (int)(hb / 1000)) != 0 ||
	    set_int(ib->router, ZMQ_HEARTBEAT_TIMEOUT,
		    (int)(hb_timeout / 1000)) != 0 ||
	    set_int(ib->router, ZMQ_HEARTBEAT_TTL, (int)(hb_timeout / 1000)) !=
		    0 ||
	    zmq_setsockopt(ib->router, ZMQ_MAXMSGSIZE, &maxmsg,
			   sizeof(maxmsg)) != 0)
		return bw_error_set(err, NULL, 0, "inbox: socket options: %s",
				    zmq_strerror(errno));
	return 0;
}

static int bind_all(struct inbox *ib, const struct inbox_params *p,
		    struct bw_error *err)
{
	ib->endpoints = xcalloc(p->n_endpoints, sizeof(*ib->endpoints));
	for (size_t i = 0; i < p->n_endpoints; i++) {
		char ep[MAX_ENDPOINT];
		size_t len = sizeof(ep);

		if (zmq_bind(ib->router, p->endpoints[i]) != 0)
			return bw_error_set(err, NULL, 0, "inbox: bind %s: %s",
					    p->endpoints[i],
					    zmq_strerror(errno));
		if (zmq_getsockopt(ib->router, ZMQ_LAST_ENDPOINT, ep, &len) !=
		    0)
			snprintf(ep, sizeof(ep), "%s", p->endpoints[i]);
		ib->endpoints[ib->n_endpoints++] = xstrdup(ep);
	}
	return 0;
}

struct inbox *inbox_new(const struct inbox_params *p, struct bw_error *err)
{
	struct inbox *ib;

	if (p->zctx == NULL || p->zap == NULL || p->store == NULL ||
	    p->keys == NULL || p->n_endpoints == 0) {
		bw_error_set(err, NULL, 0,
			     "inbox: context, ZAP handler, store, keys and an "
			     "endpoint are needed");
		return NULL;
	}
	ib = xcalloc(1, sizeof(*ib));
	ib->zap = p->zap;
	ib->store = p->store;
	ib->max_incident_bytes = p->max_incident_bytes > 0
		? p->max_incident_bytes : BW_WIRE_MAX_JSON;
	ib->on_event = p->on_event;
	ib->arg = p->arg;
	ib->router = zmq_socket(p->zctx, ZMQ_ROUTER);
	if (ib->router == NULL) {
		bw_error_set(err, NULL, 0, "inbox: socket: %s",
			     zmq_strerror(errno));
		goto fail;
	}
	if (setup_router(ib, p, err) < 0 || setup_monitor(ib, p->zctx, err) < 0 ||
	    bind_all(ib, p, err) < 0)
		goto fail;
	return ib;
fail:
	inbox_destroy(&ib);
	return NULL;
}

void inbox_destroy(struct inbox **ibp)
{
	struct inbox *ib = *ibp;

	if (ib == NULL)
		return;
	if (ib->router != NULL) {
		if (ib->monitor != NULL)
			zmq_socket_monitor(ib->router, NULL, 0);
		zmq_close(ib->router);
	}
	if (ib->monitor != NULL)
		zmq_close(ib->monitor);
	for (size_t i = 0; i < ib->n_endpoints; i++)
		free(ib->endpoints[i]);
	free(ib->endpoints);
	for (size_t i = 0; i < ib->n_agents; i++)
		free(ib->agents[i].name);
	free(ib->agents);
	free(ib->open_fds);
	free(ib);
	*ibp = NULL;
}

void *inbox_socket(struct inbox *ib)
{
	return ib->router;
}

void *inbox_monitor(struct inbox *ib)
{
	return ib->monitor;
}

size_t inbox_n_endpoints(const struct inbox *ib)
{
	return ib->n_endpoints;
}

const char *inbox_endpoint(const struct inbox *ib, size_t i)
{
	return i < ib->n_endpoints ? ib->endpoints[i] : NULL;
}

int inbox_process(struct inbox *ib, struct bw_error *err)
{
	int rc;

	if (process_monitor(ib, err) < 0)
		return -1;
	for (int i = 0; i < INBOX_BATCH; i++) {
		rc = handle_one(ib, err);
		if (rc <= 0)
			return rc;
	}
	return 1;
}

void inbox_get_stats(const struct inbox *ib, struct inbox_stats *out)
{
	*out = ib->st;
	out->connections = ib->n_open;
}

void inbox_agents(const struct inbox *ib,
		  void (*fn)(const struct inbox_agent *a, void *arg), void *arg)
{
	for (size_t i = 0; i < ib->n_agents; i++) {
		const struct agent_rec *r = &ib->agents[i];
		struct inbox_agent a = {
			.name = r->name,
			.address = r->address,
			.first_us = r->first_us,
			.last_us = r->last_us,
			.last_type = r->last_type,
			.pending = r->pending,
			.incidents = r->incidents,
			.stored = r->stored,
			.duplicates = r->duplicates,
			.rejected = r->rejected,
			.bad = r->bad,
		};

		fn(&a, arg);
	}
}
