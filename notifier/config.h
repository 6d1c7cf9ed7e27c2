/*
 * config.h - the notifier's configuration file (docs/notifier.md).
 *
 * libconfig, groups notifier, inbox and control. Loading checks every key,
 * type and value and refuses unknown keys, with file:line; it reads nothing
 * but the file itself. What the file names on the system (the key files,
 * the authorised-agents file, the control socket's group) is checked by
 * notifconf_check(), which --check-config runs and the daemon repeats as it
 * takes each of them at start.
 */
#ifndef BW_NOTIFCONF_H
#define BW_NOTIFCONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/error.h"
#include "../common/keys.h"
#include "../common/log.h"

#define NOTIFCONF_MAX_LISTEN 8
#define NOTIFCONF_DEFAULT_PATH "/etc/breachwatch/notifier.conf"

struct notifconf {
	config_t cfg; /* owns every borrowed string below */
	char *path;   /* the file loaded */

	/* notifier { } */
	const char *listen[NOTIFCONF_MAX_LISTEN]; /* "tcp://ADDR:PORT" */
	size_t n_listen;
	const char *key;               /* secret key file (the key pair) */
	const char *public_key;        /* its public key file, or NULL */
	const char *authorized_agents; /* the authorised-agents file */
	const char *store;             /* the SQLite breach record */
	enum log_level log_level;

	/* inbox { } */
	int64_t heartbeat_us;         /* ZMTP heartbeat interval */
	int64_t heartbeat_timeout_us; /* silence after which a peer is dead */
	size_t max_incident_bytes;    /* a larger revision is rejected (limit) */

	/* control { } */
	const char *control_socket; /* AF_UNIX path */
	mode_t control_mode;        /* 0600 or 0660 */
	const char *control_group;  /* group name, or NULL: the notifier's */
	size_t control_max_clients;
};

/* Load and check path. Returns NULL with err at file:line. Caller owns the
 * result (notifconf_destroy). */
struct notifconf *notifconf_load(const char *path,
				 struct bw_error *err) BW_WUR;
/* Accepts NULL; nulls the caller's pointer. */
void notifconf_destroy(struct notifconf **c);

/* Load the notifier's key pair from c->key and, when c->public_key is set,
 * check that the public key file holds the same public key. kp is wiped on
 * failure. Returns -1 with err at the file concerned. */
int notifconf_load_keys(const struct notifconf *c, struct bw_keypair *kp,
			struct bw_error *err) BW_WUR;

/* The group id for the control socket: c->control_group looked up, or
 * (gid_t)-1 when none is configured (the socket keeps the notifier's
 * group). Returns -1 with err for an unknown group. */
int notifconf_control_gid(const struct notifconf *c, gid_t *gid,
			  struct bw_error *err) BW_WUR;

/* Check what the file names on this system, as the daemon takes it at
 * start: the key pair, the authorised-agents file, the control socket's
 * group. Returns -1 with err (file:line for the files). */
int notifconf_check(const struct notifconf *c, struct bw_error *err) BW_WUR;

/* "err", "warning", "notice", "info", "debug" to a level; -1 for other
 * names. */
int notifconf_log_level(const char *name, enum log_level *out) BW_WUR;

#endif
