/*
 * rcache.c - a directory of compiled rule databases (see rcache.h).
 *
 * A file is <64 hex digits of the key>.db:
 *   8 bytes  "BWRCDB1\n"
 *   8 bytes  the database's length, little-endian
 *   32 bytes BLAKE2b-256 of the database
 *   the database (hs_serialize_database's bytes)
 */
#include "rcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/file.h"
#include "../common/path.h"
#include "../common/xmalloc.h"

#define MAGIC "BWRCDB1\n"
#define MAGIC_LEN 8
#define HASH_LEN 32
#define HEAD_LEN (MAGIC_LEN + 8 + HASH_LEN)
#define SUFFIX ".db"

struct rcache {
	char *dir;
	struct rcache_stats st;
	char last_error[256];
};

struct rcache *rcache_open(const char *dir, struct bw_error *err)
{
	struct rcache *c;
	char *parent = bw_path_dir(dir);
	struct stat sb;
	int rc = stat(parent, &sb);

	free(parent);
	if (rc < 0 || !S_ISDIR(sb.st_mode)) {
		bw_error_set(err, dir, 0, "parent directory: %s",
			     rc < 0 ? strerror(errno) : "not a directory");
		return NULL;
	}
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		bw_error_set(err, dir, 0, "%s", strerror(errno));
		return NULL;
	}
	if (access(dir, W_OK | X_OK) < 0) {
		bw_error_set(err, dir, 0, "%s", strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->dir = xstrdup(dir);
	return c;
}

void rcache_destroy(struct rcache **c)
{
	if (c == NULL || *c == NULL)
		return;
	free((*c)->dir);
	free(*c);
	*c = NULL;
}

static char *file_of(const struct rcache *c, const unsigned char *key)
{
	char hex[RULES_CACHE_KEY * 2 + 1];

	sodium_bin2hex(hex, sizeof(hex), key, RULES_CACHE_KEY);
	return xasprintf("%s/%s" SUFFIX, c->dir, hex);
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* The database in a file's bytes, or NULL when the file is not a whole,
 * unaltered one of ours. */
static const unsigned char *check(const unsigned char *b, size_t len,
				  size_t *blob_len)
{
	unsigned char h[HASH_LEN];
	uint64_t n;

	if (len < HEAD_LEN || memcmp(b, MAGIC, MAGIC_LEN) != 0)
		return NULL;
	n = get_le64(b + MAGIC_LEN);
	if (n != len - HEAD_LEN)
		return NULL;
	crypto_generichash(h, sizeof(h), b + HEAD_LEN, n, NULL, 0);
	if (sodium_memcmp(h, b + MAGIC_LEN + 8, HASH_LEN) != 0)
		return NULL;
	*blob_len = n;
	return b + HEAD_LEN;
}

static void *get(void *arg, const unsigned char key[RULES_CACHE_KEY],
		 size_t *len)
{
	struct rcache *c = arg;
	char *path = file_of(c, key), *raw = NULL, *out = NULL;
	const unsigned char *blob;
	struct bw_error err;
	size_t n = 0, blen = 0;

	if (bw_file_read(path, RCACHE_MAX_BYTES + HEAD_LEN, &raw, &n, &err) <
	    0) {
		c->st.misses++;
		goto done;
	}
	blob = check((const unsigned char *)raw, n, &blen);
	if (blob == NULL) {
		c->st.refused++;
		c->st.misses++;
		(void)unlink(path);
		goto done;
	}
	out = xmalloc(blen > 0 ? blen : 1);
	memcpy(out, blob, blen);
	*len = blen;
	c->st.hits++;
	(void)utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
done:
	free(raw);
	free(path);
	return out;
}

struct entry {
	char *name;
	struct timespec mtime;
};

static int by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return 0;
}

static bool is_db_name(const char *name)
{
	size_t n = strlen(name);

	return n == RULES_CACHE_KEY * 2 + strlen(SUFFIX) &&
	       strcmp(name + RULES_CACHE_KEY * 2, SUFFIX) == 0;
}

/* Keep the RCACHE_MAX_FILES most recently used files. */
static void prune(struct rcache *c)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(c->dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (!is_db_name(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &sb, 0) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].name = xstrdup(de->d_name);
		v[n].mtime = sb.st_mtim;
		n++;
	}
	if (n > RCACHE_MAX_FILES) {
		qsort(v, n, sizeof(*v), by_age);
		for (size_t i = 0; i < n - RCACHE_MAX_FILES; i++)
			if (unlinkat(dirfd(d), v[i].name, 0) == 0)
				c->st.pruned++;
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	closedir(d);
}

static void put(void *arg, const unsigned char key[RULES_CACHE_KEY],
		const void *blob, size_t len)
{
	struct rcache *c = arg;
	char *path;
	unsigned char *buf;
	struct bw_error err;

	if (len > RCACHE_MAX_BYTES)
		return;
	path = file_of(c, key);
	buf = xmalloc(HEAD_LEN + len);
	memcpy(buf, MAGIC, MAGIC_LEN);
	put_le64(buf + MAGIC_LEN, len);
	crypto_generichash(buf + MAGIC_LEN + 8, HASH_LEN, blob, len, NULL, 0);
	memcpy(buf + HEAD_LEN, blob, len);
	if (bw_file_write_atomic(path, buf, HEAD_LEN + len, 0640, true, &err) <
	    0) {
		c->st.write_errors++;
		bw_error_str(&err, c->last_error, sizeof(c->last_error));
	} else {
		c->st.written++;
		prune(c);
	}
	free(buf);
	free(path);
}

void rcache_bind(struct rcache *c, struct rules_cache *out)
{
	out->get = get;
	out->put = put;
	out->arg = c;
}

void rcache_get_stats(const struct rcache *c, struct rcache_stats *out)
{
	*out = c->st;
}

const char *rcache_last_error(const struct rcache *c)
{
	return c->last_error;
}
