/*
 * parse_sql.c - what a SQL statement does and to which tables, for the
 * event's action and resource. The tokens come from common/sqllex.c, which
 * knows PostgreSQL's lexical rules (strings, E'' strings, dollar quotes,
 * quoted identifiers, nested comments); a small state machine reads them:
 * no grammar, so odd SQL gives fewer tables, never a crash or a read past
 * the end.
 *
 * The tables are the names after FROM, JOIN, INTO, UPDATE, TABLE,
 * TRUNCATE and COPY (and the rest of a FROM list), not function calls
 * (FROM generate_series(...)), not FROM inside a function's arguments
 * (extract(year FROM ts)), not the names of WITH queries. Unquoted names
 * are lowercased, quoted ones kept as written (without the quotes), schema
 * qualification kept: "public.users".
 */
#include <string.h>
#include <strings.h>

#include "../common/buf.h"
#include "../common/sqllex.h"
#include "parse_util.h"

#define SQL_MAX_DEPTH    64
#define SQL_MAX_TABLES   64
#define SQL_MAX_CTES     16
#define SQL_MAX_RESOURCE 4096
#define SQL_MAX_VERB     32

/* A quoted identifier. U&"..." is none here: its escapes are not undone. */
static bool is_qident(const struct bw_sqltok *tk)
{
	return tk->kind == BW_SQL_QIDENT && tk->esc != BW_SQLESC_UNICODE;
}

/* A name, quoted or not: a table or a part of one. */
static bool is_name(const struct bw_sqltok *tk)
{
	return tk->kind == BW_SQL_NAME || is_qident(tk);
}

/* Words after which '(' opens a subquery or a list, not a call. */
static const char not_func[] =
    "ALL ANALYZE AND ANY AS BY CASE COPY ELSE EXCEPT EXISTS EXPLAIN FROM "
    "HAVING IN INTERSECT INTO IS JOIN LATERAL LIMIT MATERIALIZED NOT OFFSET ON "
    "OR RECURSIVE RETURN RETURNING SELECT SET SOME TABLE THEN UNION USING "
    "VALUES WHEN WHERE WITH";

/* Words that end a FROM list. */
static const char clause_end[] =
    "CROSS EXCEPT FETCH FOR FULL GROUP HAVING INNER INTERSECT JOIN LEFT LIMIT "
    "NATURAL OFFSET ON ORDER RETURNING RIGHT SELECT SET TO UNION USING VALUES "
    "WHERE WINDOW";

/* Words that follow UPDATE but are no table (FOR UPDATE OF, DO UPDATE SET). */
static const char not_table[] = "DEFAULT EXISTS IF LATERAL NOT NOWAIT OF "
                                "PROGRAM SELECT SET SKIP STDIN STDOUT VALUES";

/* The verbs that may follow a WITH list. */
static const char main_verbs[] =
    "DELETE INSERT MERGE SELECT TABLE UPDATE VALUES";

/* What may stand between FROM, INTO, UPDATE... and the table: TABLE after
 * TRUNCATE or LOCK, ONLY, IF [NOT] EXISTS. */
static const char before_table[] = "EXISTS IF NOT ONLY TABLE";

/* Words in a WITH list that name no query. */
static const char not_cte[] = "AS MATERIALIZED NOT RECURSIVE";

struct span {
	size_t off, len;
};

struct sqlctx {
	struct bw_buf *out;
	struct span tables[SQL_MAX_TABLES];
	size_t ntables;
	struct bw_sqltok ctes[SQL_MAX_CTES];
	size_t nctes;
	bool full;
};

static bool is_cte(const struct sqlctx *c, const struct bw_sqltok *name,
                   size_t parts)
{
	size_t i;

	if (parts != 1)
		return false;
	for (i = 0; i < c->nctes; i++)
		if (c->ctes[i].kind == name->kind &&
		    c->ctes[i].len == name->len &&
		    (name->kind == BW_SQL_QIDENT
		         ? memcmp(c->ctes[i].p, name->p, name->len) == 0
		         : strncasecmp(c->ctes[i].p, name->p, name->len) == 0))
			return true;
	return false;
}

static int add_part(struct bw_buf *b, const struct bw_sqltok *tk)
{
	size_t i;

	if (tk->kind == BW_SQL_QIDENT)
		return bw_buf_add(b, tk->p, tk->len);
	for (i = 0; i < tk->len; i++) {
		char ch = tk->p[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (bw_buf_addc(b, ch) != 0)
			return -1;
	}
	return 0;
}

/*
 * Read a possibly qualified name at *tk (already taken from lx) and add it
 * as a table unless it is a call (when calls_possible) or a WITH name, or
 * was seen. Leaves *tk at the token after the name.
 */
static void read_table(struct sqlctx *c, struct bw_sqllex *lx,
                       struct bw_sqltok *tk, bool calls_possible)
{
	struct bw_buf *b = c->out;
	size_t mark = b->len, start, parts = 0, i;
	struct bw_sqltok first = *tk;
	bool ok = !c->full;

	if (ok && c->ntables > 0 && bw_buf_addc(b, ',') != 0)
		ok = false;
	start = b->len;
	for (;;) {
		if (ok && add_part(b, tk) != 0)
			ok = false;
		parts++;
		bw_sqllex_next(lx, tk);
		if (!bw_sqllex_is_punct(tk, '.'))
			break;
		bw_sqllex_next(lx, tk);
		if (!is_name(tk))
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
	if ((calls_possible && bw_sqllex_is_punct(tk, '(')) ||
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
	static const struct bw_sqltok no_word; /* prev before the first */
	struct bw_sqllex lx;
	struct sqlctx c;
	struct bw_sqltok tk, prev = no_word;
	bool func[SQL_MAX_DEPTH];
	size_t depth = 0, verb_off = 0, verb_len = 0, i;
	bool have_verb = false, in_with = false, from_list = false;
	size_t from_depth = 0;

	memset(&c, 0, sizeof(c));
	c.out = out;
	bw_buf_reset(out);
	*action = BW_STR_NULL;
	*resource = BW_STR_NULL;

	bw_sqllex_init(&lx, sql, len, 0);
	bw_sqllex_next(&lx, &tk);
	while (tk.kind != BW_SQL_END) {
		struct bw_sqltok cur = tk;
		bool word = cur.kind == BW_SQL_NAME;

		if (bw_sqllex_is_punct(&cur, '(')) {
			bool f = prev.kind == BW_SQL_NAME &&
			         !bw_sqllex_is_kw_in(&prev, not_func);

			if (depth < SQL_MAX_DEPTH)
				func[depth] = f;
			depth++;
		} else if (bw_sqllex_is_punct(&cur, ')')) {
			if (depth > 0)
				depth--;
		} else if (bw_sqllex_is_punct(&cur, ';')) {
			break; /* one statement */
		} else if (word && !have_verb && (depth == 0 || !in_with)) {
			/* The verb: the first word, or after WITH the main
			 * statement's. */
			if (!in_with && bw_sqllex_is_kw(&cur, "WITH")) {
				in_with = true;
			} else if (!in_with ||
			           bw_sqllex_is_kw_in(&cur, main_verbs)) {
				have_verb = true;
				in_with = false;
				verb_off = (size_t)(cur.p - sql);
				verb_len = cur.len < SQL_MAX_VERB
				               ? cur.len
				               : SQL_MAX_VERB;
			} else if (!bw_sqllex_is_kw_in(&cur, not_cte) &&
			           c.nctes < SQL_MAX_CTES) {
				c.ctes[c.nctes++] =
				    cur; /* a WITH query's name */
			}
		} else if (is_qident(&cur) && depth == 0 && in_with &&
		           c.nctes < SQL_MAX_CTES) {
			c.ctes[c.nctes++] = cur;
		}

		if (word) {
			bool in_func = depth > 0 && depth <= SQL_MAX_DEPTH &&
			               func[depth - 1];
			int kind =
			    0; /* 1 FROM/JOIN, 2 INTO/TABLE/COPY, 3 UPDATE */

			if (from_list && depth == from_depth &&
			    bw_sqllex_is_kw_in(&cur, clause_end))
				from_list = false;
			if (bw_sqllex_is_kw(&cur, "FROM") && !in_func &&
			    !bw_sqllex_is_kw(&prev, "DISTINCT"))
				kind = 1;
			else if (bw_sqllex_is_kw(&cur, "JOIN"))
				kind = 1;
			else if (bw_sqllex_is_kw(&cur, "INTO") ||
			         bw_sqllex_is_kw(&cur, "TABLE") ||
			         bw_sqllex_is_kw(&cur, "COPY") ||
			         bw_sqllex_is_kw(&cur, "TRUNCATE"))
				kind = 2;
			else if (bw_sqllex_is_kw(&cur, "UPDATE") &&
			         !bw_sqllex_is_kw_in(&prev, "DO FOR"))
				kind = 3;
			if (kind != 0) {
				prev = cur;
				bw_sqllex_next(&lx, &tk);
				while (bw_sqllex_is_kw_in(&tk, before_table)) {
					prev = tk;
					bw_sqllex_next(&lx, &tk);
				}
				if (is_name(&tk) &&
				    !bw_sqllex_is_kw_in(&tk, not_table)) {
					read_table(&c, &lx, &tk, kind == 1);
					if (bw_sqllex_is_kw_in(
					        &cur, "FROM TRUNCATE")) {
						from_list = true;
						from_depth = depth;
					}
					prev = no_word;
				}
				continue;
			}
		} else if (bw_sqllex_is_punct(&cur, ',') && from_list &&
		           depth == from_depth) {
			bw_sqllex_next(&lx, &tk);
			if (bw_sqllex_is_kw_in(&tk, "LATERAL ONLY"))
				bw_sqllex_next(&lx, &tk);
			if (is_name(&tk) &&
			    !bw_sqllex_is_kw_in(&tk, not_table)) {
				read_table(&c, &lx, &tk, true);
				prev = no_word;
			} else {
				prev = cur;
			}
			continue;
		}
		prev = cur;
		bw_sqllex_next(&lx, &tk);
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
