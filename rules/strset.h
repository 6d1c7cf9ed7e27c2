/*
 * strset.h - a set of byte strings: insertion-ordered items and an
 * open-addressing index with a seeded hash (hostile keys cannot flood it).
 *
 * Used for named sets and inline lists (look-up), and for the customer ids
 * gathered per window key (items in the order they were first seen, handed
 * out as a NUL-terminated string array without copying).
 */
#ifndef RULES_STRSET_H
#define RULES_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strset {
	char **items; /* owned, NUL-terminated, insertion order */
	uint32_t *lens;
	size_t n, cap_items;
	uint32_t *slots;  /* item index + 1, 0 = empty */
	uint64_t *hashes; /* per item */
	size_t nslots;    /* power of two, or 0 */
	uint32_t maxlen;  /* longest item */
	bool nocase;      /* items are kept and looked up lowercased */
};

/* A 64-bit seeded hash of len bytes (not cryptographic; the seed is random
 * per process so an attacker cannot pick colliding keys offline). */
uint64_t strset_hash(const void *p, size_t len);

/* Set up an empty set (no allocation until the first add). */
void strset_init(struct strset *s, bool nocase);
/* Free everything; the set may be reused after strset_init. */
void strset_free(struct strset *s);
/* Forget the items, keeping the memory. */
void strset_clear(struct strset *s);
/* Add a copy of p[0..len). Returns true if it was new. */
bool strset_add(struct strset *s, const char *p, size_t len);
/* The stored copy of p[0..len), or NULL. Allocates nothing. */
const char *strset_get(const struct strset *s, const char *p, size_t len);
/* The insertion index of p[0..len), or -1. Allocates nothing. */
long strset_index(const struct strset *s, const char *p, size_t len);
/* Whether p[0..len) is a member. Allocates nothing. */
bool strset_has(const struct strset *s, const char *p, size_t len);

/* ASCII lowercase of one byte. */
static inline unsigned char strset_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

#endif
