/*
 * test_mask.c - masking secrets and personal data in evidence excerpts.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mask.h"
#include "xmalloc.h"

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

START_TEST(mask_cases)
{
	const struct mask_case *c = &cases[_i];
	char out[512];
	size_t n;

	n = bw_mask_excerpt(c->in, strlen(c->in), out, sizeof(out));
	ck_assert_str_eq(out, c->out);
	ck_assert_uint_eq(n, strlen(c->out));
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
	    "a",         "1", "a@", "@a.",     "password",
	    "password ", "=", "%4", "Bearer ", "4111111111111",
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

static Suite *mask_suite(void)
{
	Suite *s = suite_create("mask");
	TCase *tc = tcase_create("mask");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, mask_cases, 0,
	                    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, embedded_nul);
	tcase_add_test(tc, truncation);
	tcase_add_test(tc, any_bytes);
	tcase_add_test(tc, huge_input);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(mask_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
