/*
 * jb.c - building JSON (see jb.h).
 */
#include "jb.h"

#include <stdlib.h>

json_t *jb_new(json_t *j)
{
	if (j == NULL)
		abort();
	return j;
}

void jb_set(json_t *o, const char *key, json_t *v)
{
	if (json_object_set_new(o, key, jb_new(v)) != 0)
		abort();
}

void jb_push(json_t *a, json_t *v)
{
	if (json_array_append_new(a, jb_new(v)) != 0)
		abort();
}
