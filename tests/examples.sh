#!/bin/sh
# Every example data file passes `spectrum check` (TAP).
set -u
# meson passes a path relative to the build directory; make it absolute.
spectrum=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
dir=$2
export SPECTRUM_STATE_DIR=/var/lib/spectrum SPECTRUM_RUN_DIR=/run/spectrum SPECTRUM_ACCEL=tcg
n=0
fail=0
echo "1..$(ls "$dir"/*.json | wc -l)"
for f in "$dir"/*.json; do
	n=$((n + 1))
	if out=$(${SPECTRUM_EXE_WRAPPER:-} "$spectrum" check "$f" 2>&1); then
		echo "ok $n - $(basename "$f")"
	else
		echo "not ok $n - $(basename "$f")"
		echo "$out" | sed 's/^/# /'
		fail=$((fail + 1))
	fi
done
[ "$fail" -eq 0 ]
