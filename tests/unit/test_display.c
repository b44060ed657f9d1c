/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where the display relays find the compositor (sp_display_compositor). */
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	TAP_OK(find("/run/user/1000/wayland-1", "wayland-0", "/tmp") == 0 &&
		       strcmp(out, "/run/user/1000/wayland-1") == 0,
	       "SPECTRUM_WAYLAND_DISPLAY, a path, comes first (%s)", out);
	TAP_OK(find("wayland-2", NULL, "/run/user/1000") == 0 &&
		       strcmp(out, "/run/user/1000/wayland-2") == 0,
	       "a name is in XDG_RUNTIME_DIR (%s)", out);
	TAP_OK(find(NULL, "wayland-0", "/run/user/7") == 0 &&
		       strcmp(out, "/run/user/7/wayland-0") == 0,
	       "WAYLAND_DISPLAY when SPECTRUM_WAYLAND_DISPLAY is empty (%s)", out);
	TAP_OK(find(NULL, NULL, "/run/user/7") < 0 && strstr(err.msg, "set SPECTRUM_WAYLAND_DISPLAY"),
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
