/*
 * wire.h - the protocol between agents and the notifier: versioned
 * multipart ZeroMQ messages.
 *
 * Only wire.c knows the format (written down in docs/transport.md). Three
 * message types:
 *
 *   INCIDENT   agent -> notifier: one incident revision. seq is the spool's
 *              sequence number of the revision: it grows over the life of the
 *              agent's spool, across reconnections and restarts, so it is
 *              not tied to one connection; the ACK echoes it.
 *   ACK        notifier -> agent: seq, id and revision of an INCIDENT, and
 *              a status: BW_WIRE_OK once the revision is committed, or a
 *              rejection code with a reason text when the notifier will never
 *              accept this revision (the agent sets it aside and counts it).
 *   HEARTBEAT  both ways: the agent sends one now and then; the notifier
 *              answers each with one. Carries the sender's clock and, from
 *              an agent, how many revisions wait in its spool.
 *
 * Decoding is strict and field by field: a wrong magic or version, an
 * unknown type, too few or too many frames, a field of the wrong length,
 * trailing bytes, text that is not clean UTF-8 or a value out of range is an
 * error whose message names the frame and the field.
 */
#ifndef BW_WIRE_H
#define BW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "incident.h"

#define BW_WIRE_VERSION 1

#define BW_WIRE_MAX_ID BW_INC_MAX_STR     /* incident id, bytes */
#define BW_WIRE_MAX_REASON 1024           /* rejection text, bytes */
#define BW_WIRE_MAX_JSON BW_INC_MAX_JSON  /* incident JSON, bytes */
#define BW_WIRE_MAX_FRAMES 6              /* most frames of any type */
#define BW_WIRE_MAX_ROUTING_ID 255        /* ROUTER routing id, bytes */
/* The largest frame each side receives: for ZMQ_MAXMSGSIZE on the notifier's
 * ROUTER (an INCIDENT's JSON) and on the agent's DEALER (an ACK's id). */
#define BW_WIRE_MAX_FRAME_TO_NOTIFIER BW_WIRE_MAX_JSON
#define BW_WIRE_MAX_FRAME_TO_AGENT BW_WIRE_MAX_ID

enum bw_wire_type {
	BW_WIRE_INCIDENT = 1,
	BW_WIRE_ACK = 2,
	BW_WIRE_HEARTBEAT = 3,
};

/* The status of an ACK. Codes other than OK are rejections: the notifier
 * will never accept this revision, so resending it is pointless. A failure
 * the notifier may recover from (its store is busy, its disk full) is not a
 * rejection: it sends no ACK, and the agent resends later. */
enum bw_wire_status {
	BW_WIRE_OK = 0,
	BW_WIRE_REJ_MALFORMED = 1, /* the JSON is not a valid incident */
	BW_WIRE_REJ_MISMATCH = 2,  /* the frames' id/revision differ from
				      the JSON's */
	BW_WIRE_REJ_HOST = 3,      /* the incident's host is not the
				      authenticated agent */
	BW_WIRE_REJ_CONFLICT = 4,  /* this (id, revision) is stored with other
				      contents */
	BW_WIRE_REJ_LIMIT = 5,     /* over a limit of the notifier */
};

/* "INCIDENT", "ACK", "HEARTBEAT"; NULL for other values. */
const char *bw_wire_type_name(enum bw_wire_type t);
/* "ok", "malformed", "mismatch", "host", "conflict", "limit"; NULL for
 * codes this version does not know (an ACK may still carry them: any code
 * but OK is a rejection). */
const char *bw_wire_status_name(unsigned status);

/*
 * One decoded message, or one to encode. Which members are used depends on
 * type; the others are 0 / NULL. After bw_wire_decode or bw_wire_recv the
 * strings are owned by the message (NUL-terminated, free with
 * bw_wire_msg_clear); a message built for sending may point at the caller's
 * strings (they are copied into the frames).
 */
struct bw_wire_msg {
	enum bw_wire_type type;
	uint64_t seq;      /* INCIDENT, ACK: >= 1 */
	char *id;          /* INCIDENT, ACK: 1..BW_WIRE_MAX_ID bytes */
	size_t id_len;
	uint32_t revision; /* INCIDENT, ACK: >= 1 */
	char *json;        /* INCIDENT: 1..BW_WIRE_MAX_JSON bytes */
	size_t json_len;
	uint16_t status;   /* ACK: enum bw_wire_status */
	char *reason;      /* ACK: empty for OK, 1..BW_WIRE_MAX_REASON bytes
			      for a rejection */
	size_t reason_len;
	int64_t time_us;   /* HEARTBEAT: the sender's clock, UTC us */
	uint64_t pending;  /* HEARTBEAT: revisions waiting in the spool */
};

/* Free the strings of a decoded message and zero it. Accepts a zeroed
 * message. Do not call it on a message whose strings the caller owns. */
void bw_wire_msg_clear(struct bw_wire_msg *m);

/* A frame's bytes (borrowed). */
struct bw_wire_frame {
	const void *data;
	size_t len;
};

/* The frames of an encoded message. The frames point into this struct
 * (fixed-size fields) and at the message's strings: both must stay
 * unchanged and in place while the frames are used. */
struct bw_wire_frames {
	size_t n;
	struct bw_wire_frame f[BW_WIRE_MAX_FRAMES];
	unsigned char fixed[BW_WIRE_MAX_FRAMES][8];
};

/* Encode m into out. Returns -1 with err filled if m breaks a rule the
 * decoder enforces (so nothing is sent that the other side must refuse). */
int bw_wire_encode(const struct bw_wire_msg *m, struct bw_wire_frames *out,
		   struct bw_error *err) BW_WUR;

/* Decode n frames. On success out owns copies of the strings (free with
 * bw_wire_msg_clear). On failure returns -1 with err naming what was wrong
 * and out zeroed. */
int bw_wire_decode(const struct bw_wire_frame *frames, size_t n,
		   struct bw_wire_msg *out, struct bw_error *err) BW_WUR;

/* An ACK for the INCIDENT inc (seq, id and revision copied by pointer from
 * inc, which must outlive ack). reason is borrowed; NULL means "". */
void bw_wire_ack_for(const struct bw_wire_msg *inc, enum bw_wire_status status,
		     const char *reason, struct bw_wire_msg *ack);

/* Decode the JSON of an INCIDENT message strictly (incident.h) and check
 * that its id and revision are those of the frames. Returns the incident
 * (caller owns it), or NULL with err filled and *reject set to the status
 * the ACK should carry (BW_WIRE_REJ_MALFORMED or BW_WIRE_REJ_MISMATCH). */
struct bw_incident *bw_wire_incident(const struct bw_wire_msg *m,
				     enum bw_wire_status *reject,
				     struct bw_error *err) BW_WUR;

/*
 * Sending and receiving over a ZeroMQ socket.
 */

/* Who a message on a ROUTER came from, or goes to. */
struct bw_wire_peer {
	unsigned char rid[BW_WIRE_MAX_ROUTING_ID]; /* routing id */
	size_t rid_len;
	char user_id[256]; /* ZAP User-Id: the agent's name; "" if none */
	char address[64];  /* Peer-Address: the IP address; "" if unknown */
};

/* Send m as one multipart message on sock. On a ROUTER, to is the peer to
 * send to (its routing id goes first); on a DEALER, to is NULL. flags may be
 * ZMQ_DONTWAIT. Returns 0, or -1 with err filled and errno as zmq left it
 * (EAGAIN: not sent, try later; EHOSTUNREACH: the peer is gone, with
 * ZMQ_ROUTER_MANDATORY). All frames are sent or none. */
int bw_wire_send(void *sock, const struct bw_wire_peer *to,
		 const struct bw_wire_msg *m, int flags,
		 struct bw_error *err) BW_WUR;

enum bw_wire_recv_rc {
	BW_WIRE_RECV_ERROR = -2, /* the socket failed (errno; e.g. ETERM) */
	BW_WIRE_RECV_BAD = -1,   /* a message arrived and was refused */
	BW_WIRE_RECV_NONE = 0,   /* nothing to read (ZMQ_DONTWAIT) */
	BW_WIRE_RECV_MSG = 1,    /* *out holds a message */
};

/* Receive one whole multipart message from sock. router says the socket is
 * a ROUTER: the first frame is then the routing id, stored in *peer with the
 * message's User-Id and Peer-Address (peer may be NULL on a DEALER). flags
 * may be ZMQ_DONTWAIT. Every frame of the message is consumed even when it
 * is refused, so the next call starts at a message boundary. Returns an
 * enum bw_wire_recv_rc; with BW_WIRE_RECV_MSG, out owns its strings (free
 * with bw_wire_msg_clear); with BAD or ERROR, err says why and out is
 * zeroed; with BAD, *peer tells who sent it. */
int bw_wire_recv(void *sock, bool router, int flags, struct bw_wire_msg *out,
		 struct bw_wire_peer *peer, struct bw_error *err) BW_WUR;

#endif
