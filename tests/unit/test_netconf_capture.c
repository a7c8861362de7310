/* SPDX-License-Identifier: MIT */
/* test_netconf_capture.c - captures declared in the network file (common/netconf_capture.c): YAML, defaults, JSON, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/netconf.h"

static const char head[] =
	"networks:\n"
	"  - name: lab\n"
	"    mode: switch\n"
	"    ports:\n"
	"      - {name: a, tap: lmxa}\n"
	"      - {tap: lmxb}\n"
	"    captures:\n";

static int load(const char *caps, struct netconf **cfg,
		struct netconf_error *err)
{
	char y[2048];

	snprintf(y, sizeof(y), "%s%s", head, caps);
	return netconf_load_buffer("t.yaml", y, strlen(y), cfg, err);
}

static void test_parse_defaults_json(void **state)
{
	struct netconf *cfg = NULL;
	struct netconf_error err;
	struct netconf_net back;
	const struct netconf_capture *c;
	json_t *j, *j2;

	(void)state;
	assert_int_equal(load("      - name: all\n"
			      "      - name: icmp\n"
			      "        ports: [a, lmxb]\n"
			      "        filter: icmp\n"
			      "        file: /var/tmp/icmp.pcapng\n"
			      "        rotate_size: 2\n"
			      "        rotate_files: 3\n"
			      "        snaplen: 128\n",
			      &cfg, &err),
			 0);
	assert_int_equal(cfg->networks[0].capture_count, 2);
	c = &cfg->networks[0].captures[0];
	assert_string_equal(c->name, "all");
	assert_int_equal(c->port_count, 0);
	assert_null(c->file);
	assert_int_equal(c->rotate_size, NETCONF_CAPTURE_ROTATE_SIZE_DEFAULT);
	assert_int_equal(c->rotate_files, NETCONF_CAPTURE_ROTATE_FILES_DEFAULT);
	assert_int_equal(c->snaplen, NETCONF_CAPTURE_SNAPLEN_MAX);
	c = &cfg->networks[0].captures[1];
	assert_int_equal(c->port_count, 2);
	assert_string_equal(c->ports[1], "lmxb");
	assert_string_equal(c->filter, "icmp");
	assert_int_equal(c->rotate_files, 3);
	assert_int_equal(c->snaplen, 128);
	/* JSON round trip (the state file, the control protocol). */
	j = netconf_net_to_json(&cfg->networks[0]);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "captures")), 2);
	assert_int_equal(netconf_net_from_json(j, &back, "", &err), 0);
	j2 = netconf_net_to_json(&back);
	assert_true(json_equal(j, j2));
	json_decref(j);
	json_decref(j2);
	netconf_net_clear(&back);
	netconf_free(cfg);
}

static void test_errors(void **state)
{
	static const struct {
		const char *yaml, *path, *msg;
	} bad[] = {
		{"      - {ports: [a]}\n", "networks[0].captures[0]", "missing field 'name'"},
		{"      - {name: x, ports: [zz]}\n", "networks[0].captures[0].ports[0]", "no port 'zz'"},
		{"      - {name: 'a b'}\n", "networks[0].captures[0].name", "not a capture name"},
		{"      - {name: x}\n      - {name: x}\n", "networks[0].captures[1]", "declared twice"},
		{"      - {name: x, file: rel.pcapng}\n", "networks[0].captures[0].file", "absolute path"},
		{"      - {name: x, rotate_files: 0}\n", "networks[0].captures[0].rotate_files", "1..1000"},
		{"      - {name: x, snaplen: 300000}\n", "networks[0].captures[0].snaplen", "1..262144"},
		{"      - {name: x, rotate: 3}\n", "networks[0].captures[0].rotate", "unknown field"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netconf *cfg = NULL;
		struct netconf_error err;

		memset(&err, 0, sizeof(err));
		assert_int_equal(load(bad[i].yaml, &cfg, &err), -EINVAL);
		if (!strstr(err.path, bad[i].path) || !strstr(err.msg, bad[i].msg))
			print_error("case %zu: got %s: %s\n", i, err.path, err.msg);
		assert_non_null(strstr(err.path, bad[i].path));
		assert_non_null(strstr(err.msg, bad[i].msg));
	}
}

/* The JSON reader refuses what the YAML one does. */
static void test_json_errors(void **state)
{
	struct netconf_net n;
	struct netconf_error err;
	json_t *j = json_pack("{s:s,s:s,s:[{s:s}],s:[{s:s,s:i}]}", "name", "lab",
			      "mode", "switch", "ports", "tap", "lmxa",
			      "captures", "name", "x", "rotate_size", 0);

	(void)state;
	assert_int_equal(netconf_net_from_json(j, &n, "", &err), -EINVAL);
	assert_non_null(strstr(err.path, "captures[0].rotate_size"));
	json_decref(j);
	j = json_pack("{s:s,s:s,s:[{s:s,s:[i]}]}", "name", "lab", "mode",
		      "switch", "captures", "name", "x", "ports", 3);
	assert_int_equal(netconf_net_from_json(j, &n, "", &err), -EINVAL);
	assert_non_null(strstr(err.path, "captures[0].ports[0]"));
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_defaults_json),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_json_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
