/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The display relay: one per instance granted a display, between the
 * guest's Wayland stream and the user's compositor.
 *
 *   guest app -> waypipe server (guest) -> port "spectrum.wayland"
 *     -> QEMU chardev: one end of a socket pair made here (SP_FD_WAYLAND)
 *     -> the relay: the other end, spliced to `waypipe client`
 *     -> the filter, spectrum-wlfilter (labels, allow-list, no clipboard;
 *        man/spectrum-wlfilter.1): the relay's first process becomes it
 *     -> the user's compositor
 *
 * Who may touch what (lib/rundir.h's rule, extended):
 *
 *  - The relay runs as the instance's relay uid (sp_uid_relay), never the
 *    VMM's: a guest that escaped into its VMM cannot signal or trace it,
 *    nor reach its connection to the compositor; the relay cannot reach
 *    the VMM's descriptors.  It has no supplementary groups, no new
 *    privileges (PR_SET_NO_NEW_PRIVS), an empty network namespace (no
 *    network at all), a mount namespace whose /tmp is an empty tmpfs of
 *    its own (waypipe's and the filter's sockets live there, unreachable
 *    from the host), and bounded resources (RLIMIT_NPROC, RLIMIT_CORE 0).
 *  - It never opens the user's XDG_RUNTIME_DIR: the compositor connection
 *    is made for it before it drops root, with the file-system uid and
 *    gid of the owner of the compositor socket's directory (so a path the
 *    user controls leads nowhere the user could not go); the process
 *    that made it becomes the filter (--compositor-fd), and waypipe, its
 *    child, reaches the compositor only through the filter's socket in
 *    the private /tmp.  The compositor's peer is therefore the relay's
 *    own process (SO_PEERCRED), never spectrumd.
 *  - The channel to the VMM is a socket pair: no path on the host, so no
 *    other process can connect to either end.
 *
 * The compositor: SPECTRUM_WAYLAND_DISPLAY in the environment of spectrumd
 * or `spectrum run` (an absolute socket path, or a name in
 * XDG_RUNTIME_DIR); WAYLAND_DISPLAY when that is not set.
 */
#ifndef SP_DISPLAY_H
#define SP_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "plan.h"
#include "util.h"

#define SP_DISPLAY_WAYPIPE "waypipe"
/* The relay's processes: waypipe (and its threads count), the splicer,
 * the filter. */
#define SP_DISPLAY_NPROC 64

/*
 * The compositor's socket path for the relay, in `out`: from
 * SPECTRUM_WAYLAND_DISPLAY or else WAYLAND_DISPLAY, an absolute path or a
 * name under XDG_RUNTIME_DIR.  -1 with the fix when neither names one.
 */
int sp_display_compositor(char *out, size_t len, struct sp_err *err);

/*
 * spectrum-wlfilter's path, in `out`: SPECTRUM_WLFILTER (an absolute
 * path), else wlfilter/spectrum-wlfilter next to this program (a build
 * directory), else the installed one (SP_WLFILTER_INSTALLED, under
 * libexecdir).  -1 with the fix when none is executable.
 */
int sp_display_filter_path(char *out, size_t len, struct sp_err *err);

/*
 * Starts the instance's relay: makes the socket pair, gives the guest's
 * end back in *guest_fd (for the VMM: sp_spawn_opts.display_fd), and
 * runs the relay with the other end.  *pid is the relay's (a child of the
 * caller); the relay ends when the guest's stream ends or the compositor
 * hangs up.  *control_fd is the caller's end of the filter's control
 * channel (wlfilter/control.h; lib/clipboard.h sends on it).  *log_fd is
 * the read end of the pipe the relay writes its log to (its stdout and
 * stderr), for the instance's logger, which keeps display.log under its
 * cap (sp_spawn_opts.display_log_fd): the caller must have it drained, or
 * the relay blocks.  -1 with err (nothing left running).
 */
int sp_display_start(const struct sp_plan *p, pid_t *pid, int *guest_fd, int *control_fd,
		     int *log_fd, struct sp_err *err);

/*
 * After the relay ended (or to end it): SIGKILL to every process of the
 * relay uid, so it is free for the next start.  `pid`, if > 0, is reaped.
 */
void sp_display_stop(const struct sp_plan *p, pid_t pid);

#endif
