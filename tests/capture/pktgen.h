/*
 * pktgen.h - frames and capture files for the capture tests.
 *
 * Frames are built field by field (Ethernet, IPv4/IPv6, TCP/UDP) into a
 * caller's buffer; a pktgen_file collects them into a classic pcap file
 * (either byte order, micro- or nanosecond stamps) written by hand, so the
 * reader is tested against files libpcap did not write. A TCP session
 * helper keeps sequence numbers so tests can script a conversation.
 */
#ifndef BW_TEST_PKTGEN_H
#define BW_TEST_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PG_MAX_FRAME 70000

struct pg_ep {
	int family; /* 4 or 6 */
	uint8_t addr[16];
	uint16_t port;
};

/* "10.0.0.1" or "::1" and a port. */
struct pg_ep pg_ep(const char *addr, uint16_t port);

/* An IP datagram (no link header) of protocol proto carrying l4 (its
 * header and payload, built by the caller); returns its length. */
size_t pg_ip(uint8_t *out, const struct pg_ep *src, const struct pg_ep *dst,
	     uint8_t proto, const uint8_t *l4, size_t l4len);
/* A TCP header + payload. */
size_t pg_tcp(uint8_t *out, uint16_t sport, uint16_t dport, uint32_t seq,
	      uint32_t ack, uint8_t flags, const void *payload, size_t len);
/* A UDP header + payload. */
size_t pg_udp(uint8_t *out, uint16_t sport, uint16_t dport,
	      const void *payload, size_t len);
/* Ethernet header (IPv4 or IPv6 by version nibble) in front of ip. */
size_t pg_eth(uint8_t *out, const uint8_t *ip, size_t iplen);

/* A capture file being written. */
struct pg_file {
	FILE *f;
	char path[256];
	bool swap;  /* big-endian headers */
	bool nano;  /* nanosecond stamps */
	int64_t ts_us;
	uint32_t linktype;
};

/* Create a file in the tests' temporary directory. */
void pg_file_open(struct pg_file *pf, const char *name, uint32_t linktype,
		  bool swap, bool nano);
/* Append a frame at time pf->ts_us (then advanced by 1 ms); caplen may be
 * below len to write a cut frame. */
void pg_file_frame(struct pg_file *pf, const uint8_t *frame, size_t caplen,
		   size_t len);
void pg_file_close(struct pg_file *pf);

/* A scripted TCP conversation, written as Ethernet frames to pf. */
struct pg_tcp_session {
	struct pg_file *pf;
	struct pg_ep c, s;
	uint32_t cseq, sseq;
};

/* SYN, SYN-ACK, ACK. */
void pg_tcp_open(struct pg_tcp_session *t, struct pg_file *pf,
		 struct pg_ep c, struct pg_ep s);
/* Data from the client (to_server) or the server, in one segment. */
void pg_tcp_send(struct pg_tcp_session *t, bool to_server, const void *data,
		 size_t len);
/* As pg_tcp_send but at sequence offset skip of the stream without
 * advancing it (for out-of-order and retransmission tests). */
void pg_tcp_send_at(struct pg_tcp_session *t, bool to_server, uint32_t seq,
		    const void *data, size_t len);
/* FIN from both sides and the last ACK. */
void pg_tcp_close(struct pg_tcp_session *t);

/* A UDP datagram as an Ethernet frame to pf. */
void pg_udp_send(struct pg_file *pf, struct pg_ep src, struct pg_ep dst,
		 const void *data, size_t len);

#endif
