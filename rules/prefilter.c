/*
 * prefilter.c - Hyperscan databases that answer "which of these regexes
 * can match this field?" in one pass.
 *
 * Every regex is classified once: exact (Hyperscan's answer is PCRE2's
 * answer), prefilter (Hyperscan may say yes where PCRE2 says no, never the
 * reverse: HS_FLAG_PREFILTER), or none (Hyperscan cannot take it even as a
 * prefilter; PCRE2 alone runs it). Patterns with Unicode properties or
 * PCRE2 verbs are left to PCRE2, since Hyperscan's byte-mode reading of
 * them need not be PCRE2's.
 *
 * Classifying a pattern costs a Hyperscan compile, and the database costs
 * another. So the patterns of a database not classified yet are first
 * compiled together, as exact: when that succeeds (the usual case) each
 * of them is exact, and that compile is the database. Only when it fails
 * is each compiled alone (exact, else as a prefilter), and the database
 * compiled again from the classes found.
 *
 * A database is looked up in the caller's cache (rules_set_cache) before
 * it is compiled, under a key that hashes everything the compile depends
 * on: Hyperscan's version, the CPU it tunes for, and each pattern with its
 * flags and id. A hit for the first, all-exact compile also settles the
 * classes, as that compile would have.
 */
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"
#include "engine.h"

static unsigned base_flags(const struct regex *re)
{
	unsigned f = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;

	if (re->nocase)
		f |= HS_FLAG_CASELESS;
	return f;
}

static bool pcre_only_syntax(const char *p)
{
	return strstr(p, "\\p") != NULL || strstr(p, "\\P") != NULL ||
	       strstr(p, "\\X") != NULL || strstr(p, "(*") != NULL;
}

static bool compiles(const char *pattern, unsigned flags)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *cerr = NULL;

	if (hs_compile(pattern, flags, HS_MODE_BLOCK, NULL, &db, &cerr) !=
	    HS_SUCCESS) {
		hs_free_compile_error(cerr);
		return false;
	}
	hs_free_database(db);
	return true;
}

void prefilter_classify(struct regex *re)
{
	if (re->hs != HSM_UNKNOWN)
		return;
	if (pcre_only_syntax(re->pattern))
		re->hs = HSM_NONE;
	else if (compiles(re->pattern, base_flags(re)))
		re->hs = HSM_EXACT;
	else if (compiles(re->pattern, base_flags(re) | HS_FLAG_PREFILTER))
		re->hs = HSM_PREFILTER;
	else
		re->hs = HSM_NONE;
}

void pfdb_add(struct pfdb *db, struct regex *re)
{
	if (re->hs == HSM_UNKNOWN && pcre_only_syntax(re->pattern))
		re->hs = HSM_NONE;
	if (re->hs == HSM_NONE)
		return;
	for (size_t i = 0; i < db->n; i++)
		if (db->pats[i] == re)
			return;
	if (db->n == db->cap) {
		db->cap = db->cap ? db->cap * 2 : 8;
		db->pats = xreallocarray(db->pats, db->cap, sizeof(*db->pats));
	}
	db->pats[db->n++] = re;
}

/* Drop the patterns found since they were added to be beyond Hyperscan
 * (they would not have been added had that been known then); keep those
 * left to PCRE2 only because another database was refused. */
static void prune(struct pfdb *db)
{
	size_t n = 0;

	for (size_t i = 0; i < db->n; i++)
		if (db->pats[i]->hs != HSM_NONE || db->pats[i]->hs_dropped)
			db->pats[n++] = db->pats[i];
	db->n = n;
}

static void hash_u32(crypto_generichash_state *st, uint32_t v)
{
	crypto_generichash_update(st, (const unsigned char *)&v, sizeof(v));
}

/* The cache key of a block-mode database of these patterns. */
static void cache_key(const char *const *exprs, const unsigned *flags,
                      size_t n, unsigned char key[RULES_CACHE_KEY])
{
	static const char tag[] = "breachwatch hyperscan database 1";
	crypto_generichash_state st;
	hs_platform_info_t plat;
	const char *ver = hs_version();

	memset(&plat, 0, sizeof(plat));
	if (hs_populate_platform(&plat) != HS_SUCCESS)
		memset(&plat, 0xff, sizeof(plat)); /* still a stable key */
	crypto_generichash_init(&st, NULL, 0, RULES_CACHE_KEY);
	crypto_generichash_update(&st, (const unsigned char *)tag, sizeof(tag));
	crypto_generichash_update(&st, (const unsigned char *)ver,
	                          strlen(ver) + 1);
	hash_u32(&st, plat.tune);
	crypto_generichash_update(&st, (const unsigned char *)&plat.cpu_features,
	                          sizeof(plat.cpu_features));
	hash_u32(&st, HS_MODE_BLOCK);
	hash_u32(&st, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(exprs[i]);

		hash_u32(&st, flags[i]);
		hash_u32(&st, (uint32_t)i); /* the id */
		hash_u32(&st, (uint32_t)len);
		crypto_generichash_update(&st, (const unsigned char *)exprs[i],
		                          len);
	}
	crypto_generichash_final(&st, key, RULES_CACHE_KEY);
}

/* The cached database of this key, or NULL. */
static hs_database_t *cache_get(const struct rules_cache *c,
                                const unsigned char *key)
{
	hs_database_t *db = NULL;
	size_t len = 0;
	char *blob;

	if (c->get == NULL)
		return NULL;
	blob = c->get(c->arg, key, &len);
	if (blob == NULL)
		return NULL;
	if (hs_deserialize_database(blob, len, &db) != HS_SUCCESS)
		db = NULL;
	free(blob);
	return db;
}

static void cache_put(const struct rules_cache *c, const unsigned char *key,
                      const hs_database_t *db)
{
	char *blob = NULL;
	size_t len = 0;

	if (c->put == NULL ||
	    hs_serialize_database(db, &blob, &len) != HS_SUCCESS)
		return;
	c->put(c->arg, key, blob, len);
	free(blob); /* Hyperscan's default allocator is malloc */
}

/* Compile db->db from its patterns, those not classified yet as exact,
 * or load it from r's cache. Returns false (db->db NULL) if Hyperscan
 * refuses them. */
static bool compile_db(struct pfdb *db, struct rules *r)
{
	unsigned char key[RULES_CACHE_KEY];
	const char **exprs = xcalloc(db->n, sizeof(*exprs));
	unsigned *flags = xcalloc(db->n, sizeof(*flags));
	unsigned *ids = xcalloc(db->n, sizeof(*ids));
	hs_compile_error_t *cerr = NULL;
	bool ok;

	for (size_t i = 0; i < db->n; i++) {
		exprs[i] = db->pats[i]->pattern;
		flags[i] = base_flags(db->pats[i]);
		if (db->pats[i]->hs == HSM_PREFILTER)
			flags[i] |= HS_FLAG_PREFILTER;
		ids[i] = (unsigned)i;
	}
	cache_key(exprs, flags, db->n, key);
	db->db = cache_get(&r->cache, key);
	if (db->db != NULL) {
		r->st.db_cached++;
		ok = true;
		goto done;
	}
	ok = hs_compile_multi(exprs, flags, ids, (unsigned)db->n, HS_MODE_BLOCK,
	                      NULL, &db->db, &cerr) == HS_SUCCESS;
	if (ok) {
		r->st.db_compiled++;
		cache_put(&r->cache, key, db->db);
	} else {
		hs_free_compile_error(cerr);
		db->db = NULL;
	}
done:
	free(exprs);
	free(flags);
	free(ids);
	return ok;
}

/* Whether some pattern of db is not classified yet. */
static bool has_unknown(const struct pfdb *db)
{
	for (size_t i = 0; i < db->n; i++)
		if (db->pats[i]->hs == HSM_UNKNOWN)
			return true;
	return false;
}

/* Classify each pattern not classified yet alone, then compile db->db
 * from the classes. Returns false with no database if no pattern is left
 * or Hyperscan refuses them together (too big: they are all left to PCRE2
 * rather than refuse the rules). */
static bool compile_classified(struct pfdb *db, struct rules *r)
{
	for (size_t i = 0; i < db->n; i++)
		prefilter_classify(db->pats[i]);
	prune(db);
	if (db->n == 0)
		return false;
	if (compile_db(db, r))
		return true;
	for (size_t i = 0; i < db->n; i++) {
		db->pats[i]->hs = HSM_NONE;
		db->pats[i]->hs_dropped = true;
	}
	db->n = 0;
	return false;
}

int pfdb_compile(struct pfdb *db, struct rules *r, struct bw_error *err)
{
	if (db->db != NULL)
		return 0;
	prune(db);
	if (db->n > 0 && has_unknown(db) && compile_db(db, r)) {
		/* Together as exact, so each alone as exact. */
		for (size_t i = 0; i < db->n; i++)
			if (db->pats[i]->hs == HSM_UNKNOWN)
				db->pats[i]->hs = HSM_EXACT;
	} else if (!compile_classified(db, r)) {
		return 0;
	}
	if (hs_alloc_scratch(db->db, &r->scratch) != HS_SUCCESS)
		return bw_error_set(err, NULL, 0,
		                    "cannot allocate Hyperscan scratch");
	return 0;
}

void pfdb_free(struct pfdb *db)
{
	hs_free_database(db->db);
	free(db->pats);
	memset(db, 0, sizeof(*db));
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to,
                  unsigned fl, void *ctx)
{
	struct pfdb *db = ctx;

	(void)from;
	(void)to;
	(void)fl;
	db->pats[id]->hit_gen = db->gen;
	return 0;
}

void pfdb_scan(struct pfdb *db, hs_scratch_t *scratch, const char *p,
               size_t len, uint64_t gen)
{
	if (db->gen == gen)
		return;
	db->gen = gen;
	db->failed = false;
	if (db->db == NULL)
		return;
	if (len > UINT_MAX)
		len = UINT_MAX;
	/* An error (none expected: scratch is sized for every database)
	 * leaves the answer unknown: mark every pattern as hit and set
	 * failed, so that PCRE2 decides for each. */
	db->failed = hs_scan(db->db, p != NULL ? p : "", (unsigned)len, 0,
	                     scratch, on_hit, db) != HS_SUCCESS;
	if (db->failed)
		for (size_t i = 0; i < db->n; i++)
			db->pats[i]->hit_gen = gen;
}
