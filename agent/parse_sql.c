/*
 * parse_sql.c - what a SQL statement does and to which tables, for the
 * event's action and resource. A tokenizer that knows PostgreSQL's
 * lexical rules (strings, E'' strings, dollar quotes, quoted identifiers,
 * nested comments) and a small state machine over the tokens: no grammar,
 * so odd SQL gives fewer tables, never a crash or a read past the end.
 *
 * The tables are the names after FROM, JOIN, INTO, UPDATE, TABLE,
 * TRUNCATE and COPY (and the rest of a FROM list), not function calls
 * (FROM generate_series(...)), not FROM inside a function's arguments
 * (extract(year FROM ts)), not the names of WITH queries. Unquoted names
 * are lowercased, quoted ones kept as written (without the quotes), schema
 * qualification kept: "public.users".
 */
#include <string.h>

#include "../common/buf.h"
#include "parse_util.h"

#define SQL_MAX_DEPTH    64
#define SQL_MAX_TABLES   64
#define SQL_MAX_CTES     16
#define SQL_MAX_RESOURCE 4096
#define SQL_MAX_VERB     32

enum tk {
	TK_EOF,
	TK_WORD,
	TK_QIDENT,
	TK_DOT,
	TK_COMMA,
	TK_LPAREN,
	TK_RPAREN,
	TK_SEMI,
	TK_OTHER
};

struct tok {
	enum tk t;
	const char *p;
	size_t n;
};

struct lexer {
	const char *p, *end;
};

static bool word_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c >= 0x80;
}

static bool word_char(unsigned char c)
{
	return word_start(c) || (c >= '0' && c <= '9') || c == '$';
}

/* Skip a quoted run opened at p[-1] by q; backslash escapes when bs.
 * Doubled quotes are the quote itself. */
static const char *skip_quoted(const char *p, const char *end, char q, bool bs)
{
	while (p < end) {
		if (bs && *p == '\\' && p + 1 < end) {
			p += 2;
			continue;
		}
		if (*p == q) {
			if (p + 1 < end && p[1] == q) {
				p += 2;
				continue;
			}
			return p + 1;
		}
		p++;
	}
	return end;
}

static void lex_next(struct lexer *lx, struct tok *tk)
{
	const char *p = lx->p, *end = lx->end, *q;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' ||
		                   *p == '\r' || *p == '\f' || *p == '\v'))
			p++;
		if (end - p >= 2 && p[0] == '-' && p[1] == '-') {
			q = memchr(p, '\n', (size_t)(end - p));
			p = q != NULL ? q + 1 : end;
			continue;
		}
		if (end - p >= 2 && p[0] == '/' && p[1] == '*') {
			int depth = 1;

			p += 2;
			while (p < end && depth > 0) {
				if (end - p >= 2 && p[0] == '/' &&
				    p[1] == '*') {
					depth++;
					p += 2;
				} else if (end - p >= 2 && p[0] == '*' &&
				           p[1] == '/') {
					depth--;
					p += 2;
				} else {
					p++;
				}
			}
			continue;
		}
		break;
	}
	tk->p = p;
	tk->n = 0;
	if (p >= end) {
		tk->t = TK_EOF;
		lx->p = end;
		return;
	}
	switch (*p) {
	case '.':
		tk->t = TK_DOT;
		p++;
		break;
	case ',':
		tk->t = TK_COMMA;
		p++;
		break;
	case '(':
		tk->t = TK_LPAREN;
		p++;
		break;
	case ')':
		tk->t = TK_RPAREN;
		p++;
		break;
	case ';':
		tk->t = TK_SEMI;
		p++;
		break;
	case '\'':
		tk->t = TK_OTHER;
		p = skip_quoted(p + 1, end, '\'', false);
		break;
	case '"':
		tk->t = TK_QIDENT;
		p = skip_quoted(p + 1, end, '"', false);
		tk->p++;
		tk->n = (size_t)(p - tk->p) - (p[-1] == '"' && p - 1 >= tk->p);
		lx->p = p;
		return;
	case '$':
		tk->t = TK_OTHER;
		q = p + 1;
		while (q < end && word_char((unsigned char)*q) && *q != '$')
			q++;
		if (q < end && *q == '$' &&
		    (q == p + 1 || !(p[1] >= '0' && p[1] <= '9'))) {
			/* $tag$ ... $tag$ */
			size_t tl = (size_t)(q - p) + 1;
			const char *c = parse_util_find(
			    q + 1, (size_t)(end - q - 1), p, tl);

			p = c != NULL ? c + tl : end;
		} else {
			p = q; /* $1 */
		}
		break;
	default:
		if (word_start((unsigned char)*p)) {
			q = p;
			while (q < end && word_char((unsigned char)*q))
				q++;
			/* E'...' U&'...' B'...' X'...' are strings */
			if (q < end && *q == '\'' && q - p == 1) {
				tk->t = TK_OTHER;
				p = skip_quoted(q + 1, end, '\'',
				                *p == 'E' || *p == 'e');
				break;
			}
			if (q + 1 < end && q - p == 1 &&
			    (*p == 'U' || *p == 'u') && q[0] == '&' &&
			    (q[1] == '\'' || q[1] == '"')) {
				tk->t = TK_OTHER; /* U&'..' and U&".." */
				p = skip_quoted(q + 2, end, q[1], false);
				break;
			}
			tk->t = TK_WORD;
			tk->n = (size_t)(q - p);
			lx->p = q;
			return;
		}
		tk->t = TK_OTHER;
		p++;
		break;
	}
	if (tk->n == 0)
		tk->n = (size_t)(p - tk->p);
	lx->p = p;
}

static bool is_kw(const struct tok *tk, const char *kw)
{
	size_t n = strlen(kw);

	return tk->t == TK_WORD && tk->n == n && strncasecmp(tk->p, kw, n) == 0;
}

static bool kw_in(const struct tok *tk, const char *const *list)
{
	for (; *list != NULL; list++)
		if (is_kw(tk, *list))
			return true;
	return false;
}

/* Words after which '(' opens a subquery or a list, not a call. */
static const char *const not_func[] = {
    "FROM",      "JOIN",   "IN",           "EXISTS",    "AS",        "ON",
    "WHERE",     "AND",    "OR",           "NOT",       "SELECT",    "VALUES",
    "ANY",       "ALL",    "SOME",         "USING",     "LATERAL",   "UNION",
    "INTERSECT", "EXCEPT", "INTO",         "WITH",      "RETURNING", "SET",
    "THEN",      "ELSE",   "WHEN",         "CASE",      "BY",        "HAVING",
    "LIMIT",     "OFFSET", "MATERIALIZED", "RECURSIVE", "COPY",      "EXPLAIN",
    "ANALYZE",   "IS",     "TABLE",        "RETURN",    NULL};

/* Words that end a FROM list. */
static const char *const clause_end[] = {
    "WHERE",     "GROUP",   "ORDER",  "HAVING", "LIMIT",     "OFFSET", "UNION",
    "INTERSECT", "EXCEPT",  "WINDOW", "FOR",    "RETURNING", "ON",     "USING",
    "SET",       "VALUES",  "JOIN",   "INNER",  "LEFT",      "RIGHT",  "FULL",
    "CROSS",     "NATURAL", "FETCH",  "SELECT", "TO",        NULL};

/* Words that follow UPDATE but are no table (FOR UPDATE OF, DO UPDATE SET). */
static const char *const not_table[] = {
    "SET", "OF",     "NOWAIT", "SKIP",   "STDIN",   "STDOUT",  "PROGRAM", "IF",
    "NOT", "EXISTS", "SELECT", "VALUES", "DEFAULT", "LATERAL", NULL};

static const char *const main_verbs[] = {"SELECT", "INSERT", "UPDATE", "DELETE",
                                         "MERGE",  "VALUES", "TABLE",  NULL};

struct span {
	size_t off, len;
};

struct sqlctx {
	struct bw_buf *out;
	struct span tables[SQL_MAX_TABLES];
	size_t ntables;
	struct tok ctes[SQL_MAX_CTES];
	size_t nctes;
	bool full;
};

static bool is_cte(const struct sqlctx *c, const struct tok *name, size_t parts)
{
	size_t i;

	if (parts != 1)
		return false;
	for (i = 0; i < c->nctes; i++)
		if (c->ctes[i].t == name->t && c->ctes[i].n == name->n &&
		    (name->t == TK_QIDENT
		         ? memcmp(c->ctes[i].p, name->p, name->n) == 0
		         : strncasecmp(c->ctes[i].p, name->p, name->n) == 0))
			return true;
	return false;
}

static int add_part(struct bw_buf *b, const struct tok *tk)
{
	size_t i;

	if (tk->t == TK_QIDENT)
		return bw_buf_add(b, tk->p, tk->n);
	for (i = 0; i < tk->n; i++) {
		char ch = tk->p[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (bw_buf_addc(b, ch) != 0)
			return -1;
	}
	return 0;
}

/*
 * Read a possibly qualified name at *tk (already lexed) and add it as a
 * table unless it is a call (when calls_possible) or a WITH name, or was
 * seen. Leaves *tk at the token after the name.
 */
static void read_table(struct sqlctx *c, struct lexer *lx, struct tok *tk,
                       bool calls_possible)
{
	struct bw_buf *b = c->out;
	size_t mark = b->len, start, parts = 0, i;
	struct tok first = *tk;
	bool ok = !c->full;

	if (ok && c->ntables > 0 && bw_buf_addc(b, ',') != 0)
		ok = false;
	start = b->len;
	for (;;) {
		if (ok && add_part(b, tk) != 0)
			ok = false;
		parts++;
		lex_next(lx, tk);
		if (tk->t != TK_DOT)
			break;
		lex_next(lx, tk);
		if (tk->t != TK_WORD && tk->t != TK_QIDENT)
			break;
		if (ok && bw_buf_addc(b, '.') != 0)
			ok = false;
	}
	/* keep room for the verb, written after the tables */
	if (!ok || c->ntables >= SQL_MAX_TABLES ||
	    b->len + SQL_MAX_VERB > b->max) {
		c->full = true;
		goto undo;
	}
	if ((calls_possible && tk->t == TK_LPAREN) ||
	    is_cte(c, &first, parts) || b->len == start)
		goto undo;
	for (i = 0; i < c->ntables; i++)
		if (c->tables[i].len == b->len - start &&
		    memcmp(b->data + c->tables[i].off, b->data + start,
		           c->tables[i].len) == 0)
			goto undo; /* seen */
	c->tables[c->ntables++] = (struct span){start, b->len - start};
	return;
undo:
	b->len = mark;
	if (b->data != NULL)
		b->data[mark] = '\0';
}

void parse_sql_analyze(const char *sql, size_t len, struct bw_buf *out,
                       struct bw_str *action, struct bw_str *resource)
{
	struct lexer lx = {sql, sql + len};
	struct sqlctx c;
	struct tok tk, prev = {TK_EOF, NULL, 0};
	bool func[SQL_MAX_DEPTH];
	size_t depth = 0, verb_off = 0, verb_len = 0, i;
	bool have_verb = false, in_with = false, from_list = false;
	size_t from_depth = 0;

	memset(&c, 0, sizeof(c));
	c.out = out;
	bw_buf_reset(out);
	*action = BW_STR_NULL;
	*resource = BW_STR_NULL;

	lex_next(&lx, &tk);
	while (tk.t != TK_EOF) {
		struct tok cur = tk;

		if (cur.t == TK_LPAREN) {
			bool f = prev.t == TK_WORD && !kw_in(&prev, not_func);

			if (depth < SQL_MAX_DEPTH)
				func[depth] = f;
			depth++;
		} else if (cur.t == TK_RPAREN) {
			if (depth > 0)
				depth--;
		} else if (cur.t == TK_SEMI) {
			break; /* one statement */
		} else if (cur.t == TK_WORD && !have_verb &&
		           (depth == 0 || !in_with)) {
			/* The verb: the first word, or after WITH the main
			 * statement's. */
			if (!in_with && is_kw(&cur, "WITH")) {
				in_with = true;
			} else if (!in_with || kw_in(&cur, main_verbs)) {
				have_verb = true;
				in_with = false;
				verb_off = (size_t)(cur.p - sql);
				verb_len =
				    cur.n < SQL_MAX_VERB ? cur.n : SQL_MAX_VERB;
			} else if (!is_kw(&cur, "RECURSIVE") &&
			           !is_kw(&cur, "AS") && !is_kw(&cur, "NOT") &&
			           !is_kw(&cur, "MATERIALIZED") &&
			           c.nctes < SQL_MAX_CTES) {
				c.ctes[c.nctes++] =
				    cur; /* a WITH query's name */
			}
		} else if (cur.t == TK_QIDENT && depth == 0 && in_with &&
		           c.nctes < SQL_MAX_CTES) {
			c.ctes[c.nctes++] = cur;
		}

		if (cur.t == TK_WORD) {
			bool in_func = depth > 0 && depth <= SQL_MAX_DEPTH &&
			               func[depth - 1];
			int kind =
			    0; /* 1 FROM/JOIN, 2 INTO/TABLE/COPY, 3 UPDATE */

			if (from_list && depth == from_depth &&
			    kw_in(&cur, clause_end))
				from_list = false;
			if (is_kw(&cur, "FROM") && !in_func &&
			    !is_kw(&prev, "DISTINCT"))
				kind = 1;
			else if (is_kw(&cur, "JOIN"))
				kind = 1;
			else if (is_kw(&cur, "INTO") || is_kw(&cur, "TABLE") ||
			         is_kw(&cur, "COPY") || is_kw(&cur, "TRUNCATE"))
				kind = 2;
			else if (is_kw(&cur, "UPDATE") &&
			         !is_kw(&prev, "FOR") && !is_kw(&prev, "DO"))
				kind = 3;
			if (kind != 0) {
				prev = cur;
				lex_next(&lx, &tk);
				/* TABLE after TRUNCATE/LOCK, ONLY, IF [NOT]
				 * EXISTS */
				while (is_kw(&tk, "ONLY") ||
				       is_kw(&tk, "TABLE") ||
				       is_kw(&tk, "IF") || is_kw(&tk, "NOT") ||
				       is_kw(&tk, "EXISTS")) {
					prev = tk;
					lex_next(&lx, &tk);
				}
				if ((tk.t == TK_WORD &&
				     !kw_in(&tk, not_table)) ||
				    tk.t == TK_QIDENT) {
					read_table(&c, &lx, &tk, kind == 1);
					if (is_kw(&cur, "FROM") ||
					    is_kw(&cur, "TRUNCATE")) {
						from_list = true;
						from_depth = depth;
					}
					prev.t = TK_OTHER;
				}
				continue;
			}
		} else if (cur.t == TK_COMMA && from_list &&
		           depth == from_depth) {
			lex_next(&lx, &tk);
			if (is_kw(&tk, "LATERAL") || is_kw(&tk, "ONLY"))
				lex_next(&lx, &tk);
			if ((tk.t == TK_WORD && !kw_in(&tk, not_table)) ||
			    tk.t == TK_QIDENT) {
				read_table(&c, &lx, &tk, true);
				prev.t = TK_OTHER;
			} else {
				prev = cur;
			}
			continue;
		}
		prev = cur;
		lex_next(&lx, &tk);
	}

	/* The verb after the tables: the buffer may move while it grows. */
	if (have_verb) {
		size_t voff = out->len;

		for (i = 0; i < verb_len; i++) {
			char ch = sql[verb_off + i];

			if (ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 'a' + 'A');
			if (bw_buf_addc(out, ch) != 0)
				break;
		}
		if (out->len > voff)
			*action = pstr(out->data + voff, out->len - voff);
	}
	if (c.ntables > 0) {
		size_t end =
		    c.tables[c.ntables - 1].off + c.tables[c.ntables - 1].len;

		*resource =
		    pstr(out->data + c.tables[0].off, end - c.tables[0].off);
	}
}
