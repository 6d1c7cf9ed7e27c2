/*
 * event.c - the event model's field table and accessors (see event.h).
 */
#include "event.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define STR_FIELD(f, n, d) [f] = { .name = (n), .type = BW_FT_STR, .doc = (d) }
#define INT_FIELD(f, n, d) [f] = { .name = (n), .type = BW_FT_INT, .doc = (d) }

const struct bw_field_info bw_fields[BW_F__COUNT] = {
	[BW_F_KIND] = { .name = "kind", .type = BW_FT_ENUM,
			.doc = "event kind: http, auth, sql, dns, tls, flow" },
	[BW_F_SOURCE] = { .name = "source", .type = BW_FT_ENUM,
			  .doc = "where it came from: nginx, apache, json, sshd, postgres, pcap" },
	[BW_F_SRC_IP] = { .name = "src_ip", .type = BW_FT_ADDR,
			  .doc = "client address" },
	[BW_F_DST_IP] = { .name = "dst_ip", .type = BW_FT_ADDR,
			  .doc = "server address" },
	INT_FIELD(BW_F_SRC_PORT, "src_port", "client port"),
	INT_FIELD(BW_F_DST_PORT, "dst_port", "server port"),
	STR_FIELD(BW_F_PRINCIPAL, "principal", "user, API key name or database role"),
	STR_FIELD(BW_F_ACTION, "action", "HTTP method, auth method or SQL verb"),
	STR_FIELD(BW_F_RESOURCE, "resource", "URL path, table(s), domain or SNI"),
	STR_FIELD(BW_F_QUERY, "query", "URL query string, without '?'"),
	STR_FIELD(BW_F_OUTCOME, "outcome", "auth result: success or failure"),
	STR_FIELD(BW_F_HOST, "host", "HTTP host, or the host that logged"),
	STR_FIELD(BW_F_USER_AGENT, "user_agent", "HTTP User-Agent or client banner"),
	STR_FIELD(BW_F_REFERER, "referer", "HTTP Referer"),
	STR_FIELD(BW_F_DATABASE, "database", "database name"),
	STR_FIELD(BW_F_DETAIL, "detail", "source-specific detail, e.g. invalid_user"),
	STR_FIELD(BW_F_TEXT, "text", "full SQL statement or HTTP request line"),
	INT_FIELD(BW_F_STATUS, "status", "HTTP status"),
	INT_FIELD(BW_F_BYTES_IN, "bytes_in", "bytes from the client"),
	INT_FIELD(BW_F_BYTES_OUT, "bytes_out", "bytes to the client"),
	INT_FIELD(BW_F_DURATION, "duration", "duration in microseconds"),
};

static const char *const kind_names[BW_KIND__COUNT] = {
	[BW_KIND_NONE] = "none", [BW_KIND_HTTP] = "http",
	[BW_KIND_AUTH] = "auth", [BW_KIND_SQL] = "sql",
	[BW_KIND_DNS] = "dns",	 [BW_KIND_TLS] = "tls",
	[BW_KIND_FLOW] = "flow",
};

static const char *const source_names[BW_SRC__COUNT] = {
	[BW_SRC_NONE] = "none",	    [BW_SRC_NGINX] = "nginx",
	[BW_SRC_APACHE] = "apache", [BW_SRC_JSON] = "json",
	[BW_SRC_SSHD] = "sshd",	    [BW_SRC_POSTGRES] = "postgres",
	[BW_SRC_PCAP] = "pcap",
};

static const struct {
	const char *alias;
	enum bw_field field;
} aliases[] = {
	{ "user", BW_F_PRINCIPAL },
	{ "method", BW_F_ACTION },
	{ "path", BW_F_RESOURCE },
};

enum bw_field bw_field_by_name(const char *name)
{
	size_t i;

	for (i = 1; i < BW_F__COUNT; i++)
		if (strcmp(bw_fields[i].name, name) == 0)
			return (enum bw_field)i;
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(aliases[i].alias, name) == 0)
			return aliases[i].field;
	return BW_F_NONE;
}

const char *bw_kind_name(enum bw_kind k)
{
	if ((unsigned)k >= BW_KIND__COUNT)
		return NULL;
	return kind_names[k];
}

const char *bw_source_name(enum bw_source s)
{
	if ((unsigned)s >= BW_SRC__COUNT)
		return NULL;
	return source_names[s];
}

enum bw_kind bw_kind_by_name(const char *name)
{
	for (size_t i = 1; i < BW_KIND__COUNT; i++)
		if (strcmp(kind_names[i], name) == 0)
			return (enum bw_kind)i;
	return BW_KIND_NONE;
}

enum bw_source bw_source_by_name(const char *name)
{
	for (size_t i = 1; i < BW_SRC__COUNT; i++)
		if (strcmp(source_names[i], name) == 0)
			return (enum bw_source)i;
	return BW_SRC_NONE;
}

void bw_event_clear(struct bw_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->status = -1;
	ev->bytes_in = -1;
	ev->bytes_out = -1;
	ev->duration_us = -1;
}

struct bw_str bw_event_str(const struct bw_event *ev, enum bw_field f)
{
	switch (f) {
	case BW_F_PRINCIPAL: return ev->principal;
	case BW_F_ACTION: return ev->action;
	case BW_F_RESOURCE: return ev->resource;
	case BW_F_QUERY: return ev->query;
	case BW_F_OUTCOME: return ev->outcome;
	case BW_F_HOST: return ev->host;
	case BW_F_USER_AGENT: return ev->user_agent;
	case BW_F_REFERER: return ev->referer;
	case BW_F_DATABASE: return ev->database;
	case BW_F_DETAIL: return ev->detail;
	case BW_F_TEXT: return ev->text;
	default: return BW_STR_NULL;
	}
}

bool bw_event_int(const struct bw_event *ev, enum bw_field f, int64_t *out)
{
	int64_t v;

	switch (f) {
	case BW_F_SRC_PORT:
		if (ev->src_port == 0)
			return false;
		v = ev->src_port;
		break;
	case BW_F_DST_PORT:
		if (ev->dst_port == 0)
			return false;
		v = ev->dst_port;
		break;
	case BW_F_STATUS: v = ev->status; break;
	case BW_F_BYTES_IN: v = ev->bytes_in; break;
	case BW_F_BYTES_OUT: v = ev->bytes_out; break;
	case BW_F_DURATION: v = ev->duration_us; break;
	default: return false;
	}
	if (v < 0)
		return false;
	*out = v;
	return true;
}

const struct bw_addr *bw_event_addr(const struct bw_event *ev,
				    enum bw_field f)
{
	if (f == BW_F_SRC_IP)
		return &ev->src_ip;
	if (f == BW_F_DST_IP)
		return &ev->dst_ip;
	return NULL;
}

size_t bw_event_format(const struct bw_event *ev, enum bw_field f, char *buf,
		       size_t size)
{
	const struct bw_addr *a;
	struct bw_str s;
	const char *name = NULL;
	int64_t v;
	int n;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if ((unsigned)f >= BW_F__COUNT || f == BW_F_NONE)
		return 0;
	switch (bw_fields[f].type) {
	case BW_FT_STR:
		s = bw_event_str(ev, f);
		n = snprintf(buf, size, "%.*s", (int)s.len, s.p ? s.p : "");
		break;
	case BW_FT_INT:
		if (!bw_event_int(ev, f, &v))
			return 0;
		n = snprintf(buf, size, "%lld", (long long)v);
		break;
	case BW_FT_ADDR:
		a = bw_event_addr(ev, f);
		if (a->family == 4)
			name = inet_ntop(AF_INET, a->bytes, buf, (socklen_t)size);
		else if (a->family == 6)
			name = inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)size);
		if (name == NULL)
			buf[0] = '\0';
		return strlen(buf);
	case BW_FT_ENUM:
		name = f == BW_F_KIND ? bw_kind_name(ev->kind)
				      : bw_source_name(ev->source);
		n = snprintf(buf, size, "%s", name ? name : "");
		break;
	default:
		return 0;
	}
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}
