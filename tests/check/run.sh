#!/bin/sh
# Runs `spectrum check` on every tests/check/cases/NAME.json and compares
# the exit status and the exact output with NAME.expected (first line
# "exit N", then standard error, then standard output).  Prints TAP.
#
#   run.sh SPECTRUM CASEDIR          compare
#   SPECTRUM_UPDATE=1 run.sh ...     rewrite the .expected files
#
# SPECTRUM_EXE_WRAPPER (e.g. qemu-ppc64le-static) runs a cross-built client.
set -u
# meson passes a path relative to the build directory; make it absolute.
spectrum=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cases=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# Plans depend on the host only through these; fix them.
export SPECTRUM_STATE_DIR=/var/lib/spectrum SPECTRUM_RUN_DIR=/run/spectrum
export SPECTRUM_ACCEL=tcg SPECTRUM_TSC_KHZ=2600000 SPECTRUM_VMM_UID_BASE=524288

n=0
fail=0
total=$(ls "$cases"/*.json | wc -l)
echo "1..$total"
for f in "$cases"/*.json; do
	name=$(basename "$f" .json)
	n=$((n + 1))
	# Run from the case directory so messages name the file as "NAME.json".
	(cd "$cases" && ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" check "$name.json" \
		>"$tmp/out" 2>"$tmp/err")
	rc=$?
	{ echo "exit $rc"; cat "$tmp/err" "$tmp/out"; } >"$tmp/got"
	if [ "${SPECTRUM_UPDATE:-}" = 1 ]; then
		cp "$tmp/got" "$cases/$name.expected"
	fi
	if cmp -s "$tmp/got" "$cases/$name.expected"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		diff -u "$cases/$name.expected" "$tmp/got" | sed 's/^/# /'
		fail=$((fail + 1))
	fi
done
[ "$fail" -eq 0 ]
