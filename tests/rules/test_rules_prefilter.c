/*
 * test_rules_prefilter.c - the Hyperscan prefilter changes speed, never
 * results: many generated events must give exactly the same matches with
 * the prefilter and without it (every regex in PCRE2), also when its
 * databases come from the cache instead of the compiler.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../rules/engine.h"
#include "rtest.h"
#include "check_main.h"

#define RULES(...) #__VA_ARGS__
#define EVENTS 20000

/* Exact in Hyperscan, prefilter-only (lookaround, back-references),
 * PCRE2-only (Unicode properties), captures, nocase, anchors and $ before
 * a final newline, on several fields, in match and unless. */
static const char *const rules_text = RULES(rules = (
	{ id = "sqli"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "query"; regex = "union\\s+select"; nocase = true; }); },
	{ id = "walk"; title = "t"; category = "c"; severity = "low";
	  summary = "${cid} ${n}";
	  kinds = ["http"];
	  match = ({ field = "path"; regex = "^/api/v1/customers/(?<cid>[a-z0-9]+)/contacts(?<n>[0-9]*)$"; });
	  aggregate = { type = "threshold"; key = ["src_ip", "cid"]; window = "30s"; min = 3; };
	  customers = "cid"; },
	{ id = "trav"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "path"; regex = "\\.\\./"; },
		   { field = "path"; regex = "(?<=/)etc/passwd"; }); },
	{ id = "backref"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "user_agent"; regex = "([a-z])\\1{3}"; }); },
	{ id = "upper"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "user_agent"; regex = "^\\p{Lu}"; }); },
	{ id = "dollar"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "query"; regex = "a.b$"; }); },
	{ id = "inline"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "path"; regex = "(?i)admin"; },
		   { field = "query"; regex = "foo(?!bar)"; not = true; }); },
	{ id = "word"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "query"; regex = "\\bselect\\b"; });
	  unless = ({ field = "user_agent"; regex = "^(?s)a.*z$"; }); },
	{ id = "high"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "user_agent"; regex = "[^\\x00-\\x7f]{2}"; },
		   { field = "status"; class = "2xx"; }); },
	{ id = "multi"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "query"; regex = "(?m)^id=\\d{2,4}$"; }); },
	{ id = "any"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "user_agent"; regex = "x*"; },
		   { field = "data_kind"; exists = true; });
	  customers = "customer"; },
	{ id = "cap-cond"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  match = ({ field = "query"; regex = "id=(?<num>[0-9]+)"; },
		   { field = "num"; prefix = "1"; });
	  aggregate = { type = "threshold"; key = "num"; window = "10s";
			distinct = "src_ip"; min = 2; }; },
	{ id = "seq"; title = "t"; category = "c"; severity = "low";
	  kinds = ["http"];
	  aggregate = { type = "sequence"; key = "src_ip"; within = "20s";
			steps = ( { match = ({ field = "path"; regex = "\\.\\./"; }); min = 2; },
				  { match = ({ field = "query"; regex = "(?i)select"; }); } ); }; }
););

/* A site with enough customer paths that they go through one Hyperscan
 * pass too, with patterns of each kind (exact, prefilter, PCRE2-only,
 * without a customer capture). */
static const char *const big_site =
	"site: { customer_data = { http = (\n"
	"{ path = \"^/api/v1/customers/(?<customer>[a-z0-9]+)/contacts\"; data = \"contact_list\"; },\n"
	"{ path = \"/admin/customers/(?<customer>c1)\"; data = \"account\"; },\n"
	"{ path = \"(?<customer>abc)/contacts12$\"; data = \"contact_list\"; },\n"
	"{ path = \"etc/passwd\"; data = \"system\"; },\n"
	"{ path = \"^/a{2}\"; data = \"system\"; },\n"
	"{ path = \"(?i)ADMIN/customers/(?<customer>[a-z0-9]+)\"; data = \"account\"; },\n"
	"{ path = \"(\\\\w)\\\\1/contacts\"; data = \"contact_list\"; },\n"
	"{ path = \"^\\\\p{L}\"; data = \"odd\"; },\n"
	"{ path = \"\\\\.\\\\./(?<customer>[a-z]+)\"; data = \"odd\"; },\n"
	"{ path = \"^/x|^/api/v1/customers/(?<customer>[a-z0-9]+)\"; data = \"account\"; }\n"
	"); }; };\n";

static const char *const frags[] = {
	"union select", "UNION  SELECT", "Union\tSelect", "/api/v1/customers/",
	"abc", "c1", "/contacts", "12", "../", "/etc/passwd", "etc/passwd",
	"aaaa", "Abbbb", "Admin", "ADMIN", "select", " ", "\n", "\xc3\xa9",
	"\xff\xfe", "id=", "123", "a", "b", "z", "foo", "bar", "x", "/",
	"\xc3\x89t\xc3\xa9", "Zed", "a\nb", "=", "?", "profile",
	"/admin/customers/", "/messages", "union\x0bselect", "\r", "\x0b",
	"UNION\xa0SELECT", "id=123", "id=15",
};
#define NFRAGS (sizeof(frags) / sizeof(frags[0]))

static uint32_t rnd_state = 2463534242u;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

static void gen(char *buf, size_t size, uint32_t maxfrags)
{
	size_t len = 0;
	uint32_t n = rnd() % (maxfrags + 1);

	for (uint32_t i = 0; i < n; i++) {
		const char *f = frags[rnd() % NFRAGS];
		size_t fl = strlen(f);

		if (len + fl + 1 >= size)
			break;
		memcpy(buf + len, f, fl);
		len += fl;
	}
	buf[len] = '\0';
}

static void compare(const struct rt_match *a, const struct rt_match *b,
		    size_t i)
{
	ck_assert_msg(strcmp(a->rule, b->rule) == 0, "match %zu: %s vs %s",
		      i, a->rule, b->rule);
	ck_assert_str_eq(a->key, b->key);
	ck_assert_int_eq(a->first, b->first);
	ck_assert_uint_eq(a->n_cust, b->n_cust);
	for (size_t k = 0; k < a->n_cust && k < RT_MAXC; k++)
		ck_assert_str_eq(a->cust[k], b->cust[k]);
	ck_assert_int_eq(a->unknown, b->unknown);
	ck_assert_uint_eq(a->n_dk, b->n_dk);
	for (size_t k = 0; k < a->n_dk && k < 8; k++)
		ck_assert_str_eq(a->dk[k], b->dk[k]);
	ck_assert_uint_eq(a->count, b->count);
	ck_assert_str_eq(a->summary, b->summary);
}

/* An in-memory rules cache. */
#define MEM_MAX 32
struct mem_cache {
	unsigned char key[MEM_MAX][RULES_CACHE_KEY];
	char *blob[MEM_MAX];
	size_t len[MEM_MAX], n, gets, puts;
};

static void *mem_get(void *arg, const unsigned char key[RULES_CACHE_KEY],
		     size_t *len)
{
	struct mem_cache *m = arg;
	char *out;

	m->gets++;
	for (size_t i = 0; i < m->n; i++)
		if (memcmp(m->key[i], key, RULES_CACHE_KEY) == 0) {
			out = malloc(m->len[i]);
			memcpy(out, m->blob[i], m->len[i]);
			*len = m->len[i];
			return out;
		}
	return NULL;
}

static void mem_put(void *arg, const unsigned char key[RULES_CACHE_KEY],
		    const void *blob, size_t len)
{
	struct mem_cache *m = arg;

	m->puts++;
	ck_assert_uint_lt(m->n, MEM_MAX);
	memcpy(m->key[m->n], key, RULES_CACHE_KEY);
	m->blob[m->n] = malloc(len);
	memcpy(m->blob[m->n], blob, len);
	m->len[m->n++] = len;
}

static void mem_free(struct mem_cache *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->blob[i]);
	m->n = 0;
}

START_TEST(test_same_matches)
{
	const char *site = _i == 0 ? rtest_site : big_site;
	struct mem_cache mem = { .n = 0 };
	struct rules_cache cache = { mem_get, mem_put, &mem };
	struct rules *fast, *slow;

	if (_i == 2) {
		/* fast from databases a first engine left in the cache */
		rt_cache = &cache;
		fast = rt_engine(site, rules_text);
		rules_destroy(&fast);
		ck_assert_uint_gt(mem.puts, 0);
	}
	fast = rt_engine(site, rules_text);
	rt_cache = NULL;
	slow = rt_engine(site, rules_text);
	struct rt_log *la = calloc(1, sizeof(*la));
	struct rt_log *lb = calloc(1, sizeof(*lb));
	static const char *const ips[] = { "192.0.2.1", "192.0.2.2",
					   "2001:db8::7" };
	char path[160], query[160], ua[160];
	struct rules_stats sf, ss;
	size_t total = 0, per_rule[16] = { 0 };
	struct bw_event ev;

	rules_set_prefilter(slow, false);
	for (int i = 0; i < EVENTS; i++) {
		gen(path, sizeof(path), 5);
		if (rnd() % 4 == 0) /* a well-formed customer path, often */
			snprintf(path, sizeof(path), "%s%s/contacts%s",
				 rnd() % 2 ? "/api/v1/customers/"
					   : "/admin/customers/",
				 rnd() % 2 ? "c1" : "abc",
				 rnd() % 2 ? "" : "12");
		gen(query, sizeof(query), 5);
		gen(ua, sizeof(ua), 4);
		rt_http(&ev, 1000 + i / 4, ips[rnd() % 3], "GET", path,
			200 + (int)(rnd() % 4) * 100);
		ev.query.p = query;
		ev.query.len = (uint32_t)strlen(query);
		ev.user_agent.p = ua;
		ev.user_agent.len = (uint32_t)strlen(ua);
		la->n = lb->n = 0;
		rt_eval(fast, &ev, la);
		rt_eval(slow, &ev, lb);
		ck_assert_msg(la->n == lb->n, "event %d (%s ? %s | %s): %zu vs "
			      "%zu matches", i, path, query, ua, la->n, lb->n);
		for (size_t k = 0; k < la->n; k++) {
			compare(&la->m[k], &lb->m[k], k);
			for (size_t j = 0; j < rules_count(fast); j++)
				if (strcmp(rules_info(fast, j)->id,
					   la->m[k].rule) == 0)
					per_rule[j]++;
		}
		total += la->n;
	}
	/* Not vacuous: every rule matched some events. */
	for (size_t j = 0; j < rules_count(fast); j++)
		ck_assert_msg(per_rule[j] > 0, "rule %s never matched",
			      rules_info(fast, j)->id);
	rules_get_stats(fast, &sf);
	rules_get_stats(slow, &ss);
	ck_assert_uint_eq(sf.matches, total);
	ck_assert_uint_eq(sf.matches, ss.matches);
	/* The prefilter saved PCRE2 runs, and all three kinds of pattern
	 * were there. */
	ck_assert_uint_lt(sf.regex_runs, ss.regex_runs);
	ck_assert_uint_ge(sf.regex_prefilter, 3);
	ck_assert_uint_ge(sf.regex_pcre_only, 1);
	ck_assert_uint_eq(sf.regex_errors, 0);
	if (_i == 2) {
		ck_assert_uint_eq(sf.db_compiled, 0);
		ck_assert_uint_eq(sf.db_cached, mem.puts);
	} else {
		ck_assert_uint_eq(sf.db_cached, 0);
		ck_assert_uint_gt(sf.db_compiled, 0);
	}
	mem_free(&mem);
	free(la);
	free(lb);
	rules_destroy(&fast);
	rules_destroy(&slow);
}
END_TEST



/* Each database is classified from one compile of its patterns together
 * when that succeeds, else pattern by pattern: either way every regex must
 * get the class it gets compiled alone, and a database must hold exactly
 * the regexes Hyperscan takes. */
static const char *const class_rules = RULES(rules = (
	{ id = "exact"; title = "t"; category = "c"; severity = "low"; kinds = ["http"];
	  match = ({ field = "path"; regex = "^/api/v[0-9]+/"; },
		   { field = "user_agent"; regex = "curl|wget"; nocase = true; }); },
	{ id = "mixed"; title = "t"; category = "c"; severity = "low"; kinds = ["http"];
	  match = ({ field = "query"; regex = "id=[0-9]+"; },
		   { field = "query"; regex = "(?<=&)x=1"; },
		   { field = "query"; regex = "(abc|def)[^x]{40000}"; },
		   { field = "query"; regex = "(?:(?:a{100}){100}){30}"; },
		   { field = "query"; regex = "^\\p{Lu}"; }); },
	{ id = "two-kinds"; title = "t"; category = "c"; severity = "low"; kinds = ["http", "sql"];
	  match = ({ field = "text"; regex = "select\\s+\\*"; nocase = true; },
		   { field = "text"; regex = "([a-z])\\1{3}"; }); },
	{ id = "sql-only"; title = "t"; category = "c"; severity = "low"; kinds = ["sql"];
	  match = ({ field = "text"; regex = "drop\\s+table"; nocase = true; }); }
););

static enum hs_mode alone(const struct regex *re)
{
	char msg[256];
	struct regex *copy = regex_new(re->pattern, re->nocase, msg,
				       sizeof(msg));
	enum hs_mode m;

	ck_assert_msg(copy != NULL, "%s", msg);
	prefilter_classify(copy);
	m = copy->hs;
	regex_free(&copy);
	return m;
}

static void check_db(const struct pfdb *db, size_t *count)
{
	for (size_t i = 0; i < db->n; i++)
		ck_assert_int_ne(db->pats[i]->hs, HSM_NONE);
	if (db->n > 0)
		ck_assert_ptr_nonnull(db->db);
	*count += db->n;
}

START_TEST(test_classes_as_alone)
{
	struct rules *r = rt_engine(big_site, _i == 0 ? class_rules : rules_text);
	size_t n_class[4] = { 0 }, in_dbs = 0, taken = 0;

	for (size_t i = 0; i < r->n_rx; i++) {
		ck_assert_msg(r->rx[i]->hs == alone(r->rx[i]), "%s",
			      r->rx[i]->pattern);
		n_class[r->rx[i]->hs]++;
	}
	for (size_t i = 0; i < r->site.n_http; i++) {
		const struct regex *re = r->site.http[i].re;

		ck_assert_msg(re->hs == alone(re), "%s", re->pattern);
		n_class[re->hs]++;
		taken += re->hs != HSM_NONE;
	}
	check_db(&r->site.http_db, &in_dbs);
	ck_assert_uint_eq(in_dbs, taken);
	for (int k = 0; k < BW_KIND__COUNT; k++)
		for (int f = 0; f < BW_F__COUNT; f++)
			if (r->pf[k][f] != NULL)
				check_db(r->pf[k][f], &in_dbs);
	/* Not vacuous: every class is there. */
	ck_assert_uint_eq(n_class[HSM_UNKNOWN], 0);
	ck_assert_uint_gt(n_class[HSM_EXACT], 0);
	ck_assert_uint_gt(n_class[HSM_PREFILTER], 0);
	ck_assert_uint_gt(n_class[HSM_NONE], 0);
	rules_destroy(&r);
}
END_TEST

/* A cached database gives the same classes as compiling; the key changes
 * with the patterns; a blob Hyperscan refuses is compiled again. */
START_TEST(test_cache)
{
	struct mem_cache mem = { .n = 0 };
	struct rules_cache cache = { mem_get, mem_put, &mem };
	struct rules *a, *b;
	struct rules_stats sa, sb;
	size_t puts;

	rt_cache = &cache;
	a = rt_engine(big_site, class_rules);
	b = rt_engine(big_site, class_rules);
	rules_get_stats(a, &sa);
	rules_get_stats(b, &sb);
	ck_assert_uint_gt(sa.db_compiled, 0);
	ck_assert_uint_eq(sa.db_cached, 0);
	ck_assert_uint_eq(mem.puts, sa.db_compiled);
	ck_assert_uint_eq(sb.db_compiled, 0);
	ck_assert_uint_eq(sb.db_cached, sa.db_compiled);
	ck_assert_uint_eq(a->n_rx, b->n_rx);
	for (size_t i = 0; i < a->n_rx; i++)
		ck_assert_int_eq(a->rx[i]->hs, b->rx[i]->hs);
	rules_destroy(&a);
	rules_destroy(&b);

	/* Other patterns: other keys, nothing found. */
	puts = mem.puts;
	a = rt_engine(big_site, rules_text);
	rules_get_stats(a, &sa);
	ck_assert_uint_gt(mem.puts, puts);
	rules_destroy(&a);

	/* Garbage under every key: refused, compiled again. */
	for (size_t i = 0; i < mem.n; i++) {
		memset(mem.blob[i], 'x', mem.len[i]);
		mem.len[i] = mem.len[i] > 64 ? 64 : mem.len[i];
	}
	a = rt_engine(big_site, rules_text);
	rules_get_stats(a, &sa);
	ck_assert_uint_eq(sa.db_cached, 0);
	ck_assert_uint_gt(sa.db_compiled, 0);
	rules_destroy(&a);
	rt_cache = NULL;
	mem_free(&mem);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("rules_prefilter");
	TCase *tc = tcase_create("prefilter");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_same_matches, 0, 3);
	tcase_add_loop_test(tc, test_classes_as_alone, 0, 2);
	tcase_add_test(tc, test_cache);
	suite_add_tcase(s, tc);
	return s;
}
