/*
 * out.c - output for a person (see out.h).
 */
#include "out.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/utf8.h"
#include "../common/xmalloc.h"

char *out_safe(const char *s, bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	struct bw_buf b;
	size_t len, i = 0, n;

	if (s == NULL)
		return xstrdup("-");
	len = strlen(s);
	bw_buf_init(&b, (size_t)-1 / 8);
	while (i < len) {
		n = bw_utf8_len(p + i, len - i);
		if (n == 1 && multiline && (p[i] == '\n' || p[i] == '\t')) {
			/* kept */
		} else if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			if (bw_buf_printf(&b, "\\x%02x", p[i]) < 0)
				abort();
			i++;
			continue;
		}
		if (bw_buf_add(&b, p + i, n) < 0)
			abort();
		i += n;
	}
	return bw_buf_steal(&b);
}

void out_text(FILE *f, const char *s, bool multiline)
{
	char *t = out_safe(s, multiline);

	fputs(t, f);
	free(t);
}

void out_json(const json_t *o)
{
	char *s = o != NULL ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER)
			    : NULL;

	printf("%s\n", s != NULL ? s : "{}");
	free(s);
}

const char *out_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

long long out_int(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

const char *out_span(int64_t us, char *buf, size_t size)
{
	int64_t s = (us < 0 ? -us : us) / 1000000;

	if (s >= 86400)
		snprintf(buf, size, "%" PRId64 "d %" PRId64 "h", s / 86400,
			 s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, size, "%" PRId64 "h %" PRId64 "m", s / 3600,
			 s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, size, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, size, "%" PRId64 "s", s);
	return buf;
}

struct out_table {
	size_t ncols;
	char **cells; /* rows x ncols, the header row first */
	size_t nrows, cap;
};

static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++; /* one column per code point: close enough */
	return w;
}

struct out_table *out_table_new(size_t ncols, const char *const *headers)
{
	struct out_table *t = xcalloc(1, sizeof(*t));

	t->ncols = ncols;
	out_table_add(t, headers);
	return t;
}

void out_table_add(struct out_table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cells = xreallocarray(t->cells, t->cap * t->ncols,
					 sizeof(*t->cells));
	}
	for (size_t i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = out_safe(cells[i], false);
	t->nrows++;
}

void out_table_print(struct out_table *t, FILE *f, const char *indent)
{
	size_t *w = xcalloc(t->ncols, sizeof(*w));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t x = width(t->cells[r * t->ncols + i]);

			if (x > w[i])
				w[i] = x;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(indent, f);
		for (size_t i = 0; i < t->ncols; i++) {
			const char *s = t->cells[r * t->ncols + i];

			fputs(s, f);
			if (i + 1 < t->ncols)
				fprintf(f, "%*s", (int)(w[i] - width(s) + 2),
					"");
		}
		fputc('\n', f);
	}
	free(w);
}

void out_table_destroy(struct out_table **tp)
{
	struct out_table *t = *tp;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
	*tp = NULL;
}
