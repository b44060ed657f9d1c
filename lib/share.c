/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SP_VIRTIOFSD "/usr/lib/qemu/virtiofsd"

static int sp_share_socket(const struct sp_plan *p, const struct sp_plan_share *sh, struct sp_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0); /* inherited by virtiofsd */

	if (fd < 0 || strlen(sh->socket) >= sizeof(sa.sun_path)) {
		sp_err_set(err, "share %s: socket: %s", sh->resource, strerror(errno));
		goto fail;
	}
	strcpy(sa.sun_path, sh->socket);
	unlink(sh->socket);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0 ||
	    chmod(sh->socket, 0600) < 0 ||
	    (p->vmm_uid && chown(sh->socket, p->vmm_uid, p->vmm_uid) < 0)) {
		sp_err_set(err, "share %s: %s: %s", sh->resource, sh->socket, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* In the child: make `dir` read-only in a mount namespace of our own. */
static int sp_share_readonly(const char *dir)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0 ||
	    mount(NULL, dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
		return -1;
	return 0;
}

static int sp_share_start(const struct sp_plan *p, const struct sp_plan_share *sh, pid_t *pid,
			  struct sp_err *err)
{
	char fdarg[32], src[4200], log[4096];
	struct stat st;
	int fd, logfd;

	if (stat(sh->host_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sp_err_set(err, "share %s: %s is not a directory; create it first", sh->resource,
			   sh->host_path);
		return -1;
	}
	if (access(SP_VIRTIOFSD, X_OK) < 0) {
		sp_err_set(err, "share %s: %s is missing (Debian package qemu-system-common)",
			   sh->resource, SP_VIRTIOFSD);
		return -1;
	}
	fd = sp_share_socket(p, sh, err);
	if (fd < 0)
		return -1;
	snprintf(log, sizeof(log), "%s/virtiofsd-%s.log", p->run_dir, sh->resource);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", fd);
	snprintf(src, sizeof(src), "source=%s", sh->host_path);
	*pid = fork();
	if (*pid == 0) {
		char *argv[] = {SP_VIRTIOFSD, fdarg, "-o", src, "-o", "cache=auto", NULL};
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		sp_cloexec_from(3);
		fcntl(fd, F_SETFD, 0);
		setsid();
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		if (logfd >= 0)
			dup2(logfd, 2);
		if (sh->mode == SP_MODE_RO && sp_share_readonly(sh->host_path) < 0) {
			dprintf(2, "cannot make %s read-only: %s\n", sh->host_path, strerror(errno));
			_exit(127);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	close(fd);
	if (logfd >= 0)
		close(logfd);
	if (*pid < 0) {
		sp_err_set(err, "fork: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int sp_launch_shares(const struct sp_plan *p, pid_t *pids, struct sp_err *err)
{
	for (size_t i = 0; i < p->nshares; i++) {
		if (sp_share_start(p, &p->shares[i], &pids[i], err) < 0) {
			for (size_t j = 0; j < i; j++)
				kill(pids[j], SIGTERM);
			return -1;
		}
	}
	return 0;
}
