/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who owns what on the host, and why each operation root does there is
 * safe.  The threat is a guest that escaped into its VMM: from then on it
 * acts with the VMM's uid (SPECTRUM_VMM_UID_BASE + a per-instance slot,
 * sp_uid_assign), and everything that uid can write is hostile input.
 *
 * The rule: the VMM's uid owns no directory and no file on the host.
 * Everything it uses is a descriptor that root opened for it (its root
 * image and volumes, its taps, its listening sockets, the pipe of its
 * console log) or a file it only reads by path (its kernel and
 * initramfs) in a directory only root writes.  So no path root follows
 * runs through a directory a less-trusted uid can write, and there is
 * nothing for the VMM to plant a symbolic link, hard link or FIFO in.
 *
 *   RUN_DIR/                    root 0755  SPECTRUM_RUN_DIR, /run/spectrum;
 *                                          must be the caller's and not
 *                                          writable by group or others
 *     spectrumd.sock, .lock     root       the daemon (daemon/server.c)
 *     INSTANCE.devices          root 0600  owners of passed-through device
 *                                          nodes, to give them back
 *     INSTANCE/                 root 0711  this file's directory: opened
 *                                          once with O_NOFOLLOW and checked
 *                                          (owner, mode) by sp_rundir_open
 *       lock                    root 0600  flock'd; the VMM inherits it
 *                                          read-only and holds it for its
 *                                          life (one VM per instance)
 *       pid                     root 0644  "PID START-TIME" of the VMM,
 *                                          written by root after the spawn
 *       initrd.img              root:VMM 0640  base initramfs + the guest
 *                                          config; the VMM reads it by path
 *       console.sock, control.sock, qmp.sock
 *                               root 0600  bound by root; the VMM gets the
 *                                          listening descriptors, root and
 *                                          clients connect by path
 *       console.log, vmm.log    root 0600  written by the instance's logger
 *                                          through descriptors root opened,
 *                                          capped (sp_logger_spawn)
 *       fs-RESOURCE.sock        VMM 0600   virtiofsd's socket, bound by
 *                                          root, chowned so the VMM may
 *                                          connect (lib/share.c)
 *       virtiofsd-RESOURCE.log  root 0600  virtiofsd's stderr
 *       overlay-volN.qcow2      root 0600  a disposable instance's layer
 *                                          over read-write disk N: made by
 *                                          root (O_EXCL, then qemu-img),
 *                                          handed over as descriptors with
 *                                          the volume's, read-only; removed
 *                                          when the VM ends
 *       display.pid         root 0644  "PID START-TIME" of the display
 *                                          relay (lib/display.h)
 *       display.log         root 0600  its messages, begun anew per start
 *
 *   STATE_DIR/                  root       SPECTRUM_STATE_DIR: kernels,
 *                                          images, volumes; root opens them
 *                                          for the VMM with O_NOFOLLOW and
 *                                          hands over descriptors
 *
 * Since INSTANCE/ is root's and checked once, root's paths inside it
 * cannot be redirected; files are still created with O_NOFOLLOW and,
 * where they must be new, O_EXCL, relative to the directory's descriptor,
 * and changed through their descriptors (fchown, fchmod), so that the
 * rule holds even if a future file lands somewhere less trusted.
 */
#ifndef SP_RUNDIR_H
#define SP_RUNDIR_H

#include <stdbool.h>
#include <sys/types.h>

#include "plan.h"
#include "util.h"

/*
 * Creates (if needed) and opens the instance's run directory: the parent
 * must be the caller's and not writable by group or others; the directory
 * itself must be the caller's, a real directory (O_NOFOLLOW), and is set
 * to mode 0711 (the VMM may reach its initramfs by path, not list or write
 * anything).  A directory of another owner (an older Spectrum chowned it
 * to the VMM) is refused with the fix.  Returns the descriptor or -1.
 */
int sp_rundir_open(const struct sp_plan *p, struct sp_err *err);

/*
 * A new file `name` in dirfd, replacing any old one: the old name is
 * removed with unlinkat (which never follows a link) and the new file
 * made with O_CREAT|O_EXCL|O_NOFOLLOW, so the descriptor is of a file this
 * call created.  flags: O_WRONLY or O_RDWR (+ O_CLOEXEC is added).
 */
int sp_rundir_create(int dirfd, const char *name, int flags, mode_t mode, struct sp_err *err);

/*
 * An existing-or-new file of root's to append to across runs (a log):
 * opened with O_NOFOLLOW|O_NONBLOCK, then required to be a regular file
 * of the caller's with one link and no write access for others.
 */
int sp_rundir_open_log(int dirfd, const char *name, struct sp_err *err);

/*
 * Opens a file of the run directory for reading on behalf of a client
 * (the console log): O_NOFOLLOW|O_NONBLOCK (a FIFO never blocks the
 * daemon), a regular file owned by the caller.  -1 with errno set.
 */
int sp_rundir_open_read(const char *path);

/* A listening UNIX socket at `path` (in root's run directory), mode 0600. */
int sp_rundir_listen(const char *path, struct sp_err *err);

/* Records the VMM's pid and start time (atomically: temporary + rename). */
int sp_rundir_pid_write(const struct sp_plan *p, pid_t pid, struct sp_err *err);

/*
 * The pid of the plan's VMM if it still runs: the pid file names a pid
 * and its start time (field 22 of /proc/PID/stat), which must match, so a
 * recycled pid is never taken for the VMM; and it must run as the plan's
 * VMM uid.  Nothing here depends on the back end's command line.  Returns
 * the pid, or 0 (no such VMM).  *started gets the start (seconds since
 * the epoch) if not NULL.
 */
pid_t sp_rundir_pid_read(const struct sp_plan *p, time_t *started);

/* The same for an instance's display relay (display.pid, its relay uid);
 * 0 for a plan without a display. */
int sp_rundir_relay_pid_write(const struct sp_plan *p, pid_t pid, struct sp_err *err);
pid_t sp_rundir_relay_pid_read(const struct sp_plan *p);

#endif
