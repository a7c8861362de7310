/* SPDX-License-Identifier: MIT */
/* bench_dhcp.c - the DHCP server's own capacity: parse, DORA, journal group commit with fdatasync, no network in between. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "services/dhcp.h"
#include "tests/services/msg_build.h"

/*
 * What perfdhcp cannot show on a loaded 2-core machine (it loses replies
 * in its own socket buffer first: docs/performance.md): how many leases
 * per second the server itself acknowledges with each lease on disk. 20032
 * distinct clients, in batches of BATCH (the netd control loop's batch):
 * every client's DISCOVER and REQUEST are parsed and answered, then one
 * dhcp_server_commit() (journal append + fdatasync) per batch, as netd
 * does before it sends the batch's ACKs. The lease file lives in
 * $BENCH_DIR (default /var/tmp: a disk, not tmpfs). 5 rounds, median.
 */
enum { BATCH = 64, CLIENTS = 313 * BATCH, ROUNDS = 5 }; /* 20032 clients */

static int one(struct dhcp_server *s, uint8_t type, unsigned int client,
	       uint32_t reqip, uint64_t now, uint32_t *yiaddr)
{
	uint8_t in[548], out[1024];
	const uint8_t mac[6] = { 2, 0x42, 0, 0, (uint8_t)(client >> 8),
				 (uint8_t)client };
	struct pkt_view v = { in, dhcp_req_build(in, type, mac, 0, reqip,
						 reqip ? 0x0aee0001 : 0,
						 NULL) };
	struct dhcp_request_ctx ctx = { 1, "bench", now };
	struct dhcp_reply rep;
	struct dhcp_msg m;

	if (dhcp_msg_parse(&v, &m) ||
	    dhcp_server_handle(s, &m, &ctx, out, sizeof(out), &rep) ||
	    !rep.len)
		return -1;
	*yiaddr = (uint32_t)out[16] << 24 | out[17] << 16 | out[18] << 8 |
		  out[19];
	return 0;
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
	const char *dir = getenv("BENCH_DIR") ? getenv("BENCH_DIR") : "/var/tmp";
	char path[512], jpath[600];
	double rate[ROUNDS];
	struct dhcp_server_config c;
	static uint32_t ip[BATCH];

	snprintf(path, sizeof(path), "%s/loom-bench-leases.%d", dir,
		 (int)getpid());
	snprintf(jpath, sizeof(jpath), "%s.journal", path);
	memset(&c, 0, sizeof(c));
	c.server_ip = c.router = 0x0aee0001;
	c.netmask = 0xffff0000;
	c.first = 0x0aee0100;
	c.last = 0x0aeefffe;
	c.offers_per_port = BATCH;
	c.lease_path = path;
	for (int r = 0; r < ROUNDS; r++) {
		struct dhcp_server *s;
		unsigned int acks = 0;
		double t0;

		unlink(path);
		unlink(jpath);
		s = dhcp_server_new(&c);
		if (!s) {
			perror(path);
			return 1;
		}
		t0 = now_s();
		for (unsigned int b = 0; b < CLIENTS; b += BATCH) {
			for (unsigned int k = 0; k < BATCH; k++)
				if (one(s, DHCP_DISCOVER, b + k, 0, 1000,
					&ip[k]))
					ip[k] = 0;
			for (unsigned int k = 0; k < BATCH; k++) {
				uint32_t got;

				if (ip[k] && !one(s, DHCP_REQUEST, b + k,
						  ip[k], 1000, &got))
					acks++;
			}
			if (dhcp_server_commit(s)) {
				perror("commit");
				return 1;
			}
		}
		rate[r] = acks / (now_s() - t0);
		dhcp_server_free(s);
		if (acks != CLIENTS) {
			fprintf(stderr, "only %u of %u clients bound\n", acks,
				CLIENTS);
			return 1;
		}
	}
	unlink(path);
	unlink(jpath);
	qsort(rate, ROUNDS, sizeof(rate[0]), cmp_double);
	printf("BENCH dhcp.server.journal %.0f leases/s\n", rate[ROUNDS / 2]);
	return 0;
}
