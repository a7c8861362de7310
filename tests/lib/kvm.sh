# kvm.sh - sourced by tests that need a /dev/kvm able to boot Linux guests:
# probe direct vs nested, run a test (or a batch of tests) where KVM works.
#
#   . tests/lib/kvm.sh
#   kvm_probe            sets KVM_MODE (direct|nested|none) and KVM_WHY
#   kvm_enter "$0" "$@"  re-exec this script where KVM works: returns at once
#                        in direct mode (or inside L1), runs the script inside
#                        an L1 in nested mode (and exits with its status),
#                        exits 77 with the reason if neither works
#   kvm_run_batch [--modules "A B"] [--timeout S] [--mem MB] SCRIPT...
#                        run several test scripts where KVM works, booting L1
#                        at most once; relays their output; each script's
#                        outcome becomes PASS:/FAIL:/SKIP: lines (see below)
#
# direct: we are inside an L1 already (LOOM_IN_L1=1), or /dev/kvm runs a
#   tiny guest loop at hardware speed (build/tests/lib/kvm-probe; without it,
#   /dev/kvm plus vmx/svm in /proc/cpuinfo). An emulated /dev/kvm (hundreds
#   of ns per guest instruction) cannot boot Linux in useful time: not direct.
# nested: qemu-system-x86_64 and a /boot/vmlinuz with modules are present, so
#   scripts/nested/l1-run.sh can boot an L1 with kvm-amd.
# LOOM_KVM_MODE=direct|nested forces the choice (the probe is skipped).
#
# Scripts in a batch follow tests/run-tests.sh: they print "PASS: name",
# "FAIL: name", "SKIP: name: reason" lines, or just exit 0 / 77 (last line
# = reason) / other. The batch adds "PASS: <script>" for a silent exit 0,
# "SKIP: <script>: <last line>" for exit 77 and "FAIL: <script>: exit N" for
# a failure that printed no FAIL line. Inside a batch KVM_SCRATCH is a
# writable folder (host-visible) and LOOM_IN_L1=1 in nested mode. Each
# script is killed after KVM_CASE_TIMEOUT seconds (600).
# shellcheck shell=bash

KVM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KVM_REPO=$(cd "$KVM_LIB_DIR/../.." && pwd)
KVM_L1_RUN=$KVM_REPO/scripts/nested/l1-run.sh

kvm_probe() {
	KVM_MODE=none
	KVM_WHY=
	case ${LOOM_KVM_MODE:-} in
	direct | nested)
		KVM_MODE=$LOOM_KVM_MODE
		KVM_WHY="forced by LOOM_KVM_MODE"
		return 0
		;;
	esac
	if [ "${LOOM_IN_L1:-}" = 1 ]; then
		if [ -c /dev/kvm ]; then
			KVM_MODE=direct
			KVM_WHY="inside the nested L1"
		else
			KVM_WHY="inside L1 but no /dev/kvm (kvm-amd did not load)"
		fi
		return 0
	fi
	local probe=$KVM_REPO/build/tests/lib/kvm-probe why_direct
	if [ ! -c /dev/kvm ]; then
		why_direct="no /dev/kvm on this host"
	elif [ -x "$probe" ]; then
		if why_direct=$("$probe" 2>&1); then
			KVM_MODE=direct
			KVM_WHY="host /dev/kvm: $why_direct"
			return 0
		fi
	elif grep -qwE 'vmx|svm' /proc/cpuinfo; then
		KVM_MODE=direct
		KVM_WHY="host /dev/kvm with vmx/svm (kvm-probe not built)"
		return 0
	else
		why_direct="/dev/kvm without vmx/svm (emulated)"
	fi
	if ! command -v qemu-system-x86_64 >/dev/null; then
		KVM_WHY="$why_direct; no qemu-system-x86_64 for the nested harness (apt-get install qemu-system-x86)"
	elif ! ls /boot/vmlinuz-* >/dev/null 2>&1; then
		KVM_WHY="$why_direct; no /boot/vmlinuz-* for the nested L1 (apt-get install linux-image-amd64)"
	else
		KVM_MODE=nested
		KVM_WHY="$why_direct; using the nested L1 (QEMU-TCG, kvm-amd)"
	fi
}

# kvm_enter SCRIPT ARGS... - see the header. Options for l1-run.sh may be
# given in KVM_L1_OPTS (e.g. "--modules vhost_net --timeout 600").
kvm_enter() {
	kvm_probe
	case $KVM_MODE in
	direct) return 0 ;;
	nested)
		local rc
		# shellcheck disable=SC2086 # options split at spaces
		"$KVM_L1_RUN" ${KVM_L1_OPTS:-} -- "$@"
		rc=$?
		case $rc in
		124) echo "FAIL: $(basename "$1"): the nested L1 timed out" ;;
		125) echo "FAIL: $(basename "$1"): the nested L1 did not run the test" ;;
		esac
		exit $rc
		;;
	*)
		echo "no KVM able to boot Linux here: $KVM_WHY"
		exit 77
		;;
	esac
}

# kvm_batch_inner SCRIPT... - run each script, report its outcome (runs
# where KVM works: on the host in direct mode, inside L1 in nested mode).
kvm_batch_inner() {
	local s name out rc t0 fails=0
	out=$(mktemp "${TMPDIR:-/tmp}/kvm-batch.XXXXXX")
	for s in "$@"; do
		name=$(basename "$s" .sh)
		echo "=== $name ($s)"
		t0=$(date +%s)
		timeout -k 10 "${KVM_CASE_TIMEOUT:-600}" "$s" </dev/null 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
		echo "=== $name: exit $rc, $(($(date +%s) - t0)) s"
		[ "$rc" = 124 ] && echo "FAIL: $name: timed out after ${KVM_CASE_TIMEOUT:-600} s"
		if grep -qE '^(PASS|FAIL|SKIP): ' "$out"; then
			if [ "$rc" != 0 ] && [ "$rc" != 77 ] &&
				! grep -qE '^FAIL: ' "$out"; then
				echo "FAIL: $name: exit $rc after its last case"
			fi
		else
			case $rc in
			0) echo "PASS: $name" ;;
			77) echo "SKIP: $name: $(tail -n 1 "$out")" ;;
			*) echo "FAIL: $name: exit $rc" ;;
			esac
		fi
		[ "$rc" = 0 ] || [ "$rc" = 77 ] || fails=$((fails + 1))
	done
	rm -f "$out"
	[ $fails -eq 0 ]
}

kvm_run_batch() {
	local opts=() rc s scratch
	while [ $# -gt 0 ]; do
		case $1 in
		--modules | --timeout | --mem | --smp) opts+=("$1" "$2"); shift 2 ;;
		*) break ;;
		esac
	done
	[ $# -gt 0 ] || { echo "kvm_run_batch: no scripts" >&2; return 2; }
	for s in "$@"; do
		[ -x "$s" ] || { echo "FAIL: $(basename "$s" .sh): not executable: $s"; return 1; }
	done
	kvm_probe
	echo "kvm: mode $KVM_MODE ($KVM_WHY)"
	case $KVM_MODE in
	direct)
		scratch=$(mktemp -d "${TMPDIR:-/tmp}/kvm-scratch.XXXXXX")
		KVM_SCRATCH=$scratch kvm_batch_inner "$@"
		rc=$?
		rm -rf "$scratch"
		return $rc
		;;
	nested)
		mkdir -p "$KVM_REPO/build/nested"
		scratch=$(mktemp -d "$KVM_REPO/build/nested/scratch.XXXXXX")
		KVM_SCRATCH=$scratch "$KVM_L1_RUN" --scratch "$scratch" "${opts[@]}" \
			-- bash -c '. "$1"; shift; kvm_batch_inner "$@"' kvm-batch \
			"$KVM_LIB_DIR/kvm.sh" "$@" | tee "$scratch.log"
		rc=${PIPESTATUS[0]}
		case $rc in
		124 | 125)
			# Scripts the L1 did not finish fail; finished ones stand.
			for s in "$@"; do
				grep -qF "=== $(basename "$s" .sh): exit " "$scratch.log" ||
					echo "FAIL: $(basename "$s" .sh): nested L1 failed (l1-run.sh exit $rc)"
			done
			;;
		esac
		rm -rf "$scratch" "$scratch.log"
		return $rc
		;;
	*)
		for s in "$@"; do
			echo "SKIP: $(basename "$s" .sh): $KVM_WHY"
		done
		echo "no KVM able to boot Linux here: $KVM_WHY"
		return 77
		;;
	esac
}
