/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files behind ppc64le shared roots (pmem_label.h has their format):
 * STATE/pmem/SHA256.pmem, root's, made from the root image when an
 * instance that maps it starts, and reused by every other instance of
 * the same bytes.
 *
 * Trust: STATE/pmem is root's directory (the launcher's uid), mode 0755,
 * checked when opened; files are written under a temporary name through
 * its descriptor with O_NOFOLLOW | O_EXCL, fsync'd and linked to their
 * name (never over another: instances starting at once all map the first
 * one made), mode 0444.
 * Beside them, .id-IDENTITY symbolic links record which image file (by
 * inode, size and times) had which hash, so that starting an instance
 * does not read the whole image again.
 * A VMM (another, unprivileged uid) can read them, map them read-only,
 * and write neither them nor the directory.
 */
#ifndef SP_PMEM_H
#define SP_PMEM_H

#include <stdint.h>

#include "sha256.h"
#include "util.h"

/* The SHA-256 of the regular file at `path` (hex) and its size.  With
 * `dir` (STATE/pmem), a hash root recorded there when it made the file
 * from this very file (same inode, size, times) is taken instead of
 * reading it all again. */
int sp_pmem_hash(const char *path, const char *dir, char hash[static SP_SHA256_HEX], uint64_t *size,
		 struct sp_err *err);

/* Makes `pmem` (DIR/SHA256.pmem, DIR root's) from `image` unless it is
 * there already; refuses if the image's bytes are no longer the ones
 * `sha256` and `size` describe (it changed since it was planned). */
int sp_pmem_prepare(const char *pmem, const char *image, const char *sha256, uint64_t size,
		    struct sp_err *err);

#endif
