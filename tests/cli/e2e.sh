#!/usr/bin/env bash
# e2e.sh - a `loom` session against a real loom-netd in a temporary run dir, rootless.
#
# netd and loom run as an unprivileged user (nobody when started as root),
# so this also shows that isolated and switch networks without TAP ports
# need no root. Networks are declared, listed, shown (text and JSON),
# applied from files, their MAC tables read and flushed, then netd is
# stopped and restarted from its state dir.
set -u
cd "$(dirname "$0")/../.."
LOOM=$PWD/${LOOM:-build/loom}
NETD=$PWD/${NETD:-build/loom-netd}
[ -x "$LOOM" ] || { echo "FAIL: $LOOM not built (run make)"; exit 1; }
if [ ! -x "$NETD" ]; then
	echo "SKIP: e2e: $NETD is not built, so there is no daemon to talk to"
	exit 77
fi
if ! command -v jq >/dev/null; then
	echo "SKIP: e2e: jq is missing (apt-get install jq); it checks the --json output"
	exit 77
fi

tmp=$(mktemp -d)
chmod 0755 "$tmp"
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
	if ! command -v setpriv >/dev/null; then
		echo "SKIP: e2e: running as root and setpriv (util-linux) is missing to drop to nobody"
		exit 77
	fi
	RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	chown 65534:65534 "$tmp"
fi
run() { "${RUNAS[@]}" "$@"; }
run mkdir "$tmp/run" "$tmp/state" "$tmp/files"
export LOOM_RUN_DIR=$tmp/run
out=$tmp/out err=$tmp/err
netd_pid=
fails=0

cleanup() {
	[ -n "$netd_pid" ] && kill "$netd_pid" 2>/dev/null && wait "$netd_pid" 2>/dev/null
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

# expect NAME RC [stderr-or-stdout pattern] -- loom ARGS...
expect() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	run "$LOOM" "$@" >"$out" 2>"$err" </dev/null
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "    exit $rc, wanted $want"
		fail "$name"
	elif [ -n "$pat" ] && ! grep -qF -- "$pat" "$out" "$err"; then
		echo "    output lacks: $pat"
		fail "$name"
	else
		pass "$name"
	fi
}

# check NAME JQ-FILTER EXPECTED: the last stdout, as JSON.
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

start_netd() {
	local i
	# Not through run(): $! must be netd itself (setpriv execs it).
	"${RUNAS[@]}" "$NETD" --run-dir "$tmp/run" --state-dir "$tmp/state" \
		>>"$tmp/netd.log" 2>&1 &
	netd_pid=$!
	for i in $(seq 100); do
		run "$LOOM" status >/dev/null 2>&1 && return 0
		kill -0 "$netd_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL: loom-netd did not come up"
	tail -5 "$tmp/netd.log"
	return 1
}

expect "before netd: status is unreachable" 3 "cannot reach loom-netd at $tmp/run/netd.sock" -- status
start_netd || exit 1

expect "status" 0 "loom-netd at $tmp/run/netd.sock" -- status
expect "status --json" 0 "" -- status --json
check_json "status --json: netd's pid" .pid "$netd_pid"
check_json "status --json: run dir" .run_dir "\"$tmp/run\""

expect "net create isolated" 0 "gateway:         10.50.0.1" -- \
	net create iso --mode isolated --subnet 10.50.0.0/24 --mac-aging 60
expect "net create switch, no subnet" 0 "created network l2" -- \
	net create l2 --mode switch --mtu 9000
expect "net create: exists already" 1 "exists already" -- \
	net create iso --mode isolated
expect "net create: invalid value stays local" 2 "--mtu: must be 68..65535" -- \
	net create big --mode switch --mtu 65536
expect "net create --json" 0 "" -- net create j --mode isolated --json
check_json "net create --json: defaults" '.network | [.mtu, .mac_table_size, .mac_aging]' "[1500,4096,300]"

expect "net list" 0 "" -- net list
if grep -qE '^iso +isolated +10\.50\.0\.0/24 +10\.50\.0\.1 +1500 +0 +0$' "$out" &&
	grep -qE '^l2 +switch +- +- +9000 ' "$out" && head -1 "$out" | grep -q '^NAME  *MODE'; then
	pass "net list: table"
else
	fail "net list: table"
fi
expect "net list --json" 0 "" -- --json net list
check_json "net list --json: names" '[.networks[].name] | sort' '["iso","j","l2"]'
check_json "net list --json: exactly the result" 'keys' '["networks"]'

expect "net show" 0 "mac aging:       60 s" -- net show iso
grep -q "no ports" "$out" || fail "net show: says it has no ports"
expect "net show --json" 0 "" -- net show l2 --json
check_json "net show --json: network" '.network | [.name, .mode, .mtu]' '["l2","switch",9000]'
expect "net show: unknown network" 1 "loom: network 'nope' does not exist" -- net show nope
expect "net show: netd's error code is printed" 1 "does not exist (ENOENT)" -- net show nope
expect "net show --json: the error object on stdout" 1 "" -- --json net show nope
check_json "net show --json: error.code" .error.code '"ENOENT"'
# A name with an escape sequence comes back in netd's message: the terminal
# must not receive the ESC byte.
expect "net show: control bytes from netd are not printed" 1 "'?[31mred' does not exist" -- net show $'\e[31mred'
if grep -q $'\e' "$err"; then
	fail "net show: ESC byte reached the terminal"
fi

cat >"$tmp/files/two.yaml" <<'EOF'
networks:
  - name: filed
    mode: switch
    subnet: 10.60.0.0/24
  - name: calm
    mode: isolated
    mac_table_size: 64
EOF
expect "net apply: created" 0 "network filed: created" -- net apply "$tmp/files/two.yaml"
grep -q "network calm: created" "$out" || fail "net apply: both created"
expect "net apply again: unchanged" 0 "network filed: unchanged" -- net apply "$tmp/files/two.yaml"
sed 's/mac_table_size: 64/mac_table_size: 128/' "$tmp/files/two.yaml" >"$tmp/files/two2.yaml"
expect "net apply: updated" 0 "network calm: updated" -- net apply "$tmp/files/two2.yaml"
expect "net show after apply" 0 "" -- net show calm --json
check_json "net apply: new MAC table size in netd" .network.mac_table_size 128
printf 'networks:\n  - name: filed\n    mode: switch\n    mtu: 70000\n' >"$tmp/files/bad.yaml"
expect "net apply: invalid file" 4 "bad.yaml:4: networks[0].mtu: must be 68..65535, got 70000" -- \
	net apply "$tmp/files/bad.yaml"
expect "net apply: invalid file changed nothing" 0 "" -- net show filed --json
check_json "net apply: invalid file changed nothing (mtu)" .network.mtu 1500

expect "fdb show" 0 "MAC  VLAN  PORT  AGE" -- fdb show iso
expect "fdb show --json" 0 "" -- fdb show iso --json
check_json "fdb show --json: empty table" '[.entries, .capacity, .aging]' '[[],4096,60]'
expect "fdb show: unknown network" 1 "does not exist" -- fdb show nope
expect "fdb flush" 0 "flushed 0 MAC entries from network iso" -- fdb flush iso
expect "fdb flush --json" 0 "" -- fdb flush iso --json
check_json "fdb flush --json" .flushed 0

expect "port list" 0 "gateway 52:55:0a:32:00:01" -- port list
expect "port list --json" 0 "" -- port list --json
check_json "port list --json: only the gateway ports" \
	'[.ports[] | [.net, .name, .backend, .address]] | sort' \
	'[["filed","gateway","gateway","10.60.0.1"],["iso","gateway","gateway","10.50.0.1"]]'
expect "port list: unknown network" 1 "does not exist" -- port list nope
expect "port del: unknown port" 1 "has no port 'x'" -- port del iso x
if [ ${#RUNAS[@]} -gt 0 ] || [ "$(id -u)" -ne 0 ]; then
	# Without CAP_NET_ADMIN a TAP cannot be made: netd says so, loom exits 1.
	expect "port add without CAP_NET_ADMIN" 1 "loom: " -- \
		port add l2 --tap lme2e0
fi

expect "net delete" 0 "deleted network j" -- net delete j
expect "net delete: gone" 1 "does not exist" -- net delete j
expect "--socket reaches the same netd" 0 "" -- --socket "$tmp/run/netd.sock" --json net list
check_json "--socket: same networks" '[.networks[].name] | sort' '["calm","filed","iso","l2"]'

# Another user is refused by netd's SO_PEERCRED check (or by the socket's
# mode): either way loom says why and fails.
if [ ${#RUNAS[@]} -gt 0 ]; then
	setpriv --reuid=65533 --regid=65533 --clear-groups -- \
		"$LOOM" net list >"$out" 2>"$err" </dev/null
	rc=$?
	if { [ $rc -eq 1 ] && grep -q "refused" "$err"; } ||
		{ [ $rc -eq 3 ] && grep -q "Permission denied" "$err"; }; then
		pass "another user is refused"
	else
		echo "    exit $rc"
		fail "another user is refused"
	fi
fi

# Stop netd: loom says it is unreachable; restart: the networks come back.
kill -TERM "$netd_pid"
wait "$netd_pid" 2>/dev/null
netd_pid=
expect "after SIGTERM: unreachable" 3 "is loom-netd running?" -- net list
start_netd || exit 1
expect "after restart: networks restored" 0 "" -- net list --json
check_json "after restart: same networks" '[.networks[].name] | sort' '["calm","filed","iso","l2"]'
check_json "after restart: settings kept" '[.networks[] | select(.name=="iso") | .mac_aging]' '[60]'

echo "e2e.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
