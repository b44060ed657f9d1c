#!/bin/sh
# The Nix library (nix/) and `spectrum check|plan|run FILE.nix` (TAP).
# Arguments: the spectrum binary, the source root.  Needs nix-instantiate
# (Debian's nix-bin) and jq; the image derivation test also nix-build,
# spectrum-image (beside spectrum) and mkfs.erofs.
set -u
# meson passes a path relative to the build directory; make it absolute.
spectrum=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
ex=$src/examples
export SPECTRUM_STATE_DIR=/var/lib/spectrum SPECTRUM_RUN_DIR=/run/spectrum SPECTRUM_ACCEL=tcg

if ! command -v nix-instantiate >/dev/null 2>&1; then
	echo "1..0 # SKIP nix-instantiate not installed"
	exit 0
fi
if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq not installed"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
fail=0

sp() { "$spectrum" "$@"; }
# As spectrum runs it: only root may open the local store.
nix_eval() {
	if [ "$(id -u)" -eq 0 ]; then
		nix-instantiate --eval --strict --json "$@"
	else
		nix-instantiate --store dummy:// --eval --strict --json "$@"
	fi
}
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	fail=$((fail + 1))
	[ -f "$tmp/out" ] && sed 's/^/# /' "$tmp/out"
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# Plans in a form that compares: Nix attribute sets are ordered by name,
# a data file keeps its own order, so plans are sorted by instance.
plans() { sp plan "$1" --json 2>"$tmp/plan.err" | jq -S 'sort_by(.instance)'; }
# Diagnostics without the file's name, in name order.
diags() { sp check "$1" 2>&1 >/dev/null | sed "s|^$1: |FILE: |" | sort; }

nexamples=$(ls "$ex"/*.json | wc -l)
planned=$((nexamples + 20))
echo "1..$planned"

# --- every example data file, read through fromData ------------------------
for f in "$ex"/*.json; do
	b=$(basename "$f" .json)
	nixf=$tmp/$b-from-data.nix
	printf 'let spectrum = import %s/nix; in spectrum.system (spectrum.fromData %s)\n' "$src" "$f" >"$nixf"
	: >"$tmp/out"
	if sp check "$nixf" >"$tmp/out" 2>&1 &&
		plans "$f" >"$tmp/a.json" && plans "$nixf" >"$tmp/b.json" &&
		diff "$tmp/a.json" "$tmp/b.json" >"$tmp/out" 2>&1 &&
		diags "$f" >"$tmp/a.txt" && diags "$nixf" >"$tmp/b.txt" &&
		diff "$tmp/a.txt" "$tmp/b.txt" >"$tmp/out" 2>&1; then
		ok "fromData $b.json: checks, same plans and warnings as the data file"
	else
		not_ok "fromData $b.json: checks, same plans and warnings as the data file"
	fi
done

# --- addresses do not depend on the order of the file -----------------------
# Instances and segments out of name order ("seg41" and "seg406" hash to
# one subnet, "m1" and "m53" to one host number): the data file and
# fromData, which lists them by name, give each interface the same address.
cat >"$tmp/order.json" <<'EOF'
{"applications": {"a": {"image": "a", "command": ["/bin/true"]}},
 "resources": {"seg41": {"type": "net"}, "seg406": {"type": "net"}},
 "instances": {
  "zeta": {"application": "a", "bindings": {"seg41": {}, "seg406": {}}},
  "mid": {"application": "a", "bindings": {"seg406": {}}},
  "m53": {"application": "a", "bindings": {"seg406": {}}},
  "m1": {"application": "a", "bindings": {"seg406": {}}},
  "alpha": {"application": "a", "bindings": {"seg41": {}}}}}
EOF
printf 'let spectrum = import %s/nix; in spectrum.system (spectrum.fromData %s)\n' "$src" "$tmp/order.json" >"$tmp/order.nix"
addrs() { sp plan "$1" --json | jq -r '.[] | .instance as $i | .nics[] | "\($i) \(.segment) \(.address)"' | sort; }
: >"$tmp/out"
if addrs "$tmp/order.json" >"$tmp/a.txt" && addrs "$tmp/order.nix" >"$tmp/b.txt" &&
	[ "$(wc -l <"$tmp/a.txt")" -eq 6 ] && diff "$tmp/a.txt" "$tmp/b.txt" >"$tmp/out" 2>&1; then
	ok "instances out of name order: the same addresses through .json and .nix"
else
	not_ok "instances out of name order: the same addresses through .json and .nix"
fi

# --- a Nix-only configuration and its hand-written twin ---------------------
: >"$tmp/out"
if plans "$ex/nix-only.json" >"$tmp/a.json" && plans "$ex/nix-only.nix" >"$tmp/b.json" &&
	diff "$tmp/a.json" "$tmp/b.json" >"$tmp/out" 2>&1 && [ -s "$tmp/a.json" ]; then
	ok "nix-only.nix and nix-only.json give the same plans"
else
	not_ok "nix-only.nix and nix-only.json give the same plans"
fi
if nix_eval "$ex/nix-only.nix" 2>"$tmp/out" | jq -S . >"$tmp/b.json" &&
	jq -S . "$ex/nix-only.json" >"$tmp/a.json" && diff "$tmp/a.json" "$tmp/b.json" >"$tmp/out" 2>&1; then
	ok "nix-only.nix evaluates to nix-only.json"
else
	not_ok "nix-only.nix evaluates to nix-only.json"
fi

# --- overrides of desktop.nix show up in the plan ---------------------------
plans "$ex/desktop.nix" >"$tmp/d.json"
: >"$tmp/out"
if [ "$(jq -r '.[] | select(.instance == "banking") | "\(.application) \(.nics[0].segment) \(.memory_mib)"' "$tmp/d.json")" = "browser web 1024" ]; then
	ok "desktop.nix: the extra instance"
else
	not_ok "desktop.nix: the extra instance"
fi
if [ "$(jq -r '.[] | select(.instance == "browser") | .shares[0] | "\(.resource) \(.mode) \(.path)"' "$tmp/d.json")" = "downloads ro /home/user/Downloads" ]; then
	ok "desktop.nix: a binding narrowed to ro keeps its path"
else
	not_ok "desktop.nix: a binding narrowed to ro keeps its path"
fi
if [ "$(jq -r '.[] | select(.instance == "notes") | .memory_mib' "$tmp/d.json")" = 512 ]; then
	ok "desktop.nix: the memory override"
else
	not_ok "desktop.nix: the memory override"
fi
# The instances it leaves alone plan as the data file's do.
same='map(select(.instance == "mail-work" or .instance == "mail-reader" or .instance == "notes-ppc"))'
plans "$ex/desktop.json" | jq "$same" >"$tmp/a.json"
jq "$same" "$tmp/d.json" >"$tmp/b.json"
if [ "$(jq length "$tmp/a.json")" = 3 ] && diff "$tmp/a.json" "$tmp/b.json" >"$tmp/out" 2>&1; then
	ok "desktop.nix: what it does not override is the data file's"
else
	not_ok "desktop.nix: what it does not override is the data file's"
fi

# --- errors: one line each, with the attribute path -------------------------
# expect_error NAME WANT_RC LINE NIX_BODY: `spectrum check` of a file
# importing desktop.json and adding NIX_BODY prints exactly LINE.
expect_error() {
	name=$1 want=$2 line=$3 body=$4
	f=$tmp/bad.nix
	cat >"$f" <<EOF
let spectrum = import $src/nix; in
spectrum.system {
  imports = [ $ex/desktop.json ];
  $body
}
EOF
	sp check "$f" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ] && [ "$(cat "$tmp/out")" = "$f: $line" ]; then
		ok "$name"
	else
		echo "# exit $rc, wanted $want and: $f: $line"
		not_ok "$name"
	fi
}
expect_error "a bad mode names its attribute path" 1 \
	'instances.mail-work.bindings.mail-store.mode: error: "rwx" is not an access mode; use "ro" or "rw"' \
	'instances.mail-work.bindings.mail-store.mode = "rwx";'
expect_error "a missing application names its attribute path" 1 \
	'instances.extra.application: error: no application named "mial"; did you mean "mail"?' \
	'instances.extra = spectrum.instance { application = "mial"; };'
expect_error "a wrong type names its attribute path" 1 \
	'instances.notes.vcpus: error: expected an integer, found a string' \
	'instances.notes.vcpus = "2";'
expect_error "a rule of the C compiler, on a Nix file" 1 \
	'instances.notes.memory: error: memory "32M" is out of range; use 64M to 1T' \
	'instances.notes.memory = "32M";'
expect_error "a Nix error gives its position" 1 \
	'4:28: error: undefined variable '"'"'nosuch'"'"'' \
	'instances.notes.memory = nosuch;'

# A syntax error in an imported data file names that file, line and column
# (Nix's own message names neither), whether imported or read by fromData.
printf '{\n  "applications": {\n    "a": {"image": "a", "command": ["/bin/true"],}\n  }\n}\n' >"$tmp/broken.json"
for by in imports fromData; do
	how="imports = [ $tmp/broken.json ];"
	[ "$by" = fromData ] && how="imports = [ (spectrum.fromData $tmp/broken.json) ];"
	f=$tmp/imports-broken.nix
	printf 'let spectrum = import %s/nix; in\nspectrum.system {\n  %s\n}\n' "$src" "$how" >"$f"
	sp check "$f" >"$tmp/out" 2>&1
	rc=$?
	line="$f: $tmp/broken.json:3:50: error: invalid JSON: syntax error while parsing object key - unexpected '}'; expected string literal"
	if [ "$rc" -eq 1 ] && [ "$(cat "$tmp/out")" = "$line" ]; then
		ok "a syntax error in an imported data file names it, its line and column ($by)"
	else
		echo "# exit $rc, wanted 1 and: $line"
		not_ok "a syntax error in an imported data file names it, its line and column ($by)"
	fi
done

# A rule broken in an imported data file names that file and the place in
# it, in the words of `spectrum check DATA.json`; an error the data file
# has only on its own (a name another module defines) is not reported.
expect_data_error() {
	name=$1 data=$2 line=$3 body=$4
	f=$tmp/imports-data.nix
	printf 'let spectrum = import %s/nix; in\nspectrum.system {\n  imports = [ %s ];\n  %s\n}\n' \
		"$src" "$data" "$body" >"$f"
	sp check "$f" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && [ "$(cat "$tmp/out")" = "$data: $line" ] &&
		sp check "$data" 2>&1 | grep -qxF "$data: $line"; then
		ok "$name"
	else
		echo "# exit $rc, wanted 1 and: $data: $line"
		not_ok "$name"
	fi
}
cat >"$tmp/memroy.json" <<'EOF'
{
  "applications": {"a": {"image": "a", "command": ["/bin/true"]}},
  "instances": {"x": {"application": "a", "memroy": "512M"}}
}
EOF
expect_data_error "an unknown key in an imported data file names the data file" "$tmp/memroy.json" \
	'instances.x.memroy: error: unknown key; did you mean "memory"?' ''
cat >"$tmp/reference.json" <<'EOF'
{
  "applications": {"mail": {"image": "a", "command": ["/bin/true"]}},
  "instances": {
    "x": {"application": "mial"},
    "y": {"application": "web"}
  }
}
EOF
expect_data_error "a bad reference in an imported data file names the data file" "$tmp/reference.json" \
	'instances.x.application: error: no application named "mial"; did you mean "mail"?' \
	'applications.web = spectrum.application { image = "w"; command = [ "/bin/true" ]; };'

# --- spectrum run reads Nix files too ----------------------------------------
if sp run "$ex/desktop.nix" nosuch >"$tmp/out" 2>&1; then rc=0; else rc=$?; fi
if [ "$rc" -eq 1 ] && grep -q 'desktop.nix: error: no instance named "nosuch"' "$tmp/out"; then
	ok "spectrum run FILE.nix"
else
	not_ok "spectrum run FILE.nix"
fi

# --- without Nix ---------------------------------------------------------------
if PATH=/nonexistent "$spectrum" check "$ex/desktop.nix" >"$tmp/out" 2>&1; then rc=0; else rc=$?; fi
if [ "$rc" -eq 3 ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] &&
	grep -q "^spectrum: $ex/desktop.nix: evaluating Nix needs nix-instantiate (Debian package nix-bin); install it or give the JSON data file\$" "$tmp/out"; then
	ok "without nix-instantiate: one line, exit 3"
else
	not_ok "without nix-instantiate: one line, exit 3"
fi

# --- the library's key lists are the schema's --------------------------------
nix_eval -E "(import $src/nix).keys" >"$tmp/keys.json" 2>"$tmp/out"
jq -S '{
	top: (.properties | keys),
	application: (."$defs".application.properties | keys),
	instance: (."$defs".instance.properties | keys)
}' "$src/schema/spectrum.schema.json" >"$tmp/a.json"
jq -S '{top: (.top | sort), application: (.application | sort), instance: (.instance | sort)}' "$tmp/keys.json" >"$tmp/b.json"
if diff "$tmp/a.json" "$tmp/b.json" >"$tmp/out" 2>&1; then
	ok "nix/check.nix knows the keys the schema knows"
else
	not_ok "nix/check.nix knows the keys the schema knows"
fi

# --- an image derivation is spectrum-image's image, byte for byte ------------
image_test() {
	tool=$(dirname "$spectrum")/spectrum-image
	[ -x "$tool" ] || { skip "$1" "no spectrum-image beside spectrum"; return; }
	command -v nix-build >/dev/null 2>&1 || { skip "$1" "nix-build not installed"; return; }
	command -v mkfs.erofs >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v mkfs.erofs >/dev/null 2>&1 ||
		{ skip "$1" "mkfs.erofs not installed"; return; }
	# Modes the store keeps as they are (it drops write bits), so that the
	# tree and its store copy are the same input.
	t=$tmp/tree
	mkdir -p "$t/usr/bin" "$t/etc"
	printf '#!/bin/sh\necho hello from a Nix-built image\n' >"$t/usr/bin/hello"
	echo "hello" >"$t/etc/greeting"
	ln -s ../usr/bin/hello "$t/etc/hello"
	chmod 555 "$t/usr/bin/hello"
	chmod 444 "$t/etc/greeting"
	find "$t" -type d -exec chmod 555 {} +
	if ! PATH=$PATH:/usr/sbin:/sbin "$tool" build -o "$tmp/ref.erofs" -d "$t" >"$tmp/out" 2>&1; then
		not_ok "$1"
		return
	fi
	# Without a nix-daemon only root may write the store.
	[ "$(id -u)" -eq 0 ] || { skip "$1" "nix-build writes the store as root only"; return; }
	# scripts/deps.sh sets Nix up for this (build users, sandbox =
	# relaxed): a failure here is a failure, not a host to skip.
	if ! out=$(nix-build --no-out-link --option substituters '' \
		--argstr src "$src" --argstr tree "$t" --argstr tool "$tool" \
		-E '{ src, tree, tool }: (import (src + "/nix")).imageDerivation { name = "hello"; inherit tree; spectrumImage = tool; }' \
		2>"$tmp/out"); then
		echo "# nix-build failed; scripts/deps.sh sets Nix up for it"
		not_ok "$1"
		return
	fi
	if cmp "$tmp/ref.erofs" "$out" >"$tmp/out" 2>&1; then
		ok "$1"
	else
		not_ok "$1"
	fi
	# The store paths are no garbage collector root: take them away.
	# The derivation's closure is itself and the tree.
	drv=$(nix-store -q --deriver "$out" 2>/dev/null)
	nix-store --delete $(nix-store -q --outputs "$drv" 2>/dev/null) $(nix-store -qR "$drv" 2>/dev/null) \
		>/dev/null 2>&1 || true
}
rm -f "$tmp/out"
image_test "imageDerivation builds spectrum-image's image, byte for byte"
# After chmod 555 the tree cannot be removed by a non-root user.
chmod -R u+w "$tmp" 2>/dev/null

[ "$n" -eq "$planned" ] || echo "# ran $n tests, planned $planned"
[ "$fail" -eq 0 ]
