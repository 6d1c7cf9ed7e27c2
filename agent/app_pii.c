/*
 * app_pii.c - e-mail addresses and payment card numbers in cleartext.
 *
 * Each direction of a flow has a budget of bytes scanned (app_limits
 * .pii_budget); past it nothing more is read. Chunks are scanned with the
 * last PII_CARRY bytes of the previous ones in front, so that an address
 * split between two segments is found; a find is counted when it ends in
 * the new bytes, and one that reaches the end of what has come so far
 * waits for the next chunk (it may go on) or for the report.
 *
 * E-mail: local part [A-Za-z0-9._%+-]{1,64} "@" a domain with a dot and a
 * top-level label of two or more letters. Card: 13 to 19 digits, single
 * spaces or dashes allowed between them, not inside a longer run of digits
 * or letters, with the prefix and length of a card brand (Visa,
 * Mastercard, American Express, Discover/UnionPay/Maestro, JCB, Diners),
 * passing the Luhn check: dates, ids and counters that happen to pass
 * Luhn (one number in ten does) mostly have no brand's prefix. Samples in
 * events are masked.
 */
#include "app_int.h"

#include <stdio.h>
#include <string.h>

#define EMAIL_MAX PII_CARRY
#define REPORT_EVERY 256

static bool local_ch(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
	       ch == '%' || ch == '+' || ch == '-';
}

static bool domain_ch(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';
}

static bool alpha(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static bool digit(uint8_t ch)
{
	return ch >= '0' && ch <= '9';
}

/* The e-mail address around the '@' at p[at], as [*s, *e). */
static bool email_at(const uint8_t *p, size_t len, size_t at, size_t *s,
		     size_t *e)
{
	size_t a = at, b = at + 1, dot = 0;

	while (a > 0 && at - a < 64 && local_ch(p[a - 1]))
		a--;
	while (a < at && p[a] == '.')
		a++;
	if (a == at)
		return false;
	while (b < len && b - at <= 253 && domain_ch(p[b])) {
		if (p[b] == '.')
			dot = b;
		b++;
	}
	while (b > at + 1 && (p[b - 1] == '.' || p[b - 1] == '-'))
		b--;
	if (dot == 0 || dot >= b - 2 || dot == at + 1)
		return false;
	for (size_t i = dot + 1; i < b; i++)
		if (!alpha(p[i]))
			return false;
	if (b - a > EMAIL_MAX)
		return false;
	*s = a;
	*e = b;
	return true;
}

/* Whether n digits at d have a card brand's prefix and length. */
static bool brand(const char *d, size_t n)
{
	int p2 = (d[0] - '0') * 10 + (d[1] - '0');
	int p4 = p2 * 100 + (d[2] - '0') * 10 + (d[3] - '0');

	switch (d[0]) {
	case '4': /* Visa */
		return n == 13 || n == 16 || n == 19;
	case '5': /* Mastercard */
		return p2 >= 51 && p2 <= 55 && n == 16;
	case '2': /* Mastercard's 2-series */
		return p4 >= 2221 && p4 <= 2720 && n == 16;
	case '3':
		if (p2 == 34 || p2 == 37) /* American Express */
			return n == 15;
		if (p2 == 35) /* JCB */
			return n >= 16;
		return (p2 == 30 || p2 == 36 || p2 == 38) && n >= 14; /* Diners */
	case '6': /* Discover, UnionPay, Maestro */
		return n >= 16;
	default:
		return false;
	}
}

static bool luhn(const char *d, size_t n)
{
	unsigned sum = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');

		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

/* A card number starting at p[i] (a digit not preceded by a digit or a
 * letter): its end *e and digits. */
static bool card_at(const uint8_t *p, size_t len, size_t i, size_t *e,
		    char *digits, size_t *nd)
{
	size_t n = 0, j = i;

	while (j < len) {
		if (digit(p[j])) {
			if (n == 19)
				return false; /* a longer run: an id, not a card */
			digits[n++] = (char)p[j++];
		} else if ((p[j] == ' ' || p[j] == '-') && j + 1 < len &&
			   digit(p[j + 1]) && n > 0) {
			j++;
		} else {
			break;
		}
	}
	if (n < 13 || (j < len && alpha(p[j])))
		return false;
	if (!brand(digits, n) || !luhn(digits, n))
		return false;
	*e = j;
	*nd = n;
	return true;
}

/* Scan buf; count finds ending in [from, upto) (upto = len, or len + 1 to
 * count those that reach the end too). */
static void scan(struct app_ctx *c, struct app_pii *st, const uint8_t *buf,
		 size_t len, size_t from, size_t upto)
{
	size_t i, s, e, nd;
	char digits[20];

	for (i = 0; i < len; i++) {
		uint8_t ch = buf[i];

		if (ch == '@' && email_at(buf, len, i, &s, &e)) {
			if (e > from && e < upto) {
				st->emails++;
				c->st.pii_emails++;
				if (st->email[0] == '\0')
					snprintf(st->email, sizeof(st->email),
						 "%c***%.*s", buf[s],
						 (int)(e - i), buf + i);
			}
			i = e > i ? e - 1 : i;
		} else if (digit(ch) &&
			   (i == 0 || (!digit(buf[i - 1]) &&
				       !alpha(buf[i - 1])))) {
			if (card_at(buf, len, i, &e, digits, &nd)) {
				if (e > from && e < upto) {
					st->cards++;
					c->st.pii_cards++;
					if (st->card[0] == '\0')
						snprintf(st->card,
							 sizeof(st->card),
							 "%.6s******%.4s",
							 digits,
							 digits + nd - 4);
				}
				i = e - 1;
			} else {
				while (i + 1 < len && digit(buf[i + 1]))
					i++;
			}
		}
	}
}

void app_pii_scan(struct app_ctx *c, struct app_flow *af, const struct flow *f,
		  int dir, const uint8_t *data, uint32_t len,
		  const struct app_pkt *pk)
{
	struct app_pii *st = &af->pii[dir];
	uint8_t buf[PII_CARRY + 4096];
	uint32_t left = c->lim.pii_budget - st->scanned;

	if (st->scanned >= c->lim.pii_budget)
		return;
	if (data == NULL) { /* a gap: what was carried does not go on */
		st->carry_len = 0;
		return;
	}
	if (len > left)
		len = left;
	st->scanned += len;
	c->st.pii_bytes += len;
	/* In pieces of 4 KB after the carry. */
	while (len > 0) {
		uint32_t n = len < 4096 ? len : 4096;
		size_t tot = st->carry_len + n;

		memcpy(buf, st->carry, st->carry_len);
		memcpy(buf + st->carry_len, data, n);
		/* Count finds ending at or after the carry's end (one that
		 * ended exactly there waited for these bytes), not at the end
		 * of what has come (it may go on). */
		scan(c, st, buf, tot, st->carry_len ? st->carry_len - 1 : 0,
		     tot);
		st->carry_len = (uint8_t)(tot < PII_CARRY ? tot : PII_CARRY);
		memcpy(st->carry, buf + tot - st->carry_len, st->carry_len);
		data += n;
		len -= n;
	}
	if (st->emails + st->cards >= REPORT_EVERY)
		app_pii_report(c, af, f, dir, pk);
}

static void emit_one(struct app_ctx *c, struct app_flow *af,
		     const struct flow *f, int dir, const struct app_pkt *pk,
		     const char *what, uint32_t n, const char *sample)
{
	struct bw_event ev;
	const char *noun, *proto;

	/* src is the client, dst the server, as in every event; detail and
	 * the byte field say which way the items went. */
	app_event(c, &ev, f, BW_KIND_FLOW, pk);
	ev.action = BW_STR_LIT("pii");
	ev.resource = (struct bw_str){ what, (uint32_t)strlen(what) };
	ev.text = (struct bw_str){ sample, (uint32_t)strlen(sample) };
	if (dir == FLOW_S2C) {
		ev.detail = BW_STR_LIT("to_client");
		ev.bytes_out = n;
	} else {
		ev.detail = BW_STR_LIT("to_server");
		ev.bytes_in = n;
	}
	proto = app_proto_name(af->proto);
	if (strcmp(what, "email") == 0)
		noun = n == 1 ? "e-mail address" : "e-mail addresses";
	else
		noun = n == 1 ? "card number" : "card numbers";
	ev.raw = app_raw(c, f, "%s %u %s in cleartext%s%s%s, e.g. %s",
			 dir == FLOW_S2C ? "server sent" : "client sent", n,
			 noun, *proto ? " (" : "", proto, *proto ? ")" : "",
			 sample);
	app_emit(c, af->proto, &ev);
}

void app_pii_report(struct app_ctx *c, struct app_flow *af,
		    const struct flow *f, int dir, const struct app_pkt *pk)
{
	struct app_pii *st = &af->pii[dir];

	/* A find that reached the end of the bytes so far ends here. */
	if (st->carry_len > 0) {
		scan(c, st, st->carry, st->carry_len, st->carry_len - 1,
		     (size_t)st->carry_len + 1);
		st->carry_len = 0;
	}
	if (st->emails > 0)
		emit_one(c, af, f, dir, pk, "email", st->emails, st->email);
	if (st->cards > 0)
		emit_one(c, af, f, dir, pk, "card", st->cards, st->card);
	st->emails = st->cards = 0;
	st->email[0] = st->card[0] = '\0';
}
