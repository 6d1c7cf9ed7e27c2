/*
 * test_sqllex.c - the tokens of PostgreSQL statements.
 *
 * Every text is lexed from a copy that ends right before an inaccessible
 * page, with no NUL after it: a read past the length faults in every build,
 * not only under AddressSanitizer.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sqllex.h"
#include "check_main.h"

/* A copy of len bytes whose last byte is followed by a PROT_NONE page. */
struct guarded {
	char *map;
	size_t maplen;
	char *text;
};

static const char *guard(struct guarded *g, const char *text, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (len + pg - 1) / pg * pg;

	if (data == 0)
		data = pg;
	g->maplen = data + pg;
	g->map = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(g->map != MAP_FAILED);
	ck_assert_int_eq(mprotect(g->map + data, pg, PROT_NONE), 0);
	g->text = g->map + data - len;
	if (len > 0)
		memcpy(g->text, text, len);
	return g->text;
}

static void unguard(struct guarded *g)
{
	munmap(g->map, g->maplen);
}

/* Whether t lies inside text[0..len) (the end token: p NULL, len 0). Not
 * an assertion: Check writes to a pipe for each, too slow per token. */
static bool inside(const struct bw_sqltok *t, const char *text, size_t len)
{
	if (t->kind == BW_SQL_END)
		return t->p == NULL && t->len == 0;
	return t->p >= text && (size_t)(t->p - text) + t->len <= len;
}

/*
 * Lex text[0..len) with flags and render its tokens as "K:content" joined
 * by '|', K one of N (name), Q (quoted identifier), S (string), 9 (number),
 * $ (parameter), O (operator), P (punctuation); '~' follows an open token,
 * bytes outside 0x20..0x7e are written as \xNN.
 */
static void render(const char *text, size_t len, unsigned flags, char *out,
                   size_t cap)
{
	static const char kinds[] = {
	    [BW_SQL_NAME] = 'N',   [BW_SQL_QIDENT] = 'Q', [BW_SQL_STRING] = 'S',
	    [BW_SQL_NUMBER] = '9', [BW_SQL_PARAM] = '$',  [BW_SQL_OP] = 'O',
	    [BW_SQL_PUNCT] = 'P'};
	struct guarded g;
	struct bw_sqllex lx;
	struct bw_sqltok t;
	const char *s = guard(&g, text, len);
	size_t w = 0, ntok = 0;

	out[0] = '\0';
	bw_sqllex_init(&lx, s, len, flags);
	for (;;) {
		bw_sqllex_next(&lx, &t);
		ck_assert(inside(&t, s, len));
		if (t.kind == BW_SQL_END)
			break;
		ck_assert_uint_le(++ntok, len);
		w += (size_t)snprintf(out + w, cap - w, "%s%c:", w ? "|" : "",
		                      kinds[t.kind]);
		for (size_t i = 0; i < t.len && w < cap; i++) {
			unsigned char c = (unsigned char)t.p[i];

			if (c >= 0x20 && c < 0x7f)
				w +=
				    (size_t)snprintf(out + w, cap - w, "%c", c);
			else
				w += (size_t)snprintf(out + w, cap - w,
				                      "\\x%02x", c);
		}
		if (t.open && w < cap)
			w += (size_t)snprintf(out + w, cap - w, "~");
		ck_assert_uint_lt(w, cap);
	}
	unguard(&g);
}

static void expect_n(const char *text, size_t len, unsigned flags,
                     const char *want)
{
	char got[2048];

	render(text, len, flags, got, sizeof(got));
	ck_assert_msg(strcmp(got, want) == 0, "[%.*s]: got \"%s\", want \"%s\"",
	              (int)len, text, got, want);
}

static void expect(const char *text, const char *want)
{
	expect_n(text, strlen(text), 0, want);
}

/* The first token of text, from a guarded copy the caller unguards. */
static struct bw_sqltok first(struct guarded *g, const char *text)
{
	struct bw_sqllex lx;
	struct bw_sqltok t;

	bw_sqllex_init(&lx, guard(g, text, strlen(text)), strlen(text), 0);
	bw_sqllex_next(&lx, &t);
	return t;
}

/* The unescaped value of text's first token, which must succeed. */
static void expect_value(const char *text, enum bw_sqltok_esc esc,
                         const char *want)
{
	struct guarded g;
	struct bw_sqltok t = first(&g, text);
	char buf[256];
	size_t n = 0;

	ck_assert_msg(t.esc == esc, "%s: esc %d", text, (int)t.esc);
	ck_assert_int_eq(bw_sqllex_unescape(&t, buf, t.len, &n), 0);
	ck_assert_uint_le(n, t.len);
	ck_assert_msg(n == strlen(want) && memcmp(buf, want, n) == 0,
	              "%s: value \"%.*s\", want \"%s\"", text, (int)n, buf,
	              want);
	unguard(&g);
}

START_TEST(test_statement)
{
	expect("SELECT a.b, \"Q\"\"x\" FROM s.t WHERE c = 'it''s' AND d <> "
	       "$1 OR e != ? ;",
	       "N:SELECT|N:a|P:.|N:b|P:,|Q:Q\"\"x|N:FROM|N:s|P:.|N:t|N:WHERE|"
	       "N:c|O:=|S:it''s|N:AND|N:d|O:<>|$:$1|N:OR|N:e|O:!=|$:?|P:;");
	expect("", "");
	expect(" \t\r\n\f\v", "");
	expect("Abc _x1$ \xc3\xa9t\xc3\xa9",
	       "N:Abc|N:_x1$|N:\\xc3\\xa9t\\xc3\\xa9");
	expect_n("a\0b", 3, 0, "N:a|P:\\x00|N:b");
}
END_TEST

START_TEST(test_comments)
{
	expect("-- all of it", "");
	expect("a -- b\nc", "N:a|N:c");
	expect("a--b", "N:a");
	expect("a/**/b", "N:a|N:b");
	/* block comments nest, as in PostgreSQL */
	expect("a /* b /* nested */ still */ c", "N:a|N:c");
	expect("a /* b /* nested */ cut off", "N:a");
	expect("/*/ x */ y", "N:y");
	expect("/*/* x */ y", "");
	expect("a */ b", "N:a|O:*|O:/|N:b");
	expect("a<--b", "N:a|O:<");
	expect("'-- not' \"/* not */\"", "S:-- not|Q:/* not */");
}
END_TEST

START_TEST(test_strings)
{
	expect("'it''s' '' 'a' 'b'", "S:it''s|S:|S:a|S:b");
	expect("E'it\\'s' e'a\\\\b'", "S:it\\'s|S:a\\\\b");
	expect("E'\\''", "S:\\'");
	expect("'a\\' x", "S:a\\|N:x"); /* no backslash escapes in '' */
	expect("N'x' B'101' X'1F' n'y'", "S:x|S:101|S:1F|S:y");
	expect("U&'d\\0061t' u&\"d\\0061t\"", "S:d\\0061t|Q:d\\0061t");
	expect("xyz'a' a'b'", "N:xyz|S:a|N:a|S:b");

	expect_value("'it''s'", BW_SQLESC_QUOTE, "it's");
	expect_value("E'it\\'s'", BW_SQLESC_BACKSLASH, "it's");
	expect_value("E'\\''", BW_SQLESC_BACKSLASH, "'");
	expect_value("E'a''b'", BW_SQLESC_BACKSLASH, "a'b");
	expect_value("E'a\\\\b'", BW_SQLESC_BACKSLASH, "a\\b");
	expect_value("E'\\n'", BW_SQLESC_BACKSLASH, "n"); /* not decoded */
	expect_value("E'plain'", BW_SQLESC_NONE, "plain");
	expect_value("'a\\b'", BW_SQLESC_NONE, "a\\b");
	expect_value("'unterminated''", BW_SQLESC_QUOTE, "unterminated'");
	expect_value("X'1F'", BW_SQLESC_NONE, "1F");
}
END_TEST

START_TEST(test_dollar_quotes)
{
	struct guarded g;
	struct bw_sqltok t;

	expect("$$it's$$", "S:it's");
	expect("$$$$ x", "S:|N:x");
	expect("$tag$ a $$ b $x$ c $tag$ d", "S: a $$ b $x$ c |N:d");
	expect("$a$ $b$ inner $b$ $a$", "S: $b$ inner $b$ ");
	expect("$t1$x$t1$ $_$y$_$", "S:x|S:y");
	expect("$T$x$t$ y $T$", "S:x$t$ y "); /* tags are case-sensitive */
	expect("$q$abc", "S:abc~");
	expect("$q$abc$q", "S:abc$q~");
	expect("$$", "S:~");
	expect("$q$", "S:~");
	/* no dollar quotes */
	expect("$1$", "$:$1|P:$");
	expect("$12 $x", "$:$12|P:$|N:x");
	expect("a$b$ c", "N:a$b$|N:c");
	expect("$", "P:$");

	t = first(&g, "$q$it''s$q$");
	ck_assert_int_eq(t.kind, BW_SQL_STRING);
	ck_assert_int_eq(t.quote, '$');
	ck_assert_int_eq(t.esc, BW_SQLESC_NONE); /* '' is two quotes here */
	ck_assert(!t.open);
	unguard(&g);
}
END_TEST

START_TEST(test_quoted_identifiers)
{
	struct guarded g;
	struct bw_sqltok t;
	char buf[8];
	size_t n;

	expect("\"Quoted\"\"Ident\".\"T\"", "Q:Quoted\"\"Ident|P:.|Q:T");
	expect("\"\" \"a", "Q:|Q:a~");
	expect("\"a\"\"", "Q:a\"\"~");
	expect_value("\"Quoted\"\"Ident\"", BW_SQLESC_QUOTE, "Quoted\"Ident");
	expect_value("\"MixedCase\"", BW_SQLESC_NONE, "MixedCase");

	/* backticks only with BW_SQLLEX_BACKTICKS */
	expect("`a`", "P:`|N:a|P:`");
	expect_n("`a``b` `c", 9, BW_SQLLEX_BACKTICKS, "Q:a``b|Q:c~");

	/* U&"" is known as such; its escapes are not undone */
	t = first(&g, "U&\"d\\0061t\"");
	ck_assert_int_eq(t.kind, BW_SQL_QIDENT);
	ck_assert_int_eq(t.esc, BW_SQLESC_UNICODE);
	ck_assert_int_eq(bw_sqllex_unescape(&t, buf, sizeof(buf), &n), -1);
	unguard(&g);
}
END_TEST

START_TEST(test_numbers_and_operators)
{
	expect("1 42 1.5 .5 1e5 1E+5 1e-3 1e 1.2.3 5x a.5",
	       "9:1|9:42|9:1.5|9:.5|9:1e5|9:1E+5|9:1e-3|9:1|N:e|9:1.2.3|9:5|"
	       "N:x|N:a|9:.5");
	expect("a<>b!=c<=d>=e==f::g||h!~i~*j",
	       "N:a|O:<>|N:b|O:!=|N:c|O:<=|N:d|O:>=|N:e|O:==|N:f|O:::|N:g|O:||"
	       "|N:h|O:!~|N:i|O:~*|N:j");
	expect("@ # % ^ & | ~ + - * / : < > = !",
	       "O:@|O:#|O:%|O:^|O:&|O:||O:~|O:+|O:-|O:*|O:/|O::|O:<|O:>|O:=|"
	       "O:!");
	expect("=-1 ( ) [ ] { } \\",
	       "O:=|O:-|9:1|P:(|P:)|P:[|P:]|P:{|P:}|P:\\");
}
END_TEST

/* Every prefix of tricky statements lexes to the end inside its length. */
START_TEST(test_cut_off)
{
	static const char *const texts[] = {
	    "SELECT E'a\\'b''c' FROM \"T\"\"x\" WHERE $t$ $$ $t$ = U&'\\0061'",
	    "/* a /* b */ c */ $1 1.5e+3 `q` -- end",
	    "INSERT INTO t VALUES ('x', E'\\\\', $$y$$, \"\", '')",
	    "$abc$$ab$abc$ N'x' X'' ~* <> :: ||"};
	char got[2048];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (size_t n = 0; n <= strlen(texts[i]); n++) {
			render(texts[i], n, 0, got, sizeof(got));
			render(texts[i], n, BW_SQLLEX_BACKTICKS, got,
			       sizeof(got));
		}
	/* an unterminated string at the end is one open token */
	expect_n("'abc", 4, 0, "S:abc~");
	expect_n("E'abc\\", 6, 0, "S:abc\\~");
	expect_n("E'abc\\'", 7, 0, "S:abc\\'~");
	expect_n("'abc''", 6, 0, "S:abc''~");
	expect_n("U&'x", 4, 0, "S:x~");
	expect_n("U&", 2, 0, "N:U|O:&");
	expect_n("E", 1, 0, "N:E");
	expect_n("1e+", 3, 0, "9:1|N:e|O:+");
	expect_n("/", 1, 0, "O:/");
	expect_n("-", 1, 0, "O:-");
}
END_TEST

START_TEST(test_lookahead)
{
	static const char text[] = "a b c d e";
	struct guarded g;
	struct bw_sqllex lx;
	const struct bw_sqltok *p0, *p3;
	struct bw_sqltok t;

	bw_sqllex_init(&lx, guard(&g, text, 9), 9, 0);
	p0 = bw_sqllex_peek(&lx, 0);
	p3 = bw_sqllex_peek(&lx, 3);
	ck_assert(bw_sqllex_is_kw(p0, "a")); /* still valid after peek(3) */
	ck_assert(bw_sqllex_is_kw(p3, "d"));
	ck_assert(bw_sqllex_is_kw(bw_sqllex_peek(&lx, 1), "b"));
	bw_sqllex_advance(&lx);
	ck_assert(bw_sqllex_is_kw(bw_sqllex_peek(&lx, 0), "b"));
	ck_assert(bw_sqllex_is_kw(bw_sqllex_peek(&lx, 3), "e"));
	bw_sqllex_next(&lx, &t);
	ck_assert(bw_sqllex_is_kw(&t, "b"));
	ck_assert(bw_sqllex_is_kw(bw_sqllex_peek(&lx, 2), "e"));
	ck_assert_int_eq(bw_sqllex_peek(&lx, 3)->kind, BW_SQL_END);
	bw_sqllex_advance(&lx); /* c */
	bw_sqllex_advance(&lx); /* d */
	bw_sqllex_advance(&lx); /* e */
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(bw_sqllex_peek(&lx, 0)->kind, BW_SQL_END);
		ck_assert_int_eq(bw_sqllex_peek(&lx, 3)->kind, BW_SQL_END);
		bw_sqllex_advance(&lx);
	}
	unguard(&g);

	bw_sqllex_init(&lx, NULL, 0, 0);
	ck_assert_int_eq(bw_sqllex_peek(&lx, 0)->kind, BW_SQL_END);
}
END_TEST

START_TEST(test_predicates)
{
	struct guarded g;
	struct bw_sqltok t;
	char buf[16];
	size_t n;

	t = first(&g, "Select");
	ck_assert(bw_sqllex_is_kw(&t, "SELECT"));
	ck_assert(bw_sqllex_is_kw(&t, "select"));
	ck_assert(!bw_sqllex_is_kw(&t, "SELECTS"));
	ck_assert(!bw_sqllex_is_kw(&t, "SELEC"));
	ck_assert(bw_sqllex_is_kw_in(&t, "SELECT"));
	ck_assert(bw_sqllex_is_kw_in(&t, "FROM SELECT"));
	ck_assert(bw_sqllex_is_kw_in(&t, "from select"));
	ck_assert(bw_sqllex_is_kw_in(&t, "select where"));
	ck_assert(bw_sqllex_is_kw_in(&t, "FROM select WHERE"));
	ck_assert(!bw_sqllex_is_kw_in(&t, "ELECT SEL SELECTS"));
	ck_assert(!bw_sqllex_is_kw_in(&t, "a b c d e f g h i j k l m"));
	unguard(&g);

	/* every word of a list is found, and only those */
	{
		static const char list[] =
		    "a all and as in inner insert into is select selects z";
		static const char *const no[] = {"al",   "alls", "i",   "ins",
		                                 "intx", "s",    "sel", "zz",
		                                 "b",    "isa"};
		const char *w = list, *e;
		struct bw_sqltok k = {.kind = BW_SQL_NAME};

		for (;;) {
			e = strchrnul(w, ' ');
			k.p = w;
			k.len = (size_t)(e - w);
			ck_assert_msg(bw_sqllex_is_kw_in(&k, list), "%.*s",
			              (int)k.len, k.p);
			if (*e == '\0')
				break;
			w = e + 1;
		}
		for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
			k.p = no[i];
			k.len = strlen(no[i]);
			ck_assert_msg(!bw_sqllex_is_kw_in(&k, list), "%s",
			              no[i]);
		}
		k.p = "INSERT";
		k.len = 6;
		ck_assert(bw_sqllex_is_kw_in(&k, list));
	}
	t = first(&g, "Select");
	ck_assert(!bw_sqllex_is_punct(&t, 'S'));
	/* a name is copied as it is */
	ck_assert_int_eq(bw_sqllex_unescape(&t, buf, 6, &n), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert(memcmp(buf, "Select", 6) == 0);
	ck_assert_int_eq(bw_sqllex_unescape(&t, buf, 5, &n), -1);
	unguard(&g);

	t = first(&g, "\"select\"");
	ck_assert(!bw_sqllex_is_kw(&t, "select"));
	ck_assert(!bw_sqllex_is_kw_in(&t, "from select"));
	unguard(&g);

	t = first(&g, "::");
	ck_assert(bw_sqllex_is_op(&t, "::"));
	ck_assert(!bw_sqllex_is_op(&t, ":"));
	ck_assert(!bw_sqllex_is_punct(&t, ':'));
	unguard(&g);

	t = first(&g, "(");
	ck_assert(bw_sqllex_is_punct(&t, '('));
	ck_assert(!bw_sqllex_is_punct(&t, ')'));
	ck_assert(!bw_sqllex_is_op(&t, "("));
	unguard(&g);
}
END_TEST

/* Lex a large guarded text to the end; returns the number of tokens and
 * the first one in *t0 (whose p is left dangling). */
static size_t lex_big(const char *text, size_t len, struct bw_sqltok *t0)
{
	struct guarded g;
	struct bw_sqllex lx;
	struct bw_sqltok t;
	const char *s = guard(&g, text, len);
	size_t n = 0;
	bool ok = true;

	bw_sqllex_init(&lx, s, len, BW_SQLLEX_BACKTICKS);
	for (;;) {
		bw_sqllex_next(&lx, &t);
		ok = ok && inside(&t, s, len) && n <= len;
		if (n == 0)
			*t0 = t;
		if (t.kind == BW_SQL_END)
			break;
		n++;
	}
	unguard(&g);
	ck_assert(ok);
	return n;
}

#define BIG (16u * 1024 * 1024)

START_TEST(test_huge)
{
	char *b = malloc(BIG);
	struct bw_sqltok t;
	size_t i, k, half = BIG / 2;

	ck_assert_ptr_nonnull(b);

	/* one unterminated string */
	memset(b, 'a', BIG);
	b[0] = '\'';
	ck_assert_uint_eq(lex_big(b, BIG, &t), 1);
	ck_assert_int_eq(t.kind, BW_SQL_STRING);
	ck_assert(t.open);
	ck_assert_uint_eq(t.len, BIG - 1);

	/* one name, one number */
	b[0] = 'a';
	ck_assert_uint_eq(lex_big(b, BIG, &t), 1);
	ck_assert_uint_eq(t.len, BIG);
	memset(b, '7', BIG);
	ck_assert_uint_eq(lex_big(b, BIG, &t), 1);
	ck_assert_int_eq(t.kind, BW_SQL_NUMBER);

	/* block comments nested 4M deep: cut off, then closed */
	k = (BIG - 2) / 4;
	for (i = 0; i < k; i++)
		memcpy(b + 2 * i, "/*", 2);
	ck_assert_uint_eq(lex_big(b, 2 * k, &t), 0);
	for (i = 0; i < k; i++)
		memcpy(b + 2 * k + 2 * i, "*/", 2);
	memcpy(b + 4 * k, " x", 2);
	ck_assert_uint_eq(lex_big(b, 4 * k + 2, &t), 1);
	ck_assert_int_eq(t.kind, BW_SQL_NAME);
	ck_assert_uint_eq(t.len, 1);

	/* 8M tokens */
	for (i = 0; i < BIG; i += 2)
		memcpy(b + i, "a,", 2);
	ck_assert_uint_eq(lex_big(b, BIG, &t), BIG);

	/* a dollar quote whose body nearly closes it everywhere */
	memcpy(b, "$abcdefgh$", 10);
	for (i = 10; i + 8 <= BIG; i += 8)
		memcpy(b + i, "$abcdefg", 8);
	ck_assert_uint_eq(lex_big(b, i, &t), 1);
	ck_assert(t.open);
	ck_assert_uint_eq(t.len, i - 10);

	/* a dollar quote with a 8 MB tag, closed at the end */
	b[0] = '$';
	memset(b + 1, 't', half - 2);
	b[half - 1] = '$';
	memcpy(b + half, b, half);
	ck_assert_uint_eq(lex_big(b, BIG, &t), 1);
	ck_assert(!t.open);
	ck_assert_uint_eq(t.len, 0);

	/* quotes doubled all along */
	memset(b, '\'', BIG);
	b[0] = 'E';
	ck_assert_uint_eq(lex_big(b, BIG, &t), 1);
	ck_assert_int_eq(t.esc, BW_SQLESC_BACKSLASH);
	free(b);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("sqllex");
	TCase *tc = tcase_create("sqllex");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_statement);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_strings);
	tcase_add_test(tc, test_dollar_quotes);
	tcase_add_test(tc, test_quoted_identifiers);
	tcase_add_test(tc, test_numbers_and_operators);
	tcase_add_test(tc, test_cut_off);
	tcase_add_test(tc, test_lookahead);
	tcase_add_test(tc, test_predicates);
	tcase_add_test(tc, test_huge);
	suite_add_tcase(s, tc);
	return s;
}
