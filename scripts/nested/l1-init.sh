#!/bin/sh
# l1-init.sh - /init of the L1 initramfs: mount the host tree over 9p, chroot
# into it, run the job l1-run.sh left in the control export, power off.
#
# Runs under busybox sh as PID 1 of the L1 kernel. The control export (tag
# l1ctl) holds: env (shell variables set by l1-run.sh), mounts (the extra
# exports), job.sh (the command, its directory and environment) and receives
# rc (the command's exit code).

export PATH=/bin
P9="trans=virtio,version=9p2000.L,msize=512000"

say() { echo "l1-init: $*" >/dev/console; }
# With -v: what was done by which L1 uptime.
mark() { [ -n "$L1_VERBOSE" ] && say "$* ($(cut -d' ' -f1 /proc/uptime) s)"; }

# Power off: with -no-reboot QEMU exits on the reset this triggers, which
# needs no ACPI in the guest.
halt_l1() {
	sync
	reboot -f
	sleep 5
}

fail() {
	say "FAILED: $*"
	[ -d /ctl ] && echo "l1-init: $*" >/ctl/init-error
	halt_l1
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
dmesg -n 1

# The virtio + 9p modules ship inside this initramfs, in load order.
while read -r m; do
	insmod "/lib/modules/$m" || fail "insmod $m"
done </modules.order

mkdir -p /host /ctl
mount -t 9p -o "$P9,cache=none" l1ctl /ctl || fail "mount control export"
. /ctl/env || fail "read /ctl/env"
mount -t 9p -o "$P9,ro,cache=loose" host /host || fail "mount host tree"
mark "9p mounted"

# Modules the caller asked for (kvm, kvm-amd first), resolved to files and
# ordered on the host; loaded straight from the host's /lib/modules.
for ko in $L1_MODULE_FILES; do
	name=${ko##*/}
	name=${name%%.ko*}
	name=$(echo "$name" | tr - _)
	grep -q "^$name " /proc/modules && continue
	insmod "/host/lib/modules/$L1_KVER/$ko" 2>/tmp/insmod.err ||
		fail "insmod $ko: $(cat /tmp/insmod.err)"
done
mark "modules loaded"

# The loopback interface, as on any booted host: services a test starts on
# 127.0.0.1 (and libslirp's host-loopback forwarding) need it up.
ip link set lo up || fail "ip link set lo up"

# Modules the kernel asks for (ip link add ... type vlan, and so on) load
# through the host's modprobe; the helper runs in this root, not the chroot.
printf '#!/bin/sh\nexec chroot /host /sbin/modprobe "$@"\n' >/bin/l1-modprobe
chmod 755 /bin/l1-modprobe
echo /bin/l1-modprobe >/proc/sys/kernel/modprobe

mount --rbind /dev /host/dev || fail "bind /dev"
mount --bind /proc /host/proc || fail "bind /proc"
mount --bind /sys /host/sys || fail "bind /sys"
mount -t tmpfs -o mode=1777 tmpfs /host/tmp || fail "tmpfs /tmp"
mount -t tmpfs -o mode=755 tmpfs /host/run || fail "tmpfs /run"
[ -d /host/dev/shm ] && mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
# The extra exports at their host paths, on top of the tmpfs just mounted
# (make the mount point there; inside an export it exists already): a
# checkout or the caller's directory under /tmp or /run, and the scratch
# folder. One "TAG ro|rw PATH" a line, parents first.
while IFS= read -r line; do
	tag=${line%% *}
	rest=${line#* }
	mode=${rest%% *}
	path=${rest#* }
	opts="$P9,cache=none"
	[ "$mode" = ro ] && opts="$P9,ro,cache=loose"
	mkdir -p "/host$path" 2>/dev/null
	mount -t 9p -o "$opts" "$tag" "/host$path" ||
		fail "mount export $tag at $path"
done </ctl/mounts
mark "exports mounted"

# The command's stdout and stderr: virtio-serial ports named l1.out, l1.err.
out=/dev/null err=/dev/null
for d in /sys/class/virtio-ports/*; do
	[ -e "$d/name" ] || continue
	case $(cat "$d/name") in
	l1.out) out=/dev/${d##*/} ;;
	l1.err) err=/dev/${d##*/} ;;
	esac
done
if [ -n "$L1_INTERACTIVE" ]; then
	# The caller's terminal, as a tty here (virtconsole hvc0).
	out=/dev/hvc0 err=/dev/hvc0
	[ -c "$out" ] || fail "no /dev/hvc0 for --interactive"
fi
[ "$out" != /dev/null ] || fail "no l1.out port"

mkdir -p /host/run/l1
cp /ctl/job.sh /host/run/l1/job.sh || fail "copy job"
mark "running job"
cut -d" " -f1 /proc/uptime >/ctl/t_job
if [ -n "$L1_INTERACTIVE" ]; then
	stty -F "$out" sane
	[ -n "$L1_TTY_SIZE" ] && stty -F "$out" rows "${L1_TTY_SIZE% *}" cols "${L1_TTY_SIZE#* }"
	setsid -c chroot /host /bin/bash /run/l1/job.sh <"$out" >"$out" 2>&1
else
	chroot /host /bin/bash /run/l1/job.sh </dev/null >"$out" 2>"$err"
fi
rc=$?
echo "$rc" >/ctl/rc
mark "job exited $rc"
echo "L1-EXIT $rc" >/dev/console
halt_l1
