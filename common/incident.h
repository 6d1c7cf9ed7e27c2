/*
 * incident.h - the incident model of ARCHITECTURE.md and its JSON codec.
 *
 * An incident owns all its strings (heap copies). It is what travels on the
 * wire, what the notifier stores and what replay prints, one JSON object per
 * revision. Decoding is strict: an unknown member, a missing required member,
 * a value of the wrong type or over its maximum size is an error.
 */
#ifndef BW_INCIDENT_H
#define BW_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum bw_severity {
	BW_SEV_LOW = 1,
	BW_SEV_MEDIUM,
	BW_SEV_HIGH,
	BW_SEV_CRITICAL,
};

/* "low", "medium", "high", "critical"; NULL when out of range. */
const char *bw_severity_name(enum bw_severity s);
/* Returns 0 (unknown) for other names. */
enum bw_severity bw_severity_by_name(const char *name);

/* Limits enforced by the decoder (and by the aggregator when building). */
#define BW_INC_MAX_STR 4096          /* any one string value, bytes */
#define BW_INC_MAX_EXCERPT 1024      /* an evidence excerpt */
#define BW_INC_MAX_CUSTOMERS 1000000 /* affected customer ids */
#define BW_INC_MAX_EVIDENCE 256      /* evidence items kept */
#define BW_INC_MAX_STEPS 1024        /* containment steps */
#define BW_INC_MAX_ACTOR 16          /* actor members */
#define BW_INC_MAX_DATA_KINDS 32
#define BW_INC_MAX_JSON (64u << 20)  /* a whole encoded incident */

struct bw_kv {
	char *key;
	char *value;
};

struct bw_evidence {
	int64_t ts_us;
	char *source;  /* "nginx", "pcap", ... */
	char *ref;     /* "/var/log/nginx/access.log:1234" or "x.pcap#17" */
	char *excerpt; /* masked: secrets and PII replaced */
};

struct bw_step {
	char *action;        /* action id, or "manual" */
	int64_t started_us;  /* 0 when not started */
	int64_t finished_us; /* 0 while running */
	char *status;        /* "ok", "failed", "timeout", "running", ... */
	char *detail;        /* exit status and output excerpt, or a note */
};

struct bw_incident {
	char *id;          /* stable over revisions */
	uint32_t revision; /* grows; live: run * 65536 + n (transport.md) */
	char *rule;
	char *category;
	enum bw_severity severity;
	char *title;
	char *summary;
	int64_t first_seen_us, last_seen_us;
	char *host; /* the agent's name */

	struct bw_kv *actor; /* e.g. {ip, 203.0.113.9}, {user, alice} */
	size_t n_actor;

	char **customers; /* affected customer ids, no duplicates */
	size_t n_customers, cap_customers;
	bool affected_unknown; /* the scope is not known */

	char **data_kinds; /* kinds of data touched: "contact_list", ... */
	size_t n_data_kinds;

	uint64_t event_count;
	struct bw_evidence *evidence;
	size_t n_evidence, cap_evidence;
	uint64_t evidence_omitted; /* matching events whose evidence was not kept */

	bool notify_customers;
	bool credentials; /* the breach is of the customers' own credentials */
	bool closed;      /* the incident went quiet and was closed */

	struct bw_step *steps; /* containment */
	size_t n_steps, cap_steps;
};

/* Caller owns the returned zeroed incident. */
struct bw_incident *bw_incident_new(void);
/* Accepts NULL; nulls the caller's pointer. */
void bw_incident_destroy(struct bw_incident **inc);
/* Deep copy. Caller owns the result. */
struct bw_incident *bw_incident_dup(const struct bw_incident *inc);

/* Builders; all copy their arguments. */
void bw_incident_set_actor(struct bw_incident *inc, const char *key,
			   const char *value);
/* add_customer appends without checking for duplicates: the aggregator
 * keeps its own hash set of the ids an incident already has. */
void bw_incident_add_customer(struct bw_incident *inc, const char *id);
void bw_incident_add_data_kind(struct bw_incident *inc, const char *kind);
void bw_incident_add_evidence(struct bw_incident *inc, int64_t ts_us,
			      const char *source, const char *ref,
			      const char *excerpt);
void bw_incident_add_step(struct bw_incident *inc, const char *action,
			  int64_t started_us, int64_t finished_us,
			  const char *status, const char *detail);

/* Encode as one line of compact JSON (no newline). Caller frees. Member
 * order is stable, customers in the order added. */
char *bw_incident_to_json(const struct bw_incident *inc);

/* Strictly decode one JSON object of len bytes. Returns NULL with err filled
 * (naming the member) on any violation. Caller owns the result. */
struct bw_incident *bw_incident_from_json(const char *json, size_t len,
					  struct bw_error *err) BW_WUR;

#endif
