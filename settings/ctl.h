/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-settings talking to spectrumd(8): the control protocol of
 * lib/proto.h, the requests spectrum(1) sends, one per connection.
 */
#ifndef SS_CTL_H
#define SS_CTL_H

#include "proto.h"

/*
 * Sends one request and waits at most timeout_ms for the reply.  Returns
 * the reply's status (enum sp_reply_status) with its body in *body
 * (malloc'd, may be empty) and a passed descriptor in *passed (or -1);
 * or -1 with err saying why the daemon could not be asked.
 */
int ss_ctl_call(enum sp_op op, unsigned flags, const char *name, int timeout_ms, char **body,
		int *passed, struct sp_err *err);

#endif
