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

# bench_setup MARKER: what every benchmark that starts VMs does first, so
# that they all run alike and clean up alike.
#   state             the state directory, absolute (spectrum wants it so),
#                     exported as SPECTRUM_STATE_DIR;
#   SPECTRUM_RUN_DIR  a run directory of the benchmark's own, so that its
#                     instances meet no one else's (and never /run/spectrum);
#                     755, as spectrum makes one (lib/rundir.c): the
#                     VMMs' uids pass through it to their instances'
#                     directories;
#   tmp               a scratch directory for data files and outputs;
#   bg                the pids of what the benchmark starts in the
#                     background (see stop_all);
#   marker            the line its applications print once they run;
# an EXIT trap that stops what bg holds and removes both directories
# whenever the benchmark exits (at its end, on an error under set -e, on
# ^C), so that no VMM outlives it; and need_image.
bench_setup() {
	state=$(realpath -m -- "${SPECTRUM_STATE_DIR:-/var/lib/spectrum}")
	export SPECTRUM_STATE_DIR=$state
	export SPECTRUM_RUN_DIR
	SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-bench.XXXXXX)
	chmod 755 "$SPECTRUM_RUN_DIR"
	tmp=$(mktemp -d)
	bg=()
	trap 'stop_all; rm -rf "$tmp" "$SPECTRUM_RUN_DIR"' EXIT
	marker=$1
	need_image
}

# stop_all: kills what bg holds and waits for it, so that the next variant
# of a benchmark measures a machine without the last one's VMMs.  With
# nothing in bg it waits for nothing either: a benchmark that starts no
# VMM in the background leaves its other children alone.
stop_all() {
	local p
	((${#bg[@]})) || return 0
	for p in "${bg[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	bg=()
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

# paired A_FILE B_FILE: the ratios A[i] / B[i] of two runs measured in
# alternation (line i of each is one pair), as "median (min-max, n pairs)".
# Pairs cancel out the machine's slow drifts (other users' load) that make
# two unpaired medians wander; the spread says how far to trust it.
paired() {
	paste -d ' ' "$1" "$2" | awk '$2 > 0 { print $1 / $2 }' | sort -g |
		awk '{ r[NR] = $1 } END {
			if (NR == 0) { print "no pairs"; exit }
			m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
			printf "%.2f (%.2f-%.2f, %d pairs)\n", m, r[1], r[NR], NR }'
}

# alternate RUNS A_OUT B_OUT CMD_A -- CMD_B: one warm-up of each (not
# counted: caches, first-use costs), then RUNS pairs, the side that goes
# first swapping every pair (ABBA) so neither always runs on a warmer
# machine; each side's milliseconds to $marker, one a line.
alternate() {
	local runs=$1 a_out=$2 b_out=$3 i
	shift 3
	local -a a=() b=()
	while [[ $1 != -- ]]; do
		a+=("$1")
		shift
	done
	shift
	b=("$@")
	time_to_marker "${a[@]}" >/dev/null
	time_to_marker "${b[@]}" >/dev/null
	: >"$a_out"
	: >"$b_out"
	for ((i = 1; i <= runs; i++)); do
		if ((i % 2)); then
			time_to_marker "${a[@]}" >>"$a_out"
			time_to_marker "${b[@]}" >>"$b_out"
		else
			time_to_marker "${b[@]}" >>"$b_out"
			time_to_marker "${a[@]}" >>"$a_out"
		fi
	done
}
