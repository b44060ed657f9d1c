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

# Spectrum's own kernel (the default) is built here for x86_64 only: the
# first time about 7 minutes on two idle cores, and the demo stays under
# 10 minutes from a fresh machine.  The ppc64le instance boots Debian's
# kernel unless ours is built (scripts/build-kernel.sh ppc64le, or
# scripts/setup.sh, which builds both).
say "setting up (packages, build, guest kernels; Spectrum's x86_64 kernel from source)"
SPECTRUM_SETUP_KERNELS=x86_64 bash scripts/setup.sh
state=${SPECTRUM_STATE_DIR:-/var/lib/spectrum}
ppc_kernel=${SPECTRUM_KERNEL:-spectrum}
if [[ $ppc_kernel == spectrum && ! -f $state/kernels/spectrum-ppc64le/vmlinux ]]; then
	ppc_kernel=debian
fi

say "building the demo's root images (reproducible erofs, from Debian packages)"
img=build/spectrum-image
demo=examples/demo
$img build -n demo-mail -p busybox-static -d $demo/common -d $demo/mail
$img build -n demo-notes -p busybox-static -p sqlite3 -d $demo/common -d $demo/notes
$img build -n demo-report -p busybox-static -p jq -d $demo/common -d $demo/report
$img build -a ppc64le -n demo-hello-ppc64le -p busybox-static -d $demo/common -d $demo/hello

cfg=examples/demo.json
say "spectrum check $cfg"
build/spectrum check $cfg

run() {
	say "spectrum run $cfg $1    # $2"
	build/spectrum run $cfg "$1" --timeout 300
}
# run_ppc INSTANCE WHAT: on Debian's ppc64le kernel when ours is not built.
run_ppc() {
	say "SPECTRUM_KERNEL=$ppc_kernel spectrum run $cfg $1    # $2"
	if [[ $ppc_kernel == debian && ${SPECTRUM_KERNEL:-spectrum} != debian ]]; then
		echo "(Debian's ppc64le kernel: 'bash scripts/build-kernel.sh ppc64le build/guest/spectrum-init-ppc64le' builds Spectrum's, about 7 minutes)"
	fi
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
$img build -n win-foot -p foot -p waypipe -p fonts-dejavu-core -p libc-bin -p dash -p coreutils
$img build -n win-gtk -p gtk-4-examples -p waypipe -p fonts-dejavu-core -p libc-bin
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
