/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "backend.h"

#include <stdio.h>
#include <string.h>

static const struct sp_backend *const sp_backends[SP_HV_COUNT] = {
	[SP_HV_QEMU] = &sp_backend_qemu,
	[SP_HV_CROSVM] = &sp_backend_crosvm,
	[SP_HV_CLOUD_HYPERVISOR] = &sp_backend_cloud_hypervisor,
};

const struct sp_backend *sp_backend_get(enum sp_hv hv)
{
	return (unsigned)hv < SP_HV_COUNT ? sp_backends[hv] : NULL;
}

char *sp_backend_cmdline(const struct sp_plan *plan, const char *console)
{
	size_t len = strlen(console) + 1 + strlen(plan->cmdline) + 1;
	char *s = sp_xmalloc(len);

	snprintf(s, len, "%s %s", console, plan->cmdline);
	return s;
}

int sp_backend_no_overlay(const struct sp_plan *p, const char *vmm, struct sp_err *err)
{
	for (size_t i = 0; i < p->ndisks; i++)
		if (p->disks[i].overlay) {
			sp_err_set(
				err,
				"%s cannot run a disposable instance that writes volume %s (no throwaway layer); use the qemu hypervisor for it",
				vmm, p->disks[i].resource);
			return -1;
		}
	return 0;
}
