#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kernel-bridge.sh - batch case: mode bridge with VLANs, where the kernel's bridge filters them (the nested L1's does; this host's cannot).
#
# tests/netns/netd-bridge.sh runs on the host too, but there (no
# CONFIG_BRIDGE_VLAN_FILTERING) only its untagged half: here, inside L1,
# LOOM_REQUIRE_BRIDGE_VLANS=1 makes a missing VLAN filter a failure, so
# access/trunk/native entries and VLAN isolation are always checked.
set -u
cd "$(dirname "$0")/../../.." || exit 1
if [ "${LOOM_IN_L1:-}" = 1 ]; then
	export LOOM_REQUIRE_BRIDGE_VLANS=1
	# L1's devtmpfs has /dev/net/tun only once tun is loaded.
	# cls_bpf and sch_ingress: the anti-spoofing filter on the ports.
	modprobe -a tun bridge veth 8021q macvtap cls_bpf sch_ingress 2>&1 || true
fi
exec bash tests/netns/netd-bridge.sh
