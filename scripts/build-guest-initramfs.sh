#!/usr/bin/env bash
# build-guest-initramfs.sh - build the L2 guest initramfs: static busybox, the
# installed Debian kernel's NIC and disk drivers, and an /init that runs a
# script or a serial-console shell (scripts/nested/guest-init.sh).
#
#   scripts/build-guest-initramfs.sh [--overlay DIR]... [--modules "A B"]
#                                    [--programs "P Q"] [OUT]
#
# OUT ending in .gz is gzip-compressed, anything else is a plain cpio. Without
# OUT: build/nested/guest-<kver>.cpio.gz. The image is rebuilt only when its
# inputs change. Prints the image's path on stdout. Boot it with
# /boot/vmlinuz-<kver> and "console=ttyS0"; see guest-init.sh for the
# command line (loom_run=, loom_run64=, loom_shell=1) and console markers.
#
#   --overlay DIR     copy DIR's tree into the image (e.g. DIR/loom/run.sh)
#   --modules "A B"   modules to add to the default set
#   --programs "P Q"  host programs to add (e.g. iperf3), each with the shared
#                     libraries and loader ldd names, at their host paths
# Environment: NESTED_KVER picks the kernel version.
set -euo pipefail

NESTED_PROG=build-guest-initramfs
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=nested/lib.sh
. "$here/nested/lib.sh"

# NICs (virtio, e1000, rtl8139 both drivers), virtio-blk, and file systems
# for a raw disk: ext4 (also mounts ext2 from busybox mke2fs) and vfat.
GUEST_MODULES="virtio_pci virtio_net e1000 8139too 8139cp virtio_blk
	virtio_console ext4 crc32c_generic vfat nls_cp437 nls_iso8859_1"

overlays=() extra="" programs=""
while [ $# -gt 0 ]; do
	case $1 in
	--overlay) overlays+=("$(cd "${2:?}" && pwd)"); shift 2 ;;
	--modules) extra="$extra ${2:?}"; shift 2 ;;
	--programs) programs="$programs ${2:?}"; shift 2 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) nested_die "unknown option $1" ;;
	*) break ;;
	esac
done
nested_require_kernel
nested_require_busybox
command -v cpio >/dev/null || nested_die "no cpio: apt-get install cpio"
command -v depmod >/dev/null || nested_die "no depmod: apt-get install kmod"

out=${1:-$(nested_repo_root)/build/nested/guest-$KVER.cpio.gz}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# shellcheck disable=SC2086 # lists of names
files=$(nested_resolve_modules "$KMODDIR" $GUEST_MODULES $extra) ||
	nested_die "cannot resolve guest modules"
# Dynamically linked programs (busybox is static): the program and every
# object ldd resolves for it (libraries and the loader), host paths kept.
prog_files=""
for p in $programs; do
	f=$(command -v "$p") || nested_die "no program $p on this host (apt-get install it)"
	prog_files="$prog_files $f $(ldd "$f" 2>/dev/null |
		sed -n 's/.*=> \(\/[^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')"
done
key=$( (echo "$KVER $GUEST_MODULES $extra $programs"; cat "$0" "$here/nested/guest-init.sh" "$here/nested/lib.sh"
	# shellcheck disable=SC2046
	nested_inputs_key "$BUSYBOX" $(sed "s|^|$KMODDIR/|" <<<"$files") $prog_files
	for d in "${overlays[@]}"; do
		find "$d" -type f -exec stat -c '%n %s %Y' {} + | sort
	done) | sha256sum | cut -c1-16)
if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
	echo "$out"
	exit 0
fi

tmp=$(mktemp -d "$(dirname "$out")/guest-root.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
nested_busybox_tree "$BUSYBOX" "$tmp"
ln -sf ../bin/busybox "$tmp/sbin/modprobe"
mkdir -p "$tmp/etc/loom" "$tmp/loom" "$tmp/lib/modules/$KVER"
for m in $files; do
	mkdir -p "$tmp/lib/modules/$KVER/$(dirname "$m")"
	cp "$KMODDIR/$m" "$tmp/lib/modules/$KVER/$m"
done
cp "$KMODDIR/modules.builtin" "$KMODDIR/modules.builtin.modinfo" "$KMODDIR/modules.order" "$tmp/lib/modules/$KVER/"
depmod -b "$tmp" "$KVER"
for f in $prog_files; do
	mkdir -p "$tmp$(dirname "$f")"
	cp -L "$f" "$tmp$f"
done
for p in $programs; do # on init's PATH (/sbin:/bin) too
	[ -e "$tmp/bin/$p" ] || ln -s "$(command -v "$p")" "$tmp/bin/$p"
done
# Load the requested names (the drivers pull in their dependencies).
echo $GUEST_MODULES $extra | tr ' ' '\n' | grep -v '^$' >"$tmp/etc/loom/modules"
install -m 755 "$here/nested/guest-init.sh" "$tmp/init"
cat >"$tmp/bin/loom-poweroff" <<'EOF'
#!/bin/sh
# Power off: ACPI if the platform has it, else a reset the VMM takes as exit.
sync
[ -d /sys/firmware/acpi/tables ] && poweroff -f
reboot -f
EOF
chmod 755 "$tmp/bin/loom-poweroff"
# udhcpc's default script (Debian's busybox looks in /etc/udhcpc): configure
# the lease (address, default route, resolver), so `udhcpc -i eth0` is all a
# NIC test needs.
mkdir -p "$tmp/etc/udhcpc"
cat >"$tmp/etc/udhcpc/default.script" <<'EOF2'
#!/bin/sh
# udhcpc hook: apply or drop the lease on $interface.
case $1 in
deconfig)
	ip addr flush dev "$interface"
	ip link set "$interface" up
	;;
bound | renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
	for r in $router; do
		ip route replace default via "$r" dev "$interface" && break
	done
	: >/etc/resolv.conf
	[ -n "$domain" ] && echo "search $domain" >>/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	echo "udhcpc: $interface bound $ip/${mask:-24} router ${router:-none} dns ${dns:-none}"
	;;
esac
exit 0
EOF2
chmod 755 "$tmp/etc/udhcpc/default.script"
echo "root:x:0:0:root:/root:/bin/sh" >"$tmp/etc/passwd"
echo "root:x:0:" >"$tmp/etc/group"
for d in "${overlays[@]}"; do
	cp -a "$d/." "$tmp/"
done
nested_cpio "$tmp" "$out" || nested_die "cpio failed"
echo "$key" >"$out.key"
echo "$out"
