/*
 * site.c - the site facts (the agent config's `site` group) and what the
 * engine derives from them per event: business hours, and the derived
 * fields customer, data_kind and principal_customer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "engine.h"
#include "sqlscan.h"

#define MAX_SET_NAME 64
#define SMALL_DEDUP  16
/* From this many customer paths on, one Hyperscan pass picks the
 * candidates. Below it, PCRE2 JIT tries them in order: anchored paths fail
 * in a few ns each, while a Hyperscan scan that matches costs ~100 ns
 * (measured: 5 paths, 15-50 ns in PCRE2 against 80-140 ns in Hyperscan
 * plus one PCRE2 run for the capture). */
#define SITE_HS_MIN 9

static const char *const site_keys[] = {"timezone",         "business_hours",
                                        "trusted_networks", "sets",
                                        "customer_data",    NULL};
static const char *const bh_keys[] = {"days", "start", "end", NULL};
static const char *const cd_keys[] = {"http", "sql", "principal_customer",
                                      NULL};
static const char *const http_keys[] = {"path", "data", NULL};
static const char *const sql_keys[] = {"table", "column", "data", NULL};

static const char *const day_names[7] = {"sun", "mon", "tue", "wed",
                                         "thu", "fri", "sat"};

/* Error at setting s; also for strings read from memory (no file). */
static int serr(struct bw_error *err, const config_setting_t *s,
                const char *fmt, ...) BW_PRINTF(3, 4);

static int serr(struct bw_error *err, const config_setting_t *s,
                const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bw_error_set(err, bw_cfg_file(s), bw_cfg_line(s), "%s", msg);
}

const struct site_set *site_find_set(const struct site *s, const char *name)
{
	if (strcmp(name, "trusted") == 0)
		return s->loaded ? &s->trusted : NULL;
	for (size_t i = 0; i < s->n_sets; i++)
		if (strcmp(s->sets[i].name, name) == 0)
			return &s->sets[i];
	return NULL;
}

static void set_free(struct site_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->items[i]);
	free(set->items);
	free(set->name);
	memset(set, 0, sizeof(*set));
}

void site_free(struct site *s)
{
	bw_tz_destroy(&s->tz);
	set_free(&s->trusted);
	for (size_t i = 0; i < s->n_sets; i++)
		set_free(&s->sets[i]);
	free(s->sets);
	for (size_t i = 0; i < s->n_http; i++)
		regex_free(&s->http[i].re);
	free(s->http);
	pfdb_free(&s->http_db);
	for (size_t i = 0; i < s->n_sql; i++) {
		free(s->sql[i].table);
		free(s->sql[i].column);
	}
	free(s->sql);
	regex_free(&s->pc_re);
	for (size_t i = 0; i < s->n_dk; i++)
		free(s->dk_names[i]);
	memset(s, 0, sizeof(*s));
}

/* A set's members from a string or list of strings; networks when every
 * member is an address or network. */
static int load_set(struct site_set *set, const char *name,
                    const config_setting_t *grp, const char *key,
                    struct bw_error *err)
{
	const config_setting_t *list, *e;
	struct bw_cidr_set *cidr = bw_cidr_new();
	struct bw_error ignore;
	size_t n;
	int ret = -1;

	if (bw_cfg_strings(grp, key, false, &list, err) != 0)
		goto out;
	set->name = xstrdup(name);
	set->networks = true;
	if (list == NULL) {
		ret = 0;
		goto out;
	}
	n = config_setting_type(list) == CONFIG_TYPE_STRING
	        ? 1
	        : (size_t)config_setting_length(list);
	set->items = xcalloc(n ? n : 1, sizeof(*set->items));
	for (size_t i = 0; i < n; i++) {
		const char *v;

		e = config_setting_type(list) == CONFIG_TYPE_STRING
		        ? list
		        : config_setting_get_elem(list, (unsigned)i);
		v = config_setting_get_string(e);
		if (v[0] == '\0' || strlen(v) > RULES_MAX_TEXT) {
			serr(err, e, "set \"%s\": empty or overlong member",
			     name);
			goto out;
		}
		set->items[set->n++] = xstrdup(v);
		if (set->networks && bw_cidr_add(cidr, v, &ignore) != 0)
			set->networks = false;
	}
	ret = 0;
out:
	bw_cidr_destroy(&cidr);
	return ret;
}

static bool valid_set_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_SET_NAME)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

static int load_sets(struct site *s, const config_setting_t *site,
                     struct bw_error *err)
{
	const config_setting_t *sets = config_setting_get_member(site, "sets");
	const config_setting_t *m;
	const char *name;
	int n;

	if (sets == NULL)
		return 0;
	if (!config_setting_is_group(sets))
		return serr(err, sets, "\"sets\" must be a group of lists");
	n = config_setting_length(sets);
	s->sets = xcalloc((size_t)n + 1, sizeof(*s->sets));
	for (int i = 0; i < n; i++) {
		m = config_setting_get_elem(sets, (unsigned)i);
		name = config_setting_name(m);
		if (name == NULL || !valid_set_name(name))
			return serr(err, m, "bad set name");
		if (strcmp(name, "trusted") == 0)
			return serr(err, m,
			            "set name \"trusted\" is reserved "
			            "(use trusted_networks)");
		if (load_set(&s->sets[s->n_sets], name, sets, name, err) != 0)
			return -1;
		s->n_sets++;
	}
	return 0;
}

static int parse_hhmm(const char *t, int *out)
{
	int h, m;

	if (strlen(t) != 5 || t[2] != ':' || t[0] < '0' || t[0] > '2' ||
	    t[1] < '0' || t[1] > '9' || t[3] < '0' || t[3] > '5' ||
	    t[4] < '0' || t[4] > '9')
		return -1;
	h = (t[0] - '0') * 10 + (t[1] - '0');
	m = (t[3] - '0') * 10 + (t[4] - '0');
	if (h > 24 || (h == 24 && m != 0))
		return -1;
	*out = h * 60 + m;
	return 0;
}

static int load_business_hours(struct site *s, const config_setting_t *site,
                               struct bw_error *err)
{
	const config_setting_t *bh =
	    config_setting_get_member(site, "business_hours");
	const config_setting_t *days, *e;
	const char *start, *end;
	int n, d;

	if (bh == NULL)
		return 0;
	if (!config_setting_is_group(bh))
		return serr(err, bh,
		            "\"business_hours\" must be a group "
		            "{ days; start; end; }");
	if (bw_cfg_check_keys(bh, bh_keys, err) != 0 ||
	    bw_cfg_strings(bh, "days", true, &days, err) != 0 ||
	    bw_cfg_string(bh, "start", true, &start, err) != 0 ||
	    bw_cfg_string(bh, "end", true, &end, err) != 0)
		return -1;
	n = config_setting_type(days) == CONFIG_TYPE_STRING
	        ? 1
	        : config_setting_length(days);
	for (int i = 0; i < n; i++) {
		const char *v;

		e = config_setting_type(days) == CONFIG_TYPE_STRING
		        ? days
		        : config_setting_get_elem(days, (unsigned)i);
		v = config_setting_get_string(e);
		for (d = 0; d < 7; d++)
			if (strcasecmp(v, day_names[d]) == 0)
				break;
		if (d == 7)
			return serr(err, e,
			            "unknown day \"%s\" (write mon, "
			            "tue, wed, thu, fri, sat, sun)",
			            v);
		s->bh_days |= (uint8_t)(1u << d);
	}
	if (parse_hhmm(start, &s->bh_start) != 0)
		return serr(err, config_setting_get_member(bh, "start"),
		            "bad time \"%s\" (write HH:MM)", start);
	if (parse_hhmm(end, &s->bh_end) != 0)
		return serr(err, config_setting_get_member(bh, "end"),
		            "bad time \"%s\" (write HH:MM)", end);
	if (s->bh_end <= s->bh_start)
		return serr(err, bh,
		            "business hours end (%s) must be after "
		            "start (%s)",
		            end, start);
	s->has_bh = true;
	return 0;
}

static int data_kind(struct site *s, const config_setting_t *at,
                     const char *name, struct bw_error *err)
{
	for (size_t i = 0; i < s->n_dk; i++)
		if (strcmp(s->dk_names[i], name) == 0)
			return (int)i;
	if (s->n_dk == RULES_MAX_DATA_KINDS)
		return serr(err, at, "more than %d data kinds",
		            RULES_MAX_DATA_KINDS);
	if (name[0] == '\0' || strlen(name) > 64)
		return serr(err, at, "bad data kind \"%s\"", name);
	s->dk_names[s->n_dk] = xstrdup(name);
	return (int)s->n_dk++;
}

/* The literal text an anchored pattern without alternatives must start
 * with ("^/api/v1/customers/(?<c>..." -> "/api/v1/customers/"): a memcmp
 * rejects most paths before PCRE2 runs. Empty when not sure. */
static void literal_prefix(const char *pat, struct site_http *h)
{
	size_t n = 0;

	h->plen = 0;
	if (pat[0] != '^' || strchr(pat, '|') != NULL)
		return;
	pat++;
	while (pat[n] != '\0' && strchr("\\^$.|?*+()[]{}", pat[n]) == NULL)
		n++;
	/* A quantifier applies to the last literal character. */
	if (n > 0 && pat[n] != '\0' && strchr("?*{", pat[n]) != NULL)
		n--;
	if (n > sizeof(h->prefix))
		n = sizeof(h->prefix);
	memcpy(h->prefix, pat, n);
	h->plen = (uint8_t)n;
}

static int load_http(struct site *s, const config_setting_t *list,
                     struct bw_error *err)
{
	const config_setting_t *e;
	const char *path, *data;
	char msg[512];
	int n = config_setting_length(list);

	if (!config_setting_is_list(list))
		return serr(err, list, "\"http\" must be a list of groups");
	s->http = xcalloc((size_t)n + 1, sizeof(*s->http));
	for (int i = 0; i < n; i++) {
		struct site_http *h = &s->http[s->n_http];

		e = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(e))
			return serr(err, e,
			            "\"http\" entries are groups "
			            "{ path; data; }");
		if (bw_cfg_check_keys(e, http_keys, err) != 0 ||
		    bw_cfg_string(e, "path", true, &path, err) != 0 ||
		    bw_cfg_string(e, "data", true, &data, err) != 0)
			return -1;
		h->re = regex_new(path, false, msg, sizeof(msg));
		if (h->re == NULL)
			return serr(err, config_setting_get_member(e, "path"),
			            "%s", msg);
		s->n_http++;
		literal_prefix(path, h);
		h->cust_grp = regex_group_by_name(h->re, "customer");
		h->dk = data_kind(s, e, data, err);
		if (h->dk < 0)
			return -1;
		pfdb_add(&s->http_db, h->re);
	}
	return 0;
}

static char *lower_dup(const char *v)
{
	char *c = xstrdup(v);

	for (char *p = c; *p; p++)
		*p = (char)strset_lower((unsigned char)*p);
	return c;
}

static int load_sql(struct site *s, const config_setting_t *list,
                    struct bw_error *err)
{
	const config_setting_t *e;
	const char *table, *column, *data;
	int n = config_setting_length(list);

	if (!config_setting_is_list(list))
		return serr(err, list, "\"sql\" must be a list of groups");
	if (n > SQLSCAN_MAX_TABLES)
		return serr(err, list, "more than %d customer tables",
		            SQLSCAN_MAX_TABLES);
	s->sql = xcalloc((size_t)n + 1, sizeof(*s->sql));
	for (int i = 0; i < n; i++) {
		struct site_sql *q = &s->sql[s->n_sql];

		e = config_setting_get_elem(list, (unsigned)i);
		if (!config_setting_is_group(e))
			return serr(err, e,
			            "\"sql\" entries are groups "
			            "{ table; column; data; }");
		if (bw_cfg_check_keys(e, sql_keys, err) != 0 ||
		    bw_cfg_string(e, "table", true, &table, err) != 0 ||
		    bw_cfg_string(e, "column", false, &column, err) != 0 ||
		    bw_cfg_string(e, "data", true, &data, err) != 0)
			return -1;
		if (table[0] == '\0' || (column != NULL && column[0] == '\0'))
			return serr(err, e, "empty table or column name");
		q->table = lower_dup(table);
		q->column = column ? lower_dup(column) : NULL;
		s->n_sql++;
		q->dk = data_kind(s, e, data, err);
		if (q->dk < 0)
			return -1;
	}
	return 0;
}

static int load_customer_data(struct rules *r, struct site *s,
                              const config_setting_t *site,
                              struct bw_error *err)
{
	const config_setting_t *cd =
	    config_setting_get_member(site, "customer_data");
	const config_setting_t *m;
	const char *pc;
	char msg[512];

	if (cd == NULL)
		return 0;
	if (!config_setting_is_group(cd))
		return serr(err, cd, "\"customer_data\" must be a group");
	if (bw_cfg_check_keys(cd, cd_keys, err) != 0)
		return -1;
	m = config_setting_get_member(cd, "http");
	if (m != NULL && load_http(s, m, err) != 0)
		return -1;
	m = config_setting_get_member(cd, "sql");
	if (m != NULL && load_sql(s, m, err) != 0)
		return -1;
	if (bw_cfg_string(cd, "principal_customer", false, &pc, err) != 0)
		return -1;
	if (pc != NULL) {
		m = config_setting_get_member(cd, "principal_customer");
		s->pc_re = regex_new(pc, false, msg, sizeof(msg));
		if (s->pc_re == NULL)
			return serr(err, m, "%s", msg);
		s->pc_grp = regex_group_by_name(s->pc_re, "customer");
		if (s->pc_grp == 0)
			return serr(err, m,
			            "principal_customer needs a "
			            "named capture (?<customer>...)");
	}
	return pfdb_compile(&s->http_db, r, err);
}

int rules_load_site(struct rules *r, const config_setting_t *site,
                    struct bw_error *err)
{
	struct site *s = &r->site;
	const char *tzname = NULL;
	struct bw_cidr_set *cidr = NULL;

	if (s->loaded || r->compiled)
		return bw_error_set(err, bw_cfg_file(site), bw_cfg_line(site),
		                    "site facts are loaded once, before "
		                    "compiling");
	if (site == NULL || !config_setting_is_group(site))
		return serr(err, site, "\"site\" must be a group");
	if (bw_cfg_check_keys(site, site_keys, err) != 0 ||
	    bw_cfg_string(site, "timezone", false, &tzname, err) != 0)
		goto fail;
	if (tzname != NULL) {
		struct bw_error e2;

		s->tz = bw_tz_load(tzname, &e2);
		if (s->tz == NULL) {
			serr(err, config_setting_get_member(site, "timezone"),
			     "timezone \"%s\": %s", tzname, e2.msg);
			goto fail;
		}
	}
	if (load_business_hours(s, site, err) != 0)
		goto fail;
	if (load_set(&s->trusted, "trusted", site, "trusted_networks", err) !=
	    0)
		goto fail;
	if (!s->trusted.networks) {
		/* Say which member is wrong. */
		struct bw_error e2;

		cidr = bw_cidr_new();
		for (size_t i = 0; i < s->trusted.n; i++)
			if (bw_cidr_add(cidr, s->trusted.items[i], &e2) != 0) {
				serr(err,
				     config_setting_get_member(
				         site, "trusted_networks"),
				     "trusted_networks: \"%s\": %s",
				     s->trusted.items[i], e2.msg);
				goto fail;
			}
	}
	if (load_sets(s, site, err) != 0 ||
	    load_customer_data(r, s, site, err) != 0)
		goto fail;
	bw_cidr_destroy(&cidr);
	s->loaded = true;
	return 0;
fail:
	bw_cidr_destroy(&cidr);
	site_free(s);
	r->failed = true; /* like a refused rule file */
	return -1;
}

bool site_business_hours(struct rules *r)
{
	struct ectx *x = &r->x;
	const struct site *s = &r->site;
	int wday = 0, minute = 0;

	if (!x->bh_done) {
		x->bh_done = true;
		bw_tz_local(s->tz, x->ev->ts_us, &wday, &minute);
		x->bh = s->has_bh && wday >= 0 && wday < 7 &&
		        (s->bh_days & (1u << wday)) && minute >= s->bh_start &&
		        minute < s->bh_end;
	}
	return x->bh;
}

static void http_enrich(struct rules *r, struct bw_str path)
{
	struct site *s = &r->site;
	struct ectx *x = &r->x;
	bool use_hs = r->prefilter_on && s->http_db.db != NULL &&
	              s->n_http >= SITE_HS_MIN;

	if (use_hs)
		pfdb_scan(&s->http_db, r->scratch, path.p, path.len, x->gen);
	for (size_t i = 0; i < s->n_http; i++) {
		struct site_http *h = &s->http[i];
		struct bw_str c;

		if (path.len < h->plen ||
		    memcmp(path.p, h->prefix, h->plen) != 0)
			continue;
		if (use_hs && h->re->hs != HSM_NONE && !s->http_db.failed &&
		    h->re->hit_gen != x->gen)
			continue;
		if (!(use_hs && h->re->hs == HSM_EXACT && h->cust_grp == 0 &&
		      !s->http_db.failed) &&
		    regex_run(r, h->re, path.p, path.len) != 1)
			continue;
		x->dkinds |= 1u << h->dk;
		if (h->cust_grp != 0 &&
		    regex_group(h->re, path.p, (uint32_t)h->cust_grp, &c) &&
		    c.len > 0 && c.len <= RULES_MAX_VALUE) {
			x->cust[0] = c;
			x->n_cust = 1;
		} else {
			x->unknown = true;
		}
		return; /* the first declared pattern that matches wins */
	}
}

static int cmp_str(const void *a, const void *b)
{
	const struct bw_str *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Drop repeated ids: small lists keep their order, long ones are sorted. */
static size_t dedup(struct bw_str *v, size_t n)
{
	size_t w = 0;

	if (n <= SMALL_DEDUP) {
		for (size_t i = 0; i < n; i++) {
			size_t j;

			for (j = 0; j < w; j++)
				if (cmp_str(&v[i], &v[j]) == 0)
					break;
			if (j == w)
				v[w++] = v[i];
		}
		return w;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (w == 0 || cmp_str(&v[i], &v[w - 1]) != 0)
			v[w++] = v[i];
	return w;
}

/* Tables named in a `resource` list ("contacts,messages") when the
 * statement text is not known: touched, ids unknown. */
static void sql_resource(struct rules *r, struct bw_str res)
{
	struct site *s = &r->site;
	size_t i = 0, j, k;

	while (i < res.len) {
		while (i < res.len && (res.p[i] == ',' || res.p[i] == ' '))
			i++;
		j = i;
		while (j < res.len && res.p[j] != ',' && res.p[j] != ' ')
			j++;
		for (k = j; k > i && res.p[k - 1] != '.'; k--)
			;
		for (size_t t = 0; t < s->n_sql; t++)
			if (strlen(s->sql[t].table) == j - k &&
			    strncasecmp(s->sql[t].table, res.p + k, j - k) ==
			        0) {
				r->x.dkinds |= 1u << s->sql[t].dk;
				r->x.unknown = true;
			}
		i = j;
	}
}

static void sql_enrich(struct rules *r)
{
	struct site *s = &r->site;
	struct ectx *x = &r->x;
	struct sqlscan_table tabs[SQLSCAN_MAX_TABLES];
	struct sqlscan_out out;
	struct bw_str text = x->ev->text;

	if (text.len == 0) {
		sql_resource(r, x->ev->resource);
		return;
	}
	if (x->arena_cap < text.len) {
		free(x->arena);
		x->arena_cap = text.len;
		x->arena = xmalloc(x->arena_cap);
	}
	for (size_t i = 0; i < s->n_sql; i++) {
		tabs[i].name = s->sql[i].table;
		tabs[i].column = s->sql[i].column;
	}
	memset(&out, 0, sizeof(out));
	out.vals = x->cust;
	out.max_vals = RULES_MAX_EV_CUSTOMERS;
	out.arena = x->arena;
	out.arena_cap = x->arena_cap;
	sqlscan(text.p, text.len, tabs, s->n_sql, RULES_MAX_VALUE, &out);
	for (size_t i = 0; i < s->n_sql; i++)
		if (out.found & ((uint64_t)1 << i))
			x->dkinds |= 1u << s->sql[i].dk;
	x->unknown = out.unknown;
	x->n_cust = dedup(x->cust, out.n_vals);
}

void site_enrich(struct rules *r)
{
	struct site *s = &r->site;
	struct ectx *x = &r->x;
	const struct bw_event *ev = x->ev;

	if (x->derived_done)
		return;
	x->derived_done = true;
	x->n_cust = 0;
	x->dkinds = 0;
	x->unknown = false;
	if (ev->kind == BW_KIND_HTTP && s->n_http > 0 && ev->resource.len > 0)
		http_enrich(r, ev->resource);
	else if (ev->kind == BW_KIND_SQL && s->n_sql > 0)
		sql_enrich(r);
}

void site_principal_customer(struct rules *r)
{
	struct site *s = &r->site;
	struct ectx *x = &r->x;
	struct bw_str p = x->ev->principal;
	struct bw_str c;

	if (x->pc_done)
		return;
	x->pc_done = true;
	x->pc = BW_STR_NULL;
	if (s->pc_re == NULL || p.len == 0)
		return;
	if (regex_run(r, s->pc_re, p.p, p.len) == 1 &&
	    regex_group(s->pc_re, p.p, (uint32_t)s->pc_grp, &c) && c.len > 0 &&
	    c.len <= RULES_MAX_VALUE)
		x->pc = c;
}
