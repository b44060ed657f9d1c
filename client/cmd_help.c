/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "cmd.h"

int sp_cmd_help(int argc, char **argv)
{
	struct sp_cmd c;

	if (argc < 2) {
		puts("usage: spectrum [--version] [-h | --help] COMMAND [ARGS]\n");
		sp_cmds_print(stdout);
		puts("\nRun 'spectrum help COMMAND' for one command; see spectrum(1).");
		return SP_EXIT_OK;
	}
	if (argc > 2)
		return sp_usage_error("help", "too many arguments");
	if (!sp_cmd_find(argv[1], &c))
		return sp_usage_error(NULL, "unknown command '%s'", argv[1]);
	printf("usage: spectrum %s %s\n\n%s", c.name, c.args, c.help);
	return SP_EXIT_OK;
}
