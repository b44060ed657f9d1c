#!/bin/bash
# Several applications in one instance, and disposable instances, in real
# VMs (TCG here, KVM where it works).  TAP.
#
#   multi.sh BUILD_DIR SOURCE_ROOT
#
# A state directory of its own (BUILD_DIR/vm-state-multi: the guest kernel
# from the cached .deb, this build's spectrum-init, the test image), so
# that it never changes the kernels other tests boot.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
cfg=$src/tests/vm/multi.json
export SPECTRUM_STATE_DIR=$build/vm-state-multi
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-multi.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR"
tmp=$(mktemp -d)
daemon=
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon"
	rm -rf "$tmp" "$SPECTRUM_RUN_DIR"
}
trap cleanup EXIT INT TERM

. "$src/tests/tap.sh"

run() {
	"$spectrum" run "$cfg" "$@" --timeout 180 >"$tmp/out" 2>&1 </dev/null
	rc=$?
}
has() { grep -q -- "$1" "$tmp/out"; }

. "$src/tests/vm/kernels.sh"
setup() {
	mkdir -p "$SPECTRUM_STATE_DIR"
	setup_kernels "$src" "$build" x86_64 &&
		"$build/spectrum-image" build -n test-x86 -p busybox-static -d "$src/tests/vm/root"
}
if ! setup >"$tmp/setup" 2>&1; then
	echo "1..1"
	echo "not ok 1 - set up the guest kernel and test image"
	sed 's/^/# /' "$tmp/setup"
	exit 1
fi
rm -rf "$SPECTRUM_STATE_DIR/volumes"

# Two applications in one instance: both run, each one's end is reported.
run both
check "two applications: the first prints its line" has "^hello-line"
check "two applications: the second prints its line" has "^world-line"
check "each application's exit is reported by name" \
	bash -c "grep -q 'both: application hello exited with status 0' '$tmp/out' && grep -q 'both: application world exited with status 0' '$tmp/out'"
check "the instance exits 0 when every application did" [ "$rc" = 0 ]

# One of two fails: named, and its status is the instance's.
run one-fails
check "the failing application's line is printed" has "^fail-line"
check "the other still runs to its end" has "^hello-line"
check "the failing application is reported by name" has "one-fails: application fail exited with status 3"
check "the instance exits with the failing application's status" [ "$rc" = 3 ]

# A disposable instance writes its volume and sees the write; the volume
# does not change and the layer is gone after stop.
vol=$SPECTRUM_STATE_DIR/volumes/dvol.img
run keeper # creates and formats the volume, and writes a mark into it
check "a plain instance writes the volume" has "wrote=keeper"
before=$(sha256sum <"$vol")
run_until "wrote=" "$tmp/a" run "$cfg" scratch-a --timeout 180
cp "$tmp/a" "$tmp/out"
check "a disposable guest sees its own write" has "wrote=scratch-a"
check "its layer is in root's run directory while it runs" \
	test -f "$SPECTRUM_RUN_DIR/scratch-a/overlay-vol0.qcow2"
check "the layer is the caller's file, mode 0600 (handed to the VMM as a descriptor)" \
	[ "$(stat -c %u:%a "$SPECTRUM_RUN_DIR/scratch-a/overlay-vol0.qcow2")" = "$(id -u):600" ]
# A second disposable instance of the same volume runs at the same time.
run scratch-b
check "a second disposable instance of the volume runs meanwhile" has "wrote=scratch-b"
check "it sees the volume, not the first one's write" has "before=keeper"
check "it exits 0" [ "$rc" = 0 ]
wait "$bg"
rc_a=$?
cp "$tmp/a" "$tmp/out"
check "the first disposable instance exits 0" [ "$rc_a" = 0 ]
check "the volume is unchanged after the disposable runs" [ "$(sha256sum <"$vol")" = "$before" ]
check "the layers are gone after stop" \
	bash -c "! ls '$SPECTRUM_RUN_DIR'/scratch-*/overlay-* 2>/dev/null"

# spectrum run --disposable: the same for an instance that is not.
run keeper --disposable
check "run --disposable: the guest writes" has "wrote=keeper"
check "run --disposable: it saw no earlier disposable write" has "before=keeper"
check "run --disposable: the volume is unchanged" [ "$(sha256sum <"$vol")" = "$before" ]
run keeper
check "a plain run still writes the volume" [ "$(sha256sum <"$vol")" != "$before" ]
sha256sum <"$vol" >"$tmp/sum"

# spectrumd: the same rules and reports.
sp() { "$spectrum" "$@" >"$tmp/out" 2>&1; rc=$?; }
jqok() { jq -e "$@" >/dev/null; }
wrote() { # INSTANCE: until its console shows its write (3 minutes)
	for _ in $(seq 1800); do
		"$spectrum" logs "$1" 2>/dev/null | grep -q "wrote=$1" && return 0
		sleep 0.1
	done
	return 1
}
state_of() { "$spectrum" status "$1" --json 2>/dev/null | jq -r .state; }
wait_state() { # INSTANCE STATE...: until it is in one of them (3 minutes)
	local i=$1 st
	shift
	for _ in $(seq 1800); do
		st=$(state_of "$i")
		for want in "$@"; do [ "$st" = "$want" ] && return 0; done
		sleep 0.1
	done
	return 1
}
"$build/spectrumd" -c "$cfg" >"$tmp/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && break; sleep 0.1; done
sp start one-fails
check "spectrumd starts an instance of two applications" [ "$rc" = 0 ]
wait_state one-fails failed stopped
sp status one-fails --json
check "status names the failing application as the reason" \
	jqok '.state == "failed" and .status == 3 and .reason == "application fail exited with status 3"' "$tmp/out"
check "status --json has each application's status" \
	jqok '.applications == [{"name": "hello", "status": 0}, {"name": "fail", "status": 3}]' "$tmp/out"
sp start scratch-a
rc_a=$rc
sp start scratch-b
check "spectrumd runs two disposable instances of one volume at once" \
	bash -c "[ $rc_a = 0 ] && [ $rc = 0 ] && [ \"\$('$spectrum' status scratch-a --json | jq -r .state)\" != failed ]"
sp start keeper
check "an instance that writes the volume is refused while they run" \
	bash -c "[ $rc != 0 ] && grep -q 'resource dvol is held ro by running instance scratch-' '$tmp/out'"
check "both disposable guests write" bash -c "$(declare -f wrote); spectrum='$spectrum' wrote scratch-a && spectrum='$spectrum' wrote scratch-b"
"$spectrum" stop scratch-a >/dev/null 2>&1
"$spectrum" stop scratch-b >/dev/null 2>&1
wait_state scratch-a stopped failed
wait_state scratch-b stopped failed
check "the volume is unchanged after the daemon's disposable runs" \
	[ "$(sha256sum <"$vol")" = "$(cat "$tmp/sum")" ]
check "their layers are gone" bash -c "! ls '$SPECTRUM_RUN_DIR'/scratch-*/overlay-* 2>/dev/null"

tap_end
