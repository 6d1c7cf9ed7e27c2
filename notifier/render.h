/*
 * render.h - the notifier's messages, from template files to whole
 * RFC 5322 messages ready for the outbox (docs/notifications.md).
 *
 * Templates live under a directory per locale:
 *
 *   <dir>/<locale>/customer.txt      the customer notice, text part (its
 *                                    first line "Subject: ...")
 *   <dir>/<locale>/customer.html     the same notice in HTML
 *   <dir>/<locale>/customer-update.txt, customer-update.html
 *                                    an update of the notice (a later
 *                                    version an operator asked for)
 *   <dir>/<locale>/notice-sections.txt, notice-sections.html
 *                                    the sections both share ({{> ...}})
 *   <dir>/<locale>/team-alert.txt    the security team's alert
 *   <dir>/<locale>/team-problem.txt  customers who could not be told
 *   <dir>/<locale>/team-reminder.txt notices waiting for approval
 *   <dir>/<locale>/phrases.conf      plain words for data kinds and
 *                                    containment actions
 *   <dir>/<locale>/categories/<category>.conf, .../default.conf
 *                                    what a notice says for a category:
 *                                    what_happened, consequences, measures,
 *                                    advice (a list)
 *
 * A file is looked for in the site's directory (templates, may be unset)
 * before the shipped one (share/breachwatch/templates), for the customer's
 * locale ("de-AT"), then its language ("de"), then "en". Files are read
 * once and kept until render_reload().
 *
 * What goes into a message is the incident's record and, for a customer,
 * that customer's entry alone: never another customer's id, nor the
 * evidence. Text that came from agents is made safe for a mail reader
 * (control characters shown as \xNN); the subject, a header, never holds a
 * line break; addresses and names with CR, LF or NUL are refused (mime.h).
 */
#ifndef BW_RENDER_H
#define BW_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "directory.h"
#include "outbox.h"
#include "store.h"

#define RENDER_MAX_FILE        (1u << 20)
#define RENDER_FIRST_CUSTOMERS 20 /* ids listed in a team alert */
#define RENDER_FIRST_EVIDENCE  10
#define RENDER_FIRST_PROBLEMS  50

/* The organisation that sends the messages. Borrowed strings. */
struct render_org {
	const char *name;
	const char *contact;   /* a contact point for customers (any text) */
	const char *dpo;       /* the data protection officer, may be NULL */
	const char *website;   /* may be NULL */
	const char *from_name; /* the sender's display name, may be NULL */
	const char *from;      /* the sender's address */
	const char *reply_to;  /* may be NULL */
};

struct render_params {
	const char *site_dir;    /* may be NULL */
	const char *shipped_dir; /* required */
	struct render_org org;
	const char *cli; /* the command the team is told to run, e.g.
	                    "breachwatch" or "breachwatch --socket X" */
};

struct render;

/* Check the organisation's addresses and that the English templates are
 * found and parse (both directories). Returns NULL with err (a template
 * error at file:line). Caller owns the result; params are copied. */
struct render *render_new(const struct render_params *p,
                          struct bw_error *err) BW_WUR;
void render_destroy(struct render **r);

/* Forget the files read (SIGHUP), after checking that the English
 * templates still parse; on error the old ones stay. */
int render_reload(struct render *r, struct bw_error *err) BW_WUR;

/* A rendered message. Owned: render_msg_clear(). */
struct render_msg {
	char *subject;
	char *message_id;
	char *message; /* the whole message, CRLF */
	size_t len;
};
void render_msg_clear(struct render_msg *m);

/* What an update of a customer's notice updates (render_customer). */
struct render_update {
	int64_t previous_us;             /* when that notice was sent */
	const char *previous_message_id; /* its Message-ID; may be NULL */
};

/* The notice to one customer of the incident rec: to is the address used
 * (who->email, or who->alt_email when alternate), version the notice's
 * version. upd NULL: the notice (customer.txt, .html); else an update of
 * the one sent at upd->previous_us (customer-update.txt, .html: subject
 * "Update to our Notice of Data Breach", what changed since then: the
 * containment steps that succeeded and the kinds of data first named
 * after it, the access stopped, the incident closed; then the notice's
 * sections with the facts as they are now), In-Reply-To the notice it
 * updates. The Message-ID is derived from (incident, customer, version).
 * rec needs its revisions, data kinds and steps (store_get_facts()).
 * Returns -1 with err (a refused value, a template error). */
int render_customer(struct render *r, const struct store_record *rec,
                    const struct directory_entry *who, const char *to,
                    bool alternate, uint32_t version,
                    const struct render_update *upd, int64_t now_us,
                    struct render_msg *out, struct bw_error *err) BW_WUR;

/* What a team message is about, besides the record. */
struct render_team {
	enum outbox_kind kind; /* TEAM_ALERT, TEAM_PROBLEM, TEAM_REMINDER */
	const char *to;
	uint32_t number;    /* this kind's number for the incident (1, 2..) */
	const char *reason; /* one line: why this message */
	bool escalation;    /* TEAM_ALERT: not the first */
	const char *policy; /* "auto" or "approve" */
	bool notify_customers;   /* customer notices are made */
	bool customers_off;      /* notify.customers = false */
	bool notify_hint;        /* not made, but `notify ID` would: say so */
	bool notify_decided;     /* made because an operator decided so */
	int64_t customers_at_us; /* auto: when customer notices go out */
	uint64_t held;           /* notices held for approval */
	/* TEAM_PROBLEM: the rows (at most RENDER_FIRST_PROBLEMS used) */
	const struct store_notification *problems;
	size_t n_problems;
	uint64_t problems_total;
};

/* A message to the security team about rec. */
int render_team_message(struct render *r, const struct store_record *rec,
                        const struct render_team *t, int64_t now_us,
                        struct render_msg *out, struct bw_error *err) BW_WUR;

#endif
