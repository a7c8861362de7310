#!/usr/bin/env bash
# demo.sh - `make demo`: the brief's default, end to end: a NAT network with DHCP, DNS and a port forward, a VM on it, the forward proven.
#
# What it shows, each step saying what it proves (the first failing step
# stops the demo with exit status 1):
#   1. a private loom-netd (its own run and state directories, so a netd
#      already running here is not disturbed)
#   2. `loom net create demo` - mode nat by default (libslirp), with netd's
#      gateway, DHCP server and DNS on it
#   3. a Linux guest under loom-vmm with a virtio-net NIC on that network
#      (`--nic net=demo`), shown by `loom vm list` and `loom port list`
#   4. in the guest: udhcpc gets a lease (address, route, resolver) from
#      netd; the guest pings its gateway, resolves its own name through
#      netd's DNS, and reaches a web server on the host's loopback through
#      the NAT (--host-loopback)
#   5. the guest serves a page; `loom forward add` (live, while it runs)
#      makes it reachable on the host's 127.0.0.1:8080, and the page comes
#      back through the forward; after `loom forward remove` it does not
#   6. kill -9 loom-netd and restart it: the lease and the network come back
#      from the state and lease files, the VM re-attaches on its own
#   7. everything is stopped and removed
#
# Real Linux guests need a /dev/kvm at hardware speed. Where there is none
# (as on our CI machines, docs/testing.md), the demo runs itself inside the
# nested harness's QEMU-TCG L1 (scripts/nested/), which takes a minute or two
# more; the output is the same.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
loom=$top/build/loom
netd=$top/build/loom-netd
vmm=$top/build/loom-vmm

bold='' plain=''
[ -t 1 ] && bold=$'\033[1m' plain=$'\033[0m'
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '   %s\n' "$*"; }

if [ "${LOOM_IN_L1:-}" != 1 ]; then
	for b in "$loom" "$netd" "$vmm"; do
		[ -x "$b" ] || { echo "demo: $b is missing: run make first" >&2; exit 1; }
	done
	step "0. the guest image (Debian's kernel, busybox, the NIC drivers)"
	L2_INITRD=$(scripts/build-guest-initramfs.sh) ||
		{ echo "demo: FAILED: cannot build the guest initramfs" >&2; exit 1; }
	export L2_INITRD
	say "$L2_INITRD"
fi
. tests/lib/kvm.sh
kvm_probe
if [ "$KVM_MODE" = nested ] && [ "${LOOM_IN_L1:-}" != 1 ]; then
	say "no hardware-speed /dev/kvm here ($KVM_WHY): running the demo inside the nested L1"
fi
# Re-runs this script where /dev/kvm boots Linux (returns at once there).
kvm_enter "$0" "$@"

. tests/lib/l2.sh
work=$L2_DIR
export LOOM_RUN_DIR=$work/run
state=$work/state
mkdir -p "$LOOM_RUN_DIR/vm" "$state" "$work/www-host"
netd_pid='' web_pid=''

fail() {
	echo "demo: FAILED: $*" >&2
	if [ -f "$work/netd.log" ]; then
		echo "--- the end of loom-netd's log:" >&2
		tail -n 20 "$work/netd.log" >&2
	fi
	if [ -f "$work/web.log" ]; then
		echo "--- the end of the guest's console:" >&2
		tail -n 20 "$work/web.log" >&2
	fi
	exit 1
}
run() { printf '$ %s\n' "$*"; "$@"; }
guest() { # guest 'CMDS' SECS: run in the guest's shell, show its output
	printf 'web# %s\n' "$1"
	l2_run web "$1" "$2" || return 1
	printf '%s' "$L2_OUT" | sed 's/^/   /'
	[ "$L2_RC" = 0 ]
}

# http_get PORT: the body of http://127.0.0.1:PORT/ (bash's /dev/tcp, so no
# HTTP client needs installing; at most 10 s), empty when nothing answers.
http_get() {
	timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3
		sed "1,/^\r\{0,1\}$/d" <&3' http_get "$1" 2>/dev/null
}

start_netd() {
	"$netd" --run-dir "$LOOM_RUN_DIR" --state-dir "$state" >>"$work/netd.log" 2>&1 &
	netd_pid=$!
	for _ in $(seq 100); do
		"$loom" status >/dev/null 2>&1 && return 0
		kill -0 "$netd_pid" 2>/dev/null || fail "loom-netd exited at start"
		sleep 0.1
	done
	fail "loom-netd did not answer within 10 s"
}

cleanup() {
	set +e
	l2_stop_all
	[ -n "$web_pid" ] && kill "$web_pid" 2>/dev/null
	if [ -n "$netd_pid" ] && kill -0 "$netd_pid" 2>/dev/null; then
		"$loom" net delete demo >/dev/null 2>&1
		kill "$netd_pid"
	fi
	# Bounded: a child that does not go (a VMM stuck in its teardown) must
	# not hold the demo, and the L1 it runs in, for ever.
	for _ in $(seq 50); do
		[ -z "$(jobs -pr)" ] && break
		sleep 0.1
	done
	for p in $(jobs -pr); do
		kill -9 "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT
l2_images || fail "no guest kernel/initramfs"

step "1. start loom-netd (control socket in $LOOM_RUN_DIR)"
start_netd
run "$loom" status

step "2. a NAT network with DHCP and DNS: one command"
run "$loom" net create demo --subnet 10.0.2.0/24 --dhcp-range 10.0.2.15-10.0.2.99 \
	--host-loopback || fail "loom net create"
run "$loom" net show demo

step "3. a VM with a virtio-net NIC on it"
cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check"
printf '$ loom-vmm --name web --kernel %s --initrd %s --mem 192M --nic net=demo ...\n' \
	"${L2_KERNEL##*/}" "${L2_INITRD##*/}"
l2_start web "$vmm" --name web --control "$LOOM_RUN_DIR/vm/web.sock" \
	--kernel "$L2_KERNEL" --initrd "$L2_INITRD" --append "$cmdline" \
	--mem 192M --cpus 1 --console stdio --nic net=demo --no-kernel-cache
l2_shell web 300 || fail "the guest did not reach its shell within 300 s"
say "guest up after $(l2_elapsed web) s"
run "$loom" vm list
run "$loom" port list demo

step "4. the guest gets a lease from netd, pings its gateway, resolves names, reaches the host through the NAT"
guest 'udhcpc -i eth0 -x hostname:web -q -n -t 10 -T 2' 90 || fail "no DHCP lease"
addr=$(sed -n 's/.*bound \([0-9.]*\)\/.*/\1/p' <<<"$L2_OUT" | head -n 1)
[ -n "$addr" ] || fail "udhcpc printed no address"
guest 'ip route; cat /etc/resolv.conf' 30 || fail "no route/resolver"
guest 'ping -c 2 -W 5 10.0.2.1' 60 || fail "the gateway does not answer ping"
guest 'nslookup web 10.0.2.1' 60 || fail "netd's DNS does not know the VM's name"
grep -q "$addr" <<<"$L2_OUT" || fail "DNS answered web with something other than $addr"
run "$loom" lease list demo || fail "loom lease list"
echo "hello from the host, through loom's NAT" >"$work/www-host/index.html"
busybox httpd -f -p 127.0.0.1:8000 -h "$work/www-host" &
web_pid=$!
for _ in $(seq 50); do
	[ -n "$(http_get 8000)" ] && break
	sleep 0.2
done
guest 'wget -q -O - http://10.0.2.1:8000/' 60 || fail "the guest cannot reach the host's loopback"
grep -q "through loom's NAT" <<<"$L2_OUT" || fail "wrong page from the host"

step "5. a live port forward: the host's 127.0.0.1:8080 reaches the guest's web server"
guest 'mkdir -p /www && echo "hello from web, a VM on a loom nat network" >/www/index.html && httpd -p 80 -h /www' 30 ||
	fail "guest httpd"
run "$loom" forward add demo tcp 127.0.0.1:8080 "$addr:80" || fail "loom forward add"
run "$loom" forward list demo
page=$(http_get 8080 || true)
printf '$ GET http://127.0.0.1:8080/\n   %s\n' "$page"
[ "$page" = "hello from web, a VM on a loom nat network" ] || fail "the forward did not bring the guest's page"
say "the forward works"
run "$loom" forward remove demo tcp 127.0.0.1:8080 || fail "loom forward remove"
if [ -n "$(http_get 8080)" ]; then
	fail "127.0.0.1:8080 still answers after the forward was removed"
fi
say "and after 'loom forward remove' the port is closed"
run "$loom" forward add demo tcp 127.0.0.1:8080 "$addr:80" >/dev/null || fail "loom forward add (again)"

step "6. kill -9 loom-netd and restart it: network, lease and forward come back, the VM re-attaches"
kill -9 "$netd_pid"; wait "$netd_pid" 2>/dev/null || true
start_netd
run "$loom" lease list demo
ok=
for _ in $(seq 60); do
	page=$(http_get 8080 || true)
	[ "$page" = "hello from web, a VM on a loom nat network" ] && { ok=1; break; }
	sleep 1
done
[ -n "$ok" ] || fail "the forward does not reach the guest after the restart"
say "the forward reaches the guest again"
guest 'udhcpc -i eth0 -x hostname:web -q -n -t 10 -T 2 | tail -n 1' 90 || fail "no lease after the restart"
grep -q "bound $addr/" <<<"$L2_OUT" || fail "the guest's renewal after the restart gave another address"
say "the guest kept its address $addr"

step "7. stop the VM, delete the network"
run "$loom" vm stop web || fail "loom vm stop"
# The VMM process itself ends (a NIC thread spinning on too few receive
# buffers once kept it in its teardown): bounded, or the demo fails.
l2_wait web 20
if [ "$L2_EXIT" = 124 ]; then
	say "WARNING: loom-vmm did not exit within 20 s of loom vm stop (killed)"
else
	say "loom-vmm exited ($L2_EXIT) after loom vm stop"
fi
for _ in $(seq 60); do
	"$loom" vm list 2>/dev/null | grep -q '^web ' || break
	sleep 1
done
run "$loom" vm list
run "$loom" net delete demo || fail "loom net delete"

printf '\n%sdemo passed.%s\n' "$bold" "$plain"
