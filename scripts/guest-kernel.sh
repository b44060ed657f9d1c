#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# guest-kernel.sh ARCH INIT_BINARY
#
# Builds the guest boot artefacts for ARCH (x86_64 | ppc64le) from Debian's
# kernel package (the initramfs layout is in spectrum-init(8), FILES):
#
#   ${SPECTRUM_STATE_DIR:-/var/lib/spectrum}/kernels/ARCH/
#     vmlinux     the kernel for QEMU -kernel (x86_64: the uncompressed ELF
#                 extracted from the xz bzImage; ppc64le: Debian's vmlinux)
#     initrd.img  the base initramfs: reproducible gzip newc cpio with /init
#                 (INIT_BINARY), /lib/modules/NAME.ko (flat), the load order
#                 in /etc/spectrum/modules, each group's (loaded only by
#                 guests that need it: ext4, share, net, pmem, usb, vsock,
#                 cow)
#                 in /etc/spectrum/modules.GROUP, and empty /dev /proc /sys
#                 /newroot
#     version     the kernel version string (e.g. 6.1.0-56-amd64)
#
# The .deb is fetched with `apt-get download` into
# ${SPECTRUM_CACHE_DIR:-/var/cache/spectrum}/debs and reused from there, so a
# second run needs no network.  The kernel is never installed on the host.
# Nothing is done when a stamp (.deb name, module list, sha256 of INIT_BINARY,
# SOURCE_DATE_EPOCH, this script) shows the outputs are up to date.
# Outputs are replaced atomically; on failure one line is printed on stderr,
# the exit status is 1 and no partial output is left behind.
#
# Environment: SPECTRUM_STATE_DIR, SPECTRUM_CACHE_DIR, SOURCE_DATE_EPOCH
# (mtime of every initramfs entry, default 0), TMPDIR.
set -Eeuo pipefail
export LC_ALL=C
umask 022

# Modules every guest loads (plus their dependency closure): the virtio
# transports, the root disk, the control port and the root's file system.
# Names that are built in or not shipped for ARCH are skipped.
wanted_modules=(
	virtio virtio_ring virtio_pci virtio_mmio virtio_blk virtio_console erofs
)
# Module groups: loaded only by guests whose configuration names the group
# (lib/guest.c: "modules ext4" for an instance with volumes, and so on),
# from /etc/spectrum/modules.GROUP.  Each list is its group's closure less
# the base list, so a group never depends on another; loading costs time
# under emulation, so a guest loads only what its devices need.
# cow is loaded by the guest itself, for a read-only volume whose journal
# needs replaying (guest/cow.c).
group_names=(ext4 share net pmem usb vsock cow)
declare -A group_modules=(
	[ext4]="ext4"
	[share]="fuse virtiofs"
	[net]="virtio_net"
	[pmem]="virtio_pmem nd_pmem nd_virtio libnvdimm"
	[usb]="xhci_pci"
	[vsock]="vmw_vsock_virtio_transport"
	[cow]="dm_snapshot loop"
)

# Host packages the build needs (installed with apt-get when missing).
host_packages=(kmod xz-utils cpio gzip)

kl_name=guest-kernel
lib=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/kernel-lib.sh
# shellcheck source=scripts/kernel-lib.sh
. "$lib"

# run DESCRIPTION COMMAND...: run a command with its output in a log; on
# failure die with the description and the last line of the log.
run() {
	local desc=$1 log
	shift
	log=$work/cmd.log
	if ! "$@" >"$log" 2>&1; then
		die "$desc: $(grep -v '^[[:space:]]*$' "$log" | tail -n 1)"
	fi
}

# uint FILE OFFSET SIZE: little-endian unsigned integer at OFFSET.
uint() {
	local v
	v=$(od -A n --endian=little -t "u$3" -j "$2" -N "$3" -- "$1" | tr -d ' \n')
	[[ -n $v ]] || die "$1: truncated ELF header"
	printf '%s' "$v"
}

# magic FILE N: the first N bytes as lowercase hex.
magic() {
	od -A n -t x1 -N "$2" -- "$1" | tr -d ' \n'
}

# check_elf FILE WHAT STATIC: FILE is a 64-bit little-endian ELF for ARCH
# (and has no PT_INTERP when STATIC is 1).
check_elf() {
	local f=$1 what=$2 static=$3 phoff phentsize phnum i
	[[ $(magic "$f" 6) == 7f454c460201 ]] ||
		die "$what is not a 64-bit little-endian ELF file: $f"
	[[ $(uint "$f" 18 2) == "$elf_machine" ]] ||
		die "$what is not built for $arch (ELF machine $(uint "$f" 18 2)): $f"
	if ((static)); then
		phoff=$(uint "$f" 32 8)
		phentsize=$(uint "$f" 54 2)
		phnum=$(uint "$f" 56 2)
		for ((i = 0; i < phnum; i++)); do
			if [[ $(uint "$f" $((phoff + i * phentsize)) 4) == 3 ]]; then
				die "$what is dynamically linked (needs a static binary): $f"
			fi
		done
	fi
}

usage() {
	echo "usage: guest-kernel.sh x86_64|ppc64le INIT_BINARY" >&2
	exit 2
}

[[ $# -eq 2 ]] || usage
arch=$1
init_binary=$2
case $arch in
x86_64)
	deb_arch=amd64
	flavour=amd64
	elf_machine=62
	;;
ppc64le)
	deb_arch=ppc64el
	flavour=powerpc64le
	elf_machine=21
	;;
*) usage ;;
esac
meta_package=linux-image-$flavour:$deb_arch

state_dir=${SPECTRUM_STATE_DIR:-/var/lib/spectrum}
cache_dir=${SPECTRUM_CACHE_DIR:-/var/cache/spectrum}
deb_dir=$cache_dir/debs
out_dir=$state_dir/kernels/$arch
epoch=${SOURCE_DATE_EPOCH:-0}
[[ $epoch =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH is not a number: $epoch"

[[ -f $init_binary && -r $init_binary ]] || die "no such file: $init_binary"
check_elf "$init_binary" "init binary" 1

mkdir -p -- "$out_dir" "$deb_dir" 2>/dev/null ||
	die "cannot create $out_dir and $deb_dir (run as root or set SPECTRUM_STATE_DIR/SPECTRUM_CACHE_DIR)"

# One build per architecture at a time.
exec 9>"$out_dir/.lock"
flock -w 900 9 || die "timed out waiting for another build of $out_dir"

# --- Up to date? -------------------------------------------------------------

init_sha256=$(sha256sum -- "$init_binary")
init_sha256=${init_sha256%% *}
script_sha256="$(sha "${BASH_SOURCE[0]}") $(sha "$lib")"
stamp=$out_dir/.stamp

# stamp_for DEB_FILE: the stamp text for a build from DEB_FILE.
stamp_for() {
	local g groups=
	for g in "${group_names[@]}"; do
		groups+="$g=${group_modules[$g]};"
	done
	printf 'deb %s\nmodules %s\ngroups %s\ninit-sha256 %s\nepoch %s\nscript-sha256 %s' \
		"$1" "${wanted_modules[*]}" "$groups" "$init_sha256" "$epoch" "$script_sha256"
}

# up_to_date DEB_FILE: the outputs were built from DEB_FILE and the same inputs.
up_to_date() {
	stamp_matches "$stamp" "$(stamp_for "$1")" "$out_dir/vmlinux" "$out_dir/initrd.img" \
		"$out_dir/version"
}

# Asking apt which package is current takes seconds (the Debian image keeps no
# pkgcache.bin); its answer cannot have changed unless the apt lists or
# configuration changed after the stamp was written, so then trust the stamp.
stamped_deb=
if [[ -f $stamp ]] && [[ -z $(find /var/lib/apt/lists /etc/apt /var/lib/dpkg/arch \
	\( -name partial -o -name lock \) -prune -o -newer "$stamp" -print -quit 2>/dev/null || true) ]]; then
	stamped_deb=$(sed -n 's/^deb //p' "$stamp")
	if up_to_date "$stamped_deb"; then
		say "$arch: $out_dir up to date ($(<"$out_dir/version"))"
		exit 0
	fi
fi

# --- Which .deb ------------------------------------------------------------

# From the local apt index (no network): the versioned kernel package the
# meta package depends on, its file name and its SHA256.
deb_pkg=
deb_file=
deb_url=
deb_size=
deb_sha256=
if [[ -n $stamped_deb && -f $deb_dir/$stamped_deb ]]; then
	# apt's answer is unchanged (see above): only the other inputs changed.
	deb_file=$stamped_deb
	deb_pkg=${deb_file%%_*}:$deb_arch
elif dep=$(apt-cache depends "$meta_package" 2>/dev/null |
	awk '$1 == "Depends:" && $2 ~ /^linux-image-/ && !n++ { print $2 }') && [[ -n $dep ]]; then
	[[ $dep == *:* ]] || dep=$dep:$deb_arch
	deb_pkg=$dep
	if uri=$(apt-get download --print-uris "$deb_pkg" 2>/dev/null | sed -n 1p) && [[ -n $uri ]]; then
		read -r deb_url deb_file deb_size deb_sha256 <<<"$uri"
		deb_url=${deb_url//\'/}
		deb_sha256=${deb_sha256#SHA256:}
		[[ $deb_file == linux-image-*_"$deb_arch".deb && $deb_file != */* ]] ||
			die "unexpected file name from apt-get download --print-uris: $deb_file"
	fi
fi
if [[ -z $deb_file ]]; then
	# No apt index for ARCH (never updated, or foreign architecture not added):
	# fall back to the newest cached package.
	deb_file=$(find "$deb_dir" -maxdepth 1 -name "linux-image-*-${flavour}_*_${deb_arch}.deb" \
		-printf '%f\n' | sort -V | tail -n 1)
	[[ -n $deb_file ]] ||
		die "apt knows no $meta_package and nothing is cached in $deb_dir (run apt-get update)"
	deb_pkg=${deb_file%%_*}:$deb_arch
	say "$arch: apt index has no $meta_package, using cached $deb_file"
fi
deb=$deb_dir/$deb_file

if up_to_date "$deb_file"; then
	touch -- "$stamp" # newer than the apt lists again: next time is quick
	say "$arch: $out_dir up to date ($(<"$out_dir/version"))"
	exit 0
fi
stamp_text=$(stamp_for "$deb_file")

work=$(mktemp -d "${TMPDIR:-/tmp}/spectrum-kernel.XXXXXX" 2>/dev/null) ||
	die "cannot create a temporary directory in ${TMPDIR:-/tmp}"

# --- Host tools ---------------------------------------------------------------

missing=()
for p in "${host_packages[@]}"; do
	if ! dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	say "installing ${missing[*]}"
	((EUID == 0)) || die "missing host packages (install as root): ${missing[*]}"
	run "apt-get install ${missing[*]} failed" \
		env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
PATH=$PATH:/usr/sbin:/sbin

# --- Download ----------------------------------------------------------------

deb_ok() {
	[[ -f $1 ]] || return 1
	[[ -z $deb_sha256 ]] && return 0
	local s
	s=$(sha256sum -- "$1")
	[[ ${s%% *} == "$deb_sha256" ]]
}

if deb_ok "$deb"; then
	say "downloading ${deb_pkg%%:*} (cached)"
else
	[[ -n $deb_url ]] || die "cannot download $deb_pkg: apt does not know it"
	say "downloading ${deb_pkg%%:*} ($((deb_size / 1048576)) MiB)"
	dl=$(mktemp -d "$deb_dir/.download.XXXXXX" 2>/dev/null) || die "cannot create a directory in $deb_dir"
	tmp_outputs+=("$dl")
	if ! (cd -- "$dl" && apt-get -q download "$deb_pkg") >"$work/cmd.log" 2>&1; then
		rm -rf -- "$dl"
		die "apt-get download $deb_pkg failed: $(grep -E '^(E|W):' "$work/cmd.log" | head -n 1)"
	fi
	if ! deb_ok "$dl/$deb_file"; then
		rm -rf -- "$dl"
		die "downloaded $deb_file is missing or has a wrong SHA256"
	fi
	mv -f -- "$dl/$deb_file" "$deb"
	rmdir -- "$dl"
fi

# --- Unpack, depmod ------------------------------------------------------------

pkg=$work/pkg
run "dpkg-deb -x $deb failed" dpkg-deb -x "$deb" "$pkg"
if [[ ! -d $pkg/lib/modules && -d $pkg/usr/lib/modules ]]; then
	ln -s usr/lib "$pkg/lib" # depmod -b looks in BASE/lib/modules
fi
versions=()
for d in "$pkg"/lib/modules/*/; do
	[[ -d $d ]] && versions+=("$(basename -- "$d")")
done
((${#versions[@]} == 1)) ||
	die "$deb_file: expected one lib/modules/VERSION directory, found ${#versions[@]}"
version=${versions[0]}
mod_dir=$pkg/lib/modules/$version
run "depmod failed" depmod -b "$pkg" "$version"
[[ -s $mod_dir/modules.dep ]] || die "depmod produced no modules.dep"

# --- vmlinux ---------------------------------------------------------------------

vmlinux=$work/vmlinux
case $arch in
x86_64)
	vmlinuz=$pkg/boot/vmlinuz-$version
	[[ -f $vmlinuz ]] || die "$deb_file has no boot/vmlinuz-$version"
	# The bzImage holds the kernel ELF as an xz stream: try every xz magic
	# (FD 37 7A 58 5A 00) until one decompresses to an ELF.
	found=0
	while IFS=: read -r off _; do
		tail -c "+$((off + 1))" -- "$vmlinuz" >"$work/payload.xz"
		if xz -dc --single-stream -- "$work/payload.xz" >"$vmlinux" 2>/dev/null &&
			[[ $(magic "$vmlinux" 4) == 7f454c46 ]]; then
			found=1
			break
		fi
	done < <(grep -obUaP '\xfd7zXZ\x00' -- "$vmlinuz" || true)
	rm -f -- "$work/payload.xz"
	((found)) || die "no xz-compressed ELF found in $vmlinuz"
	;;
ppc64le)
	src=$pkg/boot/vmlinux-$version
	[[ -f $src ]] || die "$deb_file has no boot/vmlinux-$version"
	case $(magic "$src" 6) in
	7f454c46*) cp -- "$src" "$vmlinux" ;;
	1f8b*) gzip -dc -- "$src" >"$vmlinux" ;;
	fd377a585a00) xz -dc -- "$src" >"$vmlinux" ;;
	*) die "boot/vmlinux-$version has an unknown format" ;;
	esac
	;;
esac
check_elf "$vmlinux" "vmlinux" 0

# --- Module closure ----------------------------------------------------------------

# modname PATH: set $n to the module name of a .ko path ("-" and "_" are
# the same).  No command substitution: it runs for every line of modules.dep.
modname() {
	n=${1##*/}
	n=${n%%.ko*}
	n=${n//-/_}
}

declare -A path_of=() deps_of=() builtin=() state=()
while IFS= read -r line; do
	p=${line%%:*}
	modname "$p"
	path_of[$n]=$p
	deps_of[$p]=${line#*:}
done <"$mod_dir/modules.dep"
if [[ -f $mod_dir/modules.builtin ]]; then
	while IFS= read -r p; do
		modname "$p"
		builtin[$n]=1
	done <"$mod_dir/modules.builtin"
fi

# Soft dependencies ("pre:" only): modules the kernel would ask modprobe for
# at run time, which the guest cannot do.  They matter: libcrc32c (erofs) fails
# to load without a "crc32c" implementation, ext4/jbd2 need "crypto-crc32c".
declare -A pre_of=() builtin_alias=()
if [[ -f $mod_dir/modules.softdep ]]; then
	while read -r -a words; do
		if ((${#words[@]} < 3)) || [[ ${words[0]} != softdep ]]; then
			continue
		fi
		modname "${words[1]}"
		mode=
		for w in "${words[@]:2}"; do
			case $w in
			pre:) mode=pre ;;
			post:) mode=post ;;
			*) [[ $mode != pre ]] || pre_of[$n]+=" $w" ;;
			esac
		done
	done <"$mod_dir/modules.softdep"
fi
if [[ -f $mod_dir/modules.builtin.modinfo ]]; then
	while IFS= read -r line; do
		builtin_alias[${line#*.alias=}]=1
	done < <(tr '\0' '\n' <"$mod_dir/modules.builtin.modinfo" | grep '^[^.=]*\.alias=' || true)
fi

# resolve_soft NAME: the path of the module providing NAME (a module name or
# an alias; among several providers the portable *_generic one is preferred,
# e.g. crc32c_generic rather than crc32c_intel, which needs SSE4.2); nothing
# when NAME is built in or unknown.
resolve_soft() {
	local n=${1//-/_} providers=() m
	if [[ -v "builtin[$n]" || -v "builtin_alias[$1]" ]]; then
		return 0
	fi
	if [[ -v "path_of[$n]" ]]; then
		printf '%s' "${path_of[$n]}"
		return 0
	fi
	mapfile -t providers < <(awk -v a="$1" '$1 == "alias" && $2 == a { print $3 }' \
		"$mod_dir/modules.alias")
	for m in "${providers[@]}"; do
		m=${m//-/_}
		if [[ $m == *_generic && -v "path_of[$m]" ]]; then
			printf '%s' "${path_of[$m]}"
			return 0
		fi
	done
	for m in "${providers[@]}"; do
		m=${m//-/_}
		if [[ -v "builtin[$m]" ]]; then
			return 0
		fi
		if [[ -v "path_of[$m]" ]]; then
			printf '%s' "${path_of[$m]}"
			return 0
		fi
	done
	printf 'spectrum: %s: soft dependency %s not found, skipped\n' "$arch" "$1" >&2
}

order=()
# visit PATH: append PATH to order after its dependencies and "pre:" soft
# dependencies (depth first).
visit() {
	local p=$1 d s deps n
	case ${state[$p]:-0} in
	2) return ;;
	1) die "dependency cycle through $p in modules.dep" ;;
	esac
	[[ -v "deps_of[$p]" ]] || die "modules.dep names an unknown module: $p"
	state[$p]=1
	modname "$p"
	read -r -a deps <<<"${pre_of[$n]:-}"
	for s in "${deps[@]}"; do
		d=$(resolve_soft "$s")
		[[ -z $d ]] || visit "$d"
	done
	read -r -a deps <<<"${deps_of[$p]}"
	for d in "${deps[@]}"; do
		visit "$d"
	done
	state[$p]=2
	order+=("$p")
}

skipped_builtin=()
skipped_absent=()
# visit_all NAME...: visit each module that is neither built in nor absent.
visit_all() {
	local m n
	for m in "$@"; do
		n=${m//-/_}
		if [[ -v "path_of[$n]" ]]; then
			visit "${path_of[$n]}"
		elif [[ -v "builtin[$n]" ]]; then
			skipped_builtin+=("$m")
		else
			skipped_absent+=("$m")
		fi
	done
}
visit_all "${wanted_modules[@]}"
nbase=${#order[@]}
# Each group from the state the base list left: its own closure, less the
# base (a module two groups need is in both lists, and in the image once).
declare -A base_state=() group_order=()
for p in "${!state[@]}"; do
	base_state[$p]=${state[$p]}
done
base_order=("${order[@]}")
for g in "${group_names[@]}"; do
	state=()
	for p in "${!base_state[@]}"; do
		state[$p]=${base_state[$p]}
	done
	order=()
	read -r -a names <<<"${group_modules[$g]}"
	visit_all "${names[@]}"
	group_order[$g]="${order[*]}"
done
order=("${base_order[@]}")

# --- Initramfs tree -----------------------------------------------------------------

root=$work/root
mkdir -p -- "$root/lib/modules" "$root/etc/spectrum" "$root/dev" "$root/proc" \
	"$root/sys" "$root/newroot"
declare -A seen=()
# add_module PATH LIST: the module into the image (once) and its name into LIST.
add_module() {
	local p=$1 list=$2 src base name
	src=$mod_dir/$p
	base=${p##*/}
	name=${base%%.ko*}.ko
	if [[ ! -v "seen[$name]" ]]; then
		seen[$name]=$p
		case $base in
		*.ko) cp -- "$src" "$root/lib/modules/$name" ;;
		*.ko.xz) xz -dc -- "$src" >"$root/lib/modules/$name" ;;
		*.ko.gz) gzip -dc -- "$src" >"$root/lib/modules/$name" ;;
		*.ko.zst)
			command -v zstd >/dev/null || die "$base is zstd-compressed: install zstd"
			zstd -q -dc -- "$src" >"$root/lib/modules/$name"
			;;
		*) die "unknown module file type: $p" ;;
		esac
	fi
	[[ ${seen[$name]} == "$p" ]] || die "two modules are named $name"
	printf '%s\n' "$name" >>"$list"
}
: >"$root/etc/spectrum/modules"
for p in "${order[@]}"; do
	add_module "$p" "$root/etc/spectrum/modules"
done
for g in "${group_names[@]}"; do
	: >"$root/etc/spectrum/modules.$g"
	read -r -a paths <<<"${group_order[$g]}"
	for p in "${paths[@]}"; do
		add_module "$p" "$root/etc/spectrum/modules.$g"
	done
done
initrd=$work/initrd.img
base_initramfs "$root" "$init_binary" "$epoch" "$initrd"

# --- Install the outputs atomically ---------------------------------------------------

printf '%s\n' "$version" >"$work/version"
printf '%s\n' "$stamp_text" >"$work/stamp"
stage vmlinux "$vmlinux"
stage initrd.img "$initrd"
stage version "$work/version"
stage .stamp "$work/stamp"
# The stamp goes first and comes back last: a run interrupted between the
# renames leaves no stamp, so the next run rebuilds everything.
rm -f -- "$stamp"
install_staged vmlinux initrd.img version .stamp

kib() {
	local s
	s=$(stat -c %s -- "$1")
	printf '%d KiB' $(((s + 1023) / 1024))
}
if ((${#skipped_builtin[@]})); then
	say "$arch: built in: ${skipped_builtin[*]}"
fi
if ((${#skipped_absent[@]})); then
	say "$arch: not in this kernel, skipped: ${skipped_absent[*]}"
fi
say "$arch: wrote $out_dir/vmlinux ($version, $(kib "$out_dir/vmlinux"))"
say "$arch: wrote $out_dir/initrd.img ($(kib "$out_dir/initrd.img"), $nbase modules, $((${#seen[@]} - nbase)) more in groups: ${group_names[*]})"
