/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum image ...: the image tool is a program of its own,
 * spectrum-image(1); this runs it, from beside this binary when it is
 * there (a build tree, or the same bin directory), else from PATH.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

int sp_cmd_image(int argc, char **argv)
{
	char self[PATH_MAX], tool[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	(void)argc;
	argv[0] = "spectrum-image";
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(tool, sizeof(tool), "%s/spectrum-image", self);
			if (access(tool, X_OK) == 0)
				execv(tool, argv);
		}
	}
	execvp("spectrum-image", argv);
	sp_warnx("cannot run spectrum-image: %s", strerror(errno));
	return SP_EXIT_SYSTEM;
}
