/*
 * test_spool.c - the agent's spool: put, list, read, ack; order across a
 * reopen; leftover temporary files; corrupt and unknown files quarantined;
 * the bound refuses without losing anything.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"
#include "spool.h"
#include "xmalloc.h"
#include "check_main.h"

#define DIR_TEMPLATE "/tmp/bw-spool-XXXXXX"
static char dir[sizeof(DIR_TEMPLATE)];
static char *sdir; /* the spool: dir/spool (created by spool_new) */

static void setup(void)
{
	/* a fresh template each time: CK_FORK=no runs every test in one
	 * process */
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	sdir = xasprintf("%s/spool", dir);
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(sdir);
}

static struct spool *open_spool(uint64_t max_items, uint64_t max_bytes)
{
	struct spool_params p = {.dir = sdir,
	                         .max_items = max_items,
	                         .max_bytes = max_bytes};
	struct bw_error err;
	struct spool *sp = spool_new(&p, &err);

	ck_assert_msg(sp != NULL, "%s", err.msg);
	return sp;
}

static uint64_t put(struct spool *sp, const char *id, uint32_t rev)
{
	char *json = xasprintf("{\"id\":\"%s\",\"revision\":%u}", id, rev);
	struct bw_error err;
	uint64_t seq = 0;

	ck_assert_msg(spool_put(sp, id, rev, json, strlen(json), &seq, &err) ==
	                  0,
	              "%s", err.msg);
	free(json);
	return seq;
}

static void expect_item(struct spool *sp, uint64_t seq, const char *id,
                        uint32_t rev)
{
	char *json = xasprintf("{\"id\":\"%s\",\"revision\":%u}", id, rev);
	struct spool_item it;
	struct bw_error err;

	ck_assert_msg(spool_read(sp, seq, &it, &err) == SPOOL_READ_OK, "%s",
	              err.msg);
	ck_assert_uint_eq(it.seq, seq);
	ck_assert_str_eq(it.id, id);
	ck_assert_uint_eq(it.revision, rev);
	ck_assert_str_eq(it.json, json);
	ck_assert_uint_eq(it.json_len, strlen(json));
	spool_item_clear(&it);
	free(json);
}

/* The pending sequence numbers, in order, into out; returns the count. */
static size_t pending(const struct spool *sp, uint64_t *out, size_t max)
{
	size_t n = 0;
	uint64_t s;
	bool ok;

	for (ok = spool_next(sp, 0, &s); ok; ok = spool_next(sp, s, &s)) {
		ck_assert_uint_lt(n, max);
		out[n++] = s;
	}
	return n;
}

static size_t count_files(const char *d, const char *contains)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	size_t n = 0;

	ck_assert_ptr_nonnull(dd);
	while ((e = readdir(dd)) != NULL) {
		if (e->d_name[0] != '.' && strstr(e->d_name, contains) != NULL)
			n++;
	}
	closedir(dd);
	return n;
}

static char *seq_path(uint64_t seq)
{
	return xasprintf("%s/%020llu.rev", sdir, (unsigned long long)seq);
}

START_TEST(put_list_ack)
{
	struct spool *sp = open_spool(0, 0);
	struct spool_stats st;
	uint64_t s[3], got[8];
	struct bw_error err;
	struct stat sb;
	char *p;

	s[0] = put(sp, "bw-a", 1);
	s[1] = put(sp, "bw-b", 1);
	s[2] = put(sp, "bw-a", 2);
	ck_assert_uint_lt(s[0], s[1]);
	ck_assert_uint_lt(s[1], s[2]);
	ck_assert_uint_eq(pending(sp, got, 8), 3);
	ck_assert_uint_eq(got[0], s[0]);
	ck_assert_uint_eq(got[2], s[2]);
	expect_item(sp, s[0], "bw-a", 1);
	expect_item(sp, s[1], "bw-b", 1);
	expect_item(sp, s[2], "bw-a", 2);

	/* on disk, private */
	p = seq_path(s[1]);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.pending, 3);
	ck_assert_uint_eq(st.written, 3);
	ck_assert_uint_gt(st.bytes, 0);

	ck_assert_int_eq(spool_ack(sp, s[1], &err), 0);
	ck_assert_int_eq(access(p, F_OK), -1);
	ck_assert(!spool_has(sp, s[1]));
	ck_assert(spool_has(sp, s[0]));
	ck_assert_uint_eq(pending(sp, got, 8), 2);
	ck_assert_uint_eq(got[0], s[0]);
	ck_assert_uint_eq(got[1], s[2]);
	/* acking twice is an error, and reading what is gone too */
	ck_assert_int_eq(spool_ack(sp, s[1], &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "is not pending"));
	{
		struct spool_item it;

		ck_assert_int_eq(spool_read(sp, s[1], &it, &err),
		                 SPOOL_READ_ERROR);
	}
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.pending, 2);
	ck_assert_uint_eq(st.acked, 1);
	ck_assert_int_eq(spool_ack(sp, s[0], &err), 0);
	ck_assert_int_eq(spool_ack(sp, s[2], &err), 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(pending(sp, got, 8), 0);
	free(p);
	spool_destroy(&sp);
	ck_assert_ptr_null(sp);
}
END_TEST

START_TEST(put_incident_and_refusals)
{
	struct spool *sp = open_spool(0, 0);
	struct bw_incident *inc = bw_incident_new();
	struct spool_item it;
	struct spool_stats st;
	struct bw_error err;
	uint64_t seq;

	inc->id = xstrdup("bw-00aa");
	inc->revision = 4;
	inc->rule = xstrdup("r");
	inc->category = xstrdup("c");
	inc->severity = BW_SEV_LOW;
	inc->title = xstrdup("t");
	inc->host = xstrdup("h");
	ck_assert_int_eq(spool_put_incident(sp, inc, &seq, &err), 0);
	ck_assert_int_eq(spool_read(sp, seq, &it, &err), SPOOL_READ_OK);
	ck_assert_str_eq(it.id, "bw-00aa");
	ck_assert_uint_eq(it.revision, 4);
	{
		struct bw_incident *back =
		    bw_incident_from_json(it.json, it.json_len, &err);

		ck_assert_msg(back != NULL, "%s", err.msg);
		ck_assert_str_eq(back->title, "t");
		bw_incident_destroy(&back);
	}
	spool_item_clear(&it);
	bw_incident_destroy(&inc);

	/* what the wire could not carry is refused, and nothing written */
	ck_assert_int_eq(spool_put(sp, "a\nb", 1, "{}", 2, &seq, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "(id): control character"));
	ck_assert_int_eq(spool_put(sp, "a", 0, "{}", 2, &seq, &err), -1);
	ck_assert_int_eq(spool_put(sp, "a", 1, "", 0, &seq, &err), -1);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.pending, 1);
	ck_assert_uint_eq(count_files(sdir, ".rev"), 1);
	spool_destroy(&sp);
}
END_TEST

START_TEST(order_across_reopen)
{
	struct spool *sp = open_spool(0, 0);
	uint64_t s[5], got[8], last;
	struct bw_error err;
	char id[16];
	int i;

	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "bw-%d", i);
		s[i] = put(sp, id, 1);
	}
	ck_assert_int_eq(spool_ack(sp, s[1], &err), 0);
	ck_assert_int_eq(spool_ack(sp, s[3], &err), 0);
	spool_destroy(&sp);

	sp = open_spool(0, 0);
	ck_assert_uint_eq(pending(sp, got, 8), 3);
	ck_assert_uint_eq(got[0], s[0]);
	ck_assert_uint_eq(got[1], s[2]);
	ck_assert_uint_eq(got[2], s[4]);
	expect_item(sp, s[2], "bw-2", 1);
	/* new revisions come after the old ones */
	last = put(sp, "bw-new", 1);
	ck_assert_uint_gt(last, s[4]);
	ck_assert_uint_eq(pending(sp, got, 8), 4);
	ck_assert_uint_eq(got[3], last);

	/* drained, then reopened: the numbers still grow */
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(spool_ack(sp, got[i], &err), 0);
	spool_destroy(&sp);
	sp = open_spool(0, 0);
	ck_assert_uint_eq(pending(sp, got, 8), 0);
	ck_assert_uint_gt(put(sp, "bw-later", 1), last);
	spool_destroy(&sp);
}
END_TEST

START_TEST(many_acks_out_of_order)
{
	struct spool *sp = open_spool(0, 0);
	uint64_t s[300], got[300], n, i, j;
	struct bw_error err;

	for (i = 0; i < 300; i++)
		s[i] = put(sp, "bw-m", (uint32_t)i + 1);
	/* every third, then the first half: exercises compaction */
	for (i = 0; i < 300; i += 3)
		ck_assert_int_eq(spool_ack(sp, s[i], &err), 0);
	for (i = 0; i < 150; i++) {
		if (i % 3 != 0)
			ck_assert_int_eq(spool_ack(sp, s[i], &err), 0);
	}
	n = pending(sp, got, 300);
	j = 0;
	for (i = 150; i < 300; i++) {
		if (i % 3 != 0) {
			ck_assert_uint_eq(got[j], s[i]);
			j++;
		}
	}
	ck_assert_uint_eq(n, j);
	ck_assert(spool_next(sp, s[200], &i));
	ck_assert_uint_eq(i, s[202]); /* 201 was acked (201 % 3 == 0) */
	expect_item(sp, s[299], "bw-m", 300);
	spool_destroy(&sp);
}
END_TEST

START_TEST(temp_files_removed)
{
	struct spool *sp = open_spool(0, 0);
	struct spool_stats st;
	uint64_t s, got[4];
	char *tmp;
	int fd;

	s = put(sp, "bw-t", 1);
	spool_destroy(&sp);
	/* an interrupted put (the name bw_file_write_atomic uses) */
	tmp = xasprintf("%s/%020llu.rev" BW_FILE_TMP_MARK "Ab12Cd", sdir,
	                (unsigned long long)s + 1);
	fd = open(tmp, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "bw-spool 1 ", 11), 11);
	close(fd);

	sp = open_spool(0, 0);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.tmp_removed, 1);
	ck_assert_uint_eq(st.quarantined, 0);
	ck_assert_uint_eq(pending(sp, got, 4), 1);
	ck_assert_uint_eq(got[0], s);
	free(tmp);
	spool_destroy(&sp);
}
END_TEST

static void overwrite_file(const char *path, const char *text, long at)
{
	int fd = open(path, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, text, strlen(text), at),
	                 (ssize_t)strlen(text));
	close(fd);
}

static char *read_text(const char *path)
{
	struct bw_error err;
	char *data;
	size_t len;

	ck_assert_msg(bw_file_read(path, 1 << 20, &data, &len, &err) == 0,
	              "%s", err.msg);
	return data;
}

START_TEST(corrupt_quarantined)
{
	struct spool *sp = open_spool(0, 0);
	uint64_t s[5], got[8];
	struct spool_item it;
	struct spool_stats st;
	struct bw_error err;
	char *p, *q, *reason;
	struct stat sb;
	int i;

	for (i = 0; i < 5; i++)
		s[i] = put(sp, "bw-c", (uint32_t)i + 1);

	/* a flipped byte in the JSON: the checksum catches it */
	p = seq_path(s[1]);
	ck_assert_int_eq(stat(p, &sb), 0);
	overwrite_file(p, "X", (long)sb.st_size - 3);
	ck_assert_int_eq(spool_read(sp, s[1], &it, &err), SPOOL_READ_BAD);
	ck_assert_ptr_nonnull(strstr(err.msg, "checksum mismatch: moved to"));
	ck_assert_int_eq(access(p, F_OK), -1);
	q = xasprintf("%s/quarantine/%020llu.rev", sdir,
	              (unsigned long long)s[1]);
	ck_assert_int_eq(access(q, F_OK), 0);
	free(q);
	q = xasprintf("%s/quarantine/%020llu.rev.reason", sdir,
	              (unsigned long long)s[1]);
	reason = read_text(q);
	ck_assert_str_eq(reason, "checksum mismatch\n");
	free(reason);
	free(q);
	free(p);

	/* truncated */
	p = seq_path(s[2]);
	ck_assert_int_eq(truncate(p, 40), 0);
	ck_assert_int_eq(spool_read(sp, s[2], &it, &err), SPOOL_READ_BAD);
	ck_assert_ptr_nonnull(strstr(err.msg, "bad header line"));
	free(p);

	/* a header that lies about the lengths */
	p = seq_path(s[3]);
	overwrite_file(p, "bw-spool 1 ", 0);
	{
		char *data = read_text(p), *sp1 = strchr(data + 11, ' ');
		long at = (long)(strchr(sp1 + 1, ' ') - data) + 1; /* id len */

		free(data);
		overwrite_file(p, "5", at);
	}
	ck_assert_int_eq(spool_read(sp, s[3], &it, &err), SPOOL_READ_BAD);
	ck_assert_ptr_nonnull(strstr(err.msg, "after the header"));
	free(p);

	/* vanished */
	p = seq_path(s[4]);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(spool_read(sp, s[4], &it, &err), SPOOL_READ_BAD);
	ck_assert_ptr_nonnull(strstr(err.msg, "vanished"));
	free(p);

	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.quarantined, 3);
	ck_assert_uint_eq(st.missing, 1);
	ck_assert_uint_eq(st.pending, 1);
	ck_assert_uint_eq(pending(sp, got, 8), 1);
	expect_item(sp, s[0], "bw-c", 1);
	ck_assert_uint_eq(count_files(spool_dir(sp), ".rev"), 1);
	spool_destroy(&sp);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	struct bw_error err;

	ck_assert_msg(bw_file_write_atomic(path, text, strlen(text), 0600,
	                                   true, &err) == 0,
	              "%s", err.msg);
}

START_TEST(unknown_files_quarantined)
{
	struct spool *sp = open_spool(0, 0);
	struct spool_stats st;
	uint64_t s, got[4];
	char *p, *q, *reason;

	s = put(sp, "bw-u", 1);
	spool_destroy(&sp);
	p = xasprintf("%s/notes.txt", sdir);
	write_file(p, "hello");
	q = xasprintf("%s/sub", sdir);
	ck_assert_int_eq(mkdir(q, 0700), 0); /* a directory stays */
	free(q);

	sp = open_spool(0, 0);
	ck_assert_int_eq(access(p, F_OK), -1);
	free(p);
	p = xasprintf("%s/quarantine/notes.txt", sdir);
	q = read_text(p);
	ck_assert_str_eq(q, "hello");
	free(q);
	free(p);
	p = xasprintf("%s/quarantine/notes.txt.reason", sdir);
	reason = read_text(p);
	ck_assert_str_eq(reason, "not a spool file name\n");
	free(reason);
	free(p);
	p = xasprintf("%s/sub", sdir);
	ck_assert_int_eq(access(p, F_OK), 0);
	free(p);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.quarantined, 1);
	ck_assert_uint_eq(pending(sp, got, 4), 1);
	ck_assert_uint_eq(got[0], s);
	spool_destroy(&sp);

	/* a second file of the same name does not replace the first */
	p = xasprintf("%s/notes.txt", sdir);
	write_file(p, "again");
	free(p);
	sp = open_spool(0, 0);
	p = xasprintf("%s/quarantine/notes.txt.1", sdir);
	q = read_text(p);
	ck_assert_str_eq(q, "again");
	free(q);
	free(p);
	spool_destroy(&sp);
}
END_TEST

START_TEST(sequence_file_corrupt)
{
	struct spool *sp = open_spool(0, 0);
	struct spool_stats st;
	uint64_t s1, s2;
	char *p;

	s1 = put(sp, "bw-s", 1);
	spool_destroy(&sp);
	p = xasprintf("%s/sequence", sdir);
	write_file(p, "garbage\n");
	free(p);
	sp = open_spool(0, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.quarantined, 1);
	s2 = put(sp, "bw-s", 2);
	ck_assert_uint_gt(s2, s1);
	spool_destroy(&sp);
}
END_TEST

START_TEST(rejected_quarantined)
{
	struct spool *sp = open_spool(0, 0);
	struct spool_stats st;
	struct bw_error err;
	uint64_t s, got[4];
	char *p, *reason;

	s = put(sp, "bw-r", 1);
	put(sp, "bw-r", 2);
	ck_assert_int_eq(spool_quarantine(sp, s, "rejected by the notifier: "
	                                         "host: not agent db1",
	                                  &err),
	                 0);
	ck_assert(!spool_has(sp, s));
	p = xasprintf("%s/quarantine/%020llu.rev.reason", sdir,
	              (unsigned long long)s);
	reason = read_text(p);
	ck_assert_str_eq(reason, "rejected by the notifier: host: not agent "
	                         "db1\n");
	free(reason);
	free(p);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.quarantined, 1);
	ck_assert_uint_eq(st.pending, 1);
	ck_assert_uint_eq(pending(sp, got, 4), 1);
	ck_assert_int_eq(spool_quarantine(sp, s, "again", &err), -1);
	spool_destroy(&sp);
}
END_TEST

START_TEST(bound_by_count)
{
	struct spool *sp = open_spool(3, 0);
	struct spool_stats st;
	struct bw_error err;
	uint64_t s[3], got[8], seq = 0;
	int i;

	for (i = 0; i < 3; i++)
		s[i] = put(sp, "bw-f", (uint32_t)i + 1);
	ck_assert_int_eq(spool_put(sp, "bw-f", 4, "{}", 2, &seq, &err), -1);
	ck_assert_msg(strncmp(err.msg, "spool full: 3 revisions", 23) == 0,
	              "%s", err.msg);
	ck_assert_ptr_nonnull(strstr(err.msg, "revision 4 of bw-f"));
	ck_assert_uint_eq(seq, 0);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.full, 1);
	ck_assert_uint_eq(st.pending, 3);
	ck_assert_uint_eq(st.written, 3);
	/* nothing already spooled was lost */
	ck_assert_uint_eq(pending(sp, got, 8), 3);
	for (i = 0; i < 3; i++)
		expect_item(sp, s[i], "bw-f", (uint32_t)i + 1);
	ck_assert_uint_eq(count_files(sdir, ".rev"), 3);
	/* room again after an acknowledgement */
	ck_assert_int_eq(spool_ack(sp, s[0], &err), 0);
	ck_assert_uint_gt(put(sp, "bw-f", 4), s[2]);
	spool_destroy(&sp);
}
END_TEST

START_TEST(bound_by_bytes)
{
	const char *json3 = "{\"id\":\"bw-b\",\"revision\":3}";
	struct spool *sp = open_spool(0, 0);
	struct spool_stats st;
	struct bw_error err;
	uint64_t one, s1, s2, seq;
	char big[600];

	s1 = put(sp, "bw-b", 1);
	spool_get_stats(sp, &st);
	one = st.bytes;
	spool_destroy(&sp);

	/* room for two such files, not three */
	sp = open_spool(0, 3 * one - 1);
	s2 = put(sp, "bw-b", 2);
	ck_assert_int_eq(spool_put(sp, "bw-b", 3, json3, strlen(json3), &seq,
	                           &err),
	                 -1);
	ck_assert_msg(strncmp(err.msg, "spool full", 10) == 0, "%s", err.msg);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.pending, 2); /* the sequence numbers differ in length */
	ck_assert_uint_ge(st.bytes, 2 * one);
	/* one revision larger than the whole bound can never go in */
	memset(big, 'x', sizeof(big));
	big[0] = '"';
	big[sizeof(big) - 1] = '"';
	ck_assert_int_eq(spool_ack(sp, s1, &err), 0);
	ck_assert_int_eq(spool_ack(sp, s2, &err), 0);
	ck_assert_int_eq(spool_put(sp, "bw-b", 9, big, sizeof(big), &seq, &err),
	                 -1);
	spool_get_stats(sp, &st);
	ck_assert_uint_eq(st.full, 2);
	ck_assert_uint_eq(st.pending, 0);
	/* the small one fits now */
	ck_assert_int_eq(spool_put(sp, "bw-b", 3, json3, strlen(json3), &seq,
	                           &err),
	                 0);
	spool_destroy(&sp);
}
END_TEST

START_TEST(locked)
{
	struct spool *sp = open_spool(0, 0);
	struct spool_params p = {.dir = sdir};
	struct bw_error err;

	ck_assert_ptr_null(spool_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "in use by another process"));
	spool_destroy(&sp);
	sp = open_spool(0, 0);
	spool_destroy(&sp);

	p.dir = "/nonexistent-bw/spool";
	ck_assert_ptr_null(spool_new(&p, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "mkdir"));
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("spool");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, put_list_ack);
	tcase_add_test(tc, put_incident_and_refusals);
	tcase_add_test(tc, order_across_reopen);
	tcase_add_test(tc, many_acks_out_of_order);
	tcase_add_test(tc, temp_files_removed);
	tcase_add_test(tc, corrupt_quarantined);
	tcase_add_test(tc, unknown_files_quarantined);
	tcase_add_test(tc, sequence_file_corrupt);
	tcase_add_test(tc, rejected_quarantined);
	tcase_add_test(tc, bound_by_count);
	tcase_add_test(tc, bound_by_bytes);
	tcase_add_test(tc, locked);
	suite_add_tcase(s, tc);
	return s;
}
