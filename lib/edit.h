/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Editing a data file (spectrum.json(5)) without a display: the operations
 * of spectrum-settings(1), kept here so that they are tested without GTK.
 *
 * The document is the file's JSON tree, not the checked model: an editor
 * must hold what the checker refuses (a half-typed mount path) until the
 * user fixes it.  Validation is the checker's own (sp_edit_check), so the
 * editor shows the messages `spectrum check` prints.  Entities are named
 * by their kind and name; a field by its diagnostic place
 * ("instances.work.bindings.store.path").
 */
#ifndef SP_EDIT_H
#define SP_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "model.h"
#include "plan.h"
#include "util.h"

typedef struct json_t json_t;

enum sp_edit_kind {
	SP_EDIT_APP,
	SP_EDIT_RES,
	SP_EDIT_INST,
};
#define SP_EDIT_KINDS 3

/* "applications", "resources", "instances": the top-level key. */
const char *sp_edit_kind_key(enum sp_edit_kind k);

#define SP_EDIT_UNDO_MAX 64

struct sp_edit {
	json_t *root; /* always an object */
	/* Snapshots before each edit, newest last; the oldest go first. */
	json_t *undo[SP_EDIT_UNDO_MAX];
	size_t nundo;
	/* The place of the last sp_edit_set: typing into one field is one
	 * edit to undo, not one per key. */
	char last_place[160];
	bool modified;
};

/* An empty document ({}). */
struct sp_edit *sp_edit_new(void);
/*
 * The document of a file's bytes.  A file that is not a JSON object is
 * refused (NULL) with the checker's own diagnostic in `diags` (a syntax
 * error's place is "LINE:COLUMN").
 */
struct sp_edit *sp_edit_open(const char *data, size_t len, const char *file,
			     struct sp_diags *diags);
void sp_edit_free(struct sp_edit *e);

/*
 * The file's text as spectrum-settings writes it: two-space indentation,
 * keys of each entity in the order of spectrum.json(5) (unknown keys
 * after them, as they came), entities in the order they came, and a final
 * newline.  A text this wrote is written again byte for byte.  Caller
 * frees.
 */
char *sp_edit_dump(const struct sp_edit *e);

/* The names of one kind, in file order: count, and the i-th (NULL past
 * the end).  The pointer lives until the next edit. */
size_t sp_edit_count(const struct sp_edit *e, enum sp_edit_kind k);
const char *sp_edit_name(const struct sp_edit *e, enum sp_edit_kind k, size_t i);
bool sp_edit_exists(const struct sp_edit *e, enum sp_edit_kind k, const char *name);

/* A name of the kind not yet used: "BASE", else "BASE-2", "BASE-3"... */
void sp_edit_free_name(const struct sp_edit *e, enum sp_edit_kind k, const char *base, char *buf,
		       size_t len);

/*
 * The operations.  Each returns 0, or -1 with a message in err (and
 * changes nothing); a change pushes an undo snapshot first.
 *
 * add: a new entity with the least a user has to fill in (an instance
 * gets `application` when one is given, a resource its type).
 * duplicate: a copy under a new name (an instance keeps its application,
 * bindings and overrides: a second instance with other permissions is
 * then a few edits away).
 * rename: every reference follows (an application's instances, a
 * resource's bindings).
 * delete: an application that instances run, or a resource that
 * instances bind, is refused naming them, unless `force`: then those
 * bindings go too (an application's instances are never removed that
 * way: they are refused).
 */
int sp_edit_add(struct sp_edit *e, enum sp_edit_kind k, const char *name, const char *arg,
		struct sp_err *err);
int sp_edit_duplicate(struct sp_edit *e, enum sp_edit_kind k, const char *name,
		      const char *new_name, struct sp_err *err);
int sp_edit_rename(struct sp_edit *e, enum sp_edit_kind k, const char *name, const char *new_name,
		   struct sp_err *err);
int sp_edit_delete(struct sp_edit *e, enum sp_edit_kind k, const char *name, bool force,
		   struct sp_err *err);
/* The names of the instances that use an application or bind a resource,
 * comma separated, into buf; returns how many. */
size_t sp_edit_users(const struct sp_edit *e, enum sp_edit_kind k, const char *name, char *buf,
		     size_t len);

/* Binds a resource into an instance; `path` and `mode` may be NULL (a
 * device or a network has neither). */
int sp_edit_bind(struct sp_edit *e, const char *instance, const char *resource, const char *path,
		 const char *mode, struct sp_err *err);
int sp_edit_unbind(struct sp_edit *e, const char *instance, const char *resource,
		   struct sp_err *err);

/*
 * A field by its place, "KIND.NAME.KEY" or "instances.I.bindings.R.KEY":
 * its value (NULL if absent), and setting it.  `value` is taken over
 * (json_decref'd by the document); NULL removes the key.  Consecutive
 * sets of one place are one edit to undo.
 */
json_t *sp_edit_get(const struct sp_edit *e, const char *place);
int sp_edit_set(struct sp_edit *e, const char *place, json_t *value, struct sp_err *err);
/* String conveniences: "" removes the key. */
const char *sp_edit_get_str(const struct sp_edit *e, const char *place);
int sp_edit_set_str(struct sp_edit *e, const char *place, const char *s, struct sp_err *err);

/* Undoes the last edit; false if there is none. */
bool sp_edit_undo(struct sp_edit *e);

/*
 * Validation as `spectrum check FILE` does it: the data file's rules,
 * then a plan and a VMM command line for each instance, the same messages
 * and places.  Fills `diags` (initialised by the caller); returns the
 * number of errors.  `base_dir` resolves relative paths (NULL: ".").
 */
size_t sp_edit_check(const struct sp_edit *e, const char *file, const char *base_dir,
		     const struct sp_host *host, struct sp_diags *diags);

/* The checks after the rules, for `spectrum check` and the editor: one
 * diagnostic per instance that cannot be planned or launched (a missing
 * host file is a warning). */
void sp_check_plans(const struct sp_config *cfg, const struct sp_host *host,
		    struct sp_diags *diags);

/*
 * Which instances a change of configuration touches: those whose plan
 * differs between `old` and `new` (or that only one of them has).
 * Writes their names, space separated, to buf; returns how many.  A
 * configuration that does not plan counts as having no instance.
 */
size_t sp_edit_changed(const struct sp_config *old_cfg, const struct sp_config *new_cfg,
		       const struct sp_host *host, char *buf, size_t len);

/*
 * Writes the document to `path` atomically: a temporary file in the same
 * directory, fsync, rename over the file, fsync of the directory.  The
 * file keeps its mode (0644 for a new one).  -1 with the reason in err,
 * the old file untouched.
 */
int sp_edit_save(const struct sp_edit *e, const char *path, struct sp_err *err);

#endif
