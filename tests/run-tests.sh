#!/usr/bin/env bash
# run-tests.sh - run test programs and tier scripts, print "N passed, N failed[, N skipped]".
#
# Arguments: TIER:COMMAND (a program or a script). A program exits 0 (pass),
# 77 (skip; its last output line says why) or anything else (fail). A program
# may instead report several cases itself: cmocka summaries are read, and
# lines "PASS: name", "FAIL: name", "SKIP: name: reason" are counted.
# With CI=true a skip is a failure: no tier is skipped silently in CI.
set -u
passed=0 failed=0 skipped=0
failures=()
logdir=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$logdir"

for arg in "$@"; do
	tier=${arg%%:*}
	cmd=${arg#*:}
	name=$(basename "$cmd")
	log="$logdir/$tier-$name.log"
	start=$(date +%s)
	if [ -x "$cmd" ]; then
		"$cmd" >"$log" 2>&1 </dev/null
		rc=$?
	else
		echo "not found or not executable: $cmd" >"$log"
		rc=127
	fi
	secs=$(( $(date +%s) - start ))

	p=$(grep -cE '^PASS: ' "$log")
	f=$(grep -cE '^FAIL: ' "$log")
	s=$(grep -cE '^SKIP: ' "$log")
	cp=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	cf=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	p=$((p + cp)); f=$((f + cf))
	if [ $((p + f + s)) -eq 0 ]; then
		case $rc in
		0) p=1 ;;
		77) s=1 ;;
		*) f=1 ;;
		esac
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ "$f" -eq 0 ]; then
		f=1 # crashed or failed after its last reported case
	fi
	if [ "${CI:-}" = "true" ] && [ "$s" -gt 0 ]; then
		grep -E '^SKIP: ' "$log" | sed 's/^/  CI forbids skipping: /'
		[ "$rc" -eq 77 ] && tail -n 1 "$log" | sed 's/^/  CI forbids skipping: /'
		f=$((f + s)); s=0
	fi
	status=ok
	[ "$f" -gt 0 ] && status=FAIL
	[ "$f" -eq 0 ] && [ "$s" -gt 0 ] && status=skip
	printf '%-5s %-10s %-32s %3d passed %3d failed %3d skipped  (%ss)\n' \
		"$status" "$tier" "$name" "$p" "$f" "$s" "$secs"
	if [ "$status" = FAIL ]; then
		failures+=("$log")
		grep -E '^(FAIL: |\[  FAILED  \]|\[  ERROR   \])' "$log" | head -20 | sed 's/^/      /'
	fi
	[ "$status" = skip ] && { grep -E '^SKIP: ' "$log"; [ "$rc" -eq 77 ] && tail -n 1 "$log"; } | head -5 | sed 's/^/      /'
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done

for log in "${failures[@]}"; do
	echo "---- last lines of $log"
	tail -n 30 "$log"
done
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
