# SPDX-License-Identifier: MIT
# common.bash - helpers for the netns tier: a private loom-netd, namespaces, checks.
#
# Sourced by tests/netns/*.sh. Every test gets its own run and state dirs,
# its own namespaces (prefixed with $NS_PREFIX) and TAP names, and a trap
# that kills the daemon it started and deletes what it created.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NETD=${NETD:-$ROOT/build/loom-netd}
LOOM=${LOOM:-$ROOT/build/loom}
CTL=$ROOT/tests/netns/loomctl.py
T=$(mktemp -d /tmp/loom-netns.XXXXXX)
RUN_DIR=$T/run
STATE_DIR=$T/state
SOCK=$RUN_DIR/netd.sock
NS_PREFIX=lmt$$-
NETD_PID=
FAILS=0
CREATED_NS=()

skip_unless_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "skipped: needs root (network namespaces, TAP devices)"
		exit 77
	fi
	for tool in ip ping tcpdump python3; do
		if ! command -v $tool >/dev/null; then
			echo "skipped: $tool is not installed (scripts/install-deps.sh)"
			exit 77
		fi
	done
	if [ ! -c /dev/net/tun ]; then
		echo "skipped: /dev/net/tun is missing"
		exit 77
	fi
	if [ ! -x "$NETD" ]; then
		echo "FAIL: $NETD not built (run make)"
		exit 1
	fi
}

# nofds CMD...: become CMD with no inherited fd above 2. A helper that
# outlives its test (a daemon) must not keep the test lock's fd
# (flock /tmp/loom-check.lock) open, or the lock stays held after the test.
# It execs: run it as `nofds CMD &` ($! is CMD's pid) or `(nofds CMD)`.
nofds() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
	done
	exec "$@"
}

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
check() { # check NAME COMMAND...: PASS if the command succeeds
	local name=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		pass "$name"
	else
		fail "$name"
		sed 's/^/    /' "$T/check.out" | head -20
	fi
}
check_not() { # check_not NAME COMMAND...: PASS if the command fails
	local name=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		fail "$name (unexpectedly succeeded)"
		sed 's/^/    /' "$T/check.out" | head -20
	else
		pass "$name"
	fi
}

ns() { echo "$NS_PREFIX$1"; }
ns_add() {
	ip netns add "$(ns "$1")" && CREATED_NS+=("$(ns "$1")")
	ip -n "$(ns "$1")" link set lo up
}

netd_start() { # netd_start [extra args]
	"$NETD" --run-dir "$RUN_DIR" --state-dir "$STATE_DIR" -v "$@" \
		>>"$T/netd.log" 2>&1 &
	NETD_PID=$!
	for _ in $(seq 100); do
		[ -S "$SOCK" ] && ctl daemon.status >/dev/null 2>&1 && return 0
		kill -0 "$NETD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "loom-netd did not start; its log:"
	sed 's/^/    /' "$T/netd.log"
	return 1
}

netd_stop() { # SIGTERM, wait
	[ -n "$NETD_PID" ] || return 0
	kill -TERM "$NETD_PID" 2>/dev/null
	wait "$NETD_PID"
	local rc=$?
	NETD_PID=
	if [ $rc -ne 0 ] || grep -q 'Sanitizer' "$T/netd.log"; then
		fail "loom-netd exits cleanly on SIGTERM (exit $rc)"
		grep -A20 'Sanitizer' "$T/netd.log" | head -40 | sed 's/^/    /'
	fi
}

ctl() { python3 "$CTL" "$SOCK" "$@"; }

# ctl_err CMD ARGS: expect an error reply, print its code.
ctl_code() {
	python3 "$CTL" "$SOCK" "$@" | python3 -c \
		'import json,sys; r=json.load(sys.stdin); print(r["error"]["code"] if not r["ok"] else "ok")'
}

# All links (name + alias) in the host and our namespaces, for comparisons.
link_inventory() {
	{
		ip -o link show | awk -F': ' '{print "host", $2}' | sed 's/@.*//'
		for n in "${CREATED_NS[@]}"; do
			ip -n "$n" -o link show 2>/dev/null |
				awk -F': ' -v n="$n" '{print n, $2}' | sed 's/@.*//'
		done
	} | sort
}

cleanup() {
	if [ -n "$NETD_PID" ]; then
		kill -9 "$NETD_PID" 2>/dev/null
		wait "$NETD_PID" 2>/dev/null
	fi
	[ -n "${EXTRA_PIDS:-}" ] && kill $EXTRA_PIDS 2>/dev/null
	for n in "${CREATED_NS[@]}"; do
		ip netns pids "$n" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$n" 2>/dev/null
	done
	if [ "$FAILS" -gt 0 ] && [ -f "$T/netd.log" ]; then
		echo "--- loom-netd log:"
		tail -50 "$T/netd.log"
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

finish() {
	[ "$FAILS" -eq 0 ] && exit 0
	exit 1
}
