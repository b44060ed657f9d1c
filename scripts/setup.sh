#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sets up everything Spectrum needs to boot guests on this machine:
# Debian packages, the build (build/), and the guest kernels with the base
# initramfs for x86_64 and ppc64le under $SPECTRUM_STATE_DIR
# (/var/lib/spectrum by default).  Idempotent: a second run takes seconds.
# With SPECTRUM_KERNEL=spectrum it also builds Spectrum's own kernels
# (scripts/build-kernel.sh: the first time about 7 minutes each on two idle
# cores, 38 on a loaded machine; cached after).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/deps.sh
if [[ -f build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
bash scripts/guest-kernel.sh x86_64 build/guest/spectrum-init
bash scripts/guest-kernel.sh ppc64le build/guest/spectrum-init-ppc64le
if [[ ${SPECTRUM_KERNEL:-debian} == spectrum ]]; then
	bash scripts/build-kernel.sh x86_64 build/guest/spectrum-init
	bash scripts/build-kernel.sh ppc64le build/guest/spectrum-init-ppc64le
fi
