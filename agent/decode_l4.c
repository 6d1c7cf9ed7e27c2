/*
 * decode_l4.c - TCP, UDP, ICMP and ICMPv6 headers (see decode.h).
 */
#include "decode_int.h"

static void set_payload(struct decode_pkt *out, const uint8_t *p,
			uint32_t avail, uint32_t wire)
{
	out->payload = avail > 0 ? p : NULL;
	out->payload_len = avail;
	out->payload_wire = wire >= avail ? wire : avail;
	out->truncated = out->payload_len < out->payload_wire;
}

static enum decode_result tcp(struct decoder *d, const uint8_t *p,
			      uint32_t avail, uint32_t wire,
			      struct decode_pkt *out, enum decode_reason *r)
{
	uint32_t doff;

	if (avail < 20)
		return DROP(d, r, DR_TCP_SHORT);
	doff = (uint32_t)(p[12] >> 4) * 4;
	if (doff < 20 || doff > avail)
		return DROP(d, r, DR_TCP_HLEN);
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->seq = rd32(p + 4);
	out->ack = rd32(p + 8);
	out->tcp_flags = p[13];
	set_payload(out, p + doff, avail - doff, wire > doff ? wire - doff : 0);
	return DECODE_PACKET;
}

static enum decode_result udp(struct decoder *d, const uint8_t *p,
			      uint32_t avail, uint32_t wire,
			      struct decode_pkt *out, enum decode_reason *r)
{
	uint32_t ulen;

	if (avail < 8)
		return DROP(d, r, DR_UDP_SHORT);
	ulen = rd16(p + 4);
	if (ulen < 8 || ulen > wire)
		return DROP(d, r, DR_UDP_LEN);
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	if (avail > ulen)
		avail = ulen; /* trailing bytes are not the datagram's */
	set_payload(out, p + 8, avail - 8, ulen - 8);
	return DECODE_PACKET;
}

static enum decode_result icmp(struct decoder *d, const uint8_t *p,
			       uint32_t avail, uint32_t wire,
			       struct decode_pkt *out, enum decode_reason *r)
{
	if (avail < 4)
		return DROP(d, r, DR_ICMP_SHORT);
	out->icmp_type = p[0];
	out->icmp_code = p[1];
	if (avail >= 8)
		set_payload(out, p + 8, avail - 8, wire > 8 ? wire - 8 : 0);
	return DECODE_PACKET;
}

enum decode_result decode_l4(struct decoder *d, uint8_t proto,
			     const uint8_t *p, uint32_t avail, uint32_t wire,
			     struct decode_pkt *out, enum decode_reason *r)
{
	out->proto = proto;
	switch (proto) {
	case DP_TCP:
		return tcp(d, p, avail, wire, out, r);
	case DP_UDP:
		return udp(d, p, avail, wire, out, r);
	case DP_ICMP:
	case DP_ICMP6:
		return icmp(d, p, avail, wire, out, r);
	default:
		return IGNORE(d, r, DR_OTHER_PROTO);
	}
}
