/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to the configuration reader (config.c, config_sections.c). */
#ifndef SP_CONFIG_READ_H
#define SP_CONFIG_READ_H

#include <jansson.h>

#include "model.h"

struct sp_reader {
	struct sp_diags *diags;
	struct sp_arena *arena;
	struct sp_config *cfg;
	/* The JSON path of the value being read, e.g. "instances.a.memory".
	 * Depth is bounded by SP_LIMIT_DEPTH, the pre-parse nesting check. */
	char place[1024];
	size_t len;
	size_t saved[SP_LIMIT_DEPTH * 2 + 4];
	size_t depth;
};

void sp_rd_push(struct sp_reader *r, const char *key);
void sp_rd_push_index(struct sp_reader *r, size_t i);
void sp_rd_pop(struct sp_reader *r);

const char *sp_json_kind(const json_t *v);
void sp_rd_suggest(char *buf, size_t len, const char *word, const char *const *choices,
		   const char *what);
bool sp_rd_keys(struct sp_reader *r, json_t *obj, const char *const *allowed);
bool sp_rd_type(struct sp_reader *r, json_t *v, json_type want, const char *like);
json_t *sp_rd_get(struct sp_reader *r, json_t *obj, const char *key, const char *required_hint);
int sp_rd_string(struct sp_reader *r, json_t *obj, const char *key, const char *required_hint,
		 char **out);
int sp_rd_bool(struct sp_reader *r, json_t *obj, const char *key, bool *out);
int sp_rd_uint(struct sp_reader *r, json_t *obj, const char *key, long long min, long long max,
	       unsigned *out);
int sp_rd_size(struct sp_reader *r, json_t *obj, const char *key, const char *what, uint64_t min,
	       uint64_t max, uint64_t unit, const char *example, uint64_t *out);

void sp_read_applications(struct sp_reader *r, json_t *section);
void sp_read_resources(struct sp_reader *r, json_t *section);
void sp_read_instances(struct sp_reader *r, json_t *section);
void sp_check_sharing(struct sp_reader *r);

#endif
