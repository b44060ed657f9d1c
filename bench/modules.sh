#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What loading only the modules a guest needs saves: the same minimal QEMU
# boot as the floor of start-latency.sh (same kernel, base initramfs, image),
# once with the guest configuration spectrum writes for a plain instance
# (base modules only) and once with every module group named (ext4, share,
# net, pmem, usb, vsock: what each guest loaded before module groups).
# Alternated in one run; prints each median and their ratio.
#
#   bash bench/modules.sh [RUNS]      (default 7; needs scripts/setup.sh first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
runs=${1:-7}
state=$(realpath -m -- "${SPECTRUM_STATE_DIR:-/var/lib/spectrum}") # spectrum wants it absolute
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cfg=bench/bench.json
marker=spectrum-bench-marker

need_image

# initrd NAME [GROUP...]: the base initramfs plus the plan's guest
# configuration, with a "modules GROUP" line for each GROUP after "root".
initrd() {
	local name=$1 g
	shift
	mkdir -p "$tmp/$name/spectrum"
	SPECTRUM_STATE_DIR=$state build/spectrum plan $cfg hello --guest 2>/dev/null |
		grep -v '^#' >"$tmp/$name/base"
	{
		sed -n '1,/^root /p' "$tmp/$name/base"
		for g in "$@"; do echo "modules $g"; done
		sed '1,/^root /d' "$tmp/$name/base"
	} >"$tmp/$name/spectrum/config"
	cp "$state/kernels/x86_64/initrd.img" "$tmp/$name.img"
	truncate -s %4 "$tmp/$name.img"
	(cd "$tmp/$name" && find spectrum | sort | cpio --quiet -o -H newc -R 0:0) >>"$tmp/$name.img"
}
initrd needed
initrd all ext4 share net pmem usb vsock

tsc=$(SPECTRUM_STATE_DIR=$state build/spectrum plan $cfg hello --argv 2>/dev/null |
	grep -o 'tsc_early_khz=[0-9]*' || true)
qemu() { # qemu INITRD
	qemu-system-x86_64 -M microvm -accel tcg -m 128 -smp 1 -nodefaults -no-user-config \
		-nographic -no-reboot -kernel "$state/kernels/x86_64/vmlinux" -initrd "$1" \
		-append "console=ttyS0 loglevel=3 panic=-1 $tsc" -serial stdio \
		-drive "id=root,file=$state/images/test-x86.erofs,format=raw,if=none,readonly=on" \
		-device virtio-blk-device,drive=root,serial=root \
		-chardev "file,id=ctl,path=$tmp/control.out" -device virtio-serial-device \
		-device virtserialport,chardev=ctl,name=spectrum.control
}


: >"$tmp/needed.ms"
: >"$tmp/all.ms"
for ((i = 1; i <= runs; i++)); do
	time_to_marker qemu "$tmp/needed.img" >>"$tmp/needed.ms"
	time_to_marker qemu "$tmp/all.img" >>"$tmp/all.ms"
done
n=$(median <"$tmp/needed.ms")
a=$(median <"$tmp/all.ms")
nb=$(zcat "$state/kernels/x86_64/initrd.img" | cpio --quiet -i --to-stdout etc/spectrum/modules 2>/dev/null | wc -l)
echo "boot to the application's first line, median of $runs (TCG):"
echo "  base modules only ($nb)   $n ms   [$(tr '\n' ' ' <"$tmp/needed.ms")]"
echo "  every group too        $a ms   [$(tr '\n' ' ' <"$tmp/all.ms")]"
awk -v n="$n" -v a="$a" 'BEGIN {printf "  ratio                  %.2f (%d ms saved)\n", n / a, a - n}'
