#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Sets up everything Spectrum needs to boot guests on this machine:
# Debian packages, the build (build/), and the guest kernels with the base
# initramfs for x86_64 and ppc64le under $SPECTRUM_STATE_DIR
# (/var/lib/spectrum by default).  Idempotent: a second run takes seconds.
#
# Spectrum's own kernels (the default, SPECTRUM_KERNEL=spectrum) are built
# from source by scripts/build-kernel.sh for each architecture that
# SPECTRUM_SETUP_KERNELS names ("x86_64 ppc64le" by default): the first
# time 7.5 minutes (x86_64) and 6 (ppc64le) on two idle cores, cached after.  Debian's
# kernels (SPECTRUM_KERNEL=debian) are always set up: they are unpacked
# from their packages in seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

arches=${SPECTRUM_SETUP_KERNELS-x86_64 ppc64le}
for a in $arches; do
	case $a in
	x86_64 | ppc64le) ;;
	*)
		echo "spectrum: setup: SPECTRUM_SETUP_KERNELS names $a; use x86_64 and/or ppc64le" >&2
		exit 2
		;;
	esac
done

bash scripts/deps.sh
if [[ -f build/meson-private/coredata.dat ]]; then
	meson setup --reconfigure build >/dev/null
else
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
bash scripts/guest-kernel.sh x86_64 build/guest/spectrum-init
bash scripts/guest-kernel.sh ppc64le build/guest/spectrum-init-ppc64le
for a in $arches; do
	init=build/guest/spectrum-init
	[[ $a == x86_64 ]] || init=build/guest/spectrum-init-$a
	bash scripts/build-kernel.sh "$a" "$init"
done
