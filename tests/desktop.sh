#!/bin/bash
# `spectrum desktop` (client/cmd_desktop.c), without a screen or a VM: the
# configuration it prints and writes includes the user's sway
# configuration (sway's order) and then Spectrum's fragment; sway's own
# check (`sway -C`, headless) accepts it; it starts sway (a stand-in in
# PATH) with that file and a fixed SWAYSOCK.  TAP.
#
#   desktop.sh SPECTRUM SOURCE_ROOT
#
# sway -C runs as nobody when this runs as root (sway refuses root);
# skipped without sway.
set -u
spectrum=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
chmod 755 "$tmp"
. "$src/tests/tap.sh"
# A cross build's spectrum runs under its wrapper (qemu-user), by path:
# some runs below clear PATH.
wrap=
[ -n "${SPECTRUM_EXE_WRAPPER:-}" ] && wrap=$(command -v "$SPECTRUM_EXE_WRAPPER")

home=$tmp/home
mkdir -p "$home/.config/sway" "$tmp/xdg/sway" "$tmp/bin"
echo "bindsym Mod4+Return exec foot" >"$home/.config/sway/config"
echo "bindsym Mod4+d exec foot" >"$tmp/xdg/sway/config"
frag=$(dirname "$spectrum")/spectrum-sway.conf

# refused RC PATTERN: the last run exited RC with one line matching PATTERN.
refused() { [ "$rc" = "$1" ] && [ "$(wc -l <"$tmp/out")" = 1 ] && grep -q -- "$2" "$tmp/out"; }
desk() { env -u XDG_CONFIG_HOME -u SPECTRUM_SWAY_FRAGMENT HOME="$home" "$@"; }

desk ${wrap:-} "$spectrum" desktop --print-config >"$tmp/conf" 2>&1
rc=$?
cp "$tmp/conf" "$tmp/out"
check "--print-config succeeds" [ "$rc" = 0 ]
check "it includes the user's ~/.config/sway/config, then Spectrum's fragment" \
	[ "$(grep '^include' "$tmp/conf")" = "include $home/.config/sway/config
include $frag" ]
check "the fragment it names is Spectrum's (examples/sway/spectrum.conf)" \
	cmp "$frag" "$src/examples/sway/spectrum.conf"

desk XDG_CONFIG_HOME="$tmp/xdg" ${wrap:-} "$spectrum" desktop --print-config >"$tmp/out" 2>&1
check "XDG_CONFIG_HOME's sway/config is the user's when set" \
	grep -qx "include $tmp/xdg/sway/config" "$tmp/out"
mkdir -p "$home/.sway"
echo "bindsym Mod4+q kill" >"$home/.sway/config"
desk XDG_CONFIG_HOME="$tmp/xdg" ${wrap:-} "$spectrum" desktop --print-config >"$tmp/out" 2>&1
check "~/.sway/config comes first, as sway reads it" grep -qx "include $home/.sway/config" "$tmp/out"
rm -r "$home/.sway"

mkdir -p "$tmp/odd dir"
cp "$frag" "$tmp/odd dir/f.conf"
desk SPECTRUM_SWAY_FRAGMENT="$tmp/odd dir/f.conf" ${wrap:-} "$spectrum" desktop --print-config >"$tmp/out" 2>&1
rc=$?
check "a path sway would expand as a shell word is refused, with the fix" \
	refused 3 "move it to a path of"
desk SPECTRUM_SWAY_FRAGMENT=relative.conf ${wrap:-} "$spectrum" desktop --print-config >"$tmp/out" 2>&1
rc=$?
check "a relative SPECTRUM_SWAY_FRAGMENT is refused" refused 3 "not the absolute path"
desk ${wrap:-} "$spectrum" desktop --bogus >"$tmp/out" 2>&1
rc=$?
check "an unknown argument is a usage error" refused 2 "spectrum help desktop"
${wrap:-} "$spectrum" help desktop >"$tmp/out" 2>&1
check "spectrum help desktop" grep -q "usage: spectrum desktop \[--print-config\]" "$tmp/out"

# The rest as a desktop user: nobody when this runs as root.
as_user() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		"$@"
	fi
}
rt=$tmp/rt
mkdir -p "$rt"
chmod 700 "$rt"
[ "$(id -u)" = 0 ] && chown -R 65534:65534 "$rt" "$home"
chmod -R a+rX "$tmp/xdg" "$tmp/bin"

if command -v sway >/dev/null; then
	# sway's configuration check: headless, so that no seat is needed.
	swaycheck() {
		as_user env -i PATH=/usr/bin:/bin HOME="$home" XDG_RUNTIME_DIR="$rt" \
			WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman \
			sway -C -c "$1" >"$tmp/out" 2>&1
	}
	cp "$tmp/conf" "$rt/gen.conf"
	chmod a+r "$rt/gen.conf"
	swaycheck "$rt/gen.conf"
	check "sway -C accepts the configuration" [ $? = 0 ]
	{ cat "$tmp/conf"; echo "no_such_sway_command 1"; } >"$rt/bad.conf"
	chmod a+r "$rt/bad.conf"
	swaycheck "$rt/bad.conf"
	check "and refuses one with an error (the check checks)" [ $? != 0 ]
else
	echo "ok $((n += 1)) # SKIP sway is not installed"
	echo "ok $((n += 1)) # SKIP sway is not installed"
fi

# It starts sway: a stand-in in PATH that prints its arguments, SWAYSOCK
# and the file it was given.
cat >"$tmp/bin/sway" <<'EOF'
#!/bin/sh
echo "args: $*"
echo "SWAYSOCK=$SWAYSOCK"
cat "$2"
EOF
chmod 755 "$tmp/bin/sway"
as_user env -i PATH="$tmp/bin:/usr/bin:/bin" HOME="$home" XDG_RUNTIME_DIR="$rt" \
	${wrap:-} "$spectrum" desktop >"$tmp/out" 2>&1
rc=$?
check "spectrum desktop runs sway -c \$XDG_RUNTIME_DIR/spectrum-sway.conf" \
	bash -c "[ $rc = 0 ] && grep -qx 'args: -c $rt/spectrum-sway.conf' '$tmp/out'"
check "with SWAYSOCK=\$XDG_RUNTIME_DIR/sway-ipc.sock" grep -qx "SWAYSOCK=$rt/sway-ipc.sock" "$tmp/out"
check "and the file is the printed configuration, the user's alone may read it" \
	bash -c "cmp -s '$rt/spectrum-sway.conf' '$tmp/conf' && [ \"\$(stat -c %a '$rt/spectrum-sway.conf')\" = 600 ]"
as_user env -i PATH="$tmp/bin:/usr/bin:/bin" HOME="$home" ${wrap:-} "$spectrum" desktop >"$tmp/out" 2>&1
rc=$?
check "without XDG_RUNTIME_DIR: refused, with the fix" refused 3 "XDG_RUNTIME_DIR is not set"
if [ "$(id -u)" = 0 ]; then
	env PATH="$tmp/bin:/usr/bin:/bin" HOME="$home" XDG_RUNTIME_DIR="$rt" \
		${wrap:-} "$spectrum" desktop >"$tmp/out" 2>&1
	rc=$?
	check "as root: refused (sway is the desktop user's)" refused 2 "as the desktop user"
else
	echo "ok $((n += 1)) # SKIP not root"
fi
tap_end
