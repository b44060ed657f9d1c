#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# headless-sway.sh UID DIR
#
# Starts a headless sway (no screen, no input, pixman renderer, one
# 1024x768 output) as UID with DIR as its runtime directory, with
# Spectrum's sway fragment (examples/sway/spectrum.conf), and prints the
# lines that point Spectrum at it:
#
#   SWAY_PID=...
#   export SPECTRUM_WAYLAND_DISPLAY=DIR/wayland-1 SPECTRUM_SWAYSOCK=DIR/sway-ipc.sock
#
# Look at it with `setpriv --reuid=UID --regid=UID --clear-groups env
# XDG_RUNTIME_DIR=DIR WAYLAND_DISPLAY=wayland-1 grim FILE.png`; end it by
# killing SWAY_PID.  sway refuses to run as root: UID is any other.
set -euo pipefail
uid=$1
dir=$2
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mkdir -p "$dir"
chown "$uid:$uid" "$dir"
chmod 700 "$dir"
{
	echo "output HEADLESS-1 resolution 1024x768"
	echo "set \$mod Mod4"
	cat "$src/examples/sway/spectrum.conf"
} >"$dir/config"
setpriv --reuid="$uid" --regid="$uid" --clear-groups \
	env -i PATH=/usr/bin:/bin XDG_RUNTIME_DIR="$dir" SWAYSOCK="$dir/sway-ipc.sock" \
	WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
	sway -c "$dir/config" >"$dir/sway.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 100); do
	[ -S "$dir/wayland-1" ] && [ -S "$dir/sway-ipc.sock" ] && break
	kill -0 $pid 2>/dev/null || { echo "headless-sway.sh: sway did not start; see $dir/sway.log" >&2; exit 1; }
	sleep 0.1
done
echo "SWAY_PID=$pid"
echo "export SPECTRUM_WAYLAND_DISPLAY=$dir/wayland-1 SPECTRUM_SWAYSOCK=$dir/sway-ipc.sock"
