/*
 * capture.c - packets from libpcap (see capture.h).
 */
#include "capture.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"

#define DEFAULT_SNAPLEN CAPTURE_SNAPLEN_MAX

struct capture {
	pcap_t *pcap;
	char *name; /* path or interface, for messages */
	bool live;
	bool done; /* a file read to its end or to an error */
	int linktype;
	int fd;
	struct capture_stats stats;
};

static const int supported[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
	DLT_IPV4,   DLT_IPV6,      DLT_NULL,       DLT_LOOP,
};

bool capture_linktype_ok(int dlt)
{
	for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
		if (supported[i] == dlt)
			return true;
	return false;
}

/* Refuse a link type the decoder does not read, naming it. */
static int check_linktype(struct capture *c, struct bw_error *err)
{
	const char *name, *desc;

	c->linktype = pcap_datalink(c->pcap);
	if (capture_linktype_ok(c->linktype))
		return 0;
	name = pcap_datalink_val_to_name(c->linktype);
	desc = pcap_datalink_val_to_description(c->linktype);
	return bw_error_set(err, NULL, 0,
			    "%s: link type %d (%s, %s) is not supported "
			    "(Ethernet, Linux cooked SLL/SLL2, raw IP, BSD "
			    "loopback are)",
			    c->name, c->linktype, name ? name : "unknown",
			    desc ? desc : "no description");
}

static int set_filter(struct capture *c, const char *filter,
		      struct bw_error *err)
{
	struct bpf_program prog;
	int rc;

	if (filter == NULL || filter[0] == '\0')
		return 0;
	if (pcap_compile(c->pcap, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		return bw_error_set(err, NULL, 0, "%s: filter \"%s\": %s",
				    c->name, filter, pcap_geterr(c->pcap));
	rc = pcap_setfilter(c->pcap, &prog);
	pcap_freecode(&prog);
	if (rc < 0)
		return bw_error_set(err, NULL, 0, "%s: filter \"%s\": %s",
				    c->name, filter, pcap_geterr(c->pcap));
	return 0;
}

struct capture *capture_open_file(const char *path, const char *filter,
				  struct bw_error *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c = xcalloc(1, sizeof(*c));

	c->name = xstrdup(path);
	c->fd = -1;
	c->pcap = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
	if (c->pcap == NULL) {
		bw_error_set(err, NULL, 0, "%s: cannot read as a capture: %s",
			     path, ebuf[0] ? ebuf : "unknown error");
		goto fail;
	}
	if (check_linktype(c, err) < 0 || set_filter(c, filter, err) < 0)
		goto fail;
	return c;
fail:
	capture_destroy(&c);
	return NULL;
}

/* pcap_set_* calls before activation fail only on an activated handle. */
static int live_setup(struct capture *c, const struct capture_options *o,
		      struct bw_error *err)
{
	int snaplen = o->snaplen > 0 ? o->snaplen : DEFAULT_SNAPLEN;
	int rc;

	if (snaplen < CAPTURE_SNAPLEN_MIN || snaplen > CAPTURE_SNAPLEN_MAX)
		return bw_error_set(err, NULL, 0,
				    "%s: snaplen %d is out of range [%d, %d]",
				    c->name, snaplen, CAPTURE_SNAPLEN_MIN,
				    CAPTURE_SNAPLEN_MAX);
	if (o->buffer_size < 0 || o->buffer_size > CAPTURE_BUFFER_MAX)
		return bw_error_set(err, NULL, 0,
				    "%s: buffer_size %d is out of range",
				    c->name, o->buffer_size);
	pcap_set_snaplen(c->pcap, snaplen);
	pcap_set_promisc(c->pcap, o->promisc ? 1 : 0);
	/* Packets are handed over as they come: the poll loop batches. */
	pcap_set_immediate_mode(c->pcap, 1);
	pcap_set_timeout(c->pcap, 100);
	if (o->buffer_size > 0)
		pcap_set_buffer_size(c->pcap, o->buffer_size);
	rc = pcap_activate(c->pcap);
	if (rc < 0) {
		const char *why = pcap_statustostr(rc);

		if (rc == PCAP_ERROR || rc == PCAP_ERROR_NO_SUCH_DEVICE ||
		    rc == PCAP_ERROR_PERM_DENIED)
			why = pcap_geterr(c->pcap);
		return bw_error_set(err, NULL, 0, "%s: cannot capture: %s%s",
				    c->name, why,
				    rc == PCAP_ERROR_PERM_DENIED
					    ? " (the agent needs CAP_NET_RAW)"
					    : "");
	}
	return 0;
}

struct capture *capture_open_live(const struct capture_options *o,
				  struct bw_error *err)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct capture *c;

	if (o->interface == NULL || o->interface[0] == '\0') {
		bw_error_set(err, NULL, 0, "live capture: no interface");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(o->interface);
	c->live = true;
	c->fd = -1;
	c->pcap = pcap_create(o->interface, ebuf);
	if (c->pcap == NULL) {
		bw_error_set(err, NULL, 0, "%s: %s", o->interface, ebuf);
		goto fail;
	}
	if (live_setup(c, o, err) < 0 || check_linktype(c, err) < 0 ||
	    set_filter(c, o->filter, err) < 0)
		goto fail;
	if (pcap_setnonblock(c->pcap, 1, ebuf) < 0) {
		bw_error_set(err, NULL, 0, "%s: non-blocking: %s",
			     o->interface, ebuf);
		goto fail;
	}
	c->fd = pcap_get_selectable_fd(c->pcap);
	if (c->fd < 0) {
		bw_error_set(err, NULL, 0, "%s: no selectable descriptor",
			     o->interface);
		goto fail;
	}
	return c;
fail:
	capture_destroy(&c);
	return NULL;
}

void capture_destroy(struct capture **cp)
{
	struct capture *c = *cp;

	if (c == NULL)
		return;
	if (c->pcap != NULL)
		pcap_close(c->pcap);
	free(c->name);
	free(c);
	*cp = NULL;
}

int capture_next(struct capture *c, struct capture_packet *pkt,
		 struct bw_error *err)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (c->done)
		return 0;
	rc = pcap_next_ex(c->pcap, &h, &data);
	if (rc == 0)
		return 0; /* live: nothing waiting */
	if (rc == PCAP_ERROR_BREAK) {
		c->done = !c->live;
		return 0;
	}
	if (rc < 0) {
		c->stats.errors++;
		if (!c->live)
			c->done = true;
		return bw_error_set(err, NULL, 0, "%s: after packet %llu: %s",
				    c->name,
				    (unsigned long long)c->stats.packets,
				    pcap_geterr(c->pcap));
	}
	/* libpcap bounds caplen by the snapshot length and its own maximum
	 * before it reads a record; it is never above len on a sane file, but
	 * a crafted record may say so: trust only caplen for the bytes. */
	pkt->ts_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
	pkt->data = data;
	pkt->caplen = h->caplen;
	pkt->len = h->len >= h->caplen ? h->len : h->caplen;
	pkt->number = ++c->stats.packets;
	c->stats.bytes += pkt->len;
	if (pkt->caplen < pkt->len)
		c->stats.truncated++;
	return 1;
}

int capture_fd(const struct capture *c)
{
	return c->fd;
}

int capture_linktype(const struct capture *c)
{
	return c->linktype;
}

int capture_snaplen(const struct capture *c)
{
	return pcap_snapshot(c->pcap);
}

void capture_get_stats(struct capture *c, struct capture_stats *st)
{
	struct pcap_stat ps;

	if (c->live && pcap_stats(c->pcap, &ps) == 0)
		c->stats.kernel_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	*st = c->stats;
}
