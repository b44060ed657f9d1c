/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Host devices a plan passes through must be there, and a PCI device must
 * already be bound to vfio-pci, with the rest of its IOMMU group free of
 * host drivers: say so in one line before starting a VMM that would fail
 * with a less helpful message.  A device is held by one instance at a
 * time, whichever resource names it: it is compared as the host resolves
 * it, and its node is handed to one VMM at a time.  SPECTRUM_SYSFS
 * replaces /sys and SPECTRUM_DEVFS /dev, for tests.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
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

/* --- which host device each passed-through device is --- */

/* A device node's path: the device directory and a few short names. */
#define SP_NODE_MAX 512

/*
 * One device a plan passes through, as the configuration names it and as
 * the host resolves it now: the node its VMM opens (for a PCI device, its
 * IOMMU group's), and for USB the vendor:product of the device found.
 */
struct sp_dev {
	const char *kind; /* "usb" or "pci" */
	const char *resource;
	char name[64];		  /* 1050:0407, bus 3 port 2.1, 0000:01:00.0 */
	char node[SP_NODE_MAX];	  /* "" when not found */
	char group[32];		  /* pci: the IOMMU group, else "" */
	bool by_id;		  /* usb: named by vendor:product */
	unsigned vendor, product; /* usb: 0x10000 when not known */
};

/* /dev/bus/usb/BBB/DDD, what the VMM's libusb opens, and the device's
 * vendor:product (a device named by its port has one too). */
static void sp_usb_resolve(const struct sp_usb_id *u, struct sp_dev *dev)
{
	char dir[PATH_MAX + 300], f[PATH_MAX + 400];
	unsigned bus, num;
	int n;

	dev->vendor = u->by_id ? u->vendor : 0x10000;
	dev->product = u->by_id ? u->product : 0x10000;
	if (!sp_usb_find(u, dir, sizeof(dir)))
		return;
	if (!u->by_id) {
		snprintf(f, sizeof(f), "%s/idVendor", dir);
		dev->vendor = sp_read_hex(f);
		snprintf(f, sizeof(f), "%s/idProduct", dir);
		dev->product = sp_read_hex(f);
	}
	snprintf(f, sizeof(f), "%s/busnum", dir);
	bus = sp_read_dec(f);
	snprintf(f, sizeof(f), "%s/devnum", dir);
	num = sp_read_dec(f);
	if (!bus || !num || bus > 999 || num > 999)
		return;
	n = snprintf(dev->node, sizeof(dev->node), "%s/bus/usb/%03u/%03u", sp_devfs(), bus, num);
	if (n < 0 || (size_t)n >= sizeof(dev->node))
		dev->node[0] = '\0';
}

/* /dev/vfio/GROUP: what the VMM opens for a PCI device's IOMMU group. */
static void sp_pci_resolve(const char *address, struct sp_dev *dev)
{
	int n;

	if (sp_pci_group(address, dev->group, sizeof(dev->group)) < 0)
		return;
	n = snprintf(dev->node, sizeof(dev->node), "%s/vfio/%s", sp_devfs(), dev->group);
	if (n < 0 || (size_t)n >= sizeof(dev->node))
		dev->node[0] = '\0';
}

/* The plan's devices, USB first; at most SP_LIMIT_BINDINGS (one per
 * binding). */
static size_t sp_plan_devs(const struct sp_plan *p, struct sp_dev *devs)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nusb && n < SP_LIMIT_BINDINGS; i++, n++) {
		devs[n] = (struct sp_dev){
			.kind = "usb", .resource = p->usb[i].resource, .by_id = p->usb[i].id.by_id};
		sp_usb_id_name(&p->usb[i].id, devs[n].name, sizeof(devs[n].name));
		sp_usb_resolve(&p->usb[i].id, &devs[n]);
	}
	for (size_t i = 0; i < p->npci && n < SP_LIMIT_BINDINGS; i++, n++) {
		devs[n] = (struct sp_dev){.kind = "pci", .resource = p->pci[i].resource};
		snprintf(devs[n].name, sizeof(devs[n].name), "%s", p->pci[i].address);
		sp_pci_resolve(p->pci[i].address, &devs[n]);
	}
	return n;
}

/*
 * Whether our device `m` is one the running instance `holder` passes as
 * `h`: the same name (a PCI address is always in its long form); the same
 * node (one USB device named two ways, or one IOMMU group: VFIO passes
 * whole groups); or one vendor:product where either names the device by
 * it, as the VMM then takes whichever such device it finds first.
 */
static bool sp_dev_clash(const struct sp_dev *m, const struct sp_dev *h, const char *holder,
			 struct sp_err *err)
{
	char as[128] = "";

	if (strcmp(m->kind, h->kind) != 0)
		return false;
	if (strcmp(m->resource, h->resource) != 0)
		snprintf(as, sizeof(as), " (as resource %s)", h->resource);
	if (strcmp(m->name, h->name) == 0) {
		sp_err_set(
			err,
			"%s device %s (resource %s) is held by running instance %s%s; a device is passed to one instance at a time: stop that instance first",
			m->kind, m->name, m->resource, holder, as);
		return true;
	}
	if (*m->group && strcmp(m->node, h->node) == 0) {
		sp_err_set(
			err,
			"pci device %s (resource %s) is held by running instance %s: it is in IOMMU group %s with %s (resource %s), and VFIO passes whole groups; stop that instance first",
			m->name, m->resource, holder, m->group, h->name, h->resource);
		return true;
	}
	if (*m->group)
		return false;
	if ((*m->node && strcmp(m->node, h->node) == 0) ||
	    ((m->by_id || h->by_id) && m->vendor < 0x10000 && m->product < 0x10000 &&
	     m->vendor == h->vendor && m->product == h->product)) {
		sp_err_set(
			err,
			"usb device %s (resource %s) is held by running instance %s, as %s (resource %s): %s; stop that instance first",
			m->name, m->resource, holder, h->name, h->resource,
			*m->node && strcmp(m->node, h->node) == 0 ?
				"both are the same device" :
				"the VMM takes the first device of a vendor:product, so one such device is passed at a time");
		return true;
	}
	return false;
}

int sp_devices_exclusive(const struct sp_plan *p, const struct sp_plan *holder, struct sp_err *err)
{
	struct sp_dev mine[SP_LIMIT_BINDINGS], theirs[SP_LIMIT_BINDINGS];
	size_t nmine, ntheirs;

	if (!(p->nusb + p->npci) || !(holder->nusb + holder->npci))
		return 0;
	nmine = sp_plan_devs(p, mine);
	ntheirs = sp_plan_devs(holder, theirs);
	for (size_t i = 0; i < nmine; i++)
		for (size_t j = 0; j < ntheirs; j++)
			if (sp_dev_clash(&mine[i], &theirs[j], holder->instance, err))
				return -1;
	return 0;
}

/* --- handing device nodes to an unprivileged VMM, and taking them back --- */

/*
 * Each node's owner is recorded before it changes, so whoever sees the VM
 * end (spectrum run, spectrumd, or a spectrumd that adopted it) gives it
 * back.  The record is RUN_DIR.devices, beside the instance's directory
 * and not in it: that directory belongs to the VMM, which must not be able
 * to write the list of nodes we chown.  All instances' records are in one
 * directory, so a grant sees every node already handed to another VMM.
 */
#define SP_RECORD_SUFFIX ".devices"
#define SP_RECORD_LINES 64

struct sp_grant {
	const struct sp_dev *dev;
	char node[SP_NODE_MAX];
	unsigned uid, gid;
};

/* The directory of the records and our record's name in it. */
static int sp_record_place(const char *run_dir, char *dir, size_t dlen, char *name, size_t nlen)
{
	const char *slash = strrchr(run_dir, '/');
	int n;

	if (!slash || !slash[1])
		return -1;
	n = snprintf(dir, dlen, "%.*s", (int)(slash - run_dir), run_dir);
	if (n < 0 || (size_t)n >= dlen)
		return -1;
	if (!*dir)
		snprintf(dir, dlen, "/");
	n = snprintf(name, nlen, "%s%s", slash + 1, SP_RECORD_SUFFIX);
	return n < 0 || (size_t)n >= nlen ? -1 : 0;
}

/*
 * Grants and releases of every instance, by spectrum run or spectrumd,
 * take turns on a lock on the records' directory: a grant reads the
 * others' records and writes its own as one step, so two starts at once
 * cannot both hand out one node.  Returns the directory's fd, which holds
 * the lock until closed.
 */
static int sp_records_lock(const char *dir)
{
	return sp_flock_wait(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

/*
 * A record is what we chown by, so it is only believed if it is a regular
 * file of ours that no one else may write, opened without following a
 * link or blocking on a FIFO.
 */
static FILE *sp_record_open(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	return f;
}

/* A node we may hand out or give back: under the device directory, with
 * no ".." to climb out of it. */
static bool sp_node_ours(const char *node)
{
	size_t len = strlen(sp_devfs());

	return strncmp(node, sp_devfs(), len) == 0 && node[len] == '/' && !strstr(node, "/..");
}

/* One line of a record: "UID GID NODE". */
static bool sp_record_line(const char *line, struct sp_grant *g)
{
	g->node[0] = '\0';
	return sscanf(line, "%u %u %511s", &g->uid, &g->gid, g->node) == 3 && sp_node_ours(g->node);
}

/* Gives back the nodes a record lists, then removes it. */
static void sp_record_restore(int dirfd, const char *name)
{
	char line[SP_NODE_MAX + 64];
	struct sp_grant g;
	FILE *f = sp_record_open(dirfd, name);

	if (!f)
		return;
	for (int n = 0; n < SP_RECORD_LINES && fgets(line, sizeof(line), f); n++)
		if (sp_record_line(line, &g) &&
		    fchownat(AT_FDCWD, g.node, g.uid, g.gid, AT_SYMLINK_NOFOLLOW) < 0) {
			/* the device may be gone: nothing to give back */
		}
	fclose(f);
	unlinkat(dirfd, name, 0);
}

/*
 * The nodes to hand over, each once (the functions of a GPU share one
 * VFIO group node; handing it over twice would record the VMM as its
 * owner), with their owners now.
 */
static int sp_grants_collect(const struct sp_dev *devs, size_t n, struct sp_grant *g, size_t *ng,
			     struct sp_err *err)
{
	struct stat st;
	bool seen;

	*ng = 0;
	for (size_t i = 0; i < n; i++) {
		seen = false;
		for (size_t j = 0; j < *ng && !seen; j++)
			seen = strcmp(g[j].node, devs[i].node) == 0;
		if (seen)
			continue;
		if (lstat(devs[i].node, &st) < 0) {
			sp_err_set(err, "device node %s: %s", devs[i].node, strerror(errno));
			return -1;
		}
		if (S_ISLNK(st.st_mode)) {
			sp_err_set(err, "device node %s is a symbolic link; not handing it out",
				   devs[i].node);
			return -1;
		}
		g[*ng] = (struct sp_grant){.dev = &devs[i], .uid = st.st_uid, .gid = st.st_gid};
		snprintf(g[*ng].node, sizeof(g[*ng].node), "%s", devs[i].node);
		(*ng)++;
	}
	return 0;
}

/* Does a record list one of our nodes?  Names the device and holder. */
static bool sp_record_holds(FILE *f, const char *name, const struct sp_grant *g, size_t ng,
			    const char *dir, struct sp_err *err)
{
	char line[SP_NODE_MAX + 64];
	struct sp_grant r;

	for (int n = 0; n < SP_RECORD_LINES && fgets(line, sizeof(line), f); n++) {
		if (!sp_record_line(line, &r))
			continue;
		for (size_t i = 0; i < ng; i++) {
			if (strcmp(r.node, g[i].node) != 0)
				continue;
			sp_err_set(
				err,
				"%s device %s (resource %s) is held by instance %.*s: %s is handed to its VMM (%s/%s); stop that instance first",
				g[i].dev->kind, g[i].dev->name, g[i].dev->resource,
				(int)(strlen(name) - strlen(SP_RECORD_SUFFIX)), name, g[i].node,
				dir, name);
			return true;
		}
	}
	return false;
}

/* Refuses nodes that another instance's record lists. */
static int sp_records_check(int dirfd, const char *dir, const char *ours, const struct sp_grant *g,
			    size_t ng, struct sp_err *err)
{
	int fd = dup(dirfd);
	struct dirent *e;
	bool held = false;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		sp_err_set(err, "%s: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(d);
	while (!held && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		FILE *f;

		if (len <= strlen(SP_RECORD_SUFFIX) ||
		    strcmp(e->d_name + len - strlen(SP_RECORD_SUFFIX), SP_RECORD_SUFFIX) != 0 ||
		    strcmp(e->d_name, ours) == 0 || !(f = sp_record_open(dirfd, e->d_name)))
			continue;
		held = sp_record_holds(f, e->d_name, g, ng, dir, err);
		fclose(f);
	}
	closedir(d);
	return held ? -1 : 0;
}

/*
 * Writes the record whole under a temporary name (made new: O_EXCL, no
 * link followed, 0600) and renames it into place, so a record is never
 * read half-written.
 */
static int sp_record_write(int dirfd, const char *dir, const char *name, const struct sp_grant *g,
			   size_t ng, struct sp_err *err)
{
	char tmp[NAME_MAX + 8];
	FILE *f;
	int fd;
	bool ok;

	snprintf(tmp, sizeof(tmp), "%s.new", name);
	unlinkat(dirfd, tmp, 0); /* left by a crash: records change under the lock only */
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		sp_err_set(err, "%s/%s: %s", dir, tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlinkat(dirfd, tmp, 0);
		}
		return -1;
	}
	ok = true;
	for (size_t i = 0; i < ng && ok; i++)
		ok = fprintf(f, "%u %u %s\n", g[i].uid, g[i].gid, g[i].node) > 0;
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok || renameat(dirfd, tmp, dirfd, name) < 0) {
		sp_err_set(err, "writing %s/%s: %s", dir, name, strerror(errno));
		unlinkat(dirfd, tmp, 0);
		return -1;
	}
	return 0;
}

/* Each node's owner is recorded, so handing it to the VMM's uid (keeping
 * its group) can be undone. */
static int sp_grants_hand(const struct sp_grant *g, size_t ng, uid_t uid, struct sp_err *err)
{
	for (size_t i = 0; i < ng; i++)
		if (fchownat(AT_FDCWD, g[i].node, uid, g[i].gid, AT_SYMLINK_NOFOLLOW) < 0) {
			sp_err_set(err, "handing %s to the VMM: %s", g[i].node, strerror(errno));
			return -1;
		}
	return 0;
}

/* Every device must have a node to hand over. */
static int sp_devs_found(const struct sp_dev *devs, size_t n, struct sp_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (*devs[i].node)
			continue;
		if (*devs[i].kind == 'u')
			sp_err_set(err, "usb device %s: cannot find its device node",
				   devs[i].resource);
		else
			sp_err_set(err, "pci device %s: no IOMMU group; is the IOMMU enabled?",
				   devs[i].resource);
		return -1;
	}
	return 0;
}

int sp_devices_grant(const struct sp_plan *p, struct sp_err *err)
{
	struct sp_dev devs[SP_LIMIT_BINDINGS];
	struct sp_grant g[SP_LIMIT_BINDINGS];
	char dir[PATH_MAX], name[NAME_MAX + 1];
	size_t n, ng;
	int dirfd, rc = -1;

	if (!p->vmm_uid || (!p->nusb && !p->npci))
		return 0;
	n = sp_plan_devs(p, devs);
	if (sp_devs_found(devs, n, err) < 0)
		return -1;
	if (sp_record_place(p->run_dir, dir, sizeof(dir), name, sizeof(name)) < 0 ||
	    (dirfd = sp_records_lock(dir)) < 0) {
		sp_err_set(err, "cannot record the device owners beside %s: %s", p->run_dir,
			   strerror(errno));
		return -1;
	}
	/* A record of ours now is one whose VMM ended unseen (we hold the
	 * instance lock, which a VMM keeps for life): give its nodes back
	 * first, so the owners recorded below are their own, not that VMM's. */
	sp_record_restore(dirfd, name);
	if (sp_grants_collect(devs, n, g, &ng, err) == 0 &&
	    sp_records_check(dirfd, dir, name, g, ng, err) == 0 &&
	    sp_record_write(dirfd, dir, name, g, ng, err) == 0) {
		rc = sp_grants_hand(g, ng, p->vmm_uid, err);
		if (rc < 0)
			sp_record_restore(dirfd, name);
	}
	close(dirfd);
	return rc;
}

void sp_devices_release(const char *run_dir)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	int dirfd;

	if (sp_record_place(run_dir, dir, sizeof(dir), name, sizeof(name)) < 0 ||
	    (dirfd = sp_records_lock(dir)) < 0)
		return;
	sp_record_restore(dirfd, name);
	close(dirfd);
}

/* The first line of a sysfs text file, without its newline; "" if none. */
static void sp_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* A USB device directory is BUS-PORT (interfaces have a ':', root hubs
 * are usbN). */
static bool sp_usb_present_one(const char *dir, const char *name, struct sp_dev_present *d)
{
	char path[PATH_MAX + 300];
	const char *dash = strchr(name, '-');

	if (!dash || strchr(name, ':') || strlen(dash + 1) >= sizeof(d->port))
		return false;
	memset(d, 0, sizeof(*d));
	snprintf(path, sizeof(path), "%s/%s/idVendor", dir, name);
	d->vendor = sp_read_hex(path);
	snprintf(path, sizeof(path), "%s/%s/idProduct", dir, name);
	d->device = sp_read_hex(path);
	if (d->vendor > 0xffff || d->device > 0xffff)
		return false;
	d->bus = (unsigned)strtoul(name, NULL, 10);
	snprintf(d->port, sizeof(d->port), "%s", dash + 1);
	snprintf(path, sizeof(path), "%s/%s/product", dir, name);
	sp_read_line(path, d->label, sizeof(d->label));
	return true;
}

static bool sp_pci_present_one(const char *dir, const char *name, struct sp_dev_present *d)
{
	char path[PATH_MAX + 300];

	if (strlen(name) != 12)
		return false;
	memset(d, 0, sizeof(*d));
	snprintf(d->address, sizeof(d->address), "%s", name);
	snprintf(path, sizeof(path), "%s/%s/vendor", dir, name);
	d->vendor = sp_read_num(path, 16, 0);
	snprintf(path, sizeof(path), "%s/%s/device", dir, name);
	d->device = sp_read_num(path, 16, 0);
	return true;
}

size_t sp_devices_present(enum sp_res_type type, struct sp_dev_present *out, size_t max)
{
	char dir[PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/bus/%s/devices", sp_sysfs(),
		 type == SP_RES_USB ? "usb" : "pci");
	if ((type != SP_RES_USB && type != SP_RES_PCI) || !(d = opendir(dir)))
		return 0;
	while ((e = readdir(d))) {
		struct sp_dev_present one;
		bool ok = e->d_name[0] != '.' &&
			  (type == SP_RES_USB ? sp_usb_present_one(dir, e->d_name, &one) :
						sp_pci_present_one(dir, e->d_name, &one));
		if (ok && n < max)
			out[n] = one;
		n += ok;
	}
	closedir(d);
	return n;
}
