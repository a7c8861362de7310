/* SPDX-License-Identifier: MIT */
/* dns_cache.h - a bounded, TTL-honouring cache of the answers upstream servers gave. */
#ifndef LOOM_SERVICES_DNS_CACHE_H
#define LOOM_SERVICES_DNS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "services/dns_msg.h"

/*
 * Keyed by the question (name, case-insensitive; type; class) and whether
 * the query carried EDNS0 (an answer with an OPT record is only for a
 * client that sent one).
 *
 * Lifetime: an entry lives for the smallest TTL among its records (every
 * section; OPT excluded), at most DNS_CACHE_TTL_MAX seconds; a negative
 * answer (NXDOMAIN or NODATA) carries its zone's SOA in the authority
 * section, whose TTL is the negative TTL (RFC 2308). Served answers get
 * the client's ID and question bytes and every TTL lowered by the
 * entry's age, so a client never holds a record longer than upstream
 * allowed.
 *
 * Not cached: truncated answers (TC), rcodes other than NOERROR and
 * NXDOMAIN, answers without any record or with a TTL of 0, answers
 * longer than DNS_CACHE_MSG_MAX or with more than DNS_CACHE_RR_MAX
 * records, and anything that does not parse.
 *
 * Limits and eviction: at most @max entries (DNS_CACHE_MAX_DEFAULT),
 * allocated once; an expired entry is dropped when it is looked up, and
 * when the cache is full a new answer evicts the least recently used
 * entry.
 */
enum {
	DNS_CACHE_MAX_DEFAULT = 4096,
	DNS_CACHE_MSG_MAX = DNS_EDNS_MAX,
	DNS_CACHE_RR_MAX = 32,
	DNS_CACHE_TTL_MAX = 86400,
};

struct dns_cache_stats {
	uint64_t hits, misses, inserts, evictions, expired, uncacheable;
};

struct dns_cache;

/* dns_cache_new - room for @max entries (0: the default). NULL: ENOMEM. */
struct dns_cache *dns_cache_new(uint32_t max);
void dns_cache_free(struct dns_cache *c);

/* dns_cache_put - keep upstream's answer @msg/@len to @q (if cacheable). */
void dns_cache_put(struct dns_cache *c, const struct dns_query *q,
		   const uint8_t *msg, size_t len, uint64_t now_ms);

/*
 * dns_cache_get - the cached answer to query @raw/@q into @out, with
 * @q's ID and question and the TTLs aged.
 * Return: its length, or 0 (a miss, or @cap too small).
 */
size_t dns_cache_get(struct dns_cache *c, const struct pkt_view *raw,
		     const struct dns_query *q, uint8_t *out, size_t cap,
		     uint64_t now_ms);

void dns_cache_stats_get(const struct dns_cache *c, struct dns_cache_stats *st);
uint32_t dns_cache_count(const struct dns_cache *c);

#endif
