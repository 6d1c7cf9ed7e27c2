/*
 * utf8.h - UTF-8 validation for text taken from logs and packets.
 */
#ifndef BW_UTF8_H
#define BW_UTF8_H

#include <stddef.h>

/* The length (1-4) of the valid UTF-8 sequence at s[0..len), len >= 1, or 0
 * when it is not one: overlong forms, surrogates and code points past
 * U+10FFFF are invalid (RFC 3629). */
size_t bw_utf8_len(const unsigned char *s, size_t len);

#endif
