#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vde-port.sh - a loom network plugged into a vde_switch by a port of type vde; it reconnects when the switch restarts.
#
# Namespace a: a loom TAP port. Namespace b: vde_plug2tap on a vde_switch,
# the VDE world's own tools. The loom network reaches the switch only
# through its `type: vde` port (backends/vde.c, libvdeplug's vde://).
. "$(dirname "$0")/common.bash"
skip_unless_root
for tool in vde_switch vde_plug2tap; do
	if ! command -v $tool >/dev/null; then
		echo "skipped: $tool is not installed (scripts/install-deps.sh: vde2)"
		exit 77
	fi
done

ns_add a
ns_add b
TA=lw$$a
TB=lw$$b
SW=$T/sw
SW_PID=
P2T_PID=

switch_start() {
	# The daemon writes its pid file itself: wait for the new one.
	rm -f "$T/sw.pid"
	(nofds vde_switch -s "$SW" -d -p "$T/sw.pid") >>"$T/sw.log" 2>&1 || return 1
	SW_PID=
	for _ in $(seq 50); do
		SW_PID=$(cat "$T/sw.pid" 2>/dev/null)
		[ -n "$SW_PID" ] && kill -0 "$SW_PID" 2>/dev/null && break
		SW_PID=
		sleep 0.05
	done
	[ -n "$SW_PID" ] || return 1
	nofds ip netns exec "$(ns b)" vde_plug2tap -s "$SW" "$TB" >>"$T/p2t.log" 2>&1 &
	P2T_PID=$!
	EXTRA_PIDS="$SW_PID $P2T_PID"
	for _ in $(seq 50); do
		ip -n "$(ns b)" link show "$TB" >/dev/null 2>&1 && break
		sleep 0.1
	done
	# The same host after a restart: the same MAC (a's ARP cache stays right).
	ip -n "$(ns b)" link set "$TB" address 02:00:0a:e9:00:0c
	ip -n "$(ns b)" addr add 10.233.0.12/24 dev "$TB" 2>/dev/null
	ip -n "$(ns b)" link set "$TB" up
}
switch_stop() {
	kill "$SW_PID" "$P2T_PID" 2>/dev/null
	wait "$P2T_PID" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$SW_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$SW_PID" 2>/dev/null
	EXTRA_PIDS=
}
# port_field PORT FIELD: a field of PORT in port.list of lab
port_field() {
	ctl port.list '{"net":"lab"}' | python3 -c '
import json, sys
for p in json.load(sys.stdin)["result"]["ports"]:
    if p["name"] == sys.argv[1]:
        print(p.get(sys.argv[2], ""))
' "$1" "$2"
}
wait_state() { # wait_state PORT STATE SECONDS
	for _ in $(seq $(($3 * 10))); do
		[ "$(port_field "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	echo "port $1 is $(port_field "$1" state): $(port_field "$1" error)"
	return 1
}

switch_start || { echo "FAIL: vde_switch did not start"; cat "$T/sw.log"; exit 1; }
netd_start || exit 1
export LOOM_RUN_DIR=$RUN_DIR

# The network file declares both ports (docs/network-file.md).
cat >"$T/lab.yaml" <<EOF
name: lab
mode: switch
subnet: 10.233.0.0/24
ports:
  - tap: $TA
    netns: $(ns a)
    address: 10.233.0.11/24
  - name: uplink
    type: vde
    url: vde://$SW
EOF
check "loom net apply with a port of type vde" "$LOOM" net apply "$T/lab.yaml"
check "the vde port is up" wait_state uplink up 5
check "port list shows its backend and URL" bash -c \
	"'$LOOM' port list lab | grep uplink | grep -q 'vde://$SW'"
check "ping a (loom) -> b (vde_switch)" \
	ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.233.0.12
check "ping b -> a" ip netns exec "$(ns b)" ping -c 3 -i 0.2 -W 2 10.233.0.11
check "the VDE side gets a lease from netd's DHCP across the vde port" bash -c "
	timeout 30 ip netns exec '$(ns b)' busybox udhcpc -i '$TB' -f -q -n \
		-t 5 -T 2 -s /bin/true 2>&1 | grep -q 'lease of 10.233.0.[0-9]* obtained from 10.233.0.1'"
check "a 1400-byte ping crosses" \
	ip netns exec "$(ns b)" ping -c 2 -i 0.2 -W 2 -s 1400 10.233.0.11
check "the vde port counted the frames" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"lab\"}' | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)[\"result\"][\"ports\"] if p[\"name\"] == \"uplink\"][0]
assert p[\"backend\"] == \"vde\", p
assert p[\"counters\"][\"rx_frames\"] >= 8 and p[\"counters\"][\"tx_frames\"] >= 8, p
'"

switch_stop
check "switch gone: the vde port goes down, saying why" bash -c "
	$(declare -f ctl port_field wait_state); CTL=$CTL SOCK=$SOCK
	wait_state uplink down 5 && port_field uplink error | grep -q 'connect'"
check_not "no ping while the switch is away" \
	ip netns exec "$(ns a)" ping -c 1 -W 1 10.233.0.12
sleep 1.5 # a few failed reconnects: the back-off grows
switch_start || fail "vde_switch restarts"
check "switch back: the port reconnects by itself" wait_state uplink up 10
check "ping a -> b again" \
	ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.233.0.12
check "netd logged the reconnection" grep -q "uplink: reconnected" "$T/netd.log"

# Declared state: kill -9, restart, the port comes back and reconnects.
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
netd_start || exit 1
check "after kill -9 and restart the vde port is back up" wait_state uplink up 10
check "ping a -> b after the restart" \
	ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.233.0.12

# loom port add --vde; errors.
check "loom port add --vde to a switch not there yet: added, down" bash -c "
	'$LOOM' port add lab --vde 'vde://$T/nosw' --name later &&
	$(declare -f ctl port_field wait_state); CTL=$CTL SOCK=$SOCK
	wait_state later down 3"
check "an unknown URL scheme is refused, naming the plugin search" bash -c "
	! '$LOOM' port add lab --vde 'nosuchscheme://x' --name bad 2>'$T/bad.err' &&
	grep -q 'no plugin' '$T/bad.err'"
check "--vde without --name is a usage error" bash -c "
	'$LOOM' port add lab --vde 'vde://$SW' >/dev/null 2>&1; test \$? -eq 2"
check "a TAP port with a url is refused" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	! ctl port.add '{\"net\":\"lab\",\"tap\":\"x$$\",\"url\":\"vde://$SW\"}' >/dev/null"
check "port del removes the vde port" bash -c "
	'$LOOM' port del lab uplink && ! '$LOOM' port list lab | grep -q uplink"

netd_stop
switch_stop
check "no vde_switch of this test is left running" \
	bash -c "! pgrep -f '[v]de_switch -s $SW' >/dev/null"
finish
