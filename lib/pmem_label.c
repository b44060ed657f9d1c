/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The persistent-memory file of a ppc64le shared root (pmem_label.h): its
 * layout, namespace labels and fsdax info block, as pure functions.
 *
 * What Linux (drivers/nvdimm) checks, and so what each field must be:
 *
 * Label area (label.c, namespace_devs.c).  The kernel first tries 128-byte
 * labels; with a 128 KiB area that gives 1020 slots and 256-byte index
 * blocks (72 bytes of header and a 1020-bit free bitmap, rounded up to
 * 256).  An index is valid when its signature, Fletcher-64 over the 256
 * bytes, sequence (non-zero in its low two bits), myoff (0 or 256),
 * otheroff (the other one), labeloff (512), mysize and nslot fit.  Version
 * 1.1 labels carry no checksum and no type or claim guid, so the namespace
 * has no claim class and the pfn driver may claim it.  A pmem label is
 * used when its interleave-set cookie equals the region's, which for a
 * version 1.1 index is the first 8 bytes of the device's uuid read little
 * endian; nlabel must be 1 (one DIMM), position 0, and [dpa, dpa+rawsize)
 * inside the DIMM.
 *
 * Info block (pfn_devs.c, nd_pfn_validate).  At 4 KiB into the namespace:
 * "NVDIMM_PFN_INFO", parent_uuid = the namespace's uuid, Fletcher-64 over
 * the 4 KiB, mode RAM (struct pages in guest memory: the device is
 * read-only, so they cannot live in it), dataoff aligned to `align` and
 * to the page size, at least 8 KiB.  The block device the kernel then
 * makes (pmem0) starts at dataoff, where the image is.
 */
#include <stdio.h>
#include <string.h>

#include "pmem_label.h"
#include "sha256.h"

#define SP_PMEM_PAGE 4096u
#define SP_PMEM_MODE_RAM 1u
#define SP_PMEM_ALIGN (2u << 20)

/* Index block fields (offsets in bytes). */
enum {
	IX_SIG = 0,
	IX_LABELSIZE = 19,
	IX_SEQ = 20,
	IX_MYOFF = 24,
	IX_MYSIZE = 32,
	IX_OTHEROFF = 40,
	IX_LABELOFF = 48,
	IX_NSLOT = 56,
	IX_MAJOR = 60,
	IX_MINOR = 62,
	IX_CHECKSUM = 64,
	IX_FREE = 72,
};

/* Namespace label (v1.1) fields. */
enum {
	NL_UUID = 0,
	NL_NAME = 16,
	NL_FLAGS = 80,
	NL_NLABEL = 84,
	NL_POSITION = 86,
	NL_ISETCOOKIE = 88,
	NL_LBASIZE = 96,
	NL_DPA = 104,
	NL_RAWSIZE = 112,
	NL_SLOT = 120,
};

/* Info block fields. */
enum {
	PI_SIG = 0,
	PI_UUID = 16,
	PI_PARENT_UUID = 32,
	PI_FLAGS = 48,
	PI_MAJOR = 52,
	PI_MINOR = 54,
	PI_DATAOFF = 56,
	PI_NPFNS = 64,
	PI_MODE = 72,
	PI_START_PAD = 76,
	PI_END_TRUNC = 80,
	PI_ALIGN = 84,
	PI_PAGE_SIZE = 88,
	PI_PAGE_STRUCT_SIZE = 92,
	PI_CHECKSUM = 4088,
};

static void sp_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void sp_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void sp_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t sp_get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

uint64_t sp_pmem_fletcher64(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t lo = 0;
	uint64_t hi = 0;

	for (size_t i = 0; i + 4 <= len; i += 4) {
		lo += (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
		      (uint32_t)p[i + 3] << 24;
		hi += lo;
	}
	return hi << 32 | lo;
}

static int sp_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A uuid of its own for each role: SHA-256 of the role's name and the
 * image's hash, as an RFC 4122 version 4 (random-looking) uuid.  Version
 * bits make byte 6 non-zero, so the cookie taken from it never is 0
 * (which the kernel takes for "no interleave set"). */
static void sp_pmem_uuid(const char *role, const char *sha256_hex, uint8_t out[static 16])
{
	struct sp_sha256 s;
	char hex[SP_SHA256_HEX];

	sp_sha256_init(&s);
	sp_sha256_update(&s, "spectrum-pmem ", 14);
	sp_sha256_update(&s, role, strlen(role));
	sp_sha256_update(&s, " ", 1);
	sp_sha256_update(&s, sha256_hex, 64);
	sp_sha256_hex(&s, hex);
	for (int i = 0; i < 16; i++)
		out[i] = (uint8_t)(sp_hex_nibble(hex[2 * i]) << 4 | sp_hex_nibble(hex[2 * i + 1]));
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

int sp_pmem_layout(struct sp_pmem_layout *l, const char *sha256_hex, uint64_t image_size,
		   struct sp_err *err)
{
	memset(l, 0, sizeof(*l));
	if (!sp_sha256_valid(sha256_hex)) {
		sp_err_set(err, "\"%.64s\" is not a SHA-256 in hex", sha256_hex);
		return -1;
	}
	if (image_size == 0 || image_size % SP_PMEM_PAGE || image_size > SP_PMEM_IMAGE_MAX) {
		sp_err_set(
			err,
			"a root image of %llu bytes cannot be mapped as persistent memory (it must be a non-empty multiple of 4 KiB, at most 64 GiB); rebuild the image",
			(unsigned long long)image_size);
		return -1;
	}
	l->image_size = image_size;
	l->region_size =
		(SP_PMEM_DATAOFF + image_size + SP_PMEM_BLOCK - 1) / SP_PMEM_BLOCK * SP_PMEM_BLOCK;
	l->file_size = l->region_size + SP_PMEM_LABEL_SIZE;
	sp_pmem_uuid("device", sha256_hex, l->device_uuid);
	sp_pmem_uuid("namespace", sha256_hex, l->namespace_uuid);
	sp_pmem_uuid("pfn", sha256_hex, l->pfn_uuid);
	return 0;
}

void sp_pmem_info_block(const struct sp_pmem_layout *l, uint8_t out[static SP_PMEM_INFO_SIZE])
{
	memset(out, 0, SP_PMEM_INFO_SIZE);
	memcpy(out + PI_SIG, "NVDIMM_PFN_INFO", 16); /* with its NUL: 16 bytes */
	memcpy(out + PI_UUID, l->pfn_uuid, 16);
	memcpy(out + PI_PARENT_UUID, l->namespace_uuid, 16);
	sp_le16(out + PI_MAJOR, 1);
	sp_le16(out + PI_MINOR, 4); /* 4: page_size and page_struct_size are set */
	sp_le64(out + PI_DATAOFF, SP_PMEM_DATAOFF);
	sp_le64(out + PI_NPFNS, (l->region_size - SP_PMEM_DATAOFF) / SP_PMEM_PAGE);
	sp_le32(out + PI_MODE, SP_PMEM_MODE_RAM);
	sp_le32(out + PI_ALIGN, SP_PMEM_ALIGN);
	sp_le32(out + PI_PAGE_SIZE, SP_PMEM_PAGE);
	sp_le16(out + PI_PAGE_STRUCT_SIZE, 64);
	sp_le64(out + PI_CHECKSUM, sp_pmem_fletcher64(out, SP_PMEM_INFO_SIZE));
}

/* Index block i of two: the same free bitmap (slot 0 used), sequence
 * numbers 1 and 2 so that the kernel takes block 1 as the current one. */
static void sp_pmem_index(uint8_t *ix, unsigned i)
{
	memcpy(ix + IX_SIG, "NAMESPACE_INDEX", 16);
	ix[IX_LABELSIZE] = 0; /* 128-byte labels */
	sp_le32(ix + IX_SEQ, i + 1);
	sp_le64(ix + IX_MYOFF, (uint64_t)i * SP_PMEM_INDEX_SIZE);
	sp_le64(ix + IX_MYSIZE, SP_PMEM_INDEX_SIZE);
	sp_le64(ix + IX_OTHEROFF, (uint64_t)(1 - i) * SP_PMEM_INDEX_SIZE);
	sp_le64(ix + IX_LABELOFF, 2 * SP_PMEM_INDEX_SIZE);
	sp_le32(ix + IX_NSLOT, SP_PMEM_NSLOT);
	sp_le16(ix + IX_MAJOR, 1);
	sp_le16(ix + IX_MINOR, 1);
	/* A set bit is a free slot; bits past nslot stay clear. */
	for (unsigned slot = 1; slot < SP_PMEM_NSLOT; slot++)
		ix[IX_FREE + slot / 8] |= (uint8_t)(1u << (slot % 8));
	sp_le64(ix + IX_CHECKSUM, sp_pmem_fletcher64(ix, SP_PMEM_INDEX_SIZE));
}

void sp_pmem_label_area(const struct sp_pmem_layout *l, uint8_t out[static SP_PMEM_LABEL_SIZE])
{
	uint8_t *nl = out + 2 * SP_PMEM_INDEX_SIZE; /* slot 0 */

	memset(out, 0, SP_PMEM_LABEL_SIZE);
	sp_pmem_index(out, 0);
	sp_pmem_index(out + SP_PMEM_INDEX_SIZE, 1);
	memcpy(nl + NL_UUID, l->namespace_uuid, 16);
	memcpy(nl + NL_NAME, "spectrum-root", 13);
	sp_le32(nl + NL_FLAGS, 0);
	sp_le16(nl + NL_NLABEL, 1);
	sp_le16(nl + NL_POSITION, 0);
	sp_le64(nl + NL_ISETCOOKIE, sp_get_le64(l->device_uuid));
	sp_le64(nl + NL_LBASIZE, 0); /* 0: pmem, not a block-window namespace */
	sp_le64(nl + NL_DPA, 0);
	sp_le64(nl + NL_RAWSIZE, l->region_size);
	sp_le32(nl + NL_SLOT, 0);
}

void sp_pmem_uuid_str(const uint8_t u[static 16], char out[static 37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}
