/*
 * pipeline.c - the rules engine and the aggregator joined (see pipeline.h).
 */
#include "pipeline.h"

#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/evclock.h"
#include "../common/xmalloc.h"
#include "../rules/rules.h"
#include "contain_action.h"
#include "rcache.h"

/* Ticks of the aggregator happen at most this often in event time. */
#define TICK_US 1000000

struct pipeline {
	struct rules *rules;
	struct rcache *cache; /* NULL: none */
	struct agg *agg;
	int64_t last_tick_us;
	struct bw_evclock clock; /* the events' time (evclock.h) */
};

static void on_match(const struct rules_match *m, void *arg)
{
	struct pipeline *p = arg;

	agg_match(p->agg, m);
}

static int load_dir(struct rules *r, const char *dir, struct bw_error *err)
{
	char *pattern = xasprintf("%s/*.conf", dir);
	glob_t g;
	int rc, ret = 0;

	rc = glob(pattern, 0, NULL, &g);
	free(pattern);
	if (rc == GLOB_NOMATCH)
		return 0; /* an empty rules directory is allowed */
	if (rc != 0)
		return bw_error_set(err, dir, 0, "cannot list rule files");
	for (size_t i = 0; i < g.gl_pathc && ret == 0; i++)
		ret = rules_add_file(r, g.gl_pathv[i], err);
	globfree(&g);
	return ret;
}

int pipeline_load_rules(struct rules *r, const char *const *paths, size_t n,
			bool missing_ok, struct bw_error *err)
{
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		if (stat(paths[i], &st) < 0) {
			if (errno == ENOENT && missing_ok)
				continue;
			return bw_error_set(err, paths[i], 0, "%s",
					    strerror(errno));
		}
		if (S_ISDIR(st.st_mode)) {
			if (load_dir(r, paths[i], err) < 0)
				return -1;
		} else if (rules_add_file(r, paths[i], err) < 0) {
			return -1;
		}
	}
	return 0;
}

static const char *const default_rule_paths[] = {
	"/usr/share/breachwatch/rules",
	"/etc/breachwatch/rules.d",
};

/* A compiled ruleset from the config's site facts and the rule paths. */
static struct rules *build_rules(const struct agentconf *conf,
				 const char *const *rule_paths,
				 size_t n_rule_paths, struct rcache *cache,
				 struct bw_error *err)
{
	struct rules *r = rules_new();
	struct rules_cache rc;
	bool defaults = false;

	if (cache != NULL) {
		rcache_bind(cache, &rc);
		rules_set_cache(r, &rc);
	}
	if (n_rule_paths == 0 && conf->n_rules > 0) {
		rule_paths = conf->rules;
		n_rule_paths = conf->n_rules;
	} else if (n_rule_paths == 0) {
		/* The shipped rules and the site's: either may be absent. */
		rule_paths = default_rule_paths;
		n_rule_paths = 2;
		defaults = true;
	}
	if ((conf->site != NULL && rules_load_site(r, conf->site, err) < 0) ||
	    pipeline_load_rules(r, rule_paths, n_rule_paths, defaults, err) < 0 ||
	    contain_actions_check_rules(conf->actions, r, err) < 0 ||
	    rules_compile(r, err) < 0) {
		rules_destroy(&r);
		return NULL;
	}
	return r;
}

struct pipeline *pipeline_new(const struct agentconf *conf,
			      const char *const *rule_paths,
			      size_t n_rule_paths, agg_emit_fn emit, void *arg,
			      struct bw_error *err)
{
	struct pipeline *p = xcalloc(1, sizeof(*p));
	struct bw_error cerr;

	if (conf->rules_cache) {
		char *dir = xasprintf("%s/rules-cache", conf->state_dir);

		p->cache = rcache_open(dir, &cerr); /* NULL: compile each time */
		free(dir);
	}
	p->rules = build_rules(conf, rule_paths, n_rule_paths, p->cache, err);
	if (p->rules == NULL) {
		rcache_destroy(&p->cache);
		free(p);
		return NULL;
	}
	p->agg = agg_new(&conf->agg, emit, arg);
	return p;
}

int pipeline_reload(struct pipeline *p, const struct agentconf *conf,
		    const char *const *rule_paths, size_t n_rule_paths,
		    struct bw_error *err)
{
	struct rules *r =
	    build_rules(conf, rule_paths, n_rule_paths, p->cache, err);

	if (r == NULL)
		return -1;
	rules_destroy(&p->rules);
	p->rules = r;
	return 0;
}

void pipeline_destroy(struct pipeline **pp)
{
	struct pipeline *p = *pp;

	if (p == NULL)
		return;
	agg_destroy(&p->agg);
	rules_destroy(&p->rules);
	rcache_destroy(&p->cache);
	free(p);
	*pp = NULL;
}

void pipeline_tick(struct pipeline *p, int64_t now_us)
{
	if (now_us - p->last_tick_us < TICK_US)
		return;
	p->last_tick_us = now_us;
	rules_expire(p->rules, now_us);
	agg_tick(p->agg, now_us);
}

void pipeline_event(struct pipeline *p, const struct bw_event *ev)
{
	pipeline_tick(p, bw_evclock_feed(&p->clock, ev->ts_us));
	rules_eval(p->rules, ev, on_match, p);
}

void pipeline_flush(struct pipeline *p)
{
	agg_flush(p->agg);
}

struct agg *pipeline_agg(struct pipeline *p)
{
	return p->agg;
}

int64_t pipeline_clock(const struct pipeline *p, uint64_t *held)
{
	if (held != NULL)
		*held = p->clock.held;
	return p->clock.now_us;
}

size_t pipeline_rule_count(const struct pipeline *p)
{
	return rules_count(p->rules);
}

void pipeline_stats(const struct pipeline *p, struct rules_stats *rs,
		    struct agg_stats *as)
{
	rules_get_stats(p->rules, rs);
	agg_get_stats(p->agg, as);
}
