/*
 * curlloop.h - libcurl's multi interface inside the notifier's zmq_poll
 * loop: every transfer of the notifier (SMTP by the mailer, HTTP look-ups
 * by the customer directory) runs here, none blocks.
 *
 * curl tells us, through its socket and timer callbacks, which sockets to
 * watch for what and when it wants to be called without any; the loop adds
 * those sockets to its poll set (raw fds in zmq_pollitem_t), and
 * curlloop_process() hands curl the sockets that are ready and the timer
 * when due (curl_multi_socket_action), then calls each finished transfer's
 * done callback. A done callback may add new transfers.
 *
 * One thread; nothing here logs.
 */
#ifndef BW_CURLLOOP_H
#define BW_CURLLOOP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

#include "../common/error.h"

/* Called once a transfer has ended, successfully or not (rc). The easy
 * handle has been removed from the multi and is the callback's again. */
typedef void (*curlloop_done_fn)(CURL *easy, CURLcode rc, void *arg);

struct curlloop;

/* Caller owns the result. Returns NULL with err filled. */
struct curlloop *curlloop_new(struct bw_error *err) BW_WUR;

/* Removes every transfer still running (their done callbacks are not
 * called; their easy handles stay their owners'). Accepts NULL; nulls the
 * caller's pointer. */
void curlloop_destroy(struct curlloop **l);

/* The multi handle, for its options (CURLMOPT_MAX_HOST_CONNECTIONS, ...).
 * Borrowed. */
CURLM *curlloop_multi(struct curlloop *l);

/* Start a transfer: easy (borrowed until done is called) runs in the
 * loop; done(easy, rc, arg) is called once when it ends. Returns -1 with
 * err filled. */
int curlloop_add(struct curlloop *l, CURL *easy, curlloop_done_fn done,
                 void *arg, struct bw_error *err) BW_WUR;

/* Stop a running transfer without calling its done callback. */
void curlloop_cancel(struct curlloop *l, CURL *easy);

/* Transfers running now. */
size_t curlloop_running(const struct curlloop *l);

/* The sockets curl watches now: the most curlloop_poll_items() fills. */
size_t curlloop_n_items(const struct curlloop *l);

/* Fill items (room for curlloop_n_items()) with curl's sockets and the
 * events it wants. Returns the number filled. */
size_t curlloop_poll_items(const struct curlloop *l, zmq_pollitem_t *items);

/* Milliseconds until curl wants to be called without any socket ready
 * (0: now), or -1 when it does not. */
long curlloop_timeout_ms(const struct curlloop *l, int64_t now_mono_us);

/* After zmq_poll: tell curl about the ready items (those filled by
 * curlloop_poll_items(), with their revents) and the timer if due, then
 * call the done callbacks of the transfers that ended. Returns -1 with err
 * when curl's multi handle failed (a bug or out of memory). */
int curlloop_process(struct curlloop *l, const zmq_pollitem_t *items, size_t n,
                     int64_t now_mono_us, struct bw_error *err) BW_WUR;

#endif
