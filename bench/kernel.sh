#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Spectrum's guest kernel against Debian's, same image, same guest
# configuration:
#
#   start   `spectrum run` to the application's first line, SPECTRUM_KERNEL=
#           spectrum vs debian, alternated after a warm-up (bench/lib.sh),
#           median of the paired ratios with their spread;
#   memory  the smallest guest RAM (MiB) each kernel boots the application
#           in BOOTS times out of BOOTS, from a minimal QEMU command line
#           (the data file takes 64M and up; Debian's kernel needs 96M), found by bisection to 8 MiB.
#
#   bash bench/kernel.sh [RUNS] [BOOTS] [ARCH...]   (defaults 7, 5, x86_64 ppc64le)
#
# Needs both kernels: scripts/setup.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
runs=${1:-7}
boots=${2:-5}
shift $(($# > 2 ? 2 : $#))
arches=("$@")
((${#arches[@]})) || arches=(x86_64 ppc64le)
bench_setup spectrum-bench-marker

cat >"$tmp/kernel.json" <<'JSON'
{"version": 1,
 "applications": {
   "hello-x86-64": {"image": "test-x86", "command": ["/bin/sh", "-c", "echo spectrum-bench-marker"], "memory": "128M"},
   "hello-ppc64le": {"image": "test-ppc64le", "arch": "ppc64le", "command": ["/bin/sh", "-c", "echo spectrum-bench-marker"], "memory": "256M"}},
 "instances": {
   "hello-x86-64": {"application": "hello-x86-64"},
   "hello-ppc64le": {"application": "hello-ppc64le"}}}
JSON

# floor ARCH KERNEL_DIR MIB: a minimal QEMU command line booting the base
# initramfs of KERNEL_DIR plus the instance's guest configuration.
floor() {
	local arch=$1 kdir=$2 mib=$3 initrd=$tmp/initrd-$arch-${2##*/}.img
	if [[ ! -f $initrd ]]; then
		mkdir -p "$tmp/cfg/spectrum"
		build/spectrum plan "$tmp/kernel.json" "hello-${arch/_/-}" --guest 2>/dev/null |
			grep -v '^#' >"$tmp/cfg/spectrum/config"
		cp "$kdir/initrd.img" "$initrd"
		truncate -s %4 "$initrd"
		(cd "$tmp/cfg" && find spectrum | sort | cpio --quiet -o -H newc -R 0:0) >>"$initrd"
	fi
	case $arch in
	x86_64)
		echo qemu-system-x86_64 -M microvm -accel tcg -m "$mib" -smp 1 -nodefaults \
			-no-user-config -nographic -no-reboot -kernel "$kdir/vmlinux" -initrd "$initrd" \
			-append "'console=ttyS0 loglevel=3 panic=-1 $tsc'" -serial stdio \
			-drive "id=root,file=$state/images/test-x86.erofs,format=raw,if=none,readonly=on" \
			-device virtio-blk-device,drive=root,serial=root \
			-chardev "file,id=ctl,path=$tmp/control.out" -device virtio-serial-device \
			-device virtserialport,chardev=ctl,name=spectrum.control
		;;
	ppc64le)
		echo qemu-system-ppc64 -M pseries,x-vof=on -cpu POWER9 -accel tcg -m "$mib" -smp 1 \
			-nodefaults -no-user-config -nographic -no-reboot -kernel "$kdir/vmlinux" \
			-initrd "$initrd" -append "'console=hvc0 loglevel=3 panic=-1'" -serial stdio \
			-drive "id=root,file=$state/images/test-ppc64le.erofs,format=raw,if=none,readonly=on" \
			-device virtio-blk-pci,drive=root,serial=root \
			-chardev "file,id=ctl,path=$tmp/control.out" -device virtio-serial-pci \
			-device virtserialport,chardev=ctl,name=spectrum.control
		;;
	esac
}

# boots_in ARCH KERNEL_DIR MIB: all of BOOTS boots print the marker.
boots_in() {
	local i cmd
	cmd=$(floor "$1" "$2" "$3")
	for ((i = 0; i < boots; i++)); do
		timeout 120 bash -c "$cmd" </dev/null 2>/dev/null | grep -q "$marker" || return 1
	done
}

# min_memory ARCH KERNEL_DIR: the smallest MiB that boots BOOTS times out of
# BOOTS, by bisection between 16 (assumed too small) and 512, to 8 MiB
# (x86_64) or 256 MiB (ppc64le: pseries gives RAM in 256 MiB blocks and
# refuses other sizes).
min_memory() {
	local lo=16 hi=512 mid step=8
	[[ $1 == ppc64le ]] && lo=0 step=256
	boots_in "$1" "$2" "$hi" || { echo "none"; return; }
	while ((hi - lo > step)); do
		mid=$(((lo + hi) / 2 / step * step))
		if boots_in "$1" "$2" "$mid"; then
			hi=$mid
		else
			lo=$mid
		fi
	done
	echo "$hi"
}

tsc=$(build/spectrum plan bench/bench.json hello --argv 2>/dev/null | grep -o 'tsc_early_khz=[0-9]*' || true)
for arch in "${arches[@]}"; do
	image=test-x86
	[[ $arch == ppc64le ]] && image=test-ppc64le
	if [[ ! -f $state/images/$image.erofs ]]; then
		SPECTRUM_STATE_DIR=$state build/spectrum-image build -a "$arch" -n "$image" \
			-p busybox-static -d tests/vm/root >/dev/null
	fi
	ours=$state/kernels/spectrum-$arch
	debian=$state/kernels/$arch
	for d in "$ours" "$debian"; do
		[[ -f $d/vmlinux ]] || { echo "bench: no $d/vmlinux (scripts/setup.sh)" >&2; exit 1; }
	done
	alternate "$runs" "$tmp/ours.ms" "$tmp/debian.ms" \
		env SPECTRUM_KERNEL=spectrum build/spectrum run "$tmp/kernel.json" "hello-${arch/_/-}" --timeout 180 -- \
		env SPECTRUM_KERNEL=debian build/spectrum run "$tmp/kernel.json" "hello-${arch/_/-}" --timeout 180
	echo "$arch: spectrum run to the first line, median of $runs (TCG):"
	echo "  Spectrum's kernel  $(median <"$tmp/ours.ms") ms   [$(tr '\n' ' ' <"$tmp/ours.ms")]"
	echo "  Debian's kernel    $(median <"$tmp/debian.ms") ms   [$(tr '\n' ' ' <"$tmp/debian.ms")]"
	echo "  ratio              $(paired "$tmp/ours.ms" "$tmp/debian.ms")   (median of paired ratios)"
	if ((boots > 0)); then
		echo "$arch: smallest guest memory booted $boots/$boots times:"
		echo "  Spectrum's kernel  $(min_memory "$arch" "$ours") MiB"
		echo "  Debian's kernel    $(min_memory "$arch" "$debian") MiB"
	fi
done
