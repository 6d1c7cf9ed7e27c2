/*
 * event.h - the one event model every source produces.
 *
 * A log line or a reassembled packet stream becomes one struct bw_event.
 * Events are views: every string field is a struct bw_str pointing into
 * memory owned by the producer (the line buffer, or a parser's scratch
 * buffer), valid only until the producer is asked for the next event.
 * Consumers that keep anything copy it.
 *
 * Fields are also addressable by id (enum bw_field) so that rules, the JSON
 * source mapping and the documentation share one list of names.
 */
#ifndef BW_EVENT_H
#define BW_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A borrowed byte string, not NUL-terminated. len == 0 means absent. */
struct bw_str {
	const char *p;
	uint32_t len;
};

#define BW_STR_NULL ((struct bw_str){NULL, 0})
#define BW_STR_LIT(s) ((struct bw_str){(s), (uint32_t)(sizeof(s) - 1)})

/* An IPv4 or IPv6 address. IPv4 is held in bytes[0..3]; family is 0 when
 * the address is absent. */
struct bw_addr {
	uint8_t family; /* 0, 4 or 6 */
	uint8_t bytes[16];
};

enum bw_kind {
	BW_KIND_NONE = 0,
	BW_KIND_HTTP, /* an HTTP request (and its response) */
	BW_KIND_AUTH, /* a login attempt, success or failure, or a session end */
	BW_KIND_SQL,  /* a database statement */
	BW_KIND_DNS,  /* a DNS query or answer */
	BW_KIND_TLS,  /* a TLS handshake (SNI) */
	BW_KIND_FLOW, /* a network flow or connection */
	BW_KIND__COUNT
};

enum bw_source {
	BW_SRC_NONE = 0,
	BW_SRC_NGINX,
	BW_SRC_APACHE,
	BW_SRC_JSON,
	BW_SRC_SSHD,
	BW_SRC_POSTGRES,
	BW_SRC_PCAP,
	BW_SRC__COUNT
};

/* Where the raw evidence of an event lives: file and byte offset of the line
 * (and its 1-based line number), or pcap file and 1-based packet number. */
struct bw_evref {
	const char *file; /* borrowed; the source's path */
	uint64_t offset;  /* byte offset of the line, or 0 for pcap */
	uint64_t number;  /* line number, or packet number */
};

struct bw_event {
	int64_t ts_us; /* event time, UTC microseconds since the epoch */
	enum bw_kind kind;
	enum bw_source source;

	struct bw_addr src_ip, dst_ip;
	uint16_t src_port, dst_port; /* 0 when unknown */

	struct bw_str principal;  /* user, API key name, database role */
	struct bw_str action;     /* HTTP method, auth method, SQL verb */
	struct bw_str resource;   /* URL path, table(s), domain, SNI */
	struct bw_str query;      /* URL query string (without '?') */
	struct bw_str outcome;    /* auth: "success" / "failure" */
	struct bw_str host;       /* HTTP Host / vhost, or the logging host */
	struct bw_str user_agent; /* HTTP User-Agent, or client banner */
	struct bw_str referer;    /* HTTP Referer */
	struct bw_str database;   /* database name */
	struct bw_str detail;     /* source-specific detail, e.g. "invalid_user" */
	struct bw_str text;       /* full statement text, or request line */

	int32_t status;    /* HTTP status, or -1 when none */
	int64_t bytes_in;  /* bytes from the client, -1 when unknown */
	int64_t bytes_out; /* bytes to the client, -1 when unknown */
	int64_t duration_us; /* -1 when unknown */

	struct bw_evref ref;
	struct bw_str raw; /* the raw line (or a summary for packets) */
};

/* Field ids: one per addressable event field. Order is part of no format. */
enum bw_field {
	BW_F_NONE = 0,
	BW_F_KIND,
	BW_F_SOURCE,
	BW_F_SRC_IP,
	BW_F_DST_IP,
	BW_F_SRC_PORT,
	BW_F_DST_PORT,
	BW_F_PRINCIPAL,
	BW_F_ACTION,
	BW_F_RESOURCE,
	BW_F_QUERY,
	BW_F_OUTCOME,
	BW_F_HOST,
	BW_F_USER_AGENT,
	BW_F_REFERER,
	BW_F_DATABASE,
	BW_F_DETAIL,
	BW_F_TEXT,
	BW_F_STATUS,
	BW_F_BYTES_IN,
	BW_F_BYTES_OUT,
	BW_F_DURATION,
	BW_F__COUNT
};

enum bw_field_type {
	BW_FT_STR,  /* struct bw_str */
	BW_FT_ADDR, /* struct bw_addr */
	BW_FT_INT,  /* int64_t (ports, status, byte counts, durations) */
	BW_FT_ENUM  /* kind or source, compared by name */
};

struct bw_field_info {
	const char *name; /* as written in rules and config: "src_ip" */
	enum bw_field_type type;
	const char *doc; /* one line for docs and --help */
};

/* The table of fields, indexed by enum bw_field (entry 0 is unused). */
extern const struct bw_field_info bw_fields[BW_F__COUNT];

/* Look a field up by name (also accepts the aliases "user" for principal,
 * "method" for action, "path" for resource). Returns BW_F_NONE if unknown. */
enum bw_field bw_field_by_name(const char *name);

/* Names of kinds and sources ("http", "nginx"); NULL for out-of-range. */
const char *bw_kind_name(enum bw_kind k);
const char *bw_source_name(enum bw_source s);
/* Reverse look-ups; return BW_KIND_NONE / BW_SRC_NONE if unknown. */
enum bw_kind bw_kind_by_name(const char *name);
enum bw_source bw_source_by_name(const char *name);

/* Reset an event to "nothing known": strings empty, ints -1, ports 0. */
void bw_event_clear(struct bw_event *ev);

/* Read a string field. Returns BW_STR_NULL for non-string fields. */
struct bw_str bw_event_str(const struct bw_event *ev, enum bw_field f);
/* Read an integer field into *out. Returns false when the field is not an
 * integer field or its value is unknown (-1). */
bool bw_event_int(const struct bw_event *ev, enum bw_field f, int64_t *out);
/* Read an address field; NULL for non-address fields. */
const struct bw_addr *bw_event_addr(const struct bw_event *ev,
				    enum bw_field f);

/* Render any field as text into buf (NUL-terminated, truncated to size).
 * Addresses in their canonical text form, kind/source by name, absent
 * values as "". Returns the length written (excluding the NUL). */
size_t bw_event_format(const struct bw_event *ev, enum bw_field f,
		       char *buf, size_t size);

#endif
