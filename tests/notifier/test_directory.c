/*
 * test_directory.c - the customer directory (notifier/directory.c,
 * directory_http.c): a CSV file with RFC 4180 quoting, its row and file
 * errors at file:line and reloads; an SQLite database with a query; an
 * HTTP service (a small server on 127.0.0.1 in a thread, port chosen by
 * the OS) through curlloop: answers, 404, failures, refused entries,
 * timeouts, the cache and its bound and TTL.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include "bwtime.h"
#include "check_main.h"
#include "curlloop.h"
#include "directory.h"
#include "xmalloc.h"

static char dir[64];

static void fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bw-dir-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static char *write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void remove_all(void)
{
	char *cmd = xasprintf("rm -rf %s", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static enum directory_result look(struct directory *d, const char *id,
                                  struct directory_entry *e, char *why)
{
	return directory_lookup(d, id, e, why, 512);
}

static struct directory *open_csv(const char *path)
{
	struct directory_params p = {.kind = DIRECTORY_CSV, .path = path};
	struct bw_error err;
	struct directory *d = directory_new(&p, &err);

	ck_assert_msg(d != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	return d;
}

static const char CSV[] =
    "\xef\xbb\xbfid,name,email,alt_email,locale\r\n"
    "c1,Alice Example,alice@example.com,,en\r\n"
    "c2,\"Müller, Zoë\",zoe@example.org,zoe.alt@example.net,de-DE\r\n"
    "\"c3\",\"Bob \"\"the builder\"\"\",bob@example.com,,\n"
    "\n"
    "c4,\"Eve\r\nBcc: all@example.com\",eve@example.com,,\n" /* line 6 */
    "c5,Mallory,not-an-address,,\n"                          /* line 8 */
    "c6,Dup One,dup1@example.com,,\n"                        /* line 9 */
    "c7,Short,short@example.com\n"                           /* line 10 */
    "c6,Dup Two,dup2@example.com,,\n"                        /* line 11 */
    "c8,Tr\"udy,trudy@example.com,,\n"                       /* line 12 */
    "c9,Last,last@example.com,,\n";                          /* line 13 */

START_TEST(test_csv)
{
	struct directory_entry e;
	struct directory_stats st;
	char why[512], *path;
	struct directory *d;
	const char *const *ref;
	size_t n, total;

	fresh_dir();
	path = write_file("customers.csv", CSV);
	d = open_csv(path);
	ck_assert_int_eq(look(d, "c1", &e, why), DIRECTORY_FOUND);
	ck_assert_str_eq(e.name, "Alice Example");
	ck_assert_str_eq(e.email, "alice@example.com");
	ck_assert_ptr_null(e.alt_email);
	ck_assert_str_eq(e.locale, "en");
	directory_entry_clear(&e);
	ck_assert_int_eq(look(d, "c2", &e, why), DIRECTORY_FOUND);
	ck_assert_str_eq(e.name, "Müller, Zoë");
	ck_assert_str_eq(e.alt_email, "zoe.alt@example.net");
	ck_assert_str_eq(e.locale, "de-DE");
	directory_entry_clear(&e);
	ck_assert_int_eq(look(d, "c3", &e, why), DIRECTORY_FOUND);
	ck_assert_str_eq(e.name, "Bob \"the builder\"");
	ck_assert_ptr_null(e.locale);
	directory_entry_clear(&e);
	ck_assert_int_eq(look(d, "c9", &e, why), DIRECTORY_FOUND);
	directory_entry_clear(&e);

	/* refused rows answer with their file:line and reason */
	ck_assert_int_eq(look(d, "c4", &e, why), DIRECTORY_REFUSED);
	ck_assert_msg(strstr(why, "customers.csv:6:") != NULL &&
	                  strstr(why, "line break") != NULL,
	              "%s", why);
	ck_assert_int_eq(look(d, "c5", &e, why), DIRECTORY_REFUSED);
	ck_assert_msg(strstr(why, "customers.csv:8:") != NULL, "%s", why);
	ck_assert_int_eq(look(d, "c6", &e, why), DIRECTORY_REFUSED);
	ck_assert_msg(strstr(why, "lines 9 and 11") != NULL, "%s", why);
	ck_assert_int_eq(look(d, "c7", &e, why), DIRECTORY_REFUSED);
	ck_assert_msg(strstr(why, "3 fields") != NULL, "%s", why);
	ck_assert_int_eq(look(d, "nobody", &e, why), DIRECTORY_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(why, "not in"));
	/* c8's row could not be read: its id is not known at all */
	ck_assert_int_eq(look(d, "c8", &e, why), DIRECTORY_NOT_FOUND);

	ref = directory_refusals(d, &n, &total);
	/* c4, c5, c7, the second c6, c8 (the first c6 is refused with the
	 * second) */
	ck_assert_uint_eq(total, 5);
	ck_assert_uint_eq(n, 5);
	ck_assert_msg(strstr(ref[4], "customers.csv:12: a quote inside") !=
	                  NULL,
	              "%s", ref[4]);
	directory_get_stats(d, &st);
	ck_assert_uint_eq(st.entries, 4); /* c1, c2, c3, c9 */
	ck_assert_uint_eq(st.refused, 5);

	/* a reload of a broken file keeps the old directory */
	free(write_file("customers.csv", "id,email\nc1,\"open quote\n"));
	{
		struct bw_error err;

		ck_assert_int_lt(directory_reload(d, &err), 0);
		ck_assert_msg(strstr(err.file, "customers.csv") != NULL &&
		                  err.line == 2,
		              "%s:%d: %s", err.file, err.line, err.msg);
	}
	ck_assert_int_eq(look(d, "c2", &e, why), DIRECTORY_FOUND);
	directory_entry_clear(&e);
	/* a good one replaces it */
	free(write_file("customers.csv", "email,id\nnew@example.com,c10\n"));
	{
		struct bw_error err;

		ck_assert_int_eq(directory_reload(d, &err), 0);
	}
	ck_assert_int_eq(look(d, "c2", &e, why), DIRECTORY_NOT_FOUND);
	ck_assert_int_eq(look(d, "c10", &e, why), DIRECTORY_FOUND);
	ck_assert_str_eq(e.email, "new@example.com");
	ck_assert_ptr_null(e.name);
	directory_entry_clear(&e);
	directory_destroy(&d);
	ck_assert_ptr_null(d);
	free(path);
	remove_all();
}
END_TEST

START_TEST(test_csv_file_errors)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} bad[] = {
	    {"", 1, "empty"},
	    {"id,name\nc1,x\n", 1, "id and email"},
	    {"id,email,phone\n", 1, "unknown column \"phone\""},
	    {"id,email,id\n", 1, "twice"},
	    {"id,email\nc1,a@b.c\nc2,\"x@y.z\n", 3, "never closed"},
	};
	struct directory_params p = {.kind = DIRECTORY_CSV};
	struct bw_error err;
	char *path;

	fresh_dir();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		path = write_file("c.csv", bad[i].text);
		p.path = path;
		ck_assert_ptr_null(directory_new(&p, &err));
		ck_assert_msg(err.line == bad[i].line &&
		                  strstr(err.msg, bad[i].msg) != NULL &&
		                  strstr(err.file, "c.csv") != NULL,
		              "%zu: %s:%d: %s", i, err.file, err.line, err.msg);
		free(path);
	}
	p.path = "/nonexistent/customers.csv";
	ck_assert_ptr_null(directory_new(&p, &err));
	remove_all();
}
END_TEST

START_TEST(test_csv_large)
{
	FILE *f;
	char *path, id[32], why[512];
	struct directory *d;
	struct directory_entry e;
	int64_t t0;

	fresh_dir();
	path = xasprintf("%s/big.csv", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "id,name,email\n");
	for (int i = 0; i < 200000; i++)
		fprintf(f, "cust%d,Customer %d,cust%d@example.com\n", i, i, i);
	fclose(f);
	t0 = bw_mono_us();
	d = open_csv(path);
	/* 200,000 rows load in well under a couple of seconds */
	ck_assert_int_lt(bw_mono_us() - t0, 5 * INT64_C(1000000));
	for (int i = 0; i < 200000; i += 9973) {
		snprintf(id, sizeof(id), "cust%d", i);
		ck_assert_int_eq(look(d, id, &e, why), DIRECTORY_FOUND);
		ck_assert_str_eq(e.id, id);
		directory_entry_clear(&e);
	}
	directory_destroy(&d);
	free(path);
	remove_all();
}
END_TEST

START_TEST(test_sqlite)
{
	struct directory_params p = {.kind = DIRECTORY_SQLITE};
	struct directory_entry e;
	struct bw_error err;
	char why[512], *path;
	struct directory *d;
	sqlite3 *db;

	fresh_dir();
	path = xasprintf("%s/crm.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(
	    sqlite3_exec(db,
	                 "CREATE TABLE customer (cid TEXT, full_name TEXT,"
	                 " mail TEXT, alt TEXT, lang TEXT);"
	                 "INSERT INTO customer VALUES ('c1', 'Alice',"
	                 " 'alice@example.com', NULL, 'en');"
	                 "INSERT INTO customer VALUES ('c2', 'Eve' || char(13)"
	                 " || char(10) || 'Bcc: x@y.z', 'eve@example.com',"
	                 " NULL, NULL);"
	                 "INSERT INTO customer VALUES ('c3', 'A', 'a@x.y',"
	                 " NULL, NULL);"
	                 "INSERT INTO customer VALUES ('c3', 'B', 'b@x.y',"
	                 " NULL, NULL);",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	p.path = path;
	p.query = "SELECT full_name AS name, mail AS email, alt AS alt_email,"
	          " lang AS locale FROM customer WHERE cid = ?1";
	d = directory_new(&p, &err);
	ck_assert_msg(d != NULL, "%s", err.msg);
	ck_assert_int_eq(look(d, "c1", &e, why), DIRECTORY_FOUND);
	ck_assert_str_eq(e.name, "Alice");
	ck_assert_str_eq(e.email, "alice@example.com");
	ck_assert_str_eq(e.locale, "en");
	ck_assert_ptr_null(e.alt_email);
	directory_entry_clear(&e);
	ck_assert_int_eq(look(d, "c2", &e, why), DIRECTORY_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "line break"));
	ck_assert_int_eq(look(d, "c3", &e, why), DIRECTORY_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "several rows"));
	ck_assert_int_eq(look(d, "c9", &e, why), DIRECTORY_NOT_FOUND);
	/* an injection in the id is just an id */
	ck_assert_int_eq(look(d, "c1' OR '1'='1", &e, why),
	                 DIRECTORY_NOT_FOUND);
	directory_destroy(&d);

	p.query = "DELETE FROM customer WHERE cid = ?1";
	ck_assert_ptr_null(directory_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "write"));
	p.query = "SELECT mail AS email FROM customer";
	ck_assert_ptr_null(directory_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "one parameter"));
	p.query = "SELECT mail FROM customer WHERE cid = ?1";
	ck_assert_ptr_null(directory_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "email"));
	p.query = "SELECT nonsense";
	ck_assert_ptr_null(directory_new(&p, &err));
	free(path);
	remove_all();
}
END_TEST

/*
 * A small HTTP server in a thread: GET /c/ID answers by ID.
 */

struct server {
	int fd;
	int port;
	atomic_int requests;
	atomic_int stop;
	pthread_t thread;
	char last_auth[128];
};

static void answer(int c, struct server *s)
{
	char req[4096], *path, *end, *auth;
	const char *status = "200 OK", *body = "";
	char buf[8192];
	ssize_t n = 0, r;

	while (n < (ssize_t)sizeof(req) - 1) {
		r = read(c, req + n, sizeof(req) - 1 - (size_t)n);
		if (r <= 0)
			return;
		n += r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	atomic_fetch_add(&s->requests, 1);
	auth = strstr(req, "Authorization: ");
	if (auth != NULL) {
		end = strstr(auth, "\r\n");
		snprintf(s->last_auth, sizeof(s->last_auth), "%.*s",
		         (int)(end - auth), auth);
	}
	path = strchr(req, ' ');
	if (path == NULL)
		return;
	path++;
	end = strchr(path, ' ');
	if (end != NULL)
		*end = '\0';
	if (strcmp(path, "/c/c1") == 0) {
		body = "{\"id\":\"c1\",\"name\":\"Alice\",\"email\":"
		       "\"alice@example.com\",\"alt_email\":null,\"extra\":1}";
	} else if (strcmp(path, "/c/a%20b%2Fc") == 0) {
		body = "{\"email\":\"ab@example.com\"}";
	} else if (strcmp(path, "/c/cinj") == 0) {
		body = "{\"name\":\"Eve\\r\\nBcc: x@y.z\","
		       "\"email\":\"eve@example.com\"}";
	} else if (strcmp(path, "/c/cother") == 0) {
		body = "{\"id\":\"c1\",\"email\":\"eve@example.com\"}";
	} else if (strcmp(path, "/c/cbad") == 0) {
		body = "not json";
	} else if (strcmp(path, "/c/c500") == 0) {
		status = "500 Internal Server Error";
	} else if (strcmp(path, "/c/cslow") == 0) {
		for (int i = 0; i < 30 && !atomic_load(&s->stop); i++)
			usleep(50000);
		body = "{\"email\":\"slow@example.com\"}";
	} else if (strncmp(path, "/c/", 3) == 0 && path[3] == 'n') {
		/* n...: numbered customers for the cache test */
		snprintf(buf, sizeof(buf), "{\"email\":\"%s@example.com\"}",
		         path + 3);
		body = buf + 0;
	} else {
		status = "404 Not Found";
	}
	{
		char head[512];
		int hl = snprintf(head, sizeof(head),
		                  "HTTP/1.1 %s\r\nContent-Type: "
		                  "application/json\r\nContent-Length: %zu\r\n"
		                  "Connection: close\r\n\r\n",
		                  status, strlen(body));

		if (send(c, head, (size_t)hl, MSG_NOSIGNAL) < 0 ||
		    send(c, body, strlen(body), MSG_NOSIGNAL) < 0)
			return;
	}
}

struct conn {
	struct server *s;
	int fd;
};

static void *serve_one(void *arg)
{
	struct conn *c = arg;

	answer(c->fd, c->s);
	close(c->fd);
	free(c);
	return NULL;
}

/* One thread per connection (a slow answer must not hold up others);
 * they end on their own within 1.5 s. */
static void *serve(void *arg)
{
	struct server *s = arg;

	while (!atomic_load(&s->stop)) {
		int fd = accept(s->fd, NULL, NULL);
		struct conn *c;
		pthread_t t;

		if (fd < 0)
			continue;
		c = xmalloc(sizeof(*c));
		c->s = s;
		c->fd = fd;
		if (pthread_create(&t, NULL, serve_one, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	struct timeval tv = {0, 100000};

	memset(s, 0, sizeof(*s));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s->fd, 0);
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->fd, 16), 0);
	ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	/* accept wakes up to look at stop */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(struct server *s)
{
	atomic_store(&s->stop, 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
	usleep(200000); /* the slow answer's thread sees stop */
}

static int ready;

static void on_ready(void *arg)
{
	ready++;
}

/* Run the loop until ready reaches want or 5 s pass. */
static void run_until(struct curlloop *l, int want)
{
	int64_t until = bw_mono_us() + 5 * INT64_C(1000000);
	struct bw_error err;

	while (ready < want && bw_mono_us() < until) {
		zmq_pollitem_t items[64];
		size_t n = curlloop_poll_items(l, items);
		long t = curlloop_timeout_ms(l, bw_mono_us());

		ck_assert_uint_le(n, 64);
		if (t < 0 || t > 50)
			t = 50;
		ck_assert_int_ge(zmq_poll(items, (int)n, t), 0);
		ck_assert_int_eq(
		    curlloop_process(l, items, n, bw_mono_us(), &err), 0);
	}
	ck_assert_int_ge(ready, want);
}

/* Look id up until it is no longer pending. */
static enum directory_result settle(struct directory *d, struct curlloop *l,
                                    const char *id, struct directory_entry *e,
                                    char *why)
{
	enum directory_result r = look(d, id, e, why);

	if (r != DIRECTORY_PENDING)
		return r;
	run_until(l, ready + 1);
	r = look(d, id, e, why);
	ck_assert_int_ne(r, DIRECTORY_PENDING);
	return r;
}

START_TEST(test_http)
{
	struct directory_params p = {.kind = DIRECTORY_HTTP};
	struct directory_entry e;
	struct directory_stats st;
	struct server s;
	struct bw_error err;
	struct curlloop *l;
	struct directory *d;
	char why[512], *url, *hdr;
	int reqs;

	fresh_dir();
	server_start(&s);
	l = curlloop_new(&err);
	ck_assert_ptr_nonnull(l);
	url = xasprintf("http://127.0.0.1:%d/c/{id}", s.port);
	hdr = write_file("token", "# the CRM's token\n"
	                          "Authorization: Bearer s3cr3t\n");
	p.url = url;
	p.header_file = hdr;
	p.loop = l;
	p.on_ready = on_ready;
	p.timeout_us = 300 * INT64_C(1000);
	p.cache_max = 4;
	d = directory_new(&p, &err);
	ck_assert_msg(d != NULL, "%s", err.msg);

	ready = 0;
	ck_assert_int_eq(settle(d, l, "c1", &e, why), DIRECTORY_FOUND);
	ck_assert_str_eq(e.name, "Alice");
	ck_assert_str_eq(e.email, "alice@example.com");
	directory_entry_clear(&e);
	ck_assert_str_eq(s.last_auth, "Authorization: Bearer s3cr3t");
	/* the cache answers the second time */
	reqs = atomic_load(&s.requests);
	ck_assert_int_eq(look(d, "c1", &e, why), DIRECTORY_FOUND);
	directory_entry_clear(&e);
	ck_assert_int_eq(atomic_load(&s.requests), reqs);
	/* the id is URL-encoded */
	ck_assert_int_eq(settle(d, l, "a b/c", &e, why), DIRECTORY_FOUND);
	ck_assert_str_eq(e.email, "ab@example.com");
	directory_entry_clear(&e);
	ck_assert_int_eq(settle(d, l, "zz-nobody", &e, why),
	                 DIRECTORY_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(why, "404"));
	ck_assert_int_eq(settle(d, l, "cinj", &e, why), DIRECTORY_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "line break"));
	ck_assert_int_eq(settle(d, l, "cother", &e, why), DIRECTORY_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "another id"));
	ck_assert_int_eq(settle(d, l, "cbad", &e, why), DIRECTORY_REFUSED);
	ck_assert_int_eq(settle(d, l, "c500", &e, why), DIRECTORY_FAILED);
	ck_assert_ptr_nonnull(strstr(why, "500"));
	/* a failure is kept for retry_after: not asked again at once */
	reqs = atomic_load(&s.requests);
	ck_assert_int_eq(look(d, "c500", &e, why), DIRECTORY_FAILED);
	ck_assert_int_eq(atomic_load(&s.requests), reqs);
	/* a timeout is a failure */
	ck_assert_int_eq(settle(d, l, "cslow", &e, why), DIRECTORY_FAILED);
	ck_assert_ptr_nonnull(strstr(why, "imeout"));

	/* the cache's bound: 4 answers; the oldest go */
	directory_get_stats(d, &st);
	ck_assert_uint_le(st.cached, 4);
	reqs = atomic_load(&s.requests);
	ck_assert_int_eq(settle(d, l, "c1", &e, why), DIRECTORY_FOUND);
	directory_entry_clear(&e);
	ck_assert_int_eq(atomic_load(&s.requests), reqs + 1);

	/* parallel look-ups: all pending at once, then all answered */
	{
		char id[16];
		int before = ready;

		for (int i = 0; i < 4; i++) {
			snprintf(id, sizeof(id), "n%d", i);
			ck_assert_int_eq(look(d, id, &e, why),
			                 DIRECTORY_PENDING);
		}
		directory_get_stats(d, &st);
		ck_assert_uint_eq(st.in_flight, 4);
		run_until(l, before + 4);
		for (int i = 0; i < 4; i++) {
			snprintf(id, sizeof(id), "n%d", i);
			ck_assert_int_eq(look(d, id, &e, why), DIRECTORY_FOUND);
			directory_entry_clear(&e);
		}
	}
	/* a reload forgets the cache */
	ck_assert_int_eq(directory_reload(d, &err), 0);
	ck_assert_int_eq(look(d, "n0", &e, why), DIRECTORY_PENDING);
	directory_destroy(&d);
	curlloop_destroy(&l);
	server_stop(&s);

	/* the template must hold {id} once and be http(s) */
	p.url = "http://127.0.0.1/c/";
	ck_assert_ptr_null(directory_new(&p, &err));
	p.url = "ftp://127.0.0.1/{id}";
	ck_assert_ptr_null(directory_new(&p, &err));
	free(url);
	free(hdr);
	remove_all();
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("directory");
	TCase *tc = tcase_create("directory");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_csv);
	tcase_add_test(tc, test_csv_file_errors);
	tcase_add_test(tc, test_csv_large);
	tcase_add_test(tc, test_sqlite);
	tcase_add_test(tc, test_http);
	suite_add_tcase(s, tc);
	return s;
}
