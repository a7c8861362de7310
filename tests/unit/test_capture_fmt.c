/* SPDX-License-Identifier: MIT */
/* test_capture_fmt.c - one-line frame summaries of `loom capture` (cli/capture_fmt.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli/capture_fmt.h"

static const uint8_t arp_req[42] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0, 0, 0, 1, 0x08, 0x06,
	0, 1, 0x08, 0, 6, 4, 0, 1, 0x52, 0x54, 0, 0, 0, 1, 10, 0, 0, 1,
	0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
};

/* Ethernet + IPv4 (20) + ICMP echo request id 0x1234 seq 7. */
static size_t icmp_echo(uint8_t *f, int vlan)
{
	size_t o = 12;

	memset(f, 0, 128);
	memcpy(f, "\x52\x54\0\0\0\2\x52\x54\0\0\0\1", 12);
	if (vlan >= 0) {
		f[o++] = 0x81;
		f[o++] = 0x00;
		f[o++] = (uint8_t)(vlan >> 8);
		f[o++] = (uint8_t)vlan;
	}
	f[o++] = 0x08;
	f[o++] = 0x00;
	f[o] = 0x45;
	f[o + 3] = 28 + 8;
	f[o + 9] = 1;
	memcpy(f + o + 12, "\x0a\0\0\x01\x0a\0\0\x02", 8);
	f[o + 20] = 8;
	f[o + 24] = 0x12;
	f[o + 25] = 0x34;
	f[o + 27] = 7;
	return o + 20 + 16;
}

static void test_arp(void **state)
{
	struct capture_summary s;
	char line[512];

	(void)state;
	capture_summarize(arp_req, sizeof(arp_req), 60, &s);
	assert_string_equal(s.proto, "ARP");
	assert_string_equal(s.info, "ARP, Request who-has 10.0.0.2 tell 10.0.0.1");
	capture_format_line(line, sizeof(line), 0, "lab:a", "in", &s);
	assert_non_null(strstr(line, " lab:a in  52:54:00:00:00:01 > ff:ff:ff:ff:ff:ff, ARP, Request who-has 10.0.0.2 tell 10.0.0.1"));
}

static void test_icmp_vlan(void **state)
{
	struct capture_summary s;
	uint8_t f[128];
	char line[512];
	size_t n = icmp_echo(f, 10);
	json_t *j;

	(void)state;
	capture_summarize(f, (uint32_t)n, (uint32_t)n, &s);
	assert_int_equal(s.vlan, 10);
	assert_string_equal(s.proto, "ICMP");
	assert_string_equal(s.src, "10.0.0.1");
	assert_string_equal(s.dst, "10.0.0.2");
	assert_string_equal(s.info, "ICMP echo request, id 4660, seq 7");
	capture_format_line(line, sizeof(line), 1000000000ull * 3600 + 5000,
			    "lab:b", "out", &s);
	assert_non_null(strstr(line, ".000005 lab:b out vlan 10 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 4660, seq 7"));
	j = capture_summary_json(42, "lab:b", "out", (uint32_t)n, 100, &s);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "proto")), "ICMP");
	assert_int_equal(json_integer_value(json_object_get(j, "vlan")), 10);
	assert_int_equal(json_integer_value(json_object_get(j, "len")), 100);
	assert_string_equal(json_string_value(json_object_get(j, "direction")), "out");
	json_decref(j);
}

static void test_udp_tcp(void **state)
{
	struct capture_summary s;
	uint8_t f[128];
	size_t n = icmp_echo(f, -1);

	(void)state;
	/* Make it UDP 68 -> 67 (DHCP). */
	f[14 + 9] = 17;
	f[14 + 20] = 0;
	f[14 + 21] = 68;
	f[14 + 22] = 0;
	f[14 + 23] = 67;
	capture_summarize(f, (uint32_t)n, (uint32_t)n, &s);
	assert_string_equal(s.proto, "DHCP");
	assert_string_equal(s.src, "10.0.0.1.68");
	assert_string_equal(s.info, "UDP, length 8");
	/* TCP SYN from port 22: too short for the flags first. */
	f[14 + 9] = 6;
	f[14 + 21] = 22;
	capture_summarize(f, 14 + 20 + 13, (uint32_t)n, &s);
	assert_string_equal(s.proto, "TCP");
	assert_string_equal(s.info, "[|tcp]");
	f[14 + 32] = 0x50;
	f[14 + 33] = 0x12;
	capture_summarize(f, (uint32_t)n, (uint32_t)n, &s);
	assert_string_equal(s.info, "Flags [S.], length 0");
}

/* Every truncation of a frame gives a summary, never a read past it
 * (ASan checks the reads: the frame is copied to an exact-size buffer). */
static void test_truncated(void **state)
{
	struct capture_summary s;
	uint8_t f[128];
	size_t n = icmp_echo(f, 5);

	(void)state;
	for (size_t len = 0; len <= n; len++) {
		uint8_t *p = malloc(len ? len : 1);

		memcpy(p, f, len);
		capture_summarize(p, (uint32_t)len, (uint32_t)n, &s);
		assert_true(s.info[0] != '\0');
		free(p);
	}
	capture_summarize(f, 30, (uint32_t)n, &s);
	assert_string_equal(s.info, "[|ip]");
	capture_summarize(f, 5, 5, &s);
	assert_string_equal(s.info, "runt, length 5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_icmp_vlan),
		cmocka_unit_test(test_udp_tcp),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
