#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-nat-user.sh - rootless nat: loom-netd as an ordinary user (no CAP_NET_ADMIN), a VM NIC attached over the shm port protocol reaches the host's loopback through libslirp and is reached through a live UDP forward; TAP ports refused with the reason; forwards back after kill -9.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NETD=$ROOT/build/loom-netd
LOOM=$ROOT/build/loom
PEER=$ROOT/build/tests/netns/nat_udp_peer
for b in "$NETD" "$LOOM" "$PEER"; do
	if [ ! -x "$b" ]; then
		echo "FAIL: $b not built (run make)"
		exit 1
	fi
done
# As root this runs everything as nobody; as any other user, as that user.
if [ "$(id -u)" -eq 0 ]; then
	if ! command -v setpriv >/dev/null; then
		echo "skipped: setpriv (util-linux) is needed to drop to nobody"
		exit 77
	fi
	AS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	if ! "${AS[@]}" test -x "$NETD" -a -x "$PEER"; then
		echo "skipped: nobody cannot run $NETD (the tree is not readable by other users)"
		exit 77
	fi
else
	AS=()
fi
T=$(mktemp -d /tmp/loom-natuser.XXXXXX)
chmod 0777 "$T"
RUN=$T/run
STATE=$T/state
SOCK=$RUN/netd.sock
NETD_PID=
PIDS=
FAILS=0
base=$((30000 + ($$ % 2000) * 4))
P_LO=$base
P_FWD=$((base + 1))

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() {
	local name=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name"
		sed 's/^/    /' "$T/check.out" | head -20
	fi
}
cleanup() {
	[ -n "$NETD_PID" ] && kill -9 "$NETD_PID" 2>/dev/null
	[ -n "$PIDS" ] && kill $PIDS 2>/dev/null
	wait 2>/dev/null
	if [ "$FAILS" -gt 0 ] && [ -f "$T/netd.log" ]; then
		echo "--- loom-netd log:"
		tail -40 "$T/netd.log"
	fi
	rm -rf "$T"
}
trap cleanup EXIT
loom() { "${AS[@]}" "$LOOM" --run-dir "$RUN" "$@"; }
netd_start() {
	"${AS[@]}" env -u XDG_RUNTIME_DIR "$NETD" --run-dir "$RUN" \
		--state-dir "$STATE" -v >>"$T/netd.log" 2>&1 &
	NETD_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && loom status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "loom-netd did not start:"
	cat "$T/netd.log"
	return 1
}

cat >"$T/udp_echo.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"host:" + d, a)
EOF
cat >"$T/udp_ask.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
for _ in range(5):
    s.sendto(b"hello", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recv(2048).decode())
        break
    except socket.timeout:
        pass
EOF
python3 "$T/udp_echo.py" "$P_LO" &
PIDS="$!"

netd_start || exit 1
check "netd runs without CAP_NET_ADMIN" \
	bash -c "$(declare -f loom); AS=(${AS[*]}); LOOM=$LOOM RUN=$RUN
	loom --json status | grep -q '\"net_admin\": false'"
check "a nat network, unprivileged" \
	loom net create u --subnet 10.0.2.0/24 --host-loopback
loom port add u --tap lmnatuser0 >"$T/tap.out" 2>&1
rc=$?
check "a TAP port is refused, naming CAP_NET_ADMIN" \
	bash -c "[ $rc -ne 0 ] && grep -q CAP_NET_ADMIN $T/tap.out"
check "an isolated network, unprivileged" \
	loom net create iso --mode isolated --subnet 10.0.9.0/24
loom net create br --mode bridge >"$T/br.out" 2>&1
rc=$?
check "a bridge network is refused, naming CAP_NET_ADMIN" \
	bash -c "[ $rc -ne 0 ] && grep -q CAP_NET_ADMIN $T/br.out"
check "VM NIC (shm) reaches the host's loopback over UDP through libslirp" \
	bash -c "${AS[*]} $PEER $SOCK u 10.0.2.15 10.0.2.1 8 $P_LO | grep -qx 'reply: host:hello'"
check "loom forward add udp above 1023, unprivileged" \
	loom forward add u udp "$P_FWD" 10.0.2.15:7
"${AS[@]}" "$PEER" "$SOCK" u 10.0.2.15 10.0.2.1 20 >"$T/peer.out" 2>&1 &
peer=$!
PIDS="$PIDS $peer"
sleep 0.5
check "the host reaches the VM NIC through the forward" \
	bash -c "python3 $T/udp_ask.py $P_FWD | grep -qx echo:hello"
if [ "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" -gt 80 ] &&
	[ ${#AS[@]} -gt 0 ]; then
	loom forward add u tcp 80 10.0.2.15 >"$T/low.out" 2>&1
	rc=$?
	check "a port below 1024 is refused, saying what it needs" \
		bash -c "[ $rc -ne 0 ] && grep -q CAP_NET_BIND_SERVICE $T/low.out"
fi
kill "$peer" 2>/dev/null
wait "$peer" 2>/dev/null

kill -9 "$NETD_PID"
wait "$NETD_PID" 2>/dev/null
NETD_PID=
netd_start || exit 1
check "after kill -9 and a restart: the forward is back" \
	bash -c "$(declare -f loom); AS=(${AS[*]}); LOOM=$LOOM RUN=$RUN
	loom forward list u | grep -q 'udp .*127.0.0.1:$P_FWD .* up'"
"${AS[@]}" "$PEER" "$SOCK" u 10.0.2.15 10.0.2.1 20 >"$T/peer.out" 2>&1 &
peer=$!
PIDS="$PIDS $peer"
sleep 0.5
check "after restart: the host reaches the VM NIC through it" \
	bash -c "python3 $T/udp_ask.py $P_FWD | grep -qx echo:hello"
kill "$peer" 2>/dev/null
kill "$NETD_PID"
wait "$NETD_PID"
rc=$?
NETD_PID=
check "netd exits cleanly" test "$rc" -eq 0
[ "$FAILS" -eq 0 ]
