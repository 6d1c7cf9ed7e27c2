/*
 * evclock.h - event time as a clock that one wrong stamp cannot move.
 *
 * Windows slide, quiet incidents close and idle state expires on event
 * time: the latest stamp seen. A single line stamped far in the future (a
 * host whose clock was wrong for a moment, a forged or corrupted line)
 * would otherwise move that clock ahead at once and expire every window
 * and close every incident. So a stamp more than BW_EVCLOCK_JUMP_US ahead
 * of the clock is held: the clock moves there only when the next event is
 * ahead too (a clock that was really stepped forward), and stays where it
 * is if the next event is back in line. Held stamps are counted. The event
 * itself is still evaluated with its own stamp; only the shared clock
 * waits.
 */
#ifndef BW_EVCLOCK_H
#define BW_EVCLOCK_H

#include <stdint.h>

#define BW_EVCLOCK_JUMP_US (3600LL * 1000000) /* one hour */

struct bw_evclock {
	int64_t now_us;     /* the clock; 0 before the first event */
	int64_t pending_us; /* a held jump; 0: none */
	uint64_t held;      /* stamps held (not confirmed by the next event) */
	uint64_t jumps;     /* jumps taken after confirmation */
};

/* Feed one event's stamp; returns the clock after it. A zeroed struct is
 * a clock before any event. */
int64_t bw_evclock_feed(struct bw_evclock *c, int64_t ts_us);

#endif
