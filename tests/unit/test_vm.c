/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A guest that stopped without a word: the panic its console shows, as the
 * reason `spectrum run` and spectrumd give.  And the control lines of an
 * instance of several applications, as both read them. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "vm.h"

static bool reason(const char *console, char *out, size_t len)
{
	struct sp_plan p = {.instance = "small", .memory_mib = 96};

	return sp_vm_panic_reason(&p, console, strlen(console), out, len);
}

/* What the guest sends, read by sp_vm_control_read from a socket. */
static void control(struct sp_vm *vm, const char *lines)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return;
	vm->control = sv[0];
	if (write(sv[1], lines, strlen(lines)) == (ssize_t)strlen(lines))
		sp_vm_control_read(vm);
	close(sv[1]);
	close(sv[0]);
	vm->control = -1;
}

static void test_apps(void)
{
	static const struct sp_plan_app apps[] = {{"hello", 0, 1}, {"fail", 1, 1}};
	struct sp_plan p = {.instance = "both", .apps = apps, .napps = 2};
	struct sp_plan one = {.instance = "one", .napps = 1};
	struct sp_vm vm;

	sp_vm_init(&vm, &p);
	control(&vm, "ready\napp fail 3\napp nobody 9\napp hello 0\napp fail 0\nexit 3\n");
	TAP_OK(vm.app_reports == 2 && vm.app_order[0] == 1 && vm.app_order[1] == 0,
	       "each application's end is recorded once, in order; an unknown name is ignored");
	TAP_OK(vm.app_status[0] == 0 && vm.app_status[1] == 3 && vm.app_failed == 1,
	       "their statuses, and the first to fail");
	TAP_STR(vm.reason, "application fail exited with status 3",
		"the instance's reason names the application that failed");
	TAP_OK(vm.status == 3, "the instance's status is the guest's");

	sp_vm_init(&vm, &p);
	control(&vm, "app hello 0\napp fail 0\nexit 0\n");
	TAP_STR(vm.reason, "the 2 applications exited with status 0", "none failed");

	sp_vm_init(&vm, &one);
	control(&vm, "app one 1\nexit 7\n");
	TAP_OK(vm.app_reports == 0, "one application: app lines are ignored");
	TAP_STR(vm.reason, "the application exited with status 7", "one application: as before");
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
	test_apps();
	return tap_done();
}
