#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The data file's smallest memory (64M), proven on Spectrum's kernel: boots
# the demo's report application (examples/demo.json: its image, its
# command) N times in 64 MiB and counts the boots that ran it to its end.
# TAP: one check per boot, the count on the last line.
#
#   min-memory.sh BUILD_DIR SOURCE_ROOT [N]     (N = 50 by default)
#
# Suite heavy, not in the test command (about N x 5 s under TCG):
#   meson test -C build --setup heavy --suite heavy
# SPECTRUM_MIN_MEMORY (default 64M) tries another size.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
boots=${3:-50}
mem=${SPECTRUM_MIN_MEMORY:-64M}
export SPECTRUM_STATE_DIR=$build/vm-state
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-minmem.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$SPECTRUM_RUN_DIR"' EXIT INT TERM
. "$src/tests/tap.sh"
. "$src/tests/vm/kernels.sh"

demo=$src/examples/demo
if ! { mkdir -p "$SPECTRUM_STATE_DIR" && setup_kernels "$src" "$build" x86_64 &&
	"$build/spectrum-image" build -n demo-report -p busybox-static -p jq \
		-d "$demo/common" -d "$demo/report"; } >"$tmp/setup" 2>&1; then
	echo "1..1"
	echo "not ok 1 - set up the kernel and the demo's report image"
	sed 's/^/# /' "$tmp/setup"
	exit 1
fi
cat >"$tmp/min.json" <<JSON
{"applications": {"report": {"image": "demo-report", "command": ["/usr/bin/demo-report"],
                             "memory": "$mem"}},
 "instances": {"report": {"application": "report"}}}
JSON

good=0
for i in $(seq "$boots"); do
	"$build/spectrum" run "$tmp/min.json" report --timeout 180 >"$tmp/out" 2>&1 </dev/null
	rc=$?
	if [ "$rc" = 0 ] && grep -q "read-only$" "$tmp/out"; then
		good=$((good + 1))
		ok "boot $i in $mem: the application ran to its end"
	else
		not_ok "boot $i in $mem: status $rc"
		sed 's/^/# /' "$tmp/out" | tail -n 5
	fi
done
echo "# $good of $boots boots in $mem ran the demo's report application to its end"
tap_end
