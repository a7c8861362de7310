/* SPDX-License-Identifier: MIT */
/* test_dhcp.c - the DHCPv4 server: DORA, renew after a reload, DECLINE, the per-port offer limit, NAK, RELEASE. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "services/dhcp.h"
#include "tests/services/msg_build.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

struct fixture {
	struct dhcp_server *s;
	char path[64];
	struct dhcp_server_config cfg;
	struct lease_static host;
};

static void cfg_init(struct fixture *f)
{
	memset(&f->cfg, 0, sizeof(f->cfg));
	f->cfg.server_ip = IP(10, 0, 0, 1);
	f->cfg.router = IP(10, 0, 0, 1);
	f->cfg.netmask = 0xffffff00;
	f->cfg.first = IP(10, 0, 0, 10);
	f->cfg.last = IP(10, 0, 0, 13);
	f->cfg.dns[0] = IP(10, 0, 0, 1);
	f->cfg.ndns = 1;
	snprintf(f->cfg.domain, sizeof(f->cfg.domain), "lab.loom");
	f->cfg.offers_per_port = 2;
	memcpy(f->host.mac, (uint8_t[]){ 2, 0, 0, 0, 0, 0x99 }, 6);
	f->host.ip = IP(10, 0, 0, 50);
	snprintf(f->host.name, sizeof(f->host.name), "web");
	f->cfg.hosts = &f->host;
	f->cfg.nhosts = 1;
	f->cfg.lease_path = f->path;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->path, sizeof(f->path), "/tmp/loom-test-leases.%d",
		 (int)getpid());
	unlink(f->path);
	cfg_init(f);
	f->s = dhcp_server_new(&f->cfg);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	char j[80];

	dhcp_server_free(f->s);
	unlink(f->path);
	snprintf(j, sizeof(j), "%s.journal", f->path);
	unlink(j);
	free(f);
	return 0;
}

/* Send one request; return the reply's message type (0: none) and yiaddr. */
static int exchange(struct dhcp_server *s, uint8_t type, const uint8_t mac[6],
		    uint32_t ciaddr, uint32_t reqip, uint32_t server,
		    const char *host, uint32_t port, uint64_t now,
		    uint32_t *yiaddr)
{
	uint8_t in[548], out[1024];
	struct pkt_view v = { in, dhcp_req_build(in, type, mac, ciaddr, reqip,
					    server, host) };
	struct dhcp_request_ctx ctx = { port, "p", now };
	struct dhcp_reply rep;
	struct dhcp_msg m;

	assert_int_equal(dhcp_msg_parse(&v, &m), 0);
	assert_int_equal(dhcp_server_handle(s, &m, &ctx, out, sizeof(out),
					    &rep),
			 0);
	assert_int_equal(dhcp_server_commit(s), 0);
	if (!rep.len)
		return 0;
	if (yiaddr)
		*yiaddr = (uint32_t)out[16] << 24 | out[17] << 16 |
			  out[18] << 8 | out[19];
	/* Option 53 is the first option we write. */
	assert_int_equal(out[240], 53);
	return out[242];
}

static const uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t mac_b[6] = { 2, 0, 0, 0, 0, 0xb };

static void test_dora_and_reload(void **state)
{
	struct fixture *f = *state;
	uint32_t ip = 0, ip2 = 0, name_ip;

	assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac_a, 0, 0, 0, "alpha",
				  1, 1000, &ip),
			 DHCP_OFFER);
	assert_true(ip >= f->cfg.first && ip <= f->cfg.last);
	assert_int_equal(exchange(f->s, DHCP_REQUEST, mac_a, 0, ip,
				  f->cfg.server_ip, "alpha", 1, 1001, &ip2),
			 DHCP_ACK);
	assert_int_equal(ip2, ip);
	assert_int_equal(dhcp_server_addr_of(f->s, "alpha", 1002, &name_ip), 0);
	assert_int_equal(name_ip, ip);
	assert_string_equal(dhcp_server_name_of(f->s, ip, 1002), "alpha");

	/* kill -9 equivalent: a fresh server from the lease file only. */
	dhcp_server_free(f->s);
	f->s = dhcp_server_new(&f->cfg);
	assert_non_null(f->s);
	assert_int_equal(dhcp_server_addr_of(f->s, "alpha", 1003, &name_ip), 0);
	assert_int_equal(name_ip, ip);
	/* A renewing client (ciaddr, no server id) keeps its address... */
	assert_int_equal(exchange(f->s, DHCP_REQUEST, mac_a, ip, 0, 0, NULL, 1,
				  2000, &ip2),
			 DHCP_ACK);
	assert_int_equal(ip2, ip);
	/* ...and another client cannot take it. */
	assert_int_equal(exchange(f->s, DHCP_REQUEST, mac_b, 0, ip, 0, NULL, 1,
				  2000, NULL),
			 DHCP_NAK);
	assert_int_not_equal(exchange(f->s, DHCP_DISCOVER, mac_b, 0, ip, 0,
				      NULL, 1, 2000, &ip2),
			     0);
	assert_int_not_equal(ip2, ip);
}

static void test_static_host(void **state)
{
	struct fixture *f = *state;
	uint32_t ip = 0, name_ip;

	assert_int_equal(exchange(f->s, DHCP_DISCOVER, f->host.mac, 0, 0, 0,
				  NULL, 1, 10, &ip),
			 DHCP_OFFER);
	assert_int_equal(ip, f->host.ip);
	assert_int_equal(dhcp_server_addr_of(f->s, "web", 10, &name_ip), 0);
	assert_int_equal(name_ip, f->host.ip);
}

static void test_decline(void **state)
{
	struct fixture *f = *state;
	uint32_t ip = 0, ip2 = 0;

	exchange(f->s, DHCP_DISCOVER, mac_a, 0, 0, 0, NULL, 1, 10, &ip);
	assert_int_equal(exchange(f->s, DHCP_REQUEST, mac_a, 0, ip,
				  f->cfg.server_ip, NULL, 1, 10, NULL),
			 DHCP_ACK);
	assert_int_equal(exchange(f->s, DHCP_DECLINE, mac_a, 0, ip,
				  f->cfg.server_ip, NULL, 1, 11, NULL),
			 0);
	/* The declined address is held back, for everyone. */
	assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac_a, 0, ip, 0, NULL,
				  1, 12, &ip2),
			 DHCP_OFFER);
	assert_int_not_equal(ip2, ip);
	assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac_b, 0, ip, 0, NULL,
				  1, 12, &ip2),
			 DHCP_OFFER);
	assert_int_not_equal(ip2, ip);
}

static void test_port_offer_limit(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[6] = { 2, 0, 0, 0, 1, 0 };
	int offers = 0;

	/* Port 7 spoofs MACs: two offers, then nothing. */
	for (int i = 0; i < 4; i++) {
		mac[5] = (uint8_t)i;
		if (exchange(f->s, DHCP_DISCOVER, mac, 0, 0, 0, NULL, 7, 100,
			     NULL) == DHCP_OFFER)
			offers++;
	}
	assert_int_equal(offers, 2);
	/* Another port still gets one. */
	assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac_b, 0, 0, 0, NULL, 8,
				  100, NULL),
			 DHCP_OFFER);
	/* Offers expire: port 7 may offer again. */
	dhcp_server_tick(f->s, 100 + DHCP_OFFER_TIMEOUT_DEFAULT);
	mac[5] = 9;
	assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac, 0, 0, 0, NULL, 7,
				  100 + DHCP_OFFER_TIMEOUT_DEFAULT, NULL),
			 DHCP_OFFER);
}

static void test_pool_exhausted_and_release(void **state)
{
	struct fixture *f = *state;
	uint8_t mac[6] = { 2, 0, 0, 0, 2, 0 };
	uint32_t ips[4], ip;

	for (int i = 0; i < 4; i++) {
		mac[5] = (uint8_t)i;
		assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac, 0, 0, 0,
					  NULL, (uint32_t)i, 5, &ips[i]),
				 DHCP_OFFER);
		assert_int_equal(exchange(f->s, DHCP_REQUEST, mac, 0, ips[i],
					  f->cfg.server_ip, NULL, (uint32_t)i,
					  5, NULL),
				 DHCP_ACK);
	}
	assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac_a, 0, 0, 0, NULL, 9,
				  6, NULL),
			 0);
	mac[5] = 2;
	assert_int_equal(exchange(f->s, DHCP_RELEASE, mac, ips[2], 0,
				  f->cfg.server_ip, NULL, 2, 7, NULL),
			 0);
	assert_int_equal(exchange(f->s, DHCP_DISCOVER, mac_a, 0, 0, 0, NULL, 9,
				  8, &ip),
			 DHCP_OFFER);
	assert_int_equal(ip, ips[2]);
	/* The administrator's release frees a lease too. */
	mac[5] = 0;
	assert_int_equal(dhcp_server_release(f->s, mac, 0), 0);
	assert_int_equal(dhcp_server_release(f->s, mac, 0), -ENOENT);
}

static void test_parse_rejects(void **state)
{
	uint8_t b[548];
	struct dhcp_msg m;
	struct pkt_view v = { b, dhcp_req_build(b, DHCP_DISCOVER, mac_a, 0, 0, 0,
					   "x") };

	(void)state;
	assert_int_equal(dhcp_msg_parse(&v, &m), 0);
	/* An option running past the end. */
	b[v.len - 1] = 12;
	b[v.len] = 200;
	v.len++;
	assert_int_equal(dhcp_msg_parse(&v, &m), -EBADMSG);
	/* Bad cookie. */
	v.len = dhcp_req_build(b, DHCP_DISCOVER, mac_a, 0, 0, 0, NULL);
	b[236] = 0;
	assert_int_equal(dhcp_msg_parse(&v, &m), -EBADMSG);
	/* Too short. */
	v.len = 100;
	assert_int_equal(dhcp_msg_parse(&v, &m), -EBADMSG);
	/* A host name that is not a DNS label is ignored, not taken. */
	v.len = dhcp_req_build(b, DHCP_DISCOVER, mac_a, 0, 0, 0, "bad name");
	assert_int_equal(dhcp_msg_parse(&v, &m), 0);
	assert_string_equal(m.hostname, "");
}

static void test_lease_file_bad_lines(void **state)
{
	struct fixture *f = *state;
	char j[80];
	FILE *fp;

	dhcp_server_free(f->s);
	snprintf(j, sizeof(j), "%s.journal", f->path);
	unlink(j);
	fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs("garbage\n"
	      "lease 10.0.0.11 02:00:00:00:00:0a 99999 b 0102 alpha p\n"
	      "lease 10.9.9.9 02:00:00:00:00:0b 99999 b 0103 beta p\n"
	      "lease 10.0.0.50 02:00:00:00:00:0c 99999 b 0104 gamma p\n",
	      fp);
	fclose(fp);
	f->s = dhcp_server_new(&f->cfg);
	assert_non_null(f->s);
	uint32_t ip;

	assert_int_equal(dhcp_server_addr_of(f->s, "alpha", 10, &ip), 0);
	assert_int_equal(ip, IP(10, 0, 0, 11));
	/* Outside the pool, or a static address of another MAC: skipped. */
	assert_int_equal(dhcp_server_addr_of(f->s, "beta", 10, &ip), -ENOENT);
	assert_int_equal(dhcp_server_addr_of(f->s, "gamma", 10, &ip), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dora_and_reload, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_static_host, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_decline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_offer_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pool_exhausted_and_release,
						setup, teardown),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test_setup_teardown(test_lease_file_bad_lines,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
