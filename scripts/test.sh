#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test command of the project.  From a fresh clone on Debian 12:
#
#   sudo bash scripts/test.sh
#
# Stages, each in its own build directory:
#   deps     scripts/deps.sh (installs what is missing; needs root then)
#   native   build/          gcc, --werror, Spectrum's guest kernels for
#                            x86_64 and ppc64le (scripts/build-kernel.sh,
#                            cached in build/vm-state), meson test
#                            (spectrum-settings required: its
#                            accessibility-driven test, suite gui, runs
#                            under Xvfb)
#   asan     build-asan/     gcc, AddressSanitizer + UBSan, meson test
#                            (no --werror: GCC's warnings give false
#                            positives under -fsanitize)
#   ppc64le  build-ppc64le/  cross gcc, static, meson test under qemu-user
#   fuzz     build-fuzz/     clang + libFuzzer, tests/fuzz/run.sh for
#                            ${SPECTRUM_FUZZ_SECONDS:-60} seconds
#
# SPECTRUM_STAGES="asan fuzz" runs only the stages named.
#
# Every stage runs even if an earlier one failed.  The last line printed is
# the sum over all stages: "N passed, N failed" (", N skipped" when some
# were); the fuzz stage counts as one test, and a stage that fails before
# its tests run (a configure or build error) counts as one failure.  Exits
# non-zero if anything failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

fuzz_seconds=${SPECTRUM_FUZZ_SECONDS:-60}
stages=${SPECTRUM_STAGES:-deps native asan ppc64le fuzz}

total_pass=0
total_fail=0
total_skip=0
stage_report=()

header() {
	echo
	echo "=================================================================="
	echo "== $*"
	echo "=================================================================="
}

# configure DIR ARGS...: meson setup, or reconfigure when DIR is already a
# build directory.
configure() {
	local dir=$1
	shift
	if [[ -f $dir/meson-private/coredata.dat ]]; then
		meson setup --reconfigure "$@" "$dir"
	else
		meson setup "$@" "$dir"
	fi
}

# run_meson_tests DIR [MESON TEST ARGS...]: runs the tests, then adds the
# results recorded in DIR/meson-logs/testlog.json to the stage's counts.
run_meson_tests() {
	local dir=$1 rc=0 counts
	shift
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	if [[ -f $dir/meson-logs/testlog.json ]]; then
		counts=$(jq -rs '[
			(map(select(.result == "OK" or .result == "EXPECTEDFAIL")) | length),
			(map(select(.result == "FAIL" or .result == "TIMEOUT" or .result == "ERROR"
				or .result == "UNEXPECTEDPASS")) | length),
			(map(select(.result == "SKIP")) | length)
		] | @tsv' "$dir/meson-logs/testlog.json")
		read -r stage_pass stage_fail stage_skip <<<"$counts"
	fi
	# meson test failed without recording a failed test (a build error,
	# no test log): that is one failure.
	if [[ $rc -ne 0 && $stage_fail -eq 0 ]]; then
		stage_fail=1
	fi
	echo "-- $dir: $stage_pass passed, $stage_fail failed, $stage_skip skipped"
}

stage_deps() {
	bash scripts/deps.sh
	echo "-- dependencies installed"
}

# Spectrum's guest kernels, which every VM suite boots by default, into the
# VM tests' state directory: built from source the first time (about 7
# minutes per architecture on two idle cores), cached by a hash of their
# inputs after.  Built here, outside meson's per-test timeouts.
build_kernels() {
	local arch init start
	for arch in x86_64 ppc64le; do
		init=build/guest/spectrum-init
		[[ $arch == x86_64 ]] || init=build/guest/spectrum-init-$arch
		start=$SECONDS
		SPECTRUM_STATE_DIR=build/vm-state bash scripts/build-kernel.sh "$arch" "$init" || return 1
		echo "-- $arch kernel: $((SECONDS - start))s"
	done
}

stage_native() {
	configure build --werror -Dsettings=enabled
	ninja -C build
	# A failed kernel build fails the stage; the tests still run (the VM
	# tests then name what is missing).
	local kernels_failed=0
	build_kernels || kernels_failed=1
	run_meson_tests build
	stage_fail=$((stage_fail + kernels_failed))
}

stage_asan() {
	configure build-asan -Dwerror=false -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C build-asan
	export ASAN_OPTIONS=detect_leaks=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	run_meson_tests build-asan --timeout-multiplier 3
}

stage_ppc64le() {
	configure build-ppc64le --werror --cross-file cross/ppc64le.txt
	ninja -C build-ppc64le
	# Tests run under qemu-ppc64le-static (the cross file's exe_wrapper).
	run_meson_tests build-ppc64le --timeout-multiplier 4
}

stage_fuzz() {
	# The compiler of a build directory is fixed when it is created.
	if [[ -f build-fuzz/meson-private/coredata.dat ]] &&
		[[ $(meson introspect --compilers build-fuzz | jq -r '.host.c.id') != clang ]]; then
		rm -rf build-fuzz
	fi
	export CC=clang
	configure build-fuzz -Dwerror=false -Dfuzz=true
	ninja -C build-fuzz
	# Two untrusted-input parsers: the data file (host) gets two thirds
	# of the time, the guest configuration (spectrum-init) one third.
	if bash tests/fuzz/run.sh build-fuzz $((fuzz_seconds * 2 / 3)); then
		stage_pass=$((stage_pass + 1))
	else
		stage_fail=$((stage_fail + 1))
	fi
	if SPECTRUM_FUZZER=guest/fuzz_gconfig SPECTRUM_FUZZ_CORPUS=guest/fuzz-corpus \
		bash tests/fuzz/run.sh build-fuzz $((fuzz_seconds / 3 + 1)); then
		stage_pass=$((stage_pass + 1))
	else
		stage_fail=$((stage_fail + 1))
	fi
	# The control protocol's decoder: fixed sizes, so a short run covers it.
	# A guest's console, read for a kernel's panic line.
	if SPECTRUM_FUZZER=tests/fuzz/fuzz_panic SPECTRUM_FUZZ_CORPUS=tests/fuzz/panic-corpus \
		bash tests/fuzz/run.sh build-fuzz 10; then
		stage_pass=$((stage_pass + 1))
	else
		stage_fail=$((stage_fail + 1))
	fi
	if SPECTRUM_FUZZER=tests/fuzz/fuzz_proto SPECTRUM_FUZZ_CORPUS=tests/fuzz/proto-corpus \
		bash tests/fuzz/run.sh build-fuzz 10; then
		stage_pass=$((stage_pass + 1))
	else
		stage_fail=$((stage_fail + 1))
	fi
	# spectrum-wlfilter: a guest's Wayland stream and the compositor's.
	if SPECTRUM_FUZZER=tests/fuzz/fuzz_wlfilter SPECTRUM_FUZZ_CORPUS=tests/fuzz/wlfilter-corpus \
		bash tests/fuzz/run.sh build-fuzz 10; then
		stage_pass=$((stage_pass + 1))
	else
		stage_fail=$((stage_fail + 1))
	fi
	# The guest's control lines, as the host parses them: short lines.
	if SPECTRUM_FUZZER=tests/fuzz/fuzz_guestline SPECTRUM_FUZZ_CORPUS=tests/fuzz/guestline-corpus \
		bash tests/fuzz/run.sh build-fuzz 10; then
		stage_pass=$((stage_pass + 1))
	else
		stage_fail=$((stage_fail + 1))
	fi
}

# run_stage NAME DESCRIPTION: runs stage_NAME in a subshell with errexit in
# force (a failing command ends the stage, not the script) and adds its
# counts to the totals.
run_stage() {
	local name=$1 desc=$2 start rc counts_file
	[[ " $stages " == *" $name "* ]] || return 0
	header "$name: $desc"
	start=$SECONDS
	counts_file=$(mktemp)
	set +e
	(
		set -e
		stage_pass=0 stage_fail=0 stage_skip=0
		trap 'echo "$stage_pass $stage_fail $stage_skip" >"$counts_file"' EXIT
		"stage_$name"
	)
	rc=$?
	set -e
	local p=0 f=0 s=0
	if [[ -s $counts_file ]]; then
		read -r p f s <"$counts_file"
	fi
	rm -f "$counts_file"
	# A stage that stopped on an error counts as (at least) one failure.
	if [[ $rc -ne 0 && $f -eq 0 ]]; then
		f=1
	fi
	local status=ok
	[[ $f -eq 0 ]] || status=FAILED
	local elapsed=$((SECONDS - start))
	echo "-- $name: $status in ${elapsed}s ($p passed, $f failed, $s skipped)"
	stage_report+=("$(printf '%-8s %-6s %5ss  %s passed, %s failed, %s skipped' \
		"$name" "$status" "$elapsed" "$p" "$f" "$s")")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
}

run_stage deps "install Debian packages (scripts/deps.sh)"
run_stage native "gcc build and tests (build/)"
run_stage asan "AddressSanitizer + UBSan build and tests (build-asan/)"
run_stage ppc64le "ppc64le cross build, tests under qemu-user (build-ppc64le/)"
run_stage fuzz "libFuzzer for ${fuzz_seconds}s (build-fuzz/)"

header "summary"
printf '%s\n' "${stage_report[@]}"
summary="$total_pass passed, $total_fail failed"
if [[ $total_skip -gt 0 ]]; then
	summary+=", $total_skip skipped"
fi
echo "$summary"
[[ $total_fail -eq 0 ]]
