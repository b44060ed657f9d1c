/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sp_splice, the stream copier of both ends of a display channel: it
 * passes bytes both ways, passes what a side sent before its end, and
 * returns when either side ends (a relay that outlived its peer would
 * keep a VM from powering off).
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "splice.h"
#include "tap.h"

/* Two pairs: a[0] -- splice(a[1], b[1]) -- b[0]; the splice runs in a
 * child, whose exit status is its result. */
static int a[2], b[2];

static pid_t start(void)
{
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, b) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		close(a[0]);
		close(b[0]);
		alarm(10);
		_exit(sp_splice(a[1], b[1]) == 0 ? 0 : 1);
	}
	close(a[1]);
	close(b[1]);
	return pid;
}

static size_t read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len < size && (n = read(fd, buf + len, size - len)) > 0)
		len += (size_t)n;
	return len;
}

/* The exit status of the splicer, or -1 if it is still running 5 s on. */
static int wait_end(pid_t pid)
{
	for (int i = 0; i < 500; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

static void test_both_ways(void)
{
	pid_t pid = start();
	char buf[16] = {0};
	int rc;

	TAP_OK(write(a[0], "hello", 5) == 5 && read(b[0], buf, 5) == 5 &&
		       memcmp(buf, "hello", 5) == 0,
	       "bytes pass from the first side to the second");
	TAP_OK(write(b[0], "world", 5) == 5 && read(a[0], buf, 5) == 5 &&
		       memcmp(buf, "world", 5) == 0,
	       "and back");
	close(a[0]);
	rc = wait_end(pid);
	TAP_OK(rc == 0, "an end of the first side ends the splice (%d)", rc);
	TAP_OK(read(b[0], buf, 1) == 0, "and the second side reads its end");
	close(b[0]);
}

/* A side's last bytes come with its end: they are passed on first. */
static void test_last_words(void)
{
	static char big[1 << 20], got[1 << 20];
	pid_t pid = start(), writer;
	size_t n;
	int rc;

	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = 'y';
	/* More than a socket buffer: the splicer must keep reading. */
	writer = fork();
	if (writer == 0) {
		close(a[0]);
		_exit(write(b[0], big, sizeof(big)) == (ssize_t)sizeof(big) ? 0 : 1);
	}
	n = read_all(a[0], got, sizeof(got));
	TAP_OK(n == sizeof(big) && got[n - 1] == 'y',
	       "1 MiB from the second side arrives whole (%zu)", n);
	close(b[0]);
	waitpid(writer, NULL, 0);
	rc = wait_end(pid);
	TAP_OK(rc == 0, "the writer's end ends the splice (%d)", rc);
	close(a[0]);
}

static void test_second_side_ends(void)
{
	pid_t pid = start();
	int rc;

	close(b[0]);
	rc = wait_end(pid);
	TAP_OK(rc == 0, "an end of the second side ends the splice (%d)", rc);
	close(a[0]);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_both_ways();
	test_last_words();
	test_second_side_ends();
	return tap_done();
}
