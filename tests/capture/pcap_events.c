/*
 * pcap_events.c - print the events of recorded captures, one per line
 * (every field that is set, by name), then the counts. The capture tests
 * compare its output for the corpus and the recorded captures, and it is
 * the tool to look at what the agent makes of a capture:
 *
 *     pcap_events FILE...
 *
 * Exit status: 0, or 1 when a file cannot be opened (after the others).
 */
#include <stdio.h>
#include <string.h>

#include "../../agent/netsrc.h"
#include "evfmt.h"

static void print_event(const struct bw_event *ev)
{
	char buf[16384];

	evfmt(ev, buf, sizeof(buf));
	printf("%lld.%06lld %s\n", (long long)(ev->ts_us / 1000000),
	       (long long)(ev->ts_us % 1000000), buf);
}

int main(int argc, char **argv)
{
	int status = 0;

	for (int i = 1; i < argc; i++) {
		struct bw_error err;
		struct netsrc *ns = netsrc_open_file(argv[i], NULL, &err);
		struct netsrc_stats st;
		struct bw_event ev;
		char msg[1024];
		int rc;

		if (ns == NULL) {
			printf("error: %s\n", bw_error_str(&err, msg, sizeof(msg)));
			status = 1;
			continue;
		}
		while ((rc = netsrc_next(ns, &ev, &err)) != 0) {
			if (rc < 0)
				printf("error: %s\n",
				       bw_error_str(&err, msg, sizeof(msg)));
			else
				print_event(&ev);
		}
		netsrc_get_stats(ns, &st);
		printf("packets %llu decoded %llu flows %llu events %llu",
		       (unsigned long long)st.capture.packets,
		       (unsigned long long)st.decode.packets,
		       (unsigned long long)st.flow.created,
		       (unsigned long long)st.events);
		for (int r = 1; r < DR__COUNT; r++)
			if (st.decode.by_reason[r] > 0)
				printf(" %s %llu",
				       decode_reason_name((enum decode_reason)r),
				       (unsigned long long)st.decode.by_reason[r]);
		printf("\n");
		netsrc_destroy(&ns);
	}
	return status;
}
