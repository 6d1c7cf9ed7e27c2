/*
 * notify.h - who is told what, and when (docs/notifications.md): the
 * notifier's policy over the breach record, making the messages of the
 * outbox (outbox.h) that the mailer then sends.
 *
 * For each incident:
 *
 *  - the security team is alerted at once when the incident is first
 *    stored, and again on escalation: the severity went up (at once), or
 *    more customers are affected (at most once per escalation_interval);
 *    one message per team address;
 *  - each affected customer gets one notice (version 1), rendered into the
 *    outbox, after a grouping wait: grouping_wait after the latest revision,
 *    but no later than grouping_max after the revision that first named a
 *    customer still waiting, so a growing incident settles into one notice
 *    per customer; a revision that adds customers leads to notices for the
 *    new ones only (the outbox has a unique notice per customer and
 *    version). Only when customer notices are on and the rule says
 *    customers are to be told (notify_customers) and the incident is not
 *    closed, or an operator decided they are to be told (notify_decide(),
 *    whatever the state); the team's alert of an incident whose rule does
 *    not ask says how to decide so;
 *  - by policy (per category, else per severity, else the default) the
 *    notices are sent (auto) or held until an operator approves (approve;
 *    an operator's notify decision is an approval too), with a reminder
 *    to the team every reminder_interval while any is held;
 *  - when an operator asks for an update (notify_update()), each customer
 *    sent a notice gets its next version, with what changed since;
 *  - when the breach is of the customers' own credentials, a notice goes to
 *    the alternate contact, or is held and the team told to reach the
 *    customer another way;
 *  - a customer the directory cannot resolve (not there, a refused entry,
 *    a failing source past dir_give_up, a name or address a header would
 *    refuse) is recorded as unresolved; the team is told about unresolved,
 *    failed, ambiguous and credential-held notices, at most once per
 *    problem_interval per incident;
 *  - the incident's notified milestone is reached when the team alert went
 *    out, every customer has a notice that is no longer waiting (pending,
 *    sending or held for approval), and, when there are customer notices,
 *    at least one was accepted by the relay.
 *
 * Work is bounded per call (NOTIFY_BATCH notices), so the loop goes on
 * acknowledging incidents while 10,000 notices are rendered. Single
 * threaded; nothing here logs.
 */
#ifndef BW_NOTIFY_H
#define BW_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/error.h"
#include "config.h"
#include "directory.h"
#include "mailer.h"
#include "outbox.h"
#include "render.h"
#include "store.h"

#define NOTIFY_ACTOR "breachwatch-notifier"
#define NOTIFY_BATCH 500 /* customer notices rendered per call */

enum notify_event_kind {
	NOTIFY_EV_TEAM,     /* team messages made (msg_kind, text: why) */
	NOTIFY_EV_NOTICES,  /* customer notices made (the counts; text:
	                       "update" for an update's, "held for
	                       approval", or "") */
	NOTIFY_EV_NOTIFIED, /* the incident's notified milestone (text) */
	NOTIFY_EV_ERROR,    /* the store, the directory or a template failed */
};

/* Borrowed for the call. */
struct notify_event {
	enum notify_event_kind kind;
	const char *incident_id;
	enum outbox_kind msg_kind;
	const char *text;
	uint64_t pending, held, unresolved, alternate;
};

struct notify_params {
	struct store *store; /* borrowed, like the rest */
	struct directory *dir;
	struct render *render;
	struct mailer *mailer;
	const struct notifconf *conf; /* team, policies, intervals */
	void (*on_event)(const struct notify_event *ev, void *arg);
	void *arg;
};

struct notify_stats {
	uint64_t team_messages, notices, held, unresolved, alternate;
	uint64_t problems_told, reminders, notified, errors;
	size_t tracked; /* incidents being looked after */
};

struct notify;

/* Take over from the store: messages a stopped notifier left sending are
 * pending again, and every incident since the outbox came that still needs
 * an alert, notices or reminders is looked after. Returns NULL with err.
 * Caller owns the result. */
struct notify *notify_new(const struct notify_params *p, int64_t now_us,
                          struct bw_error *err) BW_WUR;
void notify_destroy(struct notify **n);

/* A revision of incident id was stored at now_us. */
void notify_revision(struct notify *n, const char *id, int64_t now_us);

/* Something about incident id changed at now_us (an approval, a
 * delivery's outcome): look at it, and at problems to tell, again within
 * NOTIFY_TOUCH_DELAY_US (a burst of outcomes is looked at once). */
#define NOTIFY_TOUCH_DELAY_US INT64_C(1000000)
void notify_touch(struct notify *n, const char *id, int64_t now_us);

/* The directory has answers: look again at what waited for them. */
void notify_directory_ready(struct notify *n);

/* Do what is due at now_us (UTC), a bounded amount. Returns 1 when more is
 * due now, 0, or -1 with err (logged by the caller; it tries again). */
int notify_process(struct notify *n, int64_t now_us,
                   struct bw_error *err) BW_WUR;

/* When notify_process has something to do next (UTC us), or -1. */
int64_t notify_next_us(const struct notify *n);

void notify_get_stats(const struct notify *n, struct notify_stats *out);

/*
 * Operators' decisions (the control socket's notify request). Both are
 * recorded with the operator (from the kernel, not the request) and the
 * reason, audited, in the store's approvals table.
 */

#define NOTIFY_ANSWER_MAX 50 /* customers left out listed in an answer */

/* What a decision did, for the operator's answer. Owned:
 * notify_answer_clear(). */
struct notify_answer {
	bool refused;       /* err says why; nothing was written */
	bool rule_asks;     /* notify: the rule asked for the notices already */
	uint64_t released;  /* notify: notices held for approval released */
	uint64_t customers; /* notify: customers named now; update: customers
	                       sent the update */
	uint64_t left_out;  /* update: customers never sent a notice, who
	                       get none (the team is told) */
	struct store_notification *left; /* update: the first of them, with
	                                    their latest notice (state "none"
	                                    when none was made) */
	size_t n_left;
};
void notify_answer_clear(struct notify_answer *a);

/* operator decides that incident id's customers are to be told although
 * its rule did not ask for it: from now on each of them, and each named by
 * a later revision, gets a notice as if the rule had asked (after the
 * grouping wait), whatever the incident's state (a closed incident too);
 * the decision counts as the approval of policy approve (held notices are
 * released). Refused (a->refused, err saying why, nothing written) when
 * customer notices are off (notify.customers = false), when an operator
 * decided so already, and when the incident names no customer and its
 * scope is known. Returns -1 with err (refused, or the store failed: an
 * unknown incident among them), 0 when recorded. */
int notify_decide(struct notify *n, const char *id, const char *operator_name,
                  const char *reason, int64_t now_us, struct notify_answer *a,
                  struct bw_error *err) BW_WUR;

/* operator asks for an update of incident id's customer notices: every
 * customer sent a notice (state sent) gets the next version of it
 * (render_customer() with what changed since), made from the incident's
 * facts as they are then, at once (no grouping wait, not held for
 * approval; credentials still go to the alternate contact). The customers
 * never sent a notice are not included: a->left lists them, and the team
 * is told in a problem message recorded with the decision. Refused while
 * notices of the incident are still waiting (pending, being sent, held
 * for approval, not made yet, an earlier update still being made), when
 * no customer was sent a notice, and when customer notices are off. */
int notify_update(struct notify *n, const char *id, const char *operator_name,
                  const char *reason, int64_t now_us, struct notify_answer *a,
                  struct bw_error *err) BW_WUR;

#endif
