#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vde-plugin.sh - a VDE program joins a loom network by URL loom://NET (libvdeplug_loom.so).
#
# Namespace a: a loom TAP port. Namespace b: `vde_plug loom://lab tap://TAP`,
# the VDE world's own tool and its tap:// plugin, so b's TAP reaches the
# loom switch only through our plugin and netd's shm port protocol.
. "$(dirname "$0")/common.bash"
skip_unless_root
PLUGIN=$ROOT/build/libvdeplug_loom.so
if ! command -v vde_plug >/dev/null; then
	echo "skipped: vde_plug is not installed (scripts/install-deps.sh: vdeplug)"
	exit 77
fi
[ -f "$PLUGIN" ] || { echo "FAIL: $PLUGIN not built (run make)"; exit 1; }
# libvdeplug looks in $VDEPLUGIN_PATH only when it is set: the build dir
# for loom://, Debian's plugin dir for tap://.
SYSDIR=$(dirname "$(realpath "$(ldconfig -p | awk '/libvdeplug.so.2 /{print $NF; exit}')")")/vdeplug
export VDEPLUGIN_PATH=$ROOT/build:$SYSDIR

ns_add a
ns_add b
TA=lv$$a
TB=lv$$b
netd_start || exit 1
URL="loom://lab[socket=$SOCK]"

check "net.create" ctl net.create '{"name":"lab","mode":"switch"}'
check "TAP port in netns a" ctl port.add \
	"{\"net\":\"lab\",\"tap\":\"$TA\",\"netns\":\"$(ns a)\",\"address\":\"10.232.0.11/24\"}"

nofds ip netns exec "$(ns b)" vde_plug "$URL" "tap://$TB" >"$T/plug.log" 2>&1 &
PLUG=$!
EXTRA_PIDS=$PLUG
for _ in $(seq 50); do
	ip -n "$(ns b)" link show "$TB" >/dev/null 2>&1 && break
	sleep 0.1
done
ip -n "$(ns b)" addr add 10.232.0.12/24 dev "$TB"
ip -n "$(ns b)" link set "$TB" up

check "the VDE client shows as port vde_plug.PID, model vde, up" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"lab\"}' | python3 -c '
import json, sys
ps = json.load(sys.stdin)[\"result\"][\"ports\"]
p = [p for p in ps if p[\"name\"] == \"vde_plug.$PLUG\"]
assert p, ps
assert p[0][\"model\"] == \"vde\" and p[0][\"state\"] == \"up\", p
'"
check "ping b (VDE) -> a (loom TAP)" \
	ip netns exec "$(ns b)" ping -c 3 -i 0.2 -W 2 10.232.0.11
check "ping a -> b" ip netns exec "$(ns a)" ping -c 3 -i 0.2 -W 2 10.232.0.12
check "a 1400-byte ping crosses too" \
	ip netns exec "$(ns a)" ping -c 2 -i 0.2 -W 2 -s 1400 10.232.0.12
check "the VDE port counted the frames" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.list '{\"net\":\"lab\"}' | python3 -c '
import json, sys
p = [p for p in json.load(sys.stdin)[\"result\"][\"ports\"] if p[\"name\"] == \"vde_plug.$PLUG\"][0]
assert p[\"counters\"][\"rx_frames\"] >= 8 and p[\"counters\"][\"tx_frames\"] >= 8, p
'"

kill "$PLUG"
wait "$PLUG" 2>/dev/null
EXTRA_PIDS=
check "the port goes when the VDE program exits" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	for i in \$(seq 20); do
		ctl port.list '{\"net\":\"lab\"}' | grep -q vde_plug || exit 0
		sleep 0.1
	done
	exit 1"

nofds vde_plug "loom://lab[port=named-vde/socket=$SOCK]" null:// >"$T/plug2.log" 2>&1 &
PLUG2=$!
EXTRA_PIDS=$PLUG2
check "loom://NET[port=NAME] names the port NAME" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	for i in \$(seq 30); do
		ctl port.list '{\"net\":\"lab\"}' | grep -q '\"named-vde\"' && exit 0
		sleep 0.1
	done
	exit 1"
check "port.del of a VDE port ends the VDE program (EOF on its control fd)" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	ctl port.del '{\"net\":\"lab\",\"port\":\"named-vde\"}' >/dev/null || exit 1
	for i in \$(seq 30); do
		kill -0 $PLUG2 2>/dev/null || exit 0
		sleep 0.1
	done
	exit 1"
wait "$PLUG2" 2>/dev/null
EXTRA_PIDS=

# QEMU's own -netdev vde opens loom://NET through the same plugin (no
# guest here: -machine none; the attach and the port's name are the point).
if qemu-system-x86_64 -netdev help 2>/dev/null | grep -qw vde; then
	nofds qemu-system-x86_64 -machine none -nodefaults -display none -S \
		-netdev "vde,id=n0,sock=$URL" >"$T/qemu.log" 2>&1 &
	QEMU=$!
	EXTRA_PIDS=$QEMU
	check "QEMU -netdev vde,sock=loom://lab attaches: port qemu-system-x86.PID" bash -c "
		$(declare -f ctl); CTL=$CTL SOCK=$SOCK
		for i in \$(seq 50); do
			ctl port.list '{\"net\":\"lab\"}' | grep -q '\"qemu-system-x86.$QEMU\"' && exit 0
			sleep 0.1
		done
		cat '$T/qemu.log'; exit 1"
	kill "$QEMU"
	wait "$QEMU" 2>/dev/null
	EXTRA_PIDS=
	check "... and its port goes with QEMU" bash -c "
		$(declare -f ctl); CTL=$CTL SOCK=$SOCK
		for i in \$(seq 30); do
			ctl port.list '{\"net\":\"lab\"}' | grep -q qemu-system || exit 0
			sleep 0.1
		done
		exit 1"
elif [ "${CI:-}" = true ]; then
	fail "qemu-system-x86_64 with -netdev vde is missing (scripts/install-deps.sh)"
else
	echo "note: QEMU check left out: no qemu-system-x86_64 with -netdev vde"
fi

check_not "loom://NOSUCH is refused" \
	timeout 5 vde_plug "loom://nosuch[socket=$SOCK]" null://
check "... with a message naming the network" bash -c \
	"timeout 5 vde_plug 'loom://nosuch[socket=$SOCK]' null:// 2>&1 | grep -q \"no network 'nosuch'\""
check "a bad URL is refused with the syntax" bash -c \
	"timeout 5 vde_plug 'loom://la b' null:// 2>&1 | grep -q 'use loom://NETWORK'"
check_not "an empty loom:// is refused" timeout 5 vde_plug "loom://" null://

# netd's own check (root or the daemon's user): let nobody reach the socket.
chmod 0755 "$T" "$RUN_DIR"
chmod 0666 "$SOCK"
check "another user is refused by loom-netd's permission check" bash -c "
	! timeout 5 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		vde_plug '$URL' 'null://' >'$T/nobody.log' 2>&1 || exit 1
	cat '$T/nobody.log'
	grep -q 'loom-netd refused: permission denied' '$T/nobody.log'"
check "no port was left by the refused clients" bash -c "
	$(declare -f ctl); CTL=$CTL SOCK=$SOCK
	test \"\$(ctl port.list '{\"net\":\"lab\"}' | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[\"result\"][\"ports\"]))')\" = 1"

netd_stop
finish
