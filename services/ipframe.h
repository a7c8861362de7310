/* SPDX-License-Identifier: MIT */
/* ipframe.h - Ethernet/IPv4/IPv6/UDP headers for the gateway services: parse through pkt.h, build in place. */
#ifndef LOOM_SERVICES_IPFRAME_H
#define LOOM_SERVICES_IPFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/pkt.h"

enum {
	ETH_HDR_LEN = 14,
	IP4_HDR_LEN = 20, /* what we build: no options */
	IP6_HDR_LEN = 40,
	UDP_HDR_LEN = 8,
	/* Offset of a UDP payload in a frame we build (IPv4 / IPv6). */
	UDP4_PAYLOAD_OFF = ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN,
	UDP6_PAYLOAD_OFF = ETH_HDR_LEN + IP6_HDR_LEN + UDP_HDR_LEN,
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_ARP = 0x0806,
	ETHERTYPE_IPV6 = 0x86dd,
	IPPROTO_ICMP_ = 1,
	IPPROTO_UDP_ = 17,
	IPPROTO_ICMPV6_ = 58,
};

/*
 * struct ip_view - a parsed Ethernet + IPv4/IPv6 frame. All fields are
 * copies; @l4 views the transport header and payload (bounded by the IP
 * length, not the frame length, so Ethernet padding is not payload).
 * Addresses: @src4/@dst4 host order (IPv4); @src6/@dst6 (IPv6).
 */
struct ip_view {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint16_t ethertype;
	bool v6;
	uint8_t proto; /* IPv4 protocol / IPv6 next header (no ext headers) */
	uint8_t ttl;
	uint32_t src4, dst4;
	uint8_t src6[16], dst6[16];
	struct pkt_view l4;
};

/*
 * struct udp_view - a UDP datagram inside an ip_view.
 * @payload: the datagram's data, bounded by the UDP length
 */
struct udp_view {
	uint16_t sport, dport;
	struct pkt_view payload;
};

/*
 * ipframe_parse - read the Ethernet and IP headers of @frame (untagged).
 * Fragments (IPv4 MF/offset, IPv6 fragment header) and IPv6 extension
 * headers are reported as not IP: no service here takes them.
 * Return: 0, -ENOENT (not IPv4/IPv6: ARP and the rest; @v->ethertype set),
 * -EBADMSG (truncated or inconsistent headers).
 */
int ipframe_parse(const struct pkt_view *frame, struct ip_view *v);

/* ipframe_parse_udp - the UDP header of @v. Return: 0 or -EBADMSG. */
int ipframe_parse_udp(const struct ip_view *v, struct udp_view *u);

/* ipframe_csum_add - add @len bytes to a ones'-complement running sum. */
uint32_t ipframe_csum_add(uint32_t sum, const uint8_t *p, size_t len);
/* ipframe_csum_fold - the final 16-bit checksum of @sum. */
uint16_t ipframe_csum_fold(uint32_t sum);

/*
 * ipframe_udp4_finish - write the Ethernet, IPv4 and UDP headers in front of
 * a payload of @len bytes already at @b->data + UDP4_PAYLOAD_OFF.
 * Return: the frame length, or -EMSGSIZE when it does not fit @b.
 */
int ipframe_udp4_finish(struct pkt_buf *b, const uint8_t dst_mac[6],
			const uint8_t src_mac[6], uint32_t src, uint32_t dst,
			uint16_t sport, uint16_t dport, size_t len);

/* ipframe_udp6_finish - the same over IPv6 (hop limit 255). */
int ipframe_udp6_finish(struct pkt_buf *b, const uint8_t dst_mac[6],
			const uint8_t src_mac[6], const uint8_t src[16],
			const uint8_t dst[16], uint16_t sport, uint16_t dport,
			size_t len);

/*
 * ipframe_ip6_finish - Ethernet + IPv6 header in front of an upper-layer
 * message of @len bytes at ETH_HDR_LEN + IP6_HDR_LEN; for ICMPv6 (@proto
 * 58) the checksum at offset 2 of the message is computed.
 * Return: the frame length, or -EMSGSIZE.
 */
int ipframe_ip6_finish(struct pkt_buf *b, const uint8_t dst_mac[6],
		       const uint8_t src_mac[6], const uint8_t src[16],
		       const uint8_t dst[16], uint8_t proto, uint8_t hops,
		       size_t len);

/*
 * ipframe_csum_complete - fill in a partial checksum (virtio NEEDS_CSUM):
 * the ones'-complement sum of [@start, end) stored at @start + @offset.
 * Return: 0, or -EBADMSG when the offsets do not lie inside the frame.
 */
int ipframe_csum_complete(uint8_t *frame, size_t len, size_t start,
			  size_t offset);

/* ipframe_mac_is_bcast / ipframe_mac_is_mcast - group addresses. */
static inline bool ipframe_mac_is_mcast(const uint8_t mac[6])
{
	return mac[0] & 1;
}

#endif
