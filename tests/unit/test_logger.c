/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The capped log of lib/logger.c: bounded, newest lines kept, whole lines. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "logger.h"
#include "tap.h"

static char *slurp(int fd, off_t *len)
{
	struct stat st;
	char *buf;

	fstat(fd, &st);
	buf = calloc(1, (size_t)st.st_size + 1);
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		buf[0] = '\0';
	*len = st.st_size;
	return buf;
}

static int tmpfile_fd(void)
{
	char path[] = "/tmp/spectrum-logger-test.XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	return fd;
}

static void test_lines(void)
{
	int fd = tmpfile_fd();
	off_t size = 0, len;
	bool under = true;
	char line[64], *all;

	for (int i = 0; i < 5000; i++) {
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		if (sp_log_append(fd, &size, 4096, line, (size_t)n) < 0)
			under = false;
		if (size > 4096)
			under = false;
	}
	all = slurp(fd, &len);
	TAP_OK(under, "the log never passes its cap (4096 bytes) over 5000 lines");
	TAP_OK(len == size, "the size kept matches the file's (%lld)", (long long)len);
	TAP_OK(len >= 2048 - 16, "at least half the cap is kept after a cut (%lld)", (long long)len);
	TAP_OK(len > 10 && strcmp(all + len - 10, "line 4999\n") == 0, "the newest line is last");
	TAP_OK(strncmp(all, "line ", 5) == 0, "the log starts with a whole line");
	free(all);
	close(fd);
}

static void test_big_write(void)
{
	int fd = tmpfile_fd();
	off_t size = 0, len;
	char *big = malloc(10000), *all;

	memset(big, 'x', 10000);
	memcpy(big + 9990, "the-end-!\n", 10);
	sp_log_append(fd, &size, 1000, "old\n", 4);
	TAP_OK(sp_log_append(fd, &size, 1000, big, 10000) == 0, "a write of ten caps at once is taken");
	all = slurp(fd, &len);
	TAP_OK(len <= 1000, "and leaves the log under its cap (%lld)", (long long)len);
	TAP_OK(len >= 10 && memcmp(all + len - 10, "the-end-!\n", 10) == 0, "with its newest bytes");
	free(all);
	free(big);
	close(fd);
}

static void test_append_existing(void)
{
	int fd = tmpfile_fd();
	off_t size = 4, len;
	char *all;

	if (write(fd, "old\n", 4) != 4)
		size = 0;
	sp_log_append(fd, &size, 1000, "new\n", 4);
	all = slurp(fd, &len);
	TAP_STR(all, "old\nnew\n", "a log of an earlier run is appended to");
	free(all);
	close(fd);
}

/*
 * The logger process with its three streams (console, VMM stderr, display
 * relay): each pipe drained into its own file, each under its own cap, the
 * third as well as the first two.
 */
static void test_three_streams(void)
{
	struct sp_plan p = {0}; /* vmm_uid 0: the logger keeps this test's uid */
	struct sp_err err = {0};
	struct sp_log_stream s[3];
	int w[3], fd[3], st = -1, ok = 1;
	const size_t max[3] = {4096, 4096, 8192};
	char line[64], *all;
	off_t len;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN); /* a logger that is not there fails a check */
	for (int i = 0; i < 3; i++) {
		int pfd[2];
		if (pipe(pfd) < 0)
			ok = 0;
		fd[i] = tmpfile_fd();
		s[i] = (struct sp_log_stream){pfd[0], fd[i], max[i]};
		w[i] = pfd[1];
	}
	pid = ok ? sp_logger_spawn(&p, s, 3, &err) : -1;
	TAP_OK(pid > 0, "a logger with three streams starts%s%s", err.msg[0] ? ": " : "",
	       err.msg);
	for (int i = 0; i < 3; i++)
		close(s[i].in);
	for (int n = 0; pid > 0 && n < 20000; n++) {
		int k = snprintf(line, sizeof(line), "display line %d\n", n);
		if (write(w[2], line, (size_t)k) != k)
			break;
	}
	if (write(w[0], "console\n", 8) != 8 || write(w[1], "vmm\n", 4) != 4)
		ok = 0;
	for (int i = 0; i < 3; i++)
		close(w[i]);
	if (pid > 0)
		waitpid(pid, &st, 0);
	TAP_OK(ok && WIFEXITED(st) && WEXITSTATUS(st) == 0, "it ends when its inputs close");
	all = slurp(fd[2], &len);
	TAP_OK(len > 0 && (size_t)len <= max[2],
	       "the third stream's file stays under its cap (%ld)", (long)len);
	TAP_OK(strstr(all, "display line 19999\n") != NULL, "and keeps its newest line");
	free(all);
	all = slurp(fd[0], &len);
	TAP_STR(all, "console\n", "the first stream goes to its own file");
	free(all);
	all = slurp(fd[1], &len);
	TAP_STR(all, "vmm\n", "and the second to its own");
	free(all);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

int main(void)
{
	test_lines();
	test_big_write();
	test_append_existing();
	test_three_streams();
	return tap_done();
}
