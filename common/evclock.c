/*
 * evclock.c - event time that one wrong stamp cannot move (see evclock.h).
 */
#include "evclock.h"

int64_t bw_evclock_feed(struct bw_evclock *c, int64_t ts_us)
{
	if (c->now_us == 0) {
		c->now_us = ts_us;
		return c->now_us;
	}
	if (ts_us <= c->now_us + BW_EVCLOCK_JUMP_US) {
		/* In line (or behind): a held jump was a lone stamp. */
		if (c->pending_us != 0) {
			c->held++;
			c->pending_us = 0;
		}
		if (ts_us > c->now_us)
			c->now_us = ts_us;
		return c->now_us;
	}
	if (c->pending_us != 0) {
		/* Two in a row far ahead: the clock was stepped (to the
		 * nearer of the two, if they disagree). */
		c->now_us = ts_us < c->pending_us ? ts_us : c->pending_us;
		c->pending_us = 0;
		c->jumps++;
		return c->now_us;
	}
	c->pending_us = ts_us;
	return c->now_us;
}
