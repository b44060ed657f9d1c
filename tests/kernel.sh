#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Spectrum's own guest kernel (scripts/build-kernel.sh).  TAP.
#
#   kernel.sh SOURCE_ROOT STATE_DIR
#       The normal run, about two minutes: both architectures' configurations
#       (tinyconfig + fragments) pass the required-option check; a fragment
#       that lacks a required option stops the build with one line naming
#       it; a stale cache is removed, never reused; and a kernel built in
#       STATE_DIR (by setup or the VM test) has the bytes kernel/sha256sums
#       records for its inputs: a build on another machine at another time
#       gave the same bytes.
#   kernel.sh --double SOURCE_ROOT ARCH...
#       The heavy proof (`ninja -C build kernel-double-build`): builds each
#       ARCH twice from scratch, in different directories, and compares.
set -u
double=0
if [ "${1:-}" = --double ]; then
	double=1
	shift
fi
src=$(cd "$1" && pwd)
shift
build_kernel=$src/scripts/build-kernel.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
: >"$tmp/out"
. "$src/tests/tap.sh"

if [ "$double" = 1 ]; then
	for arch in "$@"; do
		for i in 1 2; do
			mkdir -p "$tmp/t$i/dir-$i"
			start=$(date +%s)
			TMPDIR=$tmp/t$i/dir-$i SPECTRUM_STATE_DIR=$tmp/s$i \
				bash "$build_kernel" "$arch" >"$tmp/out" 2>&1
			check "$arch: build $i ($(($(date +%s) - start)) s)" [ -f "$tmp/s$i/kernels/spectrum-$arch/vmlinux" ]
		done
		check "$arch: two builds give the same bytes" \
			cmp "$tmp/s1/kernels/spectrum-$arch/vmlinux" "$tmp/s2/kernels/spectrum-$arch/vmlinux"
		sha256sum "$tmp/s1/kernels/spectrum-$arch/vmlinux" | sed "s/^/# $arch /"
		rm -rf "$tmp/s1" "$tmp/s2" "$tmp/t1" "$tmp/t2"
	done
	tap_end
	exit
fi
state=$1

# The tree's configuration, each architecture: tinyconfig + fragments +
# olddefconfig satisfies kernel/required.txt.
for arch in x86_64 ppc64le; do
	bash "$build_kernel" --config-only "$arch" "$tmp/cfg-$arch" >"$tmp/out" 2>&1
	check "$arch: the configuration has every required option" [ -s "$tmp/cfg-$arch/config" ]
done
check "x86_64: tickless idle at 100 Hz, PVH, no modules" \
	eval 'grep -qx CONFIG_NO_HZ_IDLE=y "$tmp/cfg-x86_64/config" &&
		grep -qx CONFIG_HZ=100 "$tmp/cfg-x86_64/config" &&
		grep -qx CONFIG_PVH=y "$tmp/cfg-x86_64/config" &&
		! grep -q "^CONFIG_MODULES=y" "$tmp/cfg-x86_64/config"'
check "ppc64le: 4 KiB pages (EROFS DAX), PAPR SCM" \
	eval 'grep -qx CONFIG_PPC_4K_PAGES=y "$tmp/cfg-ppc64le/config" &&
		grep -qx CONFIG_PAPR_SCM=y "$tmp/cfg-ppc64le/config"'

# A fragment that lacks an option a plan needs: one line naming it, at
# configuration time (before anything is compiled).
mkdir -p "$tmp/bad/config"
cp "$src/kernel/required.txt" "$tmp/bad/"
grep -v '^CONFIG_EROFS_FS=' "$src/kernel/config/common.config" >"$tmp/bad/config/common.config"
cp "$src/kernel/config/x86_64.config" "$tmp/bad/config/"
SPECTRUM_KERNEL_CONFIG_DIR=$tmp/bad bash "$build_kernel" --config-only x86_64 "$tmp/cfg-bad" \
	>"$tmp/out" 2>&1
rc=$?
check "a missing required option fails the build (status 1)" [ "$rc" = 1 ]
check "with one line naming the option" \
	eval '[ "$(wc -l <"$tmp/out")" = 1 ] && grep -q "CONFIG_EROFS_FS is not set in the x86_64 kernel configuration" "$tmp/out"'

# A stale kernel (its stamp from other inputs) is removed before the
# rebuild starts, so it can never be used; here the rebuild fails at once
# (the source is not a kernel tree) and nothing is left.
mkdir -p "$tmp/stale/kernels/spectrum-x86_64" "$tmp/notkernel"
echo stale >"$tmp/stale/kernels/spectrum-x86_64/vmlinux"
for f in config version .stamp; do
	echo stale >"$tmp/stale/kernels/spectrum-x86_64/$f"
done
echo hello >"$tmp/notkernel/README"
tar -C "$tmp" -cJf "$tmp/notkernel.tar.xz" notkernel
SPECTRUM_STATE_DIR=$tmp/stale SPECTRUM_KERNEL_SOURCE=$tmp/notkernel.tar.xz \
	bash "$build_kernel" x86_64 >"$tmp/out" 2>&1
rc=$?
check "a stale kernel is not reused: the build runs (and fails here, status 1)" \
	eval '[ "$rc" = 1 ] && grep -q "does not hold a kernel source tree" "$tmp/out"'
check "and the stale kernel is gone" \
	eval '[ ! -e "$tmp/stale/kernels/spectrum-x86_64/vmlinux" ] && [ ! -e "$tmp/stale/kernels/spectrum-x86_64/.stamp" ]'

# Reproducibility against the record: the sha256 of a built kernel is the
# one kernel/sha256sums holds for the same inputs (the sha256 of its stamp).
for arch in x86_64 ppc64le; do
	d=$state/kernels/spectrum-$arch
	if [ ! -f "$d/.stamp" ] || [ ! -f "$d/vmlinux" ]; then
		ok "# SKIP $arch: no kernel built in $state"
		continue
	fi
	key=$(sha256sum <"$d/.stamp" | cut -d' ' -f1)
	want=$(awk -v a="$arch" -v k="$key" '$1 == a && $2 == k { print $3 }' "$src/kernel/sha256sums")
	if [ -z "$want" ]; then
		ok "# SKIP $arch: kernel/sha256sums has no record for these inputs ($key)"
		continue
	fi
	have=$(sha256sum <"$d/vmlinux" | cut -d' ' -f1)
	echo "$arch: built $have, recorded $want" >"$tmp/out"
	check "$arch: the built kernel has the recorded bytes" [ "$have" = "$want" ]
done
tap_end
