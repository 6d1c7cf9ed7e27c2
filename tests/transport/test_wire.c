/*
 * test_wire.c - the wire protocol: round trips of every message type, every
 * kind of malformation refused with a message naming it, and send/recv over
 * a real ROUTER/DEALER pair (inproc).
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "incident.h"
#include "wire.h"
#include "xmalloc.h"
#include "check_main.h"

static void roundtrip(const struct bw_wire_msg *in, struct bw_wire_msg *out)
{
	struct bw_wire_frames fr;
	struct bw_error err;

	ck_assert_msg(bw_wire_encode(in, &fr, &err) == 0, "%s", err.msg);
	ck_assert_msg(bw_wire_decode(fr.f, fr.n, out, &err) == 0, "%s",
	              err.msg);
	ck_assert_int_eq(out->type, in->type);
}

START_TEST(roundtrip_incident)
{
	const char *json = "{\"id\":\"bw-1\"}";
	struct bw_wire_msg in = {.type = BW_WIRE_INCIDENT,
	                         .seq = UINT64_C(0x0102030405060708),
	                         .id = "bw-0123456789abcdef",
	                         .id_len = 19,
	                         .revision = 0xfffffffe,
	                         .json = (char *)json,
	                         .json_len = strlen(json)};
	struct bw_wire_frames fr;
	struct bw_wire_msg out;
	struct bw_error err;
	const unsigned char *seq;

	/* the layout of docs/transport.md */
	ck_assert_int_eq(bw_wire_encode(&in, &fr, &err), 0);
	ck_assert_uint_eq(fr.n, 5);
	ck_assert_uint_eq(fr.f[0].len, 4);
	ck_assert_mem_eq(fr.f[0].data, "BW\x01\x01", 4);
	seq = fr.f[1].data;
	ck_assert_uint_eq(fr.f[1].len, 8);
	ck_assert_uint_eq(seq[0], 1);
	ck_assert_uint_eq(seq[7], 8);

	roundtrip(&in, &out);
	ck_assert_uint_eq(out.seq, in.seq);
	ck_assert_str_eq(out.id, in.id);
	ck_assert_uint_eq(out.id_len, 19);
	ck_assert_uint_eq(out.revision, 0xfffffffe);
	ck_assert_uint_eq(out.json_len, strlen(json));
	ck_assert_str_eq(out.json, json);
	ck_assert_ptr_null(out.reason);
	bw_wire_msg_clear(&out);
	ck_assert_ptr_null(out.id);
}
END_TEST

START_TEST(roundtrip_ack)
{
	struct bw_wire_msg inc = {.type = BW_WIRE_INCIDENT,
	                          .seq = 42,
	                          .id = "bw-\xc3\xa9",
	                          .id_len = 5,
	                          .revision = 3,
	                          .json = "{}",
	                          .json_len = 2};
	struct bw_wire_msg ack, out;

	bw_wire_ack_for(&inc, BW_WIRE_OK, NULL, &ack);
	roundtrip(&ack, &out);
	ck_assert_uint_eq(out.seq, 42);
	ck_assert_str_eq(out.id, "bw-\xc3\xa9");
	ck_assert_uint_eq(out.revision, 3);
	ck_assert_uint_eq(out.status, BW_WIRE_OK);
	ck_assert_str_eq(out.reason, "");
	bw_wire_msg_clear(&out);

	bw_wire_ack_for(&inc, BW_WIRE_REJ_HOST, "host db2 is not agent db1",
	                &ack);
	roundtrip(&ack, &out);
	ck_assert_uint_eq(out.status, BW_WIRE_REJ_HOST);
	ck_assert_str_eq(out.reason, "host db2 is not agent db1");
	ck_assert_uint_eq(out.reason_len, 25);
	bw_wire_msg_clear(&out);

	/* a code this version does not know is still a rejection */
	ack.status = 999;
	roundtrip(&ack, &out);
	ck_assert_uint_eq(out.status, 999);
	bw_wire_msg_clear(&out);
}
END_TEST

START_TEST(roundtrip_heartbeat)
{
	struct bw_wire_msg in = {.type = BW_WIRE_HEARTBEAT,
	                         .time_us = -5,
	                         .pending = UINT64_MAX};
	struct bw_wire_msg out;

	roundtrip(&in, &out);
	ck_assert_int_eq(out.time_us, -5);
	ck_assert_uint_eq(out.pending, UINT64_MAX);
	ck_assert_ptr_null(out.id);
	bw_wire_msg_clear(&out);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(bw_wire_type_name(BW_WIRE_INCIDENT), "INCIDENT");
	ck_assert_str_eq(bw_wire_type_name(BW_WIRE_ACK), "ACK");
	ck_assert_str_eq(bw_wire_type_name(BW_WIRE_HEARTBEAT), "HEARTBEAT");
	ck_assert_ptr_null(bw_wire_type_name(0));
	ck_assert_ptr_null(bw_wire_type_name(4));
	ck_assert_str_eq(bw_wire_status_name(BW_WIRE_OK), "ok");
	ck_assert_str_eq(bw_wire_status_name(BW_WIRE_REJ_CONFLICT),
	                 "conflict");
	ck_assert_ptr_null(bw_wire_status_name(999));
}
END_TEST

/*
 * Malformations: frames built by hand.
 */

struct case_frames {
	size_t n;
	struct bw_wire_frame f[8];
};

static unsigned char HDR_INC[] = {'B', 'W', 1, 1};
static unsigned char HDR_ACK[] = {'B', 'W', 1, 2};
static unsigned char HDR_HB[] = {'B', 'W', 1, 3};
static unsigned char SEQ1[] = {0, 0, 0, 0, 0, 0, 0, 1};
static unsigned char REV1[] = {0, 0, 0, 1};
static unsigned char ZERO8[8];

#define FR(p, l) {(p), (l)}
#define S(s) {(s), sizeof(s) - 1}

/* A valid INCIDENT with field i (1-based frame) replaced. */
static struct case_frames incident_with(size_t frame, const void *p,
                                        size_t len)
{
	struct case_frames c = {5,
	                        {FR(HDR_INC, 4), FR(SEQ1, 8), S("bw-1"),
	                         FR(REV1, 4), S("{}")}};

	c.f[frame].data = p;
	c.f[frame].len = len;
	return c;
}

static void expect_bad(const struct case_frames *c, const char *want)
{
	struct bw_wire_msg out;
	struct bw_error err;

	memset(&out, 0x5a, sizeof(out));
	ck_assert_int_eq(bw_wire_decode(c->f, c->n, &out, &err), -1);
	ck_assert_msg(strstr(err.msg, want) != NULL,
	              "error \"%s\" does not contain \"%s\"", err.msg, want);
	/* zeroed on failure: nothing to free, nothing half-decoded */
	ck_assert_ptr_null(out.id);
	ck_assert_ptr_null(out.json);
	ck_assert_ptr_null(out.reason);
}

START_TEST(bad_header)
{
	struct case_frames c = {0, {{NULL, 0}}};
	unsigned char v2[] = {'B', 'W', 2, 1}, t9[] = {'B', 'W', 1, 9};
	unsigned char t0[] = {'B', 'W', 1, 0}, magic[] = {'Z', 'W', 1, 1};
	unsigned char longer[] = {'B', 'W', 1, 1, 0};

	expect_bad(&c, "empty message");
	c = incident_with(0, HDR_INC, 3);
	expect_bad(&c, "frame 0 (header): 3 bytes, expected 4");
	c = incident_with(0, longer, 5);
	expect_bad(&c, "frame 0 (header): 5 bytes, expected 4");
	c = incident_with(0, magic, 4);
	expect_bad(&c, "frame 0 (header): not a breachwatch message");
	c = incident_with(0, v2, 4);
	expect_bad(&c, "frame 0 (header): protocol version 2, this side "
	               "speaks 1");
	c = incident_with(0, t9, 4);
	expect_bad(&c, "frame 0 (header): unknown message type 9");
	c = incident_with(0, t0, 4);
	expect_bad(&c, "unknown message type 0");
}
END_TEST

START_TEST(bad_frame_count)
{
	struct case_frames c = incident_with(1, SEQ1, 8);

	c.n = 4;
	expect_bad(&c, "INCIDENT: short message: 4 frames, expected 5 (no "
	               "json)");
	c.n = 1;
	expect_bad(&c, "INCIDENT: short message: 1 frames, expected 5 (no "
	               "seq)");
	c.n = 6;
	c.f[5] = (struct bw_wire_frame)S("x");
	expect_bad(&c, "INCIDENT: 1 extra frame(s) after the json");

	c = (struct case_frames){2, {FR(HDR_HB, 4), FR(ZERO8, 8)}};
	expect_bad(&c, "HEARTBEAT: short message: 2 frames, expected 3 (no "
	               "pending)");
	c = (struct case_frames){
	    4, {FR(HDR_HB, 4), FR(ZERO8, 8), FR(ZERO8, 8), FR(ZERO8, 8)}};
	expect_bad(&c, "HEARTBEAT: 1 extra frame(s) after the pending");
}
END_TEST

START_TEST(bad_integers)
{
	unsigned char seq9[9] = {0, 0, 0, 0, 0, 0, 0, 1, 0};
	unsigned char rev0[4] = {0};
	struct case_frames c;

	c = incident_with(1, SEQ1, 7);
	expect_bad(&c, "INCIDENT frame 1 (seq): 7 bytes, expected 8");
	c = incident_with(1, seq9, 9);
	expect_bad(&c, "INCIDENT frame 1 (seq): 1 trailing bytes after the "
	               "8-byte value");
	c = incident_with(1, ZERO8, 8);
	expect_bad(&c, "INCIDENT frame 1 (seq): 0 is out of range");
	c = incident_with(3, rev0, 4);
	expect_bad(&c, "INCIDENT frame 3 (revision): 0 is out of range");
	c = incident_with(3, seq9, 5);
	expect_bad(&c, "INCIDENT frame 3 (revision): 1 trailing bytes");
	c = incident_with(3, REV1, 0);
	expect_bad(&c, "INCIDENT frame 3 (revision): 0 bytes, expected 4");
	c = (struct case_frames){3, {FR(HDR_HB, 4), FR(ZERO8, 4), FR(ZERO8, 8)}};
	expect_bad(&c, "HEARTBEAT frame 1 (time): 4 bytes, expected 8");
}
END_TEST

START_TEST(bad_text)
{
	char *big = xmalloc(BW_WIRE_MAX_ID + 1);
	struct case_frames c;

	c = incident_with(2, "", 0);
	expect_bad(&c, "INCIDENT frame 2 (id): empty");
	c = incident_with(2, "bw-\n1", 5);
	expect_bad(&c, "INCIDENT frame 2 (id): control character 0x0a at "
	               "byte 3");
	c = incident_with(2, "bw\0-1", 5);
	expect_bad(&c, "INCIDENT frame 2 (id): control character 0x00 at "
	               "byte 2");
	c = incident_with(2, "bw\x7f", 3);
	expect_bad(&c, "control character 0x7f at byte 2");
	c = incident_with(2, "bw-\xc3", 4);
	expect_bad(&c, "INCIDENT frame 2 (id): invalid UTF-8 at byte 3");
	c = incident_with(2, "bw-\xc0\xaf", 5); /* overlong '/' */
	expect_bad(&c, "invalid UTF-8 at byte 3");
	memset(big, 'a', BW_WIRE_MAX_ID + 1);
	c = incident_with(2, big, BW_WIRE_MAX_ID + 1);
	expect_bad(&c, "INCIDENT frame 2 (id): 4097 bytes, more than 4096");
	c = incident_with(2, big, BW_WIRE_MAX_ID); /* at the limit: fine */
	{
		struct bw_wire_msg out;
		struct bw_error err;

		ck_assert_int_eq(bw_wire_decode(c.f, c.n, &out, &err), 0);
		ck_assert_uint_eq(strlen(out.id), BW_WIRE_MAX_ID);
		bw_wire_msg_clear(&out);
	}
	free(big);
}
END_TEST

START_TEST(bad_json_size)
{
	/* calloc'ed: the pages are not touched before the length check */
	char *huge = xcalloc(1, (size_t)BW_WIRE_MAX_JSON + 1);
	struct case_frames c;

	c = incident_with(4, "", 0);
	expect_bad(&c, "INCIDENT frame 4 (json): empty");
	c = incident_with(4, huge, (size_t)BW_WIRE_MAX_JSON + 1);
	expect_bad(&c, "INCIDENT frame 4 (json): 67108865 bytes, more than "
	               "67108864");
	free(huge);
}
END_TEST

START_TEST(bad_ack)
{
	unsigned char ok[2] = {0, 0}, rej[2] = {0, 3};
	struct case_frames c = {6,
	                        {FR(HDR_ACK, 4), FR(SEQ1, 8), S("bw-1"),
	                         FR(REV1, 4), FR(ok, 2), S("")}};
	struct bw_wire_msg out;
	struct bw_error err;

	ck_assert_int_eq(bw_wire_decode(c.f, c.n, &out, &err), 0);
	bw_wire_msg_clear(&out);
	c.f[5] = (struct bw_wire_frame)S("why");
	expect_bad(&c, "ACK frame 5 (reason): an ok ACK carries no reason");
	c.f[4] = (struct bw_wire_frame)FR(rej, 2);
	c.f[5] = (struct bw_wire_frame)S("");
	expect_bad(&c, "ACK frame 5 (reason): a rejection (status 3) must say "
	               "why");
	c.f[4] = (struct bw_wire_frame)FR(SEQ1, 3);
	expect_bad(&c, "ACK frame 4 (status): 1 trailing bytes");
	c.n = 5;
	expect_bad(&c, "ACK: short message: 5 frames, expected 6 (no reason)");
}
END_TEST

START_TEST(encode_refuses)
{
	struct bw_wire_msg m = {.type = BW_WIRE_INCIDENT,
	                        .seq = 1,
	                        .id = "a\nb",
	                        .id_len = 3,
	                        .revision = 1,
	                        .json = "{}",
	                        .json_len = 2};
	struct bw_wire_frames fr;
	struct bw_error err;

	ck_assert_int_eq(bw_wire_encode(&m, &fr, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "frame 2 (id): control"));
	m.id = "ab";
	m.id_len = 2;
	m.revision = 0;
	ck_assert_int_eq(bw_wire_encode(&m, &fr, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "(revision): 0 is out of range"));
	m.revision = 1;
	m.seq = 0;
	ck_assert_int_eq(bw_wire_encode(&m, &fr, &err), -1);
	m.seq = 1;
	m.type = 7;
	ck_assert_int_eq(bw_wire_encode(&m, &fr, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown message type 7"));
}
END_TEST

static char *incident_json(const char *id, uint32_t rev)
{
	struct bw_incident *inc = bw_incident_new();
	char *json;

	inc->id = xstrdup(id);
	inc->revision = rev;
	inc->rule = xstrdup("r");
	inc->category = xstrdup("c");
	inc->severity = BW_SEV_HIGH;
	inc->title = xstrdup("t");
	inc->first_seen_us = 1795421700000000;
	inc->last_seen_us = 1795421700000000;
	inc->host = xstrdup("db1");
	inc->event_count = 1;
	json = bw_incident_to_json(inc);
	bw_incident_destroy(&inc);
	return json;
}

START_TEST(incident_json_checked)
{
	char *json = incident_json("bw-7", 2);
	struct bw_wire_msg m = {.type = BW_WIRE_INCIDENT,
	                        .seq = 9,
	                        .id = "bw-7",
	                        .id_len = 4,
	                        .revision = 2,
	                        .json = json,
	                        .json_len = strlen(json)};
	enum bw_wire_status rej;
	struct bw_incident *inc;
	struct bw_error err;

	inc = bw_wire_incident(&m, &rej, &err);
	ck_assert_ptr_nonnull(inc);
	ck_assert_int_eq(rej, BW_WIRE_OK);
	ck_assert_str_eq(inc->host, "db1");
	bw_incident_destroy(&inc);

	m.revision = 3;
	ck_assert_ptr_null(bw_wire_incident(&m, &rej, &err));
	ck_assert_int_eq(rej, BW_WIRE_REJ_MISMATCH);
	ck_assert_ptr_nonnull(strstr(err.msg, "revision 3, the JSON 2"));
	m.revision = 2;
	m.id = "bw-8";
	ck_assert_ptr_null(bw_wire_incident(&m, &rej, &err));
	ck_assert_int_eq(rej, BW_WIRE_REJ_MISMATCH);
	ck_assert_ptr_nonnull(strstr(err.msg, "id \"bw-8\""));
	m.json = "{\"id\":1}";
	m.json_len = strlen(m.json);
	ck_assert_ptr_null(bw_wire_incident(&m, &rej, &err));
	ck_assert_int_eq(rej, BW_WIRE_REJ_MALFORMED);
	ck_assert_ptr_nonnull(strstr(err.msg, "INCIDENT json: "));
	free(json);
}
END_TEST

/*
 * Over real sockets: a DEALER sends to a ROUTER (inproc).
 */

static int send_raw(void *sock, const struct case_frames *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (zmq_send(sock, c->f[i].data, c->f[i].len,
		             i + 1 < c->n ? ZMQ_SNDMORE : 0) < 0)
			return -1;
	}
	return 0;
}

START_TEST(sockets)
{
	void *ctx = zmq_ctx_new();
	void *router = zmq_socket(ctx, ZMQ_ROUTER);
	void *dealer = zmq_socket(ctx, ZMQ_DEALER);
	struct bw_wire_msg hb = {.type = BW_WIRE_HEARTBEAT,
	                         .time_us = 77,
	                         .pending = 5};
	struct bw_wire_msg in = {.type = BW_WIRE_INCIDENT,
	                         .seq = 3,
	                         .id = "bw-3",
	                         .id_len = 4,
	                         .revision = 1,
	                         .json = "{}",
	                         .json_len = 2};
	struct case_frames junk = {7,
	                           {S("a"), S("b"), S("c"), S("d"), S("e"),
	                            S("f"), S("g")}};
	struct case_frames badseq = incident_with(1, SEQ1, 7);
	struct bw_wire_msg out, ack;
	struct bw_wire_peer peer;
	struct bw_error err;
	int zero = 0;

	ck_assert_int_eq(zmq_setsockopt(router, ZMQ_LINGER, &zero, 4), 0);
	ck_assert_int_eq(zmq_setsockopt(dealer, ZMQ_LINGER, &zero, 4), 0);
	ck_assert_int_eq(zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "ag1", 3), 0);
	ck_assert_int_eq(zmq_bind(router, "inproc://wire-test"), 0);
	ck_assert_int_eq(zmq_connect(dealer, "inproc://wire-test"), 0);

	/* nothing yet */
	ck_assert_int_eq(bw_wire_recv(router, true, ZMQ_DONTWAIT, &out, &peer,
	                              &err),
	                 BW_WIRE_RECV_NONE);

	/* a message with too many frames, a bad one, then good ones: each
	 * bad one is consumed whole */
	ck_assert_int_eq(send_raw(dealer, &junk), 0);
	ck_assert_int_eq(send_raw(dealer, &badseq), 0);
	ck_assert_int_eq(bw_wire_send(dealer, NULL, &in, 0, &err), 0);
	ck_assert_int_eq(bw_wire_send(dealer, NULL, &hb, 0, &err), 0);

	ck_assert_int_eq(bw_wire_recv(router, true, 0, &out, &peer, &err),
	                 BW_WIRE_RECV_BAD);
	ck_assert_ptr_nonnull(strstr(err.msg, "7 frames, more than any"));
	ck_assert_uint_eq(peer.rid_len, 3);
	ck_assert_mem_eq(peer.rid, "ag1", 3);
	ck_assert_int_eq(bw_wire_recv(router, true, 0, &out, &peer, &err),
	                 BW_WIRE_RECV_BAD);
	ck_assert_ptr_nonnull(strstr(err.msg, "(seq): 7 bytes"));
	ck_assert_int_eq(bw_wire_recv(router, true, 0, &out, &peer, &err),
	                 BW_WIRE_RECV_MSG);
	ck_assert_int_eq(out.type, BW_WIRE_INCIDENT);
	ck_assert_str_eq(out.id, "bw-3");

	/* the ROUTER answers to the peer it heard from */
	bw_wire_ack_for(&out, BW_WIRE_OK, NULL, &ack);
	ck_assert_int_eq(bw_wire_send(router, &peer, &ack, ZMQ_DONTWAIT, &err),
	                 0);
	bw_wire_msg_clear(&out);
	ck_assert_int_eq(bw_wire_recv(router, true, 0, &out, &peer, &err),
	                 BW_WIRE_RECV_MSG);
	ck_assert_int_eq(out.type, BW_WIRE_HEARTBEAT);
	ck_assert_uint_eq(out.pending, 5);
	bw_wire_msg_clear(&out);

	ck_assert_int_eq(bw_wire_recv(dealer, false, 0, &out, NULL, &err),
	                 BW_WIRE_RECV_MSG);
	ck_assert_int_eq(out.type, BW_WIRE_ACK);
	ck_assert_uint_eq(out.seq, 3);
	ck_assert_uint_eq(out.status, BW_WIRE_OK);
	bw_wire_msg_clear(&out);

	/* a message that does not encode is not sent */
	in.revision = 0;
	ck_assert_int_eq(bw_wire_send(dealer, NULL, &in, 0, &err), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(bw_wire_recv(router, true, ZMQ_DONTWAIT, &out, &peer,
	                              &err),
	                 BW_WIRE_RECV_NONE);

	zmq_close(dealer);
	zmq_close(router);
	zmq_ctx_term(ctx);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("wire");

	tcase_add_test(tc, roundtrip_incident);
	tcase_add_test(tc, roundtrip_ack);
	tcase_add_test(tc, roundtrip_heartbeat);
	tcase_add_test(tc, names);
	tcase_add_test(tc, bad_header);
	tcase_add_test(tc, bad_frame_count);
	tcase_add_test(tc, bad_integers);
	tcase_add_test(tc, bad_text);
	tcase_add_test(tc, bad_json_size);
	tcase_add_test(tc, bad_ack);
	tcase_add_test(tc, encode_refuses);
	tcase_add_test(tc, incident_json_checked);
	tcase_add_test(tc, sockets);
	suite_add_tcase(s, tc);
	return s;
}
