/*
 * jb.h - building JSON with jansson where running out of memory aborts,
 * like xmalloc: for the notifier's answers, reports and message contexts.
 */
#ifndef BW_JB_H
#define BW_JB_H

#include <jansson.h>

/* j, or abort() when it is NULL (jansson's out of memory). */
json_t *jb_new(json_t *j);
/* Set o[key] to v (taken over); aborts when it cannot. */
void jb_set(json_t *o, const char *key, json_t *v);
/* Append v (taken over) to the array a; aborts when it cannot. */
void jb_push(json_t *a, json_t *v);

#endif
