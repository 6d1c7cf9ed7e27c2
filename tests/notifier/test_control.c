/*
 * test_control.c - the control socket (notifier/control.c) with a toy
 * handler: the file's mode and group, the peer's user name from the
 * kernel, one response line per request line in order, bad and too long
 * lines, the client limit, idle clients, stale and live sockets at the
 * path, and the file removed at the end.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../notifier/control.h"
#include "bwtime.h"
#include "xmalloc.h"
#include "check_main.h"

#define DIR_TEMPLATE "/tmp/bw-control-XXXXXX"
static char dir[sizeof(DIR_TEMPLATE)];
static char *sock_path;

static void setup(void)
{
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sock_path = xasprintf("%s/ctl.sock", dir);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(sock_path);
}

/* Echo the request with the peer's user name; "boom" asks for a large
 * response. */
static json_t *handler(const json_t *req, const struct control_peer *peer,
		       void *arg)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	json_t *o = json_pack("{s:b, s:s, s:i, s:O}", "ok", 1, "user",
			      peer->user, "uid", (int)peer->uid, "req", req);

	(void)arg;
	if (cmd != NULL && strcmp(cmd, "boom") == 0) {
		char *big = xmalloc(5000);

		memset(big, 'x', 4999);
		big[4999] = '\0';
		json_object_set_new(o, "big", json_string(big));
		free(big);
	}
	return o;
}

static struct control *make(mode_t mode, gid_t gid, size_t max_clients,
			    int64_t idle_us)
{
	struct control_params p = {
		.path = sock_path,
		.mode = mode,
		.gid = gid,
		.max_clients = max_clients,
		.max_request = 1000,
		.max_response = 4096,
		.idle_timeout_us = idle_us,
		.handler = handler,
	};
	struct bw_error err;
	struct control *c = control_new(&p, &err);

	ck_assert_msg(c != NULL, "%s", err.msg);
	return c;
}

/* Run the control's side for about ms milliseconds. */
static void pump(struct control *c, int ms)
{
	zmq_pollitem_t items[64];
	int64_t until = bw_mono_us() + ms * 1000;
	struct bw_error err;

	ck_assert_uint_le(control_max_items(c), 64);
	while (bw_mono_us() < until) {
		size_t n = control_poll_items(c, items);

		ck_assert_int_ge(zmq_poll(items, (int)n, 10), 0);
		ck_assert_int_eq(control_process(c, items, n, bw_mono_us(),
						 &err),
				 0);
	}
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void say(int fd, const char *text)
{
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Read what the client has been sent, pumping the control meanwhile, until
 * `lines` newlines arrived or the connection closed. */
static char *hear(struct control *c, int fd, int lines, bool *closed)
{
	char *buf = xcalloc(1, 65536);
	size_t len = 0;
	int64_t until = bw_mono_us() + 3000 * 1000;

	*closed = false;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	while (bw_mono_us() < until) {
		int nl = 0;
		ssize_t n;

		pump(c, 20);
		n = read(fd, buf + len, 65535 - len);
		if (n == 0) {
			*closed = true;
			break;
		}
		if (n > 0)
			len += (size_t)n;
		for (size_t i = 0; i < len; i++)
			nl += buf[i] == '\n';
		if (nl >= lines && lines > 0)
			break;
	}
	return buf;
}

START_TEST(test_mode_and_group)
{
	struct control *c = make(0660, getgid(), 4, 0);
	struct stat st;

	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0660);
	ck_assert_uint_eq(st.st_gid, getgid());
	control_destroy(&c);
	ck_assert_ptr_null(c);
	/* the file goes with it */
	ck_assert_int_eq(lstat(sock_path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);

	c = make(0600, (gid_t)-1, 4, 0);
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	control_destroy(&c);
}
END_TEST

START_TEST(test_bad_mode_refused)
{
	struct control_params p = { .path = sock_path, .mode = 0666,
				    .handler = handler };
	struct bw_error err;
	struct stat st;

	ck_assert_ptr_null(control_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "0666"));
	p.mode = 0640;
	ck_assert_ptr_null(control_new(&p, &err));
	ck_assert_int_eq(lstat(sock_path, &st), -1);
}
END_TEST

START_TEST(test_peer_is_the_kernel_s)
{
	struct control *c = make(0660, (gid_t)-1, 4, 0);
	struct passwd *pw = getpwuid(getuid());
	int fd = client();
	bool closed;
	char *got;
	json_t *r;

	ck_assert_ptr_nonnull(pw);
	/* a request naming another user changes nothing: the handler sees
	 * the kernel's uid */
	say(fd, "{\"cmd\":\"x\",\"operator\":\"mallory\"}\n");
	got = hear(c, fd, 1, &closed);
	r = json_loads(got, 0, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(json_string_value(json_object_get(r, "user")),
			 pw->pw_name);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "uid")),
			 (int)getuid());
	json_decref(r);
	free(got);
	close(fd);
	control_destroy(&c);
}
END_TEST

START_TEST(test_lines_in_order)
{
	struct control *c = make(0660, (gid_t)-1, 4, 0);
	int fd = client();
	bool closed;
	char *got, *line2, *line3;

	/* three requests in one write, one of them not JSON, a CRLF */
	say(fd, "{\"cmd\":\"a\"}\n[1,2]\r\n{\"cmd\":\"c\"}\n");
	got = hear(c, fd, 3, &closed);
	ck_assert(!closed);
	line2 = strchr(got, '\n') + 1;
	line3 = strchr(line2, '\n') + 1;
	ck_assert_ptr_nonnull(strstr(got, "\"cmd\":\"a\""));
	ck_assert(strstr(got, "\"cmd\":\"a\"") < line2);
	ck_assert(strncmp(line2, "{\"ok\":false,\"error\":\"bad_request\"",
			  33) == 0);
	ck_assert_ptr_nonnull(strstr(line3, "\"cmd\":\"c\""));
	free(got);
	/* the connection still serves */
	say(fd, "{\"cmd\":\"d\"}\n");
	got = hear(c, fd, 1, &closed);
	ck_assert_ptr_nonnull(strstr(got, "\"d\""));
	free(got);
	close(fd);
	control_destroy(&c);
}
END_TEST

START_TEST(test_too_long_and_too_large)
{
	struct control *c = make(0660, (gid_t)-1, 4, 0);
	struct control_stats st;
	char *big = xmalloc(3000);
	int fd = client();
	bool closed;
	char *got;

	/* a response over max_response: an error in its place */
	say(fd, "{\"cmd\":\"boom\"}\n");
	got = hear(c, fd, 1, &closed);
	ck_assert_ptr_nonnull(strstr(got, "\"too_large\""));
	ck_assert(!closed);
	free(got);
	/* a request line over max_request: told, then closed */
	memset(big, 'x', 2999);
	big[2999] = '\0';
	say(fd, big);
	got = hear(c, fd, 0, &closed);
	ck_assert_ptr_nonnull(strstr(got, "request line over 1000 bytes"));
	ck_assert(closed);
	free(got);
	control_get_stats(c, &st);
	ck_assert_uint_eq(st.too_long, 1);
	ck_assert_uint_eq(st.clients, 0);
	free(big);
	close(fd);
	control_destroy(&c);
}
END_TEST

START_TEST(test_client_limit)
{
	struct control *c = make(0660, (gid_t)-1, 2, 0);
	struct control_stats st;
	int a = client(), b = client(), x;
	bool closed;
	char *got;

	pump(c, 50);
	x = client();
	got = hear(c, x, 0, &closed);
	ck_assert(closed);
	ck_assert_ptr_nonnull(strstr(got, "\"busy\""));
	free(got);
	control_get_stats(c, &st);
	ck_assert_uint_eq(st.refused, 1);
	ck_assert_uint_eq(st.clients, 2);
	/* the two still get answers; after one leaves, a new one gets in */
	say(a, "{\"cmd\":\"a\"}\n");
	got = hear(c, a, 1, &closed);
	ck_assert_ptr_nonnull(strstr(got, "\"ok\":true"));
	free(got);
	close(b);
	pump(c, 50);
	close(x);
	x = client();
	say(x, "{\"cmd\":\"x\"}\n");
	got = hear(c, x, 1, &closed);
	ck_assert_ptr_nonnull(strstr(got, "\"ok\":true"));
	free(got);
	close(a);
	close(x);
	control_destroy(&c);
}
END_TEST

START_TEST(test_idle_closed)
{
	struct control *c = make(0660, (gid_t)-1, 2, 200 * 1000);
	struct control_stats st;
	int fd = client();
	bool closed;
	char *got;

	pump(c, 20);
	ck_assert_int_ge(control_timeout_ms(c, bw_mono_us()), 0);
	got = hear(c, fd, 0, &closed);
	ck_assert(closed);
	free(got);
	control_get_stats(c, &st);
	ck_assert_uint_eq(st.idle_closed, 1);
	ck_assert_int_eq(control_timeout_ms(c, bw_mono_us()), -1);
	close(fd);
	control_destroy(&c);
}
END_TEST

START_TEST(test_gone_client)
{
	struct control *c = make(0660, (gid_t)-1, 2, 0);
	struct control_stats st;
	int fd = client();

	/* asks and leaves before the answer: no SIGPIPE, no leak */
	say(fd, "{\"cmd\":\"boom\"}\n{\"cmd\":\"boom\"}\n");
	close(fd);
	pump(c, 100);
	control_get_stats(c, &st);
	ck_assert_uint_eq(st.clients, 0);
	control_destroy(&c);
}
END_TEST

START_TEST(test_what_is_at_the_path)
{
	struct control_params p = { .path = sock_path, .mode = 0660,
				    .gid = (gid_t)-1, .handler = handler };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c, *c2;
	struct bw_error err;
	struct stat st;
	FILE *f;
	int fd;

	/* a stale socket (nobody listening) is replaced */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	c = control_new(&p, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	/* a live one is not */
	c2 = control_new(&p, &err);
	ck_assert_ptr_null(c2);
	ck_assert_ptr_nonnull(strstr(err.msg, "already listening"));
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	control_destroy(&c);
	/* nor is a file that is not a socket, which stays as it was */
	f = fopen(sock_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("keep me", f);
	fclose(f);
	ck_assert_ptr_null(control_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "not a socket"));
	ck_assert_int_eq(lstat(sock_path, &st), 0);
	ck_assert_int_eq(st.st_size, 7);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("notifier_control");
	TCase *tc = tcase_create("control");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mode_and_group);
	tcase_add_test(tc, test_bad_mode_refused);
	tcase_add_test(tc, test_peer_is_the_kernel_s);
	tcase_add_test(tc, test_lines_in_order);
	tcase_add_test(tc, test_too_long_and_too_large);
	tcase_add_test(tc, test_client_limit);
	tcase_add_test(tc, test_idle_closed);
	tcase_add_test(tc, test_gone_client);
	tcase_add_test(tc, test_what_is_at_the_path);
	suite_add_tcase(s, tc);
	return s;
}
