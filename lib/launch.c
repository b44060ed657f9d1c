/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "guest.h"
#include "logger.h"
#include "net.h"
#include "pmem.h"
#include "rundir.h"
#include "spawn.h"
#include "uid.h"

static int sp_mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int sp_volume_create(const struct sp_plan_disk *d, struct sp_err *err)
{
	char tmp[4096], label[17], dir[4096];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", d->image);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (sp_mkdir_p(dir, 0700) < 0) {
			sp_err_set(err, "volume %s: cannot create %s: %s", d->resource, dir,
				   strerror(errno));
			return -1;
		}
	}
	snprintf(tmp, sizeof(tmp), "%s.new.%ld", d->image, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		sp_err_set(err, "volume %s: cannot create %s: %s", d->resource, tmp, strerror(errno));
		return -1;
	}
	/* Sparse: space is taken as the guest writes. */
	if (ftruncate(fd, (off_t)d->size) < 0) {
		sp_err_set(err, "volume %s: cannot size %s: %s", d->resource, tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	snprintf(label, sizeof(label), "%s", d->resource);
	char *mkfs[] = {"mkfs.ext4", "-q", "-F", "-L", label, "-m", "0", "-E", "root_owner=0:0",
			tmp, NULL};
	/* mkfs.ext4's complaints go to our standard error. */
	struct sp_spawn run = {.argv = mkfs, .in = -1, .out = -1, .err = STDERR_FILENO};
	if (sp_spawn_run(&run, err) < 0) {
		if (err->missing)
			sp_err_set(err, "volume %s: mkfs.ext4 is missing; install e2fsprogs",
				   d->resource);
		else
			sp_err_wrap(err, "volume %s: formatting failed", d->resource);
		unlink(tmp);
		return -1;
	}
	/* link(), not rename(): if another start made the volume meanwhile,
	 * theirs wins and may already be in use. */
	if (link(tmp, d->image) < 0 && errno != EEXIST) {
		sp_err_set(err, "volume %s: cannot create %s: %s", d->resource, d->image,
			   strerror(errno));
		unlink(tmp);
		return -1;
	}
	unlink(tmp);
	return 0;
}

/* Where ext4 (and ext2, ext3) keep their magic number: byte 56 of the
 * superblock, which starts at byte 1024. */
#define SP_EXT4_MAGIC_AT 1080
#define SP_EXT4_MAGIC 0xef53

/*
 * An existing volume must hold an ext4 file system before a guest boots
 * to mount it: otherwise the guest fails at its mount after a whole boot,
 * with a bare "Invalid argument".  Root reads two bytes of the file, the
 * file system's magic number, and nothing else: the guest wrote the file,
 * and root parses nothing of it.  The open neither follows a link nor
 * waits on a FIFO.
 */
static int sp_volume_check_fs(const struct sp_plan_disk *d, struct sp_err *err)
{
	unsigned char magic[2];
	struct stat st;
	ssize_t n;
	int e, fd = open(d->image, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		sp_err_set(err, "volume %s: %s: %s", d->resource, d->image,
			   errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		sp_err_set(err, "volume %s: cannot read %s: %s", d->resource, d->image,
			   strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		/* Replaced since sp_volume_prepare's stat. */
		sp_err_set(err, "volume %s: %s is %s, not an image file or a block device",
			   d->resource, d->image, sp_file_type_name(st.st_mode));
		close(fd);
		return -1;
	}
	n = pread(fd, magic, sizeof(magic), SP_EXT4_MAGIC_AT);
	e = errno;
	close(fd);
	if (n == (ssize_t)sizeof(magic) && (magic[0] | magic[1] << 8) == SP_EXT4_MAGIC)
		return 0;
	if (n < 0)
		sp_err_set(err, "volume %s: cannot read %s: %s", d->resource, d->image,
			   strerror(e));
	else if (S_ISREG(st.st_mode) && st.st_size == 0)
		sp_err_set(err,
			   "volume %s: %s is empty (0 bytes), not an ext4 file system; remove it%s",
			   d->resource, d->image,
			   d->create ? " and Spectrum makes a new one" : ", or give an ext4 image");
	else
		sp_err_set(
			err, "volume %s: %s is not an ext4 file system (no ext4 magic number); %s",
			d->resource, d->image,
			d->create ?
				"restore it from a copy, or remove it and Spectrum makes a new, empty one" :
				"give the path of an ext4 image");
	return -1;
}

int sp_volume_prepare(const struct sp_plan_disk *d, struct sp_err *err)
{
	struct stat st;

	if (stat(d->image, &st) == 0) {
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			sp_err_set(err, "volume %s: %s is %s, not an image file or a block device",
				   d->resource, d->image, sp_file_type_name(st.st_mode));
			return -1;
		}
		return sp_volume_check_fs(d, err);
	}
	if (errno != ENOENT || !d->create) {
		sp_err_set(err, "volume %s: image %s: %s", d->resource, d->image, strerror(errno));
		return -1;
	}
	return sp_volume_create(d, err);
}

/* WHAT at PATH must be a regular file, KIND ("an erofs image"); FIX says
 * how to make one.  Only stat: nothing here opens it. */
static int sp_need_file(const char *what, const char *path, const char *kind, const char *fix,
			struct sp_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			sp_err_set(err, "%s %s is missing; %s", what, path, fix);
		else
			sp_err_set(err, "%s %s: %s", what, path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return 0;
	sp_err_set(err, "%s %s is %s, not %s", what, path, sp_file_type_name(st.st_mode), kind);
	return -1;
}

/*
 * The instance lock, in root's run directory.  Opened read-only: the VMM
 * inherits it (and holds the lock for its life), and a descriptor it
 * could write through would be one more thing to think about.
 */
static int sp_take_lock(const struct sp_plan *p, int dirfd, int *lock_fd, struct sp_err *err)
{
	struct stat st;
	int fd = openat(dirfd, "lock", O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		sp_err_set(err, "%s/lock: %s", p->run_dir, fd < 0 ? strerror(errno) : "not a file of ours");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		pid_t pid = sp_rundir_pid_read(p, NULL);
		if (pid > 0)
			sp_err_set(err, "instance %s is already running (pid %d); stop it first",
				   p->instance, (int)pid);
		else
			sp_err_set(err, "instance %s is already running; stop it first", p->instance);
		close(fd);
		return -1;
	}
	*lock_fd = fd;
	return 0;
}

static int sp_launch_checks(const struct sp_plan *p, struct sp_err *err)
{
	const struct sp_backend *be = sp_backend_get(p->hypervisor);
	char arch_fix[512];

	if (!be->launchable) {
		sp_err_set(
			err,
			"%s is not launched by Spectrum yet (its guest control channel is not implemented); 'spectrum plan --argv FILE %s' gives its command line, or use the qemu hypervisor",
			be->name, p->instance);
		return -1;
	}
	if (p->kernel_kind == SP_KERNEL_SPECTRUM && p->arch == SP_ARCH_AARCH64)
		snprintf(
			arch_fix, sizeof(arch_fix),
			"Spectrum's guest kernel is built for x86_64 and ppc64le only; boot Debian's with SPECTRUM_KERNEL=debian (scripts/guest-kernel.sh aarch64 INIT)");
	else if (p->kernel_kind == SP_KERNEL_SPECTRUM)
		snprintf(
			arch_fix, sizeof(arch_fix),
			"build Spectrum's guest kernel (the default) with scripts/setup.sh or scripts/build-kernel.sh %s %s, or boot Debian's with SPECTRUM_KERNEL=debian",
			sp_arch_name(p->arch),
			p->arch == SP_ARCH_X86_64 ? "build/guest/spectrum-init" :
						    "build/guest/spectrum-init-ppc64le");
	else
		snprintf(
			arch_fix, sizeof(arch_fix),
			"install Debian's guest kernel (SPECTRUM_KERNEL=debian) with scripts/setup.sh or scripts/guest-kernel.sh %s INIT, or unset SPECTRUM_KERNEL for Spectrum's",
			sp_arch_name(p->arch));
	if (sp_kernel_memory_check(p->kernel_kind, p->instance, p->memory_mib, err) < 0 ||
	    sp_need_file("guest kernel", p->kernel, "a kernel", arch_fix, err) < 0 ||
	    sp_need_file("base initramfs", p->base_initrd, "an initramfs", arch_fix, err) < 0 ||
	    sp_need_file("root image", p->root.image, "an erofs image",
			 "build it with 'spectrum image build' or fix the application's image",
			 err) < 0 ||
	    sp_devices_check(p, err) < 0)
		return -1;
	/* Volumes that exist already: refused here, before anything is
	 * made, if they hold no ext4; the others are made by prepare. */
	for (size_t i = 0; i < p->ndisks; i++) {
		struct stat st;
		if (lstat(p->disks[i].image, &st) == 0 && sp_volume_check_fs(&p->disks[i], err) < 0)
			return -1;
	}
	return 0;
}

/*
 * A disposable disk's throwaway layer (plan.h, sp_plan_disk.overlay):
 * root's new file in root's run directory (rundir.h), made empty with
 * O_EXCL first, then written by qemu-img as a qcow2 layer over the
 * volume.  -u: qemu-img does not open the volume, which guests wrote and
 * root parses nothing of; its size is what root's own descriptor says.
 */
static int sp_overlay_create(const struct sp_plan_disk *d, int dirfd, struct sp_err *err)
{
	const char *name = strrchr(d->overlay, '/') + 1;
	char size[32];
	off_t end = -1;
	int fd = open(d->image, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0) {
		end = lseek(fd, 0, SEEK_END);
		close(fd);
	}
	if (end <= 0) {
		sp_err_set(err, "volume %s: cannot size %s: %s", d->resource, d->image,
			   end == 0 ? "it is empty" : strerror(errno));
		return -1;
	}
	fd = sp_rundir_create(dirfd, name, O_WRONLY, 0600, err);
	if (fd < 0)
		return -1;
	close(fd);
	snprintf(size, sizeof(size), "%lld", (long long)end);
	char *argv[] = {"qemu-img", "create", "-q",  "-f",	 "qcow2", "-u", "-b",
			d->image,   "-F",     "raw", d->overlay, size,	  NULL};
	struct sp_spawn run = {.argv = argv, .in = -1, .out = -1, .err = STDERR_FILENO};
	if (sp_spawn_run(&run, err) == 0)
		return 0;
	unlinkat(dirfd, name, 0);
	if (err->missing)
		sp_err_set(err, "volume %s: qemu-img is missing; install qemu-utils", d->resource);
	else
		sp_err_wrap(err, "volume %s: making its disposable layer %s failed", d->resource,
			    d->overlay);
	return -1;
}

/* Root's files in root's run directory (rundir.h): removed by name. */
static void sp_overlays_remove(const struct sp_plan *p)
{
	for (size_t i = 0; i < p->ndisks; i++)
		if (p->disks[i].overlay)
			unlink(p->disks[i].overlay);
}

int sp_launch_prepare(const struct sp_plan *p, int *lock_fd, struct sp_err *err)
{
	int dirfd;

	*lock_fd = -1;
	if (sp_launch_checks(p, err) < 0)
		return -1;
	/* Before anything is made: a running instance is named as such,
	 * and a uid in use is refused with nothing left behind. */
	pid_t running = sp_rundir_pid_read(p, NULL);
	if (running > 0) {
		sp_err_set(err, "instance %s is already running (pid %d); stop it first",
			   p->instance, (int)running);
		return -1;
	}
	if (sp_uid_check_free(p->vmm_uid, p->instance, err) < 0 ||
	    sp_uid_check_free(p->display.relay_uid, p->instance, err) < 0)
		return -1;
	dirfd = sp_rundir_open(p, err);
	if (dirfd < 0)
		return -1;
	if (sp_take_lock(p, dirfd, lock_fd, err) < 0) {
		close(dirfd);
		return -1;
	}
	if (sp_devices_grant(p, err) < 0)
		goto fail;
	if (p->root.pmem &&
	    sp_pmem_prepare(p->root.pmem, p->root.image, p->root.sha256, p->root.size, err) < 0)
		goto fail;
	for (size_t i = 0; i < p->ndisks; i++)
		if (sp_volume_prepare(&p->disks[i], err) < 0 ||
		    (p->disks[i].overlay && sp_overlay_create(&p->disks[i], dirfd, err) < 0))
			goto fail;
	if (sp_guest_initrd(p, dirfd, err) < 0)
		goto fail;
	close(dirfd);
	return 0;
fail:
	sp_overlays_remove(p);
	sp_devices_release(p->run_dir);
	close(dirfd);
	close(*lock_fd);
	*lock_fd = -1;
	return -1;
}

/* The descriptors a VMM inherits: fds[i] goes to want[i].  Its four
 * channels; the root needs one, each binding at most three (a disposable
 * disk under QEMU; a read-write one two; a tap one). */
struct sp_vmm_fds {
	int fds[7 + 3 * SP_LIMIT_BINDINGS]; /* and one for the lock */
	int want[7 + 3 * SP_LIMIT_BINDINGS];
	size_t n;
	/* read ends for the logger: console, VMM stderr, display relay */
	int log_in[SP_LOG_STREAMS_MAX];
	int log_out[SP_LOG_STREAMS_MAX]; /* the log files */
	size_t log_max[SP_LOG_STREAMS_MAX];
	size_t nlogs;
	int err_w;	/* the VMM's stderr, if the logger keeps it */
};

static void sp_vmm_add(struct sp_vmm_fds *v, int fd, int want)
{
	v->fds[v->n] = fd;
	v->want[v->n++] = want;
}

/*
 * A disk or root image root opens for the VMM.  Its path comes from the
 * configuration and may run through a directory the desktop's user
 * writes: the last component is never followed, and the file must be a
 * regular file with one link (a hard link to a file of root's would hand
 * it to the guest) or a block device.
 */
static int sp_vmm_open(struct sp_vmm_fds *v, const char *path, int flags, int want,
		       struct sp_err *err)
{
	struct stat st;
	int fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		sp_err_set(err, "%s: %s", path, errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !(S_ISBLK(st.st_mode) || (S_ISREG(st.st_mode) && st.st_nlink == 1))) {
		sp_err_set(err, "%s is not a regular file with one link, nor a block device", path);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, 0); /* O_NONBLOCK was for the open only */
	sp_vmm_add(v, fd, want);
	return 0;
}

static int sp_vmm_disks_open(const struct sp_plan *p, struct sp_vmm_fds *v, struct sp_err *err)
{
	const struct sp_backend *be = sp_backend_get(p->hypervisor);

	if (be->root_fd && !p->root.shared &&
	    sp_vmm_open(v, p->root.image, O_RDONLY, SP_FD_ROOT, err) < 0)
		return -1;
	for (size_t i = 0; be->disk_fds && i < p->ndisks; i++) {
		const struct sp_plan_disk *d = &p->disks[i];
		bool rw = d->mode == SP_MODE_RW;
		/* Disposable: the VMM writes the layer, and may only read
		 * the volume under it. */
		if (d->overlay) {
			if (sp_vmm_open(v, d->overlay, O_RDWR, SP_FD_DISK(i), err) < 0 ||
			    sp_vmm_open(v, d->overlay, O_RDONLY, SP_FD_DISK_RO(i), err) < 0 ||
			    sp_vmm_open(v, d->image, O_RDONLY, SP_FD_DISK_BASE(i), err) < 0)
				return -1;
			continue;
		}
		if (sp_vmm_open(v, d->image, rw ? O_RDWR : O_RDONLY, SP_FD_DISK(i), err) < 0)
			return -1;
		if (rw && be->disk_ro_fds &&
		    sp_vmm_open(v, d->image, O_RDONLY, SP_FD_DISK_RO(i), err) < 0)
			return -1;
	}
	return 0;
}

/* The listening sockets, bound here in root's run directory. */
static int sp_vmm_channels_open(const struct sp_plan *p, struct sp_vmm_fds *v, struct sp_err *err)
{
	const char *paths[] = {p->console_socket, p->control_socket, p->qmp_socket};
	const int want[] = {SP_FD_CONSOLE, SP_FD_CONTROL, SP_FD_QMP};

	for (size_t i = 0; i < 3; i++) {
		int fd = sp_rundir_listen(paths[i], err);
		if (fd < 0)
			return -1;
		sp_vmm_add(v, fd, want[i]);
	}
	return 0;
}

/* A pipe whose read end goes to the logger, writing log `name`. */
static int sp_vmm_log_pipe(struct sp_vmm_fds *v, int dirfd, const char *name, size_t max, int *w,
			   struct sp_err *err)
{
	int pfd[2], out = sp_rundir_open_log(dirfd, name, err);

	if (out < 0)
		return -1;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		sp_err_set(err, "pipe: %s", strerror(errno));
		close(out);
		return -1;
	}
	v->log_in[v->nlogs] = pfd[0];
	v->log_max[v->nlogs] = max;
	v->log_out[v->nlogs++] = out;
	*w = pfd[1];
	return 0;
}

/*
 * The display relay's log: the relay writes only to a pipe (display.h),
 * whose read end, `in`, the logger drains into display.log under its cap.
 * The file is opened here, by root, and goes to the logger alone (the
 * VMM's uid, non-dumpable, RLIMIT_FSIZE): no process of the relay's uid
 * ever holds a descriptor of it.  A taken-over VMM can stop or kill its
 * logger (same uid), which stalls or ends its own relay's log pipe, so
 * its own display: nothing of another instance's, nothing past the cap.
 */
static int sp_vmm_display_log(const struct sp_plan *p, struct sp_vmm_fds *v, int dirfd, int in,
			      struct sp_err *err)
{
	int out = sp_rundir_open_log(dirfd, strrchr(p->display.log, '/') + 1, err);

	if (out < 0)
		return -1;
	v->log_in[v->nlogs] = in >= 0 ? fcntl(in, F_DUPFD_CLOEXEC, 3) : -1;
	if (v->log_in[v->nlogs] < 0) {
		sp_err_set(err, "instance %s has a display but no display log: %s", p->instance,
			   strerror(in >= 0 ? errno : EBADF));
		close(out);
		return -1;
	}
	v->log_max[v->nlogs] = SP_LOG_DISPLAY_MAX;
	v->log_out[v->nlogs++] = out;
	return 0;
}

static int sp_vmm_logs_open(const struct sp_plan *p, struct sp_vmm_fds *v, bool keep_stderr,
			    int display_log, struct sp_err *err)
{
	int dirfd = sp_rundir_open(p, err), w, rc = -1;

	if (dirfd < 0)
		return -1;
	if (sp_vmm_log_pipe(v, dirfd, "console.log", SP_LOG_CONSOLE_MAX, &w, err) < 0)
		goto out;
	sp_vmm_add(v, w, SP_FD_CONSOLE_LOG);
	if (keep_stderr &&
	    sp_vmm_log_pipe(v, dirfd, "vmm.log", SP_LOG_VMM_MAX, &v->err_w, err) < 0)
		goto out;
	if (p->display.enabled && sp_vmm_display_log(p, v, dirfd, display_log, err) < 0)
		goto out;
	rc = 0;
out:
	close(dirfd);
	return rc;
}

/* Opens what the VMM inherits: its channels and logs, then what its back
 * end takes as descriptors (struct sp_backend) when it is unprivileged:
 * its disks, if it takes them so, and the taps, which every back end does. */
static int sp_vmm_fds_open(const struct sp_plan *p, struct sp_vmm_fds *v, bool keep_stderr,
			   int display_fd, int display_log, struct sp_err *err)
{
	if (sp_vmm_channels_open(p, v, err) < 0 ||
	    sp_vmm_logs_open(p, v, keep_stderr, display_log, err) < 0)
		return -1;
	/* The guest's end of the display channel, a copy: the caller keeps
	 * its own until the VMM has started. */
	if (p->display.enabled) {
		int fd = display_fd >= 0 ? fcntl(display_fd, F_DUPFD_CLOEXEC, 3) : -1;
		if (fd < 0) {
			sp_err_set(err, "instance %s has a display but no display channel: %s",
				   p->instance, strerror(display_fd >= 0 ? errno : EBADF));
			return -1;
		}
		sp_vmm_add(v, fd, SP_FD_WAYLAND);
	}
	if (!p->vmm_uid)
		return 0;
	if (sp_vmm_disks_open(p, v, err) < 0)
		return -1;
	/* Last, so that nothing after it can fail: the taps, on their
	 * segments' bridges. */
	if (p->nnics) {
		int taps[SP_LIMIT_BINDINGS];
		if (sp_net_open(p, taps, err) < 0)
			return -1;
		for (size_t i = 0; i < p->nnics; i++)
			sp_vmm_add(v, taps[i], SP_FD_NIC(i));
	}
	return 0;
}

static void sp_vmm_fds_close(struct sp_vmm_fds *v)
{
	for (size_t i = 0; i < v->n; i++)
		close(v->fds[i]);
	for (size_t i = 0; i < v->nlogs; i++) {
		close(v->log_in[i]);
		close(v->log_out[i]);
	}
	if (v->err_w >= 0)
		close(v->err_w);
	v->n = v->nlogs = 0;
	v->err_w = -1;
}

/*
 * VFIO pins all guest memory, and the VMM's sandbox forbids it to raise
 * its own limit, so the launcher raises its own RLIMIT_MEMLOCK, which the
 * VMM inherits.  Safe: it only lets more memory be locked, and a failure
 * is reported here, with its fix, before anything starts.
 */
static int sp_vmm_memlock(const struct sp_plan *p, struct sp_err *err)
{
	rlim_t need = (rlim_t)(p->memory_mib + 1024) << 20;
	struct rlimit rl;

	if (!p->vmm_uid || !p->npci || (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur >= need))
		return 0;
	rl.rlim_cur = rl.rlim_max = need;
	if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0) {
		sp_err_set(err,
			   "cannot raise RLIMIT_MEMLOCK to %llu MiB for PCI passthrough (VFIO pins the guest's memory): %s; "
			   "raising it needs CAP_SYS_RESOURCE: run as root with it, or raise the hard limit of locked memory first (ulimit -Hl, LimitMEMLOCK= of a service)",
			   (unsigned long long)(p->memory_mib + 1024), strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The VMM, through the one spawn helper: its descriptors at the numbers
 * its back end named, the instance lock at SP_FD_LOCK, in a session of its
 * own, and, when unprivileged, as its uid and gid with no groups and no
 * way back.  Its program is looked up in the caller's PATH (a test puts a
 * stand-in QEMU first), with the caller's environment.
 */
static int sp_vmm_exec(const struct sp_plan *p, const struct sp_argv *argv, int stderr_fd,
		       struct sp_vmm_fds *v, const struct sp_spawn_opts *o, pid_t *pid,
		       struct sp_err *err)
{
	extern char **environ;
	const char *path = getenv("PATH");

	if (o->keep_fd >= 0) {
		v->fds[v->n] = o->keep_fd;
		v->want[v->n] = SP_FD_LOCK;
	}
	struct sp_spawn s = {.argv = argv->v,
			     .search = path && *path ? path : NULL,
			     .envp = environ,
			     .in = -1,
			     .out = -1,
			     .err = stderr_fd,
			     .fds = v->fds,
			     .want = v->want,
			     .nfds = v->n + (o->keep_fd >= 0),
			     .new_session = true,
			     .die_with_parent = o->die_with_parent,
			     .drop = p->vmm_uid != 0,
			     .uid = (uid_t)p->vmm_uid,
			     .gid = (gid_t)p->vmm_uid,
			     };
	return sp_spawn_start(&s, pid, err);
}

static pid_t sp_vmm_logger(const struct sp_plan *p, struct sp_vmm_fds *v, struct sp_err *err)
{
	struct sp_log_stream s[SP_LOG_STREAMS_MAX];

	for (size_t i = 0; i < v->nlogs; i++)
		s[i] = (struct sp_log_stream){v->log_in[i], v->log_out[i], v->log_max[i]};
	return sp_logger_spawn(p, s, v->nlogs, err);
}

int sp_launch_spawn(const struct sp_plan *p, const struct sp_argv *argv,
		    const struct sp_spawn_opts *o, struct sp_vmm_proc *out, struct sp_err *err)
{
	struct sp_vmm_fds v = {.err_w = -1};
	pid_t child;

	out->pid = out->logger = -1;
	if (sp_vmm_memlock(p, err) < 0)
		return -1;
	if (sp_vmm_fds_open(p, &v, o->stderr_fd < 0, o->display_fd, o->display_log_fd, err) < 0)
		goto fail;
	out->logger = sp_vmm_logger(p, &v, err);
	if (out->logger < 0)
		goto fail;
	if (sp_vmm_exec(p, argv, o->stderr_fd < 0 ? v.err_w : o->stderr_fd, &v, o, &child, err) < 0)
		goto fail;
	/* Only the VMM holds the pipes' write ends now: the logger sees
	 * their end when it ends. */
	sp_vmm_fds_close(&v);
	out->pid = child;
	if (sp_rundir_pid_write(p, child, err) < 0) {
		kill(child, SIGKILL);
		return -1;
	}
	return 0;
fail:
	sp_vmm_fds_close(&v);
	if (p->vmm_uid)
		sp_net_release(p);
	return -1;
}

void sp_launch_cleanup(const struct sp_plan *p, pid_t logger)
{
	char path[4096];

	/* The logger ends as soon as it has drained the VMM's last words;
	 * a moment is enough. */
	for (int i = 0; logger > 0 && i < 50; i++) {
		pid_t w = waitpid(logger, NULL, WNOHANG);
		if (w == logger || (w < 0 && errno == ECHILD)) {
			logger = -1; /* reaped: its pid is no longer ours to wait for */
			break;
		}
		usleep(10000);
	}
	if (p->vmm_uid) {
		/* Whatever a taken-over VMM left running as its uid (a
		 * logger that did not end included) goes now, so that the
		 * uid is free for the next start. */
		if (sp_uid_kill_all(p->vmm_uid) == 0 && logger > 0)
			waitpid(logger, NULL, 0); /* killed if it was still there */
		/* Its taps went with the VMM; a segment no other instance
		 * uses goes too. */
		sp_net_release(p);
	}
	sp_devices_release(p->run_dir);
	/* Root's directory: these paths are root's to remove (rundir.h).
	 * A disposable disk's layer goes with its VM: what the guest wrote
	 * is discarded. */
	sp_overlays_remove(p);
	unlink(p->initrd);
	unlink(p->pid_file);
	snprintf(path, sizeof(path), "%s.tmp", p->pid_file);
	unlink(path);
}

int sp_unix_connect_wait(const char *path, int timeout_ms, pid_t pid, struct sp_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long deadline = sp_now_ms() + timeout_ms;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		sp_err_set(err, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			sp_err_set(err, "socket: %s", strerror(errno));
			return -1;
		}
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		close(fd);
		siginfo_t si = {0};
		/* WNOWAIT: look, but leave the exit status to the caller. */
		if ((pid > 0 && (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
				 si.si_pid == pid)) ||
		    sp_now_ms() > deadline) {
			sp_err_set(err, "the VMM did not open %s", path);
			return -1;
		}
		usleep(10000);
	}
}

/* Does QEMU's text name disk i, by path or by the fd set it was given? */
static bool sp_names_disk(const struct sp_plan *p, size_t i, const char *text)
{
	char fdset[32], base[32];

	snprintf(fdset, sizeof(fdset), "[/dev/fdset/%d]", SP_FD_DISK(i));
	/* A disposable disk's volume is its own set, under the layer's. */
	snprintf(base, sizeof(base), "[/dev/fdset/%d]", SP_FD_DISK_BASE(i));
	return strstr(text, p->disks[i].image) ||
	       (p->vmm_uid && (strstr(text, fdset) || (p->disks[i].overlay && strstr(text, base))));
}

bool sp_launch_explain(const struct sp_plan *p, const char *text, char *out, size_t len)
{
	/* QEMU's image locking refuses a second writer; name the volume. */
	if (strstr(text, "Failed to get \"write\" lock") || strstr(text, "Failed to get shared \"write\" lock")) {
		for (size_t i = 0; i < p->ndisks; i++)
			if (sp_names_disk(p, i, text)) {
				snprintf(out, len,
					 "volume %s (%s) is already open read-write by another VM; stop the instance that uses it, or bind it \"ro\"",
					 p->disks[i].resource, p->disks[i].image);
				return true;
			}
		snprintf(out, len, "a disk image is already in use by another VM: %s", text);
		return true;
	}
	if (strstr(text, "Failed to get \"consistent read\" lock")) {
		for (size_t i = 0; i < p->ndisks; i++)
			if (sp_names_disk(p, i, text)) {
				snprintf(out, len,
					 "volume %s (%s) is open read-write by another VM, so it cannot be shared read-only now; stop that instance first",
					 p->disks[i].resource, p->disks[i].image);
				return true;
			}
	}
	return false;
}
