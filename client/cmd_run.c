/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum run FILE INSTANCE: boots one instance in the foreground, copies
 * its console to standard output and exits with the application's status.
 *
 * The VM's life (start, the guest's control lines, stop, clean-up) is
 * lib/vm.h's, the same as spectrumd's; this file waits on the terminal
 * and the console, and turns the outcome into an exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "cmd.h"
#include "launch.h"
#include "vm.h"

/* Exit statuses of `spectrum run` besides the application's own. */
#define SP_RUN_NO_REPORT 126 /* the VM stopped without reporting a status */

struct sp_run {
	const struct sp_plan *plan;
	struct sp_vm vm; /* the VM's life (lib/vm.h) */
	int console;
	int vmm_err; /* read end of the VMM's stderr */
	int sigfd;
	/* Console output before spectrum-init's "ready" line (firmware,
	 * kernel, init): held back, shown only if the guest never started.
	 * After it, the console's last bytes, shown as they come: both are
	 * searched for a kernel panic if the guest stops without a word. */
	char pre[16384];
	size_t prelen;
	bool started;
	char errbuf[4096]; /* the VMM's stderr, for explaining failures */
	size_t errlen;
	int vmm_status;
	bool vmm_done;
	size_t apps_shown; /* of vm.app_reports, those already printed */
};

static void sp_write_out(const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* stdout gone: keep running the VM regardless */
		buf += w;
		n -= (size_t)w;
	}
}

#define SP_READY_LINE "spectrum-init: ready\n"

/* Appends to r->pre, dropping its oldest bytes. */
static void sp_console_keep(struct sp_run *r, const char *buf, size_t n)
{
	if (n > sizeof(r->pre) - 1) {
		buf += n - (sizeof(r->pre) - 1);
		n = sizeof(r->pre) - 1;
	}
	if (r->prelen + n > sizeof(r->pre) - 1) {
		size_t drop = r->prelen + n - (sizeof(r->pre) - 1);
		memmove(r->pre, r->pre + drop, r->prelen - drop);
		r->prelen -= drop;
	}
	memcpy(r->pre + r->prelen, buf, n);
	r->prelen += n;
	r->pre[r->prelen] = '\0';
}

static void sp_console_hold(struct sp_run *r, const char *buf, size_t n)
{
	char *ready;

	sp_console_keep(r, buf, n);
	ready = memmem(r->pre, r->prelen, SP_READY_LINE, strlen(SP_READY_LINE));
	if (ready) {
		char *rest = ready + strlen(SP_READY_LINE);
		r->started = true;
		sp_write_out(rest, r->prelen - (size_t)(rest - r->pre));
		r->prelen = 0;
	}
}

static void sp_console_read(struct sp_run *r)
{
	char buf[8192];
	ssize_t n = read(r->console, buf, sizeof(buf));

	if (n <= 0) {
		close(r->console);
		r->console = -1;
		return;
	}
	if (r->started) {
		sp_write_out(buf, (size_t)n);
		sp_console_keep(r, buf, (size_t)n);
	} else {
		sp_console_hold(r, buf, (size_t)n);
	}
}

static void sp_vmm_err_read(struct sp_run *r)
{
	char buf[1024];
	ssize_t n = read(r->vmm_err, buf, sizeof(buf));

	if (n <= 0) {
		close(r->vmm_err);
		r->vmm_err = -1;
		return;
	}
	if (r->errlen + (size_t)n >= sizeof(r->errbuf))
		n = (ssize_t)(sizeof(r->errbuf) - 1 - r->errlen);
	memcpy(r->errbuf + r->errlen, buf, (size_t)n);
	r->errlen += (size_t)n;
	r->errbuf[r->errlen] = '\0';
}

/* First Ctrl-C: ask the guest to stop its application and power off.
 * Second, or no answer in time: stop the VMM (lib/vm.h's grace periods). */
static void sp_request_stop(struct sp_run *r)
{
	sp_vm_stop(&r->vm, r->vm.stopping);
}

static void sp_signal(struct sp_run *r)
{
	struct signalfd_siginfo si;
	int st = 0;

	if (read(r->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGCHLD) {
		pid_t w;
		/* A display relay that failed stops the VM (lib/vm.h). */
		if (sp_vm_display_reap(&r->vm) && r->vm.display_lost)
			fprintf(stderr, "spectrum: %s: %s\n", r->plan->instance, r->vm.reason);
		w = waitpid(r->vm.pid, &st, WNOHANG);
		/* ECHILD: already reaped; either way the VMM is gone. */
		if (w == r->vm.pid || (w < 0 && errno == ECHILD)) {
			r->vmm_done = true;
			r->vmm_status = st;
		}
		return;
	}
	sp_request_stop(r);
}

/* Several applications: each one's end, as the guest reports it, on our
 * standard error (the console is the applications' own). */
static void sp_run_apps(struct sp_run *r)
{
	for (; r->apps_shown < r->vm.app_reports; r->apps_shown++) {
		size_t i = r->vm.app_order[r->apps_shown];
		fprintf(stderr, "spectrum: %s: application %s exited with status %d\n",
			r->plan->instance, r->plan->apps[i].name, r->vm.app_status[i]);
	}
}

static int sp_run_loop(struct sp_run *r, int timeout_s)
{
	long deadline = timeout_s > 0 ? sp_now_ms() + timeout_s * 1000L : 0;

	while (!r->vmm_done || r->console >= 0 || r->vmm_err >= 0) {
		struct pollfd fds[4] = {
			{r->sigfd, POLLIN, 0},
			{r->console, POLLIN, 0},
			{r->vm.control, POLLIN, 0},
			{r->vmm_err, POLLIN, 0},
		};
		long now = sp_now_ms();
		if (deadline && now > deadline) {
			fprintf(stderr, "spectrum: %s: no result after %d s; stopping the VM\n",
				r->plan->instance, timeout_s);
			deadline = 0;
			sp_vm_stop(&r->vm, false);
		}
		if (!r->vmm_done)
			sp_vm_tick(&r->vm, now);
		/* After the VMM is gone only drain what is buffered. */
		if (poll(fds, 4, r->vmm_done ? 0 : 200) < 0 && errno != EINTR)
			return -1;
		if (fds[0].revents)
			sp_signal(r);
		if (fds[1].revents)
			sp_console_read(r);
		if (fds[2].revents && sp_vm_control_read(&r->vm))
			sp_run_apps(r);
		if (fds[3].revents)
			sp_vmm_err_read(r);
		if (r->vmm_done && !(fds[1].revents | fds[2].revents | fds[3].revents))
			break;
	}
	return 0;
}

/* The last non-empty line of the VMM's stderr: a VMM that prints warnings
 * and then fails says why last. */
static const char *sp_last_line(char *buf, size_t len)
{
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	for (size_t i = len; i > 0; i--)
		if (buf[i - 1] == '\n')
			return buf + i;
	return buf;
}

static int sp_run_result(struct sp_run *r)
{
	char why[1024];
	int rc = SP_EXIT_SYSTEM;

	if (r->vm.stage[0]) {
		fprintf(stderr, "spectrum: %s: %s\n", r->plan->instance, r->vm.reason);
		return r->vm.status;
	}
	if (r->vm.status >= 0)
		return r->vm.status;
	if (sp_launch_explain(r->plan, r->errbuf, why, sizeof(why))) {
		fprintf(stderr, "spectrum: %s: %s\n", r->plan->instance, why);
		return SP_EXIT_SYSTEM;
	}
	if (!(r->vmm_done && WIFSIGNALED(r->vmm_status) && WTERMSIG(r->vmm_status) == SIGSYS) &&
	    sp_vm_panic_reason(r->plan, r->pre, r->prelen, why, sizeof(why))) {
		/* Before the VMM's own words (but after its sandbox's):
		 * QEMU may fail on the device state a dying guest left
		 * ("Guest moved used index"). */
		fprintf(stderr, "spectrum: %s: %s\n", r->plan->instance, why);
		rc = SP_RUN_NO_REPORT;
	} else if (r->vmm_done && WIFSIGNALED(r->vmm_status) &&
		   (WTERMSIG(r->vmm_status) == SIGSYS || !r->vm.stopping)) {
		sp_vm_exit_reason(&r->vm, r->vmm_status, why, sizeof(why));
		fprintf(stderr, "spectrum: %s: %s\n", r->plan->instance, why);
	} else if (r->errlen) {
		fprintf(stderr, "spectrum: %s: the VMM failed: %s\n", r->plan->instance,
			sp_last_line(r->errbuf, r->errlen));
	} else {
		fprintf(stderr, "spectrum: %s: the VM stopped without reporting a status\n",
			r->plan->instance);
		rc = SP_RUN_NO_REPORT;
	}
	if (!r->started && r->prelen) {
		/* The guest never got to its application: what it printed is
		 * the best clue (a kernel panic, a firmware error). */
		fprintf(stderr, "spectrum: %s: its console said:\n", r->plan->instance);
		fwrite(r->pre, 1, r->prelen, stderr);
	}
	return rc;
}

static int sp_run_signals(struct sp_run *r)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	return r->sigfd;
}

/* The VM, with its stderr on a pipe of ours and killed if we are. */
static int sp_run_start(struct sp_run *r, int *rc)
{
	struct sp_err err = {0};
	int errpipe[2];
	int started;

	if (sp_run_signals(r) < 0 || pipe2(errpipe, O_CLOEXEC) < 0) {
		sp_warnx("%s", strerror(errno));
		*rc = SP_EXIT_SYSTEM;
		return -1;
	}
	struct sp_spawn_opts o = {.stderr_fd = errpipe[1], .keep_fd = -1, .die_with_parent = true};
	started = sp_vm_start(&r->vm, &o, &err);
	close(errpipe[1]);
	if (started < 0) {
		fprintf(stderr, "spectrum: %s: %s\n", r->plan->instance, err.msg);
		close(errpipe[0]);
		*rc = started == SP_VM_ERR_PLAN ? SP_EXIT_INVALID : SP_EXIT_SYSTEM;
		return -1;
	}
	r->vmm_err = errpipe[0];
	/* The guest starts its application only after the control port is
	 * connected, and the console is connected before: no output is
	 * lost. */
	r->console = sp_unix_connect_wait(r->plan->console_socket, 10000, r->vm.pid, &err);
	return 0;
}

static int sp_run_plan(const struct sp_plan *p, int timeout_s)
{
	struct sp_run r = {.plan = p, .console = -1, .vmm_err = -1, .sigfd = -1};
	int rc;

	sp_vm_init(&r.vm, p);
	if (sp_run_start(&r, &rc) < 0)
		return rc;
	if (sp_run_loop(&r, timeout_s) < 0)
		rc = SP_EXIT_SYSTEM;
	else
		rc = sp_run_result(&r);
	if (!r.vmm_done) {
		kill(r.vm.pid, SIGKILL);
		waitpid(r.vm.pid, NULL, 0);
	}
	sp_vm_ended(&r.vm);
	return rc;
}

int sp_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"timeout", required_argument, NULL, 't'},
		{"disposable", no_argument, NULL, 'd'},
		{NULL, 0, NULL, 0},
	};
	struct sp_plans *plans;
	struct sp_config *cfg;
	struct sp_err err = {0};
	int timeout = 0, c, rc = SP_EXIT_OK;
	bool disposable = false;
	unsigned long secs;
	const char *pos[2] = {NULL, NULL};
	size_t npos = 0;

	opterr = 0;
	/* ":": an option without its value is ':', not an unknown '?'. */
	while ((c = getopt_long(argc, argv, "+:", longopts, NULL)) != -1 || optind < argc) {
		if (c == -1) {
			/* positional arguments; options may follow them */
			if (npos == 2)
				return sp_usage_error("run", "too many arguments");
			pos[npos++] = argv[optind++];
			continue;
		}
		if (c == ':')
			return sp_usage_error("run", "--timeout needs a value (seconds)");
		if (c == 'd') {
			disposable = true;
			continue;
		}
		if (c != 't')
			return sp_usage_error("run", "unknown option '%s'", argv[optind - 1]);
		if (!sp_uint_parse(optarg, 1, 86400, &secs))
			return sp_usage_error("run", "--timeout takes seconds, 1 to 86400");
		timeout = (int)secs;
	}
	if (npos != 2)
		return sp_usage_error("run", "missing FILE or INSTANCE");
	plans = sp_compile_file(pos[0], pos[1], -1, &cfg, &rc);
	if (!plans)
		return rc;
	if (disposable && sp_plan_make_disposable(plans, &plans->v[0], &err) < 0) {
		fprintf(stderr, "%s: %s: error: %s\n", cfg->file, err.place, err.msg);
		rc = SP_EXIT_INVALID;
	} else {
		rc = sp_run_plan(&plans->v[0], timeout);
	}
	sp_plans_free(plans);
	sp_config_free(cfg);
	return rc;
}
