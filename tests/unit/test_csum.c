/* SPDX-License-Identifier: MIT */
/* test_csum.c - the eight-bytes-at-a-time Internet checksum against RFC 1071's two-byte loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/csum.h"

/* RFC 1071's loop: big-endian 16-bit words, folded. */
static uint32_t ref_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* Every length 0..300 at every alignment 0..7, then 64 KiB frames. */
static void matches_reference(void **state)
{
	enum { N = 70000 };
	uint8_t *buf = malloc(N + 8);
	uint32_t seed = 12345;

	assert_non_null(buf);
	for (size_t i = 0; i < N + 8; i++) {
		seed = seed * 1103515245 + 12345;
		buf[i] = (uint8_t)(seed >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 300; len++)
			assert_int_equal(csum_add(0x1234, buf + off, len),
					 ref_add(0x1234, buf + off, len));
	for (size_t len = 65000; len < 65540; len += 7)
		assert_int_equal(csum_add(0, buf + 1, len),
				 ref_add(0, buf + 1, len));
	/* All ones: the carries wrap around. */
	memset(buf, 0xff, N);
	assert_int_equal(csum_add(0xffff, buf, N - 1),
			 ref_add(0xffff, buf, N - 1));
	assert_int_equal(csum_fold(0x1fffe), 0);
	free(buf);
}

/* A known header: RFC 1071's example words and an IPv4 header's field. */
static void known_values(void **state)
{
	static const uint8_t rfc[] = {0x00, 0x01, 0xf2, 0x03,
				      0xf4, 0xf5, 0xf6, 0xf7};
	/* 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7 */
	static const uint8_t ip[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
				     0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
				     0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	assert_int_equal(csum_add(0, rfc, sizeof(rfc)), 0xddf2);
	assert_int_equal(csum_fold(csum_add(0, ip, sizeof(ip))), 0xb861);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(matches_reference),
	    cmocka_unit_test(known_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
