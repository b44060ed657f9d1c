#!/bin/bash
# Network segments with real VMs (spectrum.json(5), type "net"): instances
# on one segment reach each other and nothing else; an instance without a
# segment has no network; a NAT segment reaches "the outside" and nothing
# reaches in; no bridge, tap or nftables table outlives its instances,
# even across a kill -9 of spectrumd; an isolated segment's bridge never
# forwards, even after a NAT segment turned the host's routing on.  TAP.
#
#   run.sh BUILD_DIR SOURCE_ROOT      (after tests/vm/run.sh set up build/vm-state)
#
# Everything happens in two network namespaces made here: "host", where
# spectrum and spectrumd run (so the bridges, taps, nftables tables and IP
# forwarding are the namespace's, never the machine's), and "out", which
# stands in for the outside world, joined to "host" by a veth pair in
# 198.18.0.0/15 (the benchmarking range).  Two more, "iso" and "natg",
# stand in for guests where the test needs a shell on a segment while
# another instance runs.  No packet leaves them.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
spectrum=$build/spectrum
export SPECTRUM_STATE_DIR=$build/vm-state
# VMM uids of this suite's own, so that it never finds one held by another
# suite's VM (instance names repeat across suites).
export SPECTRUM_VMM_UID_BASE=${SPECTRUM_VMM_UID_BASE:-1310720}
export SPECTRUM_RUN_DIR
SPECTRUM_RUN_DIR=$(mktemp -d /tmp/spectrum-net.XXXXXX)
chmod 755 "$SPECTRUM_RUN_DIR"
tmp=$(mktemp -d)
ns_host=spnet-host-$$
ns_out=spnet-out-$$
ns_iso=spnet-iso-$$
ns_natg=spnet-natg-$$
daemon=

in_host() { ip netns exec "$ns_host" "$@"; }
in_out() { ip netns exec "$ns_out" "$@"; }

cleanup() {
	# Every process in the two namespaces is this test's: spectrum,
	# spectrumd, the VMMs, the stand-in servers.
	for ns in "$ns_host" "$ns_out" "$ns_iso" "$ns_natg"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	sleep 0.2
	for ns in "$ns_host" "$ns_out" "$ns_iso" "$ns_natg"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$tmp" "$SPECTRUM_RUN_DIR"
}
trap cleanup EXIT INT TERM

out=$tmp/out
TAP_SHOW=30
. "$src/tests/tap.sh"
has() { grep -q -- "$2" "$tmp/$1.out"; }
show() { out=$tmp/$1.out; }
# run INSTANCE: boots it in the host namespace, output in $tmp/INSTANCE.out
run() { in_host "$spectrum" run "$cfg" "$1" --timeout 120 >"$tmp/$1.out" 2>&1 </dev/null; }
wait_for() { # wait_for FILE TEXT SECONDS
	for _ in $(seq $(($3 * 10))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
bridges() { in_host ip -o link show type bridge | grep -c ' spb' ; }
taps() { in_host ip -o link show type tun | grep -c ' sp[0-9a-f]\{13\}:'; }
tables() { in_host nft list tables | grep -c 'inet spectrum_'; }
counts() { [ "$(bridges)" = "$1" ] && [ "$(taps)" = "$2" ] && [ "$(tables)" = "$3" ]; } # counts BRIDGES TAPS TABLES
none_left() { counts 0 0 0; }

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (network namespaces, bridges, taps)"
	exit 0
fi
if ! command -v nft >/dev/null || ! command -v ip >/dev/null; then
	echo "1..0 # SKIP needs nft (nftables) and ip (iproute2)"
	exit 0
fi
if [ ! -f "$SPECTRUM_STATE_DIR/images/test-x86.erofs" ]; then
	echo "1..0 # SKIP run tests/vm/run.sh first (it builds the kernels and test image)"
	exit 0
fi
# The base initramfs must carry this build's spectrum-init (it reads the
# "net" lines); a no-op when it does.
. "$src/tests/vm/kernels.sh"
if ! setup_kernels "$src" "$build" x86_64 >"$tmp/setup" 2>&1; then
	echo "1..1"
	echo "not ok 1 - set up the guest kernel"
	sed 's/^/# /' "$tmp/setup"
	exit 1
fi

# The two namespaces.  "out" routes everything through "host", so that
# only the firewall can stop a connection from it into a segment.
ip netns add "$ns_host" && ip netns add "$ns_out" &&
	ip link add sptest-h netns "$ns_host" type veth peer name sptest-o netns "$ns_out" &&
	in_host ip link set lo up && in_out ip link set lo up &&
	in_host ip addr add 198.18.0.1/24 dev sptest-h && in_host ip link set sptest-h up &&
	in_out ip addr add 198.18.0.2/24 dev sptest-o && in_out ip link set sptest-o up &&
	in_out ip route add default via 198.18.0.1 || {
	echo "1..1"
	echo "not ok 1 - create the test network namespaces"
	exit 1
}
# The outside's web server answers with the address it sees.
mkdir -p "$tmp/www/cgi-bin"
printf '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\n"\necho "peer=$REMOTE_ADDR"\n' \
	>"$tmp/www/cgi-bin/peer"
chmod 755 "$tmp/www/cgi-bin/peer"
ip netns exec "$ns_out" busybox httpd -f -p 198.18.0.2:8080 -h "$tmp/www" &
disown # ended by the cleanup, with everything else in the namespaces
# A service of the host itself, which no segment may reach.
ip netns exec "$ns_host" busybox nc -l -p 7002 >"$tmp/host-service" 2>&1 &
disown

# Guest commands: busybox is /bin/busybox in the test image.  @LAN@ is the
# server's address on "lan", @LANNET@ its /24 prefix, @WEBGW@ the NAT
# segment's gateway, filled in from the compiled plans below.
cat >"$tmp/net.json.in" <<'JSON'
{"applications": {
  "server": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
    "b=/bin/busybox; echo nets=$($b ls /sys/class/net | $b tr '\\n' ' '); echo server-up; echo server-got=$($b timeout 100 $b nc -l -p 7000)"]},
  "client": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
    "b=/bin/busybox; for i in $($b seq 60); do $b ping -c 1 -W 1 @LAN@ >/dev/null 2>&1 && break; done; $b ping -c 3 -W 2 @LAN@ >/dev/null; echo ping=$?; for i in $($b seq 30); do echo hello-over-lan | $b nc -w 3 @LAN@ 7000 && break; $b sleep 1; done; echo sent=$?"]},
  "intruder": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
    "b=/bin/busybox; $b ip addr add @LANNET@.200/24 dev eth0; $b ip route add default dev eth0; $b ping -c 4 -W 1 @LAN@ >/dev/null 2>&1; echo reach-lan=$?; echo x | $b nc -w 2 @LAN@ 7000; echo connect-lan=$?; echo x | $b nc -w 2 198.18.0.1 7002; echo connect-host=$?"]},
  "loner": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
    "echo nets=$(/bin/busybox ls /sys/class/net)"]},
  "web": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c",
    "b=/bin/busybox; for i in $($b seq 10); do printf 'GET /cgi-bin/peer HTTP/1.0\\r\\n\\r\\n' | $b nc -w 5 198.18.0.2 8080 && break; $b sleep 1; done; echo x | $b nc -w 2 @WEBGW@ 7002; echo connect-host=$?; echo listening; echo inbound-got=$($b timeout 15 $b nc -l -p 7001)"]},
  "idle": {"image": "test-x86", "memory": "128M", "command": ["/bin/sh", "-c", "echo idle; exec /bin/busybox sleep 600"]}},
 "resources": {
  "lan": {"type": "net"},
  "other": {"type": "net"},
  "web": {"type": "net", "nat": true}},
 "instances": {
  "server": {"application": "server", "bindings": {"lan": {}}},
  "client": {"application": "client", "bindings": {"lan": {}}},
  "intruder": {"application": "intruder", "bindings": {"other": {}}},
  "loner": {"application": "loner"},
  "web": {"application": "web", "bindings": {"web": {}}},
  "idle": {"application": "idle", "bindings": {"web": {}}},
  "hermit": {"application": "idle", "bindings": {"other": {}}}}}
JSON
cfg=$tmp/net.json.in
addr() { "$spectrum" plan "$cfg" "$1" --json | jq -r ".[0].nics[0].$2" | sed 's|/.*||'; }
lan=$(addr server address)
web=$(addr web address)
webgw=$(addr web gateway)
sed "s|@LANNET@|${lan%.*}|g; s|@LAN@|$lan|g; s|@WEBGW@|$webgw|g" "$cfg" >"$tmp/net.json"
cfg=$tmp/net.json
out=$tmp/out
"$spectrum" plan "$cfg" --json >"$out" 2>&1
jqok() { jq -e "$@" >/dev/null; }
# Host numbers come from the instances' names (server .209, client .105):
# none is .200, which the intruder claims below.
check "addresses: the names' numbers on lan, a gateway on the NAT segment only" jqok \
	'(.[0].nics[0].address | endswith(".209/24")) and (.[1].nics[0].address | endswith(".105/24"))
	 and (.[0].nics[0].gateway == null) and (.[4].nics[0].gateway | endswith(".1"))
	 and (.[0].nics[0].bridge != .[2].nics[0].bridge)' "$out"

# (a) Two instances on one segment, at once: one serves, one connects.
# (b) Meanwhile, one on another segment that claims an address of the
# first one's subnet, and one without a segment.
run server &
server=$!
wait_for "$tmp/server.out" server-up 60
show server
check "the server is up" has server server-up
run intruder &
intruder=$!
run loner
run client
wait $server
wait $intruder
show client
check "two instances on one segment ping each other" has client "ping=0"
check "and connect over TCP" has client "sent=0"
show server
check "the server got the client's line" has server "server-got=hello-over-lan"
check "an instance on a segment has lo and one interface" has server "nets=eth0 lo"
show intruder
check "an instance on another segment does not reach them (ping)" has intruder "reach-lan=1"
check "nor connects to them" has intruder "connect-lan=1"
check "an isolated segment does not reach the host" has intruder "connect-host=1"
show loner
check "an instance without a segment has only lo" has loner "nets=lo$"
out=$tmp/out
check "no bridge, tap or table is left after them" none_left

# (c) A NAT segment reaches the outside, masqueraded; nothing opens a
# connection in to it, and it does not reach the host's own services.
run web &
webpid=$!
wait_for "$tmp/web.out" listening 90
out=$tmp/out
in_host nft list tables >"$out" 2>&1
check "a NAT segment has its nftables table while in use" grep -q "inet spectrum_spb" "$out"
in_out ip route get "$web" >"$out" 2>&1
check "the outside has a route to the instance (via the host)" grep -q "via 198.18.0.1" "$out"
in_out busybox nc -w 3 "$web" 7001 </dev/null >"$out" 2>&1
rc=$?
check "the outside cannot open a connection in (nc: $rc)" [ "$rc" != 0 ]
in_out busybox ping -c 1 -W 2 "$web" >"$out" 2>&1
rc=$?
check "nor ping in" [ "$rc" != 0 ]
wait $webpid
show web
check "a NAT segment reaches a server outside" has web "peer="
check "through masquerade (the server sees the host's address)" has web "peer=198.18.0.1"
check "the instance got no inbound connection" has web "inbound-got=$"
check "a NAT segment does not reach the host's services" has web "connect-host=1"
check "the host's service saw nothing" [ ! -s "$tmp/host-service" ]
out=$tmp/out
check "no bridge, tap or table is left after it" none_left

# (d) spectrumd: adopted instances keep their segment; a daemon killed
# while the instance then dies leaves objects that its successor removes.
start_daemon() {
	# ip netns exec execs the daemon: $! is its pid.
	ip netns exec "$ns_host" "$build/spectrumd" -c "$cfg" >>"$tmp/daemon.log" 2>&1 &
	daemon=$!
	for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}
out=$tmp/daemon.log
check "spectrumd starts in the namespace" start_daemon
"$spectrum" start idle >"$tmp/out" 2>&1
out=$tmp/out
check "spectrumd starts an instance on the NAT segment: bridge, tap, table" counts 1 1 1
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
out=$tmp/daemon.log
check "spectrumd restarts after kill -9" start_daemon
out=$tmp/out
check "and keeps the segment of its adopted instance" counts 1 1 1
out=$tmp/daemon.log
check "(which it adopted)" grep -q "adopted idle" "$tmp/daemon.log"
out=$tmp/out
vmm=$("$spectrum" status idle --json | jq -r .pid)
kill -9 "$daemon"
wait "$daemon" 2>/dev/null
kill -9 "$vmm"
for _ in $(seq 50); do [ "$(taps)" = 0 ] && break; sleep 0.1; done
check "with no daemon, the dead VMM's tap is gone, bridge and table stay" counts 1 0 1
out=$tmp/daemon.log
check "spectrumd restarts with no instance running" start_daemon
out=$tmp/out
check "and removes the stale bridge and table" none_left
"$spectrum" start idle >"$tmp/out" 2>&1
"$spectrum" stop idle >>"$tmp/out" 2>&1
check "a start and stop through spectrumd leave nothing" none_left

# (e) Only a NAT segment's bridge forwards.  On a host that does not
# route yet, an isolated segment comes up first; the host then turns IPv6
# back on everywhere and routes IPv6 (host-wide writes, which reach every
# interface, the bridge too); then a NAT segment comes up, which turns
# IPv4 routing on host-wide.  Stand-ins for guests, veth ends in
# namespaces of their own made ports of the two bridges, then try to get
# through the host; what they send is counted where it would arrive.
sysw() { in_host sh -c "echo $2 >/proc/sys/net/$1"; } # sysw KEY VALUE
sysr() { in_host cat "/proc/sys/net/$1"; }
isobr=$(addr hermit bridge)
iso=$(addr hermit address)
natbr=$(addr idle bridge)
natgw=$(addr idle gateway)
out=$tmp/out
sysw ipv4/ip_forward 0
"$spectrum" start hermit >"$tmp/out" 2>&1
check "an isolated segment comes up on a host that does not route" counts 1 1 0
sysw ipv6/conf/all/disable_ipv6 0
sysw ipv6/conf/all/forwarding 1
"$spectrum" start idle >>"$tmp/out" 2>&1
check "then a NAT segment" counts 2 2 1
check "which turns IPv4 routing on host-wide (net.ipv4.ip_forward)" [ "$(sysr ipv4/ip_forward)" = 1 ]
check "the NAT segment's bridge forwards" [ "$(sysr "ipv4/conf/$natbr/forwarding")" = 1 ]
check "the isolated segment's bridge, made before, does not" \
	[ "$(sysr "ipv4/conf/$isobr/forwarding")" = 0 ]
check "and has IPv6 off again" [ "$(sysr "ipv6/conf/$isobr/disable_ipv6")" = 1 ]
in_host ip route get 198.18.0.2 from "${iso%.*}.200" iif "$isobr" >"$out" 2>&1
check "the host routes nothing that comes in on it (no route to host)" \
	grep -q "No route to host" "$out"

# standin NS PORT BRIDGE: a namespace whose eth0 is the peer of PORT, a
# port of BRIDGE
standin() {
	ip netns add "$1" &&
		ip link add "$2" netns "$ns_host" type veth peer name eth0 netns "$1" &&
		in_host ip link set "$2" master "$3" up &&
		ip netns exec "$1" ip link set lo up && ip netns exec "$1" ip link set eth0 up
}
in_iso() { ip netns exec "$ns_iso" "$@"; }
in_natg() { ip netns exec "$ns_natg" "$@"; }
# snmp NS GROUP NAME: a counter of NS's /proc/net/snmp (GROUP Ip, Icmp)
snmp() {
	ip netns exec "$1" awk -v g="$2:" -v f="$3" '$1 == g { if (!c) {
		for (i = 2; i <= NF; i++) if ($i == f) c = i } else print $c }' /proc/net/snmp
}
# snmp6 NS NAME [INTERFACE]: an IPv6 counter of NS, or of one interface
snmp6() {
	ip netns exec "$1" awk -v f="$2" '$1 == f { print $2 }' \
		"/proc/net/${3:+dev_}snmp6${3:+/$3}"
}
# The NAT stand-in routes through its gateway; the isolated one, hostile,
# sends to the bridge's MAC address whatever it wants routed, over IPv4
# and IPv6 (the outside gets 2001:db8:18::2).
standins() {
	local mac
	mac=$(in_host cat "/sys/class/net/$isobr/address") &&
		standin "$ns_natg" sptest-natg "$natbr" &&
		in_natg ip addr add "${natgw%.*}.200/24" dev eth0 &&
		in_natg ip route add default via "$natgw" &&
		standin "$ns_iso" sptest-iso "$isobr" &&
		in_iso ip addr add "${iso%.*}.200/24" dev eth0 &&
		in_iso ip route add default dev eth0 &&
		in_iso ip neigh replace 198.18.0.2 lladdr "$mac" dev eth0 nud permanent &&
		in_iso ip neigh replace "${natgw%.*}.200" lladdr "$mac" dev eth0 nud permanent &&
		in_iso ip -6 addr add 2001:db8:99::200/64 dev eth0 nodad &&
		in_iso ip -6 route add default dev eth0 &&
		in_iso ip -6 neigh replace 2001:db8:18::2 lladdr "$mac" dev eth0 nud permanent &&
		in_host ip -6 addr add 2001:db8:18::1/64 dev sptest-h nodad &&
		in_out ip -6 addr add 2001:db8:18::2/64 dev sptest-o nodad
}
out=$tmp/out
standins >"$out" 2>&1
check "stand-ins for guests on both segments" [ $? = 0 ]
in_natg busybox ping -c 2 -W 2 198.18.0.2 >"$out" 2>&1
check "the NAT stand-in reaches the outside (the host routes)" [ $? = 0 ]
out4=$(snmp "$ns_out" Icmp InEchos) natg4=$(snmp "$ns_natg" Icmp InEchos)
out6=$(snmp6 "$ns_out" Icmp6InEchos)
host4=$(snmp "$ns_host" Ip InAddrErrors) host6=$(snmp6 "$ns_host" Ip6InDiscards "$isobr")
in_iso busybox ping -c 3 -W 1 198.18.0.2 >"$out" 2>&1
in_iso busybox ping -c 3 -W 1 "${natgw%.*}.200" >>"$out" 2>&1
in_iso busybox ping -6 -c 3 -W 1 2001:db8:18::2 >>"$out" 2>&1
# The host got them, and dropped them for coming in on an interface that
# does not forward (IPv4) or has no IPv6, not for another reason.
check "the host drops the isolated stand-in's IPv4 as unroutable (Ip InAddrErrors)" \
	[ "$(snmp "$ns_host" Ip InAddrErrors)" -ge $((host4 + 6)) ]
check "and its IPv6 as received on a bridge with IPv6 off (its Ip6InDiscards)" \
	[ "$(snmp6 "$ns_host" Ip6InDiscards "$isobr")" -ge $((host6 + 3)) ]
check "nothing from it reaches the outside over IPv4" [ "$(snmp "$ns_out" Icmp InEchos)" = "$out4" ]
check "nor the NAT segment" [ "$(snmp "$ns_natg" Icmp InEchos)" = "$natg4" ]
check "nor the outside over IPv6, which the host routes" \
	[ "$(snmp6 "$ns_out" Icmp6InEchos)" = "$out6" ]
# Their ports first: a bridge with a port is kept.
in_host ip link del sptest-iso
in_host ip link del sptest-natg
"$spectrum" stop hermit >"$tmp/out" 2>&1
"$spectrum" stop idle >>"$tmp/out" 2>&1
check "and they leave nothing" none_left

kill "$daemon"
wait "$daemon" 2>/dev/null
daemon=

tap_end
