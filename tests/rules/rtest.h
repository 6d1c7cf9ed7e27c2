/*
 * rtest.h - helpers for the rules engine tests: an engine from strings,
 * events from a few values, matches collected as copies.
 */
#ifndef RTEST_H
#define RTEST_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../rules/rules.h"

/* A site like examples/agent.conf (Europe/Berlin, Mon-Fri 08:00-18:00). */
extern const char *const rtest_site;

#define RT_MAX  512
#define RT_MAXC 64

struct rt_match {
	char rule[64];
	char key[256];
	bool first;
	char cust[RT_MAXC][64];
	size_t n_cust;
	bool unknown;
	char dk[8][32];
	size_t n_dk;
	size_t n_prior;
	char prior_raw[16][128];
	uint64_t count;
	char summary[512];
};

struct rt_log {
	size_t n;
	struct rt_match m[RT_MAX];
};

/* rules_match_fn: appends a copy of m to the struct rt_log arg. */
void rt_collect(const struct rules_match *m, void *arg);

/* An engine with site (may be NULL) and rules, compiled; fails the test
 * on any error. */
struct rules *rt_engine(const char *site, const char *rules_text);
/* When set, engines are built with this cache (rules_set_cache). */
extern const struct rules_cache *rt_cache;

/* Like rt_engine with limits. */
struct rules *rt_engine_lim(const char *site, const char *rules_text,
                            const struct rules_limits *lim);
/* Load, returning -1 and the error text in msg ("file:line: reason")
 * from whichever step failed. */
int rt_try(const char *site, const char *rules_text, char *msg, size_t msgsz);

/* Events. Strings are borrowed: keep them alive while the event is used. */
void rt_http(struct bw_event *ev, int64_t ts_s, const char *ip,
             const char *method, const char *path, int status);
void rt_sql(struct bw_event *ev, int64_t ts_s, const char *user,
            const char *text);
void rt_auth(struct bw_event *ev, int64_t ts_s, const char *ip,
             const char *user, const char *outcome);
void rt_set_ip(struct bw_addr *a, const char *text);

/* UTC seconds of a civil date and time. */
int64_t rt_utc(int y, int mo, int d, int h, int mi);

/* Evaluate ev and return the number of matches added to log. */
size_t rt_eval(struct rules *r, struct bw_event *ev, struct rt_log *log);

/* The index of the first match of rule id in log at or after from, or -1. */
int rt_find(const struct rt_log *log, const char *id, size_t from);

#endif
