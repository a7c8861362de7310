#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vhost-user-qemu.sh - real QEMU guests join a loom network: virtio-net on -netdev vhost-user (netd the back end) and on -netdev vde,sock=loom://NET; each gets a lease from netd and pings a TAP port.
#
# On this host, QEMU under TCG boots Debian's kernel with the test guest
# initramfs (tests/lib/l2.sh) in ~10 s: no nested L1 is needed. Namespace
# a holds a loom TAP port with a fixed address; the guests get theirs from
# netd's DHCP (mode switch, gateway 10.238.0.1) and ping it.
# (The guests' NICs run without MSI-X: tests/lib/l2.sh says why.)
. "$(dirname "$0")/common.bash"
. "$ROOT/tests/lib/l2.sh"
skip_unless_root
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "skipped: qemu-system-x86_64 is missing (scripts/install-deps.sh: qemu-system-x86)"
	exit 77
fi
trap 'l2_stop_all; rm -rf "$L2_DIR"; cleanup' EXIT
l2_images || { echo "FAIL: no guest images"; exit 1; }

ns_add a
TA=lq$$a
VU=$T/vm1.vhost
netd_start || exit 1
export LOOM_RUN_DIR=$RUN_DIR

port_json() { # port_json PORT: its port.list entry
	ctl port.list '{"net":"lab"}' | python3 -c '
import json, sys
for p in json.load(sys.stdin)["result"]["ports"]:
    if p["name"] == sys.argv[1]:
        print(json.dumps(p))
' "$1"
}
wait_state() { # wait_state PORT STATE SECONDS
	for _ in $(seq $(($3 * 10))); do
		port_json "$1" | grep -q "\"state\": \"$2\"" && return 0
		sleep 0.1
	done
	echo "port $1: $(port_json "$1")"
	return 1
}

# guest NAME MAC NETDEV-OPTS...: a QEMU guest (tests/lib/l2.sh) whose one
# NIC is a virtio-net-pci on the -netdev given, up to its shell.
guest() {
	local name=$1
	if l2_qemu_nic_guest "$@"; then
		pass "$name: QEMU guest boots to its shell ($(l2_elapsed "$name") s)"
		return 0
	fi
	fail "$name: QEMU guest boots to its shell"
	l2_tail "$name"
	kill "${L2_PID[$name]}" 2>/dev/null
	l2_wait "$name" 10
	return 1
}

# lease_and_ping NAME: udhcpc on the guest's NIC, then ping a's TAP and
# the gateway; sets ADDR to the leased address.
lease_and_ping() {
	local name=$1
	ADDR=
	l2_run "$name" 'timeout 60 udhcpc -i eth0 -n -q -t 8 -T 2 2>&1 |
		grep -o "bound [0-9.]*" ; ping -c 3 -W 3 10.238.0.11 >/dev/null && echo ping-a-ok;
		ping -c 2 -W 3 10.238.0.1 >/dev/null && echo ping-gw-ok' 150
	ADDR=$(echo "$L2_OUT" | sed -n 's/^bound \(10\.238\.0\.[0-9]*\).*/\1/p')
	if [ -n "$ADDR" ]; then
		pass "$name: the guest gets a lease from netd ($ADDR)"
	else
		fail "$name: the guest gets a lease from netd: $(echo $L2_OUT)"
	fi
	if echo "$L2_OUT" | grep -q ping-a-ok; then
		pass "$name: the guest pings the TAP port in namespace a"
	else
		fail "$name: the guest pings the TAP port in namespace a"
	fi
	if echo "$L2_OUT" | grep -q ping-gw-ok; then
		pass "$name: the guest pings the gateway"
	else
		fail "$name: the guest pings the gateway"
	fi
	if [ -n "$ADDR" ]; then
		check "$name: namespace a pings the guest at $ADDR" \
			ip netns exec "$(ns a)" ping -c 2 -W 3 "$ADDR"
	fi
}

# tcp_check NAME: 1 MiB of TCP from the guest to a listener in namespace a.
tcp_check() {
	ip netns exec "$(ns a)" timeout 90 python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(60); n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
print("GOT", n)' >"$T/tcp.out" 2>&1 &
	local py=$!
	for _ in $(seq 100); do
		ip netns exec "$(ns a)" ss -Hltn 'sport = :5001' | grep -q . && break
		sleep 0.1
	done
	l2_run "$1" 'timeout 60 sh -c "dd if=/dev/zero bs=65536 count=16 2>/dev/null | nc 10.238.0.11 5001"' 90
	wait "$py"
	check "$1: 1 MiB of TCP from the guest reaches namespace a" \
		grep -qx "GOT 1048576" "$T/tcp.out"
}

poweroff() {
	l2_send "$1" loom-poweroff
	l2_wait "$1" 60
	check "$1: QEMU exits cleanly" test "$L2_EXIT" = 0
}

check "net.create lab (DHCP from the gateway)" ctl net.create \
	'{"name":"lab","mode":"switch","subnet":"10.238.0.0/24"}'
check "TAP port in namespace a" ctl port.add \
	"{\"net\":\"lab\",\"name\":\"pa\",\"tap\":\"$TA\",\"netns\":\"$(ns a)\",\"address\":\"10.238.0.11/24\"}"
check "loom port add --vhost-user" "$LOOM" port add lab --vhost-user "$VU" \
	--name vm1
check "the socket is there" test -S "$VU"
check "the port is down until a front end comes, saying so" bash -c "
	$(declare -f ctl port_json); CTL=$CTL SOCK=$SOCK
	port_json vm1 | grep -q 'waiting for a front end on $VU'"

# 1. vhost-user: QEMU's own options, netd is the back end.
if guest vu1 52:54:00:4c:00:01 -chardev "socket,id=c0,path=$VU" \
	-netdev vhost-user,id=n0,chardev=c0; then
	check "vu1: the port is up with both rings running" wait_state vm1 up 10
	lease_and_ping vu1
	tcp_check vu1
	check "vu1: the port counted the guest's frames both ways" bash -c "
		$(declare -f ctl port_json); CTL=$CTL SOCK=$SOCK
		port_json vm1 | python3 -c '
import json, sys
p = json.load(sys.stdin)
assert p[\"backend\"] == \"vhost-user\", p
assert p[\"counters\"][\"rx_frames\"] >= 6 and p[\"counters\"][\"tx_frames\"] >= 6, p
'"
	check "loom port list shows the socket path" bash -c \
		"'$LOOM' port list lab | grep vm1 | grep -q '$VU'"
	poweroff vu1
	check "vu1 gone: the port goes down, waiting again" wait_state vm1 down 10
fi

# 2. A restarted front end on the same port gets a fresh session.
if guest vu2 52:54:00:4c:00:02 -chardev "socket,id=c0,path=$VU" \
	-netdev vhost-user,id=n0,chardev=c0; then
	check "vu2: the port is up again" wait_state vm1 up 10
	lease_and_ping vu2
	poweroff vu2
fi
check "netd logged both sessions and no violation" bash -c "
	[ \$(grep -c 'vm1: front end connected' '$T/netd.log') -eq 2 ] &&
	! grep -q 'loses its session' '$T/netd.log'"

# 3. netd killed with -9 and restarted: the declared port listens again
# on the same path and QEMU (reconnect=1 on its chardev) comes back.
if guest vu3 52:54:00:4c:00:04 -chardev "socket,id=c0,path=$VU,reconnect=1" \
	-netdev vhost-user,id=n0,chardev=c0; then
	lease_and_ping vu3
	kill -9 "$NETD_PID"
	wait "$NETD_PID" 2>/dev/null
	NETD_PID=
	netd_start || exit 1
	check "vu3: after kill -9 and a restart the port is up again" \
		wait_state vm1 up 30
	l2_run vu3 'ping -c 3 -W 3 10.238.0.11 >/dev/null && echo ping-again-ok' 60
	if echo "$L2_OUT" | grep -q ping-again-ok; then
		pass "vu3: the guest pings namespace a again (QEMU reconnected)"
	else
		fail "vu3: the guest pings namespace a again (QEMU reconnected)"
	fi
	poweroff vu3
fi

# 4. QEMU's -netdev vde through libvdeplug_loom.so (loom://NET).
PLUGIN=$ROOT/build/libvdeplug_loom.so
SYSDIR=$(dirname "$(realpath "$(ldconfig -p | awk '/libvdeplug.so.2 /{print $NF; exit}')")")/vdeplug
if [ -f "$PLUGIN" ] && qemu-system-x86_64 -netdev help 2>/dev/null | grep -qw vde; then
	export VDEPLUGIN_PATH=$ROOT/build:$SYSDIR
	if guest vde1 52:54:00:4c:00:03 \
		-netdev "vde,id=n0,sock=loom://lab[socket=$SOCK]"; then
		lease_and_ping vde1
		check "vde1: its port is named after QEMU" bash -c "
			$(declare -f ctl); CTL=$CTL SOCK=$SOCK
			ctl port.list '{\"net\":\"lab\"}' | grep -q '\"qemu-system-x86.${L2_PID[vde1]}\"'"
		poweroff vde1
	fi
elif [ "${CI:-}" = true ]; then
	fail "QEMU with -netdev vde or $PLUGIN is missing"
else
	echo "note: the -netdev vde guest is left out (no vde netdev or plugin)"
fi

check "port del removes the vhost-user port and its socket" bash -c "
	'$LOOM' port del lab vm1 && [ ! -e '$VU' ]"
netd_stop
finish
