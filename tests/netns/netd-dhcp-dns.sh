#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-dhcp-dns.sh - the gateway host: busybox udhcpc gets an address, route
# and resolver; ping of the gateway; nslookup of a peer's name and PTR
# against the gateway; leases listed; kill -9 + restart keeps every lease and
# a returning client gets its address again.
. "$(dirname "$0")/common.bash"
skip_unless_root
if ! busybox udhcpc --help 2>&1 | grep -q Usage || ! command -v nslookup >/dev/null; then
	echo "skipped: busybox udhcpc or nslookup missing (scripts/install-deps.sh)"
	exit 77
fi

ns_add a
ns_add b
ns_add c
TA=lm$$da
TB=lm$$db
TC=lm$$dc
SCRIPT=$ROOT/tests/netns/udhcpc.script
# ip netns exec bind-mounts /etc/netns/NS/resolv.conf over /etc/resolv.conf.
for n in a b c; do
	mkdir -p "/etc/netns/$(ns $n)"
	: >"/etc/netns/$(ns $n)/resolv.conf"
done
EXTRA_CLEAN="/etc/netns/$(ns a) /etc/netns/$(ns b) /etc/netns/$(ns c)"
trap 'rm -rf $EXTRA_CLEAN; cleanup' EXIT

dhcp() { # dhcp NS HOSTNAME: one udhcpc run in the foreground, exits bound
	LEASE_OUT=$T/lease.$1 ip netns exec "$(ns "$1")" busybox udhcpc \
		-i "$( [ "$1" = a ] && echo "$TA" || echo "$TB")" -f -q -n \
		-t 6 -T 1 -A 1 -s "$SCRIPT" -x "hostname:$2"
}
# A NIC keeps its MAC across a netd restart (a VM's does); a TAP netd
# recreates gets a new random one, so the test pins them.
set_macs() {
	ip -n "$(ns a)" link set dev "$TA" address 02:35:00:00:00:0a &&
	ip -n "$(ns b)" link set dev "$TB" address 02:35:00:00:00:0b
}
renew() { # renew NS ADDR: a RENEWING-state REQUEST (ciaddr, unicast, RFC 2131 4.3.2)
	ip netns exec "$(ns "$1")" python3 - "$2" "$3" <<'PY'
import socket, struct, sys
addr, mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, 68))
s.settimeout(3)
m = struct.pack(">BBBBIHH4s4s4s4s16s64s128sI", 1, 1, 6, 0, 0x4c4f4f4d, 0, 0,
                socket.inet_aton(addr), b"\0" * 4, b"\0" * 4, b"\0" * 4,
                mac, b"", b"", 0x63825363)
m += bytes([53, 1, 3, 61, 7, 1]) + mac + b"\xff"
s.sendto(m, ("10.235.0.1", 67))
r, _ = s.recvfrom(2048)
opts = r[240:]
assert r[4:8] == m[4:8], "xid"
assert socket.inet_ntoa(r[16:20]) == addr, socket.inet_ntoa(r[16:20])
assert opts[:3] == bytes([53, 1, 5]), opts[:3]   # ACK
print("ACK", addr)
PY
}
addr_of() { # addr_of NS TAP
	ip -n "$(ns "$1")" -o -4 addr show dev "$2" | awk '{print $4}' | cut -d/ -f1
}

HOSTDNS=$((20000 + $$ % 20000))
netd_start --dns-listen 127.0.0.1:$HOSTDNS || exit 1
check "net.create lab" ctl net.create \
	'{"name":"lab","mode":"switch","subnet":"10.235.0.0/24"}'
check "port.add a (no address: DHCP gives one)" ctl port.add \
	"{\"net\":\"lab\",\"name\":\"pa\",\"tap\":\"$TA\",\"netns\":\"$(ns a)\"}"
check "port.add b" ctl port.add \
	"{\"net\":\"lab\",\"name\":\"pb\",\"tap\":\"$TB\",\"netns\":\"$(ns b)\"}"
check "fixed MACs on the two NICs" set_macs
check "port.list shows the gateway port with its MAC" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"lab\"}' | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)[\"result\"][\"ports\"] if x[\"backend\"] == \"gateway\"]
assert len(p) == 1 and p[0][\"mac\"] == \"52:55:0a:eb:00:01\", p
assert p[0][\"address\"] == \"10.235.0.1\" and p[0][\"state\"] == \"up\", p
'"

check "udhcpc in netns a gets a lease" dhcp a alpha
check "udhcpc in netns b gets a lease" dhcp b beta
if command -v dhclient >/dev/null; then
	check "port.add c" ctl port.add \
		"{\"net\":\"lab\",\"name\":\"pc\",\"tap\":\"$TC\",\"netns\":\"$(ns c)\"}"
	# ISC dhclient: one try (-1), our hook script, its own lease file.
	check "ISC dhclient in netns c gets a lease" env LEASE_OUT="$T/lease.c" \
		timeout 30 ip netns exec "$(ns c)" dhclient -1 -v -sf "$ROOT/tests/netns/dhclient.script" \
		-lf "$T/dhclient.leases" -pf "$T/dhclient.pid" "$TC"
	kill "$(cat "$T/dhclient.pid" 2>/dev/null)" 2>/dev/null
	C=$(ip -n "$(ns c)" -o -4 addr show dev "$TC" | awk '{print $4}' | cut -d/ -f1)
	check "dhclient: address in the pool, router and resolver the gateway" bash -c "
		[[ '$C' == 10.235.0.* ]] &&
		ip -n $(ns c) route show default | grep -q 'via 10.235.0.1' &&
		grep -q 'nameserver 10.235.0.1' /etc/netns/$(ns c)/resolv.conf"
	ctl lease.release "{\"net\":\"lab\",\"lease\":\"$C\"}" >/dev/null
	ctl port.del '{"net":"lab","port":"pc"}' >/dev/null
elif [ "${CI:-}" = true ]; then
	fail "dhclient missing (isc-dhcp-client, scripts/install-deps.sh)"
else
	echo "skipped: dhclient not installed (isc-dhcp-client)"
fi
A=$(addr_of a "$TA")
B=$(addr_of b "$TB")
check "a's address lies in the default pool (10.235.0.128-254)" \
	python3 -c "import sys; o=int('$A'.split('.')[3]); sys.exit(not ('$A'.startswith('10.235.0.') and 128 <= o <= 254))"
check "a and b got different addresses" test -n "$A" -a "$A" != "$B"
check "default route via the gateway" \
	bash -c "ip -n $(ns a) route show default | grep -q 'via 10.235.0.1'"
check "resolver is the gateway, search domain lab.loom" bash -c "
	grep -q 'nameserver 10.235.0.1' /etc/netns/$(ns a)/resolv.conf &&
	grep -q 'search lab.loom' /etc/netns/$(ns a)/resolv.conf"
check "lease time 3600 s given" grep -q ' 3600$' "$T/lease.a"
check "ping of the gateway" \
	ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.235.0.1
check "ping of b through the switch" \
	ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 "$B"
check "nslookup beta.lab.loom from a answers b's address" bash -c "
	ip netns exec $(ns a) nslookup beta.lab.loom 10.235.0.1 | grep -q 'Address: $B'"
check "nslookup beta (search domain) from a" bash -c "
	ip netns exec $(ns a) nslookup beta | grep -q 'Address: $B'"
check "PTR of b's address is beta.lab.loom" bash -c "
	ip netns exec $(ns a) nslookup $B 10.235.0.1 | grep -q 'beta.lab.loom'"
check "gateway.lab.loom resolves to the gateway" bash -c "
	ip netns exec $(ns a) nslookup gateway.lab.loom 10.235.0.1 | grep -q 'Address: 10.235.0.1'"
check "the host resolves a guest's name (--dns-listen)" bash -c "
	dig @127.0.0.1 -p $HOSTDNS +short +time=2 +tries=1 beta.lab.loom | grep -qx '$B'"
check "the host gets the PTR too" bash -c "
	dig @127.0.0.1 -p $HOSTDNS +short +time=2 +tries=1 -x $B | grep -qx 'beta.lab.loom.'"
check "the host resolves it over TCP too (dig +tcp)" bash -c "
	dig @127.0.0.1 -p $HOSTDNS +tcp +short +time=2 +tries=1 beta.lab.loom | grep -qx '$B'"
check "two pipelined queries on one TCP connection, answered in order" \
	python3 - "$HOSTDNS" <<'PY'
import socket, struct, sys
def q(qid, name):
    m = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for l in name.split("."):
        m += bytes([len(l)]) + l.encode()
    m += b"\0" + struct.pack(">HH", 1, 1)
    return struct.pack(">H", len(m)) + m
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(q(0x1111, "alpha.lab.loom") + q(0x2222, "nosuch.lab.loom"))
buf = b""
while len(buf) < 4 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0] + 2:
    d = s.recv(4096)
    assert d, "closed early"
    buf += d
n1 = struct.unpack(">H", buf[:2])[0]
a1 = buf[2:2 + n1]
rest = buf[2 + n1:]
while len(rest) < 2 or len(rest) < 2 + struct.unpack(">H", rest[:2])[0]:
    rest += s.recv(4096)
a2 = rest[2:]
assert struct.unpack(">H", a1[:2])[0] == 0x1111 and a1[3] & 15 == 0, a1[:4]
assert struct.unpack(">H", a2[:2])[0] == 0x2222 and a2[3] & 15 == 3, a2[:4]
PY
check "names of no network are REFUSED to the host" bash -c "
	dig @127.0.0.1 -p $HOSTDNS +time=2 +tries=1 example.com | grep -q 'status: REFUSED'"
check_not "an unknown local name is NXDOMAIN" bash -c "
	ip netns exec $(ns a) nslookup nosuch.lab.loom 10.235.0.1"
check "lease.list: both leases, host names and ports" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl lease.list '{\"net\":\"lab\"}' | python3 -c '
import json, sys
l = {x[\"host\"]: x for x in json.load(sys.stdin)[\"result\"][\"leases\"]}
assert l[\"alpha\"][\"address\"] == \"$A\" and l[\"alpha\"][\"port\"] == \"pa\", l
assert l[\"beta\"][\"address\"] == \"$B\" and l[\"beta\"][\"port\"] == \"pb\", l
assert l[\"alpha\"][\"state\"] == \"bound\" and l[\"alpha\"][\"expires_in\"] > 3000, l
'"

kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
netd_start --dns-listen 127.0.0.1:$HOSTDNS || exit 1
check "after kill -9 + restart lease.list still has both leases" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl lease.list '{\"net\":\"lab\"}' | python3 -c '
import json, sys
l = {x[\"host\"]: x[\"address\"] for x in json.load(sys.stdin)[\"result\"][\"leases\"]}
assert l == {\"alpha\": \"$A\", \"beta\": \"$B\"}, l
'"
check "fixed MACs on the recreated NICs" set_macs
# b comes back as a guest that kept its configuration: address set, then a
# RENEWING-state REQUEST straight to the server.
ip -n "$(ns b)" addr add "$B/24" dev "$TB"
check "b's renewal after the restart is ACKed with its address" \
	renew b "$B" 02:35:00:00:00:0b
check "names resolve from the reloaded leases" bash -c "
	ip netns exec $(ns b) nslookup alpha.lab.loom 10.235.0.1 | grep -q 'Address: $A'"
# a starts over (DISCOVER): the lease file still gives it its address.
check "udhcpc in a after the restart" dhcp a alpha
check "a kept its address across kill -9" test "$(addr_of a "$TA")" = "$A"
check "lease.release of a's MAC" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	mac=\$(ip -n $(ns a) link show $TA | awk '/ether/ {print \$2}')
	ctl lease.release \"{\\\"net\\\":\\\"lab\\\",\\\"lease\\\":\\\"\$mac\\\"}\""
check "released: only b's lease left, on disk" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl lease.list '{\"net\":\"lab\"}' | grep -q beta &&
	! ctl lease.list '{\"net\":\"lab\"}' | grep -q alpha &&
	! grep -q alpha $STATE_DIR/leases.lab"
check "lease.release of an unknown address is ENOENT" bash -c "
	$(declare -f ctl_code); CTL=$CTL SOCK=$SOCK
	test \$(ctl_code lease.release '{\"net\":\"lab\",\"lease\":\"10.235.0.77\"}') = ENOENT"
netd_stop
finish
