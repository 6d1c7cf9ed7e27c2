/*
 * template.c - a rule's summary with ${field}, ${capture}, ${key} and
 * ${count} filled in from the match. Names are checked at load time; the
 * rendered text is bounded (RULES_MAX_SUMMARY) and one line: control bytes
 * from the event become '?'.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "engine.h"

#define MAX_NAME   64
#define MAX_JOINED 16 /* values of a multi-valued field shown */

static void add_part(struct tmpl *t, const struct tmpl_part *p)
{
	t->parts = xreallocarray(t->parts, t->n + 1, sizeof(*t->parts));
	t->parts[t->n++] = *p;
}

int tmpl_parse(struct tmpl *t, const char *text,
               bool (*resolve)(void *ctx, const char *name, struct fref *f),
               void *ctx, char *msg, size_t msgsz)
{
	const char *s = text, *lit = text, *close;
	struct tmpl_part part;
	char name[MAX_NAME + 1];
	size_t n;

	memset(t, 0, sizeof(*t));
	if (strlen(text) > RULES_MAX_SUMMARY) {
		snprintf(msg, msgsz, "longer than %d bytes", RULES_MAX_SUMMARY);
		return -1;
	}
	while ((s = strstr(s, "${")) != NULL) {
		close = strchr(s + 2, '}');
		if (close == NULL) {
			snprintf(msg, msgsz, "unclosed ${ at offset %zu",
			         (size_t)(s - text));
			goto fail;
		}
		n = (size_t)(close - s - 2);
		if (n == 0 || n > MAX_NAME) {
			snprintf(msg, msgsz, "bad ${...} at offset %zu",
			         (size_t)(s - text));
			goto fail;
		}
		memcpy(name, s + 2, n);
		name[n] = '\0';
		if (s > lit) {
			memset(&part, 0, sizeof(part));
			part.kind = TP_TEXT;
			part.text = xstrndup(lit, (size_t)(s - lit));
			part.len = (size_t)(s - lit);
			add_part(t, &part);
		}
		memset(&part, 0, sizeof(part));
		part.kind = TP_FIELD;
		if (!resolve(ctx, name, &part.f)) {
			snprintf(msg, msgsz, "unknown field or capture ${%s}",
			         name);
			goto fail;
		}
		add_part(t, &part);
		s = lit = close + 1;
	}
	if (*lit != '\0') {
		memset(&part, 0, sizeof(part));
		part.kind = TP_TEXT;
		part.len = strlen(lit);
		part.text = xstrndup(lit, part.len);
		add_part(t, &part);
	}
	return 0;
fail:
	tmpl_free(t);
	return -1;
}

void tmpl_free(struct tmpl *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->parts[i].text);
	free(t->parts);
	memset(t, 0, sizeof(*t));
}

static size_t put(char *buf, size_t used, const char *p, size_t len)
{
	for (size_t i = 0; i < len && used < RULES_MAX_SUMMARY; i++) {
		unsigned char c = (unsigned char)p[i];

		buf[used++] = (char)((c < 0x20 || c == 0x7f) ? '?' : c);
	}
	return used;
}

const char *tmpl_render(struct rules *r, const struct tmpl *t, const char *key,
                        uint64_t count)
{
	struct bw_str vals[MAX_JOINED];
	char tb[64], num[24];
	char *buf = r->sumbuf;
	size_t used = 0, n;

	if (t->n == 0)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		const struct tmpl_part *p = &t->parts[i];

		if (p->kind == TP_TEXT) {
			used = put(buf, used, p->text, p->len);
			continue;
		}
		switch (p->f.fk) {
		case FK_KEY:
			used = put(buf, used, key, strlen(key));
			break;
		case FK_COUNT:
			snprintf(num, sizeof(num), "%" PRIu64, count);
			used = put(buf, used, num, strlen(num));
			break;
		default:
			n = cond_values(r, &p->f, vals, MAX_JOINED, tb,
			                sizeof(tb));
			for (size_t k = 0; k < n; k++) {
				if (k > 0)
					used = put(buf, used, ", ", 2);
				used = put(buf, used, vals[k].p, vals[k].len);
			}
			break;
		}
	}
	buf[used] = '\0';
	return buf;
}
