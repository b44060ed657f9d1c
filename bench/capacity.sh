#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# How many idle compartments this host holds: idle instances of the
# smallest application (busybox `sleep`, x86_64, TCG) started one after
# another with `spectrum run`, each left running, until one of
#
#   - a start (from `spectrum run` to the application's first line) takes
#     more than 3x the first start,
#   - the host's used memory (MemTotal - MemAvailable) grows by LIMIT_GIB,
#   - MAX instances run (the data file holds at most 256).
#
# Every 10th instance it prints the count, that start's time, the memory
# the instances added and the load; at the end the idle CPU per instance
# over MEASURE_S and the PSS per VMM.
#
#   bash bench/capacity.sh [MAX] [MEMORY] [LIMIT_GIB] [MEASURE_S]
#                          (defaults 200, 96M, 20, 30)
#
# SPECTRUM_KERNEL chooses the guest kernel as for `spectrum run`.  Not a
# test: it takes the whole machine for several minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
max=${1:-200}
memory=${2:-96M}
limit_gib=${3:-20}
measure=${4:-30}
((max >= 1 && max <= 256)) || { echo "bench: MAX must be 1..256" >&2; exit 2; }
bench_setup spectrum-bench-idle
hz=$(getconf CLK_TCK)

{
	echo "{\"version\": 1, \"applications\": {\"idle\": {\"image\": \"test-x86\", \"memory\": \"$memory\","
	echo '  "command": ["/bin/sh", "-c", "echo spectrum-bench-idle; exec sleep 100000"]}},'
	echo ' "instances": {'
	for ((i = 1; i <= max; i++)); do
		echo "  \"cap-$i\": {\"application\": \"idle\"}$( ((i < max)) && echo ,)"
	done
	echo '}}'
} >"$tmp/cap.json"
build/spectrum check "$tmp/cap.json" >/dev/null

used_kib() { awk '/^MemTotal:/ { t = $2 } /^MemAvailable:/ { a = $2 } END { print t - a }' /proc/meminfo; }

# start_one I: starts cap-I in the background (in this shell, so that
# stop_all knows it); sets ms to the milliseconds to its first line, or to
# nothing if it never came.
start_one() {
	local i=$1 t0 k
	ms=
	t0=$(date +%s%N)
	build/spectrum run "$tmp/cap.json" "cap-$i" --timeout 3600 >"$tmp/out-$i" 2>&1 </dev/null &
	bg+=($!)
	for k in $(seq 6000); do
		if grep -q "$marker" "$tmp/out-$i"; then
			ms=$((($(date +%s%N) - t0) / 1000000))
			return
		fi
		kill -0 "${bg[-1]}" 2>/dev/null || return 0
		sleep 0.1
	done
}

base=$(used_kib)
first=0
n=0
why="MAX ($max) reached"
echo "capacity: idle x86_64 instances of $memory, kernel ${SPECTRUM_KERNEL:-default}, TCG, $(nproc) cores"
for ((i = 1; i <= max; i++)); do
	start_one "$i"
	if [[ -z $ms ]]; then
		why="instance $i did not start: $(tail -n 1 "$tmp/out-$i")"
		break
	fi
	n=$i
	((first == 0)) && first=$ms
	added=$((($(used_kib) - base) / 1024))
	if ((i % 10 == 0 || i == 1)); then
		printf '  %3d running  start %6d ms  memory +%6d MiB  load %s\n' "$i" "$ms" "$added" \
			"$(cut -d' ' -f1 /proc/loadavg)"
	fi
	if ((ms > 3 * first)); then
		why="start of instance $i took $ms ms, over 3x the first ($first ms)"
		break
	fi
	if ((added > limit_gib * 1024)); then
		why="memory grew by $added MiB, over $limit_gib GiB"
		break
	fi
done
echo "stopped: $why"

sleep 10
mapfile -t pids < <(pgrep -f -- "qemu-system-x86_64 -name cap-")
pss=0
t0=0
for p in "${pids[@]}"; do
	pss=$((pss + $(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup")))
	t0=$((t0 + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
done
sleep "$measure"
t1=0
for p in "${pids[@]}"; do
	t1=$((t1 + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
done
awk -v n="$n" -v k="${#pids[@]}" -v pss="$pss" -v dt=$((t1 - t0)) -v hz="$hz" -v m="$measure" \
	-v added=$((($(used_kib) - base) / 1024)) \
	'BEGIN { printf "%d instances running (%d VMMs): host memory +%d MiB, PSS %.0f MiB per VMM, idle CPU %.2f %% of a core each (%.0f %% in all)\n",
		n, k, added, k ? pss / 1024 / k : 0, k ? 100 * dt / hz / m / k : 0, 100 * dt / hz / m }'
