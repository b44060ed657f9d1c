#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# spectrum-wlfilter in front of a real headless sway (no VM): foot and a
# hostile client (hostile.c) reach sway only through a filter each, as a
# guest's waypipe client will; swaymsg shows what the compositor made of
# their windows, grim what is on the screen.  Without a filter, the same
# hostile client is run first as the control: it sees the hidden globals
# and binds the layer shell.
#
#   bash tests/wlfilter/run.sh BUILD_DIR FILTER HOSTILE
#
# Root only (sway refuses root: it runs as SPECTRUM_WLTEST_UID, default
# 3999900, through setpriv, with no passwd entry); skips without sway,
# swaymsg, grim, foot or jq.  Leaves BUILD_DIR/wlfilter-screenshot.png.
set -u

build=$1 filter=$2 hostile=$3
uid=${SPECTRUM_WLTEST_UID:-3999900}

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root (runs sway as uid $uid)"
	exit 0
fi
for t in sway swaymsg grim foot jq setpriv python3; do
	if ! command -v "$t" >/dev/null; then
		echo "1..0 # SKIP $t not installed (scripts/deps.sh)"
		exit 0
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/spectrum-wlfilter.XXXXXX")
chmod 755 "$tmp"
# shellcheck source=../tap.sh
. "$(dirname "$0")/../tap.sh"
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

rt=$tmp/rt
mkdir "$rt"
chown "$uid:$uid" "$rt"
chmod 700 "$rt"
install -m 755 "$filter" "$tmp/spectrum-wlfilter"
install -m 755 "$hostile" "$tmp/wl-hostile"
: >"$tmp/out"

# as_user [VAR=VALUE...] COMMAND...: as the unprivileged uid, with a clean
# environment; as_user_exec the same in place of the (background) shell, so
# that $! is the command's pid.
as_user() {
	env -i PATH=/usr/bin:/bin HOME="$tmp" XDG_RUNTIME_DIR="$rt" LANG=C.UTF-8 \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups -- env "$@"
}
as_user_exec() {
	exec env -i PATH=/usr/bin:/bin HOME="$tmp" XDG_RUNTIME_DIR="$rt" LANG=C.UTF-8 \
		setpriv --reuid="$uid" --regid="$uid" --clear-groups -- env "$@"
}
# absent PATTERN FILE: no line of FILE matches
absent() {
	! grep -Eq "$@"
}

# wait_for TEST SECONDS: until TEST (a command) succeeds.
wait_for() {
	local i
	for i in $(seq $(($2 * 10))); do
		eval "$1" && return 0
		sleep 0.1
	done
	return 1
}

cat >"$tmp/sway.conf" <<'CONF'
output HEADLESS-1 resolution 1024x768 background #202020 solid_color
default_border normal 2
font pango:DejaVu Sans Mono 10
for_window [app_id="^spectrum\.mail-work$"] title_format "<span background='#c00000'> mail-work </span> %title"
for_window [app_id="^spectrum\.hostile$"] title_format "<span background='#0000c0'> hostile </span> %title"
CONF
chmod 644 "$tmp/sway.conf"
as_user_exec WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
	sway -c "$tmp/sway.conf" >"$tmp/sway.log" 2>&1 &
sway_pid=$!
pids+=("$sway_pid")
if ! wait_for '[ -S "$rt/wayland-1" ] && ls "$rt"/sway-ipc.*.sock >/dev/null 2>&1' 15; then
	echo "Bail out! sway did not start: $(tail -n 3 "$tmp/sway.log")"
	exit 1
fi
swaysock=$(ls "$rt"/sway-ipc.*.sock)
tree() {
	as_user SWAYSOCK="$swaysock" swaymsg -t get_tree
}
# window APP_ID: "pid<TAB>fullscreen_mode<TAB>title" of its window
window() {
	tree | jq -r --arg a "$1" '.. | objects | select(.app_id? == $a) |
		"\(.pid)\t\(.fullscreen_mode)\t\(.name)"'
}

# A host selection the guests must never read (wl-copy is optional).
have_wl_copy=
if command -v wl-copy >/dev/null; then
	have_wl_copy=1
	as_user_exec WAYLAND_DISPLAY=wayland-1 wl-copy --foreground host-secret >/dev/null 2>&1 &
	pids+=($!)
fi

# content APP_ID: "X Y W H" of its window's content on the screen
content() {
	tree | jq -r --arg a "$1" '.. | objects | select(.app_id? == $a) |
		"\(.rect.x + .window_rect.x) \(.rect.y + .window_rect.y) \(.window_rect.width) \(.window_rect.height)"'
}

# outside NAME APP_ID RRGGBB: grim's screenshot in $rt/NAME.ppm, and the
# number of pixels of that colour outside APP_ID's window content.
outside() {
	as_user WAYLAND_DISPLAY=wayland-1 grim -t ppm "$rt/$1.ppm" 2>"$tmp/out"
	# shellcheck disable=SC2046 # the rectangle's four numbers
	python3 - "$rt/$1.ppm" "$3" $(content "$2") <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
fields, pos = [], 0
while len(fields) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    start = pos
    while not data[pos:pos + 1].isspace():
        pos += 1
    fields.append(data[start:pos])
width = int(fields[1])
pix = data[pos + 1:]
rgb = bytes.fromhex(sys.argv[2])
x0, y0, w, h = (int(v) for v in sys.argv[3:7])
n = 0
for i in range(0, len(pix) - 2, 3):
    if pix[i:i + 3] == rgb:
        x, y = (i // 3) % width, (i // 3) // width
        n += not (x0 <= x < x0 + w and y0 <= y < y0 + h)
print(n)
PY
}

# start_hostile NAME DISPLAY [MODE]: the hostile client on DISPLAY, its
# output in $tmp/NAME.out, its stdin the FIFO $tmp/NAME.in (held open on
# fd 7).
start_hostile() {
	mkfifo "$tmp/$1.in"
	chmod 666 "$tmp/$1.in"
	exec 7<>"$tmp/$1.in"
	as_user_exec WAYLAND_DISPLAY="$2" "$tmp/wl-hostile" ${3:+"$3"} <"$tmp/$1.in" >"$tmp/$1.out" 2>&1 &
	hostile_pid=$!
	pids+=("$hostile_pid")
	hostile_out=$tmp/$1.out
	wait_for 'grep -q "^mapped" "$hostile_out"' 20
}

# --- the control: the hostile client straight on sway ---
if start_hostile control wayland-1; then
	ok "control: the hostile client maps a window without a filter"
else
	not_ok "control: the hostile client maps a window without a filter"
fi
sleep 1
# It went fullscreen (no filter): back to a tiled window with a title bar.
as_user SWAYSOCK="$swaysock" swaymsg '[app_id="^spectrum\.mail-work$"] fullscreen disable' >/dev/null
sleep 0.5
outside=$(outside control spectrum.mail-work cd12ab)
echo "popup pixels outside its window: $outside" >"$tmp/out"
check "control: without a filter its popup draws outside its window, over the title bar ($outside pixels)" \
	test "${outside:-0}" -gt 1000
check "control: without a filter it is shown zwlr_layer_shell_v1" \
	grep -q "^global zwlr_layer_shell_v1" "$tmp/control.out"
if [ -n "$have_wl_copy" ]; then
	check "control: without a filter the host selection reaches it" \
		grep -Eq "^(offer|selection)" "$tmp/control.out"
fi
echo bind >&7
wait_for 'grep -q "connected" "$tmp/control.out"' 10
check "control: without a filter its bind of the layer shell is accepted" \
	grep -q "^still connected" "$tmp/control.out"
exec 7>&-
wait "$hostile_pid" 2>/dev/null

# --- instance mail-work: foot through its filter ---
as_user_exec "$tmp/spectrum-wlfilter" --instance mail-work --color '#c00000' \
	--listen "$rt/filter-mail-work" --compositor "$rt/wayland-1" \
	>"$tmp/mail-work.ready" 2>"$tmp/mail-work.log" &
filter_a=$!
pids+=("$filter_a")
check "the filter says ready once listening" \
	wait_for 'grep -qx ready "$tmp/mail-work.ready"' 10
as_user_exec WAYLAND_DISPLAY=filter-mail-work foot -o tweak.max-shm-pool-size-mb=0 \
	>"$tmp/foot.log" 2>&1 &
pids+=($!)
wait_for '[ -n "$(window spectrum.mail-work)" ]' 20
IFS=$'\t' read -r pid fs title <<<"$(window spectrum.mail-work)"
echo "title=${title:-} pid=${pid:-} fullscreen=${fs:-}" >"$tmp/out"
check "foot's window has the app id spectrum.mail-work" test -n "${title:-}"
check "foot's title starts with [mail-work]: ${title:-}" test "${title:0:12}" = "[mail-work] "
check "foot's client is the filter (pid ${pid:-} = $filter_a)" test "${pid:-}" = "$filter_a"

# --- instance notes: a GTK 4 application through its filter ---
if command -v gtk4-demo >/dev/null; then
	as_user_exec "$tmp/spectrum-wlfilter" --instance notes --listen "$rt/filter-notes" \
		--compositor "$rt/wayland-1" >"$tmp/notes.ready" 2>"$tmp/notes.log" &
	filter_c=$!
	pids+=("$filter_c")
	wait_for 'grep -qx ready "$tmp/notes.ready"' 10
	as_user_exec WAYLAND_DISPLAY=filter-notes GDK_BACKEND=wayland GSK_RENDERER=cairo \
		NO_AT_BRIDGE=1 gtk4-demo >"$tmp/gtk.log" 2>&1 &
	gtk_pid=$!
	pids+=("$gtk_pid")
	wait_for '[ -n "$(window spectrum.notes)" ]' 30
	IFS=$'\t' read -r pid fs title <<<"$(window spectrum.notes)"
	{
		echo "title=${title:-} pid=${pid:-}"
		cat "$tmp/notes.log" "$tmp/gtk.log"
	} >"$tmp/out"
	check "gtk4-demo starts through its filter, labelled: ${title:-}" \
		test "${title:0:8}" = "[notes] " -a "${pid:-}" = "$filter_c"
	kill "$gtk_pid"
else
	echo "ok $((n += 1)) # SKIP gtk4-demo not installed (gtk-4-examples)"
fi

# --- instance hostile: the hostile client through its filter ---
as_user_exec "$tmp/spectrum-wlfilter" --instance hostile --listen "$rt/filter-hostile" \
	--compositor "$rt/wayland-1" >"$tmp/hostile.ready" 2>"$tmp/hostile.log" &
filter_b=$!
pids+=("$filter_b")
wait_for 'grep -qx ready "$tmp/hostile.ready"' 10
cp /dev/null "$tmp/out"
if start_hostile hostile filter-hostile; then
	ok "the hostile client maps a window through its filter"
else
	not_ok "the hostile client maps a window through its filter"
	sed 's/^/# /' "$tmp/hostile.out" "$tmp/hostile.log"
fi
sleep 1
IFS=$'\t' read -r pid fs title <<<"$(window spectrum.hostile)"
printf '%s\n' "title=${title:-} pid=${pid:-} fullscreen=${fs:-}" >"$tmp/out"
check "its title shows its own label first, the RLO escaped, markup as text" \
	test "${title:-}" = '[hostile] [mail-work] \u202e<b>gnikooL</b>'
check "its app id is spectrum.hostile, not the spectrum.mail-work it asked for" \
	test -n "${title:-}"
check "its client is its filter (pid ${pid:-} = $filter_b)" test "${pid:-}" = "$filter_b"
check "it asked for fullscreen and is not (fullscreen_mode ${fs:-})" test "${fs:-}" = 0
cp "$tmp/hostile.out" "$tmp/out"
for g in zwlr_layer_shell_v1 zwlr_screencopy_manager_v1 zwlr_data_control_manager_v1 \
	xdg_activation_v1 zwlr_foreign_toplevel_manager_v1 zwp_virtual_keyboard_manager_v1; do
	if grep -q "^global $g" "$tmp/control.out"; then
		check "it is not shown $g (sway offers it)" absent "^global $g " "$tmp/hostile.out"
	fi
done
check "no host selection or offer reaches it" absent "^(offer|selection)" "$tmp/hostile.out"
check "its set_fullscreen and set_selection are logged as dropped" \
	grep -q "dropped xdg_toplevel#.*set_fullscreen" "$tmp/hostile.log"

# --- the screen ---
as_user WAYLAND_DISPLAY=wayland-1 grim -t ppm "$rt/screen.ppm" 2>"$tmp/out"
as_user WAYLAND_DISPLAY=wayland-1 grim "$rt/screen.png" 2>>"$tmp/out" &&
	cp "$rt/screen.png" "$build/wlfilter-screenshot.png"
python3 - "$rt/screen.ppm" >"$tmp/pixels" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
# P6 header: magic, width, height, maxval, each followed by whitespace
fields, pos = [], 0
while len(fields) < 4:
    while data[pos:pos + 1].isspace():
        pos += 1
    start = pos
    while not data[pos:pos + 1].isspace():
        pos += 1
    fields.append(data[start:pos])
pix = data[pos + 1:]
count = {}
for i in range(0, len(pix) - 2, 3):
    count[pix[i:i + 3]] = count.get(pix[i:i + 3], 0) + 1
for name, rgb in (('guest', b'\x12\xab\x34'), ('mail-work', b'\xc0\x00\x00'), ('hostile', b'\x00\x00\xc0')):
    print(name, count.get(rgb, 0))
PY
outside=$(outside filtered spectrum.hostile cd12ab)
{
	echo "popup pixels outside its window: $outside"
	cat "$tmp/hostile.out" "$tmp/hostile.log"
} >"$tmp/out"
check "no pixel of its popup falls outside its window ($outside)" test "$outside" = 0
check "the filter withheld the popup and logged it" \
	grep -q "withheld xdg_popup#" "$tmp/hostile.log"
check "and told the guest popup_done" grep -qx "popup done" "$tmp/hostile.out"
cp "$tmp/pixels" "$tmp/out"
check "the screenshot shows the hostile client's pixels" \
	test "$(awk '$1 == "guest" {print $2}' "$tmp/pixels")" -gt 10000
check "and mail-work's label colour" test "$(awk '$1 == "mail-work" {print $2}' "$tmp/pixels")" -gt 20
check "and hostile's label colour" test "$(awk '$1 == "hostile" {print $2}' "$tmp/pixels")" -gt 20

# --- the guessed bind ---
echo bind >&7
wait_for 'grep -q "connected" "$tmp/hostile.out"' 10
cp "$tmp/hostile.out" "$tmp/out"
check "its bind of the layer shell by a guessed name disconnects it" \
	grep -q "^disconnected" "$tmp/hostile.out"
cp "$tmp/hostile.log" "$tmp/out"
check "the filter logs one line naming the request" \
	grep -q "closed the guest's connection: wl_registry#2.bind of zwlr_layer_shell_v1" "$tmp/hostile.log"
exec 7>&-
check "the filter keeps running" kill -0 "$filter_b"
check "sway keeps running" kill -0 "$sway_pid"
check "mail-work's window is still there" test -n "$(window spectrum.mail-work)"
if start_hostile again filter-hostile; then
	ok "the filter accepts the guest's next connection"
else
	not_ok "the filter accepts the guest's next connection"
fi
exec 7>&-
kill "$hostile_pid" 2>/dev/null

# --- raw bytes: a stray descriptor, an oversized message ---
# raw_guest KIND: connects to the hostile filter's socket as the guest and
# sends KIND; prints "closed" once the filter hangs up.
raw_guest() {
	as_user python3 - "$rt/filter-hostile" "$1" <<'PY'
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(10)
get_registry = struct.pack('<III', 1, 12 << 16 | 1, 2)
if sys.argv[2] == 'stray-fd':
    # get_registry carries no descriptor: this one belongs to nothing
    socket.send_fds(s, [get_registry], [os.open('/dev/null', os.O_RDONLY)])
else:
    s.sendall(struct.pack('<II', 1, 4100 << 16 | 1) + b'\0' * 4092)
try:
    while s.recv(4096):
        pass
    print('closed')
except (socket.timeout, ConnectionResetError) as e:
    print('closed' if isinstance(e, ConnectionResetError) else 'still open')
PY
}
raw_guest stray-fd >"$tmp/out" 2>&1
check "a descriptor where none belongs closes the guest's connection" grep -qx closed "$tmp/out"
cp "$tmp/hostile.log" "$tmp/out"
check "and is logged" grep -q "sent a descriptor with no message that carries one" "$tmp/hostile.log"
raw_guest oversized >"$tmp/out" 2>&1
check "an oversized message closes the guest's connection" grep -qx closed "$tmp/out"
cp "$tmp/hostile.log" "$tmp/out"
check "and is logged with its size" grep -q "size 4100 out of 8..4096" "$tmp/hostile.log"
check "the filter keeps running after both" kill -0 "$filter_b"

# --- a floating window drawing past its window geometry ---
# sway floats a window of a fixed size, sizes it by its window geometry and
# does not clip a floating window's surface.
start_hostile float-control wayland-1 float
sleep 0.5
outside=$(outside float-control float ab34cd)
echo "fringe pixels outside its window: $outside" >"$tmp/out"
check "control: without a filter a floating window draws past its border ($outside pixels)" \
	test "${outside:-0}" -gt 1000
exec 7>&-
kill "$hostile_pid" 2>/dev/null
start_hostile float filter-hostile float
sleep 0.5
outside=$(outside float spectrum.hostile ab34cd)
{
	echo "fringe pixels outside its window: $outside"
	cat "$tmp/hostile.log"
} >"$tmp/out"
check "through the filter its window is all of its surface: none outside ($outside)" \
	test "$outside" = 0
exec 7>&-
kill "$hostile_pid" 2>/dev/null

# --- a guest window of a fixed size larger than the output ---
# sway floats a window of a fixed size and does not keep it inside the
# output: its title bar, the label, can end up off the screen.
# on_screen APP_ID: "TYPE X Y W H T" of its container: T is the height of
# its title bar, Y where that starts
on_screen() {
	tree | jq -r --arg a "$1" '.. | objects | select(.app_id? == $a) |
		"\(.type) \(.rect.x) \(.rect.y - .deco_rect.height) \(.rect.width) \(.rect.height) \(.deco_rect.height)"'
}
start_hostile huge-control wayland-1 huge
sleep 0.5
read -r type x y w h t <<<"$(on_screen huge)"
{
	echo "huge without a filter: ${type:-} at ${x:-},${y:-} ${w:-}x${h:-}, title bar ${t:-}"
	tree | jq -c '.. | objects | select(.app_id? == "huge") | {type, rect, deco_rect, window_rect, geometry}'
} >"$tmp/out"
check "control: without a filter a 4000x3000 fixed window floats with no title bar on the screen (${type:-} ${w:-}x${h:-}, title bar ${t:-})" \
	test "${type:-}" = floating_con -a \( "${t:-0}" = 0 -o "${y:-0}" -lt 0 \)
exec 7>&-
kill "$hostile_pid" 2>/dev/null
start_hostile huge filter-hostile huge
sleep 0.5
read -r type x y w h t <<<"$(on_screen spectrum.hostile)"
{
	echo "huge through the filter: ${type:-} at ${x:-},${y:-} ${w:-}x${h:-}, title bar ${t:-}"
	cat "$tmp/hostile.log"
} >"$tmp/out"
check "through the filter it tiles, its title bar on the screen (${type:-} ${w:-}x${h:-} at ${x:-},${y:-}, title bar ${t:-})" \
	test "${type:-}" = con -a "${t:-0}" -gt 0 -a "${x:--1}" -ge 0 -a "${y:--1}" -ge 0 \
	-a "$((${x:-0} + ${w:-9999}))" -le 1024 -a "$((${y:-0} + ${h:-9999}))" -le 768
check "and the filter logs the dropped size" grep -q "dropped xdg_toplevel#.*set_m.._size: a guest's windows tile" "$tmp/hostile.log"
IFS=$'\t' read -r pid fs title <<<"$(window spectrum.hostile)"
check "its title is labelled: ${title:-}" test "${title:-}" = "[hostile] huge"
exec 7>&-
kill "$hostile_pid" 2>/dev/null

# --- a cursor larger than 256x256 ---
# (No control without the filter: a headless sway has no pointer, and
# ends a connection that asks for one; the filter's line shows that it
# ended this one first.)
start_hostile cursor filter-hostile bigcursor
wait_for 'grep -q "connected" "$hostile_out"' 10
cat "$hostile_out" "$tmp/hostile.log" >"$tmp/out"
check "through the filter a 300x300 cursor ends the connection" grep -qx "disconnected" "$hostile_out"
check "with one line naming it" grep -q "wl_pointer#.*set_cursor: a cursor of 300x300 pixels, more than 256x256" "$tmp/hostile.log"
exec 7>&-

# --- the user's paste: --clipboard paste and its control channel ---
# The control channel's other end is held here, as spectrumd holds it: a
# line "paste TEXT" on the FIFO ctl.in sends a pipe carrying TEXT, "file"
# a regular file's descriptor instead, "big" a pipe of 1 MiB and one byte,
# "copy FILE" a pipe's write end for the guest's selection, whose text it
# writes to FILE.
mkfifo "$tmp/ctl.in"
python3 - "$tmp/ctl.in" "$tmp/spectrum-wlfilter" "$rt" "$uid" "$tmp/paster.pid" \
	>"$tmp/paster.ready" 2>"$tmp/paster.log" <<'PY' &
import os, select, socket, struct, sys
fifo, filt, rt, uid, pidfile = sys.argv[1:6]
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
pid = os.fork()
if pid == 0:
    a.close()
    os.setgroups([])
    os.setgid(int(uid))
    os.setuid(int(uid))
    os.set_inheritable(b.fileno(), True)
    os.execve(filt, [filt, '--instance', 'paster', '--listen', rt + '/filter-paster',
                     '--compositor', rt + '/wayland-1', '--clipboard', 'both',
                     '--control-fd', str(b.fileno())], {'PATH': '/usr/bin:/bin'})
b.close()
open(pidfile, 'w').write(str(pid))
msg = struct.pack('=II', 0x53504350, 1)
f = os.fdopen(os.open(fifo, os.O_RDWR), 'r')
for line in f:
    cmd, _, text = line.rstrip('\n').partition(' ')
    if cmd == 'copy':
        r, w = os.pipe()
        socket.send_fds(a, [struct.pack('=II', 0x53504350, 2)], [w])
        os.close(w)
        got = b''
        while select.select([r], [], [], 10)[0]:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            got += chunk
        os.close(r)
        open(text, 'wb').write(got)
        continue
    if cmd == 'file':
        fd = os.open('/etc/hostname', os.O_RDONLY)
        socket.send_fds(a, [msg], [fd])
        os.close(fd)
        continue
    r, w = os.pipe()
    socket.send_fds(a, [msg], [r])
    os.close(r)
    try:
        os.write(w, b'x' * (1024 * 1024 + 1) if cmd == 'big' else text.encode())
    except BrokenPipeError:
        pass
    os.close(w)
PY
pids+=($!)
wait_for 'grep -qx ready "$tmp/paster.ready"' 10
pids+=("$(cat "$tmp/paster.pid")")
start_hostile paster filter-paster paste
echo "paste spectrum-clip-test" >"$tmp/ctl.in"
wait_for 'grep -q "^pasted:" "$hostile_out"' 10
cat "$hostile_out" "$tmp/paster.log" >"$tmp/out"
check "a paste on the control channel reaches the guest's application, exactly" \
	grep -qx "pasted:spectrum-clip-test" "$hostile_out"
check "the filter logs it" grep -q "offered the user's paste (18 bytes) to 1 data device" "$tmp/paster.log"
echo "paste second paste" >"$tmp/ctl.in"
wait_for 'grep -q "^pasted:second" "$hostile_out"' 10
cat "$hostile_out" >"$tmp/out"
check "a second paste replaces it" grep -qx "pasted:second paste" "$hostile_out"
echo file >"$tmp/ctl.in"
wait_for 'grep -q "not a paste or copy with its" "$tmp/paster.log"' 10
cat "$tmp/paster.log" >"$tmp/out"
check "a descriptor that is not a pipe's read end is dropped with one line" \
	grep -q "dropped a message that is not a paste or copy with its pipe" "$tmp/paster.log"
echo big >"$tmp/ctl.in"
wait_for 'grep -q "more than 1048576 bytes" "$tmp/paster.log"' 20
cat "$tmp/paster.log" >"$tmp/out"
check "a paste of more than 1 MiB is dropped with one line" \
	grep -q "paste dropped: more than 1048576 bytes" "$tmp/paster.log"
cat "$hostile_out" >"$tmp/out"
check "and the guest was offered two selections, both the user's" \
	test "$(grep -c '^selection' "$hostile_out")" = 2
check "the host's own selection never reaches it" absent "host-secret" "$hostile_out"
echo "copy $tmp/copied" >"$tmp/ctl.in"
wait_for '[ -s "$tmp/copied" ]' 10
{ cat "$tmp/copied"; echo; cat "$hostile_out" "$tmp/paster.log"; } >"$tmp/out" 2>&1
check "the user's copy gets the guest's selection, exactly (guest-selection)" \
	test "$(cat "$tmp/copied" 2>/dev/null)" = guest-selection
check "asked of the guest as text/plain;charset=utf-8" grep -qx "sent text/plain;charset=utf-8" "$hostile_out"
check "the filter and its guest keep running" kill -0 "$(cat "$tmp/paster.pid")" "$hostile_pid"
exec 7>&-
kill "$hostile_pid" 2>/dev/null

# --- --compositor-fd: a connection made for it, one guest, then the end ---
# As the display relay runs it: the process that connected to the compositor
# becomes the filter, so the window's pid is the filter's.
as_user "$tmp/spectrum-wlfilter" --instance fdtest --listen "$rt/filter-fd" \
	--compositor "$rt/wayland-1" --compositor-fd 1 >"$tmp/out" 2>&1
check "--compositor with --compositor-fd is a usage error (status 2)" test $? = 2
as_user_exec python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
os.set_inheritable(s.fileno(), True)
os.execv(sys.argv[2], [sys.argv[2], "--instance", "fdtest", "--listen", sys.argv[3],
                       "--compositor-fd", str(s.fileno())])' \
	"$rt/wayland-1" "$tmp/spectrum-wlfilter" "$rt/filter-fd" \
	>"$tmp/fd.ready" 2>"$tmp/fd.log" &
filter_fd=$!
pids+=("$filter_fd")
wait_for 'grep -qx ready "$tmp/fd.ready"' 10
start_hostile fd filter-fd
IFS=$'\t' read -r pid fs title <<<"$(window spectrum.fdtest)"
{
	echo "title=${title:-} pid=${pid:-}"
	cat "$tmp/fd.log" "$tmp/fd.out"
} >"$tmp/out"
check "with --compositor-fd the window is labelled and the filter's (${title:-}, pid ${pid:-} = $filter_fd)" \
	test "${title:0:9}" = "[fdtest] " -a "${pid:-}" = "$filter_fd"
exec 7>&-
kill "$hostile_pid" 2>/dev/null
st_fd=running
wait_for '! kill -0 "$filter_fd" 2>/dev/null' 10 && { wait "$filter_fd"; st_fd=$?; }
echo "status $st_fd" >"$tmp/out"
check "and once its one guest has gone it exits 0 (the connection cannot be made again)" \
	test "$st_fd" = 0

# --- the compositor goes: the filters exit 0 ---
kill "$sway_pid"
wait "$sway_pid" 2>/dev/null
st_a=0 st_b=0
wait_for '! kill -0 "$filter_a" 2>/dev/null && ! kill -0 "$filter_b" 2>/dev/null' 10
wait "$filter_a" || st_a=$?
wait "$filter_b" || st_b=$?
echo "exit statuses $st_a $st_b" >"$tmp/out"
check "both filters exit 0 when the compositor ends" test "$st_a$st_b" = 00

tap_end
