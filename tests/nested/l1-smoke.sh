#!/usr/bin/env bash
# l1-smoke.sh - tier 5 (nested): boot the L1 once (or use a hardware-speed
# /dev/kvm directly) and run the batch tests/nested/cases/*.sh in it: L1
# boots, /dev/kvm and kvm-amd are there, QEMU boots Debian's kernel as L2 to
# its init and shell; then l1-run.sh's own contract (exit status, streams,
# scratch, modules, a current directory under /tmp, timeout). Add cases to tests/nested/cases/ to share the
# batch's L1 boot.
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

# The harness itself: exit status, stdout and stderr apart, a scratch file
# back on the host, a module asked for, a current directory under /tmp
# (which L1 covers with a tmpfs: l1-run.sh mounts it back on top, read-only,
# and /tmp stays writable around it), the timeout.
if [ "$KVM_MODE" = nested ]; then
	repo=$PWD
	d=$(mktemp -d build/nested/smoke.XXXXXX)
	d=$repo/$d
	cwd=$(cd "$(mktemp -d /tmp/l1-smoke-cwd.XXXXXX)" && pwd -P)
	echo "visible $$" >"$cwd/here"
	want="1 visible $$ $cwd ro-cwd tmp-rw"
	(cd "$cwd" && "$repo/scripts/nested/l1-run.sh" --scratch "$d" --modules veth \
		--timeout 300 -- sh -c 'echo to-stdout; echo to-stderr >&2
			grep -q "^veth " /proc/modules || exit 3
			touch new 2>/dev/null && ro=rw-cwd || ro=ro-cwd
			: >/tmp/l1-smoke.$$ && tmp=tmp-rw
			echo "$LOOM_IN_L1 $(cat here) $(pwd) $ro $tmp" >"$L1_SCRATCH/back"
			exit 42') >"$d.out" 2>"$d.err"
	got=$?
	if [ $got = 42 ] && [ "$(cat "$d.out")" = to-stdout ] &&
		grep -qx to-stderr "$d.err" && [ "$(cat "$d/back" 2>/dev/null)" = "$want" ]; then
		echo "PASS: l1-run-status-streams-scratch-tmp-cwd"
	else
		echo "FAIL: l1-run-status-streams-scratch-tmp-cwd: exit $got (want 42)," \
			"stdout '$(cat "$d.out")', stderr '$(tail -n 3 "$d.err")'," \
			"scratch '$(cat "$d/back" 2>/dev/null)' (want '$want')"
		rc=1
	fi
	rm -rf "$cwd"
	t1=$(date +%s)
	scripts/nested/l1-run.sh --timeout 2 -- sleep 600 >/dev/null 2>"$d.err"
	got=$?
	if [ $got = 124 ] && [ $(($(date +%s) - t1)) -lt 60 ]; then
		echo "PASS: l1-run-timeout"
	else
		echo "FAIL: l1-run-timeout: exit $got (want 124) after $(($(date +%s) - t1)) s"
		rc=1
	fi
	rm -rf "$d" "$d.out" "$d.err"
fi
echo "l1-smoke: took $(($(date +%s) - t0)) s"
exit $rc
