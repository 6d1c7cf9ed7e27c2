/*
 * rtest.c - helpers for the rules engine tests (see rtest.h).
 */
#include "rtest.h"

#include <libconfig.h>
#include <stdio.h>
#include <string.h>

#include "../../common/bwtime.h"
#include "../../common/cidr.h"

const char *const rtest_site =
    "site: {\n"
    "  timezone = \"Europe/Berlin\";\n"
    "  business_hours = { days = [ \"mon\", \"tue\", \"wed\", \"thu\", "
    "\"fri\" ]; start = \"08:00\"; end = \"18:00\"; };\n"
    "  trusted_networks = [ \"10.0.0.0/8\", \"192.168.0.0/16\", "
    "\"127.0.0.0/8\", \"::1\", \"fd00::/8\" ];\n"
    "  sets = {\n"
    "    staff = [ \"alice\", \"bob\", \"support-carol\" ];\n"
    "    service_accounts = [ \"svc-backup\", \"svc-indexer\" ];\n"
    "    app_servers = [ \"10.1.2.0/24\", \"127.0.0.10\", \"2001:db8:1::/48\" "
    "];\n"
    "  };\n"
    "  customer_data = {\n"
    "    http = (\n"
    "      { path = "
    "\"^/api/v1/customers/(?<customer>[A-Za-z0-9_-]+)/contacts\"; data = "
    "\"contact_list\"; },\n"
    "      { path = "
    "\"^/api/v1/customers/(?<customer>[A-Za-z0-9_-]+)/messages\"; data = "
    "\"message_content\"; },\n"
    "      { path = "
    "\"^/api/v1/customers/(?<customer>[A-Za-z0-9_-]+)(/profile)?$\"; data = "
    "\"account\"; },\n"
    "      { path = "
    "\"^/admin/customers/(?<customer>[A-Za-z0-9_-]+)/messages\"; data = "
    "\"message_content\"; },\n"
    "      { path = \"^/admin/customers/(?<customer>[A-Za-z0-9_-]+)\"; data = "
    "\"account\"; },\n"
    "      { path = \"^/api/v1/export/all\"; data = \"contact_list\"; }\n"
    "    );\n"
    "    sql = (\n"
    "      { table = \"contacts\"; column = \"customer_id\"; data = "
    "\"contact_list\"; },\n"
    "      { table = \"messages\"; column = \"customer_id\"; data = "
    "\"message_content\"; },\n"
    "      { table = \"customers\"; column = \"id\"; data = \"account\"; },\n"
    "      { table = \"audit_log\"; data = \"account\"; }\n"
    "    );\n"
    "    principal_customer = \"^(?<customer>c[0-9]+)$\";\n"
    "  };\n"
    "};\n";

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

void rt_collect(const struct rules_match *m, void *arg)
{
	struct rt_log *log = arg;
	struct rt_match *o;

	ck_assert_uint_lt(log->n, RT_MAX);
	o = &log->m[log->n++];
	memset(o, 0, sizeof(*o));
	copy(o->rule, sizeof(o->rule), m->rule->id);
	copy(o->key, sizeof(o->key), m->key);
	o->first = m->first;
	for (size_t i = 0; i < m->n_customers && i < RT_MAXC; i++)
		copy(o->cust[i], sizeof(o->cust[i]), m->customers[i]);
	o->n_cust = m->n_customers;
	o->unknown = m->affected_unknown;
	for (size_t i = 0; i < m->n_data_kinds && i < 8; i++)
		copy(o->dk[i], sizeof(o->dk[i]), m->data_kinds[i]);
	o->n_dk = m->n_data_kinds;
	o->n_prior = m->n_prior;
	for (size_t i = 0; i < m->n_prior && i < 16; i++)
		copy(o->prior_raw[i], sizeof(o->prior_raw[i]), m->prior[i].raw);
	o->count = m->event_count;
	copy(o->summary, sizeof(o->summary), m->summary);
}

int rt_try(const char *site, const char *rules_text, char *msg, size_t msgsz)
{
	struct rules *r = rules_new();
	struct bw_error err;
	config_t cfg;
	int ret = -1;

	memset(&err, 0, sizeof(err));
	config_init(&cfg);
	if (site != NULL) {
		if (config_read_string(&cfg, site) != CONFIG_TRUE) {
			snprintf(msg, msgsz, "site syntax: %d: %s",
			         config_error_line(&cfg),
			         config_error_text(&cfg));
			goto out;
		}
		if (rules_load_site(r, config_lookup(&cfg, "site"), &err) != 0)
			goto fail;
	}
	if (rules_add_string(r, "test.conf", rules_text, &err) != 0 ||
	    rules_compile(r, &err) != 0)
		goto fail;
	ret = 0;
	snprintf(msg, msgsz, "ok");
	goto out;
fail:
	/* A site from a string has no file name: show its line anyway. */
	snprintf(msg, msgsz, "%s:%d: %s", err.file[0] ? err.file : "site",
	         err.line, err.msg);
out:
	config_destroy(&cfg);
	rules_destroy(&r);
	return ret;
}

const struct rules_cache *rt_cache;

struct rules *rt_engine_lim(const char *site, const char *rules_text,
                            const struct rules_limits *lim)
{
	struct rules *r = rules_new();
	struct bw_error err;
	char buf[1024];
	config_t cfg;

	memset(&err, 0, sizeof(err));
	rules_set_cache(r, rt_cache);
	if (lim != NULL)
		rules_set_limits(r, lim);
	config_init(&cfg);
	if (site != NULL) {
		ck_assert_msg(config_read_string(&cfg, site) == CONFIG_TRUE,
		              "site: %s", config_error_text(&cfg));
		ck_assert_msg(
		    rules_load_site(r, config_lookup(&cfg, "site"), &err) == 0,
		    "site: %s", bw_error_str(&err, buf, sizeof(buf)));
	}
	config_destroy(&cfg); /* the engine keeps copies */
	ck_assert_msg(rules_add_string(r, "test.conf", rules_text, &err) == 0,
	              "rules: %s", bw_error_str(&err, buf, sizeof(buf)));
	ck_assert_msg(rules_compile(r, &err) == 0, "compile: %s",
	              bw_error_str(&err, buf, sizeof(buf)));
	return r;
}

struct rules *rt_engine(const char *site, const char *rules_text)
{
	return rt_engine_lim(site, rules_text, NULL);
}

void rt_set_ip(struct bw_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (text != NULL)
		ck_assert_int_eq(bw_addr_parse(text, strlen(text), a), 0);
}

static struct bw_str s(const char *p)
{
	struct bw_str v = {p, p ? (uint32_t)strlen(p) : 0};

	return v;
}

void rt_http(struct bw_event *ev, int64_t ts_s, const char *ip,
             const char *method, const char *path, int status)
{
	bw_event_clear(ev);
	ev->ts_us = ts_s * 1000000;
	ev->kind = BW_KIND_HTTP;
	ev->source = BW_SRC_NGINX;
	rt_set_ip(&ev->src_ip, ip);
	ev->action = s(method);
	ev->resource = s(path);
	ev->status = status;
	ev->raw = s(path);
	ev->ref.file = "/var/log/nginx/access.log";
	ev->ref.number = (uint64_t)ts_s;
}

void rt_sql(struct bw_event *ev, int64_t ts_s, const char *user,
            const char *text)
{
	bw_event_clear(ev);
	ev->ts_us = ts_s * 1000000;
	ev->kind = BW_KIND_SQL;
	ev->source = BW_SRC_POSTGRES;
	ev->principal = s(user);
	ev->text = s(text);
	ev->raw = s(text);
}

void rt_auth(struct bw_event *ev, int64_t ts_s, const char *ip,
             const char *user, const char *outcome)
{
	bw_event_clear(ev);
	ev->ts_us = ts_s * 1000000;
	ev->kind = BW_KIND_AUTH;
	ev->source = BW_SRC_SSHD;
	rt_set_ip(&ev->src_ip, ip);
	ev->principal = s(user);
	ev->outcome = s(outcome);
	ev->raw = s(outcome);
}

int64_t rt_utc(int y, int mo, int d, int h, int mi)
{
	return bw_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

size_t rt_eval(struct rules *r, struct bw_event *ev, struct rt_log *log)
{
	size_t before = log->n;
	size_t n = rules_eval(r, ev, rt_collect, log);

	ck_assert_uint_eq(n, log->n - before);
	return n;
}

int rt_find(const struct rt_log *log, const char *id, size_t from)
{
	for (size_t i = from; i < log->n; i++)
		if (strcmp(log->m[i].rule, id) == 0)
			return (int)i;
	return -1;
}
