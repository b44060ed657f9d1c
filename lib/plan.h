/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A plan is everything a hypervisor needs to run one instance, resolved
 * from the model: absolute file paths, sizes in bytes, access modes.  It is
 * plain data with a stable JSON form (sp_plan_to_json); back ends read only
 * plans, never the configuration.
 */
#ifndef SP_PLAN_H
#define SP_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "util.h"

enum sp_accel {
	SP_ACCEL_TCG,
	SP_ACCEL_KVM,
};
const char *sp_accel_name(enum sp_accel a);

/*
 * Which guest kernel a host boots (SPECTRUM_KERNEL): Debian's generic one,
 * with its drivers as modules in the base initramfs
 * (scripts/guest-kernel.sh, STATE_DIR/kernels/ARCH), or Spectrum's own,
 * everything built in (scripts/build-kernel.sh,
 * STATE_DIR/kernels/spectrum-ARCH).
 */
enum sp_kernel {
	SP_KERNEL_DEBIAN,
	SP_KERNEL_SPECTRUM,
};
const char *sp_kernel_name(enum sp_kernel k);
int sp_kernel_parse(const char *s, enum sp_kernel *out);

/* What the compiler needs to know about the host and its directories. */
struct sp_host {
	enum sp_arch arch;
	bool kvm_usable;   /* hardware virtualisation that stock guest kernels run on */
	bool accel_forced; /* SPECTRUM_ACCEL was set: use `forced` for native guests */
	enum sp_accel forced;
	uint32_t tsc_khz;  /* host TSC frequency, 0 if unknown */
	enum sp_kernel kernel; /* SPECTRUM_KERNEL, spectrum by default */
	bool kernel_set;       /* SPECTRUM_KERNEL was set (sp_plan_kernel) */
	/* VMMs run as uid = gid = vmm_uid_base + a slot below 65536 distinct
	 * for each instance of the file (lib/uid.h), a range no account uses,
	 * so each instance's VMM is alone in its uid; 0 keeps the caller's
	 * (when not root, or disabled). */
	uint32_t vmm_uid_base;
	const char *state_dir; /* images, kernels, volumes: /var/lib/spectrum */
	const char *run_dir;   /* sockets and pid files: /run/spectrum */
	char state_buf[4096], run_buf[4096]; /* absolute (lib/paths.h) */
};

/*
 * The kernel a guest of `arch` boots: the host's choice; by default
 * Spectrum's, which is built for x86_64 and ppc64le, so an aarch64 guest
 * boots Debian's unless SPECTRUM_KERNEL names Spectrum's.
 */
enum sp_kernel sp_plan_kernel(const struct sp_host *host, enum sp_arch arch);

/*
 * The guest RAM, in MiB, the VMM is given for `memory_mib` asked: pseries
 * (ppc64le) takes only multiples of 256 MiB, so that is rounded up there;
 * other machines take it as it is.
 */
uint64_t sp_plan_ram_mib(enum sp_arch arch, uint64_t memory_mib);

/*
 * TCG's translation cache for a guest of `memory_mib`: an eighth of its
 * RAM, from 32 to 256 MiB (QEMU's own default is 1 GiB, touched as code is
 * translated and kept: a busy guest could grow it to that).  Not less than
 * 32: 16 saves 17 MiB of an idle 128 MiB guest's PSS but makes its start
 * 1.2x slower (the cache is flushed and the boot's code translated again);
 * 32 starts as fast as the default (measured, README).  0 under KVM.
 */
uint32_t sp_plan_tb_mib(enum sp_accel accel, uint64_t memory_mib);

/*
 * Whether `kernel` boots in `memory_mib`: Debian's needs
 * SP_MEMORY_MIN_DEBIAN (below it, it runs out of memory loading its
 * modules); Spectrum's boots in anything the data file accepts.  -1 with
 * one line naming `instance` and the fix otherwise.
 */
int sp_kernel_memory_check(enum sp_kernel kernel, const char *instance, uint64_t memory_mib,
			   struct sp_err *err);

struct sp_plan_root {
	char *image;	/* absolute path of the erofs image */
	bool shared;	/* mapped read-only through virtio-pmem with DAX */
	uint64_t size;	/* bytes, for the pmem mapping; 0 if not known yet */
	/* ppc64le (spapr-nvdimm): root's file that wraps the image in
	 * namespace labels and an fsdax info block (pmem_label.h),
	 * STATE/pmem/SHA256.pmem, and what QEMU needs to know of it; NULL
	 * and 0 elsewhere, or if the image is not built yet. */
	char *pmem;
	char sha256[65];    /* the image's, hex */
	char pmem_uuid[37]; /* the device's uuid (the labels' cookie) */
	uint64_t pmem_size; /* the whole file, label area included */
};

struct sp_plan_disk {
	char *resource;
	char *image;	  /* absolute path of the image file on the host */
	char *guest_path; /* where the guest mounts it */
	enum sp_mode mode;
	char *fs;
	uint64_t size;	/* size to create it with; 0 for an existing image */
	bool create;	/* Spectrum owns the file and creates it on first use */
	/* A read-write disk of a disposable instance: the qcow2 layer the
	 * guest writes to, root's file in the run directory, made at start
	 * over the image (then opened read-only) and removed at stop.  NULL
	 * otherwise. */
	char *overlay;
};

struct sp_plan_share {
	char *resource;
	char *host_path;
	char *guest_path;
	char *tag;	/* virtiofs / 9p mount tag */
	char *socket;	/* vhost-user socket of the file server (virtiofsd) */
	enum sp_mode mode;
};

/*
 * One network interface on a segment.  Every name and number is derived
 * from the names of the data file alone, never from its order
 * (spectrum.json(5), "Networks"): the segment's subnet 10.X.Y.0/24 from a
 * hash of its name, the instance's address .2 to .254 from a hash of its
 * own (on a collision the name later in byte order takes the next free
 * one), .1 the bridge's on a NAT segment.
 */
struct sp_plan_nic {
	char *resource;	/* the segment */
	char *tap;	/* host tap device name, at most 15 characters */
	char *bridge;	/* the segment's host bridge, "spb" + 12 hex digits */
	char mac[18];	/* "02:xx:xx:xx:xx:xx", stable for instance+segment */
	char bridge_mac[18]; /* the bridge's fixed MAC (the gateway's, on NAT) */
	char address[16];    /* the guest's IPv4 address */
	char subnet[16];     /* the segment's network address */
	unsigned prefix;     /* 24 */
	char gateway[16];    /* the bridge's address on a NAT segment, else "" */
	bool nat;
};

struct sp_plan_usb {
	char *resource;
	struct sp_usb_id id;
};

struct sp_plan_pci {
	char *resource;
	char *address;
};

/* One application of an instance that runs several: its commands are
 * plan->commands[first, first + ncommands). */
struct sp_plan_app {
	char *name;
	size_t first;
	size_t ncommands;
};

/*
 * The instance's windows (its "display" grant): a virtio-serial port
 * "spectrum.wayland" in the guest, whose other end is one of a socket pair
 * made by the launcher; the other end goes to the instance's display
 * relay (lib/display.h), which runs as relay_uid and connects to the
 * user's compositor.
 */
struct sp_plan_display {
	bool enabled;
	char color[8];	 /* the label's "#rrggbb" */
	bool fullscreen; /* granted: the filter lets set_fullscreen through */
	enum sp_clipboard clipboard;
	enum sp_wl_compress compress; /* waypipe's, at both ends */
	/* The relay's own uid (= gid): relay_uid_of(vmm_uid), a uid no
	 * VMM has (lib/uid.h); 0 when the VMM keeps the caller's uid. */
	uint32_t relay_uid;
	char *log;	/* the relay's messages (waypipe's, the filter's) */
	char *pid_file; /* "PID START-TIME" of the relay: a restarted
			 * supervisor finds it (rundir.h) */
};

struct sp_plan {
	char *instance;
	/* The application's name; for several, their names joined by '+'
	 * ("editor+shell"), as listings show them. */
	char *application;
	/* More than one application: each one, its commands and its name,
	 * which the guest reports each one's exit by (apps[0] is the first
	 * named).  napps is 1 and apps NULL for one application. */
	const struct sp_plan_app *apps;
	size_t napps;
	bool disposable; /* read-write disks have an overlay (sp_plan_disk) */
	enum sp_arch arch;
	enum sp_hv hypervisor;
	enum sp_accel accel;
	uint64_t memory_mib; /* as the VMM gets it (sp_plan_ram_mib) */
	unsigned vcpus;
	/* TCG's translation cache in MiB (-accel tcg,tb-size=N), sized for
	 * the guest (sp_plan_tb_mib); 0 under KVM, which translates nothing. */
	uint32_t tb_mib;
	/* A virtio-balloon with free page reporting: pages the guest frees
	 * go back to the host (Spectrum's kernel has the driver built in). */
	bool balloon;
	uint32_t tsc_khz;	/* for the kernel command line under TCG on x86 */

	enum sp_kernel kernel_kind;
	char *kernel;
	char *base_initrd; /* modules and spectrum-init, per architecture */
	char *initrd;	   /* base_initrd + this instance's guest config */
	/* Kernel command line without the console, which each back end adds
	 * for the device it gives the guest. */
	char *cmdline;

	struct sp_plan_root root;
	struct sp_plan_disk *disks;
	size_t ndisks;
	struct sp_plan_share *shares;
	size_t nshares;
	struct sp_plan_nic *nics;
	size_t nnics;
	struct sp_plan_usb *usb;
	size_t nusb;
	struct sp_plan_pci *pci;
	size_t npci;

	/* What the guest runs, passed to spectrum-init: every application's
	 * commands, in order, and their (merged) environment. */
	const struct sp_command *commands;
	size_t ncommands;
	const struct sp_env *env;
	size_t nenv;

	/* Host-side endpoints, all in run_dir = RUN_DIR/INSTANCE, a directory
	 * only root writes (lib/rundir.h says who owns what there). */
	char *run_dir;
	char *console_socket; /* listening sockets made by the launcher and */
	char *control_socket; /* handed to the VMM as descriptors */
	char *qmp_socket;
	char *console_log; /* the console's newest bytes, kept by the logger */
	char *vmm_log;	   /* the VMM's own messages (spectrumd's VMMs) */
	char *pid_file;	   /* "PID START-TIME": a restarted supervisor finds it */
	/* Unprivileged VMM: its uid and gid (0: unchanged).  It then gets
	 * its taps, and its disks where its back end can take them so, as
	 * inherited file descriptors (SP_FD_*), not paths. */
	uint32_t vmm_uid;
	struct sp_plan_display display;
};

/* Where an unprivileged VMM finds its disks (QEMU -add-fd, crosvm
 * /proc/self/fd/N; SP_FD_DISK_RO is QEMU's alone). */
#define SP_FD_ROOT 10
#define SP_FD_DISK(i) (11 + 2 * (int)(i))    /* read-write, or the only one for ro */
#define SP_FD_DISK_RO(i) (12 + 2 * (int)(i)) /* read-only twin of a rw disk */
/* Its channels, for every back end that Spectrum launches: listening
 * sockets bound by the launcher (the VMM owns no directory on the host),
 * and the write end of the pipe its console log goes through. */
#define SP_FD_CONSOLE 3
#define SP_FD_CONTROL 4
#define SP_FD_QMP 5
#define SP_FD_CONSOLE_LOG 6
/* A disposable disk's image, read-only under its overlay (which has
 * SP_FD_DISK and SP_FD_DISK_RO): QEMU's alone. */
#define SP_FD_DISK_BASE(i) (11 + 3 * SP_LIMIT_BINDINGS + (int)(i))
/* The guest's end of its display channel (a connected socket). */
#define SP_FD_WAYLAND 7
/* The instance lock, which the VMM holds for its life. */
#define SP_FD_LOCK 9
/* ... and its network interfaces: a tap made by the privileged side
 * (lib/net.c), so that the VMM needs no network privilege. */
#define SP_FD_NIC(i) (11 + 2 * SP_LIMIT_BINDINGS + (int)(i))

struct sp_plans {
	struct sp_arena *arena;
	struct sp_plan *v;
	size_t n;
};

/*
 * Compiles one plan per instance (or only `only`, if not NULL).  A
 * non-negative `hv_override` replaces every instance's hypervisor.  Returns
 * NULL with a message in `err` when `only` names no instance or the chosen
 * hypervisor cannot run an instance.
 */
struct sp_plans *sp_plan_compile(const struct sp_config *cfg, const struct sp_host *host,
				 const char *only, int hv_override, struct sp_err *err);
void sp_plans_free(struct sp_plans *p);

/*
 * Makes plan `p` (of `plans`) disposable, as "disposable": true does
 * (`spectrum run --disposable`): each read-write disk gets its overlay.
 * Refused, with the fix in `err`, if it writes a directory share, which
 * has no throwaway layer.
 */
int sp_plan_make_disposable(struct sp_plans *plans, struct sp_plan *p, struct sp_err *err);

/* Stable, indented JSON of one plan (caller frees). */
char *sp_plan_to_json(const struct sp_plan *p);

/*
 * Detects the host: its architecture, whether KVM is usable, the TSC
 * frequency, and the directories (SPECTRUM_STATE_DIR, SPECTRUM_RUN_DIR,
 * SPECTRUM_ACCEL=kvm|tcg and SPECTRUM_TSC_KHZ override what is found).
 */
int sp_host_detect(struct sp_host *host, struct sp_err *err);

#endif
