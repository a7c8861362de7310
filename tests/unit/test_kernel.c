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
#include "kernel/vlan.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vlan_parse),
		cmocka_unit_test(test_bridge_defaults),
		cmocka_unit_test(test_bridge_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
