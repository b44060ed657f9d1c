#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# shareRoot: two instances of one image at once, the root mapped through
# DAX.  Inside, / is EROFS mounted with dax; on the host the image's pages
# are shared by the two VMMs (the sum of their PSS for the mapping is about
# half the sum of their RSS); a write to / fails in the guest and the image
# is unchanged.  Boots the kernel SPECTRUM_KERNEL names.  TAP.
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

img=$SPECTRUM_STATE_DIR/images/test-x86.erofs
if [ ! -f "$img" ]; then
	echo "1..0 # SKIP no test image (run the VM test first)"
	exit 0
fi
cat >"$tmp/dax.json" <<'JSON'
{"version": 1,
 "applications": {
   "dax": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
     "grep ' / ' /proc/mounts; echo x > /written; echo root-write=$?; cat /bin/* >/dev/null; echo dax-ready; exec sleep 600"]},
   "dax-ppc": {"image": "test-ppc64le", "arch": "ppc64le", "memory": "256M", "command": ["/bin/true"]}},
 "instances": {
   "dax1": {"application": "dax", "shareRoot": true},
   "dax2": {"application": "dax", "shareRoot": true},
   "dax-ppc": {"application": "dax-ppc", "shareRoot": true}}}
JSON
before=$(sha256sum <"$img")

# mapping PID FIELD: kB of FIELD (Rss, Pss) in PID's mappings of the image
# (smaps names it by its real path).
mapping() {
	awk -v img="$(realpath "$img")" -v f="$2:" '
		/^[0-9a-f]+-[0-9a-f]+ / { inside = ($NF == img) }
		inside && $1 == f { kb += $2 }
		END { print kb + 0 }' "/proc/$1/smaps"
}

for i in 1 2; do
	"$spectrum" run "$tmp/dax.json" "dax$i" --timeout 300 >"$tmp/dax$i.out" 2>&1 </dev/null &
	pids+=($!)
done
ready=0
for _ in $(seq 1800); do
	if grep -q dax-ready "$tmp/dax1.out" && grep -q dax-ready "$tmp/dax2.out"; then
		ready=1
		break
	fi
	sleep 0.1
done
cat "$tmp/dax1.out" "$tmp/dax2.out" >"$tmp/out"
check "two instances with shareRoot run at once" [ "$ready" = 1 ]
check "the root is EROFS mounted with DAX in each" \
	eval '[ "$(grep -c "^/dev/pmem0 / erofs .*dax" "$tmp/out")" = 2 ]'
check "a write to / fails in each" eval '[ "$(grep -c "^root-write=[1-9]" "$tmp/out")" = 2 ]'
rss=0
pss=0
for i in 1 2; do
	q=$(pgrep -f "^qemu-system-x86_64 -name dax$i " | head -n 1)
	[ -n "$q" ] || continue
	rss=$((rss + $(mapping "$q" Rss)))
	pss=$((pss + $(mapping "$q" Pss)))
done
echo "image mapping: RSS $rss kB, PSS $pss kB (two VMMs)" >"$tmp/out"
sed 's/^/# /' "$tmp/out"
check "the image's pages are shared by the two VMMs (PSS <= 0.6 x RSS)" \
	eval '[ "$rss" -gt 0 ] && [ $((pss * 10)) -le $((rss * 6)) ]'
for p in "${pids[@]}"; do
	kill "$p" 2>/dev/null
done
wait 2>/dev/null
pids=()
check "the image is unchanged on the host" [ "$(sha256sum <"$img")" = "$before" ]

# ppc64le: QEMU 7.2's pseries has spapr-nvdimm only, whose namespace the
# guest finds through labels the image does not carry yet: refused, with
# the reason, before anything starts.
"$spectrum" run "$tmp/dax.json" dax-ppc --timeout 60 >"$tmp/out" 2>&1 </dev/null
rc=$?
check "ppc64le: shareRoot is refused with one line (status 1)" \
	eval '[ "$rc" = 1 ] && [ "$(wc -l <"$tmp/out")" = 1 ] && grep -q "shareRoot is not available for ppc64le" "$tmp/out"'
tap_end
