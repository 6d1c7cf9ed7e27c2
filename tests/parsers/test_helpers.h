/*
 * test_helpers.h - shared by the parser tests: make a parser from config
 * text, read event fields as C strings.
 */
#ifndef BW_TEST_PARSERS_HELPERS_H
#define BW_TEST_PARSERS_HELPERS_H

#include <stdint.h>

#include "../../agent/parser.h"

#define US 1000000LL

/* A parser of type made from "input = { ... };" text (NULL: defaults).
 * Fails the test when it cannot be made. */
struct parser *th_parser(const char *type, const char *cfgtext);
/* The error parser_new gives for that config, or NULL if it succeeds. */
const char *th_parser_error(const char *type, const char *cfgtext);
/* A string field as a C string ("" when absent); kept in a small ring of
 * buffers, valid for a few calls. */
const char *th_s(struct bw_str s);
/* The event's source address as text ("" when absent). */
const char *th_ip(const struct bw_event *ev);
/* Parse a C string line; the event is cleared first. */
int th_parse(struct parser *p, const char *line, struct bw_event *ev);

/* The PostgreSQL and SQL test cases (test_parsers_pg.c). */
#include <check.h>
TCase *th_pg_tcase(void);
TCase *th_sql_tcase(void);

#endif
