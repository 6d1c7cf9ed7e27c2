/*
 * mailer.c - delivery of the outbox (see mailer.h).
 *
 * One turn of mailer_process(): the outcomes that came in since the last
 * turn are written to the store (one transaction); then, while there are
 * free connections, tokens of the rate limit and due rows, a batch of due
 * rows is read, marked sending (one transaction) and started. The rows in
 * flight are "sending" in the store before a byte of them leaves: a
 * notifier that dies sends them again at its next start (outbox.h).
 */
#include "mailer.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/bwtime.h"
#include "../common/file.h"
#include "../common/xmalloc.h"
#include "mime.h"

#define DEFAULT_CONNECTIONS 4
#define DEFAULT_CONNECT_US  (10 * INT64_C(1000000))
#define DEFAULT_TIMEOUT_US  (60 * INT64_C(1000000))
#define MAX_REPLY           400
#define MAX_PATH_PART       64
/* Outcomes are written at the turn they come in (all of that turn in one
 * transaction): a notifier killed after the relay accepted a message and
 * before this write sends it again; no other. */

/* A message in flight (SMTP) or being written (file). */
struct xfer {
	struct mailer *m;
	CURL *easy;
	struct curl_slist *rcpt;
	int64_t rowid;
	char *incident_id;
	enum outbox_kind kind;
	char *customer_id;
	char *recipient;
	uint32_t attempts; /* this attempt's number */
	int64_t created_us;
	char *msg;
	size_t len, off;
	bool body_done; /* curl has read the whole message */
	char reply[MAX_REPLY + 1];
	struct xfer *next;
};

/* An outcome to write to the store. */
struct result {
	struct outbox_result r;
	enum mailer_event_kind ev;
	enum outbox_kind kind;
	char *incident_id, *customer_id, *recipient, *text, *detail;
};

struct mailer {
	struct store *store;
	struct curlloop *loop;
	enum mailer_transport transport;
	char *dir, *url, *ca_file, *username, *password, *from;
	bool starttls;
	size_t connections;
	int64_t rate;
	int64_t connect_timeout_us, timeout_us;
	int64_t retry_min_us, retry_max_us, max_age_us;
	void (*on_event)(const struct mailer_event *ev, void *arg);
	void *arg;

	struct xfer *inflight;
	size_t n_inflight;
	struct xfer *queued, **queued_tail; /* taken (sending), not started */
	size_t n_queued;
	struct result *results;
	size_t n_results, cap_results;
	double tokens;
	int64_t tokens_at_us;
	int64_t relay_hold_until_us, relay_backoff_us;
	bool dirty;          /* look at the outbox at the next turn */
	int64_t next_due_us; /* when the next pending row is due, -1 none */
	struct mailer_stats st;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void xfer_free(struct xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->rcpt);
	free(x->incident_id);
	free(x->customer_id);
	free(x->recipient);
	free(x->msg);
	free(x);
}

/*
 * Outcomes.
 */

static void emit(struct mailer *m, const struct result *res)
{
	struct mailer_event ev = {
	    .kind = res->ev,
	    .rowid = res->r.rowid,
	    .incident_id = res->incident_id,
	    .msg_kind = res->kind,
	    .customer_id = res->customer_id,
	    .recipient = res->recipient,
	    .attempts = res->r.attempts,
	    .smtp_code = res->r.smtp_code,
	    .text = res->text != NULL ? res->text : "",
	    .next_attempt_us = res->r.next_attempt_us,
	};

	if (m->on_event != NULL)
		m->on_event(&ev, m->arg);
}

static void result_free(struct result *r)
{
	free(r->incident_id);
	free(r->customer_id);
	free(r->recipient);
	free(r->text);
	free(r->detail);
}

/* Queue an outcome for x: state, the relay's code and text (copied). */
static struct result *queue(struct mailer *m, const struct xfer *x,
                            enum outbox_state state, enum mailer_event_kind ev,
                            int code, const char *text, const char *detail)
{
	struct result *r;

	if (m->n_results == m->cap_results) {
		m->cap_results = m->cap_results ? 2 * m->cap_results : 64;
		m->results = xreallocarray(m->results, m->cap_results,
		                           sizeof(*m->results));
	}
	r = &m->results[m->n_results++];
	memset(r, 0, sizeof(*r));
	r->ev = ev;
	r->kind = x->kind;
	r->incident_id = xstrdup(x->incident_id);
	r->customer_id = dup_or_null(x->customer_id);
	r->recipient = xstrdup(x->recipient);
	r->text = dup_or_null(text);
	r->detail = dup_or_null(detail);
	r->r.rowid = x->rowid;
	r->r.incident_id = r->incident_id;
	r->r.state = state;
	r->r.attempts = x->attempts;
	r->r.smtp_code = code;
	r->r.smtp_text = r->text;
	r->r.detail = r->detail;
	return r;
}

/* Write the queued outcomes (one transaction), then tell the daemon. */
static int flush(struct mailer *m, int64_t now_us, struct bw_error *err)
{
	struct outbox_result *batch;
	size_t n = m->n_results;

	if (n == 0)
		return 0;
	batch = xcalloc(n, sizeof(*batch));
	for (size_t i = 0; i < n; i++) {
		batch[i] = m->results[i].r;
		if (batch[i].state == OUTBOX_SENT)
			batch[i].sent_us = now_us;
	}
	if (outbox_record(m->store, batch, n, MAILER_ACTOR, now_us, err) < 0) {
		free(batch);
		m->st.errors++;
		return -1; /* kept: written at the next turn */
	}
	free(batch);
	for (size_t i = 0; i < n; i++) {
		emit(m, &m->results[i]);
		result_free(&m->results[i]);
	}
	m->n_results = 0;
	m->dirty = true; /* a retry may be due */
	return 0;
}

/* The next attempt after attempt number a: retry_min doubling up to
 * retry_max, a delay between half and all of it. */
static int64_t backoff(const struct mailer *m, uint32_t a)
{
	int64_t d = m->retry_min_us;

	for (uint32_t i = 1; i < a && d < m->retry_max_us; i++)
		d *= 2;
	if (d > m->retry_max_us)
		d = m->retry_max_us;
	if (d < 2)
		return d;
	return d / 2 + (int64_t)randombytes_uniform(
	                   (uint32_t)(d / 2 > UINT32_MAX ? UINT32_MAX : d / 2));
}

/* A temporary failure: pending again after the back-off, or failed when
 * the message is too old. relay: the relay itself failed (hold every
 * message back). */
static void retry(struct mailer *m, struct xfer *x, int code, const char *text,
                  bool relay, int64_t now_us)
{
	int64_t next = now_us + backoff(m, x->attempts);
	struct result *r;

	if (relay) {
		m->relay_backoff_us = m->relay_backoff_us == 0
		                          ? m->retry_min_us
		                          : m->relay_backoff_us * 2;
		if (m->relay_backoff_us > m->retry_max_us)
			m->relay_backoff_us = m->retry_max_us;
		m->relay_hold_until_us = now_us + m->relay_backoff_us;
		if (next < m->relay_hold_until_us)
			next = m->relay_hold_until_us;
	}
	if (next - x->created_us > m->max_age_us) {
		char detail[200];

		snprintf(detail, sizeof(detail),
		         "gave up after %" PRIu32 " attempts: older than "
		         "mail.max_age",
		         x->attempts);
		queue(m, x, OUTBOX_FAILED, MAILER_EV_FAILED, code, text,
		      detail);
		m->st.failed++;
		return;
	}
	r = queue(m, x, OUTBOX_PENDING, MAILER_EV_RETRY, code, text,
	          "a temporary failure: tried again later");
	r->r.next_attempt_us = next;
	m->st.retried++;
}

/* What a finished SMTP transfer means (mailer.h). */
static void classify(struct mailer *m, struct xfer *x, CURLcode rc, long code,
                     int64_t now_us)
{
	char text[MAX_REPLY + 100];
	bool relay;

	if (x->reply[0] != '\0' && rc == CURLE_OK)
		snprintf(text, sizeof(text), "%s", x->reply);
	else if (x->reply[0] != '\0')
		snprintf(text, sizeof(text), "%s (%s)", x->reply,
		         curl_easy_strerror(rc));
	else
		snprintf(text, sizeof(text), "%s", curl_easy_strerror(rc));
	if (rc == CURLE_OK) {
		queue(m, x, OUTBOX_SENT, MAILER_EV_SENT, (int)code, text, NULL);
		m->st.sent++;
		m->relay_backoff_us = 0;
		m->relay_hold_until_us = 0;
		return;
	}
	if (rc == CURLE_LOGIN_DENIED) {
		/* the relay's set-up, not this message: keep trying */
		snprintf(text, sizeof(text),
		         "%s: the relay refused the login (mail.username, "
		         "mail.password_file)",
		         x->reply[0] != '\0' ? x->reply
		                             : curl_easy_strerror(rc));
		retry(m, x, (int)code, text, true, now_us);
		return;
	}
	if (code >= 500 && code < 600) {
		queue(m, x, OUTBOX_FAILED, MAILER_EV_FAILED, (int)code, text,
		      "refused by the relay for good");
		m->st.failed++;
		return;
	}
	if (code >= 400 && code < 500) {
		retry(m, x, (int)code, text, code == 421, now_us);
		return;
	}
	if (x->body_done &&
	    (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR ||
	     rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR)) {
		snprintf(text, sizeof(text), "%s after the whole message",
		         curl_easy_strerror(rc));
		queue(m, x, OUTBOX_AMBIGUOUS, MAILER_EV_AMBIGUOUS, (int)code,
		      text,
		      "the connection broke after the whole message went: it "
		      "may have been delivered, so it is not sent again by "
		      "itself");
		m->st.ambiguous++;
		return;
	}
	/* no answer to speak of: the relay or the way to it */
	relay = code == 0 || rc == CURLE_COULDNT_CONNECT ||
	        rc == CURLE_COULDNT_RESOLVE_HOST ||
	        rc == CURLE_OPERATION_TIMEDOUT;
	retry(m, x, (int)code, text, relay, now_us);
}

static void unlink_xfer(struct mailer *m, struct xfer *x)
{
	struct xfer **pp = &m->inflight;

	while (*pp != NULL && *pp != x)
		pp = &(*pp)->next;
	if (*pp == x) {
		*pp = x->next;
		m->n_inflight--;
	}
}

static void on_done(CURL *easy, CURLcode rc, void *arg)
{
	struct xfer *x = arg;
	struct mailer *m = x->m;
	long code = 0;

	(void)curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	unlink_xfer(m, x);
	classify(m, x, rc, code, bw_now_us());
	xfer_free(x);
}

/*
 * SMTP.
 */

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	size_t want = size * n, left = x->len - x->off;

	if (left == 0) {
		x->body_done = true;
		return 0;
	}
	if (want > left)
		want = left;
	memcpy(buf, x->msg + x->off, want);
	x->off += want;
	/* curl knows the size: it may not ask again for the end */
	if (x->off == x->len)
		x->body_done = true;
	return want;
}

/* The relay's replies arrive as header lines: keep the last one (but
 * QUIT's). */
static int on_debug(CURL *easy, curl_infotype type, char *data, size_t size,
                    void *arg)
{
	struct xfer *x = arg;
	size_t n = size;

	/* QUIT's "221" after a failure is not the answer that counts */
	if (type != CURLINFO_HEADER_IN ||
	    (size >= 4 && memcmp(data, "221 ", 4) == 0))
		return 0;
	while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
		n--;
	if (n > MAX_REPLY)
		n = MAX_REPLY;
	for (size_t i = 0; i < n; i++) /* the relay's text is hostile too */
		x->reply[i] = data[i] >= 0x20 && data[i] < 0x7f ? data[i] : '?';
	x->reply[n] = '\0';
	return 0;
}

static int smtp_start(struct mailer *m, struct xfer *x, struct bw_error *err)
{
	char *url = xasprintf("%s/%s", m->url, mime_addr_domain(m->from));
	char *from = xasprintf("<%s>", m->from);
	char *to = xasprintf("<%s>", x->recipient);
	CURLcode c = CURLE_OK;
	CURL *e = curl_easy_init();

	x->easy = e;
	x->rcpt = curl_slist_append(NULL, to);
	if (e == NULL || x->rcpt == NULL)
		c = CURLE_OUT_OF_MEMORY;
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (c == CURLE_OK)                                             \
			c = curl_easy_setopt(e, opt, val);                     \
	} while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_MAIL_FROM, from);
	SET(CURLOPT_MAIL_RCPT, x->rcpt);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, on_read);
	SET(CURLOPT_READDATA, x);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
	SET(CURLOPT_CONNECTTIMEOUT_MS, (long)(m->connect_timeout_us / 1000));
	SET(CURLOPT_TIMEOUT_MS, (long)(m->timeout_us / 1000));
	SET(CURLOPT_VERBOSE, 1L);
	SET(CURLOPT_DEBUGFUNCTION, on_debug);
	SET(CURLOPT_DEBUGDATA, x);
	if (m->transport == MAILER_SMTP && m->starttls)
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (m->ca_file != NULL)
		SET(CURLOPT_CAINFO, m->ca_file);
	if (m->username != NULL) {
		SET(CURLOPT_USERNAME, m->username);
		SET(CURLOPT_PASSWORD, m->password);
	}
#undef SET
	free(url);
	free(from);
	free(to);
	if (c != CURLE_OK)
		return bw_error_set(err, NULL, 0, "mailer: curl set-up: %s",
		                    curl_easy_strerror(c));
	return curlloop_add(m->loop, e, on_done, x, err);
}

/*
 * file:
 */

/* A file name part: [A-Za-z0-9@._-], others '_', no leading dot. */
static void name_part(char *out, size_t size, const char *in)
{
	size_t o = 0;

	for (size_t i = 0; in[i] != '\0' && o + 1 < size && o < MAX_PATH_PART;
	     i++) {
		char c = in[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		          (c >= '0' && c <= '9') || c == '@' || c == '-' ||
		          c == '_' || (c == '.' && o > 0);

		out[o++] = ok ? c : '_';
	}
	if (o == 0)
		out[o++] = '_';
	out[o] = '\0';
}

static const char *short_kind(enum outbox_kind k)
{
	switch (k) {
	case OUTBOX_TEAM_ALERT:
		return "team-alert";
	case OUTBOX_TEAM_PROBLEM:
		return "team-problem";
	case OUTBOX_TEAM_REMINDER:
		return "team-reminder";
	default:
		return "customer";
	}
}

static void file_write(struct mailer *m, struct xfer *x)
{
	char inc[MAX_PATH_PART + 1], who[MAX_PATH_PART + 1], *sub, *path;
	struct bw_error e;
	char text[600];

	name_part(inc, sizeof(inc), x->incident_id);
	name_part(who, sizeof(who),
	          x->customer_id != NULL ? x->customer_id : x->recipient);
	sub = xasprintf("%s/%s", m->dir, inc);
	if (mkdir(sub, 0750) < 0 && errno != EEXIST) {
		snprintf(text, sizeof(text), "%s: %s", sub, strerror(errno));
		m->st.errors++;
		retry(m, x, 0, text, false, bw_now_us());
		free(sub);
		return;
	}
	path = xasprintf("%s/%06" PRId64 "-%s-%s.eml", sub, x->rowid,
	                 short_kind(x->kind), who);
	if (bw_file_write_atomic(path, x->msg, x->len, 0640, true, &e) < 0) {
		snprintf(text, sizeof(text), "%s", e.msg);
		m->st.errors++;
		retry(m, x, 0, text, false, bw_now_us());
	} else {
		snprintf(text, sizeof(text), "written to %s", path);
		queue(m, x, OUTBOX_SENT, MAILER_EV_SENT, 0, text, NULL);
		m->st.sent++;
	}
	free(path);
	free(sub);
}

/*
 * Starting what is due.
 */

struct take {
	struct mailer *m;
	struct xfer *list; /* taken, in order */
	struct xfer **tail;
};

static int take_row(const struct store_notification *n, const char *message,
                    size_t len, void *arg)
{
	struct take *t = arg;
	struct xfer *x = xcalloc(1, sizeof(*x));

	x->m = t->m;
	x->rowid = n->rowid;
	x->incident_id = xstrdup(n->incident_id);
	x->kind = outbox_kind_by_name(n->kind);
	x->customer_id = dup_or_null(n->customer_id);
	x->recipient = xstrdup(n->recipient != NULL ? n->recipient : "");
	x->attempts = n->attempts + 1;
	x->created_us = n->created_us;
	x->msg = xmalloc(len + 1);
	memcpy(x->msg, message, len);
	x->msg[len] = '\0';
	x->len = len;
	*t->tail = x;
	t->tail = &x->next;
	return 0;
}

/* Tokens of the rate limit now: at most one second's worth. */
static size_t tokens(struct mailer *m, int64_t now_us)
{
	if (m->rate <= 0)
		return (size_t)-1;
	if (m->tokens_at_us != 0 && now_us > m->tokens_at_us)
		m->tokens +=
		    (double)(now_us - m->tokens_at_us) * (double)m->rate / 1e6;
	m->tokens_at_us = now_us;
	if (m->tokens > (double)m->rate)
		m->tokens = (double)m->rate;
	if (m->tokens < 0)
		m->tokens = 0;
	return (size_t)m->tokens;
}

static void free_list(struct xfer *x)
{
	while (x != NULL) {
		struct xfer *next = x->next;

		xfer_free(x);
		x = next;
	}
}

/* Take up to MAILER_BATCH due rows and mark them sending (one
 * transaction): they join the queue. 0 when none is due (next_due_us
 * set), 1 when some were taken, -1 when the store failed. */
static int take(struct mailer *m, int64_t now_us, struct bw_error *err)
{
	struct take t = {m, NULL, &t.list};
	struct outbox_result *mark;
	struct xfer *x;
	int64_t got, at;
	size_t i = 0;

	got = outbox_due(m->store, now_us, MAILER_BATCH, take_row, &t, err);
	if (got < 0)
		goto fail;
	if (got == 0) {
		int rc = outbox_next_due(m->store, &at, err);

		if (rc < 0)
			goto fail;
		m->next_due_us = rc == 1 ? at : -1;
		m->dirty = false;
		return 0;
	}
	mark = xcalloc((size_t)got, sizeof(*mark));
	for (x = t.list; x != NULL; x = x->next, i++) {
		mark[i].rowid = x->rowid;
		mark[i].incident_id = x->incident_id;
		mark[i].state = OUTBOX_SENDING;
		mark[i].attempts = x->attempts;
	}
	if (outbox_record(m->store, mark, (size_t)got, MAILER_ACTOR, now_us,
	                  err) < 0) {
		free(mark);
		goto fail;
	}
	free(mark);
	*m->queued_tail = t.list;
	m->queued_tail = t.tail;
	m->n_queued += (size_t)got;
	/* a full batch: more may be due */
	m->dirty = (size_t)got == MAILER_BATCH;
	return 1;
fail:
	free_list(t.list);
	m->st.errors++;
	return -1;
}

static struct xfer *dequeue(struct mailer *m)
{
	struct xfer *x = m->queued;

	if (x == NULL)
		return NULL;
	m->queued = x->next;
	if (m->queued == NULL)
		m->queued_tail = &m->queued;
	m->n_queued--;
	x->next = NULL;
	return x;
}

/* Hand one taken message to the relay (or write it). */
static void start(struct mailer *m, struct xfer *x, int64_t now_us)
{
	struct bw_error e;

	m->st.started++;
	if (mime_addr_check(x->recipient, "recipient", &e) < 0) {
		queue(m, x, OUTBOX_FAILED, MAILER_EV_FAILED, 0, e.msg,
		      "the recipient's address is refused");
		m->st.failed++;
		xfer_free(x);
		return;
	}
	if (m->transport == MAILER_FILE) {
		file_write(m, x);
		xfer_free(x);
		return;
	}
	x->next = m->inflight;
	m->inflight = x;
	m->n_inflight++;
	if (smtp_start(m, x, &e) < 0) {
		unlink_xfer(m, x);
		m->st.errors++;
		retry(m, x, 0, e.msg, false, now_us);
		xfer_free(x);
	}
}

/* Start queued messages while connections and the rate allow. */
static void start_queued(struct mailer *m, int64_t now_us)
{
	while (m->queued != NULL) {
		if (now_us < m->relay_hold_until_us) {
			m->next_due_us = m->relay_hold_until_us;
			return;
		}
		if (m->transport != MAILER_FILE &&
		    m->n_inflight >= m->connections)
			return; /* a transfer's end calls us again */
		if (tokens(m, now_us) == 0) {
			m->next_due_us = now_us +
			                 (int64_t)((1.0 - m->tokens) * 1e6 /
			                           (double)m->rate) +
			                 1;
			return;
		}
		if (m->rate > 0)
			m->tokens -= 1;
		start(m, dequeue(m), now_us);
	}
}

int mailer_process(struct mailer *m, int64_t now_us, struct bw_error *err)
{
	bool want;
	int rc = 0;

	if (flush(m, now_us, err) < 0)
		return -1;
	/* take more when the queue runs low and something may be due */
	want =
	    m->n_queued < (m->transport == MAILER_FILE ? 1 : m->connections) &&
	    now_us >= m->relay_hold_until_us &&
	    (m->dirty || (m->next_due_us >= 0 && now_us >= m->next_due_us));
	if (want) {
		m->next_due_us = -1;
		rc = take(m, now_us, err);
		if (rc < 0)
			return -1;
	}
	start_queued(m, now_us);
	/* files written: their outcomes at once */
	if (m->transport == MAILER_FILE && m->n_results > 0 &&
	    flush(m, now_us, err) < 0)
		return -1;
	return rc == 1 && m->dirty ? 1 : 0;
}

void mailer_kick(struct mailer *m)
{
	m->dirty = true;
}

int64_t mailer_next_us(const struct mailer *m)
{
	int64_t next = m->next_due_us;
	bool room =
	    m->transport == MAILER_FILE || m->n_inflight < m->connections;

	if (m->n_results > 0)
		return 0;
	if ((m->dirty || m->queued != NULL) && room) {
		int64_t at =
		    m->relay_hold_until_us > 0 ? m->relay_hold_until_us : 0;

		next = next < 0 || at < next ? at : next;
	}
	return next;
}

void mailer_get_stats(const struct mailer *m, struct mailer_stats *out)
{
	*out = m->st;
	out->in_flight = m->n_inflight;
	out->relay_hold_until_us = m->relay_hold_until_us;
}

struct mailer *mailer_new(const struct mailer_params *p, struct bw_error *err)
{
	struct mailer *m;

	if (p->store == NULL || p->envelope_from == NULL) {
		bw_error_set(err, NULL, 0,
		             "mailer: a store and a sender are "
		             "needed");
		return NULL;
	}
	if (p->transport == MAILER_FILE) {
		if (p->dir == NULL || p->dir[0] != '/') {
			bw_error_set(err, NULL, 0,
			             "mailer: file: needs an absolute "
			             "directory");
			return NULL;
		}
		if (mkdir(p->dir, 0750) < 0 && errno != EEXIST) {
			bw_error_set(err, p->dir, 0, "mail directory: %s",
			             strerror(errno));
			return NULL;
		}
	} else if (p->url == NULL || p->loop == NULL) {
		bw_error_set(err, NULL, 0,
		             "mailer: SMTP needs a URL and the loop");
		return NULL;
	}
	if (sodium_init() < 0) {
		bw_error_set(err, NULL, 0, "mailer: libsodium init failed");
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	m->store = p->store;
	m->loop = p->loop;
	m->transport = p->transport;
	m->dir = dup_or_null(p->dir);
	m->url = dup_or_null(p->url);
	m->starttls = p->starttls;
	m->ca_file = dup_or_null(p->ca_file);
	m->username = dup_or_null(p->username);
	m->password = dup_or_null(p->password);
	m->from = xstrdup(p->envelope_from);
	m->connections =
	    p->connections > 0 ? p->connections : DEFAULT_CONNECTIONS;
	m->rate = p->rate;
	m->tokens = p->rate > 0 ? 1 : 0;
	m->connect_timeout_us = p->connect_timeout_us > 0
	                            ? p->connect_timeout_us
	                            : DEFAULT_CONNECT_US;
	m->timeout_us = p->timeout_us > 0 ? p->timeout_us : DEFAULT_TIMEOUT_US;
	m->retry_min_us =
	    p->retry_min_us > 0 ? p->retry_min_us : 30 * INT64_C(1000000);
	m->retry_max_us = p->retry_max_us >= m->retry_min_us ? p->retry_max_us
	                                                     : m->retry_min_us;
	m->max_age_us =
	    p->max_age_us > 0 ? p->max_age_us : 2 * 86400 * INT64_C(1000000);
	m->on_event = p->on_event;
	m->arg = p->arg;
	m->dirty = true;
	m->next_due_us = -1;
	m->queued_tail = &m->queued;
	return m;
}

void mailer_destroy(struct mailer **mp)
{
	struct mailer *m = *mp;
	struct bw_error e;

	if (m == NULL)
		return;
	/* best effort: what came in is written; what is in flight stays
	 * sending and goes again at the next start, like what was taken and
	 * not started (it never left: pending again at once) */
	(void)flush(m, bw_now_us(), &e);
	while (m->queued != NULL) {
		struct xfer *x = dequeue(m);
		struct result *r =
		    queue(m, x, OUTBOX_PENDING, MAILER_EV_RETRY, 0, NULL,
		          "the notifier stopped before sending "
		          "it");

		r->r.attempts = x->attempts - 1;
		r->r.next_attempt_us = bw_now_us();
		r->r.action = "interrupted";
		xfer_free(x);
	}
	m->on_event = NULL; /* the daemon is going */
	(void)flush(m, bw_now_us(), &e);
	while (m->inflight != NULL) {
		struct xfer *x = m->inflight;

		m->inflight = x->next;
		curlloop_cancel(m->loop, x->easy);
		xfer_free(x);
	}
	for (size_t i = 0; i < m->n_results; i++)
		result_free(&m->results[i]);
	free(m->results);
	free(m->dir);
	free(m->url);
	free(m->ca_file);
	free(m->username);
	if (m->password != NULL) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	free(m->from);
	free(m);
	*mp = NULL;
}
