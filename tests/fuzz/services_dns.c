/* SPDX-License-Identifier: MIT */
/* services_dns.c - fuzz target: DNS queries through the parser and the local answers. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "services/dns.h"

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

/* No upstream servers: names not local get SERVFAIL, nothing leaves. */
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
	return 0;
}
