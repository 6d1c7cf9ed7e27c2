/*
 * parser.c - the table of log parser types and the calls every type shares:
 * option checking, counting, and the per-line preamble (CR stripping, the
 * event reset, the length ceiling).
 */
#include <stdlib.h>
#include <string.h>

#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "parse_util.h"
#include "parser.h"

struct parser {
	const struct parser_type *type;
	void *st;
	struct parser_stats stats;
};

static const struct parser_type types[] = {
    {
        .name = "nginx",
        .source = BW_SRC_NGINX,
        .keys = parse_clf_keys,
        .create = parse_clf_create,
        .parse = parse_clf_parse,
        .destroy = parse_clf_destroy,
    },
    {
        .name = "apache",
        .source = BW_SRC_APACHE,
        .keys = parse_clf_keys,
        .create = parse_clf_create,
        .parse = parse_clf_parse,
        .destroy = parse_clf_destroy,
    },
    {
        .name = "json",
        .source = BW_SRC_JSON,
        .keys = parse_json_keys,
        .create = parse_json_create,
        .parse = parse_json_parse,
        .destroy = parse_json_destroy,
    },
    {
        .name = "sshd",
        .source = BW_SRC_SSHD,
        .keys = parse_sshd_keys,
        .create = parse_sshd_create,
        .parse = parse_sshd_parse,
        .set_ref = parse_sshd_set_ref,
        .destroy = parse_sshd_destroy,
    },
    {
        .name = "postgres",
        .source = BW_SRC_POSTGRES,
        .keys = parse_pg_keys,
        .create = parse_pg_create,
        .parse = parse_pg_parse,
        .flush = parse_pg_flush,
        .set_ref = parse_pg_set_ref,
        .destroy = parse_pg_destroy,
    },
};

#define NTYPES (sizeof(types) / sizeof(types[0]))
/* Keys of an input group that belong to the input, not the parser. */
static const char *const input_keys[] = {"type", "path", "start"};
#define NINPUT_KEYS   (sizeof(input_keys) / sizeof(input_keys[0]))
#define MAX_TYPE_KEYS 16

static const struct parser_type *type_by_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < NTYPES; i++)
		if (strcmp(types[i].name, name) == 0)
			return &types[i];
	return NULL;
}

int parser_type_known(const char *type)
{
	return type_by_name(type) != NULL;
}

/* Refuse option keys that are neither the input's nor the type's. */
static int check_keys(const struct parser_type *t, const config_setting_t *opts,
                      struct bw_error *err)
{
	const char *allowed[NINPUT_KEYS + MAX_TYPE_KEYS + 1];
	size_t n = 0, i;

	for (i = 0; i < NINPUT_KEYS; i++)
		allowed[n++] = input_keys[i];
	for (i = 0; t->keys != NULL && t->keys[i] != NULL; i++) {
		if (i >= MAX_TYPE_KEYS)
			return bw_error_set(err, NULL, 0,
			                    "parser %s: too many option keys",
			                    t->name);
		allowed[n++] = t->keys[i];
	}
	allowed[n] = NULL;
	return bw_cfg_check_keys(opts, allowed, err);
}

struct parser *parser_new(const char *type, const config_setting_t *opts,
                          struct bw_error *err)
{
	const struct parser_type *t = type_by_name(type);
	struct parser *p;
	void *st;

	if (t == NULL) {
		if (opts != NULL)
			bw_cfg_error(err, opts, "unknown input type \"%s\"",
			             type != NULL ? type : "");
		else
			bw_error_set(err, NULL, 0, "unknown input type \"%s\"",
			             type != NULL ? type : "");
		return NULL;
	}
	if (opts != NULL && !config_setting_is_group(opts)) {
		bw_cfg_error(err, opts, "input options must be a group");
		return NULL;
	}
	if (opts != NULL && check_keys(t, opts, err) != 0)
		return NULL;
	st = t->create(opts, t->source, err);
	if (st == NULL)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->type = t;
	p->st = st;
	return p;
}

void parser_destroy(struct parser **pp)
{
	struct parser *p;

	if (pp == NULL || *pp == NULL)
		return;
	p = *pp;
	p->type->destroy(p->st);
	free(p);
	*pp = NULL;
}

void parser_set_reference_time(struct parser *p, int64_t ref_us)
{
	if (p->type->set_ref != NULL)
		p->type->set_ref(p->st, ref_us);
}

int parser_parse(struct parser *p, const char *line, size_t len,
                 struct bw_event *ev, struct bw_error *err)
{
	struct bw_evref ref = ev->ref;
	struct bw_str raw = ev->raw;
	int rc;

	p->stats.lines++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	bw_event_clear(ev);
	ev->ref = ref;
	ev->raw = raw;
	ev->source = p->type->source;
	if (len == 0) {
		/* an empty line holds nothing (and ends no held event) */
		p->stats.ignored++;
		return 0;
	}
	if (len > PARSE_MAX_LINE) {
		p->stats.rejected++;
		return bw_error_set(err, NULL, 0, "line longer than %u bytes",
		                    PARSE_MAX_LINE);
	}
	rc = p->type->parse(p->st, line, len, ev, err);
	switch (rc) {
	case PARSE_EVENT:
		p->stats.events++;
		return 1;
	case PARSE_EVENT_IGNORED:
		p->stats.events++;
		p->stats.ignored++;
		return 1;
	case PARSE_HELD:
		return 0;
	case PARSE_IGNORED:
		p->stats.ignored++;
		return 0;
	default:
		p->stats.rejected++;
		return -1;
	}
}

int parser_flush(struct parser *p, struct bw_event *ev)
{
	if (p->type->flush == NULL)
		return 0;
	bw_event_clear(ev);
	ev->source = p->type->source;
	if (p->type->flush(p->st, ev) != 1)
		return 0;
	p->stats.events++;
	return 1;
}

const struct parser_stats *parser_get_stats(const struct parser *p)
{
	return &p->stats;
}

enum bw_source parser_source(const struct parser *p)
{
	return p->type->source;
}
