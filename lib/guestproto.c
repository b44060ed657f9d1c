/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest protocol's stage table and control lines, compiled into both
 * libspectrum and spectrum-init (libc only: see guestproto.h).
 */
#include "guestproto.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
	enum sp_gp_stage stage;
	const char *name;
} sp_gp_stages[] = {
	{SP_GP_STAGE_NET, "net"},	  {SP_GP_STAGE_CONFIG, "config"},
	{SP_GP_STAGE_MODULES, "modules"}, {SP_GP_STAGE_ROOT, "root"},
	{SP_GP_STAGE_MOUNT, "mount"},	  {SP_GP_STAGE_CONTROL, "control"},
	{SP_GP_STAGE_EXEC, "exec"},
};

#define SP_GP_NSTAGES (sizeof(sp_gp_stages) / sizeof(sp_gp_stages[0]))

const char *sp_gp_stage_name(enum sp_gp_stage stage)
{
	for (size_t i = 0; i < SP_GP_NSTAGES; i++)
		if (sp_gp_stages[i].stage == stage)
			return sp_gp_stages[i].name;
	return "unknown";
}

int sp_gp_stage_find(const char *name)
{
	for (size_t i = 0; i < SP_GP_NSTAGES; i++)
		if (strcmp(sp_gp_stages[i].name, name) == 0)
			return (int)sp_gp_stages[i].stage;
	return -1;
}

/* "WORD ARG": true with *arg after the one space. */
static bool sp_gp_word(const char *line, const char *word, const char **arg)
{
	size_t n = strlen(word);

	if (strncmp(line, word, n) != 0 || line[n] != ' ')
		return false;
	*arg = line + n + 1;
	return true;
}

/* 0 to 255 in decimal, nothing else: no sign, space or leading zero. */
static bool sp_gp_status(const char *s, int *out)
{
	int v = 0;
	size_t i = 0;

	if (s[0] == '0')
		return s[1] == '\0' ? (*out = 0, true) : false;
	for (; s[i] >= '0' && s[i] <= '9' && i < 3; i++)
		v = v * 10 + (s[i] - '0');
	if (i == 0 || s[i] != '\0' || v > 255)
		return false;
	*out = v;
	return true;
}

/* "STAGE[ TEXT]": the name is checked, the text copied as printable ASCII. */
static bool sp_gp_error(const char *arg, struct sp_gp_event *ev)
{
	size_t n = strspn(arg, "abcdefghijklmnopqrstuvwxyz");
	const char *text = arg + n;
	size_t i = 0;
	int stage;

	if (n == 0 || n > SP_GP_STAGE_NAME_MAX || (*text != '\0' && *text != ' '))
		return false;
	memcpy(ev->stage, arg, n);
	ev->stage[n] = '\0';
	stage = sp_gp_stage_find(ev->stage);
	ev->status = stage < 0 ? SP_GP_STAGE_CONFIG : stage;
	if (*text == ' ')
		text++;
	/* The line is at most SP_GP_LINE_MAX bytes, so the text fits. */
	for (; text[i] && i < SP_GP_LINE_MAX; i++) {
		unsigned char c = (unsigned char)text[i];
		ev->text[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	ev->text[i] = '\0';
	return true;
}

int sp_gp_app_name_valid(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");

	return n >= 1 && n <= SP_GP_APP_NAME_MAX && s[n] == '\0' && s[0] != '-' && s[n - 1] != '-';
}

/* "NAME STATUS": a valid name, one space, a status. */
static bool sp_gp_app(const char *arg, struct sp_gp_event *ev)
{
	const char *sp = strchr(arg, ' ');
	size_t n = sp ? (size_t)(sp - arg) : 0;

	if (n == 0 || n > SP_GP_APP_NAME_MAX)
		return false;
	memcpy(ev->app, arg, n);
	ev->app[n] = '\0';
	return sp_gp_app_name_valid(ev->app) && sp_gp_status(sp + 1, &ev->status);
}

enum sp_gp_kind sp_gp_line_parse(const char *line, struct sp_gp_event *ev)
{
	const char *arg;

	memset(ev, 0, sizeof(*ev));
	if (strnlen(line, SP_GP_LINE_MAX + 1) > SP_GP_LINE_MAX)
		ev->kind = SP_GP_UNKNOWN;
	else if (strcmp(line, SP_GP_MSG_READY) == 0)
		ev->kind = SP_GP_READY;
	else if (strcmp(line, SP_GP_MSG_POWEROFF) == 0)
		ev->kind = SP_GP_POWEROFF;
	else if (sp_gp_word(line, SP_GP_MSG_EXIT, &arg) && sp_gp_status(arg, &ev->status))
		ev->kind = SP_GP_EXIT;
	else if (sp_gp_word(line, SP_GP_MSG_APP, &arg) && sp_gp_app(arg, ev))
		ev->kind = SP_GP_APP;
	else if (sp_gp_word(line, SP_GP_MSG_ERROR, &arg) && sp_gp_error(arg, ev))
		ev->kind = SP_GP_ERROR;
	if (ev->kind == SP_GP_UNKNOWN)
		memset(ev, 0, sizeof(*ev));
	return ev->kind;
}

size_t sp_gp_exit_line(char *buf, size_t size, int status)
{
	int n = snprintf(buf, size, SP_GP_MSG_EXIT " %d\n", status);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

size_t sp_gp_app_line(char *buf, size_t size, const char *name, int status)
{
	int n = snprintf(buf, size, SP_GP_MSG_APP " %s %d\n", name, status);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

size_t sp_gp_error_line(char *buf, size_t size, enum sp_gp_stage stage, const char *text)
{
	size_t max, len;
	int n;

	if (size < 2)
		return 0;
	max = size - 2 < SP_GP_LINE_MAX ? size - 2 : SP_GP_LINE_MAX;
	n = snprintf(buf, max + 1, SP_GP_MSG_ERROR " %s %s", sp_gp_stage_name(stage), text);
	len = n < 0 ? 0 : (size_t)n < max ? (size_t)n : max;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}
