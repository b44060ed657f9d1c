/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The three sections of a data file.  Each reader reports every problem it
 * finds (so one run of `spectrum check` shows them all) and fills the model
 * only with values that passed.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"

#define SP_DEFAULT_MEMORY (256ull << 20)

static const char sp_name_rule[] =
	"use 1 to 63 lower-case letters, digits and '-', starting and ending with a letter or digit";

/* Runs `fn` on every entry of a section object, checking names and count. */
static void sp_read_section(struct sp_reader *r, json_t *section, const char *name, size_t limit,
			    const char *what, void (*fn)(struct sp_reader *, const char *, json_t *))
{
	const char *key;
	json_t *v;

	if (!section)
		return;
	sp_rd_push(r, name);
	if (!sp_rd_type(r, section, JSON_OBJECT, "an object of names")) {
		sp_rd_pop(r);
		return;
	}
	if (json_object_size(section) > limit) {
		sp_diag_error(r->diags, r->place, "more than %zu %s; split the configuration", limit,
			      name);
		sp_rd_pop(r);
		return;
	}
	json_object_foreach(section, key, v) {
		sp_rd_push(r, key);
		if (!sp_name_valid(key))
			sp_diag_error(r->diags, r->place, "invalid %s name; %s", what, sp_name_rule);
		if (sp_rd_type(r, v, JSON_OBJECT, "an object"))
			fn(r, key, v);
		sp_rd_pop(r);
	}
	sp_rd_pop(r);
}

/* --- applications --- */

static int sp_read_argv(struct sp_reader *r, json_t *arr, struct sp_command *cmd)
{
	size_t i;
	json_t *v;
	int rc = 0;

	if (!sp_rd_type(r, arr, JSON_ARRAY, "an array of strings like [\"/usr/bin/app\", \"--flag\"]"))
		return -1;
	if (json_array_size(arr) == 0) {
		sp_diag_error(r->diags, r->place,
			      "empty command; give the program's absolute path and its arguments");
		return -1;
	}
	if (json_array_size(arr) > SP_LIMIT_ARGS) {
		sp_diag_error(r->diags, r->place, "more than %d arguments", SP_LIMIT_ARGS);
		return -1;
	}
	cmd->argc = json_array_size(arr);
	cmd->argv = sp_arena_array(r->arena, cmd->argc + 1, sizeof(char *));
	json_array_foreach(arr, i, v) {
		sp_rd_push_index(r, i);
		if (!sp_rd_type(r, v, JSON_STRING, "a string"))
			rc = -1;
		else if (i == 0 && json_string_value(v)[0] != '/') {
			sp_diag_error(r->diags, r->place,
				      "program \"%.64s\" is not an absolute path; the guest runs no shell to search PATH, so write it like \"/usr/bin/%.64s\"",
				      json_string_value(v), json_string_value(v));
			rc = -1;
		} else
			cmd->argv[i] = sp_arena_strdup(r->arena, json_string_value(v));
		sp_rd_pop(r);
	}
	return rc;
}

static void sp_read_commands(struct sp_reader *r, json_t *obj, struct sp_application *app)
{
	json_t *one = json_object_get(obj, "command");
	json_t *many = json_object_get(obj, "commands");
	json_t *v;
	size_t i;

	if (one && many) {
		sp_diag_error(r->diags, r->place,
			      "both \"command\" and \"commands\" are given; keep \"command\" for one program or \"commands\" for several");
		return;
	}
	if (!one && !many) {
		sp_diag_error(r->diags, r->place,
			      "missing key \"command\"; give the program to run, like [\"/usr/bin/app\"]");
		return;
	}
	if (one) {
		app->commands = sp_arena_alloc(r->arena, sizeof(struct sp_command));
		sp_rd_push(r, "command");
		if (sp_read_argv(r, one, app->commands) == 0)
			app->ncommands = 1;
		sp_rd_pop(r);
		return;
	}
	sp_rd_push(r, "commands");
	if (sp_rd_type(r, many, JSON_ARRAY, "an array of commands")) {
		size_t n = json_array_size(many);
		if (n == 0 || n > SP_LIMIT_COMMANDS)
			sp_diag_error(r->diags, r->place, "give 1 to %d commands", SP_LIMIT_COMMANDS);
		else {
			app->commands = sp_arena_array(r->arena, n, sizeof(struct sp_command));
			app->ncommands = n;
			json_array_foreach(many, i, v) {
				sp_rd_push_index(r, i);
				sp_read_argv(r, v, &app->commands[i]);
				sp_rd_pop(r);
			}
		}
	}
	sp_rd_pop(r);
}

static bool sp_env_name_valid(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static void sp_read_env(struct sp_reader *r, json_t *obj, struct sp_application *app)
{
	json_t *env = sp_rd_get(r, obj, "env", NULL);
	const char *key;
	json_t *v;

	if (!env)
		return;
	if (!sp_rd_type(r, env, JSON_OBJECT, "an object of strings like {\"LANG\": \"C.UTF-8\"}"))
		goto out;
	if (json_object_size(env) > SP_LIMIT_ENV) {
		sp_diag_error(r->diags, r->place, "more than %d variables", SP_LIMIT_ENV);
		goto out;
	}
	app->env = sp_arena_array(r->arena, json_object_size(env), sizeof(struct sp_env));
	json_object_foreach(env, key, v) {
		sp_rd_push(r, key);
		if (!sp_env_name_valid(key))
			sp_diag_error(r->diags, r->place,
				      "invalid variable name; use letters, digits and '_', not starting with a digit");
		else if (sp_rd_type(r, v, JSON_STRING, "a string")) {
			app->env[app->nenv].name = sp_arena_strdup(r->arena, key);
			app->env[app->nenv].value = sp_arena_strdup(r->arena, json_string_value(v));
			app->nenv++;
		}
		sp_rd_pop(r);
	}
out:
	sp_rd_pop(r);
}

static void sp_read_image(struct sp_reader *r, json_t *obj, struct sp_application *app)
{
	if (sp_rd_string(r, obj, "image", "give the root image's name or path", &app->image) < 0)
		return;
	app->image_is_path = strchr(app->image, '/') != NULL;
	if (!app->image_is_path && !sp_name_valid(app->image)) {
		sp_rd_push(r, "image");
		sp_diag_error(r->diags, r->place,
			      "invalid image name \"%.64s\"; %s, or give a path containing '/'",
			      app->image, sp_name_rule);
		sp_rd_pop(r);
	}
}

static void sp_read_arch(struct sp_reader *r, json_t *obj, enum sp_arch *arch)
{
	static const char *const names[] = {"x86_64", "ppc64le", "aarch64", NULL};
	char *s = NULL;
	char hint[256];

	*arch = SP_ARCH_X86_64;
	if (sp_rd_string(r, obj, "arch", NULL, &s) < 0 || sp_arch_parse(s, arch) == 0)
		return;
	sp_rd_suggest(hint, sizeof(hint), s, names, "use one of");
	sp_rd_push(r, "arch");
	sp_diag_error(r->diags, r->place, "unknown architecture \"%.64s\"; %s", s, hint);
	sp_rd_pop(r);
}

static void sp_read_application(struct sp_reader *r, const char *name, json_t *obj)
{
	static const char *const keys[] = {"image", "command", "commands", "env",
					   "memory", "vcpus", "arch", NULL};
	struct sp_config *cfg = r->cfg;
	struct sp_application *app = &cfg->applications[cfg->napplications++];

	app->name = sp_arena_strdup(r->arena, name);
	app->memory = SP_DEFAULT_MEMORY;
	app->vcpus = 1;
	sp_rd_keys(r, obj, keys);
	sp_read_image(r, obj, app);
	sp_read_commands(r, obj, app);
	sp_read_env(r, obj, app);
	sp_rd_size(r, obj, "memory", "memory", SP_MEMORY_MIN, SP_MEMORY_MAX, 1u << 20, "512M",
		   &app->memory);
	sp_rd_uint(r, obj, "vcpus", 1, SP_VCPUS_MAX, &app->vcpus);
	sp_read_arch(r, obj, &app->arch);
}

void sp_read_applications(struct sp_reader *r, json_t *section)
{
	struct sp_config *cfg = r->cfg;

	if (json_is_object(section))
		cfg->applications = sp_arena_array(r->arena, json_object_size(section),
						   sizeof(struct sp_application));
	sp_read_section(r, section, "applications", SP_LIMIT_APPLICATIONS, "application",
			sp_read_application);
}

/* --- resources --- */

static const char *const sp_res_types[] = {"block", "directory", "net", "usb", "pci", NULL};

static char *sp_host_path(struct sp_reader *r, const char *p)
{
	if (p[0] == '/')
		return sp_arena_strdup(r->arena, p);
	return sp_path_join(r->arena, r->cfg->base_dir, p);
}

static void sp_read_block(struct sp_reader *r, json_t *obj, struct sp_resource *res)
{
	static const char *const keys[] = {"type", "size", "fs", "path", NULL};
	char *path = NULL;

	sp_rd_keys(r, obj, keys);
	res->fs = "ext4";
	if (sp_rd_string(r, obj, "fs", NULL, &res->fs) == 0 && strcmp(res->fs, "ext4") != 0) {
		sp_rd_push(r, "fs");
		sp_diag_error(r->diags, r->place,
			      "unsupported file system \"%.32s\"; use \"ext4\"", res->fs);
		sp_rd_pop(r);
	}
	if (sp_rd_string(r, obj, "path", NULL, &path) == 0) {
		res->path = sp_host_path(r, path);
		if (json_object_get(obj, "size"))
			sp_diag_error(r->diags, r->place,
				      "both \"size\" and \"path\" are given; an existing image (\"path\") is used as it is, so remove \"size\"");
		return;
	}
	if (!json_object_get(obj, "size")) {
		sp_diag_error(r->diags, r->place,
			      "missing key \"size\"; give the volume's size, like \"1G\", or the \"path\" of an existing image");
		return;
	}
	sp_rd_size(r, obj, "size", "size", SP_BLOCK_MIN, SP_BLOCK_MAX, 1u << 20, "1G", &res->size);
}

static void sp_read_directory(struct sp_reader *r, json_t *obj, struct sp_resource *res)
{
	static const char *const keys[] = {"type", "path", NULL};
	char norm[PATH_MAX];

	sp_rd_keys(r, obj, keys);
	if (sp_rd_string(r, obj, "path", "give the host directory to share, like \"/srv/shared\"",
			 &res->path) < 0)
		return;
	sp_rd_push(r, "path");
	sp_path_normalize(res->path, norm, sizeof(norm));
	if (res->path[0] != '/')
		sp_diag_error(r->diags, r->place,
			      "host directory \"%.64s\" is not absolute; start it with \"/\"", res->path);
	else if (strcmp(norm, "/") == 0)
		sp_diag_error(r->diags, r->place,
			      "sharing the host's whole file system defeats the compartment; share a directory below \"/\"");
	else if (strcmp(norm, res->path) != 0)
		sp_diag_error(r->diags, r->place,
			      "host directory \"%.64s\" is not normalized; write \"%.64s\"", res->path,
			      norm);
	sp_rd_pop(r);
}

static void sp_read_net(struct sp_reader *r, json_t *obj, struct sp_resource *res)
{
	static const char *const keys[] = {"type", "nat", NULL};

	sp_rd_keys(r, obj, keys);
	sp_rd_bool(r, obj, "nat", &res->nat);
}

static int sp_hex16(const char *s, uint16_t *out)
{
	unsigned v = 0;

	if (strlen(s) != 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -1;
		v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	*out = (uint16_t)v;
	return 0;
}

static bool sp_usb_port_valid(const char *s)
{
	unsigned levels = 1;
	bool digit = false;

	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			digit = true;
		} else if (*s == '.' && digit && ++levels <= 7) {
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

static void sp_read_usb_id(struct sp_reader *r, json_t *obj, const char *key, uint16_t *out)
{
	char *s = NULL;

	if (sp_rd_string(r, obj, key, NULL, &s) < 0 || sp_hex16(s, out) == 0)
		return;
	sp_rd_push(r, key);
	sp_diag_error(r->diags, r->place,
		      "\"%.32s\" is not a USB id; write 4 hexadecimal digits as lsusb shows them, like \"1050\"",
		      s);
	sp_rd_pop(r);
}

static void sp_read_usb(struct sp_reader *r, json_t *obj, struct sp_resource *res)
{
	static const char *const keys[] = {"type", "vendor", "product", "bus", "port", NULL};
	bool by_id = json_object_get(obj, "vendor") || json_object_get(obj, "product");
	bool by_port = json_object_get(obj, "bus") || json_object_get(obj, "port");

	sp_rd_keys(r, obj, keys);
	if (by_id == by_port) {
		sp_diag_error(r->diags, r->place,
			      by_id ? "both an id and a port are given; name the device by \"vendor\" and \"product\" or by \"bus\" and \"port\""
				    : "missing device; name it by \"vendor\" and \"product\" (like \"1050\" and \"0407\") or by \"bus\" and \"port\"");
		return;
	}
	res->usb.by_id = by_id;
	if (by_id) {
		if (!json_object_get(obj, "vendor") || !json_object_get(obj, "product")) {
			sp_diag_error(r->diags, r->place, "give both \"vendor\" and \"product\"");
			return;
		}
		sp_read_usb_id(r, obj, "vendor", &res->usb.vendor);
		sp_read_usb_id(r, obj, "product", &res->usb.product);
		return;
	}
	if (!json_object_get(obj, "bus") || !json_object_get(obj, "port")) {
		sp_diag_error(r->diags, r->place, "give both \"bus\" and \"port\"");
		return;
	}
	sp_rd_uint(r, obj, "bus", 1, 255, &res->usb.bus);
	if (sp_rd_string(r, obj, "port", NULL, &res->usb.port) == 0 &&
	    !sp_usb_port_valid(res->usb.port)) {
		sp_rd_push(r, "port");
		sp_diag_error(r->diags, r->place,
			      "\"%.32s\" is not a USB port path; write port numbers joined by '.', like \"2\" or \"1.4\"",
			      res->usb.port);
		sp_rd_pop(r);
	}
}

/* Accepts "DDDD:BB:DD.F" and "BB:DD.F"; stores the long, lower-case form. */
static int sp_pci_normalize(const char *s, char *out, size_t len)
{
	unsigned dom = 0, bus, dev, fn;
	int n = 0;

	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return -1;
	if (strlen(s) == 12 && sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &n) == 4 && n == 12)
		;
	else if (strlen(s) == 7 && sscanf(s, "%2x:%2x.%1x%n", &bus, &dev, &fn, &n) == 3 && n == 7)
		dom = 0;
	else
		return -1;
	if (dev > 0x1f || fn > 7)
		return -1;
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

static void sp_read_pci(struct sp_reader *r, json_t *obj, struct sp_resource *res)
{
	static const char *const keys[] = {"type", "address", NULL};
	char *addr = NULL;
	char norm[16];

	sp_rd_keys(r, obj, keys);
	if (sp_rd_string(r, obj, "address", "give the device's host address as lspci -D shows it, like \"0000:01:00.0\"",
			 &addr) < 0)
		return;
	if (sp_pci_normalize(addr, norm, sizeof(norm)) < 0) {
		sp_rd_push(r, "address");
		sp_diag_error(r->diags, r->place,
			      "\"%.32s\" is not a PCI address; write it as lspci -D shows it, like \"0000:01:00.0\"",
			      addr);
		sp_rd_pop(r);
		return;
	}
	res->pci_address = sp_arena_strdup(r->arena, norm);
}

static void sp_read_resource(struct sp_reader *r, const char *name, json_t *obj)
{
	static void (*const readers[])(struct sp_reader *, json_t *, struct sp_resource *) = {
		[SP_RES_BLOCK] = sp_read_block,	 [SP_RES_DIRECTORY] = sp_read_directory,
		[SP_RES_NET] = sp_read_net,	 [SP_RES_USB] = sp_read_usb,
		[SP_RES_PCI] = sp_read_pci,
	};
	struct sp_config *cfg = r->cfg;
	struct sp_resource res = {.name = sp_arena_strdup(r->arena, name)};
	char *type = NULL;
	char hint[256];
	size_t t;

	if (sp_rd_string(r, obj, "type", "give one of block, directory, net, usb, pci", &type) < 0)
		return;
	for (t = 0; sp_res_types[t]; t++)
		if (strcmp(sp_res_types[t], type) == 0)
			break;
	if (!sp_res_types[t]) {
		sp_rd_suggest(hint, sizeof(hint), type, sp_res_types, "use one of");
		sp_rd_push(r, "type");
		sp_diag_error(r->diags, r->place, "unknown resource type \"%.32s\"; %s", type, hint);
		sp_rd_pop(r);
		return;
	}
	res.type = (enum sp_res_type)t;
	readers[t](r, obj, &res);
	cfg->resources[cfg->nresources++] = res;
}

void sp_read_resources(struct sp_reader *r, json_t *section)
{
	struct sp_config *cfg = r->cfg;

	if (json_is_object(section))
		cfg->resources = sp_arena_array(r->arena, json_object_size(section),
						sizeof(struct sp_resource));
	sp_read_section(r, section, "resources", SP_LIMIT_RESOURCES, "resource", sp_read_resource);
}

/* --- instances --- */

static void sp_name_list(struct sp_reader *r, const char **out, size_t max, bool apps)
{
	const struct sp_config *cfg = r->cfg;
	size_t n = apps ? cfg->napplications : cfg->nresources;
	size_t o = 0;

	for (size_t i = 0; i < n && o < max - 1; i++)
		out[o++] = apps ? cfg->applications[i].name : cfg->resources[i].name;
	out[o] = NULL;
}

static void sp_unknown_ref(struct sp_reader *r, const char *name, bool apps)
{
	const char *names[SP_LIMIT_RESOURCES + 1];
	const char *what = apps ? "application" : "resource";
	const char *section = apps ? "applications" : "resources";
	char hint[256];

	sp_name_list(r, names, sizeof(names) / sizeof(names[0]), apps);
	sp_rd_suggest(hint, sizeof(hint), name, names, "");
	if (strncmp(hint, "did you", 7) == 0)
		sp_diag_error(r->diags, r->place, "no %s named \"%.64s\"; %s", what, name, hint);
	else
		sp_diag_error(r->diags, r->place, "no %s named \"%.64s\"; define it under \"%s\"",
			      what, name, section);
}

static int sp_find_resource(const struct sp_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nresources; i++)
		if (strcmp(cfg->resources[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void sp_mount_path_error(struct sp_reader *r, const char *path, enum sp_path_problem p)
{
	char norm[SP_GUEST_PATH_MAX + 1];

	switch (p) {
	case SP_PATH_OK:
		return;
	case SP_PATH_EMPTY:
	case SP_PATH_RELATIVE:
		sp_diag_error(r->diags, r->place, "mount path \"%.64s\" is not absolute; start it with \"/\"",
			      path);
		return;
	case SP_PATH_ROOT:
		sp_diag_error(r->diags, r->place,
			      "mount path \"/\" would hide the root file system; mount the resource below it, like \"/data\"");
		return;
	case SP_PATH_NOT_NORMAL:
		sp_path_normalize(path, norm, sizeof(norm));
		sp_diag_error(r->diags, r->place, "mount path \"%.64s\" is not normalized; write \"%.64s\"",
			      path, norm);
		return;
	case SP_PATH_RESERVED:
		sp_diag_error(r->diags, r->place,
			      "mount path \"%.64s\" is inside /proc, /sys or /dev, which the guest kernel owns; choose another path",
			      path);
		return;
	case SP_PATH_TOO_LONG:
		sp_diag_error(r->diags, r->place, "mount path longer than %d bytes; shorten it",
			      SP_GUEST_PATH_MAX);
		return;
	case SP_PATH_BAD_CHAR:
		sp_diag_error(r->diags, r->place,
			      "mount path contains a control character; remove it");
		return;
	}
}

static void sp_read_mount(struct sp_reader *r, json_t *obj, struct sp_instance *inst,
			  struct sp_binding *b)
{
	static const char *const keys[] = {"path", "mode", NULL};
	char *mode = NULL;

	sp_rd_keys(r, obj, keys);
	b->mode = SP_MODE_RO;
	if (sp_rd_string(r, obj, "mode", NULL, &mode) == 0) {
		if (strcmp(mode, "rw") == 0)
			b->mode = SP_MODE_RW;
		else if (strcmp(mode, "ro") != 0) {
			sp_rd_push(r, "mode");
			sp_diag_error(r->diags, r->place,
				      "\"%.32s\" is not an access mode; use \"ro\" or \"rw\"", mode);
			sp_rd_pop(r);
		}
	}
	if (sp_rd_string(r, obj, "path", "give the guest path to mount it at, like \"/data\"",
			 &b->path) < 0)
		return;
	sp_rd_push(r, "path");
	enum sp_path_problem p = sp_guest_path_check(b->path);
	if (p != SP_PATH_OK) {
		sp_mount_path_error(r, b->path, p);
		b->path = NULL;
	} else {
		for (size_t i = 0; i < inst->nbindings; i++) {
			const struct sp_binding *o = &inst->bindings[i];
			if (o->path && strcmp(o->path, b->path) == 0)
				sp_diag_error(r->diags, r->place,
					      "mount path \"%.64s\" is already used by the binding of \"%s\"; give each binding its own path",
					      b->path, r->cfg->resources[o->resource].name);
		}
	}
	sp_rd_pop(r);
}

static void sp_read_binding(struct sp_reader *r, struct sp_instance *inst, const char *name,
			    json_t *obj)
{
	struct sp_binding *b = &inst->bindings[inst->nbindings];
	int idx = sp_find_resource(r->cfg, name);
	const struct sp_resource *res;

	if (idx < 0) {
		sp_unknown_ref(r, name, false);
		return;
	}
	if (!sp_rd_type(r, obj, JSON_OBJECT, "an object"))
		return;
	res = &r->cfg->resources[idx];
	b->resource = (size_t)idx;
	if (sp_res_has_mode(res->type)) {
		sp_read_mount(r, obj, inst, b);
	} else {
		const char *key;
		json_t *v;
		json_object_foreach(obj, key, v) {
			sp_rd_push(r, key);
			sp_diag_error(r->diags, r->place,
				      "a %s binding takes no keys; write {} to grant the resource",
				      sp_res_type_name(res->type));
			sp_rd_pop(r);
		}
	}
	inst->nbindings++;
}

static void sp_read_bindings(struct sp_reader *r, json_t *obj, struct sp_instance *inst)
{
	json_t *bindings = sp_rd_get(r, obj, "bindings", NULL);
	const char *key;
	json_t *v;

	if (!bindings)
		return;
	if (!sp_rd_type(r, bindings, JSON_OBJECT,
			"an object of resource names, like {\"store\": {\"path\": \"/data\", \"mode\": \"rw\"}}"))
		goto out;
	if (json_object_size(bindings) > SP_LIMIT_BINDINGS) {
		sp_diag_error(r->diags, r->place, "more than %d bindings", SP_LIMIT_BINDINGS);
		goto out;
	}
	inst->bindings = sp_arena_array(r->arena, json_object_size(bindings), sizeof(struct sp_binding));
	json_object_foreach(bindings, key, v) {
		sp_rd_push(r, key);
		sp_read_binding(r, inst, key, v);
		sp_rd_pop(r);
	}
out:
	sp_rd_pop(r);
}

static void sp_read_hypervisor(struct sp_reader *r, json_t *obj, enum sp_hv *hv)
{
	static const char *const names[] = {"qemu", "crosvm", "cloud-hypervisor", NULL};
	char *s = NULL;
	char hint[256];

	*hv = SP_HV_QEMU;
	if (sp_rd_string(r, obj, "hypervisor", NULL, &s) < 0 || sp_hv_parse(s, hv) == 0)
		return;
	sp_rd_suggest(hint, sizeof(hint), s, names, "use one of");
	sp_rd_push(r, "hypervisor");
	sp_diag_error(r->diags, r->place, "unknown hypervisor \"%.32s\"; %s", s, hint);
	sp_rd_pop(r);
}

/* What the supervisor does when the VM stops on its own. */
static void sp_read_restart(struct sp_reader *r, json_t *obj, struct sp_instance *inst)
{
	static const char *const names[] = {"no", "on-failure", NULL};
	char *s = NULL;
	char hint[128];

	if (sp_rd_string(r, obj, "restart", NULL, &s) < 0 || strcmp(s, "no") == 0)
		return;
	if (strcmp(s, "on-failure") == 0) {
		inst->restart_on_failure = true;
		return;
	}
	sp_rd_suggest(hint, sizeof(hint), s, names, "use one of");
	sp_rd_push(r, "restart");
	sp_diag_error(r->diags, r->place, "unknown restart policy \"%.32s\"; %s", s, hint);
	sp_rd_pop(r);
}

/* The index of application `name`, or -1 (reported at the current place). */
static int sp_find_application(struct sp_reader *r, const char *name)
{
	for (size_t i = 0; i < r->cfg->napplications; i++)
		if (strcmp(r->cfg->applications[i].name, name) == 0)
			return (int)i;
	sp_unknown_ref(r, name, true);
	return -1;
}

/* Two applications of one instance must boot one machine: one root
 * image, one architecture, one environment for their programs. */
static void sp_check_app_pair(struct sp_reader *r, const struct sp_application *first,
			      const struct sp_application *app)
{
	if (strcmp(first->image, app->image) != 0)
		sp_diag_error(
			r->diags, r->place,
			"application \"%s\" has image \"%.64s\" but \"%s\" has \"%.64s\"; the applications of one instance share its root image: give them one image or run them in separate instances",
			app->name, app->image, first->name, first->image);
	else if (first->arch != app->arch)
		sp_diag_error(
			r->diags, r->place,
			"application \"%s\" is for %s but \"%s\" is for %s; the applications of one instance run on one machine: give them one \"arch\" or run them in separate instances",
			app->name, sp_arch_name(app->arch), first->name, sp_arch_name(first->arch));
	for (size_t i = 0; i < app->nenv; i++)
		for (size_t j = 0; j < first->nenv; j++)
			if (strcmp(app->env[i].name, first->env[j].name) == 0 &&
			    strcmp(app->env[i].value, first->env[j].value) != 0)
				sp_diag_error(
					r->diags, r->place,
					"applications \"%s\" and \"%s\" set %s to different values; the applications of one instance share one environment: give it one value or run them in separate instances",
					first->name, app->name, app->env[i].name);
}

/* "applications": ["a", "b"], each named once, all compatible with the
 * first. */
static void sp_read_app_list(struct sp_reader *r, json_t *list, struct sp_instance *inst)
{
	const struct sp_config *cfg = r->cfg;
	json_t *v;
	size_t i;

	if (!sp_rd_type(r, list, JSON_ARRAY,
			"an array of application names, like [\"mail\", \"notes\"]"))
		return;
	if (json_array_size(list) == 0 || json_array_size(list) > SP_LIMIT_INSTANCE_APPS) {
		sp_diag_error(r->diags, r->place,
			      "give 1 to %d application names; run more in separate instances",
			      SP_LIMIT_INSTANCE_APPS);
		return;
	}
	json_array_foreach(list, i, v)
	{
		int idx;
		sp_rd_push_index(r, i);
		if (sp_rd_type(r, v, JSON_STRING, "an application name") &&
		    (idx = sp_find_application(r, json_string_value(v))) >= 0) {
			bool twice = false;
			for (size_t k = 0; k < inst->napplications; k++)
				twice |= inst->applications[k] == (size_t)idx;
			if (twice)
				sp_diag_error(
					r->diags, r->place,
					"application \"%s\" is named twice; name each application once",
					cfg->applications[idx].name);
			else {
				if (inst->napplications)
					sp_check_app_pair(r,
							  &cfg->applications[inst->applications[0]],
							  &cfg->applications[idx]);
				inst->applications[inst->napplications++] = (size_t)idx;
			}
		}
		sp_rd_pop(r);
	}
}

/* "application" (one) or "applications" (several): exactly one of them. */
static void sp_read_instance_apps(struct sp_reader *r, json_t *obj, struct sp_instance *inst)
{
	json_t *many = json_object_get(obj, "applications");
	char *app_name = NULL;
	int idx;

	if (many && json_object_get(obj, "application")) {
		sp_diag_error(
			r->diags, r->place,
			"both \"application\" and \"applications\" are given; keep \"application\" for one or \"applications\" for several");
		return;
	}
	if (many) {
		sp_rd_push(r, "applications");
		sp_read_app_list(r, many, inst);
		sp_rd_pop(r);
	} else if (sp_rd_string(r, obj, "application", "name the application this instance runs",
				&app_name) == 0) {
		sp_rd_push(r, "application");
		idx = sp_find_application(r, app_name);
		sp_rd_pop(r);
		if (idx >= 0)
			inst->applications[inst->napplications++] = (size_t)idx;
	}
	if (inst->napplications)
		inst->application = inst->applications[0];
}

/* Unless the instance says: the largest of its applications' values. */
static void sp_instance_defaults(const struct sp_config *cfg, struct sp_instance *inst)
{
	inst->memory = inst->napplications ? 0 : SP_DEFAULT_MEMORY;
	inst->vcpus = 1;
	for (size_t i = 0; i < inst->napplications; i++) {
		const struct sp_application *app = &cfg->applications[inst->applications[i]];
		if (app->memory > inst->memory)
			inst->memory = app->memory;
		if (app->vcpus > inst->vcpus)
			inst->vcpus = app->vcpus;
	}
}

/* A host directory has no throwaway layer: a disposable instance may
 * only read it (spectrum.json(5), "Disposable instances"). */
static void sp_check_disposable(struct sp_reader *r, const struct sp_instance *inst)
{
	for (size_t i = 0; i < inst->nbindings; i++) {
		const struct sp_resource *res = &r->cfg->resources[inst->bindings[i].resource];
		if (res->type != SP_RES_DIRECTORY || inst->bindings[i].mode != SP_MODE_RW)
			continue;
		sp_rd_push(r, "bindings");
		sp_rd_push(r, res->name);
		sp_rd_push(r, "mode");
		sp_diag_error(
			r->diags, r->place,
			"a disposable instance cannot write directory \"%s\": its writes would reach the host; bind it \"ro\" or remove \"disposable\"",
			res->name);
		sp_rd_pop(r);
		sp_rd_pop(r);
		sp_rd_pop(r);
	}
}

static void sp_read_label(struct sp_reader *r, json_t *obj, struct sp_display *d)
{
	static const char *const keys[] = {"color", NULL};
	json_t *label = sp_rd_get(r, obj, "label", NULL);
	char *color = NULL;

	if (!label)
		return;
	if (sp_rd_type(r, label, JSON_OBJECT, "an object, like {\"color\": \"#c00000\"}") &&
	    sp_rd_keys(r, label, keys) && sp_rd_string(r, label, "color", NULL, &color) == 0 &&
	    !sp_color_parse(color, d->color)) {
		sp_rd_push(r, "color");
		sp_diag_error(
			r->diags, r->place,
			"\"%.32s\" is not a colour; write \"#rrggbb\" in hexadecimal, like \"#c00000\"",
			color);
		sp_rd_pop(r);
	}
	sp_rd_pop(r);
}

static void sp_read_clipboard(struct sp_reader *r, json_t *obj, struct sp_display *d)
{
	char *s = NULL;

	d->clipboard = SP_CLIPBOARD_NONE;
	if (sp_rd_string(r, obj, "clipboard", NULL, &s) < 0 || strcmp(s, "none") == 0)
		return;
	for (enum sp_clipboard c = SP_CLIPBOARD_PASTE; c <= SP_CLIPBOARD_BOTH; c++)
		if (strcmp(s, sp_clipboard_name(c)) == 0) {
			d->clipboard = c;
			return;
		}
	sp_rd_push(r, "clipboard");
	sp_diag_error(
		r->diags, r->place,
		"unknown clipboard policy \"%.32s\"; use \"none\" (the guest neither reads nor sets the host's clipboard), \"paste\" (the user may paste text into it: 'spectrum clipboard send'), \"copy\" (the user may copy its selection: 'spectrum clipboard receive') or \"both\"",
		s);
	sp_rd_pop(r);
}

static void sp_read_compression(struct sp_reader *r, json_t *obj, struct sp_display *d)
{
	static const char *const names[] = {"lz4", "zstd", "none", NULL};
	char *s = NULL;
	char hint[128];

	if (sp_rd_string(r, obj, "compression", NULL, &s) < 0)
		return;
	for (int i = 0; names[i]; i++)
		if (strcmp(s, names[i]) == 0) {
			d->compress = (enum sp_wl_compress)i;
			return;
		}
	sp_rd_suggest(hint, sizeof(hint), s, names, "use one of");
	sp_rd_push(r, "compression");
	sp_diag_error(r->diags, r->place, "unknown compression \"%.32s\"; %s", s, hint);
	sp_rd_pop(r);
}

/* The display grant: absent, the instance has no channel for windows. */
static void sp_read_display(struct sp_reader *r, json_t *obj, struct sp_instance *inst)
{
	static const char *const keys[] = {"label", "fullscreen", "clipboard", "compression", NULL};
	json_t *v = sp_rd_get(r, obj, "display", NULL);
	struct sp_display *d = &inst->display;

	if (!v)
		return;
	if (sp_rd_type(
		    r, v, JSON_OBJECT,
		    "an object, like {\"label\": {\"color\": \"#c00000\"}} ({} for the defaults)") &&
	    sp_rd_keys(r, v, keys)) {
		d->enabled = true;
		sp_display_default_color(inst->name, d->color);
		sp_read_label(r, v, d);
		sp_rd_bool(r, v, "fullscreen", &d->fullscreen);
		sp_read_clipboard(r, v, d);
		sp_read_compression(r, v, d);
	}
	sp_rd_pop(r);
}

static void sp_read_instance(struct sp_reader *r, const char *name, json_t *obj)
{
	static const char *const keys[] = {"application", "applications", "bindings",  "memory",
					   "vcpus",	  "hypervisor",	  "shareRoot", "autostart",
					   "restart",	  "disposable",	  "display",   NULL};
	struct sp_config *cfg = r->cfg;
	struct sp_instance *inst = &cfg->instances[cfg->ninstances++];

	inst->name = sp_arena_strdup(r->arena, name);
	sp_rd_keys(r, obj, keys);
	sp_read_instance_apps(r, obj, inst);
	sp_instance_defaults(cfg, inst);
	sp_read_bindings(r, obj, inst);
	sp_rd_size(r, obj, "memory", "memory", SP_MEMORY_MIN, SP_MEMORY_MAX, 1u << 20, "512M",
		   &inst->memory);
	sp_rd_uint(r, obj, "vcpus", 1, SP_VCPUS_MAX, &inst->vcpus);
	sp_read_hypervisor(r, obj, &inst->hypervisor);
	sp_rd_bool(r, obj, "shareRoot", &inst->share_root);
	sp_rd_bool(r, obj, "autostart", &inst->autostart);
	sp_read_restart(r, obj, inst);
	sp_rd_bool(r, obj, "disposable", &inst->disposable);
	if (inst->disposable)
		sp_check_disposable(r, inst);
	sp_read_display(r, obj, inst);
}

void sp_read_instances(struct sp_reader *r, json_t *section)
{
	struct sp_config *cfg = r->cfg;

	if (json_is_object(section))
		cfg->instances = sp_arena_array(r->arena, json_object_size(section),
						sizeof(struct sp_instance));
	sp_read_section(r, section, "instances", SP_LIMIT_INSTANCES, "instance", sp_read_instance);
}

/* --- m:n sharing: what may never run together --- */

static void sp_check_resource_sharing(struct sp_reader *r, size_t ri)
{
	const struct sp_config *cfg = r->cfg;
	const struct sp_resource *res = &cfg->resources[ri];
	const char *writer = NULL, *first = NULL, *other = NULL, *throwaway = NULL;
	size_t users = 0, throwaways = 0;

	for (size_t i = 0; i < cfg->ninstances; i++) {
		const struct sp_instance *inst = &cfg->instances[i];
		for (size_t j = 0; j < inst->nbindings; j++) {
			if (inst->bindings[j].resource != ri)
				continue;
			users++;
			if (!first)
				first = inst->name;
			else if (!other)
				other = inst->name;
			/* A disposable instance writes a throwaway layer, never
			 * the volume: it is a reader of the volume itself. */
			if (inst->bindings[j].mode != SP_MODE_RW)
				continue;
			if (inst->disposable && !throwaways++)
				throwaway = inst->name;
			else if (!inst->disposable && !writer)
				writer = inst->name;
		}
	}
	if (res->type == SP_RES_NET && users > SP_LIMIT_SEGMENT_INSTANCES) {
		sp_rd_push(r, "resources");
		sp_rd_push(r, res->name);
		sp_diag_error(r->diags, r->place,
			      "net segment is bound into %zu instances; its /24 has addresses for %d; split it into several segments",
			      users, SP_LIMIT_SEGMENT_INSTANCES);
		sp_rd_pop(r);
		sp_rd_pop(r);
		return;
	}
	if (users < 2)
		return;
	sp_rd_push(r, "resources");
	sp_rd_push(r, res->name);
	if (res->type == SP_RES_USB || res->type == SP_RES_PCI)
		sp_diag_warn(r->diags, r->place,
			     "%s device is bound into %zu instances (%s, %s%s); a device belongs to one running instance, so they cannot run at the same time",
			     sp_res_type_name(res->type), users, first, other, users > 2 ? ", ..." : "");
	else if (res->type == SP_RES_BLOCK && writer)
		sp_diag_warn(r->diags, r->place,
			     "block volume is bound into %zu instances and \"%s\" writes to it; a writable volume is exclusive, so \"%s\" cannot run while another of them runs (use a directory resource for concurrent writers)",
			     users, writer, writer);
	else if (res->type == SP_RES_BLOCK && throwaway)
		sp_diag_note(
			r->diags, r->place,
			"block volume is bound into %zu instances and only disposable ones (\"%s\"%s) write to it, each to a throwaway layer, never to the volume, so they may run at the same time",
			users, throwaway, throwaways > 1 ? ", ..." : "");
	sp_rd_pop(r);
	sp_rd_pop(r);
}

/* Whether two device resources name one host device (a PCI address is
 * stored in its long form, so "01:00.0" and "0000:01:00.0" compare equal). */
static bool sp_same_device(const struct sp_resource *a, const struct sp_resource *b)
{
	if (a->type != b->type)
		return false;
	if (a->type == SP_RES_USB)
		return sp_usb_id_same(&a->usb, &b->usb);
	return a->type == SP_RES_PCI && a->pci_address && b->pci_address &&
	       strcmp(a->pci_address, b->pci_address) == 0;
}

/*
 * A device is held by one running instance, whichever resource names it:
 * a second resource for it does not make it shareable, it only hides
 * from the "bound into N instances" warning that those instances cannot
 * run together.  Said once, at the later resource, naming the first.
 */
static void sp_check_device_names(struct sp_reader *r, size_t ri)
{
	const struct sp_resource *res = &r->cfg->resources[ri], *first = NULL;
	char name[64];

	for (size_t i = 0; i < ri && !first; i++)
		if (sp_same_device(&r->cfg->resources[i], res))
			first = &r->cfg->resources[i];
	if (!first)
		return;
	if (res->type == SP_RES_USB)
		sp_usb_id_name(&res->usb, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", res->pci_address);
	sp_rd_push(r, "resources");
	sp_rd_push(r, res->name);
	sp_diag_warn(
		r->diags, r->place,
		"%s device %s is also named by resource \"%s\"; a device is passed to one running instance at a time, whichever resource names it: bind \"%s\" instead and remove this one",
		sp_res_type_name(res->type), name, first->name, first->name);
	sp_rd_pop(r);
	sp_rd_pop(r);
}

void sp_check_sharing(struct sp_reader *r)
{
	for (size_t i = 0; i < r->cfg->nresources; i++) {
		if (r->cfg->resources[i].type != SP_RES_DIRECTORY)
			sp_check_resource_sharing(r, i);
		if (r->cfg->resources[i].type == SP_RES_USB ||
		    r->cfg->resources[i].type == SP_RES_PCI)
			sp_check_device_names(r, i);
	}
}
