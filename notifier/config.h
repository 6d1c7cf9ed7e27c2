/*
 * config.h - the notifier's configuration file (docs/notifier.md).
 *
 * libconfig, groups notifier, inbox and control, and for the e-mails
 * organisation, directory, mail and notify (all four optional: without
 * them the notifier writes its messages as .eml files beside the store and
 * knows no customer). Loading checks every key,
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
#include "../common/incident.h"
#include "../common/keys.h"
#include "../common/log.h"
#include "directory.h"

#define NOTIFCONF_MAX_LISTEN 8
#define NOTIFCONF_DEFAULT_PATH "/etc/breachwatch/notifier.conf"
#define NOTIFCONF_MAX_TEAM 16
#define NOTIFCONF_MAX_POLICIES 64
#define NOTIFCONF_MAX_PASSWORD 1024
#ifndef BW_TEMPLATES_DIR
#define BW_TEMPLATES_DIR "/usr/share/breachwatch/templates"
#endif

/* Whether an incident's customer notices go out by themselves or wait for
 * an operator (breachwatch approve). */
enum notifconf_policy {
	NOTIFCONF_POLICY_UNSET,
	NOTIFCONF_AUTO,
	NOTIFCONF_APPROVE,
};

enum notifconf_transport {
	NOTIFCONF_FILE,  /* file:DIR: .eml files */
	NOTIFCONF_SMTP,  /* smtp://HOST:PORT, STARTTLS unless tls = "none" */
	NOTIFCONF_SMTPS, /* smtps://HOST:PORT, TLS from the start */
};

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

	/* organisation { } */
	const char *org_name;
	const char *org_contact; /* default: mail.from */
	const char *org_dpo;     /* may be NULL */
	const char *org_website; /* may be NULL */

	/* directory { } (absent: no directory, every customer unresolved) */
	enum directory_kind dir_kind;
	const char *dir_path, *dir_query, *dir_url, *dir_header_file;
	const char *dir_ca_file;
	int64_t dir_timeout_us, dir_cache_ttl_us, dir_retry_us, dir_give_up_us;
	size_t dir_cache_max, dir_parallel;

	/* mail { } */
	enum notifconf_transport mail_transport;
	const char *mail_dir; /* file: the directory (default: the store's
				 directory/mail) */
	const char *mail_url; /* smtp, smtps: "smtp://host:port" */
	bool mail_starttls;   /* smtp: require STARTTLS (default) */
	const char *mail_ca_file;
	const char *mail_username, *mail_password_file;
	const char *mail_from, *mail_from_name, *mail_reply_to;
	size_t mail_connections;
	int64_t mail_rate; /* messages a second at most, 0: no limit */
	int64_t mail_connect_timeout_us, mail_timeout_us;
	int64_t mail_retry_min_us, mail_retry_max_us, mail_max_age_us;

	/* notify { } */
	const char *team[NOTIFCONF_MAX_TEAM];
	size_t n_team;
	bool notify_customers;
	const char *templates;         /* the site's, may be NULL */
	const char *shipped_templates; /* default BW_TEMPLATES_DIR */
	int64_t grouping_wait_us, grouping_max_us;
	int64_t escalation_us, reminder_us, problem_us;
	enum notifconf_policy policy;                  /* default */
	enum notifconf_policy policy_severity[BW_SEV_CRITICAL + 1];
	struct {
		const char *category;
		enum notifconf_policy policy;
	} policy_category[NOTIFCONF_MAX_POLICIES];
	size_t n_policy_category;

	char *owned[4]; /* defaults made from other values */
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
 * group, the mail password file, the customer directory (a CSV with
 * refused rows fails here, naming the first), the templates. Returns -1
 * with err (file:line for the files). */
int notifconf_check(const struct notifconf *c, struct bw_error *err) BW_WUR;

/* Load the groups of the e-mails (organisation, directory, mail, notify)
 * from root into c, with their defaults; called by notifconf_load. */
int notifconf_load_notify(struct notifconf *c, const config_setting_t *root,
			  struct bw_error *err) BW_WUR;

/* The policy for an incident of severity and category: the category's if
 * set, else the severity's, else the default. */
enum notifconf_policy notifconf_policy_for(const struct notifconf *c,
					   enum bw_severity severity,
					   const char *category);
/* The parameters of the templates and of the customer directory from c
 * (strings borrowed from c; the directory's loop and callback left
 * unset). */
struct render_params;
void notifconf_render_params(const struct notifconf *c,
			     struct render_params *out);
void notifconf_directory_params(const struct notifconf *c,
				struct directory_params *out);

/* "auto", "approve". */
const char *notifconf_policy_name(enum notifconf_policy p);

/* Read mail.password_file: its first line, at most NOTIFCONF_MAX_PASSWORD
 * bytes; a file group or others may read is refused. *out is NULL when no
 * password file is set. Caller frees (and should wipe) *out. */
int notifconf_load_password(const struct notifconf *c, char **out,
			    struct bw_error *err) BW_WUR;

/* "err", "warning", "notice", "info", "debug" to a level; -1 for other
 * names. */
int notifconf_log_level(const char *name, enum log_level *out) BW_WUR;

#endif
