/*
 * zap.h - the notifier's ZAP handler: which peers may talk to it.
 *
 * ZeroMQ asks the handler bound at inproc://zeromq.zap.01 in the socket's
 * context about every peer that completes a security handshake with a
 * socket of that context (RFC 27). This one lets in a CURVE client whose
 * public key is in the authorised-agents file (keys.h) and gives it the
 * agent's name as its User-Id, which every message it sends then carries
 * (bw_wire_peer.user_id). Any other peer (an unknown key, another
 * mechanism) is refused with status 400 and never gets to send a message.
 *
 * The handler is a REP socket serviced from the notifier's own poll loop:
 * poll zap_socket() (zmq_poll) or zap_fd() (ZMQ_FD: edge-triggered), then
 * call zap_process(), which answers every pending request. Each decision is
 * recorded as an event (peer address, key in Z85, agent name or reason)
 * for the caller to log and count: take them with zap_next_event().
 *
 * zap_reload() re-reads the file; connections are not dropped (ZAP is only
 * asked at a handshake). An agent removed from the file keeps a connection
 * it already has until it breaks, so the notifier checks each message's
 * User-Id with zap_is_authorized() and drops messages from agents no
 * longer in the file.
 *
 * Create the handler before the ROUTER binds, in the ROUTER's context, and
 * destroy it before terminating the context. One handler per context.
 */
#ifndef BW_ZAP_H
#define BW_ZAP_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/keys.h"

/* Events kept until taken; older ones beyond this are dropped and counted
 * (zap_stats.events_dropped). */
#define ZAP_MAX_EVENTS 256

struct zap_event {
	bool accepted;
	char agent[BW_KEYS_MAX_NAME + 1];  /* accepted: the agent's name */
	char address[64];                  /* the peer's IP address */
	char key_z85[BW_KEY_Z85_LEN + 1];  /* CURVE: the client's key; else "" */
	char mechanism[16];                /* "CURVE", "PLAIN", "NULL", ... */
	char reason[96];                   /* refused: why */
};

struct zap_stats {
	uint64_t accepted;
	uint64_t refused;
	uint64_t malformed;      /* requests not following RFC 27 (refused) */
	uint64_t events_dropped; /* events not taken in time */
	uint64_t reloads;
	size_t agents;           /* authorised agents now */
};

struct zap;

/* Load the authorised-agents file at auth_path and bind the handler in the
 * context zctx (borrowed). Returns NULL with err filled (a bad file at
 * file:line, or the address already taken by another handler). Caller owns
 * the result. */
struct zap *zap_new(void *zctx, const char *auth_path,
		    struct bw_error *err) BW_WUR;

/* Close the handler's socket. Accepts NULL; nulls the caller's pointer. */
void zap_destroy(struct zap **z);

/* The REP socket, for zmq_poll (borrowed). */
void *zap_socket(struct zap *z);
/* Its ZMQ_FD, for poll(2): edge-triggered, so call zap_process() each time
 * it is readable and at start. Returns -1 with err on failure. */
int zap_fd(struct zap *z, struct bw_error *err) BW_WUR;

/* Answer every pending request without blocking. Returns how many were
 * answered, or -1 with err when the socket failed. */
int zap_process(struct zap *z, struct bw_error *err) BW_WUR;

/* Take the oldest recorded event. Returns false when there is none. */
bool zap_next_event(struct zap *z, struct zap_event *out);

/* Re-read the authorised-agents file. On error the old set stays in force
 * and -1 is returned with err at file:line. */
int zap_reload(struct zap *z, struct bw_error *err) BW_WUR;

/* Whether agent (a User-Id) is in the set now in force. */
bool zap_is_authorized(const struct zap *z, const char *agent);

void zap_get_stats(const struct zap *z, struct zap_stats *out);

#endif
