/*
 * cmd_report.c - breachwatch report ID and verify: the breach record of
 * one incident, and the check of the whole audit chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "out.h"

int cmd_report(struct cli *c, int argc, char **argv)
{
	const char *format = NULL;
	const struct args_opt opts[] = { { .name = "format",
					   .value = &format } };
	const struct args_spec spec = {
		.usage = "report ID [--format md|json]",
		.opts = opts, .n_opts = 1, .min_pos = 1, .max_pos = 1,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	const json_t *report;
	size_t n_pos;
	json_t *resp;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (format == NULL)
		format = c->json ? "json" : "md";
	if (strcmp(format, "md") != 0 && strcmp(format, "markdown") != 0 &&
	    strcmp(format, "json") != 0)
		return args_usage_error(&spec, "--format: md or json");
	rc = client_call(c,
			 json_pack("{s:s, s:s, s:s}", "cmd", "report", "id",
				   pos[0], "format", format),
			 &resp);
	if (rc != CLI_OK)
		return rc;
	report = json_object_get(resp, "report");
	if (json_is_string(report)) {
		/* Markdown, its text escaped by the notifier; control
		 * characters are still kept from the terminal */
		out_text(stdout, json_string_value(report), true);
	} else {
		out_json(report);
	}
	json_decref(resp);
	return CLI_OK;
}

int cmd_verify(struct cli *c, int argc, char **argv)
{
	const struct args_spec spec = { .usage = "verify" };
	const char *pos[ARGS_MAX_POSITIONAL];
	const json_t *v;
	size_t n_pos;
	json_t *resp;
	bool ok;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	rc = client_call(c, json_pack("{s:s}", "cmd", "verify"), &resp);
	if (rc != CLI_OK)
		return rc;
	v = json_object_get(resp, "verify");
	ok = json_is_true(json_object_get(v, "ok"));
	if (c->json) {
		client_print_json(resp);
	} else if (ok) {
		printf("audit chain verified: %lld entries, head %s\n",
		       out_int(v, "entries"),
		       out_str(v, "head") != NULL ? out_str(v, "head") : "-");
	} else {
		printf("audit chain BROKEN: first bad entry %lld of %lld: ",
		       out_int(v, "first_bad"), out_int(v, "entries"));
		out_text(stdout, out_str(v, "problem"), false);
		putchar('\n');
	}
	json_decref(resp);
	return ok ? CLI_OK : CLI_RUNTIME;
}
