# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2154
#
# Shared by scripts/guest-kernel.sh (Debian's kernel) and
# scripts/build-kernel.sh (Spectrum's): sourced, not run.  The sourcing
# script sets kl_name (its name in messages) first.
#
#   errors      die prints one line "spectrum: NAME: error: ..." and exits
#               1 (86 inside a subshell, so that the parent's ERR trap stays
#               silent); a failing command is named with its line
#   clean-up    on exit, $work (the temporary directory) and every file in
#               tmp_outputs (outputs staged but not yet renamed) are removed
#   sha FILE    its sha256
#   stamp_matches STAMP TEXT FILE...
#               the cache check: STAMP holds TEXT and every FILE exists
#   base_initramfs ROOT INIT EPOCH OUT
#               the base initramfs, reproducibly: /init, the module lists,
#               empty /dev /proc /sys /newroot, modes 0755/0644, every
#               mtime EPOCH, a sorted newc cpio owned by 0:0, gzip -n -9
#   stage NAME SOURCE, install_staged NAME...
#               outputs replaced atomically: a copy next to $out_dir/NAME,
#               then renamed in the order given

work=
tmp_outputs=()
declare -A staged=()

die() {
	printf 'spectrum: %s: error: %s\n' "$kl_name" "$*" >&2
	if ((BASH_SUBSHELL > 0)); then
		exit 86
	fi
	exit 1
}

on_err() {
	local rc=$1 line=$2 cmd=$3
	if ((rc != 86)); then
		printf 'spectrum: %s: error: command failed (status %d, line %d): %s\n' \
			"$kl_name" "$rc" "$line" "$cmd" >&2
	fi
	if ((BASH_SUBSHELL > 0)); then
		exit 86
	fi
	exit 1
}

cleanup() {
	local f
	if [[ -n $work && -d $work ]]; then
		rm -rf -- "$work"
	fi
	for f in "${tmp_outputs[@]}"; do
		rm -rf -- "$f"
	done
}

trap 'on_err $? $LINENO "$BASH_COMMAND"' ERR
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() {
	printf 'spectrum: %s\n' "$*"
}

sha() {
	local s
	s=$(sha256sum -- "$1")
	printf '%s' "${s%% *}"
}

stamp_matches() {
	local stamp=$1 text=$2 f
	shift 2
	[[ -f $stamp ]] || return 1
	for f in "$@"; do
		[[ -f $f ]] || return 1
	done
	[[ $(<"$stamp") == "$text" ]]
}

# base_initramfs ROOT INIT EPOCH OUT: ROOT may already hold
# lib/modules/*.ko and etc/spectrum/modules*; the rest is added here.
base_initramfs() {
	local root=$1 init=$2 epoch=$3 out=$4
	mkdir -p -- "$root/lib/modules" "$root/etc/spectrum" "$root/dev" "$root/proc" \
		"$root/sys" "$root/newroot"
	cp -- "$init" "$root/init"
	find "$root" -mindepth 1 -type d -exec chmod 0755 {} +
	find "$root" -mindepth 1 -type f -exec chmod 0644 {} +
	chmod 0755 "$root/init"
	find "$root" -mindepth 1 -exec touch -h -d "@$epoch" {} +
	(
		cd -- "$root"
		find . -mindepth 1 -printf '%P\n' | sort |
			cpio --quiet --reproducible -o -H newc -R 0:0
	) 2>"$work/cpio.log" | gzip -n -9 >"$out" || {
		local msg
		msg=$(tail -n 1 "$work/cpio.log")
		die "packing the initramfs (cpio | gzip -n -9) failed${msg:+: $msg}"
	}
}

# stage NAME SOURCE: copy SOURCE to a temporary file next to
# $out_dir/NAME (mode 0644); install_staged renames it into place.
stage() {
	local t
	t=$(mktemp "$out_dir/.$1.XXXXXX" 2>/dev/null) || die "cannot create a file in $out_dir"
	tmp_outputs+=("$t")
	cp -- "$2" "$t"
	chmod 0644 "$t"
	staged[$1]=$t
}

install_staged() {
	local f
	for f in "$@"; do
		mv -f -- "${staged[$f]}" "$out_dir/$f"
	done
}
