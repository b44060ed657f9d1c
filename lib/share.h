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

struct stat;

/*
 * Starts a virtiofsd for each directory share of the plan, on a listening
 * socket made here (owned by the VMM's uid, so only that VMM may connect)
 * and passed with --fd.  Each runs as the VMM's uid, root of a user
 * namespace of its own with no capability in the host's, and sees its
 * directory through an idmapped mount (read-only for a read-only share,
 * which the host kernel enforces and virtiofsd cannot undo) on which the
 * directory's owner and group are its own: the guest's files are the
 * owner's.  share.c says how and why.  Needs root.  Each virtiofsd ends
 * when its VMM disconnects.  pids[] gets p->nshares pids.
 */
int sp_launch_shares(const struct sp_plan *p, pid_t *pids, struct sp_err *err);

/*
 * Whether directory `st` may be shared: a directory whose owner and group
 * are not root's (the guest's files become the owner's; root's would be
 * the host's to trust).
 */
int sp_share_owner(const struct sp_plan_share *sh, const struct stat *st, struct sp_err *err);

/*
 * Sets no_new_privs and installs the file server's filter on the calling
 * thread, before it execs: modes with the set-user-ID or set-group-ID
 * bit (chmod, open and mknod families) fail with EPERM, and so do the
 * extended attribute calls; openat2 and io_uring, which pass modes where
 * a filter cannot see them, fail too.  Another architecture's calls kill.
 * On failure errno is prctl's (EINVAL: no seccomp filters, as under
 * qemu-user).
 */
int sp_share_filter_apply(struct sp_err *err);

#endif
