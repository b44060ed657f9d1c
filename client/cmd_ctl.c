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
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
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
 * Sends the request (and `give`, or -1) through lib/ctl.h: the reply's
 * status, its body and a passed descriptor in r; or, when the daemon
 * could not be asked, the status to exit with, the reason printed.
 */
static int sp_ctl_ask(const struct sp_request *rq, int give, struct sp_ctl_reply *r)
{
	struct sp_err err = {0};
	int rc = sp_ctl_call(rq, give, 0, r, &err);

	if (rc < 0) {
		sp_warnx("%s", err.msg);
		return err.code ? err.code : SP_EXIT_SYSTEM;
	}
	return rc;
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
	struct sp_ctl_reply r;
	int rc = sp_ctl_ask(rq, give, &r);

	if (r.body && *r.body)
		fputs(r.body, rc == SP_EXIT_OK ? stdout : stderr);
	sp_ctl_reply_free(&r);
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
			sp_warnx(
				"%s: cannot read: %s; give a data file or a .nix file you may read",
				o->name, type ? sp_file_type_name(type) : strerror(errno));
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
	struct sp_ctl_reply r;
	int rc;

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
	rc = sp_ctl_ask(&rq, -1, &r);
	if (r.body && *r.body)
		fputs(r.body, rc == SP_EXIT_OK ? stdout : stderr);
	if (rc == SP_EXIT_OK && r.passed >= 0)
		rc = verb->op == SP_OP_CONSOLE ? sp_ctl_console(r.passed) :
						 sp_ctl_logs(r.passed, o.follow);
	sp_ctl_reply_free(&r);
	return rc;
}
