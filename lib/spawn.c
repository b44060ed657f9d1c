/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a program (see spawn.h).
 *
 * Between fork and exec the child is a copy of a process that may hold
 * locks, buffered output and signal handlers: it calls only
 * async-signal-safe functions, never returns into the caller's code, and
 * ends with _exit().  What it could not do is written to a close-on-exec
 * pipe: the parent reads end-of-file once the exec has succeeded, or one
 * record naming the step that failed and its errno.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* The steps of the child that can fail, in order, and their words. */
enum sp_spawn_step {
	SP_STEP_SESSION,
	SP_STEP_FDS,
	SP_STEP_HOOK,
	SP_STEP_DROP,
	SP_STEP_REGAIN,
	SP_STEP_PARENT,
	SP_STEP_EXEC,
};

static const char *const sp_spawn_step_words[] = {
	[SP_STEP_SESSION] = "new session",
	[SP_STEP_FDS] = "placing descriptors",
	[SP_STEP_HOOK] = "preparing",
	[SP_STEP_DROP] = "dropping privileges",
	[SP_STEP_REGAIN] = "root could be regained after dropping privileges",
	[SP_STEP_PARENT] = "the parent ended",
	[SP_STEP_EXEC] = NULL,
};

/* What the child writes to the report pipe when it fails. */
struct sp_spawn_report {
	int step;
	int err;
};

static char *const sp_spawn_min_env[] = {"PATH=" SP_SPAWN_PATH, NULL};

/*
 * In the child: every descriptor above 2 closes at exec, whatever the
 * caller holds (a client connection, a lock, another VM's console); the
 * placed ones are made inheritable again afterwards by dup2().  The loop
 * is for kernels before close_range (5.11); it stops at the descriptor
 * limit, above which nothing can have been opened under it.
 */
static void sp_spawn_cloexec_all(void)
{
	struct rlimit rl;
	int max = 65536;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (int fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* In the child: handlers the caller installed must not run here, and an
 * ignored or blocked signal must not stay so in the program. */
static void sp_spawn_signals_reset(void)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	/* Fails harmlessly for SIGKILL, SIGSTOP and libc's own. */
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * In the child: in, out, err and fds[] to 0, 1, 2 and want[].  Every
 * source, and the report pipe, is first copied above the highest target,
 * so that no dup2() overwrites a descriptor still to be placed (fds[0]
 * may well be number 5 and want[1] 5).  The copies close at exec.
 */
static int sp_spawn_place(const struct sp_spawn *s, int *report)
{
	int src[3 + SP_SPAWN_FDS_MAX], dst[3 + SP_SPAWN_FDS_MAX];
	int null = -1, base = 3;
	size_t n = 0;

	for (size_t i = 0; i < 3; i++) {
		int fd = i == 0 ? s->in : i == 1 ? s->out : s->err;
		if (fd < 0 && null < 0 && (null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
			return -1;
		src[n] = fd < 0 ? null : fd;
		dst[n++] = (int)i;
	}
	for (size_t i = 0; i < s->nfds; i++) {
		src[n] = s->fds[i];
		dst[n++] = s->want[i];
		if (s->want[i] >= base)
			base = s->want[i] + 1;
	}
	/* Kept where it is if it cannot move, so the failure is still told. */
	int moved = fcntl(*report, F_DUPFD_CLOEXEC, base);
	if (moved < 0)
		return -1;
	*report = moved;
	for (size_t i = 0; i < n; i++)
		if ((src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base)) < 0)
			return -1;
	/* dup2() leaves the targets without FD_CLOEXEC: they are inherited. */
	for (size_t i = 0; i < n; i++)
		if (dup2(src[i], dst[i]) < 0)
			return -1;
	return 0;
}

/* In the child: setgroups() first, while still root; the uid last, as
 * it takes away the right to change the other two. */
static int sp_spawn_drop(const struct sp_spawn *s)
{
	if (setgroups(0, NULL) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
	    setresuid(s->uid, s->uid, s->uid) < 0)
		return -1;
	return 0;
}

/* In the child: like execvpe(), on `search` rather than the caller's
 * PATH.  Returns with errno set: EACCES if some candidate was refused,
 * ENOENT if none exists, or the error of the first that exists. */
static void sp_spawn_exec(const struct sp_spawn *s)
{
	char *const *envp = s->envp ? s->envp : sp_spawn_min_env;
	const char *name = s->argv[0], *p = s->search ? s->search : SP_SPAWN_PATH, *end;
	size_t len = strlen(name);
	bool denied = false;
	char path[PATH_MAX];

	if (strchr(name, '/')) {
		execve(name, s->argv, envp);
		return;
	}
	for (; len; p = end + 1) {
		size_t n;
		end = strchrnul(p, ':');
		n = (size_t)(end - p);
		/* An empty entry is the current directory. */
		if (n == 0) {
			p = ".";
			n = 1;
		}
		if (n + 1 + len < sizeof(path)) {
			memcpy(path, p, n);
			path[n] = '/';
			memcpy(path + n + 1, name, len + 1);
			execve(path, s->argv, envp);
			if (errno == EACCES)
				denied = true;
			else if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP &&
				 errno != ENAMETOOLONG)
				return;
		}
		if (!*end)
			break;
	}
	errno = denied ? EACCES : ENOENT;
}

/* The child: never returns. */
static void sp_spawn_child(const struct sp_spawn *s, int report, pid_t parent)
{
	struct sp_spawn_report r;

	sp_spawn_signals_reset();
	sp_spawn_cloexec_all();
	r.step = SP_STEP_SESSION;
	if (s->new_session && setsid() < 0)
		goto fail;
	r.step = SP_STEP_FDS;
	if (sp_spawn_place(s, &report) < 0)
		goto fail;
	r.step = SP_STEP_HOOK;
	if (s->child_hook && s->child_hook(s->hook_arg) < 0)
		goto fail;
	r.step = SP_STEP_DROP;
	if (s->drop && sp_spawn_drop(s) < 0)
		goto fail;
	/* A uid that can become root again is no drop at all. */
	r.step = SP_STEP_REGAIN;
	if (s->drop && setuid(0) == 0) {
		errno = EPERM;
		goto fail;
	}
	/* After the credentials, whose change clears it; the parent may
	 * have ended before it was set. */
	r.step = SP_STEP_PARENT;
	if (s->die_with_parent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		goto fail;
	if (s->die_with_parent && getppid() != parent) {
		errno = ESRCH;
		goto fail;
	}
	r.step = SP_STEP_EXEC;
	sp_spawn_exec(s);
fail:
	r.err = errno;
	/* No one to tell if this fails: the parent then sees status 127. */
	if (write(report, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(127);
	_exit(127);
}

/* What the caller can get wrong, checked before anything is started. */
static int sp_spawn_check(const struct sp_spawn *s, struct sp_err *err)
{
	if (!s->argv || !s->argv[0]) {
		sp_err_set(err, "spawn: no program given");
		return -1;
	}
	if (s->nfds > SP_SPAWN_FDS_MAX) {
		sp_err_set(err, "cannot run %s: more than %d descriptors to pass", s->argv[0],
			   SP_SPAWN_FDS_MAX);
		return -1;
	}
	for (size_t i = 0; i < s->nfds; i++) {
		bool twice = false;
		for (size_t j = 0; j < i; j++)
			twice |= s->want[j] == s->want[i];
		if (s->want[i] < 3 || twice) {
			sp_err_set(err, "cannot run %s: descriptor %d %s", s->argv[0], s->want[i],
				   twice ? "is asked for twice" :
					   "is one of 0, 1, 2 (in, out, err)");
			return -1;
		}
	}
	return 0;
}

/* The child's report: the step that failed and its errno, into err. */
static void sp_spawn_report_err(const struct sp_spawn *s, const struct sp_spawn_report *r,
				struct sp_err *err)
{
	const char *step =
		r->step >= 0 && r->step <= SP_STEP_EXEC ? sp_spawn_step_words[r->step] : "starting";

	if (step)
		sp_err_set(err, "cannot run %s: %s: %s", s->argv[0], step, strerror(r->err));
	else
		sp_err_set(err, "cannot run %s: %s", s->argv[0], strerror(r->err));
	if (err && r->step == SP_STEP_EXEC && r->err == ENOENT)
		err->missing = true;
}

/* Forks with every signal blocked, so that no handler of the caller runs
 * in the child before sp_spawn_signals_reset(). */
static pid_t sp_spawn_fork(const struct sp_spawn *s, int report, int *fork_errno)
{
	sigset_t all, old;
	pid_t parent = getpid(), pid;

	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0)
		sp_spawn_child(s, report, parent);
	*fork_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	return pid;
}

int sp_spawn_start(const struct sp_spawn *s, pid_t *pid, struct sp_err *err)
{
	struct sp_spawn_report r;
	int pipefd[2], e, status;
	ssize_t n;

	*pid = -1;
	if (sp_spawn_check(s, err) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		e = errno;
		sp_err_set(err, "cannot run %s: %s", s->argv[0], strerror(e));
		errno = e;
		return -1;
	}
	*pid = sp_spawn_fork(s, pipefd[1], &e);
	close(pipefd[1]);
	if (*pid < 0) {
		close(pipefd[0]);
		sp_err_set(err, "cannot run %s: %s", s->argv[0], strerror(e));
		errno = e;
		return -1;
	}
	do
		n = read(pipefd[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	/* End of file: the exec succeeded (or the child was killed before
	 * it, which its status will say). */
	if (n != (ssize_t)sizeof(r))
		return 0;
	sp_spawn_wait(*pid, &status);
	*pid = -1;
	sp_spawn_report_err(s, &r, err);
	errno = r.err;
	return -1;
}

int sp_spawn_wait(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

int sp_spawn_run(const struct sp_spawn *s, struct sp_err *err)
{
	int status;
	pid_t pid;

	if (sp_spawn_start(s, &pid, err) < 0)
		return -1;
	if (sp_spawn_wait(pid, &status) < 0) {
		sp_err_set(err, "cannot wait for %s: %s", s->argv[0], strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		sp_err_set(err, "%s failed (status %d)", s->argv[0], WEXITSTATUS(status));
	else
		sp_err_set(err, "%s was killed by signal %d", s->argv[0], WTERMSIG(status));
	return -1;
}
