/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum check FILE: everything short of running — the data file's
 * rules, then a plan and a VMM command line for every instance, so that a
 * hypervisor that cannot run an instance is caught here and not at start.
 */
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "cmd.h"

/* Compiles and builds argv for one instance; prints a problem if any. */
static bool sp_check_instance(const struct sp_config *cfg, const struct sp_host *host,
			      const char *name)
{
	struct sp_err err = {0};
	struct sp_plans *plans = sp_plan_compile(cfg, host, name, -1, &err);
	bool ok = plans != NULL;

	if (plans) {
		const struct sp_plan *p = &plans->v[0];
		struct sp_argv argv;
		sp_argv_init(&argv);
		if (sp_backend_get(p->hypervisor)->build(p, &argv, &err) < 0) {
			ok = err.missing;
			fprintf(stderr, "%s: instances.%s: %s: %s\n", cfg->file, name,
				ok ? "warning" : "error", err.msg);
		}
		sp_argv_free(&argv);
		sp_plans_free(plans);
	} else {
		fprintf(stderr, "%s: %s: error: %s\n", cfg->file, err.place, err.msg);
	}
	return ok;
}

int sp_cmd_check(int argc, char **argv)
{
	struct sp_err err = {0};
	struct sp_host host;
	struct sp_config *cfg;
	int rc = SP_EXIT_OK;
	size_t bad = 0;

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
	for (size_t i = 0; i < cfg->ninstances; i++)
		if (!sp_check_instance(cfg, &host, cfg->instances[i].name))
			bad++;
	if (bad) {
		rc = SP_EXIT_INVALID;
	} else {
		printf("%s: ok: %zu application%s, %zu resource%s, %zu instance%s\n", cfg->file,
		       cfg->napplications, cfg->napplications == 1 ? "" : "s", cfg->nresources,
		       cfg->nresources == 1 ? "" : "s", cfg->ninstances,
		       cfg->ninstances == 1 ? "" : "s");
	}
	sp_config_free(cfg);
	return rc;
}
