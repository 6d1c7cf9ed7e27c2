/*
 * test_helpers.c - see test_helpers.h.
 */
#include <check.h>
#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "../../common/cidr.h"
#include "test_helpers.h"

static struct parser *make(const char *type, const char *cfgtext,
                           struct bw_error *err)
{
	const config_setting_t *opts = NULL;
	struct parser *p;
	config_t cfg;

	config_init(&cfg);
	if (cfgtext != NULL) {
		if (config_read_string(&cfg, cfgtext) != CONFIG_TRUE)
			ck_abort_msg("bad test config: %s at line %d",
			             config_error_text(&cfg),
			             config_error_line(&cfg));
		opts = config_lookup(&cfg, "input");
		ck_assert_ptr_nonnull(opts);
	}
	p = parser_new(type, opts, err);
	config_destroy(&cfg);
	return p;
}

struct parser *th_parser(const char *type, const char *cfgtext)
{
	struct bw_error err;
	struct parser *p;

	memset(&err, 0, sizeof(err));
	p = make(type, cfgtext, &err);
	if (p == NULL)
		ck_abort_msg("parser_new(%s): %s:%d: %s", type, err.file,
		             err.line, err.msg);
	return p;
}

const char *th_parser_error(const char *type, const char *cfgtext)
{
	static char buf[1024];
	struct bw_error err;
	struct parser *p;

	memset(&err, 0, sizeof(err));
	p = make(type, cfgtext, &err);
	if (p != NULL) {
		parser_destroy(&p);
		return NULL;
	}
	snprintf(buf, sizeof(buf), "line %d: %s", err.line, err.msg);
	return buf;
}

const char *th_s(struct bw_str s)
{
	static char ring[8][8192];
	static int next;
	char *b = ring[next++ % 8];
	size_t n = s.len < 8191 ? s.len : 8191;

	if (n > 0)
		memcpy(b, s.p, n);
	b[n] = '\0';
	return b;
}

const char *th_ip(const struct bw_event *ev)
{
	static char buf[64];

	return bw_addr_str(&ev->src_ip, buf, sizeof(buf));
}

int th_parse(struct parser *p, const char *line, struct bw_event *ev)
{
	struct bw_error err;

	bw_event_clear(ev);
	memset(&err, 0, sizeof(err));
	return parser_parse(p, line, strlen(line), ev, &err);
}
