#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-antispoof.sh - anti-spoofing: the eBPF program on a bridge network's ports and the built-in switch's policy drop and count spoofed frames while the real ones pass.
#
# Bridge network as (the default: on for veth ports): a, b, r with
# declared addresses, c by DHCP from netd, n with antispoof: false. a's
# real ping and ARP pass; a ping from an address a added itself, an ARP
# with a forged sender IP (arping -S) or MAC (arping -s) and a router
# advertisement are dropped and counted per reason in port list; the
# same forged ARP from n passes. r runs a DHCP server (dnsmasq): its
# offers are dropped (dhcp_server), so c's lease comes from netd, and c
# may use the leased address. Switch network sw: the same policy in the
# switch on a TAP port declared antispoof: true.
. "$(dirname "$0")/common.bash"
skip_unless_root
for tool in arping dnsmasq; do
	command -v $tool >/dev/null || { echo "skipped: $tool missing (scripts/install-deps.sh)"; exit 77; }
done
busybox udhcpc --help 2>&1 | grep -q Usage || { echo "skipped: busybox udhcpc missing"; exit 77; }

for n in a b r c n s1 s2; do ns_add $n; done
mkdir -p "/etc/netns/$(ns c)" 2>/dev/null && : >"/etc/netns/$(ns c)/resolv.conf"
BR=lb$$
P=lm$$
trap 'rm -rf "/etc/netns/$(ns c)"; ip link del $BR 2>/dev/null; cleanup' EXIT
netd_start || exit 1

net='{"name":"as","mode":"bridge","bridge":"'$BR'","subnet":"10.244.0.0/24",
 "bridge_address":"10.244.0.254/24","dhcp":{"range":"10.244.0.100-10.244.0.150"},"ports":[
 {"name":"a","type":"veth","tap":"'$P'a","netns":"'$(ns a)'","address":"10.244.0.11/24"},
 {"name":"b","type":"veth","tap":"'$P'b","netns":"'$(ns b)'","address":"10.244.0.12/24"},
 {"name":"r","type":"veth","tap":"'$P'r","netns":"'$(ns r)'","address":"10.244.0.13/24"},
 {"name":"c","type":"veth","tap":"'$P'c","netns":"'$(ns c)'"},
 {"name":"n","type":"veth","tap":"'$P'n","netns":"'$(ns n)'","address":"10.244.0.14/24","antispoof":false}]}'
check "net.create: a bridge network with anti-spoofing on by default" ctl net.create "$net"

ports_json() { "$LOOM" --run-dir "$RUN_DIR" --json port list "$1"; }
# drops NET PORT REASON: the port's anti-spoofing drop count.
drops() {
	ports_json "$1" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["ports"]:
	if p["name"] == sys.argv[1]:
		print(p.get("antispoof", {}).get("drops", {}).get(sys.argv[2], -1))' "$2" "$3"
}
check "port list: a is on (ebpf, 10.244.0.11), n is off" bash -c "
	'$LOOM' --run-dir '$RUN_DIR' --json port list as | python3 -c '
import json, sys
p = {x[\"name\"]: x for x in json.load(sys.stdin)[\"ports\"]}
a = p[\"a\"][\"antispoof\"]
assert a[\"on\"] and a[\"path\"] == \"ebpf\" and a[\"addresses\"] == [\"10.244.0.11\"], a
assert not p[\"n\"][\"antispoof\"][\"on\"], p[\"n\"]'"
check "a TC ingress filter is on a's interface" bash -c "tc filter show dev ${P}a ingress | grep -q bpf"

check "a pings b from its own address" ip netns exec "$(ns a)" ping -c 2 -W 2 10.244.0.12
check "the real ARP passes (arping from a)" ip netns exec "$(ns a)" arping -c 2 -w 3 -i "${P}a" 10.244.0.12

# a takes an address that is not its own: b's neighbour entry of a is
# there, so the ICMP goes out directly and meets the filter.
ip -n "$(ns a)" addr add 10.244.0.99/24 dev "${P}a"
check_not "a ping from a forged address does not reach b" \
	ip netns exec "$(ns a)" ping -c 2 -W 1 -I 10.244.0.99 10.244.0.12
check "... and is counted (spoof_ip)" bash -c "[ \$($(declare -f ports_json drops); LOOM='$LOOM' RUN_DIR='$RUN_DIR' drops as a spoof_ip) -ge 2 ]"
ip -n "$(ns a)" addr del 10.244.0.99/24 dev "${P}a"
check_not "an ARP with a forged sender IP gets no answer (arping -S)" \
	ip netns exec "$(ns a)" arping -c 2 -w 3 -i "${P}a" -S 10.244.0.98 10.244.0.12
check "... counted (spoof_arp)" bash -c "[ \$($(declare -f ports_json drops); LOOM='$LOOM' RUN_DIR='$RUN_DIR' drops as a spoof_arp) -ge 2 ]"
check_not "an ARP from a forged MAC gets no answer (arping -s)" \
	ip netns exec "$(ns a)" arping -c 2 -w 3 -i "${P}a" -s 02:00:00:00:00:99 -p 10.244.0.12
check "... counted (spoof_mac)" bash -c "[ \$($(declare -f ports_json drops); LOOM='$LOOM' RUN_DIR='$RUN_DIR' drops as a spoof_mac) -ge 2 ]"
check "the same forged ARP from n (antispoof: false) is answered" \
	ip netns exec "$(ns n)" arping -c 2 -w 3 -i "${P}n" -S 10.244.0.97 10.244.0.12
check "a still reaches b after all that" ip netns exec "$(ns a)" ping -c 1 -W 2 10.244.0.12

# A router advertisement from a's own MAC, through a packet socket.
ra() { # ra NS IFNAME: send one ICMPv6 router advertisement
	ip netns exec "$1" python3 - "$2" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
mac = s.getsockname()[4]
icmp = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
ip6 = struct.pack("!IHBB", 6 << 28, len(icmp), 58, 255) + \
	socket.inet_pton(socket.AF_INET6, "fe80::1") + \
	socket.inet_pton(socket.AF_INET6, "ff02::1")
s.send(bytes.fromhex("333300000001") + mac + b"\x86\xdd" + ip6 + icmp)
PY
}
ra "$(ns a)" "${P}a"
check "a router advertisement from a is dropped and counted (router_adv)" \
	bash -c "[ \$($(declare -f ports_json drops); LOOM='$LOOM' RUN_DIR='$RUN_DIR' drops as a router_adv) -ge 1 ]"

# A rogue DHCP server in r.
ip netns exec "$(ns r)" dnsmasq --no-daemon --port=0 --log-facility=- --log-dhcp \
	--interface="${P}r" --bind-interfaces --dhcp-authoritative --no-ping \
	--dhcp-range=10.244.0.200,10.244.0.210,1h --pid-file= --conf-file=/dev/null \
	>"$T/rogue.log" 2>&1 &
EXTRA_PIDS="$!"
sleep 0.5
check "udhcpc in c gets a lease" bash -c "
	LEASE_OUT=$T/lease.c ip netns exec $(ns c) busybox udhcpc -i ${P}c \
		-f -q -n -t 6 -T 1 -A 1 -s $ROOT/tests/netns/udhcpc.script"
for _ in $(seq 30); do grep -q DHCPOFFER "$T/rogue.log" && break; sleep 0.1; done
check "the rogue server answered (its log has a DHCPOFFER)" grep -q DHCPOFFER "$T/rogue.log"
check "c's lease is netd's (10.244.0.100-150), not the rogue's" bash -c "
	awk '{print \$2}' $T/lease.c | tail -1 | grep -Eq '^10\.244\.0\.1([0-4][0-9]|50)$|^10\.244\.0\.10[0-9]$'"
check "r's DHCP server replies were dropped and counted (dhcp_server)" \
	bash -c "[ \$($(declare -f ports_json drops); LOOM='$LOOM' RUN_DIR='$RUN_DIR' drops as r dhcp_server) -ge 1 ]"
cip=$(awk '{print $2}' "$T/lease.c" 2>/dev/null | tail -1)
check "c may use its leased address ($cip): it pings b" ip netns exec "$(ns c)" ping -c 2 -W 2 10.244.0.12
check "port list shows c's leased address" bash -c "
	'$LOOM' --run-dir '$RUN_DIR' port list as | grep -q 'port c: anti-spoofing (ebpf), mac .*addresses $cip'"
check "port list text names a's drops" bash -c "
	'$LOOM' --run-dir '$RUN_DIR' port list as | grep 'port a: anti-spoofing' | grep -q 'spoof_ip'"

# The built-in switch enforces the same policy.
sw='{"name":"sw","mode":"switch","subnet":"10.245.0.0/24","dhcp":{"enabled":false},"ports":[
 {"name":"s1","tap":"'$P's1","netns":"'$(ns s1)'","address":"10.245.0.11/24","antispoof":true},
 {"name":"s2","tap":"'$P's2","netns":"'$(ns s2)'","address":"10.245.0.12/24"}]}'
check "net.create: a switch network, s1 with antispoof: true" ctl net.create "$sw"
check "s1 pings s2 from its own address" ip netns exec "$(ns s1)" ping -c 2 -W 2 10.245.0.12
ip -n "$(ns s1)" addr add 10.245.0.99/24 dev "${P}s1"
check_not "a ping from a forged address does not reach s2" \
	ip netns exec "$(ns s1)" ping -c 2 -W 1 -I 10.245.0.99 10.245.0.12
check "the switch counted it (spoof_ip, path switch)" bash -c "
	[ \$($(declare -f ports_json drops); LOOM='$LOOM' RUN_DIR='$RUN_DIR' drops sw s1 spoof_ip) -ge 2 ] &&
	'$LOOM' --run-dir '$RUN_DIR' --json port list sw | grep -q '\"path\": *\"switch\"'"
check "... and in the switch's own drop counters" bash -c "
	'$LOOM' --run-dir '$RUN_DIR' --json port list sw | python3 -c '
import json, sys
p = {x[\"name\"]: x for x in json.load(sys.stdin)[\"ports\"]}
assert p[\"s1\"][\"counters\"][\"drops\"][\"spoof_ip\"] >= 2, p[\"s1\"]'"
check_not "an ARP with a forged sender IP from s1 gets no answer" \
	ip netns exec "$(ns s1)" arping -c 2 -w 3 -i "${P}s1" -S 10.245.0.98 10.245.0.12
check "s2 (anti-spoofing off) may send from any address" bash -c "
	ip -n $(ns s2) addr add 10.245.0.77/24 dev ${P}s2 &&
	ip netns exec $(ns s2) ping -c 1 -W 2 -I 10.245.0.77 10.245.0.11"

# kill -9: the filters go with the interfaces; the restart puts them back.
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
netd_start || exit 1
check "after kill -9 + restart a's filter is back" bash -c "tc filter show dev ${P}a ingress | grep -q bpf"
ip -n "$(ns a)" addr add 10.244.0.99/24 dev "${P}a"
ip netns exec "$(ns a)" ping -c 1 -W 2 10.244.0.12 >/dev/null 2>&1
check_not "and a forged address is dropped again" \
	ip netns exec "$(ns a)" ping -c 2 -W 1 -I 10.244.0.99 10.244.0.12
netd_stop
check "after SIGTERM the bridge is gone" bash -c "! ip link show $BR 2>/dev/null"
finish
