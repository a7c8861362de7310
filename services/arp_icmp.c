/* SPDX-License-Identifier: MIT */
/* arp_icmp.c - the gateway host's own answers: ARP, ICMP echo, NDP, router advertisements, ICMPv6 echo. */
#include "services/arp_icmp.h"

#include <errno.h>
#include <string.h>

enum {
	ARP_LEN = 28,
	ARP_OP_REQUEST = 1,
	ARP_OP_REPLY = 2,
	ICMP_ECHO_REPLY = 0,
	ICMP_ECHO_REQUEST = 8,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
	ND_ROUTER_SOLICIT = 133,
	ND_ROUTER_ADVERT = 134,
	ND_NEIGHBOR_SOLICIT = 135,
	ND_NEIGHBOR_ADVERT = 136,
	ND_OPT_SLLA = 1,
	ND_OPT_TLLA = 2,
	ND_OPT_PREFIX = 3,
	ND_OPT_MTU = 5,
	ND_OPT_RDNSS = 25,
	ND_OPT_DNSSL = 31,
	RA_VALID_SEC = 86400,
	RA_PREFERRED_SEC = 14400,
};

static const uint8_t all_nodes[16] = { 0xff, 2, [15] = 1 };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t unspecified[16];

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

int arp_answer(const struct gateway_config *gw, const struct pkt_view *frame,
	       struct pkt_buf *out)
{
	uint16_t htype, ptype, op;
	uint8_t hlen, plen, sha[6], spa[4];
	uint32_t tpa;
	uint8_t *p;

	if (pkt_be16(frame, ETH_HDR_LEN, &htype) ||
	    pkt_be16(frame, ETH_HDR_LEN + 2, &ptype) ||
	    pkt_u8(frame, ETH_HDR_LEN + 4, &hlen) ||
	    pkt_u8(frame, ETH_HDR_LEN + 5, &plen) ||
	    pkt_be16(frame, ETH_HDR_LEN + 6, &op) ||
	    pkt_read(frame, ETH_HDR_LEN + 8, sha, 6) ||
	    pkt_read(frame, ETH_HDR_LEN + 14, spa, 4) ||
	    pkt_be32(frame, ETH_HDR_LEN + 24, &tpa))
		return -EBADMSG;
	if (htype != 1 || ptype != ETHERTYPE_IPV4 || hlen != 6 || plen != 4)
		return -EBADMSG;
	if (op != ARP_OP_REQUEST || tpa != gw->ip4 || ipframe_mac_is_mcast(sha))
		return 0;
	p = pkt_put(out, 0, ETH_HDR_LEN + ARP_LEN);
	if (!p)
		return -EMSGSIZE;
	memcpy(p, sha, 6);
	memcpy(p + 6, gw->mac, 6);
	put16(p + 12, ETHERTYPE_ARP);
	p += ETH_HDR_LEN;
	put16(p, 1);
	put16(p + 2, ETHERTYPE_IPV4);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, ARP_OP_REPLY);
	memcpy(p + 8, gw->mac, 6);
	put32(p + 14, gw->ip4);
	memcpy(p + 18, sha, 6);
	memcpy(p + 24, spa, 4);
	return ETH_HDR_LEN + ARP_LEN;
}

int icmp4_echo_answer(const struct gateway_config *gw, const struct ip_view *ip,
		      struct pkt_buf *out)
{
	size_t len = ip->l4.len, total = ETH_HDR_LEN + IP4_HDR_LEN + len;
	uint8_t type, *p, *h, *icmp;

	if (ip->v6 || ip->proto != IPPROTO_ICMP_ || ip->dst4 != gw->ip4)
		return 0;
	if (pkt_u8(&ip->l4, 0, &type) || len < 8)
		return -EBADMSG;
	if (type != ICMP_ECHO_REQUEST)
		return 0;
	if (ipframe_mac_is_mcast(ip->src_mac))
		return -EBADMSG;
	p = pkt_put(out, 0, total);
	if (!p)
		return -EMSGSIZE;
	memcpy(p, ip->src_mac, 6);
	memcpy(p + 6, gw->mac, 6);
	put16(p + 12, ETHERTYPE_IPV4);
	h = p + ETH_HDR_LEN;
	memset(h, 0, IP4_HDR_LEN);
	h[0] = 0x45;
	put16(h + 2, (uint16_t)(IP4_HDR_LEN + len));
	h[8] = 64;
	h[9] = IPPROTO_ICMP_;
	put32(h + 12, gw->ip4);
	put32(h + 16, ip->src4);
	put16(h + 10, ipframe_csum_fold(ipframe_csum_add(0, h, IP4_HDR_LEN)));
	icmp = h + IP4_HDR_LEN;
	memcpy(icmp, ip->l4.data, len);
	icmp[0] = ICMP_ECHO_REPLY;
	put16(icmp + 2, 0);
	put16(icmp + 2, ipframe_csum_fold(ipframe_csum_add(0, icmp, len)));
	return (int)total;
}

void ndp_link_local(const struct gateway_config *gw, uint8_t out[16])
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = gw->mac[0] ^ 2;
	out[9] = gw->mac[1];
	out[10] = gw->mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = gw->mac[3];
	out[14] = gw->mac[4];
	out[15] = gw->mac[5];
}

static bool is_ours6(const struct gateway_config *gw, const uint8_t a[16])
{
	uint8_t ll[16];

	ndp_link_local(gw, ll);
	return !memcmp(a, ll, 16) || (gw->has_ip6 && !memcmp(a, gw->ip6, 16));
}

/* DNS labels for DNSSL: "a.b" -> 1 'a' 1 'b' 0. Return: length or -1. */
static int labels_put(uint8_t *p, size_t cap, const char *name)
{
	size_t o = 0;

	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		if (l == 0 || l > 63 || o + 1 + l + 1 > cap)
			return -1;
		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	if (o + 1 > cap)
		return -1;
	p[o++] = 0;
	return (int)o;
}

static int ra_build(const struct gateway_config *gw, const uint8_t dmac[6],
		    const uint8_t dst[16], struct pkt_buf *out)
{
	uint8_t buf[512], src[16];
	size_t o = 16;
	int l;

	if (!gw->has_ip6)
		return -ENOENT;
	memset(buf, 0, sizeof(buf));
	buf[0] = ND_ROUTER_ADVERT;
	buf[4] = 64; /* current hop limit */
	put16(buf + 6, gw->ra_lifetime ? gw->ra_lifetime : 1800);
	buf[o] = ND_OPT_SLLA;
	buf[o + 1] = 1;
	memcpy(buf + o + 2, gw->mac, 6);
	o += 8;
	buf[o] = ND_OPT_MTU;
	buf[o + 1] = 1;
	put32(buf + o + 4, gw->mtu);
	o += 8;
	buf[o] = ND_OPT_PREFIX;
	buf[o + 1] = 4;
	buf[o + 2] = gw->prefix6;
	buf[o + 3] = 0xc0; /* on-link, autonomous (SLAAC) */
	put32(buf + o + 4, RA_VALID_SEC);
	put32(buf + o + 8, RA_PREFERRED_SEC);
	for (int i = 0; i < 16; i++) {
		int bits = gw->prefix6 - i * 8;
		uint8_t m = bits >= 8 ? 0xff :
			    bits <= 0 ? 0 :
					(uint8_t)(0xff << (8 - bits));

		buf[o + 16 + i] = gw->ip6[i] & m;
	}
	o += 32;
	buf[o] = ND_OPT_RDNSS;
	buf[o + 1] = 3;
	put32(buf + o + 4, 3 * (gw->ra_lifetime ? gw->ra_lifetime : 1800));
	memcpy(buf + o + 8, gw->ip6, 16);
	o += 24;
	if (gw->domain[0]) {
		l = labels_put(buf + o + 8, sizeof(buf) - o - 16, gw->domain);
		if (l > 0) {
			size_t n = (8 + (size_t)l + 7) / 8;

			buf[o] = ND_OPT_DNSSL;
			buf[o + 1] = (uint8_t)n;
			put32(buf + o + 4,
			      3 * (gw->ra_lifetime ? gw->ra_lifetime : 1800));
			o += n * 8;
		}
	}
	if (!pkt_put(out, ETH_HDR_LEN + IP6_HDR_LEN, o))
		return -EMSGSIZE;
	memcpy(out->data + ETH_HDR_LEN + IP6_HDR_LEN, buf, o);
	ndp_link_local(gw, src);
	return ipframe_ip6_finish(out, dmac, gw->mac, src, dst, IPPROTO_ICMPV6_,
				  255, o);
}

int ndp_ra_build(const struct gateway_config *gw, struct pkt_buf *out)
{
	return ra_build(gw, all_nodes_mac, all_nodes, out);
}

static int na_build(const struct gateway_config *gw, const struct ip_view *ip,
		    const uint8_t target[16], struct pkt_buf *out)
{
	bool dad = !memcmp(ip->src6, unspecified, 16);
	uint8_t *m = pkt_put(out, ETH_HDR_LEN + IP6_HDR_LEN, 32);

	if (!m)
		return -EMSGSIZE;
	memset(m, 0, 32);
	m[0] = ND_NEIGHBOR_ADVERT;
	m[4] = dad ? 0xa0 : 0xe0; /* router, (solicited), override */
	memcpy(m + 8, target, 16);
	m[24] = ND_OPT_TLLA;
	m[25] = 1;
	memcpy(m + 26, gw->mac, 6);
	return ipframe_ip6_finish(out, dad ? all_nodes_mac : ip->src_mac,
				  gw->mac, target, dad ? all_nodes : ip->src6,
				  IPPROTO_ICMPV6_, 255, 32);
}

static int echo6_build(const struct gateway_config *gw,
		       const struct ip_view *ip, struct pkt_buf *out)
{
	size_t len = ip->l4.len;
	uint8_t *m = pkt_put(out, ETH_HDR_LEN + IP6_HDR_LEN, len);

	if (!m)
		return -EMSGSIZE;
	memcpy(m, ip->l4.data, len);
	m[0] = ICMP6_ECHO_REPLY;
	return ipframe_ip6_finish(out, ip->src_mac, gw->mac, ip->dst6,
				  ip->src6, IPPROTO_ICMPV6_, 64, len);
}

int ndp_answer(const struct gateway_config *gw, const struct ip_view *ip,
	       struct pkt_buf *out)
{
	uint8_t type, code, target[16];

	if (!ip->v6 || ip->proto != IPPROTO_ICMPV6_)
		return 0;
	if (pkt_u8(&ip->l4, 0, &type) || pkt_u8(&ip->l4, 1, &code) ||
	    ip->l4.len < 8)
		return -EBADMSG;
	if (ipframe_mac_is_mcast(ip->src_mac))
		return -EBADMSG;
	switch (type) {
	case ND_NEIGHBOR_SOLICIT:
		/* RFC 4861 7.1.1: hop limit 255, code 0, 24 bytes at least. */
		if (ip->ttl != 255 || code ||
		    pkt_read(&ip->l4, 8, target, 16))
			return -EBADMSG;
		if (!is_ours6(gw, target))
			return 0;
		return na_build(gw, ip, target, out);
	case ND_ROUTER_SOLICIT:
		if (ip->ttl != 255 || code)
			return -EBADMSG;
		if (!gw->has_ip6)
			return 0;
		if (!memcmp(ip->src6, unspecified, 16))
			return ra_build(gw, all_nodes_mac, all_nodes, out);
		return ra_build(gw, ip->src_mac, ip->src6, out);
	case ICMP6_ECHO_REQUEST:
		if (!is_ours6(gw, ip->dst6))
			return 0;
		return echo6_build(gw, ip, out);
	default:
		return 0;
	}
}
