/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Export of a plan to libvirt: the domain XML that runs the instance as
 * the QEMU back end would (spectrum(1), "Export to libvirt"), and the
 * files beside it that libvirt cannot make (the per-instance initramfs).
 * A plan whose guarantees libvirt cannot keep is refused, not weakened.
 */
#ifndef SP_PLAN_LIBVIRT_H
#define SP_PLAN_LIBVIRT_H

#include "plan.h"
#include "util.h"

/* The export directory under the state directory when none is given. */
#define SP_LIBVIRT_DIR "libvirt"

/*
 * Whether libvirt can express the plan: -1 with one line in `err` naming
 * what it cannot (a directory share, a shared root, a USB port) and the
 * fix; 0 if it can.
 */
int sp_libvirt_check(const struct sp_plan *p, struct sp_err *err);

/*
 * The domain XML of the plan (caller frees): every string from the plan is
 * escaped; the initramfs and the console and control logs are files of
 * `dir` (an absolute path) named after the instance.  NULL with `err` set
 * when sp_libvirt_check refuses or a string cannot be carried in XML.
 */
char *sp_libvirt_xml(const struct sp_plan *p, const char *dir, struct sp_err *err);

/*
 * Writes DIR/INSTANCE.initrd, and DIR/INSTANCE.xml when `xml` is not NULL,
 * each replacing any old one atomically; makes DIR (0755) if missing.
 * Returns -1 with `err` set.
 */
int sp_libvirt_write(const struct sp_plan *p, const char *dir, const char *xml, struct sp_err *err);

#endif
