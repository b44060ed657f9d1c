/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Parser of /spectrum/config.  The file is copied once; each value is
 * unescaped in place in the copy (unescaping only shrinks it) and the
 * struct points into it, so a parsed configuration is four allocations
 * and a few arrays, whatever its size.
 */
#include "gconfig.h"
#include "guestproto.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keywords come in this order; the same rank may repeat unless `once`. */
enum rank {
	R_VERSION,
	R_HOSTNAME,
	R_ROOT,
	R_MODULES,
	R_SCRATCH,
	R_VOLUME,
	R_SHARE,
	R_NET,
	R_DISPLAY,
	R_ENV,
	R_CMD,
};

struct parser {
	struct gi_config *cfg;
	char *err;
	size_t errlen;
	unsigned lineno;
	int rank;	  /* of the last keyword, -1 before the first line */
	const char *last; /* the last keyword, for order messages */
	bool have_root;
	size_t cap_mounts, cap_nets, cap_env, cap_cmds, cap_args;
};

struct keyword {
	const char *name;
	enum rank rank;
	bool once;
	bool value; /* "KEYWORD VALUE" (else a bare "KEYWORD") */
	int (*parse)(struct parser *p, char *value);
};

static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/home/user",
	"TERM=linux",
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (!p->errlen)
		return -1;
	if (p->lineno)
		n = snprintf(p->err, p->errlen, "line %u: ", p->lineno);
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Text of the file in a message: at most 40 bytes, unprintable ones as '?'
 * (the message ends up on a console and a one-line protocol). */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i < len - 1 && i < 40; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* Grows *arr to hold at least n + 1 elements (the +1 is the NULL of argv
 * and envp). */
static int grow(struct parser *p, void *arr, size_t *cap, size_t n, size_t size)
{
	void **ap = arr;
	size_t ncap;
	void *np;

	if (n + 1 < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	np = realloc(*ap, ncap * size);
	if (!np)
		return fail(p, "out of memory");
	*ap = np;
	*cap = ncap;
	return 0;
}

/* One UTF-8 sequence at s (at most n bytes): its length, or 0 if invalid
 * (overlong forms, surrogates and code points above U+10FFFF are). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Replaces the escapes "\n" and "\\" in s, in place. */
static int unescape(struct parser *p, char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (*s != '\\') {
			*out++ = *s;
			continue;
		}
		s++;
		if (*s == 'n')
			*out++ = '\n';
		else if (*s == '\\')
			*out++ = '\\';
		else if (!*s)
			return fail(p, "backslash at the end of the line");
		else if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return fail(p, "unknown escape (a backslash and byte 0x%02x)",
				    (unsigned char)*s);
		else
			return fail(p, "unknown escape \"\\%c\" (only \\n and \\\\ are)", *s);
	}
	*out = '\0';
	return 0;
}

/* Splits off the next space-separated field of *rest. */
static char *field(char **rest)
{
	char *s = *rest, *sp;

	if (!s)
		return NULL;
	sp = strchr(s, ' ');
	if (sp) {
		*sp = '\0';
		*rest = sp + 1;
	} else {
		*rest = NULL;
	}
	return s;
}

/* Host names follow the rule the host applies to instance names (RFC 1123
 * labels, lower case). */
static bool hostname_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Disk serials and virtiofs tags: short, and plain enough to be compared
 * with what sysfs prints. */
static bool ident_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

bool gi_path_below(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	return strncmp(inner, outer, n) == 0 && inner[n] == '/';
}

/* The rule of the host (sp_guest_path_check): absolute, normalized, not
 * "/", not in the kernel's trees, no control characters. */
static int check_path(struct parser *p, const char *path)
{
	static const char *const reserved[] = {"/proc", "/sys", "/dev"};
	size_t n = strlen(path);
	char q[48];

	if (n == 0)
		return fail(p, "empty mount path");
	if (n > GI_PATH_MAX)
		return fail(p, "mount path longer than %d bytes", GI_PATH_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return fail(p, "control character in mount path \"%s\"",
				    quote(path, q, sizeof(q)));
	if (path[0] != '/')
		return fail(p, "mount path \"%s\" is not absolute", quote(path, q, sizeof(q)));
	if (n == 1)
		return fail(p, "mount path \"/\" is the root");
	/* Every component is non-empty, and neither "." nor "..". */
	for (const char *c = path; *c;) {
		const char *e = strchr(c + 1, '/');
		size_t len = e ? (size_t)(e - c - 1) : strlen(c + 1);
		if (len == 0 || (len == 1 && c[1] == '.') ||
		    (len == 2 && c[1] == '.' && c[2] == '.'))
			return fail(p, "mount path \"%s\" is not normalized",
				    quote(path, q, sizeof(q)));
		c += len + 1;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(path, reserved[i]) == 0 || gi_path_below(path, reserved[i]))
			return fail(p, "mount path \"%s\" is inside %s", quote(path, q, sizeof(q)),
				    reserved[i]);
	for (size_t i = 0; i < p->cfg->nmounts; i++)
		if (strcmp(p->cfg->mounts[i].path, path) == 0)
			return fail(p, "mount path \"%s\" is used twice",
				    quote(path, q, sizeof(q)));
	return 0;
}

static int check_mode(struct parser *p, const char *mode, bool *readonly)
{
	char q[48];

	if (strcmp(mode, "ro") == 0)
		*readonly = true;
	else if (strcmp(mode, "rw") == 0)
		*readonly = false;
	else
		return fail(p, "mode \"%s\" is neither ro nor rw", quote(mode, q, sizeof(q)));
	return 0;
}

static struct gi_mount *add_mount(struct parser *p)
{
	struct gi_config *c = p->cfg;

	if (c->nmounts >= GI_MOUNTS_MAX) {
		fail(p, "more than %d scratch, volume and share lines", GI_MOUNTS_MAX);
		return NULL;
	}
	if (grow(p, &c->mounts, &p->cap_mounts, c->nmounts, sizeof(*c->mounts)) < 0)
		return NULL;
	return memset(&c->mounts[c->nmounts++], 0, sizeof(*c->mounts));
}

static int kw_version(struct parser *p, char *value)
{
	char q[48];

	if (strcmp(value, SP_GP_VERSION) != 0)
		return fail(p, "guest protocol version \"%s\" is not " SP_GP_VERSION,
			    quote(value, q, sizeof(q)));
	return 0;
}

static int kw_hostname(struct parser *p, char *value)
{
	char q[48];

	if (!hostname_valid(value))
		return fail(p, "host name \"%s\" is not 1 to 63 of a-z, 0-9 and -",
			    quote(value, q, sizeof(q)));
	p->cfg->hostname = value;
	return 0;
}

static int kw_root(struct parser *p, char *value)
{
	char q[48];

	if (strcmp(value, SP_GP_ROOT_DISK) == 0)
		p->cfg->root = GI_ROOT_DISK;
	else if (strcmp(value, SP_GP_ROOT_PMEM) == 0)
		p->cfg->root = GI_ROOT_PMEM;
	else
		return fail(p, "root \"%s\" is neither disk nor pmem", quote(value, q, sizeof(q)));
	p->have_root = true;
	return 0;
}

/* modules GROUP: 1 to 16 of a-z, 0-9 and _, so that it is a file name. */
static int kw_modules(struct parser *p, char *value)
{
	struct gi_config *c = p->cfg;
	size_t len = strlen(value);
	char q[48];

	if (len == 0 || len > GI_GROUP_MAX ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return fail(p, "module group \"%s\" is not 1 to %d of a-z, 0-9 and _",
			    quote(value, q, sizeof(q)), GI_GROUP_MAX);
	for (size_t i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i], value) == 0)
			return fail(p, "module group %s is named twice", value);
	if (c->ngroups >= GI_GROUPS_MAX)
		return fail(p, "more than %d modules lines", GI_GROUPS_MAX);
	c->groups[c->ngroups++] = value;
	return 0;
}

static int kw_scratch(struct parser *p, char *value)
{
	struct gi_mount *m;

	if (check_path(p, value) < 0 || !(m = add_mount(p)))
		return -1;
	m->kind = GI_MOUNT_SCRATCH;
	m->path = value;
	m->source = "tmpfs";
	m->fstype = "tmpfs";
	/* Everyone may write the temporary directories (with the sticky
	 * bit); the others belong to root like the directories they hide. */
	m->mode = strcmp(value, "/tmp") == 0 || strcmp(value, "/var/tmp") == 0 ? 01777 : 0755;
	return 0;
}

/* Is `ident` already the source of a mount of this kind? */
static bool source_used(struct parser *p, enum gi_mount_kind kind, const char *ident)
{
	for (size_t i = 0; i < p->cfg->nmounts; i++)
		if (p->cfg->mounts[i].kind == kind && strcmp(p->cfg->mounts[i].source, ident) == 0)
			return true;
	return false;
}

static int kw_volume(struct parser *p, char *value)
{
	char *rest = value, q[48];
	char *serial = field(&rest), *fs = field(&rest), *mode = field(&rest), *path = rest;
	struct gi_mount *m;
	bool ro;

	if (!path)
		return fail(p, "volume needs SERIAL FS MODE PATH");
	if (!ident_valid(serial, GI_SERIAL_MAX) || strcmp(serial, "root") == 0)
		return fail(
			p,
			"disk serial \"%s\" is not 1 to %d of A-Z, a-z, 0-9, -, _ and ., or is \"root\"",
			quote(serial, q, sizeof(q)), GI_SERIAL_MAX);
	if (source_used(p, GI_MOUNT_VOLUME, serial))
		return fail(p, "disk serial \"%s\" is used twice", serial);
	if (strcmp(fs, "ext4") != 0)
		return fail(p, "file system \"%s\" is not ext4", quote(fs, q, sizeof(q)));
	if (check_mode(p, mode, &ro) < 0 || check_path(p, path) < 0 || !(m = add_mount(p)))
		return -1;
	m->kind = GI_MOUNT_VOLUME;
	m->path = path;
	m->source = serial;
	m->fstype = "ext4";
	m->readonly = ro;
	return 0;
}

static int kw_share(struct parser *p, char *value)
{
	char *rest = value, q[48];
	char *tag = field(&rest), *mode = field(&rest), *path = rest;
	struct gi_mount *m;
	bool ro;

	if (!path)
		return fail(p, "share needs TAG MODE PATH");
	if (!ident_valid(tag, GI_TAG_MAX))
		return fail(p, "share tag \"%s\" is not 1 to %d of A-Z, a-z, 0-9, -, _ and .",
			    quote(tag, q, sizeof(q)), GI_TAG_MAX);
	if (source_used(p, GI_MOUNT_SHARE, tag))
		return fail(p, "share tag \"%s\" is used twice", tag);
	if (check_mode(p, mode, &ro) < 0 || check_path(p, path) < 0 || !(m = add_mount(p)))
		return -1;
	m->kind = GI_MOUNT_SHARE;
	m->path = path;
	m->source = tag;
	m->fstype = "virtiofs";
	m->readonly = ro;
	return 0;
}

bool gi_ipv4_parse(const char *s, uint32_t *out)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, digits = 0;
		if (i > 0 && *s++ != '.')
			return false;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return false; /* a leading zero: octal to some parsers */
		for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
			v = v * 10 + (unsigned)(*s - '0');
		if (digits == 0 || digits > 3 || v > 255)
			return false;
		a = a << 8 | v;
	}
	if (*s)
		return false;
	*out = a;
	return true;
}

/* "02:xx:xx:xx:xx:xx": six lower-case hex pairs, unicast. */
static bool mac_valid(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	/* The low bit of the first byte marks a multicast address: the
	 * second hex digit is even. */
	return (s[1] >= '0' && s[1] <= '9' ? s[1] - '0' : s[1] - 'a' + 10) % 2 == 0;
}

/* net MAC ADDRESS/PREFIX [GATEWAY] */
static int kw_net(struct parser *p, char *value)
{
	struct gi_config *c = p->cfg;
	char *rest = value, q[48];
	char *mac = field(&rest), *cidr = field(&rest), *gw = field(&rest), *slash, *end;
	uint32_t addr, gaddr = 0, mask;
	unsigned long prefix;
	struct gi_net *n;

	if (!cidr || rest)
		return fail(p, "net needs MAC ADDRESS/PREFIX [GATEWAY]");
	if (!mac_valid(mac))
		return fail(p, "MAC address \"%s\" is not six lower-case hex pairs of a unicast address",
			    quote(mac, q, sizeof(q)));
	for (size_t i = 0; i < c->nnets; i++)
		if (strcmp(c->nets[i].mac, mac) == 0)
			return fail(p, "MAC address %s is used twice", mac);
	slash = strchr(cidr, '/');
	if (!slash)
		return fail(p, "address \"%s\" has no /PREFIX", quote(cidr, q, sizeof(q)));
	*slash = '\0';
	if (!gi_ipv4_parse(cidr, &addr))
		return fail(p, "address \"%s\" is not an IPv4 address", quote(cidr, q, sizeof(q)));
	if (slash[1] < '1' || slash[1] > '9' || (prefix = strtoul(slash + 1, &end, 10), *end) ||
	    prefix > 30)
		return fail(p, "prefix \"%s\" is not 1 to 30", quote(slash + 1, q, sizeof(q)));
	mask = ~(uint32_t)0 << (32 - prefix);
	/* Neither the network's own address nor its broadcast one. */
	if ((addr & ~mask) == 0 || (addr & ~mask) == ~mask)
		return fail(p, "address %s is not a host of its /%lu", cidr, prefix);
	if (gw) {
		if (!gi_ipv4_parse(gw, &gaddr))
			return fail(p, "gateway \"%s\" is not an IPv4 address",
				    quote(gw, q, sizeof(q)));
		if ((gaddr & mask) != (addr & mask) || gaddr == addr || (gaddr & ~mask) == 0 ||
		    (gaddr & ~mask) == ~mask)
			return fail(p, "gateway %s is not another host of %s/%lu", gw, cidr, prefix);
	}
	if (c->nnets >= GI_NETS_MAX)
		return fail(p, "more than %d net lines", GI_NETS_MAX);
	if (grow(p, &c->nets, &p->cap_nets, c->nnets, sizeof(*c->nets)) < 0)
		return -1;
	n = &c->nets[c->nnets++];
	n->mac = mac;
	n->address = addr;
	n->prefix = (unsigned)prefix;
	n->gateway = gaddr;
	return 0;
}

static int kw_env(struct parser *p, char *value)
{
	struct gi_config *c = p->cfg;
	const char *eq = strchr(value, '=');
	size_t n = eq ? (size_t)(eq - value) : 0;
	char q[48];

	/* Names a shell can use: [A-Za-z_][A-Za-z0-9_]*. */
	for (size_t i = 0; i < n; i++)
		if (!((value[i] >= 'A' && value[i] <= 'Z') ||
		      (value[i] >= 'a' && value[i] <= 'z') || value[i] == '_' ||
		      (i > 0 && value[i] >= '0' && value[i] <= '9')))
			n = 0;
	if (n == 0)
		return fail(p, "env \"%s\" is not NAME=VALUE with a name of A-Z, a-z, 0-9 and _",
			    quote(value, q, sizeof(q)));
	/* A later definition replaces an earlier one (and the defaults). */
	for (size_t i = 0; i < c->nenv; i++) {
		if (strncmp(c->env[i], value, n + 1) == 0) {
			c->env[i] = value;
			return 0;
		}
	}
	if (c->nenv >= GI_ENV_MAX)
		return fail(p, "more than %d environment variables", GI_ENV_MAX);
	if (grow(p, &c->env, &p->cap_env, c->nenv, sizeof(*c->env)) < 0)
		return -1;
	c->env[c->nenv++] = value;
	c->env[c->nenv] = NULL;
	return 0;
}

static int kw_display(struct parser *p, char *value)
{
	static const char *const compress[] = {"lz4", "zstd", "none"};
	char q[48], *sp = strchr(value, ' ');

	if (!sp)
		return fail(p, "display needs wayland COMPRESSION");
	*sp = '\0';
	if (strcmp(value, SP_GP_DISPLAY_WAYLAND) != 0)
		return fail(p, "unknown display \"%s\"", quote(value, q, sizeof(q)));
	for (size_t i = 0; i < sizeof(compress) / sizeof(compress[0]); i++)
		if (strcmp(sp + 1, compress[i]) == 0) {
			p->cfg->display = true;
			p->cfg->display_compress = compress[i];
			return 0;
		}
	return fail(p, "unknown compression \"%s\" (lz4, zstd or none)",
		    quote(sp + 1, q, sizeof(q)));
}

static int kw_cmd(struct parser *p, char *value)
{
	struct gi_config *c = p->cfg;

	if (c->ncmds >= GI_CMDS_MAX)
		return fail(p, "more than %d commands", GI_CMDS_MAX);
	if (c->ncmds && c->cmds[c->ncmds - 1].argc == 0)
		return fail(p, "the previous cmd has no arg");
	if (grow(p, &c->cmds, &p->cap_cmds, c->ncmds, sizeof(*c->cmds)) < 0)
		return -1;
	memset(&c->cmds[c->ncmds], 0, sizeof(*c->cmds));
	c->cmds[c->ncmds++].app = (int)c->napps - 1;
	p->cap_args = 0;
	return 0;
}

/* Whether application `app` has a cmd yet. */
static bool app_has_cmd(const struct gi_config *c, int app)
{
	return c->ncmds && c->cmds[c->ncmds - 1].app == app;
}

static int kw_app(struct parser *p, char *value)
{
	struct gi_config *c = p->cfg;
	char q[48];

	if (!sp_gp_app_name_valid(value))
		return fail(p, "app \"%s\" is not a name of 1 to %d of a-z, 0-9 and -",
			    quote(value, q, sizeof(q)), SP_GP_APP_NAME_MAX);
	if (c->ncmds && c->napps == 0)
		return fail(p, "app after a cmd that belongs to no app");
	if (c->napps && !app_has_cmd(c, (int)c->napps - 1))
		return fail(p, "app %s has no cmd", c->apps[c->napps - 1]);
	if (c->ncmds && c->cmds[c->ncmds - 1].argc == 0)
		return fail(p, "the previous cmd has no arg");
	if (c->napps >= GI_APPS_MAX)
		return fail(p, "more than %d apps", GI_APPS_MAX);
	for (size_t i = 0; i < c->napps; i++)
		if (strcmp(c->apps[i], value) == 0)
			return fail(p, "a second app %s", value);
	c->apps[c->napps++] = value;
	return 0;
}

static int kw_arg(struct parser *p, char *value)
{
	struct gi_config *c = p->cfg;
	struct gi_cmd *cmd;

	if (c->ncmds == 0)
		return fail(p, "arg before the first cmd");
	cmd = &c->cmds[c->ncmds - 1];
	/* Commands are executed without a search of PATH. */
	if (cmd->argc == 0 && value[0] != '/')
		return fail(p, "the first arg of a cmd is not an absolute path");
	if (grow(p, &cmd->argv, &p->cap_args, cmd->argc, sizeof(*cmd->argv)) < 0)
		return -1;
	cmd->argv[cmd->argc++] = value;
	cmd->argv[cmd->argc] = NULL;
	return 0;
}

static const struct keyword keywords[] = {
	{SP_GP_KW_VERSION, R_VERSION, true, true, kw_version},
	{SP_GP_KW_HOSTNAME, R_HOSTNAME, true, true, kw_hostname},
	{SP_GP_KW_ROOT, R_ROOT, true, true, kw_root},
	{SP_GP_KW_MODULES, R_MODULES, false, true, kw_modules},
	{SP_GP_KW_SCRATCH, R_SCRATCH, false, true, kw_scratch},
	{SP_GP_KW_VOLUME, R_VOLUME, false, true, kw_volume},
	{SP_GP_KW_SHARE, R_SHARE, false, true, kw_share},
	{SP_GP_KW_NET, R_NET, false, true, kw_net},
	{SP_GP_KW_DISPLAY, R_DISPLAY, true, true, kw_display},
	{SP_GP_KW_ENV, R_ENV, false, true, kw_env},
	{SP_GP_KW_CMD, R_CMD, false, false, kw_cmd},
	{SP_GP_KW_APP, R_CMD, false, true, kw_app},
	{SP_GP_KW_ARG, R_CMD, false, true, kw_arg},
};

/* One line, NUL-terminated in the copy, without its newline. */
static int parse_line(struct parser *p, char *line, size_t len)
{
	const struct keyword *kw = NULL;
	char *sp = memchr(line, ' ', len), *value = NULL, q[48];

	for (size_t i = 0; i < len;) {
		size_t n = utf8_len((const unsigned char *)line + i, len - i);
		if (n == 0 || line[i] == '\0')
			return fail(p, "not UTF-8 text (a NUL or an invalid byte at column %zu)",
				    i + 1);
		i += n;
	}
	if (sp) {
		*sp = '\0';
		value = sp + 1;
	}
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strcmp(line, keywords[i].name) == 0)
			kw = &keywords[i];
	if (p->lineno == 1 && (!kw || kw->rank != R_VERSION))
		return fail(p, "the first line is not \"spectrum-guest 1\"");
	if (!kw)
		return fail(p, "unknown keyword \"%s\"", quote(line, q, sizeof(q)));
	if ((int)kw->rank < p->rank)
		return fail(
			p,
			"%s after %s (the order is spectrum-guest, hostname, root, modules, scratch, volume, share, net, display, env, app and cmd)",
			kw->name, p->last);
	if ((int)kw->rank == p->rank && kw->once)
		return fail(p, "a second %s line", kw->name);
	if (kw->value && !value)
		return fail(p, "%s needs a value", kw->name);
	if (!kw->value && value)
		return fail(p, "%s takes no value", kw->name);
	p->rank = (int)kw->rank;
	p->last = kw->name;
	if (value && unescape(p, value) < 0)
		return -1;
	return kw->parse(p, value);
}

/* Mount order: a parent before its children.  Paths are normalized, so a
 * parent is strictly shorter than its children; a stable sort by length
 * keeps the file order otherwise. */
static void sort_mounts(struct gi_config *c)
{
	for (size_t i = 1; i < c->nmounts; i++) {
		struct gi_mount m = c->mounts[i];
		size_t len = strlen(m.path), j = i;
		for (; j > 0 && strlen(c->mounts[j - 1].path) > len; j--)
			c->mounts[j] = c->mounts[j - 1];
		c->mounts[j] = m;
	}
}

static int parse(struct parser *p, const char *buf, size_t len)
{
	struct gi_config *c = p->cfg;
	size_t pos = 0;

	if (len == 0)
		return fail(p, "empty file (the first line is not \"spectrum-guest 1\")");
	if (len > GI_CONFIG_MAX)
		return fail(p, "larger than %d bytes", GI_CONFIG_MAX);
	c->text = malloc(len + 1);
	if (!c->text)
		return fail(p, "out of memory");
	memcpy(c->text, buf, len);
	c->text[len] = '\0';

	for (size_t i = 0; i < sizeof(default_env) / sizeof(default_env[0]); i++) {
		if (grow(p, &c->env, &p->cap_env, c->nenv, sizeof(*c->env)) < 0)
			return -1;
		/* The defaults are never written to; envp is char *const[]. */
		c->env[c->nenv++] = (char *)default_env[i];
		c->env[c->nenv] = NULL;
	}

	while (pos < len) {
		char *line = c->text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		p->lineno++;
		if (n > GI_LINE_MAX)
			return fail(p, "longer than %d bytes", GI_LINE_MAX);
		if (!nl)
			return fail(p, "no newline at the end of the file");
		*nl = '\0';
		if (parse_line(p, line, n) < 0)
			return -1;
		pos += n + 1;
	}
	p->lineno = 0;
	if (!c->hostname)
		return fail(p, "no hostname line");
	if (!p->have_root)
		return fail(p, "no root line");
	if (c->ncmds == 0)
		return fail(p, "no cmd line");
	if (c->cmds[c->ncmds - 1].argc == 0)
		return fail(p, "the last cmd has no arg");
	if (c->napps && !app_has_cmd(c, (int)c->napps - 1))
		return fail(p, "app %s has no cmd", c->apps[c->napps - 1]);
	sort_mounts(c);
	return 0;
}

int gi_config_parse(const char *buf, size_t len, struct gi_config *cfg, char *err, size_t errlen)
{
	struct parser p = {.cfg = cfg, .err = err, .errlen = errlen, .rank = -1};

	memset(cfg, 0, sizeof(*cfg));
	if (errlen)
		err[0] = '\0';
	return parse(&p, buf, len);
}

void gi_config_free(struct gi_config *cfg)
{
	for (size_t i = 0; i < cfg->ncmds; i++)
		free(cfg->cmds[i].argv);
	free(cfg->cmds);
	free(cfg->env);
	free(cfg->mounts);
	free(cfg->nets);
	free(cfg->text);
	memset(cfg, 0, sizeof(*cfg));
}
