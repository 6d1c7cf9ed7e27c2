/*
 * control.c - the notifier's local control socket (see control.h).
 */
#include "control.h"

#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/xmalloc.h"

#define DEFAULT_MAX_CLIENTS 16
#define READ_CHUNK 65536
#define LISTEN_BACKLOG 64

struct client {
	int fd;
	struct control_peer peer;
	char user[64];
	struct bw_buf in;  /* bytes read, not yet answered */
	char *out;         /* the response being sent */
	size_t out_len, out_off;
	bool eof;          /* the client has shut down its side */
	bool close_after;  /* close once out is sent */
	int64_t deadline;  /* closed if idle until then (mono us) */
};

struct control {
	int fd;
	char *path;
	dev_t dev; /* of the socket file we made, to remove only that */
	ino_t ino;
	size_t max_clients, max_request, max_response;
	int64_t idle_us;
	control_handler_fn handler;
	void *arg;
	struct client **slots; /* max_clients, NULL when free */
	size_t *item_slot;     /* poll item k -> slot (k >= 1) */
	struct control_stats st;
};

/*
 * Creating the socket.
 */

static int fill_addr(struct sockaddr_un *sa, const char *path,
		     struct bw_error *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return bw_error_set(err, path, 0,
				    "control socket path longer than %zu bytes",
				    sizeof(sa->sun_path) - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* A socket file left at path: remove it when nobody answers on it (a
 * notifier that died), refuse when one does, or when path is not a
 * socket. */
static int clear_stale(const char *path, const struct sockaddr_un *sa,
		       struct bw_error *err)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return bw_error_set(err, path, 0, "%s", strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return bw_error_set(err, path, 0,
				    "exists and is not a socket; not touching "
				    "it");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bw_error_set(err, path, 0, "socket: %s",
				    strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return bw_error_set(err, path, 0,
				    "a notifier is already listening here");
	if (errno != ECONNREFUSED)
		return bw_error_set(err, path, 0, "cannot tell whether it is in "
				    "use: %s", strerror(errno));
	if (unlink(path) != 0 && errno != ENOENT)
		return bw_error_set(err, path, 0, "removing a stale socket: %s",
				    strerror(errno));
	return 0;
}

static int make_listener(struct control *c, const struct control_params *p,
			 struct bw_error *err)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int rc;

	if (fill_addr(&sa, p->path, err) < 0 || clear_stale(p->path, &sa, err) < 0)
		return -1;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return bw_error_set(err, p->path, 0, "socket: %s",
				    strerror(errno));
	/* The file is born with the mode asked for: there is no moment in
	 * which others could connect. (We are single-threaded here.) */
	old_mask = umask(0777 & ~p->mode);
	rc = bind(c->fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (rc != 0)
		return bw_error_set(err, p->path, 0, "bind: %s",
				    strerror(errno));
	if (stat(p->path, &st) != 0)
		return bw_error_set(err, p->path, 0, "stat: %s",
				    strerror(errno));
	c->path = xstrdup(p->path);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (p->gid != (gid_t)-1 && chown(p->path, (uid_t)-1, p->gid) != 0)
		return bw_error_set(err, p->path, 0,
				    "giving the socket group %u: %s",
				    (unsigned)p->gid, strerror(errno));
	if (chmod(p->path, p->mode) != 0)
		return bw_error_set(err, p->path, 0, "chmod %04o: %s",
				    (unsigned)p->mode, strerror(errno));
	if (listen(c->fd, LISTEN_BACKLOG) != 0)
		return bw_error_set(err, p->path, 0, "listen: %s",
				    strerror(errno));
	return 0;
}

struct control *control_new(const struct control_params *p,
			    struct bw_error *err)
{
	struct control *c;

	if (p->path == NULL || p->handler == NULL) {
		bw_error_set(err, NULL, 0, "control: a path and a handler are "
			     "needed");
		return NULL;
	}
	if (p->mode != 0600 && p->mode != 0660) {
		bw_error_set(err, p->path, 0,
			     "control socket mode %04o: only 0600 or 0660",
			     (unsigned)p->mode);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->fd = -1;
	c->max_clients = p->max_clients > 0 ? p->max_clients
					    : DEFAULT_MAX_CLIENTS;
	c->max_request = p->max_request > 0 ? p->max_request
					    : CONTROL_DEFAULT_MAX_REQUEST;
	c->max_response = p->max_response > 0 ? p->max_response
					      : CONTROL_DEFAULT_MAX_RESPONSE;
	c->idle_us = p->idle_timeout_us > 0 ? p->idle_timeout_us
					    : CONTROL_DEFAULT_IDLE_US;
	c->handler = p->handler;
	c->arg = p->arg;
	c->slots = xcalloc(c->max_clients, sizeof(*c->slots));
	c->item_slot = xcalloc(c->max_clients + 1, sizeof(*c->item_slot));
	if (make_listener(c, p, err) < 0)
		goto fail;
	return c;
fail:
	control_destroy(&c);
	return NULL;
}

static void client_free(struct client **clp)
{
	struct client *cl = *clp;

	if (cl == NULL)
		return;
	if (cl->fd >= 0)
		close(cl->fd);
	bw_buf_free(&cl->in);
	free(cl->out);
	free(cl);
	*clp = NULL;
}

void control_destroy(struct control **cp)
{
	struct control *c = *cp;
	struct stat st;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->max_clients; i++)
		client_free(&c->slots[i]);
	if (c->fd >= 0)
		close(c->fd);
	/* remove the file only if it is still the socket we made */
	if (c->path != NULL && lstat(c->path, &st) == 0 &&
	    st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c->slots);
	free(c->item_slot);
	free(c);
	*cp = NULL;
}

/*
 * Clients.
 */

static void identify(struct client *cl)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(cl->peer.uid, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL && strlen(pw.pw_name) < sizeof(cl->user))
		snprintf(cl->user, sizeof(cl->user), "%s", pw.pw_name);
	else
		snprintf(cl->user, sizeof(cl->user), "uid:%u",
			 (unsigned)cl->peer.uid);
	cl->peer.user = cl->user;
}

/* Queue text (taken: caller's buffer becomes ours) as the response. */
static void queue_out(struct client *cl, char *text, size_t len)
{
	free(cl->out);
	cl->out = text;
	cl->out_len = len;
	cl->out_off = 0;
}

static char *error_line(const char *code, const char *msg, size_t *len)
{
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 0, "error", code,
			      "message", msg);
	char *s;

	if (o == NULL)
		abort();
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	*len = strlen(s);
	s = xreallocarray(s, *len + 2, 1);
	s[(*len)++] = '\n';
	s[*len] = '\0';
	return s;
}

/* Answer one request line (len bytes, no newline). */
static void answer(struct control *c, struct client *cl, const char *line,
		   size_t len)
{
	json_error_t jerr;
	json_t *req, *resp;
	char *text;
	size_t tlen;

	c->st.requests++;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (req == NULL || !json_is_object(req)) {
		char msg[300];

		c->st.bad_requests++;
		snprintf(msg, sizeof(msg), "not a JSON object: %s",
			 req == NULL ? jerr.text : "another JSON value");
		json_decref(req);
		text = error_line("bad_request", msg, &tlen);
		queue_out(cl, text, tlen);
		return;
	}
	resp = c->handler(req, &cl->peer, c->arg);
	json_decref(req);
	text = json_dumps(resp, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(resp);
	if (text == NULL)
		abort(); /* out of memory: like xmalloc */
	tlen = strlen(text);
	if (tlen > c->max_response) {
		char msg[200];

		free(text);
		snprintf(msg, sizeof(msg),
			 "the response would be %zu bytes, over %zu", tlen,
			 c->max_response);
		text = error_line("too_large", msg, &tlen);
		queue_out(cl, text, tlen);
		return;
	}
	text = xreallocarray(text, tlen + 2, 1);
	text[tlen++] = '\n';
	text[tlen] = '\0';
	queue_out(cl, text, tlen);
}

/* A request line over max_request: say so, then close. */
static void too_long(struct control *c, struct client *cl)
{
	char msg[120], *text;
	size_t tlen;

	c->st.too_long++;
	snprintf(msg, sizeof(msg), "request line over %zu bytes",
		 c->max_request);
	text = error_line("too_large", msg, &tlen);
	queue_out(cl, text, tlen);
	cl->close_after = true;
	bw_buf_reset(&cl->in);
}

/* Answer the next complete request in cl->in, when nothing is being sent.
 * Returns true when a response was queued. */
static bool serve(struct control *c, struct client *cl)
{
	while (cl->out == NULL && cl->in.len > 0) {
		char *nl = memchr(cl->in.data, '\n', cl->in.len);
		size_t len, take = 0;

		if (nl != NULL) {
			len = (size_t)(nl - cl->in.data);
			take = len + 1;
		} else if (cl->in.len > c->max_request) {
			len = cl->in.len;
		} else if (cl->eof) {
			len = take = cl->in.len; /* a last line, no newline */
		} else {
			return false; /* wait for the rest of the line */
		}
		if (len > c->max_request) {
			too_long(c, cl);
			return true;
		}
		if (len > 0 && cl->in.data[len - 1] == '\r')
			len--;
		if (len > 0)
			answer(c, cl, cl->in.data, len);
		bw_buf_consume(&cl->in, take);
	}
	return cl->out != NULL;
}

/* Send what we can. Returns -1 when the client is gone. */
static int flush_out(struct client *cl)
{
	while (cl->out != NULL) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off,
				 cl->out_len - cl->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		cl->out_off += (size_t)n;
		if (cl->out_off == cl->out_len) {
			free(cl->out);
			cl->out = NULL;
		}
	}
	return 0;
}

/* Read what is there. Returns -1 when the client is gone. */
static int read_in(struct control *c, struct client *cl)
{
	char buf[READ_CHUNK];
	/* room up to one byte over max_request: enough to see a line is
	 * too long */
	size_t room = c->max_request + 2 > cl->in.len
		? c->max_request + 2 - cl->in.len : 0;
	ssize_t n;

	if (room == 0)
		return 0;
	if (room > sizeof(buf))
		room = sizeof(buf);
	n = recv(cl->fd, buf, room, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
	if (n == 0) {
		cl->eof = true;
		return 0;
	}
	if (bw_buf_add(&cl->in, buf, (size_t)n) < 0)
		return -1; /* cannot happen: room is below the ceiling */
	return 0;
}

/* One client's turn. Returns -1 when it is to be closed. */
static int client_turn(struct control *c, struct client *cl, short revents,
		       int64_t now)
{
	if (revents & (ZMQ_POLLIN | ZMQ_POLLERR)) {
		if (read_in(c, cl) < 0)
			return -1;
		cl->deadline = now + c->idle_us;
	}
	for (;;) {
		if (cl->out != NULL) {
			size_t before = cl->out_off;

			if (flush_out(cl) < 0)
				return -1;
			if (cl->out_off != before || cl->out == NULL)
				cl->deadline = now + c->idle_us;
			if (cl->out != NULL)
				return 0; /* wait for POLLOUT */
		}
		if (cl->close_after)
			return -1;
		if (!serve(c, cl))
			break;
	}
	if (cl->eof && cl->out == NULL)
		return -1;
	return 0;
}

static void refuse_busy(struct control *c, int fd)
{
	char msg[120];
	size_t len;
	char *line;

	c->st.refused++;
	snprintf(msg, sizeof(msg), "too many clients (%zu); try again",
		 c->max_clients);
	line = error_line("busy", msg, &len);
	/* best effort: the line fits in an empty socket buffer */
	if (send(fd, line, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* nothing more to do: the client sees the connection close */
	}
	free(line);
	close(fd);
}

static int accept_all(struct control *c, int64_t now, struct bw_error *err)
{
	for (;;) {
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		struct client *cl;
		size_t slot;
		int fd;

		fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				return 0; /* passing: try at the next turn */
			return bw_error_set(err, c->path, 0, "accept: %s",
					    strerror(errno));
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0) {
			close(fd); /* who it is decides everything: refuse */
			continue;
		}
		for (slot = 0; slot < c->max_clients; slot++)
			if (c->slots[slot] == NULL)
				break;
		if (slot == c->max_clients) {
			refuse_busy(c, fd);
			continue;
		}
		cl = xcalloc(1, sizeof(*cl));
		cl->fd = fd;
		cl->peer.uid = cred.uid;
		cl->peer.gid = cred.gid;
		cl->peer.pid = cred.pid;
		identify(cl);
		bw_buf_init(&cl->in, c->max_request + 2);
		cl->deadline = now + c->idle_us;
		c->slots[slot] = cl;
		c->st.accepted++;
	}
}

size_t control_max_items(const struct control *c)
{
	return c->max_clients + 1;
}

size_t control_poll_items(struct control *c, zmq_pollitem_t *items)
{
	size_t n = 0;

	items[n++] = (zmq_pollitem_t){ .socket = NULL, .fd = c->fd,
				       .events = ZMQ_POLLIN };
	for (size_t i = 0; i < c->max_clients; i++) {
		struct client *cl = c->slots[i];

		if (cl == NULL)
			continue;
		c->item_slot[n] = i;
		items[n++] = (zmq_pollitem_t){
			.socket = NULL,
			.fd = cl->fd,
			.events = cl->out != NULL ? ZMQ_POLLOUT : ZMQ_POLLIN,
		};
	}
	return n;
}

long control_timeout_ms(const struct control *c, int64_t now)
{
	int64_t next = INT64_MAX;

	for (size_t i = 0; i < c->max_clients; i++)
		if (c->slots[i] != NULL && c->slots[i]->deadline < next)
			next = c->slots[i]->deadline;
	if (next == INT64_MAX)
		return -1;
	if (next <= now)
		return 0;
	return (long)((next - now + 999) / 1000);
}

int control_process(struct control *c, const zmq_pollitem_t *items, size_t n,
		    int64_t now, struct bw_error *err)
{
	for (size_t k = 1; k < n; k++) {
		size_t slot = c->item_slot[k];
		struct client *cl = c->slots[slot];

		if (cl == NULL || cl->fd != items[k].fd || items[k].revents == 0)
			continue;
		if (client_turn(c, cl, items[k].revents, now) < 0)
			client_free(&c->slots[slot]);
	}
	for (size_t i = 0; i < c->max_clients; i++) {
		if (c->slots[i] != NULL && c->slots[i]->deadline <= now) {
			c->st.idle_closed++;
			client_free(&c->slots[i]);
		}
	}
	if (n > 0 && (items[0].revents & ZMQ_POLLIN) &&
	    accept_all(c, now, err) < 0)
		return -1;
	return 0;
}

void control_get_stats(const struct control *c, struct control_stats *out)
{
	*out = c->st;
	out->clients = 0;
	for (size_t i = 0; i < c->max_clients; i++)
		if (c->slots[i] != NULL)
			out->clients++;
}
