/*
 * contain_http.c - containment requests through libcurl's multi socket
 * interface (see contain_run.h).
 *
 * libcurl tells which sockets it wants watched (CURLMOPT_SOCKETFUNCTION)
 * and when to call it back without one (CURLMOPT_TIMERFUNCTION); the
 * agent's poll loop watches those sockets beside its own descriptors and
 * the engine calls contain_http_process() when one is ready or the timer
 * is due. Nothing here blocks: name resolution runs in libcurl's threaded
 * resolver, connect and transfer are non-blocking.
 *
 * Each request: no redirects followed, http and https only, no proxy
 * unless the action names one (the environment is not read), TLS peers
 * verified, CURLOPT_TIMEOUT_MS the action's timeout. The response body's
 * first CONTAIN_EXCERPT bytes are kept for the step, the rest is counted
 * and dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "../common/bwtime.h"
#include "contain_run.h"

#define USER_AGENT "breachwatch-agent"

struct sock {
	curl_socket_t fd;
	short events;
};

struct contain_http {
	CURLM *multi;
	struct sock *socks;
	size_t n_socks, cap_socks;
	int64_t timer_mono; /* INT64_MAX: none */
};

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct contain_http *h = userp;
	size_t i;

	(void)easy;
	(void)socketp;
	for (i = 0; i < h->n_socks; i++)
		if (h->socks[i].fd == fd)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < h->n_socks)
			h->socks[i] = h->socks[--h->n_socks];
		return 0;
	}
	if (i == h->n_socks) {
		if (h->n_socks == h->cap_socks) {
			h->cap_socks = h->cap_socks ? h->cap_socks * 2 : 8;
			h->socks = xreallocarray(h->socks, h->cap_socks,
						 sizeof(*h->socks));
		}
		h->socks[h->n_socks++].fd = fd;
	}
	h->socks[i].events = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		h->socks[i].events |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		h->socks[i].events |= POLLOUT;
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct contain_http *h = userp;

	(void)multi;
	if (timeout_ms < 0)
		h->timer_mono = INT64_MAX;
	else
		h->timer_mono = bw_mono_us() + (int64_t)timeout_ms * 1000;
	return 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	contain_run_output(arg, p, size * n);
	return size * n;
}

struct contain_http *contain_http_new(void)
{
	struct contain_http *h = xcalloc(1, sizeof(*h));

	h->multi = curl_multi_init();
	if (h->multi == NULL)
		abort(); /* out of memory */
	h->timer_mono = INT64_MAX;
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void contain_http_destroy(struct contain_http **hp)
{
	struct contain_http *h = *hp;

	if (h == NULL)
		return;
	curl_multi_cleanup(h->multi);
	free(h->socks);
	free(h);
	*hp = NULL;
}

int contain_http_start(struct contain_http *h, struct contain_run *r,
		       char *why, size_t why_size)
{
	CURL *e = curl_easy_init();
	struct curl_slist *l;
	bool has_type = false;

	if (e == NULL) {
		snprintf(why, why_size, "curl_easy_init failed");
		return -1;
	}
	r->errbuf[0] = '\0';
	for (size_t i = 0; i < r->req.n_headers; i++) {
		if (strncasecmp(r->req.headers[i], "Content-Type:", 13) == 0)
			has_type = true;
		l = curl_slist_append(r->hdrs, r->req.headers[i]);
		if (l == NULL)
			abort();
		r->hdrs = l;
	}
	if (r->req.body != NULL && !has_type) {
		l = curl_slist_append(r->hdrs,
				      "Content-Type: application/json");
		if (l == NULL)
			abort();
		r->hdrs = l;
	}
	curl_easy_setopt(e, CURLOPT_URL, r->req.url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_PROXY, r->proxy != NULL ? r->proxy : "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout_us / 1000));
	curl_easy_setopt(e, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	if (strcmp(r->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(r->method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	if (strcmp(r->method, "GET") != 0) {
		const char *body = r->req.body != NULL ? r->req.body : "";

		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		snprintf(why, why_size, "curl_multi_add_handle failed");
		return -1;
	}
	r->easy = e;
	return 0;
}

size_t contain_http_npollfds(const struct contain_http *h)
{
	return h->n_socks;
}

size_t contain_http_pollfds(const struct contain_http *h, struct pollfd *pfd,
			    size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_socks && n < max; i++)
		pfd[n++] = (struct pollfd){ .fd = h->socks[i].fd,
					    .events = h->socks[i].events };
	return n;
}

int64_t contain_http_deadline(const struct contain_http *h)
{
	return h->timer_mono;
}

/* The outcome of a finished transfer. */
static void finish(struct contain_run *r, CURLcode rc)
{
	long status = 0;
	double secs = (double)r->timeout_us / 1e6;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		r->status = "timeout";
		snprintf(r->detail, sizeof(r->detail),
			 "timeout after %g s: %s", secs,
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		r->status = "failed";
		snprintf(r->detail, sizeof(r->detail), "curl error %d: %s",
			 (int)rc,
			 r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
	} else if (status >= r->expect_min && status <= r->expect_max) {
		r->status = "ok";
		snprintf(r->detail, sizeof(r->detail), "HTTP %ld", status);
	} else {
		r->status = "failed";
		snprintf(r->detail, sizeof(r->detail),
			 "HTTP %ld, expected %ld to %ld", status,
			 r->expect_min, r->expect_max);
	}
	contain_run_excerpt(r, "response");
	r->done = true;
}

static void release(struct contain_http *h, struct contain_run *r)
{
	curl_multi_remove_handle(h->multi, r->easy);
	curl_easy_cleanup(r->easy);
	r->easy = NULL;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
}

void contain_http_process(struct contain_http *h, const struct pollfd *pfd,
			  size_t n, int64_t now_mono)
{
	CURLMsg *msg;
	int running, left;

	for (size_t i = 0; i < n; i++) {
		int flags = 0;

		if (pfd[i].revents == 0)
			continue;
		/* Only sockets libcurl still watches. */
		for (size_t k = 0; k < h->n_socks; k++) {
			if (h->socks[k].fd != pfd[i].fd)
				continue;
			if (pfd[i].revents & POLLIN)
				flags |= CURL_CSELECT_IN;
			if (pfd[i].revents & POLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(h->multi, pfd[i].fd, flags,
						 &running);
			break;
		}
	}
	if (h->timer_mono <= now_mono) {
		h->timer_mono = INT64_MAX;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0,
					 &running);
	}
	while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
		struct contain_run *r = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
		finish(r, msg->data.result);
		release(h, r);
	}
}

void contain_http_cancel(struct contain_http *h, struct contain_run *r)
{
	if (r->easy != NULL)
		release(h, r);
}
