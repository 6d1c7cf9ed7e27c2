/*
 * decode_ip.c - IPv4 and IPv6 (with extension headers and fragments).
 *
 * The datagram's length fields are checked against the captured bytes:
 * on a whole frame a length past the data is inconsistent (dropped); on a
 * frame cut by the snapshot length it is expected, and the payload is what
 * was captured. Bytes past the datagram's length (Ethernet padding, a
 * trailer) are not payload.
 */
#include "decode_int.h"

#define IP6_MAX_EXT 8

enum { NH_HOPOPTS = 0, NH_ROUTING = 43, NH_FRAGMENT = 44, NH_ESP = 50,
       NH_AH = 51, NH_NONE = 59, NH_DSTOPTS = 60, NH_MOBILITY = 135 };

/* A whole fragmentable part, reassembled: decode its transport header. The
 * payload is in d->rbuf. */
static enum decode_result whole(struct decoder *d, const struct frag_key *k,
				uint32_t off, const uint8_t *p, uint32_t len,
				bool more, int64_t ts_us, uint8_t *proto,
				uint32_t *outlen, enum decode_reason *r)
{
	enum decode_result res;

	d->st.fragments++;
	res = frag_add(d->frag, k, off, p, len, more, ts_us, d->rbuf, outlen,
		       proto, r);
	if (res == DECODE_DROPPED)
		d->st.by_reason[*r]++;
	return res;
}

static enum decode_result ip4(struct decoder *d, const uint8_t *p,
			      uint32_t caplen, bool cut, int64_t ts_us,
			      struct decode_pkt *out, enum decode_reason *r)
{
	uint32_t hlen, tot, avail, frag_off;
	bool more;
	uint8_t proto;

	if (caplen < 20)
		return DROP(d, r, DR_IP4_SHORT);
	if (p[0] >> 4 != 4)
		return DROP(d, r, DR_IP_VERSION);
	hlen = (uint32_t)(p[0] & 0x0f) * 4;
	if (hlen < 20 || hlen > caplen)
		return DROP(d, r, DR_IP4_HLEN);
	tot = rd16(p + 2);
	/* A zero total length is what TCP segmentation offload leaves in
	 * frames captured before the NIC splits them: take the frame's. */
	if (tot == 0 && !cut)
		tot = caplen;
	if (tot < hlen)
		return DROP(d, r, DR_IP4_TOTLEN);
	if (tot > caplen && !cut)
		return DROP(d, r, DR_IP4_TOTLEN);
	avail = (tot < caplen ? tot : caplen) - hlen;
	out->src.family = out->dst.family = 4;
	memcpy(out->src.bytes, p + 12, 4);
	memcpy(out->dst.bytes, p + 16, 4);
	out->ip_len = tot;
	proto = p[9];
	frag_off = (uint32_t)(rd16(p + 6) & 0x1fff) * 8;
	more = (p[6] & 0x20) != 0;
	if (frag_off != 0 || more) {
		struct frag_key k = { .family = 4, .proto = proto,
				      .id = rd16(p + 4) };
		uint32_t len = 0;
		enum decode_result res;

		if (avail < tot - hlen) /* a fragment cut short: unusable */
			return DROP(d, r, DR_FRAG_BAD);
		memcpy(k.src, p + 12, 4);
		memcpy(k.dst, p + 16, 4);
		res = whole(d, &k, frag_off, p + hlen, avail, more, ts_us,
			    &proto, &len, r);
		if (res != DECODE_PACKET)
			return res;
		out->reassembled = true;
		out->ip_len = hlen + len;
		return decode_l4(d, proto, d->rbuf, len, len, out, r);
	}
	return decode_l4(d, proto, p + hlen, avail, tot - hlen, out, r);
}

/*
 * Walk IPv6 extension headers from next header *nh at p[*off]; stops at
 * the first header that is not one (the transport), or at a fragment
 * header when frag is not NULL (*frag then points at it). Returns 0, or
 * -1 with *r.
 */
static int ip6_ext(const uint8_t *p, uint32_t len, uint8_t *nh,
		   uint32_t *off, const uint8_t **frag, enum decode_reason *r)
{
	for (int n = 0;; n++) {
		uint32_t hl;

		switch (*nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_MOBILITY:
		case NH_AH:
		case NH_FRAGMENT:
			break;
		default:
			return 0;
		}
		if (n == IP6_MAX_EXT) {
			*r = DR_IP6_EXT_DEPTH;
			return -1;
		}
		if (len - *off < 8) {
			*r = DR_IP6_EXT;
			return -1;
		}
		if (*nh == NH_FRAGMENT) {
			if (frag == NULL) { /* a second fragment header */
				*r = DR_FRAG_BAD;
				return -1;
			}
			*frag = p + *off;
			return 0;
		}
		if (*nh == NH_AH)
			hl = ((uint32_t)p[*off + 1] + 2) * 4;
		else
			hl = ((uint32_t)p[*off + 1] + 1) * 8;
		if (hl > len - *off) {
			*r = DR_IP6_EXT;
			return -1;
		}
		*nh = p[*off];
		*off += hl;
	}
}

static enum decode_result ip6(struct decoder *d, const uint8_t *p,
			      uint32_t caplen, bool cut, int64_t ts_us,
			      struct decode_pkt *out, enum decode_reason *r)
{
	uint32_t plen, avail, off = 40;
	const uint8_t *frag = NULL;
	uint8_t nh;

	if (caplen < 40)
		return DROP(d, r, DR_IP6_SHORT);
	if (p[0] >> 4 != 6)
		return DROP(d, r, DR_IP_VERSION);
	plen = rd16(p + 4);
	if (plen == 0 && !cut) /* a jumbogram, or offload: the frame's */
		plen = caplen - 40;
	if (40 + plen > caplen && !cut)
		return DROP(d, r, DR_IP6_PLEN);
	avail = 40 + plen < caplen ? 40 + plen : caplen;
	out->src.family = out->dst.family = 6;
	memcpy(out->src.bytes, p + 8, 16);
	memcpy(out->dst.bytes, p + 24, 16);
	out->ip_len = 40 + plen;
	nh = p[6];
	if (ip6_ext(p, avail, &nh, &off, &frag, r) < 0)
		return DROP(d, r, *r);
	if (frag != NULL) {
		struct frag_key k = { .family = 6, .proto = frag[0],
				      .id = rd32(frag + 4) };
		uint32_t foff = rd16(frag + 2) & 0xfff8, len = 0, o2 = 0;
		bool more = (frag[3] & 1) != 0;
		enum decode_result res;

		off += 8;
		if (foff == 0 && !more) { /* an atomic fragment */
			nh = frag[0];
			if (ip6_ext(p, avail, &nh, &off, NULL, r) < 0)
				return DROP(d, r, *r);
			return decode_l4(d, nh, p + off, avail - off,
					 40 + plen - off, out, r);
		}
		if (avail < 40 + plen)
			return DROP(d, r, DR_FRAG_BAD);
		memcpy(k.src, p + 8, 16);
		memcpy(k.dst, p + 24, 16);
		res = whole(d, &k, foff, p + off, avail - off, more, ts_us,
			    &nh, &len, r);
		if (res != DECODE_PACKET)
			return res;
		out->reassembled = true;
		out->ip_len = off + len;
		/* The fragmentable part may start with more extensions. */
		if (ip6_ext(d->rbuf, len, &nh, &o2, NULL, r) < 0)
			return DROP(d, r, *r);
		return decode_l4(d, nh, d->rbuf + o2, len - o2, len - o2, out,
				 r);
	}
	return decode_l4(d, nh, p + off, avail - off, 40 + plen - off, out, r);
}

enum decode_result decode_ip(struct decoder *d, const uint8_t *p,
			     uint32_t caplen, bool cut, int version,
			     int64_t ts_us, struct decode_pkt *out,
			     enum decode_reason *r)
{
	if (caplen == 0)
		return DROP(d, r, DR_IP4_SHORT);
	if (version == 0)
		version = p[0] >> 4;
	if (version == 4)
		return ip4(d, p, caplen, cut, ts_us, out, r);
	if (version == 6)
		return ip6(d, p, caplen, cut, ts_us, out, r);
	return DROP(d, r, DR_IP_VERSION);
}
