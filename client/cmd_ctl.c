/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The subcommands that talk to spectrumd(8), the verbs of sp_verbs
 * (lib/proto.c).  Each sends one fixed-size request (lib/proto.h) and
 * prints the daemon's answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "paths.h"
#include "proto.h"

#define SP_DETACH_KEY 0x1d /* Ctrl-] */

struct sp_ctl_opts {
	const char *cmd;
	const char *name; /* the instance, file or number argument */
	unsigned flags;
	bool follow;
	unsigned long number;
};

/*
 * Connects to the daemon's socket: its descriptor, or -1 with *rc set.
 * The socket's mode (spectrumd(8)) keeps out whom the daemon would
 * refuse, so a connection refused for its mode is a refusal too (status
 * 4), not an unreachable daemon.
 */
static int sp_ctl_connect(int *rc)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sp_err err = {0};
	int fd, e;

	if (sp_daemon_socket(sa.sun_path, sizeof(sa.sun_path), &err) < 0) {
		sp_warnx("%s", err.msg);
		*rc = SP_EXIT_SYSTEM;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	if (fd >= 0)
		close(fd);
	*rc = e == EACCES ? SP_EXIT_DENIED : SP_EXIT_SYSTEM;
	if (e == EACCES)
		sp_warnx("permission denied: uid %d may not open %s; "
			 "root and the spectrum group may",
			 (int)getuid(), sa.sun_path);
	else
		sp_warnx("cannot reach spectrumd at %s: %s; start it with 'spectrumd -c FILE'",
			 sa.sun_path, strerror(e));
	return -1;
}

/* Sends the request, with `give` (a descriptor, or -1) alongside. */
static int sp_ctl_send(int fd, const struct sp_request *rq, int give)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {(void *)rq, sizeof(*rq)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (give >= 0) {
		struct cmsghdr *c;
		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &give, sizeof(int));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(*rq) ? 0 : errno;
}

/* Sends the request (and `give`, or -1); returns the reply status, the body on stdout or
 * stderr, and a passed file descriptor in *passed (or -1). */
static int sp_ctl_call(const struct sp_request *rq, int give, int *passed, char **body_out)
{
	static char buf[sizeof(struct sp_reply_header) + SP_PROTO_BODY_MAX + 1];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {buf, sizeof(buf) - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct sp_reply_header h;
	struct sp_err err = {0};
	const char *body;
	ssize_t n;
	int rc = SP_EXIT_SYSTEM;
	int fd = sp_ctl_connect(&rc);

	*passed = -1;
	if (fd < 0)
		return rc;
	/* A refused peer is answered when the daemon accepts the connection,
	 * before it reads anything; the daemon then shuts the connection, so
	 * our send may fail (EPIPE) with the reply still there to read. */
	int sent = sp_ctl_send(fd, rq, give);
	n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0 && sent) {
		sp_warnx("sending to spectrumd: %s", strerror(sent));
		close(fd);
		return SP_EXIT_SYSTEM;
	}
	close(fd);
	if (n <= 0 || sp_reply_check(buf, (size_t)n, &h, &body, &err) < 0) {
		sp_warnx("%s", n <= 0 ? "spectrumd closed the connection" : err.msg);
		return SP_EXIT_SYSTEM;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(passed, CMSG_DATA(c), sizeof(int));
	buf[n] = '\0';
	*body_out = (char *)body;
	return (int)h.status;
}

static int sp_ctl_console(int fd)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	char buf[4096];

	fprintf(stderr, "spectrum: attached; Ctrl-] detaches\n");
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
		ssize_t n;
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			n = read(fd, buf, sizeof(buf));
			if (n <= 0 || write(STDOUT_FILENO, buf, (size_t)n) != n)
				break;
		}
		if (p[1].revents) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0 || memchr(buf, SP_DETACH_KEY, (size_t)n))
				break;
			if (write(fd, buf, (size_t)n) != n)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	fprintf(stderr, "\r\nspectrum: detached\n");
	return SP_EXIT_OK;
}

static int sp_ctl_logs(int fd, bool follow)
{
	char buf[8192];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return SP_EXIT_SYSTEM;
		if (n == 0) {
			struct stat st;
			if (!follow)
				return SP_EXIT_OK;
			/* The logger keeps the log under its cap by moving its
			 * newest half to the start: read it from there. */
			if (fstat(fd, &st) == 0 && st.st_size < lseek(fd, 0, SEEK_CUR))
				lseek(fd, 0, SEEK_SET);
			usleep(200000);
			continue;
		}
		if (write(STDOUT_FILENO, buf, (size_t)n) != n)
			return SP_EXIT_OK;
	}
}

static int sp_ctl_parse(int argc, char **argv, struct sp_ctl_opts *o)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},	{"all", no_argument, NULL, 'a'},
		{"kill", no_argument, NULL, 'k'},	{"follow", no_argument, NULL, 'f'},
		{"dry-run", no_argument, NULL, 'd'},	{"no-restart", no_argument, NULL, 'r'},
		{"keep", required_argument, NULL, 'K'}, {NULL, 0, NULL, 0},
	};
	int c;

	o->cmd = argv[0];
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f", longopts, NULL)) != -1 || optind < argc) {
		if (c == -1) {
			if (o->name)
				return sp_usage_error(o->cmd, "too many arguments");
			o->name = argv[optind++];
			continue;
		}
		switch (c) {
		case 'j':
			o->flags |= SP_FLAG_JSON;
			break;
		case 'a':
			o->flags |= SP_FLAG_ALL;
			break;
		case 'k':
			o->flags |= SP_FLAG_KILL;
			break;
		case 'f':
			o->follow = true;
			break;
		case 'd':
			o->flags |= SP_FLAG_DRY_RUN;
			break;
		case 'r':
			o->flags |= SP_FLAG_NO_RESTART;
			break;
		case 'K':
			if (!sp_uint_parse(optarg, 1, 1000000, &o->number))
				return sp_usage_error(
					o->cmd, "--keep wants a number of generations, 1 or more");
			break;
		default:
			return sp_usage_error(o->cmd, "unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

/* Prints the daemon's answer: its lines on stdout, or on stderr if refused. */
static int sp_ctl_answer(const struct sp_request *rq, int give)
{
	char *body = NULL;
	int passed = -1;
	int rc = sp_ctl_call(rq, give, &passed, &body);

	if (body && *body)
		fputs(body, rc == SP_EXIT_OK ? stdout : stderr);
	if (passed >= 0)
		close(passed);
	return rc;
}

/*
 * switch FILE and rollback [N]: FILE is opened here, as the caller (a
 * file the caller cannot read is not switched to), and handed over open.
 */
static int sp_ctl_config(const struct sp_verb *verb, struct sp_ctl_opts *o)
{
	struct sp_request rq;
	unsigned long number = 0;
	mode_t type;
	int fd = -1, rc;

	if (verb->arg == SP_ARG_FILE && !o->name)
		return sp_usage_error(o->cmd, "missing FILE");
	if (verb->arg == SP_ARG_NUMBER && o->name && !sp_uint_parse(o->name, 1, 999999999, &number))
		return sp_usage_error(
			o->cmd,
			"'%s' is not a generation number ('spectrum generations' lists them)",
			o->name);
	if (verb->arg == SP_ARG_FILE) {
		fd = sp_open_regular(o->name, 0, &type);
		if (fd < 0) {
			sp_warnx("%s: cannot read: %s; give a data file or a .nix file you may read", o->name,
				 type ? sp_file_type_name(type) : strerror(errno));
			return SP_EXIT_SYSTEM;
		}
	}
	if (sp_request_make_number(&rq, verb->op, o->flags, (uint32_t)number) < 0)
		return sp_usage_error(o->cmd, "invalid request");
	rc = sp_ctl_answer(&rq, fd);
	if (fd >= 0)
		close(fd);
	return rc;
}

int sp_cmd_ctl(int argc, char **argv)
{
	const struct sp_verb *verb = sp_verb_find(argv[0]);
	struct sp_ctl_opts o = {0};
	struct sp_request rq;
	char *body = NULL;
	int passed, rc;

	if (!verb)
		return sp_usage_error(NULL, "unknown command '%s'", argv[0]);
	if (sp_ctl_parse(argc, argv, &o) != 0)
		return SP_EXIT_USAGE;
	if (verb->arg != SP_ARG_NONE)
		return sp_ctl_config(verb, &o);
	if (verb->needs_name && !o.name)
		return sp_usage_error(o.cmd, "missing INSTANCE");
	if (!verb->needs_name && o.name)
		return sp_usage_error(o.cmd, "unexpected argument '%s'", o.name);
	if (o.name && !sp_name_valid(o.name))
		return sp_usage_error(o.cmd, "'%s' is not an instance name", o.name);
	if ((o.flags & (SP_FLAG_DRY_RUN | SP_FLAG_NO_RESTART)) ||
	    (o.number && verb->op != SP_OP_GC))
		return sp_usage_error(o.cmd, "--dry-run, --no-restart and --keep are not for %s",
				      o.cmd);
	if (o.number ? sp_request_make_number(&rq, verb->op, o.flags, (uint32_t)o.number) :
		       sp_request_make(&rq, verb->op, o.flags, o.name))
		return sp_usage_error(o.cmd, "invalid request");
	rc = sp_ctl_call(&rq, -1, &passed, &body);
	if (body && *body)
		fputs(body, rc == SP_EXIT_OK ? stdout : stderr);
	if (rc == SP_EXIT_OK && passed >= 0) {
		rc = verb->op == SP_OP_CONSOLE ? sp_ctl_console(passed) :
						 sp_ctl_logs(passed, o.follow);
		close(passed);
	}
	return rc;
}
