#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# tap-switch.sh - two namespaces through loom's switch (TAP ports) vs Linux bridge, vde_switch, OVS netdev.
#
# Every peer is set up once, side by side, each with its own two
# namespaces (10.240.0.1 <-> 10.240.0.2 in each pair); then $RUNS rounds,
# each running every test on every peer, the peers' order rotated from one
# round to the next, so the load of the shared machine falls on all of them
# alike. Same iperf3 parameters for every peer:
#   tcp    one stream, $SECS s, offloads as the peer negotiates (Gbit/s)
#   udp64  -u -l 18 -b 0 (64-byte frames with FCS), flat out, $SECS s:
#          kpps that reached the receiving interface (rx_packets), plus
#          what iperf3's server counted and what the sender offered
# For the peers that are processes (loom, vde, ovs) it also takes the CPU
# time of those processes per forwarded frame (ns, all threads, from
# /proc/PID/task/*/schedstat): a figure that depends little on the load.
# Prints "BENCH tap.<peer>.<test> <value> <unit>", the ratios of the medians
# (and the median and range of the per-round ratios), and writes
# docs/performance-tap.md with tests/bench/tap-switch-notes.md appended.
#
# Peers:
#   loom    loom-netd, two TAP ports (vnet header, TSO/CSUM offloads)
#   bridge  Linux bridge, two veth pairs (the kernel-only ceiling)
#   vde     vde_switch + two vde_plug2tap TAPs (each its own process)
#   ovs     ovs-vswitchd, bridge datapath_type=netdev (userspace), two
#           veth pairs added as ports (as OVS's own userspace system tests
#           do; OVS's "tap" ports cannot live in another namespace)
# Environment: RUNS (5), SECS (3 per run), PEERS ("loom bridge vde ovs"),
# UDP_STREAMS (1), OUT_MD (docs/performance-tap.md; "" writes nothing),
# NETD (build/loom-netd), NETD_ENV ("VAR=value ..." for loom-netd only).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SECS=${SECS:-3}
PEERS=${PEERS:-loom bridge vde ovs}
UDP_STREAMS=${UDP_STREAMS:-1}
OUT_MD=${OUT_MD-$ROOT/docs/performance-tap.md}
NOTES=$ROOT/tests/bench/tap-switch-notes.md
NETD=${NETD:-$ROOT/build/loom-netd}
NETD_ENV=${NETD_ENV:-}
T=$(mktemp -d /tmp/loom-bench-tap.XXXXXX)
PIDS=()
declare -A RXIF PPIDS

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (namespaces, TAPs, bridges)"
	exit 77
fi
for t in iperf3 ip python3; do
	command -v $t >/dev/null || { echo "skipped: $t missing"; exit 77; }
done

ns() { echo "lmb$$-$1-$2"; } # ns PEER 1|2

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for peer in loom bridge vde ovs; do
		ip netns del "$(ns $peer 1)" 2>/dev/null
		ip netns del "$(ns $peer 2)" 2>/dev/null
	done
	for l in lmbbr0 lmbb1 lmbb2 lmbo1 lmbo2; do ip link del $l 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

ns_setup() { # PEER
	local n
	for n in 1 2; do
		ip netns del "$(ns "$1" $n)" 2>/dev/null
		ip netns add "$(ns "$1" $n)" || return 1
		ip -n "$(ns "$1" $n)" link set lo up
	done
}

# veth_pair PEER PREFIX: host ends PREFIX1, PREFIX2; eth0 in the namespaces.
veth_pair() {
	local n
	for n in 1 2; do
		ip link add "$2$n" type veth peer name eth0 netns "$(ns "$1" $n)" || return 1
		ip -n "$(ns "$1" $n)" addr add 10.240.0.$n/24 dev eth0
		ip -n "$(ns "$1" $n)" link set eth0 up
		ip link set "$2$n" up
	done
}

setup_loom() {
	local run=$T/loom-run c
	RXIF[loom]=lmbt2
	[ -x "$NETD" ] || return 1
	# shellcheck disable=SC2086 # NETD_ENV is a list of VAR=value words
	env $NETD_ENV "$NETD" --run-dir "$run" --state-dir "$T/loom-state" \
		>"$T/netd.log" 2>&1 &
	PIDS+=($!)
	PPIDS[loom]=$!
	for _ in $(seq 100); do [ -S "$run/netd.sock" ] && break; sleep 0.05; done
	c="python3 $ROOT/tests/netns/loomctl.py $run/netd.sock"
	$c net.create '{"name":"bench","mode":"switch","subnet":"10.240.0.0/24","gateway":"10.240.0.254"}' >/dev/null &&
	$c port.add "{\"net\":\"bench\",\"tap\":\"lmbt1\",\"netns\":\"$(ns loom 1)\",\"address\":\"10.240.0.1/24\"}" >/dev/null &&
	$c port.add "{\"net\":\"bench\",\"tap\":\"lmbt2\",\"netns\":\"$(ns loom 2)\",\"address\":\"10.240.0.2/24\"}" >/dev/null
}

setup_bridge() {
	RXIF[bridge]=eth0
	PPIDS[bridge]=
	veth_pair bridge lmbb || return 1
	ip link add lmbbr0 type bridge || return 1
	ip link set lmbb1 master lmbbr0
	ip link set lmbb2 master lmbbr0
	ip link set lmbbr0 up
}

setup_vde() {
	local v=$T/vde
	RXIF[vde]=lmbv2
	command -v vde_switch >/dev/null || return 1
	mkdir -p "$v"
	# vde_switch leaves when its stdin closes: run it as a daemon.
	vde_switch -d -s "$v/ctl" -M "$v/mgmt" -p "$v/sw.pid" || return 1
	ip netns exec "$(ns vde 1)" vde_plug2tap -d -P "$v/p1.pid" -s "$v/ctl" lmbv1 || return 1
	ip netns exec "$(ns vde 2)" vde_plug2tap -d -P "$v/p2.pid" -s "$v/ctl" lmbv2 || return 1
	PPIDS[vde]="$(cat "$v/sw.pid") $(cat "$v/p1.pid") $(cat "$v/p2.pid")"
	# shellcheck disable=SC2206 # three pids
	PIDS+=(${PPIDS[vde]})
	sleep 0.3
	ip -n "$(ns vde 1)" addr add 10.240.0.1/24 dev lmbv1 && ip -n "$(ns vde 1)" link set lmbv1 up &&
	ip -n "$(ns vde 2)" addr add 10.240.0.2/24 dev lmbv2 && ip -n "$(ns vde 2)" link set lmbv2 up
}

setup_ovs() {
	local o=$T/ovs vsctl n
	RXIF[ovs]=eth0
	command -v ovs-vswitchd >/dev/null && command -v ethtool >/dev/null || return 1
	mkdir -p "$o"
	export OVS_RUNDIR=$o OVS_LOGDIR=$o OVS_DBDIR=$o OVS_SYSCONFDIR=$o
	vsctl="ovs-vsctl --db=unix:$o/db.sock"
	ovsdb-tool create "$o/conf.db" /usr/share/openvswitch/vswitch.ovsschema || return 1
	ovsdb-server "$o/conf.db" --remote=punix:"$o/db.sock" -vconsole:off \
		--unixctl="$o/ovsdb.ctl" --pidfile="$o/ovsdb.pid" --detach \
		--log-file="$o/ovsdb.log" || return 1
	PIDS+=("$(cat "$o/ovsdb.pid")")
	$vsctl --no-wait init
	ovs-vswitchd unix:"$o/db.sock" -vconsole:off --unixctl="$o/vswitchd.ctl" \
		--pidfile="$o/vswitchd.pid" --detach --log-file="$o/vswitchd.log" || return 1
	PPIDS[ovs]=$(cat "$o/vswitchd.pid")
	PIDS+=("${PPIDS[ovs]}")
	veth_pair ovs lmbo || return 1
	$vsctl add-br lmbovs0 -- set bridge lmbovs0 datapath_type=netdev || return 1
	$vsctl add-port lmbovs0 lmbo1 && $vsctl add-port lmbovs0 lmbo2 || return 1
	ip link set lmbovs0 up 2>/dev/null
	# The userspace datapath does not complete partial checksums coming
	# from veth (OVS's userspace tests turn tx offload off the same way);
	# TSO stays as the kernel allows without it.
	for n in 1 2; do
		ip netns exec "$(ns ovs $n)" ethtool -K eth0 tx off >/dev/null || return 1
	done
	sleep 1
}

# CPU time (ns) so far of every thread of the peer's processes, or "".
peer_cpu() {
	local p t sum=0
	[ -n "${PPIDS[$1]}" ] || return 0
	for p in ${PPIDS[$1]}; do
		for t in /proc/"$p"/task/*/schedstat; do
			read -r ns _ <"$t" 2>/dev/null && sum=$((sum + ns))
		done
	done
	echo $sum
}

# run_iperf PEER tcp|udp: prints "value app offered cpu_ns" of one run
# (app and offered only for UDP; cpu_ns empty for the bridge).
run_iperf() {
	local peer=$1 j=$T/iperf.json port=$((5300 + RANDOM % 1000)) c0 c1
	local n1 n2 rx0 rx1
	n1=$(ns "$peer" 1)
	n2=$(ns "$peer" 2)
	rm -f "$T/iperf-s.pid"
	ip netns exec "$n2" iperf3 -s -1 -D -p $port -I "$T/iperf-s.pid" >/dev/null 2>&1
	for _ in $(seq 20); do [ -s "$T/iperf-s.pid" ] && break; sleep 0.05; done
	sleep 0.2
	c0=$(peer_cpu "$peer")
	rx0=$(ip netns exec "$n2" cat "/sys/class/net/${RXIF[$peer]}/statistics/rx_packets")
	if [ "$2" = tcp ]; then
		ip netns exec "$n1" timeout $((SECS + 10)) iperf3 -c 10.240.0.2 -p $port -t "$SECS" -J >"$j" 2>/dev/null
	else
		ip netns exec "$n1" timeout $((SECS + 10)) iperf3 -c 10.240.0.2 -p $port -u -l 18 -b 0 -P "$UDP_STREAMS" -t "$SECS" -J >"$j" 2>/dev/null
	fi
	rx1=$(ip netns exec "$n2" cat "/sys/class/net/${RXIF[$peer]}/statistics/rx_packets")
	c1=$(peer_cpu "$peer")
	python3 -c '
import json, sys
mode, rx0, rx1, c0, c1 = sys.argv[2:7]
r = json.load(open(sys.argv[1]))["end"]
frames = int(rx1) - int(rx0)
cpu = "%.0f" % ((int(c1) - int(c0)) / max(frames, 1)) if c0 else "-"
if mode == "tcp":
    s = r["sum_received"]
    print("%.2f - - %s" % (s["bits_per_second"] / 1e9, cpu))
else:
    s = r["sum"]
    fwd = frames / s["seconds"] / 1e3
    app = (s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3
    sent = s["packets"] / s["seconds"] / 1e3
    print("%.1f %.1f %.1f %s" % (fwd, app, sent, cpu))' "$j" "$2" "$rx0" "$rx1" "$c0" "$c1" 2>/dev/null ||
		{ echo "iperf3 $peer $2 failed: $(head -c 300 "$j")" >&2; echo "0 0 0 -"; }
	[ -s "$T/iperf-s.pid" ] && kill "$(cat "$T/iperf-s.pid")" 2>/dev/null
	sleep 0.2
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
UP=()
for peer in $PEERS; do
	if ! ns_setup "$peer" || ! "setup_$peer"; then
		echo "BENCH-SKIP tap.$peer: set-up failed" >&2
		continue
	fi
	if ! ip netns exec "$(ns "$peer" 1)" ping -c 2 -i 0.2 -W 2 10.240.0.2 >/dev/null; then
		echo "BENCH-SKIP tap.$peer: no connectivity" >&2
		continue
	fi
	UP+=("$peer")
done
[ ${#UP[@]} -gt 0 ] || { echo "skipped: no peer came up"; exit 77; }

# R[peer.test] = space-separated per-round values, round order.
declare -A R
for round in $(seq "$RUNS"); do
	k=$(( (round - 1) % ${#UP[@]} ))
	order=("${UP[@]:k}" "${UP[@]:0:k}")
	for test in tcp udp64; do
		for peer in "${order[@]}"; do
			# shellcheck disable=SC2046 # four words
			set -- $(run_iperf "$peer" "${test%64}")
			R[$peer.$test]+="$1 "
			R[$peer.${test}_cpu]+="$4 "
			if [ "$test" = udp64 ]; then
				R[$peer.udp64app]+="$2 "
				R[$peer.udp64sent]+="$3 "
			fi
		done
	done
	echo "round $round/$RUNS done (order ${order[*]}, load $(cut -d' ' -f1 /proc/loadavg))" >&2
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A M
med() { # med KEY: median of R[KEY] (dashes dropped), or n/a
	local vals
	# shellcheck disable=SC2086 # a list of words
	vals=$(printf '%s\n' ${R[$1]:-} | grep -v '^-$')
	if [ -n "$vals" ]; then echo "$vals" | median; else echo n/a; fi
}
for peer in "${UP[@]}"; do
	for key in tcp udp64 udp64app udp64sent tcp_cpu udp64_cpu; do
		M[$peer.$key]=$(med "$peer.$key")
	done
	echo "tap.$peer.tcp runs (Gbit/s): ${R[$peer.tcp]}"
	echo "tap.$peer.udp64 runs (forwarded kpps): ${R[$peer.udp64]}"
	echo "BENCH tap.$peer.tcp ${M[$peer.tcp]} Gbit/s"
	echo "BENCH tap.$peer.udp64 ${M[$peer.udp64]} kpps"
	echo "BENCH tap.$peer.udp64_app ${M[$peer.udp64app]} kpps"
	echo "BENCH tap.$peer.udp64_offered ${M[$peer.udp64sent]} kpps"
	if [ "${M[$peer.udp64_cpu]}" != n/a ]; then
		echo "BENCH tap.$peer.udp64_cpu_per_frame ${M[$peer.udp64_cpu]} ns"
	fi
done

# ratio A B: "median-ratio per-round-median min max" of A/B, or n/a.
ratio() {
	python3 - "$1" "$2" "${R[$1]:-}" "${R[$2]:-}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[3].split()]
b = [float(x) for x in sys.argv[4].split()]
if not a or not b or statistics.median_low(b) == 0:
    print("n/a n/a n/a n/a"); sys.exit()
per = sorted(x / y for x, y in zip(a, b) if y)
print("%.2f %.2f %.2f %.2f" % (statistics.median_low(a) / statistics.median_low(b),
      statistics.median_low(per), per[0], per[-1]))
PY
}
read -r R1 R1r R1lo R1hi <<<"$(ratio loom.udp64 vde.udp64)"
read -r R2 R2r R2lo R2hi <<<"$(ratio loom.udp64 ovs.udp64)"
read -r R3 R3r R3lo R3hi <<<"$(ratio loom.tcp bridge.tcp)"
echo "ratios of medians; per round: median [min..max] (goals: >= 3 vs vde, >= 1 vs ovs for 64 B; >= 0.8 vs bridge for TCP):"
echo "loom/vde 64 B $R1; per round $R1r [$R1lo..$R1hi]"
echo "loom/ovs 64 B $R2; per round $R2r [$R2lo..$R2hi]"
echo "loom/bridge TCP $R3; per round $R3r [$R3lo..$R3hi]"
echo "BENCH tap.ratio.udp64.loom_vs_vde $R1 x"
echo "BENCH tap.ratio.udp64.loom_vs_ovs $R2 x"
echo "BENCH tap.ratio.tcp.loom_vs_bridge $R3 x"
echo "load average: $LOAD_START at start, $LOAD_END at the end"

[ -n "$OUT_MD" ] || exit 0
{
	echo "# TAP benchmark: loom's switch vs Linux bridge, vde_switch, OVS netdev"
	echo
	echo "Written by \`tests/bench/tap-switch.sh\` (part of \`make bench\`) on"
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
	echo "kernel $(uname -r), loom $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')."
	echo "Median of $RUNS rounds of ${SECS} s per test; in each round every peer"
	echo "runs every test, the peers' order rotated between rounds. Load average"
	echo "$LOAD_START at the start, $LOAD_END at the end: the machine is shared."
	echo
	echo "Two namespaces per peer, 10.240.0.1 -> 10.240.0.2, the same iperf3"
	echo "parameters for all. TCP: one stream, offloads as each peer negotiates"
	echo "(loom: TSO/CSUM through the vnet header). UDP: iperf3 -u -l 18 -b 0"
	echo "-P $UDP_STREAMS (64-byte frames), flat out; *forwarded* = frames that reached the"
	echo "receiving namespace's interface (rx_packets), the switch's rate;"
	echo "*received by iperf3* = what the server counted (bounded by the"
	echo "receiver's CPU on this 2-core machine). No loss criterion: the sender"
	echo "runs flat out, the difference to *offered* is loss. *CPU per frame* ="
	echo "CPU time of the switch's processes (all threads) per forwarded 64 B"
	echo "frame (loom-netd; vde_switch + 2 vde_plug2tap; ovs-vswitchd)."
	echo
	echo "| peer | TCP Gbit/s | UDP 64 B kpps forwarded | received by iperf3 | offered | CPU per frame, ns |"
	echo "|---|---|---|---|---|---|"
	for peer in loom bridge vde ovs; do
		echo "| $peer | ${M[$peer.tcp]:-n/a} | ${M[$peer.udp64]:-n/a} | ${M[$peer.udp64app]:-n/a} | ${M[$peer.udp64sent]:-n/a} | ${M[$peer.udp64_cpu]:-n/a} |"
	done
	echo
	echo "Every run (round order):"
	echo
	for peer in loom bridge vde ovs; do
		[ -n "${R[$peer.tcp]:-}" ] || continue
		echo "* $peer: TCP ${R[$peer.tcp]% } Gbit/s; 64 B ${R[$peer.udp64]% } kpps"
	done
	echo
	echo "| ratio | of the medians | per round: median [min..max] | goal |"
	echo "|---|---|---|---|"
	echo "| loom / vde_switch, 64 B | $R1 | $R1r [$R1lo..$R1hi] | >= 3 |"
	echo "| loom / OVS netdev, 64 B | $R2 | $R2r [$R2lo..$R2hi] | >= 1 |"
	echo "| loom / Linux bridge, TCP | $R3 | $R3r [$R3lo..$R3hi] | >= 0.8 |"
	if [ -f "$NOTES" ]; then
		echo
		cat "$NOTES"
	fi
} >"$OUT_MD.tmp" && mv "$OUT_MD.tmp" "$OUT_MD"
