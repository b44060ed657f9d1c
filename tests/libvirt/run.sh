#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The libvirt export (spectrum plan --libvirt), run by Debian's libvirt:
# the exported domains validate against libvirt's schema and define; one
# instance (the VM test's image and kernel) is defined, started, prints
# its application's lines on its console, reads a read-only volume and
# writes a read-write one, and is destroyed and undefined.  TAP.
#
#   run.sh BUILD_DIR SOURCE_ROOT
#
# Needs root (libvirt's system instance; skipped otherwise).  Starts
# virtlogd and libvirtd itself when they are not running (systemctl where
# systemd runs, the daemons' -d otherwise) and stops what it started.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
image=$build/spectrum-image
tmp=$(mktemp -d /tmp/spectrum-libvirt.XXXXXX)
chmod 755 "$tmp" # libvirt's QEMU runs as its own user and opens files below
. "$src/tests/tap.sh"

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP libvirt's system instance (qemu:///system) needs root"
	exit 0
fi

virsh() { command virsh -q -c qemu:///system "$@"; }
# A name of its own, so that runs of several checkouts never meet.
dom=spectrum-lvtest-$$
started=()

cleanup() {
	virsh destroy "$dom" >/dev/null 2>&1
	virsh undefine "$dom" >/dev/null 2>&1
	for unit in "${started[@]}"; do
		case $unit in
		systemd:*) systemctl stop "${unit#systemd:}" ;;
		*) kill "$unit" 2>/dev/null ;;
		esac
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# daemon_up NAME: starts the daemon unless its pid file names a live one.
daemon_up() {
	local pid
	pid=$(cat "/run/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && return 0
	"$1" -d || return 1
	for _ in $(seq 50); do
		pid=$(cat "/run/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && break
		sleep 0.1
	done
	started+=("$pid")
}

libvirt_up() {
	virsh version >/dev/null 2>&1 && return 0
	if [ -d /run/systemd/system ]; then
		systemctl is-active -q libvirtd || started+=(systemd:libvirtd)
		systemctl start virtlogd libvirtd || return 1
	else
		daemon_up virtlogd && daemon_up libvirtd || return 1
	fi
	for _ in $(seq 100); do
		virsh version >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# The kernel and image of the VM test (built here when it has not run),
# copied into a state directory of the test's own: libvirt labels the
# kernel for its QEMU while the domain runs, and the shared ones must not
# change hands.  The other architectures' base initramfs files are
# stand-ins: their domains are only validated and defined.
# The kernel is the one SPECTRUM_KERNEL names (Spectrum's by default).
. "$src/tests/vm/kernels.sh"
setup() {
	local vs=$build/vm-state k=spectrum-x86_64 d
	[ "${SPECTRUM_KERNEL:-spectrum}" = debian ] && k=x86_64
	SPECTRUM_STATE_DIR=$vs setup_kernels "$src" "$build" x86_64 || return 1
	if [ ! -e "$vs/images/test-x86.erofs" ]; then
		SPECTRUM_STATE_DIR=$vs "$image" build -n test-x86 -p busybox-static -d "$src/tests/vm/root" || return 1
	fi
	for d in x86_64 ppc64le aarch64 spectrum-x86_64 spectrum-ppc64le; do
		mkdir -p "$tmp/state/kernels/$d" && echo "stand-in" >"$tmp/state/kernels/$d/initrd.img" ||
			return 1
	done
	mkdir -p "$tmp/state/images" "$tmp/vol/ro" &&
		cp "$vs/kernels/$k/vmlinux" "$vs/kernels/$k/initrd.img" "$tmp/state/kernels/$k/" &&
		cp "$vs/images/test-x86.erofs" "$tmp/state/images/" &&
		echo "from-the-host" >"$tmp/vol/ro/msg" &&
		mkfs.ext4 -q -F -d "$tmp/vol/ro" "$tmp/ro.img" 16M &&
		mkfs.ext4 -q -F "$tmp/rw.img" 16M
}
if ! libvirt_up >"$tmp/setup" 2>&1 || ! setup >>"$tmp/setup" 2>&1; then
	echo "1..1"
	echo "not ok 1 - start libvirt and set up the kernel, image and volumes"
	sed 's/^/# /' "$tmp/setup"
	exit 1
fi
export SPECTRUM_STATE_DIR=$tmp/state

# Every exportable instance of the golden file, with this host's paths:
# libvirt's own schema takes each, and its QEMU driver defines each whose
# emulator is installed.
"$spectrum" plan "$src/tests/golden/libvirt.json" --libvirt-dir "$tmp/all" >"$tmp/out" 2>&1
check "the golden file's instances export" [ "$(wc -l <"$tmp/out")" = 6 ]
valid=0
for x in "$tmp"/all/*.xml; do
	virt-xml-validate "$x" domain >>"$tmp/out" 2>&1 && valid=$((valid + 1))
done
check "each validates against libvirt's domain schema" [ "$valid" = 6 ]
defined=0
for name in volumes-net devices odd-path ppc throwaway; do
	sed "s|<name>$name</name>|<name>$dom-$name</name>|" "$tmp/all/$name.xml" >"$tmp/def.xml"
	virsh define "$tmp/def.xml" >>"$tmp/out" 2>&1 && defined=$((defined + 1))
	[ "$name" = odd-path ] && virsh dumpxml "$dom-$name" >"$tmp/odd.xml" 2>/dev/null
	virsh undefine "$dom-$name" >/dev/null 2>&1
done
check "libvirt defines the x86 (microvm, q35), ppc64le and disposable (<transient/>) domains" [ "$defined" = 5 ]
# The image path with & ' " < > in it comes back from libvirt as written.
odd=$(python3 -c 'import sys, xml.etree.ElementTree as E
print(E.parse(sys.argv[1]).find("devices/disk/source").get("file"))' "$tmp/odd.xml" 2>&1)
echo "$odd" >"$tmp/out"
check "an image path with XML's special characters reaches libvirt unchanged" \
	[ "$odd" = "/srv/images/a&b 'q' \"<c>\".erofs" ]

# One instance that runs: it says so on the console, reads the read-only
# volume and cannot write it, cannot write its root, and writes the
# read-write volume.
cat >"$tmp/lv.json" <<JSON
{"applications": {"probe": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
   "echo lv-host=\$(hostname); echo lv-ro=\$(cat /home/ro/msg); echo x > /home/ro/new 2>/dev/null; echo lv-ro-write=\$?; echo x > /written 2>/dev/null; echo lv-root-write=\$?; echo from-the-guest > /home/rw/msg; sync; echo lv-synced; sleep 600"]}},
 "resources": {"ro": {"type": "block", "path": "$tmp/ro.img"}, "rw": {"type": "block", "path": "$tmp/rw.img"}},
 "instances": {"$dom": {"application": "probe", "bindings": {"ro": {"path": "/home/ro"}, "rw": {"path": "/home/rw", "mode": "rw"}}}}}
JSON
root_before=$(stat -c '%u:%g %a' "$tmp/state/images/test-x86.erofs"; sha256sum <"$tmp/state/images/test-x86.erofs")
"$spectrum" plan "$tmp/lv.json" "$dom" --libvirt >"$tmp/dom.xml" 2>"$tmp/out"
check "spectrum plan --libvirt exports the instance" [ -s "$tmp/dom.xml" ]
check "and writes its initramfs to STATE_DIR/libvirt" [ -s "$tmp/state/libvirt/$dom.initrd" ]
virsh define "$tmp/dom.xml" >"$tmp/out" 2>&1
check "virsh define takes the domain" [ $? = 0 ]
virsh start "$dom" >"$tmp/out" 2>&1
check "virsh start starts it" [ $? = 0 ]
console=$tmp/state/libvirt/$dom.console.log
for i in $(seq 300); do
	grep -q '^lv-synced' "$console" 2>/dev/null && break
	# A guest that failed has powered off: no need to wait on.
	[ $((i % 5)) = 0 ] && ! virsh domstate "$dom" 2>/dev/null | grep -q running && break
	sleep 1
done
cp "$console" "$tmp/out" 2>/dev/null
has() { grep -q -- "$1" "$console"; }
check "the application's line is on the console (read from virtlogd's log)" has "^lv-host=$dom"
check "it reads the read-only volume" has "^lv-ro=from-the-host"
check "and cannot write it" has "^lv-ro-write=1"
check "its root is read-only" has "^lv-root-write=1"
cp "$tmp/state/libvirt/$dom.control.log" "$tmp/out" 2>/dev/null
check "the control port's file has the guest's ready line" grep -q '^ready$' "$tmp/out"
type=$(sed -n "s/^<domain type='\([a-z]*\)'>$/\1/p" "$tmp/dom.xml")
virsh dumpxml "$dom" >"$tmp/out" 2>&1
check "it runs under the plan's accelerator ($type: qemu is TCG, kvm KVM)" \
	grep -q "^<domain type='$type' id=" "$tmp/out"
virsh destroy "$dom" >"$tmp/out" 2>&1
check "virsh destroy stops it" [ $? = 0 ]
virsh domstate "$dom" >"$tmp/out" 2>&1
check "it is shut off" grep -q "shut off" "$tmp/out"
# The guest synced its write and was then cut off: replay the journal on
# a copy, as the next mount would.
cp "$tmp/rw.img" "$tmp/rw-copy.img"
e2fsck -fy "$tmp/rw-copy.img" >/dev/null 2>&1
debugfs -R "cat /msg" "$tmp/rw-copy.img" >"$tmp/out" 2>/dev/null
check "the read-write volume holds what the guest wrote" grep -q '^from-the-guest$' "$tmp/out"
root_after=$(stat -c '%u:%g %a' "$tmp/state/images/test-x86.erofs"; sha256sum <"$tmp/state/images/test-x86.erofs")
check "the root image kept its owner, mode and bytes" [ "$root_after" = "$root_before" ]
virsh undefine "$dom" >"$tmp/out" 2>&1
check "virsh undefine removes it" [ $? = 0 ]
tap_end
