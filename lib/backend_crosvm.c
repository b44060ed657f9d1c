/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * crosvm back end: a plan -> the argv of `crosvm run`.
 *
 * The syntax follows crosvm main as of 2025 (the key=value device options
 * that replaced --rwdisk, --pmem-device and --rw-pmem-device in 2023-24),
 * checked against crosvm's own sources and book:
 *   src/crosvm/cmdline.rs         `crosvm run`: --mem size=, --cpus num-cores=,
 *                                 --initrd, --params, --serial, --socket,
 *                                 --block path=,ro=,id=, --shared-dir, --net
 *                                 tap-name=|tap-fd=,mac=, --vfio, --vhost-user-fs
 *                                 socket=,tag=, and the kernel as the last,
 *                                 positional argument
 *   src/crosvm/config.rs          PmemOption (path, ro), MemOptions (size)
 *   devices/src/serial_device.rs  type=unix-stream, input-unix-stream,
 *                                 hardware=serial|virtio-console, num
 *   arch/src/serial.rs            when crosvm adds a console of its own
 *   devices/src/virtio/fs/config.rs  virtio-fs options: none is read-only
 *   docs/book/src/devices/{block,pmem/basic,fs,usb}.md
 *
 * What the host side provides.  crosvm is a client on every socket but
 * --socket, so the others must be listening before crosvm starts:
 *   console.sock       the guest's 16550 serial console, ttyS0;
 *   control.sock       the guest control channel, virtio-console port hvc0
 *                      (crosvm has no virtio-serial ports; a console port
 *                      is its nearest equivalent of a named channel);
 *   share->socket      a read-only virtiofsd for each read-only share
 *                      (sp_crosvm_share());
 *   qmp.sock           is created by crosvm: its control socket
 *                      (`crosvm stop qmp.sock`).
 *
 * An unprivileged VMM (plan->vmm_uid) opens neither its taps nor its block
 * devices: the launcher hands them over as inherited descriptors (SP_FD_*
 * in plan.h).  A tap is --net tap-fd=N (NetParametersMode::TapFd in
 * net_util); a disk is --block path=/proc/self/fd/N, which crosvm
 * duplicates instead of opening (base's open_file_or_duplicate(), which its
 * disk code opens every image with).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/* crosvm's hardware=serial is a 16550 on x86_64 and aarch64 alike: ttyS. */
#define SP_CROSVM_CONSOLE "console=ttyS0"

/*
 * crosvm parses device options with serde_keyvalue: a bare value ends at a
 * comma, and quotes and brackets open quoted strings and lists.  Paths with
 * those characters are refused rather than quoted: a path that crosvm splits
 * differently would name another file.  --shared-dir and --vhost-user-fs
 * also split on colons (the first two fields of one, the legacy SOCKET:TAG
 * form of the other).
 */
#define SP_CROSVM_KV_RESERVED ",\"[]"
#define SP_CROSVM_COLON_RESERVED ":,\"[]"

static const char *sp_crosvm_arch_refusal(enum sp_arch arch)
{
	switch (arch) {
	case SP_ARCH_X86_64:
	case SP_ARCH_AARCH64:
		return NULL;
	case SP_ARCH_PPC64LE:
		break;
	}
	return "crosvm has no ppc64le support";
}

static int sp_crosvm_path_ok(const struct sp_plan *plan, const char *path, const char *reserved,
			     struct sp_err *err)
{
	const char *bad = strpbrk(path, reserved);

	if (!bad)
		return 0;
	sp_err_set(
		err,
		"instance %s: crosvm cannot be given the path %s: it contains '%c', which crosvm's option syntax reserves; rename it",
		plan->instance, path, *bad);
	return -1;
}

/*
 * Everything that can make the plan unrunnable is checked before anything is
 * appended, so a refusal never leaves half an argv behind.  Only the paths
 * crosvm is given are checked: an unprivileged VMM's block devices are
 * descriptors (sp_crosvm_block()).
 */
static int sp_crosvm_check(const struct sp_plan *plan, struct sp_err *err)
{
	bool by_path = !plan->vmm_uid;

	/* crosvm attaches USB devices only at run time, with `crosvm usb
	 * attach` on the control socket (docs/book/src/devices/usb.md); the
	 * command line has no way to give the guest a device at boot. */
	if (plan->nusb) {
		sp_err_set(err, "crosvm cannot pass through USB devices at boot; use the qemu hypervisor for this instance");
		return -1;
	}
	/* The display's channel is a virtio-serial port (its cross-domain
	 * virtio-gpu is the future path, not wired yet). */
	if (plan->display.enabled) {
		sp_err_set(
			err,
			"crosvm has no virtio-serial port for the display; use the qemu hypervisor for this instance");
		return -1;
	}
	if (sp_crosvm_path_ok(plan, plan->console_socket, SP_CROSVM_KV_RESERVED, err) < 0 ||
	    sp_crosvm_path_ok(plan, plan->control_socket, SP_CROSVM_KV_RESERVED, err) < 0 ||
	    ((by_path || plan->root.shared) &&
	     sp_crosvm_path_ok(plan, plan->root.image, SP_CROSVM_KV_RESERVED, err) < 0))
		return -1;
	for (size_t i = 0; by_path && i < plan->ndisks; i++)
		if (sp_crosvm_path_ok(plan, plan->disks[i].image, SP_CROSVM_KV_RESERVED, err) < 0)
			return -1;
	for (size_t i = 0; i < plan->nshares; i++) {
		const struct sp_plan_share *s = &plan->shares[i];
		const char *path = s->mode == SP_MODE_RW ? s->host_path : s->socket;

		if (sp_crosvm_path_ok(plan, path, SP_CROSVM_COLON_RESERVED, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * crosvm connects to both sockets (type=unix-stream) and, with
 * input-unix-stream, reads the guest's input from the same connection.
 * No port is marked console=true: crosvm would then put a second
 * "console=ttyS0" on the kernel command line.  It invents a stdout console
 * only while serial port 1 is unconfigured, which it never is here
 * (set_default_serial_parameters() in arch/src/serial.rs).
 */
static void sp_crosvm_serial(const struct sp_plan *plan, struct sp_argv *out)
{
	sp_argv_opt(out, "--serial",
		    "type=unix-stream,path=%s,input-unix-stream=true,hardware=serial,num=1",
		    plan->console_socket);
	sp_argv_opt(out, "--serial",
		    "type=unix-stream,path=%s,input-unix-stream=true,hardware=virtio-console,num=1",
		    plan->control_socket);
}

/*
 * One --block device.  An unprivileged VMM cannot open the image (volumes
 * are root's, mode 0600), so it is given the descriptor the launcher opened
 * in the access mode the device needs: crosvm takes /proc/self/fd/N as
 * that descriptor, duplicated, not as a path to open.
 */
static void sp_crosvm_block(const struct sp_plan *plan, struct sp_argv *out, const char *image,
			    int fd, bool ro, const char *id)
{
	const char *mode = ro ? ",ro=true" : "";

	if (plan->vmm_uid)
		sp_argv_opt(out, "--block", "path=/proc/self/fd/%d%s,id=%s", fd, mode, id);
	else
		sp_argv_opt(out, "--block", "path=%s%s,id=%s", image, mode, id);
}

/*
 * The root image is never writable at the hypervisor: ro=true on the block
 * device, or a read-only pmem mapping when the instance shares its root's
 * page cache.  crosvm's root=true is not used: the guest's init finds its
 * root itself, and the flag would add root= to the command line.  The pmem
 * image stays a path even for an unprivileged VMM: root images are
 * world-readable public content.
 *
 * id= is the virtio-blk serial; "root" and "volN" are the names the qemu
 * back end gives, so the guest finds each disk by name under any VMM.
 */
static void sp_crosvm_root(const struct sp_plan *plan, struct sp_argv *out)
{
	if (plan->root.shared)
		sp_argv_opt(out, "--pmem", "path=%s,ro=true", plan->root.image);
	else
		sp_crosvm_block(plan, out, plan->root.image, SP_FD_ROOT, true, "root");
}

/* crosvm letters block devices in command-line order: the root (unless it
 * is pmem0) is vda, then the plan's disks in the plan's order. */
static void sp_crosvm_disks(const struct sp_plan *plan, struct sp_argv *out)
{
	for (size_t i = 0; i < plan->ndisks; i++) {
		const struct sp_plan_disk *d = &plan->disks[i];
		char id[32];

		snprintf(id, sizeof(id), "vol%zu", i);
		sp_crosvm_block(plan, out, d->image, SP_FD_DISK(i), d->mode == SP_MODE_RO, id);
	}
}

/*
 * crosvm's own virtio-fs device has no read-only option, so it serves only
 * rw shares.  A read-only share is served by an external virtiofsd over
 * vhost-user instead, at the plan's socket for the share (the one the qemu
 * back end uses too); the host starts that virtiofsd so that it cannot
 * write (say, on a read-only bind mount of the directory).  Without it,
 * crosvm fails to start: the guest never gets write access it was not
 * granted.
 */
static void sp_crosvm_share(const struct sp_plan_share *s, struct sp_argv *out)
{
	if (s->mode == SP_MODE_RW)
		sp_argv_opt(out, "--shared-dir", "%s:%s:type=fs", s->host_path, s->tag);
	else
		sp_argv_opt(out, "--vhost-user-fs", "socket=%s,tag=%s", s->socket, s->tag);
}

static void sp_crosvm_devices(const struct sp_plan *plan, struct sp_argv *out)
{
	for (size_t i = 0; i < plan->nshares; i++)
		sp_crosvm_share(&plan->shares[i], out);
	/* An unprivileged VMM could not make or attach a tap: it gets the
	 * one the launcher made on the segment's bridge (lib/net.c). */
	for (size_t i = 0; i < plan->nnics; i++)
		if (plan->vmm_uid)
			sp_argv_opt(out, "--net", "tap-fd=%d,mac=%s", SP_FD_NIC(i),
				    plan->nics[i].mac);
		else
			sp_argv_opt(out, "--net", "tap-name=%s,mac=%s", plan->nics[i].tap,
				    plan->nics[i].mac);
	for (size_t i = 0; i < plan->npci; i++)
		sp_argv_opt(out, "--vfio", "/sys/bus/pci/devices/%s", plan->pci[i].address);
}

static int sp_crosvm_build(const struct sp_plan *plan, struct sp_argv *out, struct sp_err *err)
{
	char *cmdline;

	if (sp_crosvm_check(plan, err) < 0 || sp_backend_no_overlay(plan, "crosvm", err) < 0)
		return -1;

	sp_argv_add(out, "crosvm");
	sp_argv_add(out, "run");
	sp_argv_opt(out, "--mem", "size=%llu", (unsigned long long)plan->memory_mib);
	sp_argv_opt(out, "--cpus", "num-cores=%u", plan->vcpus);
	sp_argv_opt(out, "--initrd", "%s", plan->initrd);
	cmdline = sp_backend_cmdline(plan, SP_CROSVM_CONSOLE);
	sp_argv_opt(out, "--params", "%s", cmdline);
	free(cmdline);
	sp_crosvm_serial(plan, out);
	sp_argv_opt(out, "--socket", "%s", plan->qmp_socket);
	sp_crosvm_root(plan, out);
	sp_crosvm_disks(plan, out);
	sp_crosvm_devices(plan, out);
	/* Positional, so last. */
	sp_argv_add(out, plan->kernel);
	return 0;
}

const struct sp_backend sp_backend_crosvm = {
	.name = "crosvm",
	.hv = SP_HV_CROSVM,
	.arch_refusal = sp_crosvm_arch_refusal,
	.build = sp_crosvm_build,
	.root_fd = true,
	.disk_fds = true,
};
