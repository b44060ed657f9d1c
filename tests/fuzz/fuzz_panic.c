/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the console reader that finds a guest kernel's
 * panic line (sp_vm_panic_reason): the console is whatever the guest
 * printed, so the reason must stay within its buffer, one line of
 * printable text, whatever the bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sp_plan p = {.instance = "fuzz", .memory_mib = 128};
	char out[300];

	memset(out, 'x', sizeof(out));
	if (!sp_vm_panic_reason(&p, (const char *)data, size, out, sizeof(out)))
		return 0;
	if (!memchr(out, '\0', sizeof(out)))
		abort();
	for (const char *s = out; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			abort();
	return 0;
}
