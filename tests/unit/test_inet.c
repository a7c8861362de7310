/* SPDX-License-Identifier: MIT */
/* test_inet.c - common/inet.h: address and CIDR parsing, formatting, math. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/inet.h"

static void test_cidr_parse(void **state)
{
	struct inet_cidr c;

	assert_int_equal(inet_cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(c.addr[0], 10);
	assert_int_equal(inet_cidr_parse("fd00::1/128", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(inet_cidr_parse("10.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(inet_cidr_parse("10.0.0.0/", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("10.0.0.0/08", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("10.0.0.0/-1", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("10.0.0.0/33", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("10.0.0.0/8x", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("10.0.0/8", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("10.0.0.0", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("fd00::/129", &c), -EINVAL);
	assert_int_equal(inet_cidr_parse("", &c), -EINVAL);
	/* Longer than any address: refused, not overflowed. */
	assert_int_equal(inet_cidr_parse("1111:2222:3333:4444:5555:6666:7777:"
					 "8888:9999:aaaa/64",
					 &c),
			 -EINVAL);
}

static void test_addr_parse(void **state)
{
	struct inet_cidr c;

	assert_int_equal(inet_addr_parse("1.2.3.4", &c), 0);
	assert_int_equal(c.prefix, 32);
	assert_int_equal(inet_v4_u32(&c), 0x01020304);
	assert_int_equal(inet_addr_parse("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(c.addr[15], 1);
	assert_int_equal(inet_v4_u32(&c), 0);
	assert_int_equal(inet_addr_parse("1.2.3.4/32", &c), -EINVAL);
	assert_int_equal(inet_addr_parse("1.2.3.256", &c), -EINVAL);
	assert_int_equal(inet_addr_parse(" 1.2.3.4", &c), -EINVAL);
}

static void test_format(void **state)
{
	char buf[INET_CIDR_STRLEN];
	struct inet_cidr c;

	assert_int_equal(inet_cidr_parse("10.1.2.3/24", &c), 0);
	assert_string_equal(inet_cidr_format(&c, buf, sizeof(buf)),
			    "10.1.2.3/24");
	assert_string_equal(inet_addr_format(&c, buf, sizeof(buf)), "10.1.2.3");
	assert_int_equal(inet_cidr_parse("FD00:0::0001/64", &c), 0);
	assert_string_equal(inet_cidr_format(&c, buf, sizeof(buf)),
			    "fd00::1/64");
	/* A short buffer is cut and terminated. */
	assert_string_equal(inet_addr_format(&c, buf, 4), "fd0");
	inet_v4_set(&c, 0xc0a80001, 16);
	assert_string_equal(inet_cidr_format(&c, buf, sizeof(buf)),
			    "192.168.0.1/16");
}

static void expect_addr(const struct inet_cidr *c, const char *want)
{
	char buf[INET_CIDR_STRLEN];

	assert_string_equal(inet_addr_format(c, buf, sizeof(buf)), want);
}

static void test_network_and_hosts(void **state)
{
	struct inet_cidr s, o;

	assert_int_equal(inet_cidr_parse("10.10.3.77/22", &s), 0);
	inet_cidr_network(&s, &o);
	expect_addr(&o, "10.10.0.0");
	assert_int_equal(o.prefix, 22);
	inet_cidr_last(&s, &o);
	expect_addr(&o, "10.10.3.255");
	inet_cidr_first_host(&s, &o);
	expect_addr(&o, "10.10.0.1");
	inet_cidr_last_host(&s, &o);
	expect_addr(&o, "10.10.3.254");

	/* In place. */
	inet_cidr_network(&s, &s);
	expect_addr(&s, "10.10.0.0");

	/* Point-to-point: both addresses are hosts. */
	assert_int_equal(inet_cidr_parse("10.0.0.4/31", &s), 0);
	inet_cidr_first_host(&s, &o);
	expect_addr(&o, "10.0.0.4");
	inet_cidr_last_host(&s, &o);
	expect_addr(&o, "10.0.0.5");
	assert_int_equal(inet_cidr_parse("10.0.0.9/32", &s), 0);
	inet_cidr_first_host(&s, &o);
	expect_addr(&o, "10.0.0.9");
	inet_cidr_last_host(&s, &o);
	expect_addr(&o, "10.0.0.9");

	/* IPv6: no broadcast; the carry crosses bytes. */
	assert_int_equal(inet_cidr_parse("fd00:0:0:ff::/56", &s), 0);
	inet_cidr_network(&s, &o);
	expect_addr(&o, "fd00::");
	inet_cidr_first_host(&s, &o);
	expect_addr(&o, "fd00::1");
	inet_cidr_last_host(&s, &o);
	expect_addr(&o, "fd00::ff:ffff:ffff:ffff:ffff");
	assert_int_equal(inet_cidr_parse("fd00::/0", &s), 0);
	inet_cidr_last(&s, &o);
	expect_addr(&o, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void test_contains(void **state)
{
	struct inet_cidr net, ip;

	assert_int_equal(inet_cidr_parse("192.168.8.0/21", &net), 0);
	assert_int_equal(inet_addr_parse("192.168.15.255", &ip), 0);
	assert_true(inet_cidr_contains(&net, &ip));
	assert_int_equal(inet_addr_parse("192.168.16.0", &ip), 0);
	assert_false(inet_cidr_contains(&net, &ip));
	assert_int_equal(inet_addr_parse("192.168.7.255", &ip), 0);
	assert_false(inet_cidr_contains(&net, &ip));
	/* The address's own prefix does not matter. */
	assert_int_equal(inet_cidr_parse("192.168.9.1/8", &ip), 0);
	assert_true(inet_cidr_contains(&net, &ip));
	/* Families never mix. */
	assert_int_equal(inet_addr_parse("::ffff:192.168.9.1", &ip), 0);
	assert_false(inet_cidr_contains(&net, &ip));
	assert_int_equal(inet_cidr_parse("fd00:1::/32", &net), 0);
	assert_int_equal(inet_addr_parse("fd00:1:ffff::1", &ip), 0);
	assert_true(inet_cidr_contains(&net, &ip));
	assert_int_equal(inet_addr_parse("fd00:2::1", &ip), 0);
	assert_false(inet_cidr_contains(&net, &ip));
	assert_int_equal(inet_cidr_parse("0.0.0.0/0", &net), 0);
	assert_int_equal(inet_addr_parse("255.1.2.3", &ip), 0);
	assert_true(inet_cidr_contains(&net, &ip));
}

static void test_equal_and_nth(void **state)
{
	struct inet_cidr a, b, s, o;

	assert_int_equal(inet_cidr_parse("10.0.0.1/24", &a), 0);
	assert_int_equal(inet_addr_parse("10.0.0.1", &b), 0);
	assert_true(inet_addr_equal(&a, &b));
	assert_int_equal(inet_addr_parse("10.0.0.2", &b), 0);
	assert_false(inet_addr_equal(&a, &b));
	assert_int_equal(inet_addr_len(&a), 4);

	assert_int_equal(inet_cidr_parse("10.0.1.0/24", &s), 0);
	assert_int_equal(inet_cidr_nth(&s, 0, &o), 0);
	expect_addr(&o, "10.0.1.0");
	assert_int_equal(inet_cidr_nth(&s, 100, &o), 0);
	expect_addr(&o, "10.0.1.100");
	assert_int_equal(inet_cidr_nth(&s, 255, &o), 0);
	expect_addr(&o, "10.0.1.255");
	o.family = 0;
	assert_int_equal(inet_cidr_nth(&s, 256, &o), -ERANGE);
	assert_int_equal(o.family, 0); /* untouched on error */
	assert_int_equal(inet_cidr_parse("10.0.0.0/8", &s), 0);
	assert_int_equal(inet_cidr_nth(&s, 0x10203, &o), 0);
	expect_addr(&o, "10.1.2.3");
	assert_int_equal(inet_cidr_parse("fd00::/64", &s), 0);
	assert_int_equal(inet_cidr_nth(&s, UINT64_MAX, &o), 0);
	expect_addr(&o, "fd00::ffff:ffff:ffff:ffff");
	assert_int_equal(inet_cidr_parse("fd00::/120", &s), 0);
	assert_int_equal(inet_cidr_nth(&s, 256, &o), -ERANGE);
	assert_int_equal(inet_cidr_nth(&s, 0x2a, &o), 0);
	expect_addr(&o, "fd00::2a");
	assert_int_equal(inet_addr_len(&o), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cidr_parse),
	    cmocka_unit_test(test_addr_parse),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_network_and_hosts),
	    cmocka_unit_test(test_contains),
	    cmocka_unit_test(test_equal_and_nth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
