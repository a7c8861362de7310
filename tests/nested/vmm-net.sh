#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmm-net.sh - tier 5: two Linux guests under loom-vmm, each with its own
# virtio_net driver on one loom `switch` network (netd's shm ports), static
# addresses: MACs as loom chose them, ping both ways, a 4 MiB HTTP transfer
# (busybox httpd/wget, TSO-sized frames between the guests) checked by md5,
# the ports in `loom port list` and the NICs in `loom vm status`; then
# `loom port set lab vma link down|up` shows in the guest's carrier; then
# loom-netd is killed (-9): the guests see carrier loss, netd restarts, the
# VMMs re-attach on their own, carrier comes back and the ping works again;
# `loom vm stop` ends a VMM within 20 s.
#
# Runs on a hardware-speed /dev/kvm directly, else inside the nested L1;
# exit 77 with the reason if neither is possible or nothing is built yet.
set -u
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD
vmm=$repo/build/loom-vmm
netd=$repo/build/loom-netd
loom=$repo/build/loom
. tests/lib/kvm.sh

if [ "${LOOM_IN_L1:-}" != 1 ]; then
	for b in "$vmm" "$netd" "$loom"; do
		[ -x "$b" ] || { echo "$b not built yet (make)"; exit 77; }
	done
	L2_INITRD=$(scripts/build-guest-initramfs.sh) ||
		{ echo "FAIL: guest-initramfs: build failed"; exit 1; }
	export L2_INITRD
fi
kvm_enter "$0" "$@" # returns where /dev/kvm boots Linux

. tests/lib/l2.sh
work=$L2_DIR
run=$work/run
state=$work/state
mkdir -p "$run" "$state"
export LOOM_RUN_DIR=$run
netd_pid=
cleanup() {
	l2_stop_all
	[ -n "$netd_pid" ] && kill "$netd_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
l2_images || exit 1
fails=0
pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	fails=$((fails + 1))
}

netd_start() {
	"$netd" --run-dir "$run" --state-dir "$state" >>"$work/netd.log" 2>&1 &
	netd_pid=$!
	for _ in $(seq 100); do
		"$loom" status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "loom-netd did not come up:"
	tail -n 20 "$work/netd.log" | sed 's/^/    | /'
	return 1
}

netd_start || exit 1
"$loom" net create lab --mode switch >/dev/null ||
	{ echo "FAIL: loom net create lab"; exit 1; }

cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check"
# --no-kernel-cache: a cache filler decompressing in the background would
# hold L1's output relay open (and the CPU) long after the test.
for g in vma vmb; do
	l2_start $g "$vmm" --name $g --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
		--append "$cmdline" --mem 192M --cpus 1 --console stdio \
		--nic net=lab --no-kernel-cache
done
for g in vma vmb; do
	if ! l2_shell $g 300; then
		fail "vmm-net-$g-shell: no shell within 300 s"
		l2_tail $g 25
		exit 1
	fi
done
pass "vmm-net-guests-up ($(l2_elapsed vmb) s)"

# The guest's MAC is the one loom-vmm derived and netd lists for the port.
ok=1
for g in vma vmb; do
	want=$("$loom" port list lab | awk -v p=$g '$2 == p { print $4 }')
	l2_run $g 'cat /sys/class/net/eth0/address' 30
	got=${L2_OUT%$'\n'}
	if [ -z "$want" ] || [ "$got" != "$want" ]; then
		echo "    $g: guest MAC '$got', port list says '$want'"
		ok=
	fi
	case $want in 52:4c:*) ;; *) ok= ;; esac
done
[ -n "$ok" ] && pass "vmm-net-ports-named-after-vms-with-their-macs" ||
	{ fail "vmm-net-ports-named-after-vms-with-their-macs"; "$loom" port list lab; }

l2_run vma 'ip addr add 10.77.0.1/24 dev eth0 && ip link set eth0 up' 30
l2_run vmb 'ip addr add 10.77.0.2/24 dev eth0 && ip link set eth0 up' 30
if l2_run vma 'ping -c 3 -W 10 10.77.0.2 | tail -n 1' 90 && [ "$L2_RC" = 0 ]; then
	pass "vmm-net-ping-a-to-b (${L2_OUT%$'\n'})"
else
	fail "vmm-net-ping-a-to-b: rc=${L2_RC:-none}"
	l2_tail vma 10
fi
if l2_run vmb 'ping -c 3 -W 10 10.77.0.1 >/dev/null' 90 && [ "$L2_RC" = 0 ]; then
	pass vmm-net-ping-b-to-a
else
	fail "vmm-net-ping-b-to-a: rc=${L2_RC:-none}"
fi

# 4 MiB over TCP: the guests' TSO/GSO frames cross netd's switch whole.
t0=$(l2_us)
l2_run vma 'mkdir -p /www && dd if=/dev/urandom of=/www/f bs=64k count=64 2>/dev/null && md5sum /www/f && httpd -p 80 -h /www' 60
sum_a=${L2_OUT%% *}
if l2_run vmb 'wget -q -O - http://10.77.0.1/f | md5sum' 240 &&
	[ "${L2_OUT%% *}" = "$sum_a" ] && [ -n "$sum_a" ]; then
	pass "vmm-net-http-4MiB-md5 ($((($(l2_us) - t0) / 1000)) ms with the file's creation)"
else
	fail "vmm-net-http-4MiB-md5: '${L2_OUT:-}' vs '$sum_a'"
fi
# DEVICE is two words ("virtio-net MAC"): RX_BYTES is field 10, TX_BYTES 12.
rx=$("$loom" port list lab | awk '$2 == "vmb" { print $10 + $12 }')
if [ "${rx:-0}" -gt 4000000 ] 2>/dev/null; then
	pass "vmm-net-port-counters (vmb: $rx bytes)"
else
	fail "vmm-net-port-counters: vmb RX_BYTES + TX_BYTES '${rx:-}'"
	"$loom" port list lab
fi
if "$loom" vm status vma | grep -Eq '^lab +vma +52:4c:[0-9a-f:]+ +virtio +shm +up'; then
	pass vmm-net-vm-status-shows-nic
else
	fail vmm-net-vm-status-shows-nic
	"$loom" vm status vma
fi

# netd killed: carrier goes; netd back: the VMMs re-attach, carrier comes.
carrier_is() { # GUEST VALUE SECS
	local i
	for ((i = 0; i < $3; i++)); do
		l2_run "$1" 'cat /sys/class/net/eth0/carrier' 30
		[ "${L2_OUT%$'\n'}" = "$2" ] && return 0
		sleep 1
	done
	return 1
}
# Carrier set by hand on netd's side (loom port set, the shm header's
# link word): the guest's virtio_net driver follows.
if "$loom" port set lab vma link down >/dev/null && carrier_is vma 0 30; then
	pass vmm-net-port-set-link-down-carrier-0
else
	fail "vmm-net-port-set-link-down-carrier-0: carrier ${L2_OUT:-}"
fi
if "$loom" port set lab vma link up >/dev/null && carrier_is vma 1 30; then
	pass vmm-net-port-set-link-up-carrier-1
else
	fail "vmm-net-port-set-link-up-carrier-1: carrier ${L2_OUT:-}"
fi
t0=$(l2_us)
kill -9 "$netd_pid"
wait "$netd_pid" 2>/dev/null
netd_pid=
if carrier_is vma 0 30 && carrier_is vmb 0 30; then
	pass vmm-net-carrier-lost-when-netd-dies
else
	fail "vmm-net-carrier-lost-when-netd-dies: carrier ${L2_OUT:-}"
fi
netd_start || exit 1
if carrier_is vma 1 60 && carrier_is vmb 1 60; then
	pass "vmm-net-carrier-back-after-netd-restart ($((($(l2_us) - t0) / 1000)) ms after the kill)"
else
	fail "vmm-net-carrier-back-after-netd-restart: carrier ${L2_OUT:-}"
	tail -n 5 "$work/netd.log" | sed 's/^/    | /'
fi
if l2_run vma 'ping -c 3 -W 10 10.77.0.2 >/dev/null' 90 && [ "$L2_RC" = 0 ]; then
	pass vmm-net-ping-after-netd-restart
else
	fail "vmm-net-ping-after-netd-restart: rc=${L2_RC:-none}"
fi

# loom vm stop ends the VMM process (bounded) while frames still arrive.
l2_run vma '(ping -i 0.2 10.77.0.2 >/dev/null 2>&1 &)' 30
t0=$(l2_us)
"$loom" vm stop vmb >/dev/null
l2_wait vmb 20
if [ "$L2_EXIT" != 124 ]; then
	pass "vmm-net-vm-stop-ends-vmm ($((($(l2_us) - t0) / 1000)) ms, exit $L2_EXIT)"
else
	fail "vmm-net-vm-stop-ends-vmm: loom-vmm still running 20 s after loom vm stop"
fi
l2_send vma loom-poweroff
l2_wait vma 60
[ "$L2_EXIT" = 0 ] || fail "vmm-net-vma-poweroff: loom-vmm exit $L2_EXIT"
[ $fails -eq 0 ]
