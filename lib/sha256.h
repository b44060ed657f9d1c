/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SHA-256 (FIPS 180-4), for the content hashes that name root images in
 * the generation store (gen.h).  Not for secrets: no constant-time care.
 */
#ifndef SP_SHA256_H
#define SP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SP_SHA256_HEX 65 /* 64 hex digits and the NUL */

struct sp_sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes so far */
	unsigned char block[64];
	size_t used;
};

void sp_sha256_init(struct sp_sha256 *s);
void sp_sha256_update(struct sp_sha256 *s, const void *data, size_t len);
/* Writes the digest as 64 lower-case hex digits. */
void sp_sha256_hex(struct sp_sha256 *s, char out[static SP_SHA256_HEX]);

/* true if s is 64 lower-case hex digits: a name in the store. */
_Bool sp_sha256_valid(const char *s);

#endif
