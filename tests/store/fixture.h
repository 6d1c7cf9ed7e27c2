/*
 * fixture.h - what the store and report tests share: a store file in a
 * fresh directory, raw SQL on it, sample incidents and a populated record.
 */
#ifndef BW_TEST_STORE_FIXTURE_H
#define BW_TEST_STORE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "incident.h"
#include "store.h"

/* 2026-11-23T08:15:00Z */
#define T0 INT64_C(1795421700000000)
#define SEC INT64_C(1000000)
#define HOUR (3600 * SEC)

extern char dir[64];
extern char path[128]; /* the store file in dir */

/* Make a new directory (dir) for the store file (path). */
void fresh_dir(void);
/* Remove the store file, its WAL and shared memory, and dir. */
void remove_dir(void);
/* Open path, failing the test on error. */
struct store *open_ok(void);
/* Run SQL on path over a connection of its own. */
void raw_exec(const char *sql);
/* The first column of the first row of a query on path. */
int64_t raw_int(const char *sql);
/* Revision revision of a sample incident id (no customers). */
struct bw_incident *make(const char *id, uint32_t revision);
/* Store inc from agent-db1, checking inserted. */
void put(struct store *s, const struct bw_incident *inc, int64_t received_us,
	 bool want_inserted);
struct store_record *get(struct store *s, const char *id);
/* Verify the chain, failing the test unless it holds. */
void verify_ok(struct store *s, int64_t *entries);
/* Revision 1 of bw-0123456789abcdef with every member set. */
struct bw_incident *full_sample(void);
/* Fill path with every kind of audited row: revisions 1 and 2 (c99 added,
 * the step succeeded), a manual step, awareness set, closed, and last a
 * note. */
void populate(void);

#endif
