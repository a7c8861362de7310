/* SPDX-License-Identifier: MIT */
/* peer_answer.h - test helpers: a fake VM NIC's answers to ARP requests and pings for its address. */
#ifndef LOOM_TESTS_NETNS_PEER_ANSWER_H
#define LOOM_TESTS_NETNS_PEER_ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t peer_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)(p[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* Build the answer of MAC @my_mac to @in (ARP request or ICMP echo for @ip)
 * in @out. Return: its length, 0 for none. */
static inline uint32_t peer_answer(const uint8_t *in, uint32_t len,
				   const uint8_t my_mac[6], const uint8_t ip[4],
				   uint8_t *out)
{
	if (len >= 42 && in[12] == 0x08 && in[13] == 0x06 && in[21] == 1 &&
	    !memcmp(in + 38, ip, 4)) {
		memcpy(out, in + 6, 6);
		memcpy(out + 6, my_mac, 6);
		memcpy(out + 12, in + 12, 8);
		out[21] = 2; /* reply */
		memcpy(out + 22, my_mac, 6);
		memcpy(out + 28, ip, 4);
		memcpy(out + 32, in + 22, 10); /* sender MAC + IP -> target */
		return 42;
	}
	if (len >= 42 && len <= 1514 && in[12] == 0x08 && in[13] == 0x00 &&
	    (in[14] >> 4) == 4 && in[23] == 1 && !memcmp(in + 30, ip, 4) &&
	    !memcmp(in, my_mac, 6)) {
		uint32_t ihl = (uint32_t)(in[14] & 15) * 4;
		uint32_t tot = (uint32_t)(in[16] << 8 | in[17]);

		if (ihl < 20 || tot < ihl + 8 || 14 + tot > len ||
		    in[14 + ihl] != 8)
			return 0;
		memcpy(out, in + 6, 6);
		memcpy(out + 6, my_mac, 6);
		memcpy(out + 12, in + 12, 14 + tot - 12);
		memcpy(out + 26, in + 30, 4);
		memcpy(out + 30, in + 26, 4);
		out[14 + 10] = out[14 + 11] = 0;
		{
			uint16_t c = peer_csum(out + 14, ihl);

			out[24] = (uint8_t)(c >> 8);
			out[25] = (uint8_t)c;
		}
		out[14 + ihl] = 0; /* echo reply */
		out[14 + ihl + 2] = out[14 + ihl + 3] = 0;
		{
			uint16_t c = peer_csum(out + 14 + ihl, tot - ihl);

			out[14 + ihl + 2] = (uint8_t)(c >> 8);
			out[14 + ihl + 3] = (uint8_t)c;
		}
		return 14 + tot;
	}
	return 0;
}

#endif
