/*
 * cmd_check.c - breachwatch check-config FILE: check an agent config, a
 * notifier config or a rule file, telling which from its top-level
 * settings (or --type).
 *
 * A notifier config is checked here, with the notifier's own loader
 * (notifier/config.c) and the files it names. An agent config and a rule
 * file are checked by breachwatch-agent --check-config, the very code that
 * will load them, run as a child: an agent config with its own rules (or
 * --rules PATH instead), a rule file with the site facts of an agent
 * config (--agent-config, default /etc/breachwatch/agent.conf when it
 * exists, else none).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/cfg.h"
#include "../common/path.h"
#include "../common/xmalloc.h"
#include "../notifier/config.h"
#include "args.h"
#include "out.h"

#define DEFAULT_AGENT_CONFIG "/etc/breachwatch/agent.conf"
#define MAX_CHILD_OUTPUT 65536

enum kind { K_UNKNOWN, K_AGENT, K_NOTIFIER, K_RULES };

static const struct {
	const char *name;
	enum kind kind;
} kinds[] = {
	{ "agent", K_AGENT },
	{ "notifier", K_NOTIFIER },
	{ "rules", K_RULES },
};

/* Top-level settings that tell a file's kind. */
static const struct {
	const char *setting;
	enum kind kind;
} markers[] = {
	{ "notifier", K_NOTIFIER }, { "control", K_NOTIFIER },
	{ "inbox", K_NOTIFIER },    { "rules", K_RULES },
	{ "agent", K_AGENT },       { "inputs", K_AGENT },
	{ "site", K_AGENT },        { "actions", K_AGENT },
	{ "containment", K_AGENT }, { "incidents", K_AGENT },
};

/* Append to the message; past its ceiling the rest is cut, which is
 * fine for a message. */
static void addf(struct bw_buf *b, const char *fmt, ...) BW_PRINTF(2, 3);

static void addf(struct bw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = bw_buf_vprintf(b, fmt, ap);
	va_end(ap);
	(void)rc;
}

static void addn(struct bw_buf *b, const char *p, size_t len)
{
	int rc = bw_buf_add(b, p, len);

	(void)rc;
}

static const char *kind_name(enum kind k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "unknown";
}

/* The kind from the first top-level setting that tells it; K_UNKNOWN
 * with err filled when the file does not parse. */
static enum kind detect(const char *path, struct bw_error *err)
{
	config_t cfg;
	const config_setting_t *root;
	enum kind k = K_UNKNOWN;

	if (bw_cfg_read_file(&cfg, path, NULL, err) < 0)
		return K_UNKNOWN;
	root = config_root_setting(&cfg);
	for (int i = 0; k == K_UNKNOWN && i < config_setting_length(root);
	     i++) {
		const char *name =
			config_setting_name(config_setting_get_elem(root, i));

		for (size_t m = 0; name != NULL &&
				   m < sizeof(markers) / sizeof(markers[0]);
		     m++)
			if (strcmp(name, markers[m].setting) == 0) {
				k = markers[m].kind;
				break;
			}
	}
	if (k == K_UNKNOWN)
		bw_error_set(err, path, 0,
			     "cannot tell what this file is (no notifier, "
			     "agent, inputs, site or rules setting); give "
			     "--type agent|notifier|rules");
	config_destroy(&cfg);
	return k;
}

/* breachwatch-agent: $BREACHWATCH_AGENT, beside this program (installed:
 * bin/ and sbin/; in the build tree: cli/ and agent/), or on PATH. */
static char *find_agent(void)
{
	static const char *const rel[] = { "breachwatch-agent",
					   "../sbin/breachwatch-agent",
					   "../agent/breachwatch-agent" };
	static const char *const fixed[] = { "/usr/sbin/breachwatch-agent",
					     "/usr/local/sbin/breachwatch-agent" };
	const char *env = getenv("BREACHWATCH_AGENT");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *dir;

		self[n] = '\0';
		dir = bw_path_dir(self);
		for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			char *p = xasprintf("%s/%s", dir, rel[i]);

			if (access(p, X_OK) == 0) {
				free(dir);
				return p;
			}
			free(p);
		}
		free(dir);
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (access(fixed[i], X_OK) == 0)
			return xstrdup(fixed[i]);
	return xstrdup("breachwatch-agent"); /* execvp: PATH */
}

/* Run argv, its stdout and stderr into out (bounded). Returns its exit
 * status, or -1 (out says why) when it could not run. */
static int run_child(char *const *argv, struct bw_buf *out)
{
	int pfd[2], status;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		addf(out, "pipe: %s\n", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		addf(out, "fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		dup2(pfd[1], STDERR_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s (set BREACHWATCH_AGENT)\n",
			argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		n = read(pfd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* past the ceiling the rest is read and dropped */
		addn(out, buf, (size_t)n);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int check_with_agent(enum kind k, const char *file,
			    const char *agent_config, const char *rules,
			    struct bw_buf *out)
{
	char *agent = find_agent();
	char tmp[] = "/tmp/breachwatch-check-XXXXXX";
	const char *conf = agent_config;
	char *argv[8];
	int n = 0, rc, fd = -1;

	argv[n++] = agent;
	argv[n++] = "--check-config";
	if (k == K_AGENT) {
		argv[n++] = (char *)file;
		if (rules != NULL) {
			argv[n++] = "--rules";
			argv[n++] = (char *)rules;
		}
	} else {
		if (conf == NULL && access(DEFAULT_AGENT_CONFIG, R_OK) == 0)
			conf = DEFAULT_AGENT_CONFIG;
		if (conf == NULL) {
			/* no site facts: an empty agent config */
			fd = mkstemp(tmp);
			if (fd < 0) {
				addf(out, "mkstemp: %s\n",
						  strerror(errno));
				free(agent);
				return -1;
			}
			close(fd);
			conf = tmp;
		}
		argv[n++] = (char *)conf;
		argv[n++] = "--rules";
		argv[n++] = (char *)file;
	}
	argv[n] = NULL;
	rc = run_child(argv, out);
	if (fd >= 0)
		unlink(tmp);
	free(agent);
	return rc;
}

int cmd_check_config(struct cli *c, int argc, char **argv)
{
	const char *type = NULL, *agent_config = NULL, *rules = NULL;
	const struct args_opt opts[] = {
		{ .name = "type", .value = &type },
		{ .name = "agent-config", .value = &agent_config },
		{ .name = "rules", .value = &rules },
	};
	const struct args_spec spec = {
		.usage = "check-config FILE [--type agent|notifier|rules] "
			 "[--agent-config FILE] [--rules PATH]",
		.opts = opts, .n_opts = 3, .min_pos = 1, .max_pos = 1,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	enum kind k = K_UNKNOWN;
	struct bw_error err = { 0 };
	struct bw_buf msg;
	char ebuf[800];
	size_t n_pos;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos), exit_code;

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (type != NULL) {
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strcmp(type, kinds[i].name) == 0)
				k = kinds[i].kind;
		if (k == K_UNKNOWN)
			return args_usage_error(&spec, "--type: agent, "
						"notifier or rules");
	}
	bw_buf_init(&msg, MAX_CHILD_OUTPUT);
	if (k == K_UNKNOWN)
		k = detect(pos[0], &err);
	if (k == K_UNKNOWN) {
		exit_code = CLI_USAGE;
		addf(&msg, "%s\n",
				  bw_error_str(&err, ebuf, sizeof(ebuf)));
	} else if (k == K_NOTIFIER) {
		struct notifconf *nc = notifconf_load(pos[0], &err);

		if (nc == NULL || notifconf_check(nc, &err) < 0) {
			exit_code = CLI_USAGE;
			addf(&msg, "%s\n",
					  bw_error_str(&err, ebuf,
						       sizeof(ebuf)));
		} else {
			exit_code = CLI_OK;
			addf(&msg, "%s: ok (notifier config)\n",
					  pos[0]);
		}
		notifconf_destroy(&nc);
	} else {
		rc = check_with_agent(k, pos[0], agent_config, rules, &msg);
		exit_code = rc == 0 ? CLI_OK : rc == 2 ? CLI_USAGE : CLI_RUNTIME;
	}
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:b, s:s#}", "file", pos[0],
				      "type", kind_name(k), "ok",
				      exit_code == CLI_OK, "output",
				      msg.data != NULL ? msg.data : "",
				      msg.len);
		out_json(o);
		json_decref(o);
	} else {
		fputs(msg.data != NULL ? msg.data : "",
		      exit_code == CLI_OK ? stdout : stderr);
	}
	bw_buf_free(&msg);
	return exit_code;
}
