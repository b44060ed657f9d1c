#!/bin/sh
# spectrum-image: reproducible builds, verify, failures that leave nothing
# behind (TAP).  Arguments: the spectrum-image executable, the source root.
# Exit codes: 0 success, 1 build failed or verify found a difference,
# 2 usage, 3 system error.
#
# Everything happens in a temporary directory (state, cache, TMPDIR).  The
# package case downloads busybox-static with apt-get and is skipped when
# that is impossible.
set -u
image=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
mkdir "$tmp/tmp"
export SPECTRUM_STATE_DIR="$tmp/state" SPECTRUM_CACHE_DIR="$tmp/cache" TMPDIR="$tmp/tmp"
images=$SPECTRUM_STATE_DIR/images
n=0
fail=0

si() { ${SPECTRUM_EXE_WRAPPER:-} "$image" "$@"; }

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[ -s "$tmp/err" ] && sed 's/^/# /' "$tmp/err"
	fail=$((fail + 1))
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# check NAME 'SHELL CODE': a test passes when the code succeeds.
check() {
	if eval "$2"; then ok "$1"; else not_ok "$1"; fi
}

# run ARGS: runs spectrum-image, output in $tmp/out and $tmp/err, status in $rc.
run() {
	si "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
}

one_line() { [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q '^spectrum-image: ' "$tmp/err"; }
no_leftovers() { [ -z "$(ls -A "$TMPDIR")" ]; }
empty_images() { [ ! -d "$images" ] || [ -z "$(ls -A "$images")" ]; }
size_of() { wc -c <"$1" | tr -d ' '; }

if ! command -v mkfs.erofs >/dev/null 2>&1; then
	echo "1..0 # SKIP mkfs.erofs (erofs-utils) not installed"
	exit 0
fi

# --- a tree, and the same tree made in another order, elsewhere ------------

# make_tree DIR ORDER: ORDER "forward" or "reverse" creates the same content
# with entries made in opposite orders and different times.
make_tree() {
	d=$1
	mkdir -p "$d"
	if [ "$2" = forward ]; then
		mkdir -p "$d/etc/app" "$d/usr/bin" "$d/usr/share/doc/app" "$d/empty"
		echo "first" >"$d/etc/app/a.conf"
		echo "second" >"$d/etc/app/b.conf"
		printf '#!/bin/sh\necho app\n' >"$d/usr/bin/app"
		ln -s app "$d/usr/bin/app-link"
		printf 'spaced\n' >"$d/usr/share/doc/app/with space"
		head -c 300000 /dev/zero | tr '\0' 'x' >"$d/usr/share/doc/app/big"
	else
		mkdir -p "$d/empty" "$d/usr/share/doc/app" "$d/usr/bin" "$d/etc/app"
		head -c 300000 /dev/zero | tr '\0' 'x' >"$d/usr/share/doc/app/big"
		printf 'spaced\n' >"$d/usr/share/doc/app/with space"
		ln -s app "$d/usr/bin/app-link"
		printf '#!/bin/sh\necho app\n' >"$d/usr/bin/app"
		echo "second" >"$d/etc/app/b.conf"
		echo "first" >"$d/etc/app/a.conf"
		touch -d '2001-02-03 04:05:06' "$d/etc/app/a.conf" "$d/usr/bin" "$d"
	fi
	chmod 0755 "$d/usr/bin/app"
	chmod 4750 "$d/usr/bin/app" 2>/dev/null || true
	chmod 0700 "$d/etc/app"
	chmod 0644 "$d/etc/app/a.conf" "$d/etc/app/b.conf"
}

make_tree "$tmp/tree-a" forward
sleep 1
make_tree "$tmp/copy/tree-b" reverse

run build -d "$tmp/tree-a" -n first
check "build from a tree" '[ "$rc" -eq 0 ]'
check "build prints the image and its sha256" 'grep -q "^wrote $images/first.erofs (sha256 [0-9a-f]\{64\})$" "$tmp/out"'
check "build writes the manifest" '[ -s "$images/first.erofs.manifest.json" ]'
run build -d "$tmp/copy/tree-b" -o "$tmp/second.erofs"
check "build from the copy made in another order" '[ "$rc" -eq 0 ]'
check "both builds give the same bytes" 'cmp -s "$images/first.erofs" "$tmp/second.erofs"'
check "the image is a multiple of 2 MiB" '[ $(($(size_of "$images/first.erofs") % 2097152)) -eq 0 ]'
check "no temporary files remain" 'no_leftovers'
check "no OUT.tmp remains" '[ ! -e "$images/first.erofs.tmp" ]'

if command -v fsck.erofs >/dev/null 2>&1; then
	check "fsck.erofs accepts the image" 'fsck.erofs "$images/first.erofs" >/dev/null 2>&1'
	if fsck.erofs --preserve-perms --extract="$tmp/x" "$images/first.erofs" >/dev/null 2>&1; then
		check "the image holds the tree's files" 'cmp -s "$tmp/x/usr/share/doc/app/big" "$tmp/tree-a/usr/share/doc/app/big"'
		check "the image holds the tree's symbolic links" '[ "$(readlink "$tmp/x/usr/bin/app-link")" = app ]'
		check "the image has the mount points" '[ -d "$tmp/x/proc" ] && [ -d "$tmp/x/var/tmp" ] && [ -d "$tmp/x/dev" ]'
		check "modes are kept" '[ "$(stat -c %a "$tmp/x/etc/app")" = 700 ]'
	else
		skip "the image holds the tree" "fsck.erofs cannot extract"
	fi
elif command -v dump.erofs >/dev/null 2>&1; then
	check "dump.erofs accepts the image" 'dump.erofs "$images/first.erofs" >/dev/null 2>&1'
else
	skip "erofs-utils accepts the image" "neither fsck.erofs nor dump.erofs installed"
fi

# --- later trees win -------------------------------------------------------

mkdir -p "$tmp/over/etc/app" "$tmp/over/usr/bin/app"
echo "overridden" >"$tmp/over/etc/app/a.conf"
run build -d "$tmp/tree-a" -d "$tmp/over" -o "$tmp/over.erofs"
check "build from two trees" '[ "$rc" -eq 0 ]'
if command -v fsck.erofs >/dev/null 2>&1 && fsck.erofs --preserve-perms --extract="$tmp/y" "$tmp/over.erofs" >/dev/null 2>&1; then
	check "a later tree replaces a file" 'grep -qx overridden "$tmp/y/etc/app/a.conf"'
	check "a later tree's directory replaces a file" '[ -d "$tmp/y/usr/bin/app" ]'
	check "files of the earlier tree stay" 'grep -qx second "$tmp/y/etc/app/b.conf"'
else
	skip "later trees win" "fsck.erofs cannot extract"
fi

# --- verify ----------------------------------------------------------------

run verify first
check "verify of an untouched image" '[ "$rc" -eq 0 ]'
check "verify says reproducible" 'grep -q "^first: reproducible (sha256 [0-9a-f]\{64\})$" "$tmp/out"'
run verify "$tmp/second.erofs"
check "verify of an image given as a file" '[ "$rc" -eq 0 ]'

cp "$images/first.erofs" "$tmp/backup.erofs"
printf 'Z' | dd of="$images/first.erofs" bs=1 seek=1500 conv=notrunc 2>/dev/null
run verify first
check "verify of a tampered image exits 1" '[ "$rc" -eq 1 ]'
check "verify names the first differing byte" 'grep -q "^first: differs from a rebuild at byte 1500$" "$tmp/out"'
cp "$tmp/backup.erofs" "$images/first.erofs"

echo "changed" >"$tmp/tree-a/etc/app/b.conf"
run verify first
check "verify notices a changed tree" '[ "$rc" -eq 1 ] && grep -q "changed since the build" "$tmp/out"'
echo "second" >"$tmp/tree-a/etc/app/b.conf"
check "no temporary files remain after verify" 'no_leftovers'

run verify nothing-here
check "verify of a missing image exits 3" '[ "$rc" -eq 3 ] && one_line'
check "... saying what failed after what was being done" 'grep -q "^spectrum-image: verifying nothing-here: no image at " "$tmp/err"'

# A manifest that is a FIFO is refused at once, not waited on.
cp "$images/first.erofs" "$tmp/fifo.erofs"
mkfifo "$tmp/fifo.erofs.manifest.json"
timeout -k 5 10 ${SPECTRUM_EXE_WRAPPER:-} "$image" verify "$tmp/fifo.erofs" >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
check "verify refuses a FIFO for a manifest at once" '[ "$rc" -eq 3 ] && one_line && grep -q "is a FIFO, not a regular file" "$tmp/err"'
rm -f "$tmp/fifo.erofs" "$tmp/fifo.erofs.manifest.json"

run list
check "list shows the image with its size and arch" 'grep -q "^first  *2M  x86_64$" "$tmp/out"'

# --- failures leave nothing behind ------------------------------------------

rm -rf "$SPECTRUM_STATE_DIR"
run build -d "$tmp/does-not-exist" -n missing
check "a missing -d directory exits 3" '[ "$rc" -eq 3 ]'
check "... with one line naming it" 'one_line && grep -q "does-not-exist" "$tmp/err"'
check "... after the image being built" 'grep -q "^spectrum-image: building image missing: cannot use the directory " "$tmp/err"'
check "... and writes nothing" 'empty_images'

mkdir -p "$tmp/special"
if mkfifo "$tmp/special/fifo" 2>/dev/null; then
	run build -d "$tmp/special" -n special
	check "a tree with a FIFO is refused" '[ "$rc" -eq 1 ] && one_line && grep -q "is a FIFO" "$tmp/err"'
	check "... naming the image being built" 'grep -q "^spectrum-image: building image special: $tmp/special/fifo is a FIFO" "$tmp/err"'
	check "... and nothing is written" 'empty_images'
	check "... and no temporary files remain" 'no_leftovers'
fi

if command -v apt-cache >/dev/null 2>&1; then
	run build -p no-such-package-spectrum -n unknown
	check "an unknown package exits 1" '[ "$rc" -eq 1 ]'
	check "... with one line naming the package" 'one_line && grep -q "package .no-such-package-spectrum. is not known to apt" "$tmp/err"'
	check "... and leaves nothing in images/" 'empty_images'
	check "... and no temporary files remain" 'no_leftovers'
else
	skip "an unknown package fails" "apt-cache not installed"
fi

run build -p jq -n Bad_Name
check "an invalid name is a usage error" '[ "$rc" -eq 2 ] && one_line'
run build -n x
check "nothing to build is a usage error" '[ "$rc" -eq 2 ] && one_line'

# --- packages: busybox-static, twice ------------------------------------------

if ! command -v apt-get >/dev/null 2>&1; then
	skip "build from busybox-static" "apt-get not installed"
else
	run build -p busybox-static -n bb
	if [ "$rc" -ne 0 ] && grep -q "downloading .* failed\|not known to apt\|not installed" "$tmp/err"; then
		skip "build from busybox-static" "cannot download it: $(head -c 150 "$tmp/err")"
	else
		check "build from busybox-static" '[ "$rc" -eq 0 ]'
		mv "$images/bb.erofs" "$tmp/bb1.erofs"
		# The second build must not touch the network: a proxy that
		# refuses every connection would make a download fail.
		export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
		run build -p busybox-static -n bb
		unset http_proxy https_proxy
		check "a second build uses the cache only" '[ "$rc" -eq 0 ] && grep -q "^downloading \([0-9]*\) packages (\1 cached)$" "$tmp/out"'
		check "both package builds give the same bytes" 'cmp -s "$tmp/bb1.erofs" "$images/bb.erofs"'
		check "the manifest records the exact version" 'grep -q "\"version\": \"1:[0-9]" "$images/bb.erofs.manifest.json"'
		run verify bb
		check "verify of the package image" '[ "$rc" -eq 0 ]'
		if command -v fsck.erofs >/dev/null 2>&1 && fsck.erofs --preserve-perms --extract="$tmp/bb" "$images/bb.erofs" >/dev/null 2>&1; then
			check "the package image holds busybox" '[ -x "$tmp/bb/bin/busybox" ]'
		fi
		rm -f "$SPECTRUM_CACHE_DIR"/debs/busybox-static_*.deb
		run verify bb
		check "verify without the cached .deb says so" '[ "$rc" -eq 1 ] && one_line && grep -q "is missing from" "$tmp/err"'
	fi
fi

check "no temporary files remain at the end" 'no_leftovers'

echo "1..$n"
[ "$fail" -eq 0 ]
