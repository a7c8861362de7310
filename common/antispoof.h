/* SPDX-License-Identifier: MIT */
/* antispoof.h - a guest port's anti-spoofing policy, one implementation for the eBPF program on kernel ports and the built-in switch. */
#ifndef LOOM_COMMON_ANTISPOOF_H
#define LOOM_COMMON_ANTISPOOF_H

/*
 * What libvirt's clean-traffic filter does, for the frames a guest SENDS
 * into a network (docs/architecture.md, "Anti-spoofing"):
 *  - the source MAC must be the port's (declared, or the first unicast
 *    source the port sent: then locked until the port goes down);
 *  - an IPv4 source must be one of the port's addresses (declared, or
 *    its DHCP lease); 0.0.0.0 only towards a DHCP server (port 67);
 *  - ARP: sender MAC the port's, sender IP one of its addresses (or
 *    0.0.0.0, an address probe);
 *  - no DHCP server replies (UDP from port 67, DHCPv6 from 547) unless
 *    allowed, no IPv6 router advertisements unless allowed.
 * IPv6 sources are not checked (link-local and SLAAC addresses are the
 * guest's to pick); a second 802.1Q tag is not looked into.
 *
 * antispoof_check() is compiled twice: by clang -target bpf for the TC
 * program (kernel/bpf/antispoof.bpf.c), which passes skb data pointers,
 * and into the switch (switch/forward.c). So it uses no library call,
 * reads only behind explicit bounds checks of the form the BPF verifier
 * follows, and loops only over constant bounds. A frame too short for a
 * header it claims is ANTISPOOF_SHORT: the eBPF program then pulls more
 * of the frame into its linear part and asks again (most frames need
 * only their first 34 bytes, so nothing is pulled on the hot path); a
 * frame that is really that short passes (the receiving stack drops it).
 */

#ifdef __bpf__
#include <linux/types.h>
typedef __u8 uint8_t;
typedef __u16 uint16_t;
typedef __u32 uint32_t;
typedef __u64 uint64_t;
#else
#include <stdint.h>
#endif

#define ANTISPOOF_IPS_MAX 8

enum antispoof_flags {
	ANTISPOOF_F_ON = 1u << 0,
	ANTISPOOF_F_MAC_SET = 1u << 1, /* @mac holds the port's MAC */
	ANTISPOOF_F_ALLOW_RA = 1u << 2,
	ANTISPOOF_F_ALLOW_DHCP_SERVER = 1u << 3,
};

/* What a frame was dropped for (0: it passes). Counted per port. */
enum antispoof_verdict {
	ANTISPOOF_SHORT = -1, /* a header it claims is not all in [p, end) */
	ANTISPOOF_PASS = 0,
	ANTISPOOF_DROP_SRC_MAC,
	ANTISPOOF_DROP_SRC_IP,
	ANTISPOOF_DROP_ARP,
	ANTISPOOF_DROP_DHCP_SERVER,
	ANTISPOOF_DROP_RA,
	ANTISPOOF_DROP__COUNT
};

/*
 * struct antispoof_policy - one port's policy (the value of the eBPF
 * program's map, keyed by ifindex; a field of a switch port's config).
 * @mac: the port's MAC when ANTISPOOF_F_MAC_SET; otherwise the first
 *       unicast source the port sends is written here (learnt).
 * @ip, @nip: its IPv4 addresses, network order.
 */
struct antispoof_policy {
	uint8_t mac[6];
	uint8_t flags;
	uint8_t nip;
	uint32_t ip[ANTISPOOF_IPS_MAX];
};

/* struct antispoof_counters - frames dropped, by verdict (index 0 unused). */
struct antispoof_counters {
	uint64_t drops[ANTISPOOF_DROP__COUNT];
};

static inline uint16_t antispoof_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t antispoof_raw32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, 4);
	return v;
}

static inline int antispoof_mac_is(const struct antispoof_policy *pol,
				   const uint8_t *m)
{
	return pol->mac[0] == m[0] && pol->mac[1] == m[1] &&
	       pol->mac[2] == m[2] && pol->mac[3] == m[3] &&
	       pol->mac[4] == m[4] && pol->mac[5] == m[5];
}

static inline int antispoof_ip_ok(const struct antispoof_policy *pol,
				  uint32_t ip)
{
	for (int i = 0; i < ANTISPOOF_IPS_MAX; i++) {
		if (i >= pol->nip)
			break;
		if (pol->ip[i] == ip)
			return 1;
	}
	return 0;
}

/*
 * antispoof_check - the verdict on frame [@p, @end) sent by the port of
 * @pol. May write @pol (learns the MAC; asking again is harmless).
 * Return: enum antispoof_verdict.
 */
static inline int antispoof_check(struct antispoof_policy *pol,
				  const uint8_t *p, const uint8_t *end)
{
	const uint8_t *l3;
	uint16_t type;

	if (!(pol->flags & ANTISPOOF_F_ON))
		return ANTISPOOF_PASS;
	if (p + 14 > end)
		return ANTISPOOF_SHORT;
	if (pol->flags & ANTISPOOF_F_MAC_SET) {
		if (!antispoof_mac_is(pol, p + 6))
			return ANTISPOOF_DROP_SRC_MAC;
	} else if (!(p[6] & 1)) {
		__builtin_memcpy(pol->mac, p + 6, 6);
		pol->flags |= ANTISPOOF_F_MAC_SET;
	} else {
		return ANTISPOOF_DROP_SRC_MAC;
	}
	type = antispoof_be16(p + 12);
	l3 = p + 14;
	if (type == 0x8100 || type == 0x88a8) {
		if (p + 18 > end)
			return ANTISPOOF_SHORT;
		type = antispoof_be16(p + 16);
		l3 = p + 18;
	}
	if (type == 0x0806) {
		/* htype, ptype, hlen, plen, oper, sha[6], spa[4], ... */
		if (l3 + 28 > end)
			return ANTISPOOF_SHORT;
		if (antispoof_be16(l3 + 2) != 0x0800 || l3[4] != 6 ||
		    l3[5] != 4)
			return ANTISPOOF_PASS;
		if (!antispoof_mac_is(pol, l3 + 8))
			return ANTISPOOF_DROP_ARP;
		if (antispoof_raw32(l3 + 14) &&
		    !antispoof_ip_ok(pol, antispoof_raw32(l3 + 14)))
			return ANTISPOOF_DROP_ARP;
		return ANTISPOOF_PASS;
	}
	if (type == 0x0800) {
		const uint8_t *l4;
		uint32_t saddr;
		uint32_t ihl;

		if (l3 + 20 > end)
			return ANTISPOOF_SHORT;
		saddr = antispoof_raw32(l3 + 12);
		ihl = (uint32_t)(l3[0] & 0x0f) << 2;
		l4 = l3 + ihl;
		/* UDP, first fragment: its ports decide. */
		if (l3[9] == 17 && ihl >= 20 &&
		    !(antispoof_be16(l3 + 6) & 0x1fff)) {
			if (l4 + 8 > end)
				return ANTISPOOF_SHORT;
			if (antispoof_be16(l4) == 67 &&
			    !(pol->flags & ANTISPOOF_F_ALLOW_DHCP_SERVER))
				return ANTISPOOF_DROP_DHCP_SERVER;
			if (!saddr && antispoof_be16(l4 + 2) == 67)
				return ANTISPOOF_PASS;
		}
		return antispoof_ip_ok(pol, saddr) ? ANTISPOOF_PASS
						    : ANTISPOOF_DROP_SRC_IP;
	}
	if (type == 0x86dd) {
		if (l3 + 48 > end)
			return ANTISPOOF_SHORT;
		/* ICMPv6 router advertisement right after the header. */
		if (l3[6] == 58 && l3[40] == 134 &&
		    !(pol->flags & ANTISPOOF_F_ALLOW_RA))
			return ANTISPOOF_DROP_RA;
		if (l3[6] == 17 && antispoof_be16(l3 + 40) == 547 &&
		    !(pol->flags & ANTISPOOF_F_ALLOW_DHCP_SERVER))
			return ANTISPOOF_DROP_DHCP_SERVER;
	}
	return ANTISPOOF_PASS;
}

#endif
