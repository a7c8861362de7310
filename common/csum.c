/* SPDX-License-Identifier: MIT */
/* csum.c - the Internet checksum (RFC 1071) over a buffer, eight bytes at a time. */
#include "common/csum.h"

#include <string.h>

/*
 * The ones' complement sum does not depend on byte order (RFC 1071 2.B):
 * sum native 64-bit words with end-around carry, fold, and swap the two
 * bytes of the result on a little-endian host.
 */
uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = 0, w;
	uint16_t h;

	for (; len >= 32; p += 32, len -= 32) {
		uint64_t a[4];

		memcpy(a, p, 32);
		for (int i = 0; i < 4; i++) {
			acc += a[i];
			acc += acc < a[i]; /* end-around carry */
		}
	}
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		acc += w;
		acc += acc < w;
	}
	for (; len >= 2; p += 2, len -= 2) {
		memcpy(&h, p, 2);
		acc += h;
		acc += acc < h;
	}
	if (len) {
		/* The odd byte is the high half of a big-endian word. */
		h = 0;
		memcpy(&h, p, 1);
		acc += h;
		acc += acc < h;
	}
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffffffff) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	acc = ((acc & 0xff) << 8) | (acc >> 8);
#endif
	sum += (uint32_t)acc;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}
