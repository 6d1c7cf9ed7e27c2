/*
 * msgcheck.c - reading messages back in the notifier's unit tests (see
 * msgcheck.h).
 */
#include "msgcheck.h"

#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

/* Every line of s ends in CRLF (no bare CR or LF) and is at most max
 * bytes long, the CRLF not counted. */
void lines_ok(const char *s, size_t max)
{
	size_t col = 0;

	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\r') {
			ck_assert_msg(p[1] == '\n', "bare CR in:\n%s", s);
			ck_assert_msg(col <= max, "line of %zu > %zu in:\n%s",
			              col, max, s);
			col = 0;
			p++;
			continue;
		}
		ck_assert_msg(*p != '\n', "bare LF in:\n%s", s);
		col++;
	}
	ck_assert_msg(col == 0, "no CRLF at the end of:\n%s", s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode quoted-printable with CRLF line ends to text with LF. */
char *qp_decode(const char *s)
{
	struct bw_buf b;

	bw_buf_init(&b, 1 << 24);
	for (const char *p = s; *p != '\0'; p++) {
		if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
			p += 2;
		} else if (p[0] == '=') {
			int hi = hexval(p[1]), lo = hexval(p[2]);

			ck_assert_msg(hi >= 0 && lo >= 0, "bad QP escape");
			ck_assert_int_eq(bw_buf_addc(&b, (char)(hi * 16 + lo)),
			                 0);
			p += 2;
		} else if (p[0] == '\r' && p[1] == '\n') {
			ck_assert_int_eq(bw_buf_addc(&b, '\n'), 0);
			p++;
		} else {
			ck_assert_int_eq(bw_buf_addc(&b, *p), 0);
		}
	}
	return bw_buf_steal(&b);
}

/* Unfold a header value and decode its encoded words (B, UTF-8). */
char *header_decode(const char *v)
{
	struct bw_buf b;
	const char *p = v;

	bw_buf_init(&b, 1 << 20);
	while (*p != '\0') {
		if (p[0] == '\r' && p[1] == '\n') {
			p += 2;
			continue;
		}
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			const char *end = strstr(p + 10, "?=");
			unsigned char bin[256];
			size_t n = 0;

			ck_assert_ptr_nonnull(end);
			ck_assert_int_eq(
			    sodium_base642bin(bin, sizeof(bin), p + 10,
			                      (size_t)(end - p - 10), NULL, &n,
			                      NULL,
			                      sodium_base64_VARIANT_ORIGINAL),
			    0);
			ck_assert_int_eq(bw_buf_add(&b, bin, n), 0);
			p = end + 2;
			/* white space between two encoded words goes */
			if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ' &&
			    strncmp(p + 3, "=?UTF-8?B?", 10) == 0)
				p += 3;
			continue;
		}
		ck_assert_int_eq(bw_buf_addc(&b, *p++), 0);
	}
	return bw_buf_steal(&b);
}

/* The value of header name in msg (unfolded raw text, CRLF kept). */
char *header_of(const char *msg, const char *name)
{
	char key[80];
	const char *p, *end;

	snprintf(key, sizeof(key), "\r\n%s:", name);
	if (strncmp(msg, key + 2, strlen(key) - 2) == 0)
		p = msg + strlen(key) - 2;
	else {
		p = strstr(msg, key);
		if (p == NULL)
			return NULL;
		p += strlen(key);
	}
	if (*p == ' ')
		p++;
	end = p;
	while ((end = strstr(end, "\r\n")) != NULL && end[2] == ' ')
		end += 2;
	ck_assert_ptr_nonnull(end);
	return xstrndup(p, (size_t)(end - p));
}

char *part_of(const char *msg, const char *type)
{
	char key[80], *raw, *dec;
	const char *p, *body, *end;

	snprintf(key, sizeof(key), "Content-Type: %s;", type);
	p = strstr(msg, key);
	if (p == NULL)
		return NULL;
	body = strstr(p, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	body += 4;
	/* the CRLF before a boundary belongs to the boundary */
	end = strstr(body, "\r\n--=_bw_alternative");
	if (end == NULL)
		end = body + strlen(body);
	raw = xstrndup(body, (size_t)(end - body));
	dec = qp_decode(raw);
	free(raw);
	return dec;
}
