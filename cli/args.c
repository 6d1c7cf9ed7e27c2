/*
 * args.c - a command's arguments from a table (see args.h).
 */
#include "args.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"

enum { OPT_JSON = 1000, OPT_SOCKET, OPT_HELP };

int args_usage_error(const struct args_spec *spec, const char *msg)
{
	fprintf(stderr, "breachwatch: %s\nusage: breachwatch %s\n", msg,
		spec->usage);
	return CLI_USAGE;
}

int args_parse(struct cli *c, int argc, char **argv,
	       const struct args_spec *spec, const char **pos, size_t *n_pos)
{
	struct option *lo = xcalloc(spec->n_opts + 4, sizeof(*lo));
	size_t n = 0;
	int ch, rc = 0;

	for (size_t i = 0; i < spec->n_opts; i++)
		lo[n++] = (struct option){
			.name = spec->opts[i].name,
			.has_arg = spec->opts[i].value != NULL
				? required_argument : no_argument,
			.val = (int)i,
		};
	lo[n++] = (struct option){ .name = "json", .val = OPT_JSON };
	lo[n++] = (struct option){ .name = "socket",
				   .has_arg = required_argument,
				   .val = OPT_SOCKET };
	lo[n++] = (struct option){ .name = "help", .val = OPT_HELP };
	opterr = 0;
	/* options may come between the positional arguments; "--" ends
	 * them (for a text that starts with "-") */
	while ((ch = getopt_long(argc, argv, ":", lo, NULL)) != -1) {
		if (ch == OPT_JSON) {
			c->json = true;
		} else if (ch == OPT_SOCKET) {
			c->socket = optarg;
		} else if (ch == OPT_HELP) {
			printf("usage: breachwatch %s\n", spec->usage);
			rc = -1;
			goto out;
		} else if (ch >= 0 && (size_t)ch < spec->n_opts) {
			if (spec->opts[ch].value != NULL)
				*spec->opts[ch].value = optarg;
			else
				*spec->opts[ch].flag = true;
		} else {
			char msg[160];

			if (ch == ':')
				snprintf(msg, sizeof(msg), "%s needs a value",
					 argv[optind - 1]);
			else
				snprintf(msg, sizeof(msg), "unknown option %s",
					 argv[optind - 1]);
			rc = args_usage_error(spec, msg);
			goto out;
		}
	}
	*n_pos = 0;
	for (int i = optind; i < argc; i++) {
		if (*n_pos == spec->max_pos) {
			char msg[160];

			snprintf(msg, sizeof(msg), "unexpected argument \"%.60s\"",
				 argv[i]);
			rc = args_usage_error(spec, msg);
			goto out;
		}
		pos[(*n_pos)++] = argv[i];
	}
	if (*n_pos < spec->min_pos)
		rc = args_usage_error(spec, "missing argument");
out:
	free(lo);
	return rc;
}
