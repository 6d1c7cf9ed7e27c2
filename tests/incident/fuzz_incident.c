/*
 * fuzz_incident.c - fuzz harness for bw_incident_from_json.
 *
 * Any input must be refused with an error message or decoded; a decoded
 * incident must encode, decode again and encode to the same text (the codec
 * round-trips exactly). Built with -DBW_LIBFUZZER under clang's
 * -fsanitize=fuzzer it is a libFuzzer target; otherwise linked with
 * tests/fuzz_replay.c, whose main() replays the committed corpus, so CI
 * runs it under the sanitizers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_replay.h"
#include "incident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bw_incident *inc, *again;
	struct bw_error err;
	char *json, *json2;

	memset(&err, 0, sizeof(err));
	inc = bw_incident_from_json((const char *)data, size, &err);
	if (inc == NULL) {
		/* Refusals must say why. */
		if (err.msg[0] == '\0')
			abort();
		return 0;
	}
	json = bw_incident_to_json(inc);
	again = bw_incident_from_json(json, strlen(json), &err);
	if (again == NULL) {
		fprintf(stderr, "re-decoding failed: %s\n%s\n", err.msg, json);
		abort();
	}
	json2 = bw_incident_to_json(again);
	if (strcmp(json, json2) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n", json, json2);
		abort();
	}
	free(json);
	free(json2);
	bw_incident_destroy(&again);
	bw_incident_destroy(&inc);
	return 0;
}
