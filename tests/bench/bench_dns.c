/* SPDX-License-Identifier: MIT */
/* bench_dns.c - the DNS server's own answer rate for a local name: parse, look up, write the answer; no network in between. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "services/dhcp.h"
#include "services/dns.h"

/*
 * What tests/bench/dhcp-dns.sh cannot separate: how much of a query's
 * cost is the server's own work. One query for web.bench.loom (A) through
 * dns_server_query() against a lookup that, like netd's, finds the name
 * in a DHCP lease table (services/dhcp.h with one static host), answered
 * 2,000,000 times; 5 rounds, median. The gap to dnsperf's figure is the
 * transport: TAP, the switch, and the two queues between the data-path
 * and control threads (docs/performance.md).
 */
enum { QUERIES = 2000000, ROUNDS = 5 };

static struct dhcp_server *dhcp;

static int addr4(void *arg, const char *name, uint32_t *ip)
{
	(void)arg;
	return dhcp_server_addr_of(dhcp, name, 1000, ip);
}

static const char *name4(void *arg, uint32_t ip)
{
	(void)arg;
	return dhcp_server_name_of(dhcp, ip, 1000);
}

static bool in4(void *arg, uint32_t ip)
{
	(void)arg;
	return (ip >> 16) == 0x0aee;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	static const struct dns_lookup_ops ops = { .addr4 = addr4,
						   .name4 = name4,
						   .in_subnet4 = in4 };
	static const struct lease_static web = { { 2, 0x38, 0, 0, 0, 0xa },
						 0x0aee000a, "web" };
	static const uint8_t q[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0,
				     0, 0, 3, 'w', 'e', 'b', 5, 'b', 'e', 'n',
				     'c', 'h', 4, 'l', 'o', 'o', 'm', 0, 0, 1,
				     0, 1 };
	struct dhcp_server_config dc;
	struct dns_server_config c;
	struct pkt_view v = { q, sizeof(q) };
	struct dns_client cl = { 0 };
	double rate[ROUNDS];
	struct dns_server *s;
	uint8_t out[512];

	memset(&dc, 0, sizeof(dc));
	dc.server_ip = 0x0aee0001;
	dc.netmask = 0xffff0000;
	dc.first = 0x0aee0100;
	dc.last = 0x0aeefffe;
	dc.hosts = &web;
	dc.nhosts = 1;
	dhcp = dhcp_server_new(&dc);
	memset(&c, 0, sizeof(c));
	snprintf(c.domain, sizeof(c.domain), "bench.loom");
	s = dhcp ? dns_server_new(&c, &ops, NULL, NULL, NULL) : NULL;
	if (!s) {
		perror("server");
		return 1;
	}
	for (int r = 0; r < ROUNDS; r++) {
		double t0 = now_s();

		for (int i = 0; i < QUERIES; i++)
			if (dns_server_query(s, &v, &cl, out, sizeof(out)) <= 0) {
				fprintf(stderr, "no answer\n");
				return 1;
			}
		rate[r] = QUERIES / (now_s() - t0);
	}
	qsort(rate, ROUNDS, sizeof(rate[0]), cmp_double);
	printf("BENCH dns.server.local %.0f qps\n", rate[ROUNDS / 2]);
	dns_server_free(s);
	dhcp_server_free(dhcp);
	return 0;
}
