#!/usr/bin/env bash
# Install, idempotently, every Debian package loom needs to build, test and benchmark.
#
#   scripts/install-deps.sh [--bench]
#
# Checks with one dpkg-query call and exits at once when nothing is missing;
# otherwise installs what is (as root, non-interactively). Every tool the
# tests and scripts run comes from a package listed here, even the ones a
# fresh Debian 12 usually has (a minimal image may not): only Priority
# "required" packages (coreutils, util-linux, grep, sed, mawk, gzip, ...)
# are assumed.
set -euo pipefail

# Build and unit-test dependencies (binutils: also readelf, objcopy).
PKGS_BUILD=(
	build-essential binutils clang lld llvm libclang-rt-14-dev pkg-config
	libcmocka-dev libjansson-dev libcyaml-dev libyaml-dev
	libnl-3-dev libnl-route-3-dev libslirp-dev libvdeplug-dev
	libbpf-dev bpftool libnftables-dev libpcap-dev liburing-dev
	liblzma-dev libzstd-dev zlib1g-dev
)
# Tools the integration, nested and interop tiers drive for real:
# python3 (netns control clients), ethtool (offload checks), e2fsprogs
# (mkfs.ext4, debugfs, e2fsck for the VMM's disk), xz-utils (the nested
# harness unpacks the kernel), file (checks busybox is static), netcat
# (control sockets), jq (JSON from the client), nftables (nft: the kernel
# NAT tests read netd's tables), arping (ARP with a spoofed sender).
PKGS_TEST=(
	iproute2 busybox-static tcpdump tshark iperf3 iputils-ping ethtool
	qemu-system-x86 qemu-utils linux-image-amd64 kmod cpio xz-utils file
	e2fsprogs netcat-openbsd dnsutils vde2 vdeplug procps psmisc jq util-linux
	isc-dhcp-client dnsmasq-base nftables arping
	python3
)
# Peers the benchmarks measure against (and git, which stamps the results).
PKGS_BENCH=(openvswitch-switch slirp4netns passt dnsmasq sockperf git kea-admin
	dnsperf)

want=("${PKGS_BUILD[@]}" "${PKGS_TEST[@]}")
[ "${1:-}" = "--bench" ] && want+=("${PKGS_BENCH[@]}")

# One query for all: "name status" for those dpkg knows (architecture
# qualifiers dropped); the others are missing.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null |
	awk '$NF == "installed" && $(NF-1) == "ok" { sub(/:.*/, "", $1); print $1 }') || true
missing=()
for p in "${want[@]}"; do
	grep -qxF "$p" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root: sudo $0 $*" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, never prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
# A fresh machine may be running its first apt jobs: wait for the lock.
apt_opts=(-q -o DPkg::Lock::Timeout=600)
apt-get "${apt_opts[@]}" update
apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" </dev/null
