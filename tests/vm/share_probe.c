/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * share-probe PID: what a file server taken over by its guest could do to
 * its read-only share.  Enters the user and mount namespaces of process
 * PID (a virtiofsd) as root of that user namespace, with every capability
 * there (more than virtiofsd keeps), and its root; then tries to make the
 * share writable, to unmount it, and to create a file.  Prints one line
 * per attempt, NAME=0 or NAME=the errno's name.  Run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static void report(const char *name, int rc)
{
	printf("%s=%s\n", name, rc < 0 ? strerrorname_np(errno) : "0");
}

static int open_of(const char *pid, const char *what, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%s/%s", pid, what);
	return open(path, flags | O_CLOEXEC);
}

int main(int argc, char **argv)
{
	struct mount_attr writable = {
		.attr_clr = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			    MOUNT_ATTR_NOEXEC,
	};
	int user, mnt, root, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: share-probe PID\n");
		return 2;
	}
	user = open_of(argv[1], "ns/user", O_RDONLY);
	mnt = open_of(argv[1], "ns/mnt", O_RDONLY);
	root = open_of(argv[1], "root", O_RDONLY | O_DIRECTORY);
	if (user < 0 || mnt < 0 || root < 0 || setns(user, CLONE_NEWUSER) < 0 ||
	    setns(mnt, CLONE_NEWNS) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 ||
	    fchdir(root) < 0 || chroot(".") < 0) {
		fprintf(stderr, "share-probe: cannot enter %s's namespaces: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	report("remount", mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL));
	report("setattr", mount_setattr(AT_FDCWD, "/", 0, &writable, sizeof(writable)));
	report("umount", umount2("/", MNT_DETACH));
	fd = open("/share-probe", O_WRONLY | O_CREAT | O_EXCL, 0644);
	report("create", fd);
	return 0;
}
