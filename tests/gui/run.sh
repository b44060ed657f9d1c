#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# spectrum-settings driven as a person would, headless: an X server of its
# own (Xvfb), a D-Bus session bus and the accessibility bus (AT-SPI), and
# tests/gui/drive.py pressing buttons and typing into entries through the
# accessibility tree.  The file it saved is then judged by `spectrum
# check` and `spectrum plan --json`.  Screenshots stay in the build
# directory: BUILD/tests/gui/spectrum-settings{,-error,-apply,-generations}.png.
#
#   run.sh BUILD_DIR SOURCE_DIR
#
# Prints TAP.  Skips (exit 77) without Xvfb, dbus-run-session or pyatspi.
set -uo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
settings=$build/settings/spectrum-settings
spectrum=$build/spectrum
here=$src/tests/gui
python=/usr/bin/python3

for tool in Xvfb dbus-run-session import; do
	if ! command -v "$tool" >/dev/null; then
		echo "1..0 # SKIP $tool is missing (scripts/deps.sh installs it)"
		exit 77
	fi
done
if ! "$python" -c 'import pyatspi' 2>/dev/null; then
	echo "1..0 # SKIP python3-pyatspi is missing (scripts/deps.sh installs it)"
	exit 77
fi

tmp=$(mktemp -d)
mkdir -p "$build/tests/gui"
shot=$build/tests/gui/spectrum-settings.png
xpid=
cleanup() {
	[[ -n $xpid ]] && kill "$xpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=../tap.sh
. "$src/tests/tap.sh"

# A daemon that is not there: the running view says so, greyed.
export SPECTRUM_RUN_DIR=$tmp/run SPECTRUM_STATE_DIR=$tmp/state
mkdir -p "$SPECTRUM_RUN_DIR" "$SPECTRUM_STATE_DIR"

# No display at all: one line that says what to do, status 1.
env -u DISPLAY -u WAYLAND_DISPLAY "$settings" "$tmp/none.json" >"$tmp/out" 2>&1
rc=$?
check "without a display: status 1 and one line naming the fix" \
	test "$rc" -eq 1 -a "$(wc -l <"$tmp/out")" -eq 1
check "  which says no display is set" grep -q "no display: neither WAYLAND_DISPLAY nor DISPLAY is set" "$tmp/out"

# An X server of our own, on a display number no one uses.
for d in $(seq 90 140); do
	[[ -e /tmp/.X11-unix/X$d || -e /tmp/.X$d-lock ]] && continue
	Xvfb ":$d" -screen 0 1000x720x24 -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
	xpid=$!
	sleep 1
	if kill -0 "$xpid" 2>/dev/null; then
		export DISPLAY=:$d
		break
	fi
	xpid=
done
if [[ -z $xpid ]]; then
	not_ok "Xvfb starts"
	tap_end
	exit 1
fi
export GDK_BACKEND=x11 GTK_A11Y=atspi NO_AT_BRIDGE=0 LANG=C.UTF-8
# No theme from the host: the screenshot looks the same everywhere.
export XDG_CONFIG_HOME=$tmp/config GTK_THEME=Adwaita

# session STEP FILE [SHOT]: spectrum-settings on FILE in a D-Bus session
# of its own (the accessibility bus starts in it), driven by drive.py.
session() {
	local step=$1 file=$2 shot_path=${3:-}
	cat >"$tmp/session.sh" <<-EOF
		"$settings" "$file" >"$tmp/app.log" 2>&1 &
		app=\$!
		timeout 150 "$python" "$here/drive.py" $step "$file" $shot_path
		kill \$app 2>/dev/null
		wait \$app 2>/dev/null
		exit 0
	EOF
	timeout 200 dbus-run-session -- bash "$tmp/session.sh" 2>"$tmp/dbus.log"
}

# run_session STEP FILE [SHOT]: session, its checks counted here (tap.sh's
# counters live in this shell, not in a pipeline's).
run_session() {
	local out=$tmp/session.tap
	session "$@" >"$out"
	[[ -s $out ]] || echo "not ok - $1: drive.py printed nothing" >"$out"
	while IFS= read -r line; do
		case $line in
		"ok - "*) ok "$1: ${line#ok - }" ;;
		"not ok - "*) not_ok "$1: ${line#not ok - }" ;;
		"# "*) echo "$line" ;;
		*) ;; # the accessibility registry's own chatter
		esac
	done <"$out"
}

# 1. Open and save without an edit: the example keeps its plans; a file
#    spectrum-settings wrote is written again byte for byte.
cp "$src/examples/desktop.json" "$tmp/desktop.json"
"$spectrum" plan --json "$tmp/desktop.json" >"$tmp/plan-before.json" 2>/dev/null
run_session save "$tmp/desktop.json"
"$spectrum" plan --json "$tmp/desktop.json" >"$tmp/plan-after.json" 2>/dev/null
check "open + save: the same spectrum plan --json" cmp -s "$tmp/plan-before.json" "$tmp/plan-after.json"
cp "$tmp/desktop.json" "$tmp/ours.json"
run_session save "$tmp/desktop.json"
check "open + save of a file we wrote: byte-identical" cmp -s "$tmp/ours.json" "$tmp/desktop.json"

# 1b. The same with a file of newer fields: an instance of several
#     applications, disposable instances (examples/workbench.json).
cp "$src/examples/workbench.json" "$tmp/workbench.json"
"$spectrum" plan --json "$tmp/workbench.json" >"$tmp/plan-before.json" 2>/dev/null
run_session save "$tmp/workbench.json"
"$spectrum" plan --json "$tmp/workbench.json" >"$tmp/plan-after.json" 2>/dev/null
same_plan() { test -s "$1" && cmp -s "$1" "$2"; }
check "workbench.json, open + save: the same spectrum plan --json" \
	same_plan "$tmp/plan-before.json" "$tmp/plan-after.json"
jq -e '.instances.workbench.applications == ["editor", "viewer"] and .instances.sandbox.disposable == true
	and (.instances.workbench | has("application") | not)' "$tmp/workbench.json" >/dev/null 2>&1
check "  applications and disposable kept as they were" test $? -eq 0
cp "$tmp/workbench.json" "$tmp/ours.json"
run_session save "$tmp/workbench.json"
check "  open + save of it as we wrote it: byte-identical" cmp -s "$tmp/ours.json" "$tmp/workbench.json"

# 2. The story: add an instance with two bindings, see the relative mount
#    path refused, fix it, save.
run_session edit "$tmp/desktop.json" "$shot"
"$spectrum" check "$tmp/desktop.json" >"$tmp/out" 2>&1
check "spectrum check accepts the saved file" grep -q ": ok: 4 applications, 4 resources, 6 instances" "$tmp/out"
"$spectrum" plan --json "$tmp/desktop.json" >"$tmp/plan.json" 2>"$tmp/out"
jq -e '.[] | select(.instance == "scratch") | .application == "mail"' "$tmp/plan.json" >/dev/null 2>&1
check "the plan has instance scratch, running mail" test $? -eq 0
jq -e '.[] | select(.instance == "scratch") | .shares | length == 1 and .[0].resource == "downloads"
	and .[0].path == "/downloads" and .[0].mode == "rw" and .[0].source == "/srv/spectrum/downloads"' \
	"$tmp/plan.json" >/dev/null 2>&1
check "  sharing downloads at /downloads, read-write" test $? -eq 0
jq -e '.[] | select(.instance == "scratch") | .nics | length == 1 and .[0].segment == "web"' \
	"$tmp/plan.json" >/dev/null 2>&1
check "  on the network web" test $? -eq 0
jq -S 'del(.instances.scratch)' "$tmp/desktop.json" >"$tmp/a.json"
jq -S . "$src/examples/desktop.json" >"$tmp/b.json"
check "  and nothing else changed" cmp -s "$tmp/a.json" "$tmp/b.json"
cp "$shot" "$tmp/shot-kept.png" 2>/dev/null
check "the screenshot is kept: $shot" test -s "$shot"

# 3. A file that does not parse opens read-only, with line:column.
printf '{\n  "applications": {\n    "a": {"image": "x",}\n  }\n}\n' >"$tmp/broken.json"
cp "$tmp/broken.json" "$tmp/broken.orig"
run_session readonly "$tmp/broken.json"
check "the broken file is left as it was" cmp -s "$tmp/broken.json" "$tmp/broken.orig"
check "spectrum-settings did not crash on it" test ! -s "$tmp/app.log" -o -z "$(grep -E 'CRITICAL|Segmentation|Aborted' "$tmp/app.log")"

# 4. Someone else writes the file while it is open: noticed, not
#    overwritten until the user says so.
cp "$src/examples/minimal.json" "$tmp/minimal.json"
run_session conflict "$tmp/minimal.json"

# 5. A resource that an instance binds: refused naming it, then deleted
#    with its binding when confirmed.
cp "$src/examples/desktop.json" "$tmp/delete.json"
run_session delete "$tmp/delete.json"
jq -e '(.resources | has("downloads") | not) and (.instances.browser.bindings | has("downloads") | not)
	and (.instances.browser.bindings | has("web"))' "$tmp/delete.json" >/dev/null 2>&1
check "downloads and its binding are gone, browser's other binding stays" test $? -eq 0

# 6. A USB device picked from those present: a fake sysfs, as the
#    daemon's own device checks read it in tests/unit/test_devices.c.
mkdir -p "$tmp/sys/bus/usb/devices/1-2" "$tmp/sys/bus/usb/devices/1-2:1.0" "$tmp/sys/bus/pci/devices"
echo 1209 >"$tmp/sys/bus/usb/devices/1-2/idVendor"
echo 0002 >"$tmp/sys/bus/usb/devices/1-2/idProduct"
echo 1 >"$tmp/sys/bus/usb/devices/1-2/busnum"
echo "Spectrum Test Key" >"$tmp/sys/bus/usb/devices/1-2/product"
cp "$src/examples/minimal.json" "$tmp/device.json"
SPECTRUM_SYSFS=$tmp/sys run_session device "$tmp/device.json"
"$spectrum" plan --json "$tmp/device.json" >"$tmp/plan.json" 2>"$tmp/out"
jq -e '.[] | select(.instance == "scratch") | .usb | length == 1' "$tmp/plan.json" >/dev/null 2>&1
check "the plan passes the picked USB device through" test $? -eq 0
jq -e '.resources.key == {"type": "usb", "vendor": "1209", "product": "0002"}
	and .instances.scratch.bindings.key == {}' "$tmp/device.json" >/dev/null 2>&1
check "  by its vendor:product, 1209:0002" test $? -eq 0

# 7. The running view, with spectrumd answering and then gone (root: the
#    daemon runs in a network namespace of its own, as in daemon/ctl.sh).
if [[ $(id -u) -eq 0 ]] && command -v unshare >/dev/null; then
	cp "$src/tests/daemon/daemon.json" "$tmp/daemon.json"
	unshare --net "$build/spectrumd" -c "$tmp/daemon.json" >"$tmp/daemon.log" 2>&1 &
	dpid=$!
	for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && break; sleep 0.1; done
	SS_DAEMON_PID=$dpid SS_SPECTRUM=$spectrum run_session daemon "$tmp/daemon.json" \
		"$build/tests/gui/spectrum-settings-apply.png"
	kill "$dpid" 2>/dev/null
	wait "$dpid" 2>/dev/null
	jq -e '.instances.a.disposable == true' "$tmp/daemon.json" >/dev/null 2>&1
	check "Disposable saved \"disposable\": true" test $? -eq 0
	"$spectrum" plan --json "$tmp/daemon.json" >"$tmp/plan.json" 2>"$tmp/out"
	jq -e '.[] | select(.instance == "a") | .disposable == true' "$tmp/plan.json" >/dev/null 2>&1
	check "  and spectrum plan --json agrees" test $? -eq 0
	jq -e '.instances.a.display == {"label": {"color": "#c00000"}}' "$tmp/daemon.json" >/dev/null 2>&1
	check "Display and its label colour saved: \"display\": {\"label\": {\"color\": \"#c00000\"}}" test $? -eq 0
	jq -e '.[] | select(.instance == "a") | .display.color == "#c00000"' "$tmp/plan.json" >/dev/null 2>&1
	check "  and spectrum plan --json has the colour" test $? -eq 0
else
	echo "ok $((n + 1)) # SKIP the running view needs root (spectrumd)"
	n=$((n + 1))
fi

tap_end
