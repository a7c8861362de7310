#!/usr/bin/env bash
# demo.sh - `make demo`'s script runs to the end on this machine (so the README's first command does not rot).
cd "$(dirname "$0")/../.." || exit 1
# Bounded: a hung guest or VMM must fail the test, not stall the run.
out=$(timeout 1500 scripts/demo.sh 2>&1)
rc=$?
echo "$out" | tail -n 60
if [ $rc -eq 0 ] && echo "$out" | grep -q '^demo passed'; then
	echo "PASS: make demo (scripts/demo.sh) runs to the end"
else
	echo "FAIL: make demo (scripts/demo.sh) exited $rc"
fi
for step in "a lease from netd" "a live port forward" "kill -9 loom-netd"; do
	if echo "$out" | grep -q "== [0-9]*\. .*$step"; then
		echo "PASS: the demo showed: $step"
	else
		echo "FAIL: the demo did not get to: $step"
	fi
done
if pgrep -f 'build/loom-netd --run-dir /tmp/' >/dev/null; then
	echo "FAIL: the demo left a loom-netd running"
else
	echo "PASS: the demo stops its loom-netd"
fi
