#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dhcp-dns.sh - the gateway's DHCP and DNS servers against dnsmasq, side by side: perfdhcp DORA rate over distinct clients, dnsperf queries per second on a local name.
#
# loom: a private loom-netd, a switch network 10.238.0.0/16 (pool
# 10.238.1.0-10.238.255.254, one static host), a TAP in namespace "cli".
# dnsmasq: a veth pair, dnsmasq in namespace "srv" with the same pool and
# host record, the other end in its own "cli" namespace. Same clients:
#   dhcp  perfdhcp -4 (kea-admin) on the client end, which always speaks as
#         a relay agent (giaddr = its address, replies to port 67): both
#         servers see the same relayed DORA from $DHCP_CLIENTS distinct
#         clients, $SECS s, rate unbounded (-r $DHCP_RATE). loom appends
#         each lease to its journal and fdatasyncs once per batch before
#         the batch's ACKs; dnsmasq writes its lease file without fsync and
#         runs with --no-ping (by default it pings every address before
#         offering it and answers none of perfdhcp's requests in time).
#   dns   dnsperf, $SECS s, a local name (A), $DNS_INFLIGHT outstanding
#         queries (100: dnsperf's default);
#         then an upstream name (A, TTL 300) that an upstream dnsmasq of
#         its own answers: both servers forward the first query and answer
#         the rest from their caches.
# Prints "BENCH dhcp.<server> <median> leases/s",
# "BENCH dns.local.<server> <median> qps" and "BENCH dns.cached.<server>
# <median> qps", medians of $RUNS rounds, then the loom/dnsmasq ratios of
# the same run.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-3}
SECS=${SECS:-5}
DHCP_CLIENTS=${DHCP_CLIENTS:-20000}
DHCP_RATE=${DHCP_RATE:-100000}
ONLY=${ONLY:-all} # dhcp, dns or all
DNS_INFLIGHT=${DNS_INFLIGHT:-100}
# LOGDIR=DIR keeps netd's, dnsmasq's, perfdhcp's and dnsperf's output.
NETD=${NETD:-$ROOT/build/loom-netd}
CTL=$ROOT/tests/netns/loomctl.py
T=$(mktemp -d /tmp/loom-bench-dhcp.XXXXXX)
P=lmb$$-
PIDS=()

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root (namespaces, TAPs)"
	exit 77
fi
for t in perfdhcp dnsperf dnsmasq ip python3; do
	command -v $t >/dev/null || { echo "skipped: $t missing (scripts/install-deps.sh --bench)"; exit 77; }
done

cleanup() {
	[ -n "${LOGDIR:-}" ] && cp "$T"/*.log "$LOGDIR"/ 2>/dev/null
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	for n in loom-cli dm-cli dm-srv; do ip netns del "$P$n" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }

# loom
mkdir -p "$T/run" "$T/state"
ip netns add "${P}loom-cli"
"$NETD" --run-dir "$T/run" --state-dir "$T/state" >"$T/netd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$T/run/netd.sock" ] && break; sleep 0.05; done
# The upstream resolvers (one per side: dnsmasq's lives in its namespace).
UPL=127.0.0.$((100 + $$ % 100))
upstream() { # upstream ADDR [NETNS]: a dnsmasq that knows one name, TTL 300
	${2:+ip netns exec "$2"} dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
		--listen-address="$1" --port=53 --local-ttl=300 \
		--address=/up.bench.example/192.0.2.1 -q --log-facility=- \
		2>>"$T/upstream.log" &
	PIDS+=($!)
}
upstream "$UPL"
python3 "$CTL" "$T/run/netd.sock" net.create "{\"name\":\"bench\",\"mode\":\"switch\",
 \"subnet\":\"10.238.0.0/16\",\"dhcp\":{\"range\":\"10.238.1.0-10.238.255.254\",
 \"hosts\":[{\"mac\":\"02:38:00:00:00:0a\",\"address\":\"10.238.0.10\",\"name\":\"web\"}]},
 \"dns\":{\"upstream\":[\"$UPL\"]}}" >/dev/null ||
	{ echo "skipped: net.create failed"; cat "$T/netd.log"; exit 1; }
python3 "$CTL" "$T/run/netd.sock" port.add "{\"net\":\"bench\",\"tap\":\"lmb$$t\",
 \"netns\":\"${P}loom-cli\",\"address\":\"10.238.0.2/16\"}" >/dev/null || exit 1

# dnsmasq
ip netns add "${P}dm-cli"
ip netns add "${P}dm-srv"
ip link add lmb$$a netns "${P}dm-cli" type veth peer name lmb$$b netns "${P}dm-srv"
ip -n "${P}dm-cli" addr add 10.238.0.2/16 dev lmb$$a
ip -n "${P}dm-srv" addr add 10.238.0.1/16 dev lmb$$b
for n in dm-cli dm-srv; do
	ip -n "$P$n" link set lo up
done
ip -n "${P}dm-cli" link set lmb$$a up
ip -n "${P}dm-srv" link set lmb$$b up
upstream 127.0.0.2 "${P}dm-srv"
ip netns exec "${P}dm-srv" dnsmasq --no-daemon --no-resolv --no-hosts \
	--server=127.0.0.2 \
	--bind-interfaces --interface=lmb$$b --except-interface=lo \
	--dhcp-range=10.238.1.0,10.238.255.254,255.255.0.0,1h \
	--dhcp-leasefile="$T/dnsmasq.leases" --dhcp-authoritative --no-ping \
	--host-record=web.bench.loom,10.238.0.10 --domain=bench.loom \
	--cache-size=10000 --log-facility=- -q 2>"$T/dnsmasq.log" &
PIDS+=($!)
sleep 1

dhcp_rate() { # dhcp_rate NS IFACE: 4-way exchanges per second
	ip netns exec "$1" perfdhcp -4 -l "$2" -r "$DHCP_RATE" -R "$DHCP_CLIENTS" \
		-p "$SECS" -t 1 2>&1 | tee -a "$T/perfdhcp.log" |
		awk '/^Rate:/ {print $2; exit}'
}
echo "web.bench.loom A" >"$T/queries.local"
echo "up.bench.example A" >"$T/queries.cached"
dns_qps() { # dns_qps NS local|cached
	ip netns exec "$1" dnsperf -s 10.238.0.1 -d "$T/queries.$2" -l "$SECS" -q "$DNS_INFLIGHT" \
		-c 1 2>&1 | tee -a "$T/dnsperf.log" |
		awk '/Queries per second:/ {print $4; exit}'
}

declare -A R=([dhcp.loom]= [dhcp.dnsmasq]= [dns.loom]= [dns.dnsmasq]=
	[dnsc.loom]= [dnsc.dnsmasq]=)
for r in $(seq "$RUNS"); do
	rm -f "$T/state"/leases.* "$T/dnsmasq.leases"
	for s in loom dnsmasq; do
		ns=${P}loom-cli; dev=lmb$$t
		[ $s = dnsmasq ] && { ns=${P}dm-cli; dev=lmb$$a; }
		echo "round $r: $s" >&2
		[ "$ONLY" = dns ] || R[dhcp.$s]+="$(dhcp_rate "$ns" "$dev") "
		[ "$ONLY" = dhcp ] || R[dns.$s]+="$(dns_qps "$ns" local) "
		[ "$ONLY" = dhcp ] || R[dnsc.$s]+="$(dns_qps "$ns" cached) "
	done
done
declare -A M
for s in loom dnsmasq; do
	M[dhcp.$s]=$(tr ' ' '\n' <<<"${R[dhcp.$s]}" | grep . | median)
	M[dns.$s]=$(tr ' ' '\n' <<<"${R[dns.$s]}" | grep . | median)
	M[dnsc.$s]=$(tr ' ' '\n' <<<"${R[dnsc.$s]}" | grep . | median)
	echo "BENCH dhcp.$s ${M[dhcp.$s]} leases/s"
	echo "BENCH dns.local.$s ${M[dns.$s]} qps"
	echo "BENCH dns.cached.$s ${M[dnsc.$s]} qps"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "n/a"}'; }
echo "BENCH dhcp.ratio $(ratio "${M[dhcp.loom]}" "${M[dhcp.dnsmasq]}") loom/dnsmasq"
echo "BENCH dns.local.ratio $(ratio "${M[dns.loom]}" "${M[dns.dnsmasq]}") loom/dnsmasq"
echo "BENCH dns.cached.ratio $(ratio "${M[dnsc.loom]}" "${M[dnsc.dnsmasq]}") loom/dnsmasq"
