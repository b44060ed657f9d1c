/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a switch does to each instance: a pure function of the running
 * configuration's plans (and which of them run) and the new one's.  Two
 * plans are the same when their stable JSON (sp_plan_to_json) is: then
 * the VM is left alone, whatever else changed in the file.
 */
#ifndef SP_SWITCH_H
#define SP_SWITCH_H

#include <stdbool.h>
#include <stddef.h>

enum sp_switch_action {
	SP_SW_KEEP,    /* same plan, running: left alone */
	SP_SW_SAME,    /* same plan, not running */
	SP_SW_RESTART, /* plan changed, running: stopped, started with the new plan */
	SP_SW_DEFER,   /* plan changed, running, no restart asked: the next start uses it */
	SP_SW_UPDATE,  /* plan changed, not running */
	SP_SW_STOP,    /* gone, running: stopped */
	SP_SW_DROP,    /* gone, not running */
	SP_SW_START,   /* new and autostart: started */
	SP_SW_ADD,     /* new, not autostart */
};

/* One instance of one side: its name and plan JSON; `on` is "running"
 * for the old side and "autostart" for the new one. */
struct sp_switch_side {
	const char *name;
	const char *plan_json;
	bool on;
};

struct sp_switch_item {
	enum sp_switch_action action;
	const char *name;
	size_t old_index, new_index; /* SP_SWITCH_NONE on the side it is not on */
	char changed[160];	     /* the plan fields that differ, "memory_mib, vcpus" */
};
#define SP_SWITCH_NONE ((size_t)-1)

/*
 * Fills out[] (room for nold + nnew items): the new configuration's
 * instances in its order, then the old ones that are gone, in theirs.
 * Returns the count.
 */
size_t sp_switch_diff(const struct sp_switch_side *old, size_t nold,
		      const struct sp_switch_side *new_, size_t nnew, bool restart,
		      struct sp_switch_item *out);

/* The item's line, as `spectrum switch` prints it (no newline). */
void sp_switch_line(const struct sp_switch_item *it, char *buf, size_t len);

#endif
