/*
 * msgcheck.h - reading messages back in the notifier's unit tests: line
 * ends and lengths, quoted-printable and encoded words decoded, headers
 * found. Failures are Check assertions.
 */
#ifndef BW_TEST_MSGCHECK_H
#define BW_TEST_MSGCHECK_H

#include <stddef.h>

/* Every line of s ends in CRLF (no bare CR or LF) and is at most max
 * bytes long, the CRLF not counted. */
void lines_ok(const char *s, size_t max);
/* Quoted-printable with CRLF line ends to text with LF. Caller frees. */
char *qp_decode(const char *s);
/* A header value unfolded, its encoded words (B, UTF-8) decoded. Caller
 * frees. */
char *header_decode(const char *v);
/* The raw value of header name in msg (folds kept), or NULL. Caller
 * frees. */
char *header_of(const char *msg, const char *name);

/* The body of the part of msg with Content-Type type ("text/plain"),
 * quoted-printable decoded, or NULL when there is none. Caller frees. */
char *part_of(const char *msg, const char *type);

#endif
