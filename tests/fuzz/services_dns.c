/* SPDX-License-Identifier: MIT */
/* services_dns.c - fuzz target: DNS queries through the parser and the local answers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/dns.h"
#include "services/dns_cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int f_addr4(void *arg, const char *name, uint32_t *ip)
{
	(void)arg;
	if (strcmp(name, "web"))
		return -ENOENT;
	*ip = 0x0a000032;
	return 0;
}

static const char *f_name4(void *arg, uint32_t ip)
{
	(void)arg;
	return ip == 0x0a000032 ? "web" : NULL;
}

static bool f_in4(void *arg, uint32_t ip)
{
	(void)arg;
	return (ip >> 8) == 0x0a0000;
}

/*
 * No upstream servers: names not local get SERVFAIL, nothing leaves. The
 * input is also taken as an upstream's answer to its own question: into
 * the answer cache (its record walker) and back out.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dns_lookup_ops ops = {
		.addr4 = f_addr4, .name4 = f_name4, .in_subnet4 = f_in4 };
	static struct dns_server *s;
	struct dns_client c = { 0 };
	struct pkt_view v = { data, size };
	uint8_t out[1500];
	int n;

	if (!s) {
		struct dns_server_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		strcpy(cfg.domain, "lab.loom");
		s = dns_server_new(&cfg, &ops, NULL, NULL, NULL);
		if (!s)
			abort();
	}
	/* A small answer buffer too, so truncation paths run. */
	n = dns_server_query(s, &v, &c, out, size % 2 ? 64 : sizeof(out));
	if (n < 0 || n > (int)sizeof(out))
		abort();
	if (size >= 12) {
		struct dns_query q;

		if (!dns_query_parse(&v, &q))
			(void)dns_msg_question_matches(&v, &q);
	}
	if (size >= 12) {
		static struct dns_cache *cache;
		struct dns_query q;
		size_t got;

		if (!cache)
			cache = dns_cache_new(16);
		if (!cache)
			abort();
		/* dns_query_parse rejects responses: parse as a query, then
		 * store the bytes as the answer. */
		static uint8_t qbuf[1500];

		if (size <= sizeof(qbuf)) {
			struct pkt_view qv = { qbuf, size };

			memcpy(qbuf, data, size);
			qbuf[2] &= 0x7f;
			if (!dns_query_parse(&qv, &q)) {
				dns_cache_put(cache, &q, data, size, 1000);
				got = dns_cache_get(cache, &qv, &q, out,
						    sizeof(out), 2000);
				if (got > sizeof(out))
					abort();
			}
		}
	}
	return 0;
}
