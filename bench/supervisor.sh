#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The supervisor against libvirt.  First the time from `spectrum start`
# (spectrumd running) to the application's first line in the console log,
# against `virsh create` of an equivalent libvirt domain (type qemu, the
# same machine, kernel, initramfs, command line, root image, control port,
# memory and vCPU), alternated in one run, one untimed warm-up each; prints
# each median and their ratio.  Then spectrumd's own memory (VmRSS, PSS)
# with 0 and with 10 running 128M instances, and one QEMU's for context.
#
#   bash bench/supervisor.sh [RUNS]      (default 5; as root, after scripts/setup.sh)
#
# Installs libvirt-daemon-system and libvirt-clients with apt-get if they
# are missing, and starts virtlogd and libvirtd if they are not running
# (stopping them again at the end).  Without libvirt, prints why and
# measures the memory part alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. bench/lib.sh
runs=${1:-5}
state=${SPECTRUM_STATE_DIR:-/var/lib/spectrum}
export SPECTRUM_STATE_DIR=$state
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-bench.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR" # as /run/spectrum
export LIBVIRT_DEFAULT_URI=qemu:///system
tmp=$(mktemp -d)
cfg=bench/supervisor.json
marker=spectrum-supervisor-marker
dom=spectrum-bench-$$
daemon=
lv_up=false
lv_why=
lv_note=
lv_started=()
kvm_mode=

[[ -x build/spectrum && -x build/spectrumd ]] || { echo "bench: run scripts/setup.sh first" >&2; exit 1; }
if [[ ! -f $state/images/test-x86.erofs ]]; then
	build/spectrum-image build -n test-x86 -p busybox-static -d tests/vm/root >/dev/null
fi

# wait_gone PID...: until none of them is alive (at most 10 s).
wait_gone() {
	local p t
	for p in "$@"; do
		for ((t = 0; t < 100; t++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
}
active() { build/spectrum list --json 2>/dev/null | jq '[.[] | select(.state != "stopped" and .state != "failed")] | length'; }
cleanup() {
	local p pids=()
	set +e
	$lv_up && virsh domstate "$dom" >/dev/null 2>&1 && virsh destroy "$dom" >/dev/null 2>&1
	if [[ -n $daemon ]]; then
		build/spectrum down --kill >/dev/null 2>&1
		for _ in $(seq 100); do [[ $(active) == 0 ]] && break; sleep 0.2; done
		kill "$daemon" 2>/dev/null
		wait "$daemon" 2>/dev/null
	fi
	# A VMM the daemon did not stop: only ours, by the pid file in our run dir.
	for f in "$SPECTRUM_RUN_DIR"/*/pid; do
		[[ -f $f ]] || continue
		p=$(cat "$f")
		grep -qF "$SPECTRUM_RUN_DIR/" "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p" && pids+=("$p")
	done
	((${#pids[@]})) && wait_gone "${pids[@]}"
	if [[ -n $kvm_mode ]]; then
		chown "${kvm_mode% *}" /dev/kvm
		chmod "${kvm_mode#* }" /dev/kvm
	fi
	# libvirtd and virtlogd only if this script started them.
	for p in "${lv_started[@]}"; do kill "$p" 2>/dev/null; done
	((${#lv_started[@]})) && wait_gone "${lv_started[@]}"
	rm -rf "$tmp" "$SPECTRUM_RUN_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }
count() { grep -c -- "$marker" "$1" 2>/dev/null || true; }
# wait_marker FILE BEFORE: until FILE holds more than BEFORE marker lines (at most 180 s).
wait_marker() {
	local n t
	for ((t = 0; t < 9000; t++)); do
		n=$(count "$1")
		((${n:-0} > $2)) && return 0
		sleep 0.02
	done
	echo "bench: no marker in $1 within 180 s" >&2
	return 1
}
state_of() { build/spectrum status "$1" --json 2>/dev/null | jq -r .state; }
# wait_state INSTANCE STATE: at most 180 s.
wait_state() {
	local s t
	for ((t = 0; t < 900; t++)); do
		s=$(state_of "$1")
		[[ $s == "$2" ]] && return 0
		[[ $s == failed && $2 != failed ]] && break
		sleep 0.2
	done
	echo "bench: $1 is ${s:-unknown}, not $2:" >&2
	build/spectrum status "$1" >&2 || true
	return 1
}
# mem PID: "VmRSS PSS" in KiB.
mem() {
	echo "$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status") $(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup")"
}
mib() { awk -v k="$1" 'BEGIN {printf "%7.1f MiB", k / 1024}'; }

# --- libvirt: install, start, and the equivalent domain ---------------------
setup_libvirt() {
	local t
	if ! command -v virsh >/dev/null || [[ ! -x /usr/sbin/libvirtd ]]; then
		if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
			libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu >"$tmp/apt.log" 2>&1; then
			lv_why="apt-get install libvirt-daemon-system libvirt-clients: $(tail -1 "$tmp/apt.log")"
			return 1
		fi
	fi
	# Debian's udev makes /dev/kvm root:kvm 0660, and libvirt-qemu is in
	# group kvm.  Without udev it may be root:root 0600: libvirtd's QEMU
	# probe (as root) finds KVM, its check as libvirt-qemu does not, and it
	# then re-probes QEMU's capabilities (~4 s each, a dozen times) on
	# every create.  Give it udev's mode for the run, then put it back.
	if [[ -c /dev/kvm ]] && id libvirt-qemu >/dev/null 2>&1 &&
		! runuser -u libvirt-qemu -- test -r /dev/kvm -a -w /dev/kvm; then
		lv_note="/dev/kvm was $(stat -c '%U:%G %a' /dev/kvm), root:kvm 660 for the run"
		kvm_mode=$(stat -c '%u:%g %a' /dev/kvm)
		chgrp kvm /dev/kvm && chmod g+rw /dev/kvm
	fi
	if ! virsh version >/dev/null 2>&1; then
		# No systemd here, perhaps: run the daemons directly.
		if ! pgrep -x virtlogd >/dev/null; then
			rm -f /run/virtlogd.pid
			/usr/sbin/virtlogd -d
			for ((t = 0; t < 50; t++)); do [[ -s /run/virtlogd.pid ]] && break; sleep 0.1; done
			lv_started+=("$(cat /run/virtlogd.pid)")
		fi
		if ! pgrep -x libvirtd >/dev/null; then
			rm -f /run/libvirtd.pid
			/usr/sbin/libvirtd -d
			for ((t = 0; t < 50; t++)); do [[ -s /run/libvirtd.pid ]] && break; sleep 0.1; done
			lv_started+=("$(cat /run/libvirtd.pid)")
		fi
		for ((t = 0; t < 100; t++)); do virsh version >/dev/null 2>&1 && break; sleep 0.1; done
	fi
	if ! virsh version >"$tmp/virsh.out" 2>&1; then
		lv_why="virsh version: $(tail -1 "$tmp/virsh.out")"
		return 1
	fi
}

# The domain boots what spectrum boots: the per-instance initramfs (base +
# the guest configuration), the kernel command line, memory and vCPUs of
# `spectrum plan --argv`.  libvirt chowns the files it is given to
# libvirt-qemu (and leaves a read-only disk so), so it gets copies.
write_domain() {
	local argv append m smp machine lvdir=$tmp/libvirt
	mkdir -p "$lvdir/cfg/spectrum"
	chmod 755 "$tmp" "$lvdir"
	argv=$(build/spectrum plan $cfg hello --argv 2>/dev/null)
	arg() { sed -n "s/^ *$1 //p" <<<"$argv" | sed 's/ *\\$//' | head -1; }
	append=$(arg -append | sed "s/^'\(.*\)'\$/\1/")
	m=$(arg -m)
	smp=$(arg -smp)
	machine=$(arg -M)
	[[ -n $append && -n $m && -n $smp && -n $machine ]] || { lv_why="cannot read spectrum plan --argv"; return 1; }
	build/spectrum plan $cfg hello --guest 2>/dev/null | grep -v '^#' >"$lvdir/cfg/spectrum/config"
	cp "$state/kernels/x86_64/initrd.img" "$lvdir/initrd.img"
	truncate -s %4 "$lvdir/initrd.img"
	(cd "$lvdir/cfg" && find spectrum | sort | cpio --quiet -o -H newc -R 0:0) >>"$lvdir/initrd.img"
	cp "$state/kernels/x86_64/vmlinux" "$state/images/test-x86.erofs" "$lvdir/"
	lv_machine=$machine
	# microvm has no PCI: every virtio device on virtio-mmio, no USB, no
	# balloon.  <acpi/>, or libvirt passes -no-acpi and microvm's virtio-mmio
	# devices go unseen by the guest.  The control port goes to a file,
	# which QEMU opens at once (a null chardev never reports the host side
	# open, and init would wait).
	cat >"$lvdir/domain.xml" <<-EOF
		<domain type='qemu'>
		  <name>$dom</name>
		  <memory unit='MiB'>$m</memory>
		  <vcpu>$smp</vcpu>
		  <os>
		    <type arch='x86_64' machine='$machine'>hvm</type>
		    <kernel>$lvdir/vmlinux</kernel>
		    <initrd>$lvdir/initrd.img</initrd>
		    <cmdline>$append</cmdline>
		  </os>
		  <features><acpi/></features>
		  <on_poweroff>destroy</on_poweroff>
		  <on_reboot>destroy</on_reboot>
		  <on_crash>destroy</on_crash>
		  <devices>
		    <emulator>$(command -v qemu-system-x86_64)</emulator>
		    <disk type='file' device='disk'>
		      <driver name='qemu' type='raw'/>
		      <source file='$lvdir/test-x86.erofs'/>
		      <target dev='vda' bus='virtio'/>
		      <serial>root</serial>
		      <readonly/>
		      <address type='virtio-mmio'/>
		    </disk>
		    <controller type='virtio-serial' index='0'><address type='virtio-mmio'/></controller>
		    <channel type='file'>
		      <source path='$lvdir/control.out'/>
		      <target type='virtio' name='spectrum.control'/>
		    </channel>
		    <serial type='file'>
		      <source path='$lvdir/console.log'/>
		      <target port='0'/>
		    </serial>
		    <controller type='usb' model='none'/>
		    <memballoon model='none'/>
		  </devices>
		</domain>
	EOF
}

# time_libvirt: ms from `virsh create` to the marker in the console file.
time_libvirt() {
	local start lvdir=$tmp/libvirt
	rm -f "$lvdir/console.log" "$lvdir/control.out"
	start=$(now_ms)
	virsh -q create "$lvdir/domain.xml" >/dev/null
	wait_marker "$lvdir/console.log" 0
	echo $(($(now_ms) - start))
	virsh -q destroy "$dom" >/dev/null
	for _ in $(seq 100); do virsh domstate "$dom" >/dev/null 2>&1 || break; sleep 0.1; done
}

# time_spectrum: ms from `spectrum start` to the marker in the console log.
time_spectrum() {
	local start before log=$SPECTRUM_RUN_DIR/hello/console.log
	before=$(count "$log")
	start=$(now_ms)
	build/spectrum start hello >/dev/null
	wait_marker "$log" "${before:-0}"
	echo $(($(now_ms) - start))
	build/spectrum stop hello --kill >/dev/null
	wait_state hello stopped
}

# --- the run ---------------------------------------------------------------
build/spectrum check $cfg >/dev/null
build/spectrumd -c $cfg >>"$tmp/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 50); do [[ -S $SPECTRUM_RUN_DIR/spectrumd.sock ]] && break; sleep 0.1; done
[[ -S $SPECTRUM_RUN_DIR/spectrumd.sock ]] || { cat "$tmp/daemon.log" >&2; exit 1; }
sleep 1
read -r d0_rss d0_pss < <(mem "$daemon")

lv_machine=
if setup_libvirt && write_domain; then
	lv_up=true
fi

accel=$(build/spectrum plan $cfg hello 2>/dev/null | sed -n 's/.*(x86_64, \([a-z]*\)).*/\1/p')
: >"$tmp/spectrum.ms"
: >"$tmp/libvirt.ms"
time_spectrum >/dev/null # warm-up
if $lv_up; then
	time_libvirt >/dev/null
	lvd=$(pgrep -xo libvirtd || true)
	[[ -n $lvd ]] && read -r l_rss l_pss < <(mem "$lvd")
fi
for ((i = 1; i <= runs; i++)); do
	time_spectrum >>"$tmp/spectrum.ms"
	$lv_up && time_libvirt >>"$tmp/libvirt.ms"
done
s=$(median <"$tmp/spectrum.ms")
echo "start to the application's first line, median of $runs ($accel):"
echo "  spectrum start     $s ms   [$(tr '\n' ' ' <"$tmp/spectrum.ms")]"
if $lv_up; then
	l=$(median <"$tmp/libvirt.ms")
	echo "  virsh create       $l ms   [$(tr '\n' ' ' <"$tmp/libvirt.ms")]"
	awk -v s="$s" -v l="$l" -v v="$(virsh version 2>/dev/null | sed -n 's/^Using library: libvirt //p')" \
		-v m="$lv_machine" 'BEGIN {printf "  ratio              %.2f   (libvirt %s, machine %s)\n", s / l, v, m}'
	[[ -z $lv_note ]] || echo "  (note: $lv_note)"
else
	echo "  virsh create       not measured: $lv_why"
fi

# Ten idle instances, started one after another, each until running.
idle=()
for i in 01 02 03 04 05 06 07 08 09 10; do
	build/spectrum start "idle$i" >/dev/null
	wait_state "idle$i" running
	idle+=("idle$i")
done
sleep 2
read -r d10_rss d10_pss < <(mem "$daemon")
q_rss=0 q_pss=0
for n in "${idle[@]}"; do
	pid=$(build/spectrum status "$n" --json | jq -r .pid)
	read -r r p < <(mem "$pid")
	q_rss=$((q_rss + r)) q_pss=$((q_pss + p))
done
build/spectrum down >/dev/null
for _ in $(seq 300); do [[ $(active) == 0 ]] && break; sleep 0.2; done
[[ $(active) == 0 ]] || { echo "bench: instances still running after down" >&2; build/spectrum list >&2; exit 1; }
sleep 1
read -r dd_rss dd_pss < <(mem "$daemon")

echo "spectrumd's own memory                        VmRSS          PSS"
echo "  0 instances (fresh)                    $(mib "$d0_rss")  $(mib "$d0_pss")"
echo "  10 running instances (128M each)       $(mib "$d10_rss")  $(mib "$d10_pss")"
echo "  0 instances (after down)               $(mib "$dd_rss")  $(mib "$dd_pss")"
echo "  one QEMU under $accel (mean of the 10)   $(mib $((q_rss / 10)))  $(mib $((q_pss / 10)))"
[[ -n ${l_rss:-} ]] && echo "  libvirtd, for context (idle)           $(mib "$l_rss")  $(mib "$l_pss")"
echo "total time: ${SECONDS} s"
