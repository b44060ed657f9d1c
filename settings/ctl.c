/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "paths.h"

static int ss_ctl_connect(int timeout_ms, struct sp_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int fd;

	if (sp_daemon_socket(sa.sun_path, sizeof(sa.sun_path), err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		sp_err_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	/* A daemon that hangs must not hang the window with it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		if (e == EACCES)
			sp_err_set(
				err,
				"permission denied on %s; root and the spectrum group may use it",
				sa.sun_path);
		else
			sp_err_set(err, "cannot reach spectrumd at %s: %s", sa.sun_path,
				   strerror(e));
		return -1;
	}
	return fd;
}

int ss_ctl_call(enum sp_op op, unsigned flags, const char *name, int timeout_ms, char **body,
		int *passed, struct sp_err *err)
{
	static _Thread_local char buf[sizeof(struct sp_reply_header) + SP_PROTO_BODY_MAX + 1];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct sp_reply_header h;
	struct sp_request rq;
	const char *text;
	ssize_t n;
	int fd;

	*body = NULL;
	*passed = -1;
	if (sp_request_make(&rq, op, flags, name) < 0) {
		sp_err_set(err, "invalid request");
		return -1;
	}
	fd = ss_ctl_connect(timeout_ms, err);
	if (fd < 0)
		return -1;
	/* As spectrum(1) does: a refused peer's answer may already wait
	 * although the send failed. */
	int sent = send(fd, &rq, sizeof(rq), MSG_NOSIGNAL) == (ssize_t)sizeof(rq) ? 0 : errno;
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	int e = errno;
	close(fd);
	if (n <= 0) {
		sp_err_set(err, "spectrumd %s",
			   sent	 ? strerror(sent) :
			   n < 0 ? (e == EAGAIN ? "did not answer in time" : strerror(e)) :
				   "closed the connection");
		return -1;
	}
	if (sp_reply_check(buf, (size_t)n, &h, &text, err) < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(passed, CMSG_DATA(c), sizeof(int));
	buf[n] = '\0';
	*body = sp_xstrdup(text);
	return (int)h.status;
}
