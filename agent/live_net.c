/*
 * live_net.c - the live mode's network inputs (see live_net.h).
 */
#include "live_net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/xmalloc.h"
#include "netsrc.h"

/* Events handed over per input and call, so that logs and timers keep
 * their turn under a flood of packets. */
#define EVENTS_PER_CALL 4096

/* At most 5 read errors a minute per input are logged (an interface that
 * went down fails every read); the rest are counted. */
#define WARN_INTERVAL_US (60 * 1000000LL)
#define WARN_BURST 5

struct live_net {
	struct netsrc **src;
	struct log_ratelimit *rl;
	const char **name; /* borrowed from the config */
	size_t n;
	int epfd;
};

bool live_net_is_input(const struct agentconf_input *ci)
{
	return strcmp(ci->type, "pcap") == 0;
}

struct live_net *live_net_open(const struct agentconf *c,
			       struct bw_error *err)
{
	struct live_net *ln = xcalloc(1, sizeof(*ln));

	ln->epfd = -1;
	ln->src = xcalloc(c->n_inputs, sizeof(*ln->src));
	ln->name = xcalloc(c->n_inputs, sizeof(*ln->name));
	ln->rl = xcalloc(c->n_inputs, sizeof(*ln->rl));
	for (size_t i = 0; i < c->n_inputs; i++) {
		const struct agentconf_input *ci = &c->inputs[i];
		struct capture_options co;
		struct netsrc_options no;
		struct epoll_event ee = { .events = EPOLLIN };

		if (!live_net_is_input(ci))
			continue;
		if (netsrc_config(ci->opts, &co, &no, err) < 0)
			goto fail;
		if (ln->epfd < 0) {
			ln->epfd = epoll_create1(EPOLL_CLOEXEC);
			if (ln->epfd < 0) {
				bw_error_set(err, NULL, 0, "epoll: %s",
					     strerror(errno));
				goto fail;
			}
		}
		ln->src[ln->n] = netsrc_open_live(&co, &no, err);
		if (ln->src[ln->n] == NULL)
			goto fail;
		ln->name[ln->n] = ci->path;
		log_info("pcap:%s: capturing%s%s%s", ci->path,
			 co.filter ? " \"" : "", co.filter ? co.filter : "",
			 co.filter ? "\"" : "");
		ln->rl[ln->n] = (struct log_ratelimit)LOG_RATELIMIT_INIT(
			WARN_INTERVAL_US, WARN_BURST);
		ee.data.u64 = ln->n;
		if (epoll_ctl(ln->epfd, EPOLL_CTL_ADD,
			      netsrc_fd(ln->src[ln->n]), &ee) < 0) {
			bw_error_set(err, NULL, 0, "%s: epoll: %s", ci->path,
				     strerror(errno));
			ln->n++;
			goto fail;
		}
		ln->n++;
	}
	return ln;
fail:
	live_net_destroy(&ln);
	return NULL;
}

void live_net_destroy(struct live_net **lnp)
{
	struct live_net *ln = *lnp;

	if (ln == NULL)
		return;
	for (size_t i = 0; i < ln->n; i++)
		netsrc_destroy(&ln->src[i]);
	if (ln->epfd >= 0)
		close(ln->epfd);
	free(ln->src);
	free(ln->rl);
	free(ln->name);
	free(ln);
	*lnp = NULL;
}

int live_net_fd(const struct live_net *ln)
{
	return ln->epfd;
}

/* Hand over an input's events, at most max; true when it had more. */
static bool drain(struct live_net *ln, size_t i, unsigned max,
		  live_net_fn fn, void *arg)
{
	struct bw_event ev;
	struct bw_error err;
	char msg[1024];

	for (unsigned k = 0; k < max; k++) {
		int rc = netsrc_next(ln->src[i], &ev, &err);

		if (rc == 0)
			return false;
		if (rc < 0) {
			if (log_ratelimit_ok(&ln->rl[i]))
				log_warnx("%s", bw_error_str(&err, msg,
							     sizeof(msg)));
			return false;
		}
		fn(arg, &ev);
	}
	return true;
}

bool live_net_process(struct live_net *ln, live_net_fn fn, void *arg)
{
	bool more = false;

	for (size_t i = 0; i < ln->n; i++)
		more |= drain(ln, i, EVENTS_PER_CALL, fn, arg);
	return more;
}

void live_net_tick(struct live_net *ln, int64_t now_us, live_net_fn fn,
		   void *arg)
{
	for (size_t i = 0; i < ln->n; i++) {
		netsrc_tick(ln->src[i], now_us);
		while (drain(ln, i, EVENTS_PER_CALL, fn, arg))
			;
	}
}

void live_net_finish(struct live_net *ln, live_net_fn fn, void *arg)
{
	for (size_t i = 0; i < ln->n; i++) {
		while (drain(ln, i, EVENTS_PER_CALL, fn, arg))
			;
		netsrc_finish(ln->src[i]);
		while (drain(ln, i, EVENTS_PER_CALL, fn, arg))
			;
	}
}

void live_net_log_summary(struct live_net *ln)
{
	for (size_t i = 0; i < ln->n; i++) {
		struct netsrc_stats st;

		netsrc_log_summary(ln->src[i], ln->name[i]);
		if (ln->rl[i].suppressed > 0)
			log_warnx("pcap:%s: %llu more read errors not shown",
				  ln->name[i],
				  (unsigned long long)ln->rl[i].suppressed);
		netsrc_get_stats(ln->src[i], &st);
		if (st.capture.kernel_drops > 0)
			log_warnx("pcap:%s: %llu packets dropped by the kernel "
				  "(raise buffer_size, or narrow the filter)",
				  ln->name[i],
				  (unsigned long long)st.capture.kernel_drops);
	}
}
