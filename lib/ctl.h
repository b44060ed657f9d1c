/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A client of spectrumd(8): one request of lib/proto.h on one connection
 * to the control socket, and its reply.  spectrum(1) and
 * spectrum-settings(1) both ask the daemon through this, so there is one
 * client side of the protocol.
 */
#ifndef SP_CTL_H
#define SP_CTL_H

#include "proto.h"
#include "util.h"

struct sp_ctl_reply {
	int status; /* enum sp_reply_status */
	char *body; /* malloc'd, NUL-terminated, possibly "" */
	int passed; /* a descriptor the daemon passed (console, logs), or -1 */
};

/*
 * Connects to the daemon's socket (sp_daemon_socket) and sends `rq`, with
 * `give` alongside (SCM_RIGHTS; -1 for none): a switch's file, opened by
 * the caller as the caller.  Waits for the reply at most timeout_ms (0:
 * as long as it takes).  Returns the reply's status, with r filled; or -1
 * when the daemon could not be asked, with r->body NULL, r->passed -1 and
 * err->code the status a client exits with: SP_REPLY_DENIED when the
 * socket's mode keeps the caller out (the daemon would refuse it too),
 * SP_REPLY_SYSTEM otherwise.
 */
int sp_ctl_call(const struct sp_request *rq, int give, int timeout_ms, struct sp_ctl_reply *r,
		struct sp_err *err);

/* Frees the body and closes a passed descriptor; r may be reused. */
void sp_ctl_reply_free(struct sp_ctl_reply *r);

#endif
