#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture.sh - loom capture on real TAPs: pcapng read by tshark, interface names, directions, filters, live pipe, a stalled reader.
. "$(dirname "$0")/common.bash"
skip_unless_root
for tool in tshark capinfos; do
	if ! command -v $tool >/dev/null; then
		echo "skipped: $tool is not installed (scripts/install-deps.sh)"
		exit 77
	fi
done

for x in a b c d e; do ns_add $x; done
# udhcpc's script writes /etc/resolv.conf: in netns e that is this file.
mkdir -p "/etc/netns/$(ns e)" 2>/dev/null && : >"/etc/netns/$(ns e)/resolv.conf"
trap 'rm -rf "/etc/netns/$(ns e)"; cleanup' EXIT
netd_start || exit 1
export LOOM_RUN_DIR=$RUN_DIR

check "net.create lab" ctl net.create \
	'{"name":"lab","mode":"switch","subnet":"10.232.0.0/24"}'
i=11
for x in a b c d; do
	check "port $x in netns $x" ctl port.add \
		"{\"net\":\"lab\",\"name\":\"$x\",\"tap\":\"lm$$$x\",\"netns\":\"$(ns $x)\",\"address\":\"10.232.0.$i/24\"}"
	i=$((i + 1))
done
# e has no address: it takes a lease from netd's gateway while captured.
check "port e in netns e (DHCP)" ctl port.add \
	"{\"net\":\"lab\",\"name\":\"e\",\"tap\":\"lm$$e\",\"netns\":\"$(ns e)\"}"
# Learn every MAC first, so a ping floods nothing to the other ports.
for ip in 12 13 14; do
	ip netns exec "$(ns a)" ping -c 1 -W 2 10.232.0.$ip >/dev/null
done

. "$(dirname "$0")/capture_lib.bash"

# --- 1. pcapng of a ping, read by tshark -------------------------------------
"$LOOM" capture lab -w "$T/all.pcapng" 2>"$T/all.err" &
CAP_ALL=$!
"$LOOM" capture lab:a,b -f 'icmp[icmptype] == icmp-echo' \
	-w "$T/filtered.pcapng" 2>"$T/filtered.err" &
CAP_F=$!
check "two captures run at once" wait_capture 2
check "loom capture list shows both, with their filter" bash -c \
	"'$LOOM' capture list | grep -q 'icmp\[icmptype\] == icmp-echo' &&
	 '$LOOM' capture list | grep -Eq '^[0-9]+ +lab +all '"
ip netns exec "$(ns a)" ping -c 5 -i 0.2 -W 2 10.232.0.12 >/dev/null
HAVE_DHCP=0
if busybox udhcpc --help 2>&1 | grep -q Usage; then
	HAVE_DHCP=1
	check "udhcpc in netns e gets a lease from netd while captured" bash -c "
		LEASE_OUT=$T/lease.e ip netns exec $(ns e) busybox udhcpc -i lm$$e \
			-f -q -n -t 6 -T 1 -A 1 -s $ROOT/tests/netns/udhcpc.script \
			>/dev/null 2>&1 && grep -q '^bound 10.232.0.' $T/lease.e"
	# With its lease, e asks for the gateway's MAC.
	ip netns exec "$(ns e)" ping -c 1 -W 2 10.232.0.1 >/dev/null
else
	fail "busybox udhcpc missing (scripts/install-deps.sh installs it)"
fi
sleep 0.3
kill -INT $CAP_ALL $CAP_F
wait $CAP_ALL
check "loom capture exits 0 on Ctrl-C" test $? -eq 0
wait $CAP_F
check "the summary counts the frames" \
	grep -Eq '^[0-9]+ frames captured, 0 dropped .*; stopped' "$T/all.err"
check "tshark reads the file" tshark -r "$T/all.pcapng"
check "one interface per port, named NET:PORT" bash -c \
	"capinfos -I '$T/all.pcapng' | grep -c 'Name = lab:[abcd]\$' | grep -qx 4"
check "echo requests: lab:a inbound, lab:b outbound, 5 each" bash -c "
	cap_fields '$T/all.pcapng' | grep -c '^lab:a 1 8\$' | grep -qx 5 &&
	cap_fields '$T/all.pcapng' | grep -c '^lab:b 2 8\$' | grep -qx 5"
check "echo replies: lab:b inbound, lab:a outbound, 5 each" bash -c "
	cap_fields '$T/all.pcapng' | grep -c '^lab:b 1 0\$' | grep -qx 5 &&
	cap_fields '$T/all.pcapng' | grep -c '^lab:a 2 0\$' | grep -qx 5"
if [ $HAVE_DHCP = 1 ]; then
	check_dhcp_seen "$T/all.pcapng" lab:e lab:gateway
	check "e's ARP for the gateway: lab:e inbound, lab:gateway outbound" bash -c "
		cap_fields '$T/all.pcapng' -Y 'arp.opcode == 1 && arp.dst.proto_ipv4 == 10.232.0.1' >'$T/arpe'
		grep -q '^lab:e 1' '$T/arpe' && grep -q '^lab:gateway 2' '$T/arpe'"
fi
check "no echo on ports c and d (unicast is not flooded)" bash -c "
	! cap_fields '$T/all.pcapng' | grep -Eq '^lab:[cd] [12] (0|8)\$'"
check "the interface description names the TAP and namespace" bash -c \
	"tshark -r '$T/all.pcapng' -T fields -e frame.interface_description -Y 'frame.interface_name == \"lab:a\"' 2>/dev/null | grep -q 'TAP lm$$a in netns $(ns a)'"
# The filter kept exactly the echo requests of a and b: the same frames,
# in the same order, as the full capture filtered afterwards.
cap_fields "$T/all.pcapng" \
	-Y 'icmp.type == 8 && (frame.interface_name == "lab:a" || frame.interface_name == "lab:b")' |
	sort >"$T/expect"
cap_fields "$T/filtered.pcapng" | sort >"$T/got"
check "the filter keeps exactly the matching frames (10 echo requests)" bash -c \
	"[ \$(wc -l <'$T/got') -eq 10 ] && cmp '$T/expect' '$T/got'"
check "filtered frames are counted as such" \
	grep -Eq '^10 frames captured, 0 dropped .*, [1-9][0-9]* filtered out' "$T/filtered.err"

# --- 2. bad requests fail before anything starts -----------------------------
check_not "a bad filter is refused" "$LOOM" capture lab -f 'tcp port' -w "$T/x.pcapng"
check "... naming libpcap's complaint" bash -c \
	"'$LOOM' capture lab 'ip proto nosuch' -c 1 2>&1 | grep -q 'filter .ip proto nosuch.:.*'"
check_not "an unknown port is refused" "$LOOM" capture lab:a,zz -c 1
check "... naming it" bash -c "'$LOOM' capture lab:zz -c 1 2>&1 | grep -q \"no port 'zz'\""
check_not "an unknown network is refused" "$LOOM" capture nonet -c 1
check_not "-w - to a terminal is refused" script -qec "'$LOOM' capture lab -w - -c 1" /dev/null
check "no capture was left running" wait_capture 0

# --- 3. live: -w - | tshark -r - prints frames as they happen ----------------
("$LOOM" capture lab:a -w - -q | tshark -l -n -r - 2>/dev/null >"$T/live.txt") &
LIVE=$!
wait_capture 1
ip netns exec "$(ns a)" ping -c 3 -i 0.3 -W 2 10.232.0.12 >/dev/null
sleep 0.5
check "tshark -r - printed the frames while the capture runs" bash -c \
	"[ \$(grep -c 'Echo (ping) request' '$T/live.txt') -eq 3 ] &&
	 [ \$(grep -c 'Echo (ping) reply' '$T/live.txt') -eq 3 ] && wait_capture 1"
pkill -INT -P $LIVE -x loom 2>/dev/null || kill -INT $(pgrep -P $LIVE -x loom)
wait $LIVE
check "the live capture ended" wait_capture 0

# --- 4. summaries and --json -------------------------------------------------
"$LOOM" capture lab:b -c 4 icmp >"$T/lines.txt" 2>"$T/lines.err" &
CAP=$!
wait_capture 1
ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.232.0.12 >/dev/null
wait $CAP
check "-c 4 ends by itself" grep -q 'count reached' "$T/lines.err"
check "one tcpdump-like line per frame, with port and direction" bash -c "
	grep -c ' lab:b out IP 10.232.0.11 > 10.232.0.12: ICMP echo request' '$T/lines.txt' | grep -qx 2 &&
	grep -c ' lab:b in  IP 10.232.0.12 > 10.232.0.11: ICMP echo reply' '$T/lines.txt' | grep -qx 2"
"$LOOM" capture lab:a --json -c 2 --direction in icmp >"$T/lines.json" 2>/dev/null &
CAP=$!
wait_capture 1
ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.232.0.12 >/dev/null
wait $CAP
check "--json: one object per frame, then the end event" python3 -c "
import json, sys
rows = [json.loads(l) for l in open('$T/lines.json')]
assert len(rows) == 3, rows
for r in rows[:2]:
    assert r['interface'] == 'lab:a' and r['direction'] == 'in', r
    assert r['proto'] == 'ICMP' and r['src'] == '10.232.0.11', r
assert rows[2]['event'] == 'capture.end' and rows[2]['captured'] == 2, rows[2]
"

# --- 5. a stalled reader loses frames, counted; the network goes on ----------
# Capture a and b, whose flood fills the ring, into a pipe nobody reads for
# a while; meanwhile c pings d and must lose nothing.
mkfifo "$T/stall"
"$LOOM" capture lab:a,b -w "$T/stall" 2>"$T/stall.err" &
STALL=$!
exec 7<>"$T/stall" # holds the pipe open, reads nothing
wait_capture 1
ip netns exec "$(ns a)" ping -f -s 1400 -w 3 10.232.0.12 >"$T/flood.txt" 2>&1 &
FLOOD=$!
ip netns exec "$(ns c)" ping -c 20 -i 0.1 -W 1 10.232.0.14 >"$T/cd.txt" 2>&1
CD=$?
check "while a reader stalls, loom capture list shows dropped frames" \
	"$LOOM" --json capture list
python3 -c "
import json, sys
c = json.load(open('$T/check.out'))['captures'][0]
sys.exit(0 if c['dropped'] > 0 else 1)" &&
	pass "... the dropped count grows" || fail "... the dropped count grows"
wait $FLOOD
check "the ping between two other ports lost nothing" bash -c \
	"[ $CD -eq 0 ] && grep -q ' 0% packet loss' '$T/cd.txt'"
# Its rate: 20 echoes 0.1 s apart, none waiting on the stalled capture
# (a data path blocked by the reader would hold replies for seconds).
check "... and kept its rate: every reply within 500 ms" python3 -c "
import re, sys
rtt = [float(x) for x in re.findall(r'time=([0-9.]+) ms', open('$T/cd.txt').read())]
assert len(rtt) == 20 and max(rtt) < 500, rtt"
kill -INT $STALL
cat <&7 >/dev/null &
DRAIN=$!
wait $STALL
exec 7<&-
kill $DRAIN 2>/dev/null
wait $DRAIN 2>/dev/null
check "the end summary counts the dropped frames" \
	grep -Eq '^[0-9]+ frames captured, [1-9][0-9]* dropped' "$T/stall.err"

# --- 5b. captures start and stop while traffic flows -------------------------
check_start_stop lab c 10.232.0.14 c

# --- 6. rotation: whole pcapng files of a bounded size, a bounded number -----
"$LOOM" capture lab:a,b -q -w "$T/rot.pcapng" --rotate-size 1 --rotate-files 3 2>"$T/rot.err" &
ROT=$!
wait_capture 1
ip netns exec "$(ns a)" ping -f -s 1400 -c 2000 -W 1 10.232.0.12 >/dev/null 2>&1
kill -INT $ROT
wait $ROT
check "rotation: exactly 3 files" bash -c \
	"[ \$(ls '$T' | grep -c '^rot.pcapng\.') -eq 3 ] && [ -s '$T/rot.pcapng.2' ]"
check "rotation: each about 1 MiB, each a pcapng with both ports" bash -c '
	for f in "$T"/rot.pcapng.[012]; do
		[ $(stat -c %s "$f") -le $((1048576 + 2048)) ] || exit 1
		tshark -r "$f" >/dev/null 2>&1 || exit 1
		[ $(capinfos -I "$f" | grep -c "Name = lab:[ab]\$") -eq 2 ] || exit 1
	done'

# --- 7. the limit, and the network going away -------------------------------
PIDS=()
for n in $(seq 8); do
	"$LOOM" capture lab -q -w /dev/null 2>/dev/null &
	PIDS+=($!)
done
wait_capture 8
check "a 9th capture on one network is refused (ENOSPC)" bash -c \
	"'$LOOM' capture lab -w /dev/null 2>&1 | grep -q ENOSPC"
check "net.delete ends its captures" ctl net.delete '{"name":"lab"}'
for p in "${PIDS[@]}"; do wait "$p"; done
check "no capture left" wait_capture 0

netd_stop
finish
