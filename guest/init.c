/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-init: PID 1 of every Spectrum guest.  It loads the modules,
 * opens the control port, reads the guest configuration from the
 * initramfs, mounts the root and the instance's file systems, runs the
 * commands, reaps, reports to the host and powers off.  See
 * spectrum-init(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

#define CONFIG_PATH "/spectrum/config"

int64_t gi_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gi_sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int gi_read_file(const char *path, char *buf, size_t size, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == size) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	buf[got] = '\0';
	*len = got;
	return 0;
}

GI_PRINTF(4, 0)
static void vformat(char *buf, size_t len, enum sp_gp_stage stage, const char *fmt, va_list ap)
{
	int n = snprintf(buf, len, "%s: ", sp_gp_stage_name(stage));

	if (n > 0 && (size_t)n < len)
		vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	/* One line, whatever a path or a value of the file held. */
	for (char *s = buf; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void say(const char *msg)
{
	dprintf(STDERR_FILENO, "spectrum-init: %s\n", msg);
}

void gi_note(enum sp_gp_stage stage, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vformat(msg, sizeof(msg), stage, fmt, ap);
	va_end(ap);
	say(msg);
}

_Noreturn static void power_off(void)
{
	int fd;

	sync();
	/* The console carries the application's output; the kernel's
	 * "reboot: Power down" (an emergency-level line) is noise there. */
	fd = open("/proc/sys/kernel/printk", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "0", 1) < 0) {
			/* best effort */
		}
		close(fd);
	}
	reboot(RB_POWER_OFF);
	/* Not allowed to (a container): the kernel panics when PID 1 exits,
	 * which ends the machine too with panic=-1. */
	_exit(1);
}

void gi_fail(enum sp_gp_stage stage, const char *fmt, ...)
{
	char msg[1024], line[SP_GP_LINE_MAX + 2];
	va_list ap;

	va_start(ap, fmt);
	vformat(msg, sizeof(msg), stage, fmt, ap);
	va_end(ap);
	say(msg);
	/* A failure before the port was looked for (the modules' stage)
	 * is reported if virtio_console is loaded: the port can appear. */
	if (!gi_control_searched() && access("/sys/class/virtio-ports", F_OK) == 0)
		gi_control_find(true);
	/* Nothing that started may outlive the report: the host may stop
	 * the machine as soon as it has it. */
	kill(-1, SIGKILL);
	sync();
	/* "error STAGE TEXT": vformat wrote "STAGE: TEXT".  The line is cut
	 * to what the host reads, which discards a longer one whole. */
	sp_gp_error_line(line, sizeof(line), stage, msg + strlen(sp_gp_stage_name(stage)) + 2);
	gi_control_send(line, GI_REPORT_WAIT_MS);
	power_off();
}

static void read_config(struct gi_config *cfg)
{
	static char buf[GI_CONFIG_MAX + 1];
	char err[GI_ERR_MAX];
	size_t len;

	if (gi_read_file(CONFIG_PATH, buf, sizeof(buf), &len) < 0)
		gi_fail(SP_GP_STAGE_CONFIG, CONFIG_PATH ": %s",
			errno == EFBIG ? "larger than 1 MiB" : strerror(errno));
	if (gi_config_parse(buf, len, cfg, err, sizeof(err)) < 0)
		gi_fail(SP_GP_STAGE_CONFIG, CONFIG_PATH ": %s", err);
}

struct child {
	pid_t pid;
	bool running;
	int status; /* as the host sees it: exit code, or 128 + signal */
};

/* fork, setsid, execve; an exec failure comes back through a pipe that
 * the exec closes, so it is reported before any other command starts. */
static pid_t start(const struct gi_cmd *cmd, char **env)
{
	int pipefd[2], err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		gi_fail(SP_GP_STAGE_EXEC, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		gi_fail(SP_GP_STAGE_EXEC, "fork: %s", strerror(errno));
	if (pid == 0) {
		sigset_t none;
		int fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Its own session and process group: "poweroff" signals the
		 * whole group. */
		setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd < 0 || dup2(fd, STDIN_FILENO) < 0) {
			err = errno;
		} else {
			if (fd != STDIN_FILENO)
				close(fd);
			execve(cmd->argv[0], cmd->argv, env);
			err = errno;
		}
		(void)!write(pipefd[1], &err, sizeof(err));
		_exit(125);
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(err))
		gi_fail(SP_GP_STAGE_EXEC, "%s: %s", cmd->argv[0], strerror(err));
	return pid;
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

/* Reaps every child that has exited, commands and adopted orphans alike;
 * returns how many commands are still running. */
static size_t reap(struct child *ch, size_t n)
{
	size_t running = 0;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (size_t i = 0; i < n; i++)
			if (ch[i].running && ch[i].pid == pid) {
				ch[i].running = false;
				ch[i].status = status_code(status);
			}
	for (size_t i = 0; i < n; i++)
		running += ch[i].running;
	return running;
}

static void signal_groups(const struct child *ch, size_t n, int sig)
{
	for (size_t i = 0; i < n; i++)
		if (ch[i].running)
			kill(-ch[i].pid, sig);
}

/*
 * Several applications (app lines): "app NAME N" to the host for each one
 * whose commands have all ended, once, N being its first command's status
 * (as for one application).  The first application to fail gives the
 * instance's status, *status; 0 while none has.
 */
static void report_apps(const struct gi_config *cfg, const struct child *ch, bool *reported,
			int *status)
{
	char line[SP_GP_APP_NAME_MAX + 16];

	for (size_t a = 0; a < cfg->napps; a++) {
		size_t first = cfg->ncmds;
		bool running = false;

		for (size_t i = 0; i < cfg->ncmds; i++)
			if (cfg->cmds[i].app == (int)a) {
				first = first < i ? first : i;
				running |= ch[i].running;
			}
		if (reported[a] || running || first == cfg->ncmds)
			continue;
		reported[a] = true;
		if (ch[first].status != 0 && *status == 0)
			*status = ch[first].status;
		sp_gp_app_line(line, sizeof(line), cfg->apps[a], ch[first].status);
		gi_control_send(line, GI_REPORT_WAIT_MS);
	}
}

/*
 * Runs until every command has exited (no bound: that is the instance's
 * life), or until the host's "poweroff": SIGTERM to every command's
 * group, SIGKILL GI_TERM_WAIT_MS later, and GI_KILL_WAIT_MS after that the
 * init stops waiting.
 */
static void supervise(const struct gi_config *cfg, struct child *ch, int sigfd, bool *reported,
		      int *app_status)
{
	int64_t kill_at = -1, give_up_at = -1;
	bool host_away = false;
	size_t n = cfg->ncmds;

	while (reap(ch, n) > 0) {
		report_apps(cfg, ch, reported, app_status);
		struct pollfd fds[2] = {{.fd = sigfd, .events = POLLIN},
					{.fd = gi_control_fd(), .events = POLLIN}};
		/* While the host is away the port reports POLLHUP at once:
		 * look at it again once a second instead. */
		nfds_t nfds = gi_control_fd() >= 0 && !host_away ? 2 : 1;
		int timeout = gi_control_fd() >= 0 && host_away ? 1000 : -1;
		int64_t now = gi_now_ms(), until = give_up_at >= 0 ? give_up_at : kill_at;
		int req = 0;

		if (until >= 0)
			timeout = until <= now ? 0 : (int)(until - now);
		if (poll(fds, nfds, timeout) < 0 && errno != EINTR)
			gi_fail(SP_GP_STAGE_EXEC, "poll: %s", strerror(errno));
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) > 0)
				;
		}
		host_away = false;
		if (nfds == 2 && fds[1].revents & (POLLIN | POLLHUP | POLLERR))
			req = gi_control_read();
		else if (nfds == 1 && gi_control_fd() >= 0)
			req = gi_control_read();
		if (req & GI_CTL_HUP)
			host_away = true;
		if (req & GI_CTL_POWEROFF && kill_at < 0) {
			signal_groups(ch, n, SIGTERM);
			kill_at = gi_now_ms() + GI_TERM_WAIT_MS;
		}
		now = gi_now_ms();
		if (give_up_at < 0 && kill_at >= 0 && now >= kill_at) {
			signal_groups(ch, n, SIGKILL);
			give_up_at = now + GI_KILL_WAIT_MS;
		}
		if (give_up_at >= 0 && now >= give_up_at) {
			/* In the kernel, out of reach of SIGKILL: report it as
			 * killed and go. */
			for (size_t i = 0; i < n; i++)
				if (ch[i].running) {
					ch[i].status = 128 + SIGKILL;
					ch[i].running = false; /* ended, for report_apps */
				}
			return;
		}
	}
}

/* Stops what the commands left behind (daemons, orphans), within a bound. */
static void stop_the_rest(void)
{
	int64_t deadline = gi_now_ms() + 1000;

	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) >= 0 && gi_now_ms() < deadline)
		gi_sleep_ms(GI_POLL_MS);
}

/*
 * Free page reporting (the host's virtio-balloon, free-page-reporting=on):
 * the kernel reports a free block of 2^order pages only while its zone
 * keeps 32 such blocks above the low watermark.  Without huge pages the
 * order is 10 (4 MiB blocks), which asks for 128 MiB free: a small guest
 * never reports anything.  Order 7 (512 KiB blocks) asks for 16 MiB.  The
 * kernel command line cannot set it (the driver's registration overrides
 * it), so it is set here; a kernel without reporting has no such file.
 */
static void page_reporting_order(void)
{
	int fd = open("/sys/module/page_reporting/parameters/page_reporting_order",
		      O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "7\n", 2) != 2)
		fprintf(stderr, "spectrum-init: page_reporting_order: %s\n", strerror(errno));
	close(fd);
}

int main(void)
{
	struct gi_config cfg;
	bool reported[GI_APPS_MAX] = {false};
	int app_status = 0;
	struct child *ch;
	sigset_t chld;
	char line[32];
	int sigfd;
	int64_t deadline;

	/* On a host, the last stage would power it off. */
	if (getpid() != 1) {
		fputs("spectrum-init: not process 1; this is the init of a Spectrum guest\n",
		      stderr);
		return 1;
	}
	/* SIGCHLD is read from a signalfd, in the poll of supervise(). */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	gi_mount_kernel_fs();
	page_reporting_order();
	/* The modules and the control port come before the configuration
	 * (which needs neither), so that a configuration the init refuses is
	 * reported to the host as such. */
	gi_modules_load(NULL);
	gi_control_find(false);
	read_config(&cfg);
	/* Before the root: USB devices enumerate while it mounts. */
	for (size_t i = 0; i < cfg.ngroups; i++)
		gi_modules_load(cfg.groups[i]);
	if (sethostname(cfg.hostname, strlen(cfg.hostname)) < 0)
		gi_fail(SP_GP_STAGE_CONFIG, "sethostname %s: %s", cfg.hostname, strerror(errno));

	deadline = gi_now_ms() + GI_DEVICE_WAIT_MS;
	gi_mount_root(&cfg, deadline);
	gi_volumes_prepare(&cfg, deadline);
	gi_switch_root();
	gi_mount_all(&cfg, deadline);
	gi_net_setup(&cfg, deadline);
	gi_display_setup(&cfg);

	sigfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigfd < 0)
		gi_fail(SP_GP_STAGE_EXEC, "signalfd: %s", strerror(errno));
	ch = calloc(cfg.ncmds, sizeof(*ch));
	if (!ch)
		gi_fail(SP_GP_STAGE_EXEC, "%s", strerror(ENOMEM));

	/* Blocks until the host is there to see what the commands print. */
	gi_control_ready();
	/* Everything on the console before this line is the firmware's,
	 * the kernel's and ours; a host showing only the application's
	 * output starts after it (spectrum-init(8)). */
	say("ready");
	for (size_t i = 0; i < cfg.ncmds; i++) {
		ch[i].pid = start(&cfg.cmds[i], cfg.env);
		ch[i].running = true;
	}
	supervise(&cfg, ch, sigfd, reported, &app_status);

	stop_the_rest();
	gi_mounts_quiesce(&cfg);
	/* Synced before the report: the host may stop the VM on it. */
	sync();
	/* The instance's status: its one application's, or the first of
	 * several to fail (spectrum-init(8)). */
	report_apps(&cfg, ch, reported, &app_status);
	sp_gp_exit_line(line, sizeof(line), cfg.napps ? app_status : ch[0].status);
	gi_control_send(line, GI_REPORT_WAIT_MS);
	power_off();
}
