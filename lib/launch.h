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
 * Checks the kernel, base initramfs and root image, opens (creating it)
 * the instance's run directory (lib/rundir.h: root's, never the VMM's),
 * takes the instance lock (one VM per instance: the lock fd is returned
 * in *lock_fd and held for the VM's life), checks that no process runs
 * with the instance's VMM uid, hands passed-through devices over,
 * prepares every volume and writes the per-instance initramfs.  On
 * failure nothing new is left on disk except the run directory itself.
 */
int sp_launch_prepare(const struct sp_plan *p, int *lock_fd, struct sp_err *err);

struct sp_spawn_opts {
	/* The VMM's stderr; -1: the logger keeps it in vmm.log (capped). */
	int stderr_fd;
	/* Inherited by the VMM, or -1: the instance lock, which the VMM
	 * then holds for as long as it lives. */
	int keep_fd;
	/* The VMM is killed if its parent dies (`spectrum run`); not for
	 * the supervisor's VMMs, which outlive it. */
	bool die_with_parent;
	/* The guest's end of the display channel for a plan with a display
	 * (set by sp_vm_start, which makes it; lib/display.h). */
	int display_fd;
	/* And the read end of the relay's log pipe, which the logger
	 * drains into the capped display.log (set by sp_vm_start). */
	int display_log_fd;
};

struct sp_vmm_proc {
	pid_t pid;    /* the VMM, a child of the caller */
	pid_t logger; /* its logger (lib/logger.h), a child of the caller */
};

/*
 * Starts the VMM: stdin and stdout on /dev/null, in a session of its own
 * so that a terminal's Ctrl-C does not reach it, and its logger.  Its
 * pid and start time go to the pid file (rundir.h).
 *
 * The VMM gets its channels as descriptors: listening sockets for the
 * console, the control port and QMP, bound here in root's run directory,
 * and the write end of its console log's pipe.  With p->vmm_uid set, it
 * runs as that uid and gid with no supplementary groups: it cannot open
 * the state directory's files, so its root image and volumes are opened
 * here (O_NOFOLLOW), as far as its back end takes them as descriptors
 * (struct sp_backend), and inherited at the descriptor numbers the back
 * end named (SP_FD_*).  So are its network interfaces, under every back
 * end: taps made here on their segments' bridges (sp_net_open), which
 * vanish when the VMM ends.
 */
int sp_launch_spawn(const struct sp_plan *p, const struct sp_argv *argv,
		    const struct sp_spawn_opts *o, struct sp_vmm_proc *out, struct sp_err *err);

/*
 * After the VMM has ended: waits a moment for its logger (`logger`, or -1
 * if it is not our child), ends every process still running as the VMM's
 * uid, removes network segments left unused, gives passed-through devices
 * back, and removes the initramfs and pid file.
 */
void sp_launch_cleanup(const struct sp_plan *p, pid_t logger);

/*
 * Connects to a UNIX socket the VMM creates, retrying until it appears or
 * `timeout_ms` passes or process `pid` exits.  Returns the fd or -1.
 */
int sp_unix_connect_wait(const char *path, int timeout_ms, pid_t pid, struct sp_err *err);

/* One line if a USB or PCI device of the plan is absent, or a PCI device
 * is not bound to vfio-pci. */
int sp_devices_check(const struct sp_plan *p, struct sp_err *err);

/*
 * One line if plan `p` passes through a USB or PCI device that `holder`,
 * the plan of a running instance, passes through: one PCI address, one
 * IOMMU group, one USB device (as the host resolves it now), or one USB
 * vendor:product where either names its device by it.  Reads sysfs.
 */
int sp_devices_exclusive(const struct sp_plan *p, const struct sp_plan *holder, struct sp_err *err);

/*
 * The USB or PCI devices present on the host, as the checks above find
 * them (SPECTRUM_SYSFS moves sysfs, for tests): for a picker.  Fills at
 * most `max` and returns how many there are.  A USB device's `port` is
 * its "BUS-PORT" directory's PORT; a PCI device has its address only.
 */
struct sp_dev_present {
	char address[16]; /* pci: DDDD:BB:DD.F */
	unsigned bus;	  /* usb */
	char port[32];	  /* usb: "1.4" */
	unsigned vendor, device;
	char label[96]; /* the product's name when the device gives one */
};
size_t sp_devices_present(enum sp_res_type type, struct sp_dev_present *out, size_t max);

/*
 * An unprivileged VMM cannot open the USB and VFIO device nodes it passes
 * through: they are handed to its uid for the VM's life (owners recorded
 * in RUN_DIR.devices) and given back by sp_devices_release when it ends.
 * A node another instance's record lists is refused: a node is handed to
 * one VMM at a time, so its recorded owner is always its own.
 */
int sp_devices_grant(const struct sp_plan *p, struct sp_err *err);
void sp_devices_release(const char *run_dir);

/* Turns a QEMU error text into one Spectrum line, if it is one we know. */
bool sp_launch_explain(const struct sp_plan *p, const char *vmm_stderr, char *out, size_t len);

#endif
