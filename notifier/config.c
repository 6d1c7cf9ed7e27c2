/*
 * config.c - loading the notifier's configuration file (see config.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cfg.h"
#include "../common/wire.h"
#include "../common/xmalloc.h"
#include "curlloop.h"
#include "render.h"

#define DEFAULT_HEARTBEAT_US (10 * INT64_C(1000000))
#define DEFAULT_MAX_CLIENTS 16
#define MAX_MAX_CLIENTS 1024
#define MAX_HEARTBEAT_US (3600 * INT64_C(1000000))
#define MIN_HEARTBEAT_US (100 * INT64_C(1000))
#define MIN_INCIDENT_BYTES 1024
#define MAX_SOCKET_PATH 107 /* sun_path without its NUL */

static const char *const top_keys[] = { "notifier", "inbox", "control",
					"organisation", "directory", "mail",
					"notify", NULL };
static const char *const notifier_keys[] = { "listen", "key", "public_key",
					     "authorized_agents", "store",
					     "log_level", NULL };
static const char *const inbox_keys[] = { "heartbeat", "heartbeat_timeout",
					  "max_incident_bytes", NULL };
static const char *const control_keys[] = { "socket", "mode", "group",
					    "max_clients", NULL };

static const struct {
	const char *name;
	enum log_level level;
} log_levels[] = {
	{ "err", LOG_LVL_ERR },       { "warning", LOG_LVL_WARNING },
	{ "notice", LOG_LVL_NOTICE }, { "info", LOG_LVL_INFO },
	{ "debug", LOG_LVL_DEBUG },
};

int notifconf_log_level(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]);
	     i++) {
		if (strcmp(name, log_levels[i].name) == 0) {
			*out = log_levels[i].level;
			return 0;
		}
	}
	return -1;
}

/* A path setting: absolute, no longer than max. NULL (absent) passes. */
static int check_path(const config_setting_t *grp, const char *key,
		      const char *v, size_t max, struct bw_error *err)
{
	const config_setting_t *s;

	if (v == NULL)
		return 0;
	s = config_setting_get_member(grp, key);
	if (v[0] != '/')
		return bw_cfg_error(err, s, "%s: \"%s\" is not an absolute path",
				    key, v);
	if (strlen(v) > max)
		return bw_cfg_error(err, s, "%s: longer than %zu bytes", key,
				    max);
	return 0;
}

/* "tcp://ADDR:PORT": ADDR an IPv4 address, an IPv6 address in brackets or
 * "*" (every interface); PORT 1-65535, or "*" (a port the system chooses,
 * logged at start: for tests). Returns NULL when valid, else why not. */
static const char *endpoint_problem(const char *ep)
{
	const char *addr, *colon, *port;
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char bin[sizeof(struct in6_addr)];
	size_t alen;

	if (strncmp(ep, "tcp://", 6) != 0)
		return "must start with tcp://";
	addr = ep + 6;
	colon = strrchr(addr, ':');
	if (colon == NULL)
		return "has no :PORT";
	port = colon + 1;
	if (strcmp(port, "*") != 0) {
		char *end;
		unsigned long p;

		errno = 0;
		p = strtoul(port, &end, 10);
		if (port[0] < '0' || port[0] > '9' || *end != '\0' ||
		    errno != 0 || p < 1 || p > 65535)
			return "PORT must be 1-65535 or *";
	}
	alen = (size_t)(colon - addr);
	if (alen == 1 && addr[0] == '*')
		return NULL;
	if (alen >= 2 && addr[0] == '[' && addr[alen - 1] == ']') {
		if (alen - 2 > INET6_ADDRSTRLEN)
			return "not an IPv6 address in brackets";
		memcpy(host, addr + 1, alen - 2);
		host[alen - 2] = '\0';
		if (inet_pton(AF_INET6, host, bin) != 1)
			return "not an IPv6 address in brackets";
		return NULL;
	}
	if (alen > INET6_ADDRSTRLEN)
		return "ADDR must be an IPv4 address, [IPv6] or *";
	memcpy(host, addr, alen);
	host[alen] = '\0';
	if (inet_pton(AF_INET, host, bin) != 1)
		return "ADDR must be an IPv4 address, [IPv6] or *";
	return NULL;
}

static int load_notifier(struct notifconf *c, const config_setting_t *grp,
			 struct bw_error *err)
{
	const config_setting_t *listen = NULL;
	const char *level = NULL;
	int n;

	if (grp == NULL)
		return bw_error_set(err, c->path, 0,
				    "the notifier group is missing");
	if (!config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "notifier: must be a group");
	if (bw_cfg_check_keys(grp, notifier_keys, err) < 0 ||
	    bw_cfg_strings(grp, "listen", true, &listen, err) < 0 ||
	    bw_cfg_string(grp, "key", true, &c->key, err) < 0 ||
	    bw_cfg_string(grp, "public_key", false, &c->public_key, err) < 0 ||
	    bw_cfg_string(grp, "authorized_agents", true,
			  &c->authorized_agents, err) < 0 ||
	    bw_cfg_string(grp, "store", true, &c->store, err) < 0 ||
	    bw_cfg_string(grp, "log_level", false, &level, err) < 0)
		return -1;
	if (check_path(grp, "key", c->key, 4095, err) < 0 ||
	    check_path(grp, "public_key", c->public_key, 4095, err) < 0 ||
	    check_path(grp, "authorized_agents", c->authorized_agents, 4095,
		       err) < 0 ||
	    check_path(grp, "store", c->store, 4095, err) < 0)
		return -1;
	if (level != NULL && notifconf_log_level(level, &c->log_level) < 0)
		return bw_cfg_error(err, config_setting_get_member(grp,
								   "log_level"),
				    "log_level: \"%s\" is not err, warning, "
				    "notice, info or debug",
				    level);
	n = config_setting_is_scalar(listen) ? 1 : config_setting_length(listen);
	if (n < 1)
		return bw_cfg_error(err, listen,
				    "listen: at least one endpoint is needed");
	if (n > NOTIFCONF_MAX_LISTEN)
		return bw_cfg_error(err, listen,
				    "listen: at most %d endpoints",
				    NOTIFCONF_MAX_LISTEN);
	for (int i = 0; i < n; i++) {
		const char *ep = config_setting_is_scalar(listen)
			? config_setting_get_string(listen)
			: config_setting_get_string_elem(listen, i);
		const char *why = endpoint_problem(ep);

		if (why != NULL)
			return bw_cfg_error(err, listen,
					    "listen: \"%s\" %s (tcp://ADDR:PORT)",
					    ep, why);
		for (size_t j = 0; j < c->n_listen; j++)
			if (strcmp(c->listen[j], ep) == 0)
				return bw_cfg_error(err, listen,
						    "listen: \"%s\" twice", ep);
		c->listen[c->n_listen++] = ep;
	}
	return 0;
}

static int load_inbox(struct notifconf *c, const config_setting_t *grp,
		      struct bw_error *err)
{
	int64_t max_bytes = BW_WIRE_MAX_JSON;
	bool timeout_set;

	if (grp != NULL && !config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "inbox: must be a group");
	if (bw_cfg_check_keys(grp, inbox_keys, err) < 0 ||
	    bw_cfg_duration(grp, "heartbeat", false, &c->heartbeat_us,
			    err) < 0 ||
	    bw_cfg_duration(grp, "heartbeat_timeout", false,
			    &c->heartbeat_timeout_us, err) < 0 ||
	    bw_cfg_int(grp, "max_incident_bytes", false, MIN_INCIDENT_BYTES,
		       BW_WIRE_MAX_JSON, &max_bytes, err) < 0)
		return -1;
	c->max_incident_bytes = (size_t)max_bytes;
	if (c->heartbeat_us < MIN_HEARTBEAT_US ||
	    c->heartbeat_us > MAX_HEARTBEAT_US)
		return bw_cfg_error(err,
				    config_setting_get_member(grp, "heartbeat"),
				    "heartbeat: between 100ms and 1h");
	timeout_set = grp != NULL &&
		      config_setting_get_member(grp, "heartbeat_timeout") !=
			      NULL;
	if (!timeout_set)
		c->heartbeat_timeout_us = 3 * c->heartbeat_us;
	else if (c->heartbeat_timeout_us <= c->heartbeat_us ||
		 c->heartbeat_timeout_us > MAX_HEARTBEAT_US)
		return bw_cfg_error(err,
				    config_setting_get_member(
					    grp, "heartbeat_timeout"),
				    "heartbeat_timeout: longer than heartbeat, "
				    "at most 1h");
	return 0;
}

static int load_control(struct notifconf *c, const config_setting_t *grp,
			struct bw_error *err)
{
	const char *mode = NULL;
	int64_t max_clients = DEFAULT_MAX_CLIENTS;

	if (grp == NULL)
		return bw_error_set(err, c->path, 0,
				    "the control group is missing (its socket "
				    "is how operators reach the notifier)");
	if (!config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "control: must be a group");
	if (bw_cfg_check_keys(grp, control_keys, err) < 0 ||
	    bw_cfg_string(grp, "socket", true, &c->control_socket, err) < 0 ||
	    bw_cfg_string(grp, "mode", false, &mode, err) < 0 ||
	    bw_cfg_string(grp, "group", false, &c->control_group, err) < 0 ||
	    bw_cfg_int(grp, "max_clients", false, 1, MAX_MAX_CLIENTS,
		       &max_clients, err) < 0 ||
	    check_path(grp, "socket", c->control_socket, MAX_SOCKET_PATH,
		       err) < 0)
		return -1;
	c->control_max_clients = (size_t)max_clients;
	c->control_mode = 0660;
	if (mode != NULL) {
		if (strcmp(mode, "0600") == 0)
			c->control_mode = 0600;
		else if (strcmp(mode, "0660") != 0)
			return bw_cfg_error(err,
					    config_setting_get_member(grp,
								      "mode"),
					    "mode: \"%s\" must be \"0600\" (the "
					    "notifier's user only) or \"0660\" "
					    "(and its group)",
					    mode);
	}
	if (c->control_group != NULL &&
	    (c->control_group[0] == '\0' || strlen(c->control_group) > 255))
		return bw_cfg_error(err, config_setting_get_member(grp, "group"),
				    "group: 1-255 characters");
	return 0;
}

struct notifconf *notifconf_load(const char *path, struct bw_error *err)
{
	struct notifconf *c = xcalloc(1, sizeof(*c));
	const config_setting_t *root;

	c->path = xstrdup(path);
	c->log_level = LOG_LVL_INFO;
	c->heartbeat_us = DEFAULT_HEARTBEAT_US;
	if (bw_cfg_read_file(&c->cfg, path, NULL, err) < 0) {
		free(c->path);
		free(c);
		return NULL;
	}
	root = config_root_setting(&c->cfg);
	if (bw_cfg_check_keys(root, top_keys, err) < 0 ||
	    load_notifier(c, config_setting_get_member(root, "notifier"),
			  err) < 0 ||
	    load_inbox(c, config_setting_get_member(root, "inbox"), err) < 0 ||
	    load_control(c, config_setting_get_member(root, "control"),
			 err) < 0 ||
	    notifconf_load_notify(c, root, err) < 0)
		goto fail;
	return c;
fail:
	notifconf_destroy(&c);
	return NULL;
}

void notifconf_destroy(struct notifconf **cp)
{
	struct notifconf *c = *cp;

	if (c == NULL)
		return;
	config_destroy(&c->cfg);
	for (size_t i = 0; i < sizeof(c->owned) / sizeof(c->owned[0]); i++)
		free(c->owned[i]);
	free(c->path);
	free(c);
	*cp = NULL;
}

int notifconf_load_keys(const struct notifconf *c, struct bw_keypair *kp,
			struct bw_error *err)
{
	uint8_t pub[BW_KEY_LEN];

	if (bw_keys_load_secret(c->key, kp, err) < 0)
		goto fail;
	if (c->public_key == NULL)
		return 0;
	if (bw_keys_load_public(c->public_key, pub, NULL, err) < 0)
		goto fail;
	if (memcmp(pub, kp->public_key, BW_KEY_LEN) != 0) {
		bw_error_set(err, c->public_key, 0,
			     "this public key is not that of %s (agents "
			     "would be given the wrong key)",
			     c->key);
		goto fail;
	}
	return 0;
fail:
	bw_keys_wipe(kp);
	return -1;
}

int notifconf_control_gid(const struct notifconf *c, gid_t *gid,
			  struct bw_error *err)
{
	struct group gr, *res = NULL;
	char buf[16384];
	int rc;

	*gid = (gid_t)-1;
	if (c->control_group == NULL)
		return 0;
	rc = getgrnam_r(c->control_group, &gr, buf, sizeof(buf), &res);
	if (rc != 0)
		return bw_error_set(err, c->path, 0,
				    "control.group \"%s\": %s",
				    c->control_group, strerror(rc));
	if (res == NULL)
		return bw_error_set(err, c->path, 0,
				    "control.group: no group \"%s\" on this "
				    "system",
				    c->control_group);
	*gid = gr.gr_gid;
	return 0;
}

/* The mail password, the customer directory (a CSV whose rows were
 * refused fails, naming the first) and the templates, as the daemon takes
 * them at start. */
static int notifconf_check_notify(const struct notifconf *c,
				  struct bw_error *err)
{
	struct directory_params dp;
	struct render_params rp;
	struct curlloop *loop = NULL;
	struct directory *d = NULL;
	struct render *r;
	char *pw = NULL;
	int rc = -1;

	notifconf_directory_params(c, &dp);
	notifconf_render_params(c, &rp);
	if (notifconf_load_password(c, &pw, err) < 0)
		return -1;
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	r = render_new(&rp, err);
	if (r == NULL)
		return -1;
	render_destroy(&r);
	if (c->dir_kind == DIRECTORY_HTTP) {
		loop = curlloop_new(err);
		if (loop == NULL)
			return -1;
		dp.loop = loop;
	}
	d = directory_new(&dp, err);
	if (d != NULL) {
		size_t n, total;
		const char *const *why = directory_refusals(d, &n, &total);

		if (total > 0)
			bw_error_set(err, NULL, 0,
				     "%s (%zu row%s of the directory refused)",
				     why[0], total, total == 1 ? "" : "s");
		else
			rc = 0;
	}
	directory_destroy(&d);
	curlloop_destroy(&loop);
	return rc;
}

int notifconf_check(const struct notifconf *c, struct bw_error *err)
{
	struct bw_keypair kp;
	struct bw_keys_auth *auth;
	gid_t gid;

	if (notifconf_load_keys(c, &kp, err) < 0)
		return -1;
	bw_keys_wipe(&kp);
	auth = bw_keys_auth_load(c->authorized_agents, err);
	if (auth == NULL)
		return -1;
	bw_keys_auth_destroy(&auth);
	if (notifconf_control_gid(c, &gid, err) < 0)
		return -1;
	return notifconf_check_notify(c, err);
}
