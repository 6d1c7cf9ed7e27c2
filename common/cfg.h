/*
 * cfg.h - helpers over libconfig that report file:line for every error.
 *
 * libconfig's look-ups return false silently on a type mismatch; these
 * helpers tell a missing key (optional: keep the default) from a key of the
 * wrong type (an error naming file:line). All fill a struct bw_error.
 */
#ifndef BW_CFG_H
#define BW_CFG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* Read a whole file. include_dir (may be NULL) is where relative @include
 * paths resolve; by default, the file's own directory. Returns -1 with
 * err = file:line: reason on a syntax error or an unreadable file; cfg is
 * then already destroyed (and zeroed). On success the caller owns cfg
 * (config_init'ed here; config_destroy it). */
int bw_cfg_read_file(config_t *cfg, const char *path, const char *include_dir,
		     struct bw_error *err) BW_WUR;

/* The file and line a setting came from ("" and 0 if unknown). For a
 * setting from an @include'd file, the file is named as the @include wrote
 * it (relative to the include dir). */
const char *bw_cfg_file(const config_setting_t *s);
int bw_cfg_line(const config_setting_t *s);

/* Fill err with a message located at setting s. Returns -1. */
int bw_cfg_error(struct bw_error *err, const config_setting_t *s,
		 const char *fmt, ...) BW_PRINTF(3, 4);

/* Typed members of a group. Each returns 0 when the key is absent
 * (leaving *out unchanged, or set to NULL for strings when required is
 * false), 0 with *out set when present and well typed, -1 with err filled
 * when present with the wrong type or out of range, and -1 when absent
 * but required. Strings are borrowed from cfg. A NULL grp (an absent
 * optional group) has no members; a grp that is not a group is an error.
 * libconfig 1.5 silently wraps integer literals beyond 32 bits unless they
 * carry an L suffix (5000000000L): int and int64 settings both count. */
int bw_cfg_string(const config_setting_t *grp, const char *key, bool required,
		  const char **out, struct bw_error *err) BW_WUR;
int bw_cfg_int(const config_setting_t *grp, const char *key, bool required,
	       int64_t min, int64_t max, int64_t *out, struct bw_error *err) BW_WUR;
int bw_cfg_bool(const config_setting_t *grp, const char *key, bool required,
		bool *out, struct bw_error *err) BW_WUR;
/* A duration written as a string ("10m") or an integer number of seconds. */
int bw_cfg_duration(const config_setting_t *grp, const char *key,
		    bool required, int64_t *out_us, struct bw_error *err) BW_WUR;
/* A member that must be a list or array of strings (or a single string,
 * taken as a list of one). *out is set to the setting (NULL if absent). */
int bw_cfg_strings(const config_setting_t *grp, const char *key, bool required,
		   const config_setting_t **out, struct bw_error *err) BW_WUR;

/* Refuse members of grp whose names are not in allowed (NULL-terminated):
 * a misspelt key is an error, not a silent default. */
int bw_cfg_check_keys(const config_setting_t *grp, const char *const *allowed,
		      struct bw_error *err) BW_WUR;

#endif
