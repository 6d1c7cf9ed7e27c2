/*
 * evfmt.c - events as text for the capture tests (evfmt.h).
 */
#include "evfmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/netsrc.h"
#include "../../common/buf.h"

void evfmt(const struct bw_event *ev, char *buf, size_t size)
{
	char val[4096];
	size_t at = 0;

	buf[0] = '\0';
	for (int f = BW_F_KIND; f < BW_F__COUNT && at < size; f++) {
		size_t n = bw_event_format(ev, (enum bw_field)f, val,
					   sizeof(val));

		if (n == 0 || f == BW_F_SOURCE)
			continue;
		if (bw_fields[f].type == BW_FT_INT && strcmp(val, "-1") == 0)
			continue;
		at += (size_t)snprintf(buf + at, size - at, "%s%s=",
				       at ? " " : "", bw_fields[f].name);
		for (size_t i = 0; i < n && at < size; i++) {
			unsigned char ch = (unsigned char)val[i];

			if (ch < 0x20 || ch == 0x7f || ch == '\\')
				at += (size_t)snprintf(buf + at, size - at,
						       "\\x%02x", ch);
			else
				buf[at++] = (char)ch;
		}
	}
	if (at < size)
		snprintf(buf + at, size - at, " #%llu",
			 (unsigned long long)ev->ref.number);
	else
		buf[size - 1] = '\0';
}

char *evfmt_file(const char *path, const struct netsrc_options *o, char *msg,
		 size_t msgsize)
{
	struct bw_error err;
	struct netsrc *ns = netsrc_open_file(path, o, &err);
	struct bw_event ev;
	struct bw_buf out;
	char line[8192];
	int rc;

	if (ns == NULL) {
		bw_error_str(&err, msg, msgsize);
		return NULL;
	}
	bw_buf_init(&out, 64u << 20);
	while ((rc = netsrc_next(ns, &ev, &err)) != 0) {
		if (rc < 0)
			bw_error_str(&err, line, sizeof(line));
		else
			evfmt(&ev, line, sizeof(line));
		if (bw_buf_printf(&out, "%s%s\n", rc < 0 ? "error: " : "",
				  line) < 0)
			abort();
	}
	netsrc_destroy(&ns);
	return bw_buf_steal(&out);
}
