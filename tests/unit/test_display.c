/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the display relays find the compositor (sp_display_compositor)
 * and the filter (sp_display_filter_path). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display.h"
#include "tap.h"

static char out[108];
static struct sp_err err;

static int find(const char *spectrum, const char *wayland, const char *runtime)
{
	setenv("SPECTRUM_WAYLAND_DISPLAY", spectrum ? spectrum : "", 1);
	if (wayland)
		setenv("WAYLAND_DISPLAY", wayland, 1);
	else
		unsetenv("WAYLAND_DISPLAY");
	if (runtime)
		setenv("XDG_RUNTIME_DIR", runtime, 1);
	else
		unsetenv("XDG_RUNTIME_DIR");
	memset(&err, 0, sizeof(err));
	out[0] = '\0';
	return sp_display_compositor(out, sizeof(out), &err);
}

static char path[PATH_MAX];

static int filter(const char *env)
{
	if (env)
		setenv("SPECTRUM_WLFILTER", env, 1);
	else
		unsetenv("SPECTRUM_WLFILTER");
	memset(&err, 0, sizeof(err));
	path[0] = '\0';
	return sp_display_filter_path(path, sizeof(path), &err);
}

static void test_filter_path(void)
{
	TAP_OK(filter("/bin/sh") == 0 && strcmp(path, "/bin/sh") == 0,
	       "SPECTRUM_WLFILTER, an executable's path, is the filter (%s)", path);
	TAP_OK(filter("spectrum-wlfilter") < 0 && strstr(err.msg, "SPECTRUM_WLFILTER") &&
		       strstr(err.msg, "absolute path"),
	       "a relative SPECTRUM_WLFILTER: refused (%s)", err.msg);
	TAP_OK(filter("/nonexistent/spectrum-wlfilter") < 0,
	       "a SPECTRUM_WLFILTER that is not there: refused (%s)", err.msg);
	/* The unit test is in tests/ of the build directory, with no
	 * wlfilter/ beside it: the installed filter, if there is one. */
	if (access(SP_WLFILTER_INSTALLED, X_OK) == 0)
		TAP_OK(filter(NULL) == 0 && strcmp(path, SP_WLFILTER_INSTALLED) == 0,
		       "unset: the installed filter (%s)", path);
	else
		TAP_OK(filter(NULL) < 0 && strstr(err.msg, "set SPECTRUM_WLFILTER"),
		       "unset, none installed: refused with the fix (%s)", err.msg);
}

int main(void)
{
	test_filter_path();
	TAP_OK(find("/run/user/1000/wayland-1", "wayland-0", "/tmp") == 0 &&
		       strcmp(out, "/run/user/1000/wayland-1") == 0,
	       "SPECTRUM_WAYLAND_DISPLAY, a path, comes first (%s)", out);
	TAP_OK(find("wayland-2", NULL, "/run/user/1000") == 0 &&
		       strcmp(out, "/run/user/1000/wayland-2") == 0,
	       "a name is in XDG_RUNTIME_DIR (%s)", out);
	TAP_OK(find(NULL, "wayland-0", "/run/user/7") == 0 &&
		       strcmp(out, "/run/user/7/wayland-0") == 0,
	       "WAYLAND_DISPLAY when SPECTRUM_WAYLAND_DISPLAY is empty (%s)", out);
	TAP_OK(find(NULL, NULL, "/run/user/7") < 0 &&
		       strstr(err.msg, "set SPECTRUM_WAYLAND_DISPLAY"),
	       "neither: refused with the fix (%s)", err.msg);
	TAP_OK(find("wayland-1", NULL, NULL) < 0 && strstr(err.msg, "not an absolute path"),
	       "a name without XDG_RUNTIME_DIR: refused (%s)", err.msg);
	TAP_OK(find("wayland-1", NULL, "run/user/7") < 0,
	       "a relative XDG_RUNTIME_DIR is no better");
	char longname[200];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	TAP_OK(find(longname, NULL, NULL) < 0 && strstr(err.msg, "too long"),
	       "a path longer than a socket address: refused (%s)", err.msg);
	return tap_done();
}
