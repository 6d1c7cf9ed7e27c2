/*
 * incident.c - the incident model and its strict JSON codec.
 *
 * Encoding writes every member in one fixed order (the order of
 * ARCHITECTURE.md); only summary (when NULL) and actor (when empty) are left
 * out. Decoding is table-driven: each member name maps to a handler that
 * checks the value's type and limits. The first violation wins and is
 * reported as "<path>: <reason>", e.g. "evidence[3].excerpt: longer than
 * 1024 bytes".
 *
 * Strings handed to the builders should be valid UTF-8 (the aggregator
 * cleans what it takes from events). The encoder cannot fail, so a string
 * that is not valid UTF-8 is encoded with each bad byte replaced by U+FFFD.
 */
#include "incident.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bwtime.h"
#include "xmalloc.h"
#include "utf8.h"

static const char *const severity_names[] = {
    [BW_SEV_LOW] = "low",
    [BW_SEV_MEDIUM] = "medium",
    [BW_SEV_HIGH] = "high",
    [BW_SEV_CRITICAL] = "critical",
};

#define N_SEVERITIES (sizeof(severity_names) / sizeof(severity_names[0]))

const char *bw_severity_name(enum bw_severity s)
{
	if ((size_t)s >= N_SEVERITIES)
		return NULL;
	return severity_names[s];
}

enum bw_severity bw_severity_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < N_SEVERITIES; i++) {
		if (severity_names[i] != NULL &&
		    strcmp(severity_names[i], name) == 0)
			return (enum bw_severity)i;
	}
	return 0;
}

/*
 * Model: construction, destruction, copies, builders.
 */

struct bw_incident *bw_incident_new(void)
{
	return xcalloc(1, sizeof(struct bw_incident));
}

static void free_evidence(struct bw_evidence *e)
{
	free(e->source);
	free(e->ref);
	free(e->excerpt);
}

static void free_step(struct bw_step *s)
{
	free(s->action);
	free(s->status);
	free(s->detail);
}

void bw_incident_destroy(struct bw_incident **incp)
{
	struct bw_incident *inc;
	size_t i;

	if (incp == NULL || *incp == NULL)
		return;
	inc = *incp;
	free(inc->id);
	free(inc->rule);
	free(inc->category);
	free(inc->title);
	free(inc->summary);
	free(inc->host);
	for (i = 0; i < inc->n_actor; i++) {
		free(inc->actor[i].key);
		free(inc->actor[i].value);
	}
	free(inc->actor);
	for (i = 0; i < inc->n_customers; i++)
		free(inc->customers[i]);
	free(inc->customers);
	for (i = 0; i < inc->n_data_kinds; i++)
		free(inc->data_kinds[i]);
	free(inc->data_kinds);
	for (i = 0; i < inc->n_evidence; i++)
		free_evidence(&inc->evidence[i]);
	free(inc->evidence);
	for (i = 0; i < inc->n_steps; i++)
		free_step(&inc->steps[i]);
	free(inc->steps);
	free(inc);
	*incp = NULL;
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

struct bw_incident *bw_incident_dup(const struct bw_incident *src)
{
	struct bw_incident *inc;
	size_t i;

	inc = bw_incident_new();
	inc->id = dup_or_null(src->id);
	inc->revision = src->revision;
	inc->rule = dup_or_null(src->rule);
	inc->category = dup_or_null(src->category);
	inc->severity = src->severity;
	inc->title = dup_or_null(src->title);
	inc->summary = dup_or_null(src->summary);
	inc->first_seen_us = src->first_seen_us;
	inc->last_seen_us = src->last_seen_us;
	inc->host = dup_or_null(src->host);
	for (i = 0; i < src->n_actor; i++)
		bw_incident_set_actor(inc, src->actor[i].key,
		                      src->actor[i].value);
	if (src->n_customers > 0) {
		inc->customers =
		    xreallocarray(NULL, src->n_customers, sizeof(char *));
		inc->cap_customers = src->n_customers;
		for (i = 0; i < src->n_customers; i++)
			inc->customers[i] = xstrdup(src->customers[i]);
		inc->n_customers = src->n_customers;
	}
	inc->affected_unknown = src->affected_unknown;
	for (i = 0; i < src->n_data_kinds; i++)
		bw_incident_add_data_kind(inc, src->data_kinds[i]);
	inc->event_count = src->event_count;
	for (i = 0; i < src->n_evidence; i++) {
		const struct bw_evidence *e = &src->evidence[i];

		bw_incident_add_evidence(inc, e->ts_us, e->source, e->ref,
		                         e->excerpt);
	}
	inc->evidence_omitted = src->evidence_omitted;
	inc->notify_customers = src->notify_customers;
	inc->credentials = src->credentials;
	inc->closed = src->closed;
	for (i = 0; i < src->n_steps; i++) {
		const struct bw_step *s = &src->steps[i];

		bw_incident_add_step(inc, s->action, s->started_us,
		                     s->finished_us, s->status, s->detail);
	}
	return inc;
}

/* Grow an array so that it holds at least n + 1 items. */
static void *grow(void *p, size_t n, size_t *cap, size_t item)
{
	if (n < *cap)
		return p;
	*cap = *cap < 8 ? 8 : *cap * 2;
	return xreallocarray(p, *cap, item);
}

static char *dup_empty(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

void bw_incident_set_actor(struct bw_incident *inc, const char *key,
                           const char *value)
{
	size_t i;

	for (i = 0; i < inc->n_actor; i++) {
		if (strcmp(inc->actor[i].key, key) == 0) {
			free(inc->actor[i].value);
			inc->actor[i].value = dup_empty(value);
			return;
		}
	}
	/* The actor array has no capacity field: grow it one at a time
	 * (it holds a handful of members at most). */
	inc->actor =
	    xreallocarray(inc->actor, inc->n_actor + 1, sizeof(*inc->actor));
	inc->actor[inc->n_actor].key = xstrdup(key);
	inc->actor[inc->n_actor].value = dup_empty(value);
	inc->n_actor++;
}

void bw_incident_add_customer(struct bw_incident *inc, const char *id)
{
	inc->customers = grow(inc->customers, inc->n_customers,
	                      &inc->cap_customers, sizeof(char *));
	inc->customers[inc->n_customers++] = xstrdup(id);
}

void bw_incident_add_data_kind(struct bw_incident *inc, const char *kind)
{
	inc->data_kinds = xreallocarray(inc->data_kinds, inc->n_data_kinds + 1,
	                                sizeof(char *));
	inc->data_kinds[inc->n_data_kinds++] = xstrdup(kind);
}

void bw_incident_add_evidence(struct bw_incident *inc, int64_t ts_us,
                              const char *source, const char *ref,
                              const char *excerpt)
{
	struct bw_evidence *e;

	inc->evidence = grow(inc->evidence, inc->n_evidence, &inc->cap_evidence,
	                     sizeof(*inc->evidence));
	e = &inc->evidence[inc->n_evidence++];
	e->ts_us = ts_us;
	e->source = dup_empty(source);
	e->ref = dup_empty(ref);
	e->excerpt = dup_empty(excerpt);
}

void bw_incident_add_step(struct bw_incident *inc, const char *action,
                          int64_t started_us, int64_t finished_us,
                          const char *status, const char *detail)
{
	struct bw_step *s;

	inc->steps = grow(inc->steps, inc->n_steps, &inc->cap_steps,
	                  sizeof(*inc->steps));
	s = &inc->steps[inc->n_steps++];
	s->action = dup_empty(action);
	s->started_us = started_us;
	s->finished_us = finished_us;
	s->status = dup_empty(status);
	s->detail = dup_empty(detail);
}

/*
 * Encoding.
 */

/* jansson reports out of memory as NULL or -1; like xmalloc, we abort. */
static json_t *jcheck(json_t *j)
{
	if (j == NULL)
		abort();
	return j;
}

static void jset(json_t *obj, const char *key, json_t *value)
{
	if (json_object_set_new_nocheck(obj, key, jcheck(value)) != 0)
		abort();
}

static void jappend(json_t *arr, json_t *value)
{
	if (json_array_append_new(arr, jcheck(value)) != 0)
		abort();
}

static json_t *jstr(const char *s)
{
	const unsigned char *p;
	size_t len, i, n;
	char *fixed;
	json_t *j;

	if (s == NULL)
		s = "";
	len = strlen(s);
	j = json_stringn(s, len);
	if (j != NULL)
		return j;
	/* Not valid UTF-8: replace each bad byte by U+FFFD. */
	p = (const unsigned char *)s;
	fixed = xreallocarray(NULL, len + 1, 3);
	n = 0;
	for (i = 0; i < len;) {
		size_t cl = bw_utf8_len(p + i, len - i);

		if (cl == 0) {
			memcpy(fixed + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
		} else {
			memcpy(fixed + n, p + i, cl);
			n += cl;
			i += cl;
		}
	}
	j = jcheck(json_stringn(fixed, n));
	free(fixed);
	return j;
}

static json_t *jtime(int64_t us)
{
	char buf[64];

	return jcheck(json_string(bw_time_format(us, buf, sizeof(buf))));
}

/* A containment time: 0 means "not yet" and is null. */
static json_t *jtime_or_null(int64_t us)
{
	return us == 0 ? json_null() : jtime(us);
}

static json_t *jcount(uint64_t n)
{
	/* JSON integers are signed 64-bit in jansson: clamp. */
	if (n > INT64_MAX)
		n = INT64_MAX;
	return json_integer((json_int_t)n);
}

static json_t *encode(const struct bw_incident *inc)
{
	json_t *o, *a, *item;
	const char *sev;
	size_t i;

	o = jcheck(json_object());
	jset(o, "id", jstr(inc->id));
	jset(o, "revision", json_integer(inc->revision));
	jset(o, "rule", jstr(inc->rule));
	jset(o, "category", jstr(inc->category));
	sev = bw_severity_name(inc->severity);
	jset(o, "severity", jstr(sev != NULL ? sev : "unknown"));
	jset(o, "title", jstr(inc->title));
	if (inc->summary != NULL)
		jset(o, "summary", jstr(inc->summary));
	jset(o, "first_seen", jtime(inc->first_seen_us));
	jset(o, "last_seen", jtime(inc->last_seen_us));
	jset(o, "host", jstr(inc->host));
	if (inc->n_actor > 0) {
		a = jcheck(json_object());
		for (i = 0; i < inc->n_actor; i++) {
			if (json_object_set_new(a, inc->actor[i].key,
			                        jstr(inc->actor[i].value)) != 0)
				continue; /* a key that is not UTF-8 */
		}
		jset(o, "actor", a);
	}
	a = jcheck(json_array());
	for (i = 0; i < inc->n_customers; i++)
		jappend(a, jstr(inc->customers[i]));
	jset(o, "affected_customers", a);
	jset(o, "affected_unknown", json_boolean(inc->affected_unknown));
	a = jcheck(json_array());
	for (i = 0; i < inc->n_data_kinds; i++)
		jappend(a, jstr(inc->data_kinds[i]));
	jset(o, "data_kinds", a);
	jset(o, "event_count", jcount(inc->event_count));
	a = jcheck(json_array());
	for (i = 0; i < inc->n_evidence; i++) {
		const struct bw_evidence *e = &inc->evidence[i];

		item = jcheck(json_object());
		jset(item, "ts", jtime(e->ts_us));
		jset(item, "source", jstr(e->source));
		jset(item, "ref", jstr(e->ref));
		jset(item, "excerpt", jstr(e->excerpt));
		jappend(a, item);
	}
	jset(o, "evidence", a);
	jset(o, "evidence_omitted", jcount(inc->evidence_omitted));
	jset(o, "notify_customers", json_boolean(inc->notify_customers));
	jset(o, "credentials", json_boolean(inc->credentials));
	a = jcheck(json_array());
	for (i = 0; i < inc->n_steps; i++) {
		const struct bw_step *s = &inc->steps[i];

		item = jcheck(json_object());
		jset(item, "action", jstr(s->action));
		jset(item, "started", jtime_or_null(s->started_us));
		jset(item, "finished", jtime_or_null(s->finished_us));
		jset(item, "status", jstr(s->status));
		jset(item, "detail", jstr(s->detail));
		jappend(a, item);
	}
	jset(o, "containment", a);
	jset(o, "closed", json_boolean(inc->closed));
	return o;
}

char *bw_incident_to_json(const struct bw_incident *inc)
{
	json_t *o;
	char *s;

	o = encode(inc);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	return s;
}

/*
 * Decoding.
 */

/* The path of the value being decoded, for error messages. */
struct path {
	char s[128];
};

static const char *path_member(struct path *p, const char *parent,
                               const char *name)
{
	if (parent == NULL || parent[0] == '\0')
		snprintf(p->s, sizeof(p->s), "%s", name);
	else
		snprintf(p->s, sizeof(p->s), "%s.%s", parent, name);
	return p->s;
}

static const char *path_index(struct path *p, const char *parent, size_t i)
{
	snprintf(p->s, sizeof(p->s), "%s[%zu]", parent, i);
	return p->s;
}

/* A member name from the input, made printable and short for a message. */
static void safe_key(const char *key, size_t len, char *out, size_t size)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 4 < size; i++) {
		unsigned char c = (unsigned char)key[i];

		out[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (i < len && n + 3 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
}

static int fail(struct bw_error *err, const char *path, const char *reason)
{
	return bw_error_set(err, NULL, 0, "%s: %s", path, reason);
}

/* A string member: type, NUL bytes, length, emptiness. *out is a copy. */
static int get_str(const json_t *v, const char *path, size_t max, bool nonempty,
                   char **out, struct bw_error *err)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return fail(err, path, "not a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (memchr(s, '\0', len) != NULL)
		return fail(err, path, "contains a NUL byte");
	if (len > max)
		return bw_error_set(err, NULL, 0, "%s: longer than %zu bytes",
		                    path, max);
	if (nonempty && len == 0)
		return fail(err, path, "empty");
	free(*out);
	*out = xstrndup(s, len);
	return 0;
}

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z. */
#define TIME_MIN_US (INT64_C(-62135596800) * 1000000)
#define TIME_MAX_US (INT64_C(253402300799) * 1000000 + 999999)

static int get_time(const json_t *v, const char *path, bool nullable,
                    int64_t *out, struct bw_error *err)
{
	const char *s;
	size_t len;

	if (nullable && json_is_null(v)) {
		*out = 0;
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, path,
		            nullable ? "not a time or null" : "not a string");
	s = json_string_value(v);
	len = json_string_length(v);
	if (len > 64 || memchr(s, '\0', len) != NULL ||
	    bw_time_parse_rfc3339(s, len, out) != 0)
		return fail(err, path, "not an RFC 3339 time");
	/* Only what the encoder writes back as a 4-digit year (an offset or a
	 * leap second may carry 9999-12-31 into year 10000). */
	if (*out < TIME_MIN_US || *out > TIME_MAX_US)
		return fail(err, path, "time out of range");
	return 0;
}

static int get_bool(const json_t *v, const char *path, bool *out,
                    struct bw_error *err)
{
	if (!json_is_boolean(v))
		return fail(err, path, "not a boolean");
	*out = json_is_true(v);
	return 0;
}

static int get_uint(const json_t *v, const char *path, uint64_t min,
                    uint64_t max, uint64_t *out, struct bw_error *err)
{
	json_int_t n;

	if (!json_is_integer(v))
		return fail(err, path, "not an integer");
	n = json_integer_value(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return fail(err, path, "out of range");
	*out = (uint64_t)n;
	return 0;
}

static int get_array(const json_t *v, const char *path, size_t max,
                     struct bw_error *err)
{
	if (!json_is_array(v))
		return fail(err, path, "not an array");
	if (json_array_size(v) > max)
		return bw_error_set(err, NULL, 0, "%s: more than %zu items",
		                    path, max);
	return 0;
}

/*
 * A table of members for each object we decode: the name, whether it is
 * required, and the handler that checks and stores its value.
 */
typedef int (*member_fn)(void *target, const json_t *v, const char *path,
                         struct bw_error *err);

struct member {
	const char *name;
	bool required;
	member_fn decode;
};

/* Decode an object's members by table; members seen are flagged in seen[]
 * (at least as long as the table). */
static int decode_object(const json_t *obj, const char *path,
                         const struct member *table, size_t n_table,
                         void *target, struct bw_error *err)
{
	bool seen[32] = {false};
	struct path p;
	const char *key;
	size_t key_len, i;
	json_t *v;

	if (!json_is_object(obj))
		return fail(err, path[0] != '\0' ? path : "incident",
		            "not an object");
	json_object_keylen_foreach((json_t *)obj, key, key_len, v)
	{
		for (i = 0; i < n_table; i++) {
			if (strlen(table[i].name) == key_len &&
			    memcmp(table[i].name, key, key_len) == 0)
				break;
		}
		if (i == n_table) {
			char safe[48];

			safe_key(key, key_len, safe, sizeof(safe));
			return fail(err, path_member(&p, path, safe),
			            "unknown member");
		}
		seen[i] = true;
		if (table[i].decode(target, v, path_member(&p, path, key),
		                    err) != 0)
			return -1;
	}
	for (i = 0; i < n_table; i++) {
		if (table[i].required && !seen[i])
			return fail(err, path_member(&p, path, table[i].name),
			            "missing");
	}
	return 0;
}

#define TABLE_LEN(t) (sizeof(t) / sizeof((t)[0]))

/* Evidence items. */

static int ev_ts(void *t, const json_t *v, const char *path,
                 struct bw_error *err)
{
	return get_time(v, path, false, &((struct bw_evidence *)t)->ts_us, err);
}

static int ev_source(void *t, const json_t *v, const char *path,
                     struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, false,
	               &((struct bw_evidence *)t)->source, err);
}

static int ev_ref(void *t, const json_t *v, const char *path,
                  struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, false,
	               &((struct bw_evidence *)t)->ref, err);
}

static int ev_excerpt(void *t, const json_t *v, const char *path,
                      struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_EXCERPT, false,
	               &((struct bw_evidence *)t)->excerpt, err);
}

static const struct member evidence_members[] = {
    {"ts", true, ev_ts},
    {"source", true, ev_source},
    {"ref", true, ev_ref},
    {"excerpt", true, ev_excerpt},
};

/* Containment steps. */

static int st_action(void *t, const json_t *v, const char *path,
                     struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, true,
	               &((struct bw_step *)t)->action, err);
}

static int st_started(void *t, const json_t *v, const char *path,
                      struct bw_error *err)
{
	return get_time(v, path, true, &((struct bw_step *)t)->started_us, err);
}

static int st_finished(void *t, const json_t *v, const char *path,
                       struct bw_error *err)
{
	return get_time(v, path, true, &((struct bw_step *)t)->finished_us,
	                err);
}

static int st_status(void *t, const json_t *v, const char *path,
                     struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, true,
	               &((struct bw_step *)t)->status, err);
}

static int st_detail(void *t, const json_t *v, const char *path,
                     struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, false,
	               &((struct bw_step *)t)->detail, err);
}

static const struct member step_members[] = {
    {"action", true, st_action},     {"started", true, st_started},
    {"finished", true, st_finished}, {"status", true, st_status},
    {"detail", true, st_detail},
};

/* The incident's own members. */

static int m_id(void *t, const json_t *v, const char *path,
                struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, true,
	               &((struct bw_incident *)t)->id, err);
}

static int m_revision(void *t, const json_t *v, const char *path,
                      struct bw_error *err)
{
	uint64_t n = 0;

	if (get_uint(v, path, 1, UINT32_MAX, &n, err) != 0)
		return -1;
	((struct bw_incident *)t)->revision = (uint32_t)n;
	return 0;
}

static int m_rule(void *t, const json_t *v, const char *path,
                  struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, true,
	               &((struct bw_incident *)t)->rule, err);
}

static int m_category(void *t, const json_t *v, const char *path,
                      struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, false,
	               &((struct bw_incident *)t)->category, err);
}

static int m_severity(void *t, const json_t *v, const char *path,
                      struct bw_error *err)
{
	enum bw_severity s;

	if (!json_is_string(v))
		return fail(err, path, "not a string");
	if (json_string_length(v) > 16)
		return fail(err, path, "not a severity name");
	s = bw_severity_by_name(json_string_value(v));
	if (s == 0 || strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, path, "not a severity name");
	((struct bw_incident *)t)->severity = s;
	return 0;
}

static int m_title(void *t, const json_t *v, const char *path,
                   struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, false,
	               &((struct bw_incident *)t)->title, err);
}

static int m_summary(void *t, const json_t *v, const char *path,
                     struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, false,
	               &((struct bw_incident *)t)->summary, err);
}

static int m_first_seen(void *t, const json_t *v, const char *path,
                        struct bw_error *err)
{
	return get_time(v, path, false,
	                &((struct bw_incident *)t)->first_seen_us, err);
}

static int m_last_seen(void *t, const json_t *v, const char *path,
                       struct bw_error *err)
{
	return get_time(v, path, false,
	                &((struct bw_incident *)t)->last_seen_us, err);
}

static int m_host(void *t, const json_t *v, const char *path,
                  struct bw_error *err)
{
	return get_str(v, path, BW_INC_MAX_STR, false,
	               &((struct bw_incident *)t)->host, err);
}

static int m_actor(void *t, const json_t *v, const char *path,
                   struct bw_error *err)
{
	struct bw_incident *inc = t;
	struct path p;
	const char *key;
	size_t key_len;
	json_t *val;
	char *s = NULL;

	if (!json_is_object(v))
		return fail(err, path, "not an object");
	if (json_object_size(v) > BW_INC_MAX_ACTOR)
		return bw_error_set(err, NULL, 0, "%s: more than %d members",
		                    path, BW_INC_MAX_ACTOR);
	json_object_keylen_foreach((json_t *)v, key, key_len, val)
	{
		char safe[48];

		safe_key(key, key_len, safe, sizeof(safe));
		path_member(&p, path, safe);
		if (memchr(key, '\0', key_len) != NULL)
			return fail(err, p.s,
			            "member name contains a NUL byte");
		if (key_len == 0)
			return fail(err, path, "empty member name");
		if (key_len > BW_INC_MAX_STR)
			return bw_error_set(err, NULL, 0,
			                    "%s: member name longer than %d "
			                    "bytes",
			                    p.s, BW_INC_MAX_STR);
		if (get_str(val, p.s, BW_INC_MAX_STR, false, &s, err) != 0)
			return -1;
		bw_incident_set_actor(inc, key, s);
		free(s);
		s = NULL;
	}
	return 0;
}

static int m_customers(void *t, const json_t *v, const char *path,
                       struct bw_error *err)
{
	struct bw_incident *inc = t;
	json_t *set = NULL;
	struct path p;
	size_t i, n;
	int rc = -1;

	if (get_array(v, path, BW_INC_MAX_CUSTOMERS, err) != 0)
		return -1;
	n = json_array_size(v);
	/* A jansson object is our hash set for the duplicate check. */
	set = jcheck(json_object());
	for (i = 0; i < n; i++) {
		const json_t *item = json_array_get(v, i);
		char *id = NULL;

		path_index(&p, path, i);
		if (get_str(item, p.s, BW_INC_MAX_STR, true, &id, err) != 0)
			goto out;
		if (json_object_get(set, id) != NULL) {
			free(id);
			fail(err, p.s, "duplicate customer id");
			goto out;
		}
		if (json_object_set_new_nocheck(set, id, json_null()) != 0)
			abort();
		/* Ownership of id passes to the incident. */
		inc->customers = grow(inc->customers, inc->n_customers,
		                      &inc->cap_customers, sizeof(char *));
		inc->customers[inc->n_customers++] = id;
	}
	rc = 0;
out:
	json_decref(set);
	return rc;
}

static int m_affected_unknown(void *t, const json_t *v, const char *path,
                              struct bw_error *err)
{
	return get_bool(v, path, &((struct bw_incident *)t)->affected_unknown,
	                err);
}

static int m_data_kinds(void *t, const json_t *v, const char *path,
                        struct bw_error *err)
{
	struct bw_incident *inc = t;
	struct path p;
	size_t i;

	if (get_array(v, path, BW_INC_MAX_DATA_KINDS, err) != 0)
		return -1;
	for (i = 0; i < json_array_size(v); i++) {
		char *kind = NULL;

		path_index(&p, path, i);
		if (get_str(json_array_get(v, i), p.s, BW_INC_MAX_STR, true,
		            &kind, err) != 0)
			return -1;
		inc->data_kinds = xreallocarray(
		    inc->data_kinds, inc->n_data_kinds + 1, sizeof(char *));
		inc->data_kinds[inc->n_data_kinds++] = kind;
	}
	return 0;
}

static int m_event_count(void *t, const json_t *v, const char *path,
                         struct bw_error *err)
{
	return get_uint(v, path, 0, UINT64_MAX,
	                &((struct bw_incident *)t)->event_count, err);
}

static int m_evidence(void *t, const json_t *v, const char *path,
                      struct bw_error *err)
{
	struct bw_incident *inc = t;
	struct path p;
	size_t i;

	if (get_array(v, path, BW_INC_MAX_EVIDENCE, err) != 0)
		return -1;
	for (i = 0; i < json_array_size(v); i++) {
		struct bw_evidence *e;

		inc->evidence = grow(inc->evidence, inc->n_evidence,
		                     &inc->cap_evidence, sizeof(*e));
		e = &inc->evidence[inc->n_evidence++];
		memset(e, 0, sizeof(*e));
		path_index(&p, path, i);
		if (decode_object(json_array_get(v, i), p.s, evidence_members,
		                  TABLE_LEN(evidence_members), e, err) != 0)
			return -1;
	}
	return 0;
}

static int m_evidence_omitted(void *t, const json_t *v, const char *path,
                              struct bw_error *err)
{
	return get_uint(v, path, 0, UINT64_MAX,
	                &((struct bw_incident *)t)->evidence_omitted, err);
}

static int m_notify(void *t, const json_t *v, const char *path,
                    struct bw_error *err)
{
	return get_bool(v, path, &((struct bw_incident *)t)->notify_customers,
	                err);
}

static int m_credentials(void *t, const json_t *v, const char *path,
                         struct bw_error *err)
{
	return get_bool(v, path, &((struct bw_incident *)t)->credentials, err);
}

static int m_containment(void *t, const json_t *v, const char *path,
                         struct bw_error *err)
{
	struct bw_incident *inc = t;
	struct path p;
	size_t i;

	if (get_array(v, path, BW_INC_MAX_STEPS, err) != 0)
		return -1;
	for (i = 0; i < json_array_size(v); i++) {
		struct bw_step *s;

		inc->steps =
		    grow(inc->steps, inc->n_steps, &inc->cap_steps, sizeof(*s));
		s = &inc->steps[inc->n_steps++];
		memset(s, 0, sizeof(*s));
		path_index(&p, path, i);
		if (decode_object(json_array_get(v, i), p.s, step_members,
		                  TABLE_LEN(step_members), s, err) != 0)
			return -1;
	}
	return 0;
}

static int m_closed(void *t, const json_t *v, const char *path,
                    struct bw_error *err)
{
	return get_bool(v, path, &((struct bw_incident *)t)->closed, err);
}

static const struct member incident_members[] = {
    {"id", true, m_id},
    {"revision", true, m_revision},
    {"rule", true, m_rule},
    {"category", true, m_category},
    {"severity", true, m_severity},
    {"title", true, m_title},
    {"summary", false, m_summary},
    {"first_seen", true, m_first_seen},
    {"last_seen", true, m_last_seen},
    {"host", true, m_host},
    {"actor", false, m_actor},
    {"affected_customers", true, m_customers},
    {"affected_unknown", true, m_affected_unknown},
    {"data_kinds", false, m_data_kinds},
    {"event_count", true, m_event_count},
    {"evidence", true, m_evidence},
    {"evidence_omitted", false, m_evidence_omitted},
    {"notify_customers", true, m_notify},
    {"credentials", false, m_credentials},
    {"containment", true, m_containment},
    {"closed", false, m_closed},
};

_Static_assert(TABLE_LEN(incident_members) <= 32, "seen[] too small");

struct bw_incident *bw_incident_from_json(const char *json, size_t len,
                                          struct bw_error *err)
{
	struct bw_incident *inc = NULL;
	json_error_t jerr;
	json_t *root = NULL;

	if (len > BW_INC_MAX_JSON) {
		bw_error_set(err, NULL, 0, "incident: longer than %u bytes",
		             BW_INC_MAX_JSON);
		goto fail;
	}
	/* NUL escapes are let through the parser so that the member holding
	 * one can be named; get_str() refuses them. */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
	                  &jerr);
	if (root == NULL) {
		bw_error_set(err, NULL, 0, "json: %s (line %d, column %d)",
		             jerr.text, jerr.line, jerr.column);
		goto fail;
	}
	inc = bw_incident_new();
	if (decode_object(root, "", incident_members,
	                  TABLE_LEN(incident_members), inc, err) != 0)
		goto fail;
	if (inc->last_seen_us < inc->first_seen_us) {
		fail(err, "last_seen", "before first_seen");
		goto fail;
	}
	json_decref(root);
	return inc;
fail:
	bw_incident_destroy(&inc);
	json_decref(root);
	return NULL;
}
