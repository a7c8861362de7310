#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-nat.sh - mode nat through libslirp: namespaces on TAP ports reach an "outside" namespace (TCP, UDP, IPv4, IPv6) and, only where declared, the host's loopback; live port forwards (IPv4 and IPv6) added and removed; MTU 65520 end to end; forwards back after kill -9.
. "$(dirname "$0")/common.bash"
skip_unless_root

TA=lm$$na
TB=lm$$nb
VH=lm$$oh
VO=lm$$oo
# Ports from this test's pid, so parallel runs do not collide.
base=$((20000 + ($$ % 2000) * 8))
P_LO=$base		# server on the host's 127.0.0.1
P1=$((base + 1))	# forward, removed half-way
P2=$((base + 2))	# forward that stays
P6=$((base + 3))	# IPv6 forward
P_BUSY=$((base + 4))	# taken by another program
P_UDP=$((base + 5))	# UDP forward

ns_add a
ns_add b
ns_add out

# py SCRIPT ARGS: the test's small Python helpers, one per job.
cat >"$T/get.py" <<'EOF'
import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=20).read())
EOF
cat >"$T/udp_echo.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"echo:" + d, a)
EOF
cat >"$T/udp_ask.py" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(3):
    s.sendto(b"hello", (sys.argv[1], int(sys.argv[2])))
    try:
        print(s.recv(2048).decode())
        break
    except socket.timeout:
        pass
EOF
# sink.py PORT: counts the bytes of each connection, prints the count.
cat >"$T/sink.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("::", int(sys.argv[1])))
s.listen(4)
while True:
    c, _ = s.accept()
    n = 0
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        n += len(d)
    c.sendall(str(n).encode())
    c.close()
EOF
cat >"$T/push.py" <<'EOF'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
buf = b"x" * (1 << 20)
for _ in range(int(sys.argv[3])):
    c.sendall(buf)
c.shutdown(socket.SHUT_WR)
print(c.recv(64).decode())
EOF
get() { python3 "$T/get.py" "$@"; }
nsget() { local n=$1; shift; ip netns exec "$(ns "$n")" python3 "$T/get.py" "$@"; }

# The "outside": a namespace routed from the host over a veth pair.
ip link add "$VH" type veth peer name "$VO"
ip link set "$VO" netns "$(ns out)"
ip addr add 10.237.0.1/24 dev "$VH"
ip -6 addr add fd00:237::1/64 dev "$VH" nodad
ip link set "$VH" up
ip -n "$(ns out)" addr add 10.237.0.2/24 dev "$VO"
ip -n "$(ns out)" -6 addr add fd00:237::2/64 dev "$VO" nodad
ip -n "$(ns out)" link set "$VO" up
mkdir -p "$T/www-out" "$T/www-lo" "$T/www-a"
echo "outside says hi" >"$T/www-out/file"
echo "host loopback says hi" >"$T/www-lo/file"
echo "guest a says hi" >"$T/www-a/file"
dd if=/dev/urandom of="$T/www-out/big" bs=1M count=16 status=none
ip netns exec "$(ns out)" python3 -m http.server 8080 --bind :: \
	--directory "$T/www-out" >/dev/null 2>&1 &
EXTRA_PIDS="$!"
ip netns exec "$(ns out)" python3 "$T/udp_echo.py" 5353 >/dev/null 2>&1 &
EXTRA_PIDS="$EXTRA_PIDS $!"
ip netns exec "$(ns out)" python3 "$T/sink.py" 9000 >/dev/null 2>&1 &
EXTRA_PIDS="$EXTRA_PIDS $!"
python3 -m http.server "$P_LO" --bind 127.0.0.1 --directory "$T/www-lo" \
	>/dev/null 2>&1 &
EXTRA_PIDS="$EXTRA_PIDS $!"

cat >"$T/nat.yaml" <<EOF
networks:
  - name: nt
    subnet: 10.235.0.0/24
    subnet6: fd00:235::/64
    host_loopback: true
    ports:
      - tap: $TA
        netns: $(ns a)
        address: 10.235.0.15/24
    forwards:
      - host: $P2
        guest: 10.235.0.15:8000
  - name: nb
    mode: nat
    subnet: 10.236.0.0/24
    mtu: 65520
    ports:
      - tap: $TB
        netns: $(ns b)
        address: 10.236.0.15/24
EOF
netd_start --config "$T/nat.yaml" || exit 1

# Routes and the IPv6 address of the namespaces (no DHCP in this test:
# the addresses are static, the gateway is libslirp's).
ns_routes() {
	ip -n "$(ns a)" route replace default via 10.235.0.1
	ip -n "$(ns a)" -6 addr replace fd00:235::15/64 dev "$TA" nodad
	ip -n "$(ns a)" -6 route replace default via fd00:235::1
	ip -n "$(ns b)" route replace default via 10.236.0.1
}
ns_routes
ip netns exec "$(ns a)" python3 -m http.server 8000 --bind :: \
	--directory "$T/www-a" >/dev/null 2>&1 &
EXTRA_PIDS="$EXTRA_PIDS $!"
sleep 0.5

check "mode nat is the default (network nt has no mode:)" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.show '{\"name\":\"nt\"}' | grep -q '\"mode\": \"nat\"'"
check "the gateway answers ping (libslirp's virtual host)" \
	ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 10.235.0.1
check "TCP to the outside namespace through libslirp" \
	bash -c "[ \"\$(ip netns exec $(ns a) python3 $T/get.py http://10.237.0.2:8080/file)\" = 'outside says hi' ]"
check "UDP to the outside namespace through libslirp" \
	bash -c "ip netns exec $(ns a) python3 $T/udp_ask.py 10.237.0.2 5353 | grep -qx echo:hello"
check "IPv6 TCP to the outside through libslirp" \
	bash -c "[ \"\$(ip netns exec $(ns a) python3 $T/get.py 'http://[fd00:237::2]:8080/file')\" = 'outside says hi' ]"
check "the host's loopback at the gateway address (host_loopback: true)" \
	bash -c "[ \"\$(ip netns exec $(ns a) python3 $T/get.py http://10.235.0.1:$P_LO/file)\" = 'host loopback says hi' ]"
check_not "no host loopback where the network does not declare it" \
	ip netns exec "$(ns b)" python3 "$T/get.py" "http://10.236.0.1:$P_LO/file"
check "MTU 65520 network: TAP MTU" \
	bash -c "ip -n $(ns b) link show $TB | grep -q 'mtu 65520'"
check "MTU 65520: 16 MiB from the outside arrive whole" \
	bash -c "ip netns exec $(ns b) python3 $T/get.py http://10.237.0.2:8080/big | cmp -s - $T/www-out/big"
check "MTU 65520: 64 MiB to the outside, every byte counted" \
	bash -c "[ \"\$(ip netns exec $(ns b) python3 $T/push.py 10.237.0.2 9000 64)\" = $((64 << 20)) ]"
check "MTU 1500 with TSO from the TAP: 64 MiB to the outside" \
	bash -c "[ \"\$(ip netns exec $(ns a) python3 $T/push.py 10.237.0.2 9000 64)\" = $((64 << 20)) ]"
check "the TAP's 64 KiB TSO frames reached libslirp whole (GSO counted)" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl net.show '{\"name\":\"nt\"}' | python3 -c '
import json, sys
n = json.load(sys.stdin)[\"result\"][\"network\"][\"nat\"]
assert n[\"to_nat_gso_frames\"] > 0, n
'"
check "no frame dropped for bad offload metadata" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	for n in nt nb; do ctl net.show \"{\\\"name\\\":\\\"\$n\\\"}\" | python3 -c '
import json, sys
d = json.load(sys.stdin)[\"result\"][\"network\"][\"nat\"][\"drops\"]
assert d[\"bad_offload\"] == 0 and d[\"udp_gso\"] == 0, d
' || exit 1; done"

# Forwards: the declared one, live ones added and removed.
check "declared forward (network file) reaches the guest" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P2/file)\" = 'guest a says hi' ]"
check "loom forward add (IPv4)" "$LOOM" --run-dir "$RUN_DIR" forward add nt tcp "127.0.0.1:$P1" 10.235.0.15:8000
check "loom forward add (IPv6 host and guest)" "$LOOM" --run-dir "$RUN_DIR" forward add nt tcp "[::1]:$P6" "[fd00:235::15]:8000"
check "live IPv4 forward reaches the guest" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P1/file)\" = 'guest a says hi' ]"
check "live IPv6 forward reaches the guest over IPv6" \
	bash -c "[ \"\$(python3 $T/get.py 'http://[::1]:$P6/file')\" = 'guest a says hi' ]"
ip netns exec "$(ns a)" python3 "$T/udp_echo.py" 7007 >/dev/null 2>&1 &
EXTRA_PIDS="$EXTRA_PIDS $!"
sleep 0.3
check "loom forward add udp" "$LOOM" --run-dir "$RUN_DIR" forward add nt udp "$P_UDP" 10.235.0.15:7007
check "UDP forward reaches the guest and back" \
	bash -c "python3 $T/udp_ask.py 127.0.0.1 $P_UDP | grep -qx echo:hello"
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',$P_BUSY)); s.listen(); time.sleep(30)" &
busy_pid=$!
EXTRA_PIDS="$EXTRA_PIDS $busy_pid"
sleep 0.3
"$LOOM" --run-dir "$RUN_DIR" forward add nt tcp "$P_BUSY" 10.235.0.15:8000 >"$T/busy.out" 2>&1
rc=$?
check "a host port in use: exit 1, the port named" \
	bash -c "[ $rc = 1 ] && grep -q '127.0.0.1:$P_BUSY (tcp) is in use' $T/busy.out"
check "loom forward list shows them up" \
	bash -c "'$LOOM' --run-dir '$RUN_DIR' forward list nt | grep -c ' up ' | grep -qx 4"
check "loom forward remove" "$LOOM" --run-dir "$RUN_DIR" forward remove nt tcp "$P1"
check_not "a removed forward refuses connections at once" \
	python3 "$T/get.py" "http://127.0.0.1:$P1/file"
check "the other forward keeps working" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P2/file)\" = 'guest a says hi' ]"

# kill -9 and restart: the declared forwards listen again.
kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
check_not "after kill -9 nothing listens on the forward" \
	python3 "$T/get.py" "http://127.0.0.1:$P2/file"
netd_start || exit 1
ns_routes
check "after restart: the forwards are declared again" \
	bash -c "'$LOOM' --run-dir '$RUN_DIR' forward list nt --json | python3 -c '
import json, sys
f = json.load(sys.stdin)[\"forwards\"]
hosts = sorted(x[\"host\"] for x in f if x[\"state\"] == \"up\")
assert hosts == sorted([\"127.0.0.1:$P2\", \"[::1]:$P6\", \"127.0.0.1:$P_UDP\"]), f
'"
check "after restart: the file's forward reaches the guest" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P2/file)\" = 'guest a says hi' ]"
check "after restart: the live IPv6 forward too" \
	bash -c "[ \"\$(python3 $T/get.py 'http://[::1]:$P6/file')\" = 'guest a says hi' ]"
check_not "after restart: the removed forward stays removed" \
	python3 "$T/get.py" "http://127.0.0.1:$P1/file"
# loom net apply changes forwards live, without rebuilding the network.
P7=$((base + 6))
sed "s|^    forwards:|    forwards:\n      - host: $P7\n        guest: 10.235.0.15:8000|" \
	"$T/nat.yaml" >"$T/nat2.yaml"
ifindex_before=$(ip -n "$(ns a)" -o link show "$TA" | cut -d: -f1)
check "net apply with one forward more: updated" \
	bash -c "'$LOOM' --run-dir '$RUN_DIR' net apply $T/nat2.yaml | grep -q 'network nt: updated'"
check "the applied forward reaches the guest" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P7/file)\" = 'guest a says hi' ]"
check "net apply did not rebuild the network (same TAP)" \
	test "$(ip -n "$(ns a)" -o link show "$TA" | cut -d: -f1)" = "$ifindex_before"
check "net apply of the file without it removes the forward" \
	bash -c "'$LOOM' --run-dir '$RUN_DIR' net apply $T/nat.yaml >/dev/null &&
	! python3 $T/get.py http://127.0.0.1:$P7/file 2>/dev/null"
check "net delete closes the network's listeners" bash -c "
	'$LOOM' --run-dir '$RUN_DIR' net delete nt >/dev/null &&
	! python3 $T/get.py http://127.0.0.1:$P2/file 2>/dev/null"
netd_stop
ip link del "$VH" 2>/dev/null
finish
