/*
 * zmsg.c - receiving a whole multipart ZeroMQ message, bounded (zmsg.h).
 */
#include "zmsg.h"

#include <errno.h>

void bw_zmsg_close(zmq_msg_t *parts, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		zmq_msg_close(&parts[i]);
}

int bw_zmsg_recv(void *sock, zmq_msg_t *parts, size_t max, size_t *n,
		 size_t *extra, int flags)
{
	int more, saved;

	*n = 0;
	*extra = 0;
	if (max == 0) {
		errno = EINVAL;
		return -1;
	}
	zmq_msg_init(&parts[0]);
	if (zmq_msg_recv(&parts[0], sock, flags) < 0) {
		saved = errno;
		zmq_msg_close(&parts[0]);
		errno = saved;
		return saved == EAGAIN || saved == EINTR ? 0 : -1;
	}
	*n = 1;
	more = zmq_msg_more(&parts[0]);
	while (more) {
		zmq_msg_t scratch, *m = *n < max ? &parts[*n] : &scratch;
		int rc;

		zmq_msg_init(m);
		do {
			rc = zmq_msg_recv(m, sock, 0);
		} while (rc < 0 && errno == EINTR);
		if (rc < 0) {
			saved = errno;
			zmq_msg_close(m);
			bw_zmsg_close(parts, *n);
			*n = 0;
			errno = saved;
			return -1;
		}
		more = zmq_msg_more(m);
		if (m == &scratch) {
			zmq_msg_close(&scratch);
			(*extra)++;
		} else {
			(*n)++;
		}
	}
	return 1;
}
