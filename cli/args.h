/*
 * args.h - a command's arguments, from a table: its options (each with a
 * value, or a flag) and its positional arguments. --json, --socket and
 * --help are accepted by every command.
 */
#ifndef BW_CLI_ARGS_H
#define BW_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

#define ARGS_MAX_POSITIONAL 4

struct args_opt {
	const char *name;   /* long option, without "--" */
	const char **value; /* set to the option's value; NULL for a flag */
	bool *flag;         /* set when a flag is given */
};

struct args_spec {
	const char *usage;          /* "show ID" */
	const struct args_opt *opts; /* may be NULL */
	size_t n_opts;
	size_t min_pos, max_pos;    /* positional arguments */
};

/* Parse argv (argv[0] is the command). Positional arguments go to pos (up
 * to max_pos). Returns -1 for --help (usage printed: exit 0), 0 when
 * parsed, or CLI_USAGE after printing what is wrong. */
int args_parse(struct cli *c, int argc, char **argv,
	       const struct args_spec *spec, const char **pos, size_t *n_pos);

/* Print "breachwatch: <msg>" and the usage line of spec; returns
 * CLI_USAGE. */
int args_usage_error(const struct args_spec *spec, const char *msg);

#endif
