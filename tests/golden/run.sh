#!/bin/sh
# Golden tests of plans and VMM command lines: runs `spectrum plan` for each
# line of cases.txt and compares exit status, standard error and standard
# output with expected/NAME.out.  Host-dependent values are fixed through
# the environment, and the temporary state directory (which holds a
# stand-in root image, so shareRoot has a size) is written as @STATE@, in
# the output and in the arguments of a case.
# A case's arguments may start with VAR=VALUE words, which set the
# environment of that case alone.
#
#   run.sh SPECTRUM GOLDEN_DIR SOURCE_ROOT
#   SPECTRUM_UPDATE=1 run.sh ...   rewrite expected/*.out
set -u
# meson passes a path relative to the build directory; make it absolute.
spectrum=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$2" && pwd)
src=$(cd "$3" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

state=$tmp/state
mkdir -p "$state/images" "$here/expected"
# 16 MiB: a shared root is mapped at exactly its size.
for img in app browser; do
	truncate -s 16M "$state/images/$img.erofs"
done
# Stand-in base initramfs files: a libvirt export writes the instance's
# initramfs (the base one and its guest configuration) into the state
# directory.
for arch in x86_64 ppc64le aarch64 spectrum-x86_64 spectrum-ppc64le; do
	mkdir -p "$state/kernels/$arch"
	echo "base initramfs $arch" >"$state/kernels/$arch/initrd.img"
done
export SPECTRUM_STATE_DIR="$state" SPECTRUM_RUN_DIR=/run/spectrum
export SPECTRUM_ACCEL=tcg SPECTRUM_TSC_KHZ=2600000 SPECTRUM_VMM_UID_BASE=524288
unset SPECTRUM_KERNEL # Spectrum's kernel (the default) unless a case names one

n=0
fail=0
grep -v '^#' "$here/cases.txt" | grep -v '^ *$' >"$tmp/cases"
echo "1..$(wc -l <"$tmp/cases")"
while read -r name args; do
	n=$((n + 1))
	args=$(echo "$args" | sed "s|@SRC@|$src|g; s|@HERE@|$here|g; s|@STATE@|$state|g")
	vars=
	only_host=
	while word=${args%% *} && [ "$word" != "$args" ]; do
		case $word in
		ONLY_HOST=*) only_host=${word#ONLY_HOST=} ;;
		[A-Z]*=*) vars="$vars $word" ;;
		*) break ;;
		esac
		args=${args#* }
	done
	# A case about the host's own acceleration (KVM) holds only where the
	# binary runs on that host, not under the cross build's qemu-user.
	if [ -n "$only_host" ] && { [ -n "${SPECTRUM_EXE_WRAPPER:-}" ] || [ "$(uname -m)" != "$only_host" ]; }; then
		echo "ok $n - $name # SKIP the plan's host is not $only_host"
		continue
	fi
	# shellcheck disable=SC2086 # the case's variables and arguments are words
	env $vars ${SPECTRUM_EXE_WRAPPER:-} "$spectrum" plan $args >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	{ echo "exit $rc"; cat "$tmp/err" "$tmp/out"; } |
		sed "s|$state|@STATE@|g; s|$here|@HERE@|g; s|$src|@SRC@|g" >"$tmp/got"
	if [ "${SPECTRUM_UPDATE:-}" = 1 ]; then
		cp "$tmp/got" "$here/expected/$name.out"
	fi
	if cmp -s "$tmp/got" "$here/expected/$name.out"; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		diff -u "$here/expected/$name.out" "$tmp/got" | head -40 | sed 's/^/# /'
		fail=$((fail + 1))
	fi
done <"$tmp/cases"
[ "$fail" -eq 0 ]
