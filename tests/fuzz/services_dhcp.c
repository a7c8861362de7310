/* SPDX-License-Identifier: MIT */
/* services_dhcp.c - fuzz target: DHCP requests through the parser and the server state machine. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/dhcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Input: u8 port, u8 time step, then the DHCP payload. One server lives
 * across inputs (in memory, no lease file) so sequences build up state;
 * its pool is small so exhaustion and reuse are reached.
 */
static struct dhcp_server *srv;
static uint64_t now = 1000;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct lease_static host = {
		{ 2, 0, 0, 0, 0, 9 }, 0x0a000032, "web" };
	struct dhcp_request_ctx ctx;
	struct dhcp_reply rep;
	struct dhcp_msg m;
	struct pkt_view v;
	uint8_t out[1500];

	if (!srv) {
		struct dhcp_server_config c;

		memset(&c, 0, sizeof(c));
		c.server_ip = 0x0a000001;
		c.router = 0x0a000001;
		c.netmask = 0xffffff00;
		c.first = 0x0a00000a;
		c.last = 0x0a000011;
		c.hosts = &host;
		c.nhosts = 1;
		c.nroutes = 1;
		c.routes[0].net = 0xc0a80000;
		c.routes[0].prefix = 16;
		c.routes[0].gw = 0x0a000001;
		c.nsearch = 1;
		strcpy(c.search[0], "lab.loom");
		srv = dhcp_server_new(&c);
		if (!srv)
			abort();
	}
	if (size < 2)
		return 0;
	ctx.port_id = data[0] % 8;
	ctx.port_name = "p";
	now += data[1];
	ctx.now = now;
	v.data = data + 2;
	v.len = size - 2;
	if (dhcp_msg_parse(&v, &m))
		return 0;
	if (dhcp_server_handle(srv, &m, &ctx, out, sizeof(out), &rep))
		return 0;
	if (rep.len < 0 || (size_t)rep.len > sizeof(out))
		abort();
	dhcp_server_commit(srv);
	if (data[1] > 200)
		dhcp_server_tick(srv, now);
	return 0;
}
