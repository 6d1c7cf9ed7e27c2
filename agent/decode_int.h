/*
 * decode_int.h - what the decoder's files share (decode.c, decode_ip.c,
 * decode_frag.c, decode_l4.c). Not for other modules: use decode.h.
 */
#ifndef BW_DECODE_INT_H
#define BW_DECODE_INT_H

#include <stdint.h>
#include <string.h>

#include "decode.h"

/* The largest datagram reassembly builds (the IPv4 and IPv6 limit). */
#define DECODE_MAX_DATAGRAM 65535u

struct frag_table;

struct decoder {
	int dlt;
	struct decode_limits lim;
	struct decode_stats st;
	struct frag_table *frag;
	uint8_t *rbuf; /* the last reassembled datagram, DECODE_MAX_DATAGRAM */
};

/* Big-endian reads; the caller has checked the bounds. */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Count reason r (dropped or ignored) and return res. */
static inline enum decode_result decode_fail(struct decoder *d,
					     enum decode_reason *out,
					     enum decode_result res,
					     enum decode_reason r)
{
	d->st.by_reason[r]++;
	if (out != NULL)
		*out = r;
	return res;
}

#define DROP(d, out, r) decode_fail((d), (out), DECODE_DROPPED, (r))
#define IGNORE(d, out, r) decode_fail((d), (out), DECODE_IGNORED, (r))

/*
 * An IP datagram at p: caplen bytes captured, cut when the frame was cut by
 * the snapshot length (lengths past the data are then expected, not
 * inconsistent). version is 4 or 6, or 0 to read it from the first nibble.
 */
enum decode_result decode_ip(struct decoder *d, const uint8_t *p,
			     uint32_t caplen, bool cut, int version,
			     int64_t ts_us, struct decode_pkt *out,
			     enum decode_reason *r);

/* The transport header of protocol proto at p: avail bytes captured of
 * wire bytes on the wire. Fills ports, flags and payload of out. */
enum decode_result decode_l4(struct decoder *d, uint8_t proto,
			     const uint8_t *p, uint32_t avail, uint32_t wire,
			     struct decode_pkt *out, enum decode_reason *r);

/* A fragment's datagram: addresses, identification, and (IPv4) protocol. */
struct frag_key {
	uint8_t family;
	uint8_t proto; /* IPv4: part of the key; IPv6: the fragment's next header */
	uint8_t src[16], dst[16];
	uint32_t id;
};

/* by_reason: the decoder's counters, where evictions (DR_FRAG_LIMIT) and
 * timeouts (DR_FRAG_TIMEOUT) are counted. */
struct frag_table *frag_new(const struct decode_limits *lim,
			   uint64_t *by_reason);
void frag_destroy(struct frag_table **t);

/*
 * Take a fragment: len bytes at byte offset off of the datagram's
 * fragmentable part, more = more fragments follow. Returns DECODE_HELD,
 * DECODE_DROPPED with *r (FRAG_BAD, FRAG_OVERLAP: the datagram is dropped
 * too; FRAG_LIMIT), or DECODE_PACKET when the datagram is whole: its
 * len bytes are copied to out (DECODE_MAX_DATAGRAM bytes) and *out_len set,
 * and *proto set to the first fragment's protocol.
 */
enum decode_result frag_add(struct frag_table *t, const struct frag_key *k,
			    uint32_t off, const uint8_t *p, uint32_t len,
			    bool more, int64_t ts_us, uint8_t *out,
			    uint32_t *out_len, uint8_t *proto,
			    enum decode_reason *r);

/* Drop datagrams not completed by now_us (counted as DR_FRAG_TIMEOUT). */
void frag_expire(struct frag_table *t, int64_t now_us);

#endif
