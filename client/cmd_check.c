/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum check FILE: everything short of running — the data file's
 * rules, then a plan and a VMM command line for every instance, so that a
 * hypervisor that cannot run an instance is caught here and not at start.
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "edit.h"

int sp_cmd_check(int argc, char **argv)
{
	struct sp_err err = {0};
	struct sp_host host;
	struct sp_config *cfg;
	struct sp_diags d;
	int rc = SP_EXIT_OK;

	if (argc != 2)
		return sp_usage_error("check", argc < 2 ? "missing FILE" : "too many arguments");
	cfg = sp_load_config(argv[1], true, &rc);
	if (!cfg)
		return rc;
	if (sp_host_detect(&host, &err) < 0) {
		sp_warnx("%s", err.msg);
		sp_config_free(cfg);
		return SP_EXIT_SYSTEM;
	}
	/* The plans and VMM command lines, as spectrum-settings(1) checks
	 * them too (lib/edit.c). */
	sp_diags_init(&d, cfg->file);
	sp_check_plans(cfg, &host, &d);
	sp_print_diags(&d);
	if (d.errors) {
		rc = SP_EXIT_INVALID;
	} else {
		printf("%s: ok: %zu application%s, %zu resource%s, %zu instance%s\n", cfg->file,
		       cfg->napplications, cfg->napplications == 1 ? "" : "s", cfg->nresources,
		       cfg->nresources == 1 ? "" : "s", cfg->ninstances,
		       cfg->ninstances == 1 ? "" : "s");
	}
	sp_diags_fini(&d);
	sp_config_free(cfg);
	return rc;
}
