#!/bin/bash
# Configurations over time, with real VMs: spectrum switch (and --dry-run),
# a bad file that changes nothing, rollback, generations, gc and its
# refusal, SIGHUP, and a daemon killed (-9) in the middle of a switch.
# TAP.
#
#   run.sh BUILD_DIR SOURCE_ROOT      (after tests/vm/run.sh set up build/vm-state)
#
# Its own state directory (generations and the image store are written
# there), with the kernels of build/vm-state and a copy of its test image.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
vmstate=$build/vm-state
export SPECTRUM_VMM_UID_BASE=${SPECTRUM_VMM_UID_BASE:-1114112}
tmp=$(mktemp -d)
chmod 755 "$tmp"
export SPECTRUM_RUN_DIR=$tmp/run SPECTRUM_STATE_DIR=$tmp/state
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null
	"$spectrum" down --kill >/dev/null 2>&1
	pkill -9 -f "pidfile $SPECTRUM_RUN_DIR/" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

. "$src/tests/tap.sh"
sp() { "$spectrum" "$@" >"$tmp/out" 2>&1; rc=$?; }
has() { grep -q -- "$1" "$tmp/out"; }
one_line() { [ "$(wc -l <"$tmp/out")" = 1 ]; }
pid_of() { "$spectrum" status "$1" --json 2>/dev/null | jq -r '.pid // 0'; }
state_of() { "$spectrum" status "$1" --json 2>/dev/null | jq -r .state; }
names() { "$spectrum" list --json | jq -r '.[].name' | sort | tr '\n' ' '; }
current() { "$spectrum" generations --json | jq -r '.[] | select(.current) | .number'; }
ngens() { "$spectrum" generations --json | jq length; }
start_daemon() {
	"$build/spectrumd" "$@" >>"$tmp/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && return 0; sleep 0.1; done
	cp "$tmp/daemon.log" "$tmp/out"
	return 1
}
# wait_running NAME...: up to 3 minutes for each to run.
wait_running() {
	local inst
	for inst in "$@"; do
		for _ in $(seq 1800); do
			[ "$(state_of "$inst")" = running ] && continue 2
			sleep 0.1
		done
		"$spectrum" list >"$tmp/out" 2>&1
		return 1
	done
}
wait_gone() {
	for _ in $(seq 600); do
		[ "$(names)" = "$1" ] && return 0
		sleep 0.1
	done
	names >"$tmp/out"
	return 1
}

if [ ! -f "$vmstate/images/test-x86.erofs" ] || [ ! -d "$vmstate/kernels/x86_64" ]; then
	echo "1..0 # SKIP run tests/vm/run.sh first (it builds the kernels and test image)"
	exit 0
fi
command -v jq >/dev/null || { echo "1..0 # SKIP needs jq"; exit 0; }
mkdir -p "$SPECTRUM_STATE_DIR/images" "$SPECTRUM_RUN_DIR"
chmod 755 "$SPECTRUM_STATE_DIR" "$SPECTRUM_RUN_DIR"
ln -s "$vmstate/kernels" "$SPECTRUM_STATE_DIR/kernels"
cp "$vmstate/images/test-x86.erofs" "$SPECTRUM_STATE_DIR/images/"
t0=$(date +%s)

# config FILE [NAME=MEMORY...]: instances of the idle application, each
# autostart, with that much memory.
config() {
	local file=$1 sep=
	shift
	{
		printf '{"version": 1, "applications": {"idle": {"image": "test-x86",\n'
		printf '  "command": ["/bin/sh", "-c", "echo up; while :; do sleep 1; done"]}},\n'
		printf ' "instances": {\n'
		for spec in "$@"; do
			printf '%s  "%s": {"application": "idle", "memory": "%s", "autostart": true}' \
				"$sep" "${spec%=*}" "${spec#*=}"
			sep=$',\n'
		done
		printf '\n}}\n'
	} >"$file"
}
v1=$tmp/v1.json v2=$tmp/v2.json
config "$v1" a=128M b=128M c=128M
config "$v2" a=128M b=160M d=128M

check "spectrumd starts with three instances" start_daemon -c "$v1"
sp generations
check "the file it started with is generation 1, current" has "^ *1 .*v1.json  (current)$"
sp up
check "up starts them" wait_running a b c
a_pid=$(pid_of a) b_pid=$(pid_of b) c_pid=$(pid_of c)
store=$(ls "$SPECTRUM_STATE_DIR/store")
check "the root image is in the store by its sha256" \
	[ "$store" = "$(sha256sum "$SPECTRUM_STATE_DIR/images/test-x86.erofs" | cut -c1-64).erofs" ]
check "the VMM boots the stored bytes" bash -c "ls -l /proc/$a_pid/fd | grep -q 'store/$store'"

sp switch "$v2" --dry-run
cp "$tmp/out" "$tmp/dry"
check "switch --dry-run prints one line per instance" eval '[ $rc = 0 ] && [ $(wc -l <"$tmp/out") = 4 ]'
check "  a: unchanged" has "^a: unchanged, keeps running$"
check "  b: restart, naming the change" has "^b: restart (memory_mib.* changed)$"
check "  c: stop" has "^c: stop (removed)$"
check "  d: start" has "^d: start (new, autostart)$"
check "and changes nothing" eval '[ "$(ngens)" = 1 ] && [ "$(names)" = "a b c " ] && [ "$(pid_of b)" = "$b_pid" ]'

sp switch "$v2"
check "switch applies it" eval '[ $rc = 0 ] && has "^generation 2 is current$"'
check "with the lines the dry run printed" eval 'head -n 4 "$tmp/out" | diff - "$tmp/dry" >/dev/null'
check "c is stopped and gone" wait_gone "a b d "
check "b and d run" wait_running b d
check "a kept running undisturbed (same QEMU pid)" [ "$(pid_of a)" = "$a_pid" ]
check "b was restarted (new pid)" eval '[ "$(pid_of b)" != "$b_pid" ] && [ "$(pid_of b)" != 0 ]'
check "with its new memory" [ "$("$spectrum" status b --json | jq .memory_mib)" = 160 ]
check "c's VMM is gone" bash -c "! kill -0 $c_pid 2>/dev/null"
check "generation 2 is current" [ "$(current)" = 2 ]

# A file with an error: nothing changes.
sed 's/"memory": "160M"/"memory": "lots"/' "$v2" >"$tmp/bad.json"
b_pid=$(pid_of b) d_pid=$(pid_of d)
sp switch "$tmp/bad.json"
check "a switch to a bad file is refused in one line naming the place" \
	eval '[ $rc != 0 ] && one_line && has "bad.json: instances.b.memory: error:"'
check "and changes nothing" eval '[ "$(ngens)" = 2 ] && [ "$(current)" = 2 ] &&
	[ "$(pid_of b)" = "$b_pid" ] && [ "$(pid_of d)" = "$d_pid" ] && [ "$(names)" = "a b d " ]'

# Rollback: the previous generation's set again.
sp rollback
check "rollback switches to generation 1" eval '[ $rc = 0 ] && has "^generation 1 is current$"'
check "d stops, c is back" wait_gone "a b c "
check "c and b run" wait_running b c
check "b has its old memory again" [ "$("$spectrum" status b --json | jq .memory_mib)" = 128 ]
check "a still the same VM" [ "$(pid_of a)" = "$a_pid" ]

sp rollback 99
check "a rollback to a generation that does not exist is refused in one line" \
	eval '[ $rc != 0 ] && one_line && has "no generation 99"'
check "and changes nothing" eval '[ "$(current)" = 1 ] && [ "$(names)" = "a b c " ]'
sp gc --keep 1
check "a gc that would remove the current generation is refused in one line" \
	eval '[ $rc != 0 ] && one_line && has "would remove generation 1, the current one"'
check "and removes nothing" eval '[ "$(ngens)" = 2 ] && [ "$(current)" = 1 ]'
sp generations
check "generations lists both, 1 current" eval 'has "^ *1 .*(current)$" && has "^ *2 .*v2.json$"'

# SIGHUP: the file the daemon started with, edited.
config "$v1" a=128M b=128M c=128M e=128M
sed -i 's/"e": {"application": "idle", "memory": "128M", "autostart": true}/"e": {"application": "idle"}/' "$v1"
kill -HUP "$daemon"
for _ in $(seq 100); do [ "$(names)" = "a b c e " ] && break; sleep 0.1; done
check "SIGHUP reads the file again: e is added, the others untouched" \
	eval '[ "$(names)" = "a b c e " ] && [ "$(current)" = 3 ] && [ "$(pid_of a)" = "$a_pid" ]'

sp switch "$v2" --no-restart --dry-run
check "--no-restart: a changed running instance is only reported" \
	has "^b: changed (memory_mib[a-z_, ]*), not restarted: 'spectrum restart b' applies it$"

# kill -9 in the middle of a switch: each time the image is rebuilt (32
# MiB of new bytes, never booted: --no-restart), so the switch hashes it
# and copies it into the store, and the daemon is killed at another point
# of that, or after.  Restarted without -c, it
# resumes the current generation, which must be whole, and adopts the VMs.
whole() {
	local gdir=$SPECTRUM_STATE_DIR/generations/$1
	jq -e .images "$gdir/generation.json" >/dev/null && jq -e .instances "$gdir/config.json" >/dev/null &&
		[ -f "$gdir/source" ] && [ "$(readlink "$SPECTRUM_STATE_DIR/generations/current")" = "$1" ]
}
outcomes=
for delay in 0.05 0.6 1.2 4; do
	before=$(current)
	head -c 33554432 /dev/urandom >"$SPECTRUM_STATE_DIR/images/test-x86.erofs"
	"$spectrum" switch "$v1" --no-restart >/dev/null 2>&1 &
	sleep "$delay"
	kill -9 "$daemon"
	wait "$daemon" 2>/dev/null
	daemon=
	start_daemon || break
	cur=$(current)
	outcomes="$outcomes $before->$cur"
	whole "$cur" >"$tmp/out" 2>&1 || break
	[ "$(names)" = "a b c e " ] && [ "$(pid_of a)" = "$a_pid" ] || break
done
check "killed during 4 switches, spectrumd resumes a whole current generation each time ($outcomes)" \
	eval '[ $(echo $outcomes | wc -w) = 4 ] && whole "$cur"'
check "runs its instances, and adopted the VMs" eval '[ "$(names)" = "a b c e " ] && [ "$(pid_of a)" = "$a_pid" ]'
hash=$(jq -r '.images[0].sha256' "$SPECTRUM_STATE_DIR/generations/$cur/generation.json")
check "its image is in the store with the hash it records" \
	eval '[ "$(sha256sum "$SPECTRUM_STATE_DIR/store/$hash.erofs" | cut -c1-64)" = "$hash" ]'

# The rebuilt image is a change of every plan that boots it.
head -c 4096 /dev/zero >>"$SPECTRUM_STATE_DIR/images/test-x86.erofs"
sp switch "$v1" --dry-run
check "a rebuilt root image restarts the instances that boot it" has "^a: restart (root changed)$"
sp gc
check "gc removes the generations older than the current one" \
	eval '[ $rc = 0 ] && "$spectrum" generations --json | jq -e "all(.number >= $cur)" >/dev/null'
check "and keeps the image the current generation boots" [ -f "$SPECTRUM_STATE_DIR/store/$hash.erofs" ]
check "and the image running VMs boot, whatever generation started them" [ -f "$SPECTRUM_STATE_DIR/store/$store" ]

"$spectrum" down --kill >/dev/null 2>&1
echo "# run time $(($(date +%s) - t0)) s"
tap_end
