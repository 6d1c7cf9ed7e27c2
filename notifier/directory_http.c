/*
 * directory_http.c - the customer directory's HTTP source (see
 * directory.h): look-ups through curlloop, answers in a bounded cache
 * with a time to live.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/bwtime.h"
#include "../common/file.h"
#include "../common/xmalloc.h"
#include "directory_int.h"

#define DEFAULT_TIMEOUT_US (5 * INT64_C(1000000))
#define DEFAULT_CACHE_MAX  100000
#define DEFAULT_TTL_US     (600 * INT64_C(1000000))
#define DEFAULT_RETRY_US   (10 * INT64_C(1000000))
#define DEFAULT_PARALLEL   8
#define MAX_HEADER_FILE    (64u << 10)
#define MAX_URL            8192

enum answer { A_FOUND, A_NOT_FOUND, A_REFUSED, A_FAILED };

struct cached {
	char *id;
	enum answer ans;
	struct directory_entry e;     /* A_FOUND */
	char *why;                    /* the others */
	int64_t expires;              /* monotonic us */
	struct cached *chain;         /* hash bucket */
	struct cached *newer, *older; /* LRU list */
};

struct request {
	struct directory_http *h;
	CURL *easy;
	char *id;
	struct bw_buf body;
	bool too_big;
	struct request *next;
};

struct directory_http {
	char *url_pre, *url_post; /* around {id} */
	char *header_file;
	struct curl_slist *headers;
	char *ca_file;
	int64_t timeout_us, ttl_us, retry_us;
	size_t cache_max, max_parallel;
	struct curlloop *loop;
	void (*on_ready)(void *arg);
	void *arg;

	struct cached **buckets;
	size_t n_buckets, n_cached;
	struct cached *newest, *oldest;
	struct request *inflight;
	size_t n_inflight;
	uint64_t requests, hits;
};

/*
 * The cache.
 */

static struct cached **slot_of(struct directory_http *h, const char *id)
{
	struct cached **pp =
	    &h->buckets[directory_hash(id) & (h->n_buckets - 1)];

	while (*pp != NULL && strcmp((*pp)->id, id) != 0)
		pp = &(*pp)->chain;
	return pp;
}

static void lru_unlink(struct directory_http *h, struct cached *c)
{
	if (c->newer != NULL)
		c->newer->older = c->older;
	else
		h->newest = c->older;
	if (c->older != NULL)
		c->older->newer = c->newer;
	else
		h->oldest = c->newer;
	c->newer = c->older = NULL;
}

static void lru_front(struct directory_http *h, struct cached *c)
{
	c->older = h->newest;
	c->newer = NULL;
	if (h->newest != NULL)
		h->newest->newer = c;
	h->newest = c;
	if (h->oldest == NULL)
		h->oldest = c;
}

static void cached_free(struct cached *c)
{
	free(c->id);
	directory_entry_clear(&c->e);
	free(c->why);
	free(c);
}

static void cache_remove(struct directory_http *h, struct cached *c)
{
	struct cached **pp = slot_of(h, c->id);

	*pp = c->chain;
	lru_unlink(h, c);
	cached_free(c);
	h->n_cached--;
}

static void cache_clear(struct directory_http *h)
{
	while (h->oldest != NULL)
		cache_remove(h, h->oldest);
}

/* Put an answer for id (e taken over when given). */
static void cache_put(struct directory_http *h, const char *id, enum answer ans,
                      struct directory_entry *e, const char *why,
                      int64_t ttl_us)
{
	struct cached **pp = slot_of(h, id), *c;

	if (*pp != NULL)
		cache_remove(h, *pp);
	while (h->n_cached >= h->cache_max && h->oldest != NULL)
		cache_remove(h, h->oldest);
	c = xcalloc(1, sizeof(*c));
	c->id = xstrdup(id);
	c->ans = ans;
	if (e != NULL) {
		c->e = *e;
		memset(e, 0, sizeof(*e));
	}
	c->why = why != NULL ? xstrdup(why) : NULL;
	c->expires = bw_mono_us() + ttl_us;
	pp = slot_of(h, id);
	*pp = c;
	lru_front(h, c);
	h->n_cached++;
}

/*
 * Set-up.
 */

static int split_url(struct directory_http *h, const char *url,
                     struct bw_error *err)
{
	const char *mark = strstr(url != NULL ? url : "", "{id}");

	if (url == NULL)
		return bw_error_set(err, NULL, 0,
		                    "directory: http needs a url");
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return bw_error_set(err, NULL, 0,
		                    "directory: url must start with http:// "
		                    "or https://");
	if (mark == NULL || strstr(mark + 4, "{id}") != NULL)
		return bw_error_set(err, NULL, 0,
		                    "directory: url must hold {id} once (where "
		                    "the customer id goes)");
	if (strlen(url) > MAX_URL / 2)
		return bw_error_set(err, NULL, 0, "directory: url too long");
	h->url_pre = xstrndup(url, (size_t)(mark - url));
	h->url_post = xstrdup(mark + 4);
	return 0;
}

/* "Name: value" lines of the header file (blank lines and # comments
 * skipped). */
static int read_headers(const char *path, struct curl_slist **out,
                        struct bw_error *err)
{
	struct curl_slist *list = NULL, *l;
	char *data = NULL, *line, *save = NULL;
	size_t len;
	int n = 0;

	*out = NULL;
	if (path != NULL) {
		if (bw_file_read(path, MAX_HEADER_FILE, &data, &len, err) < 0)
			return -1;
		if (memchr(data, '\0', len) != NULL) {
			free(data);
			return bw_error_set(err, path, 0, "a NUL byte");
		}
		for (line = strtok_r(data, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			size_t ll = strlen(line);
			const char *colon;

			n++;
			if (ll > 0 && line[ll - 1] == '\r')
				line[--ll] = '\0';
			if (ll == 0 || line[0] == '#')
				continue;
			colon = strchr(line, ':');
			if (colon == NULL || colon == line ||
			    strcspn(line, " \t\r") < (size_t)(colon - line)) {
				curl_slist_free_all(list);
				free(data);
				return bw_error_set(err, path, n,
				                    "not a \"Name: value\" "
				                    "header line");
			}
			l = curl_slist_append(list, line);
			if (l == NULL)
				abort();
			list = l;
		}
		free(data);
	}
	l = curl_slist_append(list, "Accept: application/json");
	if (l == NULL)
		abort();
	*out = l;
	return 0;
}

struct directory_http *directory_http_new(const struct directory_params *p,
                                          struct bw_error *err)
{
	struct directory_http *h = xcalloc(1, sizeof(*h));
	size_t nb = 1024;

	if (p->loop == NULL) {
		bw_error_set(err, NULL, 0, "directory: http needs the loop");
		goto fail;
	}
	if (split_url(h, p->url, err) < 0 ||
	    read_headers(p->header_file, &h->headers, err) < 0)
		goto fail;
	h->header_file =
	    p->header_file != NULL ? xstrdup(p->header_file) : NULL;
	h->ca_file = p->ca_file != NULL ? xstrdup(p->ca_file) : NULL;
	h->timeout_us = p->timeout_us > 0 ? p->timeout_us : DEFAULT_TIMEOUT_US;
	h->ttl_us = p->cache_ttl_us > 0 ? p->cache_ttl_us : DEFAULT_TTL_US;
	h->retry_us =
	    p->retry_after_us > 0 ? p->retry_after_us : DEFAULT_RETRY_US;
	h->cache_max = p->cache_max > 0 ? p->cache_max : DEFAULT_CACHE_MAX;
	h->max_parallel =
	    p->max_parallel > 0 ? p->max_parallel : DEFAULT_PARALLEL;
	h->loop = p->loop;
	h->on_ready = p->on_ready;
	h->arg = p->arg;
	while (nb < h->cache_max && nb < (1u << 22))
		nb *= 2;
	h->buckets = xcalloc(nb, sizeof(*h->buckets));
	h->n_buckets = nb;
	return h;
fail:
	directory_http_destroy(&h);
	return NULL;
}

static void request_free(struct request *r)
{
	if (r->easy != NULL)
		curl_easy_cleanup(r->easy);
	bw_buf_free(&r->body);
	free(r->id);
	free(r);
}

static void request_unlink(struct directory_http *h, struct request *r)
{
	struct request **pp = &h->inflight;

	while (*pp != NULL && *pp != r)
		pp = &(*pp)->next;
	if (*pp == r) {
		*pp = r->next;
		h->n_inflight--;
	}
}

void directory_http_destroy(struct directory_http **hp)
{
	struct directory_http *h = *hp;

	if (h == NULL)
		return;
	while (h->inflight != NULL) {
		struct request *r = h->inflight;

		h->inflight = r->next;
		curlloop_cancel(h->loop, r->easy);
		request_free(r);
	}
	if (h->buckets != NULL)
		cache_clear(h);
	free(h->buckets);
	curl_slist_free_all(h->headers);
	free(h->url_pre);
	free(h->url_post);
	free(h->header_file);
	free(h->ca_file);
	free(h);
	*hp = NULL;
}

int directory_http_reload(struct directory_http *h, struct bw_error *err)
{
	struct curl_slist *headers;

	if (read_headers(h->header_file, &headers, err) < 0)
		return -1;
	/* requests in flight still point at the old list: keep it until
	 * they are done only if there are any (rare: a reload mid-lookup) */
	if (h->inflight == NULL) {
		curl_slist_free_all(h->headers);
		h->headers = headers;
	} else {
		curl_slist_free_all(headers);
	}
	cache_clear(h);
	return 0;
}

/*
 * Answers.
 */

int directory_entry_from_json(const char *id, const char *json, size_t len,
                              struct directory_entry *out, struct bw_error *err)
{
	static const char *const keys[] = {"id", "name", "email", "alt_email",
	                                   "locale"};
	json_error_t je;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	char *vals[5] = {NULL};
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(o)) {
		bw_error_set(err, NULL, 0,
		             "the answer is not a JSON object%s%s",
		             o == NULL ? ": " : "", o == NULL ? je.text : "");
		goto out;
	}
	for (size_t k = 0; k < 5; k++) {
		json_t *v = json_object_get(o, keys[k]);

		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			bw_error_set(err, NULL, 0,
			             "\"%s\" must be a string without NUL",
			             keys[k]);
			goto out;
		}
		vals[k] = xstrdup(json_string_value(v));
	}
	if (vals[0] != NULL && strcmp(vals[0], id) != 0) {
		bw_error_set(err, NULL, 0, "the answer is for another id");
		goto out;
	}
	out->id = xstrdup(id);
	out->name = vals[1];
	out->email = vals[2];
	out->alt_email = vals[3];
	out->locale = vals[4];
	vals[1] = vals[2] = vals[3] = vals[4] = NULL;
	rc = directory_entry_check(out, err);
	if (rc < 0)
		directory_entry_clear(out);
out:
	for (size_t k = 0; k < 5; k++)
		free(vals[k]);
	json_decref(o);
	return rc;
}

static void done(CURL *easy, CURLcode rc, void *arg)
{
	struct request *r = arg;
	struct directory_http *h = r->h;
	struct directory_entry e;
	struct bw_error err;
	long status = 0;
	char why[600];

	request_unlink(h, r);
	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		snprintf(why, sizeof(why), "directory look-up failed: %s",
		         r->too_big ? "the answer is over 64 KiB"
		                    : curl_easy_strerror(rc));
		cache_put(h, r->id, A_FAILED, NULL, why, h->retry_us);
	} else if (status == 404) {
		cache_put(h, r->id, A_NOT_FOUND, NULL,
		          "not in the directory (HTTP 404)", h->ttl_us);
	} else if (status != 200) {
		snprintf(why, sizeof(why),
		         "directory look-up failed: HTTP status %ld", status);
		cache_put(h, r->id, A_FAILED, NULL, why, h->retry_us);
	} else if (directory_entry_from_json(
	               r->id, r->body.data != NULL ? r->body.data : "",
	               r->body.len, &e, &err) < 0) {
		snprintf(why, sizeof(why), "directory entry refused: %s",
		         err.msg);
		cache_put(h, r->id, A_REFUSED, NULL, why, h->ttl_us);
	} else {
		cache_put(h, r->id, A_FOUND, &e, NULL, h->ttl_us);
	}
	request_free(r);
	if (h->on_ready != NULL)
		h->on_ready(h->arg);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct request *r = arg;

	if (bw_buf_add(&r->body, p, size * n) < 0) {
		r->too_big = true;
		return 0; /* aborts the transfer */
	}
	return size * n;
}

/* Start the request for id: 0, or -1 with why. */
static int start(struct directory_http *h, const char *id, char *why,
                 size_t why_size)
{
	struct request *r = xcalloc(1, sizeof(*r));
	struct bw_error err;
	char *esc = NULL, *url = NULL;
	CURLcode c = CURLE_OK;

	r->h = h;
	r->id = xstrdup(id);
	bw_buf_init(&r->body, DIRECTORY_MAX_REPLY);
	r->easy = curl_easy_init();
	if (r->easy == NULL)
		goto fail;
	esc = curl_easy_escape(r->easy, id, 0);
	if (esc == NULL)
		goto fail;
	url = xasprintf("%s%s%s", h->url_pre, esc, h->url_post);
	curl_free(esc);
	if (c == CURLE_OK)
		c = curl_easy_setopt(r->easy, CURLOPT_URL, url);
	if (c == CURLE_OK)
		c = curl_easy_setopt(r->easy, CURLOPT_PROTOCOLS_STR,
		                     "http,https");
	if (c == CURLE_OK)
		c = curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	if (c == CURLE_OK)
		c = curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS,
		                     (long)(h->timeout_us / 1000));
	if (c == CURLE_OK)
		c = curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, h->headers);
	if (c == CURLE_OK)
		c = curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_body);
	if (c == CURLE_OK)
		c = curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	if (c == CURLE_OK && h->ca_file != NULL)
		c = curl_easy_setopt(r->easy, CURLOPT_CAINFO, h->ca_file);
	free(url);
	if (c != CURLE_OK)
		goto fail;
	if (curlloop_add(h->loop, r->easy, done, r, &err) < 0) {
		snprintf(why, why_size, "directory look-up: %s", err.msg);
		request_free(r);
		return -1;
	}
	r->next = h->inflight;
	h->inflight = r;
	h->n_inflight++;
	h->requests++;
	return 0;
fail:
	snprintf(why, why_size,
	         "directory look-up: cannot set up the "
	         "request (%s)",
	         curl_easy_strerror(c));
	request_free(r);
	return -1;
}

enum directory_result directory_http_lookup(struct directory_http *h,
                                            const char *id,
                                            struct directory_entry *out,
                                            char *why, size_t why_size)
{
	struct cached *c = *slot_of(h, id);

	if (c != NULL && c->expires <= bw_mono_us()) {
		cache_remove(h, c);
		c = NULL;
	}
	if (c != NULL) {
		h->hits++;
		lru_unlink(h, c);
		lru_front(h, c);
		switch (c->ans) {
		case A_FOUND:
			directory_entry_copy(out, &c->e);
			return DIRECTORY_FOUND;
		case A_NOT_FOUND:
			snprintf(why, why_size, "%s", c->why);
			return DIRECTORY_NOT_FOUND;
		case A_REFUSED:
			snprintf(why, why_size, "%s", c->why);
			return DIRECTORY_REFUSED;
		case A_FAILED:
			snprintf(why, why_size, "%s", c->why);
			return DIRECTORY_FAILED;
		}
	}
	for (struct request *r = h->inflight; r != NULL; r = r->next)
		if (strcmp(r->id, id) == 0)
			return DIRECTORY_PENDING;
	if (h->n_inflight >= h->max_parallel)
		return DIRECTORY_PENDING;
	if (start(h, id, why, why_size) < 0)
		return DIRECTORY_FAILED;
	return DIRECTORY_PENDING;
}

void directory_http_stats(const struct directory_http *h,
                          struct directory_stats *out)
{
	out->requests = h->requests;
	out->cache_hits = h->hits;
	out->cached = h->n_cached;
	out->in_flight = h->n_inflight;
}
