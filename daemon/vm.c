/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One VMM process per running instance.  The VMM is started in a session
 * of its own and holds the instance lock, its console log and its pid
 * file itself, so that it keeps running, and stays findable, when the
 * daemon dies; a restarted daemon adopts it (sd_vm_adopt_all).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "daemon.h"
#include "guest.h"
#include "launch.h"
#include "net.h"
#include "share.h"

#define SD_CONNECT_MS 15000
#define SD_POWEROFF_MS 20000 /* the guest's own stop: SIGTERM, 5 s, SIGKILL */
#define SD_TERM_MS 5000
#define SD_RESTART_DELAY_MS 1000

static int sd_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

bool sd_vm_active(const struct sd_vm *vm)
{
	return vm->state == SD_STARTING || vm->state == SD_RUNNING || vm->state == SD_STOPPING;
}

static int sd_vm_control_connect(struct sd_vm *vm)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (vm->control >= 0)
		return 0;
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

static int sd_vm_spawn(struct sd_vm *vm, int lock, char *why, size_t len)
{
	const struct sp_plan *p = vm->plan;
	struct sp_err err = {0};
	struct sp_argv argv;
	char log[4096];
	int logfd, rc = -1;

	sp_argv_init(&argv);
	if (sp_backend_get(p->hypervisor)->build(p, &argv, &err) < 0) {
		snprintf(why, len, "%s", err.msg);
		goto out;
	}
	/* The VMM's own messages go to a file that outlives the daemon. */
	snprintf(log, sizeof(log), "%s/vmm.log", p->run_dir);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0) {
		snprintf(why, len, "%s: %s", log, strerror(errno));
		goto out;
	}
	unlink(p->pid_file);
	if (sp_launch_shares(p, vm->fs_pids, &err) < 0) {
		snprintf(why, len, "%s", err.msg);
		close(logfd);
		goto out;
	}
	vm->nfs = p->nshares;
	rc = sp_launch_spawn(p, &argv, logfd, lock, &vm->pid, &err);
	close(logfd);
	if (rc < 0)
		snprintf(why, len, "%s", err.msg);
out:
	sp_argv_free(&argv);
	return rc;
}

int sd_vm_start(struct sd *d, struct sd_vm *vm, char *why, size_t len)
{
	struct sp_err err = {0};
	int lock = -1;

	if (sd_vm_active(vm)) {
		snprintf(why, len, "instance %s is already %s", vm->inst->name, sd_state_name(vm->state));
		return -1;
	}
	if (sd_rules_check(d, vm, why, len) < 0)
		return -1;
	if (sp_launch_prepare(vm->plan, &lock, &err) < 0) {
		snprintf(why, len, "%s", err.msg);
		return -1;
	}
	if (sd_vm_spawn(vm, lock, why, len) < 0) {
		close(lock);
		return -1;
	}
	close(lock); /* the VMM holds it now */
	vm->pidfd = sd_pidfd_open(vm->pid);
	vm->child = true;
	vm->adopted = false;
	vm->stop_requested = false;
	vm->state = SD_STARTING;
	vm->started_at = time(NULL);
	vm->connect_until = sp_now_ms() + SD_CONNECT_MS;
	vm->ready_until = sp_now_ms() + d->ready_ms;
	vm->start_failed = false;
	vm->restart_at = 0;
	vm->kill_at = 0;
	vm->kill_phase = 0;
	vm->status = -1;
	vm->reason[0] = '\0';
	vm->line_len = 0;
	return 0;
}

void sd_vm_stop(struct sd_vm *vm, bool kill_now)
{
	if (!sd_vm_active(vm))
		return;
	vm->stop_requested = true;
	vm->restart_at = 0;
	vm->state = SD_STOPPING;
	if (!kill_now && vm->control >= 0 && write(vm->control, "poweroff\n", 9) == 9) {
		vm->kill_at = sp_now_ms() + SD_POWEROFF_MS;
		vm->kill_phase = 0;
		return;
	}
	kill(vm->pid, SIGTERM);
	vm->kill_at = sp_now_ms() + SD_TERM_MS;
	vm->kill_phase = 1;
}

static void sd_vm_line(struct sd_vm *vm, const char *line)
{
	int n, end = 0;

	if (strcmp(line, "ready") == 0) {
		if (vm->state == SD_STARTING)
			vm->state = SD_RUNNING;
	} else if (sscanf(line, "exit %d%n", &n, &end) == 1 && line[end] == '\0' && n >= 0 &&
		   n <= 255) {
		vm->status = n;
		snprintf(vm->reason, sizeof(vm->reason), "the application exited with status %d", n);
	} else if (strncmp(line, "error ", 6) == 0) {
		char stage[32] = "";
		sscanf(line + 6, "%31s", stage);
		vm->status = sp_guest_stage_status(stage);
		/* Guest text: bounded by the line length, printable by the
		 * client's own escaping (JSON or plain). */
		snprintf(vm->reason, sizeof(vm->reason), "the guest failed: %.200s", line + 6);
	}
}

void sd_vm_control_read(struct sd_vm *vm)
{
	char buf[512];
	ssize_t n = read(vm->control, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close(vm->control);
		vm->control = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			vm->line[vm->line_len] = '\0';
			if (!vm->line_overflow)
				sd_vm_line(vm, vm->line);
			vm->line_len = 0;
			vm->line_overflow = false;
		} else if (vm->line_len < sizeof(vm->line) - 1 && buf[i]) {
			vm->line[vm->line_len++] = buf[i];
		} else {
			vm->line_overflow = true;
		}
	}
}

/* An on-failure restart, at most five in any minute. */
static void sd_vm_maybe_restart(struct sd_vm *vm)
{
	long now = sp_now_ms();

	if (!vm->inst->restart_on_failure || vm->stop_requested || vm->state != SD_FAILED)
		return;
	if (vm->restart_times[0] && now - vm->restart_times[0] < 60000) {
		snprintf(vm->reason + strlen(vm->reason), sizeof(vm->reason) - strlen(vm->reason),
			 "; not restarted: it failed 5 times within a minute");
		return;
	}
	memmove(vm->restart_times, vm->restart_times + 1, sizeof(vm->restart_times) - sizeof(long));
	vm->restart_times[4] = now;
	vm->restart_at = now + SD_RESTART_DELAY_MS;
}

void sd_vm_exited(struct sd *d, struct sd_vm *vm)
{
	int st = 0;

	if (vm->child && waitpid(vm->pid, &st, WNOHANG) == vm->pid && vm->status < 0 &&
	    !vm->reason[0]) {
		if (WIFSIGNALED(st))
			snprintf(vm->reason, sizeof(vm->reason), "the VMM was killed by signal %d",
				 WTERMSIG(st));
		else if (WEXITSTATUS(st))
			snprintf(vm->reason, sizeof(vm->reason), "the VMM exited with status %d (see %s/vmm.log)",
				 WEXITSTATUS(st), vm->plan->run_dir);
	}
	if (vm->status < 0 && !vm->reason[0])
		snprintf(vm->reason, sizeof(vm->reason), "the VM stopped without reporting a status");
	if (vm->pidfd >= 0)
		close(vm->pidfd);
	if (vm->control >= 0)
		close(vm->control);
	/* The file servers end with their VMM's connection; make sure. */
	for (size_t i = 0; i < vm->nfs; i++)
		if (vm->fs_pids[i] > 0)
			kill(vm->fs_pids[i], SIGTERM);
	vm->pidfd = vm->control = -1;
	vm->state = (vm->stop_requested || vm->status == 0) && !vm->start_failed ? SD_STOPPED
										 : SD_FAILED;
	vm->pid = 0;
	vm->kill_at = 0;
	vm->kill_phase = 0;
	unlink(vm->plan->pid_file);
	unlink(vm->plan->initrd);
	sp_devices_release(vm->plan->run_dir);
	/* Its taps went with the VMM; a segment whose bridge has no port
	 * left (the last instance on it stopped) is removed. */
	if (vm->plan->vmm_uid)
		sp_net_release(vm->plan);
	sd_vm_maybe_restart(vm);
	sd_server_settle(d, vm);
}

void sd_vm_tick(struct sd *d, struct sd_vm *vm, long now)
{
	char why[512];

	if (vm->state == SD_STARTING && vm->control < 0) {
		if (sd_vm_control_connect(vm) < 0 && now > vm->connect_until) {
			snprintf(vm->reason, sizeof(vm->reason), "the VMM never opened its control socket");
			sd_vm_stop(vm, true);
			vm->start_failed = true;
		}
	} else if (vm->state == SD_STARTING && now > vm->ready_until) {
		snprintf(vm->reason, sizeof(vm->reason),
			 "the guest did not report ready within %d s (see spectrum logs %s)",
			 (int)(d->ready_ms / 1000), vm->inst->name);
		sd_vm_stop(vm, true);
		vm->start_failed = true;
	}
	if (vm->kill_at && now >= vm->kill_at && sd_vm_active(vm)) {
		kill(vm->pid, vm->kill_phase == 0 ? SIGTERM : SIGKILL);
		vm->kill_phase++;
		vm->kill_at = now + SD_TERM_MS;
	}
	if (vm->restart_at && now >= vm->restart_at && !sd_vm_active(vm)) {
		vm->restart_at = 0;
		if (sd_vm_start(d, vm, why, sizeof(why)) < 0)
			snprintf(vm->reason, sizeof(vm->reason), "restart failed: %.200s", why);
	}
}

/* Is `pid` the VMM of this plan?  Its command line names the instance and
 * our pid file, so a recycled pid is never mistaken for it. */
static bool sd_is_our_vmm(pid_t pid, const struct sp_plan *p)
{
	char path[64], buf[8192];
	bool name = false, pidfile = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		char *next = a + strlen(a) + 1;
		if (next >= buf + n)
			break;
		if (strcmp(a, "-name") == 0 && strcmp(next, p->instance) == 0)
			name = true;
		if (strcmp(a, "-pidfile") == 0 && strcmp(next, p->pid_file) == 0)
			pidfile = true;
	}
	return name && pidfile;
}

void sd_vm_adopt_all(struct sd *d)
{
	for (size_t i = 0; i < d->nvms; i++) {
		struct sd_vm *vm = &d->vms[i];
		FILE *f = fopen(vm->plan->pid_file, "re");
		int pid = 0;
		if (!f)
			continue;
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
		if (pid <= 0 || !sd_is_our_vmm(pid, vm->plan))
			continue;
		vm->pid = pid;
		vm->pidfd = sd_pidfd_open(pid);
		if (vm->pidfd < 0)
			continue;
		vm->child = false;
		vm->adopted = true;
		vm->state = SD_RUNNING; /* its guest said "ready" to the last daemon */
		vm->status = -1;
		/* QEMU wrote the pid file as it started. */
		struct stat st;
		vm->started_at = stat(vm->plan->pid_file, &st) == 0 ? st.st_mtime : time(NULL);
		sd_vm_control_connect(vm);
		fprintf(stderr, "spectrumd: adopted %s (pid %d)\n", vm->inst->name, pid);
	}
}

/* On SIGCHLD: reap the file servers (the VMMs are reaped by sd_vm_exited,
 * which wants their status). */
void sd_vm_reap_helpers(struct sd *d)
{
	for (size_t i = 0; i < d->nvms; i++)
		for (size_t j = 0; j < d->vms[i].nfs; j++)
			if (d->vms[i].fs_pids[j] > 0 &&
			    waitpid(d->vms[i].fs_pids[j], NULL, WNOHANG) == d->vms[i].fs_pids[j])
				d->vms[i].fs_pids[j] = 0;
}

long sd_vm_rss_kib(const struct sd_vm *vm)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)vm->pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}
