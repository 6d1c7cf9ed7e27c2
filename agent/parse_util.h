/*
 * parse_util.h - private to the log parsers (agent/parser.c, parse_*.c):
 * the type table entry every parser fills, and the scanning helpers they
 * share (addresses, numbers, request lines, syslog headers).
 *
 * Every helper takes (pointer, length), never reads past the length and
 * allocates nothing.
 */
#ifndef BW_PARSE_UTIL_H
#define BW_PARSE_UTIL_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/bwtime.h"
#include "../common/error.h"
#include "../common/event.h"

/* What a type's parse function returns to parser.c, which counts and maps
 * them to parser_parse()'s 1 / 0 / -1. */
enum parse_rc {
	PARSE_REJECT = -1, /* malformed line; err says why */
	PARSE_IGNORED = 0, /* well-formed, not an event */
	PARSE_EVENT = 1,   /* *ev holds an event */
	PARSE_HELD = 2,    /* line consumed (held or appended), no event yet */
	PARSE_EVENT_IGNORED = 3, /* *ev holds a held event; the line itself was
	                            of no interest */
};

/*
 * One parser type. create() gets the input's config group (NULL for the
 * defaults; unknown keys were already refused against keys[]) and returns
 * the type's state or NULL with err set. parse() gets a cleared event whose
 * source is set. flush() and set_ref() may be NULL.
 */
struct parser_type {
	const char *name;
	enum bw_source source;
	const char *const *keys; /* option keys besides type, path, start */
	void *(*create)(const config_setting_t *opts, enum bw_source source,
	                struct bw_error *err);
	int (*parse)(void *st, const char *line, size_t len,
	             struct bw_event *ev, struct bw_error *err);
	int (*flush)(void *st, struct bw_event *ev);
	void (*set_ref)(void *st, int64_t ref_us);
	void (*destroy)(void *st);
};

/* The types' entry points, listed in parser.c's table. */
void *parse_clf_create(const config_setting_t *opts, enum bw_source source,
                       struct bw_error *err);
int parse_clf_parse(void *st, const char *line, size_t len, struct bw_event *ev,
                    struct bw_error *err);
void parse_clf_destroy(void *st);
extern const char *const parse_clf_keys[];

void *parse_json_create(const config_setting_t *opts, enum bw_source source,
                        struct bw_error *err);
int parse_json_parse(void *st, const char *line, size_t len,
                     struct bw_event *ev, struct bw_error *err);
void parse_json_destroy(void *st);
extern const char *const parse_json_keys[];

void *parse_sshd_create(const config_setting_t *opts, enum bw_source source,
                        struct bw_error *err);
int parse_sshd_parse(void *st, const char *line, size_t len,
                     struct bw_event *ev, struct bw_error *err);
void parse_sshd_set_ref(void *st, int64_t ref_us);
void parse_sshd_destroy(void *st);
extern const char *const parse_sshd_keys[];

void *parse_pg_create(const config_setting_t *opts, enum bw_source source,
                      struct bw_error *err);
int parse_pg_parse(void *st, const char *line, size_t len, struct bw_event *ev,
                   struct bw_error *err);
int parse_pg_flush(void *st, struct bw_event *ev);
void parse_pg_set_ref(void *st, int64_t ref_us);
void parse_pg_destroy(void *st);
extern const char *const parse_pg_keys[];

/* A borrowed string of len bytes (len fits: parser.c refuses lines over
 * PARSE_MAX_LINE). */
#define PARSE_MAX_LINE (16u * 1024 * 1024)

static inline struct bw_str pstr(const char *p, size_t len)
{
	return (struct bw_str){len ? p : NULL, (uint32_t)len};
}

/* The address of a string field of ev, or NULL for a non-string field. */
struct bw_str *parse_util_strp(struct bw_event *ev, enum bw_field f);

/* Parse an IPv4 (fast path) or IPv6 address. Returns 0 or -1. */
int parse_util_addr(const char *p, size_t len, struct bw_addr *out);

/* Parse len decimal digits (1..18 of them, nothing else) into *out.
 * Returns 0 or -1. */
int parse_util_uint(const char *p, size_t len, int64_t *out);

/* Whether any byte of p[0..len) is below 0x20 (a control character). */
bool parse_util_has_ctl(const char *p, size_t len);

/* Whether c may appear in an HTTP token (RFC 9110 tchar). */
bool parse_util_tchar(unsigned char c);

/*
 * Split an HTTP request line ("GET /a/b?x=1 HTTP/1.1") into ev->action
 * (the method, when it is a valid token followed by a target), ev->resource
 * (the target up to '?'), ev->query (after '?') and ev->text (the whole
 * line). Nothing is decoded. An empty line sets nothing; a line of one word
 * sets only text.
 */
void parse_util_request(const char *p, size_t len, struct bw_event *ev);

/* The first occurrence of needle in p[0..len), or NULL. */
const char *parse_util_find(const char *p, size_t len, const char *needle,
                            size_t nlen);
/* The last occurrence of needle in p[0..len), or NULL. */
const char *parse_util_rfind(const char *p, size_t len, const char *needle,
                             size_t nlen);
/* Whether p[0..len) starts with the literal s. */
#define PSTARTS(p, len, s)                                                     \
	((len) >= sizeof(s) - 1 && memcmp((p), (s), sizeof(s) - 1) == 0)

/*
 * Read a SQL statement (parse_sql.c): *action gets its verb, uppercased
 * ("SELECT"; after WITH the main statement's), *resource the tables it
 * names, comma-separated, lowercased unless quoted, schema kept
 * ("public.users,orders"). Both point into out, which is reset first and
 * whose ceiling bounds what is kept. Either may be left absent.
 */
struct bw_buf;
void parse_sql_analyze(const char *sql, size_t len, struct bw_buf *out,
                       struct bw_str *action, struct bw_str *resource);

/*
 * A syslog header, as written by rsyslog, syslog-ng or journald's
 * forwarding: "Nov 23 08:15:00 host prog[pid]: msg" (RFC 3164, the year
 * and zone from the caller), "2026-11-23T08:15:00.123+01:00 host
 * prog[pid]: msg" (rsyslog's RFC 3339 template), or RFC 5424 "<38>1 TS HOST
 * APP PROCID MSGID SD MSG". A leading "<PRI>" is skipped. The host may be
 * missing in RFC 3164 ("Nov 23 08:15:00 sshd[1]: msg").
 */
struct syslog_hdr {
	int64_t ts_us;
	struct bw_str host;
	struct bw_str prog;
	struct bw_str pid; /* digits, or empty */
	const char *msg;
	size_t msglen;
};

/* Year-less stamps: tz (NULL: UTC), and either a fixed year (> 0) or a
 * reference time ref_us (see bw_time_parse_syslog). Returns 0, or -1 with
 * err saying why. */
int parse_util_syslog(const char *line, size_t len, const struct bw_tz *tz,
                      int year, int64_t ref_us, struct syslog_hdr *h,
                      struct bw_error *err);

#endif
