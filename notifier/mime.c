/*
 * mime.c - e-mail messages (see mime.h).
 */
#include "mime.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/utf8.h"
#include "../common/xmalloc.h"

/* Header lines are folded before this many columns (RFC 5322: 78). */
#define FOLD 78
/* An encoded word's line stays within 76 columns (RFC 2047). */
#define EW_LINE 76
/* quoted-printable: at most 76 characters a line, the soft break's '='
 * included. */
#define QP_LINE 76

/* Quoted-printable can never hold "=_" (a literal '=' is "=3D"), so no
 * part's text can look like this boundary. */
#define BOUNDARY "=_bw_alternative_7f3a"

static const char HEX[] = "0123456789ABCDEF";

bool mime_value_ok(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (v[i] == '\r' || v[i] == '\n' || v[i] == '\0')
			return false;
	return true;
}

static bool is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-';
}

static int check_domain(const char *d, size_t len, const char *what,
                        struct bw_error *err)
{
	size_t label = 0;

	if (len == 0)
		return bw_error_set(err, NULL, 0, "%s: no domain after '@'",
		                    what);
	if (d[0] == '[') {
		if (len < 3 || d[len - 1] != ']')
			return bw_error_set(
			    err, NULL, 0, "%s: an address literal needs [...]",
			    what);
		for (size_t i = 1; i + 1 < len; i++)
			if (!is_ldh((unsigned char)d[i]) && d[i] != '.' &&
			    d[i] != ':')
				return bw_error_set(err, NULL, 0,
				                    "%s: bad character in the "
				                    "address literal",
				                    what);
		return 0;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (label == 0 || label > 63)
				return bw_error_set(
				    err, NULL, 0,
				    "%s: a label of the domain "
				    "is empty or longer than 63",
				    what);
			if (d[i - 1] == '-' || d[i - label] == '-')
				return bw_error_set(err, NULL, 0,
				                    "%s: a label of the domain "
				                    "starts or ends with '-'",
				                    what);
			label = 0;
			continue;
		}
		if (!is_ldh((unsigned char)d[i]))
			return bw_error_set(err, NULL, 0,
			                    "%s: the domain may hold letters, "
			                    "digits, '-' and dots only",
			                    what);
		label++;
	}
	return 0;
}

int mime_addr_check(const char *addr, const char *what, struct bw_error *err)
{
	size_t len, i;
	const char *at;

	if (addr == NULL)
		return bw_error_set(err, NULL, 0, "%s: no address", what);
	len = strlen(addr);
	if (len < 3 || len > MIME_MAX_ADDR)
		return bw_error_set(err, NULL, 0,
		                    "%s: an address has 3-%d bytes", what,
		                    MIME_MAX_ADDR);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)addr[i];

		if (c < 0x21 || c > 0x7e)
			return bw_error_set(err, NULL, 0,
			                    "%s: an address is printable ASCII "
			                    "without spaces or line breaks",
			                    what);
	}
	at = strchr(addr, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return bw_error_set(err, NULL, 0,
		                    "%s: an address has exactly one '@'", what);
	if (at == addr || at - addr > 64)
		return bw_error_set(err, NULL, 0,
		                    "%s: the local part has 1-64 bytes", what);
	for (const char *p = addr; p < at; p++) {
		if (*p == '.') {
			if (p == addr || p + 1 == at || p[1] == '.')
				return bw_error_set(err, NULL, 0,
				                    "%s: a dot starts, ends or "
				                    "doubles in the local part",
				                    what);
			continue;
		}
		if (!is_atext((unsigned char)*p))
			return bw_error_set(err, NULL, 0,
			                    "%s: bad character '%c' in the "
			                    "local part",
			                    what, *p);
	}
	return check_domain(at + 1, len - (size_t)(at + 1 - addr), what, err);
}

const char *mime_addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : addr;
}

/*
 * Headers.
 */

static int full(struct bw_error *err)
{
	return bw_error_set(err, NULL, 0, "message larger than %u bytes",
	                    MIME_MAX_MESSAGE);
}

/* Whether a value must be encoded: not printable ASCII, holds "=?"
 * (which a reader would take for the start of an encoded word), or has a
 * run without spaces too long to fold. */
static bool needs_encoding(const char *v, size_t len, size_t col)
{
	size_t run = col;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c < 0x20 || c > 0x7e || c == '\t')
			return true;
		if (c == '=' && i + 1 < len && v[i + 1] == '?')
			return true;
		run = c == ' ' ? 0 : run + 1;
		if (run > FOLD - 2)
			return true;
	}
	return false;
}

int mime_text_check(const char *what, const char *v, size_t max,
                    struct bw_error *err)
{
	size_t len = strlen(v), n;

	if (len > max)
		return bw_error_set(err, NULL, 0, "%s: longer than %zu bytes",
		                    what, max);
	if (!mime_value_ok(v, len))
		return bw_error_set(err, NULL, 0,
		                    "%s: a line break (CR or LF) is refused: "
		                    "it would go into a mail header",
		                    what);
	for (size_t i = 0; i < len; i += n) {
		unsigned char c = (unsigned char)v[i];

		n = bw_utf8_len((const unsigned char *)v + i, len - i);
		if (n == 0)
			return bw_error_set(err, NULL, 0, "%s: not valid UTF-8",
			                    what);
		if (n == 1 && ((c < 0x20 && c != '\t') || c == 0x7f))
			return bw_error_set(err, NULL, 0,
			                    "%s: a control character is "
			                    "refused",
			                    what);
	}
	return 0;
}

/* Append v as printable ASCII, folded at spaces: a line break goes before
 * a space, so unfolding gives v back. *col is the current column. */
static int put_folded(struct bw_buf *out, const char *v, size_t len,
                      size_t *col)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i + 1, word;

		while (j < len && v[j] != ' ')
			j++;
		word = j - i; /* v[i] is a space after the first word */
		if (v[i] == ' ' && *col + word > FOLD) {
			if (bw_buf_addstr(out, "\r\n") < 0)
				return -1;
			*col = 0;
		}
		if (bw_buf_add(out, v + i, word) < 0)
			return -1;
		*col += word;
		i = j;
	}
	return 0;
}

/* Append v as B-encoded words of UTF-8, each on a line of at most EW_LINE
 * columns, never splitting a character. */
static int put_encoded(struct bw_buf *out, const char *v, size_t len,
                       size_t *col)
{
	size_t i = 0;

	while (i < len) {
		size_t avail = *col + 12 < EW_LINE ? EW_LINE - *col - 12 : 4;
		size_t max = avail / 4 * 3, n = 0, k;
		char b64[128];

		if (max < 3)
			max = 3;
		if (max > 45)
			max = 45;
		/* whole characters, at least one */
		while (i + n < len) {
			k = bw_utf8_len((const unsigned char *)v + i + n,
			                len - i - n);
			if (k == 0)
				k = 1;
			if (n + k > max && n > 0)
				break;
			n += k;
		}
		sodium_bin2base64(b64, sizeof(b64),
		                  (const unsigned char *)v + i, n,
		                  sodium_base64_VARIANT_ORIGINAL);
		if (i > 0) {
			if (bw_buf_addstr(out, "\r\n ") < 0)
				return -1;
			*col = 1;
		}
		if (bw_buf_printf(out, "=?UTF-8?B?%s?=", b64) < 0)
			return -1;
		*col += 12 + strlen(b64);
		i += n;
	}
	return 0;
}

static int check_name(const char *name, struct bw_error *err)
{
	size_t len = strlen(name);

	if (len == 0 || len > 76)
		return bw_error_set(err, NULL, 0,
		                    "a header name has 1-76 "
		                    "characters");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 33 || c > 126 || c == ':')
			return bw_error_set(err, NULL, 0,
			                    "header name \"%.76s\": printable "
			                    "ASCII without ':'",
			                    name);
	}
	return 0;
}

int mime_header(struct bw_buf *out, const char *name, const char *value,
                struct bw_error *err)
{
	size_t len, col;
	int rc;

	if (check_name(name, err) < 0 ||
	    mime_text_check(name, value, MIME_MAX_SUBJECT, err) < 0)
		return -1;
	len = strlen(value);
	if (bw_buf_printf(out, "%s: ", name) < 0)
		return full(err);
	col = strlen(name) + 2;
	if (needs_encoding(value, len, col))
		rc = put_encoded(out, value, len, &col);
	else
		rc = put_folded(out, value, len, &col);
	if (rc < 0 || bw_buf_addstr(out, "\r\n") < 0)
		return full(err);
	return 0;
}

/* A display name as a quoted string (ASCII) or encoded words. */
static int put_display(struct bw_buf *out, const char *d, size_t *col)
{
	size_t len = strlen(d);

	if (needs_encoding(d, len, *col))
		return put_encoded(out, d, len, col);
	if (bw_buf_addc(out, '"') < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((d[i] == '"' || d[i] == '\\') && bw_buf_addc(out, '\\') < 0)
			return -1;
		if (bw_buf_addc(out, d[i]) < 0)
			return -1;
	}
	*col += len + 2;
	return bw_buf_addc(out, '"');
}

int mime_header_addr(struct bw_buf *out, const char *name, const char *display,
                     const char *addr, struct bw_error *err)
{
	size_t col;

	if (check_name(name, err) < 0 || mime_addr_check(addr, name, err) < 0)
		return -1;
	if (display != NULL && display[0] != '\0' &&
	    mime_text_check(name, display, MIME_MAX_NAME, err) < 0)
		return -1;
	if (bw_buf_printf(out, "%s: ", name) < 0)
		return full(err);
	col = strlen(name) + 2;
	if (display != NULL && display[0] != '\0') {
		if (put_display(out, display, &col) < 0)
			return full(err);
		if (col + strlen(addr) + 3 > FOLD) {
			if (bw_buf_addstr(out, "\r\n") < 0)
				return full(err);
		}
		if (bw_buf_addc(out, ' ') < 0)
			return full(err);
	}
	if (bw_buf_printf(out, "<%s>\r\n", addr) < 0)
		return full(err);
	return 0;
}

/*
 * Bodies.
 */

int mime_qp(struct bw_buf *out, const char *text, size_t len)
{
	size_t i = 0, col = 0;

	while (i <= len) {
		/* one line of input, without its line end */
		size_t end = i;

		while (end < len && text[end] != '\n')
			end++;
		size_t stop = end;

		if (stop > i && text[stop - 1] == '\r')
			stop--;
		if (end == len && stop == i && i > 0)
			break; /* the text ended with a line end */
		col = 0;
		for (size_t k = i; k < stop; k++) {
			unsigned char c = (unsigned char)text[k];
			bool last = k + 1 == stop;
			bool enc = c == '=' || c > 0x7e ||
			           (c < 0x20 && c != '\t') ||
			           ((c == ' ' || c == '\t') && last) ||
			           (c == '.' && col == 0) ||
			           (c == 'F' && col == 0); /* "From " */
			char tok[3];
			size_t n = 1;

			if (enc) {
				tok[0] = '=';
				tok[1] = HEX[c >> 4];
				tok[2] = HEX[c & 0xf];
				n = 3;
			} else {
				tok[0] = (char)c;
			}
			/* room for the token and, unless it ends the line,
			 * a soft break after it */
			if (col + n > QP_LINE - (last ? 0 : 1)) {
				if (bw_buf_addstr(out, "=\r\n") < 0)
					return -1;
				col = 0;
				if (c == '.' || c == 'F') {
					tok[0] = '=';
					tok[1] = HEX[c >> 4];
					tok[2] = HEX[c & 0xf];
					n = 3;
				}
			}
			if (bw_buf_add(out, tok, n) < 0)
				return -1;
			col += n;
		}
		if (bw_buf_addstr(out, "\r\n") < 0)
			return -1;
		if (end >= len)
			break;
		i = end + 1;
	}
	return 0;
}

const char *mime_date(int64_t utc_us, char *buf, size_t size)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
	                                   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
	                                     "May", "Jun", "Jul", "Aug",
	                                     "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(utc_us / 1000000);
	struct tm tm;

	if (utc_us < 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, size, "Thu, 01 Jan 1970 00:00:00 +0000");
		return buf;
	}
	snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	         days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return buf;
}

static void hash_field(crypto_hash_sha256_state *h, const char *s)
{
	unsigned char len[8];
	uint64_t n = strlen(s);

	for (int i = 7; i >= 0; i--) {
		len[i] = (unsigned char)(n & 0xff);
		n >>= 8;
	}
	crypto_hash_sha256_update(h, len, sizeof(len));
	crypto_hash_sha256_update(h, (const unsigned char *)s, strlen(s));
}

char *mime_message_id(const char *kind, const char *incident,
                      const char *recipient_key, uint32_t version,
                      const char *domain)
{
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];
	char hex[33], v[16];

	snprintf(v, sizeof(v), "%" PRIu32, version);
	crypto_hash_sha256_init(&h);
	hash_field(&h, "breachwatch message-id v1");
	hash_field(&h, kind);
	hash_field(&h, incident);
	hash_field(&h, recipient_key);
	hash_field(&h, v);
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(hex, sizeof(hex), d, 16);
	return xasprintf("<%s.%s@%s>", hex, v, domain);
}

static int check_message_id(const char *id, struct bw_error *err)
{
	size_t len = id != NULL ? strlen(id) : 0;

	if (len < 5 || len > 250 || id[0] != '<' || id[len - 1] != '>' ||
	    strchr(id, '@') == NULL)
		return bw_error_set(err, NULL, 0,
		                    "Message-ID: must be <left@right>");
	for (size_t i = 1; i + 1 < len; i++) {
		unsigned char c = (unsigned char)id[i];

		if (c < 0x21 || c > 0x7e || c == '<' || c == '>')
			return bw_error_set(err, NULL, 0,
			                    "Message-ID: printable ASCII only");
	}
	return 0;
}

/* "name: <id>" (checked), the id on a line of its own when it would not
 * fit: a msg-id is never folded inside nor encoded. */
static int put_id(struct bw_buf *out, const char *name, const char *id,
                  struct bw_error *err)
{
	if (check_message_id(id, err) < 0)
		return -1;
	if (bw_buf_printf(out, "%s:%s%s\r\n", name,
	                  strlen(name) + 2 + strlen(id) > FOLD ? "\r\n " : " ",
	                  id) < 0)
		return full(err);
	return 0;
}

static int part(struct bw_buf *out, const char *type, const char *body,
                struct bw_error *err)
{
	if (bw_buf_printf(out,
	                  "Content-Type: %s; charset=utf-8\r\n"
	                  "Content-Transfer-Encoding: quoted-printable\r\n"
	                  "\r\n",
	                  type) < 0 ||
	    mime_qp(out, body, strlen(body)) < 0)
		return full(err);
	return 0;
}

int mime_build(const struct mime_msg *m, struct bw_buf *out,
               struct bw_error *err)
{
	char date[40];

	if (m->text == NULL)
		return bw_error_set(err, NULL, 0, "a message needs a text");
	if (check_message_id(m->message_id, err) < 0 ||
	    mime_header_addr(out, "From", m->from_name, m->from, err) < 0 ||
	    mime_header_addr(out, "To", m->to_name, m->to, err) < 0)
		return -1;
	if (m->reply_to != NULL &&
	    mime_header_addr(out, "Reply-To", NULL, m->reply_to, err) < 0)
		return -1;
	if (mime_header(out, "Subject", m->subject != NULL ? m->subject : "",
	                err) < 0)
		return -1;
	if (bw_buf_printf(out, "Date: %s\r\n",
	                  mime_date(m->date_us, date, sizeof(date))) < 0)
		return full(err);
	if (put_id(out, "Message-ID", m->message_id, err) < 0 ||
	    (m->in_reply_to != NULL &&
	     (put_id(out, "In-Reply-To", m->in_reply_to, err) < 0 ||
	      put_id(out, "References", m->in_reply_to, err) < 0)))
		return -1;
	if (bw_buf_addstr(out, "Auto-Submitted: auto-generated\r\n"
	                       "MIME-Version: 1.0\r\n") < 0)
		return full(err);
	for (size_t i = 0; i < m->n_extra; i++)
		if (mime_header(out, m->extra[i].name, m->extra[i].value, err) <
		    0)
			return -1;
	if (m->html == NULL)
		return part(out, "text/plain", m->text, err);
	if (bw_buf_addstr(
	        out, "Content-Type: multipart/alternative;\r\n"
	             " boundary=\"" BOUNDARY "\"\r\n"
	             "\r\n"
	             "This is a message in MIME format: a text and an HTML "
	             "version of the same.\r\n"
	             "\r\n--" BOUNDARY "\r\n") < 0)
		return full(err);
	if (part(out, "text/plain", m->text, err) < 0)
		return -1;
	if (bw_buf_addstr(out, "\r\n--" BOUNDARY "\r\n") < 0)
		return full(err);
	if (part(out, "text/html", m->html, err) < 0)
		return -1;
	if (bw_buf_addstr(out, "\r\n--" BOUNDARY "--\r\n") < 0)
		return full(err);
	return 0;
}
