#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# shareRoot against a root on virtio-blk, on one architecture, with
# Spectrum's kernel (the only one that maps a ppc64le shared root):
#
#   start   `spectrum run` to the application's first line, shared vs
#           unshared, alternated after a warm-up (bench/lib.sh), median of
#           the paired ratios with their spread;
#   memory  N instances of each kind at once, each of which reads every
#           file of its root once and then idles; SETTLE_S after all are
#           up, the sum of their VMMs' PSS, and how much of it is the
#           mapping of the shared root's file.
#
#   bash bench/share-root.sh [RUNS] [N] [SETTLE_S] [ARCH] [IMAGE]
#                       (defaults 5, 10, 20, ppc64le, the test image)
#
# Needs SPECTRUM_KERNEL=spectrum scripts/setup.sh (kernel and test image).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
runs=${1:-5}
n=${2:-10}
settle=${3:-20}
arch=${4:-ppc64le}
export SPECTRUM_KERNEL=spectrum # the only one that maps a ppc64le shared root
bench_setup spectrum-bench-idle
case $arch in
ppc64le) image=test-ppc64le memory=256M qemu=qemu-system-ppc64 ;;
x86_64) image=test-x86 memory=128M qemu=qemu-system-x86_64 ;;
*) echo "bench: ARCH is ppc64le or x86_64" >&2; exit 2 ;;
esac
image=${5:-$image}
# Reads the whole root, as an application that uses all of it would.
readall='find / -xdev -type f -exec cat {} + >/dev/null 2>/dev/null'

[[ -f $state/kernels/spectrum-$arch/vmlinux && -f $state/images/$image.erofs ]] || {
	echo "bench: needs Spectrum's $arch kernel and the $image image (SPECTRUM_KERNEL=spectrum scripts/setup.sh)" >&2
	exit 1
}

{
	echo "{\"version\": 1, \"applications\": {\"idle\": {\"image\": \"$image\", \"arch\": \"$arch\","
	echo "  \"memory\": \"$memory\", \"command\": [\"/bin/sh\", \"-c\", \"$readall; echo $marker; exec sleep 100000\"]},"
	echo "  \"hello\": {\"image\": \"$image\", \"arch\": \"$arch\","
	echo "  \"memory\": \"$memory\", \"command\": [\"/bin/sh\", \"-c\", \"echo $marker\"]}},"
	echo ' "instances": {'
	for ((i = 1; i <= n; i++)); do
		echo "  \"blk-$i\": {\"application\": \"idle\"},"
		echo "  \"dax-$i\": {\"application\": \"idle\", \"shareRoot\": true},"
	done
	echo '  "hello-blk": {"application": "hello"}, "hello-dax": {"application": "hello", "shareRoot": true}'
	echo '}}'
} >"$tmp/idle.json"

# The file a shared root maps: the image on x86_64, root's labelled file
# around it on ppc64le (lib/pmem.h).
mapped=$state/images/$image.erofs
if [[ $arch == ppc64le ]]; then
	mapped=$state/pmem/$(sha256sum <"$mapped" | cut -d' ' -f1).pmem
fi

echo "shareRoot, $arch, Spectrum's kernel, TCG, $memory guests, image $image ($(($(stat -L -c %s "$state/images/$image.erofs") >> 20)) MiB)"
alternate "$runs" "$tmp/dax.ms" "$tmp/blk.ms" \
	build/spectrum run "$tmp/idle.json" hello-dax --timeout 120 -- \
	build/spectrum run "$tmp/idle.json" hello-blk --timeout 120
printf '  start: shareRoot %s ms, virtio-blk %s ms (medians of %d); ratio %s\n' \
	"$(median <"$tmp/dax.ms")" "$(median <"$tmp/blk.ms")" "$runs" \
	"$(paired "$tmp/dax.ms" "$tmp/blk.ms")"

# smaps_sum PID FILE FIELD: kB of FIELD in PID's mappings of FILE.
smaps_sum() {
	awk -v file="$2" -v f="$3:" '
		/^[0-9a-f]+-[0-9a-f]+ / { inside = ($NF == file) }
		inside && $1 == f { kb += $2 }
		END { print kb + 0 }' "/proc/$1/smaps" 2>/dev/null || echo 0
}

# variant PREFIX: N instances PREFIX-1..N at once, then their PSS.
variant() {
	local prefix=$1 i p pss=0 root=0 pids
	: >"$tmp/out"
	for ((i = 1; i <= n; i++)); do
		build/spectrum run "$tmp/idle.json" "$prefix-$i" --timeout 900 >>"$tmp/out" 2>&1 </dev/null &
		bg+=($!)
	done
	for _ in $(seq 4500); do
		(($(grep -c "$marker" "$tmp/out") >= n)) && break
		sleep 0.2
	done
	sleep "$settle"
	mapfile -t pids < <(pgrep -f -- "^$qemu -name $prefix-")
	for p in "${pids[@]}"; do
		pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")))
		root=$((root + $(smaps_sum "$p" "$(realpath -m "$mapped")" Pss)))
	done
	awk -v l="$prefix" -v k="${#pids[@]}" -v up="$(grep -c "$marker" "$tmp/out")" -v pss="$pss" -v root="$root" \
		'BEGIN { printf "  %-10s %2d VMMs (%d up)  PSS %5.0f MiB (%3.0f each), of it the root mapping %.1f MiB\n",
			l == "dax" ? "shareRoot" : "virtio-blk", k, up, pss / 1024, k ? pss / 1024 / k : 0, root / 1024 }'
	stop_all
}
((n > 0)) || exit 0
variant blk
variant dax
