#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-nat-limits.sh - the limits of a nat network hold under a hostile guest: guest a floods connections to the outside until its own share (256 NAT sockets) is used up and sends malformed IPv4/TCP/UDP frames, while guest b on the same network keeps reaching the outside and stays reachable through a forward; a's flows come back once it lets go; the 257th forward is refused with ENOSPC.
. "$(dirname "$0")/common.bash"
skip_unless_root

TA=lm$$la
TB=lm$$lb
VH=lm$$lh
VO=lm$$lo
# Below the ephemeral range (32768-): the flood's own connections take
# ports there. base+1..base+256 for the forward limit.
base=$((10000 + ($$ % 40) * 300))
P_FWD=$base
ns_add a
ns_add b
ns_add out

# The "outside": a namespace routed from the host over a veth pair.
ip link add "$VH" type veth peer name "$VO"
ip link set "$VO" netns "$(ns out)"
ip addr add 10.229.0.1/24 dev "$VH"
ip link set "$VH" up
ip -n "$(ns out)" addr add 10.229.0.2/24 dev "$VO"
ip -n "$(ns out)" link set "$VO" up
trap 'ip link del $VH 2>/dev/null; cleanup' EXIT
mkdir -p "$T/www"
echo "outside says hi" >"$T/www/file"
echo "guest b says hi" >"$T/www/b"
ip netns exec "$(ns out)" python3 -m http.server 8080 --bind 10.229.0.2 \
	--directory "$T/www" >/dev/null 2>&1 &
EXTRA_PIDS="$!"
# A server that takes every connection and holds it (the flood's target).
cat >"$T/hold.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.229.0.2", 9000))
s.listen(4096)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
EOF
ip netns exec "$(ns out)" python3 "$T/hold.py" >/dev/null 2>&1 &
hold=$!
EXTRA_PIDS="$EXTRA_PIDS $hold"
# flood.py N: N connections to the holder, kept open; prints how many
# connected, then waits (its flows stay until it is killed).
cat >"$T/flood.py" <<'EOF'
import select, socket, sys, time
socks, ok = [], 0
for i in range(int(sys.argv[1])):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("10.229.0.2", 9000))
    socks.append(s)
    if i % 50 == 49:
        time.sleep(0.05)
deadline = time.time() + 6
pending = set(socks)
while pending and time.time() < deadline:
    _, w, _ = select.select([], list(pending)[:1000], [], 0.2)
    for s in w:
        pending.discard(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            ok += 1
print(ok, flush=True)
time.sleep(120)
EOF
cat >"$T/get.py" <<'EOF'
import sys, urllib.request
sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=4).read())
EOF
# bad.py IFACE GWMAC: malformed IPv4/TCP/UDP frames at the gateway, 2000 each.
cat >"$T/bad.py" <<'EOF'
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
gw = bytes.fromhex(sys.argv[2].replace(":", ""))
me = s.getsockname()[4]
eth = gw + me + b"\x08\x00"
src, dst = socket.inet_aton("10.228.0.11"), socket.inet_aton("10.229.0.2")
def ip(proto, payload, ihl=5, tot=None):
    tot = 20 + len(payload) if tot is None else tot
    return struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, tot, 1, 0, 64, proto,
                       0, src, dst) + payload
frames = [
    eth + ip(6, b"\x00" * 8, ihl=15),                       # IHL past the end
    eth + ip(6, b"\x00" * 40, tot=65535),                   # total length lies
    eth + ip(6, struct.pack(">HHIIBBHHH", 1, 9000, 0, 0, 0xf0, 2, 0, 0, 0)),  # TCP offset 60 > segment
    eth + ip(6, b"\x01\x02"),                               # TCP cut short
    eth + ip(17, struct.pack(">HHHH", 1, 53, 4000, 0) + b"x"),  # UDP length lies
    eth + ip(17, b"\x00\x01"),                              # UDP cut short
    eth + b"\x45",                                          # IPv4 cut short
]
for _ in range(2000):
    for f in frames:
        s.send(f)
EOF
cat >"$T/fwds.py" <<'EOF'
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
base = int(sys.argv[2])
def call(i, cmd, args):
    m = json.dumps({"id": i, "cmd": cmd, "args": args}).encode()
    s.sendall(struct.pack(">I", len(m)) + m)
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    return json.loads(s.recv(n, socket.MSG_WAITALL))
ok = 0
for i in range(257):
    r = call(i, "forward.add", {"net": "nl", "host": str(base + i),
                                "guest": "10.228.0.12:8000"})
    if r["ok"]:
        ok += 1
    else:
        print(ok, r["error"]["code"], r["error"]["message"])
        break
for i in range(ok):
    call(1000 + i, "forward.remove", {"net": "nl", "host": str(base + i)})
EOF
nat_drops() { # nat_drops FIELD: the network's nat.drops.FIELD
	ctl net.show '{"name":"nl"}' | python3 -c "
import json, sys
print(json.load(sys.stdin)['result']['network']['nat']['drops']['$1'])"
}

cat >"$T/nl.yaml" <<EOF
networks:
  - name: nl
    subnet: 10.228.0.0/24
    ports:
      - tap: $TA
        netns: $(ns a)
        address: 10.228.0.11/24
      - tap: $TB
        netns: $(ns b)
        address: 10.228.0.12/24
    forwards:
      - host: $P_FWD
        guest: 10.228.0.12:8000
EOF
netd_start --config "$T/nl.yaml" || exit 1
for n in a b; do ip -n "$(ns $n)" route replace default via 10.228.0.1; done
ip netns exec "$(ns b)" python3 -m http.server 8000 --bind 10.228.0.12 \
	--directory "$T/www" >/dev/null 2>&1 &
EXTRA_PIDS="$EXTRA_PIDS $!"
sleep 0.5
check "before: guest a reaches the outside" \
	bash -c "[ \"\$(ip netns exec $(ns a) python3 $T/get.py http://10.229.0.2:8080/file)\" = 'outside says hi' ]"

ip netns exec "$(ns a)" python3 "$T/flood.py" 600 >"$T/flood.out" 2>&1 &
flood=$!
EXTRA_PIDS="$EXTRA_PIDS $flood"
for _ in $(seq 100); do [ -s "$T/flood.out" ] && break; sleep 0.1; done
n_ok=$(head -1 "$T/flood.out")
check "the flood: guest a gets at most its share of 600 connections ($n_ok)" \
	bash -c "[ -n '$n_ok' ] && [ '$n_ok' -ge 200 ] && [ '$n_ok' -le 300 ]"
check "the flood's extra connections are counted (nat.drops.conn_guest)" \
	bash -c "[ \"\$($(declare -f ctl nat_drops); CTL=$CTL SOCK=$SOCK nat_drops conn_guest)\" -gt 0 ]"
check "during the flood: guest b reaches the outside" \
	bash -c "[ \"\$(ip netns exec $(ns b) python3 $T/get.py http://10.229.0.2:8080/file)\" = 'outside says hi' ]"
check "during the flood: the forward to guest b works" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P_FWD/b)\" = 'guest b says hi' ]"
check_not "during the flood: guest a's new connections are held back" \
	ip netns exec "$(ns a)" python3 "$T/get.py" http://10.229.0.2:8080/file
check "malformed IPv4/TCP/UDP frames from guest a (14000)" \
	ip netns exec "$(ns a)" python3 "$T/bad.py" "$TA" 52:55:0a:e4:00:01
check "after them: guest b reaches the outside" \
	bash -c "[ \"\$(ip netns exec $(ns b) python3 $T/get.py http://10.229.0.2:8080/file)\" = 'outside says hi' ]"
check "after them: the forward to guest b works" \
	bash -c "[ \"\$(python3 $T/get.py http://127.0.0.1:$P_FWD/b)\" = 'guest b says hi' ]"
# Guest a lets go, and the far end closes too (half-closed connections
# would still hold their NAT sockets, as they should).
kill "$flood" "$hold" 2>/dev/null
wait "$flood" "$hold" 2>/dev/null
ok=
for _ in $(seq 40); do
	if [ "$(ip netns exec "$(ns a)" python3 "$T/get.py" http://10.229.0.2:8080/file 2>/dev/null)" = 'outside says hi' ]; then
		ok=1
		break
	fi
	sleep 0.5
done
check "once guest a lets go, its connections go through again" test -n "$ok"
python3 "$T/fwds.py" "$SOCK" $((base + 1)) >"$T/fwds.out" 2>&1
check "256 forwards per network: the 257th is refused with ENOSPC" \
	grep -q "^255 ENOSPC .*256 forwards already" "$T/fwds.out"
check "netd is alive and serving" ctl daemon.status
netd_stop
finish
