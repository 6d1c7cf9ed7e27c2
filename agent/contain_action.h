/*
 * contain_action.h - containment action definitions and their placeholders.
 *
 * The agent config's `actions` list defines what a rule may name in its
 * `actions`: a program run with an argument vector (`exec`), or an HTTP
 * request made with libcurl (`http`). Strings of a definition may hold
 * placeholders `${field}` (the fields are listed in docs/configuration.md
 * and in the table in contain_action.c). Loading checks every key, type and
 * placeholder name and refuses the file at file:line.
 *
 * Rendering happens per run, from the incident that opened: each value is
 * validated for its field (an address must parse as an address, a user or
 * customer id must be of a strict character set and length, and no value
 * may start with '-') and then substituted as is into an argv element or a
 * header value, percent-encoded into the URL, or as a JSON string value
 * (escaped by jansson) into the body. A value that fails refuses the whole
 * run: nothing is run.
 *
 * The definitions own copies of every string: they outlive the config they
 * came from (a reload swaps them while runs go on).
 */
#ifndef BW_CONTAIN_ACTION_H
#define BW_CONTAIN_ACTION_H

#include <jansson.h>
#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/incident.h"

struct rules;

enum contain_type { CONTAIN_EXEC = 1, CONTAIN_HTTP };

/* Limits of a definition and of what it renders to. */
#define CONTAIN_MAX_ID 64
#define CONTAIN_MAX_ARGS 64
#define CONTAIN_MAX_ENV 32
#define CONTAIN_MAX_HEADERS 32
#define CONTAIN_MAX_STR 4096   /* one template, or one rendered string */
#define CONTAIN_MAX_BODY 65536 /* the rendered JSON body */

struct contain_action {
	char *id;
	enum contain_type type;
	char *file; /* where it was defined */
	int line;
	int64_t timeout_us; /* the run's bound */
	int64_t dedup_us;   /* same action, same rendered request: run once
			       within this time (0: no de-duplication
			       across incidents) */
	/* exec */
	char **argv; /* templates; argv[0] an absolute path, no
			placeholders */
	size_t argc;
	char **env; /* names copied from the agent's environment */
	size_t n_env;
	int64_t grace_us; /* SIGTERM at the timeout, SIGKILL this later */
	/* http */
	char *method;
	char *url; /* template; placeholders only past the authority */
	char **headers; /* "Name: value" templates, placeholders in values */
	size_t n_headers;
	json_t *body; /* object template (strings hold placeholders), or
			 NULL */
	long expect_min, expect_max; /* the HTTP status counted as ok */
	char *proxy; /* "" for none (the environment is not read) */
};

struct contain_actions {
	struct contain_action *v;
	size_t n;
	size_t max_running; /* runs at once */
	size_t max_queued;  /* runs waiting for a slot */
};

/*
 * Parse the config's `actions` list and `containment` group (either may be
 * NULL: no actions, default limits). Returns NULL with err at file:line on
 * an unknown key, a value of the wrong type, an unknown placeholder, a
 * duplicate id... Caller owns the result.
 */
struct contain_actions *contain_actions_load(const config_setting_t *list,
					     const config_setting_t *limits,
					     struct bw_error *err) BW_WUR;
/* Accepts NULL; nulls the caller's pointer. */
void contain_actions_destroy(struct contain_actions **d);

/* The definition of id, or NULL. d may be NULL (no actions). */
const struct contain_action *
contain_actions_find(const struct contain_actions *d, const char *id);

/*
 * Every action a rule of r names must be defined in d (which may be NULL:
 * none is). Returns -1 with err at the rule's file:line otherwise.
 */
int contain_actions_check_rules(const struct contain_actions *d,
				const struct rules *r,
				struct bw_error *err) BW_WUR;

/*
 * What placeholders are filled from: the incident that opened (actor,
 * affected customers, id, rule, host, severity, category) and the rule's
 * aggregation key. Strings are borrowed. customer is set only when the
 * incident names exactly one affected customer (n_customers says how
 * many).
 */
struct contain_fields {
	const char *src_ip;
	const char *user;
	const char *customer;
	size_t n_customers;
	const char *key;
	const char *rule;
	const char *incident_id;
	const char *host;
	const char *severity;
	const char *category;
};

/* Fill f from inc and the aggregation key (may be NULL). */
void contain_fields_from_incident(struct contain_fields *f,
				  const struct bw_incident *inc,
				  const char *key);

/*
 * A rendered run: what is executed or sent. Owned strings; free with
 * contain_request_free.
 */
struct contain_request {
	char **argv; /* exec: NULL-terminated */
	size_t argc;
	char **envp; /* exec: NULL-terminated "NAME=value" */
	char *url;   /* http */
	char **headers; /* http: n_headers "Name: value" */
	size_t n_headers;
	char *body; /* http: compact JSON, or NULL */
	char *dedup; /* action id and the rendered request, for
			de-duplication */
};

/*
 * Render a's templates with f into req. Returns -1 with why (a sentence for
 * the step's detail) when a placeholder's value is missing or fails its
 * validation; req is then empty. environ is read for exec's env
 * allow-list.
 */
int contain_action_render(const struct contain_action *a,
			  const struct contain_fields *f,
			  struct contain_request *req, char *why,
			  size_t why_size) BW_WUR;
void contain_request_free(struct contain_request *req);

#endif
