/*
 * directory.h - the customer directory: from the customer ids in
 * incidents to the people to tell (name, e-mail address, alternate
 * contact, locale).
 *
 * Three sources:
 *
 *  - csv: a file with a header line naming its columns (id and email
 *    required; name, alt_email, locale optional; any order), RFC 4180
 *    quoting (fields in double quotes may hold commas, line breaks and ""
 *    for a quote), CRLF or LF line ends, UTF-8. Read whole into memory at
 *    start and by directory_reload() (SIGHUP). A file that cannot be read
 *    or parsed (no or a bad header, a quote never closed) is refused with
 *    file:line, and a reload then keeps the directory it had. A row that is
 *    wrong (a field count, an address, a line break in a name, a duplicate
 *    id) is refused alone, with file:line, and its id (when it has one)
 *    answers DIRECTORY_REFUSED with that reason: never a silent drop.
 *
 *  - sqlite: a database opened read-only and one query with one bound
 *    parameter (the id, as ?1 or :id), e.g.
 *      SELECT name, email, alt_email, locale FROM customers WHERE id = ?1
 *    Its result columns are taken by name (email required). Checked at
 *    start: it must prepare, be read-only and have one parameter. A look-up
 *    is a query on a local file, bounded by a busy timeout of 200 ms.
 *
 *  - http: GET of a URL template in which {id} becomes the URL-encoded id;
 *    200 with a JSON object {"email": ..., "name": ..., "alt_email": ...,
 *    "locale": ...} is a customer, 404 is "no such customer", anything else
 *    (or a timeout) is a failure tried again later. Look-ups run in the
 *    notifier's loop through curlloop (never blocking: the inbox goes on
 *    acknowledging while they run): directory_lookup() answers
 *    DIRECTORY_PENDING and starts the request (at most max_parallel at
 *    once); when answers come in, on_ready is called and the next
 *    directory_lookup() of the id answers from the cache. The cache holds
 *    at most cache_max answers (least recently used go first), each for
 *    cache_ttl; a failure is kept for retry_after, so a failing service is
 *    not hammered.
 *
 * Every entry is checked before it is handed out: an id of 1-256 bytes
 * without control characters; addresses that mime_addr_check() accepts;
 * a name of UTF-8 without control characters (CR, LF, NUL above all: a name
 * goes into a header); a locale of letters, digits, '-' and '_'. An entry
 * that fails is DIRECTORY_REFUSED with the reason.
 *
 * Nothing here logs; the daemon reports the counts and reasons.
 */
#ifndef BW_DIRECTORY_H
#define BW_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "curlloop.h"

#define DIRECTORY_MAX_ID       256
#define DIRECTORY_MAX_LOCALE   35
#define DIRECTORY_MAX_FILE     (1u << 30)  /* a CSV file */
#define DIRECTORY_MAX_REPLY    (64u << 10) /* an HTTP answer */
#define DIRECTORY_MAX_REFUSALS 10          /* row refusals kept word for word */

enum directory_kind {
	DIRECTORY_NONE, /* no directory: every id is unknown */
	DIRECTORY_CSV,
	DIRECTORY_SQLITE,
	DIRECTORY_HTTP,
};

enum directory_result {
	DIRECTORY_FOUND,
	DIRECTORY_NOT_FOUND, /* no such customer */
	DIRECTORY_REFUSED,   /* there is one, but its entry is unusable */
	DIRECTORY_PENDING,   /* http: asked; ask again after on_ready */
	DIRECTORY_FAILED,    /* the source failed: try again later */
};

/* One customer. Owned by whoever holds it: directory_entry_clear(). */
struct directory_entry {
	char *id;
	char *name; /* may be NULL */
	char *email;
	char *alt_email; /* may be NULL */
	char *locale;    /* may be NULL */
};

struct directory_params {
	enum directory_kind kind;
	const char *path;            /* csv, sqlite */
	const char *query;           /* sqlite */
	const char *url;             /* http: with {id} */
	const char *header_file;     /* http: "Name: value" lines to send (a
	                                token), may be NULL */
	const char *ca_file;         /* http: CA bundle, NULL: the system's */
	int64_t timeout_us;          /* http: a whole request; default 5 s */
	size_t cache_max;            /* http: default 100000 */
	int64_t cache_ttl_us;        /* http: default 10 min */
	int64_t retry_after_us;      /* http: after a failure; default 10 s */
	size_t max_parallel;         /* http: default 8 */
	struct curlloop *loop;       /* http: borrowed */
	void (*on_ready)(void *arg); /* http: answers came in */
	void *arg;
};

struct directory_stats {
	size_t entries; /* csv: customers loaded */
	size_t refused; /* csv: rows refused at the last load */
	uint64_t lookups, found, not_found, refused_lookups, pending, failed;
	uint64_t requests;        /* http: sent */
	uint64_t cache_hits;      /* http */
	size_t cached, in_flight; /* http: now */
	uint64_t reloads;
};

struct directory;

/* Open the directory. csv: read the file (row refusals are not an error:
 * see directory_refusals()); sqlite: open and check the query; http:
 * check the template and read header_file. Returns NULL with err (at
 * file:line for the CSV) when it cannot serve. Caller owns the result. */
struct directory *directory_new(const struct directory_params *p,
                                struct bw_error *err) BW_WUR;
/* Cancels look-ups in flight. Accepts NULL; nulls the caller's pointer. */
void directory_destroy(struct directory **d);

/* csv: read the file again and use it if it can be read and parsed
 * (keeping the old one otherwise, -1 with err); sqlite: reopen the
 * database; http: forget the cache and read header_file again. */
int directory_reload(struct directory *d, struct bw_error *err) BW_WUR;

/* Look id up. FOUND: out filled (caller clears it). NOT_FOUND, REFUSED,
 * FAILED: why (a sentence, NUL-terminated) written to why. PENDING: ask
 * again after on_ready. */
enum directory_result directory_lookup(struct directory *d, const char *id,
                                       struct directory_entry *out, char *why,
                                       size_t why_size);

/* The row refusals of the last CSV load, at most DIRECTORY_MAX_REFUSALS
 * ("file:line: reason"), borrowed until the next reload; *total is how many
 * rows were refused in all. */
const char *const *directory_refusals(const struct directory *d, size_t *n,
                                      size_t *total);

void directory_get_stats(const struct directory *d,
                         struct directory_stats *out);

/* "none", "csv", "sqlite", "http"; and back (-1 for other names). */
const char *directory_kind_name(enum directory_kind k);
int directory_kind_by_name(const char *name, enum directory_kind *out) BW_WUR;

/* Check an entry (see above). Returns -1 with err saying what is wrong. */
int directory_entry_check(const struct directory_entry *e,
                          struct bw_error *err) BW_WUR;

void directory_entry_clear(struct directory_entry *e);
void directory_entry_copy(struct directory_entry *dst,
                          const struct directory_entry *src);

#endif
