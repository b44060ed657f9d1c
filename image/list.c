/* SPDX-License-Identifier: GPL-2.0-or-later */
/* spectrum-image list: the named images, with size and architecture. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image.h"

static int si_cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int si_cmd_list(int argc, char **argv)
{
	struct sp_arena *a;
	char *dir, **names = NULL;
	size_t n = 0, cap = 0, width = 4;
	struct dirent *de;
	DIR *d;

	if (argc > 1)
		return si_usage_error("list", "unexpected argument '%s'", argv[1]);
	a = sp_arena_new();
	dir = sp_arena_printf(a, "%s/images", si_state_dir());
	if (!(d = opendir(dir))) {
		int err = errno;

		sp_arena_free(a);
		if (err == ENOENT)
			return SI_EXIT_OK;
		fprintf(stderr, "spectrum-image: cannot read %s: %s\n", dir, strerror(err));
		return SI_EXIT_SYSTEM;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len <= 6 || strcmp(de->d_name + len - 6, ".erofs") != 0 || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			names = sp_xrealloc(names, cap, sizeof(*names));
		}
		names[n++] = sp_arena_printf(a, "%.*s", (int)(len - 6), de->d_name);
		if (len - 6 > width)
			width = len - 6;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), si_cmp_name);
	if (n)
		printf("%-*s %8s  %s\n", (int)width, "NAME", "SIZE", "ARCH");
	for (size_t i = 0; i < n; i++) {
		char *path = sp_arena_printf(a, "%s/%s.erofs", dir, names[i]), size[32];
		struct si_inputs in = {0};
		struct si_image img = {0};
		struct sp_err e = {0};
		const char *arch = "?";
		struct stat st;

		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (si_manifest_read(a, sp_arena_printf(a, "%s.manifest.json", path), &in, &img, &e) == 0)
			arch = sp_arch_name(in.arch);
		sp_size_format((uint64_t)st.st_size, size, sizeof(size));
		printf("%-*s %8s  %s\n", (int)width, names[i], size, arch);
	}
	free(names);
	sp_arena_free(a);
	return SI_EXIT_OK;
}
