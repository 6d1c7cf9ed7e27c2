/*
 * fuzz_wire.c - fuzz harness for the wire decoder (bw_wire_decode, and
 * bw_wire_incident for what decodes as an INCIDENT).
 *
 * The input is a list of frames, each a 2-byte big-endian length and that
 * many bytes (the last one takes what is left); at most 16. Any input must
 * be refused with a message or decoded; what decodes must encode to exactly
 * the same frames (the decoder accepts only the canonical form). Built with
 * -DBW_LIBFUZZER under clang's -fsanitize=fuzzer it is a libFuzzer target;
 * otherwise tests/fuzz_replay.c replays the committed corpus.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_replay.h"
#include "wire.h"

#define MAX_FRAMES 16

static void check_incident(const struct bw_wire_msg *m)
{
	enum bw_wire_status rej = BW_WIRE_OK;
	struct bw_incident *inc;
	struct bw_error err;

	memset(&err, 0, sizeof(err));
	inc = bw_wire_incident(m, &rej, &err);
	if (inc == NULL) {
		if (rej == BW_WIRE_OK || err.msg[0] == '\0')
			abort();
		return;
	}
	if (rej != BW_WIRE_OK || strcmp(inc->id, m->id) != 0 ||
	    inc->revision != m->revision)
		abort();
	bw_incident_destroy(&inc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_wire_frame f[MAX_FRAMES];
	struct bw_wire_frames out;
	struct bw_wire_msg m;
	struct bw_error err;
	size_t n = 0, pos = 0, i;

	while (pos + 2 <= size && n < MAX_FRAMES) {
		size_t len = ((size_t)data[pos] << 8) | data[pos + 1];

		pos += 2;
		if (len > size - pos)
			len = size - pos;
		f[n].data = data + pos;
		f[n].len = len;
		n++;
		pos += len;
	}
	memset(&err, 0, sizeof(err));
	if (bw_wire_decode(f, n, &m, &err) < 0) {
		/* Refusals must say why. */
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (bw_wire_encode(&m, &out, &err) < 0) {
		fprintf(stderr, "decoded but does not encode: %s\n", err.msg);
		abort();
	}
	if (out.n != n)
		abort();
	for (i = 0; i < n; i++) {
		if (out.f[i].len != f[i].len ||
		    (f[i].len > 0 &&
		     memcmp(out.f[i].data, f[i].data, f[i].len) != 0)) {
			fprintf(stderr, "frame %zu encodes differently\n", i);
			abort();
		}
	}
	if (m.type == BW_WIRE_INCIDENT)
		check_incident(&m);
	bw_wire_msg_clear(&m);
	return 0;
}
