#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Runs a fuzzer for a bounded time: by default the data file fuzzer;
# SPECTRUM_FUZZER (a path in BUILD_DIR) and SPECTRUM_FUZZ_CORPUS (a source
# directory) choose another, such as guest/fuzz_gconfig with
# guest/fuzz-corpus.
#
#   bash tests/fuzz/run.sh BUILD_DIR SECONDS
#
# BUILD_DIR was configured with CC=clang and -Dfuzz=true.  The checked-in
# seed corpus is copied to a temporary directory, so fuzzing never changes
# it.  Exits non-zero if the fuzzer finds a crash, a leak, undefined
# behaviour, a timeout or an out-of-memory; the input that triggered it is
# kept in BUILD_DIR/fuzz-artifacts/.
set -euo pipefail

if [[ $# -ne 2 || ! $2 =~ ^[0-9]+$ || $2 -lt 1 ]]; then
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
fi
build_dir=$1
seconds=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fuzzer=$build_dir/${SPECTRUM_FUZZER:-tests/fuzz/fuzz_config}
corpus=${SPECTRUM_FUZZ_CORPUS:-$here/corpus}
dict=()
if [[ -z ${SPECTRUM_FUZZER:-} ]]; then
	dict=(-dict="$here/json.dict")
fi

if [[ ! -x $fuzzer ]]; then
	echo "$0: $fuzzer not found: configure with CC=clang meson setup -Dfuzz=true $build_dir, then ninja -C $build_dir" >&2
	exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/spectrum-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
cp -r "$corpus/." "$work/corpus/"

artifacts=$(cd "$build_dir" && pwd)/fuzz-artifacts
mkdir -p "$artifacts"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

echo "fuzz: $fuzzer for ${seconds}s, corpus of $(find "$work/corpus" -type f | wc -l) seeds"
touch "$work/stamp"
status=0
"$fuzzer" \
	-max_total_time="$seconds" \
	-max_len=65536 \
	-rss_limit_mb=2048 \
	-timeout=25 \
	"${dict[@]}" \
	-artifact_prefix="$artifacts/" \
	-print_final_stats=1 \
	"$work/corpus" >"$work/log" 2>&1 || status=$?

if [[ $status -ne 0 ]]; then
	tail -n 80 "$work/log"
	echo "fuzz: FAILED (fuzzer exit status $status)" >&2
	find "$artifacts" -type f -newer "$work/stamp" | while read -r f; do
		echo "fuzz: input kept: $f" >&2
	done
	exit 1
fi
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' "$work/log" || true
echo "fuzz: ok, $(find "$work/corpus" -type f | wc -l) inputs in the corpus after ${seconds}s"
