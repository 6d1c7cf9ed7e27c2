/*
 * test_config.c - the notifier's configuration (notifier/config.c): the
 * shipped example loads with the values it documents, defaults, every
 * kind of bad value refused at file:line, and the checks of the files the
 * config names (key pair and its public key, authorised agents, group).
 */
#include <check.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../notifier/config.h"
#include "keys.h"
#include "wire.h"
#include "xmalloc.h"
#include "check_main.h"

#define DIR_TEMPLATE "/tmp/bw-notifconf-XXXXXX"
static char dir[sizeof(DIR_TEMPLATE)];

static void setup(void)
{
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *write_conf(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* A valid config with `notifier_extra` inside the notifier group, and
 * `rest` after it (the other groups). */
static char *conf_text(const char *notifier_extra, const char *rest)
{
	return xasprintf("notifier: {\n"
			 "  listen = \"tcp://127.0.0.1:7401\";\n"
			 "  key = \"%s/n.key\";\n"
			 "  authorized_agents = \"%s/agents\";\n"
			 "  store = \"%s/record.db\";\n"
			 "%s"
			 "};\n"
			 "%s",
			 dir, dir, dir, notifier_extra, rest);
}

static const char *default_control =
	"control: { socket = \"/tmp/bw-test.sock\"; };\n";

/* Load text; it must fail at line `line` with msg containing `what`. */
static void refused(const char *text, int line, const char *what)
{
	struct bw_error err;
	char *path = write_conf("bad.conf", text);
	struct notifconf *c = notifconf_load(path, &err);

	ck_assert_msg(c == NULL, "accepted: %s", text);
	ck_assert_msg(strstr(err.file, "bad.conf") != NULL, "file \"%s\"",
		      err.file);
	ck_assert_msg(err.line == line, "line %d, want %d: %s", err.line, line,
		      err.msg);
	ck_assert_msg(strstr(err.msg, what) != NULL, "\"%s\" lacks \"%s\"",
		      err.msg, what);
	free(path);
}

START_TEST(test_example_loads)
{
	struct bw_error err;
	struct notifconf *c =
		notifconf_load(BW_SOURCE_DIR "/examples/notifier.conf", &err);

	ck_assert_msg(c != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	ck_assert_uint_eq(c->n_listen, 2);
	ck_assert_str_eq(c->listen[0], "tcp://0.0.0.0:7401");
	ck_assert_str_eq(c->listen[1], "tcp://[::]:7401");
	ck_assert_str_eq(c->key, "/etc/breachwatch/notifier.key");
	ck_assert_str_eq(c->public_key, "/etc/breachwatch/notifier.pub");
	ck_assert_str_eq(c->authorized_agents,
			 "/etc/breachwatch/authorized_agents");
	ck_assert_str_eq(c->store, "/var/lib/breachwatch/breach-record.db");
	ck_assert_int_eq(c->log_level, LOG_LVL_INFO);
	ck_assert_int_eq(c->heartbeat_us, 10000000);
	ck_assert_int_eq(c->heartbeat_timeout_us, 30000000);
	ck_assert_uint_eq(c->max_incident_bytes, 16777216);
	ck_assert_str_eq(c->control_socket, "/run/breachwatch/notifier.sock");
	ck_assert_uint_eq(c->control_mode, 0660);
	ck_assert_str_eq(c->control_group, "breachwatch-ops");
	ck_assert_uint_eq(c->control_max_clients, 16);
	/* the e-mails */
	ck_assert_str_eq(c->org_name, "Example Mail");
	ck_assert_ptr_nonnull(strstr(c->org_dpo, "Dana Protector"));
	ck_assert_int_eq(c->dir_kind, DIRECTORY_CSV);
	ck_assert_str_eq(c->dir_path, "/etc/breachwatch/customers.csv");
	ck_assert_int_eq(c->mail_transport, NOTIFCONF_SMTP);
	ck_assert_str_eq(c->mail_url, "smtp://mail.example.com:587");
	ck_assert(c->mail_starttls);
	ck_assert_str_eq(c->mail_username, "breachwatch");
	ck_assert_str_eq(c->mail_from, "security-notices@example.com");
	ck_assert_uint_eq(c->mail_connections, 4);
	ck_assert_int_eq(c->mail_rate, 50);
	ck_assert_int_eq(c->mail_retry_min_us, 30000000);
	ck_assert_int_eq(c->mail_max_age_us, INT64_C(172800000000));
	ck_assert_uint_eq(c->n_team, 1);
	ck_assert_str_eq(c->team[0], "soc@example.com");
	ck_assert_int_eq(c->grouping_wait_us, 30000000);
	ck_assert_int_eq(c->grouping_max_us, 300000000);
	ck_assert_int_eq(notifconf_policy_for(c, BW_SEV_CRITICAL, "bulk-read"),
			 NOTIFCONF_APPROVE);
	ck_assert_int_eq(notifconf_policy_for(c, BW_SEV_HIGH, "bulk-read"),
			 NOTIFCONF_AUTO);
	ck_assert_int_eq(notifconf_policy_for(c, BW_SEV_LOW, "insider-access"),
			 NOTIFCONF_APPROVE);
	notifconf_destroy(&c);
	ck_assert_ptr_null(c);
}
END_TEST

START_TEST(test_defaults)
{
	struct bw_error err;
	char *text = conf_text("", default_control);
	char *path = write_conf("min.conf", text);
	struct notifconf *c = notifconf_load(path, &err);

	ck_assert_msg(c != NULL, "%s:%d: %s", err.file, err.line, err.msg);
	ck_assert_ptr_null(c->public_key);
	ck_assert_int_eq(c->log_level, LOG_LVL_INFO);
	ck_assert_int_eq(c->heartbeat_us, 10000000);
	ck_assert_int_eq(c->heartbeat_timeout_us, 30000000);
	ck_assert_uint_eq(c->max_incident_bytes, BW_WIRE_MAX_JSON);
	ck_assert_uint_eq(c->control_mode, 0660);
	ck_assert_ptr_null(c->control_group);
	ck_assert_uint_eq(c->control_max_clients, 16);
	/* without the mail groups: .eml files beside the store, no
	 * directory, root@localhost, auto */
	ck_assert_int_eq(c->mail_transport, NOTIFCONF_FILE);
	{
		char *want = xasprintf("%s/mail", dir);

		ck_assert_str_eq(c->mail_dir, want);
		free(want);
	}
	ck_assert_int_eq(c->dir_kind, DIRECTORY_NONE);
	ck_assert_uint_eq(c->n_team, 1);
	ck_assert_str_eq(c->team[0], "root@localhost");
	ck_assert_str_eq(c->mail_from, "breachwatch@localhost");
	ck_assert(c->notify_customers);
	ck_assert_int_eq(c->grouping_wait_us, 30000000);
	ck_assert_int_eq(notifconf_policy_for(c, BW_SEV_CRITICAL, "x"),
			 NOTIFCONF_AUTO);
	ck_assert_ptr_nonnull(c->shipped_templates);
	notifconf_destroy(&c);
	free(path);
	free(text);
}
END_TEST

START_TEST(test_heartbeat_timeout_follows)
{
	struct bw_error err;
	char *text = conf_text("", "inbox: { heartbeat = \"2s\"; };\n"
				   "control: { socket = \"/tmp/s\"; "
				   "mode = \"0600\"; };\n");
	char *path = write_conf("hb.conf", text);
	struct notifconf *c = notifconf_load(path, &err);

	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_int_eq(c->heartbeat_us, 2000000);
	ck_assert_int_eq(c->heartbeat_timeout_us, 6000000);
	ck_assert_uint_eq(c->control_mode, 0600);
	notifconf_destroy(&c);
	free(path);
	free(text);
}
END_TEST

START_TEST(test_endpoints)
{
	static const char *const good[] = {
		"tcp://127.0.0.1:7401", "tcp://[::1]:7401", "tcp://*:7401",
		"tcp://127.0.0.1:*", "tcp://[::]:65535",
	};
	static const char *const bad[] = {
		"ipc:///tmp/x", "tcp://notifier.example:7401",
		"tcp://127.0.0.1", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536",
		"tcp://127.0.0.1:74o1", "tcp://::1:7401", "tcp://[::1:7401",
		"tcp://256.0.0.1:7401", "tcp://:7401",
	};
	struct bw_error err;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *ep = xasprintf("notifier: { listen = \"%s\"; key = "
				     "\"/k\"; authorized_agents = \"/a\"; "
				     "store = \"/s\"; };\n%s",
				     good[i], default_control);
		char *path = write_conf("ep.conf", ep);
		struct notifconf *c = notifconf_load(path, &err);

		ck_assert_msg(c != NULL, "%s refused: %s", good[i], err.msg);
		ck_assert_str_eq(c->listen[0], good[i]);
		notifconf_destroy(&c);
		free(path);
		free(ep);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *ep = xasprintf("notifier: {\n listen = [\"%s\"];\n key = "
				     "\"/k\"; authorized_agents = \"/a\"; "
				     "store = \"/s\"; };\n%s",
				     bad[i], default_control);

		refused(ep, 2, bad[i]);
		free(ep);
	}
}
END_TEST

START_TEST(test_refusals)
{
	char *t;

	/* a misspelt key, at its line */
	t = conf_text("  lisen = \"x\";\n", default_control);
	refused(t, 6, "lisen");
	free(t);
	/* an unknown group */
	t = conf_text("", "control: { socket = \"/tmp/s\"; };\nmailer: {};\n");
	refused(t, 8, "mailer");
	free(t);
	/* relative paths */
	t = xasprintf("notifier: { listen = \"tcp://127.0.0.1:1\";\n"
		      "  key = \"n.key\"; authorized_agents = \"/a\"; "
		      "store = \"/s\"; };\n%s", default_control);
	refused(t, 2, "absolute");
	free(t);
	/* a mode that lets others in */
	t = conf_text("", "control: { socket = \"/tmp/s\";\n mode = "
			  "\"0666\"; };\n");
	refused(t, 8, "0666");
	free(t);
	/* a mode as a number is a type error */
	t = conf_text("", "control: { socket = \"/tmp/s\";\n mode = 432; };\n");
	refused(t, 8, "mode");
	free(t);
	/* heartbeat_timeout not above heartbeat */
	t = conf_text("", "inbox: { heartbeat = \"10s\";\n heartbeat_timeout = "
			  "\"5s\"; };\ncontrol: { socket = \"/tmp/s\"; };\n");
	refused(t, 8, "heartbeat_timeout");
	free(t);
	/* over the protocol's limit */
	t = conf_text("", "inbox: {\n max_incident_bytes = 67108865; };\n"
			  "control: { socket = \"/tmp/s\"; };\n");
	refused(t, 8, "max_incident_bytes");
	free(t);
	/* a log level that does not exist */
	t = conf_text("  log_level = \"loud\";\n", default_control);
	refused(t, 6, "loud");
	free(t);
	/* a socket path too long for sun_path */
	t = conf_text("", "control: {\n socket = \"/tmp/"
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			  "\"; };\n");
	refused(t, 8, "socket");
	free(t);
	/* the same endpoint twice */
	t = xasprintf("notifier: {\n listen = [\"tcp://*:1\", \"tcp://*:1\"];\n"
		      " key = \"/k\"; authorized_agents = \"/a\"; store = "
		      "\"/s\"; };\n%s", default_control);
	refused(t, 2, "twice");
	free(t);
}
END_TEST

START_TEST(test_mail_refusals)
{
	static const struct {
		const char *groups;
		const char *what;
	} bad[] = {
		{ "mail: {\n transport = \"mailto:x\"; };", "transport" },
		{ "mail: {\n transport = \"file:relative\"; };", "absolute" },
		{ "mail: {\n transport = \"smtp://h:25/path\"; };",
		  "nothing else" },
		{ "mail: {\n tls = \"none\"; };", "tls" },
		{ "mail: { transport = \"smtp://h:25\";\n tls = \"none\"; "
		  "username = \"u\"; password_file = \"/p\"; };",
		  "in clear" },
		{ "mail: {\n username = \"u\"; };", "together" },
		{ "mail: {\n from = \"not an address\"; };", "from" },
		{ "mail: {\n from = \"a@b.c\\r\\nBcc: x@y.z\"; };",
		  "from" },
		{ "mail: {\n connections = 0; };", "connections" },
		{ "mail: { retry_min = \"1m\";\n retry_max = \"1s\"; };",
		  "retry_max" },
		{ "notify: {\n team = [ \"ok@example.com\", \"bad\" ]; };",
		  "team" },
		{ "notify: {\n policy = \"sometimes\"; };", "sometimes" },
		{ "notify: {\n policy_severity = { extreme = \"approve\"; }; };",
		  "extreme" },
		{ "notify: {\n policy_category = { x = \"later\"; }; };",
		  "later" },
		{ "notify: {\n grouping_wait = \"2h\"; };", "grouping_wait" },
		{ "notify: {\n colour = 1; };", "colour" },
		{ "directory: {\n type = \"ldap\"; path = \"/x\"; };", "ldap" },
		{ "directory: {\n type = \"sqlite\"; path = \"/x\"; };",
		  "query" },
		{ "directory: {\n type = \"http\"; url = \"http://x/\"; };",
		  "{id}" },
		{ "directory: {\n type = \"csv\"; };", "path" },
		{ "organisation: {\n name = \"A\\nB\"; };", "name" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *rest = xasprintf("control: { socket = \"/tmp/s\"; };\n%s\n",
				       bad[i].groups);
		char *t = conf_text("", rest);

		/* a key's error is at its line (9); a group's at the group
		 * (8) */
		bool group = strstr(bad[i].what, "together") != NULL ||
			     strcmp(bad[i].what, "query") == 0 ||
			     strcmp(bad[i].what, "{id}") == 0 ||
			     strcmp(bad[i].what, "path") == 0;

		refused(t, group ? 8 : 9, bad[i].what);
		free(t);
		free(rest);
	}
}
END_TEST

START_TEST(test_missing_groups)
{
	struct bw_error err;
	char *t = conf_text("", "");
	char *path = write_conf("nocontrol.conf", t);

	ck_assert_ptr_null(notifconf_load(path, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "control"));
	free(path);
	free(t);
	path = write_conf("nonotifier.conf", default_control);
	ck_assert_ptr_null(notifconf_load(path, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "notifier"));
	free(path);
}
END_TEST

/* The files the config names: a key pair whose public key file matches,
 * one that does not, an authorised-agents file, a group. */
START_TEST(test_check_files)
{
	struct bw_keypair kp, other, loaded;
	struct bw_error err;
	char *key = xasprintf("%s/n.key", dir), *pub = xasprintf("%s/n.pub", dir);
	char *okey = xasprintf("%s/o.key", dir), *opub = xasprintf("%s/o.pub", dir);
	char *agents = xasprintf("%s/agents", dir);
	struct group *gr = getgrgid(getgid());
	char *t, *path, *extra, *ctl;
	struct notifconf *c;
	gid_t gid;
	FILE *f;

	ck_assert_int_eq(bw_keys_generate(&kp, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&other, &err), 0);
	ck_assert_int_eq(bw_keys_write(key, pub, &kp, "notifier", false, &err),
			 0);
	ck_assert_int_eq(bw_keys_write(okey, opub, &other, "other", false,
				       &err),
			 0);
	f = fopen(agents, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_ptr_nonnull(gr);

	extra = xasprintf("  public_key = \"%s\";\n", pub);
	ctl = xasprintf("control: { socket = \"/tmp/s\"; group = \"%s\"; };\n",
			gr->gr_name);
	t = conf_text(extra, ctl);
	free(ctl);
	path = write_conf("files.conf", t);
	c = notifconf_load(path, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_msg(notifconf_check(c, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(notifconf_load_keys(c, &loaded, &err), 0);
	ck_assert_mem_eq(loaded.public_key, kp.public_key, BW_KEY_LEN);
	ck_assert_int_eq(notifconf_control_gid(c, &gid, &err), 0);
	ck_assert_uint_eq(gid, getgid());
	notifconf_destroy(&c);
	free(path);
	free(t);
	free(extra);

	/* the public key of another pair: refused, naming that file */
	extra = xasprintf("  public_key = \"%s\";\n", opub);
	t = conf_text(extra, default_control);
	path = write_conf("wrongpub.conf", t);
	c = notifconf_load(path, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(notifconf_load_keys(c, &loaded, &err), -1);
	ck_assert_str_eq(err.file, opub);
	ck_assert_int_eq(notifconf_check(c, &err), -1);
	notifconf_destroy(&c);
	free(path);
	free(t);
	free(extra);

	/* a secret key others may read: refused by the key loader */
	ck_assert_int_eq(chmod(key, 0640), 0);
	t = conf_text("", default_control);
	path = write_conf("perm.conf", t);
	c = notifconf_load(path, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(notifconf_check(c, &err), -1);
	ck_assert_str_eq(err.file, key);
	ck_assert_int_eq(chmod(key, 0600), 0);
	ck_assert_int_eq(notifconf_check(c, &err), 0);
	notifconf_destroy(&c);
	free(path);
	free(t);

	/* a group that does not exist */
	t = conf_text("", "control: { socket = \"/tmp/s\"; group = "
			  "\"no-such-group-bw\"; };\n");
	path = write_conf("group.conf", t);
	c = notifconf_load(path, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(notifconf_check(c, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "no-such-group-bw"));
	notifconf_destroy(&c);
	free(path);
	free(t);

	/* the authorised-agents file missing */
	ck_assert_int_eq(unlink(agents), 0);
	t = conf_text("", default_control);
	path = write_conf("noagents.conf", t);
	c = notifconf_load(path, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(notifconf_check(c, &err), -1);
	ck_assert_str_eq(err.file, agents);
	notifconf_destroy(&c);
	free(path);
	free(t);
	free(key);
	free(pub);
	free(okey);
	free(opub);
	free(agents);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("notifier_config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_example_loads);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_heartbeat_timeout_follows);
	tcase_add_test(tc, test_endpoints);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_mail_refusals);
	tcase_add_test(tc, test_missing_groups);
	tcase_add_test(tc, test_check_files);
	suite_add_tcase(s, tc);
	return s;
}
