/*
 * strset.c - insertion-ordered string set with a seeded hash (see strset.h).
 */
#include "strset.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../common/xmalloc.h"

#define MIX1 0x9e3779b97f4a7c15ULL
#define MIX2 0xbf58476d1ce4e5b9ULL
#define MIX3 0x94d049bb133111ebULL

static uint64_t seed;
static bool seeded;

static uint64_t fmix(uint64_t h)
{
	h ^= h >> 30;
	h *= MIX2;
	h ^= h >> 27;
	h *= MIX3;
	h ^= h >> 31;
	return h;
}

static void seed_once(void)
{
	uint64_t s = 0;

	if (seeded)
		return;
	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
		s = (uint64_t)(uintptr_t)&s ^ MIX1; /* ASLR at least */
	seed = fmix(s | 1);
	seeded = true;
}

uint64_t strset_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h, w;

	seed_once();
	h = seed ^ ((uint64_t)len * MIX1);
	while (len >= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * MIX2;
		h ^= h >> 29;
		b += 8;
		len -= 8;
	}
	/* The last 0..7 bytes, little-endian (no call to memcpy for a
	 * length the compiler cannot see). */
	w = 0;
	for (size_t i = 0; i < len; i++)
		w |= (uint64_t)b[i] << (8 * i);
	return fmix((h ^ w) * MIX3);
}

void strset_init(struct strset *s, bool nocase)
{
	memset(s, 0, sizeof(*s));
	s->nocase = nocase;
}

void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
	free(s->lens);
	free(s->slots);
	free(s->hashes);
	strset_init(s, s->nocase);
}

void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	s->n = 0;
	s->maxlen = 0;
	if (s->slots != NULL)
		memset(s->slots, 0, s->nslots * sizeof(*s->slots));
}

/* Slot of p (or of the empty slot where it would go). */
static size_t find_slot(const struct strset *s, const char *p, size_t len,
                        uint64_t h)
{
	size_t mask = s->nslots - 1, i = (size_t)h & mask;
	uint32_t idx;

	for (;;) {
		idx = s->slots[i];
		if (idx == 0)
			return i;
		idx--;
		if (s->hashes[idx] == h && s->lens[idx] == len &&
		    memcmp(s->items[idx], p, len) == 0)
			return i;
		i = (i + 1) & mask;
	}
}

static void grow_index(struct strset *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 16;
	size_t mask = n - 1, j;

	free(s->slots);
	s->slots = xcalloc(n, sizeof(*s->slots));
	s->nslots = n;
	for (size_t i = 0; i < s->n; i++) {
		j = (size_t)s->hashes[i] & mask;
		while (s->slots[j] != 0)
			j = (j + 1) & mask;
		s->slots[j] = (uint32_t)(i + 1);
	}
}

bool strset_add(struct strset *s, const char *p, size_t len)
{
	char *copy;
	uint64_t h;
	size_t slot;

	if (len > UINT32_MAX)
		return false;
	copy = xstrndup(p, len);
	if (s->nocase)
		for (size_t i = 0; i < len; i++)
			copy[i] = (char)strset_lower((unsigned char)copy[i]);
	h = strset_hash(copy, len);
	if (s->nslots == 0 || (s->n + 1) * 2 > s->nslots)
		grow_index(s);
	slot = find_slot(s, copy, len, h);
	if (s->slots[slot] != 0) {
		free(copy);
		return false;
	}
	if (s->n == s->cap_items) {
		s->cap_items = s->cap_items ? s->cap_items * 2 : 4;
		s->items =
		    xreallocarray(s->items, s->cap_items, sizeof(*s->items));
		s->lens =
		    xreallocarray(s->lens, s->cap_items, sizeof(*s->lens));
		s->hashes =
		    xreallocarray(s->hashes, s->cap_items, sizeof(*s->hashes));
	}
	s->items[s->n] = copy;
	s->lens[s->n] = (uint32_t)len;
	s->hashes[s->n] = h;
	s->n++;
	s->slots[slot] = (uint32_t)s->n;
	if (len > s->maxlen)
		s->maxlen = (uint32_t)len;
	return true;
}

const char *strset_get(const struct strset *s, const char *p, size_t len)
{
	uint32_t idx;

	if (s->n == 0 || len > s->maxlen || s->nocase)
		return NULL;
	idx = s->slots[find_slot(s, p, len, strset_hash(p, len))];
	return idx != 0 ? s->items[idx - 1] : NULL;
}

long strset_index(const struct strset *s, const char *p, size_t len)
{
	uint32_t idx;

	if (s->n == 0 || len > s->maxlen || s->nocase)
		return -1;
	idx = s->slots[find_slot(s, p, len, strset_hash(p, len))];
	return idx != 0 ? (long)idx - 1 : -1;
}

/* Below this many items a linear scan beats hashing. */
#define LINEAR_MAX 8

static bool linear_has(const struct strset *s, const char *p, size_t len)
{
	for (size_t i = 0; i < s->n; i++) {
		const unsigned char *it = (const unsigned char *)s->items[i];
		size_t k;

		if (s->lens[i] != len)
			continue;
		if (!s->nocase) {
			if (memcmp(it, p, len) == 0)
				return true;
			continue;
		}
		for (k = 0; k < len; k++)
			if (strset_lower((unsigned char)p[k]) != it[k])
				break;
		if (k == len)
			return true;
	}
	return false;
}

bool strset_has(const struct strset *s, const char *p, size_t len)
{
	char low[256];

	if (s->n == 0 || len > s->maxlen)
		return false;
	if (s->n <= LINEAR_MAX)
		return linear_has(s, p, len);
	if (s->nocase) {
		if (len > sizeof(low))
			return false; /* maxlen is larger: fold in pieces is not
			                 worth it; such members are refused */
		for (size_t i = 0; i < len; i++)
			low[i] = (char)strset_lower((unsigned char)p[i]);
		p = low;
	}
	return s->slots[find_slot(s, p, len, strset_hash(p, len))] != 0;
}
