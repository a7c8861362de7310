#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-knat.sh - a bridge network's NAT and port forwards in the kernel (nftables): out through masquerade, forwards in, kill -9.
#
# g is a namespace on bridge network kn (nat: true, the host 10.243.0.254
# on the bridge, g's default route); o is an "outside" namespace on a
# veth of the test's own (198.51.100.0/24), with no route back to kn's
# subnet. g reaches o only through the masquerade, and o sees the host's
# address; a forward from the host's 127.0.0.1 and one on every address
# (reached from o) bring g's web server; removing one closes it. kill -9
# leaves netd's table (kernel state); the restart removes it and builds
# the declared one again; net.delete and SIGTERM leave no table.
. "$(dirname "$0")/common.bash"
skip_unless_root
command -v nft >/dev/null || { echo "skipped: nft missing (scripts/install-deps.sh)"; exit 77; }

for n in g o; do ns_add $n; done
BR=lb$$
P=lm$$
HO=lmo$$
TPFX=
cleanup_knat() {
	# An interrupted run: the tables, bridge and veths netd left.
	if [ -n "$TPFX" ]; then
		for t in $(nft list tables inet 2>/dev/null | awk '{print $3}' | grep "^$TPFX"); do
			nft delete table inet "$t"
		done
	fi
	ip link del "$BR" 2>/dev/null
	ip link del "$HO" 2>/dev/null
	cleanup
}
trap cleanup_knat EXIT

# The outside: 198.51.100.2 in o, the host 198.51.100.1.
ip link add "$HO" type veth peer name "${HO}o" netns "$(ns o)"
ip addr add 198.51.100.1/24 dev "$HO"
ip link set "$HO" up
ip -n "$(ns o)" addr add 198.51.100.2/24 dev "${HO}o"
ip -n "$(ns o)" link set "${HO}o" up

netd_start || exit 1
export CTL SOCK
export -f ctl
inst=$(ctl daemon.status | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["alias_prefix"].split(":")[1])')
TPFX=loom_${inst}_
TABLE=${TPFX}kn
tables() { nft list tables inet | awk '{print $3}' | grep -c "^$TPFX"; }

check "nat on a bridge network without bridge_address is refused, naming it" bash -c "
	ctl net.create '{\"name\":\"kx\",\"mode\":\"bridge\",\"bridge\":\"lbx$$\",\"subnet\":\"10.243.1.0/24\",\"nat\":true}' |
		grep -q bridge_address"
check "nat on a switch network is refused" bash -c "
	ctl net.create '{\"name\":\"kx\",\"mode\":\"switch\",\"nat\":true}' | grep -q 'only a nat or bridge network has nat'"
check "a bridge network without nat or forwards makes no table" bash -c "
	ctl net.create '{\"name\":\"kp\",\"mode\":\"bridge\",\"bridge\":\"lbp$$\"}' | grep -q '\"ok\": *true' &&
	[ \$(nft list tables inet | awk '{print \$3}' | grep -c '^$TPFX') = 0 ] &&
	ctl net.delete '{\"name\":\"kp\"}' | grep -q '\"ok\": *true'"

net='{"name":"kn","mode":"bridge","bridge":"'$BR'","subnet":"10.243.0.0/24",
 "bridge_address":"10.243.0.254/24","nat":true,"dhcp":{"enabled":false},
 "ports":[{"name":"g","type":"veth","tap":"'$P'g","netns":"'$(ns g)'","address":"10.243.0.11/24"}]}'
check "net.create mode bridge with nat" ctl net.create "$net"
ip -n "$(ns g)" route add default via 10.243.0.254
check "netd's table $TABLE masquerades the subnet" bash -c "
	nft list table inet $TABLE | grep -q 'ip saddr 10.243.0.0/24 oifname != \"$BR\" masquerade'"
check "net.ipv4.ip_forward is on" bash -c '[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]'
check "net.show reports the kernel nat" bash -c "
	ctl net.show '{\"name\":\"kn\"}' | python3 -c '
import json, sys
r = json.load(sys.stdin)[\"result\"]
n = r.get(\"network\", r)
k = n[\"nat\"]
assert k[\"path\"] == \"kernel\" and k[\"masquerade\"] and k[\"table\"] == \"$TABLE\", k'"

# o's web server logs its clients: the masquerade shows as 198.51.100.1.
mkdir -p "$T/www-o" "$T/www-g"
echo outside-page >"$T/www-o/index.html"
echo guest-page-$$ >"$T/www-g/index.html"
(cd "$T/www-o" && exec ip netns exec "$(ns o)" python3 -m http.server -b 198.51.100.2 8000 >"$T/o.log" 2>&1) &
EXTRA_PIDS="$!"
(cd "$T/www-g" && exec ip netns exec "$(ns g)" python3 -m http.server -b 10.243.0.11 80 >"$T/g.log" 2>&1) &
EXTRA_PIDS="$EXTRA_PIDS $!"
fetch() { # fetch [NS] URL: print the page
	local pre=()
	[ $# = 2 ] && { pre=(ip netns exec "$1"); shift; }
	"${pre[@]}" python3 -c 'import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=3).read().decode().strip())' "$1"
}
for _ in $(seq 50); do
	ip netns exec "$(ns o)" ss -ltn | grep -q 198.51.100.2:8000 &&
		ip netns exec "$(ns g)" ss -ltn | grep -q 10.243.0.11:80 && break
	sleep 0.1
done

check "g pings the outside through the host" ip netns exec "$(ns g)" ping -c 2 -W 2 198.51.100.2
check "g fetches o's page through the masquerade" bash -c "[ \"\$($(declare -f fetch); fetch $(ns g) http://198.51.100.2:8000/)\" = outside-page ]"
check "o saw the host's address, not g's" grep -q '^198.51.100.1 ' "$T/o.log"
check_not "o never saw g's own address" grep -q '^10.243.0.11 ' "$T/o.log"

check "loom forward add on a bridge network (host 127.0.0.1:18080)" \
	"$LOOM" --run-dir "$RUN_DIR" forward add kn tcp 18080 10.243.0.11:80
check "loom forward add on every host address (0.0.0.0:18081)" \
	"$LOOM" --run-dir "$RUN_DIR" forward add kn tcp 0.0.0.0:18081 10.243.0.11:80
check "forward list shows both up" bash -c "
	'$LOOM' --run-dir '$RUN_DIR' forward list kn | grep -c ' up ' | grep -qx 2"
check "the host reaches g's web server through 127.0.0.1:18080" \
	bash -c "[ \"\$($(declare -f fetch); fetch http://127.0.0.1:18080/)\" = guest-page-$$ ]"
check "o reaches g's web server through the host's 198.51.100.1:18081" \
	bash -c "[ \"\$($(declare -f fetch); fetch $(ns o) http://198.51.100.1:18081/)\" = guest-page-$$ ]"
check "loom forward remove" "$LOOM" --run-dir "$RUN_DIR" forward remove kn tcp 18080
check_not "after remove, 127.0.0.1:18080 is closed" \
	bash -c "$(declare -f fetch); fetch http://127.0.0.1:18080/"
check "the other forward still works" \
	bash -c "[ \"\$($(declare -f fetch); fetch $(ns o) http://198.51.100.1:18081/)\" = guest-page-$$ ]"

# kill -9: the table is kernel state and stays; the restart removes it
# (stray sweep) and the declared network builds its own again.
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
check "after kill -9 the table is still there" nft list table inet "$TABLE"
netd_start || exit 1
check "the restart removed the stray table (log says so)" grep -q 'removed 1 stray nftables table' "$T/netd.log"
check "after the restart exactly one table of this netd" bash -c "[ \$(nft list tables inet | awk '{print \$3}' | grep -c '^$TPFX') = 1 ]"
check "the declared forward works again after the restart" \
	bash -c "[ \"\$($(declare -f fetch); fetch $(ns o) http://198.51.100.1:18081/)\" = guest-page-$$ ]"
check "and the removed one stays removed" bash -c "! nft list table inet $TABLE | grep -q 18080"
# The restart recreated g's veth: its default route went with the old one.
ip -n "$(ns g)" route add default via 10.243.0.254
check "g still reaches the outside" ip netns exec "$(ns g)" ping -c 1 -W 2 198.51.100.2

check "net.delete removes the table" bash -c "
	ctl net.delete '{\"name\":\"kn\"}' | grep -q '\"ok\": *true' &&
	! nft list table inet $TABLE >/dev/null 2>&1"
check "net.create again, then SIGTERM" ctl net.create "$net"
netd_stop
check "after SIGTERM no table of this netd is left" bash -c "[ \$(nft list tables inet | awk '{print \$3}' | grep -c '^$TPFX') = 0 ]"
check "after SIGTERM the bridge is gone" bash -c "! ip link show $BR 2>/dev/null"
finish
