/*
 * pool.h - blocks of one size, carved from slabs and kept for reuse; and
 * large zeroed arrays. The memory of the window state (window.c).
 *
 * A block given back is handed out again before any new one is carved, so
 * a steady stream of blocks freed and taken (window keys evicted and
 * created) allocates nothing. Slabs grow geometrically, so a pool that
 * holds a few blocks stays small. A pool gives no memory back before
 * pool_free: what it holds is the most blocks its owner ever had in use at
 * once, which the owner bounds (the window by its limits), not the input.
 *
 * Memory of POOL_HUGE bytes and more is aligned to that and advised to be
 * backed by transparent huge pages (a hint the system may ignore): a large
 * key table is read at random, and TLB misses would cost more than the
 * reads themselves.
 */
#ifndef RULES_POOL_H
#define RULES_POOL_H

#include <stddef.h>

#define POOL_HUGE (2u * 1024 * 1024)

struct pool_slab;

struct pool {
	size_t size; /* bytes per block */
	void **free; /* blocks given back, a stack */
	size_t n_free, cap_free;
	struct pool_slab *slabs; /* newest first */
	char *next, *end;        /* room left in the newest slab */
	size_t slab_bytes;       /* size of the next slab */
	size_t made;             /* blocks ever carved (tests, statistics) */
};

/* An empty pool of blocks of at least size bytes (rounded up to keep
 * every block aligned for any type); no allocation until pool_get. */
void pool_init(struct pool *p, size_t size);
/* Free every slab: the blocks kept and those handed out alike. The pool
 * may be reused after pool_init. */
void pool_free(struct pool *p);
/* A block of p->size bytes, uninitialised: the one given back last, or a
 * new one. Never NULL (out of memory aborts). The pool owns it: it is
 * valid until pool_free. */
void *pool_get(struct pool *p);
/* Give back a block of this pool (NULL is ignored) for the next
 * pool_get. */
void pool_put(struct pool *p, void *b);

/* A zeroed array of n elements of size bytes (huge pages advised when it
 * is large). Never NULL; caller owns it: free() it. */
void *pool_array(size_t n, size_t size);

#endif
