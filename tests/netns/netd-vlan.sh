#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-vlan.sh - 802.1Q through loom: access ports per VLAN, a trunk sees tagged frames.
#
# a (VLAN 10), c (VLAN 10), b (VLAN 20) are access ports; t is a trunk
# carrying 10 and 20. a<->c ping, a<->b cannot, and tcpdump -e on the trunk
# inside namespace t shows the frames tagged "vlan 10" and "vlan 20".
. "$(dirname "$0")/common.bash"
skip_unless_root

for n in a b c t; do ns_add $n; done
netd_start || exit 1

net='{"name":"vl","mode":"switch","subnet":"10.232.0.0/24","ports":[
 {"name":"a","tap":"lm'$$'va","netns":"'$(ns a)'","address":"10.232.0.11/24","vlan":10},
 {"name":"b","tap":"lm'$$'vb","netns":"'$(ns b)'","address":"10.232.0.12/24","vlan":20},
 {"name":"c","tap":"lm'$$'vc","netns":"'$(ns c)'","address":"10.232.0.13/24","vlan":10},
 {"name":"t","tap":"lm'$$'vt","netns":"'$(ns t)'","trunk":[10,20]}]}'
check "net.create with access and trunk ports" ctl net.create "$net"

tcpdump_out=$T/trunk.txt
ip netns exec "$(ns t)" tcpdump -l -n -e -i "lm$$vt" -c 40 vlan >"$tcpdump_out" 2>"$T/tcpdump.err" &
EXTRA_PIDS=$!
sleep 1

check "same VLAN: a -> c ping" ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.232.0.13
check_not "different VLANs: a -> b no reply" \
	ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 1 10.232.0.12
check_not "different VLANs: b -> c no reply" \
	ip netns exec "$(ns b)" ping -c 2 -i 0.2 -W 1 10.232.0.13
sleep 1
kill "$EXTRA_PIDS" 2>/dev/null
wait "$EXTRA_PIDS" 2>/dev/null
EXTRA_PIDS=
check "trunk in netns t sees frames tagged vlan 10" grep -q "vlan 10," "$tcpdump_out"
check "trunk in netns t sees frames tagged vlan 20" grep -q "vlan 20," "$tcpdump_out"
check "trunk frames of VLAN 10 include a's ARP for c" \
	bash -c "grep 'vlan 10,' '$tcpdump_out' | grep -q 'who-has 10.232.0.13 tell 10.232.0.11'"
check "b's ARP requests appear in vlan 20 only" \
	bash -c "grep 'vlan 20,' '$tcpdump_out' | grep -q 'tell 10.232.0.12' &&
		 ! grep 'vlan 10,' '$tcpdump_out' | grep -q 'tell 10.232.0.12'"
check "b (alone in VLAN 20 with the silent trunk) was sent no frame" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"vl\"}' | python3 -c '
import json, sys
ports = {p[\"name\"]: p for p in json.load(sys.stdin)[\"result\"][\"ports\"]}
assert all(p[\"state\"] == \"up\" for p in ports.values()), ports
assert ports[\"b\"][\"counters\"][\"rx_frames\"] > 0, ports[\"b\"]
assert ports[\"b\"][\"counters\"][\"tx_frames\"] == 0, ports[\"b\"]
assert ports[\"c\"][\"counters\"][\"tx_frames\"] > 0, ports[\"c\"]
'"
finish
