/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One VM's life: see vm.h. */
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "display.h"
#include "rundir.h"
#include "share.h"

static void sp_vm_display_control_close(struct sp_vm *vm)
{
	if (vm->display_control >= 0)
		close(vm->display_control);
	vm->display_control = -1;
}

void sp_vm_init(struct sp_vm *vm, const struct sp_plan *p)
{
	memset(vm, 0, sizeof(*vm));
	vm->plan = p;
	vm->logger = -1;
	vm->lock = -1;
	vm->control = -1;
	vm->display_control = -1;
	vm->status = -1;
	vm->app_failed = -1;
	for (size_t i = 0; i < SP_LIMIT_INSTANCE_APPS; i++)
		vm->app_status[i] = -1;
}

int sp_vm_control_connect(struct sp_vm *vm)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (vm->control >= 0)
		return 0;
	/* Root's socket in root's run directory (rundir.h): the path is
	 * ours to follow.  Non-blocking: a guest never stalls the reader. */
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vm->plan->control_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	vm->control = fd;
	return 0;
}

static void sp_vm_unstart(struct sp_vm *vm)
{
	for (size_t i = 0; i < vm->nfs; i++)
		if (vm->fs_pids[i] > 0) {
			kill(vm->fs_pids[i], SIGTERM);
			waitpid(vm->fs_pids[i], NULL, 0);
		}
	vm->nfs = 0;
	if (vm->display > 0)
		sp_display_stop(vm->plan, vm->display);
	vm->display = 0;
	sp_vm_display_control_close(vm);
	if (vm->lock >= 0)
		close(vm->lock);
	vm->lock = -1;
}

static void sp_vm_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int sp_vm_start(struct sp_vm *vm, const struct sp_spawn_opts *o, struct sp_err *err)
{
	const struct sp_plan *p = vm->plan;
	struct sp_spawn_opts so = *o;
	struct sp_vmm_proc proc;
	struct sp_argv argv;
	int rc = SP_VM_ERR_SYSTEM, guest_fd = -1, display_log = -1;

	sp_argv_init(&argv);
	if (sp_backend_get(p->hypervisor)->build(p, &argv, err) < 0) {
		sp_argv_free(&argv);
		return SP_VM_ERR_PLAN;
	}
	if (sp_launch_prepare(p, &vm->lock, err) < 0)
		goto out;
	if (sp_launch_shares(p, vm->fs_pids, err) < 0)
		goto fail;
	vm->nfs = p->nshares;
	/* The display relay before the guest, which may connect at once. */
	if (p->display.enabled &&
	    (sp_display_start(p, &vm->display, &guest_fd, &vm->display_control, &display_log,
			      err) < 0 ||
	     sp_rundir_relay_pid_write(p, vm->display, err) < 0))
		goto fail;
	so.keep_fd = vm->lock;
	so.display_fd = guest_fd;
	so.display_log_fd = display_log;
	rc = sp_launch_spawn(p, &argv, &so, &proc, err);
	sp_vm_close_fd(&guest_fd);    /* the VMM has its copy */
	sp_vm_close_fd(&display_log); /* and the logger its own */
	rc = rc < 0 ? SP_VM_ERR_SYSTEM : 0;
	if (rc < 0) {
		if (proc.pid > 0) {
			kill(proc.pid, SIGKILL);
			waitpid(proc.pid, NULL, 0);
		}
		sp_launch_cleanup(p, proc.logger);
		goto fail;
	}
	vm->pid = proc.pid;
	vm->logger = proc.logger;
	/* The VMM holds the lock now, for as long as it lives. */
	close(vm->lock);
	vm->lock = -1;
	/* The socket was bound before the VMM started: the connection
	 * waits in its backlog until QEMU accepts it. */
	sp_vm_control_connect(vm);
	goto out;
fail:
	sp_vm_close_fd(&guest_fd);
	sp_vm_close_fd(&display_log);
	sp_vm_unstart(vm);
out:
	sp_argv_free(&argv);
	return rc;
}

/* "app NAME N": recorded if NAME is one of the plan's applications that
 * has not reported yet; anything else a guest sends is ignored. */
static void sp_vm_app(struct sp_vm *vm, const struct sp_gp_event *ev)
{
	const struct sp_plan *p = vm->plan;

	for (size_t i = 0; p->apps && i < p->napps && i < SP_LIMIT_INSTANCE_APPS; i++) {
		if (strcmp(p->apps[i].name, ev->app) != 0 || vm->app_status[i] >= 0)
			continue;
		vm->app_status[i] = ev->status;
		vm->app_order[vm->app_reports++] = i;
		if (ev->status != 0 && vm->app_failed < 0)
			vm->app_failed = (int)i;
	}
}

/* The instance's end: its one application's status, or for several the
 * first that failed (which the guest's status is then). */
static void sp_vm_exit(struct sp_vm *vm, int status)
{
	vm->status = status;
	if (!vm->plan->apps)
		snprintf(vm->reason, sizeof(vm->reason), "the application exited with status %d",
			 status);
	else if (vm->app_failed >= 0)
		snprintf(vm->reason, sizeof(vm->reason), "application %s exited with status %d",
			 vm->plan->apps[vm->app_failed].name, vm->app_status[vm->app_failed]);
	else
		snprintf(vm->reason, sizeof(vm->reason),
			 "the %zu applications exited with status %d", vm->plan->napps, status);
}

static void sp_vm_line(struct sp_vm *vm, const char *line)
{
	struct sp_gp_event ev;

	switch (sp_gp_line_parse(line, &ev)) {
	case SP_GP_READY:
		vm->ready = true;
		break;
	case SP_GP_APP:
		sp_vm_app(vm, &ev);
		break;
	case SP_GP_EXIT:
		sp_vm_exit(vm, ev.status);
		break;
	case SP_GP_ERROR:
		vm->status = ev.status;
		snprintf(vm->stage, sizeof(vm->stage), "%s", ev.stage);
		/* Printable already (sp_gp_line_parse) and bounded. */
		snprintf(vm->reason, sizeof(vm->reason), "the guest failed at %s: %s", ev.stage,
			 ev.text);
		break;
	default:
		break; /* a newer guest's line, or garbage: ignored */
	}
}

bool sp_vm_control_read(struct sp_vm *vm)
{
	bool ready = vm->ready;
	int status = vm->status;
	size_t reports = vm->app_reports;
	char buf[512];
	ssize_t n;

	if (vm->control < 0)
		return false;
	n = read(vm->control, buf, sizeof(buf));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		close(vm->control);
		vm->control = -1;
		return false;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			vm->line[vm->line_len] = '\0';
			if (!vm->line_overflow)
				sp_vm_line(vm, vm->line);
			vm->line_len = 0;
			vm->line_overflow = false;
		} else if (vm->line_len < SP_GP_LINE_MAX && buf[i]) {
			vm->line[vm->line_len++] = buf[i];
		} else {
			vm->line_overflow = true;
		}
	}
	return vm->ready != ready || vm->status != status || vm->app_reports != reports;
}

void sp_vm_stop(struct sp_vm *vm, bool now)
{
	static const char poweroff[] = SP_GP_MSG_POWEROFF "\n";

	if (vm->pid <= 0)
		return;
	if (!now && !vm->stopping && vm->control >= 0 &&
	    write(vm->control, poweroff, sizeof(poweroff) - 1) == (ssize_t)sizeof(poweroff) - 1) {
		vm->stopping = true;
		vm->kill_at = sp_now_ms() + SP_VM_POWEROFF_MS;
		vm->kill_phase = 0;
		return;
	}
	vm->stopping = true;
	kill(vm->pid, SIGTERM);
	vm->kill_at = sp_now_ms() + SP_VM_TERM_MS;
	vm->kill_phase = 1;
}

static void sp_vm_display_tick(struct sp_vm *vm, long now);

void sp_vm_tick(struct sp_vm *vm, long now)
{
	sp_vm_display_tick(vm, now);
	if (vm->pid <= 0 || !vm->kill_at || now < vm->kill_at)
		return;
	kill(vm->pid, vm->kill_phase == 0 ? SIGTERM : SIGKILL);
	vm->kill_phase++;
	vm->kill_at = now + SP_VM_TERM_MS;
}

void sp_vm_exit_reason(struct sp_vm *vm, int wstatus, char *out, size_t len)
{
	if (WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGSYS)
		snprintf(
			out, len,
			"the VMM was killed by its sandbox (SIGSYS: a system call -sandbox forbids)");
	else if (WIFSIGNALED(wstatus))
		snprintf(out, len, "the VMM was killed by signal %d (%s)", WTERMSIG(wstatus),
			 strsignal(WTERMSIG(wstatus)));
	else if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus))
		snprintf(out, len, "the VMM exited with status %d (see %s)", WEXITSTATUS(wstatus),
			 vm->plan->vmm_log);
	else
		snprintf(out, len, "the VM stopped without reporting a status");
}

#define SP_PANIC_SIGN "Kernel panic - not syncing: "

bool sp_vm_panic_reason(const struct sp_plan *p, const char *console, size_t len, char *out,
			size_t outlen)
{
	const char *at = memmem(console, len, SP_PANIC_SIGN, strlen(SP_PANIC_SIGN));
	const char *end = console + len;
	char why[200];
	size_t n = 0;

	if (!at)
		return false;
	/* The first such line: the kernel repeats it, in "---[ end ... ]---",
	 * at the end of its dump. */
	for (at += strlen(SP_PANIC_SIGN); at < end && *at != '\n' && *at != '\r'; at++)
		if (n < sizeof(why) - 1)
			why[n++] = *at >= 0x20 && *at < 0x7f ? *at : '?';
	while (n && why[n - 1] == ' ')
		n--;
	if (n >= 5 && memcmp(why + n - 5, " ]---", 5) == 0)
		n -= 5;
	why[n] = '\0';
	if (strstr(why, "emory")) /* "Out of memory", "deadlocked on memory" */
		snprintf(
			out, outlen,
			"the guest's kernel panicked: %s; it has %lluM of memory: give it more (\"memory\" of the instance or its application)",
			why, (unsigned long long)p->memory_mib);
	else
		snprintf(out, outlen, "the guest's kernel panicked: %s", why);
	return true;
}

bool sp_vm_display_reap(struct sp_vm *vm)
{
	int st;

	if (vm->display <= 0 || waitpid(vm->display, &st, WNOHANG) != vm->display)
		return false;
	vm->display = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		sp_vm_display_gone(vm);
		return true;
	}
	if (vm->pid > 0 && !vm->stopping) {
		vm->display_lost = true;
		if (WIFSIGNALED(st))
			snprintf(
				vm->reason, sizeof(vm->reason),
				"its display relay was killed by signal %d (see %s); the VM was stopped",
				WTERMSIG(st), vm->plan->display.log);
		else
			snprintf(
				vm->reason, sizeof(vm->reason),
				"its display relay exited with status %d (see %s); the VM was stopped",
				WEXITSTATUS(st), vm->plan->display.log);
		sp_vm_stop(vm, true);
	}
	return true;
}

void sp_vm_display_gone(struct sp_vm *vm)
{
	vm->display = 0;
	if (vm->pid > 0 && !vm->stopping)
		vm->display_gone_at = sp_now_ms();
}

/* A VM that outlived its display's end by the grace period is stopped. */
static void sp_vm_display_tick(struct sp_vm *vm, long now)
{
	if (!vm->display_gone_at || vm->stopping ||
	    now < vm->display_gone_at + SP_VM_DISPLAY_GRACE_MS)
		return;
	vm->display_gone_at = 0;
	vm->display_lost = true;
	snprintf(
		vm->reason, sizeof(vm->reason),
		"its display relay ended and the VM kept running without its display (see %s); the VM was stopped",
		vm->plan->display.log);
	sp_vm_stop(vm, true);
}

void sp_vm_ended(struct sp_vm *vm)
{
	/* The file servers end with their VMM's connection; make sure. */
	for (size_t i = 0; i < vm->nfs; i++)
		if (vm->fs_pids[i] > 0) {
			kill(vm->fs_pids[i], SIGTERM);
			if (waitpid(vm->fs_pids[i], NULL, WNOHANG) == vm->fs_pids[i])
				vm->fs_pids[i] = 0;
		}
	/* The relay's stream ended with the VMM's; end it and its uid. */
	if (vm->plan->display.enabled)
		sp_display_stop(vm->plan, vm->display);
	vm->display = 0;
	vm->display_gone_at = 0;
	sp_vm_display_control_close(vm);
	sp_launch_cleanup(vm->plan, vm->logger);
	vm->logger = -1;
	if (vm->control >= 0)
		close(vm->control);
	vm->control = -1;
	vm->pid = 0;
	vm->stopping = false;
	vm->kill_at = 0;
	vm->kill_phase = 0;
}
