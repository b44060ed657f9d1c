/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The supervisor's view of one instance: a state machine written as a
 * table of actions, actions[state][event], driven by sd_vm_event and by
 * nothing else, over the VM life of lib/vm.h (start, control lines, stop,
 * clean-up), which `spectrum run` shares.
 *
 * The VMM is started in a session of its own and holds the instance lock,
 * and its logger keeps its console log, so that it keeps running, and
 * logging, when the daemon dies; its pid file lets a restarted daemon
 * adopt it (sd_vm_adopt_all).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "rundir.h"

#define SD_RESTART_DELAY_MS 1000

const char *sd_state_name(enum sd_state s)
{
	static const char *const names[] = {"stopped", "starting", "running", "stopping", "failed"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

struct sd_vm *sd_vm_find(struct sd *d, const char *name)
{
	for (size_t i = 0; i < d->nvms; i++)
		if (strcmp(d->vms[i].inst->name, name) == 0)
			return &d->vms[i];
	return NULL;
}

bool sd_vm_active(const struct sd_vm *vm)
{
	return vm->state == SD_STARTING || vm->state == SD_RUNNING || vm->state == SD_STOPPING;
}

static int sd_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* The console log's size (0 if it is not there yet).  Root's file in
 * root's run directory (rundir.h): its path is ours to follow. */
static off_t sd_console_size(const struct sd_vm *vm)
{
	struct stat st;

	return stat(vm->plan->console_log, &st) == 0 ? st.st_size : 0;
}

/*
 * A guest that stopped without a word may have said why on its console:
 * its kernel's panic, in what this run wrote of the console log (its last
 * 16 KiB at most; all of them if the logger cut the log meanwhile).  The
 * guest wrote those bytes: they are bounded, searched, never parsed.
 */
static bool sd_vm_panic(struct sd_vm *vm)
{
	char buf[16384];
	struct stat st;
	off_t from;
	ssize_t n = -1;
	int fd = sp_rundir_open_read(vm->plan->console_log);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0) {
		from = st.st_size < vm->console_from ? 0 : vm->console_from;
		if (st.st_size - from > (off_t)sizeof(buf))
			from = st.st_size - (off_t)sizeof(buf);
		n = pread(fd, buf, sizeof(buf), from);
	}
	close(fd);
	return n > 0 && sp_vm_panic_reason(vm->plan, buf, (size_t)n, vm->core.reason,
					   sizeof(vm->core.reason));
}

/* ---- actions: each is one cell's worth of work; -1 refuses the event. */

static int sd_act_none(struct sd *d, struct sd_vm *vm)
{
	return 0;
}

static int sd_act_start(struct sd *d, struct sd_vm *vm)
{
	struct sp_spawn_opts o = {.stderr_fd = -1, .keep_fd = -1, .die_with_parent = false};

	/* A plan that a switch changed while the VM ran applies now. */
	if (vm->next_plan) {
		vm->cfg = vm->next_cfg;
		vm->inst = vm->next_inst;
		vm->plan = vm->next_plan;
		vm->next_cfg = NULL;
		vm->next_inst = NULL;
		vm->next_plan = NULL;
	}
	if (sd_rules_check(d, vm, &vm->refusal) < 0)
		return -1;
	/* The new VM's descriptors may take the numbers its predecessor's
	 * had (a restart starts it inside the old one's exit event): the
	 * loop must not hand this turn's poll results to them. */
	d->epoch++;
	vm->console_from = sd_console_size(vm);
	sp_vm_init(&vm->core, vm->plan);
	if (sp_vm_start(&vm->core, &o, &vm->refusal) < 0)
		return -1;
	vm->pidfd = sd_pidfd_open(vm->core.pid);
	vm->adopted = false;
	vm->stop_requested = false;
	vm->start_failed = false;
	vm->state = SD_STARTING;
	vm->started_at = time(NULL);
	vm->ready_until = sp_now_ms() + d->ready_ms;
	vm->restart_at = 0;
	return 0;
}

/* A client's stop: asked of the guest, or with `now`, of the VMM. */
static int sd_vm_stopping(struct sd_vm *vm, bool now)
{
	vm->stop_requested = true;
	vm->restart_at = 0;
	vm->state = SD_STOPPING;
	sp_vm_stop(&vm->core, now);
	return 0;
}

static int sd_act_stop(struct sd *d, struct sd_vm *vm)
{
	return sd_vm_stopping(vm, false);
}

static int sd_act_kill(struct sd *d, struct sd_vm *vm)
{
	return sd_vm_stopping(vm, true);
}

/* A start of an instance that runs is refused, not queued. */
static int sd_act_busy(struct sd *d, struct sd_vm *vm)
{
	sp_err_set(&vm->refusal, "instance %s is already %s", vm->inst->name,
		   sd_state_name(vm->state));
	return -1;
}

/* A stop of a stopped or failed instance: a pending restart is off. */
static int sd_act_cancel(struct sd *d, struct sd_vm *vm)
{
	vm->restart_at = 0;
	return 0;
}

static int sd_act_ready(struct sd *d, struct sd_vm *vm)
{
	vm->state = SD_RUNNING;
	return 0;
}

static int sd_act_timeout(struct sd *d, struct sd_vm *vm)
{
	snprintf(vm->core.reason, sizeof(vm->core.reason),
		 "the guest did not report ready within %d s (see spectrum logs %s)",
		 (int)(d->ready_ms / 1000), vm->inst->name);
	vm->start_failed = true;
	vm->state = SD_STOPPING;
	sp_vm_stop(&vm->core, true);
	return 0;
}

/* An on-failure restart, at most five in any minute. */
static void sd_vm_maybe_restart(struct sd_vm *vm)
{
	struct sp_vm *c = &vm->core;
	long now = sp_now_ms();

	if (!vm->inst->restart_on_failure || vm->stop_requested || vm->state != SD_FAILED)
		return;
	if (vm->restart_times[0] && now - vm->restart_times[0] < 60000) {
		snprintf(c->reason + strlen(c->reason), sizeof(c->reason) - strlen(c->reason),
			 "; not restarted: it failed 5 times within a minute");
		return;
	}
	memmove(vm->restart_times, vm->restart_times + 1, sizeof(vm->restart_times) - sizeof(long));
	vm->restart_times[4] = now;
	vm->restart_at = now + SD_RESTART_DELAY_MS;
}

static int sd_act_exited(struct sd *d, struct sd_vm *vm)
{
	struct sp_vm *c = &vm->core;
	bool unexplained = c->status < 0 && !c->reason[0]; /* by the guest or by us */
	int st = 0;

	/* An adopted VMM is init's child: no status, and its logger is not
	 * ours to wait for. */
	if (!vm->adopted && waitpid(c->pid, &st, WNOHANG) == c->pid && unexplained &&
	    (WIFSIGNALED(st) || WEXITSTATUS(st)))
		sp_vm_exit_reason(c, st, c->reason, sizeof(c->reason));
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	vm->pidfd = -1;
	if (vm->display_pidfd >= 0)
		close(vm->display_pidfd);
	vm->display_pidfd = -1;
	sp_vm_ended(c); /* waits for our logger: the console log is whole */
	/* A kernel panic comes before the VMM's exit status, which may be a
	 * failure on what the dying guest left ("Guest moved used index"),
	 * but not before the VMM's sandbox killing it. */
	if (unexplained && !(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) && sd_vm_panic(vm))
		unexplained = false;
	if (unexplained && !c->reason[0])
		snprintf(c->reason, sizeof(c->reason), "the VM stopped without reporting a status");
	/* A VM stopped because its display relay died has failed, whatever
	 * its guest said. */
	vm->state =
		(vm->stop_requested || c->status == 0) && !vm->start_failed && !c->display_lost ?
			SD_STOPPED :
			SD_FAILED;
	sd_vm_maybe_restart(vm);
	return 0;
}

typedef int sd_action(struct sd *d, struct sd_vm *vm);

/*
 * What each event does in each state.  Events that a state cannot see
 * (a guest's "ready" with no VM) or that change nothing there (a second
 * stop while stopping: the escalation is already armed) are sd_act_none.
 */
/* One row per state: the table is read as a table. */
/* clang-format off */
static sd_action *const sd_actions[SD_NSTATES][SD_NEVENTS] = {
	/*               START         STOP           KILL           READY         EXITED         TIMEOUT */
	[SD_STOPPED]  = {sd_act_start, sd_act_cancel, sd_act_cancel, sd_act_none,  sd_act_none,   sd_act_none},
	[SD_STARTING] = {sd_act_busy,  sd_act_stop,   sd_act_kill,   sd_act_ready, sd_act_exited, sd_act_timeout},
	[SD_RUNNING]  = {sd_act_busy,  sd_act_stop,   sd_act_kill,   sd_act_none,  sd_act_exited, sd_act_none},
	[SD_STOPPING] = {sd_act_busy,  sd_act_none,   sd_act_kill,   sd_act_none,  sd_act_exited, sd_act_none},
	[SD_FAILED]   = {sd_act_start, sd_act_cancel, sd_act_cancel, sd_act_none,  sd_act_none,   sd_act_none},
};
/* clang-format on */

int sd_vm_event(struct sd *d, struct sd_vm *vm, enum sd_event ev)
{
	enum sd_state before = vm->state;
	int rc = sd_actions[vm->state][ev](d, vm);

	/* The one place where a waiting client learns of a change. */
	if (vm->state != before)
		sd_server_settle(d, vm);
	return rc;
}

/* ---- what the loop sees of a VM */

void sd_vm_control(struct sd *d, struct sd_vm *vm)
{
	if (sp_vm_control_read(&vm->core) && vm->core.ready)
		sd_vm_event(d, vm, SD_EV_READY);
}

void sd_vm_pidfd(struct sd *d, struct sd_vm *vm)
{
	/* Drain what the guest said last (its exit status). */
	while (vm->core.control >= 0) {
		struct pollfd p = {vm->core.control, POLLIN, 0};
		if (poll(&p, 1, 0) <= 0)
			break;
		sd_vm_control(d, vm); /* a "ready" still counts, before the exit */
	}
	sd_vm_event(d, vm, SD_EV_EXITED);
}

/* An adopted VM's relay ended; its status is not ours to know, so the
 * VM gets the grace of a clean end (lib/vm.h) and is stopped after it. */
void sd_vm_display_pidfd(struct sd *d, struct sd_vm *vm)
{
	close(vm->display_pidfd);
	vm->display_pidfd = -1;
	sp_vm_display_gone(&vm->core);
}

void sd_vm_tick(struct sd *d, struct sd_vm *vm, long now)
{
	/* A switch's restart: started again, with its new plan, once stopped.
	 * Here, after the loop has handled the descriptors it polled, never
	 * within their events: the new VM's descriptors may reuse the
	 * numbers of the old one's, whose poll results would be taken for
	 * theirs. */
	if (vm->restart_pending && !sd_vm_active(vm)) {
		vm->restart_pending = false;
		vm->restart_at = 0;
		if (sd_vm_event(d, vm, SD_EV_START) < 0)
			snprintf(vm->core.reason, sizeof(vm->core.reason),
				 "restart after a switch failed: %.200s", vm->refusal.msg);
	}
	if (vm->state == SD_STARTING && now > vm->ready_until)
		sd_vm_event(d, vm, SD_EV_TIMEOUT);
	if (sd_vm_active(vm))
		sp_vm_tick(&vm->core, now);
	if (vm->restart_at && now >= vm->restart_at && vm->state == SD_FAILED) {
		vm->restart_at = 0;
		if (sd_vm_event(d, vm, SD_EV_START) < 0)
			snprintf(vm->core.reason, sizeof(vm->core.reason), "restart failed: %.200s",
				 vm->refusal.msg);
	}
}

long sd_vm_deadline(const struct sd_vm *vm, long next)
{
	if (vm->state == SD_STARTING && vm->ready_until < next)
		next = vm->ready_until;
	if (sd_vm_active(vm) && vm->core.kill_at && vm->core.kill_at < next)
		next = vm->core.kill_at;
	if (sd_vm_active(vm) && vm->core.display_gone_at &&
	    vm->core.display_gone_at + SP_VM_DISPLAY_GRACE_MS < next)
		next = vm->core.display_gone_at + SP_VM_DISPLAY_GRACE_MS;
	if (vm->restart_at && vm->restart_at < next)
		next = vm->restart_at;
	return next;
}

/*
 * An adopted VM's display relay, found by its pid file like the VMM (its
 * start time and its relay uid must match) and watched through a pidfd.
 * A VM with a display whose relay is gone is given the grace of a clean
 * end and then stopped: never left running with a half-dead display.
 */
static void sd_vm_adopt_display(struct sd_vm *vm)
{
	pid_t pid;

	if (!vm->plan->display.enabled)
		return;
	pid = sp_rundir_relay_pid_read(vm->plan);
	if (pid > 0)
		vm->display_pidfd = sd_pidfd_open(pid);
	if (vm->display_pidfd >= 0)
		vm->core.display = pid; /* not our child: never waited for */
	else
		sp_vm_display_gone(&vm->core);
}

/*
 * The VMMs a dead daemon left running: each one's pid file (root's,
 * rundir.h) names its pid and start time, which must still match, and it
 * must run as the instance's VMM uid, so a recycled pid is never taken
 * for it.  Nothing of the back end's command line is read.
 */
void sd_vm_adopt_all(struct sd *d)
{
	for (size_t i = 0; i < d->nvms; i++) {
		struct sd_vm *vm = &d->vms[i];
		time_t started;
		pid_t pid = sp_rundir_pid_read(vm->plan, &started);
		if (pid <= 0)
			continue;
		vm->pidfd = sd_pidfd_open(pid);
		if (vm->pidfd < 0)
			continue;
		sp_vm_init(&vm->core, vm->plan);
		vm->core.pid = pid;
		vm->adopted = true;
		vm->state = SD_RUNNING; /* its guest said "ready" to the last daemon */
		vm->started_at = started;
		sp_vm_control_connect(&vm->core);
		sd_vm_adopt_display(vm);
		fprintf(stderr, "spectrumd: adopted %s (pid %d)\n", vm->inst->name, (int)pid);
	}
}

/* On SIGCHLD: reap the loggers, file servers and display relays (the
 * VMMs are reaped by sd_act_exited, which wants their status).  A relay
 * that failed stops its VM (sp_vm_display_reap); the VM's exit then makes
 * it failed, and restarted per its policy. */
void sd_vm_reap_helpers(struct sd *d)
{
	for (size_t i = 0; i < d->nvms; i++) {
		struct sp_vm *c = &d->vms[i].core;
		if (c->logger > 0 && waitpid(c->logger, NULL, WNOHANG) == c->logger)
			c->logger = -1;
		sp_vm_display_reap(c);
		for (size_t j = 0; j < c->nfs; j++)
			if (c->fs_pids[j] > 0 &&
			    waitpid(c->fs_pids[j], NULL, WNOHANG) == c->fs_pids[j])
				c->fs_pids[j] = 0;
	}
}

long sd_vm_rss_kib(const struct sd_vm *vm)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)vm->core.pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}
