/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The staging tree an image is made from: packages unpacked with
 * dpkg-deb, each into a directory of its own and moved in, directory
 * trees copied over them, the standard mount points.
 *
 * Directory trees are walked in byte order of names and every operation on
 * the staging side is relative to a directory descriptor opened with
 * O_NOFOLLOW, so a symbolic link unpacked from a package is never followed
 * out of the tree.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

struct si_walk {
	const char *src;     /* the -d directory, for messages; "" for a package
			      * (its caller names it) */
	const char *staging; /* for removing a directory in the way */
	char rel[PATH_MAX];  /* current path below both roots */
	struct si_sha256 sha;
	struct sp_err *e;
};

static int si_cmp_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* The names in a directory, sorted; NULL-terminated, free with free(). */
static char **si_names(int fd, struct si_walk *w)
{
	int dup_fd = dup(fd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		si_fail(w->e, SI_EXIT_SYSTEM, "cannot read %s/%s: %s", w->src, w->rel, strerror(errno));
		return NULL;
	}
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n + 2 > cap) {
			cap = cap ? 2 * cap : 32;
			v = sp_xrealloc(v, cap, sizeof(*v));
		}
		v[n++] = sp_xstrdup(de->d_name);
	}
	if (errno) {
		si_fail(w->e, SI_EXIT_SYSTEM, "cannot read %s/%s: %s", w->src, w->rel, strerror(errno));
		closedir(d);
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return NULL;
	}
	closedir(d);
	if (!v)
		v = sp_xmalloc(sizeof(*v));
	qsort(v, n, sizeof(*v), si_cmp_name);
	v[n] = NULL;
	return v;
}

static void si_free_names(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void si_hash_rec(struct si_walk *w, const char *fmt, ...) SP_PRINTF(2, 3);
static void si_hash_rec(struct si_walk *w, const char *fmt, ...)
{
	char buf[2 * PATH_MAX + 256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	si_sha256_update(&w->sha, buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* Removes whatever is at `name` in the staging directory `dfd`. */
static int si_clear(struct si_walk *w, int dfd, const char *name)
{
	struct stat st;
	char path[PATH_MAX];

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : si_fail(w->e, SI_EXIT_SYSTEM, "cannot replace /%s: %s", w->rel,
						     strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dfd, name, 0) == 0)
			return 0;
	} else {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", w->staging, w->rel) >= sizeof(path))
			return si_fail(w->e, SI_EXIT_FAIL, "cannot replace /%s: path too long", w->rel);
		if (si_rmtree(path) == 0)
			return 0;
	}
	return si_fail(w->e, SI_EXIT_SYSTEM, "cannot replace /%s: %s", w->rel, strerror(errno));
}

static int si_copy_file(struct si_walk *w, int sfd, int dfd, const char *name, const struct stat *st)
{
	static char buf[1 << 17];
	struct si_sha256 content;
	uint8_t d[SI_SHA256_LEN];
	char hex[SI_SHA256_HEX];
	uint64_t size = 0;
	struct stat sst;
	int in, out, ret = -1;

	/* O_NONBLOCK: if the file was replaced by a FIFO since it was
	 * listed, the open returns and fstat refuses it. */
	in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return si_fail(w->e, SI_EXIT_SYSTEM, "cannot read %s/%s: %s", w->src, w->rel, strerror(errno));
	if (fstat(in, &sst) != 0 || !S_ISREG(sst.st_mode)) {
		close(in);
		return si_fail(w->e, SI_EXIT_SYSTEM, "%s/%s changed while it was copied", w->src, w->rel);
	}
	fcntl(in, F_SETFL, 0); /* O_NONBLOCK was for the open only */
	if (si_clear(w, dfd, name) != 0) {
		close(in);
		return -1;
	}
	out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return si_fail(w->e, SI_EXIT_SYSTEM, "cannot write /%s in the staging tree: %s", w->rel,
			       strerror(errno));
	}
	si_sha256_init(&content);
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf)), done = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			si_fail(w->e, SI_EXIT_SYSTEM, "cannot read %s/%s: %s", w->src, w->rel, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		si_sha256_update(&content, buf, (size_t)r);
		size += (uint64_t)r;
		while (done < r) {
			ssize_t wr = write(out, buf + done, (size_t)(r - done));

			if (wr < 0 && errno == EINTR)
				continue;
			if (wr < 0) {
				si_fail(w->e, SI_EXIT_SYSTEM, "cannot write /%s in the staging tree: %s", w->rel,
					strerror(errno));
				goto out;
			}
			done += wr;
		}
	}
	if (fchmod(out, st->st_mode & 07777) != 0) {
		si_fail(w->e, SI_EXIT_SYSTEM, "cannot set the mode of /%s: %s", w->rel, strerror(errno));
		goto out;
	}
	si_sha256_final(&content, d);
	si_sha256_hex(d, hex);
	si_hash_rec(w, "f %04o %zu:%s %llu %s\n", (unsigned)(st->st_mode & 07777), strlen(w->rel), w->rel,
		    (unsigned long long)size, hex);
	ret = 0;
out:
	close(in);
	if (close(out) != 0 && ret == 0)
		ret = si_fail(w->e, SI_EXIT_SYSTEM, "cannot write /%s in the staging tree: %s", w->rel,
			      strerror(errno));
	return ret;
}

static const char *si_special(mode_t m)
{
	if (S_ISCHR(m))
		return "a character device node";
	if (S_ISBLK(m))
		return "a block device node";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISFIFO(m))
		return "a FIFO";
	return "a file of unknown type";
}

typedef int si_dir_fn(struct si_walk *w, int sfd, int dfd, unsigned depth);

/*
 * Into the directory `name` of both trees: `fn` on the pair, then the
 * source's mode on the destination (last, so that a read-only directory
 * is still filled).
 */
static int si_descend(struct si_walk *w, int sfd, int dfd, const char *name, mode_t mode,
		      unsigned depth, si_dir_fn *fn)
{
	int s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int ret;

	if (s2 < 0 || d2 < 0)
		ret = si_fail(w->e, SI_EXIT_SYSTEM, "cannot open %s/%s: %s", w->src, w->rel,
			      strerror(errno));
	else
		ret = fn(w, s2, d2, depth + 1);
	if (ret == 0 && fchmod(d2, mode & 07777) != 0)
		ret = si_fail(w->e, SI_EXIT_SYSTEM, "cannot set the mode of /%s: %s", w->rel,
			      strerror(errno));
	if (s2 >= 0)
		close(s2);
	if (d2 >= 0)
		close(d2);
	return ret;
}

static int si_copy_dir(struct si_walk *w, int sfd, int dfd, unsigned depth)
{
	size_t rellen = strlen(w->rel);
	char **names;
	int ret = 0;

	if (depth > 256)
		return si_fail(w->e, SI_EXIT_FAIL, "%s/%s: directories nested too deeply", w->src, w->rel);
	if (!(names = si_names(sfd, w)))
		return -1;
	for (char **np = names; *np && ret == 0; np++) {
		const char *name = *np;
		struct stat st;

		if (si_stopped(w->e)) {
			ret = -1;
			break;
		}
		if (rellen + 1 + strlen(name) >= sizeof(w->rel)) {
			ret = si_fail(w->e, SI_EXIT_FAIL, "%s/%s/%s: path too long", w->src, w->rel, name);
			break;
		}
		snprintf(w->rel + rellen, sizeof(w->rel) - rellen, "%s%s", rellen ? "/" : "", name);
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			ret = si_fail(w->e, SI_EXIT_SYSTEM, "cannot read %s/%s: %s", w->src, w->rel, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			struct stat dst;

			si_hash_rec(w, "d %04o %zu:%s\n", (unsigned)(st.st_mode & 07777), strlen(w->rel), w->rel);
			if (fstatat(dfd, name, &dst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(dst.st_mode)) {
				if (si_clear(w, dfd, name) != 0 || (mkdirat(dfd, name, 0700) != 0 &&
								    si_fail(w->e, SI_EXIT_SYSTEM,
									    "cannot create /%s in the staging tree: %s",
									    w->rel, strerror(errno)))) {
					ret = -1;
					break;
				}
			}
			/* the mode last: a read-only directory is still filled */
			ret = si_descend(w, sfd, dfd, name, st.st_mode, depth, si_copy_dir);
		} else if (S_ISREG(st.st_mode)) {
			ret = si_copy_file(w, sfd, dfd, name, &st);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);

			if (n < 0) {
				ret = si_fail(w->e, SI_EXIT_SYSTEM, "cannot read %s/%s: %s", w->src, w->rel,
					      strerror(errno));
				break;
			}
			target[n] = '\0';
			si_hash_rec(w, "l %zu:%s %zu:%s\n", strlen(w->rel), w->rel, (size_t)n, target);
			if (si_clear(w, dfd, name) != 0)
				ret = -1;
			else if (symlinkat(target, dfd, name) != 0)
				ret = si_fail(w->e, SI_EXIT_SYSTEM, "cannot create /%s in the staging tree: %s",
					      w->rel, strerror(errno));
		} else {
			ret = si_fail(w->e, SI_EXIT_FAIL,
				      "%s/%s is %s; an image holds only directories, files and symbolic links%s: "
				      "remove it from %s",
				      w->src, w->rel, si_special(st.st_mode),
				      S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? " (the guest's /dev is a devtmpfs)" : "",
				      w->src);
		}
		w->rel[rellen] = '\0';
	}
	si_free_names(names);
	return ret;
}

/*
 * Moves the tree of one unpacked package into the staging tree: a
 * directory merges into a directory, anything else replaces what is at
 * its path.  Nothing is followed: a package's files cannot land outside
 * the staging tree through a link another package made (within one
 * package, tar already refuses to extract through a link).
 */
static int si_move_dir(struct si_walk *w, int sfd, int dfd, unsigned depth)
{
	size_t rellen = strlen(w->rel);
	char **names;
	int ret = 0;

	if (depth > 256)
		return si_fail(w->e, SI_EXIT_FAIL, "/%s: directories nested too deeply", w->rel);
	if (!(names = si_names(sfd, w)))
		return -1;
	for (char **np = names; *np && ret == 0; np++) {
		const char *name = *np;
		struct stat st, dst;

		if (rellen + 1 + strlen(name) >= sizeof(w->rel)) {
			ret = si_fail(w->e, SI_EXIT_FAIL, "/%s/%s: path too long", w->rel, name);
			break;
		}
		snprintf(w->rel + rellen, sizeof(w->rel) - rellen, "%s%s", rellen ? "/" : "", name);
		if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			ret = si_fail(w->e, SI_EXIT_SYSTEM, "cannot read /%s: %s", w->rel,
				      strerror(errno));
		} else if (S_ISDIR(st.st_mode) && fstatat(dfd, name, &dst, AT_SYMLINK_NOFOLLOW) == 0 &&
			   S_ISDIR(dst.st_mode)) {
			/* as tar would: the later package's mode */
			ret = si_descend(w, sfd, dfd, name, st.st_mode, depth, si_move_dir);
		} else if (si_clear(w, dfd, name) != 0) {
			ret = -1;
		} else if (renameat(sfd, name, dfd, name) != 0) {
			ret = si_fail(w->e, SI_EXIT_SYSTEM,
				      "cannot move /%s into the staging tree: %s", w->rel,
				      strerror(errno));
		}
		w->rel[rellen] = '\0';
	}
	si_free_names(names);
	return ret;
}

int si_unpack(const char *deb, const char *staging, struct sp_err *e)
{
	char pkgdir[PATH_MAX];
	char *argv[] = {"dpkg-deb", "-x", (char *)deb, pkgdir, NULL};
	struct si_walk *w;
	int rc, sfd, dfd;

	/* Each package is unpacked into a fresh directory of its own. */
	if ((size_t)snprintf(pkgdir, sizeof(pkgdir), "%s/unpack", si_tmp_dir()) >= sizeof(pkgdir))
		return si_fail(e, SI_EXIT_SYSTEM, "TMPDIR is too long");
	if (si_rmtree(pkgdir) != 0 || mkdir(pkgdir, 0755) != 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot create %s: %s", pkgdir, strerror(errno));
	rc = si_run(argv, NULL, NULL, e);
	if (rc < 0)
		return -1;
	if (rc != 0)
		return si_fail(e, SI_EXIT_FAIL, "dpkg-deb cannot unpack %s (%s); delete the file and build again",
			       deb, si_run_stderr());

	sfd = open(pkgdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dfd = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0 || dfd < 0) {
		int err = errno;

		if (sfd >= 0)
			close(sfd);
		if (dfd >= 0)
			close(dfd);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot open the staging tree: %s", strerror(err));
	}
	w = sp_xmalloc(sizeof(*w));
	memset(w, 0, sizeof(*w));
	w->src = "";
	w->staging = staging;
	w->e = e;
	rc = si_move_dir(w, sfd, dfd, 0);
	free(w);
	close(sfd);
	close(dfd);
	si_rmtree(pkgdir);
	return rc;
}

int si_overlay(const char *src, const char *staging, char digest[SI_SHA256_HEX], struct sp_err *e)
{
	struct si_walk *w = sp_xmalloc(sizeof(*w));
	uint8_t d[SI_SHA256_LEN];
	int sfd, dfd, ret;

	memset(w, 0, sizeof(*w));
	w->src = src;
	w->staging = staging;
	w->e = e;
	si_sha256_init(&w->sha);
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0) {
		free(w);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot read the directory %s: %s", src, strerror(errno));
	}
	dfd = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		close(sfd);
		free(w);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot open the staging tree %s: %s", staging, strerror(errno));
	}
	ret = si_copy_dir(w, sfd, dfd, 0);
	close(sfd);
	close(dfd);
	si_sha256_final(&w->sha, d);
	si_sha256_hex(d, digest);
	free(w);
	return ret;
}

int si_mount_points(const char *staging, struct sp_err *e)
{
	static const struct {
		const char *path;
		mode_t mode;
	} mp[] = {
		{"dev", 0755}, {"proc", 0555}, {"sys", 0555}, {"run", 0755},  {"tmp", 01777},
		{"var", 0755}, {"var/tmp", 01777}, {"home", 0755}, {"mnt", 0755},
	};
	int root = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (root < 0)
		return si_fail(e, SI_EXIT_SYSTEM, "cannot open the staging tree %s: %s", staging, strerror(errno));
	for (size_t i = 0; i < sizeof(mp) / sizeof(mp[0]); i++) {
		struct stat st;

		/* var/tmp below a "var" that is a link: the link's business
		 * (and never followed out of the tree) */
		if (strchr(mp[i].path, '/') && fstatat(root, "var", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode))
			continue;
		if (fstatat(root, mp[i].path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			/* a directory, or a link to one the tree chose */
			if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
				continue;
			close(root);
			return si_fail(e, SI_EXIT_FAIL,
				       "/%s in the image is a file, not the directory the guest mounts there; "
				       "remove it from the -d trees",
				       mp[i].path);
		}
		if (errno != ENOENT || mkdirat(root, mp[i].path, 0700) != 0 ||
		    fchmodat(root, mp[i].path, mp[i].mode, 0) != 0) {
			int err = errno;

			close(root);
			return si_fail(e, SI_EXIT_SYSTEM, "cannot create /%s in the staging tree: %s", mp[i].path,
				       strerror(err));
		}
	}
	/* The root is the guest's /, whatever the trees said. */
	if (fchmod(root, 0755) != 0) {
		close(root);
		return si_fail(e, SI_EXIT_SYSTEM, "cannot set the mode of the staging tree: %s", strerror(errno));
	}
	close(root);
	return 0;
}

static uint64_t si_bytes;

static int si_count(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F && S_ISREG(st->st_mode))
		si_bytes += (uint64_t)st->st_size;
	return 0;
}

uint64_t si_tree_bytes(const char *staging)
{
	si_bytes = 0;
	nftw(staging, si_count, 32, FTW_PHYS);
	return si_bytes;
}
