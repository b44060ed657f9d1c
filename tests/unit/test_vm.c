/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest that stopped without a word: the panic its console shows, as the
 * reason `spectrum run` and spectrumd give. */
#include <string.h>

#include "tap.h"
#include "vm.h"

static bool reason(const char *console, char *out, size_t len)
{
	struct sp_plan p = {.instance = "small", .memory_mib = 96};

	return sp_vm_panic_reason(&p, console, strlen(console), out, len);
}

int main(void)
{
	char why[300], small[48];
	bool found;

	found = reason("[    1.0] Run /init as init process\n"
		       "spectrum-init: mounting\n",
		       why, sizeof(why));
	TAP_OK(!found, "a console without a panic gives no reason");

	found = reason(
		"[    2.9] modprobe invoked oom-killer\n"
		"[    3.07] Kernel panic - not syncing: System is deadlocked on memory\r\n"
		"[    3.07] CPU: 0 PID: 1 Comm: init\r\n"
		"[    3.09] ---[ end Kernel panic - not syncing: System is deadlocked on memory ]---\r\n",
		why, sizeof(why));
	TAP_STR(found ? why : NULL,
		"the guest's kernel panicked: System is deadlocked on memory; it has 96M of memory: give it more (\"memory\" of the instance or its application)",
		"a panic for lack of memory is named, with the memory and the fix");

	found = reason("[   9.1] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---\n",
		       why, sizeof(why));
	TAP_STR(found ? why : NULL, "the guest's kernel panicked: sysrq triggered crash",
		"the end marker alone (the first line scrolled away) gives the panic, without ]---");

	found = reason("Kernel panic - not syncing: \x1b[31mforged\x07 \xc3\xa9", why, sizeof(why));
	TAP_STR(found ? why : NULL, "the guest's kernel panicked: ?[31mforged? ??",
		"what the guest wrote is kept as printable ASCII only");

	found = reason("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009",
		       small, sizeof(small));
	TAP_OK(found && strlen(small) == sizeof(small) - 1, "the reason fits the buffer given");

	found = reason("Kernel panic - not syncing", why, sizeof(why));
	TAP_OK(!found, "half a panic line is none");
	return tap_done();
}
