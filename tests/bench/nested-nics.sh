#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nested-nics.sh - `make bench`: guest-to-guest iperf3 (TCP, and UDP with 64 B
# datagrams) between two Linux guests, loom-vmm on one loom network vs QEMU on
# TAPs over a Linux bridge, per NIC model, in one L1.
#
# Variants (each a pair of guests, A the iperf3 client, B the server):
#   loom          two loom-vmm guests, --nic net=nbench,model=M: netd's switch
#                 between their shm ports
#   qemu          two qemu-system-x86_64 guests, -netdev tap (no vhost), their
#                 TAPs on one Linux bridge
#   qemu-vhost    the same with vhost=on (virtio only, where /dev/vhost-net is)
#   loom-8139too  loom-vmm's rtl8139c (8139too path; QEMU's rtl8139 is a C+
#                 chip, so QEMU has no peer for it: no ratio)
#   loom-bridge   virtio only: two loom-vmm guests on a loom `bridge` network
#                 (a Linux bridge netd owns), the peer of qemu-vhost on the
#                 kernel path; its data path is whatever loom-vmm picks for
#                 such a NIC (`loom vm status`: vhost-net once loom-vmm hands
#                 the TAP to /dev/vhost-net, before that the shm port and the
#                 network's switch link) and is printed with the figures
# Groups (NICS): virtio (loom virtio / QEMU virtio-net-pci), e1000 (e1000 /
# e1000), rtl8139 (rtl8139 = 8139cp C+ / rtl8139). Same kernel, initramfs
# (the guest image plus iperf3 and its libraries), command line, 256 MiB and
# one vCPU for every guest. A group's guests all boot at once; then each run
# measures every variant in turn, the order rotating from run to run, with
# every other pair stopped (SIGSTOP) so that only the pair measured runs.
# Per test, beside the figure: KVM exits and interrupts injected per frame
# for A (sender) and B (receiver), from the L1 kernel's per-VM KVM stats
# (debugfs: both VMMs counted the same way), the frames from the guests'
# own eth0 counters, and the CPU seconds of each VMM process (and netd's).
#
# BENCH lines: nested.M.V.tcp (Mbit/s), nested.M.V.udp64 (received kpps),
# nested.M.V.udp64_offered (kpps the sender sent), medians over RUNS;
# nested.M.loom_vs_qemu.tcp|udp64 and nested.virtio.loom_vs_qemu-vhost.*
# (x, loom / QEMU), nested.virtio.loom-bridge_vs_qemu-vhost.*; the same
# with _per_core; nested.nics.runs.
#
# Without a hardware-speed /dev/kvm (tests/lib/kvm.sh) it runs in one nested
# L1 (QEMU-TCG, 1 vCPU, 3 GiB): the guests run under L1's /dev/kvm and share
# that one TCG vCPU, so absolute figures are small; the ratios are the point.
# L1's speed is the host CPU its TCG thread gets, which other work on the
# host changes from second to second: the host side samples that thread's
# CPU time (a file in the scratch export L1 reads), and each test also
# gives its figure per host core (.._per_core: the figure divided by the
# share of a host CPU L1 had during the test). The ratios are taken on the
# per-core figures where they exist (the raw ones otherwise).
# Every guest boots the same kernel decompressed once on the host (the
# vmlinux l1-run.sh makes for L1: PVH for QEMU, ELF for loom-vmm), with
# only its NIC's driver loaded (loom_modules=). About 7 minutes per group
# with the defaults, 20-25 for all three. Environment: RUNS (3), SECS
# (iperf3 seconds per test, 5), NICS ("virtio e1000 rtl8139"), VARIANTS (all
# by default, e.g. "loom qemu"), PERF=1 (perf record -a in L1 during each
# test, its top processes/objects and symbols printed: slower, perturbs).
set -u
cd "$(dirname "$0")/../.." || exit 1
root=$PWD
. tests/lib/kvm.sh
RUNS=${RUNS:-3}
SECS=${SECS:-5}
NICS=${NICS:-virtio e1000 rtl8139}
VARIANTS=${VARIANTS:-loom qemu qemu-vhost loom-8139too loom-bridge}
export RUNS SECS NICS VARIANTS
say() { echo "nested-nics: $*" >&2; }

# l1_cpu_sampler DIR - host side: every 0.1 s, DIR/l1cpu = "<host seconds>
# <CPU seconds of the L1 QEMU whose command line names DIR>".
l1_cpu_sampler() {
	local dir=$1 pid='' p st f
	while [ -z "$pid" ]; do
		for p in $(pgrep -f '^qemu-system-x86_64 '); do
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$dir" && pid=$p
		done
		sleep 0.2
	done
	local hz
	hz=$(getconf CLK_TCK)
	while read -r st <"/proc/$pid/stat" 2>/dev/null; do
		read -r -a f <<<"${st##*) }"
		printf '%s %d.%02d\n' "$EPOCHREALTIME" $(((f[11] + f[12]) / hz)) \
			$(((f[11] + f[12]) % hz * 100 / hz)) >"$dir/l1cpu.tmp" &&
			mv -f "$dir/l1cpu.tmp" "$dir/l1cpu"
		sleep 0.1
	done
}

if [ "${LOOM_IN_L1:-}" != 1 ]; then
	for b in loom-vmm loom-netd loom; do
		[ -x "build/$b" ] || { echo "build/$b not built (make)"; exit 77; }
	done
	command -v iperf3 >/dev/null ||
		{ echo "no iperf3 to put in the guest image (apt-get install iperf3)"; exit 77; }
	L2_INITRD=$(scripts/build-guest-initramfs.sh --programs iperf3 \
		build/nested/guest-iperf3.cpio.gz) || exit 1
	export L2_INITRD
	kvm_probe
	case $KVM_MODE in
	nested)
		# Every guest boots the bzImage's kernel decompressed once on
		# the host (l1-run.sh's vmlinux, PVH entry for QEMU, ELF for
		# loom-vmm): a guest decompressing xz under TCG costs seconds.
		. scripts/nested/lib.sh
		kv=$(nested_kernel_version) &&
			scripts/nested/l1-run.sh --build-only >/dev/null &&
			[ -f "build/nested/vmlinux-$kv" ] &&
			export L2_VMLINUX=$root/build/nested/vmlinux-$kv
		say "host load $(cut -d' ' -f1-3 /proc/loadavg) at start; one L1 for NICS='$NICS' RUNS=$RUNS SECS=$SECS"
		scratch=$(mktemp -d "$root/build/nested/nics-scratch.XXXXXX") || exit 1
		export NESTED_NICS_SCRATCH=$scratch
		l1_cpu_sampler "$scratch" &
		sampler=$!
		scripts/nested/l1-run.sh --mem 3072 --modules "tun vhost_net bridge" \
			--timeout "${NESTED_NICS_TIMEOUT:-3600}" --scratch "$scratch" \
			-- tests/bench/nested-nics.sh
		rc=$?
		kill "$sampler" 2>/dev/null
		wait "$sampler" 2>/dev/null
		rm -rf "$scratch"
		say "host load $(cut -d' ' -f1-3 /proc/loadavg) at end (exit $rc)"
		exit $rc
		;;
	direct) ;;
	*)
		echo "no KVM able to boot Linux here: $KVM_WHY"
		exit 77
		;;
	esac
fi

[ "$(id -u)" = 0 ] || { echo "needs root (TAPs and a bridge for QEMU's guests)"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "no qemu-system-x86_64"; exit 77; }
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
. tests/lib/l2.sh
work=$L2_DIR
res=$work/res
mkdir -p "$work/run" "$work/state" "$res"
export LOOM_RUN_DIR=$work/run
loom() { "$root/build/loom" "$@"; }
bridge=nbbr$$
taps=()
netd_pid=
# stop_bounded PID... - SIGTERM (after SIGCONT), up to 10 s, then SIGKILL.
stop_bounded() {
	local p i left
	for p in "$@"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	for i in $(seq 100); do
		left=
		for p in "$@"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
		[ -z "$left" ] && break
		sleep 0.1
	done
	for p in $left; do
		say "pid $p ($(cat /proc/"$p"/comm 2>/dev/null)) still there 10 s after SIGTERM: SIGKILL"
		kill -9 "$p" 2>/dev/null
	done
	wait "$@" 2>/dev/null
}
cleanup() {
	[ ${#L2_PID[@]} -gt 0 ] && stop_bounded "${L2_PID[@]}"
	loom net delete nbbridge >/dev/null 2>&1
	[ -n "$netd_pid" ] && stop_bounded "$netd_pid"
	for p in "${taps[@]}"; do ip link del "$p" 2>/dev/null; done
	ip link del "$bridge" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
l2_images || exit 1
kernel=${L2_VMLINUX:-$L2_KERNEL}
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

"$root/build/loom-netd" --run-dir "$work/run" --state-dir "$work/state" \
	>"$work/netd.log" 2>&1 &
netd_pid=$!
for _ in $(seq 100); do
	loom status >/dev/null 2>&1 && break
	sleep 0.1
done
loom net create nbench --mode switch >/dev/null ||
	{ echo "loom net create failed: $(tail -n 3 "$work/netd.log")"; exit 1; }
case " $VARIANTS " in
*" loom-bridge "*)
	loom net create nbbridge --mode bridge --bridge "lbnb$$" >/dev/null || {
		say "no loom bridge network (loom-bridge not measured): $(tail -n 2 "$work/netd.log")"
		VARIANTS=${VARIANTS/loom-bridge/}
	}
	;;
esac
ip link add "$bridge" type bridge && ip link set "$bridge" up ||
	{ echo "cannot create a Linux bridge (module bridge)"; exit 1; }
have_vhost=
[ -c /dev/vhost-net ] && have_vhost=1

cmdline="$L2_CMDLINE_QUIET reboot=k i8042.noaux tsc=reliable no_timer_check nowatchdog"
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# group_variants GROUP - "VARIANT:MODEL" for each pair booted in GROUP
# (MODEL: loom-vmm's model=, or QEMU's -device).
group_variants() {
	local v out=()
	for v in $VARIANTS; do
		case $1:$v in
		virtio:loom) out+=(loom:virtio) ;;
		virtio:qemu) out+=(qemu:virtio-net-pci) ;;
		virtio:qemu-vhost) [ -n "$have_vhost" ] && out+=(qemu-vhost:virtio-net-pci) ;;
		virtio:loom-bridge) out+=(loom-bridge:virtio) ;;
		e1000:loom) out+=(loom:e1000) ;;
		e1000:qemu) out+=(qemu:e1000) ;;
		rtl8139:loom) out+=(loom:rtl8139) ;;
		rtl8139:loom-8139too) out+=(loom-8139too:rtl8139c) ;;
		rtl8139:qemu) out+=(qemu:rtl8139) ;;
		esac
	done
	echo "${out[@]}"
}

pair_no=0
declare -A ipof # guest name -> address
# pair_start GROUP VARIANT MODEL - boot guests GROUP-VARIANT-a and -b.
pair_start() {
	local g=$1 v=$2 m=$3 s name tap mods
	pair_no=$((pair_no + 1))
	# Only the driver this pair uses (the same for both VMMs).
	case $m in
	virtio*) mods=virtio_pci,virtio_net ;;
	e1000) mods=e1000 ;;
	rtl8139c) mods=8139too ;;
	rtl8139) mods=8139cp ;;
	esac
	for s in a b; do
		name=$g-$v-$s
		ipof[$name]=10.78.$pair_no.$([ $s = a ] && echo 1 || echo 2)
		case $v in
		loom*)
			l2_start "$name" "$root/build/loom-vmm" --name "$name" \
				--kernel "$kernel" --initrd "$L2_INITRD" \
				--append "$cmdline loom_modules=$mods" --mem 256M --cpus 1 \
				--console stdio --no-kernel-cache \
				--nic "net=$([ $v = loom-bridge ] && echo nbbridge || echo nbench),model=$m"
			;;
		qemu*)
			tap=nbt$pair_no$s
			ip tuntap add dev "$tap" mode tap &&
				ip link set "$tap" master "$bridge" up || return 1
			taps+=("$tap")
			l2_start "$name" qemu-system-x86_64 -enable-kvm -M pc \
				-nodefaults -no-user-config -cpu host -m 256 -smp 1 \
				-nographic -no-reboot -monitor none -serial stdio \
				-kernel "$kernel" -initrd "$L2_INITRD" \
				-append "$cmdline loom_modules=$mods" \
				-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=$([ $v = qemu-vhost ] && echo on || echo off)" \
				-device "$m,netdev=n0,mac=52:54:00:78:$(printf %02x $pair_no):0$([ $s = a ] && echo 1 || echo 2)"
			;;
		esac
	done
}

# guest_do NAME 'CMDS' SECS - l2_run that must succeed (else says why).
guest_do() {
	l2_run "$1" "$2" "$3" && [ "$L2_RC" = 0 ] && return 0
	say "$1: '$2' failed (rc ${L2_RC:-none, timed out}): ${L2_OUT//$'\n'/ | }"
	l2_tail "$1" 5 >&2
	return 1
}

# pair_ready GROUP VARIANT - addresses, iperf3 server on B, A pings B (the
# shells are up).
pair_ready() {
	local a=$1-$2-a b=$1-$2-b n
	for n in "$a" "$b"; do
		guest_do "$n" "ip addr add ${ipof[$n]}/24 dev eth0 && ip link set eth0 up" 120 || return 1
	done
	guest_do "$b" 'iperf3 -s -D >/dev/null 2>&1' 180 || return 1
	guest_do "$a" "ping -c 2 -w 90 ${ipof[$b]} >/dev/null" 120 || return 1
	guest_do "$a" 'basename $(readlink /sys/class/net/eth0/device/driver)' 60 || return 1
	say "$1-$2: up, driver ${L2_OUT%$'\n'}$(datapath "$a")"
}

# datapath NAME - ", data path X" for a loom-vmm guest (backend, and the
# NIC's datapath where loom-vmm reports one).
datapath() {
	case $1 in *-loom*) ;; *) return 0 ;; esac
	loom --json vm status "$1" 2>/dev/null | python3 -c 'import json, sys
n = json.load(sys.stdin)["status"]["nics"][0]
print(", data path %s (backend %s)" % (n.get("datapath", n.get("backend")), n.get("backend")))' 2>/dev/null
}

# kvm_stats PID - "exits irq_injections" of the VM PID owns (L1's debugfs).
kvm_stats() {
	local d
	d=$(ls -d /sys/kernel/debug/kvm/"$1"-* 2>/dev/null | head -n 1)
	if [ -n "$d" ]; then
		echo "$(cat "$d/exits" 2>/dev/null || echo 0) $(cat "$d/irq_injections" 2>/dev/null || echo 0)"
	else
		echo "0 0"
	fi
}
# cpu_s PID - CPU seconds (user + system, all threads) of PID.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# eth_count NAME DIR - the guest's eth0 statistics/DIR_packets (0 if unread).
eth_count() {
	local v=
	guest_do "$1" "cat /sys/class/net/eth0/statistics/$2_packets" 120 &&
		v=$(echo "${L2_OUT%$'\n'}" | tail -n 1)
	case $v in '' | *[!0-9]*) v=0 ;; esac
	echo "$v"
}

# l1_sample - "<host s> <L1 CPU s>" from the host's sampler ("" without one).
l1_sample() {
	[ -n "${NESTED_NICS_SCRATCH:-}" ] && cat "$NESTED_NICS_SCRATCH/l1cpu" 2>/dev/null
}
# l1_share "T0 C0" "T1 C1" - L1's share of a host CPU between two samples
# (1 without samples: direct KVM, the figures are already per core).
l1_share() {
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y)
		if (y[1] - x[1] > 0.5 && y[2] > x[2]) printf "%.3f", (y[2] - x[2]) / (y[1] - x[1]); else print 1 }'
}

# perf_show LABEL - where L1's CPU went during the test (PERF=1).
perf_show() {
	wait "$perf_pid" 2>/dev/null
	{
		echo "nested-nics: perf, $1: by process and object"
		perf report -i "$work/perf.data" --stdio --no-children \
			--sort comm,dso -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 14
		echo "nested-nics: perf, $1: by symbol"
		perf report -i "$work/perf.data" --stdio --no-children \
			--sort comm,sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -n 25
	} >&2
}

# only_run GROUP VARIANT - SIGCONT that pair, SIGSTOP every other guest.
only_run() {
	local n
	for n in "${!L2_PID[@]}"; do
		case $n in
		"$1-$2-a" | "$1-$2-b") kill -CONT "${L2_PID[$n]}" ;;
		*) kill -STOP "${L2_PID[$n]}" ;;
		esac
	done
	sleep 1
}

# one_test GROUP VARIANT RUN tcp|udp64 - run iperf3 A -> B, record figures.
one_test() {
	local g=$1 v=$2 r=$3 t=$4 a=$1-$2-a b=$1-$2-b opts val='' offered=''
	local ka kb ka2 kb2 txa rxb txa2 rxb2 ca cb cn ca2 cb2 cn2 frames where
	case $t in
	tcp) opts="-t $SECS" ;;
	udp64) opts="-u -l 64 -b 0 -t $SECS" ;;
	esac
	txa=$(eth_count "$a" tx) rxb=$(eth_count "$b" rx)
	ka=$(kvm_stats "${L2_PID[$a]}") kb=$(kvm_stats "${L2_PID[$b]}")
	ca=$(cpu_s "${L2_PID[$a]}") cb=$(cpu_s "${L2_PID[$b]}") cn=$(cpu_s "$netd_pid")
	local h0 h1 share
	h0=$(l1_sample)
	if [ "${PERF:-}" = 1 ]; then
		perf record -a -g -F 997 -o "$work/perf.data" -- sleep "$SECS" \
			>/dev/null 2>"$work/perf.err" &
		perf_pid=$!
	fi
	l2_run "$a" "timeout $((SECS + 60)) iperf3 -c ${ipof[$b]} $opts -i 0 -f m 2>&1 | grep -E 'sender|receiver|error'" $((SECS + 180))
	h1=$(l1_sample)
	[ "${PERF:-}" = 1 ] && perf_show "$g $v $t"
	share=$(l1_share "$h0" "$h1")
	ka2=$(kvm_stats "${L2_PID[$a]}") kb2=$(kvm_stats "${L2_PID[$b]}")
	ca2=$(cpu_s "${L2_PID[$a]}") cb2=$(cpu_s "${L2_PID[$b]}") cn2=$(cpu_s "$netd_pid")
	local iout=$L2_OUT
	txa2=$(eth_count "$a" tx) rxb2=$(eth_count "$b" rx)
	case $t in
	tcp)
		val=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i - 1) }' <<<"$iout")
		# The sender's line: "... Mbits/sec RETR sender".
		offered=$(awk '/sender/ { for (i = 1; i <= NF; i++) if ($i == "Mbits/sec") print $(i + 1) }' <<<"$iout")
		;;
	udp64)
		# "... 0.00-5.04 sec ... LOST/TOTAL (x%) receiver": received
		# datagrams per second, in thousands; the sender line's TOTAL
		# is what A sent.
		read -r val offered <<<"$(awk '
		function rate(   i, d, n, lt) {
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^[0-9.]+-[0-9.]+$/) { split($i, d, "-"); n = d[2] - d[1] }
				if ($i ~ /^[0-9]+\/[0-9]+$/) split($i, lt, "/")
			}
			return n > 0 ? (lt[2] - ($0 ~ /receiver/ ? lt[1] : 0)) / n / 1000 : 0
		}
		/receiver/ { rx = rate() } /sender/ { tx = rate() }
		END { if (rx != "") printf "%.2f %.2f\n", rx, tx }' <<<"$iout")"
		;;
	esac
	if [ -z "$val" ]; then
		say "$g $v run $r $t: no result: ${iout//$'\n'/ | }"
		return 1
	fi
	echo "$val" >>"$res/$g.$v.$t"
	awk -v x="$val" -v s="$share" 'BEGIN { printf "%.3f\n", x / s }' >>"$res/$g.$v.${t}_per_core"
	[ -n "${offered:-}" ] && [ "$t" = udp64 ] && echo "$offered" >>"$res/$g.$v.${t}_offered"
	frames=$(((txa2 - txa) > 0 ? txa2 - txa : 1))
	where=$(awk -v ka="$ka" -v ka2="$ka2" -v kb="$kb" -v kb2="$kb2" \
		-v fa=$frames -v fb=$((rxb2 - rxb > 0 ? rxb2 - rxb : 1)) \
		'BEGIN { split(ka, a); split(ka2, a2); split(kb, b); split(kb2, b2)
		printf "A: %d frames out, %.2f exits and %.2f irqs per frame; B: %d frames in, %.2f exits and %.2f irqs per frame",
			fa, (a2[1] - a[1]) / fa, (a2[2] - a[2]) / fa,
			fb, (b2[1] - b[1]) / fb, (b2[2] - b[2]) / fb }')
	where="$where; CPU s: A $(awk -v x="$ca" -v y="$ca2" 'BEGIN { print y - x }') B $(awk -v x="$cb" -v y="$cb2" 'BEGIN { print y - x }')"
	case $v in loom*) where="$where netd $(awk -v x="$cn" -v y="$cn2" 'BEGIN { print y - x }')" ;; esac
	say "$g $v run $r $t: $val $([ $t = tcp ] && echo "Mbit/s (${offered:-?} retransmits)" || echo "kpps (offered ${offered} kpps)"), L1 had $share of a host CPU; $where; L1 load $(cut -d' ' -f1 /proc/loadavg)"
	echo "$g $v $r $t $val ${offered:-} share $share | $where" >>"$res/where.txt"
}

# rotated N WORD... - WORDs starting at the Nth.
rotated() {
	local n=$1
	shift
	local -a all=("$@")
	local i
	for ((i = 0; i < ${#all[@]}; i++)); do
		echo "${all[(i + n) % ${#all[@]}]}"
	done
}

report_group() {
	local g=$1 v t f
	for v in $2; do
		for t in tcp tcp_per_core udp64 udp64_per_core udp64_offered; do
			f=$res/$g.$v.$t
			[ -s "$f" ] || continue
			echo "BENCH nested.$g.$v.$t $(median "$f") $([ "${t#tcp}" != "$t" ] && echo Mbit/s || echo kpps)"
		done
	done
	for lq in loom:qemu loom:qemu-vhost loom-bridge:qemu-vhost; do
		l=${lq%:*} v=${lq#*:}
		for t in tcp udp64 tcp_per_core udp64_per_core; do
			[ -s "$res/$g.$l.$t" ] && [ -s "$res/$g.$v.$t" ] || continue
			awk -v l="$(median "$res/$g.$l.$t")" -v q="$(median "$res/$g.$v.$t")" \
				-v n="nested.$g.${l}_vs_$v.$t" \
				'BEGIN { if (q > 0) printf "BENCH %s %.2f x\n", n, l / q }'
		done
	done
}

fails=0
echo "BENCH nested.nics.runs $RUNS runs"
for g in $NICS; do
	pairs=$(group_variants "$g")
	[ -n "$pairs" ] || continue
	say "group $g: booting ${pairs//:/=} (L1 load $(cut -d' ' -f1-3 /proc/loadavg))"
	# A pair that does not come up is left out (said why); the others run.
	names=()
	for p in $pairs; do
		if pair_start "$g" "${p%%:*}" "${p#*:}"; then
			names+=("${p%%:*}")
		else
			say "$g-${p%%:*}: could not start"
			fails=$((fails + 1))
		fi
	done
	up=()
	for v in "${names[@]}"; do
		ok=1
		for n in "$g-$v-a" "$g-$v-b"; do
			l2_shell "$n" 900 && continue
			say "$n: no shell, $g-$v left out"
			l2_tail "$n" >&2
			ok=
			break
		done
		[ -n "$ok" ] && up+=("$v")
	done
	say "group $g: ${#up[@]} of ${#names[@]} pairs up after $(l2_elapsed "$g-${names[0]}-a") s"
	names=()
	for v in "${up[@]}"; do
		if pair_ready "$g" "$v"; then
			names+=("$v")
		else
			say "$g-$v: left out"
			fails=$((fails + 1))
		fi
	done
	if [ ${#names[@]} -gt 0 ]; then
		for r in $(seq 1 "$RUNS"); do
			for v in $(rotated "$r" "${names[@]}"); do
				only_run "$g" "$v"
				one_test "$g" "$v" "$r" tcp || fails=$((fails + 1))
				one_test "$g" "$v" "$r" udp64 || fails=$((fails + 1))
			done
		done
		report_group "$g" "${names[*]}"
	else
		fails=$((fails + 1))
	fi
	for n in "${!L2_PID[@]}"; do kill -CONT "${L2_PID[$n]}"; done
	for n in "${!L2_PID[@]}"; do l2_send "$n" loom-poweroff; done
	for n in "${!L2_PID[@]}"; do l2_wait "$n" 60; done
	for p in "${taps[@]}"; do ip link del "$p" 2>/dev/null; done
	taps=()
done
[ -n "${KVM_SCRATCH:-}${NESTED_NICS_KEEP:-}" ] && cp "$res/where.txt" "${NESTED_NICS_KEEP:-$KVM_SCRATCH}/" 2>/dev/null
[ $fails -eq 0 ]
