/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The client side of the control protocol (lib/ctl.c), against a stand-in
 * daemon in a child process on a socket of a temporary SPECTRUM_RUN_DIR:
 * a descriptor travels with the request, the reply's body and descriptor
 * come back (a second one is closed, not leaked), a silent daemon times
 * out, a malformed reply and a missing daemon are errors with a status.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "tap.h"

/* Sends a reply with `nfds` descriptors of fds alongside. */
static void reply(int c, uint32_t status, const char *body, const int *fds, int nfds)
{
	char buf[sizeof(struct sp_reply_header) + 256], cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct sp_reply_header h = {SP_PROTO_MAGIC, status, (uint32_t)strlen(body)};
	struct iovec iov = {buf, sizeof(h) + strlen(body)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, strlen(body));
	if (nfds) {
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	}
	sendmsg(c, &msg, MSG_NOSIGNAL);
}

/* The stand-in: four connections, each answered its way. */
static void daemon_child(int l)
{
	struct sp_request rq;
	char cbuf[CMSG_SPACE(sizeof(int))], got[64] = "", body[128];
	struct iovec iov = {&rq, sizeof(rq)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	int c, fd = -1, p[2];

	/* 1: reads the file the request brought, answers with two descriptors. */
	c = accept(l, NULL, NULL);
	if (recvmsg(c, &msg, 0) == (ssize_t)sizeof(rq) && CMSG_FIRSTHDR(&msg))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	if (fd >= 0 && read(fd, got, sizeof(got) - 1) < 0)
		got[0] = '\0';
	snprintf(body, sizeof(body), "op %u flags %u read %s", rq.op, rq.flags, got);
	if (pipe(p) == 0)
		reply(c, SP_REPLY_OK, body, p, 2);
	close(c);
	/* 2: no answer. */
	c = accept(l, NULL, NULL);
	usleep(500000);
	close(c);
	/* 3: a reply whose length is wrong. */
	c = accept(l, NULL, NULL);
	if (recv(c, &rq, sizeof(rq), 0) > 0) {
		struct sp_reply_header h = {SP_PROTO_MAGIC, 0, 99};
		send(c, &h, sizeof(h), MSG_NOSIGNAL);
	}
	close(c);
	/* 4: a refusal. */
	c = accept(l, NULL, NULL);
	if (recv(c, &rq, sizeof(rq), 0) > 0)
		reply(c, SP_REPLY_REFUSED, "no\n", NULL, 0);
	close(c);
	_exit(0);
}

static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 256; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

int main(void)
{
	char dir[] = "/tmp/test-ctl-XXXXXX", path[64], file[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sp_err err = {0};
	struct sp_ctl_reply r;
	struct sp_request rq;
	int l, give, rc, before;
	pid_t pid;

	if (!mkdtemp(dir))
		return 1;
	setenv("SPECTRUM_RUN_DIR", dir, 1);
	snprintf(path, sizeof(path), "%s/spectrumd.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(l, 8) < 0)
		return 1;
	pid = fork();
	if (pid == 0)
		daemon_child(l);
	close(l);

	snprintf(file, sizeof(file), "%s/config.json", dir);
	give = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (write(give, "{}", 2) != 2)
		return 1;
	lseek(give, 0, SEEK_SET);
	before = open_fds();
	sp_request_make(&rq, SP_OP_SWITCH, SP_FLAG_DRY_RUN, NULL);
	rc = sp_ctl_call(&rq, give, 5000, &r, &err);
	TAP_OK(rc == SP_REPLY_OK && r.body && strcmp(r.body, "op 10 flags 8 read {}") == 0,
	       "the request and its descriptor arrive; the reply's body comes back: %s",
	       r.body ? r.body : err.msg);
	TAP_OK(r.passed >= 0 && open_fds() == before + 1,
	       "the first descriptor of the reply is kept, the second closed");
	sp_ctl_reply_free(&r);
	TAP_OK(r.passed == -1 && !r.body && open_fds() == before, "freeing the reply closes it");

	sp_request_make(&rq, SP_OP_LIST, 0, NULL);
	rc = sp_ctl_call(&rq, -1, 300, &r, &err);
	TAP_OK(rc == -1 && err.code == SP_REPLY_SYSTEM && strstr(err.msg, "did not answer") &&
		       !r.body && r.passed == -1,
	       "a daemon that does not answer times out: %s", err.msg);
	rc = sp_ctl_call(&rq, -1, 5000, &r, &err);
	TAP_OK(rc == -1 && err.code == SP_REPLY_SYSTEM && strstr(err.msg, "malformed reply"),
	       "a malformed reply is an error: %s", err.msg);
	rc = sp_ctl_call(&rq, -1, 5000, &r, &err);
	TAP_OK(rc == SP_REPLY_REFUSED && r.body && strcmp(r.body, "no\n") == 0,
	       "a refusal is the reply's status, with its body");
	sp_ctl_reply_free(&r);
	waitpid(pid, NULL, 0);
	unlink(path);
	rc = sp_ctl_call(&rq, -1, 5000, &r, &err);
	TAP_OK(rc == -1 && err.code == SP_REPLY_SYSTEM &&
		       strstr(err.msg, "cannot reach spectrumd") &&
		       strstr(err.msg, "start it with 'spectrumd -c FILE'"),
	       "no daemon: one line naming the fix: %s", err.msg);
	close(give);
	unlink(file);
	rmdir(dir);
	return tap_done();
}
