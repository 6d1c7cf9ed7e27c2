/*
 * keys.h - CURVE key pairs, their files, and the notifier's
 * authorised-agents file.
 *
 * Keys are 32 bytes in memory and 40 characters of Z85 in files. Three
 * files (docs/transport.md):
 *
 *   secret key file   "public <Z85>" and "secret <Z85>" lines, mode 0600;
 *                     loading refuses a file others may read or write.
 *   public key file   one line "<Z85> <name>", world-readable: the line an
 *                     operator appends to the notifier's authorised-agents
 *                     file, or the notifier's key that an agent names.
 *   authorised agents one "<Z85-public-key> <agent-name>" per line, like
 *                     ssh's authorized_keys; blank lines and # comments.
 *
 * In every file a line whose first non-blank character is '#' is a comment
 * (no Z85 key starts with '#'), and a key line may end with a comment after
 * a blank. Errors name file:line.
 */
#ifndef BW_KEYS_H
#define BW_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define BW_KEY_LEN 32          /* bytes of a CURVE key */
#define BW_KEY_Z85_LEN 40      /* characters of its Z85 form */
#define BW_KEYS_MAX_NAME 128   /* bytes of an agent name */
#define BW_KEYS_MAX_LINE 1024  /* bytes of a line in a key file */
#define BW_KEYS_MAX_FILE (16u << 20)
#define BW_KEYS_MAX_AGENTS 100000

struct bw_keypair {
	uint8_t public_key[BW_KEY_LEN];
	uint8_t secret_key[BW_KEY_LEN];
};

/* A new random key pair (zmq_curve_keypair). Returns -1 with err filled
 * when libzmq lacks CURVE. */
int bw_keys_generate(struct bw_keypair *kp, struct bw_error *err) BW_WUR;

/* Wipe a key pair from memory. */
void bw_keys_wipe(struct bw_keypair *kp);

/* The Z85 form of a key into out (41 bytes with the NUL). Returns out. */
const char *bw_keys_z85(const uint8_t key[BW_KEY_LEN],
			char out[BW_KEY_Z85_LEN + 1]);

/* Decode len characters of Z85. Returns -1 with err saying why (wrong
 * length, the first character outside the Z85 alphabet). */
int bw_keys_from_z85(const char *s, size_t len, uint8_t key[BW_KEY_LEN],
		     struct bw_error *err) BW_WUR;

/* Whether name is a valid agent name: 1..BW_KEYS_MAX_NAME bytes of
 * [A-Za-z0-9._@+-]. */
bool bw_keys_valid_name(const char *name);

/* Write kp to secret_path (mode 0600: public and secret key) and its
 * public key with name to public_path (mode 0644), each durably and
 * atomically. Unless overwrite, an existing file at either path is refused
 * before anything is written. name must be valid (bw_keys_valid_name).
 * Returns 0, or -1 with err filled (file = the path concerned). */
int bw_keys_write(const char *secret_path, const char *public_path,
		  const struct bw_keypair *kp, const char *name,
		  bool overwrite, struct bw_error *err) BW_WUR;

/* Load a secret key file into kp. Refuses a file with any group or other
 * permission bits, and a public key that does not belong to the secret
 * one. Returns -1 with err at file:line. */
int bw_keys_load_secret(const char *path, struct bw_keypair *kp,
			struct bw_error *err) BW_WUR;

/* Load a public key file (one key line; the name is optional) into key, and
 * its name, if any, into name (BW_KEYS_MAX_NAME + 1 bytes; may be NULL;
 * "" when the line has none). Returns -1 with err at file:line. */
int bw_keys_load_public(const char *path, uint8_t key[BW_KEY_LEN], char *name,
			struct bw_error *err) BW_WUR;

/*
 * The authorised agents: public key -> agent name.
 */
struct bw_keys_auth;

/* Load an authorised-agents file. A bad line, a key or name given twice,
 * more than BW_KEYS_MAX_AGENTS entries, or a file that others may write is
 * an error at file:line. An empty file is valid (no agent is let in).
 * Caller owns the result. */
struct bw_keys_auth *bw_keys_auth_load(const char *path,
				       struct bw_error *err) BW_WUR;

/* Accepts NULL; nulls the caller's pointer. */
void bw_keys_auth_destroy(struct bw_keys_auth **a);

/* The agent name of key, or NULL when the key is not authorised. The name
 * is borrowed from a (valid until it is destroyed). */
const char *bw_keys_auth_lookup(const struct bw_keys_auth *a,
				const uint8_t key[BW_KEY_LEN]);

/* Whether an agent of that name is authorised. */
bool bw_keys_auth_has_name(const struct bw_keys_auth *a, const char *name);

size_t bw_keys_auth_count(const struct bw_keys_auth *a);

#endif
