#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-isolated.sh - mode isolated refuses a TAP to the host where mode switch takes it; a declared loopback port carries frames end to end.
#
# 1. The same network, once as mode switch, once as mode isolated, with a
#    TAP left in netd's own namespace: switch creates it, isolated refuses
#    it naming the rule (and leaves no TAP behind); port.add the same.
# 2. An isolated network of namespaced TAPs still switches: a <-> b ping.
# 3. A port of type loopback (backends/loopback.c, built through the
#    registry from its declaration) next to namespace c's TAP: c's ARP
#    requests for a missing host go into the hairpin and come back out of
#    c's TAP (counters and tcpdump in c), and the port survives a restart.
. "$(dirname "$0")/common.bash"
skip_unless_root

for n in a b c; do ns_add $n; done
netd_start || exit 1

host_tap=lm$$ih
has_text() { [[ "$1" == *"$2"* ]]; } # has_text TEXT PART
# ctl_msg CMD ARGS: "CODE: message" of an error reply ("ok" if none).
ctl_msg() {
	python3 "$CTL" "$SOCK" "$@" | python3 -c \
		'import json,sys; r=json.load(sys.stdin); print("ok" if r["ok"] else r["error"]["code"] + ": " + r["error"]["message"])'
}

# --- 1. switch takes a TAP to the host, isolated does not ---
net_sw='{"name":"sw","mode":"switch","ports":[{"name":"h","tap":"'$host_tap'"}]}'
check "mode switch: a TAP in netd's namespace is created" ctl net.create "$net_sw"
check "mode switch: the TAP exists in the host" ip link show "$host_tap"
check "net.delete sw" ctl net.delete '{"name":"sw"}'
check_not "the TAP is gone with its network" ip link show "$host_tap"

net_iso='{"name":"iso","mode":"isolated","ports":[{"name":"h","tap":"'$host_tap'"}]}'
msg=$(ctl_msg net.create "$net_iso")
check "mode isolated: the same network is refused with EINVAL" \
	has_text "$msg" "EINVAL: "
check "the error names the port, the mode and the rule" has_text "$msg" \
	"ports[0] (h): mode isolated: TAP '$host_tap' must be in a namespace (netns:)"
check_not "no TAP was left in the host" ip link show "$host_tap"
check "the refused network does not exist" \
	bash -c "[ \"\$(python3 '$CTL' '$SOCK' net.list | python3 -c 'import json,sys; print(len([n for n in json.load(sys.stdin)[\"result\"][\"networks\"] if n[\"name\"] == \"iso\"]))')\" = 0 ]"

# --- 2. an isolated network of namespaces switches as usual ---
net_ab='{"name":"iso","mode":"isolated","subnet":"10.233.0.0/24","ports":[
 {"name":"a","tap":"lm'$$'ia","netns":"'$(ns a)'","address":"10.233.0.11/24"},
 {"name":"b","tap":"lm'$$'ib","netns":"'$(ns b)'","address":"10.233.0.12/24"}]}'
check "mode isolated: namespaced TAPs are taken" ctl net.create "$net_ab"
check "isolated: a -> b ping" ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.233.0.12
msg=$(ctl_msg port.add '{"net":"iso","name":"h","tap":"'$host_tap'"}')
check "isolated: port.add of a TAP to the host is refused naming the rule" \
	has_text "$msg" "EINVAL: mode isolated: TAP '$host_tap' must be in a namespace"
check_not "no TAP was left in the host after port.add" ip link show "$host_tap"
check "isolated: port.add of a namespaced TAP works" \
	ctl port.add '{"net":"iso","name":"c0","tap":"lm'$$'ic","netns":"'$(ns c)'"}'
check "port.del c0" ctl port.del '{"net":"iso","port":"c0"}'

# --- 3. a declared loopback port, end to end through netd ---
net_lo='{"name":"hair","mode":"isolated","subnet":"10.234.0.0/24","ports":[
 {"name":"c","tap":"lm'$$'lc","netns":"'$(ns c)'","address":"10.234.0.11/24"},
 {"name":"loop","type":"loopback"}]}'
check "net.create with a port of type loopback" ctl net.create "$net_lo"
check_not "a loopback port with a tap field is refused" \
	ctl port.add '{"net":"hair","name":"l2","type":"loopback","tap":"x"}'
msg=$(ctl_msg port.add '{"net":"hair","name":"l3","type":"shm"}')
check "a port of type shm cannot be declared (names the declarable types)" \
	has_text "$msg" "cannot be declared with type 'shm' (types a port can be declared with: loopback, macvtap, tap, vde, vhost-user)"
msg=$(ctl_msg port.add '{"net":"hair","name":"l4","type":"nope"}')
check "an unknown port type is refused" has_text "$msg" "unknown type 'nope'"

ip netns exec "$(ns c)" tcpdump -l -n -e -i "lm$$lc" -c 20 arp \
	>"$T/c.txt" 2>"$T/tcpdump.err" &
EXTRA_PIDS=$!
sleep 1
# Nobody has .99: c's ARP requests only ever meet the hairpin.
ip netns exec "$(ns c)" ping -c 3 -i 0.3 -W 1 10.234.0.99 >/dev/null 2>&1
sleep 0.5
kill "$EXTRA_PIDS" 2>/dev/null
wait "$EXTRA_PIDS" 2>/dev/null
EXTRA_PIDS=
counters() {
	ctl port.list '{"net":"hair"}' | python3 -c '
import json, sys
ports = {p["name"]: p for p in json.load(sys.stdin)["result"]["ports"]}
lo, c = ports["loop"], ports["c"]
assert lo["backend"] == "loopback" and lo["state"] == "up", lo
assert lo["counters"]["tx_frames"] >= 2, lo      # the switch sent it the ARPs
assert lo["counters"]["rx_frames"] == lo["counters"]["tx_frames"], lo
assert c["counters"]["tx_frames"] >= 2, c        # and they came back out to c
print("loop", lo["counters"]["tx_frames"], "c", c["counters"]["tx_frames"])
'
}
check "the loopback port sent every frame back; c's TAP got them" counters
# Each request is seen twice in c: going out, and coming back in.
check "c sees its own ARP requests come back (tcpdump)" bash -c "
	[ \$(grep -c 'who-has 10.234.0.99 tell 10.234.0.11' '$T/c.txt') -ge 4 ]"

netd_stop
netd_start || exit 1
check "after a restart the loopback port is declared and up again" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"hair\"}' | python3 -c '
import json, sys
ports = {p[\"name\"]: p for p in json.load(sys.stdin)[\"result\"][\"ports\"]}
assert ports[\"loop\"][\"type\"] == \"loopback\", ports
assert ports[\"loop\"][\"state\"] == \"up\", ports
assert \"tap\" not in ports[\"loop\"], ports
'"
netd_stop
finish
