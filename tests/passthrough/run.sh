#!/bin/bash
# USB and PCI passthrough with real devices, inside a VM that has them.  TAP.
#
#   run.sh BUILD_DIR SOURCE_ROOT
#
# This machine has no USB controller and no IOMMU, so the devices are made
# one level down: an outer VM (q35 with an emulated VT-d IOMMU and QEMU's
# "edu" PCI device) boots the Debian guest kernel with dummy_hcd, the
# kernel's software USB host controller, and a USB gadget on it made with
# configfs, so the outer VM's kernel enumerates a real USB device
# (1209:0001) and owns a real PCI device behind a real IOMMU.  The outer VM
# sees this machine's root file system read-only over 9p and runs
# tests/passthrough/inner.sh from it, which runs the build's spectrum
# there: the inner VM gets both devices (xHCI + usb-host, VFIO), and its
# application lists what it sees.  Both levels run under TCG here: about
# four minutes in all, most of it the inner boot.  Where the machine has
# real devices, the same can be done without the outer VM; this test is
# for machines like our CI's, which have none.
#
# Work files go to a temporary directory; the kernel .deb comes from the
# cache scripts/guest-kernel.sh fills.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
export SPECTRUM_STATE_DIR=$build/vm-state
timeout_s=${SPECTRUM_PASSTHROUGH_TIMEOUT:-1500}
tmp=$(mktemp -d /tmp/spectrum-pt.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

bail() {
	echo "1..1"
	echo "not ok 1 - $1"
	[ -f "$tmp/log" ] && sed 's/^/# /' "$tmp/log" | tail -40
	exit 1
}

# --- The inner VM's kernel and image (as tests/vm/run.sh makes them) ------

# Debian's kernel for the outer VM (its dummy_hcd and IOMMU modules), and
# the inner VM's kernel (Spectrum's by default: tests/vm/kernels.sh).
. "$src/tests/vm/kernels.sh"
{
	mkdir -p "$SPECTRUM_STATE_DIR" &&
		bash "$src/scripts/guest-kernel.sh" x86_64 "$build/guest/spectrum-init" &&
		setup_kernels "$src" "$build" x86_64 &&
		"$build/spectrum-image" build -n test-x86 -p busybox-static -d "$src/tests/vm/root"
} >"$tmp/log" 2>&1 || bail "set up the inner VM's kernel and image"

# --- The outer VM's initramfs ---------------------------------------------

deb=$(ls /var/cache/spectrum/debs/linux-image-*-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n 1)
bb=$(ls /var/cache/spectrum/debs/busybox-static_*_amd64.deb 2>/dev/null | tail -n 1)
[ -n "$deb" ] && [ -n "$bb" ] || bail "no kernel or busybox-static .deb in /var/cache/spectrum/debs"
version=$(cat "$SPECTRUM_STATE_DIR/kernels/x86_64/version")

mkdir -p "$tmp/k" "$tmp/bb" "$tmp/initrd/bin" "$tmp/initrd/lib/modules" "$tmp/initrd/host"
dpkg-deb -x "$deb" "$tmp/k" && dpkg-deb -x "$bb" "$tmp/bb" || bail "unpack the .debs"
moddir=$tmp/k/lib/modules/$version
# The .deb leaves modules.dep to depmod at installation.
depmod -b "$tmp/k" "$version" 2>>"$tmp/log"
[ -f "$moddir/modules.dep" ] || bail "$deb has no modules.dep for $version"
cp "$tmp/bb/bin/busybox" "$tmp/initrd/bin/busybox"

# The outer VM's modules in load order (dependencies first), from
# modules.dep: 9p for this machine's root, dummy_hcd and the configfs
# gadget with the SourceSink function for the USB device, VFIO for the PCI
# device.
declare -A seen=()
order=()
add_module() { # add_module PATH (relative to moddir)
	local m=$1 deps d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	deps=$(grep -m1 "^$m:" "$moddir/modules.dep" | cut -d: -f2)
	for d in $deps; do add_module "$d"; done
	order+=("$m")
}
for name in virtio_pci 9pnet_virtio 9p dummy_hcd libcomposite usb_f_ss_lb vfio_pci \
	vfio_iommu_type1; do
	# File names mix '-' and '_' as module names do not.
	path=$(grep -m1 -E "/${name//_/[-_]}\.ko(\.xz)?:" "$moddir/modules.dep" | cut -d: -f1)
	[ -n "$path" ] || bail "module $name is not in $deb"
	add_module "$path"
done
: >"$tmp/initrd/modules"
for m in "${order[@]}"; do
	f=$(basename "$m")
	case $f in
	*.xz) xz -dc "$moddir/$m" >"$tmp/initrd/lib/modules/${f%.xz}" ;;
	*) cp "$moddir/$m" "$tmp/initrd/lib/modules/$f" ;;
	esac
	echo "${f%.xz}" >>"$tmp/initrd/modules"
done

# The outer init: modules, this machine's root at /host (read-only, with
# fresh /dev, /proc, /sys and /run; /tmp stays this machine's, where the
# source or build may be), then inner.sh in it; every line
# of the run goes to the serial console, inner.sh's TAP to the second port.
cat >"$tmp/initrd/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/lib/modules/$m" || echo "outer: insmod $m failed"; done </modules
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host /host || echo "outer: no 9p root"
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t configfs configfs /host/sys/kernel/config
mount -t devtmpfs dev /host/dev
mount -t tmpfs -o mode=755 run /host/run
for w in $(cat /proc/cmdline); do
	case $w in
	spectrum.inner=*) inner=${w#*=} ;;
	spectrum.build=*) build=${w#*=} ;;
	esac
done
chroot /host /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /bin/bash "$inner" "$build" 2>&1
echo "outer: inner.sh exited with status $?"
poweroff -f
EOF
chmod 755 "$tmp/initrd/init"
for d in proc sys dev; do mkdir -p "$tmp/initrd/$d"; done
(cd "$tmp/initrd" && find . | cpio -o -H newc --quiet | gzip -1) >"$tmp/initrd.img" ||
	bail "make the outer initramfs"

# --- Boot the outer VM ----------------------------------------------------

# intel-iommu comes first: devices created before it would bypass it.
start=$(date +%s)
timeout "$timeout_s" qemu-system-x86_64 \
	-M q35 -accel tcg,thread=multi -cpu max -smp 2 -m 3072 \
	-device intel-iommu \
	-device edu \
	-kernel "$SPECTRUM_STATE_DIR/kernels/x86_64/vmlinux" -initrd "$tmp/initrd.img" \
	-append "console=ttyS0 intel_iommu=on quiet panic=-1 spectrum.inner=$src/tests/passthrough/inner.sh spectrum.build=$build" \
	-fsdev local,id=hostfs,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostfs,mount_tag=host \
	-nic none -nographic -no-reboot -monitor none \
	-serial file:"$tmp/console" -serial file:"$tmp/results" \
	</dev/null >"$tmp/qemu.log" 2>&1
rc=$?
secs=$(($(date +%s) - start))
cp "$tmp/console" "$tmp/log" 2>/dev/null
cat "$tmp/qemu.log" >>"$tmp/log"
[ "$rc" = 124 ] && bail "the outer VM did not finish in $timeout_s s"
tr -d '\r' <"$tmp/results" >"$tmp/tap" 2>/dev/null
grep -q '^1\.\.' "$tmp/tap" || bail "the outer VM ran no tests (qemu status $rc)"
cat "$tmp/tap"
echo "# outer VM: $secs s in all"
! grep -q '^not ok' "$tmp/tap"
