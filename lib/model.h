/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The configuration model: applications, resources and instances, as read
 * from a data file (spectrum.json(5)).  Once sp_config_parse() has accepted
 * a file, every reference in the model is resolved to an index and every
 * value is in range, so later stages never re-validate.
 */
#ifndef SP_MODEL_H
#define SP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "util.h"

/* Bounds on untrusted input; each is far above any real desktop set-up. */
#define SP_LIMIT_FILE_BYTES (1u << 20)
#define SP_LIMIT_DEPTH 16
#define SP_LIMIT_STRING 4096
#define SP_LIMIT_APPLICATIONS 256
#define SP_LIMIT_RESOURCES 256
#define SP_LIMIT_INSTANCES 256
#define SP_LIMIT_BINDINGS 32
#define SP_LIMIT_SEGMENT_INSTANCES 253 /* .2 to .254 of a segment's /24 */
#define SP_LIMIT_COMMANDS 16
/* Applications one instance runs (spectrum.json(5), "Several applications
 * in one instance"): with SP_LIMIT_COMMANDS each, within the guest's 64. */
#define SP_LIMIT_INSTANCE_APPS 4
#define SP_LIMIT_ARGS 256
#define SP_LIMIT_ENV 256
/* What a guest can make the host keep of its output (on /run, in RAM). */
#define SP_LIMIT_CONSOLE_LOG (1u << 20)
#define SP_LIMIT_VMM_LOG (256u << 10)
#define SP_LIMIT_DISPLAY_LOG (1u << 20) /* the display relay's: waypipe, filter */
/* The smallest RAM the data file accepts: Spectrum's guest kernel boots in
 * 48 MiB (50 of 50 boots); Debian's needs SP_MEMORY_MIN_DEBIAN, which the
 * launcher requires of an instance that boots it. */
#define SP_MEMORY_MIN (64ull << 20)
#define SP_MEMORY_MIN_DEBIAN (96ull << 20)
#define SP_MEMORY_MAX (1ull << 40)
#define SP_VCPUS_MAX 64
#define SP_BLOCK_MIN (1ull << 20)
#define SP_BLOCK_MAX (16ull << 40)

enum sp_arch {
	SP_ARCH_X86_64,
	SP_ARCH_PPC64LE,
	SP_ARCH_AARCH64,
};
#define SP_ARCH_COUNT 3

enum sp_hv {
	SP_HV_QEMU,
	SP_HV_CROSVM,
	SP_HV_CLOUD_HYPERVISOR,
};
#define SP_HV_COUNT 3

enum sp_res_type {
	SP_RES_BLOCK,
	SP_RES_DIRECTORY,
	SP_RES_NET,
	SP_RES_USB,
	SP_RES_PCI,
};

enum sp_mode {
	SP_MODE_RO,
	SP_MODE_RW,
};

const char *sp_arch_name(enum sp_arch a);
int sp_arch_parse(const char *s, enum sp_arch *out);
const char *sp_hv_name(enum sp_hv h);
int sp_hv_parse(const char *s, enum sp_hv *out);
const char *sp_res_type_name(enum sp_res_type t);
const char *sp_mode_name(enum sp_mode m);
/* Whether a binding of the type has an access mode (and a path): block and
 * directory; a device or a network is granted whole. */
bool sp_res_has_mode(enum sp_res_type t);

struct sp_command {
	char **argv; /* NULL-terminated */
	size_t argc;
};

struct sp_env {
	char *name;
	char *value;
};

struct sp_application {
	char *name;
	/* A string with a '/' is a path (relative to the data file's
	 * directory); otherwise the name of an image in the image store. */
	char *image;
	bool image_is_path;
	struct sp_command *commands;
	size_t ncommands;
	struct sp_env *env;
	size_t nenv;
	uint64_t memory; /* bytes */
	unsigned vcpus;
	enum sp_arch arch;
};

struct sp_usb_id {
	bool by_id;		/* vendor:product, else bus and port */
	uint16_t vendor;
	uint16_t product;
	unsigned bus;
	char *port;		/* "1" or "1.4.2" */
};

/*
 * A USB device's identity as the configuration gives it: two ids are the
 * same device when they name the same vendor:product (the VMM takes the
 * first device that matches, so two such devices are one to it) or the
 * same bus and port.  Named as messages show it: "1050:0407" or "bus 3
 * port 2.1".
 */
bool sp_usb_id_same(const struct sp_usb_id *a, const struct sp_usb_id *b);
void sp_usb_id_name(const struct sp_usb_id *u, char *buf, size_t len);

struct sp_resource {
	char *name;
	enum sp_res_type type;
	/* block */
	uint64_t size;		/* 0 when an existing image is named */
	char *fs;		/* "ext4" */
	char *path;		/* block: existing image (optional); directory: host dir */
	/* net */
	bool nat;
	/* usb */
	struct sp_usb_id usb;
	/* pci: "DDDD:BB:DD.F", normalized to lower case with a domain */
	char *pci_address;
};

struct sp_binding {
	size_t resource; /* index into sp_config.resources */
	char *path;	 /* guest mount path: block and directory only */
	enum sp_mode mode;
};

/*
 * The display grant (spectrum.json(5), "Displays"): the instance's windows
 * reach the host's compositor, labelled by the host.  Without it the
 * instance has no channel for windows at all.
 */
enum sp_clipboard {
	SP_CLIPBOARD_NONE,  /* the guest neither reads nor sets the host's */
	SP_CLIPBOARD_PASTE, /* and the user may paste text into it (spectrum clipboard send) */
	SP_CLIPBOARD_COPY,  /* and the user may copy its selection (spectrum clipboard receive) */
	SP_CLIPBOARD_BOTH,  /* both */
};
bool sp_clipboard_allows(enum sp_clipboard policy, bool copy);
const char *sp_clipboard_name(enum sp_clipboard c);

/* waypipe's compression of the stream, the same at both ends. */
enum sp_wl_compress {
	SP_WL_LZ4, /* the default */
	SP_WL_ZSTD,
	SP_WL_NONE,
};
const char *sp_wl_compress_name(enum sp_wl_compress c);

struct sp_display {
	bool enabled;
	enum sp_wl_compress compress;
	char color[8];	 /* "#rrggbb", lower case: the label's colour */
	bool fullscreen; /* the guest may make a window fullscreen */
	enum sp_clipboard clipboard;
};

/* The colour of a display label that names none: one of a fixed palette,
 * chosen by a hash of the instance's name (stable across files). */
void sp_display_default_color(const char *instance, char out[static 8]);
/* "#rrggbb" (either case) into out, in lower case; false if it is not. */
bool sp_color_parse(const char *s, char out[static 8]);

struct sp_instance {
	char *name;
	size_t application; /* index into sp_config.applications: the first */
	/* Every application it runs, `application` first: one unless the
	 * instance names several ("applications"), which then share one root
	 * image and architecture (spectrum.json(5)). */
	size_t applications[SP_LIMIT_INSTANCE_APPS];
	size_t napplications;
	struct sp_binding *bindings;
	size_t nbindings;
	uint64_t memory; /* bytes; the application's unless overridden */
	unsigned vcpus;
	enum sp_hv hypervisor;
	bool share_root; /* map the root image through DAX, shared with others */
	bool autostart;
	bool restart_on_failure; /* "restart": "on-failure" (else "no") */
	/* Writable volumes are seen through a throwaway copy-on-write layer,
	 * discarded at stop: nothing the guest writes reaches them. */
	bool disposable;
	struct sp_display display;
};

struct sp_config {
	struct sp_arena *arena;
	char *file;	/* as given by the caller */
	char *base_dir; /* directory relative image and volume paths start from */
	struct sp_application *applications;
	size_t napplications;
	struct sp_resource *resources;
	size_t nresources;
	struct sp_instance *instances;
	size_t ninstances;
};

/*
 * Parses and validates a data file held in memory.  `file` names it in
 * diagnostics; `base_dir` resolves relative paths (may be NULL for ".").
 * Returns the model, or NULL with at least one error in `diags`.  Warnings
 * (for example a USB device bound into two instances) may be added to
 * `diags` even on success.
 */
struct sp_config *sp_config_parse(const char *data, size_t len, const char *file, const char *base_dir,
				  struct sp_diags *diags);

/*
 * Reads FILE (at most SP_LIMIT_FILE_BYTES) and parses it.  Returns NULL with
 * an error in `diags` when the file cannot be read either.
 */
struct sp_config *sp_config_load(const char *file, struct sp_diags *diags);

void sp_config_free(struct sp_config *cfg);

const struct sp_instance *sp_config_instance(const struct sp_config *cfg, const char *name);

#endif
