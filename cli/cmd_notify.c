/*
 * cmd_notify.c - the commands about an incident's e-mails: approve ID
 * (send the customer notices held for approval), notify ID (the
 * operator's decision that the customers are to be told, or with --update
 * a new version of the notices sent) and notify-status ID (who was told
 * what, and how far each message got).
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

/* The customers an update left out (the answer's not_included). */
static void left_out(const json_t *resp)
{
	const json_t *list = json_object_get(resp, "not_included");
	long long total = out_int(resp, "left_out");
	size_t i;
	json_t *x;

	if (total == 0)
		return;
	printf("not included: %lld customer%s never sent a notice (the team "
	       "is told):\n",
	       total, total == 1 ? "" : "s");
	json_array_foreach(list, i, x)
	{
		const char *why = out_str(x, "smtp_text") != NULL
		                      ? out_str(x, "smtp_text")
		                      : out_str(x, "detail");

		printf("  ");
		out_text(stdout, out_str(x, "customer"), false);
		printf("  %s%s%s%s  ", out_str(x, "state"),
		       out_str(x, "hold") != NULL ? " (" : "",
		       out_str(x, "hold") != NULL ? out_str(x, "hold") : "",
		       out_str(x, "hold") != NULL ? ")" : "");
		out_text(stdout, why, false);
		putchar('\n');
	}
	if ((long long)json_array_size(list) < total)
		printf("  ... and %lld more: breachwatch notify-status %s "
		       "--all\n",
		       total - (long long)json_array_size(list),
		       out_str(resp, "id"));
}

int cmd_notify(struct cli *c, int argc, char **argv)
{
	const char *reason = NULL;
	bool update = false;
	const struct args_opt opts[] = {
	    {.name = "reason", .value = &reason},
	    {.name = "update", .flag = &update},
	};
	const struct args_spec spec = {
	    .usage = "notify ID --reason TEXT [--update]",
	    .opts = opts,
	    .n_opts = 2,
	    .min_pos = 1,
	    .max_pos = 1,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	json_t *req, *resp;
	long long n;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (reason == NULL || reason[0] == '\0')
		return args_usage_error(&spec, "--reason is required and may "
		                               "not be empty");
	req = json_pack("{s:s, s:s, s:s, s:b}", "cmd", "notify", "id", pos[0],
	                "reason", reason, "update", update);
	rc = client_call(c, req, &resp);
	if (rc != CLI_OK)
		return rc;
	if (c->json) {
		client_print_json(resp);
		json_decref(resp);
		return CLI_OK;
	}
	n = out_int(resp, "customers");
	out_text(stdout, out_str(resp, "id"), false);
	if (update) {
		printf(": update asked for (recorded as ");
		out_text(stdout, out_str(resp, "operator"), false);
		printf(
		    "): %lld customer%s sent a notice get%s the next version "
		    "of it, with the facts as they are now\n",
		    n, n == 1 ? "" : "s", n == 1 ? "s" : "");
		left_out(resp);
	} else {
		printf(": the customers are to be told (recorded as ");
		out_text(stdout, out_str(resp, "operator"), false);
		if (n > 0)
			printf(
			    "): each of the %lld affected customer%s is sent "
			    "a notice, and each one named later",
			    n, n == 1 ? "" : "s");
		else
			printf("): no customer is named yet; each one a later "
			       "revision names is sent a notice");
		if (json_is_true(json_object_get(resp, "rule_asks")))
			printf(" (the rule asked for it already)");
		if (out_int(resp, "released") > 0)
			printf("; %lld held notice%s released",
			       out_int(resp, "released"),
			       out_int(resp, "released") == 1 ? "" : "s");
		putchar('\n');
	}
	json_decref(resp);
	return CLI_OK;
}

void cmd_notify_decisions(const json_t *notif)
{
	const json_t *ap = json_object_get(notif, "approvals");
	size_t i;
	json_t *x;

	json_array_foreach(ap, i, x)
	{
		const char *d = out_str(x, "decision");

		if (d != NULL && strcmp(d, "notify") == 0)
			printf("  customers to be told: decided %s by ",
			       out_str(x, "at"));
		else if (d != NULL && strcmp(d, "update") == 0)
			printf("  update asked for %s by ", out_str(x, "at"));
		else
			printf("  approved %s by ", out_str(x, "at"));
		out_text(stdout, out_str(x, "operator"), false);
		if (d != NULL && strcmp(d, "update") == 0)
			printf(" (for %lld customers)",
			       out_int(x, "customers"));
		else
			printf(" (%lld released)", out_int(x, "released"));
		if (out_str(x, "reason") != NULL) {
			printf(": ");
			out_text(stdout, out_str(x, "reason"), false);
		}
		putchar('\n');
	}
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
		char id[24], tries[16], state[64], kbuf[32];
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
		if (kind != NULL && strcmp(kind, "customer_notice") == 0 &&
		    out_int(x, "version") > 1) {
			snprintf(kbuf, sizeof(kbuf), "update v%lld",
			         out_int(x, "version"));
			kind = kbuf;
		} else if (kind != NULL &&
		           strcmp(kind, "customer_notice") == 0) {
			kind = "notice";
		}
		cells[1] = kind;
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
	const json_t *st, *notif;
	const char *notices;
	size_t n_pos;
	json_t *resp;
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
	if (json_is_true(json_object_get(st, "customers_off")))
		notices = "turned off (notify.customers = false)";
	else if (json_is_true(json_object_get(st, "notify_decided")))
		notices = "yes, an operator's decision";
	else if (json_is_true(json_object_get(st, "notify_customers")))
		notices = "yes";
	else
		notices = "not asked for by the rule";
	printf("\n  %lld affected customer%s; notices: %s%s; policy %s; "
	       "GDPR 72 h deadline %s\n",
	       out_int(st, "customers"),
	       out_int(st, "customers") == 1 ? "" : "s", notices,
	       json_is_true(json_object_get(st, "credentials"))
	           ? ", to the alternate contact (credentials)"
	           : "",
	       out_str(st, "policy"), out_str(st, "deadline"));
	if (strcmp(notices, "not asked for by the rule") == 0)
		printf("  to tell them: breachwatch notify %s --reason TEXT\n",
		       out_str(st, "id"));
	if (out_str(st, "notified") != NULL)
		printf("  notified %s\n", out_str(st, "notified"));
	cmd_notify_decisions(notif);
	printf("\nMessages\n");
	cmd_notify_table(notif, all);
	json_decref(resp);
	return CLI_OK;
}
