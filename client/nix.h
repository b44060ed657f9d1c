/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configurations written in Nix (spectrum-nix(7)): a FILE.nix is evaluated
 * by nix-instantiate to the JSON model of spectrum.json(5), which the
 * client then reads like a data file.
 */
#ifndef SPECTRUM_NIX_H
#define SPECTRUM_NIX_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum sp_nix_result {
	SP_NIX_OK,
	SP_NIX_INVALID, /* the Nix code failed: a configuration error */
	SP_NIX_SYSTEM,	/* the file or nix-instantiate could not be used */
	SP_NIX_MISSING, /* nix-instantiate is not installed */
};

/* true if FILE names a Nix file: its name ends in ".nix". */
bool sp_nix_file(const char *file);

/*
 * Evaluates FILE with `nix-instantiate --eval --strict --json`.  On
 * SP_NIX_OK, *json holds the output (malloc'd, *len bytes, at most
 * SP_LIMIT_FILE_BYTES: a larger result is refused as a data file is).  On SP_NIX_INVALID and SP_NIX_SYSTEM the problems are in
 * `diags`, one per line Nix reported, with the attribute path the Spectrum
 * Nix library's errors carry as their place; SP_NIX_SYSTEM also sets
 * diags->io_error.  SP_NIX_MISSING adds nothing: the caller says what to
 * install.
 */
enum sp_nix_result sp_nix_eval(const char *file, char **json, size_t *len, struct sp_diags *diags);

#endif
