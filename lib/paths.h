/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where Spectrum keeps things on the host, defined once for every program:
 * the state, run and cache directories (and the one rule for the
 * environment variables that move them), the daemon's socket, and the
 * path of a named root image.
 */
#ifndef SP_PATHS_H
#define SP_PATHS_H

#include <stddef.h>

#include "util.h"

#define SP_STATE_DIR_DEFAULT "/var/lib/spectrum"
#define SP_RUN_DIR_DEFAULT "/run/spectrum"
#define SP_CACHE_DIR_DEFAULT "/var/cache/spectrum"
#define SP_DAEMON_SOCKET "spectrumd.sock" /* in the run directory */
#define SP_PATH_MAX 4096

/*
 * The directory that environment variable `var` names, or `def` if it is
 * unset or empty.  A relative path is taken from the current directory
 * and made absolute here, so that every program (and every process a
 * program starts) reads it the same way.  Writes the path to buf;
 * returns -1 if it does not fit.
 */
int sp_env_dir(const char *var, const char *def, char *buf, size_t len, struct sp_err *err);

/* STATE_DIR/images/NAME.erofs, the root image of a named image. */
char *sp_image_path(struct sp_arena *a, const char *state_dir, const char *name);

/* RUN_DIR/spectrumd.sock, with the run directory from SPECTRUM_RUN_DIR. */
int sp_daemon_socket(char *buf, size_t len, struct sp_err *err);

#endif
