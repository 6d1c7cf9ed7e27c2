/*
 * test_sqlscan.c - customer tables and ids found in SQL text.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../rules/sqlscan.h"
#include "check_main.h"

static const struct sqlscan_table tabs[] = {
    {"contacts", "customer_id"},
    {"messages", "customer_id"},
    {"customers", "id"},
    {"audit_log", NULL},
};
#define NT          (sizeof(tabs) / sizeof(tabs[0]))
#define T_CONTACTS  1u
#define T_MESSAGES  2u
#define T_CUSTOMERS 4u
#define T_AUDIT     8u

struct res {
	uint64_t found;
	bool unknown;
	char vals[16][64];
	size_t n;
};

static void scan(const char *sql, struct res *out)
{
	struct bw_str vals[16];
	char arena[4096];
	struct sqlscan_out o;

	memset(&o, 0, sizeof(o));
	o.vals = vals;
	o.max_vals = 16;
	o.arena = arena;
	o.arena_cap = sizeof(arena);
	sqlscan(sql, strlen(sql), tabs, NT, 64, &o);
	memset(out, 0, sizeof(*out));
	out->found = o.found;
	out->unknown = o.unknown;
	out->n = o.n_vals;
	for (size_t i = 0; i < o.n_vals; i++)
		snprintf(out->vals[i], sizeof(out->vals[i]), "%.*s",
		         (int)o.vals[i].len, o.vals[i].p);
}

static const struct {
	const char *sql;
	uint64_t found;
	bool unknown;
	const char *vals[4]; /* NULL-terminated */
} cases[] = {
    {"SELECT * FROM contacts WHERE customer_id = 'c1'",
     T_CONTACTS,
     false,
     {"c1"}},
    {"select * from CONTACTS where CUSTOMER_ID='c1' limit 1",
     T_CONTACTS,
     false,
     {"c1"}},
    {"SELECT * FROM contacts WHERE 'c9' = customer_id",
     T_CONTACTS,
     false,
     {"c9"}},
    {"SELECT * FROM public.contacts WHERE customer_id IN ('a', 'b', 42)",
     T_CONTACTS,
     false,
     {"a", "b", "42"}},
    {"SELECT * FROM \"contacts\" WHERE \"customer_id\" = 'o''brien'",
     T_CONTACTS,
     false,
     {"o'brien"}},
    {"SELECT * FROM contacts WHERE customer_id = E'a\\'b'",
     T_CONTACTS,
     false,
     {"a'b"}},
    {"SELECT * FROM contacts WHERE customer_id = 'c1'::text",
     T_CONTACTS,
     false,
     {"c1"}},
    {"SELECT * FROM contacts c JOIN messages m ON c.id = m.contact_id "
     "WHERE c.customer_id = 'a' AND m.customer_id = 'b'",
     T_CONTACTS | T_MESSAGES,
     false,
     {"a", "b"}},
    {"SELECT * FROM contacts AS c, messages m WHERE c.customer_id = 'a'",
     T_CONTACTS | T_MESSAGES,
     true,
     {"a"}},
    {"SELECT * FROM contacts WHERE customer_id = $1", T_CONTACTS, true, {NULL}},
    {"SELECT * FROM contacts WHERE customer_id <> 'a'",
     T_CONTACTS,
     true,
     {NULL}},
    {"SELECT * FROM contacts WHERE customer_id LIKE 'a%'",
     T_CONTACTS,
     true,
     {NULL}},
    {"SELECT * FROM contacts WHERE customer_id = 'a' OR 1=1",
     T_CONTACTS,
     true,
     {"a"}},
    {"SELECT * FROM contacts -- WHERE customer_id = 'x'\n",
     T_CONTACTS,
     true,
     {NULL}},
    {"SELECT * FROM contacts /* WHERE customer_id = 'y' */ LIMIT 3",
     T_CONTACTS,
     true,
     {NULL}},
    {"SELECT 'FROM contacts', $$ FROM messages $$", 0, false, {NULL}},
    {"INSERT INTO contacts (name, customer_id) VALUES ('x', 'c1'), "
     "(lower('Y'), 'c2')",
     T_CONTACTS,
     false,
     {"c1", "c2"}},
    {"INSERT INTO contacts VALUES ('x', 'c1')", T_CONTACTS, true, {NULL}},
    {"INSERT INTO contacts (customer_id) SELECT id FROM customers",
     T_CONTACTS | T_CUSTOMERS,
     true,
     {NULL}},
    {"UPDATE contacts SET email = 'x' WHERE customer_id = 'c3'",
     T_CONTACTS,
     false,
     {"c3"}},
    {"DELETE FROM messages WHERE customer_id IN (1, 2)",
     T_MESSAGES,
     false,
     {"1", "2"}},
    {"COPY contacts TO STDOUT", T_CONTACTS, true, {NULL}},
    {"TRUNCATE TABLE audit_log", T_AUDIT, true, {NULL}},
    {"SELECT * FROM contacts WHERE customer_id IN (SELECT id FROM "
     "customers)",
     T_CONTACTS | T_CUSTOMERS,
     true,
     {NULL}},
    {"SELECT * FROM customers WHERE id = 7 AND plan = 'pro'",
     T_CUSTOMERS,
     false,
     {"7"}},
    {"SELECT * FROM orders WHERE customer_id = 'a'", 0, false, {NULL}},
    {"SELECT customer_id, count(*) FROM contacts GROUP BY customer_id",
     T_CONTACTS,
     true,
     {NULL}},
    {"SELECT * FROM generate_series(1, 3)", 0, false, {NULL}},
    {"SELECT * FROM contacts WHERE customer_id = 'unterminated",
     T_CONTACTS,
     false,
     {"unterminated"}},
};

START_TEST(test_cases)
{
	struct res r;
	size_t n = 0;

	scan(cases[_i].sql, &r);
	ck_assert_msg(r.found == cases[_i].found, "%s: found %llx",
	              cases[_i].sql, (unsigned long long)r.found);
	ck_assert_msg(r.unknown == cases[_i].unknown, "%s: unknown %d",
	              cases[_i].sql, r.unknown);
	while (n < 4 && cases[_i].vals[n] != NULL)
		n++;
	ck_assert_msg(r.n == n, "%s: %zu values", cases[_i].sql, r.n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(r.vals[i], cases[_i].vals[i]);
}
END_TEST

START_TEST(test_too_many_values)
{
	char sql[4096];
	size_t used;
	struct res r;

	used = (size_t)snprintf(
	    sql, sizeof(sql), "SELECT * FROM contacts WHERE customer_id IN (");
	for (int i = 0; i < 40; i++)
		used += (size_t)snprintf(sql + used, sizeof(sql) - used,
		                         "%s'c%d'", i ? "," : "", i);
	snprintf(sql + used, sizeof(sql) - used, ")");
	scan(sql, &r);
	ck_assert_uint_eq(r.found, T_CONTACTS);
	ck_assert(r.unknown); /* more than we keep */
	ck_assert_uint_le(r.n, 16);
}
END_TEST

START_TEST(test_hostile_bytes)
{
	/* Random bytes and truncated statements never read past the end:
	 * ASan checks this run. */
	static const char *const frags[] = {
	    "'",    "\"",     "$$",    "$a$",      "--",          "/*",
	    "*/",   "E'",     "\\",    "(",        ")",           ",",
	    "=",    "IN",     "FROM ", "contacts", "customer_id", " ",
	    "INTO", "VALUES", "::",    "$1",       ".",           "\n"};
	uint32_t x = 12345;
	char buf[256];
	struct res r;

	for (int it = 0; it < 20000; it++) {
		size_t len = 0, want;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		want = x % 40;
		for (size_t k = 0; k < want; k++) {
			const char *f;

			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			f = frags[x % (sizeof(frags) / sizeof(frags[0]))];
			if (len + strlen(f) >= sizeof(buf))
				break;
			memcpy(buf + len, f, strlen(f));
			len += strlen(f);
		}
		/* Exactly len bytes, no NUL after: copy to a tight heap
		 * block. */
		{
			char *p = malloc(len ? len : 1);
			struct bw_str vals[16];
			char arena[256];
			struct sqlscan_out o;

			memcpy(p, buf, len);
			memset(&o, 0, sizeof(o));
			o.vals = vals;
			o.max_vals = 16;
			o.arena = arena;
			o.arena_cap = len;
			sqlscan(p, len, tabs, NT, 64, &o);
			ck_assert_uint_le(o.n_vals, 16);
			ck_assert_uint_le(o.arena_len, len);
			free(p);
		}
	}
	scan("", &r);
	ck_assert_uint_eq(r.found, 0);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("sqlscan");
	TCase *tc = tcase_create("sqlscan");

	tcase_add_loop_test(tc, test_cases, 0,
	                    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_too_many_values);
	tcase_add_test(tc, test_hostile_bytes);
	suite_add_tcase(s, tc);
	return s;
}
