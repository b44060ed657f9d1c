/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/spawn.c: what the child gets (descriptors, signals, session,
 * environment, credentials) and what the caller is told. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"
#include "tap.h"

/* Runs s with its standard output on a pipe; the output into out, the
 * wait status into *status; -1 if it did not start (err says why). */
static int run_capture(struct sp_spawn *s, char *out, size_t len, int *status, struct sp_err *err)
{
	int p[2];
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	s->out = p[1];
	if (sp_spawn_start(s, &pid, err) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	close(p[1]);
	while (got < len - 1 && (n = read(p[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	return sp_spawn_wait(pid, status);
}

/* sh -c SCRIPT, with /dev/null for 0 and 2. */
static struct sp_spawn sh(char **argv, const char *script)
{
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	argv[3] = NULL;
	return (struct sp_spawn){.argv = argv, .in = -1, .out = -1, .err = -1};
}

static bool has_fd(const char *listing, const char *fd)
{
	char word[16];
	const char *p = listing;

	snprintf(word, sizeof(word), "%s\n", fd);
	for (; (p = strstr(p, word)); p++)
		if (p == listing || p[-1] == '\n')
			return true;
	return false;
}

/*
 * Two descriptors whose targets are each other's numbers (6 goes to 5,
 * 5 to 6): placing them one after the other with dup2() alone would
 * lose one.  A descriptor the caller holds without FD_CLOEXEC is not
 * inherited.
 */
static void test_fds(void)
{
	char *argv[4], out[512];
	struct sp_err err = {0};
	int a[2], b[2], status = -1;
	int fds[2] = {6, 5}, want[2] = {5, 6};
	struct sp_spawn s = sh(argv, "read x <&5; echo \"$x\"; read y <&6; echo \"$y\"; "
				     "ls /proc/self/fd");

	/* The pipes out of the way first, then their read ends at 6 and 5. */
	if (pipe(a) < 0 || pipe(b) < 0)
		abort();
	for (int i = 0; i < 2; i++) {
		int ah = fcntl(a[i], F_DUPFD, 40), bh = fcntl(b[i], F_DUPFD, 40);
		close(a[i]);
		close(b[i]);
		a[i] = ah;
		b[i] = bh;
	}
	if (dup2(a[0], 6) < 0 || dup2(b[0], 5) < 0 || dup2(a[0], 20) < 0)
		abort();
	close(a[0]);
	close(b[0]);
	/* Written and closed: a read in the child ends, whatever it reads. */
	if (write(a[1], "from-a\n", 7) != 7 || write(b[1], "from-b\n", 7) != 7)
		abort();
	close(a[1]);
	close(b[1]);
	s.fds = fds;
	s.want = want;
	s.nfds = 2;
	int rc = run_capture(&s, out, sizeof(out), &status, &err);
	TAP_OK(rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "sh with placed fds runs (%s)", rc < 0 ? err.msg : "ok");
	TAP_OK(strncmp(out, "from-a\nfrom-b\n", 14) == 0,
	       "fd 6 is read at 5 and fd 5 at 6: no placement clobbers another");
	TAP_OK(has_fd(out + 14, "5") && has_fd(out + 14, "6"),
	       "the placed fds are open in the child");
	TAP_OK(!has_fd(out + 14, "20"),
	       "an inheritable fd the caller holds (20) is closed at exec");
	if (!has_fd(out + 14, "5") || has_fd(out + 14, "20"))
		printf("#   child output: %s\n", out);
	close(5);
	close(6);
	close(20);
}

static void test_wrong_fds(void)
{
	int rc;
	char *argv[4];
	struct sp_err err = {0};
	int fds[2] = {0, 1}, low[1] = {2}, twice[2] = {7, 7};
	struct sp_spawn s = sh(argv, "exit 0");

	s.fds = fds;
	s.want = low;
	s.nfds = 1;
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "descriptor 2"),
	       "a descriptor placed below 3 is refused: %s", err.msg);
	s.want = twice;
	s.nfds = 2;
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "descriptor 7"),
	       "a descriptor number asked for twice is refused: %s", err.msg);
}

static void test_dev_null(void)
{
	char *argv[4], out[256];
	struct sp_err err = {0};
	int status = -1;
	struct sp_spawn s =
		sh(argv, "readlink /proc/self/fd/0 /proc/self/fd/2; read x || echo eof");

	run_capture(&s, out, sizeof(out), &status, &err);
	TAP_STR(out, "/dev/null\n/dev/null\neof\n", "-1 is /dev/null for stdin and stderr");
}

static void test_status(void)
{
	int rc;
	char *argv[4];
	struct sp_err err = {0};
	struct sp_spawn s = sh(argv, "exit 0");

	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc == 0, "exit 0 is success");
	s = sh(argv, "exit 3");
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0, "exit 3 is a failure");
	TAP_STR(err.msg, "sh failed (status 3)", "which names the program and status");
	s = sh(argv, "kill -KILL $$");
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0, "a killed child is a failure");
	TAP_STR(err.msg, "sh was killed by signal 9", "which names the signal");
}

/* What the caller ignores or blocks is the default again in the child. */
static void test_signals(void)
{
	char *argv[4];
	struct sp_err err = {0};
	struct sp_spawn s = sh(argv, "kill -TERM $$; exit 0");
	sigset_t usr1, old;

	signal(SIGTERM, SIG_IGN);
	sp_spawn_run(&s, &err);
	TAP_STR(err.msg, "sh was killed by signal 15",
		"a signal the caller ignores kills the child");
	signal(SIGTERM, SIG_DFL);

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	s = sh(argv, "kill -USR1 $$; exit 0");
	sp_spawn_run(&s, &err);
	TAP_STR(err.msg, "sh was killed by signal 10",
		"a signal the caller blocks is not blocked in the child");
	sigprocmask(SIG_SETMASK, &old, NULL);
}

static void test_exec_failure(void)
{
	char *argv[2] = {"/nonexistent/spectrum-tool", NULL};
	struct sp_spawn s = {.argv = argv, .in = -1, .out = -1, .err = -1};
	struct sp_err err = {0};
	pid_t pid = 1;
	int rc;

	errno = 0;
	rc = sp_spawn_start(&s, &pid, &err);
	TAP_OK(rc < 0 && errno == ENOENT && pid == -1,
	       "a missing program fails to start, errno ENOENT");
	TAP_STR(err.msg, "cannot run /nonexistent/spectrum-tool: No such file or directory",
		"with the errno's text");
	TAP_OK(err.missing, "and is marked missing");
	rc = waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
	TAP_OK(rc, "the failed child is already waited for");

	argv[0] = "spectrum-no-such-tool";
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0 && err.missing, "a name found nowhere in the search path is missing: %s",
	       err.msg);

	argv[0] = "/etc/passwd";
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0 && !err.missing && strstr(err.msg, "Permission denied"),
	       "a file that is not executable is not 'missing': %s", err.msg);
}

static void write_tool(const char *path, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fprintf(f, "#!/bin/sh\necho \"found $0\"\n");
	fclose(f);
	chmod(path, mode);
}

/* A name is looked up in `search`; a candidate that cannot run is passed
 * over for one that can. */
static void test_search(void)
{
	int rc;
	char dir[] = "/tmp/spectrum-spawn-test.XXXXXX", a[64], b[64], tool[100], search[200],
	     out[256];
	char *argv[2] = {"spectrum-test-tool", NULL};
	struct sp_spawn s = {.argv = argv, .in = -1, .out = -1, .err = -1};
	struct sp_err err = {0};
	int status = -1;

	if (!mkdtemp(dir))
		abort();
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	mkdir(a, 0755);
	mkdir(b, 0755);
	snprintf(tool, sizeof(tool), "%s/spectrum-test-tool", a);
	write_tool(tool, 0644);
	snprintf(tool, sizeof(tool), "%s/spectrum-test-tool", b);
	write_tool(tool, 0755);
	snprintf(search, sizeof(search), "/nonexistent:%s:%s", a, b);
	s.search = search;
	run_capture(&s, out, sizeof(out), &status, &err);
	snprintf(search, sizeof(search), "found %s\n", tool);
	TAP_STR(out, search, "the search path is followed past a file that cannot run");

	snprintf(search, sizeof(search), "%s", a);
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0 && !err.missing && strstr(err.msg, "Permission denied"),
	       "only a file that cannot run: EACCES, not missing (%s)", err.msg);
	s.search = NULL;
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0 && err.missing, "the default search path is the system's only");

	unlink(tool);
	snprintf(tool, sizeof(tool), "%s/spectrum-test-tool", a);
	unlink(tool);
	rmdir(a);
	rmdir(b);
	rmdir(dir);
}

static long session_of(const char *stat)
{
	const char *p = strrchr(stat, ')');
	long pid, pgrp, sid;
	char state;

	if (!p || sscanf(p + 1, " %c %ld %ld %ld", &state, &pid, &pgrp, &sid) != 4)
		return -1;
	return sid;
}

static void test_session(void)
{
	char *argv[4], out[512];
	struct sp_err err = {0};
	struct sp_spawn s = sh(argv, "cat /proc/self/stat");
	int status;

	run_capture(&s, out, sizeof(out), &status, &err);
	TAP_OK(session_of(out) == (long)getsid(0),
	       "without new_session the child is in our session");
	s.new_session = true;
	run_capture(&s, out, sizeof(out), &status, &err);
	TAP_OK(session_of(out) > 0 && session_of(out) != (long)getsid(0),
	       "with new_session it is in a session of its own (%ld, ours %ld)", session_of(out),
	       (long)getsid(0));
}

static void test_env(void)
{
	char *argv[4], out[512];
	char *env[] = {"SPECTRUM_TEST=yes", NULL};
	struct sp_err err = {0};
	struct sp_spawn s = sh(argv, "echo \"$PATH|$HOME|$SPECTRUM_TEST\"");
	int status;

	setenv("HOME", "/root-of-test", 1);
	run_capture(&s, out, sizeof(out), &status, &err);
	TAP_STR(out, SP_SPAWN_PATH "||\n", "the default environment is PATH alone");
	s.envp = env;
	s.search = "/bin:/usr/bin";
	argv[2] = "echo \"$HOME|$SPECTRUM_TEST\"";
	run_capture(&s, out, sizeof(out), &status, &err);
	TAP_STR(out, "|yes\n", "or the one given");
}

static int hook_ok(void *arg)
{
	return write(1, arg, strlen(arg)) < 0 ? -1 : 0;
}

static int hook_fail(void *arg)
{
	errno = EXDEV;
	return -1;
}

static void test_hook(void)
{
	int rc;
	char *argv[4], out[256];
	struct sp_err err = {0};
	struct sp_spawn s = sh(argv, "echo program");
	int status;

	s.child_hook = hook_ok;
	s.hook_arg = "hook\n";
	run_capture(&s, out, sizeof(out), &status, &err);
	TAP_STR(out, "hook\nprogram\n",
		"the hook runs in the child, after the descriptors are placed");
	s.child_hook = hook_fail;
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0, "a failing hook stops the start");
	TAP_STR(err.msg, "cannot run sh: preparing: Invalid cross-device link",
		"with the hook's errno");
}

static void test_drop(void)
{
	int rc;
	char *argv[4], out[256];
	struct sp_err err = {0};
	struct sp_spawn s = sh(argv, "id -u; id -g; id -G");
	int status;

	if (geteuid() != 0) {
		printf("ok %d # SKIP not root: dropping credentials\n", ++tap_n);
		return;
	}
	s.drop = true;
	s.uid = 65534;
	s.gid = 65533;
	run_capture(&s, out, sizeof(out), &status, &err);
	TAP_STR(out, "65534\n65533\n65533\n", "drop: the uid, the gid, and no other group");
	s.uid = 0;
	rc = sp_spawn_run(&s, &err);
	TAP_OK(rc < 0 && strstr(err.msg, "root could be regained"),
	       "a drop that keeps root is refused: %s", err.msg);
}

/* The spawning process ends; its child with die_with_parent is killed.
 * The test is the subreaper, so the orphan comes back to it. */
static void test_die_with_parent(void)
{
	int p[2], status = 0;
	pid_t mid, child = -1;

	/* qemu-user (the ppc64le tests) has no subreaper: nothing to see. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		printf("ok %d - die_with_parent # SKIP no PR_SET_CHILD_SUBREAPER here\n", ++tap_n);
		return;
	}
	if (pipe(p) < 0)
		abort();
	mid = fork();
	if (mid == 0) {
		char *argv[] = {"sleep", "30", NULL};
		struct sp_spawn s = {
			.argv = argv, .in = -1, .out = -1, .err = -1, .die_with_parent = true};
		struct sp_err err;
		pid_t pid = -1;
		sp_spawn_start(&s, &pid, &err);
		if (write(p[1], &pid, sizeof(pid)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &child, sizeof(child)) != sizeof(child))
		child = -1;
	close(p[0]);
	waitpid(mid, NULL, 0);
	if (child > 0 && waitpid(child, &status, 0) != child)
		status = 0;
	TAP_OK(child > 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "die_with_parent: the child is killed when its parent ends");
}

int main(void)
{
	test_fds();
	test_wrong_fds();
	test_dev_null();
	test_status();
	test_signals();
	test_exec_failure();
	test_search();
	test_session();
	test_env();
	test_hook();
	test_drop();
	test_die_with_parent();
	return tap_done();
}
