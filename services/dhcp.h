/* SPDX-License-Identifier: MIT */
/* dhcp.h - a network's DHCPv4 server (RFC 2131): leases, offers, the reply to each request. */
#ifndef LOOM_SERVICES_DHCP_H
#define LOOM_SERVICES_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "services/dhcp_msg.h"
#include "services/lease.h"

/*
 * Limits and eviction:
 *  - leases: the lease table (services/lease.h), one slot per address.
 *  - outstanding offers: at most @offers_per_port per switch port
 *    (DHCP_OFFERS_PER_PORT_DEFAULT); a DISCOVER from a port at its limit
 *    gets no offer (counted) until one of that port's offers is taken or
 *    expires (@offer_timeout seconds), so one port spoofing MACs cannot
 *    take the pool from the others. A port requests come through with a
 *    relay agent's giaddr may have DHCP_OFFERS_PER_RELAY (it speaks for a
 *    whole segment).
 *  - a DECLINEd address is not offered for @decline_hold seconds.
 */
enum {
	DHCP_DNS_MAX = 4,
	DHCP_NTP_MAX = 4,
	DHCP_SEARCH_MAX = 4,
	DHCP_ROUTES_MAX = 16,
	DHCP_DOMAIN_MAX = 254,
	DHCP_PORTS_MAX = 4096,
	DHCP_OFFERS_PER_PORT_DEFAULT = 16,
	DHCP_OFFERS_PER_RELAY = 4096, /* the port of a relay agent (giaddr) */
	DHCP_OFFER_TIMEOUT_DEFAULT = 30,
	DHCP_DECLINE_HOLD_DEFAULT = 600,
	DHCP_LEASE_TIME_DEFAULT = 3600,
	DHCP_LEASE_TIME_MIN = 60,
};

struct dhcp_route {
	uint32_t net;
	uint8_t prefix;
	uint32_t gw;
};

/*
 * struct dhcp_server_config - addresses host order; 0 = not given.
 * @router: option 3 (and 121's default route when @routes are given)
 * @lease_path: the lease file, or NULL for leases in memory only (tests)
 */
struct dhcp_server_config {
	uint32_t server_ip, netmask, router;
	uint32_t first, last;
	uint32_t lease_time, mtu;
	uint32_t dns[DHCP_DNS_MAX];
	uint32_t ndns;
	uint32_t ntp[DHCP_NTP_MAX];
	uint32_t nntp;
	char domain[DHCP_DOMAIN_MAX];
	char search[DHCP_SEARCH_MAX][DHCP_DOMAIN_MAX];
	uint32_t nsearch;
	struct dhcp_route routes[DHCP_ROUTES_MAX];
	uint32_t nroutes;
	const struct lease_static *hosts;
	uint32_t nhosts;
	uint32_t offers_per_port, offer_timeout, decline_hold;
	const char *lease_path;
};

struct dhcp_stats {
	uint64_t rx[DHCP_INFORM + 1]; /* by message type */
	uint64_t offers, acks, naks;
	uint64_t malformed, pool_empty, port_limit, ignored;
	uint64_t commits, commit_errors;
};

/* struct dhcp_request_ctx - where a request came from. */
struct dhcp_request_ctx {
	uint32_t port_id;      /* switch port (offer limit); < DHCP_PORTS_MAX */
	const char *port_name; /* shown in lease listings */
	uint64_t now;	       /* unix seconds */
};

/*
 * struct dhcp_reply - what dhcp_server_handle() decided to send. A request
 * through a relay agent (giaddr, which must lie in the server's subnet:
 * there is one pool) is answered to the relay.
 * @len: reply length in the caller's buffer; 0: no reply
 * @dst_ip, @dst_mac: where to (IPv4 255.255.255.255 + broadcast MAC, or
 *	the client's address and chaddr)
 */
struct dhcp_reply {
	int len;
	uint32_t dst_ip;
	uint8_t dst_mac[6];
	bool to_relay; /* to @dst_ip = giaddr, port 67, the relay's MAC */
};

struct dhcp_server;

/*
 * dhcp_server_new - a server for @cfg (copied, static hosts too); loads
 * cfg->lease_path when set.
 * Return: the server, or NULL with errno (EINVAL: bad config, ENOMEM, or
 * the lease file's read error).
 */
struct dhcp_server *dhcp_server_new(const struct dhcp_server_config *cfg);
void dhcp_server_free(struct dhcp_server *s);

/*
 * dhcp_server_handle - act on one parsed request; build the reply (if
 * any) into @buf (@cap >= DHCP_REPLY_MIN). A change to a BOUND lease
 * marks the server dirty: the caller must dhcp_server_commit() before it
 * sends the reply, so every acknowledged lease is on disk first.
 * Return: 0, or a negative errno (reply too large for @buf).
 */
int dhcp_server_handle(struct dhcp_server *s, const struct dhcp_msg *req,
		       const struct dhcp_request_ctx *ctx, uint8_t *buf,
		       size_t cap, struct dhcp_reply *rep);

/*
 * dhcp_server_commit - write the lease file when something changed since
 * the last commit (a no-op otherwise, or without a lease file).
 * Return: 0, or a negative errno: the caller then must not send the ACKs
 * built since the last commit.
 */
int dhcp_server_commit(struct dhcp_server *s);
bool dhcp_server_dirty(const struct dhcp_server *s);

/* dhcp_server_tick - expire offers whose time is up (call each second). */
void dhcp_server_tick(struct dhcp_server *s, uint64_t now);

/*
 * dhcp_server_release - an administrator frees the lease of @mac (when
 * non-NULL) or of address @ip. Marks the server dirty.
 * Return: 0, or -ENOENT.
 */
int dhcp_server_release(struct dhcp_server *s, const uint8_t *mac,
			uint32_t ip);

/* dhcp_server_leases - the lease table (read on the server's thread). */
struct lease_table *dhcp_server_leases(struct dhcp_server *s);
void dhcp_server_stats_get(const struct dhcp_server *s, struct dhcp_stats *st);
const struct dhcp_server_config *dhcp_server_config_get(
	const struct dhcp_server *s);

/*
 * dhcp_server_addr_of - the address of host @name (static host, or a
 * BOUND unexpired lease with that host name) at @now.
 * Return: 0 with *@ip set, or -ENOENT.
 */
int dhcp_server_addr_of(struct dhcp_server *s, const char *name, uint64_t now,
			uint32_t *ip);

/*
 * dhcp_server_mac_of - the MAC of host @name (a static host's, or the
 * holder's of a BOUND unexpired lease with that host name) at @now.
 * Return: 0 with @mac set, or -ENOENT.
 */
int dhcp_server_mac_of(struct dhcp_server *s, const char *name, uint64_t now,
		       uint8_t mac[6]);

/* dhcp_server_name_of - the host name for @ip, or NULL. */
const char *dhcp_server_name_of(struct dhcp_server *s, uint32_t ip,
				uint64_t now);

#endif
