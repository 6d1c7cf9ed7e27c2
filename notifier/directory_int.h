/*
 * directory_int.h - what directory.c shares with its HTTP source
 * (directory_http.c). Not for other files.
 */
#ifndef BW_DIRECTORY_INT_H
#define BW_DIRECTORY_INT_H

#include "directory.h"

struct directory_http;

/* Check the URL template and read the header file. Caller owns the
 * result. */
struct directory_http *directory_http_new(const struct directory_params *p,
                                          struct bw_error *err) BW_WUR;
void directory_http_destroy(struct directory_http **h);
/* Forget the cache; read the header file again (keeping the old headers
 * on error). */
int directory_http_reload(struct directory_http *h,
                          struct bw_error *err) BW_WUR;
enum directory_result directory_http_lookup(struct directory_http *h,
                                            const char *id,
                                            struct directory_entry *out,
                                            char *why, size_t why_size);
/* Adds the HTTP counters to out. */
void directory_http_stats(const struct directory_http *h,
                          struct directory_stats *out);

/* A hash of a customer id (FNV-1a), for the tables of both. */
uint64_t directory_hash(const char *s);

/* Check a JSON answer for id and fill out from it: 0, or -1 with err. */
int directory_entry_from_json(const char *id, const char *json, size_t len,
                              struct directory_entry *out,
                              struct bw_error *err) BW_WUR;

#endif
