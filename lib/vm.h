/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One VM's life, the same for `spectrum run` and spectrumd: start (the
 * back end's command line, the host's preparation, the file servers, the
 * VMM and its logger), the guest's control lines, a graceful stop with
 * one grace period, and the clean-up once the VMM has ended.  The callers
 * only wait, each in its own way: `spectrum run` on its terminal and the
 * console, spectrumd on many VMs and its clients.
 */
#ifndef SP_VM_H
#define SP_VM_H

#include <stdbool.h>
#include <sys/types.h>

#include "guestproto.h"
#include "launch.h"
#include "plan.h"
#include "util.h"

/*
 * A stop asks the guest to power off; spectrum-init gives its commands
 * SIGTERM, then SIGKILL 5 s later, then powers off, so 20 s is plenty.
 * After that the VMM gets SIGTERM, and SIGKILL every SP_VM_TERM_MS.
 */
#define SP_VM_POWEROFF_MS 20000
#define SP_VM_TERM_MS 5000

/* sp_vm_start's failures: the host (status 3), or the plan itself. */
#define SP_VM_ERR_SYSTEM (-1)
#define SP_VM_ERR_PLAN (-2)

struct sp_vm {
	const struct sp_plan *plan;
	pid_t pid;			  /* the VMM, 0 when none */
	pid_t logger;			  /* its logger if it is our child, else -1 */
	int lock;			  /* the instance lock until the VMM holds it, else -1 */
	int control;			  /* the guest's control port, -1 when closed */
	pid_t fs_pids[SP_LIMIT_BINDINGS]; /* virtiofsd per directory share */
	size_t nfs;
	pid_t display;	   /* the display relay (lib/display.h), or 0 */
	int display_control; /* its filter's control channel (lib/clipboard.h), or -1 */
	bool display_lost; /* it failed while the VM ran: the VM is stopped */
	long display_gone_at; /* ms: it ended cleanly; the VM is to follow */

	/* What the guest said on its control port. */
	bool ready;
	int status;			      /* the application's status, a stage's code, or -1 */
	char stage[SP_GP_STAGE_NAME_MAX + 1]; /* the stage that failed, or "" */
	char reason[300];
	/* Several applications (plan->apps): each one's status as the guest
	 * reported it ("app NAME N"), -1 before; their order of report; the
	 * first to fail, -1 while none has.  The guest's "exit" then names it
	 * in `reason`. */
	int app_status[SP_LIMIT_INSTANCE_APPS];
	size_t app_order[SP_LIMIT_INSTANCE_APPS];
	size_t app_reports;
	int app_failed;

	/* A stop in progress: the next escalation is due at kill_at (ms). */
	bool stopping;
	long kill_at;
	int kill_phase; /* 0: poweroff asked, 1: SIGTERM sent, 2: SIGKILL */

	char line[SP_GP_LINE_MAX + 1];
	size_t line_len;
	bool line_overflow;
};

void sp_vm_init(struct sp_vm *vm, const struct sp_plan *p);

/*
 * Builds the VMM's command line, prepares the host (sp_launch_prepare),
 * starts the file servers, the logger and the VMM, and connects the
 * control port.  o->keep_fd is ignored: the VMM inherits the instance
 * lock.  On failure nothing is left running.  Returns 0, SP_VM_ERR_PLAN
 * (the back end cannot run the plan) or SP_VM_ERR_SYSTEM.
 */
int sp_vm_start(struct sp_vm *vm, const struct sp_spawn_opts *o, struct sp_err *err);

/*
 * On SIGCHLD: reaps the display relay if it ended.  A relay that ends
 * with status 0 saw the guest's stream end (the application closed it,
 * and the guest powers off next): the VM has SP_VM_DISPLAY_GRACE_MS to
 * stop on its own (sp_vm_display_gone).  Any other end leaves the VM
 * with no display, so the VM is stopped at once and display_lost set,
 * with the reason.  Returns true if it ended.
 */
bool sp_vm_display_reap(struct sp_vm *vm);

/* The relay ended cleanly, or a relay not ours to wait for (a restarted
 * supervisor's) ended: a VM still running SP_VM_DISPLAY_GRACE_MS later
 * is stopped by sp_vm_tick, never left with a half-dead display. */
#define SP_VM_DISPLAY_GRACE_MS 10000
void sp_vm_display_gone(struct sp_vm *vm);

/* Connects the control port again (after the supervisor restarted). */
int sp_vm_control_connect(struct sp_vm *vm);

/*
 * Reads what the control port holds, without blocking, and acts on its
 * complete lines (sp_gp_line_parse): "ready", "app NAME N" (of an
 * application of the plan, once each), "exit N", "error STAGE TEXT";
 * anything else is ignored.  Lines are bounded; an over-long one is
 * dropped whole.  Returns true if ready, status or app_reports changed.  The port is
 * closed (control = -1) at its end.
 */
bool sp_vm_control_read(struct sp_vm *vm);

/* Asks the guest to power off (or, with `now` or no control port, sends
 * SIGTERM at once) and arms the escalation. */
void sp_vm_stop(struct sp_vm *vm, bool now);

/* Escalates a stop that is due: SIGTERM, then SIGKILL every 5 s. */
void sp_vm_tick(struct sp_vm *vm, long now);

/* The reason a VMM's end gives when the guest reported nothing:
 * `wstatus` as waitpid gave it. */
void sp_vm_exit_reason(struct sp_vm *vm, int wstatus, char *out, size_t len);

/*
 * Why a guest stopped without a word, if its console says: its kernel's
 * panic ("Kernel panic - not syncing: WHY") in `console`, the console's
 * last bytes, as a reason ("the guest's kernel panicked: WHY"), with the
 * fix when WHY is a lack of memory.  The guest wrote those bytes: only
 * printable ASCII of the line is kept, and it is only searched.  false if
 * the console shows no panic.
 */
bool sp_vm_panic_reason(const struct sp_plan *p, const char *console, size_t len, char *out,
			size_t outlen);

/*
 * After the VMM has exited (and been reaped, if ours): ends the file
 * servers, cleans up (sp_launch_cleanup) and closes what is left open.
 */
void sp_vm_ended(struct sp_vm *vm);

#endif
