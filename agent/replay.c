/*
 * replay.c - recorded logs through the pipeline in event-time order.
 *
 * Each input is read with a pull reader (lines.h), so that one input's
 * pending event stays valid while the others advance: the merge takes the
 * input whose pending event is oldest. A `pcap` input is a network source
 * (netsrc.h) pulled the same way; a capture that ends mid-record is
 * reported and counted, and its events so far stay fed.
 */
#include "replay.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/log.h"
#include "../common/xmalloc.h"
#include "netsrc.h"

struct input_state {
	struct replay_input *in;
	struct lines_reader rd;
	bool opened;
	struct source src;
	struct netsrc *net; /* a pcap input */
	struct bw_event ev;
	bool have_ev;
};

/* The input's next event into st->ev. Returns 1, 0 at the end, -1 on a
 * read error (err filled). */
static int input_next(struct input_state *st, struct bw_error *err)
{
	struct lines_line ln;
	int rc;

	if (st->net != NULL) {
		struct bw_error e;
		char msg[1024];

		/* A capture cut mid-record: said once, counted in its
		 * summary; the flows it leaves open still end. */
		while ((rc = netsrc_next(st->net, &st->ev, &e)) < 0)
			log_warnx("%s; the rest of the file is not read",
				  bw_error_str(&e, msg, sizeof(msg)));
		if (rc == 1)
			st->in->counts.events++;
		return rc;
	}
	for (;;) {
		rc = lines_reader_next(&st->rd, &ln, err);
		if (rc < 0)
			return -1;
		if (rc == 0)
			return source_flush(&st->src, &st->ev);
		if (source_line(&st->src, &ln, &st->ev) == 1)
			return 1;
	}
}

static int input_open(const struct agentconf *conf, struct input_state *st,
		      struct bw_error *err)
{
	const struct agentconf_input *ci;
	struct stat sb;

	ci = agentconf_input_by_type(conf, st->in->type);
	if (strcmp(st->in->type, "pcap") == 0) {
		struct netsrc_options no;

		if (netsrc_config(ci ? ci->opts : NULL, NULL, &no, err) < 0)
			return -1;
		st->net = netsrc_open_file(st->in->path, &no, err);
		return st->net != NULL ? 0 : -1;
	}
	if (source_init(&st->src, st->in->type, st->in->path,
			ci ? ci->opts : NULL, err) < 0)
		return -1;
	if (lines_reader_open(&st->rd, st->in->path, conf->max_line, err) < 0)
		return -1;
	st->opened = true;
	/* Year-less stamps are read relative to the file's last write. */
	if (fstat(st->rd.fd, &sb) == 0)
		parser_set_reference_time(st->src.parser,
					  (int64_t)sb.st_mtim.tv_sec * 1000000 +
						  sb.st_mtim.tv_nsec / 1000);
	return 0;
}

int replay_run(const struct agentconf *conf, struct pipeline *p,
	       struct replay_input *inputs, size_t n, struct bw_error *err)
{
	return replay_run_service(conf, p, inputs, n, NULL, NULL, err);
}

int replay_run_service(const struct agentconf *conf, struct pipeline *p,
		       struct replay_input *inputs, size_t n,
		       replay_service_fn service, void *arg,
		       struct bw_error *err)
{
	struct input_state *st = xcalloc(n, sizeof(*st));
	size_t i;
	unsigned since = 0;
	int ret = -1, rc;

	for (i = 0; i < n; i++)
		st[i].in = &inputs[i];
	for (i = 0; i < n; i++)
		if (input_open(conf, &st[i], err) < 0)
			goto out;
	for (i = 0; i < n; i++) {
		rc = input_next(&st[i], err);
		if (rc < 0)
			goto flush;
		st[i].have_ev = rc == 1;
	}
	for (;;) {
		struct input_state *best = NULL;

		for (i = 0; i < n; i++)
			if (st[i].have_ev &&
			    (best == NULL || st[i].ev.ts_us < best->ev.ts_us))
				best = &st[i];
		if (best == NULL)
			break;
		pipeline_event(p, &best->ev);
		if (service != NULL && ++since == REPLAY_SERVICE_EVERY) {
			since = 0;
			service(arg);
		}
		rc = input_next(best, err);
		if (rc < 0)
			goto flush;
		best->have_ev = rc == 1;
	}
	ret = 0;
flush:
	pipeline_flush(p);
out:
	for (i = 0; i < n; i++) {
		if (st[i].net != NULL) {
			struct netsrc_stats ns;

			netsrc_get_stats(st[i].net, &ns);
			st[i].in->counts.lines = ns.capture.packets;
			st[i].in->counts.truncated = ns.capture.truncated;
			for (int r = 1; r < DR__COUNT; r++)
				if (decode_reason_is_drop((enum decode_reason)r))
					st[i].in->counts.rejected +=
						ns.decode.by_reason[r];
				else
					st[i].in->counts.ignored +=
						ns.decode.by_reason[r];
			netsrc_log_summary(st[i].net, st[i].in->path);
			netsrc_destroy(&st[i].net);
			continue;
		}
		if (st[i].opened)
			lines_reader_close(&st[i].rd);
		if (st[i].src.parser != NULL)
			source_fini(&st[i].src);
		st[i].in->counts = st[i].src.counts;
	}
	free(st);
	return ret;
}

int replay_parse_input(char *arg, struct replay_input *out)
{
	char *colon = strchr(arg, ':');

	if (colon == NULL || colon == arg)
		return -1;
	*colon = '\0';
	if (!parser_type_known(arg) && strcmp(arg, "pcap") != 0) {
		*colon = ':';
		return -1;
	}
	out->type = arg;
	out->path = colon + 1;
	memset(&out->counts, 0, sizeof(out->counts));
	return 0;
}
