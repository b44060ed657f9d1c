/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directory shares: one virtiofsd per share, with the least privilege
 * that still serves it.  The guest speaks FUSE to this process, so a bug
 * in it (CVE-2022-0358 was one) must not be a way to root, and even a
 * correct one must not let the guest make files the host would trust.
 *
 * For a share of directory D, owned by O:G on the host, bound into the
 * instance whose VMM runs as uid = gid V (sp_plan.vmm_uid):
 *
 *   the process  virtiofsd runs as host uid and gid V, the instance's own,
 *                as root of a user namespace of its own in which only V
 *                is mapped (to 0): its capabilities are that namespace's,
 *                over the files whose owner and group it maps, and none
 *                in the host's.  It is no other instance's, and no
 *                user's: none of them can signal or trace it, nor it
 *                them.
 *   the files    it sees D through an idmapped mount that shows O:G as
 *                V:V, so what it makes is O:G on the disk: the owner's,
 *                whichever instance made it.  Files of other owners show
 *                as unmapped ids and are not its own.
 *   the guest    guest root is V in the namespace, so O on the disk; no
 *                other guest uid is mapped, so files the guest makes as
 *                another uid fail (EINVAL), and so does a chown to one.
 *
 * The idmapped mount is made here, by root, and put in place (over the
 * instance's run directory, which V can reach) in a mount namespace the
 * child makes while it is still root; only then does it enter its user
 * namespace.  When virtiofsd makes its own mount
 * namespace (-o sandbox=namespace) from that less privileged user
 * namespace, the kernel locks what it copies: the mount over D cannot be
 * unmounted to reveal D itself, and its flags (read-only for a read-only
 * share; nosuid, nodev and noexec always) cannot be cleared.  virtiofsd
 * then bind-mounts it onto itself, pivots into it and keeps only the
 * capabilities it needs for files, under its own seccomp filter; ours,
 * installed first, refuses set-user-ID and set-group-ID modes and
 * extended attributes.
 */
#include "share.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define SP_VIRTIOFSD "/usr/lib/qemu/virtiofsd"

/* virtiofsd holds a descriptor for each file the guest has looked up, and
 * would raise its limit to this itself if it could (see
 * sp_share_child_run). */
#define SP_SHARE_NOFILE 1000000

int sp_share_owner(const struct sp_plan_share *sh, const struct stat *st, struct sp_err *err)
{
	if (!S_ISDIR(st->st_mode)) {
		sp_err_set(err, "share %s: %s is not a directory; create it first", sh->resource,
			   sh->host_path);
		return -1;
	}
	/* The guest's files would be root's, and the file server would have
	 * root's rights as an owner over root's files in the directory. */
	if (st->st_uid == 0 || st->st_gid == 0) {
		sp_err_set(
			err,
			"share %s: %s belongs to %s root; a guest would make root's files in it: give it to the user whose files these are (chown USER:GROUP %s)",
			sh->resource, sh->host_path, st->st_uid == 0 ? "user" : "group",
			sh->host_path);
		return -1;
	}
	return 0;
}

/*
 * The socket QEMU connects to, listening before virtiofsd starts, which
 * inherits it.  The run directory belongs to the VMM's uid, so nothing
 * here follows a name in it: the mode is set on the socket before bind
 * (Linux gives the new node the socket's mode), the owner with lchown.
 */
static int sp_share_socket(const struct sp_plan *p, const struct sp_plan_share *sh,
			   struct sp_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(sh->socket) >= sizeof(sa.sun_path)) {
		sp_err_set(err, "share %s: socket: %s", sh->resource, strerror(errno));
		goto fail;
	}
	strcpy(sa.sun_path, sh->socket);
	unlink(sh->socket);
	if (fchmod(fd, 0600) < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 1) < 0 || lchown(sh->socket, p->vmm_uid, p->vmm_uid) < 0) {
		sp_err_set(err, "share %s: %s: %s", sh->resource, sh->socket, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* virtiofsd's messages, in the run directory: O_NOFOLLOW, as that
 * directory belongs to the VMM's uid. */
static int sp_share_log(const struct sp_plan *p, const struct sp_plan_share *sh, struct sp_err *err)
{
	char log[4096];
	int fd;

	snprintf(log, sizeof(log), "%s/virtiofsd-%s.log", p->run_dir, sh->resource);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
	if (fd < 0)
		sp_err_set(err, "share %s: %s: %s", sh->resource, log, strerror(errno));
	return fd;
}

static int sp_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = (ssize_t)strlen(text);
	int rc = fd >= 0 && write(fd, text, (size_t)len) == len ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * Writes the one-line uid and gid maps of process pid's user namespace:
 * `uid`/`gid` inside is `host` outside.  Only root may map another uid
 * than its own, which is why this runs in the parent.  setgroups is
 * denied before the gid map: the child has dropped its supplementary
 * groups already, and no one in the namespace may take any back.
 */
static int sp_share_maps(pid_t pid, uid_t uid, gid_t gid, uint32_t host)
{
	char path[64], map[64];

	snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)host);
	if (sp_write_file(path, map) < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
	if (sp_write_file(path, "deny") < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)host);
	return sp_write_file(path, map);
}

/* Reads until EOF or `size` bytes; the count. */
static size_t sp_read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size) {
		ssize_t r = read(fd, buf + len, size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	return len;
}

/*
 * The idmapping of the mount: a user namespace in which the directory's
 * owner and group are the VMM's uid and gid, held by a process that only
 * makes it and waits to be killed (a fork of root that runs nothing and
 * reads nothing).  Its descriptor keeps the namespace after that; no
 * process ever runs in it.
 */
static int sp_share_idmap(const struct sp_plan *p, const struct sp_plan_share *sh,
			  const struct stat *st, struct sp_err *err)
{
	char path[64], c;
	int sync[2], fd = -1;
	pid_t pid;

	if (pipe2(sync, O_CLOEXEC) < 0) {
		sp_err_set(err, "share %s: pipe: %s", sh->resource, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER) == 0 && write(sync[1], "U", 1) == 1)
			for (;;)
				pause();
		_exit(127);
	}
	close(sync[1]);
	if (pid > 0 && sp_read_all(sync[0], &c, 1) == 1 &&
	    sp_share_maps(pid, st->st_uid, st->st_gid, p->vmm_uid) == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		sp_err_set(err, "share %s: cannot make the user namespace of its mount: %s",
			   sh->resource, strerror(errno));
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(sync[0]);
	return fd;
}

/*
 * The directory as virtiofsd will see it: a detached copy of its mount
 * (not of the mounts below it), idmapped, nosuid, nodev (a device node in
 * the directory must not open a host device for the guest), noexec, and
 * read-only for a read-only share.  Detached, it is nowhere until the
 * child puts it in place in a mount namespace of its own.
 */
static int sp_share_tree(const struct sp_plan *p, const struct sp_plan_share *sh,
			 struct sp_err *err)
{
	struct mount_attr attr = {
		.attr_set =
			MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	struct stat st;
	int tree, idmap = -1;

	if (stat(sh->host_path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sp_err_set(err, "share %s: %s is not a directory; create it first", sh->resource,
			   sh->host_path);
		return -1;
	}
	tree = open_tree(AT_FDCWD, sh->host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0) {
		sp_err_set(err, "share %s: %s: %s", sh->resource, sh->host_path, strerror(errno));
		return -1;
	}
	/* The owner is the mount's, not the name's: they are one object. */
	if (fstat(tree, &st) < 0 || sp_share_owner(sh, &st, err) < 0 ||
	    (idmap = sp_share_idmap(p, sh, &st, err)) < 0)
		goto fail;
	if (sh->mode == SP_MODE_RO)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	attr.userns_fd = (uint64_t)idmap;
	if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
		if (errno == EINVAL)
			sp_err_set(
				err,
				"share %s: the file system of %s cannot map its owner to the instance's uid (no idmapped mounts); share a directory on ext4, xfs, btrfs or tmpfs",
				sh->resource, sh->host_path);
		else
			sp_err_set(err, "share %s: cannot idmap %s: %s", sh->resource,
				   sh->host_path, strerror(errno));
		goto fail;
	}
	close(idmap);
	return tree;
fail:
	if (idmap >= 0)
		close(idmap);
	close(tree);
	return -1;
}

/* System calls whose argument `arg` is a file mode. */
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#ifndef __NR_openat2
#define __NR_openat2 437
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#endif
#ifndef __NR_removexattrat
#define __NR_removexattrat 466
#endif
static const struct {
	long nr;
	unsigned arg;
} sp_mode_calls[] = {
#ifdef __NR_chmod
	{__NR_chmod, 1},
#endif
#ifdef __NR_open
	{__NR_open, 2},
#endif
#ifdef __NR_creat
	{__NR_creat, 1},
#endif
#ifdef __NR_mknod
	{__NR_mknod, 1},
#endif
	{__NR_fchmod, 1}, {__NR_fchmodat, 2}, {__NR_fchmodat2, 2},
	{__NR_openat, 3}, {__NR_mknodat, 2},
};

/* Refused outright: extended attributes (file capabilities, ACLs), which
 * virtiofsd serves no guest here (-o no_xattr); system calls that carry a
 * mode where a filter cannot read it. */
static const long sp_denied_calls[] = {
	__NR_setxattr,	  __NR_lsetxattr,      __NR_fsetxattr,	  __NR_setxattrat,
	__NR_removexattr, __NR_lremovexattr,   __NR_fremovexattr, __NR_removexattrat,
	__NR_openat2,	  __NR_io_uring_setup,
};

#if defined(__x86_64__)
#define SP_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SP_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__aarch64__)
#define SP_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "name this architecture's AUDIT_ARCH for the file server's seccomp filter"
#endif

/* Where the low 32 bits of a 64-bit argument are: a mode fits in them. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SP_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n))
#else
#define SP_ARG_LO(n) (offsetof(struct seccomp_data, args) + 8 * (n) + 4)
#endif

#define SP_NELEM(a) (sizeof(a) / sizeof((a)[0]))

int sp_share_filter_apply(struct sp_err *err)
{
	struct sock_filter f[8 + 2 * SP_NELEM(sp_denied_calls) + 5 * SP_NELEM(sp_mode_calls)];
	struct sock_fprog prog = {.filter = f};
	size_t n = 0;

#define SP_STMT(code, k) (f[n++] = (struct sock_filter)BPF_STMT(code, k))
#define SP_JUMP(code, k, jt, jf) (f[n++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf))
	/* Another architecture's system calls have other numbers. */
	SP_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	SP_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SP_AUDIT_ARCH, 1, 0);
	SP_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	SP_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* So do x32's, on the same architecture. */
	SP_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	SP_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
#endif
	for (size_t i = 0; i < SP_NELEM(sp_denied_calls); i++) {
		SP_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)sp_denied_calls[i], 0, 1);
		SP_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	}
	for (size_t i = 0; i < SP_NELEM(sp_mode_calls); i++) {
		SP_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)sp_mode_calls[i].nr, 0, 4);
		SP_STMT(BPF_LD | BPF_W | BPF_ABS, (unsigned)SP_ARG_LO(sp_mode_calls[i].arg));
		SP_JUMP(BPF_JMP | BPF_JSET | BPF_K, S_ISUID | S_ISGID, 0, 1);
		SP_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
		SP_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	SP_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef SP_STMT
#undef SP_JUMP
	prog.len = (unsigned short)n;
	/* no_new_privs: required to install a filter without privilege, and
	 * what keeps an exec from ever gaining any. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
		int e = errno;
		sp_err_set(err, "cannot install the seccomp filter: %s", strerror(e));
		errno = e;
		return -1;
	}
	return 0;
}

/* What the child needs, all opened by the parent. */
struct sp_share_child {
	const struct sp_plan *p;
	const struct sp_plan_share *sh;
	int sock;   /* listening, inherited by virtiofsd */
	int log;    /* its stderr */
	int tree;   /* the detached, idmapped mount of the directory */
	int report; /* to the parent: a NUL once in the user namespace, then
		     * nothing (it closes at exec) or why it failed */
	int go;	    /* from the parent: one byte once the maps are written */
};

static void __attribute__((noreturn))
sp_child_fail(const struct sp_share_child *c, const char *what)
{
	dprintf(c->report, "%s: %s", what, strerror(errno));
	_exit(127);
}

/*
 * Root, in a mount namespace of its own, puts the directory's idmapped
 * mount over the instance's run directory, where virtiofsd will find it:
 * the VMM's uid can reach that one (/run/spectrum is searchable, the run
 * directory its own), not always the directory's own path (a home of mode
 * 0700 above it).  Private first, so that nothing propagates to the host.
 * Only root's names are followed: the run directory's parent is root's.
 */
static void sp_child_mount(const struct sp_share_child *c)
{
	if (unshare(CLONE_NEWNS) < 0)
		sp_child_fail(c, "cannot make a mount namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		sp_child_fail(c, "cannot make its mounts private");
	if (move_mount(c->tree, "", AT_FDCWD, c->p->run_dir, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		sp_child_fail(c, "cannot mount the directory's idmapped copy");
	close(c->tree);
}

/*
 * From root to root of a user namespace in which only the VMM's uid and
 * gid are mapped, to 0.  The supplementary groups go first, while root
 * may drop them.  The parent writes the maps once the namespace exists;
 * setresuid and setresgid to 0 inside then make this process the VMM's
 * uid and gid on the host, for good: the host's root is not mapped, so
 * nothing in the namespace can become it again.  It keeps every
 * capability, but in the new namespace only.
 */
static void sp_child_userns(const struct sp_share_child *c)
{
	char go;

	if (setgroups(0, NULL) < 0)
		sp_child_fail(c, "cannot drop the supplementary groups");
	if (unshare(CLONE_NEWUSER) < 0)
		sp_child_fail(c, "cannot make a user namespace");
	if (write(c->report, "", 1) != 1 || read(c->go, &go, 1) != 1)
		_exit(127); /* the parent gave up and says why */
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		sp_child_fail(c, "cannot become root of the user namespace");
}

static void __attribute__((noreturn)) sp_share_child_run(const struct sp_share_child *c)
{
	char fdarg[32], src[4200];
	char *argv[] = {SP_VIRTIOFSD, fdarg, "-o", src, "-o", "cache=auto", "-o",
			"sandbox=namespace", "-o", "no_xattr",
			/* Writes clear set-ID bits; devices are not its to make
			 * in a user namespace; nor file capabilities. */
			"-o", "modcaps=-fsetid:-mknod:-setfcap", NULL};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct sp_err err;
	struct rlimit rl = {SP_SHARE_NOFILE, SP_SHARE_NOFILE};
	sigset_t none;

	sp_cloexec_from(3);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(c->log, 2) < 0 ||
	    fcntl(c->sock, F_SETFD, 0) < 0)
		sp_child_fail(c, "cannot set up the file server's descriptors");
	/* One descriptor per file the guest looks up: raising the hard limit
	 * needs CAP_SYS_RESOURCE in the host's namespace, which virtiofsd
	 * will not have, so it is done here; fs.nr_open may cap it, and
	 * virtiofsd then does with what it gets. */
	setrlimit(RLIMIT_NOFILE, &rl);
	sp_child_mount(c);
	sp_child_userns(c);
	if (sp_share_filter_apply(&err) < 0) {
		dprintf(c->report, "%s", err.msg);
		_exit(127);
	}
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", c->sock);
	snprintf(src, sizeof(src), "source=%s", c->p->run_dir);
	execv(argv[0], argv);
	sp_child_fail(c, "cannot run " SP_VIRTIOFSD);
}

/*
 * The parent's half: waits for the child's user namespace, maps it, and
 * reads until the child's report closes at exec; anything read is why
 * it failed.
 */
static int sp_share_parent(const struct sp_share_child *c, pid_t pid, int report, int go,
			   struct sp_err *err)
{
	char buf[400];
	size_t len = sp_read_all(report, buf, 1);

	if (len == 1 && buf[0] == '\0') {
		if (sp_share_maps(pid, 0, 0, c->p->vmm_uid) < 0) {
			sp_err_set(err, "share %s: cannot map the file server's uid: %s",
				   c->sh->resource, strerror(errno));
			return -1;
		}
		if (write(go, "G", 1) != 1) {
			sp_err_set(err, "share %s: the file server's set-up ended early",
				   c->sh->resource);
			return -1;
		}
		len = 0;
	} else if (len == 0) {
		sp_err_set(err, "share %s: the file server's set-up ended early", c->sh->resource);
		return -1;
	}
	len += sp_read_all(report, buf + len, sizeof(buf) - 1 - len);
	if (len == 0)
		return 0;
	buf[len] = '\0';
	sp_err_set(err, "share %s: %s", c->sh->resource, buf);
	return -1;
}

static int sp_share_start(const struct sp_plan *p, const struct sp_plan_share *sh, pid_t *pid,
			  struct sp_err *err)
{
	struct sp_share_child c = {.p = p, .sh = sh, .sock = -1, .log = -1, .tree = -1};
	int report[2] = {-1, -1}, go[2] = {-1, -1}, rc = -1;

	if (access(SP_VIRTIOFSD, X_OK) < 0) {
		sp_err_set(err, "share %s: %s is missing (Debian package qemu-system-common)",
			   sh->resource, SP_VIRTIOFSD);
		return -1;
	}
	if ((c.tree = sp_share_tree(p, sh, err)) < 0 ||
	    (c.sock = sp_share_socket(p, sh, err)) < 0 || (c.log = sp_share_log(p, sh, err)) < 0)
		goto out;
	if (pipe2(report, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
		sp_err_set(err, "share %s: pipe: %s", sh->resource, strerror(errno));
		goto out;
	}
	c.report = report[1];
	c.go = go[0];
	/* Not lib/spawn.c's one fork: between the child's unshare and its
	 * exec, the parent must write the child's uid and gid maps (only a
	 * process outside the new namespace can), a two-way handshake
	 * (report, go) that sp_spawn's one-way exec report does not model. */
	*pid = fork();
	if (*pid == 0)
		sp_share_child_run(&c);
	close(report[1]);
	close(go[0]);
	report[1] = go[0] = -1;
	if (*pid < 0) {
		sp_err_set(err, "fork: %s", strerror(errno));
		goto out;
	}
	rc = sp_share_parent(&c, *pid, report[0], go[1], err);
	if (rc < 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
out:
	for (int i = 0; i < 2; i++) {
		if (report[i] >= 0)
			close(report[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
	if (c.tree >= 0)
		close(c.tree);
	if (c.sock >= 0)
		close(c.sock);
	if (c.log >= 0)
		close(c.log);
	return rc;
}

int sp_launch_shares(const struct sp_plan *p, pid_t *pids, struct sp_err *err)
{
	/* Only root can map the file server to the instance's uid. */
	if (p->nshares && (geteuid() != 0 || !p->vmm_uid)) {
		sp_err_set(
			err,
			"share %s: directories are shared only when Spectrum runs as root (spectrumd, or spectrum run as root), which serves them as the instance's own uid",
			p->shares[0].resource);
		return -1;
	}
	for (size_t i = 0; i < p->nshares; i++) {
		if (sp_share_start(p, &p->shares[i], &pids[i], err) < 0) {
			/* Not connected yet, they hold nothing to save. */
			for (size_t j = 0; j < i; j++) {
				kill(pids[j], SIGKILL);
				waitpid(pids[j], NULL, 0);
			}
			return -1;
		}
	}
	return 0;
}
