# l2.sh - sourced by tests that boot Linux guests ("L2") under QEMU or
# loom-vmm and drive them over their serial console. Needs bash >= 4.4.
#
#   . tests/lib/l2.sh
#   l2_images                    set L2_KERNEL, L2_INITRD (built if needed)
#   l2_start NAME CMD...         start CMD (a VMM whose serial console is on
#                                its stdin/stdout); console log in
#                                $L2_DIR/NAME.log, pid in L2_PID[NAME]
#   l2_expect NAME ERE SECS [lines]
#                                wait for console output matching ERE (a
#                                line, or an unfinished line such as a
#                                prompt, unless "lines" is given); sets
#                                L2_LINE; 1 on timeout, 2 on EOF
#   l2_send NAME TEXT            send TEXT and a newline to the console
#   l2_shell NAME SECS           wait for the guest shell (LOOM-READY, if
#                                not seen yet), turn tty echo off so output
#                                is just output
#   l2_run NAME 'CMDS' SECS      run CMDS in the guest shell; L2_RC = their
#                                exit status, L2_OUT = their output
#   l2_wait NAME SECS            wait for the VMM to exit (killed after SECS):
#                                L2_EXIT = its status (124 if killed)
#   l2_stop_all                  kill what is still running (call on EXIT)
#   l2_shell_retry NAME SECS     l2_shell for a slow (TCG) guest: waits for
#                                the prompt, asks again if input was lost
#   l2_qemu_nic_guest NAME MAC NETDEV-OPTS...
#                                a QEMU (TCG) guest with shared memfd RAM and
#                                one virtio-net-pci on the -netdev given, up
#                                to its shell (1 if it does not get there)
#   l2_overhead_kib PID RAM_MB   VMM memory: RSS minus the guest-RAM mapping
#
# Markers printed by the guest's init (scripts/nested/guest-init.sh):
# LOOM-INIT <uptime>, LOOM-READY, LOOM-EXIT <rc>, prompt "loom# ".
# shellcheck shell=bash

L2_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L2_REPO=$(cd "$L2_LIB_DIR/../.." && pwd)
L2_DIR=${L2_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/l2.XXXXXX")}
shopt -s extglob
declare -gA L2_PID L2_IN L2_OUTFD L2_PART L2_T0 L2_READY
L2_CMDLINE_QUIET="console=ttyS0 quiet loglevel=1 panic=-1"

# l2_images - the Debian kernel and the guest initramfs. Inside the nested L1
# the repository is read-only: use the cached image if it is current (the
# host side builds it before entering L1), else build one under L2_DIR.
l2_images() {
	local v
	v=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n 1)
	[ -n "$v" ] || { echo "no /boot/vmlinuz-* (apt-get install linux-image-amd64)"; return 1; }
	L2_KERNEL=${L2_KERNEL:-/boot/vmlinuz-$v}
	if [ -z "${L2_INITRD:-}" ]; then
		L2_INITRD=$("$L2_REPO/scripts/build-guest-initramfs.sh" 2>/dev/null) ||
			L2_INITRD=$("$L2_REPO/scripts/build-guest-initramfs.sh" \
				"$L2_DIR/guest.cpio.gz") || return 1
	fi
	export L2_KERNEL L2_INITRD
}

# Microseconds since the epoch (bash's clock: no process per call).
l2_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo "$t"
}

l2_start() {
	local name=$1 fd
	shift
	mkfifo "$L2_DIR/$name.in" "$L2_DIR/$name.out"
	L2_T0[$name]=$(l2_us)
	"$@" <"$L2_DIR/$name.in" >"$L2_DIR/$name.out" 2>&1 &
	L2_PID[$name]=$!
	exec {fd}<>"$L2_DIR/$name.in"
	L2_IN[$name]=$fd
	exec {fd}<"$L2_DIR/$name.out"
	L2_OUTFD[$name]=$fd
	L2_PART[$name]=
	L2_READY[$name]=
	: >"$L2_DIR/$name.log"
}

# l2_elapsed NAME - seconds since l2_start NAME, e.g. 12.345.
l2_elapsed() {
	local us=$(($(l2_us) - ${L2_T0[$1]}))
	printf '%d.%03d' $((us / 1000000)) $((us % 1000000 / 1000))
}

l2_expect() {
	local name=$1 re=$2 fd=${L2_OUTFD[$1]} whole=${4:-} got rc left deadline
	deadline=$(($(l2_us) + $3 * 1000000))
	while :; do
		left=$((deadline - $(l2_us)))
		[ $left -le 0 ] && return 1
		# Slices of at most 0.5 s, so that an unfinished line (a prompt)
		# is looked at too.
		[ $left -gt 500000 ] && left=500000
		got=
		IFS= read -r -t "0.$(printf %06d $left)" -u "$fd" got
		rc=$?
		got=${got//$'\r'/}
		# Firmware (SeaBIOS) clears the screen with escape sequences.
		got=${got//$'\e'c/}
		got=${got//$'\e'\[*([0-9;?])[a-zA-Z]/}
		if [ $rc -eq 0 ]; then
			L2_LINE=${L2_PART[$name]}$got
			L2_PART[$name]=
			printf '%s\n' "$L2_LINE" >>"$L2_DIR/$name.log"
			# Anywhere in the line: under load a marker has been
			# seen glued to the end of the line before it.
			[[ $L2_LINE == *LOOM-READY* ]] && L2_READY[$name]=1
			[[ $L2_LINE =~ $re ]] && return 0
		elif [ $rc -gt 128 ]; then
			L2_PART[$name]+=$got
			if [ -z "$whole" ] && [ -n "${L2_PART[$name]}" ] &&
				[[ ${L2_PART[$name]} =~ $re ]]; then
				L2_LINE=${L2_PART[$name]}
				L2_PART[$name]=
				printf '%s' "$L2_LINE" >>"$L2_DIR/$name.log"
				return 0
			fi
		else
			L2_PART[$name]+=$got
			printf '%s' "${L2_PART[$name]}" >>"$L2_DIR/$name.log"
			L2_PART[$name]=
			return 2
		fi
	done
}

l2_send() {
	printf '%s\n' "$2" >&"${L2_IN[$1]}"
}

l2_shell() {
	[ -n "${L2_READY[$1]:-}" ] || l2_expect "$1" 'LOOM-READY' "$2" || return 1
	l2_send "$1" 'stty -echo; echo "@@SHELL-$((6 * 7))"'
	l2_expect "$1" '@@SHELL-42' "$2"
}

l2_run() {
	local name=$1 cmds=$2 secs=$3 line
	L2_OUT='' L2_RC=''
	l2_send "$name" "$cmds"'; echo "@@RC=$?"'
	# Whole lines only: a guest that pauses mid-line (TCG under load)
	# must not split one output line in two.
	while l2_expect "$name" '.' "$secs" lines; do
		line=$L2_LINE
		# Prompts (PS1, and PS2 for each continuation line) precede
		# the output on its line.
		while [[ $line == 'loom# '* || $line == '> '* ]]; do
			line=${line#loom# }
			line=${line#> }
		done
		if [[ $line =~ @@RC=([0-9]+)$ ]]; then
			line=${line%@@RC=*}
			[ -n "$line" ] && L2_OUT+=$line$'\n'
			L2_RC=${BASH_REMATCH[1]}
			return 0
		fi
		L2_OUT+=$line$'\n'
	done
	return 1
}

l2_wait() {
	local name=$1 secs=$2 pid=${L2_PID[$1]} i line
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		sleep 0.5
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null || :
		L2_EXIT=124
	else
		# A VMM's own status (3: stopped, vmm/vm.h) is not the
		# caller's failure: under `set -e` a bare wait would end it.
		L2_EXIT=0
		wait "$pid" 2>/dev/null || L2_EXIT=$?
	fi
	# Keep the rest of the console output in the log.
	while IFS= read -r -t 0.2 -u "${L2_OUTFD[$name]}" line; do
		printf '%s\n' "${line//$'\r'/}" >>"$L2_DIR/$name.log"
	done
	local ofd=${L2_OUTFD[$name]} ifd=${L2_IN[$name]}
	exec {ofd}<&- {ifd}>&-
	unset "L2_PID[$name]"
	return 0
}

l2_stop_all() {
	local n
	for n in "${!L2_PID[@]}"; do
		kill "${L2_PID[$n]}" 2>/dev/null
	done
	return 0
}

# l2_tail NAME [N] - the last N (20) lines of a console log, indented.
l2_tail() {
	tail -n "${2:-20}" "$L2_DIR/$1.log" | sed 's/^/    | /'
}

l2_shell_retry() {
	[ -n "${L2_READY[$1]:-}" ] || l2_expect "$1" '^LOOM-READY' "$2" lines ||
		return 1
	# Input sent before ash has set up the console can be flushed.
	l2_expect "$1" 'loom# ' 60 || true
	for _ in 1 2 3; do
		l2_send "$1" 'stty -echo; echo "@@SHELL-$((6 * 7))"'
		l2_expect "$1" '@@SHELL-42' 30 && return 0
	done
	return 1
}

# QEMU 7.2 under TCG crashes in vhost_net_start (msix_set_vector_notifiers)
# for a vhost-user virtio-net-pci with MSI-X: vectors=0 (INTx) for all.
l2_qemu_nic_guest() {
	local name=$1 mac=$2
	shift 2
	l2_start "$name" qemu-system-x86_64 -M pc -nodefaults -no-user-config \
		-m 256 -object memory-backend-memfd,id=mem,size=256M,share=on \
		-numa node,memdev=mem -nographic -no-reboot -monitor none \
		-serial stdio "$@" \
		-device "virtio-net-pci,netdev=n0,romfile=,vectors=0,mac=$mac" \
		-kernel "$L2_KERNEL" -initrd "$L2_INITRD" \
		-append "$L2_CMDLINE_QUIET"
	l2_expect "$name" '^LOOM-READY' 300 lines && l2_shell_retry "$name" 60
}

l2_overhead_kib() {
	awk -v ram=$(($2 * 1024)) '
	/^[0-9a-f]+-[0-9a-f]+ / { big = 0 }
	/^Size:/ { big = ($2 >= ram / 2) }
	/^Rss:/ { total += $2; if (big) guest += $2 }
	END { print total - guest }' "/proc/$1/smaps"
}
