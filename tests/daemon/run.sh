#!/bin/bash
# The supervisor with real VMs: lifecycle by name, the data-safety rules,
# adoption after the daemon is killed, authorization, and a VMM killed
# while its guest writes.  TAP.
#
#   run.sh BUILD_DIR SOURCE_ROOT      (after tests/vm/run.sh set up build/vm-state)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
cfg=$src/tests/daemon/daemon.json
export SPECTRUM_STATE_DIR=$build/vm-state
# VMM uids of this suite's own, so that it never finds one held by another
# suite's VM (instance names repeat across suites).
export SPECTRUM_VMM_UID_BASE=${SPECTRUM_VMM_UID_BASE:-1048576}
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrumd-test.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR" # as /run/spectrum: others reach the socket, the daemon decides
tmp=$(mktemp -d)
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	pkill -9 -f "pidfile $SPECTRUM_RUN_DIR/" 2>/dev/null
	rm -rf "$tmp" "$SPECTRUM_RUN_DIR"
}
trap cleanup EXIT INT TERM

. "$src/tests/tap.sh"
sp() { "$spectrum" "$@" >"$tmp/out" 2>&1; rc=$?; }
has() { grep -q -- "$1" "$tmp/out"; }
jqok() { jq -e "$@" >/dev/null; }
start_daemon() {
	"$build/spectrumd" -c "$cfg" >>"$tmp/daemon.log" 2>&1 &
	daemon=$!
	# The socket of a killed daemon stays behind: wait for an answer.
	for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
# A VMM whose first parent died is reaped by whoever adopted the orphan,
# possibly late: a zombie has exited.
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]; }
state_of() { "$spectrum" status "$1" --json 2>/dev/null | jq -r .state; }

if [ ! -f "$SPECTRUM_STATE_DIR/images/test-x86.erofs" ]; then
	echo "1..0 # SKIP run tests/vm/run.sh first (it builds the kernels and test image)"
	exit 0
fi
rm -rf "$SPECTRUM_STATE_DIR/volumes"
"$build/spectrumd" -n -c "$cfg" >"$tmp/out" 2>&1
check "spectrumd -n checks the configuration" has "configuration OK"
SPECTRUM_READY_TIMEOUT=0 "$build/spectrumd" -n -c "$cfg" >"$tmp/out" 2>&1
rc=$?
check "a bad SPECTRUM_READY_TIMEOUT is refused in one line (status 2)" \
	eval '[ $rc = 2 ] && has "SPECTRUM_READY_TIMEOUT=\"0\" is not 1 to 86400 seconds" && [ $(wc -l <"$tmp/out") = 1 ]'
check "spectrumd starts" start_daemon

sp start a
check "start by name" [ "$rc" = 0 ]
sp list
check "list shows it running" has "^a *running"
sp list --json
check "list --json parses" jqok 'length == 9' "$tmp/out"
sp status a --json
check "status --json has pid, uptime, memory" jqok '.state == "running" and .pid > 0 and .rss_kib > 0 and .uptime_s >= 0' "$tmp/out"
pid=$(jq -r .pid "$tmp/out")
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
check "the VMM runs as an unprivileged uid ($uid)" [ "$uid" -ge 524288 ]
check "with no supplementary groups" bash -c "awk '/^Groups:/ {exit NF > 1}' /proc/$pid/status"
check "under a seccomp filter" grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"
check "and no capabilities" grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$pid/status"
# Of what the daemon holds, the VMM keeps only its instance lock (which it
# holds for the VM's life); the hand-over's copies above 200 close at exec.
check "it keeps no descriptor of the daemon's but its lock" bash -c "
	for f in /proc/$pid/fd/*; do
		[ \${f##*/} -lt 200 ] || [ \$(readlink \$f) = \$SPECTRUM_RUN_DIR/a/lock ] || exit 1
	done"
# start returns at the guest's "ready"; the application prints just after.
for _ in $(seq 100); do
	sp logs a
	has "up on a" && break
	sleep 0.1
done
check "logs shows the console" has "up on a"
printf '\035' | "$spectrum" console a >"$tmp/out" 2>&1
rc=$?
check "console attaches and Ctrl-] detaches" [ "$rc" = 0 ]
check "saying so" has "detached"
sp start a
check "starting a running instance is refused" has "already running"
sp stop a
check "stop by name" [ "$rc" = 0 ]
check "stopped" [ "$(state_of a)" = stopped ]

# Two clients starting conflicting instances at the same moment: one wins.
"$spectrum" start writer >"$tmp/c1" 2>&1 &
c1=$!
"$spectrum" start writer2 >"$tmp/c2" 2>&1
c2rc=$?
wait $c1
c1rc=$?
check "of two concurrent conflicting starts exactly one wins" [ $((c1rc == 0)) -ne $((c2rc == 0)) ]
"$spectrum" stop writer >/dev/null 2>&1
"$spectrum" stop writer2 >/dev/null 2>&1

sp start writer
check "a rw volume starts once" [ "$rc" = 0 ]
sp start writer2
check "a second rw start is refused" [ "$rc" = 1 ]
check "naming the resource and the holder" has "resource store is held rw by running instance writer"
sp start reader
check "an ro start is refused while a writer holds it" has "held rw by running instance writer"
sp stop writer
"$spectrum" start reader >"$tmp/r1" 2>&1 &
r1=$!
"$spectrum" start reader2 >"$tmp/r2" 2>&1
rc2=$?
wait $r1
rc1=$?
check "two ro starts succeed" [ "$rc1" = 0 -a "$rc2" = 0 ]
sp start writer
check "a rw start is refused while readers run" has "held ro by running instance reader"

# kill -9 the daemon: the VMs keep running; a new daemon adopts them.
pids=$("$spectrum" list --json | jq -r '.[] | select(.state == "running") | .pid' | tr '\n' ' ')
kill -9 "$daemon"
wait "$daemon" 2>/dev/null || true
daemon=
sleep 1
alive=0
for p in $pids; do alive "$p" && alive=$((alive + 1)); done
check "VMs survive kill -9 of the daemon" [ "$alive" = 2 ]
check "a new daemon starts" start_daemon
sp list --json
check "and adopts both" jqok '[.[] | select(.state == "running" and .adopted)] | length == 2' "$tmp/out"
sp start writer
check "rules still hold for adopted VMs" has "held ro by running instance reader"
sp down
for _ in $(seq 100); do
	[ "$("$spectrum" list --json | jq '[.[] | select(.state != "stopped")] | length')" = 0 ] && break
	sleep 0.2
done
gone=0
for p in $pids; do alive "$p" || gone=$((gone + 1)); done
[ "$gone" = 2 ] || { "$spectrum" list; ps -o pid,stat,cmd -p $pids; } | sed "s/^/# /"
check "the new daemon stops them" [ "$gone" = 2 ]

# Only root and the spectrum group may control the daemon.
setpriv --reuid=65534 --regid=65534 --clear-groups "$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "another uid is refused" [ "$rc" = 4 ]
check "with a clear message" has "permission denied: uid 65534"

# kill -9 the VMM while its guest writes and fsyncs: the file system is
# clean and every record the guest synced is there.
sp start logger
sleep 6
vmm=$("$spectrum" status logger --json | jq -r .pid)
kill -9 "$vmm"
sleep 1
last=$(grep -o 'synced [0-9]*' "$SPECTRUM_RUN_DIR/logger/console.log" | tail -1 | cut -d' ' -f2)
img=$SPECTRUM_STATE_DIR/volumes/store.img
check "the guest synced records before the kill" [ "${last:-0}" -gt 0 ]
e2fsck -fn "$img" >"$tmp/out" 2>&1
check "e2fsck -fn is clean after the kill" [ $? = 0 ]
# The records are safe in the journal; replay it on a copy to read them.
cp --sparse=always "$img" "$tmp/replayed.img"
e2fsck -fy "$tmp/replayed.img" >/dev/null 2>&1
debugfs -R "cat /log" "$tmp/replayed.img" 2>/dev/null >"$tmp/log"
missing=0
for i in $(seq 1 "${last:-0}"); do grep -qx "record $i" "$tmp/log" || missing=$((missing + 1)); done
check "every synced record is on the volume ($last)" [ "$missing" = 0 ]
sp status logger --json
check "the daemon recorded the VMM's death" jqok '.state == "failed" and (.reason | test("killed by signal 9"))' "$tmp/out"

# up starts the autostart instances (a and b), down stops them.
sp up
for _ in $(seq 150); do
	[ "$("$spectrum" list --json | jq '[.[] | select(.state == "running")] | length')" = 2 ] && break
	sleep 0.2
done
sp list --json
check "up starts every autostart instance" jqok '[.[] | select(.state == "running") | .name] == ["a", "b"]' "$tmp/out"
sp down
for _ in $(seq 150); do
	[ "$("$spectrum" list --json | jq '[.[] | select(.state != "stopped" and .state != "failed")] | length')" = 0 ] && break
	sleep 0.2
done
sp list --json
check "down stops them" jqok '[.[] | select(.state == "running")] | length == 0' "$tmp/out"

# Restart policy: an instance that fails is started again, within limits.
"$spectrum" start crasher >/dev/null 2>&1
for _ in $(seq 150); do
	[ "$(grep -c crashing "$SPECTRUM_RUN_DIR/crasher/console.log" 2>/dev/null)" -ge 2 ] && break
	sleep 0.2
done
check "on-failure restarts a failed instance" [ "$(grep -c crashing "$SPECTRUM_RUN_DIR/crasher/console.log")" -ge 2 ]
"$spectrum" stop crasher >/dev/null 2>&1
sleep 2
sp status crasher --json
check "a stop ends the restarts" jqok '.state == "stopped" or .state == "failed"' "$tmp/out"

# A guest whose kernel panics after it is ready: its reason is the panic
# line of this run's console log, not "stopped without reporting a status".
"$spectrum" start panicker >/dev/null 2>&1
for _ in $(seq 150); do [ "$(state_of panicker)" = failed ] && break; sleep 0.2; done
sp status panicker --json
check "a kernel panic is the reason a failed instance gives" \
	jqok '.state == "failed" and .reason == "the guest'"'"'s kernel panicked: sysrq triggered crash"' "$tmp/out"

# A device is held, not the resource that names it: one USB device (fake
# /sys and /dev; QEMU's usb-host waits for a device it cannot open, so the
# VM still runs) named by vendor:product twice and by its port.
kill "$daemon"
wait "$daemon" 2>/dev/null
daemon=
mkdir -p "$tmp/sys/bus/usb/devices/1-1" "$tmp/dev/bus/usb/001"
echo 1050 >"$tmp/sys/bus/usb/devices/1-1/idVendor"
echo 0407 >"$tmp/sys/bus/usb/devices/1-1/idProduct"
echo 1 >"$tmp/sys/bus/usb/devices/1-1/busnum"
echo 2 >"$tmp/sys/bus/usb/devices/1-1/devnum"
: >"$tmp/dev/bus/usb/001/002"
cat >"$tmp/dev.json" <<JSON
{"applications": {"idle": {"image": "test-x86", "memory": "128M",
   "command": ["/bin/sh", "-c", "while :; do sleep 1; done"]}},
 "resources": {"key": {"type": "usb", "vendor": "1050", "product": "0407"},
               "key2": {"type": "usb", "vendor": "1050", "product": "0407"},
               "port": {"type": "usb", "bus": 1, "port": "1"}},
 "instances": {"key": {"application": "idle", "bindings": {"key": {}}},
               "key2": {"application": "idle", "bindings": {"key2": {}}},
               "port": {"application": "idle", "bindings": {"port": {}}}}}
JSON
cfg=$tmp/dev.json
export SPECTRUM_SYSFS=$tmp/sys SPECTRUM_DEVFS=$tmp/dev
check "a daemon with a USB device starts" start_daemon
sp start key
check "an instance with the device starts" [ "$rc" = 0 ]
sp start key2
check "another naming it through a second resource is refused, naming the holder" \
	has "usb device 1050:0407 (resource key2) is held by running instance key (as resource key)"
sp start port
check "so is one naming it by its port" \
	has "usb device bus 1 port 1 (resource port) is held by running instance key, as 1050:0407 (resource key): both are the same device"
check "the node stays the holder's" [ "$(stat -c %u "$tmp/dev/bus/usb/001/002")" -ge 524288 ]
sp stop key
check "and is its owner's again after" [ "$(stat -c %u "$tmp/dev/bus/usb/001/002")" = 0 ]
sp start key2
check "then the second resource's instance starts" [ "$rc" = 0 ]
sp stop key2

tap_end
