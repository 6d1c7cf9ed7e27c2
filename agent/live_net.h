/*
 * live_net.h - the live mode's network inputs: every `pcap` input of the
 * agent config captured at once, behind one descriptor for the poll loop.
 *
 * Each input is a live netsrc (netsrc.h); their capture descriptors are
 * gathered in an epoll instance, whose descriptor is readable when any of
 * them is. The loop calls live_net_process() after poll (readable or not:
 * it reads what is waiting, without blocking, within a bound per call),
 * live_net_tick() with the idle clock so that quiet flows end, and
 * live_net_finish() at a stop. Events go to the caller's function, valid
 * during the call.
 */
#ifndef BW_LIVE_NET_H
#define BW_LIVE_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/event.h"
#include "config.h"

struct live_net;

typedef void (*live_net_fn)(void *arg, const struct bw_event *ev);

/* Whether ci is a network input (type "pcap"), which the log followers
 * leave alone. */
bool live_net_is_input(const struct agentconf_input *ci);

/* Open every pcap input of c (an agent with none gets an empty set whose
 * descriptor is -1). Returns NULL with err on the first that cannot be
 * opened ("lo: cannot capture: ... (the agent needs CAP_NET_RAW)").
 * Caller owns the result. */
struct live_net *live_net_open(const struct agentconf *c,
			       struct bw_error *err) BW_WUR;
void live_net_destroy(struct live_net **ln);

/* The descriptor for poll (-1 when there are no inputs). */
int live_net_fd(const struct live_net *ln);

/* Read what the captures have waiting and feed its events to fn. Returns
 * true when it stopped at its bound with more waiting. */
bool live_net_process(struct live_net *ln, live_net_fn fn, void *arg);

/* Advance event time with no packet: flows idle past their timeouts end
 * (their events go to fn). */
void live_net_tick(struct live_net *ln, int64_t now_us, live_net_fn fn,
		   void *arg);

/* At a stop: read what is waiting, end every flow, feed the events. */
void live_net_finish(struct live_net *ln, live_net_fn fn, void *arg);

/* Log each input's counts (packets, drops by reason, kernel drops, flows,
 * events). */
void live_net_log_summary(struct live_net *ln);

#endif
