/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-image: builds the immutable erofs root images of Spectrum's
 * applications from Debian packages and directory trees, reproducibly.
 * Every external symbol of the program starts with si_.
 */
#ifndef SI_IMAGE_H
#define SI_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model.h"
#include "sha256.h"
#include "util.h"

/* Exit codes; documented in the usage text and in spectrum-image(1). */
enum {
	SI_EXIT_OK = 0,
	SI_EXIT_FAIL = 1,   /* verify found a difference, or a build failed */
	SI_EXIT_USAGE = 2,  /* bad command line */
	SI_EXIT_SYSTEM = 3, /* a file or directory cannot be read or written */
};

/* Images are padded to a multiple of this: Cloud Hypervisor maps shared
 * roots with virtio-pmem, which must be 2 MiB aligned. */
#define SI_ALIGN (2ull << 20)
#define SI_MANIFEST_FORMAT 1
#define SI_UUID_LEN 37

/*
 * Failures are a struct sp_err (lib/util.h), printed by the command as one
 * line: the function that fails sets what failed and the fix, its callers
 * put what they were doing in front with sp_err_wrap ("building image
 * mail: unpacking libc6 2.36-9: ...").  The error's code is the exit
 * status, SI_EXIT_SYSTEM when none was given.  si_fail sets the failure
 * with its exit status and returns -1.
 */
int si_fail(struct sp_err *e, int code, const char *fmt, ...) SP_PRINTF(3, 4);

/* main.c */
extern bool si_quiet; /* no progress lines (verify) */
void si_progress(const char *fmt, ...) SP_PRINTF(1, 2);
int si_usage_error(const char *cmd, const char *fmt, ...) SP_PRINTF(2, 3);
/* $SPECTRUM_STATE_DIR or /var/lib/spectrum; $SPECTRUM_CACHE_DIR or
 * /var/cache/spectrum. */
const char *si_state_dir(void);
const char *si_cache_dir(void);
/* NAME (no '/') is $SPECTRUM_STATE_DIR/images/NAME.erofs; anything else is
 * a path.  NULL with a usage error in `e` if NAME is not a valid name. */
char *si_image_path(struct sp_arena *a, const char *arg, struct sp_err *e);
/* amd64, ppc64el; NULL for an architecture the tool does not build. */
const char *si_deb_arch(enum sp_arch arch);

/* run.c: child processes, signals and the private temporary directory. */
void si_signals_init(void);
/* true (and `e` set) once SIGINT, SIGTERM or SIGHUP has arrived. */
bool si_stopped(struct sp_err *e);
int si_stop_signal(void);
/* Creates the private directory ($TMPDIR or /var/tmp)/spectrum-image.XXXXXX. */
int si_tmp_create(struct sp_err *e);
const char *si_tmp_dir(void);
void si_tmp_remove(void);
/* Removes a tree without following symbolic links; 0 or -1 with errno. */
int si_rmtree(const char *path);
/* mkdir -p; existing directories are left as they are. */
int si_mkdirs(const char *path, mode_t mode, struct sp_err *e);
/*
 * Runs argv (argv[0] searched in PATH, LC_ALL=C) with standard input from
 * /dev/null, standard output to `out` (or /dev/null), standard error to a
 * file in the private directory, in `cwd` (or the current directory).
 * Returns the exit status, or -1 with `e` set if the program could not be
 * started, died of a signal, or we were interrupted.
 */
int si_run(char *const argv[], const char *cwd, const char *out, struct sp_err *e);
/* The most telling line the last program wrote on its standard error
 * ("E: ..." for apt), or "". */
const char *si_run_stderr(void);
/* Reads a whole file (at most `max` bytes) into the arena, NUL-terminated. */
char *si_read_file(struct sp_arena *a, const char *path, size_t max, size_t *len, struct sp_err *e);
/* SHA-256 of a file; `size` may be NULL. */
int si_file_sha256(const char *path, char hex[SI_SHA256_HEX], uint64_t *size, struct sp_err *e);

/* apt.c: dependency closure, package versions and the .deb cache. */
struct si_pkg {
	char *name;
	char *version;
	char *arch;   /* of the .deb: amd64, ppc64el or all */
	char *sha256; /* of the .deb */
	char *file;   /* in the cache: NAME_VERSION_ARCH.deb, ':' as %3a */
};
/* Debian policy: [a-z0-9][a-z0-9+.-]+ */
bool si_pkg_name_valid(const char *s);
bool si_pkg_version_valid(const char *s);
char *si_deb_file_name(struct sp_arena *a, const char *name, const char *version, const char *arch);
/* The closure of `names` for `arch`, sorted by name, with candidate versions. */
int si_apt_resolve(struct sp_arena *a, enum sp_arch arch, char *const *names, size_t nnames,
		   struct si_pkg **out, size_t *nout, struct sp_err *e);
/* Makes every package present in `debdir`, downloading the missing ones. */
int si_apt_fetch(struct sp_arena *a, enum sp_arch arch, const struct si_pkg *pkgs, size_t n,
		 const char *debdir, struct sp_err *e);
/* verify: every package must already be in `debdir`, with its digest. */
int si_cache_check(enum sp_arch arch, const struct si_pkg *pkgs, size_t n, const char *debdir,
		   struct sp_err *e);

/* tree.c: the staging tree. */
int si_unpack(const char *deb, const char *staging, struct sp_err *e);
/* Copies `src` over `staging` (later wins) and returns the digest of the
 * tree's content (names, types, modes, data, link targets). */
int si_overlay(const char *src, const char *staging, char digest[SI_SHA256_HEX], struct sp_err *e);
int si_mount_points(const char *staging, struct sp_err *e);
uint64_t si_tree_bytes(const char *staging);

/* build.c */
struct si_inputs {
	enum sp_arch arch;
	struct si_pkg *pkgs; /* sorted by name */
	size_t npkgs;
	char **dirs; /* absolute, in order */
	size_t ndirs;
};
struct si_image {
	uint64_t size;
	char sha256[SI_SHA256_HEX];
	char uuid[SI_UUID_LEN];
	char (*dir_sha256)[SI_SHA256_HEX]; /* one per input directory */
};
/* Unpacks, overlays and writes the image to `out` (in the private
 * directory or next to the final file); packages must be in `debdir`. */
int si_image_make(struct sp_arena *a, const struct si_inputs *in, const char *debdir, const char *out,
		  struct si_image *img, struct sp_err *e);

/* manifest.c */
int si_manifest_write(const char *path, const struct si_inputs *in, const struct si_image *img,
		      struct sp_err *e);
int si_manifest_read(struct sp_arena *a, const char *path, struct si_inputs *in, struct si_image *img,
		     struct sp_err *e);

/* Commands. */
int si_cmd_build(int argc, char **argv);
int si_cmd_verify(int argc, char **argv);
int si_cmd_list(int argc, char **argv);
int si_cmd_help(int argc, char **argv);

#endif
