/*
 * live_delivery.h - live mode's side of the delivery to the notifier: the
 * delivery (delivery.h) built from the config's notifier group, what it
 * reports logged (each kind of event rate-limited on its own), and the
 * figures at a stop.
 */
#ifndef BW_LIVE_DELIVERY_H
#define BW_LIVE_DELIVERY_H

#include "../common/error.h"
#include "config.h"
#include "delivery.h"

struct live_delivery;

/* Load the keys the notifier group names, open the spool and start the
 * sender. Returns NULL with err filled; *bad_config (may be NULL) is set
 * when the failure is the configuration's (a key file), not the system's
 * (the spool is locked or cannot be made). conf must outlive the result.
 * Caller owns the result. */
struct live_delivery *live_delivery_new(const struct agentconf *conf,
					bool *bad_config,
					struct bw_error *err) BW_WUR;

/* Accepts NULL; nulls the caller's pointer. */
void live_delivery_destroy(struct live_delivery **ld);

/* The delivery (owned by ld). */
struct delivery *live_delivery_get(struct live_delivery *ld);

/* Log a change of delivery_blocked(): inputs paused or resumed. Returns
 * whether the inputs are to stay paused now. */
bool live_delivery_paused(struct live_delivery *ld);

/* Log the figures of the run, and each revision still held in memory,
 * which the agent loses as it exits. */
void live_delivery_summary(struct live_delivery *ld);

#endif
