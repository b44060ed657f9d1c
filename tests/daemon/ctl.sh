#!/bin/bash
# The supervisor's control socket, without VMs: its mode with and without
# the spectrum group; an unauthorised peer answered at once, in one line,
# even when it sent its request before the daemon read anything; silent
# connections that delay nobody; at most four of them per uid.  TAP; root
# only (other uids, a mount and a network namespace).
#
#   ctl.sh BUILD_DIR SOURCE_ROOT CTL_PEER
#
# The daemon runs in namespaces of its own: /etc/group is bind-mounted
# from a file made here, with or without the spectrum group, whatever the
# host has; and its start-up sweep of network objects sees an empty
# network namespace, not the host's.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
peer=$3
spectrum=$build/spectrum
cfg=$src/tests/daemon/daemon.json

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (other uids, namespaces)"
	exit 0
fi
for t in unshare setpriv timeout stat; do
	command -v "$t" >/dev/null || { echo "1..0 # SKIP needs $t"; exit 0; }
done

tmp=$(mktemp -d)
chmod 755 "$tmp" # as /run: everyone may reach the socket, if its mode lets them
export SPECTRUM_RUN_DIR=$tmp/run SPECTRUM_STATE_DIR=$tmp/state
sock=$SPECTRUM_RUN_DIR/spectrumd.sock
mkdir -m 755 "$SPECTRUM_RUN_DIR"
daemon=
held=
cleanup() {
	[ -n "$held" ] && kill "$held" 2>/dev/null
	[ -n "$daemon" ] && kill -CONT "$daemon" 2>/dev/null && kill "$daemon" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

. "$src/tests/tap.sh"
has() { grep -q -- "$1" "$tmp/out"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

# A free gid for the spectrum group of the daemon's /etc/group.
gid=60000
while getent group "$gid" >/dev/null; do gid=$((gid + 1)); done
grep -v '^spectrum:' /etc/group >"$tmp/group.none"
{ cat "$tmp/group.none"; echo "spectrum:x:$gid:"; } >"$tmp/group.with"
chmod 644 "$tmp"/group.*

# start_daemon GROUP-FILE: spectrumd with that /etc/group; ok once it answers.
start_daemon() {
	unshare --mount --net sh -c 'mount --bind "$1" /etc/group && exec "$2" -c "$3"' \
		sh "$1" "$build/spectrumd" "$cfg" >>"$tmp/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && return 0; sleep 0.1; done
	cp "$tmp/daemon.log" "$tmp/out"
	return 1
}
stop_daemon() {
	kill "$daemon"
	wait "$daemon" 2>/dev/null
	daemon=
}
# wait_for FILE PATTERN: up to 5 s for a line of FILE to match.
wait_for() {
	for _ in $(seq 50); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
	cp "$1" "$tmp/out"
	return 1
}
one_line() { [ "$(wc -l <"$tmp/out")" = 1 ]; }

check "spectrumd starts without VM images or the spectrum group" start_daemon "$tmp/group.none"
stat -c '%a %U' "$sock" >"$tmp/out"
check "with no spectrum group the socket is root's only (0600)" has "^600 root$"
as_nobody "$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "another uid cannot open it: permission denied (status 4), in one line" \
	eval '[ $rc = 4 ] && has "permission denied: uid 65534 may not open" && one_line'

# As if the socket's mode let every uid in: the daemon checks the peer itself.
chmod 666 "$sock"
as_nobody "$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "the daemon refuses an unauthorised peer: permission denied (status 4), in one line" \
	eval '[ $rc = 4 ] && has "^permission denied: uid 65534 is neither root nor in the spectrum group" && one_line'

# Ten silent connections of uid 65534, and an eleventh that sends a list
# request, all made while the daemon is stopped: it finds the request
# there when it accepts the connection, answers without reading it, and
# the peer reads the answer only after the daemon has closed.
kill -STOP "$daemon"
as_nobody "$peer" "$sock" 10 500 3 >"$tmp/peer" 2>&1 &
held=$!
wait_for "$tmp/peer" "^sent"
kill -CONT "$daemon"
timeout 3 "$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "root's list answers within 3 s while 10 silent connections of uid 65534 are open" \
	eval '[ $rc = 0 ] && has "^a  *stopped"'
wait_for "$tmp/peer" "^silent"
grep '^reply' "$tmp/peer" >"$tmp/out"
check "their uid's request is answered at once: permission denied (status 4), in one line" \
	has "^reply 4 1: permission denied: uid 65534 is neither root nor in the spectrum group$"
grep '^silent' "$tmp/peer" >"$tmp/out"
check "and so was each silent connection, with nothing sent" \
	has "^silent: 4 4 4 4 4 4 4 4 4 4$"
kill "$held" 2>/dev/null
wait "$held" 2>/dev/null
held=

# Root, allowed: four silent connections wait for their request, a fifth
# is refused at once; a second later the four are dropped.
timeout 5 "$peer" "$sock" 4 0 2 >"$tmp/peer" 2>&1
grep '^reply' "$tmp/peer" >"$tmp/out"
check "a fifth connection of one uid beyond four waiting is refused (status 1), in one line" \
	has "^reply 1 1: too many connections: 4 of uid 0 wait for their request; try again$"
grep '^silent' "$tmp/peer" >"$tmp/out"
check "while the four wait, unanswered" has "^silent: - - - -$"
grep '^later' "$tmp/peer" >"$tmp/out"
check "and are dropped after a second, as bad requests (status 2)" has "^later: 2 2 2 2$"
"$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "and then root's list answers again" eval '[ $rc = 0 ] && has "^a  *stopped"'
stop_daemon

check "spectrumd starts with the spectrum group" start_daemon "$tmp/group.with"
stat -c '%a %U %g' "$sock" >"$tmp/out"
check "the socket is 0660, owner root, group spectrum" has "^660 root $gid$"
setpriv --reuid=65534 --regid="$gid" --clear-groups "$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "a peer whose group is spectrum may list" eval '[ $rc = 0 ] && has "^a  *stopped"'
setpriv --reuid=65534 --regid="$gid" --clear-groups "$spectrum" generations >"$tmp/out" 2>&1
rc=$?
check "and list the generations" eval '[ $rc = 0 ] && has "^ *1 .*(current)$"'
setpriv --reuid=65534 --regid="$gid" --clear-groups "$spectrum" switch "$cfg" >"$tmp/out" 2>&1
rc=$?
check "but not switch: only root may (status 4, one line)" \
	eval '[ $rc = 4 ] && has "^permission denied: switch changes what root runs" && one_line'
setpriv --reuid=65534 --regid="$gid" --clear-groups "$spectrum" gc >"$tmp/out" 2>&1
rc=$?
check "nor gc (status 4, one line)" eval '[ $rc = 4 ] && has "^permission denied: gc" && one_line'
# A switch passes its file as exactly one descriptor, and nothing else
# passes any: raw requests (spectrumd(8), CONTROL PROTOCOL).
raw() {
	python3 - "$sock" "$@" <<'PY'
import os, socket, struct, sys
sock, op, nfds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rq = struct.pack("=IHH64sII", 0x53504331, op, 0, b"", 0, 0)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sock)
fds = [os.open("/etc/hostname", os.O_RDONLY) for _ in range(nfds)]
socket.send_fds(s, [rq], fds) if fds else s.send(rq)
r = s.recv(70000)
status, length = struct.unpack("=II", r[4:12])
print(status, r[12:12 + length].decode().strip())
PY
}
if command -v python3 >/dev/null; then
	raw 10 0 >"$tmp/out" 2>&1
	check "a switch without a descriptor is a bad request (status 2)" \
		has "^2 bad request: a switch passes exactly one file descriptor$"
	raw 10 2 >"$tmp/out" 2>&1
	check "so is one with two" has "^2 bad request: a switch passes exactly one file descriptor$"
	raw 1 1 >"$tmp/out" 2>&1
	check "and a list with one" has "^2 bad request: this operation takes no file descriptor$"
	before=$(ls "/proc/$daemon/fd" | wc -l)
	for _ in 1 2 3 4 5 6 7 8; do raw 10 2 >/dev/null 2>&1; raw 1 1 >/dev/null 2>&1; done
	ls "/proc/$daemon/fd" | wc -l >"$tmp/out"
	check "and the daemon keeps none of the descriptors it refused ($before open)" has "^$before$"
fi

# A .nix file: the daemon evaluates it by the path of the descriptor the
# client passed, so its relative import (./) is found beside it.
if command -v nix-instantiate >/dev/null; then
	mkdir -m 755 "$tmp/nix"
	sed 's/"autostart": true/"autostart": false/' "$cfg" >"$tmp/nix/model.json"
	echo 'builtins.fromJSON (builtins.readFile ./model.json) // { version = 1; }' >"$tmp/nix/conf.nix"
	chmod 644 "$tmp/nix"/*
	"$build/spectrumd" -n -c "$tmp/nix/conf.nix" >"$tmp/out" 2>&1
	check "spectrumd -n -c FILE.nix evaluates it" has "conf.nix: configuration OK$"
	"$spectrum" switch "$tmp/nix/conf.nix" >"$tmp/out" 2>&1
	rc=$?
	check "switch to a .nix file, with a relative import" eval '[ $rc = 0 ] && has "^generation 2 is current$"'
	"$spectrum" generations --json >"$tmp/out" 2>&1
	check "the generation records the Nix file as its source" \
		eval 'jq -e ".[1].kind == \"nix\" and (.[1].source | endswith(\"/nix/conf.nix\"))" "$tmp/out" >/dev/null'
	check "and keeps its text and what it evaluated to" eval \
		'cmp -s "$tmp/nix/conf.nix" "$SPECTRUM_STATE_DIR/generations/2/source" &&
		 jq -e ".instances" "$SPECTRUM_STATE_DIR/generations/2/config.json" >/dev/null'
	echo '{ version = 1; applications = 3; }' >"$tmp/nix/bad.nix"
	"$spectrum" switch "$tmp/nix/bad.nix" >"$tmp/out" 2>&1
	rc=$?
	check "a .nix file that does not check changes nothing (one line, status 1)" \
		eval '[ $rc = 1 ] && one_line && has "bad.nix" && [ "$(readlink "$SPECTRUM_STATE_DIR/generations/current")" = 2 ]'
fi
# A member's silent connections wait in the daemon's table: they delay
# nobody, and a fifth of its uid is refused.
setpriv --reuid=65534 --regid="$gid" --clear-groups "$peer" "$sock" 4 0 2 >"$tmp/peer" 2>&1 &
held=$!
wait_for "$tmp/peer" "^sent"
timeout 3 "$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "root's list answers while 4 silent connections of a member wait" \
	eval '[ $rc = 0 ] && has "^a  *stopped"'
wait "$held"
held=
grep '^reply' "$tmp/peer" >"$tmp/out"
check "and the member's fifth is refused (status 1)" \
	has "^reply 1 1: too many connections: 4 of uid 65534 wait for their request; try again$"
as_nobody "$spectrum" list >"$tmp/out" 2>&1
rc=$?
check "another uid cannot open it (status 4)" \
	eval '[ $rc = 4 ] && has "permission denied: uid 65534 may not open" && one_line'
stop_daemon

# status and list --json give a mode to volumes and directories only: a
# network or a device is granted whole.
cat >"$tmp/modes.json" <<'EOF'
{"applications": {"a": {"image": "a", "command": ["/bin/true"]}},
 "resources": {"store": {"type": "block", "size": "64M"}, "lan": {"type": "net"},
  "gadget": {"type": "usb", "vendor": "1209", "product": "0001"},
  "gpu": {"type": "pci", "address": "0000:01:00.0"}},
 "instances": {"dev": {"application": "a", "bindings": {
  "store": {"path": "/data", "mode": "rw"}, "lan": {}, "gadget": {}, "gpu": {}}}}}
EOF
chmod 644 "$tmp/modes.json"
cfg=$tmp/modes.json
check "spectrumd starts with net, usb and pci bindings" start_daemon "$tmp/group.none"
"$spectrum" status dev >"$tmp/out" 2>&1
check "status shows a mode for the volume only" has "holds store(rw), lan, gadget, gpu$"
"$spectrum" list --json >"$tmp/out" 2>&1
check "list --json gives a mode to the volume only" \
	eval '[ "$(jq -c "[.[0].resources[] | [.name, .mode]]" "$tmp/out")" = '"'"'[["store","rw"],["lan",null],["gadget",null],["gpu",null]]'"'"' ]'
stop_daemon

tap_end
