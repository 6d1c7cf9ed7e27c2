/*
 * engine.h - the rules engine's private structures, shared by its files:
 *
 *   rules.c     life cycle, the evaluation loop, matches handed out
 *   parse.c     libconfig rule files -> struct rule (file:line errors)
 *   compile.c   sets resolved, conditions ordered, prefilter built, index
 *   cond.c      field values and conditions
 *   regex.c     PCRE2 patterns (JIT, one match-data each)
 *   prefilter.c Hyperscan databases, one per (kind, field)
 *   site.c      site facts, business hours, derived fields
 *   sqlscan.c   customer tables and ids in SQL text
 *   window.c    threshold and sequence state per key
 *   pool.c      blocks of one size kept for reuse (window state)
 *   template.c  summaries with ${...}
 *   strset.c    string sets (named sets, customers gathered per key)
 *
 * Nothing here is part of the public interface (rules.h).
 */
#ifndef RULES_ENGINE_H
#define RULES_ENGINE_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs.h>
#include <pcre2.h>

#include "../common/bwtime.h"
#include "../common/cidr.h"
#include "../common/evclock.h"
#include "rules.h"
#include "strset.h"

#define RULES_MAX_CAPS         32     /* named captures per rule */
#define RULES_MAX_STEPS        16     /* steps of a sequence */
#define RULES_MAX_CONDS        64     /* conditions per list */
#define RULES_MAX_KEYS         8      /* fields joined in a key */
#define RULES_MAX_CUSTF        8      /* fields in `customers` */
#define RULES_MAX_DATA_KINDS   32     /* data kinds a site declares */
#define RULES_MAX_EV_CUSTOMERS 1024   /* customer ids one event names */
#define RULES_MAX_KEY_LEN      1024   /* an aggregation key, bytes */
#define RULES_MAX_SUMMARY      2048   /* a rendered summary, bytes */
#define RULES_MAX_RAW          1024   /* raw line kept per evidence item */
#define RULES_MAX_VALUE        256    /* one customer id or value, bytes */
#define RULES_MAX_TEXT         4096   /* a literal in a rule, bytes */
#define RULES_NO_SLOT          0xffff /* a capture that is not kept */

/* Where a field's value comes from. */
enum fkind {
	FK_NONE = 0,
	FK_EVENT,              /* id is an enum bw_field */
	FK_CUSTOMER,           /* derived, multi-valued */
	FK_DATA_KIND,          /* derived, multi-valued */
	FK_PRINCIPAL_CUSTOMER, /* derived */
	FK_CAPTURE,            /* id is the rule's capture slot */
	FK_KEY,                /* templates only */
	FK_COUNT,              /* templates only */
};

/* The type of a field's values. */
enum vtype { VT_STR, VT_ADDR, VT_INT, VT_ENUM, VT_MULTI };

struct fref {
	uint8_t fk; /* enum fkind */
	uint8_t vt; /* enum vtype */
	uint16_t id;
};

/* A PCRE2 pattern, owned by the engine (struct rules.rx or the site). */
enum hs_mode { HSM_UNKNOWN, HSM_NONE, HSM_EXACT, HSM_PREFILTER };

struct regex {
	char *pattern;
	bool nocase;
	pcre2_code *code;
	pcre2_match_data *md; /* kept: no allocation per match */
	bool jit;
	struct rx_name {
		uint16_t group; /* PCRE2 group number */
		uint16_t slot;  /* capture slot of the rule */
		char *name;
	} names[RULES_MAX_CAPS];
	size_t n_names;
	bool captures_used; /* some capture is read: PCRE2 must run */
	enum hs_mode hs;    /* how Hyperscan takes it */
	bool hs_dropped;    /* HSM_NONE because a database holding it was
	                       refused as a whole, not by itself */
	uint64_t hit_gen;   /* Hyperscan matched in this event generation */
};

/* One Hyperscan database over the patterns of one (kind, field). */
struct pfdb {
	hs_database_t *db;
	struct regex **pats; /* borrowed; Hyperscan id = index */
	size_t n, cap;
	uint64_t gen; /* last event generation scanned */
	bool failed;  /* that scan failed: PCRE2 decides */
};

/* Conditions. */
enum op {
	OP_REGEX,
	OP_EQUALS,
	OP_PREFIX,
	OP_CONTAINS,
	OP_IN,
	OP_CIDR,
	OP_GT,
	OP_GE,
	OP_LT,
	OP_LE,
	OP_CLASS,
	OP_EXISTS,
	OP_SAME_AS,
	OP_BH, /* business_hours */
};

/* Conditions run cheapest first: literal tests on event fields, then
 * derived fields, then regexes (Hyperscan first, PCRE2 last), then
 * whatever reads a capture. */
enum stage { ST_CHEAP, ST_DERIVED, ST_REGEX, ST_CAPTURE };

struct cond {
	uint8_t op;    /* enum op */
	uint8_t stage; /* enum stage */
	bool negate;
	bool nocase;
	bool flag; /* exists, business_hours */
	struct fref f, other;
	char **texts; /* string operands as written (lowercased if nocase) */
	uint32_t *tlens;
	size_t n_texts;
	int64_t *ints; /* integer operands, or enum values */
	size_t n_ints;
	struct bw_addr *addrs; /* equals on an address field */
	size_t n_addrs;
	struct strset *set;       /* in / long equals lists: built at compile */
	struct bw_cidr_set *cidr; /* in / cidr on addresses: built at compile */
	uint8_t class_mask;       /* bit n: status nxx */
	struct regex *re;         /* borrowed from struct rules.rx */
	uint32_t memo;            /* 1 + index of its result cache, 0: none */
	const char *file;         /* interned */
	int line;
};

struct condlist {
	struct cond *v;
	size_t n;
};

struct step {
	char *name;
	struct condlist match, unless;
	uint32_t kinds; /* bit per enum bw_kind */
	uint64_t min;
	int line;
};

enum tmpl_kind { TP_TEXT, TP_FIELD };

struct tmpl_part {
	uint8_t kind;
	struct fref f;
	char *text;
	size_t len;
};

struct tmpl {
	struct tmpl_part *parts;
	size_t n;
};

enum agg_type { AGG_SINGLE, AGG_THRESHOLD, AGG_SEQUENCE };
enum thr_mode { THR_COUNT, THR_DISTINCT, THR_SUM };

struct window;

struct rule {
	struct rule_info info; /* strings owned */
	char **actions;
	uint32_t kinds;   /* bit per enum bw_kind */
	uint32_t sources; /* bit per enum bw_source; 0 = any */
	struct condlist match, unless;
	enum agg_type agg;
	enum thr_mode mode;
	struct fref keys[RULES_MAX_KEYS];
	size_t n_keys;
	struct fref distinct, sum;
	int64_t window_us; /* threshold window, or sequence `within` */
	uint64_t min;
	struct step *steps;
	size_t n_steps;
	struct fref custf[RULES_MAX_CUSTF];
	size_t n_custf;
	bool affected_unknown; /* `affected_unknown = true;`: a match whose
	                          customers are not all known says so even
	                          without a data_kind */
	char *caps[RULES_MAX_CAPS]; /* capture names by slot */
	size_t n_caps;
	struct tmpl summary;
	struct window *win; /* NULL for single rules */
	uint32_t keyspec;   /* 1 + index of the key cache shared with the
	                       rules keyed alike, 0: none (a capture in the
	                       key) */
};

/* Site facts (rules_load_site). */
struct site_set {
	char *name;
	char **items;
	size_t n;
	bool networks;
};

struct site_http {
	struct regex *re;
	int dk;          /* data kind index */
	int cust_grp;    /* PCRE2 group of `customer`, 0 if none */
	char prefix[64]; /* literal every match starts with */
	uint8_t plen;
};

struct site_sql {
	char *table;  /* lowercased */
	char *column; /* lowercased, NULL = none declared */
	int dk;
};

struct site {
	bool loaded;
	struct bw_tz *tz;
	bool has_bh;
	uint8_t bh_days;      /* bit per weekday, 0 = Sunday */
	int bh_start, bh_end; /* minutes of the day, [start, end) */
	struct site_set trusted;
	struct site_set *sets;
	size_t n_sets;
	struct site_http *http;
	size_t n_http;
	struct pfdb http_db;
	struct site_sql *sql;
	size_t n_sql;
	struct regex *pc_re;
	int pc_grp;
	char *dk_names[RULES_MAX_DATA_KINDS];
	size_t n_dk;
};

/* Per-event evaluation state, reused for every event. */
struct ectx {
	const struct bw_event *ev;
	uint64_t gen;
	bool derived_done, pc_done, bh_done, bh;
	struct bw_str cust[RULES_MAX_EV_CUSTOMERS];
	size_t n_cust;
	uint32_t dkinds;
	bool unknown; /* customer data touched, some ids not known */
	struct bw_str pc;
	char *arena; /* derived values that are not views of the event */
	size_t arena_len, arena_cap;
	struct bw_str caps[RULES_MAX_CAPS];
};

/* What one matching event brings to a match (NUL-terminated copies). */
struct evinfo {
	const char *const *cust;
	size_t n_cust;
	uint32_t dkinds;
	bool unknown;
};

/* The aggregation key of a rule for the current event. */
struct aggkey {
	const char *p; /* NUL-terminated, no NUL inside */
	size_t len;
	uint64_t hash; /* strset_hash of the bytes */
};

/* What a window gathered for a first match. */
struct gathered {
	const char *const *cust;
	size_t n_cust;
	uint32_t dkinds;
	bool unknown;
	const struct rules_evidence *prior;
	size_t n_prior;
	uint64_t count;
};

struct rules {
	struct rules_limits lim;
	struct rules_stats st;
	struct site site;
	struct rule **rules;
	size_t n_rules, cap_rules;
	struct regex **rx; /* every rule regex, owned */
	size_t n_rx, cap_rx;
	struct strset files; /* interned file names */
	const char *intern_ptr, *intern_val;
	bool failed, compiled, prefilter_on;
	struct pfdb *pf[BW_KIND__COUNT][BW_F__COUNT];
	hs_scratch_t *scratch;
	struct rules_cache cache; /* get NULL: none */
	struct rule **by_kind[BW_KIND__COUNT];
	size_t n_by_kind[BW_KIND__COUNT];
	int64_t last_sweep_us;
	struct bw_evclock clock; /* the events' time, for sweeps */
	struct memo {
		uint64_t gen; /* event generation of val */
		bool val;     /* the condition's truth before `not` */
	} * memo;             /* one per distinct condition over all rules */
	size_t n_memo;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	struct ectx x;
	/* Keys built this event, one per key spec that reads no capture. */
	struct keymemo {
		uint64_t gen; /* event generation of k */
		bool absent;  /* every key field is absent */
		struct aggkey k;
		char text[RULES_MAX_KEY_LEN + 1];
	} * keymemo;
	size_t n_keymemo;
	/* Scratch for matches. */
	char keybuf[RULES_MAX_KEY_LEN + 1];
	char sumbuf[RULES_MAX_SUMMARY + 1];
	struct bw_str *vals; /* RULES_MAX_EV_CUSTOMERS */
	const char **mcust;
	size_t cap_mcust;
	char *mtext;
	size_t mtext_cap;
	const char *mdk[RULES_MAX_DATA_KINDS];
	struct rules_evidence *mprior;
	size_t cap_mprior;
};

/* rules.c */
/* A copy of s kept for the engine's life (file names); never NULL. */
const char *rules_intern(struct rules *r, const char *s);
/* What the current event brings to a match of ru: its customers (copies in
 * the engine's scratch, valid until the next call), data kinds, unknown
 * (it touched customer data, by a data_kind or because ru says
 * affected_unknown, and its customers are not all known). */
void rules_event_info(struct rules *r, const struct rule *ru,
                      struct evinfo *out);
/* Build a match and hand it to cb: from g (a first match of a window) or,
 * when g is NULL, from this event alone. Counts it. */
void rules_emit(struct rules *r, const struct rule *ru, const char *key,
                bool first, const struct evinfo *evi, const struct gathered *g,
                rules_match_fn cb, void *arg);
/* Free what a rule owns (not the struct itself). */
void rules_free_rule(struct rule *ru);

/* regex.c */
/* Compile a pattern (byte mode, JIT when possible, named groups listed).
 * Returns NULL with msg = "bad regex ... at offset N: reason". Caller owns
 * the result; free with regex_free (which nulls the pointer). */
struct regex *regex_new(const char *pattern, bool nocase, char *msg,
                        size_t msgsz) BW_WUR;
void regex_free(struct regex **re);
/* 1 match, 0 none, -1 error (counted). Groups readable until the next run
 * of the same regex. */
int regex_run(struct rules *r, struct regex *re, const char *p, size_t len);
/* Group g of the last successful run; false if unset. */
bool regex_group(const struct regex *re, const char *subject, uint32_t g,
                 struct bw_str *out);
/* The group number of a named capture, 0 if the pattern has none. */
int regex_group_by_name(const struct regex *re, const char *name);
/* The match context (limits, JIT stack) shared by every run. */
void regex_setup(struct rules *r);
void regex_teardown(struct rules *r);

/* prefilter.c */
/* Add re to a database (once; not if Hyperscan cannot take it). A regex
 * not classified yet is added on trial: pfdb_compile classifies it. */
void pfdb_add(struct pfdb *db, struct regex *re);
/* Classify the patterns of the database not classified yet, compile it and
 * grow the shared scratch to fit it. Returns -1 with err only if the
 * scratch cannot be had; a database Hyperscan refuses as a whole leaves its
 * patterns to PCRE2. */
int pfdb_compile(struct pfdb *db, struct rules *r,
                 struct bw_error *err) BW_WUR;
void pfdb_free(struct pfdb *db);
/* Scan p once per event generation; marks regex->hit_gen. */
void pfdb_scan(struct pfdb *db, hs_scratch_t *scratch, const char *p,
               size_t len, uint64_t gen);
/* Decide how Hyperscan takes re (exact, prefilter, not at all), compiling
 * it alone; nothing to do if it is classified already. */
void prefilter_classify(struct regex *re);

/* cond.c */
/* Evaluate a list in two phases: cond_pre runs what needs no PCRE2
 * (Hyperscan answers regexes where it can) and sets bit i of *maybe for
 * each regex left to PCRE2; cond_post runs those and the capture stage. */
bool cond_pre(struct rules *r, const struct condlist *cl, uint64_t *maybe);
bool cond_post(struct rules *r, const struct condlist *cl, uint64_t maybe);
/* Whether any condition of the list holds (for unless). */
bool cond_any(struct rules *r, const struct condlist *cl);
/* Text values of a field (several for multi-valued ones). Non-text values
 * are rendered into tb. Returns the number of values (0: absent). */
size_t cond_values(struct rules *r, const struct fref *f, struct bw_str *out,
                   size_t max, char *tb, size_t tbsz);
/* An integer (or kind/source) event field; false when it has no value. */
bool cond_int(struct rules *r, const struct fref *f, int64_t *out);
/* Make sure the derived fields of the current event are computed. */
void cond_derived(struct rules *r);

/* site.c */
void site_free(struct site *s);
/* customer, data_kind and the scope flag of the current event (once). */
void site_enrich(struct rules *r);
/* principal_customer of the current event (once). */
void site_principal_customer(struct rules *r);
/* Whether the current event is within business hours (once). */
bool site_business_hours(struct rules *r);
/* A named set ("trusted" for trusted_networks), or NULL. */
const struct site_set *site_find_set(const struct site *s, const char *name);

/* window.c */
/* An empty key table for a rule with this window (or sequence `within`);
 * caller owns it (window_destroy). */
struct window *window_new(size_t max_prior, int64_t window_us);
void window_destroy(struct window **w);
size_t window_keys(const struct window *w);
/* Blocks the window ever allocated for key state and evidence copies (for
 * tests: blocks given back are reused before new ones are made). */
size_t window_blocks_made(const struct window *w);
/* One matching event of a threshold rule for key: count it, and emit the
 * first match when it crosses, or a later match once it has. */
void window_threshold(struct rules *r, struct rule *ru,
                      const struct aggkey *key, const struct evinfo *evi,
                      rules_match_fn cb, void *arg);
/* Step `step` matched for key; at most one advance per key per event.
 * The event's customers are looked at only if the step counts. */
void window_sequence(struct rules *r, struct rule *ru, size_t step,
                     const struct aggkey *key, rules_match_fn cb, void *arg);
/* Drop the keys of ru idle for longer than its window at now_us. */
void window_expire(struct rules *r, struct rule *ru, int64_t now_us);

/* template.c */
/* Parse text into t; resolve maps a ${name} to a field. Returns -1 with
 * msg for an unknown name or an unclosed ${. */
int tmpl_parse(struct tmpl *t, const char *text,
               bool (*resolve)(void *ctx, const char *name, struct fref *f),
               void *ctx, char *msg, size_t msgsz) BW_WUR;
void tmpl_free(struct tmpl *t);
/* Render into the engine's buffer (valid until the next render); NULL for
 * an empty template. */
const char *tmpl_render(struct rules *r, const struct tmpl *t, const char *key,
                        uint64_t count);

/* compile.c */
/* rules_compile: see rules.h. */
int compile_rules(struct rules *r, struct bw_error *err) BW_WUR;

#endif
