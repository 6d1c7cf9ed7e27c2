/*
 * wire.c - the agent <-> notifier protocol (wire.h, docs/transport.md).
 *
 * Every message is frame 0, the header (4 bytes: 'B' 'W' version type),
 * then one frame per field of its type, in the order of the type's table
 * below. Integers are big-endian and exactly their size; text is UTF-8
 * without control characters; the JSON is bytes whose length alone is
 * checked here (incident.h decodes it). Encoding and decoding walk the same
 * tables, so the two cannot disagree.
 */
#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "utf8.h"
#include "xmalloc.h"
#include "zmsg.h"

#define HEADER_LEN 4
#define MAGIC0 'B'
#define MAGIC1 'W'

enum fkind { F_U16, F_U32, F_U64, F_I64, F_TEXT, F_BYTES };

struct field {
	const char *name;
	enum fkind kind;
	uint64_t min, max; /* integers: values; text and bytes: length */
	size_t off;        /* the member */
	size_t len_off;    /* text and bytes: the length member */
};

#define M(x) offsetof(struct bw_wire_msg, x)

static const struct field incident_fields[] = {
    {"seq", F_U64, 1, UINT64_MAX, M(seq), 0},
    {"id", F_TEXT, 1, BW_WIRE_MAX_ID, M(id), M(id_len)},
    {"revision", F_U32, 1, UINT32_MAX, M(revision), 0},
    {"json", F_BYTES, 1, BW_WIRE_MAX_JSON, M(json), M(json_len)},
};

static const struct field ack_fields[] = {
    {"seq", F_U64, 1, UINT64_MAX, M(seq), 0},
    {"id", F_TEXT, 1, BW_WIRE_MAX_ID, M(id), M(id_len)},
    {"revision", F_U32, 1, UINT32_MAX, M(revision), 0},
    {"status", F_U16, 0, UINT16_MAX, M(status), 0},
    {"reason", F_TEXT, 0, BW_WIRE_MAX_REASON, M(reason), M(reason_len)},
};

static const struct field heartbeat_fields[] = {
    {"time", F_I64, 0, 0, M(time_us), 0},
    {"pending", F_U64, 0, UINT64_MAX, M(pending), 0},
};

static int check_ack(const struct bw_wire_msg *m, struct bw_error *err);

struct msg_type {
	const char *name;
	const struct field *fields;
	size_t n_fields;
	/* rules across fields, after each field passed */
	int (*check)(const struct bw_wire_msg *m, struct bw_error *err);
};

#define FIELDS(a) (a), (sizeof(a) / sizeof((a)[0]))

static const struct msg_type types[] = {
    [BW_WIRE_INCIDENT] = {"INCIDENT", FIELDS(incident_fields), NULL},
    [BW_WIRE_ACK] = {"ACK", FIELDS(ack_fields), check_ack},
    [BW_WIRE_HEARTBEAT] = {"HEARTBEAT", FIELDS(heartbeat_fields), NULL},
};

#define N_TYPES (sizeof(types) / sizeof(types[0]))

static const char *const status_names[] = {
    [BW_WIRE_OK] = "ok",
    [BW_WIRE_REJ_MALFORMED] = "malformed",
    [BW_WIRE_REJ_MISMATCH] = "mismatch",
    [BW_WIRE_REJ_HOST] = "host",
    [BW_WIRE_REJ_CONFLICT] = "conflict",
    [BW_WIRE_REJ_LIMIT] = "limit",
};

static const struct msg_type *type_of(unsigned t)
{
	if (t >= N_TYPES || types[t].name == NULL)
		return NULL;
	return &types[t];
}

const char *bw_wire_type_name(enum bw_wire_type t)
{
	const struct msg_type *mt = type_of((unsigned)t);

	return mt != NULL ? mt->name : NULL;
}

const char *bw_wire_status_name(unsigned status)
{
	if (status >= sizeof(status_names) / sizeof(status_names[0]))
		return NULL;
	return status_names[status];
}

void bw_wire_msg_clear(struct bw_wire_msg *m)
{
	free(m->id);
	free(m->json);
	free(m->reason);
	memset(m, 0, sizeof(*m));
}

static int check_ack(const struct bw_wire_msg *m, struct bw_error *err)
{
	if (m->status == BW_WIRE_OK && m->reason_len > 0)
		return bw_error_set(err, NULL, 0,
		                    "ACK frame 5 (reason): an ok ACK carries "
		                    "no reason");
	if (m->status != BW_WIRE_OK && m->reason_len == 0)
		return bw_error_set(err, NULL, 0,
		                    "ACK frame 5 (reason): a rejection "
		                    "(status %u) must say why",
		                    m->status);
	return 0;
}

/* Size in bytes of an integer field. */
static size_t int_size(enum fkind k)
{
	switch (k) {
	case F_U16:
		return 2;
	case F_U32:
		return 4;
	case F_U64:
	case F_I64:
		return 8;
	default:
		return 0;
	}
}

/* Check text: UTF-8, no control characters (no NUL, so it is a C string
 * once copied). Returns -1 with err filled. */
static int check_text(const char *tname, size_t frame, const char *fname,
                      const unsigned char *p, size_t len,
                      struct bw_error *err)
{
	size_t i = 0, n;

	while (i < len) {
		if (p[i] < 0x20 || p[i] == 0x7f)
			return bw_error_set(err, NULL, 0,
			                    "%s frame %zu (%s): control "
			                    "character 0x%02x at byte %zu",
			                    tname, frame, fname, p[i], i);
		n = bw_utf8_len(p + i, len - i);
		if (n == 0)
			return bw_error_set(err, NULL, 0,
			                    "%s frame %zu (%s): invalid UTF-8 "
			                    "at byte %zu",
			                    tname, frame, fname, i);
		i += n;
	}
	return 0;
}

/* Check one field's bytes against its rules (shared by encoder and
 * decoder). frame is the frame's index, for the message. */
static int check_field(const char *tname, size_t frame, const struct field *f,
                       const unsigned char *p, size_t len,
                       struct bw_error *err)
{
	size_t want = int_size(f->kind);

	if (want > 0) {
		if (len < want)
			return bw_error_set(err, NULL, 0,
			                    "%s frame %zu (%s): %zu bytes, "
			                    "expected %zu",
			                    tname, frame, f->name, len, want);
		if (len > want)
			return bw_error_set(err, NULL, 0,
			                    "%s frame %zu (%s): %zu trailing "
			                    "bytes after the %zu-byte value",
			                    tname, frame, f->name, len - want,
			                    want);
		return 0;
	}
	if (len < f->min)
		return bw_error_set(err, NULL, 0, "%s frame %zu (%s): empty",
		                    tname, frame, f->name);
	if (len > f->max)
		return bw_error_set(err, NULL, 0,
		                    "%s frame %zu (%s): %zu bytes, more than "
		                    "%" PRIu64,
		                    tname, frame, f->name, len, f->max);
	if (f->kind == F_TEXT)
		return check_text(tname, frame, f->name, p, len, err);
	return 0;
}

static uint64_t get_be(const unsigned char *p, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static void put_be(unsigned char *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = n; i > 0; i--) {
		p[i - 1] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

static uint64_t load_int(const struct bw_wire_msg *m, const struct field *f)
{
	const char *base = (const char *)m + f->off;

	switch (f->kind) {
	case F_U16:
		return *(const uint16_t *)(const void *)base;
	case F_U32:
		return *(const uint32_t *)(const void *)base;
	case F_U64:
		return *(const uint64_t *)(const void *)base;
	case F_I64:
		return (uint64_t) * (const int64_t *)(const void *)base;
	default:
		return 0;
	}
}

static void store_int(struct bw_wire_msg *m, const struct field *f,
                      uint64_t v)
{
	char *base = (char *)m + f->off;

	switch (f->kind) {
	case F_U16:
		*(uint16_t *)(void *)base = (uint16_t)v;
		break;
	case F_U32:
		*(uint32_t *)(void *)base = (uint32_t)v;
		break;
	case F_U64:
		*(uint64_t *)(void *)base = v;
		break;
	case F_I64:
		*(int64_t *)(void *)base = (int64_t)v;
		break;
	default:
		break;
	}
}

static int check_range(const char *tname, size_t frame, const struct field *f,
                       uint64_t v, struct bw_error *err)
{
	if (f->kind == F_I64)
		return 0;
	if (v < f->min || v > f->max)
		return bw_error_set(err, NULL, 0,
		                    "%s frame %zu (%s): %" PRIu64
		                    " is out of range (%" PRIu64 "..%" PRIu64
		                    ")",
		                    tname, frame, f->name, v, f->min, f->max);
	return 0;
}

int bw_wire_encode(const struct bw_wire_msg *m, struct bw_wire_frames *out,
                   struct bw_error *err)
{
	const struct msg_type *mt = type_of((unsigned)m->type);
	size_t i;

	memset(out, 0, sizeof(*out));
	if (mt == NULL)
		return bw_error_set(err, NULL, 0, "unknown message type %d",
		                    (int)m->type);
	out->fixed[0][0] = MAGIC0;
	out->fixed[0][1] = MAGIC1;
	out->fixed[0][2] = BW_WIRE_VERSION;
	out->fixed[0][3] = (unsigned char)m->type;
	out->f[0].data = out->fixed[0];
	out->f[0].len = HEADER_LEN;
	for (i = 0; i < mt->n_fields; i++) {
		const struct field *f = &mt->fields[i];
		size_t frame = i + 1;

		if (f->kind == F_TEXT || f->kind == F_BYTES) {
			const char *const *pp = (const char *const *)(
			    const void *)((const char *)m + f->off);
			size_t len = *(const size_t *)(const void *)(
			    (const char *)m + f->len_off);
			const char *p = *pp != NULL ? *pp : "";

			if (*pp == NULL)
				len = 0;
			if (check_field(mt->name, frame, f,
			                (const unsigned char *)p, len, err) < 0)
				return -1;
			out->f[frame].data = p;
			out->f[frame].len = len;
		} else {
			uint64_t v = load_int(m, f);
			size_t size = int_size(f->kind);

			if (check_range(mt->name, frame, f, v, err) < 0)
				return -1;
			put_be(out->fixed[frame], v, size);
			out->f[frame].data = out->fixed[frame];
			out->f[frame].len = size;
		}
	}
	out->n = mt->n_fields + 1;
	if (mt->check != NULL && mt->check(m, err) < 0)
		return -1;
	return 0;
}

static int decode_header(const struct bw_wire_frame *frames, size_t n,
                         const struct msg_type **mtp, struct bw_error *err)
{
	const unsigned char *h;
	const struct msg_type *mt;

	if (n == 0)
		return bw_error_set(err, NULL, 0, "empty message");
	h = frames[0].data;
	if (frames[0].len != HEADER_LEN)
		return bw_error_set(err, NULL, 0,
		                    "frame 0 (header): %zu bytes, expected %d",
		                    frames[0].len, HEADER_LEN);
	if (h[0] != MAGIC0 || h[1] != MAGIC1)
		return bw_error_set(err, NULL, 0,
		                    "frame 0 (header): not a breachwatch "
		                    "message (magic 0x%02x%02x)",
		                    h[0], h[1]);
	if (h[2] != BW_WIRE_VERSION)
		return bw_error_set(err, NULL, 0,
		                    "frame 0 (header): protocol version %u, "
		                    "this side speaks %d",
		                    h[2], BW_WIRE_VERSION);
	mt = type_of(h[3]);
	if (mt == NULL)
		return bw_error_set(err, NULL, 0,
		                    "frame 0 (header): unknown message type %u",
		                    h[3]);
	if (n < mt->n_fields + 1)
		return bw_error_set(err, NULL, 0,
		                    "%s: short message: %zu frames, expected "
		                    "%zu (no %s)",
		                    mt->name, n, mt->n_fields + 1,
		                    mt->fields[n - 1].name);
	if (n > mt->n_fields + 1)
		return bw_error_set(err, NULL, 0,
		                    "%s: %zu extra frame(s) after the %s",
		                    mt->name, n - mt->n_fields - 1,
		                    mt->fields[mt->n_fields - 1].name);
	*mtp = mt;
	return 0;
}

int bw_wire_decode(const struct bw_wire_frame *frames, size_t n,
                   struct bw_wire_msg *out, struct bw_error *err)
{
	const struct msg_type *mt = NULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (decode_header(frames, n, &mt, err) < 0)
		return -1;
	out->type = (enum bw_wire_type)((const unsigned char *)frames[0].data)[3];
	for (i = 0; i < mt->n_fields; i++) {
		const struct field *f = &mt->fields[i];
		const unsigned char *p = frames[i + 1].data;
		size_t len = frames[i + 1].len;

		if (check_field(mt->name, i + 1, f, p, len, err) < 0)
			goto fail;
		if (f->kind == F_TEXT || f->kind == F_BYTES) {
			char **pp = (char **)(void *)((char *)out + f->off);
			size_t *lp = (size_t *)(void *)((char *)out +
			                                 f->len_off);

			*pp = xstrndup(len > 0 ? (const char *)p : "", len);
			*lp = len;
		} else {
			uint64_t v = get_be(p, int_size(f->kind));

			if (check_range(mt->name, i + 1, f, v, err) < 0)
				goto fail;
			store_int(out, f, v);
		}
	}
	if (mt->check != NULL && mt->check(out, err) < 0)
		goto fail;
	return 0;
fail:
	bw_wire_msg_clear(out);
	return -1;
}

void bw_wire_ack_for(const struct bw_wire_msg *inc, enum bw_wire_status status,
                     const char *reason, struct bw_wire_msg *ack)
{
	memset(ack, 0, sizeof(*ack));
	ack->type = BW_WIRE_ACK;
	ack->seq = inc->seq;
	ack->id = inc->id;
	ack->id_len = inc->id_len;
	ack->revision = inc->revision;
	ack->status = (uint16_t)status;
	ack->reason = (char *)(reason != NULL ? reason : "");
	ack->reason_len = strlen(ack->reason);
}

struct bw_incident *bw_wire_incident(const struct bw_wire_msg *m,
                                     enum bw_wire_status *reject,
                                     struct bw_error *err)
{
	struct bw_incident *inc;
	struct bw_error jerr;

	*reject = BW_WIRE_REJ_MALFORMED;
	if (m->type != BW_WIRE_INCIDENT || m->json == NULL) {
		bw_error_set(err, NULL, 0, "not an INCIDENT message");
		return NULL;
	}
	inc = bw_incident_from_json(m->json, m->json_len, &jerr);
	if (inc == NULL) {
		bw_error_set(err, NULL, 0, "INCIDENT json: %s", jerr.msg);
		return NULL;
	}
	*reject = BW_WIRE_REJ_MISMATCH;
	if (strcmp(inc->id, m->id) != 0) {
		bw_error_set(err, NULL, 0,
		             "INCIDENT: the frames say id \"%.64s\", the JSON "
		             "\"%.64s\"",
		             m->id, inc->id);
		goto fail;
	}
	if (inc->revision != m->revision) {
		bw_error_set(err, NULL, 0,
		             "INCIDENT: the frames say revision %" PRIu32
		             ", the JSON %" PRIu32,
		             m->revision, inc->revision);
		goto fail;
	}
	*reject = BW_WIRE_OK;
	return inc;
fail:
	bw_incident_destroy(&inc);
	return NULL;
}

/*
 * Sockets.
 */

static int send_frame(void *sock, const void *data, size_t len, int flags)
{
	zmq_msg_t msg;

	if (zmq_msg_init_size(&msg, len) != 0)
		return -1;
	if (len > 0)
		memcpy(zmq_msg_data(&msg), data, len);
	if (zmq_msg_send(&msg, sock, flags) < 0) {
		int saved = errno;

		zmq_msg_close(&msg);
		errno = saved;
		return -1;
	}
	return 0;
}

int bw_wire_send(void *sock, const struct bw_wire_peer *to,
                 const struct bw_wire_msg *m, int flags,
                 struct bw_error *err)
{
	struct bw_wire_frames fr;
	size_t i;
	int saved;

	if (bw_wire_encode(m, &fr, err) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (to != NULL &&
	    send_frame(sock, to->rid, to->rid_len, flags | ZMQ_SNDMORE) < 0)
		goto fail;
	/* Once the first frame is queued, zmq takes the rest of the message
	 * (multipart messages are atomic). */
	for (i = 0; i < fr.n; i++) {
		int more = i + 1 < fr.n ? ZMQ_SNDMORE : 0;

		if (send_frame(sock, fr.f[i].data, fr.f[i].len,
		               flags | more) < 0)
			goto fail;
	}
	return 0;
fail:
	saved = errno;
	bw_error_set(err, NULL, 0, "send %s: %s", bw_wire_type_name(m->type),
	             zmq_strerror(saved));
	errno = saved;
	return -1;
}

static void copy_meta(zmq_msg_t *msg, const char *prop, char *dst,
                      size_t size)
{
	const char *v = zmq_msg_gets(msg, prop);

	if (v != NULL)
		snprintf(dst, size, "%s", v);
}

int bw_wire_recv(void *sock, bool router, int flags, struct bw_wire_msg *out,
                 struct bw_wire_peer *peer, struct bw_error *err)
{
	/* a routing id, then up to BW_WIRE_MAX_FRAMES frames */
	zmq_msg_t parts[BW_WIRE_MAX_FRAMES + 1];
	struct bw_wire_frame frames[BW_WIRE_MAX_FRAMES + 1];
	size_t cap = BW_WIRE_MAX_FRAMES + (router ? 1 : 0);
	size_t n = 0, extra = 0, first = router ? 1 : 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (peer != NULL)
		memset(peer, 0, sizeof(*peer));
	rc = bw_zmsg_recv(sock, parts, cap, &n, &extra, flags);
	if (rc == 0)
		return BW_WIRE_RECV_NONE;
	if (rc < 0) {
		int saved = errno;

		bw_error_set(err, NULL, 0, "receive: %s", zmq_strerror(saved));
		errno = saved;
		return BW_WIRE_RECV_ERROR;
	}
	if (peer != NULL) {
		if (router) {
			peer->rid_len = zmq_msg_size(&parts[0]);
			if (peer->rid_len > sizeof(peer->rid))
				peer->rid_len = sizeof(peer->rid);
			memcpy(peer->rid, zmq_msg_data(&parts[0]),
			       peer->rid_len);
		}
		/* from the last frame: one that came over the wire (a
		 * ROUTER's routing id frame may carry no metadata) */
		copy_meta(&parts[n - 1], "User-Id", peer->user_id,
		          sizeof(peer->user_id));
		copy_meta(&parts[n - 1], "Peer-Address", peer->address,
		          sizeof(peer->address));
	}
	rc = BW_WIRE_RECV_BAD;
	if (extra > 0) {
		bw_error_set(err, NULL, 0,
		             "%zu frames, more than any message has (%d)",
		             n - first + extra, BW_WIRE_MAX_FRAMES);
		goto done;
	}
	for (i = first; i < n; i++) {
		frames[i - first].data = zmq_msg_data(&parts[i]);
		frames[i - first].len = zmq_msg_size(&parts[i]);
	}
	if (bw_wire_decode(frames, n - first, out, err) < 0)
		goto done;
	rc = BW_WIRE_RECV_MSG;
done:
	bw_zmsg_close(parts, n);
	return rc;
}
