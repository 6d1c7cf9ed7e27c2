/*
 * test_sender.c - a small agent stand-in for the notifier's process tests:
 * a CURVE DEALER (the agent's key pair, the notifier's public key) that
 * sends what it is told and reports what comes back.
 *
 *   test_sender ENDPOINT SERVER_PUBLIC_KEY_FILE SECRET_KEY_FILE
 *
 * Driven over stdin/stdout, one JSON object per line each way (one answer
 * per command), so a script can interleave sending with looking at the
 * notifier:
 *
 *   {"op":"wait_connect","timeout_ms":N}
 *        -> {"event":"connected"} | {"event":"auth_failed","code":400}
 *           | {"event":"handshake_failed"} | {"event":"timeout"}
 *   {"op":"incident","seq":N,"id":S,"revision":N,"json":S}
 *        -> {"sent":true} | {"sent":false,"error":S}   (bw_wire_send)
 *   {"op":"heartbeat","pending":N}          -> {"sent":...}
 *   {"op":"ack","seq":N,"id":S,"revision":N} -> {"sent":...} (an ACK from
 *        an agent: not expected by the notifier)
 *   {"op":"raw","frames":[HEX,...]}          -> {"sent":...} (frames as
 *        they are, for malformed messages)
 *   {"op":"recv","timeout_ms":N}
 *        -> {"type":"ACK","seq":N,"id":S,"revision":N,"status":N,
 *            "reason":S} | {"type":"HEARTBEAT","time_us":N,"pending":N}
 *           | {"type":"bad","error":S} | {"type":"none"}
 *   {"op":"quit"}
 *
 * Every wait is bounded by its timeout_ms.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bwtime.h"
#include "keys.h"
#include "wire.h"
#include "xmalloc.h"

#define MAX_LINE (64u << 20)

struct sender {
	void *ctx, *dealer, *monitor;
};

static void reply(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	if (s == NULL)
		abort();
	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static void die(const char *msg)
{
	fprintf(stderr, "test_sender: %s\n", msg);
	exit(2);
}

static int set_int(void *sock, int opt, int v)
{
	return zmq_setsockopt(sock, opt, &v, sizeof(v));
}

static void setup(struct sender *s, const char *endpoint,
		  const char *server_pub, const char *secret)
{
	struct bw_keypair kp;
	uint8_t server_key[BW_KEY_LEN];
	struct bw_error err;

	if (bw_keys_load_public(server_pub, server_key, NULL, &err) < 0 ||
	    bw_keys_load_secret(secret, &kp, &err) < 0)
		die(err.msg);
	s->ctx = zmq_ctx_new();
	s->dealer = zmq_socket(s->ctx, ZMQ_DEALER);
	if (s->dealer == NULL ||
	    zmq_setsockopt(s->dealer, ZMQ_CURVE_SERVERKEY, server_key,
			   BW_KEY_LEN) != 0 ||
	    zmq_setsockopt(s->dealer, ZMQ_CURVE_PUBLICKEY, kp.public_key,
			   BW_KEY_LEN) != 0 ||
	    zmq_setsockopt(s->dealer, ZMQ_CURVE_SECRETKEY, kp.secret_key,
			   BW_KEY_LEN) != 0 ||
	    set_int(s->dealer, ZMQ_LINGER, 0) != 0 ||
	    set_int(s->dealer, ZMQ_IMMEDIATE, 1) != 0 ||
	    /* a refused handshake is not retried at once */
	    set_int(s->dealer, ZMQ_RECONNECT_IVL, 5000) != 0)
		die(zmq_strerror(errno));
	bw_keys_wipe(&kp);
	if (zmq_socket_monitor(s->dealer, "inproc://test-sender-monitor",
			       ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
				       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
				       ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
				       ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) !=
	    0)
		die(zmq_strerror(errno));
	s->monitor = zmq_socket(s->ctx, ZMQ_PAIR);
	if (s->monitor == NULL || set_int(s->monitor, ZMQ_LINGER, 0) != 0 ||
	    zmq_connect(s->monitor, "inproc://test-sender-monitor") != 0 ||
	    zmq_connect(s->dealer, endpoint) != 0)
		die(zmq_strerror(errno));
}

static json_t *wait_connect(struct sender *s, int timeout_ms)
{
	zmq_pollitem_t it = { .socket = s->monitor, .events = ZMQ_POLLIN };
	int64_t until = bw_mono_us() + (int64_t)timeout_ms * 1000;

	for (;;) {
		int64_t left = until - bw_mono_us();
		zmq_msg_t ev, addr;
		uint16_t event;
		uint32_t value;

		if (left <= 0)
			return json_pack("{s:s}", "event", "timeout");
		if (zmq_poll(&it, 1, (long)(left / 1000) + 1) <= 0)
			continue;
		zmq_msg_init(&ev);
		zmq_msg_init(&addr);
		if (zmq_msg_recv(&ev, s->monitor, 0) < 0 ||
		    zmq_msg_recv(&addr, s->monitor, 0) < 0)
			die(zmq_strerror(errno));
		memcpy(&event, zmq_msg_data(&ev), 2);
		memcpy(&value, (char *)zmq_msg_data(&ev) + 2, 4);
		zmq_msg_close(&ev);
		zmq_msg_close(&addr);
		if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
			return json_pack("{s:s}", "event", "connected");
		if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
			return json_pack("{s:s, s:i}", "event", "auth_failed",
					 "code", (int)value);
		return json_pack("{s:s}", "event", "handshake_failed");
	}
}

static json_t *sent(int rc, const struct bw_error *err)
{
	if (rc == 0)
		return json_pack("{s:b}", "sent", 1);
	return json_pack("{s:b, s:s}", "sent", 0, "error", err->msg);
}

static json_t *send_msg(struct sender *s, const struct bw_wire_msg *m)
{
	struct bw_error err;

	return sent(bw_wire_send(s->dealer, NULL, m, ZMQ_DONTWAIT, &err),
		    &err);
}

static int unhex(const char *h, unsigned char **out, size_t *len)
{
	size_t n = strlen(h);

	if (n % 2 != 0)
		return -1;
	*out = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1) {
			free(*out);
			return -1;
		}
		(*out)[i] = (unsigned char)v;
	}
	*len = n / 2;
	return 0;
}

static json_t *send_raw(struct sender *s, const json_t *frames)
{
	size_t n = json_array_size(frames);
	struct bw_error err = { .msg = "bad hex" };

	for (size_t i = 0; i < n; i++) {
		unsigned char *d;
		size_t len;
		int rc;

		if (unhex(json_string_value(json_array_get(frames, i)), &d,
			  &len) < 0)
			return sent(-1, &err);
		rc = zmq_send(s->dealer, d, len,
			      ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0));
		free(d);
		if (rc < 0) {
			snprintf(err.msg, sizeof(err.msg), "%s",
				 zmq_strerror(errno));
			return sent(-1, &err);
		}
	}
	return sent(0, NULL);
}

static json_t *recv_msg(struct sender *s, int timeout_ms)
{
	zmq_pollitem_t it = { .socket = s->dealer, .events = ZMQ_POLLIN };
	struct bw_wire_msg m;
	struct bw_error err;
	json_t *o;
	int rc;

	if (zmq_poll(&it, 1, timeout_ms) <= 0)
		return json_pack("{s:s}", "type", "none");
	rc = bw_wire_recv(s->dealer, false, ZMQ_DONTWAIT, &m, NULL, &err);
	if (rc == BW_WIRE_RECV_NONE)
		return json_pack("{s:s}", "type", "none");
	if (rc != BW_WIRE_RECV_MSG)
		return json_pack("{s:s, s:s}", "type", "bad", "error", err.msg);
	if (m.type == BW_WIRE_ACK)
		o = json_pack("{s:s, s:I, s:s, s:I, s:i, s:s}", "type", "ACK",
			      "seq", (json_int_t)m.seq, "id", m.id, "revision",
			      (json_int_t)m.revision, "status", (int)m.status,
			      "reason", m.reason != NULL ? m.reason : "");
	else if (m.type == BW_WIRE_HEARTBEAT)
		o = json_pack("{s:s, s:I, s:I}", "type", "HEARTBEAT",
			      "time_us", (json_int_t)m.time_us, "pending",
			      (json_int_t)m.pending);
	else
		o = json_pack("{s:s}", "type", "other");
	bw_wire_msg_clear(&m);
	return o;
}

static json_t *command(struct sender *s, const json_t *c, bool *quit)
{
	const char *op = json_string_value(json_object_get(c, "op"));
	int timeout = (int)json_integer_value(json_object_get(c,
							      "timeout_ms"));
	struct bw_wire_msg m = { 0 };

	if (op == NULL)
		die("a command without op");
	if (strcmp(op, "wait_connect") == 0)
		return wait_connect(s, timeout);
	if (strcmp(op, "recv") == 0)
		return recv_msg(s, timeout);
	if (strcmp(op, "raw") == 0)
		return send_raw(s, json_object_get(c, "frames"));
	if (strcmp(op, "quit") == 0) {
		*quit = true;
		return json_pack("{s:b}", "bye", 1);
	}
	m.seq = (uint64_t)json_integer_value(json_object_get(c, "seq"));
	m.revision = (uint32_t)json_integer_value(json_object_get(c,
								  "revision"));
	m.id = (char *)json_string_value(json_object_get(c, "id"));
	m.id_len = m.id != NULL ? strlen(m.id) : 0;
	if (strcmp(op, "incident") == 0) {
		m.type = BW_WIRE_INCIDENT;
		m.json = (char *)json_string_value(json_object_get(c, "json"));
		m.json_len = m.json != NULL ? strlen(m.json) : 0;
	} else if (strcmp(op, "heartbeat") == 0) {
		m.type = BW_WIRE_HEARTBEAT;
		m.time_us = bw_now_us();
		m.pending = (uint64_t)json_integer_value(
			json_object_get(c, "pending"));
	} else if (strcmp(op, "ack") == 0) {
		m.type = BW_WIRE_ACK;
		m.reason = "";
	} else {
		die("unknown op");
	}
	return send_msg(s, &m);
}

int main(int argc, char **argv)
{
	struct sender s = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool quit = false;

	if (argc != 4)
		die("usage: test_sender ENDPOINT SERVER_PUBLIC_KEY_FILE "
		    "SECRET_KEY_FILE");
	setup(&s, argv[1], argv[2], argv[3]);
	while (!quit && (n = getline(&line, &cap, stdin)) > 0) {
		json_error_t jerr;
		json_t *c;

		if ((size_t)n > MAX_LINE)
			die("command line too long");
		c = json_loadb(line, (size_t)n, 0, &jerr);
		if (c == NULL)
			die(jerr.text);
		reply(command(&s, c, &quit));
		json_decref(c);
	}
	free(line);
	zmq_socket_monitor(s.dealer, NULL, 0);
	zmq_close(s.monitor);
	zmq_close(s.dealer);
	zmq_ctx_term(s.ctx);
	return 0;
}
