/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "cmd.h"

int sp_cmd_help(int argc, char **argv)
{
	const struct sp_cmd *c;

	if (argc < 2) {
		puts("usage: spectrum [--version] [-h | --help] COMMAND [ARGS]\n\ncommands:");
		for (c = sp_cmds; c->name; c++)
			printf("  %-8s %s\n", c->name, c->summary);
		puts("\nRun 'spectrum help COMMAND' for one command; see spectrum(1).");
		return SP_EXIT_OK;
	}
	if (argc > 2)
		return sp_usage_error("help", "too many arguments");
	c = sp_cmd_find(argv[1]);
	if (!c)
		return sp_usage_error(NULL, "unknown command '%s'", argv[1]);
	printf("usage: spectrum %s %s\n\n%s", c->name, c->args, c->help);
	return SP_EXIT_OK;
}
