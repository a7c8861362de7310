#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kernel-bridge.sh - namespace-to-namespace TCP on a loom bridge network (anti-spoofing on and off) vs a hand-made Linux bridge vs loom's built-in switch (on and off).
#
# Five pairs of namespaces, 10.241.0.1 -> 10.241.0.2, iperf3 TCP:
#   loom      a loom-netd `bridge` network, two `veth` ports (netd made the
#             bridge and the veths; the kernel moves the frames), with
#             anti-spoofing on (the default: the TC eBPF program)
#   loomoff   the same with `antispoof: false` on both ports
#   linux     a bridge and two veth pairs made by hand with ip(8)
#   switch    a loom-netd `switch` network, two TAP ports (frames through
#             netd's data-path thread), anti-spoofing off (its default)
#   switchas  the same with `antispoof: true` (checked in the switch)
# The runs alternate between them, RUNS times (default 5) of SECS
# seconds (default 3), so a change in the machine's load hits all alike.
# Prints "BENCH kbridge.<peer>.tcp <median> Gbit/s" and the ratios of
# loom's to linux's (the issue's goal: within 5 %), with and without
# anti-spoofing, and of the switch with it to without.
set -u
cd "$(dirname "$0")/../.." || exit 1
RUNS=${RUNS:-5}
SECS=${SECS:-3}
[ "$(id -u)" = 0 ] || { echo "skipped: needs root"; exit 77; }
for t in iperf3 ip python3; do
	command -v $t >/dev/null || { echo "skipped: $t missing"; exit 77; }
done
NETD=build/loom-netd
[ -x "$NETD" ] || { echo "build/loom-netd not built"; exit 1; }
T=$(mktemp -d /tmp/loom-kbr.XXXXXX)
PEERS="loom loomoff linux switch switchas"
P=kb$$
NETD_PID=
cleanup() {
	[ -n "$NETD_PID" ] && kill "$NETD_PID" 2>/dev/null && wait "$NETD_PID" 2>/dev/null
	for p in $PEERS; do
		for s in a b; do ip netns del "$P$p$s" 2>/dev/null; done
	done
	ip link del "${P}br" 2>/dev/null
	ip link del "${P}lb" 2>/dev/null
	ip link del "${P}lbo" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
for p in $PEERS; do
	for s in a b; do
		ip netns add "$P$p$s" && ip -n "$P$p$s" link set lo up
	done
done
ctl() { python3 tests/netns/loomctl.py "$T/run/netd.sock" "$@" >/dev/null; }
"$NETD" --run-dir "$T/run" --state-dir "$T/state" >"$T/netd.log" 2>&1 &
NETD_PID=$!
for _ in $(seq 100); do [ -S "$T/run/netd.sock" ] && break; sleep 0.05; done
ctl net.create '{"name":"kbl","mode":"bridge","bridge":"'$P'lb","ports":[
 {"name":"a","type":"veth","tap":"'$P'la","netns":"'$P'looma","address":"10.241.0.1/24"},
 {"name":"b","type":"veth","tap":"'$P'lb2","netns":"'$P'loomb","address":"10.241.0.2/24"}]}' ||
	{ echo "loom bridge set-up failed"; cat "$T/netd.log"; exit 1; }
ctl net.create '{"name":"kbo","mode":"bridge","bridge":"'$P'lbo","ports":[
 {"name":"a","type":"veth","tap":"'$P'na","netns":"'$P'loomoffa","address":"10.241.0.1/24","antispoof":false},
 {"name":"b","type":"veth","tap":"'$P'nb2","netns":"'$P'loomoffb","address":"10.241.0.2/24","antispoof":false}]}' ||
	{ echo "loom bridge (anti-spoofing off) set-up failed"; cat "$T/netd.log"; exit 1; }
ctl net.create '{"name":"kbs","mode":"switch","ports":[
 {"name":"a","tap":"'$P'sa","netns":"'$P'switcha","address":"10.241.0.1/24"},
 {"name":"b","tap":"'$P'sb","netns":"'$P'switchb","address":"10.241.0.2/24"}]}' ||
	{ echo "loom switch set-up failed"; exit 1; }
ctl net.create '{"name":"kbx","mode":"switch","ports":[
 {"name":"a","tap":"'$P'xa","netns":"'$P'switchasa","address":"10.241.0.1/24","antispoof":true},
 {"name":"b","tap":"'$P'xb","netns":"'$P'switchasb","address":"10.241.0.2/24","antispoof":true}]}' ||
	{ echo "loom switch (anti-spoofing on) set-up failed"; exit 1; }
ip link add "${P}br" type bridge
ip link set "${P}br" up
for s in a b; do
	ip link add "${P}h$s" type veth peer name eth0 netns "$P"linux$s
	ip link set "${P}h$s" master "${P}br" up
	ip -n "$P"linux$s link set eth0 up
done
ip -n "$P"linuxa addr add 10.241.0.1/24 dev eth0
ip -n "$P"linuxb addr add 10.241.0.2/24 dev eth0
sleep 1

run() { # run PEER: one iperf3 run, prints Gbit/s
	ip netns exec "$P${1}b" iperf3 -s -1 -D -p 5301 -I "$T/s.pid" >/dev/null 2>&1
	sleep 0.3
	ip netns exec "$P${1}a" timeout $((SECS + 10)) iperf3 -c 10.241.0.2 -p 5301 \
		-t "$SECS" -J >"$T/r.json" 2>/dev/null
	kill "$(cat "$T/s.pid" 2>/dev/null)" 2>/dev/null
	python3 -c 'import json,sys
try: print("%.2f" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("0")' "$T/r.json"
}
declare -A R
for i in $(seq "$RUNS"); do
	for p in $PEERS; do
		v=$(run $p)
		R[$p]="${R[$p]:-} $v"
		echo "run $i $p $v Gbit/s" >&2
	done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
declare -A M
for p in $PEERS; do
	M[$p]=$(echo "${R[$p]}" | median)
	echo "BENCH kbridge.$p.tcp ${M[$p]} Gbit/s"
done
ratio() { python3 -c 'import sys; a, b = float(sys.argv[2]), float(sys.argv[3]); print("BENCH kbridge.%s %.3f ratio" % (sys.argv[1], a / b if b else 0))' "$@"; }
ratio loom_vs_linux "${M[loom]}" "${M[linux]}"
ratio loomoff_vs_linux "${M[loomoff]}" "${M[linux]}"
ratio switch_antispoof_vs_off "${M[switchas]}" "${M[switch]}"
