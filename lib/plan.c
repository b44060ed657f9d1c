/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Model -> plans.  The model is already valid; what can still fail here
 * depends on the host or the command line: an unknown instance name, a
 * hypervisor chosen with --hypervisor that cannot run an instance, socket
 * paths too long for the run directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "backend.h"
#include "paths.h"
#include "plan.h"
#include "pmem.h"
#include "pmem_label.h"
#include "uid.h"

/* virtiofs limits a mount tag to 36 bytes. */
#define SP_TAG_MAX 36

static char *sp_root_image(struct sp_arena *a, const struct sp_config *cfg,
			   const struct sp_application *app, const struct sp_host *host)
{
	if (!app->image_is_path)
		return sp_image_path(a, host->state_dir, app->image);
	if (app->image[0] == '/')
		return sp_arena_strdup(a, app->image);
	return sp_path_join(a, cfg->base_dir, app->image);
}

static char *sp_share_tag(struct sp_arena *a, const char *name)
{
	if (strlen(name) <= SP_TAG_MAX)
		return sp_arena_strdup(a, name);
	/* Keep tags of long names distinct: a prefix and a hash of the rest. */
	return sp_arena_printf(a, "%.27s-%08x", name, (unsigned)(sp_hash64(name, 0) & 0xffffffffu));
}

/* Byte order of names (strcmp): what allocations that must not depend on
 * the order of the file go by. */
static int sp_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

#define SP_SLOTS_MAX 65536u

/*
 * Open addressing in name order: the n distinct names take, in their byte
 * order, each its preferred slot or the next free one upward (wrapping at
 * nslots); returns the slot of `target`, one of them (n <= nslots).  So a
 * slot depends on the names only, not on their order in the file (a Nix
 * file lists them by name, a data file as written), and a name added moves
 * another's slot only if it takes that slot first.
 */
static unsigned sp_slot_by_name(const char **names, size_t n, const char *target,
				unsigned (*preferred)(const char *), unsigned nslots)
{
	uint8_t used[SP_SLOTS_MAX / 8] = {0};
	unsigned s = 0;

	qsort(names, n, sizeof(*names), sp_name_cmp);
	for (size_t k = 0; k < n; k++) {
		s = preferred(names[k]) % nslots;
		while (used[s / 8] & (1u << (s % 8)))
			s = (s + 1) % nslots;
		used[s / 8] |= (uint8_t)(1u << (s % 8));
		if (strcmp(names[k], target) == 0)
			break; /* the names after it change nothing before it */
	}
	return s;
}

/* A segment's preferred subnet 10.X.Y.0/24, as X * 256 + Y: 16 bits of a
 * hash of its name. */
static unsigned sp_subnet_slot(const char *name)
{
	uint64_t h = sp_hash64(name, 0x6e6574); /* "net" */

	return (unsigned)((h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) & 0xffff);
}

/* The segment's subnet: the net resources of the file never share one. */
static unsigned sp_segment_subnet(const struct sp_config *cfg, size_t res_index)
{
	const char *names[SP_LIMIT_RESOURCES];
	size_t n = 0;

	for (size_t i = 0; i < cfg->nresources && n < SP_LIMIT_RESOURCES; i++)
		if (cfg->resources[i].type == SP_RES_NET)
			names[n++] = cfg->resources[i].name;
	return sp_slot_by_name(names, n, cfg->resources[res_index].name, sp_subnet_slot,
			       SP_SLOTS_MAX);
}

/* An instance's preferred host number on a segment, less 2: a hash of its
 * name, the same on every segment unless taken there. */
static unsigned sp_host_slot(const char *name)
{
	uint64_t h = sp_hash64_mix(sp_hash64(name, 0x6970)); /* "ip" */

	return (unsigned)(h % SP_LIMIT_SEGMENT_INSTANCES);
}

/* The instance's host number on the segment, .2 to .254 (0 if the
 * segment has more instances than numbers: check refuses that). */
static unsigned sp_segment_host(const struct sp_config *cfg, const struct sp_instance *inst,
				size_t res_index)
{
	const char *names[SP_LIMIT_INSTANCES];
	size_t n = 0;

	for (size_t i = 0; i < cfg->ninstances && n < SP_LIMIT_INSTANCES; i++) {
		const struct sp_instance *o = &cfg->instances[i];
		for (size_t b = 0; b < o->nbindings; b++)
			if (o->bindings[b].resource == res_index) {
				names[n++] = o->name;
				break;
			}
	}
	if (n > SP_LIMIT_SEGMENT_INSTANCES)
		return 0;
	return 2 + sp_slot_by_name(names, n, inst->name, sp_host_slot, SP_LIMIT_SEGMENT_INSTANCES);
}

static void sp_mac(char out[18], uint64_t h)
{
	/* Locally administered, unicast. */
	snprintf(out, 18, "02:%02x:%02x:%02x:%02x:%02x", (unsigned)(h >> 56) & 0xff,
		 (unsigned)(h >> 48) & 0xff, (unsigned)(h >> 40) & 0xff, (unsigned)(h >> 32) & 0xff,
		 (unsigned)(h >> 24) & 0xff);
}

static int sp_plan_nic(struct sp_arena *a, struct sp_plan_nic *nic, const struct sp_config *cfg,
		       const struct sp_instance *inst, size_t res_index, struct sp_err *err)
{
	const struct sp_resource *res = &cfg->resources[res_index];
	char key[2 * SP_NAME_MAX + 2];
	unsigned subnet = sp_segment_subnet(cfg, res_index);
	unsigned host = sp_segment_host(cfg, inst, res_index);
	uint64_t h, hb;

	if (host == 0) {
		sp_err_set(err, "net segment %s is bound into more than %d instances", res->name,
			   SP_LIMIT_SEGMENT_INSTANCES);
		return -1;
	}
	snprintf(key, sizeof(key), "%s/%s", inst->name, res->name);
	h = sp_hash64(key, 0);
	hb = sp_hash64(res->name, 0x627264); /* "brd" */
	nic->resource = sp_arena_strdup(a, res->name);
	/* 15 characters: the kernel's limit for interface names (IFNAMSIZ-1). */
	nic->tap = sp_arena_printf(a, "sp%013llx", (unsigned long long)(h & 0xfffffffffffffull));
	nic->bridge = sp_arena_printf(a, "spb%012llx", (unsigned long long)(hb & 0xffffffffffffull));
	sp_mac(nic->mac, h);
	sp_mac(nic->bridge_mac, hb);
	unsigned char x = (unsigned char)(subnet >> 8), y = (unsigned char)subnet;
	snprintf(nic->subnet, sizeof(nic->subnet), "10.%u.%u.0", x, y);
	snprintf(nic->address, sizeof(nic->address), "10.%u.%u.%u", x, y, (unsigned char)host);
	nic->prefix = 24;
	nic->nat = res->nat;
	if (res->nat)
		snprintf(nic->gateway, sizeof(nic->gateway), "10.%u.%u.1", x, y);
	return 0;
}

static int sp_plan_bindings(struct sp_arena *a, struct sp_plan *p, const struct sp_config *cfg,
			    const struct sp_instance *inst, const struct sp_host *host,
			    struct sp_err *err)
{
	size_t n = inst->nbindings;

	p->disks = sp_arena_array(a, n, sizeof(*p->disks));
	p->shares = sp_arena_array(a, n, sizeof(*p->shares));
	p->nics = sp_arena_array(a, n, sizeof(*p->nics));
	p->usb = sp_arena_array(a, n, sizeof(*p->usb));
	p->pci = sp_arena_array(a, n, sizeof(*p->pci));
	for (size_t i = 0; i < n; i++) {
		const struct sp_binding *b = &inst->bindings[i];
		const struct sp_resource *res = &cfg->resources[b->resource];
		switch (res->type) {
		case SP_RES_BLOCK: {
			struct sp_plan_disk *d = &p->disks[p->ndisks++];
			d->resource = sp_arena_strdup(a, res->name);
			d->create = res->path == NULL;
			d->image = d->create ? sp_arena_printf(a, "%s/volumes/%s.img", host->state_dir,
							       res->name)
					     : sp_arena_strdup(a, res->path);
			d->guest_path = sp_arena_strdup(a, b->path);
			d->mode = b->mode;
			d->fs = sp_arena_strdup(a, res->fs);
			d->size = res->size;
			break;
		}
		case SP_RES_DIRECTORY: {
			struct sp_plan_share *s = &p->shares[p->nshares++];
			s->resource = sp_arena_strdup(a, res->name);
			s->host_path = sp_arena_strdup(a, res->path);
			s->guest_path = sp_arena_strdup(a, b->path);
			s->tag = sp_share_tag(a, res->name);
			s->socket = sp_arena_printf(a, "%s/%s/fs-%s.sock", host->run_dir,
						    inst->name, res->name);
			s->mode = b->mode;
			break;
		}
		case SP_RES_NET:
			if (sp_plan_nic(a, &p->nics[p->nnics++], cfg, inst, b->resource, err) < 0)
				return -1;
			break;
		case SP_RES_USB:
			p->usb[p->nusb].resource = sp_arena_strdup(a, res->name);
			p->usb[p->nusb].id = res->usb;
			p->nusb++;
			break;
		case SP_RES_PCI:
			p->pci[p->npci].resource = sp_arena_strdup(a, res->name);
			p->pci[p->npci].address = sp_arena_strdup(a, res->pci_address);
			p->npci++;
			break;
		}
	}
	return 0;
}

/* Copied, so that a plan outlives the configuration it came from. */
static void sp_plan_command(struct sp_arena *a, struct sp_command *to,
			    const struct sp_command *from)
{
	to->argc = from->argc;
	to->argv = sp_arena_array(a, to->argc + 1, sizeof(char *));
	for (size_t j = 0; j < to->argc; j++)
		to->argv[j] = sp_arena_strdup(a, from->argv[j]);
}

/* Adds NAME=VALUE unless the name is there (check made sure it is there
 * with the same value). */
static void sp_plan_env_add(struct sp_arena *a, struct sp_env *env, size_t *n,
			    const struct sp_env *e)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(env[i].name, e->name) == 0)
			return;
	env[*n].name = sp_arena_strdup(a, e->name);
	env[*n].value = sp_arena_strdup(a, e->value);
	(*n)++;
}

/* Every application's commands, in the order the instance names them,
 * and their environment. */
static void sp_plan_program(struct sp_arena *a, struct sp_plan *p, const struct sp_config *cfg,
			    const struct sp_instance *inst)
{
	size_t ncmds = 0, nenv = 0, k = 0;
	struct sp_command *cmds;
	struct sp_plan_app *apps;
	struct sp_env *env;

	for (size_t i = 0; i < inst->napplications; i++) {
		ncmds += cfg->applications[inst->applications[i]].ncommands;
		nenv += cfg->applications[inst->applications[i]].nenv;
	}
	cmds = sp_arena_array(a, ncmds, sizeof(*cmds));
	env = sp_arena_array(a, nenv, sizeof(*env));
	apps = sp_arena_array(a, inst->napplications, sizeof(*apps));
	p->nenv = 0;
	for (size_t i = 0; i < inst->napplications; i++) {
		const struct sp_application *app = &cfg->applications[inst->applications[i]];
		apps[i].name = sp_arena_strdup(a, app->name);
		apps[i].first = k;
		apps[i].ncommands = app->ncommands;
		for (size_t c = 0; c < app->ncommands; c++)
			sp_plan_command(a, &cmds[k++], &app->commands[c]);
		for (size_t e = 0; e < app->nenv; e++)
			sp_plan_env_add(a, env, &p->nenv, &app->env[e]);
		p->application = i == 0 ? apps[0].name :
					  sp_arena_printf(a, "%s+%s", p->application, app->name);
	}
	p->commands = cmds;
	p->ncommands = ncmds;
	p->env = env;
	p->napps = inst->napplications;
	p->apps = p->napps > 1 ? apps : NULL;
}

enum sp_kernel sp_plan_kernel(const struct sp_host *host, enum sp_arch arch)
{
	if (!host->kernel_set && arch == SP_ARCH_AARCH64)
		return SP_KERNEL_DEBIAN;
	return host->kernel;
}

uint64_t sp_plan_ram_mib(enum sp_arch arch, uint64_t memory_mib)
{
	if (arch == SP_ARCH_PPC64LE)
		return (memory_mib + 255) / 256 * 256;
	return memory_mib;
}

uint32_t sp_plan_tb_mib(enum sp_accel accel, uint64_t memory_mib)
{
	uint64_t mib = memory_mib / 8;

	if (accel != SP_ACCEL_TCG)
		return 0;
	if (mib < 32)
		mib = 32;
	if (mib > 256)
		mib = 256;
	return (uint32_t)mib;
}

int sp_kernel_memory_check(enum sp_kernel kernel, const char *instance, uint64_t memory_mib,
			   struct sp_err *err)
{
	if (kernel != SP_KERNEL_DEBIAN || memory_mib >= SP_MEMORY_MIN_DEBIAN >> 20)
		return 0;
	sp_err_set(
		err,
		"instance %s has %lluM of memory, and Debian's guest kernel (SPECTRUM_KERNEL=debian) needs at least %lluM; give it \"memory\": \"%lluM\" or boot Spectrum's kernel (unset SPECTRUM_KERNEL)",
		instance, (unsigned long long)memory_mib,
		(unsigned long long)(SP_MEMORY_MIN_DEBIAN >> 20),
		(unsigned long long)(SP_MEMORY_MIN_DEBIAN >> 20));
	return -1;
}

static enum sp_accel sp_plan_accel(const struct sp_host *host, enum sp_arch arch, enum sp_hv hv)
{
	/* crosvm and Cloud Hypervisor are KVM-only VMMs. */
	if (hv != SP_HV_QEMU)
		return SP_ACCEL_KVM;
	/* A foreign architecture can only be emulated. */
	if (arch != host->arch)
		return SP_ACCEL_TCG;
	if (host->accel_forced)
		return host->forced;
	return host->kvm_usable ? SP_ACCEL_KVM : SP_ACCEL_TCG;
}

static char *sp_plan_cmdline(struct sp_arena *a, const struct sp_plan *p)
{
	/* panic=-1: a guest that panics reboots at once, and -no-reboot turns
	 * that into an exit the host sees, instead of a hung VM. */
	/* loglevel=3: only critical kernel messages (a panic) share the
	 * console with the application's output. */
	/* swiotlb=noforce (Spectrum's kernel on x86): a memory hot-plug
	 * window above 4 GiB (shareRoot on q35) makes the kernel reserve and
	 * touch a 32-64 MiB bounce buffer that no device here needs: virtio
	 * and xHCI address all memory.  A passed-through PCI device may have
	 * a 32-bit DMA mask, so then the kernel decides. */
	const char *tlb =
		p->kernel_kind == SP_KERNEL_SPECTRUM && p->arch == SP_ARCH_X86_64 && p->npci == 0 ?
			" swiotlb=noforce" :
			"";
	/* tsc=reliable (Spectrum's kernel under TCG): microvm has no HPET or
	 * ACPI PM timer to check the TSC against, so the clocksource watchdog
	 * falls back to jiffies, which needs the periodic tick, and an idle
	 * guest then wakes its VMM 100 times a second.  TCG's TSC follows the
	 * host's clock, so it is reliable. */
	const char *tsc = p->kernel_kind == SP_KERNEL_SPECTRUM ? " tsc=reliable" : "";

	if (p->arch == SP_ARCH_X86_64 && p->accel == SP_ACCEL_TCG && p->tsc_khz)
		return sp_arena_printf(a, "loglevel=3 panic=-1 tsc_early_khz=%u%s%s", p->tsc_khz,
				       tsc, tlb);
	return sp_arena_printf(a, "loglevel=3 panic=-1%s", tlb);
}

static int sp_plan_sockets(struct sp_arena *a, struct sp_plan *p, const struct sp_host *host,
			   struct sp_err *err)
{
	const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;

	p->run_dir = sp_arena_printf(a, "%s/%s", host->run_dir, p->instance);
	p->initrd = sp_arena_printf(a, "%s/initrd.img", p->run_dir);
	p->console_socket = sp_arena_printf(a, "%s/console.sock", p->run_dir);
	p->control_socket = sp_arena_printf(a, "%s/control.sock", p->run_dir);
	p->qmp_socket = sp_arena_printf(a, "%s/qmp.sock", p->run_dir);
	p->console_log = sp_arena_printf(a, "%s/console.log", p->run_dir);
	p->vmm_log = sp_arena_printf(a, "%s/vmm.log", p->run_dir);
	p->pid_file = sp_arena_printf(a, "%s/pid", p->run_dir);
	const char *longest = p->console_socket;

	for (size_t i = 0; i < p->nshares; i++)
		if (strlen(p->shares[i].socket) > strlen(longest))
			longest = p->shares[i].socket;
	if (strlen(longest) > max) {
		sp_err_set(err,
			   "socket path %s is longer than %zu bytes; use a shorter SPECTRUM_RUN_DIR or resource name",
			   longest, max);
		return -1;
	}
	return 0;
}

/* Each read-write disk's overlay: root's file in root's run directory,
 * named by the disk's index, as its serial is. */
static int sp_plan_disposable(struct sp_arena *a, struct sp_plan *p, struct sp_err *err)
{
	for (size_t i = 0; i < p->nshares; i++)
		if (p->shares[i].mode == SP_MODE_RW) {
			sp_err_set(
				err,
				"a disposable instance cannot write directory %s: its writes would reach the host; bind it \"ro\" or run it without disposable",
				p->shares[i].resource);
			return -1;
		}
	p->disposable = true;
	for (size_t i = 0; i < p->ndisks; i++)
		if (p->disks[i].mode == SP_MODE_RW && !p->disks[i].overlay)
			p->disks[i].overlay =
				sp_arena_printf(a, "%s/overlay-vol%zu.qcow2", p->run_dir, i);
	return 0;
}

int sp_plan_make_disposable(struct sp_plans *plans, struct sp_plan *p, struct sp_err *err)
{
	if (sp_plan_disposable(plans->arena, p, err) < 0) {
		snprintf(err->place, sizeof(err->place), "instances.%s", p->instance);
		return -1;
	}
	return 0;
}

static void sp_plan_display(struct sp_arena *a, struct sp_plan *p, const struct sp_instance *inst)
{
	struct sp_plan_display *d = &p->display;

	if (!inst->display.enabled)
		return;
	d->enabled = true;
	memcpy(d->color, inst->display.color, sizeof(d->color));
	d->fullscreen = inst->display.fullscreen;
	d->clipboard = inst->display.clipboard;
	d->compress = inst->display.compress;
	d->relay_uid = sp_uid_relay(p->vmm_uid);
	d->log = sp_arena_printf(a, "%s/display.log", p->run_dir);
	d->pid_file = sp_arena_printf(a, "%s/display.pid", p->run_dir);
}

/*
 * A shared root on ppc64le is mapped from root's file that wraps the image
 * in namespace labels and an fsdax info block (pmem_label.h), named by the
 * image's hash: the plan names it, the launcher makes it.  An image that
 * is not built yet is reported when the instance starts, as on x86.
 */
static int sp_plan_pmem(struct sp_arena *a, struct sp_plan *p, const struct sp_host *host,
			struct sp_err *err)
{
	struct sp_pmem_layout l;
	uint64_t size;
	char *dir;

	if (!p->root.shared || p->arch != SP_ARCH_PPC64LE || p->root.size == 0)
		return 0;
	dir = sp_arena_printf(a, "%s/pmem", host->state_dir);
	if (sp_pmem_hash(p->root.image, dir, p->root.sha256, &size, err) < 0 ||
	    sp_pmem_layout(&l, p->root.sha256, size, err) < 0)
		return -1;
	p->root.size = size;
	p->root.pmem_size = l.file_size;
	sp_pmem_uuid_str(l.device_uuid, p->root.pmem_uuid);
	p->root.pmem = sp_arena_printf(a, "%s/%s.pmem", dir, p->root.sha256);
	return 0;
}

static int sp_plan_one(struct sp_arena *a, struct sp_plan *p, const struct sp_config *cfg,
		       const struct sp_instance *inst, const struct sp_host *host, int hv_override,
		       struct sp_err *err)
{
	const struct sp_application *app = &cfg->applications[inst->application];
	const struct sp_backend *be;
	const char *why;
	struct stat st;

	p->instance = sp_arena_strdup(a, inst->name);
	p->arch = app->arch;
	p->hypervisor = hv_override >= 0 ? (enum sp_hv)hv_override : inst->hypervisor;
	be = sp_backend_get(p->hypervisor);
	why = be->arch_refusal(p->arch);
	if (why) {
		sp_err_set(err, "%s; use the qemu hypervisor for it", why);
		return -1;
	}
	p->accel = sp_plan_accel(host, p->arch, p->hypervisor);
	p->memory_mib = sp_plan_ram_mib(p->arch, inst->memory >> 20);
	p->vcpus = inst->vcpus;
	p->tb_mib = sp_plan_tb_mib(p->accel, p->memory_mib);
	p->tsc_khz = p->arch == SP_ARCH_X86_64 && p->accel == SP_ACCEL_TCG ? host->tsc_khz : 0;
	p->kernel_kind = sp_plan_kernel(host, p->arch);
	/* Debian's kernel has the balloon driver as a module its initramfs
	 * does not carry: the device would do nothing there. */
	p->balloon = p->kernel_kind == SP_KERNEL_SPECTRUM;
	p->kernel = sp_arena_printf(a, "%s/kernels/%s%s/vmlinux", host->state_dir,
				    p->kernel_kind == SP_KERNEL_SPECTRUM ? "spectrum-" : "",
				    sp_arch_name(p->arch));
	p->base_initrd = sp_arena_printf(a, "%s/kernels/%s%s/initrd.img", host->state_dir,
					 p->kernel_kind == SP_KERNEL_SPECTRUM ? "spectrum-" : "",
					 sp_arch_name(p->arch));
	p->root.image = sp_root_image(a, cfg, app, host);
	p->root.shared = inst->share_root;
	/* The pmem mapping must be exactly the file's size; an image that is
	 * not built yet is reported when the instance starts. */
	if (p->root.shared && stat(p->root.image, &st) == 0 && S_ISREG(st.st_mode))
		p->root.size = (uint64_t)st.st_size;
	if (sp_plan_pmem(a, p, host, err) < 0)
		return -1;
	sp_plan_program(a, p, cfg, inst);
	if (sp_plan_bindings(a, p, cfg, inst, host, err) < 0 ||
	    sp_plan_sockets(a, p, host, err) < 0)
		return -1;
	p->cmdline = sp_plan_cmdline(a, p); /* after the bindings: it depends on them */
	sp_plan_display(a, p, inst);
	return inst->disposable ? sp_plan_disposable(a, p, err) : 0;
}

/* Errors name the instance, in the place syntax of diagnostics. */
static void sp_plans_error_instance(struct sp_err *err, const char *instance)
{
	snprintf(err->place, sizeof(err->place), "instances.%s", instance);
}

/* The VMM uids of all the file's instances, even when one is planned: an
 * instance's uid depends on the names of the others (lib/uid.h). */
static uint32_t *sp_plan_uids(struct sp_arena *a, const struct sp_config *cfg,
			      const struct sp_host *host)
{
	const char **names = sp_arena_array(a, cfg->ninstances, sizeof(*names));
	uint32_t *uids = sp_arena_array(a, cfg->ninstances, sizeof(*uids));

	for (size_t i = 0; i < cfg->ninstances; i++)
		names[i] = cfg->instances[i].name;
	sp_uid_assign(names, cfg->ninstances, host->vmm_uid_base, uids);
	return uids;
}

struct sp_plans *sp_plan_compile(const struct sp_config *cfg, const struct sp_host *host,
				 const char *only, int hv_override, struct sp_err *err)
{
	struct sp_arena *a;
	struct sp_plans *plans;
	uint32_t *uids;

	if (only && !sp_config_instance(cfg, only)) {
		sp_err_set(err, "%s has no instance named \"%s\"; `spectrum plan %s` lists them", cfg->file,
			   only, cfg->file);
		return NULL;
	}
	a = sp_arena_new();
	plans = sp_arena_alloc(a, sizeof(*plans));
	plans->arena = a;
	plans->v = sp_arena_array(a, cfg->ninstances, sizeof(struct sp_plan));
	uids = sp_plan_uids(a, cfg, host);
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sp_instance *inst = &cfg->instances[i];
		if (only && strcmp(only, inst->name) != 0)
			continue;
		plans->v[plans->n].vmm_uid = uids[i];
		if (sp_plan_one(a, &plans->v[plans->n], cfg, inst, host, hv_override, err) < 0) {
			sp_plans_error_instance(err, inst->name);
			sp_arena_free(a);
			return NULL;
		}
		plans->n++;
	}
	return plans;
}

void sp_plans_free(struct sp_plans *p)
{
	if (p)
		sp_arena_free(p->arena);
}
