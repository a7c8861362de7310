#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# virtio-net.sh - `make bench`: two virtio-net devices through a private loom-netd's switch (build/tests/bench/bench_virtio_net), then two of each emulated NIC (bench_nics --fabric), BENCH lines.
set -u
cd "$(dirname "$0")/../.." || exit 1
bench=build/tests/bench/bench_virtio_net
for b in "$bench" build/loom-netd build/loom; do
	[ -x "$b" ] || { echo "$b not built (make)"; exit 77; }
done
work=$(mktemp -d /tmp/loom-bench-vnet.XXXXXX) || exit 1
export LOOM_RUN_DIR=$work/run
mkdir -p "$work/run" "$work/state"
build/loom-netd --run-dir "$work/run" --state-dir "$work/state" \
	>"$work/netd.log" 2>&1 &
netd=$!
trap 'kill $netd 2>/dev/null; wait $netd 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
	build/loom status >/dev/null 2>&1 && break
	sleep 0.1
done
build/loom net create bench --mode switch >/dev/null || {
	echo "loom net create failed: $(tail -n 3 "$work/netd.log")"
	exit 1
}
"$bench" "$work/run/netd.sock" bench && build/loom port list bench >&2
# e1000, 8139too and C+ pairs the same way (bench_nics --fabric).
if [ -x build/tests/bench/bench_nics ]; then
	build/tests/bench/bench_nics --fabric "$work/run/netd.sock" bench
else
	echo "build/tests/bench/bench_nics not built: no nic.fabric figures" >&2
fi
# The same devices on a bridge network (netd's TAPs, the kernel's bridge):
# virtio-net's userspace TAP path, as where /dev/vhost-net is missing.
if [ "$(id -u)" = 0 ] && build/loom net create bbench --mode bridge \
	--bridge "lbb$$" >/dev/null 2>&1; then
	echo "--- bridge network, backend tap (userspace TAP I/O)"
	BENCH_BACKEND=tap BENCH_PATH=bridge-tap "$bench" "$work/run/netd.sock" bbench
	build/loom net delete bbench >/dev/null 2>&1
fi
