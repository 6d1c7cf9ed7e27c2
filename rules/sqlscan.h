/*
 * sqlscan.h - which declared customer tables an SQL statement touches, and
 * which customer ids it names, without an SQL engine.
 *
 * The tokens of common/sqllex.h (strings with '' and E'' escapes, dollar
 * quotes, quoted identifiers, also `...`, comments) feed a scanner that
 * looks for table names after FROM, JOIN, UPDATE, INTO, TABLE, TRUNCATE and
 * COPY (with aliases and schema prefixes), and for comparisons of a
 * declared customer column:
 * `col = 'v'`, `'v' = col`, `col IN ('a', 'b')`, numbers or strings,
 * optionally qualified (`c.customer_id`), and INSERT column lists with
 * VALUES tuples. Keywords are case-insensitive.
 *
 * A touched table whose customer column is not compared with literals (no
 * condition, a parameter, `<>`, LIKE, a subquery, a U&'...' string...), or
 * a statement with OR in it, makes the scope unknown. U&"..." names are no
 * names here (their escapes are not undone). It reads only text[0..len).
 */
#ifndef RULES_SQLSCAN_H
#define RULES_SQLSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/event.h"

#define SQLSCAN_MAX_TABLES 64 /* declared tables */

struct sqlscan_table {
	const char *name;   /* lowercase */
	const char *column; /* lowercase; NULL: no customer column */
};

struct sqlscan_out {
	uint64_t found;      /* bit per declared table touched */
	bool unknown;        /* some touched table's customers are not known */
	struct bw_str *vals; /* customer ids (caller's array, max_vals) */
	size_t n_vals, max_vals;
	char *arena; /* for unescaped strings; caller gives >= len bytes */
	size_t arena_len, arena_cap;
};

/* Scan text. out->vals, max_vals, arena and arena_cap are set by the
 * caller; the rest is filled. Values are views into text or into arena,
 * not NUL-terminated, possibly repeated. More ids than max_vals, or an id
 * longer than max_value bytes, are dropped and make the scope unknown. */
void sqlscan(const char *text, size_t len, const struct sqlscan_table *tabs,
             size_t n_tabs, size_t max_value, struct sqlscan_out *out);

#endif
