/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-image: builds, verifies and lists the erofs root images of
 * Spectrum's applications.  Each command lives in its own file and is
 * dispatched through the table below.
 */
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "paths.h"

struct si_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;    /* synopsis after the command name */
	const char *summary; /* one line */
	const char *help;    /* the rest of `spectrum-image help NAME` */
};

static const struct si_cmd si_cmds[] = {
	{"build", si_cmd_build, "[-a ARCH] [-p PACKAGE]... [-d DIR]... [-n NAME | -o FILE]", "build an image",
	 "Builds an erofs image from the Debian packages PACKAGE and their dependencies\n"
	 "(Depends and Pre-Depends), unpacked in name order, with each directory DIR\n"
	 "copied over them in the order given (later wins).  The same inputs always give\n"
	 "the same bytes.\n"
	 "  -a ARCH     x86_64 (the default) or ppc64le\n"
	 "  -p PACKAGE  a Debian package; may be repeated\n"
	 "  -d DIR      a directory tree to copy into the image; may be repeated\n"
	 "  -n NAME     write $SPECTRUM_STATE_DIR/images/NAME.erofs (default: the first PACKAGE)\n"
	 "  -o FILE     write FILE\n"
	 "Packages are downloaded once into $SPECTRUM_CACHE_DIR/debs.  A manifest of the\n"
	 "inputs is written next to the image as FILE.manifest.json.\n"},
	{"verify", si_cmd_verify, "NAME | FILE", "rebuild an image and compare",
	 "Builds the image again from the inputs its manifest records, with the cached\n"
	 "packages of the same versions (verify never downloads), and compares the bytes.\n"
	 "Prints \"IMAGE: reproducible (sha256 ...)\" and exits 0, or \"IMAGE: differs from\n"
	 "a rebuild at byte N\" (N counted from 0) and exits 1.\n"},
	{"list", si_cmd_list, "", "list the named images",
	 "Lists the images in $SPECTRUM_STATE_DIR/images with their size and architecture.\n"},
	{"help", si_cmd_help, "[COMMAND]", "show help for a command",
	 "Without COMMAND lists the commands; with it, explains COMMAND.\n"},
	{NULL, NULL, NULL, NULL, NULL},
};

static const char si_exit_text[] =
	"exit status: 0 success, 1 build failed or verify found a difference,\n"
	"2 usage error, 3 system error (a file cannot be read or written)\n";

bool si_quiet;

static const struct si_cmd *si_cmd_find(const char *name)
{
	for (const struct si_cmd *c = si_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void si_progress(const char *fmt, ...)
{
	va_list ap;

	if (si_quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int si_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("spectrum-image: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "; see 'spectrum-image help %s'\n", cmd);
	else
		fputs("; see 'spectrum-image --help'\n", stderr);
	return SI_EXIT_USAGE;
}

/* An environment directory, made absolute: it ends up in the argument
 * vectors of the tools, where it must not look like an option. */
/*
 * The directories, by the rule every Spectrum program follows
 * (lib/paths.h): a relative path is taken from the current directory.  A
 * path too long to be made absolute is used as given; whatever opens it
 * then says what is wrong.
 */
static const char *si_dir(const char *var, const char *def, char *buf, size_t len)
{
	struct sp_err err = {0};

	if (sp_env_dir(var, def, buf, len, &err) < 0)
		return getenv(var);
	return buf;
}

const char *si_state_dir(void)
{
	static char buf[SP_PATH_MAX];

	return si_dir("SPECTRUM_STATE_DIR", SP_STATE_DIR_DEFAULT, buf, sizeof(buf));
}

const char *si_cache_dir(void)
{
	static char buf[SP_PATH_MAX];

	return si_dir("SPECTRUM_CACHE_DIR", SP_CACHE_DIR_DEFAULT, buf, sizeof(buf));
}

char *si_image_path(struct sp_arena *a, const char *arg, struct sp_err *e)
{
	if (strchr(arg, '/'))
		return sp_arena_strdup(a, arg);
	if (!sp_name_valid(arg))
		return si_fail(e, SI_EXIT_USAGE,
			       "invalid image name '%s' (a path needs a '/', as in ./%s)", arg, arg),
		       NULL;
	return sp_image_path(a, si_state_dir(), arg);
}

const char *si_deb_arch(enum sp_arch arch)
{
	switch (arch) {
	case SP_ARCH_X86_64:
		return "amd64";
	case SP_ARCH_PPC64LE:
		return "ppc64el";
	default:
		return NULL;
	}
}

static void si_main_usage(FILE *f)
{
	fputs("usage: spectrum-image [--version] [-h | --help] COMMAND [ARGS]\n\n", f);
	for (const struct si_cmd *c = si_cmds; c->name; c++)
		fprintf(f, "  spectrum-image %s%s%s\n", c->name, c->args[0] ? " " : "", c->args);
	fputs("\ncommands:\n", f);
	for (const struct si_cmd *c = si_cmds; c->name; c++)
		fprintf(f, "  %-7s %s\n", c->name, c->summary);
	fputs("\nenvironment: SPECTRUM_STATE_DIR (/var/lib/spectrum), SPECTRUM_CACHE_DIR\n"
	      "(/var/cache/spectrum), TMPDIR (/var/tmp)\n",
	      f);
	fputc('\n', f);
	fputs(si_exit_text, f);
	fputs("\nSee spectrum-image(1).\n", f);
}

static void si_cmd_usage(const struct si_cmd *c, FILE *f)
{
	fprintf(f, "usage: spectrum-image %s%s%s\n\n%s\n%s", c->name, c->args[0] ? " " : "", c->args, c->help,
		si_exit_text);
}

int si_cmd_help(int argc, char **argv)
{
	const struct si_cmd *c;

	if (argc < 2) {
		si_main_usage(stdout);
		return SI_EXIT_OK;
	}
	if (argc > 2)
		return si_usage_error("help", "unexpected argument '%s'", argv[2]);
	if (!(c = si_cmd_find(argv[1])))
		return si_usage_error(NULL, "unknown command '%s'", argv[1]);
	si_cmd_usage(c, stdout);
	return SI_EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct si_cmd *cmd;
	int code, sig;

	umask(022);
	if (argc < 2) {
		si_main_usage(stderr);
		return SI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		si_main_usage(stdout);
		return SI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("spectrum-image %s\n", SPECTRUM_VERSION);
		return SI_EXIT_OK;
	}
	if (!(cmd = si_cmd_find(argv[1])))
		return si_usage_error(NULL, "unknown command '%s'", argv[1]);
	if (argc > 2 && (strcmp(argv[2], "-h") == 0 || strcmp(argv[2], "--help") == 0)) {
		si_cmd_usage(cmd, stdout);
		return SI_EXIT_OK;
	}
	si_signals_init();
	code = cmd->run(argc - 1, argv + 1);
	si_tmp_remove();
	fflush(stdout);
	if ((sig = si_stop_signal())) {
		sigset_t set;

		/* die of the signal that stopped us, as the caller expects */
		signal(sig, SIG_DFL);
		sigemptyset(&set);
		sigaddset(&set, sig);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
	}
	return code;
}
