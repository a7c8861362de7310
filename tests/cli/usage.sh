#!/usr/bin/env bash
# usage.sh - `loom` without a daemon: --help everywhere, argument errors, exit codes, file checks.
set -u
cd "$(dirname "$0")/../.."
LOOM=${LOOM:-build/loom}
[ -x "$LOOM" ] || { echo "FAIL: $LOOM not built (run make)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out err=$tmp/err
# No daemon may answer: every run dir below is empty.
export LOOM_RUN_DIR=$tmp/run
fails=0

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	sed 's/^/    stdout: /' "$out" | head -5
	sed 's/^/    stderr: /' "$err" | head -5
	fails=$((fails + 1))
}

# expect NAME RC [grep-pattern-on-stderr] -- COMMAND...
expect() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	"$@" >"$out" 2>"$err" </dev/null
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "    exit $rc, wanted $want"
		fail "$name"
	elif [ -n "$pat" ] && ! grep -qF -- "$pat" "$err"; then
		echo "    stderr lacks: $pat"
		fail "$name"
	else
		pass "$name"
	fi
}

# --help on every command and subcommand: exit 0, usage on stdout, nothing on stderr.
for cmd in "" net "net create" "net list" "net show" "net delete" \
	"net apply" "net validate" port "port add" "port del" "port list" \
	fdb "fdb show" "fdb flush" status forward "forward add" "forward list" \
	"forward remove" capture; do
	# shellcheck disable=SC2086
	for h in --help -h; do
		$LOOM $cmd $h >"$out" 2>"$err" </dev/null
		rc=$?
		if [ $rc -eq 0 ] && [ ! -s "$err" ] &&
			grep -q "^Usage: loom ${cmd:+$cmd }" "$out"; then
			pass "help: loom $cmd $h"
		else
			echo "    exit $rc"
			fail "help: loom $cmd $h"
		fi
	done
done
expect "help: loom help net" 0 "" -- "$LOOM" help net
grep -q "^Usage: loom net SUBCOMMAND" "$out" || fail "help: loom help net prints net's usage"
expect "help: options after positionals" 0 "" -- "$LOOM" net show lab --help

# Usage errors: exit 2, a message naming the problem, a hint to --help.
expect "usage: no command" 2 "missing command" -- "$LOOM"
expect "usage: unknown command" 2 "unknown command 'frobnicate'" -- "$LOOM" frobnicate
expect "usage: unknown global option" 2 "unknown option '--nope'" -- "$LOOM" --nope net list
expect "usage: --socket without value" 2 "--socket needs a value" -- "$LOOM" --socket
expect "usage: misspelt command" 2 "unknown command 'nett' (did you mean 'net'?)" -- "$LOOM" nett list
expect "usage: misspelt subcommand" 2 "unknown subcommand 'lst' (did you mean 'list'?)" -- "$LOOM" net lst
expect "usage: net without subcommand" 2 "missing subcommand" -- "$LOOM" net
expect "usage: net unknown subcommand" 2 "unknown subcommand 'explode'" -- "$LOOM" net explode
expect "usage: net create without name" 2 "missing the network NAME" -- "$LOOM" net create --mode switch
expect "usage: net create nat mtu" 2 "--mtu: a nat network's MTU is at most 65520" -- \
	"$LOOM" net create lab --mtu 65535
expect "usage: net create two names" 2 "unexpected argument 'b'" -- "$LOOM" net create a b --mode switch
expect "usage: net create nat subnet6" 2 "--subnet6: the prefix must be /8../64" -- \
	"$LOOM" net create lab --mode nat --subnet6 fd00::/72
expect "usage: net create host loopback on switch" 2 "only a nat network has host_loopback" -- \
	"$LOOM" net create lab --mode switch --host-loopback
expect "usage: capture without a network" 2 "which network" -- "$LOOM" capture
expect "usage: capture bad snaplen" 2 "--snaplen: '0' is not in 1..262144" -- "$LOOM" capture lab -s 0
expect "usage: capture bad direction" 2 "--direction: 'up'" -- "$LOOM" capture lab --direction up
expect "usage: capture rotation needs -w FILE" 2 "need -w FILE" -- "$LOOM" capture lab --rotate-size 1
expect "usage: capture filter twice" 2 "a filter both in -f and as words" -- "$LOOM" capture lab -f icmp tcp
expect "usage: capture port list empty" 2 "no port names after ':'" -- "$LOOM" capture lab:
expect "usage: forward add missing args" 2 "missing arguments" -- "$LOOM" forward add lab tcp 8080
expect "usage: forward add bad proto" 2 "protocol must be tcp or udp, got 'sctp'" -- \
	"$LOOM" forward add lab sctp 8080 10.0.2.15
expect "usage: forward add bad host" 2 "host end '70000' is not" -- \
	"$LOOM" forward add lab tcp 70000 10.0.2.15
expect "usage: forward add bad guest" 2 "GUEST: 'vm.1' is not ADDR[:PORT] or NAME[:PORT]" -- \
	"$LOOM" forward add lab tcp 8080 vm.1
expect "usage: forward remove extra" 2 "unexpected argument 'x'" -- \
	"$LOOM" forward remove lab tcp 8080 x
expect "usage: net create mode hub" 2 "unknown mode 'hub'" -- "$LOOM" net create lab --mode hub
expect "usage: net create mtu range" 2 "--mtu: must be 68..65535, got 70000" -- \
	"$LOOM" net create lab --mode switch --mtu 70000
expect "usage: net create mtu not a number" 2 "--mtu: must be a number, got '15x'" -- \
	"$LOOM" net create lab --mode switch --mtu 15x
expect "usage: net create mac table" 2 "--mac-table-size: must be 16..1048576" -- \
	"$LOOM" net create lab --mode switch --mac-table-size 2
expect "usage: net create aging" 2 "--mac-aging: must be 1..86400" -- \
	"$LOOM" net create lab --mode switch --mac-aging 0
expect "usage: net create subnet host bits" 2 "did you mean 10.1.2.0/24?" -- \
	"$LOOM" net create lab --mode switch --subnet 10.1.2.3/24
expect "usage: net create gateway outside" 2 "--gateway: 10.9.0.1 is outside subnet" -- \
	"$LOOM" net create lab --mode switch --subnet 10.1.2.0/24 --gateway 10.9.0.1
expect "usage: net create bad name" 2 "NAME: a network name may hold only" -- \
	"$LOOM" net create 'a b' --mode switch
expect "usage: net create unknown option" 2 "unknown option '--colour'" -- \
	"$LOOM" net create lab --mode switch --colour blue
expect "usage: net create option without value" 2 "option '--subnet' needs a value" -- \
	"$LOOM" net create lab --mode switch --subnet
expect "usage: net show without name" 2 "missing the network NAME" -- "$LOOM" net show
expect "usage: net delete extra" 2 "unexpected argument 'y'" -- "$LOOM" net delete x y
expect "usage: net apply without file" 2 "missing the network FILE" -- "$LOOM" net apply
expect "usage: port add without tap" 2 "missing --tap NAME" -- "$LOOM" port add lab
expect "usage: port add without net" 2 "missing the network NET" -- "$LOOM" port add --tap t0
expect "usage: port add loopback with a tap" 2 \
	"has 'tap' (this one is of type 'loopback')" -- \
	"$LOOM" port add lab --type loopback --name l0 --tap t0
expect "usage: port add loopback without a name" 2 "missing field 'name'" -- \
	"$LOOM" port add lab --type loopback
expect "usage: port add bad type" 2 "--type: a port type may hold only letters" -- \
	"$LOOM" port add lab --type "lo op" --name l0
expect "usage: port add long tap" 2 "--tap: a TAP name must be at most 15 characters" -- \
	"$LOOM" port add lab --tap abcdefghijklmnop
expect "usage: port add vlan range" 2 "--vlan: must be 1..4094, got 4095" -- \
	"$LOOM" port add lab --tap t0 --vlan 4095
expect "usage: port add vlan and trunk" 2 "exclude each other" -- \
	"$LOOM" port add lab --tap t0 --vlan 3 --trunk 4
expect "usage: port add bad trunk" 2 "--trunk: must be a list of VLANs" -- \
	"$LOOM" port add lab --tap t0 --trunk 10,,x
expect "usage: port add trunk duplicate" 2 "VLAN 12 is listed twice" -- \
	"$LOOM" port add lab --tap t0 --trunk 10-12,12
expect "usage: port add native without trunk" 2 "--native: native needs trunk" -- \
	"$LOOM" port add lab --tap t0 --native 1
expect "usage: port add bad address" 2 "--address: must be ADDRESS/PREFIX" -- \
	"$LOOM" port add lab --tap t0 --address 10.0.0.1
expect "usage: port del one arg" 2 "missing the network NET and the PORT" -- "$LOOM" port del lab
expect "usage: port list two nets" 2 "unexpected argument 'b'" -- "$LOOM" port list a b
expect "usage: fdb show without net" 2 "missing the network NET" -- "$LOOM" fdb show
expect "usage: fdb flush --port without value" 2 "needs a value" -- "$LOOM" fdb flush lab --port
expect "usage: status extra" 2 "unexpected argument 'now'" -- "$LOOM" status now

# No daemon: exit 3 with the socket path and a hint.
expect "unreachable: net list" 3 \
	"loom: cannot reach loom-netd at $tmp/run/netd.sock: No such file or directory (is loom-netd running?)" -- \
	"$LOOM" net list
expect "unreachable: status --json" 3 "cannot reach loom-netd" -- "$LOOM" status --json
[ -s "$out" ] && fail "unreachable: nothing on stdout"
expect "unreachable: --run-dir" 3 "at $tmp/other/netd.sock" -- "$LOOM" --run-dir "$tmp/other" net list
expect "unreachable: --socket" 3 "at $tmp/s.sock" -- "$LOOM" --socket "$tmp/s.sock" net list
touch "$tmp/plain"
expect "unreachable: not a socket" 3 "Connection refused (is loom-netd running?)" -- \
	"$LOOM" --socket "$tmp/plain" net list
expect "unreachable: port add after local checks" 3 "cannot reach" -- \
	"$LOOM" port add lab --tap t0 --trunk 10-12 --native 1
expect "unreachable: valid net create" 3 "cannot reach" -- \
	"$LOOM" net create lab --mode switch --subnet 10.1.2.0/24
# Without XDG_RUNTIME_DIR a non-root user's run dir is /tmp/loom-UID
# (common/rundir.h); tests/cli/rundir.sh runs a daemon there.
if [ "$(id -u)" -ne 0 ] && [ ! -e "/tmp/loom-$(id -u)" ]; then
	expect "unreachable: no XDG_RUNTIME_DIR" 3 \
		"loom: cannot reach loom-netd at /tmp/loom-$(id -u)/netd.sock: No such file or directory" -- \
		env -u LOOM_RUN_DIR -u XDG_RUNTIME_DIR "$LOOM" net list
fi

# Network files: validated locally, FILE:LINE: FIELD: PROBLEM, exit 4.
for f in examples/*.yaml; do
	expect "validate: $f" 0 "" -- "$LOOM" net validate "$f"
	grep -q "valid, 1 network" "$out" || fail "validate: $f says valid"
done
cat >"$tmp/bad.yaml" <<'EOF'
networks:
  - name: lab
    mode: switch
    subnet: 10.10.0.0/24
    mtu: 70000
EOF
expect "file: validate range" 4 "$tmp/bad.yaml:5: networks[0].mtu: must be 68..65535, got 70000" -- \
	"$LOOM" net validate "$tmp/bad.yaml"
expect "file: apply checks before connecting" 4 \
	"$tmp/bad.yaml:5: networks[0].mtu: must be 68..65535, got 70000" -- \
	"$LOOM" net apply "$tmp/bad.yaml"
grep -q "cannot reach" "$err" && fail "file: apply did not try netd"
printf 'networks:\n  - name: lab\n    mode: switch\n    ports:\n      - tap: t0\n        vlna: 3\n' >"$tmp/typo.yaml"
expect "file: unknown field" 4 "typo.yaml:6: networks[0].ports[0].vlna: unknown field 'vlna' (did you mean 'vlan'?)" -- \
	"$LOOM" net validate "$tmp/typo.yaml"
printf 'networks:\n  - name: lab\n    mode: [switch\n' >"$tmp/syntax.yaml"
expect "file: syntax error" 4 "syntax.yaml:4: YAML syntax error" -- "$LOOM" net validate "$tmp/syntax.yaml"
expect "file: missing" 4 "$tmp/none.yaml: cannot open: No such file or directory" -- \
	"$LOOM" net apply "$tmp/none.yaml"
expect "file: a directory" 4 "not a regular file" -- "$LOOM" net validate "$tmp"
expect "file: validate --json" 0 "" -- "$LOOM" net validate --json examples/lab.yaml
if command -v jq >/dev/null; then
	if [ "$(jq -r '.networks[0].ports[1].name + " " + (.networks[0].mac_aging|tostring)' "$out")" = "b 300" ]; then
		pass "file: validate --json is the network JSON"
	else
		fail "file: validate --json is the network JSON"
	fi
fi
expect "file: valid apply reaches for netd" 3 "cannot reach" -- "$LOOM" net apply examples/lab.yaml
expect "file: standard input" 0 "" -- sh -c "'$LOOM' net validate - <examples/vlans.yaml"
grep -q "^<stdin>: valid, 1 network" "$out" || fail "file: standard input is named <stdin>"
expect "file: standard input, invalid" 4 "<stdin>:5: networks[0].mtu: must be 68..65535" -- \
	sh -c "'$LOOM' net apply - <'$tmp/bad.yaml'"

# The run dir of a user other than root: $XDG_RUNTIME_DIR/loom, else /tmp/loom-UID.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
	expect "unprivileged: XDG_RUNTIME_DIR/loom" 3 "at /nonexistent-xdg/loom/netd.sock" -- \
		env -u LOOM_RUN_DIR XDG_RUNTIME_DIR=/nonexistent-xdg "${nobody[@]}" "$LOOM" net list
	# Without XDG_RUNTIME_DIR: /tmp/loom-UID, used only if it is the
	# user's own 0700 directory (one owned by root here is refused).
	if [ ! -e /tmp/loom-65534 ]; then
		expect "unprivileged: no XDG_RUNTIME_DIR" 3 \
			"loom: cannot reach loom-netd at /tmp/loom-65534/netd.sock: No such file or directory" -- \
			env -u LOOM_RUN_DIR -u XDG_RUNTIME_DIR "${nobody[@]}" "$LOOM" net list
		grep -q XDG_RUNTIME_DIR "$err" && fail "unprivileged: no XDG_RUNTIME_DIR needed"
		mkdir -m 0700 /tmp/loom-65534
		expect "unprivileged: a run dir not its own is refused" 3 \
			"loom: refusing run dir /tmp/loom-65534: owned by uid 0, not by you (uid 65534)" -- \
			env -u LOOM_RUN_DIR -u XDG_RUNTIME_DIR "${nobody[@]}" "$LOOM" net list
		rmdir /tmp/loom-65534
	fi
fi

echo "usage.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
