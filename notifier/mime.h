/*
 * mime.h - e-mail messages as the notifier sends them (RFC 5322, MIME).
 *
 * A message is built from plain values: addresses, display names, a
 * subject, a text part and optionally an HTML part saying the same thing
 * (multipart/alternative). What goes into a header or an envelope is
 * checked first: a value with CR, LF or NUL (or another control character
 * but TAB) is refused, never cleaned, so that nothing taken from a
 * directory or an incident can add a header or a recipient. Addresses must be
 * plain ASCII local@domain (no SMTPUTF8); display names and subjects may be any
 * UTF-8 and are RFC 2047-encoded when they are not ASCII. Bodies are UTF-8,
 * quoted-printable, so that every line is short, ends in CRLF and no line
 * starts with a lone dot. The boundary starts with "=_", which quoted-printable
 * text can never contain.
 *
 * Pure functions: no I/O, no clock (the Date is given).
 */
#ifndef BW_MIME_H
#define BW_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/buf.h"
#include "../common/error.h"

/* RFC 5321: a path is at most 256 octets, a mailbox 254. */
#define MIME_MAX_ADDR    254
#define MIME_MAX_NAME    256 /* a display name, bytes */
#define MIME_MAX_SUBJECT 998 /* one header line */
#define MIME_MAX_MESSAGE (32u << 20)

/* Whether v may go into a header or an envelope: no CR, LF or NUL in its
 * first len bytes. */
bool mime_value_ok(const char *v, size_t len);

/* Check a text headed for a header (a name, a subject): at most max
 * bytes of UTF-8 without CR, LF, NUL or another control character but
 * TAB. Returns -1 with err naming what. */
int mime_text_check(const char *what, const char *v, size_t max,
                    struct bw_error *err) BW_WUR;

/* Check an address for an envelope and a header: 3-254 bytes of printable
 * ASCII, one '@' with a local part of atext and dots (no leading, trailing
 * or double dot) and a domain of letters, digits, '-' and dots (or an
 * address literal [...] of the same characters and ':'). Returns -1 with
 * err saying what is wrong (what names the value: "email", "from"). */
int mime_addr_check(const char *addr, const char *what,
                    struct bw_error *err) BW_WUR;

/* The domain of a checked address (borrowed, points into addr). */
const char *mime_addr_domain(const char *addr);

/* Append "Name: value" with value as one unstructured header: folded at
 * 78 columns, RFC 2047 B-encoded words (UTF-8) when it is not ASCII or has
 * a word longer than a line. Returns -1 with err when the value has CR, LF,
 * NUL or another control character but TAB, is not UTF-8, or out's ceiling
 * is reached. */
int mime_header(struct bw_buf *out, const char *name, const char *value,
                struct bw_error *err) BW_WUR;

/* Append "Name: display <addr>" (or just addr when display is NULL or
 * empty): the display name quoted when it is ASCII, encoded words when it is
 * not. Checks both values. */
int mime_header_addr(struct bw_buf *out, const char *name, const char *display,
                     const char *addr, struct bw_error *err) BW_WUR;

/* Append text (UTF-8, any line ends) as quoted-printable with CRLF line
 * ends: '=' and bytes outside printable ASCII encoded, soft breaks before
 * 76 columns, trailing white space and a leading '.' encoded. */
int mime_qp(struct bw_buf *out, const char *text, size_t len) BW_WUR;

/* "Mon, 23 Nov 2026 08:15:00 +0000" (RFC 5322 date, UTC). buf needs 32
 * bytes. Returns buf. */
const char *mime_date(int64_t utc_us, char *buf, size_t size);

/* A Message-ID derived from what the message is: "<" 32 hex digits of
 * SHA-256("breachwatch message-id v1", kind, incident, recipient key,
 * version) "." version "@" domain ">". The same inputs give the same id,
 * whenever and however often it is rendered. Caller frees. */
char *mime_message_id(const char *kind, const char *incident,
                      const char *recipient_key, uint32_t version,
                      const char *domain);

struct mime_header_kv {
	const char *name;
	const char *value;
};

struct mime_msg {
	const char *from_name; /* may be NULL */
	const char *from;      /* address */
	const char *to_name;   /* may be NULL */
	const char *to;        /* address: the one recipient */
	const char *reply_to;  /* address, may be NULL */
	const char *subject;
	const char *message_id; /* "<...>" */
	/* "<...>" of the message this one follows (In-Reply-To and
	 * References), may be NULL */
	const char *in_reply_to;
	int64_t date_us;
	const char *text; /* the text/plain part */
	const char *html; /* the text/html part; NULL: text only */
	const struct mime_header_kv *extra; /* more headers, may be NULL */
	size_t n_extra;
};

/* Build the whole message into out (CRLF line ends, headers then body):
 * From, To, Reply-To, Subject, Date, Message-ID, In-Reply-To and
 * References (when in_reply_to), Auto-Submitted: auto-generated,
 * MIME-Version, the extra headers, and a text/plain part or
 * a multipart/alternative of text and HTML. Returns -1 with err when a
 * value is refused (naming it) or the message is over MIME_MAX_MESSAGE;
 * out then holds a partial message to be thrown away. */
int mime_build(const struct mime_msg *m, struct bw_buf *out,
               struct bw_error *err) BW_WUR;

#endif
