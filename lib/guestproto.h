/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest protocol (spectrum-init(8)), the one contract between the host
 * programs and spectrum-init, PID 1 of every guest: the words of the guest
 * configuration, the control port and its lines, and the stages of the
 * init with their exit statuses.  Both sides include this header and link
 * guestproto.c, so each fact is written once.
 *
 * spectrum-init is static and links nothing but libc: this header and
 * guestproto.c use libc alone and include no other header of lib/.
 */
#ifndef SP_GUESTPROTO_H
#define SP_GUESTPROTO_H

#include <stddef.h>

/*
 * The guest configuration, /spectrum/config in the initramfs: "KEYWORD
 * VALUE" lines (cmd has no value), in this order.  The host writes it
 * (lib/guest.c), the guest parses it (guest/gconfig.c).
 */
#define SP_GP_KW_VERSION "spectrum-guest" /* SP_GP_VERSION */
#define SP_GP_KW_HOSTNAME "hostname"
#define SP_GP_KW_ROOT "root" /* SP_GP_ROOT_DISK or SP_GP_ROOT_PMEM */
#define SP_GP_KW_MODULES "modules"
#define SP_GP_KW_SCRATCH "scratch"
#define SP_GP_KW_VOLUME "volume"
#define SP_GP_KW_SHARE "share"
#define SP_GP_KW_NET "net"
#define SP_GP_KW_DISPLAY "display" /* SP_GP_DISPLAY_WAYLAND */
#define SP_GP_KW_ENV "env"
#define SP_GP_KW_CMD "cmd"
#define SP_GP_KW_APP "app" /* several applications: "app NAME" before its cmds */
#define SP_GP_KW_ARG "arg"
#define SP_GP_VERSION "1"
#define SP_GP_ROOT_DISK "disk"
#define SP_GP_ROOT_PMEM "pmem"
#define SP_GP_DISPLAY_WAYLAND "wayland"

/*
 * The display channel of an instance granted one: a virtio-serial port of
 * this name carries one Wayland connection, waypipe's stream, both ends
 * with the compression that the "display wayland COMPRESSION" line names
 * (waypipe refuses a peer that differs): lz4, zstd or none.
 */
#define SP_GP_DISPLAY_PORT "spectrum.wayland"

/*
 * The control port: a virtio-serial port of this name, one text line per
 * message.  From the guest: "ready", "app NAME N" (one of several
 * applications ended, with status N: only when the configuration has app
 * lines), "exit N", "error STAGE TEXT"; from the host: "poweroff".  A line
 * is at most SP_GP_LINE_MAX bytes, its newline excluded; readers discard
 * longer ones.
 */
#define SP_GP_PORT "spectrum.control"
#define SP_GP_MSG_READY "ready"
#define SP_GP_MSG_APP "app"
#define SP_GP_MSG_EXIT "exit"
#define SP_GP_MSG_ERROR "error"
#define SP_GP_MSG_POWEROFF "poweroff"
#define SP_GP_LINE_MAX 256
#define SP_GP_STAGE_NAME_MAX 15 /* bytes of a stage's name: 1 to 15 of a-z */
/* An application's name: 1 to 63 of a-z, 0-9 and '-', starting and
 * ending with a letter or digit (the host's rule for names). */
#define SP_GP_APP_NAME_MAX 63

/*
 * The stages of spectrum-init that can fail, as the exit statuses of
 * `spectrum run` (spectrum-init(8), EXIT STATUS); their names are in
 * guestproto.c's table.
 */
enum sp_gp_stage {
	SP_GP_STAGE_NET = 119,
	SP_GP_STAGE_CONFIG = 120,
	SP_GP_STAGE_MODULES = 121,
	SP_GP_STAGE_ROOT = 122,
	SP_GP_STAGE_MOUNT = 123,
	SP_GP_STAGE_CONTROL = 124,
	SP_GP_STAGE_EXEC = 125,
};

/* The name of a stage ("mount"); "unknown" for a number that is none. */
const char *sp_gp_stage_name(enum sp_gp_stage stage);
/* The stage of a name, or -1 if there is no such stage. */
int sp_gp_stage_find(const char *name);

enum sp_gp_kind {
	SP_GP_UNKNOWN,	/* anything else: ignored, a newer peer's or garbage */
	SP_GP_READY,	/* guest: the machine is up, the commands start */
	SP_GP_APP,	/* guest: one of several applications ended */
	SP_GP_EXIT,	/* guest: every command exited: the instance's status */
	SP_GP_ERROR,	/* guest: a stage failed */
	SP_GP_POWEROFF, /* host: stop the commands and power off */
};

struct sp_gp_event {
	enum sp_gp_kind kind;
	/* SP_GP_APP: the application's name. */
	char app[SP_GP_APP_NAME_MAX + 1];
	/* SP_GP_EXIT, SP_GP_APP: the status, 0 to 255.  SP_GP_ERROR: the
	 * stage's exit status, SP_GP_STAGE_CONFIG for a well-formed name this
	 * side does not know (a newer guest's stage is still a failure). */
	int status;
	/* SP_GP_ERROR: the stage's name as sent, and what failed, with every
	 * byte but printable ASCII as '?' (it reaches terminals and JSON). */
	char stage[SP_GP_STAGE_NAME_MAX + 1];
	char text[SP_GP_LINE_MAX + 1];
};

/*
 * Parses one line of the control port, without its newline.  The line
 * comes from the other side of a trust boundary, so it is parsed strictly:
 * exact words, a status of 0 to 255 in decimal without a sign or leading
 * zeros, a stage name of 1 to SP_GP_STAGE_NAME_MAX of a-z, and no line
 * longer than SP_GP_LINE_MAX; anything else is SP_GP_UNKNOWN.  Fills *ev
 * (zeroed first) and returns ev->kind.
 */
enum sp_gp_kind sp_gp_line_parse(const char *line, struct sp_gp_event *ev);

/*
 * The guest's lines, with their newline, into buf of `size` bytes (at
 * least SP_GP_LINE_MAX + 2 for an error line, 16 for an exit line).  TEXT
 * is cut so that the line stays within SP_GP_LINE_MAX bytes, its control
 * characters written as '?' so that it stays one line.  Return the length
 * written.
 */
size_t sp_gp_exit_line(char *buf, size_t size, int status);
/* "app NAME N\n" (at least SP_GP_APP_NAME_MAX + 10 bytes); NAME must be a
 * valid name (sp_gp_app_name_valid), as the guest configuration's are. */
size_t sp_gp_app_line(char *buf, size_t size, const char *name, int status);
/* Whether `s` is an application name by the rule above. */
int sp_gp_app_name_valid(const char *s);
size_t sp_gp_error_line(char *buf, size_t size, enum sp_gp_stage stage, const char *text);

#endif
