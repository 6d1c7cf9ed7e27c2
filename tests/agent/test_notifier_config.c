/*
 * test_notifier_config.c - the agent config's notifier group
 * (agent/config.c): defaults, every key, errors at file:line, and the key
 * files it names. Temporary directories and files: the containment tests'
 * helpers (tests/contain/helpers.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../agent/config.h"
#include "../../agent/delivery.h"
#include "../contain/helpers.h"
#include "keys.h"
#include "xmalloc.h"
#include "check_main.h"

static char *dir;

static void setup(void)
{
	dir = th_tmpdir();
}

static void teardown(void)
{
	th_rmdir(dir);
	dir = NULL;
}

/* Load a config whose line 1 is the agent group and the rest is text. */
static struct agentconf *load(const char *text, struct bw_error *err)
{
	char *conf = xasprintf("agent = { state_dir = \"%s/state\"; };\n%s",
			       dir, text);
	char *path = th_write(dir, "agent.conf", conf);
	struct agentconf *c = agentconf_load(path, err);

	free(conf);
	free(path);
	return c;
}

/* The config must be refused with "<dir>/agent.conf:<line>: <want>". */
static void refused(const char *text, int line, const char *want)
{
	struct bw_error err;
	struct agentconf *c = load(text, &err);
	char msg[1024], *expect;

	ck_assert_msg(c == NULL, "accepted: %s", text);
	bw_error_str(&err, msg, sizeof(msg));
	expect = xasprintf("%s/agent.conf:%d: %s", dir, line, want);
	ck_assert_str_eq(msg, expect);
	free(expect);
}

START_TEST(absent_and_defaults)
{
	struct bw_error err;
	struct agentconf *c = load("", &err);
	char *spool;

	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert(!c->has_notifier);
	agentconf_destroy(&c);

	c = load("notifier = {\n"
		 "  endpoint = \"tcp://notifier.example:7401\";\n"
		 "  notifier_key = \"/etc/breachwatch/notifier.pub\";\n"
		 "  key = \"/etc/breachwatch/agent.key\";\n"
		 "};\n",
		 &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert(c->has_notifier);
	ck_assert_str_eq(c->notifier.endpoint, "tcp://notifier.example:7401");
	ck_assert_str_eq(c->notifier.notifier_key,
			 "/etc/breachwatch/notifier.pub");
	ck_assert_str_eq(c->notifier.key, "/etc/breachwatch/agent.key");
	spool = xasprintf("%s/state/spool", dir);
	ck_assert_str_eq(c->notifier.spool_dir, spool);
	free(spool);
	ck_assert_uint_eq(c->notifier.spool_max_bytes, SPOOL_DEFAULT_MAX_BYTES);
	ck_assert_uint_eq(c->notifier.spool_max_revisions,
			  SPOOL_DEFAULT_MAX_ITEMS);
	ck_assert_uint_eq(c->notifier.held_max_revisions,
			  DELIVERY_DEFAULT_HELD_MAX_REVISIONS);
	ck_assert_uint_eq(c->notifier.held_max_bytes,
			  DELIVERY_DEFAULT_HELD_MAX_BYTES);
	/* 0: the sender's own defaults */
	ck_assert_uint_eq(c->notifier.window, 0);
	ck_assert_int_eq(c->notifier.ack_timeout_us, 0);
	ck_assert_int_eq(c->notifier.heartbeat_us, 0);
	agentconf_destroy(&c);
}
END_TEST

START_TEST(every_key)
{
	struct bw_error err;
	struct agentconf *c;

	c = load("notifier = {\n"
		 "  endpoint = \"tcp://[::1]:65535\";\n"
		 "  notifier_key = \"n.pub\"; key = \"a.key\";\n"
		 "  spool = \"/var/spool/bw\";\n"
		 "  spool_max_bytes = 5000000000L;\n"
		 "  spool_max_revisions = 7;\n"
		 "  held_max_bytes = 2097152; held_max_revisions = 3;\n"
		 "  window = 4; ack_timeout = \"500ms\"; heartbeat = 2;\n"
		 "};\n",
		 &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_str_eq(c->notifier.endpoint, "tcp://[::1]:65535");
	ck_assert_str_eq(c->notifier.spool_dir, "/var/spool/bw");
	ck_assert_uint_eq(c->notifier.spool_max_bytes, 5000000000ULL);
	ck_assert_uint_eq(c->notifier.spool_max_revisions, 7);
	ck_assert_uint_eq(c->notifier.held_max_bytes, 2097152);
	ck_assert_uint_eq(c->notifier.held_max_revisions, 3);
	ck_assert_uint_eq(c->notifier.window, 4);
	ck_assert_int_eq(c->notifier.ack_timeout_us, 500000);
	ck_assert_int_eq(c->notifier.heartbeat_us, 2000000);
	agentconf_destroy(&c);

	c = load("notifier = { endpoint = \"tcp://10.1.2.3:1\"; "
		 "notifier_key = \"n\"; key = \"k\"; };\n",
		 &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	agentconf_destroy(&c);
}
END_TEST

START_TEST(errors_at_file_line)
{
	static const char keys[] = "notifier_key = \"n\"; key = \"k\";";
	char *t;

	refused("notifier = (1, 2);\n", 2, "notifier: must be a group");
	t = xasprintf("notifier = {\n  %s\n  windw = 3;\n};\n", keys);
	refused(t, 4, "unknown setting \"windw\" in \"notifier\" (allowed: "
		      "endpoint, notifier_key, key, spool, spool_max_bytes, "
		      "spool_max_revisions, held_max_bytes, held_max_revisions, "
		      "window, ack_timeout, heartbeat)");
	free(t);
	refused("notifier = {\n  endpoint = \"tcp://h:1\"; key = \"k\";\n};\n",
		2, "missing required setting \"notifier_key\" in \"notifier\"");
	static const char *const bad_eps[] = {
		"udp://h:1",     "tcp://h",     "tcp://:7401",
		"tcp://h:0",     "tcp://h:65536", "tcp://h:12a",
		"tcp://h/x:1",   "tcp://::1:7401", "tcp://[::1:7401",
	};
	for (size_t i = 0; i < sizeof(bad_eps) / sizeof(bad_eps[0]); i++) {
		char *want = xasprintf("notifier: endpoint \"%s\" is not "
				       "tcp://HOST:PORT (an IPv6 address in "
				       "brackets)",
				       bad_eps[i]);

		t = xasprintf("notifier = {\n  %s\n  endpoint = \"%s\";\n};\n",
			      keys, bad_eps[i]);
		refused(t, 4, want);
		free(t);
		free(want);
	}
	t = xasprintf("notifier = {\n  endpoint = \"tcp://h:1\"; %s\n"
		      "  ack_timeout = \"50ms\";\n};\n", keys);
	refused(t, 4, "notifier: ack_timeout must be 100ms..1h");
	free(t);
	t = xasprintf("notifier = {\n  endpoint = \"tcp://h:1\"; %s\n"
		      "  spool_max_bytes = 1000;\n};\n", keys);
	refused(t, 4, "\"spool_max_bytes\" is 1000, must be between 1048576 "
		      "and 1099511627776");
	free(t);
	t = xasprintf("notifier = {\n  endpoint = \"tcp://h:1\"; %s\n"
		      "  window = 0;\n};\n", keys);
	refused(t, 4, "\"window\" is 0, must be between 1 and 10000");
	free(t);
	t = xasprintf("notifier = {\n  endpoint = \"tcp://h:1\"; %s\n"
		      "  spool = \"\";\n};\n", keys);
	refused(t, 4, "notifier: spool is empty");
	free(t);
}
END_TEST

START_TEST(key_files)
{
	struct bw_keypair agent, server, got;
	uint8_t server_pub[BW_KEY_LEN];
	struct bw_error err;
	struct agentconf *c;
	char *akey = xasprintf("%s/agent.key", dir);
	char *apub = xasprintf("%s/agent.pub", dir);
	char *skey = xasprintf("%s/notifier.key", dir);
	char *spub = xasprintf("%s/notifier.pub", dir);
	char *text, msg[1024];

	ck_assert_int_eq(bw_keys_generate(&agent, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&server, &err), 0);
	ck_assert_int_eq(bw_keys_write(akey, apub, &agent, "db1", false, &err),
			 0);
	ck_assert_int_eq(bw_keys_write(skey, spub, &server, "notifier", false,
				       &err),
			 0);
	text = xasprintf("notifier = { endpoint = \"tcp://h:1\"; "
			 "notifier_key = \"%s\"; key = \"%s\"; };\n",
			 spub, akey);
	c = load(text, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_int_eq(agentconf_load_keys(c, &got, server_pub, &err), 0);
	ck_assert_mem_eq(got.public_key, agent.public_key, BW_KEY_LEN);
	ck_assert_mem_eq(got.secret_key, agent.secret_key, BW_KEY_LEN);
	ck_assert_mem_eq(server_pub, server.public_key, BW_KEY_LEN);

	/* a secret key others may read is refused, naming the file */
	ck_assert_int_eq(chmod(akey, 0644), 0);
	ck_assert_int_eq(agentconf_load_keys(c, &got, server_pub, &err), -1);
	bw_error_str(&err, msg, sizeof(msg));
	ck_assert_msg(strncmp(msg, akey, strlen(akey)) == 0, "%s", msg);
	ck_assert_int_eq(chmod(akey, 0600), 0);
	/* the notifier's key file missing */
	ck_assert_int_eq(unlink(spub), 0);
	ck_assert_int_eq(agentconf_load_keys(c, &got, server_pub, &err), -1);
	bw_error_str(&err, msg, sizeof(msg));
	ck_assert_msg(strncmp(msg, spub, strlen(spub)) == 0, "%s", msg);
	agentconf_destroy(&c);
	free(text);
	free(akey);
	free(apub);
	free(skey);
	free(spub);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("notifier_config");
	TCase *tc = tcase_create("notifier_config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, absent_and_defaults);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, errors_at_file_line);
	tcase_add_test(tc, key_files);
	suite_add_tcase(s, tc);
	return s;
}
