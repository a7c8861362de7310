/* SPDX-License-Identifier: MIT */
/* dns_cache.c - the upstream answer cache: a hash of questions, an LRU list, TTL offsets aged on the way out. */
#include "services/dns_cache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { NONE = UINT32_MAX };

struct entry {
	bool used;
	bool edns;
	uint16_t qtype, qclass;
	char name[DNS_NAME_MAX + 1];
	uint32_t hnext;	      /* hash chain */
	uint32_t prev, next;  /* LRU list: head = most recent */
	uint64_t stored_ms, expiry_ms;
	uint16_t len, qend, nttl;
	uint16_t ttl_off[DNS_CACHE_RR_MAX];
	uint32_t ttl[DNS_CACHE_RR_MAX]; /* as upstream gave them */
	uint8_t msg[DNS_CACHE_MSG_MAX];
};

struct dns_cache {
	uint32_t max, count, nbuckets;
	struct entry *e;
	uint32_t *buckets;
	uint32_t lru_head, lru_tail;
	uint32_t *free_stack, nfree;
	struct entry scratch; /* a new answer's records, before a slot is taken */
	struct dns_cache_stats st;
};

struct dns_cache *dns_cache_new(uint32_t max)
{
	struct dns_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max ? max : DNS_CACHE_MAX_DEFAULT;
	c->nbuckets = 64;
	while (c->nbuckets < 2 * c->max)
		c->nbuckets <<= 1;
	c->e = calloc(c->max, sizeof(*c->e));
	c->buckets = malloc(c->nbuckets * sizeof(*c->buckets));
	c->free_stack = malloc(c->max * sizeof(*c->free_stack));
	if (!c->e || !c->buckets || !c->free_stack) {
		dns_cache_free(c);
		return NULL;
	}
	memset(c->buckets, 0xff, c->nbuckets * sizeof(*c->buckets));
	for (uint32_t i = 0; i < c->max; i++)
		c->free_stack[c->nfree++] = c->max - 1 - i;
	c->lru_head = c->lru_tail = NONE;
	return c;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->buckets);
	free(c->free_stack);
	free(c);
}

static uint32_t key_hash(const struct dns_cache *c, const char *name,
			 uint16_t qtype, uint16_t qclass, bool edns)
{
	uint32_t h = 2166136261u;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	h = (h ^ qtype) * 16777619u;
	h = (h ^ qclass) * 16777619u;
	h = (h ^ edns) * 16777619u;
	return h & (c->nbuckets - 1);
}

static void lru_unlink(struct dns_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];

	if (e->prev != NONE)
		c->e[e->prev].next = e->next;
	else
		c->lru_head = e->next;
	if (e->next != NONE)
		c->e[e->next].prev = e->prev;
	else
		c->lru_tail = e->prev;
	e->prev = e->next = NONE;
}

static void lru_push_front(struct dns_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];

	e->prev = NONE;
	e->next = c->lru_head;
	if (c->lru_head != NONE)
		c->e[c->lru_head].prev = i;
	c->lru_head = i;
	if (c->lru_tail == NONE)
		c->lru_tail = i;
}

static void entry_drop(struct dns_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];
	uint32_t *p = &c->buckets[key_hash(c, e->name, e->qtype, e->qclass,
					   e->edns)];

	/* Bounded: a chain holds distinct entries, at most c->max. */
	for (uint32_t n = 0; *p != NONE && n < c->max; n++) {
		if (*p == i) {
			*p = e->hnext;
			break;
		}
		p = &c->e[*p].hnext;
	}
	lru_unlink(c, i);
	e->used = false;
	c->free_stack[c->nfree++] = i;
	c->count--;
}

static uint32_t lookup(struct dns_cache *c, const struct dns_query *q)
{
	uint32_t i = c->buckets[key_hash(c, q->name, q->qtype, q->qclass,
					 q->edns)];

	for (uint32_t n = 0; i != NONE && n < c->max; n++) {
		struct entry *e = &c->e[i];

		if (e->qtype == q->qtype && e->qclass == q->qclass &&
		    e->edns == q->edns && !strcmp(e->name, q->name))
			return i;
		i = e->hnext;
	}
	return NONE;
}

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/*
 * Walk @v's records: their TTL offsets and values into @e, the smallest
 * TTL into *@min. Return: 0, or -1 (does not parse, too many records, no
 * record at all).
 */
static int records_walk(const struct pkt_view *v, struct entry *e,
			uint32_t *min)
{
	char name[DNS_NAME_MAX + 1];
	uint16_t qd, an, ns, ar, type, rdlen;
	size_t off = DNS_HDR_LEN, end;
	bool plain;

	if (pkt_be16(v, 4, &qd) || pkt_be16(v, 6, &an) ||
	    pkt_be16(v, 8, &ns) || pkt_be16(v, 10, &ar) || qd != 1)
		return -1;
	if (dns_name_read(v, off, name, &end, &plain) || end + 4 > v->len)
		return -1;
	off = end + 4;
	e->qend = (uint16_t)off;
	e->nttl = 0;
	*min = UINT32_MAX;
	for (uint32_t k = 0; k < (uint32_t)an + ns + ar; k++) {
		if (dns_name_read(v, off, name, &end, &plain) ||
		    pkt_be16(v, end, &type) || pkt_be16(v, end + 8, &rdlen) ||
		    end + 10 + rdlen > v->len)
			return -1;
		if (type != DNS_TYPE_OPT) {
			uint32_t ttl = be32_at(v->data + end + 4);

			if (e->nttl == DNS_CACHE_RR_MAX)
				return -1;
			e->ttl_off[e->nttl] = (uint16_t)(end + 4);
			e->ttl[e->nttl++] = ttl;
			if (ttl < *min)
				*min = ttl;
		}
		off = end + 10 + rdlen;
	}
	return e->nttl ? 0 : -1;
}

void dns_cache_put(struct dns_cache *c, const struct dns_query *q,
		   const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct pkt_view v = { msg, len };
	uint16_t flags;
	uint32_t i, min, h;
	struct entry *e;

	if (len > DNS_CACHE_MSG_MAX || pkt_be16(&v, 2, &flags) ||
	    (flags & DNS_FLAG_TC) ||
	    ((flags & 0xf) != DNS_RCODE_NOERROR &&
	     (flags & 0xf) != DNS_RCODE_NXDOMAIN)) {
		c->st.uncacheable++;
		return;
	}
	if (records_walk(&v, &c->scratch, &min) || min == 0) {
		c->st.uncacheable++;
		return;
	}
	i = lookup(c, q);
	if (i != NONE)
		entry_drop(c, i); /* a fresher answer replaces it */
	if (!c->nfree) {
		entry_drop(c, c->lru_tail);
		c->st.evictions++;
	}
	i = c->free_stack[--c->nfree];
	e = &c->e[i];
	e->qend = c->scratch.qend;
	e->nttl = c->scratch.nttl;
	memcpy(e->ttl_off, c->scratch.ttl_off, sizeof(e->ttl_off));
	memcpy(e->ttl, c->scratch.ttl, sizeof(e->ttl));
	if (min > DNS_CACHE_TTL_MAX)
		min = DNS_CACHE_TTL_MAX;
	e->used = true;
	e->edns = q->edns;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	memcpy(e->name, q->name, sizeof(e->name));
	e->len = (uint16_t)len;
	memcpy(e->msg, msg, len);
	e->stored_ms = now_ms;
	e->expiry_ms = now_ms + (uint64_t)min * 1000;
	h = key_hash(c, e->name, e->qtype, e->qclass, e->edns);
	e->hnext = c->buckets[h];
	c->buckets[h] = i;
	lru_push_front(c, i);
	c->count++;
	c->st.inserts++;
}

size_t dns_cache_get(struct dns_cache *c, const struct pkt_view *raw,
		     const struct dns_query *q, uint8_t *out, size_t cap,
		     uint64_t now_ms)
{
	uint32_t i = lookup(c, q), age;
	struct entry *e;

	if (i == NONE) {
		c->st.misses++;
		return 0;
	}
	e = &c->e[i];
	if (e->expiry_ms <= now_ms) {
		entry_drop(c, i);
		c->st.expired++;
		c->st.misses++;
		return 0;
	}
	/* The client's question bytes (its letter case) must fit in place. */
	if (e->len > cap || q->qend != e->qend || raw->len < q->qend) {
		c->st.misses++;
		return 0;
	}
	lru_unlink(c, i);
	lru_push_front(c, i);
	memcpy(out, e->msg, e->len);
	memcpy(out, raw->data, 2); /* the client's ID */
	memcpy(out + DNS_HDR_LEN, raw->data + DNS_HDR_LEN,
	       q->qend - DNS_HDR_LEN);
	age = (uint32_t)((now_ms - e->stored_ms) / 1000);
	for (uint32_t k = 0; k < e->nttl; k++) {
		uint32_t t = e->ttl[k] > age ? e->ttl[k] - age : 0;
		uint8_t *p = out + e->ttl_off[k];

		p[0] = (uint8_t)(t >> 24);
		p[1] = (uint8_t)(t >> 16);
		p[2] = (uint8_t)(t >> 8);
		p[3] = (uint8_t)t;
	}
	c->st.hits++;
	return e->len;
}

void dns_cache_stats_get(const struct dns_cache *c, struct dns_cache_stats *st)
{
	*st = c->st;
}

uint32_t dns_cache_count(const struct dns_cache *c)
{
	return c->count;
}
