/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's file system tree: the kernel's own file systems, the
 * read-only root found by its disk serial (or on pmem), the switch to it,
 * and the scratch tmpfs, volumes and shares on top.
 *
 * Scratch, volumes and shares are mounted after the switch, at their real
 * paths: a mount path that crosses a symbolic link of the root image
 * (/home -> /var/home) then resolves inside the guest's root, as the
 * application will see it, and never into the initramfs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <termios.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"

#define NEWROOT "/newroot"

void gi_mount_kernel_fs(void)
{
	int fd;

	/* EBUSY: a kernel with CONFIG_DEVTMPFS_MOUNT that mounted it already. */
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") < 0 && errno != EBUSY)
		gi_fail(SP_GP_STAGE_MOUNT, "mounting devtmpfs on /dev: %s", strerror(errno));
	/* Before this the console had no node (the initramfs has an empty
	 * /dev), so this is the first point where a failure can be seen. */
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd >= 0) {
		struct termios t;
		/* The host copies the console to a file or a terminal of its
		 * own, which adds carriage returns itself if it wants them. */
		if (tcgetattr(fd, &t) == 0) {
			t.c_oflag &= ~(tcflag_t)ONLCR;
			tcsetattr(fd, TCSANOW, &t);
		}
		for (int i = 0; i < 3; i++)
			if (fd != i)
				dup2(fd, i);
		if (fd > 2)
			close(fd);
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "mounting proc on /proc: %s", strerror(errno));
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "mounting sysfs on /sys: %s", strerror(errno));
}

/* The node of the virtio disk whose serial is `serial`, if it is there yet. */
static bool find_disk(const char *serial, char *dev, size_t len)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char path[300], value[64];
		size_t n;

		if (strncmp(e->d_name, "vd", 2) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/serial", e->d_name);
		if (gi_read_file(path, value, sizeof(value), &n) < 0)
			continue;
		while (n > 0 && (value[n - 1] == '\n' || value[n - 1] == ' '))
			value[--n] = '\0';
		if (strcmp(value, serial) != 0)
			continue;
		snprintf(dev, len, "/dev/%s", e->d_name);
		/* devtmpfs creates the node before sysfs shows the disk; be sure. */
		found = access(dev, F_OK) == 0;
	}
	closedir(d);
	return found;
}

static void wait_disk(enum sp_gp_stage stage, const char *serial, char *dev, size_t len,
		      int64_t deadline)
{
	while (!find_disk(serial, dev, len)) {
		if (gi_now_ms() >= deadline)
			gi_fail(stage, "no virtio disk with serial \"%s\" within %d s", serial,
				GI_DEVICE_WAIT_MS / 1000);
		gi_sleep_ms(GI_POLL_MS);
	}
}

void gi_mount_root(const struct gi_config *cfg, int64_t deadline)
{
	char dev[300] = "/dev/pmem0";

	if (cfg->root == GI_ROOT_DISK) {
		wait_disk(SP_GP_STAGE_ROOT, "root", dev, sizeof(dev), deadline);
	} else {
		while (access(dev, F_OK) < 0) {
			if (gi_now_ms() >= deadline)
				gi_fail(SP_GP_STAGE_ROOT, "%s did not appear within %d s", dev,
					GI_DEVICE_WAIT_MS / 1000);
			gi_sleep_ms(GI_POLL_MS);
		}
	}
	/* The page cache of a pmem root is the host's (DAX): every guest
	 * sharing the image shares its memory. */
	if (mount(dev, NEWROOT, "erofs", MS_RDONLY, cfg->root == GI_ROOT_PMEM ? "dax" : NULL) < 0)
		gi_fail(SP_GP_STAGE_ROOT, "mounting %s (erofs) on " NEWROOT ": %s", dev,
			strerror(errno));
}

void gi_switch_root(void)
{
	static const char *const kernel_fs[] = {"/dev", "/proc", "/sys"};

	for (size_t i = 0; i < sizeof(kernel_fs) / sizeof(kernel_fs[0]); i++) {
		char target[32];
		snprintf(target, sizeof(target), NEWROOT "%s", kernel_fs[i]);
		if (mount(kernel_fs[i], target, NULL, MS_MOVE, NULL) < 0)
			gi_fail(SP_GP_STAGE_ROOT, "moving %s to %s: %s", kernel_fs[i], target,
				strerror(errno));
	}
	/* The initramfs cannot be unmounted (nor pivot_root'ed): the new root
	 * is moved over it, as switch_root(8) does. */
	if (chdir(NEWROOT) < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		gi_fail(SP_GP_STAGE_ROOT, "switching the root to " NEWROOT ": %s", strerror(errno));
}

/* mkdir -p of the part of `path` below the writable mount `base`. */
static void make_dirs(const char *path, const char *base)
{
	char buf[GI_PATH_MAX + 1];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + strlen(base) + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			gi_fail(SP_GP_STAGE_MOUNT, "creating %s: %s", buf, strerror(errno));
		*s = c;
		if (!c)
			break;
	}
}

/*
 * A mount point exists in the root, or is made in the mount it lies in
 * (the innermost one, mounted earlier: parents come first) if that one is
 * writable: a scratch tmpfs, or a read-write volume or share at a scratch
 * path (/home) in place of its tmpfs.
 */
static void mount_point(const struct gi_config *cfg, size_t index)
{
	const char *path = cfg->mounts[index].path;
	const struct gi_mount *in = NULL;
	struct stat st;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			gi_fail(SP_GP_STAGE_MOUNT, "%s: %s", path, strerror(ENOTDIR));
		return;
	}
	if (errno != ENOENT)
		gi_fail(SP_GP_STAGE_MOUNT, "%s: %s", path, strerror(errno));
	for (size_t i = 0; i < index; i++)
		if (gi_path_below(path, cfg->mounts[i].path) &&
		    (!in || strlen(cfg->mounts[i].path) > strlen(in->path)))
			in = &cfg->mounts[i];
	if (!in || in->readonly)
		gi_fail(SP_GP_STAGE_MOUNT,
			"%s: not in the root image, nor below a scratch directory or a read-write volume or share",
			path);
	make_dirs(path, in->path);
}

static void mount_share(const struct gi_mount *m, unsigned long flags, int64_t deadline)
{
	/* virtiofs refuses a tag whose device has not been probed yet
	 * (EINVAL): retry until the deadline of the disks. */
	while (mount(m->source, m->path, "virtiofs", flags, NULL) < 0) {
		int e = errno;
		if ((e != EINVAL && e != ENOENT && e != ENODEV) || gi_now_ms() >= deadline)
			gi_fail(SP_GP_STAGE_MOUNT, "mounting share %s on %s: %s", m->source,
				m->path, strerror(e));
		gi_sleep_ms(GI_POLL_MS);
	}
}

void gi_mount_all(const struct gi_config *cfg, int64_t deadline)
{
	for (size_t i = 0; i < cfg->nmounts; i++) {
		const struct gi_mount *m = &cfg->mounts[i];
		/* Devices and set-user-ID files come from the root image only. */
		unsigned long flags = MS_NOSUID | MS_NODEV | (m->readonly ? MS_RDONLY : 0);
		char dev[300], opts[32];
		bool layered;

		mount_point(cfg, i);
		switch (m->kind) {
		case GI_MOUNT_SCRATCH:
			snprintf(opts, sizeof(opts), "mode=%04o", m->mode);
			if (mount("tmpfs", m->path, "tmpfs", flags, opts) < 0)
				gi_fail(SP_GP_STAGE_MOUNT, "mounting tmpfs on %s: %s", m->path,
					strerror(errno));
			break;
		case GI_MOUNT_VOLUME:
			wait_disk(SP_GP_STAGE_MOUNT, m->source, dev, sizeof(dev), deadline);
			/* A read-only disk is read-only in the hypervisor too: its
			 * journal is replayed into its layer in RAM (cow.c), or,
			 * clean, not loaded at all. */
			layered = m->readonly && gi_cow_device(m->source, dev, sizeof(dev));
			if (mount(dev, m->path, m->fstype, flags,
				  m->readonly && !layered ? "noload" : NULL) < 0)
				gi_fail(SP_GP_STAGE_MOUNT, "mounting %s (%s, serial %s) on %s: %s",
					dev, m->fstype, m->source, m->path, strerror(errno));
			break;
		case GI_MOUNT_SHARE:
			mount_share(m, flags, deadline);
			break;
		}
	}
}

void gi_volumes_prepare(const struct gi_config *cfg, int64_t deadline)
{
	for (size_t i = 0; i < cfg->nmounts; i++) {
		const struct gi_mount *m = &cfg->mounts[i];
		char dev[300];

		if (m->kind != GI_MOUNT_VOLUME || !m->readonly)
			continue;
		wait_disk(SP_GP_STAGE_MOUNT, m->source, dev, sizeof(dev), deadline);
		gi_cow_layer(m->source, dev, deadline);
	}
}

void gi_mounts_quiesce(const struct gi_config *cfg)
{
	/* Leaves the writable volumes clean: no journal to replay at the next
	 * boot.  Best effort: the data is synced anyway. */
	for (size_t i = cfg->nmounts; i-- > 0;) {
		const struct gi_mount *m = &cfg->mounts[i];
		if (m->kind == GI_MOUNT_VOLUME && !m->readonly)
			mount(NULL, m->path, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
			      NULL);
	}
}
