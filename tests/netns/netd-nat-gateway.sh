#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-nat-gateway.sh - mode nat: libslirp behind the gateway port. A
# namespace gets its lease from the gateway's DHCP, pings the gateway, its
# name resolves (A, and AAAA: the SLAAC address its kernel formed), and TCP to the gateway address reaches the host's loopback
# through libslirp; one MAC for the router on the switch.
. "$(dirname "$0")/common.bash"
skip_unless_root
ns_add a
TA=lm$$na
mkdir -p /etc/netns/$(ns a); : > /etc/netns/$(ns a)/resolv.conf
trap 'rm -rf /etc/netns/$(ns a); cleanup' EXIT
SCRIPT=$ROOT/tests/netns/udhcpc.script
netd_start || exit 1
check "net.create wan (mode nat, host_loopback, IPv6)" ctl net.create '{"name":"wan","mode":"nat","subnet":"10.236.0.0/24","subnet6":"fd00:236::/64","host_loopback":true}'
check "port.add" ctl port.add "{\"net\":\"wan\",\"name\":\"pa\",\"tap\":\"$TA\",\"netns\":\"$(ns a)\"}"
check "udhcpc gets a lease from the gateway in mode nat" env LEASE_OUT=$T/l ip netns exec $(ns a) busybox udhcpc -i $TA -f -q -n -t 6 -T 1 -s $SCRIPT -x hostname:alpha
check "ping of the gateway" ip netns exec $(ns a) ping -c 2 -W 2 10.236.0.1
check "SLAAC: a's kernel forms a global address from the advertised prefix" bash -c "
	for i in \$(seq 50); do
		ip -n $(ns a) -6 -o addr show dev $TA scope global | grep -q 'fd00:236::' && exit 0
		sleep 0.2
	done
	exit 1"
A6=$(ip -n "$(ns a)" -6 -o addr show dev "$TA" scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
# A router solicitation of our own: the answer's RDNSS and DNSSL options.
check "the gateway's RA names it as resolver (RDNSS) and wan.loom (DNSSL)" \
	ip netns exec "$(ns a)" python3 - "$TA" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[1].encode())
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
s.settimeout(1)
idx = socket.if_nametoindex(sys.argv[1])
rdnss = dnssl = None
for _ in range(10):
    try:  # EADDRNOTAVAIL while the link-local address is still tentative
        s.sendto(bytes([133, 0, 0, 0, 0, 0, 0, 0]), ("ff02::2", 0, 0, idx))
    except OSError:
        time.sleep(0.5)
        continue
    end = time.time() + 1
    while time.time() < end and rdnss is None:
        try:
            m = s.recv(1500)
        except socket.timeout:
            break
        if m[0] != 134:
            continue
        o = 16
        while o + 2 <= len(m) and m[o + 1]:
            t, n = m[o], m[o + 1] * 8
            if t == 25:
                rdnss = socket.inet_ntop(socket.AF_INET6, m[o + 8:o + 24])
            if t == 31:
                d, p = [], o + 8
                while m[p]:
                    d.append(m[p + 1:p + 1 + m[p]].decode())
                    p += 1 + m[p]
                dnssl = ".".join(d)
            o += n
    if rdnss:
        break
assert rdnss == "fd00:236::1", rdnss
assert dnssl == "wan.loom", dnssl
PY
check "AAAA of a's name is the EUI-64 address it formed ($A6)" bash -c "
	[ -n '$A6' ] && ip netns exec $(ns a) dig AAAA +short +time=2 +tries=1 @10.236.0.1 alpha.wan.loom | grep -qx '$A6'"
python3 -m http.server 18555 --bind 127.0.0.1 >/dev/null 2>&1 & EXTRA_PIDS=$!
sleep 0.5
check "tcp to host loopback through slirp" ip netns exec $(ns a) bash -c "exec 3<>/dev/tcp/10.236.0.1/18555 && printf 'GET / HTTP/1.0\r\n\r\n' >&3 && head -1 <&3 | grep -q 200"
check "nslookup of its own name at the gateway" bash -c "ip netns exec $(ns a) nslookup alpha.wan.loom 10.236.0.1 | grep -q Address:.10.236"
check "one router port: the gateway, libslirp behind it" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"wan\"}' | python3 -c '
import json, sys
p = json.load(sys.stdin)[\"result\"][\"ports\"]
assert sorted(x[\"backend\"] for x in p) == [\"gateway\", \"tap\"], p
'"
check "the frames reached libslirp through the gateway" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.show '{\"name\":\"wan\"}' | python3 -c '
import json, sys
n = json.load(sys.stdin)[\"result\"][\"network\"][\"nat\"]
assert n[\"to_nat_frames\"] > 0 and n[\"from_nat_frames\"] > 0, n
'"
netd_stop
finish
