/*
 * test_cidr.c - CIDR sets and address parsing.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "check_main.h"

/* A frozen set of the given networks; every add must succeed. */
static struct bw_cidr_set *set_of(const char *const *nets)
{
	struct bw_cidr_set *set = bw_cidr_new();
	struct bw_error err;
	size_t i;

	for (i = 0; nets[i] != NULL; i++)
		ck_assert_msg(bw_cidr_add(set, nets[i], &err) == 0, "%s: %s",
			      nets[i], err.msg);
	bw_cidr_freeze(set);
	return set;
}

/* Parse text as an address; the test fails if it is not one. */
static struct bw_addr addr(const char *text)
{
	struct bw_addr a;

	ck_assert_msg(bw_addr_parse(text, strlen(text), &a) == 0, "%s", text);
	return a;
}

static bool has(const struct bw_cidr_set *set, const char *text)
{
	struct bw_addr a = addr(text);

	return bw_cidr_contains(set, &a);
}

START_TEST(test_v4)
{
	static const char *const nets[] = {"10.0.0.0/8", "192.168.1.0/24",
					   "203.0.113.7", NULL};
	struct bw_cidr_set *set = set_of(nets);

	ck_assert_uint_eq(bw_cidr_count(set), 3);
	ck_assert(has(set, "10.0.0.0"));
	ck_assert(has(set, "10.255.255.255"));
	ck_assert(!has(set, "9.255.255.255"));
	ck_assert(!has(set, "11.0.0.0"));
	ck_assert(has(set, "192.168.1.0"));
	ck_assert(has(set, "192.168.1.255"));
	ck_assert(!has(set, "192.168.0.255"));
	ck_assert(!has(set, "192.168.2.0"));
	ck_assert(has(set, "203.0.113.7"));
	ck_assert(!has(set, "203.0.113.6"));
	ck_assert(!has(set, "203.0.113.8"));
	ck_assert(!has(set, "0.0.0.0"));
	ck_assert(!has(set, "255.255.255.255"));
	ck_assert(!has(set, "::1"));
	bw_cidr_destroy(&set);
	ck_assert_ptr_null(set);
	bw_cidr_destroy(&set); /* NULL is fine */
	bw_cidr_destroy(NULL);
}
END_TEST

START_TEST(test_v4_merge)
{
	static const char *const adjacent[] = {"10.0.1.0/24", "10.0.0.0/24",
					       "10.0.2.0/23", NULL};
	static const char *const overlap[] = {"10.1.0.0/16", "10.0.0.0/8",
					      "10.1.2.3", "10.0.0.0/8", NULL};
	static const char *const gap[] = {"10.0.0.0/24", "10.0.2.0/24", NULL};
	static const char *const top[] = {"255.255.255.255", "255.255.255.254",
					  "0.0.0.0", NULL};
	static const char *const all[] = {"192.0.2.0/24", "0.0.0.0/0", NULL};
	struct bw_cidr_set *set;

	set = set_of(adjacent);
	ck_assert_uint_eq(bw_cidr_count(set), 1);
	ck_assert(has(set, "10.0.0.0"));
	ck_assert(has(set, "10.0.1.128"));
	ck_assert(has(set, "10.0.3.255"));
	ck_assert(!has(set, "10.0.4.0"));
	bw_cidr_destroy(&set);

	set = set_of(overlap);
	ck_assert_uint_eq(bw_cidr_count(set), 1);
	ck_assert(has(set, "10.200.0.1"));
	ck_assert(!has(set, "11.0.0.0"));
	bw_cidr_destroy(&set);

	set = set_of(gap);
	ck_assert_uint_eq(bw_cidr_count(set), 2);
	ck_assert(has(set, "10.0.0.255"));
	ck_assert(!has(set, "10.0.1.0"));
	ck_assert(!has(set, "10.0.1.255"));
	ck_assert(has(set, "10.0.2.0"));
	bw_cidr_destroy(&set);

	/* The top of the address space must not wrap when merging. */
	set = set_of(top);
	ck_assert_uint_eq(bw_cidr_count(set), 2);
	ck_assert(has(set, "255.255.255.255"));
	ck_assert(has(set, "255.255.255.254"));
	ck_assert(!has(set, "255.255.255.253"));
	ck_assert(has(set, "0.0.0.0"));
	ck_assert(!has(set, "0.0.0.1"));
	bw_cidr_destroy(&set);

	set = set_of(all);
	ck_assert_uint_eq(bw_cidr_count(set), 1);
	ck_assert(has(set, "0.0.0.0"));
	ck_assert(has(set, "255.255.255.255"));
	ck_assert(!has(set, "2001:db8::1"));
	bw_cidr_destroy(&set);
}
END_TEST

START_TEST(test_v6)
{
	static const char *const nets[] = {"2001:db8::/32", "::1",
					   "fe80::/64", "2001:db8:ffff::/48",
					   "2a00:1450:4001:800::/65", NULL};
	struct bw_cidr_set *set = set_of(nets);

	/* 2001:db8:ffff::/48 lies inside 2001:db8::/32. */
	ck_assert_uint_eq(bw_cidr_count(set), 4);
	ck_assert(has(set, "2001:db8::"));
	ck_assert(has(set, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(set, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(set, "2001:db9::"));
	ck_assert(has(set, "::1"));
	ck_assert(!has(set, "::2"));
	ck_assert(!has(set, "::"));
	/* A /64 ends at the 64-bit word boundary. */
	ck_assert(has(set, "fe80::ffff:ffff:ffff:ffff"));
	ck_assert(!has(set, "fe80:0:0:1::"));
	/* A /65 splits the low word. */
	ck_assert(has(set, "2a00:1450:4001:800:7fff:ffff:ffff:ffff"));
	ck_assert(!has(set, "2a00:1450:4001:800:8000::"));
	ck_assert(!has(set, "10.0.0.1"));
	bw_cidr_destroy(&set);
}
END_TEST

START_TEST(test_v6_merge)
{
	static const char *const adjacent[] = {
		"2001:db8:0:1::/64", "2001:db8::/64",
		/* carries from the low word into the high one */
		"2001:db8:0:2::/63", NULL};
	static const char *const top[] = {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
					  "ffff:ffff:ffff:ffff::/64", NULL};
	static const char *const split[] = {"2001:db8::/64",
					    "2001:db8:0:2::/64", NULL};
	struct bw_cidr_set *set;

	set = set_of(adjacent);
	ck_assert_uint_eq(bw_cidr_count(set), 1);
	ck_assert(has(set, "2001:db8:0:3:ffff:ffff:ffff:ffff"));
	ck_assert(!has(set, "2001:db8:0:4::"));
	bw_cidr_destroy(&set);

	set = set_of(top);
	ck_assert_uint_eq(bw_cidr_count(set), 1);
	ck_assert(has(set, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(set, "ffff:ffff:ffff:fffe:ffff:ffff:ffff:ffff"));
	bw_cidr_destroy(&set);

	set = set_of(split);
	ck_assert_uint_eq(bw_cidr_count(set), 2);
	ck_assert(!has(set, "2001:db8:0:1::"));
	bw_cidr_destroy(&set);
}
END_TEST

START_TEST(test_mapped)
{
	static const char *const v4[] = {"10.0.0.0/8", NULL};
	static const char *const mapped[] = {"::ffff:192.0.2.0/120", NULL};
	static const char *const any6[] = {"::/0", NULL};
	struct bw_cidr_set *set;
	struct bw_addr raw;

	set = set_of(v4);
	/* Parsed mapped addresses are normalised to IPv4... */
	raw = addr("::ffff:10.1.2.3");
	ck_assert_int_eq(raw.family, 4);
	ck_assert(bw_cidr_contains(set, &raw));
	ck_assert(!has(set, "::ffff:11.1.2.3"));
	/* ...and so are raw IPv6 ones built elsewhere (a packet decoder). */
	memset(&raw, 0, sizeof(raw));
	raw.family = 6;
	raw.bytes[10] = raw.bytes[11] = 0xff;
	raw.bytes[12] = 10;
	raw.bytes[15] = 9;
	ck_assert(bw_cidr_contains(set, &raw));
	raw.bytes[12] = 11;
	ck_assert(!bw_cidr_contains(set, &raw));
	/* ::a.b.c.d (IPv4-compatible, deprecated) is not mapped. */
	ck_assert(!has(set, "::10.1.2.3"));
	bw_cidr_destroy(&set);

	/* A network written in mapped form is the IPv4 network. */
	set = set_of(mapped);
	ck_assert_uint_eq(bw_cidr_count(set), 1);
	ck_assert(has(set, "192.0.2.5"));
	ck_assert(has(set, "::ffff:192.0.2.255"));
	ck_assert(!has(set, "192.0.3.0"));
	bw_cidr_destroy(&set);

	/* ::/0 holds every IPv6 address, the mapped IPv4 ones included. */
	set = set_of(any6);
	ck_assert(has(set, "2001:db8::1"));
	ck_assert(has(set, "1.2.3.4"));
	bw_cidr_destroy(&set);
}
END_TEST

/* bw_cidr_add(text) must fail with a message containing want. */
static void add_fails(const char *text, const char *want)
{
	struct bw_cidr_set *set = bw_cidr_new();
	struct bw_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_msg(bw_cidr_add(set, text, &err) == -1, "accepted \"%s\"",
		      text ? text : "(null)");
	ck_assert_msg(strstr(err.msg, want) != NULL,
		      "\"%s\": message \"%s\" lacks \"%s\"", text, err.msg,
		      want);
	bw_cidr_destroy(&set);
}

START_TEST(test_errors)
{
	struct bw_cidr_set *set;
	struct bw_error err;
	char longtext[200];

	add_fails("10.0.0.1/8", "host bits set below the /8 prefix");
	add_fails("10.0.0.1/8", "10.0.0.0/8");
	add_fails("192.168.1.1/24", "192.168.1.0/24");
	add_fails("2001:db8::1/32", "2001:db8::/32");
	add_fails("10.0.0.0/33", "out of range for IPv4 (0-32)");
	add_fails("2001:db8::/129", "out of range for IPv6 (0-128)");
	add_fails("10.0.0.0/999", "out of range");
	add_fails("10.0.0.0/1000", "must be a number");
	add_fails("garbage", "not an IPv4 or IPv6 address");
	add_fails("", "empty network");
	add_fails(NULL, "empty network");
	add_fails("/8", "missing address");
	add_fails("10.0.0.0/", "must be a number");
	add_fails("10.0.0.0/abc", "must be a number");
	add_fails("10.0.0.0/ 8", "must be a number");
	add_fails("10.0.0.0/-1", "must be a number");
	add_fails("10.0.0.0/+8", "must be a number");
	add_fails("10.0.0.0/8 ", "must be a number");
	add_fails("10.0.0.0/8/9", "must be a number");
	add_fails(" 10.0.0.0/8", "not an IPv4 or IPv6 address");
	add_fails("1.2.3", "not an IPv4 or IPv6 address");
	add_fails("256.0.0.1", "not an IPv4 or IPv6 address");
	add_fails("1.2.3.4.5", "not an IPv4 or IPv6 address");
	add_fails("2001:db8:::1", "not an IPv4 or IPv6 address");
	add_fails("fe80::1%eth0", "not an IPv4 or IPv6 address");
	memset(longtext, '1', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	add_fails(longtext, "too long");

	set = bw_cidr_new();
	ck_assert_int_eq(bw_cidr_add(set, "10.0.0.0/8", &err), 0);
	bw_cidr_freeze(set);
	bw_cidr_freeze(set); /* idempotent */
	ck_assert_int_eq(bw_cidr_add(set, "11.0.0.0/8", &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "frozen"));
	ck_assert(!has(set, "11.0.0.1"));
	ck_assert(has(set, "10.0.0.1"));
	bw_cidr_destroy(&set);
}
END_TEST

START_TEST(test_unfrozen_and_absent)
{
	struct bw_cidr_set *set = bw_cidr_new();
	struct bw_addr none = {0};
	struct bw_error err;

	ck_assert(!has(set, "10.0.0.1"));
	ck_assert_int_eq(bw_cidr_add(set, "10.0.0.0/8", &err), 0);
	ck_assert_int_eq(bw_cidr_add(set, "2001:db8::/32", &err), 0);
	/* Look-ups work before freezing too (a linear scan). */
	ck_assert(has(set, "10.0.0.1"));
	ck_assert(has(set, "2001:db8::5"));
	ck_assert(!has(set, "2001:db9::5"));
	ck_assert(!bw_cidr_contains(set, &none));
	bw_cidr_freeze(set);
	ck_assert(!bw_cidr_contains(set, &none));
	ck_assert(!bw_cidr_contains(set, NULL));
	bw_cidr_destroy(&set);
}
END_TEST

/* Parse exactly len bytes from a heap copy with nothing after it, so that
 * ASan catches any read past len. */
static int parse_exact(const char *text, size_t len, struct bw_addr *out)
{
	char *p = malloc(len ? len : 1);
	int rc;

	memcpy(p, text, len);
	rc = bw_addr_parse(p, len, out);
	free(p);
	return rc;
}

START_TEST(test_addr_parse)
{
	struct bw_addr a;
	char buf[64];

	ck_assert_int_eq(parse_exact("192.0.2.1", 9, &a), 0);
	ck_assert_int_eq(a.family, 4);
	ck_assert_int_eq(a.bytes[0], 192);
	ck_assert_int_eq(a.bytes[3], 1);
	/* Only len bytes count. */
	ck_assert_int_eq(parse_exact("192.0.2.12", 9, &a), 0);
	ck_assert_int_eq(a.bytes[3], 1);
	ck_assert_int_eq(parse_exact("192.0.2.1", 7, &a), -1);
	ck_assert_int_eq(a.family, 0);
	ck_assert_int_eq(parse_exact("2001:db8::1", 11, &a), 0);
	ck_assert_int_eq(a.family, 6);
	ck_assert_int_eq(a.bytes[0], 0x20);
	ck_assert_int_eq(a.bytes[15], 1);
	ck_assert_int_eq(parse_exact("::ffff:198.51.100.7", 19, &a), 0);
	ck_assert_int_eq(a.family, 4);
	ck_assert_str_eq(bw_addr_str(&a, buf, sizeof(buf)), "198.51.100.7");
	/* The longest textual IPv6 address, 45 bytes, and one more. */
	ck_assert_int_eq(
		parse_exact("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
			    45, &a),
		0);
	ck_assert_int_eq(
		parse_exact("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555",
			    46, &a),
		-1);
	ck_assert_int_eq(parse_exact("", 0, &a), -1);
	ck_assert_int_eq(parse_exact("1.2.3.4\0junk", 12, &a), -1);
	ck_assert_int_eq(parse_exact("1.2.3.4 ", 8, &a), -1);
	ck_assert_int_eq(parse_exact("01.2.3.4", 8, &a), -1);
	ck_assert_int_eq(parse_exact("1.2.3.256", 9, &a), -1);
	ck_assert_int_eq(parse_exact("[::1]", 5, &a), -1);
	ck_assert_int_eq(parse_exact("-", 1, &a), -1);
}
END_TEST

START_TEST(test_addr_str_equal)
{
	struct bw_addr a, b, none = {0};
	char buf[64];
	char tiny[4];

	a = addr("2001:0db8:0:0:0:0:0:0001");
	ck_assert_str_eq(bw_addr_str(&a, buf, sizeof(buf)), "2001:db8::1");
	a = addr("10.0.0.1");
	ck_assert_str_eq(bw_addr_str(&a, buf, sizeof(buf)), "10.0.0.1");
	ck_assert_str_eq(bw_addr_str(&none, buf, sizeof(buf)), "");
	/* Too small: empty, not truncated garbage. */
	ck_assert_str_eq(bw_addr_str(&a, tiny, sizeof(tiny)), "");

	a = addr("10.0.0.1");
	b = addr("::ffff:10.0.0.1");
	ck_assert(bw_addr_equal(&a, &b));
	b = addr("10.0.0.2");
	ck_assert(!bw_addr_equal(&a, &b));
	b = addr("::a00:1"); /* same low bytes, IPv6 */
	ck_assert(!bw_addr_equal(&a, &b));
	ck_assert(!bw_addr_equal(&a, &none));
	ck_assert(bw_addr_equal(&none, &none));
	a = addr("2001:db8::1");
	b = addr("2001:db8:0::1");
	ck_assert(bw_addr_equal(&a, &b));
	b = addr("2001:db8::2");
	ck_assert(!bw_addr_equal(&a, &b));
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("cidr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_v4);
	tcase_add_test(tc, test_v4_merge);
	tcase_add_test(tc, test_v6);
	tcase_add_test(tc, test_v6_merge);
	tcase_add_test(tc, test_mapped);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_unfrozen_and_absent);
	tcase_add_test(tc, test_addr_parse);
	tcase_add_test(tc, test_addr_str_equal);
	suite_add_tcase(s, tc);
	return s;
}
