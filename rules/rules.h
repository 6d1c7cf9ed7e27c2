/*
 * rules.h - the detection engine: a pure library.
 *
 * It parses rule files and the site facts (libconfig), compiles them, and
 * evaluates events against every rule, keeping sliding windows and sequence
 * state per aggregation key on event time. It does no I/O beyond reading the
 * rule files it is given, never logs, never exits: errors fill a
 * struct bw_error with file, line and reason.
 *
 * The language is documented in docs/rules.md.
 *
 * Life cycle:
 *   r = rules_new();
 *   rules_load_site(r, site_setting, &err);      (optional; once)
 *   rules_add_file(r, "rules/sets/esp.conf", &err);  (once per file)
 *   rules_compile(r, &err);
 *   for each event: rules_eval(r, &ev, on_match, arg);
 *   rules_destroy(&r);
 * A bad file leaves r unusable for compile (the agent refuses to start, or a
 * reload keeps its old struct rules).
 */
#ifndef BW_RULES_H
#define BW_RULES_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/event.h"
#include "../common/incident.h"

struct rules;

/* What the engine knows of a rule, for whoever builds incidents. */
struct rule_info {
	const char *id;
	const char *title;
	const char *category;
	const char *summary; /* a sentence for people; may hold ${field} */
	enum bw_severity severity;
	bool notify_customers;
	bool credentials; /* the breach is of the customers' own credentials */
	const char *const *actions; /* containment action ids */
	size_t n_actions;
	const char *file; /* where it was defined */
	int line;
};

/* One piece of earlier evidence that led to a match, held by the engine in
 * its window state (copies, valid during the callback only). */
struct rules_evidence {
	int64_t ts_us;
	enum bw_source source;
	const char *ref_file;
	uint64_t ref_number; /* line or packet number */
	const char *raw;
};

/*
 * A match handed to the callback. Everything is borrowed and valid only
 * during the callback.
 *
 * For a `single` rule, every matching event is a match with first = true.
 * For `threshold` and `sequence`, the match that crosses the threshold (or
 * completes the sequence) has first = true and carries, in customers,
 * data_kinds and prior, everything the window gathered for this key; later
 * matching events for the same key (while its state lives) are matches with
 * first = false carrying what that one event adds.
 */
struct rules_match {
	const struct rule_info *rule;
	const char *key; /* aggregation key value, "" for single rules */
	const struct bw_event *ev; /* the event that matched now */
	bool first;
	const char *const *customers; /* affected customer ids */
	size_t n_customers;
	bool affected_unknown; /* customer data touched (a data_kind, or
				  any event of a rule that says
				  `affected_unknown = true;`), ids not
				  (all) known */
	const char *const *data_kinds;
	size_t n_data_kinds;
	const struct rules_evidence *prior; /* oldest first, bounded */
	size_t n_prior;
	uint64_t event_count; /* events this match stands for: for a first
				 match, the matching events gathered for
				 its key since the key's state began (at
				 least min for a count threshold); 1
				 otherwise */
	const char *summary; /* the rule's summary with ${...} filled from this
				match's event and captures; NULL when the rule
				has no summary */
};

typedef void (*rules_match_fn)(const struct rules_match *m, void *arg);

struct rules_stats {
	uint64_t events;        /* events evaluated */
	uint64_t candidates;    /* (event, rule) pairs past the prefilter */
	uint64_t regex_runs;    /* PCRE2 matches run */
	uint64_t matches;       /* matches handed to the callback */
	uint64_t keys;          /* window keys alive now */
	uint64_t evictions;     /* window keys evicted at the bound */
	uint64_t regex_errors;  /* PCRE2 runs that failed (match limit...) */
	uint64_t regex_prefilter; /* patterns Hyperscan takes only as a
				     prefilter (PCRE2 confirms each hit) */
	uint64_t regex_pcre_only; /* patterns Hyperscan cannot take: PCRE2
				     alone runs them */
	uint64_t bound_drops;   /* distinct values or customer ids dropped at
				   max_distinct_per_key / max_customers_per_key */
	uint64_t db_compiled;   /* Hyperscan databases compiled */
	uint64_t db_cached;     /* ...and loaded from the cache instead */
};

/* Limits; rules_set_limits may change them before compile (a 0 keeps the
 * default; later calls are ignored). */
struct rules_limits {
	size_t max_keys_per_rule;   /* default 100000 */
	size_t max_distinct_per_key; /* default 10000 */
	size_t max_prior;           /* evidence kept per key, default 8 */
	size_t max_customers_per_key; /* default 10000 */
};

/* Caller owns the result; free with rules_destroy(). */
struct rules *rules_new(void);
void rules_destroy(struct rules **r);
void rules_set_limits(struct rules *r, const struct rules_limits *lim);

/* Load the site facts from the agent config's `site` group (trusted
 * networks, named sets, business hours and time zone, customer data
 * locations). Returns -1 with err at file:line. */
int rules_load_site(struct rules *r, const config_setting_t *site,
		    struct bw_error *err) BW_WUR;

/* Parse one rule file and add its rules. Returns -1 with err = file:line:
 * reason on any error (the whole file is refused). */
int rules_add_file(struct rules *r, const char *path,
		   struct bw_error *err) BW_WUR;

/* Same, from text in memory (for tests); name is used in errors. */
int rules_add_string(struct rules *r, const char *name, const char *text,
		     struct bw_error *err) BW_WUR;

/* Resolve @set references, compile regular expressions and the prefilter,
 * index rules by event kind. Must be called once before rules_eval.
 * Returns -1 with err on an unknown set, a bad regex, duplicate ids... */
int rules_compile(struct rules *r, struct bw_error *err) BW_WUR;

/* Number of rules loaded, and the i-th rule's info. */
size_t rules_count(const struct rules *r);
const struct rule_info *rules_info(const struct rules *r, size_t i);

/* Evaluate one event against every rule; calls cb for each match (an event
 * may match several rules). Also expires window state older than the
 * event's time. Returns the number of matches. */
size_t rules_eval(struct rules *r, const struct bw_event *ev,
		  rules_match_fn cb, void *arg);

/*
 * A store for compiled Hyperscan databases, supplied by the caller: the
 * library does no I/O of its own. Compiling the databases is most of the
 * start-up (and of a reload); a cached one is loaded instead when the
 * same patterns with the same flags were compiled before by the same
 * Hyperscan on the same CPU (all of that is in the key).
 *
 * get returns a heap buffer of *len bytes the library frees, or NULL when
 * there is none; a buffer Hyperscan refuses is ignored (and compiled
 * again). put is handed the serialized database, borrowed for the call.
 * Neither may fail loudly: a cache that does not work only costs time.
 */
#define RULES_CACHE_KEY 32
struct rules_cache {
	void *(*get)(void *arg, const unsigned char key[RULES_CACHE_KEY],
		     size_t *len);
	void (*put)(void *arg, const unsigned char key[RULES_CACHE_KEY],
		    const void *blob, size_t len);
	void *arg;
};

/* Use cache (copied; NULL: none) for the databases compiled from now on:
 * call it before rules_load_site and rules_compile. */
void rules_set_cache(struct rules *r, const struct rules_cache *cache);

/* For tests and benchmarks: with enabled = false, every regex runs in
 * PCRE2 without the Hyperscan prefilter (the slow path). Matches must be
 * the same either way. Default: enabled. */
void rules_set_prefilter(struct rules *r, bool enabled);

/* Expire window state as of event time now_us (for idle periods). */
void rules_expire(struct rules *r, int64_t now_us);

void rules_get_stats(const struct rules *r, struct rules_stats *out);

#endif
