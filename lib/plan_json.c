/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stable JSON form of a plan.  Keys appear in a fixed order and sizes
 * are integers in bytes or MiB, so plans can be compared with diff and
 * consumed by other tools.  Changing a key is a format change.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "plan.h"

static json_t *sp_json_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *sp_json_commands(const struct sp_plan *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->ncommands; i++) {
		json_t *argv = json_array();
		for (size_t j = 0; j < p->commands[i].argc; j++)
			json_array_append_new(argv, json_string(p->commands[i].argv[j]));
		json_array_append_new(arr, argv);
	}
	return arr;
}

/* Only for several applications: a plan of one keeps its form. */
static json_t *sp_json_apps(const struct sp_plan *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->napps; i++) {
		json_t *cmds = json_array();
		for (size_t c = 0; c < p->apps[i].ncommands; c++) {
			const struct sp_command *cmd = &p->commands[p->apps[i].first + c];
			json_t *argv = json_array();
			for (size_t j = 0; j < cmd->argc; j++)
				json_array_append_new(argv, json_string(cmd->argv[j]));
			json_array_append_new(cmds, argv);
		}
		json_array_append_new(
			arr, json_pack("{s:s, s:o}", "name", p->apps[i].name, "commands", cmds));
	}
	return arr;
}

static json_t *sp_json_env(const struct sp_plan *p)
{
	json_t *obj = json_object();

	for (size_t i = 0; i < p->nenv; i++)
		json_object_set_new(obj, p->env[i].name, json_string(p->env[i].value));
	return obj;
}

static json_t *sp_json_disks(const struct sp_plan *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->ndisks; i++) {
		const struct sp_plan_disk *d = &p->disks[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:b}",
						     "resource", d->resource, "image", d->image,
						     "path", d->guest_path, "mode", sp_mode_name(d->mode),
						     "fs", d->fs, "size", (json_int_t)d->size,
						     "create", d->create));
		if (d->overlay)
			json_object_set_new(json_array_get(arr, i), "overlay",
					    json_string(d->overlay));
	}
	return arr;
}

static json_t *sp_json_shares(const struct sp_plan *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->nshares; i++) {
		const struct sp_plan_share *s = &p->shares[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "resource",
						     s->resource, "source", s->host_path, "path",
						     s->guest_path, "tag", s->tag, "mode",
						     sp_mode_name(s->mode), "socket", s->socket));
	}
	return arr;
}

static json_t *sp_json_nics(const struct sp_plan *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->nnics; i++) {
		const struct sp_plan_nic *n = &p->nics[i];
		char addr[24];
		snprintf(addr, sizeof(addr), "%s/%u", n->address, n->prefix);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b}", "segment",
						     n->resource, "tap", n->tap, "bridge", n->bridge,
						     "mac", n->mac, "address", addr, "gateway",
						     n->gateway[0] ? json_string(n->gateway) : json_null(),
						     "nat", n->nat));
	}
	return arr;
}

static json_t *sp_json_usb(const struct sp_plan *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->nusb; i++) {
		const struct sp_plan_usb *u = &p->usb[i];
		char vendor[8], product[8];
		if (u->id.by_id) {
			snprintf(vendor, sizeof(vendor), "%04x", u->id.vendor);
			snprintf(product, sizeof(product), "%04x", u->id.product);
			json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "resource", u->resource,
							     "vendor", vendor, "product", product));
		} else {
			json_array_append_new(arr, json_pack("{s:s, s:i, s:s}", "resource", u->resource,
							     "bus", (int)u->id.bus, "port", u->id.port));
		}
	}
	return arr;
}

/* Only for an instance granted a display: other plans stay as they were. */
static void sp_json_display(json_t *o, const struct sp_plan *p)
{
	const struct sp_plan_display *d = &p->display;

	if (!d->enabled)
		return;
	json_object_set_new(
		o, "display",
		json_pack("{s:s, s:b, s:s, s:s, s:I, s:s, s:s}", "color", d->color, "fullscreen",
			  d->fullscreen, "clipboard", sp_clipboard_name(d->clipboard),
			  "compression", sp_wl_compress_name(d->compress), "relay_uid",
			  (json_int_t)d->relay_uid, "log", d->log, "pid_file", d->pid_file));
}

static json_t *sp_json_pci(const struct sp_plan *p)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < p->npci; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s}", "resource", p->pci[i].resource,
						     "address", p->pci[i].address));
	return arr;
}

char *sp_plan_to_json(const struct sp_plan *p)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "instance", json_string(p->instance));
	json_object_set_new(o, "application", json_string(p->application));
	json_object_set_new(o, "arch", json_string(sp_arch_name(p->arch)));
	json_object_set_new(o, "hypervisor", json_string(sp_hv_name(p->hypervisor)));
	json_object_set_new(o, "accel", json_string(sp_accel_name(p->accel)));
	json_object_set_new(o, "memory_mib", json_integer((json_int_t)p->memory_mib));
	if (p->tb_mib)
		json_object_set_new(o, "tb_mib", json_integer(p->tb_mib));
	json_object_set_new(o, "balloon", json_boolean(p->balloon));
	json_object_set_new(o, "vcpus", json_integer(p->vcpus));
	json_object_set_new(o, "kernel", json_string(p->kernel));
	json_object_set_new(o, "base_initrd", json_string(p->base_initrd));
	json_object_set_new(o, "initrd", json_string(p->initrd));
	json_object_set_new(o, "cmdline", json_string(p->cmdline));
	if (p->disposable)
		json_object_set_new(o, "disposable", json_true());
	json_t *root = json_pack("{s:s, s:b, s:b, s:I}", "image", p->root.image, "readonly", 1,
				 "shared", p->root.shared, "size", (json_int_t)p->root.size);
	/* ppc64le shared roots: the labelled file the NVDIMM maps (pmem.h). */
	if (p->root.pmem)
		json_object_set_new(root, "pmem",
				    json_pack("{s:s, s:I, s:s, s:s}", "file", p->root.pmem, "size",
					      (json_int_t)p->root.pmem_size, "sha256",
					      p->root.sha256, "uuid", p->root.pmem_uuid));
	json_object_set_new(o, "root", root);
	json_object_set_new(o, "disks", sp_json_disks(p));
	json_object_set_new(o, "shares", sp_json_shares(p));
	json_object_set_new(o, "nics", sp_json_nics(p));
	json_object_set_new(o, "usb", sp_json_usb(p));
	json_object_set_new(o, "pci", sp_json_pci(p));
	sp_json_display(o, p);
	json_object_set_new(o, "commands", sp_json_commands(p));
	if (p->apps)
		json_object_set_new(o, "applications", sp_json_apps(p));
	json_object_set_new(o, "env", sp_json_env(p));
	json_object_set_new(o, "console", json_pack("{s:s, s:s}", "socket", p->console_socket, "log",
						    p->console_log));
	json_object_set_new(o, "control", json_pack("{s:s}", "socket", p->control_socket));
	json_object_set_new(o, "vmm", json_pack("{s:s, s:s, s:o, s:I}", "socket", p->qmp_socket,
						"pid_file", p->pid_file, "run_dir",
						sp_json_str(p->run_dir), "uid", (json_int_t)p->vmm_uid));
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}
