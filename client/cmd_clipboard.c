/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum clipboard send | receive [INSTANCE]: the user's paste into one
 * instance, or copy of its selection (lib/clipboard.h).  A paste:  The text is read whole first (bounded), so that
 * nothing is sent for input that is too long; then a pipe's read end goes
 * to spectrumd with the request, and the text into the pipe once the
 * daemon said yes.  A copy: a pipe's write end goes to spectrumd, and at
 * most 1 MiB of what the guest writes into it, within SP_PASTE_WRITE_MS,
 * to the standard output.  Without INSTANCE, the instance whose window
 * has the focus: the app id spectrum.NAME, which only its display filter
 * sets.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "ctl.h"
#include "proto.h"
#include "spawn.h"

#define SP_PASTE_MAX (1u << 20) /* the filter's bound (wlfilter/filter.h) */
#define SP_TREE_MAX (8u << 20)	/* swaymsg's answer */
#define SP_PASTE_WRITE_MS 10000 /* the filter takes the text within this */
#define SP_APP_ID_PREFIX "spectrum."

extern char **environ;

/* Reads fd to its end into a malloc'd buffer of at most max bytes;
 * *len > max when there was more (the rest unread). */
static char *sp_read_bounded(int fd, size_t max, size_t *len)
{
	char *buf = sp_xmalloc(max + 2);
	ssize_t n;

	*len = 0;
	while (*len <= max && (n = read(fd, buf + *len, max + 1 - *len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		*len += (size_t)n;
	}
	buf[*len] = '\0';
	return buf;
}

/* The focused node of sway's tree, depth first. */
static json_t *sp_focused(json_t *node)
{
	static const char *const kids[] = {"nodes", "floating_nodes"};

	if (json_is_true(json_object_get(node, "focused")))
		return node;
	for (size_t k = 0; k < 2; k++) {
		json_t *arr = json_object_get(node, kids[k]), *child;
		size_t i;

		json_array_foreach(arr, i, child)
		{
			json_t *f = sp_focused(child);
			if (f)
				return f;
		}
	}
	return NULL;
}

/* The instance whose window has sway's focus, into name; -1 with the
 * reason printed. */
static int sp_focused_instance(char *name, size_t len)
{
	char *argv[] = {"swaymsg", "-r", "-t", "get_tree", NULL};
	struct sp_spawn s = {
		.argv = argv, .search = getenv("PATH"), .envp = environ, .in = -1, .err = 2};
	struct sp_err err = {0};
	int p[2], st = 0;
	pid_t pid;
	size_t n;
	char *out;
	json_t *tree, *f;
	const char *app;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	s.out = p[1];
	if (sp_spawn_start(&s, &pid, &err) < 0) {
		close(p[0]);
		close(p[1]);
		sp_warnx("clipboard send: %s (Debian package sway); or name the instance", err.msg);
		return -1;
	}
	close(p[1]);
	out = sp_read_bounded(p[0], SP_TREE_MAX, &n);
	close(p[0]);
	sp_spawn_wait(pid, &st);
	tree = out && n <= SP_TREE_MAX && st == 0 ? json_loadb(out, n, 0, NULL) : NULL;
	free(out);
	if (!tree) {
		sp_warnx("clipboard send: swaymsg -t get_tree gave no tree (is sway running, "
			 "SWAYSOCK set?); or name the instance");
		return -1;
	}
	f = sp_focused(tree);
	app = f ? json_string_value(json_object_get(f, "app_id")) : NULL;
	if (!app || strncmp(app, SP_APP_ID_PREFIX, strlen(SP_APP_ID_PREFIX)) != 0 ||
	    !sp_name_valid(app + strlen(SP_APP_ID_PREFIX)) ||
	    strlen(app + strlen(SP_APP_ID_PREFIX)) >= len) {
		sp_warnx("clipboard send: the focused window (app id %s) is not an instance's; "
			 "focus one, or name the instance",
			 app ? app : "none");
		json_decref(tree);
		return -1;
	}
	snprintf(name, len, "%s", app + strlen(SP_APP_ID_PREFIX));
	json_decref(tree);
	return 0;
}

/* Writes the text into the pipe, giving up if the filter takes none of
 * it for SP_PASTE_WRITE_MS. */
static int sp_paste_write(int fd, const char *text, size_t len)
{
	size_t off = 0;

	while (off < len) {
		struct pollfd p = {fd, POLLOUT, 0};
		ssize_t n;

		if (poll(&p, 1, SP_PASTE_WRITE_MS) == 0)
			return -1;
		n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		off += (size_t)n;
	}
	return 0;
}

static int sp_clipboard_send(const char *given)
{
	char name[64];
	struct sp_request rq;
	struct sp_ctl_reply r;
	struct sp_err err = {0};
	size_t len;
	char *text;
	int p[2], rc;

	text = sp_read_bounded(STDIN_FILENO, SP_PASTE_MAX, &len);
	if (!text || len > SP_PASTE_MAX) {
		sp_warnx("clipboard send: %s; nothing was sent",
			 text ? "more than 1 MiB on standard input" : strerror(errno));
		free(text);
		return SP_EXIT_USAGE;
	}
	if (given)
		snprintf(name, sizeof(name), "%s", given);
	if (!given && sp_focused_instance(name, sizeof(name)) < 0) {
		free(text);
		return SP_EXIT_SYSTEM;
	}
	if (sp_request_make(&rq, SP_OP_CLIPBOARD, 0, name) < 0 || pipe2(p, O_CLOEXEC) < 0) {
		free(text);
		return sp_usage_error("clipboard", "invalid request");
	}
	rc = sp_ctl_call(&rq, p[0], 5000, &r, &err);
	close(p[0]);
	if (rc < 0) {
		sp_warnx("%s", err.msg);
		rc = err.code ? err.code : SP_EXIT_SYSTEM;
	} else if (r.body && *r.body) {
		fputs(r.body, rc == SP_EXIT_OK ? stdout : stderr);
	}
	if (rc == SP_EXIT_OK && sp_paste_write(p[1], text, len) < 0) {
		sp_warnx("clipboard send: %s's display filter did not take the text (see its "
			 "display log)",
			 name);
		rc = SP_EXIT_SYSTEM;
	}
	close(p[1]);
	sp_ctl_reply_free(&r);
	free(text);
	return rc;
}

/* Reads the guest's text from the pipe: at most SP_PASTE_MAX bytes, each
 * within SP_PASTE_WRITE_MS of the one before; 0 or -1 (said why). */
static int sp_copy_read(int fd, const char *name)
{
	char buf[65536];
	size_t total = 0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, SP_PASTE_WRITE_MS) == 0) {
			sp_warnx("clipboard receive: %s's application sent nothing more for %d s; "
				 "what came is printed",
				 name, SP_PASTE_WRITE_MS / 1000);
			return -1;
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		if (total + (size_t)n > SP_PASTE_MAX) {
			sp_warnx("clipboard receive: %s's selection has more than 1 MiB; cut there",
				 name);
			n = (ssize_t)(SP_PASTE_MAX - total);
		}
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return -1;
		total += (size_t)n;
		if (total == SP_PASTE_MAX)
			return 0;
	}
}

static int sp_clipboard_receive(const char *given)
{
	char name[64];
	struct sp_request rq;
	struct sp_ctl_reply r;
	struct sp_err err = {0};
	int p[2], rc;

	if (given)
		snprintf(name, sizeof(name), "%s", given);
	if (!given && sp_focused_instance(name, sizeof(name)) < 0)
		return SP_EXIT_SYSTEM;
	if (sp_request_make(&rq, SP_OP_CLIPBOARD, SP_FLAG_COPY, name) < 0 ||
	    pipe2(p, O_CLOEXEC) < 0)
		return sp_usage_error("clipboard", "invalid request");
	rc = sp_ctl_call(&rq, p[1], 5000, &r, &err);
	close(p[1]); /* the guest's copy is the only writer left */
	if (rc < 0) {
		sp_warnx("%s", err.msg);
		rc = err.code ? err.code : SP_EXIT_SYSTEM;
	} else if (r.body && *r.body) {
		fputs(r.body, stderr);
	}
	if (rc == SP_EXIT_OK && sp_copy_read(p[0], name) < 0)
		rc = SP_EXIT_SYSTEM;
	close(p[0]);
	sp_ctl_reply_free(&r);
	return rc;
}

int sp_cmd_clipboard(int argc, char **argv)
{
	bool receive = argc >= 2 && strcmp(argv[1], "receive") == 0;

	signal(SIGPIPE, SIG_IGN); /* a filter that went: an error, not a death */
	if (argc < 2 || (strcmp(argv[1], "send") != 0 && !receive))
		return sp_usage_error(
			"clipboard",
			"the subcommands are 'send [INSTANCE]' and 'receive [INSTANCE]'");
	if (argc > 3)
		return sp_usage_error("clipboard", "too many arguments");
	if (argc == 3 && !sp_name_valid(argv[2]))
		return sp_usage_error("clipboard", "'%s' is not an instance name", argv[2]);
	if (receive)
		return sp_clipboard_receive(argc == 3 ? argv[2] : NULL);
	return sp_clipboard_send(argc == 3 ? argv[2] : NULL);
}
