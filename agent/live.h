/*
 * live.h - live mode: follow the configured inputs and report incidents.
 */
#ifndef BW_LIVE_H
#define BW_LIVE_H

#include <stddef.h>

/*
 * Load the config at path and its rules, follow every input (inotify, with
 * checkpoints in agent.state_dir), print each incident revision as a JSON
 * line on stdout until SIGTERM or SIGINT. SIGHUP reloads the rules, keeping
 * the old ones when the new ones have an error. These signals are blocked
 * from the start: one that comes while the rules compile is acted on once
 * the inputs are followed. Incidents of rules with actions run them
 * (contain.h). At the stop every incident gets its last revision (after
 * its running containment actions end, or a second signal kills them) and
 * each input's counts are logged. Returns the exit status:
 * 0 after a clean stop, 1 on a runtime error, 2 on a bad configuration.
 */
int live_run(const char *config_path, const char *const *rule_paths,
	     size_t n_rule_paths);

#endif
