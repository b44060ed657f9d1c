/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * spectrum-settings [FILE]: the graphical editor of a data file
 * (spectrum-settings(1)).  Without FILE, the daemon's own data file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

#define SS_DEFAULT_FILE "/etc/spectrum/spectrum.json"

static int ss_usage(FILE *f, int rc)
{
	fprintf(f,
		"usage: spectrum-settings [FILE]\n"
		"Edits a Spectrum data file (default %s); see spectrum-settings(1).\n",
		SS_DEFAULT_FILE);
	return rc;
}

/* No window can open: say why in one line, and what to do. */
static int ss_no_display(void)
{
	const char *x = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");

	if ((!x || !*x) && (!w || !*w))
		fprintf(stderr,
			"spectrum-settings: no display: neither WAYLAND_DISPLAY nor DISPLAY is set; "
			"run it in a graphical session, or edit the file and run 'spectrum check FILE'\n");
	else
		fprintf(stderr,
			"spectrum-settings: cannot open the display %s; check that the session is running and that you may use it\n",
			w && *w ? w : x);
	return 1;
}

int main(int argc, char **argv)
{
	const char *file = SS_DEFAULT_FILE;

	if (argc > 2)
		return ss_usage(stderr, 2);
	if (argc == 2) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
			return ss_usage(stdout, 0);
		if (strcmp(argv[1], "--version") == 0) {
			printf("spectrum-settings %s\n", SPECTRUM_VERSION);
			return 0;
		}
		if (argv[1][0] == '-')
			return ss_usage(stderr, 2);
		file = argv[1];
	}
	g_set_prgname("spectrum-settings");
	g_set_application_name("Spectrum settings");
	if (!gtk_init_check())
		return ss_no_display();
	struct ss *s = ss_new(file);
	gtk_window_present(GTK_WINDOW(s->window));
	while (g_list_model_get_n_items(gtk_window_get_toplevels()) > 0)
		g_main_context_iteration(NULL, TRUE);
	return 0;
}
