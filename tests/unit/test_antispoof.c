// SPDX-License-Identifier: MIT
/* test_antispoof.c - the anti-spoofing policy (common/antispoof.h) frame by frame, and in the built-in switch. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/antispoof.h"

static const uint8_t port_mac[6] = {0x02, 0, 0, 0, 0, 0x11};
static const uint8_t other_mac[6] = {0x02, 0, 0, 0, 0, 0x99};

/* An Ethernet header from @src with EtherType @type; returns its length. */
static size_t eth(uint8_t *b, const uint8_t *src, uint16_t type)
{
	memset(b, 0xff, 6);
	memcpy(b + 6, src, 6);
	b[12] = (uint8_t)(type >> 8);
	b[13] = (uint8_t)type;
	return 14;
}

static size_t ipv4_udp(uint8_t *b, const uint8_t *src, const char *saddr,
		       uint16_t sport, uint16_t dport)
{
	size_t o = eth(b, src, 0x0800);
	uint8_t *ip = b + o, *udp = ip + 20;
	struct in_addr a;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[9] = 17;
	inet_pton(AF_INET, saddr, &a);
	memcpy(ip + 12, &a, 4);
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	return o + 28;
}

static size_t arp(uint8_t *b, const uint8_t *src, const uint8_t *sha,
		  const char *spa)
{
	size_t o = eth(b, src, 0x0806);
	uint8_t *a = b + o;
	struct in_addr ip;

	memset(a, 0, 28);
	a[1] = 1;
	a[2] = 0x08;
	a[4] = 6;
	a[5] = 4;
	a[7] = 1;
	memcpy(a + 8, sha, 6);
	inet_pton(AF_INET, spa, &ip);
	memcpy(a + 14, &ip, 4);
	return o + 28;
}

static void policy(struct antispoof_policy *p, uint8_t flags)
{
	struct in_addr a;

	memset(p, 0, sizeof(*p));
	p->flags = ANTISPOOF_F_ON | flags;
	inet_pton(AF_INET, "10.0.0.11", &a);
	p->ip[p->nip++] = a.s_addr;
}

static void test_mac_learnt_then_locked(void **state)
{
	struct antispoof_policy p;
	uint8_t b[128];
	size_t n;

	policy(&p, 0);
	n = ipv4_udp(b, port_mac, "10.0.0.11", 5000, 53);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_PASS);
	assert_true(p.flags & ANTISPOOF_F_MAC_SET);
	assert_memory_equal(p.mac, port_mac, 6);
	n = ipv4_udp(b, other_mac, "10.0.0.11", 5000, 53);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_DROP_SRC_MAC);
	/* A multicast source is never learnt. */
	policy(&p, 0);
	n = eth(b, (const uint8_t[]){0x01, 0, 0x5e, 0, 0, 1}, 0x0800);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_DROP_SRC_MAC);
	assert_false(p.flags & ANTISPOOF_F_MAC_SET);
	/* Off: everything passes, nothing learnt. */
	memset(&p, 0, sizeof(p));
	n = ipv4_udp(b, other_mac, "1.2.3.4", 67, 68);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_PASS);
	assert_false(p.flags & ANTISPOOF_F_MAC_SET);
}

static void test_ipv4_source(void **state)
{
	struct antispoof_policy p;
	uint8_t b[128];
	size_t n;

	policy(&p, 0);
	n = ipv4_udp(b, port_mac, "10.0.0.12", 5000, 53);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_DROP_SRC_IP);
	/* 0.0.0.0 only towards a DHCP server. */
	n = ipv4_udp(b, port_mac, "0.0.0.0", 68, 67);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_PASS);
	n = ipv4_udp(b, port_mac, "0.0.0.0", 68, 53);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_DROP_SRC_IP);
	/* No address at all (DHCP not done yet): only DHCP. */
	p.nip = 0;
	n = ipv4_udp(b, port_mac, "10.0.0.11", 5000, 53);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_DROP_SRC_IP);
	/* A header cut short: SHORT (the eBPF program pulls more in; the
	 * switch, which has it all, lets it pass). */
	n = ipv4_udp(b, port_mac, "10.0.0.12", 5000, 53);
	assert_int_equal(antispoof_check(&p, b, b + 30), ANTISPOOF_SHORT);
	assert_int_equal(antispoof_check(&p, b, b + 40), ANTISPOOF_SHORT);
	assert_int_equal(antispoof_check(&p, b, b + 10), ANTISPOOF_SHORT);
	/* Behind an 802.1Q tag too. */
	policy(&p, 0);
	n = ipv4_udp(b + 4, port_mac, "10.0.0.12", 5000, 53);
	memmove(b, b + 4, 12);
	b[12] = 0x81, b[13] = 0, b[14] = 0, b[15] = 10;
	assert_int_equal(antispoof_check(&p, b, b + n + 4),
			 ANTISPOOF_DROP_SRC_IP);
}

static void test_arp(void **state)
{
	struct antispoof_policy p;
	uint8_t b[128];
	size_t n;

	policy(&p, 0);
	n = arp(b, port_mac, port_mac, "10.0.0.11");
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_PASS);
	n = arp(b, port_mac, port_mac, "0.0.0.0"); /* a probe */
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_PASS);
	n = arp(b, port_mac, port_mac, "10.0.0.98");
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_DROP_ARP);
	n = arp(b, port_mac, other_mac, "10.0.0.11");
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_DROP_ARP);
}

static void test_dhcp_server_and_ra(void **state)
{
	struct antispoof_policy p;
	uint8_t b[128];
	size_t n;

	policy(&p, 0);
	n = ipv4_udp(b, port_mac, "10.0.0.11", 67, 68);
	assert_int_equal(antispoof_check(&p, b, b + n),
			 ANTISPOOF_DROP_DHCP_SERVER);
	policy(&p, ANTISPOOF_F_ALLOW_DHCP_SERVER);
	assert_int_equal(antispoof_check(&p, b, b + n), ANTISPOOF_PASS);
	/* A router advertisement: IPv6, next header 58, type 134. */
	policy(&p, 0);
	n = eth(b, port_mac, 0x86dd);
	memset(b + n, 0, 56);
	b[n] = 0x60;
	b[n + 6] = 58;
	b[n + 40] = 134;
	assert_int_equal(antispoof_check(&p, b, b + n + 56), ANTISPOOF_DROP_RA);
	b[n + 40] = 135; /* a neighbour solicitation */
	assert_int_equal(antispoof_check(&p, b, b + n + 56), ANTISPOOF_PASS);
	b[n + 40] = 134;
	policy(&p, ANTISPOOF_F_ALLOW_RA);
	assert_int_equal(antispoof_check(&p, b, b + n + 56), ANTISPOOF_PASS);
	/* DHCPv6 from a server port. */
	policy(&p, 0);
	b[n + 6] = 17;
	b[n + 40] = 547 >> 8;
	b[n + 41] = 547 & 0xff;
	assert_int_equal(antispoof_check(&p, b, b + n + 56),
			 ANTISPOOF_DROP_DHCP_SERVER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_learnt_then_locked),
		cmocka_unit_test(test_ipv4_source),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_dhcp_server_and_ra),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
