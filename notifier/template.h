/*
 * template.h - the message templates: a small logic-less language (a
 * subset of Mustache) over a JSON context (jansson).
 *
 *   {{name}}            the value of name (a dotted path a.b looks inside
 *                       objects; "." is the current item), escaped for HTML
 *                       in an HTML template; absent or null is empty
 *   {{#name}}...{{/name}}  the block once for true, a non-empty string or
 *                       number, or an object (which becomes the current
 *                       item); once per element of a non-empty array; not
 *                       at all for false, null, "", [] or an absent name
 *   {{^name}}...{{/name}}  the block only when {{#name}} would not show it
 *   {{> file}}          another template file, looked up by the caller
 *   {{! comment }}
 *
 * A line holding nothing but a section, closing, comment or partial tag
 * (and blanks) leaves no line in the output, so templates can be laid out
 * for reading. Names are letters, digits, '_', '-' and '.'. A template is
 * parsed whole before anything is written: an unclosed or mismatched
 * section, an unknown tag or a bad name is an error at file:line.
 *
 * Templates are the site's files: they are trusted to be templates, not to
 * be well-formed; the values put in them come from incidents and the
 * directory and are escaped (HTML) by the engine, made safe (text) by the
 * caller.
 */
#ifndef BW_TEMPLATE_H
#define BW_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

#include "../common/buf.h"
#include "../common/error.h"

#define TEMPLATE_MAX_DEPTH 16 /* nested sections and partials */
#define TEMPLATE_MAX_NAME  64

/* Look up the partial name: 0 with *text (caller frees) and *where (the
 * file, for errors; caller frees) set, -1 with err filled. */
typedef int (*template_partial_fn)(const char *name, char **text, char **where,
                                   void *arg, struct bw_error *err);

/* Check text's syntax (partials are not looked up). where names it in
 * errors ("file"). Returns -1 with err at where:line. */
int template_check(const char *text, const char *where,
                   struct bw_error *err) BW_WUR;

/* Render text with ctx (borrowed) into out. html: escape values for HTML.
 * partial may be NULL (then {{> x}} is an error). Returns -1 with err (a
 * syntax error at where:line, a partial that cannot be had, out's ceiling
 * reached). */
int template_render(const char *text, const char *where, const json_t *ctx,
                    bool html, template_partial_fn partial, void *arg,
                    struct bw_buf *out, struct bw_error *err) BW_WUR;

/* Append s to out escaped for HTML text and attributes (& < > " '). */
int template_html_escape(struct bw_buf *out, const char *s) BW_WUR;

#endif
