/*
 * cidr.h - sets of IPv4 and IPv6 networks with fast look-up.
 *
 * Build a set with bw_cidr_add(), then bw_cidr_freeze() once; look-ups on a
 * frozen set are O(log n) (sorted, merged ranges) and allocate nothing.
 *
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are IPv4 addresses: they are
 * normalised before a look-up, and a network inside ::ffff:0:0/96 is the
 * IPv4 network it maps. A network holding all of ::ffff:0:0/96 (like ::/0)
 * therefore holds every IPv4 address too.
 */
#ifndef BW_CIDR_H
#define BW_CIDR_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "event.h"

struct bw_cidr_set;

/* Caller owns the returned set; free it with bw_cidr_destroy(). */
struct bw_cidr_set *bw_cidr_new(void);
/* Accepts NULL; nulls the caller's pointer. */
void bw_cidr_destroy(struct bw_cidr_set **set);

/* Parse an address or network ("10.0.0.0/8", "192.0.2.1", "2001:db8::/32",
 * "::1") and add it. Host bits set below the prefix are an error (like
 * "10.0.0.1/8"). Returns -1 with err filled on a bad string; adding to a
 * frozen set is an error too. */
int bw_cidr_add(struct bw_cidr_set *set, const char *text,
		struct bw_error *err) BW_WUR;
/* Sort and merge; after this the set is read-only. Idempotent. (Look-ups
 * on a set not yet frozen work too, by a linear scan.) */
void bw_cidr_freeze(struct bw_cidr_set *set);
/* Whether addr lies in any network of the (frozen) set. An absent address
 * (family 0) is in no set. */
bool bw_cidr_contains(const struct bw_cidr_set *set, const struct bw_addr *addr);
/* Number of ranges, IPv4 and IPv6 (merged after freeze). */
size_t bw_cidr_count(const struct bw_cidr_set *set);

/* Parse a textual IPv4 or IPv6 address (no prefix, no brackets, no zone)
 * of at most 45 bytes. Returns 0 and fills *out (an IPv4-mapped address as
 * family 4), or -1 with *out absent. Never reads past len. */
int bw_addr_parse(const char *text, size_t len, struct bw_addr *out) BW_WUR;
/* Canonical text form (inet_ntop); "" for an absent address. Returns buf. */
const char *bw_addr_str(const struct bw_addr *a, char *buf, size_t size);
bool bw_addr_equal(const struct bw_addr *a, const struct bw_addr *b);

#endif
