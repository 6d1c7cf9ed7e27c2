/*
 * contain_action.c - containment action definitions, placeholders and
 * rendering (see contain_action.h).
 */
#include "contain_action.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "../rules/rules.h"

#define DEFAULT_TIMEOUT_US (10 * 1000000LL)
#define MAX_TIMEOUT_US     (3600 * 1000000LL)
#define DEFAULT_GRACE_US   (2 * 1000000LL)
#define MAX_GRACE_US       (60 * 1000000LL)
#define DEFAULT_DEDUP_US   (10 * 60 * 1000000LL)
#define MAX_DEDUP_US       (7 * 86400 * 1000000LL)
#define DEFAULT_RUNNING    4
#define MAX_RUNNING        64
#define DEFAULT_QUEUED     256
#define MAX_QUEUED         100000

/* Longest value of each kind of placeholder. */
#define MAX_NAME_VALUE 128 /* user, customer, key */
#define MAX_HOST_VALUE 253

/*
 * Placeholder values: each field's validation.
 */

/* Characters allowed in a value (beyond ASCII letters and digits). */
static bool chars_ok(const char *v, size_t max, const char *extra)
{
	size_t n = strlen(v);

	if (n == 0 || n > max)
		return false;
	/* A leading '-' would be an option to most programs. */
	if (v[0] == '-' || v[0] == '.')
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && strchr(extra, *v) == NULL)
			return false;
	return true;
}

/* An IPv4 or IPv6 address (no zone, no prefix), canonicalised. */
static bool check_ip(const char *v, char *out, size_t size)
{
	unsigned char a[16];

	if (strlen(v) >= INET6_ADDRSTRLEN)
		return false;
	if (inet_pton(AF_INET, v, a) == 1)
		return inet_ntop(AF_INET, a, out, (socklen_t)size) != NULL;
	if (inet_pton(AF_INET6, v, a) == 1)
		return inet_ntop(AF_INET6, a, out, (socklen_t)size) != NULL;
	return false;
}

static bool copy_if(bool ok, const char *v, char *out, size_t size)
{
	if (!ok || strlen(v) >= size)
		return false;
	strcpy(out, v);
	return true;
}

static bool check_user(const char *v, char *out, size_t size)
{
	return copy_if(chars_ok(v, MAX_NAME_VALUE, "._@+-"), v, out, size);
}

static bool check_customer(const char *v, char *out, size_t size)
{
	return copy_if(chars_ok(v, MAX_NAME_VALUE, "._-"), v, out, size);
}

static bool check_token(const char *v, char *out, size_t size)
{
	return copy_if(chars_ok(v, MAX_NAME_VALUE, "._:@+-"), v, out, size);
}

static bool check_host(const char *v, char *out, size_t size)
{
	return copy_if(chars_ok(v, MAX_HOST_VALUE, ".-"), v, out, size);
}

struct field {
	const char *name;
	size_t offset; /* of the const char * in struct contain_fields */
	bool (*check)(const char *v, char *out, size_t size);
	const char *allowed; /* what check accepts, for the step's detail */
	bool target; /* names what is acted on (de-duplication key) */
};

#define F(m) offsetof(struct contain_fields, m)

static const struct field fields[] = {
	{ "src_ip", F(src_ip), check_ip, "an IPv4 or IPv6 address", true },
	{ "user", F(user), check_user,
	  "1 to 128 of A-Z a-z 0-9 . _ @ + -, not starting with - or .",
	  true },
	{ "customer", F(customer), check_customer,
	  "1 to 128 of A-Z a-z 0-9 . _ -, not starting with - or .", true },
	{ "key", F(key), check_token,
	  "1 to 128 of A-Z a-z 0-9 . _ : @ + -, not starting with - or .",
	  true },
	{ "rule", F(rule), check_token, "a rule id", false },
	{ "incident_id", F(incident_id), check_token, "an incident id",
	  false },
	{ "host", F(host), check_host, "a host name", false },
	{ "severity", F(severity), check_token, "a severity", false },
	{ "category", F(category), check_token, "a category", false },
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *field_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strlen(fields[i].name) == len &&
		    memcmp(fields[i].name, name, len) == 0)
			return &fields[i];
	return NULL;
}

static const char *field_value(const struct field *fd,
			       const struct contain_fields *f)
{
	return *(const char *const *)((const char *)f + fd->offset);
}

static const char *field_names(void)
{
	return "src_ip, user, customer, key, rule, incident_id, host, "
	       "severity, category";
}

/*
 * Templates.
 */

/*
 * Check the placeholders of template t (from setting s): each "${name}"
 * must be closed and name a known field; with allow false there must be
 * none.
 */
static int check_template(const config_setting_t *s, const char *what,
			  const char *t, bool allow, struct bw_error *err)
{
	const char *p = t, *end;

	if (strlen(t) > CONTAIN_MAX_STR)
		return bw_cfg_error(err, s, "%s: longer than %d bytes", what,
				    CONTAIN_MAX_STR);
	while ((p = strstr(p, "${")) != NULL) {
		if (!allow)
			return bw_cfg_error(err, s,
					    "%s: no placeholder may appear "
					    "here",
					    what);
		end = strchr(p + 2, '}');
		if (end == NULL)
			return bw_cfg_error(err, s,
					    "%s: \"${\" without a closing "
					    "\"}\"",
					    what);
		if (field_by_name(p + 2, (size_t)(end - p - 2)) == NULL)
			return bw_cfg_error(err, s,
					    "%s: undefined placeholder "
					    "\"%.*s\" (known: %s)",
					    what, (int)(end - p + 1), p,
					    field_names());
		p = end + 1;
	}
	return 0;
}

enum encoding { ENC_RAW, ENC_URL };

struct render {
	const struct contain_fields *f;
	bool used[N_FIELDS]; /* fields that appeared */
	char *why;
	size_t why_size;
};

static int add_encoded(struct bw_buf *b, const char *v, enum encoding enc)
{
	static const char hex[] = "0123456789ABCDEF";

	if (enc == ENC_RAW)
		return bw_buf_addstr(b, v);
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (bw_buf_addc(b, (char)c) < 0)
				return -1;
		} else if (bw_buf_addc(b, '%') < 0 ||
			   bw_buf_addc(b, hex[c >> 4]) < 0 ||
			   bw_buf_addc(b, hex[c & 15]) < 0) {
			return -1;
		}
	}
	return 0;
}

/* The validated value of field fd, into out. Returns -1 with rd->why. */
static int field_render(struct render *rd, const struct field *fd, char *out,
			size_t size)
{
	const char *v = field_value(fd, rd->f);

	if (v == NULL || v[0] == '\0') {
		if (fd->offset == F(customer) && rd->f->n_customers > 1)
			snprintf(rd->why, rd->why_size,
				 "${customer}: the incident names %zu "
				 "affected customers, not one; nothing run",
				 rd->f->n_customers);
		else
			snprintf(rd->why, rd->why_size,
				 "${%s}: the incident has no value; "
				 "nothing run",
				 fd->name);
		return -1;
	}
	if (!fd->check(v, out, size)) {
		snprintf(rd->why, rd->why_size,
			 "${%s}: \"%.80s%s\" is not %s; nothing run", fd->name,
			 v, strlen(v) > 80 ? "..." : "", fd->allowed);
		/* The value came from outside: keep the detail printable. */
		for (char *p = rd->why; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return -1;
	}
	rd->used[fd - fields] = true;
	return 0;
}

/* Render t (checked at load) into a new string. NULL with rd->why. */
static char *render_str(struct render *rd, const char *t, enum encoding enc)
{
	struct bw_buf b;
	char value[MAX_HOST_VALUE + 1];
	const char *p = t, *ph, *end;

	bw_buf_init(&b, CONTAIN_MAX_STR);
	while ((ph = strstr(p, "${")) != NULL) {
		const struct field *fd;

		end = strchr(ph + 2, '}');
		fd = field_by_name(ph + 2, (size_t)(end - ph - 2));
		if (bw_buf_add(&b, p, (size_t)(ph - p)) < 0)
			goto too_long;
		if (field_render(rd, fd, value, sizeof(value)) < 0)
			goto fail;
		if (add_encoded(&b, value, enc) < 0)
			goto too_long;
		p = end + 1;
	}
	if (bw_buf_addstr(&b, p) < 0)
		goto too_long;
	return bw_buf_steal(&b);
too_long:
	snprintf(rd->why, rd->why_size,
		 "a rendered value is longer than %d bytes; nothing run",
		 CONTAIN_MAX_STR);
fail:
	bw_buf_free(&b);
	return NULL;
}

/* A deep copy of the body template with every string rendered. */
static json_t *render_json(struct render *rd, const json_t *t)
{
	json_t *out = NULL, *v, *c;
	const char *key;
	char *s;
	size_t i;

	switch (json_typeof(t)) {
	case JSON_STRING:
		s = render_str(rd, json_string_value(t), ENC_RAW);
		if (s == NULL)
			return NULL;
		out = json_string(s);
		free(s);
		if (out == NULL)
			snprintf(rd->why, rd->why_size,
				 "a body value is not valid UTF-8; nothing "
				 "run");
		return out;
	case JSON_OBJECT:
		out = json_object();
		json_object_foreach((json_t *)t, key, v)
		{
			c = render_json(rd, v);
			if (c == NULL || json_object_set_new(out, key, c) < 0)
				goto fail;
		}
		return out;
	case JSON_ARRAY:
		out = json_array();
		json_array_foreach(t, i, v)
		{
			c = render_json(rd, v);
			if (c == NULL || json_array_append_new(out, c) < 0)
				goto fail;
		}
		return out;
	default:
		return json_deep_copy(t);
	}
fail:
	json_decref(out);
	return NULL;
}

/*
 * Loading.
 */

static const char *const top_keys[] = { "max_running", "max_queued", NULL };
static const char *const exec_keys[] = { "id",	 "type",  "argv",  "env",
					 "timeout", "grace", "dedup", NULL };
static const char *const http_keys[] = { "id",	    "type",    "method",
					 "url",	    "headers", "body",
					 "timeout", "expect",  "proxy",
					 "dedup",   NULL };
static const char *const methods[] = { "GET", "POST", "PUT", "PATCH",
				       "DELETE", NULL };

static bool valid_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONTAIN_MAX_ID)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static bool valid_env_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void action_free(struct contain_action *a)
{
	free(a->id);
	free(a->file);
	free_strv(a->argv, a->argc);
	free_strv(a->env, a->n_env);
	free(a->method);
	free(a->url);
	free_strv(a->headers, a->n_headers);
	json_decref(a->body);
	free(a->proxy);
}

/* A list or array of strings (never one string) with at most max. */
static int string_list(const config_setting_t *grp, const char *key,
		       bool required, size_t max, const char *why_list,
		       const config_setting_t **out, struct bw_error *err)
{
	const config_setting_t *s;

	if (bw_cfg_strings(grp, key, required, &s, err) < 0)
		return -1;
	*out = s;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		return bw_cfg_error(err, s, "\"%s\" must be a list of strings%s",
				    key, why_list);
	if ((size_t)config_setting_length(s) > max)
		return bw_cfg_error(err, s, "\"%s\": at most %zu elements", key,
				    max);
	return 0;
}

static int load_exec(struct contain_action *a, const config_setting_t *g,
		     struct bw_error *err)
{
	const config_setting_t *argv, *env, *e;
	int n;

	if (bw_cfg_check_keys(g, exec_keys, err) < 0 ||
	    string_list(g, "argv", true, CONTAIN_MAX_ARGS,
			" (the program and its arguments, never a shell "
			"command line)",
			&argv, err) < 0 ||
	    string_list(g, "env", false, CONTAIN_MAX_ENV, "", &env, err) < 0 ||
	    bw_cfg_duration(g, "grace", false, &a->grace_us, err) < 0)
		return -1;
	if (a->grace_us > MAX_GRACE_US)
		return bw_cfg_error(err, config_setting_get_member(g, "grace"),
				    "\"grace\": at most 60 s");
	n = config_setting_length(argv);
	if (n == 0)
		return bw_cfg_error(err, argv, "\"argv\": names no program");
	a->argv = xcalloc((size_t)n, sizeof(*a->argv));
	for (int i = 0; i < n; i++) {
		const char *t;

		e = config_setting_get_elem(argv, (unsigned)i);
		t = config_setting_get_string(e);
		if (i == 0 && t[0] != '/')
			return bw_cfg_error(err, e,
					    "\"argv\": the program must be an "
					    "absolute path (no PATH search), "
					    "not \"%.64s\"",
					    t);
		if (check_template(e, "argv", t, i > 0, err) < 0)
			return -1;
		a->argv[a->argc++] = xstrdup(t);
	}
	if (env != NULL) {
		n = config_setting_length(env);
		a->env = xcalloc((size_t)n + 1, sizeof(*a->env));
		for (int i = 0; i < n; i++) {
			const char *name;

			e = config_setting_get_elem(env, (unsigned)i);
			name = config_setting_get_string(e);
			if (!valid_env_name(name))
				return bw_cfg_error(err, e,
						    "\"env\": \"%.64s\" is not "
						    "a variable name",
						    name);
			a->env[a->n_env++] = xstrdup(name);
		}
	}
	return 0;
}

/* The URL: http or https, a host, and placeholders only past the
 * authority (the host an action talks to is fixed by the config). */
static int check_url(const config_setting_t *s, const char *url,
		     struct bw_error *err)
{
	const char *rest, *path, *ph;

	if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	else
		return bw_cfg_error(err, s,
				    "\"url\" must start with http:// or "
				    "https://");
	path = rest + strcspn(rest, "/?#");
	if (path == rest)
		return bw_cfg_error(err, s, "\"url\" has no host");
	ph = strstr(url, "${");
	if (ph != NULL && ph < path)
		return bw_cfg_error(err, s,
				    "\"url\": placeholders may appear only in "
				    "the path and query, not in the scheme or "
				    "host");
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return bw_cfg_error(err, s,
					    "\"url\": spaces and control "
					    "characters must be "
					    "percent-encoded");
	return check_template(s, "url", url, true, err);
}

static int check_header(const config_setting_t *s, const char *h,
			struct bw_error *err)
{
	const char *colon = strchr(h, ':'), *ph;

	if (colon == NULL || colon == h)
		return bw_cfg_error(err, s,
				    "\"headers\": \"%.64s\" is not \"Name: "
				    "value\"",
				    h);
	ph = strstr(h, "${");
	if (ph != NULL && ph < colon)
		return bw_cfg_error(err, s,
				    "\"headers\": placeholders may appear "
				    "only in the value");
	for (const char *p = h; p < colon; p++)
		if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~",
							   *p) != NULL))
			return bw_cfg_error(err, s,
					    "\"headers\": bad header name in "
					    "\"%.64s\"",
					    h);
	for (const char *p = h; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return bw_cfg_error(err, s,
					    "\"headers\": control characters "
					    "in \"%.64s\"",
					    h);
	return check_template(s, "headers", h, true, err);
}

/* A libconfig value as a JSON template; strings checked as templates. */
static json_t *body_json(const config_setting_t *s, struct bw_error *err)
{
	json_t *out = NULL, *c;
	const config_setting_t *e;
	const char *str;
	int n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		str = config_setting_get_string(s);
		if (check_template(s, "body", str, true, err) < 0)
			return NULL;
		out = json_string(str);
		if (out == NULL)
			bw_cfg_error(err, s, "\"body\": not valid UTF-8");
		return out;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return json_integer(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_real(config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return json_boolean(config_setting_get_bool(s));
	case CONFIG_TYPE_GROUP:
		out = json_object();
		n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			e = config_setting_get_elem(s, (unsigned)i);
			c = body_json(e, err);
			if (c == NULL ||
			    json_object_set_new(out, config_setting_name(e),
						c) < 0)
				goto fail;
		}
		return out;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		out = json_array();
		n = config_setting_length(s);
		for (int i = 0; i < n; i++) {
			c = body_json(config_setting_get_elem(s, (unsigned)i),
				      err);
			if (c == NULL || json_array_append_new(out, c) < 0)
				goto fail;
		}
		return out;
	default:
		bw_cfg_error(err, s, "\"body\": unsupported value");
		return NULL;
	}
fail:
	json_decref(out);
	return NULL;
}

static int load_expect(struct contain_action *a, const config_setting_t *g,
		       struct bw_error *err)
{
	const config_setting_t *s = config_setting_get_member(g, "expect");
	int64_t lo, hi;

	a->expect_min = 200;
	a->expect_max = 299;
	if (s == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		lo = hi = config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		if (config_setting_length(s) != 2 ||
		    !config_setting_is_number(config_setting_get_elem(s, 0)) ||
		    !config_setting_is_number(config_setting_get_elem(s, 1)))
			return bw_cfg_error(err, s,
					    "\"expect\" is a status or [ min, "
					    "max ]");
		lo = config_setting_get_int64_elem(s, 0);
		hi = config_setting_get_int64_elem(s, 1);
		break;
	default:
		return bw_cfg_error(err, s,
				    "\"expect\" is a status or [ min, max ]");
	}
	if (lo < 100 || hi > 599 || lo > hi)
		return bw_cfg_error(err, s,
				    "\"expect\": statuses from 100 to 599, min "
				    "<= max");
	a->expect_min = (long)lo;
	a->expect_max = (long)hi;
	return 0;
}

static int load_http(struct contain_action *a, const config_setting_t *g,
		     struct bw_error *err)
{
	const config_setting_t *headers, *body, *e;
	const char *method = "POST", *url, *proxy = "";
	size_t i;
	int n;

	if (bw_cfg_check_keys(g, http_keys, err) < 0 ||
	    bw_cfg_string(g, "method", false, &method, err) < 0 ||
	    bw_cfg_string(g, "url", true, &url, err) < 0 ||
	    string_list(g, "headers", false, CONTAIN_MAX_HEADERS, "", &headers,
			err) < 0 ||
	    bw_cfg_string(g, "proxy", false, &proxy, err) < 0 ||
	    load_expect(a, g, err) < 0)
		return -1;
	if (method == NULL)
		method = "POST";
	if (proxy == NULL)
		proxy = "";
	for (i = 0; methods[i] != NULL; i++)
		if (strcmp(method, methods[i]) == 0)
			break;
	if (methods[i] == NULL)
		return bw_cfg_error(err, config_setting_get_member(g, "method"),
				    "\"method\": \"%.16s\" is not GET, POST, "
				    "PUT, PATCH or DELETE",
				    method);
	a->method = xstrdup(method);
	if (check_url(config_setting_get_member(g, "url"), url, err) < 0)
		return -1;
	a->url = xstrdup(url);
	a->proxy = xstrdup(proxy);
	if (headers != NULL) {
		n = config_setting_length(headers);
		a->headers = xcalloc((size_t)n, sizeof(*a->headers));
		for (int k = 0; k < n; k++) {
			const char *h;

			e = config_setting_get_elem(headers, (unsigned)k);
			h = config_setting_get_string(e);
			if (check_header(e, h, err) < 0)
				return -1;
			a->headers[a->n_headers++] = xstrdup(h);
		}
	}
	body = config_setting_get_member(g, "body");
	if (body != NULL) {
		if (!config_setting_is_group(body))
			return bw_cfg_error(err, body,
					    "\"body\" must be a group { name = "
					    "value; ... } (sent as a JSON "
					    "object)");
		if (strcmp(method, "GET") == 0)
			return bw_cfg_error(err, body,
					    "\"body\": a GET request has none");
		a->body = body_json(body, err);
		if (a->body == NULL)
			return -1;
	}
	return 0;
}

static int load_action(struct contain_actions *d, const config_setting_t *g,
		       struct bw_error *err)
{
	struct contain_action *a = &d->v[d->n];
	const char *id, *type;

	memset(a, 0, sizeof(*a));
	if (!config_setting_is_group(g))
		return bw_cfg_error(err, g,
				    "an action is a group { id = ...; type = "
				    "...; ... }");
	if (bw_cfg_string(g, "id", true, &id, err) < 0 ||
	    bw_cfg_string(g, "type", true, &type, err) < 0)
		return -1;
	if (!valid_id(id))
		return bw_cfg_error(err, config_setting_get_member(g, "id"),
				    "bad action id \"%.64s\" (1 to %d of a-z "
				    "0-9 . _ -)",
				    id, CONTAIN_MAX_ID);
	if (contain_actions_find(d, id) != NULL)
		return bw_cfg_error(err, config_setting_get_member(g, "id"),
				    "action \"%s\" is defined twice", id);
	d->n++; /* from here on, action_free owns what a holds */
	a->id = xstrdup(id);
	a->file = xstrdup(bw_cfg_file(g));
	a->line = bw_cfg_line(g);
	a->timeout_us = DEFAULT_TIMEOUT_US;
	a->grace_us = DEFAULT_GRACE_US;
	a->dedup_us = DEFAULT_DEDUP_US;
	if (strcmp(type, "exec") == 0) {
		a->type = CONTAIN_EXEC;
		if (load_exec(a, g, err) < 0)
			return -1;
	} else if (strcmp(type, "http") == 0) {
		a->type = CONTAIN_HTTP;
		if (load_http(a, g, err) < 0)
			return -1;
	} else {
		return bw_cfg_error(err, config_setting_get_member(g, "type"),
				    "action \"%s\": type must be \"exec\" or "
				    "\"http\", not \"%.32s\"",
				    id, type);
	}
	if (bw_cfg_duration(g, "timeout", false, &a->timeout_us, err) < 0 ||
	    bw_cfg_duration(g, "dedup", false, &a->dedup_us, err) < 0)
		return -1;
	if (a->timeout_us <= 0 || a->timeout_us > MAX_TIMEOUT_US)
		return bw_cfg_error(err, config_setting_get_member(g, "timeout"),
				    "\"timeout\" must be more than 0 and at "
				    "most 1h");
	if (a->dedup_us > MAX_DEDUP_US)
		return bw_cfg_error(err, config_setting_get_member(g, "dedup"),
				    "\"dedup\": at most 7d");
	return 0;
}

struct contain_actions *contain_actions_load(const config_setting_t *list,
					     const config_setting_t *limits,
					     struct bw_error *err)
{
	struct contain_actions *d = xcalloc(1, sizeof(*d));
	int64_t running = DEFAULT_RUNNING, queued = DEFAULT_QUEUED;
	int n;

	if (limits != NULL) {
		if (!config_setting_is_group(limits)) {
			bw_cfg_error(err, limits,
				     "containment: must be a group");
			goto fail;
		}
		if (bw_cfg_check_keys(limits, top_keys, err) < 0 ||
		    bw_cfg_int(limits, "max_running", false, 1, MAX_RUNNING,
			       &running, err) < 0 ||
		    bw_cfg_int(limits, "max_queued", false, 0, MAX_QUEUED,
			       &queued, err) < 0)
			goto fail;
	}
	d->max_running = (size_t)running;
	d->max_queued = (size_t)queued;
	if (list == NULL)
		return d;
	if (!config_setting_is_list(list)) {
		bw_cfg_error(err, list,
			     "actions: must be a list ( { id = ...; type = "
			     "...; }, ... )");
		goto fail;
	}
	n = config_setting_length(list);
	d->v = xcalloc((size_t)n + 1, sizeof(*d->v));
	for (int i = 0; i < n; i++)
		if (load_action(d, config_setting_get_elem(list, (unsigned)i),
				err) < 0)
			goto fail;
	return d;
fail:
	contain_actions_destroy(&d);
	return NULL;
}

void contain_actions_destroy(struct contain_actions **dp)
{
	struct contain_actions *d = *dp;

	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n; i++)
		action_free(&d->v[i]);
	free(d->v);
	free(d);
	*dp = NULL;
}

const struct contain_action *
contain_actions_find(const struct contain_actions *d, const char *id)
{
	if (d == NULL)
		return NULL;
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].id, id) == 0)
			return &d->v[i];
	return NULL;
}

int contain_actions_check_rules(const struct contain_actions *d,
				const struct rules *r, struct bw_error *err)
{
	size_t n = rules_count(r);

	for (size_t i = 0; i < n; i++) {
		const struct rule_info *ri = rules_info(r, i);

		for (size_t k = 0; k < ri->n_actions; k++)
			if (contain_actions_find(d, ri->actions[k]) == NULL)
				return bw_error_set(
					err, ri->file, ri->line,
					"rule \"%s\": action \"%s\" is not "
					"defined in the agent config's "
					"actions",
					ri->id, ri->actions[k]);
	}
	return 0;
}

/*
 * Rendering.
 */

static const char *actor(const struct bw_incident *inc, const char *key)
{
	for (size_t i = 0; i < inc->n_actor; i++)
		if (strcmp(inc->actor[i].key, key) == 0)
			return inc->actor[i].value;
	return NULL;
}

void contain_fields_from_incident(struct contain_fields *f,
				  const struct bw_incident *inc,
				  const char *key)
{
	memset(f, 0, sizeof(*f));
	f->src_ip = actor(inc, "ip");
	f->user = actor(inc, "user");
	f->n_customers = inc->n_customers;
	if (inc->n_customers == 1)
		f->customer = inc->customers[0];
	f->key = key;
	f->rule = inc->rule;
	f->incident_id = inc->id;
	f->host = inc->host;
	f->severity = bw_severity_name(inc->severity);
	f->category = inc->category;
}

static char **strv_new(size_t n)
{
	return xcalloc(n + 1, sizeof(char *));
}

static int render_exec(const struct contain_action *a, struct render *rd,
		       struct contain_request *req)
{
	req->argv = strv_new(a->argc);
	for (size_t i = 0; i < a->argc; i++) {
		req->argv[i] = render_str(rd, a->argv[i], ENC_RAW);
		if (req->argv[i] == NULL)
			return -1;
		req->argc++;
	}
	req->envp = strv_new(a->n_env);
	for (size_t i = 0, k = 0; i < a->n_env; i++) {
		const char *v = getenv(a->env[i]);

		if (v != NULL)
			req->envp[k++] = xasprintf("%s=%s", a->env[i], v);
	}
	return 0;
}

static int render_http(const struct contain_action *a, struct render *rd,
		       struct contain_request *req)
{
	req->url = render_str(rd, a->url, ENC_URL);
	if (req->url == NULL)
		return -1;
	req->headers = strv_new(a->n_headers);
	for (size_t i = 0; i < a->n_headers; i++) {
		req->headers[i] = render_str(rd, a->headers[i], ENC_RAW);
		if (req->headers[i] == NULL)
			return -1;
		req->n_headers++;
	}
	if (a->body != NULL) {
		json_t *b = render_json(rd, a->body);

		if (b == NULL)
			return -1;
		req->body = json_dumps(b, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(b);
		if (req->body == NULL || strlen(req->body) > CONTAIN_MAX_BODY) {
			snprintf(rd->why, rd->why_size,
				 "the body is longer than %d bytes; nothing "
				 "run",
				 CONTAIN_MAX_BODY);
			return -1;
		}
	}
	return 0;
}

/* "id" and the target fields used ("src_ip=1.2.3.4"...); with none, the
 * incident id, so that each incident runs it once. */
static char *dedup_key(const struct contain_action *a, struct render *rd)
{
	char value[MAX_HOST_VALUE + 1];
	struct bw_buf b;
	bool any = false;

	bw_buf_init(&b, 64 * 1024);
	if (bw_buf_addstr(&b, a->id) < 0)
		abort();
	for (size_t i = 0; i < N_FIELDS; i++) {
		if (!rd->used[i] || !fields[i].target)
			continue;
		/* Validated while rendering: it fits. */
		if (!fields[i].check(field_value(&fields[i], rd->f), value,
				     sizeof(value)) ||
		    bw_buf_printf(&b, "\n%s=%s", fields[i].name, value) < 0)
			abort();
		any = true;
	}
	if (!any && bw_buf_printf(&b, "\nincident_id=%s",
				  rd->f->incident_id ? rd->f->incident_id
						     : "") < 0)
		abort();
	return bw_buf_steal(&b);
}

int contain_action_render(const struct contain_action *a,
			  const struct contain_fields *f,
			  struct contain_request *req, char *why,
			  size_t why_size)
{
	struct render rd = { .f = f, .why = why, .why_size = why_size };
	int rc;

	memset(req, 0, sizeof(*req));
	why[0] = '\0';
	rc = a->type == CONTAIN_EXEC ? render_exec(a, &rd, req)
				     : render_http(a, &rd, req);
	if (rc < 0) {
		contain_request_free(req);
		return -1;
	}
	req->dedup = dedup_key(a, &rd);
	return 0;
}

void contain_request_free(struct contain_request *req)
{
	if (req->argv != NULL)
		free_strv(req->argv, req->argc);
	if (req->envp != NULL) {
		for (size_t i = 0; req->envp[i] != NULL; i++)
			free(req->envp[i]);
		free(req->envp);
	}
	free(req->url);
	if (req->headers != NULL)
		free_strv(req->headers, req->n_headers);
	free(req->body);
	free(req->dedup);
	memset(req, 0, sizeof(*req));
}
