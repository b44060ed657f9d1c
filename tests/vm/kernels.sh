# Sourced by the VM tests: the guest kernels an instance boots.
#
#   setup_kernels SOURCE_ROOT BUILD_DIR ARCH...
#
# For each ARCH, into $SPECTRUM_STATE_DIR: Spectrum's own kernel (the
# default; scripts/build-kernel.sh, cached by a hash of its inputs), or
# Debian's when SPECTRUM_KERNEL=debian (scripts/guest-kernel.sh, its .deb
# cached).  A test with a state directory of its own first copies the VM
# test's build from BUILD_DIR/vm-state with its stamp: build-kernel.sh then
# checks the stamp and rebuilds only if the inputs changed, so the suites
# share one ~7-minute build per architecture.
setup_kernels() {
	local src=$1 build=$2 arch init from to
	shift 2
	for arch in "$@"; do
		init=$build/guest/spectrum-init
		[ "$arch" = x86_64 ] || init=$build/guest/spectrum-init-$arch
		if [ "${SPECTRUM_KERNEL:-spectrum}" = debian ]; then
			bash "$src/scripts/guest-kernel.sh" "$arch" "$init" || return 1
			continue
		fi
		from=$build/vm-state/kernels/spectrum-$arch
		to=$SPECTRUM_STATE_DIR/kernels/spectrum-$arch
		if [ ! -f "$to/vmlinux" ] && [ -f "$from/.stamp" ] && [ -f "$from/vmlinux" ]; then
			mkdir -p "$to" &&
				cp "$from/vmlinux" "$from/config" "$from/version" "$to/" &&
				cp "$from/.stamp" "$to/.stamp" || return 1
		fi
		bash "$src/scripts/build-kernel.sh" "$arch" "$init" || return 1
	done
}
