/*
 * main.c - breachwatch-notifier: receive incident revisions from the
 * agents, keep the breach record, answer the operators' CLI.
 *
 *   breachwatch-notifier [--config FILE] [-v]
 *   breachwatch-notifier --check-config FILE
 *
 * The security story, top to bottom (run()):
 *   1. signals are blocked and read from a signalfd: no handler runs in
 *      the middle of a store write;
 *   2. the config is loaded and checked (every key, file:line);
 *   3. the notifier's CURVE key pair is loaded (a secret key file others
 *      may read is refused);
 *   4. the ZAP handler is bound with the authorised-agents file before any
 *      socket listens: no peer completes a handshake without it;
 *   5. the store is opened (one owner: a second notifier is refused);
 *   6. the e-mails: the templates (checked whole), the customer
 *      directory, the mailer (SMTP through libcurl's multi interface in
 *      this loop, or .eml files) and the notification policy, which takes
 *      over from the store what a stopped notifier left undone;
 *   7. the ROUTER binds: CURVE server, only authorised agents get through,
 *      every message carries the agent's name from ZAP;
 *   8. the control socket is made with mode 0600/0660 from the start: its
 *      file permissions say who may act, and the kernel says who did;
 *   9. one zmq_poll loop over the ROUTER, its monitor, ZAP, the signalfd,
 *      the control socket's clients and curl's sockets until SIGTERM or
 *      SIGINT. An incident is acknowledged once stored; its e-mails are
 *      made and sent later in the loop, in bounded steps, so mail never
 *      holds up an acknowledgement.
 * The unit (systemd/breachwatch-notifier.service) runs it as an
 * unprivileged user with no capabilities.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "../common/bwtime.h"
#include "../common/keys.h"
#include "../common/log.h"
#include "../common/xmalloc.h"
#include "config.h"
#include "control.h"
#include "control_cmd.h"
#include "curlloop.h"
#include "directory.h"
#include "inbox.h"
#include "mailer.h"
#include "notify.h"
#include "render.h"
#include "store.h"
#include "zap.h"

#ifndef BW_VERSION
#define BW_VERSION "unknown"
#endif

/* Fixed poll items before the control socket's. */
enum { IT_ROUTER, IT_MONITOR, IT_ZAP, IT_SIGNALS, IT_CONTROL };

struct options {
	const char *config;
	const char *check; /* --check-config FILE */
	bool verbose;
};

struct notifier {
	struct notifconf *conf;
	struct bw_keypair keys;
	void *zctx;
	struct zap *zap;
	struct store *store;
	struct inbox *inbox;
	struct control *control;
	struct control_cmd_ctx cmd;
	struct render *render;
	struct curlloop *loop;
	struct directory *dir;
	struct mailer *mailer;
	struct notify *notify;
	int sigfd;
	bool stop;
	/* repeated warnings: one per kind, at most 10 per minute each */
	struct log_ratelimit rl_bad, rl_unauth, rl_store, rl_send;
	struct log_ratelimit rl_retry, rl_mail_err, rl_notify_err;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: breachwatch-notifier [--config FILE] [-v]\n"
		"       breachwatch-notifier --check-config FILE\n"
		"\n"
		"Receives incident revisions from breachwatch agents (ZeroMQ, CURVE,\n"
		"authorised agents only), commits each to the breach record (SQLite)\n"
		"before acknowledging it, and answers the breachwatch CLI on a local\n"
		"control socket.\n"
		"\n"
		"  -c, --config FILE        configuration (default "
		NOTIFCONF_DEFAULT_PATH ")\n"
		"      --check-config FILE  check the configuration and the files it\n"
		"                           names (key pair, authorised agents, the\n"
		"                           control socket's group), report the first\n"
		"                           error as file:line: reason, and exit\n"
		"  -v, --verbose            log at debug level\n"
		"  -h, --help               this text\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop cleanly, SIGHUP re-reads the\n"
		"authorised-agents file, the customer directory and the\n"
		"templates, SIGUSR1 logs the counters.\n"
		"Exit status: 0 success, 1 runtime error, 2 bad usage or configuration.\n"
		"See docs/notifier.md.\n");
}

static void parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CHECK = 256 };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, OPT_CHECK },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case OPT_CHECK:
			o->check = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		log_warnx("unexpected argument \"%s\"", argv[optind]);
		usage(stderr);
		exit(2);
	}
}

static void log_error(const char *what, const struct bw_error *err)
{
	char buf[1024];

	log_warnx("%s%s%s", what, what[0] != '\0' ? ": " : "",
		  bw_error_str(err, buf, sizeof(buf)));
}

static int check_config(const char *path)
{
	struct bw_error err;
	struct notifconf *conf = notifconf_load(path, &err);

	if (conf == NULL || notifconf_check(conf, &err) < 0) {
		log_error("", &err);
		notifconf_destroy(&conf);
		return 2;
	}
	printf("%s: ok (%zu endpoint%s, store %s, control socket %s, mail %s%s, "
	       "directory %s)\n",
	       path, conf->n_listen, conf->n_listen == 1 ? "" : "s",
	       conf->store, conf->control_socket,
	       conf->mail_transport == NOTIFCONF_FILE ? "file:" : "",
	       conf->mail_transport == NOTIFCONF_FILE ? conf->mail_dir
						      : conf->mail_url,
	       directory_kind_name(conf->dir_kind));
	notifconf_destroy(&conf);
	return 0;
}

/*
 * What the parts report, logged here and only here.
 */

static void on_inbox_event(const struct inbox_event *ev, void *arg)
{
	struct notifier *n = arg;
	const char *id = ev->id != NULL ? ev->id : "-";

	switch (ev->kind) {
	case INBOX_EV_STORED:
		log_info("stored incident %s revision %" PRIu32 " from %s",
			 id, ev->revision, ev->agent);
		if (n->notify != NULL && ev->id != NULL)
			notify_revision(n->notify, ev->id, bw_now_us());
		break;
	case INBOX_EV_DUPLICATE:
		log_debug("incident %s revision %" PRIu32 " from %s: stored "
			  "before, acknowledged again",
			  id, ev->revision, ev->agent);
		break;
	case INBOX_EV_REJECTED:
		log_warnx("rejected incident %.200s revision %" PRIu32
			  " from %s (%s): %s: %s",
			  id, ev->revision, ev->agent, ev->address,
			  bw_wire_status_name(ev->code), ev->text);
		break;
	case INBOX_EV_BAD:
		if (log_ratelimit_ok(&n->rl_bad))
			log_warnx("dropped a message from %s (%s): %s",
				  ev->agent, ev->address, ev->text);
		break;
	case INBOX_EV_UNAUTHORISED:
		if (log_ratelimit_ok(&n->rl_unauth))
			log_warnx("dropped a message from \"%s\" (%s): %s",
				  ev->agent, ev->address, ev->text);
		break;
	case INBOX_EV_STORE_FAILED:
		if (log_ratelimit_ok(&n->rl_store))
			log_warnx("could not store incident %.200s revision %"
				  PRIu32 " from %s, not acknowledged (the "
				  "agent sends it again): %s",
				  id, ev->revision, ev->agent, ev->text);
		break;
	case INBOX_EV_SEND_FAILED:
		if (log_ratelimit_ok(&n->rl_send))
			log_warnx("to %s (%s): %s", ev->agent, ev->address,
				  ev->text);
		break;
	}
}

static void on_mail_event(const struct mailer_event *ev, void *arg)
{
	struct notifier *n = arg;
	const char *kind = outbox_kind_name(ev->msg_kind);
	const char *cust = ev->customer_id != NULL ? ev->customer_id : "";
	char when[40];

	switch (ev->kind) {
	case MAILER_EV_SENT:
		if (ev->msg_kind == OUTBOX_CUSTOMER)
			log_debug("incident %s: %s %s sent to %s: %s",
				  ev->incident_id, kind, cust, ev->recipient,
				  ev->text);
		else
			log_info("incident %s: %s sent to %s: %s",
				 ev->incident_id, kind, ev->recipient, ev->text);
		break;
	case MAILER_EV_RETRY:
		if (log_ratelimit_ok(&n->rl_retry))
			log_info("incident %s: %s %s to %s not sent (attempt %"
				 PRIu32 "): %s; again at %s",
				 ev->incident_id, kind, cust, ev->recipient,
				 ev->attempts, ev->text,
				 bw_time_format(ev->next_attempt_us, when,
						sizeof(when)));
		break;
	case MAILER_EV_FAILED:
		log_warnx("incident %s: %s %s to %s FAILED: %s",
			  ev->incident_id, kind, cust, ev->recipient, ev->text);
		break;
	case MAILER_EV_AMBIGUOUS:
		log_warnx("incident %s: %s %s to %s AMBIGUOUS (may have been "
			  "delivered; not sent again by itself): %s",
			  ev->incident_id, kind, cust, ev->recipient, ev->text);
		break;
	case MAILER_EV_ERROR:
		if (log_ratelimit_ok(&n->rl_mail_err))
			log_warnx("mailer: %s", ev->text);
		break;
	}
	if (ev->kind != MAILER_EV_ERROR && n->notify != NULL)
		notify_touch(n->notify, ev->incident_id, bw_now_us());
}

static void on_notify_event(const struct notify_event *ev, void *arg)
{
	struct notifier *n = arg;

	switch (ev->kind) {
	case NOTIFY_EV_TEAM:
		log_info("incident %s: %s to the team (%zu address%s): %s",
			 ev->incident_id, outbox_kind_name(ev->msg_kind),
			 n->conf->n_team, n->conf->n_team == 1 ? "" : "es",
			 ev->text);
		break;
	case NOTIFY_EV_NOTICES:
		log_info("incident %s: customer notices%s rendered: %" PRIu64
			 " to send, %" PRIu64 " held, %" PRIu64
			 " unresolved (%" PRIu64 " to the alternate contact)",
			 ev->incident_id,
			 strcmp(ev->text, "update") == 0 ? " (update)" : "",
			 ev->pending, ev->held, ev->unresolved, ev->alternate);
		break;
	case NOTIFY_EV_NOTIFIED:
		log_info("incident %s: notified: %s", ev->incident_id,
			 ev->text);
		break;
	case NOTIFY_EV_ERROR:
		if (log_ratelimit_ok(&n->rl_notify_err))
			log_warnx("incident %s: notifications: %s (tried again "
				  "later)",
				  ev->incident_id, ev->text);
		break;
	}
}

static void on_directory_ready(void *arg)
{
	struct notifier *n = arg;

	if (n->notify != NULL)
		notify_directory_ready(n->notify);
}

static void on_action(const char *operator_name, const char *cmd,
		      const char *id, bool ok, const char *text, void *arg)
{
	if (ok)
		log_info("operator %s: %s %s", operator_name, cmd,
			 id != NULL ? id : "");
	else
		log_warnx("operator %s: %s %s refused: %s", operator_name, cmd,
			  id != NULL ? id : "", text);
}

static void drain_zap_events(struct notifier *n)
{
	struct zap_event ev;

	while (zap_next_event(n->zap, &ev)) {
		if (ev.accepted)
			log_info("agent %s connected from %s", ev.agent,
				 ev.address);
		else
			log_warnx("refused a peer from %s (%s key %s): %s",
				  ev.address, ev.mechanism,
				  ev.key_z85[0] != '\0' ? ev.key_z85 : "-",
				  ev.reason);
	}
}

static void log_counters(struct notifier *n, const char *when)
{
	struct inbox_stats s;
	struct zap_stats z;
	struct control_stats c;

	inbox_get_stats(n->inbox, &s);
	zap_get_stats(n->zap, &z);
	control_get_stats(n->control, &c);
	log_info("counters (%s): inbox: %" PRIu64 " messages, %" PRIu64
		 " incident revisions: %" PRIu64 " stored, %" PRIu64
		 " duplicates, %" PRIu64 " acks, %" PRIu64 " rejected "
		 "(malformed %" PRIu64 ", mismatch %" PRIu64 ", host %" PRIu64
		 ", conflict %" PRIu64 ", limit %" PRIu64 "), %" PRIu64
		 " store failures; %" PRIu64 " bad, %" PRIu64 " unexpected, %"
		 PRIu64 " unauthorised, %" PRIu64 " send failures; heartbeats %"
		 PRIu64 " in, %" PRIu64 " out; connections %" PRIu64 " open, %"
		 PRIu64 " handshakes",
		 when, s.messages, s.incidents, s.stored, s.duplicates, s.acks,
		 s.rejected, s.rejected_by[BW_WIRE_REJ_MALFORMED],
		 s.rejected_by[BW_WIRE_REJ_MISMATCH],
		 s.rejected_by[BW_WIRE_REJ_HOST],
		 s.rejected_by[BW_WIRE_REJ_CONFLICT],
		 s.rejected_by[BW_WIRE_REJ_LIMIT], s.store_failed, s.bad,
		 s.unexpected, s.unauthorised, s.send_failed, s.heartbeats_in,
		 s.heartbeats_out, s.connections, s.handshakes);
	log_info("counters (%s): auth: %" PRIu64 " accepted, %" PRIu64
		 " refused, %" PRIu64 " malformed, %" PRIu64 " reloads, %zu "
		 "agents authorised; control: %" PRIu64 " connections, %"
		 PRIu64 " requests, %" PRIu64 " bad, %" PRIu64 " too long, %"
		 PRIu64 " refused (busy), %" PRIu64 " idle closed",
		 when, z.accepted, z.refused, z.malformed, z.reloads, z.agents,
		 c.accepted, c.requests, c.bad_requests, c.too_long, c.refused,
		 c.idle_closed);
	if (n->mailer != NULL && n->notify != NULL && n->dir != NULL) {
		struct mailer_stats m;
		struct notify_stats t;
		struct directory_stats d;

		mailer_get_stats(n->mailer, &m);
		notify_get_stats(n->notify, &t);
		directory_get_stats(n->dir, &d);
		log_info("counters (%s): mail: %" PRIu64 " started, %" PRIu64
			 " sent, %" PRIu64 " retried, %" PRIu64 " failed, %"
			 PRIu64 " ambiguous, %zu in flight, %" PRIu64
			 " errors; notices: %" PRIu64 " made, %" PRIu64
			 " held, %" PRIu64 " unresolved, %" PRIu64
			 " to alternate contacts, %" PRIu64 " team messages, %"
			 PRIu64 " reminders, %" PRIu64 " problems told, %" PRIu64
			 " incidents notified; directory: %zu entries, %" PRIu64
			 " look-ups (%" PRIu64 " found, %" PRIu64
			 " not found, %" PRIu64 " refused, %" PRIu64
			 " failed)",
			 when, m.started, m.sent, m.retried, m.failed,
			 m.ambiguous, m.in_flight, m.errors, t.notices, t.held,
			 t.unresolved, t.alternate, t.team_messages,
			 t.reminders, t.problems_told, t.notified, d.entries,
			 d.lookups, d.found, d.not_found, d.refused_lookups,
			 d.failed);
	}
}

/*
 * Signals.
 */

static int signals_open(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		fatal("sigprocmask");
	/* a control client that hangs up must not kill us */
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* What the directory holds, and the first rows it refused. */
static void log_directory(struct notifier *n, const char *what)
{
	struct directory_stats d;
	const char *const *why;
	size_t k, total;

	directory_get_stats(n->dir, &d);
	if (n->conf->dir_kind == DIRECTORY_CSV)
		log_info("customer directory %s: %s, %zu customers", what,
			 n->conf->dir_path, d.entries);
	else if (n->conf->dir_kind == DIRECTORY_NONE)
		log_warnx("no customer directory is configured: every "
			  "affected customer is recorded as unresolved and "
			  "the team told");
	else
		log_info("customer directory %s: %s %s", what,
			 directory_kind_name(n->conf->dir_kind),
			 n->conf->dir_kind == DIRECTORY_HTTP ? n->conf->dir_url
							    : n->conf->dir_path);
	why = directory_refusals(n->dir, &k, &total);
	for (size_t i = 0; i < k; i++)
		log_warnx("customer directory: row refused: %s", why[i]);
	if (total > k)
		log_warnx("customer directory: %zu more rows refused",
			  total - k);
}

static void reload(struct notifier *n)
{
	struct bw_error err;
	struct zap_stats z;

	if (zap_reload(n->zap, &err) < 0)
		log_error("reload of the authorised agents failed, keeping "
			  "the agents authorised before",
			  &err);
	else {
		zap_get_stats(n->zap, &z);
		log_info("reloaded %s: %zu agents authorised",
			 n->conf->authorized_agents, z.agents);
	}
	if (directory_reload(n->dir, &err) < 0)
		log_error("reload of the customer directory failed, keeping "
			  "the one loaded before",
			  &err);
	else
		log_directory(n, "reloaded");
	if (render_reload(n->render, &err) < 0)
		log_error("reload of the templates failed, keeping the ones "
			  "read before",
			  &err);
}

static void handle_signals(struct notifier *n)
{
	struct signalfd_siginfo si;

	while (read(n->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			reload(n);
			break;
		case SIGUSR1:
			log_counters(n, "SIGUSR1");
			break;
		default:
			log_info("%s: stopping",
				 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			n->stop = true;
			break;
		}
	}
}

/*
 * The loop.
 */

/* Milliseconds from now (UTC us) to at, for zmq_poll: -1 for none. */
static long ms_until(int64_t at_us, int64_t now_us)
{
	if (at_us < 0)
		return -1;
	if (at_us <= now_us)
		return 0;
	if (at_us - now_us > 3600 * INT64_C(1000000))
		return 3600 * 1000L;
	return (long)((at_us - now_us + 999) / 1000);
}

static long shortest(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static int loop(struct notifier *n)
{
	size_t cap = 0;
	zmq_pollitem_t *items = NULL;
	bool more = false; /* the inbox had more than one batch waiting */
	bool busy = false; /* notifications had more to do at once */
	struct bw_error err;
	int rc = 0;

	while (!n->stop) {
		size_t nc, ncurl, need;
		long timeout;
		int64_t now = bw_now_us(), mono = bw_mono_us();
		int r;

		need = IT_CONTROL + control_max_items(n->control) +
		       curlloop_n_items(n->loop);
		if (need > cap) {
			cap = need + 16;
			items = xreallocarray(items, cap, sizeof(*items));
		}
		items[IT_ROUTER] = (zmq_pollitem_t){
			.socket = inbox_socket(n->inbox), .events = ZMQ_POLLIN };
		items[IT_MONITOR] = (zmq_pollitem_t){
			.socket = inbox_monitor(n->inbox), .events = ZMQ_POLLIN };
		items[IT_ZAP] = (zmq_pollitem_t){
			.socket = zap_socket(n->zap), .events = ZMQ_POLLIN };
		items[IT_SIGNALS] = (zmq_pollitem_t){
			.fd = n->sigfd, .events = ZMQ_POLLIN };
		nc = control_poll_items(n->control, items + IT_CONTROL);
		ncurl = curlloop_poll_items(n->loop, items + IT_CONTROL + nc);
		timeout = control_timeout_ms(n->control, mono);
		timeout = shortest(timeout, curlloop_timeout_ms(n->loop, mono));
		timeout = shortest(timeout,
				   ms_until(notify_next_us(n->notify), now));
		timeout = shortest(timeout,
				   ms_until(mailer_next_us(n->mailer), now));
		if (more || busy)
			timeout = 0;
		if (zmq_poll(items, (int)(IT_CONTROL + nc + ncurl), timeout) <
		    0) {
			if (errno == EINTR)
				continue;
			log_warnx("zmq_poll: %s", zmq_strerror(errno));
			rc = 1;
			break;
		}
		/* ZAP first: handshakes wait for its answers */
		if (items[IT_ZAP].revents & ZMQ_POLLIN) {
			if (zap_process(n->zap, &err) < 0) {
				log_error("ZAP handler", &err);
				rc = 1;
				break;
			}
		}
		drain_zap_events(n);
		if (more || (items[IT_ROUTER].revents & ZMQ_POLLIN) ||
		    (items[IT_MONITOR].revents & ZMQ_POLLIN)) {
			r = inbox_process(n->inbox, &err);
			if (r < 0) {
				log_error("", &err);
				rc = 1;
				break;
			}
			more = r > 0;
		}
		if (control_process(n->control, items + IT_CONTROL, nc,
				    bw_mono_us(), &err) < 0) {
			log_error("control socket", &err);
			rc = 1;
			break;
		}
		if (items[IT_SIGNALS].revents & ZMQ_POLLIN)
			handle_signals(n);
		/* mail: curl's sockets, then what the policy owes, then what
		 * is due to go; each a bounded step */
		if (curlloop_process(n->loop, items + IT_CONTROL + nc, ncurl,
				     bw_mono_us(), &err) < 0) {
			log_error("curl", &err);
			rc = 1;
			break;
		}
		busy = false;
		r = notify_process(n->notify, bw_now_us(), &err);
		if (r < 0 && log_ratelimit_ok(&n->rl_notify_err))
			log_error("notifications", &err);
		busy = r > 0;
		r = mailer_process(n->mailer, bw_now_us(), &err);
		if (r < 0 && log_ratelimit_ok(&n->rl_mail_err))
			log_error("mailer (tried again)", &err);
		busy = busy || r > 0;
	}
	free(items);
	return rc;
}

/* 6: the templates, the directory, the mailer and the policy. */
static int start_mail(struct notifier *n)
{
	const struct notifconf *c = n->conf;
	struct bw_error err;
	char *password = NULL;
	static const enum mailer_transport transports[] = {
		[NOTIFCONF_FILE] = MAILER_FILE,
		[NOTIFCONF_SMTP] = MAILER_SMTP,
		[NOTIFCONF_SMTPS] = MAILER_SMTPS,
	};
	struct render_params rp;
	struct directory_params dp;
	struct mailer_params mp = {
		.store = n->store,
		.transport = transports[c->mail_transport],
		.dir = c->mail_dir,
		.url = c->mail_url,
		.starttls = c->mail_starttls,
		.ca_file = c->mail_ca_file,
		.username = c->mail_username,
		.envelope_from = c->mail_from,
		.connections = c->mail_connections,
		.rate = c->mail_rate,
		.connect_timeout_us = c->mail_connect_timeout_us,
		.timeout_us = c->mail_timeout_us,
		.retry_min_us = c->mail_retry_min_us,
		.retry_max_us = c->mail_retry_max_us,
		.max_age_us = c->mail_max_age_us,
		.on_event = on_mail_event,
		.arg = n,
	};
	struct notify_params np = {
		.store = n->store,
		.conf = c,
		.on_event = on_notify_event,
		.arg = n,
	};
	int rc = -1;

	notifconf_render_params(c, &rp);
	notifconf_directory_params(c, &dp);
	dp.on_ready = on_directory_ready;
	dp.arg = n;
	n->render = render_new(&rp, &err);
	if (n->render == NULL) {
		log_error("templates", &err);
		return -1;
	}
	n->loop = curlloop_new(&err);
	if (n->loop == NULL) {
		log_error("", &err);
		return -1;
	}
	dp.loop = n->loop;
	n->dir = directory_new(&dp, &err);
	if (n->dir == NULL) {
		log_error("customer directory", &err);
		return -1;
	}
	log_directory(n, "loaded");
	if (notifconf_load_password(c, &password, &err) < 0) {
		log_error("", &err);
		return -1;
	}
	mp.loop = n->loop;
	mp.password = password;
	n->mailer = mailer_new(&mp, &err);
	if (password != NULL) {
		explicit_bzero(password, strlen(password));
		free(password);
	}
	if (n->mailer == NULL) {
		log_error("", &err);
		return -1;
	}
	np.dir = n->dir;
	np.render = n->render;
	np.mailer = n->mailer;
	n->notify = notify_new(&np, bw_now_us(), &err);
	if (n->notify == NULL) {
		log_error("notifications", &err);
		return -1;
	}
	if (c->mail_transport == NOTIFCONF_FILE)
		log_info("mail: written as .eml files to %s (transport file:, "
			 "nothing goes out by SMTP)",
			 c->mail_dir);
	else
		log_info("mail: %s%s, %zu connection%s, from %s, team %s%s",
			 c->mail_url,
			 c->mail_transport == NOTIFCONF_SMTP
				 ? (c->mail_starttls ? " (STARTTLS)"
						     : " (no TLS)")
				 : " (TLS)",
			 c->mail_connections,
			 c->mail_connections == 1 ? "" : "s", c->mail_from,
			 c->team[0], c->n_team > 1 ? ", ..." : "");
	rc = 0;
	return rc;
}

static int run(const struct options *o)
{
	struct notifier n = {
		.sigfd = -1,
		.rl_bad = LOG_RATELIMIT_INIT(60 * INT64_C(1000000), 10),
		.rl_unauth = LOG_RATELIMIT_INIT(60 * INT64_C(1000000), 10),
		.rl_store = LOG_RATELIMIT_INIT(60 * INT64_C(1000000), 10),
		.rl_send = LOG_RATELIMIT_INIT(60 * INT64_C(1000000), 10),
		.rl_retry = LOG_RATELIMIT_INIT(60 * INT64_C(1000000), 10),
		.rl_mail_err = LOG_RATELIMIT_INIT(60 * INT64_C(1000000), 10),
		.rl_notify_err = LOG_RATELIMIT_INIT(60 * INT64_C(1000000), 10),
	};
	const char *path = o->config != NULL ? o->config
					     : NOTIFCONF_DEFAULT_PATH;
	struct bw_error err;
	gid_t gid;
	int rc = 1;

	/* 1. signals */
	n.sigfd = signals_open();
	if (n.sigfd < 0)
		fatal("signalfd");

	/* 2. the config */
	n.conf = notifconf_load(path, &err);
	if (n.conf == NULL) {
		log_error("", &err);
		rc = 2;
		goto out;
	}
	log_set_level(o->verbose ? LOG_LVL_DEBUG : n.conf->log_level);

	/* 3. our key pair; the control socket's group */
	if (notifconf_load_keys(n.conf, &n.keys, &err) < 0 ||
	    notifconf_control_gid(n.conf, &gid, &err) < 0) {
		log_error("", &err);
		rc = 2;
		goto out;
	}

	/* 4. authentication before any socket listens */
	n.zctx = zmq_ctx_new();
	if (n.zctx == NULL) {
		log_warnx("zmq_ctx_new: %s", zmq_strerror(errno));
		goto out;
	}
	n.zap = zap_new(n.zctx, n.conf->authorized_agents, &err);
	if (n.zap == NULL) {
		log_error("", &err);
		rc = 2;
		goto out;
	}

	/* 5. the breach record */
	n.store = store_open(n.conf->store, &err);
	if (n.store == NULL) {
		log_error("store", &err);
		goto out;
	}

	/* 6. the e-mails */
	if (start_mail(&n) < 0) {
		rc = 2;
		goto out;
	}

	/* 7. the agents' door */
	{
		struct inbox_params ip = {
			.zctx = n.zctx,
			.zap = n.zap,
			.store = n.store,
			.keys = &n.keys,
			.endpoints = n.conf->listen,
			.n_endpoints = n.conf->n_listen,
			.heartbeat_us = n.conf->heartbeat_us,
			.heartbeat_timeout_us = n.conf->heartbeat_timeout_us,
			.max_incident_bytes = n.conf->max_incident_bytes,
			.on_event = on_inbox_event,
			.arg = &n,
		};

		n.inbox = inbox_new(&ip, &err);
		if (n.inbox == NULL) {
			log_error("", &err);
			goto out;
		}
	}
	bw_keys_wipe(&n.keys); /* the socket has its copy */

	/* 8. the operators' door */
	n.cmd = (struct control_cmd_ctx){
		.store = n.store,
		.inbox = n.inbox,
		.zap = n.zap,
		.store_path = n.conf->store,
		.mailer = n.mailer,
		.notify = n.notify,
		.dir = n.dir,
		.conf = n.conf,
		.version = BW_VERSION,
		.started_us = bw_now_us(),
		.on_action = on_action,
		.arg = &n,
	};
	{
		struct control_params cp = {
			.path = n.conf->control_socket,
			.mode = n.conf->control_mode,
			.gid = gid,
			.max_clients = n.conf->control_max_clients,
			.handler = control_cmd_handle,
			.arg = &n.cmd,
		};

		n.control = control_new(&cp, &err);
		if (n.control == NULL) {
			log_error("control socket", &err);
			goto out;
		}
		n.cmd.control = n.control;
	}
	for (size_t i = 0; i < inbox_n_endpoints(n.inbox); i++)
		log_info("listening on %s", inbox_endpoint(n.inbox, i));
	{
		struct zap_stats z;

		zap_get_stats(n.zap, &z);
		log_info("breachwatch-notifier %s: store %s, %zu agents "
			 "authorised, control socket %s (mode %04o)",
			 BW_VERSION, n.conf->store, z.agents,
			 n.conf->control_socket,
			 (unsigned)n.conf->control_mode);
	}

	/* 9. serve */
	rc = loop(&n);
	log_counters(&n, "stop");
out:
	control_destroy(&n.control);
	inbox_destroy(&n.inbox);
	notify_destroy(&n.notify);
	mailer_destroy(&n.mailer);
	directory_destroy(&n.dir);
	curlloop_destroy(&n.loop);
	render_destroy(&n.render);
	zap_destroy(&n.zap);
	if (n.zctx != NULL)
		zmq_ctx_term(n.zctx);
	store_close(&n.store);
	bw_keys_wipe(&n.keys);
	notifconf_destroy(&n.conf);
	if (n.sigfd >= 0)
		close(n.sigfd);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = { 0 };

	log_init("breachwatch-notifier", LOG_LVL_INFO, -1);
	parse_args(argc, argv, &o);
	if (o.check != NULL)
		return check_config(o.check);
	return run(&o);
}
