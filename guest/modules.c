/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loads the modules the base initramfs carries, in the order of
 * /etc/spectrum/modules (dependencies first: there is no modprobe), and
 * later those of a group the configuration names, from
 * /etc/spectrum/modules.GROUP: drivers only some guests need (USB) cost
 * the others nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

#define MODULES_LIST "/etc/spectrum/modules"
#define MODULES_DIR "/lib/modules"

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4 /* Linux 5.17 */
#endif

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Module names treat '-' and '_' alike. */
static bool same_name(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];
		if (x != y)
			return false;
	}
	return true;
}

/*
 * The parameters the kernel command line gives the module ("virtio_mmio.
 * device=..." on a machine without ACPI): the kernel leaves them to
 * modprobe, and there is none.  Words are separated by spaces outside
 * double quotes, as the kernel splits them; "--" ends the kernel's part.
 */
static void params_for(const char *cmdline, const char *name, size_t namelen, char *out,
		       size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (const char *s = cmdline; *s;) {
		const char *w;
		bool quoted = false;
		size_t wlen;

		while (*s == ' ' || *s == '\n' || *s == '\t')
			s++;
		w = s;
		for (; *s && (quoted || (*s != ' ' && *s != '\n' && *s != '\t')); s++)
			if (*s == '"')
				quoted = !quoted;
		wlen = (size_t)(s - w);
		if (wlen == 2 && w[0] == '-' && w[1] == '-')
			break;
		if (wlen > namelen + 1 && w[namelen] == '.' && same_name(w, name, namelen) &&
		    used + wlen - namelen + 1 < outlen) {
			snprintf(out + used, outlen - used, "%s%.*s", used ? " " : "",
				 (int)(wlen - namelen - 1), w + namelen + 1);
			used = strlen(out);
		}
	}
}

/* Whether the module is in the kernel: /sys/module/NAME, with '_' for '-'. */
static bool loaded(const char *file, size_t namelen)
{
	char path[300] = "/sys/module/";
	size_t at = strlen(path);

	if (namelen + at >= sizeof(path))
		return false;
	for (size_t i = 0; i < namelen; i++)
		path[at++] = file[i] == '-' ? '_' : file[i];
	path[at] = '\0';
	return access(path, F_OK) == 0;
}

static void load(const char *list, const char *file, const char *cmdline)
{
	static const char *const suffixes[] = {".ko", ".ko.xz", ".ko.gz", ".ko.zst"};
	char path[300], params[2048];
	size_t namelen = 0;
	unsigned flags = 0;
	int fd;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (ends_with(file, suffixes[i])) {
			namelen = strlen(file) - strlen(suffixes[i]);
			/* The kernel decompresses (CONFIG_MODULE_DECOMPRESS). */
			flags = i ? MODULE_INIT_COMPRESSED_FILE : 0;
		}
	}
	if (!namelen || strchr(file, '/') || strlen(file) > 255)
		gi_fail(SP_GP_STAGE_MODULES, "%s: \"%s\" is not a module file name", list, file);
	params_for(cmdline, file, namelen, params, sizeof(params));
	snprintf(path, sizeof(path), MODULES_DIR "/%s", file);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && loaded(file, namelen))
		return; /* by an earlier group, which needed it too */
	if (fd < 0)
		gi_fail(SP_GP_STAGE_MODULES, "%s: %s", path, strerror(errno));
	/*
	 * EEXIST: built in, or loaded already.  ENODEV: the module found
	 * nothing to drive (a CPU feature, say); if the machine needed it,
	 * a later stage fails with a clearer message.
	 */
	if (syscall(SYS_finit_module, fd, params, flags) < 0 && errno != EEXIST && errno != ENODEV)
		gi_fail(SP_GP_STAGE_MODULES, "loading %s: %s", path, strerror(errno));
	close(fd);
	/* The initramfs is RAM that nothing frees: drop what is done with. */
	unlink(path);
}

void gi_modules_load(const char *group)
{
	static char list[65536];
	char cmdline[4096], path[64];
	size_t len;
	char *line, *next;

	/* The group's name is checked by the parser (a-z, 0-9, _). */
	if (group)
		snprintf(path, sizeof(path), MODULES_LIST ".%s", group);
	else
		snprintf(path, sizeof(path), MODULES_LIST);
	if (gi_read_file(path, list, sizeof(list), &len) < 0) {
		if (group && errno == ENOENT)
			gi_fail(SP_GP_STAGE_MODULES,
				"%s: no such file: this initramfs has no %s drivers (rebuild it with scripts/guest-kernel.sh)",
				path, group);
		gi_fail(SP_GP_STAGE_MODULES, "%s: %s", path, strerror(errno));
	}
	if (gi_read_file("/proc/cmdline", cmdline, sizeof(cmdline), &len) < 0)
		cmdline[0] = '\0';
	for (line = list; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line)
			load(path, line, cmdline);
	}
}
