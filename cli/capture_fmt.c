/* SPDX-License-Identifier: MIT */
/* capture_fmt.c - dissect captured frames (Ethernet, VLAN, ARP, IPv4/6, ICMP, TCP, UDP) for one-line summaries. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/capture_fmt.h"
#include "common/pkt.h"

enum {
	ETH_P_IPV4 = 0x0800,
	ETH_P_ARPT = 0x0806,
	ETH_P_VLAN = 0x8100,
	ETH_P_IPV6T = 0x86dd,
	IPP_ICMP = 1,
	IPP_TCP = 6,
	IPP_UDP = 17,
	IPP_ICMP6 = 58,
};

static void addcat(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void addcat(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strnlen(buf, len);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static const char *udp_app(uint16_t sp, uint16_t dp)
{
	if (sp == 67 || dp == 67 || sp == 68 || dp == 68)
		return "DHCP";
	if (sp == 546 || dp == 546 || sp == 547 || dp == 547)
		return "DHCP6";
	if (sp == 53 || dp == 53)
		return "DNS";
	if (sp == 5353 || dp == 5353)
		return "mDNS";
	return NULL;
}

/* TCP/UDP after an IP header at @off; @src/@dst hold the addresses. */
static void l4_ports(struct capture_summary *s, const struct pkt_view *v,
		     size_t off, uint8_t proto, uint32_t l4len, char sep)
{
	uint16_t sp, dp;

	if (pkt_be16(v, off, &sp) || pkt_be16(v, off + 2, &dp)) {
		snprintf(s->proto, sizeof(s->proto), "%s",
			 proto == IPP_TCP ? "TCP" : "UDP");
		addcat(s->info, sizeof(s->info), "[|%s]", s->proto);
		return;
	}
	addcat(s->src, sizeof(s->src), "%c%u", sep, sp);
	addcat(s->dst, sizeof(s->dst), "%c%u", sep, dp);
	if (proto == IPP_TCP) {
		static const char names[] = "FSRP.UEW";
		uint8_t fl, hl;
		char f[10] = "";
		int k = 0;

		snprintf(s->proto, sizeof(s->proto), "TCP");
		if (pkt_u8(v, off + 12, &hl) || pkt_u8(v, off + 13, &fl)) {
			addcat(s->info, sizeof(s->info), "[|tcp]");
			return;
		}
		for (int b = 0; b < 8; b++)
			if (fl >> b & 1)
				f[k++] = names[b];
		f[k] = '\0';
		hl = (uint8_t)((hl >> 4) * 4);
		addcat(s->info, sizeof(s->info), "Flags [%s], length %u", f,
		       l4len >= hl ? l4len - hl : 0);
	} else {
		const char *app = udp_app(sp, dp);

		snprintf(s->proto, sizeof(s->proto), "%s", app ? app : "UDP");
		addcat(s->info, sizeof(s->info), "UDP, length %u",
		       l4len >= 8 ? l4len - 8 : 0);
	}
}

static void icmp4(struct capture_summary *s, const struct pkt_view *v,
		  size_t off)
{
	uint8_t type, code;
	uint16_t id, seq;

	snprintf(s->proto, sizeof(s->proto), "ICMP");
	if (pkt_u8(v, off, &type) || pkt_u8(v, off + 1, &code)) {
		addcat(s->info, sizeof(s->info), "ICMP [|icmp]");
		return;
	}
	if ((type == 8 || type == 0) && !pkt_be16(v, off + 4, &id) &&
	    !pkt_be16(v, off + 6, &seq))
		addcat(s->info, sizeof(s->info), "ICMP echo %s, id %u, seq %u",
		       type == 8 ? "request" : "reply", id, seq);
	else if (type == 3)
		addcat(s->info, sizeof(s->info), "ICMP unreachable, code %u",
		       code);
	else if (type == 11)
		addcat(s->info, sizeof(s->info), "ICMP time exceeded");
	else
		addcat(s->info, sizeof(s->info), "ICMP type %u, code %u", type,
		       code);
}

static void icmp6(struct capture_summary *s, const struct pkt_view *v,
		  size_t off)
{
	static const struct {
		uint8_t type;
		const char *name;
	} names[] = {
		{1, "destination unreachable"}, {2, "packet too big"},
		{3, "time exceeded"},	       {128, "echo request"},
		{129, "echo reply"},	       {133, "router solicitation"},
		{134, "router advertisement"}, {135, "neighbor solicitation"},
		{136, "neighbor advertisement"}, {143, "multicast listener report v2"},
	};
	uint8_t type;

	snprintf(s->proto, sizeof(s->proto), "ICMP6");
	if (pkt_u8(v, off, &type)) {
		addcat(s->info, sizeof(s->info), "ICMP6 [|icmp6]");
		return;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type) {
			addcat(s->info, sizeof(s->info), "ICMP6 %s",
			       names[i].name);
			return;
		}
	addcat(s->info, sizeof(s->info), "ICMP6 type %u", type);
}

static void ipv4(struct capture_summary *s, const struct pkt_view *v,
		 size_t off)
{
	uint8_t vihl, proto;
	uint16_t tot, frag;
	const uint8_t *a;
	size_t hl;

	snprintf(s->proto, sizeof(s->proto), "IP");
	a = pkt_get(v, off + 12, 8);
	if (pkt_u8(v, off, &vihl) || pkt_be16(v, off + 2, &tot) ||
	    pkt_be16(v, off + 6, &frag) || pkt_u8(v, off + 9, &proto) || !a) {
		addcat(s->info, sizeof(s->info), "[|ip]");
		return;
	}
	inet_ntop(AF_INET, a, s->src, sizeof(s->src));
	inet_ntop(AF_INET, a + 4, s->dst, sizeof(s->dst));
	hl = (size_t)(vihl & 15) * 4;
	if ((vihl >> 4) != 4 || hl < 20 || tot < hl) {
		addcat(s->info, sizeof(s->info), "bad IPv4 header");
		return;
	}
	if (frag & 0x1fff) {
		addcat(s->info, sizeof(s->info), "fragment, proto %u, length %u",
		       proto, tot);
		return;
	}
	switch (proto) {
	case IPP_ICMP:
		icmp4(s, v, off + hl);
		break;
	case IPP_TCP:
	case IPP_UDP:
		l4_ports(s, v, off + hl, proto, (uint32_t)(tot - hl), '.');
		break;
	default:
		addcat(s->info, sizeof(s->info), "ip-proto-%u, length %u",
		       proto, tot);
	}
}

static void ipv6(struct capture_summary *s, const struct pkt_view *v,
		 size_t off)
{
	uint16_t plen;
	uint8_t nh;
	const uint8_t *a = pkt_get(v, off + 8, 32);

	snprintf(s->proto, sizeof(s->proto), "IP6");
	if (pkt_be16(v, off + 4, &plen) || pkt_u8(v, off + 6, &nh) || !a) {
		addcat(s->info, sizeof(s->info), "[|ip6]");
		return;
	}
	inet_ntop(AF_INET6, a, s->src, sizeof(s->src));
	inet_ntop(AF_INET6, a + 16, s->dst, sizeof(s->dst));
	/* Hop-by-hop options (MLD reports carry them): skip one. */
	off += 40;
	if (nh == 0) {
		uint8_t nx, l;

		if (pkt_u8(v, off, &nx) || pkt_u8(v, off + 1, &l)) {
			addcat(s->info, sizeof(s->info), "[|ip6]");
			return;
		}
		nh = nx;
		if ((size_t)(l + 1) * 8 > plen) {
			addcat(s->info, sizeof(s->info), "bad IPv6 options");
			return;
		}
		plen = (uint16_t)(plen - (l + 1) * 8);
		off += (size_t)(l + 1) * 8;
	}
	switch (nh) {
	case IPP_ICMP6:
		icmp6(s, v, off);
		break;
	case IPP_TCP:
	case IPP_UDP:
		l4_ports(s, v, off, nh, plen, '.');
		break;
	default:
		addcat(s->info, sizeof(s->info), "next-header %u, length %u",
		       nh, plen);
	}
}

static void arp(struct capture_summary *s, const struct pkt_view *v,
		size_t off)
{
	uint16_t op;
	const uint8_t *spa = pkt_get(v, off + 14, 4);
	const uint8_t *tpa = pkt_get(v, off + 24, 4);
	const uint8_t *sha = pkt_get(v, off + 8, 6);
	uint8_t hl, pl;

	snprintf(s->proto, sizeof(s->proto), "ARP");
	if (pkt_be16(v, off + 6, &op) || pkt_u8(v, off + 4, &hl) ||
	    pkt_u8(v, off + 5, &pl) || !spa || !tpa || !sha) {
		addcat(s->info, sizeof(s->info), "ARP [|arp]");
		return;
	}
	if (hl != 6 || pl != 4) {
		addcat(s->info, sizeof(s->info), "ARP hlen %u plen %u", hl, pl);
		return;
	}
	inet_ntop(AF_INET, spa, s->src, sizeof(s->src));
	inet_ntop(AF_INET, tpa, s->dst, sizeof(s->dst));
	if (op == 1)
		addcat(s->info, sizeof(s->info), "ARP, Request who-has %s tell %s",
		       s->dst, s->src);
	else if (op == 2)
		addcat(s->info, sizeof(s->info),
		       "ARP, Reply %s is-at %02x:%02x:%02x:%02x:%02x:%02x",
		       s->src, sha[0], sha[1], sha[2], sha[3], sha[4], sha[5]);
	else
		addcat(s->info, sizeof(s->info), "ARP, op %u", op);
}

void capture_summarize(const uint8_t *frame, uint32_t caplen, uint32_t len,
		       struct capture_summary *s)
{
	struct pkt_view v = {frame, caplen};
	size_t off = 12;
	uint16_t type;

	memset(s, 0, sizeof(*s));
	s->vlan = -1;
	if (pkt_read(&v, 0, s->dmac, 6) || pkt_read(&v, 6, s->smac, 6) ||
	    pkt_be16(&v, 12, &type)) {
		snprintf(s->proto, sizeof(s->proto), "ETH");
		snprintf(s->info, sizeof(s->info), "runt, length %u", len);
		return;
	}
	off = 14;
	if (type == ETH_P_VLAN) {
		uint16_t tci;

		if (pkt_be16(&v, 14, &tci) || pkt_be16(&v, 16, &type)) {
			snprintf(s->proto, sizeof(s->proto), "ETH");
			snprintf(s->info, sizeof(s->info), "[|vlan]");
			return;
		}
		s->vlan = tci & 0x0fff;
		off = 18;
	}
	s->ethertype = type;
	switch (type) {
	case ETH_P_IPV4:
		ipv4(s, &v, off);
		break;
	case ETH_P_IPV6T:
		ipv6(s, &v, off);
		break;
	case ETH_P_ARPT:
		arp(s, &v, off);
		break;
	default:
		snprintf(s->proto, sizeof(s->proto), "ETH");
		snprintf(s->info, sizeof(s->info), "ethertype 0x%04x, length %u",
			 type, len);
	}
}

static void mac_str(char *b, const uint8_t *m)
{
	snprintf(b, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

void capture_format_line(char *buf, size_t len, uint64_t ts_ns,
			 const char *iface, const char *dir,
			 const struct capture_summary *s)
{
	time_t sec = (time_t)(ts_ns / 1000000000ull);
	struct tm tm;
	char vlan[24] = "", sm[18], dm[18];

	localtime_r(&sec, &tm);
	if (s->vlan >= 0)
		snprintf(vlan, sizeof(vlan), "vlan %d ", s->vlan);
	if (s->src[0] && strcmp(s->proto, "ARP")) {
		snprintf(buf, len, "%02d:%02d:%02d.%06u %s %-3s %s%s %s > %s: %s",
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned)(ts_ns % 1000000000ull / 1000), iface, dir,
			 vlan, s->ethertype == ETH_P_IPV6T ? "IP6" : "IP",
			 s->src, s->dst, s->info);
		return;
	}
	mac_str(sm, s->smac);
	mac_str(dm, s->dmac);
	snprintf(buf, len, "%02d:%02d:%02d.%06u %s %-3s %s%s > %s, %s",
		 tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ts_ns % 1000000000ull / 1000), iface, dir, vlan, sm,
		 dm, s->info);
}

json_t *capture_summary_json(uint64_t ts_ns, const char *iface,
			     const char *dir, uint32_t caplen, uint32_t len,
			     const struct capture_summary *s)
{
	char sm[18], dm[18], line[512];
	json_t *j;

	mac_str(sm, s->smac);
	mac_str(dm, s->dmac);
	line[0] = '\0';
	if (s->src[0] && strcmp(s->proto, "ARP"))
		snprintf(line, sizeof(line), "%s > %s: %s", s->src, s->dst,
			 s->info);
	else
		snprintf(line, sizeof(line), "%s", s->info);
	j = json_pack("{s:I,s:s,s:s,s:i,s:i,s:s,s:s,s:s,s:s}", "ts_ns",
		      (json_int_t)ts_ns, "interface", iface, "direction", dir,
		      "len", (int)len, "caplen", (int)caplen, "src_mac", sm,
		      "dst_mac", dm, "proto", s->proto, "summary", line);
	if (j && s->vlan >= 0)
		json_object_set_new(j, "vlan", json_integer(s->vlan));
	if (j && s->src[0]) {
		json_object_set_new(j, "src", json_string(s->src));
		json_object_set_new(j, "dst", json_string(s->dst));
	}
	return j;
}
