/*
 * stream.h - one direction of a TCP connection, put back in order.
 *
 * Segments are handed over in the order they were captured; their bytes
 * come out in sequence order through a callback, at once when they are the
 * next expected bytes (no copy), or after the segments before them have
 * come (held out of order, copied). What is held is bounded per stream and
 * for all streams of a context; when a hole is not filled before a bound
 * is reached, or when the stream ends, the missing bytes are passed on as
 * a gap (the callback with data NULL) and delivery goes on after it: a
 * lost segment costs the bytes it carried, never the rest of the stream.
 * Retransmitted bytes are passed on once. Bytes cut from a segment by the
 * snapshot length are a gap too.
 */
#ifndef BW_STREAM_H
#define BW_STREAM_H

#include <stdbool.h>
#include <stdint.h>

struct stream_limits {
	uint32_t max_held_bytes;    /* per stream; default 256 KB */
	uint32_t max_held_segments; /* per stream; default 256 */
	uint64_t max_total_bytes;   /* all streams of a context; default 64 MB */
};

#define STREAM_LIMITS_DEFAULT                                              \
	((struct stream_limits){ .max_held_bytes = 256u << 10,             \
				 .max_held_segments = 256,                 \
				 .max_total_bytes = 64ull << 20 })

struct stream_stats {
	uint64_t segments;     /* segments given */
	uint64_t bytes;        /* bytes passed on */
	uint64_t held;         /* segments held out of order */
	uint64_t retransmitted; /* segments whose bytes were all passed on */
	uint64_t gaps;         /* holes given up on */
	uint64_t gap_bytes;    /* bytes in them */
	uint64_t held_now;     /* bytes held now, all streams */
	uint64_t held_peak;
};

/* Shared by the streams of one capture: bounds and counters. */
struct stream_ctx {
	struct stream_limits lim;
	struct stream_stats st;
};

struct stream_seg;

struct stream {
	bool started;
	uint32_t next;          /* the next sequence number expected */
	struct stream_seg *held; /* sorted by sequence number */
	uint32_t held_bytes, held_n;
};

/* Bytes in order: len bytes at data, or a gap of len bytes (data NULL). */
typedef void (*stream_fn)(void *arg, const uint8_t *data, uint32_t len);

void stream_ctx_init(struct stream_ctx *c, const struct stream_limits *lim);

/* An empty stream (zeroed memory is one too). */
void stream_init(struct stream *s);

/*
 * Take a segment of this direction: its TCP flags, sequence number, len
 * captured bytes at data, of wire bytes on the wire (wire >= len). Calls
 * fn(arg, ...) for the bytes that are now in order.
 */
void stream_segment(struct stream_ctx *c, struct stream *s, uint8_t flags,
		    uint32_t seq, const uint8_t *data, uint32_t len,
		    uint32_t wire, stream_fn fn, void *arg);

/* The stream ended: pass on what is held, with gaps for the holes, and
 * free it. The stream may not be used again but for stream_free. */
void stream_flush(struct stream_ctx *c, struct stream *s, stream_fn fn,
		  void *arg);

/* Free what is held without passing it on. */
void stream_free(struct stream_ctx *c, struct stream *s);

#endif
