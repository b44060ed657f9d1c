/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostics of a configuration: every problem found in one data file,
 * each with the place it was found (a JSON path such as
 * "instances.mail-work.bindings.store.mode", or a line and column for a
 * syntax error) and a message that says what to do.  The client prints
 * each as one line:
 *
 *   FILE: PLACE: error: MESSAGE
 */
#ifndef SP_DIAG_H
#define SP_DIAG_H

#include <stddef.h>

#include "util.h"

enum sp_severity {
	SP_SEV_ERROR,
	SP_SEV_WARNING,
	SP_SEV_NOTE, /* not a problem: what a reader might take for one */
};

struct sp_diag {
	enum sp_severity sev;
	char *place;
	char *msg;
};

/* More than this many problems in one file are summarised, not listed. */
#define SP_DIAG_MAX 50

struct sp_diags {
	char *file;
	struct sp_diag v[SP_DIAG_MAX];
	size_t n;
	size_t errors;
	size_t warnings;
	size_t dropped;
	bool io_error; /* the file could not be read at all */
};

void sp_diags_init(struct sp_diags *d, const char *file);
void sp_diags_fini(struct sp_diags *d);
void sp_diag_add(struct sp_diags *d, enum sp_severity sev, const char *place, const char *fmt,
		 ...) SP_PRINTF(4, 5);
#define sp_diag_error(d, place, ...) sp_diag_add((d), SP_SEV_ERROR, (place), __VA_ARGS__)
#define sp_diag_warn(d, place, ...) sp_diag_add((d), SP_SEV_WARNING, (place), __VA_ARGS__)
#define sp_diag_note(d, place, ...) sp_diag_add((d), SP_SEV_NOTE, (place), __VA_ARGS__)

/* One line, no newline: "FILE: PLACE: error: MESSAGE". */
void sp_diag_format(const struct sp_diags *d, const struct sp_diag *g, char *buf, size_t len);

/*
 * Opens a user's file for reading, refusing without blocking what is not
 * a regular file (a FIFO, a socket, a device) with one error naming the
 * fix ("give the path of a KIND").  Returns the descriptor, or -1 with the
 * error added to d.
 */
int sp_diag_open_file(struct sp_diags *d, const char *file, const char *kind);

#endif
