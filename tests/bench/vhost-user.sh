#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vhost-user.sh - a QEMU guest's TCP to a namespace through loom's vhost-user port vs through a TAP on a Linux bridge, same machine, same run.
#
#   vhost-user: guest virtio-net -- vhost-user -- loom-netd switch -- TAP port -- ns a
#   bridge:     guest virtio-net -- QEMU TAP (vhost=off) -- Linux bridge -- veth -- ns b
# Two QEMU guests (TCG here: the host's /dev/kvm cannot run Linux guests,
# docs/testing.md; same kernel, initramfs and NIC options, MSI-X off as
# tests/netns/vhost-user-qemu.sh says why) run side by side; each sends
# $MB MiB with busybox nc to a receiver in its namespace, $RUNS rounds
# alternating the two; the receiver times first to last byte. Also the
# ping RTT. Prints medians:
#   BENCH vhost_user.qemu.tcp N Mbit/s, BENCH vhost_user.bridge_tap.tcp N Mbit/s,
#   BENCH vhost_user.ratio.vs_bridge_tap N x, BENCH vhost_user.qemu.rtt N ms,
#   BENCH vhost_user.bridge_tap.rtt N ms
# Under TCG the guest's CPU is the bottleneck of both paths: the figure
# says what the NIC path costs on top of that, not what KVM guests reach.
# Environment: RUNS (3), MB (32).
. "$(dirname "$0")/../netns/common.bash"
. "$ROOT/tests/lib/l2.sh"
RUNS=${RUNS:-3}
MB=${MB:-32}
skip_unless_root
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "skipped: qemu-system-x86_64 is not installed"; exit 77; }
BR=lbq$$
TAPQ=lqt$$
VETH=lqv$$
trap 'l2_stop_all; ip link del $BR 2>/dev/null; ip link del ${VETH}a 2>/dev/null; rm -rf "$L2_DIR"; cleanup' EXIT
l2_images || { echo "FAIL: no guest images"; exit 1; }

ns_add a
ns_add b
netd_start || exit 1
ctl net.create '{"name":"vb","mode":"switch"}' >/dev/null
ctl port.add "{\"net\":\"vb\",\"name\":\"pa\",\"tap\":\"lqa$$\",\"netns\":\"$(ns a)\",\"address\":\"10.243.0.11/24\"}" >/dev/null ||
	{ echo "FAIL: loom TAP port"; exit 1; }
ctl port.add "{\"net\":\"vb\",\"name\":\"vm\",\"type\":\"vhost-user\",\"path\":\"$T/vm.sock\"}" >/dev/null ||
	{ echo "FAIL: loom vhost-user port"; exit 1; }
ip link add "$BR" type bridge && ip link set "$BR" up &&
	ip link add "${VETH}a" type veth peer name "${VETH}b" &&
	ip link set "${VETH}a" master "$BR" up &&
	ip link set "${VETH}b" netns "$(ns b)" &&
	ip -n "$(ns b)" addr add 10.244.0.11/24 dev "${VETH}b" &&
	ip -n "$(ns b)" link set "${VETH}b" up ||
	{ echo "FAIL: Linux bridge and veth"; exit 1; }

guest() { # guest NAME MAC ADDR NETDEV-OPTS...
	local name=$1 mac=$2 addr=$3
	shift 3
	l2_qemu_nic_guest "$name" "$mac" "$@" ||
		{ echo "FAIL: guest $name did not boot"; l2_tail "$name"; exit 1; }
	l2_run "$name" "ip addr add $addr dev eth0 && ip link set eth0 up" 30
}
guest vu 52:54:00:4d:00:01 10.243.0.15/24 \
	-chardev "socket,id=c0,path=$T/vm.sock" -netdev vhost-user,id=n0,chardev=c0
guest br 52:54:00:4d:00:02 10.244.0.15/24 \
	-netdev "tap,id=n0,ifname=$TAPQ,script=no,downscript=no,vhost=off"
ip link set "$TAPQ" master "$BR" up || { echo "FAIL: QEMU's TAP on the bridge"; exit 1; }

# A receiver in namespace NS: MB MiB, timed from the first to the last byte.
recv_start() { # recv_start NS OUT
	ip netns exec "$1" python3 - "$MB" >"$2" 2>&1 <<'PY' &
import socket, sys, time
want = int(sys.argv[1]) << 20
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(1); s.settimeout(60)
c, _ = s.accept(); c.settimeout(120)
got, t0 = 0, None
while got < want:
    b = c.recv(1 << 20)
    if not b:
        break
    if t0 is None:
        t0 = time.monotonic()
    got += len(b)
t1 = time.monotonic()
print("MBIT %.1f" % (got * 8 / (t1 - t0) / 1e6) if got >= want else "SHORT %d" % got)
PY
	RECV_PID=$!
	# Listening before the guest connects (python is slow to start on a
	# loaded machine).
	for _ in $(seq 100); do
		ip netns exec "$1" ss -Hltn 'sport = :5001' | grep -q . && break
		sleep 0.1
	done
}
# One transfer from guest NAME to ADDR; prints Mbit/s (empty if it failed).
transfer() { # transfer NAME NS ADDR
	recv_start "$2" "$T/recv.out"
	l2_run "$1" "timeout 200 sh -c 'dd if=/dev/zero bs=65536 count=$((MB * 16)) 2>/dev/null | nc $3 5001' >/dev/null 2>&1; true" 240
	wait "$RECV_PID"
	sed -n 's/^MBIT //p' "$T/recv.out"
}
rtt() { # rtt NAME ADDR: average ms of 20 pings
	l2_run "$1" "ping -c 20 -i 0.2 $2 | tail -n 1" 60
	echo "$L2_OUT" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]}'; }

# Warm-up: ARP both ways, and the guests' first TCP.
rtt vu 10.243.0.11 >/dev/null
rtt br 10.244.0.11 >/dev/null
VU=() BRT=()
for r in $(seq "$RUNS"); do
	v=$(transfer vu "$(ns a)" 10.243.0.11)
	b=$(transfer br "$(ns b)" 10.244.0.11)
	echo "round $r: vhost-user ${v:-failed} Mbit/s, bridge TAP ${b:-failed} Mbit/s"
	[ -n "$v" ] && VU+=("$v")
	[ -n "$b" ] && BRT+=("$b")
done
[ ${#VU[@]} -gt 0 ] && [ ${#BRT[@]} -gt 0 ] || { echo "FAIL: transfers failed"; exit 1; }
mv=$(printf '%s\n' "${VU[@]}" | median)
mb=$(printf '%s\n' "${BRT[@]}" | median)
rv=$(rtt vu 10.243.0.11)
rb=$(rtt br 10.244.0.11)
echo "BENCH vhost_user.qemu.tcp $mv Mbit/s"
echo "BENCH vhost_user.bridge_tap.tcp $mb Mbit/s"
echo "BENCH vhost_user.ratio.vs_bridge_tap $(awk -v a="$mv" -v b="$mb" 'BEGIN {printf "%.2f", a / b}') x"
[ -n "$rv" ] && echo "BENCH vhost_user.qemu.rtt $rv ms"
[ -n "$rb" ] && echo "BENCH vhost_user.bridge_tap.rtt $rb ms"
for g in vu br; do
	l2_send "$g" loom-poweroff
	l2_wait "$g" 30
done
netd_stop
exit 0
