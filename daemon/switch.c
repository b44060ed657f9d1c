/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configurations over time: the file the daemon starts with, a client's
 * switch, a rollback, SIGHUP.  Each is read and compiled whole first
 * (the same errors as `spectrum check`), recorded as a generation
 * (lib/gen.h), and only then applied: the table of VMs is rebuilt from
 * the diff (lib/switch.h), moving every VM whose plan did not change
 * over untouched.  Any error before the generation is written changes
 * nothing.
 *
 * Trust: only root (the daemon's own uid) may switch (server.c checks
 * the peer first): a configuration names the host files and devices
 * that root opens for its VMs.  The file comes as a descriptor the
 * client opened; it is read bounded, and a .nix file is evaluated by
 * its path, which the kernel gives for that descriptor, so the daemon
 * evaluates what the (root) client named, not what it was told.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "nix.h"
#include "proto.h"
#include "switch.h"

#define SD_OUT_MAX 60000

/* A configuration read and compiled, not yet applied. */
struct sd_next {
	struct sp_config *cfg;
	struct sp_plans *plans;
	struct sp_gen gen; /* source path, model bytes, images */
	char *source;	   /* the file as given */
	size_t source_len;
	unsigned from_gen; /* a rollback's generation, else 0 */
};

/* Lines of text for the reply (or stderr), bounded. */
struct sd_out {
	char buf[SD_OUT_MAX];
	size_t len;
};

static void sd_out_add(struct sd_out *o, const char *fmt, ...) SP_PRINTF(2, 3);
static void sd_out_add(struct sd_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= sizeof(o->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < sizeof(o->buf) - o->len ? (size_t)n :
								sizeof(o->buf) - 1 - o->len;
}

static void sd_next_free(struct sd_next *n)
{
	sp_plans_free(n->plans);
	sp_config_free(n->cfg);
	sp_gen_free(&n->gen);
	free(n->source);
	memset(n, 0, sizeof(*n));
}

static void sd_out_diags(struct sd_out *o, const struct sp_diags *d)
{
	char line[2048];

	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == SP_SEV_ERROR) {
			sp_diag_format(d, &d->v[i], line, sizeof(line));
			sd_out_add(o, "%s\n", line);
		}
	if (d->dropped)
		sd_out_add(o, "%s: %zu more problems not shown\n", d->file, d->dropped);
}

static void sd_out_data_diags(const struct sp_diags *d, void *o)
{
	sd_out_diags(o, d);
}

/* Reads FD (a regular file) whole, at most SP_LIMIT_FILE_BYTES. */
static char *sd_read_bounded(int fd, const char *path, size_t *len, struct sd_out *o)
{
	char *buf = sp_xmalloc(SP_LIMIT_FILE_BYTES + 1);
	size_t n = 0;

	for (;;) {
		ssize_t r = read(fd, buf + n, SP_LIMIT_FILE_BYTES + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			sd_out_add(o, "%s: error: cannot read the file: %s\n", path,
				   strerror(errno));
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > SP_LIMIT_FILE_BYTES) {
			sd_out_add(o, "%s: error: larger than %u KiB; a configuration is smaller\n",
				   path, SP_LIMIT_FILE_BYTES >> 10);
			free(buf);
			return NULL;
		}
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Compiles n->cfg for this host; records the images its plans boot. */
static int sd_next_compile(struct sd *d, struct sd_next *n, struct sd_out *o)
{
	struct sp_err err = {0};

	n->plans = sp_plan_compile(n->cfg, &d->host, NULL, -1, &err);
	if (!n->plans) {
		sd_out_add(o, "%s: %s: error: %s\n", n->cfg->file, err.place, err.msg);
		return -1;
	}
	return 0;
}

static int sd_fd_path(int fd, char *path, size_t len, struct sd_out *o);

/*
 * The file at PATH (absolute), whose bytes FD gives: a data
 * file, or a .nix file evaluated as spectrum(1) does.  Relative paths of
 * the model start from the file's directory.
 */
static int sd_next_read(struct sd *d, const char *path, int fd, struct sd_next *n, struct sd_out *o)
{
	struct sp_diags diags;
	char *json = NULL;
	size_t json_len = 0;
	bool missing = false;

	memset(n, 0, sizeof(*n));
	n->source = sd_read_bounded(fd, path, &n->source_len, o);
	if (!n->source)
		return -1;
	n->gen.source = sp_xstrdup(path);
	n->gen.base_dir = sp_nix_dir_of(path);
	n->gen.nix = sp_nix_file(path);
	sp_diags_init(&diags, path);
	if (n->gen.nix) {
		n->cfg =
			sp_nix_load(path, &diags, &json, &json_len, &missing, sd_out_data_diags, o);
	} else {
		n->cfg = sp_config_parse(n->source, n->source_len, path, n->gen.base_dir, &diags);
		json = sp_xmalloc(n->source_len + 1);
		memcpy(json, n->source, n->source_len + 1);
		json_len = n->source_len;
	}
	sd_out_diags(o, &diags);
	sp_diags_fini(&diags);
	if (missing)
		sd_out_add(
			o,
			"%s: error: evaluating Nix needs nix-instantiate (Debian package nix-bin); install it or give the JSON data file\n",
			path);
	if (!n->cfg) {
		free(json);
		return -1;
	}
	n->gen.config = json;
	n->gen.config_len = json_len;
	if (sd_next_compile(d, n, o) < 0)
		return -1;
	sp_gen_images_of(&n->gen, n->plans);
	return 0;
}

/*
 * FILE of -c and SIGHUP, opened here: recorded, as a switch's file is,
 * by its absolute path, so that its generation means the same from any
 * working directory.
 */
static int sd_next_open(struct sd *d, const char *file, struct sd_next *n, struct sd_out *o)
{
	char path[4096];
	mode_t type;
	int fd = sp_open_regular(file, 0, &type), rc = -1;

	memset(n, 0, sizeof(*n));
	if (fd < 0) {
		sd_out_add(o, "%s: error: cannot read the file: %s\n", file,
			   type ? sp_file_type_name(type) : strerror(errno));
		return -1;
	}
	if (sd_fd_path(fd, path, sizeof(path), o) == 0)
		rc = sd_next_read(d, path, fd, n, o);
	close(fd);
	return rc;
}

/* Generation NUMBER, to boot the bytes it booted. */
static int sd_next_gen(struct sd *d, unsigned number, struct sd_next *n, struct sd_out *o)
{
	struct sp_diags diags;
	struct sp_err err = {0};

	memset(n, 0, sizeof(*n));
	if (sp_gen_read(&d->gens, number, &n->gen, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
		return -1;
	}
	n->from_gen = number;
	sp_diags_init(&diags, n->gen.source);
	n->cfg = sp_config_parse(n->gen.config, n->gen.config_len, n->gen.source, n->gen.base_dir,
				 &diags);
	sd_out_diags(o, &diags);
	sp_diags_fini(&diags);
	if (!n->cfg || sd_next_compile(d, n, o) < 0)
		return -1;
	if (sp_gen_use_store(&d->gens, &n->gen, n->plans, true, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

/* A file's generation is the current one if both its bytes are. */
static bool sd_next_is_current(struct sd *d, const struct sd_next *n, struct sp_gen *cur)
{
	struct sp_err err = {0};
	unsigned number = 0;
	bool same;

	if (sp_gen_current(&d->gens, &number, &err) < 0 || !number ||
	    sp_gen_read(&d->gens, number, cur, &err) < 0)
		return false;
	same = strcmp(cur->source, n->gen.source) == 0 && cur->config_len == n->gen.config_len &&
	       memcmp(cur->config, n->gen.config, n->gen.config_len) == 0;
	/* The root images too: an image rebuilt under its name is a new
	 * generation. */
	for (size_t i = 0; same && i < n->gen.nimages; i++) {
		char *was = NULL;
		for (size_t j = 0; j < cur->nimages && !was; j++)
			if (strcmp(cur->images[j].path, n->gen.images[i].path) == 0)
				was = cur->images[j].sha256;
		same = was && strcmp(was, n->gen.images[i].sha256) == 0;
	}
	if (!same)
		sp_gen_free(cur);
	return same;
}

/*
 * Makes n a generation (or finds that it is the current one) and points
 * its plans at the stored images.  A dry run only hashes.
 */
static int sd_next_record(struct sd *d, struct sd_next *n, bool dry, bool reuse, struct sd_out *o)
{
	struct sp_err err = {0};
	struct sp_gen cur = {0};

	if (n->from_gen)
		return 0;
	if (sp_gen_hash(&d->gens, &n->gen, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
		return -1;
	}
	if (!dry && reuse && sd_next_is_current(d, n, &cur)) {
		n->from_gen = cur.number;
		sp_gen_free(&cur);
	} else if (!dry && sp_gen_commit(&d->gens, &n->gen, n->source, n->source_len, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
		return -1;
	}
	if (sp_gen_use_store(&d->gens, &n->gen, n->plans, !dry, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

/* ---- applying */

static bool sd_busy(struct sd *d)
{
	for (size_t i = 0; i < d->nvms; i++)
		if (d->vms[i].retired || d->vms[i].restart_pending)
			return true;
	return false;
}

/* The diff of the table against n's plans. */
static size_t sd_diff(struct sd *d, struct sd_next *n, bool restart, struct sp_switch_item *items,
		      char ***jsons)
{
	struct sp_switch_side *old = sp_xmalloc((d->nvms + 1) * sizeof(*old));
	struct sp_switch_side *new_ = sp_xmalloc((n->plans->n + 1) * sizeof(*new_));
	char **js = sp_xmalloc((d->nvms + n->plans->n + 1) * sizeof(*js));
	size_t count;

	for (size_t i = 0; i < d->nvms; i++) {
		js[i] = sp_plan_to_json(d->vms[i].plan);
		old[i] = (struct sp_switch_side){d->vms[i].inst->name, js[i],
						 sd_vm_active(&d->vms[i])};
	}
	for (size_t i = 0; i < n->plans->n; i++) {
		js[d->nvms + i] = sp_plan_to_json(&n->plans->v[i]);
		new_[i] = (struct sp_switch_side){n->cfg->instances[i].name, js[d->nvms + i],
						  n->cfg->instances[i].autostart};
	}
	count = sp_switch_diff(old, d->nvms, new_, n->plans->n, restart, items);
	free(old);
	free(new_);
	*jsons = js;
	return count;
}

/* The VM entry of the new table for one item. */
static void sd_vm_carry(struct sd *d, struct sd_next *n, const struct sp_switch_item *it,
			struct sd_vm *to)
{
	struct sd_vm *from = it->old_index != SP_SWITCH_NONE ? &d->vms[it->old_index] : NULL;
	const struct sp_instance *inst =
		it->new_index != SP_SWITCH_NONE ? &n->cfg->instances[it->new_index] : NULL;
	struct sp_plan *plan = inst ? &n->plans->v[it->new_index] : NULL;

	if (!from) {
		*to = (struct sd_vm){
			.cfg = n->cfg,
			.inst = inst,
			.plan = plan,
			.pidfd = -1,
			.display_pidfd = -1,
			.waiter = -1};
		return;
	}
	*to = *from;
	to->next_cfg = NULL;
	to->next_inst = NULL;
	to->next_plan = NULL;
	switch (it->action) {
	case SP_SW_KEEP:
	case SP_SW_SAME:
	case SP_SW_UPDATE:
		/* The same plan (or none running): the new one is equal, or
		 * the next start's. */
		to->cfg = n->cfg;
		to->inst = inst;
		to->plan = plan;
		if (to->core.plan)
			to->core.plan = plan;
		break;
	case SP_SW_RESTART:
		to->restart_pending = true;
		/* fall through */
	case SP_SW_DEFER:
		to->next_cfg = n->cfg;
		to->next_inst = inst;
		to->next_plan = plan;
		break;
	case SP_SW_STOP:
		to->retired = true;
		break;
	default:
		break;
	}
}

/* The running configuration becomes an old one, kept while VMs run it. */
static void sd_retire_current(struct sd *d)
{
	d->old[d->nold++] = (struct sd_set){d->cfg, d->plans};
}

/* Replaces the table, then stops, restarts and starts what the items say. */
static void sd_apply(struct sd *d, struct sd_next *n, const struct sp_switch_item *items,
		     size_t count, struct sd_out *o)
{
	struct sd_vm *vms = sp_xmalloc((count + 1) * sizeof(*vms));
	size_t nv = 0;
	char line[512];

	for (size_t i = 0; i < count; i++)
		if (items[i].action != SP_SW_DROP)
			sd_vm_carry(d, n, &items[i], &vms[nv++]);
	sd_retire_current(d);
	d->cfg = n->cfg;
	d->plans = n->plans;
	n->cfg = NULL;
	n->plans = NULL;
	free(d->vms);
	d->vms = vms;
	d->nvms = nv;
	d->epoch++;
	for (size_t i = 0, v = 0; i < count; i++) {
		struct sd_vm *vm = items[i].action == SP_SW_DROP ? NULL : &d->vms[v++];
		sp_switch_line(&items[i], line, sizeof(line));
		if (items[i].action == SP_SW_RESTART || items[i].action == SP_SW_STOP)
			sd_vm_event(d, vm, SD_EV_STOP);
		if (items[i].action == SP_SW_START && sd_vm_event(d, vm, SD_EV_START) < 0) {
			sd_out_add(o, "%s: new, not started: %s\n", vm->inst->name,
				   vm->refusal.msg);
			continue;
		}
		sd_out_add(o, "%s\n", line);
	}
}

/*
 * The whole of a switch, rollback or HUP once n is read: diff, and
 * unless a dry run, record the generation, apply it.  Returns 0, or -1
 * with the reason in o (nothing changed).
 */
static int sd_switch_to(struct sd *d, struct sd_next *n, unsigned flags, struct sd_out *o)
{
	bool dry = flags & SP_FLAG_DRY_RUN;
	struct sp_switch_item *items;
	char **jsons = NULL, line[512];
	struct sp_err err = {0};
	size_t count, njsons;
	int rc = -1;

	if (!dry && (sd_busy(d) || d->nold >= SD_OLD_MAX)) {
		sd_out_add(
			o,
			"a previous switch is still stopping instances; try again when 'spectrum list' shows them stopped\n");
		return -1;
	}
	if (sd_next_record(d, n, dry, true, o) < 0)
		return -1;
	njsons = d->nvms + n->plans->n;
	items = sp_xmalloc((njsons + 1) * sizeof(*items));
	count = sd_diff(d, n, !(flags & SP_FLAG_NO_RESTART), items, &jsons);
	if (dry) {
		for (size_t i = 0; i < count; i++) {
			sp_switch_line(&items[i], line, sizeof(line));
			sd_out_add(o, "%s\n", line);
		}
		rc = 0;
	} else if (n->from_gen && sp_gen_set_current(&d->gens, n->from_gen, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
	} else {
		d->generation = n->from_gen ? n->from_gen : n->gen.number;
		sd_apply(d, n, items, count, o);
		sd_out_add(o, "generation %u is current\n", d->generation);
		rc = 0;
	}
	for (size_t i = 0; i < njsons; i++)
		free(jsons[i]);
	free(jsons);
	free(items);
	return rc;
}

/* ---- requests */

/* The path of the file behind a client's descriptor, as the kernel has it. */
static int sd_fd_path(int fd, char *path, size_t len, struct sd_out *o)
{
	char link[64];
	struct stat st;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, len - 1);
	if (n < 0 || (size_t)n >= len - 1 || path[0] != '/') {
		sd_out_add(o,
			   "switch: the file passed has no path; give a file on a file system\n");
		return -1;
	}
	path[n] = '\0';
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		sd_out_add(o, "%s: error: not a regular file; give a data file or a .nix file\n",
			   path);
		return -1;
	}
	if (st.st_nlink == 0) {
		sd_out_add(o, "%s: error: the file was deleted; switch to a file that exists\n",
			   path);
		return -1;
	}
	return 0;
}

/* The generation before the current one that still exists. */
static unsigned sd_previous(struct sd *d, struct sd_out *o)
{
	struct sp_err err = {0};
	struct sp_gen *v;
	size_t n;
	unsigned prev = 0;

	if (sp_gen_list(&d->gens, &v, &n, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].number < d->generation)
			prev = v[i].number;
		sp_gen_free(&v[i]);
	}
	free(v);
	if (!prev)
		sd_out_add(o,
			   "there is no generation before %u; 'spectrum generations' lists them\n",
			   d->generation);
	return prev;
}

static void sd_generations(struct sd *d, bool json, struct sd_out *o)
{
	struct sp_err err = {0};
	struct sp_gen *v;
	size_t n;
	json_t *arr = json_array();

	if (sp_gen_list(&d->gens, &v, &n, &err) < 0) {
		sd_out_add(o, "%s\n", err.msg);
		json_decref(arr);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char date[32];
		struct tm tm;
		gmtime_r(&v[i].created, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (json) {
			json_t *imgs = json_array();
			for (size_t j = 0; j < v[i].nimages; j++)
				json_array_append_new(imgs, json_pack("{s:s, s:s}", "path",
								      v[i].images[j].path, "sha256",
								      v[i].images[j].sha256));
			json_array_append_new(
				arr, json_pack("{s:I, s:s, s:s, s:s, s:b, s:o}", "number",
					       (json_int_t)v[i].number, "created", date, "source",
					       v[i].source, "kind", v[i].nix ? "nix" : "data",
					       "current", v[i].current, "images", imgs));
		} else {
			sd_out_add(o, "%4u  %s  %s%s\n", v[i].number, date, v[i].source,
				   v[i].current ? "  (current)" : "");
		}
		sp_gen_free(&v[i]);
	}
	free(v);
	if (json) {
		char *s = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		sd_out_add(o, "%s\n", s ? s : "[]");
		free(s);
	}
	json_decref(arr);
}

/*
 * The store images the VMM of `vm` has open: what it boots, whichever
 * generation (or, adopted, whichever daemon) started it.  The links of
 * /proc/PID/fd are the kernel's; a VMM that opened another store image
 * only keeps that one from gc.  At most 4096 descriptors are looked at.
 */
static size_t sd_gc_open_images(const struct sd *d, const struct sd_vm *vm, char **out, size_t room)
{
	char link[64], target[4096];
	size_t n = 0, plen = strlen(d->gens.store_path);

	for (int fd = 0; fd < 4096 && n < room; fd++) {
		ssize_t len;
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)vm->core.pid, fd);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, d->gens.store_path, plen) == 0 && target[plen] == '/')
			out[n++] = sp_xstrdup(target);
	}
	return n;
}

static int sd_gc(struct sd *d, unsigned keep, struct sd_out *o)
{
	size_t room = 8 * (d->nvms + 1), n = 0;
	char **in_use = sp_xmalloc(room * sizeof(*in_use));
	char report[8192];
	struct sp_err err = {0};
	int rc;

	/* What runs keeps its bytes: its plan's, and those its VMM has open. */
	for (size_t i = 0; i < d->nvms; i++) {
		const struct sd_vm *vm = &d->vms[i];
		if (!sd_vm_active(vm))
			continue;
		in_use[n++] = sp_xstrdup(vm->plan->root.image);
		if (vm->core.pid > 0)
			n += sd_gc_open_images(d, vm, in_use + n, 7);
	}
	rc = sp_gen_gc(&d->gens, keep, (const char *const *)in_use, n, report, sizeof(report),
		       &err);
	for (size_t i = 0; i < n; i++)
		free(in_use[i]);
	free(in_use);
	if (rc < 0)
		sd_out_add(o, "%s\n", err.msg);
	else
		sd_out_add(o, "%s", report);
	return rc;
}

void sd_switch_request(struct sd *d, int fd, unsigned op, unsigned flags, uint32_t number,
		       int file_fd)
{
	struct sd_out *o = sp_xmalloc(sizeof(*o));
	struct sd_next n = {0};
	char path[4096];
	int rc = -1;

	o->len = 0;
	o->buf[0] = '\0';
	switch (op) {
	case SP_OP_SWITCH:
		if (sd_fd_path(file_fd, path, sizeof(path), o) == 0 &&
		    sd_next_read(d, path, file_fd, &n, o) == 0)
			rc = sd_switch_to(d, &n, flags, o);
		break;
	case SP_OP_ROLLBACK:
		if (!number)
			number = sd_previous(d, o);
		if (number && sd_next_gen(d, number, &n, o) == 0)
			rc = sd_switch_to(d, &n, flags, o);
		break;
	case SP_OP_GENERATIONS:
		sd_generations(d, flags & SP_FLAG_JSON, o);
		rc = 0;
		break;
	case SP_OP_GC:
		rc = sd_gc(d, number, o);
		break;
	}
	sd_next_free(&n);
	if (rc == 0 && (op == SP_OP_SWITCH || op == SP_OP_ROLLBACK))
		fprintf(stderr, "spectrumd: %s%s:\n%s", sp_op_name(op),
			flags & SP_FLAG_DRY_RUN ? " (dry run)" : "", o->buf);
	sd_server_answer(fd, rc == 0 ? SP_REPLY_OK : SP_REPLY_REFUSED, o->buf);
	free(o);
}

void sd_switch_hup(struct sd *d)
{
	struct sd_out *o = sp_xmalloc(sizeof(*o));
	struct sd_next n = {0};

	o->len = 0;
	o->buf[0] = '\0';
	fprintf(stderr, "spectrumd: SIGHUP: reading %s again\n", d->file);
	if (sd_next_open(d, d->file, &n, o) < 0 || sd_switch_to(d, &n, 0, o) < 0)
		fprintf(stderr, "%sspectrumd: %s not applied; the running configuration stays\n",
			o->buf, d->file);
	else
		fprintf(stderr, "%s", o->buf);
	sd_next_free(&n);
	free(o);
}

/* ---- start-up */

int sd_switch_boot(struct sd *d, const char *file, bool check_only)
{
	struct sd_out *o = sp_xmalloc(sizeof(*o));
	struct sd_next n = {0};
	struct sp_err err = {0};
	unsigned cur = 0;
	int rc = 1;

	o->len = 0;
	o->buf[0] = '\0';
	if (sp_host_detect(&d->host, &err) < 0) {
		fprintf(stderr, "spectrumd: %s\n", err.msg);
		free(o);
		return 3;
	}
	if (check_only) {
		rc = sd_next_open(d, file, &n, o) < 0 ? 1 : 0;
		goto out;
	}
	if (sp_gen_open(&d->gens, d->host.state_dir, &err) < 0) {
		fprintf(stderr, "spectrumd: %s\n", err.msg);
		rc = 3;
		goto out;
	}
	if (!file) {
		if (sp_gen_current(&d->gens, &cur, &err) < 0 || !cur) {
			fprintf(stderr, "spectrumd: %s\n",
				cur ? err.msg :
				      "no generation yet; give the configuration: spectrumd -c FILE");
			goto out;
		}
		if (sd_next_gen(d, cur, &n, o) < 0)
			goto out;
		d->file = sp_xstrdup(n.gen.source);
	} else if (sd_next_open(d, file, &n, o) < 0 ||
		   sd_next_record(d, &n, false, true, o) < 0) {
		goto out;
	} else {
		d->file = file;
	}
	d->generation = n.from_gen ? n.from_gen : n.gen.number;
	d->cfg = n.cfg;
	d->plans = n.plans;
	n.cfg = NULL;
	n.plans = NULL;
	d->nvms = d->cfg->ninstances;
	d->vms = sp_xmalloc((d->nvms + 1) * sizeof(*d->vms));
	for (size_t i = 0; i < d->nvms; i++)
		d->vms[i] = (struct sd_vm){.cfg = d->cfg,
					   .inst = &d->cfg->instances[i],
					   .plan = &d->plans->v[i],
					   .pidfd = -1,
					   .display_pidfd = -1,
					   .waiter = -1};
	rc = 0;
out:
	fputs(o->buf, stderr);
	sd_next_free(&n);
	free(o);
	return rc;
}

/* ---- after each turn of the loop */

static bool sd_set_used(const struct sd *d, const struct sp_config *cfg)
{
	for (size_t i = 0; i < d->nvms; i++)
		if (d->vms[i].cfg == cfg || d->vms[i].next_cfg == cfg)
			return true;
	return false;
}

void sd_switch_sweep(struct sd *d)
{
	size_t kept = 0;

	for (size_t i = 0; i < d->nvms; i++) {
		struct sd_vm *vm = &d->vms[i];
		if (vm->retired && !sd_vm_active(vm) && vm->waiter < 0) {
			d->epoch++;
			continue;
		}
		if (kept != i)
			d->vms[kept] = *vm;
		kept++;
	}
	d->nvms = kept;
	for (size_t i = 0; i < d->nold;) {
		if (sd_set_used(d, d->old[i].cfg)) {
			i++;
			continue;
		}
		sp_plans_free(d->old[i].plans);
		sp_config_free(d->old[i].cfg);
		d->old[i] = d->old[--d->nold];
	}
}
