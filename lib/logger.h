/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The instance's logger: what the guest prints on its console, and what
 * its VMM says on stderr, kept in capped files of the run directory.
 *
 * Why a process of ours: QEMU's own chardev log grows without bound, and
 * the run directory is on /run, a tmpfs, i.e. host memory; a guest running
 * `yes` would fill it.  The logger keeps each file under its cap by
 * dropping the oldest half when the cap is reached, so `spectrum logs`
 * always has the newest lines.  It outlives a supervisor that dies (the
 * VMs keep running and keep logging) and ends when its inputs close,
 * i.e. with the VMM.
 *
 * Privileges: it runs as the instance's VMM uid, non-dumpable, with no
 * new privileges, and holds nothing but its pipes and the log files'
 * descriptors (root opened them in root's run directory).  RLIMIT_FSIZE
 * bounds the files it can write even if it were taken over.
 */
#ifndef SP_LOGGER_H
#define SP_LOGGER_H

#include <stddef.h>
#include <sys/types.h>

#include "plan.h"
#include "util.h"

/* Caps: the newest bytes kept of each stream (limits live in model.h). */
#define SP_LOG_CONSOLE_MAX SP_LIMIT_CONSOLE_LOG
#define SP_LOG_VMM_MAX SP_LIMIT_VMM_LOG
#define SP_LOG_DISPLAY_MAX SP_LIMIT_DISPLAY_LOG
/* Streams one logger keeps: console, VMM stderr, display relay. */
#define SP_LOG_STREAMS_MAX 3

struct sp_log_stream {
	int in;	    /* read end of a pipe */
	int out;    /* the log file, opened read-write by the caller */
	size_t max; /* its cap in bytes */
};

/*
 * Forks the logger for `n` streams (at most SP_LOG_STREAMS_MAX).  The caller keeps its
 * descriptors and closes them after the call; the logger has its own.
 * Returns its pid, or -1.
 */
pid_t sp_logger_spawn(const struct sp_plan *p, const struct sp_log_stream *s, size_t n,
		      struct sp_err *err);

/*
 * Appends `len` bytes to a capped log whose current size is *size: when
 * the cap would be passed, the newest half of the file (from a line start
 * where there is one) is moved to its beginning first.  Exposed for tests.
 */
int sp_log_append(int fd, off_t *size, size_t max, const char *buf, size_t len);

#endif
