/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host devices a plan passes through must be there, and a PCI device must
 * already be bound to vfio-pci, with the rest of its IOMMU group free of
 * host drivers: say so in one line before starting a VMM that would fail
 * with a less helpful message.  SPECTRUM_SYSFS replaces
 * /sys, for tests.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"

static const char *sp_sysfs(void)
{
	const char *s = getenv("SPECTRUM_SYSFS");
	return s && *s ? s : "/sys";
}

/* A number in a sysfs file, in `base`, or `none` if it cannot be read. */
static unsigned sp_read_num(const char *path, int base, unsigned none)
{
	char buf[32], *end;
	unsigned long v;
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return none;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return none;
	errno = 0;
	v = strtoul(buf, &end, base);
	if (errno || end == buf || (*end && *end != '\n') || v > 0xffffffffu)
		return none;
	return (unsigned)v;
}

/* 0x10000: no 16-bit USB id matches it. */
#define sp_read_hex(path) sp_read_num((path), 16, 0x10000)
#define sp_read_dec(path) sp_read_num((path), 10, 0)

static const char *sp_devfs(void)
{
	const char *s = getenv("SPECTRUM_DEVFS");
	return s && *s ? s : "/dev";
}

/* The sysfs directory of a USB device, if it is plugged in. */
static bool sp_usb_find(const struct sp_usb_id *u, char *dir, size_t len)
{
	char path[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (!u->by_id) {
		snprintf(dir, len, "%s/bus/usb/devices/%u-%s", sp_sysfs(), u->bus, u->port);
		return access(dir, F_OK) == 0;
	}
	snprintf(path, sizeof(path), "%s/bus/usb/devices", sp_sysfs());
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char v[PATH_MAX + 300], p[PATH_MAX + 300];
		if (e->d_name[0] == '.')
			continue;
		snprintf(v, sizeof(v), "%s/%s/idVendor", path, e->d_name);
		snprintf(p, sizeof(p), "%s/%s/idProduct", path, e->d_name);
		found = sp_read_hex(v) == u->vendor && sp_read_hex(p) == u->product;
		if (found)
			snprintf(dir, len, "%s/%s", path, e->d_name);
	}
	closedir(d);
	return found;
}

static bool sp_usb_present(const struct sp_usb_id *u)
{
	char dir[PATH_MAX + 300];

	return sp_usb_find(u, dir, sizeof(dir));
}

/*
 * The last component of the symbolic link dir/entry (a driver's or an
 * IOMMU group's name): 0, or -1 with "" when there is no link or the name
 * does not fit (sysfs names are short; a longer one is not trusted).
 */
static int sp_link_name(const char *dir, const char *entry, char *name, size_t len)
{
	char path[PATH_MAX + 300], link[PATH_MAX];
	const char *base;
	ssize_t n;

	name[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, entry);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return -1;
	link[n] = '\0';
	base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strlen(base) >= len)
		return -1;
	memcpy(name, base, strlen(base) + 1);
	return 0;
}

/* The name of the driver bound to the device at `dir`, or "" for none;
 * `name` holds PATH_MAX bytes, so any link's last component fits. */
static void sp_pci_driver(const char *dir, char *name, size_t len)
{
	sp_link_name(dir, "driver", name, len);
}

/* The device's IOMMU group number, from its iommu_group link; -1 if none. */
static int sp_pci_group(const char *address, char *group, size_t len)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices/%s", sp_sysfs(), address);
	return sp_link_name(dir, "iommu_group", group, len);
}

/*
 * VFIO gives a guest a whole IOMMU group or nothing: the kernel refuses
 * the group while any device in it is driven by a host driver (other than
 * vfio-pci, pci-stub or a PCIe port's), and QEMU then fails with "group N
 * is not viable".  Named here instead, with the device to bind.
 */
static int sp_pci_group_check(const struct sp_plan_pci *pci, struct sp_err *err)
{
	char path[PATH_MAX], group[32], driver[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (sp_pci_group(pci->address, group, sizeof(group)) < 0) {
		sp_err_set(
			err,
			"pci device %s (%s) is in no IOMMU group: the host runs without an IOMMU; enable it (intel_iommu=on or amd_iommu=on on the kernel command line, VT-d or AMD-Vi in the firmware)",
			pci->resource, pci->address);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group/devices", sp_sysfs(),
		 pci->address);
	d = opendir(path);
	if (!d)
		return 0; /* the VMM reports what is wrong */
	while ((e = readdir(d))) {
		char dev[PATH_MAX + 300];

		if (e->d_name[0] == '.')
			continue;
		snprintf(dev, sizeof(dev), "%s/%s", path, e->d_name);
		sp_pci_driver(dev, driver, sizeof(driver));
		if (!*driver || strcmp(driver, "vfio-pci") == 0 ||
		    strcmp(driver, "pci-stub") == 0 || strcmp(driver, "pcieport") == 0)
			continue;
		sp_err_set(
			err,
			"pci device %s (%s): its IOMMU group %s also holds %s, bound to %s, and VFIO passes whole groups only; bind that one to vfio-pci too (driverctl set-override %s vfio-pci)",
			pci->resource, pci->address, group, e->d_name, driver, e->d_name);
		closedir(d);
		return -1;
	}
	closedir(d);
	return 0;
}

static int sp_pci_check(const struct sp_plan_pci *pci, struct sp_err *err)
{
	char path[PATH_MAX], driver[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sp_sysfs(), pci->address);
	if (access(path, F_OK) < 0) {
		sp_err_set(err, "pci device %s (%s) does not exist on this host; check the address with lspci -D",
			   pci->resource, pci->address);
		return -1;
	}
	sp_pci_driver(path, driver, sizeof(driver));
	if (strcmp(driver, "vfio-pci") != 0) {
		sp_err_set(err,
			   "pci device %s (%s) is bound to %s, not vfio-pci; bind it first (driverctl set-override %s vfio-pci)",
			   pci->resource, pci->address, *driver ? driver : "no driver", pci->address);
		return -1;
	}
	return sp_pci_group_check(pci, err);
}

int sp_devices_check(const struct sp_plan *p, struct sp_err *err)
{
	for (size_t i = 0; i < p->nusb; i++) {
		const struct sp_usb_id *u = &p->usb[i].id;
		if (sp_usb_present(u))
			continue;
		if (u->by_id)
			sp_err_set(err, "usb device %s (%04x:%04x) is not plugged in; plug it in, or check lsusb",
				   p->usb[i].resource, u->vendor, u->product);
		else
			sp_err_set(err, "usb device %s (bus %u port %s) is not plugged in; check lsusb -t",
				   p->usb[i].resource, u->bus, u->port);
		return -1;
	}
	for (size_t i = 0; i < p->npci; i++)
		if (sp_pci_check(&p->pci[i], err) < 0)
			return -1;
	return 0;
}

/* --- handing device nodes to an unprivileged VMM, and taking them back --- */

/* /dev/bus/usb/BBB/DDD: what the VMM's libusb opens. */
static int sp_usb_node(const struct sp_usb_id *u, char *node, size_t len)
{
	char dir[PATH_MAX + 300], f[PATH_MAX + 400];
	unsigned bus, dev;

	if (!sp_usb_find(u, dir, sizeof(dir)))
		return -1;
	snprintf(f, sizeof(f), "%s/busnum", dir);
	bus = sp_read_dec(f);
	snprintf(f, sizeof(f), "%s/devnum", dir);
	dev = sp_read_dec(f);
	if (!bus || !dev)
		return -1;
	snprintf(node, len, "%s/bus/usb/%03u/%03u", sp_devfs(), bus, dev);
	return 0;
}

/* /dev/vfio/GROUP: what the VMM opens for a PCI device's IOMMU group. */
static int sp_pci_node(const char *address, char *node, size_t len)
{
	char group[32];

	if (sp_pci_group(address, group, sizeof(group)) < 0)
		return -1;
	snprintf(node, len, "%s/vfio/%s", sp_devfs(), group);
	return 0;
}

/*
 * Each node's owner is recorded before it changes, so whoever sees the VM
 * end (spectrum run, spectrumd, or a spectrumd that adopted it) gives it
 * back.  The record is RUN_DIR.devices, beside the instance's directory
 * and not in it: that directory belongs to the VMM, which must not be able
 * to write the list of nodes we chown.
 */
static int sp_grant_one(const struct sp_plan *p, FILE *rec, const char *node, struct sp_err *err)
{
	struct stat st;

	if (stat(node, &st) < 0) {
		sp_err_set(err, "device node %s: %s", node, strerror(errno));
		return -1;
	}
	if (fprintf(rec, "%u %u %s\n", (unsigned)st.st_uid, (unsigned)st.st_gid, node) < 0 ||
	    fflush(rec) != 0 || fsync(fileno(rec)) < 0 ||
	    chown(node, p->vmm_uid, st.st_gid) < 0) {
		sp_err_set(err, "handing %s to the VMM: %s", node, strerror(errno));
		return -1;
	}
	return 0;
}

int sp_devices_grant(const struct sp_plan *p, struct sp_err *err)
{
	char path[PATH_MAX], node[PATH_MAX + 64];
	FILE *rec;
	int rc = 0;

	if (!p->vmm_uid || (!p->nusb && !p->npci))
		return 0;
	snprintf(path, sizeof(path), "%s.devices", p->run_dir);
	rec = fopen(path, "we");
	if (!rec) {
		sp_err_set(err, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < p->nusb && rc == 0; i++) {
		if (sp_usb_node(&p->usb[i].id, node, sizeof(node)) < 0) {
			sp_err_set(err, "usb device %s: cannot find its device node", p->usb[i].resource);
			rc = -1;
		} else {
			rc = sp_grant_one(p, rec, node, err);
		}
	}
	for (size_t i = 0; i < p->npci && rc == 0; i++) {
		if (sp_pci_node(p->pci[i].address, node, sizeof(node)) < 0) {
			sp_err_set(err, "pci device %s: no IOMMU group; is the IOMMU enabled?",
				   p->pci[i].resource);
			rc = -1;
		} else {
			rc = sp_grant_one(p, rec, node, err);
		}
	}
	fclose(rec);
	if (rc < 0)
		sp_devices_release(p->run_dir);
	return rc;
}

void sp_devices_release(const char *run_dir)
{
	char path[PATH_MAX], line[PATH_MAX + 64], node[PATH_MAX + 64];
	unsigned uid, gid;
	FILE *rec;

	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s.devices", run_dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || !(rec = fdopen(fd, "r"))) {
		close(fd);
		return;
	}
	/* Even so, only paths under the device directory are given back. */
	for (int n = 0; n < 64 && fgets(line, sizeof(line), rec); n++) {
		node[0] = '\0';
		if (sscanf(line, "%u %u %4159s", &uid, &gid, node) == 3 &&
		    strncmp(node, sp_devfs(), strlen(sp_devfs())) == 0 && !strstr(node, "/../"))
			if (chown(node, uid, gid) < 0) {
				/* the device may be gone: nothing to give back */
			}
	}
	fclose(rec);
	unlink(path);
}
