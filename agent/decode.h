/*
 * decode.h - a captured frame into addresses, ports and payload.
 *
 * The link layer (decode.c: Ethernet with 802.1Q/802.1ad tags, Linux SLL
 * and SLL2, raw IP, BSD null/loop), IPv4 and IPv6 with its extension
 * headers (decode_ip.c), fragments put back together within bounds
 * (decode_frag.c), and TCP, UDP, ICMP and ICMPv6 (decode_l4.c).
 *
 * Every length is checked against the bytes captured before it is used; a
 * frame that is short or says inconsistent things is dropped and counted
 * under its reason (decode_reason_name). A frame cut by the snapshot length
 * is not inconsistent: it is decoded as far as it goes and flagged
 * truncated (its payload is shorter than the wire's).
 *
 * The decoded packet points into the frame, or into the decoder's own
 * buffer for a reassembled datagram: valid until the next call.
 */
#ifndef BW_DECODE_H
#define BW_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/event.h"

/* What became of a frame. */
enum decode_result {
	DECODE_PACKET,  /* *out holds a decoded packet */
	DECODE_HELD,    /* a fragment, kept until its datagram is whole */
	DECODE_IGNORED, /* well formed, but nothing to decode (ARP, GRE...) */
	DECODE_DROPPED, /* short or inconsistent: counted under a reason */
};

/* Why a frame was dropped or ignored. The order is part of no format. */
enum decode_reason {
	DR_NONE = 0,
	/* dropped */
	DR_LINK_SHORT,    /* shorter than its link header */
	DR_VLAN_DEPTH,    /* more 802.1Q tags than DECODE_MAX_VLAN */
	DR_IP4_SHORT,     /* shorter than an IPv4 header */
	DR_IP4_HLEN,      /* header length < 20 or past the data */
	DR_IP4_TOTLEN,    /* total length < header, or past a whole frame */
	DR_IP6_SHORT,     /* shorter than an IPv6 header */
	DR_IP6_PLEN,      /* payload length past a whole frame */
	DR_IP6_EXT,       /* an extension header runs past the data */
	DR_IP6_EXT_DEPTH, /* more extension headers than allowed */
	DR_IP_VERSION,    /* the version does not match the link's */
	DR_FRAG_BAD,      /* a fragment of impossible size or offset */
	DR_FRAG_OVERLAP,  /* a fragment overlapping with different bytes */
	DR_FRAG_LIMIT,    /* no room for another datagram (count or bytes) */
	DR_FRAG_TIMEOUT,  /* a datagram not completed in time (counted at expiry) */
	DR_TCP_SHORT,     /* shorter than a TCP header */
	DR_TCP_HLEN,      /* data offset < 5 words or past the segment */
	DR_UDP_SHORT,     /* shorter than a UDP header */
	DR_UDP_LEN,       /* length field < 8 or past a whole datagram */
	DR_ICMP_SHORT,    /* shorter than an ICMP header */
	/* ignored */
	DR_NOT_IP,        /* ARP, LLDP, other ethertypes */
	DR_OTHER_PROTO,   /* IP but not TCP/UDP/ICMP (GRE, ESP, ...) */
	DR_LINK_UNKNOWN,  /* a link type the decoder was not made for */
	DR__COUNT
};

#define DECODE_MAX_VLAN 4

/* Bounds of fragment reassembly (per decoder). */
struct decode_limits {
	uint32_t frag_max_datagrams; /* pending datagrams at once; default 256 */
	uint32_t frag_max_bytes;     /* buffered fragment bytes; default 4 MB */
	int64_t frag_timeout_us;     /* event time; default 30 s */
};

#define DECODE_LIMITS_DEFAULT                                            \
	((struct decode_limits){ .frag_max_datagrams = 256,              \
				 .frag_max_bytes = 4u << 20,              \
				 .frag_timeout_us = 30 * 1000000LL })

enum decode_proto { DP_TCP = 6, DP_UDP = 17, DP_ICMP = 1, DP_ICMP6 = 58 };

/* TCP flags. */
#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10

struct decode_pkt {
	int64_t ts_us;
	struct bw_addr src, dst;
	uint8_t proto;            /* enum decode_proto */
	uint16_t sport, dport;    /* 0 for ICMP */
	uint8_t tcp_flags;
	uint32_t seq, ack;        /* TCP */
	uint8_t icmp_type, icmp_code;
	uint32_t ip_len;          /* the IP datagram's length on the wire */
	const uint8_t *payload;   /* L4 payload as captured */
	uint32_t payload_len;     /* bytes at payload */
	uint32_t payload_wire;    /* payload bytes on the wire (>= payload_len) */
	bool truncated;           /* payload_len < payload_wire (snaplen) */
	bool reassembled;         /* from IP fragments */
};

struct decode_stats {
	uint64_t frames;
	uint64_t packets;     /* DECODE_PACKET results */
	uint64_t reassembled; /* of them, datagrams rebuilt from fragments */
	uint64_t fragments;   /* fragments taken in */
	uint64_t by_reason[DR__COUNT];
};

struct decoder;

/* A decoder for frames of link type dlt (capture_linktype). Caller owns
 * it. */
struct decoder *decoder_new(int dlt, const struct decode_limits *lim);
void decoder_destroy(struct decoder **d);

/*
 * Decode one frame of caplen captured bytes (wire_len on the wire) seen at
 * ts_us. Returns what became of it; for DECODE_DROPPED and DECODE_IGNORED
 * the reason has been counted and *reason (may be NULL) says which.
 * Never reads outside data[0..caplen).
 */
enum decode_result decoder_frame(struct decoder *d, const uint8_t *data,
				 uint32_t caplen, uint32_t wire_len,
				 int64_t ts_us, struct decode_pkt *out,
				 enum decode_reason *reason);

/* Drop pending fragments older than the timeout at event time now_us. */
void decoder_expire(struct decoder *d, int64_t now_us);

const struct decode_stats *decoder_stats(const struct decoder *d);

/* "ip4_short", ... for logs and summaries; NULL for out-of-range. */
const char *decode_reason_name(enum decode_reason r);

/* Whether r is a drop (malformed) rather than something ignored. */
bool decode_reason_is_drop(enum decode_reason r);

#endif
