/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the compiler needs to know about the machine it runs on.  Detection
 * reads /proc and /sys only; every answer can be overridden from the
 * environment so that plans are reproducible in tests and on odd hosts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "paths.h"
#include "plan.h"

const char *sp_accel_name(enum sp_accel a)
{
	return a == SP_ACCEL_KVM ? "kvm" : "tcg";
}

const char *sp_kernel_name(enum sp_kernel k)
{
	return k == SP_KERNEL_SPECTRUM ? "spectrum" : "debian";
}

int sp_kernel_parse(const char *s, enum sp_kernel *out)
{
	if (strcmp(s, "debian") == 0)
		*out = SP_KERNEL_DEBIAN;
	else if (strcmp(s, "spectrum") == 0)
		*out = SP_KERNEL_SPECTRUM;
	else
		return -1;
	return 0;
}

/* true if /proc/cpuinfo has a "flags" line with `flag` as a word. */
static bool sp_cpu_flag(const char *flag)
{
	char line[8192];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (char *tok = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n");
		     tok; tok = strtok(NULL, " \t\n"))
			if (strcmp(tok, flag) == 0)
				found = true;
		break;
	}
	fclose(f);
	return found;
}

/*
 * /dev/kvm alone is not enough: nested set-ups without hardware
 * virtualisation flags (a PVM-based KVM, for one) accept KVM_CREATE_VM but
 * stock guest kernels fail under them.  So on x86 require vmx or svm, and
 * on POWER the KVM-HV module.
 */
static bool sp_kvm_usable(enum sp_arch arch)
{
	if (access("/dev/kvm", R_OK | W_OK) != 0)
		return false;
	switch (arch) {
	case SP_ARCH_X86_64:
		return sp_cpu_flag("vmx") || sp_cpu_flag("svm");
	case SP_ARCH_PPC64LE:
		return access("/sys/module/kvm_hv", F_OK) == 0;
	case SP_ARCH_AARCH64:
		return true;
	}
	return false;
}

/*
 * TCG guests on x86 read the host's TSC; telling the guest kernel its
 * frequency avoids a calibration that hangs about one boot in four on
 * microvm, which has no PIT or HPET to calibrate against.
 */
static uint32_t sp_tsc_khz(void)
{
	char line[256];
	double mhz = 0;
	FILE *f = fopen("/sys/devices/system/cpu/cpu0/tsc_freq_khz", "re");

	if (f) {
		unsigned long khz = 0;
		if (fscanf(f, "%lu", &khz) != 1)
			khz = 0;
		fclose(f);
		if (khz)
			return (uint32_t)khz;
	}
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "cpu MHz : %lf", &mhz) == 1)
			break;
	fclose(f);
	return mhz > 0 && mhz < 100000 ? (uint32_t)(mhz * 1000) : 0;
}

int sp_host_detect(struct sp_host *host, struct sp_err *err)
{
	struct utsname u;
	const char *accel = getenv("SPECTRUM_ACCEL");
	const char *tsc = getenv("SPECTRUM_TSC_KHZ");
	const char *kernel = getenv("SPECTRUM_KERNEL");

	memset(host, 0, sizeof(*host));
	/* Spectrum's own kernel unless SPECTRUM_KERNEL=debian: it boots in
	 * less memory and time, with every driver a plan uses built in. */
	host->kernel = SP_KERNEL_SPECTRUM;
	if (uname(&u) < 0) {
		sp_err_set(err, "uname: %s", strerror(errno));
		return -1;
	}
	if (sp_arch_parse(u.machine, &host->arch) < 0) {
		if (strcmp(u.machine, "arm64") == 0)
			host->arch = SP_ARCH_AARCH64;
		else
			host->arch = SP_ARCH_X86_64;
	}
	host->kvm_usable = sp_kvm_usable(host->arch);
	if (accel && *accel) {
		host->accel_forced = true;
		if (strcmp(accel, "kvm") == 0)
			host->forced = SP_ACCEL_KVM;
		else if (strcmp(accel, "tcg") == 0)
			host->forced = SP_ACCEL_TCG;
		else {
			sp_err_set(err, "SPECTRUM_ACCEL=\"%s\" is not an accelerator; use kvm or tcg",
				   accel);
			return -1;
		}
	}
	if (tsc && *tsc) {
		unsigned long v;
		if (!sp_uint_parse(tsc, 1, 100000000, &v)) {
			sp_err_set(err, "SPECTRUM_TSC_KHZ=\"%s\" is not a frequency in kHz, like 2600000",
				   tsc);
			return -1;
		}
		host->tsc_khz = (uint32_t)v;
	} else {
		host->tsc_khz = sp_tsc_khz();
	}
	host->kernel_set = kernel && *kernel;
	if (host->kernel_set && sp_kernel_parse(kernel, &host->kernel) < 0) {
		sp_err_set(err,
			   "SPECTRUM_KERNEL=\"%s\" is not a guest kernel; use debian or spectrum",
			   kernel);
		return -1;
	}
	host->vmm_uid_base = geteuid() == 0 ? 524288 : 0;
	if (getenv("SPECTRUM_VMM_UID_BASE") && *getenv("SPECTRUM_VMM_UID_BASE")) {
		unsigned long v;
		if (!sp_uint_parse(getenv("SPECTRUM_VMM_UID_BASE"), 0, 4000000000ul, &v) ||
		    (v && v < 65536)) {
			sp_err_set(err,
				   "SPECTRUM_VMM_UID_BASE=\"%s\" is not 0 or a uid from 65536 to 4000000000",
				   getenv("SPECTRUM_VMM_UID_BASE"));
			return -1;
		}
		host->vmm_uid_base = (uint32_t)v;
	}
	if (sp_env_dir("SPECTRUM_STATE_DIR", SP_STATE_DIR_DEFAULT, host->state_buf,
		       sizeof(host->state_buf), err) < 0 ||
	    sp_env_dir("SPECTRUM_RUN_DIR", SP_RUN_DIR_DEFAULT, host->run_buf, sizeof(host->run_buf),
		       err) < 0)
		return -1;
	host->state_dir = host->state_buf;
	host->run_dir = host->run_buf;
	return 0;
}
