/*
 * curlloop.c - libcurl's multi interface in the zmq_poll loop (see
 * curlloop.h).
 */
#include "curlloop.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "../common/xmalloc.h"

struct watch {
	curl_socket_t fd;
	int what; /* CURL_POLL_IN, _OUT, _INOUT */
};

/* What curloop keeps per transfer (CURLOPT_PRIVATE). */
struct transfer {
	curlloop_done_fn done;
	void *arg;
};

struct curlloop {
	CURLM *multi;
	struct watch *watches;
	size_t n_watches, cap_watches;
	int64_t timer_due; /* monotonic us; -1: none */
	CURL **easies;     /* the transfers running */
	size_t running, cap_easies;
};

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
	struct curlloop *l = userp;

	for (size_t i = 0; i < l->n_watches; i++) {
		if (l->watches[i].fd != fd)
			continue;
		if (what == CURL_POLL_REMOVE)
			l->watches[i] = l->watches[--l->n_watches];
		else
			l->watches[i].what = what;
		return 0;
	}
	if (what == CURL_POLL_REMOVE)
		return 0;
	if (l->n_watches == l->cap_watches) {
		l->cap_watches = l->cap_watches ? 2 * l->cap_watches : 8;
		l->watches = xreallocarray(l->watches, l->cap_watches,
		                           sizeof(*l->watches));
	}
	l->watches[l->n_watches++] = (struct watch){fd, what};
	return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlloop *l = userp;

	l->timer_due = timeout_ms < 0 ? -1 : bw_mono_us() + timeout_ms * 1000;
	return 0;
}

struct curlloop *curlloop_new(struct bw_error *err)
{
	struct curlloop *l;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		bw_error_set(err, NULL, 0, "curl_global_init failed");
		return NULL;
	}
	l = xcalloc(1, sizeof(*l));
	l->timer_due = -1;
	l->multi = curl_multi_init();
	if (l->multi == NULL) {
		bw_error_set(err, NULL, 0, "curl_multi_init failed");
		free(l);
		return NULL;
	}
	if (curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, on_socket) !=
	        CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l) != CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, on_timer) !=
	        CURLM_OK ||
	    curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l) != CURLM_OK) {
		bw_error_set(err, NULL, 0, "curl multi options failed");
		curlloop_destroy(&l);
		return NULL;
	}
	return l;
}

static struct transfer *transfer_of(CURL *easy)
{
	char *p = NULL;

	(void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, &p);
	return (struct transfer *)p;
}

/* Take easy out of the multi and our list; returns its transfer (caller
 * frees), or NULL when it was not running here. */
static struct transfer *take(struct curlloop *l, CURL *easy)
{
	struct transfer *t = NULL;

	for (size_t i = 0; i < l->running; i++) {
		if (l->easies[i] != easy)
			continue;
		l->easies[i] = l->easies[--l->running];
		t = transfer_of(easy);
		(void)curl_multi_remove_handle(l->multi, easy);
		(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		break;
	}
	return t;
}

void curlloop_cancel(struct curlloop *l, CURL *easy)
{
	free(take(l, easy));
}

void curlloop_destroy(struct curlloop **lp)
{
	struct curlloop *l = *lp;

	if (l == NULL)
		return;
	while (l->running > 0)
		curlloop_cancel(l, l->easies[l->running - 1]);
	if (l->multi != NULL)
		curl_multi_cleanup(l->multi);
	free(l->easies);
	free(l->watches);
	free(l);
	*lp = NULL;
}

CURLM *curlloop_multi(struct curlloop *l)
{
	return l->multi;
}

int curlloop_add(struct curlloop *l, CURL *easy, curlloop_done_fn done,
                 void *arg, struct bw_error *err)
{
	struct transfer *t = xmalloc(sizeof(*t));
	CURLMcode mc;

	t->done = done;
	t->arg = arg;
	if (curl_easy_setopt(easy, CURLOPT_PRIVATE, t) != CURLE_OK) {
		free(t);
		return bw_error_set(err, NULL, 0, "CURLOPT_PRIVATE failed");
	}
	mc = curl_multi_add_handle(l->multi, easy);
	if (mc != CURLM_OK) {
		(void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
		free(t);
		return bw_error_set(err, NULL, 0, "curl_multi_add_handle: %s",
		                    curl_multi_strerror(mc));
	}
	if (l->running == l->cap_easies) {
		l->cap_easies = l->cap_easies ? 2 * l->cap_easies : 16;
		l->easies =
		    xreallocarray(l->easies, l->cap_easies, sizeof(*l->easies));
	}
	l->easies[l->running++] = easy;
	return 0;
}

size_t curlloop_running(const struct curlloop *l)
{
	return l->running;
}

size_t curlloop_n_items(const struct curlloop *l)
{
	return l->n_watches;
}

size_t curlloop_poll_items(const struct curlloop *l, zmq_pollitem_t *items)
{
	for (size_t i = 0; i < l->n_watches; i++) {
		short ev = 0;

		if (l->watches[i].what & CURL_POLL_IN)
			ev |= ZMQ_POLLIN;
		if (l->watches[i].what & CURL_POLL_OUT)
			ev |= ZMQ_POLLOUT;
		items[i] = (zmq_pollitem_t){
		    .socket = NULL, .fd = l->watches[i].fd, .events = ev};
	}
	return l->n_watches;
}

long curlloop_timeout_ms(const struct curlloop *l, int64_t now_mono_us)
{
	int64_t left;

	if (l->timer_due < 0)
		return -1;
	left = l->timer_due - now_mono_us;
	if (left <= 0)
		return 0;
	return (long)((left + 999) / 1000);
}

static int action(struct curlloop *l, curl_socket_t fd, int mask,
                  struct bw_error *err)
{
	int still = 0;
	CURLMcode mc = curl_multi_socket_action(l->multi, fd, mask, &still);

	if (mc != CURLM_OK)
		return bw_error_set(err, NULL, 0,
		                    "curl_multi_socket_action: %s",
		                    curl_multi_strerror(mc));
	return 0;
}

int curlloop_process(struct curlloop *l, const zmq_pollitem_t *items, size_t n,
                     int64_t now_mono_us, struct bw_error *err)
{
	CURLMsg *msg;
	int left;

	for (size_t i = 0; i < n; i++) {
		int mask = 0;

		if (items[i].revents & ZMQ_POLLIN)
			mask |= CURL_CSELECT_IN;
		if (items[i].revents & ZMQ_POLLOUT)
			mask |= CURL_CSELECT_OUT;
		if (items[i].revents & ZMQ_POLLERR)
			mask |= CURL_CSELECT_ERR;
		if (mask != 0 && action(l, items[i].fd, mask, err) < 0)
			return -1;
	}
	if (l->timer_due >= 0 && now_mono_us >= l->timer_due) {
		l->timer_due = -1;
		if (action(l, CURL_SOCKET_TIMEOUT, 0, err) < 0)
			return -1;
	}
	/* Transfers that ended: take each out, then tell its owner (who may
	 * start others: info_read is done with the message by then). */
	while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		CURL *easy;
		CURLcode rc;
		struct transfer *t;

		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		rc = msg->data.result;
		t = take(l, easy);
		if (t != NULL) {
			curlloop_done_fn done = t->done;
			void *arg = t->arg;

			free(t);
			done(easy, rc, arg);
		}
	}
	return 0;
}
