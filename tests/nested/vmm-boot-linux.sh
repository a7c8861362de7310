#!/usr/bin/env bash
# vmm-boot-linux.sh - tier 5: loom-vmm boots Debian's kernel with the guest
# initramfs (scripts/build-guest-initramfs.sh) to a shell on its serial
# console, runs commands there, mounts an ext4 virtio-blk disk, reads a file
# the host put on it and writes one, and powers off cleanly; the host then
# finds the guest's file on the image and the file system clean. Then the
# same bzImage boots again from loom-vmm's kernel cache (filled on the host).
#
# Runs on a hardware-speed /dev/kvm directly, else inside the nested L1 (one
# L1 boot for all cases); exit 77 with the reason if neither is possible or
# build/loom-vmm is not built yet.
set -u
cd "$(dirname "$0")/../.." || exit 1
vmm=$PWD/build/loom-vmm
. tests/lib/kvm.sh

if [ "${LOOM_IN_L1:-}" != 1 ]; then
	[ -x "$vmm" ] || { echo "build/loom-vmm not built yet (make)"; exit 77; }
	L2_INITRD=$(scripts/build-guest-initramfs.sh) ||
		{ echo "FAIL: guest-initramfs: build failed"; exit 1; }
	export L2_INITRD
	# The kernel cache's hit path: the bzImage decompressed here (no KVM
	# needed), read in L1 from the repository's (read-only) build tree.
	kcache=$(mktemp -d "$PWD/build/vmm-kcache.XXXXXX") || exit 1
	trap 'rm -rf "$kcache"' EXIT
	LOOM_TEST_KCACHE=$kcache
	LOOM_CACHE_DIR=$kcache "$vmm" --cache-kernel \
		--kernel "$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)" >/dev/null ||
		LOOM_TEST_KCACHE=
	export LOOM_TEST_KCACHE
fi
kvm_enter "$0" "$@" # returns where /dev/kvm boots Linux

. tests/lib/l2.sh
work=$L2_DIR
trap 'l2_stop_all; rm -rf "$work"' EXIT
for t in mkfs.ext4 debugfs e2fsck; do
	command -v $t >/dev/null || { echo "no $t (apt-get install e2fsprogs)"; exit 77; }
done
l2_images || exit 1
fails=0
pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	l2_tail vm 25
	fails=$((fails + 1))
}

# A 16 MiB ext4 image with a file from the host on it.
mkdir -p "$work/seed"
echo "hello from the host $$" >"$work/seed/from-host.txt"
mkfs.ext4 -q -F -L loomtest -d "$work/seed" "$work/disk.img" 16M >/dev/null ||
	{ echo "FAIL: mkfs.ext4 of the test disk"; exit 1; }

cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check"
l2_start vm "$vmm" --kernel "$L2_KERNEL" --initrd "$L2_INITRD" \
	--append "$cmdline" --mem 256M --cpus 1 --disk "$work/disk.img" \
	--console stdio

if l2_expect vm 'LOOM-INIT ' 300 lines; then
	pass "vmm-linux-reaches-init ($(l2_elapsed vm) s wall, guest uptime ${L2_LINE##*LOOM-INIT })"
else
	fail "vmm-linux-reaches-init: no LOOM-INIT within 300 s"
	l2_wait vm 1
	echo "loom-vmm exit status: $L2_EXIT"
	exit 1
fi

if l2_shell vm 120 && l2_run vm 'uname -r' 60 && [ "$L2_RC" = 0 ] &&
	[ "${L2_OUT%$'\n'}" = "$(uname -r)" ]; then
	pass vmm-linux-shell-command
else
	fail "vmm-linux-shell-command: rc=${L2_RC:-none} out=${L2_OUT:-}"
fi

# 32768 sectors of 512 bytes = 16 MiB
if l2_run vm 'cat /sys/block/vda/size' 60 && [ "${L2_OUT%$'\n'}" = 32768 ]; then
	pass vmm-linux-virtio-blk-present
else
	fail "vmm-linux-virtio-blk-present: /sys/block/vda/size: ${L2_OUT:-none}"
fi

if l2_run vm 'mount -t ext4 /dev/vda /mnt && cat /mnt/from-host.txt' 120 &&
	[ "$L2_RC" = 0 ] && [ "${L2_OUT%$'\n'}" = "$(cat "$work/seed/from-host.txt")" ]; then
	pass vmm-linux-mount-read
else
	fail "vmm-linux-mount-read: rc=${L2_RC:-none} out=${L2_OUT:-}"
fi

msg="written by the guest $$"
if l2_run vm "seq 1 20000 >/mnt/numbers.txt && echo '$msg' >/mnt/from-guest.txt && sync && umount /mnt" 120 &&
	[ "$L2_RC" = 0 ]; then
	pass vmm-linux-write-umount
else
	fail "vmm-linux-write-umount: rc=${L2_RC:-none} out=${L2_OUT:-}"
fi

l2_send vm loom-poweroff
l2_wait vm 120
if [ "$L2_EXIT" = 0 ]; then
	pass "vmm-linux-poweroff ($(l2_elapsed vm) s total)"
else
	fail "vmm-linux-poweroff: loom-vmm exit $L2_EXIT (want 0)"
fi

got=$(debugfs -R 'cat /from-guest.txt' "$work/disk.img" 2>/dev/null)
sum=$(debugfs -R 'cat /numbers.txt' "$work/disk.img" 2>/dev/null | md5sum)
if [ "$got" = "$msg" ] && [ "$sum" = "$(seq 1 20000 | md5sum)" ]; then
	pass vmm-linux-disk-persisted
else
	fail "vmm-linux-disk-persisted: from-guest.txt='$got', numbers.txt $sum"
fi
if e2fsck -fn "$work/disk.img" >"$work/fsck.out" 2>&1; then
	pass vmm-linux-fs-clean
else
	sed 's/^/    | /' "$work/fsck.out" | tail -n 10
	fail vmm-linux-fs-clean
fi
# The same bzImage again, its decompressed kernel now in the cache: the
# guest's decompressor is skipped and the vmlinux is read into guest RAM.
if [ -n "${LOOM_TEST_KCACHE:-}" ]; then
	LOOM_CACHE_DIR=$LOOM_TEST_KCACHE l2_start cached "$vmm" -v \
		--kernel "$L2_KERNEL" --initrd "$L2_INITRD" --append "$cmdline" \
		--mem 256M --cpus 1 --console stdio
	if l2_expect cached 'LOOM-INIT ' 300 lines &&
		grep -q 'decompressed copy from the kernel cache' "$L2_DIR/cached.log"; then
		pass "vmm-linux-cached-kernel-reaches-init ($(l2_elapsed cached) s wall)"
	else
		fail "vmm-linux-cached-kernel-reaches-init: no LOOM-INIT from the cached kernel"
		l2_tail cached 25
	fi
	if l2_shell cached 60 && l2_run cached 'uname -r' 30 &&
		[ "${L2_OUT//[$'\r\n']/}" = "${L2_KERNEL##*/vmlinuz-}" ]; then
		pass vmm-linux-cached-kernel-shell
	else
		fail "vmm-linux-cached-kernel-shell: uname -r said '${L2_OUT:-}'"
	fi
	l2_send cached loom-poweroff
	l2_wait cached 60
	[ "$L2_EXIT" = 0 ] && pass vmm-linux-cached-kernel-poweroff ||
		fail "vmm-linux-cached-kernel-poweroff: loom-vmm exit $L2_EXIT"
else
	fail "vmm-linux-cached-kernel: loom-vmm --cache-kernel failed on the host"
fi
[ $fails -eq 0 ]
