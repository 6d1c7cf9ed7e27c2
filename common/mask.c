/*
 * mask.c - masking secrets and personal data in evidence excerpts.
 *
 * One pass over the input. At each position a table of matchers is tried in
 * order; the first that recognises something writes its masked form and
 * says how many input bytes it consumed. When none does, one character is
 * copied (or shown as "\xNN").
 *
 * Each matcher fires only at the start of its kind of token (the byte before
 * is not part of such a token), and a token that turns out not to match is
 * then walked over one character at a time without the matcher firing again
 * inside it, so every input byte is looked at a bounded number of times: the
 * work is linear in the input consumed, and stops as soon as the output is
 * full. The SQL matcher looks further ahead, but at most SQL_WINDOW bytes
 * from its trigger word, except over the string it then masks and consumes.
 *
 * Choices beyond mask.h:
 *  - a secret parameter is "name=value" (query, form, cookie, environment)
 *    or a JSON member "name": "value"; the name matches the list exactly or
 *    ends in "_" / "-" followed by token, secret, password, passwd, pwd,
 *    apikey, api_key or key ("client_secret", "x-api-key", "MYSQL_PWD").
 *    An empty value stays empty: it shows that none was given.
 *  - after "Authorization" (or "Proxy-Authorization") and ':' or '=', the
 *    scheme word is kept and the credentials up to the end of the field are
 *    masked; a free-standing "Basic" or "Bearer" masks the token after it
 *    when that token is at least 8 characters long ("Basic auth failed"
 *    stays as it is).
 *  - SQL (see "SQL secrets" below): statements are lexed with bw_sqllex,
 *    as PostgreSQL reads them, from a trigger word on. The secret is the
 *    string token where the rule expects it, of any quoting: '', E'',
 *    U&'', $$...$$, $tag$...$tag$, and "..." (MySQL). A plain string whose
 *    content ends in a backslash is masked to the later of its standard
 *    end and its end with backslash escapes (MySQL, or PostgreSQL with
 *    standard_conforming_strings off).
 *  - an e-mail address is local@domain or local%40domain (URL-encoded), the
 *    domain having a dot and a last label of letters; the domain is kept.
 *  - a card number is a run of 13-19 digits, not touching other digits,
 *    that passes Luhn and starts with 2-6 (the major industry identifiers of
 *    payment cards), so epoch timestamps in milliseconds or microseconds,
 *    which start with 1, are not taken for cards.
 *  - bytes below 0x20, 0x7f, C1 controls and invalid UTF-8 are shown as
 *    "\xNN"; other valid UTF-8 is copied.
 */
#include "mask.h"
#include "sqllex.h"
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#define MASK "****"

/* The output: units (a character, an escape) are written whole or not at
 * all, so a cut never splits a UTF-8 sequence or an escape. */
struct out {
	char *p;
	size_t size;
	size_t len;
	size_t mark; /* end of the last unit that leaves room for "..." */
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full)
		return;
	if (o->size == 0 || o->len + n > o->size - 1) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	if (o->len + 3 <= o->size - 1)
		o->mark = o->len;
}

/* ASCII text, which may be cut anywhere. */
static void put_ascii(struct out *o, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && !o->full; i++)
		put(o, s + i, 1);
}

static void put_escape(struct out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 0xf]};

	put(o, e, sizeof(e));
}

/* The input, and character classes. */
struct in {
	const unsigned char *p;
	size_t len;
};

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

/* A parameter or keyword name. */
static bool is_ident(unsigned char c)
{
	return is_alnum(c) || c == '_' || c == '-';
}

/* An e-mail local part (what appears in logs; quoted forms are not). */
static bool is_local(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

static bool is_domain(unsigned char c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Where a parameter value or a credential ends. */
static bool ends_value(unsigned char c)
{
	return c == '&' || c == ';' || c == ' ' || c == '\t' || c == '"' ||
	       c == '\'' || c == ',' || c == '}' || c == '\r' || c == '\n' ||
	       c == '\0';
}

static size_t span(const struct in *in, size_t i, bool (*cls)(unsigned char),
                   size_t max)
{
	size_t j = i;

	while (j < in->len && j - i < max && cls(in->p[j]))
		j++;
	return j - i;
}

static size_t skip_spaces(const struct in *in, size_t i)
{
	while (i < in->len && is_space(in->p[i]))
		i++;
	return i;
}

/* Is in[i..i+n) equal to word, ignoring case? */
static bool word_is(const struct in *in, size_t i, size_t n, const char *word)
{
	return strlen(word) == n &&
	       strncasecmp((const char *)in->p + i, word, n) == 0;
}

/*
 * Secret names.
 */

static const char *const secret_names[] = {
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "pgpassword",
    "token",
    "access_token",
    "id_token",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "secret",
    "session",
    "sessionid",
    "session_id",
    "sid",
    "auth",
    "code",
    "otp",
    "signature",
    "sig",
    "jwt",
    "csrf",
    "xsrf",
    "phpsessid",
    "jsessionid",
    "private_key",
    "credential",
    "credentials",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
};

static const char *const secret_suffixes[] = {
    "token", "secret", "password", "passwd", "pwd", "apikey", "api_key", "key",
};

#define LEN(a)   (sizeof(a) / sizeof((a)[0]))
#define MAX_NAME 64

/* Does the name in[i..i+n) end in "_" or "-" and then word, ignoring
 * case ("client_secret", "x-api-key")? */
static bool ends_in_word(const struct in *in, size_t i, size_t n,
                         const char *word)
{
	size_t wl = strlen(word);

	return n > wl + 1 &&
	       (in->p[i + n - wl - 1] == '_' || in->p[i + n - wl - 1] == '-') &&
	       strncasecmp((const char *)in->p + i + n - wl, word, wl) == 0;
}

static bool secret_name(const struct in *in, size_t i, size_t n)
{
	size_t k;

	for (k = 0; k < LEN(secret_names); k++) {
		if (word_is(in, i, n, secret_names[k]))
			return true;
	}
	for (k = 0; k < LEN(secret_suffixes); k++) {
		if (ends_in_word(in, i, n, secret_suffixes[k]))
			return true;
	}
	return false;
}

/* Copy one character at in[i]; returns the bytes consumed. */
static size_t copy_char(struct out *o, const struct in *in, size_t i)
{
	unsigned char c = in->p[i];
	size_t n;

	if (c >= 0x20 && c < 0x7f) {
		put(o, (const char *)in->p + i, 1);
		return 1;
	}
	n = c >= 0x80 ? bw_utf8_len(in->p + i, in->len - i) : 0;
	/* C1 controls (U+0080..U+009F) are not shown either. */
	if (n == 0 || (n == 2 && c == 0xc2 && in->p[i + 1] < 0xa0)) {
		put_escape(o, c);
		return 1;
	}
	put(o, (const char *)in->p + i, n);
	return n;
}

/* Copy in[from..to), which holds only ASCII we matched on (names, spaces,
 * punctuation); a tab is still shown as an escape. */
static void copy_ascii(struct out *o, const struct in *in, size_t from,
                       size_t to)
{
	size_t k;

	for (k = from; k < to; k++) {
		if (in->p[k] >= 0x20 && in->p[k] < 0x7f)
			put(o, (const char *)in->p + k, 1);
		else
			put_escape(o, in->p[k]);
	}
}

/* A quoted literal starting at in[q] (the quote): skip to just past the
 * closing quote; doubled quotes and backslash escapes stay inside. */
static size_t skip_quoted(const struct in *in, size_t q)
{
	unsigned char quote = in->p[q];
	size_t j = q + 1;

	while (j < in->len) {
		if (in->p[j] == '\\' && j + 1 < in->len) {
			j += 2;
		} else if (in->p[j] == quote) {
			if (j + 1 < in->len && in->p[j + 1] == quote)
				j += 2;
			else
				return j + 1;
		} else {
			j++;
		}
	}
	return j;
}

/* Mask the literal at in[q] (a quote): write quote, MASK, quote. */
static size_t mask_literal(struct out *o, const struct in *in, size_t q)
{
	size_t end = skip_quoted(in, q);
	char quote = (char)in->p[q];

	put_ascii(o, &quote, 1);
	put_ascii(o, MASK, strlen(MASK));
	if (end > q + 1 && in->p[end - 1] == in->p[q])
		put_ascii(o, &quote, 1);
	return end;
}

/*
 * Matchers. Each gets the position i (where the previous byte, if any, is
 * known), returns the number of input bytes consumed and written masked,
 * or 0 when it does not apply.
 */

/* "Authorization: Basic xxx", "authorization=xxx". */
static size_t match_authorization(struct out *o, const struct in *in, size_t i,
                                  size_t n)
{
	size_t j, s, end;

	if (!word_is(in, i, n, "authorization") &&
	    !word_is(in, i, n, "proxy-authorization"))
		return 0;
	j = skip_spaces(in, i + n);
	if (j >= in->len || (in->p[j] != ':' && in->p[j] != '='))
		return 0;
	j = skip_spaces(in, j + 1);
	if (j < in->len && (in->p[j] == '"' || in->p[j] == '\''))
		j++;
	/* A scheme word followed by a space is kept. */
	s = span(in, j, is_alpha, MAX_NAME);
	if (s > 0 && j + s < in->len && is_space(in->p[j + s]))
		j = skip_spaces(in, j + s);
	end = j;
	while (end < in->len && in->p[end] != '"' && in->p[end] != '\'' &&
	       in->p[end] != '\r' && in->p[end] != '\n' && in->p[end] != '&' &&
	       in->p[end] != '\0')
		end++;
	if (end == j)
		return 0;
	copy_ascii(o, in, i, j);
	put_ascii(o, MASK, strlen(MASK));
	return end - i;
}

static bool is_token68(unsigned char c)
{
	return is_alnum(c) || c == '+' || c == '/' || c == '=' || c == '.' ||
	       c == '_' || c == '~' || c == '-';
}

/* A free-standing "Basic dXNlcjpwYXNz" or "Bearer eyJ...". */
static size_t match_scheme(struct out *o, const struct in *in, size_t i,
                           size_t n)
{
	size_t j, t;

	if (!word_is(in, i, n, "basic") && !word_is(in, i, n, "bearer"))
		return 0;
	j = skip_spaces(in, i + n);
	if (j == i + n)
		return 0;
	t = span(in, j, is_token68, SIZE_MAX);
	if (t < 8)
		return 0;
	copy_ascii(o, in, i, j);
	put_ascii(o, MASK, strlen(MASK));
	return j + t - i;
}

/*
 * SQL secrets. At a trigger word (a table below) the text is lexed with
 * bw_sqllex over at most SQL_WINDOW bytes; when the tokens after the word
 * have the shape of a secret, the string token there is the secret. The
 * text from the word to the string is shown as usual (it may hold other
 * secrets: crypt('a', ...) inside pgp_sym_encrypt(..., 'b')), the string's
 * content becomes MASK between its own quotes or tags, and an empty string
 * stays (it shows that none was given).
 *
 * The window bounds the work on a trigger word that leads nowhere; the
 * string is lexed again over the rest of the input, so one longer than the
 * window, or cut off by the end of the input, is masked to its real end.
 */

#define SQL_WINDOW 512 /* mask.h says so */

/* Where a rule looks: a lexer from the trigger word on, and where the
 * last token taken ends (exact for names, operators and punctuation, the
 * tokens a secret string follows). */
struct sqlcur {
	struct bw_sqllex lx;
	const char *end;
};

static const struct bw_sqltok *tok(struct sqlcur *c, size_t k)
{
	return bw_sqllex_peek(&c->lx, k);
}

static void take(struct sqlcur *c)
{
	const struct bw_sqltok *t = tok(c, 0);

	if (t->kind == BW_SQL_END)
		return;
	c->end = t->p + t->len;
	bw_sqllex_advance(&c->lx);
}

/* A string, or a "..." token (a string in MySQL, an identifier in
 * PostgreSQL, where masking it hides nothing the incident needs). */
static bool is_literal(const struct bw_sqltok *t)
{
	return t->kind == BW_SQL_STRING ||
	       (t->kind == BW_SQL_QIDENT && t->quote == '"');
}

/* Is p[0..n), text in the input, a secret name? */
static bool secret_word(const struct in *in, const char *p, size_t n)
{
	return secret_name(in, (size_t)((const unsigned char *)p - in->p), n);
}

/* Step into calls wrapped around a secret: md5('x'), decode('6b', 'hex'). */
static void into_calls(struct sqlcur *c)
{
	while (tok(c, 0)->kind == BW_SQL_NAME &&
	       bw_sqllex_is_punct(tok(c, 1), '(')) {
		take(c);
		take(c);
	}
}

/*
 * Rules. Each gets c at the token after the trigger word and arg from its
 * table entry; it returns true with the token that may be the secret
 * current, false when the shape is not there.
 */

/* PASSWORD 'x', PASSWORD = 'x', PASSWORD('x') and MySQL's SET PASSWORD
 * FOR user = 'x'; also in calls wrapped around the password. */
static bool find_password(struct sqlcur *c, const struct in *in, unsigned arg)
{
	(void)in;
	(void)arg;
	if (bw_sqllex_is_kw(tok(c, 0), "for")) {
		while (!bw_sqllex_is_op(tok(c, 0), "=")) {
			if (tok(c, 0)->kind == BW_SQL_END ||
			    bw_sqllex_is_punct(tok(c, 0), ';'))
				return false;
			take(c);
		}
	}
	if (bw_sqllex_is_op(tok(c, 0), "=") ||
	    bw_sqllex_is_punct(tok(c, 0), '('))
		take(c);
	into_calls(c);
	return true;
}

/* MySQL: IDENTIFIED [WITH plugin] BY [PASSWORD] 'x', IDENTIFIED WITH
 * plugin AS 'x'. */
static bool find_identified(struct sqlcur *c, const struct in *in, unsigned arg)
{
	(void)in;
	(void)arg;
	if (bw_sqllex_is_kw(tok(c, 0), "with") &&
	    (tok(c, 1)->kind == BW_SQL_NAME || is_literal(tok(c, 1)))) {
		take(c);
		take(c);
		if (bw_sqllex_is_kw(tok(c, 0), "as")) {
			take(c);
			return true;
		}
	}
	if (!bw_sqllex_is_kw(tok(c, 0), "by"))
		return false;
	take(c);
	if (bw_sqllex_is_kw(tok(c, 0), "password"))
		take(c);
	return true;
}

/* f(a0, a1, ...): argument number arg, or the first string in calls
 * wrapped around it. */
static bool find_arg(struct sqlcur *c, const struct in *in, unsigned arg)
{
	const struct bw_sqltok *t;
	size_t depth = 0;

	(void)in;
	if (!bw_sqllex_is_punct(tok(c, 0), '('))
		return false;
	take(c);
	while (arg > 0) {
		t = tok(c, 0);
		if (t->kind == BW_SQL_END || bw_sqllex_is_punct(t, ';'))
			return false;
		if (bw_sqllex_is_punct(t, '(') || bw_sqllex_is_punct(t, '[')) {
			depth++;
		} else if (bw_sqllex_is_punct(t, ')') ||
		           bw_sqllex_is_punct(t, ']')) {
			if (depth == 0)
				return false;
			depth--;
		} else if (depth == 0 && bw_sqllex_is_punct(t, ',')) {
			arg--;
		}
		take(c);
	}
	into_calls(c);
	return true;
}

/* set_config('app.secret', 'x', ...): the value of a custom setting (a
 * dotted name) whose last part is a secret name. */
static bool find_set_config(struct sqlcur *c, const struct in *in, unsigned arg)
{
	const struct bw_sqltok *t = tok(c, 1);
	const char *dot;

	if (!bw_sqllex_is_punct(tok(c, 0), '(') || t->kind != BW_SQL_STRING)
		return false;
	dot = memrchr(t->p, '.', t->len);
	if (dot == NULL ||
	    !secret_word(in, dot + 1, (size_t)(t->p + t->len - dot - 1)))
		return false;
	return find_arg(c, in, arg);
}

/* SET [SESSION | LOCAL] app.secret {= | TO} 'x': the same in SET (also
 * after ALTER ROLE / DATABASE / SYSTEM). */
static bool find_set(struct sqlcur *c, const struct in *in, unsigned arg)
{
	const struct bw_sqltok *t;
	const char *last;
	bool dotted = false;

	(void)arg;
	if (bw_sqllex_is_kw_in(tok(c, 0), "local session") &&
	    tok(c, 1)->kind == BW_SQL_NAME)
		take(c);
	if (tok(c, 0)->kind != BW_SQL_NAME)
		return false;
	last = tok(c, 0)->p;
	take(c);
	while (bw_sqllex_is_punct(tok(c, 0), '.') &&
	       tok(c, 1)->kind == BW_SQL_NAME) {
		dotted = true;
		take(c);
		last = tok(c, 0)->p;
		take(c);
	}
	if (!dotted || !secret_word(in, last, (size_t)(c->end - last)))
		return false;
	t = tok(c, 0);
	if (!bw_sqllex_is_op(t, "=") && !bw_sqllex_is_kw(t, "to"))
		return false;
	take(c);
	return true;
}

static const struct sql_rule {
	const char *word;
	bool suffix; /* also a name ending in "_" word: MASTER_PASSWORD */
	bool (*find)(struct sqlcur *c, const struct in *in, unsigned arg);
	unsigned arg;
} sql_rules[] = {
    {.word = "password", .suffix = true, .find = find_password},
    {.word = "identified", .find = find_identified},
    {.word = "set", .find = find_set},
    {.word = "set_config", .find = find_set_config, .arg = 1},
    /* pgcrypto: the key, or crypt()'s password. */
    {.word = "pgp_sym_encrypt", .find = find_arg, .arg = 1},
    {.word = "pgp_sym_encrypt_bytea", .find = find_arg, .arg = 1},
    {.word = "pgp_sym_decrypt", .find = find_arg, .arg = 1},
    {.word = "pgp_sym_decrypt_bytea", .find = find_arg, .arg = 1},
    {.word = "pgp_pub_decrypt", .find = find_arg, .arg = 2},
    {.word = "pgp_pub_decrypt_bytea", .find = find_arg, .arg = 2},
    {.word = "encrypt", .find = find_arg, .arg = 1},
    {.word = "decrypt", .find = find_arg, .arg = 1},
    {.word = "encrypt_iv", .find = find_arg, .arg = 1},
    {.word = "decrypt_iv", .find = find_arg, .arg = 1},
    {.word = "hmac", .find = find_arg, .arg = 1},
    {.word = "crypt", .find = find_arg, .arg = 0},
    /* MySQL: the key. */
    {.word = "aes_encrypt", .find = find_arg, .arg = 1},
    {.word = "aes_decrypt", .find = find_arg, .arg = 1},
};

static const struct sql_rule *sql_rule(const struct in *in, size_t i, size_t n)
{
	size_t k;

	for (k = 0; k < LEN(sql_rules); k++) {
		if (word_is(in, i, n, sql_rules[k].word) ||
		    (sql_rules[k].suffix &&
		     ends_in_word(in, i, n, sql_rules[k].word)))
			return &sql_rules[k];
	}
	return NULL;
}

/* The length of t's closing quote or tag; 0 when it is cut off. */
static size_t close_len(const struct bw_sqltok *t)
{
	size_t k = 2;

	if (t->open)
		return 0;
	if (t->quote != '$')
		return 1;
	/* The tag that opened it, "$tag$", ends just before the content. */
	while (*(t->p - k) != '$')
		k++;
	return k;
}

/* Does in[from..to) end in an odd number of backslashes? */
static bool odd_backslashes(const struct in *in, size_t from, size_t to)
{
	size_t k = to;

	while (k > from && in->p[k - 1] == '\\')
		k--;
	return (to - k) % 2 == 1;
}

static void mask_from(struct out *o, const struct in *in, size_t i);

static size_t match_sql(struct out *o, const struct in *in, size_t i, size_t n)
{
	const struct sql_rule *r;
	const struct bw_sqltok *t;
	struct sqlcur c;
	struct bw_sqllex lx;
	struct in part;
	size_t from, to, end, alt;

	/* A quote right after the name ends a quoted name (JSON), it does
	 * not open a literal. */
	if (i + n < in->len && (in->p[i + n] == '"' || in->p[i + n] == '\''))
		return 0;
	r = sql_rule(in, i, n);
	if (r == NULL)
		return 0;
	bw_sqllex_init(&c.lx, (const char *)in->p + i,
	               in->len - i < SQL_WINDOW ? in->len - i : SQL_WINDOW, 0);
	t = tok(&c, 0);
	if (t->kind != BW_SQL_NAME || t->len != n)
		return 0; /* "crypt$x" */
	take(&c);
	if (!r->find(&c, in, r->arg) || !is_literal(tok(&c, 0)))
		return 0;
	bw_sqllex_init(&lx, c.end,
	               (size_t)((const char *)in->p + in->len - c.end), 0);
	t = bw_sqllex_peek(&lx, 0);
	if (!is_literal(t) || t->len == 0)
		return 0;
	from = (size_t)((const unsigned char *)t->p - in->p);
	to = from + t->len;
	end = to + close_len(t);
	/* A backslash just before the closing quote ends a standard string
	 * but escapes the quote in MySQL (or with standard_conforming_strings
	 * off): mask to the later of the two ends. */
	if (t->quote != '$' && !t->open && odd_backslashes(in, from, to)) {
		alt = skip_quoted(in, from - 1);
		if (alt > end) {
			end = alt;
			to = in->p[alt - 1] == in->p[from - 1] ? alt - 1 : alt;
		}
	}
	copy_ascii(o, in, i, i + n);
	part = (struct in){.p = in->p, .len = from};
	mask_from(o, &part, i + n);
	put_ascii(o, MASK, strlen(MASK));
	part.len = end;
	mask_from(o, &part, to);
	return end - i;
}

/* name=value, and the JSON member "name": "value" (i just past a quote). */
static size_t match_param(struct out *o, const struct in *in, size_t i,
                          size_t n)
{
	size_t j, end;

	if (!secret_name(in, i, n))
		return 0;
	j = i + n;
	if (j < in->len && in->p[j] == '=') {
		end = j + 1;
		while (end < in->len && !ends_value(in->p[end]))
			end++;
		if (end == j + 1)
			return 0; /* empty: nothing to hide */
		copy_ascii(o, in, i, j + 1);
		put_ascii(o, MASK, strlen(MASK));
		return end - i;
	}
	if (i == 0 || in->p[i - 1] != '"' || j >= in->len || in->p[j] != '"')
		return 0;
	j = skip_spaces(in, j + 1);
	if (j >= in->len || in->p[j] != ':')
		return 0;
	j = skip_spaces(in, j + 1);
	if (j >= in->len)
		return 0;
	if (in->p[j] == '"') {
		if (j + 1 < in->len && in->p[j + 1] == '"')
			return 0; /* "" */
		copy_ascii(o, in, i, j);
		return mask_literal(o, in, j) - i;
	}
	/* A bare value: number, true, null... */
	end = j;
	while (end < in->len && !ends_value(in->p[end]) && in->p[end] != ']')
		end++;
	if (end == j)
		return 0;
	copy_ascii(o, in, i, j);
	put_ascii(o, MASK, strlen(MASK));
	return end - i;
}

/* Matchers that work on a name: tried in order at the start of one. */
static size_t (*const name_matchers[])(struct out *, const struct in *, size_t,
                                       size_t) = {
    match_authorization,
    match_scheme,
    match_sql,
    match_param,
};

static size_t match_name(struct out *o, const struct in *in, size_t i)
{
	size_t n, k, used;

	if (i > 0 && is_ident(in->p[i - 1]))
		return 0;
	n = span(in, i, is_ident, MAX_NAME + 1);
	if (n == 0 || n > MAX_NAME)
		return 0;
	for (k = 0; k < LEN(name_matchers); k++) {
		used = name_matchers[k](o, in, i, n);
		if (used > 0)
			return used;
	}
	return 0;
}

/* The domain of an e-mail address at in[i..): its length, or 0. Trailing
 * dots (the end of a sentence) are not part of it. */
static size_t email_domain(const struct in *in, size_t i)
{
	size_t n, k, last;

	n = span(in, i, is_domain, 255);
	while (n > 0 && in->p[i + n - 1] == '.')
		n--;
	if (n == 0 || !is_alnum(in->p[i]))
		return 0;
	last = SIZE_MAX;
	for (k = 0; k < n; k++) {
		if (in->p[i + k] == '.') {
			if (k + 1 < n && in->p[i + k + 1] == '.')
				return 0; /* an empty label */
			last = k;
		}
	}
	if (last == SIZE_MAX || n - last - 1 < 2)
		return 0;
	for (k = last + 1; k < n; k++) {
		if (!is_alpha(in->p[i + k]))
			return 0;
	}
	return n;
}

static size_t match_email(struct out *o, const struct in *in, size_t i)
{
	size_t n, at, d;

	if (i > 0 && is_local(in->p[i - 1]))
		return 0;
	n = span(in, i, is_local, 65);
	if (n == 0 || n > 64)
		return 0;
	at = i + n;
	if (at < in->len && in->p[at] == '@')
		d = 1;
	else if (at + 2 < in->len && in->p[at] == '%' && in->p[at + 1] == '4' &&
	         in->p[at + 2] == '0')
		d = 3;
	else
		return 0;
	d += at;
	n = email_domain(in, d);
	if (n == 0)
		return 0;
	copy_ascii(o, in, i, i + 1);
	put_ascii(o, "***", 3);
	copy_ascii(o, in, at, d + n);
	return d + n - i;
}

static bool luhn(const unsigned char *d, size_t n)
{
	unsigned sum = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		unsigned v = d[n - 1 - k] - '0';

		if (k % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static size_t match_card(struct out *o, const struct in *in, size_t i)
{
	size_t n, k;

	if (i > 0 && is_digit(in->p[i - 1]))
		return 0;
	n = span(in, i, is_digit, 20);
	if (n < 13 || n > 19)
		return 0;
	if (in->p[i] < '2' || in->p[i] > '6' || !luhn(in->p + i, n))
		return 0;
	for (k = 0; k + 4 < n; k++)
		put_ascii(o, "*", 1);
	copy_ascii(o, in, i + n - 4, i + n);
	return n;
}

static size_t (*const matchers[])(struct out *, const struct in *, size_t) = {
    match_name,
    match_email,
    match_card,
};

/* Write in[i..in->len) masked to o. */
static void mask_from(struct out *o, const struct in *in, size_t i)
{
	size_t k, used;

	while (i < in->len && !o->full) {
		used = 0;
		for (k = 0; k < LEN(matchers) && used == 0; k++)
			used = matchers[k](o, in, i);
		if (used == 0)
			used = copy_char(o, in, i);
		i += used;
	}
}

size_t bw_mask_excerpt(const char *in_p, size_t len, char *out, size_t size)
{
	struct out o = {.p = out, .size = size};
	struct in in = {.p = (const unsigned char *)in_p, .len = len};

	if (size == 0)
		return 0;
	if (in_p == NULL)
		in.len = 0;
	mask_from(&o, &in, 0);
	if (o.full) {
		/* Cut back to a unit boundary that leaves room for "...". */
		o.len = o.mark;
		o.full = false;
		put_ascii(&o, "...", 3);
	}
	out[o.len] = '\0';
	return o.len;
}
