/* SPDX-License-Identifier: MIT */
/* dns.h - a network's DNS server: local names authoritatively, everything else forwarded upstream. */
#ifndef LOOM_SERVICES_DNS_H
#define LOOM_SERVICES_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/pkt.h"
#include "services/dns_msg.h"

/*
 * Local names: NAME.DOMAIN (and a bare NAME) from the lookup callbacks
 * (static hosts, leases, attached VMs), PTR for the network's subnet.
 * NXDOMAIN / NODATA carry the domain's SOA.
 *
 * Forwarding: to the upstream servers (the host's /etc/resolv.conf, or
 * configured), one UDP socket per outstanding query, connect()ed to the
 * server (so the kernel drops datagrams from any other address or port),
 * with a random ID and the kernel's random source port; an answer is
 * taken only when its ID and question match too. Limits: at most
 * @fwd_max queries outstanding (DNS_FWD_MAX_DEFAULT); a query beyond
 * that gets SERVFAIL at once. A query not answered within @fwd_timeout_ms
 * is retried once at the next server, then answered with SERVFAIL.
 * Upstream answers are cached (services/dns_cache.h: at most @cache_max
 * entries, TTLs honoured, least recently used evicted).
 */
enum {
	DNS_UPSTREAM_MAX = 4,
	DNS_FWD_MAX_DEFAULT = 1024,
	DNS_FWD_TIMEOUT_MS_DEFAULT = 2000,
	DNS_LOCAL_TTL_DEFAULT = 10,
};

/* struct dns_client - where a query came from (and its answer goes). */
struct dns_client {
	uint8_t mac[6];
	bool v6;
	uint32_t ip4; /* host order */
	uint8_t ip6[16];
	uint16_t port;
	bool tcp; /* over a TCP stream: no 512-byte / EDNS limit */
};

/*
 * struct dns_lookup_ops - the local names, asked on the server's thread.
 * @addr4: host @name's IPv4 address. Return: 0, or -ENOENT.
 * @addr6: its IPv6 address (may be NULL). Return: 0, or -ENOENT.
 * @name4: the host name of IPv4 @ip, or NULL.
 * @in_subnet4: is @ip one of ours (PTR answered here, not forwarded)?
 */
struct dns_lookup_ops {
	int (*addr4)(void *arg, const char *name, uint32_t *ip);
	int (*addr6)(void *arg, const char *name, uint8_t ip[16]);
	const char *(*name4)(void *arg, uint32_t ip);
	bool (*in_subnet4)(void *arg, uint32_t ip);
};

/*
 * dns_reply_fn - an answer from upstream for @c is ready (@msg, @len):
 * the owner wraps it into a frame and sends it.
 */
typedef void (*dns_reply_fn)(void *arg, const struct dns_client *c,
			     const uint8_t *msg, size_t len);

struct dns_server_config {
	char domain[DNS_NAME_MAX + 1];
	uint32_t ttl;
	struct sockaddr_storage upstream[DNS_UPSTREAM_MAX];
	uint32_t nupstream;
	uint32_t fwd_max, fwd_timeout_ms;
	uint32_t cache_max; /* 0: DNS_CACHE_MAX_DEFAULT */
};

struct dns_stats {
	uint64_t queries, local, nxdomain, forwarded, fwd_answers, fwd_timeouts,
		fwd_full, fwd_mismatch, malformed;
	uint64_t cache_hits, cache_entries;
};

struct dns_server;

/*
 * dns_server_new - a server for @cfg; lookups through @ops/@arg, upstream
 * answers through @reply/@reply_arg.
 * Return: the server, or NULL with errno set.
 */
struct dns_server *dns_server_new(const struct dns_server_config *cfg,
				  const struct dns_lookup_ops *ops, void *arg,
				  dns_reply_fn reply, void *reply_arg);
void dns_server_free(struct dns_server *s);

/*
 * dns_server_query - answer query @msg from @c into @out, or forward it.
 * Return: the answer's length (> 0), 0 when forwarded or dropped.
 */
int dns_server_query(struct dns_server *s, const struct pkt_view *msg,
		     const struct dns_client *c, uint8_t *out, size_t cap);

/*
 * dns_server_query_local - the same for local names only: a name that
 * would be forwarded gets REFUSED (the host's own resolver asks netd only
 * for the networks' names).
 * Return: the answer's length (> 0), 0 when dropped.
 */
int dns_server_query_local(struct dns_server *s, const struct pkt_view *msg,
			   uint8_t *out, size_t cap);

/* dns_server_is_local - is @name one this server answers itself? */
bool dns_server_is_local(const struct dns_server *s, const char *name);

/*
 * dns_server_fd - an epoll fd that is readable when an upstream answer
 * waits; then call dns_server_run(). dns_server_tick() handles timeouts
 * (call it every 100-500 ms with the monotonic time in ms).
 */
int dns_server_fd(struct dns_server *s);
void dns_server_run(struct dns_server *s, uint64_t now_ms);
void dns_server_tick(struct dns_server *s, uint64_t now_ms);

void dns_server_stats_get(const struct dns_server *s, struct dns_stats *st);

/*
 * dns_resolv_conf_read - the nameserver lines of @path (/etc/resolv.conf)
 * into @out, skipping @skip4 (the gateway itself: no loops).
 * Return: servers read.
 */
uint32_t dns_resolv_conf_read(const char *path, uint32_t skip4,
			      struct sockaddr_storage *out, uint32_t max);

#endif
