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

# Nix as Debian's nix-bin ships it has no /etc/nix/nix.conf, so it builds
# with its defaults: as one of the users of the group nixbld, which Debian
# does not create, and in a sandbox that holds the store only.  An image
# derivation (spectrum-nix(7)) runs tools of the host (/bin/sh, mkfs.erofs,
# spectrum-image), so it asks to be built outside the sandbox
# (__noChroot); "relaxed" allows that to such derivations and keeps every
# other derivation in the sandbox.  Build users are created the usual way:
# the group nixbld and users nixbld1..N in it, without a home or a login
# shell; Nix runs at most one build per user at a time.
nix_build_users=8
nix_setup() {
	local i conf=/etc/nix/nix.conf
	if ! getent group nixbld >/dev/null; then
		groupadd --system nixbld
		echo "deps.sh: created the group nixbld (Nix's build users)"
	fi
	for ((i = 1; i <= nix_build_users; i++)); do
		getent passwd "nixbld$i" >/dev/null && continue
		useradd --system --gid nixbld --groups nixbld --no-create-home \
			--home-dir /var/empty --shell /usr/sbin/nologin \
			--comment "Nix build user $i" "nixbld$i"
	done
	if [[ ! -e $conf ]]; then
		mkdir -p /etc/nix
		cat >"$conf" <<-EOF
			# Written by Spectrum's scripts/deps.sh.  Builds run as the users of the
			# group nixbld, in a sandbox; a derivation that asks for the host's tools
			# (__noChroot, as Spectrum's image derivations do) is built outside it.
			build-users-group = nixbld
			sandbox = relaxed
		EOF
		echo "deps.sh: wrote $conf (sandbox = relaxed, build-users-group = nixbld)"
	elif ! grep -Eq '^[[:space:]]*sandbox[[:space:]]*=[[:space:]]*(relaxed|false)[[:space:]]*$' "$conf"; then
		echo "deps.sh: $conf is not ours and does not set sandbox = relaxed (or false):" \
			"Spectrum's image derivations will not build; add that line" >&2
	fi
}
if [[ $(id -u) -eq 0 ]]; then
	nix_setup
elif ! getent group nixbld >/dev/null || [[ ! -e /etc/nix/nix.conf ]]; then
	echo "deps.sh: Nix has no build users or no /etc/nix/nix.conf; run as root (sudo bash scripts/deps.sh)" >&2
	exit 1
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
	qemu-utils
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
	# spectrum-settings and its test: GTK 4, an X server of its own, a
	# D-Bus session with the accessibility bus, the AT-SPI client, and
	# ImageMagick's import for the screenshot.
	libgtk-4-dev
	xvfb
	dbus-daemon
	at-spi2-core
	python3-pyatspi
	libxtst6
	imagemagick
	librsvg2-common
	# the libvirt export's test (tests/libvirt/run.sh) runs it in libvirt
	libvirt-daemon-system
	libvirt-clients
	# spectrum-wlfilter's test: a headless sway, clients, a screenshot
	sway
	foot
	gtk-4-examples
	grim
	wl-clipboard
	# Windows from guests: the display relay's waypipe, and the screenshot
	# checks of the windows test.
	waypipe
	python3-pil
	libwayland-dev
	wayland-protocols
	# Spectrum's own guest kernel (scripts/build-kernel.sh): the source,
	# and what kbuild needs (objtool links libelf on x86).
	linux-source-6.1
	make
	bc
	flex
	bison
	libelf-dev
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
