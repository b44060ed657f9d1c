/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes, signals and the private temporary directory.
 *
 * SIGINT, SIGTERM, SIGHUP and SIGCHLD stay blocked in this process: a
 * child is waited for with sigwaitinfo(), so an interruption is noticed
 * while a tool runs (the tool is then stopped) and otherwise at the next
 * check of si_stopped().  Either way the command unwinds through its
 * normal failure path, which removes every partial file, and main()
 * removes the private directory before dying of the same signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "image.h"
#include "spawn.h"

extern char **environ;

static sigset_t si_blocked;	/* INT TERM HUP CHLD; not in children (lib/spawn.c) */
static int si_stop;		/* the signal that stopped us, or 0 */
static char si_tmp[PATH_MAX];
static char si_errline[400];

/* "SIGINT"; strsignal() is localized, sigabbrev_np() glibc-only. */
static const char *si_signame(int sig)
{
	static char buf[32];

	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	case SIGKILL:
		return "SIGKILL";
	case SIGSEGV:
		return "SIGSEGV";
	case SIGABRT:
		return "SIGABRT";
	case SIGBUS:
		return "SIGBUS";
	default:
		snprintf(buf, sizeof(buf), "signal %d", sig);
		return buf;
	}
}

static void si_nothing(int sig)
{
	(void)sig;
}

int si_fail(struct sp_err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sp_err_vset(e, fmt, ap);
	va_end(ap);
	if (e)
		e->code = code;
	return -1;
}

void si_signals_init(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGCHLD};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = si_nothing;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&si_blocked);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&si_blocked, sigs[i]);
	}
	sigprocmask(SIG_BLOCK, &si_blocked, NULL);
}

static bool si_is_stop(int sig)
{
	return sig == SIGINT || sig == SIGTERM || sig == SIGHUP;
}

bool si_stopped(struct sp_err *e)
{
	sigset_t pending, stops;
	struct timespec zero = {0, 0};

	if (!si_stop) {
		sigemptyset(&stops);
		sigaddset(&stops, SIGINT);
		sigaddset(&stops, SIGTERM);
		sigaddset(&stops, SIGHUP);
		if (sigpending(&pending) == 0 &&
		    (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
		     sigismember(&pending, SIGHUP))) {
			int sig = sigtimedwait(&stops, NULL, &zero);

			if (sig > 0)
				si_stop = sig;
		}
	}
	if (si_stop && e)
		si_fail(e, SI_EXIT_SYSTEM, "interrupted by %s; nothing was written", si_signame(si_stop));
	return si_stop != 0;
}

int si_stop_signal(void)
{
	return si_stop;
}

int si_tmp_create(struct sp_err *e)
{
	const char *base = getenv("TMPDIR");

	if (!base || base[0] != '/')
		base = "/var/tmp";
	if ((size_t)snprintf(si_tmp, sizeof(si_tmp), "%s/spectrum-image.XXXXXX", base) >= sizeof(si_tmp))
		return si_fail(e, SI_EXIT_SYSTEM, "TMPDIR is too long");
	if (!mkdtemp(si_tmp)) {
		int err = errno;

		si_tmp[0] = '\0';
		return si_fail(e, SI_EXIT_SYSTEM, "cannot create a temporary directory in %s: %s; set TMPDIR",
			       base, strerror(err));
	}
	return 0;
}

const char *si_tmp_dir(void)
{
	return si_tmp;
}

void si_tmp_remove(void)
{
	if (si_tmp[0]) {
		si_rmtree(si_tmp);
		si_tmp[0] = '\0';
	}
}

static int si_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) == 0 || errno == ENOENT ? 0 : -1;
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

int si_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	return nftw(path, si_rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int si_mkdirs(const char *path, mode_t mode, struct sp_err *e)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return si_fail(e, SI_EXIT_SYSTEM, "cannot create directory '%s': bad path", path);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			struct stat st;

			*p = '\0';
			if (mkdir(buf, mode) != 0 && errno != EEXIST)
				return si_fail(e, SI_EXIT_SYSTEM, "cannot create directory '%s': %s", buf,
					       strerror(errno));
			if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
				return si_fail(e, SI_EXIT_SYSTEM, "cannot create directory '%s': %s", buf,
					       "a file is in the way");
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

/* The environment of every child: ours, in the C locale (apt translates
 * the words its output is parsed by). */
static char **si_child_env(void)
{
	static char **env;
	size_t n = 0, o = 0;

	if (env)
		return env;
	while (environ[n])
		n++;
	env = sp_xmalloc((n + 2) * sizeof(*env));
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LC_", 3) != 0 && strncmp(environ[i], "LANG=", 5) != 0 &&
		    strncmp(environ[i], "LANGUAGE=", 9) != 0)
			env[o++] = environ[i];
	env[o++] = "LC_ALL=C";
	env[o] = NULL;
	return env;
}

/* Keeps the line of the child's standard error most worth quoting. */
static void si_pick_errline(const char *path)
{
	char line[1024], best[sizeof(si_errline)] = "", last[sizeof(si_errline)] = "";
	FILE *f = fopen(path, "r");

	si_errline[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *end;

		/* progress output ends in carriage returns: keep the last part */
		if ((end = strrchr(s, '\r')) && end[1] != '\n' && end[1] != '\0')
			s = end + 1;
		s[strcspn(s, "\r\n")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			continue;
		if (strlen(s) >= sizeof(last))
			strcpy(s + sizeof(last) - 4, "...");
		strcpy(last, s);
		if (strncmp(s, "E: ", 3) == 0 || strstr(s, "error") || strstr(s, "<E>"))
			strcpy(best, s);
	}
	fclose(f);
	strcpy(si_errline, best[0] ? best : last);
}

const char *si_run_stderr(void)
{
	return si_errline;
}

static const char *si_tool_package(const char *tool)
{
	if (strcmp(tool, "mkfs.erofs") == 0)
		return "erofs-utils";
	if (strncmp(tool, "apt", 3) == 0)
		return "apt";
	if (strncmp(tool, "dpkg", 4) == 0)
		return "dpkg";
	return tool;
}

/* The child hook of si_run(): a tool that works in a directory. */
static int si_chdir(void *dir)
{
	return chdir(dir);
}

/* The files a tool writes: its output (or /dev/null: -1), and its
 * standard error in the private directory, for si_pick_errline(). */
static int si_run_files(const char *out, const char *errpath, int *o, int *er, struct sp_err *e)
{
	*o = *er = -1;
	if (out && (*o = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot write '%s': %s", out, strerror(errno));
	if ((*er = open(errpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		int err = errno;

		if (*o >= 0)
			close(*o);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot write '%s': %s", errpath, strerror(err));
	}
	return 0;
}

int si_run(char *const argv[], const char *cwd, const char *out, struct sp_err *e)
{
	char errpath[PATH_MAX];
	const char *path = getenv("PATH");
	struct sp_err err;
	int o, er, status, rc;
	pid_t pid;

	si_errline[0] = '\0';
	if (si_stopped(e))
		return -1;
	if ((size_t)snprintf(errpath, sizeof(errpath), "%s/stderr", si_tmp) >= sizeof(errpath))
		return si_fail(e, SI_EXIT_SYSTEM, "TMPDIR is too long");
	if (si_run_files(out, errpath, &o, &er, e) < 0)
		return -1;
	/* The user's tools, found in the user's PATH (execvp's default
	 * when it is unset), with the user's environment in the C locale. */
	struct sp_spawn s = {.argv = argv,
			     .search = path ? path : "/bin:/usr/bin",
			     .envp = si_child_env(),
			     .in = -1,
			     .out = o,
			     .err = er,
			     .child_hook = cwd ? si_chdir : NULL,
			     .hook_arg = (void *)cwd};
	fflush(stdout);
	rc = sp_spawn_start(&s, &pid, &err);
	if (o >= 0)
		close(o);
	close(er);
	if (rc < 0 && err.missing)
		return si_fail(e, SI_EXIT_SYSTEM, "%s is not installed; install %s", argv[0],
			       si_tool_package(argv[0]));
	if (rc < 0)
		return si_fail(e, SI_EXIT_SYSTEM, "%s", err.msg);
	for (;;) {
		siginfo_t info;
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return si_fail(e, SI_EXIT_SYSTEM, "cannot wait for %s: %s", argv[0], strerror(errno));
		int sig = sigwaitinfo(&si_blocked, &info);
		if (si_is_stop(sig) && !si_stop) {
			si_stop = sig;
			kill(pid, SIGTERM);
		}
	}
	si_pick_errline(errpath);
	if (si_stopped(e))
		return -1;
	if (WIFSIGNALED(status))
		return si_fail(e, SI_EXIT_FAIL, "%s was killed by %s", argv[0], si_signame(WTERMSIG(status)));
	return WEXITSTATUS(status);
}

char *si_read_file(struct sp_arena *a, const char *path, size_t max, size_t *len, struct sp_err *e)
{
	mode_t type;
	int fd = sp_open_regular(path, 0, &type); /* a FIFO is refused, not waited on */
	struct stat st;
	char *buf;
	size_t n = 0;

	if (fd < 0 && type)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot read '%s': it is %s, not a regular file",
			       path, sp_file_type_name(type)),
		       NULL;
	if (fd < 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot read '%s': %s", path, strerror(errno)), NULL;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot read '%s': too large", path), NULL;
	}
	buf = sp_arena_alloc(a, (size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int err = r < 0 ? errno : EIO;

			close(fd);
			return si_fail(e, SI_EXIT_SYSTEM, "cannot read '%s': %s", path, strerror(err)), NULL;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int si_file_sha256(const char *path, char hex[SI_SHA256_HEX], uint64_t *size, struct sp_err *e)
{
	static uint8_t buf[1 << 17];
	struct si_sha256 c;
	uint8_t d[SI_SHA256_LEN];
	uint64_t total = 0;
	unsigned chunks = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot read '%s': %s", path, strerror(errno));
	si_sha256_init(&c);
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;

			close(fd);
			return si_fail(e, SI_EXIT_SYSTEM, "cannot read '%s': %s", path, strerror(err));
		}
		if (r == 0)
			break;
		si_sha256_update(&c, buf, (size_t)r);
		total += (uint64_t)r;
		if (++chunks % 64 == 0 && si_stopped(e)) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	si_sha256_final(&c, d);
	si_sha256_hex(d, hex);
	if (size)
		*size = total;
	return 0;
}
