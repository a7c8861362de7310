#!/usr/bin/env bash
# demo.sh - `make demo`'s script runs to the end on this machine (so the README's first command does not rot).
cd "$(dirname "$0")/../.." || exit 1
if [ "$(id -u)" -ne 0 ]; then
	echo "needs root: the demo creates TAP devices and network namespaces"
	exit 77
fi
out=$(scripts/demo.sh 2>&1)
rc=$?
echo "$out" | tail -n 40
if [ $rc -eq 0 ] && echo "$out" | grep -q '^demo passed'; then
	echo "PASS: make demo (scripts/demo.sh) runs to the end"
else
	echo "FAIL: make demo (scripts/demo.sh) exited $rc"
fi
if ip netns list | grep -q '^loomdemo-'; then
	echo "FAIL: the demo left a namespace behind"
else
	echo "PASS: the demo cleans up its namespaces"
fi
