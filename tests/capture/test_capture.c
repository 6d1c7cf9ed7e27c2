/*
 * test_capture.c - agent/capture.c: recorded files in each format, link
 * types refused by name, files cut short, filters, and live capture on
 * the loopback interface.
 */
#include <arpa/inet.h>
#include <check.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../agent/capture.h"
#include "../../agent/config.h"
#include "../../agent/netsrc.h"
#include "check_main.h"
#include "pktgen.h"

static size_t udp_frame(uint8_t *fr, uint16_t dport, const char *msg)
{
	static uint8_t l4[256], ip[256];
	struct pg_ep a = pg_ep("10.0.0.1", 1111), b = pg_ep("10.0.0.2", dport);
	size_t n = pg_udp(l4, a.port, b.port, msg, strlen(msg));

	n = pg_ip(ip, &a, &b, 17, l4, n);
	return pg_eth(fr, ip, n);
}

/* Write two frames in the given format, read them back. */
static void roundtrip(bool swap, bool nano)
{
	struct pg_file pf;
	struct capture *c;
	struct capture_packet pk;
	struct bw_error err;
	uint8_t fr[256];
	size_t n = udp_frame(fr, 53, "hello");

	pg_file_open(&pf, "rt.pcap", 1, swap, nano);
	pg_file_frame(&pf, fr, n, n);
	pg_file_frame(&pf, fr, 20, n); /* cut by the snapshot length */
	pg_file_close(&pf);
	c = capture_open_file(pf.path, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_int_eq(capture_linktype(c), 1);
	ck_assert_int_eq(capture_fd(c), -1);
	ck_assert_int_eq(capture_next(c, &pk, &err), 1);
	ck_assert_int_eq(pk.ts_us, 1700000000LL * 1000000 + 123456);
	ck_assert_uint_eq(pk.caplen, n);
	ck_assert_uint_eq(pk.len, n);
	ck_assert_uint_eq(pk.number, 1);
	ck_assert_mem_eq(pk.data, fr, n);
	ck_assert_int_eq(capture_next(c, &pk, &err), 1);
	ck_assert_int_eq(pk.ts_us, 1700000000LL * 1000000 + 124456);
	ck_assert_uint_eq(pk.caplen, 20);
	ck_assert_uint_eq(pk.len, n);
	ck_assert_uint_eq(pk.number, 2);
	ck_assert_int_eq(capture_next(c, &pk, &err), 0);
	ck_assert_int_eq(capture_next(c, &pk, &err), 0);
	{
		struct capture_stats st;

		capture_get_stats(c, &st);
		ck_assert_uint_eq(st.packets, 2);
		ck_assert_uint_eq(st.truncated, 1);
		ck_assert_uint_eq(st.errors, 0);
		ck_assert_uint_eq(st.bytes, 2 * n);
	}
	capture_destroy(&c);
	ck_assert_ptr_null(c);
	unlink(pf.path);
}

START_TEST(classic_le_micro) { roundtrip(false, false); }
END_TEST
START_TEST(classic_be_micro) { roundtrip(true, false); }
END_TEST
START_TEST(classic_le_nano) { roundtrip(false, true); }
END_TEST
START_TEST(classic_be_nano) { roundtrip(true, true); }
END_TEST

static void put(FILE *f, const void *p, size_t n)
{
	ck_assert_uint_eq(fwrite(p, 1, n, f), n);
}

/* A minimal pcapng: section header, one Ethernet interface with
 * nanosecond resolution, one enhanced packet block. */
START_TEST(pcapng)
{
	char path[] = "/tmp/bwcap-ng-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "wb");
	uint8_t fr[256];
	size_t n = udp_frame(fr, 53, "hi"), pad = (4 - n % 4) % 4;
	uint32_t shb[7] = { 0x0a0d0d0a, 28, 0x1a2b3c4d, 0x00000001,
			    0xffffffff, 0xffffffff, 28 };
	/* IDB with if_tsresol = 9 (nanoseconds) */
	uint32_t idb[7] = { 1, 28, 1, 65535, 0x0001 | (9u << 24) >> 0, 0, 28 };
	uint64_t ts = (1700000000ULL * 1000000 + 500) * 1000 + 999;
	uint32_t epb_len = (uint32_t)(32 + n + pad);
	uint32_t epb[7] = { 6, epb_len, 0, (uint32_t)(ts >> 32),
			    (uint32_t)ts, (uint32_t)n, (uint32_t)n };
	uint8_t zero[4] = { 0 };
	struct capture *c;
	struct capture_packet pk;
	struct bw_error err;

	/* the option: code 9 (if_tsresol), length 1, value 9, padding */
	idb[4] = 9 | 1u << 16;
	idb[5] = 9;
	put(f, shb, sizeof(shb));
	put(f, idb, sizeof(idb));
	put(f, epb, sizeof(epb));
	put(f, fr, n);
	put(f, zero, pad);
	put(f, &epb_len, 4);
	ck_assert_int_eq(fclose(f), 0);
	c = capture_open_file(path, NULL, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_int_eq(capture_next(c, &pk, &err), 1);
	ck_assert_int_eq(pk.ts_us, 1700000000LL * 1000000 + 500);
	ck_assert_uint_eq(pk.caplen, n);
	ck_assert_mem_eq(pk.data, fr, n);
	ck_assert_int_eq(capture_next(c, &pk, &err), 0);
	capture_destroy(&c);
	unlink(path);
}
END_TEST

START_TEST(unsupported_linktype)
{
	struct pg_file pf;
	struct bw_error err;
	uint8_t fr[64] = { 0 };

	pg_file_open(&pf, "hdlc.pcap", 104, false, false);
	pg_file_frame(&pf, fr, sizeof(fr), sizeof(fr));
	pg_file_close(&pf);
	ck_assert_ptr_null(capture_open_file(pf.path, NULL, &err));
	ck_assert_msg(strstr(err.msg, "link type 104 (C_HDLC") != NULL &&
			      strstr(err.msg, "not supported") != NULL &&
			      strstr(err.msg, pf.path) != NULL,
		      "%s", err.msg);
	unlink(pf.path);
	ck_assert(capture_linktype_ok(1));
	ck_assert(capture_linktype_ok(113));
	ck_assert(capture_linktype_ok(276));
	ck_assert(capture_linktype_ok(0));
	ck_assert(!capture_linktype_ok(127));
}
END_TEST

START_TEST(not_a_capture)
{
	char path[] = "/tmp/bwcap-bad-XXXXXX";
	int fd = mkstemp(path);
	struct bw_error err;

	ck_assert_int_eq(write(fd, "GET / HTTP/1.1\r\n\r\nxxxxxxxxxxxxxx", 32),
			 32);
	close(fd);
	ck_assert_ptr_null(capture_open_file(path, NULL, &err));
	ck_assert_msg(strstr(err.msg, "cannot read as a capture") != NULL,
		      "%s", err.msg);
	unlink(path);
	ck_assert_ptr_null(capture_open_file("/nonexistent/x.pcap", NULL,
					     &err));
	ck_assert_msg(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
}
END_TEST

/* A file that ends inside a record: the packets before it, then one error,
 * then the end. */
START_TEST(cut_mid_record)
{
	struct pg_file pf;
	struct capture *c;
	struct capture_packet pk;
	struct capture_stats st;
	struct bw_error err;
	uint8_t fr[256];
	size_t n = udp_frame(fr, 53, "hello");

	pg_file_open(&pf, "cut.pcap", 1, false, false);
	pg_file_frame(&pf, fr, n, n);
	pg_file_frame(&pf, fr, n, n);
	pg_file_close(&pf);
	ck_assert_int_eq(truncate(pf.path, (off_t)(24 + 16 + n + 16 + 5)), 0);
	c = capture_open_file(pf.path, NULL, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(capture_next(c, &pk, &err), 1);
	ck_assert_int_eq(capture_next(c, &pk, &err), -1);
	ck_assert_msg(strstr(err.msg, "after packet 1: truncated dump file") !=
			      NULL,
		      "%s", err.msg);
	ck_assert_int_eq(capture_next(c, &pk, &err), 0);
	capture_get_stats(c, &st);
	ck_assert_uint_eq(st.errors, 1);
	ck_assert_uint_eq(st.packets, 1);
	capture_destroy(&c);
	unlink(pf.path);
}
END_TEST

START_TEST(file_filter)
{
	struct pg_file pf;
	struct capture *c;
	struct capture_packet pk;
	struct bw_error err;
	uint8_t fr[256];
	size_t n;

	pg_file_open(&pf, "filter.pcap", 1, false, false);
	n = udp_frame(fr, 53, "dns");
	pg_file_frame(&pf, fr, n, n);
	n = udp_frame(fr, 123, "ntp");
	pg_file_frame(&pf, fr, n, n);
	pg_file_close(&pf);
	c = capture_open_file(pf.path, "udp port 123", &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_int_eq(capture_next(c, &pk, &err), 1);
	ck_assert_uint_eq(pk.number, 1); /* numbers count what is handed out */
	ck_assert_mem_eq(pk.data + pk.caplen - 3, "ntp", 3);
	ck_assert_int_eq(capture_next(c, &pk, &err), 0);
	capture_destroy(&c);
	ck_assert_ptr_null(capture_open_file(pf.path, "udp prot 53", &err));
	ck_assert_msg(strstr(err.msg, "filter \"udp prot 53\"") != NULL, "%s",
		      err.msg);
	unlink(pf.path);
}
END_TEST

/* Live on lo: a datagram sent to a port of our own shows up on the
 * selectable descriptor, filtered to that port. */
START_TEST(live_loopback)
{
	struct capture_options o = { .interface = "lo", .snaplen = 2048 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	struct capture *c;
	struct capture_packet pk;
	struct bw_error err;
	char filter[64];
	int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
	int got = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(rx, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(rx, (struct sockaddr *)&sa, &sl), 0);
	snprintf(filter, sizeof(filter), "udp dst port %u",
		 ntohs(sa.sin_port));
	o.filter = filter;
	c = capture_open_live(&o, &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_int_ge(capture_fd(c), 0);
	ck_assert_int_eq(capture_snaplen(c), 2048);
	ck_assert_int_eq(capture_next(c, &pk, &err), 0); /* nothing yet */
	ck_assert_int_eq(sendto(tx, "breachwatch", 11, 0,
				(struct sockaddr *)&sa, sizeof(sa)),
			 11);
	for (int i = 0; i < 50 && !got; i++) {
		struct pollfd pfd = { .fd = capture_fd(c), .events = POLLIN };
		int rc;

		ck_assert_int_ge(poll(&pfd, 1, 100), 0);
		rc = capture_next(c, &pk, &err);
		ck_assert_int_ge(rc, 0);
		got = rc;
	}
	ck_assert_int_eq(got, 1);
	ck_assert_mem_eq(pk.data + pk.caplen - 11, "breachwatch", 11);
	capture_destroy(&c);
	close(rx);
	close(tx);
}
END_TEST

START_TEST(live_errors)
{
	struct capture_options o = { .interface = "bw-no-such-if0" };
	struct bw_error err;

	ck_assert_ptr_null(capture_open_live(&o, &err));
	ck_assert_msg(strstr(err.msg, "bw-no-such-if0") != NULL, "%s",
		      err.msg);
	o.interface = "lo";
	o.snaplen = 10;
	ck_assert_ptr_null(capture_open_live(&o, &err));
	ck_assert_msg(strstr(err.msg, "snaplen 10") != NULL, "%s", err.msg);
	o.snaplen = 0;
	o.filter = "tcp port";
	ck_assert_ptr_null(capture_open_live(&o, &err));
	ck_assert_msg(strstr(err.msg, "filter") != NULL, "%s", err.msg);
	o.interface = NULL;
	ck_assert_ptr_null(capture_open_live(&o, &err));
}
END_TEST

static struct agentconf *load_conf(const char *text, struct bw_error *err)
{
	char path[] = "/tmp/bwcap-conf-XXXXXX";
	int fd = mkstemp(path);
	struct agentconf *c;

	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = agentconf_load(path, err);
	unlink(path);
	return c;
}

/* A `pcap` input of the agent config: its options, and refusals at
 * file:line. */
START_TEST(config_input)
{
	struct agentconf *c;
	struct bw_error err;
	struct capture_options co;
	struct netsrc_options no;

	c = load_conf("inputs = ( { type = \"nginx\"; path = \"a.log\"; },\n"
		      "  { type = \"pcap\"; interface = \"lo\";\n"
		      "    filter = \"tcp port 80\"; snaplen = 1500;\n"
		      "    buffer_size = 4194304; promisc = true;\n"
		      "    max_flows = 5000; tcp_timeout = \"2m\";\n"
		      "    udp_timeout = 30; app_memory = 2097152;\n"
		      "    report_bytes = 1048576; report_interval = \"1m\"; } );\n",
		      &err);
	ck_assert_msg(c != NULL, "%s", err.msg);
	ck_assert_uint_eq(c->n_inputs, 2);
	ck_assert_str_eq(c->inputs[1].type, "pcap");
	ck_assert_str_eq(c->inputs[1].path, "lo");
	ck_assert_ptr_eq(agentconf_input_by_type(c, "pcap"), &c->inputs[1]);
	ck_assert_int_eq(netsrc_config(c->inputs[1].opts, &co, &no, &err), 0);
	ck_assert_str_eq(co.interface, "lo");
	ck_assert_str_eq(co.filter, "tcp port 80");
	ck_assert_str_eq(no.filter, "tcp port 80");
	ck_assert_int_eq(co.snaplen, 1500);
	ck_assert_int_eq(co.buffer_size, 4194304);
	ck_assert(co.promisc);
	ck_assert_uint_eq(no.flow.max_flows, 5000);
	ck_assert_int_eq(no.flow.tcp_timeout_us, 120 * 1000000LL);
	ck_assert_int_eq(no.flow.udp_timeout_us, 30 * 1000000LL);
	ck_assert_uint_eq(no.app.max_memory, 2097152);
	ck_assert_uint_eq(no.report_bytes, 1048576);
	ck_assert_int_eq(no.report_us, 60 * 1000000LL);
	agentconf_destroy(&c);
	/* defaults: promiscuous off, no filter */
	ck_assert_int_eq(netsrc_config(NULL, &co, &no, &err), 0);
	ck_assert(!co.promisc);
	ck_assert_ptr_null(co.filter);
	ck_assert_uint_eq(no.flow.max_flows, FLOW_LIMITS_DEFAULT.max_flows);
	ck_assert_uint_eq(no.report_bytes, NETSRC_OPTIONS_DEFAULT.report_bytes);
	ck_assert_int_eq(no.report_us, NETSRC_OPTIONS_DEFAULT.report_us);

	ck_assert_ptr_null(load_conf("inputs = ( { type = \"pcap\"; } );", &err));
	ck_assert_msg(strstr(err.msg, "interface") != NULL, "%s", err.msg);
	ck_assert_ptr_null(load_conf("inputs = (\n { type = \"pcap\";\n"
				     " interface = \"lo\"; snaplen = 10; } );",
				     &err));
	ck_assert_int_eq(err.line, 3);
	ck_assert_msg(strstr(err.msg, "snaplen") != NULL, "%s", err.msg);
	ck_assert_ptr_null(load_conf("inputs = ( { type = \"pcap\"; "
				     "interface = \"lo\"; colour = 1; } );",
				     &err));
	ck_assert_msg(strstr(err.msg, "unknown setting \"colour\"") != NULL,
		      "%s", err.msg);
	/* a live capture has no path: a recorded file is --replay's */
	ck_assert_ptr_null(load_conf("inputs = ( { type = \"pcap\"; "
				     "interface = \"lo\"; path = \"x.pcap\"; } );",
				     &err));
	ck_assert_msg(strstr(err.msg, "unknown setting \"path\"") != NULL,
		      "%s", err.msg);
	ck_assert_ptr_null(load_conf("inputs = ( { type = \"pcap\"; "
				     "interface = \"lo\"; max_flows = 2; } );",
				     &err));
	ck_assert_msg(strstr(err.msg, "max_flows") != NULL, "%s", err.msg);
	/* a progress event for every few segments is refused */
	ck_assert_ptr_null(load_conf("inputs = ( { type = \"pcap\";\n"
				     "  interface = \"lo\";\n"
				     "  report_bytes = 1000; } );", &err));
	ck_assert_int_eq(err.line, 3);
	ck_assert_msg(strstr(err.msg, "report_bytes") != NULL, "%s", err.msg);
	ck_assert_ptr_null(load_conf("inputs = ( { type = \"pcap\"; "
				     "interface = \"lo\"; "
				     "report_interval = \"0s\"; } );", &err));
	ck_assert_msg(strstr(err.msg, "report_interval") != NULL, "%s",
		      err.msg);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("capture");

	tcase_add_test(tc, classic_le_micro);
	tcase_add_test(tc, classic_be_micro);
	tcase_add_test(tc, classic_le_nano);
	tcase_add_test(tc, classic_be_nano);
	tcase_add_test(tc, pcapng);
	tcase_add_test(tc, unsupported_linktype);
	tcase_add_test(tc, not_a_capture);
	tcase_add_test(tc, cut_mid_record);
	tcase_add_test(tc, file_filter);
	tcase_add_test(tc, live_loopback);
	tcase_add_test(tc, live_errors);
	tcase_add_test(tc, config_input);
	suite_add_tcase(s, tc);
	return s;
}
