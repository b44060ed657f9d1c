/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "guest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rundir.h"

struct sp_buf {
	char *s;
	size_t len, cap;
};

static void sp_buf_add(struct sp_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = sp_xrealloc(b->s, b->cap, 1);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sp_buf_str(struct sp_buf *b, const char *s)
{
	sp_buf_add(b, s, strlen(s));
}

/* "KEY VALUE\n" with the protocol's escapes: "\n" and "\\". */
static void sp_buf_line(struct sp_buf *b, const char *key, const char *value)
{
	sp_buf_str(b, key);
	if (value) {
		sp_buf_add(b, " ", 1);
		for (const char *p = value; *p; p++) {
			if (*p == '\n')
				sp_buf_add(b, "\\n", 2);
			else if (*p == '\\')
				sp_buf_add(b, "\\\\", 2);
			else
				sp_buf_add(b, p, 1);
		}
	}
	sp_buf_add(b, "\n", 1);
}

static void sp_buf_linef(struct sp_buf *b, const char *key, const char *fmt, ...)
	SP_PRINTF(3, 4);

static void sp_buf_linef(struct sp_buf *b, const char *key, const char *fmt, ...)
{
	char v[2 * SP_GUEST_PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	sp_buf_line(b, key, v);
}

/*
 * The module groups of scripts/guest-kernel.sh the guest needs besides the
 * base list: each costs boot time under emulation, so only what its
 * devices use.
 */
static void sp_guest_modules(struct sp_buf *b, const struct sp_plan *p)
{
	if (p->ndisks)
		sp_buf_line(b, SP_GP_KW_MODULES, "ext4");
	if (p->nshares)
		sp_buf_line(b, SP_GP_KW_MODULES, "share");
	if (p->nnics)
		sp_buf_line(b, SP_GP_KW_MODULES, "net");
	if (p->root.shared)
		sp_buf_line(b, SP_GP_KW_MODULES, "pmem");
	if (p->nusb)
		sp_buf_line(b, SP_GP_KW_MODULES, "usb");
	/* Cloud Hypervisor's control channel is virtio-vsock. */
	if (p->hypervisor == SP_HV_CLOUD_HYPERVISOR)
		sp_buf_line(b, SP_GP_KW_MODULES, "vsock");
}

/* Scratch: what a program expects to write and may lose at the next boot. */
static const char *const sp_scratch[] = {"/run", "/tmp", "/var/tmp", "/home"};

/* A volume or share bound at exactly `path` takes the place of its scratch
 * tmpfs (a persistent /home); bindings below a scratch directory are
 * mounted on top of the tmpfs. */
static bool sp_guest_bound(const struct sp_plan *p, const char *path)
{
	for (size_t i = 0; i < p->ndisks; i++)
		if (strcmp(p->disks[i].guest_path, path) == 0)
			return true;
	for (size_t i = 0; i < p->nshares; i++)
		if (strcmp(p->shares[i].guest_path, path) == 0)
			return true;
	return false;
}

char *sp_guest_config(const struct sp_plan *p)
{
	struct sp_buf b = {0};

	sp_buf_line(&b, SP_GP_KW_VERSION, SP_GP_VERSION);
	sp_buf_line(&b, SP_GP_KW_HOSTNAME, p->instance);
	sp_buf_line(&b, SP_GP_KW_ROOT, p->root.shared ? SP_GP_ROOT_PMEM : SP_GP_ROOT_DISK);
	sp_guest_modules(&b, p);
	for (size_t i = 0; i < sizeof(sp_scratch) / sizeof(sp_scratch[0]); i++)
		if (!sp_guest_bound(p, sp_scratch[i]))
			sp_buf_line(&b, SP_GP_KW_SCRATCH, sp_scratch[i]);
	for (size_t i = 0; i < p->ndisks; i++)
		sp_buf_linef(&b, SP_GP_KW_VOLUME, "vol%zu %s %s %s", i, p->disks[i].fs,
			     sp_mode_name(p->disks[i].mode), p->disks[i].guest_path);
	for (size_t i = 0; i < p->nshares; i++)
		sp_buf_linef(&b, SP_GP_KW_SHARE, "%s %s %s", p->shares[i].tag,
			     sp_mode_name(p->shares[i].mode), p->shares[i].guest_path);
	for (size_t i = 0; i < p->nnics; i++) {
		const struct sp_plan_nic *n = &p->nics[i];
		sp_buf_linef(&b, SP_GP_KW_NET, "%s %s/%u%s%s", n->mac, n->address, n->prefix,
			     n->gateway[0] ? " " : "", n->gateway);
	}
	if (p->display.enabled)
		sp_buf_linef(&b, SP_GP_KW_DISPLAY, SP_GP_DISPLAY_WAYLAND " %s",
			     sp_wl_compress_name(p->display.compress));
	for (size_t i = 0; i < p->nenv; i++)
		sp_buf_linef(&b, SP_GP_KW_ENV, "%s=%s", p->env[i].name, p->env[i].value);
	for (size_t i = 0; i < p->ncommands; i++) {
		/* Several applications: each one's name before its commands,
		 * so that the guest reports each one's end by name. */
		for (size_t k = 0; k < p->napps && p->apps; k++)
			if (p->apps[k].first == i)
				sp_buf_line(&b, SP_GP_KW_APP, p->apps[k].name);
		sp_buf_line(&b, SP_GP_KW_CMD, NULL);
		for (size_t j = 0; j < p->commands[i].argc; j++)
			sp_buf_line(&b, SP_GP_KW_ARG, p->commands[i].argv[j]);
	}
	return b.s;
}

static int sp_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct sp_cpio {
	int fd;
	size_t off;
	unsigned ino;
};

static int sp_cpio_pad(struct sp_cpio *c)
{
	static const char zeros[4] = {0};
	size_t pad = (4 - c->off % 4) % 4;

	c->off += pad;
	return sp_write_all(c->fd, zeros, pad);
}

/* One newc entry (mtime 0, owner root: the archive is reproducible). */
static int sp_cpio_entry(struct sp_cpio *c, const char *name, unsigned mode, const void *data,
			 size_t len)
{
	char hdr[111];
	size_t nlen = strlen(name) + 1;

	snprintf(hdr, sizeof(hdr),
		 "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", c->ino++, mode, 0,
		 0, 1, 0, (unsigned)len, 0, 0, 0, 0, (unsigned)nlen, 0);
	if (sp_write_all(c->fd, hdr, 110) < 0 || sp_write_all(c->fd, name, nlen) < 0)
		return -1;
	c->off += 110 + nlen;
	if (sp_cpio_pad(c) < 0 || (len && sp_write_all(c->fd, data, len) < 0))
		return -1;
	c->off += len;
	return sp_cpio_pad(c);
}

int sp_cpio_write_file(int fd, const char *path, const void *data, size_t len)
{
	struct sp_cpio c = {.fd = fd, .ino = 1};
	char dir[256];

	/* Parent directories first, as the kernel creates entries in order. */
	for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(s - path), path);
		if (sp_cpio_entry(&c, dir, 040755, NULL, 0) < 0)
			return -1;
	}
	if (sp_cpio_entry(&c, path, 0100644, data, len) < 0 ||
	    sp_cpio_entry(&c, "TRAILER!!!", 0, NULL, 0) < 0)
		return -1;
	return 0;
}

static int sp_copy_fd(int in, int out)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || sp_write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/*
 * Written by root in a directory of root's: a temporary made with
 * O_EXCL|O_NOFOLLOW, given its mode (and, in the run directory, the VMM's
 * group) through its descriptor, then renamed.  `dir` names dirfd in
 * messages.
 */
static int sp_guest_initrd_at(const struct sp_plan *p, int dirfd, const char *dir, const char *name,
			      mode_t mode, bool vmm_group, struct sp_err *err)
{
	char tmp[SP_NAME_MAX + 32];
	char *cfg = sp_guest_config(p);
	int in = -1, fd = -1, rc = -1;
	mode_t type;
	off_t end;

	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	in = sp_open_regular(p->base_initrd, O_NOFOLLOW, &type);
	if (in < 0) {
		sp_err_set(
			err,
			"base initramfs %s: %s%s; set the guest kernel up first (scripts/setup.sh)",
			p->base_initrd, type ? "it is " : "",
			type ? sp_file_type_name(type) : strerror(errno));
		goto out;
	}
	fd = sp_rundir_create(dirfd, tmp, O_WRONLY, 0600, err);
	if (fd < 0)
		goto out;
	if (sp_copy_fd(in, fd) < 0 || (vmm_group && fchown(fd, geteuid(), (gid_t)p->vmm_uid) < 0) ||
	    fchmod(fd, mode) < 0) {
		sp_err_set(err, "writing %s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	/* The kernel looks for the next archive at a 4-byte boundary. */
	end = lseek(fd, 0, SEEK_END);
	if (end < 0 || sp_write_all(fd, "\0\0\0", (size_t)((4 - end % 4) % 4)) < 0 ||
	    sp_cpio_write_file(fd, "spectrum/config", cfg, strlen(cfg)) < 0 || fsync(fd) < 0) {
		sp_err_set(err, "writing %s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		sp_err_set(err, "renaming %s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (rc < 0 && fd >= 0)
		unlinkat(dirfd, tmp, 0);
	if (fd >= 0)
		close(fd);
	if (in >= 0)
		close(in);
	free(cfg);
	return rc;
}

/* The VMM reads it by path, as its group, and may not change it. */
int sp_guest_initrd(const struct sp_plan *p, int dirfd, struct sp_err *err)
{
	return sp_guest_initrd_at(p, dirfd, p->run_dir, strrchr(p->initrd, '/') + 1,
				  p->vmm_uid ? 0640 : 0600, p->vmm_uid != 0, err);
}

int sp_guest_initrd_export(const struct sp_plan *p, int dirfd, const char *dir, const char *name,
			   struct sp_err *err)
{
	return sp_guest_initrd_at(p, dirfd, dir, name, 0644, false, err);
}
