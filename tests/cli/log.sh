#!/usr/bin/env bash
# log.sh - --log MODULE=LEVEL and LOOM_LOG on loom-netd and loom-vmm: names checked, levels per module.
set -u
cd "$(dirname "$0")/../.."
NETD=$PWD/${NETD:-build/loom-netd}
VMM=$PWD/${VMM:-build/loom-vmm}
for b in "$NETD" "$VMM"; do
	[ -x "$b" ] || { echo "FAIL: $b not built (run make)"; exit 1; }
done
tmp=$(mktemp -d)
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
	sed 's/^/    stderr: /' "$err" | head -8
	fails=$((fails + 1))
}
# expect NAME RC [pattern on stdout+stderr] -- COMMAND...
expect() {
	local name=$1 want=$2 pat=$3 rc
	shift 4
	"$@" >"$out" 2>"$err" </dev/null
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		echo "    exit $rc, wanted $want"
		fail "$name"
	elif [ -n "$pat" ] && ! cat "$out" "$err" | grep -qF -- "$pat"; then
		echo "    output lacks: $pat"
		fail "$name"
	else
		pass "$name"
	fi
}

# The module lists: every name once, the ones that used to clash apart.
expect "netd: --log list" 0 "" -- "$NETD" --log list
for m in netd netd-control netd-commands datapath switch tap vmport; do
	grep -qE "^$m +info$" "$out" || fail "netd: --log list has $m at info"
done
[ -z "$(awk '{print $1}' "$out" | sort | uniq -d)" ] || fail "netd: module names unique"
expect "netd: --log sets a level" 0 "" -- "$NETD" --log datapath=debug,error --log list
grep -qE '^datapath +debug$' "$out" && grep -qE '^netd-control +error$' "$out" ||
	fail "netd: datapath at debug, the others at error"
expect "vmm: --log list" 0 "" -- "$VMM" --log list
for m in vmm vmm-control guest-mem virtq virtio-blk virtio-pci kernel-file; do
	grep -qE "^$m " "$out" || fail "vmm: --log list has $m"
done
[ -z "$(awk '{print $1}' "$out" | sort | uniq -d)" ] || fail "vmm: module names unique"
expect "vmm: LOOM_LOG applies" 0 "" -- env LOOM_LOG=guest-mem=debug "$VMM" --log list
grep -qE '^guest-mem +debug$' "$out" || fail "vmm: LOOM_LOG sets guest-mem to debug"

# Wrong names and levels are refused, naming what is wrong.
expect "netd: unknown module" 2 "loom-netd: --log: unknown log module 'contrl'" -- \
	"$NETD" --log contrl=debug
expect "netd: typo suggestion" 2 "(did you mean 'datapath'?)" -- "$NETD" --log datapth=debug
expect "netd: unknown level" 2 "unknown log level 'loud': use error, warning, info or debug" -- \
	"$NETD" --log datapath=loud
expect "netd: bad LOOM_LOG" 2 "loom-netd: LOOM_LOG: unknown log level 'loud'" -- \
	env LOOM_LOG=loud "$NETD"
expect "vmm: unknown module" 2 "--log: unknown log module 'virtio-bkl' (did you mean 'virtio-blk'?)" -- \
	"$VMM" --log virtio-bkl=debug

# A running daemon filters per module: netd's own info line stays, the
# control module's goes.
mkdir "$tmp/run" "$tmp/state"
LOOM_RUN_DIR=$tmp/run "$NETD" --state-dir "$tmp/state" --log netd=info,error \
	>"$tmp/netd.log" 2>&1 &
netd_pid=$!
for _ in $(seq 100); do
	[ -S "$tmp/run/netd.sock" ] && grep -q ready "$tmp/netd.log" && break
	sleep 0.05
done
kill "$netd_pid"
wait "$netd_pid" 2>/dev/null
netd_pid=
cp "$tmp/netd.log" "$out"
: >"$err"
if grep -q '^netd: info: loom-netd .* ready' "$out" &&
	! grep -q '^netd-control: info' "$out" &&
	! grep -q ': info: ' <(grep -v '^netd: ' "$out"); then
	pass "netd: netd=info,error keeps netd's info lines only"
else
	fail "netd: netd=info,error keeps netd's info lines only"
fi

echo "log.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
