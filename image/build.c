/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-image build, and the steps every build takes (shared with
 * verify): unpack, overlay, mount points, mkfs.erofs, padding, digest.
 *
 * An image is a function of its inputs only: packages are unpacked in
 * name order, trees are copied in name order, mkfs.erofs sorts directory
 * entries, gives every inode the time 0 (-T0) and root ownership, drops
 * extended attributes, and takes a UUID derived from the inputs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

/* The file system UUID: SHA-256 of a description of the inputs, as an
 * RFC 9562 version 8 (custom) UUID. */
static void si_uuid(const struct si_inputs *in, const struct si_image *img, char out[SI_UUID_LEN])
{
	struct si_sha256 c;
	uint8_t d[SI_SHA256_LEN];
	char line[1024];

	si_sha256_init(&c);
	snprintf(line, sizeof(line), "spectrum-image %d\narch %s\n", SI_MANIFEST_FORMAT, sp_arch_name(in->arch));
	si_sha256_update(&c, line, strlen(line));
	for (size_t i = 0; i < in->npkgs; i++) {
		snprintf(line, sizeof(line), "package %s=%s\n", in->pkgs[i].name, in->pkgs[i].version);
		si_sha256_update(&c, line, strlen(line));
	}
	for (size_t i = 0; i < in->ndirs; i++) {
		snprintf(line, sizeof(line), "dir %s\n", img->dir_sha256[i]);
		si_sha256_update(&c, line, strlen(line));
	}
	si_sha256_final(&c, d);
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x80);
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
	snprintf(out, SI_UUID_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0], d[1], d[2], d[3],
		 d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14], d[15]);
}

static int si_pad(const char *path, uint64_t *size, struct sp_err *e)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat st;
	uint64_t padded;

	if (fd < 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_size <= 0) {
		close(fd);
		return si_fail(e, SI_EXIT_FAIL, "mkfs.erofs wrote nothing to %s", path);
	}
	padded = ((uint64_t)st.st_size + SI_ALIGN - 1) / SI_ALIGN * SI_ALIGN;
	if (ftruncate(fd, (off_t)padded) != 0 || fsync(fd) != 0) {
		int err = errno;

		close(fd);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot write %s: %s", path, strerror(err));
	}
	close(fd);
	*size = padded;
	return 0;
}

int si_image_make(struct sp_arena *a, const struct si_inputs *in, const char *debdir, const char *out,
		  struct si_image *img, struct sp_err *e)
{
	char *staging = sp_arena_printf(a, "%s/root", si_tmp_dir());
	uint64_t bytes, size = 0;
	int rc;

	if (si_rmtree(staging) != 0 || mkdir(staging, 0755) != 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot create the staging tree %s: %s", staging, strerror(errno));
	for (size_t i = 0; i < in->npkgs; i++) {
		const struct si_pkg *p = &in->pkgs[i];

		si_progress("unpacking %zu/%zu %s", i + 1, in->npkgs, p->name);
		if (si_unpack(sp_arena_printf(a, "%s/%s", debdir, p->file), staging, e) != 0) {
			sp_err_wrap(e, "unpacking %s %s", p->name, p->version);
			return -1;
		}
	}
	img->dir_sha256 = sp_arena_array(a, in->ndirs ? in->ndirs : 1, sizeof(*img->dir_sha256));
	for (size_t i = 0; i < in->ndirs; i++) {
		si_progress("copying %s", in->dirs[i]);
		if (si_overlay(in->dirs[i], staging, img->dir_sha256[i], e) != 0)
			return -1;
	}
	if (si_mount_points(staging, e) != 0 || si_stopped(e))
		return -1;
	si_uuid(in, img, img->uuid);

	bytes = si_tree_bytes(staging);
	si_progress("writing image (%llu MiB)", (unsigned long long)((bytes + (1u << 20) - 1) >> 20));
	char *argv[] = {"mkfs.erofs", "--quiet", "-T0", "-U", img->uuid, "--all-root", "-x-1",
			(char *)out, staging, NULL};
	rc = si_run(argv, NULL, NULL, e);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return si_fail(e, SI_EXIT_FAIL, "mkfs.erofs failed (%s)", si_run_stderr());
	if (si_pad(out, &size, e) != 0 || si_file_sha256(out, img->sha256, &img->size, e) != 0)
		return -1;
	if (img->size != size)
		return si_fail(e, SI_EXIT_SYSTEM, "%s changed while it was written", out);
	return 0;
}

/* --- the command ------------------------------------------------------ */

/* `path` made absolute (against the current directory) and normalized. */
static char *si_abspath(struct sp_arena *a, const char *path, struct sp_err *e)
{
	char cwd[PATH_MAX], *joined, *norm;

	if (path[0] == '/') {
		joined = sp_arena_strdup(a, path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return si_fail(e, SI_EXIT_SYSTEM, "cannot get the current directory: %s", strerror(errno)),
			       NULL;
		joined = sp_arena_printf(a, "%s/%s", cwd, path);
	}
	if (strlen(joined) >= PATH_MAX)
		return si_fail(e, SI_EXIT_SYSTEM, "path too long: %s", path), NULL;
	norm = sp_arena_alloc(a, PATH_MAX);
	sp_path_normalize(joined, norm, PATH_MAX);
	return norm;
}

/* true if `inner` is `outer` or below it, both resolved. */
static bool si_inside(const char *inner, const char *outer)
{
	char ri[PATH_MAX], ro[PATH_MAX];
	size_t n;

	if (!realpath(inner, ri) || !realpath(outer, ro))
		return false;
	n = strlen(ro);
	if (n == 1)
		return true;
	return strncmp(ri, ro, n) == 0 && (ri[n] == '/' || ri[n] == '\0');
}

static int si_fsync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	fsync(fd);
	close(fd);
	return 0;
}

int si_cmd_build(int argc, char **argv)
{
	struct sp_arena *a = sp_arena_new();
	struct sp_err e = {0};
	struct si_inputs in = {.arch = SP_ARCH_X86_64};
	struct si_image img = {0};
	char **names = sp_arena_array(a, (size_t)argc, sizeof(char *));
	char **dirs = sp_arena_array(a, (size_t)argc, sizeof(char *));
	size_t nnames = 0, ndirs = 0;
	const char *name = NULL, *file = NULL;
	char *out = NULL, *out_tmp = NULL, *man = NULL, *man_tmp = NULL, *debdir;
	bool man_placed = false, owned = false;
	int opt, lockfd = -1, code;

	opterr = 0;
	optind = 1;
	while ((opt = getopt(argc, argv, "+:a:p:d:n:o:")) != -1) {
		switch (opt) {
		case 'a':
			if (sp_arch_parse(optarg, &in.arch) != 0 || !si_deb_arch(in.arch)) {
				code = si_usage_error("build", "unknown architecture '%s': use x86_64 or ppc64le", optarg);
				goto done;
			}
			break;
		case 'p':
			if (!si_pkg_name_valid(optarg)) {
				code = si_usage_error("build", "'%s' is not a Debian package name%s", optarg,
						      strchr(optarg, ':') ? " (the architecture is given with -a)" : "");
				goto done;
			}
			names[nnames++] = optarg;
			break;
		case 'd':
			if (optarg[0] == '\0') {
				code = si_usage_error("build", "empty directory name after -d");
				goto done;
			}
			dirs[ndirs++] = optarg;
			break;
		case 'n':
			name = optarg;
			break;
		case 'o':
			if (optarg[0] == '\0' || optarg[strlen(optarg) - 1] == '/') {
				code = si_usage_error("build", "-o names the image file, not '%s'", optarg);
				goto done;
			}
			file = optarg;
			break;
		case ':':
			code = si_usage_error("build", "option -%c needs an argument", optopt);
			goto done;
		default:
			code = si_usage_error("build", "unknown option '%s'", argv[optind - 1]);
			goto done;
		}
	}
	if (optind < argc) {
		code = si_usage_error("build", "unexpected argument '%s'", argv[optind]);
		goto done;
	}
	if (nnames == 0 && ndirs == 0) {
		code = si_usage_error("build", "nothing to build: give -p PACKAGE or -d DIR");
		goto done;
	}
	if (name && file) {
		code = si_usage_error("build", "-n and -o exclude each other");
		goto done;
	}
	if (!name && !file) {
		if (nnames == 0 || !sp_name_valid(names[0])) {
			code = si_usage_error("build", "give the image a name with -n NAME or a file with -o FILE");
			goto done;
		}
		name = names[0];
	}
	if (name && !sp_name_valid(name)) {
		code = si_usage_error("build",
				      "invalid image name '%s': 1 to 63 of a-z, 0-9 and '-', not starting or ending "
				      "with '-' (use -o for a path)",
				      name);
		goto done;
	}

	/* Inputs first, before anything is written or downloaded. */
	in.dirs = dirs;
	in.ndirs = ndirs;
	for (size_t i = 0; i < ndirs; i++) {
		struct stat st;

		if (!(dirs[i] = si_abspath(a, dirs[i], &e)))
			goto fail;
		if (stat(dirs[i], &st) != 0) {
			si_fail(&e, SI_EXIT_SYSTEM, "cannot use the directory %s given with -d: %s", dirs[i],
				strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(st.st_mode)) {
			si_fail(&e, SI_EXIT_SYSTEM, "%s given with -d is not a directory", dirs[i]);
			goto fail;
		}
	}
	if (name) {
		char *images = sp_arena_printf(a, "%s/images", si_state_dir());

		if (si_mkdirs(images, 0755, &e) != 0)
			goto fail;
		out = sp_arena_printf(a, "%s/%s.erofs", images, name);
	} else if (!(out = si_abspath(a, file, &e))) {
		goto fail;
	}
	{
		struct stat st;

		char *parent = sp_arena_strdup(a, out);

		*strrchr(parent, '/') = '\0';
		if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
			si_fail(&e, SI_EXIT_SYSTEM, "%s is a directory; -o names the image file", out);
			goto fail;
		}
		if (parent[0] && (stat(parent, &st) != 0 || !S_ISDIR(st.st_mode))) {
			si_fail(&e, SI_EXIT_SYSTEM, "cannot write %s: the directory %s does not exist", out, parent);
			goto fail;
		}
	}
	out_tmp = sp_arena_printf(a, "%s.tmp", out);
	man = sp_arena_printf(a, "%s.manifest.json", out);
	man_tmp = sp_arena_printf(a, "%s.manifest.json.tmp", out);
	debdir = sp_arena_printf(a, "%s/debs", si_cache_dir());

	if (si_tmp_create(&e) != 0)
		goto fail;
	for (size_t i = 0; i < ndirs; i++)
		if (si_inside(si_tmp_dir(), dirs[i])) {
			si_fail(&e, SI_EXIT_FAIL, "the directory %s holds the temporary directory %s; set TMPDIR elsewhere",
				dirs[i], si_tmp_dir());
			goto fail;
		}

	/* OUT.tmp is locked while this build owns it. */
	lockfd = open(out_tmp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (lockfd < 0) {
		si_fail(&e, SI_EXIT_SYSTEM, "cannot create %s: %s", out_tmp, strerror(errno));
		goto fail;
	}
	if (flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
		si_fail(&e, SI_EXIT_FAIL, "another spectrum-image is writing %s; wait for it to finish", out);
		goto fail;
	}
	owned = true; /* from here on, OUT.tmp and the manifest's .tmp are ours */
	if (ftruncate(lockfd, 0) != 0) {
		si_fail(&e, SI_EXIT_SYSTEM, "cannot write %s: %s", out_tmp, strerror(errno));
		goto fail;
	}

	if (nnames) {
		si_progress("resolving %zu packages", nnames);
		if (si_apt_resolve(a, in.arch, names, nnames, &in.pkgs, &in.npkgs, &e) != 0 ||
		    si_apt_fetch(a, in.arch, in.pkgs, in.npkgs, debdir, &e) != 0)
			goto fail;
	}
	if (si_image_make(a, &in, debdir, out_tmp, &img, &e) != 0 || si_manifest_write(man_tmp, &in, &img, &e) != 0)
		goto fail;
	if (si_stopped(&e))
		goto fail;
	if (rename(man_tmp, man) != 0) {
		si_fail(&e, SI_EXIT_SYSTEM, "cannot write %s: %s", man, strerror(errno));
		goto fail;
	}
	man_placed = true;
	if (rename(out_tmp, out) != 0) {
		si_fail(&e, SI_EXIT_SYSTEM, "cannot write %s: %s", out, strerror(errno));
		goto fail;
	}
	si_fsync_dir_of(out);
	close(lockfd);
	printf("wrote %s (sha256 %s)\n", out, img.sha256);
	code = SI_EXIT_OK;
	goto done;

fail:
	if (owned) {
		unlink(out_tmp);
		unlink(man_tmp);
	}
	if (man_placed)
		unlink(man);
	if (lockfd >= 0)
		close(lockfd);
	if (name)
		sp_err_wrap(&e, "building image %s", name);
	else
		sp_err_wrap(&e, "building %s", file);
	fprintf(stderr, "spectrum-image: %s\n", e.msg);
	code = e.code ? e.code : SI_EXIT_SYSTEM;
done:
	si_tmp_remove();
	sp_arena_free(a);
	return code;
}
