/*
 * client.c - one request to the notifier's control socket (see client.h).
 */
#include "client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/bwtime.h"
#include "../common/file.h"
#include "out.h"

static const struct {
	const char *code;
	int exit_code;
} error_codes[] = {
	{ "bad_request", CLI_USAGE },
	{ "not_found", CLI_NOT_FOUND },
	{ "refused", CLI_RUNTIME },
	{ "failed", CLI_RUNTIME },
	{ "too_large", CLI_RUNTIME },
	{ "busy", CLI_RUNTIME },
};

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "breachwatch: %s: socket path too long\n", path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "breachwatch: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		fprintf(stderr,
			"breachwatch: cannot reach the notifier at %s: %s%s\n",
			path, strerror(e),
			e == EACCES ? " (is your user in the control socket's "
				      "group?)"
			: e == ENOENT || e == ECONNREFUSED
				? " (is breachwatch-notifier running? "
				  "--socket PATH names another socket)"
				: "");
		close(fd);
		return -1;
	}
	return fd;
}

/* Read one line (without its newline) into b, waiting until deadline
 * (bw_mono_us). Returns 0, or -1 after printing why. */
static int read_line(int fd, struct bw_buf *b, int64_t deadline)
{
	char chunk[65536];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - bw_mono_us();
		char *nl;
		ssize_t n;
		int rc;

		if (left <= 0) {
			fprintf(stderr, "breachwatch: no answer from the "
					"notifier in time (--timeout)\n");
			return -1;
		}
		rc = poll(&p, 1, (int)((left + 999) / 1000));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0) {
			fprintf(stderr, "breachwatch: poll: %s\n",
				strerror(errno));
			return -1;
		}
		if (rc == 0)
			continue;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "breachwatch: reading the answer: %s\n",
				strerror(errno));
			return -1;
		}
		if (n == 0) {
			fprintf(stderr, "breachwatch: the notifier closed the "
					"connection without an answer\n");
			return -1;
		}
		nl = memchr(chunk, '\n', (size_t)n);
		if (bw_buf_add(b, chunk, nl != NULL ? (size_t)(nl - chunk)
						    : (size_t)n) < 0) {
			fprintf(stderr, "breachwatch: the answer is over %zu "
					"bytes\n", b->max);
			return -1;
		}
		if (nl != NULL)
			return 0;
	}
}

int client_call(const struct cli *c, json_t *req, json_t **resp)
{
	struct bw_buf b;
	json_error_t jerr;
	json_t *r = NULL;
	const char *code, *msg;
	char *line;
	int fd, rc = CLI_RUNTIME;

	*resp = NULL;
	if (req == NULL) { /* json_pack refused an argument */
		fprintf(stderr, "breachwatch: arguments must be UTF-8 text\n");
		return CLI_USAGE;
	}
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	req = NULL;
	if (line == NULL) {
		fprintf(stderr, "breachwatch: cannot encode the request\n");
		return CLI_USAGE;
	}
	fd = connect_to(c->socket);
	if (fd < 0) {
		free(line);
		return CLI_RUNTIME;
	}
	bw_buf_init(&b, CLIENT_MAX_RESPONSE);
	if (bw_write_all(fd, line, strlen(line)) < 0 ||
	    bw_write_all(fd, "\n", 1) < 0) {
		fprintf(stderr, "breachwatch: sending the request: %s\n",
			strerror(errno));
		goto out;
	}
	shutdown(fd, SHUT_WR); /* one request: the notifier may close after */
	if (read_line(fd, &b, bw_mono_us() + (int64_t)c->timeout_s * 1000000) <
	    0)
		goto out;
	r = json_loadb(b.data != NULL ? b.data : "", b.len, 0, &jerr);
	if (r == NULL || !json_is_object(r)) {
		fprintf(stderr, "breachwatch: the notifier's answer is not a "
				"JSON object\n");
		goto out;
	}
	if (json_is_true(json_object_get(r, "ok"))) {
		*resp = r;
		r = NULL;
		rc = CLI_OK;
		goto out;
	}
	code = json_string_value(json_object_get(r, "error"));
	msg = json_string_value(json_object_get(r, "message"));
	fprintf(stderr, "breachwatch: %s\n", msg != NULL ? msg : "error");
	for (size_t i = 0; code != NULL &&
			   i < sizeof(error_codes) / sizeof(error_codes[0]);
	     i++)
		if (strcmp(code, error_codes[i].code) == 0)
			rc = error_codes[i].exit_code;
out:
	json_decref(r);
	bw_buf_free(&b);
	free(line);
	close(fd);
	return rc;
}

void client_print_json(const json_t *resp)
{
	json_t *copy = json_copy((json_t *)resp);

	json_object_del(copy, "ok");
	out_json(copy);
	json_decref(copy);
}
