/*
 * output.h - printing incidents: one JSON line each (for programs and the
 * replay tests), or a block of text for a person.
 */
#ifndef BW_OUTPUT_H
#define BW_OUTPUT_H

#include <stdio.h>

#include "../common/incident.h"

enum output_format { OUTPUT_JSON, OUTPUT_TEXT };

/* Parse "json" or "text"; returns -1 for anything else. */
int output_format_parse(const char *s, enum output_format *out);

/* Write inc to f in the format. */
void output_incident(FILE *f, const struct bw_incident *inc,
		     enum output_format fmt);

#endif
