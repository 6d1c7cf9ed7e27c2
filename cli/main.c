/*
 * main.c - breachwatch: the operator's command.
 *
 *   breachwatch [--socket PATH] [--json] [--timeout SECONDS] COMMAND [ARGS]
 *
 * Most commands are requests to breachwatch-notifier over its control
 * socket (only the notifier writes the breach record; the socket's file
 * permissions say who may ask, and the notifier records the caller's user
 * name with every change). keygen and check-config work locally.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef BW_VERSION
#define BW_VERSION "unknown"
#endif

static const struct {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
} commands[] = {
	{ "incidents", cmd_incidents },
	{ "show", cmd_show },
	{ "contain", cmd_contain },
	{ "close", cmd_close },
	{ "note", cmd_note },
	{ "aware", cmd_aware },
	{ "report", cmd_report },
	{ "verify", cmd_verify },
	{ "status", cmd_status },
	{ "approve", cmd_approve },
	{ "notify", cmd_notify },
	{ "notify-status", cmd_notify_status },
	{ "keygen", cmd_keygen },
	{ "check-config", cmd_check_config },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: breachwatch [--socket PATH] [--json] [--timeout SECONDS] COMMAND\n"
		"\n"
		"Incidents and the breach record (asks breachwatch-notifier):\n"
		"  incidents [--state S] [--severity S] [--since TIME] [--limit N]\n"
		"                         list incidents, newest first; S is detected,\n"
		"                         contained, notified or closed; --severity is the\n"
		"                         lowest shown (low, medium, high, critical); TIME\n"
		"                         is RFC 3339 or a span back from now (24h, 7d)\n"
		"  show ID                the incident: facts, clocks and deadline,\n"
		"                         customers, evidence, containment, notifications,\n"
		"                         notes, timeline\n"
		"  contain ID --note TEXT record a containment step you took\n"
		"  close ID --resolution TEXT\n"
		"                         close the incident, saying why\n"
		"  note ID TEXT           add a note to the record\n"
		"  aware ID TIME --reason TEXT\n"
		"                         set when the organisation became aware (moves\n"
		"                         the GDPR 72-hour deadline)\n"
		"  report ID [--format md|json]\n"
		"                         the breach record (GDPR Art. 33(5))\n"
		"  approve ID [--reason TEXT]\n"
		"                         send the customer notices held for your\n"
		"                         approval (policy approve)\n"
		"  notify ID --reason TEXT\n"
		"                         the customers are to be told although the\n"
		"                         rule did not ask for it (after you looked\n"
		"                         into it): each affected customer, and each\n"
		"                         one named later, is sent a notice; counts as\n"
		"                         the approval; allowed on a closed incident\n"
		"  notify ID --update --reason TEXT\n"
		"                         send every customer already sent a notice the\n"
		"                         next version of it (\"Update to our Notice of\n"
		"                         Data Breach\") with the facts as they are now;\n"
		"                         refused while notices are still waiting\n"
		"  notify-status ID [--all]\n"
		"                         the incident's e-mails: the team's, each\n"
		"                         customer's notice, state, attempts, replies\n"
		"  verify                 check the audit chain of the whole record\n"
		"  status                 the notifier: counters, agents, connections\n"
		"Local:\n"
		"  keygen --out PREFIX [--name NAME] [--force]\n"
		"                         write a CURVE key pair: PREFIX.key (secret,\n"
		"                         0600) and PREFIX.pub (\"<key> <name>\"; NAME\n"
		"                         defaults to the last part of PREFIX)\n"
		"  check-config FILE [--type agent|notifier|rules] [--agent-config FILE]\n"
		"               [--rules PATH]\n"
		"                         check an agent config (with its rules, or\n"
		"                         PATH's), a notifier config or a rule file (with\n"
		"                         the site facts of --agent-config); the kind is\n"
		"                         found out from the contents\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH      the notifier's control socket (default\n"
		"                         $BREACHWATCH_SOCKET, else " CLI_DEFAULT_SOCKET ")\n"
		"  -j, --json             JSON output (also accepted after COMMAND)\n"
		"  -t, --timeout SECONDS  wait this long for an answer (default %d)\n"
		"  -h, --help             this text;  --version  the version\n"
		"\n"
		"Output is for a person (aligned columns, times in UTC, RFC 3339)\n"
		"unless --json. Changes are recorded with your user name.\n"
		"\n"
		"Exit status: 0 ok; 1 runtime error (the notifier unreachable, it\n"
		"refused, e.g. notify with customer notices turned off, or failed);\n"
		"2 bad usage, bad request or bad configuration; 3 no such incident.\n"
		"See docs/cli.md.\n",
		CLI_DEFAULT_TIMEOUT_S);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .timeout_s = CLI_DEFAULT_TIMEOUT_S };
	const char *env = getenv("BREACHWATCH_SOCKET");
	char *end;
	long t;
	int ch;

	c.socket = env != NULL && env[0] != '\0' ? env : CLI_DEFAULT_SOCKET;
	/* "+": options end at COMMAND; the command parses the rest */
	while ((ch = getopt_long(argc, argv, "+s:jt:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.socket = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 't':
			t = strtol(optarg, &end, 10);
			if (*end != '\0' || t < 1 || t > 86400) {
				fprintf(stderr, "breachwatch: --timeout: 1-86400 "
						"seconds\n");
				return CLI_USAGE;
			}
			c.timeout_s = (int)t;
			break;
		case 'h':
			usage(stdout);
			return CLI_OK;
		case 'V':
			printf("breachwatch %s\n", BW_VERSION);
			return CLI_OK;
		default:
			usage(stderr);
			return CLI_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return CLI_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			argv += optind;
			argc -= optind;
			optind = 0; /* reset getopt for the command */
			return commands[i].run(&c, argc, argv);
		}
	}
	fprintf(stderr, "breachwatch: unknown command \"%s\" (see --help)\n",
		argv[optind]);
	return CLI_USAGE;
}
