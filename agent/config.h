/*
 * config.h - the agent's configuration file (docs/configuration.md).
 *
 * The file is libconfig: groups agent, inputs, site, incidents, actions,
 * containment, notifier. Loading
 * checks every key and type and refuses unknown keys, with file:line. The
 * site group is handed, unparsed, to the rules engine (rules_load_site).
 */
#ifndef BW_AGENT_CONFIG_H
#define BW_AGENT_CONFIG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/keys.h"
#include "aggregate.h"
#include "contain_action.h"

struct agentconf_input {
	const char *type; /* borrowed from cfg */
	const char *path; /* borrowed from cfg */
	const config_setting_t *opts; /* the input's group, for parser_new */
	int start_at_end; /* live: start at the end when no checkpoint */
};

/* The notifier group: where incidents go (docs/transport.md). */
struct agentconf_notifier {
	const char *endpoint;   /* "tcp://HOST:PORT" (borrowed from cfg) */
	const char *notifier_key; /* the notifier's public key file */
	const char *key;        /* the agent's secret key file (its pair) */
	char *spool_dir;        /* owned; default <state_dir>/spool */
	uint64_t spool_max_bytes, spool_max_revisions;
	uint64_t held_max_bytes, held_max_revisions;
	/* 0 where the file says nothing: the sender's defaults (sender.h) */
	unsigned window;        /* revisions in flight without an ACK */
	int64_t ack_timeout_us; /* first resend of an unacknowledged one */
	int64_t heartbeat_us;   /* ZMTP and HEARTBEAT interval */
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
	bool has_notifier; /* the notifier group is present */
	struct agentconf_notifier notifier; /* when has_notifier */
};

/* Load and check path; path NULL gives every default and no site facts.
 * Returns NULL with err at file:line. Caller owns the result. */
struct agentconf *agentconf_load(const char *path, struct bw_error *err) BW_WUR;
void agentconf_destroy(struct agentconf **c);

/* Load the key files the notifier group names: the agent's key pair into
 * kp and the notifier's public key into server_key (BW_KEY_LEN bytes).
 * Returns -1 with err at the key file's file:line (kp is then wiped). */
int agentconf_load_keys(const struct agentconf *c, struct bw_keypair *kp,
			uint8_t *server_key, struct bw_error *err) BW_WUR;

/* The first configured input of this type (replay takes parser options from
 * it), or NULL. */
const struct agentconf_input *agentconf_input_by_type(const struct agentconf *c,
						      const char *type);

#endif
