#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# capture-user.sh - loom capture as an ordinary user on a nat network: the file is the user's, written where the user may write, never elsewhere.
#
# As nobody: loom-netd (no CAP_NET_ADMIN: a nat network needs none), a VM
# NIC (tests/netns/shm_attach_peer) on it, a port forward to the VM; a
# connection to the forward makes libslirp ARP for the VM and send it a
# TCP SYN. `loom capture` writes them to nobody's file; tshark reads it.
set -u
cd "$(dirname "$0")/../.."
LOOM=$PWD/${LOOM:-build/loom}
NETD=$PWD/${NETD:-build/loom-netd}
PEER=$PWD/${PEER:-build/tests/netns/shm_attach_peer}
for b in "$LOOM" "$NETD" "$PEER"; do
	[ -x "$b" ] || { echo "FAIL: $b not built (run make)"; exit 1; }
done
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null ||
	! command -v tshark >/dev/null || ! command -v capinfos >/dev/null; then
	echo "SKIP: capture-user: needs root (to become nobody), setpriv, tshark and capinfos"
	exit 77
fi
tmp=$(mktemp -d)
chmod 0755 "$tmp"
mkdir -m 0700 "$tmp/run" "$tmp/state" "$tmp/home"
chown 65534:65534 "$tmp/run" "$tmp/state" "$tmp/home"
AS=(env LOOM_RUN_DIR="$tmp/run" XDG_STATE_HOME="$tmp/state" HOME="$tmp/home"
	setpriv --reuid=65534 --regid=65534 --clear-groups --)
fails=0
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP_LOG:-}" ] && cp "$tmp/netd.log" "$KEEP_LOG"; rm -rf "$tmp"
}
trap cleanup EXIT
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then pass "$name"; else
		fail "$name"
		sed 's/^/    /' "$tmp/out" | head -10
	fi
}

"${AS[@]}" "$NETD" --run-dir "$tmp/run" --state-dir "$tmp/state" -v \
	>"$tmp/netd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	"${AS[@]}" "$LOOM" status >/dev/null 2>&1 && break
	sleep 0.05
done
PORT=$((20000 + RANDOM % 20000))
check "nobody creates a nat network" "${AS[@]}" "$LOOM" net create un \
	--mode nat --subnet 10.236.0.0/24
"${AS[@]}" "$PEER" "$tmp/run/netd.sock" un 10.236.0.50 20 >"$tmp/peer.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q attached "$tmp/peer.out" && break; sleep 0.1; done
check "a VM NIC attaches" grep -q '^attached' "$tmp/peer.out"
check "a forward to the VM" "${AS[@]}" "$LOOM" forward add un tcp \
	127.0.0.1:$PORT 10.236.0.50:80

check "-w where nobody may not write: refused by loom, nothing created" bash -c "
	! ${AS[*]} '$LOOM' capture un -w /root/loom-capture-test.pcapng -c 1 2>'$tmp/deny.err' &&
	grep -q 'Permission denied' '$tmp/deny.err' && [ ! -e /root/loom-capture-test.pcapng ]"

"${AS[@]}" "$LOOM" capture un -w "$tmp/home/u.pcapng" 2>"$tmp/cap.err" &
cap=$!
pids+=($cap)
for _ in $(seq 100); do
	"${AS[@]}" "$LOOM" capture list 2>/dev/null | grep -q '^[0-9]' && break
	sleep 0.05
done
# The connection makes libslirp ARP for the VM, then send it a SYN.
timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; sleep 2" 2>/dev/null
kill -INT $cap
wait $cap
check "the capture ends cleanly with its summary" \
	grep -Eq '^[1-9][0-9]* frames captured, 0 dropped' "$tmp/cap.err"
check "the file belongs to nobody" bash -c \
	"[ \"\$(stat -c %u '$tmp/home/u.pcapng')\" = 65534 ]"
# (the SYN enters from the network's own port: the nat uplink or gateway)
check "tshark reads it: ARP for the VM out, its answer in, the SYN out" bash -c "
	tshark -n -r '$tmp/home/u.pcapng' -T fields -E separator=' ' -e frame.interface_name \
		-e frame.packet_flags_direction -e arp.opcode -e tcp.flags.syn 2>/dev/null |
		sed -E 's/ 0x0000000([0-3])/ \\1/' >'$tmp/f'
	grep -qx 'un:vm-004c4d01 2 1 ' '$tmp/f' && grep -qx 'un:vm-004c4d01 1 2 ' '$tmp/f' &&
	grep -qx 'un:vm-004c4d01 2  1' '$tmp/f' &&
	grep -v '^un:vm-' '$tmp/f' | grep -Eqx 'un:[a-z0-9._-]+ 1  1'"
check "one interface per port, named NET:PORT" bash -c "
	capinfos -I '$tmp/home/u.pcapng' | grep -q 'Name = un:vm-004c4d01\$' &&
	capinfos -I '$tmp/home/u.pcapng' | grep -v 'Name = un:vm-' | grep -Eq 'Name = un:[a-z0-9._-]+\$'"

# --- Declared captures: in the network file, restarted with netd ---------
PORT2=$((PORT + 1))
cat >"$tmp/dn.yaml" <<YAML
networks:
  - name: dn
    mode: nat
    subnet: 10.237.0.0/24
    forwards:
      - {host: "127.0.0.1:$PORT2", guest: "10.237.0.50:80"}
    captures:
      - {name: all, rotate_size: 1, rotate_files: 2}
YAML
DECL=$tmp/state/captures/dn.all.pcapng
check "a network file declares a capture" "${AS[@]}" "$LOOM" net apply "$tmp/dn.yaml"
peer_dn() {
	"${AS[@]}" "$PEER" "$tmp/run/netd.sock" dn 10.237.0.50 8 >"$tmp/peer2.out" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do grep -q attached "$tmp/peer2.out" && break; sleep 0.1; done
}
peer_dn
for _ in $(seq 50); do [ -e "$DECL.0" ] && break; sleep 0.1; done
check "it runs: loom capture list names it and its file" bash -c "
	${AS[*]} '$LOOM' --json capture list >'$tmp/l.json'
	python3 -c '
import json
c = [x for x in json.load(open(\"$tmp/l.json\"))[\"captures\"] if x.get(\"declared\") == \"all\"]
assert len(c) == 1 and c[0][\"file\"] == \"$DECL.0\", c
'"
timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT2; sleep 1.5" 2>/dev/null
syn_in() { # syn_in FILE: the SYN to the VM is in FILE
	tshark -n -r "$1" -Y 'tcp.flags.syn == 1 && frame.interface_name == "dn:vm-004c4d01"' 2>/dev/null | grep -q .
}
check "netd writes the declared capture's file (nobody's, in STATE_DIR)" bash -c "
	$(declare -f syn_in); syn_in '$DECL.0' && [ \"\$(stat -c %u '$DECL.0')\" = 65534 ]"
kill -9 "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
"${AS[@]}" "$NETD" --run-dir "$tmp/run" --state-dir "$tmp/state" -v \
	>>"$tmp/netd.log" 2>&1 &
pids[0]=$!
for _ in $(seq 100); do
	"${AS[@]}" "$LOOM" status >/dev/null 2>&1 && break
	sleep 0.05
done
peer_dn
for _ in $(seq 50); do [ -e "$DECL.1" ] && break; sleep 0.1; done
timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT2; sleep 1.5" 2>/dev/null
check "after kill -9 and a restart it runs again, into the next file" bash -c "
	$(declare -f syn_in); syn_in '$DECL.1' && syn_in '$DECL.0'"
sed -i '/captures:/,$d' "$tmp/dn.yaml"
check "declared away: the capture stops" bash -c "
	${AS[*]} '$LOOM' net apply '$tmp/dn.yaml' &&
	! ${AS[*]} '$LOOM' capture list | grep -q '^[0-9]'"

[ $fails -eq 0 ] || { cat "$tmp/cap.err"; tail -5 "$tmp/netd.log"; }
[ $fails -eq 0 ]
