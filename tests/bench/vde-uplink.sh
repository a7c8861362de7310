#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vde-uplink.sh - TCP through a loom network's vde port into a vde_switch vs through two vde_switches joined by vde_plug.
#
#   loom:  ns A -- loom TAP port -- loom-netd -- vde port -- vde_switch S2 -- vde_plug2tap -- ns B
#   vde:   ns A -- vde_plug2tap -- vde_switch S1 -- vde_plug -- vde_switch S2 -- vde_plug2tap -- ns B
# The same far half (S2 and its vde_plug2tap); what differs is how the
# near network reaches it: loom's vde port (backends/vde.c) or a VDE
# switch and a vde_plug. iperf3, one TCP stream A -> B, $SECS s, $RUNS
# rounds alternating the two; prints the medians:
#   BENCH vde.uplink.loom.tcp N Gbit/s, BENCH vde.uplink.vde.tcp N Gbit/s,
#   BENCH vde.uplink.ratio.loom_vs_vde N x
# Environment: RUNS (3), SECS (3), NETD (build/loom-netd).
. "$(dirname "$0")/../netns/common.bash"
RUNS=${RUNS:-3}
SECS=${SECS:-3}
skip_unless_root
for tool in vde_switch vde_plug2tap vde_plug iperf3; do
	command -v $tool >/dev/null || { echo "skipped: $tool is not installed"; exit 77; }
done

PIDS=()
bg() { nofds "$@" >>"$T/bg.log" 2>&1 & PIDS+=($!); EXTRA_PIDS="${PIDS[*]}"; }
# vde_switch -d: started with no inherited fds, its pid from its own file.
sw_start() { # sw_start DIR
	rm -f "$1.pid"
	(nofds vde_switch -s "$1" -d -p "$1.pid") || return 1
	for _ in $(seq 50); do
		[ -s "$1.pid" ] && kill -0 "$(cat "$1.pid")" 2>/dev/null && break
		sleep 0.05
	done
	PIDS+=("$(cat "$1.pid")")
	EXTRA_PIDS="${PIDS[*]}"
}
wait_link() { # wait_link NS DEV
	for _ in $(seq 50); do
		ip -n "$1" link show "$2" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
addr_up() { ip -n "$1" addr add "$3" dev "$2"; ip -n "$1" link set "$2" up; }

# Both far halves: S2 with vde_plug2tap in B.
for p in loom vde; do
	ns_add "${p}a"
	ns_add "${p}b"
	sw_start "$T/$p-s2" || exit 1
	bg ip netns exec "$(ns ${p}b)" vde_plug2tap -s "$T/$p-s2" vb$$
	wait_link "$(ns ${p}b)" vb$$ && addr_up "$(ns ${p}b)" vb$$ 10.241.0.2/24
done
# loom: netd network with a TAP in A and a vde port to S2.
netd_start || exit 1
ctl net.create '{"name":"up","mode":"switch"}' >/dev/null
ctl port.add "{\"net\":\"up\",\"tap\":\"va$$\",\"netns\":\"$(ns looma)\",\"address\":\"10.241.0.1/24\"}" >/dev/null ||
	{ echo "FAIL: loom TAP port"; exit 1; }
ctl port.add "{\"net\":\"up\",\"name\":\"uplink\",\"type\":\"vde\",\"url\":\"vde://$T/loom-s2\"}" >/dev/null ||
	{ echo "FAIL: loom vde port"; exit 1; }
# vde: S1 with vde_plug2tap in A, joined to S2 by vde_plug.
sw_start "$T/vde-s1" || exit 1
bg ip netns exec "$(ns vdea)" vde_plug2tap -s "$T/vde-s1" va$$
wait_link "$(ns vdea)" va$$ && addr_up "$(ns vdea)" va$$ 10.241.0.1/24
bg vde_plug "vde://$T/vde-s1" "vde://$T/vde-s2"

for p in loom vde; do
	if ! ip netns exec "$(ns ${p}a)" ping -c 2 -W 3 10.241.0.2 >/dev/null; then
		echo "FAIL: $p: no connectivity"
		exit 1
	fi
	(nofds ip netns exec "$(ns ${p}b)" iperf3 -s -D -p 5301 -I "$T/$p-iperf.pid") >/dev/null 2>&1
done
sleep 0.3

declare -A R
for round in $(seq "$RUNS"); do
	for p in loom vde; do
		g=$(ip netns exec "$(ns ${p}a)" timeout $((SECS + 10)) iperf3 -c 10.241.0.2 \
			-p 5301 -t "$SECS" -J 2>/dev/null | python3 -c '
import json, sys
try:
    print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("nan")')
		echo "round $round: $p $g Gbit/s" >&2
		R[$p]="${R[$p]:-} $g"
	done
done
med() { python3 -c 'import sys,statistics; v=[float(x) for x in sys.argv[1:] if x!="nan"]; print("%.3f" % statistics.median(v) if v else "nan")' "$@"; }
L=$(med ${R[loom]})
V=$(med ${R[vde]})
echo "BENCH vde.uplink.loom.tcp $L Gbit/s"
echo "BENCH vde.uplink.vde.tcp $V Gbit/s"
python3 -c "import sys; l,v=float(sys.argv[1]),float(sys.argv[2]); print('BENCH vde.uplink.ratio.loom_vs_vde %.2f x' % (l/v))" "$L" "$V" 2>/dev/null
for p in loom vde; do
	[ -f "$T/$p-iperf.pid" ] && kill "$(cat "$T/$p-iperf.pid")" 2>/dev/null
done
kill "${PIDS[@]}" 2>/dev/null
netd_stop
finish
