/* SPDX-License-Identifier: MIT */
/* test_pcapng.c - the pcapng writer and reader (common/pcapng.h): round trip, streaming, malformed blocks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/pcapng.h"

static uint8_t frame[1600];

/* SHB + IDB "lab:a" + IDB "lab:b" + EPBs of @n lengths. Return: bytes. */
static size_t build(uint8_t *buf, size_t cap, const uint32_t *lens, int n)
{
	size_t off = 0, k;

	k = pcapng_shb_write(buf, cap, "loom test");
	assert_true(k > 0);
	off += k;
	k = pcapng_idb_write(buf + off, cap - off, PCAPNG_LINKTYPE_ETHERNET,
			     262144, "lab:a", "port a");
	assert_true(k > 0);
	off += k;
	k = pcapng_idb_write(buf + off, cap - off, PCAPNG_LINKTYPE_ETHERNET, 96,
			     "lab:b", NULL);
	assert_true(k > 0);
	off += k;
	for (int i = 0; i < n; i++) {
		k = pcapng_epb_write(buf + off, cap - off, (uint32_t)(i & 1),
				     1764633600123456789ull + (uint64_t)i,
				     lens[i] + 4, frame, lens[i],
				     i % 3 == 0 ? PCAPNG_DIR_IN :
				     i % 3 == 1 ? PCAPNG_DIR_OUT :
						  PCAPNG_DIR_UNKNOWN);
		assert_true(k > 0);
		assert_true(k <= PCAPNG_EPB_OVERHEAD + lens[i]);
		assert_int_equal(k % 4, 0);
		off += k;
	}
	return off;
}

static void test_round_trip(void **state)
{
	static const uint32_t lens[] = {0, 1, 3, 4, 60, 1514};
	static uint8_t buf[16384];
	struct pcapng_reader r;
	struct pcapng_packet pkt;
	size_t len, off = 0, used;
	int kinds[16], nk = 0, np = 0, k;

	(void)state;
	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	len = build(buf, sizeof(buf), lens, 6);
	assert_int_equal(pcapng_reader_init(&r), 0);
	while (off < len) {
		k = pcapng_read_block(&r, buf + off, len - off, &used, &pkt);
		assert_true(k > 0);
		kinds[nk++] = k;
		if (k == PCAPNG_BLOCK_PACKET) {
			assert_int_equal(pkt.ifid, (uint32_t)(np & 1));
			assert_int_equal(pkt.caplen, lens[np]);
			assert_int_equal(pkt.orig_len, lens[np] + 4);
			assert_true(pkt.ts_ns ==
				    1764633600123456789ull + (uint64_t)np);
			assert_int_equal(pkt.dir, np % 3 == 0 ? PCAPNG_DIR_IN :
						  np % 3 == 1 ? PCAPNG_DIR_OUT :
								PCAPNG_DIR_UNKNOWN);
			if (lens[np])
				assert_memory_equal(pkt.data, frame, lens[np]);
			np++;
		}
		off += used;
	}
	assert_int_equal(off, len);
	assert_int_equal(nk, 9);
	assert_int_equal(kinds[0], PCAPNG_BLOCK_SECTION);
	assert_int_equal(kinds[1], PCAPNG_BLOCK_INTERFACE);
	assert_int_equal(np, 6);
	assert_string_equal(pcapng_reader_if(&r, 0)->name, "lab:a");
	assert_string_equal(pcapng_reader_if(&r, 0)->descr, "port a");
	assert_int_equal(pcapng_reader_if(&r, 0)->snaplen, 262144);
	assert_int_equal(pcapng_reader_if(&r, 0)->linktype, 1);
	assert_true(pcapng_reader_if(&r, 0)->ts_per_sec == 1000000000ull);
	assert_string_equal(pcapng_reader_if(&r, 1)->name, "lab:b");
	assert_string_equal(pcapng_reader_if(&r, 1)->descr, "");
	assert_null(pcapng_reader_if(&r, 2));
	pcapng_reader_free(&r);
}

/* Fed one byte more at a time, a block is reported only when whole. */
static void test_streaming(void **state)
{
	static const uint32_t lens[] = {42, 7};
	static uint8_t buf[4096];
	struct pcapng_reader r;
	struct pcapng_packet pkt;
	size_t len, off = 0, have, used;
	int blocks = 0, k;

	(void)state;
	len = build(buf, sizeof(buf), lens, 2);
	assert_int_equal(pcapng_reader_init(&r), 0);
	for (have = 1; have <= len; have++) {
		k = pcapng_read_block(&r, buf + off, have - off, &used, &pkt);
		assert_true(k >= 0);
		if (k > 0) {
			off += used;
			blocks++;
		}
	}
	assert_int_equal(off, len);
	assert_int_equal(blocks, 5);
	pcapng_reader_free(&r);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static int read1(struct pcapng_reader *r, uint8_t *b, size_t len)
{
	struct pcapng_packet pkt;
	size_t used;

	return pcapng_read_block(r, b, len, &used, &pkt);
}

static void test_malformed(void **state)
{
	static uint8_t buf[4096];
	struct pcapng_reader r;
	size_t shb, idb;
	uint8_t epb[64];

	(void)state;
	assert_int_equal(pcapng_reader_init(&r), 0);
	/* A packet before any section. */
	assert_true(pcapng_epb_write(epb, sizeof(epb), 0, 1, 4, frame, 4, 1) > 0);
	assert_int_equal(read1(&r, epb, sizeof(epb)), -EINVAL);

	shb = pcapng_shb_write(buf, sizeof(buf), NULL);
	assert_int_equal(read1(&r, buf, shb), PCAPNG_BLOCK_SECTION);
	/* A packet on an interface not declared. */
	assert_int_equal(read1(&r, epb, sizeof(epb)), -EINVAL);
	idb = pcapng_idb_write(buf, sizeof(buf), 1, 100, "x", "y");
	assert_int_equal(read1(&r, buf, idb), PCAPNG_BLOCK_INTERFACE);
	assert_true(read1(&r, epb, sizeof(epb)) == PCAPNG_BLOCK_PACKET);

	/* Lengths: below the minimum, unaligned, trailer differs, too big. */
	memcpy(buf, epb, 40);
	put32(buf + 4, 8);
	assert_int_equal(read1(&r, buf, 40), -EINVAL);
	put32(buf + 4, 30);
	assert_int_equal(read1(&r, buf, 40), -EINVAL);
	put32(buf + 4, 40);
	put32(buf + 36, 36);
	assert_int_equal(read1(&r, buf, 40), -EINVAL);
	put32(buf + 4, PCAPNG_BLOCK_MAX + 4);
	assert_int_equal(read1(&r, buf, 40), -E2BIG);
	/* caplen beyond the block. */
	memcpy(buf, epb, sizeof(epb));
	put32(buf + 20, 1000);
	assert_int_equal(read1(&r, buf, sizeof(epb)), -EINVAL);
	/* An option running past the end of the IDB. */
	idb = pcapng_idb_write(buf, sizeof(buf), 1, 100, "abc", NULL);
	buf[18] = 0xff; /* if_name length */
	assert_int_equal(read1(&r, buf, idb), -EINVAL);
	/* Not a pcapng byte-order magic. */
	shb = pcapng_shb_write(buf, sizeof(buf), NULL);
	put32(buf + 8, 0x12345678);
	assert_int_equal(read1(&r, buf, shb), -EINVAL);
	/* Unknown block types are skipped, not errors. */
	shb = pcapng_shb_write(buf, sizeof(buf), NULL);
	assert_int_equal(read1(&r, buf, shb), PCAPNG_BLOCK_SECTION);
	put32(buf, 0x00000BAD);
	put32(buf + 4, 12);
	put32(buf + 8, 12);
	assert_int_equal(read1(&r, buf, 12), PCAPNG_BLOCK_OTHER);
	/* The writer refuses what does not fit, and caplen > orig_len. */
	assert_int_equal(pcapng_epb_write(buf, 40, 0, 0, 60, frame, 60, 0), 0);
	assert_int_equal(pcapng_epb_write(buf, 4096, 0, 0, 10, frame, 60, 0), 0);
	assert_int_equal(pcapng_idb_write(buf, 20, 1, 1, "name", NULL), 0);
	pcapng_reader_free(&r);
}

/* A big-endian section with microsecond timestamps (what other tools write). */
static void test_other_byte_order(void **state)
{
	static const uint8_t be[] = {
		/* SHB, 28 bytes */
		0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 28, 0x1a, 0x2b, 0x3c, 0x4d,
		0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0, 0, 0, 28,
		/* IDB, 20 bytes, no options: default resolution 1e-6 */
		0, 0, 0, 1, 0, 0, 0, 20, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0,
		20,
		/* EPB, 36 bytes, 4 bytes of data, ts = 2 s + 5 us */
		0, 0, 0, 6, 0, 0, 0, 36, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x1e, 0x84,
		0x85, 0, 0, 0, 4, 0, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0,
		36,
	};
	struct pcapng_reader r;
	struct pcapng_packet pkt;
	size_t off = 0, used;
	int k = 0;

	(void)state;
	assert_int_equal(pcapng_reader_init(&r), 0);
	while (off < sizeof(be)) {
		k = pcapng_read_block(&r, be + off, sizeof(be) - off, &used,
				      &pkt);
		assert_true(k > 0);
		off += used;
	}
	assert_int_equal(k, PCAPNG_BLOCK_PACKET);
	assert_true(r.swap);
	assert_int_equal(pkt.caplen, 4);
	assert_int_equal(pkt.data[0], 0xde);
	assert_true(pkt.ts_ns == 2000005000ull);
	assert_int_equal(pcapng_reader_if(&r, 0)->snaplen, 65535);
	pcapng_reader_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_other_byte_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
