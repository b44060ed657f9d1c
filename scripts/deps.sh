#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Installs every Debian 12 package that building and testing Spectrum needs,
# and creates the group spectrum.  Idempotent and quiet: when everything is
# already there, apt is not run at all.  Must run as root (sudo bash
# scripts/deps.sh).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

# The group whose members may use spectrumd's control socket; without it
# the socket is root's only (spectrumd(8)).
if ! getent group spectrum >/dev/null; then
	if [[ $(id -u) -ne 0 ]]; then
		echo "deps.sh: the group spectrum is missing; run as root (sudo bash scripts/deps.sh)" >&2
		exit 1
	fi
	groupadd --system spectrum
	echo "deps.sh: created the group spectrum"
fi

native_arch=$(dpkg --print-architecture)

# Native packages (of the native architecture or "all": a foreign :ppc64el
# copy of the same package does not count).
native_pkgs=(
	meson
	ninja-build
	pkgconf
	gcc
	clang
	libclang-rt-14-dev
	libjansson-dev
	mandoc
	jq
	qemu-system-x86
	qemu-system-ppc
	qemu-user-static
	gcc-powerpc64le-linux-gnu
	libc6-dev-ppc64el-cross
	python3-jsonschema
	erofs-utils
	e2fsprogs
	cpio
	kmod
	xz-utils
	gzip
	nix-bin
	nftables
	iproute2
	busybox-static
)
# Foreign packages for the ppc64le cross build (a static libjansson.a).
foreign_pkgs=(
	libjansson-dev:ppc64el
)

# is_installed PKG [ARCH...]: PKG is installed for one of the architectures
# (any architecture when none is given).
is_installed() {
	local pkg=$1 arch status a
	shift
	while read -r arch status; do
		[[ $status == ii* ]] || continue
		if [[ $# -eq 0 ]]; then
			return 0
		fi
		for a in "$@"; do
			[[ $arch == "$a" ]] && return 0
		done
	done < <(dpkg-query -W -f='${Architecture} ${db:Status-Abbrev}\n' "$pkg" 2>/dev/null || true)
	return 1
}

missing=()
for p in "${native_pkgs[@]}"; do
	is_installed "$p" "$native_arch" all || missing+=("$p")
done
for p in "${foreign_pkgs[@]}"; do
	is_installed "$p" || missing+=("$p")
done
ppc64el_enabled=false
if [[ $native_arch == ppc64el ]] || dpkg --print-foreign-architectures | grep -qx ppc64el; then
	ppc64el_enabled=true
fi

if [[ ${#missing[@]} -eq 0 && $ppc64el_enabled == true ]]; then
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "deps.sh: missing packages: ${missing[*]}; run as root (sudo bash scripts/deps.sh)" >&2
	exit 1
fi

echo "deps.sh: installing: ${missing[*]}"
if [[ $ppc64el_enabled != true ]]; then
	dpkg --add-architecture ppc64el
fi

# apt-get update may fail for one index (the security mirror's ppc64el index
# sometimes has an unexpected size) while the rest is usable: ignore its
# status and let the install below decide.
apt-get update -qq >/dev/null 2>&1 || echo "deps.sh: apt-get update reported errors; continuing" >&2

apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps.sh: done"
