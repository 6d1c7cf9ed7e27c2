/*
 * main.c - breachwatch-agent: follow logs, find unauthorised access to
 * customer data, report incidents.
 *
 * Modes:
 *   breachwatch-agent --replay [--config FILE] [--rules PATH]... [--contain]
 *                     INPUT...
 *   breachwatch-agent --check-config FILE [--rules PATH]...
 *   breachwatch-agent [--config FILE]               (live: follow inputs)
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/xmalloc.h"
#include "config.h"
#include "contain.h"
#include "live.h"
#include "output.h"
#include "pipeline.h"
#include "replay.h"

#define DEFAULT_CONFIG "/etc/breachwatch/agent.conf"
#define MAX_RULE_PATHS 64

enum mode { MODE_LIVE, MODE_REPLAY, MODE_CHECK };

struct options {
	enum mode mode;
	const char *config;
	const char *rule_paths[MAX_RULE_PATHS];
	size_t n_rule_paths;
	bool revisions;
	bool contain; /* replay: run containment actions */
	const char *state_dir; /* replay: overrides agent.state_dir */
	enum output_format format;
	bool verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: breachwatch-agent [--config FILE] [--rules PATH]...\n"
		"       breachwatch-agent --replay [--config FILE] [--rules PATH]...\n"
		"                         [--revisions] [--format json|text]\n"
		"                         [--state-dir DIR] [--contain] INPUT...\n"
		"       breachwatch-agent --check-config FILE [--rules PATH]...\n"
		"\n"
		"Detects unauthorised access to customer data in access logs and\n"
		"network traffic (live captures, or recorded pcap/pcapng files)\n"
		"and reports each incident with the customers it touched. Following\n"
		"the configured inputs, it runs the containment actions a rule\n"
		"names (the config's actions) and records them in the incident.\n"
		"\n"
		"  -c, --config FILE    agent configuration (default " DEFAULT_CONFIG ")\n"
		"  -r, --rules PATH     rule file or directory of *.conf files; repeatable;\n"
		"                       replaces the config's agent.rules\n"
		"      --replay         read recorded INPUTs instead of following the\n"
		"                       configured inputs, merged in event-time order\n"
		"                       INPUT is TYPE:PATH with TYPE nginx, apache, json,\n"
		"                       sshd, postgres or pcap (a recorded capture);\n"
		"                       options come from the config's first input of\n"
		"                       that type\n"
		"      --revisions      print every incident revision, not only the final one\n"
		"      --contain        with --replay: run the rules' containment actions too\n"
		"                       (by default a replay runs none: old logs must not\n"
		"                       block addresses today) and wait for them to end\n"
		"                       (each is bounded by its timeout) before exiting\n"
		"      --format FMT     json (one incident per line, the default) or text\n"
		"      --state-dir DIR  with --replay: keep the compiled rules cache in\n"
		"                       DIR/rules-cache instead of the config's state_dir\n"
		"      --check-config FILE\n"
		"                       load the config and its rules, report the first\n"
		"                       error as file:line: reason, and exit\n"
		"  -v, --verbose        more log output\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit status: 0 success, 1 runtime error, 2 bad usage or configuration.\n"
		"See docs/configuration.md, docs/rules.md and docs/capture.md.\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_REPLAY = 256, OPT_REVISIONS, OPT_FORMAT, OPT_CHECK,
	       OPT_STATE_DIR, OPT_CONTAIN };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "rules", required_argument, NULL, 'r' },
		{ "replay", no_argument, NULL, OPT_REPLAY },
		{ "revisions", no_argument, NULL, OPT_REVISIONS },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "check-config", required_argument, NULL, OPT_CHECK },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "contain", no_argument, NULL, OPT_CONTAIN },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:r:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'r':
			if (o->n_rule_paths == MAX_RULE_PATHS)
				fatalx("too many --rules (at most %d)",
				       MAX_RULE_PATHS);
			o->rule_paths[o->n_rule_paths++] = optarg;
			break;
		case OPT_REPLAY:
			o->mode = MODE_REPLAY;
			break;
		case OPT_REVISIONS:
			o->revisions = true;
			break;
		case OPT_FORMAT:
			if (output_format_parse(optarg, &o->format) < 0) {
				log_warnx("--format: \"%s\" is not json or text",
					  optarg);
				exit(2);
			}
			break;
		case OPT_STATE_DIR:
			o->state_dir = optarg;
			break;
		case OPT_CONTAIN:
			o->contain = true;
			break;
		case OPT_CHECK:
			o->mode = MODE_CHECK;
			o->config = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
}

struct printer {
	bool revisions;
	enum output_format format;
	uint64_t printed;
};

/* Every revision, or only the last one of each incident (the one that
 * closes it: the aggregator closes every incident exactly once). */
static void on_revision(const struct bw_incident *inc, void *arg)
{
	struct printer *pr = arg;

	if (!pr->revisions && !inc->closed)
		return;
	output_incident(stdout, inc, pr->format);
	pr->printed++;
}

static struct agentconf *load_config(const char *path)
{
	struct agentconf *conf;
	struct bw_error err;
	char msg[1024];

	conf = agentconf_load(path, &err);
	if (conf == NULL) {
		log_warnx("%s", bw_error_str(&err, msg, sizeof(msg)));
		exit(2);
	}
	return conf;
}

static struct pipeline *load_pipeline(const struct agentconf *conf,
				      const struct options *o,
				      agg_emit_fn emit, void *arg)
{
	struct pipeline *p;
	struct bw_error err;
	char msg[1024];

	p = pipeline_new(conf, o->rule_paths, o->n_rule_paths, emit, arg, &err);
	if (p == NULL) {
		log_warnx("%s", bw_error_str(&err, msg, sizeof(msg)));
		exit(2);
	}
	return p;
}

static void print_summary(const struct pipeline *p,
			  const struct replay_input *in, size_t n,
			  uint64_t printed)
{
	struct rules_stats rs;
	struct agg_stats as;
	uint64_t held;

	for (size_t i = 0; i < n; i++)
		log_info("%s:%s: %llu lines, %llu events, %llu ignored, "
			 "%llu rejected, %llu cut",
			 in[i].type, in[i].path,
			 (unsigned long long)in[i].counts.lines,
			 (unsigned long long)in[i].counts.events,
			 (unsigned long long)in[i].counts.ignored,
			 (unsigned long long)in[i].counts.rejected,
			 (unsigned long long)in[i].counts.truncated);
	pipeline_stats(p, &rs, &as);
	log_info("%zu rules, %llu events evaluated, %llu matches, "
		 "%llu incidents, %llu revisions, %llu window keys evicted",
		 pipeline_rule_count(p), (unsigned long long)rs.events,
		 (unsigned long long)rs.matches, (unsigned long long)as.opened,
		 (unsigned long long)as.revisions,
		 (unsigned long long)rs.evictions);
	pipeline_clock(p, &held);
	if (held > 0)
		log_warnx("%llu %s stamped more than an hour ahead of the "
			  "others; the clock did not follow",
			  (unsigned long long)held,
			  held == 1 ? "event was" : "events were");
	log_debug("Hyperscan databases: %llu compiled, %llu from the rules "
		  "cache", (unsigned long long)rs.db_compiled,
		  (unsigned long long)rs.db_cached);
	(void)printed;
}

/* Let containment runs move on while the replay reads. */
static void service_contain(void *arg)
{
	struct contain *c = arg;

	if (contain_busy(c) && contain_poll(c, 0) < 0)
		log_warn("containment: poll");
}

static void contain_summary(const struct contain *c)
{
	struct contain_stats cs;

	contain_get_stats(c, &cs);
	log_info("containment: %llu started, %llu ok, %llu failed, "
		 "%llu timed out, %llu refused, %llu skipped, %llu cancelled",
		 (unsigned long long)cs.started, (unsigned long long)cs.ok,
		 (unsigned long long)cs.failed, (unsigned long long)cs.timeout,
		 (unsigned long long)cs.refused, (unsigned long long)cs.skipped,
		 (unsigned long long)cs.cancelled);
}

static int run_replay(const struct options *o, int argc, char **argv)
{
	struct printer pr = { .revisions = o->revisions, .format = o->format };
	struct replay_input *inputs;
	struct agentconf *conf;
	struct pipeline *p;
	struct contain *c = NULL;
	struct bw_error err;
	char msg[1024];
	size_t n = (size_t)argc;
	int rc;

	if (n == 0) {
		log_warnx("--replay needs at least one INPUT (TYPE:PATH)");
		return 2;
	}
	inputs = xcalloc(n, sizeof(*inputs));
	for (size_t i = 0; i < n; i++)
		if (replay_parse_input(argv[i], &inputs[i]) < 0) {
			log_warnx("%s: an INPUT is TYPE:PATH with TYPE one of "
				  "nginx, apache, json, sshd, postgres, pcap",
				  argv[i]);
			free(inputs);
			return 2;
		}
	conf = o->config ? load_config(o->config) : NULL;
	if (conf == NULL) {
		/* No config: defaults, no site facts. */
		conf = agentconf_load(NULL, &err);
		if (conf == NULL)
			fatalx("%s", bw_error_str(&err, msg, sizeof(msg)));
	}
	if (o->state_dir != NULL)
		conf->state_dir = o->state_dir;
	p = load_pipeline(conf, o, on_revision, &pr);
	if (o->contain)
		c = contain_new(&conf->actions, pipeline_agg(p));
	rc = replay_run_service(conf, p, inputs, n,
				c != NULL ? service_contain : NULL, c, &err);
	if (rc < 0)
		log_warnx("%s", bw_error_str(&err, msg, sizeof(msg)));
	if (c != NULL) {
		/* Every run is bounded by its action's timeout. */
		if (contain_wait(c, INT64_MAX) < 0)
			log_warn("containment: poll");
		contain_summary(c);
		contain_destroy(&c);
	}
	fflush(stdout);
	print_summary(p, inputs, n, pr.printed);
	pipeline_destroy(&p);
	agentconf_destroy(&conf);
	free(inputs);
	return rc < 0 ? 1 : 0;
}

static int run_check(const struct options *o)
{
	struct agentconf *conf = load_config(o->config);
	struct pipeline *p = load_pipeline(conf, o, on_revision, NULL);

	printf("%s: ok (%zu inputs, %zu rules)\n", o->config, conf->n_inputs,
	       pipeline_rule_count(p));
	pipeline_destroy(&p);
	agentconf_destroy(&conf);
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .mode = MODE_LIVE, .format = OUTPUT_JSON };

	log_init("breachwatch-agent", LOG_LVL_INFO, -1);
	parse_args(argc, argv, &o);
	if (o.verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (o.contain && o.mode != MODE_REPLAY) {
		log_warnx("--contain is for --replay (following the inputs "
			  "always runs the actions)");
		return 2;
	}

	switch (o.mode) {
	case MODE_CHECK:
		return run_check(&o);
	case MODE_REPLAY:
		return run_replay(&o, argc - optind, argv + optind);
	case MODE_LIVE:
	default:
		if (optind != argc) {
			log_warnx("unexpected argument \"%s\" (INPUTs are for "
				  "--replay)", argv[optind]);
			return 2;
		}
		return live_run(o.config ? o.config : DEFAULT_CONFIG,
				o.rule_paths, o.n_rule_paths);
	}
}
