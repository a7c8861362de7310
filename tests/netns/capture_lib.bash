# SPDX-License-Identifier: MIT
# capture_lib.bash - what the capture tests share: tshark fields, waiting for captures, DHCP counts, start/stop under traffic.
#
# Sourced by tests/netns/capture*.sh after common.bash.

# cap_fields FILE [TSHARK ARGS]: "interface direction icmp-type" per
# frame (direction 1 in, 2 out).
cap_fields() {
	tshark -n -r "$1" -T fields -E separator=' ' -e frame.interface_name \
		-e frame.packet_flags_direction -e icmp.type "${@:2}" 2>/dev/null |
		sed -E 's/ 0x0000000([0-3])/ \1/'
}

# wait_capture N: until N captures run (loom capture list).
wait_capture() {
	for _ in $(seq 100); do
		[ "$("$LOOM" --json capture list 2>/dev/null | python3 -c \
			'import json,sys; print(len(json.load(sys.stdin)["captures"]))')" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# cap_dhcp FILE IFACE DIR TYPE: how many DHCP messages of TYPE (1
# discover, 2 offer, 3 request, 5 ack) IFACE saw in direction DIR.
cap_dhcp() {
	tshark -n -r "$1" -T fields -e frame.packet_flags_direction \
		-Y "dhcp.option.dhcp == $4 && frame.interface_name == \"$2\"" 2>/dev/null |
		sed -E 's/0x0000000//' | grep -c "^$3\$"
}

# check_dhcp_seen FILE CLIENT GATEWAY: the client's discover and request
# inbound on CLIENT and outbound on GATEWAY, the offer and ack the other way.
check_dhcp_seen() {
	check "DHCP discover and request: $2 inbound, $3 outbound" bash -c "
		[ \$(cap_dhcp '$1' $2 1 1) -ge 1 ] && [ \$(cap_dhcp '$1' $3 2 1) -ge 1 ] &&
		[ \$(cap_dhcp '$1' $2 1 3) -ge 1 ] && [ \$(cap_dhcp '$1' $3 2 3) -ge 1 ]"
	check "DHCP offer and ack: $3 inbound, $2 outbound" bash -c "
		[ \$(cap_dhcp '$1' $3 1 2) -ge 1 ] && [ \$(cap_dhcp '$1' $2 2 2) -ge 1 ] &&
		[ \$(cap_dhcp '$1' $3 1 5) -ge 1 ] && [ \$(cap_dhcp '$1' $2 2 5) -ge 1 ]"
}

# check_start_stop NET NS DST PORT: five whole-network captures started
# and stopped while NS pings DST at 20/s; each file must hold echo
# requests inbound on NET:PORT, and the ping must lose nothing.
check_start_stop() {
	local net=$1 k ss steady
	rm -f "$T/ss.err"
	ip netns exec "$(ns "$2")" ping -i 0.05 -W 1 "$3" >"$T/steady.txt" 2>&1 &
	steady=$!
	for k in 1 2 3 4 5; do
		"$LOOM" capture "$net" -q -w "$T/ss$k.pcapng" 2>/dev/null &
		ss=$!
		wait_capture 1
		sleep 0.3
		kill -INT $ss
		wait $ss || echo "capture $k: exit $?" >>"$T/ss.err"
	done
	# The ping runs until the last capture ended, and at least 2.5 s more
	# (on an idle machine the five captures take under a second: the
	# count below wants 40 echoes); an echo in flight at the interrupt
	# may go unanswered.
	sleep 2.5
	kill -INT $steady
	wait $steady
	check "five captures started and stopped during a ping: each whole, with its frames" bash -c '
		[ ! -s "$T/ss.err" ] || { cat "$T/ss.err"; exit 1; }
		for k in 1 2 3 4 5; do
			n=$(cap_fields "$T/ss$k.pcapng" -Y "icmp.type == 8" | grep -c "^'"$net:$4"' 1 8")
			[ "$n" -ge 2 ] || { echo "ss$k: $n requests"; cap_fields "$T/ss$k.pcapng"; exit 1; }
		done'
	check "... and the ping lost nothing" python3 -c "
import re
t = open('$T/steady.txt').read()
m = re.search(r'(\d+) packets transmitted, (\d+) received', t)
assert m and int(m[1]) >= 40 and int(m[1]) - int(m[2]) <= 1, t"
}

export -f cap_fields wait_capture cap_dhcp
export LOOM T
