#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Windows from guests, measured under a headless sway (scripts/headless-sway.sh):
#
#  1. time to a window: from `spectrum run` of a foot instance to its
#     window being mapped (sway's tree), against the same run's first
#     console line of foot (its start-up log, printed before it connects);
#  2. frames through the relay: bench/wl-damage.c in a guest redraws its
#     whole 640x480 window 120 times, one frame at a time, and reports the
#     median and 90th percentile of commit-to-frame-callback and the frame
#     rate, with waypipe's compression lz4 (the default) and none,
#     alternated after a warm-up; and the same client on the host, straight
#     to sway, as the floor.
#
#   sudo bash bench/windows.sh [RUNS]     (default 5; needs scripts/setup.sh first)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
runs=${1:-5}
state=$(realpath -m -- "${SPECTRUM_STATE_DIR:-/var/lib/spectrum}")
export SPECTRUM_STATE_DIR=$state
export SPECTRUM_VMM_UID_BASE=${SPECTRUM_VMM_UID_BASE:-524288}
sway_uid=65534 # nobody: below every VMM uid base
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-bench.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR"
tmp=$(mktemp -d)
rt=$(mktemp -d /tmp/spectrum-bench-sway.XXXXXX)
SWAY_PID=
trap '[ -n "$SWAY_PID" ] && kill $SWAY_PID; rm -rf "$tmp" "$SPECTRUM_RUN_DIR" "$rt"' EXIT
cfg=bench/windows.json
[[ -x build/spectrum ]] || { echo "bench: run scripts/setup.sh first" >&2; exit 1; }

# The damage client, for the guest and for the host.
proto=/usr/share/wayland-protocols/stable/xdg-shell/xdg-shell.xml
wayland-scanner client-header $proto "$tmp/xdg-shell-client-protocol.h"
wayland-scanner private-code $proto "$tmp/xdg-shell-protocol.c"
mkdir -p "$tmp/root/usr/bin"
cc -std=gnu17 -O2 -Wall -Wextra -Wno-unused-parameter -Werror -I"$tmp" bench/wl-damage.c "$tmp/xdg-shell-protocol.c" \
	$(pkg-config --cflags --libs wayland-client) -o "$tmp/root/usr/bin/wl-damage"
build/spectrum-image build -n bench-wl -p waypipe -p libwayland-client0 -p libc-bin \
	-d "$tmp/root" >/dev/null
build/spectrum-image build -n win-foot -p foot -p waypipe -p fonts-dejavu-core -p libc-bin \
	-p dash -p coreutils >/dev/null

eval "$(bash scripts/headless-sway.sh "$sway_uid" "$rt")"
as_sway() {
	setpriv --reuid="$sway_uid" --regid="$sway_uid" --clear-groups \
		env -i XDG_RUNTIME_DIR="$rt" WAYLAND_DISPLAY=wayland-1 SWAYSOCK="$rt/sway-ipc.sock" "$@"
}
mapped() { as_sway swaymsg -t get_tree 2>/dev/null | grep -q '"pid": [1-9]'; }

# 1. One start: "CONSOLE_MS WINDOW_MS".
start_once() {
	local t0 now con= win=
	rm -f "$tmp/term.out" # the last run's lines would match at once
	t0=$(date +%s%N)
	build/spectrum run $cfg term --timeout 300 >"$tmp/term.out" 2>&1 </dev/null &
	local pid=$!
	while [ -z "$con" ] || [ -z "$win" ]; do
		now=$(date +%s%N)
		[ -z "$con" ] && grep -qs "main.c:.*version" "$tmp/term.out" && con=$(((now - t0) / 1000000))
		[ -z "$win" ] && mapped && win=$(((now - t0) / 1000000))
		kill -0 $pid 2>/dev/null || { echo "bench: the terminal ended early" >&2; cat "$tmp/term.out" >&2; exit 1; }
		sleep 0.05
	done
	kill -INT $pid
	wait $pid || true
	echo "$con $win"
}
start_once >/dev/null # warm-up: the image's pages in the host's cache
: >"$tmp/start"
for ((i = 1; i <= runs; i++)); do start_once >>"$tmp/start"; done
c=$(cut -d' ' -f1 "$tmp/start" | median)
w=$(cut -d' ' -f2 "$tmp/start" | median)
r=$(awk '{printf "%.3f\n", $2 / $1}' "$tmp/start" | median)
echo "time to a window (foot, median of $runs):"
echo "  first console line   $c ms   [$(cut -d' ' -f1 "$tmp/start" | tr '\n' ' ')]"
echo "  window mapped        $w ms   [$(cut -d' ' -f2 "$tmp/start" | tr '\n' ' ')]"
echo "  ratio (paired)       $r   [$(awk '{printf "%.2f ", $2 / $1}' "$tmp/start")]"

# 2. One damage run: the client's line.
damage_once() {
	build/spectrum run $cfg "damage-$1" --timeout 300 2>&1 </dev/null | grep '^wl-damage:' || {
		echo "bench: no figures from damage-$1" >&2; exit 1; }
}
cp "$tmp/root/usr/bin/wl-damage" "$rt/" # where the compositor's user may run it
host_once() { as_sway "$rt/wl-damage" 120 640 480; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
damage_once lz4 >/dev/null # warm-up
: >"$tmp/lz4"
: >"$tmp/none"
: >"$tmp/host"
for ((i = 1; i <= runs; i++)); do
	if ((i % 2)); then damage_once lz4 >>"$tmp/lz4"; damage_once none >>"$tmp/none"
	else damage_once none >>"$tmp/none"; damage_once lz4 >>"$tmp/lz4"; fi
	host_once >>"$tmp/host"
done
echo "frames of 640x480, every pixel changed, one at a time (median of $runs runs of 120):"
printf '  %-22s %10s %10s %8s %9s\n' "" "median ms" "p90 ms" "fps" "MB/s"
for side in host lz4 none; do
	printf '  %-22s %10s %10s %8s %9s\n' \
		"$(case $side in host) echo "host, straight to sway" ;; *) echo "guest, waypipe $side" ;; esac)" \
		"$(field median <"$tmp/$side" | median)" "$(field p90 <"$tmp/$side" | median)" \
		"$(field fps <"$tmp/$side" | median)" "$(field MB/s <"$tmp/$side" | median)"
done
paste "$tmp/lz4" "$tmp/none" | awk '{
	for (i = 1; i < NF; i++) if ($i == "median") m[++n] = $(i + 1)
	printf "%.2f\n", m[1] / m[2]; n = 0 }' >"$tmp/ratio"
echo "  latency lz4 / none (paired): $(median <"$tmp/ratio")   [$(tr '\n' ' ' <"$tmp/ratio")]"
