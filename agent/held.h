/*
 * held.h - incident revisions the spool refused, kept in memory until it
 * has room: the newest revision of each incident, in the order the
 * incidents were first held.
 *
 * Each revision is a whole snapshot of its incident, so a newer revision
 * of an incident already held replaces the held one (its place in the
 * order stays that of the first one held): what the notifier misses is
 * only the revisions in between, never a fact. The caller bounds the
 * total (held_count, held_bytes) and decides what to do at the bound
 * (delivery.h: stop reading the inputs). Not thread-safe.
 */
#ifndef BW_HELD_H
#define BW_HELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct held_item {
	char *id;         /* owned by the set */
	uint32_t revision;
	char *json;       /* owned by the set */
	size_t json_len;
};

struct held;

/* An empty set. Caller owns the result. */
struct held *held_new(void);

/* Free every revision held. Accepts NULL; nulls the caller's pointer. */
void held_destroy(struct held **h);

enum held_put_rc {
	HELD_ADDED,      /* the incident had nothing held: added last */
	HELD_REPLACED,   /* it replaced an older held revision of the incident */
	HELD_OLDER,      /* a revision as new or newer is held: json freed,
			    nothing changed */
};

/* Hold revision of incident id (copied). json (json_len bytes, malloc'ed)
 * is taken over by the set in every case. Returns an enum held_put_rc. */
enum held_put_rc held_put(struct held *h, const char *id, uint32_t revision,
			  char *json, size_t json_len);

/* The revision held longest, or NULL when none is (borrowed until the next
 * change of the set). */
const struct held_item *held_first(const struct held *h);

/* Forget the revision held_first() returns (the caller has spooled it). */
void held_drop_first(struct held *h);

/* The revision held for incident id, or NULL (borrowed like held_first). */
const struct held_item *held_find(const struct held *h, const char *id);

/* Call fn for each revision held, oldest first (it must not change h). */
void held_foreach(const struct held *h,
		  void (*fn)(const struct held_item *it, void *arg), void *arg);

size_t held_count(const struct held *h);
/* The sum of the held revisions' id and JSON lengths. */
uint64_t held_bytes(const struct held *h);

#endif
