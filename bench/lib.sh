# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the benchmarks (sourced, not run).

# time_to_marker CMD...: milliseconds from starting CMD to the first line of
# its standard output holding $marker; exits the benchmark if none comes.
time_to_marker() {
	local start end line
	start=$(date +%s%N)
	while IFS= read -r line; do
		if [[ $line == *"$marker"* ]]; then
			end=$(date +%s%N)
			break
		fi
	done < <("$@" 2>/dev/null </dev/null)
	wait || true
	[[ -n ${end:-} ]] || { echo "bench: no output from: $*" >&2; exit 1; }
	echo $(((end - start) / 1000000))
}

# median: of the numbers on standard input, one a line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# need_image: the build, and the test image the benchmarks boot (built into
# $state when missing).
need_image() {
	[[ -x build/spectrum ]] || { echo "bench: run scripts/setup.sh first" >&2; exit 1; }
	if [[ ! -f $state/images/test-x86.erofs ]]; then
		SPECTRUM_STATE_DIR=$state build/spectrum-image build -n test-x86 -p busybox-static \
			-d tests/vm/root >/dev/null
	fi
}
