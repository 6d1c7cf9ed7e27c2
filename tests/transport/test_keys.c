/*
 * test_keys.c - CURVE key pairs, key files (modes, refusal to overwrite,
 * clear errors) and the authorised-agents file (errors at file:line).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "keys.h"
#include "xmalloc.h"
#include "check_main.h"

#define DIR_TEMPLATE "/tmp/bw-keys-XXXXXX"
static char dir[sizeof(DIR_TEMPLATE)];

static void setup(void)
{
	/* a fresh template each time: CK_FORK=no runs every test in one
	 * process */
	memcpy(dir, DIR_TEMPLATE, sizeof(dir));
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* "file:line: msg" */
static const char *errstr(const struct bw_error *err)
{
	static char buf[1024];

	return bw_error_str(err, buf, sizeof(buf));
}

static void expect_error(const struct bw_error *err, const char *path,
                         int line, const char *want)
{
	ck_assert_str_eq(err->file, path);
	ck_assert_msg(err->line == line, "line %d, expected %d (%s)",
	              err->line, line, errstr(err));
	ck_assert_msg(strstr(err->msg, want) != NULL,
	              "\"%s\" does not contain \"%s\"", errstr(err), want);
}

START_TEST(generate_and_z85)
{
	struct bw_keypair a, b;
	char z[BW_KEY_Z85_LEN + 1], derived[BW_KEY_Z85_LEN + 1];
	char sec[BW_KEY_Z85_LEN + 1];
	uint8_t back[BW_KEY_LEN];
	struct bw_error err;

	ck_assert_int_eq(bw_keys_generate(&a, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&b, &err), 0);
	ck_assert_mem_ne(a.public_key, b.public_key, BW_KEY_LEN);
	ck_assert_mem_ne(a.public_key, a.secret_key, BW_KEY_LEN);
	/* the public key belongs to the secret key */
	ck_assert_int_eq(zmq_curve_public(derived,
	                                  bw_keys_z85(a.secret_key, sec)),
	                 0);
	ck_assert_str_eq(derived, bw_keys_z85(a.public_key, z));
	ck_assert_uint_eq(strlen(z), BW_KEY_Z85_LEN);
	ck_assert_int_eq(bw_keys_from_z85(z, strlen(z), back, &err), 0);
	ck_assert_mem_eq(back, a.public_key, BW_KEY_LEN);

	ck_assert_int_eq(bw_keys_from_z85(z, 39, back, &err), -1);
	ck_assert_str_eq(err.msg, "key of 39 characters, expected 40 (Z85)");
	z[7] = '"';
	ck_assert_int_eq(bw_keys_from_z85(z, 40, back, &err), -1);
	ck_assert_str_eq(err.msg, "key: character 8 is not Z85");
	/* "#####" is 84 * (85^4 + ... + 1) > 2^32 */
	bw_keys_z85(a.public_key, z);
	memcpy(z, "#####", 5);
	ck_assert_int_eq(bw_keys_from_z85(z, 40, back, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "characters 1-5 are out of "
	                                      "range"));
	bw_keys_wipe(&a);
	ck_assert_uint_eq(a.secret_key[0] | a.secret_key[31], 0);
}
END_TEST

START_TEST(names)
{
	ck_assert(bw_keys_valid_name("db1.example.com"));
	ck_assert(bw_keys_valid_name("agent_7+x@site-a"));
	ck_assert(!bw_keys_valid_name(""));
	ck_assert(!bw_keys_valid_name("a b"));
	ck_assert(!bw_keys_valid_name("a#b"));
	ck_assert(!bw_keys_valid_name("\xc3\xa9"));
	ck_assert(!bw_keys_valid_name(NULL));
}
END_TEST

START_TEST(write_and_load)
{
	char *sec = path_in("db1.key"), *pub = path_in("db1.pub");
	char name[BW_KEYS_MAX_NAME + 1];
	struct bw_keypair kp, back;
	uint8_t pkey[BW_KEY_LEN];
	struct bw_error err;
	struct stat st;

	umask(022);
	ck_assert_int_eq(bw_keys_generate(&kp, &err), 0);
	ck_assert_msg(bw_keys_write(sec, pub, &kp, "db1", false, &err) == 0,
	              "%s", errstr(&err));
	ck_assert_int_eq(stat(sec, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(pub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0644);

	ck_assert_msg(bw_keys_load_secret(sec, &back, &err) == 0, "%s",
	              errstr(&err));
	ck_assert_mem_eq(back.public_key, kp.public_key, BW_KEY_LEN);
	ck_assert_mem_eq(back.secret_key, kp.secret_key, BW_KEY_LEN);
	ck_assert_msg(bw_keys_load_public(pub, pkey, name, &err) == 0, "%s",
	              errstr(&err));
	ck_assert_mem_eq(pkey, kp.public_key, BW_KEY_LEN);
	ck_assert_str_eq(name, "db1");

	/* the public key file is a valid authorised-agents file */
	{
		struct bw_keys_auth *a = bw_keys_auth_load(pub, &err);

		ck_assert_ptr_nonnull(a);
		ck_assert_str_eq(bw_keys_auth_lookup(a, kp.public_key), "db1");
		bw_keys_auth_destroy(&a);
		ck_assert_ptr_null(a);
	}
	free(sec);
	free(pub);
}
END_TEST

START_TEST(secret_mode_even_with_open_umask)
{
	char *sec = path_in("k"), *pub = path_in("k.pub");
	struct bw_keypair kp;
	struct bw_error err;
	struct stat st;

	umask(0);
	ck_assert_int_eq(bw_keys_generate(&kp, &err), 0);
	ck_assert_int_eq(bw_keys_write(sec, pub, &kp, "n", false, &err), 0);
	ck_assert_int_eq(stat(sec, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	umask(022);
	free(sec);
	free(pub);
}
END_TEST

START_TEST(refuse_overwrite)
{
	char *sec = path_in("a.key"), *pub = path_in("a.pub");
	struct bw_keypair one, two, back;
	struct bw_error err;
	DIR *d;

	ck_assert_int_eq(bw_keys_generate(&one, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&two, &err), 0);
	ck_assert_int_eq(bw_keys_write(sec, pub, &one, "a", false, &err), 0);
	ck_assert_int_eq(bw_keys_write(sec, pub, &two, "a", false, &err), -1);
	expect_error(&err, sec, 0, "already exists (not overwritten)");
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), 0);
	ck_assert_mem_eq(back.secret_key, one.secret_key, BW_KEY_LEN);

	/* only the public file exists: still nothing written */
	ck_assert_int_eq(unlink(sec), 0);
	ck_assert_int_eq(bw_keys_write(sec, pub, &two, "a", false, &err), -1);
	expect_error(&err, pub, 0, "already exists");
	ck_assert_int_eq(access(sec, F_OK), -1);

	ck_assert_int_eq(bw_keys_write(sec, pub, &two, "a", true, &err), 0);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), 0);
	ck_assert_mem_eq(back.secret_key, two.secret_key, BW_KEY_LEN);

	/* no temporary files left behind */
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	for (struct dirent *e; (e = readdir(d)) != NULL;)
		ck_assert_ptr_null(strstr(e->d_name, ".tmp."));
	closedir(d);

	ck_assert_int_eq(bw_keys_write(sec, pub, &two, "bad name", true, &err),
	                 -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "bad name"));
	free(sec);
	free(pub);
}
END_TEST

START_TEST(secret_file_errors)
{
	char *sec = path_in("s.key"), *pub = path_in("s.pub");
	struct bw_keypair kp, other, back;
	char z1[BW_KEY_Z85_LEN + 1], z2[BW_KEY_Z85_LEN + 1];
	struct bw_error err;
	char *text;

	ck_assert_int_eq(bw_keys_generate(&kp, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&other, &err), 0);
	ck_assert_int_eq(bw_keys_write(sec, pub, &kp, "s", false, &err), 0);

	/* others may read it */
	ck_assert_int_eq(chmod(sec, 0640), 0);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 0, "mode 0640: others may access it");

	/* a public key of another pair */
	text = xasprintf("# mine\npublic %s\nsecret %s\n",
	                 bw_keys_z85(other.public_key, z1),
	                 bw_keys_z85(kp.secret_key, z2));
	write_text(sec, text, 0600);
	free(text);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 0,
	             "the public key does not belong to the secret key");

	text = xasprintf("\npublic %s\nsecrte %s\n", z1, z2);
	write_text(sec, text, 0600);
	free(text);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 3, "expected \"public KEY\" or \"secret KEY\"");

	text = xasprintf("public %s\n", z1);
	write_text(sec, text, 0600);
	free(text);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 0, "no secret key in the file");

	text = xasprintf("public %s\nsecret %.39s\n", z1, z2);
	write_text(sec, text, 0600);
	free(text);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 2, "key of 39 characters, expected 40");

	text = xasprintf("public %s\npublic %s\n", z1, z1);
	write_text(sec, text, 0600);
	free(text);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 2, "public key given twice");

	text = xasprintf("public %s extra\n", z1);
	write_text(sec, text, 0600);
	free(text);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 1, "unexpected \"extra\" after the key");

	ck_assert_int_eq(unlink(sec), 0);
	ck_assert_int_eq(bw_keys_load_secret(sec, &back, &err), -1);
	expect_error(&err, sec, 0, "No such file");
	free(sec);
	free(pub);
}
END_TEST

START_TEST(public_file_errors)
{
	char *pub = path_in("p.pub");
	uint8_t key[BW_KEY_LEN];
	char name[BW_KEYS_MAX_NAME + 1];
	struct bw_keypair a, b;
	char z1[BW_KEY_Z85_LEN + 1], z2[BW_KEY_Z85_LEN + 1];
	struct bw_error err;
	char *text;

	ck_assert_int_eq(bw_keys_generate(&a, &err), 0);
	ck_assert_int_eq(bw_keys_generate(&b, &err), 0);
	bw_keys_z85(a.public_key, z1);
	bw_keys_z85(b.public_key, z2);

	/* the name is optional in a public key file */
	text = xasprintf("# the notifier\n%s\n", z1);
	write_text(pub, text, 0644);
	free(text);
	ck_assert_int_eq(bw_keys_load_public(pub, key, name, &err), 0);
	ck_assert_mem_eq(key, a.public_key, BW_KEY_LEN);
	ck_assert_str_eq(name, "");

	text = xasprintf("%s one\n%s two\n", z1, z2);
	write_text(pub, text, 0644);
	free(text);
	ck_assert_int_eq(bw_keys_load_public(pub, key, NULL, &err), -1);
	expect_error(&err, pub, 2, "more than one key");

	write_text(pub, "# nothing\n\n", 0644);
	ck_assert_int_eq(bw_keys_load_public(pub, key, NULL, &err), -1);
	expect_error(&err, pub, 0, "no key in the file");
	free(pub);
}
END_TEST

/* An authorised-agents file with three agents. */
static void three_agents(struct bw_keypair kp[3], char z[3][BW_KEY_Z85_LEN + 1])
{
	struct bw_error err;
	int i;

	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(bw_keys_generate(&kp[i], &err), 0);
		bw_keys_z85(kp[i].public_key, z[i]);
	}
}

START_TEST(auth_file)
{
	char *path = path_in("agents");
	struct bw_keypair kp[3];
	char z[3][BW_KEY_Z85_LEN + 1];
	struct bw_keys_auth *a;
	struct bw_error err;
	char *text;

	three_agents(kp, z);
	text = xasprintf("# authorised agents\n"
	                 "\n"
	                 "   \t\n"
	                 "%s db1.example.com\n"
	                 "  %s\tdb2   # the replica\r\n"
	                 "#%s db3\n" /* commented out */
	                 "%s web_1",  /* no newline at the end */
	                 z[0], z[1], z[2], z[2]);
	write_text(path, text, 0644);
	free(text);
	a = bw_keys_auth_load(path, &err);
	ck_assert_msg(a != NULL, "%s", errstr(&err));
	ck_assert_uint_eq(bw_keys_auth_count(a), 3);
	ck_assert_str_eq(bw_keys_auth_lookup(a, kp[0].public_key),
	                 "db1.example.com");
	ck_assert_str_eq(bw_keys_auth_lookup(a, kp[1].public_key), "db2");
	ck_assert_str_eq(bw_keys_auth_lookup(a, kp[2].public_key), "web_1");
	/* a secret key is not a public key */
	ck_assert_ptr_null(bw_keys_auth_lookup(a, kp[0].secret_key));
	ck_assert(bw_keys_auth_has_name(a, "db2"));
	ck_assert(!bw_keys_auth_has_name(a, "db3"));
	ck_assert(!bw_keys_auth_has_name(a, "db"));
	bw_keys_auth_destroy(&a);

	/* an empty file lets nobody in */
	write_text(path, "", 0600);
	a = bw_keys_auth_load(path, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(bw_keys_auth_count(a), 0);
	ck_assert_ptr_null(bw_keys_auth_lookup(a, kp[0].public_key));
	ck_assert(!bw_keys_auth_has_name(a, "db2"));
	bw_keys_auth_destroy(&a);
	free(path);
}
END_TEST

/* Write text to the agents file, expect an error at line with want. */
static void auth_bad(const char *text, mode_t mode, int line,
                     const char *want)
{
	char *path = path_in("agents");
	struct bw_error err;
	struct bw_keys_auth *a;

	write_text(path, text, mode);
	a = bw_keys_auth_load(path, &err);
	ck_assert_msg(a == NULL, "accepted: %s", text);
	expect_error(&err, path, line, want);
	free(path);
}

START_TEST(auth_file_errors)
{
	struct bw_keypair kp[3];
	char z[3][BW_KEY_Z85_LEN + 1], *t;
	char *path = path_in("agents");
	struct bw_error err;

	three_agents(kp, z);

	t = xasprintf("# x\n%s a\n%.39s b\n", z[0], z[1]);
	auth_bad(t, 0644, 3, "key of 39 characters, expected 40");
	free(t);

	t = xasprintf("%s a\n%sX b\n", z[0], z[1]);
	auth_bad(t, 0644, 2, "key of 41 characters");
	free(t);

	t = xasprintf("%s a\n", z[0]);
	t[3] = '~';
	auth_bad(t, 0644, 1, "key: character 4 is not Z85");
	free(t);

	t = xasprintf("%s a\n\n%s b\n%s a2\n", z[0], z[1], z[0]);
	auth_bad(t, 0644, 4, "duplicate key (also on line 1)");
	free(t);

	t = xasprintf("%s a\n%s b\n%s a\n", z[0], z[1], z[2]);
	auth_bad(t, 0644, 3, "duplicate agent name \"a\" (also on line 1)");
	free(t);

	/* the first duplicate in the file is the one reported */
	t = xasprintf("%s a\n%s b\n%s b\n%s c\n", z[0], z[1], z[2], z[0]);
	auth_bad(t, 0644, 3, "duplicate agent name \"b\"");
	free(t);

	t = xasprintf("%s\n", z[0]);
	auth_bad(t, 0644, 1, "the key has no agent name");
	free(t);

	t = xasprintf("%s db/1\n", z[0]);
	auth_bad(t, 0644, 1, "bad agent name \"db/1\"");
	free(t);

	t = xasprintf("%s db1 db2\n", z[0]);
	auth_bad(t, 0644, 1, "unexpected \"db2\" after the agent name");
	free(t);

	t = xasprintf("%s a\n", z[0]);
	auth_bad(t, 0666, 0, "others may write the authorised agents");
	auth_bad(t, 0620, 0, "mode 0620");
	free(t);

	write_text(path, "x", 0644);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_ptr_null(bw_keys_auth_load(path, &err));
	expect_error(&err, path, 0, "No such file");
	free(path);
}
END_TEST

START_TEST(auth_file_limits)
{
	char *path = path_in("agents");
	struct bw_error err;
	FILE *f;
	int i;

	/* a NUL byte in a line */
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# a\n", f);
	fwrite("#\0\n", 1, 3, f);
	fclose(f);
	ck_assert_ptr_null(bw_keys_auth_load(path, &err));
	expect_error(&err, path, 2, "NUL byte");

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("\n\n", f);
	for (i = 0; i < BW_KEYS_MAX_LINE + 1; i++)
		fputc('#', f);
	fclose(f);
	ck_assert_ptr_null(bw_keys_auth_load(path, &err));
	expect_error(&err, path, 3, "line longer than 1024 bytes");
	free(path);
}
END_TEST

Suite *bw_test_suite(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("keys");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, generate_and_z85);
	tcase_add_test(tc, names);
	tcase_add_test(tc, write_and_load);
	tcase_add_test(tc, secret_mode_even_with_open_umask);
	tcase_add_test(tc, refuse_overwrite);
	tcase_add_test(tc, secret_file_errors);
	tcase_add_test(tc, public_file_errors);
	tcase_add_test(tc, auth_file);
	tcase_add_test(tc, auth_file_errors);
	tcase_add_test(tc, auth_file_limits);
	suite_add_tcase(s, tc);
	return s;
}
