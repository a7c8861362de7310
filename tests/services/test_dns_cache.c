/* SPDX-License-Identifier: MIT */
/* test_dns_cache.c - the upstream answer cache: hits with aged TTLs, expiry, LRU eviction, what is not cached. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "services/dns_cache.h"
#include "tests/services/msg_build.h"

/* A query for @name (type A), ID @id, with an OPT record when @edns. */
static size_t query_build(uint8_t *b, uint16_t id, const char *name, bool edns)
{
	size_t o = dns_query_build(b, name, DNS_TYPE_A);

	b[0] = (uint8_t)(id >> 8);
	b[1] = (uint8_t)id;
	if (edns) {
		b[11] = 1;
		memcpy(b + o, "\0\0\x29\x04\xd0\0\0\0\0\0\0", 11);
		o += 11;
	}
	return o;
}

/* Upstream's answer to @q: one A record with @ttl, @rcode. */
static size_t answer_build(uint8_t *b, const uint8_t *q, size_t qlen,
			   uint32_t ttl, uint8_t rcode, bool tc)
{
	size_t o = qlen;

	memcpy(b, q, qlen);
	b[2] = 0x81 | (tc ? 0x02 : 0);
	b[3] = 0x80 | rcode;
	b[7] = 1; /* ancount */
	b[11] = 0;
	memcpy(b + o, "\xc0\x0c\0\x01\0\x01", 6);
	o += 6;
	b[o++] = (uint8_t)(ttl >> 24);
	b[o++] = (uint8_t)(ttl >> 16);
	b[o++] = (uint8_t)(ttl >> 8);
	b[o++] = (uint8_t)ttl;
	memcpy(b + o, "\0\x04\xc0\0\x02\x4d", 6);
	return o + 6;
}

struct q {
	uint8_t raw[512];
	struct pkt_view v;
	struct dns_query dq;
};

static void q_make(struct q *x, uint16_t id, const char *name, bool edns)
{
	x->v.data = x->raw;
	x->v.len = query_build(x->raw, id, name, edns);
	assert_int_equal(dns_query_parse(&x->v, &x->dq), 0);
}

static uint32_t ttl_of(const uint8_t *msg, size_t qend)
{
	const uint8_t *p = msg + qend + 6;

	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static void test_hit_ages_ttl(void **state)
{
	struct dns_cache *c = dns_cache_new(8);
	uint8_t up[512], out[512];
	struct q a, b;
	size_t n, len;

	q_make(&a, 0x1111, "www.example.org", false);
	len = answer_build(up, a.raw, a.v.len, 300, 0, false);
	assert_int_equal(dns_cache_get(c, &a.v, &a.dq, out, sizeof(out), 1000),
			 0);
	dns_cache_put(c, &a.dq, up, len, 1000);
	/* Another client, other letter case, 100 s later. */
	q_make(&b, 0x2222, "WWW.Example.ORG", false);
	n = dns_cache_get(c, &b.v, &b.dq, out, sizeof(out), 101000);
	assert_int_equal(n, len);
	assert_int_equal(out[0], 0x22);
	assert_int_equal(out[1], 0x22);
	assert_memory_equal(out + DNS_HDR_LEN, b.raw + DNS_HDR_LEN,
			    b.dq.qend - DNS_HDR_LEN);
	assert_int_equal(ttl_of(out, b.dq.qend), 200);
	assert_memory_equal(out + n - 4, "\xc0\0\x02\x4d", 4);
	/* Expired at 300 s: a miss, and the entry is gone. */
	assert_int_equal(dns_cache_get(c, &b.v, &b.dq, out, sizeof(out),
				       301000),
			 0);
	assert_int_equal(dns_cache_count(c), 0);
	dns_cache_free(c);
}

static void test_lru_eviction(void **state)
{
	struct dns_cache *c = dns_cache_new(2);
	uint8_t up[512], out[512];
	struct q x[3];
	const char *names[3] = { "a.example", "b.example", "c.example" };
	struct dns_cache_stats st;

	for (int i = 0; i < 3; i++) {
		q_make(&x[i], (uint16_t)i, names[i], false);
		if (i == 2) /* a used recently: b is the least recent */
			assert_true(dns_cache_get(c, &x[0].v, &x[0].dq, out,
						  sizeof(out), 10) > 0);
		dns_cache_put(c, &x[i].dq, up,
			      answer_build(up, x[i].raw, x[i].v.len, 60, 0,
					   false),
			      10);
	}
	assert_int_equal(dns_cache_count(c), 2);
	assert_true(dns_cache_get(c, &x[0].v, &x[0].dq, out, sizeof(out), 20) >
		    0);
	assert_int_equal(dns_cache_get(c, &x[1].v, &x[1].dq, out, sizeof(out),
				       20),
			 0);
	assert_true(dns_cache_get(c, &x[2].v, &x[2].dq, out, sizeof(out), 20) >
		    0);
	dns_cache_stats_get(c, &st);
	assert_int_equal(st.evictions, 1);
	dns_cache_free(c);
}

static void test_not_cached(void **state)
{
	struct dns_cache *c = dns_cache_new(8);
	uint8_t up[512], out[512];
	struct q a, e;

	q_make(&a, 1, "x.example", false);
	answer_build(up, a.raw, a.v.len, 60, 0, false);
	dns_cache_put(c, &a.dq, up, a.v.len + 3, 0); /* cut short */
	dns_cache_put(c, &a.dq, up, answer_build(up, a.raw, a.v.len, 0, 0, false),
		      0); /* TTL 0 */
	dns_cache_put(c, &a.dq, up, answer_build(up, a.raw, a.v.len, 60, 2, false),
		      0); /* SERVFAIL */
	dns_cache_put(c, &a.dq, up, answer_build(up, a.raw, a.v.len, 60, 0, true),
		      0); /* truncated */
	assert_int_equal(dns_cache_count(c), 0);
	/* NXDOMAIN with a record (the SOA, here an A for brevity) is kept. */
	dns_cache_put(c, &a.dq, up, answer_build(up, a.raw, a.v.len, 60, 3, false),
		      0);
	assert_int_equal(dns_cache_count(c), 1);
	assert_true(dns_cache_get(c, &a.v, &a.dq, out, sizeof(out), 1) > 0);
	assert_int_equal(out[3] & 0xf, 3);
	/* The same name asked with EDNS0 is another entry. */
	q_make(&e, 2, "x.example", true);
	assert_int_equal(dns_cache_get(c, &e.v, &e.dq, out, sizeof(out), 1), 0);
	/* Too small a buffer: a miss, nothing written past it. */
	assert_int_equal(dns_cache_get(c, &a.v, &a.dq, out, 20, 1), 0);
	dns_cache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_ages_ttl),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_not_cached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
