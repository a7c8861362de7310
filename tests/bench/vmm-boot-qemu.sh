#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmm-boot-qemu.sh - time to the guest's init and VMM memory, QEMU (the
# baseline) and loom-vmm side by side: same kernel, initramfs and command
# line, on the same KVM.
#
# Each run boots Debian's kernel with the guest initramfs
# (scripts/build-guest-initramfs.sh), 256 MiB, one vCPU, the same command
# line for every VMM; runs alternate between the VMMs. Measured per run:
#   init   wall seconds from starting the VMM to the guest's first line from
#          /init ("LOOM-INIT", printed by init as its first act)
#   rss    VMM memory once the guest is up: RSS minus the guest-RAM mapping
# VMMs: qemu (-M pc -nodefaults -cpu host, ACPI on, SeaBIOS, the bzImage:
# what users run), qemu-pvh (the same kernel decompressed by the host and
# entered through PVH: QEMU's fastest path here, skipping firmware set-up
# and the guest's own decompression; -M microvm was slower), loom
# (build/loom-vmm, the bzImage, its kernel cache warm: the bzImage's kernel
# was decompressed once beforehand by `loom-vmm --cache-kernel`, as every
# boot after a user's first finds it), loom-nocache (the bzImage with
# --no-kernel-cache: the guest decompresses, as on a first boot),
# loom-vmlinux (loom-vmm given that vmlinux).
# Guest RAM is anonymous memory for all (QEMU's default, loom-vmm's too).
# Like with like: qemu vs loom and loom-nocache (the same bzImage),
# qemu-pvh vs loom-vmlinux (the same vmlinux); best vs best: the faster of
# qemu and qemu-pvh vs loom.
# The order of the VMMs rotates from round to round.
# Prints "BENCH vmm.boot.<vmm> <median> s", "BENCH vmm.overhead.<vmm>
# <median> MiB", "BENCH vmm.boot.runs N runs" and "BENCH vmm.boot.speedup
# <qemu/loom> x" (and speedup_nocache <qemu/loom-nocache>, speedup_pvh
# <qemu-pvh/loom>, speedup_vmlinux <qemu-pvh/loom-vmlinux>, speedup_best
# <min(qemu, qemu-pvh)/loom>).
#
# Without a hardware-speed /dev/kvm it runs in the nested harness
# (tests/lib/kvm.sh): a fresh L1 (one vCPU, see l1-run.sh --smp) for every
# boot, its page cache warmed with the VMM binaries and boot files first.
# An L1 that hangs costs that boot one retry in a fresh L1. About 45 s
# per boot: 12 minutes with RUNS=3 and five VMMs.
# Environment: RUNS (3), VMMS (default: every one available).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/kvm.sh
RUNS=${RUNS:-3}
vmm=$PWD/build/loom-vmm
mem=256

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# report DIR - BENCH lines from DIR/VMM.init and DIR/VMM.rss.
report() {
	local d=$1 v
	echo "BENCH vmm.boot.runs $RUNS runs"
	for v in $VMMS; do
		[ -s "$d/$v.init" ] || continue
		echo "BENCH vmm.boot.$v $(median "$d/$v.init") s"
		echo "BENCH vmm.overhead.$v $(median "$d/$v.rss" | awk '{ printf "%.1f", $1 / 1024 }') MiB"
	done
	ratio() {
		[ -s "$d/$1.init" ] && [ -s "$d/$2.init" ] &&
			awk -v q="$(median "$d/$1.init")" -v l="$(median "$d/$2.init")" \
				-v n="$3" 'BEGIN { printf "BENCH vmm.boot.%s %.2f x\n", n, q / l }'
	}
	ratio qemu loom speedup
	ratio qemu loom-nocache speedup_nocache
	ratio qemu-pvh loom speedup_pvh
	ratio qemu-pvh loom-vmlinux speedup_vmlinux
	if [ -s "$d/qemu.init" ] && [ -s "$d/qemu-pvh.init" ] && [ -s "$d/loom.init" ]; then
		awk -v a="$(median "$d/qemu.init")" -v b="$(median "$d/qemu-pvh.init")" \
			-v l="$(median "$d/loom.init")" \
			'BEGIN { printf "BENCH vmm.boot.speedup_best %.2f x\n", (a < b ? a : b) / l }'
	fi
}

# rotated N - $VMMS starting at its Nth (round N starts with another VMM).
rotated() {
	local -a all=($VMMS)
	local i n=${#all[@]}
	for ((i = 0; i < n; i++)); do
		echo "${all[(i + $1) % n]}"
	done
}

# warm_kernel_cache DIR - loom-vmm's kernel cache (LOOM_CACHE_DIR) in DIR,
# holding the bzImage's decompressed kernel (no KVM needed for that); L1
# reads it from the host tree (a read-only cache serves hits).
warm_kernel_cache() {
	mkdir -p "$1" && chmod 700 "$1" || return 1
	export LOOM_CACHE_DIR=$1
	[ -x "$vmm" ] || return 0
	"$vmm" --cache-kernel --kernel "${L2_KERNEL:-$(ls /boot/vmlinuz-* | sort -V | tail -n 1)}" >/dev/null ||
		{ echo "vmm-boot: could not warm the kernel cache" >&2; return 1; }
}

if [ "${LOOM_IN_L1:-}" != 1 ] && [ -z "${VMM_BOOT_ROUND:-}" ]; then
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
		[ -x "$vmm" ] && VMMS="$VMMS loom loom-nocache"
		[ -x "$vmm" ] && [ -n "${L2_VMLINUX:-}" ] &&
			"$vmm" --help 2>&1 | grep -qiE 'vmlinux|ELF' &&
			VMMS="$VMMS loom-vmlinux"
	fi
	export RUNS VMMS
	kvm_probe
	case $KVM_MODE in
	nested)
		out=$(mktemp -d "$PWD/build/nested/bench-vmm.XXXXXX") || exit 1
		# Not in the scratch export: L1 mounts that without a page cache,
		# and the kernel files every VMM reads come from its page cache.
		kcache=$(mktemp -d "$PWD/build/nested/bench-kcache.XXXXXX") || exit 1
		trap 'rm -rf "$out" "$kcache"' EXIT
		warm_kernel_cache "$kcache" || exit 1
		# A current CPU family, not TCG's default K8 (family 15), whose
		# guests spend 1.8 s of each boot probing for an AGP bridge (see
		# scripts/nested/l1-run.sh).
		export L1_CPU=${L1_CPU:-max,family=26,model=2,stepping=0}
		# One boot per L1: in one L1, each VM boots slower than the one
		# before it (7.3, 9.3, 12.7 s for three loom-vmm boots in a row),
		# whatever the VMM, so a shared L1 would rank VMMs by position.
		for i in $(seq 1 "$RUNS"); do
			for v in $(rotated "$i"); do
				for try in 1 2; do
					rm -f "$out"/round.*
					VMMS=$v VMM_BOOT_ROUND=$i VMM_BOOT_OUT=$out \
						scripts/nested/l1-run.sh --smp 1 \
						--timeout 300 --scratch "$out" \
						-- tests/bench/vmm-boot-qemu.sh
					rc=$?
					[ $rc = 0 ] && break
					echo "vmm-boot: $v run $i: nested L1 failed (exit $rc)$([ $try = 1 ] && echo ', once more in a fresh L1')" >&2
				done
				[ $rc = 0 ] || { echo "vmm-boot: $v run $i failed twice"; exit 1; }
				cat "$out/round.$v" >>"$out/$v.all"
			done
		done
		for v in $VMMS; do
			[ -f "$out/$v.all" ] || continue
			awk '{ print $1 }' "$out/$v.all" >"$out/$v.init"
			awk '{ print $2 }' "$out/$v.all" >"$out/$v.rss"
		done
		report "$out"
		exit 0
		;;
	direct)
		direct_cache=$(mktemp -d) || exit 1
		trap 'rm -rf "$direct_cache"' EXIT
		warm_kernel_cache "$direct_cache" || exit 1
		;;
	*)
		echo "no KVM able to boot Linux here: $KVM_WHY"
		exit 77
		;;
	esac
fi

. tests/lib/l2.sh
trap 'l2_stop_all; rm -rf "$L2_DIR" ${direct_cache:+"$direct_cache"}' EXIT
l2_images || exit 1
cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check"

# boot_once VMM RUN - one boot; appends "init rss" to $L2_DIR/round.VMM.
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
	loom-nocache)
		l2_start "$name" "$vmm" --kernel "$L2_KERNEL" \
			--initrd "$L2_INITRD" --append "$cmdline" --mem ${mem}M \
			--cpus 1 --console stdio --no-kernel-cache
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
	echo "$t_init $rss" >>"$L2_DIR/round.$v"
	printf 'vmm-boot: %-12s run %d: init after %s s (guest uptime %s s), overhead %d KiB, exit %s, load %s\n' \
		"$v" "$2" "$t_init" "$up" "$rss" "$L2_EXIT" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# Every binary and boot file read once, so that no VMM pays for a cold
# cache (in L1 the host tree comes over 9p) in the runs that count.
for f in "$L2_KERNEL" "$L2_INITRD" "${L2_VMLINUX:-}" "${LOOM_CACHE_DIR:-/nonexistent}"/kernels/*; do
	[ -f "$f" ] && cat "$f" >/dev/null
done
qemu-system-x86_64 -version >/dev/null 2>&1
[ -x "$vmm" ] && "$vmm" --help >/dev/null 2>&1

if [ -n "${VMM_BOOT_ROUND:-}" ]; then
	# One boot (VMMS names one VMM) in this L1; the host side collects.
	for v in $VMMS; do
		boot_once "$v" "$VMM_BOOT_ROUND" || { echo "vmm-boot: $v failed"; exit 1; }
	done
	for v in $VMMS; do
		cp "$L2_DIR/round.$v" "$VMM_BOOT_OUT/round.$v" || exit 1
	done
	exit 0
fi

for i in $(seq 1 "$RUNS"); do
	for v in $(rotated "$i"); do
		boot_once "$v" "$i" || { echo "vmm-boot: $v failed"; exit 1; }
	done
done
for v in $VMMS; do
	awk '{ print $1 }' "$L2_DIR/round.$v" >"$L2_DIR/$v.init"
	awk '{ print $2 }' "$L2_DIR/round.$v" >"$L2_DIR/$v.rss"
done
report "$L2_DIR"
