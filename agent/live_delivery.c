/*
 * live_delivery.c - the delivery to the notifier as live mode runs it
 * (live_delivery.h).
 *
 * Every kind of event is logged with a rate limit of its own, so a
 * notifier that refuses us on every reconnection, or a spool that stays
 * full, gives one line now and then with the count of those not logged,
 * while the counters (the summary at a stop) see every one.
 */
#include "live_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xmalloc.h"

#define MINUTE (60 * INT64_C(1000000))
#define LOST_LISTED 20 /* held revisions named one by one at a stop */

/* One rate limit per kind of message. */
enum rl_kind {
	RL_LINK,      /* connected, disconnected */
	RL_REFUSED,   /* the notifier refused our key; other handshakes */
	RL_REJECTED,  /* revisions rejected */
	RL_SPOOL_BAD, /* corrupt spool files */
	RL_PROTOCOL,  /* bad messages from the notifier */
	RL_ERROR,     /* local errors of the sender, spool errors */
	RL_FULL,      /* the spool refused a revision at its bound */
	RL_N
};

static const struct {
	int64_t interval_us;
	unsigned burst;
} rl_spec[RL_N] = {
	[RL_LINK] = { MINUTE, 10 },     [RL_REFUSED] = { MINUTE, 1 },
	[RL_REJECTED] = { MINUTE, 5 },  [RL_SPOOL_BAD] = { MINUTE, 5 },
	[RL_PROTOCOL] = { MINUTE, 5 },  [RL_ERROR] = { MINUTE, 5 },
	[RL_FULL] = { MINUTE / 6, 1 },
};

struct live_delivery {
	const struct agentconf *conf;
	struct delivery *d;
	struct log_ratelimit rl[RL_N];
	bool paused;
};

/* Whether to log a message of kind k now; *more gets the count of those
 * not logged since the last one that was (then reset). */
static bool rl_ok(struct live_delivery *ld, enum rl_kind k,
		  unsigned long long *more)
{
	struct log_ratelimit *rl = &ld->rl[k];

	if (!log_ratelimit_ok(rl))
		return false;
	*more = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

/* " (N more not logged)" or "" into buf. */
static const char *more_str(unsigned long long more, char *buf, size_t len)
{
	if (more == 0)
		return "";
	snprintf(buf, len, " (and %llu more since the last report)", more);
	return buf;
}

static void on_sender(struct live_delivery *ld, const struct sender_event *ev)
{
	const char *ep = ld->conf->notifier.endpoint;
	unsigned long long more;
	char note[80];

	switch (ev->kind) {
	case SENDER_EV_CONNECTED:
		if (rl_ok(ld, RL_LINK, &more))
			log_info("notifier: connected to %s%s", ep,
				 more_str(more, note, sizeof(note)));
		break;
	case SENDER_EV_DISCONNECTED:
		if (rl_ok(ld, RL_LINK, &more))
			log_warnx("notifier: connection to %s lost; revisions "
				  "wait in the spool%s", ep,
				  more_str(more, note, sizeof(note)));
		break;
	case SENDER_EV_AUTH_REFUSED:
		if (rl_ok(ld, RL_REFUSED, &more))
			log_warnx("notifier: %s refused this agent's key (ZAP "
				  "status %u): is its public key in the "
				  "notifier's authorised-agents file? "
				  "Revisions wait in the spool%s",
				  ep, ev->code,
				  more_str(more, note, sizeof(note)));
		break;
	case SENDER_EV_HANDSHAKE_FAILED:
		if (rl_ok(ld, RL_REFUSED, &more))
			log_warnx("notifier: handshake with %s failed (%u): is "
				  "notifier_key the notifier's public key?%s",
				  ep, ev->code,
				  more_str(more, note, sizeof(note)));
		break;
	case SENDER_EV_REJECTED:
		if (rl_ok(ld, RL_REJECTED, &more))
			log_warnx("notifier: rejected revision %u of %s (status "
				  "%u: %s); moved to the spool's quarantine%s",
				  ev->revision, ev->id, ev->code, ev->text,
				  more_str(more, note, sizeof(note)));
		break;
	case SENDER_EV_SPOOL_BAD:
		if (rl_ok(ld, RL_SPOOL_BAD, &more))
			log_warnx("spool: sequence %llu moved to the quarantine: "
				  "%s%s", (unsigned long long)ev->seq, ev->text,
				  more_str(more, note, sizeof(note)));
		break;
	case SENDER_EV_PROTOCOL:
		if (rl_ok(ld, RL_PROTOCOL, &more))
			log_warnx("notifier: message dropped: %s%s", ev->text,
				  more_str(more, note, sizeof(note)));
		break;
	case SENDER_EV_ERROR:
	default:
		if (rl_ok(ld, RL_ERROR, &more))
			log_warnx("sender: %s%s", ev->text,
				  more_str(more, note, sizeof(note)));
		break;
	}
}

static void on_event(const struct delivery_event *ev, void *arg)
{
	struct live_delivery *ld = arg;
	unsigned long long more;
	struct delivery_stats st;
	char note[80];

	switch (ev->kind) {
	case DELIVERY_EV_SENDER:
		on_sender(ld, ev->sender);
		break;
	case DELIVERY_EV_SPOOLED:
		log_debug("spooled revision %u of %s as %llu%s", ev->revision,
			  ev->id, (unsigned long long)ev->seq,
			  ev->code ? " (it was held)" : "");
		break;
	case DELIVERY_EV_HELD:
		if (ev->replaced != 0)
			log_debug("holding revision %u of %s in memory (replaces "
				  "revision %u)", ev->revision, ev->id,
				  ev->replaced);
		else
			log_debug("holding revision %u of %s in memory",
				  ev->revision, ev->id);
		if (ev->code > 0) /* behind others: the first one was logged */
			break;
		if (rl_ok(ld, RL_FULL, &more)) {
			delivery_get_stats(ld->d, &st);
			log_warnx("%s; held in memory until the notifier's "
				  "acknowledgements make room (%llu held)%s",
				  ev->text, (unsigned long long)st.held_now,
				  more_str(more, note, sizeof(note)));
		}
		break;
	case DELIVERY_EV_DRAINED:
		log_info("spool: every held revision is spooled now (%llu)",
			 (unsigned long long)ev->code);
		break;
	case DELIVERY_EV_SPOOL_ERROR:
		if (rl_ok(ld, RL_ERROR, &more))
			log_warnx("spool: revision %u of %s: %s; held, tried "
				  "again in a second%s", ev->revision, ev->id,
				  ev->text, more_str(more, note, sizeof(note)));
		break;
	case DELIVERY_EV_LOST:
		log_warnx("LOST: revision %u of %s can never fit in the spool: "
			  "%s (raise notifier.spool_max_bytes)", ev->revision,
			  ev->id, ev->text);
		break;
	}
}

struct live_delivery *live_delivery_new(const struct agentconf *conf,
					bool *bad_config,
					struct bw_error *err)
{
	const struct agentconf_notifier *n = &conf->notifier;
	struct live_delivery *ld = xcalloc(1, sizeof(*ld));
	struct delivery_params p = { 0 };
	uint8_t server_key[BW_KEY_LEN];
	struct bw_keypair kp;

	if (bad_config != NULL)
		*bad_config = false;
	ld->conf = conf;
	for (size_t i = 0; i < RL_N; i++)
		ld->rl[i] = (struct log_ratelimit)LOG_RATELIMIT_INIT(
			rl_spec[i].interval_us, rl_spec[i].burst);
	if (agentconf_load_keys(conf, &kp, server_key, err) < 0) {
		if (bad_config != NULL)
			*bad_config = true;
		free(ld);
		return NULL;
	}
	p.spool.dir = n->spool_dir;
	p.spool.max_bytes = n->spool_max_bytes;
	p.spool.max_items = n->spool_max_revisions;
	p.sender.endpoint = n->endpoint;
	p.sender.keys = &kp;
	p.sender.server_key = server_key;
	p.sender.max_in_flight = n->window;
	p.sender.ack_timeout_us = n->ack_timeout_us;
	p.sender.heartbeat_us = n->heartbeat_us;
	p.held_max_revisions = n->held_max_revisions;
	p.held_max_bytes = n->held_max_bytes;
	p.on_event = on_event;
	p.arg = ld;
	ld->d = delivery_new(&p, err);
	bw_keys_wipe(&kp);
	if (ld->d == NULL) {
		free(ld);
		return NULL;
	}
	return ld;
}

void live_delivery_destroy(struct live_delivery **ldp)
{
	struct live_delivery *ld = *ldp;

	if (ld == NULL)
		return;
	delivery_destroy(&ld->d);
	free(ld);
	*ldp = NULL;
}

struct delivery *live_delivery_get(struct live_delivery *ld)
{
	return ld->d;
}

bool live_delivery_paused(struct live_delivery *ld)
{
	struct delivery_stats st;
	bool blocked = delivery_blocked(ld->d);

	if (blocked == ld->paused)
		return blocked;
	ld->paused = blocked;
	delivery_get_stats(ld->d, &st);
	if (blocked)
		log_warnx("inputs paused: the spool is full and %llu revisions "
			  "(%llu bytes) are held in memory, the most allowed "
			  "(notifier.held_max_revisions %llu, held_max_bytes "
			  "%llu); lines wait in their files",
			  (unsigned long long)st.held_now,
			  (unsigned long long)st.held_bytes,
			  (unsigned long long)ld->conf->notifier.held_max_revisions,
			  (unsigned long long)ld->conf->notifier.held_max_bytes);
	else
		log_info("inputs resumed: %llu revisions held in memory",
			 (unsigned long long)st.held_now);
	return blocked;
}

struct lost_list {
	size_t n;
};

static void list_lost(const struct held_item *it, void *arg)
{
	struct lost_list *l = arg;

	if (l->n++ < LOST_LISTED)
		log_warnx("LOST at exit: revision %u of %s was never spooled",
			  it->revision, it->id);
}

void live_delivery_summary(struct live_delivery *ld)
{
	struct delivery_stats st;
	struct lost_list lost = { 0 };

	delivery_get_stats(ld->d, &st);
	log_info("notifier: %llu revisions spooled, %llu sent, %llu sent "
		 "again, %llu acknowledged, %llu rejected; %llu pending in "
		 "the spool (%llu bytes); %llu connections (%llu broken), "
		 "%llu refusals",
		 (unsigned long long)st.spool.written,
		 (unsigned long long)st.sender.sent,
		 (unsigned long long)st.sender.resent,
		 (unsigned long long)st.sender.acked,
		 (unsigned long long)st.sender.rejected,
		 (unsigned long long)st.spool.pending,
		 (unsigned long long)st.spool.bytes,
		 (unsigned long long)st.sender.connects,
		 (unsigned long long)st.sender.disconnects,
		 (unsigned long long)(st.sender.auth_refused +
				      st.sender.handshake_failed));
	if (st.spool.full > 0 || st.held > 0 || st.spool_errors > 0 ||
	    st.lost > 0 || st.spool.quarantined > 0)
		log_warnx("spool: refused %llu times at its bound, %llu I/O "
			  "errors; %llu revisions held in memory (%llu "
			  "superseded by newer ones, %llu spooled later), %llu "
			  "lost; %llu files quarantined",
			  (unsigned long long)st.spool.full,
			  (unsigned long long)st.spool_errors,
			  (unsigned long long)st.held,
			  (unsigned long long)st.superseded,
			  (unsigned long long)st.unheld,
			  (unsigned long long)st.lost,
			  (unsigned long long)st.spool.quarantined);
	if (st.held_now == 0)
		return;
	held_foreach(delivery_held(ld->d), list_lost, &lost);
	log_warnx("LOST at exit: %llu revisions (%llu bytes) held in memory "
		  "were never spooled%s",
		  (unsigned long long)st.held_now,
		  (unsigned long long)st.held_bytes,
		  lost.n > LOST_LISTED ? "; the first ones are named above"
				       : "");
}
