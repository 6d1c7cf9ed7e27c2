/*
 * control.h - the notifier's local control socket, through which the
 * breachwatch CLI reads and writes the breach record (docs/cli.md).
 *
 * An AF_UNIX stream socket at a path, created with the mode asked for
 * (0600 or 0660: never more) and, when given, the group that operators
 * belong to: the file's permissions say who may talk to the notifier.
 * Each connection's peer is identified by the kernel (SO_PEERCRED): its
 * uid's user name is the operator recorded for whatever it asks; a client
 * cannot claim another name.
 *
 * The protocol is one JSON object per line each way: a request line, then
 * its response line, in order; a client may send several requests on one
 * connection. A request line is bounded (max_request bytes); a longer one
 * gets an error response and the connection is closed. What a request
 * means is up to the handler (control_cmd.h); this file moves lines.
 *
 * Non-blocking, driven by the notifier's zmq_poll loop: each turn,
 * control_poll_items() adds the listener and the clients (raw fds in
 * zmq_pollitem_t) to the poll set, and control_process() is given the same
 * items back with their revents. A client idle for idle_timeout is closed,
 * and control_timeout_ms() says when the next one is due.
 */
#ifndef BW_CONTROL_H
#define BW_CONTROL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zmq.h>

#include "../common/error.h"

#define CONTROL_DEFAULT_MAX_REQUEST (1u << 20)     /* a request line */
#define CONTROL_DEFAULT_MAX_RESPONSE (256u << 20)  /* a response line */
#define CONTROL_DEFAULT_IDLE_US (60 * INT64_C(1000000))

/* Who is asking (from SO_PEERCRED). */
struct control_peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	const char *user; /* the uid's user name, or "uid:N" if it has none */
};

/* Answer one request. req is the parsed request object (borrowed); the
 * handler returns the response object, which control takes (json_decref).
 * It must not return NULL. */
typedef json_t *(*control_handler_fn)(const json_t *req,
				      const struct control_peer *peer,
				      void *arg);

struct control_params {
	const char *path;      /* where the socket is made */
	mode_t mode;           /* 0600 or 0660 */
	gid_t gid;             /* (gid_t)-1: keep the notifier's group */
	size_t max_clients;    /* default 16 */
	size_t max_request;    /* default CONTROL_DEFAULT_MAX_REQUEST */
	size_t max_response;   /* default CONTROL_DEFAULT_MAX_RESPONSE */
	int64_t idle_timeout_us; /* default CONTROL_DEFAULT_IDLE_US */
	control_handler_fn handler;
	void *arg;
};

struct control_stats {
	uint64_t accepted;     /* connections */
	uint64_t refused;      /* over max_clients: told so and closed */
	uint64_t requests;     /* request lines answered */
	uint64_t bad_requests; /* lines that were not a JSON object */
	uint64_t too_long;     /* request lines over max_request */
	uint64_t idle_closed;  /* clients closed for idling */
	size_t clients;        /* connected now */
};

struct control;

/* Create the socket at p->path: a stale socket left by a notifier that is
 * gone is replaced; a path where a notifier answers, or that is not a
 * socket, is refused. The socket is made with mode p->mode from the start
 * (under a umask), then given p->gid. Returns NULL with err filled. Caller
 * owns the result. */
struct control *control_new(const struct control_params *p,
			    struct bw_error *err) BW_WUR;

/* Close every client and the listener, and remove the socket file.
 * Accepts NULL; nulls the caller's pointer. */
void control_destroy(struct control **c);

/* The most items control_poll_items() adds: the listener and max_clients
 * clients. */
size_t control_max_items(const struct control *c);

/* Fill items (room for control_max_items()) for zmq_poll: the listener,
 * and each client for input, or for output while it has a response to
 * send. Returns the number filled. */
size_t control_poll_items(struct control *c, zmq_pollitem_t *items);

/* Milliseconds until the next idle client is due to be closed, or -1 when
 * no client is connected. */
long control_timeout_ms(const struct control *c, int64_t now_mono_us);

/* Act on the items filled by control_poll_items(), after zmq_poll set their
 * revents: accept, read and answer requests, write responses, close
 * clients that are done, broken or idle. Never blocks. Returns 0, or -1
 * with err when the listener failed. */
int control_process(struct control *c, const zmq_pollitem_t *items,
		    size_t n, int64_t now_mono_us,
		    struct bw_error *err) BW_WUR;

void control_get_stats(const struct control *c, struct control_stats *out);

#endif
