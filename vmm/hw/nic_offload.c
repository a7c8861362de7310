// SPDX-License-Identifier: MIT
/* nic_offload.c - checksums and TCP segmentation done inside an emulated NIC model. */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "vmm/hw/nic_host.h"
#include "vmm/hw/nic_offload.h"

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	IPPROTO_TCP_ = 6,
	IPPROTO_UDP_ = 17,
	IPV6_HLEN = 40,
	TCP_HLEN_MIN = 20,
	UDP_HLEN = 8,
	TCP_FLAG_FIN = 0x01,
	TCP_FLAG_PSH = 0x08,
};

uint32_t nic_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

uint16_t nic_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int nic_csum_insert(uint8_t *frame, size_t len, size_t start, size_t end,
		    size_t field)
{
	uint16_t c;

	if (end > len)
		end = len;
	if (start >= end || field > len || len - field < 2)
		return -EINVAL;
	c = nic_csum_fold(nic_csum_add(0, frame + start, end - start));
	nic_put_be16(frame + field, c);
	return 0;
}

int nic_parse_l3l4(const uint8_t *frame, size_t len, uint16_t vlan_tpid,
		   struct nic_l3l4 *out)
{
	size_t off = 12;
	uint16_t type;

	memset(out, 0, sizeof(*out));
	if (len < NIC_ETH_HLEN)
		return -EINVAL;
	type = nic_get_be16(frame + off);
	if (type == vlan_tpid) {
		if (len < NIC_ETH_HLEN + NIC_VLAN_HLEN)
			return -EINVAL;
		off += NIC_VLAN_HLEN;
		type = nic_get_be16(frame + off);
	}
	off += 2;
	out->ip_off = off;
	if (type == ETHERTYPE_IPV4) {
		size_t ihl, tot;
		uint16_t frag;

		if (len - off < 20 || (frame[off] >> 4) != 4)
			return -EINVAL;
		ihl = (size_t)(frame[off] & 0xf) * 4;
		tot = nic_get_be16(frame + off + 2);
		if (ihl < 20 || tot < ihl || tot > len - off)
			return -EINVAL;
		frag = nic_get_be16(frame + off + 6);
		out->ipv4 = true;
		out->proto = frame[off + 9];
		out->fragment = (frag & 0x3fff) != 0;
		out->l4_off = off + ihl;
		out->l4_end = off + tot;
	} else if (type == ETHERTYPE_IPV6) {
		size_t plen;

		if (len - off < IPV6_HLEN || (frame[off] >> 4) != 6)
			return -EINVAL;
		plen = nic_get_be16(frame + off + 4);
		if (plen > len - off - IPV6_HLEN)
			return -EINVAL;
		/* Extension headers are not walked: only TCP/UDP directly. */
		out->proto = frame[off + 6];
		out->l4_off = off + IPV6_HLEN;
		out->l4_end = out->l4_off + plen;
	} else {
		return -EINVAL;
	}
	out->hdr_len = out->l4_off;
	if (out->proto == IPPROTO_TCP_ && !out->fragment) {
		size_t doff;

		if (out->l4_end - out->l4_off < TCP_HLEN_MIN)
			return -EINVAL;
		doff = (size_t)(frame[out->l4_off + 12] >> 4) * 4;
		if (doff < TCP_HLEN_MIN || doff > out->l4_end - out->l4_off)
			return -EINVAL;
		out->hdr_len = out->l4_off + doff;
	} else if (out->proto == IPPROTO_UDP_ && !out->fragment) {
		if (out->l4_end - out->l4_off < UDP_HLEN)
			return -EINVAL;
		out->hdr_len = out->l4_off + UDP_HLEN;
	}
	return 0;
}

/* Pseudo-header sum: addresses, protocol and L4 length. */
static uint32_t pseudo_sum(const uint8_t *frame, size_t ip_off, bool ipv4,
			   uint8_t proto, size_t l4_len)
{
	uint32_t s;

	if (ipv4)
		s = nic_csum_add(0, frame + ip_off + 12, 8);
	else
		s = nic_csum_add(0, frame + ip_off + 8, 32);
	s += proto;
	s += (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
	return s;
}

int nic_csum_l4_full(uint8_t *frame, const struct nic_l3l4 *h)
{
	size_t field, l4_len = h->l4_end - h->l4_off;
	uint32_t s;
	uint16_t c;

	if (h->fragment)
		return -EINVAL;
	if (h->proto == IPPROTO_TCP_ && l4_len >= TCP_HLEN_MIN)
		field = h->l4_off + 16;
	else if (h->proto == IPPROTO_UDP_ && l4_len >= UDP_HLEN)
		field = h->l4_off + 6;
	else
		return -EINVAL;
	nic_put_be16(frame + field, 0);
	s = pseudo_sum(frame, h->ip_off, h->ipv4, h->proto, l4_len);
	c = nic_csum_fold(nic_csum_add(s, frame + h->l4_off, l4_len));
	if (h->proto == IPPROTO_UDP_ && c == 0)
		c = 0xffff;
	nic_put_be16(frame + field, c);
	return 0;
}

int nic_csum_ip4_header(uint8_t *frame, const struct nic_l3l4 *h)
{
	if (!h->ipv4)
		return -EINVAL;
	nic_put_be16(frame + h->ip_off + 10, 0);
	nic_put_be16(frame + h->ip_off + 10,
		     nic_csum_fold(nic_csum_add(0, frame + h->ip_off,
						h->l4_off - h->ip_off)));
	return 0;
}

unsigned int nic_rx_csum_check(const uint8_t *frame, size_t len,
			       uint16_t vlan_tpid)
{
	struct nic_l3l4 h;
	unsigned int r = 0;
	size_t l4_len;
	uint32_t s;

	if (nic_parse_l3l4(frame, len, vlan_tpid, &h))
		return 0;
	if (h.ipv4) {
		r |= NIC_RX_IP_CHECKED;
		if (nic_csum_fold(nic_csum_add(0, frame + h.ip_off,
					       h.l4_off - h.ip_off)))
			r |= NIC_RX_IP_BAD;
	}
	if (h.fragment || h.hdr_len == h.l4_off)
		return r;
	l4_len = h.l4_end - h.l4_off;
	if (h.proto == IPPROTO_UDP_) {
		r |= NIC_RX_UDP;
		/* IPv4 UDP without a checksum: nothing to check. */
		if (h.ipv4 && nic_get_be16(frame + h.l4_off + 6) == 0)
			return r;
	} else {
		r |= NIC_RX_TCP;
	}
	r |= NIC_RX_L4_CHECKED;
	s = pseudo_sum(frame, h.ip_off, h.ipv4, h.proto, l4_len);
	if (nic_csum_fold(nic_csum_add(s, frame + h.l4_off, l4_len)))
		r |= NIC_RX_L4_BAD;
	return r;
}

int nic_tso_check(const struct nic_tso *t, size_t len, size_t seg_max)
{
	size_t ip_min = t->ipv4 ? 20 : IPV6_HLEN;
	size_t l4_min = t->tcp ? TCP_HLEN_MIN : UDP_HLEN;

	if (!t->mss || t->hdr_len > len || t->hdr_len > NIC_TSO_HDR_MAX)
		return -EINVAL;
	if (t->ip_off < NIC_ETH_HLEN || t->l4_off < t->ip_off ||
	    t->l4_off - t->ip_off < ip_min || t->l4_off > t->hdr_len ||
	    t->hdr_len - t->l4_off < l4_min)
		return -EINVAL;
	if (t->hdr_len > seg_max || t->mss > seg_max - t->hdr_len)
		return -EINVAL;
	if (t->ip_csum && (!t->ipv4 || t->ip_csum_end <= t->ip_off ||
			   t->ip_csum_end > t->hdr_len ||
			   t->ip_csum_field < t->ip_off ||
			   t->ip_csum_field + 2 > t->hdr_len))
		return -EINVAL;
	if (t->l4_csum && (t->l4_csum_field < t->l4_off ||
			   t->l4_csum_field + 2 > t->hdr_len))
		return -EINVAL;
	return 0;
}

/* Header fields and checksums of one segment of @seg_len bytes. */
static void tso_fix_segment(const struct nic_tso *t, uint8_t *seg,
			    size_t seg_len, unsigned int index,
			    size_t payload_off, bool last)
{
	size_t l4_len = seg_len - t->l4_off;
	uint32_t s;
	uint16_t c;

	if (t->ipv4) {
		nic_put_be16(seg + t->ip_off + 2, (uint16_t)(seg_len - t->ip_off));
		nic_put_be16(seg + t->ip_off + 4,
			     (uint16_t)(nic_get_be16(seg + t->ip_off + 4) + index));
	} else {
		nic_put_be16(seg + t->ip_off + 4,
			     (uint16_t)(seg_len - t->ip_off - IPV6_HLEN));
	}
	if (t->tcp) {
		nic_put_be32(seg + t->l4_off + 4,
			     nic_get_be32(seg + t->l4_off + 4) +
			     (uint32_t)payload_off);
		if (!last)
			seg[t->l4_off + 13] &= (uint8_t)~(TCP_FLAG_FIN |
							  TCP_FLAG_PSH);
	} else {
		nic_put_be16(seg + t->l4_off + 4, (uint16_t)l4_len);
	}
	if (t->ip_csum) {
		nic_put_be16(seg + t->ip_csum_field, 0);
		c = nic_csum_fold(nic_csum_add(0, seg + t->ip_off,
					       t->ip_csum_end - t->ip_off));
		nic_put_be16(seg + t->ip_csum_field, c);
	}
	if (t->l4_csum) {
		if (t->l4_csum_full) {
			nic_put_be16(seg + t->l4_csum_field, 0);
			s = pseudo_sum(seg, t->ip_off, t->ipv4,
				       t->tcp ? IPPROTO_TCP_ : IPPROTO_UDP_,
				       l4_len);
		} else {
			s = (uint32_t)(l4_len >> 16) + (uint32_t)(l4_len & 0xffff);
		}
		c = nic_csum_fold(nic_csum_add(s, seg + t->l4_off, l4_len));
		if (!t->tcp && c == 0)
			c = 0xffff;
		nic_put_be16(seg + t->l4_csum_field, c);
	}
}

int nic_tso_segment(const struct nic_tso *t, const uint8_t *frame, size_t len,
		    uint8_t *seg, size_t seg_max, nic_emit_fn emit, void *arg)
{
	size_t payload, off = 0, n;
	unsigned int index = 0;

	if (nic_tso_check(t, len, seg_max))
		return -EINVAL;
	payload = len - t->hdr_len;
	do {
		n = payload - off;
		if (n > t->mss)
			n = t->mss;
		memcpy(seg, frame, t->hdr_len);
		memcpy(seg + t->hdr_len, frame + t->hdr_len + off, n);
		tso_fix_segment(t, seg, t->hdr_len + n, index, off,
				off + n == payload);
		emit(arg, seg, t->hdr_len + n);
		off += n;
		index++;
	} while (off < payload);
	return (int)index;
}
