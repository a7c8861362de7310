/* SPDX-License-Identifier: MIT */
/* msg_build.h - requests as clients send them, for the services' tests and benchmarks: DHCP requests, DNS queries. */
#ifndef LOOM_TESTS_SERVICES_MSG_BUILD_H
#define LOOM_TESTS_SERVICES_MSG_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A request as a client sends it: fixed part, cookie, options. */
static inline size_t dhcp_req_build(uint8_t *b, uint8_t type, const uint8_t mac[6],
			uint32_t ciaddr, uint32_t reqip, uint32_t server,
			const char *host)
{
	size_t o = 240;

	memset(b, 0, 548);
	b[0] = 1;
	b[1] = 1;
	b[2] = 6;
	b[4] = 0x12;
	b[7] = type;
	b[12] = (uint8_t)(ciaddr >> 24);
	b[13] = (uint8_t)(ciaddr >> 16);
	b[14] = (uint8_t)(ciaddr >> 8);
	b[15] = (uint8_t)ciaddr;
	memcpy(b + 28, mac, 6);
	b[236] = 0x63;
	b[237] = 0x82;
	b[238] = 0x53;
	b[239] = 0x63;
	b[o++] = 53;
	b[o++] = 1;
	b[o++] = type;
	if (reqip) {
		b[o++] = 50;
		b[o++] = 4;
		for (int i = 0; i < 4; i++)
			b[o++] = (uint8_t)(reqip >> (24 - 8 * i));
	}
	if (server) {
		b[o++] = 54;
		b[o++] = 4;
		for (int i = 0; i < 4; i++)
			b[o++] = (uint8_t)(server >> (24 - 8 * i));
	}
	if (host) {
		b[o++] = 12;
		b[o++] = (uint8_t)strlen(host);
		memcpy(b + o, host, strlen(host));
		o += strlen(host);
	}
	b[o++] = 255;
	return o;
}

/* A DNS query, ID 0xabcd, RD, for @name / @type. */
static inline size_t dns_query_build(uint8_t *b, const char *name,
				     uint16_t type)
{
	size_t o = 12;

	memset(b, 0, 12);
	b[0] = 0xab;
	b[1] = 0xcd;
	b[2] = 1; /* RD */
	b[5] = 1;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		b[o++] = (uint8_t)l;
		memcpy(b + o, name, l);
		o += l;
		name += l + (dot ? 1 : 0);
	}
	b[o++] = 0;
	b[o++] = (uint8_t)(type >> 8);
	b[o++] = (uint8_t)type;
	b[o++] = 0;
	b[o++] = 1;
	return o;
}

#endif
