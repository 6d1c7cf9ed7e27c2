/*
 * parse_sshd.c - OpenSSH server messages from the auth log, behind a syslog
 * header (RFC 3164 with the `timezone` and `year` options, rsyslog's RFC
 * 3339 form, or RFC 5424).
 *
 * Every event is kind auth, source sshd; host is the syslog host, text the
 * sshd message. Lines of other programs, and sshd lines of no interest,
 * are ignored (0), not rejected.
 *
 *   Failed|Accepted METHOD for [invalid user ]USER from ADDR port N ssh2[:
 * INFO] outcome failure|success, action METHOD, detail invalid_user Invalid
 * user USER from ADDR[ port N] outcome failure, action none, detail
 * invalid_user maximum authentication attempts exceeded for [invalid user ]USER
 * from ... outcome failure, detail max_attempts Disconnected from|Connection
 * closed by|Connection reset by [authenticating |invalid ]user USER ADDR port N
 * [preauth] action disconnect; outcome failure when a user was still
 *       authenticating; detail invalid_user or preauth
 *   ROOT LOGIN REFUSED FROM ADDR; User USER from ADDR not allowed because ...
 *       outcome failure, detail refused / not_allowed
 *   error: PAM: Authentication failure for USER from HOST (macOS, BSD)
 *       outcome failure, action pam
 *
 * Log injection: USER is whatever the client sent (" from 6.6.6.6 port 1
 * ssh2" included), and so is part of INFO in some versions. Address and
 * port are therefore read from the right: of the " from ADDR ..." tails
 * that fit the grammar, the most complete one (address, port and protocol
 * before the end or ": ") wins, the rightmost among equals. When more than
 * one fits, the line was forged on purpose: detail says log_injection.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/cfg.h"
#include "../common/xmalloc.h"
#include "parse_util.h"

struct sshd {
	struct bw_tz *tz;
	int year;
	bool ref_set;
	int64_t ref_us;
};

const char *const parse_sshd_keys[] = {"timezone", "year", NULL};

static const struct bw_str S_FAILURE = BW_STR_LIT("failure");
static const struct bw_str S_SUCCESS = BW_STR_LIT("success");
static const struct bw_str S_INVALID = BW_STR_LIT("invalid_user");
static const struct bw_str S_INJECTION = BW_STR_LIT("log_injection");
static const struct bw_str S_PREAUTH = BW_STR_LIT("preauth");
static const struct bw_str S_MAXAUTH = BW_STR_LIT("max_attempts");
static const struct bw_str S_REFUSED = BW_STR_LIT("refused");
static const struct bw_str S_NOTALLOWED = BW_STR_LIT("not_allowed");
static const struct bw_str S_NONE = BW_STR_LIT("none");
static const struct bw_str S_DISCONNECT = BW_STR_LIT("disconnect");

void parse_sshd_destroy(void *st)
{
	struct sshd *s = st;

	if (s == NULL)
		return;
	bw_tz_destroy(&s->tz);
	free(s);
}

void *parse_sshd_create(const config_setting_t *opts, enum bw_source source,
                        struct bw_error *err)
{
	struct sshd *s = xcalloc(1, sizeof(*s));
	const char *tzname = NULL;
	int64_t year = 0;

	(void)source;
	if (opts == NULL)
		return s;
	if (bw_cfg_string(opts, "timezone", false, &tzname, err) != 0 ||
	    bw_cfg_int(opts, "year", false, 1970, 9999, &year, err) != 0)
		goto fail;
	if (tzname != NULL) {
		struct bw_error e;

		s->tz = bw_tz_load(tzname, &e);
		if (s->tz == NULL) {
			bw_cfg_error(
			    err, config_setting_get_member(opts, "timezone"),
			    "timezone: %s", e.msg);
			goto fail;
		}
	}
	s->year = (int)year;
	return s;
fail:
	parse_sshd_destroy(s);
	return NULL;
}

void parse_sshd_set_ref(void *st, int64_t ref_us)
{
	struct sshd *s = st;

	s->ref_set = true;
	s->ref_us = ref_us;
}

/* Whether [p, end) is empty or " [preauth]" (or, when colon, starts with
 * ": "). */
static bool tail_ok(const char *p, const char *end, bool colon)
{
	size_t n = (size_t)(end - p);

	if (n == 0)
		return true;
	if (n == 10 && memcmp(p, " [preauth]", 10) == 0)
		return true;
	return colon && PSTARTS(p, n, ": ");
}

/* A decimal port. */
static int port_num(const char *p, size_t n, uint16_t *out)
{
	int64_t v;

	if (n > 5 || parse_util_uint(p, n, &v) != 0 || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/*
 * How well "ADDR[ port N[ sshN]]" followed by a valid tail fits at p:
 * 3 for address, port and protocol (then the end, " [preauth]" or ": "),
 * 2 for address and port, 1 for the address alone (then the end or
 * " [preauth]"), 0 when it does not fit.
 */
static int from_rank(const char *p, const char *end, struct bw_addr *a,
                     uint16_t *port)
{
	const char *sp = memchr(p, ' ', (size_t)(end - p)), *q;

	if (sp == NULL)
		sp = end;
	if (parse_util_addr(p, (size_t)(sp - p), a) != 0)
		return 0;
	*port = 0;
	if (!PSTARTS(sp, (size_t)(end - sp), " port "))
		return tail_ok(sp, end, false) ? 1 : 0;
	p = sp + 6;
	for (q = p; q < end && *q >= '0' && *q <= '9'; q++)
		;
	if (port_num(p, (size_t)(q - p), port) != 0)
		return 0;
	if (end - q >= 5 && memcmp(q, " ssh", 4) == 0 && q[4] >= '1' &&
	    q[4] <= '2')
		return tail_ok(q + 5, end, true) ? 3 : 0;
	return tail_ok(q, end, false) ? 2 : 0;
}

/*
 * Find the " from ADDR ..." of [p, end) (p is where the user name starts,
 * which may be empty) by the rule in the header comment. Sets the event's
 * address and port, *user_end, and *forged when several tails fit.
 * Returns 0, or -1 when none fits.
 */
static int find_from(const char *p, const char *end, struct bw_event *ev,
                     const char **user_end, bool *forged)
{
	const char *q, *best = NULL;
	struct bw_addr a, best_a;
	uint16_t port, best_port = 0;
	int rank, best_rank = 0, nbest = 0;
	size_t n;

	if (p > end)
		return -1;
	/* Candidates are " from " starting at p - 1 (the space before an
	 * empty user name: "invalid user  from 1.2.3.4") or later, scanned
	 * right to left. p - 1 is inside the line: a prefix precedes p. */
	n = (size_t)(end - p);
	q = parse_util_rfind(p - 1, n + 1, " from ", 6);
	while (q != NULL) {
		rank = from_rank(q + 6, end, &a, &port);
		if (rank > best_rank) {
			best_rank = rank;
			best = q;
			best_a = a;
			best_port = port;
			nbest = 1;
		} else if (rank > 0 && rank == best_rank) {
			nbest++;
		}
		if (q == p - 1)
			break;
		q = parse_util_rfind(p - 1, (size_t)(q - (p - 1)) + 5, " from ",
		                     6);
	}
	if (best == NULL)
		return -1;
	ev->src_ip = best_a;
	ev->src_port = best_port;
	*user_end = best < p ? p : best;
	*forged = nbest > 1;
	return 0;
}

/* "Failed|Accepted METHOD for [invalid user ]USER from ..." */
static int on_auth(const char *p, const char *end, struct bw_event *ev,
                   struct bw_error *err, bool success)
{
	const char *for_, *user, *uend;
	bool invalid, forged;

	for_ = parse_util_find(p, (size_t)(end - p), " for ", 5);
	if (for_ == NULL || for_ == p || memchr(p, ' ', (size_t)(for_ - p)))
		return PARSE_IGNORED; /* "Failed to ...", not an attempt */
	ev->action = pstr(p, (size_t)(for_ - p));
	user = for_ + 5;
	invalid = PSTARTS(user, (size_t)(end - user), "invalid user ");
	if (invalid)
		user += 13;
	if (find_from(user, end, ev, &uend, &forged) != 0) {
		bw_error_set(err, NULL, 0, "sshd: no source address in %s line",
		             success ? "Accepted" : "Failed");
		return PARSE_REJECT;
	}
	if (PSTARTS(user, (size_t)(uend - user), "<invalid username>"))
		invalid = true;
	else
		ev->principal = pstr(user, (size_t)(uend - user));
	ev->outcome = success ? S_SUCCESS : S_FAILURE;
	if (forged)
		ev->detail = S_INJECTION;
	else if (invalid)
		ev->detail = S_INVALID;
	return PARSE_EVENT;
}

static int on_failed(const char *p, const char *end, struct bw_event *ev,
                     struct bw_error *err)
{
	return on_auth(p, end, ev, err, false);
}

static int on_accepted(const char *p, const char *end, struct bw_event *ev,
                       struct bw_error *err)
{
	return on_auth(p, end, ev, err, true);
}

/* "Invalid user USER from ADDR[ port N]" */
static int on_invalid(const char *p, const char *end, struct bw_event *ev,
                      struct bw_error *err)
{
	const char *uend;
	bool forged;

	if (find_from(p, end, ev, &uend, &forged) != 0) {
		bw_error_set(err, NULL, 0,
		             "sshd: no source address in Invalid user line");
		return PARSE_REJECT;
	}
	ev->principal = pstr(p, (size_t)(uend - p));
	ev->action = S_NONE;
	ev->outcome = S_FAILURE;
	ev->detail = forged ? S_INJECTION : S_INVALID;
	return PARSE_EVENT;
}

/* "maximum authentication attempts exceeded for [invalid user ]USER from
 * ADDR port N ssh2 [preauth]" */
static int on_maxauth(const char *p, const char *end, struct bw_event *ev,
                      struct bw_error *err)
{
	const char *uend;
	bool forged;

	if (PSTARTS(p, (size_t)(end - p), "invalid user "))
		p += 13;
	if (find_from(p, end, ev, &uend, &forged) != 0) {
		bw_error_set(
		    err, NULL, 0,
		    "sshd: no source address in maximum attempts line");
		return PARSE_REJECT;
	}
	ev->principal = pstr(p, (size_t)(uend - p));
	ev->outcome = S_FAILURE;
	ev->detail = forged ? S_INJECTION : S_MAXAUTH;
	return PARSE_EVENT;
}

/*
 * "Disconnected from ...", "Connection closed by ...", "Connection reset
 * by ...": [[authenticating |invalid ]user USER ]ADDR[ port N][ [preauth]],
 * read from the right.
 */
static int on_disconnect(const char *p, const char *end, struct bw_event *ev,
                         struct bw_error *err)
{
	const char *q, *sp;
	bool preauth = false;

	(void)err;
	if (end - p >= 10 && memcmp(end - 10, " [preauth]", 10) == 0) {
		preauth = true;
		end -= 10;
	}
	q = end;
	while (q > p && q[-1] >= '0' && q[-1] <= '9')
		q--;
	if (q < end && q - p >= 6 && memcmp(q - 6, " port ", 6) == 0) {
		if (port_num(q, (size_t)(end - q), &ev->src_port) != 0)
			return PARSE_IGNORED;
		end = q - 6;
	}
	sp = memrchr(p, ' ', (size_t)(end - p));
	q = sp != NULL ? sp + 1 : p;
	if (parse_util_addr(q, (size_t)(end - q), &ev->src_ip) != 0)
		return PARSE_IGNORED;
	ev->action = S_DISCONNECT;
	if (sp == NULL) {
		if (preauth)
			ev->detail = S_PREAUTH;
		return PARSE_EVENT;
	}
	end = sp;
	if (PSTARTS(p, (size_t)(end - p), "authenticating user ")) {
		p += 20;
		ev->outcome = S_FAILURE;
		ev->detail = S_PREAUTH;
	} else if (PSTARTS(p, (size_t)(end - p), "invalid user ")) {
		p += 13;
		ev->outcome = S_FAILURE;
		ev->detail = S_INVALID;
	} else if (PSTARTS(p, (size_t)(end - p), "user ")) {
		p += 5;
		if (preauth)
			ev->detail = S_PREAUTH;
	} else {
		return PARSE_IGNORED;
	}
	ev->principal = pstr(p, (size_t)(end - p));
	return PARSE_EVENT;
}

/* "ROOT LOGIN REFUSED FROM ADDR[ port N][ [preauth]]" */
static int on_root_refused(const char *p, const char *end, struct bw_event *ev,
                           struct bw_error *err)
{
	(void)err;
	if (from_rank(p, end, &ev->src_ip, &ev->src_port) == 0)
		return PARSE_IGNORED;
	ev->principal = BW_STR_LIT("root");
	ev->outcome = S_FAILURE;
	ev->detail = S_REFUSED;
	return PARSE_EVENT;
}

/* "User USER from ADDR not allowed because REASON" */
static int on_not_allowed(const char *p, const char *end, struct bw_event *ev,
                          struct bw_error *err)
{
	const char *na, *from, *a;

	(void)err;
	na =
	    parse_util_rfind(p, (size_t)(end - p), " not allowed because ", 21);
	if (na == NULL)
		return PARSE_IGNORED;
	from = parse_util_rfind(p, (size_t)(na - p), " from ", 6);
	if (from == NULL)
		return PARSE_IGNORED; /* "User root not allowed because ..." */
	a = from + 6;
	if (parse_util_addr(a, (size_t)(na - a), &ev->src_ip) != 0)
		return PARSE_IGNORED; /* a host name: no address to act on */
	ev->principal = pstr(p, (size_t)(from - p));
	ev->outcome = S_FAILURE;
	ev->detail = S_NOTALLOWED;
	return PARSE_EVENT;
}

/* "PAM: Authentication failure for USER from HOST[ via ADDR]" (also
 * "authentication error"; macOS, FreeBSD): the address only when HOST is
 * one. */
static int on_pam(const char *p, const char *end, struct bw_event *ev,
                  struct bw_error *err)
{
	const char *for_, *from, *a, *via;

	(void)err;
	if (!PSTARTS(p, (size_t)(end - p), "Authentication ") &&
	    !PSTARTS(p, (size_t)(end - p), "authentication "))
		return PARSE_IGNORED;
	p += 15;
	if (PSTARTS(p, (size_t)(end - p), "failure for "))
		for_ = p + 12;
	else if (PSTARTS(p, (size_t)(end - p), "error for "))
		for_ = p + 10;
	else
		return PARSE_IGNORED;
	via = parse_util_rfind(for_, (size_t)(end - for_), " via ", 5);
	if (via != NULL &&
	    memchr(via + 5, ' ', (size_t)(end - via - 5)) == NULL)
		end = via;
	from = parse_util_rfind(for_, (size_t)(end - for_), " from ", 6);
	if (from == NULL)
		return PARSE_IGNORED;
	a = from + 6;
	if (memchr(a, ' ', (size_t)(end - a)) != NULL)
		return PARSE_IGNORED;
	if (parse_util_addr(a, (size_t)(end - a), &ev->src_ip) != 0)
		memset(&ev->src_ip, 0, sizeof(ev->src_ip)); /* a host name */
	ev->principal = pstr(for_, (size_t)(from - for_));
	ev->action = BW_STR_LIT("pam");
	ev->outcome = S_FAILURE;
	return PARSE_EVENT;
}

static const struct {
	const char *prefix;
	size_t len;
	int (*fn)(const char *p, const char *end, struct bw_event *ev,
	          struct bw_error *err);
} messages[] = {
#define MSG(s, f)                                                              \
	{                                                                      \
		s, sizeof(s) - 1, f                                            \
	}
    MSG("Failed ", on_failed),
    MSG("Accepted ", on_accepted),
    MSG("Invalid user ", on_invalid),
    MSG("Disconnected from ", on_disconnect),
    MSG("Connection closed by ", on_disconnect),
    MSG("Connection reset by ", on_disconnect),
    MSG("maximum authentication attempts exceeded for ", on_maxauth),
    MSG("ROOT LOGIN REFUSED FROM ", on_root_refused),
    MSG("User ", on_not_allowed),
    MSG("PAM: ", on_pam),
#undef MSG
};

static bool is_sshd(struct bw_str prog)
{
	return (prog.len == 4 && memcmp(prog.p, "sshd", 4) == 0) ||
	       (prog.len == 12 && memcmp(prog.p, "sshd-session", 12) == 0);
}

int parse_sshd_parse(void *st, const char *line, size_t len,
                     struct bw_event *ev, struct bw_error *err)
{
	struct sshd *s = st;
	struct syslog_hdr h;
	const char *p, *end, *q;
	size_t i;

	if (parse_util_syslog(line, len, s->tz, s->year,
	                      s->ref_set ? s->ref_us : bw_now_us(), &h,
	                      err) != 0)
		return PARSE_REJECT;
	if (!is_sshd(h.prog))
		return PARSE_IGNORED;
	p = h.msg;
	end = h.msg + h.msglen;
	/* Wrappers: "error: ", Solaris "[ID 800047 auth.info] ", and
	 * "message repeated N times: [ MSG]" (one event for the lot). */
	if (PSTARTS(p, (size_t)(end - p), "error: "))
		p += 7;
	if (PSTARTS(p, (size_t)(end - p), "[ID ")) {
		q = memchr(p, ']', (size_t)(end - p));
		if (q == NULL || end - q < 2 || q[1] != ' ')
			return PARSE_IGNORED;
		p = q + 2;
	}
	if (PSTARTS(p, (size_t)(end - p), "message repeated ")) {
		q = parse_util_find(p, (size_t)(end - p), ": [ ", 4);
		if (q == NULL || end[-1] != ']')
			return PARSE_IGNORED;
		p = q + 4;
		end--;
	}
	ev->kind = BW_KIND_AUTH;
	ev->ts_us = h.ts_us;
	ev->host = h.host;
	ev->text = pstr(p, (size_t)(end - p));
	for (i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
		if ((size_t)(end - p) >= messages[i].len &&
		    memcmp(p, messages[i].prefix, messages[i].len) == 0)
			return messages[i].fn(p + messages[i].len, end, ev,
			                      err);
	return PARSE_IGNORED;
}
