/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hypervisor back ends: each turns a plan into the exact argv of its VMM.
 * They are pure functions of the plan; nothing is started or checked on
 * the host here.
 */
#ifndef SP_BACKEND_H
#define SP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "util.h"

/* A growable, NULL-terminated argument vector. */
struct sp_argv {
	char **v;
	size_t n;
	size_t cap;
};

void sp_argv_init(struct sp_argv *a);
void sp_argv_free(struct sp_argv *a);
void sp_argv_add(struct sp_argv *a, const char *s);
void sp_argv_addf(struct sp_argv *a, const char *fmt, ...) SP_PRINTF(2, 3);
/* Adds an option and its value: sp_argv_opt(a, "-m", "%u", mib). */
void sp_argv_opt(struct sp_argv *a, const char *opt, const char *fmt, ...) SP_PRINTF(3, 4);

/*
 * Quotes `s` for a POSIX shell: bare when it has only safe characters,
 * otherwise in single quotes.  Returns a string the caller frees.
 */
char *sp_shell_quote(const char *s);

struct sp_backend {
	const char *name;
	enum sp_hv hv;
	/* NULL if the back end can run a guest of this architecture, else why
	 * not, as a phrase ("crosvm has no ppc64le support"). */
	const char *(*arch_refusal)(enum sp_arch arch);
	/* Appends the VMM's argv for the plan.  Returns -1 and sets `err` if
	 * the plan asks for something this VMM cannot do. */
	int (*build)(const struct sp_plan *plan, struct sp_argv *out, struct sp_err *err);
	/* The disk descriptors an unprivileged VMM (plan->vmm_uid) of this
	 * back end is given, which the launcher opens (SP_FD_* in plan.h).
	 * Every back end gets its taps (SP_FD_NIC) that way. */
	/* Whether spectrum launches it.  The host side of the guest's console
	 * and control channel is QEMU's (server sockets, a named
	 * virtio-serial port); crosvm's client sockets and Cloud
	 * Hypervisor's vsock channel have none yet, so for them Spectrum
	 * gives the exact command line only. */
	bool launchable;
	bool root_fd;	  /* SP_FD_ROOT, for a root that is not shared */
	bool disk_fds;	  /* SP_FD_DISK(i) for each volume */
	bool disk_ro_fds; /* SP_FD_DISK_RO(i) too, for each read-write one */
};

const struct sp_backend *sp_backend_get(enum sp_hv hv);

/* -1 with the fix in `err` if the plan has a disposable disk (an overlay):
 * only the QEMU back end layers one over a volume. */
int sp_backend_no_overlay(const struct sp_plan *p, const char *vmm, struct sp_err *err);

extern const struct sp_backend sp_backend_qemu;
extern const struct sp_backend sp_backend_crosvm;
extern const struct sp_backend sp_backend_cloud_hypervisor;

/* QEMU's machine for an x86_64 plan: microvm (virtio-mmio), unless the
 * plan needs PCI (a shared root, USB or VFIO), which takes q35.  Also
 * false for other architectures. */
bool sp_qemu_microvm(const struct sp_plan *p);
/* The kernel's console argument for QEMU's first serial device. */
const char *sp_qemu_console(enum sp_arch arch);

/* The kernel command line a back end passes: console first, then the
 * plan's.  The caller frees it. */
char *sp_backend_cmdline(const struct sp_plan *plan, const char *console);

#endif
