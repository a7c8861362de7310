#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture-bridge.sh - loom capture on a bridge network: kernel veth/TAP ports through libpcap, merged with switch ports in one pcapng.
#
# a and b are veths into namespaces (static addresses), c a veth whose
# namespace takes a DHCP lease from netd's gateway (a switch port reached
# through the switch link), tp a TAP on the bridge (netd holds its fd).
# A whole-network capture must show every port once (kernel ports a, b,
# c, tp and the switch's gateway; not the switch link nor the bridge
# device), a ping a -> b under kb:a in / kb:b out and the replies the
# other way, c's DHCP on kb:c and kb:gateway; a filter keeps exactly the
# matching frames; --direction in keeps inbound ones; a stalled reader
# loses frames (counted) while the network goes on; captures start and
# stop while a ping runs.
. "$(dirname "$0")/common.bash"
skip_unless_root
for tool in tshark capinfos bridge; do
	if ! command -v $tool >/dev/null; then
		echo "skipped: $tool is not installed (scripts/install-deps.sh)"
		exit 77
	fi
done

for x in a b c; do ns_add $x; done
# udhcpc's script writes /etc/resolv.conf: in netns c that is this file.
mkdir -p "/etc/netns/$(ns c)" 2>/dev/null && : >"/etc/netns/$(ns c)/resolv.conf"
trap 'rm -rf "/etc/netns/$(ns c)"; cleanup' EXIT
BR=lb$$
P=lm$$
netd_start || exit 1
export LOOM_RUN_DIR=$RUN_DIR

check "net.create kb (mode bridge, veth and TAP ports)" ctl net.create '{
 "name":"kb","mode":"bridge","bridge":"'$BR'","subnet":"10.239.0.0/24",
 "ports":[
 {"name":"a","type":"veth","tap":"'$P'a","netns":"'$(ns a)'","address":"10.239.0.11/24"},
 {"name":"b","type":"veth","tap":"'$P'b","netns":"'$(ns b)'","address":"10.239.0.12/24"},
 {"name":"c","type":"veth","tap":"'$P'c","netns":"'$(ns c)'"},
 {"name":"tp","tap":"'$P'p"}]}'
# Learn the MACs first: the ping below then floods nothing.
ip netns exec "$(ns a)" ping -c 1 -W 2 10.239.0.12 >/dev/null

. "$(dirname "$0")/capture_lib.bash"

# --- 1. one merged pcapng: kernel ports and the gateway, each once ----------
"$LOOM" capture kb -w "$T/all.pcapng" 2>"$T/all.err" &
CAP_ALL=$!
"$LOOM" capture kb:a,b -f 'icmp[icmptype] == icmp-echo' -w "$T/filtered.pcapng" \
	2>"$T/filtered.err" &
CAP_F=$!
"$LOOM" capture kb:a,b --direction in -w "$T/in.pcapng" 2>"$T/in.err" &
CAP_IN=$!
check "three captures of the bridge network run" wait_capture 3
ip -n "$(ns a)" neigh flush all # a asks for b's MAC again: ARP
ip netns exec "$(ns a)" ping -c 5 -i 0.2 -W 2 10.239.0.12 >/dev/null
HAVE_DHCP=0
if busybox udhcpc --help 2>&1 | grep -q Usage; then
	HAVE_DHCP=1
	check "udhcpc in netns c (veth on the bridge) gets a lease while captured" bash -c "
		LEASE_OUT=$T/lease.c ip netns exec $(ns c) busybox udhcpc -i ${P}c \
			-f -q -n -t 6 -T 1 -A 1 -s $ROOT/tests/netns/udhcpc.script \
			>/dev/null 2>&1 && grep -q '^bound 10.239.0.' $T/lease.c"
else
	fail "busybox udhcpc missing (scripts/install-deps.sh installs it)"
fi
sleep 0.3
kill -INT $CAP_ALL $CAP_F $CAP_IN
wait $CAP_ALL
check "loom capture exits 0 on Ctrl-C" test $? -eq 0
wait $CAP_F $CAP_IN
check "the summary counts the frames, none dropped" \
	grep -Eq '^[0-9]+ frames captured, 0 dropped .*; stopped' "$T/all.err"
check "tshark reads the file" tshark -r "$T/all.pcapng"
check "every port once: kb:a, kb:b, kb:c, kb:tp, kb:gateway, no switch link, no bridge" \
	bash -c "capinfos -I '$T/all.pcapng' | sed -n 's/^ *Name = //p' | sort |
		tr '\n' ' ' | grep -qx 'kb:a kb:b kb:c kb:gateway kb:tp '"
check "echo requests: kb:a inbound, kb:b outbound, 5 each" bash -c "
	cap_fields '$T/all.pcapng' | grep -c '^kb:a 1 8\$' | grep -qx 5 &&
	cap_fields '$T/all.pcapng' | grep -c '^kb:b 2 8\$' | grep -qx 5"
check "echo replies: kb:b inbound, kb:a outbound, 5 each" bash -c "
	cap_fields '$T/all.pcapng' | grep -c '^kb:b 1 0\$' | grep -qx 5 &&
	cap_fields '$T/all.pcapng' | grep -c '^kb:a 2 0\$' | grep -qx 5"
check "each echo frame appears exactly twice (once per port it crosses)" bash -c "
	[ \$(cap_fields '$T/all.pcapng' -Y icmp | wc -l) -eq 20 ]"
check "ARP: a's request kb:a in / kb:b out, b's reply kb:b in / kb:a out" bash -c "
	cap_fields '$T/all.pcapng' -Y 'arp.opcode == 1 && arp.src.proto_ipv4 == 10.239.0.11' >'$T/arpq'
	cap_fields '$T/all.pcapng' -Y 'arp.opcode == 2 && arp.src.proto_ipv4 == 10.239.0.12' >'$T/arpr'
	grep -q '^kb:a 1' '$T/arpq' && grep -q '^kb:b 2' '$T/arpq' &&
	grep -q '^kb:b 1' '$T/arpr' && grep -q '^kb:a 2' '$T/arpr'"
check "the TAP port sees the bridge's broadcasts (outbound)" bash -c "
	cap_fields '$T/all.pcapng' -Y 'eth.dst == ff:ff:ff:ff:ff:ff && frame.interface_name == \"kb:tp\"' |
		grep -q '^kb:tp 2' &&
	! cap_fields '$T/all.pcapng' -Y 'frame.interface_name == \"kb:tp\"' | grep -q '^kb:tp 1'"
check "the interface description names the veth, bridge and netns" bash -c \
	"tshark -r '$T/all.pcapng' -T fields -e frame.interface_description -Y 'frame.interface_name == \"kb:a\"' 2>/dev/null |
		grep -q 'veth ${P}a on bridge $BR, its peer in netns $(ns a)'"
if [ $HAVE_DHCP = 1 ]; then
	check_dhcp_seen "$T/all.pcapng" kb:c kb:gateway
fi
# The filter ran in the kernel on the veths: the same frames as the full
# capture filtered afterwards.
cap_fields "$T/all.pcapng" \
	-Y 'icmp.type == 8 && (frame.interface_name == "kb:a" || frame.interface_name == "kb:b")' |
	sort >"$T/expect"
cap_fields "$T/filtered.pcapng" | sort >"$T/got"
check "the filter keeps exactly the matching frames (10 echo requests)" bash -c \
	"[ \$(wc -l <'$T/got') -eq 10 ] && cmp '$T/expect' '$T/got'"
check "--direction in: only inbound frames, requests on kb:a, replies on kb:b" bash -c "
	! cap_fields '$T/in.pcapng' | grep -qv '^kb:[ab] 1' &&
	cap_fields '$T/in.pcapng' | grep -c '^kb:a 1 8\$' | grep -qx 5 &&
	cap_fields '$T/in.pcapng' | grep -c '^kb:b 1 0\$' | grep -qx 5"

# --- 2. live, summaries, list ------------------------------------------------
("$LOOM" capture kb:a -w - -q | tshark -l -n -r - 2>/dev/null >"$T/live.txt") &
LIVE=$!
wait_capture 1
ip netns exec "$(ns a)" ping -c 3 -i 0.3 -W 2 10.239.0.12 >/dev/null
sleep 0.5
check "-w - | tshark -r - prints kernel-port frames while the capture runs" bash -c \
	"[ \$(grep -c 'Echo (ping) request' '$T/live.txt') -eq 3 ] &&
	 [ \$(grep -c 'Echo (ping) reply' '$T/live.txt') -eq 3 ] && wait_capture 1"
check "loom capture list names the kernel port's interface" bash -c \
	"'$LOOM' --json capture list | python3 -c '
import json, sys
c = json.load(sys.stdin)[\"captures\"][0]
assert c[\"interfaces\"] == [\"kb:a\"], c
assert c[\"dropped\"] == 0 and c[\"captured\"] >= 6, c'"
pkill -INT -P $LIVE -x loom 2>/dev/null
wait $LIVE
"$LOOM" capture kb:b -c 4 icmp >"$T/lines.txt" 2>"$T/lines.err" &
CAP=$!
wait_capture 1
ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.239.0.12 >/dev/null
wait $CAP
check "one line per kernel-port frame, with port and direction" bash -c "
	grep -c ' kb:b out IP 10.239.0.11 > 10.239.0.12: ICMP echo request' '$T/lines.txt' | grep -qx 2 &&
	grep -c ' kb:b in  IP 10.239.0.12 > 10.239.0.11: ICMP echo reply' '$T/lines.txt' | grep -qx 2"

# --- 2b. a VM NIC's TAP (nic.open: what loom-vmm's tap and vhost-net NICs use)
PEER=$ROOT/build/tests/netns/nic_tap_peer
if [ -x "$PEER" ]; then
	"$PEER" "$SOCK" kb vm1 52:54:00:4c:5a:02 10.239.0.99 30 >"$T/vm1.out" 2>&1 &
	VM1=$!
	EXTRA_PIDS="$VM1"
	for _ in $(seq 50); do grep -q '^attached\|failed' "$T/vm1.out" && break; sleep 0.1; done
	check "a VM NIC's TAP joins the bridge network" grep -q '^attached tap' "$T/vm1.out"
	"$LOOM" capture kb -w "$T/vm.pcapng" 2>/dev/null &
	CAP=$!
	"$LOOM" capture kb:vm1 -w "$T/vm1.pcapng" 2>/dev/null &
	CAP1=$!
	wait_capture 2
	ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.239.0.99 >/dev/null
	sleep 0.3
	kill -INT $CAP $CAP1
	wait $CAP $CAP1
	check "the whole network includes the VM's TAP: requests kb:vm1 out, replies kb:vm1 in" bash -c "
		cap_fields '$T/vm.pcapng' | grep -c '^kb:vm1 2 8\$' | grep -qx 3 &&
		cap_fields '$T/vm.pcapng' | grep -c '^kb:vm1 1 0\$' | grep -qx 3 &&
		cap_fields '$T/vm.pcapng' | grep -c '^kb:a 1 8\$' | grep -qx 3"
	check "kb:vm1 by name: one interface, the VM NIC's TAP described" bash -c "
		[ \$(capinfos -I '$T/vm1.pcapng' | grep -c 'Name = ') -eq 1 ] &&
		tshark -r '$T/vm1.pcapng' -T fields -e frame.interface_description 2>/dev/null |
			grep -q 'VM NIC .* on TAP' &&
		[ \$(cap_fields '$T/vm1.pcapng' -Y icmp | grep -c '^kb:vm1') -eq 6 ]"
	kill $VM1 2>/dev/null
	wait $VM1 2>/dev/null
	EXTRA_PIDS=
else
	fail "$PEER not built (run make)"
fi

# --- 3. captures start and stop while traffic flows --------------------------
check_start_stop kb a 10.239.0.12 a

# --- 4. a stalled reader loses frames, counted; the network goes on ----------
mkfifo "$T/stall"
"$LOOM" capture kb:a,b -w "$T/stall" 2>"$T/stall.err" &
STALL=$!
exec 7<>"$T/stall" # holds the pipe open, reads nothing
wait_capture 1
ip netns exec "$(ns a)" ping -f -s 1400 -w 3 10.239.0.12 >"$T/flood.txt" 2>&1 &
FLOOD=$!
if [ $HAVE_DHCP = 1 ]; then
	ip netns exec "$(ns c)" ping -c 20 -i 0.1 -W 1 10.239.0.1 >"$T/cg.txt" 2>&1
	check "while a reader stalls, c pings the gateway losing nothing" \
		grep -q ' 0% packet loss' "$T/cg.txt"
fi
wait $FLOOD
check "loom capture list counts the dropped frames" bash -c \
	"'$LOOM' --json capture list | python3 -c '
import json, sys
c = json.load(sys.stdin)[\"captures\"][0]
assert c[\"dropped\"] > 0, c'"
check "the flood itself went through the bridge" \
	grep -Eq ' [0-9]+ received' "$T/flood.txt"
kill -INT $STALL
cat <&7 >/dev/null &
DRAIN=$!
wait $STALL
exec 7<&-
kill $DRAIN 2>/dev/null
wait $DRAIN 2>/dev/null
check "the end summary counts the dropped frames" \
	grep -Eq '^[0-9]+ frames captured, [1-9][0-9]* dropped' "$T/stall.err"

# --- 5. a port deleted under a capture, then the network ---------------------
"$LOOM" capture kb:a,b -w "$T/gone.pcapng" 2>"$T/gone.err" &
GONE=$!
wait_capture 1
check "port.del b while it is captured" ctl port.del '{"net":"kb","port":"b"}'
ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 1 10.239.0.12 >/dev/null 2>&1
check "the capture goes on" wait_capture 1
check "net.delete ends it" ctl net.delete '{"name":"kb"}'
wait $GONE
check "... with its summary, and the file is whole" bash -c \
	"cat '$T/gone.err'; grep -q 'network deleted' '$T/gone.err' && tshark -r '$T/gone.pcapng' >/dev/null"
check "no capture left" wait_capture 0
check "netd did not log an error" bash -c "! grep -E 'ERROR|error:' '$T/netd.log' | grep -iv 'no longer captured'"

netd_stop
finish
