/*
 * sqllex.h - the tokens of a PostgreSQL statement, for the agent's SQL
 * reader (agent/parse_sql.c) and the rules' SQL scanner (rules/sqlscan.c).
 *
 * Lexical rules only, no grammar. Skipped: whitespace, "--" comments to the
 * end of the line, and block comments, which nest as in PostgreSQL.
 * Recognised: names and keywords; quoted identifiers ("a""b", U&"..."),
 * strings ('it''s', E'it\'s', N'', B'', X'', U&'...'), dollar quotes
 * ($$...$$, $tag$...$tag$), numbers, parameters ($1, ?), operators and
 * punctuation.
 *
 * The text need not be NUL-terminated: only text[0..len) is read. The lexer
 * allocates nothing, copies nothing (tokens point into the text) and keeps a
 * fixed look-ahead of BW_SQLLEX_LOOKAHEAD tokens. Text cut off inside a
 * string, identifier or comment ends there: a token marked open, or the end.
 */
#ifndef BW_SQLLEX_H
#define BW_SQLLEX_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define BW_SQLLEX_LOOKAHEAD 4

/* bw_sqllex_init() flags. */
#define BW_SQLLEX_BACKTICKS 1u /* `...` is a quoted identifier (MySQL) */

enum bw_sqltok_kind {
	BW_SQL_END,    /* the end of the text; it stays there */
	BW_SQL_NAME,   /* a name or keyword: a letter, '_' or byte >= 0x80,
	                  then those, digits or '$' */
	BW_SQL_QIDENT, /* a quoted identifier; p, len: between the quotes */
	BW_SQL_STRING, /* a string or dollar quote; p, len: between the
	                  quotes, prefix and tags left out */
	BW_SQL_NUMBER, /* 42, 4.2, .5, 1e-3 */
	BW_SQL_PARAM,  /* $1 or ? */
	BW_SQL_OP,     /* one byte of < > = ! ~ + - * / % ^ | & @ # :, or a
	                  pair: <> != <= >= == :: || !~ ~* */
	BW_SQL_PUNCT,  /* any other byte: ( ) , ; . [ ] $ ... */
};

/* What bw_sqllex_unescape() has to undo in a quoted token's content. */
enum bw_sqltok_esc {
	BW_SQLESC_NONE,      /* nothing: the content is the value */
	BW_SQLESC_QUOTE,     /* the quote doubled ('' or "") */
	BW_SQLESC_BACKSLASH, /* an E'' string with \x or '' in it */
	BW_SQLESC_UNICODE,   /* a U&'' or U&"" token: \XXXX escapes and
	                        UESCAPE, which this module does not undo */
};

struct bw_sqltok {
	enum bw_sqltok_kind kind;
	enum bw_sqltok_esc esc;
	char quote;    /* ' " ` or $ for strings and quoted identifiers */
	bool open;     /* a quoted token cut off by the end of the text */
	const char *p; /* into the text; NULL at the end */
	size_t len;
};

/* A lexer over text[0..len). Its fields are private to sqllex.{c,h}. */
struct bw_sqllex {
	const char *text;
	size_t len, pos; /* text[pos..len) is not lexed yet */
	unsigned flags;
	struct bw_sqltok ring[BW_SQLLEX_LOOKAHEAD];
	size_t head, n; /* ring[head] is the current token, n are lexed */
};

/* Start lexing text[0..len) (text may be NULL when len is 0) with flags
 * (BW_SQLLEX_*). The text must outlive the lexer and its tokens. */
void bw_sqllex_init(struct bw_sqllex *lx, const char *text, size_t len,
                    unsigned flags);

/* Not for callers: the slow paths of the inline functions below. */
const struct bw_sqltok *bw_sqllex_fill(struct bw_sqllex *lx, size_t k);
int bw_sqllex_cmp_word(const char *p, size_t n, const char *w);

/* The k-th token ahead (0: the current one); k < BW_SQLLEX_LOOKAHEAD. At the
 * end of the text every token is BW_SQL_END. The pointer is the lexer's,
 * valid until the next bw_sqllex_advance() or bw_sqllex_next(). */
static inline const struct bw_sqltok *bw_sqllex_peek(struct bw_sqllex *lx,
                                                     size_t k)
{
	if (k < lx->n)
		return &lx->ring[(lx->head + k) % BW_SQLLEX_LOOKAHEAD];
	return bw_sqllex_fill(lx, k);
}

/* Step past the current token (not past the end). */
void bw_sqllex_advance(struct bw_sqllex *lx);
/* Copy the current token to *t and step past it. */
void bw_sqllex_next(struct bw_sqllex *lx, struct bw_sqltok *t);

/* Whether t is the name kw (one word), ignoring ASCII case. */
static inline bool bw_sqllex_is_kw(const struct bw_sqltok *t, const char *kw)
{
	/* A cheap test first: t is not kw unless their first bytes differ
	 * at most in 0x20, the ASCII case bit. */
	return t->kind == BW_SQL_NAME && ((t->p[0] ^ kw[0]) & ~0x20) == 0 &&
	       bw_sqllex_cmp_word(t->p, t->len, kw) == 0;
}

/* Whether t is a name among words, ignoring ASCII case. words is a list
 * separated by single spaces and sorted as strcmp() sorts lowercase ASCII
 * ("from join on"; asserted in debug builds): it is searched in halves. */
bool bw_sqllex_is_kw_in(const struct bw_sqltok *t, const char *words);

/* Whether t is the punctuation byte c. */
static inline bool bw_sqllex_is_punct(const struct bw_sqltok *t, char c)
{
	return t->kind == BW_SQL_PUNCT && t->len == 1 && t->p[0] == c;
}

/* Whether t is the operator op ("=", "::"). */
bool bw_sqllex_is_op(const struct bw_sqltok *t, const char *op);

/*
 * The value of a string or quoted identifier t, written to dst (cap bytes,
 * not NUL-terminated), its length to *n: a doubled quote becomes one, and
 * in an E'' string a backslash keeps the byte after it as it is (E'\n'
 * gives "n": the C-like escapes are not decoded). Other tokens are copied
 * as they are. Returns -1 when cap is less than t->len (the value never
 * needs more) or t is a U& token (BW_SQLESC_UNICODE), 0 otherwise.
 */
int bw_sqllex_unescape(const struct bw_sqltok *t, char *dst, size_t cap,
                       size_t *n) BW_WUR;

#endif
