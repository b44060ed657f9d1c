/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef SPECTRUM_CMD_H
#define SPECTRUM_CMD_H

#include <stdio.h>

#include "diag.h"
#include "model.h"
#include "plan.h"

/* Exit codes of spectrum(1); documented in its EXIT STATUS section. */
enum {
	SP_EXIT_OK = 0,
	SP_EXIT_INVALID = 1, /* the configuration is invalid */
	SP_EXIT_USAGE = 2,   /* bad command line */
	SP_EXIT_SYSTEM = 3,  /* a file cannot be read, the host cannot be inspected */
	SP_EXIT_DENIED = 4,  /* spectrumd refused the caller */
};

struct sp_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;    /* synopsis after the command name */
	const char *summary; /* one line */
	const char *help;    /* the rest of `spectrum help NAME` */
};

/* The commands run here; spectrumd's verbs are in sp_verbs (proto.h). */
extern const struct sp_cmd sp_cmds[];

/* Fills *out with the command or verb called `name`; false if none is. */
bool sp_cmd_find(const char *name, struct sp_cmd *out);

/* Lists every command and verb with its summary. */
void sp_cmds_print(FILE *f);

int sp_cmd_check(int argc, char **argv);
int sp_cmd_plan(int argc, char **argv);
int sp_cmd_help(int argc, char **argv);
int sp_cmd_run(int argc, char **argv);
int sp_cmd_image(int argc, char **argv);
int sp_cmd_desktop(int argc, char **argv);
int sp_cmd_ctl(int argc, char **argv);
int sp_cmd_clipboard(int argc, char **argv);

/* Program-level reporting: one line on stderr, prefixed "spectrum: ". */
void sp_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sp_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints every diagnostic, one per line, on stderr. */
void sp_print_diags(const struct sp_diags *d);

/*
 * Loads FILE and prints its errors, and its warnings if `warnings` (only
 * `check` shows them: they concern running instances together).  Returns the model, or NULL with
 * *exit_code set (SP_EXIT_INVALID, or SP_EXIT_SYSTEM if unreadable).
 */
struct sp_config *sp_load_config(const char *file, bool warnings, int *exit_code);

/*
 * Loads FILE and compiles the plan of INSTANCE (every instance if NULL)
 * for this host, with hypervisor `hv` (-1: each instance's own), printing
 * any problem.  Returns the plans (and the config in *cfg, to free after
 * them), or NULL with *exit_code set.
 */
struct sp_plans *sp_compile_file(const char *file, const char *instance, int hv,
				 struct sp_config **cfg, int *exit_code);

#endif
