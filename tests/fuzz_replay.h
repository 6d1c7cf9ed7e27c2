/*
 * fuzz_replay.h - replaying a fuzz harness's corpus without libFuzzer.
 *
 * A harness defines LLVMFuzzerTestOneInput(). Built with -fsanitize=fuzzer
 * it is a libFuzzer target; otherwise linked with fuzz_replay.c, whose
 * main() feeds it every file named on the command line, or found in a
 * directory named there (in name order), so CTest runs the committed corpus
 * under the sanitizers. An empty corpus fails: it proves nothing.
 */
#ifndef BW_FUZZ_REPLAY_H
#define BW_FUZZ_REPLAY_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
