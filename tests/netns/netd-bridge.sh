#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-bridge.sh - mode bridge: a Linux bridge netd owns, veth and TAP ports, VLANs, kernel counters and FDB, kill -9.
#
# a and c (VLAN 10), b (VLAN 20), h (VLAN 1, with the host's address on
# the bridge) are veth ports into namespaces; t is a trunk (10, 20); tp a
# TAP on the bridge. a<->c ping, a<->b cannot, the host pings h, the trunk
# sees tagged frames, port list shows the kernel's counters, fdb show the
# kernel's FDB; kill -9 leaves the bridge (a persistent object) and the
# restart removes and recreates it; net.delete and SIGTERM leave nothing.
#
# A kernel without CONFIG_BRIDGE_VLAN_FILTERING (this host's) gets the
# same network with every port untagged in VLAN 1 (b, t and tp's VLANs
# left out), and a port with a VLAN must be refused naming the option;
# the VLAN cases then run in the nested L1 (tests/nested/cases/
# kernel-bridge.sh, LOOM_REQUIRE_BRIDGE_VLANS=1), whose kernel has it.
. "$(dirname "$0")/common.bash"
skip_unless_root
for tool in bridge tcpdump; do
	command -v $tool >/dev/null || { echo "skipped: $tool missing"; exit 77; }
done
VLAN_OK=0
if ip link add "lbp$$" type bridge vlan_filtering 1 2>/dev/null; then
	VLAN_OK=1
	ip link del "lbp$$"
fi
if [ "${LOOM_REQUIRE_BRIDGE_VLANS:-0}" = 1 ] && [ $VLAN_OK = 0 ]; then
	echo "FAIL: this kernel's bridge has no VLAN filtering, but the caller requires it"
	exit 1
fi
echo "note: bridge VLAN filtering in this kernel: $([ $VLAN_OK = 1 ] && echo yes || echo 'no (VLAN cases run in tests/nested/cases/kernel-bridge.sh)')"

for n in a b c t h d; do ns_add $n; done
# ip netns exec bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf:
# the lease script of d writes that one, never the host's.
# (In the nested L1 /etc is read-only: the script's write then fails,
# harmlessly.)
mkdir -p "/etc/netns/$(ns d)" 2>/dev/null &&
	: >"/etc/netns/$(ns d)/resolv.conf"
trap 'rm -rf "/etc/netns/$(ns d)"; cleanup' EXIT
BR=lb$$
P=lm$$
inventory_before=$(link_inventory)
netd_start || exit 1

if [ $VLAN_OK = 1 ]; then
	V10=',"vlan":10' V20=',"vlan":20' TRUNK=',"trunk":[10,20]'
	TPV=',"trunk":[10,20],"native":30'
else
	V10= V20= TRUNK= TPV=
fi
net='{"name":"kb","mode":"bridge","bridge":"'$BR'","subnet":"10.234.0.0/24",
 "bridge_address":"10.234.0.254/24","ports":[
 {"name":"a","type":"veth","tap":"'$P'a","netns":"'$(ns a)'","address":"10.234.0.11/24"'$V10'},
 {"name":"b","type":"veth","tap":"'$P'b","netns":"'$(ns b)'","address":"10.234.0.12/24"'$V20'},
 {"name":"c","type":"veth","tap":"'$P'c","netns":"'$(ns c)'","address":"10.234.0.13/24"'$V10'},
 {"name":"h","type":"veth","tap":"'$P'h","netns":"'$(ns h)'","address":"10.234.0.21/24"},
 {"name":"t","type":"veth","tap":"'$P't","netns":"'$(ns t)'"'$TRUNK'},
 {"name":"tp","tap":"'$P'p"'$TPV'},
 {"name":"d","type":"veth","tap":"'$P'd","netns":"'$(ns d)'"}]}'
check "net.create mode bridge with veth and TAP ports" ctl net.create "$net"
prefix=$(ctl daemon.status | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["alias_prefix"])')

check "the bridge exists, VLAN filtering $VLAN_OK, netd's ifalias" bash -c "
	ip -d link show $BR | grep -q 'vlan_filtering $VLAN_OK' &&
	ip -d link show $BR | grep -q 'alias ${prefix}kb\$'"
check "the host's address is on the bridge" \
	bash -c "ip -4 addr show dev $BR | grep -q 10.234.0.254/24"
check "veth a: host end on the bridge, netns end with the address" bash -c "
	ip link show ${P}a | grep -q 'master $BR' &&
	ip -n $(ns a) addr show ${P}a | grep -q 10.234.0.11/24"
check "TAP tp is on the bridge" bash -c "ip link show ${P}p | grep -q 'master $BR'"
[ $VLAN_OK = 1 ] && check "VLAN entries: a access 10, t trunk 10+20 tagged, tp native 30" bash -c "
	bridge -j vlan show | python3 -c '
import json, sys
v = {e[\"ifname\"]: e[\"vlans\"] for e in json.load(sys.stdin)}
def flags(dev):
	return {x[\"vlan\"]: sorted(x.get(\"flags\", [])) for x in v[dev]}
assert flags(\"${P}a\") == {10: [\"Egress Untagged\", \"PVID\"]}, v[\"${P}a\"]
assert flags(\"${P}t\") == {10: [], 20: []}, v[\"${P}t\"]
assert flags(\"${P}p\") == {10: [], 20: [], 30: [\"Egress Untagged\", \"PVID\"]}, v[\"${P}p\"]
assert flags(\"${P}h\") == {1: [\"Egress Untagged\", \"PVID\"]}, v[\"${P}h\"]
assert flags(\"$BR\") == {1: [\"Egress Untagged\", \"PVID\"]}, v[\"$BR\"]
'"

if [ $VLAN_OK = 0 ]; then
	check "no VLAN filtering: a port with a VLAN is refused naming the option" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.add '{\"net\":\"kb\",\"name\":\"v\",\"type\":\"veth\",\"tap\":\"${P}v\",\"netns\":\"$(ns b)\",\"vlan\":10}' |
		grep -q 'CONFIG_BRIDGE_VLAN_FILTERING' && ! ip link show ${P}v 2>/dev/null"
	check "no VLAN filtering: a -> b on the one segment" \
		ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.234.0.12
fi
tcpdump_out=$T/trunk.txt
ip netns exec "$(ns t)" tcpdump -l -n -e -i "${P}t" -c 40 vlan >"$tcpdump_out" 2>"$T/tcpdump.err" &
EXTRA_PIDS=$!
sleep 1
check "same VLAN: a -> c ping" ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.234.0.13
[ $VLAN_OK = 1 ] && check_not "different VLANs: a -> b no reply" \
	ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 1 10.234.0.12
# b speaks too (its ARP must reach the trunk in VLAN 20 only).
[ $VLAN_OK = 1 ] && check_not "different VLANs: b -> c no reply" \
	ip netns exec "$(ns b)" ping -c 2 -i 0.2 -W 1 10.234.0.13
check "the host (VLAN 1 on the bridge) -> h ping" ping -c 2 -i 0.2 -W 2 10.234.0.21
[ $VLAN_OK = 1 ] && check_not "the host cannot reach a (VLAN 10)" ping -c 1 -W 1 10.234.0.11
sleep 1
kill "$EXTRA_PIDS" 2>/dev/null
wait "$EXTRA_PIDS" 2>/dev/null
EXTRA_PIDS=
[ $VLAN_OK = 1 ] && check "trunk t sees a's ARP tagged vlan 10" \
	bash -c "grep 'vlan 10,' '$tcpdump_out' | grep -q 'tell 10.234.0.11'"
[ $VLAN_OK = 1 ] && check "trunk t sees b's ARP tagged vlan 20 only" bash -c "
	grep 'vlan 20,' '$tcpdump_out' | grep -q 'tell 10.234.0.12' &&
	! grep 'vlan 10,' '$tcpdump_out' | grep -q 'tell 10.234.0.12'"

mac_a=$(ip -n "$(ns a)" -j link show "${P}a" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["address"])')
check "port.list: the kernel's counters (a sent, c got frames)" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"kb\"}' | python3 -c '
import json, sys
ports = {p[\"name\"]: p for p in json.load(sys.stdin)[\"result\"][\"ports\"]}
assert all(p[\"state\"] == \"up\" for n, p in ports.items() if n != \"tp\"), ports
assert ports[\"a\"][\"counters\"][\"rx_frames\"] >= 3, ports[\"a\"]
assert ports[\"c\"][\"counters\"][\"tx_frames\"] >= 3, ports[\"c\"]
assert ports[\"a\"][\"bridge\"] == \"$BR\", ports[\"a\"]
assert \"rx_dropped\" in ports[\"a\"][\"counters\"][\"drops\"], ports[\"a\"]
'"
VA=$([ $VLAN_OK = 1 ] && echo 10 || echo 0)
check "fdb.show: the kernel's FDB has a's MAC on port a, VLAN $VA" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl fdb.show '{\"net\":\"kb\"}' | python3 -c '
import json, sys
e = json.load(sys.stdin)[\"result\"][\"entries\"]
assert any(x[\"mac\"] == \"$mac_a\" and x[\"port\"] == \"a\" and x[\"vlan\"] == $VA for x in e), e
'"
if [ -x "$LOOM" ]; then
	check "loom fdb show kb lists a's MAC" bash -c \
		"'$LOOM' --run-dir '$RUN_DIR' fdb show kb | grep -q '$mac_a'"
	check "loom port list kb lists the veths" bash -c \
		"'$LOOM' --run-dir '$RUN_DIR' port list kb | grep -q '${P}a'"
fi
check "fdb.flush of port a drops its entry" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl fdb.flush '{\"net\":\"kb\",\"port\":\"a\"}' >/dev/null &&
	! bridge fdb show br $BR | grep -v permanent | grep -q '^$mac_a dev ${P}a'"

# A VM NIC (shm port protocol) on the network's switch reaches the
# bridge's ports through netd's switch link (a TAP on the bridge).
PEER=$ROOT/build/tests/netns/shm_attach_peer
"$PEER" "$SOCK" kb 10.234.0.99 8 >"$T/peer.out" 2>&1 &
EXTRA_PIDS=$!
for _ in $(seq 50); do grep -q attached "$T/peer.out" && break; sleep 0.1; done
check "an shm VM NIC attaches to the bridge network" grep -q '^attached' "$T/peer.out"
check "h (veth, VLAN 1) pings the VM NIC through the switch link" \
	ip netns exec "$(ns h)" ping -c 3 -i 0.2 -W 2 10.234.0.99
check "the switch link is on the bridge with netd's alias" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	l=\$(ctl net.show '{\"name\":\"kb\"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"result\"][\"kernel_bridge\"][\"switch_link\"])')
	ip -d link show \$l | grep -q 'master $BR' && ip -d link show \$l | grep -q 'alias ${prefix}kb:'"
kill "$EXTRA_PIDS" 2>/dev/null
wait "$EXTRA_PIDS" 2>/dev/null
EXTRA_PIDS=

# netd's gateway (DHCP, DNS) serves the bridge through the switch link.
if busybox udhcpc --help 2>&1 | grep -q Usage && command -v nslookup >/dev/null; then
	check "udhcpc in netns d (veth on the bridge) gets a lease from netd" bash -c "
		LEASE_OUT=$T/lease.d ip netns exec $(ns d) busybox udhcpc -i ${P}d \
			-f -q -n -t 6 -T 1 -A 1 -s $ROOT/tests/netns/udhcpc.script \
			-x hostname:delta >/dev/null 2>&1 &&
		grep -q '^bound 10.234.0.' $T/lease.d"
	D=$(awk '/^bound/ {print $2; exit}' "$T/lease.d" 2>/dev/null)
	check "d pings the gateway 10.234.0.1 across the bridge" \
		ip netns exec "$(ns d)" ping -c 2 -i 0.2 -W 2 10.234.0.1
	check "the gateway's DNS answers d's name with its lease ($D)" bash -c "
		ip netns exec $(ns h) nslookup delta.kb.loom 10.234.0.1 2>&1 |
			grep -q 'Address: $D'"
else
	fail "busybox udhcpc or nslookup missing (scripts/install-deps.sh installs them)"
fi

# An 802.1Q sub-interface (type vlan, PARENT.VID) as a bridge port,
# where the kernel has 8021q (the nested L1); a clear error where not.
ip link add "lq$$" type veth peer name "lr$$"
ip link set "lq$$" up; ip link set "lr$$" up
Q8021=0
if ip link add link "lq$$" name "lq$$.9" type vlan id 9 2>/dev/null; then
	Q8021=1
	ip link del "lq$$.9"
fi
if [ "${LOOM_REQUIRE_BRIDGE_VLANS:-0}" = 1 ] && [ $Q8021 = 0 ]; then
	fail "this kernel has no 8021q, but the caller requires it"
fi
if [ $Q8021 = 1 ]; then
	check "a vlan port lq$$.7 is created on lq$$ and joins the bridge" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	r=\$(ctl port.add '{\"net\":\"kb\",\"name\":\"q\",\"type\":\"vlan\",\"tap\":\"lq$$.7\"}'); echo \"\$r\"
	echo \"\$r\" | grep -q '\"ok\": true' && ip -d link show lq$$.7 &&
	ip -d link show lq$$.7 | grep -q 'vlan protocol 802.1Q id 7' &&
	ip link show lq$$.7 | grep -q 'master $BR'"
	check "port.del removes the vlan device" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.del '{\"net\":\"kb\",\"port\":\"q\"}' >/dev/null && ! ip link show lq$$.7 2>/dev/null"
else
	check "no 8021q here: a vlan port is refused naming the module" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.add '{\"net\":\"kb\",\"name\":\"q\",\"type\":\"vlan\",\"tap\":\"lq$$.7\"}' |
		grep -q 'module 8021q missing' && ! ip link show lq$$.7 2>/dev/null"
fi
ip link del "lq$$"

# Refusals, each naming the rule.
check "mode bridge: a TAP in a namespace is refused (use veth)" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.add '{\"net\":\"kb\",\"tap\":\"${P}x\",\"netns\":\"$(ns a)\"}' |
		grep -q 'use type veth'"
check "mode switch: a veth port is refused" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.create '{\"name\":\"sw\",\"mode\":\"switch\",\"ports\":[{\"type\":\"veth\",\"tap\":\"${P}y\",\"netns\":\"$(ns a)\"}]}' |
		grep -q 'type veth belongs to bridge networks'"
ip link add "${BR}f" type veth peer name "${BR}g"
check "a bridge name taken by a foreign interface -> EEXIST, left alone" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.create '{\"name\":\"kf\",\"mode\":\"bridge\",\"bridge\":\"${BR}f\"}' |
		grep -q 'exists and is not this netd' &&
	ip -d link show ${BR}f | grep -q veth"
ip link del "${BR}f"

# kill -9: the bridge and the veths outlive netd (persistent objects)...
inventory_running=$(link_inventory)
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
check "after kill -9 the bridge is still there (persistent)" ip link show "$BR"
netd_start || exit 1
# ...and the restart removed and recreated them: same set of interfaces.
check "restart: the same interfaces, nothing stray" \
	test "$(link_inventory)" = "$inventory_running"
check "restart: removed the leftovers, recreated them" \
	grep -q "removed stray $BR" "$T/netd.log"
check "restart: a -> c ping again" ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.234.0.13
[ $VLAN_OK = 1 ] && check_not "restart: VLAN isolation holds" \
	ip netns exec "$(ns a)" ping -c 1 -W 1 10.234.0.12

check "net.delete removes the bridge and every veth" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.delete '{\"name\":\"kb\"}' >/dev/null &&
	! ip link show $BR 2>/dev/null && ! ip link show ${P}a 2>/dev/null &&
	! ip -n $(ns a) link show ${P}a 2>/dev/null"
check "nothing left compared with before netd" \
	test "$(link_inventory)" = "$inventory_before"
check "SIGTERM: a recreated bridge network goes with netd" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.create '$(echo "$net" | tr -d '\n')' >/dev/null && ip link show $BR >/dev/null"
netd_stop
check "after SIGTERM nothing is left" test "$(link_inventory)" = "$inventory_before"
finish
