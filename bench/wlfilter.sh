#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What spectrum-wlfilter adds to a Wayland connection: round trips
# (wl_display.sync, one at a time) and windows of 100 of them, straight
# to a headless sway and through the filter, alternated.
#
#   bash bench/wlfilter.sh BUILD_DIR [ROUND_TRIPS]
#
# Root (sway runs as SPECTRUM_WLTEST_UID, default 3999900).  Prints the
# median microseconds per round trip and messages per second of each.
set -eu

build=$1
n=${2:-2000}
uid=${SPECTRUM_WLTEST_UID:-3999900}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/spectrum-wlbench.XXXXXX")
chmod 755 "$tmp"
rt=$tmp/rt
mkdir "$rt"
chown "$uid:$uid" "$rt"
chmod 700 "$rt"
install -m 755 "$build/wlfilter/spectrum-wlfilter" "$tmp/"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"' EXIT

as_user_exec() {
	exec env -i PATH=/usr/bin:/bin HOME="$tmp" XDG_RUNTIME_DIR="$rt" \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups -- env "$@"
}
echo 'output HEADLESS-1 resolution 1024x768' >"$tmp/sway.conf"
chmod 644 "$tmp/sway.conf"
as_user_exec WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
	sway -c "$tmp/sway.conf" >"$tmp/sway.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$rt/wayland-1" ] && break; sleep 0.1; done
as_user_exec "$tmp/spectrum-wlfilter" --instance bench --listen "$rt/filter" \
	--compositor "$rt/wayland-1" >"$tmp/ready" 2>"$tmp/filter.log" &
pids+=($!)
for _ in $(seq 100); do grep -q ready "$tmp/ready" && break; sleep 0.1; done

cat >"$tmp/bench.py" <<'PY'
import socket, statistics, struct, sys, time
rt, n = sys.argv[1], int(sys.argv[2])

def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def sync(s, new_id):
    s.sendall(struct.pack('<III', 1, 12 << 16 | 0, new_id))

def read_events(s, buf, want):
    """Reads until `want` wl_display.delete_id events (each follows its
    callback's done) have arrived."""
    seen = 0
    while seen < want:
        buf += s.recv(65536)
        while len(buf) >= 8:
            obj, word = struct.unpack_from('<II', buf)
            size = word >> 16
            if len(buf) < size:
                break
            if obj == 1 and word & 0xffff == 1:
                seen += 1
            buf = buf[size:]
    return buf

def round_trips(path):
    s = conn(path)
    buf, times = b'', []
    for i in range(n):
        t = time.perf_counter()
        sync(s, 2)  # free again once its delete_id has come
        buf = read_events(s, buf, 1)
        times.append(time.perf_counter() - t)
    s.close()
    return statistics.median(times) * 1e6

def burst(path, count=20000, window=100):
    """Round trips in windows of 100 (libwayland-server drops a client
    whose unread events pass its 4 KiB buffer): messages per second."""
    s = conn(path)
    buf = b''
    t = time.perf_counter()
    for k in range(0, count, window):
        s.sendall(b''.join(struct.pack('<III', 1, 12 << 16, 2 + i) for i in range(window)))
        buf = read_events(s, buf, window)
    dt = time.perf_counter() - t
    s.close()
    return count / dt

direct, filtered = f'{rt}/wayland-1', f'{rt}/filter'
res = {'direct': [], 'filter': []}
bursts = {'direct': [], 'filter': []}
for _ in range(3):
    for name, path in (('direct', direct), ('filter', filtered)):
        res[name].append(round_trips(path))
        bursts[name].append(burst(path))
for name in ('direct', 'filter'):
    print(f'{name:7s} round trip {statistics.median(res[name]):7.1f} us '
          f'(median of 3 x {n}), burst {statistics.median(bursts[name]):9.0f} round trips/s')
print(f'filter/direct: round trip x{statistics.median(res["filter"]) / statistics.median(res["direct"]):.2f}, '
      f'burst x{statistics.median(bursts["direct"]) / statistics.median(bursts["filter"]):.2f} slower')
PY
chmod 644 "$tmp/bench.py"
(as_user_exec python3 "$tmp/bench.py" "$rt" "$n") || echo "bench: python exited $?" >&2
