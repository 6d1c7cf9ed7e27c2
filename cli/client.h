/*
 * client.h - one request to the notifier's control socket, and its
 * response (the protocol of notifier/control.h: a JSON object per line).
 */
#ifndef BW_CLI_CLIENT_H
#define BW_CLI_CLIENT_H

#include <jansson.h>

#include "cli.h"

/* The most bytes of a response line read (a report of a very large
 * incident is the longest). */
#define CLIENT_MAX_RESPONSE ((size_t)256 << 20)

/* Send req (taken: it is freed here; NULL, from a json_pack() that refused a non-UTF-8
 * argument, is a usage error) to the notifier at c->socket and wait up to
 * c->timeout_s for the response. On success returns CLI_OK with *resp set
 * to the response object with "ok": true (caller owns it). Otherwise prints
 * what went wrong on stderr (the notifier's message for an error
 * response) and returns the exit code: CLI_RUNTIME when the notifier
 * cannot be reached or answers badly, and for the errors refused and
 * failed; CLI_USAGE for bad_request; CLI_NOT_FOUND for not_found. */
int client_call(const struct cli *c, json_t *req, json_t **resp);

/* Print resp without its "ok" member as indented JSON on stdout (--json). */
void client_print_json(const json_t *resp);

#endif
