/* SPDX-License-Identifier: MIT */
/* ipframe.c - Ethernet/IPv4/IPv6/UDP headers: bounds-checked parsing, in-place building. */
#include "services/ipframe.h"

#include <errno.h>
#include <string.h>

#include "common/csum.h"

static int parse_ip4(const struct pkt_view *f, struct ip_view *v)
{
	uint8_t vihl, proto = 0, ttl = 0; /* tot was checked: never left 0 */
	uint16_t tot, frag;
	size_t ihl;

	if (pkt_u8(f, ETH_HDR_LEN, &vihl) || (vihl >> 4) != 4)
		return -EBADMSG;
	ihl = (size_t)(vihl & 0xf) * 4;
	if (ihl < IP4_HDR_LEN || !pkt_get(f, ETH_HDR_LEN, ihl))
		return -EBADMSG;
	if (pkt_be16(f, ETH_HDR_LEN + 2, &tot) || tot < ihl ||
	    !pkt_get(f, ETH_HDR_LEN, tot))
		return -EBADMSG;
	pkt_be16(f, ETH_HDR_LEN + 6, &frag);
	if (frag & 0x3fff) /* MF or an offset: a fragment */
		return -ENOENT;
	pkt_u8(f, ETH_HDR_LEN + 8, &ttl);
	pkt_u8(f, ETH_HDR_LEN + 9, &proto);
	pkt_be32(f, ETH_HDR_LEN + 12, &v->src4);
	pkt_be32(f, ETH_HDR_LEN + 16, &v->dst4);
	v->v6 = false;
	v->ttl = ttl;
	v->proto = proto;
	v->l4.data = f->data + ETH_HDR_LEN + ihl;
	v->l4.len = tot - ihl;
	return 0;
}

static int parse_ip6(const struct pkt_view *f, struct ip_view *v)
{
	uint8_t ver, nh, hops;
	uint16_t plen;

	if (pkt_u8(f, ETH_HDR_LEN, &ver) || (ver >> 4) != 6)
		return -EBADMSG;
	if (pkt_be16(f, ETH_HDR_LEN + 4, &plen) ||
	    !pkt_get(f, ETH_HDR_LEN + IP6_HDR_LEN, plen))
		return -EBADMSG;
	pkt_u8(f, ETH_HDR_LEN + 6, &nh);
	pkt_u8(f, ETH_HDR_LEN + 7, &hops);
	pkt_read(f, ETH_HDR_LEN + 8, v->src6, 16);
	pkt_read(f, ETH_HDR_LEN + 24, v->dst6, 16);
	if (nh != IPPROTO_UDP_ && nh != IPPROTO_ICMPV6_)
		return -ENOENT; /* extension headers, TCP, ...: not ours */
	v->v6 = true;
	v->ttl = hops;
	v->proto = nh;
	v->l4.data = f->data + ETH_HDR_LEN + IP6_HDR_LEN;
	v->l4.len = plen;
	return 0;
}

int ipframe_parse(const struct pkt_view *frame, struct ip_view *v)
{
	memset(v, 0, sizeof(*v));
	if (pkt_read(frame, 0, v->dst_mac, 6) ||
	    pkt_read(frame, 6, v->src_mac, 6) ||
	    pkt_be16(frame, 12, &v->ethertype))
		return -EBADMSG;
	if (v->ethertype == ETHERTYPE_IPV4)
		return parse_ip4(frame, v);
	if (v->ethertype == ETHERTYPE_IPV6)
		return parse_ip6(frame, v);
	return -ENOENT;
}

int ipframe_parse_udp(const struct ip_view *v, struct udp_view *u)
{
	uint16_t ulen;

	if (pkt_be16(&v->l4, 0, &u->sport) || pkt_be16(&v->l4, 2, &u->dport) ||
	    pkt_be16(&v->l4, 4, &ulen))
		return -EBADMSG;
	/* IPv6 jumbograms (length 0) do not reach a service. */
	if (ulen < UDP_HDR_LEN || ulen > v->l4.len)
		return -EBADMSG;
	u->payload.data = v->l4.data + UDP_HDR_LEN;
	u->payload.len = ulen - UDP_HDR_LEN;
	return 0;
}

uint32_t ipframe_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	return csum_add(sum, p, len); /* eight bytes at a time */
}

uint16_t ipframe_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6],
		    uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = (uint8_t)(type >> 8);
	p[13] = (uint8_t)type;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

int ipframe_udp4_finish(struct pkt_buf *b, const uint8_t dst_mac[6],
			const uint8_t src_mac[6], uint32_t src, uint32_t dst,
			uint16_t sport, uint16_t dport, size_t len)
{
	size_t total = UDP4_PAYLOAD_OFF + len;
	uint8_t *p = pkt_put(b, 0, total), *ip, *udp;
	uint32_t sum;

	if (!p || len > 65535 - IP4_HDR_LEN - UDP_HDR_LEN)
		return -EMSGSIZE;
	put_eth(p, dst_mac, src_mac, ETHERTYPE_IPV4);
	ip = p + ETH_HDR_LEN;
	memset(ip, 0, IP4_HDR_LEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP4_HDR_LEN + UDP_HDR_LEN + len));
	ip[8] = 64;
	ip[9] = IPPROTO_UDP_;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, ipframe_csum_fold(ipframe_csum_add(0, ip, IP4_HDR_LEN)));
	udp = ip + IP4_HDR_LEN;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(UDP_HDR_LEN + len));
	put16(udp + 6, 0);
	sum = ipframe_csum_add(0, ip + 12, 8);
	sum += IPPROTO_UDP_ + UDP_HDR_LEN + (uint32_t)len;
	sum = ipframe_csum_add(sum, udp, UDP_HDR_LEN + len);
	sum = ipframe_csum_fold(sum);
	put16(udp + 6, sum ? (uint16_t)sum : 0xffff);
	return (int)total;
}

static uint32_t pseudo6(const uint8_t src[16], const uint8_t dst[16],
			uint8_t proto, size_t len)
{
	uint32_t sum = ipframe_csum_add(0, src, 16);

	sum = ipframe_csum_add(sum, dst, 16);
	return sum + (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + proto;
}

int ipframe_ip6_finish(struct pkt_buf *b, const uint8_t dst_mac[6],
		       const uint8_t src_mac[6], const uint8_t src[16],
		       const uint8_t dst[16], uint8_t proto, uint8_t hops,
		       size_t len)
{
	size_t total = ETH_HDR_LEN + IP6_HDR_LEN + len;
	uint8_t *p = pkt_put(b, 0, total), *ip, *l4;

	if (!p || len > 65535)
		return -EMSGSIZE;
	put_eth(p, dst_mac, src_mac, ETHERTYPE_IPV6);
	ip = p + ETH_HDR_LEN;
	memset(ip, 0, 8);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)len);
	ip[6] = proto;
	ip[7] = hops;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	l4 = ip + IP6_HDR_LEN;
	if (proto == IPPROTO_ICMPV6_ && len >= 4) {
		put16(l4 + 2, 0);
		put16(l4 + 2,
		      ipframe_csum_fold(ipframe_csum_add(
			      pseudo6(src, dst, proto, len), l4, len)));
	}
	return (int)total;
}

int ipframe_udp6_finish(struct pkt_buf *b, const uint8_t dst_mac[6],
			const uint8_t src_mac[6], const uint8_t src[16],
			const uint8_t dst[16], uint16_t sport, uint16_t dport,
			size_t len)
{
	size_t ulen = UDP_HDR_LEN + len;
	uint8_t *udp = pkt_put(b, ETH_HDR_LEN + IP6_HDR_LEN, ulen);
	uint16_t sum;

	if (!udp || ulen > 65535)
		return -EMSGSIZE;
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)ulen);
	put16(udp + 6, 0);
	sum = ipframe_csum_fold(ipframe_csum_add(
		pseudo6(src, dst, IPPROTO_UDP_, ulen), udp, ulen));
	put16(udp + 6, sum ? sum : 0xffff);
	return ipframe_ip6_finish(b, dst_mac, src_mac, src, dst, IPPROTO_UDP_,
				  255, ulen);
}

int ipframe_csum_complete(uint8_t *frame, size_t len, size_t start,
			  size_t offset)
{
	uint32_t sum;

	if (start > len || offset > len - start || len - start - offset < 2)
		return -EBADMSG;
	/* The field holds the pseudo-header sum already (virtio semantics). */
	sum = ipframe_csum_add(0, frame + start, len - start);
	put16(frame + start + offset, ipframe_csum_fold(sum));
	return 0;
}
