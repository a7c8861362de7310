/* SPDX-License-Identifier: MIT */
/* test_gateway.c - the gateway port: ARP and ping answered inline, DHCP/DNS queued, the rest to the uplink; DNS answers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "services/arp_icmp.h"
#include "services/dns.h"
#include "services/gateway.h"
#include "services/ipframe.h"
#include "services/uplink.h"
#include "tests/services/msg_build.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static const uint8_t vm_mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t gw_mac[6] = { 0x52, 0x55, 10, 0, 0, 1 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct gateway *gw_make(void)
{
	struct gateway_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac, gw_mac, 6);
	c.ip4 = IP(10, 0, 0, 1);
	c.prefix4 = 24;
	c.mtu = 1500;
	return gateway_new(&c);
}

/* Take the one queued output frame into @out. Return: its length. */
static size_t out_take(struct gateway *gw, uint8_t *out)
{
	struct frame_batch b = { 0 };
	size_t len;

	if (gateway_port_recv(gw, &b) != 1)
		return 0;
	len = b.f[0].len;
	memcpy(out, b.f[0].data, len);
	gateway_port_recv_done(gw, &b);
	return len;
}

static size_t arp_req(uint8_t *f, uint32_t tpa)
{
	memset(f, 0, 60);
	memcpy(f, bcast, 6);
	memcpy(f + 6, vm_mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	f[15] = 1;
	f[16] = 8;
	f[18] = 6;
	f[19] = 4;
	f[21] = 1;
	memcpy(f + 22, vm_mac, 6);
	f[28] = 10;
	f[31] = 5;
	f[38] = (uint8_t)(tpa >> 24);
	f[39] = (uint8_t)(tpa >> 16);
	f[40] = (uint8_t)(tpa >> 8);
	f[41] = (uint8_t)tpa;
	return 60;
}

static void test_arp(void **state)
{
	struct gateway *gw = gw_make();
	struct gateway_stats st;
	uint8_t f[64], out[2048];

	(void)state;
	gateway_input(gw, f, arp_req(f, IP(10, 0, 0, 1)), NULL);
	assert_int_equal(out_take(gw, out), 42);
	assert_memory_equal(out, vm_mac, 6);
	assert_int_equal(out[21], 2); /* reply */
	assert_memory_equal(out + 22, gw_mac, 6);
	assert_memory_equal(out + 32, vm_mac, 6);
	/* Not for us, no uplink: dropped and counted. */
	gateway_input(gw, f, arp_req(f, IP(10, 0, 0, 9)), NULL);
	assert_int_equal(out_take(gw, out), 0);
	/* Truncated. */
	gateway_input(gw, f, 30, NULL);
	gateway_stats_get(gw, &st);
	assert_int_equal(st.arp_replies, 1);
	assert_int_equal(st.not_for_us, 1);
	assert_int_equal(st.malformed, 1);
	gateway_free(gw);
}

static size_t udp_frame(uint8_t *f, size_t cap, uint32_t dst, uint16_t dport,
			const void *payload, size_t len, uint8_t proto)
{
	struct pkt_buf b = { f, cap };
	int n;

	memcpy(f + UDP4_PAYLOAD_OFF, payload, len);
	n = ipframe_udp4_finish(&b, gw_mac, vm_mac, IP(10, 0, 0, 5), dst,
				40000, dport, len);
	assert_true(n > 0);
	f[ETH_HDR_LEN + 9] = proto; /* ICMP tests reuse the layout */
	return (size_t)n;
}

static void test_ping(void **state)
{
	struct gateway *gw = gw_make();
	uint8_t f[256], out[2048], icmp[16] = { 8, 0, 0, 0, 0, 1, 0, 1, 'x' };
	struct pkt_view v;
	struct ip_view ip;

	(void)state;
	/* An ICMP echo request: IPv4 header + 16 bytes of ICMP. */
	size_t n = udp_frame(f, sizeof(f), IP(10, 0, 0, 1), 0, icmp, 8, 1);
	/* The builder made a UDP header; overwrite with ICMP. */
	memcpy(f + ETH_HDR_LEN + IP4_HDR_LEN, icmp, 16);
	gateway_input(gw, f, n, NULL);
	n = out_take(gw, out);
	assert_true(n > 0);
	v.data = out;
	v.len = n;
	assert_int_equal(ipframe_parse(&v, &ip), 0);
	assert_int_equal(ip.proto, 1);
	assert_int_equal(ip.src4, IP(10, 0, 0, 1));
	assert_int_equal(ip.dst4, IP(10, 0, 0, 5));
	assert_int_equal(ip.l4.data[0], 0); /* echo reply */
	assert_int_equal(ipframe_csum_fold(ipframe_csum_add(0, ip.l4.data,
							    ip.l4.len)),
			 0);
	gateway_free(gw);
}

static int uplink_frames;
static int uplink_in(void *priv, const struct frame *f)
{
	(void)priv;
	(void)f;
	uplink_frames++;
	return 0;
}

static void test_queues_and_uplink(void **state)
{
	static const struct gateway_uplink_ops ops = { .name = "test",
						       .input = uplink_in };
	struct gateway *gw = gw_make();
	uint8_t f[256], buf[2048], q[32] = { 0 };
	size_t n;

	(void)state;
	n = udp_frame(f, sizeof(f), IP(10, 0, 0, 1), 53, q, sizeof(q), 17);
	gateway_input(gw, f, n, NULL);
	n = udp_frame(f, sizeof(f), 0xffffffff, 67, q, sizeof(q), 17);
	gateway_input(gw, f, n, NULL);
	assert_int_equal(gateway_ctl_recv(gw, buf, sizeof(buf)), 74);
	assert_int_equal(gateway_ctl_recv(gw, buf, sizeof(buf)), 74);
	assert_int_equal(gateway_ctl_recv(gw, buf, sizeof(buf)), 0);
	/* DNS to another address goes to the uplink. */
	assert_int_equal(gateway_uplink_attach(gw, &ops, NULL), 0);
	assert_int_equal(gateway_uplink_attach(gw, &ops, NULL), -EBUSY);
	n = udp_frame(f, sizeof(f), IP(8, 8, 8, 8), 53, q, sizeof(q), 17);
	gateway_input(gw, f, n, NULL);
	assert_int_equal(uplink_frames, 1);
	assert_int_equal(gateway_ctl_recv(gw, buf, sizeof(buf)), 0);
	gateway_uplink_detach(gw);
	gateway_input(gw, f, n, NULL);
	assert_int_equal(uplink_frames, 1);
	/* The output queue is bounded. */
	for (int i = 0; i < GATEWAY_OUTQ_MAX; i++)
		assert_int_equal(gateway_uplink_output(gw, f, n), 0);
	assert_int_equal(gateway_uplink_output(gw, f, n), -ENOBUFS);
	assert_int_equal(gateway_uplink_output(gw, f, 5000), -EMSGSIZE);
	gateway_free(gw);
}

/* A pull-mode uplink (libslirp's shape): its own queue and eventfd. */
struct pull_uplink {
	int fd;
	uint8_t frame[64];
	int waiting, released;
};

static int pull_fd(void *priv)
{
	return ((struct pull_uplink *)priv)->fd;
}

static int pull_peek(void *priv, struct frame_batch *b)
{
	struct pull_uplink *u = priv;

	if (!u->waiting)
		return 0;
	memset(&b->f[b->count], 0, sizeof(b->f[0]));
	b->f[b->count].data = u->frame;
	b->f[b->count].len = sizeof(u->frame);
	b->count++;
	return 1;
}

static void pull_release(void *priv)
{
	struct pull_uplink *u = priv;
	uint64_t v;

	u->waiting = 0;
	u->released++;
	if (read(u->fd, &v, sizeof(v)) < 0)
		(void)0;
}

static void test_pull_uplink(void **state)
{
	static const struct gateway_uplink_ops ops = {
		.name = "pull", .input = uplink_in, .output_fd = pull_fd,
		.output_peek = pull_peek, .output_release = pull_release };
	struct gateway *gw = gw_make();
	struct pull_uplink u = { .fd = eventfd(0, EFD_NONBLOCK) };
	struct pollfd p = { .fd = gateway_port_fd(gw), .events = POLLIN };
	struct frame_batch b = { 0 };
	uint64_t one = 1;
	uint8_t f[64];

	(void)state;
	assert_int_equal(gateway_uplink_attach(gw, &ops, &u), 0);
	assert_int_equal(poll(&p, 1, 0), 0);
	/* The uplink has a frame: the port's poll fd says so, recv takes it. */
	u.waiting = 1;
	assert_int_equal(write(u.fd, &one, sizeof(one)), 8);
	assert_int_equal(poll(&p, 1, 0), 1);
	/* With one of the gateway's own answers queued first. */
	gateway_input(gw, f, arp_req(f, IP(10, 0, 0, 1)), NULL);
	assert_int_equal(gateway_port_recv(gw, &b), 2);
	assert_int_equal(b.f[0].len, 42);
	assert_ptr_equal(b.f[1].data, u.frame);
	gateway_port_recv_done(gw, &b);
	assert_int_equal(u.released, 1);
	assert_int_equal(poll(&p, 1, 0), 0);
	gateway_uplink_detach(gw);
	u.waiting = 1;
	b.count = 0;
	assert_int_equal(gateway_port_recv(gw, &b), 0);
	close(u.fd);
	gateway_free(gw);
}

/* IPv6: neighbour solicitation -> advertisement, RS -> RA with options. */
static size_t icmp6_frame(uint8_t *f, const uint8_t *dmac, const uint8_t *dst,
			  const uint8_t *msg, size_t len)
{
	static const uint8_t src[16] = { 0xfe, 0x80, [15] = 5 };

	memcpy(f, dmac, 6);
	memcpy(f + 6, vm_mac, 6);
	f[12] = 0x86;
	f[13] = 0xdd;
	memset(f + 14, 0, 8);
	f[14] = 0x60;
	f[18] = (uint8_t)(len >> 8);
	f[19] = (uint8_t)len;
	f[20] = 58;
	f[21] = 255;
	memcpy(f + 22, src, 16);
	memcpy(f + 38, dst, 16);
	memcpy(f + 54, msg, len);
	return 54 + len;
}

static void test_ndp_ra(void **state)
{
	struct gateway_config c;
	struct gateway *gw;
	uint8_t f[256], out[2048], ns[32] = { 135 }, rs[8] = { 133 };
	static const uint8_t mc[6] = { 0x33, 0x33, 0xff, 0, 0, 1 };
	static const uint8_t sn[16] = { 0xff, 2, [11] = 1, [12] = 0xff,
					[15] = 1 };
	struct pkt_view v;
	struct ip_view ip;
	size_t n;

	(void)state;
	memset(&c, 0, sizeof(c));
	memcpy(c.mac, gw_mac, 6);
	c.ip4 = IP(10, 0, 0, 1);
	c.prefix4 = 24;
	c.mtu = 1500;
	c.has_ip6 = true;
	c.ip6[0] = 0xfd;
	c.ip6[15] = 1;
	c.prefix6 = 64;
	strcpy(c.domain, "lab.loom");
	gw = gateway_new(&c);
	memcpy(ns + 8, c.ip6, 16);
	gateway_input(gw, f, icmp6_frame(f, mc, sn, ns, sizeof(ns)), NULL);
	n = out_take(gw, out);
	assert_true(n > 0);
	v.data = out;
	v.len = n;
	assert_int_equal(ipframe_parse(&v, &ip), 0);
	assert_int_equal(ip.l4.data[0], 136); /* NA */
	assert_memory_equal(ip.l4.data + 8, c.ip6, 16);
	assert_memory_equal(ip.l4.data + 26, gw_mac, 6); /* target LL addr */
	/* The ICMPv6 checksum verifies over the pseudo-header. */
	{
		uint32_t sum = ipframe_csum_add(0, ip.src6, 16);

		sum = ipframe_csum_add(sum, ip.dst6, 16);
		sum += (uint32_t)ip.l4.len + 58;
		assert_int_equal(ipframe_csum_fold(ipframe_csum_add(
					 sum, ip.l4.data, ip.l4.len)),
				 0);
	}
	/* A hop limit other than 255 is not NDP: dropped. */
	n = icmp6_frame(f, mc, sn, ns, sizeof(ns));
	f[21] = 64;
	gateway_input(gw, f, n, NULL);
	assert_int_equal(out_take(gw, out), 0);
	/* RS -> RA: prefix fd00::/64 autonomous, RDNSS and DNSSL. */
	static const uint8_t all_routers[16] = { 0xff, 2, [15] = 2 };
	static const uint8_t ar_mac[6] = { 0x33, 0x33, 0, 0, 0, 2 };

	gateway_input(gw, f, icmp6_frame(f, ar_mac, all_routers, rs,
					 sizeof(rs)), NULL);
	n = out_take(gw, out);
	assert_true(n > 0);
	v.len = n;
	assert_int_equal(ipframe_parse(&v, &ip), 0);
	assert_int_equal(ip.l4.data[0], 134);
	assert_int_equal(ip.src6[0], 0xfe); /* from the link-local address */
	assert_non_null(memmem(ip.l4.data, ip.l4.len,
			       "\3\4\100\300", 4)); /* prefix, /64, L|A */
	assert_non_null(memmem(ip.l4.data, ip.l4.len, "\3lab\4loom", 9));
	gateway_free(gw);
}

/* DNS: a local name, NXDOMAIN, PTR, and a compression loop. */
static int t_addr4(void *arg, const char *name, uint32_t *ip)
{
	(void)arg;
	if (strcmp(name, "web"))
		return -ENOENT;
	*ip = IP(10, 0, 0, 50);
	return 0;
}

static const char *t_name4(void *arg, uint32_t ip)
{
	(void)arg;
	return ip == IP(10, 0, 0, 50) ? "web" : NULL;
}

static bool t_in4(void *arg, uint32_t ip)
{
	(void)arg;
	return (ip >> 8) == (IP(10, 0, 0, 0) >> 8);
}

static const struct dns_lookup_ops t_ops = {
	.addr4 = t_addr4, .name4 = t_name4, .in_subnet4 = t_in4,
};

static void test_dns(void **state)
{
	struct dns_server_config c;
	struct dns_server *s;
	struct dns_client cl = { 0 };
	uint8_t q[512], out[1500];
	struct pkt_view v = { q, 0 };
	int n;

	(void)state;
	memset(&c, 0, sizeof(c));
	snprintf(c.domain, sizeof(c.domain), "lab.loom");
	s = dns_server_new(&c, &t_ops, NULL, NULL, NULL);
	assert_non_null(s);

	v.len = dns_query_build(q, "WEB.lab.loom", DNS_TYPE_A);
	n = dns_server_query(s, &v, &cl, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(out[0], 0xab);
	assert_int_equal(out[3] & 0xf, DNS_RCODE_NOERROR);
	assert_true(out[2] & 0x04); /* AA */
	assert_int_equal(out[7], 1); /* one answer */
	static const uint8_t web_ip[4] = { 10, 0, 0, 50 };

	assert_memory_equal(out + n - 4, web_ip, 4);

	v.len = dns_query_build(q, "nope.lab.loom", DNS_TYPE_A);
	n = dns_server_query(s, &v, &cl, out, sizeof(out));
	assert_int_equal(out[3] & 0xf, DNS_RCODE_NXDOMAIN);
	assert_int_equal(out[9], 1); /* SOA in authority */

	v.len = dns_query_build(q, "web.lab.loom", DNS_TYPE_AAAA); /* NODATA */
	n = dns_server_query(s, &v, &cl, out, sizeof(out));
	assert_int_equal(out[3] & 0xf, DNS_RCODE_NOERROR);
	assert_int_equal(out[7], 0);

	v.len = dns_query_build(q, "50.0.0.10.in-addr.arpa", DNS_TYPE_PTR);
	n = dns_server_query(s, &v, &cl, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(out[7], 1);
	assert_non_null(memmem(out, (size_t)n, "\3web\3lab\4loom", 13));

	/* No upstream: SERVFAIL at once. */
	v.len = dns_query_build(q, "example.com", DNS_TYPE_A);
	n = dns_server_query(s, &v, &cl, out, sizeof(out));
	assert_int_equal(out[3] & 0xf, DNS_RCODE_SERVFAIL);

	/* A name that points at itself: FORMERR, no hang. */
	v.len = dns_query_build(q, "a", DNS_TYPE_A);
	q[12] = 0xc0;
	q[13] = 12;
	n = dns_server_query(s, &v, &cl, out, sizeof(out));
	assert_int_equal(out[3] & 0xf, DNS_RCODE_FORMERR);

	/* A response is dropped. */
	v.len = dns_query_build(q, "web.lab.loom", DNS_TYPE_A);
	q[2] |= 0x80;
	assert_int_equal(dns_server_query(s, &v, &cl, out, sizeof(out)), 0);

	struct dns_stats st;

	dns_server_stats_get(s, &st);
	assert_int_equal(st.malformed, 2);
	dns_server_free(s);
}

static void test_dns_names(void **state)
{
	uint8_t m[600];
	char name[DNS_NAME_MAX + 1];
	struct pkt_view v = { m, sizeof(m) };
	size_t end;
	bool plain;

	(void)state;
	memset(m, 0, sizeof(m));
	/* 5 labels of 63: 320 bytes, over the 255 limit. */
	for (int i = 0; i < 5; i++)
		m[12 + 64 * i] = 63;
	for (int i = 0; i < 5; i++)
		memset(m + 13 + 64 * i, 'a', 63);
	assert_int_equal(dns_name_read(&v, 12, name, &end, &plain), -EBADMSG);
	/* A forward pointer is refused. */
	m[12] = 0xc0;
	m[13] = 20;
	assert_int_equal(dns_name_read(&v, 12, name, &end, &plain), -EBADMSG);
	/* A backward pointer is followed. */
	m[0] = 1;
	m[1] = 'x';
	m[2] = 0;
	m[12] = 0xc0;
	m[13] = 0;
	assert_int_equal(dns_name_read(&v, 12, name, &end, &plain), 0);
	assert_string_equal(name, "x");
	assert_int_equal(end, 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_queues_and_uplink),
		cmocka_unit_test(test_pull_uplink),
		cmocka_unit_test(test_ndp_ra),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_dns_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
