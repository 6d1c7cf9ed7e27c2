/*
 * spool.h - the agent's spool: every incident revision on disk before it
 * is sent, until the notifier acknowledges it.
 *
 * One file per revision in the spool directory, named by a sequence number
 * that grows with each revision put (20 decimal digits, so names sort in
 * the order of arrival) and keeps growing across restarts: the numbers are
 * reserved in blocks in the file "sequence". A file is written durably and
 * atomically (file.h: temporary file, write, fsync, link into place, fsync
 * of the directory) before spool_put returns, so once put, a revision
 * survives a crash of the agent or of the machine.
 *
 * At start-up (spool_new) leftover temporary files of an interrupted put
 * are removed, and the pending revisions are listed in order. A file that
 * cannot be read back or is corrupt (its header, lengths or BLAKE2b
 * checksum do not match), or a file with a name the spool does not know, is
 * moved aside into the "quarantine" subdirectory, with a ".reason" file
 * beside it, and counted: never silently deleted. A revision the notifier
 * rejects is moved there too (spool_quarantine).
 *
 * The spool is bounded in total bytes and in count. A put that would pass
 * a bound fails (-1) and is counted (spool_stats.full): the caller logs it
 * loudly, keeps the revision and offers it again later, when
 * acknowledgements have made room (see docs/transport.md for the agent's
 * contract). Nothing already in the spool is ever dropped to make room.
 *
 * The directory is locked (flock) while a struct spool has it open: a
 * second agent on the same spool is refused. Not thread-safe.
 */
#ifndef BW_SPOOL_H
#define BW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/error.h"
#include "../common/incident.h"

#define SPOOL_DEFAULT_MAX_BYTES (512u << 20)
#define SPOOL_DEFAULT_MAX_ITEMS 100000u
#define SPOOL_QUARANTINE "quarantine"

struct spool_params {
	const char *dir;    /* created (mode 0700) with its parent existing */
	uint64_t max_bytes; /* total size of pending files; 0: default */
	uint64_t max_items; /* pending revisions; 0: default */
};

struct spool_stats {
	uint64_t pending;      /* revisions waiting now */
	uint64_t bytes;        /* their files' total size */
	uint64_t written;      /* puts since spool_new */
	uint64_t acked;        /* removed on acknowledgement */
	uint64_t full;         /* puts refused at the bound */
	uint64_t quarantined;  /* files moved aside (corrupt, rejected,
				  unknown) */
	uint64_t missing;      /* pending files that vanished from under us */
	uint64_t tmp_removed;  /* leftover temporary files removed at start */
	uint64_t max_bytes, max_items; /* the bounds in force */
};

/* A revision read back. Owns its strings (free with spool_item_clear). */
struct spool_item {
	uint64_t seq;
	char *id;
	uint32_t revision;
	char *json;
	size_t json_len;
};

void spool_item_clear(struct spool_item *it);

/* Open (creating if needed) the spool in p->dir: remove leftover temporary
 * files, move unknown files to the quarantine, list the pending revisions.
 * Returns NULL with err filled (the directory cannot be created or read,
 * another process holds it, the sequence file cannot be written). Caller
 * owns the result. */
struct spool *spool_new(const struct spool_params *p,
			struct bw_error *err) BW_WUR;

/* Close the spool (pending files stay for the next start). Accepts NULL;
 * nulls the caller's pointer. */
void spool_destroy(struct spool **sp);

/* Put one revision: id (1..BW_INC_MAX_STR bytes of text), revision and its
 * JSON are written durably before this returns; *seq (may be NULL) gets its
 * sequence number. Returns -1 with err filled when the spool is full
 * (counted in stats.full; the message starts with "spool full") or on an
 * I/O error; nothing is then in the spool and the caller still owns the
 * revision. */
int spool_put(struct spool *sp, const char *id, uint32_t revision,
	      const char *json, size_t json_len, uint64_t *seq,
	      struct bw_error *err) BW_WUR;

/* spool_put of bw_incident_to_json(inc). */
int spool_put_incident(struct spool *sp, const struct bw_incident *inc,
		       uint64_t *seq, struct bw_error *err) BW_WUR;

/* The first pending sequence number greater than after (0: the oldest).
 * Returns false when there is none. Iterate with
 *	for (ok = spool_next(sp, 0, &s); ok; ok = spool_next(sp, s, &s)) */
bool spool_next(const struct spool *sp, uint64_t after, uint64_t *seq);

/* Whether seq is pending. */
bool spool_has(const struct spool *sp, uint64_t seq);

enum spool_read_rc {
	SPOOL_READ_ERROR = -1, /* could not read now (e.g. EMFILE): the
				  revision stays pending; try later */
	SPOOL_READ_OK = 0,
	SPOOL_READ_BAD = 1,    /* corrupt or unreadable: moved to the
				  quarantine (or vanished) and no longer
				  pending; err says why */
};

/* Read back the pending revision seq into out (free with
 * spool_item_clear). Returns an enum spool_read_rc. */
int spool_read(struct spool *sp, uint64_t seq, struct spool_item *out,
	       struct bw_error *err) BW_WUR;

/* The notifier has the revision: delete its file. Returns -1 with err when
 * seq is not pending or the file cannot be removed (it then stays pending
 * and may be sent again: the notifier stores a revision once). */
int spool_ack(struct spool *sp, uint64_t seq, struct bw_error *err) BW_WUR;

/* Move the pending revision seq into the quarantine with reason (one line
 * of text, written to "<name>.reason" beside it), and count it. Returns -1
 * with err when seq is not pending or the move fails. */
int spool_quarantine(struct spool *sp, uint64_t seq, const char *reason,
		     struct bw_error *err) BW_WUR;

void spool_get_stats(const struct spool *sp, struct spool_stats *out);

/* The spool's directory (borrowed). */
const char *spool_dir(const struct spool *sp);

#endif
