/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the data file parser and everything downstream of
 * it: sp_config_parse() on arbitrary bytes (not NUL-terminated, so reads
 * past the end are caught), then for an accepted file the plan compiler
 * for each hypervisor choice, the plan JSON, and each back end's argv.
 *
 * Build: CC=clang meson setup -Dfuzz=true build-fuzz && ninja -C build-fuzz
 * Run:   bash tests/fuzz/run.sh build-fuzz 60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "diag.h"
#include "model.h"
#include "plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sp_host fuzz_host = {
	.arch = SP_ARCH_X86_64,
	.kvm_usable = true,
	.accel_forced = false,
	.forced = SP_ACCEL_TCG,
	.tsc_khz = 2500000,
	.state_dir = "/var/lib/spectrum",
	.run_dir = "/run/spectrum",
};

static void exercise_plan(const struct sp_plan *p)
{
	char *json = sp_plan_to_json(p);
	free(json);

	const struct sp_backend *be = sp_backend_get(p->hypervisor);
	if (!be)
		abort(); /* every hypervisor of a compiled plan has a back end */

	struct sp_argv argv;
	struct sp_err err;
	sp_argv_init(&argv);
	if (be->build(p, &argv, &err) == 0) {
		for (size_t i = 0; i < argv.n; i++) {
			if (!argv.v[i])
				abort(); /* the vector holds n strings, then NULL */
			free(sp_shell_quote(argv.v[i]));
		}
		if (argv.v && argv.v[argv.n])
			abort();
	}
	sp_argv_free(&argv);
}

static void exercise_config(const struct sp_config *cfg)
{
	/* -1: each instance's own hypervisor; then each one forced. */
	for (int hv = -1; hv < SP_HV_COUNT; hv++) {
		struct sp_err err;
		struct sp_plans *plans = sp_plan_compile(cfg, &fuzz_host, NULL, hv, &err);
		if (!plans)
			continue;
		for (size_t i = 0; i < plans->n; i++)
			exercise_plan(&plans->v[i]);
		sp_plans_free(plans);
	}

	/* One instance alone, by name. */
	if (cfg->ninstances > 0) {
		struct sp_err err;
		const char *name = cfg->instances[cfg->ninstances - 1].name;
		if (sp_config_instance(cfg, name) != &cfg->instances[cfg->ninstances - 1])
			abort();
		struct sp_plans *plans = sp_plan_compile(cfg, &fuzz_host, name, -1, &err);
		if (plans) {
			if (plans->n != 1)
				abort();
			sp_plans_free(plans);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_diags diags;
	sp_diags_init(&diags, "fuzz.json");

	struct sp_config *cfg = sp_config_parse((const char *)data, size, "fuzz.json", NULL, &diags);
	if (cfg) {
		exercise_config(cfg);
		sp_config_free(cfg);
	} else if (diags.errors == 0) {
		abort(); /* a refused file must say why */
	}

	char line[1024];
	for (size_t i = 0; i < diags.n; i++)
		sp_diag_format(&diags, &diags.v[i], line, sizeof(line));

	sp_diags_fini(&diags);
	return 0;
}
