#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nat.sh - NAT and port forwards: namespace -> host and host -> guest port, iperf3 TCP at MTU 1500 and 65520, loom vs slirp4netns vs pasta.
#
# Each peer gives one namespace its user-mode network at each MTU, all set
# up once, side by side; then $RUNS rounds, each running both tests on every
# peer and MTU, the peers' order rotated per round so the machine's load
# falls on all alike. Tests (one iperf3 TCP stream, $SECS s):
#   out   namespace -> an iperf3 server on the host's 127.0.0.1, through
#         the peer's NAT (loom: the gateway with host_loopback: true;
#         slirp4netns: 10.0.2.2; pasta: the mapped gateway address)
#   fwd   host -> an iperf3 server in the namespace, through the peer's own
#         port forwarding (loom forward add, slirp4netns add_hostfwd,
#         pasta -t)
# Also the CPU time of the peer's process (all threads) per Gbit/s moved:
# percent of one core per Gbit/s (lower is better).
# Prints "BENCH nat.<peer>.<test>.<mtu> <median> Gbit/s" and
# "BENCH nat.<peer>.<test>.<mtu>.cpu <median> %core/Gbit/s", then the
# ratios loom/slirp4netns and loom/pasta of the medians.
# Environment: RUNS (5), SECS (4), PEERS ("loom slirp4netns pasta"),
# MTUS ("1500 65520"), NETD (build/loom-netd).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-5}
SECS=${SECS:-4}
PEERS=${PEERS:-loom slirp4netns pasta}
MTUS=${MTUS:-1500 65520}
NETD=${NETD:-$ROOT/build/loom-netd}
LOOM=$ROOT/build/loom
T=$(mktemp -d /tmp/loom-bench-nat.XXXXXX)
PIDS=()
declare -A PPID_OF FWD_PORT OUT_ADDR RES

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (namespaces for every peer)"
	exit 77
fi
for t in iperf3 ip python3 slirp4netns pasta; do
	command -v $t >/dev/null || { echo "skipped: $t missing (scripts/install-deps.sh --bench)"; exit 77; }
done

ns() { echo "lmn$$-$1-$2"; } # ns PEER MTU
HOST_PORT=$((26000 + $$ % 1000 * 16))

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	for peer in loom slirp4netns pasta; do
		for m in $MTUS; do
			ip netns pids "$(ns $peer $m)" 2>/dev/null | xargs -r kill 2>/dev/null
			ip netns del "$(ns $peer $m)" 2>/dev/null
		done
	done
	rm -rf "$T"
}
trap cleanup EXIT

bg() { "$@" & PIDS+=($!); }

# CPU ticks (user + system, all threads) of process $1.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# iperf3 client, one run: prints Gbit/s (receiver side) or nothing.
iperf_gbps() { # iperf_gbps [ip netns exec NS] -c ADDR -p PORT
	"$@" -t "$SECS" -J 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print("%.3f" % (d["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    pass'
}

# ---- set-up ----
bg iperf3 -s -B 127.0.0.1 -p "$HOST_PORT"
port_next=$((HOST_PORT + 1))
n=0
for m in $MTUS; do
	for peer in $PEERS; do
		ip netns add "$(ns $peer $m)"
		ip -n "$(ns $peer $m)" link set lo up
		FWD_PORT[$peer.$m]=$port_next
		port_next=$((port_next + 1))
	done
done

if [[ " $PEERS " = *" loom "* ]]; then
	{
		echo "networks:"
		i=0
		for m in $MTUS; do
			i=$((i + 1))
			cat <<EOF
  - name: b$m
    subnet: 10.24$i.0.0/24
    mtu: $m
    host_loopback: true
    ports:
      - tap: lmn$$l$i
        netns: $(ns loom $m)
        address: 10.24$i.0.15/24
    forwards:
      - host: ${FWD_PORT[loom.$m]}
        guest: 10.24$i.0.15:5201
EOF
		done
	} >"$T/loom.yaml"
	bg "$NETD" --run-dir "$T/run" --state-dir "$T/state" --config "$T/loom.yaml"
	netd_pid=${PIDS[-1]}
	for _ in $(seq 100); do [ -S "$T/run/netd.sock" ] && break; sleep 0.05; done
	sleep 0.5
	i=0
	for m in $MTUS; do
		i=$((i + 1))
		ip -n "$(ns loom $m)" route replace default via "10.24$i.0.1"
		OUT_ADDR[loom.$m]=10.24$i.0.1
		PPID_OF[loom.$m]=$netd_pid
	done
fi
if [[ " $PEERS " = *" slirp4netns "* ]]; then
	for m in $MTUS; do
		bg slirp4netns --configure --mtu="$m" --api-socket "$T/s4-$m.sock" \
			--netns-type=path "/run/netns/$(ns slirp4netns $m)" tap0
		PPID_OF[slirp4netns.$m]=${PIDS[-1]}
		OUT_ADDR[slirp4netns.$m]=10.0.2.2
		for _ in $(seq 100); do [ -S "$T/s4-$m.sock" ] && break; sleep 0.05; done
		python3 - "$T/s4-$m.sock" "${FWD_PORT[slirp4netns.$m]}" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(json.dumps({"execute": "add_hostfwd", "arguments": {
    "proto": "tcp", "host_addr": "127.0.0.1", "host_port": int(sys.argv[2]),
    "guest_port": 5201}}).encode())
r = s.recv(4096)
if b"error" in r:
    sys.exit("slirp4netns add_hostfwd: " + r.decode())
EOF
	done
fi
if [[ " $PEERS " = *" pasta "* ]]; then
	for m in $MTUS; do
		bg pasta -f --runas 0:0 --config-net -m "$m" \
			-t "${FWD_PORT[pasta.$m]}:5201" -u none -T none -U none \
			--netns "$(ns pasta $m)" --netns-only -q
		PPID_OF[pasta.$m]=${PIDS[-1]}
	done
	sleep 1
	for m in $MTUS; do
		OUT_ADDR[pasta.$m]=$(ip -n "$(ns pasta $m)" route show default | awk '{print $3; exit}')
	done
fi
for m in $MTUS; do
	for peer in $PEERS; do
		ip netns exec "$(ns $peer $m)" iperf3 -s -p 5201 >/dev/null 2>&1 &
		PIDS+=($!)
	done
done
sleep 1

# ---- rounds ----
run_test() { # run_test PEER MTU TEST: appends "gbps cpu" to RES
	local peer=$1 m=$2 t=$3 pid=${PPID_OF[$1.$2]} c0 c1 g cpu
	c0=$(cpu_ticks "$pid")
	if [ "$t" = out ]; then
		g=$(iperf_gbps ip netns exec "$(ns $peer $m)" iperf3 -c "${OUT_ADDR[$peer.$m]}" -p "$HOST_PORT")
	else
		g=$(iperf_gbps iperf3 -c 127.0.0.1 -p "${FWD_PORT[$peer.$m]}")
	fi
	c1=$(cpu_ticks "$pid")
	[ -n "$g" ] || { echo "  $peer $t mtu $m: no result" >&2; return; }
	# percent of a core per Gbit/s: (ticks / HZ / secs * 100) / gbps
	cpu=$(python3 -c "print('%.1f' % (($c1 - $c0) / $(getconf CLK_TCK) / $SECS * 100 / max($g, 0.001)))")
	RES[$peer.$t.$m]="${RES[$peer.$t.$m]:-} $g"
	RES[$peer.$t.$m.cpu]="${RES[$peer.$t.$m.cpu]:-} $cpu"
	echo "  round $r: $peer $t mtu $m: $g Gbit/s, $cpu %core/Gbit/s" >&2
}
read -r -a order <<<"$PEERS"
for r in $(seq "$RUNS"); do
	for m in $MTUS; do
		for t in out fwd; do
			for p in "${order[@]}"; do
				run_test "$p" "$m" "$t"
			done
		done
	done
	order=("${order[@]:1}" "${order[0]}")
done

median() { python3 -c 'import statistics, sys; v = [float(x) for x in sys.argv[1:]]; print("%.3f" % statistics.median(v) if v else "nan")' "$@"; }
for m in $MTUS; do
	for t in out fwd; do
		for p in $PEERS; do
			# shellcheck disable=SC2086
			echo "BENCH nat.$p.$t.$m $(median ${RES[$p.$t.$m]:-}) Gbit/s"
			# shellcheck disable=SC2086
			echo "BENCH nat.$p.$t.$m.cpu $(median ${RES[$p.$t.$m.cpu]:-}) %core/Gbit/s"
		done
		for p in slirp4netns pasta; do
			[[ " $PEERS " = *" $p "* && " $PEERS " = *" loom "* ]] || continue
			# shellcheck disable=SC2086
			a=$(median ${RES[loom.$t.$m]:-}) b=$(median ${RES[$p.$t.$m]:-})
			echo "BENCH nat.ratio.loom_vs_$p.$t.$m $(python3 -c "print('%.2f' % ($a / $b if $b else 0))" 2>/dev/null || echo nan) x"
		done
	done
done
