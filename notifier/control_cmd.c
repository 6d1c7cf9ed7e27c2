/*
 * control_cmd.c - the requests of the control socket (see control_cmd.h).
 */
#include "control_cmd.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/bwtime.h"
#include "../common/xmalloc.h"
#include "jb.h"
#include "outbox.h"
#include "report.h"

#define DEFAULT_LIMIT 1000
#define MAX_LIMIT 100000
#define MAX_REPORT (256u << 20)
/* An awareness time this far past the clock is refused as a mistake. */
#define AWARE_FUTURE_SLACK_US (300 * INT64_C(1000000))

struct cmd;
typedef json_t *(*cmd_fn)(struct control_cmd_ctx *ctx, const json_t *req,
			  const struct control_peer *peer);

typedef int (*text_write_fn)(struct store *s, const char *id,
			     const char *operator_name, const char *text,
			     int64_t now_us, struct bw_error *err);

/* A request: run answers it; or, for the writes of one text, write
 * stores the member text (cmd_text_write). */
struct cmd {
	const char *name;
	const char *const *members; /* allowed besides "cmd" */
	cmd_fn run;
	text_write_fn write;
	const char *text;
};

/*
 * Building responses.
 */



static json_t *ok_response(void)
{
	json_t *o = jb_new(json_object());

	jb_set(o, "ok", json_true());
	return o;
}

static json_t *error_response(const char *code, const char *fmt, ...)
	BW_PRINTF(2, 3);

static json_t *error_response(const char *code, const char *fmt, ...)
{
	json_t *o = jb_new(json_object()), *m;
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jb_set(o, "ok", json_false());
	jb_set(o, "error", json_string(code));
	/* store errors may quote what an agent sent: keep the text valid */
	m = json_string(msg);
	if (m == NULL)
		m = json_string("(message not valid UTF-8)");
	jb_set(o, "message", m);
	return o;
}

static json_t *jtime(int64_t us)
{
	char buf[40];

	if (us == 0)
		return json_null();
	return json_string(bw_time_format(us, buf, sizeof(buf)));
}

/* Text from the record; jansson refuses what is not UTF-8, and the store
 * keeps only UTF-8, but never abort on it. */
static json_t *jstr(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j != NULL ? j : json_string("(not valid UTF-8)");
}

static json_t *juint(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

/*
 * Reading requests.
 */

/* A string member: 0 with *out (borrowed; NULL when absent and optional),
 * -1 with *resp set to a bad_request. */
static int get_str(const json_t *req, const char *key, bool required,
		   const char **out, json_t **resp)
{
	const json_t *v = json_object_get(req, key);

	*out = NULL;
	if (v == NULL) {
		if (!required)
			return 0;
		*resp = error_response("bad_request", "\"%s\" is missing", key);
		return -1;
	}
	if (!json_is_string(v)) {
		*resp = error_response("bad_request", "\"%s\" must be a string",
				       key);
		return -1;
	}
	*out = json_string_value(v);
	if (strlen(*out) != json_string_length(v)) {
		*resp = error_response("bad_request", "\"%s\" has a NUL byte",
				       key);
		return -1;
	}
	return 0;
}

static int get_id(const json_t *req, const char **id, json_t **resp)
{
	if (get_str(req, "id", true, id, resp) < 0)
		return -1;
	if ((*id)[0] == '\0' || strlen(*id) > BW_INC_MAX_STR) {
		*resp = error_response("bad_request",
				       "\"id\" must be 1-%d bytes",
				       BW_INC_MAX_STR);
		return -1;
	}
	return 0;
}

static int get_time(const json_t *req, const char *key, int64_t *out,
		    json_t **resp)
{
	const char *s;

	if (get_str(req, key, false, &s, resp) < 0)
		return -1;
	if (s == NULL)
		return 0;
	if (bw_time_parse_rfc3339(s, strlen(s), out) < 0) {
		*resp = error_response("bad_request",
				       "\"%s\": \"%.64s\" is not an RFC 3339 "
				       "time with a zone",
				       key, s);
		return -1;
	}
	return 0;
}

/* After a store call about id failed: not_found when there is no such
 * incident, else code with the store's message. */
static json_t *store_failure(struct control_cmd_ctx *ctx, const char *id,
			     const char *code, const struct bw_error *e)
{
	struct bw_error e2;
	int rc = store_has_incident(ctx->store, id, &e2);

	if (rc == 0)
		return error_response("not_found", "no incident %s", id);
	if (rc < 0)
		return error_response("failed", "%s", e2.msg);
	return error_response(code, "%s", e->msg);
}

static void tell(struct control_cmd_ctx *ctx, const struct control_peer *peer,
		 const char *cmd, const char *id, const json_t *resp)
{
	const json_t *msg = json_object_get(resp, "message");

	if (ctx->on_action == NULL)
		return;
	ctx->on_action(peer->user, cmd, id, json_is_true(json_object_get(resp,
									"ok")),
		       msg != NULL ? json_string_value(msg) : "", ctx->arg);
}

/*
 * incidents
 */

struct list_state {
	json_t *rows;
	size_t limit;
	bool truncated;
};

static json_t *row_json(const struct store_incident *r)
{
	json_t *o = jb_new(json_object());

	jb_set(o, "id", jstr(r->id));
	jb_set(o, "state", jstr(store_state_name(r->state)));
	jb_set(o, "severity", jstr(bw_severity_name(r->severity)));
	jb_set(o, "title", jstr(r->title));
	jb_set(o, "rule", jstr(r->rule));
	jb_set(o, "category", jstr(r->category));
	jb_set(o, "host", jstr(r->host));
	jb_set(o, "first_seen", jtime(r->first_seen_us));
	jb_set(o, "last_seen", jtime(r->last_seen_us));
	jb_set(o, "detected", jtime(r->detected_us));
	jb_set(o, "aware", jtime(r->aware_us));
	jb_set(o, "deadline", jtime(r->deadline_us));
	jb_set(o, "contained", jtime(r->contained_us));
	jb_set(o, "notified", jtime(r->notified_us));
	jb_set(o, "closed", jtime(r->closed_us));
	jb_set(o, "revision", json_integer(r->revision));
	jb_set(o, "revisions", json_integer(r->n_revisions));
	jb_set(o, "customers", juint(r->n_customers));
	jb_set(o, "affected_unknown", json_boolean(r->affected_unknown));
	jb_set(o, "event_count", juint(r->event_count));
	return o;
}

static int list_row(const struct store_incident *row, void *arg)
{
	struct list_state *ls = arg;

	if (json_array_size(ls->rows) == ls->limit) {
		ls->truncated = true;
		return 1;
	}
	if (json_array_append_new(ls->rows, row_json(row)) != 0)
		abort();
	return 0;
}

static json_t *cmd_incidents(struct control_cmd_ctx *ctx, const json_t *req,
			     const struct control_peer *peer)
{
	struct store_filter f = { 0 };
	struct list_state ls = { .limit = DEFAULT_LIMIT };
	const char *state, *sev;
	const json_t *lim = json_object_get(req, "limit");
	json_t *resp = NULL;
	struct bw_error e;

	if (get_str(req, "state", false, &state, &resp) < 0 ||
	    get_str(req, "min_severity", false, &sev, &resp) < 0 ||
	    get_time(req, "since", &f.since_us, &resp) < 0)
		return resp;
	if (state != NULL &&
	    (f.state = store_state_by_name(state)) == 0)
		return error_response("bad_request",
				      "\"state\": \"%.32s\" is not detected, "
				      "contained, notified or closed",
				      state);
	if (sev != NULL && (f.min_severity = bw_severity_by_name(sev)) == 0)
		return error_response("bad_request",
				      "\"min_severity\": \"%.32s\" is not low, "
				      "medium, high or critical",
				      sev);
	if (lim != NULL) {
		if (!json_is_integer(lim) || json_integer_value(lim) < 1 ||
		    json_integer_value(lim) > MAX_LIMIT)
			return error_response("bad_request",
					      "\"limit\" must be an integer "
					      "1-%d",
					      MAX_LIMIT);
		ls.limit = (size_t)json_integer_value(lim);
	}
	f.limit = ls.limit + 1; /* one more: to tell that there are more */
	ls.rows = jb_new(json_array());
	if (store_list(ctx->store, &f, list_row, &ls, &e) < 0) {
		json_decref(ls.rows);
		return error_response("failed", "%s", e.msg);
	}
	resp = ok_response();
	jb_set(resp, "count", json_integer((json_int_t)json_array_size(ls.rows)));
	jb_set(resp, "truncated", json_boolean(ls.truncated));
	jb_set(resp, "incidents", ls.rows);
	return resp;
}

/*
 * show, report, verify
 */

static json_t *cmd_show(struct control_cmd_ctx *ctx, const json_t *req,
			const struct control_peer *peer)
{
	struct store_verify unchecked = { 0 };
	struct store_record *r;
	json_t *resp = NULL, *rec, *audit;
	const char *id;
	struct bw_error e;

	if (get_id(req, &id, &resp) < 0)
		return resp;
	r = store_get(ctx->store, id, &e);
	if (r == NULL)
		return store_failure(ctx, id, "failed", &e);
	/* The record as the report has it, without checking the whole
	 * chain (that is what report and verify are for). */
	rec = report_json(r, &unchecked, bw_now_us());
	audit = jb_new(json_object());
	jb_set(audit, "entries_for_incident", juint(r->n_audit));
	jb_set(audit, "verified", json_null());
	jb_set(rec, "audit", audit);
	store_record_destroy(&r);
	resp = ok_response();
	jb_set(resp, "record", rec);
	return resp;
}

static json_t *cmd_report(struct control_cmd_ctx *ctx, const json_t *req,
			  const struct control_peer *peer)
{
	enum report_format fmt = REPORT_MARKDOWN;
	struct store_record *r;
	struct store_verify v;
	json_t *resp = NULL;
	const char *id, *fname;
	struct bw_error e;
	struct bw_buf b;
	int64_t now = bw_now_us();

	if (get_id(req, &id, &resp) < 0 ||
	    get_str(req, "format", false, &fname, &resp) < 0)
		return resp;
	if (fname != NULL && report_format_by_name(fname, &fmt) < 0)
		return error_response("bad_request",
				      "\"format\": \"%.32s\" is not md or json",
				      fname);
	r = store_get(ctx->store, id, &e);
	if (r == NULL)
		return store_failure(ctx, id, "failed", &e);
	if (store_verify_chain(ctx->store, &v, &e) < 0) {
		store_record_destroy(&r);
		return error_response("failed", "%s", e.msg);
	}
	resp = ok_response();
	if (fmt == REPORT_JSON) {
		jb_set(resp, "format", json_string("json"));
		jb_set(resp, "report", report_json(r, &v, now));
		store_record_destroy(&r);
		return resp;
	}
	bw_buf_init(&b, MAX_REPORT);
	if (report_render(r, &v, fmt, now, &b, &e) < 0) {
		bw_buf_free(&b);
		store_record_destroy(&r);
		json_decref(resp);
		return error_response("failed", "%s", e.msg);
	}
	store_record_destroy(&r);
	jb_set(resp, "format", json_string("md"));
	jb_set(resp, "report", jstr(b.data != NULL ? b.data : ""));
	bw_buf_free(&b);
	return resp;
}

static json_t *cmd_verify(struct control_cmd_ctx *ctx, const json_t *req,
			  const struct control_peer *peer)
{
	struct store_verify v;
	struct bw_error e;
	json_t *resp, *o;

	if (store_verify_chain(ctx->store, &v, &e) < 0)
		return error_response("failed", "%s", e.msg);
	o = jb_new(json_object());
	jb_set(o, "ok", json_boolean(v.ok));
	jb_set(o, "entries", json_integer(v.entries));
	jb_set(o, "head", v.head[0] != '\0' ? jstr(v.head) : json_null());
	jb_set(o, "first_bad",
	     v.first_bad != 0 ? json_integer(v.first_bad) : json_null());
	jb_set(o, "problem", v.ok ? json_null() : jstr(v.reason));
	resp = ok_response();
	jb_set(resp, "verify", o);
	return resp;
}

/*
 * The writes: contain, close, note, aware.
 */

/* Common path of a write on incident id: not_found before touching the
 * store, the store's verdict after. */
static json_t *write_done(struct control_cmd_ctx *ctx,
			  const struct control_peer *peer, const char *cmd,
			  const char *id, int rc, const struct bw_error *e)
{
	json_t *resp;

	if (rc < 0) {
		resp = store_failure(ctx, id, "refused", e);
	} else {
		resp = ok_response();
		jb_set(resp, "id", jstr(id));
		jb_set(resp, "operator", jstr(peer->user));
	}
	tell(ctx, peer, cmd, id, resp);
	return resp;
}

/* contain, close and note: a text about incident id, recorded with the
 * operator by one of the store's writers. */
static json_t *cmd_text_write(struct control_cmd_ctx *ctx,
			      const struct cmd *cmd, const json_t *req,
			      const struct control_peer *peer)
{
	const char *id, *text;
	json_t *resp = NULL;
	struct bw_error e;
	int rc;

	if (get_id(req, &id, &resp) < 0 ||
	    get_str(req, cmd->text, true, &text, &resp) < 0)
		return resp;
	rc = cmd->write(ctx->store, id, peer->user, text, bw_now_us(), &e);
	return write_done(ctx, peer, cmd->name, id, rc, &e);
}

static json_t *cmd_aware(struct control_cmd_ctx *ctx, const json_t *req,
			 const struct control_peer *peer)
{
	const char *id, *reason;
	int64_t at = 0, now = bw_now_us();
	json_t *resp = NULL;
	struct bw_error e;
	int rc;

	if (get_id(req, &id, &resp) < 0 ||
	    get_str(req, "reason", true, &reason, &resp) < 0 ||
	    get_time(req, "time", &at, &resp) < 0)
		return resp;
	if (json_object_get(req, "time") == NULL)
		return error_response("bad_request", "\"time\" is missing");
	if (at > now + AWARE_FUTURE_SLACK_US)
		return error_response("bad_request",
				      "\"time\" is in the future");
	rc = store_set_aware(ctx->store, id, at, peer->user, reason, now, &e);
	return write_done(ctx, peer, "aware", id, rc, &e);
}

/*
 * approve, notify-status
 */

static json_t *cmd_approve(struct control_cmd_ctx *ctx, const json_t *req,
			   const struct control_peer *peer)
{
	const char *id, *reason;
	json_t *resp = NULL;
	struct bw_error e;
	uint64_t released = 0;
	int64_t now = bw_now_us();
	int rc;

	if (get_id(req, &id, &resp) < 0 ||
	    get_str(req, "reason", false, &reason, &resp) < 0)
		return resp;
	rc = outbox_approve(ctx->store, id, peer->user, reason, now, &released,
			    &e);
	resp = write_done(ctx, peer, "approve", id, rc, &e);
	if (rc < 0)
		return resp;
	jb_set(resp, "released", juint(released));
	if (ctx->notify != NULL)
		notify_touch(ctx->notify, id, now);
	if (ctx->mailer != NULL)
		mailer_kick(ctx->mailer);
	return resp;
}

/* A notice's row as the answer lists it (a customer left out of an
 * update). */
static json_t *left_json(const struct store_notification *p)
{
	json_t *o = jb_new(json_object());

	jb_set(o, "customer", jstr(p->customer_id));
	jb_set(o, "state", jstr(p->state));
	jb_set(o, "hold", jstr(p->hold));
	jb_set(o, "detail", jstr(p->detail));
	jb_set(o, "smtp_text", jstr(p->smtp_text));
	return o;
}

/* notify ID --reason TEXT [--update]: the operator's decision that the
 * customers are to be told, or an update of the notices sent. */
static json_t *cmd_notify(struct control_cmd_ctx *ctx, const json_t *req,
			  const struct control_peer *peer)
{
	const json_t *upd = json_object_get(req, "update");
	const char *id, *reason;
	struct notify_answer a;
	json_t *resp = NULL, *list;
	struct bw_error e;
	int64_t now = bw_now_us();
	bool update;
	int rc;

	if (get_id(req, &id, &resp) < 0 ||
	    get_str(req, "reason", true, &reason, &resp) < 0)
		return resp;
	if (upd != NULL && !json_is_boolean(upd))
		return error_response("bad_request",
				      "\"update\" must be true or false");
	if (reason[0] == '\0')
		return error_response("bad_request",
				      "\"reason\" may not be empty");
	update = json_is_true(upd);
	if (ctx->notify == NULL)
		return error_response("failed",
				      "this notifier sends no e-mail");
	if (update)
		rc = notify_update(ctx->notify, id, peer->user, reason, now, &a,
				   &e);
	else
		rc = notify_decide(ctx->notify, id, peer->user, reason, now, &a,
				   &e);
	if (rc < 0 && a.refused) {
		resp = error_response("refused", "%s", e.msg);
		tell(ctx, peer, "notify", id, resp);
		notify_answer_clear(&a);
		return resp;
	}
	resp = write_done(ctx, peer, "notify", id, rc, &e);
	if (rc < 0) {
		notify_answer_clear(&a);
		return resp;
	}
	jb_set(resp, "decision", json_string(update ? "update" : "notify"));
	jb_set(resp, "customers", juint(a.customers));
	if (update) {
		jb_set(resp, "left_out", juint(a.left_out));
		list = jb_new(json_array());
		for (size_t i = 0; i < a.n_left; i++)
			if (json_array_append_new(list, left_json(&a.left[i])) !=
			    0)
				abort();
		jb_set(resp, "not_included", list);
	} else {
		jb_set(resp, "released", juint(a.released));
		jb_set(resp, "rule_asks", json_boolean(a.rule_asks));
	}
	notify_answer_clear(&a);
	if (ctx->mailer != NULL)
		mailer_kick(ctx->mailer);
	return resp;
}

static json_t *cmd_notify_status(struct control_cmd_ctx *ctx,
				 const json_t *req,
				 const struct control_peer *peer)
{
	struct store_verify unchecked = { 0 };
	struct store_record *r;
	json_t *resp = NULL, *rep, *o;
	const char *id;
	struct bw_error e;
	enum notifconf_policy pol = NOTIFCONF_AUTO;

	if (get_id(req, &id, &resp) < 0)
		return resp;
	r = store_get(ctx->store, id, &e);
	if (r == NULL)
		return store_failure(ctx, id, "failed", &e);
	if (ctx->conf != NULL)
		pol = notifconf_policy_for(ctx->conf, r->inc.severity,
					   r->inc.category);
	rep = report_json(r, &unchecked, bw_now_us());
	o = jb_new(json_object());
	jb_set(o, "id", jstr(id));
	jb_set(o, "title", jstr(r->inc.title));
	jb_set(o, "severity", jstr(bw_severity_name(r->inc.severity)));
	jb_set(o, "state", jstr(store_state_name(r->inc.state)));
	jb_set(o, "customers", juint(r->n_customers));
	jb_set(o, "notify_customers", json_boolean(r->inc.notify_customers));
	jb_set(o, "notify_decided", json_boolean(r->inc.notify_decided));
	jb_set(o, "customers_off", json_boolean(ctx->conf != NULL &&
						!ctx->conf->notify_customers));
	jb_set(o, "credentials", json_boolean(r->inc.credentials));
	jb_set(o, "policy", jstr(notifconf_policy_name(pol)));
	jb_set(o, "deadline", jtime(r->inc.deadline_us));
	jb_set(o, "notified", jtime(r->inc.notified_us));
	jb_set(o, "notifications",
	       json_incref(json_object_get(rep, "notifications")));
	json_decref(rep);
	store_record_destroy(&r);
	resp = ok_response();
	jb_set(resp, "notify_status", o);
	return resp;
}

/*
 * status
 */

struct agents_state {
	json_t *list;
	struct zap *zap;
};

static void agent_row(const struct inbox_agent *a, void *arg)
{
	struct agents_state *as = arg;
	json_t *o = jb_new(json_object());

	jb_set(o, "name", jstr(a->name));
	jb_set(o, "address", jstr(a->address));
	jb_set(o, "authorized",
	     as->zap != NULL ? json_boolean(zap_is_authorized(as->zap, a->name))
			     : json_null());
	jb_set(o, "first_message", jtime(a->first_us));
	jb_set(o, "last_message", jtime(a->last_us));
	jb_set(o, "last_type", jstr(a->last_type));
	jb_set(o, "pending", juint(a->pending));
	jb_set(o, "incidents", juint(a->incidents));
	jb_set(o, "stored", juint(a->stored));
	jb_set(o, "duplicates", juint(a->duplicates));
	jb_set(o, "rejected", juint(a->rejected));
	jb_set(o, "bad", juint(a->bad));
	if (json_array_append_new(as->list, o) != 0)
		abort();
}

/* Counters of a stats struct, by table: name and offset of a uint64_t. */
struct counter {
	const char *name;
	size_t offset;
};

#define COUNTER(type, m) { #m, offsetof(type, m) }

static const struct counter inbox_counters[] = {
	COUNTER(struct inbox_stats, connections),
	COUNTER(struct inbox_stats, handshakes),
	COUNTER(struct inbox_stats, disconnects),
	COUNTER(struct inbox_stats, messages),
	COUNTER(struct inbox_stats, incidents),
	COUNTER(struct inbox_stats, stored),
	COUNTER(struct inbox_stats, duplicates),
	COUNTER(struct inbox_stats, acks),
	COUNTER(struct inbox_stats, rejected),
	COUNTER(struct inbox_stats, bad),
	COUNTER(struct inbox_stats, unexpected),
	COUNTER(struct inbox_stats, unauthorised),
	COUNTER(struct inbox_stats, store_failed),
	COUNTER(struct inbox_stats, send_failed),
	COUNTER(struct inbox_stats, heartbeats_in),
	COUNTER(struct inbox_stats, heartbeats_out),
};

static const struct counter zap_counters[] = {
	COUNTER(struct zap_stats, accepted),
	COUNTER(struct zap_stats, refused),
	COUNTER(struct zap_stats, malformed),
	COUNTER(struct zap_stats, reloads),
	COUNTER(struct zap_stats, events_dropped),
};

static const struct counter control_counters[] = {
	COUNTER(struct control_stats, accepted),
	COUNTER(struct control_stats, refused),
	COUNTER(struct control_stats, requests),
	COUNTER(struct control_stats, bad_requests),
	COUNTER(struct control_stats, too_long),
	COUNTER(struct control_stats, idle_closed),
};

static void set_counters(json_t *o, const void *stats,
			 const struct counter *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)stats + t[i].offset, sizeof(v));
		jb_set(o, t[i].name, juint(v));
	}
}

#define SET_COUNTERS(o, stats, table) \
	set_counters((o), (stats), (table), sizeof(table) / sizeof((table)[0]))

static json_t *inbox_json(struct inbox *ib)
{
	struct inbox_stats s;
	json_t *o = jb_new(json_object()), *by = jb_new(json_object()), *eps;

	inbox_get_stats(ib, &s);
	eps = jb_new(json_array());
	for (size_t i = 0; i < inbox_n_endpoints(ib); i++)
		if (json_array_append_new(eps, jstr(inbox_endpoint(ib, i))) != 0)
			abort();
	jb_set(o, "endpoints", eps);
	SET_COUNTERS(o, &s, inbox_counters);
	for (unsigned c = 1; c < INBOX_N_STATUS; c++)
		jb_set(by, bw_wire_status_name(c), juint(s.rejected_by[c]));
	jb_set(o, "rejected_by", by);
	return o;
}

static const struct counter mailer_counters[] = {
	COUNTER(struct mailer_stats, started),
	COUNTER(struct mailer_stats, sent),
	COUNTER(struct mailer_stats, retried),
	COUNTER(struct mailer_stats, failed),
	COUNTER(struct mailer_stats, ambiguous),
	COUNTER(struct mailer_stats, errors),
};

static const struct counter notify_counters[] = {
	COUNTER(struct notify_stats, team_messages),
	COUNTER(struct notify_stats, notices),
	COUNTER(struct notify_stats, held),
	COUNTER(struct notify_stats, unresolved),
	COUNTER(struct notify_stats, alternate),
	COUNTER(struct notify_stats, problems_told),
	COUNTER(struct notify_stats, reminders),
	COUNTER(struct notify_stats, notified),
	COUNTER(struct notify_stats, errors),
};

static const struct counter directory_counters[] = {
	COUNTER(struct directory_stats, lookups),
	COUNTER(struct directory_stats, found),
	COUNTER(struct directory_stats, not_found),
	COUNTER(struct directory_stats, refused_lookups),
	COUNTER(struct directory_stats, failed),
	COUNTER(struct directory_stats, requests),
	COUNTER(struct directory_stats, cache_hits),
	COUNTER(struct directory_stats, reloads),
};

static json_t *mail_json(struct control_cmd_ctx *ctx)
{
	struct mailer_stats m;
	struct notify_stats t;
	struct directory_stats d;
	json_t *o = jb_new(json_object()), *x;

	mailer_get_stats(ctx->mailer, &m);
	notify_get_stats(ctx->notify, &t);
	directory_get_stats(ctx->dir, &d);
	x = jb_new(json_object());
	SET_COUNTERS(x, &m, mailer_counters);
	jb_set(x, "in_flight", juint(m.in_flight));
	jb_set(x, "relay_held_until", jtime(m.relay_hold_until_us));
	jb_set(o, "mailer", x);
	x = jb_new(json_object());
	SET_COUNTERS(x, &t, notify_counters);
	jb_set(x, "tracked_incidents", juint(t.tracked));
	jb_set(o, "notices", x);
	x = jb_new(json_object());
	SET_COUNTERS(x, &d, directory_counters);
	jb_set(x, "entries", juint(d.entries));
	jb_set(x, "refused_rows", juint(d.refused));
	jb_set(x, "cached", juint(d.cached));
	jb_set(o, "directory", x);
	if (ctx->conf != NULL) {
		jb_set(o, "transport",
		       ctx->conf->mail_transport == NOTIFCONF_FILE
			       ? json_sprintf("file:%s", ctx->conf->mail_dir)
			       : jstr(ctx->conf->mail_url));
		jb_set(o, "directory_kind",
		       jstr(directory_kind_name(ctx->conf->dir_kind)));
	}
	return o;
}

static json_t *cmd_status(struct control_cmd_ctx *ctx, const json_t *req,
			  const struct control_peer *peer)
{
	json_t *resp = ok_response(), *st = jb_new(json_object());
	int64_t now = bw_now_us();
	struct agents_state as = { .zap = ctx->zap };

	jb_set(st, "version", jstr(ctx->version));
	jb_set(st, "started", jtime(ctx->started_us));
	jb_set(st, "now", jtime(now));
	jb_set(st, "uptime_s", json_integer((now - ctx->started_us) / 1000000));
	jb_set(st, "store", jstr(ctx->store_path));
	jb_set(st, "you", jstr(peer->user));
	if (ctx->inbox != NULL)
		jb_set(st, "inbox", inbox_json(ctx->inbox));
	if (ctx->zap != NULL) {
		struct zap_stats z;
		json_t *o = jb_new(json_object());

		zap_get_stats(ctx->zap, &z);
		jb_set(o, "authorized_agents", juint(z.agents));
		SET_COUNTERS(o, &z, zap_counters);
		jb_set(st, "auth", o);
	}
	if (ctx->control != NULL) {
		struct control_stats c;
		json_t *o = jb_new(json_object());

		control_get_stats(ctx->control, &c);
		jb_set(o, "clients", juint(c.clients));
		SET_COUNTERS(o, &c, control_counters);
		jb_set(st, "control", o);
	}
	if (ctx->mailer != NULL && ctx->notify != NULL && ctx->dir != NULL)
		jb_set(st, "mail", mail_json(ctx));
	as.list = jb_new(json_array());
	if (ctx->inbox != NULL)
		inbox_agents(ctx->inbox, agent_row, &as);
	jb_set(st, "agents", as.list);
	jb_set(resp, "status", st);
	return resp;
}

/*
 * Dispatch.
 */

static const char *const m_none[] = { NULL };
static const char *const m_incidents[] = { "state", "min_severity", "since",
					   "limit", NULL };
static const char *const m_id[] = { "id", NULL };
static const char *const m_contain[] = { "id", "note", NULL };
static const char *const m_close[] = { "id", "resolution", NULL };
static const char *const m_note[] = { "id", "text", NULL };
static const char *const m_aware[] = { "id", "time", "reason", NULL };
static const char *const m_report[] = { "id", "format", NULL };
static const char *const m_approve[] = { "id", "reason", NULL };
static const char *const m_notify[] = { "id", "reason", "update", NULL };

static const struct cmd cmds[] = {
	{ .name = "incidents", .members = m_incidents, .run = cmd_incidents },
	{ .name = "show", .members = m_id, .run = cmd_show },
	{ .name = "contain", .members = m_contain,
	  .write = store_add_manual_step, .text = "note" },
	{ .name = "close", .members = m_close,
	  .write = store_close_incident, .text = "resolution" },
	{ .name = "note", .members = m_note, .write = store_add_note,
	  .text = "text" },
	{ .name = "aware", .members = m_aware, .run = cmd_aware },
	{ .name = "report", .members = m_report, .run = cmd_report },
	{ .name = "verify", .members = m_none, .run = cmd_verify },
	{ .name = "status", .members = m_none, .run = cmd_status },
	{ .name = "approve", .members = m_approve, .run = cmd_approve },
	{ .name = "notify", .members = m_notify, .run = cmd_notify },
	{ .name = "notify_status", .members = m_id,
	  .run = cmd_notify_status },
};

json_t *control_cmd_handle(const json_t *req, const struct control_peer *peer,
			   void *arg)
{
	struct control_cmd_ctx *ctx = arg;
	const struct cmd *cmd = NULL;
	const char *name, *key;
	json_t *resp = NULL, *v;

	if (get_str(req, "cmd", true, &name, &resp) < 0)
		return resp;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL)
		return error_response("bad_request", "unknown cmd \"%.32s\"",
				      name);
	json_object_foreach((json_t *)req, key, v) {
		size_t k;

		if (strcmp(key, "cmd") == 0)
			continue;
		for (k = 0; cmd->members[k] != NULL; k++)
			if (strcmp(key, cmd->members[k]) == 0)
				break;
		if (cmd->members[k] == NULL)
			return error_response("bad_request",
					      "%s: unknown member \"%.64s\"",
					      cmd->name, key);
	}
	if (cmd->write != NULL)
		return cmd_text_write(ctx, cmd, req, peer);
	return cmd->run(ctx, req, peer);
}
