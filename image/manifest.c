/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The manifest written next to every image (IMAGE.manifest.json): what the
 * image was built from, exactly enough for verify to build it again.
 *
 *   {
 *     "format": 1,
 *     "arch": "x86_64",
 *     "debian_arch": "amd64",
 *     "packages": [{"name": "jq", "version": "1.6-2.1+deb12u3",
 *                   "architecture": "amd64", "sha256": "<of the .deb>"}],
 *     "dirs": [{"path": "/abs/tree", "sha256": "<of the tree's content>"}],
 *     "uuid": "<file system UUID>",
 *     "size": 4194304,
 *     "sha256": "<of the image>"
 *   }
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

static bool si_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

int si_manifest_write(const char *path, const struct si_inputs *in, const struct si_image *img,
		      struct sp_err *e)
{
	json_t *root = json_object(), *pkgs = json_array(), *dirs = json_array();
	char *text;
	size_t len, done = 0;
	int fd;

	json_object_set_new(root, "format", json_integer(SI_MANIFEST_FORMAT));
	json_object_set_new(root, "arch", json_string(sp_arch_name(in->arch)));
	json_object_set_new(root, "debian_arch", json_string(si_deb_arch(in->arch)));
	for (size_t i = 0; i < in->npkgs; i++)
		json_array_append_new(pkgs, json_pack("{s:s, s:s, s:s, s:s}", "name", in->pkgs[i].name, "version",
						      in->pkgs[i].version, "architecture", in->pkgs[i].arch, "sha256",
						      in->pkgs[i].sha256));
	json_object_set_new(root, "packages", pkgs);
	for (size_t i = 0; i < in->ndirs; i++)
		json_array_append_new(dirs, json_pack("{s:s, s:s}", "path", in->dirs[i], "sha256", img->dir_sha256[i]));
	json_object_set_new(root, "dirs", dirs);
	json_object_set_new(root, "uuid", json_string(img->uuid));
	json_object_set_new(root, "size", json_integer((json_int_t)img->size));
	json_object_set_new(root, "sha256", json_string(img->sha256));
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!text)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot format the manifest");
	len = strlen(text);
	text[len++] = '\n'; /* replaces the NUL; json_dumps leaves no newline */

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(text);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot write %s: %s", path, strerror(errno));
	}
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int err = errno;

			close(fd);
			free(text);
			return si_fail(e, SI_EXIT_SYSTEM, "cannot write %s: %s", path, strerror(err));
		}
		done += (size_t)w;
	}
	free(text);
	if (fsync(fd) != 0 || close(fd) != 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot write %s: %s", path, strerror(errno));
	return 0;
}

static const char *si_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int si_manifest_read(struct sp_arena *a, const char *path, struct si_inputs *in, struct si_image *img,
		     struct sp_err *e)
{
	json_error_t jerr;
	json_t *root, *pkgs, *dirs, *v;
	const char *s;
	size_t len;
	char *text = si_read_file(a, path, 16u << 20, &len, e);
	int ret = -1;

	if (!text)
		return -1;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return si_fail(e, SI_EXIT_SYSTEM, "%s:%d:%d: not JSON: %s", path, jerr.line, jerr.column, jerr.text);
#define BAD(...)                                                                                       \
	do {                                                                                           \
		si_fail(e, SI_EXIT_SYSTEM, "%s is not a manifest of spectrum-image: " __VA_ARGS__);     \
		goto out;                                                                              \
	} while (0)
	if (!json_is_object(root))
		BAD("%s", path, "not an object");
	v = json_object_get(root, "format");
	if (!json_is_integer(v))
		BAD("%s", path, "no format");
	if (json_integer_value(v) != SI_MANIFEST_FORMAT)
		BAD("format %lld is not format %d, the one this version reads", path,
		    (long long)json_integer_value(v), SI_MANIFEST_FORMAT);
	if (!(s = si_str(root, "arch")) || sp_arch_parse(s, &in->arch) != 0 || !si_deb_arch(in->arch))
		BAD("%s", path, "bad arch");

	pkgs = json_object_get(root, "packages");
	if (!json_is_array(pkgs))
		BAD("%s", path, "no packages");
	in->npkgs = json_array_size(pkgs);
	in->pkgs = sp_arena_array(a, in->npkgs ? in->npkgs : 1, sizeof(*in->pkgs));
	for (size_t i = 0; i < in->npkgs; i++) {
		json_t *p = json_array_get(pkgs, i);
		struct si_pkg *pkg = &in->pkgs[i];
		const char *n = si_str(p, "name"), *ver = si_str(p, "version"), *ar = si_str(p, "architecture"),
			   *sha = si_str(p, "sha256");

		if (!n || !ver || !ar || !sha || !si_pkg_name_valid(n) || !si_pkg_version_valid(ver) ||
		    (strcmp(ar, "all") != 0 && strcmp(ar, si_deb_arch(in->arch)) != 0) || !si_hex64(sha))
			BAD("package %zu is malformed", path, i + 1);
		if (i > 0 && strcmp(in->pkgs[i - 1].name, n) >= 0)
			BAD("packages are not sorted by name", path);
		pkg->name = sp_arena_strdup(a, n);
		pkg->version = sp_arena_strdup(a, ver);
		pkg->arch = sp_arena_strdup(a, ar);
		pkg->sha256 = sp_arena_strdup(a, sha);
		pkg->file = si_deb_file_name(a, n, ver, ar);
	}

	dirs = json_object_get(root, "dirs");
	if (!json_is_array(dirs))
		BAD("%s", path, "no dirs");
	in->ndirs = json_array_size(dirs);
	in->dirs = sp_arena_array(a, in->ndirs ? in->ndirs : 1, sizeof(*in->dirs));
	img->dir_sha256 = sp_arena_array(a, in->ndirs ? in->ndirs : 1, sizeof(*img->dir_sha256));
	for (size_t i = 0; i < in->ndirs; i++) {
		json_t *d = json_array_get(dirs, i);
		const char *p = si_str(d, "path"), *sha = si_str(d, "sha256");

		if (!p || p[0] != '/' || !sha || !si_hex64(sha))
			BAD("directory %zu is malformed", path, i + 1);
		in->dirs[i] = sp_arena_strdup(a, p);
		memcpy(img->dir_sha256[i], sha, SI_SHA256_HEX);
	}

	v = json_object_get(root, "size");
	s = si_str(root, "sha256");
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || !s || !si_hex64(s))
		BAD("%s", path, "bad size or sha256");
	img->size = (uint64_t)json_integer_value(v);
	memcpy(img->sha256, s, SI_SHA256_HEX);
	s = si_str(root, "uuid");
	if (!s || strlen(s) != SI_UUID_LEN - 1)
		BAD("%s", path, "bad uuid");
	memcpy(img->uuid, s, SI_UUID_LEN);
	ret = 0;
#undef BAD
out:
	json_decref(root);
	return ret;
}
