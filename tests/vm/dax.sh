#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shareRoot: two instances of one image at once, the root mapped through
# DAX, on x86_64 (q35, virtio-pmem) and on ppc64le (pseries, spapr-nvdimm).
# Inside, / is EROFS mounted with dax; on the host the image's pages are
# shared by the two VMMs (the sum of their PSS for the mapping is about
# half the sum of their RSS); a write to / fails in the guest and the image
# is unchanged.  x86_64 boots the kernel SPECTRUM_KERNEL names; ppc64le
# always Spectrum's (Debian's ppc64el kernel has no PAPR SCM driver), and
# is skipped if it is not built.  TAP.
#
#   dax.sh BUILD_DIR SOURCE_ROOT     (after the VM test: its kernels, image)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
export SPECTRUM_STATE_DIR=$build/vm-state
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-dax.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR"
# A uid range of its own: the VM suites may run side by side.
export SPECTRUM_VMM_UID_BASE=${SPECTRUM_VMM_UID_BASE:-1441792}
tmp=$(mktemp -d)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp" "$SPECTRUM_RUN_DIR"
}
trap cleanup EXIT INT TERM
. "$src/tests/tap.sh"
: >"$tmp/out"

# The same pair on each architecture: a command that shows the root's
# mount, tries to write it and reads every program (so that both guests
# map the same pages of the image), then idles.
command='"command": ["/bin/sh", "-c", "grep '"'"' / '"'"' /proc/mounts; echo x > /written; echo root-write=$?; cat /bin/* >/dev/null; echo dax-ready; exec sleep 600"]'
cat >"$tmp/dax.json" <<JSON
{"version": 1,
 "applications": {
   "dax": {"image": "test-x86", "memory": "128M", $command},
   "dax-ppc": {"image": "test-ppc64le", "arch": "ppc64le", "memory": "256M", $command}},
 "instances": {
   "dax1": {"application": "dax", "shareRoot": true},
   "dax2": {"application": "dax", "shareRoot": true},
   "dax-ppc1": {"application": "dax-ppc", "shareRoot": true},
   "dax-ppc2": {"application": "dax-ppc", "shareRoot": true}}}
JSON

# mapping PID FILE FIELD: kB of FIELD (Rss, Pss) in PID's mappings of FILE
# (smaps names it by its real path).
mapping() {
	awk -v file="$(realpath "$2")" -v f="$3:" '
		/^[0-9a-f]+-[0-9a-f]+ / { inside = ($NF == file) }
		inside && $1 == f { kb += $2 }
		END { print kb + 0 }' "/proc/$1/smaps"
}

# pair ARCH INSTANCE QEMU IMAGE MAPPED: runs INSTANCE1 and INSTANCE2 at
# once and checks them; MAPPED is the file the VMMs map (on x86 the image
# itself; on ppc64le root's labelled file around it).
pair() {
	local arch=$1 inst=$2 qemu=$3 img=$4 mapped=$5 before i q ready rss pss
	vmm_uid=
	before=$(sha256sum <"$img")
	for i in 1 2; do
		"$spectrum" run "$tmp/dax.json" "$inst$i" --timeout 600 >"$tmp/$inst$i.out" 2>&1 </dev/null &
		pids+=($!)
	done
	ready=0
	for _ in $(seq 3000); do
		if grep -q dax-ready "$tmp/${inst}1.out" && grep -q dax-ready "$tmp/${inst}2.out"; then
			ready=1
			break
		fi
		sleep 0.1
	done
	cat "$tmp/${inst}1.out" "$tmp/${inst}2.out" >"$tmp/out"
	check "$arch: two instances with shareRoot run at once" [ "$ready" = 1 ]
	check "$arch: the root is EROFS mounted with DAX in each" \
		eval '[ "$(grep -c "^/dev/pmem0 / erofs .*dax" "$tmp/out")" = 2 ]'
	check "$arch: a write to / fails in each" eval '[ "$(grep -c "^root-write=[1-9]" "$tmp/out")" = 2 ]'
	rss=0
	pss=0
	for i in 1 2; do
		q=$(pgrep -f "^$qemu -name $inst$i " | head -n 1)
		[ -n "$q" ] && [ -n "$mapped" ] || continue
		vmm_uid=$(stat -c %u "/proc/$q")
		rss=$((rss + $(mapping "$q" "$mapped" Rss)))
		pss=$((pss + $(mapping "$q" "$mapped" Pss)))
	done
	echo "$arch: mapping of $(basename "$mapped"): RSS $rss kB, PSS $pss kB (two VMMs)" >"$tmp/out"
	sed 's/^/# /' "$tmp/out"
	check "$arch: the image's pages are shared by the two VMMs (PSS <= 0.6 x RSS)" \
		eval '[ "$rss" -gt 0 ] && [ $((pss * 10)) -le $((rss * 6)) ]'
	for i in "${pids[@]}"; do
		kill "$i" 2>/dev/null
	done
	wait 2>/dev/null
	pids=()
	check "$arch: the image is unchanged on the host" [ "$(sha256sum <"$img")" = "$before" ]
}

# cannot_write UID FILE: UID can neither append to FILE nor create a file
# in its directory.
cannot_write() {
	! setpriv --reuid="$1" --regid="$1" --clear-groups \
		sh -c 'true >>"$1" || mktemp -p "${1%/*}"' - "$2" >/dev/null 2>&1
}

img=$SPECTRUM_STATE_DIR/images/test-x86.erofs
if [ ! -f "$img" ]; then
	echo "1..0 # SKIP no test image (run the VM test first)"
	exit 0
fi
pair x86_64 dax qemu-system-x86_64 "$img" "$img"

# ppc64le: spapr-nvdimm (PAPR SCM), which only Spectrum's kernel drives;
# the VMMs map root's file that wraps the image in namespace labels and an
# fsdax info block (lib/pmem.h), made when the first instance starts.
img=$SPECTRUM_STATE_DIR/images/test-ppc64le.erofs
if [ ! -f "$SPECTRUM_STATE_DIR/kernels/spectrum-ppc64le/vmlinux" ] || [ ! -f "$img" ]; then
	echo "ok $((n + 1)) - ppc64le shareRoot # SKIP Spectrum's ppc64le kernel or the ppc64le test image is not built (SPECTRUM_KERNEL=spectrum scripts/setup.sh)"
	n=$((n + 1))
else
	pmem=$SPECTRUM_STATE_DIR/pmem/$(sha256sum <"$img" | cut -d' ' -f1).pmem
	# Made afresh by the two instances at once: they must still map one
	# file (the first made; a VMM that kept a replaced copy would share
	# nothing).
	rm -f "$pmem"
	SPECTRUM_KERNEL=spectrum pair ppc64le dax-ppc qemu-system-ppc64 "$img" "$pmem"
	ls -l "$pmem" >"$tmp/out" 2>&1
	check "ppc64le: root's file is named by the image's hash, mode 0444, root's" \
		eval '[ "$(stat -c %a:%u "$pmem")" = 444:0 ]'
	check "ppc64le: the VMM's uid ($vmm_uid) can neither write it nor add a file beside it" \
		eval '[ "${vmm_uid:-0}" != 0 ] && cannot_write "$vmm_uid" "$pmem"'
	check "ppc64le: the image is in it byte for byte at 2 MiB" \
		cmp -s -n "$(stat -c %s "$img")" "$img" <(tail -c +$((2 * 1024 * 1024 + 1)) "$pmem")
fi
tap_end
