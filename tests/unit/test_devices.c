/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A device is held, not the resource that names it: two instances naming
 * one USB or PCI device (or one IOMMU group) through two resources cannot
 * both have it, and every node ends with its own owner.  On a fake sysfs
 * (SPECTRUM_SYSFS) and fake device nodes (SPECTRUM_DEVFS) in a temporary
 * directory; handing nodes over needs root, and is skipped without it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"
#include "model.h"
#include "plan.h"
#include "tap.h"

/* Nodes start with this owner, which is neither root nor a VMM's. */
#define OWNER_UID 1000
#define OWNER_GID 1001

static char top[64] = "/tmp/spectrum-devices-XXXXXX";

static const char config[] =
	"{\"applications\": {\"a\": {\"image\": \"a\", \"command\": [\"/bin/true\"]}},\n"
	" \"resources\": {\n"
	"  \"gadget\": {\"type\": \"usb\", \"vendor\": \"1209\", \"product\": \"0001\"},\n"
	"  \"gadget2\": {\"type\": \"usb\", \"vendor\": \"1209\", \"product\": \"0001\"},\n"
	"  \"port\": {\"type\": \"usb\", \"bus\": 1, \"port\": \"1\"},\n"
	"  \"other\": {\"type\": \"usb\", \"vendor\": \"1209\", \"product\": \"0002\"},\n"
	"  \"other-port\": {\"type\": \"usb\", \"bus\": 1, \"port\": \"2\"},\n"
	"  \"twin-port\": {\"type\": \"usb\", \"bus\": 1, \"port\": \"4\"},\n"
	"  \"nic\": {\"type\": \"pci\", \"address\": \"46:1f.7\"},\n"
	"  \"nic-long\": {\"type\": \"pci\", \"address\": \"0000:46:1F.7\"},\n"
	"  \"nic-sibling\": {\"type\": \"pci\", \"address\": \"0000:46:1f.6\"},\n"
	"  \"gpu\": {\"type\": \"pci\", \"address\": \"0000:01:00.0\"}},\n"
	" \"instances\": {\n"
	"  \"both\": {\"application\": \"a\", \"bindings\": {\"gadget\": {}, \"nic\": {}}},\n"
	"  \"second\": {\"application\": \"a\", \"bindings\": {\"gadget2\": {}}},\n"
	"  \"byport\": {\"application\": \"a\", \"bindings\": {\"port\": {}}},\n"
	"  \"other\": {\"application\": \"a\", \"bindings\": {\"other\": {}}},\n"
	"  \"other-port\": {\"application\": \"a\", \"bindings\": {\"other-port\": {}}},\n"
	"  \"twin-port\": {\"application\": \"a\", \"bindings\": {\"twin-port\": {}}},\n"
	"  \"pcilong\": {\"application\": \"a\", \"bindings\": {\"nic-long\": {}}},\n"
	"  \"sibling\": {\"application\": \"a\", \"bindings\": {\"nic-sibling\": {}}},\n"
	"  \"gpu\": {\"application\": \"a\", \"bindings\": {\"gpu\": {}}},\n"
	"  \"group\": {\"application\": \"a\", \"bindings\": {\"nic\": {}, \"nic-sibling\": {}}}}}\n";

static char *path(const char *fmt, ...) SP_PRINTF(1, 2);
static char *path(const char *fmt, ...)
{
	static char buf[4][512];
	static int i;
	char rel[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", top, rel);
	return buf[i];
}

static void mkdirs(const char *p)
{
	char b[512];

	snprintf(b, sizeof(b), "%s", p);
	for (char *s = b + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(b, 0755);
			*s = '/';
		}
	mkdir(b, 0755);
}

static void put(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* A USB device at port 1-PORT, with its node /dev/bus/usb/001/DEVNUM. */
static void fake_usb(const char *port, const char *vendor, const char *product, int devnum)
{
	char num[16];

	mkdirs(path("sys/bus/usb/devices/1-%s", port));
	put(path("sys/bus/usb/devices/1-%s/idVendor", port), vendor);
	put(path("sys/bus/usb/devices/1-%s/idProduct", port), product);
	put(path("sys/bus/usb/devices/1-%s/busnum", port), "1\n");
	snprintf(num, sizeof(num), "%d\n", devnum);
	put(path("sys/bus/usb/devices/1-%s/devnum", port), num);
	put(path("dev/bus/usb/001/%03d", devnum), "");
}

/* A PCI device in IOMMU group GROUP, whose node is /dev/vfio/GROUP. */
static void fake_pci(const char *address, const char *group)
{
	mkdirs(path("sys/bus/pci/devices/%s", address));
	mkdirs(path("sys/kernel/iommu_groups/%s/devices", group));
	symlink(path("sys/kernel/iommu_groups/%s", group),
		path("sys/bus/pci/devices/%s/iommu_group", address));
	put(path("dev/vfio/%s", group), "");
}

static void fake_host(void)
{
	mkdirs(path("dev/bus/usb/001"));
	mkdirs(path("dev/vfio"));
	mkdirs(path("run"));
	fake_usb("1", "1209\n", "0001\n", 2);
	fake_usb("2", "1209\n", "0002\n", 3);
	fake_usb("4", "1209\n", "0002\n", 5);
	fake_pci("0000:46:1f.7", "7");
	fake_pci("0000:46:1f.6", "7");
	fake_pci("0000:01:00.0", "12");
	setenv("SPECTRUM_SYSFS", path("sys"), 1);
	setenv("SPECTRUM_DEVFS", path("dev"), 1);
}

static const struct sp_plan *plan_of(const struct sp_plans *plans, const char *name)
{
	for (size_t i = 0; i < plans->n; i++)
		if (strcmp(plans->v[i].instance, name) == 0)
			return &plans->v[i];
	return NULL;
}

/* Would `name` be refused while `holder` runs?  The message, or "". */
static const char *clash(const struct sp_plans *plans, const char *name, const char *holder)
{
	static struct sp_err err;

	err.msg[0] = '\0';
	sp_devices_exclusive(plan_of(plans, name), plan_of(plans, holder), &err);
	return err.msg;
}

static void test_exclusive(const struct sp_plans *plans)
{
	TAP_STR(clash(plans, "second", "both"),
		"usb device 1209:0001 (resource gadget2) is held by running instance both (as resource gadget); a device is passed to one instance at a time: stop that instance first",
		"one vendor:product through two resources is one device");
	TAP_OK(strstr(clash(plans, "byport", "both"),
		      "usb device bus 1 port 1 (resource port) is held by running instance both, as 1209:0001 (resource gadget): both are the same device") !=
		       NULL,
	       "one USB device by port and by vendor:product is one device");
	TAP_OK(strstr(clash(plans, "twin-port", "other"), "held by running instance other") != NULL,
	       "a device of the vendor:product another instance names is refused (the VMM takes the first)");
	TAP_STR(clash(plans, "twin-port", "other-port"), "",
		"two devices of one vendor:product, each by its port, are two devices");
	TAP_STR(clash(plans, "other", "both"), "", "another USB device is free");
	TAP_STR(clash(plans, "pcilong", "both"),
		"pci device 0000:46:1f.7 (resource nic-long) is held by running instance both (as resource nic); a device is passed to one instance at a time: stop that instance first",
		"one PCI address with and without its domain is one device");
	TAP_STR(clash(plans, "sibling", "both"),
		"pci device 0000:46:1f.6 (resource nic-sibling) is held by running instance both: it is in IOMMU group 7 with 0000:46:1f.7 (resource nic), and VFIO passes whole groups; stop that instance first",
		"a PCI device in an IOMMU group another instance holds is refused");
	TAP_STR(clash(plans, "gpu", "both"), "", "a PCI device in another group is free");
}

static unsigned owner(const char *file)
{
	struct stat st;

	return stat(file, &st) == 0 ? (unsigned)st.st_uid : ~0u;
}

static int grant(const struct sp_plans *plans, const char *name, struct sp_err *err)
{
	err->msg[0] = '\0';
	return sp_devices_grant(plan_of(plans, name), err);
}

static void release(const struct sp_plans *plans, const char *name)
{
	sp_devices_release(plan_of(plans, name)->run_dir);
}

static void test_grant(const struct sp_plans *plans)
{
	char usb[512], vfio[512];
	unsigned both = plan_of(plans, "both")->vmm_uid, second = plan_of(plans, "second")->vmm_uid;
	struct sp_err err;
	struct stat st;

	if (geteuid() != 0) {
		TAP_OK(true, "# SKIP handing nodes over needs root");
		return;
	}
	snprintf(usb, sizeof(usb), "%s", path("dev/bus/usb/001/002"));
	snprintf(vfio, sizeof(vfio), "%s", path("dev/vfio/7"));
	chown(usb, OWNER_UID, OWNER_GID);
	chown(vfio, OWNER_UID, OWNER_GID);

	TAP_OK(grant(plans, "both", &err) == 0 && owner(usb) == both && owner(vfio) == both,
	       "the first instance gets the USB node and the VFIO group: %s", err.msg);
	TAP_OK(stat(path("run/both.devices"), &st) == 0 && S_ISREG(st.st_mode) &&
		       (st.st_mode & 0777) == 0600 &&
		       access(path("run/both.devices.new"), F_OK) < 0,
	       "its record is a 0600 file, with no temporary left");
	TAP_OK(grant(plans, "second", &err) < 0 && owner(usb) == both,
	       "a second instance naming the device through another resource is refused");
	TAP_OK(strstr(err.msg,
		      "usb device 1209:0001 (resource gadget2) is held by instance both") != NULL,
	       "naming the device, the resource and the holder: %s", err.msg);
	release(plans, "second"); /* what a failed start does */
	TAP_OK(owner(usb) == both, "the refused start gives back nothing it did not get");
	TAP_OK(grant(plans, "sibling", &err) < 0 && strstr(err.msg, "held by instance both") &&
		       owner(vfio) == both,
	       "another device of the same IOMMU group is refused: %s", err.msg);
	release(plans, "sibling");
	release(plans, "both");
	TAP_OK(owner(usb) == OWNER_UID && owner(vfio) == OWNER_UID,
	       "after both stop, the nodes have their own owner again");

	TAP_OK(grant(plans, "second", &err) == 0 && owner(usb) == second,
	       "once free, the device goes to the second instance: %s", err.msg);
	release(plans, "second");
	TAP_OK(owner(usb) == OWNER_UID, "and comes back to its owner");

	/* A VMM that ended unseen leaves its record; the next start of the
	 * same instance must not take that VMM's uid for the owner. */
	grant(plans, "both", &err);
	TAP_OK(grant(plans, "both", &err) == 0 && owner(usb) == both,
	       "an instance starts again over its own stale record: %s", err.msg);
	release(plans, "both");
	TAP_OK(owner(usb) == OWNER_UID && owner(vfio) == OWNER_UID,
	       "and its nodes still end with their own owner");

	/* Two functions of one IOMMU group in one instance: one node. */
	TAP_OK(grant(plans, "group", &err) == 0 && owner(vfio) == plan_of(plans, "group")->vmm_uid,
	       "an instance with two devices of one group gets the group: %s", err.msg);
	release(plans, "group");
	TAP_OK(owner(vfio) == OWNER_UID, "and gives it back to its owner, not to itself");
}

/* What a picker lists: the same sysfs the checks read. */
static void test_present(void)
{
	struct sp_dev_present d[8];
	size_t n = sp_devices_present(SP_RES_USB, d, 8), pn;
	bool port4 = false;

	for (size_t i = 0; i < n && i < 8; i++)
		port4 |= d[i].bus == 1 && strcmp(d[i].port, "4") == 0 && d[i].vendor == 0x1209 &&
			 d[i].device == 0x0002;
	TAP_OK(n == 3 && port4, "three USB devices present, 1-4 is 1209:0002 (%zu)", n);
	pn = sp_devices_present(SP_RES_PCI, d, 8);
	TAP_OK(pn == 3, "three PCI devices present (%zu)", pn);
	TAP_OK(sp_devices_present(SP_RES_PCI, d, 1) == 3,
	       "the count is whole when the array is short");
}

int main(void)
{
	struct sp_host host = {
		.arch = SP_ARCH_X86_64,
		.tsc_khz = 2600000,
		.state_dir = "/state",
		.vmm_uid_base = 524288,
	};
	struct sp_err err = {0};
	struct sp_plans *plans;
	struct sp_config *cfg;
	struct sp_diags d;

	if (!mkdtemp(top)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	fake_host();
	host.run_dir = path("run");
	sp_diags_init(&d, "devices.json");
	cfg = sp_config_parse(config, strlen(config), "devices.json", ".", &d);
	plans = cfg ? sp_plan_compile(cfg, &host, NULL, -1, &err) : NULL;
	TAP_OK(plans != NULL, "the configuration compiles: %s", err.msg);
	if (plans) {
		test_exclusive(plans);
		test_grant(plans);
	}
	test_present();
	sp_plans_free(plans);
	sp_config_free(cfg);
	sp_diags_fini(&d);
	{
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", top);
	}
	return tap_done();
}
