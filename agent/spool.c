/*
 * spool.c - the agent's spool of incident revisions (spool.h).
 *
 * A spool file is
 *
 *	bw-spool 1 <seq> <revision> <id length> <json length> <blake2b>\n
 *	<id>\n
 *	<json>\n
 *
 * with decimal numbers and the 128-bit BLAKE2b of everything after the
 * first line in hex. It is decoded field by field; the lengths must add up
 * to the file's size exactly. The pending revisions are kept in memory as an
 * array sorted by sequence number (puts append, acks mostly remove from the
 * front): removed entries are marked and the array is compacted now and
 * then.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/buf.h"
#include "../common/file.h"
#include "../common/path.h"
#include "../common/wire.h"
#include "../common/xmalloc.h"

#define MAGIC "bw-spool"
#define FORMAT_VERSION 1
#define NAME_DIGITS 20
#define NAME_SUFFIX ".rev"
#define NAME_LEN (NAME_DIGITS + 4)
#define SEQ_FILE "sequence"
#define SEQ_MAGIC "bw-spool-sequence"
#define SEQ_BLOCK 1024 /* sequence numbers reserved per write */
#define HASH_LEN 16
#define HEADER_MAX 160
#define FILE_MAX (HEADER_MAX + BW_INC_MAX_STR + BW_INC_MAX_JSON + 2)

struct entry {
	uint64_t seq;
	uint64_t size; /* of the file */
	bool gone;     /* acked or moved aside */
};

struct spool {
	char *dir, *qdir;
	int lockfd;
	struct entry *e; /* sorted by seq; live ones in [head, n) */
	size_t head, n, cap, n_gone;
	uint64_t next_seq; /* the next to give */
	uint64_t reserved; /* numbers below this are reserved on disk */
	struct spool_stats st;
};

void spool_item_clear(struct spool_item *it)
{
	free(it->id);
	free(it->json);
	memset(it, 0, sizeof(*it));
}

static char *item_path(const struct spool *sp, uint64_t seq)
{
	return xasprintf("%s/%0*" PRIu64 NAME_SUFFIX, sp->dir, NAME_DIGITS,
	                 seq);
}

/* The sequence number in a spool file's name, or 0. */
static uint64_t parse_name(const char *name)
{
	uint64_t v = 0;
	size_t i;

	if (strlen(name) != NAME_LEN ||
	    strcmp(name + NAME_DIGITS, NAME_SUFFIX) != 0)
		return 0;
	for (i = 0; i < NAME_DIGITS; i++) {
		unsigned d = (unsigned)(name[i] - '0');

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v;
}

/*
 * The in-memory list.
 */

static void add_entry(struct spool *sp, uint64_t seq, uint64_t size)
{
	if (sp->n == sp->cap) {
		sp->cap = sp->cap < 64 ? 64 : sp->cap * 2;
		sp->e = xreallocarray(sp->e, sp->cap, sizeof(*sp->e));
	}
	sp->e[sp->n].seq = seq;
	sp->e[sp->n].size = size;
	sp->e[sp->n].gone = false;
	sp->n++;
	sp->st.pending++;
	sp->st.bytes += size;
}

/* The live entry of seq, or NULL. */
static struct entry *find(const struct spool *sp, uint64_t seq)
{
	size_t lo = sp->head, hi = sp->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->e[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < sp->n && sp->e[lo].seq == seq && !sp->e[lo].gone)
		return &sp->e[lo];
	return NULL;
}

static void compact(struct spool *sp)
{
	size_t i, j = 0;

	for (i = sp->head; i < sp->n; i++) {
		if (!sp->e[i].gone)
			sp->e[j++] = sp->e[i];
	}
	sp->head = 0;
	sp->n = j;
	sp->n_gone = 0;
}

static void remove_entry(struct spool *sp, struct entry *e)
{
	e->gone = true;
	sp->n_gone++;
	sp->st.pending--;
	sp->st.bytes -= e->size;
	while (sp->head < sp->n && sp->e[sp->head].gone) {
		sp->head++;
		sp->n_gone--;
	}
	if (sp->n_gone > 64 && sp->n_gone * 2 > sp->n - sp->head)
		compact(sp);
	if (sp->head == sp->n) {
		sp->head = 0;
		sp->n = 0;
	}
}

bool spool_next(const struct spool *sp, uint64_t after, uint64_t *seq)
{
	size_t lo = sp->head, hi = sp->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->e[mid].seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < sp->n; lo++) {
		if (!sp->e[lo].gone) {
			*seq = sp->e[lo].seq;
			return true;
		}
	}
	return false;
}

bool spool_has(const struct spool *sp, uint64_t seq)
{
	return find(sp, seq) != NULL;
}

/*
 * The quarantine.
 */

/* Move the file name (in the spool directory) into the quarantine, with
 * reason beside it. Counts it. */
static int move_aside(struct spool *sp, const char *name, const char *reason,
                      struct bw_error *err)
{
	char *from = xasprintf("%s/%s", sp->dir, name);
	char *to = NULL, *why = NULL, *text = NULL;
	int i, rc = -1;

	/* never replace an earlier file of the same name */
	for (i = 0; i < 1000; i++) {
		free(to);
		to = i == 0 ? xasprintf("%s/%s", sp->qdir, name)
		            : xasprintf("%s/%s.%d", sp->qdir, name, i);
		if (access(to, F_OK) != 0)
			break;
	}
	if (rename(from, to) < 0) {
		bw_error_set(err, from, 0, "cannot move to %s: %s", to,
		             strerror(errno));
		goto done;
	}
	sp->st.quarantined++;
	if (bw_fsync_dir_of(to) < 0 || bw_fsync_dir_of(from) < 0) {
		bw_error_set(err, to, 0, "fsync of the directory: %s",
		             strerror(errno));
		goto done;
	}
	why = xasprintf("%s.reason", to);
	text = xasprintf("%s\n", reason);
	if (bw_file_write_atomic(why, text, strlen(text), 0600, true, err) < 0)
		goto done;
	rc = 0;
done:
	free(text);
	free(why);
	free(to);
	free(from);
	return rc;
}

int spool_quarantine(struct spool *sp, uint64_t seq, const char *reason,
                     struct bw_error *err)
{
	struct entry *e = find(sp, seq);
	char name[NAME_LEN + 1];

	if (e == NULL)
		return bw_error_set(err, sp->dir, 0,
		                    "revision %" PRIu64 " is not pending", seq);
	snprintf(name, sizeof(name), "%0*" PRIu64 NAME_SUFFIX, NAME_DIGITS,
	         seq);
	if (move_aside(sp, name, reason, err) < 0) {
		/* Once renamed it is no longer pending, even if writing the
		 * reason failed. */
		char *p = item_path(sp, seq);
		bool still = access(p, F_OK) == 0;

		free(p);
		if (!still)
			remove_entry(sp, e);
		return -1;
	}
	remove_entry(sp, e);
	return 0;
}

/*
 * The sequence file.
 */

static int write_sequence(struct spool *sp, uint64_t reserve,
                          struct bw_error *err)
{
	char *path = xasprintf("%s/%s", sp->dir, SEQ_FILE);
	char *text = xasprintf(SEQ_MAGIC " 1 %" PRIu64 "\n", reserve);
	int rc;

	rc = bw_file_write_atomic(path, text, strlen(text), 0600, true, err);
	free(text);
	free(path);
	if (rc == 0)
		sp->reserved = reserve;
	return rc;
}

/* The number reserved in the sequence file, 0 when there is none. A file
 * that does not parse is moved aside. */
static int read_sequence(struct spool *sp, uint64_t *out,
                         struct bw_error *err)
{
	char *path = xasprintf("%s/%s", sp->dir, SEQ_FILE);
	char *data = NULL, *end = NULL;
	size_t len = 0, mlen = strlen(SEQ_MAGIC " 1 ");
	unsigned long long v;
	int rc = 0;

	*out = 0;
	if (bw_file_read(path, 128, &data, &len, err) < 0) {
		char why[sizeof(err->msg)];

		if (errno == ENOENT)
			goto done;
		snprintf(why, sizeof(why), "%s", err->msg);
		rc = move_aside(sp, SEQ_FILE, why, err);
		goto done;
	}
	errno = 0;
	if (len > mlen && memcmp(data, SEQ_MAGIC " 1 ", mlen) == 0 &&
	    data[mlen] >= '0' && data[mlen] <= '9') {
		v = strtoull(data + mlen, &end, 10);
		if (errno == 0 && end != NULL && strcmp(end, "\n") == 0) {
			*out = v;
			goto done;
		}
	}
	rc = move_aside(sp, SEQ_FILE, "sequence file does not parse", err);
done:
	free(data);
	free(path);
	return rc;
}

/*
 * Opening.
 */

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int make_dir(const char *path, struct bw_error *err)
{
	if (mkdir(path, 0700) == 0)
		return bw_fsync_dir_of(path) == 0
		           ? 0
		           : bw_error_set(err, path, 0,
		                          "fsync of the parent: %s",
		                          strerror(errno));
	if (errno != EEXIST)
		return bw_error_set(err, path, 0, "mkdir: %s", strerror(errno));
	return 0;
}

static int scan(struct spool *sp, uint64_t *max_seq, struct bw_error *err)
{
	DIR *d = opendir(sp->dir);
	struct dirent *de;
	int rc = -1;

	*max_seq = 0;
	if (d == NULL)
		return bw_error_set(err, sp->dir, 0, "%s", strerror(errno));
	for (;;) {
		struct stat st;
		uint64_t seq;
		char *p;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				bw_error_set(err, sp->dir, 0, "readdir: %s",
				             strerror(errno));
				goto done;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, SPOOL_QUARANTINE) == 0 ||
		    strcmp(de->d_name, SEQ_FILE) == 0)
			continue;
		p = xasprintf("%s/%s", sp->dir, de->d_name);
		if (lstat(p, &st) < 0) {
			bw_error_set(err, p, 0, "%s", strerror(errno));
			free(p);
			goto done;
		}
		if (strstr(de->d_name, BW_FILE_TMP_MARK) != NULL &&
		    S_ISREG(st.st_mode)) {
			/* an interrupted put: never acknowledged, never
			 * promised to anyone */
			if (unlink(p) < 0) {
				bw_error_set(err, p, 0, "unlink: %s",
				             strerror(errno));
				free(p);
				goto done;
			}
			sp->st.tmp_removed++;
			free(p);
			continue;
		}
		free(p);
		seq = parse_name(de->d_name);
		if (seq != 0 && S_ISREG(st.st_mode)) {
			add_entry(sp, seq, (uint64_t)st.st_size);
			if (seq > *max_seq)
				*max_seq = seq;
			continue;
		}
		if (S_ISDIR(st.st_mode))
			continue; /* not ours to move */
		if (move_aside(sp, de->d_name, "not a spool file name", err) <
		    0)
			goto done;
	}
	rc = 0;
done:
	closedir(d);
	return rc;
}

struct spool *spool_new(const struct spool_params *p, struct bw_error *err)
{
	struct spool *sp = xcalloc(1, sizeof(*sp));
	uint64_t max_seq = 0, reserved = 0;

	sp->lockfd = -1;
	sp->dir = xstrdup(p->dir);
	sp->qdir = xasprintf("%s/%s", p->dir, SPOOL_QUARANTINE);
	sp->st.max_bytes = p->max_bytes ? p->max_bytes : SPOOL_DEFAULT_MAX_BYTES;
	sp->st.max_items = p->max_items ? p->max_items : SPOOL_DEFAULT_MAX_ITEMS;
	if (make_dir(sp->dir, err) < 0 || make_dir(sp->qdir, err) < 0)
		goto fail;
	sp->lockfd = open(sp->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->lockfd < 0) {
		bw_error_set(err, sp->dir, 0, "%s", strerror(errno));
		goto fail;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			bw_error_set(err, sp->dir, 0,
			             "in use by another process");
		else
			bw_error_set(err, sp->dir, 0, "flock: %s",
			             strerror(errno));
		goto fail;
	}
	if (scan(sp, &max_seq, err) < 0)
		goto fail;
	if (sp->n > 0)
		qsort(sp->e, sp->n, sizeof(*sp->e), cmp_entry);
	if (read_sequence(sp, &reserved, err) < 0)
		goto fail;
	sp->next_seq = max_seq + 1 > reserved ? max_seq + 1 : reserved;
	/* Reserve the next block now: numbers handed out after this start
	 * are then above any used before it. */
	if (write_sequence(sp, sp->next_seq + SEQ_BLOCK, err) < 0)
		goto fail;
	return sp;
fail:
	spool_destroy(&sp);
	return NULL;
}

void spool_destroy(struct spool **spp)
{
	struct spool *sp;

	if (spp == NULL || *spp == NULL)
		return;
	sp = *spp;
	if (sp->lockfd >= 0)
		close(sp->lockfd);
	free(sp->e);
	free(sp->dir);
	free(sp->qdir);
	free(sp);
	*spp = NULL;
}

/*
 * Putting and reading.
 */

static void hash_hex(const void *body, size_t len, char out[2 * HASH_LEN + 1])
{
	unsigned char h[HASH_LEN];

	crypto_generichash(h, sizeof(h), body, len, NULL, 0);
	sodium_bin2hex(out, 2 * HASH_LEN + 1, h, sizeof(h));
}

int spool_put(struct spool *sp, const char *id, uint32_t revision,
              const char *json, size_t json_len, uint64_t *seqp,
              struct bw_error *err)
{
	struct bw_wire_msg probe = {.type = BW_WIRE_INCIDENT,
	                            .seq = 1,
	                            .id = (char *)id,
	                            .id_len = id != NULL ? strlen(id) : 0,
	                            .revision = revision,
	                            .json = (char *)json,
	                            .json_len = json_len};
	struct bw_wire_frames frames;
	char hex[2 * HASH_LEN + 1], header[HEADER_MAX];
	struct bw_buf b;
	uint64_t seq, size, room;
	char *path = NULL;
	size_t body_at;
	int hlen, rc = -1;

	/* Only what the wire can carry goes in. */
	if (bw_wire_encode(&probe, &frames, err) < 0)
		return -1;
	bw_buf_init(&b, FILE_MAX);
	/* the body first, to hash it; the header goes in front */
	if (bw_buf_add(&b, id, probe.id_len) < 0 || bw_buf_addc(&b, '\n') < 0 ||
	    bw_buf_add(&b, json, json_len) < 0 || bw_buf_addc(&b, '\n') < 0) {
		bw_error_set(err, sp->dir, 0, "revision too large");
		goto done;
	}
	hash_hex(b.data, b.len, hex);
	seq = sp->next_seq;
	hlen = snprintf(header, sizeof(header),
	                MAGIC " %d %" PRIu64 " %" PRIu32 " %zu %zu %s\n",
	                FORMAT_VERSION, seq, revision, probe.id_len, json_len,
	                hex);
	size = (uint64_t)hlen + b.len;
	room = sp->st.bytes < sp->st.max_bytes
	           ? sp->st.max_bytes - sp->st.bytes
	           : 0;
	if (sp->st.pending + 1 > sp->st.max_items || size > room) {
		sp->st.full++;
		bw_error_set(err, sp->dir, 0,
		             "spool full: %" PRIu64 " revisions, %" PRIu64
		             " bytes (bounds %" PRIu64 " revisions, %" PRIu64
		             " bytes); revision %" PRIu32 " of %s (%" PRIu64
		             " bytes) not spooled",
		             sp->st.pending, sp->st.bytes, sp->st.max_items,
		             sp->st.max_bytes, revision, id, size);
		goto done;
	}
	if (seq >= sp->reserved &&
	    write_sequence(sp, seq + SEQ_BLOCK, err) < 0)
		goto done;
	/* prepend the header */
	body_at = b.len;
	if (bw_buf_add(&b, header, (size_t)hlen) < 0) {
		bw_error_set(err, sp->dir, 0, "revision too large");
		goto done;
	}
	memmove(b.data + hlen, b.data, body_at);
	memcpy(b.data, header, (size_t)hlen);
	path = item_path(sp, seq);
	if (bw_file_write_atomic(path, b.data, b.len, 0600, false, err) < 0)
		goto done;
	sp->next_seq = seq + 1;
	add_entry(sp, seq, size);
	sp->st.written++;
	if (seqp != NULL)
		*seqp = seq;
	rc = 0;
done:
	free(path);
	bw_buf_free(&b);
	return rc;
}

int spool_put_incident(struct spool *sp, const struct bw_incident *inc,
                       uint64_t *seq, struct bw_error *err)
{
	char *json = bw_incident_to_json(inc);
	int rc;

	rc = spool_put(sp, inc->id, inc->revision, json, strlen(json), seq, err);
	free(json);
	return rc;
}

/* A cursor over the header line. */
struct cur {
	const char *p, *end;
};

static bool lit(struct cur *c, const char *s)
{
	size_t len = strlen(s);

	if ((size_t)(c->end - c->p) < len || memcmp(c->p, s, len) != 0)
		return false;
	c->p += len;
	return true;
}

/* A decimal number <= max, then the separator sep. */
static bool num(struct cur *c, uint64_t max, char sep, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = c->p;

	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		unsigned d = (unsigned)(*c->p - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
		c->p++;
	}
	if (c->p == start || c->p - start > 20 || c->p == c->end ||
	    *c->p != sep)
		return false;
	c->p++;
	*out = v;
	return true;
}

/* Decode a spool file of len bytes. Returns -1 with why filled. */
static int decode(const char *data, size_t len, uint64_t seq,
                  struct spool_item *out, char *why, size_t whysz)
{
	struct cur c = {data, data + (len < HEADER_MAX ? len : HEADER_MAX)};
	uint64_t fseq, rev, id_len, json_len;
	char hex[2 * HASH_LEN + 1];
	const char *body;
	size_t body_len;

	if (!lit(&c, MAGIC " 1 ")) {
		snprintf(why, whysz, "not a spool file of format %d",
		         FORMAT_VERSION);
		return -1;
	}
	if (!num(&c, UINT64_MAX, ' ', &fseq) ||
	    !num(&c, UINT32_MAX, ' ', &rev) ||
	    !num(&c, BW_INC_MAX_STR, ' ', &id_len) ||
	    !num(&c, BW_INC_MAX_JSON, ' ', &json_len) ||
	    (size_t)(c.end - c.p) < 2 * HASH_LEN + 1 ||
	    c.p[2 * HASH_LEN] != '\n') {
		snprintf(why, whysz, "bad header line");
		return -1;
	}
	if (fseq != seq || rev == 0 || id_len == 0 || json_len == 0) {
		snprintf(why, whysz,
		         "header says sequence %" PRIu64 ", revision %" PRIu64
		         ", lengths %" PRIu64 "/%" PRIu64,
		         fseq, rev, id_len, json_len);
		return -1;
	}
	body = c.p + 2 * HASH_LEN + 1;
	body_len = len - (size_t)(body - data);
	if (body_len != id_len + 1 + json_len + 1 || body[id_len] != '\n' ||
	    body[body_len - 1] != '\n') {
		snprintf(why, whysz,
		         "%zu bytes after the header, the header says %" PRIu64,
		         body_len, id_len + json_len + 2);
		return -1;
	}
	hash_hex(body, body_len, hex);
	if (memcmp(hex, c.p, 2 * HASH_LEN) != 0) {
		snprintf(why, whysz, "checksum mismatch");
		return -1;
	}
	out->seq = seq;
	out->revision = (uint32_t)rev;
	out->id = xstrndup(body, id_len);
	out->json = xstrndup(body + id_len + 1, json_len);
	out->json_len = json_len;
	return 0;
}

/* Whether an open() or read() errno may pass (try later) rather than
 * mean the file is unreadable for good. */
static bool transient(int e)
{
	return e == EMFILE || e == ENFILE || e == ENOMEM || e == EINTR ||
	       e == EAGAIN || e == ENOBUFS;
}

int spool_read(struct spool *sp, uint64_t seq, struct spool_item *out,
               struct bw_error *err)
{
	struct entry *e = find(sp, seq);
	char name[NAME_LEN + 1], why[600], *path;
	char *data = NULL;
	size_t len = 0;
	struct bw_error rerr;
	int rc = SPOOL_READ_BAD;

	memset(out, 0, sizeof(*out));
	if (e == NULL) {
		bw_error_set(err, sp->dir, 0,
		             "revision %" PRIu64 " is not pending", seq);
		return SPOOL_READ_ERROR;
	}
	snprintf(name, sizeof(name), "%0*" PRIu64 NAME_SUFFIX, NAME_DIGITS,
	         seq);
	path = item_path(sp, seq);
	if (bw_file_read(path, FILE_MAX, &data, &len, &rerr) < 0) {
		if (transient(errno)) {
			*err = rerr;
			rc = SPOOL_READ_ERROR;
			goto done;
		}
		if (errno == ENOENT) {
			sp->st.missing++;
			remove_entry(sp, e);
			bw_error_set(err, path, 0, "vanished from the spool");
			goto done;
		}
		snprintf(why, sizeof(why), "unreadable: %s", rerr.msg);
	} else if (decode(data, len, seq, out, why, sizeof(why)) == 0) {
		rc = SPOOL_READ_OK;
		goto done;
	}
	if (move_aside(sp, name, why, err) < 0) {
		/* still in place: try again later */
		if (access(path, F_OK) == 0) {
			rc = SPOOL_READ_ERROR;
			goto done;
		}
	} else {
		bw_error_set(err, path, 0, "%s: moved to %s", why, sp->qdir);
	}
	remove_entry(sp, e);
done:
	free(data);
	free(path);
	return rc;
}

int spool_ack(struct spool *sp, uint64_t seq, struct bw_error *err)
{
	struct entry *e = find(sp, seq);
	char *path;

	if (e == NULL)
		return bw_error_set(err, sp->dir, 0,
		                    "revision %" PRIu64 " is not pending", seq);
	path = item_path(sp, seq);
	/* No fsync of the directory: should the unlink be lost in a crash,
	 * the revision is sent again, and the notifier stores it once. */
	if (unlink(path) < 0 && errno != ENOENT) {
		bw_error_set(err, path, 0, "unlink: %s", strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	remove_entry(sp, e);
	sp->st.acked++;
	return 0;
}

void spool_get_stats(const struct spool *sp, struct spool_stats *out)
{
	*out = sp->st;
}

const char *spool_dir(const struct spool *sp)
{
	return sp->dir;
}
