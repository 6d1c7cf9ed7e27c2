/*
 * fuzz_parsers.c - a fuzz harness for every log parser.
 *
 * LLVMFuzzerTestOneInput() splits the input into lines and feeds them to
 * one parser of each type (and of each option set that changes the code
 * path: Apache common, JSON with nested keys, PostgreSQL syslog), then
 * flushes. Built with -DBW_LIBFUZZER it is a libFuzzer target; otherwise a
 * small main() replays the files named on the command line (a directory:
 * every file in it), so CI runs the committed seeds under ASan/UBSan.
 */
#include <dirent.h>
#include <libconfig.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

static void setup(void)
{
	struct bw_error err;
	size_t i;

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

#ifndef BW_LIBFUZZER
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			if (buf == NULL)
				abort();
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replay a directory's files in name order. Returns the number run, or
 * -1 when it cannot be read. */
static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int run = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		names = realloc(names, (n + 1) * sizeof(*names));
		if (names == NULL)
			abort();
		if (asprintf(&names[n], "%s/%s", dir, de->d_name) < 0)
			abort();
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp);
	for (i = 0; i < n; i++) {
		if (run_file(names[i]) == 0)
			run++;
		free(names[i]);
	}
	free(names);
	return run;
}

int main(int argc, char **argv)
{
	int i, total = 0, r;
	size_t k;

	for (i = 1; i < argc; i++) {
		r = run_dir(argv[i]);
		if (r < 0)
			r = run_file(argv[i]) == 0 ? 1 : -1;
		if (r < 0)
			return 1;
		total += r;
	}
	for (k = 0; k < NCONFIGS; k++)
		parser_destroy(&parsers[k]);
	printf("fuzz_parsers: replayed %d inputs through %zu parsers\n", total,
	       NCONFIGS);
	/* an empty corpus proves nothing */
	return total > 0 ? 0 : 1;
}
#endif
