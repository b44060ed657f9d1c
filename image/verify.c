/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-image verify: builds the image again from the inputs its
 * manifest names (the same package versions, from the cache only) and
 * compares the result with the image byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

/* Offset of the first byte that differs, or -1 if the files are equal;
 * -2 on error. */
static long long si_compare(const char *x, const char *y, struct sp_err *e)
{
	static char bx[1 << 16], by[1 << 16];
	long long off = 0;
	int fx = open(x, O_RDONLY | O_CLOEXEC), fy = open(y, O_RDONLY | O_CLOEXEC);
	long long ret = -2;

	if (fx < 0 || fy < 0) {
		si_fail(e, SI_EXIT_SYSTEM, "cannot read %s: %s", fx < 0 ? x : y, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t nx = read(fx, bx, sizeof(bx)), ny;
		size_t got = 0;

		if (nx < 0) {
			si_fail(e, SI_EXIT_SYSTEM, "cannot read %s: %s", x, strerror(errno));
			goto out;
		}
		/* read as much of y as x gave */
		while (got < (size_t)nx && (ny = read(fy, by + got, (size_t)nx - got)) > 0)
			got += (size_t)ny;
		if (nx == 0) {
			char c;

			ny = read(fy, &c, 1);
			ret = ny > 0 ? off : -1;
			goto out;
		}
		for (size_t i = 0; i < got; i++)
			if (bx[i] != by[i]) {
				ret = off + (long long)i;
				goto out;
			}
		if (got < (size_t)nx) {
			ret = off + (long long)got;
			goto out;
		}
		off += nx;
		if (si_stopped(e))
			goto out;
	}
out:
	if (fx >= 0)
		close(fx);
	if (fy >= 0)
		close(fy);
	return ret;
}

int si_cmd_verify(int argc, char **argv)
{
	struct sp_arena *a = sp_arena_new();
	struct sp_err e = {0};
	struct si_inputs in = {0};
	struct si_image want = {0}, got = {0};
	const char *label;
	char *path, *man, *rebuilt;
	struct stat st;
	long long diff;
	int code;

	if (argc < 2) {
		code = si_usage_error("verify", "missing NAME or FILE");
		goto done;
	}
	if (argc > 2) {
		code = si_usage_error("verify", "unexpected argument '%s'", argv[2]);
		goto done;
	}
	label = argv[1];
	if (!(path = si_image_path(a, label, &e))) {
		code = si_usage_error("verify", "%s", e.msg);
		goto done;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		si_fail(&e, SI_EXIT_SYSTEM, "no image at %s%s%s", path, errno == ENOENT ? "" : ": ",
			errno == ENOENT ? "" : strerror(errno));
		goto fail;
	}
	man = sp_arena_printf(a, "%s.manifest.json", path);
	if (access(man, F_OK) != 0) {
		si_fail(&e, SI_EXIT_SYSTEM, "no manifest %s next to the image; only images written by spectrum-image build can be verified",
			man);
		goto fail;
	}
	if (si_manifest_read(a, man, &in, &want, &e) != 0)
		goto fail;
	for (size_t i = 0; i < in.ndirs; i++)
		if (stat(in.dirs[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
			si_fail(&e, SI_EXIT_SYSTEM, "the directory %s the image was built from is gone", in.dirs[i]);
			goto fail;
		}
	if (si_tmp_create(&e) != 0 ||
	    si_cache_check(in.arch, in.pkgs, in.npkgs, sp_arena_printf(a, "%s/debs", si_cache_dir()), &e) != 0)
		goto fail;
	rebuilt = sp_arena_printf(a, "%s/rebuilt.erofs", si_tmp_dir());
	si_quiet = true;
	if (si_image_make(a, &in, sp_arena_printf(a, "%s/debs", si_cache_dir()), rebuilt, &got, &e) != 0)
		goto fail;
	if ((diff = si_compare(path, rebuilt, &e)) == -2)
		goto fail;
	if (diff >= 0) {
		const char *why = "";

		for (size_t i = 0; i < in.ndirs && !why[0]; i++)
			if (strcmp(want.dir_sha256[i], got.dir_sha256[i]) != 0)
				why = sp_arena_printf(a, " (%s changed since the build)", in.dirs[i]);
		printf("%s: differs from a rebuild at byte %lld%s\n", label, diff, why);
		code = SI_EXIT_FAIL;
		goto done;
	}
	if (strcmp(got.sha256, want.sha256) != 0) {
		printf("%s: matches a rebuild, but not the sha256 its manifest records (%s)\n", label, want.sha256);
		code = SI_EXIT_FAIL;
		goto done;
	}
	printf("%s: reproducible (sha256 %s)\n", label, got.sha256);
	code = SI_EXIT_OK;
	goto done;
fail:
	sp_err_wrap(&e, "verifying %s", label);
	fprintf(stderr, "spectrum-image: %s\n", e.msg);
	code = e.code ? e.code : SI_EXIT_SYSTEM;
done:
	si_tmp_remove();
	sp_arena_free(a);
	return code;
}
