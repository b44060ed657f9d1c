/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The persistent-memory file of a ppc64le shared root (lib/pmem_label.h):
 * layout, checksums, and a reader that checks the label area and info
 * block the way the guest kernel's libnvdimm does (its rules are restated
 * here from the format, not taken from the writer), so that the round
 * trip writer -> reader holds.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmem.h"
#include "pmem_label.h"
#include "sha256.h"
#include "tap.h"

#define HASH_A "c3832e0980b50df1d69ae6346c9739a2d688db59041d76de14e6f8b9c5b02446"
#define HASH_B "0000000000000000000000000000000000000000000000000000000000000001"
#define MIB (1ull << 20)
#define PINNED "ee4e775880fa082df72b1fc756596ffd2e2fd949402e698de775f997d3d89355"

static uint8_t labels[SP_PMEM_LABEL_SIZE], info[SP_PMEM_INFO_SIZE];

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Fletcher-64 of buf with the 8 bytes at `sum_at` taken as zero. */
static uint64_t sum_without(const uint8_t *buf, size_t len, size_t sum_at)
{
	static uint8_t copy[SP_PMEM_INFO_SIZE];

	memcpy(copy, buf, len);
	memset(copy + sum_at, 0, 8);
	return sp_pmem_fletcher64(copy, len);
}

static void test_fletcher(void)
{
	const uint8_t words[12] = {1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0};
	const uint8_t big[4] = {0xff, 0xff, 0xff, 0xff};

	TAP_OK(sp_pmem_fletcher64(words, 0) == 0, "fletcher64 of nothing is 0");
	/* lo: 1, 3, 6; hi: 1 + 3 + 6 */
	TAP_OK(sp_pmem_fletcher64(words, 12) == (10ull << 32 | 6), "fletcher64 of 1, 2, 3");
	TAP_OK(sp_pmem_fletcher64(big, 4) == (0xffffffffull << 32 | 0xffffffffu),
	       "fletcher64 reads little-endian 32-bit words");
}

static void test_layout(void)
{
	struct sp_pmem_layout l, m;
	struct sp_err err = {0};

	TAP_OK(sp_pmem_layout(&l, HASH_A, 4 * MIB, &err) == 0, "a 4 MiB image has a layout");
	TAP_OK(l.region_size == 256 * MIB && l.file_size == 256 * MIB + 128 * 1024,
	       "4 MiB: one 256 MiB block and the 128 KiB label area");
	TAP_OK(sp_pmem_layout(&l, HASH_A, 254 * MIB, &err) == 0 && l.region_size == 256 * MIB,
	       "254 MiB fits behind the 2 MiB data offset in 256 MiB");
	TAP_OK(sp_pmem_layout(&l, HASH_A, 254 * MIB + 4096, &err) == 0 &&
		       l.region_size == 512 * MIB,
	       "4 KiB more takes a second 256 MiB block");
	TAP_OK(sp_pmem_layout(&l, HASH_A, 0, &err) < 0, "an empty image is refused");
	TAP_OK(sp_pmem_layout(&l, HASH_A, 4 * MIB + 512, &err) < 0 &&
		       strstr(err.msg, "multiple of 4 KiB"),
	       "a size that is no multiple of 4 KiB is refused, with the reason");
	TAP_OK(sp_pmem_layout(&l, "C3832E", 4 * MIB, &err) < 0,
	       "a hash that is not hex is refused");
	sp_pmem_layout(&l, HASH_A, 4 * MIB, &err);
	sp_pmem_layout(&m, HASH_A, 4 * MIB, &err);
	TAP_OK(memcmp(&l, &m, sizeof(l)) == 0, "the same image gives the same layout and uuids");
	sp_pmem_layout(&m, HASH_B, 4 * MIB, &err);
	TAP_OK(memcmp(l.device_uuid, m.device_uuid, 16) != 0 &&
		       memcmp(l.namespace_uuid, m.namespace_uuid, 16) != 0,
	       "another image gives other uuids");
	TAP_OK(memcmp(l.device_uuid, l.namespace_uuid, 16) != 0 &&
		       memcmp(l.namespace_uuid, l.pfn_uuid, 16) != 0 &&
		       memcmp(l.device_uuid, l.pfn_uuid, 16) != 0,
	       "the three roles have distinct uuids");
	TAP_OK((l.device_uuid[6] & 0xf0) == 0x40 && (l.device_uuid[8] & 0xc0) == 0x80,
	       "uuids are RFC 4122 version 4");
}

static void test_uuid_str(void)
{
	uint8_t u[16];
	char s[37];

	for (int i = 0; i < 16; i++)
		u[i] = (uint8_t)i;
	sp_pmem_uuid_str(u, s);
	TAP_STR(s, "00010203-0405-0607-0809-0a0b0c0d0e0f", "uuid string: bytes in order");
}

static void test_info_block(void)
{
	struct sp_pmem_layout l;

	sp_pmem_layout(&l, HASH_A, 4 * MIB, NULL);
	sp_pmem_info_block(&l, info);
	TAP_OK(memcmp(info, "NVDIMM_PFN_INFO\0", 16) == 0, "info block: signature");
	TAP_OK(memcmp(info + 32, l.namespace_uuid, 16) == 0,
	       "info block: its parent is the labelled namespace");
	TAP_OK(memcmp(info + 16, l.pfn_uuid, 16) == 0, "info block: its own uuid");
	TAP_OK(le(info + 52, 2) == 1 && le(info + 54, 2) == 4, "info block: version 1.4");
	TAP_OK(le(info + 56, 8) == SP_PMEM_DATAOFF && SP_PMEM_DATAOFF % 4096 == 0 &&
		       SP_PMEM_DATAOFF >= 8192,
	       "info block: data offset page-aligned, past the 8 KiB the kernel reserves");
	TAP_OK(le(info + 56, 8) % le(info + 84, 4) == 0, "info block: data offset is aligned");
	TAP_OK(le(info + 64, 8) == (256 * MIB - SP_PMEM_DATAOFF) / 4096,
	       "info block: npfns covers the region after the data offset");
	TAP_OK(le(info + 72, 4) == 1, "info block: mode RAM (struct pages not on the device)");
	TAP_OK(le(info + 76, 4) == 0 && le(info + 80, 4) == 0,
	       "info block: no start pad, no end trunc");
	TAP_OK(le(info + 88, 4) == 4096 && le(info + 92, 2) == 64,
	       "info block: 4 KiB pages, 64-byte struct page");
	TAP_OK(le(info + 4088, 8) == sum_without(info, SP_PMEM_INFO_SIZE, 4088),
	       "info block: checksum over the 4 KiB");
	info[100] ^= 1;
	TAP_OK(le(info + 4088, 8) != sum_without(info, SP_PMEM_INFO_SIZE, 4088),
	       "info block: a flipped bit breaks the checksum");
	info[100] ^= 1;
}

/* The index block size libnvdimm computes for a label area of `config`
 * bytes and `label` -byte labels. */
static uint64_t index_size(uint64_t config, uint64_t label, uint32_t *nslot)
{
	uint64_t tmp = config / label;
	uint64_t ix = (72 + (tmp + 7) / 8 + 255) / 256 * 256;

	*nslot = (uint32_t)((config - 2 * ix) / label);
	return (72 + (*nslot + 7) / 8 + 255) / 256 * 256;
}

/* Index i is valid by the kernel's rules; returns its sequence or 0. */
static uint32_t index_valid(const uint8_t *area, int i, uint64_t ixsize, uint32_t nslot_max)
{
	const uint8_t *ix = area + i * ixsize;
	uint32_t seq = (uint32_t)le(ix + 20, 4);
	uint64_t version = le(ix + 60, 2) * 100 + le(ix + 62, 2);

	if (memcmp(ix, "NAMESPACE_INDEX\0", 16) != 0 || version >= 102 ||
	    le(ix + 64, 8) != sum_without(ix, ixsize, 64) || (seq & 3) == 0 ||
	    le(ix + 24, 8) != i * ixsize || le(ix + 40, 8) != (uint64_t)(!i) * ixsize ||
	    le(ix + 48, 8) != 2 * ixsize || le(ix + 32, 8) > ixsize || le(ix + 32, 8) < 72 ||
	    le(ix + 56, 4) * 128 + 2 * ixsize > SP_PMEM_LABEL_SIZE || le(ix + 56, 4) > nslot_max)
		return 0;
	return seq;
}

static void test_labels(void)
{
	struct sp_pmem_layout l;
	uint32_t nslot, used = 0, in_use = 0;
	uint64_t ixsize;
	const uint8_t *ix, *nl;
	int cur;

	sp_pmem_layout(&l, HASH_A, 4 * MIB, NULL);
	sp_pmem_label_area(&l, labels);
	ixsize = index_size(SP_PMEM_LABEL_SIZE, 128, &nslot);
	TAP_OK(ixsize == SP_PMEM_INDEX_SIZE && nslot == SP_PMEM_NSLOT,
	       "labels: 256-byte index blocks and 1020 slots, as the kernel sizes them");
	TAP_OK(index_valid(labels, 0, ixsize, nslot) && index_valid(labels, 1, ixsize, nslot),
	       "labels: both index blocks are valid");
	/* The current one: sequences 1 then 2 (2 follows 1). */
	cur = le(labels + 20, 4) == 1 && le(labels + ixsize + 20, 4) == 2 ? 1 : 0;
	TAP_OK(cur == 1, "labels: index 1 is current");
	ix = labels + cur * ixsize;
	for (uint32_t s = 0; s < 128 * 8; s++) {
		bool free_bit = ix[72 + s / 8] >> (s % 8) & 1;
		if (s >= nslot && free_bit)
			used = 1000; /* a bit past nslot: wrong */
		else if (s < nslot && !free_bit) {
			used++;
			in_use = s;
		}
	}
	TAP_OK(used == 1 && in_use == 0, "labels: slot 0 alone is in use, no bit past nslot");
	nl = labels + 2 * ixsize;
	TAP_OK(le(nl + 120, 4) == 0, "label: written in the slot it names");
	TAP_OK(memcmp(nl, l.namespace_uuid, 16) == 0, "label: the namespace's uuid");
	TAP_OK(le(nl + 88, 8) == le(l.device_uuid, 8) && le(nl + 88, 8) != 0,
	       "label: cookie is the device uuid's first 8 bytes, little endian (v1.1)");
	TAP_OK(le(nl + 84, 2) == 1 && le(nl + 86, 2) == 0, "label: one DIMM, position 0");
	TAP_OK(le(nl + 104, 8) == 0 && le(nl + 112, 8) == l.region_size,
	       "label: the namespace covers the whole device");
	TAP_OK(le(nl + 96, 8) == 0 && le(nl + 80, 4) == 0, "label: pmem (no lbasize), no flags");
	for (size_t i = 2 * ixsize + 128; i < SP_PMEM_LABEL_SIZE; i++)
		if (labels[i]) {
			used = 0;
			break;
		}
	TAP_OK(used == 1, "labels: every other slot is zero");
	labels[2 * ixsize + 1] ^= 1;
	sp_pmem_label_area(&l, labels);
	TAP_OK(memcmp(labels + 2 * ixsize, l.namespace_uuid, 16) == 0,
	       "labels: rewritten whole each time");
}

/* The bytes are pinned: a change of format shows here first (and a file
 * made by an older Spectrum would no longer be reused as is). */
static void test_pinned(void)
{
	struct sp_pmem_layout l;
	struct sp_sha256 h;
	char hex[SP_SHA256_HEX];

	sp_pmem_layout(&l, HASH_A, 4 * MIB, NULL);
	sp_pmem_info_block(&l, info);
	sp_pmem_label_area(&l, labels);
	sp_sha256_init(&h);
	sp_sha256_update(&h, info, sizeof(info));
	sp_sha256_update(&h, labels, sizeof(labels));
	sp_sha256_hex(&h, hex);
	TAP_STR(hex, PINNED, "the info block and labels of one image are pinned bytes");
}

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc = fd >= 0 && write(fd, buf, len) == (ssize_t)len ? 0 : -1;

	if (fd >= 0)
		close(fd);
	return rc;
}

static bool file_range(const char *path, uint64_t off, const void *want, size_t len)
{
	static uint8_t got[SP_PMEM_LABEL_SIZE];
	int fd = open(path, O_RDONLY);
	bool same = fd >= 0 && pread(fd, got, len, (off_t)off) == (ssize_t)len &&
		    memcmp(got, want, len) == 0;

	if (fd >= 0)
		close(fd);
	return same;
}

/* The file root makes (lib/pmem.c): the image at the data offset, the
 * info block and the labels where the guest reads them, mode 0444; made
 * once and reused; an image whose bytes are not the planned ones refused. */
static void test_prepare(void)
{
	char dir[] = "/tmp/spectrum-pmem.XXXXXX", image[64], pmem[256], pdir[64];
	char hash[SP_SHA256_HEX], again[SP_SHA256_HEX];
	static uint8_t img[8192];
	struct sp_pmem_layout l;
	struct sp_err err = {0};
	struct stat st, st2;
	uint64_t size = 0;

	if (!mkdtemp(dir)) {
		TAP_OK(0, "mkdtemp");
		return;
	}
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 7 + 1);
	snprintf(image, sizeof(image), "%s/root.erofs", dir);
	write_file(image, img, sizeof(img));
	TAP_OK(sp_pmem_hash(image, NULL, hash, &size, &err) == 0 && size == sizeof(img),
	       "hash an image");
	snprintf(pmem, sizeof(pmem), "%s/pmem/%s.pmem", dir, hash);
	snprintf(pdir, sizeof(pdir), "%s/pmem", dir);
	TAP_OK(sp_pmem_prepare(pmem, image, hash, size, &err) == 0, "make the file");
	sp_pmem_layout(&l, hash, size, NULL);
	sp_pmem_info_block(&l, info);
	sp_pmem_label_area(&l, labels);
	TAP_OK(stat(pmem, &st) == 0 && (st.st_mode & 07777) == 0444 &&
		       (uint64_t)st.st_size == l.file_size,
	       "the file: mode 0444, its layout's size");
	TAP_OK(file_range(pmem, SP_PMEM_DATAOFF, img, sizeof(img)), "the image at the data offset");
	TAP_OK(file_range(pmem, SP_PMEM_INFO_OFF, info, sizeof(info)), "the info block at 4 KiB");
	TAP_OK(file_range(pmem, l.region_size, labels, sizeof(labels)), "the labels at the end");
	TAP_OK(sp_pmem_prepare(pmem, image, hash, size, &err) == 0 && stat(pmem, &st2) == 0 &&
		       st2.st_ino == st.st_ino,
	       "made once, then reused");
	/* Root recorded the image's identity: the hash is not read again;
	 * a write changes the identity, and the hash is the new bytes'. */
	TAP_OK(sp_pmem_hash(image, pdir, again, &size, &err) == 0 && strcmp(again, hash) == 0,
	       "the recorded identity gives the hash");
	img[0] ^= 1;
	write_file(image, img, sizeof(img));
	TAP_OK(sp_pmem_hash(image, pdir, again, &size, &err) == 0 && strcmp(again, hash) != 0,
	       "a changed image is hashed again");
	unlink(pmem);
	TAP_OK(sp_pmem_prepare(pmem, image, hash, size, &err) < 0 && strstr(err.msg, "changed") &&
		       access(pmem, F_OK) < 0,
	       "an image changed since it was planned is refused, nothing left");
	snprintf(image, sizeof(image), "%s/pmem", dir);
	chmod(image, 0777);
	TAP_OK(sp_pmem_prepare(pmem, image, hash, size, &err) < 0 && strstr(err.msg, "mode 0755"),
	       "a directory others may write is refused");
	snprintf(image, sizeof(image), "rm -rf %s", dir);
	TAP_OK(system(image) == 0, "clean up");
}

int main(void)
{
	test_fletcher();
	test_layout();
	test_uuid_str();
	test_info_block();
	test_labels();
	test_pinned();
	test_prepare();
	return tap_done();
}
