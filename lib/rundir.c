/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The run directory's trust rules: see rundir.h. */
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Ours and closed to others: the owner is the caller, nobody else writes. */
static bool sp_rundir_trusted(const struct stat *st)
{
	return st->st_uid == geteuid() && !(st->st_mode & 022);
}

static int sp_rundir_parent(const char *dir, struct sp_err *err)
{
	char parent[4096];
	char *slash;
	struct stat st;
	int fd;

	snprintf(parent, sizeof(parent), "%s", dir);
	slash = strrchr(parent, '/');
	if (!slash) {
		sp_err_set(err, "run directory %s is not an absolute path", dir);
		return -1;
	}
	*slash = '\0';
	if (mkdir(parent[0] ? parent : "/", 0755) < 0 && errno != EEXIST) {
		sp_err_set(err, "cannot create %s: %s", parent, strerror(errno));
		return -1;
	}
	fd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		sp_err_set(err, "%s: %s", parent, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* Another uid could rename our instance directory away and put its
	 * own in its place: the whole chain of trust starts here. */
	if (!sp_rundir_trusted(&st)) {
		sp_err_set(
			err,
			"%s is owned by uid %u or writable by others; SPECTRUM_RUN_DIR must be a directory only its user writes",
			parent, (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	return fd;
}

int sp_rundir_open(const struct sp_plan *p, struct sp_err *err)
{
	const char *name = strrchr(p->run_dir, '/') + 1;
	struct stat st;
	int parent, fd;

	parent = sp_rundir_parent(p->run_dir, err);
	if (parent < 0)
		return -1;
	if (mkdirat(parent, name, 0711) < 0 && errno != EEXIST) {
		sp_err_set(err, "cannot create %s: %s", p->run_dir, strerror(errno));
		close(parent);
		return -1;
	}
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(parent);
	if (fd < 0 || fstat(fd, &st) < 0) {
		sp_err_set(err, "%s: %s", p->run_dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		sp_err_set(
			err,
			"%s belongs to uid %u, not to us (an older Spectrum gave it to the VMM); remove it while %s is stopped",
			p->run_dir, (unsigned)st.st_uid, p->instance);
		close(fd);
		return -1;
	}
	/* Traversable, so that the VMM reads its initramfs by path; nothing
	 * else of it is the VMM's. */
	if ((st.st_mode & 07777) != 0711 && fchmod(fd, 0711) < 0) {
		sp_err_set(err, "%s: %s", p->run_dir, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int sp_rundir_create(int dirfd, const char *name, int flags, mode_t mode, struct sp_err *err)
{
	int fd;

	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
		sp_err_set(err, "cannot replace %s: %s", name, strerror(errno));
		return -1;
	}
	fd = openat(dirfd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		sp_err_set(err, "cannot create %s: %s", name, strerror(errno));
	return fd;
}

int sp_rundir_open_log(int dirfd, const char *name, struct sp_err *err)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0 || fstat(fd, &st) < 0) {
		sp_err_set(err, "cannot open %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || !sp_rundir_trusted(&st)) {
		sp_err_set(err, "%s is not a plain file of ours; remove it", name);
		close(fd);
		return -1;
	}
	return fd;
}

int sp_rundir_open_read(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
		close(fd);
		errno = EPERM;
		return -1;
	}
	/* Readers may block on a regular file's reads as usual. */
	fcntl(fd, F_SETFL, 0);
	return fd;
}

int sp_rundir_listen(const char *path, struct sp_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		sp_err_set(err, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		sp_err_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	/* bind() never follows a link at the last component; the old socket
	 * of an earlier run is in the way, so it goes first. */
	if (unlink(path) < 0 && errno != ENOENT) {
		sp_err_set(err, "cannot replace %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	old = umask(0177); /* 0600 from the start, not after a chmod */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 4) < 0) {
		sp_err_set(err, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Field 22 of /proc/PID/stat: the start time in clock ticks since boot. */
static unsigned long long sp_proc_start(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	ssize_t n;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: count from the
	 * last ')'. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

static uid_t sp_proc_uid(pid_t pid)
{
	char path[64], line[256];
	unsigned u = (unsigned)-1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return (uid_t)-1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u", &u) == 1)
			break;
	fclose(f);
	return (uid_t)u;
}

static int sp_rundir_pid_write_at(const struct sp_plan *p, const char *path, pid_t pid,
				  struct sp_err *err)
{
	const char *name = strrchr(path, '/') + 1;
	char tmp[64], line[64];
	int dirfd, fd, len, rc = -1;

	dirfd = sp_rundir_open(p, err);
	if (dirfd < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	len = snprintf(line, sizeof(line), "%d %llu\n", (int)pid, sp_proc_start(pid));
	fd = sp_rundir_create(dirfd, tmp, O_WRONLY, 0644, err);
	if (fd >= 0 && write(fd, line, (size_t)len) == len &&
	    renameat(dirfd, tmp, dirfd, name) == 0)
		rc = 0;
	else if (fd >= 0)
		sp_err_set(err, "writing %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlinkat(dirfd, tmp, 0);
	close(dirfd);
	return rc;
}

int sp_rundir_pid_write(const struct sp_plan *p, pid_t pid, struct sp_err *err)
{
	return sp_rundir_pid_write_at(p, p->pid_file, pid, err);
}

int sp_rundir_relay_pid_write(const struct sp_plan *p, pid_t pid, struct sp_err *err)
{
	return sp_rundir_pid_write_at(p, p->display.pid_file, pid, err);
}

static pid_t sp_rundir_pid_read_at(const char *path, uint32_t uid, time_t *started)
{
	char buf[64];
	unsigned long long start;
	struct stat st;
	ssize_t n;
	int pid, fd;

	fd = sp_rundir_open_read(path);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0 || fstat(fd, &st) < 0) {
		close(fd);
		return 0;
	}
	close(fd);
	buf[n] = '\0';
	if (sscanf(buf, "%d %llu", &pid, &start) != 2 || pid <= 1 || start == 0 ||
	    sp_proc_start(pid) != start)
		return 0;
	if (uid && sp_proc_uid(pid) != (uid_t)uid)
		return 0;
	if (started)
		*started = st.st_mtime;
	return pid;
}

pid_t sp_rundir_pid_read(const struct sp_plan *p, time_t *started)
{
	return sp_rundir_pid_read_at(p->pid_file, p->vmm_uid, started);
}

pid_t sp_rundir_relay_pid_read(const struct sp_plan *p)
{
	return p->display.enabled ?
		       sp_rundir_pid_read_at(p->display.pid_file, p->display.relay_uid, NULL) :
		       0;
}
