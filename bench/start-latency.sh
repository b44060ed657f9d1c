#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Start latency: the time from `spectrum run` to the application's first
# line of output, against the floor, a hand-written minimal QEMU command
# line booting the same kernel, initramfs and root image.  After one
# warm-up of each, the two are alternated (the first side swapping every
# pair); prints each median and the median of the paired ratios with
# their spread.
#
#   bash bench/start-latency.sh [RUNS]      (default 7; needs scripts/setup.sh first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
runs=${1:-7}
bench_setup spectrum-bench-marker
cfg=bench/bench.json

# The floor boots the very initramfs spectrum would (base + guest config);
# its control port goes to a file, which QEMU opens at once (a null
# chardev never reports the host side open, and init would wait).
mkdir -p "$tmp/cfg/spectrum"
build/spectrum plan $cfg hello --guest 2>/dev/null | grep -v '^#' >"$tmp/cfg/spectrum/config"
cp "$state/kernels/x86_64/initrd.img" "$tmp/initrd.img"
truncate -s %4 "$tmp/initrd.img"
(cd "$tmp/cfg" && find spectrum | sort | cpio --quiet -o -H newc -R 0:0) >>"$tmp/initrd.img"
tsc=$(build/spectrum plan $cfg hello --argv 2>/dev/null | grep -o 'tsc_early_khz=[0-9]*' || true)
floor=(qemu-system-x86_64 -M microvm -accel tcg -m 128 -smp 1 -nodefaults -no-user-config
	-nographic -no-reboot -kernel "$state/kernels/x86_64/vmlinux" -initrd "$tmp/initrd.img"
	-append "console=ttyS0 loglevel=3 panic=-1 $tsc" -serial stdio
	-drive "id=root,file=$state/images/test-x86.erofs,format=raw,if=none,readonly=on"
	-device virtio-blk-device,drive=root,serial=root
	-chardev "file,id=ctl,path=$tmp/control.out" -device virtio-serial-device
	-device virtserialport,chardev=ctl,name=spectrum.control)


alternate "$runs" "$tmp/spectrum.ms" "$tmp/floor.ms" \
	build/spectrum run $cfg hello --timeout 120 -- "${floor[@]}"
s=$(median <"$tmp/spectrum.ms")
f=$(median <"$tmp/floor.ms")
accel=$(build/spectrum plan $cfg hello 2>/dev/null | sed -n 's/.*(x86_64, \([a-z]*\)).*/\1/p')
echo "start latency to the application's first line, median of $runs ($accel):"
echo "  spectrum run       $s ms   [$(tr '\n' ' ' <"$tmp/spectrum.ms")]"
echo "  minimal qemu       $f ms   [$(tr '\n' ' ' <"$tmp/floor.ms")]"
echo "  ratio              $(paired "$tmp/spectrum.ms" "$tmp/floor.ms")   (median of paired ratios)"
