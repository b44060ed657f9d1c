/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host devices a plan passes through must be there, and a PCI device must
 * already be bound to vfio-pci: say so in one line before starting a VMM
 * that would fail with a less helpful message.  SPECTRUM_SYSFS replaces
 * /sys, for tests.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

static const char *sp_sysfs(void)
{
	const char *s = getenv("SPECTRUM_SYSFS");
	return s && *s ? s : "/sys";
}

static unsigned sp_read_hex(const char *path)
{
	unsigned v = 0x10000;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%x", &v) != 1)
			v = 0x10000;
		fclose(f);
	}
	return v;
}

static bool sp_usb_present(const struct sp_usb_id *u)
{
	char path[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (!u->by_id) {
		snprintf(path, sizeof(path), "%s/bus/usb/devices/%u-%s", sp_sysfs(), u->bus, u->port);
		return access(path, F_OK) == 0;
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
	}
	closedir(d);
	return found;
}

static int sp_pci_check(const struct sp_plan_pci *pci, struct sp_err *err)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *driver;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sp_sysfs(), pci->address);
	if (access(path, F_OK) < 0) {
		sp_err_set(err, "pci device %s (%s) does not exist on this host; check the address with lspci -D",
			   pci->resource, pci->address);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", sp_sysfs(), pci->address);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	driver = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strcmp(driver, "vfio-pci") != 0) {
		sp_err_set(err,
			   "pci device %s (%s) is bound to %s, not vfio-pci; bind it first (driverctl set-override %s vfio-pci)",
			   pci->resource, pci->address, *driver ? driver : "no driver", pci->address);
		return -1;
	}
	return 0;
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
