/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The files behind ppc64le shared roots (pmem.h): made by root, from the
 * root image, in root's STATE/pmem.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pmem.h"
#include "pmem_label.h"

/* The image, opened as the launcher opens root images: no link, a
 * regular file (O_NONBLOCK: a FIFO put there must not hang root). */
static int sp_pmem_open_image(const char *path, struct stat *st, struct sp_err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		sp_err_set(err, "cannot open the root image %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode)) {
		sp_err_set(err, "the root image %s is not a regular file", path);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

static ssize_t sp_pmem_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

/*
 * The identity of an image file: device, inode, size, modification and
 * change times.  A write to the file changes its change time, which no
 * one but the kernel sets, so the same identity is the same bytes, but
 * for a file written again within one clock tick while root hashed it:
 * its instances then boot the bytes root hashed, which its owner wrote
 * too.  Either way a .pmem file holds the bytes its name says (the copy
 * is checked), so nothing here lets anyone put other bytes under a hash.
 */
static void sp_pmem_id(const struct stat *st, char out[static 128])
{
	snprintf(out, 128, ".id-%llx-%llx-%llx-%lld.%09ld-%lld.%09ld",
		 (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

/* DIR is root's alone (the launcher's uid's), or -1. */
static int sp_pmem_dir_trusted(const char *dir)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The hash root recorded for this identity when it made the file. */
static bool sp_pmem_known(const char *dir, const struct stat *st, char hash[static SP_SHA256_HEX])
{
	char id[128];
	ssize_t n;
	int fd = sp_pmem_dir_trusted(dir);

	if (fd < 0)
		return false;
	sp_pmem_id(st, id);
	n = readlinkat(fd, id, hash, SP_SHA256_HEX);
	close(fd);
	if (n != SP_SHA256_HEX - 1)
		return false;
	hash[n] = '\0';
	return sp_sha256_valid(hash);
}

/* Records what sp_pmem_known reads (best effort: a miss only costs a
 * hash): a symbolic link, made under a temporary name and renamed. */
static void sp_pmem_remember(int dir, const struct stat *st, const char *hash)
{
	char id[128], tmp[64];

	sp_pmem_id(st, id);
	snprintf(tmp, sizeof(tmp), ".tmp-id-%d", (int)getpid());
	unlinkat(dir, tmp, 0);
	if (symlinkat(hash, dir, tmp) == 0 && renameat(dir, tmp, dir, id) < 0)
		unlinkat(dir, tmp, 0);
}

int sp_pmem_hash(const char *path, const char *dir, char hash[static SP_SHA256_HEX], uint64_t *size,
		 struct sp_err *err)
{
	static char buf[1 << 16];
	struct sp_sha256 h;
	struct stat st;
	uint64_t total = 0;
	ssize_t n;
	int fd = sp_pmem_open_image(path, &st, err);

	if (fd < 0)
		return -1;
	if (dir && sp_pmem_known(dir, &st, hash)) {
		close(fd);
		*size = (uint64_t)st.st_size;
		return 0;
	}
	sp_sha256_init(&h);
	while ((n = sp_pmem_read(fd, buf, sizeof(buf))) > 0) {
		sp_sha256_update(&h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (n < 0) {
		sp_err_set(err, "reading the root image %s: %s", path, strerror(errno));
		return -1;
	}
	sp_sha256_hex(&h, hash);
	*size = total;
	return 0;
}

/*
 * DIR as root's own directory: created if missing; a link, another type,
 * another owner or a mode that lets others write is refused, so that no
 * other uid can put or swap a file in it.
 */
static int sp_pmem_dir(const char *dir, struct sp_err *err)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		sp_err_set(err, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		sp_err_set(err, "cannot open %s: %s; it must be a directory", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 022)) {
		sp_err_set(
			err,
			"%s is not uid %d's alone (owner %d, mode %o); make it %d's with mode 0755",
			dir, (int)geteuid(), (int)st.st_uid, st.st_mode & 07777, (int)geteuid());
		close(fd);
		return -1;
	}
	return fd;
}

/* A file made before is used as is: root made it in root's directory,
 * after checking the image's hash, and nobody else can write it. */
static bool sp_pmem_made(int dir, const char *name, const struct sp_pmem_layout *l)
{
	struct stat st;

	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
	       st.st_uid == geteuid() && !(st.st_mode & 0222) &&
	       (uint64_t)st.st_size == l->file_size;
}

static int sp_pmem_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* The image's bytes at the data offset, hashed on the way: what is
 * copied is what is checked. */
static int sp_pmem_copy(int dst, int src, const struct sp_pmem_layout *l, const char *sha256,
			struct sp_err *err)
{
	static char buf[1 << 16];
	char hash[SP_SHA256_HEX];
	struct sp_sha256 h;
	uint64_t off = 0;
	ssize_t n;

	sp_sha256_init(&h);
	while ((n = sp_pmem_read(src, buf, sizeof(buf))) > 0) {
		if (off + (uint64_t)n > l->image_size)
			break;
		if (sp_pmem_pwrite(dst, buf, (size_t)n, SP_PMEM_DATAOFF + off) < 0) {
			sp_err_set(err, "writing: %s", strerror(errno));
			return -1;
		}
		sp_sha256_update(&h, buf, (size_t)n);
		off += (uint64_t)n;
	}
	if (n < 0) {
		sp_err_set(err, "reading the root image: %s", strerror(errno));
		return -1;
	}
	sp_sha256_hex(&h, hash);
	if (n > 0 || off != l->image_size || strcmp(hash, sha256) != 0) {
		sp_err_set(err,
			   "the root image changed since the instance was planned; start it again");
		return -1;
	}
	return 0;
}

static int sp_pmem_fill(int dst, int src, const struct sp_pmem_layout *l, const char *sha256,
			struct sp_err *err)
{
	static uint8_t info[SP_PMEM_INFO_SIZE], labels[SP_PMEM_LABEL_SIZE];

	sp_pmem_info_block(l, info);
	sp_pmem_label_area(l, labels);
	/* The zeros between image and labels stay a hole. */
	if (ftruncate(dst, (off_t)l->file_size) < 0 ||
	    sp_pmem_pwrite(dst, info, sizeof(info), SP_PMEM_INFO_OFF) < 0 ||
	    sp_pmem_pwrite(dst, labels, sizeof(labels), l->region_size) < 0) {
		sp_err_set(err, "writing: %s", strerror(errno));
		return -1;
	}
	if (sp_pmem_copy(dst, src, l, sha256, err) < 0)
		return -1;
	if (fsync(dst) < 0) {
		sp_err_set(err, "writing: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int sp_pmem_make(int dir, const char *name, const char *image,
			const struct sp_pmem_layout *l, const char *sha256, struct sp_err *err)
{
	char tmp[64];
	struct stat st;
	int src, dst, rc = -1;

	src = sp_pmem_open_image(image, &st, err);
	if (src < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), ".tmp-%d", (int)getpid());
	unlinkat(dir, tmp, 0);
	dst = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (dst < 0) {
		sp_err_set(err, "cannot create %s: %s", tmp, strerror(errno));
		close(src);
		return -1;
	}
	/* Linked, never renamed over: when two instances of one image start
	 * at once and both make the file, the first one's stays and the
	 * second's goes, so that every VMM maps the same inode (a rename
	 * would leave the first VMM on an unlinked copy, its pages shared
	 * with no one).  Same bytes either way. */
	if (sp_pmem_fill(dst, src, l, sha256, err) == 0) {
		if (linkat(dir, tmp, dir, name, 0) == 0 ||
		    (errno == EEXIST && sp_pmem_made(dir, name, l))) {
			sp_pmem_remember(dir, &st, sha256);
			fsync(dir);
			rc = 0;
		} else {
			sp_err_set(err, "cannot link %s to %s: %s; remove %s", tmp, name,
				   strerror(errno), name);
		}
	}
	close(dst);
	close(src);
	unlinkat(dir, tmp, 0);
	return rc;
}

/* The file is there already (another image file with the same bytes, or
 * one made before identities were recorded): the image file's identity
 * is recorded once its bytes are checked, so that the next start need
 * not read it.  Nothing here stops the start: the file is right. */
static int sp_pmem_reuse(int dir, const char *image, const char *sha256)
{
	char hash[SP_SHA256_HEX], id[128], target[SP_SHA256_HEX];
	struct stat st;
	uint64_t size;
	int fd = sp_pmem_open_image(image, &st, NULL);

	if (fd < 0)
		return 0;
	close(fd);
	sp_pmem_id(&st, id);
	if (readlinkat(dir, id, target, sizeof(target)) == SP_SHA256_HEX - 1)
		return 0;
	/* Hashed after the identity was taken: a write in between changes
	 * the change time, and the record then matches no later file. */
	if (sp_pmem_hash(image, NULL, hash, &size, NULL) == 0 && strcmp(hash, sha256) == 0)
		sp_pmem_remember(dir, &st, sha256);
	return 0;
}

int sp_pmem_prepare(const char *pmem, const char *image, const char *sha256, uint64_t size,
		    struct sp_err *err)
{
	struct sp_pmem_layout l;
	const char *slash = strrchr(pmem, '/');
	char *dir;
	int dfd, rc;

	if (!slash || sp_pmem_layout(&l, sha256, size, err) < 0) {
		if (!slash)
			sp_err_set(err, "%s is not an absolute path", pmem);
		return -1;
	}
	dir = strndup(pmem, (size_t)(slash - pmem));
	if (!dir)
		abort();
	dfd = sp_pmem_dir(dir, err);
	free(dir);
	if (dfd < 0)
		return -1;
	rc = sp_pmem_made(dfd, slash + 1, &l) ?
		     sp_pmem_reuse(dfd, image, sha256) :
		     sp_pmem_make(dfd, slash + 1, image, &l, sha256, err);
	if (rc < 0)
		sp_err_wrap(err, "making the persistent-memory file %s", pmem);
	close(dfd);
	return rc;
}
