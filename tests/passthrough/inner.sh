#!/bin/bash
# Runs inside the outer VM of tests/passthrough/run.sh, as its root, on this
# machine's root file system (read-only) with /run its own.  Makes
# the USB device (a configfs gadget on dummy_hcd), binds the edu PCI device
# to vfio-pci, and runs the build's spectrum on both.  Its TAP goes to the
# second serial port, where no kernel message can cut into a line.
#
#   inner.sh BUILD_DIR
set -u
build=$1
spectrum=$build/spectrum
exec 3>/dev/ttyS1
n=0
fail=0
say() { echo "# $*" >&3; }
ok() { n=$((n + 1)); echo "ok $n - $*" >&3; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $*" >&3; }
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; sed 's/^/# /' $w/out | tail -5 >&3; fi
}
has() { grep -q -- "$1" $w/out; }
finish() {
	echo "1..$n" >&3
	exit $((fail > 0))
}

# Kernels and images from the build (read-only here), the rest in /run.
w=/run/pt
mkdir -p $w/tmp
export TMPDIR=$w/tmp SPECTRUM_STATE_DIR=$w/state SPECTRUM_RUN_DIR=$w/run SPECTRUM_ACCEL=tcg
mkdir -p "$SPECTRUM_STATE_DIR"
mkdir -m 755 "$SPECTRUM_RUN_DIR"
ln -s "$build/vm-state/kernels" "$SPECTRUM_STATE_DIR/kernels"
ln -s "$build/vm-state/images" "$SPECTRUM_STATE_DIR/images"

# --- The devices ------------------------------------------------------------

# A USB device with the test vendor:product of pid.codes (1209:0001), a
# SourceSink function: nothing on the outer side binds a driver to it.
g=/sys/kernel/config/usb_gadget/spectrum
mkdir "$g" "$g/strings/0x409" "$g/configs/c.1" "$g/functions/SourceSink.0" &&
	echo 0x1209 >"$g/idVendor" && echo 0x0001 >"$g/idProduct" &&
	echo "Spectrum test device" >"$g/strings/0x409/product" &&
	echo SPECTRUM0001 >"$g/strings/0x409/serialnumber" &&
	ln -s "$g/functions/SourceSink.0" "$g/configs/c.1/" &&
	ls /sys/class/udc | head -n 1 >"$g/UDC" || {
	not_ok "make the USB gadget"
	finish
}
usb=
for _ in $(seq 100); do
	for d in /sys/bus/usb/devices/*; do
		if [ "$(cat "$d/idVendor" 2>/dev/null):$(cat "$d/idProduct" 2>/dev/null)" = 1209:0001 ]; then
			usb=$d
		fi
	done
	[ -n "$usb" ] && break
	sleep 0.2
done
check "the outer VM has a real USB device (1209:0001 on dummy_hcd)" [ -n "$usb" ]
[ -n "$usb" ] || finish
node=/dev/bus/usb/$(printf %03d "$(cat "$usb/busnum")")/$(printf %03d "$(cat "$usb/devnum")")
say "USB device ${usb##*/}, node $node"

pci=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && pci=${d##*/}
done
check "the outer VM has the edu PCI device in an IOMMU group" \
	test -n "$pci" -a -e "/sys/bus/pci/devices/$pci/iommu_group"
[ -n "$pci" ] || finish
group=$(basename "$(readlink "/sys/bus/pci/devices/$pci/iommu_group")")
say "PCI device $pci, IOMMU group $group"

# The inner application lists the USB and PCI devices its kernel sees (the
# USB device is enumerated after the xHCI driver loads, so it waits for it),
# then stays, holding them, until it is stopped.
cat >$w/pt.json <<JSON
{"version": 1,
 "applications": {"lister": {"image": "test-x86", "memory": "256M", "command": ["/bin/sh", "-c",
   "i=0; while [ \$i -lt 240 ] && ! grep -qs 1209 /sys/bus/usb/devices/*/idVendor; do sleep 0.5; i=\$((i+1)); done; for d in /sys/bus/usb/devices/*; do [ -f \$d/idVendor ] && echo usb=\$(cat \$d/idVendor):\$(cat \$d/idProduct) \$(cat \$d/product); done; for d in /sys/bus/pci/devices/*; do echo pci=\$(cat \$d/vendor):\$(cat \$d/device); done; echo listed; exec sleep 3600"]}},
 "resources": {"gadget": {"type": "usb", "vendor": "1209", "product": "0001"},
               "gadget2": {"type": "usb", "vendor": "1209", "product": "0001"},
               "absent": {"type": "usb", "vendor": "1209", "product": "0002"},
               "edu": {"type": "pci", "address": "$pci"}},
 "instances": {"both": {"application": "lister", "bindings": {"gadget": {}, "edu": {}}},
               "second": {"application": "lister", "bindings": {"gadget2": {}}},
               "missing": {"application": "lister", "bindings": {"absent": {}}}}}
JSON

# --- Refusals, against the real sysfs ---------------------------------------

"$spectrum" run $w/pt.json missing --timeout 60 >$w/out 2>&1 </dev/null
rc=$?
check "an absent USB device is refused in one line (status 3)" \
	eval 'has "usb device absent (1209:0002) is not plugged in" && [ $rc = 3 ] && [ $(wc -l <$w/out) = 1 ]'
"$spectrum" run $w/pt.json both --timeout 60 >$w/out 2>&1 </dev/null
rc=$?
check "a PCI device not bound to vfio-pci is refused (status 3)" \
	eval 'has "not vfio-pci" && [ $rc = 3 ]'

echo vfio-pci >"/sys/bus/pci/devices/$pci/driver_override" &&
	echo "$pci" >/sys/bus/pci/drivers_probe
check "the edu device is bound to vfio-pci" \
	[ "$(basename "$(readlink "/sys/bus/pci/devices/$pci/driver")")" = vfio-pci ]

# --- The inner VM gets both, under spectrumd --------------------------------

# Nested emulation boots far slower than the daemon's default allows.
SPECTRUM_READY_TIMEOUT=1200 "$build/spectrumd" -c $w/pt.json >$w/daemon.log 2>&1 &
daemon=$!
for _ in $(seq 100); do "$spectrum" list >/dev/null 2>&1 && break; sleep 0.2; done
start=$(date +%s)
"$spectrum" start both >$w/out 2>&1 </dev/null
rc=$?
say "spectrum start both: status $rc in $(($(date +%s) - start)) s"
check "spectrumd starts the instance with both devices" [ "$rc" = 0 ]
check "the USB node belongs to the VMM's uid while it runs" \
	eval '[ "$(stat -c %u "$node")" -ge 524288 ]'
check "the VFIO group belongs to the VMM's uid while it runs" \
	eval '[ "$(stat -c %u "/dev/vfio/$group")" -ge 524288 ]'
"$spectrum" start second >$w/out 2>&1 </dev/null
rc=$?
check "another instance naming the USB device through another resource is refused, naming the holder" \
	eval '[ $rc != 0 ] && has "usb device 1209:0001 (resource gadget2) is held by running instance both"'
"$spectrum" run $w/pt.json second --timeout 60 >$w/out 2>&1 </dev/null
rc=$?
check "so is spectrum run, by the node the daemon handed out (status 3)" \
	eval '[ $rc = 3 ] && has "usb device 1209:0001 (resource gadget2) is held by instance both"'
for _ in $(seq 400); do
	"$spectrum" logs both >$w/out 2>&1 </dev/null
	has '^listed' && break
	sleep 1
done
sed 's/^/# /' $w/out >&3
if ! has '^listed'; then
	say "the inner VM's console, last lines:"
	tail -n 40 "$SPECTRUM_RUN_DIR/both/console.log" | sed 's/^/# /' >&3
fi
check "the inner VM sees the USB device on its xHCI controller" has "usb=1209:0001 Spectrum test device"
check "the inner VM sees the edu PCI device through VFIO" has "pci=0x1234:0x11e8"
"$spectrum" stop both >$w/out 2>&1 </dev/null
check "spectrum stop stops it" [ "$(jq -r .state < <("$spectrum" status both --json))" != running ]
check "both devices are root's again after the VM" \
	[ "$(stat -c %u "$node"):$(stat -c %u "/dev/vfio/$group")" = 0:0 ]
kill "$daemon"
finish
