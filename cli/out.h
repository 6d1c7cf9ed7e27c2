/*
 * out.h - output for a person: text made safe for a terminal, aligned
 * tables, times and spans.
 *
 * Text in incidents comes from agents, which took it from logs an attacker
 * may write to: it is printed with control characters shown as \xNN, never
 * passed to the terminal as they are.
 */
#ifndef BW_CLI_OUT_H
#define BW_CLI_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* s with every control character (and, unless multiline, newline and tab)
 * as \xNN, and bytes that are not UTF-8 as \xNN. NULL prints as "-".
 * Caller frees. */
char *out_safe(const char *s, bool multiline);

/* Print out_safe(s) to f. */
void out_text(FILE *f, const char *s, bool multiline);

/* Print o as indented JSON (members in order) and a newline on stdout;
 * NULL prints {}. */
void out_json(const json_t *o);

/* The string member key of o, or NULL (absent, null or not a string). */
const char *out_str(const json_t *o, const char *key);

/* The integer member key of o, or 0. */
long long out_int(const json_t *o, const char *key);

/* "3d 4h", "2h 5m", "40s" for a duration (abs value taken). */
const char *out_span(int64_t us, char *buf, size_t size);

/* A table printed with aligned columns (the last one unpadded). Cells are
 * copied and made safe. */
struct out_table;
struct out_table *out_table_new(size_t ncols, const char *const *headers);
void out_table_add(struct out_table *t, const char *const *cells);
void out_table_print(struct out_table *t, FILE *f, const char *indent);
void out_table_destroy(struct out_table **t);

#endif
