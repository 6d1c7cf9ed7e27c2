/*
 * keys.c - CURVE key pairs, key files and the authorised-agents file
 * (keys.h).
 *
 * Files are read whole (with a ceiling) and taken apart line by line and
 * word by word; every error names file:line. Secret material is wiped from
 * our buffers once used.
 */
#include "keys.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "file.h"
#include "xmalloc.h"

static const char z85_chars[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                ".-:+=^!/*?&<>()[]{}@%$#";

int bw_keys_generate(struct bw_keypair *kp, struct bw_error *err)
{
	char pub[BW_KEY_Z85_LEN + 1], sec[BW_KEY_Z85_LEN + 1];
	int rc = -1;

	if (zmq_curve_keypair(pub, sec) != 0)
		return bw_error_set(err, NULL, 0, "zmq_curve_keypair: %s",
		                    zmq_strerror(errno));
	if (zmq_z85_decode(kp->public_key, pub) == NULL ||
	    zmq_z85_decode(kp->secret_key, sec) == NULL) {
		bw_error_set(err, NULL, 0, "zmq_z85_decode failed");
		goto done;
	}
	rc = 0;
done:
	sodium_memzero(sec, sizeof(sec));
	return rc;
}

void bw_keys_wipe(struct bw_keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}

const char *bw_keys_z85(const uint8_t key[BW_KEY_LEN],
                        char out[BW_KEY_Z85_LEN + 1])
{
	/* 32 bytes is a multiple of 4: this cannot fail. */
	zmq_z85_encode(out, key, BW_KEY_LEN);
	return out;
}

static bool is_z85(char c)
{
	return c != '\0' && strchr(z85_chars, c) != NULL;
}

int bw_keys_from_z85(const char *s, size_t len, uint8_t key[BW_KEY_LEN],
                     struct bw_error *err)
{
	char buf[BW_KEY_Z85_LEN + 1];
	size_t i;

	if (len != BW_KEY_Z85_LEN)
		return bw_error_set(err, NULL, 0,
		                    "key of %zu characters, expected %d (Z85)",
		                    len, BW_KEY_Z85_LEN);
	for (i = 0; i < len; i++) {
		if (!is_z85(s[i]))
			return bw_error_set(err, NULL, 0,
			                    "key: character %zu is not Z85",
			                    i + 1);
	}
	/* Each group of five characters is a 32-bit value: zmq does not
	 * check for overflow, which would let two texts name one key. */
	for (i = 0; i < len; i += 5) {
		uint64_t v = 0;
		size_t j;

		for (j = 0; j < 5; j++)
			v = v * 85 + (uint64_t)(strchr(z85_chars, s[i + j]) -
			                        z85_chars);
		if (v > UINT32_MAX)
			return bw_error_set(err, NULL, 0,
			                    "key: characters %zu-%zu are out "
			                    "of range for Z85",
			                    i + 1, i + 5);
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (zmq_z85_decode(key, buf) == NULL) {
		sodium_memzero(buf, sizeof(buf));
		return bw_error_set(err, NULL, 0, "key: not valid Z85");
	}
	sodium_memzero(buf, sizeof(buf));
	return 0;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
	       c == '+' || c == '-';
}

static bool valid_name_len(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > BW_KEYS_MAX_NAME)
		return false;
	for (i = 0; i < len; i++) {
		if (!name_char(s[i]))
			return false;
	}
	return true;
}

bool bw_keys_valid_name(const char *name)
{
	return name != NULL && valid_name_len(name, strlen(name));
}

/*
 * Reading files line by line, word by word.
 */

struct reader {
	const char *path;
	const char *p, *end;
	int lineno;
	/* the current line */
	const char *line;
	size_t len, pos;
};

/* The next line into r->line. Returns 1, 0 at the end, -1 with err on a
 * line that is too long or holds a NUL byte. */
static int next_line(struct reader *r, struct bw_error *err)
{
	const char *nl;

	if (r->p >= r->end)
		return 0;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	r->line = r->p;
	r->len = nl != NULL ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
	r->p = nl != NULL ? nl + 1 : r->end;
	r->pos = 0;
	r->lineno++;
	if (r->len > 0 && r->line[r->len - 1] == '\r')
		r->len--;
	if (r->len > BW_KEYS_MAX_LINE)
		return bw_error_set(err, r->path, r->lineno,
		                    "line longer than %d bytes",
		                    BW_KEYS_MAX_LINE);
	if (memchr(r->line, '\0', r->len) != NULL)
		return bw_error_set(err, r->path, r->lineno, "NUL byte");
	return 1;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The next word of the line (NULL at its end), its length in *len. */
static const char *next_word(struct reader *r, size_t *len)
{
	size_t start;

	while (r->pos < r->len && blank(r->line[r->pos]))
		r->pos++;
	if (r->pos == r->len)
		return NULL;
	start = r->pos;
	while (r->pos < r->len && !blank(r->line[r->pos]))
		r->pos++;
	*len = r->pos - start;
	return r->line + start;
}

/* Whether the current line is blank or a comment. No key starts with '#'
 * (the first of five Z85 characters is at most '%': 84 * 85^4 > 2^32), so
 * a '#' in front always starts a comment. */
static bool skip_line(struct reader *r)
{
	size_t save = r->pos, len = 0;
	const char *w = next_word(r, &len);

	r->pos = save;
	return w == NULL || w[0] == '#';
}

/* After the last expected word: nothing, or a comment. */
static int end_of_line(struct reader *r, const char *after,
                       struct bw_error *err)
{
	size_t len = 0;
	const char *w = next_word(r, &len);

	if (w == NULL || w[0] == '#')
		return 0;
	return bw_error_set(err, r->path, r->lineno,
	                    "unexpected \"%.*s\" after the %s", (int)len, w,
	                    after);
}

/* Decode a key word, with errors at the reader's file:line. */
static int key_word(struct reader *r, const char *w, size_t len,
                    uint8_t key[BW_KEY_LEN], struct bw_error *err)
{
	struct bw_error kerr;

	if (bw_keys_from_z85(w, len, key, &kerr) < 0)
		return bw_error_set(err, r->path, r->lineno, "%s", kerr.msg);
	return 0;
}

/* A line "<key> [<name>] [# comment]". name gets a copy (caller frees),
 * or NULL when the line has none and the name is optional. */
static int key_line(struct reader *r, bool name_required,
                    uint8_t key[BW_KEY_LEN], char **name,
                    struct bw_error *err)
{
	size_t klen = 0, nlen = 0;
	const char *k = next_word(r, &klen);
	const char *n;

	*name = NULL;
	if (key_word(r, k, klen, key, err) < 0)
		return -1;
	n = next_word(r, &nlen);
	if (n == NULL || n[0] == '#') {
		if (name_required)
			return bw_error_set(err, r->path, r->lineno,
			                    "the key has no agent name");
		return 0;
	}
	if (!valid_name_len(n, nlen))
		return bw_error_set(err, r->path, r->lineno,
		                    "bad agent name \"%.*s\" (1-%d of "
		                    "A-Z a-z 0-9 . _ @ + -)",
		                    (int)(nlen > 64 ? 64 : nlen), n,
		                    BW_KEYS_MAX_NAME);
	if (end_of_line(r, "agent name", err) < 0)
		return -1;
	*name = xstrndup(n, nlen);
	return 0;
}

static int read_file(const char *path, char **data, size_t *len,
                     struct bw_error *err)
{
	return bw_file_read(path, BW_KEYS_MAX_FILE, data, len, err);
}

/*
 * Key files.
 */

int bw_keys_write(const char *secret_path, const char *public_path,
                  const struct bw_keypair *kp, const char *name,
                  bool overwrite, struct bw_error *err)
{
	char pub[BW_KEY_Z85_LEN + 1], sec[BW_KEY_Z85_LEN + 1];
	char *text = NULL;
	int rc = -1;

	if (!bw_keys_valid_name(name))
		return bw_error_set(err, NULL, 0,
		                    "bad name \"%s\" (1-%d of A-Z a-z 0-9 . _ "
		                    "@ + -)",
		                    name != NULL ? name : "", BW_KEYS_MAX_NAME);
	if (!overwrite) {
		const char *paths[] = {secret_path, public_path};
		size_t i;

		for (i = 0; i < 2; i++) {
			if (access(paths[i], F_OK) == 0)
				return bw_error_set(err, paths[i], 0,
				                    "already exists (not "
				                    "overwritten)");
		}
	}
	bw_keys_z85(kp->public_key, pub);
	bw_keys_z85(kp->secret_key, sec);
	text = xasprintf("# breachwatch CURVE key pair of %s.\n"
	                 "# Keep this file secret: mode 0600, readable by "
	                 "its daemon only.\n"
	                 "public %s\n"
	                 "secret %s\n",
	                 name, pub, sec);
	if (bw_file_write_atomic(secret_path, text, strlen(text), 0600,
	                         overwrite, err) < 0)
		goto done;
	sodium_memzero(text, strlen(text));
	free(text);
	text = xasprintf("# breachwatch CURVE public key of %s.\n"
	                 "# For an agent: add the next line to the "
	                 "notifier's authorised-agents file.\n"
	                 "# For the notifier: give this file to the agents.\n"
	                 "%s %s\n",
	                 name, pub, name);
	if (bw_file_write_atomic(public_path, text, strlen(text), 0644,
	                         overwrite, err) < 0)
		goto done;
	rc = 0;
done:
	sodium_memzero(sec, sizeof(sec));
	if (text != NULL)
		sodium_memzero(text, strlen(text));
	free(text);
	return rc;
}

int bw_keys_load_secret(const char *path, struct bw_keypair *kp,
                        struct bw_error *err)
{
	struct reader r = {.path = path};
	char *data = NULL;
	size_t len = 0;
	bool have_pub = false, have_sec = false;
	char derived[BW_KEY_Z85_LEN + 1], sec[BW_KEY_Z85_LEN + 1];
	char pub[BW_KEY_Z85_LEN + 1];
	struct stat st;
	int rc, ret = -1;

	memset(kp, 0, sizeof(*kp));
	if (stat(path, &st) < 0)
		return bw_error_set(err, path, 0, "%s", strerror(errno));
	if ((st.st_mode & 077) != 0)
		return bw_error_set(err, path, 0,
		                    "secret key file has mode %04o: others may "
		                    "access it (chmod 600)",
		                    (unsigned)(st.st_mode & 07777));
	if (read_file(path, &data, &len, err) < 0)
		return -1;
	r.p = data;
	r.end = data + len;
	while ((rc = next_line(&r, err)) > 0) {
		size_t wlen = 0, klen = 0;
		const char *w, *k;
		uint8_t *dst;
		bool *seen;

		if (skip_line(&r))
			continue;
		w = next_word(&r, &wlen);
		if (wlen == 6 && memcmp(w, "public", 6) == 0) {
			dst = kp->public_key;
			seen = &have_pub;
		} else if (wlen == 6 && memcmp(w, "secret", 6) == 0) {
			dst = kp->secret_key;
			seen = &have_sec;
		} else {
			bw_error_set(err, path, r.lineno,
			             "expected \"public KEY\" or \"secret KEY\"");
			goto done;
		}
		if (*seen) {
			bw_error_set(err, path, r.lineno, "%.*s key given twice",
			             (int)wlen, w);
			goto done;
		}
		k = next_word(&r, &klen);
		if (k == NULL) {
			bw_error_set(err, path, r.lineno, "no key after \"%.*s\"",
			             (int)wlen, w);
			goto done;
		}
		if (key_word(&r, k, klen, dst, err) < 0 ||
		    end_of_line(&r, "key", err) < 0)
			goto done;
		*seen = true;
	}
	if (rc < 0)
		goto done;
	if (!have_pub || !have_sec) {
		bw_error_set(err, path, 0, "no %s key in the file",
		             have_pub ? "secret" : "public");
		goto done;
	}
	bw_keys_z85(kp->secret_key, sec);
	if (zmq_curve_public(derived, sec) != 0) {
		bw_error_set(err, path, 0, "zmq_curve_public: %s",
		             zmq_strerror(errno));
		goto done;
	}
	if (strcmp(derived, bw_keys_z85(kp->public_key, pub)) != 0) {
		bw_error_set(err, path, 0,
		             "the public key does not belong to the secret key");
		goto done;
	}
	ret = 0;
done:
	if (ret < 0)
		bw_keys_wipe(kp);
	sodium_memzero(sec, sizeof(sec));
	sodium_memzero(data, len);
	free(data);
	return ret;
}

int bw_keys_load_public(const char *path, uint8_t key[BW_KEY_LEN], char *name,
                        struct bw_error *err)
{
	struct reader r = {.path = path};
	char *data = NULL, *nm = NULL;
	size_t len = 0;
	bool found = false;
	int rc, ret = -1;

	if (name != NULL)
		name[0] = '\0';
	if (read_file(path, &data, &len, err) < 0)
		return -1;
	r.p = data;
	r.end = data + len;
	while ((rc = next_line(&r, err)) > 0) {
		if (skip_line(&r))
			continue;
		if (found) {
			bw_error_set(err, path, r.lineno,
			             "more than one key in a public key file");
			goto done;
		}
		if (key_line(&r, false, key, &nm, err) < 0)
			goto done;
		if (name != NULL && nm != NULL)
			snprintf(name, BW_KEYS_MAX_NAME + 1, "%s", nm);
		free(nm);
		nm = NULL;
		found = true;
	}
	if (rc < 0)
		goto done;
	if (!found) {
		bw_error_set(err, path, 0, "no key in the file");
		goto done;
	}
	ret = 0;
done:
	free(nm);
	free(data);
	return ret;
}

/*
 * The authorised agents.
 */

struct auth_entry {
	uint8_t key[BW_KEY_LEN];
	char *name;
	int line;
};

struct bw_keys_auth {
	struct auth_entry *by_key; /* sorted by key */
	struct auth_entry **by_name; /* sorted by name */
	size_t n;
};

static int cmp_key(const void *a, const void *b)
{
	const struct auth_entry *x = a, *y = b;

	return memcmp(x->key, y->key, BW_KEY_LEN);
}

static int cmp_name(const void *a, const void *b)
{
	const struct auth_entry *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* Of a pair of equal entries, the one on the later line, and the earlier
 * line. */
static void later_of(const struct auth_entry *a, const struct auth_entry *b,
                     int *later, int *earlier)
{
	*later = a->line > b->line ? a->line : b->line;
	*earlier = a->line > b->line ? b->line : a->line;
}

/* Find duplicate keys and names after sorting; report the duplicate that
 * comes first in the file. */
static int check_duplicates(struct bw_keys_auth *a, const char *path,
                            struct bw_error *err)
{
	int best = 0, best_first = 0, later, earlier;
	const char *what = NULL, *name = NULL;
	size_t i;

	for (i = 1; i < a->n; i++) {
		if (cmp_key(&a->by_key[i - 1], &a->by_key[i]) != 0)
			continue;
		later_of(&a->by_key[i - 1], &a->by_key[i], &later, &earlier);
		if (best == 0 || later < best) {
			best = later;
			best_first = earlier;
			what = "key";
			name = NULL;
		}
	}
	for (i = 1; i < a->n; i++) {
		if (cmp_name(&a->by_name[i - 1], &a->by_name[i]) != 0)
			continue;
		later_of(a->by_name[i - 1], a->by_name[i], &later, &earlier);
		if (best == 0 || later < best) {
			best = later;
			best_first = earlier;
			what = "agent name";
			name = a->by_name[i]->name;
		}
	}
	if (best == 0)
		return 0;
	if (name != NULL)
		return bw_error_set(err, path, best,
		                    "duplicate agent name \"%s\" (also on line "
		                    "%d)",
		                    name, best_first);
	return bw_error_set(err, path, best, "duplicate %s (also on line %d)",
	                    what, best_first);
}

struct bw_keys_auth *bw_keys_auth_load(const char *path, struct bw_error *err)
{
	struct bw_keys_auth *a = xcalloc(1, sizeof(*a));
	struct reader r = {.path = path};
	char *data = NULL;
	size_t len = 0, cap = 0, i;
	struct stat st;
	int rc;

	if (stat(path, &st) < 0) {
		bw_error_set(err, path, 0, "%s", strerror(errno));
		goto fail;
	}
	if ((st.st_mode & 022) != 0) {
		bw_error_set(err, path, 0,
		             "mode %04o: others may write the authorised "
		             "agents (chmod go-w)",
		             (unsigned)(st.st_mode & 07777));
		goto fail;
	}
	if (read_file(path, &data, &len, err) < 0)
		goto fail;
	r.p = data;
	r.end = data + len;
	while ((rc = next_line(&r, err)) > 0) {
		struct auth_entry *e;

		if (skip_line(&r))
			continue;
		if (a->n == BW_KEYS_MAX_AGENTS) {
			bw_error_set(err, path, r.lineno,
			             "more than %d agents", BW_KEYS_MAX_AGENTS);
			goto fail;
		}
		if (a->n == cap) {
			cap = cap < 16 ? 16 : cap * 2;
			a->by_key = xreallocarray(a->by_key, cap,
			                          sizeof(*a->by_key));
		}
		e = &a->by_key[a->n];
		memset(e, 0, sizeof(*e));
		if (key_line(&r, true, e->key, &e->name, err) < 0)
			goto fail;
		e->line = r.lineno;
		a->n++;
	}
	if (rc < 0)
		goto fail;
	if (a->n > 0)
		qsort(a->by_key, a->n, sizeof(*a->by_key), cmp_key);
	a->by_name = xreallocarray(NULL, a->n > 0 ? a->n : 1,
	                           sizeof(*a->by_name));
	for (i = 0; i < a->n; i++)
		a->by_name[i] = &a->by_key[i];
	if (a->n > 0)
		qsort(a->by_name, a->n, sizeof(*a->by_name), cmp_name);
	if (check_duplicates(a, path, err) < 0)
		goto fail;
	free(data);
	return a;
fail:
	free(data);
	bw_keys_auth_destroy(&a);
	return NULL;
}

void bw_keys_auth_destroy(struct bw_keys_auth **ap)
{
	struct bw_keys_auth *a;
	size_t i;

	if (ap == NULL || *ap == NULL)
		return;
	a = *ap;
	for (i = 0; i < a->n; i++)
		free(a->by_key[i].name);
	free(a->by_key);
	free(a->by_name);
	free(a);
	*ap = NULL;
}

const char *bw_keys_auth_lookup(const struct bw_keys_auth *a,
                                const uint8_t key[BW_KEY_LEN])
{
	struct auth_entry probe;
	const struct auth_entry *e;

	if (a == NULL || a->n == 0)
		return NULL;
	memcpy(probe.key, key, BW_KEY_LEN);
	e = bsearch(&probe, a->by_key, a->n, sizeof(*a->by_key), cmp_key);
	return e != NULL ? e->name : NULL;
}

bool bw_keys_auth_has_name(const struct bw_keys_auth *a, const char *name)
{
	struct auth_entry probe, *pp = &probe;

	if (a == NULL || a->n == 0 || name == NULL)
		return false;
	probe.name = (char *)name;
	return bsearch(&pp, a->by_name, a->n, sizeof(*a->by_name),
	               cmp_name) != NULL;
}

size_t bw_keys_auth_count(const struct bw_keys_auth *a)
{
	return a != NULL ? a->n : 0;
}
