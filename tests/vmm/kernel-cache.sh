#!/usr/bin/env bash
# kernel-cache.sh - tier 4: loom-vmm's kernel cache with Debian's real bzImage on this host's /dev/kvm: --cache-kernel, a hit, a miss and its background filler, --no-kernel-cache, a bad entry, a directory others can write.
#
# Each case starts loom-vmm, reads its start-up log line (which says where
# the kernel came from) and stops the VM: what the guest then does is
# tier 5's business (tests/nested/vmm-boot-linux.sh boots the cached
# kernel to a shell). Needs /dev/kvm (any KVM: the VM only has to be
# created) and a /boot/vmlinuz-*; exit 77 with the reason otherwise.
set -u
cd "$(dirname "$0")/../.." || exit 1
vmm=$PWD/build/loom-vmm
[ -x "$vmm" ] || { echo "build/loom-vmm not built yet (make)"; exit 77; }
[ -c /dev/kvm ] && [ -w /dev/kvm ] || { echo "no usable /dev/kvm on this host"; exit 77; }
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$kernel" ] || { echo "no /boot/vmlinuz-* (apt-get install linux-image-amd64)"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/loom-kcache.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1"
	sed 's/^/    | /' "$work/log" 2>/dev/null | tail -8
	fails=$((fails + 1))
}

# start_line [OPTIONS...] - run loom-vmm -v until its start-up line
# ("... VM ready after ...") is in $work/log, then stop it.
start_line() {
	: >"$work/log"
	"$vmm" -v --kernel "$kernel" --mem 128M --console none "$@" \
		</dev/null >"$work/log" 2>&1 &
	local pid=$! i
	for i in $(seq 200); do
		grep -q 'VM ready after' "$work/log" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	kill $pid 2>/dev/null
	wait $pid 2>/dev/null
	grep 'VM ready after' "$work/log"
}

cache=$work/cache
export LOOM_CACHE_DIR=$cache

# 1. --cache-kernel: decompress now, print the entry, a vmlinux.
entry=$("$vmm" --cache-kernel --kernel "$kernel" 2>"$work/log")
if [ -f "$entry" ] && [ "$(dirname "$entry")" = "$cache/kernels" ] &&
	head -c 4 "$entry" | grep -q ELF &&
	[ "$(stat -c %a "$cache/kernels")" = 700 ]; then
	pass "cache-kernel-fills ($(stat -c %s "$entry") bytes)"
else
	fail "cache-kernel-fills: entry '$entry'"
fi
again=$("$vmm" --cache-kernel --kernel "$kernel" 2>/dev/null)
[ "$again" = "$entry" ] && pass cache-kernel-again-same-entry ||
	fail "cache-kernel-again-same-entry: '$again'"

# 2. A hit boots the decompressed kernel.
start_line | grep -q 'vmlinux (decompressed copy from the kernel cache)' &&
	pass hit-boots-cached-vmlinux || fail hit-boots-cached-vmlinux

# 3. --no-kernel-cache keeps the bzImage.
line=$(start_line --no-kernel-cache)
echo "$line" | grep -q ': bzImage,' && ! echo "$line" | grep -q 'cache' &&
	pass no-kernel-cache-boots-bzimage || fail no-kernel-cache-boots-bzimage

# 4. A damaged entry is removed and the bzImage boots.
printf 'not a kernel' >"$entry"
start_line | grep -q 'bzImage (bad cache entry removed)' && [ ! -e "$entry" ] &&
	pass bad-entry-removed || fail bad-entry-removed

# 5. A miss boots the bzImage and a background filler makes the entry.
start_line | grep -q 'bzImage (decompressing for the cache in the background)' &&
	pass miss-boots-bzimage || fail miss-boots-bzimage
for _ in $(seq 300); do [ -f "$entry" ] && break; sleep 0.1; done
if [ -f "$entry" ] && [ ! -e "$entry.part" ] && cmp -s "$entry" <("$vmm" --cache-kernel --kernel "$kernel" --kernel-cache "$work/ref" >/dev/null && cat "$work/ref"/*.vmlinux); then
	pass "miss-filler-completes-entry"
else
	fail "miss-filler-completes-entry: $(ls -la "$cache/kernels" 2>&1 | tail -n +2)"
fi

# 6. A cache directory others can write is not used.
chmod 777 "$cache/kernels"
start_line | grep -q 'bzImage (no kernel cache)' && grep -q 'only it can write' "$work/log" &&
	pass group-writable-cache-refused || fail group-writable-cache-refused
chmod 700 "$cache/kernels"

[ $fails -eq 0 ]
