#!/usr/bin/env bash
# rundir.sh - loom-netd and `loom` as an ordinary user agree on the run dir (common/rundir.h).
#
# As nobody with neither XDG_RUNTIME_DIR nor LOOM_RUN_DIR set, loom-netd
# creates /tmp/loom-65534 (mode 0700) and `loom net create` / `net list`
# find it there; with XDG_RUNTIME_DIR set both use $XDG_RUNTIME_DIR/loom.
# A /tmp/loom-65534 that is not nobody's own 0700 directory (wrong mode,
# wrong owner, a symlink) is refused by the daemon and by the client alike.
set -u
cd "$(dirname "$0")/../.."
LOOM=$PWD/${LOOM:-build/loom}
NETD=$PWD/${NETD:-build/loom-netd}
[ -x "$LOOM" ] || { echo "FAIL: $LOOM not built (run make)"; exit 1; }
[ -x "$NETD" ] || { echo "FAIL: $NETD not built (run make)"; exit 1; }
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	echo "SKIP: rundir: needs root and setpriv to run as nobody and to plant other users' directories"
	exit 77
fi

UID_NOBODY=65534
FALLBACK=/tmp/loom-$UID_NOBODY
tmp=$(mktemp -d)
chmod 0755 "$tmp"
out=$tmp/out err=$tmp/err
netd_pid=
fails=0
NOBODY=(setpriv --reuid=$UID_NOBODY --regid=$UID_NOBODY --clear-groups --)
AS=(env -u LOOM_RUN_DIR -u XDG_RUNTIME_DIR XDG_STATE_HOME="$tmp/state" "${NOBODY[@]}")
AS_XDG=(env -u LOOM_RUN_DIR XDG_RUNTIME_DIR="$tmp/xdg" XDG_STATE_HOME="$tmp/state" "${NOBODY[@]}")

netd_stop() {
	[ -n "$netd_pid" ] || return 0
	kill "$netd_pid" 2>/dev/null
	wait "$netd_pid" 2>/dev/null
	netd_pid=
}
cleanup() {
	netd_stop
	rm -rf "$FALLBACK" "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	sed 's/^/    stdout: /' "$out" | head -8
	sed 's/^/    stderr: /' "$err" | head -5
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

# netd_start NAME SOCKET [RUNNER...]: netd as nobody (default: "${AS[@]}");
# waits for its socket.
netd_start() {
	local name=$1 sock=$2 i
	shift 2
	[ $# -gt 0 ] || set -- "${AS[@]}"
	"$@" "$NETD" >"$tmp/netd.log" 2>&1 &
	netd_pid=$!
	for i in $(seq 100); do
		[ -S "$sock" ] && { pass "$name: netd listens on $sock"; return 0; }
		kill -0 "$netd_pid" 2>/dev/null || break
		sleep 0.05
	done
	echo "    netd log:"; sed 's/^/      /' "$tmp/netd.log"
	fail "$name: netd listens on $sock"
	netd_stop
	return 1
}

# A leftover of an earlier run is removed; a live daemon there is not ours.
if [ -S "$FALLBACK/netd.sock" ] && "${AS[@]}" "$LOOM" status >/dev/null 2>&1; then
	echo "FAIL: a loom-netd of uid $UID_NOBODY already serves $FALLBACK"
	exit 1
fi
rm -rf "$FALLBACK"
mkdir "$tmp/state"
chown $UID_NOBODY "$tmp/state"

# 1. No daemon yet: the client names the fallback path, not XDG_RUNTIME_DIR.
expect "no XDG: client looks in $FALLBACK" 3 \
	"cannot reach loom-netd at $FALLBACK/netd.sock: No such file or directory" -- \
	"${AS[@]}" "$LOOM" net list
grep -q XDG_RUNTIME_DIR "$err" && fail "no XDG: the client does not require XDG_RUNTIME_DIR"

# 2. netd creates the fallback, private; net create and net list work.
if netd_start "no XDG" "$FALLBACK/netd.sock"; then
	if [ "$(stat -c '%a %u %F' "$FALLBACK")" = "700 $UID_NOBODY directory" ]; then
		pass "no XDG: $FALLBACK is nobody's, mode 0700"
	else
		echo "    got: $(stat -c '%a %u %F' "$FALLBACK")"
		fail "no XDG: $FALLBACK is nobody's, mode 0700"
	fi
	expect "no XDG: net create" 0 "created network lab" -- \
		"${AS[@]}" "$LOOM" net create lab --mode switch --subnet 10.77.0.0/24
	expect "no XDG: net list" 0 "" -- "${AS[@]}" "$LOOM" net list
	grep -qE '^lab +switch +10\.77\.0\.0/24 ' "$out" || fail "no XDG: net list shows lab"
	expect "no XDG: status names the run dir" 0 "$FALLBACK" -- \
		"${AS[@]}" "$LOOM" status
	netd_stop
	# The state outlives the daemon: a restart finds lab again.
	if netd_start "no XDG, restart" "$FALLBACK/netd.sock"; then
		expect "no XDG: restart keeps lab" 0 "10.77.0.0/24" -- \
			"${AS[@]}" "$LOOM" net show lab
		netd_stop
	fi
fi

# 3. An unsafe fallback is refused by both sides, with the reason and a fix.
refused() {
	local what=$1 pat=$2
	expect "refused ($what): netd" 1 "$pat" -- "${AS[@]}" "$NETD"
	[ -S "$FALLBACK/netd.sock" ] && fail "refused ($what): netd made no socket"
	expect "refused ($what): net list" 3 "$pat" -- "${AS[@]}" "$LOOM" net list
	expect "refused ($what): vm list" 2 "$pat" -- "${AS[@]}" "$LOOM" vm list
}
rm -rf "$FALLBACK"
mkdir -m 0755 "$FALLBACK"
chown $UID_NOBODY "$FALLBACK"
refused "mode 0755" "refusing run dir $FALLBACK: mode 0755, it must be 0700"
chmod 0700 "$FALLBACK"
chown 0 "$FALLBACK"
refused "owned by root" "refusing run dir $FALLBACK: owned by uid 0, not by you (uid $UID_NOBODY)"
rm -rf "$FALLBACK"
mkdir -m 0700 "$tmp/planted"
chown $UID_NOBODY "$tmp/planted"
ln -s "$tmp/planted" "$FALLBACK"
refused "a symlink" "refusing run dir $FALLBACK: it is not a directory"
[ -e "$tmp/planted/netd.sock" ] && fail "refused (a symlink): nothing created through it"
rm -f "$FALLBACK"

# 4. With XDG_RUNTIME_DIR both use $XDG_RUNTIME_DIR/loom (created 0700).
mkdir -m 0700 "$tmp/xdg"
chown $UID_NOBODY "$tmp/xdg"
if netd_start "XDG" "$tmp/xdg/loom/netd.sock" "${AS_XDG[@]}"; then
	[ "$(stat -c '%a' "$tmp/xdg/loom")" = 700 ] || fail "XDG: loom/ is mode 0700"
	expect "XDG: net list finds netd" 0 "lab" -- \
		"${AS_XDG[@]}" "$LOOM" net list
	netd_stop
fi
[ -e "$FALLBACK" ] && fail "XDG: nothing created in $FALLBACK"

echo "rundir.sh: $fails failure(s)"
[ "$fails" -eq 0 ]
