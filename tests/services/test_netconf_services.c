/* SPDX-License-Identifier: MIT */
/* test_netconf_services.c - dhcp: and dns: in network files: loading, JSON round trip, errors at their line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/netconf.h"

static const char good[] = "networks:\n"			/* 1 */
			   "  - name: lab\n"			/* 2 */
			   "    mode: switch\n"			/* 3 */
			   "    subnet: 10.9.0.0/24\n"		/* 4 */
			   "    dhcp:\n"				/* 5 */
			   "      range: 10.9.0.100-10.9.0.199\n"	/* 6 */
			   "      lease_time: 600\n"		/* 7 */
			   "      hosts:\n"				/* 8 */
			   "        - mac: 02:00:00:00:00:01\n"	/* 9 */
			   "          address: 10.9.0.10\n"	/* 10 */
			   "          name: web\n"			/* 11 */
			   "      ntp: [10.9.0.1]\n"		/* 12 */
			   "      routes:\n"			/* 13 */
			   "        - to: 192.168.50.0/24\n"	/* 14 */
			   "          via: 10.9.0.9\n"		/* 15 */
			   "    dns:\n"				/* 16 */
			   "      enabled: true\n"			/* 17 */
			   "      domain: lab.test\n"		/* 18 */
			   "      upstream: [127.0.0.1, '::1']\n";	/* 19 */

static int load(const char *yaml, struct netconf **cfg,
		struct netconf_error *err)
{
	return netconf_load_buffer("t.yaml", yaml, strlen(yaml), cfg, err);
}

/* A network whose one route has the JSON fields @fields: refused. */
static void json_route_rejected(const char *fields, struct netconf_error *err)
{
	char text[512];
	struct netconf *cfg = NULL;
	json_t *j;

	snprintf(text, sizeof(text),
		 "{\"networks\":[{\"name\":\"x\",\"subnet\":\"10.9.0.0/24\","
		 "\"dhcp\":{\"routes\":[{%s}]}}]}",
		 fields);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	assert_int_not_equal(netconf_from_json(j, &cfg, err), 0);
	assert_null(cfg);
	json_decref(j);
}

static void test_load_and_json(void **state)
{
	struct netconf_error err;
	struct netconf *cfg, *back;
	const struct netconf_net *n;
	json_t *j;

	(void)state;
	assert_int_equal(load(good, &cfg, &err), 0);
	n = &cfg->networks[0];
	assert_non_null(n->dhcp);
	assert_string_equal(n->dhcp->range, "10.9.0.100-10.9.0.199");
	assert_int_equal(n->dhcp->lease_time, 600);
	assert_int_equal(n->dhcp->host_count, 1);
	assert_string_equal(n->dhcp->hosts[0].name, "web");
	assert_null(n->dhcp->enabled);
	assert_non_null(n->dns->enabled);
	assert_true(*n->dns->enabled);
	assert_int_equal(n->dns->upstream_count, 2);
	/* The JSON twin carries the same and parses back equal. */
	j = netconf_to_json(cfg);
	assert_non_null(j);
	assert_int_equal(netconf_from_json(j, &back, &err), 0);
	assert_string_equal(back->networks[0].dhcp->hosts[0].address,
			    "10.9.0.10");
	assert_string_equal(back->networks[0].dns->domain, "lab.test");
	assert_int_equal(n->dhcp->route_count, 1);
	assert_int_equal(back->networks[0].dhcp->route_count, 1);
	assert_string_equal(back->networks[0].dhcp->routes[0].to,
			    "192.168.50.0/24");
	assert_string_equal(back->networks[0].dhcp->routes[0].via, "10.9.0.9");
	json_decref(j);
	netconf_free(back);
	/* A route without its gateway, and an unknown field, in JSON. */
	json_route_rejected("\"to\":\"10.1.0.0/16\"", &err);
	assert_non_null(strstr(err.msg, "missing field 'via'"));
	json_route_rejected("\"to\":\"10.1.0.0/16\",\"gw\":\"10.9.0.2\"",
			    &err);
	assert_string_equal(err.path, "networks[0].dhcp.routes[0].gw");
	netconf_free(cfg);
}

static void expect_err(const char *yaml, unsigned int line, const char *path,
		       const char *msg)
{
	struct netconf_error err;
	struct netconf *cfg = NULL;

	if (load(yaml, &cfg, &err) == 0)
		fail_msg("loaded: %s", path);
	assert_null(cfg);
	if (line)
		assert_int_equal(err.line, line);
	assert_string_equal(err.path, path);
	assert_non_null(strstr(err.msg, msg));
}

static char *with(const char *from, const char *to)
{
	static char buf[2048];
	const char *p = strstr(good, from);

	assert_non_null(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - good), good, to,
		 p + strlen(from));
	return buf;
}

static void test_errors(void **state)
{
	(void)state;
	expect_err(with("10.9.0.100-10.9.0.199", "10.8.0.1-10.8.0.9"), 6,
		   "networks[0].dhcp.range", "outside subnet");
	expect_err(with("10.9.0.100-10.9.0.199", "10.9.0.9-10.9.0.1"), 6,
		   "networks[0].dhcp.range", "comes after");
	expect_err(with("10.9.0.100-10.9.0.199", "10.9.0.1"), 6,
		   "networks[0].dhcp.range", "FIRST-LAST");
	expect_err(with("lease_time: 600", "lease_time: 5"), 7,
		   "networks[0].dhcp.lease_time", "60..");
	expect_err(with("02:00:00:00:00:01", "03:00:00:00:00:01"), 9,
		   "networks[0].dhcp.hosts[0].mac", "unicast");
	expect_err(with("address: 10.9.0.10", "address: 10.9.0.1"), 10,
		   "networks[0].dhcp.hosts[0].address", "gateway");
	expect_err(with("name: web", "name: 'a b'"), 11,
		   "networks[0].dhcp.hosts[0].name", "host name");
	expect_err(with("domain: lab.test", "domain: 'lab..test'"), 18,
		   "networks[0].dns.domain", "domain name");
	expect_err(with("upstream: [127.0.0.1, '::1']", "upstream: [nope]"),
		   19, "networks[0].dns.upstream[0]", "not an address");
	expect_err(with("192.168.50.0/24", "192.168.50.1/24"), 14,
		   "networks[0].dhcp.routes[0].to", "NET/PREFIX");
	expect_err(with("via: 10.9.0.9", "via: 10.8.0.9"), 15,
		   "networks[0].dhcp.routes[0].via", "subnet");
	expect_err(with("ntp: [10.9.0.1]", "ntpd: [10.9.0.1]"), 12,
		   "networks[0].dhcp.ntpd", "did you mean 'ntp'");
	expect_err(with("    subnet: 10.9.0.0/24\n", ""), 0, "networks[0].dhcp",
		   "need a subnet");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_json),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
