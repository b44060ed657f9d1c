#!/bin/bash
# Tests that boot real VMs (TCG here, KVM where it works): the storage
# semantics of Spectrum, the exit status, a ppc64le guest, and clean
# refusals of bad guest set-ups.  TAP.
#
#   run.sh BUILD_DIR SOURCE_ROOT
#
# Kernels and images go to BUILD_DIR/vm-state (the kernel .debs are cached
# in /var/cache/spectrum, so only the first run downloads).
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
image=$build/spectrum-image
cfg=$src/tests/vm/vm.json
export SPECTRUM_STATE_DIR=$build/vm-state
# Socket paths must stay short (108 bytes), whatever the build path.
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-vm.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR" # as /run/spectrum: the unprivileged VMMs reach their own dirs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$SPECTRUM_RUN_DIR"' EXIT INT TERM

. "$src/tests/tap.sh"

# run INSTANCE [CONFIG]: boots it, output (console and errors) in $tmp/out,
# status in $rc.
run() {
	"$spectrum" run "${2:-$cfg}" "$1" --timeout 180 >"$tmp/out" 2>&1 </dev/null
	rc=$?
}
has() { grep -q -- "$1" "$tmp/out"; }

. "$src/tests/vm/kernels.sh"
# Debian's kernels always (the smoke test at the end boots them), and the
# kernels SPECTRUM_KERNEL names: Spectrum's by default, built here when
# missing or stale (scripts/test.sh builds them before the tests).
setup() {
	mkdir -p "$SPECTRUM_STATE_DIR"
	bash "$src/scripts/guest-kernel.sh" x86_64 "$build/guest/spectrum-init" &&
		bash "$src/scripts/guest-kernel.sh" ppc64le "$build/guest/spectrum-init-ppc64le" &&
		setup_kernels "$src" "$build" x86_64 ppc64le &&
		"$image" build -n test-x86 -p busybox-static -d "$src/tests/vm/root" &&
		"$image" build -a ppc64le -n test-ppc64le -p busybox-static -d "$src/tests/vm/root"
}
if ! setup >"$tmp/setup" 2>&1; then
	echo "1..1"
	echo "not ok 1 - set up guest kernels and test images"
	sed 's/^/# /' "$tmp/setup"
	exit 1
fi
rm -rf "$SPECTRUM_STATE_DIR/volumes"

# The root is read-only at the hypervisor: the guest can write neither a
# file nor the raw device, and the image on the host does not change.
root_img=$SPECTRUM_STATE_DIR/images/test-x86.erofs
before=$(sha256sum <"$root_img")
run root-write
check "a write to / fails with EROFS" has "root-write=1"
check "a raw write to the root device fails" has "raw-write=1"
check "the file written to / does not exist" has "/written: No such file"
check "the root image is unchanged on the host" [ "$(sha256sum <"$root_img")" = "$before" ]

# Scratch is writable and gone at the next boot.
run scratch
check "scratch directories are writable" [ "$rc" = 0 ]
run scratch
check "scratch files are gone at the next boot" bash -c "! grep -q present '$tmp/out'"

# A rw volume keeps its data; an ro binding reads it and cannot write.
run writer
check "first boot writes to the rw volume" has "count=1"
run writer
check "the rw volume keeps data across boots" has "count=2"
run reader
check "an ro binding reads the volume" has "count=2"
check "an ro binding cannot write" has "Read-only file system"
run writer
check "the ro boot changed nothing" has "count=3"

# Two instances of one application with different bindings see different
# data; one without bindings sees its root disk only.
run other-writer
check "another instance's volume holds other data" has "count=1"
run disks-none
check "an instance with no bindings sees only its root" has "disks=vda$"
run disks-two
check "an instance with two bindings sees three disks" has "disks=vda vdb vdc$"

# A volume bound at a scratch directory (/home) replaces its tmpfs: what
# is written there persists; the other scratch directories stay tmpfs, and
# a binding below it gets its mount point made in the volume.
run home
check "a volume at /home boots (status 0)" [ "$rc" = 0 ]
check "it is the volume mounted at /home, once" eval 'has "^home=ext4$" && has "^home-mounts=1$"'
check "a binding below it is mounted" has "^other=1$"
run home
check "a second boot sees what the first wrote in /home" has "^count=2$"
check "/tmp is still a scratch tmpfs" has "^tmp=tmpfs$"

# A writer that fsync'd its records and was killed outright: a read-only
# reader sees every record (its kernel replays the journal into a
# throwaway layer), and the volume file does not change.
crash_img=$SPECTRUM_STATE_DIR/volumes/crash.img
run_until '^synced=' "$tmp/crash" run "$cfg" crash-writer --timeout 180
crasher=$bg
cp "$tmp/crash" "$tmp/out"
check "the writer fsync'd 20 records" has "^synced=20$"
read -r vmm _ <"$SPECTRUM_RUN_DIR/crash-writer/pid"
kill -KILL "$vmm"
wait $crasher
before=$(sha256sum <"$crash_img")
run crash-reader
check "a reader after the writer's crash sees all 20 records" has "^records=20$"
check "and still cannot write" has "^ro-write=1$"
check "the reader left the volume file unchanged" [ "$(sha256sum <"$crash_img")" = "$before" ]
run crash-reader
check "a second reader sees them too" has "^records=20$"
check "the volume file is still unchanged" [ "$(sha256sum <"$crash_img")" = "$before" ]

# A console log of an earlier run is kept; the next run adds to it.
mkdir -p "$SPECTRUM_RUN_DIR/exit7"
echo old-run >"$SPECTRUM_RUN_DIR/exit7/console.log"

# The application's exit status is spectrum run's.
run exit7
check "the exit status comes back" [ "$rc" = 7 ]
check "the application's output is shown" has "about to exit 7"
check "the console log keeps the earlier run's lines and adds this one's" \
	eval '[ "$(head -n 1 "$SPECTRUM_RUN_DIR/exit7/console.log")" = old-run ] &&
		grep -q "about to exit 7" "$SPECTRUM_RUN_DIR/exit7/console.log"'

# A ppc64le guest under qemu-system-ppc64 (pseries).
run ppc
check "a ppc64le instance boots and runs" has "arch=ppc64le"
check "its host name is the instance name" has "host=ppc"
check "its root is read-only too" has "root-write=1"

# A VMM that fails at once is reported, not waited for.
mkdir -p "$tmp/fakebin"
printf '#!/bin/sh\necho "qemu-system-x86_64: -chardev socket,id=console: boom" >&2\nexit 1\n' \
	>"$tmp/fakebin/qemu-system-x86_64"
chmod 711 "$tmp" # the VMM execs it as its own uid
chmod 755 "$tmp/fakebin" "$tmp/fakebin/qemu-system-x86_64"
PATH=$tmp/fakebin:$PATH run exit7
check "a VMM that fails at start gives one line" has "the VMM failed: .*boom"
check "and status 3" [ "$rc" = 3 ]

# A console log that is not a plain file of root's is refused, not used.
rm -f "$SPECTRUM_RUN_DIR/exit7/console.log"
mkdir "$SPECTRUM_RUN_DIR/exit7/console.log"
run exit7
check "an unusable console log is refused in one line (status 3)" \
	eval '[ "$rc" = 3 ] && has "console.log" && [ "$(wc -l <"$tmp/out")" = 1 ]'
rmdir "$SPECTRUM_RUN_DIR/exit7/console.log"

# Bad guest set-ups: one line, no hang.
cat >"$tmp/bad.json" <<JSON
{"applications": {
   "corrupt": {"image": "$tmp/corrupt.erofs", "command": ["/bin/sh", "-c", "true"], "memory": "128M"},
   "missing": {"image": "$tmp/missing.erofs", "command": ["/bin/sh"]},
   "noprog": {"image": "test-x86", "command": ["/usr/bin/no-such-program"], "memory": "128M"}},
 "instances": {"corrupt": {"application": "corrupt"}, "missing": {"application": "missing"},
               "noprog": {"application": "noprog"}}}
JSON
head -c 4194304 /dev/urandom >"$tmp/corrupt.erofs"
run corrupt "$tmp/bad.json"
check "a corrupt root image fails at the root stage" [ "$rc" = 122 ]
check "with one line naming the stage" has "the guest failed at root"
run missing "$tmp/bad.json"
check "a missing image is refused before boot" [ "$rc" = 3 ]
check "naming the image" has "root image $tmp/missing.erofs is missing"
run noprog "$tmp/bad.json"
check "a missing program fails at the exec stage" [ "$rc" = 125 ]
# A guest whose kernel panics is named by its panic line, not "stopped
# without reporting a status": out of memory (with the fix), and on purpose.
cat >"$tmp/panic.json" <<'JSON'
{"applications": {
   "oom": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
     "b=/bin/busybox; echo 1 >/proc/sys/vm/panic_on_oom; for d in /tmp /home /var/tmp /run; do $b dd if=/dev/zero of=$d/big bs=1M count=90 2>/dev/null; done; echo survived"]},
   "crash": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c", "echo c >/proc/sysrq-trigger; echo survived"]}},
 "instances": {"oom": {"application": "oom"}, "crash": {"application": "crash"}}}
JSON
run oom "$tmp/panic.json"
check "a kernel panic out of memory is named, with the fix (status 126)" \
	eval '[ "$rc" = 126 ] && has "^spectrum: oom: the guest.s kernel panicked: Out of memory: system-wide panic_on_oom is enabled; it has 128M of memory: give it more"'
run crash "$tmp/panic.json"
check "another panic is named by its line" \
	eval '[ "$rc" = 126 ] && has "^spectrum: crash: the guest.s kernel panicked: sysrq triggered crash$"'
SPECTRUM_STATE_DIR=$tmp/empty run exit7
kdir=x86_64
[ "${SPECTRUM_KERNEL:-spectrum}" = spectrum ] && kdir=spectrum-x86_64
check "a missing kernel is refused with one line" has "guest kernel $tmp/empty/kernels/$kdir/vmlinux is missing"
check "and status 3" [ "$rc" = 3 ]

# A volume open read-write in one VM cannot be opened by another.
"$spectrum" run "$cfg" writer --timeout 180 >"$tmp/first" 2>&1 </dev/null &
first=$!
sleep 1
run reader
check "a second VM cannot open a volume another writes" has "volume store"
wait $first

# Passed-through devices must be there (a fake sysfs stands in for /sys).
cat >"$tmp/dev.json" <<JSON
{"applications": {"a": {"image": "test-x86", "command": ["/bin/true"], "memory": "128M"}},
 "resources": {"key": {"type": "usb", "vendor": "1050", "product": "0407"},
               "port": {"type": "usb", "bus": 3, "port": "2.1"},
               "gpu": {"type": "pci", "address": "0000:01:00.0"}},
 "instances": {"key": {"application": "a", "bindings": {"key": {}}},
               "port": {"application": "a", "bindings": {"port": {}}},
               "gpu": {"application": "a", "bindings": {"gpu": {}}}}}
JSON
mkdir -p "$tmp/sys/bus/usb/devices/1-1" "$tmp/sys/bus/pci/devices/0000:01:00.0"
echo 046d >"$tmp/sys/bus/usb/devices/1-1/idVendor"
echo c52b >"$tmp/sys/bus/usb/devices/1-1/idProduct"
SPECTRUM_SYSFS=$tmp/sys run key "$tmp/dev.json"
check "an absent USB device is refused in one line" has "usb device key (1050:0407) is not plugged in"
check "before anything starts (status 3)" [ "$rc" = 3 ]
SPECTRUM_SYSFS=$tmp/sys run port "$tmp/dev.json"
check "an absent USB port is refused" has "usb device port (bus 3 port 2.1) is not plugged in"
SPECTRUM_SYSFS=$tmp/sys run gpu "$tmp/dev.json"
check "a PCI device not bound to vfio-pci is refused" has "bound to no driver, not vfio-pci"
SPECTRUM_SYSFS=$tmp/nosys run gpu "$tmp/dev.json"
check "an absent PCI device is refused" has "pci device gpu (0000:01:00.0) does not exist"

# Bound to vfio-pci, it still needs an IOMMU, and the rest of its IOMMU
# group free of host drivers (the GPU's audio function, here).
g=$tmp/sys/kernel/iommu_groups/12
mkdir -p "$tmp/sys/bus/pci/drivers/vfio-pci" "$tmp/sys/bus/pci/drivers/snd_hda_intel" \
	"$tmp/sys/bus/pci/devices/0000:01:00.1" "$g/devices"
ln -s "$tmp/sys/bus/pci/drivers/vfio-pci" "$tmp/sys/bus/pci/devices/0000:01:00.0/driver"
SPECTRUM_SYSFS=$tmp/sys run gpu "$tmp/dev.json"
check "a PCI device in no IOMMU group is refused (no IOMMU)" \
	has "pci device gpu (0000:01:00.0) is in no IOMMU group: the host runs without an IOMMU"
ln -s "$g" "$tmp/sys/bus/pci/devices/0000:01:00.0/iommu_group"
ln -s "$tmp/sys/bus/pci/devices/0000:01:00.0" "$g/devices/0000:01:00.0"
ln -s "$tmp/sys/bus/pci/devices/0000:01:00.1" "$g/devices/0000:01:00.1"
ln -s "$tmp/sys/bus/pci/drivers/snd_hda_intel" "$tmp/sys/bus/pci/devices/0000:01:00.1/driver"
SPECTRUM_SYSFS=$tmp/sys run gpu "$tmp/dev.json"
check "a group member bound to a host driver is named, with the fix" \
	has "its IOMMU group 12 also holds 0000:01:00.1, bound to snd_hda_intel.*set-override 0000:01:00.1 vfio-pci"
check "in one line (status 3)" eval '[ $rc = 3 ] && [ $(wc -l <"$tmp/out") = 1 ]'

# crosvm and Cloud Hypervisor get command lines, not launches (yet): one
# line that says so, before anything is made.
for hv in crosvm cloud-hypervisor; do
	cat >"$tmp/hv.json" <<JSON
{"version": 1, "applications": {"a": {"image": "test-x86", "command": ["/bin/true"], "memory": "128M"}},
 "instances": {"other": {"application": "a", "hypervisor": "$hv"}}}
JSON
	run other "$tmp/hv.json"
	check "$hv is refused at launch in one line (status 3)" \
		eval 'has "$hv is not launched by Spectrum yet" && [ $rc = 3 ] && [ $(wc -l <"$tmp/out") = 1 ] && [ ! -e "$SPECTRUM_RUN_DIR/other" ]'
done

# A present USB device's node is handed to the unprivileged VMM for the
# VM's life and given back after (fake /sys and /dev; QEMU's usb-host
# waits for a device it cannot find, so the VM still runs).
mkdir -p "$tmp/sys2/bus/usb/devices/1-1" "$tmp/dev2/bus/usb/001"
echo 1050 >"$tmp/sys2/bus/usb/devices/1-1/idVendor"
echo 0407 >"$tmp/sys2/bus/usb/devices/1-1/idProduct"
echo 1 >"$tmp/sys2/bus/usb/devices/1-1/busnum"
echo 2 >"$tmp/sys2/bus/usb/devices/1-1/devnum"
: >"$tmp/dev2/bus/usb/001/002"
# A second resource naming the same device does not make it shareable.
sed 's|"/bin/true"|"/bin/sh", "-c", "sleep 4"|;
     s|"port": {"type"|"key2": {"type": "usb", "vendor": "1050", "product": "0407"},\n               &|;
     s|"port": {"application"|"key2": {"application": "a", "bindings": {"key2": {}}},\n               &|' \
	"$tmp/dev.json" >"$tmp/dev2.json"
SPECTRUM_SYSFS=$tmp/sys2 SPECTRUM_DEVFS=$tmp/dev2 "$spectrum" run "$tmp/dev2.json" key --timeout 120 >"$tmp/holder" 2>&1 &
holder=$!
owner=0
for _ in $(seq 200); do
	owner=$(stat -c %u "$tmp/dev2/bus/usb/001/002")
	[ "$owner" != 0 ] && break
	sleep 0.1
done
check "a USB node belongs to the VMM's uid while it runs" [ "$owner" -ge 524288 ]
SPECTRUM_SYSFS=$tmp/sys2 SPECTRUM_DEVFS=$tmp/dev2 run key2 "$tmp/dev2.json"
check "another instance naming it through another resource is refused, naming the holder" \
	eval 'has "usb device 1050:0407 (resource key2) is held by instance key" && [ $rc = 3 ]'
check "and leaves the node to the VMM that has it" [ "$(stat -c %u "$tmp/dev2/bus/usb/001/002")" = "$owner" ]
wait $holder
cp "$tmp/holder" "$tmp/out"
check "and to its owner again after" [ "$(stat -c %u "$tmp/dev2/bus/usb/001/002")" = 0 ]

# A directory resource: two instances write to it at once and both
# writes land; a read-only binding of it cannot write (host-enforced).
# The directory is a user's: root's is refused (below).
mkdir -p "$tmp/shared"
chown 4242:4343 "$tmp/shared"
cat >"$tmp/share.json" <<JSON
{"applications": {
   "w": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
     "for i in 1 2 3 4 5; do echo \$(hostname) \$i >> /home/user/shared/common; echo x > /home/user/shared/\$(hostname)-\$i; sleep 0.2; done; echo wrote"]},
   "r": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
     "ls /home/user/shared | wc -l; echo x > /home/user/shared/intruder; echo ro-write=\$?"]}},
 "resources": {"shared": {"type": "directory", "path": "$tmp/shared"}},
 "instances": {
   "w1": {"application": "w", "bindings": {"shared": {"path": "/home/user/shared", "mode": "rw"}}},
   "w2": {"application": "w", "bindings": {"shared": {"path": "/home/user/shared", "mode": "rw"}}},
   "ro": {"application": "r", "bindings": {"shared": {"path": "/home/user/shared", "mode": "ro"}}}}}
JSON
"$spectrum" run "$tmp/share.json" w1 --timeout 180 >"$tmp/w1" 2>&1 </dev/null &
w1=$!
"$spectrum" run "$tmp/share.json" w2 --timeout 180 >"$tmp/w2" 2>&1 </dev/null
rc2=$?
wait $w1
rc1=$?
cp "$tmp/w1" "$tmp/out"
check "two instances share a directory at once" [ "$rc1" = 0 -a "$rc2" = 0 ]
check "both writes land (10 lines, 10 files)" [ "$(wc -l <"$tmp/shared/common")" = 10 -a "$(ls "$tmp/shared" | grep -c -- '-[0-9]$')" = 10 ]
check "both instances' lines are there" bash -c "grep -q '^w1 5$' '$tmp/shared/common' && grep -q '^w2 5$' '$tmp/shared/common'"
run ro "$tmp/share.json"
check "a read-only binding sees the files" has "^11$"
check "and cannot write to the directory" has "ro-write=1"
check "nothing was written on the host" [ ! -e "$tmp/shared/intruder" ]

# Its file server, virtiofsd, speaks FUSE with the guest: it runs as the
# instance's own uid, root of a user namespace of its own, sees its
# directory only, and the files the guest makes there are the directory's
# owner's, never set-user-ID or set-group-ID.  (The directories are below
# $tmp, of mode 0700, which the instance's uid cannot search.)
mkdir -p "$tmp/priv/rw" "$tmp/priv/ro" "$tmp/priv/root"
echo marker >"$tmp/priv/rw/marker"
echo old >"$tmp/priv/ro/f"
chown -R 4242:4343 "$tmp/priv/rw" "$tmp/priv/ro"
g=/home/user
cat >"$tmp/priv.json" <<JSON
{"applications": {
   "p": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
     "cd $g/rw; echo x > new; echo create=\$?; echo owner=\$(stat -c %u:%g new); chmod u+s new; echo suid=\$?; chmod g+s new; echo sgid=\$?; chown 0:0 new; echo chown0=\$?; chown 1000 new; echo chown1000=\$?; mkdir open; chmod 777 open; su -s /bin/sh -c 'echo x > open/by1000' user; echo user-create=\$?; echo x > $g/ro/new; echo ro-create=\$?; echo y >> $g/ro/f; echo ro-append=\$?; echo up; sleep 12; echo done"]}},
 "resources": {"rw": {"type": "directory", "path": "$tmp/priv/rw"},
               "ro": {"type": "directory", "path": "$tmp/priv/ro"},
               "root": {"type": "directory", "path": "$tmp/priv/root"}},
 "instances": {
   "p": {"application": "p", "bindings": {"rw": {"path": "$g/rw", "mode": "rw"}, "ro": {"path": "$g/ro"}}},
   "root": {"application": "p", "bindings": {"root": {"path": "$g/rw", "mode": "rw"}}}}}
JSON
run_until '^up' "$tmp/p" run "$tmp/priv.json" p --timeout 180
runner=$bg
cp "$tmp/p" "$tmp/out"
vmm_uid=$("$spectrum" plan "$tmp/priv.json" p --json | jq -r '.[0].vmm.uid // .vmm.uid')
# spectrum run's virtiofsd children, and theirs (the one in its own pid
# namespace that serves).
fsd=
for o in $(pgrep -P $runner -x virtiofsd); do fsd="$fsd $o $(pgrep -P "$o" -x virtiofsd)"; done
# each_fsd TEST: TEST PID holds for every virtiofsd process of instance p.
each_fsd() {
	local p
	[ -n "$fsd" ] || return 1
	for p in $fsd; do "$@" "$p" || return 1; done
}
is_vmm_uid() {
	local id="\s+$vmm_uid"
	[ "$vmm_uid" -ge 524288 ] && grep -Eq "^Uid:$id$id$id$id$" "/proc/$1/status" &&
		grep -Eq "^Gid:$id$id$id$id$" "/proc/$1/status"
}
# Not the user namespace of spectrum run, root's (this script's).
own_userns() { [ "$(readlink "/proc/$1/ns/user")" != "$(readlink /proc/$$/ns/user)" ]; }
# Its root holds the share (marker or f) and nothing of the host's.
root_is_share() { [ -e "/proc/$1/root/marker" -o -e "/proc/$1/root/f" ] && [ ! -e "/proc/$1/root/etc" ]; }
# Its root is idmapped, nosuid, nodev, noexec, and ro for the ro share.
root_mount() {
	local mode=rw
	[ -e "/proc/$1/root/f" ] && mode=ro
	grep -Eq "^[0-9]+ [0-9]+ [^ ]+ [^ ]+ / $mode,nosuid,nodev,noexec,.*idmapped" "/proc/$1/mountinfo"
}
check "the guest is up with its shares" has "^up"
check "a virtiofsd serves each share" [ "$(echo $fsd | wc -w)" -ge 2 ]
check "virtiofsd runs as the instance's own uid and gid, not root" each_fsd is_vmm_uid
check "in a user namespace other than root's" each_fsd own_userns
# Its CapEff counts in its own user namespace only.  Entered with every
# capability of that namespace (more than virtiofsd keeps), a process
# still cannot read a host file nor act on a host namespace.
in_fsd_userns() { nsenter -t "$(echo $fsd | cut -d' ' -f1)" -U -S 0 -G 0 sh -c "$1" 2>/dev/null; }
check "its capabilities give nothing over host files" \
	[ "$(in_fsd_userns 'cat /etc/shadow >/dev/null 2>&1; echo $?')" = 1 ]
check "nor over the host's namespaces" \
	[ "$(in_fsd_userns 'hostname "$(hostname)" 2>/dev/null; echo $?')" = 1 ]
check "its root is its directory: nothing else of the host is there" each_fsd root_is_share
check "its directory is idmapped, nosuid, nodev, noexec, and ro if bound ro" each_fsd root_mount
# The read-only flag was set by root before virtiofsd made its mount
# namespace: the kernel locks it, so even with every capability of
# virtiofsd's user namespace the share stays read-only.
ro_fsd=
for p in $fsd; do [ -e "/proc/$p/root/f" ] && ro_fsd=$p; done
"$build/tests/share-probe" "$ro_fsd" >"$tmp/out" 2>&1
check "a taken-over virtiofsd cannot remount its ro share read-write" has "^remount=EPERM$"
check "nor clear its read-only, nosuid, nodev, noexec flags" has "^setattr=EPERM$"
check "nor unmount it" has "^umount=EINVAL$"
check "nor create a file in it" has "^create=EROFS$"
wait $runner
rc=$?
cp "$tmp/p" "$tmp/out"
check "the guest ran to its end" eval '[ $rc = 0 ] && has "^done"'
check "guest root creates files" has "^create=0"
check "which it sees as its own" has "^owner=0:0"
check "and which are the directory owner's on the host" [ "$(stat -c %u:%g "$tmp/priv/rw/new")" = 4242:4343 ]
check "chmod u+s fails" has "^suid=1"
check "chmod g+s fails" has "^sgid=1"
check "the file is not set-ID on the host" [ "$(stat -c %a "$tmp/priv/rw/new")" = 644 ]
check "chown to guest root changes nothing on the host" \
	eval 'has "^chown0=0" && [ "$(stat -c %u:%g "$tmp/priv/rw/new")" = 4242:4343 ]'
check "chown to another guest uid fails" has "^chown1000=1"
check "another guest uid cannot create files (EINVAL: it is not mapped)" \
	eval 'has "by1000: Invalid argument" && has "^user-create=1" && [ ! -e "$tmp/priv/rw/open/by1000" ]'
check "a read-only share refuses a new file" eval 'has "^ro-create=1" && [ ! -e "$tmp/priv/ro/new" ]'
check "and a write to an old one" eval 'has "^ro-append=1" && [ "$(cat "$tmp/priv/ro/f")" = old ]'
run root "$tmp/priv.json"
check "a directory of root's is refused in one line naming the fix" \
	eval 'has "share root: $tmp/priv/root belongs to user root.*chown USER:GROUP" && [ $rc = 3 ] && [ $(wc -l <"$tmp/out") = 1 ]'

# The data file's smallest memory, 64M: Spectrum's kernel boots in it
# (tests/vm/min-memory.sh, suite heavy, boots it 50 times); Debian's is
# refused below 96M before anything starts.
cat >"$tmp/small.json" <<'JSON'
{"applications": {"small": {"image": "test-x86", "memory": "64M", "command": ["/bin/sh", "-c", "echo small-ok"]}},
 "instances": {"small": {"application": "small"}}}
JSON
if [ "${SPECTRUM_KERNEL:-spectrum}" = spectrum ]; then
	run small "$tmp/small.json"
	check "Spectrum's kernel boots an instance of 64M" eval '[ "$rc" = 0 ] && has "^small-ok"'
fi

# Debian's kernel (SPECTRUM_KERNEL=debian) stays selectable for hardware
# that needs its drivers: a smoke test of it on both architectures, its
# modules included (ext4 for a volume).  SPECTRUM_VM_DEBIAN=0 leaves it out.
if [ "${SPECTRUM_VM_DEBIAN:-1}" = 1 ]; then
	SPECTRUM_KERNEL=debian run root-write
	check "Debian's kernel: the application runs and / is read-only" has "root-write=1"
	SPECTRUM_KERNEL=debian run writer
	check "Debian's kernel: a rw volume (ext4, a module) counts on" has "^count=[0-9]"
	SPECTRUM_KERNEL=debian run ppc
	check "Debian's kernel: a ppc64le instance boots and runs" has "arch=ppc64le"
	SPECTRUM_KERNEL=debian run small "$tmp/small.json"
	check "Debian's kernel below 96M is refused in one line (status 3)" \
		eval '[ "$rc" = 3 ] && has "instance small has 64M of memory, and Debian.s guest kernel (SPECTRUM_KERNEL=debian) needs at least 96M" && [ $(wc -l <"$tmp/out") = 1 ]'
fi

tap_end
