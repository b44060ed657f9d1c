/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Generations and the image store: see gen.h for the layout and the rules. */
#include "gen.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"

#define SP_GEN_META "generation.json"
#define SP_GEN_SOURCE "source"
#define SP_GEN_CONFIG "config.json"
#define SP_GEN_CURRENT "current"

/* Writable by no one but its owner (and the owner's own group, root's or
 * the daemon's: a umask of 002 is no opening). */
static bool sp_gen_private(const struct stat *st)
{
	return !(st->st_mode & 002) &&
	       (!(st->st_mode & 020) || st->st_gid == 0 || st->st_gid == getegid());
}

void sp_gen_free(struct sp_gen *g)
{
	free(g->source);
	free(g->base_dir);
	free(g->config);
	for (size_t i = 0; i < g->nimages; i++)
		free(g->images[i].path);
	memset(g, 0, sizeof(*g));
}

/* ---- the two directories */

/*
 * DIR/NAME as a directory of ours that nobody else may write: created if
 * missing; a link, another type or a foreign owner is refused, so that
 * nothing below it can be moved by another uid.
 */
static int sp_gen_dir(int dirfd, const char *shown, const char *name, struct sp_err *err)
{
	struct stat st;
	int fd;

	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST) {
		sp_err_set(err, "cannot create %s/%s: %s", shown, name, strerror(errno));
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		sp_err_set(err, "cannot open %s/%s: %s; it must be a directory", shown, name,
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_uid != geteuid() || !sp_gen_private(&st)) {
		sp_err_set(err,
			   "%s/%s is not uid %d's alone (owner %d, mode %o); "
			   "make it %d's with mode 0755",
			   shown, name, (int)geteuid(), (int)st.st_uid, st.st_mode & 07777,
			   (int)geteuid());
		close(fd);
		return -1;
	}
	return fd;
}

int sp_gen_open(struct sp_gen_store *s, const char *state_dir, struct sp_err *err)
{
	int state;

	s->gens = s->store = s->lock = -1;
	if (mkdir(state_dir, 0755) < 0 && errno != EEXIST) {
		sp_err_set(err, "cannot create the state directory %s: %s", state_dir,
			   strerror(errno));
		return -1;
	}
	state = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (state < 0) {
		sp_err_set(err, "cannot open the state directory %s: %s", state_dir,
			   strerror(errno));
		return -1;
	}
	/* Whoever may write the state directory could swap ours for theirs. */
	struct stat st;
	if (fstat(state, &st) < 0 || (st.st_uid != geteuid() && st.st_uid != 0) ||
	    !sp_gen_private(&st)) {
		sp_err_set(err,
			   "the state directory %s may be written by others than uid %d; "
			   "make it theirs alone (chmod go-w)",
			   state_dir, (int)geteuid());
		close(state);
		return -1;
	}
	s->gens = sp_gen_dir(state, state_dir, "generations", err);
	if (s->gens >= 0)
		s->store = sp_gen_dir(state, state_dir, "store", err);
	close(state);
	if (s->store >= 0)
		s->lock = openat(s->gens, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->store >= 0 && s->lock < 0)
		sp_err_set(err, "cannot open %s/generations/.lock: %s", state_dir, strerror(errno));
	snprintf(s->store_path, sizeof(s->store_path), "%s/store", state_dir);
	if (s->lock < 0) {
		sp_gen_close(s);
		return -1;
	}
	return 0;
}

void sp_gen_close(struct sp_gen_store *s)
{
	if (s->gens >= 0)
		close(s->gens);
	if (s->store >= 0)
		close(s->store);
	if (s->lock >= 0)
		close(s->lock);
	s->gens = s->store = s->lock = -1;
}

/* ---- small file helpers, all relative to our directories */

static int sp_gen_write(int dirfd, const char *name, const void *buf, size_t len)
{
	const char *p = buf;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Reads DIRFD/NAME (a regular file, at most `max` bytes) into a malloc'd,
 * NUL-terminated buffer. */
static char *sp_gen_slurp(int dirfd, const char *name, size_t max, size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	buf = sp_xmalloc((size_t)st.st_size + 1);
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* Removes DIRFD/NAME and, if it is a directory of ours, its files. */
static void sp_gen_remove(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *e;

	if (fd < 0) {
		unlinkat(dirfd, name, 0);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(fd, e->d_name, 0);
	closedir(d);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

static bool sp_gen_number(const char *name, unsigned *n)
{
	unsigned long v;

	if (!sp_uint_parse(name, 1, 999999999, &v) || name[0] == '0')
		return false;
	*n = (unsigned)v;
	return true;
}

/* ---- reading */

int sp_gen_current(struct sp_gen_store *s, unsigned *number, struct sp_err *err)
{
	char link[32];
	ssize_t n = readlinkat(s->gens, SP_GEN_CURRENT, link, sizeof(link) - 1);

	*number = 0;
	if (n < 0 && errno == ENOENT)
		return 0;
	if (n < 0) {
		sp_err_set(err, "cannot read generations/current: %s", strerror(errno));
		return -1;
	}
	link[n] = '\0';
	if (!sp_gen_number(link, number)) {
		sp_err_set(err,
			   "generations/current points to \"%s\", not a generation; "
			   "'spectrum rollback N' sets it",
			   link);
		return -1;
	}
	return 0;
}

static int sp_gen_meta_parse(const char *text, struct sp_gen *g, struct sp_err *err)
{
	json_error_t jerr;
	json_t *root = json_loads(text, 0, &jerr), *imgs, *one;
	const char *source = NULL, *base = NULL, *kind = NULL;
	json_int_t number = 0, created = 0;
	size_t i;

	if (!root ||
	    json_unpack_ex(root, &jerr, 0, "{s:I, s:I, s:s, s:s, s:s, s:o}", "number", &number,
			   "created", &created, "source", &source, "base_dir", &base, "kind", &kind,
			   "images", &imgs) < 0 ||
	    !json_is_array(imgs) || json_array_size(imgs) > SP_GEN_IMAGES_MAX) {
		sp_err_set(err, "malformed %s: %s", SP_GEN_META, jerr.text);
		json_decref(root);
		return -1;
	}
	g->number = (unsigned)number;
	g->created = (time_t)created;
	g->source = sp_xstrdup(source);
	g->base_dir = sp_xstrdup(base);
	g->nix = strcmp(kind, "nix") == 0;
	json_array_foreach(imgs, i, one)
	{
		struct sp_gen_image *im = &g->images[g->nimages];
		const char *path = NULL, *hash = NULL;
		json_int_t dev = 0, ino = 0, size = 0, mt = 0, ct = 0;
		if (json_unpack(one, "{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", &path, "sha256",
				&hash, "dev", &dev, "ino", &ino, "size", &size, "mtime_ns", &mt,
				"ctime_ns", &ct) < 0 ||
		    (*hash && !sp_sha256_valid(hash)))
			continue;
		*im = (struct sp_gen_image){
			sp_xstrdup(path), "", (uint64_t)dev, (uint64_t)ino, (uint64_t)size, mt, ct};
		snprintf(im->sha256, sizeof(im->sha256), "%s", hash);
		g->nimages++;
	}
	json_decref(root);
	return 0;
}

static int sp_gen_read_meta(struct sp_gen_store *s, unsigned number, struct sp_gen *g,
			    bool with_config, struct sp_err *err)
{
	char name[32];
	size_t len;
	char *text;
	int dir, rc;

	memset(g, 0, sizeof(*g));
	snprintf(name, sizeof(name), "%u", number);
	dir = openat(s->gens, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dir < 0) {
		sp_err_set(err, "there is no generation %u; 'spectrum generations' lists them",
			   number);
		return -1;
	}
	text = sp_gen_slurp(dir, SP_GEN_META, 1u << 20, &len);
	rc = text ? sp_gen_meta_parse(text, g, err) : -1;
	if (!text)
		sp_err_set(err, "generation %u: cannot read %s: %s", number, SP_GEN_META,
			   strerror(errno));
	free(text);
	if (rc == 0 && with_config) {
		g->config = sp_gen_slurp(dir, SP_GEN_CONFIG, SP_LIMIT_FILE_BYTES, &g->config_len);
		if (!g->config) {
			sp_err_set(err, "generation %u: cannot read %s: %s", number, SP_GEN_CONFIG,
				   strerror(errno));
			rc = -1;
		}
	}
	close(dir);
	if (rc < 0)
		sp_gen_free(g);
	return rc;
}

int sp_gen_read(struct sp_gen_store *s, unsigned number, struct sp_gen *g, struct sp_err *err)
{
	unsigned cur = 0;

	if (sp_gen_read_meta(s, number, g, true, err) < 0)
		return -1;
	if (sp_gen_current(s, &cur, err) == 0)
		g->current = cur == number;
	return 0;
}

static int sp_gen_cmp(const void *a, const void *b)
{
	unsigned x = ((const struct sp_gen *)a)->number, y = ((const struct sp_gen *)b)->number;
	return x < y ? -1 : x > y;
}

int sp_gen_list(struct sp_gen_store *s, struct sp_gen **out, size_t *n, struct sp_err *err)
{
	int fd = openat(s->gens, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct sp_gen *v = NULL;
	struct dirent *e;
	unsigned cur = 0, num;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (!d) {
		sp_err_set(err, "cannot list the generations: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	(void)sp_gen_current(s, &cur, err);
	while ((e = readdir(d))) {
		struct sp_err ignored;
		if (!sp_gen_number(e->d_name, &num))
			continue;
		if (*n == cap)
			v = sp_xrealloc(v, cap = cap ? 2 * cap : 16, sizeof(*v));
		if (sp_gen_read_meta(s, num, &v[*n], false, &ignored) < 0)
			continue; /* not ours to judge here: gc removes nothing it cannot read */
		v[*n].current = num == cur;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), sp_gen_cmp);
	*out = v;
	return 0;
}

/* ---- the store */

/*
 * Copies SRC into the store, hashing the bytes as they are written, so
 * that the copy holds exactly what its name says whatever happens to SRC
 * meanwhile; the copy is read-only and is renamed to HASH.erofs only
 * when whole.  An image already there is not written twice.
 */
static int sp_gen_store_copy(struct sp_gen_store *s, int src, char hash[static SP_SHA256_HEX],
			     struct sp_err *err)
{
	char tmp[64], name[SP_SHA256_HEX + 8], buf[1 << 16];
	struct sp_sha256 h;
	int dst;

	snprintf(tmp, sizeof(tmp), ".tmp-%d", (int)getpid());
	unlinkat(s->store, tmp, 0);
	dst = openat(s->store, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	if (dst < 0) {
		sp_err_set(err, "cannot write to %s: %s", s->store_path, strerror(errno));
		return -1;
	}
	sp_sha256_init(&h);
	for (;;) {
		ssize_t n = read(src, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (n < 0 || write(dst, buf, (size_t)n) != n) {
			sp_err_set(err, "copying an image to %s: %s", s->store_path,
				   strerror(errno));
			close(dst);
			unlinkat(s->store, tmp, 0);
			return -1;
		}
		sp_sha256_update(&h, buf, (size_t)n);
	}
	sp_sha256_hex(&h, hash);
	snprintf(name, sizeof(name), "%s.erofs", hash);
	if (fsync(dst) < 0 || close(dst) < 0 || renameat(s->store, tmp, s->store, name) < 0) {
		sp_err_set(err, "storing an image in %s: %s", s->store_path, strerror(errno));
		unlinkat(s->store, tmp, 0);
		return -1;
	}
	return 0;
}

/* HASH or HASH.erofs is in the store. */
static bool sp_gen_stored(struct sp_gen_store *s, const char *hash)
{
	char name[SP_SHA256_HEX + 8];
	struct stat st;

	snprintf(name, sizeof(name), "%.64s.erofs", hash);
	return fstatat(s->store, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static bool sp_gen_same_file(const struct sp_gen_image *a, const struct sp_gen_image *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/*
 * One image of a new generation.  The configuration named it, and root
 * already opens it to boot it: opened as the launcher does, a regular
 * file only.  A missing image is recorded without a hash (its instance
 * cannot start, as before).  A file unchanged since the previous
 * generation (same inode, size, times) keeps its hash, if the store still
 * has those bytes.
 */
/* Hashes what FD holds (a dry run stores nothing). */
static int sp_gen_hash_fd(int fd, char hash[static SP_SHA256_HEX], struct sp_err *err)
{
	char buf[1 << 16];
	struct sp_sha256 h;
	ssize_t n;

	sp_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sp_err_set(err, "reading an image: %s", strerror(errno));
			return -1;
		}
		sp_sha256_update(&h, buf, (size_t)n);
	}
	sp_sha256_hex(&h, hash);
	return 0;
}

static int sp_gen_image_add(struct sp_gen_store *s, struct sp_gen_image *im,
			    const struct sp_gen *prev, bool store, struct sp_err *err)
{
	mode_t type;
	struct stat st;
	int fd = sp_open_regular(im->path, 0, &type);

	im->sha256[0] = '\0';
	if (fd < 0 && errno == ENOENT && !type)
		return 0;
	if (fd < 0 || fstat(fd, &st) < 0) {
		sp_err_set(err, "root image %s: %s", im->path,
			   type ? sp_file_type_name(type) : strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	im->dev = st.st_dev;
	im->ino = st.st_ino;
	im->size = (uint64_t)st.st_size;
	im->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	im->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
	for (size_t i = 0; prev && i < prev->nimages; i++) {
		const struct sp_gen_image *p = &prev->images[i];
		if (strcmp(p->path, im->path) == 0 && p->sha256[0] && sp_gen_same_file(p, im) &&
		    sp_gen_stored(s, p->sha256)) {
			memcpy(im->sha256, p->sha256, sizeof(im->sha256));
			close(fd);
			return 0;
		}
	}
	int rc = store ? sp_gen_store_copy(s, fd, im->sha256, err) :
			 sp_gen_hash_fd(fd, im->sha256, err);
	close(fd);
	return rc;
}

void sp_gen_images_of(struct sp_gen *g, const struct sp_plans *plans)
{
	for (size_t i = 0; i < plans->n && g->nimages < SP_GEN_IMAGES_MAX; i++) {
		const char *path = plans->v[i].root.image;
		bool seen = false;
		for (size_t j = 0; j < g->nimages && !seen; j++)
			seen = strcmp(g->images[j].path, path) == 0;
		if (!seen)
			g->images[g->nimages++].path = sp_xstrdup(path);
	}
}

char *sp_gen_store_path(struct sp_gen_store *s, const struct sp_gen *g, const char *path,
			struct sp_arena *a)
{
	for (size_t i = 0; i < g->nimages; i++)
		if (strcmp(g->images[i].path, path) == 0 && g->images[i].sha256[0])
			return sp_arena_printf(a, "%s/%s.erofs", s->store_path,
					       g->images[i].sha256);
	return NULL;
}

int sp_gen_hash(struct sp_gen_store *s, struct sp_gen *g, struct sp_err *err)
{
	struct sp_gen prev = {0};
	unsigned cur = 0;
	int rc = 0;

	if (sp_gen_current(s, &cur, err) == 0 && cur)
		(void)sp_gen_read_meta(s, cur, &prev, false, err);
	for (size_t i = 0; i < g->nimages && rc == 0; i++)
		rc = sp_gen_image_add(s, &g->images[i], cur ? &prev : NULL, false, err);
	sp_gen_free(&prev);
	return rc;
}

int sp_gen_use_store(struct sp_gen_store *s, const struct sp_gen *g, struct sp_plans *plans,
		     bool check, struct sp_err *err)
{
	for (size_t i = 0; i < plans->n; i++) {
		struct sp_plan *p = &plans->v[i];
		char *stored = sp_gen_store_path(s, g, p->root.image, plans->arena);
		if (!stored)
			continue; /* the image did not exist: its start says so */
		if (check && !sp_gen_stored(s, strrchr(stored, '/') + 1)) {
			sp_err_set(err, "generation %u: the bytes of %s (%s) are no longer in %s",
				   g->number, p->root.image, stored, s->store_path);
			return -1;
		}
		p->root.image = stored;
	}
	return 0;
}

/* ---- writing */

static json_t *sp_gen_meta_json(const struct sp_gen *g)
{
	json_t *imgs = json_array();

	for (size_t i = 0; i < g->nimages; i++) {
		const struct sp_gen_image *im = &g->images[i];
		json_array_append_new(
			imgs,
			json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "path", im->path, "sha256",
				  im->sha256, "dev", (json_int_t)im->dev, "ino",
				  (json_int_t)im->ino, "size", (json_int_t)im->size, "mtime_ns",
				  (json_int_t)im->mtime_ns, "ctime_ns", (json_int_t)im->ctime_ns));
	}
	return json_pack("{s:I, s:I, s:s, s:s, s:s, s:o}", "number", (json_int_t)g->number,
			 "created", (json_int_t)g->created, "source", g->source, "base_dir",
			 g->base_dir, "kind", g->nix ? "nix" : "data", "images", imgs);
}

/* The tests' crash points (gen.h). */
static void sp_gen_step(const struct sp_gen_store *s, int step)
{
	if (s->crash_at == step)
		_exit(86);
}

static unsigned sp_gen_next(struct sp_gen_store *s)
{
	unsigned next = 1;
	int fd = openat(s->gens, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	unsigned num;

	/* Every number ever taken, even by a generation that cannot be read,
	 * is never reused. */
	while (d && (e = readdir(d))) {
		const char *name = e->d_name;
		if (strncmp(name, ".tmp-", 5) == 0) {
			sp_gen_remove(s->gens, name); /* a commit that died */
			continue;
		}
		if (sp_gen_number(name, &num) && num >= next)
			next = num + 1;
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	return next;
}

/* The three files of a generation, each synced, then the directory. */
static int sp_gen_write_files(struct sp_gen_store *s, int dir, const struct sp_gen *g,
			      const char *source, size_t source_len, const char *meta)
{
	if (sp_gen_write(dir, SP_GEN_SOURCE, source, source_len) < 0)
		return -1;
	sp_gen_step(s, 3);
	if (sp_gen_write(dir, SP_GEN_CONFIG, g->config, g->config_len) < 0)
		return -1;
	if (!meta || sp_gen_write(dir, SP_GEN_META, meta, strlen(meta)) < 0)
		return -1;
	return fsync(dir);
}

static int sp_gen_write_dir(struct sp_gen_store *s, const char *tmp, const struct sp_gen *g,
			    const char *source, size_t source_len, struct sp_err *err)
{
	json_t *meta = sp_gen_meta_json(g);
	char *text = json_dumps(meta, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	int dir, rc;

	json_decref(meta);
	if (mkdirat(s->gens, tmp, 0755) < 0 ||
	    (dir = openat(s->gens, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		sp_err_set(err, "cannot create generations/%s: %s", tmp, strerror(errno));
		free(text);
		return -1;
	}
	sp_gen_step(s, 2);
	rc = sp_gen_write_files(s, dir, g, source, source_len, text);
	if (rc < 0)
		sp_err_set(err, "cannot write generations/%s: %s", tmp, strerror(errno));
	close(dir);
	free(text);
	return rc;
}

/* `current` -> N: a new link, renamed over the old one (atomic). */
static int sp_gen_point(struct sp_gen_store *s, unsigned number, struct sp_err *err)
{
	char target[32];

	snprintf(target, sizeof(target), "%u", number);
	unlinkat(s->gens, ".current.tmp", 0);
	if (symlinkat(target, s->gens, ".current.tmp") < 0)
		goto fail;
	sp_gen_step(s, 6);
	if (renameat(s->gens, ".current.tmp", s->gens, SP_GEN_CURRENT) < 0 || fsync(s->gens) < 0)
		goto fail;
	return 0;
fail:
	sp_err_set(err, "cannot make generation %u current: %s", number, strerror(errno));
	return -1;
}

int sp_gen_commit(struct sp_gen_store *s, struct sp_gen *g, const char *source, size_t source_len,
		  struct sp_err *err)
{
	struct sp_gen prev = {0};
	unsigned cur = 0;
	char tmp[32], name[32];
	int rc = -1;

	if (sp_flock_wait(s->lock) < 0) {
		sp_err_set(err, "cannot lock the generations: %s", strerror(errno));
		return -1;
	}
	if (sp_gen_current(s, &cur, err) == 0 && cur)
		(void)sp_gen_read_meta(s, cur, &prev, false, err);
	for (size_t i = 0; i < g->nimages; i++)
		if (sp_gen_image_add(s, &g->images[i], cur ? &prev : NULL, true, err) < 0)
			goto out;
	sp_gen_step(s, 1);
	if (fsync(s->store) < 0) {
		sp_err_set(err, "cannot sync %s: %s", s->store_path, strerror(errno));
		goto out;
	}
	g->number = sp_gen_next(s);
	g->created = time(NULL);
	snprintf(tmp, sizeof(tmp), ".tmp-%u", g->number);
	snprintf(name, sizeof(name), "%u", g->number);
	if (sp_gen_write_dir(s, tmp, g, source, source_len, err) < 0) {
		sp_gen_remove(s->gens, tmp);
		goto out;
	}
	sp_gen_step(s, 4);
	if (renameat(s->gens, tmp, s->gens, name) < 0 || fsync(s->gens) < 0) {
		sp_err_set(err, "cannot write generations/%s: %s", name, strerror(errno));
		sp_gen_remove(s->gens, tmp);
		goto out;
	}
	sp_gen_step(s, 5);
	rc = sp_gen_point(s, g->number, err);
	sp_gen_step(s, 7);
out:
	sp_gen_free(&prev);
	flock(s->lock, LOCK_UN);
	return rc;
}

int sp_gen_set_current(struct sp_gen_store *s, unsigned number, struct sp_err *err)
{
	struct sp_gen g;
	int rc;

	if (sp_flock_wait(s->lock) < 0) {
		sp_err_set(err, "cannot lock the generations: %s", strerror(errno));
		return -1;
	}
	rc = sp_gen_read_meta(s, number, &g, true, err);
	if (rc == 0) {
		sp_gen_free(&g);
		rc = sp_gen_point(s, number, err);
	}
	flock(s->lock, LOCK_UN);
	return rc;
}

/* ---- gc */

static bool sp_gen_hash_needed(const char *hash, const struct sp_gen *kept, size_t nkept,
			       const char *const *in_use, size_t nin_use)
{
	for (size_t i = 0; i < nkept; i++)
		for (size_t j = 0; j < kept[i].nimages; j++)
			if (strcmp(kept[i].images[j].sha256, hash) == 0)
				return true;
	for (size_t i = 0; i < nin_use; i++) {
		const char *base = strrchr(in_use[i], '/');
		if (base && strncmp(base + 1, hash, 64) == 0)
			return true;
	}
	return false;
}

static void sp_gen_gc_store(struct sp_gen_store *s, const struct sp_gen *kept, size_t nkept,
			    const char *const *in_use, size_t nin_use, char *report, size_t len,
			    size_t *o)
{
	int fd = openat(s->store, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	char hash[SP_SHA256_HEX];

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d))) {
		size_t nl = strlen(e->d_name);
		if (strncmp(e->d_name, ".tmp-", 5) == 0) {
			unlinkat(s->store, e->d_name, 0);
			continue;
		}
		if (nl != 64 + 6 || strcmp(e->d_name + 64, ".erofs") != 0)
			continue;
		snprintf(hash, sizeof(hash), "%.64s", e->d_name);
		if (!sp_sha256_valid(hash) ||
		    sp_gen_hash_needed(hash, kept, nkept, in_use, nin_use))
			continue;
		if (unlinkat(s->store, e->d_name, 0) == 0 && *o < len)
			*o += (size_t)snprintf(report + *o, len - *o, "removed image %.12s\n",
					       hash);
	}
	closedir(d);
}

int sp_gen_gc(struct sp_gen_store *s, unsigned keep, const char *const *in_use, size_t nin_use,
	      char *report, size_t len, struct sp_err *err)
{
	struct sp_gen *v;
	size_t n, cut = 0, o = 0, ci = 0;
	unsigned cur = 0;
	int rc = -1;

	report[0] = '\0';
	if (sp_flock_wait(s->lock) < 0) {
		sp_err_set(err, "cannot lock the generations: %s", strerror(errno));
		return -1;
	}
	if (sp_gen_current(s, &cur, err) < 0 || sp_gen_list(s, &v, &n, err) < 0)
		goto unlock;
	for (ci = 0; ci < n && v[ci].number != cur; ci++)
		;
	/* v is oldest first: v[0 .. cut-1] go. */
	if (keep)
		cut = n > keep ? n - keep : 0;
	else
		cut = ci < n ? ci : 0;
	if (ci < n && ci < cut) {
		sp_err_set(err,
			   "gc --keep %u would remove generation %u, the current one; "
			   "keep at least %zu, or switch to a newer generation first",
			   keep, cur, n - ci);
		goto out;
	}
	for (size_t i = 0; i < cut; i++) {
		char name[32], gone[48];
		snprintf(name, sizeof(name), "%u", v[i].number);
		snprintf(gone, sizeof(gone), ".tmp-gone-%u", v[i].number);
		/* Renamed away first: the generation disappears whole. */
		if (renameat(s->gens, name, s->gens, gone) == 0) {
			sp_gen_remove(s->gens, gone);
			if (o < len)
				o += (size_t)snprintf(report + o, len - o,
						      "removed generation %u\n", v[i].number);
		}
	}
	fsync(s->gens);
	sp_gen_gc_store(s, v + cut, n - cut, in_use, nin_use, report, len, &o);
	fsync(s->store);
	if (!report[0])
		snprintf(report, len, "nothing to remove\n");
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		sp_gen_free(&v[i]);
	free(v);
unlock:
	flock(s->lock, LOCK_UN);
	return rc;
}
