/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The data-safety rules, enforced when an instance starts: a block volume
 * may be open in several running instances only if every one binds it
 * "ro"; a "rw" binding is exclusive; USB and PCI devices are exclusive.
 * The daemon handles one request at a time, so two clients starting
 * conflicting instances at once cannot both pass this check.
 */
#include <stdio.h>

#include "daemon.h"

static const struct sp_binding *sd_binding_of(const struct sp_instance *inst, size_t res)
{
	for (size_t i = 0; i < inst->nbindings; i++)
		if (inst->bindings[i].resource == res)
			return &inst->bindings[i];
	return NULL;
}

static bool sd_conflict(const struct sp_resource *r, const struct sp_binding *mine,
			const struct sp_binding *theirs)
{
	switch (r->type) {
	case SP_RES_BLOCK:
		return mine->mode == SP_MODE_RW || theirs->mode == SP_MODE_RW;
	case SP_RES_USB:
	case SP_RES_PCI:
		return true;
	case SP_RES_DIRECTORY: /* the host file system arbitrates */
	case SP_RES_NET:       /* a segment is for sharing */
		return false;
	}
	return true;
}

int sd_rules_check(struct sd *d, const struct sd_vm *vm, char *why, size_t len)
{
	const struct sp_instance *inst = vm->inst;

	for (size_t i = 0; i < inst->nbindings; i++) {
		const struct sp_binding *mine = &inst->bindings[i];
		const struct sp_resource *r = &d->cfg->resources[mine->resource];
		for (size_t j = 0; j < d->nvms; j++) {
			const struct sd_vm *other = &d->vms[j];
			const struct sp_binding *theirs;
			if (other == vm || !sd_vm_active(other))
				continue;
			theirs = sd_binding_of(other->inst, mine->resource);
			if (!theirs || !sd_conflict(r, mine, theirs))
				continue;
			if (r->type == SP_RES_BLOCK)
				snprintf(why, len,
					 "resource %s is held %s by running instance %s; %s",
					 r->name, sp_mode_name(theirs->mode), other->inst->name,
					 theirs->mode == SP_MODE_RW
						 ? "a writable volume is exclusive: stop that instance first"
						 : "it cannot be opened read-write while others read it: stop them first");
			else
				snprintf(why, len,
					 "%s device %s is held by running instance %s; stop that instance first",
					 sp_res_type_name(r->type), r->name, other->inst->name);
			return -1;
		}
	}
	return 0;
}
