/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-init, PID 1 of every Spectrum guest: the interfaces between its
 * files.  The init is self-contained (static, libc only) and has nothing to
 * return to, so a stage that fails calls gi_fail(), which reports and
 * powers the machine off; the functions below return only on success.
 */
#ifndef GI_INIT_H
#define GI_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gconfig.h"
#include "guestproto.h"

#define GI_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Bounds of every wait of the boot. */
#define GI_POLL_MS 10		 /* interval of every polling loop */
#define GI_CONTROL_WAIT_MS 5000	 /* for the control port to appear */
#define GI_DEVICE_WAIT_MS 10000	 /* for the disks and shares */
#define GI_CONNECT_WAIT_MS 60000 /* for the host to connect to the port */
#define GI_REPORT_WAIT_MS 2000	 /* for a report after "ready" */
#define GI_TERM_WAIT_MS 5000	 /* from SIGTERM to SIGKILL */
#define GI_KILL_WAIT_MS 5000	 /* from SIGKILL to giving up on a child */

/* init.c */
/* Prints "spectrum-init: STAGE: MESSAGE", reports "error STAGE MESSAGE",
 * powers off.  The host maps the stage to the exit status of `spectrum
 * run` (guestproto.h). */
_Noreturn void gi_fail(enum sp_gp_stage stage, const char *fmt, ...) GI_PRINTF(2, 3);
/* Prints "spectrum-init: STAGE: MESSAGE" and carries on. */
void gi_note(enum sp_gp_stage stage, const char *fmt, ...) GI_PRINTF(2, 3);
int64_t gi_now_ms(void);
void gi_sleep_ms(int ms);
/*
 * Reads the file at path into buf, NUL-terminated; sets *len.  Returns -1
 * with errno set if it cannot, EFBIG if the file does not fit in size - 1
 * bytes.
 */
int gi_read_file(const char *path, char *buf, size_t size, size_t *len);

/* mounts.c */
void gi_mount_kernel_fs(void);
void gi_mount_root(const struct gi_config *cfg, int64_t deadline);
void gi_switch_root(void);
void gi_mount_all(const struct gi_config *cfg, int64_t deadline);
void gi_mounts_quiesce(const struct gi_config *cfg);

/* Before the switch of root (the modules are in the initramfs): layers
 * for the read-only volumes whose journal needs replaying. */
void gi_volumes_prepare(const struct gi_config *cfg, int64_t deadline);

/* cow.c */
/* If the ext4 on the read-only disk `dev` (of serial `serial`) has a
 * journal to replay, puts over it a snapshot that keeps its changes in
 * RAM, for gi_cow_device() to find. */
void gi_cow_layer(const char *serial, const char *dev, int64_t deadline);
/* The node of the layer over the disk `serial`, if it has one. */
bool gi_cow_device(const char *serial, char *dev, size_t len);

/* net.c: brings lo up and configures each net line's interface. */
void gi_net_setup(const struct gi_config *cfg, int64_t deadline);

/* display.c */
#define GI_WAYPIPE "/usr/bin/waypipe"
#define GI_DISPLAY_RUNTIME "/run/user/0" /* XDG_RUNTIME_DIR of the commands */
#define GI_DISPLAY_SOCKET GI_DISPLAY_RUNTIME "/spectrum-wayland.sock"
/* With "display wayland": mounts /dev/shm and /dev/pts, starts the relay
 * between the display port and GI_DISPLAY_SOCKET, sets XDG_RUNTIME_DIR
 * and wraps the first command in `waypipe server` (one Wayland
 * connection per port: the other commands have no display). */
void gi_display_setup(struct gi_config *cfg);

/* modules.c */
/* NULL: the base list; else the list of a module group. */
void gi_modules_load(const char *group);

/* control.c */
enum {
	GI_CTL_POWEROFF = 1, /* the host asked for "poweroff" */
	GI_CTL_HUP = 2,	     /* the host is not connected */
};
/* Opens the port, waiting GI_CONTROL_WAIT_MS for it; without it the
 * machine runs unsupervised (noted on the console unless quiet). */
void gi_control_find(bool quiet);
bool gi_control_searched(void);
int gi_control_fd(void); /* -1 without a port */
void gi_control_ready(void);
/* Sends one line ("exit 0\n"), waiting at most timeout_ms for the host. */
int gi_control_send(const char *line, int timeout_ms);
/* Reads what the host sent: a mask of GI_CTL_*. */
int gi_control_read(void);
void gi_control_close(void);

#endif
