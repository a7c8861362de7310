#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-macvtap.sh - a macvtap port on a parent device: netd creates it, drives /dev/tapN, removes it; kill -9 + restart.
#
# The parent is a veth whose other end is in namespace b (the "LAN");
# namespace a has a TAP port of the same switch network. In passthru mode
# the macvtap gets every frame of the parent, so b and a ping through
# parent -> macvtap -> netd's switch -> TAP. A second port in bridge mode
# on another parent is checked as the kernel shows it, then port.del and
# net.delete remove the links; a kill -9 leaves the macvtap (persistent)
# and the restart removes and recreates it.
. "$(dirname "$0")/common.bash"
skip_unless_root
ip link add "lpq$$" type veth peer name "lpr$$" || { echo "FAIL: veth"; exit 1; }
if ! ip link add link "lpq$$" name "lmq$$" type macvtap mode bridge 2>/dev/null; then
	ip link del "lpq$$"
	echo "FAIL: this kernel has no macvtap (CONFIG_MACVTAP)"
	exit 1
fi
ip link del "lmq$$"; ip link del "lpq$$"

ns_add a
ns_add b
PA=lpa$$   # parent of the passthru port, its peer in b
PB=lpb$$   # parent of the bridge-mode port (peer stays in the host)
MV=lmv$$
MW=lmw$$
ip link add "$PA" type veth peer name "${PA}p"
ip link set "${PA}p" netns "$(ns b)"
ip -n "$(ns b)" addr add 10.237.0.12/24 dev "${PA}p"
ip -n "$(ns b)" link set "${PA}p" up
ip link set "$PA" up
ip link add "$PB" type veth peer name "${PB}p"
ip link set "$PB" up; ip link set "${PB}p" up
EXTRA_LINKS="$PA $PB"
trap 'for l in $EXTRA_LINKS; do ip link del $l 2>/dev/null; done; cleanup' EXIT
inventory_before=$(link_inventory)
netd_start || exit 1

net='{"name":"mv","mode":"switch","subnet":"10.237.0.0/24","ports":[
 {"name":"a","tap":"lm'$$'a","netns":"'$(ns a)'","address":"10.237.0.11/24"},
 {"name":"lan","type":"macvtap","tap":"'$MV'","parent":"'$PA'","macvtap_mode":"passthru"},
 {"name":"vm","type":"macvtap","tap":"'$MW'","parent":"'$PB'"}]}'
check "net.create with macvtap ports" ctl net.create "$net"
prefix=$(ctl daemon.status | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["alias_prefix"])')
check "macvtap lan: on $PA, mode passthru, netd's alias" bash -c "
	ip -d link show $MV | grep -q 'macvtap  *mode passthru' &&
	ip link show $MV | grep -q '@$PA' && ip -d link show $MV | grep -q 'alias ${prefix}mv:lan'"
check "macvtap vm: mode bridge by default" bash -c "ip -d link show $MW | grep -q 'macvtap  *mode bridge'"
check "netd holds the macvtap's /dev/tapN open" bash -c "
	idx=\$(ip -o link show $MV | cut -d: -f1)
	ls -l /proc/$NETD_PID/fd | grep -q \"/dev/tap\$idx\$\""
check "b (the parent's LAN) pings a through the macvtap and the switch" \
	ip netns exec "$(ns b)" ping -c 3 -i 0.2 -W 2 10.237.0.11
check "port.list: the macvtap port is up with frames both ways" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"mv\"}' | python3 -c '
import json, sys
p = {x[\"name\"]: x for x in json.load(sys.stdin)[\"result\"][\"ports\"]}
l = p[\"lan\"]
assert l[\"state\"] == \"up\" and l[\"backend\"] == \"macvtap\", l
assert l[\"counters\"][\"rx_frames\"] >= 3 and l[\"counters\"][\"tx_frames\"] >= 3, l
'"
check "a parent that does not exist: refused naming it, nothing left" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.add '{\"net\":\"mv\",\"name\":\"x\",\"type\":\"macvtap\",\"tap\":\"lmx$$\",\"parent\":\"nope$$\"}' |
		grep -q 'parent nope$$: no such interface' && ! ip link show lmx$$ 2>/dev/null"
check "mode isolated refuses a macvtap" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.create '{\"name\":\"iso\",\"mode\":\"isolated\",\"ports\":[{\"name\":\"m\",\"type\":\"macvtap\",\"tap\":\"lmi$$\",\"parent\":\"$PB\"}]}' |
		grep -q 'mode isolated: macvtap'"
check "port.del removes the macvtap link" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.del '{\"net\":\"mv\",\"port\":\"vm\"}' >/dev/null && ! ip link show $MW 2>/dev/null"
check "port.add brings it back" ctl port.add \
	"{\"net\":\"mv\",\"name\":\"vm\",\"type\":\"macvtap\",\"tap\":\"$MW\",\"parent\":\"$PB\"}"

inventory_running=$(link_inventory)
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
check "after kill -9 the macvtap is still there (persistent)" ip link show "$MV"
netd_start || exit 1
check "restart: the leftover macvtaps were removed" grep -q "removed stray $MV" "$T/netd.log"
check "restart: the same interfaces" test "$(link_inventory)" = "$inventory_running"
# a's TAP is new, with a new MAC: b must not use the old one.
ip -n "$(ns b)" neigh flush all
check "restart: b pings a again" ip netns exec "$(ns b)" ping -c 2 -i 0.2 -W 2 10.237.0.11
check "net.delete removes every macvtap" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.delete '{\"name\":\"mv\"}' >/dev/null &&
	! ip link show $MV 2>/dev/null && ! ip link show $MW 2>/dev/null"
check "nothing left compared with before netd" \
	test "$(link_inventory)" = "$inventory_before"
netd_stop
finish
