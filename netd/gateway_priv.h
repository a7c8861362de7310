/* SPDX-License-Identifier: MIT */
/* gateway_priv.h - a network's gateway in netd: struct netd_gw, shared by netd/gateway*.c only. */
#ifndef LOOM_NETD_GATEWAY_PRIV_H
#define LOOM_NETD_GATEWAY_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "netd/netd.h"
#include "netd/service.h"

/*
 * Threads (docs/architecture.md, "Gateway services"): the data-path thread
 * answers ARP/ICMP/NDP inside the port's send and queues DHCP and DNS
 * frames; netd/gateway.c runs them on the control thread's loop. Per
 * wake-up it takes at most NETD_GW_BATCH requests, builds every reply,
 * appends the changed leases to the lease journal with one fdatasync
 * (group commit: services/lease_journal.h) and only then queues the
 * replies, so an ACK never leaves before its lease is on disk.
 */
enum {
	/* Requests per wake-up, so ACKs per fdatasync at most (group commit). */
	NETD_GW_BATCH = 256,
	/* A DHCP reply's frame: options are bounded (services/dhcp.h), far
	 * below this; the pending buffer need not hold frame_max each. */
	NETD_GW_REPLY_MAX = 4096,
	NETD_GW_TICK_MS = 250,
	NETD_GW_RA_MS = 60000,
};

struct netd_gw {
	struct netd *d;
	struct netd_net *n;
	struct gateway *gw;
	int port_id;
	struct netd_dp_port *dp;
	struct dhcp_server *dhcp;
	struct dns_server *dns;
	struct evloop_timer *tick;
	uint64_t last_dhcp_tick, last_ra;
	size_t frame_max;
	uint8_t *in;
	size_t reply_max; /* a pending reply's slot: <= NETD_GW_REPLY_MAX */
	uint8_t *pending; /* NETD_GW_BATCH replies waiting for the commit */
	size_t pending_len[NETD_GW_BATCH];
	unsigned int npending;
	char lease_path[512];
};

/* gateway_names.c: the local names (DNS look-ups, on the control thread). */
struct dns_lookup_ops;
extern const struct dns_lookup_ops netd_gw_dns_ops;

/* gateway_status.c: leases and status for the control protocol. */
extern const struct netd_command netd_gw_commands[];

/* gateway_host_dns.c: the host's view of the names (--dns-listen). */
int netd_host_dns_start(struct netd *d);
void netd_host_dns_stop(struct netd *d);

#endif
