/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The guest configuration, /spectrum/config: the host writes it for each
 * instance into the initramfs, spectrum-init reads it (see
 * spectrum-init(8)).  gi_config_parse() is a pure function from bytes to a
 * struct, so that it can be unit-tested and fuzzed outside any VM; it is
 * strict, since a file it does not fully understand comes from a host of
 * another version.
 */
#ifndef GI_GCONFIG_H
#define GI_GCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GI_CONFIG_MAX (1024 * 1024) /* bytes in the whole file */
#define GI_LINE_MAX 8192	    /* bytes in one line, its newline excluded */
#define GI_PATH_MAX 1024	    /* bytes in a mount path (the host's limit too) */
#define GI_MOUNTS_MAX 256	    /* scratch, volume and share lines together */
#define GI_CMDS_MAX 64
#define GI_APPS_MAX 4	 /* app lines: the host's SP_LIMIT_INSTANCE_APPS */
#define GI_ENV_MAX 1024	 /* env lines and the defaults */
#define GI_SERIAL_MAX 20 /* virtio-blk serials are 20 bytes */
#define GI_TAG_MAX 36	 /* virtiofs tags are 36 bytes */
#define GI_NETS_MAX 32	 /* net lines (the host's limit of bindings) */
#define GI_GROUPS_MAX 8	 /* modules lines */
#define GI_GROUP_MAX 16	 /* bytes in a module group's name */
#define GI_ERR_MAX 256

enum gi_root {
	GI_ROOT_DISK, /* the virtio-blk disk with serial "root" */
	GI_ROOT_PMEM, /* /dev/pmem0, mounted with DAX */
};

enum gi_mount_kind {
	GI_MOUNT_SCRATCH,
	GI_MOUNT_VOLUME,
	GI_MOUNT_SHARE,
};

struct gi_mount {
	enum gi_mount_kind kind;
	const char *path;   /* absolute and normalized */
	const char *source; /* volume: disk serial; share: virtiofs tag; scratch: "tmpfs" */
	const char *fstype; /* "tmpfs", "ext4" or "virtiofs" */
	bool readonly;
	unsigned mode; /* scratch: 01777 for /tmp and /var/tmp, else 0755 */
};

/* A network interface, found by its MAC address, and its static IPv4
 * configuration.  Addresses are in host byte order. */
struct gi_net {
	const char *mac; /* "02:12:34:56:78:9a": lower case, as sysfs prints it */
	uint32_t address;
	unsigned prefix; /* 1 to 30 */
	uint32_t gateway; /* 0: none (an isolated segment) */
};

struct gi_cmd {
	char **argv; /* argc strings and a NULL, for execve() */
	size_t argc;
	int app; /* index into gi_config.apps, -1 without app lines */
};

struct gi_config {
	const char *hostname;
	enum gi_root root;
	/* Module groups to load after the base modules: each names the list
	 * /etc/spectrum/modules.GROUP in the base initramfs ("usb"). */
	const char *groups[GI_GROUPS_MAX];
	size_t ngroups;
	/* In mount order: a parent before its children (shorter path
	 * first), file order among paths of the same length. */
	struct gi_mount *mounts;
	size_t nmounts;
	struct gi_net *nets;
	size_t nnets;
	/* "display wayland": the instance has a display; its commands run
	 * under waypipe, on the port SP_GP_DISPLAY_PORT. */
	bool display;
	const char *display_compress; /* waypipe's: "lz4", "zstd" or "none" */
	char **env; /* nenv "NAME=VALUE" strings and a NULL, for execve() */
	size_t nenv;
	struct gi_cmd *cmds;
	size_t ncmds;
	/* Several applications: their names, in the order of the file; each
	 * has at least one cmd, and every cmd has one.  0 without app lines. */
	const char *apps[GI_APPS_MAX];
	size_t napps;
	char *text; /* a copy of the file that every string above points into */
};

/*
 * Parses the len bytes at buf (not NUL-terminated).  Returns 0 and fills
 * cfg, or -1 with one line of text in err ("line 3: unknown keyword
 * \"foo\"").  Either way, gi_config_free(cfg) releases what cfg holds.
 */
int gi_config_parse(const char *buf, size_t len, struct gi_config *cfg, char *err, size_t errlen);
void gi_config_free(struct gi_config *cfg);

/* "a.b.c.d" in dotted decimal to *out (host order): exactly four numbers
 * of 0 to 255 without leading zeros. */
bool gi_ipv4_parse(const char *s, uint32_t *out);

/* true if the normalized path `inner` lies strictly below `outer`. */
bool gi_path_below(const char *inner, const char *outer);

#endif
