/*
 * directory.c - the customer directory (see directory.h): entries and
 * their checks, the CSV file, the SQLite query, and the dispatch to the
 * HTTP source (directory_http.c).
 */
#include "directory.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/buf.h"
#include "../common/file.h"
#include "../common/utf8.h"
#include "../common/xmalloc.h"
#include "directory_int.h"
#include "mime.h"

#define CSV_MAX_FIELD  4096
#define CSV_MAX_FIELDS 16
#define SQLITE_BUSY_MS 200

/*
 * Entries.
 */

void directory_entry_clear(struct directory_entry *e)
{
	free(e->id);
	free(e->name);
	free(e->email);
	free(e->alt_email);
	free(e->locale);
	memset(e, 0, sizeof(*e));
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void directory_entry_copy(struct directory_entry *dst,
                          const struct directory_entry *src)
{
	dst->id = dup_or_null(src->id);
	dst->name = dup_or_null(src->name);
	dst->email = dup_or_null(src->email);
	dst->alt_email = dup_or_null(src->alt_email);
	dst->locale = dup_or_null(src->locale);
}

/* 1..max bytes of UTF-8 without control characters. */
static int check_text(const char *what, const char *v, size_t max,
                      struct bw_error *err)
{
	if (v[0] == '\0')
		return bw_error_set(err, NULL, 0, "%s: empty", what);
	return mime_text_check(what, v, max, err);
}

int directory_entry_check(const struct directory_entry *e, struct bw_error *err)
{
	if (e->id == NULL || check_text("id", e->id, DIRECTORY_MAX_ID, err) < 0)
		return e->id == NULL ? bw_error_set(err, NULL, 0, "no id") : -1;
	if (e->email == NULL)
		return bw_error_set(err, NULL, 0, "no e-mail address");
	if (mime_addr_check(e->email, "email", err) < 0)
		return -1;
	if (e->alt_email != NULL &&
	    mime_addr_check(e->alt_email, "alt_email", err) < 0)
		return -1;
	if (e->name != NULL &&
	    check_text("name", e->name, MIME_MAX_NAME, err) < 0)
		return -1;
	if (e->locale != NULL) {
		size_t len = strlen(e->locale);

		if (len == 0 || len > DIRECTORY_MAX_LOCALE ||
		    strspn(e->locale,
		           "abcdefghijklmnopqrstuvwxyz"
		           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != len)
			return bw_error_set(err, NULL, 0,
			                    "locale: letters, digits, '-' and "
			                    "'_', 1-%d",
			                    DIRECTORY_MAX_LOCALE);
	}
	return 0;
}

static const char *const kind_names[] = {
    [DIRECTORY_NONE] = "none",
    [DIRECTORY_CSV] = "csv",
    [DIRECTORY_SQLITE] = "sqlite",
    [DIRECTORY_HTTP] = "http",
};

const char *directory_kind_name(enum directory_kind k)
{
	if ((size_t)k >= sizeof(kind_names) / sizeof(kind_names[0]))
		return "unknown";
	return kind_names[k];
}

int directory_kind_by_name(const char *name, enum directory_kind *out)
{
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]);
	     i++) {
		if (strcmp(kind_names[i], name) == 0) {
			*out = (enum directory_kind)i;
			return 0;
		}
	}
	return -1;
}

/*
 * The CSV file.
 */

enum column { C_ID, C_NAME, C_EMAIL, C_ALT, C_LOCALE, N_COLUMNS };

static const char *const column_names[N_COLUMNS] = {
    [C_ID] = "id",         [C_NAME] = "name",     [C_EMAIL] = "email",
    [C_ALT] = "alt_email", [C_LOCALE] = "locale",
};

struct rec {
	struct directory_entry e;
	int line;
	char *refused; /* why the row is not used, or NULL */
	size_t next;   /* hash chain: index + 1, 0 ends */
};

struct csv_table {
	struct rec *recs;
	size_t n, cap;
	size_t *buckets; /* index + 1, 0 empty */
	size_t n_buckets;
	size_t good, refused;
	char *refusals[DIRECTORY_MAX_REFUSALS];
	size_t n_refusals;
};

uint64_t directory_hash(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static void table_free(struct csv_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		directory_entry_clear(&t->recs[i].e);
		free(t->recs[i].refused);
	}
	for (size_t i = 0; i < t->n_refusals; i++)
		free(t->refusals[i]);
	free(t->recs);
	free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static struct rec *table_find(const struct csv_table *t, const char *id)
{
	size_t i;

	if (t->n_buckets == 0)
		return NULL;
	i = t->buckets[directory_hash(id) & (t->n_buckets - 1)];
	while (i != 0) {
		struct rec *r = &t->recs[i - 1];

		if (strcmp(r->e.id, id) == 0)
			return r;
		i = r->next;
	}
	return NULL;
}

static void table_rehash(struct csv_table *t)
{
	size_t nb = t->n_buckets ? t->n_buckets : 1024;

	while (nb < 2 * (t->n + 1))
		nb *= 2;
	if (nb == t->n_buckets)
		return;
	free(t->buckets);
	t->buckets = xcalloc(nb, sizeof(*t->buckets));
	t->n_buckets = nb;
	for (size_t i = 0; i < t->n; i++) {
		size_t b = directory_hash(t->recs[i].e.id) & (nb - 1);

		t->recs[i].next = t->buckets[b];
		t->buckets[b] = i + 1;
	}
}

/* Take e over as a row at line (refused when why is not NULL). */
static void table_add(struct csv_table *t, struct directory_entry *e, int line,
                      const char *why)
{
	struct rec *r;
	size_t b;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		t->recs = xreallocarray(t->recs, t->cap, sizeof(*t->recs));
	}
	if (2 * (t->n + 1) > t->n_buckets)
		table_rehash(t);
	r = &t->recs[t->n];
	r->e = *e;
	memset(e, 0, sizeof(*e));
	r->line = line;
	r->refused = dup_or_null(why);
	b = directory_hash(r->e.id) & (t->n_buckets - 1);
	r->next = t->buckets[b];
	t->buckets[b] = ++t->n;
}

static void note_refusal(struct csv_table *t, const char *path, int line,
                         const char *why)
{
	t->refused++;
	if (t->n_refusals < DIRECTORY_MAX_REFUSALS)
		t->refusals[t->n_refusals++] =
		    xasprintf("%s:%d: %s", path, line, why);
}

struct csv {
	const char *p, *end;
	int line;
	char *fields[CSV_MAX_FIELDS];
	size_t n_fields;
	char why[256]; /* a row's problem */
};

static void csv_clear(struct csv *c)
{
	for (size_t i = 0; i < c->n_fields; i++)
		free(c->fields[i]);
	c->n_fields = 0;
}

/* Skip to the start of the next physical line. */
static void csv_skip_line(struct csv *c)
{
	while (c->p < c->end && *c->p != '\n')
		c->p++;
	if (c->p < c->end) {
		c->p++;
		c->line++;
	}
}

enum { CSV_EOF, CSV_ROW, CSV_ROW_BAD, CSV_FILE_BAD };

/* Read one record. CSV_ROW_BAD: c->why says why and the rest of the line
 * was skipped; CSV_FILE_BAD: a quote is never closed. */
static int csv_record(struct csv *c, int *start_line)
{
	struct bw_buf f;
	int rc = CSV_ROW;

	csv_clear(c);
	*start_line = c->line;
	if (c->p >= c->end)
		return CSV_EOF;
	bw_buf_init(&f, CSV_MAX_FIELD);
	for (;;) {
		bw_buf_reset(&f);
		if (c->p < c->end && *c->p == '"') {
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					bw_buf_free(&f);
					return CSV_FILE_BAD;
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end &&
					    c->p[1] == '"') {
						c->p += 2;
						if (bw_buf_addc(&f, '"') < 0)
							goto too_long;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->line++;
				if (bw_buf_addc(&f, *c->p++) < 0)
					goto too_long;
			}
		} else {
			while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
			       !(*c->p == '\r' && c->p + 1 < c->end &&
			         c->p[1] == '\n')) {
				if (*c->p == '"') {
					snprintf(c->why, sizeof(c->why),
					         "a quote inside an unquoted "
					         "field");
					goto bad;
				}
				if (bw_buf_addc(&f, *c->p++) < 0)
					goto too_long;
			}
		}
		if (c->n_fields == CSV_MAX_FIELDS) {
			snprintf(c->why, sizeof(c->why), "more than %d fields",
			         CSV_MAX_FIELDS);
			goto bad;
		}
		if (memchr(f.data != NULL ? f.data : "", '\0', f.len) != NULL) {
			snprintf(c->why, sizeof(c->why), "a NUL byte");
			goto bad;
		}
		c->fields[c->n_fields++] =
		    xstrndup(f.data != NULL ? f.data : "", f.len);
		if (c->p >= c->end)
			break;
		if (*c->p == ',') {
			c->p++;
			continue;
		}
		if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n')
			c->p++;
		if (*c->p == '\n') {
			c->p++;
			c->line++;
			break;
		}
		snprintf(c->why, sizeof(c->why), "text after a closing quote");
		goto bad;
	}
	bw_buf_free(&f);
	return rc;

too_long:
	snprintf(c->why, sizeof(c->why), "a field longer than %d bytes",
	         CSV_MAX_FIELD);
bad:
	bw_buf_free(&f);
	csv_skip_line(c);
	return CSV_ROW_BAD;
}

/* The header: each column known, id and email present, none twice. */
static int csv_header(struct csv *c, int line, const char *path,
                      int col_of[CSV_MAX_FIELDS], struct bw_error *err)
{
	bool seen[N_COLUMNS] = {false};

	for (size_t i = 0; i < c->n_fields; i++) {
		size_t k;

		for (k = 0; k < N_COLUMNS; k++)
			if (strcmp(c->fields[i], column_names[k]) == 0)
				break;
		if (k == N_COLUMNS)
			return bw_error_set(err, path, line,
			                    "unknown column \"%.64s\" (the "
			                    "columns are id, name, email, "
			                    "alt_email, locale)",
			                    c->fields[i]);
		if (seen[k])
			return bw_error_set(err, path, line, "column %s twice",
			                    column_names[k]);
		seen[k] = true;
		col_of[i] = (int)k;
	}
	if (!seen[C_ID] || !seen[C_EMAIL])
		return bw_error_set(err, path, line,
		                    "the header line must name the columns id "
		                    "and email (and may name name, alt_email, "
		                    "locale)");
	return 0;
}

/* One data row into t. */
static void csv_row(struct csv_table *t, struct csv *c, int line,
                    const char *path, const int col_of[CSV_MAX_FIELDS],
                    size_t n_cols)
{
	struct directory_entry e = {0};
	struct bw_error err;
	char why[600];
	struct rec *dup;

	if (c->n_fields != n_cols) {
		snprintf(why, sizeof(why), "%zu fields, the header has %zu",
		         c->n_fields, n_cols);
		/* the id, when it is where the header says, is known bad */
		for (size_t i = 0; i < c->n_fields && i < n_cols; i++)
			if (col_of[i] == C_ID && c->fields[i][0] != '\0' &&
			    table_find(t, c->fields[i]) == NULL) {
				e.id = xstrdup(c->fields[i]);
				table_add(t, &e, line, why);
			}
		note_refusal(t, path, line, why);
		return;
	}
	for (size_t i = 0; i < n_cols; i++) {
		char **dst = NULL;

		switch (col_of[i]) {
		case C_ID:
			dst = &e.id;
			break;
		case C_NAME:
			dst = &e.name;
			break;
		case C_EMAIL:
			dst = &e.email;
			break;
		case C_ALT:
			dst = &e.alt_email;
			break;
		default:
			dst = &e.locale;
			break;
		}
		/* an empty optional field is absent */
		if (c->fields[i][0] != '\0' || col_of[i] == C_ID ||
		    col_of[i] == C_EMAIL) {
			*dst = c->fields[i];
			c->fields[i] = NULL;
		}
	}
	if (e.id == NULL || e.id[0] == '\0') {
		note_refusal(t, path, line, "no id");
		directory_entry_clear(&e);
		return;
	}
	dup = table_find(t, e.id);
	if (dup != NULL) {
		snprintf(why, sizeof(why),
		         "id \"%.100s\" is on lines %d and %d: neither is used",
		         e.id, dup->line, line);
		if (dup->refused == NULL) {
			dup->refused = xstrdup(why);
			t->good--;
		}
		note_refusal(t, path, line, why);
		directory_entry_clear(&e);
		return;
	}
	if (directory_entry_check(&e, &err) < 0) {
		struct directory_entry bad = {.id = e.id};

		snprintf(why, sizeof(why), "%s", err.msg);
		e.id = NULL;
		directory_entry_clear(&e);
		note_refusal(t, path, line, why);
		if (check_text("id", bad.id, DIRECTORY_MAX_ID, &err) == 0)
			table_add(t, &bad, line, why);
		else
			free(bad.id);
		return;
	}
	table_add(t, &e, line, NULL);
	t->good++;
}

static int csv_load(const char *path, struct csv_table *t, struct bw_error *err)
{
	struct csv c = {0};
	char *data = NULL;
	size_t len = 0;
	int col_of[CSV_MAX_FIELDS];
	size_t n_cols;
	int rc, line;

	memset(t, 0, sizeof(*t));
	if (bw_file_read(path, DIRECTORY_MAX_FILE, &data, &len, err) < 0)
		return -1;
	c.p = data;
	c.end = data + len;
	c.line = 1;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	rc = csv_record(&c, &line);
	if (rc == CSV_EOF) {
		bw_error_set(err, path, line,
		             "empty: a header line (id,email,...) is needed");
		goto fail;
	}
	if (rc == CSV_FILE_BAD) {
		bw_error_set(err, path, line, "a quote is never closed");
		goto fail;
	}
	if (rc == CSV_ROW_BAD) {
		bw_error_set(err, path, line, "bad header line: %s", c.why);
		goto fail;
	}
	n_cols = c.n_fields;
	if (csv_header(&c, line, path, col_of, err) < 0)
		goto fail;
	for (;;) {
		rc = csv_record(&c, &line);
		if (rc == CSV_EOF)
			break;
		if (rc == CSV_FILE_BAD) {
			bw_error_set(err, path, line,
			             "a quote opened here is never closed");
			goto fail;
		}
		if (rc == CSV_ROW_BAD) {
			note_refusal(t, path, line, c.why);
			continue;
		}
		if (c.n_fields == 1 && c.fields[0][0] == '\0')
			continue; /* an empty line */
		csv_row(t, &c, line, path, col_of, n_cols);
	}
	csv_clear(&c);
	free(data);
	return 0;

fail:
	csv_clear(&c);
	free(data);
	table_free(t);
	return -1;
}

/*
 * The SQLite query.
 */

struct sqlite_src {
	sqlite3 *db;
	sqlite3_stmt *st;
	int col[N_COLUMNS]; /* result column of each, -1 absent */
};

static void sqlite_close(struct sqlite_src *q)
{
	sqlite3_finalize(q->st);
	if (q->db != NULL)
		sqlite3_close_v2(q->db);
	memset(q, 0, sizeof(*q));
}

static int sqlite_open(struct sqlite_src *q, const char *path,
                       const char *query, struct bw_error *err)
{
	int n;

	memset(q, 0, sizeof(*q));
	if (sqlite3_open_v2(path, &q->db,
	                    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		bw_error_set(err, path, 0, "cannot open read-only: %s",
		             q->db != NULL ? sqlite3_errmsg(q->db)
		                           : "out of memory");
		goto fail;
	}
	(void)sqlite3_busy_timeout(q->db, SQLITE_BUSY_MS);
	if (sqlite3_prepare_v2(q->db, query, -1, &q->st, NULL) != SQLITE_OK) {
		bw_error_set(err, path, 0, "query: %s", sqlite3_errmsg(q->db));
		goto fail;
	}
	if (!sqlite3_stmt_readonly(q->st)) {
		bw_error_set(err, path, 0,
		             "query: it would write; a look-up "
		             "must only read");
		goto fail;
	}
	if (sqlite3_bind_parameter_count(q->st) != 1) {
		bw_error_set(
		    err, path, 0,
		    "query: it needs exactly one parameter (?1 or :id) "
		    "for the customer id, it has %d",
		    sqlite3_bind_parameter_count(q->st));
		goto fail;
	}
	for (int k = 0; k < N_COLUMNS; k++)
		q->col[k] = -1;
	n = sqlite3_column_count(q->st);
	for (int i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(q->st, i);

		for (int k = 0; k < N_COLUMNS; k++)
			if (name != NULL && strcmp(name, column_names[k]) == 0)
				q->col[k] = i;
	}
	if (q->col[C_EMAIL] < 0) {
		bw_error_set(err, path, 0,
		             "query: no result column named email (name the "
		             "columns name, email, alt_email, locale, with AS "
		             "if need be)");
		goto fail;
	}
	return 0;
fail:
	sqlite_close(q);
	return -1;
}

static char *sqlite_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t;

	if (col < 0 || sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	t = sqlite3_column_text(st, col);
	if (t == NULL)
		return NULL;
	/* a NUL inside the value would cut it short: refuse it below */
	if ((size_t)sqlite3_column_bytes(st, col) != strlen((const char *)t))
		return xstrdup("\x01");
	return xstrdup((const char *)t);
}

static enum directory_result sqlite_lookup(struct sqlite_src *q, const char *id,
                                           struct directory_entry *out,
                                           char *why, size_t why_size)
{
	struct bw_error err;
	int rc;

	sqlite3_reset(q->st);
	sqlite3_clear_bindings(q->st);
	(void)sqlite3_bind_text(q->st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q->st);
	if (rc == SQLITE_DONE) {
		sqlite3_reset(q->st);
		snprintf(why, why_size, "not in the directory");
		return DIRECTORY_NOT_FOUND;
	}
	if (rc != SQLITE_ROW) {
		snprintf(why, why_size, "directory query failed: %s",
		         sqlite3_errmsg(q->db));
		sqlite3_reset(q->st);
		return DIRECTORY_FAILED;
	}
	out->id = xstrdup(id);
	out->name = sqlite_col(q->st, q->col[C_NAME]);
	out->email = sqlite_col(q->st, q->col[C_EMAIL]);
	out->alt_email = sqlite_col(q->st, q->col[C_ALT]);
	out->locale = sqlite_col(q->st, q->col[C_LOCALE]);
	rc = sqlite3_step(q->st);
	sqlite3_reset(q->st);
	if (rc == SQLITE_ROW) {
		directory_entry_clear(out);
		snprintf(why, why_size,
		         "the directory query returned several rows for it");
		return DIRECTORY_REFUSED;
	}
	if (directory_entry_check(out, &err) < 0) {
		directory_entry_clear(out);
		snprintf(why, why_size, "directory entry refused: %s", err.msg);
		return DIRECTORY_REFUSED;
	}
	return DIRECTORY_FOUND;
}

/*
 * The directory.
 */

struct directory {
	enum directory_kind kind;
	char *path, *query;
	struct csv_table csv;
	struct sqlite_src sql;
	struct directory_http *http;
	struct directory_stats st;
};

struct directory *directory_new(const struct directory_params *p,
                                struct bw_error *err)
{
	struct directory *d = xcalloc(1, sizeof(*d));

	d->kind = p->kind;
	d->path = dup_or_null(p->path);
	d->query = dup_or_null(p->query);
	switch (p->kind) {
	case DIRECTORY_NONE:
		break;
	case DIRECTORY_CSV:
		if (p->path == NULL) {
			bw_error_set(err, NULL, 0,
			             "directory: csv needs a path");
			goto fail;
		}
		if (csv_load(p->path, &d->csv, err) < 0)
			goto fail;
		break;
	case DIRECTORY_SQLITE:
		if (p->path == NULL || p->query == NULL) {
			bw_error_set(
			    err, NULL, 0,
			    "directory: sqlite needs a path and a query");
			goto fail;
		}
		if (sqlite_open(&d->sql, p->path, p->query, err) < 0)
			goto fail;
		break;
	case DIRECTORY_HTTP:
		d->http = directory_http_new(p, err);
		if (d->http == NULL)
			goto fail;
		break;
	}
	return d;
fail:
	directory_destroy(&d);
	return NULL;
}

void directory_destroy(struct directory **dp)
{
	struct directory *d = *dp;

	if (d == NULL)
		return;
	table_free(&d->csv);
	sqlite_close(&d->sql);
	directory_http_destroy(&d->http);
	free(d->path);
	free(d->query);
	free(d);
	*dp = NULL;
}

int directory_reload(struct directory *d, struct bw_error *err)
{
	struct csv_table t;
	struct sqlite_src q;

	switch (d->kind) {
	case DIRECTORY_NONE:
		break;
	case DIRECTORY_CSV:
		if (csv_load(d->path, &t, err) < 0)
			return -1;
		table_free(&d->csv);
		d->csv = t;
		break;
	case DIRECTORY_SQLITE:
		if (sqlite_open(&q, d->path, d->query, err) < 0)
			return -1;
		sqlite_close(&d->sql);
		d->sql = q;
		break;
	case DIRECTORY_HTTP:
		if (directory_http_reload(d->http, err) < 0)
			return -1;
		break;
	}
	d->st.reloads++;
	return 0;
}

static enum directory_result csv_lookup(struct directory *d, const char *id,
                                        struct directory_entry *out, char *why,
                                        size_t why_size)
{
	const struct rec *r = table_find(&d->csv, id);

	if (r == NULL) {
		snprintf(why, why_size, "not in %s", d->path);
		return DIRECTORY_NOT_FOUND;
	}
	if (r->refused != NULL) {
		snprintf(why, why_size, "refused in %s:%d: %s", d->path,
		         r->line, r->refused);
		return DIRECTORY_REFUSED;
	}
	directory_entry_copy(out, &r->e);
	return DIRECTORY_FOUND;
}

enum directory_result directory_lookup(struct directory *d, const char *id,
                                       struct directory_entry *out, char *why,
                                       size_t why_size)
{
	enum directory_result r = DIRECTORY_NOT_FOUND;

	memset(out, 0, sizeof(*out));
	snprintf(why, why_size, "no customer directory is configured");
	d->st.lookups++;
	switch (d->kind) {
	case DIRECTORY_NONE:
		r = DIRECTORY_NOT_FOUND;
		break;
	case DIRECTORY_CSV:
		r = csv_lookup(d, id, out, why, why_size);
		break;
	case DIRECTORY_SQLITE:
		r = sqlite_lookup(&d->sql, id, out, why, why_size);
		break;
	case DIRECTORY_HTTP:
		r = directory_http_lookup(d->http, id, out, why, why_size);
		break;
	}
	switch (r) {
	case DIRECTORY_FOUND:
		d->st.found++;
		break;
	case DIRECTORY_NOT_FOUND:
		d->st.not_found++;
		break;
	case DIRECTORY_REFUSED:
		d->st.refused_lookups++;
		break;
	case DIRECTORY_PENDING:
		d->st.pending++;
		break;
	case DIRECTORY_FAILED:
		d->st.failed++;
		break;
	}
	return r;
}

const char *const *directory_refusals(const struct directory *d, size_t *n,
                                      size_t *total)
{
	*n = d->csv.n_refusals;
	*total = d->csv.refused;
	return (const char *const *)d->csv.refusals;
}

void directory_get_stats(const struct directory *d, struct directory_stats *out)
{
	*out = d->st;
	out->entries = d->csv.good;
	out->refused = d->csv.refused;
	if (d->http != NULL)
		directory_http_stats(d->http, out);
}
