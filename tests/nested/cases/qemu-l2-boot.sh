#!/usr/bin/env bash
# qemu-l2-boot.sh - batch case: QEMU on this /dev/kvm boots Debian's kernel
# with the guest initramfs to its init, runs a command in the guest shell
# over the serial console, gets a DHCP lease through each NIC model the
# guest image has drivers for (virtio-net, e1000, rtl8139) and powers off.
set -u
cd "$(dirname "$0")/../../.." || exit 1
. tests/lib/l2.sh
trap l2_stop_all EXIT

[ -c /dev/kvm ] || { echo "no /dev/kvm here (run through tests/lib/kvm.sh)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "no qemu-system-x86_64 (apt-get install qemu-system-x86)"; exit 77; }
l2_images || exit 1

# Three NIC models, each on its own user-mode network (QEMU's DHCP server),
# without option ROMs (iPXE would slow the firmware down).
nics=()
for m in virtio-net-pci e1000 rtl8139; do
	nics+=(-netdev "user,id=n-$m" -device "$m,netdev=n-$m,romfile=")
done
l2_start qemu qemu-system-x86_64 -enable-kvm -M pc -nodefaults -no-user-config \
	-cpu host -m 256 -nographic -no-reboot -monitor none -serial stdio \
	"${nics[@]}" \
	-kernel "$L2_KERNEL" -initrd "$L2_INITRD" -append "$L2_CMDLINE_QUIET"

if l2_expect qemu '^LOOM-INIT' 240 lines; then
	echo "PASS: qemu-l2-reaches-init ($(l2_elapsed qemu) s wall, guest uptime ${L2_LINE#LOOM-INIT })"
else
	echo "FAIL: qemu-l2-reaches-init: no LOOM-INIT within 240 s"
	l2_tail qemu
	exit 1
fi
if l2_shell qemu 120 && l2_run qemu 'uname -r; ls /sys/class/net' 60 &&
	[ "$L2_RC" = 0 ] && [ "$(echo "$L2_OUT" | head -n 1)" = "$(uname -r)" ]; then
	echo "PASS: qemu-l2-shell-command"
else
	echo "FAIL: qemu-l2-shell-command: rc=${L2_RC:-none} out=$(echo ${L2_OUT:-})"
	l2_tail qemu
fi
# The guest's own drivers bind the three NICs and get a lease through each.
l2_run qemu 'for n in /sys/class/net/eth*; do
	d=$(basename $(readlink $n/device/driver)); i=${n##*/}
	timeout 60 udhcpc -i $i -n -q -t 5 -T 2 >/tmp/$i.dhcp 2>&1 &&
		grep -q "bound 10.0.2.15" /tmp/$i.dhcp && echo "nic $d $i lease-ok" || echo "nic $d $i no-lease"
done' 180
for d in virtio_net e1000 8139cp; do
	if echo "$L2_OUT" | grep -qE "^nic $d eth[0-9]+ lease-ok$"; then
		echo "PASS: qemu-l2-nic-$d-dhcp"
	else
		echo "FAIL: qemu-l2-nic-$d-dhcp: $(echo "$L2_OUT" | tr '\n' ';')"
	fi
done

l2_send qemu loom-poweroff
l2_wait qemu 60
if [ "$L2_EXIT" = 0 ]; then
	echo "PASS: qemu-l2-poweroff ($(l2_elapsed qemu) s total)"
else
	echo "FAIL: qemu-l2-poweroff: QEMU exit $L2_EXIT"
	l2_tail qemu
fi
