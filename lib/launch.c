/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "guest.h"
#include "net.h"

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

static int sp_run_tool(char *const argv[], struct sp_err *err)
{
	int status;
	pid_t pid = fork();

	if (pid < 0) {
		sp_err_set(err, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		sp_err_set(err, "%s failed (status %d)", argv[0],
			   WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return -1;
	}
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
	if (sp_run_tool(mkfs, err) < 0) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		sp_err_set(err, "volume %s: formatting failed: %s (is e2fsprogs installed?)",
			   d->resource, why);
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

int sp_volume_prepare(const struct sp_plan_disk *d, struct sp_err *err)
{
	struct stat st;

	if (stat(d->image, &st) == 0) {
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
			sp_err_set(err, "volume %s: %s is not a file or block device", d->resource,
				   d->image);
			return -1;
		}
		return 0;
	}
	if (errno != ENOENT || !d->create) {
		sp_err_set(err, "volume %s: image %s: %s", d->resource, d->image, strerror(errno));
		return -1;
	}
	return sp_volume_create(d, err);
}

static int sp_need_file(const char *what, const char *path, const char *fix, struct sp_err *err)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return 0;
	sp_err_set(err, "%s %s is missing; %s", what, path, fix);
	return -1;
}

static int sp_take_lock(const struct sp_plan *p, int *lock_fd, struct sp_err *err)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", p->run_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		sp_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		sp_err_set(err, "instance %s is already running; stop it first", p->instance);
		close(fd);
		return -1;
	}
	*lock_fd = fd;
	return 0;
}

int sp_launch_prepare(const struct sp_plan *p, int *lock_fd, struct sp_err *err)
{
	const struct sp_backend *be = sp_backend_get(p->hypervisor);
	char arch_fix[256];

	if (!be->launchable) {
		sp_err_set(
			err,
			"%s is not launched by Spectrum yet (its guest control channel is not implemented); 'spectrum plan --argv FILE %s' gives its command line, or use the qemu hypervisor",
			be->name, p->instance);
		return -1;
	}
	snprintf(arch_fix, sizeof(arch_fix),
		 "install the guest kernel with scripts/guest-kernel.sh %s", sp_arch_name(p->arch));
	if (sp_need_file("guest kernel", p->kernel, arch_fix, err) < 0 ||
	    sp_need_file("base initramfs", p->base_initrd, arch_fix, err) < 0 ||
	    sp_need_file("root image", p->root.image,
			 "build it with 'spectrum image build' or fix the application's image", err) < 0 ||
	    sp_devices_check(p, err) < 0)
		return -1;
	if (sp_mkdir_p(p->run_dir, 0700) < 0) {
		sp_err_set(err, "cannot create %s: %s", p->run_dir, strerror(errno));
		return -1;
	}
	if (sp_take_lock(p, lock_fd, err) < 0)
		return -1;
	if (sp_devices_grant(p, err) < 0)
		goto fail;
	for (size_t i = 0; i < p->ndisks; i++)
		if (sp_volume_prepare(&p->disks[i], err) < 0)
			goto fail;
	/* Stale sockets of an earlier run would make connects fail oddly. */
	unlink(p->console_socket);
	unlink(p->control_socket);
	unlink(p->qmp_socket);
	if (sp_guest_initrd(p, p->base_initrd, p->initrd, err) < 0)
		goto fail;
	/* An unprivileged VMM writes its sockets, pid file and logs here,
	 * and reads its initramfs; nothing else of ours is its to touch. */
	if (p->vmm_uid && (chown(p->run_dir, p->vmm_uid, p->vmm_uid) < 0 ||
			   chown(p->initrd, p->vmm_uid, p->vmm_uid) < 0 ||
			   (chown(p->console_log, p->vmm_uid, p->vmm_uid) < 0 && errno != ENOENT))) {
		sp_err_set(err, "cannot hand %s to the VMM's uid: %s", p->run_dir, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	sp_devices_release(p->run_dir);
	close(*lock_fd);
	*lock_fd = -1;
	return -1;
}

/* The descriptors an unprivileged VMM inherits: fds[i] goes to want[i].
 * The root needs one, each binding at most two (a read-write disk under
 * QEMU; a tap is one). */
struct sp_vmm_fds {
	int fds[2 + 2 * SP_LIMIT_BINDINGS];
	int want[2 + 2 * SP_LIMIT_BINDINGS];
	size_t n;
};

static int sp_vmm_open(struct sp_vmm_fds *v, const char *path, int flags, int want,
		       struct sp_err *err)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		sp_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	v->fds[v->n] = fd;
	v->want[v->n++] = want;
	return 0;
}

/* Opens what the plan's back end takes as descriptors (struct sp_backend):
 * its disks, if it takes them so, and the taps, which every back end does. */
static int sp_vmm_fds_open(const struct sp_plan *p, struct sp_vmm_fds *v, struct sp_err *err)
{
	const struct sp_backend *be = sp_backend_get(p->hypervisor);

	v->n = 0;
	if (!p->vmm_uid)
		return 0;
	if (be->root_fd && !p->root.shared &&
	    sp_vmm_open(v, p->root.image, O_RDONLY, SP_FD_ROOT, err) < 0)
		return -1;
	for (size_t i = 0; be->disk_fds && i < p->ndisks; i++) {
		const struct sp_plan_disk *d = &p->disks[i];
		bool rw = d->mode == SP_MODE_RW;
		if (sp_vmm_open(v, d->image, rw ? O_RDWR : O_RDONLY, SP_FD_DISK(i), err) < 0)
			return -1;
		if (rw && be->disk_ro_fds &&
		    sp_vmm_open(v, d->image, O_RDONLY, SP_FD_DISK_RO(i), err) < 0)
			return -1;
	}
	/* Last, so that nothing after it can fail: the taps, on their
	 * segments' bridges. */
	if (p->nnics) {
		int taps[SP_LIMIT_BINDINGS];
		if (sp_net_open(p, taps, err) < 0)
			return -1;
		for (size_t i = 0; i < p->nnics; i++) {
			v->fds[v->n] = taps[i];
			v->want[v->n++] = SP_FD_NIC(i);
		}
	}
	return 0;
}

static void sp_vmm_fds_close(struct sp_vmm_fds *v)
{
	for (size_t i = 0; i < v->n; i++)
		close(v->fds[i]);
	v->n = 0;
}

/* In the child: descriptors to their numbers, then drop to the VMM's uid.
 * Everything is moved above the target range first, so no dup2 can
 * overwrite a descriptor still to be placed. */
static int sp_vmm_child_setup(const struct sp_plan *p, struct sp_vmm_fds *v, int *keep_fd)
{
	/* The copies close at exec; dup2 gives the targets no FD_CLOEXEC. */
	for (size_t i = 0; i < v->n; i++)
		if ((v->fds[i] = fcntl(v->fds[i], F_DUPFD_CLOEXEC, 200)) < 0)
			return -1;
	if (*keep_fd >= 0 && (*keep_fd = fcntl(*keep_fd, F_DUPFD_CLOEXEC, 200)) < 0)
		return -1;
	for (size_t i = 0; i < v->n; i++)
		if (dup2(v->fds[i], v->want[i]) < 0)
			return -1;
	if (!p->vmm_uid)
		return 0;
	if (p->npci) {
		/* VFIO pins all guest memory; the sandbox forbids QEMU to
		 * raise the limit itself, so it is raised here. */
		struct rlimit rl;
		rl.rlim_cur = rl.rlim_max = (rlim_t)(p->memory_mib + 1024) << 20;
		if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
			return -1;
	}
	gid_t gid = (gid_t)p->vmm_uid;
	uid_t uid = (uid_t)p->vmm_uid;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -1;
	/* No way back: if root could be regained, refuse to run at all. */
	if (setuid(0) == 0)
		return -1;
	return 0;
}

int sp_launch_spawn(const struct sp_plan *p, const struct sp_argv *argv, int stderr_fd,
		    int keep_fd, pid_t *pid, struct sp_err *err)
{
	struct sp_vmm_fds v;
	pid_t child;

	if (sp_vmm_fds_open(p, &v, err) < 0) {
		sp_vmm_fds_close(&v);
		return -1;
	}
	child = fork();
	if (child < 0) {
		sp_err_set(err, "fork: %s", strerror(errno));
		sp_vmm_fds_close(&v);
		if (p->vmm_uid)
			sp_net_release(p);
		return -1;
	}
	if (child == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		sigset_t none;
		sp_cloexec_from(3);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(stderr_fd, 2) < 0)
			_exit(127);
		if (sp_vmm_child_setup(p, &v, &keep_fd) < 0) {
			dprintf(2, "cannot prepare the VMM's descriptors and credentials: %s\n",
				strerror(errno));
			_exit(127);
		}
		if (keep_fd >= 0)
			fcntl(keep_fd, F_SETFD, 0);
		execvp(argv->v[0], argv->v);
		dprintf(2, "cannot run %s: %s\n", argv->v[0], strerror(errno));
		_exit(127);
	}
	sp_vmm_fds_close(&v);
	*pid = child;
	return 0;
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
	char fdset[32];

	snprintf(fdset, sizeof(fdset), "[/dev/fdset/%d]", SP_FD_DISK(i));
	return strstr(text, p->disks[i].image) || (p->vmm_uid && strstr(text, fdset));
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
