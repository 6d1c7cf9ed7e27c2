/*
 * replay.c - recorded logs through the pipeline in event-time order.
 *
 * Each input is read with a pull reader (1 MB blocks, lines found with
 * memchr, pointers into the block), so that one input's current event stays
 * valid while the others advance: the merge takes the input whose pending
 * event is oldest. A single input skips the merge.
 */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xmalloc.h"
#include "parser.h"

#define BLOCK (1u << 20)

struct reader {
	const char *path;
	int fd;
	char *buf;
	size_t size;       /* allocated */
	size_t start, end; /* unread bytes are buf[start..end) */
	uint64_t offset;   /* file offset of buf[start] */
	uint64_t lineno;
	size_t max_line;
	bool eof;
	bool skipping; /* inside the rest of a cut line */
};

struct input_state {
	struct replay_input *in;
	struct reader rd;
	struct parser *parser;
	struct bw_event ev;
	bool have_ev;
	bool done;
	struct log_ratelimit warn_rl;
};

/* Fill the buffer; returns -1 on a read error. */
static int reader_fill(struct reader *rd)
{
	ssize_t n;

	if (rd->start > 0) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->start = 0;
	}
	do {
		n = read(rd->fd, rd->buf + rd->end, rd->size - rd->end);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (n == 0)
		rd->eof = true;
	rd->end += (size_t)n;
	return 0;
}

/*
 * Next line: returns 1 with *line/*len (no newline, no trailing CR), *off and
 * *cut set; 0 at the end of the file; -1 on a read error.
 */
static int reader_next(struct reader *rd, const char **line, size_t *len,
		       uint64_t *off, bool *cut)
{
	for (;;) {
		char *s = rd->buf + rd->start;
		size_t avail = rd->end - rd->start;
		char *nl = avail ? memchr(s, '\n', avail) : NULL;

		if (rd->skipping) {
			if (nl == NULL) {
				rd->offset += avail;
				rd->start = rd->end;
				if (rd->eof)
					return 0;
				if (reader_fill(rd) < 0)
					return -1;
				continue;
			}
			rd->skipping = false;
			rd->offset += (size_t)(nl - s) + 1;
			rd->start += (size_t)(nl - s) + 1;
			continue;
		}
		if (nl != NULL || (rd->eof && avail > 0) ||
		    avail >= rd->max_line) {
			size_t l = nl ? (size_t)(nl - s) : avail;

			*cut = false;
			if (l > rd->max_line) {
				l = rd->max_line;
				*cut = true;
			} else if (nl == NULL && !rd->eof) {
				*cut = true; /* avail >= max_line, no newline */
				l = rd->max_line;
			}
			*line = s;
			*off = rd->offset;
			rd->lineno++;
			if (*cut) {
				rd->skipping = true;
				rd->start += l;
				rd->offset += l;
			} else {
				size_t adv = nl ? l + 1 : l;

				rd->start += adv;
				rd->offset += adv;
			}
			if (l > 0 && s[l - 1] == '\r')
				l--;
			*len = l;
			return 1;
		}
		if (rd->eof)
			return 0;
		if (reader_fill(rd) < 0)
			return -1;
	}
}

static void warn_line(struct input_state *st, uint64_t lineno,
		      const struct bw_error *e)
{
	if (log_ratelimit_ok(&st->warn_rl))
		log_warnx("%s:%llu: %s line rejected: %s", st->in->path,
			  (unsigned long long)lineno, st->in->type, e->msg);
}

/* Produce the input's next event into st->ev. Returns 1, 0 at the end, or
 * -1 on a read error. */
static int input_next(struct input_state *st)
{
	struct replay_counts *c = &st->in->counts;
	struct bw_error e;
	const char *line;
	size_t len;
	uint64_t off;
	bool cut;
	int rc;

	for (;;) {
		rc = reader_next(&st->rd, &line, &len, &off, &cut);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			if (parser_flush(st->parser, &st->ev) == 1) {
				st->ev.ref.file = st->in->path;
				c->events++;
				return 1;
			}
			return 0;
		}
		c->lines++;
		if (cut)
			c->truncated++;
		bw_event_clear(&st->ev);
		rc = parser_parse(st->parser, line, len, &st->ev, &e);
		if (rc < 0) {
			c->rejected++;
			warn_line(st, st->rd.lineno, &e);
			continue;
		}
		if (rc == 0)
			continue;
		if (st->ev.raw.p == NULL) {
			st->ev.raw.p = line;
			st->ev.raw.len = (uint32_t)len;
			st->ev.ref.offset = off;
			st->ev.ref.number = st->rd.lineno;
		}
		st->ev.ref.file = st->in->path;
		c->events++;
		return 1;
	}
}

static int input_open(const struct agentconf *conf, struct input_state *st,
		      struct bw_error *err)
{
	const struct agentconf_input *ci;
	struct stat sb;

	ci = agentconf_input_by_type(conf, st->in->type);
	st->parser = parser_new(st->in->type, ci ? ci->opts : NULL, err);
	if (st->parser == NULL)
		return -1;
	st->rd.path = st->in->path;
	st->rd.fd = open(st->in->path, O_RDONLY | O_CLOEXEC);
	if (st->rd.fd < 0)
		return bw_error_set(err, st->in->path, 0, "%s",
				    strerror(errno));
	/* Year-less stamps are read relative to the file's last write. */
	if (fstat(st->rd.fd, &sb) == 0)
		parser_set_reference_time(st->parser,
					  (int64_t)sb.st_mtim.tv_sec * 1000000 +
						  sb.st_mtim.tv_nsec / 1000);
	st->rd.max_line = conf->max_line;
	st->rd.size = BLOCK > 2 * conf->max_line ? BLOCK : 2 * conf->max_line;
	st->rd.buf = xmalloc(st->rd.size);
	st->warn_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1000000, 10);
	return 0;
}

static void input_close(struct input_state *st)
{
	if (st->warn_rl.suppressed > 0)
		log_warnx("%s: %llu more rejected lines not shown",
			  st->in->path,
			  (unsigned long long)st->warn_rl.suppressed);
	if (st->rd.fd >= 0)
		close(st->rd.fd);
	free(st->rd.buf);
	parser_destroy(&st->parser);
}

int replay_run(const struct agentconf *conf, struct pipeline *p,
	       struct replay_input *inputs, size_t n, struct bw_error *err)
{
	struct input_state *st = xcalloc(n, sizeof(*st));
	size_t i;
	int ret = -1;

	for (i = 0; i < n; i++) {
		st[i].in = &inputs[i];
		st[i].rd.fd = -1;
	}
	for (i = 0; i < n; i++)
		if (input_open(conf, &st[i], err) < 0)
			goto out;
	for (i = 0; i < n; i++) {
		int rc = input_next(&st[i]);

		if (rc < 0)
			goto read_error;
		st[i].have_ev = rc == 1;
	}
	for (;;) {
		struct input_state *best = NULL;
		int rc;

		for (i = 0; i < n; i++)
			if (st[i].have_ev &&
			    (best == NULL || st[i].ev.ts_us < best->ev.ts_us))
				best = &st[i];
		if (best == NULL)
			break;
		pipeline_event(p, &best->ev);
		rc = input_next(best);
		if (rc < 0) {
			i = (size_t)(best - st);
			goto read_error;
		}
		best->have_ev = rc == 1;
	}
	pipeline_flush(p);
	ret = 0;
	goto out;
read_error:
	bw_error_set(err, st[i].in->path, 0, "read: %s", strerror(errno));
	pipeline_flush(p);
out:
	for (i = 0; i < n; i++)
		input_close(&st[i]);
	free(st);
	return ret;
}

int replay_parse_input(char *arg, struct replay_input *out)
{
	char *colon = strchr(arg, ':');

	if (colon == NULL || colon == arg)
		return -1;
	*colon = '\0';
	if (!parser_type_known(arg)) {
		*colon = ':';
		return -1;
	}
	out->type = arg;
	out->path = colon + 1;
	memset(&out->counts, 0, sizeof(out->counts));
	return 0;
}
