/*
 * decode.c - the link layer, and the decoder's bookkeeping (see decode.h).
 *
 * Each link type has a short function that finds where the IP datagram
 * starts and which version it should be; the table maps DLTs to them.
 */
#include <stdlib.h>

#include "../common/xmalloc.h"
#include "capture.h"
#include "decode_int.h"

#define ETH_IP4 0x0800
#define ETH_IP6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100

/* Where the datagram starts: its offset in the frame and the IP version
 * the link says (0: read it from the datagram). A link function returns
 * DECODE_PACKET with *off and *version set, or a drop / ignore. */
typedef enum decode_result (*link_fn)(struct decoder *d, const uint8_t *p,
				      uint32_t caplen, uint32_t *off,
				      int *version, enum decode_reason *r);

static enum decode_result by_ethertype(struct decoder *d, uint16_t type,
				       int *version, enum decode_reason *r)
{
	if (type == ETH_IP4)
		*version = 4;
	else if (type == ETH_IP6)
		*version = 6;
	else
		return IGNORE(d, r, DR_NOT_IP);
	return DECODE_PACKET;
}

static enum decode_result link_ether(struct decoder *d, const uint8_t *p,
				     uint32_t caplen, uint32_t *off,
				     int *version, enum decode_reason *r)
{
	uint32_t o = 12;
	uint16_t type;
	int tags = 0;

	if (caplen < 14)
		return DROP(d, r, DR_LINK_SHORT);
	type = rd16(p + o);
	while (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
		if (++tags > DECODE_MAX_VLAN)
			return DROP(d, r, DR_VLAN_DEPTH);
		o += 4;
		if (caplen < o + 2)
			return DROP(d, r, DR_LINK_SHORT);
		type = rd16(p + o);
	}
	*off = o + 2;
	return by_ethertype(d, type, version, r);
}

static enum decode_result link_sll(struct decoder *d, const uint8_t *p,
				   uint32_t caplen, uint32_t *off,
				   int *version, enum decode_reason *r)
{
	if (caplen < 16)
		return DROP(d, r, DR_LINK_SHORT);
	*off = 16;
	return by_ethertype(d, rd16(p + 14), version, r);
}

static enum decode_result link_sll2(struct decoder *d, const uint8_t *p,
				    uint32_t caplen, uint32_t *off,
				    int *version, enum decode_reason *r)
{
	if (caplen < 20)
		return DROP(d, r, DR_LINK_SHORT);
	*off = 20;
	return by_ethertype(d, rd16(p), version, r);
}

static enum decode_result link_raw(struct decoder *d, const uint8_t *p,
				   uint32_t caplen, uint32_t *off,
				   int *version, enum decode_reason *r)
{
	(void)d;
	(void)p;
	(void)caplen;
	(void)r;
	*off = 0;
	*version = d->dlt == DLT_IPV4 ? 4 : d->dlt == DLT_IPV6 ? 6 : 0;
	return DECODE_PACKET;
}

/* The address family of BSD loopback: AF_INET is 2 everywhere; AF_INET6
 * is 24 (NetBSD, OpenBSD), 28 (FreeBSD, DragonFly), 30 (macOS) or 10
 * (Linux). DLT_NULL is in the writer's byte order, DLT_LOOP in network
 * order. */
static enum decode_result link_null(struct decoder *d, const uint8_t *p,
				    uint32_t caplen, uint32_t *off,
				    int *version, enum decode_reason *r)
{
	uint32_t af;

	if (caplen < 4)
		return DROP(d, r, DR_LINK_SHORT);
	af = rd32(p);
	if (d->dlt == DLT_NULL && af > 0xffff) /* little-endian writer */
		af = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	*off = 4;
	if (af == 2)
		*version = 4;
	else if (af == 24 || af == 28 || af == 30 || af == 10)
		*version = 6;
	else
		return IGNORE(d, r, DR_NOT_IP);
	return DECODE_PACKET;
}

static const struct {
	int dlt;
	link_fn fn;
} links[] = {
	{ DLT_EN10MB, link_ether }, { DLT_LINUX_SLL, link_sll },
	{ DLT_LINUX_SLL2, link_sll2 }, { DLT_RAW, link_raw },
	{ DLT_IPV4, link_raw },     { DLT_IPV6, link_raw },
	{ DLT_NULL, link_null },    { DLT_LOOP, link_null },
};

static link_fn link_for(int dlt)
{
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		if (links[i].dlt == dlt)
			return links[i].fn;
	return NULL;
}

struct decoder *decoder_new(int dlt, const struct decode_limits *lim)
{
	struct decoder *d = xcalloc(1, sizeof(*d));

	d->dlt = dlt;
	d->lim = lim != NULL ? *lim : DECODE_LIMITS_DEFAULT;
	d->frag = frag_new(&d->lim, d->st.by_reason);
	d->rbuf = xmalloc(DECODE_MAX_DATAGRAM);
	return d;
}

void decoder_destroy(struct decoder **dp)
{
	struct decoder *d = *dp;

	if (d == NULL)
		return;
	frag_destroy(&d->frag);
	free(d->rbuf);
	free(d);
	*dp = NULL;
}

enum decode_result decoder_frame(struct decoder *d, const uint8_t *data,
				 uint32_t caplen, uint32_t wire_len,
				 int64_t ts_us, struct decode_pkt *out,
				 enum decode_reason *reason)
{
	link_fn fn = link_for(d->dlt);
	enum decode_reason why = DR_NONE;
	enum decode_result res;
	uint32_t off = 0;
	int version = 0;

	d->st.frames++;
	if (fn == NULL) {
		res = IGNORE(d, &why, DR_LINK_UNKNOWN);
		goto out;
	}
	res = fn(d, data, caplen, &off, &version, &why);
	if (res != DECODE_PACKET)
		goto out;
	memset(out, 0, sizeof(*out));
	out->ts_us = ts_us;
	res = decode_ip(d, data + off, caplen - off, caplen < wire_len,
			version, ts_us, out, &why);
	if (res == DECODE_PACKET) {
		d->st.packets++;
		if (out->reassembled)
			d->st.reassembled++;
	}
out:
	if (reason != NULL)
		*reason = why;
	return res;
}

void decoder_expire(struct decoder *d, int64_t now_us)
{
	frag_expire(d->frag, now_us);
}

const struct decode_stats *decoder_stats(const struct decoder *d)
{
	return &d->st;
}

static const char *const reason_names[DR__COUNT] = {
	[DR_NONE] = "none",
	[DR_LINK_SHORT] = "link_short",
	[DR_VLAN_DEPTH] = "vlan_depth",
	[DR_IP4_SHORT] = "ip4_short",
	[DR_IP4_HLEN] = "ip4_header_length",
	[DR_IP4_TOTLEN] = "ip4_total_length",
	[DR_IP6_SHORT] = "ip6_short",
	[DR_IP6_PLEN] = "ip6_payload_length",
	[DR_IP6_EXT] = "ip6_extension_header",
	[DR_IP6_EXT_DEPTH] = "ip6_extension_depth",
	[DR_IP_VERSION] = "ip_version",
	[DR_FRAG_BAD] = "fragment_bad",
	[DR_FRAG_OVERLAP] = "fragment_overlap",
	[DR_FRAG_LIMIT] = "fragment_limit",
	[DR_FRAG_TIMEOUT] = "fragment_timeout",
	[DR_TCP_SHORT] = "tcp_short",
	[DR_TCP_HLEN] = "tcp_header_length",
	[DR_UDP_SHORT] = "udp_short",
	[DR_UDP_LEN] = "udp_length",
	[DR_ICMP_SHORT] = "icmp_short",
	[DR_NOT_IP] = "not_ip",
	[DR_OTHER_PROTO] = "other_protocol",
	[DR_LINK_UNKNOWN] = "link_unknown",
};

const char *decode_reason_name(enum decode_reason r)
{
	if ((int)r < 0 || r >= DR__COUNT)
		return NULL;
	return reason_names[r];
}

bool decode_reason_is_drop(enum decode_reason r)
{
	return r > DR_NONE && r < DR_NOT_IP;
}
