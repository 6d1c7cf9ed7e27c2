/*
 * parser.h - log line parsers: one line in, at most one event out.
 *
 * Parsers are chosen by name from a table (nginx, apache, json, sshd,
 * postgres). They do not allocate per line: string fields of the event
 * point into the line itself or into the parser's own scratch buffer, and
 * are valid until the next call on the same parser.
 *
 * Some formats span lines (a PostgreSQL statement continues on lines that
 * start with a tab): such a parser holds its last event until it sees the
 * next line, and parser_flush() hands over what it holds (at end of input or
 * when the input has been idle).
 */
#ifndef BW_PARSER_H
#define BW_PARSER_H

#include <libconfig.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/event.h"

struct parser;

/* Per-parser counters. */
struct parser_stats {
	uint64_t lines;     /* lines given */
	uint64_t events;    /* events produced */
	uint64_t ignored;   /* well-formed lines that are not events */
	uint64_t rejected;  /* malformed lines */
};

/*
 * Create a parser of the named type ("nginx", "apache", "json", "sshd",
 * "postgres"). opts is the input's config group (may be NULL for the
 * defaults): format = "combined" | "common" for nginx/apache; a `fields`
 * mapping and `time_format` for json; `prefix` (log_line_prefix) and
 * `timezone` for postgres; `timezone` and `year` for sshd. Returns NULL
 * with err (at the option's file:line) on an unknown type or a bad option.
 * Caller owns the parser.
 */
struct parser *parser_new(const char *type, const config_setting_t *opts,
			  struct bw_error *err) BW_WUR;
void parser_destroy(struct parser **p);

/* Whether type names a parser. */
int parser_type_known(const char *type);

/* Year-less timestamps (syslog) are resolved relative to this time, UTC
 * microseconds (default: now). Replay sets it from the file's mtime. */
void parser_set_reference_time(struct parser *p, int64_t ref_us);

/*
 * Parse one line (without its newline; may contain NUL bytes and invalid
 * UTF-8; a trailing CR is dropped). Returns 1 when *ev holds an event, 0
 * when the line produced none (not relevant, empty, or held for
 * continuation lines), -1 when the line is malformed, with err saying why
 * (no file:line: the caller adds them).
 *
 * The event is reset here except ev->ref and ev->raw: the caller sets
 * ev->ref (file, offset, number) for the line BEFORE the call (ev->raw may
 * be left NULL). An event of this very line keeps them (raw still NULL: the
 * caller points it at the line). An event completed from held lines comes
 * back with ev->ref and ev->raw of its own first line (raw: all its lines,
 * joined by '\n', in the parser's memory) - so a parser that holds lines
 * (postgres) can only report the right ref if it was given before.
 */
int parser_parse(struct parser *p, const char *line, size_t len,
		 struct bw_event *ev, struct bw_error *err) BW_WUR;

/* Hand over a held event, if any: returns 1 and fills *ev (ref and raw of
 * its first line included), or 0. */
int parser_flush(struct parser *p, struct bw_event *ev);

const struct parser_stats *parser_get_stats(const struct parser *p);
enum bw_source parser_source(const struct parser *p);

#endif
