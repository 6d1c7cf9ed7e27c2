/*
 * netsrc.c - packets to events (see netsrc.h).
 *
 * One packet may make several events (a segment that completes three
 * pipelined responses, a flow that ends as another opens), so events are
 * copied into a queue, each with its strings in its own slot's memory;
 * netsrc_next() hands them out in order and reads a packet when the queue
 * is empty.
 */
#include "netsrc.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cfg.h"
#include "../common/cidr.h"
#include "../common/log.h"
#include "../common/xmalloc.h"

/* A live capture gives the loop its turn after this many packets. */
#define LIVE_BATCH 4096
/* Fragments are expired at most this often (event time). */
#define EXPIRE_EVERY_US 1000000LL

struct qslot {
	struct bw_event ev;
	char *mem;
	size_t cap;
};

/* Per flow: the two streams and the extractor's state (flow->user). */
struct nflow {
	struct stream s[2];
	struct app_flow *app;
	uint64_t reported[2]; /* IP bytes each way in progress events so far */
	int64_t reported_ts;  /* time of the last report (or the open) */
	bool established;     /* its "established" event was made */
};

struct netsrc {
	struct capture *cap;
	char *name;
	struct netsrc_options opt;
	struct decoder *dec;
	struct flow_table *flows;
	struct stream_ctx sctx;
	struct app_ctx app;
	struct qslot *q;
	size_t qcap, qhead, qlen;
	struct app_pkt pk;  /* the packet being read */
	int64_t clock;      /* the latest packet time */
	int64_t next_expire;
	bool eof;           /* the file is read (or failed) */
	bool finished;      /* every flow ended */
	uint64_t late;
	uint64_t events;
	uint64_t frames; /* fed by netsrc_frame */
};

static const size_t str_fields[] = {
	offsetof(struct bw_event, principal), offsetof(struct bw_event, action),
	offsetof(struct bw_event, resource),  offsetof(struct bw_event, query),
	offsetof(struct bw_event, outcome),   offsetof(struct bw_event, host),
	offsetof(struct bw_event, user_agent),
	offsetof(struct bw_event, referer),   offsetof(struct bw_event, database),
	offsetof(struct bw_event, detail),    offsetof(struct bw_event, text),
	offsetof(struct bw_event, raw),
};

#define NSTR (sizeof(str_fields) / sizeof(str_fields[0]))

static struct bw_str *strp(struct bw_event *ev, size_t i)
{
	return (struct bw_str *)((char *)ev + str_fields[i]);
}

/* Copy ev into the queue (its strings into the slot's memory). */
static void on_event(void *arg, struct bw_event *ev)
{
	struct netsrc *ns = arg;
	struct qslot *s;
	size_t need = 0, at = 0;

	if (ns->qhead + ns->qlen == ns->qcap) {
		if (ns->qhead > 0) { /* slide down, keeping slot memory */
			for (size_t i = 0; i < ns->qlen; i++) {
				struct qslot t = ns->q[i];

				ns->q[i] = ns->q[ns->qhead + i];
				ns->q[ns->qhead + i] = t;
			}
			ns->qhead = 0;
		} else {
			size_t nc = ns->qcap ? ns->qcap * 2 : 16;

			ns->q = xreallocarray(ns->q, nc, sizeof(*ns->q));
			memset(ns->q + ns->qcap, 0,
			       (nc - ns->qcap) * sizeof(*ns->q));
			ns->qcap = nc;
		}
	}
	s = &ns->q[ns->qhead + ns->qlen++];
	for (size_t i = 0; i < NSTR; i++)
		need += strp(ev, i)->len;
	if (need > s->cap) {
		free(s->mem);
		s->cap = need;
		s->mem = xmalloc(need);
	}
	s->ev = *ev;
	for (size_t i = 0; i < NSTR; i++) {
		struct bw_str *d = strp(&s->ev, i);

		if (d->len == 0 || d->p == NULL) {
			*d = BW_STR_NULL;
			continue;
		}
		memcpy(s->mem + at, d->p, d->len);
		d->p = s->mem + at;
		at += d->len;
	}
	ns->events++;
}

static const char *transport(uint8_t proto)
{
	switch (proto) {
	case DP_TCP:
		return "tcp";
	case DP_UDP:
		return "udp";
	case DP_ICMP:
		return "icmp";
	default:
		return "icmp6";
	}
}

static void flow_event(struct netsrc *ns, struct flow *f, const char *action,
		       int64_t ts_us, struct bw_event *ev)
{
	const char *t = transport(f->proto);
	struct app_pkt pk = { .ts_us = ts_us, .number = ns->pk.number };

	app_event(&ns->app, ev, f, BW_KIND_FLOW, &pk);
	ev->action = (struct bw_str){ action, (uint32_t)strlen(action) };
	ev->resource = (struct bw_str){ t, (uint32_t)strlen(t) };
}

static void on_open(void *arg, struct flow *f, int64_t ts_us)
{
	struct netsrc *ns = arg;
	struct nflow *nf = xcalloc(1, sizeof(*nf));
	struct bw_event ev;

	nf->app = app_flow_new();
	nf->reported_ts = ts_us;
	f->user = nf;
	flow_event(ns, f, "open", ts_us, &ev);
	if (f->proto == DP_TCP && !f->syn)
		ev.detail = BW_STR_LIT("midstream");
	ev.raw = app_raw(&ns->app, f, "%s open", transport(f->proto));
	on_event(ns, &ev);
}

struct deliver_arg {
	struct netsrc *ns;
	const struct flow *f;
	struct nflow *nf;
	int dir;
};

static void deliver(void *arg, const uint8_t *data, uint32_t len)
{
	struct deliver_arg *a = arg;

	app_stream(&a->ns->app, a->nf->app, a->f, a->dir, data, len,
		   &a->ns->pk);
}

/* What became of a connection: for the close event's outcome. */
static const char *outcome(const struct flow *f)
{
	if (f->proto == DP_TCP) {
		if (f->synack || (!f->syn && f->dir[FLOW_S2C].packets > 0))
			return "established";
		if (f->rst && f->dir[FLOW_S2C].packets > 0)
			return "refused";
		return "unanswered";
	}
	return f->dir[FLOW_S2C].packets > 0 ? "answered" : "unanswered";
}

static void on_end(void *arg, struct flow *f, enum flow_end why,
		   int64_t ts_us)
{
	struct netsrc *ns = arg;
	struct nflow *nf = f->user;
	struct bw_event ev;
	const char *o, *proto, *end = flow_end_name(why);
	struct app_pkt pk = { .ts_us = ts_us, .number = ns->pk.number };

	if (nf == NULL)
		return;
	for (int dir = 0; dir < 2; dir++) {
		struct deliver_arg a = { ns, f, nf, dir };

		stream_flush(&ns->sctx, &nf->s[dir], deliver, &a);
	}
	proto = app_proto_name(app_flow_proto(nf->app));
	app_flow_end(&ns->app, &nf->app, f, &pk);
	o = nf->established ? "established" : outcome(f);
	flow_event(ns, f, "close", ts_us, &ev);
	ev.detail = (struct bw_str){ proto, (uint32_t)strlen(proto) };
	ev.outcome = (struct bw_str){ o, (uint32_t)strlen(o) };
	ev.text = (struct bw_str){ end, (uint32_t)strlen(end) };
	/* what no progress event has reported (the totals are in raw) */
	ev.bytes_in = (int64_t)(f->dir[FLOW_C2S].bytes - nf->reported[0]);
	ev.bytes_out = (int64_t)(f->dir[FLOW_S2C].bytes - nf->reported[1]);
	ev.duration_us = f->last_ts - f->first_ts;
	ev.raw = app_raw(&ns->app, f,
			 "%s%s%s close (%s) %s: %llu pkts %llu bytes out, "
			 "%llu pkts %llu bytes back",
			 transport(f->proto), *proto ? " " : "", proto, end, o,
			 (unsigned long long)f->dir[0].packets,
			 (unsigned long long)f->dir[0].bytes,
			 (unsigned long long)f->dir[1].packets,
			 (unsigned long long)f->dir[1].bytes);
	on_event(ns, &ev);
	stream_free(&ns->sctx, &nf->s[0]);
	stream_free(&ns->sctx, &nf->s[1]);
	free(nf);
	f->user = NULL;
}

static struct netsrc *make(struct capture *cap, int dlt, const char *name,
			   const struct netsrc_options *o)
{
	struct netsrc *ns = xcalloc(1, sizeof(*ns));

	ns->cap = cap;
	ns->name = xstrdup(name);
	ns->opt = o != NULL ? *o : NETSRC_OPTIONS_DEFAULT;
	ns->dec = decoder_new(dlt, &ns->opt.decode);
	ns->flows = flow_table_new(&ns->opt.flow, on_open, on_end, ns);
	stream_ctx_init(&ns->sctx, &ns->opt.stream);
	app_ctx_init(&ns->app, &ns->opt.app, on_event, ns, ns->name);
	return ns;
}

struct netsrc *netsrc_open_file(const char *path,
				const struct netsrc_options *o,
				struct bw_error *err)
{
	struct capture *cap = capture_open_file(path, o ? o->filter : NULL,
						err);

	return cap != NULL ? make(cap, capture_linktype(cap), path, o) : NULL;
}

struct netsrc *netsrc_open_live(const struct capture_options *co,
				const struct netsrc_options *o,
				struct bw_error *err)
{
	struct capture *cap = capture_open_live(co, err);

	return cap != NULL ? make(cap, capture_linktype(cap), co->interface, o)
			   : NULL;
}

struct netsrc *netsrc_new_frames(int dlt, const char *name,
				 const struct netsrc_options *o)
{
	return make(NULL, dlt, name, o);
}

void netsrc_destroy(struct netsrc **nsp)
{
	struct netsrc *ns = *nsp;

	if (ns == NULL)
		return;
	/* Flows still open: free their state without events. */
	flow_flush(ns->flows, ns->clock);
	ns->qlen = 0;
	flow_table_destroy(&ns->flows);
	decoder_destroy(&ns->dec);
	app_ctx_fini(&ns->app);
	capture_destroy(&ns->cap);
	for (size_t i = 0; i < ns->qcap; i++)
		free(ns->q[i].mem);
	free(ns->q);
	free(ns->name);
	free(ns);
	*nsp = NULL;
}

/* A progress event for a long flow: when a direction has report_bytes
 * unreported, or report_us have passed since the last report with bytes
 * unreported. */
static void progress(struct netsrc *ns, struct flow *f, struct nflow *nf)
{
	uint64_t in = f->dir[FLOW_C2S].bytes - nf->reported[0];
	uint64_t out = f->dir[FLOW_S2C].bytes - nf->reported[1];
	struct bw_event ev;

	if (in < ns->opt.report_bytes && out < ns->opt.report_bytes &&
	    (f->last_ts - nf->reported_ts < ns->opt.report_us ||
	     in + out == 0))
		return;
	flow_event(ns, f, "progress", ns->pk.ts_us, &ev);
	ev.detail = (struct bw_str){
		app_proto_name(app_flow_proto(nf->app)),
		(uint32_t)strlen(app_proto_name(app_flow_proto(nf->app)))
	};
	ev.bytes_in = (int64_t)in;
	ev.bytes_out = (int64_t)out;
	ev.duration_us = f->last_ts - f->first_ts;
	ev.raw = app_raw(&ns->app, f,
			 "%s%s%s running: %llu bytes out, %llu bytes back "
			 "since the last report",
			 transport(f->proto), *ev.detail.p ? " " : "",
			 ev.detail.p,
			 (unsigned long long)in, (unsigned long long)out);
	nf->reported[0] = f->dir[FLOW_C2S].bytes;
	nf->reported[1] = f->dir[FLOW_S2C].bytes;
	nf->reported_ts = f->last_ts;
	on_event(ns, &ev);
}

/* A TCP session under way: the first payload byte, outside a reset, of
 * a connection the server answered (its SYN-ACK seen, or its own bytes
 * after the SYN if the capture lost the SYN-ACK, or, joined midway,
 * packets both ways). A handshake alone (a scanner's probe) is not one.
 * Made once per flow, before the payload reaches the extractors, so a
 * rule on sessions (a database port from the wrong host) fires at their
 * start rather than at their end. The close event's outcome agrees. */
static void established(struct netsrc *ns, struct flow *f, struct nflow *nf,
			int dir)
{
	struct bw_event ev;

	if (!f->synack && !(f->syn && dir == FLOW_S2C) &&
	    (f->syn || f->dir[FLOW_C2S].packets == 0 ||
	     f->dir[FLOW_S2C].packets == 0))
		return;
	nf->established = true;
	flow_event(ns, f, "established", ns->pk.ts_us, &ev);
	ev.outcome = BW_STR_LIT("established");
	if (!f->syn)
		ev.detail = BW_STR_LIT("midstream");
	ev.duration_us = f->last_ts - f->first_ts;
	ev.raw = app_raw(&ns->app, f, "tcp established%s",
			 f->syn ? "" : " (joined midway)");
	on_event(ns, &ev);
}

/* One packet through the decoder, the flow table and the extractors. */
static void packet(struct netsrc *ns, const struct capture_packet *cp)
{
	struct decode_pkt dp;
	struct flow *f;
	int dir;

	ns->pk.ts_us = cp->ts_us;
	ns->pk.number = cp->number;
	if (cp->ts_us > ns->clock)
		ns->clock = cp->ts_us;
	if (ns->clock >= ns->next_expire) {
		decoder_expire(ns->dec, ns->clock);
		ns->next_expire = ns->clock + EXPIRE_EVERY_US;
	}
	if (decoder_frame(ns->dec, cp->data, cp->caplen, cp->len, cp->ts_us,
			  &dp, NULL) != DECODE_PACKET)
		return;
	f = flow_packet(ns->flows, &dp, &dir);
	if (f == NULL) {
		ns->late++;
		return;
	}
	if (f->user != NULL && dp.proto == DP_TCP) {
		struct nflow *nf = f->user;
		struct deliver_arg a = { ns, f, nf, dir };

		if (!nf->established && dp.payload_wire > 0 &&
		    !(dp.tcp_flags & TCPF_RST))
			established(ns, f, nf, dir);

		stream_segment(&ns->sctx, &nf->s[dir], dp.tcp_flags, dp.seq,
			       dp.payload, dp.payload_len, dp.payload_wire,
			       deliver, &a);
	} else if (f->user != NULL && dp.proto == DP_UDP &&
		   dp.payload_len > 0) {
		struct nflow *nf = f->user;

		app_datagram(&ns->app, nf->app, f, dir, dp.payload,
			     dp.payload_len, &ns->pk);
	}
	if (f->user != NULL)
		progress(ns, f, f->user);
	flow_settle(ns->flows, f, cp->ts_us);
}

void netsrc_frame(struct netsrc *ns, int64_t ts_us, const uint8_t *data,
		  uint32_t caplen, uint32_t len)
{
	struct capture_packet cp = { .ts_us = ts_us, .data = data,
				     .caplen = caplen,
				     .len = len > caplen ? len : caplen,
				     .number = ++ns->frames };

	packet(ns, &cp);
}

int netsrc_next(struct netsrc *ns, struct bw_event *ev, struct bw_error *err)
{
	unsigned n = 0;

	while (ns->qlen == 0) {
		struct capture_packet cp;
		int rc;

		if (ns->cap == NULL)
			return 0; /* frames: the caller feeds them */
		if (ns->eof) {
			if (ns->finished)
				return 0;
			netsrc_finish(ns);
			continue;
		}
		rc = capture_next(ns->cap, &cp, err);
		if (rc < 0) {
			ns->eof = capture_fd(ns->cap) < 0;
			return -1;
		}
		if (rc == 0) {
			if (capture_fd(ns->cap) >= 0)
				return 0; /* live: nothing waiting */
			ns->eof = true;
			continue;
		}
		packet(ns, &cp);
		if (capture_fd(ns->cap) >= 0 && ++n == LIVE_BATCH &&
		    ns->qlen == 0)
			return 0;
	}
	*ev = ns->q[ns->qhead].ev;
	ns->qhead++;
	ns->qlen--;
	if (ns->qlen == 0)
		ns->qhead = 0;
	return 1;
}

void netsrc_tick(struct netsrc *ns, int64_t now_us)
{
	if (now_us > ns->clock)
		ns->clock = now_us;
	ns->pk.ts_us = ns->clock;
	flow_expire(ns->flows, ns->clock);
	decoder_expire(ns->dec, ns->clock);
}

void netsrc_finish(struct netsrc *ns)
{
	ns->pk.ts_us = ns->clock;
	flow_flush(ns->flows, ns->clock);
	ns->finished = true;
}

int netsrc_fd(const struct netsrc *ns)
{
	return ns->cap != NULL ? capture_fd(ns->cap) : -1;
}

void netsrc_get_stats(struct netsrc *ns, struct netsrc_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (ns->cap != NULL)
		capture_get_stats(ns->cap, &st->capture);
	else
		st->capture.packets = ns->frames;
	st->decode = *decoder_stats(ns->dec);
	flow_get_stats(ns->flows, &st->flow);
	st->stream = ns->sctx.st;
	st->app = ns->app.st;
	st->events = ns->events;
	st->late = ns->late;
}

void netsrc_log_summary(struct netsrc *ns, const char *name)
{
	struct netsrc_stats st;
	char drops[1024];
	size_t at = 0;
	uint64_t dropped = 0, ignored = 0;

	netsrc_get_stats(ns, &st);
	drops[0] = '\0';
	for (int r = DR_NONE + 1; r < DR__COUNT; r++) {
		uint64_t n = st.decode.by_reason[r];

		if (n == 0)
			continue;
		if (decode_reason_is_drop((enum decode_reason)r))
			dropped += n;
		else
			ignored += n;
		if (at < sizeof(drops))
			at += (size_t)snprintf(drops + at, sizeof(drops) - at,
					       "%s%s %llu", at ? ", " : "",
					       decode_reason_name(
						       (enum decode_reason)r),
					       (unsigned long long)n);
	}
	log_info("pcap:%s: %llu packets (%llu cut by snaplen, %llu read "
		 "errors), %llu decoded, %llu dropped, %llu ignored%s%s%s; "
		 "%llu flows (%llu evicted, peak %llu); %llu events",
		 name, (unsigned long long)st.capture.packets,
		 (unsigned long long)st.capture.truncated,
		 (unsigned long long)st.capture.errors,
		 (unsigned long long)st.decode.packets,
		 (unsigned long long)dropped, (unsigned long long)ignored,
		 at ? " (" : "", drops, at ? ")" : "",
		 (unsigned long long)st.flow.created,
		 (unsigned long long)st.flow.evicted,
		 (unsigned long long)st.flow.peak,
		 (unsigned long long)st.events);
	log_debug("pcap:%s: streams: %llu gaps (%llu bytes), %llu held, peak "
		  "%llu bytes held; http %llu, tls %llu, postgres %llu, ssh "
		  "%llu, dns %llu events; %llu e-mails, %llu cards in %llu "
		  "bytes scanned; extractors held at most %llu bytes, %llu "
		  "buffers refused for the memory budget",
		  name, (unsigned long long)st.stream.gaps,
		  (unsigned long long)st.stream.gap_bytes,
		  (unsigned long long)st.stream.held,
		  (unsigned long long)st.stream.held_peak,
		  (unsigned long long)st.app.events[APP_HTTP],
		  (unsigned long long)st.app.events[APP_TLS],
		  (unsigned long long)st.app.events[APP_PGSQL],
		  (unsigned long long)st.app.events[APP_SSH],
		  (unsigned long long)st.app.events[APP_DNS],
		  (unsigned long long)st.app.pii_emails,
		  (unsigned long long)st.app.pii_cards,
		  (unsigned long long)st.app.pii_bytes,
		  (unsigned long long)st.app.mem_peak,
		  (unsigned long long)st.app.memcap);
}

static const char *const pcap_keys[] = {
	"type",	       "interface",   "filter",      "snaplen",
	"buffer_size", "promisc",     "max_flows",   "tcp_timeout",
	"udp_timeout", "app_memory",  "report_bytes", "report_interval",
	NULL,
};

int netsrc_config(const config_setting_t *opts, struct capture_options *co,
		  struct netsrc_options *no, struct bw_error *err)
{
	struct capture_options c = { 0 };
	struct netsrc_options n = NETSRC_OPTIONS_DEFAULT;
	int64_t snaplen = 0, bufsize = 0, max_flows = n.flow.max_flows;
	int64_t app_memory = (int64_t)n.app.max_memory;
	int64_t report_bytes = (int64_t)n.report_bytes;

	if (opts == NULL)
		goto out;
	if (bw_cfg_check_keys(opts, pcap_keys, err) < 0 ||
	    bw_cfg_string(opts, "interface", false, &c.interface, err) < 0 ||
	    bw_cfg_string(opts, "filter", false, &c.filter, err) < 0 ||
	    bw_cfg_int(opts, "snaplen", false, CAPTURE_SNAPLEN_MIN,
		       CAPTURE_SNAPLEN_MAX, &snaplen, err) < 0 ||
	    bw_cfg_int(opts, "buffer_size", false, 0, CAPTURE_BUFFER_MAX,
		       &bufsize, err) < 0 ||
	    bw_cfg_bool(opts, "promisc", false, &c.promisc, err) < 0 ||
	    bw_cfg_int(opts, "max_flows", false, FLOW_MAX_FLOWS_MIN,
		       FLOW_MAX_FLOWS_MAX, &max_flows, err) < 0 ||
	    bw_cfg_duration(opts, "tcp_timeout", false, &n.flow.tcp_timeout_us,
			    err) < 0 ||
	    bw_cfg_duration(opts, "udp_timeout", false, &n.flow.udp_timeout_us,
			    err) < 0 ||
	    bw_cfg_int(opts, "app_memory", false, 1 << 20, 1LL << 40,
		       &app_memory, err) < 0 ||
	    bw_cfg_int(opts, "report_bytes", false, NETSRC_REPORT_BYTES_MIN,
		       1LL << 40, &report_bytes, err) < 0 ||
	    bw_cfg_duration(opts, "report_interval", false, &n.report_us,
			    err) < 0)
		return -1;
	if (n.flow.tcp_timeout_us <= 0 || n.flow.udp_timeout_us <= 0 ||
	    n.report_us <= 0)
		return bw_cfg_error(err, opts,
				    "pcap input: timeouts and report_interval "
				    "must be positive");
	c.snaplen = (int)snaplen;
	c.buffer_size = (int)bufsize;
	n.filter = c.filter;
	n.flow.max_flows = (uint32_t)max_flows;
	n.app.max_memory = (uint64_t)app_memory;
	n.report_bytes = (uint64_t)report_bytes;
out:
	if (co != NULL)
		*co = c;
	if (no != NULL)
		*no = n;
	return 0;
}
