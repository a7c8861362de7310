#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-dhcp-config.sh - a network file with dhcp: (range, static host,
# lease time) and dns: (domain, upstream): udhcpc gets an address from the
# range, the static host its fixed address and name, an upstream name
# resolves through a dnsmasq the test runs on the host's loopback, `loom
# lease list` shows the leases (text and JSON), and `loom net apply` of an
# edited file changes the range and adds a static host live, keeping every
# lease.
. "$(dirname "$0")/common.bash"
skip_unless_root
for tool in dnsmasq nslookup; do
	if ! command -v $tool >/dev/null; then
		echo "skipped: $tool is not installed (scripts/install-deps.sh)"
		exit 77
	fi
done
ns_add a
ns_add s
TA=lm$$ca
TS=lm$$cs
SCRIPT=$ROOT/tests/netns/udhcpc.script
UP=127.0.0.$((100 + $$ % 100))
for n in a s; do
	mkdir -p "/etc/netns/$(ns $n)"
	: >"/etc/netns/$(ns $n)/resolv.conf"
done
trap 'rm -rf /etc/netns/$(ns a) /etc/netns/$(ns s); cleanup' EXIT

# The upstream resolver: dnsmasq on the host's loopback, one name only.
dnsmasq --no-daemon --no-resolv --no-hosts --bind-interfaces \
	--listen-address="$UP" --port=53 --pid-file="$T/dnsmasq.pid" \
	--address=/upstream.example/192.0.2.77 --local-ttl=300 \
	>"$T/dnsmasq.log" 2>&1 &
EXTRA_PIDS=$!

write_net() { # write_net RANGE EXTRA_HOST_LINES
	cat >"$T/net.yaml" <<YAML
networks:
  - name: cfg
    mode: switch
    subnet: 10.237.0.0/24
    dhcp:
      range: $1
      lease_time: 1200
      routes:
        - to: 192.168.50.0/24
          via: 10.237.0.9
      hosts:
        - mac: 02:37:00:00:00:5e
          address: 10.237.0.5
          name: Static-Box
$2
    dns:
      domain: corp.test
      upstream: [$UP]
    ports:
      - name: pa
        tap: $TA
        netns: $(ns a)
      - name: ps
        tap: $TS
        netns: $(ns s)
YAML
}
dhcp() { # dhcp NS TAP HOSTNAME
	LEASE_OUT=$T/lease.$1 ip netns exec "$(ns "$1")" busybox udhcpc \
		-i "$2" -f -q -n -t 6 -T 1 -A 1 -s "$SCRIPT" -x "hostname:$3"
}
addr_of() {
	ip -n "$(ns "$1")" -o -4 addr show dev "$2" | awk '{print $4}' | cut -d/ -f1
}

write_net 10.237.0.100-10.237.0.109 ""
netd_start || exit 1
check "loom net apply of the file" "$LOOM" --socket "$SOCK" net apply "$T/net.yaml"
ip -n "$(ns a)" link set dev "$TA" address 02:37:00:00:00:0a
ip -n "$(ns s)" link set dev "$TS" address 02:37:00:00:00:5e
check "udhcpc in a" dhcp a "$TA" alpha
check "udhcpc on the static host's MAC" dhcp s "$TS" whatever
A=$(addr_of a "$TA")
check "a's address is in the declared range" \
	python3 -c "import sys; o=int('$A'.split('.')[3]); sys.exit(not ('$A'.startswith('10.237.0.') and 100 <= o <= 109))"
check "the static host got its fixed address" test "$(addr_of s "$TS")" = 10.237.0.5
check "the declared lease time (1200 s)" grep -q ' 1200$' "$T/lease.a"
check "search domain corp.test" grep -q 'search corp.test' "/etc/netns/$(ns a)/resolv.conf"
check "udhcpc got option 121: the declared route and the default" \
	grep -qx 'staticroutes 192.168.50.0/24 10.237.0.9 0.0.0.0/0 10.237.0.1' "$T/lease.a"
check "the classless route is in a's routing table" bash -c "
	ip -n $(ns a) route show 192.168.50.0/24 | grep -q 'via 10.237.0.9'"
if command -v dhclient >/dev/null; then
	# ISC dhclient on the static host's NIC: option 121 as it stores it
	# in its lease file (prefix, significant octets, gateway; RFC 3442).
	timeout 30 ip netns exec "$(ns s)" \
		dhclient -1 -sf "$ROOT/tests/netns/dhclient.script" \
		-lf "$T/dhclient.leases" -pf "$T/dhclient.pid" "$TS" 2>/dev/null
	kill "$(cat "$T/dhclient.pid" 2>/dev/null)" 2>/dev/null
	check "ISC dhclient got option 121" grep -q \
		'option rfc3442-classless-static-routes 24,192,168,50,10,237,0,9,0,10,237,0,1;' \
		"$T/dhclient.leases"
elif [ "${CI:-}" = true ]; then
	check "dhclient is installed (CI)" false
else
	echo "skipped: dhclient missing: option 121 to ISC dhclient not checked"
fi
check "the static host's name resolves (case-insensitive)" bash -c "
	ip netns exec $(ns a) nslookup static-box.corp.test 10.237.0.1 | grep -q 'Address: 10.237.0.5'"
check "a's own name resolves" bash -c "
	ip netns exec $(ns s) nslookup alpha.corp.test 10.237.0.1 | grep -q 'Address: $A'"
check "an upstream name resolves through the forwarder" bash -c "
	ip netns exec $(ns a) nslookup upstream.example 10.237.0.1 | grep -q 'Address: 192.0.2.77'"
check_not "an upstream NXDOMAIN stays one" bash -c "
	ip netns exec $(ns a) nslookup nosuch.example 10.237.0.1"
up_answer() { # up_answer: dig's answer line for upstream.example, TTL and address
	ip netns exec "$(ns a)" dig @10.237.0.1 +time=2 +tries=1 +noall +answer \
		upstream.example | awk '$1 == "upstream.example." {print $2, $5}'
}
check "dig through the forwarder (upstream TTL 300)" bash -c "
	$(declare -f up_answer ns); NS_PREFIX=$NS_PREFIX
	up_answer | grep -Eq '^(300|29[0-9]) 192.0.2.77$'"
kill "$EXTRA_PIDS" 2>/dev/null
wait "$EXTRA_PIDS" 2>/dev/null
sleep 1
check "upstream stopped: answered from the cache, TTL aged" bash -c "
	$(declare -f up_answer ns); NS_PREFIX=$NS_PREFIX
	read -r ttl addr < <(up_answer)
	[ \"\$addr\" = 192.0.2.77 ] && [ \"\$ttl\" -ge 1 ] && [ \"\$ttl\" -lt 300 ]"
check "loom lease list (text)" bash -c "
	'$LOOM' --socket '$SOCK' lease list cfg | grep -E '^cfg +02:37:00:00:00:0a +$A +alpha +pa +[0-9]+ +bound$'"
check "loom lease list --json" bash -c "
	'$LOOM' --socket '$SOCK' lease list --json | python3 -c '
import json, sys
l = {x[\"mac\"]: x for x in json.load(sys.stdin)[\"leases\"]}
assert l[\"02:37:00:00:00:5e\"][\"address\"] == \"10.237.0.5\", l
assert l[\"02:37:00:00:00:5e\"][\"host\"] == \"static-box\", l
assert l[\"02:37:00:00:00:0a\"][\"port\"] == \"pa\", l
'"
# Edit the file: another range and a second static host, applied live.
write_net 10.237.0.110-10.237.0.119 "        - mac: 02:37:00:00:00:77
          address: 10.237.0.7
          name: second"
check "loom net apply of the edited file" "$LOOM" --socket "$SOCK" net apply "$T/net.yaml"
check "the new static host resolves at once" bash -c "
	ip netns exec $(ns a) nslookup second.corp.test 10.237.0.1 | grep -q 'Address: 10.237.0.7'"
check "the lease outside the new range is gone, the static one kept" bash -c "
	'$LOOM' --socket '$SOCK' lease list cfg --json | python3 -c '
import json, sys
l = {x[\"mac\"]: x[\"address\"] for x in json.load(sys.stdin)[\"leases\"]}
assert l == {\"02:37:00:00:00:5e\": \"10.237.0.5\"}, l
'"
check "the TAPs were not rebuilt (a keeps its interface address)" \
	test "$(addr_of a "$TA")" = "$A"
check "a asks again and gets an address of the new range" dhcp a "$TA" alpha
check "a's new address is in the new range" bash -c "
	o=\$(ip -n $(ns a) -o -4 addr show dev $TA | awk '{print \$4}' | cut -d/ -f1 | cut -d. -f4)
	[ \$o -ge 110 ] && [ \$o -le 119 ]"
check "loom lease release of the static host's address" \
	"$LOOM" --socket "$SOCK" lease release cfg 10.237.0.5
check_not "released twice is an error" \
	"$LOOM" --socket "$SOCK" lease release cfg 10.237.0.5
netd_stop
finish
