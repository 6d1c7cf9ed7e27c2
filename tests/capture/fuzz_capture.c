/*
 * fuzz_capture.c - a fuzz harness for the network input: the decoder, IP
 * reassembly, the flow table, TCP reassembly and every protocol extractor.
 *
 * An input that starts with a pcap or pcapng magic number is a capture
 * file: it is read through libpcap as a recorded input is (written to an
 * anonymous memory file). Any other input is a list of frames: one byte
 * choosing the link type, then records of a 2-byte big-endian length, one
 * byte of "bytes lost to the snapshot length", and the frame. Each event
 * is formatted (every field read) so a bad pointer in one shows.
 *
 * Built with -DBW_LIBFUZZER it is a libFuzzer target; otherwise
 * tests/fuzz_replay.c replays the committed seeds (fuzz-corpus/: pcaps
 * recorded from real programs and the unit tests' sessions).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../agent/netsrc.h"
#include "../fuzz_replay.h"

static const int dlts[] = { 1, 113, 276, 12, 228, 229, 0, 108 };

static void drain(struct netsrc *ns)
{
	struct bw_event ev;
	struct bw_error err;
	char buf[512];
	int rc;

	while ((rc = netsrc_next(ns, &ev, &err)) != 0) {
		if (rc < 0)
			continue;
		for (int f = BW_F_KIND; f < BW_F__COUNT; f++)
			bw_event_format(&ev, (enum bw_field)f, buf,
					sizeof(buf));
		if (ev.raw.len > 0 && ev.raw.p[ev.raw.len - 1] == '\x01')
			buf[0] = 0; /* read the last byte of raw too */
	}
}

static void as_file(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.pcap", 0);
	char path[64];
	struct bw_error err;
	struct netsrc *ns;

	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		ns = netsrc_open_file(path, NULL, &err);
		if (ns != NULL) {
			drain(ns);
			netsrc_destroy(&ns);
		}
	}
	close(fd);
}

static void as_frames(const uint8_t *data, size_t size)
{
	struct netsrc_options o = NETSRC_OPTIONS_DEFAULT;
	struct netsrc *ns;
	size_t at = 1;
	int64_t ts = 1000000;

	/* small bounds, so that fuzzing reaches them */
	o.flow.max_flows = 16;
	o.stream.max_held_bytes = 4096;
	o.stream.max_held_segments = 8;
	o.decode.frag_max_datagrams = 4;
	o.decode.frag_max_bytes = 16384;
	o.app.max_pending = 4;
	o.app.max_header = 2048;
	o.app.max_message = 4096;
	o.app.max_memory = 65536;
	ns = netsrc_new_frames(dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))],
			       "fuzz", &o);
	while (at + 3 <= size) {
		size_t len = (size_t)data[at] << 8 | data[at + 1];
		uint32_t lost = data[at + 2];

		at += 3;
		if (len > size - at)
			len = size - at;
		netsrc_frame(ns, ts, data + at, (uint32_t)len,
			     (uint32_t)len + lost);
		drain(ns);
		at += len;
		ts += 1000 + (int64_t)lost * 1000000; /* some flows time out */
	}
	netsrc_finish(ns);
	drain(ns);
	netsrc_destroy(&ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x0a, 0x0d, 0x0d, 0x0a },
	};

	if (size == 0)
		return 0;
	for (size_t i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
		if (size >= 4 && memcmp(data, magics[i], 4) == 0) {
			as_file(data, size);
			return 0;
		}
	as_frames(data, size);
	return 0;
}
