#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What idle compartments cost the host: N instances of one idle application
# (x86_64, TCG, 128 MiB guests) started with `spectrum run`, then, once all
# are up and have settled, the sum of their VMMs' PSS and the CPU each uses
# over a quiet interval.  One line per variant:
#
#   KERNEL/ROOT   SPECTRUM_KERNEL = debian | spectrum, root on virtio-blk
#                 (unshared) or shareRoot (DAX, one copy in the host's cache)
#
# and, from a minimal QEMU command line with Spectrum's kernel, QEMU knobs
# a plan does not have yet: the TCG translation cache (tb-size, MiB) and a
# virtio-balloon with free page reporting; and the baseline the issue asks
# to beat: "plain QEMU", the same guest (kernel, initramfs, image) under
# QEMU's defaults (machine pc, its default devices and translation cache),
# with Debian's kernel and with Spectrum's.
#
#   bash bench/density.sh [N] [SETTLE_S] [MEASURE_S]   (defaults 10, 20, 30)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
n=${1:-10}
settle=${2:-20}
measure=${3:-30}
bench_setup spectrum-bench-idle
hz=$(getconf CLK_TCK)

# The data file: idle-1..N, unshared and shared.  Each VMM writes to a
# file of its own: ten consoles appending to one file interleave their
# lines.
{
	echo '{"version": 1, "applications": {"idle": {"image": "test-x86", "memory": "128M",'
	echo '  "command": ["/bin/sh", "-c",'
	echo '   "echo spectrum-bench-idle; grep ^Cached: /proc/meminfo; exec sleep 100000"]}},'
	echo ' "instances": {'
	for ((i = 1; i <= n; i++)); do
		echo "  \"idle-$i\": {\"application\": \"idle\"},"
		echo "  \"shared-$i\": {\"application\": \"idle\", \"shareRoot\": true}$( ((i < n)) && echo ,)"
	done
	echo '}}'
} >"$tmp/idle.json"

# measure LABEL PATTERN: once every started VMM printed the marker, wait
# SETTLE_S, then sum PSS over the VMMs whose command line matches PATTERN
# and their CPU over MEASURE_S.
measure() {
	local label=$1 pattern=$2 pids p pss=0 t0=0 t1=0 s
	sleep "$settle"
	mapfile -t pids < <(pgrep -f -- "$pattern")
	for p in "${pids[@]}"; do
		pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")))
		s=$(awk '{ print $14 + $15 }' "/proc/$p/stat")
		t0=$((t0 + s))
	done
	sleep "$measure"
	for p in "${pids[@]}"; do
		s=$(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)
		t1=$((t1 + s))
	done
	awk -v l="$label" -v k="${#pids[@]}" -v pss="$pss" -v dt=$((t1 - t0)) -v hz="$hz" -v m="$measure" \
		'BEGIN { printf "  %-34s %2d VMMs  PSS %5.0f MiB (%3.0f each)  idle CPU %4.2f %% of a core each\n",
			l, k, pss / 1024, k ? pss / 1024 / k : 0, k ? 100 * dt / hz / m / k : 0 }'
}

# wait_marked: until each of the N outputs $tmp/out-* holds the marker
# (every VMM's guest is up), at most 10 minutes.
wait_marked() {
	for _ in $(seq 3000); do
		(($(grep -l "$marker" "$tmp"/out-* | wc -l) >= n)) && return
		sleep 0.2
	done
}

# spectrum_variant KERNEL PREFIX: N instances PREFIX-1..N under KERNEL.
spectrum_variant() {
	local kernel=$1 prefix=$2 i
	rm -f "$tmp"/out-*
	for ((i = 1; i <= n; i++)); do
		SPECTRUM_KERNEL=$kernel build/spectrum run "$tmp/idle.json" "$prefix-$i" --timeout 600 \
			>"$tmp/out-$i" 2>&1 </dev/null &
		bg+=($!)
	done
	wait_marked
	measure "$kernel, $([[ $prefix == shared ]] && echo shareRoot || echo unshared)" \
		"qemu-system-x86_64 -name $prefix-"
	roots "$kernel" "$prefix"
	stop_all
}

# roots KERNEL PREFIX: what the N root file systems cost.  Unshared, each
# guest caches what it read of its root in its own RAM: its page cache
# ("Cached:" at the application's start) less the same figure with
# shareRoot, where root reads bypass the guest's page cache (DAX).  With
# shareRoot the pages are the host's page cache of the image, mapped by
# every VMM: the sum of the PSS of that mapping is one copy.
declare -A cached_kib
roots() {
	local kernel=$1 prefix=$2 p img=0
	cached_kib[$prefix]=$(awk '/^Cached:/ { s += $2; k++ } END { print k ? int(s / k) : 0 }' "$tmp"/out-*)
	if [[ $prefix == shared ]]; then
		for p in $(pgrep -f -- "qemu-system-x86_64 -name $prefix-"); do
			img=$((img + $(awk '/^[0-9a-f]+-[0-9a-f]+ / { f = ($0 ~ /\.erofs/) } f && /^Pss:/ { s += $2 } END { print s + 0 }' "/proc/$p/smaps")))
		done
		awk -v n="$n" -v u="${cached_kib[idle]:-0}" -v s="${cached_kib[shared]}" -v img="$img" -v k="$kernel" \
			'BEGIN { un = n * (u - s); printf "  %-34s roots: unshared %.1f MiB (%d x %.1f MiB in guest caches), shareRoot %.1f MiB (image mapping PSS): %.2fx\n",
				k ", roots of " n, un / 1024, n, (u - s) / 1024, img / 1024, (un > 0 ? img / un : 0) }'
	fi
}

echo "density: $n idle x86_64 instances, 128 MiB, TCG (settle ${settle} s, CPU over ${measure} s)"
for kernel in debian spectrum; do
	[[ -f $state/kernels/$([[ $kernel == spectrum ]] && echo spectrum-)x86_64/vmlinux ]] || continue
	spectrum_variant "$kernel" idle
	spectrum_variant "$kernel" shared
done

# QEMU knobs, from the floor command line (Spectrum's kernel when built).
kdir=$state/kernels/spectrum-x86_64
[[ -f $kdir/vmlinux ]] || kdir=$state/kernels/x86_64
mkdir -p "$tmp/cfg/spectrum"
build/spectrum plan "$tmp/idle.json" idle-1 --guest 2>/dev/null | grep -v '^#' >"$tmp/cfg/spectrum/config"
cp "$kdir/initrd.img" "$tmp/initrd.img"
truncate -s %4 "$tmp/initrd.img"
(cd "$tmp/cfg" && find spectrum | sort | cpio --quiet -o -H newc -R 0:0) >>"$tmp/initrd.img"
tsc=$(build/spectrum plan "$tmp/idle.json" idle-1 --argv 2>/dev/null | grep -o 'tsc_early_khz=[0-9]*' || true)
# floor_variant LABEL ACCEL EXTRA...: N floor VMMs with -accel ACCEL.
floor_variant() {
	local label=$1 accel=$2 i
	shift 2
	rm -f "$tmp"/out-*
	for ((i = 1; i <= n; i++)); do
		qemu-system-x86_64 -name "floor-$i" -M microvm -accel "$accel" -m 128 -smp 1 -nodefaults \
			-no-user-config -nographic -no-reboot -kernel "$kdir/vmlinux" -initrd "$tmp/initrd.img" \
			-append "console=ttyS0 loglevel=3 panic=-1 $tsc" -serial stdio \
			-drive "id=root,file=$state/images/test-x86.erofs,format=raw,if=none,readonly=on" \
			-device virtio-blk-device,drive=root,serial=root \
			-chardev "file,id=ctl,path=$tmp/control-$i.out" -device virtio-serial-device \
			-device virtserialport,chardev=ctl,name=spectrum.control "$@" >"$tmp/out-$i" 2>&1 </dev/null &
		bg+=($!)
	done
	wait_marked
	measure "$label" "qemu-system-x86_64 -name floor-"
	stop_all
}
echo "minimal QEMU, kernel ${kdir##*/}:"
floor_variant "tcg (default tb-size)" tcg
floor_variant "tcg, tb-size=32" tcg,tb-size=32
floor_variant "tcg, tb-size=16" tcg,tb-size=16
floor_variant "virtio-balloon free-page-reporting" tcg \
	-device virtio-balloon-device,free-page-reporting=on

# plain_variant KERNEL_DIR: N VMMs of the same guest under QEMU's defaults:
# the default machine (pc) and devices, only what the guest needs to boot
# and report added (its root disk and control port, on PCI).
plain_variant() {
	local kd=$1 i
	[[ -f $kd/vmlinux || -f $kd/vmlinuz ]] || return 0
	local k=$kd/vmlinux
	[[ -f $k ]] || k=$kd/vmlinuz
	cp "$kd/initrd.img" "$tmp/plain-initrd.img"
	truncate -s %4 "$tmp/plain-initrd.img"
	(cd "$tmp/cfg" && find spectrum | sort | cpio --quiet -o -H newc -R 0:0) >>"$tmp/plain-initrd.img"
	rm -f "$tmp"/out-*
	for ((i = 1; i <= n; i++)); do
		qemu-system-x86_64 -name "plain-$i" -m 128 -nographic -kernel "$k" \
			-initrd "$tmp/plain-initrd.img" -append "console=ttyS0 loglevel=3 panic=-1" \
			-drive "id=root,file=$state/images/test-x86.erofs,format=raw,if=none,readonly=on" \
			-device virtio-blk-pci,drive=root,serial=root \
			-chardev "file,id=ctl,path=$tmp/control-$i.out" -device virtio-serial-pci \
			-device virtserialport,chardev=ctl,name=spectrum.control >"$tmp/out-$i" 2>&1 </dev/null &
		bg+=($!)
	done
	wait_marked
	measure "plain QEMU, kernel ${kd##*/}" "qemu-system-x86_64 -name plain-"
	stop_all
}
echo "plain QEMU (defaults, machine pc, 128 MiB):"
plain_variant "$state/kernels/x86_64"
plain_variant "$state/kernels/spectrum-x86_64"
