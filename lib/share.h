/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directory resources: the file server (virtiofsd) that serves each
 * directory share of a plan to its VMM.  Shared by `spectrum run` and the
 * supervisor.
 */
#ifndef SP_SHARE_H
#define SP_SHARE_H

#include <sys/types.h>

#include "plan.h"
#include "util.h"

/*
 * Starts a virtiofsd for each directory share of the plan, on a listening
 * socket made here (owned by the VMM's uid, so only that VMM may connect)
 * and passed with --fd.  A read-only share is served from a private mount
 * namespace in which the directory is bind-mounted read-only: the host
 * kernel, not the file server's goodwill, refuses the writes.  Each
 * virtiofsd ends when its VMM disconnects.  pids[] gets p->nshares pids.
 */
int sp_launch_shares(const struct sp_plan *p, pid_t *pids, struct sp_err *err);

#endif
