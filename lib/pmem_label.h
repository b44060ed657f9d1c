/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The persistent-memory file a ppc64le guest's shared root is mapped from
 * (shareRoot on pseries, through QEMU's spapr-nvdimm and the guest's PAPR
 * SCM driver).
 *
 * A PAPR SCM device is a "labelled" NVDIMM: the guest kernel finds a
 * namespace on it only through namespace labels kept in the device's label
 * area, and maps it with struct pages (which fs-DAX needs) only when the
 * namespace starts with an fsdax info block.  Neither is in an EROFS image,
 * and the guest cannot write them (the device is read-only), so root makes
 * a file that carries both around a copy of the image:
 *
 *   0                 SP_PMEM_INFO_OFF   fsdax info block ("pfn" superblock)
 *   SP_PMEM_DATAOFF   the EROFS image, byte for byte
 *   ...               zeros (sparse) up to region_size, a multiple of 256 MiB
 *   region_size       the label area: two index blocks, then one namespace
 *                     label covering [0, region_size)
 *
 * QEMU takes the last SP_PMEM_LABEL_SIZE bytes of the file as the label
 * area, and the rest (region_size) as the device.  Everything is a pure
 * function of the image's SHA-256 and size: the uuids come from the hash,
 * so the same image always gives the same file, byte for byte.
 *
 * The on-media formats are the ones Linux's libnvdimm reads (UEFI 2.x
 * namespace label v1.1, and the pfn info block v1.4); integers are little
 * endian; every checksum is a Fletcher-64 over 32-bit little-endian words
 * with the checksum field zeroed.
 */
#ifndef SP_PMEM_LABEL_H
#define SP_PMEM_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SP_PMEM_BLOCK (256ull << 20)	/* spapr-nvdimm sizes are multiples of this */
#define SP_PMEM_LABEL_SIZE (128u << 10) /* QEMU's smallest label area */
#define SP_PMEM_INFO_OFF 4096u		/* where Linux reads the info block */
#define SP_PMEM_INFO_SIZE 4096u
#define SP_PMEM_DATAOFF (2u << 20)	/* the image: 2 MiB, a huge page, in */
#define SP_PMEM_INDEX_SIZE 256u		/* each of the two index blocks */
#define SP_PMEM_NSLABEL_SIZE 128u	/* a v1.1 namespace label */
#define SP_PMEM_NSLOT 1020u		/* label slots in the area */
#define SP_PMEM_IMAGE_MAX (64ull << 30) /* a sanity bound on root images */

struct sp_pmem_layout {
	uint64_t image_size;
	uint64_t region_size;	    /* the device (and namespace): what the guest sees */
	uint64_t file_size;	    /* region_size + SP_PMEM_LABEL_SIZE */
	uint8_t device_uuid[16];    /* spapr-nvdimm's uuid=: the label cookie */
	uint8_t namespace_uuid[16]; /* the label's, and the info block's parent */
	uint8_t pfn_uuid[16];	    /* the info block's own */
};

/* The layout for an image of `image_size` bytes (a multiple of 4 KiB, as
 * EROFS blocks are) whose SHA-256 is `sha256_hex` (64 hex digits). */
int sp_pmem_layout(struct sp_pmem_layout *l, const char *sha256_hex, uint64_t image_size,
		   struct sp_err *err);

/* Fletcher-64 over len / 4 little-endian 32-bit words, as libnvdimm sums. */
uint64_t sp_pmem_fletcher64(const void *buf, size_t len);

/* The fsdax info block, written at SP_PMEM_INFO_OFF. */
void sp_pmem_info_block(const struct sp_pmem_layout *l, uint8_t out[static SP_PMEM_INFO_SIZE]);

/* The whole label area, written at l->region_size. */
void sp_pmem_label_area(const struct sp_pmem_layout *l, uint8_t out[static SP_PMEM_LABEL_SIZE]);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", bytes in order (QEMU's uuid=). */
void sp_pmem_uuid_str(const uint8_t u[static 16], char out[static 37]);

#endif
