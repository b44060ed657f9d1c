/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_peer SOCKET SILENT DELAY_MS HOLD_S: a client of spectrumd's control
 * socket for tests/daemon/ctl.sh, as whatever uid it runs as.
 *
 * Opens SILENT connections that send nothing, then one more that sends a
 * list request, and prints "sent".  DELAY_MS later (time for the daemon to
 * answer and close, with our request perhaps unread) it reads the reply
 * and prints "reply STATUS LINES: FIRST-LINE", or "reply error: WHY".
 * Then it prints "silent:" and, for each silent connection, the status of
 * the reply it holds, "-" for none yet, or "e" if it was reset or closed
 * without one; and the same again, as "later:", HOLD_S seconds after,
 * with every connection still open.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"

#define PEER_MAX 64

static char buf[sizeof(struct sp_reply_header) + SP_PROTO_BODY_MAX + 1];

static int peer_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "ctl_peer: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

/* The reply's status; -1 with *why set; -2 if none is there yet (with
 * `flags` MSG_DONTWAIT, or 0 to wait). */
static int peer_reply(int fd, int flags, const char **body, const char **why)
{
	struct sp_reply_header h;
	struct sp_err err = {0};
	static char msg[sizeof(err.msg)];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, flags);

	if (n < 0 && errno == EAGAIN && flags) {
		*why = "no reply yet";
		return -2;
	}
	if (n < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (n == 0) {
		*why = "closed without a reply";
		return -1;
	}
	if (sp_reply_check(buf, (size_t)n, &h, body, &err) < 0) {
		snprintf(msg, sizeof(msg), "%s", err.msg);
		*why = msg;
		return -1;
	}
	buf[n] = '\0';
	return (int)h.status;
}

static void peer_print_reply(int fd)
{
	const char *body = "", *why = "";
	int status = peer_reply(fd, 0, &body, &why);
	int lines = 0;

	if (status < 0) {
		printf("reply error: %s\n", why);
		return;
	}
	for (const char *p = body; *p; p++)
		lines += *p == '\n';
	printf("reply %d %d: %.*s\n", status, lines, (int)strcspn(body, "\n"), body);
}

static void peer_print_silent(const char *label, const int *fds, int n)
{
	fputs(label, stdout);
	for (int i = 0; i < n; i++) {
		const char *body, *why;
		int status = peer_reply(fds[i], MSG_DONTWAIT, &body, &why);
		if (status >= 0)
			printf(" %d", status);
		else
			fputs(status == -2 ? " -" : " e", stdout);
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	struct timeval tv = {.tv_sec = 10};
	struct sp_request rq;
	int fds[PEER_MAX], fd, silent;

	if (argc != 5 || (silent = atoi(argv[2])) < 0 || silent > PEER_MAX) {
		fputs("usage: ctl_peer SOCKET SILENT DELAY_MS HOLD_S\n", stderr);
		return 2;
	}
	for (int i = 0; i < silent; i++)
		fds[i] = peer_connect(argv[1]);
	fd = peer_connect(argv[1]);
	sp_request_make(&rq, SP_OP_LIST, 0, NULL);
	/* It may fail (EPIPE) if the daemon has answered and shut us out. */
	if (send(fd, &rq, sizeof(rq), MSG_NOSIGNAL) < 0) {
	}
	printf("sent\n");
	fflush(stdout);
	usleep((useconds_t)atoi(argv[3]) * 1000);
	/* Bounded: a daemon that never answers must not hang the test. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	peer_print_reply(fd);
	peer_print_silent("silent:", fds, silent);
	fflush(stdout);
	sleep((unsigned)atoi(argv[4]));
	peer_print_silent("later:", fds, silent);
	return 0;
}
