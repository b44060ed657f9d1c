# SPDX-License-Identifier: GPL-2.0-or-later
# TAP for the shell tests that boot VMs (sourced, after $tmp is set).
#
#   ok NAME / not_ok NAME    one result
#   check NAME COMMAND...    ok if COMMAND succeeds; if not, not ok and the
#                            first ${TAP_SHOW:-20} lines of $tmp/out
#   tap_end                  the plan; its status is the script's (0: all ok)
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
