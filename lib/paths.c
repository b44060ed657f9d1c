/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host paths: see paths.h. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sp_env_dir(const char *var, const char *def, char *buf, size_t len, struct sp_err *err)
{
	const char *v = getenv(var);
	char cwd[SP_PATH_MAX];
	int n;

	if (!v || !*v)
		v = def;
	if (v[0] == '/') {
		n = snprintf(buf, len, "%s", v);
	} else if (getcwd(cwd, sizeof(cwd))) {
		n = snprintf(buf, len, "%s/%s", cwd, v);
	} else {
		sp_err_set(err, "%s=\"%s\": cannot find the current directory: %s", var, v,
			   strerror(errno));
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		sp_err_set(err, "%s=\"%s\" is longer than %zu bytes as an absolute path", var, v,
			   len - 1);
		return -1;
	}
	/* "/a/b/" and "/a/b" are one directory; socket paths are built on it. */
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	return 0;
}

char *sp_image_path(struct sp_arena *a, const char *state_dir, const char *name)
{
	return sp_arena_printf(a, "%s/images/%s.erofs", state_dir, name);
}

int sp_daemon_socket(char *buf, size_t len, struct sp_err *err)
{
	char dir[SP_PATH_MAX];

	if (sp_env_dir("SPECTRUM_RUN_DIR", SP_RUN_DIR_DEFAULT, dir, sizeof(dir), err) < 0)
		return -1;
	if ((size_t)snprintf(buf, len, "%s/%s", dir, SP_DAEMON_SOCKET) >= len) {
		sp_err_set(err, "the socket path %s/%s is too long; use a shorter SPECTRUM_RUN_DIR",
			   dir, SP_DAEMON_SOCKET);
		return -1;
	}
	return 0;
}
