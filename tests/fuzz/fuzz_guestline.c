/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the control-line parser (sp_gp_line_parse), which
 * reads what a guest, perhaps one that took over its kernel, writes on its
 * control port: whatever the bytes, the event stays within its bounds, and
 * an error or app line the host accepted reads back the same once the
 * guest's writer has made it again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guestproto.h"

/* An application's end: a valid name, a status, and the guest's writer
 * makes the same line again. */
static void check_app(const char *line, const struct sp_gp_event *ev)
{
	char again[SP_GP_APP_NAME_MAX + 16];
	size_t n;

	if (!sp_gp_app_name_valid(ev->app) || ev->status < 0 || ev->status > 255)
		abort();
	n = sp_gp_app_line(again, sizeof(again), ev->app, ev->status);
	if (n < 2 || again[n - 1] != '\n')
		abort();
	again[n - 1] = '\0';
	if (strcmp(again, line) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(const struct sp_gp_event *ev)
{
	char line[SP_GP_LINE_MAX + 2];
	struct sp_gp_event again;
	int stage = sp_gp_stage_find(ev->stage);
	size_t n;

	if (!ev->stage[0] || strlen(ev->stage) > SP_GP_STAGE_NAME_MAX ||
	    strlen(ev->text) > SP_GP_LINE_MAX)
		abort();
	if (ev->status != (stage < 0 ? SP_GP_STAGE_CONFIG : stage))
		abort();
	for (const char *s = ev->text; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			abort();
	if (stage < 0)
		return;
	n = sp_gp_error_line(line, sizeof(line), (enum sp_gp_stage)stage, ev->text);
	if (n < 2 || n > SP_GP_LINE_MAX + 1 || line[n - 1] != '\n')
		abort();
	line[n - 1] = '\0';
	if (sp_gp_line_parse(line, &again) != SP_GP_ERROR || again.status != ev->status ||
	    strcmp(again.stage, ev->stage) != 0 || strcmp(again.text, ev->text) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_gp_event ev;
	char *line;

	/* The readers hand the parser a NUL-terminated line; the harness
	 * lets it be longer than they would, to check the bound. */
	if (size > 4 * SP_GP_LINE_MAX)
		return 0;
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	switch (sp_gp_line_parse(line, &ev)) {
	case SP_GP_EXIT:
		if (ev.status < 0 || ev.status > 255)
			abort();
		break;
	case SP_GP_ERROR:
		check_error(&ev);
		break;
	case SP_GP_APP:
		check_app(line, &ev);
		break;
	case SP_GP_READY:
	case SP_GP_POWEROFF:
	case SP_GP_UNKNOWN:
		break;
	}
	if (ev.kind != SP_GP_UNKNOWN && strlen(line) > SP_GP_LINE_MAX)
		abort();
	free(line);
	return 0;
}
