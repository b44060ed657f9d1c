/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The data-safety rules, enforced when an instance starts: a block volume
 * may be open in several running instances only if every one binds it
 * "ro"; a "rw" binding is exclusive, unless its instance is disposable
 * (it writes a throwaway layer, and reads the volume); USB and PCI devices
 * are exclusive.
 * The daemon handles one request at a time, so two clients starting
 * conflicting instances at once cannot both pass this check.
 *
 * A device is held, not the resource that names it: two resources may
 * name one device (a PCI address with and without its domain, one USB
 * device by vendor:product and by port, two functions of one IOMMU
 * group), so devices are compared as the host resolves them
 * (sp_devices_exclusive).  sp_devices_grant checks the node records again
 * at launch, for starts outside this daemon.
 */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "launch.h"

/* The other VM's binding of the resource called `name`: by name, since
 * after a switch two VMs may run instances of different configurations. */
static const struct sp_binding *sd_binding_of(const struct sd_vm *other, const char *name)
{
	const struct sp_instance *inst = other->inst;

	for (size_t i = 0; i < inst->nbindings; i++)
		if (strcmp(other->cfg->resources[inst->bindings[i].resource].name, name) == 0)
			return &inst->bindings[i];
	return NULL;
}

/* Whether the instance writes the volume itself: a disposable instance
 * writes its throwaway layer, and only reads the volume. */
static bool sd_writes(const struct sp_instance *inst, const struct sp_binding *b)
{
	return b->mode == SP_MODE_RW && !inst->disposable;
}

static bool sd_conflict(const struct sp_resource *r, const struct sp_instance *me,
			const struct sp_binding *mine, const struct sp_instance *them,
			const struct sp_binding *theirs)
{
	switch (r->type) {
	case SP_RES_BLOCK:
		return sd_writes(me, mine) || sd_writes(them, theirs);
	case SP_RES_USB: /* by device: sd_rules_devices */
	case SP_RES_PCI:
	case SP_RES_DIRECTORY: /* the host file system arbitrates */
	case SP_RES_NET:       /* a segment is for sharing */
		return false;
	}
	return true;
}

static int sd_rules_devices(struct sd *d, const struct sd_vm *vm, struct sp_err *err)
{
	if (!vm->plan->nusb && !vm->plan->npci)
		return 0;
	for (size_t j = 0; j < d->nvms; j++) {
		const struct sd_vm *other = &d->vms[j];
		if (other == vm || !sd_vm_active(other))
			continue;
		if (sp_devices_exclusive(vm->plan, other->plan, err) < 0)
			return -1;
	}
	return 0;
}

int sd_rules_check(struct sd *d, const struct sd_vm *vm, struct sp_err *err)
{
	const struct sp_instance *inst = vm->inst;

	for (size_t i = 0; i < inst->nbindings; i++) {
		const struct sp_binding *mine = &inst->bindings[i];
		const struct sp_resource *r = &vm->cfg->resources[mine->resource];
		for (size_t j = 0; j < d->nvms; j++) {
			const struct sd_vm *other = &d->vms[j];
			const struct sp_binding *theirs;
			if (other == vm || !sd_vm_active(other))
				continue;
			theirs = sd_binding_of(other, r->name);
			if (!theirs || !sd_conflict(r, inst, mine, other->inst, theirs))
				continue;
			sp_err_set(
				err, "resource %s is held %s by running instance %s; %s", r->name,
				sd_writes(other->inst, theirs) ? "rw" : "ro", other->inst->name,
				sd_writes(other->inst, theirs) ?
					"a writable volume is exclusive: stop that instance first" :
					"it cannot be opened read-write while others read it: stop them first");
			return -1;
		}
	}
	return sd_rules_devices(d, vm, err);
}
