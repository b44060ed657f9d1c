/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * QEMU back end (QEMU 7.2 as shipped by Debian 12).
 *
 * x86_64 guests get the `microvm` machine (virtio-mmio, no PCI, no
 * firmware: the fastest boot) unless the plan needs PCI — a shared root
 * through virtio-pmem, USB (xHCI) or VFIO — in which case they get `q35`.
 * ppc64le guests get `pseries` with the small VOF firmware instead of
 * SLOF (2.6 s rather than 9.9 s to init under TCG), and a shared root
 * through spapr-nvdimm (PAPR SCM); aarch64 guests `virt`.
 *
 * Every file name that QEMU parses inside an option is escaped (a ',' is
 * doubled), since config-controlled paths must never add options.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "guestproto.h"
#include "pmem_label.h"

struct sp_qemu {
	const struct sp_plan *p;
	struct sp_argv *a;
	bool pci;      /* devices go on PCI (virtio-*-pci) rather than virtio-mmio */
	bool microvm;
	bool memfd;    /* guest RAM is a shared memfd: vhost-user (virtiofs) needs it */
};

/* QEMU's option syntax: "," separates options, ",," is a literal comma. */
static char *sp_qemu_esc(const char *s)
{
	size_t n = 0;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == ',' ? 2 : 1;
	out = o = sp_xmalloc(n + 1);
	for (const char *p = s; *p; p++) {
		*o++ = *p;
		if (*p == ',')
			*o++ = ',';
	}
	*o = '\0';
	return out;
}

static const char *sp_qemu_bus(const struct sp_qemu *q)
{
	return q->pci ? "pci" : "device";
}

static const char *sp_qemu_binary(enum sp_arch arch)
{
	switch (arch) {
	case SP_ARCH_X86_64:
		return "qemu-system-x86_64";
	case SP_ARCH_PPC64LE:
		return "qemu-system-ppc64";
	case SP_ARCH_AARCH64:
		return "qemu-system-aarch64";
	}
	return "qemu";
}

const char *sp_qemu_console(enum sp_arch arch)
{
	switch (arch) {
	case SP_ARCH_X86_64:
		return "console=ttyS0";
	case SP_ARCH_PPC64LE:
		return "console=hvc0"; /* the pseries VTY */
	case SP_ARCH_AARCH64:
		return "console=ttyAMA0";
	}
	return "";
}

bool sp_qemu_microvm(const struct sp_plan *p)
{
	return p->arch == SP_ARCH_X86_64 && !(p->root.shared || p->nusb || p->npci);
}

static void sp_qemu_machine(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;
	const char *mb = q->memfd ? ",memory-backend=mem" : "";

	switch (p->arch) {
	case SP_ARCH_X86_64:
		q->microvm = sp_qemu_microvm(p);
		q->pci = !q->microvm;
		sp_argv_opt(q->a, "-M", "%s%s", q->microvm ? "microvm" : "q35", mb);
		break;
	case SP_ARCH_PPC64LE:
		q->pci = true;
		sp_argv_opt(q->a, "-M", "pseries,x-vof=on%s", mb);
		break;
	case SP_ARCH_AARCH64:
		q->pci = true;
		sp_argv_opt(q->a, "-M", "virt,gic-version=max%s", mb);
		break;
	}
}

static void sp_qemu_cpu(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;

	if (p->tb_mib)
		sp_argv_opt(q->a, "-accel", "%s,tb-size=%u", sp_accel_name(p->accel), p->tb_mib);
	else
		sp_argv_opt(q->a, "-accel", "%s", sp_accel_name(p->accel));
	if (p->accel == SP_ACCEL_KVM)
		sp_argv_opt(q->a, "-cpu", "host");
	else if (p->arch == SP_ARCH_PPC64LE)
		sp_argv_opt(q->a, "-cpu", "POWER9");
	else if (p->arch == SP_ARCH_AARCH64)
		sp_argv_opt(q->a, "-cpu", "max");
	else if (p->kernel_kind == SP_KERNEL_SPECTRUM)
		/* ARAT: the local APIC timer keeps running when the CPU
		 * idles.  Without it the kernel needs a broadcast timer
		 * (HPET, which microvm lacks) to stop the tick, and an idle
		 * guest wakes its VMM 100 times a second. */
		sp_argv_opt(q->a, "-cpu", "qemu64,+arat");
}

/* x86 q35 needs the memory hot-plug window virtio-pmem lives in. */
static int sp_qemu_memory(struct sp_qemu *q, struct sp_err *err)
{
	const struct sp_plan *p = q->p;

	/* Debian's ppc64el kernel has no PAPR SCM driver: its guest would
	 * wait for a /dev/pmem0 that never comes. */
	if (p->root.shared && p->arch == SP_ARCH_PPC64LE && p->kernel_kind != SP_KERNEL_SPECTRUM) {
		sp_err_set(err,
			   "shareRoot on ppc64le needs Spectrum's guest kernel (Debian's has no PAPR SCM driver); set SPECTRUM_KERNEL=spectrum or remove shareRoot");
		return -1;
	}
	if (p->root.shared) {
		uint64_t pm_mib = (p->root.size + (1u << 20) - 1) >> 20;
		if (p->root.size == 0) {
			sp_err_set(err,
				   "root image %s is not built yet, and shareRoot maps it at its exact size; build the image first",
				   p->root.image);
			err->missing = true;
			return -1;
		}
		if (p->arch == SP_ARCH_PPC64LE)
			/* pseries: the window holds the NVDIMM's device part,
			 * already a multiple of 256 MiB (pmem_label.h). */
			pm_mib = (p->root.pmem_size - SP_PMEM_LABEL_SIZE) >> 20;
		else
			/* Leave the window a whole GiB larger than the image. */
			pm_mib = (pm_mib + 1023) / 1024 * 1024;
		sp_argv_opt(q->a, "-m", "%lluM,slots=2,maxmem=%lluM",
			    (unsigned long long)p->memory_mib,
			    (unsigned long long)(p->memory_mib + pm_mib));
	} else {
		sp_argv_opt(q->a, "-m", "%llu", (unsigned long long)p->memory_mib);
	}
	if (q->memfd)
		sp_argv_opt(q->a, "-object", "memory-backend-memfd,id=mem,size=%lluM,share=on",
			    (unsigned long long)p->memory_mib);
	sp_argv_opt(q->a, "-smp", "%u", p->vcpus);
	return 0;
}

static void sp_qemu_boot(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;
	char *k = sp_qemu_esc(p->kernel), *i = sp_qemu_esc(p->initrd);
	char *cmdline = sp_backend_cmdline(p, sp_qemu_console(p->arch));

	sp_argv_opt(q->a, "-kernel", "%s", k);
	sp_argv_opt(q->a, "-initrd", "%s", i);
	sp_argv_opt(q->a, "-append", "%s", cmdline);
	free(k);
	free(i);
	free(cmdline);
}

/*
 * Console, guest control port and QMP: listening sockets the launcher binds
 * in root's run directory and hands over as descriptors (SP_FD_*), so the
 * VMM needs no directory of its own on the host.  The console's log goes
 * to a pipe read by Spectrum's logger, which bounds what a guest can make
 * the host store; there is no pid file: the launcher records the pid.
 */
static void sp_qemu_channels(struct sp_qemu *q)
{
	sp_argv_opt(q->a, "-add-fd", "fd=%d,set=%d", SP_FD_CONSOLE_LOG, SP_FD_CONSOLE_LOG);
	sp_argv_opt(q->a, "-chardev",
		    "socket,id=console,fd=%d,server=on,wait=off,logfile=/dev/fdset/%d,logappend=on",
		    SP_FD_CONSOLE, SP_FD_CONSOLE_LOG);
	sp_argv_opt(q->a, "-serial", "chardev:console");
	sp_argv_opt(q->a, "-chardev", "socket,id=control,fd=%d,server=on,wait=off", SP_FD_CONTROL);
	sp_argv_opt(q->a, "-device", "virtio-serial-%s", sp_qemu_bus(q));
	sp_argv_opt(q->a, "-device", "virtserialport,chardev=control,name=" SP_GP_PORT);
	sp_argv_opt(q->a, "-chardev", "socket,id=qmp,fd=%d,server=on,wait=off", SP_FD_QMP);
	sp_argv_opt(q->a, "-mon", "chardev=qmp,mode=control");
}

/*
 * The display: a second port on the same virtio-serial device, whose
 * chardev is one end of a socket pair the launcher made (a client socket
 * given as a connected descriptor: no path, so nothing else on the host
 * can connect to it); the other end is the display relay's
 * (lib/display.h).
 */
static void sp_qemu_display(struct sp_qemu *q)
{
	if (!q->p->display.enabled)
		return;
	sp_argv_opt(q->a, "-chardev", "socket,id=wayland,fd=%d", SP_FD_WAYLAND);
	sp_argv_opt(q->a, "-device", "virtserialport,chardev=wayland,name=" SP_GP_DISPLAY_PORT);
}

/*
 * ppc64le: the root is mapped from root's file (plan.h, root.pmem) that
 * carries the image with the namespace labels and fsdax info block the
 * guest's PAPR SCM driver needs (pmem_label.h).  The backend opens it by
 * path read-only (mode 0444, in root's directory: the VMM's uid can read
 * it and write neither it nor the directory); readonly=on maps it
 * PROT_READ, and unarmed=on is what QEMU asks of a read-only NVDIMM (the
 * guest sees it read-only too).  uuid= is the device's, from the image's
 * hash: the labels' interleave-set cookie must match it.
 */
static void sp_qemu_nvdimm(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;
	char *file = sp_qemu_esc(p->root.pmem);

	sp_argv_opt(q->a, "-object",
		    "memory-backend-file,id=pm0,mem-path=%s,size=%llu,share=on,readonly=on", file,
		    (unsigned long long)p->root.pmem_size);
	sp_argv_opt(q->a, "-device",
		    "spapr-nvdimm,memdev=pm0,label-size=%u,uuid=%s,unarmed=on,id=root",
		    SP_PMEM_LABEL_SIZE, p->root.pmem_uuid);
	free(file);
}

/*
 * The root is read-only in QEMU itself (readonly=on), so neither the guest
 * kernel nor anything with raw access to the device can write the image.
 * The serial lets spectrum-init find each disk whatever order the
 * transports probe in.
 */
static void sp_qemu_root(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;
	char *img = sp_qemu_esc(p->root.image);

	if (p->root.shared && p->arch == SP_ARCH_PPC64LE) {
		sp_qemu_nvdimm(q);
	} else if (p->root.shared) {
		sp_argv_opt(q->a, "-object",
			    "memory-backend-file,id=pm0,mem-path=%s,size=%llu,share=on,readonly=on", img,
			    (unsigned long long)p->root.size);
		sp_argv_opt(q->a, "-device", "virtio-pmem-pci,memdev=pm0,id=root");
	} else {
		if (p->vmm_uid) {
			sp_argv_opt(q->a, "-add-fd", "fd=%d,set=%d", SP_FD_ROOT, SP_FD_ROOT);
			sp_argv_opt(q->a, "-drive", "id=root,file=/dev/fdset/%d,format=raw,if=none,readonly=on",
				    SP_FD_ROOT);
		} else {
			sp_argv_opt(q->a, "-drive", "id=root,file=%s,format=raw,if=none,readonly=on", img);
		}
		sp_argv_opt(q->a, "-device", "virtio-blk-%s,drive=root,serial=root", sp_qemu_bus(q));
	}
	free(img);
}

/*
 * A disposable disk: the guest writes a qcow2 layer (root's file, made at
 * start), whose backing is the volume, opened read-only and named here, so
 * that QEMU never follows the path the layer's header records and cannot
 * write the volume.
 */
static void sp_qemu_overlay(struct sp_qemu *q, size_t i)
{
	const struct sp_plan *p = q->p;
	const struct sp_plan_disk *d = &p->disks[i];
	char *img = sp_qemu_esc(d->image), *ov = sp_qemu_esc(d->overlay);

	if (p->vmm_uid) {
		sp_argv_opt(q->a, "-add-fd", "fd=%d,set=%d", SP_FD_DISK(i), SP_FD_DISK(i));
		sp_argv_opt(q->a, "-add-fd", "fd=%d,set=%d", SP_FD_DISK_RO(i), SP_FD_DISK(i));
		sp_argv_opt(q->a, "-add-fd", "fd=%d,set=%d", SP_FD_DISK_BASE(i),
			    SP_FD_DISK_BASE(i));
		sp_argv_opt(
			q->a, "-drive",
			"id=vol%zu,file=/dev/fdset/%d,format=qcow2,if=none,backing.driver=raw,backing.file.filename=/dev/fdset/%d,backing.read-only=on",
			i, SP_FD_DISK(i), SP_FD_DISK_BASE(i));
	} else {
		sp_argv_opt(
			q->a, "-drive",
			"id=vol%zu,file=%s,format=qcow2,if=none,backing.driver=raw,backing.file.filename=%s,backing.read-only=on",
			i, ov, img);
	}
	sp_argv_opt(q->a, "-device", "virtio-blk-%s,drive=vol%zu,serial=vol%zu", sp_qemu_bus(q), i,
		    i);
	free(img);
	free(ov);
}

static void sp_qemu_disks(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;

	for (size_t i = 0; i < p->ndisks; i++) {
		const struct sp_plan_disk *d = &p->disks[i];
		char *img;
		bool rw = d->mode == SP_MODE_RW;
		if (d->overlay) {
			sp_qemu_overlay(q, i);
			continue;
		}
		img = sp_qemu_esc(d->image);
		if (p->vmm_uid) {
			/* An unprivileged VMM cannot open the volume itself; it
			 * gets descriptors in the access modes QEMU may ask for. */
			sp_argv_opt(q->a, "-add-fd", "fd=%d,set=%d", SP_FD_DISK(i), SP_FD_DISK(i));
			if (rw)
				sp_argv_opt(q->a, "-add-fd", "fd=%d,set=%d", SP_FD_DISK_RO(i),
					    SP_FD_DISK(i));
			free(img);
			img = sp_xmalloc(32);
			snprintf(img, 32, "/dev/fdset/%d", SP_FD_DISK(i));
		}
		sp_argv_opt(q->a, "-drive", "id=vol%zu,file=%s,format=raw,if=none%s", i, img,
			    rw ? "" : ",readonly=on");
		sp_argv_opt(q->a, "-device", "virtio-blk-%s,drive=vol%zu,serial=vol%zu",
			    sp_qemu_bus(q), i, i);
		free(img);
	}
}

/* virtiofs: the file server (virtiofsd) is started by the supervisor and
 * enforces read-only shares on the host side. */
static void sp_qemu_shares(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;

	for (size_t i = 0; i < p->nshares; i++) {
		const struct sp_plan_share *s = &p->shares[i];
		char *sock = sp_qemu_esc(s->socket);
		sp_argv_opt(q->a, "-chardev", "socket,id=fs%zu,path=%s", i, sock);
		sp_argv_opt(q->a, "-device", "vhost-user-fs-%s,chardev=fs%zu,tag=%s", sp_qemu_bus(q),
			    i, s->tag);
		free(sock);
	}
}

static void sp_qemu_nics(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;

	for (size_t i = 0; i < p->nnics; i++) {
		const struct sp_plan_nic *n = &p->nics[i];
		if (p->vmm_uid)
			/* The tap is made, bridged and opened by the privileged
			 * side (lib/net.c); the VMM only gets its descriptor. */
			sp_argv_opt(q->a, "-netdev", "tap,id=net%zu,fd=%d", i, SP_FD_NIC(i));
		else
			sp_argv_opt(q->a, "-netdev", "tap,id=net%zu,ifname=%s,script=no,downscript=no",
				    i, n->tap);
		sp_argv_opt(q->a, "-device", "virtio-net-%s,netdev=net%zu,mac=%s", sp_qemu_bus(q), i,
			    n->mac);
	}
}

static void sp_qemu_passthrough(struct sp_qemu *q)
{
	const struct sp_plan *p = q->p;

	if (p->nusb)
		sp_argv_opt(q->a, "-device", "qemu-xhci,id=xhci");
	for (size_t i = 0; i < p->nusb; i++) {
		const struct sp_usb_id *u = &p->usb[i].id;
		if (u->by_id)
			sp_argv_opt(q->a, "-device", "usb-host,bus=xhci.0,vendorid=0x%04x,productid=0x%04x",
				    u->vendor, u->product);
		else
			sp_argv_opt(q->a, "-device", "usb-host,bus=xhci.0,hostbus=%u,hostport=%s", u->bus,
				    u->port);
	}
	for (size_t i = 0; i < p->npci; i++)
		sp_argv_opt(q->a, "-device", "vfio-pci,host=%s", p->pci[i].address);
}

/*
 * Free page reporting: the guest tells the VMM which 2-4 MiB blocks it has
 * freed, and QEMU drops them from its RSS (they come back as zero pages if
 * touched again).  No target size: the host never inflates the balloon.
 */
static void sp_qemu_balloon(struct sp_qemu *q)
{
	if (q->p->balloon)
		sp_argv_opt(q->a, "-device", "virtio-balloon-%s,free-page-reporting=on",
			    sp_qemu_bus(q));
}

static int sp_qemu_build(const struct sp_plan *p, struct sp_argv *a, struct sp_err *err)
{
	struct sp_qemu q = {.p = p, .a = a, .memfd = p->nshares > 0};

	sp_argv_add(a, sp_qemu_binary(p->arch));
	sp_argv_opt(a, "-name", "%s", p->instance);
	sp_qemu_machine(&q);
	if (q.microvm && q.memfd)
		/* vhost-user needs a modern (virtio 1.0) transport. */
		sp_argv_opt(a, "-global", "virtio-mmio.force-legacy=false");
	sp_qemu_cpu(&q);
	if (sp_qemu_memory(&q, err) < 0)
		return -1;
	/* seccomp: no obsolete system calls, no set*id, no fork/exec, no
	 * scheduler or resource changes; what QEMU needs after start-up is
	 * all a compromised device model would have. */
	sp_argv_opt(a, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	sp_argv_add(a, "-nodefaults");
	sp_argv_add(a, "-no-user-config");
	sp_argv_add(a, "-nographic");
	/* A guest reboot (including panic=-1) ends the VMM: the supervisor
	 * decides what happens next, not the guest. */
	sp_argv_add(a, "-no-reboot");
	sp_qemu_boot(&q);
	sp_qemu_channels(&q);
	sp_qemu_display(&q);
	sp_qemu_root(&q);
	sp_qemu_disks(&q);
	sp_qemu_shares(&q);
	sp_qemu_nics(&q);
	sp_qemu_passthrough(&q);
	sp_qemu_balloon(&q);
	return 0;
}

static const char *sp_qemu_arch_refusal(enum sp_arch arch)
{
	(void)arch;
	return NULL;
}

const struct sp_backend sp_backend_qemu = {
	.name = "qemu",
	.hv = SP_HV_QEMU,
	.arch_refusal = sp_qemu_arch_refusal,
	.build = sp_qemu_build,
	/* -add-fd fd sets; a read-write volume's set also holds a read-only
	 * twin, since QEMU may ask for either access mode. */
	.launchable = true,
	.root_fd = true,
	.disk_fds = true,
	.disk_ro_fds = true,
};
