/*
 * report.h - the breach record of one incident, as GDPR Art. 33(5) asks
 * the controller to document it: the facts, the effects, the remedial
 * action taken, and the timeline, with the decisions and their reasons and
 * the state of the audit chain. As Markdown for a person, as JSON for
 * tools (docs/breach-record.md lists the members).
 *
 * The renderers are pure: they read a struct store_record and a
 * struct store_verify and write nothing but their output. now_us is the
 * time of the report (it says how far the 72-hour deadline is).
 */
#ifndef BW_REPORT_H
#define BW_REPORT_H

#include <jansson.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/error.h"
#include "store.h"

enum report_format {
	REPORT_MARKDOWN,
	REPORT_JSON,
};

/* "md" or "markdown", "json"; returns -1 for other names. */
int report_format_by_name(const char *name, enum report_format *out) BW_WUR;

/* The record as a JSON object (format "breachwatch-breach-record",
 * version 1). Caller owns the result (json_decref). Aborts on out of
 * memory, like xmalloc. */
json_t *report_json(const struct store_record *r, const struct store_verify *v,
		    int64_t now_us);

/* Append the record in format f to out. Returns -1 with err filled when
 * out's ceiling is reached (out then holds a truncated report). */
int report_render(const struct store_record *r, const struct store_verify *v,
		  enum report_format f, int64_t now_us, struct bw_buf *out,
		  struct bw_error *err) BW_WUR;

/* Read incident id from s, verify the audit chain, and append its record
 * to out. Returns -1 with err filled (unknown id, store error, ceiling). */
int report_write(struct store *s, const char *id, enum report_format f,
		 int64_t now_us, struct bw_buf *out,
		 struct bw_error *err) BW_WUR;

#endif
