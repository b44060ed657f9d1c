# SPDX-License-Identifier: GPL-2.0-or-later
# TAP for the shell tests that boot VMs (sourced, after $tmp is set).
#
#   ok NAME / not_ok NAME    one result
#   check NAME COMMAND...    ok if COMMAND succeeds; if not, not ok and the
#                            first ${TAP_SHOW:-20} lines of $tmp/out
#   tap_end                  the plan; its status is the script's (0: all ok)
#   run_until PATTERN OUT ARGS...
#                            `$spectrum ARGS` in the background, output in
#                            OUT, until a line matches PATTERN or it ends
#                            (at most 3 minutes); its pid in $bg
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*"; }
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; sed 's/^/# /' "$tmp/out" | head -n "${TAP_SHOW:-20}"; fi
}
tap_end() {
	echo "1..$n"
	[ "$fail" -eq 0 ]
}
run_until() {
	local pattern=$1 out=$2
	shift 2
	"$spectrum" "$@" >"$out" 2>&1 </dev/null &
	bg=$!
	for _ in $(seq 1800); do
		grep -q -- "$pattern" "$out" && return 0
		kill -0 $bg 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
