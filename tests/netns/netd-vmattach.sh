#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# netd-vmattach.sh - a VM NIC (shm port protocol) attaches through netd's control socket and is pinged from a namespace.
. "$(dirname "$0")/common.bash"
skip_unless_root
PEER=$ROOT/build/tests/netns/shm_attach_peer
if [ ! -x "$PEER" ]; then
	echo "FAIL: $PEER not built (run make)"
	exit 1
fi

ns_add a
TA=lm$$m
netd_start || exit 1
check "net.create" ctl net.create '{"name":"vmn","mode":"switch","subnet":"10.234.0.0/24"}'
check "port.add a" ctl port.add \
	"{\"net\":\"vmn\",\"tap\":\"$TA\",\"netns\":\"$(ns a)\",\"address\":\"10.234.0.11/24\"}"

check_not "attach to a network that does not exist is refused" \
	bash -c "'$PEER' '$SOCK' nonet 10.234.0.99 1 | grep -q '^attached'"
"$PEER" "$SOCK" vmn 10.234.0.99 12 >"$T/peer.out" 2>&1 &
peer_pid=$!
EXTRA_PIDS=$peer_pid
for _ in $(seq 50); do grep -q attached "$T/peer.out" && break; sleep 0.1; done
check "VM NIC attached over the control socket" grep -q '^attached' "$T/peer.out"
check "port.list shows the shm port" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"vmn\"}' | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)[\"result\"][\"ports\"] if x[\"backend\"] == \"shm\"]
assert len(p) == 1 and p[0][\"mac\"] == \"52:54:00:4c:4d:01\" and p[0][\"model\"] == \"virtio-net\", p
'"
check "namespace pings the VM NIC through loom" \
	ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.234.0.99
check "control clients are still served" ctl daemon.status
if command -v ethtool >/dev/null; then
	check "TAP offloads off while a VM NIC without GSO is attached" \
		bash -c "ip netns exec $(ns a) ethtool -k $TA | grep -q 'tcp-segmentation-offload: off'"
fi
kill "$peer_pid" 2>/dev/null
wait "$peer_pid" 2>/dev/null
EXTRA_PIDS=
sleep 0.3
"$PEER" "$SOCK" vmn 10.234.0.99 1 >"$T/peer2.out" 2>&1
check "the same MAC attaching again replaces its port" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	grep -q '^attached' '$T/peer2.out' &&
	test \$(ctl port.list '{\"net\":\"vmn\"}' | grep -c '\"shm\"') = 1"
check "port.del removes the VM port" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.del '{\"net\":\"vmn\",\"port\":\"vm-004c4d01\"}' >/dev/null &&
	! ctl port.list '{\"net\":\"vmn\"}' | grep -q '\"shm\"'"
if command -v ethtool >/dev/null; then
	check "TAP offloads back on once the VM NIC is gone" \
		bash -c "ip netns exec $(ns a) ethtool -k $TA | grep -q 'tcp-segmentation-offload: on'"
fi
# Leave one VM port attached: SIGTERM must tear it down cleanly too.
"$PEER" "$SOCK" vmn 10.234.0.99 1 >/dev/null 2>&1
netd_stop
finish
