/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A stand-in for spectrum-wlfilter in tests/windows/run.sh
 * (SPECTRUM_WLFILTER): it ignores its arguments and writes numbered lines
 * to its standard error for as long as it can, as a guest could make
 * waypipe or the filter do, so that the test sees display.log stay within
 * its cap.  libc only.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char line[128];

	for (unsigned long i = 0;; i++) {
		int n = snprintf(line, sizeof(line),
				 "flood: line %lu of what a guest makes its relay print\n", i);
		if (write(2, line, (size_t)n) != n)
			return 1;
	}
}
