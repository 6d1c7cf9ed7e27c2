/*
 * parse_json.c - JSON lines (one object per line: nginx `escape=json`,
 * application audit logs), with jansson.
 *
 * Options:
 *   fields = { ts = "time"; src_ip = "remote_addr"; request = "request";
 *              principal = "auth.user"; ... };
 *     event field name (as bw_field_by_name knows it, aliases included),
 *     or "ts", or "request" (a request line split into action, resource,
 *     query and text) -> the JSON key. A dotted key ("auth.user") walks
 *     into nested objects; a flat key holding dots is tried first.
 *     `ts` is required.
 *   time_format = "rfc3339" | "epoch" | "epoch_ms" | "clf"   (rfc3339)
 *   kind = "http" | "auth" | ...                              (http)
 *   duration_unit = "s" | "ms" | "us": the unit of `duration` (s, as
 *     nginx's $request_time); the event holds microseconds.
 *
 * Integer fields take JSON numbers or numeric strings; "-" and "" mean
 * unknown, as they do for strings. The source is always "json".
 *
 * Allocation: jansson builds a json_t tree for every line (accepted: about
 * 80k lines/s of 1 KB objects, fine for application logs; the hot-path
 * access logs go through parse_clf.c). The values the event keeps are
 * copied into the parser's scratch buffer (with a ceiling), since the tree
 * is freed before parse returns.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "parse_util.h"

#define JSON_MAX_FIELDS  32
#define JSON_MAX_PATH    256
#define JSON_MAX_DOTS    16
#define JSON_SCRATCH_MAX (4u * 1024 * 1024)

enum jwhat { JF_FIELD, JF_TS, JF_REQUEST };
enum tfmt { TF_RFC3339, TF_EPOCH, TF_EPOCH_MS, TF_CLF };

struct jfield {
	enum jwhat what;
	enum bw_field field;
	char *path; /* owned */
	size_t pathlen;
};

struct jsonp {
	struct jfield fields[JSON_MAX_FIELDS];
	size_t nfields;
	enum tfmt tfmt;
	enum bw_kind kind;
	int64_t dur_scale; /* microseconds per unit of `duration` */
	struct bw_buf scratch;
};

/* A string copied into scratch, placed in the event once all copies are
 * done (the buffer may move while it grows). */
struct pending {
	enum bw_field field;
	size_t off, len;
};

const char *const parse_json_keys[] = {"fields", "time_format", "kind",
                                       "duration_unit", NULL};

static const struct {
	const char *name;
	enum tfmt fmt;
} tformats[] = {
    {"rfc3339", TF_RFC3339},
    {"epoch", TF_EPOCH},
    {"epoch_ms", TF_EPOCH_MS},
    {"clf", TF_CLF},
};

static const struct {
	const char *name;
	int64_t scale;
} dunits[] = {
    {"s", 1000000},
    {"ms", 1000},
    {"us", 1},
};

void parse_json_destroy(void *st)
{
	struct jsonp *j = st;
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->nfields; i++)
		free(j->fields[i].path);
	bw_buf_free(&j->scratch);
	free(j);
}

static int load_fields(struct jsonp *j, const config_setting_t *grp,
                       struct bw_error *err)
{
	int i, n;

	if (!config_setting_is_group(grp))
		return bw_cfg_error(
		    err, grp, "fields must be a group: { ts = \"time\"; ... }");
	n = config_setting_length(grp);
	for (i = 0; i < n; i++) {
		config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const char *name = config_setting_name(s), *path;
		struct jfield *f;
		size_t k, dots = 0;

		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return bw_cfg_error(
			    err, s, "fields.%s must be a string (a JSON key)",
			    name);
		path = config_setting_get_string(s);
		if (path[0] == '\0' || strlen(path) > JSON_MAX_PATH)
			return bw_cfg_error(
			    err, s, "fields.%s: empty or over-long JSON key",
			    name);
		for (k = 0; path[k] != '\0'; k++)
			dots += path[k] == '.';
		if (dots > JSON_MAX_DOTS)
			return bw_cfg_error(err, s, "fields.%s: too deep",
			                    name);
		if (j->nfields >= JSON_MAX_FIELDS)
			return bw_cfg_error(err, s, "too many fields");
		f = &j->fields[j->nfields];
		if (strcmp(name, "ts") == 0) {
			f->what = JF_TS;
		} else if (strcmp(name, "request") == 0) {
			f->what = JF_REQUEST;
		} else {
			f->what = JF_FIELD;
			f->field = bw_field_by_name(name);
			if (f->field == BW_F_NONE)
				return bw_cfg_error(
				    err, s, "fields.%s: no such event field",
				    name);
			if (f->field == BW_F_SOURCE)
				return bw_cfg_error(
				    err, s,
				    "fields.source: the source of a "
				    "json input is always json");
		}
		f->path = xstrdup(path);
		f->pathlen = strlen(path);
		j->nfields++;
	}
	for (i = 0; i < (int)j->nfields; i++)
		if (j->fields[i].what == JF_TS)
			return 0;
	return bw_cfg_error(err, grp, "fields must map ts (the event time)");
}

void *parse_json_create(const config_setting_t *opts, enum bw_source source,
                        struct bw_error *err)
{
	const config_setting_t *fields;
	const char *tf = NULL, *kind = NULL, *du = NULL;
	struct jsonp *j;
	size_t i;

	(void)source;
	if (opts == NULL) {
		bw_error_set(err, NULL, 0,
		             "a json input needs fields = { ts = ...; ... }");
		return NULL;
	}
	j = xcalloc(1, sizeof(*j));
	j->tfmt = TF_RFC3339;
	j->kind = BW_KIND_HTTP;
	j->dur_scale = 1000000;
	bw_buf_init(&j->scratch, JSON_SCRATCH_MAX);
	if (bw_cfg_string(opts, "time_format", false, &tf, err) != 0 ||
	    bw_cfg_string(opts, "kind", false, &kind, err) != 0 ||
	    bw_cfg_string(opts, "duration_unit", false, &du, err) != 0)
		goto fail;
	if (tf != NULL) {
		for (i = 0; i < sizeof(tformats) / sizeof(tformats[0]); i++)
			if (strcmp(tf, tformats[i].name) == 0)
				break;
		if (i == sizeof(tformats) / sizeof(tformats[0])) {
			bw_cfg_error(
			    err, config_setting_get_member(opts, "time_format"),
			    "time_format must be rfc3339, epoch, epoch_ms "
			    "or clf, not \"%s\"",
			    tf);
			goto fail;
		}
		j->tfmt = tformats[i].fmt;
	}
	if (kind != NULL) {
		j->kind = bw_kind_by_name(kind);
		if (j->kind == BW_KIND_NONE) {
			bw_cfg_error(err,
			             config_setting_get_member(opts, "kind"),
			             "unknown event kind \"%s\"", kind);
			goto fail;
		}
	}
	if (du != NULL) {
		for (i = 0; i < sizeof(dunits) / sizeof(dunits[0]); i++)
			if (strcmp(du, dunits[i].name) == 0)
				break;
		if (i == sizeof(dunits) / sizeof(dunits[0])) {
			bw_cfg_error(
			    err,
			    config_setting_get_member(opts, "duration_unit"),
			    "duration_unit must be s, ms or us, not \"%s\"",
			    du);
			goto fail;
		}
		j->dur_scale = dunits[i].scale;
	}
	fields = config_setting_get_member(opts, "fields");
	if (fields == NULL) {
		bw_cfg_error(err, opts,
		             "a json input needs fields = { ts = ...; ... }");
		goto fail;
	}
	if (load_fields(j, fields, err) != 0)
		goto fail;
	return j;
fail:
	parse_json_destroy(j);
	return NULL;
}

/* The value at a key of obj; a dotted key walks into nested objects (a
 * flat key holding the dots wins). */
static json_t *lookup(json_t *obj, const char *path, size_t len)
{
	const char *dot = path;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	v = json_object_getn(obj, path, len);
	if (v != NULL)
		return v;
	while ((dot = memchr(dot, '.', len - (size_t)(dot - path))) != NULL) {
		json_t *sub = json_object_getn(obj, path, (size_t)(dot - path));

		dot++;
		if (json_is_object(sub)) {
			v = lookup(sub, dot, len - (size_t)(dot - path));
			if (v != NULL)
				return v;
		}
	}
	return NULL;
}

/* Whether a string value means "none". */
static bool is_none(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '-');
}

/* A decimal "123" or "123.456" times scale (fraction to the scale's
 * precision). Returns 0 or -1. */
static int decimal_scaled(const char *s, size_t n, int64_t scale, int64_t *out)
{
	const char *dot = memchr(s, '.', n);
	size_t ilen = dot ? (size_t)(dot - s) : n, i;
	int64_t ip, frac = 0, div = 1;

	if (parse_util_uint(s, ilen, &ip) != 0 || ip > INT64_MAX / scale)
		return -1;
	if (dot != NULL) {
		if (dot + 1 == s + n)
			return -1;
		for (i = ilen + 1; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -1;
			if (div < scale) {
				frac = frac * 10 + (s[i] - '0');
				div *= 10;
			}
		}
	}
	*out = ip * scale + frac * (scale / div);
	return 0;
}

/* A number (or numeric string) times scale; *known false for "-"/""/null.
 * Returns 0 or -1. */
static int number_scaled(json_t *v, int64_t scale, bool allow_frac,
                         int64_t *out, bool *known)
{
	*known = true;
	if (json_is_null(v)) {
		*known = false;
		return 0;
	}
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);

		if (n < 0 || n > INT64_MAX / scale)
			return -1;
		*out = (int64_t)n * scale;
		return 0;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v) * (double)scale;

		/* NaN fails every comparison; no libm needed */
		if (!(d >= 0 && d <= 9.2e18) ||
		    (!allow_frac && (double)(int64_t)d != d))
			return -1;
		*out = (int64_t)(d + 0.5);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);

		if (is_none(s, n)) {
			*known = false;
			return 0;
		}
		if (!allow_frac && memchr(s, '.', n) != NULL)
			return -1;
		return decimal_scaled(s, n, scale, out);
	}
	return -1;
}

static int parse_ts(const struct jsonp *j, json_t *v, int64_t *out)
{
	bool known;

	switch (j->tfmt) {
	case TF_RFC3339:
	case TF_CLF:
		if (!json_is_string(v))
			return -1;
		if (j->tfmt == TF_RFC3339)
			return bw_time_parse_rfc3339(
			    json_string_value(v), json_string_length(v), out);
		return bw_time_parse_clf(json_string_value(v),
		                         json_string_length(v), out);
	case TF_EPOCH:
	case TF_EPOCH_MS:
		if (number_scaled(v, j->tfmt == TF_EPOCH ? 1000000 : 1000, true,
		                  out, &known) != 0 ||
		    !known)
			return -1;
		return 0;
	}
	return -1;
}

/* Fill err with msg followed by arg. */
static int reject(struct bw_error *err, const char *msg, const char *arg)
{
	bw_error_set(err, NULL, 0, "%s%s", msg, arg);
	return PARSE_REJECT;
}

/* Copy a scalar's text into scratch. Returns 0 (absent when *len == 0),
 * or -1 for a non-scalar or a full buffer. */
static int copy_scalar(struct bw_buf *b, json_t *v, size_t *off, size_t *len)
{
	const char *s;
	size_t n;

	*off = b->len;
	*len = 0;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return 0;
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		if (is_none(s, n))
			return 0;
		if (bw_buf_add(b, s, n) != 0)
			return -1;
		break;
	case JSON_INTEGER:
		if (bw_buf_printf(b, "%" JSON_INTEGER_FORMAT,
		                  json_integer_value(v)) != 0)
			return -1;
		break;
	case JSON_REAL:
		if (bw_buf_printf(b, "%.17g", json_real_value(v)) != 0)
			return -1;
		break;
	case JSON_TRUE:
		if (bw_buf_add(b, "true", 4) != 0)
			return -1;
		break;
	case JSON_FALSE:
		if (bw_buf_add(b, "false", 5) != 0)
			return -1;
		break;
	default:
		return -1;
	}
	*len = b->len - *off;
	return 0;
}

/* Set an integer field; the ranges keep ports in 16 bits and the status
 * in 32. */
static int set_int(const struct jsonp *j, struct bw_event *ev, enum bw_field f,
                   json_t *v)
{
	bool known;
	int64_t n = 0;

	if (number_scaled(v, f == BW_F_DURATION ? j->dur_scale : 1,
	                  f == BW_F_DURATION, &n, &known) != 0)
		return -1;
	if (!known)
		return 0;
	switch (f) {
	case BW_F_SRC_PORT:
	case BW_F_DST_PORT:
		if (n > 65535)
			return -1;
		if (f == BW_F_SRC_PORT)
			ev->src_port = (uint16_t)n;
		else
			ev->dst_port = (uint16_t)n;
		return 0;
	case BW_F_STATUS:
		if (n > 999999)
			return -1;
		ev->status = (int32_t)n;
		return 0;
	case BW_F_BYTES_IN:
		ev->bytes_in = n;
		return 0;
	case BW_F_BYTES_OUT:
		ev->bytes_out = n;
		return 0;
	case BW_F_DURATION:
		ev->duration_us = n;
		return 0;
	default:
		return -1;
	}
}

static int set_addr(struct bw_event *ev, enum bw_field f, json_t *v)
{
	struct bw_addr *a = f == BW_F_SRC_IP ? &ev->src_ip : &ev->dst_ip;
	const char *s;
	size_t n;

	if (json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	if (is_none(s, n))
		return 0;
	return parse_util_addr(s, n, a);
}

int parse_json_parse(void *st, const char *line, size_t len,
                     struct bw_event *ev, struct bw_error *err)
{
	struct jsonp *j = st;
	struct pending pend[JSON_MAX_FIELDS];
	size_t npend = 0, i, req_off = 0, req_len = 0;
	bool have_ts = false, have_req = false;
	json_error_t jerr;
	json_t *root, *v;
	int rc = PARSE_REJECT;

	root = json_loadb(line, len, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES,
	                  &jerr);
	if (root == NULL)
		return reject(err, "bad JSON: ", jerr.text);
	if (!json_is_object(root)) {
		reject(err, "not a JSON object", "");
		goto done;
	}
	bw_buf_reset(&j->scratch);
	ev->kind = j->kind;
	for (i = 0; i < j->nfields; i++) {
		const struct jfield *f = &j->fields[i];
		const char *name = f->what == JF_TS ? "ts"
		                   : f->what == JF_REQUEST
		                       ? "request"
		                       : bw_fields[f->field].name;

		v = lookup(root, f->path, f->pathlen);
		if (v == NULL)
			continue;
		if (f->what == JF_TS) {
			if (parse_ts(j, v, &ev->ts_us) != 0) {
				reject(err, "bad time in ", f->path);
				goto done;
			}
			have_ts = true;
			continue;
		}
		if (f->what == JF_REQUEST ||
		    bw_fields[f->field].type == BW_FT_STR) {
			size_t off, n;

			if (copy_scalar(&j->scratch, v, &off, &n) != 0) {
				reject(err, "bad or over-long value of ", name);
				goto done;
			}
			if (f->what == JF_REQUEST) {
				have_req = true;
				req_off = off;
				req_len = n;
			} else {
				pend[npend++] =
				    (struct pending){f->field, off, n};
			}
			continue;
		}
		switch (bw_fields[f->field].type) {
		case BW_FT_INT:
			if (set_int(j, ev, f->field, v) != 0) {
				reject(err, "bad number in ", name);
				goto done;
			}
			break;
		case BW_FT_ADDR:
			if (set_addr(ev, f->field, v) != 0) {
				reject(err, "bad address in ", name);
				goto done;
			}
			break;
		case BW_FT_ENUM: /* kind: an unknown name keeps the default */
			if (json_is_string(v) &&
			    bw_kind_by_name(json_string_value(v)) !=
			        BW_KIND_NONE)
				ev->kind =
				    bw_kind_by_name(json_string_value(v));
			break;
		default:
			break;
		}
	}
	if (!have_ts) {
		reject(err, "missing time field ", "ts");
		goto done;
	}
	/* The buffer no longer moves: point the event into it. Explicit
	 * mappings win over what the request line gave. */
	if (have_req && req_len > 0)
		parse_util_request(j->scratch.data + req_off, req_len, ev);
	for (i = 0; i < npend; i++)
		if (pend[i].len > 0)
			*parse_util_strp(ev, pend[i].field) =
			    pstr(j->scratch.data + pend[i].off, pend[i].len);
	rc = PARSE_EVENT;
done:
	json_decref(root);
	return rc;
}
