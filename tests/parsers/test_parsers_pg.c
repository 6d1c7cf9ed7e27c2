/*
 * test_parsers_pg.c - the PostgreSQL parser (prefixes, messages, held
 * multi-line statements, syslog) and the SQL verb/table reader.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/parse_util.h"
#include "../../common/buf.h"
#include "test_helpers.h"

/* Parse with a ref, as the pipeline does: ref set before the call. */
static int pg_line(struct parser *p, const char *line, uint64_t number,
                   struct bw_event *ev, struct bw_error *err)
{
	bw_event_clear(ev);
	ev->ref.file = "pg.log";
	ev->ref.number = number;
	ev->ref.offset = number * 100;
	memset(err, 0, sizeof(*err));
	return parser_parse(p, line, strlen(line), ev, err);
}

START_TEST(test_pg_single_statement)
{
	struct parser *p =
	    th_parser("postgres", "input = { timezone = \"UTC\"; };");
	struct bw_event ev;
	struct bw_error err;

	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:11.122 UTC [12389] LOG:  "
	            "statement: SELECT * FROM users WHERE last_login > "
	            "NOW() - INTERVAL '7 days';",
	            1, &ev, &err),
	    0);
	/* held until the next line */
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:12.212 UTC [12389] ERROR:  "
	            "relation \"nonexistent_table\" does not exist",
	            2, &ev, &err),
	    1);
	ck_assert_int_eq(ev.kind, BW_KIND_SQL);
	ck_assert_int_eq(ev.source, BW_SRC_POSTGRES);
	ck_assert_int_eq(ev.ts_us, 1755074771122000LL);
	ck_assert_str_eq(th_s(ev.action), "SELECT");
	ck_assert_str_eq(th_s(ev.resource), "users");
	ck_assert_str_eq(th_s(ev.text),
	                 "SELECT * FROM users WHERE last_login > "
	                 "NOW() - INTERVAL '7 days';");
	ck_assert_uint_eq(ev.ref.number, 1);
	ck_assert_uint_eq(ev.ref.offset, 100);
	ck_assert_str_eq(ev.ref.file, "pg.log");
	ck_assert(strncmp(ev.raw.p, "2025-08-13 08:46:11.122", 23) == 0);
	ck_assert_int_eq(ev.duration_us, -1);
	ck_assert_int_eq(parser_flush(p, &ev), 0);
	ck_assert_uint_eq(parser_get_stats(p)->events, 1);
	ck_assert_uint_eq(parser_get_stats(p)->ignored, 1);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_pg_multiline)
{
	struct parser *p = th_parser("postgres", "input = { prefix = \"%m [%p] "
	                                         "%q%u@%d \"; };");
	struct bw_event ev;
	struct bw_error err;

	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:11.122 UTC [7] app@maindb LOG:  "
	            "execute <unnamed>: SELECT c.name, c.email",
	            10, &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p, "\t  FROM public.contacts c", 11, &ev, &err), 0);
	ck_assert_int_eq(
	    pg_line(p, "\t  JOIN \"Customers\" cu ON cu.id = c.customer_id", 12,
	            &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p, "\t WHERE c.customer_id = 'c42'", 13, &ev, &err), 0);
	/* a non-session process (no user@db after %q): of no interest,
	 * but it ends the statement */
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:12.000 UTC [3] LOG:  checkpoint "
	            "starting: time",
	            14, &ev, &err),
	    1);
	ck_assert_str_eq(
	    th_s(ev.text),
	    "SELECT c.name, c.email   FROM public.contacts c   JOIN "
	    "\"Customers\" cu ON cu.id = c.customer_id  WHERE "
	    "c.customer_id = 'c42'");
	ck_assert_str_eq(th_s(ev.resource), "public.contacts,Customers");
	ck_assert_str_eq(th_s(ev.action), "SELECT");
	ck_assert_str_eq(th_s(ev.principal), "app");
	ck_assert_str_eq(th_s(ev.database), "maindb");
	ck_assert_uint_eq(ev.ref.number, 10);
	ck_assert_uint_eq(ev.ref.offset, 1000);
	ck_assert_ptr_nonnull(memchr(ev.raw.p, '\n', ev.raw.len));
	ck_assert(strstr(th_s(ev.raw), "\n\t WHERE c.customer_id") != NULL);
	ck_assert_int_eq(parser_flush(p, &ev), 0);

	/* two statements back to back, then the end of input */
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:13.000 UTC [7] app@maindb LOG:  "
	            "statement: DELETE FROM messages",
	            20, &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p, "\tWHERE customer_id = 'c1'", 21, &ev, &err), 0);
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:14.000 UTC [7] app@maindb LOG:  "
	            "statement: UPDATE accounts SET x = 1",
	            22, &ev, &err),
	    1);
	ck_assert_str_eq(th_s(ev.action), "DELETE");
	ck_assert_str_eq(th_s(ev.resource), "messages");
	ck_assert_str_eq(th_s(ev.text),
	                 "DELETE FROM messages WHERE customer_id = 'c1'");
	ck_assert_uint_eq(ev.ref.number, 20);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_str_eq(th_s(ev.action), "UPDATE");
	ck_assert_str_eq(th_s(ev.resource), "accounts");
	ck_assert_uint_eq(ev.ref.number, 22);
	ck_assert_int_eq(parser_flush(p, &ev), 0);
	/* a stray continuation line */
	ck_assert_int_eq(pg_line(p, "\tFROM x", 30, &ev, &err), 0);
	ck_assert_int_eq(parser_flush(p, &ev), 0);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_pg_reject_while_holding)
{
	struct parser *p = th_parser("postgres", NULL);
	struct bw_event ev;
	struct bw_error err;

	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:11.122 UTC [1] LOG:  statement: "
	            "SELECT 1 FROM a",
	            1, &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p, "garbage that is no postgres line", 2, &ev, &err), -1);
	ck_assert_msg(strstr(err.msg, "log_line_prefix") != NULL, "%s",
	              err.msg);
	/* the held statement is closed: continuations no longer join it */
	ck_assert_int_eq(pg_line(p, "\tFROM b", 3, &ev, &err), 0);
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 08:46:11.122 UTC [1] LOG:  statement: "
	            "SELECT 2",
	            4, &ev, &err),
	    1);
	ck_assert_str_eq(th_s(ev.text), "SELECT 1 FROM a");
	ck_assert_uint_eq(ev.ref.number, 1);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_str_eq(th_s(ev.text), "SELECT 2");
	parser_destroy(&p);
}
END_TEST

START_TEST(test_pg_connections_and_auth)
{
	struct parser *p = th_parser(
	    "postgres", "input = { prefix = \"%m [%p] %q%u@%d %r \"; };");
	struct bw_event ev;
	struct bw_error err;

	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 01:46:10.567 PDT [12389] [unknown]@"
	            "[unknown] 192.168.1.100(51762) LOG:  connection "
	            "received: host=192.168.1.100 port=51762",
	            1, &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 01:46:10.568 PDT [12389] appuser@maindb "
	            "192.168.1.100(51762) LOG:  connection authorized: "
	            "user=appuser database=maindb application_name=psql",
	            2, &ev, &err),
	    1);
	ck_assert_int_eq(ev.kind, BW_KIND_AUTH);
	ck_assert_str_eq(th_s(ev.action), "connect");
	ck_assert_str_eq(th_s(ev.detail), "received");
	ck_assert_uint_eq(ev.outcome.len, 0);
	ck_assert_uint_eq(ev.principal.len, 0);
	ck_assert_str_eq(th_ip(&ev), "192.168.1.100");
	ck_assert_int_eq(ev.src_port, 51762);
	/* PDT without a configured zone is read as UTC (no zone: UTC) */
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 01:46:11.000 PDT [12389] appuser@maindb "
	            "192.168.1.100(51762) FATAL:  password authentication "
	            "failed for user \"appuser\"",
	            3, &ev, &err),
	    1);
	ck_assert_str_eq(th_s(ev.outcome), "success");
	ck_assert_str_eq(th_s(ev.principal), "appuser");
	ck_assert_str_eq(th_s(ev.database), "maindb");
	ck_assert_str_eq(th_ip(&ev), "192.168.1.100");
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 01:46:12.000 PDT [12390] [unknown]@"
	            "[unknown] 203.0.113.5(40000) FATAL:  no pg_hba.conf "
	            "entry for host \"203.0.113.5\", user \"evil\", "
	            "database \"a\"b\", no encryption",
	            4, &ev, &err),
	    1);
	ck_assert_str_eq(th_s(ev.outcome), "failure");
	ck_assert_str_eq(th_s(ev.action), "password");
	ck_assert_str_eq(th_s(ev.principal), "appuser");
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_str_eq(th_s(ev.detail), "no_hba");
	ck_assert_str_eq(th_s(ev.principal), "evil");
	ck_assert_str_eq(th_s(ev.database), "a\"b");
	ck_assert_str_eq(th_ip(&ev), "203.0.113.5");
	ck_assert_int_eq(ev.src_port, 40000);
	ck_assert_int_eq(
	    pg_line(p,
	            "2025-08-13 01:46:13.000 PDT [12391] x@y [local] "
	            "FATAL:  role \"x\" does not exist",
	            5, &ev, &err),
	    0);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_str_eq(th_s(ev.detail), "no_role");
	ck_assert_str_eq(th_s(ev.principal), "x");
	ck_assert_int_eq(ev.src_ip.family, 0);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_pg_pgbadger_prefix_and_injection)
{
	struct parser *p =
	    th_parser("postgres", "input = { prefix = \"%t [%p]: [%l-1] "
	                          "user=%u,db=%d,app=%a,client=%h \"; };");
	struct bw_event ev;
	struct bw_error err;

	ck_assert_int_eq(
	    pg_line(p,
	            "2017-09-06 08:41:41 UTC [36]: [121-1] user=postgres,"
	            "db=postgres,app=pgbench,client=172.23.0.1 LOG:  "
	            "duration: 2.280 ms  statement: INSERT INTO "
	            "pgbench_history (tid, bid) VALUES (2, 1);",
	            1, &ev, &err),
	    0);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_int_eq(ev.ts_us, 1504687301LL * US);
	ck_assert_int_eq(ev.duration_us, 2280);
	ck_assert_str_eq(th_s(ev.principal), "postgres");
	ck_assert_str_eq(th_s(ev.database), "postgres");
	ck_assert_str_eq(th_ip(&ev), "172.23.0.1");
	ck_assert_str_eq(th_s(ev.action), "INSERT");
	ck_assert_str_eq(th_s(ev.resource), "pgbench_history");
	/* application_name is the client's: it cannot move client= */
	ck_assert_int_eq(
	    pg_line(p,
	            "2017-09-06 08:41:42 UTC [37]: [5-1] user=app,db=d,"
	            "app=x,client=6.6.6.6 ,client=172.23.0.9 LOG:  "
	            "statement: SELECT 1",
	            2, &ev, &err),
	    0);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_str_eq(th_ip(&ev), "172.23.0.9");
	/* empty values of a background process */
	ck_assert_int_eq(
	    pg_line(p,
	            "2017-09-06 08:40:10 UTC [20]: [1-1] user=,db=,app=,"
	            "client= LOG:  database system was shut down at "
	            "2017-09-06 08:40:08 UTC",
	            3, &ev, &err),
	    0);
	ck_assert_uint_eq(parser_get_stats(p)->ignored, 1);
	/* bare durations, parse and bind steps are no events */
	ck_assert_int_eq(
	    pg_line(p,
	            "2017-09-06 08:41:41 UTC [36]: [9-1] user=a,db=b,"
	            "app=c,client=1.2.3.4 LOG:  duration: 0.010 ms  parse "
	            "<unnamed>: SELECT 1",
	            4, &ev, &err),
	    0);
	ck_assert_int_eq(parser_flush(p, &ev), 0);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_pg_syslog)
{
	struct parser *p = th_parser(
	    "postgres", "input = { syslog = true; year = 2019; "
	                "timezone = \"Europe/Paris\";\n"
	                "prefix = \"db=%d,user=%u,app=%a,client=%h \"; };");
	struct bw_event ev;
	struct bw_error err;

	ck_assert_int_eq(
	    pg_line(p,
	            "Feb 11 13:15:40 test-pc postgres[10819]: [7-1] "
	            "db=postgres,user=postgres,app=psql,client=[local] "
	            "LOG:  duration: 13.997 ms  statement: SELECT "
	            "d.datname as \"Name\",",
	            1, &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p,
	            "Feb 11 13:15:40 test-pc postgres[10819]: [7-2] "
	            "#011       pg_catalog.pg_get_userbyid(d.datdba) as "
	            "\"Owner\"",
	            2, &ev, &err),
	    0);
	/* another program's line between parts */
	ck_assert_int_eq(
	    pg_line(p, "Feb 11 13:15:40 test-pc cron[1]: hello", 3, &ev, &err),
	    0);
	/* another process's part 2 does not join */
	ck_assert_int_eq(pg_line(p,
	                         "Feb 11 13:15:40 test-pc postgres[999]: [7-2] "
	                         "#011FROM evil",
	                         4, &ev, &err),
	                 0);
	ck_assert_int_eq(
	    pg_line(p,
	            "Feb 11 13:15:40 test-pc postgres[10819]: [7-3] "
	            "#011FROM pg_catalog.pg_database d",
	            5, &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p,
	            "Feb 11 13:15:40 test-pc postgres[10819]: [7-4] "
	            "#011ORDER BY 1;",
	            6, &ev, &err),
	    0);
	ck_assert_int_eq(
	    pg_line(p,
	            "Feb 11 13:15:40 test-pc postgres[10819]: [8-1] "
	            "db=postgres,user=postgres,app=psql,client=[local] "
	            "LOG:  disconnection: session time: 0:00:00.026",
	            7, &ev, &err),
	    1);
	ck_assert_int_eq(ev.ts_us, 1549887340LL * US);
	ck_assert_str_eq(th_s(ev.host), "test-pc");
	ck_assert_str_eq(th_s(ev.resource), "pg_catalog.pg_database");
	ck_assert_str_eq(th_s(ev.text),
	                 "SELECT d.datname as \"Name\",        "
	                 "pg_catalog.pg_get_userbyid(d.datdba) as "
	                 "\"Owner\" FROM pg_catalog.pg_database d "
	                 "ORDER BY 1;");
	ck_assert_int_eq(ev.duration_us, 13997);
	ck_assert_int_eq(ev.src_ip.family, 0);
	ck_assert_uint_eq(ev.ref.number, 1);
	parser_destroy(&p);
}
END_TEST

START_TEST(test_pg_config)
{
	const char *e;

	e = th_parser_error("postgres", "input = {\n prefix = \"%m %Z \"; };");
	ck_assert_msg(e && strstr(e, "line 2") && strstr(e, "%Z"), "%s", e);
	e = th_parser_error("postgres", "input = { prefix = \"%m %u%d \"; };");
	ck_assert_msg(e && strstr(e, "%u"), "%s", e);
	e = th_parser_error("postgres", "input = { prefix = \"[%p] \"; };");
	ck_assert_msg(e && strstr(e, "time"), "%s", e);
	e = th_parser_error("postgres", "input = { prefix = \"%m %\"; };");
	ck_assert_ptr_nonnull(e);
	e = th_parser_error("postgres", "input = { syslog = \"yes\"; };");
	ck_assert_ptr_nonnull(e);
	/* every documented escape compiles */
	ck_assert_ptr_null(th_parser_error(
	    "postgres", "input = { prefix = \"%m|%t|%n|%p|%u|%d|%h|%r|%a|%c|%l|"
	                "%s|%v|%x|%e|%i|%b|%%|%Q|%P|%q%-10u \"; };"));
}
END_TEST

START_TEST(test_pg_every_escape)
{
	struct parser *p = th_parser(
	    "postgres", "input = { prefix = \"%m %n %p %l %c %v %x %e %r %s "
	                "%Q %P <%a> <%b> <%i> %-8u|%d%% \"; };");
	struct bw_event ev;
	struct bw_error err;

	ck_assert_int_eq(
	    pg_line(p,
	            "2026-11-23 08:15:00.000 UTC 1795421700.000 4242 7 "
	            "6741c2f4.1092 3/77 0 00000 10.1.2.3(5432) "
	            "2026-11-23 08:00:00 UTC -12345 0 <psql app> "
	            "<client backend> <idle> bob     |crm% LOG:  statement: "
	            "TRUNCATE TABLE audit",
	            1, &ev, &err),
	    0);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_int_eq(ev.ts_us, 1795421700LL * US);
	ck_assert_str_eq(th_s(ev.principal), "bob");
	ck_assert_str_eq(th_s(ev.database), "crm");
	ck_assert_str_eq(th_ip(&ev), "10.1.2.3");
	ck_assert_int_eq(ev.src_port, 5432);
	ck_assert_str_eq(th_s(ev.action), "TRUNCATE");
	ck_assert_str_eq(th_s(ev.resource), "audit");
	parser_destroy(&p);
}
END_TEST

START_TEST(test_pg_hostile)
{
	struct parser *p = th_parser("postgres", NULL);
	size_t n = 100 * 1024, i;
	char *big = malloc(n + 100);
	struct bw_event ev;
	struct bw_error err;
	int k;

	/* a 100 KB statement, then 100 KB continuations past the ceiling */
	k = snprintf(big, 100,
	             "2025-08-13 08:46:11.122 UTC [1] LOG:  statement: ");
	memset(big + k, 'x', n);
	bw_event_clear(&ev);
	ck_assert_int_eq(parser_parse(p, big, k + n, &ev, &err), 0);
	big[0] = '\t';
	for (i = 0; i < 12; i++)
		ck_assert_int_eq(parser_parse(p, big, n, &ev, &err), 0);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_uint_le(ev.text.len, 1024 * 1024);
	ck_assert_str_eq(th_s(ev.detail), "truncated");
	/* NUL and invalid UTF-8 in a statement */
	memcpy(big,
	       "2025-08-13 08:46:11.122 UTC [1] LOG:  statement: SELECT \0\xff "
	       "FROM t\xc3",
	       64);
	ck_assert_int_eq(parser_parse(p, big, 64, &ev, &err), 0);
	ck_assert_int_eq(parser_flush(p, &ev), 1);
	ck_assert_str_eq(th_s(ev.action), "SELECT");
	/* a prefix that needs backtracking over many separators */
	p = (parser_destroy(&p),
	     th_parser("postgres", "input = { prefix = "
	                           "\"%m %u,%d,%a,%h \"; };"));
	k = snprintf(big, 100, "2025-08-13 08:46:11.122 UTC ");
	for (i = 0; i < 50000; i++)
		big[k + i] = ',';
	memcpy(big + k + 50000, " LOG:  statement: SELECT 1", 26);
	ck_assert_int_eq(parser_parse(p, big, k + 50026, &ev, &err), -1);
	free(big);
	parser_destroy(&p);
}
END_TEST

/*
 * SQL verbs and tables.
 */

static void sql_expect(const char *sql, const char *verb, const char *tables)
{
	struct bw_buf b;
	struct bw_str a, r;

	bw_buf_init(&b, 8192);
	parse_sql_analyze(sql, strlen(sql), &b, &a, &r);
	ck_assert_msg(strcmp(th_s(a), verb) == 0,
	              "%s: verb \"%s\", wanted \"%s\"", sql, th_s(a), verb);
	ck_assert_msg(strcmp(th_s(r), tables) == 0,
	              "%s: tables \"%s\", wanted \"%s\"", sql, th_s(r), tables);
	bw_buf_free(&b);
}

START_TEST(test_sql_tables)
{
	sql_expect("select * from Users u, public.Orders o where u.id = o.uid",
	           "SELECT", "users,public.orders");
	sql_expect(
	    "SELECT a FROM t1 JOIN t2 ON t1.x = t2.x LEFT JOIN t3 USING (y)",
	    "SELECT", "t1,t2,t3");
	sql_expect(
	    "INSERT INTO contacts (customer_id, email) VALUES ('c1', 'a@b')",
	    "INSERT", "contacts");
	sql_expect("UPDATE ONLY accounts SET x = 1 WHERE id = 2", "UPDATE",
	           "accounts");
	sql_expect("DELETE FROM messages WHERE customer_id IN (SELECT id FROM "
	           "customers WHERE closed)",
	           "DELETE", "messages,customers");
	sql_expect("COPY contacts (a, b) TO STDOUT", "COPY", "contacts");
	sql_expect("copy t from stdin", "COPY", "t");
	sql_expect("COPY (SELECT * FROM messages) TO '/tmp/x'", "COPY",
	           "messages");
	sql_expect("TRUNCATE audit, other", "TRUNCATE", "audit,other");
	sql_expect("DROP TABLE IF EXISTS old_stuff", "DROP", "old_stuff");
	sql_expect("WITH recent AS (SELECT * FROM logins WHERE ts > now()) "
	           "SELECT * FROM recent JOIN users ON true",
	           "SELECT", "logins,users");
	sql_expect(
	    "SELECT extract(year FROM ts), substring(s from 2) FROM events",
	    "SELECT", "events");
	sql_expect("SELECT * FROM generate_series(1, 10) g, items", "SELECT",
	           "items");
	sql_expect("SELECT 'FROM fake' AS x, $$ FROM dollar $$, $q$FROM q$q$, "
	           "E'\\' FROM esc' FROM real_table -- FROM comment",
	           "SELECT", "real_table");
	sql_expect(
	    "/* FROM c1 /* nested */ FROM c2 */ SELECT 1 FROM \"Mixed\".\"T\"",
	    "SELECT", "Mixed.T");
	sql_expect("SELECT a IS DISTINCT FROM b FROM t", "SELECT", "t");
	sql_expect("SELECT * FROM t FOR UPDATE OF t", "SELECT", "t");
	sql_expect(
	    "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET x = 1",
	    "INSERT", "t");
	sql_expect("(SELECT 1 FROM a) UNION (SELECT 2 FROM b)", "SELECT",
	           "a,b");
	sql_expect("SELECT * FROM a, a, A", "SELECT", "a");
	sql_expect("", "", "");
	sql_expect("   ", "", "");
	sql_expect("SELECT * FROM", "SELECT", "");
	sql_expect("SELECT * FROM \"unterminated", "SELECT", "unterminated");
	sql_expect("SELECT $1 FROM t WHERE x = $2", "SELECT", "t");
	sql_expect("BEGIN", "BEGIN", "");
	sql_expect("SELECT 1; DELETE FROM other", "SELECT", "");
}
END_TEST

START_TEST(test_sql_ceiling)
{
	struct bw_buf b;
	struct bw_str a, r;
	char sql[8192];
	int k = 0, i;

	k += snprintf(sql + k, sizeof(sql) - (size_t)k, "SELECT * FROM t0");
	for (i = 1; i < 400; i++)
		k += snprintf(sql + k, sizeof(sql) - (size_t)k, ", t%d", i);
	bw_buf_init(&b, 256);
	parse_sql_analyze(sql, (size_t)k, &b, &a, &r);
	ck_assert_uint_le(b.len, 256);
	ck_assert_str_eq(th_s(a), "SELECT");
	ck_assert_uint_gt(r.len, 10);
	ck_assert(strncmp(r.p, "t0,t1,t2", 8) == 0);
	bw_buf_free(&b);
}
END_TEST

TCase *th_pg_tcase(void)
{
	TCase *tc = tcase_create("postgres");

	tcase_add_test(tc, test_pg_single_statement);
	tcase_add_test(tc, test_pg_multiline);
	tcase_add_test(tc, test_pg_reject_while_holding);
	tcase_add_test(tc, test_pg_connections_and_auth);
	tcase_add_test(tc, test_pg_pgbadger_prefix_and_injection);
	tcase_add_test(tc, test_pg_syslog);
	tcase_add_test(tc, test_pg_config);
	tcase_add_test(tc, test_pg_every_escape);
	tcase_add_test(tc, test_pg_hostile);
	return tc;
}

TCase *th_sql_tcase(void)
{
	TCase *tc = tcase_create("sql");

	tcase_add_test(tc, test_sql_tables);
	tcase_add_test(tc, test_sql_ceiling);
	return tc;
}
