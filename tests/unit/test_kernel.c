// SPDX-License-Identifier: MIT
/* test_kernel.c - the kernel path's pure parts: PARENT.VID names, a bridge network's defaults and rules. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/netconf.h"
#include "kernel/nft.h"
#include "kernel/vlan.h"

#include <arpa/inet.h>

static void test_vlan_parse(void **state)
{
	char parent[16];
	uint16_t vid = 0;

	assert_int_equal(kernel_vlan_parse("eth0.10", parent, sizeof(parent),
					   &vid), 0);
	assert_string_equal(parent, "eth0");
	assert_int_equal(vid, 10);
	/* The last dot splits: a parent with a dot of its own. */
	assert_int_equal(kernel_vlan_parse("br.0.4094", parent, sizeof(parent),
					   &vid), 0);
	assert_string_equal(parent, "br.0");
	assert_int_equal(vid, 4094);
	static const char *const bad[] = {"eth0", "eth0.", ".10", "eth0.0",
					  "eth0.4095", "eth0.010", "eth0.1x",
					  "eth0.-1", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(kernel_vlan_parse(bad[i], parent,
						   sizeof(parent), &vid),
				 -EINVAL);
	/* A parent longer than the buffer is refused, not cut. */
	assert_int_equal(kernel_vlan_parse("abcdefgh.5", parent, 8, &vid),
			 -EINVAL);
}

static struct netconf *load(const char *yaml, struct netconf_error *err)
{
	struct netconf *cfg = NULL;

	memset(err, 0, sizeof(*err));
	if (netconf_load_buffer("t.yaml", yaml, strlen(yaml), &cfg, err))
		return NULL;
	return cfg;
}

static void test_bridge_defaults(void **state)
{
	struct netconf_error err;
	struct netconf *cfg;

	cfg = load("networks:\n"
		   "  - name: lab\n    mode: bridge\n    subnet: 10.9.0.0/24\n"
		   "    bridge_address: 10.9.0.254/24\n"
		   "  - name: a-very-long-net-name\n    mode: bridge\n",
		   &err);
	assert_non_null(cfg);
	assert_string_equal(cfg->networks[0].bridge, "lb-lab");
	assert_string_equal(cfg->networks[0].bridge_address, "10.9.0.254/24");
	/* Too long for "lb-NAME": a stable hash, 11 characters. */
	assert_int_equal(strlen(cfg->networks[1].bridge), 11);
	assert_memory_equal(cfg->networks[1].bridge, "lb-", 3);
	netconf_free(cfg);
	cfg = load("networks:\n  - name: a-very-long-net-name\n"
		   "    mode: bridge\n", &err);
	assert_non_null(cfg);
	assert_int_equal(strlen(cfg->networks[0].bridge), 11);
	netconf_free(cfg);
}

static void test_bridge_rules(void **state)
{
	struct netconf_error err;

	assert_null(load("name: lab\nmode: bridge\nsubnet: 10.9.0.0/24\n"
			 "bridge_address: 10.9.0.1/24\n", &err));
	assert_non_null(strstr(err.msg, "the gateway's address"));
	assert_null(load("name: lab\nmode: bridge\nbridge: a/b\n", &err));
	assert_string_equal(err.path, "bridge");
	assert_null(load("name: lab\nmode: switch\nbridge_address: "
			 "10.0.0.1/24\n", &err));
	assert_non_null(strstr(err.msg, "only a bridge network"));
	/* veth and vlan ports carry their interface names. */
	assert_null(load("name: lab\nmode: bridge\nports:\n"
			 "  - {type: veth, netns: x}\n", &err));
	assert_non_null(strstr(err.msg, "missing field 'tap'"));
}

/* nat and forwards on a bridge network: what the file accepts. */
static void test_bridge_nat_rules(void **state)
{
	static const char base[] = "name: lab\nmode: bridge\n"
				   "subnet: 10.9.0.0/24\n";
	struct netconf_error err;
	struct netconf *cfg;
	char y[512];

	snprintf(y, sizeof(y), "%snat: true\n", base);
	assert_null(load(y, &err));
	assert_string_equal(err.path, "nat");
	assert_non_null(strstr(err.msg, "bridge_address"));
	snprintf(y, sizeof(y), "%sbridge_address: 10.9.0.254/24\nnat: true\n"
		 "forwards:\n  - {proto: tcp, host: 8080, guest: 10.9.0.5:80}\n",
		 base);
	cfg = load(y, &err);
	assert_non_null(cfg);
	assert_true(cfg->networks[0].nat);
	/* Defaults as in mode nat: 127.0.0.1 and the guest's port. */
	assert_string_equal(cfg->networks[0].forwards[0].host,
			    "127.0.0.1:8080");
	netconf_free(cfg);
	snprintf(y, sizeof(y), "%sbridge_address: 10.9.0.254/24\nforwards:\n"
		 "  - {proto: tcp, host: '[::1]:80', guest: '[fd00::5]'}\n",
		 base);
	assert_null(load(y, &err));
	assert_non_null(strstr(err.msg, "IPv4 only"));
	snprintf(y, sizeof(y), "%sbridge_address: 10.9.0.254/24\nforwards:\n"
		 "  - {proto: tcp, host: 80, guest: 10.8.0.5}\n", base);
	assert_null(load(y, &err));
	assert_non_null(strstr(err.msg, "outside"));
	assert_null(load("name: lab\nmode: isolated\nnat: true\n", &err));
	assert_non_null(strstr(err.msg, "only a nat or bridge network"));
}

/* The table text: masquerade, DNAT in prerouting and output, delete. */
static void test_nft_ruleset(void **state)
{
	struct kernel_nft_forward f[2] = {
		{.udp = false, .host_port = 8080, .guest_port = 80},
		{.udp = true, .host_port = 53, .guest_port = 5353},
	};
	struct kernel_nft_nat t = {
		.table = "loom_0000abcd_lab", .bridge = "lb-lab",
		.prefix = 24, .masquerade = true, .fwd = f, .nfwd = 2,
	};
	char buf[4096], small[64], *p;
	int n;

	inet_pton(AF_INET, "10.9.0.0", &t.subnet);
	inet_pton(AF_INET, "127.0.0.1", &f[0].host_addr);
	inet_pton(AF_INET, "10.9.0.5", &f[0].guest_addr);
	inet_pton(AF_INET, "10.9.0.6", &f[1].guest_addr);
	n = kernel_nft_ruleset(&t, buf, sizeof(buf));
	assert_true(n > 0 && (size_t)n == strlen(buf));
	/* Replaced whole: add (never fails), delete, define. */
	assert_memory_equal(buf, "add table inet loom_0000abcd_lab\n"
			    "delete table inet loom_0000abcd_lab\n", 69);
	assert_non_null(strstr(buf, "ip saddr 10.9.0.0/24 oifname != \"lb-lab\" "
				    "masquerade"));
	assert_non_null(strstr(buf, "oifname \"lb-lab\" ct status dnat "
				    "masquerade"));
	/* Each DNAT twice: prerouting and output. */
	p = strstr(buf, "ip daddr 127.0.0.1 tcp dport 8080 dnat ip to "
			"10.9.0.5:80");
	assert_non_null(p);
	assert_non_null(strstr(p + 1, "ip daddr 127.0.0.1 tcp dport 8080"));
	assert_non_null(strstr(buf, "meta nfproto ipv4 fib daddr type local "
				    "udp dport 53 dnat ip to 10.9.0.6:5353"));
	assert_int_equal(kernel_nft_ruleset(&t, small, sizeof(small)), -ENOSPC);
	/* Nothing to hold: only the delete. */
	t.masquerade = false;
	t.nfwd = 0;
	n = kernel_nft_ruleset(&t, buf, sizeof(buf));
	assert_int_equal(n, 69);
	assert_null(strstr(buf, "table inet loom_0000abcd_lab {"));
	assert_int_equal(kernel_nft_table_name("0000abcd", "lab", buf,
					       sizeof(buf)), 0);
	assert_string_equal(buf, "loom_0000abcd_lab");
	assert_int_equal(kernel_nft_table_name("0000abcd", "lab", small, 8),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_parse),
		cmocka_unit_test(test_bridge_defaults),
		cmocka_unit_test(test_bridge_rules),
		cmocka_unit_test(test_bridge_nat_rules),
		cmocka_unit_test(test_nft_ruleset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
