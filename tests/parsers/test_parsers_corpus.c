/*
 * test_parsers_corpus.c - every parser type over every log of the shared
 * corpus ($BW_CORPUS_DIR/logs/{web,ssh,db,edge}): nothing may crash, and
 * the files in a known format must parse as that format. Prints parsed /
 * ignored / rejected counts per file and parser.
 *
 * The corpus is third-party data read in place, never copied into the
 * repository. The .bz2 file is read through `bzip2 -dc`.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_helpers.h"

/* A parser configuration tried on the corpus. */
struct pconf {
	const char *label;
	const char *type;
	const char *cfg;
};

static const struct pconf pconfs[] = {
    {"nginx", "nginx", NULL},
    {"apache", "apache", NULL},
    {"apache-common", "apache", "input = { format = \"common\"; };"},
    {"json", "json",
     "input = { fields = { ts = \"time\"; src_ip = "
     "\"remote_addr\"; request = \"request\"; }; };"},
    {"sshd", "sshd", NULL},
    {"postgres", "postgres", NULL},
    {"postgres-pgbadger", "postgres",
     "input = { prefix = \"%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h \"; "
     "};"},
    {"postgres-syslog", "postgres",
     "input = { syslog = true; prefix = \"db=%d,user=%u,app=%a,client=%h \"; "
     "};"},
};

#define NPCONFS (sizeof(pconfs) / sizeof(pconfs[0]))

struct counts {
	uint64_t lines, events, ignored, rejected;
	uint64_t auth, success, failure, sql, with_addr, with_table;
};

/* Run one parser over a stream; counts what it gives. */
static void run_stream(FILE *f, const struct pconf *pc, int64_t ref_us,
                       struct counts *c)
{
	struct parser *p = th_parser(pc->type, pc->cfg);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct bw_event ev;
	struct bw_error err;
	const struct parser_stats *st;
	int rc;

	parser_set_reference_time(p, ref_us);
	memset(c, 0, sizeof(*c));
	for (;;) {
		n = getline(&line, &cap, f);
		if (n < 0)
			break;
		if (n > 0 && line[n - 1] == '\n')
			n--;
		bw_event_clear(&ev);
		rc = parser_parse(p, line, (size_t)n, &ev, &err);
		if (rc == 1) {
			c->auth += ev.kind == BW_KIND_AUTH;
			c->sql += ev.kind == BW_KIND_SQL;
			c->with_addr += ev.src_ip.family != 0;
			c->with_table +=
			    ev.resource.len > 0 && ev.kind == BW_KIND_SQL;
			c->success += ev.outcome.len == 7 &&
			              memcmp(ev.outcome.p, "success", 7) == 0;
			c->failure += ev.outcome.len == 7 &&
			              memcmp(ev.outcome.p, "failure", 7) == 0;
			ck_assert_uint_le(ev.text.len, 2u * 1024 * 1024);
		}
	}
	while (parser_flush(p, &ev) == 1) {
		c->auth += ev.kind == BW_KIND_AUTH;
		c->sql += ev.kind == BW_KIND_SQL;
		c->with_table += ev.resource.len > 0 && ev.kind == BW_KIND_SQL;
	}
	st = parser_get_stats(p);
	c->lines = st->lines;
	c->events = st->events;
	c->ignored = st->ignored;
	c->rejected = st->rejected;
	free(line);
	parser_destroy(&p);
}

/* Open a corpus file (through bzip2 for .bz2). Sets *piped. */
static FILE *open_log(const char *path, int *piped)
{
	size_t n = strlen(path);
	char cmd[1200];

	*piped = 0;
	if (n > 4 && strcmp(path + n - 4, ".bz2") == 0) {
		if (system("bzip2 --help >/dev/null 2>&1") != 0)
			return NULL;
		snprintf(cmd, sizeof(cmd), "bzip2 -dc '%s'", path);
		*piped = 1;
		return popen(cmd, "r");
	}
	return fopen(path, "rb");
}

/* Counts of every parser over one file, printed; c[i] for pconfs[i].
 * Returns -1 when the file could not be read (said so). */
static int run_file(const char *path, struct counts c[NPCONFS])
{
	struct stat sb;
	int64_t ref;
	size_t i;
	int piped;

	if (stat(path, &sb) != 0)
		return -1;
	ref = (int64_t)sb.st_mtim.tv_sec * 1000000;
	for (i = 0; i < NPCONFS; i++) {
		FILE *f = open_log(path, &piped);

		if (f == NULL) {
			printf("%s: skipped (cannot read it%s)\n", path,
			       piped ? "" : "; bzip2 missing?");
			return -1;
		}
		run_stream(f, &pconfs[i], ref, &c[i]);
		if (piped) {
			if (pclose(f) != 0) {
				printf("%s: skipped (bzip2 -dc failed)\n",
				       path);
				return -1;
			}
		} else {
			fclose(f);
		}
		printf("%-60s %-18s lines %6llu parsed %6llu ignored %6llu "
		       "rejected %6llu\n",
		       path, pconfs[i].label, (unsigned long long)c[i].lines,
		       (unsigned long long)c[i].events,
		       (unsigned long long)c[i].ignored,
		       (unsigned long long)c[i].rejected);
	}
	return 0;
}

static size_t pconf_index(const char *label)
{
	size_t i;

	for (i = 0; i < NPCONFS; i++)
		if (strcmp(pconfs[i].label, label) == 0)
			return i;
	ck_abort_msg("no parser config %s", label);
	return 0;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The known formats: what each must give. */
static void check_known(const char *name, struct counts c[NPCONFS])
{
	const struct counts *x;

	if (strcmp(name, "elastic-apache-combined-10k.log") == 0) {
		x = &c[pconf_index("apache")];
		ck_assert_uint_eq(x->lines, 10000);
		ck_assert_msg(x->events * 100 >= x->lines * 99,
		              "%s: %llu of %llu parsed", name,
		              (unsigned long long)x->events,
		              (unsigned long long)x->lines);
		ck_assert_uint_eq(c[pconf_index("sshd")].events, 0);
	} else if (strcmp(name, "lnav-shop-nginx-combined-1k.log") == 0) {
		x = &c[pconf_index("nginx")];
		ck_assert_msg(x->events * 100 >= x->lines * 99, "%s", name);
	} else if (strcmp(name, "lnav-bad-access-log.log") == 0) {
		x = &c[pconf_index("nginx")];
		ck_assert_uint_eq(x->events, 2);
		ck_assert_uint_eq(x->rejected, 1);
	} else if (strcmp(name, "f2b-nginx-bad-request.log") == 0) {
		/* 8 samples, 8 annotation lines, 7 blank lines */
		x = &c[pconf_index("nginx")];
		ck_assert_uint_eq(x->events, 8);
		ck_assert_uint_eq(x->rejected, 8);
	} else if (strcmp(name, "loghub-openssh-2k.log") == 0) {
		x = &c[pconf_index("sshd")];
		ck_assert_uint_eq(x->lines, 2000);
		ck_assert_uint_eq(x->rejected, 0);
		/* 518 Failed password, 4 Failed none, 113 Invalid user, 1
		 * Accepted, 2 repeated, closed connections */
		ck_assert_uint_ge(x->events, 650);
		ck_assert_uint_eq(x->events, x->auth);
		ck_assert_uint_ge(x->failure, 600);
		ck_assert_uint_eq(x->success, 1);
		ck_assert_uint_eq(x->with_addr, x->events);
	} else if (strcmp(name, "f2b-sshd.log") == 0) {
		/* fail2ban's samples: many are negatives by design; the 193
		 * "# failJSON" annotation lines are the only rejects */
		x = &c[pconf_index("sshd")];
		ck_assert_uint_ge(x->events, 70);
		ck_assert_uint_ge(x->success, 4);
		ck_assert_uint_eq(x->rejected, 193);
	} else if (strcmp(name, "pgbadger-light-postgres.log") == 0) {
		x = &c[pconf_index("postgres-pgbadger")];
		ck_assert_uint_eq(x->rejected, 0);
		ck_assert_uint_ge(x->sql, 600);
		ck_assert_uint_ge(x->with_table, 300);
	} else if (strcmp(name, "lnav-postgres.log") == 0) {
		x = &c[pconf_index("postgres")];
		/* 2 statements, 2 connections received, 2 authorized */
		ck_assert_uint_eq(x->sql, 2);
		ck_assert_uint_eq(x->auth, 4);
		ck_assert_uint_eq(x->rejected, 0);
	} else if (strcmp(name, "pgbadger-pg-syslog.1.bz2") == 0) {
		x = &c[pconf_index("postgres-syslog")];
		ck_assert_uint_ge(x->lines, 59000);
		/* a pgbench run: 5 statements x 8552, 7 connections received
		 * and 6 authorized */
		ck_assert_uint_ge(x->sql, 50000);
		ck_assert_uint_ge(x->with_table, 42000);
		ck_assert_uint_eq(x->auth, 13);
		ck_assert_uint_eq(x->rejected, 0);
	}
}

START_TEST(test_corpus_logs)
{
	static const char *const dirs[] = {"web", "ssh", "db", "edge"};
	struct counts c[NPCONFS];
	size_t d, i, n, files = 0, known = 0;

	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char dir[512], path[1024];
		char **names = NULL;
		struct dirent *de;
		DIR *dh;

		snprintf(dir, sizeof(dir), "%s/logs/%s", BW_CORPUS_DIR,
		         dirs[d]);
		dh = opendir(dir);
		ck_assert_msg(dh != NULL, "corpus directory %s missing", dir);
		n = 0;
		while ((de = readdir(dh)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			names = realloc(names, (n + 1) * sizeof(*names));
			names[n++] = strdup(de->d_name);
		}
		closedir(dh);
		qsort(names, n, sizeof(*names), cmpstr);
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			if (run_file(path, c) == 0) {
				files++;
				check_known(names[i], c);
				known +=
				    strstr("elastic-apache-combined-10k.log "
				           "loghub-openssh-2k.log "
				           "pgbadger-light-postgres.log "
				           "lnav-postgres.log",
				           names[i]) != NULL;
			}
			free(names[i]);
		}
		free(names);
	}
	ck_assert_uint_ge(files, 30);
	ck_assert_uint_eq(known, 4);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parsers_corpus");
	TCase *tc = tcase_create("corpus");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 280);
	tcase_add_test(tc, test_corpus_logs);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
