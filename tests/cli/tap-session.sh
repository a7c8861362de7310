#!/usr/bin/env bash
# tap-session.sh - the README's session with `loom` (root): file -> netd, two namespaces ping, ports and MACs listed.
#
# A network file declares two TAP ports in two namespaces; `loom net apply`
# sends it, the namespaces ping each other through loom's switch, and `loom
# port list` / `loom fdb show` report it, as text and as JSON. Then a trunk
# port is added and deleted by hand, the MAC table flushed, the network
# deleted, and no TAP is left behind.
set -u
cd "$(dirname "$0")/../.."
LOOM=$PWD/${LOOM:-build/loom}
NETD=$PWD/${NETD:-build/loom-netd}
[ -x "$LOOM" ] || { echo "FAIL: $LOOM not built (run make)"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: tap-session: needs root for TAP interfaces and network namespaces"
	exit 77
fi
if [ ! -x "$NETD" ]; then
	echo "SKIP: tap-session: $NETD is not built, so there is no daemon to talk to"
	exit 77
fi
for t in jq ip ping; do
	command -v $t >/dev/null || { echo "SKIP: tap-session: $t is missing"; exit 77; }
done

tmp=$(mktemp -d)
export LOOM_RUN_DIR=$tmp/run
out=$tmp/out err=$tmp/err
id=$$
NSA=lmcli$id-a NSB=lmcli$id-b
TA=lmc${id}a TB=lmc${id}b TT=lmc${id}t
NET=cli$id
netd_pid=
fails=0

cleanup() {
	[ -n "$netd_pid" ] && kill "$netd_pid" 2>/dev/null && wait "$netd_pid" 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	for t in "$TA" "$TB" "$TT"; do ip link del "$t" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	sed 's/^/    stdout: /' "$out" | head -8
	sed 's/^/    stderr: /' "$err" | head -5
	fails=$((fails + 1))
}
expect() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	"$LOOM" "$@" >"$out" 2>"$err" </dev/null
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "    exit $rc, wanted $want"
		fail "$name"
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$out" "$err"; then
		echo "    output lacks: $pat"
		fail "$name"
	else
		pass "$name"
	fi
}
check_json() {
	local got
	got=$(jq -c "$2" "$out" 2>&1)
	if [ "$got" = "$3" ]; then
		pass "$1"
	else
		echo "    jq '$2' gave $got, wanted $3"
		fail "$1"
	fi
}

ip netns add "$NSA" && ip netns add "$NSB" || { echo "FAIL: ip netns add"; exit 1; }
"$NETD" --run-dir "$tmp/run" --state-dir "$tmp/state" >"$tmp/netd.log" 2>&1 &
netd_pid=$!
for _ in $(seq 100); do
	"$LOOM" status >/dev/null 2>&1 && break
	sleep 0.05
done

cat >"$tmp/lab.yaml" <<EOF
networks:
  - name: $NET
    mode: switch
    subnet: 10.232.0.0/24
    ports:
      - name: a
        tap: $TA
        netns: $NSA
        address: 10.232.0.2/24
      - name: b
        tap: $TB
        netns: $NSB
        address: 10.232.0.3/24
EOF
expect "net apply creates the network" 0 "network $NET: created" -- net apply "$tmp/lab.yaml"

if ip netns exec "$NSA" ping -c 3 -i 0.2 -W 2 10.232.0.3 >"$out" 2>&1; then
	pass "ping a -> b through loom"
else
	fail "ping a -> b through loom"
fi

expect "port list (text)" 0 "" -- port list "$NET"
for p in a b; do
	line=$(grep -E "^$NET +$p " "$out")
	# NET PORT DEVICE NETNS ADDRESS VLAN STATE RX_FRAMES RX_BYTES TX_FRAMES TX_BYTES DROPS
	set -- $line
	if [ "${7:-}" = up ] && [ "${8:-0}" -ge 3 ] && [ "${10:-0}" -ge 3 ] && [ "${6:-}" = 1 ]; then
		pass "port list (text): port $p up, VLAN 1, frames counted"
	else
		echo "    line: $line"
		fail "port list (text): port $p up, VLAN 1, frames counted"
	fi
done
expect "port list --json" 0 "" -- port list "$NET" --json
check_json "port list --json: both up with traffic" \
	'[.ports[] | select(.backend != "gateway") | [.name, .state, (.counters.rx_frames >= 3), (.counters.tx_frames >= 3)]] | sort' \
	'[["a","up",true,true],["b","up",true,true]]'

ma=$(ip -n "$NSA" -o link show "$TA" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
mb=$(ip -n "$NSB" -o link show "$TB" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
expect "fdb show (text): a's MAC on port a" 0 "^$ma +1 +a +[0-9]+$" -- fdb show "$NET"
grep -qE "^$mb +1 +b +[0-9]+$" "$out" && pass "fdb show (text): b's MAC on port b" ||
	fail "fdb show (text): b's MAC on port b"
expect "fdb show --json" 0 "" -- fdb show "$NET" --json
check_json "fdb show --json: both MACs" \
	"[.entries[] | select(.mac == \"$ma\" or .mac == \"$mb\") | [.mac, .vlan, .port]] | sort_by(.[2])" \
	"[[\"$ma\",1,\"a\"],[\"$mb\",1,\"b\"]]"

expect "port add trunk" 0 "added port t to network $NET" -- \
	port add "$NET" --tap "$TT" --name t --trunk 10,20-22 --native 1
expect "port list shows the trunk" 0 "trunk 10,20-22 native 1 +up" -- port list "$NET"
expect "port add: TAP taken" 1 "" -- port add "$NET" --tap "$TT" --name t2
expect "port del trunk" 0 "deleted port t" -- port del "$NET" t
if ip link show "$TT" >/dev/null 2>&1; then fail "port del removes the TAP"; else pass "port del removes the TAP"; fi

expect "fdb flush --json" 0 "" -- fdb flush "$NET" --json
check_json "fdb flush --json: both MACs went" '.flushed >= 2' true
expect "net show: ports listed" 0 "^a +$TA +$NSA +10\.232\.0\.2/24" -- net show "$NET"

expect "net delete" 0 "deleted network $NET" -- net delete "$NET"
if ip -n "$NSA" link show "$TA" >/dev/null 2>&1 || ip -n "$NSB" link show "$TB" >/dev/null 2>&1; then
	fail "net delete removes the TAPs"
else
	pass "net delete removes the TAPs"
fi

echo "tap-session.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
