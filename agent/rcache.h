/*
 * rcache.h - a directory of compiled rule databases: the agent's store for
 * the rules library's cache (rules.h, struct rules_cache).
 *
 * Compiling the Hyperscan databases is most of the agent's start-up and of
 * a reload (about 0.1 s for the default ruleset). The compiled databases
 * are kept in <state_dir>/rules-cache, one file per database, named by the
 * key the rules library computes (it covers the patterns, their flags,
 * Hyperscan's version and the CPU). A file holds a magic, a BLAKE2b hash
 * of the database and the database; one whose hash does not match (a torn
 * or edited file) is removed and the database compiled again. Files are
 * written atomically (common/file.h). At most RCACHE_MAX_FILES are kept:
 * a hit refreshes a file's time, and the least recently used go first.
 *
 * The cache never fails loudly: a directory that cannot be written only
 * costs the compile time, and is counted (rcache_get_stats).
 */
#ifndef BW_AGENT_RCACHE_H
#define BW_AGENT_RCACHE_H

#include <stdint.h>

#include "../common/error.h"
#include "../rules/rules.h"

#define RCACHE_MAX_FILES 32
#define RCACHE_MAX_BYTES (256u << 20) /* one database file */

struct rcache_stats {
	uint64_t hits, misses;
	uint64_t refused;       /* files removed: bad magic, size or hash */
	uint64_t written;
	uint64_t write_errors;  /* the last one in rcache_last_error */
	uint64_t pruned;        /* files removed past RCACHE_MAX_FILES */
};

struct rcache;

/* Use dir (created, mode 0750, when its parent exists). Returns NULL with
 * err when it cannot be had. Caller owns the result. */
struct rcache *rcache_open(const char *dir, struct bw_error *err) BW_WUR;
/* Accepts NULL; nulls the caller's pointer. */
void rcache_destroy(struct rcache **c);

/* Fill out with the callbacks that read and write c (borrowed: c must
 * outlive the rules compiled with it). */
void rcache_bind(struct rcache *c, struct rules_cache *out);

void rcache_get_stats(const struct rcache *c, struct rcache_stats *out);
/* The last write error ("" when none), owned by c. */
const char *rcache_last_error(const struct rcache *c);

#endif
