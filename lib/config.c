/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data file -> model.  This is a trust boundary: the file may come from a
 * graphical editor, another user or a fuzzer.  Everything is bounded before
 * the JSON library sees it (size, nesting), every key is checked against
 * the keys its object may have, and every value is typed and ranged here,
 * so that no later stage has to.
 */
#include "model.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_read.h"

/* --- places: "instances.mail-work.bindings.store.path" --- */

static bool sp_bare_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '-' || *k == '_'))
			return false;
	return true;
}

void sp_rd_push(struct sp_reader *r, const char *key)
{
	size_t cap = sizeof(r->place) - r->len;
	int n;

	r->saved[r->depth++] = r->len;
	if (sp_bare_key(key)) {
		n = snprintf(r->place + r->len, cap, "%s%s", r->len ? "." : "", key);
	} else {
		/* Quoted and shortened: the key itself may be hostile. */
		char q[80];
		size_t o = 0;
		for (const char *k = key; *k && o < 60; k++) {
			unsigned char c = (unsigned char)*k;
			if (c == '"' || c == '\\')
				q[o++] = '\\', q[o++] = (char)c;
			else if (c < 0x20 || c == 0x7f)
				q[o++] = '?';
			else
				q[o++] = (char)c;
		}
		q[o] = '\0';
		n = snprintf(r->place + r->len, cap, "%s\"%s%s\"", r->len ? "." : "", q,
			     strlen(key) > 60 ? "..." : "");
	}
	if (n > 0)
		r->len += (size_t)n < cap ? (size_t)n : cap - 1;
}

void sp_rd_push_index(struct sp_reader *r, size_t i)
{
	size_t cap = sizeof(r->place) - r->len;
	int n = snprintf(r->place + r->len, cap, "[%zu]", i);

	r->saved[r->depth++] = r->len;
	if (n > 0)
		r->len += (size_t)n < cap ? (size_t)n : cap - 1;
}

void sp_rd_pop(struct sp_reader *r)
{
	r->len = r->saved[--r->depth];
	r->place[r->len] = '\0';
}

/* --- typed access --- */

const char *sp_json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "a value";
}

static const char *sp_closest(const char *word, const char *const *choices)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (; *choices; choices++) {
		unsigned d = sp_edit_distance(word, *choices);
		/* Short words are easy to match by chance: demand more. */
		unsigned limit = strlen(*choices) <= 4 ? 1 : 2;
		if (d <= limit && d < best_d) {
			best = *choices;
			best_d = d;
		}
	}
	return best;
}

void sp_rd_suggest(char *buf, size_t len, const char *word, const char *const *choices,
		   const char *what)
{
	const char *near = sp_closest(word, choices);
	size_t o;

	if (near) {
		snprintf(buf, len, "did you mean \"%s\"?", near);
		return;
	}
	o = (size_t)snprintf(buf, len, "%s ", what);
	for (const char *const *c = choices; *c && o < len; c++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", *c, c[1] ? ", " : "");
}

bool sp_rd_keys(struct sp_reader *r, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	bool ok = true;

	json_object_foreach(obj, key, v) {
		const char *const *a;
		for (a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				break;
		if (*a)
			continue;
		char hint[512];
		sp_rd_suggest(hint, sizeof(hint), key, allowed, "allowed keys here are");
		sp_rd_push(r, key);
		sp_diag_error(r->diags, r->place, "unknown key; %s", hint);
		sp_rd_pop(r);
		ok = false;
	}
	return ok;
}

bool sp_rd_type(struct sp_reader *r, json_t *v, json_type want, const char *like)
{
	if (json_typeof(v) == want || (want == JSON_TRUE && json_is_boolean(v)))
		return true;
	sp_diag_error(r->diags, r->place, "expected %s, found %s", like, sp_json_kind(v));
	return false;
}

/*
 * Looks up `key`; reports it missing when `required_hint` is not NULL.  On
 * return the place is pushed if and only if the value was found.
 */
json_t *sp_rd_get(struct sp_reader *r, json_t *obj, const char *key, const char *required_hint)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (required_hint)
			sp_diag_error(r->diags, r->place, "missing key \"%s\"; %s", key,
				      required_hint);
		return NULL;
	}
	sp_rd_push(r, key);
	return v;
}

/* Gets a string field into the arena.  -1: absent (and reported if required)
 * or invalid; 0: found. */
int sp_rd_string(struct sp_reader *r, json_t *obj, const char *key, const char *required_hint,
		 char **out)
{
	json_t *v = sp_rd_get(r, obj, key, required_hint);
	int rc = -1;

	if (!v)
		return -1;
	if (sp_rd_type(r, v, JSON_STRING, "a string")) {
		if (json_string_length(v) == 0) {
			sp_diag_error(r->diags, r->place, "empty string; give a value or remove the key");
		} else {
			*out = sp_arena_strdup(r->arena, json_string_value(v));
			rc = 0;
		}
	}
	sp_rd_pop(r);
	return rc;
}

int sp_rd_bool(struct sp_reader *r, json_t *obj, const char *key, bool *out)
{
	json_t *v = sp_rd_get(r, obj, key, NULL);
	int rc = -1;

	if (!v)
		return -1;
	if (sp_rd_type(r, v, JSON_TRUE, "true or false")) {
		*out = json_is_true(v);
		rc = 0;
	}
	sp_rd_pop(r);
	return rc;
}

int sp_rd_uint(struct sp_reader *r, json_t *obj, const char *key, long long min, long long max,
	       unsigned *out)
{
	json_t *v = sp_rd_get(r, obj, key, NULL);
	int rc = -1;

	if (!v)
		return -1;
	if (sp_rd_type(r, v, JSON_INTEGER, "an integer")) {
		json_int_t n = json_integer_value(v);
		if (n < min || n > max)
			sp_diag_error(r->diags, r->place, "%lld is out of range; use %lld to %lld",
				      (long long)n, min, max);
		else {
			*out = (unsigned)n;
			rc = 0;
		}
	}
	sp_rd_pop(r);
	return rc;
}

/*
 * Sizes: `what` names the value in messages ("memory", "size"); the value
 * must lie in [min, max] and be a multiple of `unit` bytes.
 */
int sp_rd_size(struct sp_reader *r, json_t *obj, const char *key, const char *what, uint64_t min,
	       uint64_t max, uint64_t unit, const char *example, uint64_t *out)
{
	json_t *v = sp_rd_get(r, obj, key, NULL);
	char lo[32], hi[32], un[32];
	uint64_t n;
	int rc = -1;

	if (!v)
		return -1;
	sp_size_format(min, lo, sizeof(lo));
	sp_size_format(max, hi, sizeof(hi));
	sp_size_format(unit, un, sizeof(un));
	if (json_is_integer(v) || json_is_real(v)) {
		sp_diag_error(r->diags, r->place, "%s needs a unit; write it as a string like \"%s\"",
			      what, example);
	} else if (sp_rd_type(r, v, JSON_STRING, "a size string")) {
		const char *s = json_string_value(v);
		if (sp_size_parse(s, &n) < 0)
			sp_diag_error(r->diags, r->place,
				      "\"%.40s\" is not a size; write a number and a unit (K, M, G, T), like \"512M\" or \"2G\"",
				      s);
		else if (n < min || n > max)
			sp_diag_error(r->diags, r->place, "%s \"%.40s\" is out of range; use %s to %s",
				      what, s, lo, hi);
		else if (n % unit)
			sp_diag_error(r->diags, r->place,
				      "%s \"%.40s\" is not a whole number of %s; round it", what, s,
				      unit == (1u << 20) ? "MiB" : un);
		else {
			*out = n;
			rc = 0;
		}
	}
	sp_rd_pop(r);
	return rc;
}

/* --- the file as a whole --- */

/*
 * Nesting is measured before parsing so that the JSON library's recursion
 * never goes deep on hostile input; strings are skipped so brackets in them
 * do not count.
 */
static int sp_depth_scan(const char *data, size_t len, size_t *line, size_t *col)
{
	unsigned depth = 0;
	bool in_str = false, esc = false;

	*line = 1;
	*col = 0;
	for (size_t i = 0; i < len; i++) {
		char c = data[i];
		(*col)++;
		if (c == '\n') {
			(*line)++;
			*col = 0;
		}
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > SP_LIMIT_DEPTH)
				return -1;
		} else if ((c == '}' || c == ']') && depth > 0)
			depth--;
	}
	return 0;
}

static bool sp_blank(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", data[i]))
			return false;
	return true;
}

/* The JSON library's message, with the fix for the common slips. */
static void sp_syntax_error(struct sp_diags *diags, const char *place, const json_error_t *jerr,
			    const char *data)
{
	if (strstr(jerr->text, "\\u0000")) {
		sp_diag_error(diags, place, "invalid JSON: a string contains \\u0000; remove it");
		return;
	}
	if (strncmp(jerr->text, "duplicate object key", 20) == 0) {
		sp_diag_error(diags, place, "invalid JSON: %s; give each key once", jerr->text);
		return;
	}
	/* A trailing comma: the bad token is a closing bracket after ','. */
	if (jerr->position > 0) {
		size_t i = (size_t)jerr->position - 1;
		if (data[i] == '}' || data[i] == ']') {
			while (i > 0 && strchr(" \t\r\n", data[i - 1]))
				i--;
			if (i > 0 && data[i - 1] == ',') {
				sp_diag_error(diags, place,
					      "invalid JSON: %s; remove the comma before it", jerr->text);
				return;
			}
		}
	}
	sp_diag_error(diags, place, "invalid JSON: %s", jerr->text);
}

static json_t *sp_config_json(const char *data, size_t len, struct sp_diags *diags)
{
	json_error_t jerr;
	size_t line, col;
	json_t *root;
	char place[64];

	if (len > SP_LIMIT_FILE_BYTES) {
		sp_diag_error(diags, NULL, "file is larger than %u KiB; a data file this big is not a configuration",
			      SP_LIMIT_FILE_BYTES >> 10);
		return NULL;
	}
	if (sp_blank(data, len)) {
		sp_diag_error(diags, NULL,
			      "file is empty; write a JSON object with \"applications\", \"resources\" and \"instances\"");
		return NULL;
	}
	if (sp_depth_scan(data, len, &line, &col) < 0) {
		snprintf(place, sizeof(place), "%zu:%zu", line, col);
		sp_diag_error(diags, place, "nesting deeper than %d levels; a data file never needs that",
			      SP_LIMIT_DEPTH);
		return NULL;
	}
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		snprintf(place, sizeof(place), "%d:%d", jerr.line, jerr.column);
		sp_syntax_error(diags, place, &jerr, data);
		return NULL;
	}
	if (!json_is_object(root)) {
		sp_diag_error(diags, NULL,
			      "the top level is %s; a data file is a JSON object with \"applications\", \"resources\" and \"instances\"",
			      sp_json_kind(root));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Every string anywhere in the file is bounded, keys included. */
static void sp_check_strings(struct sp_reader *r, json_t *v)
{
	const char *key;
	json_t *child;
	size_t i;

	if (json_is_string(v) && json_string_length(v) > SP_LIMIT_STRING) {
		sp_diag_error(r->diags, r->place, "string longer than %d bytes; shorten it",
			      SP_LIMIT_STRING);
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, child) {
			sp_rd_push(r, key);
			if (strlen(key) > SP_LIMIT_STRING)
				sp_diag_error(r->diags, r->place,
					      "key longer than %d bytes; shorten it", SP_LIMIT_STRING);
			sp_check_strings(r, child);
			sp_rd_pop(r);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, child) {
			sp_rd_push_index(r, i);
			sp_check_strings(r, child);
			sp_rd_pop(r);
		}
	}
}

static int sp_config_version(struct sp_reader *r, json_t *root)
{
	json_t *v = json_object_get(root, "version");

	if (!v || (json_is_integer(v) && json_integer_value(v) == 1))
		return 0;
	sp_rd_push(r, "version");
	if (json_is_integer(v))
		sp_diag_error(r->diags, r->place,
			      "unsupported version %lld; this Spectrum reads version 1 data files",
			      (long long)json_integer_value(v));
	else
		sp_rd_type(r, v, JSON_INTEGER, "the integer 1");
	sp_rd_pop(r);
	return -1;
}

static char *sp_dirname(struct sp_arena *a, const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;

	if (!slash)
		return sp_arena_strdup(a, ".");
	if (slash == file)
		return sp_arena_strdup(a, "/");
	return sp_arena_printf(a, "%.*s", (int)(slash - file), file);
}

struct sp_config *sp_config_parse(const char *data, size_t len, const char *file, const char *base_dir,
				  struct sp_diags *diags)
{
	static const char *const top_keys[] = {"version", "applications", "resources", "instances",
					       NULL};
	struct sp_reader r = {.diags = diags};
	struct sp_config *cfg;
	size_t errors = diags->errors;
	json_t *root;

	root = sp_config_json(data, len, diags);
	if (!root)
		return NULL;
	r.arena = sp_arena_new();
	cfg = sp_arena_alloc(r.arena, sizeof(*cfg));
	cfg->arena = r.arena;
	cfg->file = sp_arena_strdup(r.arena, file ? file : "-");
	cfg->base_dir = base_dir ? sp_arena_strdup(r.arena, base_dir) : sp_dirname(r.arena, file);
	r.cfg = cfg;

	sp_check_strings(&r, root);
	if (diags->errors == errors) {
		sp_rd_keys(&r, root, top_keys);
		sp_config_version(&r, root);
		sp_read_applications(&r, json_object_get(root, "applications"));
		sp_read_resources(&r, json_object_get(root, "resources"));
		sp_read_instances(&r, json_object_get(root, "instances"));
		if (diags->errors == errors)
			sp_check_sharing(&r);
	}
	json_decref(root);
	if (diags->errors != errors) {
		sp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

struct sp_config *sp_config_load(const char *file, struct sp_diags *diags)
{
	struct sp_config *cfg;
	char *buf;
	size_t len = 0;
	int fd;

	/* A FIFO, a socket or a device is refused, not waited on. */
	fd = sp_diag_open_file(diags, file, "a JSON data file");
	if (fd < 0) {
		diags->io_error = true;
		return NULL;
	}
	/* Read one byte past the limit so an oversized file is detected even
	 * if it grows while we read it. */
	buf = sp_xmalloc(SP_LIMIT_FILE_BYTES + 1);
	for (;;) {
		ssize_t n = read(fd, buf + len, SP_LIMIT_FILE_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sp_diag_error(diags, NULL, "cannot read the file: %s", strerror(errno));
			diags->io_error = true;
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0 || (len += (size_t)n) == SP_LIMIT_FILE_BYTES + 1)
			break;
	}
	close(fd);
	cfg = sp_config_parse(buf, len, file, NULL, diags);
	free(buf);
	return cfg;
}
