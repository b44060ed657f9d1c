/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The user's paste: see clipboard.h. */
#include "clipboard.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "../wlfilter/control.h"

bool sp_clipboard_pipe_ok(int fd, bool copy)
{
	struct stat st;
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_ACCMODE) == (copy ? O_WRONLY : O_RDONLY) && fstat(fd, &st) == 0 &&
	       S_ISFIFO(st.st_mode);
}

int sp_clipboard_forward(int control, int pipe_fd, bool copy, struct sp_err *err)
{
	struct swl_control m = {SWL_CONTROL_MAGIC, copy ? SWL_CONTROL_COPY : SWL_CONTROL_PASTE};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {&m, sizeof(m)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf)};
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &pipe_fd, sizeof(int));
	/* Non-blocking: a filter that does not read its channel (taken
	 * over by its guest) fills it, and then the paste is refused. */
	if (sendmsg(control, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(m))
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		sp_err_set(err, "its display filter has not taken the last pastes yet; try again");
	else
		sp_err_set(err, "its display filter is gone (%s); see its display log",
			   strerror(errno));
	return -1;
}
