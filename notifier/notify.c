/*
 * notify.c - who is told what, and when (see notify.h).
 *
 * The incidents that may need something are kept in a short list (tracks),
 * each with the time it is next due. A turn looks at the due ones: it reads
 * the incident's record, makes what is owed (team alert, customer notices,
 * a reminder) into the outbox, reaches the notified milestone when it is
 * time, and either sets the next time or drops the incident from the list
 * until a revision, an approval or a delivery brings it back. Problems to
 * tell the team about are found across incidents by one query.
 */
#include "notify.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/bwtime.h"
#include "../common/xmalloc.h"

#define RETRY_US     (10 * INT64_C(1000000)) /* after a store or render error */
#define MAX_PROBLEMS 1000                    /* told in one pass */

struct track {
	char *id;
	int64_t wake_us;        /* 0: now; -1: only when touched */
	int64_t dir_failing_us; /* the directory failing since, 0 if not */
	bool dir_pending;       /* waits for HTTP answers */
	struct track *next;
};

struct notify {
	struct store *store;
	struct directory *dir;
	struct render *render;
	struct mailer *mailer;
	const struct notifconf *conf;
	void (*on_event)(const struct notify_event *ev, void *arg);
	void *arg;
	struct track *tracks;
	size_t n_tracks;
	bool problems_due;
	int64_t problems_wake_us; /* -1: none */
	struct notify_stats st;
};

static int64_t earlier(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Room for item n of an array of *cap items of size each: 64 at first,
 * doubling. Returns the (maybe moved) array. */
static void *grow(void *arr, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return arr;
	*cap = *cap ? 2 * *cap : 64;
	return xreallocarray(arr, *cap, size);
}

static void emit(struct notify *n, enum notify_event_kind kind, const char *id,
                 enum outbox_kind mk, const char *text)
{
	struct notify_event ev = {
	    .kind = kind, .incident_id = id, .msg_kind = mk, .text = text};

	if (n->on_event != NULL)
		n->on_event(&ev, n->arg);
}

static struct track *track_of(struct notify *n, const char *id, bool add)
{
	struct track *t;

	for (t = n->tracks; t != NULL; t = t->next)
		if (strcmp(t->id, id) == 0)
			return t;
	if (!add)
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->id = xstrdup(id);
	t->wake_us = -1;
	t->next = n->tracks;
	n->tracks = t;
	n->n_tracks++;
	return t;
}

static void track_drop(struct notify *n, struct track *t)
{
	struct track **pp = &n->tracks;

	while (*pp != NULL && *pp != t)
		pp = &(*pp)->next;
	if (*pp == t) {
		*pp = t->next;
		n->n_tracks--;
	}
	free(t->id);
	free(t);
}

void notify_revision(struct notify *n, const char *id, int64_t now_us)
{
	struct track *t = track_of(n, id, true);

	t->wake_us = 0;
}

void notify_touch(struct notify *n, const char *id, int64_t now_us)
{
	struct track *t = track_of(n, id, true);
	int64_t at = now_us + NOTIFY_TOUCH_DELAY_US;

	/* many outcomes in a row: one look a second is enough */
	t->wake_us = earlier(t->wake_us, at);
	n->problems_wake_us = earlier(n->problems_wake_us, at);
}

void notify_directory_ready(struct notify *n)
{
	for (struct track *t = n->tracks; t != NULL; t = t->next)
		if (t->dir_pending)
			t->wake_us = 0;
}

int64_t notify_next_us(const struct notify *n)
{
	int64_t next = n->problems_due ? 0 : n->problems_wake_us;

	for (const struct track *t = n->tracks; t != NULL; t = t->next)
		next = earlier(next, t->wake_us);
	return next;
}

void notify_get_stats(const struct notify *n, struct notify_stats *out)
{
	*out = n->st;
	out->tracked = n->n_tracks;
}

/*
 * Team messages.
 */

static enum notifconf_policy policy(const struct notify *n,
                                    const struct store_record *rec)
{
	return notifconf_policy_for(n->conf, rec->inc.severity,
	                            rec->inc.category);
}

/* Whether the incident's customers are to be told: customer notices are
 * on, and the rule asks for them while the incident is open, or an
 * operator decided so (breachwatch notify; a decision holds whatever the
 * state). */
static bool customers_wanted(const struct notify *n,
                             const struct store_record *rec)
{
	return n->conf->notify_customers &&
	       (rec->inc.notify_decided ||
	        (rec->inc.notify_customers && rec->inc.state != STORE_CLOSED));
}

/* An operator's notify would change that: notices are on, not wanted
 * yet, and the incident names customers or does not know its scope. */
static bool notify_possible(const struct notify *n,
                            const struct store_record *rec)
{
	return n->conf->notify_customers && !customers_wanted(n, rec) &&
	       (rec->inc.n_customers > 0 || rec->inc.affected_unknown);
}

/* Render one message of kind t about rec to each of the n_team
 * addresses: m[i] points into r[i] (the caller clears each r[i]). */
static int team_render(struct notify *n, const struct store_record *rec,
                       struct render_team *t, int64_t now_us,
                       struct outbox_msg *m, struct render_msg *r,
                       struct bw_error *err)
{
	for (size_t i = 0; i < n->conf->n_team; i++) {
		t->to = n->conf->team[i];
		if (render_team_message(n->render, rec, t, now_us, &r[i], err) <
		    0)
			return -1;
		m[i] = (struct outbox_msg){
		    .kind = t->kind,
		    .version = t->number,
		    .reason = t->reason,
		    .recipient = t->to,
		    .recipient_kind = "team",
		    .state = OUTBOX_PENDING,
		    .severity = rec->inc.severity,
		    .customers = rec->inc.n_customers,
		    .message_id = r[i].message_id,
		    .subject = r[i].subject,
		    .message = r[i].message,
		};
	}
	return 0;
}

/* One message of kind about incident id (its whole record read) to every
 * team address, in one transaction. */
static int team_messages(struct notify *n, const char *id,
                         struct render_team *t, int64_t now_us,
                         struct bw_error *err)
{
	size_t k = n->conf->n_team;
	struct store_record *rec = store_get(n->store, id, err);
	struct outbox_msg *m;
	struct render_msg *r;
	int rc = -1;

	if (rec == NULL)
		return -1;
	m = xcalloc(k, sizeof(*m));
	r = xcalloc(k, sizeof(*r));
	if (team_render(n, rec, t, now_us, m, r, err) < 0 ||
	    outbox_add(n->store, rec->inc.id, m, k, NOTIFY_ACTOR, now_us, NULL,
	               err) < 0)
		goto out;
	n->st.team_messages += k;
	mailer_kick(n->mailer);
	emit(n, NOTIFY_EV_TEAM, rec->inc.id, t->kind, t->reason);
	rc = 0;
out:
	for (size_t i = 0; i < k; i++)
		render_msg_clear(&r[i]);
	free(r);
	free(m);
	store_record_destroy(&rec);
	return rc;
}

/* The latest revision's arrival. */
static int64_t last_revision_us(const struct store_record *rec)
{
	int64_t t = rec->inc.detected_us;

	for (size_t i = 0; i < rec->n_revisions; i++)
		if (rec->revisions[i].received_us > t)
			t = rec->revisions[i].received_us;
	return t;
}

/* The alert: at once for a new incident; again when the severity went up,
 * or the customers grew and the last alert is escalation_interval old.
 * Lowers *wake to when a growth may be told. */
static int alert(struct notify *n, const struct store_record *rec,
                 int64_t customers_at_us, int64_t now_us, int64_t *wake,
                 struct bw_error *err)
{
	struct store_notification last;
	struct render_team t = {
	    .kind = OUTBOX_TEAM_ALERT,
	    .number = 1,
	    .policy = notifconf_policy_name(policy(n, rec)),
	    .notify_customers = customers_wanted(n, rec),
	    .customers_off = !n->conf->notify_customers,
	    .notify_hint = notify_possible(n, rec),
	    .notify_decided = rec->inc.notify_decided,
	    .customers_at_us = customers_at_us,
	};
	char reason[300];
	int rc =
	    outbox_last(n->store, rec->inc.id, OUTBOX_TEAM_ALERT, &last, err);

	if (rc < 0)
		return -1;
	if (rc == 0) {
		snprintf(reason, sizeof(reason),
		         "A new incident: %zu affected customer%s so far.",
		         rec->inc.n_customers,
		         rec->inc.n_customers == 1 ? "" : "s");
	} else if (rec->inc.severity > last.severity) {
		snprintf(reason, sizeof(reason),
		         "Escalation: the severity went from %s to %s (%zu "
		         "affected customers).",
		         bw_severity_name(last.severity),
		         bw_severity_name(rec->inc.severity),
		         rec->inc.n_customers);
		t.escalation = true;
	} else if (rec->inc.n_customers > last.customers) {
		int64_t at = last.created_us + n->conf->escalation_us;

		if (now_us < at) {
			*wake = earlier(*wake, at);
			store_notification_clear(&last);
			return 0;
		}
		snprintf(reason, sizeof(reason),
		         "Escalation: %zu affected customers now, %" PRIu64
		         " when the team was last alerted.",
		         rec->inc.n_customers, last.customers);
		t.escalation = true;
	} else {
		store_notification_clear(&last);
		return 0;
	}
	t.number = rc == 0 ? 1 : last.version + 1;
	t.reason = reason;
	store_notification_clear(&last);
	return team_messages(n, rec->inc.id, &t, now_us, err);
}

/*
 * Customer notices.
 */

struct todo {
	int64_t *rows;
	char **ids;
	uint32_t first; /* the revision that first named the first of them */
	size_t n, cap;
};

static int add_todo(int64_t row, const char *id, uint32_t first, void *arg)
{
	struct todo *t = arg;

	if (t->n == t->cap) {
		size_t cap = t->cap;

		t->rows = grow(t->rows, t->n, &cap, sizeof(*t->rows));
		t->ids = grow(t->ids, t->n, &t->cap, sizeof(*t->ids));
	}
	if (t->n == 0)
		t->first = first;
	t->rows[t->n] = row;
	t->ids[t->n++] = xstrdup(id);
	return 0;
}

static void todo_free(struct todo *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->ids[i]);
	free(t->rows);
	free(t->ids);
}

/* A notice's message, rendered for one customer (the strings it points at
 * live in the arrays below). */
struct batch {
	struct outbox_msg *m;
	struct render_msg *r;
	char **details;
	size_t n;
	uint64_t pending, held, unresolved, alternate;
	uint64_t failed; /* the directory failed: not made yet */
};

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		render_msg_clear(&b->r[i]);
		free(b->details[i]);
	}
	free(b->m);
	free(b->r);
	free(b->details);
}

/* What kind of notice one_notice() makes. */
struct notice_spec {
	uint32_t version;
	const char *reason;              /* notifications.reason */
	const struct render_update *upd; /* NULL: the first notice */
	bool hold_approval;              /* held until an operator approves */
};

/* One customer into the batch: found, unresolved, or (returns 1) not
 * answered yet by the directory. */
static int one_notice(struct notify *n, struct track *tr,
                      const struct store_record *rec, int64_t row,
                      const char *cid, const struct notice_spec *sp,
                      int64_t now_us, struct batch *b)
{
	struct outbox_msg *m = &b->m[b->n];
	struct directory_entry who;
	char why[600];
	struct bw_error err;
	const char *to;
	bool alternate = false;
	enum directory_result res =
	    directory_lookup(n->dir, cid, &who, why, sizeof(why));

	if (res == DIRECTORY_PENDING) {
		tr->dir_pending = true;
		return 1;
	}
	if (res == DIRECTORY_FAILED) {
		if (tr->dir_failing_us == 0)
			tr->dir_failing_us = now_us;
		if (now_us - tr->dir_failing_us < n->conf->dir_give_up_us) {
			b->failed++;
			return 1; /* tried again after retry_after */
		}
		/* given up: unresolved, with the source's error */
	}
	*m = (struct outbox_msg){
	    .kind = OUTBOX_CUSTOMER,
	    .customer_row = row,
	    .customer_id = cid,
	    .version = sp->version,
	    .reason = sp->reason,
	    .recipient_kind = "primary",
	    .severity = rec->inc.severity,
	    .customers = rec->inc.n_customers,
	};
	b->details[b->n] = NULL;
	if (res != DIRECTORY_FOUND) {
		m->state = OUTBOX_UNRESOLVED;
		b->details[b->n] = xstrdup(why);
		m->detail = b->details[b->n];
		b->unresolved++;
		b->n++;
		return 0;
	}
	to = who.email;
	if (rec->inc.credentials) {
		if (who.alt_email != NULL) {
			to = who.alt_email;
			alternate = true;
			m->recipient_kind = "alternate";
		} else {
			to = NULL;
		}
	}
	if (render_customer(n->render, rec, &who, to != NULL ? to : who.email,
	                    alternate, sp->version, sp->upd, now_us,
	                    &b->r[b->n], &err) < 0) {
		/* e.g. a name a header would refuse: told, never dropped */
		m->state = OUTBOX_UNRESOLVED;
		b->details[b->n] =
		    xasprintf("cannot be written to: %s", err.msg);
		m->detail = b->details[b->n];
		b->unresolved++;
		b->n++;
		directory_entry_clear(&who);
		return 0;
	}
	/* who goes before the batch is written: keep the address */
	b->details[b->n] = xstrdup(to != NULL ? to : who.email);
	m->recipient = b->details[b->n];
	m->message_id = b->r[b->n].message_id;
	m->subject = b->r[b->n].subject;
	m->message = b->r[b->n].message;
	if (to == NULL) {
		m->state = OUTBOX_HELD;
		m->hold = OUTBOX_HOLD_CREDENTIALS;
		m->detail = "the breach concerns the customer's own mailbox "
		            "credentials and there is no alternate contact: "
		            "reach them another way";
		b->held++;
	} else if (sp->hold_approval) {
		m->state = OUTBOX_HELD;
		m->hold = OUTBOX_HOLD_APPROVAL;
		m->detail = "held until an operator approves (policy approve)";
		b->held++;
	} else {
		m->state = OUTBOX_PENDING;
		b->pending++;
	}
	if (alternate)
		b->alternate++;
	b->n++;
	directory_entry_clear(&who);
	return 0;
}

/* Add the notices of batch b (one transaction), count them and say so
 * (what: "held for approval", "update" or ""). A directory that failed
 * for some lowers *wake to its retry. */
static int batch_add(struct notify *n, struct track *tr,
                     const struct store_record *rec, struct batch *b,
                     const char *what, int64_t now_us, int64_t *wake,
                     struct bw_error *err)
{
	struct notify_event ev = {
	    .kind = NOTIFY_EV_NOTICES,
	    .incident_id = rec->inc.id,
	    .msg_kind = OUTBOX_CUSTOMER,
	    .text = what,
	    .pending = b->pending,
	    .held = b->held,
	    .unresolved = b->unresolved,
	    .alternate = b->alternate,
	};

	if (b->failed > 0)
		*wake = earlier(*wake, now_us + n->conf->dir_retry_us);
	else
		tr->dir_failing_us = 0;
	if (b->n == 0)
		return 0;
	if (outbox_add(n->store, rec->inc.id, b->m, b->n, NOTIFY_ACTOR, now_us,
	               NULL, err) < 0)
		return -1;
	n->st.notices += b->n - b->unresolved;
	n->st.held += b->held;
	n->st.unresolved += b->unresolved;
	n->st.alternate += b->alternate;
	if (b->pending > 0)
		mailer_kick(n->mailer);
	if (b->unresolved > 0 || b->held > 0)
		n->problems_due = true;
	if (n->on_event != NULL)
		n->on_event(&ev, n->arg);
	return 0;
}

/* Render and add the next batch of notices when the grouping wait is over.
 * *more: a full batch was made. Lowers *wake. */
static int notices(struct notify *n, struct track *tr,
                   const struct store_record *rec, int64_t now_us,
                   int64_t *wake, bool *more, struct bw_error *err)
{
	struct todo todo = {0};
	struct batch b = {0};
	struct notice_spec sp = {
	    .version = 1,
	    .reason = "affected by the incident",
	};
	int64_t due, got;
	int rc = -1, approved;

	*more = false;
	got = outbox_customers_todo(n->store, rec->inc.id, NOTIFY_BATCH,
	                            add_todo, &todo, err);
	if (got < 0)
		return -1;
	if (got == 0) {
		todo_free(&todo);
		return 0;
	}
	/* the grouping wait: the incident settles */
	due = last_revision_us(rec) + n->conf->grouping_wait_us;
	{
		int64_t cap = store_record_received(rec, todo.first) +
		              n->conf->grouping_max_us;

		if (cap < due)
			due = cap;
	}
	if (now_us < due) {
		*wake = earlier(*wake, due);
		todo_free(&todo);
		return 0;
	}
	if (policy(n, rec) == NOTIFCONF_APPROVE) {
		approved = outbox_approved(n->store, rec->inc.id, err);
		if (approved < 0)
			goto out;
		sp.hold_approval = approved == 0;
	}
	b.m = xcalloc(todo.n, sizeof(*b.m));
	b.r = xcalloc(todo.n, sizeof(*b.r));
	b.details = xcalloc(todo.n, sizeof(*b.details));
	for (size_t i = 0; i < todo.n; i++)
		(void)one_notice(n, tr, rec, todo.rows[i], todo.ids[i], &sp,
		                 now_us, &b);
	if (batch_add(n, tr, rec, &b,
	              sp.hold_approval ? "held for approval" : "", now_us, wake,
	              err) < 0)
		goto out;
	*more = (size_t)got == NOTIFY_BATCH && b.n > 0;
	rc = 0;
out:
	batch_free(&b);
	todo_free(&todo);
	return rc;
}

/*
 * Updates an operator asked for (notify_update): each customer sent a
 * notice gets the next version, made in batches like the first notices,
 * without a grouping wait and without being held for approval (the
 * operator asked for it).
 */

struct utodo {
	struct outbox_update_todo *t; /* strings owned */
	size_t n, cap;
};

static int add_utodo(const struct outbox_update_todo *t, void *arg)
{
	struct utodo *u = arg;
	struct outbox_update_todo *c;

	u->t = grow(u->t, u->n, &u->cap, sizeof(*u->t));
	c = &u->t[u->n++];
	*c = *t;
	c->customer_id = xstrdup(t->customer_id);
	c->message_id = t->message_id != NULL ? xstrdup(t->message_id) : NULL;
	return 0;
}

static void utodo_free(struct utodo *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free((char *)u->t[i].customer_id);
		free((char *)u->t[i].message_id);
	}
	free(u->t);
}

/* The next batch of the latest update's notices. *more: a full batch was
 * made. Lowers *wake. */
static int updates(struct notify *n, struct track *tr,
                   const struct store_record *rec, int64_t now_us,
                   int64_t *wake, bool *more, struct bw_error *err)
{
	struct outbox_update u;
	struct utodo todo = {0};
	struct batch b = {0};
	char *reason = NULL;
	int64_t got;
	int rc = outbox_last_update(n->store, rec->inc.id, &u, err);

	*more = false;
	if (rc <= 0)
		return rc;
	got = outbox_update_todo(n->store, rec->inc.id, u.upto_row,
	                         NOTIFY_BATCH, add_utodo, &todo, err);
	if (got <= 0) {
		utodo_free(&todo);
		return got < 0 ? -1 : 0;
	}
	rc = -1;
	reason = xasprintf("update asked for by %s", u.operator_name);
	b.m = xcalloc(todo.n, sizeof(*b.m));
	b.r = xcalloc(todo.n, sizeof(*b.r));
	b.details = xcalloc(todo.n, sizeof(*b.details));
	for (size_t i = 0; i < todo.n; i++) {
		const struct render_update upd = {
		    .previous_us = todo.t[i].sent_us,
		    .previous_message_id = todo.t[i].message_id,
		};
		const struct notice_spec sp = {
		    .version = todo.t[i].last_version + 1,
		    .reason = reason,
		    .upd = &upd,
		};

		(void)one_notice(n, tr, rec, todo.t[i].customer_row,
		                 todo.t[i].customer_id, &sp, now_us, &b);
	}
	if (batch_add(n, tr, rec, &b, "update", now_us, wake, err) < 0)
		goto out;
	*more = (size_t)got == NOTIFY_BATCH && b.n > 0;
	rc = 0;
out:
	free(reason);
	batch_free(&b);
	utodo_free(&todo);
	return rc;
}

/* A reminder while notices are held for approval: the first when they are
 * held, then every reminder_interval. */
static int reminder(struct notify *n, const struct store_record *rec,
                    uint64_t held, int64_t now_us, int64_t *wake,
                    struct bw_error *err)
{
	struct store_notification last;
	struct render_team t = {
	    .kind = OUTBOX_TEAM_REMINDER,
	    .policy = "approve",
	    .notify_customers = true,
	    .held = held,
	};
	char reason[200];
	int rc = outbox_last(n->store, rec->inc.id, OUTBOX_TEAM_REMINDER, &last,
	                     err);

	if (rc < 0)
		return -1;
	if (rc == 1 && now_us < last.created_us + n->conf->reminder_us) {
		*wake = earlier(*wake, last.created_us + n->conf->reminder_us);
		store_notification_clear(&last);
		return 0;
	}
	t.number = rc == 1 ? last.version + 1 : 1;
	store_notification_clear(&last);
	snprintf(reason, sizeof(reason),
	         "Reminder: %" PRIu64 " customer notice%s await%s your "
	         "approval.",
	         held, held == 1 ? "" : "s", held == 1 ? "s" : "");
	t.reason = reason;
	if (team_messages(n, rec->inc.id, &t, now_us, err) < 0)
		return -1;
	n->st.reminders++;
	*wake = earlier(*wake, now_us + n->conf->reminder_us);
	return 0;
}

/* The notified milestone: the team alert went, and every customer has a
 * notice no longer waiting. */
static int milestone(struct notify *n, const struct store_record *rec,
                     const struct outbox_counts *c, bool todo_left,
                     struct bw_error *err)
{
	const uint64_t *cust = c->n[OUTBOX_CUSTOMER];
	uint64_t waiting = cust[OUTBOX_PENDING] + cust[OUTBOX_SENDING];
	uint64_t total = 0;
	char reason[400];

	if (rec->inc.notified_us != 0 ||
	    c->n[OUTBOX_TEAM_ALERT][OUTBOX_SENT] == 0)
		return 0;
	if (waiting > 0 || c->held_approval > 0 || todo_left)
		return 0;
	for (int s = 1; s < OUTBOX_N_STATES; s++)
		total += cust[s];
	/* customers to tell, and none could be: not notified (the team was
	 * told of each) */
	if (total > 0 && cust[OUTBOX_SENT] == 0)
		return 0;
	if (total == 0)
		snprintf(reason, sizeof(reason),
		         "the security team was alerted; no customer notice "
		         "(%s)",
		         customers_wanted(n, rec)
		             ? "no customer named"
		             : "the rule or the configuration asks for "
		               "none");
	else
		snprintf(reason, sizeof(reason),
		         "the security team was alerted; %" PRIu64
		         " of %" PRIu64
		         " customer notices accepted by the relay (%" PRIu64
		         " unresolved, %" PRIu64 " failed, %" PRIu64
		         " ambiguous, %" PRIu64 " held: credentials)",
		         cust[OUTBOX_SENT], total, cust[OUTBOX_UNRESOLVED],
		         cust[OUTBOX_FAILED], cust[OUTBOX_AMBIGUOUS],
		         cust[OUTBOX_HELD]);
	if (store_mark_notified(n->store, rec->inc.id, NOTIFY_ACTOR, reason,
	                        bw_now_us(), err) < 0)
		return -1;
	n->st.notified++;
	emit(n, NOTIFY_EV_NOTIFIED, rec->inc.id, 0, reason);
	return 0;
}

/* Everything owed for one incident. Returns the next wake (-1: until
 * touched), and *more when it stopped at the batch bound. */
static int64_t work(struct notify *n, struct track *tr, int64_t now_us,
                    bool *more, struct bw_error *err)
{
	/* the facts only: not the 10,000 customers and their notices */
	struct store_record *rec = store_get_facts(n->store, tr->id, err);
	struct outbox_counts counts;
	int64_t wake = -1, customers_at;
	bool todo_left = false;

	*more = false;
	tr->dir_pending = false; /* one_notice() says again */
	if (rec == NULL) {
		if (store_has_incident(n->store, tr->id, err) == 0)
			return -2; /* gone: forget it */
		return now_us + RETRY_US;
	}
	customers_at = last_revision_us(rec) + n->conf->grouping_wait_us;
	if (alert(n, rec, customers_at, now_us, &wake, err) < 0)
		goto fail;
	if (customers_wanted(n, rec)) {
		if (notices(n, tr, rec, now_us, &wake, more, err) < 0)
			goto fail;
		if (*more)
			wake = now_us;
		if (tr->dir_pending)
			todo_left = true;
	}
	if (!*more && n->conf->notify_customers) {
		if (updates(n, tr, rec, now_us, &wake, more, err) < 0)
			goto fail;
		if (*more)
			wake = now_us;
	}
	/* counted after: what was just made counts */
	if (outbox_count(n->store, tr->id, &counts, err) < 0)
		goto fail;
	if (counts.held_approval > 0 &&
	    reminder(n, rec, counts.held_approval, now_us, &wake, err) < 0)
		goto fail;
	if (!*more && customers_wanted(n, rec)) {
		struct todo t = {0};
		int64_t left = outbox_customers_todo(n->store, tr->id, 1,
		                                     add_todo, &t, err);

		todo_free(&t);
		if (left < 0)
			goto fail;
		todo_left = todo_left || left > 0;
	}
	if (milestone(n, rec, &counts, todo_left || *more, err) < 0)
		goto fail;
	store_record_destroy(&rec);
	if (tr->dir_pending && wake < 0)
		wake = now_us + n->conf->dir_retry_us;
	return wake;
fail:
	store_record_destroy(&rec);
	n->st.errors++;
	emit(n, NOTIFY_EV_ERROR, tr->id, 0, err->msg);
	return now_us + RETRY_US;
}

/*
 * Problems: the team told about customers who could not be told.
 */

struct problems {
	struct store_notification *rows;
	size_t n, cap;
	char *incident_id; /* add_left_out(): the rows' incident, borrowed */
};

static int add_problem(const struct store_notification *p, void *arg)
{
	struct problems *ps = arg;
	struct store_notification *c;

	ps->rows = grow(ps->rows, ps->n, &ps->cap, sizeof(*ps->rows));
	c = &ps->rows[ps->n++];
	memset(c, 0, sizeof(*c));
	c->rowid = p->rowid;
	c->incident_id = xstrdup(p->incident_id);
	c->customer_id = p->customer_id ? xstrdup(p->customer_id) : NULL;
	c->state = xstrdup(p->state);
	c->hold = p->hold ? xstrdup(p->hold) : NULL;
	c->recipient = p->recipient ? xstrdup(p->recipient) : NULL;
	c->detail = p->detail ? xstrdup(p->detail) : NULL;
	c->smtp_text = p->smtp_text ? xstrdup(p->smtp_text) : NULL;
	return 0;
}

/* Tell the team about rows [from, to) of one incident. */
static int tell(struct notify *n, struct store_notification *rows, size_t cnt,
                int64_t now_us, struct bw_error *err)
{
	const char *id = rows[0].incident_id;
	struct store_notification last;
	struct store_record *rec;
	struct render_team t = {.kind = OUTBOX_TEAM_PROBLEM};
	int64_t *ids;
	const char **incs;
	char reason[200];
	int rc;

	rc = outbox_last(n->store, id, OUTBOX_TEAM_PROBLEM, &last, err);
	if (rc < 0)
		return -1;
	if (rc == 1 && now_us < last.created_us + n->conf->problem_us) {
		n->problems_wake_us = earlier(
		    n->problems_wake_us, last.created_us + n->conf->problem_us);
		store_notification_clear(&last);
		return 0;
	}
	t.number = rc == 1 ? last.version + 1 : 1;
	store_notification_clear(&last);
	rec = store_get_facts(n->store, id, err);
	if (rec == NULL)
		return -1;
	snprintf(reason, sizeof(reason),
	         "%zu affected customer%s could not be told, or not for sure.",
	         cnt, cnt == 1 ? "" : "s");
	t.reason = reason;
	t.problems = rows;
	t.n_problems = cnt;
	t.problems_total = cnt;
	t.policy = notifconf_policy_name(policy(n, rec));
	rc = team_messages(n, id, &t, now_us, err);
	store_record_destroy(&rec);
	if (rc < 0)
		return -1;
	ids = xcalloc(cnt, sizeof(*ids));
	incs = xcalloc(cnt, sizeof(*incs));
	for (size_t i = 0; i < cnt; i++) {
		ids[i] = rows[i].rowid;
		incs[i] = rows[i].incident_id;
	}
	rc = outbox_mark_told(n->store, ids, incs, cnt, NOTIFY_ACTOR, now_us,
	                      err);
	free(ids);
	free(incs);
	if (rc == 0)
		n->st.problems_told += cnt;
	return rc;
}

static int problems(struct notify *n, int64_t now_us, struct bw_error *err)
{
	struct problems ps = {0};
	int64_t got;
	int rc = 0;

	n->problems_due = false;
	n->problems_wake_us = -1;
	got = outbox_untold(n->store, MAX_PROBLEMS, add_problem, &ps, err);
	if (got < 0) {
		n->problems_due = true;
		return -1;
	}
	for (size_t i = 0; i < ps.n && rc == 0;) {
		size_t j = i;

		while (j < ps.n && strcmp(ps.rows[j].incident_id,
		                          ps.rows[i].incident_id) == 0)
			j++;
		rc = tell(n, ps.rows + i, j - i, now_us, err);
		i = j;
	}
	if (rc < 0)
		n->problems_due = true;
	if (got == MAX_PROBLEMS)
		n->problems_due = true;
	for (size_t i = 0; i < ps.n; i++)
		store_notification_clear(&ps.rows[i]);
	free(ps.rows);
	return rc;
}

int notify_process(struct notify *n, int64_t now_us, struct bw_error *err)
{
	struct track *t, *next;
	bool more_now = false;

	if (n->problems_due ||
	    (n->problems_wake_us >= 0 && now_us >= n->problems_wake_us)) {
		if (problems(n, now_us, err) < 0) {
			n->st.errors++;
			emit(n, NOTIFY_EV_ERROR, "-", 0, err->msg);
		}
	}
	for (t = n->tracks; t != NULL; t = next) {
		bool more = false;
		int64_t wake;

		next = t->next;
		if (t->wake_us < 0 || t->wake_us > now_us)
			continue;
		wake = work(n, t, now_us, &more, err);
		if (wake == -2) {
			track_drop(n, t);
			continue;
		}
		t->wake_us = wake;
		if (more) {
			more_now = true;
			break; /* the bound of one turn */
		}
	}
	/* the incidents with nothing owed and nothing scheduled */
	for (t = n->tracks; t != NULL; t = next) {
		next = t->next;
		if (t->wake_us < 0 && !t->dir_pending)
			track_drop(n, t);
	}
	return more_now ? 1 : 0;
}

/*
 * Operators' decisions: notify (tell the customers) and update (a new
 * version of the notice to every customer sent one).
 */

/* Refuse: err says why, nothing was written. Returns -1. */
static int refuse(struct notify_answer *a, struct bw_error *err,
                  const char *fmt, ...) BW_PRINTF(3, 4);

static int refuse(struct notify_answer *a, struct bw_error *err,
                  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->file[0] = '\0';
	err->line = 0;
	a->refused = true;
	return -1;
}

/* The facts of incident id for an operator's decision, or NULL with err:
 * the store failed (an unknown incident among it), or refused when
 * customer notices are turned off. */
static struct store_record *decision_facts(struct notify *n, const char *id,
                                           struct notify_answer *a,
                                           struct bw_error *err)
{
	struct store_record *rec;

	memset(a, 0, sizeof(*a));
	rec = store_get_facts(n->store, id, err);
	if (rec != NULL && !n->conf->notify_customers) {
		refuse(a, err,
		       "customer notices are turned off in the notifier's "
		       "configuration (notify.customers = false): nobody "
		       "would be told");
		store_record_destroy(&rec);
	}
	return rec;
}

void notify_answer_clear(struct notify_answer *a)
{
	for (size_t i = 0; i < a->n_left; i++)
		store_notification_clear(&a->left[i]);
	free(a->left);
	memset(a, 0, sizeof(*a));
}

int notify_decide(struct notify *n, const char *id, const char *operator_name,
                  const char *reason, int64_t now_us, struct notify_answer *a,
                  struct bw_error *err)
{
	struct store_record *rec;
	struct outbox_decision_req d = {
	    .decision = OUTBOX_NOTIFY,
	    .operator_name = operator_name,
	    .reason = reason,
	};
	struct outbox_decided done;
	int rc = -1;

	rec = decision_facts(n, id, a, err);
	if (rec == NULL)
		return -1;
	if (rec->inc.notify_decided) {
		refuse(a, err,
		       "an operator has decided already that the customers of "
		       "%s are to be told (breachwatch notify-status %s); to "
		       "send those told a new notice: breachwatch notify %s "
		       "--update --reason ...",
		       id, id, id);
		goto out;
	}
	if (rec->inc.n_customers == 0 && !rec->inc.affected_unknown) {
		refuse(a, err,
		       "%s names no affected customer and its scope is known: "
		       "there is nobody to tell",
		       id);
		goto out;
	}
	a->rule_asks =
	    rec->inc.notify_customers && rec->inc.state != STORE_CLOSED;
	d.customers = rec->inc.n_customers;
	if (outbox_decide(n->store, id, &d, NULL, 0, NOTIFY_ACTOR, now_us,
	                  &done, err) < 0)
		goto out;
	a->released = done.released;
	a->customers = rec->inc.n_customers;
	if (done.released > 0)
		mailer_kick(n->mailer);
	notify_revision(n, id, now_us); /* looked at in this turn */
	rc = 0;
out:
	store_record_destroy(&rec);
	return rc;
}

/* The customers an update leaves out, for the answer and the team. */
static int add_left_out(const char *customer_id,
                        const struct store_notification *latest, void *arg)
{
	struct store_notification none = {
	    .customer_id = (char *)customer_id,
	    .state = "none",
	    .detail = "no notice was made for this customer (the rule did not "
	              "ask for one, or the incident was closed first)",
	};
	struct problems *ps = arg;

	none.incident_id = ps->incident_id;
	return add_problem(latest != NULL ? latest : &none, arg);
}

/* Why an update cannot be asked for now (0 when it can), in err. */
static int update_blocked(struct notify *n, const struct store_record *rec,
                          struct notify_answer *a, struct bw_error *err)
{
	const char *id = rec->inc.id;
	struct outbox_counts c;
	struct outbox_update last;
	const uint64_t *cust;
	int64_t left;
	int rc;

	if (outbox_count(n->store, id, &c, err) < 0)
		return -1;
	cust = c.n[OUTBOX_CUSTOMER];
	if (cust[OUTBOX_PENDING] + cust[OUTBOX_SENDING] + c.held_approval > 0)
		return refuse(
		    a, err,
		    "%" PRIu64
		    " customer notices of %s are still waiting to be "
		    "sent (%" PRIu64 " pending or being sent, %" PRIu64
		    " held for approval%s): ask for an update once they are "
		    "out",
		    cust[OUTBOX_PENDING] + cust[OUTBOX_SENDING] +
		        c.held_approval,
		    id, cust[OUTBOX_PENDING] + cust[OUTBOX_SENDING],
		    c.held_approval,
		    c.held_approval > 0 ? ": breachwatch approve releases them"
		                        : "");
	if (customers_wanted(n, rec)) {
		struct todo t = {0};

		left =
		    outbox_customers_todo(n->store, id, 1, add_todo, &t, err);
		todo_free(&t);
		if (left < 0)
			return -1;
		if (left > 0)
			return refuse(
			    a, err,
			    "customers of %s have not been sent their "
			    "first notice yet (the grouping wait is not "
			    "over, or the directory has not answered): "
			    "ask for an update once they have",
			    id);
	}
	rc = outbox_last_update(n->store, id, &last, err);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		left = outbox_update_todo(n->store, id, last.upto_row, 1, NULL,
		                          NULL, err);
		if (left < 0)
			return -1;
		if (left > 0) {
			char when[40];

			return refuse(
			    a, err,
			    "the update %s asked for at %s is still "
			    "being made",
			    last.operator_name,
			    bw_time_format(last.at_us, when, sizeof(when)));
		}
	}
	return 0;
}

int notify_update(struct notify *n, const char *id, const char *operator_name,
                  const char *reason, int64_t now_us, struct notify_answer *a,
                  struct bw_error *err)
{
	struct store_record *rec;
	struct problems ps = {0};
	struct outbox_decision_req d = {
	    .decision = OUTBOX_UPDATE,
	    .operator_name = operator_name,
	    .reason = reason,
	};
	struct outbox_decided done;
	struct outbox_msg *m = NULL;
	struct render_msg *r = NULL;
	size_t k = 0;
	int64_t count, left;
	char *why = NULL;
	int rc = -1;

	rec = decision_facts(n, id, a, err);
	if (rec == NULL)
		return -1;
	if (update_blocked(n, rec, a, err) < 0)
		goto out;
	count = outbox_update_todo(n->store, id, INT64_MAX, SIZE_MAX, NULL,
	                           NULL, err);
	if (count < 0)
		goto out;
	if (count == 0) {
		refuse(a, err,
		       "no customer of %s has been sent a notice: there is "
		       "nothing to update (to tell them: breachwatch notify %s "
		       "--reason ...)",
		       id, id);
		goto out;
	}
	ps.incident_id = rec->inc.id;
	left = outbox_never_sent(n->store, id, NOTIFY_ANSWER_MAX, add_left_out,
	                         &ps, err);
	if (left < 0)
		goto out;
	if (left > 0) {
		/* not left out silently: the team is told, with the decision */
		struct store_notification last;
		struct render_team t = {
		    .kind = OUTBOX_TEAM_PROBLEM,
		    .policy = notifconf_policy_name(policy(n, rec)),
		    .problems = ps.rows,
		    .n_problems = ps.n,
		    .problems_total = (uint64_t)left,
		};
		int got =
		    outbox_last(n->store, id, OUTBOX_TEAM_PROBLEM, &last, err);

		if (got < 0)
			goto out;
		t.number = got == 1 ? last.version + 1 : 1;
		store_notification_clear(&last);
		why = xasprintf(
		    "%s asked for an update of the customer "
		    "notices: %" PRId64 " customer%s sent it; these "
		    "%" PRId64 " were never sent a notice and get "
		    "none.",
		    operator_name, count, count == 1 ? " is" : "s are", left);
		t.reason = why;
		k = n->conf->n_team;
		m = xcalloc(k, sizeof(*m));
		r = xcalloc(k, sizeof(*r));
		if (team_render(n, rec, &t, now_us, m, r, err) < 0)
			goto out;
	}
	d.customers = (uint64_t)count;
	if (outbox_decide(n->store, id, &d, m, k, NOTIFY_ACTOR, now_us, &done,
	                  err) < 0)
		goto out;
	n->st.team_messages += k;
	if (k > 0) {
		mailer_kick(n->mailer);
		emit(n, NOTIFY_EV_TEAM, id, OUTBOX_TEAM_PROBLEM, why);
	}
	a->customers = (uint64_t)count;
	a->left_out = (uint64_t)left;
	a->left = ps.rows;
	a->n_left = ps.n;
	ps.rows = NULL;
	ps.n = 0;
	notify_revision(n, id, now_us); /* made in this turn */
	rc = 0;
out:
	for (size_t i = 0; i < k; i++)
		render_msg_clear(&r[i]);
	free(r);
	free(m);
	free(why);
	for (size_t i = 0; i < ps.n; i++)
		store_notification_clear(&ps.rows[i]);
	free(ps.rows);
	store_record_destroy(&rec);
	return rc;
}

/*
 * Set-up.
 */

static int track_open(const char *id, void *arg)
{
	struct notify *n = arg;

	track_of(n, id, true)->wake_us = 0;
	return 0;
}

struct notify *notify_new(const struct notify_params *p, int64_t now_us,
                          struct bw_error *err)
{
	struct notify *n;
	uint64_t reset = 0;
	int64_t since = 0;

	if (p->store == NULL || p->dir == NULL || p->render == NULL ||
	    p->mailer == NULL || p->conf == NULL || p->conf->n_team == 0) {
		bw_error_set(err, NULL, 0,
		             "notify: store, directory, templates, mailer and "
		             "a team address are needed");
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	n->store = p->store;
	n->dir = p->dir;
	n->render = p->render;
	n->mailer = p->mailer;
	n->conf = p->conf;
	n->on_event = p->on_event;
	n->arg = p->arg;
	n->problems_due = true;
	n->problems_wake_us = -1;
	if (outbox_reset_sending(n->store, NOTIFY_ACTOR, now_us, &reset, err) <
	        0 ||
	    outbox_since(n->store, &since, err) < 0 ||
	    outbox_incidents_open(n->store, since, track_open, n, err) < 0) {
		notify_destroy(&n);
		return NULL;
	}
	if (reset > 0)
		mailer_kick(n->mailer);
	return n;
}

void notify_destroy(struct notify **np)
{
	struct notify *n = *np;

	if (n == NULL)
		return;
	while (n->tracks != NULL)
		track_drop(n, n->tracks);
	free(n);
	*np = NULL;
}
