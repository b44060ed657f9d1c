#!/bin/bash
# The trust boundary between a compartment and the host.  A guest that
# escaped into its VMM acts with the VMM's uid: as that uid, this test
# plants symbolic links, hard links and FIFOs at every name root touches
# in the run and state directories, then runs `spectrum run` and a
# spectrumd start/stop, and checks that no file of root's changed content
# or owner, that nothing hung, and that the VMM's uid owns nothing there.
# Also: a guest flooding its console leaves a log under its cap that still
# ends with its newest line.  TAP.
#
#   run.sh BUILD_DIR SOURCE_ROOT      (after tests/vm/run.sh set up build/vm-state)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
export SPECTRUM_STATE_DIR=$build/vm-state
# VMM uids of this suite's own, so that it never finds one held by another
# suite's VM (instance names repeat across suites).
export SPECTRUM_VMM_UID_BASE=${SPECTRUM_VMM_UID_BASE:-1179648}
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-trust.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR"
tmp=$(mktemp -d /tmp/spectrum-trust-files.XXXXXX)
chmod 755 "$tmp"
daemon=
hardlinks=$(cat /proc/sys/fs/protected_hardlinks 2>/dev/null || echo 1)
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	echo "$hardlinks" >/proc/sys/fs/protected_hardlinks 2>/dev/null
	pkill -9 -f "$SPECTRUM_RUN_DIR/" 2>/dev/null
	rm -rf "$tmp" "$SPECTRUM_RUN_DIR"
}
trap cleanup EXIT INT TERM

. "$src/tests/tap.sh"

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (VMMs run as their own uids)"
	exit 0
fi
if [ ! -f "$SPECTRUM_STATE_DIR/images/test-x86.erofs" ]; then
	echo "1..0 # SKIP run tests/vm/run.sh first (it builds the kernels and test image)"
	exit 0
fi

cfg=$tmp/trust.json
cat >"$cfg" <<'JSON'
{"applications": {
   "once": {"image": "test-x86", "memory": "128M",
            "command": ["/bin/sh", "-c", "echo victim-ran; echo data >> /home/data/log"]},
   "idle": {"image": "test-x86", "memory": "128M",
            "command": ["/bin/sh", "-c", "echo idle-up; exec sleep 600"]},
   "flood": {"image": "test-x86", "memory": "128M",
             "command": ["/bin/sh", "-c", "yes spectrum-flood-line | head -c 3000000; echo flood-end"]}},
 "resources": {"victim-data": {"type": "block", "size": "16M"}},
 "instances": {
   "victim": {"application": "once",
              "bindings": {"victim-data": {"path": "/home/data", "mode": "rw"}}},
   "idle": {"application": "idle"},
   "flood": {"application": "flood"}}}
JSON

uid_of() { "$spectrum" plan "$cfg" "$1" --json | jq -r '.[0].vmm.uid // .vmm.uid'; }
U_victim=$(uid_of victim)
U_idle=$(uid_of idle)

# Files of root's that a hostile VMM would like to own or overwrite.
mkdir -p "$tmp/targets"
chmod 755 "$tmp/targets"
for i in $(seq 1 40); do
	echo "secret $i" >"$tmp/targets/t$i"
	chmod 600 "$tmp/targets/t$i"
done
snapshot() {
	(cd "$tmp/targets" && for f in t*; do
		echo "$f $(stat -c '%u:%g %a %h' "$f") $(sha256sum <"$f" | cut -c1-16)"
	done)
}
snapshot >"$tmp/before"
unchanged() { snapshot >"$tmp/after"; diff "$tmp/before" "$tmp/after" >"$tmp/out"; }

# Every name root creates, opens, chowns or removes for an instance.
names=(lock pid pid.tmp initrd.img initrd.img.tmp console.log vmm.log
	console.sock control.sock qmp.sock vmm)
# plant KIND INSTANCE UID: as the VMM's uid, one of KIND at each name;
# prints how many it could plant.
plant() {
	local kind=$1 inst=$2 uid=$3 dir=$SPECTRUM_RUN_DIR/$2 i=0 planted=0 name path t
	for name in "${names[@]}" "../$inst.devices" "$SPECTRUM_STATE_DIR/volumes/victim-data.img"; do
		i=$((i + 1))
		case $name in /*) path=$name ;; *) path=$dir/$name ;; esac
		t=$tmp/targets/t$(((i + ${#kind}) % 40 + 1))
		case $kind in
		symlink) setpriv --reuid="$uid" --regid="$uid" --clear-groups ln -sfn "$t" "$path" ;;
		hardlink) setpriv --reuid="$uid" --regid="$uid" --clear-groups ln -f "$t" "$path" ;;
		fifo) setpriv --reuid="$uid" --regid="$uid" --clear-groups \
			sh -c 'rm -rf "$1" && mkfifo "$1"' - "$path" ;;
		esac 2>/dev/null && planted=$((planted + 1))
	done
	echo "$planted"
}

sp() { "$spectrum" "$@" >"$tmp/out" 2>&1; rc=$?; }
has() { grep -q -- "$1" "$tmp/out"; }
start_daemon() {
	"$build/spectrumd" -c "$cfg" >>"$tmp/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
stop_daemon() { kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; daemon=; }
owns_nothing() {
	find "$SPECTRUM_RUN_DIR" "$SPECTRUM_STATE_DIR" \( -uid "$U_victim" -o -uid "$U_idle" \) \
		>"$tmp/out" 2>&1
	[ ! -s "$tmp/out" ]
}

# First runs: the directories exist as an attacker would find them.
timeout 300 "$spectrum" run "$cfg" victim --timeout 240 >"$tmp/out" 2>&1 </dev/null
rc=$?
check "a first run works (status $rc)" has "victim-ran"
check "the VMM's uid owns no file or directory of the run and state directories" owns_nothing

for kind in symlink hardlink fifo; do
	# Hard links to files one does not own are what protected_hardlinks
	# forbids; a host without it must be safe too.
	[ "$kind" = hardlink ] && echo 0 >/proc/sys/fs/protected_hardlinks
	n1=$(plant "$kind" victim "$U_victim")
	n2=$(plant "$kind" idle "$U_idle")
	echo "$hardlinks" >/proc/sys/fs/protected_hardlinks
	echo "# $kind: the VMM's uid planted $((n1 + n2)) of $((2 * ${#names[@]} + 4))"
	check "$kind: the VMM's uid cannot plant anything where root works" [ $((n1 + n2)) = 0 ]
	timeout 300 "$spectrum" run "$cfg" victim --timeout 240 >"$tmp/out" 2>&1 </dev/null
	rc=$?
	check "$kind: spectrum run neither hangs nor fails (status $rc)" \
		eval '[ $rc != 124 ] && has victim-ran'
	ok_start=false
	if start_daemon && timeout 300 "$spectrum" start idle >"$tmp/out" 2>&1; then
		"$spectrum" logs idle >"$tmp/logs" 2>&1
		timeout 120 "$spectrum" stop idle >>"$tmp/out" 2>&1 && ok_start=true
	fi
	stop_daemon
	check "$kind: a spectrumd start and stop works" $ok_start
	check "$kind: no file of root's changed content, owner or mode" unchanged
	check "$kind: the VMM's uid still owns nothing there" owns_nothing
done

# A `spectrum run` killed outright takes its VM with it (no orphan whose
# files a next run would break), and the next run works.
run_until idle-up "$tmp/idle.out" run "$cfg" idle --timeout 240
runner=$bg
vmm=$(pgrep -P $runner -f "qemu-system" | head -n 1)
kill -9 $runner
gone=false
for _ in $(seq 100); do
	[ -n "$vmm" ] && ! kill -0 "$vmm" 2>/dev/null && gone=true && break
	sleep 0.1
done
check "a spectrum run killed with SIGKILL takes its VMM with it" $gone
timeout 300 "$spectrum" run "$cfg" idle --timeout 60 >"$tmp/out" 2>&1 </dev/null
check "and nothing is left that breaks the instance's next run" has idle-up

# A second run of an instance that runs names it and touches nothing of
# the running VM: it still answers and stops as it should.
ok_second=false
if start_daemon && timeout 300 "$spectrum" start idle >/dev/null 2>&1; then
	pid=$("$spectrum" status idle --json | jq -r .pid)
	sp run "$cfg" idle --timeout 60
	check "a second run of a running instance is refused, naming its pid (status 3)" \
		eval '[ $rc = 3 ] && has "instance idle is already running (pid $pid)"'
	"$spectrum" logs idle >"$tmp/out" 2>&1
	check "and the running VM is untouched: its console log is still there" has idle-up
	timeout 120 "$spectrum" stop idle >"$tmp/out" 2>&1 && ok_second=true
fi
stop_daemon
check "and it still stops through its control port" $ok_second

# A run directory of another owner (an older Spectrum gave it to the
# VMM) is refused, not used.
chown "$U_victim:$U_victim" "$SPECTRUM_RUN_DIR/victim"
sp run "$cfg" victim --timeout 240
check "a run directory the VMM's uid owns is refused in one line (status 3)" \
	eval '[ $rc = 3 ] && has "belongs to uid $U_victim" && [ $(wc -l <"$tmp/out") = 1 ]'
check "and nothing of root's changed" unchanged
rm -rf "${SPECTRUM_RUN_DIR:?}/victim"

# A guest that floods its console: the log keeps the newest bytes under
# its cap (1 MiB), whole lines first.
timeout 600 "$spectrum" run "$cfg" flood --timeout 540 >/dev/null 2>"$tmp/out" </dev/null
rc=$?
log=$SPECTRUM_RUN_DIR/flood/console.log
size=$(stat -c %s "$log" 2>/dev/null || echo 0)
echo "# flood: status $rc, console log $size bytes"
check "a flooding guest's console log stays under its cap" eval '[ "$size" -gt 0 ] && [ "$size" -le 1048576 ]'
check "and still ends with the newest lines" grep -q flood-end "$log"
check "and starts with a whole line" eval '[ "$(head -n 1 "$log")" = spectrum-flood-line ]'
# The same under spectrumd, read the way a user reads it.
flooded=false
if start_daemon && timeout 300 "$spectrum" start flood >/dev/null 2>&1; then
	for _ in $(seq 600); do
		[ "$("$spectrum" status flood --json | jq -r .state)" = stopped ] && break
		sleep 0.5
	done
	"$spectrum" logs flood >"$tmp/out" 2>&1
	bytes=$(wc -c <"$tmp/out")
	echo "# spectrumd flood: spectrum logs gave $bytes bytes"
	[ "$bytes" -le 1048576 ] && tail -n 3 "$tmp/out" | grep -q flood-end && flooded=true
fi
stop_daemon
check "spectrum logs of a flooding guest under spectrumd: under the cap, newest lines last" $flooded

tap_end
