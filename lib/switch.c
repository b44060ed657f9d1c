/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The switch diff: see switch.h. */
#include "switch.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Names the top-level plan fields in which two plans differ. */
static void sp_switch_fields(const char *a, const char *b, char *out, size_t len)
{
	json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL), *v;
	const char *key;
	size_t o = 0;

	out[0] = '\0';
	if (!json_is_object(ja) || !json_is_object(jb)) {
		snprintf(out, len, "plan");
		goto out;
	}
	json_object_foreach(jb, key, v)
	{
		if (json_equal(v, json_object_get(ja, key)))
			continue;
		if (o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "", key);
	}
	json_object_foreach(ja, key, v)
	{
		if (json_object_get(jb, key) || o >= len)
			continue;
		o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "", key);
	}
	if (o >= len && len > 4)
		memcpy(out + len - 4, "...", 4);
out:
	json_decref(ja);
	json_decref(jb);
}

static size_t sp_switch_find(const struct sp_switch_side *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return i;
	return SP_SWITCH_NONE;
}

static enum sp_switch_action sp_switch_both(bool running, bool same, bool restart)
{
	if (same)
		return running ? SP_SW_KEEP : SP_SW_SAME;
	if (!running)
		return SP_SW_UPDATE;
	return restart ? SP_SW_RESTART : SP_SW_DEFER;
}

size_t sp_switch_diff(const struct sp_switch_side *old, size_t nold,
		      const struct sp_switch_side *new_, size_t nnew, bool restart,
		      struct sp_switch_item *out)
{
	size_t n = 0;

	for (size_t i = 0; i < nnew; i++) {
		struct sp_switch_item *it = &out[n++];
		size_t o = sp_switch_find(old, nold, new_[i].name);
		*it = (struct sp_switch_item){.name = new_[i].name, .old_index = o, .new_index = i};
		if (o == SP_SWITCH_NONE) {
			it->action = new_[i].on ? SP_SW_START : SP_SW_ADD;
			continue;
		}
		bool same = strcmp(old[o].plan_json, new_[i].plan_json) == 0;
		it->action = sp_switch_both(old[o].on, same, restart);
		if (!same)
			sp_switch_fields(old[o].plan_json, new_[i].plan_json, it->changed,
					 sizeof(it->changed));
	}
	for (size_t o = 0; o < nold; o++) {
		if (sp_switch_find(new_, nnew, old[o].name) != SP_SWITCH_NONE)
			continue;
		out[n++] = (struct sp_switch_item){.action = old[o].on ? SP_SW_STOP : SP_SW_DROP,
						   .name = old[o].name,
						   .old_index = o,
						   .new_index = SP_SWITCH_NONE};
	}
	return n;
}

void sp_switch_line(const struct sp_switch_item *it, char *buf, size_t len)
{
	const char *n = it->name, *c = it->changed;

	switch (it->action) {
	case SP_SW_KEEP:
		snprintf(buf, len, "%s: unchanged, keeps running", n);
		break;
	case SP_SW_SAME:
		snprintf(buf, len, "%s: unchanged", n);
		break;
	case SP_SW_RESTART:
		snprintf(buf, len, "%s: restart (%s changed)", n, c);
		break;
	case SP_SW_DEFER:
		snprintf(buf, len,
			 "%s: changed (%s), not restarted: 'spectrum restart %s' applies it", n, c,
			 n);
		break;
	case SP_SW_UPDATE:
		snprintf(buf, len, "%s: updated (%s changed), not running", n, c);
		break;
	case SP_SW_STOP:
		snprintf(buf, len, "%s: stop (removed)", n);
		break;
	case SP_SW_DROP:
		snprintf(buf, len, "%s: removed, was not running", n);
		break;
	case SP_SW_START:
		snprintf(buf, len, "%s: start (new, autostart)", n);
		break;
	case SP_SW_ADD:
		snprintf(buf, len, "%s: added, not started (no autostart)", n);
		break;
	}
}
