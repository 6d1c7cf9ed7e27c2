/*
 * zmsg.h - receiving a whole multipart ZeroMQ message, bounded.
 *
 * Whoever reads a socket that others write to must consume each message
 * whole, however many frames it has, so the next read starts at a message
 * boundary; and must not hold an unbounded number of frames. Used by the
 * wire protocol (wire.c) and the ZAP handler.
 */
#ifndef BW_ZMSG_H
#define BW_ZMSG_H

#include <stddef.h>
#include <zmq.h>

/* Receive one message: its first max frames into parts (initialised here),
 * the rest received, dropped and counted in *extra. flags applies to the
 * first frame (ZMQ_DONTWAIT); the others are there at once. Returns 1 with
 * *n frames that the caller closes (bw_zmsg_close), 0 when nothing is
 * waiting (EAGAIN, or EINTR before the first frame), -1 with errno set when
 * the socket failed (nothing left to close). */
int bw_zmsg_recv(void *sock, zmq_msg_t *parts, size_t max, size_t *n,
		 size_t *extra, int flags);

/* Close the first n frames of parts. */
void bw_zmsg_close(zmq_msg_t *parts, size_t n);

#endif
