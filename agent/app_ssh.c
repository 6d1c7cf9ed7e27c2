/*
 * app_ssh.c - the SSH version banners ("SSH-2.0-OpenSSH_9.2p1 ...") as
 * `flow` events: action "banner", resource "ssh", the banner in
 * user_agent, detail "client" or "server". After its banner a direction
 * is encrypted and not read further.
 */
#include "app_int.h"

#include <stdlib.h>
#include <string.h>

#include "../common/xmalloc.h"

#define BANNER_MAX 255 /* RFC 4253, 4.2 */

struct ssh {
	char line[2][BANNER_MAX + 1];
	uint32_t len[2];
	bool done[2];
};

static int detect(const uint8_t *p, uint32_t len, int dir)
{
	(void)dir;
	if (len >= 4)
		return memcmp(p, "SSH-", 4) == 0;
	return memcmp(p, "SSH-", len) == 0 ? -1 : 0;
}

static void *open_(struct app_ctx *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct ssh));
}

static void free_(struct app_ctx *c, void *st)
{
	(void)c;
	free(st);
}

static void banner(struct app_ctx *c, struct ssh *s, const struct flow *f,
		   int dir, const struct app_pkt *pk)
{
	struct bw_event ev;
	uint32_t n = s->len[dir];

	s->done[dir] = true;
	while (n > 0 && (s->line[dir][n - 1] == '\r'))
		n--;
	/* Lines before the banner are allowed from the server only; a
	 * banner is "SSH-" and printable. */
	if (n < 8 || memcmp(s->line[dir], "SSH-", 4) != 0) {
		c->st.errors[APP_SSH]++;
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		if ((unsigned char)s->line[dir][i] < 0x20 ||
		    (unsigned char)s->line[dir][i] > 0x7e) {
			c->st.errors[APP_SSH]++;
			return;
		}
	app_event(c, &ev, f, BW_KIND_FLOW, pk);
	ev.action = BW_STR_LIT("banner");
	ev.resource = BW_STR_LIT("ssh");
	ev.user_agent = (struct bw_str){ s->line[dir], n };
	ev.detail = dir == FLOW_C2S ? BW_STR_LIT("client")
				    : BW_STR_LIT("server");
	ev.raw = app_raw(c, f, "%s banner %.*s",
			 dir == FLOW_C2S ? "client" : "server", (int)n,
			 s->line[dir]);
	app_emit(c, APP_SSH, &ev);
}

static void stream(struct app_ctx *c, struct app_flow *af,
		   const struct flow *f, int dir, const uint8_t *p,
		   uint32_t len, const struct app_pkt *pk)
{
	struct ssh *s = af->st;

	if (s->done[dir])
		return;
	if (p == NULL) {
		s->done[dir] = true;
		c->st.gaps++;
		return;
	}
	for (uint32_t i = 0; i < len; i++) {
		if (p[i] == '\n') {
			/* a server may send other lines before its banner */
			if (dir == FLOW_S2C && s->len[dir] >= 4 &&
			    memcmp(s->line[dir], "SSH-", 4) != 0) {
				s->len[dir] = 0;
				continue;
			}
			banner(c, s, f, dir, pk);
			return;
		}
		if (s->len[dir] == BANNER_MAX) {
			s->done[dir] = true;
			c->st.errors[APP_SSH]++;
			return;
		}
		s->line[dir][s->len[dir]++] = (char)p[i];
	}
}

const struct app_ops app_ssh_ops = {
	.proto = APP_SSH,
	.name = "ssh",
	.detect = detect,
	.open = open_,
	.stream = stream,
	.free = free_,
};
