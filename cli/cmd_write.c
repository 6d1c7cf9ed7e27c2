/*
 * cmd_write.c - the commands that add to an incident's record: contain,
 * close, note, aware. The notifier records them with the caller's user
 * name, which it has from the kernel, not from us.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "args.h"
#include "client.h"
#include "out.h"

/* Send req, then say what was recorded. */
static int write_call(struct cli *c, json_t *req, const char *done)
{
	json_t *resp;
	int rc = client_call(c, req, &resp);

	if (rc != CLI_OK)
		return rc;
	if (c->json) {
		client_print_json(resp);
	} else {
		printf("%s: %s (recorded as ", out_str(resp, "id"), done);
		out_text(stdout, out_str(resp, "operator"), false);
		printf(")\n");
	}
	json_decref(resp);
	return CLI_OK;
}

static int nonempty(const struct args_spec *spec, const char *what,
		    const char *v)
{
	char msg[80];

	if (v != NULL && v[0] != '\0')
		return 0;
	snprintf(msg, sizeof(msg), "%s is required and may not be empty",
		 what);
	return args_usage_error(spec, msg);
}

int cmd_contain(struct cli *c, int argc, char **argv)
{
	const char *note = NULL;
	const struct args_opt opts[] = { { .name = "note", .value = &note } };
	const struct args_spec spec = { .usage = "contain ID --note TEXT",
					.opts = opts, .n_opts = 1,
					.min_pos = 1, .max_pos = 1 };
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (nonempty(&spec, "--note", note) != 0)
		return CLI_USAGE;
	return write_call(c,
			  json_pack("{s:s, s:s, s:s}", "cmd", "contain", "id",
				    pos[0], "note", note),
			  "containment step recorded");
}

int cmd_close(struct cli *c, int argc, char **argv)
{
	const char *resolution = NULL;
	const struct args_opt opts[] = {
		{ .name = "resolution", .value = &resolution },
	};
	const struct args_spec spec = {
		.usage = "close ID --resolution TEXT",
		.opts = opts, .n_opts = 1, .min_pos = 1, .max_pos = 1,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (nonempty(&spec, "--resolution", resolution) != 0)
		return CLI_USAGE;
	return write_call(c,
			  json_pack("{s:s, s:s, s:s}", "cmd", "close", "id",
				    pos[0], "resolution", resolution),
			  "closed");
}

int cmd_note(struct cli *c, int argc, char **argv)
{
	const struct args_spec spec = { .usage = "note ID TEXT",
					.min_pos = 2, .max_pos = 2 };
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (nonempty(&spec, "TEXT", pos[1]) != 0)
		return CLI_USAGE;
	return write_call(c,
			  json_pack("{s:s, s:s, s:s}", "cmd", "note", "id",
				    pos[0], "text", pos[1]),
			  "note added");
}

int cmd_aware(struct cli *c, int argc, char **argv)
{
	const char *reason = NULL;
	const struct args_opt opts[] = { { .name = "reason",
					   .value = &reason } };
	const struct args_spec spec = {
		.usage = "aware ID TIME --reason TEXT",
		.opts = opts, .n_opts = 1, .min_pos = 2, .max_pos = 2,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	int64_t us;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (nonempty(&spec, "--reason", reason) != 0)
		return CLI_USAGE;
	if (bw_time_parse_rfc3339(pos[1], strlen(pos[1]), &us) < 0)
		return args_usage_error(&spec, "TIME: an RFC 3339 time with a "
					"zone, e.g. 2026-11-23T08:15:00Z");
	return write_call(c,
			  json_pack("{s:s, s:s, s:s, s:s}", "cmd", "aware",
				    "id", pos[0], "time", pos[1], "reason",
				    reason),
			  "awareness time set");
}
