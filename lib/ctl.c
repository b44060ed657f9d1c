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

/*
 * The socket's mode (spectrumd(8)) keeps out whom the daemon would
 * refuse, so a connection refused for its mode is a refusal too (status
 * 4), not an unreachable daemon.
 */
static int sp_ctl_connect(int timeout_ms, struct sp_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int fd, e;

	if (sp_daemon_socket(sa.sun_path, sizeof(sa.sun_path), err) < 0) {
		err->code = SP_REPLY_SYSTEM;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	/* A daemon that hangs must not hang a window with it. */
	if (fd >= 0 && timeout_ms > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	if (fd >= 0)
		close(fd);
	if (e == EACCES)
		sp_err_set(err,
			   "permission denied: uid %d may not open %s; "
			   "root and the spectrum group may",
			   (int)getuid(), sa.sun_path);
	else
		sp_err_set(err,
			   "cannot reach spectrumd at %s: %s; start it with 'spectrumd -c FILE'",
			   sa.sun_path, strerror(e));
	err->code = e == EACCES ? SP_REPLY_DENIED : SP_REPLY_SYSTEM;
	return -1;
}

/* Sends the request, with `give` (a descriptor, or -1) alongside; 0 or
 * the errno. */
static int sp_ctl_send(int fd, const struct sp_request *rq, int give)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {(void *)rq, sizeof(*rq)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (give >= 0) {
		struct cmsghdr *c;
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &give, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(*rq) ? 0 : errno;
}

int sp_ctl_call(const struct sp_request *rq, int give, int timeout_ms, struct sp_ctl_reply *r,
		struct sp_err *err)
{
	size_t size = sizeof(struct sp_reply_header) + SP_PROTO_BODY_MAX + 1;
	char *buf;
	struct sp_reply_header h;
	const char *text;
	ssize_t n;
	int fd, sent, e;

	r->status = -1;
	r->body = NULL;
	r->passed = -1;
	fd = sp_ctl_connect(timeout_ms, err);
	if (fd < 0)
		return -1;
	buf = sp_xmalloc(size);
	/* A refused peer is answered when the daemon accepts the connection,
	 * before it reads anything; the daemon then shuts the connection, so
	 * our send may fail (EPIPE) with the reply still there to read. */
	sent = sp_ctl_send(fd, rq, give);
	/* The first descriptor the reply passed; any other is closed. */
	n = sp_recv_fd(fd, buf, size - 1, 0, &r->passed, NULL);
	e = errno;
	close(fd);
	if (n <= 0) {
		if (sent)
			sp_err_set(err, "sending to spectrumd: %s", strerror(sent));
		else if (n < 0 && (e == EAGAIN || e == EWOULDBLOCK))
			sp_err_set(err, "spectrumd did not answer in %.1f s", timeout_ms / 1000.0);
		else if (n < 0)
			sp_err_set(err, "receiving from spectrumd: %s", strerror(e));
		else
			sp_err_set(err, "spectrumd closed the connection");
		err->code = SP_REPLY_SYSTEM;
		sp_ctl_reply_free(r);
		free(buf);
		return -1;
	}
	if (sp_reply_check(buf, (size_t)n, &h, &text, err) < 0) {
		err->code = SP_REPLY_SYSTEM;
		sp_ctl_reply_free(r);
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	r->body = sp_xstrdup(text);
	r->status = (int)h.status;
	err->code = 0;
	free(buf);
	return r->status;
}

void sp_ctl_reply_free(struct sp_ctl_reply *r)
{
	free(r->body);
	r->body = NULL;
	if (r->passed >= 0)
		close(r->passed);
	r->passed = -1;
}
