/*
 * config.h - the agent's configuration file (docs/configuration.md).
 *
 * The file is libconfig: groups agent, inputs, site, incidents, actions,
 * containment. Loading
 * checks every key and type and refuses unknown keys, with file:line. The
 * site group is handed, unparsed, to the rules engine (rules_load_site).
 */
#ifndef BW_AGENT_CONFIG_H
#define BW_AGENT_CONFIG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/error.h"
#include "aggregate.h"
#include "contain_action.h"

struct agentconf_input {
	const char *type; /* borrowed from cfg */
	const char *path; /* borrowed from cfg */
	const config_setting_t *opts; /* the input's group, for parser_new */
	int start_at_end; /* live: start at the end when no checkpoint */
};

struct agentconf {
	config_t cfg; /* owns every borrowed string */
	char *path;
	const char *name; /* the agent's host name */
	const char *state_dir;
	bool rules_cache; /* keep compiled rules in <state_dir>/rules-cache */
	const char **rules; /* rule files or directories */
	size_t n_rules;
	size_t max_line;
	struct agentconf_input *inputs;
	size_t n_inputs;
	const config_setting_t *site; /* NULL when absent */
	struct agg_config agg;
	struct contain_actions *actions; /* owned (never NULL once loaded);
					    contain_new may take it */
};

/* Load and check path; path NULL gives every default and no site facts.
 * Returns NULL with err at file:line. Caller owns the result. */
struct agentconf *agentconf_load(const char *path, struct bw_error *err) BW_WUR;
void agentconf_destroy(struct agentconf **c);

/* The first configured input of this type (replay takes parser options from
 * it), or NULL. */
const struct agentconf_input *agentconf_input_by_type(const struct agentconf *c,
						      const char *type);

#endif
