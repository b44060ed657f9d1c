#!/bin/sh
# A VMM uid is never taken while a process holds it: `spectrum run` refuses
# in one line naming the process, before it makes anything; and a step of
# the VMM's credentials that fails names itself and its fix (TAP).  Root
# only (it starts processes of other uids); nothing boots.
#
#   uid.sh SPECTRUM
set -u
spectrum=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP not root"
	exit 0
fi
if ! command -v setpriv >/dev/null 2>&1; then
	echo "1..0 # SKIP setpriv (util-linux) not installed"
	exit 0
fi
tmp=$(mktemp -d)
holder=
trap '[ -z "$holder" ] || kill "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/tap.sh"

# The checks before the uid's pass: a kernel, initramfs and image exist.
state=$tmp/state
mkdir -p "$state/kernels/spectrum-x86_64" "$state/images"
touch "$state/kernels/spectrum-x86_64/vmlinux" "$state/kernels/spectrum-x86_64/initrd.img" \
	"$state/images/a.erofs"
# A base of its own, far from the uids of VMs that run on this host.
export SPECTRUM_STATE_DIR="$state" SPECTRUM_RUN_DIR="$tmp/run" SPECTRUM_ACCEL=tcg \
	SPECTRUM_VMM_UID_BASE=3900000000
cat >"$tmp/c.json" <<'EOF'
{"applications": {"a": {"image": "a", "command": ["/bin/true"]}},
 "instances": {"e0": {"application": "a"}, "e181": {"application": "a"}}}
EOF
sp() { ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" "$@"; }
uid=$(sp plan "$tmp/c.json" e0 --json | sed -n 's/.*"uid": \([0-9]*\).*/\1/p')
has_uid() { [ -n "$uid" ] && [ "$uid" -ge 3900000000 ]; }
check "e0 has a VMM uid ($uid)" has_uid

# hold ARGS...: a sleep with setpriv's ARGS as credentials, in $holder.
hold() {
	setpriv "$@" --clear-groups sleep 60 &
	holder=$!
	# Until it is sleep, of the uid, and not setpriv.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		grep -q '^Name:.sleep' "/proc/$holder/status" 2>/dev/null && break
		sleep 0.1
	done
}
release() {
	kill "$holder"
	wait "$holder" 2>/dev/null
	holder=
}

# refused WHAT: `spectrum run` exits 3 with one line naming $holder, and
# has made no run directory.
refused() {
	timeout 60 ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" run "$tmp/c.json" e0 >"$tmp/out" 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
		grep -q "spectrum: e0: $1 $uid of instance e0 is in use by process $holder (sleep); stop it first" "$tmp/out" &&
		[ ! -e "$tmp/run/e0" ] || { echo "exit $rc" >>"$tmp/out"; false; }
}

hold --reuid="$uid" --regid="$uid"
check "run refuses the uid of a running process, naming it" refused uid
release

# A process of another uid but of the VMM's gid could open its files.
hold --reuid=3899999999 --regid="$uid"
check "run refuses a uid that a process holds as its gid" refused gid
release

# PCI passthrough: the launcher raises the RLIMIT_MEMLOCK its VMM inherits
# (VFIO pins guest memory).  Without CAP_SYS_RESOURCE, above the hard
# limit, that fails; one line says so and what to do, before the VMM
# starts.  A fake sysfs
# and /dev stand in for a device bound to vfio-pci; the VMM never starts.
s=$tmp/sys p=$tmp/sys/bus/pci/devices/0000:01:00.0 g=$tmp/sys/kernel/iommu_groups/12
mkdir -p "$p" "$s/bus/pci/drivers/vfio-pci" "$g/devices" "$tmp/dev/vfio"
: >"$tmp/dev/vfio/12"
ln -s "$s/bus/pci/drivers/vfio-pci" "$p/driver"
ln -s "$g" "$p/iommu_group"
ln -s "$p" "$g/devices/0000:01:00.0"
cat >"$tmp/pci.json" <<'EOF'
{"applications": {"a": {"image": "a", "command": ["/bin/true"], "memory": "128M"}},
 "resources": {"gpu": {"type": "pci", "address": "0000:01:00.0"}},
 "instances": {"gpu": {"application": "a", "bindings": {"gpu": {}}}}}
EOF
memlock() {
	(
		ulimit -Sl 1024 && ulimit -Hl 1024 || exit 99
		SPECTRUM_SYSFS=$s SPECTRUM_DEVFS=$tmp/dev timeout 60 setpriv --bounding-set -sys_resource \
			${SPECTRUM_EXE_WRAPPER:-} "$spectrum" run "$tmp/pci.json" gpu
	) >"$tmp/out" 2>&1 </dev/null
	rc=$?
	[ "$rc" -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
		grep -q "^spectrum: gpu: cannot raise RLIMIT_MEMLOCK to 1152 MiB for PCI passthrough (VFIO pins the guest's memory): Operation not permitted; raising it needs CAP_SYS_RESOURCE" "$tmp/out" ||
		{ echo "exit $rc" >>"$tmp/out"; false; }
}
check "a VMM that cannot raise RLIMIT_MEMLOCK says so, with the fix" memlock
check "and gives the device node back" [ "$(stat -c %u "$tmp/dev/vfio/12")" = 0 ]

tap_end
