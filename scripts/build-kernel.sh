#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# build-kernel.sh ARCH [INIT_BINARY]
# build-kernel.sh --config-only ARCH OUT_DIR
#
# Builds Spectrum's own guest kernel for ARCH (x86_64 | ppc64le) from
# Debian's linux-source-6.1 package (/usr/src/linux-source-6.1.tar.xz),
# cross-compiled with gcc-powerpc64le-linux-gnu for ppc64le:
#
#   make tinyconfig, then kernel/config/common.config and
#   kernel/config/ARCH.config merged over it (scripts/kconfig/merge_config.sh),
#   then make olddefconfig; the resulting .config must have every option
#   kernel/required.txt lists for ARCH, or the build stops with one line
#   naming the first one missing.  Everything is built in: the guest loads
#   no modules.
#
# Outputs, in ${SPECTRUM_STATE_DIR:-/var/lib/spectrum}/kernels/spectrum-ARCH/:
#   vmlinux     the uncompressed ELF for QEMU -kernel (x86_64: PVH entry)
#   config      the .config it was built with
#   version     the kernel release (e.g. 6.1.192-spectrum)
#   initrd.img  with INIT_BINARY: the base initramfs, as guest-kernel.sh
#               makes it (reproducible gzip newc cpio with /init), with
#               empty module lists
#
# Reproducible: fixed KBUILD_BUILD_TIMESTAMP/USER/HOST/VERSION, no
# LOCALVERSION_AUTO (no source-control suffix), sources under a path that
# does not reach the binary (kbuild maps it away); two builds give the same
# bytes (tests/kernel.sh; the double build is its heavy mode).
#
# Cached: the stamp .stamp holds the source package's version and the
# tarball's sha256, the sha256 of every fragment, of required.txt and of
# this script, and the compiler's version; when any differs the kernel is
# rebuilt (a stale kernel is never reused).  The initramfs has a stamp of
# its own (.initrd-stamp: the init's sha256, this script's and
# scripts/kernel-lib.sh's, which packs it as guest-kernel.sh does), so a
# new init costs seconds.
#
# The build runs under `nice -n 19` with make -j${SPECTRUM_KERNEL_JOBS:-2}
# in a temporary directory; on failure one line is printed on stderr, the
# exit status is 1 and no partial output is left behind.
#
# Environment: SPECTRUM_STATE_DIR, SPECTRUM_KERNEL_SOURCE (the tarball),
# SPECTRUM_KERNEL_CONFIG_DIR (the fragments and required.txt, default
# kernel/ of this tree: tests use another), SPECTRUM_KERNEL_JOBS,
# SOURCE_DATE_EPOCH (initramfs mtimes, default 0), TMPDIR.
set -Eeuo pipefail
export LC_ALL=C
umask 022

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
script=$here/scripts/build-kernel.sh
lib=$here/scripts/kernel-lib.sh
source_pkg=linux-source-6.1

kl_name=build-kernel
# shellcheck source=scripts/kernel-lib.sh
. "$here/scripts/kernel-lib.sh"

# run DESCRIPTION COMMAND...: run with the output in a log; on failure die
# with the description and the log's last line that says something.
run() {
	local desc=$1 log
	shift
	log=$work/cmd.log
	if ! "$@" >"$log" 2>&1; then
		die "$desc: $(grep -v '^[[:space:]]*$' "$log" | grep -iE 'error|fatal' | tail -n 1 ||
			grep -v '^[[:space:]]*$' "$log" | tail -n 1)"
	fi
}

usage() {
	echo "usage: build-kernel.sh x86_64|ppc64le [INIT_BINARY]" >&2
	echo "       build-kernel.sh --config-only x86_64|ppc64le OUT_DIR" >&2
	exit 2
}

config_only=
if [[ ${1:-} == --config-only ]]; then
	[[ $# -eq 3 ]] || usage
	config_only=$3
	shift
	set -- "$1"
fi
[[ $# -ge 1 && $# -le 2 ]] || usage
arch=$1
init_binary=${2:-}
case $arch in
x86_64)
	make_args=(ARCH=x86_64)
	image=vmlinux
	elf_machine=62
	;;
ppc64le)
	make_args=(ARCH=powerpc CROSS_COMPILE=powerpc64le-linux-gnu-)
	image=vmlinux
	elf_machine=21
	;;
*) usage ;;
esac

config_dir=${SPECTRUM_KERNEL_CONFIG_DIR:-$here/kernel}
fragments=("$config_dir/config/common.config" "$config_dir/config/$arch.config")
required=$config_dir/required.txt
tarball=${SPECTRUM_KERNEL_SOURCE:-/usr/src/$source_pkg.tar.xz}
jobs=${SPECTRUM_KERNEL_JOBS:-2}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "SPECTRUM_KERNEL_JOBS is not a positive number: $jobs"
epoch=${SOURCE_DATE_EPOCH:-0}
[[ $epoch =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH is not a number: $epoch"

for f in "${fragments[@]}" "$required"; do
	[[ -f $f && -r $f ]] || die "no such file: $f"
done
[[ -f $tarball ]] || die "no kernel source $tarball (apt-get install $source_pkg, or run scripts/deps.sh)"

# The fixed identity of every build: nothing of this machine, this user or
# this moment reaches the binary (init/version.c, /proc/version).
export KBUILD_BUILD_TIMESTAMP='1970-01-01 00:00:00 UTC'
export KBUILD_BUILD_USER=spectrum
export KBUILD_BUILD_HOST=spectrum
export KBUILD_BUILD_VERSION=1
# A build never reads the caller's configuration or compiler choices.
unset KCONFIG_CONFIG KBUILD_OUTPUT LOCALVERSION CROSS_COMPILE ARCH CC KCFLAGS KCPPFLAGS

# check_required CONFIG: every option kernel/required.txt names for ARCH is
# set (=y) in CONFIG; else one line naming the first one missing.  A line
# of required.txt is "CONFIG_NAME [ARCH...] # why"; without ARCH it is for
# every architecture.
check_required() {
	local cfg=$1 line name arches a applies
	while IFS= read -r line; do
		line=${line%%#*}
		read -r name arches <<<"$line" || true
		[[ -n $name ]] || continue
		applies=1
		if [[ -n $arches ]]; then
			applies=0
			for a in $arches; do
				[[ $a == "$arch" ]] && applies=1
			done
		fi
		((applies)) || continue
		if ! grep -qx "$name=y" -- "$cfg"; then
			die "$name is not set in the $arch kernel configuration (kernel/required.txt needs it): add $name=y to $config_dir/config/$arch.config or common.config, with what it depends on"
		fi
	done <"$required"
}

# configure SRC OUT: tinyconfig, the fragments, olddefconfig, the check.
configure() {
	local src=$1 out=$2
	run "make tinyconfig failed" nice -n 19 make -C "$src" O="$out" "${make_args[@]}" tinyconfig
	# -m: merge only; olddefconfig below resolves the rest.
	run "merging ${fragments[*]} failed" env KCONFIG_CONFIG="$out/.config" \
		nice -n 19 "$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"${fragments[@]}"
	run "make olddefconfig failed" nice -n 19 make -C "$src" O="$out" "${make_args[@]}" olddefconfig
	check_required "$out/.config"
}

unpack() {
	local dest=$1
	mkdir -p -- "$dest"
	run "unpacking $tarball failed" nice -n 19 tar -xf "$tarball" -C "$dest" --strip-components=1
	[[ -f $dest/Makefile && -x $dest/scripts/kconfig/merge_config.sh ]] ||
		die "$tarball does not hold a kernel source tree"
}

work=$(mktemp -d "${TMPDIR:-/tmp}/spectrum-kbuild.XXXXXX" 2>/dev/null) ||
	die "cannot create a temporary directory in ${TMPDIR:-/tmp}"

if [[ -n $config_only ]]; then
	unpack "$work/src"
	mkdir -p -- "$config_only"
	configure "$work/src" "$work/out"
	cp -- "$work/out/.config" "$config_only/config"
	say "$arch: wrote $config_only/config"
	exit 0
fi

state_dir=${SPECTRUM_STATE_DIR:-/var/lib/spectrum}
out_dir=$state_dir/kernels/spectrum-$arch
mkdir -p -- "$out_dir" 2>/dev/null ||
	die "cannot create $out_dir (run as root or set SPECTRUM_STATE_DIR)"
exec 9>"$out_dir/.lock"
flock -w 7200 9 || die "timed out waiting for another build of $out_dir"

# --- Up to date? -------------------------------------------------------------

src_version=$(dpkg-query -W -f='${Version}' "$source_pkg" 2>/dev/null || echo unpackaged)
case $arch in
x86_64) cc=gcc ;;
ppc64le) cc=powerpc64le-linux-gnu-gcc ;;
esac
command -v "$cc" >/dev/null || die "no $cc (run scripts/deps.sh)"
cc_version=$("$cc" --version | sed -n 1p)
stamp=$out_dir/.stamp
stamp_text=$(
	printf 'source %s %s\n' "$source_pkg" "$src_version"
	printf 'source-sha256 %s\n' "$(sha "$tarball")"
	# Not kernel-lib.sh: it holds no step of the kernel's build (errors,
	# staging, the initramfs, whose stamp below names it).
	for f in "${fragments[@]}" "$required" "$script"; do
		printf '%s %s\n' "${f##*/}" "$(sha "$f")"
	done
	printf 'cc %s\n' "$cc_version"
)

if stamp_matches "$stamp" "$stamp_text" "$out_dir/vmlinux" "$out_dir/config" "$out_dir/version"; then
	say "$arch: $out_dir/vmlinux up to date ($(<"$out_dir/version"))"
else
	# Stale or missing: whatever is there is removed first, so that an
	# interrupted build never leaves an old kernel behind a new stamp.
	rm -f -- "$stamp" "$out_dir/vmlinux" "$out_dir/config" "$out_dir/version"
	say "$arch: building the kernel from $source_pkg $src_version (nice -n 19, make -j$jobs)"
	start=$(date +%s)
	unpack "$work/src"
	configure "$work/src" "$work/out"
	run "building the $arch kernel failed (log: rerun with the same command)" \
		nice -n 19 make -C "$work/src" O="$work/out" "${make_args[@]}" -j"$jobs" vmlinux
	release=$(make -s -C "$work/src" O="$work/out" "${make_args[@]}" kernelrelease 2>/dev/null) ||
		die "make kernelrelease failed"
	[[ $(od -A n -t x1 -N 4 -- "$work/out/$image" | tr -d ' \n') == 7f454c46 ]] ||
		die "$work/out/$image is not an ELF file"
	[[ $(od -A n --endian=little -t u2 -j 18 -N 2 -- "$work/out/$image" | tr -d ' ') == "$elf_machine" ]] ||
		die "$image is not built for $arch"
	printf '%s\n' "$release" >"$work/version"
	stage vmlinux "$work/out/$image"
	stage config "$work/out/.config"
	stage version "$work/version"
	install_staged vmlinux config version
	printf '%s\n' "$stamp_text" >"$stamp"
	say "$arch: wrote $out_dir/vmlinux ($release, $(($(stat -c %s -- "$out_dir/vmlinux") / 1024)) KiB) in $(($(date +%s) - start)) s"
fi

# --- The base initramfs ---------------------------------------------------------

[[ -n $init_binary ]] || exit 0
[[ -f $init_binary && -r $init_binary ]] || die "no such file: $init_binary"
initrd_stamp=$out_dir/.initrd-stamp
initrd_text="init-sha256 $(sha "$init_binary") epoch $epoch script-sha256 $(sha "$script") lib-sha256 $(sha "$lib")"
if stamp_matches "$initrd_stamp" "$initrd_text" "$out_dir/initrd.img"; then
	exit 0
fi
rm -f -- "$initrd_stamp"
root=$work/root
mkdir -p -- "$root/etc/spectrum"
# The lists spectrum-init reads stay, empty: every driver is built in.
: >"$root/etc/spectrum/modules"
for g in ext4 share net pmem usb vsock cow; do
	: >"$root/etc/spectrum/modules.$g"
done
base_initramfs "$root" "$init_binary" "$epoch" "$work/initrd.img"
stage initrd.img "$work/initrd.img"
install_staged initrd.img
printf '%s\n' "$initrd_text" >"$initrd_stamp"
say "$arch: wrote $out_dir/initrd.img ($(($(stat -c %s -- "$out_dir/initrd.img") / 1024)) KiB, no modules)"
