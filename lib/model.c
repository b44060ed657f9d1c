/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "model.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const sp_arch_names[SP_ARCH_COUNT] = {
	[SP_ARCH_X86_64] = "x86_64",
	[SP_ARCH_PPC64LE] = "ppc64le",
	[SP_ARCH_AARCH64] = "aarch64",
};

static const char *const sp_hv_names[SP_HV_COUNT] = {
	[SP_HV_QEMU] = "qemu",
	[SP_HV_CROSVM] = "crosvm",
	[SP_HV_CLOUD_HYPERVISOR] = "cloud-hypervisor",
};

const char *sp_arch_name(enum sp_arch a)
{
	return (unsigned)a < SP_ARCH_COUNT ? sp_arch_names[a] : "?";
}

int sp_arch_parse(const char *s, enum sp_arch *out)
{
	for (int i = 0; i < SP_ARCH_COUNT; i++)
		if (strcmp(s, sp_arch_names[i]) == 0) {
			*out = (enum sp_arch)i;
			return 0;
		}
	return -1;
}

const char *sp_hv_name(enum sp_hv h)
{
	return (unsigned)h < SP_HV_COUNT ? sp_hv_names[h] : "?";
}

int sp_hv_parse(const char *s, enum sp_hv *out)
{
	for (int i = 0; i < SP_HV_COUNT; i++)
		if (strcmp(s, sp_hv_names[i]) == 0) {
			*out = (enum sp_hv)i;
			return 0;
		}
	return -1;
}

const char *sp_res_type_name(enum sp_res_type t)
{
	switch (t) {
	case SP_RES_BLOCK:
		return "block";
	case SP_RES_DIRECTORY:
		return "directory";
	case SP_RES_NET:
		return "net";
	case SP_RES_USB:
		return "usb";
	case SP_RES_PCI:
		return "pci";
	}
	return "?";
}

const char *sp_mode_name(enum sp_mode m)
{
	return m == SP_MODE_RW ? "rw" : "ro";
}

bool sp_res_has_mode(enum sp_res_type t)
{
	return t == SP_RES_BLOCK || t == SP_RES_DIRECTORY;
}

bool sp_usb_id_same(const struct sp_usb_id *a, const struct sp_usb_id *b)
{
	if (a->by_id != b->by_id)
		return false;
	if (a->by_id)
		return a->vendor == b->vendor && a->product == b->product;
	return a->bus == b->bus && a->port && b->port && strcmp(a->port, b->port) == 0;
}

void sp_usb_id_name(const struct sp_usb_id *u, char *buf, size_t len)
{
	if (u->by_id)
		snprintf(buf, len, "%04x:%04x", u->vendor, u->product);
	else
		snprintf(buf, len, "bus %u port %s", u->bus, u->port ? u->port : "?");
}

const struct sp_instance *sp_config_instance(const struct sp_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ninstances; i++)
		if (strcmp(cfg->instances[i].name, name) == 0)
			return &cfg->instances[i];
	return NULL;
}

void sp_config_free(struct sp_config *cfg)
{
	if (cfg)
		sp_arena_free(cfg->arena);
}

bool sp_color_parse(const char *s, char out[static 8])
{
	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (int i = 1; i < 7; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	out[0] = '#';
	for (int i = 1; i < 7; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[7] = '\0';
	return true;
}

void sp_display_default_color(const char *instance, char out[static 8])
{
	/* Dark enough for white text on the title bar, far enough apart to
	 * tell at a glance. */
	static const char *const palette[] = {
		"#c00000", "#0050c0", "#008000", "#a000a0",
		"#c06000", "#008080", "#606000", "#6040c0",
	};
	uint64_t h = sp_hash64_mix(sp_hash64(instance, 0x636f6c)); /* "col" */

	memcpy(out, palette[h % (sizeof(palette) / sizeof(palette[0]))], 8);
}

const char *sp_wl_compress_name(enum sp_wl_compress c)
{
	static const char *const names[] = {"lz4", "zstd", "none"};

	return (unsigned)c < 3 ? names[c] : "lz4";
}

const char *sp_clipboard_name(enum sp_clipboard c)
{
	static const char *const names[] = {"none", "paste", "copy", "both"};

	return (unsigned)c < 4 ? names[c] : "none";
}

bool sp_clipboard_allows(enum sp_clipboard policy, bool copy)
{
	return policy == SP_CLIPBOARD_BOTH ||
	       policy == (copy ? SP_CLIPBOARD_COPY : SP_CLIPBOARD_PASTE);
}
