/*
 * source.c - one log input: line in, event out (see source.h).
 */
#include "source.h"

#include <string.h>

/* At most 10 warnings a second per input; the rest are counted. */
#define WARN_INTERVAL_US 1000000
#define WARN_BURST 10

int source_init(struct source *src, const char *type, const char *path,
		const config_setting_t *opts, struct bw_error *err)
{
	memset(src, 0, sizeof(*src));
	src->type = type;
	src->path = path;
	src->warn_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(
		WARN_INTERVAL_US, WARN_BURST);
	src->parser = parser_new(type, opts, err);
	return src->parser != NULL ? 0 : -1;
}

void source_fini(struct source *src)
{
	src->counts.ignored = parser_get_stats(src->parser)->ignored;
	if (src->warn_rl.suppressed > 0)
		log_warnx("%s: %llu more rejected lines not shown", src->path,
			  (unsigned long long)src->warn_rl.suppressed);
	parser_destroy(&src->parser);
}

int source_line(struct source *src, const struct lines_line *ln,
		struct bw_event *ev)
{
	struct bw_error e;
	int rc;

	src->counts.lines++;
	if (ln->truncated)
		src->counts.truncated++;
	/* parser_parse clears the event but for its reference and raw line.
	 * The reference is set before parsing: a parser that holds this line
	 * (continuation lines) copies it, and evidence names file:line. */
	ev->raw = BW_STR_NULL;
	memset(&ev->ref, 0, sizeof(ev->ref));
	ev->ref.file = src->path;
	ev->ref.offset = ln->offset;
	ev->ref.number = ln->lineno;
	rc = parser_parse(src->parser, ln->data, ln->len, ev, &e);
	if (rc < 0) {
		src->counts.rejected++;
		if (log_ratelimit_ok(&src->warn_rl))
			log_warnx("%s:%llu: %s line rejected: %s", src->path,
				  (unsigned long long)ln->lineno, src->type,
				  e.msg);
		return 0;
	}
	if (rc == 0)
		return 0; /* ignored, or held for continuation lines */
	/* A parser that completed an event from held lines set raw and the
	 * reference of the first of them; otherwise the event is this line. */
	if (ev->raw.p == NULL) {
		ev->raw.p = ln->data;
		ev->raw.len = (uint32_t)ln->len;
		ev->ref.offset = ln->offset;
		ev->ref.number = ln->lineno;
	}
	ev->ref.file = src->path;
	src->counts.events++;
	return 1;
}

int source_flush(struct source *src, struct bw_event *ev)
{
	if (parser_flush(src->parser, ev) != 1)
		return 0;
	ev->ref.file = src->path;
	src->counts.events++;
	return 1;
}
