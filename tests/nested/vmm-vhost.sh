#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmm-vhost.sh - tier 5: virtio-net on vhost-net: two guests on a loom `bridge` network (netd's TAPs) get DHCP leases and ping; a macvtap NIC; an 802.1Q sub-interface port.
#
# Inside the nested L1 (it has /dev/vhost-net, VLAN filtering and 8021q;
# the host has none of them). The bridge network kb has netd's DHCP, an
# address for L1 on the bridge and a port of type vlan: vqN.100, an
# 802.1Q sub-interface of a veth whose other end (in namespace "lan")
# carries VLAN 100 with an address of the subnet. Guest vma has a second
# NIC: a macvtap on a veth whose other end is in namespace "mvlan".
# Checked: the leases; vma <-> vmb ping over the bridge; vma pings the
# host across the 802.1Q sub-interface; "mvlan" pings vma's macvtap NIC;
# the VMMs' NICs report datapath vhost-net, a vhost-PID kernel worker
# exists for each VMM, and the NIC backends' own frame counters stay 0
# (the VMM's threads moved no frame); kill -9 of netd: carrier goes, the
# restarted netd's new TAP is handed to vhost-net, the ping works again.
set -u
cd "$(dirname "$0")/../.." || exit 1
repo=$PWD
vmm=$repo/build/loom-vmm
netd=$repo/build/loom-netd
loom=$repo/build/loom
ctl="python3 $repo/tests/netns/loomctl.py"
. tests/lib/kvm.sh

if [ "${LOOM_IN_L1:-}" != 1 ]; then
	for b in "$vmm" "$netd" "$loom"; do
		[ -x "$b" ] || { echo "$b not built yet (make)"; exit 77; }
	done
	L2_INITRD=$(scripts/build-guest-initramfs.sh) ||
		{ echo "FAIL: guest-initramfs: build failed"; exit 1; }
	export L2_INITRD
fi
KVM_L1_OPTS="--timeout 1200 --smp 2 --modules vhost_net ${VHOST_L1_OPTS:-}" kvm_enter "$0" "$@"

. tests/lib/l2.sh
work=$L2_DIR
run=$work/run
state=$work/state
mkdir -p "$run" "$state"
export LOOM_RUN_DIR=$run
netd_pid= copy_pid=
VQ=vq$$ MP=vm$$
cleanup() {
	l2_stop_all
	[ -n "$netd_pid" ] && kill "$netd_pid" 2>/dev/null
	[ -n "$copy_pid" ] && kill "$copy_pid" 2>/dev/null
	wait 2>/dev/null
	ip netns del lan$$ 2>/dev/null
	ip netns del mvlan$$ 2>/dev/null
	ip link del "$VQ" 2>/dev/null
	ip link del "$MP" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
# VHOST_L1_OPTS="--scratch DIR": copies of the consoles and netd's log in
# DIR every few seconds, to watch a run from the host.
if [ -n "${L1_SCRATCH:-}" ]; then
	(while sleep 3; do cp "$work"/*.log "$L1_SCRATCH/" 2>/dev/null; done) &
	copy_pid=$!
fi
fails=0
pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	fails=$((fails + 1))
}
modprobe -a tun vhost_net bridge veth 8021q macvtap 2>&1 || true
if [ ! -c /dev/vhost-net ]; then
	[ "${LOOM_IN_L1:-}" = 1 ] && { echo "FAIL: no /dev/vhost-net inside L1"; exit 1; }
	echo "no /dev/vhost-net here"
	exit 77
fi
l2_images || exit 1

# The LANs: VLAN 100 of a trunk (veth) and a plain one for the macvtap.
ip netns add lan$$ && ip netns add mvlan$$ || { echo "FAIL: netns"; exit 1; }
ip link add "$VQ" type veth peer name "${VQ}p" netns lan$$
ip -n lan$$ link add link "${VQ}p" name "${VQ}p.100" type vlan id 100
ip -n lan$$ addr add 10.78.0.50/24 dev "${VQ}p.100"
ip -n lan$$ link set "${VQ}p" up
ip -n lan$$ link set "${VQ}p.100" up
ip link set "$VQ" up
ip link add "$MP" type veth peer name "${MP}p" netns mvlan$$
ip -n mvlan$$ addr add 10.79.0.50/24 dev "${MP}p"
ip -n mvlan$$ link set "${MP}p" up
ip link set "$MP" up

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
if ! $ctl "$run/netd.sock" net.create '{"name":"kb","mode":"bridge",
 "bridge":"lbv'$$'","subnet":"10.78.0.0/24","bridge_address":"10.78.0.254/24",
 "ports":[{"name":"up100","type":"vlan","tap":"'$VQ'.100"}]}' >"$work/create.out"; then
	echo "FAIL: net.create kb"; cat "$work/create.out"; exit 1
fi
if ip -d link show "$VQ.100" 2>/dev/null | grep -q 'vlan protocol 802.1Q id 100'; then
	pass "vmm-vhost-8021q-port-made-by-netd"
else
	fail "vmm-vhost-8021q-port-made-by-netd"
	"$loom" port list kb
fi

cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check"
l2_start vma "$vmm" --name vma --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
	--append "$cmdline" --mem 192M --cpus 1 --console stdio \
	--nic net=kb --nic "macvtap=$MP,mode=bridge" --no-kernel-cache
l2_start vmb "$vmm" --name vmb --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
	--append "$cmdline" --mem 192M --cpus 1 --console stdio \
	--nic net=kb --no-kernel-cache
for g in vma vmb; do
	if ! l2_shell $g 400; then
		fail "vmm-vhost-$g-shell: no shell within 400 s"
		l2_tail $g 25
		exit 1
	fi
done
pass "vmm-vhost-guests-up ($(l2_elapsed vmb) s)"

declare -A ip
for g in vma vmb; do
	if l2_run $g 'udhcpc -i eth0 -q -n -t 10 -T 2 | tail -n 1' 120 && [ "$L2_RC" = 0 ]; then
		l2_run $g "ip -4 -o addr show eth0 | awk '{print \$4}'" 30
		ip[$g]=${L2_OUT%%/*}
		pass "vmm-vhost-$g-dhcp-lease (${ip[$g]})"
	else
		fail "vmm-vhost-$g-dhcp-lease: ${L2_OUT:-}"
	fi
done
if l2_run vma "ping -c 3 -W 10 ${ip[vmb]:-10.78.0.2} | tail -n 1" 90 && [ "$L2_RC" = 0 ]; then
	pass "vmm-vhost-ping-a-to-b-over-the-bridge (${L2_OUT%$'\n'})"
else
	fail "vmm-vhost-ping-a-to-b-over-the-bridge: rc=${L2_RC:-none}"
	l2_tail vma 10
fi
if l2_run vma 'ping -c 3 -W 10 10.78.0.50 >/dev/null' 90 && [ "$L2_RC" = 0 ]; then
	pass "vmm-vhost-ping-across-the-8021q-subinterface"
else
	fail "vmm-vhost-ping-across-the-8021q-subinterface: rc=${L2_RC:-none}"
fi
l2_run vma 'ip addr add 10.79.0.3/24 dev eth1 && ip link set eth1 up' 30
if ip netns exec mvlan$$ ping -c 3 -i 0.3 -W 10 10.79.0.3 >/dev/null; then
	pass "vmm-vhost-macvtap-nic-answers-its-lan"
else
	fail "vmm-vhost-macvtap-nic-answers-its-lan"
	ip -d link show | grep -A2 macvtap
fi

# Who moved the frames: the kernel's vhost worker, not the VMM.
for g in vma vmb; do
	pid=${L2_PID[$g]}
	st=$("$loom" vm status $g --json 2>&1)
	if echo "$st" | python3 -c '
import json, sys
nics = json.load(sys.stdin)["status"]["nics"]
kb = [n for n in nics if n["backend"] == "tap"]
assert kb and all(n["datapath"] == "vhost-net" for n in kb), nics
c = kb[0]["counters"]
assert c["tx_frames"] == 0 and c["rx_frames"] == 0, c
'; then
		pass "vmm-vhost-$g-datapath-vhost-net-backend-counters-0"
	else
		fail "vmm-vhost-$g-datapath-vhost-net-backend-counters-0"
		echo "$st" | head -c 1500; echo
	fi
	workers=$(cat /proc/$pid/task/*/comm /proc/[0-9]*/comm 2>/dev/null | grep -c "^vhost-$pid\$")
	if [ "$workers" -ge 1 ]; then
		where=kthread
		grep -qx "vhost-$pid" /proc/$pid/task/*/comm 2>/dev/null && where="task of the VMM"
		pass "vmm-vhost-$g-vhost-worker ($workers vhost-$pid, $where)"
	else
		fail "vmm-vhost-$g-vhost-worker: no vhost-$pid"
	fi
done

carrier_is() { # GUEST VALUE SECS
	local i
	for ((i = 0; i < $3; i++)); do
		l2_run "$1" 'cat /sys/class/net/eth0/carrier' 30
		[ "${L2_OUT%$'\n'}" = "$2" ] && return 0
		sleep 1
	done
	return 1
}
kill -9 "$netd_pid"
wait "$netd_pid" 2>/dev/null
netd_pid=
if carrier_is vma 0 30; then
	pass vmm-vhost-carrier-lost-when-netd-dies
else
	fail "vmm-vhost-carrier-lost-when-netd-dies: carrier ${L2_OUT:-}"
fi
netd_start || exit 1
if carrier_is vma 1 60 && carrier_is vmb 1 60; then
	pass vmm-vhost-carrier-back-after-netd-restart
else
	fail "vmm-vhost-carrier-back-after-netd-restart: carrier ${L2_OUT:-}"
	tail -n 8 "$work/netd.log" | sed 's/^/    | /'
fi
if l2_run vma "ping -c 3 -W 10 ${ip[vmb]:-10.78.0.2} >/dev/null" 90 && [ "$L2_RC" = 0 ]; then
	pass vmm-vhost-ping-after-netd-restart-on-the-new-tap
else
	fail "vmm-vhost-ping-after-netd-restart-on-the-new-tap: rc=${L2_RC:-none}"
	l2_tail vma 10
fi

for g in vma vmb; do
	l2_send $g loom-poweroff
	l2_wait $g 60
	[ "$L2_EXIT" = 0 ] || fail "vmm-vhost-$g-poweroff: loom-vmm exit $L2_EXIT"
done
kill "$netd_pid" 2>/dev/null
wait "$netd_pid" 2>/dev/null
netd_pid=
if ip -o link show | grep -Eq ': (lv|mv)[0-9a-f]{8}[@:]'; then
	fail "vmm-vhost-no-vm-devices-left-after-netd-stops"
	ip -o link show | grep -E ': (lv|mv)[0-9a-f]{8}'
else
	pass vmm-vhost-no-vm-devices-left-after-netd-stops
fi
[ $fails -eq 0 ]
