/*
 * fuzz_parsers.c - a fuzz harness for every log parser.
 *
 * LLVMFuzzerTestOneInput() splits the input into lines and feeds them to
 * one parser of each type (and of each option set that changes the code
 * path: Apache common, JSON with nested keys, PostgreSQL syslog), then
 * flushes. Built with -DBW_LIBFUZZER it is a libFuzzer target; otherwise
 * linked with tests/fuzz_replay.c, whose main() replays the committed seeds
 * (CI runs them under ASan/UBSan).
 */
#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/parser.h"
#include "fuzz_replay.h"

static const struct {
	const char *type;
	const char *cfg;
} configs[] = {
    {"nginx", NULL},
    {"apache", "input = { format = \"common\"; };"},
    {"json", "input = { time_format = \"epoch\"; fields = { ts = \"t\"; "
             "src_ip = \"ip\"; request = \"req\"; principal = \"a.user\"; "
             "status = \"s\"; duration = \"d\"; bytes_out = \"b\"; "
             "kind = \"k\"; detail = \"x.y.z\"; }; };"},
    {"json", "input = { time_format = \"rfc3339\"; fields = { ts = \"time\"; "
             "request = \"request\"; }; };"},
    {"sshd", "input = { year = 2026; };"},
    {"postgres", NULL},
    {"postgres", "input = { prefix = \"%t [%p]: [%l-1] user=%u,db=%d,app=%a,"
                 "client=%h \"; };"},
    {"postgres", "input = { prefix = \"%m [%p] %q%u@%d %r \"; };"},
    {"postgres", "input = { syslog = true; year = 2019; "
                 "prefix = \"db=%d,user=%u,app=%a,client=%h \"; };"},
};

#define NCONFIGS (sizeof(configs) / sizeof(configs[0]))

static struct parser *parsers[NCONFIGS];

static void teardown(void)
{
	for (size_t i = 0; i < NCONFIGS; i++)
		parser_destroy(&parsers[i]);
}

static void setup(void)
{
	struct bw_error err;
	size_t i;

	atexit(teardown);
	for (i = 0; i < NCONFIGS; i++) {
		const config_setting_t *opts = NULL;
		config_t cfg;

		config_init(&cfg);
		if (configs[i].cfg != NULL) {
			if (config_read_string(&cfg, configs[i].cfg) !=
			    CONFIG_TRUE)
				abort();
			opts = config_lookup(&cfg, "input");
		}
		parsers[i] = parser_new(configs[i].type, opts, &err);
		config_destroy(&cfg);
		if (parsers[i] == NULL) {
			fprintf(stderr, "fuzz_parsers: %s: %s\n",
			        configs[i].type, err.msg);
			abort();
		}
		parser_set_reference_time(parsers[i], 1795421700LL * 1000000);
	}
}

/* Touch every byte of the event's strings so ASan sees a dangling one. */
static unsigned touch(const struct bw_event *ev)
{
	const struct bw_str *f[] = {
	    &ev->principal, &ev->action, &ev->resource,   &ev->query,
	    &ev->outcome,   &ev->host,   &ev->user_agent, &ev->referer,
	    &ev->database,  &ev->detail, &ev->text,       &ev->raw};
	unsigned sum = 0;
	size_t i, j;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		for (j = 0; j < f[i]->len; j++)
			sum += (unsigned char)f[i]->p[j];
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile unsigned sink;
	const char *p = (const char *)data, *end = p + size, *nl;
	struct bw_event ev;
	struct bw_error err;
	size_t i;

	if (parsers[0] == NULL)
		setup();
	for (i = 0; i < NCONFIGS; i++) {
		const char *s = p;

		while (s < end) {
			nl = memchr(s, '\n', (size_t)(end - s));
			if (nl == NULL)
				nl = end;
			bw_event_clear(&ev);
			if (parser_parse(parsers[i], s, (size_t)(nl - s), &ev,
			                 &err) == 1)
				sink += touch(&ev);
			s = nl + 1;
		}
		while (parser_flush(parsers[i], &ev) == 1)
			sink += touch(&ev);
	}
	return 0;
}
