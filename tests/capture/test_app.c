/*
 * test_app.c - agent/app*.c through agent/netsrc.c: scripted TCP and UDP
 * conversations written as capture files, read back as events. HTTP
 * (pipelining, chunked bodies, HEAD, 100 Continue, Basic auth, headers
 * split across segments, gaps), DNS (on its port and recognised by content
 * elsewhere), TLS SNI across segments and records, PostgreSQL startup,
 * authentication and statements, SSH banners, and the PII scan.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../agent/netsrc.h"
#include "check_main.h"
#include "evfmt.h"
#include "pktgen.h"

/* The events of pf's file read with options o (NULL: the defaults), as
 * text; the file is removed. */
static char *events_with(struct pg_file *pf, const struct netsrc_options *o)
{
	char msg[1024];
	char *out;

	if (pf->f != NULL)
		pg_file_close(pf);
	out = evfmt_file(pf->path, o, msg, sizeof(msg));
	ck_assert_msg(out != NULL, "%s", msg);
	/* BW_KEEP_PCAPS=DIR keeps the files (the fuzz seeds come from them) */
	if (getenv("BW_KEEP_PCAPS") != NULL) {
		char to[512];
		const char *base = strrchr(pf->path, '-');

		snprintf(to, sizeof(to), "%s/app%s", getenv("BW_KEEP_PCAPS"),
			 base);
		ck_assert_int_eq(rename(pf->path, to), 0);
	} else {
		unlink(pf->path);
	}
	return out;
}

static char *events_of(struct pg_file *pf)
{
	return events_with(pf, NULL);
}

/* The evidence lines (raw) of the events of pf's file, one a line, with
 * options o; the file is kept for events_with(). */
static char *raws_with(struct pg_file *pf, const struct netsrc_options *o)
{
	struct bw_error err;
	struct netsrc *ns;
	struct bw_event ev;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int rc;

	if (pf->f != NULL)
		pg_file_close(pf);
	ns = netsrc_open_file(pf->path, o, &err);
	ck_assert_msg(ns != NULL, "%s", err.msg);
	while ((rc = netsrc_next(ns, &ev, &err)) == 1)
		fprintf(m, "%.*s\n", (int)ev.raw.len, ev.raw.p);
	ck_assert_int_eq(rc, 0);
	netsrc_destroy(&ns);
	fclose(m);
	return out;
}

/* The line of out that contains every one of the NULL-terminated needles
 * (after skipping `skip` such lines), or NULL. */
static const char *line_with(const char *out, int skip, ...)
{
	const char *l = out;

	while (*l != '\0') {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char *line = strndup(l, len);
		bool all = true;
		va_list ap;
		const char *n;

		va_start(ap, skip);
		while ((n = va_arg(ap, const char *)) != NULL)
			if (strstr(line, n) == NULL)
				all = false;
		va_end(ap);
		free(line);
		if (all && skip-- == 0)
			return l;
		l += len + (nl ? 1 : 0);
	}
	return NULL;
}

static int count_lines(const char *out, const char *needle)
{
	int n = 0;

	for (const char *p = out; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

#define HAS(out, ...)                                                      \
	ck_assert_msg(line_with(out, 0, __VA_ARGS__, NULL) != NULL,          \
		      "no event with " #__VA_ARGS__ " in:\n%s", out)

START_TEST(http_basic)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;
	/* "alice:secret" */
	const char *req1 = "GET /api/v1/customers/c1001/contacts?page=2 HTTP/1.1\r\n"
			   "Host: api.example.net\r\nUser-Agent: curl/7.88.1\r\n"
			   "Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
			   "Referer: https://app.example.net/\r\n\r\n";

	pg_file_open(&pf, "http.pcap", 1, false, false);
	/* a port that is not HTTP's: recognised by content */
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", 40001), pg_ep("10.1.0.1", 8081));
	/* the header block split in three segments */
	pg_tcp_send(&t, true, req1, 20);
	pg_tcp_send(&t, true, req1 + 20, 60);
	pg_tcp_send(&t, true, req1 + 80, strlen(req1) - 80);
	pg_tcp_send(&t, false, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello", 44);
	pg_tcp_send(&t, false, " world", 6);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "kind=flow", "action=open", "resource=tcp", "src_ip=10.1.0.5",
	    "dst_port=8081");
	HAS(out, "kind=http", "src_ip=10.1.0.5", "dst_ip=10.1.0.1",
	    "src_port=40001", "dst_port=8081", "principal=alice",
	    "action=GET", "resource=/api/v1/customers/c1001/contacts",
	    "query=page=2", "host=api.example.net",
	    "user_agent=curl/7.88.1", "referer=https://app.example.net/",
	    "status=200", "bytes_in=178", "bytes_out=11",
	    "text=GET /api/v1/customers/c1001/contacts?page=2 HTTP/1.1");
	HAS(out, "kind=flow", "action=close", "outcome=established",
	    "detail=http", "text=fin");
	ck_assert_int_eq(count_lines(out, "kind=http"), 1);
	free(out);
}
END_TEST

START_TEST(http_pipelined_chunked)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;
	const char *reqs = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
			   "HEAD /b HTTP/1.1\r\nHost: h\r\n\r\n"
			   "POST /c HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
			   "Expect: 100-continue\r\n\r\n";
	const char *r1 = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			 "4\r\nWiki\r\n5;ext=1\r\npedia\r\n";
	const char *r1b = "E\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n";
	const char *r2 = "HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n";
	const char *r3 = "HTTP/1.1 100 Continue\r\n\r\n";
	const char *r3b = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";

	pg_file_open(&pf, "pipe.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", 40002), pg_ep("10.1.0.1", 80));
	pg_tcp_send(&t, true, reqs, strlen(reqs)); /* three at once */
	pg_tcp_send(&t, false, r1, strlen(r1));
	pg_tcp_send(&t, false, r1b, strlen(r1b));
	pg_tcp_send(&t, false, r2, strlen(r2)); /* HEAD: no body */
	pg_tcp_send(&t, false, r3, strlen(r3));
	pg_tcp_send(&t, true, "hello", 5);
	pg_tcp_send(&t, false, r3b, strlen(r3b));
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "action=GET", "resource=/a", "status=200", "bytes_out=23");
	HAS(out, "action=HEAD", "resource=/b", "status=200", "bytes_out=0");
	HAS(out, "action=POST", "resource=/c", "status=201", "bytes_out=0",
	    "bytes_in=75");
	ck_assert_int_eq(count_lines(out, "kind=http"), 3);
	free(out);
}
END_TEST

/* A response read to the close; a request never answered. */
START_TEST(http_until_close)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;

	pg_file_open(&pf, "close.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", 40003), pg_ep("10.1.0.1", 80));
	pg_tcp_send(&t, true, "GET /x HTTP/1.0\r\n\r\n", 19);
	pg_tcp_send(&t, false, "HTTP/1.0 404 Not Found\r\n\r\nnot here", 34);
	pg_tcp_send(&t, true, "GET /y HTTP/1.0\r\n\r\n", 19);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "resource=/x", "status=404", "bytes_out=8");
	/* never answered: no status, no response bytes */
	HAS(out, "resource=/y", "bytes_in=19");
	ck_assert_ptr_null(line_with(out, 0, "resource=/y", "status=", NULL));
	ck_assert_ptr_null(line_with(out, 0, "resource=/y", "bytes_out=",
				     NULL));
	free(out);
}
END_TEST

/* A keep-alive connection joined midway: the server's first bytes are the
 * end of a response not seen; the client's next request says HTTP, and
 * its exchange is read from there. */
START_TEST(http_midstream)
{
	struct pg_file pf;
	struct pg_tcp_session t = { 0 };
	char tail[300];
	char *out;
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";

	memset(tail, 'x', sizeof(tail));
	pg_file_open(&pf, "mid.pcap", 1, false, false);
	t.pf = &pf;
	t.c = pg_ep("10.1.0.5", 40015);
	t.s = pg_ep("10.1.0.1", 8080);
	t.cseq = 7000;
	t.sseq = 9000;
	pg_tcp_send(&t, false, tail, 100);
	pg_tcp_send(&t, false, tail, sizeof(tail));
	pg_tcp_send(&t, true, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n", 31);
	pg_tcp_send(&t, false, resp, strlen(resp));
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "action=open", "detail=midstream", "src_ip=10.1.0.5");
	HAS(out, "kind=http", "resource=/next", "status=200", "bytes_out=2");
	HAS(out, "action=close", "detail=http");
	free(out);
}
END_TEST

/* A gap in a header block gives the direction up; one in a body does
 * not. */
START_TEST(http_gaps)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;
	const char *resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";

	pg_file_open(&pf, "gap.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", 40004), pg_ep("10.1.0.1", 80));
	pg_tcp_send(&t, true, "GET /1 HTTP/1.1\r\n\r\n", 19);
	pg_tcp_send(&t, false, resp, strlen(resp));
	/* body bytes 0-4 lost, 5-9 seen */
	pg_tcp_send_at(&t, false, 5, "56789", 5);
	t.sseq += 10;
	pg_tcp_send(&t, true, "GET /2 HTTP/1.1\r\n\r\n", 19);
	pg_tcp_send(&t, false, resp, strlen(resp));
	pg_tcp_send(&t, false, "0123456789", 10);
	/* now a hole in the middle of a request header */
	pg_tcp_send_at(&t, true, 8, "HTTP/1.1\r\n\r\n", 12);
	t.cseq += 20;
	pg_tcp_send(&t, true, "GET /4 HTTP/1.1\r\n\r\n", 19);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "resource=/1", "status=200", "bytes_out=10");
	HAS(out, "resource=/2", "status=200", "bytes_out=10");
	ck_assert_ptr_null(line_with(out, 0, "resource=/4", NULL));
	free(out);
}
END_TEST

START_TEST(http_pii)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;
	const char *body1 = "[{\"email\":\"alice@example.com\",\"card\":\"4111 1111 1111 1111\"},"
			    "{\"email\":\"bob.smith@mail.exa";
	/* not cards: a Luhn failure, a run of 20 digits, a Luhn-valid number
	 * with no card brand's prefix */
	const char *body2 = "mple.org\",\"card\":\"4111111111111112\",\"id\":\"12345678901234567890\","
			    "\"ref\":\"1234567812345670\"},"
			    "{\"email\":\"carol@example.net\",\"card\":\"5500-0000-0000-0004\"}]";
	char hdr[128];

	snprintf(hdr, sizeof(hdr),
		 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
		 strlen(body1) + strlen(body2));
	pg_file_open(&pf, "pii.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("203.0.113.9", 40005),
		    pg_ep("10.1.0.1", 80));
	pg_tcp_send(&t, true, "GET /export HTTP/1.1\r\n\r\n", 24);
	pg_tcp_send(&t, false, hdr, strlen(hdr));
	pg_tcp_send(&t, false, body1, strlen(body1));
	pg_tcp_send(&t, false, body2, strlen(body2));
	pg_tcp_close(&t);
	out = raws_with(&pf, NULL);
	HAS(out, "server sent 3 e-mail addresses in cleartext (http), e.g. a***@example.com");
	HAS(out, "server sent 2 card numbers in cleartext (http), e.g. 411111******1111");
	free(out);
	out = events_of(&pf);
	/* the client (src) got them from the server (dst) */
	HAS(out, "kind=flow", "src_ip=203.0.113.9", "dst_ip=10.1.0.1",
	    "action=pii", "resource=email", "detail=to_client", "bytes_out=3",
	    "text=a***@example.com");
	HAS(out, "action=pii", "resource=card", "detail=to_client",
	    "bytes_out=2", "text=411111******1111");
	ck_assert_ptr_null(line_with(out, 0, "action=pii", "bytes_in=", NULL));
	free(out);
}
END_TEST

/* An HTTP upload's body is scanned too: the client is the sender. */
START_TEST(http_upload_pii)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;
	const char *req = "POST /collect HTTP/1.1\r\nHost: drop.example\r\n"
			  "Content-Length: 44\r\n\r\n";

	pg_file_open(&pf, "post.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.1", 40012),
		    pg_ep("198.51.100.8", 80));
	pg_tcp_send(&t, true, req, strlen(req));
	pg_tcp_send(&t, true, "a@example.com,b@example.com,c@example.com\n\n\n", 44);
	pg_tcp_send(&t, false, "HTTP/1.1 204 No Content\r\n\r\n", 27);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "kind=http", "action=POST", "status=204", "bytes_in=110");
	HAS(out, "src_ip=10.1.0.1", "dst_ip=198.51.100.8", "action=pii",
	    "resource=email", "bytes_in=3", "detail=to_server");
	ck_assert_ptr_null(line_with(out, 0, "action=pii", "bytes_out=", NULL));
	free(out);
}
END_TEST

/* Cleartext of no known protocol is scanned both ways. */
START_TEST(other_pii)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;

	pg_file_open(&pf, "upl.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.1", 40006),
		    pg_ep("198.51.100.7", 9000));
	pg_tcp_send(&t, true, "PUSH dump\nuser1@example.com\nuser2@exa", 37);
	pg_tcp_send(&t, true, "mple.com\n", 9);
	pg_tcp_close(&t);
	/* evidence a person reads: no protocol to name, no gap for it */
	out = raws_with(&pf, NULL);
	HAS(out, "client sent 2 e-mail addresses in cleartext, e.g. u***@example.com");
	HAS(out, "tcp close (fin) established: ");
	free(out);
	out = events_of(&pf);
	HAS(out, "src_ip=10.1.0.1", "dst_ip=198.51.100.7", "action=pii",
	    "resource=email", "bytes_in=2", "detail=to_server");
	HAS(out, "action=close", "bytes_in=");
	free(out);
}
END_TEST

static size_t dns_msg(uint8_t *p, bool answer, const char *name)
{
	size_t n = 12;
	const char *l = name;

	memset(p, 0, 12);
	p[0] = 0x12;
	p[1] = 0x34;
	p[2] = answer ? 0x81 : 0x01;
	p[3] = answer ? 0x83 : 0x00; /* NXDOMAIN */
	p[5] = 1;
	while (*l) {
		const char *dot = strchr(l, '.');
		size_t ll = dot ? (size_t)(dot - l) : strlen(l);

		p[n++] = (uint8_t)ll;
		memcpy(p + n, l, ll);
		n += ll;
		l += ll + (dot ? 1 : 0);
	}
	p[n++] = 0;
	memcpy(p + n, "\x00\x10\x00\x01", 4); /* TXT IN */
	return n + 4;
}

START_TEST(dns)
{
	struct pg_file pf;
	uint8_t m[512];
	size_t n;
	char *out;
	struct pg_ep c = pg_ep("10.1.0.5", 33333), s = pg_ep("10.1.0.53", 53);
	struct pg_ep c2 = pg_ep("10.1.0.5", 33334), s2 = pg_ep("10.1.0.54", 9999);

	pg_file_open(&pf, "dns.pcap", 1, false, false);
	n = dns_msg(m, false, "AbC123.tunnel.Example.com");
	pg_udp_send(&pf, c, s, m, n);
	n = dns_msg(m, true, "abc123.tunnel.example.com");
	pg_udp_send(&pf, s, c, m, n);
	/* not a DNS port: recognised by content */
	n = dns_msg(m, false, "x.example.org");
	pg_udp_send(&pf, c2, s2, m, n);
	/* garbage on a DNS port is no event */
	pg_udp_send(&pf, c, s, "\x01\x02\x03", 3);
	out = events_of(&pf);
	HAS(out, "kind=dns", "src_ip=10.1.0.5", "dst_ip=10.1.0.53",
	    "action=query", "resource=abc123.tunnel.example.com",
	    "detail=TXT", "bytes_in=43");
	HAS(out, "kind=dns", "action=answer", "status=3", "text=answers=0",
	    "bytes_out=43");
	HAS(out, "kind=dns", "dst_port=9999", "resource=x.example.org");
	HAS(out, "action=close", "resource=udp", "outcome=answered",
	    "detail=dns");
	ck_assert_int_eq(count_lines(out, "kind=dns"), 3);
	free(out);
}
END_TEST

/* DNS over TCP: two length-prefixed queries in one segment, the answer
 * split across two. */
START_TEST(dns_tcp)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	uint8_t m[512], q[2 * 256];
	size_t n, qn = 0;
	char *out;

	for (int i = 0; i < 2; i++) {
		n = dns_msg(m, false, i ? "b.example.com" : "a.example.com");
		q[qn++] = (uint8_t)(n >> 8);
		q[qn++] = (uint8_t)n;
		memcpy(q + qn, m, n);
		qn += n;
	}
	pg_file_open(&pf, "dnstcp.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", 40014), pg_ep("10.1.0.53", 53));
	pg_tcp_send(&t, true, q, qn);
	n = dns_msg(m + 2, true, "a.example.com");
	m[0] = (uint8_t)(n >> 8);
	m[1] = (uint8_t)n;
	pg_tcp_send(&t, false, m, 5);
	pg_tcp_send(&t, false, m + 5, n + 2 - 5);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "kind=dns", "action=query", "resource=a.example.com",
	    "dst_port=53");
	HAS(out, "kind=dns", "action=query", "resource=b.example.com");
	HAS(out, "kind=dns", "action=answer", "resource=a.example.com",
	    "status=3");
	HAS(out, "action=close", "resource=tcp", "detail=dns");
	free(out);
}
END_TEST

/* A ClientHello split over two records, sent in three segments. */
START_TEST(tls_sni)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	uint8_t hs[512], rec[600];
	size_t n = 0, r = 0, half;
	const char *sni = "mail.example.com";
	size_t sl = strlen(sni);
	char *out;

	hs[n++] = 1;
	n += 3; /* length, below */
	hs[n++] = 3;
	hs[n++] = 3;
	memset(hs + n, 0xab, 32);
	n += 32;
	hs[n++] = 0;                          /* session id */
	memcpy(hs + n, "\x00\x02\x13\x01", 4); /* one cipher suite */
	n += 4;
	memcpy(hs + n, "\x01\x00", 2); /* compression */
	n += 2;
	{
		size_t ext = 4 + 5 + sl + 4 + 5;

		hs[n++] = (uint8_t)(ext >> 8);
		hs[n++] = (uint8_t)ext;
	}
	hs[n++] = 0; /* server_name */
	hs[n++] = 0;
	hs[n++] = 0;
	hs[n++] = (uint8_t)(5 + sl);
	hs[n++] = 0;
	hs[n++] = (uint8_t)(3 + sl);
	hs[n++] = 0;
	hs[n++] = 0;
	hs[n++] = (uint8_t)sl;
	memcpy(hs + n, sni, sl);
	n += sl;
	memcpy(hs + n, "\x00\x10\x00\x05\x00\x03\x02h2", 9); /* ALPN */
	n += 9;
	hs[1] = 0;
	hs[2] = (uint8_t)((n - 4) >> 8);
	hs[3] = (uint8_t)(n - 4);
	half = n / 2;
	/* record 1: the first half; record 2: the rest */
	memcpy(rec + r, "\x16\x03\x01", 3);
	rec[r + 3] = (uint8_t)(half >> 8);
	rec[r + 4] = (uint8_t)half;
	memcpy(rec + r + 5, hs, half);
	r += 5 + half;
	memcpy(rec + r, "\x16\x03\x01", 3);
	rec[r + 3] = (uint8_t)((n - half) >> 8);
	rec[r + 4] = (uint8_t)(n - half);
	memcpy(rec + r + 5, hs + half, n - half);
	r += 5 + n - half;
	pg_file_open(&pf, "tls.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", 40007), pg_ep("10.1.0.1", 8443));
	pg_tcp_send(&t, true, rec, 3);
	pg_tcp_send(&t, true, rec + 3, 40);
	pg_tcp_send(&t, true, rec + 43, r - 43);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "kind=tls", "action=client_hello",
	    "resource=mail.example.com", "detail=h2", "dst_port=8443");
	HAS(out, "action=close", "detail=tls");
	free(out);
}
END_TEST

static size_t pg_msg(uint8_t *p, char type, const void *body, size_t len)
{
	size_t n = 0;
	uint32_t l = (uint32_t)(len + 4);

	if (type)
		p[n++] = (uint8_t)type;
	p[n++] = (uint8_t)(l >> 24);
	p[n++] = (uint8_t)(l >> 16);
	p[n++] = (uint8_t)(l >> 8);
	p[n++] = (uint8_t)l;
	memcpy(p + n, body, len);
	return n + len;
}

START_TEST(postgres)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	uint8_t m[1024];
	size_t n;
	char *out;
	static const char startup[] = "\x00\x03\x00\x00user\0app\0database\0esp\0"
				      "application_name\0psql\0";
	static const char q[] = "SELECT * FROM contacts WHERE customer_id = 'c1001';";
	static const char parse[] = "s1\0UPDATE customers SET name = $1 WHERE id = $2\0\x00\x00";

	pg_file_open(&pf, "pg.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.77", 40008), pg_ep("10.1.0.1", 15432));
	/* SSLRequest refused, then the startup */
	pg_tcp_send(&t, true, "\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
	pg_tcp_send(&t, false, "N", 1);
	n = pg_msg(m, 0, startup, sizeof(startup));
	pg_tcp_send(&t, true, m, 5); /* split */
	pg_tcp_send(&t, true, m + 5, n - 5);
	n = pg_msg(m, 'R', "\x00\x00\x00\x00", 4);
	n += pg_msg(m + n, 'Z', "I", 1);
	pg_tcp_send(&t, false, m, n);
	n = pg_msg(m, 'Q', q, sizeof(q));
	pg_tcp_send(&t, true, m, n);
	n = pg_msg(m, 'P', parse, sizeof(parse) - 1);
	n += pg_msg(m + n, 'S', "", 0);
	pg_tcp_send(&t, true, m, n);
	pg_tcp_close(&t);
	/* a failed login */
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.78", 40009), pg_ep("10.1.0.1", 5432));
	n = pg_msg(m, 0, startup, sizeof(startup));
	pg_tcp_send(&t, true, m, n);
	n = pg_msg(m, 'E', "SFATAL\0C28P01\0Mpassword authentication failed\0", 47);
	pg_tcp_send(&t, false, m, n);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "kind=auth", "src_ip=10.1.0.77", "principal=app",
	    "action=connect", "outcome=success", "database=esp",
	    "dst_port=15432");
	HAS(out, "kind=sql", "principal=app", "action=SELECT",
	    "resource=contacts", "database=esp",
	    "text=SELECT * FROM contacts WHERE customer_id = 'c1001'");
	HAS(out, "kind=sql", "action=UPDATE", "resource=customers",
	    "text=UPDATE customers SET name = $1 WHERE id = $2");
	HAS(out, "kind=auth", "src_ip=10.1.0.78", "outcome=failure",
	    "detail=28P01");
	HAS(out, "action=close", "detail=postgres");
	free(out);
}
END_TEST

START_TEST(ssh)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	char *out;

	pg_file_open(&pf, "ssh.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", 40010), pg_ep("10.1.0.1", 2222));
	pg_tcp_send(&t, false, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", 32);
	pg_tcp_send(&t, true, "SSH-2.0-libssh", 14);
	pg_tcp_send(&t, true, "_0.10.4\r\n\x00\x00\x01", 12);
	pg_tcp_close(&t);
	out = events_of(&pf);
	HAS(out, "kind=flow", "action=banner", "resource=ssh",
	    "user_agent=SSH-2.0-OpenSSH_9.2p1 Debian-2", "detail=server");
	HAS(out, "action=banner", "user_agent=SSH-2.0-libssh_0.10.4",
	    "detail=client");
	free(out);
}
END_TEST

/* Flows that end in odd ways: refused, unanswered, evicted at the end. */
START_TEST(flow_events)
{
	struct pg_file pf;
	uint8_t l4[64], ip[128], fr[160];
	struct pg_ep c = pg_ep("10.1.0.66", 40011), s = pg_ep("10.1.0.1", 23);
	size_t n;
	char *out;

	pg_file_open(&pf, "scan.pcap", 1, false, false);
	n = pg_tcp(l4, c.port, s.port, 1, 0, 0x02, NULL, 0);
	n = pg_ip(ip, &c, &s, 6, l4, n);
	n = pg_eth(fr, ip, n);
	pg_file_frame(&pf, fr, n, n);
	n = pg_tcp(l4, s.port, c.port, 0, 2, 0x14, NULL, 0);
	n = pg_ip(ip, &s, &c, 6, l4, n);
	n = pg_eth(fr, ip, n);
	pg_file_frame(&pf, fr, n, n);
	s.port = 24; /* no answer at all */
	n = pg_tcp(l4, c.port, s.port, 1, 0, 0x02, NULL, 0);
	n = pg_ip(ip, &c, &s, 6, l4, n);
	n = pg_eth(fr, ip, n);
	pg_file_frame(&pf, fr, n, n);
	out = events_of(&pf);
	HAS(out, "action=open", "dst_port=23", "src_ip=10.1.0.66");
	HAS(out, "action=close", "dst_port=23", "outcome=refused", "text=rst");
	HAS(out, "action=close", "dst_port=24", "outcome=unanswered",
	    "text=end");
	/* neither reached a session */
	ck_assert_ptr_null(line_with(out, 0, "action=established", NULL));
	free(out);
}
END_TEST

/* One TCP segment from `from` to `to` as an Ethernet frame. */
static void seg(struct pg_file *pf, struct pg_ep from, struct pg_ep to,
		uint32_t seq, uint32_t ack, uint8_t flags, const char *data)
{
	uint8_t l4[256], ip[320], fr[352];
	size_t len = data != NULL ? strlen(data) : 0, n;

	n = pg_tcp(l4, from.port, to.port, seq, ack, flags, data, len);
	n = pg_ip(ip, &from, &to, 6, l4, n);
	n = pg_eth(fr, ip, n);
	pg_file_frame(pf, fr, n, n);
}

/* Whether the line starting at l contains needle. */
static bool in_line(const char *l, const char *needle)
{
	const char *nl = strchr(l, '\n');
	const char *at = strstr(l, needle);

	return at != NULL && (nl == NULL || at < nl);
}

/* The `established` event: once per TCP flow, whoever speaks first, with
 * the SYN retransmitted, joined midway, the SYN-ACK lost by the capture;
 * never for a connection nobody answered, nor for bytes in a reset. */
START_TEST(flow_established)
{
	struct pg_file pf;
	struct pg_tcp_session t;
	struct pg_ep c = pg_ep("10.1.0.66", 40021), s = pg_ep("10.1.0.1", 3306);
	struct pg_ep m = pg_ep("10.1.0.67", 40022), r = pg_ep("10.1.0.68", 40023);
	struct pg_ep u = pg_ep("10.1.0.69", 40024), k = pg_ep("10.1.0.70", 40025);
	struct pg_ep x = pg_ep("10.1.0.72", 40027);
	const char *l;
	char *out;

	pg_file_open(&pf, "established.pcap", 1, false, false);
	/* MySQL: the SYN sent twice, then the server's greeting first */
	seg(&pf, c, s, 100, 0, 0x02, NULL);
	seg(&pf, c, s, 100, 0, 0x02, NULL);
	seg(&pf, s, c, 500, 101, 0x12, NULL);
	seg(&pf, c, s, 101, 501, 0x10, NULL);
	seg(&pf, s, c, 501, 101, 0x18, "greeting");
	seg(&pf, c, s, 101, 502, 0x18, "login");
	seg(&pf, s, c, 502, 106, 0x18, "ok");
	/* joined midway: the server's bytes first, then the client's */
	seg(&pf, s, m, 9000, 7000, 0x18, "rows");
	seg(&pf, s, m, 9004, 7000, 0x18, "more rows");
	seg(&pf, m, s, 7000, 9013, 0x18, "next");
	seg(&pf, s, m, 9013, 7004, 0x18, "rows");
	/* refused: the reset carries bytes (RFC 1122 allows it) */
	seg(&pf, r, s, 300, 0, 0x02, NULL);
	seg(&pf, s, r, 0, 301, 0x14, "closed");
	/* unanswered with bytes in the SYN (TCP Fast Open) */
	seg(&pf, u, s, 400, 0, 0x02, "early");
	/* the SYN-ACK lost by the capture: the server's bytes answer */
	seg(&pf, k, s, 600, 0, 0x02, NULL);
	seg(&pf, k, s, 601, 801, 0x10, NULL);
	seg(&pf, s, k, 801, 601, 0x18, "greeting");
	seg(&pf, k, s, 601, 813, 0x18, "login");
	/* a handshake the client resets with bytes in the reset */
	seg(&pf, x, s, 700, 0, 0x02, NULL);
	seg(&pf, s, x, 900, 701, 0x12, NULL);
	seg(&pf, x, s, 701, 901, 0x14, "abort");
	/* a plain session, to see the count is per flow */
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.71", 40026), s);
	pg_tcp_send(&t, true, "hello", 5);
	pg_tcp_send(&t, false, "hello", 5);
	pg_tcp_close(&t);
	out = events_of(&pf);

	ck_assert_int_eq(count_lines(out, "action=open"), 7);
	ck_assert_int_eq(count_lines(out, "action=established"), 4);
	/* the greeting (packet 5) starts the session, not the handshake */
	l = line_with(out, 0, "action=established", "src_port=40021", NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert(in_line(l, "outcome=established"));
	ck_assert(in_line(l, " #5\n"));
	ck_assert(!in_line(l, "midstream"));
	/* midway: at the client's first bytes (packet 10), once */
	l = line_with(out, 0, "action=established", "src_port=40022", NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert(in_line(l, "detail=midstream"));
	ck_assert(in_line(l, " #10\n"));
	ck_assert_ptr_null(line_with(out, 0, "action=established",
				     "src_port=40023", NULL));
	HAS(out, "action=close", "src_port=40023", "outcome=refused");
	ck_assert_ptr_null(line_with(out, 0, "action=established",
				     "src_port=40024", NULL));
	HAS(out, "action=close", "src_port=40024", "outcome=unanswered");
	/* the SYN-ACK not seen: at the server's greeting (packet 17) */
	l = line_with(out, 0, "action=established", "src_port=40025", NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert(in_line(l, " #17\n"));
	HAS(out, "action=close", "src_port=40025", "outcome=established");
	ck_assert_ptr_null(line_with(out, 0, "action=established",
				     "src_port=40027", NULL));
	HAS(out, "action=established", "src_port=40026");
	free(out);
}
END_TEST

/* A long flow reports its bytes as it goes; progress and close events add
 * up to its total. */
START_TEST(flow_progress)
{
	struct netsrc_options o = NETSRC_OPTIONS_DEFAULT;
	struct pg_file pf;
	struct pg_tcp_session t;
	char chunk[1000], *out;
	const char *l;
	long long sum = 0;
	int reports = 0;

	memset(chunk, 'z', sizeof(chunk));
	o.report_bytes = 3000;
	pg_file_open(&pf, "long.pcap", 1, false, false);
	pg_tcp_open(&t, &pf, pg_ep("10.1.0.1", 40013),
		    pg_ep("198.51.100.9", 9999));
	for (int i = 0; i < 10; i++)
		pg_tcp_send(&t, true, chunk, sizeof(chunk));
	pg_tcp_close(&t);
	out = raws_with(&pf, &o);
	HAS(out, "tcp running: 3200 bytes out, 40 bytes back since the last report");
	free(out);
	out = events_with(&pf, &o);
	/* The client sends SYN, ACK, 10 x (40 + 1000 bytes), FIN, and a last
	 * ACK after the server's FIN, which comes when the flow has ended (it
	 * lingers, and counts nothing more): 10,520 bytes from the client. */
	for (int skip = 0;; skip++) {
		const char *b;

		l = line_with(out, skip, "action=progress", NULL);
		if (l == NULL)
			break;
		reports++;
		b = strstr(l, "bytes_in=");
		ck_assert_ptr_nonnull(b);
		sum += atoll(b + 9);
	}
	ck_assert_int_eq(reports, 3);
	/* one established event, at the first payload, before any progress */
	l = line_with(out, 0, "action=established", NULL);
	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(strstr(l, "outcome=established"));
	ck_assert_ptr_null(line_with(out, 1, "action=established", NULL));
	ck_assert(l < line_with(out, 0, "action=progress", NULL));
	l = line_with(out, 0, "action=close", NULL);
	ck_assert_ptr_nonnull(l);
	sum += atoll(strstr(l, "bytes_in=") + 9);
	ck_assert_int_eq(sum, 40 + 40 + 10 * 1040 + 40);
	free(out);
}
END_TEST

/* Read a capture to its end with options o; its counts into st. */
static void read_all(const char *path, const struct netsrc_options *o,
		     struct netsrc_stats *st, int *http_events)
{
	struct bw_error err;
	struct netsrc *ns = netsrc_open_file(path, o, &err);
	struct bw_event ev;
	int rc;

	ck_assert_msg(ns != NULL, "%s", err.msg);
	*http_events = 0;
	while ((rc = netsrc_next(ns, &ev, &err)) != 0) {
		ck_assert_int_eq(rc, 1);
		if (ev.kind == BW_KIND_HTTP)
			(*http_events)++;
	}
	netsrc_get_stats(ns, st);
	netsrc_destroy(&ns);
}

/* What the extractors hold is charged to a budget: all of it is given
 * back when the flows end, and past the budget a header is given up. */
START_TEST(memory_budget)
{
	struct netsrc_options o = NETSRC_OPTIONS_DEFAULT;
	struct netsrc_stats st;
	struct pg_file pf;
	struct pg_tcp_session t;
	int http;

	pg_file_open(&pf, "mem.pcap", 1, false, false);
	for (int i = 0; i < 3; i++) {
		pg_tcp_open(&t, &pf, pg_ep("10.1.0.5", (uint16_t)(41000 + i)),
			    pg_ep("10.1.0.1", 80));
		pg_tcp_send(&t, true, "GET /a HTTP/1.1\r\nHost: x\r\n", 26);
		pg_tcp_send(&t, true, "User-Agent: y\r\n\r\n", 17);
		pg_tcp_send(&t, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
			    38);
		pg_tcp_close(&t);
	}
	pg_file_close(&pf);
	read_all(pf.path, NULL, &st, &http);
	ck_assert_int_eq(http, 3);
	ck_assert_uint_gt(st.app.mem_peak, 0);
	ck_assert_uint_eq(st.app.mem_now, 0);
	ck_assert_uint_eq(st.app.memcap, 0);
	o.app.max_memory = 63; /* less than any buffer (64 bytes at first) */
	read_all(pf.path, &o, &st, &http);
	ck_assert_int_eq(http, 0);
	ck_assert_uint_ge(st.app.memcap, 3);
	ck_assert_uint_eq(st.app.errors[APP_HTTP], 6);
	ck_assert_uint_eq(st.app.mem_peak, 0);
	ck_assert_uint_eq(st.app.mem_now, 0);
	unlink(pf.path);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("app");
	TCase *tc = tcase_create("app");

	tcase_add_test(tc, http_basic);
	tcase_add_test(tc, http_pipelined_chunked);
	tcase_add_test(tc, http_until_close);
	tcase_add_test(tc, http_gaps);
	tcase_add_test(tc, http_midstream);
	tcase_add_test(tc, http_pii);
	tcase_add_test(tc, other_pii);
	tcase_add_test(tc, http_upload_pii);
	tcase_add_test(tc, flow_progress);
	tcase_add_test(tc, memory_budget);
	tcase_add_test(tc, dns);
	tcase_add_test(tc, dns_tcp);
	tcase_add_test(tc, tls_sni);
	tcase_add_test(tc, postgres);
	tcase_add_test(tc, ssh);
	tcase_add_test(tc, flow_events);
	tcase_add_test(tc, flow_established);
	suite_add_tcase(s, tc);
	return s;
}
