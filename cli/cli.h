/*
 * cli.h - what the commands of breachwatch (the operator's CLI) share: the
 * global options, the exit codes, and one entry point per command.
 *
 * Each command lives in its own file (cmd_<name>.c) and is called with
 * argv starting at the command's name; it parses its own options and
 * returns an exit code. docs/cli.md describes them.
 */
#ifndef BW_CLI_H
#define BW_CLI_H

#include <jansson.h>
#include <stdbool.h>

/* Exit codes (documented in --help and docs/cli.md). */
enum cli_exit {
	CLI_OK = 0,
	CLI_RUNTIME = 1,   /* the notifier unreachable, refused, failed */
	CLI_USAGE = 2,     /* bad usage, bad request, bad config */
	CLI_NOT_FOUND = 3, /* no such incident */
};

#define CLI_DEFAULT_SOCKET "/run/breachwatch/notifier.sock"
#define CLI_DEFAULT_TIMEOUT_S 120

struct cli {
	const char *socket; /* the notifier's control socket */
	bool json;          /* --json: machine-readable output */
	int timeout_s;      /* how long to wait for a response */
};

int cmd_incidents(struct cli *c, int argc, char **argv);
int cmd_show(struct cli *c, int argc, char **argv);
int cmd_contain(struct cli *c, int argc, char **argv);
int cmd_close(struct cli *c, int argc, char **argv);
int cmd_note(struct cli *c, int argc, char **argv);
int cmd_aware(struct cli *c, int argc, char **argv);
int cmd_report(struct cli *c, int argc, char **argv);
int cmd_verify(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_approve(struct cli *c, int argc, char **argv);
int cmd_notify(struct cli *c, int argc, char **argv);
int cmd_notify_status(struct cli *c, int argc, char **argv);
int cmd_keygen(struct cli *c, int argc, char **argv);
int cmd_check_config(struct cli *c, int argc, char **argv);

/* An incident's messages (the "notifications" member of the breach
 * record's JSON): their counts by kind and state, then a table of all, or
 * of the first 50. */
void cmd_notify_table(const json_t *notif, bool all);

/* The operators' decisions about the notices (the "approvals" member of
 * "notifications"), one line each: approved, customers to be told,
 * update asked for, with who, when and why. */
void cmd_notify_decisions(const json_t *notif);

#endif
