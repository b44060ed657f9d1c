#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The main job: sets Spectrum up on this machine, builds the demo images
# from Debian packages, and boots every compartment of examples/demo.json,
# showing what each one prints.
#
#   sudo bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# Spectrum's own kernel is the default.  The demo builds x86_64's, the
# kernel of every instance but one, in the background while it makes the
# images (about 7 minutes of two cores the first time, cached after by a
# hash of its inputs; measured: README).  ppc64le's would take as long
# again, which the demo's 10 minutes do not hold: its one ppc64le instance
# boots ours where scripts/setup.sh or the test command built it, and
# Debian's otherwise, saying so.  SPECTRUM_KERNEL, when set, decides for
# both, and then nothing is built.
say "setting up: packages"
bash scripts/deps.sh
state=${SPECTRUM_STATE_DIR:-/var/lib/spectrum}
klog=$(mktemp /tmp/spectrum-demo-kernel.XXXXXX)
kpid=
# The build runs in a session of its own, so that an early exit of the
# demo (a failed step, ^C) stops all of it, make and compilers included.
trap 'if [[ -n $kpid ]]; then kill -- -"$kpid" 2>/dev/null || true; fi; rm -f "$klog"' EXIT
if [[ -z ${SPECTRUM_KERNEL:-} ]]; then
	say "building Spectrum's x86_64 guest kernel in the background (log: $klog)"
	# The kernel alone: its initramfs needs the guest init, built below.
	setsid bash scripts/build-kernel.sh x86_64 >"$klog" 2>&1 &
	kpid=$!
fi
say "setting up: the build, Debian's guest kernels"
SPECTRUM_SETUP_KERNELS= bash scripts/setup.sh

say "building the demo's root images (reproducible erofs, from Debian packages)"
img=build/spectrum-image
demo=examples/demo
$img build -n demo-mail -p busybox-static -d $demo/common -d $demo/mail
$img build -n demo-notes -p busybox-static -p sqlite3 -d $demo/common -d $demo/notes
$img build -n demo-report -p busybox-static -p jq -d $demo/common -d $demo/report
$img build -a ppc64le -n demo-hello-ppc64le -p busybox-static -d $demo/common -d $demo/hello
$img build -n win-foot -p foot -p waypipe -p fonts-dejavu-core -p libc-bin -p dash -p coreutils
$img build -n win-gtk -p gtk-4-examples -p waypipe -p fonts-dejavu-core -p libc-bin

if [[ -n $kpid ]]; then
	say "waiting for the kernel build"
	if ! wait "$kpid"; then
		cat "$klog" >&2
		echo "spectrum: demo: building Spectrum's kernel failed (above); SPECTRUM_KERNEL=debian bash scripts/demo.sh boots Debian's" >&2
		exit 1
	fi
	kpid=
	cat "$klog"
	bash scripts/build-kernel.sh x86_64 build/guest/spectrum-init
fi
# kernel_for ARCH: the kernel the demo boots for ARCH.
kernel_for() {
	if [[ -n ${SPECTRUM_KERNEL:-} ]]; then
		echo "$SPECTRUM_KERNEL"
	elif [[ -f $state/kernels/spectrum-$1/vmlinux ]]; then
		echo spectrum
	else
		echo debian
	fi
}
x86_kernel=$(kernel_for x86_64)
ppc_kernel=$(kernel_for ppc64le)
if [[ $ppc_kernel == debian && -z ${SPECTRUM_KERNEL:-} ]]; then
	echo "Spectrum's ppc64le kernel is not built, so the ppc64le instance boots Debian's:"
	echo "'bash scripts/setup.sh' builds it (about 6 minutes on two idle cores, once)."
fi
export SPECTRUM_KERNEL=$x86_kernel

cfg=examples/demo.json
say "spectrum check $cfg"
build/spectrum check $cfg

run() {
	say "spectrum run $cfg $1    # $2 ($x86_kernel kernel)"
	build/spectrum run $cfg "$1" --timeout 300
}
# run_ppc INSTANCE WHAT: with the ppc64le kernel.
run_ppc() {
	say "spectrum run $cfg $1    # $2 ($ppc_kernel kernel)"
	SPECTRUM_KERNEL=$ppc_kernel build/spectrum run $cfg "$1" --timeout 300
}
run mail-work "writes to the mail volume it holds read-write"
run mail-reader "the same volume, bound read-only"
run notes "an sqlite database on its own volume"
run notes "booted again: the notes are still there"
run report "no disk, no network: only its read-only root"
run_ppc hello-ppc "a ppc64le guest on an emulated POWER9"

say "two instances may not hold one volume when one of them writes"
build/spectrum run $cfg mail-work --timeout 300 >/dev/null 2>&1 &
writer=$!
sleep 1
build/spectrum run $cfg mail-reader --timeout 300 || true
wait $writer || true

say "windows: two labelled terminals and a GTK 4 demo (examples/windows.json)"
# sudo keeps none of the session's variables: name them, or pass them on
# (sudo --preserve-env=WAYLAND_DISPLAY,XDG_RUNTIME_DIR,SWAYSOCK).
: "${SPECTRUM_SWAYSOCK:=${SWAYSOCK:-}}"
export SPECTRUM_SWAYSOCK
if [ -n "${SPECTRUM_WAYLAND_DISPLAY:-${WAYLAND_DISPLAY:-}}" ]; then
	wcfg=examples/windows.json
	for i in term-work term-personal gtk-demo; do
		build/spectrum run $wcfg $i --timeout 600 >/dev/null 2>&1 &
	done
	echo "three windows open on your desktop (labelled if SPECTRUM_SWAYSOCK names sway's IPC socket);"
	echo "close them to go on"
	wait
else
	cat <<-EOF
		No Wayland display here (SPECTRUM_WAYLAND_DISPLAY or WAYLAND_DISPLAY), so no
		windows.  To see them headless:
		  meson test -C build --suite windows     # then look at build/windows-test.png
		or start a headless sway and point Spectrum at it:
		  eval "\$(bash scripts/headless-sway.sh 65534 /tmp/spectrum-sway)"
		  build/spectrum run examples/windows.json term-work &
		  setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_RUNTIME_DIR=/tmp/spectrum-sway WAYLAND_DISPLAY=wayland-1 grim shot.png
	EOF
fi

say "done: the compartments ran; their volumes are in ${SPECTRUM_STATE_DIR:-/var/lib/spectrum}/volumes"
