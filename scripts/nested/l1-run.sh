#!/usr/bin/env bash
# l1-run.sh - run a command inside an "L1" Linux (QEMU-TCG, -cpu max) that has
# a working /dev/kvm, with the host's root tree mounted read-only.
#
#   scripts/nested/l1-run.sh [options] -- CMD [ARGS...]
#
# Options:
#   --mem MB          L1 memory (default 2048)
#   --smp N           L1 vCPUs (default 1: with 2, now and then an L1 hangs
#                     for good, both vCPUs looping in the kernel's int3
#                     handler as it patches its own code, which KVM has it do
#                     when VMs come and go; one vCPU is faster here too)
#   --timeout SECS    kill QEMU after SECS (default 900); exit status 124
#   --modules "A B"   more kernel modules to load in L1 (names; dependencies
#                     are resolved from modules.dep); kvm and kvm-amd always
#   --scratch DIR     export host DIR writable; it appears in L1 at the same
#                     path (under /tmp too) and as $L1_SCRATCH
#   -v, --verbose     stream the L1 kernel console to stderr
#   -i, --interactive connect our terminal (stdin too) to the command as its
#                     controlling tty in L1, e.g. `l1-run.sh -i -- bash`;
#                     stdout and stderr then share it
#   --build-only      only build (or refresh) the cached L1 initramfs
#
# Inside L1 the command runs as root, chrooted into the host tree, in the
# caller's current directory, with the caller's exported environment (plus
# L1_SCRATCH, LOOM_IN_L1=1), stdin from /dev/null, /tmp, /run and /dev/shm
# as fresh tmpfs; a repository or current directory under those is mounted
# on top at the same path (read-only like the rest). Its stdout and stderr
# stream to ours; its exit code is our exit code.
# Harness failures: 124 timeout, 125 L1 did not run the command (the reason
# and the end of the L1 console go to stderr), 2 usage/missing tools.
#
# Environment: NESTED_KVER (kernel version), NESTED_CACHE (default
# <repo>/build/nested), L1_QEMU (QEMU binary), L1_CPU (QEMU -cpu, default
# max), L1_APPEND (extra kernel args),
# L1_QEMU_ARGS (extra QEMU options, split at spaces), L1_MACHINE (default pc;
# pc,acpi=off boots a second faster but then KVM_RUN in L1 hangs), L1_NO_PVH=1
# (boot the bzImage instead of the extracted vmlinux).
set -euo pipefail

NESTED_PROG=l1-run
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0" >&2
	exit 2
}

mem=2048 smp=1 timeout=900 modules="" scratch="" verbose="" build_only=""
interactive=""
while [ $# -gt 0 ]; do
	case $1 in
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--modules) modules="$modules ${2:?}"; shift 2 ;;
	--scratch) scratch=${2:?}; shift 2 ;;
	-v | --verbose) verbose=1; shift ;;
	-i | --interactive) interactive=1; shift ;;
	--build-only) build_only=1; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	*) echo "l1-run: unknown option: $1" >&2; usage ;;
	esac
done
[ $# -gt 0 ] || [ -n "$build_only" ] || usage
case $mem$smp$timeout in *[!0-9]*) nested_die "--mem, --smp, --timeout take numbers" ;; esac

qemu=${L1_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null ||
	nested_die "no $qemu: apt-get install qemu-system-x86"
nested_require_kernel
nested_require_busybox
command -v cpio >/dev/null || nested_die "no cpio: apt-get install cpio"

cache=${NESTED_CACHE:-$(nested_repo_root)/build/nested}
mkdir -p "$cache"

# The L1 initramfs: busybox, /init, and just what mounting the 9p exports
# needs; everything else loads from the host tree once it is mounted.
# Uncompressed: under TCG, gunzip of a few MB costs more than copying them.
L1_BASE_MODULES="virtio_pci 9pnet_virtio 9p virtio_console"
build_initramfs() {
	local files key out=$cache/l1-$KVER.cpio tmp m
	files=$(nested_resolve_modules "$KMODDIR" $L1_BASE_MODULES) ||
		nested_die "cannot resolve L1 modules"
	key=$( (echo "$L1_BASE_MODULES"; cat "$here/l1-init.sh" "$here/lib.sh";
		nested_inputs_key "$BUSYBOX" $(sed "s|^|$KMODDIR/|" <<<"$files")) |
		sha256sum | cut -c1-16)
	L1_INITRD=$out
	[ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ] && return 0
	exec 9>"$cache/.l1-build.lock"
	flock 9
	if [ -f "$out" ] && [ "$(cat "$out.key" 2>/dev/null)" = "$key" ]; then
		exec 9>&-
		return 0
	fi
	echo "l1-run: building $out" >&2
	tmp=$(mktemp -d "$cache/l1-root.XXXXXX")
	nested_busybox_tree "$BUSYBOX" "$tmp"
	mkdir -p "$tmp/lib/modules"
	: >"$tmp/modules.order"
	for m in $files; do
		cp "$KMODDIR/$m" "$tmp/lib/modules/"
		echo "${m##*/}" >>"$tmp/modules.order"
	done
	install -m 755 "$here/l1-init.sh" "$tmp/init"
	nested_cpio "$tmp" "$out" || { rm -rf "$tmp"; nested_die "cpio failed"; }
	rm -rf "$tmp"
	echo "$key" >"$out.key"
	exec 9>&-
}
build_initramfs

# The kernel to boot: the vmlinux inside the bzImage, decompressed once here,
# entered through PVH (the in-kernel xz decompression takes seconds under
# TCG); the bzImage itself if that does not work out.
pick_kernel() {
	local out=$cache/vmlinux-$KVER key
	L1_KERNEL=$KERNEL
	[ -n "${L1_NO_PVH:-}" ] && return 0
	key=$(nested_inputs_key "$KERNEL")
	if [ "$(cat "$out.key" 2>/dev/null)" != "$key" ]; then
		exec 9>"$cache/.l1-build.lock"
		flock 9
		if [ "$(cat "$out.key" 2>/dev/null)" != "$key" ]; then
			rm -f "$out"
			nested_extract_vmlinux "$KERNEL" "$out" ||
				echo "l1-run: note: cannot extract a PVH vmlinux from $KERNEL; booting the bzImage" >&2
			echo "$key" >"$out.key"
		fi
		exec 9>&-
	fi
	[ -f "$out" ] && L1_KERNEL=$out
	return 0
}
pick_kernel
if [ -n "$build_only" ]; then
	echo "$L1_INITRD"
	exit 0
fi

# Modules to load in L1, resolved here where modules.dep is at hand.
module_files=$(nested_resolve_modules "$KMODDIR" kvm kvm_amd $modules) ||
	nested_die "bad --modules list:$modules"

if [ -n "$scratch" ]; then
	[ -d "$scratch" ] || nested_die "--scratch $scratch: not a directory"
	scratch=$(cd "$scratch" && pwd -P)
fi

# L1 mounts fresh tmpfs on /tmp, /run and /dev/shm, which hide the host's
# files there. A checkout there (CI clones into /tmp) and the caller's
# directory are exported once more and mounted at the same path on top of
# the tmpfs, read-only like the rest of the host tree; the scratch folder,
# writable, wherever it is.
under_tmpfs() {
	case $1/ in /tmp/?* | /run/?* | /dev/shm/?*) return 0 ;; esac
	return 1
}
cwd=$(pwd -P)
case $cwd in /tmp | /run | /dev/shm)
	nested_die "the current directory $cwd is replaced by an empty tmpfs in L1: cd elsewhere" ;;
esac
exports=()
for d in "$(cd "$(nested_repo_root)" && pwd -P)" "$cwd"; do
	under_tmpfs "$d" || continue
	case $d/ in "${scratch:-/nonexistent}"/*) continue ;; esac # writable there
	for e in "${exports[@]}"; do
		case $d/ in "$e"/*) continue 2 ;; esac # inside one already
	done
	kept=()
	for e in "${exports[@]}"; do
		case $e/ in "$d"/*) ;; *) kept+=("$e") ;; esac
	done
	exports=("${kept[@]}" "$d")
done
for d in "${exports[@]}" "$scratch"; do
	case $d in *$'\n'*) nested_die "a path with a newline cannot be exported to L1: $d" ;; esac
done

ctl=$(mktemp -d "${TMPDIR:-/tmp}/l1-run.XXXXXX")
qpid="" cpids=()
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	local p
	for p in "${cpids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$ctl"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The job: environment, directory, command, all quoted for bash.
{
	echo "# generated by l1-run.sh"
	export -p | grep -vE '^declare -[a-zA-Z-]* (PWD|OLDPWD|SHLVL|_|TMPDIR)(=|$)'
	printf 'export L1_SCRATCH=%q LOOM_IN_L1=1\n' "$scratch"
	printf 'cd -- %q || exit 125\n' "$cwd"
	printf '%q ' "$@"
	echo
} >"$ctl/job.sh"
{
	printf 'L1_KVER=%q\n' "$KVER"
	printf 'L1_SCRATCH=%q\n' "$scratch"
	printf 'L1_VERBOSE=%q\n' "$verbose"
	printf 'L1_MODULE_FILES=%q\n' "$(echo $module_files)"
	printf 'L1_INTERACTIVE=%q\n' "$interactive"
	printf 'L1_TTY_SIZE=%q\n' "$( [ -n "$interactive" ] && stty size 2>/dev/null)"
} >"$ctl/env"
# The extra exports: QEMU options, and "TAG ro|rw PATH" a line for L1 init,
# parents before what they hold (shorter paths first).
extra_virtfs=() mounts=()
for i in "${!exports[@]}"; do
	d=${exports[$i]}
	extra_virtfs+=(-virtfs "local,path=${d//,/,,},mount_tag=x$i,security_model=none,readonly=on,multidevs=remap")
	mounts+=("${#d} x$i ro $d")
done
if [ -n "$scratch" ]; then
	extra_virtfs+=(-virtfs "local,path=${scratch//,/,,},mount_tag=scratch,security_model=none,multidevs=remap")
	mounts+=("${#scratch} scratch rw $scratch")
fi
if [ ${#mounts[@]} -gt 0 ]; then
	printf '%s\n' "${mounts[@]}" | sort -n -s | cut -d' ' -f2-
fi >"$ctl/mounts"

mkfifo "$ctl/out.fifo" "$ctl/err.fifo"
cat "$ctl/out.fifo" &
cpids+=($!)
cat "$ctl/err.fifo" >&2 &
cpids+=($!)
if [ -n "$verbose" ]; then
	mkfifo "$ctl/console.fifo"
	tee "$ctl/console.log" <"$ctl/console.fifo" >&2 &
	cpids+=($!)
	console=$ctl/console.fifo
else
	console=$ctl/console.log
fi

# The CPU L1 (and through KVM every L2) sees: TCG's "max" unless L1_CPU
# says otherwise. "max" reports family 15 (a 2003 K8), and a Linux guest on
# such a CPU scans all 8192 PCI slots of 256 buses for an AGP bridge,
# twice: in L2 16k trapped config reads, 1.8 s of every boot that no
# current machine spends. The boot benchmark therefore asks for a current
# AMD family (max,family=26,...: SVM and every TCG feature, no family
# errata or mitigations); the default stays plain "max", which the tests
# have run on for hundreds of L1 boots (one of ~80 family-26 L1s hung in
# its own boot, cause unknown).
args=(
	-accel tcg -cpu "${L1_CPU:-max}" -smp "$smp" -m "$mem" -M "${L1_MACHINE:-pc}"
	-nographic -no-reboot -nodefaults -no-user-config -monitor none
	-kernel "$L1_KERNEL" -initrd "$L1_INITRD"
	-append "console=ttyS0 quiet loglevel=1 panic=-1 ${L1_APPEND:-}"
	-serial "file:$console"
	-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=${ctl//,/,,},mount_tag=l1ctl,security_model=none,multidevs=remap"
	-device virtio-serial-pci
	-chardev "file,id=l1out,path=${ctl//,/,,}/out.fifo"
	-device virtserialport,chardev=l1out,name=l1.out
	-chardev "file,id=l1err,path=${ctl//,/,,}/err.fifo"
	-device virtserialport,chardev=l1err,name=l1.err
)
# shellcheck disable=SC2206 # word splitting wanted: extra options
[ -n "${L1_QEMU_ARGS:-}" ] && args+=(${L1_QEMU_ARGS})
if [ -n "$interactive" ]; then
	args+=(-chardev stdio,id=l1tty,signal=off
		-device virtconsole,chardev=l1tty,name=l1.tty)
fi
args+=("${extra_virtfs[@]}")

start=$(date +%s.%N)
# --foreground: QEMU stays in our process group (Ctrl-C reaches it) and has
# no children that would need the group killed.
if [ -n "$interactive" ]; then
	# QEMU owns the terminal (raw mode); Ctrl-C goes to the command in L1.
	# (A background job's stdin is /dev/null unless redirected.)
	exec 3<&0
	timeout --foreground --kill-after=5 "$timeout" \
		"$qemu" "${args[@]}" <&3 2>"$ctl/qemu.err" &
else
	timeout --foreground --kill-after=5 "$timeout" \
		"$qemu" "${args[@]}" </dev/null 2>"$ctl/qemu.err" &
fi
qpid=$!
set +e
wait "$qpid"
qrc=$?
set -e
qpid=""
# The relays end when QEMU closes the FIFOs; if QEMU never opened them
# (it failed at start-up) they would wait forever.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	alive=0
	for p in "${cpids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ "$alive" = 0 ] && break
	sleep 0.2
done
wait "${cpids[@]}" 2>/dev/null || true
cpids=()
end=$(date +%s.%N)

show_console() {
	echo "l1-run: --- last lines of the L1 console ---" >&2
	tail -n 25 "$ctl/console.log" 2>/dev/null |
		sed 's/\x1b\[[0-9;?]*[a-zA-Z]//g; s/\x1bc//g; s/\r//g' >&2
	echo >&2
	[ -s "$ctl/qemu.err" ] && { echo "l1-run: --- QEMU stderr ---" >&2; tail -n 10 "$ctl/qemu.err" >&2; }
	return 0
}

if [ -f "$ctl/rc" ]; then
	rc=$(cat "$ctl/rc")
	if [ -n "$verbose" ] || [ -n "${L1_TIMES:-}" ]; then
		printf 'l1-run: command started at L1 uptime %s s; wall %.2f s total\n' \
			"$(cat "$ctl/t_job" 2>/dev/null)" "$(awk -v a="$start" -v b="$end" "BEGIN{print b-a}")" >&2
	fi
	exit "$rc"
fi
if [ "$qrc" = 124 ]; then
	echo "l1-run: error: timed out after $timeout s, QEMU killed" >&2
	show_console
	exit 124
fi
if [ -f "$ctl/init-error" ]; then
	echo "l1-run: error: L1 init failed: $(cat "$ctl/init-error")" >&2
else
	echo "l1-run: error: L1 ended (QEMU status $qrc) without running the command" >&2
fi
show_console
exit 125
