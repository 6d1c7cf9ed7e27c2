/*
 * fuzz_incident.c - fuzz harness for bw_incident_from_json.
 *
 * Any input must be refused with an error message or decoded; a decoded
 * incident must encode, decode again and encode to the same text (the codec
 * round-trips exactly). Built with -DBW_LIBFUZZER under clang's
 * -fsanitize=fuzzer it is a libFuzzer target; otherwise a small main()
 * replays every file named on the command line, or found in a directory
 * named there, so CI runs the committed corpus under the sanitizers.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "incident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

#ifndef BW_LIBFUZZER

/* Inputs past the decoder's limit are cut there plus one byte: the decoder
 * refuses them by length either way. */
#define REPLAY_MAX ((size_t)BW_INC_MAX_JSON + 1)

static int run_file(const char *path)
{
	struct stat st;
	FILE *f;
	char *data;
	size_t len, want;

	f = fopen(path, "rb");
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	want =
	    (size_t)st.st_size < REPLAY_MAX ? (size_t)st.st_size : REPLAY_MAX;
	/* At least one byte, so an empty file is still a valid pointer. */
	data = malloc(want + 1);
	if (data == NULL) {
		fclose(f);
		return -1;
	}
	len = fread(data, 1, want, f);
	if (ferror(f)) {
		perror(path);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	return 0;
}

static int run_path(const char *path, int *n)
{
	struct dirent *de;
	struct stat st;
	char sub[4096];
	DIR *d;
	int rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*n)++;
		return run_file(path);
	}
	d = opendir(path);
	if (d == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		                     de->d_name) >= sizeof(sub))
			continue;
		if (run_path(sub, n) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	int i, n = 0, rc = 0;

	for (i = 1; i < argc; i++) {
		if (run_path(argv[i], &n) != 0)
			rc = 1;
	}
	printf("%d inputs replayed\n", n);
	/* An empty corpus is a mistake in the test setup, not a pass. */
	if (n == 0)
		rc = 1;
	return rc;
}

#endif
