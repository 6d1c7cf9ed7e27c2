/*
 * cmd_keygen.c - breachwatch keygen: a CURVE key pair in two files
 * (common/keys.h, docs/transport.md). Local: no notifier needed.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/keys.h"
#include "../common/xmalloc.h"
#include "args.h"
#include "out.h"

int cmd_keygen(struct cli *c, int argc, char **argv)
{
	const char *out = NULL, *name = NULL;
	bool force = false;
	const struct args_opt opts[] = {
		{ .name = "out", .value = &out },
		{ .name = "name", .value = &name },
		{ .name = "force", .flag = &force },
	};
	const struct args_spec spec = {
		.usage = "keygen --out PREFIX [--name NAME] [--force]",
		.opts = opts, .n_opts = 3,
	};
	const char *pos[ARGS_MAX_POSITIONAL];
	char z85[BW_KEY_Z85_LEN + 1], ebuf[800];
	char *secret_path = NULL, *public_path = NULL;
	struct bw_keypair kp;
	struct bw_error err;
	size_t n_pos;
	int rc = args_parse(c, argc, argv, &spec, pos, &n_pos);

	if (rc != 0)
		return rc < 0 ? CLI_OK : rc;
	if (out == NULL || out[0] == '\0')
		return args_usage_error(&spec, "--out PREFIX is required");
	if (name == NULL) {
		const char *slash = strrchr(out, '/');

		name = slash != NULL ? slash + 1 : out;
	}
	if (!bw_keys_valid_name(name)) {
		fprintf(stderr, "breachwatch: \"%s\" is not a valid agent name "
				"(1-%d characters of A-Z a-z 0-9 . _ @ + -); "
				"give one with --name\n",
			name, BW_KEYS_MAX_NAME);
		return CLI_USAGE;
	}
	secret_path = xasprintf("%s.key", out);
	public_path = xasprintf("%s.pub", out);
	if (bw_keys_generate(&kp, &err) < 0 ||
	    bw_keys_write(secret_path, public_path, &kp, name, force, &err) <
		    0) {
		fprintf(stderr, "breachwatch: %s%s\n",
			bw_error_str(&err, ebuf, sizeof(ebuf)),
			err.msg[0] != '\0' && strstr(err.msg, "exists") != NULL
				? " (--force replaces it)" : "");
		rc = CLI_RUNTIME;
		goto out;
	}
	bw_keys_z85(kp.public_key, z85);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "secret_key_file",
				      secret_path, "public_key_file",
				      public_path, "public_key", z85, "name",
				      name);
		out_json(o);
		json_decref(o);
	} else {
		printf("wrote %s (the key pair; keep it secret: mode 0600)\n"
		       "wrote %s (the public key): %s %s\n",
		       secret_path, public_path, z85, name);
	}
	rc = CLI_OK;
out:
	bw_keys_wipe(&kp);
	free(secret_path);
	free(public_path);
	return rc;
}
