/*
 * sqllex.c - the tokens of a PostgreSQL statement (see sqllex.h).
 *
 * Positions are offsets into text[0..len); every read is checked against
 * len first, so cut-off input cannot lead past it. Each token is lexed in
 * time linear in its length (dollar quotes end at the first matching tag,
 * found with memmem), so a whole text is lexed in linear time.
 */
#include "sqllex.h"

#include <assert.h>
#include <string.h>

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c >= 0x80;
}

static bool is_name_char(unsigned char c)
{
	return is_name_start(c) || is_digit(c) || c == '$';
}

static unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool is_opchar(unsigned char c)
{
	static const char ops[] = "<>=!~+-*/%^|&@#:";

	return memchr(ops, c, sizeof(ops) - 1) != NULL;
}

/* The letters that may prefix a '...' string: E (with backslash escapes),
 * N, B and X. */
static bool is_string_prefix(unsigned char c)
{
	switch (lower(c)) {
	case 'e':
	case 'n':
	case 'b':
	case 'x':
		return true;
	default:
		return false;
	}
}

/* The offset of the first byte at or after pos that is neither whitespace
 * nor inside a comment. */
static size_t skip_blank(const char *s, size_t pos, size_t len)
{
	const char *nl;
	size_t depth;

	while (pos < len) {
		if (is_space((unsigned char)s[pos])) {
			pos++;
		} else if (len - pos >= 2 && s[pos] == '-' &&
		           s[pos + 1] == '-') {
			nl = memchr(s + pos, '\n', len - pos);
			pos = nl != NULL ? (size_t)(nl - s) : len;
		} else if (len - pos >= 2 && s[pos] == '/' &&
		           s[pos + 1] == '*') {
			depth = 1;
			pos += 2;
			while (pos < len && depth > 0) {
				if (len - pos >= 2 && s[pos] == '*' &&
				    s[pos + 1] == '/') {
					depth--;
					pos += 2;
				} else if (len - pos >= 2 && s[pos] == '/' &&
				           s[pos + 1] == '*') {
					depth++;
					pos += 2;
				} else {
					pos++;
				}
			}
		} else {
			break;
		}
	}
	return pos;
}

/*
 * The content of a run quoted by q, from pos (just after the opening quote)
 * to the closing quote, into t. A doubled quote is the quote itself; with
 * bs, a backslash takes the byte after it along. Returns the offset after
 * the closing quote, or len when there is none (t->open).
 */
static size_t lex_quoted(const char *s, size_t pos, size_t len, char q, bool bs,
                         struct bw_sqltok *t)
{
	size_t start = pos;
	bool esc = false;

	while (pos < len) {
		if (s[pos] == q) {
			if (len - pos >= 2 && s[pos + 1] == q) {
				esc = true;
				pos += 2;
				continue;
			}
			break;
		}
		if (bs && s[pos] == '\\' && len - pos >= 2) {
			esc = true;
			pos += 2;
			continue;
		}
		pos++;
	}
	t->quote = q;
	t->p = s + start;
	t->len = pos - start;
	t->open = pos >= len;
	if (esc)
		t->esc = bs ? BW_SQLESC_BACKSLASH : BW_SQLESC_QUOTE;
	return pos < len ? pos + 1 : len;
}

/*
 * A dollar quote $tag$...$tag$ (the tag may be empty) at pos, the '$', into
 * t; *next gets the offset after the closing tag (len when there is none).
 * Returns false, changing nothing, when pos does not open a dollar quote.
 */
static bool lex_dollar(const char *s, size_t pos, size_t len,
                       struct bw_sqltok *t, size_t *next)
{
	const char *close;
	size_t q = pos + 1, tlen, body;

	while (q < len && (is_name_start((unsigned char)s[q]) ||
	                   is_digit((unsigned char)s[q])))
		q++;
	if (q >= len || s[q] != '$')
		return false;
	tlen = q - pos + 1; /* "$tag$" */
	body = q + 1;
	close = memmem(s + body, len - body, s + pos, tlen);
	t->kind = BW_SQL_STRING;
	t->quote = '$';
	t->p = s + body;
	t->len = close != NULL ? (size_t)(close - t->p) : len - body;
	t->open = close == NULL;
	*next = close != NULL ? body + t->len + tlen : len;
	return true;
}

/* Digits and dots, then an exponent if one follows: the end of a number
 * starting at pos. */
static size_t lex_number(const char *s, size_t pos, size_t len)
{
	size_t e;

	while (pos < len && (is_digit((unsigned char)s[pos]) || s[pos] == '.'))
		pos++;
	if (pos < len && (s[pos] == 'e' || s[pos] == 'E')) {
		e = pos + 1;
		if (e < len && (s[e] == '+' || s[e] == '-'))
			e++;
		if (e < len && is_digit((unsigned char)s[e])) {
			pos = e;
			while (pos < len && is_digit((unsigned char)s[pos]))
				pos++;
		}
	}
	return pos;
}

/* The operator at pos: a known pair, else one byte. Returns its length. */
static size_t op_len(const char *s, size_t pos, size_t len)
{
	static const char pairs[][2] = {{'<', '>'}, {'!', '='}, {'<', '='},
	                                {'>', '='}, {'=', '='}, {':', ':'},
	                                {'|', '|'}, {'!', '~'}, {'~', '*'}};
	size_t i;

	if (len - pos < 2)
		return 1;
	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (s[pos] == pairs[i][0] && s[pos + 1] == pairs[i][1])
			return 2;
	return 1;
}

/* Lex the token at lx->pos into *t and move lx->pos past it. */
static void lex_one(struct bw_sqllex *lx, struct bw_sqltok *t)
{
	const char *s = lx->text;
	size_t len = lx->len, pos, start, rest;
	unsigned char c;

	memset(t, 0, sizeof(*t));
	pos = skip_blank(s, lx->pos, len);
	if (pos >= len) {
		t->kind = BW_SQL_END;
		lx->pos = len;
		return;
	}
	start = pos;
	rest = len - pos;
	c = (unsigned char)s[pos];
	t->p = s + pos;
	if (c == '\'') {
		t->kind = BW_SQL_STRING;
		pos = lex_quoted(s, pos + 1, len, '\'', false, t);
	} else if (is_string_prefix(c) && rest >= 2 && s[pos + 1] == '\'') {
		t->kind = BW_SQL_STRING;
		pos =
		    lex_quoted(s, pos + 2, len, '\'', c == 'E' || c == 'e', t);
	} else if ((c == 'U' || c == 'u') && rest >= 3 && s[pos + 1] == '&' &&
	           (s[pos + 2] == '\'' || s[pos + 2] == '"')) {
		t->kind = s[pos + 2] == '\'' ? BW_SQL_STRING : BW_SQL_QIDENT;
		pos = lex_quoted(s, pos + 3, len, s[pos + 2], false, t);
		t->esc = BW_SQLESC_UNICODE;
	} else if (c == '"' ||
	           (c == '`' && (lx->flags & BW_SQLLEX_BACKTICKS) != 0)) {
		t->kind = BW_SQL_QIDENT;
		pos = lex_quoted(s, pos + 1, len, (char)c, false, t);
	} else if (c == '$' && rest >= 2 &&
	           is_digit((unsigned char)s[pos + 1])) {
		t->kind = BW_SQL_PARAM;
		pos++;
		while (pos < len && is_digit((unsigned char)s[pos]))
			pos++;
		t->len = pos - start;
	} else if (c == '$' && lex_dollar(s, pos, len, t, &pos)) {
		/* t is the dollar quote */
	} else if (is_digit(c) || (c == '.' && rest >= 2 &&
	                           is_digit((unsigned char)s[pos + 1]))) {
		t->kind = BW_SQL_NUMBER;
		pos = lex_number(s, pos, len);
		t->len = pos - start;
	} else if (is_name_start(c)) {
		t->kind = BW_SQL_NAME;
		while (pos < len && is_name_char((unsigned char)s[pos]))
			pos++;
		t->len = pos - start;
	} else if (c == '?') {
		t->kind = BW_SQL_PARAM;
		t->len = 1;
		pos++;
	} else if (is_opchar(c)) {
		t->kind = BW_SQL_OP;
		t->len = op_len(s, pos, len);
		pos += t->len;
	} else {
		t->kind = BW_SQL_PUNCT;
		t->len = 1;
		pos++;
	}
	lx->pos = pos;
}

void bw_sqllex_init(struct bw_sqllex *lx, const char *text, size_t len,
                    unsigned flags)
{
	assert(text != NULL || len == 0);
	memset(lx, 0, sizeof(*lx));
	lx->text = text;
	lx->len = len;
	lx->flags = flags;
}

/* Lex until the k-th token ahead is known: bw_sqllex_peek()'s slow path. */
const struct bw_sqltok *bw_sqllex_fill(struct bw_sqllex *lx, size_t k)
{
	assert(k < BW_SQLLEX_LOOKAHEAD);
	if (k >= BW_SQLLEX_LOOKAHEAD)
		k = BW_SQLLEX_LOOKAHEAD - 1;
	while (lx->n <= k) {
		lex_one(lx,
		        &lx->ring[(lx->head + lx->n) % BW_SQLLEX_LOOKAHEAD]);
		lx->n++;
	}
	return &lx->ring[(lx->head + k) % BW_SQLLEX_LOOKAHEAD];
}

void bw_sqllex_advance(struct bw_sqllex *lx)
{
	if (bw_sqllex_peek(lx, 0)->kind == BW_SQL_END)
		return;
	lx->head = (lx->head + 1) % BW_SQLLEX_LOOKAHEAD;
	lx->n--;
}

void bw_sqllex_next(struct bw_sqllex *lx, struct bw_sqltok *t)
{
	*t = *bw_sqllex_peek(lx, 0);
	bw_sqllex_advance(lx);
}

/* Compare p[0..n) with the word at w (up to ' ' or NUL), ASCII case
 * ignored: < 0, 0 or > 0 as strcmp() would on the lowercased strings.
 * bw_sqllex_is_kw()'s slow path. */
int bw_sqllex_cmp_word(const char *p, size_t n, const char *w)
{
	size_t i;
	int d;

	for (i = 0; i < n && w[i] != ' ' && w[i] != '\0'; i++) {
		d = lower((unsigned char)p[i]) - lower((unsigned char)w[i]);
		if (d != 0)
			return d;
	}
	if (i < n)
		return 1; /* the word is a prefix of p */
	return w[i] == ' ' || w[i] == '\0' ? 0 : -1;
}

#ifndef NDEBUG
/* Whether words is a list as bw_sqllex_is_kw_in() wants it. */
static bool is_word_list(const char *words)
{
	const char *w = words, *next;

	for (;;) {
		next = strchrnul(w, ' ');
		if (next == w)
			return false; /* empty word */
		if (*next == '\0')
			return true;
		if (bw_sqllex_cmp_word(w, (size_t)(next - w), next + 1) >= 0)
			return false; /* not sorted */
		w = next + 1;
	}
}
#endif

bool bw_sqllex_is_kw_in(const struct bw_sqltok *t, const char *words)
{
	size_t lo = 0, hi, mid;
	int c;

	assert(is_word_list(words));
	if (t->kind != BW_SQL_NAME)
		return false;
	hi = strlen(words);
	/* Binary search over byte offsets; lo is always a word's start. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		while (mid > lo && words[mid - 1] != ' ')
			mid--;
		c = bw_sqllex_cmp_word(t->p, t->len, words + mid);
		if (c == 0)
			return true;
		if (c < 0) {
			hi = mid;
		} else {
			while (words[mid] != ' ' && words[mid] != '\0')
				mid++;
			lo = mid + 1;
		}
	}
	return false;
}

bool bw_sqllex_is_op(const struct bw_sqltok *t, const char *op)
{
	size_t n = strlen(op);

	return t->kind == BW_SQL_OP && t->len == n && memcmp(t->p, op, n) == 0;
}

int bw_sqllex_unescape(const struct bw_sqltok *t, char *dst, size_t cap,
                       size_t *n)
{
	const char *p = t->p;
	size_t i, w = 0;

	if (t->esc == BW_SQLESC_UNICODE || cap < t->len)
		return -1;
	for (i = 0; i < t->len; i++) {
		if (t->esc != BW_SQLESC_NONE && p[i] == t->quote &&
		    i + 1 < t->len && p[i + 1] == t->quote)
			i++;
		else if (t->esc == BW_SQLESC_BACKSLASH && p[i] == '\\' &&
		         i + 1 < t->len)
			i++;
		dst[w++] = p[i];
	}
	*n = w;
	return 0;
}
