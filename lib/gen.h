/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Generations: every configuration spectrumd accepts, numbered, kept in
 * STATE/generations, with the root images its plans boot kept by content
 * hash in STATE/store, so that an old generation boots the very bytes it
 * booted (spectrumd(8), "GENERATIONS"):
 *
 *   STATE/generations/N/generation.json  number, date, source, images
 *   STATE/generations/N/source           the file as given (.json or .nix)
 *   STATE/generations/N/config.json      the model: the source, or what
 *                                        the .nix evaluated to
 *   STATE/generations/current            symlink to "N"
 *   STATE/store/SHA256.erofs             a root image, read-only copy
 *
 * Trust: both directories are root's (the daemon's uid's) own, mode 0755,
 * checked when opened; everything below is reached through their
 * descriptors with O_NOFOLLOW, never by a path a less-trusted uid could
 * bend.  Atomicity: a generation is written whole under ".tmp-N",
 * fsync'd, then renamed to N; `current` is a new symlink renamed over
 * the old one.  A crash at any step leaves the old or the new generation
 * current, never a half one (a stale ".tmp-N" is swept by the next
 * commit and by gc).
 */
#ifndef SP_GEN_H
#define SP_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "plan.h"
#include "sha256.h"
#include "util.h"

#define SP_GEN_IMAGES_MAX SP_LIMIT_INSTANCES

struct sp_gen_store {
	int gens;  /* STATE/generations */
	int store; /* STATE/store */
	int lock;  /* flock'd for a commit or a gc: one writer at a time */
	char store_path[4096];
	/* Tests only: the commit _exit()s at this step (1..), 0 never. */
	int crash_at;
};

/* One root image of a generation: where the configuration named it, and
 * its content hash ("" if it did not exist then), with the identity of
 * the file that was hashed (a later commit reuses the hash if unchanged). */
struct sp_gen_image {
	char *path;
	char sha256[SP_SHA256_HEX];
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};

struct sp_gen {
	unsigned number;
	time_t created;
	char *source;	/* the file as given, absolute */
	char *base_dir; /* relative paths of the model start here */
	bool nix;
	bool current;
	struct sp_gen_image images[SP_GEN_IMAGES_MAX];
	size_t nimages;
	char *config; /* config.json's bytes (sp_gen_read only) */
	size_t config_len;
};

void sp_gen_free(struct sp_gen *g);

/* Opens (creating) STATE/generations and STATE/store; refuses either if
 * it is a link, not a directory, not ours or writable by others. */
int sp_gen_open(struct sp_gen_store *s, const char *state_dir, struct sp_err *err);
void sp_gen_close(struct sp_gen_store *s);

/* The current generation's number, 0 if there is none yet. */
int sp_gen_current(struct sp_gen_store *s, unsigned *number, struct sp_err *err);

/* Every generation, oldest first (metadata only); *n of them, in a
 * malloc'd array each of whose entries sp_gen_free frees. */
int sp_gen_list(struct sp_gen_store *s, struct sp_gen **out, size_t *n, struct sp_err *err);

/* Generation N whole, with config.json. */
int sp_gen_read(struct sp_gen_store *s, unsigned number, struct sp_gen *g, struct sp_err *err);

/*
 * Records a new generation and makes it current: the images named in
 * g->images[].path are hashed and copied into the store (a hash the
 * current generation has for the same unchanged file is reused), then
 * g is written with `source` (the file as given) and `config` (the model
 * it compiles from).  Sets g->number and the hashes.
 */
int sp_gen_commit(struct sp_gen_store *s, struct sp_gen *g, const char *source, size_t source_len,
		  struct sp_err *err);

/* Makes generation N current (it must exist whole). */
int sp_gen_set_current(struct sp_gen_store *s, unsigned number, struct sp_err *err);

/* STORE/HASH.erofs of the image that g recorded for `path`; NULL if g
 * has none or its hash is "" (the image did not exist). */
char *sp_gen_store_path(struct sp_gen_store *s, const struct sp_gen *g, const char *path,
			struct sp_arena *a);

/* Adds each distinct root image of `plans` to g->images (paths only). */
void sp_gen_images_of(struct sp_gen *g, const struct sp_plans *plans);

/* The hashes a commit would record, without storing anything (a dry run). */
int sp_gen_hash(struct sp_gen_store *s, struct sp_gen *g, struct sp_err *err);

/* Points every plan's root image at its bytes in the store; with `check`,
 * refuses if those bytes are not there. */
int sp_gen_use_store(struct sp_gen_store *s, const struct sp_gen *g, struct sp_plans *plans,
		     bool check, struct sp_err *err);

/*
 * Removes old generations and the store images no remaining generation
 * and no image in `in_use` (store paths running VMs boot) needs.  With
 * keep > 0 the `keep` newest generations stay, and a gc that would remove
 * the current one is refused whole; with keep 0 every generation older
 * than the current one goes.  Writes what went to `report` (one line each).
 */
int sp_gen_gc(struct sp_gen_store *s, unsigned keep, const char *const *in_use, size_t nin_use,
	      char *report, size_t len, struct sp_err *err);

#endif
