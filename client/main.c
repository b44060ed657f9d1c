/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum: the command-line client.  Each subcommand lives in its own
 * file and is dispatched through the table below; the verbs that spectrumd
 * carries out come from the protocol's table (sp_verbs, lib/proto.c) and
 * all go to sp_cmd_ctl.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "nix.h"
#include "proto.h"

const struct sp_cmd sp_cmds[] = {
	{"check", sp_cmd_check, "FILE", "validate a data file",
	 "Reads FILE, checks every rule of spectrum.json(5) and compiles a plan for every\n"
	 "instance.  Prints one line per problem (\"FILE: PLACE: error: MESSAGE\") on\n"
	 "standard error, or a one-line summary on standard output.  Warnings, such as\n"
	 "a device bound into two instances, do not make the check fail.  A FILE whose\n"
	 "name ends in .nix is evaluated with nix-instantiate first; see spectrum-nix(7).\n"},
	{"plan", sp_cmd_plan,
	 "FILE [INSTANCE] [--json | --argv | --guest | --libvirt] [--libvirt-dir DIR]\n"
	 "    [--hypervisor NAME]",
	 "show what would run",
	 "Compiles FILE and prints the plan of every instance, or of INSTANCE only:\n"
	 "  (default)          a summary per instance\n"
	 "  --json             the plans as a JSON array\n"
	 "  --guest            the guest configuration spectrum-init reads\n"
	 "  --argv             the hypervisor command line, shell-quoted, one block per instance\n"
	 "  --hypervisor NAME  use qemu, crosvm or cloud-hypervisor for every instance\n"
	 "  --libvirt          libvirt domain XML of INSTANCE; writes its initramfs to\n"
	 "                     STATE_DIR/libvirt/INSTANCE.initrd (or to DIR)\n"
	 "  --libvirt-dir DIR  writes DIR/INSTANCE.initrd and DIR/INSTANCE.xml for\n"
	 "                     INSTANCE (or every instance), prints the XML files' paths\n"},
	{"run", sp_cmd_run, "FILE INSTANCE [--timeout SECONDS] [--disposable]",
	 "boot one instance in the foreground",
	 "Boots INSTANCE and copies its console to standard output until its application\n"
	 "exits; then exits with the application's exit status.  Ctrl-C asks the guest to\n"
	 "stop the application and power off; a second Ctrl-C stops the VM at once.\n"
	 "Volumes are created and formatted on first use.  --timeout stops the VM after\n"
	 "SECONDS.  Besides the application's status, the exit status is 120-125 when the\n"
	 "guest's init failed (see spectrum-init(8)), 126 when the VM stopped without a\n"
	 "status, and 1, 2 or 3 as for every command when nothing was started.\n"
	 "An instance of several applications runs until all have exited, prints each\n"
	 "one's status on standard error and exits with the first failure's status.\n"
	 "--disposable runs it as \"disposable\": true does: its writable volumes are\n"
	 "seen through a throwaway layer, and nothing it writes reaches them.\n"},
	{"image", sp_cmd_image, "build | verify | list ...", "build and verify root images",
	 "Runs spectrum-image(1): 'spectrum image build -n NAME -p PACKAGE -d DIR' makes a\n"
	 "reproducible erofs root image, 'spectrum image verify NAME' rebuilds it and\n"
	 "compares, 'spectrum image list' shows the images.\n"},
	{"desktop", sp_cmd_desktop, "[--print-config]", "start the host desktop (sway)",
	 "Starts sway (Debian's sway 1.7) as the desktop user with a configuration that\n"
	 "includes the user's own sway configuration (~/.sway/config,\n"
	 "$XDG_CONFIG_HOME/sway/config or /etc/sway/config, the first there is), then\n"
	 "Spectrum's fragment (title bars for the instances' labels; installed as\n"
	 "share/spectrum/sway/spectrum.conf).  The configuration is written to\n"
	 "$XDG_RUNTIME_DIR/spectrum-sway.conf; SWAYSOCK is $XDG_RUNTIME_DIR/sway-ipc.sock\n"
	 "unless set, the path to give spectrumd as SPECTRUM_SWAYSOCK.\n"
	 "--print-config prints the configuration and starts nothing.\n"},
	{"help", sp_cmd_help, "[COMMAND]", "show help for a command",
	 "Without COMMAND lists the commands; with it, explains COMMAND.\n"},
	{NULL, NULL, NULL, NULL, NULL},
};

bool sp_cmd_find(const char *name, struct sp_cmd *out)
{
	const struct sp_verb *v;

	for (const struct sp_cmd *c = sp_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0) {
			*out = *c;
			return true;
		}
	v = sp_verb_find(name);
	if (!v)
		return false;
	/* A verb with its own client side (its file): the rest are sp_cmd_ctl's. */
	*out = (struct sp_cmd){v->name, v->op == SP_OP_CLIPBOARD ? sp_cmd_clipboard : sp_cmd_ctl,
			       v->args, v->summary, v->help};
	return true;
}

void sp_cmds_print(FILE *f)
{
	fputs("commands:\n", f);
	for (const struct sp_cmd *c = sp_cmds; c->name; c++)
		fprintf(f, "  %-8s %s\n", c->name, c->summary);
	fputs("\ncommands that spectrumd carries out:\n", f);
	for (const struct sp_verb *v = sp_verbs; v->name; v++)
		fprintf(f, "  %-8s %s\n", v->name, v->summary);
}

void sp_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("spectrum: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int sp_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("spectrum: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "; see 'spectrum help %s'\n", cmd);
	else
		fputs("; see 'spectrum --help'\n", stderr);
	return SP_EXIT_USAGE;
}

static void sp_print_diags_filtered(const struct sp_diags *d, bool warnings)
{
	char line[2048];

	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].sev != SP_SEV_ERROR && !warnings)
			continue;
		sp_diag_format(d, &d->v[i], line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	if (d->dropped)
		fprintf(stderr, "%s: %zu more problems not shown\n", d->file, d->dropped);
}

void sp_print_diags(const struct sp_diags *d)
{
	sp_print_diags_filtered(d, true);
}

static void sp_print_data_diags(const struct sp_diags *d, void *warnings)
{
	sp_print_diags_filtered(d, *(const bool *)warnings);
}

struct sp_config *sp_load_config(const char *file, bool warnings, int *exit_code)
{
	struct sp_diags d;
	struct sp_config *cfg;
	bool missing = false;

	sp_diags_init(&d, file);
	cfg = sp_nix_file(file) ?
		      sp_nix_load(file, &d, NULL, NULL, &missing, sp_print_data_diags, &warnings) :
		      sp_config_load(file, &d);
	sp_print_diags_filtered(&d, warnings);
	if (missing)
		sp_warnx("%s: evaluating Nix needs nix-instantiate (Debian package nix-bin); install it or give the JSON data file",
			 file);
	if (!cfg)
		*exit_code = d.io_error || missing ? SP_EXIT_SYSTEM : SP_EXIT_INVALID;
	sp_diags_fini(&d);
	return cfg;
}

struct sp_plans *sp_compile_file(const char *file, const char *instance, int hv,
				 struct sp_config **cfgp, int *exit_code)
{
	struct sp_err err = {0};
	struct sp_plans *plans;
	struct sp_config *cfg;
	struct sp_host host;

	*cfgp = NULL;
	cfg = sp_load_config(file, false, exit_code);
	if (!cfg)
		return NULL;
	if (instance && !sp_config_instance(cfg, instance)) {
		fprintf(stderr, "%s: error: no instance named \"%s\"; 'spectrum plan %s' lists them\n",
			cfg->file, instance, cfg->file);
		*exit_code = SP_EXIT_INVALID;
	} else if (sp_host_detect(&host, &err) < 0) {
		sp_warnx("%s", err.msg);
		*exit_code = SP_EXIT_SYSTEM;
	} else if (!(plans = sp_plan_compile(cfg, &host, instance, hv, &err))) {
		fprintf(stderr, "%s: %s: error: %s\n", cfg->file, err.place, err.msg);
		*exit_code = SP_EXIT_INVALID;
	} else {
		*cfgp = cfg;
		return plans;
	}
	sp_config_free(cfg);
	return NULL;
}

static void sp_main_usage(FILE *f)
{
	fputs("usage: spectrum [--version] [-h | --help] COMMAND [ARGS]\n\n", f);
	sp_cmds_print(f);
	fputs("\n'spectrum help COMMAND' shows a command's arguments; see spectrum(1) and\n"
	      "spectrum.json(5).\n", f);
}

int main(int argc, char **argv)
{
	struct sp_cmd cmd;

	if (argc < 2) {
		sp_main_usage(stderr);
		return SP_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		sp_main_usage(stdout);
		return SP_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("spectrum %s\n", SPECTRUM_VERSION);
		return SP_EXIT_OK;
	}
	if (!sp_cmd_find(argv[1], &cmd))
		return sp_usage_error(NULL, "unknown command '%s'", argv[1]);
	return cmd.run(argc - 1, argv + 1);
}
