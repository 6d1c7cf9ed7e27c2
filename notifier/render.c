/*
 * render.c - the notifier's messages from template files (see render.h).
 *
 * Each message is built in three steps: a JSON context of the facts it may
 * tell (the organisation, the incident, the customer or the team's
 * business), the template files rendered over it (template.h), and the
 * whole MIME message (mime.h).
 */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/buf.h"
#include "../common/bwtime.h"
#include "../common/file.h"
#include "../common/utf8.h"
#include "../common/xmalloc.h"
#include "jb.h"
#include "mime.h"
#include "template.h"

#define MAX_RENDERED (4u << 20) /* one part of a message */
#define MAX_LOCALE   36

/* A file looked for and what was found (text NULL: not there). */
struct file {
	char *path;
	char *text;
	json_t *conf; /* a .conf file as JSON, read once */
	struct file *next;
};

struct render {
	char *site_dir, *shipped_dir;
	char *org_name, *org_contact, *org_dpo, *org_website;
	char *from_name, *from, *reply_to, *cli;
	struct file *files;
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/*
 * Files.
 */

static void files_free(struct file *f)
{
	while (f != NULL) {
		struct file *next = f->next;

		free(f->path);
		free(f->text);
		json_decref(f->conf);
		free(f);
		f = next;
	}
}

/* The file at path, read once (NULL text when it is not there). Returns
 * -1 with err when it exists but cannot be read. */
static int load(struct render *r, const char *path, struct file **out,
                struct bw_error *err)
{
	struct file *f;
	size_t len;

	for (f = r->files; f != NULL; f = f->next) {
		if (strcmp(f->path, path) == 0) {
			*out = f;
			return 0;
		}
	}
	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
	if (bw_file_read(path, RENDER_MAX_FILE, &f->text, &len, err) < 0) {
		if (errno != ENOENT) {
			free(f->path);
			free(f);
			return -1;
		}
		f->text = NULL;
	} else if (memchr(f->text, '\0', len) != NULL) {
		bw_error_set(err, path, 0, "a NUL byte in a template");
		free(f->text);
		free(f->path);
		free(f);
		return -1;
	}
	f->next = r->files;
	r->files = f;
	*out = f;
	return 0;
}

/* The locales to try for loc, most specific first: "de-AT", "de", "en". */
static size_t locales(const char *loc, char out[3][MAX_LOCALE])
{
	size_t n = 0;

	if (loc != NULL && loc[0] != '\0' && strlen(loc) < MAX_LOCALE &&
	    strspn(loc, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                "0123456789-_") == strlen(loc)) {
		size_t lang = strcspn(loc, "-_");

		snprintf(out[n++], MAX_LOCALE, "%s", loc);
		if (lang < strlen(loc) && lang > 0)
			snprintf(out[n++], MAX_LOCALE, "%.*s", (int)lang, loc);
	}
	if (n == 0 || strcmp(out[n - 1], "en") != 0)
		snprintf(out[n++], MAX_LOCALE, "en");
	return n;
}

/* Find name (a relative path) for locale: site then shipped, per locale.
 * 1 with *out (and, when at is not NULL, the locale it was found for in
 * at[MAX_LOCALE]), 0 when nowhere, -1 with err. */
static int find(struct render *r, const char *locale, const char *name,
                struct file **out, char *at, struct bw_error *err)
{
	char locs[3][MAX_LOCALE];
	const char *dirs[2] = {r->site_dir, r->shipped_dir};
	size_t n = locales(locale, locs);

	for (size_t i = 0; i < n; i++) {
		for (size_t d = 0; d < 2; d++) {
			char *path;
			int rc;

			if (dirs[d] == NULL)
				continue;
			path = xasprintf("%s/%s/%s", dirs[d], locs[i], name);
			rc = load(r, path, out, err);
			free(path);
			if (rc < 0)
				return -1;
			if ((*out)->text != NULL) {
				if (at != NULL)
					memcpy(at, locs[i], MAX_LOCALE);
				return 1;
			}
		}
	}
	return 0;
}

static int need(struct render *r, const char *locale, const char *name,
                struct file **out, struct bw_error *err)
{
	int rc = find(r, locale, name, out, NULL, err);

	if (rc == 0)
		return bw_error_set(err, NULL, 0,
				    "template %s not found (for locale %s, "
				    "nor en) in %s%s%s",
				    name, locale != NULL ? locale : "en",
				    r->site_dir != NULL ? r->site_dir : "",
				    r->site_dir != NULL ? " nor " : "",
				    r->shipped_dir);
	return rc < 0 ? -1 : 0;
}

/* A libconfig setting as JSON: strings, numbers, lists/arrays of them,
 * groups. */
static json_t *setting_json(const config_setting_t *s)
{
	json_t *j;
	int n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return json_string(config_setting_get_string(s));
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return json_integer(config_setting_get_int64(s));
	case CONFIG_TYPE_BOOL:
		return json_boolean(config_setting_get_bool(s));
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		j = json_array();
		n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			json_t *v = setting_json(config_setting_get_elem(s, i));

			if (v != NULL)
				json_array_append_new(j, v);
		}
		return j;
	case CONFIG_TYPE_GROUP:
		j = json_object();
		n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			config_setting_t *m = config_setting_get_elem(s, i);
			json_t *v = setting_json(m);

			if (v != NULL)
				json_object_set_new(j, config_setting_name(m),
				                    v);
		}
		return j;
	default:
		return NULL;
	}
}

/* A .conf file (libconfig) as a JSON object, parsed once. */
static json_t *conf_of(struct file *f, struct bw_error *err)
{
	config_t cfg;

	if (f->conf != NULL)
		return f->conf;
	config_init(&cfg);
	if (config_read_string(&cfg, f->text) != CONFIG_TRUE) {
		bw_error_set(err, f->path, config_error_line(&cfg), "%s",
		             config_error_text(&cfg));
		config_destroy(&cfg);
		return NULL;
	}
	f->conf = setting_json(config_root_setting(&cfg));
	config_destroy(&cfg);
	if (f->conf == NULL)
		f->conf = json_object();
	return f->conf;
}

/* The category's phrases: categories/<category>.conf, else default.conf.
 * A category with characters outside [a-z0-9-_] uses the default. */
static json_t *category(struct render *r, const char *locale, const char *cat,
                        struct bw_error *err)
{
	struct file *f = NULL;
	char name[128];
	int rc = 0;

	if (cat != NULL && strlen(cat) < 64 &&
	    strspn(cat, "abcdefghijklmnopqrstuvwxyz0123456789-_") ==
	        strlen(cat)) {
		snprintf(name, sizeof(name), "categories/%s.conf", cat);
		rc = find(r, locale, name, &f, NULL, err);
		if (rc < 0)
			return NULL;
	}
	if (rc == 0 && need(r, locale, "categories/default.conf", &f, err) < 0)
		return NULL;
	return conf_of(f, err);
}

static json_t *phrases(struct render *r, const char *locale,
                       struct bw_error *err)
{
	struct file *f;

	if (need(r, locale, "phrases.conf", &f, err) < 0)
		return NULL;
	return conf_of(f, err);
}

/*
 * Text.
 */

/* Text from an agent or the directory, safe in a message body: bytes that
 * are not UTF-8 and control characters other than newline and tab as
 * \xNN; with oneline, newlines and tabs as spaces too. */
static json_t *jsafe(const char *s, bool oneline)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t len = strlen((const char *)p), n;
	struct bw_buf b;
	json_t *j;

	if (s == NULL)
		return json_null();
	bw_buf_init(&b, (size_t)-1 / 8);
	for (size_t i = 0; i < len; i += n) {
		unsigned char c = p[i];
		int rc;

		n = bw_utf8_len(p + i, len - i);
		if (n == 1 && (c == '\n' || c == '\t' || c == '\r') &&
		    oneline) {
			rc = bw_buf_addc(&b, ' ');
		} else if (n == 0 ||
		           (n == 1 && ((c < 0x20 && c != '\n' && c != '\t') ||
		                       c == 0x7f))) {
			char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};

			rc = bw_buf_add(&b, esc, sizeof(esc));
			n = 1;
		} else {
			rc = bw_buf_add(&b, p + i, n);
		}
		if (rc < 0)
			abort();
	}
	j = json_stringn(b.data != NULL ? b.data : "", b.len);
	bw_buf_free(&b);
	return jb_new(j);
}

static json_t *jtime(int64_t us)
{
	char buf[40];

	if (us == 0)
		return json_null();
	return json_string(bw_time_format(us, buf, sizeof(buf)));
}

static const char *const month_names[] = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December",
};

static void civil(int64_t us, int64_t *y, int *m, int *d, int *hh, int *mm)
{
	int64_t s = bw_floor_div(us, 1000000);
	int64_t days = bw_floor_div(s, 86400), sod = s - days * 86400;

	bw_civil_from_days(days, y, m, d);
	*hh = (int)(sod / 3600);
	*mm = (int)(sod % 3600 / 60);
}

/* "23 November 2026" */
static char *day_text(int64_t us)
{
	int64_t y;
	int m, d, hh, mm;

	civil(us, &y, &m, &d, &hh, &mm);
	return xasprintf("%d %s %" PRId64, d, month_names[m - 1], y);
}

/* "23 November 2026 at 08:15 UTC" */
static char *time_text(int64_t us)
{
	int64_t y;
	int m, d, hh, mm;

	civil(us, &y, &m, &d, &hh, &mm);
	return xasprintf("%d %s %" PRId64 " at %02d:%02d UTC", d,
	                 month_names[m - 1], y, hh, mm);
}

/* "on 23 November 2026" or "between 22 November 2026 and 23 November
 * 2026". */
static json_t *period(int64_t from, int64_t to)
{
	char *a = day_text(from), *b = day_text(to > from ? to : from);
	json_t *j = strcmp(a, b) == 0 ? json_sprintf("on %s", a)
	                              : json_sprintf("between %s and %s", a, b);

	free(a);
	free(b);
	return j;
}

static json_t *jtake(char *s)
{
	json_t *j = json_string(s);

	free(s);
	return j;
}

/* "in 2 d 3 h" or "passed 1 h 10 min ago". */
static json_t *left(int64_t deadline, int64_t now)
{
	int64_t d = deadline - now;
	int64_t min = (d < 0 ? -d : d) / (60 * INT64_C(1000000));
	char span[48];

	if (min >= 24 * 60)
		snprintf(span, sizeof(span), "%" PRId64 " d %" PRId64 " h",
		         min / (24 * 60), min / 60 % 24);
	else if (min >= 60)
		snprintf(span, sizeof(span), "%" PRId64 " h %" PRId64 " min",
		         min / 60, min % 60);
	else
		snprintf(span, sizeof(span), "%" PRId64 " min", min);
	return d >= 0 ? json_sprintf("in %s", span)
	              : json_sprintf("PASSED %s ago", span);
}

/*
 * Contexts.
 */

static json_t *org_json(const struct render *r)
{
	json_t *o = jb_new(json_object());

	jb_set(o, "name", json_string(r->org_name));
	jb_set(o, "contact", json_string(r->org_contact));
	jb_set(o, "dpo",
	       r->org_dpo != NULL ? json_string(r->org_dpo) : json_null());
	jb_set(o, "website",
	       r->org_website != NULL ? json_string(r->org_website)
	                              : json_null());
	return o;
}

/* The first successful time of a containment step, or 0. */
static int64_t contained_at(const struct store_record *rec)
{
	return rec->inc.contained_us;
}

/* When a step happened: its end, else its start, else when it was
 * recorded. */
static int64_t step_time(const struct store_step *p)
{
	return p->finished_us != 0  ? p->finished_us
	       : p->started_us != 0 ? p->started_us
	                            : p->recorded_us;
}

/* Plain words for each containment step that succeeded (once per action):
 * "We blocked ... (23 November 2026 at 08:15 UTC)." With since_us, only
 * the actions that first succeeded after it. */
static json_t *measures(const struct store_record *rec, const json_t *ph,
                        int64_t since_us)
{
	const json_t *acts = json_object_get(ph, "actions");
	json_t *a = jb_new(json_array());

	for (size_t i = 0; i < rec->n_steps; i++) {
		const struct store_step *p = &rec->steps[i];
		const char *key = p->manual ? "manual" : p->action;
		const char *words =
		    json_string_value(json_object_get(acts, key));
		char *when, *text, *plain = NULL;
		bool seen = false;

		if (p->status == NULL || strcmp(p->status, "ok") != 0)
			continue;
		for (size_t k = 0; k < i; k++)
			if (rec->steps[k].status != NULL &&
			    strcmp(rec->steps[k].status, "ok") == 0 &&
			    strcmp(rec->steps[k].manual ? "manual"
			                                : rec->steps[k].action,
			           key) == 0)
				seen = true;
		if (seen || step_time(p) <= since_us)
			continue;
		if (words == NULL) {
			/* an action id from the site's config, shown as is */
			json_t *safe = jsafe(key, true);

			plain = xasprintf("we took a containment step (%s)",
			                  json_string_value(safe));
			json_decref(safe);
			words = plain;
		}
		when = time_text(step_time(p));
		text = xasprintf("%c%s (%s).",
		                 words[0] >= 'a' && words[0] <= 'z'
		                     ? words[0] - 'a' + 'A'
		                     : words[0],
		                 words + 1, when);
		jb_push(a, jtake(text));
		free(when);
		free(plain);
	}
	return a;
}

/* The kinds of data, in plain words; with since_us, only those first
 * named by a revision that arrived after it. */
static json_t *data_kinds(const struct store_record *rec, const json_t *ph,
                          int64_t since_us)
{
	const json_t *desc = json_object_get(ph, "data_kinds");
	json_t *a = jb_new(json_array());

	for (size_t i = 0; i < rec->n_data_kinds; i++) {
		const char *k = rec->data_kinds[i].kind;
		const json_t *d = json_object_get(desc, k);
		json_t *o;

		if (since_us != 0 &&
		    store_record_received(
		        rec, rec->data_kinds[i].first_revision) <= since_us)
			continue;
		o = jb_new(json_object());

		jb_set(o, "kind", jsafe(k, true));
		jb_set(o, "description",
		       d != NULL && json_is_string(d) ? json_copy((json_t *)d)
		                                      : jsafe(k, true));
		jb_push(a, o);
	}
	return a;
}

static json_t *steps_json(const struct store_record *rec)
{
	json_t *a = jb_new(json_array());

	for (size_t i = 0; i < rec->n_steps; i++) {
		const struct store_step *p = &rec->steps[i];
		json_t *o = jb_new(json_object());

		jb_set(o, "started",
		       p->started_us != 0 ? jtime(p->started_us)
		                          : json_string("-"));
		jb_set(o, "by",
		       p->manual ? jsafe(p->operator_name, true)
		                 : json_string("agent"));
		jb_set(o, "action", jsafe(p->action, true));
		jb_set(o, "status", jsafe(p->status, true));
		jb_set(o, "detail",
		       p->detail != NULL && p->detail[0] != '\0'
		           ? jsafe(p->detail, true)
		           : json_null());
		jb_push(a, o);
	}
	return a;
}

/* The incident as the team may see it (everything) or as one customer may
 * (for_team false: no other customers, no evidence, no actor). */
static json_t *incident_json(const struct store_record *rec, const json_t *ph,
                             bool for_team, int64_t now_us)
{
	const struct store_incident *inc = &rec->inc;
	json_t *o = jb_new(json_object());
	json_t *ms = measures(rec, ph, 0);

	jb_set(o, "id", jsafe(inc->id, true));
	jb_set(o, "period", period(inc->first_seen_us, inc->last_seen_us));
	jb_set(o, "detected_date", jtake(day_text(inc->detected_us)));
	jb_set(o, "data_kinds", data_kinds(rec, ph, 0));
	jb_set(o, "contained", json_boolean(contained_at(rec) != 0));
	jb_set(o, "contained_date",
	       contained_at(rec) != 0 ? jtake(time_text(contained_at(rec)))
	                              : json_null());
	jb_set(o, "measures_any", json_boolean(json_array_size(ms) > 0));
	jb_set(o, "measures", ms);
	jb_set(o, "credentials", json_boolean(inc->credentials));
	jb_set(o, "closed", json_boolean(inc->state == STORE_CLOSED));
	if (!for_team)
		return o;

	jb_set(o, "title", jsafe(inc->title, true));
	jb_set(o, "summary", jsafe(inc->summary, false));
	jb_set(o, "severity",
	       json_string(bw_severity_name(inc->severity)
	                       ? bw_severity_name(inc->severity)
	                       : "unknown"));
	jb_set(o, "rule", jsafe(inc->rule, true));
	jb_set(o, "category", jsafe(inc->category, true));
	jb_set(o, "host", jsafe(inc->host, true));
	{
		json_t *a = jb_new(json_array());

		for (size_t i = 0; i < inc->n_actor; i++) {
			json_t *x = jb_new(json_object());
			size_t kl = strlen(inc->actor[i].key);
			char pad[16];

			snprintf(pad, sizeof(pad), "%*s",
			         kl < 7 ? (int)(7 - kl) : 0, "");
			jb_set(x, "key", jsafe(inc->actor[i].key, true));
			jb_set(x, "pad", json_string(pad));
			jb_set(x, "value", jsafe(inc->actor[i].value, true));
			jb_push(a, x);
		}
		jb_set(o, "actor", a);
	}
	jb_set(o, "first_seen", jtime(inc->first_seen_us));
	jb_set(o, "last_seen", jtime(inc->last_seen_us));
	jb_set(o, "event_count", json_integer((json_int_t)inc->event_count));
	jb_set(o, "revision", json_integer(inc->revision));
	jb_set(o, "aware", jtime(inc->aware_us));
	jb_set(o, "deadline", jtime(inc->deadline_us));
	jb_set(o, "deadline_left", left(inc->deadline_us, now_us));
	jb_set(o, "customers_count",
	       json_integer((json_int_t)rec->inc.n_customers));
	jb_set(o, "affected_unknown", json_boolean(inc->affected_unknown));
	{
		json_t *a = jb_new(json_array());
		size_t n = rec->n_customers < RENDER_FIRST_CUSTOMERS
		               ? rec->n_customers
		               : RENDER_FIRST_CUSTOMERS;

		for (size_t i = 0; i < n; i++)
			jb_push(a, jsafe(rec->customers[i].id, true));
		jb_set(o, "customers_first", a);
		jb_set(o, "customers_more",
		       rec->inc.n_customers > n
		           ? json_integer((json_int_t)(rec->inc.n_customers - n))
		           : json_null());
	}
	{
		json_t *a = jb_new(json_array());
		size_t n = rec->n_evidence < RENDER_FIRST_EVIDENCE
		               ? rec->n_evidence
		               : RENDER_FIRST_EVIDENCE;

		for (size_t i = 0; i < n; i++) {
			const struct store_evidence *e = &rec->evidence[i];
			json_t *x = jb_new(json_object());

			jb_set(x, "ts", jtime(e->ts_us));
			jb_set(x, "source", jsafe(e->source, true));
			jb_set(x, "ref", jsafe(e->ref, true));
			jb_set(x, "excerpt", jsafe(e->excerpt, true));
			jb_push(a, x);
		}
		jb_set(o, "evidence", a);
		jb_set(o, "evidence_more",
		       rec->n_evidence > n || inc->evidence_omitted > 0
		           ? json_integer((json_int_t)(rec->n_evidence - n +
		                                       inc->evidence_omitted))
		           : json_null());
	}
	jb_set(o, "steps", steps_json(rec));
	return o;
}

static json_t *cli_json(const struct render *r, const char *id)
{
	json_t *o = jb_new(json_object());

	jb_set(o, "show", json_sprintf("%s show %s", r->cli, id));
	jb_set(o, "contain",
	       json_sprintf("%s contain %s --note 'what you did'", r->cli, id));
	jb_set(o, "approve", json_sprintf("%s approve %s", r->cli, id));
	jb_set(o, "notify",
	       json_sprintf("%s notify %s --reason 'why they must be told'",
	                    r->cli, id));
	jb_set(o, "update",
	       json_sprintf("%s notify %s --update --reason 'what changed'",
	                    r->cli, id));
	jb_set(o, "notify_status",
	       json_sprintf("%s notify-status %s", r->cli, id));
	jb_set(o, "report", json_sprintf("%s report %s", r->cli, id));
	jb_set(o, "close",
	       json_sprintf("%s close %s --resolution 'why'", r->cli, id));
	jb_set(o, "note",
	       json_sprintf("%s note %s 'what was done'", r->cli, id));
	return o;
}

/*
 * Rendering.
 */

struct partial_ctx {
	struct render *r;
	const char *locale;
};

static int partial(const char *name, char **text, char **where, void *arg,
                   struct bw_error *err)
{
	struct partial_ctx *pc = arg;
	struct file *f;

	if (name[0] == '.' || strstr(name, "..") != NULL)
		return bw_error_set(err, NULL, 0, "{{> %s}}: not a file name",
		                    name);
	if (need(pc->r, pc->locale, name, &f, err) < 0)
		return -1;
	*text = xstrdup(f->text);
	*where = xstrdup(f->path);
	return 0;
}

/* Render template file name over ctx into a new string. */
static char *fill(struct render *r, const char *locale, const char *name,
                  const json_t *ctx, bool html, struct bw_error *err)
{
	struct partial_ctx pc = {r, locale};
	struct file *f;
	struct bw_buf b;

	if (need(r, locale, name, &f, err) < 0)
		return NULL;
	bw_buf_init(&b, MAX_RENDERED);
	if (template_render(f->text, f->path, ctx, html, partial, &pc, &b,
	                    err) < 0) {
		bw_buf_free(&b);
		return NULL;
	}
	return bw_buf_steal(&b);
}

/* Split "Subject: ...\n\n?body" into a one-line subject and the body (in
 * place). Returns -1 with err when the first line is not a Subject. */
static int split_subject(char *text, const char *name, char **subject,
                         const char **body, struct bw_error *err)
{
	char *nl;

	if (strncmp(text, "Subject:", 8) != 0)
		return bw_error_set(err, NULL, 0,
		                    "template %s: the first line must be "
		                    "\"Subject: ...\"",
		                    name);
	nl = strchr(text, '\n');
	if (nl == NULL)
		nl = text + strlen(text);
	*subject = xstrndup(text + 8, (size_t)(nl - text - 8));
	/* trim, and no tab or CR left in a header */
	for (char *p = *subject; *p != '\0'; p++)
		if (*p == '\t' || *p == '\r')
			*p = ' ';
	{
		char *s = *subject, *e = s + strlen(s);

		while (*s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		memmove(*subject, s, (size_t)(e - s));
		(*subject)[e - s] = '\0';
	}
	*body = *nl == '\n' ? nl + 1 : nl;
	if (**body == '\n')
		(*body)++;
	return 0;
}

/* Columns of UTF-8 text (one per code point: close enough). */
static size_t width(const char *s, size_t len)
{
	size_t w = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

/* Append the words of [p, end) wrapped at REFLOW columns, the first line
 * after first, the others after indent. */
#define REFLOW 72
static void wrap(struct bw_buf *b, const char *p, const char *end,
                 const char *first, const char *indent)
{
	size_t col = width(first, strlen(first));

	if (bw_buf_addstr(b, first) < 0)
		abort();
	for (bool start = true; p < end;) {
		const char *w = p;
		size_t ww;

		while (w < end && *w != ' ' && *w != '\n')
			w++;
		ww = width(p, (size_t)(w - p));
		if (ww > 0) {
			if (!start && col + 1 + ww > REFLOW) {
				if (bw_buf_addc(b, '\n') < 0 ||
				    bw_buf_addstr(b, indent) < 0)
					abort();
				col = width(indent, strlen(indent));
			} else if (!start) {
				if (bw_buf_addc(b, ' ') < 0)
					abort();
				col++;
			}
			if (bw_buf_add(b, p, (size_t)(w - p)) < 0)
				abort();
			col += ww;
			start = false;
		}
		p = w < end ? w + 1 : w;
	}
	if (bw_buf_addc(b, '\n') < 0)
		abort();
}

/* Reflow the text part of a customer notice: the lines of a paragraph are
 * joined and wrapped at 72 columns, each "- " item on its own with a
 * hanging indent; lines that start with a blank are kept as they are. So
 * a value of any length reads as well as the template around it. Caller
 * frees. */
static char *reflow(const char *text)
{
	struct bw_buf b;
	const char *p = text;

	bw_buf_init(&b, (size_t)-1 / 4);
	while (*p != '\0') {
		const char *eol = strchr(p, '\n'), *end;

		if (eol == NULL)
			eol = p + strlen(p);
		if (eol == p || *p == ' ' || *p == '\t') {
			/* a blank or preformatted line */
			if (bw_buf_add(&b, p, (size_t)(eol - p)) < 0 ||
			    bw_buf_addc(&b, '\n') < 0)
				abort();
			p = *eol != '\0' ? eol + 1 : eol;
			continue;
		}
		/* a paragraph or an item: up to a blank line, a preformatted
		 * line or the next item */
		end = eol;
		while (*end == '\n' && end[1] != '\0' && end[1] != '\n' &&
		       end[1] != ' ' && end[1] != '\t' &&
		       strncmp(end + 1, "- ", 2) != 0) {
			end = strchr(end + 1, '\n');
			if (end == NULL)
				end = p + strlen(p);
		}
		if (strncmp(p, "- ", 2) == 0)
			wrap(&b, p + 2, end, "- ", "  ");
		else
			wrap(&b, p, end, "", "");
		p = *end != '\0' ? end + 1 : end;
	}
	return bw_buf_steal(&b);
}

void render_msg_clear(struct render_msg *m)
{
	free(m->subject);
	free(m->message_id);
	free(m->message);
	memset(m, 0, sizeof(*m));
}

/* The whole message. severity (team messages) and in_reply_to (an
 * update: the notice it updates) may be NULL. */
static int build(struct render *r, const char *to_name, const char *to,
                 const char *subject, const char *text, const char *html,
                 const char *message_id, const char *incident_id,
                 const char *severity, const char *in_reply_to, int64_t now_us,
                 struct render_msg *out, struct bw_error *err)
{
	struct mime_header_kv extra[2] = {
	    {"X-Breachwatch-Incident", incident_id},
	};
	size_t n_extra = 1;
	struct mime_msg m = {
	    .from_name = r->from_name,
	    .from = r->from,
	    .to_name = to_name,
	    .to = to,
	    .reply_to = r->reply_to,
	    .subject = subject,
	    .message_id = message_id,
	    .in_reply_to = in_reply_to,
	    .date_us = now_us,
	    .text = text,
	    .html = html,
	    .extra = extra,
	};
	struct bw_buf b;

	if (severity != NULL)
		extra[n_extra++] =
		    (struct mime_header_kv){"X-Breachwatch-Severity", severity};
	m.n_extra = n_extra;

	bw_buf_init(&b, MIME_MAX_MESSAGE);
	if (mime_build(&m, &b, err) < 0) {
		bw_buf_free(&b);
		return -1;
	}
	out->len = b.len;
	out->message = bw_buf_steal(&b);
	out->subject = xstrdup(subject);
	out->message_id = xstrdup(message_id);
	return 0;
}

/* What changed since the notice an update updates was sent (the names
 * update.* of customer-update.txt). */
static json_t *update_json(const struct store_record *rec, const json_t *ph,
                           const struct render_update *upd, uint32_t version)
{
	const struct store_incident *inc = &rec->inc;
	int64_t since = upd->previous_us > 0 ? upd->previous_us : 1;
	json_t *o = jb_new(json_object());
	json_t *ms = measures(rec, ph, since);
	json_t *kinds = data_kinds(rec, ph, since);
	bool contained = inc->contained_us > since;
	bool closed = inc->state == STORE_CLOSED && inc->closed_us != 0;
	bool closed_new = closed && inc->closed_us > since;

	jb_set(o, "version", json_integer(version));
	jb_set(o, "previous_date",
	       upd->previous_us > 0 ? jtake(day_text(upd->previous_us))
	                            : json_string("an earlier date"));
	jb_set(o, "contained_date",
	       contained ? jtake(time_text(inc->contained_us)) : json_null());
	jb_set(o, "closed_date",
	       closed ? jtake(day_text(inc->closed_us)) : json_null());
	jb_set(o, "closed_new", json_boolean(closed_new));
	jb_set(o, "closed_before", json_boolean(closed && !closed_new));
	jb_set(o, "changes_any",
	       json_boolean(contained || closed_new ||
	                    json_array_size(ms) > 0 ||
	                    json_array_size(kinds) > 0));
	jb_set(o, "measures", ms);
	jb_set(o, "data_kinds", kinds);
	return o;
}

int render_customer(struct render *r, const struct store_record *rec,
                    const struct directory_entry *who, const char *to,
                    bool alternate, uint32_t version,
                    const struct render_update *upd, int64_t now_us,
                    struct render_msg *out, struct bw_error *err)
{
	const char *txt = upd != NULL ? "customer-update.txt" : "customer.txt";
	const char *htm =
	    upd != NULL ? "customer-update.html" : "customer.html";
	const char *loc = who->locale;
	json_t *ctx = NULL, *ph, *cat, *cust;
	char *text = NULL, *html = NULL, *subject = NULL, *mid = NULL;
	char *flowed = NULL;
	char lang[MAX_LOCALE];
	const char *body;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	ph = phrases(r, loc, err);
	cat = ph != NULL ? category(r, loc, rec->inc.category, err) : NULL;
	if (cat == NULL)
		return -1;
	/* the HTML part says which language it is in: the one of the
	 * template found, not the customer's when there is none for it */
	{
		struct file *f;
		int found = find(r, loc, htm, &f, lang, err);

		if (found <= 0) {
			if (found == 0)
				(void)need(r, loc, htm, &f, err);
			return -1;
		}
	}
	ctx = jb_new(json_object());
	jb_set(ctx, "org", org_json(r));
	cust = jb_new(json_object());
	jb_set(cust, "id", jsafe(who->id, true));
	jb_set(cust, "name",
	       who->name != NULL ? jsafe(who->name, true) : json_null());
	jb_set(cust, "to", json_string(to));
	jb_set(cust, "alternate", json_boolean(alternate));
	jb_set(cust, "lang", json_string(lang));
	jb_set(ctx, "customer", cust);
	jb_set(ctx, "incident", incident_json(rec, ph, false, now_us));
	jb_set(ctx, "category", json_copy(cat));
	if (upd != NULL)
		jb_set(ctx, "update", update_json(rec, ph, upd, version));
	text = fill(r, loc, txt, ctx, false, err);
	html = text != NULL ? fill(r, loc, htm, ctx, true, err) : NULL;
	if (html == NULL)
		goto out;
	if (split_subject(text, txt, &subject, &body, err) < 0)
		goto out;
	mid = mime_message_id("customer", rec->inc.id, who->id, version,
	                      mime_addr_domain(r->from));
	flowed = reflow(body);
	rc = build(r, who->name, to, subject, flowed, html, mid, rec->inc.id,
	           NULL, upd != NULL ? upd->previous_message_id : NULL, now_us,
	           out, err);
out:
	free(flowed);
	free(mid);
	free(subject);
	free(text);
	free(html);
	json_decref(ctx);
	return rc;
}

static const char *team_file(enum outbox_kind k)
{
	switch (k) {
	case OUTBOX_TEAM_PROBLEM:
		return "team-problem.txt";
	case OUTBOX_TEAM_REMINDER:
		return "team-reminder.txt";
	default:
		return "team-alert.txt";
	}
}

static json_t *problems_json(const struct render_team *t)
{
	json_t *a = jb_new(json_array());
	size_t n = t->n_problems < RENDER_FIRST_PROBLEMS
	               ? t->n_problems
	               : RENDER_FIRST_PROBLEMS;

	for (size_t i = 0; i < n; i++) {
		const struct store_notification *p = &t->problems[i];
		json_t *o = jb_new(json_object());
		char *what;

		jb_set(o, "customer", jsafe(p->customer_id, true));
		if (p->hold != NULL && strcmp(p->state, "held") == 0)
			jb_set(o, "state", json_sprintf("held (%s)", p->hold));
		else
			jb_set(o, "state", jsafe(p->state, true));
		jb_set(o, "recipient",
		       p->recipient != NULL ? json_string(p->recipient)
		                            : json_null());
		what = xasprintf("%s%s%s", p->detail != NULL ? p->detail : "",
		                 p->smtp_text != NULL ? " / relay: " : "",
		                 p->smtp_text != NULL ? p->smtp_text : "");
		jb_set(o, "what", jsafe(what, true));
		free(what);
		jb_push(a, o);
	}
	return a;
}

int render_team_message(struct render *r, const struct store_record *rec,
                        const struct render_team *t, int64_t now_us,
                        struct render_msg *out, struct bw_error *err)
{
	json_t *ctx, *ph, *team;
	char *text = NULL, *subject = NULL, *mid = NULL;
	const char *body;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	ph = phrases(r, "en", err);
	if (ph == NULL)
		return -1;
	ctx = jb_new(json_object());
	jb_set(ctx, "org", org_json(r));
	jb_set(ctx, "incident", incident_json(rec, ph, true, now_us));
	jb_set(ctx, "cli", cli_json(r, rec->inc.id));
	jb_set(ctx, "escalation", json_boolean(t->escalation));
	team = jb_new(json_object());
	jb_set(team, "reason", jsafe(t->reason, true));
	jb_set(team, "policy",
	       json_string(t->policy != NULL ? t->policy : "auto"));
	jb_set(team, "notify_customers", json_boolean(t->notify_customers));
	jb_set(team, "customers_off", json_boolean(t->customers_off));
	jb_set(team, "notify_hint", json_boolean(t->notify_hint));
	jb_set(team, "notify_decided", json_boolean(t->notify_decided));
	jb_set(team, "approval_needed",
	       json_boolean(t->notify_customers && !t->notify_decided &&
	                    t->policy != NULL &&
	                    strcmp(t->policy, "approve") == 0));
	if (t->notify_decided) {
		jb_set(
		    team, "policy_text",
		    json_string("An operator decided the customers are to "
		                "be told (breachwatch notify): each affected "
		                "customer is sent a notice, once, without a "
		                "further approval."));
	} else if (t->policy != NULL && strcmp(t->policy, "approve") == 0) {
		jb_set(
		    team, "policy_text",
		    json_sprintf("Each customer's notice is rendered and HELD "
		                 "until someone runs: %s approve %s",
		                 r->cli, rec->inc.id));
	} else if (t->customers_at_us != 0) {
		char *when = time_text(t->customers_at_us);

		jb_set(team, "policy_text",
		       json_sprintf("Each affected customer is sent a notice "
		                    "from about %s (after the grouping wait), "
		                    "once.",
		                    when));
		free(when);
	} else {
		jb_set(team, "policy_text",
		       json_string("Each affected customer is sent a notice, "
		                   "once."));
	}
	jb_set(team, "held", json_integer((json_int_t)t->held));
	jb_set(ctx, "team", team);
	jb_set(ctx, "problems", problems_json(t));
	jb_set(ctx, "problems_count",
	       json_integer((json_int_t)t->problems_total));
	{
		size_t shown = t->n_problems < RENDER_FIRST_PROBLEMS
		                   ? t->n_problems
		                   : RENDER_FIRST_PROBLEMS;
		uint64_t total = t->problems_total > t->n_problems
		                     ? t->problems_total
		                     : t->n_problems;

		jb_set(ctx, "problems_more",
		       total > shown ? json_integer((json_int_t)(total - shown))
		                     : json_null());
	}
	text = fill(r, "en", team_file(t->kind), ctx, false, err);
	if (text == NULL)
		goto out;
	if (split_subject(text, team_file(t->kind), &subject, &body, err) < 0)
		goto out;
	mid = mime_message_id(outbox_kind_name(t->kind), rec->inc.id, t->to,
	                      t->number, mime_addr_domain(r->from));
	rc = build(r, NULL, t->to, subject, body, NULL, mid, rec->inc.id,
	           bw_severity_name(rec->inc.severity), NULL, now_us, out, err);
out:
	free(mid);
	free(subject);
	free(text);
	json_decref(ctx);
	return rc;
}

/*
 * Set-up.
 */

static const char *const checked[] = {
    "customer.txt",         "customer.html",       "customer-update.txt",
    "customer-update.html", "notice-sections.txt", "notice-sections.html",
    "team-alert.txt",       "team-problem.txt",    "team-reminder.txt",
};

/* The English templates parse, phrases and the default category read. */
static int check_all(struct render *r, struct bw_error *err)
{
	struct file *f;

	for (size_t i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		if (need(r, "en", checked[i], &f, err) < 0 ||
		    template_check(f->text, f->path, err) < 0)
			return -1;
	}
	if (phrases(r, "en", err) == NULL ||
	    category(r, "en", NULL, err) == NULL)
		return -1;
	return 0;
}

struct render *render_new(const struct render_params *p, struct bw_error *err)
{
	struct render *r = xcalloc(1, sizeof(*r));

	if (p->shipped_dir == NULL) {
		bw_error_set(err, NULL, 0, "render: no template directory");
		goto fail;
	}
	if (mime_addr_check(p->org.from, "from", err) < 0 ||
	    (p->org.reply_to != NULL &&
	     mime_addr_check(p->org.reply_to, "reply_to", err) < 0) ||
	    (p->org.from_name != NULL &&
	     mime_text_check("from_name", p->org.from_name, MIME_MAX_NAME,
	                     err) < 0))
		goto fail;
	r->site_dir = dup_or_null(p->site_dir);
	r->shipped_dir = xstrdup(p->shipped_dir);
	r->org_name = xstrdup(p->org.name != NULL ? p->org.name : "");
	r->org_contact =
	    xstrdup(p->org.contact != NULL ? p->org.contact : p->org.from);
	r->org_dpo = dup_or_null(p->org.dpo);
	r->org_website = dup_or_null(p->org.website);
	r->from_name = dup_or_null(p->org.from_name);
	r->from = xstrdup(p->org.from);
	r->reply_to = dup_or_null(p->org.reply_to);
	r->cli = xstrdup(p->cli != NULL ? p->cli : "breachwatch");
	if (check_all(r, err) < 0)
		goto fail;
	return r;
fail:
	render_destroy(&r);
	return NULL;
}

void render_destroy(struct render **rp)
{
	struct render *r = *rp;

	if (r == NULL)
		return;
	files_free(r->files);
	free(r->site_dir);
	free(r->shipped_dir);
	free(r->org_name);
	free(r->org_contact);
	free(r->org_dpo);
	free(r->org_website);
	free(r->from_name);
	free(r->from);
	free(r->reply_to);
	free(r->cli);
	free(r);
	*rp = NULL;
}

int render_reload(struct render *r, struct bw_error *err)
{
	struct file *old = r->files;

	r->files = NULL;
	if (check_all(r, err) < 0) {
		files_free(r->files);
		r->files = old;
		return -1;
	}
	files_free(old);
	return 0;
}
