/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A throwaway write layer under a read-only volume whose ext4 journal
 * needs replaying: a writer that stopped without unmounting (its VMM
 * killed) left records it had fsync'd in the journal only.  Mounted with
 * noload, the reader would not see them; mounted plainly, ext4 needs to
 * write the replay, which the read-only disk (read-only in the hypervisor
 * too) refuses.  So the replay goes to a device-mapper snapshot of the
 * disk whose copy-on-write store is a loop device over a memfd: guest RAM,
 * gone at power-off, bounded by the guest's memory.  The volume's file on
 * the host is never written, and a clean volume costs nothing: only a
 * journal that needs recovery loads the modules (group "cow").
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

/* Of the ext4 superblock (1024 bytes in): where the journal's state is. */
#define EXT4_SB_AT 1024
#define EXT4_MAGIC_AT 0x38
#define EXT4_COMPAT_AT 0x5c
#define EXT4_INCOMPAT_AT 0x60
#define EXT4_MAGIC 0xef53
#define EXT4_COMPAT_HAS_JOURNAL 0x4
#define EXT4_INCOMPAT_RECOVER 0x4

/* A chunk of the copy-on-write store: 8 sectors, one ext4 block. */
#define COW_CHUNK_SECTORS 8

static uint32_t le(const unsigned char *p, size_t n)
{
	uint32_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/*
 * Whether the ext4 on `fd` has a journal to replay.  Three fields of the
 * superblock, read by the guest from its own disk: whatever a writer put
 * there, the guest's kernel parses it anyway at the mount.
 */
static bool needs_recovery(int fd)
{
	unsigned char sb[0x64];

	if (pread(fd, sb, sizeof(sb), EXT4_SB_AT) != (ssize_t)sizeof(sb))
		return false;
	return le(sb + EXT4_MAGIC_AT, 2) == EXT4_MAGIC &&
	       (le(sb + EXT4_COMPAT_AT, 4) & EXT4_COMPAT_HAS_JOURNAL) &&
	       (le(sb + EXT4_INCOMPAT_AT, 4) & EXT4_INCOMPAT_RECOVER);
}

/* A loop device over a sparse memfd of `size` bytes: its node's device
 * number. */
static dev_t ram_store(const char *serial, uint64_t size)
{
	char path[32];
	struct stat st;
	int ctl, n, loop, mem;

	mem = memfd_create("spectrum-cow", MFD_CLOEXEC);
	if (mem < 0 || ftruncate(mem, (off_t)size) < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "volume %s: a memory file for its journal replay: %s",
			serial, strerror(errno));
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	n = ctl < 0 ? -1 : ioctl(ctl, LOOP_CTL_GET_FREE);
	if (n < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "volume %s: a free loop device: %s", serial,
			strerror(errno));
	close(ctl);
	snprintf(path, sizeof(path), "/dev/loop%d", n);
	loop = open(path, O_RDWR | O_CLOEXEC);
	if (loop < 0 || ioctl(loop, LOOP_SET_FD, mem) < 0 || fstat(loop, &st) < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "volume %s: %s over a memory file: %s", serial, path,
			strerror(errno));
	/* The loop device holds the memfd now, and the kernel the device. */
	close(loop);
	close(mem);
	return st.st_rdev;
}

/* One device-mapper ioctl on `ctl` with `io` (and what follows it in
 * `size` bytes). */
static void dm_call(int ctl, unsigned long req, struct dm_ioctl *io, size_t size, const char *name,
		    const char *what)
{
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(*io);
	snprintf(io->name, sizeof(io->name), "%s", name);
	if (ioctl(ctl, req, io) < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "device-mapper %s of %s: %s", what, name,
			strerror(errno));
}

/* A snapshot of `origin` (sectors long) with its changes in `store`: the
 * device number of the new device. */
static dev_t dm_snapshot(const char *name, dev_t origin, dev_t store, uint64_t sectors)
{
	union {
		struct dm_ioctl io;
		unsigned char buf[sizeof(struct dm_ioctl) + sizeof(struct dm_target_spec) + 64];
	} u;
	struct dm_target_spec *t = (struct dm_target_spec *)(u.buf + sizeof(u.io));
	char *params = (char *)(t + 1);
	dev_t dev;
	int ctl = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);

	if (ctl < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "/dev/mapper/control: %s", strerror(errno));
	memset(&u, 0, sizeof(u));
	dm_call(ctl, DM_DEV_CREATE, &u.io, sizeof(u.io), name, "create");
	/* The kernel's encoding of device numbers, which minor() reads. */
	dev = (dev_t)u.io.dev;

	memset(&u, 0, sizeof(u));
	u.io.target_count = 1;
	t->sector_start = 0;
	t->length = sectors;
	snprintf(t->target_type, sizeof(t->target_type), "snapshot");
	/* N: a transient store, which keeps its index in memory and writes
	 * nothing but the changed chunks. */
	snprintf(params, sizeof(u.buf) - (size_t)(params - (char *)u.buf), "%u:%u %u:%u N %d",
		 major(origin), minor(origin), major(store), minor(store), COW_CHUNK_SECTORS);
	dm_call(ctl, DM_TABLE_LOAD, &u.io, sizeof(u.buf), name, "table load");

	memset(&u, 0, sizeof(u));
	dm_call(ctl, DM_DEV_SUSPEND, &u.io, sizeof(u.io), name, "resume");
	close(ctl);
	return dev;
}

/* The layers made, by disk serial: the mounts come after the switch of
 * root, when the modules (in the initramfs) are out of reach. */
static struct {
	char serial[GI_SERIAL_MAX + 1];
	char dev[32];
} layers[GI_MOUNTS_MAX];
static size_t nlayers;

void gi_cow_layer(const char *serial, const char *dev, int64_t deadline)
{
	char name[GI_SERIAL_MAX + 8];
	uint64_t size;
	struct stat st;
	dev_t snap;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "opening %s (serial %s): %s", dev, serial,
			strerror(errno));
	if (!needs_recovery(fd)) {
		close(fd);
		return;
	}
	if (fstat(fd, &st) < 0 || ioctl(fd, BLKGETSIZE64, &size) < 0)
		gi_fail(SP_GP_STAGE_MOUNT, "the size of %s (serial %s): %s", dev, serial,
			strerror(errno));
	close(fd);
	if (nlayers == sizeof(layers) / sizeof(layers[0]))
		return; /* not reached: one volume line per serial */
	if (nlayers == 0)
		gi_modules_load("cow");
	/* At most every chunk changes: the store can hold them all, and
	 * takes memory only for those the replay writes. */
	snprintf(name, sizeof(name), "cow-%s", serial);
	snap = dm_snapshot(name, st.st_rdev, ram_store(serial, size), size / 512);
	snprintf(layers[nlayers].serial, sizeof(layers[nlayers].serial), "%s", serial);
	snprintf(layers[nlayers].dev, sizeof(layers[nlayers].dev), "/dev/dm-%u", minor(snap));
	/* devtmpfs makes the node as the disk is added; be sure. */
	while (access(layers[nlayers].dev, F_OK) < 0) {
		if (gi_now_ms() >= deadline)
			gi_fail(SP_GP_STAGE_MOUNT, "%s (%s over serial %s) did not appear",
				layers[nlayers].dev, name, serial);
		gi_sleep_ms(GI_POLL_MS);
	}
	nlayers++;
}

bool gi_cow_device(const char *serial, char *dev, size_t len)
{
	for (size_t i = 0; i < nlayers; i++) {
		if (strcmp(layers[i].serial, serial) == 0) {
			snprintf(dev, len, "%s", layers[i].dev);
			return true;
		}
	}
	return false;
}
