/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting a VM from a plan: what must exist or be made on the host first
 * (run directory, volumes, the per-instance initramfs), and the VMM process
 * itself.  Shared by `spectrum run` and the supervisor.
 */
#ifndef SP_LAUNCH_H
#define SP_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "backend.h"
#include "plan.h"
#include "util.h"

/*
 * Makes sure a disk's image exists: an existing image must be there; a
 * Spectrum-owned volume is created sparse and formatted on first use.  The
 * file appears under its final name only once it is complete, so a failed
 * or concurrent creation never leaves a half-made volume.
 */
int sp_volume_prepare(const struct sp_plan_disk *d, struct sp_err *err);

/*
 * Checks the kernel, base initramfs and root image, creates the run
 * directory and takes the instance lock (one VM per instance: the lock fd
 * is returned in *lock_fd and held for the VM's life), prepares every
 * volume and writes the per-instance initramfs.  On failure nothing new is
 * left on disk except the run directory itself.
 */
int sp_launch_prepare(const struct sp_plan *p, int *lock_fd, struct sp_err *err);

/*
 * Starts the VMM: stdin and stdout on /dev/null, stderr on `stderr_fd`, in
 * a session of its own so that neither a terminal's Ctrl-C nor the end of
 * its parent reaches it.  `keep_fd` (or -1) is inherited: the instance
 * lock, which the VMM then holds for as long as it lives.
 *
 * With p->vmm_uid set, the VMM runs as that uid and gid with no
 * supplementary groups: it cannot open the state directory's files, so
 * its root image and volumes are opened here, as far as its back end
 * takes them as descriptors (struct sp_backend), and inherited at the
 * descriptor numbers the back end named (SP_FD_*); its run directory is
 * its own.  So are its network interfaces, under every back end: taps
 * made here on their segments' bridges (sp_net_open), which vanish when
 * the VMM ends; the caller then calls sp_net_release(p) to remove
 * segments left unused.
 */
int sp_launch_spawn(const struct sp_plan *p, const struct sp_argv *argv, int stderr_fd,
		    int keep_fd, pid_t *pid, struct sp_err *err);

/*
 * Connects to a UNIX socket the VMM creates, retrying until it appears or
 * `timeout_ms` passes or process `pid` exits.  Returns the fd or -1.
 */
int sp_unix_connect_wait(const char *path, int timeout_ms, pid_t pid, struct sp_err *err);

/* One line if a USB or PCI device of the plan is absent, or a PCI device
 * is not bound to vfio-pci. */
int sp_devices_check(const struct sp_plan *p, struct sp_err *err);

/*
 * An unprivileged VMM cannot open the USB and VFIO device nodes it passes
 * through: they are handed to its uid for the VM's life (owners recorded
 * in RUN_DIR/devices) and given back by sp_devices_release when it ends.
 */
int sp_devices_grant(const struct sp_plan *p, struct sp_err *err);
void sp_devices_release(const char *run_dir);

/* Turns a QEMU error text into one Spectrum line, if it is one we know. */
bool sp_launch_explain(const struct sp_plan *p, const char *vmm_stderr, char *out, size_t len);

#endif
