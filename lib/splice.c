/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Copying a stream both ways: see splice.h.  libc only. */
#include "splice.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Writes all of buf; -1 if the peer is gone. */
static int sp_splice_write(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

int sp_splice(int a, int b)
{
	struct pollfd pf[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
	static char buf[65536];

	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;
			if (!pf[i].revents)
				continue;
			/* A read even on POLLHUP: a peer's last bytes come
			 * with its hang-up, and read says when none are left. */
			n = read(pf[i].fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				shutdown(pf[1 - i].fd, SHUT_WR); /* not a socket: nothing */
				return n < 0 ? -1 : 0;
			}
			if (sp_splice_write(pf[1 - i].fd, buf, (size_t)n) < 0)
				return -1;
		}
	}
}
