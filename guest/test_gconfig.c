/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The guest configuration parser (gconfig.c): what it accepts, and each
 * refusal with the words of its message. */
#include <stdlib.h>
#include <string.h>

#include "gconfig.h"
#include "tap.h"

#define HEAD "spectrum-guest 1\nhostname mail-work\nroot disk\n"
#define CMD "cmd\narg /bin/true\n"

static struct gi_config cfg;
static char err[GI_ERR_MAX];

static int parse(const char *text)
{
	gi_config_free(&cfg);
	return gi_config_parse(text, strlen(text), &cfg, err, sizeof(err));
}

static const char *env_get(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < cfg.nenv; i++)
		if (strncmp(cfg.env[i], name, n) == 0 && cfg.env[i][n] == '=')
			return cfg.env[i] + n + 1;
	return NULL;
}

static void test_full(void)
{
	static const char text[] = "spectrum-guest 1\n"
				   "hostname mail-work\n"
				   "root pmem\n"
				   "modules usb\n"
				   "modules extra_2\n"
				   "scratch /run\n"
				   "scratch /tmp\n"
				   "scratch /var/tmp\n"
				   "scratch /home\n"
				   "volume vol0 ext4 rw /home/user/Mail\n"
				   "volume vol1 ext4 ro /srv/My Documents\n"
				   "share fs0 ro /home/user/shared stuff\n"
				   "net 02:12:34:56:78:9a 10.31.99.2/24 10.31.99.1\n"
				   "net 02:ab:cd:ef:01:23 10.109.44.3/24\n"
				   "display wayland zstd\n"
				   "env LANG=C.UTF-8\n"
				   "env HOME=/home/user/x\n"
				   "env GREETING=a\\nb\\\\c\n"
				   "cmd\n"
				   "arg /bin/sh\n"
				   "arg -c\n"
				   "arg echo \"$GREETING\"\\n\n"
				   "arg \n"
				   "cmd\n"
				   "arg /usr/bin/sleep\n"
				   "arg 1\n";

	TAP_OK(parse(text) == 0, "a file with every keyword parses (%s)", err);
	TAP_STR(cfg.hostname, "mail-work", "host name");
	TAP_OK(cfg.root == GI_ROOT_PMEM, "root pmem");
	TAP_OK(cfg.ngroups == 2 && strcmp(cfg.groups[0], "usb") == 0 &&
		       strcmp(cfg.groups[1], "extra_2") == 0,
	       "two module groups, in file order");
	TAP_OK(cfg.nmounts == 7, "seven mounts");
	if (cfg.nmounts != 7)
		return;
	/* Mount order: by length, file order among equals. */
	static const char *const order[] = {"/run",
					    "/tmp",
					    "/home",
					    "/var/tmp",
					    "/home/user/Mail",
					    "/srv/My Documents",
					    "/home/user/shared stuff"};
	for (size_t i = 0; i < 7; i++)
		TAP_STR(cfg.mounts[i].path, order[i], "mount %zu in parent-first order", i);
	TAP_OK(cfg.mounts[0].kind == GI_MOUNT_SCRATCH && cfg.mounts[0].mode == 0755,
	       "/run is a 0755 scratch");
	TAP_OK(cfg.mounts[1].mode == 01777 && cfg.mounts[3].mode == 01777,
	       "/tmp and /var/tmp are 1777");
	TAP_OK(cfg.mounts[4].kind == GI_MOUNT_VOLUME && !cfg.mounts[4].readonly &&
		       strcmp(cfg.mounts[4].source, "vol0") == 0 &&
		       strcmp(cfg.mounts[4].fstype, "ext4") == 0,
	       "volume vol0 ext4 rw");
	TAP_OK(cfg.mounts[5].readonly && strcmp(cfg.mounts[5].source, "vol1") == 0,
	       "volume vol1 ro, path with a space");
	TAP_OK(cfg.mounts[6].kind == GI_MOUNT_SHARE && cfg.mounts[6].readonly &&
		       strcmp(cfg.mounts[6].source, "fs0") == 0 &&
		       strcmp(cfg.mounts[6].fstype, "virtiofs") == 0,
	       "share fs0 ro");
	TAP_OK(cfg.nnets == 2, "two nets");
	if (cfg.nnets == 2) {
		TAP_STR(cfg.nets[0].mac, "02:12:34:56:78:9a", "first net's MAC");
		TAP_OK(cfg.nets[0].address == (10u << 24 | 31u << 16 | 99u << 8 | 2u) &&
			       cfg.nets[0].prefix == 24 &&
			       cfg.nets[0].gateway == (10u << 24 | 31u << 16 | 99u << 8 | 1u),
		       "first net: 10.31.99.2/24 via 10.31.99.1");
		TAP_OK(cfg.nets[1].address == (10u << 24 | 109u << 16 | 44u << 8 | 3u) &&
			       cfg.nets[1].gateway == 0,
		       "second net: 10.109.44.3/24, no gateway");
	}
	TAP_OK(cfg.display && strcmp(cfg.display_compress, "zstd") == 0, "display wayland zstd");
	TAP_STR(env_get("PATH"), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"default PATH");
	TAP_STR(env_get("TERM"), "linux", "default TERM");
	TAP_STR(env_get("HOME"), "/home/user/x", "env replaces the default HOME");
	TAP_STR(env_get("LANG"), "C.UTF-8", "env LANG");
	TAP_STR(env_get("GREETING"), "a\nb\\c", "escapes \\n and \\\\ in env");
	TAP_OK(cfg.nenv == 5 && cfg.env[5] == NULL, "five variables, NULL-terminated");
	TAP_OK(cfg.ncmds == 2, "two commands");
	if (cfg.ncmds != 2)
		return;
	TAP_OK(cfg.cmds[0].argc == 4 && cfg.cmds[0].argv[4] == NULL, "four args, NULL-terminated");
	TAP_STR(cfg.cmds[0].argv[2], "echo \"$GREETING\"\n", "escaped newline in an arg");
	TAP_STR(cfg.cmds[0].argv[3], "", "empty arg");
	TAP_STR(cfg.cmds[1].argv[0], "/usr/bin/sleep", "second command");
}

static void test_minimal(void)
{
	TAP_OK(parse(HEAD CMD) == 0, "minimal file parses (%s)", err);
	TAP_OK(cfg.root == GI_ROOT_DISK && cfg.nmounts == 0 && cfg.ncmds == 1 && cfg.nenv == 3,
	       "root disk, no mounts, one command, the three defaults");
	TAP_OK(!cfg.display, "no display unless granted");
	TAP_OK(parse(HEAD "arg\n") < 0 && strstr(err, "line 4: arg needs a value"), "bare arg: %s",
	       err);
	TAP_OK(cfg.napps == 0, "no app lines: no applications");
}

/* Several applications: each names the cmds after it. */
static void test_apps(void)
{
	TAP_OK(parse(HEAD "env A=b\napp mail\n" CMD CMD "app notes-2\n" CMD) == 0,
	       "app lines parse (%s)", err);
	TAP_OK(cfg.napps == 2 && strcmp(cfg.apps[0], "mail") == 0 &&
		       strcmp(cfg.apps[1], "notes-2") == 0,
	       "two applications, in file order");
	TAP_OK(cfg.ncmds == 3 && cfg.cmds[0].app == 0 && cfg.cmds[1].app == 0 &&
		       cfg.cmds[2].app == 1,
	       "each cmd belongs to the app before it");
	TAP_OK(parse(HEAD CMD) == 0 && cfg.cmds[0].app == -1, "without app lines a cmd has none");
}

static const struct {
	const char *text;
	const char *msg; /* a part of the message */
	const char *what;
} bad[] = {
	{"", "empty file", "empty file"},
	{"hostname a\nroot disk\n" CMD, "line 1: the first line is not \"spectrum-guest 1\"",
	 "missing first line"},
	{"spectrum-guest 2\nhostname a\nroot disk\n" CMD, "line 1: guest protocol version \"2\"",
	 "version 2"},
	{"spectrum-guest\n", "line 1: spectrum-guest needs a value", "bare spectrum-guest"},
	{HEAD "frobnicate yes\n" CMD, "line 4: unknown keyword \"frobnicate\"", "unknown keyword"},
	{HEAD "Cmd\n" CMD, "unknown keyword \"Cmd\"", "keywords are case-sensitive"},
	{HEAD "\n" CMD, "line 4: unknown keyword \"\"", "empty line"},
	{HEAD " cmd\n", "unknown keyword \"\"", "leading space"},
	{HEAD CMD "cmd\r\n", "unknown keyword \"cmd?\"", "CR LF line end"},
	{HEAD, "no cmd line", "no cmd"},
	{"spectrum-guest 1\nroot disk\n" CMD, "no hostname line", "no hostname"},
	{"spectrum-guest 1\nhostname a\n" CMD, "no root line", "no root"},
	{HEAD "cmd\n", "the last cmd has no arg", "cmd without arg"},
	{HEAD "cmd\ncmd\narg /bin/true\n", "line 5: the previous cmd has no arg",
	 "cmd without arg, then another"},
	{HEAD "arg /bin/true\n" CMD, "line 4: arg before the first cmd", "arg before cmd"},
	{HEAD "cmd x\n", "cmd takes no value", "cmd with a value"},
	{HEAD "cmd\narg true\n", "first arg of a cmd is not an absolute path", "relative argv[0]"},
	{HEAD "scratch /tmp\n" CMD "arg x\\t\n", "line 7: unknown escape \"\\t\"", "bad escape"},
	{HEAD CMD "arg x\\\n", "backslash at the end of the line", "lone backslash"},
	{HEAD CMD "arg \\\x01\n", "unknown escape (a backslash and byte 0x01)",
	 "backslash and a control character"},
	{"spectrum-guest 1\nroot disk\nhostname a\n" CMD, "line 3: hostname after root",
	 "hostname after root"},
	{HEAD "volume vol0 ext4 rw /a\nscratch /tmp\n" CMD, "line 5: scratch after volume",
	 "scratch after volume"},
	{HEAD "env A=b\nshare t rw /x\n" CMD, "share after env", "share after env"},
	{HEAD CMD "env A=b\n", "env after arg", "env after cmd"},
	{"spectrum-guest 1\nhostname a\nhostname b\nroot disk\n" CMD,
	 "line 3: a second hostname line", "two hostnames"},
	{HEAD "root pmem\n" CMD, "a second root line", "two roots"},
	{HEAD "spectrum-guest 1\n" CMD, "spectrum-guest after root", "version twice"},
	{"spectrum-guest 1\nhostname Mail\nroot disk\n" CMD, "host name \"Mail\"",
	 "upper-case host name"},
	{"spectrum-guest 1\nhostname -a\nroot disk\n" CMD, "host name", "host name with a dash"},
	{"spectrum-guest 1\nhostname a\nroot nfs\n" CMD, "root \"nfs\" is neither disk nor pmem",
	 "bad root"},
	{"spectrum-guest 1\nhostname a\nroot\n" CMD, "root needs a value", "bare root"},
	{HEAD "scratch tmp\n" CMD, "mount path \"tmp\" is not absolute", "relative path"},
	{HEAD "scratch /\n" CMD, "mount path \"/\" is the root", "root path"},
	{HEAD "scratch /a//b\n" CMD, "not normalized", "double slash"},
	{HEAD "scratch /a/\n" CMD, "not normalized", "trailing slash"},
	{HEAD "scratch /a/../b\n" CMD, "not normalized", "dot-dot"},
	{HEAD "scratch /a/./b\n" CMD, "not normalized", "dot"},
	{HEAD "scratch /proc/x\n" CMD, "is inside /proc", "inside /proc"},
	{HEAD "scratch /dev\n" CMD, "is inside /dev", "/dev itself"},
	{HEAD "scratch /a\\nb\n" CMD, "control character in mount path \"/a?b\"",
	 "escaped newline in a path"},
	{HEAD "scratch /tmp\nscratch /tmp\n" CMD, "line 5: mount path \"/tmp\" is used twice",
	 "same path twice"},
	{HEAD "scratch /tmp\nvolume vol0 ext4 rw /tmp\n" CMD, "is used twice",
	 "scratch and volume on one path"},
	{HEAD "volume vol0 ext4 rx /a\n" CMD, "mode \"rx\" is neither ro nor rw", "bad mode"},
	{HEAD "share fs0 RW /a\n" CMD, "mode \"RW\" is neither ro nor rw", "bad share mode"},
	{HEAD "volume vol0 xfs rw /a\n" CMD, "file system \"xfs\" is not ext4", "bad fs"},
	{HEAD "volume vol0 ext4 rw\n" CMD, "volume needs SERIAL FS MODE PATH",
	 "volume without path"},
	{HEAD "volume root ext4 rw /a\n" CMD, "disk serial \"root\"", "volume serial root"},
	{HEAD "volume vol0123456789abcdefgh ext4 rw /a\n" CMD, "disk serial", "serial > 20 bytes"},
	{HEAD "volume vol0 ext4 rw /a\nvolume vol0 ext4 ro /b\n" CMD,
	 "disk serial \"vol0\" is used twice", "serial twice"},
	{HEAD "share fs0 ro\n" CMD, "share needs TAG MODE PATH", "share without path"},
	{HEAD "share a/b ro /x\n" CMD, "share tag", "bad tag"},
	{HEAD "modules\n" CMD, "modules needs a value", "modules without a group"},
	{HEAD "modules USB\n" CMD, "module group \"USB\" is not 1 to 16", "upper-case group"},
	{HEAD "modules ../x\n" CMD, "module group \"../x\"", "group with a slash"},
	{HEAD "modules abcdefghijklmnopq\n" CMD, "is not 1 to 16", "17-byte group"},
	{HEAD "modules usb\nmodules usb\n" CMD, "module group usb is named twice", "group twice"},
	{HEAD "scratch /tmp\nmodules usb\n" CMD, "modules after scratch", "modules after scratch"},
	{HEAD
	 "modules a\nmodules b\nmodules c\nmodules d\nmodules e\nmodules f\nmodules g\nmodules h\nmodules i\n" CMD,
	 "more than 8 modules lines", "nine groups"},
#define MAC "02:12:34:56:78:9a"
	{HEAD "net " MAC "\n" CMD, "net needs MAC ADDRESS/PREFIX [GATEWAY]", "net without address"},
	{HEAD "net " MAC " 10.0.0.2/24 10.0.0.1 x\n" CMD, "net needs MAC", "net with a 4th field"},
	{HEAD "net 02:12:34:56:78:9A 10.0.0.2/24\n" CMD, "MAC address \"02:12:34:56:78:9A\"",
	 "upper-case MAC"},
	{HEAD "net 03:12:34:56:78:9a 10.0.0.2/24\n" CMD, "unicast", "multicast MAC"},
	{HEAD "net 02:12:34:56:78 10.0.0.2/24\n" CMD, "MAC address", "short MAC"},
	{HEAD "net " MAC " 10.0.0.2/24\nnet " MAC " 10.0.1.2/24\n" CMD,
	 "MAC address " MAC " is used twice", "MAC twice"},
	{HEAD "net " MAC " 10.0.0.2\n" CMD, "has no /PREFIX", "address without prefix"},
	{HEAD "net " MAC " 10.0.0.256/24\n" CMD, "is not an IPv4 address", "octet > 255"},
	{HEAD "net " MAC " 10.0.00.2/24\n" CMD, "is not an IPv4 address", "leading zero"},
	{HEAD "net " MAC " 10.0.2/24\n" CMD, "is not an IPv4 address", "three octets"},
	{HEAD "net " MAC " 10.0.0.2.1/24\n" CMD, "is not an IPv4 address", "five octets"},
	{HEAD "net " MAC " 10.0.0.2/31\n" CMD, "prefix \"31\" is not 1 to 30", "prefix 31"},
	{HEAD "net " MAC " 10.0.0.2/024\n" CMD, "is not 1 to 30", "prefix with a leading zero"},
	{HEAD "net " MAC " 10.0.0.2/\n" CMD, "is not 1 to 30", "empty prefix"},
	{HEAD "net " MAC " 10.0.0.0/24\n" CMD, "is not a host of its /24", "network address"},
	{HEAD "net " MAC " 10.0.0.255/24\n" CMD, "is not a host of its /24", "broadcast address"},
	{HEAD "net " MAC " 10.0.0.2/24 10.0.1.1\n" CMD, "gateway 10.0.1.1 is not another host",
	 "gateway outside the subnet"},
	{HEAD "net " MAC " 10.0.0.2/24 10.0.0.2\n" CMD, "is not another host", "gateway is self"},
	{HEAD "net " MAC " 10.0.0.2/24 10.0.0.x\n" CMD, "gateway \"10.0.0.x\"", "bad gateway"},
	{HEAD "env A=b\nnet " MAC " 10.0.0.2/24\n" CMD, "net after env", "net after env"},
	{HEAD "net " MAC " 10.0.0.2/24\nshare t rw /x\n" CMD, "share after net", "share after net"},
	{HEAD "display x11 lz4\n" CMD, "unknown display \"x11\"", "display other than wayland"},
	{HEAD "display\n" CMD, "display needs a value", "display without a value"},
	{HEAD "display wayland\n" CMD, "display needs wayland COMPRESSION",
	 "display without compression"},
	{HEAD "display wayland lzma\n" CMD, "unknown compression \"lzma\"", "unknown compression"},
	{HEAD "display wayland lz4\ndisplay wayland lz4\n" CMD, "a second display line",
	 "display twice"},
	{HEAD "env A=b\ndisplay wayland lz4\n" CMD, "display after env", "display after env"},
	{HEAD "display wayland lz4\nnet " MAC " 10.0.0.2/24\n" CMD, "net after display",
	 "net after display"},
	{HEAD "env NOEQUALS\n" CMD, "env \"NOEQUALS\" is not NAME=VALUE", "env without ="},
	{HEAD "env =x\n" CMD, "is not NAME=VALUE", "env without name"},
	{HEAD "env 1A=x\n" CMD, "is not NAME=VALUE", "env name with leading digit"},
	{HEAD "env A-B=x\n" CMD, "is not NAME=VALUE", "env name with a dash"},
	{HEAD CMD "arg \xff\n", "line 6: not UTF-8 text", "invalid UTF-8"},
	{HEAD CMD "arg \xc0\xaf\n", "not UTF-8 text", "overlong UTF-8"},
	{HEAD CMD "arg \xed\xa0\x80\n", "not UTF-8 text", "UTF-16 surrogate"},
	{HEAD CMD "arg x", "line 6: no newline at the end of the file", "no final newline"},
	{HEAD "app\n" CMD, "app needs a value", "app without a name"},
	{HEAD "app Mail\n" CMD, "app \"Mail\" is not a name", "upper-case app name"},
	{HEAD "app -a\n" CMD, "is not a name", "app name with a leading dash"},
	{HEAD "app a\napp b\n" CMD, "line 5: app a has no cmd", "app without cmd, then another"},
	{HEAD "app a\n" CMD "app b\n", "app b has no cmd", "last app without cmd"},
	{HEAD CMD "app a\n" CMD, "app after a cmd that belongs to no app",
	 "cmd before the first app"},
	{HEAD "app a\n" CMD "app a\n" CMD, "a second app a", "app twice"},
	{HEAD "app a\ncmd\napp b\n" CMD, "the previous cmd has no arg", "app after an empty cmd"},
	{HEAD "app a\n" CMD "app b\n" CMD "app c\n" CMD "app d\n" CMD "app e\n" CMD,
	 "more than 4 apps", "five apps"},
	{HEAD "app a\n" CMD "env A=b\n", "env after arg", "env after app"},
};

static void test_bad(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i].text);
		TAP_OK(rc < 0 && strstr(err, bad[i].msg), "refused: %s (%s)", bad[i].what, err);
	}
}

/* Inputs built at run time: a NUL byte, long lines and big files. */
static void test_sizes(void)
{
	static const char nul[] = HEAD "cmd\narg /bin/\0true\n";
	size_t big = GI_CONFIG_MAX + 1;
	char *buf = malloc(big + 16), *p;
	int rc;

	gi_config_free(&cfg);
	rc = gi_config_parse(nul, sizeof(nul) - 1, &cfg, err, sizeof(err));
	TAP_OK(rc < 0 && strstr(err, "line 5: not UTF-8 text (a NUL"), "NUL byte refused (%s)",
	       err);

	/* A line of exactly GI_LINE_MAX bytes is fine, one more is not. */
	p = buf + sprintf(buf, HEAD CMD "arg ");
	memset(p, 'x', GI_LINE_MAX - 4);
	strcpy(p + GI_LINE_MAX - 4, "\n");
	TAP_OK(parse(buf) == 0 && strlen(cfg.cmds[0].argv[1]) == GI_LINE_MAX - 4,
	       "line of %d bytes accepted (%s)", GI_LINE_MAX, err);
	memset(p, 'x', GI_LINE_MAX - 3);
	strcpy(p + GI_LINE_MAX - 3, "\n");
	TAP_OK(parse(buf) < 0 && strstr(err, "line 6: longer than 8192 bytes"),
	       "overlong line refused (%s)", err);
	/* Without its newline too: the length is checked first. */
	memset(p, 'x', 20000);
	p[20000] = '\0';
	TAP_OK(parse(buf) < 0 && strstr(err, "line 6: longer than 8192 bytes"),
	       "overlong last line without newline refused (%s)", err);

	/* 1 MiB of args is fine; a byte more is not. */
	p = buf + sprintf(buf, HEAD CMD);
	while ((size_t)(p - buf) + 8 <= GI_CONFIG_MAX)
		p += sprintf(p, "arg abc\n");
	while ((size_t)(p - buf) < GI_CONFIG_MAX)
		p += sprintf(p, "\n");
	buf[GI_CONFIG_MAX - 1] = '\n';
	/* Pad the last line to end exactly at the limit: an arg of x's. */
	p = buf + GI_CONFIG_MAX - 1;
	while (p[-1] == '\n')
		*--p = 'x';
	gi_config_free(&cfg);
	rc = gi_config_parse(buf, GI_CONFIG_MAX, &cfg, err, sizeof(err));
	TAP_OK(rc == 0 && cfg.cmds[0].argc > 100000, "1 MiB file with %zu args accepted (%s)",
	       cfg.ncmds ? cfg.cmds[0].argc : 0, err);
	buf[GI_CONFIG_MAX] = '\n';
	gi_config_free(&cfg);
	rc = gi_config_parse(buf, GI_CONFIG_MAX + 1, &cfg, err, sizeof(err));
	TAP_OK(rc < 0 && strstr(err, "larger than 1048576 bytes"), "1 MiB + 1 refused (%s)", err);

	/* Bounded counts. */
	p = buf + sprintf(buf, HEAD);
	for (int i = 0; i <= GI_MOUNTS_MAX; i++)
		p += sprintf(p, "scratch /s%d\n", i);
	sprintf(p, CMD);
	TAP_OK(parse(buf) < 0 && strstr(err, "more than 256"), "too many mounts refused (%s)", err);
	p = buf + sprintf(buf, HEAD);
	for (int i = 0; i <= GI_CMDS_MAX; i++)
		p += sprintf(p, CMD);
	TAP_OK(parse(buf) < 0 && strstr(err, "more than 64 commands"),
	       "too many commands refused (%s)", err);
	p = buf + sprintf(buf, HEAD);
	for (int i = 0; i <= GI_NETS_MAX; i++)
		p += sprintf(p, "net 02:00:00:00:00:%02x 10.0.%d.2/24\n", i, i);
	sprintf(p, CMD);
	TAP_OK(parse(buf) < 0 && strstr(err, "more than 32 net lines"), "too many nets refused (%s)",
	       err);
	free(buf);
}

int main(void)
{
	test_full();
	test_minimal();
	test_apps();
	test_bad();
	test_sizes();
	gi_config_free(&cfg);
	return tap_done();
}
