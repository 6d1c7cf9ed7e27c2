/*
 * template.c - the message templates (see template.h).
 *
 * A template is parsed into a list of nodes (text, value, section,
 * partial), sections holding their own lists, then rendered over a stack
 * of JSON contexts.
 */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"

enum node_kind { N_TEXT, N_VAR, N_SECTION, N_INVERTED, N_PARTIAL };

struct node {
	enum node_kind kind;
	const char *text; /* N_TEXT: into the template */
	size_t len;
	char name[TEMPLATE_MAX_NAME + 1];
	int line;
	struct node *children; /* sections */
	size_t n_children, cap_children;
};

struct parser {
	const char *text;
	const char *where;
	struct bw_error *err;
	const char *counted; /* newlines counted up to here */
	int line;            /* the line at counted */
};

static void free_nodes(struct node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free_nodes(nodes[i].children, nodes[i].n_children);
	free(nodes);
}

static struct node *add(struct node **arr, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		*arr = xreallocarray(*arr, *cap, sizeof(**arr));
	}
	memset(&(*arr)[*n], 0, sizeof(**arr));
	return &(*arr)[(*n)++];
}

/* The line of p: the parser only moves forward, so the newlines are
 * counted once. */
static int line_of(struct parser *ps, const char *p)
{
	if (p < ps->counted) {
		ps->counted = ps->text;
		ps->line = 1;
	}
	for (; ps->counted < p; ps->counted++)
		if (*ps->counted == '\n')
			ps->line++;
	return ps->line;
}

static bool name_ok(const char *s, size_t len)
{
	if (len == 0 || len > TEMPLATE_MAX_NAME)
		return false;
	if (len == 1 && s[0] == '.')
		return true;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

/* Whether the tag at [tag, after) stands alone on its line: only blanks
 * from the line's start to it and from it to the line end. Sets *ls to the
 * line start and *le past the line end. */
static bool standalone(const char *text, const char *tag, const char *after,
                       const char **ls, const char **le)
{
	const char *p = tag;

	while (p > text && (p[-1] == ' ' || p[-1] == '\t'))
		p--;
	if (p != text && p[-1] != '\n')
		return false;
	*ls = p;
	p = after;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\r' && p[1] == '\n')
		p += 2;
	else if (*p == '\n')
		p++;
	else if (*p != '\0')
		return false;
	*le = p;
	return true;
}

/* Parse from *pos into the list (arr, n, cap) until {{/close}} (close
 * not NULL) or the end. */
static int parse(struct parser *ps, const char **pos, const char *close,
                 int open_line, int depth, struct node **arr, size_t *n,
                 size_t *cap)
{
	const char *p = *pos;

	if (depth > TEMPLATE_MAX_DEPTH)
		return bw_error_set(ps->err, ps->where, line_of(ps, p),
		                    "sections nested deeper than %d",
		                    TEMPLATE_MAX_DEPTH);
	for (;;) {
		const char *open = strstr(p, "{{"), *end, *ls, *le;
		const char *name;
		size_t nlen;
		char sigil = 0;
		struct node *nd;
		int line;

		if (open == NULL) {
			if (close != NULL)
				return bw_error_set(
				    ps->err, ps->where, open_line,
				    "{{#%s}} is never closed", close);
			if (*p != '\0') {
				nd = add(arr, n, cap);
				nd->kind = N_TEXT;
				nd->text = p;
				nd->len = strlen(p);
			}
			*pos = p + strlen(p);
			return 0;
		}
		line = line_of(ps, open);
		end = strstr(open + 2, "}}");
		if (end == NULL)
			return bw_error_set(ps->err, ps->where, line,
			                    "\"{{\" without \"}}\"");
		name = open + 2;
		if (*name != '\0' && strchr("#^/!>", *name) != NULL)
			sigil = *name++;
		while (*name == ' ')
			name++;
		nlen = (size_t)(end - name);
		while (nlen > 0 && name[nlen - 1] == ' ')
			nlen--;
		/* a tag alone on its line takes the line with it */
		if (sigil == 0 ||
		    !standalone(ps->text, open, end + 2, &ls, &le)) {
			ls = open;
			le = end + 2;
		}
		if (ls > p) {
			nd = add(arr, n, cap);
			nd->kind = N_TEXT;
			nd->text = p;
			nd->len = (size_t)(ls - p);
		}
		p = le;
		if (sigil == '!')
			continue;
		if (!name_ok(name, nlen))
			return bw_error_set(ps->err, ps->where, line,
			                    "bad name \"%.*s\" in a tag "
			                    "(letters, digits, _ - .)",
			                    (int)(nlen > 64 ? 64 : nlen), name);
		if (sigil == '/') {
			if (close == NULL || strlen(close) != nlen ||
			    memcmp(close, name, nlen) != 0)
				return bw_error_set(
				    ps->err, ps->where, line,
				    "{{/%.*s}} closes %s%s%s", (int)nlen, name,
				    close != NULL ? "{{#" : "",
				    close != NULL ? close : "nothing",
				    close != NULL ? "}}" : "");
			*pos = p;
			return 0;
		}
		nd = add(arr, n, cap);
		nd->line = line;
		memcpy(nd->name, name, nlen);
		nd->name[nlen] = '\0';
		switch (sigil) {
		case '#':
		case '^':
			nd->kind = sigil == '#' ? N_SECTION : N_INVERTED;
			{
				/* nd may move as the parent list grows: parse
				 * into locals, then attach */
				struct node *kids = NULL;
				size_t nk = 0, ck = 0;
				char sname[TEMPLATE_MAX_NAME + 1];
				int rc;

				memcpy(sname, nd->name, sizeof(sname));
				rc = parse(ps, &p, sname, line, depth + 1,
				           &kids, &nk, &ck);
				nd = &(*arr)[*n - 1];
				nd->children = kids;
				nd->n_children = nk;
				nd->cap_children = ck;
				if (rc < 0)
					return -1;
			}
			break;
		case '>':
			nd->kind = N_PARTIAL;
			break;
		default:
			nd->kind = N_VAR;
			break;
		}
	}
}

static int parse_all(const char *text, const char *where, struct node **out,
                     size_t *n, struct bw_error *err)
{
	struct parser ps = {text, where, err, text, 1};
	const char *pos = text;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (parse(&ps, &pos, NULL, 0, 0, out, n, &cap) < 0) {
		free_nodes(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int template_check(const char *text, const char *where, struct bw_error *err)
{
	struct node *nodes;
	size_t n;

	if (parse_all(text, where, &nodes, &n, err) < 0)
		return -1;
	free_nodes(nodes, n);
	return 0;
}

int template_html_escape(struct bw_buf *out, const char *s)
{
	static const char *const entity[256] = {
	    ['&'] = "&amp;",  ['<'] = "&lt;",   ['>'] = "&gt;",
	    ['"'] = "&quot;", ['\''] = "&#39;",
	};

	for (; *s != '\0'; s++) {
		const char *e = entity[(unsigned char)*s];
		int rc =
		    e != NULL ? bw_buf_addstr(out, e) : bw_buf_addc(out, *s);

		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * Rendering.
 */

struct renderer {
	bool html;
	template_partial_fn partial;
	void *arg;
	struct bw_buf *out;
	struct bw_error *err;
	const json_t *stack[TEMPLATE_MAX_DEPTH * 2 + 2];
	size_t depth;
	int partials; /* nested now */
	const char *where;
};

/* The value of name: "." the top; else the first segment from the top of
 * the stack down, then the rest inside it. NULL when absent. */
static const json_t *lookup(const struct renderer *r, const char *name)
{
	const json_t *v = NULL;
	char seg[TEMPLATE_MAX_NAME + 1];
	const char *p = name, *dot;
	size_t len;

	if (strcmp(name, ".") == 0)
		return r->depth > 0 ? r->stack[r->depth - 1] : NULL;
	dot = strchr(p, '.');
	len = dot != NULL ? (size_t)(dot - p) : strlen(p);
	memcpy(seg, p, len);
	seg[len] = '\0';
	for (size_t i = r->depth; i > 0 && v == NULL; i--)
		if (json_is_object(r->stack[i - 1]))
			v = json_object_get(r->stack[i - 1], seg);
	while (v != NULL && dot != NULL) {
		p = dot + 1;
		dot = strchr(p, '.');
		len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		memcpy(seg, p, len);
		seg[len] = '\0';
		v = json_is_object(v) ? json_object_get(v, seg) : NULL;
	}
	return v;
}

static bool truthy(const json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return false;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	return true;
}

static int put_value(struct renderer *r, const json_t *v)
{
	char num[48];
	const char *s = NULL;

	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		s = json_string_value(v);
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(v));
		s = num;
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%g", json_real_value(v));
		s = num;
	} else if (json_is_boolean(v)) {
		s = json_is_true(v) ? "yes" : "no";
	} else {
		return 0; /* objects and arrays print nothing */
	}
	return r->html ? template_html_escape(r->out, s)
	               : bw_buf_addstr(r->out, s);
}

static int render_nodes(struct renderer *r, const struct node *nodes, size_t n);

static int push(struct renderer *r, const json_t *v, int line)
{
	if (r->depth == sizeof(r->stack) / sizeof(r->stack[0]))
		return bw_error_set(r->err, r->where, line,
		                    "contexts nested too deep");
	r->stack[r->depth++] = v;
	return 0;
}

static int render_partial(struct renderer *r, const struct node *nd)
{
	char *text = NULL, *where = NULL;
	const char *saved = r->where;
	struct node *nodes = NULL;
	size_t n = 0;
	int rc = -1;

	if (r->partial == NULL)
		return bw_error_set(r->err, r->where, nd->line,
		                    "{{> %s}}: no partials here", nd->name);
	if (r->partials >= TEMPLATE_MAX_DEPTH / 2)
		return bw_error_set(r->err, r->where, nd->line,
		                    "{{> %s}}: partials nested deeper than %d",
		                    nd->name, TEMPLATE_MAX_DEPTH / 2);
	if (r->partial(nd->name, &text, &where, r->arg, r->err) < 0)
		return -1;
	if (parse_all(text, where, &nodes, &n, r->err) < 0)
		goto out;
	r->partials++;
	r->where = where;
	rc = render_nodes(r, nodes, n);
	r->where = saved;
	r->partials--;
out:
	free_nodes(nodes, n);
	free(text);
	free(where);
	return rc;
}

static int render_nodes(struct renderer *r, const struct node *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct node *nd = &nodes[i];
		const json_t *v;
		size_t k;
		json_t *item;

		switch (nd->kind) {
		case N_TEXT:
			if (bw_buf_add(r->out, nd->text, nd->len) < 0)
				goto full;
			break;
		case N_VAR:
			if (put_value(r, lookup(r, nd->name)) < 0)
				goto full;
			break;
		case N_PARTIAL:
			if (render_partial(r, nd) < 0)
				return -1;
			break;
		case N_INVERTED:
			if (!truthy(lookup(r, nd->name)) &&
			    render_nodes(r, nd->children, nd->n_children) < 0)
				return -1;
			break;
		case N_SECTION:
			v = lookup(r, nd->name);
			if (!truthy(v))
				break;
			if (!json_is_array(v)) {
				if (push(r, v, nd->line) < 0)
					return -1;
				if (render_nodes(r, nd->children,
				                 nd->n_children) < 0)
					return -1;
				r->depth--;
				break;
			}
			json_array_foreach(v, k, item)
			{
				if (push(r, item, nd->line) < 0)
					return -1;
				if (render_nodes(r, nd->children,
				                 nd->n_children) < 0)
					return -1;
				r->depth--;
			}
			break;
		}
	}
	return 0;
full:
	return bw_error_set(r->err, r->where, 0,
	                    "rendered text larger than %zu bytes", r->out->max);
}

int template_render(const char *text, const char *where, const json_t *ctx,
                    bool html, template_partial_fn partial, void *arg,
                    struct bw_buf *out, struct bw_error *err)
{
	struct renderer r = {
	    .html = html,
	    .partial = partial,
	    .arg = arg,
	    .out = out,
	    .err = err,
	    .where = where,
	};
	struct node *nodes;
	size_t n;
	int rc;

	if (parse_all(text, where, &nodes, &n, err) < 0)
		return -1;
	r.stack[r.depth++] = ctx;
	rc = render_nodes(&r, nodes, n);
	free_nodes(nodes, n);
	return rc;
}
