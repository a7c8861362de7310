#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-nic-tap.sh - nic.open: netd makes a VM NIC's TAP (bridge network) or macvtap and passes its fd; loom-vmm's tap backend moves frames on it; netd removes it.
#
# The VM NIC is tests/netns/nic_tap_peer: loom-vmm's NIC backend code
# (vmm/net/tap.c) answering ARP and ping. On a bridge network netd makes
# a TAP enslaved to the bridge; the host pings the NIC over the bridge
# address. The TAP goes when the NIC's process dies (kill -9); after a
# kill -9 of netd the NIC re-attaches to the restarted netd by itself and
# answers again (the shm fallback too). A macvtap NIC on a veth parent answers a namespace on
# the parent's other end. On a switch network the backend falls back to
# netd's shm port. SIGTERM leaves no interface behind.
. "$(dirname "$0")/common.bash"
skip_unless_root
PEER=$ROOT/build/tests/netns/nic_tap_peer
[ -x "$PEER" ] || { echo "FAIL: $PEER not built (run make)"; exit 1; }
MAC=52:54:00:4c:5a:01
EXTRA_PIDS=

ns_add b
BR=lb$$
PA=lpn$$
ip link add "$PA" type veth peer name "${PA}p"
ip link set "${PA}p" netns "$(ns b)"
ip -n "$(ns b)" addr add 10.238.1.12/24 dev "${PA}p"
ip -n "$(ns b)" link set "${PA}p" up
ip link set "$PA" up
trap 'ip link del "$PA" 2>/dev/null; cleanup; ip link del "$BR" 2>/dev/null' EXIT
inventory_before=$(link_inventory)
netd_start || exit 1

check "net.create bridge network" ctl net.create \
	'{"name":"kt","mode":"bridge","bridge":"'$BR'","bridge_address":"10.238.0.254/24"}'
check "net.create switch network" ctl net.create '{"name":"sw","mode":"switch"}'

peer() { # peer NAME NET PORT IP SECONDS: start in the background
	"$PEER" "$SOCK" "$2" "$3" "$MAC" "$4" "$5" >"$T/$1.out" 2>&1 &
	eval "${1}_pid=$!"
	EXTRA_PIDS="$EXTRA_PIDS $!"
	for _ in $(seq 50); do grep -q '^attached\|failed' "$T/$1.out" && break; sleep 0.1; done
}
tap_of() { # tap_of NET|"" PORT: the VM port's interface, from port.list
	ctl port.list "$([ -n "$1" ] && echo '{"net":"'$1'"}' || echo '{}')" | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)["result"]["ports"] if x["name"] == sys.argv[1]]
print(p[0]["ifname"] if p and "ifname" in p[0] else "")' "$2"
}

peer v1 kt vm1 10.238.0.99 60
check "the NIC on a bridge network gets netd's TAP" grep -q '^attached tap' "$T/v1.out"
TAP=$(tap_of kt vm1)
check "port.list shows the VM's TAP port" test -n "$TAP"
check "the TAP is enslaved to the bridge" bash -c "ip -o link show '$TAP' | grep -q 'master $BR'"
check "the TAP carries netd's ifalias" bash -c "ip -d link show '$TAP' | grep -q 'alias loom:.*:kt:vm1'"
check "the host pings the VM NIC over the bridge" ping -c 3 -i 0.2 -W 2 10.238.0.99

kill -9 "$v1_pid"; wait "$v1_pid" 2>/dev/null
gone=1
for _ in $(seq 30); do ip link show "$TAP" >/dev/null 2>&1 || { gone=0; break; }; sleep 0.1; done
check "the TAP goes with the VMM (kill -9)" test $gone = 0
check "port.list drops it" test -z "$(tap_of kt vm1)"

peer v2 kt vm1 10.238.0.99 60
check "a new NIC attaches" grep -q '^attached tap' "$T/v2.out"
kill -9 "$NETD_PID"; wait "$NETD_PID" 2>/dev/null; NETD_PID=
sleep 0.5
check "the NIC saw the link go down" grep -q '^link down' "$T/v2.out"
netd_start || exit 1
up=1
for _ in $(seq 100); do grep -q '^link up' "$T/v2.out" && { up=0; break; }; sleep 0.1; done
check "after netd's restart the NIC re-attaches by itself" test $up = 0
check "and answers pings again" ping -c 3 -i 0.2 -W 2 10.238.0.99
TAP2=$(tap_of kt vm1)
check "on a new TAP of the restarted netd" test -n "$TAP2"
check "the old TAP is gone" bash -c "[ '$TAP' = '$TAP2' ] || ! ip link show '$TAP' 2>/dev/null"

peer m1 "macvtap:$PA:bridge" mv1 10.238.1.99 60
check "a macvtap NIC gets netd's macvtap" grep -q '^attached tap' "$T/m1.out"
MV=$(tap_of "" mv1)
check "port.list shows it" test -n "$MV"
check "the macvtap has the NIC's MAC on the parent" bash -c \
	"ip -d link show '$MV' | grep -q 'link/ether $MAC' && ip -d link show '$MV' | grep -q 'macvtap mode bridge'"
check "a namespace on the parent's LAN pings the macvtap NIC" \
	ip netns exec "$(ns b)" ping -c 3 -i 0.2 -W 2 10.238.1.99
kill "$m1_pid"; wait "$m1_pid" 2>/dev/null
gone=1
for _ in $(seq 30); do ip link show "$MV" >/dev/null 2>&1 || { gone=0; break; }; sleep 0.1; done
check "the macvtap goes when the NIC closes" test $gone = 0

peer s1 sw vms 10.238.2.99 60
check "on a switch network the NIC falls back to the shm port" grep -q '^attached shm' "$T/s1.out"
kill -9 "$NETD_PID"; wait "$NETD_PID" 2>/dev/null; NETD_PID=
netd_start || exit 1
up=1
for _ in $(seq 100); do grep -q '^link up' "$T/s1.out" && { up=0; break; }; sleep 0.1; done
check "the shm NIC re-attaches after netd's restart too" test $up = 0
kill "$s1_pid" 2>/dev/null
check "nic.open on a switch network says EOPNOTSUPP" bash -c \
	"[ \"\$(python3 '$CTL' '$SOCK' nic.open '{\"net\":\"sw\",\"port\":\"x\",\"mac\":\"$MAC\"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"error\"][\"code\"])')\" = EOPNOTSUPP ]"
check "nic.open with a bad MAC is refused" bash -c \
	"python3 '$CTL' '$SOCK' nic.open '{\"net\":\"kt\",\"port\":\"x\",\"mac\":\"01:00:00:00:00:01\"}' | grep -q EINVAL"
wait "$s1_pid" 2>/dev/null

kill "$v2_pid" 2>/dev/null; wait "$v2_pid" 2>/dev/null
EXTRA_PIDS=
netd_stop
check "links are as before" test "$(link_inventory)" = "$inventory_before"
finish
