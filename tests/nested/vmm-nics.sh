#!/usr/bin/env bash
# vmm-nics.sh - tier 5: three Linux guests under loom-vmm on one loom
# network, each with an emulated NIC and the kernel's own driver for it:
# e1000 (model e1000), 8139too (model rtl8139c), 8139cp (model rtl8139).
# Checks: the right driver binds and reads the MAC from the chip's EEPROM;
# loom vm status and loom port list name the model; each guest's udhcpc
# gets a lease from netd through its own driver; each resolves the next by
# name (nslookup, netd's DNS), pings it (56 and 1400 byte payloads) and
# fetches a 1.2 MB file over HTTP from it (busybox httpd/wget), intact - so
# every model both sends large TCP frames (e1000 TSO, 8139cp large send,
# segmented by the model) and receives them (e1000 ring, 8139 ring buffer
# with wrap, C+ ring); `loom port set lan PORT link down|up` gives each
# guest NO-CARRIER and carrier back (LSC, LinkChg); when loom-netd dies
# every guest sees NO-CARRIER, and once netd is back (the network restored
# from its state file) carrier and pings return.
#
# Runs where /dev/kvm boots Linux (direct, or inside the nested L1); exit
# 77 with the reason otherwise, or when the binaries are not built.
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
. tests/lib/kvm.sh
if [ "${LOOM_IN_L1:-}" != 1 ]; then
	for b in loom-vmm loom-netd loom; do
		[ -x "build/$b" ] || { echo "build/$b not built yet (make)"; exit 77; }
	done
	L2_INITRD=$(scripts/build-guest-initramfs.sh) ||
		{ echo "FAIL: guest-initramfs: build failed"; exit 1; }
	export L2_INITRD
fi
# About 10 minutes in the L1 on an idle machine, 20 on a loaded one.
KVM_L1_OPTS=${KVM_L1_OPTS:---timeout 1800} kvm_enter "$0" "$@"

command -v python3 >/dev/null || { echo "no python3"; exit 77; }
. tests/lib/l2.sh
work=$L2_DIR
run=$work/run state=$work/state
mkdir -p "$run" "$state"
export LOOM_RUN_DIR=$run
netd_pid=
cleanup() {
	l2_stop_all
	[ -n "$netd_pid" ] && kill "$netd_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
l2_images || exit 1
fails=0
pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	fails=$((fails + 1))
}
loom() { "$root/build/loom" "$@"; }
netd_start() {
	"$root/build/loom-netd" --run-dir "$run" --state-dir "$state" -v \
		>>"$work/netd.log" 2>&1 &
	netd_pid=$!
	for _ in $(seq 100); do
		loom status >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "    loom-netd did not start:"
	tail -n 20 "$work/netd.log" | sed 's/^/    | /'
	return 1
}

netd_start || exit 1
loom net create lan --mode switch --subnet 10.77.0.0/24 \
	--dhcp-range 10.77.0.50-10.77.0.99 >/dev/null ||
	{ echo "FAIL: loom net create"; exit 1; }

models=(e1000 rtl8139c rtl8139)
declare -A drv=([e1000]=e1000 [rtl8139c]=8139too [rtl8139]=8139cp)
declare -A ip
declare -A up
cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check"
seq_md5=$(seq 1 200000 | md5sum | cut -d' ' -f1)

# carrier VM WANT SECS: the guest's eth0 carrier becomes WANT (the last
# line: loom-vmm's own messages share the console stream).
carrier() {
	l2_run "$1" "for i in \$(seq $(($3 * 5))); do [ \"\$(cat /sys/class/net/eth0/carrier 2>/dev/null)\" = $2 ] && break; sleep 0.2; done; echo carrier=\$(cat /sys/class/net/eth0/carrier)" \
		$(($3 + 60)) && [[ $L2_OUT == *"carrier=$2"* ]]
}

for m in "${models[@]}"; do
	l2_start "$m" "$root/build/loom-vmm" --name "vm-$m" --kernel "$L2_KERNEL" \
		--initrd "$L2_INITRD" --append "$cmdline" --mem 256M --cpus 1 \
		--nic "net=lan,model=$m" --console stdio
done
for m in "${models[@]}"; do
	if ! l2_shell "$m" 400; then
		fail "$m-boot: no shell"
		l2_tail "$m" 25
		continue
	fi
	up[$m]=1
	mac=$(loom --json port list lan | python3 -c 'import json,sys
for p in json.load(sys.stdin)["ports"]:
    if p.get("name") == sys.argv[1]: print(p.get("mac", ""))' "vm-$m" 2>/dev/null)
	if l2_run "$m" 'basename $(readlink /sys/class/net/eth0/device/driver); cat /sys/class/net/eth0/address' 60 &&
		[ "$(echo "$L2_OUT" | head -n 1)" = "${drv[$m]}" ] &&
		[ "$(echo "$L2_OUT" | sed -n 2p)" = "$mac" ]; then
		pass "$m-driver-${drv[$m]}-mac"
	else
		fail "$m-driver-${drv[$m]}-mac: guest said '${L2_OUT//$'\n'/ }', netd's port MAC '$mac'"
	fi
	if loom --json vm status "vm-$m" | python3 -c 'import json,sys
n = json.load(sys.stdin)["status"]["nics"][0]
sys.exit(0 if n["model"] == sys.argv[1] and n["net"] == "lan" else 1)' "$m"; then
		pass "$m-in-vm-status"
	else
		fail "$m-in-vm-status"
	fi
	if loom port list lan | grep -Eq "^lan +vm-$m +$m "; then
		pass "$m-in-port-list"
	else
		fail "$m-in-port-list"
		loom port list lan
	fi
	l2_run "$m" "mkdir -p /tmp/www && seq 1 200000 >/tmp/www/f && httpd -p 8080 -h /tmp/www; ip link set eth0 up" 60
	if carrier "$m" 1 20; then
		pass "$m-link-up"
	else
		fail "$m-link-up: carrier '${L2_OUT%$'\n'}'"
	fi
	# A lease from netd's DHCP, through this model and its driver.
	l2_run "$m" 'udhcpc -i eth0 -q -n -t 10 -T 3 2>&1 | tail -n 1' 150
	ip[$m]=$(sed -n 's/.*bound \(10\.77\.0\.[0-9]*\)\/.*/\1/p' <<<"$L2_OUT" | head -n 1)
	if [ -n "${ip[$m]}" ]; then
		pass "$m-dhcp-lease (${ip[$m]})"
	else
		fail "$m-dhcp-lease: '${L2_OUT//$'\n'/ }'"
		up[$m]=
	fi
done

# Each guest talks to the next one: every model sends and receives.
next() {
	local i
	for i in 0 1 2; do
		[ "${models[$i]}" = "$1" ] && echo "${models[$(((i + 1) % 3))]}"
	done
}
for m in "${models[@]}"; do
	[ -n "${up[$m]:-}" ] || continue
	peer=$(next "$m")
	[ -n "${ip[$peer]:-}" ] || continue
	if l2_run "$m" "nslookup vm-$peer 2>&1" 60 && [ "$L2_RC" = 0 ] &&
		grep -q "Address.* ${ip[$peer]}\$" <<<"$L2_OUT"; then
		pass "$m-resolves-vm-$peer (${ip[$peer]})"
	else
		fail "$m-resolves-vm-$peer: '${L2_OUT//$'\n'/ }'"
	fi
	if l2_run "$m" "ping -c 3 -W 5 ${ip[$peer]} >/dev/null && ping -c 5 -i 0.3 -W 5 -s 1400 ${ip[$peer]} | grep -c 'bytes from'" 120 &&
		[ "$L2_RC" = 0 ] && [ "${L2_OUT%$'\n'}" = 5 ]; then
		pass "$m-pings-$peer"
	else
		fail "$m-pings-$peer: rc=${L2_RC:-none} ${L2_OUT//$'\n'/ }"
	fi
	if l2_run "$m" "timeout 150 wget -q -O - http://${ip[$peer]}:8080/f | md5sum" 180 &&
		[ "${L2_OUT%%[[:space:]]*}" = "$seq_md5" ]; then
		pass "$m-fetches-1.2MB-from-$peer"
	else
		fail "$m-fetches-1.2MB-from-$peer: md5 '${L2_OUT//$'\n'/ }'"
	fi
done

# Carrier set by hand on netd's side: LSC / LinkChg, NO-CARRIER, back.
for m in "${models[@]}"; do
	[ -n "${up[$m]:-}" ] || continue
	loom port set lan "vm-$m" link down >/dev/null
done
for m in "${models[@]}"; do
	[ -n "${up[$m]:-}" ] || continue
	if carrier "$m" 0 20; then
		pass "$m-no-carrier-on-port-set-link-down"
	else
		fail "$m-no-carrier-on-port-set-link-down: carrier '${L2_OUT%$'\n'}'"
	fi
	loom port set lan "vm-$m" link up >/dev/null
done
for m in "${models[@]}"; do
	[ -n "${up[$m]:-}" ] || continue
	if carrier "$m" 1 20; then
		pass "$m-carrier-on-port-set-link-up"
	else
		fail "$m-carrier-on-port-set-link-up: carrier '${L2_OUT%$'\n'}'"
	fi
done

# Carrier loss and recovery: netd dies, then comes back.
kill -9 "$netd_pid"
wait "$netd_pid" 2>/dev/null
netd_pid=
for m in "${models[@]}"; do
	[ -n "${up[$m]:-}" ] || continue
	if carrier "$m" 0 20; then
		pass "$m-no-carrier-when-netd-dies"
	else
		fail "$m-no-carrier-when-netd-dies: carrier '${L2_OUT%$'\n'}'"
	fi
done
netd_start
for m in "${models[@]}"; do
	[ -n "${up[$m]:-}" ] || continue
	peer=$(next "$m")
	[ -n "${ip[$peer]:-}" ] || continue
	if carrier "$m" 1 40 &&
		l2_run "$m" "ping -c 3 -W 5 ${ip[$peer]} >/dev/null" 90 && [ "$L2_RC" = 0 ]; then
		pass "$m-carrier-and-ping-after-netd-restart"
	else
		fail "$m-carrier-and-ping-after-netd-restart: rc=${L2_RC:-none} ${L2_OUT//$'\n'/ }"
	fi
done
for m in "${models[@]}"; do
	l2_send "$m" loom-poweroff
done
for m in "${models[@]}"; do
	l2_wait "$m" 60
	[ "$L2_EXIT" = 0 ] || fail "$m-poweroff: loom-vmm exit $L2_EXIT"
	grep -q 'Sanitizer' "$L2_DIR/$m.log" && fail "$m: sanitizer report"
done
[ $fails -eq 0 ]
