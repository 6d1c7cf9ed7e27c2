/*
 * config.c - loading the agent's configuration file (see config.h).
 */
#include "config.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "contain_action.h"
#include "netsrc.h"
#include "parser.h"
#include "delivery.h"
#include "spool.h"

#define DEFAULT_MAX_LINE 65536
#define MAX_MAX_LINE (16u << 20)

static const char *const top_keys[] = { "agent", "inputs", "site",
					"incidents", "actions", "containment",
					"notifier", NULL };
static const char *const agent_keys[] = { "name", "state_dir", "rules",
					  "max_line", "rules_cache", NULL };
static const char *const incident_keys[] = { "quiet_period",
					     "revision_interval",
					     "max_evidence", "max_customers",
					     "max_incidents", NULL };

static const char *const notifier_keys[] = {
	"endpoint", "notifier_key", "key", "spool", "spool_max_bytes",
	"spool_max_revisions", "held_max_bytes", "held_max_revisions",
	"window", "ack_timeout", "heartbeat", NULL };

static int load_agent(struct agentconf *c, const config_setting_t *grp,
		      struct bw_error *err)
{
	const config_setting_t *rules = NULL;
	int64_t max_line = DEFAULT_MAX_LINE;

	if (grp == NULL)
		return 0;
	if (!config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "agent: must be a group");
	if (bw_cfg_check_keys(grp, agent_keys, err) < 0 ||
	    bw_cfg_string(grp, "name", false, &c->name, err) < 0 ||
	    bw_cfg_string(grp, "state_dir", false, &c->state_dir, err) < 0 ||
	    bw_cfg_bool(grp, "rules_cache", false, &c->rules_cache, err) < 0 ||
	    bw_cfg_strings(grp, "rules", false, &rules, err) < 0 ||
	    bw_cfg_int(grp, "max_line", false, 256, MAX_MAX_LINE, &max_line,
		       err) < 0)
		return -1;
	c->max_line = (size_t)max_line;
	if (rules != NULL) {
		int n = config_setting_is_scalar(rules) ? 1
				: config_setting_length(rules);

		c->rules = xcalloc((size_t)n, sizeof(*c->rules));
		for (int i = 0; i < n; i++) {
			const char *s = config_setting_is_scalar(rules)
				? config_setting_get_string(rules)
				: config_setting_get_string_elem(rules, i);
			c->rules[c->n_rules++] = s;
		}
	}
	return 0;
}

/* A `pcap` input (a live interface, docs/capture.md): 0 when in is not
 * one, 1 when it is and its options are good (ci filled: path is the
 * interface), -1 with err (ci->type NULL) when they are not. */
static int load_pcap_input(struct agentconf_input *ci,
			   const config_setting_t *in, struct bw_error *err)
{
	const char *type = NULL;

	if (bw_cfg_string(in, "type", true, &type, err) < 0)
		return -1;
	if (strcmp(type, "pcap") != 0)
		return 0;
	if (netsrc_config(in, NULL, NULL, err) < 0 ||
	    bw_cfg_string(in, "interface", true, &ci->path, err) < 0) {
		ci->type = NULL;
		return -1;
	}
	ci->type = type;
	ci->opts = in;
	ci->start_at_end = 1;
	return 1;
}

static int load_inputs(struct agentconf *c, const config_setting_t *list,
		       struct bw_error *err)
{
	int n;

	if (list == NULL)
		return 0;
	if (!config_setting_is_list(list))
		return bw_cfg_error(err, list,
				    "inputs: must be a list ( {...}, ... )");
	n = config_setting_length(list);
	c->inputs = xcalloc((size_t)n, sizeof(*c->inputs));
	for (int i = 0; i < n; i++) {
		const config_setting_t *in = config_setting_get_elem(list, i);
		struct agentconf_input *ci = &c->inputs[c->n_inputs];
		const char *start = NULL;

		if (!config_setting_is_group(in))
			return bw_cfg_error(err, in,
					    "inputs[%d]: must be a group", i);
		if (load_pcap_input(ci, in, err) != 0) {
			if (ci->type == NULL)
				return -1;
			c->n_inputs++;
			continue;
		}
		if (bw_cfg_string(in, "type", true, &ci->type, err) < 0 ||
		    bw_cfg_string(in, "path", true, &ci->path, err) < 0 ||
		    bw_cfg_string(in, "start", false, &start, err) < 0)
			return -1;
		if (!parser_type_known(ci->type))
			return bw_cfg_error(err, in,
					    "inputs[%d]: unknown type \"%s\" "
					    "(nginx, apache, json, sshd, postgres, "
					    "pcap)",
					    i, ci->type);
		ci->start_at_end = 1;
		if (start != NULL) {
			if (strcmp(start, "end") == 0)
				ci->start_at_end = 1;
			else if (strcmp(start, "beginning") == 0)
				ci->start_at_end = 0;
			else
				return bw_cfg_error(err, in,
						    "inputs[%d]: start must be "
						    "\"end\" or \"beginning\"", i);
		}
		ci->opts = in;
		c->n_inputs++;
	}
	return 0;
}

static int load_incidents(struct agentconf *c, const config_setting_t *grp,
			  struct bw_error *err)
{
	int64_t max_evidence = 20, max_customers = 100000;
	int64_t max_incidents = 10000;

	c->agg.quiet_period_us = 30 * 60 * 1000000LL;
	c->agg.revision_interval_us = 10 * 1000000LL;
	if (grp != NULL) {
		if (!config_setting_is_group(grp))
			return bw_cfg_error(err, grp,
					    "incidents: must be a group");
		if (bw_cfg_check_keys(grp, incident_keys, err) < 0 ||
		    bw_cfg_duration(grp, "quiet_period", false,
				    &c->agg.quiet_period_us, err) < 0 ||
		    bw_cfg_duration(grp, "revision_interval", false,
				    &c->agg.revision_interval_us, err) < 0 ||
		    bw_cfg_int(grp, "max_evidence", false, 1,
			       BW_INC_MAX_EVIDENCE, &max_evidence, err) < 0 ||
		    bw_cfg_int(grp, "max_customers", false, 1,
			       BW_INC_MAX_CUSTOMERS, &max_customers, err) < 0 ||
		    bw_cfg_int(grp, "max_incidents", false, 1, 10000000,
			       &max_incidents, err) < 0)
			return -1;
	}
	c->agg.max_evidence = (size_t)max_evidence;
	c->agg.max_customers = (size_t)max_customers;
	c->agg.max_incidents = (size_t)max_incidents;
	return 0;
}

/* "tcp://HOST:PORT": a host name, an IPv4 address or a bracketed IPv6
 * address, and a port 1..65535. */
static bool endpoint_ok(const char *ep)
{
	const char *host = ep + strlen("tcp://"), *colon, *p;
	long port = 0;

	if (strncmp(ep, "tcp://", strlen("tcp://")) != 0)
		return false;
	colon = strrchr(host, ':');
	if (colon == NULL || colon == host || colon[1] == '\0' ||
	    strlen(colon + 1) > 5)
		return false;
	if (host[0] == '[' && colon[-1] != ']')
		return false;
	for (p = host; p < colon; p++)
		if (*p <= ' ' || *p == '/' || (*p == ':' && host[0] != '['))
			return false;
	for (p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		port = port * 10 + (*p - '0');
	}
	return port >= 1 && port <= 65535;
}

static int load_notifier(struct agentconf *c, const config_setting_t *grp,
			 struct bw_error *err)
{
	struct agentconf_notifier *n = &c->notifier;
	const config_setting_t *s;
	const char *spool = NULL;
	int64_t spool_bytes = SPOOL_DEFAULT_MAX_BYTES;
	int64_t spool_revs = SPOOL_DEFAULT_MAX_ITEMS;
	int64_t held_bytes = DELIVERY_DEFAULT_HELD_MAX_BYTES;
	int64_t held_revs = DELIVERY_DEFAULT_HELD_MAX_REVISIONS;
	int64_t window = 0; /* 0: the sender's defaults (sender.h) */

	if (grp == NULL)
		return 0;
	if (!config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "notifier: must be a group");
	if (bw_cfg_check_keys(grp, notifier_keys, err) < 0 ||
	    bw_cfg_string(grp, "endpoint", true, &n->endpoint, err) < 0 ||
	    bw_cfg_string(grp, "notifier_key", true, &n->notifier_key,
			  err) < 0 ||
	    bw_cfg_string(grp, "key", true, &n->key, err) < 0 ||
	    bw_cfg_string(grp, "spool", false, &spool, err) < 0 ||
	    bw_cfg_int(grp, "spool_max_bytes", false, 1 << 20,
		       INT64_C(1) << 40, &spool_bytes, err) < 0 ||
	    bw_cfg_int(grp, "spool_max_revisions", false, 1, 100000000,
		       &spool_revs, err) < 0 ||
	    bw_cfg_int(grp, "held_max_bytes", false, 1 << 20, INT64_C(1) << 36,
		       &held_bytes, err) < 0 ||
	    bw_cfg_int(grp, "held_max_revisions", false, 1, 10000000,
		       &held_revs, err) < 0 ||
	    bw_cfg_int(grp, "window", false, 1, 10000, &window, err) < 0 ||
	    bw_cfg_duration(grp, "ack_timeout", false, &n->ack_timeout_us,
			    err) < 0 ||
	    bw_cfg_duration(grp, "heartbeat", false, &n->heartbeat_us,
			    err) < 0)
		return -1;
	s = config_setting_get_member(grp, "endpoint");
	if (!endpoint_ok(n->endpoint))
		return bw_cfg_error(err, s,
				    "notifier: endpoint \"%.200s\" is not "
				    "tcp://HOST:PORT (an IPv6 address in "
				    "brackets)", n->endpoint);
	s = config_setting_get_member(grp, "ack_timeout");
	if (s != NULL && (n->ack_timeout_us < 100000 ||
			  n->ack_timeout_us > 3600 * 1000000LL))
		return bw_cfg_error(err, s,
				    "notifier: ack_timeout must be 100ms..1h");
	s = config_setting_get_member(grp, "heartbeat");
	if (s != NULL && (n->heartbeat_us < 100000 ||
			  n->heartbeat_us > 600 * 1000000LL))
		return bw_cfg_error(err, s,
				    "notifier: heartbeat must be 100ms..10m");
	s = config_setting_get_member(grp, "spool");
	if (spool != NULL && spool[0] == '\0')
		return bw_cfg_error(err, s, "notifier: spool is empty");
	if (spool != NULL)
		n->spool_dir = xstrdup(spool);
	n->spool_max_bytes = (uint64_t)spool_bytes;
	n->spool_max_revisions = (uint64_t)spool_revs;
	n->held_max_bytes = (uint64_t)held_bytes;
	n->held_max_revisions = (uint64_t)held_revs;
	n->window = (unsigned)window;
	c->has_notifier = true;
	return 0;
}

int agentconf_load_keys(const struct agentconf *c, struct bw_keypair *kp,
			uint8_t *server_key, struct bw_error *err)
{
	if (!c->has_notifier)
		return bw_error_set(err, c->path, 0, "no notifier group");
	if (bw_keys_load_secret(c->notifier.key, kp, err) < 0)
		return -1;
	if (bw_keys_load_public(c->notifier.notifier_key, server_key, NULL,
				err) < 0) {
		bw_keys_wipe(kp);
		return -1;
	}
	return 0;
}

struct agentconf *agentconf_load(const char *path, struct bw_error *err)
{
	struct agentconf *c = xcalloc(1, sizeof(*c));
	const config_setting_t *root;
	static char hostname[HOST_NAME_MAX + 1];

	c->path = xstrdup(path != NULL ? path : "(defaults)");
	c->max_line = DEFAULT_MAX_LINE;
	c->rules_cache = true;
	if (path == NULL)
		config_init(&c->cfg); /* no file: every default, no site facts */
	else if (bw_cfg_read_file(&c->cfg, path, NULL, err) < 0) {
		free(c->path);
		free(c);
		return NULL;
	}
	root = config_root_setting(&c->cfg);
	if (bw_cfg_check_keys(root, top_keys, err) < 0 ||
	    load_agent(c, config_setting_get_member(root, "agent"), err) < 0 ||
	    load_inputs(c, config_setting_get_member(root, "inputs"), err) < 0 ||
	    load_incidents(c, config_setting_get_member(root, "incidents"),
			   err) < 0 ||
	    load_notifier(c, config_setting_get_member(root, "notifier"),
			  err) < 0)
		goto fail;
	c->actions = contain_actions_load(
		config_setting_get_member(root, "actions"),
		config_setting_get_member(root, "containment"), err);
	if (c->actions == NULL)
		goto fail;
	c->site = config_setting_get_member(root, "site");
	if (c->name == NULL) {
		if (gethostname(hostname, sizeof(hostname) - 1) < 0)
			snprintf(hostname, sizeof(hostname), "localhost");
		c->name = hostname;
	}
	if (c->state_dir == NULL)
		c->state_dir = "/var/lib/breachwatch";
	if (c->has_notifier && c->notifier.spool_dir == NULL)
		c->notifier.spool_dir = xasprintf("%s/spool", c->state_dir);
	c->agg.host = c->name;
	return c;
fail:
	agentconf_destroy(&c);
	return NULL;
}

void agentconf_destroy(struct agentconf **cp)
{
	struct agentconf *c = *cp;

	if (c == NULL)
		return;
	config_destroy(&c->cfg);
	contain_actions_destroy(&c->actions);
	free(c->rules);
	free(c->inputs);
	free(c->notifier.spool_dir);
	free(c->path);
	free(c);
	*cp = NULL;
}

const struct agentconf_input *agentconf_input_by_type(const struct agentconf *c,
						      const char *type)
{
	for (size_t i = 0; i < c->n_inputs; i++)
		if (strcmp(c->inputs[i].type, type) == 0)
			return &c->inputs[i];
	return NULL;
}
