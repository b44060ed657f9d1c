/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 (FIPS 180-4), small and dependency-free: image digests, the
 * digests of .deb files and of -d trees, and the file system UUID.
 */
#ifndef SI_SHA256_H
#define SI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SI_SHA256_LEN 32
#define SI_SHA256_HEX (2 * SI_SHA256_LEN + 1)

struct si_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed so far */
	uint8_t buf[64];
	size_t nbuf;
};

void si_sha256_init(struct si_sha256 *c);
void si_sha256_update(struct si_sha256 *c, const void *data, size_t len);
void si_sha256_final(struct si_sha256 *c, uint8_t out[SI_SHA256_LEN]);
/* Lower-case hexadecimal, NUL-terminated. */
void si_sha256_hex(const uint8_t d[SI_SHA256_LEN], char out[SI_SHA256_HEX]);

#endif
