/*
 * cmd_notify.c - the commands about an incident's e-mails: approve ID
 * (send the customer notices held for approval) and notify-status ID
 * (who was told what, and how far each message got).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "args.h"
#include "client.h"
#include "out.h"

/* Rows of the table printed at most; --all or --json for every one. */
#define STATUS_MAX_ROWS 50

int cmd_approve(struct cli *c, int argc, char **argv)
{
	const char *reason = NULL;
	const struct args_opt opts[] = {{.name = "reason", .value = &reason}};
	const struct args_spec spec = {
	    .usage = "approve ID [--reason TEXT]",
	    .opts = opts,
	    .n_opts = 1,
	    .min_pos = 1,
	    .max_pos = 1,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	json_t *req, *resp;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	req = json_pack("{s:s, s:s}", "cmd", "approve", "id", pos[0]);
	if (reason != NULL) {
		if (reason[0] == '\0')
			return args_usage_error(&spec, "--reason may not be "
			                               "empty");
		json_object_set_new(req, "reason", json_string(reason));
	}
	rc = client_call(c, req, &resp);
	if (rc != CLI_OK)
		return rc;
	if (c->json) {
		client_print_json(resp);
	} else {
		printf("%s: approved (recorded as ", out_str(resp, "id"));
		out_text(stdout, out_str(resp, "operator"), false);
		printf("); %lld held customer notice%s released to be sent\n",
		       out_int(resp, "released"),
		       out_int(resp, "released") == 1 ? "" : "s");
	}
	json_decref(resp);
	return CLI_OK;
}

static void counts(const json_t *notif)
{
	const json_t *cnt = json_object_get(notif, "counts");
	const char *kind;
	json_t *states;

	if (json_object_size(cnt) == 0) {
		printf("  no message made yet\n");
		return;
	}
	json_object_foreach((json_t *)cnt, kind, states)
	{
		const char *st;
		json_t *v;
		bool first = true;

		printf("  %-16s ", kind);
		json_object_foreach(states, st, v)
		{
			printf("%s%lld %s", first ? "" : ", ",
			       (long long)json_integer_value(v), st);
			first = false;
		}
		putchar('\n');
	}
}

void cmd_notify_table(const json_t *notif, bool all)
{
	static const char *const headers[] = {
	    "ID", "KIND", "CUSTOMER", "TO", "STATE", "TRIES", "REPLY", "SENT"};
	const json_t *list = json_object_get(notif, "messages");
	struct out_table *t;
	size_t i;
	json_t *x;

	counts(notif);
	if (json_array_size(list) == 0)
		return;
	putchar('\n');
	t = out_table_new(8, headers);
	json_array_foreach(list, i, x)
	{
		char id[24], tries[16], state[64];
		const char *kind = out_str(x, "kind");
		const char *rk = out_str(x, "recipient_kind");
		const char *hold = out_str(x, "hold");
		char *to;
		const char *cells[8];

		if (!all && i == STATUS_MAX_ROWS)
			break;
		snprintf(id, sizeof(id), "%lld", out_int(x, "id"));
		snprintf(tries, sizeof(tries), "%lld", out_int(x, "attempts"));
		if (hold != NULL)
			snprintf(state, sizeof(state), "%s (%s)",
			         out_str(x, "state"), hold);
		else
			snprintf(state, sizeof(state), "%s",
			         out_str(x, "state") != NULL
			             ? out_str(x, "state")
			             : "-");
		to = out_safe(out_str(x, "recipient"), false);
		if (rk != NULL && strcmp(rk, "alternate") == 0) {
			char *alt = xasprintf("%s (alternate)", to);

			free(to);
			to = alt;
		}
		cells[0] = id;
		cells[1] = kind != NULL && strcmp(kind, "customer_notice") == 0
		               ? "notice"
		               : kind;
		cells[2] = out_str(x, "customer") != NULL
		               ? out_str(x, "customer")
		               : "-";
		cells[3] = to;
		cells[4] = state;
		cells[5] = tries;
		cells[6] =
		    out_str(x, "smtp_text") != NULL
		        ? out_str(x, "smtp_text")
		        : (out_str(x, "detail") != NULL ? out_str(x, "detail")
		                                        : "-");
		cells[7] =
		    out_str(x, "sent") != NULL ? out_str(x, "sent") : "-";
		out_table_add(t, cells);
		free(to);
	}
	out_table_print(t, stdout, "  ");
	out_table_destroy(&t);
	if (!all && json_array_size(list) > STATUS_MAX_ROWS)
		printf("  ... %zu more (--all or --json lists them all)\n",
		       json_array_size(list) - STATUS_MAX_ROWS);
}

int cmd_notify_status(struct cli *c, int argc, char **argv)
{
	bool all = false;
	const struct args_opt opts[] = {{.name = "all", .flag = &all}};
	const struct args_spec spec = {
	    .usage = "notify-status ID [--all]",
	    .opts = opts,
	    .n_opts = 1,
	    .min_pos = 1,
	    .max_pos = 1,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	const json_t *st, *notif, *ap;
	size_t n_pos, i;
	json_t *resp, *x;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	rc = client_call(
	    c, json_pack("{s:s, s:s}", "cmd", "notify_status", "id", pos[0]),
	    &resp);
	if (rc != CLI_OK)
		return rc;
	if (c->json) {
		client_print_json(resp);
		json_decref(resp);
		return CLI_OK;
	}
	st = json_object_get(resp, "notify_status");
	notif = json_object_get(st, "notifications");
	printf("Incident ");
	out_text(stdout, out_str(st, "id"), false);
	printf(" (%s, %s): ", out_str(st, "severity"), out_str(st, "state"));
	out_text(stdout, out_str(st, "title"), false);
	printf("\n  %lld affected customers; notices: %s; policy %s; "
	       "GDPR 72 h deadline %s\n",
	       out_int(st, "customers"),
	       json_is_true(json_object_get(st, "notify_customers"))
	           ? (json_is_true(json_object_get(st, "credentials"))
	                  ? "yes, to the alternate contact "
	                    "(credentials)"
	                  : "yes")
	           : "not asked for by the rule",
	       out_str(st, "policy"), out_str(st, "deadline"));
	if (out_str(st, "notified") != NULL)
		printf("  notified %s\n", out_str(st, "notified"));
	ap = json_object_get(notif, "approvals");
	json_array_foreach(ap, i, x)
	{
		printf("  approved %s by ", out_str(x, "at"));
		out_text(stdout, out_str(x, "operator"), false);
		printf(" (%lld released)\n", out_int(x, "released"));
	}
	printf("\nMessages\n");
	cmd_notify_table(notif, all);
	json_decref(resp);
	return CLI_OK;
}
