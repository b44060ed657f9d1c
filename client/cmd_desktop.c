/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum desktop [--print-config]: starts the host desktop, Debian's
 * sway 1.7, with a configuration that includes the user's own sway
 * configuration (the first sway would read itself, if any) and then
 * Spectrum's fragment (examples/sway/spectrum.conf, installed under
 * datadir/spectrum/sway/): the title bars with markup that the display
 * relays' label rules draw into.  The fragment comes last so that a
 * user's `default_border none` cannot hide the labels.
 *
 * The configuration is written to $XDG_RUNTIME_DIR/spectrum-sway.conf
 * (the user's own directory, mode 0600), then sway is executed with it,
 * with SWAYSOCK fixed at $XDG_RUNTIME_DIR/sway-ipc.sock unless set, so
 * that spectrumd can be told one path (SPECTRUM_SWAYSOCK) for good.
 * --print-config prints the configuration instead and starts nothing.
 * It runs as the desktop user: nothing here is privileged.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

#define SP_DESKTOP_CONF "spectrum-sway.conf"

/*
 * sway expands an include's path as a shell word (wordexp): only paths
 * of these characters go into the configuration unquoted and unchanged.
 */
static bool sp_desktop_plain_path(const char *p)
{
	return p[0] == '/' && strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"0123456789/._+-@,:=") == strlen(p);
}

/* "A/B" in out if it is a readable file; false otherwise. */
static bool sp_desktop_file(char *out, size_t len, const char *a, const char *b)
{
	if (!a || a[0] != '/' || (size_t)snprintf(out, len, "%s/%s", a, b) >= len)
		return false;
	return access(out, R_OK) == 0;
}

/*
 * The user's sway configuration, in sway 1.7's order (without i3's
 * files): ~/.sway/config, $XDG_CONFIG_HOME/sway/config (default
 * ~/.config), /etc/sway/config.  Empty if there is none.
 */
static void sp_desktop_user_config(char *out, size_t len)
{
	const char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char conf[PATH_MAX];

	if (sp_desktop_file(out, len, home, ".sway/config"))
		return;
	if (xdg && xdg[0] == '/') {
		if (sp_desktop_file(out, len, xdg, "sway/config"))
			return;
	} else if (home && snprintf(conf, sizeof(conf), "%s/.config", home) < (int)sizeof(conf) &&
		   sp_desktop_file(out, len, conf, "sway/config")) {
		return;
	}
	if (sp_desktop_file(out, len, "/etc", "sway/config"))
		return;
	out[0] = '\0';
}

/*
 * Spectrum's fragment: SPECTRUM_SWAY_FRAGMENT, else spectrum-sway.conf
 * next to this program (a build directory: meson.build copies it there),
 * else the installed one.
 */
static int sp_desktop_fragment(char *out, size_t len)
{
	const char *env = getenv("SPECTRUM_SWAY_FRAGMENT");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (env[0] != '/' || (size_t)snprintf(out, len, "%s", env) >= len ||
		    access(out, R_OK) < 0) {
			sp_warnx(
				"SPECTRUM_SWAY_FRAGMENT=\"%.64s\" is not the absolute path of a readable file; give Spectrum's sway fragment (examples/sway/spectrum.conf)",
				env);
			return -1;
		}
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (sp_desktop_file(out, len, self, SP_DESKTOP_CONF))
				return 0;
		}
	}
	if ((size_t)snprintf(out, len, "%s", SP_SWAY_FRAGMENT_INSTALLED) < len &&
	    access(out, R_OK) == 0)
		return 0;
	sp_warnx(
		"cannot find Spectrum's sway fragment at %s nor next to this program: install Spectrum, or set SPECTRUM_SWAY_FRAGMENT to examples/sway/spectrum.conf",
		SP_SWAY_FRAGMENT_INSTALLED);
	return -1;
}

/* The configuration's text, in buf; -1 (said why) if a path cannot be used. */
static int sp_desktop_config(char *buf, size_t len)
{
	char user[PATH_MAX], frag[PATH_MAX];
	int o;

	if (sp_desktop_fragment(frag, sizeof(frag)) < 0)
		return -1;
	sp_desktop_user_config(user, sizeof(user));
	for (const char *p = user; p; p = p == user ? frag : NULL)
		if (p[0] && !sp_desktop_plain_path(p)) {
			sp_warnx(
				"%s: sway would expand this path as a shell word; move it to a path of letters, digits and /._+-@,:=",
				p);
			return -1;
		}
	o = snprintf(buf, len,
		     "# Written by spectrum desktop: the user's sway configuration, then\n"
		     "# Spectrum's fragment (title bars for the instances' labels).\n"
		     "%s%s%s"
		     "include %s\n",
		     user[0] ? "include " : "# (no sway configuration of the user's)", user, "\n",
		     frag);
	if (o < 0 || (size_t)o >= len) {
		sp_warnx("the sway configuration is too long");
		return -1;
	}
	return 0;
}

/* Writes the configuration to DIR/spectrum-sway.conf, whole or not at all. */
static int sp_desktop_write(const char *dir, const char *text, char *path, size_t len)
{
	char tmp[PATH_MAX];
	size_t n = strlen(text);
	int fd;

	if ((size_t)snprintf(path, len, "%s/%s", dir, SP_DESKTOP_CONF) >= len ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.%ld", path, (long)getpid()) >= sizeof(tmp)) {
		sp_warnx("XDG_RUNTIME_DIR is too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) < 0 || rename(tmp, path) < 0) {
		sp_warnx("cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	return 0;
}

int sp_cmd_desktop(int argc, char **argv)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char text[2 * PATH_MAX + 256], path[PATH_MAX], sock[PATH_MAX];
	bool print = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--print-config") == 0)
			print = true;
		else
			return sp_usage_error("desktop", "unknown argument '%s'", argv[i]);
	}
	if (sp_desktop_config(text, sizeof(text)) < 0)
		return SP_EXIT_SYSTEM;
	if (print) {
		fputs(text, stdout);
		return fflush(stdout) == 0 ? SP_EXIT_OK : SP_EXIT_SYSTEM;
	}
	if (geteuid() == 0) {
		sp_warnx(
			"spectrum desktop starts sway, which does not run as root: run it as the desktop user (spectrumd alone runs as root)");
		return SP_EXIT_USAGE;
	}
	if (!rt || rt[0] != '/') {
		sp_warnx(
			"XDG_RUNTIME_DIR is not set: log in through a session manager (systemd-logind) that makes /run/user/UID, or set it to a directory of yours with mode 0700");
		return SP_EXIT_SYSTEM;
	}
	if (sp_desktop_write(rt, text, path, sizeof(path)) < 0)
		return SP_EXIT_SYSTEM;
	if (!getenv("SWAYSOCK") &&
	    (size_t)snprintf(sock, sizeof(sock), "%s/sway-ipc.sock", rt) < sizeof(sock))
		setenv("SWAYSOCK", sock, 1);
	fprintf(stderr, "spectrum: starting sway with %s (SWAYSOCK=%s)\n", path,
		getenv("SWAYSOCK") ? getenv("SWAYSOCK") : "");
	execlp("sway", "sway", "-c", path, (char *)NULL);
	sp_warnx("cannot run sway (Debian package sway): %s", strerror(errno));
	return SP_EXIT_SYSTEM;
}
