#!/bin/sh
# guest-init.sh - /init of the L2 guest initramfs built by
# scripts/build-guest-initramfs.sh: load the NIC/disk drivers, then run a
# script or a shell on the serial console, then power off.
#
# Kernel command line (words without a dot reach init as environment):
#   loom_run="CMDS"      run CMDS with sh (no double quotes inside)
#   loom_run64=B64       run the base64-decoded script (any content)
#   /loom/run.sh         run this file if present (add it with --overlay, or
#                        append a second cpio archive to the initrd)
#   loom_shell=1         after the script, open the shell instead of powering off
#   loom_modules=a,b     load only these modules (default: all in the image)
# `udhcpc -i IFACE` applies its lease (/etc/udhcpc/default.script).
# Markers on the console, one per line, for a test to wait on:
#   LOOM-INIT <uptime>   first thing init does (time to init)
#   LOOM-READY           drivers loaded; script or shell follows
#   LOOM-EXIT <rc>       the script's exit code, just before power off
#   prompt "loom# "      interactive shell (PS1)
# Power off: `loom-poweroff` (poweroff -f with ACPI, else reboot -f, which a
# VMM without ACPI sees as an i8042 reset or triple fault).

export PATH=/sbin:/bin HOME=/root TERM=${TERM:-vt100}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "LOOM-INIT $(cut -d' ' -f1 /proc/uptime)"
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
dmesg -n 1
hostname loom-guest
ip link set lo up

if [ -n "$loom_modules" ]; then
	mods=$(echo "$loom_modules" | tr , ' ')
else
	mods=$(cat /etc/loom/modules)
fi
for m in $mods; do
	modprobe "$m" || echo "loom-init: modprobe $m failed"
done
echo "LOOM-READY"

script=
if [ -n "$loom_run64" ]; then
	echo "$loom_run64" | base64 -d >/run/loom-run.sh && script=/run/loom-run.sh
elif [ -n "$loom_run" ]; then
	printf '%s\n' "$loom_run" >/run/loom-run.sh && script=/run/loom-run.sh
elif [ -f /loom/run.sh ]; then
	script=/loom/run.sh
fi
unset loom_run loom_run64

if [ -n "$script" ]; then
	sh "$script"
	echo "LOOM-EXIT $?"
	[ "$loom_shell" = 1 ] || loom-poweroff
fi

# A shell on the console with a controlling tty; when it exits, power off.
export PS1='loom# '
while :; do
	setsid cttyhack sh -i
	[ -f /run/loom-respawn ] || break
done
loom-poweroff
