/*
 * cfg.c - libconfig helpers that tell "absent" from "wrong" and say where.
 *
 * libconfig's own look-ups return false both when a key is missing and when
 * it has another type; every helper here looks the member up, checks its
 * type itself and names file:line of the offending setting.
 */
#include "cfg.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bwtime.h"
#include "path.h"

#define KEYS_LIST_MAX 300 /* room for "allowed: ..." in a message */

static const char *const type_names[] = {
	[CONFIG_TYPE_NONE] = "nothing",	   [CONFIG_TYPE_GROUP] = "a group",
	[CONFIG_TYPE_INT] = "an integer",  [CONFIG_TYPE_INT64] = "an integer",
	[CONFIG_TYPE_FLOAT] = "a float",   [CONFIG_TYPE_STRING] = "a string",
	[CONFIG_TYPE_BOOL] = "a boolean",  [CONFIG_TYPE_ARRAY] = "an array",
	[CONFIG_TYPE_LIST] = "a list",
};

static const char *type_name(const config_setting_t *s)
{
	int t = config_setting_type(s);

	if (t < 0 || (size_t)t >= sizeof(type_names) / sizeof(type_names[0]))
		return "unknown";
	return type_names[t];
}

int bw_cfg_read_file(config_t *cfg, const char *path, const char *include_dir,
		     struct bw_error *err)
{
	char *dir;
	struct stat st;
	const char *efile;
	FILE *fp;

	config_init(cfg);
	/* libconfig only says "file I/O error"; find the reason first. */
	fp = fopen(path, "r");
	if (fp == NULL) {
		bw_error_set(err, path, 0, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(fp);
		bw_error_set(err, path, 0, "not a regular file");
		goto fail;
	}
	fclose(fp);
	if (include_dir == NULL) {
		dir = bw_path_dir(path);
		config_set_include_dir(cfg, dir);
		free(dir);
	} else {
		config_set_include_dir(cfg, include_dir);
	}
	if (config_read_file(cfg, path) != CONFIG_TRUE) {
		efile = config_error_file(cfg);
		if (config_error_type(cfg) == CONFIG_ERR_FILE_IO)
			bw_error_set(err, efile ? efile : path, 0,
				     "cannot read: %s",
				     config_error_text(cfg));
		else
			bw_error_set(err, efile ? efile : path,
				     config_error_line(cfg), "%s",
				     config_error_text(cfg));
		goto fail;
	}
	return 0;
fail:
	config_destroy(cfg);
	return -1;
}

const char *bw_cfg_file(const config_setting_t *s)
{
	const char *f = s ? config_setting_source_file(s) : NULL;

	return f ? f : "";
}

int bw_cfg_line(const config_setting_t *s)
{
	return s ? (int)config_setting_source_line(s) : 0;
}

int bw_cfg_error(struct bw_error *err, const config_setting_t *s,
		 const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bw_error_set(err, bw_cfg_file(s), bw_cfg_line(s), "%s", msg);
}

/* The name of the group for messages: "in \"agent\"", or "" at the root. */
static const char *where(const config_setting_t *grp, char *buf, size_t size)
{
	const char *name = grp ? config_setting_name(grp) : NULL;

	if (name == NULL)
		buf[0] = '\0';
	else
		snprintf(buf, size, " in \"%s\"", name);
	return buf;
}

/*
 * The member key of grp, or NULL. Fills err and returns -1 when it is
 * required and absent (or grp is not a group), 0 otherwise.
 */
static int member(const config_setting_t *grp, const char *key, bool required,
		  const config_setting_t **out, struct bw_error *err)
{
	char ctx[160];

	*out = NULL;
	if (grp != NULL && !config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "\"%s\" must be a group, not %s",
				    config_setting_name(grp)
					    ? config_setting_name(grp)
					    : "(element)",
				    type_name(grp));
	if (grp != NULL)
		*out = config_setting_get_member(grp, key);
	if (*out == NULL && required)
		return bw_cfg_error(err, grp, "missing required setting \"%s\"%s",
				    key, where(grp, ctx, sizeof(ctx)));
	return 0;
}

static int wrong_type(struct bw_error *err, const config_setting_t *s,
		      const char *key, const char *want)
{
	return bw_cfg_error(err, s, "\"%s\" must be %s, not %s", key, want,
			    type_name(s));
}

int bw_cfg_string(const config_setting_t *grp, const char *key, bool required,
		  const char **out, struct bw_error *err)
{
	const config_setting_t *s;

	if (member(grp, key, required, &s, err) != 0)
		return -1;
	if (s == NULL) {
		*out = NULL;
		return 0;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return wrong_type(err, s, key, "a string");
	*out = config_setting_get_string(s);
	return 0;
}

int bw_cfg_int(const config_setting_t *grp, const char *key, bool required,
	       int64_t min, int64_t max, int64_t *out, struct bw_error *err)
{
	const config_setting_t *s;
	int64_t v;

	if (member(grp, key, required, &s, err) != 0)
		return -1;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64)
		return wrong_type(err, s, key, "an integer");
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return bw_cfg_error(err, s,
				    "\"%s\" is %" PRId64 ", must be between "
				    "%" PRId64 " and %" PRId64,
				    key, v, min, max);
	*out = v;
	return 0;
}

int bw_cfg_bool(const config_setting_t *grp, const char *key, bool required,
		bool *out, struct bw_error *err)
{
	const config_setting_t *s;

	if (member(grp, key, required, &s, err) != 0)
		return -1;
	if (s == NULL)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return wrong_type(err, s, key, "true or false");
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

int bw_cfg_duration(const config_setting_t *grp, const char *key,
		    bool required, int64_t *out_us, struct bw_error *err)
{
	const config_setting_t *s;
	const char *text;
	int64_t v;

	if (member(grp, key, required, &s, err) != 0)
		return -1;
	if (s == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		text = config_setting_get_string(s);
		if (bw_duration_parse(text, &v) != 0)
			return bw_cfg_error(err, s,
					    "\"%s\": bad duration \"%.64s\" "
					    "(write e.g. \"500ms\", \"30s\", "
					    "\"10m\", \"2h\", \"1d\")",
					    key, text);
		break;
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = config_setting_get_int64(s);
		if (v < 0 || v > INT64_MAX / 1000000)
			return bw_cfg_error(err, s,
					    "\"%s\": duration %" PRId64
					    " seconds is out of range",
					    key, v);
		v *= 1000000;
		break;
	default:
		return wrong_type(err, s, key,
				  "a duration (a string like \"10m\" or "
				  "seconds)");
	}
	*out_us = v;
	return 0;
}

int bw_cfg_strings(const config_setting_t *grp, const char *key, bool required,
		   const config_setting_t **out, struct bw_error *err)
{
	const config_setting_t *s, *e;
	int i, n, t;

	*out = NULL;
	if (member(grp, key, required, &s, err) != 0)
		return -1;
	if (s == NULL)
		return 0;
	t = config_setting_type(s);
	if (t == CONFIG_TYPE_STRING) {
		*out = s;
		return 0;
	}
	if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
		return wrong_type(err, s, key, "a list of strings");
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		if (e == NULL || config_setting_type(e) != CONFIG_TYPE_STRING)
			return bw_cfg_error(err, e ? e : s,
					    "\"%s\": element %d must be a "
					    "string, not %s",
					    key, i + 1,
					    e ? type_name(e) : "nothing");
	}
	*out = s;
	return 0;
}

/* "a, b, c" into buf, cut with "..." if it does not fit. */
static const char *join(const char *const *names, char *buf, size_t size)
{
	size_t used = 0, n;
	int w;

	buf[0] = '\0';
	for (n = 0; names[n] != NULL; n++) {
		w = snprintf(buf + used, size - used, "%s%s", n ? ", " : "",
			     names[n]);
		if (w < 0 || (size_t)w >= size - used) {
			/* Room for "..." was kept back by the caller. */
			snprintf(buf + (used < size - 4 ? used : size - 4), 4,
				 "...");
			break;
		}
		used += (size_t)w;
	}
	return buf;
}

int bw_cfg_check_keys(const config_setting_t *grp, const char *const *allowed,
		      struct bw_error *err)
{
	const config_setting_t *m;
	const char *name;
	char list[KEYS_LIST_MAX], ctx[160];
	int i, n;
	size_t k;

	if (grp == NULL)
		return 0;
	if (!config_setting_is_group(grp))
		return bw_cfg_error(err, grp, "\"%s\" must be a group, not %s",
				    config_setting_name(grp)
					    ? config_setting_name(grp)
					    : "(element)",
				    type_name(grp));
	n = config_setting_length(grp);
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(grp, (unsigned)i);
		name = m ? config_setting_name(m) : NULL;
		if (name == NULL)
			continue;
		for (k = 0; allowed[k] != NULL; k++)
			if (strcmp(name, allowed[k]) == 0)
				break;
		if (allowed[k] == NULL)
			return bw_cfg_error(err, m,
					    "unknown setting \"%s\"%s "
					    "(allowed: %s)",
					    name, where(grp, ctx, sizeof(ctx)),
					    join(allowed, list, sizeof(list)));
	}
	return 0;
}
