/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness of the guest configuration parser: gi_config_parse()
 * on arbitrary bytes, which are not NUL-terminated (reads past the end are
 * caught), and for an accepted file a walk over everything it returned.
 *
 * Build: CC=clang meson setup -Dfuzz=true build-fuzz && ninja -C build-fuzz
 * Run:   build-fuzz/guest/fuzz_gconfig -max_len=65536 CORPUS_COPY guest/fuzz-corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gconfig.h"
#include "guestproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gi_config cfg;
	char err[GI_ERR_MAX];
	size_t total = 0;

	if (gi_config_parse((const char *)data, size, &cfg, err, sizeof(err)) < 0) {
		/* A refusal always says why, in one line. */
		if (!err[0] || strchr(err, '\n'))
			abort();
		gi_config_free(&cfg);
		return 0;
	}
	/* What the init relies on. */
	if (!cfg.hostname || cfg.ncmds == 0 || cfg.env[cfg.nenv] != NULL)
		abort();
	for (size_t i = 0; i < cfg.nenv; i++)
		if (!strchr(cfg.env[i], '='))
			abort();
	for (size_t i = 0; i < cfg.nmounts; i++) {
		const struct gi_mount *m = &cfg.mounts[i];
		if (m->path[0] != '/' || strchr(m->path, '\n') || !m->source || !m->fstype)
			abort();
		/* Parents first. */
		for (size_t j = i + 1; j < cfg.nmounts; j++)
			if (gi_path_below(m->path, cfg.mounts[j].path))
				abort();
		total += strlen(m->path) + strlen(m->source);
	}
	for (size_t i = 0; i < cfg.ncmds; i++) {
		const struct gi_cmd *c = &cfg.cmds[i];
		if (c->argc == 0 || c->argv[0][0] != '/' || c->argv[c->argc] != NULL)
			abort();
		/* With app lines every cmd has one, in order; without, none. */
		if (cfg.napps ? c->app < 0 || (size_t)c->app >= cfg.napps ||
					(i > 0 && c->app < cfg.cmds[i - 1].app) :
				c->app != -1)
			abort();
		for (size_t j = 0; j < c->argc; j++)
			total += strlen(c->argv[j]);
	}
	for (size_t a = 0; a < cfg.napps; a++) {
		bool used = false;
		if (!sp_gp_app_name_valid(cfg.apps[a]))
			abort();
		for (size_t i = 0; i < cfg.ncmds; i++)
			used |= cfg.cmds[i].app == (int)a;
		if (!used)
			abort();
	}
	/* Unescaping never grows the text. */
	if (total > size)
		abort();
	gi_config_free(&cfg);
	return 0;
}
