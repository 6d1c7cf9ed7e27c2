/*
 * held.c - incident revisions held in memory while the spool is full
 * (held.h).
 *
 * A linked list in the order incidents were first held, and a
 * chained hash index by incident id (seeded hash, strset.h) whose bucket
 * array doubles when the items outnumber the buckets.
 */
#include "held.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "../rules/strset.h"

#define MIN_BUCKETS 64

struct node {
	struct held_item it;
	uint64_t hash;
	struct node *next;        /* the order */
	struct node *chain;       /* the bucket's next */
};

struct held {
	struct node *head, *tail;
	struct node **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
	uint64_t bytes;
};

struct held *held_new(void)
{
	struct held *h = xcalloc(1, sizeof(*h));

	h->nbuckets = MIN_BUCKETS;
	h->buckets = xcalloc(h->nbuckets, sizeof(*h->buckets));
	return h;
}

static void free_node(struct node *n)
{
	free(n->it.id);
	free(n->it.json);
	free(n);
}

void held_destroy(struct held **hp)
{
	struct held *h = *hp;
	struct node *n, *next;

	if (h == NULL)
		return;
	for (n = h->head; n != NULL; n = next) {
		next = n->next;
		free_node(n);
	}
	free(h->buckets);
	free(h);
	*hp = NULL;
}

static struct node **slot_of(const struct held *h, const char *id,
			     uint64_t hash)
{
	struct node **pp = &h->buckets[hash & (h->nbuckets - 1)];

	while (*pp != NULL &&
	       ((*pp)->hash != hash || strcmp((*pp)->it.id, id) != 0))
		pp = &(*pp)->chain;
	return pp;
}

static void grow(struct held *h)
{
	size_t nb = h->nbuckets * 2;
	struct node **b = xcalloc(nb, sizeof(*b));

	for (struct node *n = h->head; n != NULL; n = n->next) {
		struct node **pp = &b[n->hash & (nb - 1)];

		n->chain = *pp;
		*pp = n;
	}
	free(h->buckets);
	h->buckets = b;
	h->nbuckets = nb;
}

enum held_put_rc held_put(struct held *h, const char *id, uint32_t revision,
			  char *json, size_t json_len)
{
	size_t id_len = strlen(id);
	uint64_t hash = strset_hash(id, id_len);
	struct node **pp = slot_of(h, id, hash), *n = *pp;

	if (n != NULL) {
		if (n->it.revision >= revision) {
			free(json);
			return HELD_OLDER;
		}
		h->bytes -= n->it.json_len;
		free(n->it.json);
		n->it.revision = revision;
		n->it.json = json;
		n->it.json_len = json_len;
		h->bytes += json_len;
		return HELD_REPLACED;
	}
	n = xcalloc(1, sizeof(*n));
	n->it.id = xstrdup(id);
	n->it.revision = revision;
	n->it.json = json;
	n->it.json_len = json_len;
	n->hash = hash;
	if (h->tail != NULL)
		h->tail->next = n;
	else
		h->head = n;
	h->tail = n;
	*pp = n;
	h->count++;
	h->bytes += id_len + json_len;
	if (h->count > h->nbuckets)
		grow(h);
	return HELD_ADDED;
}

const struct held_item *held_first(const struct held *h)
{
	return h->head != NULL ? &h->head->it : NULL;
}

const struct held_item *held_find(const struct held *h, const char *id)
{
	struct node *n = *slot_of(h, id, strset_hash(id, strlen(id)));

	return n != NULL ? &n->it : NULL;
}

void held_drop_first(struct held *h)
{
	struct node *n = h->head, **pp;

	if (n == NULL)
		return;
	pp = slot_of(h, n->it.id, n->hash);
	*pp = n->chain;
	h->head = n->next;
	if (h->head == NULL)
		h->tail = NULL;
	h->count--;
	h->bytes -= strlen(n->it.id) + n->it.json_len;
	free_node(n);
}

void held_foreach(const struct held *h,
		  void (*fn)(const struct held_item *it, void *arg), void *arg)
{
	for (const struct node *n = h->head; n != NULL; n = n->next)
		fn(&n->it, arg);
}

size_t held_count(const struct held *h)
{
	return h->count;
}

uint64_t held_bytes(const struct held *h)
{
	return h->bytes;
}
