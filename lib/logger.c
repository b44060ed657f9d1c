/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The instance's logger: see logger.h. */
#include "logger.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define SP_LOG_CHUNK 65536

static int sp_pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Moves the file's bytes from `from` to its end down to offset 0. */
static int sp_log_shift(int fd, off_t from, off_t size)
{
	char buf[SP_LOG_CHUNK];
	off_t to = 0;

	while (from < size) {
		ssize_t n = pread(fd, buf, sizeof(buf), from);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || sp_pwrite_all(fd, buf, (size_t)n, to) < 0)
			return -1;
		from += n;
		to += n;
	}
	return ftruncate(fd, to);
}

/* Where the kept half starts: at the first line start after `from`, if
 * there is one soon, so the log does not begin mid-line. */
static off_t sp_log_cut(int fd, off_t from, off_t size)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf), from);
	char *nl = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;

	if (nl && from + (nl - buf) + 1 < size)
		return from + (nl - buf) + 1;
	return from;
}

int sp_log_append(int fd, off_t *size, size_t max, const char *buf, size_t len)
{
	size_t half = max / 2;

	if (len >= half) {
		/* More than half the cap at once: only its newest half stays. */
		buf += len - half;
		len = half;
		if (ftruncate(fd, 0) < 0)
			return -1;
		*size = 0;
	} else if ((size_t)*size + len > max) {
		off_t from = sp_log_cut(fd, *size - (off_t)(half - len), *size);
		if (sp_log_shift(fd, from, *size) < 0)
			return -1;
		*size -= from;
	}
	if (sp_pwrite_all(fd, buf, len, *size) < 0)
		return -1;
	*size += (off_t)len;
	return 0;
}

/* In the child: the streams at 3, 4, 5, 6, ... (in, out, in, out, ...),
 * nothing else. */
static int sp_logger_fds(struct sp_log_stream *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i].in = fcntl(s[i].in, F_DUPFD_CLOEXEC, 200)) < 0 ||
		    (s[i].out = fcntl(s[i].out, F_DUPFD_CLOEXEC, 200)) < 0)
			return -1;
	for (size_t i = 0; i < n; i++) {
		if (dup2(s[i].in, 3 + 2 * (int)i) < 0 || dup2(s[i].out, 4 + 2 * (int)i) < 0)
			return -1;
		s[i].in = 3 + 2 * (int)i;
		s[i].out = 4 + 2 * (int)i;
	}
	return close_range(3 + 2 * (unsigned)n, ~0U, 0);
}

/*
 * In the child: the uid of the compartment, not root's; non-dumpable, so
 * that a taken-over VMM of the same uid cannot ptrace it; and a file size
 * limit a little above its caps, so that even a logger made to misbehave
 * cannot grow a file in host memory beyond it.
 */
static int sp_logger_confine(const struct sp_plan *p, size_t max)
{
	struct rlimit rl = {.rlim_cur = max + SP_LOG_CHUNK, .rlim_max = max + SP_LOG_CHUNK};

	signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails, it does not kill */
	if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
		return -1;
	if (p->vmm_uid) {
		gid_t gid = (gid_t)p->vmm_uid;
		uid_t uid = (uid_t)p->vmm_uid;
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
		    setresuid(uid, uid, uid) < 0 || setuid(0) == 0)
			return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	prctl(PR_SET_NAME, "spectrum-log", 0, 0, 0);
	return 0;
}

static void sp_logger_loop(struct sp_log_stream *s, size_t n)
{
	struct pollfd fds[SP_LOG_STREAMS_MAX];
	off_t size[SP_LOG_STREAMS_MAX];
	static char buf[SP_LOG_CHUNK];
	size_t open = n;

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		size[i] = fstat(s[i].out, &st) == 0 ? st.st_size : 0;
		fds[i] = (struct pollfd){s[i].in, POLLIN, 0};
	}
	while (open) {
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (size_t i = 0; i < n; i++) {
			ssize_t r;
			if (!fds[i].revents)
				continue;
			r = read(fds[i].fd, buf, sizeof(buf));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fds[i].fd = -1; /* poll ignores it from now on */
				open--;
				continue;
			}
			/* A full or failing file loses lines, never the VM. */
			sp_log_append(s[i].out, &size[i], s[i].max, buf, (size_t)r);
		}
	}
}

pid_t sp_logger_spawn(const struct sp_plan *p, const struct sp_log_stream *streams, size_t n,
		      struct sp_err *err)
{
	struct sp_log_stream s[SP_LOG_STREAMS_MAX];
	size_t max = 0;
	pid_t pid;

	if (n == 0 || n > SP_LOG_STREAMS_MAX) {
		sp_err_set(err, "logger: %zu streams", n);
		return -1;
	}
	memcpy(s, streams, n * sizeof(*s));
	for (size_t i = 0; i < n; i++)
		if (s[i].max > max)
			max = s[i].max;
	pid = fork();
	if (pid < 0) {
		sp_err_set(err, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	sigset_t none;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Its own session: a terminal's Ctrl-C stops the VM through
	 * `spectrum run`, and the logger then ends with its inputs. */
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    sp_logger_fds(s, n) < 0 || sp_logger_confine(p, max) < 0)
		_exit(127);
	sp_logger_loop(s, n);
	_exit(0);
}
