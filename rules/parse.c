/*
 * parse.c - rule files (libconfig) into struct rule.
 *
 * Every member is checked: an unknown member, a wrong type, an unknown
 * field, a bad regex (with PCRE2's offset), an operator that does not fit
 * the field's type, a capture that reuses a field name, a duplicate id...
 * is an error at file:line, and the whole file is refused. Set names and
 * what depends on the site are resolved later, by rules_compile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "engine.h"

#define MAX_ID     64
#define MAX_TITLE  256
#define MAX_NOCASE 255 /* longest literal that nocase can fold */

struct pctx {
	struct rules *r;
	const char *fname; /* interned */
	struct bw_error *err;
	struct rule *ru;
	bool cap_used[RULES_MAX_CAPS];
	const char *field_name; /* of the condition being parsed */
};

static const char *const root_keys[] = {"rules", NULL};
static const char *const rule_keys[] = {
    "id",          "title",     "summary",   "category",
    "severity",    "kinds",     "sources",   "match",
    "unless",      "aggregate", "customers", "notify_customers",
    "credentials", "actions",   "affected_unknown", NULL};
static const char *const single_keys[] = {"type", NULL};
static const char *const threshold_keys[] = {"type",     "key", "window", "min",
                                             "distinct", "sum", NULL};
static const char *const sequence_keys[] = {"type", "key", "within", "steps",
                                            NULL};
static const char *const step_keys[] = {"name",   "kinds", "match",
                                        "unless", "min",   NULL};
static const char *const derived_names[] = {"customer", "data_kind",
                                            "principal_customer"};

static const char *where_file(const struct pctx *p, const config_setting_t *s)
{
	const char *f = bw_cfg_file(s);

	return f[0] != '\0' ? f : p->fname;
}

static int perr(struct pctx *p, const config_setting_t *s, const char *fmt, ...)
    BW_PRINTF(3, 4);

static int perr(struct pctx *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bw_error_set(p->err, where_file(p, s), bw_cfg_line(s), "%s",
	                    msg);
}

/* After a bw_cfg_* helper failed: name the file for rules from memory. */
static int fixfile(struct pctx *p)
{
	if (p->err != NULL && p->err->file[0] == '\0')
		snprintf(p->err->file, sizeof(p->err->file), "%s", p->fname);
	return -1;
}

static bool is_seq(const config_setting_t *s)
{
	return config_setting_is_list(s) || config_setting_is_array(s);
}

static size_t n_elems(const config_setting_t *s)
{
	return is_seq(s) ? (size_t)config_setting_length(s) : 1;
}

static const config_setting_t *elem(const config_setting_t *s, size_t i)
{
	return is_seq(s) ? config_setting_get_elem(s, (unsigned)i) : s;
}

static bool valid_word(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || (dots && *s == '.')))
			return false;
	return true;
}

static bool is_field_name(const char *name)
{
	if (bw_field_by_name(name) != BW_F_NONE || strcmp(name, "key") == 0 ||
	    strcmp(name, "count") == 0)
		return true;
	for (size_t i = 0; i < sizeof(derived_names) / sizeof(derived_names[0]);
	     i++)
		if (strcmp(name, derived_names[i]) == 0)
			return true;
	return false;
}

/* A field name: event field, derived field or a capture defined so far. */
static bool resolve(struct pctx *p, const char *name, struct fref *f)
{
	enum bw_field ef = bw_field_by_name(name);
	static const uint8_t vts[] = {[BW_FT_STR] = VT_STR,
	                              [BW_FT_ADDR] = VT_ADDR,
	                              [BW_FT_INT] = VT_INT,
	                              [BW_FT_ENUM] = VT_ENUM};

	memset(f, 0, sizeof(*f));
	if (ef != BW_F_NONE) {
		f->fk = FK_EVENT;
		f->vt = vts[bw_fields[ef].type];
		f->id = (uint16_t)ef;
		return true;
	}
	if (strcmp(name, "customer") == 0) {
		f->fk = FK_CUSTOMER;
		f->vt = VT_MULTI;
		return true;
	}
	if (strcmp(name, "data_kind") == 0) {
		f->fk = FK_DATA_KIND;
		f->vt = VT_MULTI;
		return true;
	}
	if (strcmp(name, "principal_customer") == 0) {
		f->fk = FK_PRINCIPAL_CUSTOMER;
		f->vt = VT_STR;
		return true;
	}
	for (size_t i = 0; i < p->ru->n_caps; i++)
		if (strcmp(p->ru->caps[i], name) == 0) {
			f->fk = FK_CAPTURE;
			f->vt = VT_STR;
			f->id = (uint16_t)i;
			p->cap_used[i] = true;
			return true;
		}
	return false;
}

static int field_member(struct pctx *p, const config_setting_t *s,
                        const char *what, struct fref *f)
{
	const char *name;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return perr(p, s, "%s must be a field name (a string)", what);
	name = config_setting_get_string(s);
	if (!resolve(p, name, f))
		return perr(p, s, "unknown field or capture \"%s\" in %s", name,
		            what);
	return 0;
}

static const char *vt_name(const struct fref *f)
{
	static const char *const names[] = {[VT_STR] = "text",
	                                    [VT_ADDR] = "an address",
	                                    [VT_INT] = "an integer",
	                                    [VT_ENUM] = "a name",
	                                    [VT_MULTI] = "text"};
	return names[f->vt];
}

static bool is_text(const struct fref *f)
{
	return f->vt == VT_STR || f->vt == VT_MULTI;
}

/* String operands (a string or a list of strings) into c->texts. */
static int texts_member(struct pctx *p, struct cond *c,
                        const config_setting_t *v, const char *op)
{
	size_t n = n_elems(v);

	if (n == 0)
		return perr(p, v, "%s: empty list", op);
	c->texts = xcalloc(n, sizeof(*c->texts));
	c->tlens = xcalloc(n, sizeof(*c->tlens));
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = elem(v, i);
		const char *t;
		size_t len;

		if (e == NULL || config_setting_type(e) != CONFIG_TYPE_STRING)
			return perr(p, e ? e : v, "%s: values must be strings",
			            op);
		t = config_setting_get_string(e);
		len = strlen(t);
		if (len == 0)
			return perr(p, e, "%s: empty string", op);
		if (len > RULES_MAX_TEXT || (c->nocase && len > MAX_NOCASE))
			return perr(p, e, "%s: value longer than %d bytes", op,
			            c->nocase ? MAX_NOCASE : RULES_MAX_TEXT);
		c->texts[i] = xstrdup(t);
		if (c->nocase)
			for (char *q = c->texts[i]; *q; q++)
				*q = (char)strset_lower((unsigned char)*q);
		c->tlens[i] = (uint32_t)len;
		c->n_texts++;
	}
	return 0;
}

/* Kind or source names into c->ints. */
static int enum_values(struct pctx *p, struct cond *c,
                       const config_setting_t *v, const char *op)
{
	if (texts_member(p, c, v, op) != 0)
		return -1;
	c->ints = xcalloc(c->n_texts, sizeof(*c->ints));
	for (size_t i = 0; i < c->n_texts; i++) {
		int64_t e = c->f.id == BW_F_KIND
		                ? (int64_t)bw_kind_by_name(c->texts[i])
		                : (int64_t)bw_source_by_name(c->texts[i]);

		if (e == 0)
			return perr(p, elem(v, i), "%s: unknown %s \"%s\"", op,
			            c->f.id == BW_F_KIND ? "kind" : "source",
			            c->texts[i]);
		c->ints[c->n_ints++] = e;
	}
	return 0;
}

static int op_regex(struct pctx *p, struct cond *c, const config_setting_t *v,
                    bool in_unless)
{
	struct rule *ru = p->ru;
	struct regex *re;
	char msg[512];

	if (c->f.fk != FK_EVENT || c->f.vt != VT_STR)
		return perr(p, v,
		            "regex applies to text fields of the event "
		            "(principal, resource, query, text, ...), not to "
		            "\"%s\"",
		            p->field_name);
	if (config_setting_type(v) != CONFIG_TYPE_STRING)
		return perr(p, v, "regex must be a string");
	re = regex_new(config_setting_get_string(v), c->nocase, msg,
	               sizeof(msg));
	if (re == NULL)
		return perr(p, v, "%s", msg);
	if (p->r->n_rx == p->r->cap_rx) {
		p->r->cap_rx = p->r->cap_rx ? p->r->cap_rx * 2 : 32;
		p->r->rx =
		    xreallocarray(p->r->rx, p->r->cap_rx, sizeof(*p->r->rx));
	}
	p->r->rx[p->r->n_rx++] = re; /* owned by r from here */
	c->re = re;
	for (size_t i = 0; i < re->n_names; i++) {
		const char *name = re->names[i].name;
		size_t s;

		if (is_field_name(name))
			return perr(p, v, "capture \"%s\" reuses a field name",
			            name);
		if (in_unless || c->negate) {
			re->names[i].slot = RULES_NO_SLOT;
			continue;
		}
		for (s = 0; s < ru->n_caps; s++)
			if (strcmp(ru->caps[s], name) == 0)
				break;
		if (s == ru->n_caps) {
			if (ru->n_caps == RULES_MAX_CAPS)
				return perr(p, v,
				            "more than %d captures in "
				            "one rule",
				            RULES_MAX_CAPS);
			ru->caps[ru->n_caps++] = xstrdup(name);
		}
		re->names[i].slot = (uint16_t)s;
	}
	return 0;
}

static int op_equals(struct pctx *p, struct cond *c, const config_setting_t *v,
                     bool in_unless)
{
	size_t n = n_elems(v);

	(void)in_unless;
	if (c->f.vt == VT_INT) {
		if (n == 0)
			return perr(p, v, "equals: empty list");
		c->ints = xcalloc(n, sizeof(*c->ints));
		for (size_t i = 0; i < n; i++) {
			const config_setting_t *e = elem(v, i);

			if (e == NULL ||
			    (config_setting_type(e) != CONFIG_TYPE_INT &&
			     config_setting_type(e) != CONFIG_TYPE_INT64))
				return perr(p, e ? e : v,
				            "equals: %s is an "
				            "integer field",
				            bw_fields[c->f.id].name);
			c->ints[c->n_ints++] = config_setting_get_int64(e);
		}
		return 0;
	}
	if (c->f.vt == VT_ENUM)
		return enum_values(p, c, v, "equals");
	if (texts_member(p, c, v, "equals") != 0)
		return -1;
	if (c->f.vt == VT_ADDR) {
		c->addrs = xcalloc(c->n_texts, sizeof(*c->addrs));
		for (size_t i = 0; i < c->n_texts; i++) {
			if (bw_addr_parse(c->texts[i], c->tlens[i],
			                  &c->addrs[i]) != 0)
				return perr(p, elem(v, i),
				            "equals: \"%s\" is "
				            "not an address",
				            c->texts[i]);
			c->n_addrs++;
		}
	}
	return 0;
}

static int op_text(struct pctx *p, struct cond *c, const config_setting_t *v,
                   const char *op)
{
	if (!is_text(&c->f))
		return perr(p, v,
		            "%s applies to text fields, and this field is "
		            "%s",
		            op, vt_name(&c->f));
	return texts_member(p, c, v, op);
}

static int op_prefix(struct pctx *p, struct cond *c, const config_setting_t *v,
                     bool in_unless)
{
	(void)in_unless;
	return op_text(p, c, v, "prefix");
}

static int op_contains(struct pctx *p, struct cond *c,
                       const config_setting_t *v, bool in_unless)
{
	(void)in_unless;
	return op_text(p, c, v, "contains");
}

/* Inline networks are checked now; @sets at compile. */
static int check_networks(struct pctx *p, struct cond *c,
                          const config_setting_t *v, const char *op)
{
	struct bw_cidr_set *set = bw_cidr_new();
	struct bw_error e;
	int ret = 0;

	for (size_t i = 0; i < c->n_texts && ret == 0; i++)
		if (c->texts[i][0] != '@' &&
		    bw_cidr_add(set, c->texts[i], &e) != 0)
			ret = perr(p, elem(v, i), "%s: \"%s\": %s", op,
			           c->texts[i], e.msg);
	bw_cidr_destroy(&set);
	return ret;
}

static int op_in(struct pctx *p, struct cond *c, const config_setting_t *v,
                 bool in_unless)
{
	(void)in_unless;
	if (c->f.vt == VT_INT)
		return perr(p, v,
		            "in applies to text, names and addresses; "
		            "for numbers use equals");
	if (c->f.vt == VT_ENUM)
		return enum_values(p, c, v, "in");
	if (texts_member(p, c, v, "in") != 0)
		return -1;
	if (c->f.vt == VT_ADDR)
		return check_networks(p, c, v, "in");
	return 0;
}

static int op_cidr(struct pctx *p, struct cond *c, const config_setting_t *v,
                   bool in_unless)
{
	(void)in_unless;
	if (c->f.vt != VT_ADDR || c->f.fk != FK_EVENT)
		return perr(p, v,
		            "cidr applies to address fields (src_ip, "
		            "dst_ip), and this field is %s",
		            vt_name(&c->f));
	if (texts_member(p, c, v, "cidr") != 0)
		return -1;
	return check_networks(p, c, v, "cidr");
}

static int op_cmp(struct pctx *p, struct cond *c, const config_setting_t *v,
                  bool in_unless)
{
	(void)in_unless;
	if (c->f.vt != VT_INT)
		return perr(p, v,
		            "%s compares integer fields, and this field "
		            "is %s",
		            config_setting_name(v), vt_name(&c->f));
	if (config_setting_type(v) != CONFIG_TYPE_INT &&
	    config_setting_type(v) != CONFIG_TYPE_INT64)
		return perr(p, v, "%s needs an integer",
		            config_setting_name(v));
	c->ints = xcalloc(1, sizeof(*c->ints));
	c->ints[0] = config_setting_get_int64(v);
	c->n_ints = 1;
	return 0;
}

static int op_class(struct pctx *p, struct cond *c, const config_setting_t *v,
                    bool in_unless)
{
	(void)in_unless;
	if (c->f.fk != FK_EVENT || c->f.id != BW_F_STATUS)
		return perr(p, v, "class applies to the status field");
	if (texts_member(p, c, v, "class") != 0)
		return -1;
	for (size_t i = 0; i < c->n_texts; i++) {
		const char *t = c->texts[i];

		if (strlen(t) != 3 || t[0] < '1' || t[0] > '5' ||
		    strcasecmp(t + 1, "xx") != 0)
			return perr(p, elem(v, i),
			            "class: \"%s\" is not a "
			            "status class (1xx ... 5xx)",
			            t);
		c->class_mask |= (uint8_t)(1u << (t[0] - '0'));
	}
	return 0;
}

static int op_exists(struct pctx *p, struct cond *c, const config_setting_t *v,
                     bool in_unless)
{
	(void)in_unless;
	if (config_setting_type(v) != CONFIG_TYPE_BOOL)
		return perr(p, v, "exists must be true or false");
	c->flag = config_setting_get_bool(v);
	return 0;
}

static int op_same_as(struct pctx *p, struct cond *c, const config_setting_t *v,
                      bool in_unless)
{
	(void)in_unless;
	return field_member(p, v, "same_as", &c->other);
}

static int op_bh(struct pctx *p, struct cond *c, const config_setting_t *v,
                 bool in_unless)
{
	(void)in_unless;
	if (config_setting_type(v) != CONFIG_TYPE_BOOL)
		return perr(p, v, "business_hours must be true or false");
	c->flag = config_setting_get_bool(v);
	return 0;
}

typedef int (*op_fn)(struct pctx *p, struct cond *c, const config_setting_t *v,
                     bool in_unless);

static const struct opdef {
	const char *name;
	enum op op;
	op_fn parse;
	bool nocase; /* takes nocase */
	bool field;  /* needs a field */
} opdefs[] = {
    {"regex", OP_REGEX, op_regex, true, true},
    {"equals", OP_EQUALS, op_equals, true, true},
    {"prefix", OP_PREFIX, op_prefix, true, true},
    {"contains", OP_CONTAINS, op_contains, true, true},
    {"in", OP_IN, op_in, true, true},
    {"cidr", OP_CIDR, op_cidr, false, true},
    {"gt", OP_GT, op_cmp, false, true},
    {"ge", OP_GE, op_cmp, false, true},
    {"lt", OP_LT, op_cmp, false, true},
    {"le", OP_LE, op_cmp, false, true},
    {"class", OP_CLASS, op_class, false, true},
    {"exists", OP_EXISTS, op_exists, false, true},
    {"same_as", OP_SAME_AS, op_same_as, false, true},
    {"business_hours", OP_BH, op_bh, false, false},
};

static const struct opdef *find_op(const char *name)
{
	for (size_t i = 0; i < sizeof(opdefs) / sizeof(opdefs[0]); i++)
		if (strcmp(opdefs[i].name, name) == 0)
			return &opdefs[i];
	return NULL;
}

static uint8_t stage_of(const struct cond *c)
{
	if (c->f.fk == FK_CAPTURE || c->other.fk == FK_CAPTURE)
		return ST_CAPTURE;
	if (c->op == OP_REGEX)
		return ST_REGEX;
	if ((c->f.fk != FK_EVENT && c->f.fk != FK_NONE) ||
	    (c->other.fk != FK_EVENT && c->other.fk != FK_NONE))
		return ST_DERIVED;
	return ST_CHEAP;
}

static int parse_cond(struct pctx *p, const config_setting_t *s, struct cond *c,
                      bool in_unless)
{
	const config_setting_t *m, *fs = NULL, *opv = NULL;
	const struct opdef *od = NULL, *d;
	const char *name;
	int n;

	c->file = rules_intern(p->r, where_file(p, s));
	c->line = bw_cfg_line(s);
	if (!config_setting_is_group(s))
		return perr(p, s,
		            "a condition is a group { field = ...; "
		            "operator = ...; }");
	n = config_setting_length(s);
	for (int i = 0; i < n; i++) {
		m = config_setting_get_elem(s, (unsigned)i);
		name = config_setting_name(m);
		if (strcmp(name, "field") == 0) {
			fs = m;
		} else if (strcmp(name, "not") == 0 ||
		           strcmp(name, "nocase") == 0) {
			if (config_setting_type(m) != CONFIG_TYPE_BOOL)
				return perr(p, m, "%s must be true or false",
				            name);
			if (strcmp(name, "not") == 0)
				c->negate = config_setting_get_bool(m);
			else
				c->nocase = config_setting_get_bool(m);
		} else if ((d = find_op(name)) != NULL) {
			if (od != NULL)
				return perr(p, m,
				            "a condition has one operator "
				            "(%s and %s)",
				            od->name, name);
			od = d;
			opv = m;
		} else {
			return perr(p, m,
			            "unknown member \"%s\" in a "
			            "condition",
			            name);
		}
	}
	if (od == NULL)
		return perr(p, s,
		            "condition without an operator (regex, "
		            "equals, prefix, contains, in, cidr, gt, ge, lt, "
		            "le, class, exists, same_as, business_hours)");
	c->op = (uint8_t)od->op;
	if (c->nocase && !od->nocase)
		return perr(p, s, "nocase does not apply to %s", od->name);
	if (od->field && fs == NULL)
		return perr(p, s, "%s needs a field", od->name);
	if (!od->field && fs != NULL)
		return perr(p, fs, "%s takes no field", od->name);
	if (fs != NULL && field_member(p, fs, "field", &c->f) != 0)
		return -1;
	p->field_name = fs != NULL ? config_setting_get_string(fs) : "";
	if (c->nocase && fs != NULL && !is_text(&c->f))
		return perr(p, s, "nocase applies to text fields");
	if (od->parse(p, c, opv, in_unless) != 0)
		return -1;
	c->stage = stage_of(c);
	return 0;
}

static int parse_conds(struct pctx *p, const config_setting_t *grp,
                       const char *key, struct condlist *cl, bool in_unless)
{
	const config_setting_t *s = config_setting_get_member(grp, key);
	size_t n;

	if (s == NULL)
		return 0;
	if (!config_setting_is_list(s))
		return perr(p, s,
		            "%s must be a list of conditions: "
		            "( { ... }, { ... } )",
		            key);
	n = (size_t)config_setting_length(s);
	if (n > RULES_MAX_CONDS)
		return perr(p, s, "more than %d conditions", RULES_MAX_CONDS);
	cl->v = xcalloc(n ? n : 1, sizeof(*cl->v));
	for (size_t i = 0; i < n; i++) {
		/* Counted before parsing so a half-parsed one is freed. */
		cl->n++;
		if (parse_cond(p, config_setting_get_elem(s, (unsigned)i),
		               &cl->v[i], in_unless) != 0)
			return -1;
	}
	return 0;
}

static int parse_kinds(struct pctx *p, const config_setting_t *grp,
                       const char *key, bool required, uint32_t *out)
{
	const config_setting_t *s;

	if (bw_cfg_strings(grp, key, required, &s, p->err) != 0)
		return fixfile(p);
	*out = 0;
	if (s == NULL)
		return 0;
	if (n_elems(s) == 0)
		return perr(p, s, "%s: empty list", key);
	for (size_t i = 0; i < n_elems(s); i++) {
		const char *name = config_setting_get_string(elem(s, i));
		int v = strcmp(key, "sources") == 0
		            ? (int)bw_source_by_name(name)
		            : (int)bw_kind_by_name(name);

		if (v == 0)
			return perr(p, elem(s, i), "unknown %s \"%s\"",
			            strcmp(key, "sources") == 0 ? "source"
			                                        : "kind",
			            name);
		*out |= 1u << v;
	}
	return 0;
}

static int parse_fields(struct pctx *p, const config_setting_t *grp,
                        const char *key, struct fref *out, size_t max,
                        size_t *n)
{
	const config_setting_t *s;

	*n = 0;
	if (bw_cfg_strings(grp, key, false, &s, p->err) != 0)
		return fixfile(p);
	if (s == NULL)
		return 0;
	if (n_elems(s) == 0 || n_elems(s) > max)
		return perr(p, s, "%s: between 1 and %zu fields", key, max);
	for (size_t i = 0; i < n_elems(s); i++) {
		if (field_member(p, elem(s, i), key, &out[i]) != 0)
			return -1;
		(*n)++;
	}
	return 0;
}

static int parse_steps(struct pctx *p, const config_setting_t *agg)
{
	struct rule *ru = p->ru;
	const config_setting_t *s = config_setting_get_member(agg, "steps");
	const config_setting_t *e;
	const char *name;
	int64_t min;
	size_t n;

	if (s == NULL)
		return perr(p, agg, "a sequence needs steps");
	if (!config_setting_is_list(s))
		return perr(p, s, "steps must be a list of groups");
	n = (size_t)config_setting_length(s);
	if (n == 0 || n > RULES_MAX_STEPS)
		return perr(p, s, "a sequence has 1 to %d steps",
		            RULES_MAX_STEPS);
	ru->steps = xcalloc(n, sizeof(*ru->steps));
	for (size_t i = 0; i < n; i++) {
		struct step *st = &ru->steps[i];

		ru->n_steps++;
		e = config_setting_get_elem(s, (unsigned)i);
		st->line = bw_cfg_line(e);
		if (!config_setting_is_group(e))
			return perr(p, e,
			            "a step is a group { match = (...); "
			            "}");
		min = 1;
		if (bw_cfg_check_keys(e, step_keys, p->err) != 0 ||
		    bw_cfg_string(e, "name", false, &name, p->err) != 0 ||
		    bw_cfg_int(e, "min", false, 1, INT32_MAX, &min, p->err) !=
		        0)
			return fixfile(p);
		st->name = name ? xstrdup(name) : NULL;
		st->min = (uint64_t)min;
		if (parse_kinds(p, e, "kinds", false, &st->kinds) != 0)
			return -1;
		if (st->kinds == 0)
			st->kinds = ru->kinds;
		if ((st->kinds & ~ru->kinds) != 0)
			return perr(p, config_setting_get_member(e, "kinds"),
			            "a step's kinds must be among the rule's "
			            "kinds");
		if (parse_conds(p, e, "match", &st->match, false) != 0 ||
		    parse_conds(p, e, "unless", &st->unless, true) != 0)
			return -1;
	}
	return 0;
}

static int parse_aggregate(struct pctx *p, const config_setting_t *rs,
                           const config_setting_t **agg_out)
{
	struct rule *ru = p->ru;
	const config_setting_t *agg =
	    config_setting_get_member(rs, "aggregate");
	const char *type;
	int64_t min = 0;

	*agg_out = agg;
	ru->agg = AGG_SINGLE;
	if (agg == NULL)
		return 0;
	if (!config_setting_is_group(agg))
		return perr(p, agg,
		            "aggregate must be a group { type = ...; }");
	if (bw_cfg_string(agg, "type", true, &type, p->err) != 0)
		return fixfile(p);
	if (strcmp(type, "single") == 0) {
		if (bw_cfg_check_keys(agg, single_keys, p->err) != 0)
			return fixfile(p);
		return 0;
	}
	if (strcmp(type, "threshold") == 0) {
		ru->agg = AGG_THRESHOLD;
		if (bw_cfg_check_keys(agg, threshold_keys, p->err) != 0 ||
		    bw_cfg_duration(agg, "window", true, &ru->window_us,
		                    p->err) != 0 ||
		    bw_cfg_int(agg, "min", true, 1, INT64_MAX, &min, p->err) !=
		        0)
			return fixfile(p);
		if (ru->window_us <= 0)
			return perr(p, config_setting_get_member(agg, "window"),
			            "window must be longer than 0");
		ru->min = (uint64_t)min;
		return 0;
	}
	if (strcmp(type, "sequence") == 0) {
		ru->agg = AGG_SEQUENCE;
		if (bw_cfg_check_keys(agg, sequence_keys, p->err) != 0 ||
		    bw_cfg_duration(agg, "within", true, &ru->window_us,
		                    p->err) != 0)
			return fixfile(p);
		if (ru->window_us <= 0)
			return perr(p, config_setting_get_member(agg, "within"),
			            "within must be longer than 0");
		return parse_steps(p, agg);
	}
	return perr(p, config_setting_get_member(agg, "type"),
	            "unknown aggregate type \"%s\" (single, threshold, "
	            "sequence)",
	            type);
}

/* key, distinct and sum: after every capture of the rule is known. */
static int parse_agg_fields(struct pctx *p, const config_setting_t *agg)
{
	struct rule *ru = p->ru;
	const config_setting_t *d, *s;

	if (agg == NULL || ru->agg == AGG_SINGLE)
		return 0;
	if (parse_fields(p, agg, "key", ru->keys, RULES_MAX_KEYS,
	                 &ru->n_keys) != 0)
		return -1;
	if (ru->agg != AGG_THRESHOLD)
		return 0;
	d = config_setting_get_member(agg, "distinct");
	s = config_setting_get_member(agg, "sum");
	if (d != NULL && s != NULL)
		return perr(p, s, "distinct and sum do not go together");
	if (d != NULL) {
		ru->mode = THR_DISTINCT;
		if (field_member(p, d, "distinct", &ru->distinct) != 0)
			return -1;
	}
	if (s != NULL) {
		ru->mode = THR_SUM;
		if (field_member(p, s, "sum", &ru->sum) != 0)
			return -1;
		if (ru->sum.fk != FK_EVENT || ru->sum.vt != VT_INT)
			return perr(p, s,
			            "sum adds up an integer field "
			            "(bytes_out, ...)");
	}
	return 0;
}

static bool tmpl_resolve(void *ctx, const char *name, struct fref *f)
{
	struct pctx *p = ctx;

	memset(f, 0, sizeof(*f));
	if (strcmp(name, "key") == 0) {
		f->fk = FK_KEY;
		return true;
	}
	if (strcmp(name, "count") == 0) {
		f->fk = FK_COUNT;
		return true;
	}
	return resolve(p, name, f);
}

static int parse_strings_member(struct pctx *p, const config_setting_t *rs,
                                const char *key, char ***out, size_t *n)
{
	const config_setting_t *s;

	*n = 0;
	if (bw_cfg_strings(rs, key, false, &s, p->err) != 0)
		return fixfile(p);
	if (s == NULL)
		return 0;
	*out = xcalloc(n_elems(s) + 1, sizeof(**out));
	for (size_t i = 0; i < n_elems(s); i++) {
		const char *v = config_setting_get_string(elem(s, i));

		if (!valid_word(v, MAX_ID, true))
			return perr(p, elem(s, i),
			            "bad action id \"%s\" "
			            "([a-z0-9._-])",
			            v);
		(*out)[(*n)++] = xstrdup(v);
	}
	return 0;
}

/* Regexes whose captures someone reads must run in PCRE2. */
static void mark_used(struct pctx *p, const struct condlist *cl)
{
	for (size_t i = 0; i < cl->n; i++) {
		struct regex *re = cl->v[i].re;

		if (re == NULL)
			continue;
		for (size_t k = 0; k < re->n_names; k++)
			if (re->names[k].slot != RULES_NO_SLOT &&
			    p->cap_used[re->names[k].slot])
				re->captures_used = true;
	}
}

static int parse_rule(struct pctx *p, const config_setting_t *rs)
{
	struct rule *ru = p->ru;
	const config_setting_t *agg;
	const char *id, *title, *summary = NULL, *category, *sev;
	bool b;
	char msg[512];

	if (!config_setting_is_group(rs))
		return perr(p, rs, "a rule is a group { id = ...; ... }");
	ru->info.file = rules_intern(p->r, where_file(p, rs));
	ru->info.line = bw_cfg_line(rs);
	if (bw_cfg_check_keys(rs, rule_keys, p->err) != 0 ||
	    bw_cfg_string(rs, "id", true, &id, p->err) != 0 ||
	    bw_cfg_string(rs, "title", true, &title, p->err) != 0 ||
	    bw_cfg_string(rs, "summary", false, &summary, p->err) != 0 ||
	    bw_cfg_string(rs, "category", true, &category, p->err) != 0 ||
	    bw_cfg_string(rs, "severity", true, &sev, p->err) != 0)
		return fixfile(p);
	if (!valid_word(id, MAX_ID, true))
		return perr(p, config_setting_get_member(rs, "id"),
		            "bad rule id \"%s\" (1 to %d of a-z 0-9 . _ -)", id,
		            MAX_ID);
	ru->info.id = xstrdup(id);
	if (title[0] == '\0' || strlen(title) > MAX_TITLE)
		return perr(p, config_setting_get_member(rs, "title"),
		            "title must be 1 to %d bytes", MAX_TITLE);
	ru->info.title = xstrdup(title);
	if (!valid_word(category, MAX_ID, false))
		return perr(p, config_setting_get_member(rs, "category"),
		            "bad category \"%s\" (a word of a-z 0-9 _ -)",
		            category);
	ru->info.category = xstrdup(category);
	ru->info.severity = bw_severity_by_name(sev);
	if (ru->info.severity == 0)
		return perr(p, config_setting_get_member(rs, "severity"),
		            "unknown severity \"%s\" (low, medium, high, "
		            "critical)",
		            sev);
	b = false;
	if (bw_cfg_bool(rs, "notify_customers", false, &b, p->err) != 0)
		return fixfile(p);
	ru->info.notify_customers = b;
	b = false;
	if (bw_cfg_bool(rs, "credentials", false, &b, p->err) != 0)
		return fixfile(p);
	ru->info.credentials = b;
	b = false;
	if (bw_cfg_bool(rs, "affected_unknown", false, &b, p->err) != 0)
		return fixfile(p);
	ru->affected_unknown = b;
	if (parse_strings_member(p, rs, "actions", &ru->actions,
	                         &ru->info.n_actions) != 0)
		return -1;
	ru->info.actions = (const char *const *)ru->actions;
	if (parse_kinds(p, rs, "kinds", true, &ru->kinds) != 0 ||
	    parse_kinds(p, rs, "sources", false, &ru->sources) != 0)
		return -1;
	if (parse_conds(p, rs, "match", &ru->match, false) != 0 ||
	    parse_aggregate(p, rs, &agg) != 0 ||
	    parse_conds(p, rs, "unless", &ru->unless, true) != 0 ||
	    parse_agg_fields(p, agg) != 0 ||
	    parse_fields(p, rs, "customers", ru->custf, RULES_MAX_CUSTF,
	                 &ru->n_custf) != 0)
		return -1;
	if (summary != NULL) {
		ru->info.summary = xstrdup(summary);
		if (tmpl_parse(&ru->summary, summary, tmpl_resolve, p, msg,
		               sizeof(msg)) != 0)
			return perr(p, config_setting_get_member(rs, "summary"),
			            "summary: %s", msg);
	}
	mark_used(p, &ru->match);
	for (size_t i = 0; i < ru->n_steps; i++)
		mark_used(p, &ru->steps[i].match);
	return 0;
}

static bool id_taken(struct rules *r, struct rule **v, size_t n, const char *id)
{
	for (size_t i = 0; i < r->n_rules; i++)
		if (strcmp(r->rules[i]->info.id, id) == 0)
			return true;
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i]->info.id, id) == 0)
			return true;
	return false;
}

static int parse_root(struct pctx *p, const config_setting_t *root)
{
	struct rules *r = p->r;
	const config_setting_t *list, *rs;
	struct rule **v = NULL;
	size_t n = 0, cnt;
	int ret = -1;

	if (bw_cfg_check_keys(root, root_keys, p->err) != 0) {
		fixfile(p);
		goto out;
	}
	list = config_setting_get_member(root, "rules");
	if (list == NULL) {
		ret = 0; /* a file without rules adds none */
		goto out;
	}
	if (!config_setting_is_list(list)) {
		perr(p, list,
		     "rules must be a list: rules = ( { ... }, ... );");
		goto out;
	}
	cnt = (size_t)config_setting_length(list);
	v = xcalloc(cnt ? cnt : 1, sizeof(*v));
	for (size_t i = 0; i < cnt; i++) {
		rs = config_setting_get_elem(list, (unsigned)i);
		memset(p->cap_used, 0, sizeof(p->cap_used));
		p->ru = xcalloc(1, sizeof(*p->ru));
		v[n++] = p->ru;
		if (parse_rule(p, rs) != 0)
			goto out;
		if (id_taken(r, v, n - 1, p->ru->info.id)) {
			perr(p, config_setting_get_member(rs, "id"),
			     "duplicate rule id \"%s\"", p->ru->info.id);
			goto out;
		}
	}
	if (r->n_rules + n > r->cap_rules) {
		r->cap_rules = (r->n_rules + n) * 2;
		r->rules =
		    xreallocarray(r->rules, r->cap_rules, sizeof(*r->rules));
	}
	memcpy(r->rules + r->n_rules, v, n * sizeof(*v));
	r->n_rules += n;
	n = 0;
	ret = 0;
out:
	for (size_t i = 0; i < n; i++) {
		rules_free_rule(v[i]);
		free(v[i]);
	}
	free(v);
	p->ru = NULL;
	return ret;
}

static int add_config(struct rules *r, const char *name, config_t *cfg,
                      struct bw_error *err)
{
	struct pctx p;

	memset(&p, 0, sizeof(p));
	p.r = r;
	p.fname = rules_intern(r, name);
	p.err = err;
	if (parse_root(&p, config_root_setting(cfg)) != 0) {
		r->failed = true;
		return -1;
	}
	return 0;
}

int rules_add_string(struct rules *r, const char *name, const char *text,
                     struct bw_error *err)
{
	config_t cfg;
	int ret;

	if (r->compiled)
		return bw_error_set(err, name, 0, "rules are already compiled");
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		bw_error_set(err, name, config_error_line(&cfg), "%s",
		             config_error_text(&cfg));
		config_destroy(&cfg);
		r->failed = true;
		return -1;
	}
	ret = add_config(r, name, &cfg, err);
	config_destroy(&cfg);
	return ret;
}

int rules_add_file(struct rules *r, const char *path, struct bw_error *err)
{
	config_t cfg;
	int ret;

	if (r->compiled)
		return bw_error_set(err, path, 0, "rules are already compiled");
	if (bw_cfg_read_file(&cfg, path, NULL, err) != 0) {
		r->failed = true;
		return -1;
	}
	ret = add_config(r, path, &cfg, err);
	config_destroy(&cfg);
	return ret;
}
