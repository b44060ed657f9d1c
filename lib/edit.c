/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The editing operations of spectrum-settings(1) on a data file's JSON
 * tree (edit.h).  Names given here come from the user of a trusted
 * program; the checker (sp_edit_check) is still what decides whether a
 * file is good, exactly as for a file written by hand.
 */
#include "edit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "paths.h"

static const char *const sp_kind_keys[SP_EDIT_KINDS] = {"applications", "resources", "instances"};
static const char *const sp_kind_nouns[SP_EDIT_KINDS] = {"application", "resource", "instance"};

const char *sp_edit_kind_key(enum sp_edit_kind k)
{
	return sp_kind_keys[k];
}

/* --- the document --- */

struct sp_edit *sp_edit_new(void)
{
	struct sp_edit *e = sp_xmalloc(sizeof(*e));

	memset(e, 0, sizeof(*e));
	e->root = json_object();
	return e;
}

struct sp_edit *sp_edit_open(const char *data, size_t len, const char *file, struct sp_diags *diags)
{
	json_t *root = len <= SP_LIMIT_FILE_BYTES ?
			       json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL) :
			       NULL;
	struct sp_edit *e;

	if (!root || !json_is_object(root)) {
		/* The checker says what is wrong, with its line and column. */
		json_decref(root);
		sp_config_free(sp_config_parse(data, len, file, NULL, diags));
		if (diags->errors == 0)
			sp_diag_error(diags, NULL, "not a data file");
		return NULL;
	}
	e = sp_edit_new();
	json_decref(e->root);
	e->root = root;
	return e;
}

void sp_edit_free(struct sp_edit *e)
{
	if (!e)
		return;
	json_decref(e->root);
	for (size_t i = 0; i < e->nundo; i++)
		json_decref(e->undo[i]);
	free(e);
}

/* --- stable order --- */

static const char *const sp_order_top[] = {"version", "applications", "resources", "instances",
					   NULL};
static const char *const sp_order_app[] = {"image",  "command", "commands", "env",
					   "memory", "vcpus",	"arch",	    NULL};
static const char *const sp_order_res[] = {"type",    "size", "fs",   "path",	 "nat", "vendor",
					   "product", "bus",  "port", "address", NULL};
static const char *const sp_order_inst[] = {"application", "applications", "bindings",	"memory",
					    "vcpus",	   "hypervisor",   "shareRoot", "autostart",
					    "restart",	   "disposable",   "display",	NULL};
static const char *const sp_order_bind[] = {"path", "mode", NULL};

/* A copy of obj with the known keys first, in `order`, then the rest as
 * they came. */
static json_t *sp_ordered(json_t *obj, const char *const *order)
{
	json_t *out = json_object(), *v;
	const char *key;

	for (const char *const *k = order; *k; k++)
		if ((v = json_object_get(obj, *k)))
			json_object_set(out, *k, v);
	json_object_foreach(obj, key, v) if (!json_object_get(out, key))
		json_object_set(out, key, v);
	return out;
}

/* Each entity of a map ordered by `order` (maps of non-objects stay). */
static json_t *sp_ordered_map(json_t *map, const char *const *order, bool instances)
{
	json_t *out, *v;
	const char *key;

	if (!json_is_object(map))
		return json_incref(map);
	out = json_object();
	json_object_foreach(map, key, v)
	{
		if (!json_is_object(v)) {
			json_object_set(out, key, v);
			continue;
		}
		json_t *one = sp_ordered(v, order);
		json_t *b = json_object_get(one, "bindings");
		if (instances && json_is_object(b))
			json_object_set_new(one, "bindings",
					    sp_ordered_map(b, sp_order_bind, false));
		json_object_set_new(out, key, one);
	}
	return out;
}

char *sp_edit_dump(const struct sp_edit *e)
{
	json_t *top = sp_ordered(e->root, sp_order_top);
	static const char *const *orders[SP_EDIT_KINDS] = {sp_order_app, sp_order_res,
							   sp_order_inst};
	char *s, *out;

	for (int k = 0; k < SP_EDIT_KINDS; k++) {
		json_t *m = json_object_get(top, sp_kind_keys[k]);
		if (m)
			json_object_set_new(top, sp_kind_keys[k],
					    sp_ordered_map(m, orders[k], k == SP_EDIT_INST));
	}
	s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(top);
	if (!s)
		abort(); /* out of memory: as the arena's allocators do */
	size_t n = strlen(s);
	out = sp_xmalloc(n + 2);
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	free(s);
	return out;
}

/* --- lookups --- */

static json_t *sp_map(const struct sp_edit *e, enum sp_edit_kind k)
{
	json_t *m = json_object_get(e->root, sp_kind_keys[k]);

	return json_is_object(m) ? m : NULL;
}

/* The map of kind k, made if absent (an edit adds to it). */
static json_t *sp_map_make(struct sp_edit *e, enum sp_edit_kind k)
{
	json_t *m = sp_map(e, k);

	if (!m) {
		m = json_object();
		json_object_set_new(e->root, sp_kind_keys[k], m);
	}
	return m;
}

size_t sp_edit_count(const struct sp_edit *e, enum sp_edit_kind k)
{
	json_t *m = sp_map(e, k);

	return m ? json_object_size(m) : 0;
}

const char *sp_edit_name(const struct sp_edit *e, enum sp_edit_kind k, size_t i)
{
	json_t *m = sp_map(e, k), *v;
	const char *key;
	size_t n = 0;

	if (!m)
		return NULL;
	json_object_foreach(m, key, v)
	{
		if (n++ == i)
			return key;
	}
	return NULL;
}

bool sp_edit_exists(const struct sp_edit *e, enum sp_edit_kind k, const char *name)
{
	json_t *m = sp_map(e, k);

	return m && json_object_get(m, name);
}

void sp_edit_free_name(const struct sp_edit *e, enum sp_edit_kind k, const char *base, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s", base);
	for (unsigned i = 2; sp_edit_exists(e, k, buf); i++)
		snprintf(buf, len, "%.50s-%u", base, i);
}

/* --- undo --- */

static void sp_snapshot(struct sp_edit *e)
{
	if (e->nundo == SP_EDIT_UNDO_MAX) {
		json_decref(e->undo[0]);
		memmove(e->undo, e->undo + 1, (SP_EDIT_UNDO_MAX - 1) * sizeof(e->undo[0]));
		e->nundo--;
	}
	e->undo[e->nundo++] = json_deep_copy(e->root);
	e->last_place[0] = '\0';
	e->modified = true;
}

bool sp_edit_undo(struct sp_edit *e)
{
	if (e->nundo == 0)
		return false;
	json_decref(e->root);
	e->root = e->undo[--e->nundo];
	e->last_place[0] = '\0';
	e->modified = true;
	return true;
}

/* --- operations --- */

static int sp_check_new_name(const struct sp_edit *e, enum sp_edit_kind k, const char *name,
			     struct sp_err *err)
{
	if (!sp_name_valid(name)) {
		sp_err_set(
			err,
			"\"%.64s\" is not a valid %s name; use 1 to 63 of a-z, 0-9 and '-', starting and ending with a letter or digit",
			name, sp_kind_nouns[k]);
		return -1;
	}
	if (sp_edit_exists(e, k, name)) {
		sp_err_set(err, "there is already an %s named \"%s\"; choose another name",
			   sp_kind_nouns[k], name);
		return -1;
	}
	return 0;
}

static json_t *sp_entity(const struct sp_edit *e, enum sp_edit_kind k, const char *name,
			 struct sp_err *err)
{
	json_t *m = sp_map(e, k), *v = m ? json_object_get(m, name) : NULL;

	if (!v)
		sp_err_set(err, "no %s named \"%s\"", sp_kind_nouns[k], name);
	return v;
}

int sp_edit_add(struct sp_edit *e, enum sp_edit_kind k, const char *name, const char *arg,
		struct sp_err *err)
{
	json_t *v = json_object();

	if (sp_check_new_name(e, k, name, err) < 0) {
		json_decref(v);
		return -1;
	}
	if (k == SP_EDIT_APP)
		json_object_set_new(v, "image", json_string(arg ? arg : name));
	else if (k == SP_EDIT_RES)
		json_object_set_new(v, "type", json_string(arg ? arg : "directory"));
	else if (arg)
		json_object_set_new(v, "application", json_string(arg));
	sp_snapshot(e);
	json_object_set_new(sp_map_make(e, k), name, v);
	return 0;
}

int sp_edit_duplicate(struct sp_edit *e, enum sp_edit_kind k, const char *name,
		      const char *new_name, struct sp_err *err)
{
	json_t *v = sp_entity(e, k, name, err);

	if (!v || sp_check_new_name(e, k, new_name, err) < 0)
		return -1;
	sp_snapshot(e);
	/* Right after the original, so that the two are listed together. */
	json_t *m = sp_map(e, k), *out = json_object(), *x;
	const char *key;
	json_object_foreach(m, key, x)
	{
		json_object_set(out, key, x);
		if (strcmp(key, name) == 0)
			json_object_set_new(out, new_name, json_deep_copy(x));
	}
	json_object_set_new(e->root, sp_kind_keys[k], out);
	return 0;
}

/* A copy of obj with the key `from` renamed `to`, in its place. */
static json_t *sp_renamed(json_t *obj, const char *from, const char *to)
{
	json_t *out = json_object(), *v;
	const char *key;

	json_object_foreach(obj, key, v) json_object_set(out, strcmp(key, from) == 0 ? to : key, v);
	return out;
}

/* Whether the array (an instance's "applications") has the string name. */
static bool sp_listed(json_t *arr, const char *name)
{
	size_t i;
	json_t *x;

	json_array_foreach(arr, i, x) if (json_is_string(x) &&
					  strcmp(json_string_value(x), name) == 0) return true;
	return false;
}

/* Calls fn on each instance object that uses (k, name). */
static size_t sp_each_user(const struct sp_edit *e, enum sp_edit_kind k, const char *name,
			   void (*fn)(json_t *inst, const char *iname, void *ctx), void *ctx)
{
	json_t *m = sp_map(e, SP_EDIT_INST), *inst;
	const char *iname;
	size_t n = 0;

	if (!m || k == SP_EDIT_INST)
		return 0;
	json_object_foreach(m, iname, inst)
	{
		bool uses;
		if (!json_is_object(inst))
			continue;
		if (k == SP_EDIT_APP) {
			const char *a = json_string_value(json_object_get(inst, "application"));
			uses = (a && strcmp(a, name) == 0) ||
			       sp_listed(json_object_get(inst, "applications"), name);
		} else {
			json_t *b = json_object_get(inst, "bindings");
			uses = json_is_object(b) && json_object_get(b, name);
		}
		if (uses) {
			n++;
			if (fn)
				fn(inst, iname, ctx);
		}
	}
	return n;
}

struct sp_names {
	char *buf;
	size_t len, off;
};

static void sp_name_append(json_t *inst, const char *iname, void *ctx)
{
	struct sp_names *c = ctx;

	if (c->off < c->len)
		c->off += (size_t)snprintf(c->buf + c->off, c->len - c->off, "%s%s",
					   c->off ? ", " : "", iname);
}

size_t sp_edit_users(const struct sp_edit *e, enum sp_edit_kind k, const char *name, char *buf,
		     size_t len)
{
	struct sp_names c = {buf, len, 0};

	if (len)
		buf[0] = '\0';
	return sp_each_user(e, k, name, sp_name_append, &c);
}

struct sp_rename_ctx {
	enum sp_edit_kind k;
	const char *from, *to;
};

static void sp_rename_ref(json_t *inst, const char *iname, void *ctx)
{
	struct sp_rename_ctx *c = ctx;

	if (c->k == SP_EDIT_APP) {
		json_t *one = json_object_get(inst, "application"), *arr, *x;
		size_t i;
		if (json_is_string(one) && strcmp(json_string_value(one), c->from) == 0)
			json_object_set_new(inst, "application", json_string(c->to));
		/* Several applications: the name changes in its place. */
		arr = json_object_get(inst, "applications");
		json_array_foreach(arr, i, x) if (json_is_string(x) &&
						  strcmp(json_string_value(x), c->from) == 0)
			json_array_set_new(arr, i, json_string(c->to));
		return;
	}
	json_object_set_new(inst, "bindings",
			    sp_renamed(json_object_get(inst, "bindings"), c->from, c->to));
}

int sp_edit_rename(struct sp_edit *e, enum sp_edit_kind k, const char *name, const char *new_name,
		   struct sp_err *err)
{
	struct sp_rename_ctx c = {k, name, new_name};

	if (!sp_entity(e, k, name, err))
		return -1;
	if (strcmp(name, new_name) == 0)
		return 0;
	if (sp_check_new_name(e, k, new_name, err) < 0)
		return -1;
	sp_snapshot(e);
	json_object_set_new(e->root, sp_kind_keys[k], sp_renamed(sp_map(e, k), name, new_name));
	sp_each_user(e, k, name, sp_rename_ref, &c);
	return 0;
}

static void sp_unbind_ref(json_t *inst, const char *iname, void *ctx)
{
	json_object_del(json_object_get(inst, "bindings"), ctx);
}

int sp_edit_delete(struct sp_edit *e, enum sp_edit_kind k, const char *name, bool force,
		   struct sp_err *err)
{
	char users[512];
	size_t n;

	if (!sp_entity(e, k, name, err))
		return -1;
	n = sp_edit_users(e, k, name, users, sizeof(users));
	if (n && (k == SP_EDIT_APP || !force)) {
		if (k == SP_EDIT_APP)
			sp_err_set(err,
				   "application \"%s\" is in use by instance%s %s; delete %s first",
				   name, n == 1 ? "" : "s", users, n == 1 ? "it" : "them");
		else
			sp_err_set(
				err,
				"resource \"%s\" is in use by instance%s %s; remove %s binding%s first, or delete it with its bindings",
				name, n == 1 ? "" : "s", users, n == 1 ? "its" : "their",
				n == 1 ? "" : "s");
		return -1;
	}
	sp_snapshot(e);
	sp_each_user(e, k, name, sp_unbind_ref, (void *)name);
	json_object_del(sp_map(e, k), name);
	return 0;
}

int sp_edit_bind(struct sp_edit *e, const char *instance, const char *resource, const char *path,
		 const char *mode, struct sp_err *err)
{
	json_t *inst = sp_entity(e, SP_EDIT_INST, instance, err), *b, *one;

	if (!inst || !sp_entity(e, SP_EDIT_RES, resource, err))
		return -1;
	if (!json_is_object(inst)) {
		sp_err_set(err, "instance \"%s\" is not an object; fix the file by hand", instance);
		return -1;
	}
	b = json_object_get(inst, "bindings");
	if (b && !json_is_object(b)) {
		sp_err_set(err, "the bindings of \"%s\" are not an object; fix the file by hand",
			   instance);
		return -1;
	}
	if (b && json_object_get(b, resource)) {
		sp_err_set(err, "instance \"%s\" already binds \"%s\"", instance, resource);
		return -1;
	}
	sp_snapshot(e);
	if (!b) {
		b = json_object();
		json_object_set_new(inst, "bindings", b);
	}
	one = json_object();
	if (path)
		json_object_set_new(one, "path", json_string(path));
	if (mode)
		json_object_set_new(one, "mode", json_string(mode));
	json_object_set_new(b, resource, one);
	return 0;
}

int sp_edit_unbind(struct sp_edit *e, const char *instance, const char *resource,
		   struct sp_err *err)
{
	json_t *inst = sp_entity(e, SP_EDIT_INST, instance, err);
	json_t *b = inst ? json_object_get(inst, "bindings") : NULL;

	if (!inst)
		return -1;
	if (!json_is_object(b) || !json_object_get(b, resource)) {
		sp_err_set(err, "instance \"%s\" does not bind \"%s\"", instance, resource);
		return -1;
	}
	sp_snapshot(e);
	json_object_del(b, resource);
	return 0;
}

/* --- fields by place --- */

/*
 * Splits a place into its parts: "instances.w.bindings.r.path" -> 5
 * parts.  Names are bare (the checker quotes only keys it cannot write
 * bare, and valid names never need it).
 */
static size_t sp_place_split(const char *place, char *buf, size_t len, char **parts, size_t max)
{
	size_t n = 0;

	snprintf(buf, len, "%s", place);
	for (char *p = buf, *dot; p && n < max; p = dot ? dot + 1 : NULL) {
		dot = strchr(p, '.');
		if (dot)
			*dot = '\0';
		parts[n++] = p;
	}
	return n;
}

/* The object that holds the field, made when `make`; *key its key. */
static json_t *sp_field_parent(json_t *root, const char *place, bool make, char *buf, size_t len,
			       const char **key)
{
	char *parts[6];
	size_t n = sp_place_split(place, buf, len, parts, 6);
	json_t *o = root;

	if (n < 1)
		return NULL;
	for (size_t i = 0; i + 1 < n; i++) {
		json_t *c = json_object_get(o, parts[i]);
		if (!c && make) {
			c = json_object();
			json_object_set_new(o, parts[i], c);
		}
		if (!json_is_object(c))
			return NULL;
		o = c;
	}
	*key = parts[n - 1];
	return o;
}

json_t *sp_edit_get(const struct sp_edit *e, const char *place)
{
	char buf[256];
	const char *key;
	json_t *o = sp_field_parent(e->root, place, false, buf, sizeof(buf), &key);

	return o ? json_object_get(o, key) : NULL;
}

int sp_edit_set(struct sp_edit *e, const char *place, json_t *value, struct sp_err *err)
{
	char buf[256];
	const char *key;
	json_t *old = sp_edit_get(e, place);

	if ((!old && !value) || (old && value && json_equal(old, value))) {
		json_decref(value);
		return 0;
	}
	/* The entity (the first two parts) must exist: a field of nothing
	 * is a mistake of the caller, not a new entity. */
	char ent[256];
	snprintf(ent, sizeof(ent), "%s", place);
	char *d = strchr(ent, '.');
	d = d ? strchr(d + 1, '.') : NULL;
	if (!d || (*d = '\0', !json_is_object(sp_edit_get(e, ent)))) {
		sp_err_set(err, "%s: no such entity to set a field of", place);
		json_decref(value);
		return -1;
	}
	if (strcmp(e->last_place, place) != 0) {
		sp_snapshot(e);
		snprintf(e->last_place, sizeof(e->last_place), "%s", place);
	}
	e->modified = true;
	json_t *o = sp_field_parent(e->root, place, true, buf, sizeof(buf), &key);
	if (!o) {
		sp_err_set(err, "%s: not an object on the way; fix the file by hand", place);
		json_decref(value);
		return -1;
	}
	if (value)
		json_object_set_new(o, key, value);
	else
		json_object_del(o, key);
	return 0;
}

const char *sp_edit_get_str(const struct sp_edit *e, const char *place)
{
	return json_string_value(sp_edit_get(e, place));
}

int sp_edit_set_str(struct sp_edit *e, const char *place, const char *s, struct sp_err *err)
{
	return sp_edit_set(e, place, s && *s ? json_string(s) : NULL, err);
}

/* --- validation --- */

void sp_check_plans(const struct sp_config *cfg, const struct sp_host *host, struct sp_diags *diags)
{
	for (size_t i = 0; i < cfg->ninstances; i++) {
		const char *name = cfg->instances[i].name;
		struct sp_err err = {0};
		struct sp_plans *plans = sp_plan_compile(cfg, host, name, -1, &err);
		char place[SP_NAME_MAX + 16];

		if (!plans) {
			sp_diag_error(diags, err.place, "%s", err.msg);
			continue;
		}
		struct sp_argv argv;
		sp_argv_init(&argv);
		snprintf(place, sizeof(place), "instances.%s", name);
		if (sp_backend_get(plans->v[0].hypervisor)->build(&plans->v[0], &argv, &err) < 0)
			sp_diag_add(diags, err.missing ? SP_SEV_WARNING : SP_SEV_ERROR, place, "%s",
				    err.msg);
		sp_argv_free(&argv);
		sp_plans_free(plans);
	}
}

size_t sp_edit_check(const struct sp_edit *e, const char *file, const char *base_dir,
		     const struct sp_host *host, struct sp_diags *diags)
{
	char *text = sp_edit_dump(e);
	struct sp_config *cfg = sp_config_parse(text, strlen(text), file, base_dir, diags);

	free(text);
	if (cfg && host)
		sp_check_plans(cfg, host, diags);
	sp_config_free(cfg);
	return diags->errors;
}

/* --- what a change restarts --- */

static char *sp_plan_text(const struct sp_config *cfg, const struct sp_host *host, const char *name)
{
	struct sp_err err = {0};
	struct sp_plans *p = cfg && sp_config_instance(cfg, name) ?
				     sp_plan_compile(cfg, host, name, -1, &err) :
				     NULL;
	char *s = p ? sp_plan_to_json(&p->v[0]) : NULL;

	if (p)
		sp_plans_free(p);
	return s;
}

static void sp_changed_one(const struct sp_config *a, const struct sp_config *b,
			   const struct sp_host *host, const char *name, struct sp_names *out,
			   size_t *n)
{
	char *pa = sp_plan_text(a, host, name), *pb = sp_plan_text(b, host, name);

	if ((pa || pb) && (!pa || !pb || strcmp(pa, pb) != 0)) {
		/* Named once: an instance of both lists is visited twice. */
		bool seen = false;
		size_t l = strlen(name);
		for (const char *p = out->buf; out->off && (p = strstr(p, name)); p += l)
			if ((p == out->buf || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\0'))
				seen = true;
		if (!seen) {
			(*n)++;
			if (out->off < out->len)
				out->off +=
					(size_t)snprintf(out->buf + out->off, out->len - out->off,
							 "%s%s", out->off ? " " : "", name);
		}
	}
	free(pa);
	free(pb);
}

size_t sp_edit_changed(const struct sp_config *old_cfg, const struct sp_config *new_cfg,
		       const struct sp_host *host, char *buf, size_t len)
{
	struct sp_names out = {buf, len, 0};
	size_t n = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; old_cfg && i < old_cfg->ninstances; i++)
		sp_changed_one(old_cfg, new_cfg, host, old_cfg->instances[i].name, &out, &n);
	for (size_t i = 0; new_cfg && i < new_cfg->ninstances; i++)
		sp_changed_one(old_cfg, new_cfg, host, new_cfg->instances[i].name, &out, &n);
	return n;
}

/* --- saving --- */

static int sp_write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

int sp_edit_save(const struct sp_edit *e, const char *path, struct sp_err *err)
{
	char *text = sp_edit_dump(e), *dcopy = sp_xstrdup(path);
	const char *dir = dirname(dcopy);
	char tmp[SP_PATH_MAX + 16];
	struct stat st;
	mode_t mode = stat(path, &st) == 0 ? st.st_mode & 07777 : 0644;
	int fd = -1, dfd = -1, rc = -1;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
		sp_err_set(err, "cannot save %s: the path is too long", path);
		goto out;
	}
	/* A temporary file next to the target, so that rename() replaces
	 * it in one step: a reader sees the old file or the new one. */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		sp_err_set(err, "cannot save %s: cannot create a file in %s: %s", path, dir,
			   strerror(errno));
		goto out;
	}
	if (fchmod(fd, mode) < 0 || sp_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		sp_err_set(err, "cannot save %s: writing %s: %s", path, tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		sp_err_set(err, "cannot save %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* The rename itself lasts once the directory is on disk. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		fsync(dfd);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(text);
	free(dcopy);
	return rc;
}
