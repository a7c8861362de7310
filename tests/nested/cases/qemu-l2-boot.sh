#!/usr/bin/env bash
# qemu-l2-boot.sh - batch case: QEMU on this /dev/kvm boots Debian's kernel
# with the guest initramfs to its init, runs a command in the guest shell
# over the serial console and powers off.
set -u
cd "$(dirname "$0")/../../.." || exit 1
. tests/lib/l2.sh
trap l2_stop_all EXIT

[ -c /dev/kvm ] || { echo "no /dev/kvm here (run through tests/lib/kvm.sh)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null ||
	{ echo "no qemu-system-x86_64 (apt-get install qemu-system-x86)"; exit 77; }
l2_images || exit 1

l2_start qemu qemu-system-x86_64 -enable-kvm -M pc -nodefaults -no-user-config \
	-cpu host -m 256 -nographic -no-reboot -monitor none -serial stdio \
	-kernel "$L2_KERNEL" -initrd "$L2_INITRD" -append "$L2_CMDLINE_QUIET"

if l2_expect qemu '^LOOM-INIT' 240; then
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
l2_send qemu loom-poweroff
l2_wait qemu 60
if [ "$L2_EXIT" = 0 ]; then
	echo "PASS: qemu-l2-poweroff ($(l2_elapsed qemu) s total)"
else
	echo "FAIL: qemu-l2-poweroff: QEMU exit $L2_EXIT"
	l2_tail qemu
fi
