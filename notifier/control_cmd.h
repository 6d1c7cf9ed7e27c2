/*
 * control_cmd.h - the requests of the control socket: what the breachwatch
 * CLI may ask the notifier (docs/cli.md lists them with their members).
 *
 * Each request is a JSON object {"cmd": NAME, ...}; its members are
 * checked strictly (an unknown member, a missing or mistyped one is a
 * bad_request). The response is {"ok": true, ...} or {"ok": false,
 * "error": CODE, "message": TEXT} with CODE one of
 *
 *   bad_request  the request is wrong (the CLI exits 2)
 *   not_found    no such incident (exit 3)
 *   refused      the notifier would not do it (e.g. already closed, a
 *                notify with customer notices turned off; exit 1)
 *   failed       the store failed (exit 1)
 *
 * Writes (contain, close, note, aware, approve, notify) are recorded with
 * the operator the kernel named for the connection (struct
 * control_peer), never a name from the request.
 */
#ifndef BW_CONTROL_CMD_H
#define BW_CONTROL_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "control.h"
#include "directory.h"
#include "inbox.h"
#include "mailer.h"
#include "notify.h"
#include "store.h"
#include "zap.h"

/* Told of every request that changed the record, or tried to: for the
 * daemon's log. Strings are borrowed for the call; id may be NULL. */
typedef void (*control_cmd_action_fn)(const char *operator_name,
				      const char *cmd, const char *id, bool ok,
				      const char *text, void *arg);

struct control_cmd_ctx {
	struct store *store;     /* borrowed */
	struct inbox *inbox;     /* borrowed; NULL: no inbox in status */
	struct zap *zap;         /* borrowed; may be NULL */
	struct control *control; /* borrowed; may be NULL (stats) */
	struct mailer *mailer;   /* borrowed; may be NULL (status) */
	struct notify *notify;   /* borrowed; may be NULL (approve, status;
				    notify is then refused) */
	struct directory *dir;   /* borrowed; may be NULL (status) */
	const struct notifconf *conf; /* borrowed; may be NULL (policies) */
	const char *store_path;
	const char *version;
	int64_t started_us;      /* UTC */
	control_cmd_action_fn on_action; /* may be NULL */
	void *arg;
};

/* The control_handler_fn of control.h: arg is a struct control_cmd_ctx.
 * Returns the response (caller owns it). */
json_t *control_cmd_handle(const json_t *req, const struct control_peer *peer,
			   void *arg);

#endif
