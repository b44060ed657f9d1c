/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest protocol (lib/guestproto.c): the stage table, and the control
 * lines as the guest writes them and the host parses them, strictly.
 */
#include <string.h>

#include "guest.h"
#include "guestproto.h"
#include "tap.h"

/* The statuses spectrum-init(8) and spectrum(1) document. */
static const struct {
	const char *name;
	int status;
} documented[] = {
	{"net", 119},	{"config", 120},  {"modules", 121}, {"root", 122},
	{"mount", 123}, {"control", 124}, {"exec", 125},
};

static void test_stages(void)
{
	for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++) {
		TAP_OK(sp_gp_stage_find(documented[i].name) == documented[i].status,
		       "stage %s is %d", documented[i].name, documented[i].status);
		TAP_STR(sp_gp_stage_name(documented[i].status), documented[i].name,
			"status %d is stage %s", documented[i].status, documented[i].name);
	}
	TAP_OK(sp_gp_stage_find("boot") == -1 && sp_gp_stage_find("") == -1 &&
		       sp_gp_stage_find("Mount") == -1,
	       "unknown stage names are -1");
	TAP_STR(sp_gp_stage_name((enum sp_gp_stage)126), "unknown", "126 is no stage");
	TAP_OK(sp_gp_stage_find("mount") == 123 && sp_gp_stage_find("boot") == -1,
	       "sp_gp_stage_find: the table, and -1 for an unknown name");
}

static struct sp_gp_event ev;

static enum sp_gp_kind parse(const char *line)
{
	return sp_gp_line_parse(line, &ev);
}

static void test_good(void)
{
	TAP_OK(parse("ready") == SP_GP_READY, "ready");
	TAP_OK(parse("poweroff") == SP_GP_POWEROFF, "poweroff");
	TAP_OK(parse("exit 0") == SP_GP_EXIT && ev.status == 0, "exit 0");
	TAP_OK(parse("exit 7") == SP_GP_EXIT && ev.status == 7, "exit 7");
	TAP_OK(parse("exit 42") == SP_GP_EXIT && ev.status == 42, "exit 42");
	TAP_OK(parse("exit 255") == SP_GP_EXIT && ev.status == 255, "exit 255");
	TAP_OK(parse("app mail 0") == SP_GP_APP && ev.status == 0 && strcmp(ev.app, "mail") == 0,
	       "app mail 0");
	TAP_OK(parse("app a-1 137") == SP_GP_APP && ev.status == 137 && strcmp(ev.app, "a-1") == 0,
	       "app a-1 137");
	TAP_OK(parse("app abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk 3") ==
			       SP_GP_APP &&
		       strlen(ev.app) == SP_GP_APP_NAME_MAX,
	       "an application name of %d bytes", SP_GP_APP_NAME_MAX);
	TAP_OK(parse("error mount mounting /dev/vdb on /data: No such device") == SP_GP_ERROR &&
		       ev.status == 123,
	       "error mount: status 123");
	TAP_STR(ev.stage, "mount", "error mount: the stage's name");
	TAP_STR(ev.text, "mounting /dev/vdb on /data: No such device", "error mount: the text");
	TAP_OK(parse("error net") == SP_GP_ERROR && ev.status == 119 && ev.text[0] == '\0',
	       "error without text: empty text");
	TAP_OK(parse("error exec ") == SP_GP_ERROR && ev.status == 125 && ev.text[0] == '\0',
	       "error with an empty text");
	TAP_OK(parse("error exec  two  spaces ") == SP_GP_ERROR,
	       "error: the text keeps its spaces");
	TAP_STR(ev.text, " two  spaces ", "error: text after the one separating space");
	TAP_OK(parse("error snapshot the disk is full") == SP_GP_ERROR && ev.status == 120,
	       "error of a stage this host does not know: config's status");
	TAP_STR(ev.stage, "snapshot", "... and its name as sent");
	TAP_OK(parse("error abcdefghijklmno x") == SP_GP_ERROR && strlen(ev.stage) == 15,
	       "a stage name of %d bytes", SP_GP_STAGE_NAME_MAX);
	TAP_OK(parse("error exec a\x1b[2Jb\tc\x7f\xc3\xa9") == SP_GP_ERROR, "error with escapes");
	TAP_STR(ev.text, "a?[2Jb?c???", "guest text: every byte but printable ASCII is '?'");
}

static const struct {
	const char *line;
	const char *what;
} bad[] = {
	{"", "empty line"},
	{"READY", "upper case"},
	{"ready ", "trailing space"},
	{" ready", "leading space"},
	{"ready\r", "CR"},
	{"readyx", "a longer word"},
	{"poweroff now", "poweroff with an argument"},
	{"exit", "exit without status"},
	{"exit ", "exit with an empty status"},
	{"exit  1", "two spaces"},
	{"exit 1 ", "status and a space"},
	{"exit 256", "status 256"},
	{"exit 1000", "four digits"},
	{"exit 99999999999999999999", "a status that overflows"},
	{"exit 07", "a leading zero"},
	{"exit 00", "two zeros"},
	{"exit 07x", "digits and a letter"},
	{"exit 7x", "a trailing letter"},
	{"exit -1", "a sign"},
	{"exit +1", "a plus sign"},
	{"exit 0x1", "hexadecimal"},
	{"exitt 1", "another word"},
	{"exit\t1", "a tab"},
	{"error", "error without stage"},
	{"error ", "error with an empty stage"},
	{"error  mount x", "error, two spaces"},
	{"error Mount x", "an upper-case stage"},
	{"error mount-x y", "a stage with a dash"},
	{"error mount\tx", "a stage and a tab"},
	{"error abcdefghijklmnop x", "a stage of 16 bytes"},
	{"errors mount x", "another word"},
	{"app", "app without name"},
	{"app mail", "app without status"},
	{"app mail ", "app with an empty status"},
	{"app  mail 0", "app, two spaces"},
	{"app mail  0", "app, two spaces before the status"},
	{"app Mail 0", "an upper-case application name"},
	{"app -mail 0", "a name that starts with a dash"},
	{"app mail- 0", "a name that ends with a dash"},
	{"app ma_il 0", "a name with an underscore"},
	{"app mail 256", "app status 256"},
	{"app mail 01", "app status with a leading zero"},
	{"app mail 0 x", "app with more words"},
	{"app abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijkl 3",
	 "an application name of 64 bytes"},
	{"apps mail 0", "another word"},
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&ev, 0xff, sizeof(ev));
		TAP_OK(parse(bad[i].line) == SP_GP_UNKNOWN && ev.kind == SP_GP_UNKNOWN &&
			       ev.status == 0 && ev.stage[0] == '\0' && ev.text[0] == '\0' &&
			       ev.app[0] == '\0',
		       "unknown, event cleared: %s", bad[i].what);
	}
}

/* A line of exactly SP_GP_LINE_MAX bytes is read; a longer one is not. */
static void test_length(void)
{
	char line[SP_GP_LINE_MAX + 2];
	size_t head = strlen("error exec ");

	memcpy(line, "error exec ", head);
	memset(line + head, 'x', SP_GP_LINE_MAX - head);
	line[SP_GP_LINE_MAX] = '\0';
	TAP_OK(parse(line) == SP_GP_ERROR && strlen(ev.text) == SP_GP_LINE_MAX - head,
	       "a line of %d bytes", SP_GP_LINE_MAX);
	line[SP_GP_LINE_MAX] = 'x';
	line[SP_GP_LINE_MAX + 1] = '\0';
	TAP_OK(parse(line) == SP_GP_UNKNOWN, "a line of %d bytes is unknown", SP_GP_LINE_MAX + 1);
}

/* What the guest writes, the host reads back. */
static void test_writers(void)
{
	char buf[SP_GP_LINE_MAX + 2], text[600];
	size_t n;

	n = sp_gp_exit_line(buf, 16, 42);
	TAP_OK(n == 8 && strcmp(buf, "exit 42\n") == 0, "exit line");
	buf[n - 1] = '\0';
	TAP_OK(parse(buf) == SP_GP_EXIT && ev.status == 42, "exit line parses");

	n = sp_gp_app_line(buf, sizeof(buf), "notes", 3);
	TAP_OK(n == 12 && strcmp(buf, "app notes 3\n") == 0, "app line");
	buf[n - 1] = '\0';
	TAP_OK(parse(buf) == SP_GP_APP && ev.status == 3 && strcmp(ev.app, "notes") == 0,
	       "app line parses");
	TAP_OK(sp_gp_app_name_valid("a") && sp_gp_app_name_valid("mail-2") &&
		       !sp_gp_app_name_valid("") && !sp_gp_app_name_valid("-a") &&
		       !sp_gp_app_name_valid("a b") && !sp_gp_app_name_valid("A"),
	       "application names: the host's rule");

	for (size_t i = 0; i < sizeof(documented) / sizeof(documented[0]); i++) {
		n = sp_gp_error_line(buf, sizeof(buf), documented[i].status, "it failed");
		buf[n - 1] = '\0';
		TAP_OK(parse(buf) == SP_GP_ERROR && ev.status == documented[i].status &&
			       strcmp(ev.stage, documented[i].name) == 0 &&
			       strcmp(ev.text, "it failed") == 0,
		       "error line of stage %s parses back", documented[i].name);
	}

	memset(text, 'y', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	text[3] = '\n';
	n = sp_gp_error_line(buf, sizeof(buf), SP_GP_STAGE_MOUNT, text);
	TAP_OK(n == SP_GP_LINE_MAX + 1 && buf[n - 1] == '\n' && strlen(buf) == n,
	       "a long error line is cut to %d bytes and its newline", SP_GP_LINE_MAX);
	TAP_OK(strchr(buf, '\n') == buf + n - 1, "a newline of the text is not a line break");
	buf[n - 1] = '\0';
	TAP_OK(parse(buf) == SP_GP_ERROR && ev.status == SP_GP_STAGE_MOUNT &&
		       strncmp(ev.text, "yyy?yyy", 7) == 0,
	       "the cut line parses back");
	n = sp_gp_error_line(buf, 20, SP_GP_STAGE_EXEC, "a long text");
	TAP_OK(n == 19 && strcmp(buf, "error exec a long \n") == 0,
	       "cut to a small buffer, newline kept");
}

int main(void)
{
	test_stages();
	test_good();
	test_bad();
	test_length();
	test_writers();
	return tap_done();
}
