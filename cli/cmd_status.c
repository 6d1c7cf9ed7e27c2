/*
 * cmd_status.c - breachwatch status: the notifier's counters, its
 * connections, its e-mails and the agents it has heard from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "client.h"
#include "out.h"

#define N(o, k) out_int((o), (k))

static void print_status(const json_t *st)
{
	static const char *const headers[] = {
		"AGENT", "ADDRESS", "LAST MESSAGE", "TYPE", "PENDING",
		"STORED", "DUPLICATES", "REJECTED", "BAD", "AUTHORISED" };
	const json_t *in = json_object_get(st, "inbox");
	const json_t *auth = json_object_get(st, "auth");
	const json_t *ctl = json_object_get(st, "control");
	const json_t *by = json_object_get(in, "rejected_by");
	const json_t *agents = json_object_get(st, "agents");
	const json_t *mail = json_object_get(st, "mail");
	struct out_table *t;
	char span[40];
	size_t i;
	json_t *x;

	printf("breachwatch-notifier %s, up %s (since %s)\n",
	       out_str(st, "version"),
	       out_span(N(st, "uptime_s") * 1000000LL, span, sizeof(span)),
	       out_str(st, "started"));
	printf("store:       ");
	out_text(stdout, out_str(st, "store"), false);
	printf("\nlistening:  ");
	json_array_foreach(json_object_get(in, "endpoints"), i, x)
		printf(" %s", json_string_value(x));
	printf("\nconnections: %lld open (%lld handshakes, %lld closed)\n",
	       N(in, "connections"), N(in, "handshakes"), N(in, "disconnects"));
	printf("inbox:       %lld messages: %lld incident revisions (%lld "
	       "stored, %lld duplicates, %lld acks, %lld rejected: malformed "
	       "%lld, mismatch %lld, host %lld, conflict %lld, limit %lld; "
	       "%lld store failures), %lld bad, %lld unexpected, %lld "
	       "unauthorised, %lld send failures; heartbeats %lld in, %lld "
	       "out\n",
	       N(in, "messages"), N(in, "incidents"), N(in, "stored"),
	       N(in, "duplicates"), N(in, "acks"), N(in, "rejected"),
	       N(by, "malformed"), N(by, "mismatch"), N(by, "host"),
	       N(by, "conflict"), N(by, "limit"), N(in, "store_failed"),
	       N(in, "bad"), N(in, "unexpected"), N(in, "unauthorised"),
	       N(in, "send_failed"), N(in, "heartbeats_in"),
	       N(in, "heartbeats_out"));
	printf("auth:        %lld agents authorised; %lld accepted, %lld "
	       "refused, %lld malformed; %lld reloads\n",
	       N(auth, "authorized_agents"), N(auth, "accepted"),
	       N(auth, "refused"), N(auth, "malformed"), N(auth, "reloads"));
	printf("control:     %lld clients, %lld connections, %lld requests, "
	       "%lld bad, %lld too long, %lld refused (busy)\n",
	       N(ctl, "clients"), N(ctl, "accepted"), N(ctl, "requests"),
	       N(ctl, "bad_requests"), N(ctl, "too_long"), N(ctl, "refused"));
	if (mail != NULL) {
		const json_t *m = json_object_get(mail, "mailer");
		const json_t *nt = json_object_get(mail, "notices");
		const json_t *d = json_object_get(mail, "directory");

		printf("mail:        ");
		out_text(stdout, out_str(mail, "transport"), false);
		printf(": %lld started, %lld sent, %lld retried, %lld failed, "
		       "%lld ambiguous, %lld in flight, %lld errors%s%s\n",
		       N(m, "started"), N(m, "sent"), N(m, "retried"),
		       N(m, "failed"), N(m, "ambiguous"), N(m, "in_flight"),
		       N(m, "errors"),
		       out_str(m, "relay_held_until") != NULL
			       ? "; the relay held back until "
			       : "",
		       out_str(m, "relay_held_until") != NULL
			       ? out_str(m, "relay_held_until")
			       : "");
		printf("notices:     %lld customer notices made (%lld held, "
		       "%lld unresolved, %lld to alternate contacts), %lld team "
		       "messages, %lld reminders, %lld problems told, %lld "
		       "incidents notified, %lld errors\n",
		       N(nt, "notices"), N(nt, "held"), N(nt, "unresolved"),
		       N(nt, "alternate"), N(nt, "team_messages"),
		       N(nt, "reminders"), N(nt, "problems_told"),
		       N(nt, "notified"), N(nt, "errors"));
		printf("directory:   %s, %lld entries (%lld rows refused); "
		       "%lld look-ups: %lld found, %lld not found, %lld "
		       "refused, %lld failed\n",
		       out_str(mail, "directory_kind") != NULL
			       ? out_str(mail, "directory_kind")
			       : "-",
		       N(d, "entries"), N(d, "refused_rows"), N(d, "lookups"),
		       N(d, "found"), N(d, "not_found"),
		       N(d, "refused_lookups"), N(d, "failed"));
	}
	if (json_array_size(agents) == 0) {
		printf("agents:      none heard from since the start\n");
		return;
	}
	printf("\n");
	t = out_table_new(10, headers);
	json_array_foreach(agents, i, x) {
		char n[6][24];
		const json_t *a = json_object_get(x, "authorized");
		const char *cells[10];

		snprintf(n[0], sizeof(n[0]), "%lld", N(x, "pending"));
		snprintf(n[1], sizeof(n[1]), "%lld", N(x, "stored"));
		snprintf(n[2], sizeof(n[2]), "%lld", N(x, "duplicates"));
		snprintf(n[3], sizeof(n[3]), "%lld", N(x, "rejected"));
		snprintf(n[4], sizeof(n[4]), "%lld", N(x, "bad"));
		cells[0] = out_str(x, "name");
		cells[1] = out_str(x, "address");
		cells[2] = out_str(x, "last_message");
		cells[3] = out_str(x, "last_type");
		cells[4] = n[0];
		cells[5] = n[1];
		cells[6] = n[2];
		cells[7] = n[3];
		cells[8] = n[4];
		cells[9] = json_is_boolean(a) ? (json_is_true(a) ? "yes" : "no")
					      : "-";
		out_table_add(t, cells);
	}
	out_table_print(t, stdout, "");
	out_table_destroy(&t);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	const struct args_spec spec = { .usage = "status" };
	const char *pos[ARGS_MAX_POSITIONAL];
	size_t n_pos;
	json_t *resp;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	rc = client_call(c, json_pack("{s:s}", "cmd", "status"), &resp);
	if (rc != CLI_OK)
		return rc;
	if (c->json)
		client_print_json(resp);
	else
		print_status(json_object_get(resp, "status"));
	json_decref(resp);
	return CLI_OK;
}
