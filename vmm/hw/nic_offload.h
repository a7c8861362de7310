/* SPDX-License-Identifier: MIT */
/* nic_offload.h - checksums and TCP segmentation done inside an emulated NIC model. */
#ifndef LOOM_VMM_HW_NIC_OFFLOAD_H
#define LOOM_VMM_HW_NIC_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The switch carries frames whole to ports that take no GSO, so a NIC model
 * whose guest asks for TCP segmentation or checksum insertion does that work
 * itself, as the real chip would, before the frame leaves the model. All of
 * it runs on frame bytes the guest wrote: every offset below is checked
 * against the frame length before it is used, and nothing is trusted from a
 * header (IHL, data offset, total length) without that check.
 */

enum {
	NIC_TSO_HDR_MAX = 256,	/* longest header a segment repeats */
	NIC_ETH_HLEN = 14,
	NIC_VLAN_HLEN = 4,
};

/* Host byte order helpers for frame bytes (network order on the wire). */
static inline uint16_t nic_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t nic_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void nic_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void nic_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/**
 * nic_csum_add() - add bytes to a ones' complement sum (RFC 1071).
 * @sum: running sum (32-bit accumulator, not yet folded).
 * @p: bytes, taken as big-endian 16-bit words; an odd last byte is padded.
 * @len: count. Only the last chunk of a chained sum may be odd.
 *
 * Return: the new running sum.
 */
uint32_t nic_csum_add(uint32_t sum, const uint8_t *p, size_t len);

/**
 * nic_csum_fold() - fold a running sum to 16 bits and complement it.
 * @sum: running sum.
 *
 * Return: the checksum to store (big-endian value).
 */
uint16_t nic_csum_fold(uint32_t sum);

/**
 * nic_csum_insert() - checksum a byte range of a frame into a field of it.
 * @frame: the frame.
 * @len: its length.
 * @start: first byte summed.
 * @end: one past the last byte summed (clamped to @len).
 * @field: offset of the 16-bit field the result goes to.
 *
 * The field keeps what it holds while summing (a driver puts the partial
 * pseudo-header sum there), as the e1000 checksum engine and virtio's
 * NEEDS_CSUM do.
 *
 * Return: 0, or -EINVAL (range or field outside the frame; nothing written).
 */
int nic_csum_insert(uint8_t *frame, size_t len, size_t start, size_t end,
		    size_t field);

/**
 * struct nic_l3l4 - where the IP and TCP/UDP headers of a frame are.
 * @ip_off: offset of the IP header.
 * @l4_off: offset of the TCP/UDP header (IPv4: after options).
 * @l4_end: end of the L4 payload the IP header states (<= frame length).
 * @ipv4: IPv4, else IPv6.
 * @proto: IP protocol (6 TCP, 17 UDP, else neither).
 * @fragment: a non-first or more-fragments IPv4 fragment (no L4 checksum).
 * @hdr_len: for TCP: @l4_off plus the TCP header length.
 */
struct nic_l3l4 {
	size_t ip_off, l4_off, l4_end, hdr_len;
	bool ipv4;
	uint8_t proto;
	bool fragment;
};

/**
 * nic_parse_l3l4() - find the IP and TCP/UDP headers of an Ethernet frame.
 * @frame: the frame (may carry one 802.1Q tag).
 * @len: its length.
 * @vlan_tpid: the TPID a tag is recognised by (0x8100).
 * @out: filled on success.
 *
 * Checks IHL >= 5, the IP header and the TCP header (data offset >= 5)
 * inside the frame, and the IP total/payload length inside the frame.
 *
 * Return: 0, or -EINVAL (not IPv4/IPv6, or a header that does not fit).
 */
int nic_parse_l3l4(const uint8_t *frame, size_t len, uint16_t vlan_tpid,
		   struct nic_l3l4 *out);

/**
 * nic_csum_l4_full() - compute an IPv4/IPv6 TCP or UDP checksum from
 * scratch (pseudo-header from the addresses), as the RTL8139C+ does.
 * @frame: the frame.
 * @h: its parsed headers (nic_parse_l3l4()).
 *
 * Return: 0, or -EINVAL (not TCP/UDP, or a fragment).
 */
int nic_csum_l4_full(uint8_t *frame, const struct nic_l3l4 *h);

/**
 * nic_csum_ip4_header() - compute the IPv4 header checksum in place.
 * @frame: the frame.
 * @h: its parsed headers.
 *
 * Return: 0, or -EINVAL (not IPv4).
 */
int nic_csum_ip4_header(uint8_t *frame, const struct nic_l3l4 *h);

/**
 * enum nic_rx_csum - what a receive-side checksum check found.
 */
enum nic_rx_csum {
	NIC_RX_IP_CHECKED = 1,	/* IPv4 header checksum was checked */
	NIC_RX_IP_BAD = 2,
	NIC_RX_L4_CHECKED = 4,	/* TCP or UDP checksum was checked */
	NIC_RX_L4_BAD = 8,
	NIC_RX_TCP = 16,
	NIC_RX_UDP = 32,
};

/**
 * nic_rx_csum_check() - verify the IPv4 header and TCP/UDP checksums.
 * @frame: the frame.
 * @len: its length.
 * @vlan_tpid: TPID of a tag.
 *
 * Return: a mask of enum nic_rx_csum (0: not IP, or not checkable).
 */
unsigned int nic_rx_csum_check(const uint8_t *frame, size_t len,
			       uint16_t vlan_tpid);

/**
 * struct nic_tso - how to cut one large TCP (or UDP) frame into segments.
 * @hdr_len: header bytes repeated in every segment (Ethernet to L4).
 * @mss: payload bytes per segment (> 0).
 * @ip_off: start of the IP header.
 * @l4_off: start of the TCP/UDP header.
 * @ipv4: IPv4 (total length, ID per segment), else IPv6 (payload length).
 * @tcp: TCP (sequence number, FIN/PSH only on the last), else UDP (length).
 * @ip_csum: compute the IPv4 header checksum over [@ip_off, @ip_csum_end)
 *	into @ip_csum_field (field zeroed first).
 * @l4_csum: compute the TCP/UDP checksum into @l4_csum_field.
 * @l4_csum_full: take the pseudo-header from the addresses (RTL8139C+);
 *	else the field holds the partial pseudo-header sum without length
 *	and the segment's L4 length is added (e1000).
 */
struct nic_tso {
	size_t hdr_len;
	unsigned int mss;
	size_t ip_off, l4_off;
	bool ipv4, tcp;
	bool ip_csum, l4_csum, l4_csum_full;
	size_t ip_csum_end, ip_csum_field, l4_csum_field;
};

/**
 * nic_tso_check() - validate segmentation parameters against a frame.
 * @t: the parameters.
 * @len: the frame length.
 * @seg_max: the largest segment the caller can emit.
 *
 * Return: 0, or -EINVAL (MSS 0, header beyond the frame or NIC_TSO_HDR_MAX,
 * headers overlapping wrongly, fields outside the header, a segment larger
 * than @seg_max).
 */
int nic_tso_check(const struct nic_tso *t, size_t len, size_t seg_max);

/* @frame may be changed in place; it has NIC_VLAN_HLEN spare bytes at its end. */
typedef void (*nic_emit_fn)(void *arg, uint8_t *frame, size_t len);

/**
 * nic_tso_segment() - cut a frame into segments and emit each.
 * @t: parameters, checked with nic_tso_check() by this call.
 * @frame: the large frame (header + payload).
 * @len: its length.
 * @seg: scratch of @seg_max + NIC_VLAN_HLEN bytes for one segment.
 * @seg_max: its size.
 * @emit: called once per segment, in order.
 * @arg: for @emit.
 *
 * A frame with no payload gives one segment (its header, fixed up).
 * At most ceil(payload / mss) segments: the loop is bounded by @len.
 *
 * Return: number of segments emitted, or -EINVAL (nothing emitted).
 */
int nic_tso_segment(const struct nic_tso *t, const uint8_t *frame, size_t len,
		    uint8_t *seg, size_t seg_max, nic_emit_fn emit, void *arg);

#endif
