#!/usr/bin/env bash
# vm.sh - `loom vm`: help, usage errors, the loom-vmm command line it builds, and its per-VM socket protocol.
#
# There is no /dev/kvm on every machine, so the VM side here is a stand-in:
# a script in place of loom-vmm that records the arguments loom gives it,
# and netcat serving canned replies on RUN_DIR/vm/NAME.sock in the line
# protocol of vmm/control.c. What is checked is loom's side of both.
set -u
cd "$(dirname "$0")/../.."
LOOM=$PWD/${LOOM:-build/loom}
[ -x "$LOOM" ] || { echo "FAIL: $LOOM not built (run make)"; exit 1; }

tmp=$(mktemp -d)
export LOOM_RUN_DIR=$tmp/run
out=$tmp/out err=$tmp/err
fails=0
nc_pid=
cleanup() {
	[ -n "$nc_pid" ] && kill "$nc_pid" 2>/dev/null
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

for cmd in vm "vm run" "vm list" "vm status" "vm stop" "vm console" \
	"vm pause" "vm resume" "vm link"; do
	# shellcheck disable=SC2086
	expect "help: loom $cmd --help" 0 "^Usage: loom $cmd" -- $cmd --help
done
expect "usage: vm without subcommand" 2 "missing subcommand" -- vm
expect "usage: vm run without kernel" 2 "missing --kernel BZIMAGE" -- vm run v1
expect "usage: vm run without name" 2 "missing the VM NAME" -- vm run --kernel /k
expect "usage: vm run bad name" 2 "NAME: 1..64 characters" -- vm run 'a/b' --kernel /k
expect "usage: vm run unknown option" 2 "unexpected argument '--frob'" -- vm run v1 --kernel /k --frob
expect "usage: vm status without name" 2 "missing the VM NAME" -- vm status
expect "usage: vm stop extra" 2 "unexpected argument 'y'" -- vm stop x y

expect "vm status: no such VM" 3 "cannot reach VM 'v9' at $tmp/run/vm/v9.sock: No such file or directory" -- \
	vm status v9
expect "vm list: no VM dir" 0 "^NAME +STATE +PID" -- vm list
expect "vm list --json: empty" 0 "" -- vm list --json
[ "$(tr -d ' \n' <"$out")" = '{"vms":[]}' ] && pass "vm list --json: no VMs" || fail "vm list --json: no VMs"

# vm run: the loom-vmm command line, and the failure report from its log.
cat >"$tmp/fake-vmm" <<EOF
#!/bin/sh
printf '%s\n' "\$@" >"$tmp/argv"
echo "fake-vmm: no KVM here" >&2
exit 1
EOF
chmod +x "$tmp/fake-vmm"
LOOM_VMM=$tmp/fake-vmm expect "vm run: loom-vmm failing is reported with its log" 1 \
	"fake-vmm: no KVM here" -- vm run v1 --kernel /k/bz --mem 256M -- --disk /d.img
want="--kernel
/k/bz
--mem
256M
--name
v1
--control
$tmp/run/vm/v1.sock
--console
socket:$tmp/run/vm/v1.console
--disk
/d.img"
if [ "$(cat "$tmp/argv" 2>/dev/null)" = "$want" ]; then
	pass "vm run: loom-vmm arguments"
else
	echo "    got: $(tr '\n' ' ' <"$tmp/argv" 2>/dev/null)"
	fail "vm run: loom-vmm arguments"
fi
grep -q "fake-vmm: no KVM here" "$tmp/run/vm/v1.log" && pass "vm run: log in RUN_DIR/vm/NAME.log" ||
	fail "vm run: log in RUN_DIR/vm/NAME.log"

# A stale socket file nobody serves shows as stale.
mkdir -p "$tmp/run/vm"
touch "$tmp/run/vm/dead.sock"
expect "vm list: stale socket" 0 "^dead +stale" -- vm list

# The per-VM socket protocol, served by netcat with canned replies.
if ! nc -h 2>&1 | grep -q -- '-U'; then
	echo "SKIP: vm protocol: this netcat has no -U (install netcat-openbsd)"
else
	serve() { # REPLY: answer one connection, record its request
		rm -f "$tmp/run/vm/v2.sock"
		printf '%s\n' "$1" | nc -lU "$tmp/run/vm/v2.sock" >"$tmp/req" &
		nc_pid=$!
		for _ in $(seq 100); do
			[ -S "$tmp/run/vm/v2.sock" ] && return
			sleep 0.02
		done
	}
	st='{"ok":true,"name":"v2","state":"running","pid":4242,"uptime_s":12.5,"mem_bytes":536870912,"cpus":2,"kernel":"/k/bz","console":"socket:/x/v2.console","pci":[{"slot":1,"name":"virtio-blk","id":"1af4:1042","broken":false,"reason":""}]}'
	serve "$st"
	expect "vm status over the socket" 0 "state +running" -- vm status v2
	grep -q '"cmd":"status"' "$tmp/req" && pass "vm status sends {\"cmd\":\"status\"}" ||
		fail "vm status sends {\"cmd\":\"status\"}"
	grep -qE '^1 +virtio-blk +1af4:1042 +ok$' "$out" && pass "vm status: PCI devices" ||
		fail "vm status: PCI devices"
	wait "$nc_pid" 2>/dev/null
	serve "$st"
	expect "vm list over the socket" 0 "^v2 +running +4242 +2 +512M +12s +socket:/x/v2.console$" -- vm list
	wait "$nc_pid" 2>/dev/null
	serve '{"ok":false,"error":"unknown cmd"}'
	expect "vm stop: an error reply" 1 "loom: VM 'v2': unknown cmd" -- vm stop v2
	wait "$nc_pid" 2>/dev/null
	serve '{"ok":true}'
	expect "vm stop" 0 "stopped vm v2" -- vm stop v2
	grep -q '"cmd":"stop"' "$tmp/req" && pass "vm stop sends {\"cmd\":\"stop\"}" ||
		fail "vm stop sends {\"cmd\":\"stop\"}"
	wait "$nc_pid" 2>/dev/null
	serve '{"ok":true,"state":"paused"}'
	expect "vm pause" 0 "^vm v2: paused$" -- vm pause v2
	grep -q '"cmd":"pause"' "$tmp/req" && pass "vm pause sends {\"cmd\":\"pause\"}" ||
		fail "vm pause sends {\"cmd\":\"pause\"}"
	wait "$nc_pid" 2>/dev/null
	# vm link: one NIC's carrier by hand; and the NICs in status/list.
	serve '{"ok":true,"port":"v2","link":"down"}'
	expect "vm link" 0 "^vm v2: v2 link down$" -- vm link v2 v2 down
	grep -q '"cmd":"link","port":"v2","up":false' "$tmp/req" &&
		pass "vm link sends {\"cmd\":\"link\",\"port\":...,\"up\":false}" ||
		fail "vm link sends {\"cmd\":\"link\",\"port\":...,\"up\":false}"
	wait "$nc_pid" 2>/dev/null
	expect "usage: vm link sideways" 2 "want up or down" -- vm link v2 v2 sideways
	nst='{"ok":true,"name":"v2","state":"running","pid":4242,"uptime_s":3,"mem_bytes":268435456,"cpus":1,"console":"stdio","pci":[],"nics":[{"net":"lab","mac":"52:4c:01:02:03:04","port":"v2","model":"virtio","backend":"shm","link":"up","admin":"up"}]}'
	serve "$nst"
	expect "vm status: NICs (no netd: no address)" 0 "^lab +v2 +52:4c:01:02:03:04 +virtio +shm +up +-$" -- vm status v2
	wait "$nc_pid" 2>/dev/null
	serve "$nst"
	expect "vm list: NICS column" 0 "^v2 +running .* +lab/v2/52:4c:01:02:03:04$" -- vm list
	wait "$nc_pid" 2>/dev/null
	# console: the path from the status reply, bytes both ways.
	serve "{\"ok\":true,\"name\":\"v2\",\"state\":\"running\",\"console\":\"socket:$tmp/c.sock\"}"
	printf 'guest login: ' | nc -N -lU "$tmp/c.sock" >"$tmp/typed" &
	cons_pid=$!
	for _ in $(seq 100); do [ -S "$tmp/c.sock" ] && break; sleep 0.02; done
	printf 'root\n' >"$tmp/keys"
	"$LOOM" vm console v2 <"$tmp/keys" >"$out" 2>"$err"
	rc=$?
	wait "$cons_pid" 2>/dev/null
	if [ $rc -eq 0 ] && grep -q "guest login: " "$out" && grep -qx root "$tmp/typed"; then
		pass "vm console relays both ways"
	else
		echo "    exit $rc, typed: $(cat "$tmp/typed")"
		fail "vm console relays both ways"
	fi
	wait "$nc_pid" 2>/dev/null
	serve '{"ok":true,"name":"v2","state":"running","console":"stdio"}'
	expect "vm console: no console socket" 1 "has no console socket" -- vm console v2
	wait "$nc_pid" 2>/dev/null
	serve 'this is not json'
	expect "vm status: malformed reply" 3 "sent a malformed reply" -- vm status v2
	wait "$nc_pid" 2>/dev/null
	nc_pid=
fi

echo "vm.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
