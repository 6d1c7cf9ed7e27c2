/*
 * test_mask.c - masking secrets and personal data in evidence excerpts.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "xmalloc.h"
#include "check_main.h"

struct mask_case {
	const char *in;
	const char *out;
};

static const struct mask_case cases[] = {
    /* Nothing to mask. */
    {"GET /index.html HTTP/1.1", "GET /index.html HTTP/1.1"},
    {"", ""},
    /* Secret query and form parameters. */
    {"GET /login?user=bob&password=hunter2&next=/ HTTP/1.1",
     "GET /login?user=bob&password=****&next=/ HTTP/1.1"},
    {"/api?access_token=eyJhbGciOi.x.y", "/api?access_token=****"},
    {"/a?TOKEN=abc;b=1", "/a?TOKEN=****;b=1"},
    {"/a?api_key=K1&apikey=K2&key=K3", "/a?api_key=****&apikey=****&key=****"},
    {"/cb?code=4/0AX4&state=xyz", "/cb?code=****&state=xyz"},
    {"/a?client_secret=s3&x-api-key=k", "/a?client_secret=****&x-api-key=****"},
    {"Cookie: sessionid=abc123; theme=dark",
     "Cookie: sessionid=****; theme=dark"},
    {"/a?sid=1&pwd=2&passwd=3&pass=4&secret=5&auth=6&session=7",
     "/a?sid=****&pwd=****&passwd=****&pass=****&secret=****&auth=****&"
     "session=****"},
    /* Empty values show that none was given. */
    {"/login?password=&user=bob", "/login?password=&user=bob"},
    /* Names that only contain a secret word are left alone. */
    {"/a?keyboard=1&passport=2&tokens_left=3&monkey=4",
     "/a?keyboard=1&passport=2&tokens_left=3&monkey=4"},
    /* Words that are not parameters stay. */
    {"Failed password for root from 198.51.100.7 port 22 ssh2",
     "Failed password for root from 198.51.100.7 port 22 ssh2"},
    /* JSON members. */
    {"{\"user\":\"bob\",\"password\":\"hun\\\"ter2\",\"n\":1}",
     "{\"user\":\"bob\",\"password\":\"****\",\"n\":1}"},
    {"{\"token\": \"abc\"}", "{\"token\": \"****\"}"},
    {"{\"pin_code\":1234,\"otp\":123456}", "{\"pin_code\":1234,\"otp\":****}"},
    /* Authorization headers and schemes. */
    {"Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic ****"},
    {"authorization=Bearer abc.def.ghi&x=1", "authorization=Bearer ****&x=1"},
    {"\"Authorization: Token 12345\" next",
     "\"Authorization: Token ****\" next"},
    {"hdr=\"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig\"", "hdr=\"Bearer ****\""},
    {"Basic auth failed", "Basic auth failed"},
    {"Proxy-Authorization: Negotiate YIIabc",
     "Proxy-Authorization: Negotiate ****"},
    /* PGPASSWORD and SQL password literals. */
    {"PGPASSWORD=s3cr3t psql -h db", "PGPASSWORD=**** psql -h db"},
    {"ALTER ROLE bob WITH PASSWORD 'it''s secret' VALID UNTIL 'infinity'",
     "ALTER ROLE bob WITH PASSWORD '****' VALID UNTIL 'infinity'"},
    {"CREATE USER x ENCRYPTED password = \"md5abc\";",
     "CREATE USER x ENCRYPTED password = \"****\";"},
    {"SET PASSWORD FOR 'u'@'%' = PASSWORD('pw')",
     "SET PASSWORD FOR 'u'@'%' = PASSWORD('****')"},
    {"CREATE USER 'u'@'h' IDENTIFIED BY 'pw1';",
     "CREATE USER 'u'@'h' IDENTIFIED BY '****';"},
    {"ALTER USER x PASSWORD 'unterminated", "ALTER USER x PASSWORD '****"},
    /* E-mail addresses. */
    {"to=john.smith@example.com&x=1", "to=j***@example.com&x=1"},
    {"from <Alice+tag@mail.example.co.uk>.", "from <A***@mail.example.co.uk>."},
    {"email=bob%40example.org HTTP", "email=b***%40example.org HTTP"},
    {"sent to bob@example.com.", "sent to b***@example.com."},
    {"root@localhost and git@10.0.0.1", "root@localhost and git@10.0.0.1"},
    {"a@b@example.com", "a@b***@example.com"},
    /* Payment cards: 13-19 digits passing Luhn; other digit runs stay. */
    {"card=4111111111111111 ok", "card=************1111 ok"},
    {"pan 5500005555555559,", "pan ************5559,"},
    {"amex 378282246310005", "amex ***********0005"},
    {"4111111111111112", "4111111111111112"},
    {"order 41111111111111111111", "order 41111111111111111111"},
    {"ts=1700000000000 1234567890123", "ts=1700000000000 1234567890123"},
    {"id4111111111111111x", "id************1111x"},
    /* Bytes that are not printable UTF-8. */
    {"a\tb\r\n", "a\\x09b\\x0d\\x0a"},
    {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},
    {"x\xff\xfe"
     "y",
     "x\\xff\\xfey"},
    {"\xc3(", "\\xc3("},
    {"\xe2\x82", "\\xe2\\x82"},
    {"\xc0\xaf", "\\xc0\\xaf"},          /* overlong '/' */
    {"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* a surrogate */
    {"\xc2\x85", "\\xc2\\x85"},          /* C1 control NEL */
    {"\x7f", "\\x7f"},
    {"Authorization:\tBasic\tQWxhZGRpbjpvcGVu",
     "Authorization:\\x09Basic\\x09****"},
};

/* SQL secrets: every kind of string literal after PASSWORD, and the other
 * places a statement carries a secret. Literals that hold no secret (the
 * customer ids an incident needs) stay as they are. */
static const struct mask_case sql_cases[] = {
    /* Dollar quotes, without and with a tag; a lone '$' or '$$' inside
     * a tagged one does not end it. */
    {"ALTER ROLE x PASSWORD $$hunter2$$", "ALTER ROLE x PASSWORD $$****$$"},
    {"ALTER ROLE x PASSWORD $p$hun$$'ter2$p$ VALID UNTIL 'infinity'",
     "ALTER ROLE x PASSWORD $p$****$p$ VALID UNTIL 'infinity'"},
    /* E'' with an escaped quote, and U&'' strings. */
    {"CREATE USER u WITH PASSWORD E'hun\\'ter2' LOGIN",
     "CREATE USER u WITH PASSWORD E'****' LOGIN"},
    {"ALTER ROLE x PASSWORD e'a\\\\' NOLOGIN",
     "ALTER ROLE x PASSWORD e'****' NOLOGIN"},
    {"ALTER ROLE x PASSWORD U&'hun\\0074er2' UESCAPE '\\'",
     "ALTER ROLE x PASSWORD U&'****' UESCAPE '\\'"},
    /* A doubled quote stays inside, also after a backslash (which does
     * not escape in a standard string). */
    {"CREATE ROLE r LOGIN PASSWORD 'C:\\''x' NOINHERIT",
     "CREATE ROLE r LOGIN PASSWORD '****' NOINHERIT"},
    /* A backslash before the closing quote: a standard string ends there,
     * a MySQL one goes on; the mask covers both. */
    {"ALTER ROLE x PASSWORD 'abc\\'def' LOGIN",
     "ALTER ROLE x PASSWORD '****' LOGIN"},
    {"SET PASSWORD = \"abc\\\"def\"", "SET PASSWORD = \"****\""},
    {"UPDATE users SET password = 'C:\\' WHERE customer_id = 'c1001'",
     "UPDATE users SET password = '****'c1001'"}, /* the id stays */
    {"ALTER ROLE x PASSWORD 'C:\\\\' LOGIN",
     "ALTER ROLE x PASSWORD '****' LOGIN"},
    /* Cut off at the end of the excerpt: masked to its end. */
    {"ALTER ROLE x PASSWORD $$hunter2", "ALTER ROLE x PASSWORD $$****"},
    {"ALTER ROLE x PASSWORD $p$hunter2$p", "ALTER ROLE x PASSWORD $p$****"},
    {"ALTER ROLE x PASSWORD E'hun\\'ter2", "ALTER ROLE x PASSWORD E'****"},
    {"ALTER ROLE x PASSWORD U&'it''s", "ALTER ROLE x PASSWORD U&'****"},
    /* Comments and line breaks between the keyword and the literal. */
    {"CREATE ROLE r ENCRYPTED PASSWORD /* rotated */ 'x1' LOGIN",
     "CREATE ROLE r ENCRYPTED PASSWORD /* rotated */ '****' LOGIN"},
    {"ALTER ROLE r PASSWORD -- new\n'x1'",
     "ALTER ROLE r PASSWORD -- new\\x0a'****'"},
    /* Several secrets in one statement. */
    {"ALTER ROLE a PASSWORD $$x1$$; ALTER ROLE b ENCRYPTED PASSWORD E'x\\'2'",
     "ALTER ROLE a PASSWORD $$****$$; ALTER ROLE b ENCRYPTED PASSWORD "
     "E'****'"},
    {"UPDATE users SET password = crypt('new', gen_salt('bf')) WHERE "
     "password = crypt($$old$$, password) AND customer_id = 'c1001'",
     "UPDATE users SET password = crypt('****', gen_salt('bf')) WHERE "
     "password = crypt($$****$$, password) AND customer_id = 'c1001'"},
    {"CREATE USER 'a'@'%' IDENTIFIED BY 'x1', 'b'@'%' IDENTIFIED WITH "
     "caching_sha2_password BY \"x2\"",
     "CREATE USER 'a'@'%' IDENTIFIED BY '****', 'b'@'%' IDENTIFIED WITH "
     "caching_sha2_password BY \"****\""},
    /* A hash function around the password. */
    {"SELECT id FROM users WHERE password = md5('hunter2') AND "
     "customer_id = 'c1001'",
     "SELECT id FROM users WHERE password = md5('****') AND "
     "customer_id = 'c1001'"},
    /* PASSWORD as a column or keyword with no literal after it: the
     * literals further on stay. */
    {"SELECT password, email FROM users WHERE customer_id = 'c1001'",
     "SELECT password, email FROM users WHERE customer_id = 'c1001'"},
    {"UPDATE users SET password = NULL WHERE customer_id = 'c1001' AND "
     "note = $$x$$",
     "UPDATE users SET password = NULL WHERE customer_id = 'c1001' AND "
     "note = $$x$$"},
    {"INSERT INTO users (password, customer_id) VALUES ($1, 'c1001')",
     "INSERT INTO users (password, customer_id) VALUES ($1, 'c1001')"},
    {"CREATE ROLE app LOGIN PASSWORD :'app_pw'",
     "CREATE ROLE app LOGIN PASSWORD :'app_pw'"},
    {"SELECT password_hash FROM users WHERE customer_id = E'c1001'",
     "SELECT password_hash FROM users WHERE customer_id = E'c1001'"},
    /* An empty password shows that none is set; nothing to hide. */
    {"ALTER ROLE x PASSWORD ''", "ALTER ROLE x PASSWORD ''"},
    /* pgcrypto keys: the second argument of pgp_sym_*; the data stays
     * (its card number masked as anywhere else). */
    {"INSERT INTO cards VALUES ('c1001', pgp_sym_encrypt('4111111111111111', "
     "'k3y', 'cipher-algo=aes256'))",
     "INSERT INTO cards VALUES ('c1001', pgp_sym_encrypt('************1111', "
     "'****', 'cipher-algo=aes256'))"},
    {"SELECT pgp_sym_decrypt(f(card, 'a,b')::bytea, $k$s3cr3t$k$) FROM cards "
     "WHERE customer_id = 'c1001'",
     "SELECT pgp_sym_decrypt(f(card, 'a,b')::bytea, $k$****$k$) FROM cards "
     "WHERE customer_id = 'c1001'"},
    {"SELECT PGP_SYM_DECRYPT_BYTEA(d, E'k\\'1'), "
     "pgp_sym_encrypt(pgp_sym_decrypt(d, 'k2'), 'k3')",
     "SELECT PGP_SYM_DECRYPT_BYTEA(d, E'****'), "
     "pgp_sym_encrypt(pgp_sym_decrypt(d, '****'), '****')"},
    {"SELECT pgp_sym_encrypt(d, decode('6b6579', 'hex'))",
     "SELECT pgp_sym_encrypt(d, decode('****', 'hex'))"},
    {"SELECT pgp_sym_decrypt(d) FROM t WHERE customer_id = 'c1001'",
     "SELECT pgp_sym_decrypt(d) FROM t WHERE customer_id = 'c1001'"},
    /* Secret custom settings; other settings stay. */
    {"SELECT set_config('app.secret', 'hunter2', false), "
     "set_config('app.customer', 'c1001', false)",
     "SELECT set_config('app.secret', '****', false), "
     "set_config('app.customer', 'c1001', false)"},
    {"SET LOCAL app.jwt_secret TO $$x$$; SET app.customer_id = 'c1001'",
     "SET LOCAL app.jwt_secret TO $$****$$; SET app.customer_id = 'c1001'"},
    {"SET search_path = 'c1001'", "SET search_path = 'c1001'"},
    /* MySQL: replication and SET PASSWORD FOR. */
    {"CHANGE MASTER TO MASTER_USER = 'repl', MASTER_PASSWORD = 'x1'",
     "CHANGE MASTER TO MASTER_USER = 'repl', MASTER_PASSWORD = '****'"},
    {"SET PASSWORD FOR 'u'@'%' = 'x1'", "SET PASSWORD FOR 'u'@'%' = '****'"},
    /* In a log line, around other text. */
    {"2024-05-01 LOG:  statement: ALTER ROLE bob PASSWORD $$pw$$ user's",
     "2024-05-01 LOG:  statement: ALTER ROLE bob PASSWORD $$****$$ user's"},
};

/* Run one case on a copy of exactly its length, so that reading past the
 * end is caught under AddressSanitizer. */
static void check_case(const struct mask_case *c)
{
	size_t len = strlen(c->in), n;
	char *in = xmalloc(len + 1), out[512];

	memcpy(in, c->in, len);
	n = bw_mask_excerpt(len > 0 ? in : NULL, len, out, sizeof(out));
	ck_assert_str_eq(out, c->out);
	ck_assert_uint_eq(n, strlen(c->out));
	free(in);
}

START_TEST(mask_cases)
{
	check_case(&cases[_i]);
}
END_TEST

START_TEST(mask_sql_cases)
{
	check_case(&sql_cases[_i]);
}
END_TEST

/* Append s to buf at *pos, n times. */
static void append(char *buf, size_t *pos, const char *s, size_t n)
{
	size_t len = strlen(s);

	while (n-- > 0) {
		memcpy(buf + *pos, s, len);
		*pos += len;
	}
}

/* A literal much longer than any look-ahead: masked whole, and what
 * follows it is kept, wherever in it a doubled quote, an escape or a
 * partial tag falls. */
START_TEST(sql_long_literal)
{
	static const struct {
		const char *open, *inner, *close, *want;
	} forms[] = {
	    {"PASSWORD '", "''", "' LOGIN", "PASSWORD '****' LOGIN"},
	    {"PASSWORD E'", "\\'", "' LOGIN", "PASSWORD E'****' LOGIN"},
	    {"PASSWORD $tag$", "$ta", "$tag$ LOGIN",
	     "PASSWORD $tag$****$tag$ LOGIN"},
	    {"pgp_sym_decrypt(d, '", "''", "') LOGIN",
	     "pgp_sym_decrypt(d, '****') LOGIN"},
	};
	enum { BODY = 3000 };
	size_t k, at, len;
	char *in, out[64];

	for (k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		for (at = 0; at <= BODY; at += 61) {
			in = xmalloc(strlen(forms[k].open) + BODY +
			             strlen(forms[k].inner) +
			             strlen(forms[k].close));
			len = 0;
			append(in, &len, forms[k].open, 1);
			append(in, &len, "x", at);
			append(in, &len, forms[k].inner, 1);
			append(in, &len, "x", BODY - at);
			append(in, &len, forms[k].close, 1);
			bw_mask_excerpt(in, len, out, sizeof(out));
			ck_assert_str_eq(out, forms[k].want);
			free(in);
		}
	}
}
END_TEST

/* Random statements made of SQL pieces, on buffers of exactly their
 * length: no read past the end (AddressSanitizer), and the output bounded
 * and terminated. */
START_TEST(sql_pieces)
{
	static const char *const pieces[] = {
	    "PASSWORD ",
	    "password",
	    " ",
	    "'",
	    "''",
	    "$$",
	    "$t$",
	    "$t",
	    "E'",
	    "\\",
	    "U&'",
	    "(",
	    ",",
	    ")",
	    "=",
	    "crypt",
	    "pgp_sym_decrypt",
	    "set_config",
	    "'app.secret'",
	    "SET ",
	    "app.key",
	    " TO ",
	    "/*",
	    "*/",
	    "--",
	    "\n",
	    "IDENTIFIED BY ",
	    "WITH ",
	    "x",
	    "::",
	    ";",
	};
	unsigned state = 4242;
	size_t round, len, k, n;
	char buf[256], *in, out[96];

	for (round = 0; round < 20000; round++) {
		len = 0;
		for (k = 0; k < round % 24; k++) {
			const char *p;

			state = state * 1103515245u + 12345u;
			p = pieces[(state >> 16) %
			           (sizeof(pieces) / sizeof(pieces[0]))];
			if (len + strlen(p) > sizeof(buf))
				break;
			append(buf, &len, p, 1);
		}
		in = xmalloc(len + 1);
		memcpy(in, buf, len);
		n = bw_mask_excerpt(in, len, out, 1 + round % sizeof(out));
		ck_assert_uint_lt(n, 1 + round % sizeof(out));
		ck_assert_uint_eq(strlen(out), n);
		free(in);
	}
}
END_TEST

START_TEST(embedded_nul)
{
	static const char in[] = "a\0b password=x\0y";
	char out[64];
	size_t n;

	n = bw_mask_excerpt(in, sizeof(in) - 1, out, sizeof(out));
	ck_assert_str_eq(out, "a\\x00b password=****\\x00y");
	ck_assert_uint_eq(n, strlen(out));
}
END_TEST

START_TEST(truncation)
{
	char out[16];
	size_t n;

	/* 15 bytes fit exactly: no cut. */
	n = bw_mask_excerpt("0123456789abcde", 15, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789abcde");
	ck_assert_uint_eq(n, 15);
	/* One more: cut, ending in "...", within size - 1. */
	n = bw_mask_excerpt("0123456789abcdef", 16, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789ab...");
	ck_assert_uint_eq(n, 15);
	/* A cut never splits an escape or a UTF-8 character. */
	n = bw_mask_excerpt("0123456789\xff\xff", 12, out, sizeof(out));
	ck_assert_str_eq(out, "0123456789...");
	n = bw_mask_excerpt("012345678901\xe2\x82\xac"
	                    "x",
	                    16, out, sizeof(out));
	ck_assert_str_eq(out, "012345678901...");
	/* A cut inside a secret does not show any of it. */
	n = bw_mask_excerpt("password=hunter2hunter2hunter2", 30, out,
	                    sizeof(out));
	ck_assert_str_eq(out, "password=****");
	n = bw_mask_excerpt("xxxxxxxx password=hunter2", 25, out, sizeof(out));
	ck_assert_str_eq(out, "xxxxxxxx pas...");
	ck_assert_ptr_null(strstr(out, "hunter"));
	/* Tiny outputs. */
	n = bw_mask_excerpt("abc", 3, out, 1);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(n, 0);
	n = bw_mask_excerpt("abcdef", 6, out, 3);
	ck_assert_str_eq(out, "..");
	n = bw_mask_excerpt("abcdef", 6, out, 0);
	ck_assert_uint_eq(n, 0);
	n = bw_mask_excerpt(NULL, 0, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

/* Every byte value, every length: the output stays in bounds, is
 * terminated, and holds only printable ASCII or valid UTF-8. */
START_TEST(any_bytes)
{
	unsigned char in[512];
	char out[64];
	unsigned state = 12345;
	size_t i, n, round;

	for (round = 0; round < 2000; round++) {
		size_t len = round % sizeof(in);

		for (i = 0; i < len; i++) {
			state = state * 1103515245u + 12345u;
			in[i] = (unsigned char)(state >> 16);
		}
		memset(out, 'Z', sizeof(out));
		n = bw_mask_excerpt((const char *)in, len, out,
		                    1 + round % sizeof(out));
		ck_assert_uint_lt(n, 1 + round % sizeof(out));
		ck_assert_uint_eq(strlen(out), n);
		for (i = 0; i < n; i++)
			ck_assert_uint_ne((unsigned char)out[i], 0x7f);
	}
}
END_TEST

/* Huge input: the work stops once the output is full, and adversarial
 * shapes (long runs that almost match) stay linear. */
START_TEST(huge_input)
{
	static const char *const pieces[] = {
	    "a",
	    "1",
	    "a@",
	    "@a.",
	    "password",
	    "password ",
	    "=",
	    "%4",
	    "Bearer ",
	    "4111111111111",
	    "password /*",
	    "crypt(",
	    "pgp_sym_decrypt(x,",
	    "set a.key=",
	};
	size_t len = 16u << 20, i, k, plen;
	char *in = xmalloc(len), out[1025];
	size_t n;

	for (k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
		plen = strlen(pieces[k]);
		for (i = 0; i < len; i++)
			in[i] = pieces[k][i % plen];
		n = bw_mask_excerpt(in, len, out, sizeof(out));
		ck_assert_uint_le(n, 1024);
		ck_assert_uint_eq(strlen(out), n);
	}
	/* One long secret value: consumed in one step, shown as ****. */
	memset(in, 'x', len);
	memcpy(in, "token=", 6);
	n = bw_mask_excerpt(in, len, out, sizeof(out));
	ck_assert_str_eq(out, "token=****");
	free(in);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("mask");
	TCase *tc = tcase_create("mask");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, mask_cases, 0,
	                    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, mask_sql_cases, 0,
	                    (int)(sizeof(sql_cases) / sizeof(sql_cases[0])));
	tcase_add_test(tc, sql_long_literal);
	tcase_add_test(tc, sql_pieces);
	tcase_add_test(tc, embedded_nul);
	tcase_add_test(tc, truncation);
	tcase_add_test(tc, any_bytes);
	tcase_add_test(tc, huge_input);
	suite_add_tcase(s, tc);
	return s;
}
