/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configurations written in Nix (spectrum-nix(7)): a FILE.nix is evaluated
 * by nix-instantiate to the JSON model of spectrum.json(5), which is then
 * read like a data file (by spectrum(1), and by spectrumd(8) for -c and
 * switch).
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

/* At most this many data files of one evaluation are looked at. */
#define SP_NIX_DATA_MAX 64

/*
 * The data files (spectrum.json(5)) the evaluation read through
 * spectrum.fromData, absolute paths in the order read: nix/data.nix names
 * each on standard error when SPECTRUM_NIX_DATA_TRACE=1, which
 * sp_nix_eval sets.
 */
struct sp_nix_data {
	char *files[SP_NIX_DATA_MAX];
	size_t n;
};

void sp_nix_data_fini(struct sp_nix_data *data);

/* true if FILE names a Nix file: its name ends in ".nix". */
bool sp_nix_file(const char *file);

/*
 * Evaluates FILE with `nix-instantiate --eval --strict --json`.  On
 * SP_NIX_OK, *json holds the output (malloc'd, *len bytes, at most
 * SP_LIMIT_FILE_BYTES: a larger result is refused as a data file is).
 * Whatever the result, `data` (initialised here; sp_nix_data_fini frees
 * it) lists the data files read.  On SP_NIX_INVALID and SP_NIX_SYSTEM the problems are in
 * `diags`, one per line Nix reported, with the attribute path the Spectrum
 * Nix library's errors carry as their place; SP_NIX_SYSTEM also sets
 * diags->io_error.  SP_NIX_MISSING adds nothing: the caller says what to
 * install.
 */
enum sp_nix_result sp_nix_eval(const char *file, char **json, size_t *len, struct sp_nix_data *data,
			       struct sp_diags *diags);

/*
 * After the evaluation of a Nix file, or the check of its model, failed
 * with the errors in `diags`: each data file in `data` is checked on its
 * own, as `spectrum check FILE.json` checks it, and an error it has at
 * the same place as an error of `diags` is the data file's.  That error
 * is taken out of `diags`, and report() is called once for each data
 * file with its own diagnostics: the errors so found, with the data
 * file's own place and message.  A data file may be a fragment that only
 * the other modules complete (an instance of an application defined
 * elsewhere): its errors that the whole does not have are not reported.
 */
void sp_nix_blame_data(struct sp_diags *diags, const struct sp_nix_data *data,
		       void (*report)(const struct sp_diags *file_diags, void *arg), void *arg);

/* The directory of FILE ("." if it names none), malloc'd: relative paths
 * of a configuration start there. */
char *sp_nix_dir_of(const char *file);

/*
 * FILE.nix evaluated and parsed as a data file under FILE's own name,
 * with relative paths from FILE's directory.  On failure the errors are
 * in `d`, except those that a data file FILE imports has on its own,
 * which report() gets first (sp_nix_blame_data); *missing says that
 * nix-instantiate is not installed.  With json_out, the evaluated JSON
 * (malloc'd) is kept there on success.
 */
struct sp_config *sp_nix_load(const char *file, struct sp_diags *d, char **json_out,
			      size_t *json_len, bool *missing,
			      void (*report)(const struct sp_diags *file_diags, void *arg),
			      void *arg);

#endif
