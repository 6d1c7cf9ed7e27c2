/*
 * cmd_incidents.c - breachwatch incidents: the list, newest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "args.h"
#include "client.h"
#include "out.h"

/* --since: RFC 3339, or a span back from now ("24h", "7d"). Returns the
 * RFC 3339 text in buf, or NULL. */
static const char *since_time(const char *arg, char *buf, size_t size)
{
	int64_t us;

	if (bw_time_parse_rfc3339(arg, strlen(arg), &us) == 0)
		return bw_time_format(us, buf, size);
	if (bw_duration_parse(arg, &us) == 0)
		return bw_time_format(bw_now_us() - us, buf, size);
	return NULL;
}

static void print_list(const json_t *resp)
{
	static const char *const headers[] = { "ID", "STATE", "SEVERITY",
					       "DETECTED", "LAST SEEN",
					       "CUSTOMERS", "HOST", "TITLE" };
	const json_t *rows = json_object_get(resp, "incidents");
	struct out_table *t;
	size_t i;
	json_t *r;

	if (json_array_size(rows) == 0) {
		printf("no incidents\n");
		return;
	}
	t = out_table_new(8, headers);
	json_array_foreach(rows, i, r) {
		char customers[32];
		const char *cells[8];

		snprintf(customers, sizeof(customers), "%lld%s",
			 out_int(r, "customers"),
			 json_is_true(json_object_get(r, "affected_unknown"))
				 ? "+?" : "");
		cells[0] = out_str(r, "id");
		cells[1] = out_str(r, "state");
		cells[2] = out_str(r, "severity");
		cells[3] = out_str(r, "detected");
		cells[4] = out_str(r, "last_seen");
		cells[5] = customers;
		cells[6] = out_str(r, "host");
		cells[7] = out_str(r, "title");
		out_table_add(t, cells);
	}
	out_table_print(t, stdout, "");
	out_table_destroy(&t);
	if (json_is_true(json_object_get(resp, "truncated")))
		printf("(more incidents match: raise --limit)\n");
}

int cmd_incidents(struct cli *c, int argc, char **argv)
{
	const char *state = NULL, *sev = NULL, *since = NULL, *limit = NULL;
	const struct args_opt opts[] = {
		{ .name = "state", .value = &state },
		{ .name = "severity", .value = &sev },
		{ .name = "since", .value = &since },
		{ .name = "limit", .value = &limit },
	};
	const struct args_spec spec = {
		.usage = "incidents [--state S] [--severity S] [--since TIME] "
			 "[--limit N]",
		.opts = opts, .n_opts = 4,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	char tbuf[40];
	json_t *req, *resp;
	int rc;

	rc = args_parse(c, argc, argv, &spec, pos, &n_pos);
	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	req = json_pack("{s:s}", "cmd", "incidents");
	if (state != NULL)
		json_object_set_new(req, "state", json_string(state));
	if (sev != NULL)
		json_object_set_new(req, "min_severity", json_string(sev));
	if (since != NULL) {
		const char *t = since_time(since, tbuf, sizeof(tbuf));

		if (t == NULL) {
			json_decref(req);
			return args_usage_error(&spec, "--since: an RFC 3339 "
						"time or a span like 24h, 7d");
		}
		json_object_set_new(req, "since", json_string(t));
	}
	if (limit != NULL) {
		char *end;
		long n = strtol(limit, &end, 10);

		if (*end != '\0' || n < 1 || n > 100000) {
			json_decref(req);
			return args_usage_error(&spec, "--limit: 1-100000");
		}
		json_object_set_new(req, "limit", json_integer(n));
	}
	rc = client_call(c, req, &resp);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		client_print_json(resp);
	else
		print_list(resp);
	json_decref(resp);
	return CLI_OK;
}
