#!/usr/bin/env bash
# l1-smoke.sh - tier 5 (nested): boot the L1 once (or use a hardware-speed
# /dev/kvm directly) and run the batch tests/nested/cases/*.sh in it: L1
# boots, /dev/kvm and kvm-amd are there, QEMU boots Debian's kernel as L2 to
# its init and shell. Add cases to tests/nested/cases/ to share this L1 boot.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/kvm.sh

kvm_probe
# Build the guest image here (the tree is read-only inside L1) and hand its
# path down, which also spares the cases the freshness check.
L2_INITRD=$(scripts/build-guest-initramfs.sh) ||
	{ echo "FAIL: guest-initramfs: scripts/build-guest-initramfs.sh failed"; exit 1; }
export L2_INITRD
if [ "$KVM_MODE" = nested ]; then
	scripts/nested/l1-run.sh --build-only >/dev/null ||
		{ echo "FAIL: l1-initramfs: scripts/nested/l1-run.sh --build-only failed"; exit 1; }
fi
t0=$(date +%s)
kvm_run_batch --timeout 900 tests/nested/cases/*.sh
rc=$?
echo "l1-smoke: batch took $(($(date +%s) - t0)) s"
exit $rc
