/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cloud Hypervisor back end: a plan -> the argv of `cloud-hypervisor`.
 *
 * The syntax follows Cloud Hypervisor main as of 2025-26 (v4x releases),
 * checked against its own sources and documentation:
 *   cloud-hypervisor/src/main.rs  the options and their help text: --api-socket
 *                                 path=, --kernel, --initramfs, --cmdline,
 *                                 --cpus boot=, --memory size=,shared=,
 *                                 --serial socket=, --console (default tty!),
 *                                 and num_args(1..) for --disk, --pmem, --fs,
 *                                 --net and --device
 *   vmm/src/config.rs             DiskConfig (path, readonly, serial), PmemConfig
 *                                 (file, discard_writes), NetConfig (tap, fd, mac),
 *                                 FsConfig (tag, socket), DeviceConfig (path),
 *                                 VsockConfig (cid, socket)
 *   devices/src/legacy/           serial.rs (16550, x86_64) and uart_pl011.rs
 *                                 (aarch64)
 *   docs/fs.md, docs/vsock.md, docs/vfio.md, docs/macvtap-bridge.md (--net fd=)
 *
 * Each multi-valued device option is given once, followed by all its values:
 * clap collects "--disk A B" but refuses a second "--disk".
 *
 * What the host side provides:
 *   qmp.sock       created by cloud-hypervisor: its HTTP API socket
 *                  (`ch-remote --api-socket qmp.sock ...`).
 *   console.sock   created by cloud-hypervisor (--serial socket= listens):
 *                  the guest's serial console.
 *   control.sock   created by cloud-hypervisor: the guest control channel,
 *                  over virtio-vsock (see sp_chv_control()).
 *   share->socket  one virtiofsd per share, started by the host before
 *                  cloud-hypervisor, read-only for a read-only share (see
 *                  sp_chv_shares()).
 *
 * An unprivileged VMM (plan->vmm_uid) gets its taps as inherited
 * descriptors (SP_FD_NIC in plan.h), but it cannot be given its volumes:
 * see sp_chv_check().
 */
#include <stdlib.h>
#include <string.h>

#include "backend.h"

/*
 * The guest's context ID on its vsock device.  Cloud Hypervisor's vsock is
 * the hybrid (Firecracker-style) kind, multiplexed over a unix socket on the
 * host, so the CID is only the guest's own address and need not be unique
 * across guests: a fixed value keeps the argv a function of the plan.  3 is
 * the first CID that is not reserved (0 hypervisor, 1 loopback, 2 host).
 */
#define SP_CHV_GUEST_CID 3

/*
 * Cloud Hypervisor splits option values at commas, and its option parser
 * treats quotes and brackets specially.  Paths holding them are refused
 * rather than quoted: a path split differently would name another file.
 */
#define SP_CHV_RESERVED ",\"[]"

static const char *sp_chv_arch_refusal(enum sp_arch arch)
{
	switch (arch) {
	case SP_ARCH_X86_64:
	case SP_ARCH_AARCH64:
		return NULL;
	case SP_ARCH_PPC64LE:
		break;
	}
	return "cloud-hypervisor has no ppc64le support";
}

/* x86_64 guests get a 16550 (ttyS0); aarch64 guests a PL011 (ttyAMA0). */
static const char *sp_chv_console(enum sp_arch arch)
{
	return arch == SP_ARCH_AARCH64 ? "console=ttyAMA0" : "console=ttyS0";
}

static int sp_chv_path_ok(const struct sp_plan *plan, const char *path, struct sp_err *err)
{
	const char *bad = strpbrk(path, SP_CHV_RESERVED);

	if (!bad)
		return 0;
	sp_err_set(
		err,
		"instance %s: cloud-hypervisor cannot be given the path %s: it contains '%c', which its option syntax reserves; rename it",
		plan->instance, path, *bad);
	return -1;
}

/*
 * Everything that can make the plan unrunnable is checked before anything is
 * appended, so a refusal never leaves half an argv behind.
 */
static int sp_chv_check(const struct sp_plan *plan, struct sp_err *err)
{
	/* No USB controller at all: VFIO of a whole PCI controller is the
	 * only way, and that is a pci resource, not a usb one. */
	if (plan->nusb) {
		sp_err_set(err, "cloud-hypervisor cannot pass through USB devices; use the qemu hypervisor for this instance");
		return -1;
	}
	if (plan->display.enabled) {
		sp_err_set(
			err,
			"cloud-hypervisor has no virtio-serial port for the display; use the qemu hypervisor for this instance");
		return -1;
	}
	/* An unprivileged VMM cannot open a volume (root's, mode 0600), and
	 * Cloud Hypervisor has no way to take a disk as a descriptor: --disk
	 * wants a path, and a path of /proc/self/fd/N is opened anew, which
	 * checks the file's permissions just the same.  (The root image is
	 * world-readable, so it is still given by path.) */
	if (plan->vmm_uid && plan->ndisks) {
		sp_err_set(
			err,
			"cloud-hypervisor cannot be given volumes when it runs as an unprivileged uid (it opens every disk itself, by path); use the qemu or crosvm hypervisor for this instance");
		return -1;
	}
	if (sp_chv_path_ok(plan, plan->qmp_socket, err) < 0 ||
	    sp_chv_path_ok(plan, plan->console_socket, err) < 0 ||
	    sp_chv_path_ok(plan, plan->control_socket, err) < 0 ||
	    sp_chv_path_ok(plan, plan->root.image, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->ndisks; i++)
		if (sp_chv_path_ok(plan, plan->disks[i].image, err) < 0)
			return -1;
	for (size_t i = 0; i < plan->nshares; i++)
		if (sp_chv_path_ok(plan, plan->shares[i].socket, err) < 0)
			return -1;
	return 0;
}

static void sp_chv_machine(const struct sp_plan *plan, struct sp_argv *out)
{
	char *cmdline;

	sp_argv_opt(out, "--api-socket", "path=%s", plan->qmp_socket);
	sp_argv_opt(out, "--kernel", "%s", plan->kernel);
	sp_argv_opt(out, "--initramfs", "%s", plan->initrd);
	cmdline = sp_backend_cmdline(plan, sp_chv_console(plan->arch));
	sp_argv_opt(out, "--cmdline", "%s", cmdline);
	free(cmdline);
	sp_argv_opt(out, "--cpus", "boot=%u", plan->vcpus);
	/* virtiofsd is another process that must reach guest memory, which
	 * vhost-user requires to be shared (docs/fs.md). */
	if (plan->nshares)
		sp_argv_opt(out, "--memory", "size=%lluM,shared=on",
			    (unsigned long long)plan->memory_mib);
	else
		sp_argv_opt(out, "--memory", "size=%lluM", (unsigned long long)plan->memory_mib);
}

/*
 * Block devices in plan order after the root, so the guest sees vda, vdb,
 * ... as the plan numbers them.  The root is always readonly=on; shared, it
 * is pmem0 instead and the disks start at vda.  serial= names each disk
 * "root" or "volN" as the qemu back end does, so the guest finds each disk
 * by name under any VMM.
 */
static void sp_chv_disks(const struct sp_plan *plan, struct sp_argv *out)
{
	if (plan->root.shared && !plan->ndisks)
		return;
	sp_argv_add(out, "--disk");
	if (!plan->root.shared)
		sp_argv_addf(out, "path=%s,readonly=on,serial=root", plan->root.image);
	for (size_t i = 0; i < plan->ndisks; i++) {
		const struct sp_plan_disk *d = &plan->disks[i];

		sp_argv_addf(out, "path=%s%s,serial=vol%zu", d->image,
			     d->mode == SP_MODE_RO ? ",readonly=on" : "", i);
	}
}

/*
 * discard_writes=on opens the image read-only and maps it private: the file
 * is never written, and unwritten pages stay shared with the host's page
 * cache, which is what shareRoot is for.  No size=: Cloud Hypervisor takes
 * the file's own size, which must be a multiple of 2 MiB.
 */
static void sp_chv_pmem(const struct sp_plan *plan, struct sp_argv *out)
{
	if (!plan->root.shared)
		return;
	sp_argv_add(out, "--pmem");
	sp_argv_addf(out, "file=%s,discard_writes=on", plan->root.image);
}

/*
 * Cloud Hypervisor has no virtio-fs device of its own, only the vhost-user
 * front end: each share is served by a virtiofsd the host starts at the
 * plan's socket for it (the one the qemu back end uses too).  --fs has no
 * read-only option either, so a read-only share is enforced by that
 * virtiofsd (started on a read-only view of the directory); without it,
 * cloud-hypervisor fails to start.
 */
static void sp_chv_shares(const struct sp_plan *plan, struct sp_argv *out)
{
	if (!plan->nshares)
		return;
	sp_argv_add(out, "--fs");
	for (size_t i = 0; i < plan->nshares; i++)
		sp_argv_addf(out, "tag=%s,socket=%s", plan->shares[i].tag, plan->shares[i].socket);
}

/*
 * An unprivileged VMM could not make or attach a tap: it gets the one the
 * launcher made on the segment's bridge (lib/net.c) as fd=N, one
 * descriptor being one queue pair, Cloud Hypervisor's default.
 */
static void sp_chv_nics(const struct sp_plan *plan, struct sp_argv *out)
{
	if (!plan->nnics)
		return;
	sp_argv_add(out, "--net");
	for (size_t i = 0; i < plan->nnics; i++)
		if (plan->vmm_uid)
			sp_argv_addf(out, "fd=%d,mac=%s", SP_FD_NIC(i), plan->nics[i].mac);
		else
			sp_argv_addf(out, "tap=%s,mac=%s", plan->nics[i].tap, plan->nics[i].mac);
}

static void sp_chv_pci(const struct sp_plan *plan, struct sp_argv *out)
{
	if (!plan->npci)
		return;
	sp_argv_add(out, "--device");
	for (size_t i = 0; i < plan->npci; i++)
		sp_argv_addf(out, "path=/sys/bus/pci/devices/%s/", plan->pci[i].address);
}

/*
 * The guest control channel.  Cloud Hypervisor has no virtio-serial ports,
 * and its virtio-console (--console) cannot be a socket (off, null, pty, tty
 * or file only), so the channel is vsock, its documented host-guest socket
 * (docs/vsock.md).  The host connects to control.sock and sends
 * "CONNECT <port>\n" to reach a guest port; the guest reaches the host's
 * port P at control.sock_P, which the host listens on.
 */
static void sp_chv_control(const struct sp_plan *plan, struct sp_argv *out)
{
	sp_argv_opt(out, "--vsock", "cid=%d,socket=%s", SP_CHV_GUEST_CID, plan->control_socket);
}

/* One console: the serial port, on a socket.  --console defaults to the
 * terminal cloud-hypervisor runs on, so it is switched off explicitly. */
static void sp_chv_consoles(const struct sp_plan *plan, struct sp_argv *out)
{
	sp_argv_opt(out, "--serial", "socket=%s", plan->console_socket);
	sp_argv_opt(out, "--console", "off");
}

static int sp_chv_build(const struct sp_plan *plan, struct sp_argv *out, struct sp_err *err)
{
	if (sp_chv_check(plan, err) < 0 || sp_backend_no_overlay(plan, "cloud-hypervisor", err) < 0)
		return -1;

	sp_argv_add(out, "cloud-hypervisor");
	sp_chv_machine(plan, out);
	sp_chv_disks(plan, out);
	sp_chv_pmem(plan, out);
	sp_chv_shares(plan, out);
	sp_chv_nics(plan, out);
	sp_chv_pci(plan, out);
	sp_chv_control(plan, out);
	sp_chv_consoles(plan, out);
	return 0;
}

const struct sp_backend sp_backend_cloud_hypervisor = {
	.name = "cloud-hypervisor",
	.hv = SP_HV_CLOUD_HYPERVISOR,
	.arch_refusal = sp_chv_arch_refusal,
	.build = sp_chv_build,
	/* No disk descriptors: the root goes by path, and volumes are
	 * refused (sp_chv_check()). */
};
