#!/usr/bin/env bash
# l1-kvm.sh - batch case: the KVM we run on works (in the nested L1: it
# booted, /dev/kvm is there, kvm-amd is loaded, a tiny guest runs).
set -u
cd "$(dirname "$0")/../../.." || exit 1
probe=build/tests/lib/kvm-probe

if [ "${LOOM_IN_L1:-}" = 1 ]; then
	echo "PASS: l1-boots (L1 up for $(cut -d' ' -f1 /proc/uptime) s, kernel $(uname -r))"
	if [ -c /dev/kvm ]; then
		echo "PASS: l1-dev-kvm"
	else
		echo "FAIL: l1-dev-kvm: no /dev/kvm in L1"
	fi
	if grep -q '^kvm_amd ' /proc/modules; then
		echo "PASS: l1-kvm-amd-loaded"
	else
		echo "FAIL: l1-kvm-amd-loaded: kvm_amd not in /proc/modules"
	fi
else
	[ -c /dev/kvm ] && echo "PASS: direct-dev-kvm" ||
		echo "FAIL: direct-dev-kvm: no /dev/kvm"
fi
# A guest loop runs (its speed is reported, not judged here).
if [ -x "$probe" ]; then
	out=$("$probe" 2>&1)
	rc=$?
	echo "$out"
	if [ $rc -le 1 ]; then
		echo "PASS: kvm-runs-guest-code"
	else
		echo "FAIL: kvm-runs-guest-code: $out"
	fi
else
	echo "SKIP: kvm-runs-guest-code: $probe not built (run make)"
fi
