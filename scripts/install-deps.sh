#!/usr/bin/env bash
# Install, idempotently, every Debian package loom needs to build, test and benchmark.
set -euo pipefail

# Build and unit-test dependencies.
PKGS_BUILD=(
	build-essential clang lld llvm libclang-rt-14-dev pkg-config
	libcmocka-dev libjansson-dev libcyaml-dev libyaml-dev
	libnl-3-dev libnl-route-3-dev libslirp-dev libvdeplug-dev
	libbpf-dev libpcap-dev
)
# Tools the integration, nested and interop tiers drive for real.
PKGS_TEST=(
	iproute2 busybox-static tcpdump tshark iperf3 iputils-ping
	qemu-system-x86 qemu-utils linux-image-amd64 kmod cpio
	netcat-openbsd dnsutils vde2 procps psmisc jq util-linux
)
# Peers the benchmarks measure against.
PKGS_BENCH=(openvswitch-switch slirp4netns passt dnsmasq sockperf)

want=("${PKGS_BUILD[@]}" "${PKGS_TEST[@]}")
[ "${1:-}" = "--bench" ] && want+=("${PKGS_BENCH[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
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
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
