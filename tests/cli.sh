#!/bin/sh
# The client's command line: help, usage errors and exit codes (TAP).
# Exit codes: 0 success, 1 invalid configuration, 2 usage, 3 system error.
set -u
# meson passes a path relative to the build directory; make it absolute.
spectrum=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
export SPECTRUM_STATE_DIR=/var/lib/spectrum SPECTRUM_RUN_DIR=/run/spectrum SPECTRUM_ACCEL=tcg
ex=$src/examples
n=0
fail=0

sp() { ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" "$@"; }

# expect NAME WANT_RC GREP_PATTERN -- ARGS: runs, checks rc and that the
# combined output matches the pattern (empty pattern: anything).
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	sp "$@" >"$tmp/out" 2>&1 </dev/null
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq "$want" ] && { [ -z "$pat" ] || grep -q -- "$pat" "$tmp/out"; }; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (exit $rc, wanted $want)"
		sed 's/^/# /' "$tmp/out"
		fail=$((fail + 1))
	fi
}

expect "no arguments is a usage error" 2 "usage: spectrum" -- 
expect "--help" 0 "commands:" -- --help
expect "-h" 0 "commands:" -- -h
expect "--version" 0 "^spectrum [0-9]" -- --version
expect "help lists commands" 0 "check" -- help
expect "help check" 0 "usage: spectrum check FILE" -- help check
expect "help plan" 0 "--hypervisor" -- help plan
expect "help of an unknown command" 2 "unknown command 'frob'" -- help frob
expect "unknown command" 2 "unknown command 'frob'; see 'spectrum --help'" -- frob
expect "check without FILE" 2 "missing FILE; see 'spectrum help check'" -- check
expect "check with two files" 2 "too many arguments" -- check a b
expect "check of a missing file" 3 "nope.json: error: cannot read the file: No such file or directory" -- check "$tmp/nope.json"
expect "check of a directory" 3 "not a regular file" -- check "$tmp"
# A FIFO, a socket or a device is refused in one line, without waiting
# for a writer (timeout: the command hung before).
mkfifo "$tmp/fifo.json" "$tmp/fifo.nix"
expect_quick() {
	name=$1 pat=$2
	shift 3
	timeout -k 5 10 ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" "$@" >"$tmp/out" 2>&1 </dev/null
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q -- "$pat" "$tmp/out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (exit $rc, wanted 3 and one line)"
		sed 's/^/# /' "$tmp/out"
		fail=$((fail + 1))
	fi
}
expect_quick "check of a FIFO" "fifo.json: error: the file is a FIFO, not a regular file; give the path of a JSON data file" -- check "$tmp/fifo.json"
expect_quick "run of a FIFO" "fifo.json: error: the file is a FIFO, not a regular file" -- run "$tmp/fifo.json" x
expect_quick "plan of a FIFO" "fifo.json: error: the file is a FIFO" -- plan "$tmp/fifo.json"
expect_quick "check of a .nix FIFO" "fifo.nix: error: the file is a FIFO, not a regular file; give the path of a Nix file" -- check "$tmp/fifo.nix"
expect_quick "run of a .nix FIFO" "fifo.nix: error: the file is a FIFO" -- run "$tmp/fifo.nix" x
expect_quick "check of a device" "null: error: the file is a character device, not a regular file" -- check /dev/null
if command -v python3 >/dev/null 2>&1 &&
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/sock.json" 2>/dev/null; then
	expect_quick "check of a socket" "sock.json: error: the file is a socket, not a regular file" -- check "$tmp/sock.json"
else
	n=$((n + 1))
	echo "ok $n - check of a socket # SKIP cannot make a socket"
fi
# A root image that is a directory or a FIFO is named as such (not
# "missing"), at its path as written ("./img.erofs", not "././img.erofs").
# Kernels that exist get `run` as far as the root image; nothing boots.
mkdir -p "$tmp/ri/state/kernels/spectrum-x86_64" "$tmp/ri/img.erofs"
touch "$tmp/ri/state/kernels/spectrum-x86_64/vmlinux" "$tmp/ri/state/kernels/spectrum-x86_64/initrd.img"
cat >"$tmp/ri/r.json" <<'EOF'
{"applications": {"a": {"image": "./img.erofs", "command": ["/bin/true"]}},
 "instances": {"e0": {"application": "a"}}}
EOF
run_ri() {
	(cd "$tmp/ri" && SPECTRUM_STATE_DIR="$tmp/ri/state" SPECTRUM_RUN_DIR="$tmp/ri/run" \
		timeout -k 5 10 ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" run r.json e0) >"$tmp/out" 2>&1 </dev/null
}
for kind in directory FIFO; do
	if [ "$kind" = FIFO ]; then rmdir "$tmp/ri/img.erofs" && mkfifo "$tmp/ri/img.erofs"; fi
	run_ri
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq 3 ] && [ "$(cat "$tmp/out")" = "spectrum: e0: root image ./img.erofs is a $kind, not an erofs image" ]; then
		echo "ok $n - a root image that is a $kind is named as one"
	else
		echo "not ok $n - a root image that is a $kind is named as one (exit $rc)"
		sed 's/^/# /' "$tmp/out"
		fail=$((fail + 1))
	fi
done
rm -f "$tmp/ri/img.erofs"
run_ri
n=$((n + 1))
if grep -q "^spectrum: e0: root image ./img.erofs is missing; build it" "$tmp/out"; then
	echo "ok $n - a missing root image is missing, at ./img.erofs"
else
	echo "not ok $n - a missing root image is missing, at ./img.erofs"
	sed 's/^/# /' "$tmp/out"
	fail=$((fail + 1))
fi

# A volume that holds no file system is refused before anything is made
# (it failed in the guest's mount after a whole boot): an empty file, and
# one without the ext4 magic number.
: >"$tmp/ri/img.erofs"
: >"$tmp/ri/empty.img"
head -c 8192 /dev/zero >"$tmp/ri/zero.img"
cat >"$tmp/ri/v.json" <<'EOF'
{"applications": {"a": {"image": "./img.erofs", "command": ["/bin/true"]}},
 "resources": {"data": {"type": "block", "path": "empty.img"}, "junk": {"type": "block", "path": "zero.img"}},
 "instances": {"e1": {"application": "a", "bindings": {"data": {"path": "/data", "mode": "rw"}}},
   "e2": {"application": "a", "bindings": {"junk": {"path": "/data", "mode": "ro"}}}}}
EOF
for v in "e1 volume data: ./empty.img is empty (0 bytes), not an ext4 file system; remove it, or give an ext4 image" \
	"e2 volume junk: ./zero.img is not an ext4 file system (no ext4 magic number); give the path of an ext4 image"; do
	i=${v%% *}
	(cd "$tmp/ri" && SPECTRUM_STATE_DIR="$tmp/ri/state" SPECTRUM_RUN_DIR="$tmp/ri/run" \
		timeout -k 5 10 ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" run v.json "$i") >"$tmp/out" 2>&1 </dev/null
	rc=$?
	n=$((n + 1))
	if [ "$rc" -eq 3 ] && [ "$(cat "$tmp/out")" = "spectrum: $i: ${v#* }" ] && [ ! -e "$tmp/ri/run/$i" ]; then
		echo "ok $n - a volume without a file system is refused before boot, naming it ($i)"
	else
		echo "not ok $n - a volume without a file system is refused before boot, naming it ($i, exit $rc)"
		sed 's/^/# /' "$tmp/out"
		fail=$((fail + 1))
	fi
done

expect "check of an example" 0 "desktop.json: ok: 4 applications, 4 resources, 5 instances" -- check "$ex/desktop.json"
expect "plan without FILE" 2 "missing FILE" -- plan
expect "plan with --json and --argv" 2 "only one of --json, --argv, --guest and --libvirt" -- plan "$ex/minimal.json" --json --argv
expect "plan with --libvirt and --guest" 2 "only one of --json, --argv, --guest and --libvirt" -- plan "$ex/minimal.json" scratch --libvirt --guest
expect "plan with --libvirt-dir and --argv" 2 "^spectrum: --libvirt-dir goes with --libvirt only" -- plan "$ex/minimal.json" --argv --libvirt-dir "$tmp/x"
expect "plan with --libvirt-dir and no value" 2 "^spectrum: --libvirt-dir needs a directory" -- plan "$ex/minimal.json" --libvirt-dir
expect "plan with --libvirt and no instance" 2 "name the INSTANCE, or give --libvirt-dir" -- plan "$ex/minimal.json" --libvirt
expect "plan --libvirt for another hypervisor" 2 "exports QEMU plans" -- plan "$ex/minimal.json" scratch --libvirt --hypervisor cloud-hypervisor
expect "plan with an unknown option" 2 "unknown option '--frob'" -- plan "$ex/minimal.json" --frob
expect "run with --timeout and no value" 2 "^spectrum: --timeout needs a value (seconds); see 'spectrum help run'$" -- run "$ex/minimal.json" x --timeout
expect "plan with --hypervisor and no value" 2 "^spectrum: --hypervisor needs a value (qemu, crosvm or cloud-hypervisor)" -- plan "$ex/minimal.json" --hypervisor
expect "plan with an unknown hypervisor" 2 "unknown hypervisor 'xen'" -- plan "$ex/minimal.json" --hypervisor xen
expect "plan of an unknown instance" 1 "no instance named \"nope\"" -- plan "$ex/desktop.json" nope
expect "plan with a third argument" 2 "unexpected argument 'c'" -- plan "$ex/desktop.json" notes c
expect "options before FILE" 0 "qemu-system-x86_64" -- plan --argv "$ex/desktop.json" notes
expect "plan summary" 0 "notes: notes on qemu (x86_64, tcg), 256M, 1 vCPU" -- plan "$ex/desktop.json" notes
expect "plan of a ppc64le instance" 0 "qemu-system-ppc64" -- plan "$ex/desktop.json" notes-ppc --argv

# A bad environment variable is a system error, not a config error.
n=$((n + 1))
if SPECTRUM_ACCEL=fast sp plan "$ex/minimal.json" >"$tmp/out" 2>&1; then rc=0; else rc=$?; fi
if [ "$rc" -eq 3 ] && grep -q 'SPECTRUM_ACCEL="fast"' "$tmp/out"; then
	echo "ok $n - SPECTRUM_ACCEL is validated"
else
	echo "not ok $n - SPECTRUM_ACCEL is validated (exit $rc)"
	fail=$((fail + 1))
fi

# SPECTRUM_VMM_UID_BASE's bound is refused as spectrum(1) documents it.
n=$((n + 1))
if SPECTRUM_VMM_UID_BASE=65535 sp plan "$ex/minimal.json" >"$tmp/out" 2>&1; then rc=0; else rc=$?; fi
if [ "$rc" -eq 3 ] && grep -q 'SPECTRUM_VMM_UID_BASE="65535" is not 0 or a uid from 65536 to 4000000000' "$tmp/out" &&
	SPECTRUM_VMM_UID_BASE=65536 sp plan "$ex/minimal.json" >/dev/null 2>&1 &&
	tr '\n' ' ' <"$src/man/spectrum.1" | grep -q 'any other value is from 65536 to 4000000000'; then
	echo "ok $n - SPECTRUM_VMM_UID_BASE below 65536 is refused, as spectrum(1) says"
else
	echo "not ok $n - SPECTRUM_VMM_UID_BASE below 65536 is refused, as spectrum(1) says (exit $rc)"
	fail=$((fail + 1))
fi

# --json is one JSON array of plans, readable by a JSON parser.
n=$((n + 1))
sp plan "$ex/desktop.json" --json >"$tmp/plans.json" 2>/dev/null
if command -v jq >/dev/null 2>&1; then
	if [ "$(jq 'length' "$tmp/plans.json")" = 5 ] &&
		[ "$(jq -r '.[0].root.readonly' "$tmp/plans.json")" = true ]; then
		echo "ok $n - plan --json parses as an array of 5 plans"
	else
		echo "not ok $n - plan --json parses as an array of 5 plans"
		fail=$((fail + 1))
	fi
else
	echo "ok $n - plan --json # SKIP jq not installed"
fi

# Each instance's VMM has a uid of its own (e0 and e181 had one under the
# hash of old), the same whatever the order of the instances in the file.
n=$((n + 1))
uids_file() { # NAME...: a file of instances NAME..., in that order
	printf '{"applications": {"a": {"image": "a", "command": ["/bin/true"]}}, "instances": {'
	sep=
	for i; do printf '%s"%s": {"application": "a"}' "$sep" "$i"; sep=', '; done
	printf '}}\n'
}
uids_file e0 e181 >"$tmp/uids.json"
uids_file e181 e0 >"$tmp/uids-rev.json"
if command -v jq >/dev/null 2>&1; then
	uids() { SPECTRUM_VMM_UID_BASE=524288 sp plan "$1" --json 2>&1 | jq -r 'sort_by(.instance) | .[] | "\(.instance)=\(.vmm.uid)"' | paste -sd ' '; }
	a=$(uids "$tmp/uids.json") b=$(uids "$tmp/uids-rev.json")
	u0=$(echo "$a" | sed -n 's/.*e0=\([0-9]*\).*/\1/p') u181=$(echo "$a" | sed -n 's/.*e181=\([0-9]*\).*/\1/p')
	if [ -n "$u0" ] && [ -n "$u181" ] && [ "$u0" != "$u181" ] && [ "$a" = "$b" ]; then
		echo "ok $n - e0 and e181 get distinct VMM uids ($a), in either order"
	else
		echo "not ok $n - e0 and e181 get distinct VMM uids (got '$a', reversed '$b')"
		fail=$((fail + 1))
	fi
else
	echo "ok $n - distinct VMM uids # SKIP jq not installed"
fi

# --argv output is valid shell: each block evaluates to the same words.
n=$((n + 1))
sp plan "$ex/minimal.json" --argv 2>/dev/null | grep -v '^#' >"$tmp/argv.sh"
if sh -n "$tmp/argv.sh" && [ "$(sh -c "set -- $(tr -d '\\\n' <"$tmp/argv.sh"); echo \$1")" = qemu-system-x86_64 ]; then
	echo "ok $n - plan --argv is valid shell"
else
	echo "not ok $n - plan --argv is valid shell"
	fail=$((fail + 1))
fi

# A failed command changes nothing on disk.
n=$((n + 1))
before=$(ls -la "$ex" | md5sum)
sp check "$src/tests/check/cases/several-errors.json" >/dev/null 2>&1
sp plan "$ex/desktop.json" --json >/dev/null 2>&1
if [ "$(ls -la "$ex" | md5sum)" = "$before" ]; then
	echo "ok $n - check and plan write nothing"
else
	echo "not ok $n - check and plan write nothing"
	fail=$((fail + 1))
fi

# The libvirt export: a refused instance (a directory share) fails the
# whole export with one line and nothing written; a relative --libvirt-dir
# is written as given and named absolutely in the XML (libvirt takes
# absolute paths only); the initramfs is the base one plus the guest
# configuration, readable by libvirt's QEMU user.
lvstate=$tmp/lvstate
mkdir -p "$lvstate/kernels/spectrum-x86_64" "$lvstate/kernels/spectrum-ppc64le" "$tmp/lvcwd"
echo base >"$lvstate/kernels/spectrum-x86_64/initrd.img"
echo base >"$lvstate/kernels/spectrum-ppc64le/initrd.img"
n=$((n + 1))
SPECTRUM_STATE_DIR=$lvstate sp plan "$ex/desktop.json" --libvirt-dir "$tmp/lvdir" >"$tmp/out" 2>&1
rc=$?
if [ "$rc" = 1 ] && [ "$(wc -l <"$tmp/out")" = 1 ] && grep -q "instances.browser: error: libvirt cannot take directory share downloads" "$tmp/out" &&
	[ ! -e "$tmp/lvdir" ] && [ ! -e "$lvstate/libvirt" ]; then
	echo "ok $n - a refused libvirt export is one line, status 1, nothing written"
else
	echo "not ok $n - a refused libvirt export is one line, status 1, nothing written (exit $rc)"
	sed 's/^/# /' "$tmp/out"
	fail=$((fail + 1))
fi
n=$((n + 1))
(cd "$tmp/lvcwd" && SPECTRUM_STATE_DIR=$lvstate ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" plan "$ex/desktop.json" notes --libvirt-dir out) >"$tmp/out" 2>&1
if [ "$(cat "$tmp/out")" = "$tmp/lvcwd/out/notes.xml" ] &&
	grep -q "<initrd>$tmp/lvcwd/out/notes.initrd</initrd>" "$tmp/lvcwd/out/notes.xml" &&
	grep -q "<log file='$tmp/lvcwd/out/notes.console.log' append='on'/>" "$tmp/lvcwd/out/notes.xml" &&
	[ "$(head -c 5 "$tmp/lvcwd/out/notes.initrd")" = base ] &&
	grep -aq "^hostname notes$" "$tmp/lvcwd/out/notes.initrd" &&
	[ "$(stat -c %a "$tmp/lvcwd/out/notes.initrd")" = 644 ]; then
	echo "ok $n - --libvirt-dir DIR writes DIR/INSTANCE.xml and .initrd, named absolutely"
else
	echo "not ok $n - --libvirt-dir DIR writes DIR/INSTANCE.xml and .initrd, named absolutely"
	sed 's/^/# /' "$tmp/out"
	fail=$((fail + 1))
fi
n=$((n + 1))
SPECTRUM_STATE_DIR=$lvstate sp plan "$ex/desktop.json" notes --libvirt >"$tmp/out" 2>&1
if grep -q "<initrd>$lvstate/libvirt/notes.initrd</initrd>" "$tmp/out" && [ -s "$lvstate/libvirt/notes.initrd" ] &&
	[ ! -e "$lvstate/libvirt/notes.xml" ]; then
	echo "ok $n - --libvirt prints the XML and writes the initramfs to STATE_DIR/libvirt"
else
	echo "not ok $n - --libvirt prints the XML and writes the initramfs to STATE_DIR/libvirt"
	sed 's/^/# /' "$tmp/out"
	fail=$((fail + 1))
fi

echo "1..$n"
[ "$fail" -eq 0 ]
