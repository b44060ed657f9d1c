/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Domain XML for libvirt's QEMU driver (libvirt 9.0 as shipped by Debian
 * 12), equivalent to the QEMU back end's command line (backend_qemu.c):
 * the same machine, kernel, command line, disks with the same serials and
 * access modes, console and control port, network interfaces and devices.
 *
 * What differs is who opens what: Spectrum's launcher opens every file as
 * root and hands descriptors to a VMM of the instance's own uid; under
 * libvirt, libvirtd opens them and QEMU runs as libvirt's user with the
 * files labelled for it (dynamic_ownership, AppArmor or SELinux).  The
 * root image is the one exception (see sp_lv_root).
 *
 * Every string that reaches the XML (paths, names) goes through sp_lv_str,
 * which escapes it; markup is written with sp_lv_raw, whose only string
 * arguments are constants of this file.  Strings from the data file (an image path) can
 * hold anything; a byte XML 1.0 cannot carry at all (a control character)
 * makes the export fail rather than be mangled.
 */
#include "plan_libvirt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "guest.h"
#include "guestproto.h"
#include "rundir.h"

struct sp_lv {
	FILE *f;
	const struct sp_plan *p;
	const char *dir;
	bool mmio;	 /* microvm: devices on virtio-mmio, not PCI */
	const char *bad; /* the first string XML cannot carry, or NULL */
};

int sp_libvirt_check(const struct sp_plan *p, struct sp_err *err)
{
	if (p->hypervisor != SP_HV_QEMU) {
		sp_err_set(
			err,
			"libvirt takes QEMU plans, and this one is for %s; plan the instance for qemu",
			sp_hv_name(p->hypervisor));
		return -1;
	}
	/* libvirt starts its own virtiofsd, as root, and has no read-only
	 * share: neither the instance's uid nor a read-only binding would
	 * hold. */
	if (p->nshares) {
		sp_err_set(
			err,
			"libvirt cannot take directory share %s (its virtiofsd runs as root, not as the instance's uid, and cannot keep a share read-only); remove the binding to export, or run the instance with spectrum",
			p->shares[0].resource);
		return -1;
	}
	/* The shared root must be read-only in the VMM, and libvirt 9.0 maps
	 * a virtio-pmem file writable: it takes <readonly/> in the device's
	 * target, yet its memory-backend-file has share=on and no readonly
	 * (virsh domxml-to-native shows it). */
	if (p->root.shared) {
		sp_err_set(
			err,
			"libvirt cannot map the root image read-only through virtio-pmem (shareRoot); set shareRoot to false to export");
		return -1;
	}
	for (size_t i = 0; i < p->nusb; i++) {
		if (!p->usb[i].id.by_id) {
			sp_err_set(
				err,
				"libvirt cannot name usb device %s by bus and port, only by a device number that changes at each plug; name it by vendor and product to export",
				p->usb[i].resource);
			return -1;
		}
	}
	return 0;
}

/* Markup only: no string argument ever comes from the plan. */
static void sp_lv_raw(struct sp_lv *x, const char *fmt, ...) SP_PRINTF(2, 3);

static void sp_lv_raw(struct sp_lv *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(x->f, fmt, ap);
	va_end(ap);
}

/* Text or an attribute value (quoted with '), escaped. */
static void sp_lv_str(struct sp_lv *x, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		switch (*c) {
		case '&':
			fputs("&amp;", x->f);
			break;
		case '<':
			fputs("&lt;", x->f);
			break;
		case '>':
			fputs("&gt;", x->f);
			break;
		case '\'':
			fputs("&apos;", x->f);
			break;
		case '"':
			fputs("&quot;", x->f);
			break;
		default:
			if (*c < 0x20 || *c == 0x7f) {
				/* Not even a character reference may name these
				 * in XML 1.0. */
				if (!x->bad)
					x->bad = s;
				break;
			}
			fputc(*c, x->f);
		}
	}
}

/* <tag>TEXT</tag> on a line of its own. */
static void sp_lv_elem(struct sp_lv *x, int indent, const char *tag, const char *text)
{
	sp_lv_raw(x, "%*s<%s>", indent, "", tag);
	sp_lv_str(x, text);
	sp_lv_raw(x, "</%s>\n", tag);
}

/* DIR/INSTANCE.SUFFIX as an escaped string. */
static void sp_lv_file(struct sp_lv *x, const char *suffix)
{
	sp_lv_str(x, x->dir);
	sp_lv_raw(x, "/");
	sp_lv_str(x, x->p->instance);
	sp_lv_raw(x, ".%s", suffix);
}

static const char *sp_lv_arch(enum sp_arch a)
{
	switch (a) {
	case SP_ARCH_X86_64:
		return "x86_64";
	case SP_ARCH_PPC64LE:
		return "ppc64le";
	case SP_ARCH_AARCH64:
		return "aarch64";
	}
	return "";
}

/* The machine of backend_qemu.c.  pseries boots through libvirt's
 * default firmware (SLOF): libvirt has no switch for QEMU's VOF. */
static const char *sp_lv_machine(const struct sp_plan *p)
{
	switch (p->arch) {
	case SP_ARCH_X86_64:
		return sp_qemu_microvm(p) ? "microvm" : "q35";
	case SP_ARCH_PPC64LE:
		return "pseries";
	case SP_ARCH_AARCH64:
		return "virt";
	}
	return "";
}

static void sp_lv_os(struct sp_lv *x)
{
	const struct sp_plan *p = x->p;
	char *cmdline = sp_backend_cmdline(p, sp_qemu_console(p->arch));

	sp_lv_raw(x, "  <os>\n    <type arch='%s' machine='%s'>hvm</type>\n", sp_lv_arch(p->arch),
		  sp_lv_machine(p));
	sp_lv_elem(x, 4, "kernel", p->kernel);
	sp_lv_raw(x, "    <initrd>");
	sp_lv_file(x, "initrd");
	sp_lv_raw(x, "</initrd>\n");
	sp_lv_elem(x, 4, "cmdline", cmdline);
	sp_lv_raw(x, "  </os>\n");
	free(cmdline);
}

/* -accel and -cpu of backend_qemu.c; x86 under TCG keeps QEMU's default
 * CPU (qemu64), as Spectrum does.  The ACPI of x86 machines is their
 * power-off path; -no-reboot is on_reboot. */
static void sp_lv_cpu_features(struct sp_lv *x)
{
	const struct sp_plan *p = x->p;

	if (p->accel == SP_ACCEL_KVM)
		sp_lv_raw(x, "  <cpu mode='host-passthrough'/>\n");
	else if (p->arch == SP_ARCH_PPC64LE)
		sp_lv_raw(x, "  <cpu>\n    <model>POWER9</model>\n  </cpu>\n");
	else if (p->arch == SP_ARCH_AARCH64)
		sp_lv_raw(x, "  <cpu mode='maximum'/>\n");
	if (p->arch == SP_ARCH_X86_64 || p->arch == SP_ARCH_AARCH64 || p->tb_mib)
		sp_lv_raw(x, "  <features>\n");
	if (p->arch == SP_ARCH_X86_64)
		sp_lv_raw(x, "    <acpi/>\n");
	else if (p->arch == SP_ARCH_AARCH64)
		sp_lv_raw(x, "    <gic version='%s'/>\n", p->accel == SP_ACCEL_KVM ? "host" : "3");
	/* -accel tcg,tb-size=N */
	if (p->tb_mib)
		sp_lv_raw(x, "    <tcg>\n      <tb-cache unit='MiB'>%u</tb-cache>\n    </tcg>\n",
			  p->tb_mib);
	if (p->arch == SP_ARCH_X86_64 || p->arch == SP_ARCH_AARCH64 || p->tb_mib)
		sp_lv_raw(x, "  </features>\n");
	sp_lv_raw(x, "  <on_poweroff>destroy</on_poweroff>\n"
		     "  <on_reboot>destroy</on_reboot>\n"
		     "  <on_crash>destroy</on_crash>\n");
}

static void sp_lv_address(struct sp_lv *x)
{
	if (x->mmio)
		sp_lv_raw(x, "      <address type='virtio-mmio'/>\n");
}

/* vda, vdb, ... vdz, vdaa: libvirt's names, in the order of the serials. */
static void sp_lv_target(struct sp_lv *x, size_t i)
{
	char name[8];
	size_t n = 0;

	for (size_t v = i + 1; v; v = (v - 1) / 26)
		n++;
	name[n] = '\0';
	for (size_t v = i + 1; v; v = (v - 1) / 26)
		name[--n] = (char)('a' + (v - 1) % 26);
	sp_lv_raw(x, "      <target dev='vd%s' bus='virtio'/>\n", name);
}

static void sp_lv_disk(struct sp_lv *x, size_t index, const char *file, const char *serial, bool ro,
		       bool keep_owner, bool transient)
{
	sp_lv_raw(x, "    <disk type='file' device='disk'>\n"
		     "      <driver name='qemu' type='raw'/>\n"
		     "      <source file='");
	sp_lv_str(x, file);
	if (keep_owner)
		sp_lv_raw(x, "'>\n        <seclabel model='dac' relabel='no'/>\n      </source>\n");
	else
		sp_lv_raw(x, "'/>\n");
	sp_lv_target(x, index);
	sp_lv_elem(x, 6, "serial", serial);
	if (ro)
		sp_lv_raw(x, "      <readonly/>\n");
	/* A disposable instance's writes go to libvirt's own throwaway
	 * overlay, deleted when the domain stops: the volume is not written,
	 * as with Spectrum's qcow2 layer. */
	if (transient)
		sp_lv_raw(x, "      <transient/>\n");
	sp_lv_address(x);
	sp_lv_raw(x, "    </disk>\n");
}

/*
 * The root, read-only at the hypervisor.  libvirt would chown it to its
 * QEMU user and, for a read-only disk, never give it back: the image is
 * shared by every instance of its application (Spectrum's and libvirt's),
 * and its owner could write it.  It is world-readable (spectrum-image
 * makes it 0644), so libvirt leaves its owner alone.
 */
static void sp_lv_root(struct sp_lv *x)
{
	sp_lv_disk(x, 0, x->p->root.image, "root", true, true, false);
}

static void sp_lv_disks(struct sp_lv *x)
{
	for (size_t i = 0; i < x->p->ndisks; i++) {
		const struct sp_plan_disk *d = &x->p->disks[i];
		char serial[32];
		snprintf(serial, sizeof(serial), "vol%zu", i);
		sp_lv_disk(x, i + 1, d->image, serial, d->mode != SP_MODE_RW, false, d->overlay != NULL);
	}
}

/* The segment's bridge; libvirt makes the tap (named vnetN) and adds it. */
static void sp_lv_nics(struct sp_lv *x)
{
	for (size_t i = 0; i < x->p->nnics; i++) {
		const struct sp_plan_nic *n = &x->p->nics[i];
		sp_lv_raw(x, "    <interface type='bridge'>\n      <source bridge='");
		sp_lv_str(x, n->bridge);
		sp_lv_raw(x, "'/>\n      <mac address='");
		sp_lv_str(x, n->mac);
		sp_lv_raw(x, "'/>\n      <model type='virtio'/>\n");
		sp_lv_address(x);
		sp_lv_raw(x, "    </interface>\n");
	}
}

/* managed='no': as for Spectrum, the device must already be bound to
 * vfio-pci; libvirt does not take it from its host driver. */
static int sp_lv_passthrough(struct sp_lv *x, struct sp_err *err)
{
	const struct sp_plan *p = x->p;

	for (size_t i = 0; i < p->nusb; i++)
		sp_lv_raw(x,
			  "    <hostdev mode='subsystem' type='usb'>\n"
			  "      <source>\n        <vendor id='0x%04x'/>\n"
			  "        <product id='0x%04x'/>\n      </source>\n    </hostdev>\n",
			  p->usb[i].id.vendor, p->usb[i].id.product);
	for (size_t i = 0; i < p->npci; i++) {
		unsigned dom, bus, slot, fn;
		char end;
		if (sscanf(p->pci[i].address, "%4x:%2x:%2x.%1x%c", &dom, &bus, &slot, &fn, &end) !=
		    4) {
			sp_err_set(err, "pci device %s: address %s is not DDDD:BB:SS.F",
				   p->pci[i].resource, p->pci[i].address);
			return -1;
		}
		sp_lv_raw(
			x,
			"    <hostdev mode='subsystem' type='pci' managed='no'>\n"
			"      <source>\n        <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
			"      </source>\n    </hostdev>\n",
			dom, bus, slot, fn);
	}
	return 0;
}

/*
 * The console: the first serial port (ttyS0, hvc0 or ttyAMA0, as for
 * QEMU), a pty for `virsh console`, its bytes appended to
 * DIR/INSTANCE.console.log by virtlogd.  The control port keeps its name;
 * its host end is a file, DIR/INSTANCE.control.log, so that spectrum-init,
 * which waits for the host end to be open, finds it so at once with no
 * supervisor: the guest's "ready", "exit N" and "error" lines are kept
 * there.
 */
static void sp_lv_channels(struct sp_lv *x)
{
	if (x->mmio)
		sp_lv_raw(x, "    <controller type='virtio-serial' index='0'>\n"
			     "      <address type='virtio-mmio'/>\n    </controller>\n");
	else
		sp_lv_raw(x, "    <controller type='virtio-serial' index='0'/>\n");
	sp_lv_raw(x, "    <serial type='pty'>\n      <log file='");
	sp_lv_file(x, "console.log");
	sp_lv_raw(x, "' append='on'/>\n      <target port='0'/>\n    </serial>\n");
	sp_lv_raw(x, "    <channel type='file'>\n      <source path='");
	sp_lv_file(x, "control.log");
	sp_lv_raw(x, "' append='on'/>\n      <target type='virtio' name='%s'/>\n    </channel>\n",
		  SP_GP_PORT);
}

static int sp_lv_devices(struct sp_lv *x, struct sp_err *err)
{
	sp_lv_raw(x, "  <devices>\n");
	sp_lv_root(x);
	sp_lv_disks(x);
	sp_lv_nics(x);
	if (sp_lv_passthrough(x, err) < 0)
		return -1;
	sp_lv_channels(x);
	/* -nodefaults: no USB bus but for passthrough, no balloon but the
	 * plan's (libvirt adds no display unless asked). */
	sp_lv_raw(x, "    <controller type='usb' model='%s'/>\n",
		  x->p->nusb ? "qemu-xhci" : "none");
	if (x->p->balloon && x->mmio)
		sp_lv_raw(x, "    <memballoon model='virtio' freePageReporting='on'>\n"
			     "      <address type='virtio-mmio'/>\n    </memballoon>\n");
	else if (x->p->balloon)
		sp_lv_raw(x, "    <memballoon model='virtio' freePageReporting='on'/>\n");
	else
		sp_lv_raw(x, "    <memballoon model='none'/>\n");
	sp_lv_raw(x, "  </devices>\n");
	return 0;
}

static int sp_lv_domain(struct sp_lv *x, struct sp_err *err)
{
	const struct sp_plan *p = x->p;

	/* A comment carries no escape (and no "--"): constant text only. */
	sp_lv_raw(x, "<!-- A Spectrum instance, exported by spectrum plan: see \"Export to\n"
		     "     libvirt\" in spectrum(1) for what is not carried over. -->\n");
	sp_lv_raw(x, "<domain type='%s'>\n", p->accel == SP_ACCEL_KVM ? "kvm" : "qemu");
	sp_lv_elem(x, 2, "name", p->instance);
	sp_lv_raw(x, "  <description>Spectrum instance of application ");
	sp_lv_str(x, p->application);
	sp_lv_raw(x, "</description>\n");
	sp_lv_raw(x, "  <memory unit='MiB'>%llu</memory>\n  <vcpu>%u</vcpu>\n",
		  (unsigned long long)p->memory_mib, p->vcpus);
	sp_lv_os(x);
	sp_lv_cpu_features(x);
	if (sp_lv_devices(x, err) < 0)
		return -1;
	sp_lv_raw(x, "</domain>\n");
	return 0;
}

/* The string shown with '?' for what the terminal must not get. */
static void sp_lv_bad(const char *s, struct sp_err *err)
{
	char shown[256];
	size_t n = 0;

	for (; *s && n + 1 < sizeof(shown); s++, n++)
		shown[n] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	shown[n] = '\0';
	sp_err_set(err,
		   "'%s' holds a control character, which XML cannot carry; rename it to export",
		   shown);
}

char *sp_libvirt_xml(const struct sp_plan *p, const char *dir, struct sp_err *err)
{
	struct sp_lv x = {.p = p, .dir = dir, .mmio = sp_qemu_microvm(p)};
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (sp_libvirt_check(p, err) < 0)
		return NULL;
	x.f = open_memstream(&out, &len);
	if (!x.f) {
		sp_err_set(err, "out of memory");
		return NULL;
	}
	rc = sp_lv_domain(&x, err);
	if (fclose(x.f) != 0 && rc == 0) {
		sp_err_set(err, "out of memory");
		rc = -1;
	}
	if (rc == 0 && x.bad) {
		sp_lv_bad(x.bad, err);
		rc = -1;
	}
	if (rc < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* DIR/INSTANCE.xml: a temporary made with O_EXCL|O_NOFOLLOW (no link
 * planted in DIR is followed), then renamed over the old one. */
static int sp_lv_write_xml(const struct sp_plan *p, int dirfd, const char *dir, const char *xml,
			   struct sp_err *err)
{
	char name[SP_NAME_MAX + 16], tmp[SP_NAME_MAX + 32];
	size_t len = strlen(xml);
	int fd;

	snprintf(name, sizeof(name), "%s.xml", p->instance);
	snprintf(tmp, sizeof(tmp), "%s.xml.tmp", p->instance);
	fd = sp_rundir_create(dirfd, tmp, O_WRONLY, 0644, err);
	if (fd < 0) {
		sp_err_wrap(err, "%s", dir);
		return -1;
	}
	if (write(fd, xml, len) != (ssize_t)len || fchmod(fd, 0644) < 0 || fsync(fd) < 0 ||
	    renameat(dirfd, tmp, dirfd, name) < 0) {
		sp_err_set(err, "writing %s/%s: %s", dir, name, strerror(errno));
		unlinkat(dirfd, tmp, 0);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int sp_libvirt_write(const struct sp_plan *p, const char *dir, const char *xml, struct sp_err *err)
{
	char name[SP_NAME_MAX + 16];
	int dirfd, rc;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		sp_err_set(err, "cannot make %s: %s; make its parent first", dir, strerror(errno));
		return -1;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		sp_err_set(err, "cannot open %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(name, sizeof(name), "%s.initrd", p->instance);
	rc = sp_guest_initrd_export(p, dirfd, dir, name, err);
	if (rc == 0 && xml)
		rc = sp_lv_write_xml(p, dirfd, dir, xml, err);
	close(dirfd);
	return rc;
}
