/*
 * evfmt.h - an event as one line of text ("kind=http action=GET ..."):
 * every field that is set, by name, control bytes as \xNN, then " #N"
 * (the packet). For the capture tests and pcap_events.
 */
#ifndef BW_TEST_EVFMT_H
#define BW_TEST_EVFMT_H

#include <stddef.h>

#include "../../common/event.h"

/* Format ev into buf (NUL-terminated, cut to size). Without the time. */
void evfmt(const struct bw_event *ev, char *buf, size_t size);

struct netsrc_options;

/* The events of a recorded capture, formatted, one per line, in a string
 * the caller frees; NULL with msg when the file cannot be opened. o may be
 * NULL for the default options. */
char *evfmt_file(const char *path, const struct netsrc_options *o, char *msg,
		 size_t msgsize);

#endif
