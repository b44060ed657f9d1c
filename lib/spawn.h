/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a program: the one place where Spectrum forks and execs.
 *
 * The child gets exactly what the caller describes and nothing it happens
 * to hold: descriptors 0, 1 and 2 as given, the extra descriptors placed
 * at the numbers asked for, every other descriptor closed at exec, default
 * signal dispositions and an empty signal mask, and an environment chosen
 * by the caller (a minimal one by default).  A failure in the child before
 * the program runs (a descriptor, the credentials, the exec itself) comes
 * back to the caller as an error with its errno, not as an exit status.
 */
#ifndef SP_SPAWN_H
#define SP_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

/* Where a program named without a '/' is looked up by default, and the
 * PATH of the default environment: the system's directories only. */
#define SP_SPAWN_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

/* At most this many extra descriptors (a VMM takes 5 + 2 per binding). */
#define SP_SPAWN_FDS_MAX 128

struct sp_spawn {
	/* The program and its arguments.  argv[0] with a '/' is run as it
	 * is; without, it is looked up in `search`, like a shell's PATH
	 * (an empty entry is the current directory); NULL: SP_SPAWN_PATH. */
	char *const *argv;
	const char *search;
	/* The environment; NULL: "PATH=" SP_SPAWN_PATH and nothing else,
	 * so that what root runs does not depend on who started it.  A
	 * caller that runs a tool for its user passes `environ`. */
	char *const *envp;
	/* The child's descriptors 0, 1 and 2; -1: /dev/null.  All three
	 * must be set (0, 1, 2 to pass the caller's own). */
	int in, out, err;
	/* Extra descriptors: fds[i] becomes want[i] (3 or more, distinct). */
	const int *fds;
	const int *want;
	size_t nfds;
	/* setsid(): no controlling terminal, so a terminal's Ctrl-C does
	 * not reach the child. */
	bool new_session;
	/* The child is killed (SIGKILL) when its parent ends (strictly: the
	 * thread that started it); set after the credentials, whose change
	 * clears it.  Fails if the parent has already ended. */
	bool die_with_parent;
	/* Runs as uid/gid with no supplementary groups; refused if root
	 * could be regained afterwards. */
	bool drop;
	uid_t uid;
	gid_t gid;
	/* Called in the child after the descriptors are placed and before
	 * the credentials drop, for what one caller alone needs (a mount
	 * namespace, a resource limit, a working directory).  Returns -1
	 * with errno set to stop: the error comes back as "preparing".
	 * Runs between fork and exec: async-signal-safe calls only. */
	int (*child_hook)(void *arg);
	void *hook_arg;
};

/*
 * Starts s->argv and returns its pid in *pid once it has run the exec.
 * On failure returns -1, with errno and err set: "cannot run NAME:
 * CAUSE" (or "cannot run NAME: STEP: CAUSE" when it failed before the
 * exec); err->missing is set when the program does not exist, so that
 * the caller can name the package to install.  A child that failed is
 * already waited for.
 */
int sp_spawn_start(const struct sp_spawn *s, pid_t *pid, struct sp_err *err);

/* waitpid() for pid, retried on EINTR. */
int sp_spawn_wait(pid_t pid, int *status);

/*
 * sp_spawn_start, then waits.  0 if the program exited with status 0;
 * otherwise -1 and err: "NAME failed (status N)" or "NAME was killed by
 * signal N", or what sp_spawn_start said.
 */
int sp_spawn_run(const struct sp_spawn *s, struct sp_err *err);

#endif
