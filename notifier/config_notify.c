/*
 * config_notify.c - the notifier configuration's groups for the e-mails:
 * organisation, directory, mail and notify (see config.h and
 * docs/notifications.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cfg.h"
#include "../common/path.h"
#include "../common/xmalloc.h"
#include "config.h"
#include "mime.h"
#include "render.h"

#define SEC (INT64_C(1000000))

static const char *const org_keys[] = {"name", "contact", "dpo", "website",
                                       NULL};
static const char *const dir_keys[] = {
    "type",    "path",         "query",      "url",       "header_file",
    "ca_file", "timeout",      "cache_size", "cache_ttl", "retry_after",
    "give_up", "max_parallel", NULL};
static const char *const mail_keys[] = {
    "transport",     "tls",       "ca_file",         "username",
    "password_file", "from",      "from_name",       "reply_to",
    "connections",   "rate",      "connect_timeout", "timeout",
    "retry_min",     "retry_max", "max_age",         NULL};
static const char *const notify_keys[] = {"team",
                                          "customers",
                                          "templates",
                                          "shipped_templates",
                                          "grouping_wait",
                                          "grouping_max",
                                          "escalation_interval",
                                          "reminder_interval",
                                          "problem_interval",
                                          "policy",
                                          "policy_severity",
                                          "policy_category",
                                          NULL};

static const config_setting_t *member(const config_setting_t *grp,
                                      const char *key)
{
	return grp != NULL ? config_setting_get_member(grp, key) : NULL;
}

static int group(const config_setting_t *grp, const char *name,
                 const char *const *keys, struct bw_error *err)
{
	if (grp != NULL && !config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "%s: must be a group", name);
	return bw_cfg_check_keys(grp, keys, err);
}

/* A duration within [min, max]. */
static int duration(const config_setting_t *grp, const char *key, int64_t min,
                    int64_t max, const char *range, int64_t *out,
                    struct bw_error *err)
{
	if (bw_cfg_duration(grp, key, false, out, err) < 0)
		return -1;
	if (*out < min || *out > max)
		return bw_cfg_error(err, member(grp, key), "%s: %s", key,
		                    range);
	return 0;
}

static int absolute(const config_setting_t *grp, const char *key, const char *v,
                    struct bw_error *err)
{
	if (v != NULL && (v[0] != '/' || strlen(v) > 4095))
		return bw_cfg_error(err, member(grp, key),
		                    "%s: \"%s\" is not an absolute path", key,
		                    v);
	return 0;
}

static int address(const config_setting_t *s, const char *key, const char *v,
                   struct bw_error *err)
{
	struct bw_error e;

	if (v != NULL && mime_addr_check(v, key, &e) < 0)
		return bw_cfg_error(err, s, "%s", e.msg);
	return 0;
}

/* A text for a header or a message: one line, no control characters. */
static int line(const config_setting_t *grp, const char *key, const char *v,
                struct bw_error *err)
{
	struct bw_error e;

	if (v != NULL && (v[0] == '\0' || mime_text_check(key, v, 512, &e) < 0))
		return bw_cfg_error(err, member(grp, key), "%s: %s", key,
		                    v[0] == '\0' ? "empty" : e.msg);
	return 0;
}

static int load_org(struct notifconf *c, const config_setting_t *grp,
                    struct bw_error *err)
{
	if (group(grp, "organisation", org_keys, err) < 0 ||
	    bw_cfg_string(grp, "name", false, &c->org_name, err) < 0 ||
	    bw_cfg_string(grp, "contact", false, &c->org_contact, err) < 0 ||
	    bw_cfg_string(grp, "dpo", false, &c->org_dpo, err) < 0 ||
	    bw_cfg_string(grp, "website", false, &c->org_website, err) < 0 ||
	    line(grp, "name", c->org_name, err) < 0 ||
	    line(grp, "contact", c->org_contact, err) < 0 ||
	    line(grp, "dpo", c->org_dpo, err) < 0 ||
	    line(grp, "website", c->org_website, err) < 0)
		return -1;
	if (c->org_name == NULL)
		c->org_name = "(organisation.name is not set)";
	return 0;
}

static int load_directory(struct notifconf *c, const config_setting_t *grp,
                          struct bw_error *err)
{
	const char *type = NULL;
	int64_t cache = 100000, parallel = 8;

	c->dir_timeout_us = 5 * SEC;
	c->dir_cache_ttl_us = 600 * SEC;
	c->dir_retry_us = 10 * SEC;
	c->dir_give_up_us = 300 * SEC;
	if (grp == NULL)
		return 0; /* no directory */
	if (group(grp, "directory", dir_keys, err) < 0 ||
	    bw_cfg_string(grp, "type", false, &type, err) < 0 ||
	    bw_cfg_string(grp, "path", false, &c->dir_path, err) < 0 ||
	    bw_cfg_string(grp, "query", false, &c->dir_query, err) < 0 ||
	    bw_cfg_string(grp, "url", false, &c->dir_url, err) < 0 ||
	    bw_cfg_string(grp, "header_file", false, &c->dir_header_file, err) <
	        0 ||
	    bw_cfg_string(grp, "ca_file", false, &c->dir_ca_file, err) < 0 ||
	    duration(grp, "timeout", 100 * 1000, 300 * SEC,
	             "between 100ms and 5m", &c->dir_timeout_us, err) < 0 ||
	    duration(grp, "cache_ttl", SEC, 7 * 86400 * SEC,
	             "between 1s and 7d", &c->dir_cache_ttl_us, err) < 0 ||
	    duration(grp, "retry_after", 100 * 1000, 3600 * SEC,
	             "between 100ms and 1h", &c->dir_retry_us, err) < 0 ||
	    duration(grp, "give_up", SEC, 7 * 86400 * SEC, "between 1s and 7d",
	             &c->dir_give_up_us, err) < 0 ||
	    bw_cfg_int(grp, "cache_size", false, 1, 10000000, &cache, err) <
	        0 ||
	    bw_cfg_int(grp, "max_parallel", false, 1, 256, &parallel, err) <
	        0 ||
	    absolute(grp, "path", c->dir_path, err) < 0 ||
	    absolute(grp, "header_file", c->dir_header_file, err) < 0 ||
	    absolute(grp, "ca_file", c->dir_ca_file, err) < 0)
		return -1;
	c->dir_cache_max = (size_t)cache;
	c->dir_parallel = (size_t)parallel;
	if (type == NULL)
		type = "csv";
	if (directory_kind_by_name(type, &c->dir_kind) < 0 ||
	    c->dir_kind == DIRECTORY_NONE)
		return bw_cfg_error(err, member(grp, "type"),
		                    "type: \"%s\" is not csv, sqlite or http",
		                    type);
	if ((c->dir_kind == DIRECTORY_CSV || c->dir_kind == DIRECTORY_SQLITE) &&
	    c->dir_path == NULL)
		return bw_cfg_error(err, grp, "directory: %s needs a path",
		                    type);
	if (c->dir_kind == DIRECTORY_SQLITE && c->dir_query == NULL)
		return bw_cfg_error(err, grp,
		                    "directory: sqlite needs a query with one "
		                    "parameter (?1) for the customer id");
	if (c->dir_kind == DIRECTORY_HTTP &&
	    (c->dir_url == NULL || strstr(c->dir_url, "{id}") == NULL))
		return bw_cfg_error(err, grp,
		                    "directory: http needs a url with {id}");
	return 0;
}

/* transport = "file:/dir" | "smtp://host[:port]" | "smtps://host[:port]" */
static int transport(struct notifconf *c, const config_setting_t *grp,
                     const char *t, struct bw_error *err)
{
	const config_setting_t *s = member(grp, "transport");

	if (strncmp(t, "file:", 5) == 0) {
		c->mail_transport = NOTIFCONF_FILE;
		c->mail_dir = t + 5;
		if (c->mail_dir[0] != '/' || strlen(c->mail_dir) > 4000)
			return bw_cfg_error(
			    err, s,
			    "transport: file: needs an absolute "
			    "directory (file:/var/lib/...)");
		return 0;
	}
	if (strncmp(t, "smtp://", 7) == 0)
		c->mail_transport = NOTIFCONF_SMTP;
	else if (strncmp(t, "smtps://", 8) == 0)
		c->mail_transport = NOTIFCONF_SMTPS;
	else
		return bw_cfg_error(err, s,
		                    "transport: \"%s\" is not file:DIR, "
		                    "smtp://HOST:PORT or smtps://HOST:PORT",
		                    t);
	{
		const char *host = strstr(t, "://") + 3;
		size_t hl = strcspn(host, "/?#");

		if (hl == 0 || host[hl] != '\0' ||
		    strcspn(host, " \t\r\n@") != strlen(host))
			return bw_cfg_error(err, s,
			                    "transport: \"%s\": a host and an "
			                    "optional :PORT, nothing else",
			                    t);
	}
	c->mail_url = t;
	return 0;
}

static int load_mail(struct notifconf *c, const config_setting_t *grp,
                     struct bw_error *err)
{
	const char *t = NULL, *tls = NULL;
	int64_t conns = 4;

	c->mail_connect_timeout_us = 10 * SEC;
	c->mail_timeout_us = 60 * SEC;
	c->mail_retry_min_us = 30 * SEC;
	c->mail_retry_max_us = 3600 * SEC;
	c->mail_max_age_us = 2 * 86400 * SEC;
	c->mail_starttls = true;
	if (group(grp, "mail", mail_keys, err) < 0 ||
	    bw_cfg_string(grp, "transport", false, &t, err) < 0 ||
	    bw_cfg_string(grp, "tls", false, &tls, err) < 0 ||
	    bw_cfg_string(grp, "ca_file", false, &c->mail_ca_file, err) < 0 ||
	    bw_cfg_string(grp, "username", false, &c->mail_username, err) < 0 ||
	    bw_cfg_string(grp, "password_file", false, &c->mail_password_file,
	                  err) < 0 ||
	    bw_cfg_string(grp, "from", false, &c->mail_from, err) < 0 ||
	    bw_cfg_string(grp, "from_name", false, &c->mail_from_name, err) <
	        0 ||
	    bw_cfg_string(grp, "reply_to", false, &c->mail_reply_to, err) < 0 ||
	    bw_cfg_int(grp, "connections", false, 1, 64, &conns, err) < 0 ||
	    bw_cfg_int(grp, "rate", false, 0, 100000, &c->mail_rate, err) < 0 ||
	    duration(grp, "connect_timeout", 100 * 1000, 300 * SEC,
	             "between 100ms and 5m", &c->mail_connect_timeout_us,
	             err) < 0 ||
	    duration(grp, "timeout", 100 * 1000, 3600 * SEC,
	             "between 100ms and 1h", &c->mail_timeout_us, err) < 0 ||
	    duration(grp, "retry_min", 10 * 1000, 86400 * SEC,
	             "between 10ms and 1d", &c->mail_retry_min_us, err) < 0 ||
	    duration(grp, "retry_max", 10 * 1000, 7 * 86400 * SEC,
	             "between 10ms and 7d", &c->mail_retry_max_us, err) < 0 ||
	    duration(grp, "max_age", SEC, 30 * 86400 * SEC,
	             "between 1s and 30d", &c->mail_max_age_us, err) < 0 ||
	    absolute(grp, "ca_file", c->mail_ca_file, err) < 0 ||
	    absolute(grp, "password_file", c->mail_password_file, err) < 0 ||
	    address(member(grp, "from"), "from", c->mail_from, err) < 0 ||
	    address(member(grp, "reply_to"), "reply_to", c->mail_reply_to,
	            err) < 0 ||
	    line(grp, "from_name", c->mail_from_name, err) < 0 ||
	    line(grp, "username", c->mail_username, err) < 0)
		return -1;
	c->mail_connections = (size_t)conns;
	if (c->mail_retry_max_us < c->mail_retry_min_us)
		return bw_cfg_error(err, member(grp, "retry_max"),
		                    "retry_max: at least retry_min");
	if (t != NULL) {
		if (transport(c, grp, t, err) < 0)
			return -1;
	} else {
		/* the first run's default: .eml files beside the store */
		char *d = bw_path_dir(c->store);

		c->owned[0] = xasprintf("%s/mail", d);
		free(d);
		c->mail_transport = NOTIFCONF_FILE;
		c->mail_dir = c->owned[0];
	}
	if (tls != NULL) {
		if (strcmp(tls, "none") == 0 &&
		    c->mail_transport == NOTIFCONF_SMTP)
			c->mail_starttls = false;
		else if (strcmp(tls, "starttls") != 0 ||
		         c->mail_transport != NOTIFCONF_SMTP)
			return bw_cfg_error(
			    err, member(grp, "tls"),
			    "tls: \"starttls\" (the default) or "
			    "\"none\", with an smtp:// transport "
			    "(smtps:// is TLS from the start)");
	}
	if ((c->mail_username == NULL) != (c->mail_password_file == NULL))
		return bw_cfg_error(err, grp,
		                    "mail: username and password_file go "
		                    "together");
	if (c->mail_username != NULL && c->mail_transport == NOTIFCONF_SMTP &&
	    !c->mail_starttls)
		return bw_cfg_error(err, member(grp, "tls"),
		                    "tls: \"none\" would send the password in "
		                    "clear: use starttls or smtps://");
	if (c->mail_from == NULL)
		c->mail_from = "breachwatch@localhost";
	return 0;
}

static int policy_of(const config_setting_t *s, const char *v,
                     enum notifconf_policy *out, struct bw_error *err)
{
	if (strcmp(v, "auto") == 0)
		*out = NOTIFCONF_AUTO;
	else if (strcmp(v, "approve") == 0)
		*out = NOTIFCONF_APPROVE;
	else
		return bw_cfg_error(err, s,
		                    "policy: \"%s\" is not auto or approve", v);
	return 0;
}

static int load_policies(struct notifconf *c, const config_setting_t *grp,
                         struct bw_error *err)
{
	const config_setting_t *sev = member(grp, "policy_severity");
	const config_setting_t *cat = member(grp, "policy_category");
	const char *def = NULL;

	c->policy = NOTIFCONF_AUTO;
	if (bw_cfg_string(grp, "policy", false, &def, err) < 0 ||
	    (def != NULL &&
	     policy_of(member(grp, "policy"), def, &c->policy, err) < 0))
		return -1;
	if (sev != NULL) {
		if (!config_setting_is_group(sev))
			return bw_cfg_error(err, sev,
			                    "policy_severity: a group "
			                    "{ critical = \"approve\"; }");
		for (int i = 0; i < config_setting_length(sev); i++) {
			config_setting_t *m = config_setting_get_elem(sev, i);
			enum bw_severity v =
			    bw_severity_by_name(config_setting_name(m));
			const char *p = config_setting_get_string(m);

			if (v == 0)
				return bw_cfg_error(
				    err, m,
				    "policy_severity: \"%s\" is "
				    "not low, medium, high or "
				    "critical",
				    config_setting_name(m));
			if (p == NULL)
				return bw_cfg_error(
				    err, m, "policy_severity: a string");
			if (policy_of(m, p, &c->policy_severity[v], err) < 0)
				return -1;
		}
	}
	if (cat != NULL) {
		if (!config_setting_is_group(cat))
			return bw_cfg_error(
			    err, cat,
			    "policy_category: a group "
			    "{ insider-access = \"approve\"; }");
		for (int i = 0; i < config_setting_length(cat); i++) {
			config_setting_t *m = config_setting_get_elem(cat, i);
			const char *p = config_setting_get_string(m);
			size_t k = c->n_policy_category;

			if (p == NULL)
				return bw_cfg_error(
				    err, m, "policy_category: a string");
			if (k == NOTIFCONF_MAX_POLICIES)
				return bw_cfg_error(err, m,
				                    "policy_category: at most "
				                    "%d",
				                    NOTIFCONF_MAX_POLICIES);
			c->policy_category[k].category = config_setting_name(m);
			if (policy_of(m, p, &c->policy_category[k].policy,
			              err) < 0)
				return -1;
			c->n_policy_category++;
		}
	}
	return 0;
}

static int load_notify(struct notifconf *c, const config_setting_t *grp,
                       struct bw_error *err)
{
	const config_setting_t *team = NULL;
	bool customers = true;

	c->grouping_wait_us = 30 * SEC;
	c->grouping_max_us = 300 * SEC;
	c->escalation_us = 900 * SEC;
	c->reminder_us = 3600 * SEC;
	c->problem_us = 60 * SEC;
	if (group(grp, "notify", notify_keys, err) < 0 ||
	    bw_cfg_strings(grp, "team", false, &team, err) < 0 ||
	    bw_cfg_bool(grp, "customers", false, &customers, err) < 0 ||
	    bw_cfg_string(grp, "templates", false, &c->templates, err) < 0 ||
	    bw_cfg_string(grp, "shipped_templates", false,
	                  &c->shipped_templates, err) < 0 ||
	    duration(grp, "grouping_wait", 0, 3600 * SEC, "between 0 and 1h",
	             &c->grouping_wait_us, err) < 0 ||
	    duration(grp, "grouping_max", 0, 86400 * SEC, "between 0 and 1d",
	             &c->grouping_max_us, err) < 0 ||
	    duration(grp, "escalation_interval", 0, 86400 * SEC,
	             "between 0 and 1d", &c->escalation_us, err) < 0 ||
	    duration(grp, "reminder_interval", SEC, 7 * 86400 * SEC,
	             "between 1s and 7d", &c->reminder_us, err) < 0 ||
	    duration(grp, "problem_interval", 0, 86400 * SEC,
	             "between 0 and 1d", &c->problem_us, err) < 0 ||
	    absolute(grp, "templates", c->templates, err) < 0 ||
	    absolute(grp, "shipped_templates", c->shipped_templates, err) < 0 ||
	    load_policies(c, grp, err) < 0)
		return -1;
	c->notify_customers = customers;
	if (c->grouping_max_us < c->grouping_wait_us)
		c->grouping_max_us = c->grouping_wait_us;
	if (c->shipped_templates == NULL) {
		struct stat st;

		c->shipped_templates = BW_TEMPLATES_DIR;
#ifdef BW_SOURCE_TEMPLATES_DIR
		/* not installed: run from the build tree */
		if (stat(BW_TEMPLATES_DIR, &st) < 0)
			c->shipped_templates = BW_SOURCE_TEMPLATES_DIR;
#endif
	}
	if (team != NULL) {
		int n = config_setting_is_scalar(team)
		            ? 1
		            : config_setting_length(team);

		if (n < 1 || n > NOTIFCONF_MAX_TEAM)
			return bw_cfg_error(err, team, "team: 1-%d addresses",
			                    NOTIFCONF_MAX_TEAM);
		for (int i = 0; i < n; i++) {
			const char *a =
			    config_setting_is_scalar(team)
			        ? config_setting_get_string(team)
			        : config_setting_get_string_elem(team, i);

			if (address(team, "team", a, err) < 0)
				return -1;
			c->team[c->n_team++] = a;
		}
	} else {
		c->team[c->n_team++] = "root@localhost";
	}
	return 0;
}

int notifconf_load_notify(struct notifconf *c, const config_setting_t *root,
                          struct bw_error *err)
{
	if (load_org(c, config_setting_get_member(root, "organisation"), err) <
	        0 ||
	    load_directory(c, config_setting_get_member(root, "directory"),
	                   err) < 0 ||
	    load_mail(c, config_setting_get_member(root, "mail"), err) < 0 ||
	    load_notify(c, config_setting_get_member(root, "notify"), err) < 0)
		return -1;
	if (c->org_contact == NULL)
		c->org_contact =
		    c->mail_reply_to != NULL ? c->mail_reply_to : c->mail_from;
	return 0;
}

enum notifconf_policy notifconf_policy_for(const struct notifconf *c,
                                           enum bw_severity severity,
                                           const char *category)
{
	for (size_t i = 0; category != NULL && i < c->n_policy_category; i++)
		if (strcmp(c->policy_category[i].category, category) == 0)
			return c->policy_category[i].policy;
	if (severity >= BW_SEV_LOW && severity <= BW_SEV_CRITICAL &&
	    c->policy_severity[severity] != NOTIFCONF_POLICY_UNSET)
		return c->policy_severity[severity];
	return c->policy;
}

const char *notifconf_policy_name(enum notifconf_policy p)
{
	return p == NOTIFCONF_APPROVE ? "approve" : "auto";
}

int notifconf_load_password(const struct notifconf *c, char **out,
                            struct bw_error *err)
{
	const char *path = c->mail_password_file;
	char buf[NOTIFCONF_MAX_PASSWORD + 2];
	struct stat st;
	ssize_t n;
	int fd;

	*out = NULL;
	if (path == NULL)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bw_error_set(err, path, 0, "%s", strerror(errno));
	if (fstat(fd, &st) < 0 || (st.st_mode & 077) != 0) {
		close(fd);
		return bw_error_set(err, path, 0,
		                    "the password file has mode %04o: others "
		                    "may read it (chmod 0600)",
		                    (unsigned)(st.st_mode & 07777));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return bw_error_set(err, path, 0, "%s", strerror(errno));
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0' || strlen(buf) > NOTIFCONF_MAX_PASSWORD) {
		explicit_bzero(buf, sizeof(buf));
		return bw_error_set(err, path, 0,
		                    "the password must be one line of 1-%d "
		                    "bytes",
		                    NOTIFCONF_MAX_PASSWORD);
	}
	*out = xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

void notifconf_render_params(const struct notifconf *c,
			     struct render_params *out)
{
	*out = (struct render_params){
		.site_dir = c->templates,
		.shipped_dir = c->shipped_templates,
		.org = { .name = c->org_name,
			 .contact = c->org_contact,
			 .dpo = c->org_dpo,
			 .website = c->org_website,
			 .from_name = c->mail_from_name,
			 .from = c->mail_from,
			 .reply_to = c->mail_reply_to },
		.cli = "breachwatch",
	};
}

void notifconf_directory_params(const struct notifconf *c,
				struct directory_params *out)
{
	*out = (struct directory_params){
		.kind = c->dir_kind,
		.path = c->dir_path,
		.query = c->dir_query,
		.url = c->dir_url,
		.header_file = c->dir_header_file,
		.ca_file = c->dir_ca_file,
		.timeout_us = c->dir_timeout_us,
		.cache_max = c->dir_cache_max,
		.cache_ttl_us = c->dir_cache_ttl_us,
		.retry_after_us = c->dir_retry_us,
		.max_parallel = c->dir_parallel,
	};
}
