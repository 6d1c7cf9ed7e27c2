/*
 * delivery.c - spool, held revisions and sender joined (delivery.h).
 */
#include "delivery.h"

#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "../common/xmalloc.h"

/* Held revisions are offered to the spool again at least this often. */
#define RETRY_US (1000 * INT64_C(1000))

struct delivery {
	struct spool *spool;
	struct sender *sender;
	struct held *held;
	uint64_t max_revisions, max_bytes;
	delivery_event_fn on_event;
	void *arg;
	bool kick;          /* something was spooled: run the sender now */
	bool failed;        /* the sender failed in delivery_put: fail_err */
	struct bw_error fail_err;
	uint64_t freed;     /* the spool's acked + quarantined + missing when
			       it last refused a held revision */
	int64_t retry_at;   /* offer the held revisions again by then */
	uint64_t unheld_run; /* spooled from held since it was last empty */
	struct delivery_stats st;
};

static void emit(struct delivery *d, enum delivery_event_kind kind,
		 const char *id, uint32_t revision, uint64_t seq,
		 uint64_t code, const char *text)
{
	struct delivery_event ev = { .kind = kind,
				     .id = id,
				     .revision = revision,
				     .seq = seq,
				     .code = code,
				     .text = text != NULL ? text : "" };

	if (d->on_event != NULL)
		d->on_event(&ev, d->arg);
}

static void on_sender(const struct sender_event *sev, void *arg)
{
	struct delivery *d = arg;
	struct delivery_event ev = { .kind = DELIVERY_EV_SENDER,
				     .sender = sev,
				     .id = sev->id,
				     .revision = sev->revision,
				     .seq = sev->seq,
				     .code = sev->code,
				     .text = sev->text };

	if (d->on_event != NULL)
		d->on_event(&ev, d->arg);
}

struct delivery *delivery_new(const struct delivery_params *p,
			      struct bw_error *err)
{
	struct delivery *d = xcalloc(1, sizeof(*d));
	struct sender_params sp = p->sender;

	d->max_revisions = p->held_max_revisions ? p->held_max_revisions
						 : DELIVERY_DEFAULT_HELD_MAX_REVISIONS;
	d->max_bytes = p->held_max_bytes ? p->held_max_bytes
					 : DELIVERY_DEFAULT_HELD_MAX_BYTES;
	d->on_event = p->on_event;
	d->arg = p->arg;
	d->held = held_new();
	d->spool = spool_new(&p->spool, err);
	if (d->spool == NULL)
		goto fail;
	sp.spool = d->spool;
	sp.on_event = on_sender;
	sp.arg = d;
	d->sender = sender_new(&sp, err);
	if (d->sender == NULL)
		goto fail;
	d->kick = true; /* the sender wants one process() at start */
	return d;
fail:
	delivery_destroy(&d);
	return NULL;
}

void delivery_destroy(struct delivery **dp)
{
	struct delivery *d = *dp;

	if (d == NULL)
		return;
	sender_destroy(&d->sender);
	spool_destroy(&d->spool);
	held_destroy(&d->held);
	free(d);
	*dp = NULL;
}

static uint64_t freed_count(const struct delivery *d)
{
	struct spool_stats ss;

	spool_get_stats(d->spool, &ss);
	return ss.acked + ss.quarantined + ss.missing;
}

/* Put into the spool. Returns 0; 1 when the spool refused it at its
 * bound; 2 when it can never fit; -1 on another error (err). */
static int put(struct delivery *d, const char *id, uint32_t revision,
	       const char *json, size_t json_len, bool was_held,
	       struct bw_error *err)
{
	struct spool_stats before, after;
	uint64_t seq = 0;

	spool_get_stats(d->spool, &before);
	if (spool_put(d->spool, id, revision, json, json_len, &seq, err) == 0) {
		d->kick = true;
		emit(d, DELIVERY_EV_SPOOLED, id, revision, seq, was_held, NULL);
		return 0;
	}
	spool_get_stats(d->spool, &after);
	if (after.full == before.full)
		return -1;
	/* Refused at the bound: with nothing pending, it never fits. */
	return before.pending == 0 ? 2 : 1;
}

static void lose(struct delivery *d, const char *id, uint32_t revision,
		 const char *why)
{
	d->st.lost++;
	emit(d, DELIVERY_EV_LOST, id, revision, 0, 0, why);
}

/* Hold a revision (json taken) and report it: waiting is how many were
 * held before it, why the spool's refusal (NULL when it waits behind). */
static void hold(struct delivery *d, const char *id, uint32_t revision,
		 char *json, size_t json_len, size_t waiting, const char *why)
{
	const struct held_item *old = held_find(d->held, id);
	struct delivery_event ev = { .kind = DELIVERY_EV_HELD,
				     .id = id,
				     .revision = revision,
				     .code = waiting,
				     .replaced = old != NULL ? old->revision : 0,
				     .text = why != NULL ? why : "" };
	enum held_put_rc rc = held_put(d->held, id, revision, json, json_len);

	if (rc == HELD_ADDED)
		d->st.held++;
	else if (rc == HELD_REPLACED)
		d->st.superseded++;
	else
		return; /* an older revision: nothing changed */
	if (d->on_event != NULL)
		d->on_event(&ev, d->arg);
}

/* Offer the held revisions to the spool, oldest first, when it may have
 * room (some were freed, or the retry time came). */
static void flush_held(struct delivery *d, int64_t now)
{
	const struct held_item *it;
	struct bw_error err;
	uint64_t freed;

	if (held_count(d->held) == 0)
		return;
	freed = freed_count(d);
	if (freed == d->freed && now < d->retry_at)
		return;
	while ((it = held_first(d->held)) != NULL) {
		int rc = put(d, it->id, it->revision, it->json, it->json_len,
			     true, &err);

		if (rc == 0 || rc == 2) {
			if (rc == 0) {
				d->st.unheld++;
				d->unheld_run++;
			} else {
				lose(d, it->id, it->revision, err.msg);
			}
			held_drop_first(d->held);
			continue;
		}
		if (rc < 0) {
			d->st.spool_errors++;
			emit(d, DELIVERY_EV_SPOOL_ERROR, it->id, it->revision,
			     0, 0, err.msg);
		}
		d->freed = freed;
		d->retry_at = now + RETRY_US;
		return;
	}
	emit(d, DELIVERY_EV_DRAINED, NULL, 0, 0, d->unheld_run, NULL);
	d->unheld_run = 0;
}

void delivery_put(struct delivery *d, const struct bw_incident *inc)
{
	char *json = bw_incident_to_json(inc);
	size_t len = strlen(json);
	struct bw_error err;
	size_t waiting;
	int rc;

	flush_held(d, bw_mono_us());
	waiting = held_count(d->held);
	if (waiting > 0) {
		/* Behind the held ones, so that they keep their order. */
		hold(d, inc->id, inc->revision, json, len, waiting, NULL);
		return;
	}
	rc = put(d, inc->id, inc->revision, json, len, false, &err);
	if (rc == 0 || rc == 2) {
		if (rc == 2)
			lose(d, inc->id, inc->revision, err.msg);
		free(json);
		/* Send it now: while a backlog of lines makes many revisions,
		 * the notifier commits one while the next is being spooled. */
		if (rc == 0 && !d->failed &&
		    sender_process(d->sender, bw_mono_us(), &d->fail_err) < 0)
			d->failed = true;
		else
			d->kick = false;
		return;
	}
	if (rc < 0)
		d->st.spool_errors++;
	d->freed = freed_count(d);
	d->retry_at = bw_mono_us() + RETRY_US;
	hold(d, inc->id, inc->revision, json, len, 0, err.msg);
}

int delivery_fd(const struct delivery *d)
{
	return sender_fd(d->sender);
}

int64_t delivery_next_deadline(const struct delivery *d, int64_t now)
{
	int64_t t = sender_next_deadline(d->sender, now);

	if (d->kick || d->failed)
		return now;
	if (held_count(d->held) > 0 && d->retry_at < t)
		t = d->retry_at;
	return t;
}

int delivery_process(struct delivery *d, int64_t now, struct bw_error *err)
{
	if (d->failed) {
		*err = d->fail_err;
		return -1;
	}
	d->kick = false;
	if (sender_process(d->sender, now, err) < 0)
		return -1;
	flush_held(d, now);
	if (d->kick) {
		/* held revisions went into the spool: send them now */
		d->kick = false;
		if (sender_process(d->sender, now, err) < 0)
			return -1;
	}
	return 0;
}

bool delivery_blocked(const struct delivery *d)
{
	return held_count(d->held) >= d->max_revisions ||
	       held_bytes(d->held) >= d->max_bytes;
}

const struct held *delivery_held(const struct delivery *d)
{
	return d->held;
}

void delivery_get_stats(const struct delivery *d, struct delivery_stats *out)
{
	*out = d->st;
	spool_get_stats(d->spool, &out->spool);
	sender_get_stats(d->sender, &out->sender);
	out->held_now = held_count(d->held);
	out->held_bytes = held_bytes(d->held);
	out->blocked = delivery_blocked(d);
}
