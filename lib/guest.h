/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host side of the guest boot protocol (spectrum-init(8)): the text of
 * /spectrum/config for a plan, and the per-instance initramfs that carries
 * it.  The guest config is derived from the plan alone.
 */
#ifndef SP_GUEST_H
#define SP_GUEST_H

#include <stddef.h>

#include "guestproto.h"
#include "plan.h"
#include "util.h"

/* The guest configuration text of a plan (caller frees). */
char *sp_guest_config(const struct sp_plan *p);

/*
 * Writes the per-instance initramfs (p->initrd, in the run directory open
 * as `dirfd`): the base initramfs followed
 * by an uncompressed newc cpio holding spectrum/config.  The kernel unpacks
 * concatenated archives in order.  Written to a temporary file and renamed,
 * so a failure leaves nothing behind.  Returns -1 with `err` set.
 */
int sp_guest_initrd(const struct sp_plan *p, int dirfd, struct sp_err *err);

/*
 * The same initramfs as `name` in dirfd (named `dir` in messages), mode
 * 0644, for a VMM that Spectrum does not launch (a libvirt export): it
 * holds nothing that the domain XML beside it does not show.
 */
int sp_guest_initrd_export(const struct sp_plan *p, int dirfd, const char *dir, const char *name,
			   struct sp_err *err);

/* Appends a newc cpio archive of one regular file (plus its parent
 * directories) and the trailer to `fd`. */
int sp_cpio_write_file(int fd, const char *path, const void *data, size_t len);

#endif
