/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest's side of an instance's display ("display wayland" in the
 * guest configuration): what a Wayland client needs (/dev/shm, /dev/pts,
 * XDG_RUNTIME_DIR), a relay of our own between a UNIX socket and the port
 * SP_GP_DISPLAY_PORT, and the first command wrapped in `waypipe server`,
 * which connects to that socket and gives the command WAYLAND_DISPLAY.
 *
 * The relay ends when either side closes, so that the machine can power
 * off: a port reads end-of-file (and polls POLLHUP) while the host's end
 * is not connected, so it first waits for the host to be there, and
 * afterwards takes an end-of-file as the host's end.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "init.h"
#include "splice.h"

#define PORTS_DIR "/sys/class/virtio-ports"

/* Opens the port named `name`, or returns -1 if it is not there (yet). */
static int open_port(const char *name)
{
	DIR *d = opendir(PORTS_DIR);
	struct dirent *e;
	int fd = -1;

	if (!d)
		return -1;
	while (fd < 0 && (e = readdir(d))) {
		char path[300], got[64], dev[300];
		size_t len;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PORTS_DIR "/%s/name", e->d_name);
		if (gi_read_file(path, got, sizeof(got), &len) < 0)
			continue;
		while (len > 0 && got[len - 1] == '\n')
			got[--len] = '\0';
		if (strcmp(got, name) != 0)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", e->d_name);
		fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	}
	closedir(d);
	return fd;
}

static void mount_dir(const char *path, const char *type, unsigned long flags, const char *opts)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		gi_fail(SP_GP_STAGE_MOUNT, "mkdir %s: %s", path, strerror(errno));
	if (mount(type, path, type, flags, opts) < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "mounting %s on %s: %s", type, path, strerror(errno));
}

/* Shared memory for wl_shm buffers; terminals for foot and its kind. */
static void display_mounts(void)
{
	mount_dir("/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_dir("/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
	if (mkdir("/run/user", 0755) < 0 && errno != EEXIST)
		gi_fail(SP_GP_STAGE_MOUNT, "mkdir /run/user: %s", strerror(errno));
	if (mkdir(GI_DISPLAY_RUNTIME, 0700) < 0 && errno != EEXIST)
		gi_fail(SP_GP_STAGE_MOUNT, "mkdir " GI_DISPLAY_RUNTIME ": %s", strerror(errno));
}

static int display_listen(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = GI_DISPLAY_SOCKET};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 1) < 0)
		gi_fail(SP_GP_STAGE_EXEC, "display socket " GI_DISPLAY_SOCKET ": %s",
			strerror(errno));
	return fd;
}

/* While the host's end is away the port polls POLLHUP at once. */
static bool wait_host(int port)
{
	int64_t deadline = gi_now_ms() + GI_CONNECT_WAIT_MS;

	for (;;) {
		struct pollfd p = {.fd = port, .events = POLLOUT};
		if (poll(&p, 1, 0) >= 0 && !(p.revents & POLLHUP))
			return true;
		if (gi_now_ms() >= deadline)
			return false;
		gi_sleep_ms(GI_POLL_MS);
	}
}

/* The relay process: one connection (waypipe server's), spliced to the
 * port; it ends with either. */
static void __attribute__((noreturn)) relay(int lfd, int port)
{
	sigset_t none;
	int conn;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	prctl(PR_SET_NAME, "spectrum-wlrelay", 0, 0, 0);
	do
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	close(lfd);
	if (conn < 0)
		_exit(1);
	if (!wait_host(port)) {
		gi_note(SP_GP_STAGE_EXEC, "the host's display end never connected");
		_exit(1);
	}
	_exit(sp_splice(conn, port) < 0);
}

/* argv of the first command under `waypipe server`, with the compression
 * the host's end uses. */
static void wrap(struct gi_cmd *cmd, const char *compress)
{
	static char opt[32];
	char *pre[] = {GI_WAYPIPE, "--oneshot",	      "--no-gpu", opt,
		       "--socket", GI_DISPLAY_SOCKET, "server",	  "--"};
	size_t npre = sizeof(pre) / sizeof(pre[0]);
	char **argv = calloc(npre + cmd->argc + 1, sizeof(*argv));

	if (!argv)
		gi_fail(SP_GP_STAGE_EXEC, "%s", strerror(ENOMEM));
	snprintf(opt, sizeof(opt), "--compress=%s", compress);
	memcpy(argv, pre, sizeof(pre));
	memcpy(argv + npre, cmd->argv, (cmd->argc + 1) * sizeof(*argv));
	cmd->argv = argv;
	cmd->argc += npre;
}

/* The environment plus XDG_RUNTIME_DIR, unless the configuration set it. */
static void runtime_env(struct gi_config *cfg)
{
	char **env;

	for (size_t i = 0; i < cfg->nenv; i++)
		if (strncmp(cfg->env[i], "XDG_RUNTIME_DIR=", 16) == 0)
			return;
	env = calloc(cfg->nenv + 2, sizeof(*env));
	if (!env)
		gi_fail(SP_GP_STAGE_EXEC, "%s", strerror(ENOMEM));
	memcpy(env, cfg->env, cfg->nenv * sizeof(*env));
	env[cfg->nenv++] = "XDG_RUNTIME_DIR=" GI_DISPLAY_RUNTIME;
	env[cfg->nenv] = NULL;
	cfg->env = env;
}

void gi_display_setup(struct gi_config *cfg)
{
	int64_t deadline = gi_now_ms() + GI_CONTROL_WAIT_MS;
	int port, lfd;
	pid_t pid;

	if (!cfg->display || cfg->ncmds == 0)
		return;
	if (access(GI_WAYPIPE, X_OK) < 0)
		gi_fail(SP_GP_STAGE_EXEC,
			"the instance has a display but its image has no " GI_WAYPIPE
			" (add the Debian package waypipe)");
	display_mounts();
	while ((port = open_port(SP_GP_DISPLAY_PORT)) < 0) {
		if (gi_now_ms() >= deadline)
			gi_fail(SP_GP_STAGE_EXEC, "no port named " SP_GP_DISPLAY_PORT " after %d s",
				GI_CONTROL_WAIT_MS / 1000);
		gi_sleep_ms(GI_POLL_MS);
	}
	lfd = display_listen();
	pid = fork();
	if (pid < 0)
		gi_fail(SP_GP_STAGE_EXEC, "fork: %s", strerror(errno));
	if (pid == 0)
		relay(lfd, port);
	close(lfd);
	close(port);
	runtime_env(cfg);
	wrap(&cfg->cmds[0], cfg->display_compress);
}
