/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum run FILE INSTANCE: boots one instance in the foreground, copies
 * its console to standard output and exits with the application's status.
 *
 * The guest's control port carries a tiny line protocol (spectrum-init(8)):
 * "ready", "exit N", "error STAGE TEXT" from the guest, "poweroff" to it.
 * Everything read from the guest is untrusted: lines are bounded and
 * parsed strictly; anything else is ignored.
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
#include "guest.h"
#include "launch.h"
#include "net.h"
#include "share.h"

/* Exit statuses of `spectrum run` besides the application's own. */
#define SP_RUN_NO_REPORT 126 /* the VM stopped without reporting a status */

#define SP_CTL_LINE 256

struct sp_run {
	const struct sp_plan *plan;
	pid_t vmm;
	int console;
	int control;
	int vmm_err; /* read end of the VMM's stderr */
	int sigfd;
	char line[SP_CTL_LINE + 1];
	size_t line_len;
	bool line_overflow;
	/* Console output before spectrum-init's "ready" line (firmware,
	 * kernel, init): held back, shown only if the guest never started. */
	char pre[16384];
	size_t prelen;
	bool started;
	char errbuf[4096]; /* the VMM's stderr, for explaining failures */
	size_t errlen;
	int status; /* -1 until the guest reports */
	char stage[32];
	char reason[200];
	bool stopping;
	long kill_at; /* monotonic ms, 0 = none */
	int vmm_status;
	bool vmm_done;
	pid_t fs_pids[SP_LIMIT_BINDINGS]; /* virtiofsd per directory share */
	size_t nfs;
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

/* One complete line from the guest. */
static void sp_control_line(struct sp_run *r, const char *line)
{
	int n, end = 0;

	if (sscanf(line, "exit %d%n", &n, &end) == 1 && line[end] == '\0' && n >= 0 && n <= 255) {
		r->status = n;
	} else if (strncmp(line, "error ", 6) == 0) {
		const char *stage = line + 6, *sp = strchr(stage, ' ');
		size_t slen = sp ? (size_t)(sp - stage) : strlen(stage);
		if (slen >= sizeof(r->stage))
			slen = sizeof(r->stage) - 1;
		memcpy(r->stage, stage, slen);
		r->stage[slen] = '\0';
		snprintf(r->reason, sizeof(r->reason), "%s", sp ? sp + 1 : "");
		r->status = sp_guest_stage_status(r->stage);
	}
	/* "ready" and unknown lines: nothing to do. */
}

static void sp_control_read(struct sp_run *r)
{
	char buf[512];
	ssize_t n = read(r->control, buf, sizeof(buf));

	if (n <= 0) {
		close(r->control);
		r->control = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];
		if (c == '\n') {
			r->line[r->line_len] = '\0';
			if (!r->line_overflow)
				sp_control_line(r, r->line);
			r->line_len = 0;
			r->line_overflow = false;
		} else if (r->line_len < SP_CTL_LINE && c != '\0') {
			r->line[r->line_len++] = c;
		} else {
			r->line_overflow = true;
		}
	}
}

#define SP_READY_LINE "spectrum-init: ready\n"

static void sp_console_hold(struct sp_run *r, const char *buf, size_t n)
{
	char *ready;

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
	if (r->started)
		sp_write_out(buf, (size_t)n);
	else
		sp_console_hold(r, buf, (size_t)n);
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
 * Second, or no answer in time: stop the VMM. */
static void sp_request_stop(struct sp_run *r)
{
	if (r->stopping || r->control < 0) {
		kill(r->vmm, SIGTERM);
		r->kill_at = sp_now_ms() + 5000;
		return;
	}
	r->stopping = true;
	if (write(r->control, "poweroff\n", 9) != 9)
		kill(r->vmm, SIGTERM);
	r->kill_at = sp_now_ms() + 15000;
}

static void sp_signal(struct sp_run *r)
{
	struct signalfd_siginfo si;
	int st = 0;

	if (read(r->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGCHLD) {
		pid_t w = waitpid(r->vmm, &st, WNOHANG);
		/* ECHILD: already reaped; either way the VMM is gone. */
		if (w == r->vmm || (w < 0 && errno == ECHILD)) {
			r->vmm_done = true;
			r->vmm_status = st;
		}
		return;
	}
	sp_request_stop(r);
}

static int sp_run_loop(struct sp_run *r, int timeout_s)
{
	long deadline = timeout_s > 0 ? sp_now_ms() + timeout_s * 1000L : 0;

	while (!r->vmm_done || r->console >= 0 || r->vmm_err >= 0) {
		struct pollfd fds[4] = {
			{r->sigfd, POLLIN, 0},
			{r->console, POLLIN, 0},
			{r->control, POLLIN, 0},
			{r->vmm_err, POLLIN, 0},
		};
		long now = sp_now_ms();
		if (deadline && now > deadline) {
			fprintf(stderr, "spectrum: %s: no result after %d s; stopping the VM\n",
				r->plan->instance, timeout_s);
			deadline = 0;
			sp_request_stop(r);
			r->stopping = true;
		}
		if (r->kill_at && now > r->kill_at && !r->vmm_done) {
			kill(r->vmm, SIGKILL);
			r->kill_at = 0;
		}
		/* After the VMM is gone only drain what is buffered. */
		if (poll(fds, 4, r->vmm_done ? 0 : 200) < 0 && errno != EINTR)
			return -1;
		if (fds[0].revents)
			sp_signal(r);
		if (fds[1].revents)
			sp_console_read(r);
		if (fds[2].revents)
			sp_control_read(r);
		if (fds[3].revents)
			sp_vmm_err_read(r);
		if (r->vmm_done && !(fds[1].revents | fds[3].revents))
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

	if (r->stage[0]) {
		fprintf(stderr, "spectrum: %s: the guest failed at %s: %s\n", r->plan->instance,
			r->stage, r->reason);
		return r->status;
	}
	if (r->status >= 0)
		return r->status;
	if (sp_launch_explain(r->plan, r->errbuf, why, sizeof(why))) {
		fprintf(stderr, "spectrum: %s: %s\n", r->plan->instance, why);
		return SP_EXIT_SYSTEM;
	}
	if (r->vmm_done && WIFSIGNALED(r->vmm_status) && WTERMSIG(r->vmm_status) == SIGSYS)
		fprintf(stderr,
			"spectrum: %s: the VMM was killed by its sandbox (SIGSYS: a system call -sandbox forbids)\n",
			r->plan->instance);
	else if (r->vmm_done && WIFSIGNALED(r->vmm_status) && !r->stopping)
		fprintf(stderr, "spectrum: %s: the VMM was killed by signal %d (%s)\n",
			r->plan->instance, WTERMSIG(r->vmm_status),
			strsignal(WTERMSIG(r->vmm_status)));
	else if (r->errlen)
		fprintf(stderr, "spectrum: %s: the VMM failed: %s\n", r->plan->instance,
			sp_last_line(r->errbuf, r->errlen));
	else {
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

static int sp_run_start(struct sp_run *r, const struct sp_argv *argv)
{
	struct sp_err err = {0};
	int errpipe[2];
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (r->sigfd < 0 || pipe2(errpipe, O_CLOEXEC) < 0) {
		sp_warnx("%s", strerror(errno));
		return -1;
	}
	if (sp_launch_shares(r->plan, r->fs_pids, &err) < 0) {
		sp_warnx("%s: %s", r->plan->instance, err.msg);
		return -1;
	}
	r->nfs = r->plan->nshares;
	if (sp_launch_spawn(r->plan, argv, errpipe[1], -1, &r->vmm, &err) < 0) {
		sp_warnx("%s: %s", r->plan->instance, err.msg);
		return -1;
	}
	close(errpipe[1]);
	r->vmm_err = errpipe[0];
	/* Console first: the guest starts its application only after the
	 * control port is connected, so no output is lost. */
	r->console = sp_unix_connect_wait(r->plan->console_socket, 10000, r->vmm, &err);
	if (r->console >= 0)
		r->control = sp_unix_connect_wait(r->plan->control_socket, 10000, r->vmm, &err);
	return 0;
}

static int sp_run_plan(const struct sp_plan *p, int timeout_s)
{
	struct sp_run r = {.plan = p, .console = -1, .control = -1, .vmm_err = -1, .status = -1};
	struct sp_err err = {0};
	struct sp_argv argv;
	int lock = -1, rc;

	sp_argv_init(&argv);
	if (sp_backend_get(p->hypervisor)->build(p, &argv, &err) < 0) {
		fprintf(stderr, "spectrum: %s: %s\n", p->instance, err.msg);
		sp_argv_free(&argv);
		return SP_EXIT_INVALID;
	}
	if (sp_launch_prepare(p, &lock, &err) < 0) {
		fprintf(stderr, "spectrum: %s: %s\n", p->instance, err.msg);
		sp_argv_free(&argv);
		return SP_EXIT_SYSTEM;
	}
	if (sp_run_start(&r, &argv) < 0 || sp_run_loop(&r, timeout_s) < 0)
		rc = SP_EXIT_SYSTEM;
	else
		rc = sp_run_result(&r);
	if (!r.vmm_done && r.vmm > 0) {
		kill(r.vmm, SIGKILL);
		waitpid(r.vmm, NULL, 0);
	}
	for (size_t i = 0; i < r.nfs; i++) {
		kill(r.fs_pids[i], SIGTERM);
		waitpid(r.fs_pids[i], NULL, 0);
	}
	/* The VMM is gone, and its taps with it: a segment no other
	 * instance uses goes too. */
	if (p->vmm_uid && r.vmm > 0)
		sp_net_release(p);
	sp_devices_release(p->run_dir);
	unlink(p->initrd);
	close(lock);
	sp_argv_free(&argv);
	return rc;
}

int sp_cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct sp_plans *plans;
	struct sp_config *cfg;
	int timeout = 0, c, rc = SP_EXIT_OK;
	unsigned long secs;
	const char *pos[2] = {NULL, NULL};
	size_t npos = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1 || optind < argc) {
		if (c == -1) {
			/* positional arguments; options may follow them */
			if (npos == 2)
				return sp_usage_error("run", "too many arguments");
			pos[npos++] = argv[optind++];
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
	rc = sp_run_plan(&plans->v[0], timeout);
	sp_plans_free(plans);
	sp_config_free(cfg);
	return rc;
}
