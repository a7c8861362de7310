#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture.sh - forwarding rate of loom-netd's TAP path with and without a capture of every port (reader keeping up / stalled).
#
# One loom-netd, one network, two TAP ports in two namespaces
# (10.241.0.1 <-> 10.241.0.2). Modes:
#   none    no capture
#   keepup  `loom capture bench -w - | cat >/dev/null`: every port, both
#           directions, pcapng to a reader that keeps up
#   stall   `loom capture bench -w FIFO` and nobody reads the FIFO: the ring
#           fills and the data path drops (and counts) every frame
# Tests (iperf3, as tests/bench/tap-switch.sh): tcp (one stream, Gbit/s),
# udp64 (64-byte frames flat out, kpps at the receiving interface).
# $RUNS rounds, the modes' order rotated per round; medians, and the ratios
# capture/none of the medians, and the paired ratios (each round's capture
# run over the same round's run without), median and quartiles: the
# figure that stays put when the machine's load drifts. Goal (issue 15):
# keepup >= 0.80, stall >= 0.95.
# Environment: RUNS (5), SECS (3), NETD, LOOM, CAPTURE_ARGS (more
# `loom capture` options, e.g. "--snaplen 128": headers only).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
CAPTURE_ARGS=${CAPTURE_ARGS:-}
SECS=${SECS:-3}
NETD=${NETD:-$ROOT/build/loom-netd}
LOOM=${LOOM:-$ROOT/build/loom}
T=$(mktemp -d /tmp/loom-bench-cap.XXXXXX)
N1=lmbc$$-1
N2=lmbc$$-2
NETD_PID=
CAP_PID=

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (namespaces, TAPs)"
	exit 77
fi
for t in iperf3 ip python3; do
	command -v $t >/dev/null || { echo "skipped: $t missing"; exit 77; }
done
[ -x "$NETD" ] && [ -x "$LOOM" ] || { echo "skipped: build first (make)"; exit 77; }

MAIN_PID=$$
cleanup() {
	# Only the script itself: a subshell of it (drain_fifo killed before
	# its exec) inherits this trap and must not tear the benchmark down.
	[ "$BASHPID" = "$MAIN_PID" ] || return 0
	[ -n "$CAP_PID" ] && kill "$CAP_PID" 2>/dev/null
	[ -n "$NETD_PID" ] && kill "$NETD_PID" 2>/dev/null
	sleep 0.3
	[ -n "$NETD_PID" ] && kill -9 "$NETD_PID" 2>/dev/null
	ip netns del $N1 2>/dev/null
	ip netns del $N2 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

ip netns add $N1 && ip netns add $N2 || exit 1
"$NETD" --run-dir "$T/run" --state-dir "$T/state" >"$T/netd.log" 2>&1 &
NETD_PID=$!
for _ in $(seq 100); do [ -S "$T/run/netd.sock" ] && break; sleep 0.05; done
export LOOM_RUN_DIR=$T/run
c="python3 $ROOT/tests/netns/loomctl.py $T/run/netd.sock"
$c net.create '{"name":"bench","mode":"switch","subnet":"10.241.0.0/24","gateway":"10.241.0.254"}' >/dev/null &&
	$c port.add "{\"net\":\"bench\",\"tap\":\"lmbc1\",\"netns\":\"$N1\",\"address\":\"10.241.0.1/24\"}" >/dev/null &&
	$c port.add "{\"net\":\"bench\",\"tap\":\"lmbc2\",\"netns\":\"$N2\",\"address\":\"10.241.0.2/24\"}" >/dev/null ||
	{ echo "skipped: set-up failed"; exit 77; }
ip netns exec $N1 ping -c 2 -i 0.2 -W 2 10.241.0.2 >/dev/null ||
	{ echo "skipped: no connectivity"; exit 77; }
mkfifo "$T/stall"
exec 7<>"$T/stall" # keeps the FIFO open for reading, never reads

# capture_start MODE / capture_stop: one capture of every port.
capture_start() {
	case $1 in
	none) CAP_PID= ;;
	keepup)
		# shellcheck disable=SC2086 # CAPTURE_ARGS: words
		("$LOOM" capture bench -q $CAPTURE_ARGS -w - | cat >/dev/null) &
		CAP_PID=$!
		;;
	stall)
		# shellcheck disable=SC2086
		"$LOOM" capture bench -q $CAPTURE_ARGS -w "$T/stall" 2>/dev/null &
		CAP_PID=$!
		;;
	esac
	[ "$1" = none ] && return
	for _ in $(seq 100); do
		"$LOOM" capture list 2>/dev/null | grep -q '^[0-9]' && return
		sleep 0.05
	done
	echo "capture did not start" >&2
}
# drain_fifo: become a reader of the stall FIFO with no other fd open.
drain_fifo() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" != 7 ] && eval "exec $fd>&-"
	done
	exec cat <&7 >/dev/null 2>&1 7<&-
}
capture_stop() {
	[ -n "$CAP_PID" ] || return 0
	pkill -INT -x loom -P "$CAP_PID" 2>/dev/null
	kill -INT "$CAP_PID" 2>/dev/null
	# A stalled capture drains for up to 2 s: read the FIFO meanwhile.
	# The reader is killed by its own pid (no `timeout` wrapper, whose
	# child could outlive it) and holds no inherited fd but the FIFO:
	# a stray one must not keep the test lock (flock's fd) held.
	drain_fifo &
	local drain=$!
	wait "$CAP_PID" 2>/dev/null
	kill $drain 2>/dev/null
	wait $drain 2>/dev/null
	CAP_PID=
}

# run_iperf tcp|udp: prints one value (Gbit/s or kpps at the receiver).
run_iperf() {
	local j=$T/iperf.json port=$((5300 + RANDOM % 1000)) rx0 rx1
	rm -f "$T/iperf-s.pid"
	ip netns exec $N2 iperf3 -s -1 -D -p $port -I "$T/iperf-s.pid" >/dev/null 2>&1
	for _ in $(seq 20); do [ -s "$T/iperf-s.pid" ] && break; sleep 0.05; done
	sleep 0.2
	rx0=$(ip netns exec $N2 cat /sys/class/net/lmbc2/statistics/rx_packets)
	if [ "$1" = tcp ]; then
		ip netns exec $N1 timeout $((SECS + 10)) iperf3 -c 10.241.0.2 -p $port -t "$SECS" -J >"$j" 2>/dev/null
	else
		ip netns exec $N1 timeout $((SECS + 10)) iperf3 -c 10.241.0.2 -p $port -u -l 18 -b 0 -t "$SECS" -J >"$j" 2>/dev/null
	fi
	rx1=$(ip netns exec $N2 cat /sys/class/net/lmbc2/statistics/rx_packets)
	python3 -c '
import json, sys
mode, rx0, rx1 = sys.argv[2:5]
r = json.load(open(sys.argv[1]))["end"]
if mode == "tcp":
    print("%.2f" % (r["sum_received"]["bits_per_second"] / 1e9))
else:
    print("%.1f" % ((int(rx1) - int(rx0)) / r["sum"]["seconds"] / 1e3))' "$j" "$1" "$rx0" "$rx1" 2>/dev/null || echo 0
	[ -s "$T/iperf-s.pid" ] && kill "$(cat "$T/iperf-s.pid")" 2>/dev/null
	sleep 0.2
}

# A run that measured nothing (iperf3 failed: 0) is left out.
median() { awk '$1 > 0' | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }

MODES=(none keepup stall)
declare -A R
for round in $(seq "$RUNS"); do
	k=$(( (round - 1) % 3 ))
	order=("${MODES[@]:k}" "${MODES[@]:0:k}")
	for mode in "${order[@]}"; do
		capture_start "$mode"
		R[$mode.tcp]+="$(run_iperf tcp) "
		R[$mode.udp64]+="$(run_iperf udp) "
		capture_stop
	done
	echo "round $round/$RUNS done (order ${order[*]}, load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

declare -A M
for mode in "${MODES[@]}"; do
	for test in tcp udp64; do
		# shellcheck disable=SC2086 # a list of words
		M[$mode.$test]=$(printf '%s\n' ${R[$mode.$test]} | median)
		echo "capture.tap.$test.$mode runs: ${R[$mode.$test]}" >&2
	done
	echo "BENCH capture.tap.tcp.$mode ${M[$mode.tcp]} Gbit/s"
	echo "BENCH capture.tap.udp64.$mode ${M[$mode.udp64]} kpps"
done
for test in tcp udp64; do
	for mode in keepup stall; do
		r=$(python3 -c "import sys; a, b = map(float, sys.argv[1:]); print('%.2f' % (a / b if b else 0))" \
			"${M[$mode.$test]}" "${M[none.$test]}")
		echo "BENCH capture.tap.$test.ratio_$mode $r x"
		# Paired: each round's capture run over the same round's run
		# without one (minutes apart at most, so the machine's load
		# moves both): median and quartiles of those ratios.
		python3 -c '
import statistics, sys
name, cap, none = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
r = sorted(float(a) / float(b) for a, b in zip(cap, none)
           if float(a) > 0 and float(b) > 0)
if len(r) >= 4:
    q = statistics.quantiles(r, n=4)
    print("BENCH %s %.2f x (rounds %d, quartiles %.2f-%.2f, min %.2f)" %
          (name, statistics.median(r), len(r), q[0], q[2], r[0]))
elif r:
    print("BENCH %s %.2f x (rounds %d)" % (name, statistics.median(r), len(r)))
' "capture.tap.$test.paired_$mode" "${R[$mode.$test]}" "${R[none.$test]}"
	done
done
