#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmm-boot-qemu.sh - time to the guest's init and VMM memory, QEMU (the
# baseline) and loom-vmm side by side: same kernel, initramfs and command
# line, in one run on the same KVM (one L1 boot in the nested harness).
#
# Each run boots Debian's kernel with the guest initramfs
# (scripts/build-guest-initramfs.sh), 256 MiB, one vCPU; runs alternate
# between the VMMs. Measured per run:
#   init   wall seconds from starting the VMM to the guest's first line from
#          /init ("LOOM-INIT", printed by init as its first act)
#   rss    VMM memory once the guest is up: RSS minus the guest-RAM mapping
# VMMs: qemu (-M pc, the bzImage: what users run), qemu-pvh (the same kernel
# decompressed by the host and entered through PVH: QEMU's fastest path,
# skipping the guest's own decompression), loom (build/loom-vmm, once built),
# loom-vmlinux (loom-vmm given that vmlinux, once its --help mentions ELF).
# Prints "BENCH vmm.boot.<vmm> <median> s", "BENCH vmm.overhead.<vmm>
# <median> MiB" and "BENCH vmm.boot.speedup <qemu/loom> x" (and
# speedup_pvh <qemu-pvh/loom>, speedup_vmlinux <qemu-pvh/loom-vmlinux>).
# Environment: RUNS (5), VMMS (default: every one available). On a
# host without a hardware-speed /dev/kvm it runs in the nested L1
# (tests/lib/kvm.sh), where all share the same nested KVM.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/kvm.sh
RUNS=${RUNS:-5}
vmm=$PWD/build/loom-vmm
if [ "${LOOM_IN_L1:-}" != 1 ]; then
	L2_INITRD=$(scripts/build-guest-initramfs.sh) || exit 1
	export L2_INITRD
	# QEMU's fastest path for the same kernel: the vmlinux inside the
	# bzImage (decompressed by the host, as l1-run.sh does), booted via PVH.
	. scripts/nested/lib.sh
	kv=$(nested_kernel_version) &&
		L2_VMLINUX=$(scripts/nested/l1-run.sh --build-only >/dev/null &&
			ls "build/nested/vmlinux-$kv" 2>/dev/null) && export L2_VMLINUX
	if [ -z "${VMMS:-}" ]; then
		VMMS=qemu
		[ -n "${L2_VMLINUX:-}" ] && VMMS="$VMMS qemu-pvh"
		[ -x "$vmm" ] && VMMS="$VMMS loom"
		# Once loom-vmm takes an ELF vmlinux, also the pre-decompressed
		# kernel, against qemu-pvh.
		[ -x "$vmm" ] && [ -n "${L2_VMLINUX:-}" ] &&
			"$vmm" --help 2>&1 | grep -qiE 'vmlinux|ELF' &&
			VMMS="$VMMS loom-vmlinux"
	fi
	export RUNS VMMS
	KVM_L1_OPTS="--timeout $((300 + RUNS * 240))"
fi
kvm_enter "$0" "$@"

. tests/lib/l2.sh
trap 'l2_stop_all; rm -rf "$L2_DIR"' EXIT
l2_images || exit 1
mem=256
cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check"

# boot_once VMM - one boot; appends to $L2_DIR/VMM.init and VMM.rss.
boot_once() {
	local v=$1 name=$1-$2 t_init up rss
	case $v in
	qemu)
		l2_start "$name" qemu-system-x86_64 -enable-kvm -M pc -nodefaults \
			-no-user-config -cpu host -m $mem -nographic -no-reboot \
			-monitor none -serial stdio -kernel "$L2_KERNEL" \
			-initrd "$L2_INITRD" -append "$cmdline"
		;;
	qemu-pvh)
		l2_start "$name" qemu-system-x86_64 -enable-kvm -M pc -nodefaults \
			-no-user-config -cpu host -m $mem -nographic -no-reboot \
			-monitor none -serial stdio -kernel "$L2_VMLINUX" \
			-initrd "$L2_INITRD" -append "$cmdline"
		;;
	loom-vmlinux)
		l2_start "$name" "$vmm" --kernel "$L2_VMLINUX" \
			--initrd "$L2_INITRD" --append "$cmdline" --mem ${mem}M \
			--cpus 1 --console stdio
		;;
	loom)
		l2_start "$name" "$vmm" --kernel "$L2_KERNEL" \
			--initrd "$L2_INITRD" --append "$cmdline" --mem ${mem}M \
			--cpus 1 --console stdio
		;;
	esac
	if ! l2_expect "$name" 'LOOM-INIT ' 300; then
		echo "vmm-boot: $v run $2: no LOOM-INIT within 300 s" >&2
		l2_tail "$name" >&2
		l2_stop_all
		return 1
	fi
	t_init=$(l2_elapsed "$name")
	up=${L2_LINE##*LOOM-INIT }
	if ! l2_expect "$name" '^LOOM-READY' 120; then
		echo "vmm-boot: $v run $2: no LOOM-READY" >&2
		l2_tail "$name" >&2
		return 1
	fi
	rss=$(l2_overhead_kib "${L2_PID[$name]}" $mem)
	if ! l2_shell "$name" 60; then
		echo "vmm-boot: $v run $2: no shell" >&2
		l2_tail "$name" >&2
		return 1
	fi
	l2_send "$name" loom-poweroff
	l2_wait "$name" 60
	echo "$t_init" >>"$L2_DIR/$v.init"
	echo "$rss" >>"$L2_DIR/$v.rss"
	printf 'vmm-boot: %-4s run %d: init after %s s (guest uptime %s s), overhead %d KiB, exit %s\n' \
		"$v" "$2" "$t_init" "$up" "$rss" "$L2_EXIT"
}

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for i in $(seq 1 "$RUNS"); do
	for v in $VMMS; do
		boot_once "$v" "$i" || { echo "vmm-boot: $v failed"; exit 1; }
	done
done
for v in $VMMS; do
	echo "BENCH vmm.boot.$v $(median "$L2_DIR/$v.init") s"
	echo "BENCH vmm.overhead.$v $(median "$L2_DIR/$v.rss" | awk '{ printf "%.1f", $1 / 1024 }') MiB"
done
if [[ " $VMMS " == *" loom "* && " $VMMS " == *" qemu "* ]]; then
	awk -v q="$(median "$L2_DIR/qemu.init")" -v l="$(median "$L2_DIR/loom.init")" \
		'BEGIN { printf "BENCH vmm.boot.speedup %.2f x\n", q / l }'
fi
if [[ " $VMMS " == *" loom "* && " $VMMS " == *" qemu-pvh "* ]]; then
	awk -v q="$(median "$L2_DIR/qemu-pvh.init")" -v l="$(median "$L2_DIR/loom.init")" \
		'BEGIN { printf "BENCH vmm.boot.speedup_pvh %.2f x\n", q / l }'
fi
if [[ " $VMMS " == *" loom-vmlinux "* && " $VMMS " == *" qemu-pvh "* ]]; then
	awk -v q="$(median "$L2_DIR/qemu-pvh.init")" -v l="$(median "$L2_DIR/loom-vmlinux.init")" \
		'BEGIN { printf "BENCH vmm.boot.speedup_vmlinux %.2f x\n", q / l }'
fi
