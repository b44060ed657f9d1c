/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The display relay: see display.h. */
#include "display.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guestproto.h"
#include "rundir.h"
#include "spawn.h"
#include "splice.h"
#include "uid.h"

/* waypipe's socket and the filter's, in the relay's own /tmp (a tmpfs
 * of its mount namespace). */
#define SP_DISPLAY_SOCK "/tmp/waypipe.sock"
#define SP_DISPLAY_FILTER_SOCK "/tmp/filter.sock"
#define SP_DISPLAY_CONNECT_MS 10000

int sp_display_compositor(char *out, size_t len, struct sp_err *err)
{
	const char *name = getenv("SPECTRUM_WAYLAND_DISPLAY");
	const char *rt = getenv("XDG_RUNTIME_DIR");

	if (!name || !*name)
		name = getenv("WAYLAND_DISPLAY");
	if (!name || !*name) {
		sp_err_set(
			err,
			"no compositor to show the windows on: set SPECTRUM_WAYLAND_DISPLAY to the compositor's socket, like /run/user/1000/wayland-1");
		return -1;
	}
	if (name[0] != '/' && (!rt || rt[0] != '/')) {
		sp_err_set(
			err,
			"SPECTRUM_WAYLAND_DISPLAY=\"%.64s\" is not an absolute path and XDG_RUNTIME_DIR is not set; give the socket's full path",
			name);
		return -1;
	}
	if ((size_t)snprintf(out, len, "%s%s%s", name[0] == '/' ? "" : rt,
			     name[0] == '/' ? "" : "/", name) >= len ||
	    strlen(out) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		sp_err_set(err, "the compositor's socket path %.64s... is too long", name);
		return -1;
	}
	return 0;
}

int sp_display_filter_path(char *out, size_t len, struct sp_err *err)
{
	const char *env = getenv("SPECTRUM_WLFILTER");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (env[0] != '/' || (size_t)snprintf(out, len, "%s", env) >= len ||
		    access(out, X_OK) < 0) {
			sp_err_set(
				err,
				"SPECTRUM_WLFILTER=\"%.64s\" is not the absolute path of an executable spectrum-wlfilter",
				env);
			return -1;
		}
		return 0;
	}
	/* A build directory: spectrum and spectrumd at its top, the filter
	 * in wlfilter/ (meson.build). */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((size_t)snprintf(out, len, "%s/wlfilter/spectrum-wlfilter", dirname(self)) <
			    len &&
		    access(out, X_OK) == 0)
			return 0;
	}
	if ((size_t)snprintf(out, len, "%s", SP_WLFILTER_INSTALLED) < len && access(out, X_OK) == 0)
		return 0;
	sp_err_set(
		err,
		"cannot find spectrum-wlfilter (the display filter) at %s nor in a build directory next to this program: install Spectrum, or set SPECTRUM_WLFILTER to its path",
		SP_WLFILTER_INSTALLED);
	return -1;
}

/* What the relay's child needs, all prepared by the parent. */
struct sp_relay {
	const struct sp_plan *p;
	const char *filter; /* spectrum-wlfilter's path */
	const char *compositor;
	const char *swaysock; /* sway's IPC socket, to label the windows; "" if none */
	int chan;	      /* the relay's end of the socket pair */
	int control;	      /* the filter's end of its control channel (--control-fd) */
	int log;	      /* its stdout and stderr: the log pipe's write end */
	int report;	      /* to the parent: why it failed, or closed at exec */
};

static void __attribute__((noreturn)) sp_relay_fail(const struct sp_relay *r, const char *what)
{
	dprintf(r->report, "%s: %s", what, strerror(errno));
	_exit(127);
}

/*
 * Connects to a socket of the desktop user's (the compositor's, sway's
 * IPC) while still root, but with the file-system ids of the owner of
 * the socket's directory (the user's runtime directory): setfsuid to
 * another uid than 0 also drops the capabilities that bypass file
 * permissions, so the path is followed as that user would follow it, and
 * a symbolic link the user put there cannot reach root's sockets.  The
 * ids are root's again after, for the mounts.
 */
static int sp_relay_connect_as_user(const struct sp_relay *r, const char *path, const char *what)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[sizeof(sa.sun_path)], msg[128];
	struct stat st;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	snprintf(msg, sizeof(msg), "cannot find the directory of %s %s", what, path);
	if (lstat(dirname(dir), &st) < 0)
		sp_relay_fail(r, msg);
	if (st.st_uid == 0) {
		errno = EPERM;
		snprintf(msg, sizeof(msg),
			 "the directory of %s %s is root's; run it as the desktop user", what,
			 path);
		sp_relay_fail(r, msg);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		sp_relay_fail(r, "socket");
	/* root's supplementary groups would count in the user's stead */
	if (setgroups(0, NULL) < 0)
		sp_relay_fail(r, "cannot drop the supplementary groups");
	setfsgid(st.st_gid);
	setfsuid(st.st_uid);
	if ((uid_t)setfsuid(st.st_uid) != st.st_uid)
		sp_relay_fail(r, "cannot take the desktop user's file-system uid");
	snprintf(msg, sizeof(msg), "cannot connect to %s %s", what, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		sp_relay_fail(r, msg);
	setfsuid(0);
	setfsgid(0);
	return fd;
}

/* One message of sway's IPC (i3's): magic, length, type, payload. */
#define SP_SWAY_MAGIC "i3-ipc"
#define SP_SWAY_RUN_COMMAND 0u

static int sp_sway_send(int fd, const char *cmd)
{
	char head[14];
	uint32_t len = (uint32_t)strlen(cmd), type = SP_SWAY_RUN_COMMAND;

	memcpy(head, SP_SWAY_MAGIC, 6);
	memcpy(head + 6, &len, 4);
	memcpy(head + 10, &type, 4);
	return write(fd, head, sizeof(head)) == (ssize_t)sizeof(head) &&
			       write(fd, cmd, len) == (ssize_t)len ?
		       0 :
		       -1;
}

/* The reply's payload, at most len - 1 bytes of it; -1 on none. */
static int sp_sway_reply(int fd, char *buf, size_t len)
{
	char head[14];
	uint32_t n;
	size_t got = 0;

	while (got < sizeof(head)) {
		ssize_t r = read(fd, head + got, sizeof(head) - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	memcpy(&n, head + 6, 4);
	if (memcmp(head, SP_SWAY_MAGIC, 6) != 0 || n >= len)
		return -1;
	for (got = 0; got < n;) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	buf[n] = '\0';
	return 0;
}

/*
 * The label: tells sway (SPECTRUM_SWAYSOCK) to draw the instance's name
 * on its colour in the title bar of every window of this process (and
 * to give none of them the focus when it maps), the
 * compositor's peer (SO_PEERCRED), before the guest exists.  Nothing the
 * guest sends can change it: the rule is keyed on the pid, not on a
 * title or an app_id, and sway escapes the client's own title.  The
 * instance's name is [a-z0-9-] and the colour #rrggbb (the data file's
 * rules), so neither can break out of the markup or the command.
 */
static void sp_relay_label(const struct sp_relay *r)
{
	const struct sp_plan *p = r->p;
	char cmd[512], reply[1024];
	struct timeval tv = {.tv_sec = 5};
	int fd;

	if (!r->swaysock[0])
		return;
	fd = sp_relay_connect_as_user(r, r->swaysock, "sway's IPC socket");
	/* And its new windows take no focus from the user's (no_focus). */
	snprintf(
		cmd, sizeof(cmd),
		"for_window [pid=%d] title_format \"<span background='%s' foreground='#ffffff'> %s </span> %%title\"; no_focus [pid=%d]",
		(int)getpid(), p->display.color, p->instance, (int)getpid());
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sp_sway_send(fd, cmd) < 0 || sp_sway_reply(fd, reply, sizeof(reply)) < 0 ||
	    !strstr(reply, "\"success\": true") || strstr(reply, "\"success\": false")) {
		errno = EPROTO;
		sp_relay_fail(r, "sway refused the label's rule");
	}
	close(fd);
}

/*
 * The sandbox, entered as root: no network (an empty network namespace),
 * a /tmp of its own (a private mount namespace: nothing propagates back
 * to the host), bounded processes and no core files; then the relay uid
 * and gid with no supplementary groups and no way back, no new privileges
 * by exec, and not dumpable (no ptrace, no /proc/PID/mem of the splicer).
 */
static void sp_relay_sandbox(const struct sp_relay *r)
{
	uid_t id = (uid_t)r->p->display.relay_uid;
	struct rlimit nproc = {SP_DISPLAY_NPROC, SP_DISPLAY_NPROC}, core = {0, 0};
	char opts[64];

	if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0)
		sp_relay_fail(r, "cannot make the relay's namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		sp_relay_fail(r, "cannot make its mounts private");
	snprintf(opts, sizeof(opts), "mode=0700,uid=%u,gid=%u,size=1m", (unsigned)id, (unsigned)id);
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		sp_relay_fail(r, "cannot mount the relay's /tmp");
	if (setrlimit(RLIMIT_NPROC, &nproc) < 0 || setrlimit(RLIMIT_CORE, &core) < 0)
		sp_relay_fail(r, "cannot bound the relay's resources");
	if (setgroups(0, NULL) < 0 || setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0)
		sp_relay_fail(r, "cannot take the relay's uid");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		sp_relay_fail(r, "cannot restrict the relay");
}

/*
 * The splicer, a child of waypipe's process (same uid and sandbox):
 * connects to waypipe's socket once it is there and copies between it
 * and the channel until either ends.  It dies with waypipe.
 */
static void __attribute__((noreturn)) sp_relay_splicer(const struct sp_relay *r, pid_t waypipe)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long deadline = sp_now_ms() + SP_DISPLAY_CONNECT_MS;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != waypipe || fd < 0)
		_exit(1);
	prctl(PR_SET_NAME, "spectrum-relay", 0, 0, 0);
	strcpy(sa.sun_path, SP_DISPLAY_SOCK);
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (sp_now_ms() > deadline) {
			dprintf(2, "spectrum: the display relay found no waypipe socket\n");
			_exit(1);
		}
		usleep(20000);
	}
	_exit(sp_splice(r->chan, fd) < 0);
}

/*
 * waypipe's process, a child of the filter's (same uid and sandbox): it
 * dies with the filter; once the filter is ready (it closes `ready`), it
 * forks the splicer and becomes `waypipe client` on `fd`, its connection
 * to the filter's socket (WAYLAND_SOCKET).  The filter serves exactly
 * this one connection: when waypipe ends, or this process before it
 * became waypipe, so does the filter, and with it the relay.  Errors go
 * to the display log.
 */
static void __attribute__((noreturn))
sp_relay_waypipe(const struct sp_relay *r, pid_t filter, int ready, int fd)
{
	char compress[32], *argv[] = {SP_DISPLAY_WAYPIPE, "--oneshot",	   "--no-gpu", compress,
				      "--socket",	  SP_DISPLAY_SOCK, "client",   NULL};
	char *envp[] = {"PATH=" SP_SPAWN_PATH, "WAYLAND_SOCKET=3", NULL};
	char c;
	pid_t self = getpid(), child;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != filter)
		_exit(1);
	for (;;) { /* "ready" is the end of the pipe; a byte is not */
		ssize_t n = read(ready, &c, 1);

		if (n == 0)
			break;
		if (n > 0 || errno != EINTR)
			_exit(1);
	}
	close(ready);
	child = fork();
	if (child < 0)
		_exit(1);
	if (child == 0) {
		close(fd);
		sp_relay_splicer(r, self);
	}
	close(r->chan);
	/* The guest's end uses the same (its configuration's display line). */
	snprintf(compress, sizeof(compress), "--compress=%s",
		 sp_wl_compress_name(r->p->display.compress));
	/* (made close-on-exec: at 3 already, only that flag goes) */
	if (fd == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(fd, 3) < 0)
		_exit(1);
	sp_cloexec_from(4);
	execvpe(argv[0], argv, envp);
	dprintf(2, "spectrum: cannot run waypipe (Debian package waypipe): %s\n", strerror(errno));
	_exit(127);
}

/*
 * The filter's listening socket, in the relay's /tmp (after the sandbox:
 * the relay uid's, in its own mode 0700 tmpfs), and in *conn waypipe's
 * connection to it, made now (it waits in the backlog for the filter's
 * accept) so that waypipe's process is never without it: if that process
 * dies at any step, the filter's one guest connection ends.
 */
static int sp_relay_filter_socket(const struct sp_relay *r, int *conn)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, SP_DISPLAY_FILTER_SOCK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		sp_relay_fail(r, "cannot make the filter's socket");
	*conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*conn < 0 || connect(*conn, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		sp_relay_fail(r, "cannot connect to the filter's socket");
	return fd;
}

/*
 * Closes every descriptor above 2 but a, b and c (all above 2, distinct).
 * The relay is a fork of the caller (spectrumd: its listening socket, its
 * lock, other instances' control ports) and its splicer never execs, so
 * nothing of the caller's may stay open in a process of the relay uid.
 */
static void sp_relay_close_others(int a, int b, int c)
{
	int keep[3] = {a, b, c}, from = 3;

	for (int i = 0; i < 3; i++) /* sorted: three elements */
		for (int j = i + 1; j < 3; j++)
			if (keep[j] < keep[i]) {
				int t = keep[i];
				keep[i] = keep[j];
				keep[j] = t;
			}
	for (int i = 0; i < 3; i++) {
		if (keep[i] > from)
			close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
		from = keep[i] + 1;
	}
	close_range((unsigned)from, ~0U, 0);
}

/* Places fd at `to` (open across exec), whatever numbers both have. */
static void sp_relay_place(const struct sp_relay *r, int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		/* first all above the targets, so that no dup2 hits another */
		fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 16);
		if (fds[i] < 0)
			sp_relay_fail(r, "cannot place the filter's descriptors");
	}
	for (int i = 0; i < n; i++)
		if (dup2(fds[i], 3 + i) < 0)
			sp_relay_fail(r, "cannot place the filter's descriptors");
	sp_cloexec_from(3 + n);
}

static void __attribute__((noreturn)) sp_relay_run(const struct sp_relay *r)
{
	const struct sp_plan *p = r->p;
	char *argv[20];
	char *envp[] = {"PATH=" SP_SPAWN_PATH, NULL};
	int null = open("/dev/null", O_RDWR | O_CLOEXEC), cfd, lfd, wfd, xfd, ready[2], fds[4],
	    a = 0;
	sigset_t none;
	pid_t self = getpid(), child;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	if (null < 0 || dup2(null, 0) < 0 || dup2(r->log, 1) < 0 || dup2(r->log, 2) < 0)
		sp_relay_fail(r, "cannot set up the relay's descriptors");
	sp_relay_close_others(r->chan, r->report, r->control);
	/* The filter is opened before the sandbox hides /tmp behind the
	 * relay's own (a build directory may be under /tmp), and kept above
	 * the numbers sp_relay_place gives the filter's descriptors. */
	int ofd = open(r->filter, O_PATH | O_CLOEXEC);
	xfd = ofd < 0 ? -1 : fcntl(ofd, F_DUPFD_CLOEXEC, 64);
	if (xfd < 0)
		sp_relay_fail(r, "cannot open spectrum-wlfilter");
	close(ofd);
	cfd = sp_relay_connect_as_user(r, r->compositor, "the compositor");
	sp_relay_label(r);
	sp_relay_sandbox(r);
	lfd = sp_relay_filter_socket(r, &wfd);
	if (pipe2(ready, O_CLOEXEC) < 0)
		sp_relay_fail(r, "pipe");
	child = fork();
	if (child < 0)
		sp_relay_fail(r, "fork");
	if (child == 0) {
		/* The report closes at the filter's exec: waypipe holds none. */
		close(r->report);
		close(cfd);
		close(lfd);
		close(ready[1]);
		close(r->control);
		sp_relay_waypipe(r, self, ready[0], wfd);
	}
	close(r->chan);
	close(ready[0]);
	close(wfd);
	/*
	 * This process connected to the compositor, so the filter, which it
	 * becomes, is the compositor's peer (SO_PEERCRED) and the pid the
	 * label rule names.  It takes that connection as --compositor-fd
	 * (the relay uid cannot open the user's socket itself) and serves
	 * the one guest connection waypipe makes to its socket.
	 */
	fds[0] = cfd;
	fds[1] = lfd;
	fds[2] = ready[1];
	fds[3] = r->control;
	sp_relay_place(r, fds, 4);
	argv[a++] = (char *)r->filter;
	argv[a++] = "--instance";
	argv[a++] = (char *)p->instance;
	argv[a++] = "--compositor-fd";
	argv[a++] = "3";
	argv[a++] = "--listen-fd";
	argv[a++] = "4";
	argv[a++] = "--ready-fd";
	argv[a++] = "5";
	argv[a++] = "--log-fd";
	argv[a++] = "2";
	argv[a++] = "--clipboard";
	argv[a++] = (char *)sp_clipboard_name(p->display.clipboard);
	argv[a++] = "--control-fd";
	argv[a++] = "6";
	argv[a++] = "--color";
	argv[a++] = (char *)p->display.color;
	if (p->display.fullscreen)
		argv[a++] = "--allow-fullscreen";
	argv[a] = NULL;
	fexecve(xfd, argv, envp);
	sp_relay_fail(r, "cannot run spectrum-wlfilter");
}

/*
 * The relay's log, root's file in root's run directory (rundir.h), begun
 * anew at each start so that it never grows across runs; its first line
 * says which transport carries the stream.  vsock needs /dev/vhost-vsock
 * on the host and a waypipe that speaks it (Debian 12's 0.8.4 does not),
 * so virtio-serial is the transport today wherever the host stands.
 *
 * The relay itself gets only the write end of a pipe (returned; the read
 * end in *rd): what the guest makes waypipe or the filter print could
 * otherwise fill /run, host memory.  The instance's logger drains the
 * pipe into the file under SP_LOG_DISPLAY_MAX (launch.c, logger.h); the
 * file's descriptor is closed here and never reaches the relay's uid.
 * (RLIMIT_FSIZE on the relay would cap waypipe's shared-memory files too.)
 */
static int sp_display_log(const struct sp_plan *p, int *rd, struct sp_err *err)
{
	int dirfd = sp_rundir_open(p, err), fd, pfd[2];

	if (dirfd < 0)
		return -1;
	fd = sp_rundir_open_log(dirfd, strrchr(p->display.log, '/') + 1, err);
	close(dirfd);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, 0) == 0)
		dprintf(fd,
			"spectrum: display of %s: virtio-serial port %s, waypipe --compress=%s%s\n",
			p->instance, SP_GP_DISPLAY_PORT, sp_wl_compress_name(p->display.compress),
			access("/dev/vhost-vsock", F_OK) == 0 ?
				" (this host has /dev/vhost-vsock: vsock is the future transport)" :
				"");
	close(fd);
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		sp_err_set(err, "pipe: %s", strerror(errno));
		return -1;
	}
	*rd = pfd[0];
	return pfd[1];
}

/* Reads the child's report until it closes at exec; anything is why it
 * failed. */
static int sp_display_report(const struct sp_plan *p, int fd, struct sp_err *err)
{
	char buf[400];
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (!len)
		return 0;
	buf[len] = '\0';
	sp_err_set(err, "instance %s: display relay: %s", p->instance, buf);
	return -1;
}

int sp_display_start(const struct sp_plan *p, pid_t *pid, int *guest_fd, int *control_fd,
		     int *log_fd, struct sp_err *err)
{
	char compositor[108], filter[PATH_MAX];
	const char *sway = getenv("SPECTRUM_SWAYSOCK");
	struct sp_relay r = {.p = p,
			     .filter = filter,
			     .compositor = compositor,
			     .swaysock = sway ? sway : "",
			     .chan = -1,
			     .log = -1};
	int pair[2] = {-1, -1}, report[2] = {-1, -1}, ctl[2] = {-1, -1}, log_rd = -1, rc = -1;

	*pid = -1;
	*guest_fd = -1;
	*control_fd = -1;
	*log_fd = -1;
	if (sp_display_compositor(compositor, sizeof(compositor), err) < 0 ||
	    sp_display_filter_path(filter, sizeof(filter), err) < 0)
		return -1;
	if (r.swaysock[0] && (r.swaysock[0] != '/' || strlen(r.swaysock) >= sizeof(compositor))) {
		sp_err_set(
			err,
			"SPECTRUM_SWAYSOCK=\"%.64s\" is not an absolute socket path; give sway's IPC socket ($SWAYSOCK of the session)",
			r.swaysock);
		return -1;
	}
	if (geteuid() != 0) {
		sp_err_set(
			err,
			"instance %s has a display, which runs its relay in a sandbox only root can make: run it under spectrumd or as root",
			p->instance);
		return -1;
	}
	/* The relay parses what the guest sends: never as root. */
	if (!p->display.relay_uid) {
		sp_err_set(
			err,
			"instance %s has a display, whose relay runs as a uid of its own: set SPECTRUM_VMM_UID_BASE to a uid, not 0",
			p->instance);
		return -1;
	}
	if ((r.log = sp_display_log(p, &log_rd, err)) < 0)
		return -1;
	/* The filter's control channel (wlfilter/control.h): made here, by
	 * root, so that no path leads to it; the caller keeps ctl[0]. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0 ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
	    pipe2(report, O_CLOEXEC) < 0) {
		sp_err_set(err, "socketpair: %s", strerror(errno));
		goto out;
	}
	r.chan = pair[1];
	r.control = ctl[1];
	r.report = report[1];
	/* Not lib/spawn.c's fork: the relay is three processes of one
	 * sandbox (the filter, waypipe and its splicer), made after root's
	 * steps. */
	*pid = fork();
	if (*pid == 0)
		sp_relay_run(&r);
	close(report[1]);
	report[1] = -1;
	if (*pid < 0) {
		sp_err_set(err, "fork: %s", strerror(errno));
		goto out;
	}
	if (sp_display_report(p, report[0], err) < 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
		*pid = -1;
		goto out;
	}
	*guest_fd = pair[0];
	pair[0] = -1;
	*control_fd = ctl[0];
	ctl[0] = -1;
	*log_fd = log_rd;
	log_rd = -1;
	rc = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (ctl[i] >= 0)
			close(ctl[i]);
		if (pair[i] >= 0)
			close(pair[i]);
		if (report[i] >= 0)
			close(report[i]);
	}
	close(r.log);
	if (log_rd >= 0)
		close(log_rd);
	return rc;
}

void sp_display_stop(const struct sp_plan *p, pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	/* Its splicer (and anything a taken-over waypipe forked). */
	sp_uid_kill_all(p->display.relay_uid);
	/* Root's file in root's run directory (rundir.h). */
	unlink(p->display.pid_file);
}
