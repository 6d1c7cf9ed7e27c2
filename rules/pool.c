/*
 * pool.c - blocks of one size kept for reuse, large arrays (see pool.h).
 */
#include "pool.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../common/xmalloc.h"

#define SLAB_MIN    (16u * 1024) /* the first slab of a pool */
#define BLOCK_ALIGN 16

struct pool_slab {
	struct pool_slab *next;
	size_t pad; /* keeps the blocks after it 16-byte aligned */
};

/* bytes of memory, aligned to POOL_HUGE and advised for huge pages when
 * that large. Caller frees it with free(). */
static void *big_alloc(size_t bytes)
{
	void *p = NULL;

	if (bytes < POOL_HUGE || posix_memalign(&p, POOL_HUGE, bytes) != 0)
		return xmalloc(bytes);
#ifdef MADV_HUGEPAGE
	(void)madvise(p, bytes, MADV_HUGEPAGE); /* a hint: failure is fine */
#endif
	return p;
}

void *pool_array(size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		return xcalloc(n, size); /* aborts with the overflow */
	if (n * size < POOL_HUGE)
		return xcalloc(n, size);
	p = big_alloc(n * size);
	memset(p, 0, n * size);
	return p;
}

void pool_init(struct pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->size = (size + BLOCK_ALIGN - 1) / BLOCK_ALIGN * BLOCK_ALIGN;
	p->slab_bytes = SLAB_MIN;
}

void pool_free(struct pool *p)
{
	struct pool_slab *s, *next;

	for (s = p->slabs; s != NULL; s = next) {
		next = s->next;
		free(s);
	}
	free(p->free);
	pool_init(p, p->size);
}

/* A new slab with room for at least one block. */
static void add_slab(struct pool *p)
{
	size_t bytes = p->slab_bytes;
	struct pool_slab *s;

	while (bytes < sizeof(*s) + p->size)
		bytes *= 2;
	s = big_alloc(bytes);
	s->next = p->slabs;
	p->slabs = s;
	p->next = (char *)(s + 1);
	p->end = (char *)s + bytes;
	if (bytes < POOL_HUGE)
		p->slab_bytes = bytes * 2;
}

void *pool_get(struct pool *p)
{
	void *b;

	if (p->n_free > 0)
		return p->free[--p->n_free];
	if (p->next == NULL || (size_t)(p->end - p->next) < p->size)
		add_slab(p);
	b = p->next;
	p->next += p->size;
	p->made++;
	return b;
}

void pool_put(struct pool *p, void *b)
{
	if (b == NULL)
		return;
	if (p->n_free == p->cap_free) {
		p->cap_free = p->cap_free ? p->cap_free * 2 : 64;
		p->free = xreallocarray(p->free, p->cap_free, sizeof(*p->free));
	}
	p->free[p->n_free++] = b;
}
