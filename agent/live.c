/*
 * live.c - live mode: follow the configured inputs (see live.h).
 *
 * One poll loop over the follower's inotify fd and a signalfd, with a tick
 * every second: re-check files (rotation, copytruncate), hand over
 * statements a parser holds once its input has been idle, advance the
 * pipeline's clock once every input is read to its end, and every few
 * seconds save read positions.
 *
 * The clock is event time. While lines arrive, their own times move it.
 * When every input is idle, it runs on from the latest event time seen at
 * the wall clock's rate: a log whose stamps lag the wall clock (a backlog,
 * a host with a slow clock, a logger that writes late) keeps its windows,
 * and quiet incidents still close while nothing happens. When the loop ends (a signal
 * or an error), each input's counts are logged, as replay does.
 *
 * Containment actions (contain.h) run in the same loop: their pipes,
 * pidfds and libcurl's sockets are polled beside the inputs, and poll
 * wakes for their deadlines. At a stop, running actions may end before
 * the agent exits.
 *
 * With a notifier group in the config, every revision goes into the spool
 * before anything else (delivery.h) instead of stdout, and the sender's
 * fd and deadline join the loop. While the spool is full and the
 * revisions held in memory reach their bound, the inputs are not read;
 * while any revision is held, read positions are not saved, so that after
 * a crash the lines behind the held revisions are read again.
 *
 * Network inputs (`pcap`, live_net.h) are read in the same loop: one
 * descriptor for all captures, their events fed like lines', their idle
 * flows ended by the idle clock, their flows ended at a stop.
 */
#include "live.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/bwtime.h"
#include "../common/log.h"
#include "../common/xmalloc.h"
#include "config.h"
#include "contain.h"
#include "live_delivery.h"
#include "live_net.h"
#include "output.h"
#include "pipeline.h"
#include "run_counter.h"
#include "source.h"
#include "tail.h"

#define TICK_MS 1000
#define CHECKPOINT_EVERY_US (5 * 1000000LL)
/* A held multi-line statement is handed over after this much quiet. */
#define IDLE_FLUSH_US 1000000LL

struct live_input {
	struct source src;
	int64_t last_line_us; /* monotonic */
};

struct live {
	const char *config_path;
	const char *const *rule_paths;
	size_t n_rule_paths;
	struct agentconf *conf;
	struct pipeline *pipeline;
	struct contain *contain; /* runs the rules' containment actions */
	struct tail *tail;
	struct live_input *inputs;
	size_t n_inputs;
	struct bw_event ev;
	int64_t clock_us;   /* the latest event time seen; 0: none yet */
	int64_t clock_mono; /* monotonic time when it was seen */
	struct live_net *net; /* the pcap inputs */
	struct live_delivery *ld; /* NULL without a notifier group */
	struct delivery *delivery; /* ld's */
};

/* One event to the pipeline; it may move the clock (not for a lone
 * stamp far ahead: evclock.h). */
static void feed(struct live *lv)
{
	int64_t ts;

	pipeline_event(lv->pipeline, &lv->ev);
	ts = pipeline_clock(lv->pipeline, NULL);
	if (ts > lv->clock_us) {
		lv->clock_us = ts;
		lv->clock_mono = bw_mono_us();
	}
}

/* Event time now, while every input is idle (see the top of the file). */
static int64_t idle_clock(const struct live *lv, int64_t mono)
{
	if (lv->clock_us == 0)
		return bw_now_us();
	return lv->clock_us + (mono - lv->clock_mono);
}

static void on_revision(const struct bw_incident *inc, void *arg)
{
	struct live *lv = arg;

	if (lv->delivery != NULL) {
		delivery_put(lv->delivery, inc);
		return;
	}
	output_incident(stdout, inc, OUTPUT_JSON);
	fflush(stdout);
}

/* An event of a network input. */
static void on_net_event(void *arg, const struct bw_event *ev)
{
	struct live *lv = arg;

	lv->ev = *ev;
	feed(lv);
}

static void on_line(void *arg, size_t idx, const struct lines_line *ln)
{
	struct live *lv = arg;
	struct live_input *in = &lv->inputs[idx];

	in->last_line_us = bw_mono_us();
	if (source_line(&in->src, ln, &lv->ev) == 1)
		feed(lv);
}

static void on_notice(void *arg, size_t idx, const char *path,
		      enum tail_notice kind, int errnum)
{
	(void)arg;
	(void)idx;
	if (path == NULL)
		path = "all inputs";
	if (errnum != 0)
		log_warnx("%s: %s: %s", path, tail_notice_str(kind),
			  strerror(errnum));
	else if (kind == TAIL_NOTICE_MISSING || kind == TAIL_NOTICE_OVERFLOW ||
		 kind == TAIL_NOTICE_NOT_REGULAR)
		log_warnx("%s: %s", path, tail_notice_str(kind));
	else
		log_info("%s: %s", path, tail_notice_str(kind));
}

/* Hand over statements held by parsers of inputs idle for a while. */
static void flush_idle(struct live *lv, int64_t mono)
{
	for (size_t i = 0; i < lv->n_inputs; i++) {
		struct live_input *in = &lv->inputs[i];

		if (mono - in->last_line_us < IDLE_FLUSH_US)
			continue;
		if (source_flush(&in->src, &lv->ev) == 1)
			feed(lv);
	}
}

static void reload(struct live *lv)
{
	struct agentconf *conf;
	struct bw_error err;
	char msg[1024];

	conf = agentconf_load(lv->config_path, &err);
	if (conf == NULL) {
		log_warnx("reload: %s; keeping the running rules",
			  bw_error_str(&err, msg, sizeof(msg)));
		return;
	}
	if (pipeline_reload(lv->pipeline, conf, lv->rule_paths,
			    lv->n_rule_paths, &err) < 0) {
		log_warnx("reload: %s; keeping the running rules",
			  bw_error_str(&err, msg, sizeof(msg)));
		agentconf_destroy(&conf);
		return;
	}
	contain_set_actions(lv->contain, &conf->actions);
	/* Inputs are not re-read: their options stay those of the start. */
	log_info("reload: %zu rules", pipeline_rule_count(lv->pipeline));
	agentconf_destroy(&conf);
}

static int setup_inputs(struct live *lv, struct bw_error *err)
{
	const struct agentconf *c = lv->conf;
	struct tail_options topt = TAIL_OPTIONS_DEFAULT;
	char *checkpoint = xasprintf("%s/positions", c->state_dir);
	int rc = -1;

	if (mkdir(c->state_dir, 0750) < 0 && errno != EEXIST) {
		bw_error_set(err, c->state_dir, 0, "%s", strerror(errno));
		goto out;
	}
	topt.max_line = c->max_line;
	topt.checkpoint = checkpoint;
	topt.on_line = on_line;
	topt.on_notice = on_notice;
	lv->tail = tail_new(&topt, err);
	if (lv->tail == NULL)
		goto out;
	lv->inputs = xcalloc(c->n_inputs, sizeof(*lv->inputs));
	for (size_t i = 0; i < c->n_inputs; i++) {
		const struct agentconf_input *ci = &c->inputs[i];

		if (live_net_is_input(ci))
			continue; /* below */
		if (source_init(&lv->inputs[lv->n_inputs].src, ci->type,
				ci->path, ci->opts, err) < 0)
			goto out;
		lv->n_inputs++;
		if (tail_add(lv->tail, ci->path,
			     ci->start_at_end ? TAIL_START_END
					      : TAIL_START_BEGINNING,
			     lv, err) < 0)
			goto out;
	}
	lv->net = live_net_open(c, err);
	if (lv->net == NULL)
		goto out;
	rc = 0;
out:
	free(checkpoint);
	return rc;
}

/* The spool and the sender. On failure *status is 2 for a bad key file, 1
 * for the rest (the spool locked by another agent, say). */
static int setup_delivery(struct live *lv, int *status, struct bw_error *err)
{
	const struct agentconf_notifier *n = &lv->conf->notifier;
	struct delivery_stats ds;
	bool bad_config;

	lv->ld = live_delivery_new(lv->conf, &bad_config, err);
	if (lv->ld == NULL) {
		*status = bad_config ? 2 : 1;
		return -1;
	}
	lv->delivery = live_delivery_get(lv->ld);
	delivery_get_stats(lv->delivery, &ds);
	log_info("delivering incidents to %s; spool %s: %llu revisions "
		 "pending", n->endpoint, n->spool_dir,
		 (unsigned long long)ds.spool.pending);
	if (ds.spool.quarantined > 0 || ds.spool.tmp_removed > 0)
		log_warnx("spool %s: %llu files moved to the quarantine, %llu "
			  "unfinished writes removed", n->spool_dir,
			  (unsigned long long)ds.spool.quarantined,
			  (unsigned long long)ds.spool.tmp_removed);
	return 0;
}

/* What each input gave since the start, the way replay sums up. Call after
 * source_fini (which takes the parser's count of ignored lines). */
static void log_summary(const struct live *lv)
{
	for (size_t i = 0; i < lv->n_inputs; i++) {
		const struct source *src = &lv->inputs[i].src;
		struct tail_stats ts;

		tail_stats(lv->tail, i, &ts);
		log_info("%s:%s: %llu lines, %llu events, %llu ignored, "
			 "%llu rejected, %llu cut; %llu rotations, "
			 "%llu truncations",
			 src->type, src->path,
			 (unsigned long long)src->counts.lines,
			 (unsigned long long)src->counts.events,
			 (unsigned long long)src->counts.ignored,
			 (unsigned long long)src->counts.rejected,
			 (unsigned long long)src->counts.truncated,
			 (unsigned long long)ts.rotations,
			 (unsigned long long)ts.truncations);
	}
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		fatal("sigprocmask");
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Returns 1 to stop, 0 to go on. */
static int handle_signals(struct live *lv, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(lv);
			continue;
		}
		log_info("signal %u: stopping", si.ssi_signo);
		return 1;
	}
	return 0;
}

static void checkpoint(struct live *lv)
{
	struct bw_error err;
	struct delivery_stats ds;
	char msg[1024];

	if (lv->delivery != NULL) {
		delivery_get_stats(lv->delivery, &ds);
		if (ds.held_now > 0)
			return; /* see the top of the file */
	}
	if (tail_checkpoint(lv->tail, &err) < 0)
		log_warnx("%s", bw_error_str(&err, msg, sizeof(msg)));
}

/* How long poll may wait: at most max_ms, less when containment or the
 * delivery has something due sooner. */
static int wait_ms(const struct live *lv, int max_ms)
{
	int64_t due = contain_deadline(lv->contain), now = bw_mono_us();

	if (lv->delivery != NULL) {
		int64_t d = delivery_next_deadline(lv->delivery, now);

		if (d < due)
			due = d;
	}

	if (due <= now)
		return 0;
	if (due - now >= (int64_t)max_ms * 1000)
		return max_ms;
	return (int)((due - now + 999) / 1000);
}

/* pfd[0] and pfd[1] as given, pfd[2] the delivery's (-1 without one),
 * then containment's descriptors; *pfd grows as needed. Returns the
 * number of entries. */
#define PFD_FIXED 4
static size_t build_pollfds(const struct live *lv, struct pollfd **pfd,
			    size_t *cap, int fd0, int fd1)
{
	size_t want = PFD_FIXED + contain_npollfds(lv->contain);
	int dfd = lv->delivery != NULL ? delivery_fd(lv->delivery) : -1;

	if (want > *cap) {
		*cap = want;
		*pfd = xreallocarray(*pfd, *cap, sizeof(**pfd));
	}
	(*pfd)[0] = (struct pollfd){ .fd = fd0, .events = POLLIN };
	(*pfd)[1] = (struct pollfd){ .fd = fd1, .events = POLLIN };
	(*pfd)[2] = (struct pollfd){ .fd = dfd, .events = POLLIN };
	(*pfd)[3] = (struct pollfd){ .fd = fd0 >= 0 && lv->net != NULL
						  ? live_net_fd(lv->net)
						  : -1,
				     .events = POLLIN };
	return PFD_FIXED + contain_pollfds(lv->contain, *pfd + PFD_FIXED,
					   want - PFD_FIXED);
}

/* Run the delivery when its fd is readable (revents) or its deadline has
 * come. Returns -1 with err when its sockets failed. */
static int service_delivery(struct live *lv, short revents,
			    struct bw_error *err)
{
	int64_t now;

	if (lv->delivery == NULL)
		return 0;
	now = bw_mono_us();
	if (!(revents & POLLIN) &&
	    delivery_next_deadline(lv->delivery, now) > now)
		return 0;
	return delivery_process(lv->delivery, now, err);
}

/* Whether the inputs are to stay unread (delivery.h). */
static bool paused(struct live *lv)
{
	return lv->ld != NULL && live_delivery_paused(lv->ld);
}

static int loop(struct live *lv, int sfd)
{
	struct pollfd *pfd = NULL;
	size_t cap = 0, n;
	int64_t next_tick = 0, next_checkpoint = 0;
	struct bw_error err;
	char msg[1024];
	int more = 1, status = 1;
	bool clock_due = false;

	for (;;) {
		int64_t mono;
		int rc;

		bool stopped = paused(lv);

		n = build_pollfds(lv, &pfd, &cap,
				  stopped ? -1 : tail_fd(lv->tail), sfd);
		rc = poll(pfd, n, more && !stopped ? 0 : wait_ms(lv, TICK_MS));
		if (rc < 0 && errno != EINTR) {
			log_warn("poll");
			goto out;
		}
		if (pfd[1].revents & POLLIN && handle_signals(lv, sfd)) {
			status = 0;
			goto out;
		}
		/* Before new lines: a finished step goes out at once. */
		contain_process(lv->contain, pfd + PFD_FIXED, n - PFD_FIXED);
		if (service_delivery(lv, pfd[2].revents, &err) < 0)
			goto fail;
		mono = bw_mono_us();
		if (paused(lv)) {
			/* Nothing read, no idle clock: no new revisions. */
			if (mono >= next_checkpoint) {
				checkpoint(lv);
				next_checkpoint = mono + CHECKPOINT_EVERY_US;
			}
			continue;
		}
		more = tail_process(lv->tail, &err);
		if (more < 0)
			goto fail;
		if (live_net_process(lv->net, on_net_event, lv))
			more = 1;
		/* What those lines made goes out now. */
		if (service_delivery(lv, 0, &err) < 0)
			goto fail;
		mono = bw_mono_us();
		if (mono >= next_tick) {
			int polled = tail_poll(lv->tail, &err);

			if (polled < 0)
				goto fail;
			more |= polled;
			flush_idle(lv, mono);
			clock_due = true;
			next_tick = mono + TICK_MS * 1000LL;
		}
		/* The idle clock closes quiet incidents and expires windows,
		 * so it moves the pipeline on only when every input is read to
		 * its end; meanwhile the events' own times move it. */
		if (clock_due && !more) {
			live_net_tick(lv->net, idle_clock(lv, mono), on_net_event,
				      lv);
			pipeline_tick(lv->pipeline, idle_clock(lv, mono));
			clock_due = false;
		}
		if (mono >= next_checkpoint) {
			checkpoint(lv);
			next_checkpoint = mono + CHECKPOINT_EVERY_US;
		}
	}
fail:
	log_warnx("%s", bw_error_str(&err, msg, sizeof(msg)));
out:
	free(pfd);
	return status;
}

/*
 * One round of the waits at a stop: poll containment, the delivery and the
 * signals for at most max_ms (the tail's descriptor is not read: -1 is
 * skipped), and serve them. Returns 1 when a signal says to stop waiting
 * or something failed (logged), 0 to go on.
 */
static int stop_round(struct live *lv, int sfd, struct pollfd **pfd,
		      size_t *cap, int max_ms)
{
	struct bw_error err;
	char msg[1024];
	int ms = wait_ms(lv, TICK_MS);
	size_t n = build_pollfds(lv, pfd, cap, -1, sfd);

	if (poll(*pfd, n, ms < max_ms ? ms : max_ms) < 0 && errno != EINTR) {
		log_warn("poll");
		return 1;
	}
	if ((*pfd)[1].revents & POLLIN && handle_signals(lv, sfd))
		return 1;
	contain_process(lv->contain, *pfd + PFD_FIXED, n - PFD_FIXED);
	if (service_delivery(lv, (*pfd)[2].revents, &err) < 0) {
		log_warnx("%s", bw_error_str(&err, msg, sizeof(msg)));
		return 1;
	}
	return 0;
}

/*
 * At a stop: queued containment runs are cancelled, running ones may end
 * (each is bounded by its action's timeout) so that their incidents get
 * their last revision with the outcome. A second SIGTERM or SIGINT cuts
 * the wait short: contain_destroy then kills what still runs.
 */
static void drain_containment(struct live *lv, int sfd)
{
	struct contain_stats cs;
	struct pollfd *pfd = NULL;
	size_t cap = 0;

	contain_cancel_queued(lv->contain,
			      "the agent stopped before the action started");
	contain_get_stats(lv->contain, &cs);
	if (cs.running > 0)
		log_info("waiting for %llu containment runs to end",
			 (unsigned long long)cs.running);
	while (contain_busy(lv->contain)) {
		if (stop_round(lv, sfd, &pfd, &cap, TICK_MS)) {
			log_info("stopping now: containment runs still going "
				 "are killed");
			break;
		}
	}
	free(pfd);
}

/*
 * At a stop, after the last revisions: while connected, the sender gets up
 * to STOP_WAIT_US to have what the spool holds acknowledged (else it goes
 * at the next start), and revisions held in memory (the spool was full)
 * to be spooled; those still held then are lost (live_delivery_summary
 * names them), and the read positions are not saved, so their lines are
 * read again at the next start. A second SIGTERM or SIGINT cuts the wait
 * short.
 */
#define STOP_WAIT_US (10 * 1000000LL)
static bool stop_waits(const struct live *lv)
{
	struct delivery_stats ds;

	delivery_get_stats(lv->delivery, &ds);
	if (ds.held_now > 0)
		return true; /* the notifier may be back in time */
	return ds.sender.connected && ds.spool.pending > 0;
}

static void drain_delivery(struct live *lv, int sfd)
{
	struct delivery_stats ds;
	struct pollfd *pfd = NULL;
	size_t cap = 0;
	int64_t end = bw_mono_us() + STOP_WAIT_US;

	if (lv->delivery == NULL || !stop_waits(lv))
		return;
	delivery_get_stats(lv->delivery, &ds);
	log_info("waiting up to %lld s for the notifier: %llu revisions in "
		 "the spool, %llu held in memory",
		 (long long)(STOP_WAIT_US / 1000000),
		 (unsigned long long)ds.spool.pending,
		 (unsigned long long)ds.held_now);
	while (stop_waits(lv) && bw_mono_us() < end) {
		int left = (int)((end - bw_mono_us()) / 1000 + 1);

		if (stop_round(lv, sfd, &pfd, &cap, left))
			break;
	}
	free(pfd);
}

/* This run's number (run_counter.h), before any revision: the aggregator
 * numbers its revisions in the run's own block (aggregate.h). */
static int start_run(struct live *lv, struct bw_error *err)
{
	uint32_t run;
	int rc = run_counter_next(lv->conf->state_dir, AGG_MAX_RUN, &run, err);

	if (rc < 0)
		return -1;
	if (rc == 1)
		log_warnx("run %" PRIu32 " again: the last with revision numbers "
			  "of its own; incidents rebuilt after a restart may "
			  "be rejected as conflicts", run);
	agg_set_run(pipeline_agg(lv->pipeline), run);
	log_info("run %" PRIu32 ": revisions numbered from %" PRIu32, run,
		 run * AGG_RUN_REVISIONS + 1);
	return 0;
}

int live_run(const char *config_path, const char *const *rule_paths,
	     size_t n_rule_paths)
{
	struct live lv = { .config_path = config_path,
			   .rule_paths = rule_paths,
			   .n_rule_paths = n_rule_paths };
	struct bw_error err;
	char msg[1024];
	int sfd, status = 2;
	bool ran = false;

	/* Block the signals before the slow start (rules compile): a reload
	 * or a stop asked for meanwhile waits for the loop, instead of SIGHUP
	 * killing the agent (its default action, and a clean exit to systemd,
	 * which would not restart it). */
	sfd = signal_fd();
	if (sfd < 0)
		fatal("signalfd");
	lv.conf = agentconf_load(config_path, &err);
	if (lv.conf == NULL)
		goto fail;
	lv.pipeline = pipeline_new(lv.conf, rule_paths, n_rule_paths,
				   on_revision, &lv, &err);
	if (lv.pipeline == NULL)
		goto fail;
	lv.contain = contain_new(&lv.conf->actions, pipeline_agg(lv.pipeline));
	if (lv.conf->n_inputs == 0) {
		bw_error_set(&err, config_path, 0, "no inputs to follow");
		goto fail;
	}
	if (setup_inputs(&lv, &err) < 0 || start_run(&lv, &err) < 0)
		goto fail;
	if (lv.conf->has_notifier && setup_delivery(&lv, &status, &err) < 0)
		goto fail;
	log_info("following %zu inputs with %zu rules as %s", lv.n_inputs,
		 pipeline_rule_count(lv.pipeline), lv.conf->name);

	status = loop(&lv, sfd);
	ran = true;

	/* Statements still held, flows still open, then every incident's
	 * last revision. */
	for (size_t i = 0; i < lv.n_inputs; i++)
		if (source_flush(&lv.inputs[i].src, &lv.ev) == 1)
			feed(&lv);
	live_net_finish(lv.net, on_net_event, &lv);
	pipeline_flush(lv.pipeline);
	drain_containment(&lv, sfd);
	drain_delivery(&lv, sfd);
	checkpoint(&lv);
	goto out;
fail:
	log_warnx("%s", bw_error_str(&err, msg, sizeof(msg)));
out:
	for (size_t i = 0; i < lv.n_inputs; i++)
		source_fini(&lv.inputs[i].src);
	if (ran)
		log_summary(&lv);
	if (ran && lv.ld != NULL)
		live_delivery_summary(lv.ld);
	free(lv.inputs);
	if (ran && lv.net != NULL)
		live_net_log_summary(lv.net);
	live_net_destroy(&lv.net);
	tail_destroy(&lv.tail);
	contain_destroy(&lv.contain); /* before the aggregator it reports to */
	pipeline_destroy(&lv.pipeline); /* may emit nothing more */
	live_delivery_destroy(&lv.ld);
	agentconf_destroy(&lv.conf);
	close(sfd);
	return status;
}
