/* SPDX-License-Identifier: MIT */
/* test_netconf.c - network files: loading, FILE:LINE: FIELD errors, JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/netconf.h"

static const char lab_yaml[] = "networks:\n"			 /* 1 */
			       "  - name: lab\n"		 /* 2 */
			       "    mode: switch\n"		 /* 3 */
			       "    subnet: 10.10.0.0/24\n"	 /* 4 */
			       "    gateway: 10.10.0.1\n"	 /* 5 */
			       "    mtu: 9000\n"		 /* 6 */
			       "    mac_table_size: 1024\n"	 /* 7 */
			       "    mac_aging: 60\n"		 /* 8 */
			       "    ports:\n"			 /* 9 */
			       "      - name: a\n"		 /* 10 */
			       "        tap: lma0\n"		 /* 11 */
			       "        netns: ns-a\n"		 /* 12 */
			       "        address: 10.10.0.2/24\n" /* 13 */
			       "        vlan: 10\n"		 /* 14 */
			       "      - tap: lmt0\n"		 /* 15 */
			       "        trunk: [10, 20]\n"	 /* 16 */
			       "        native: 1\n"		 /* 17 */
			       "  - name: iso\n"		 /* 18 */
			       "    mode: isolated\n";		 /* 19 */

static int load(const char *yaml, struct netconf **cfg,
		struct netconf_error *err)
{
	return netconf_load_buffer("t.yaml", yaml, strlen(yaml), cfg, err);
}

static void test_valid_file(void **state)
{
	struct netconf_error err;
	struct netconf *cfg;
	struct netconf_net *n;

	assert_int_equal(load(lab_yaml, &cfg, &err), 0);
	assert_int_equal(cfg->network_count, 2);
	n = &cfg->networks[0];
	assert_string_equal(n->name, "lab");
	assert_int_equal(n->mode, NETCONF_MODE_SWITCH);
	assert_string_equal(n->subnet, "10.10.0.0/24");
	assert_string_equal(n->gateway, "10.10.0.1");
	assert_int_equal(n->mtu, 9000);
	assert_int_equal(n->mac_table_size, 1024);
	assert_int_equal(n->mac_aging, 60);
	assert_int_equal(n->port_count, 2);
	assert_string_equal(n->ports[0].name, "a");
	assert_string_equal(n->ports[0].tap, "lma0");
	assert_string_equal(n->ports[0].netns, "ns-a");
	assert_string_equal(n->ports[0].address, "10.10.0.2/24");
	assert_int_equal(n->ports[0].vlan, 10);
	assert_int_equal(n->ports[0].trunk_count, 0);
	/* A port's name defaults to its TAP; a trunk port gets no vlan. */
	assert_string_equal(n->ports[1].name, "lmt0");
	assert_int_equal(n->ports[1].vlan, 0);
	assert_int_equal(n->ports[1].trunk_count, 2);
	assert_int_equal(n->ports[1].trunk[0], 10);
	assert_int_equal(n->ports[1].trunk[1], 20);
	assert_int_equal(n->ports[1].native, 1);
	n = &cfg->networks[1];
	assert_string_equal(n->name, "iso");
	assert_int_equal(n->mode, NETCONF_MODE_ISOLATED);
	assert_null(n->subnet);
	assert_null(n->gateway);
	assert_int_equal(n->port_count, 0);
	netconf_free(cfg);
}

static void test_defaults_single_network(void **state)
{
	static const char yaml[] = "name: solo\n"
				   "mode: switch\n"
				   "subnet: 192.168.7.0/24\n"
				   "ports:\n"
				   "  - tap: lms0\n";
	struct netconf_error err;
	struct netconf *cfg;
	struct netconf_net *n;

	assert_int_equal(load(yaml, &cfg, &err), 0);
	assert_int_equal(cfg->network_count, 1);
	n = &cfg->networks[0];
	assert_string_equal(n->name, "solo");
	assert_string_equal(n->gateway, "192.168.7.1");
	assert_int_equal(n->mtu, NETCONF_DEFAULT_MTU);
	assert_int_equal(n->mac_table_size, NETCONF_DEFAULT_MAC_TABLE_SIZE);
	assert_int_equal(n->mac_aging, NETCONF_DEFAULT_MAC_AGING);
	assert_string_equal(n->ports[0].name, "lms0");
	assert_int_equal(n->ports[0].vlan, NETCONF_DEFAULT_VLAN);
	netconf_free(cfg);
}

static void test_ipv6_subnet(void **state)
{
	static const char yaml[] = "name: v6\n"
				   "mode: isolated\n"
				   "subnet: fd00:10::/64\n"
				   "ports:\n"
				   "  - tap: lm6\n"
				   "    address: fd00:10::20/64\n";
	struct netconf_error err;
	struct netconf *cfg;

	assert_int_equal(load(yaml, &cfg, &err), 0);
	assert_string_equal(cfg->networks[0].gateway, "fd00:10::1");
	netconf_free(cfg);
}

/* One rejected file: the line, the field path and a piece of the message. */
struct reject_case {
	const char *name;
	const char *yaml;
	unsigned int line;
	const char *path;
	const char *msg;
};

#define NET_HEAD "networks:\n  - name: lab\n    mode: switch\n"
#define SUBNET "    subnet: 10.10.0.0/24\n"
#define PORTS "    ports:\n"

static const struct reject_case rejects[] = {
    {"mtu_range", NET_HEAD "    mtu: 70000\n", 4, "networks[0].mtu",
     "must be 68..65535, got 70000"},
    {"mtu_low", NET_HEAD "    mtu: 67\n", 4, "networks[0].mtu",
     "must be 68..65535, got 67"},
    {"mtu_not_number", NET_HEAD "    mtu: big\n", 4, "networks[0].mtu",
     "must be a decimal integer, got 'big'"},
    {"mtu_negative", NET_HEAD "    mtu: -1\n", 4, "networks[0].mtu",
     "must be 68..65535, got -1"},
    {"mtu_octal", NET_HEAD "    mtu: 01500\n", 4, "networks[0].mtu",
     "decimal integer"},
    {"mtu_list", NET_HEAD "    mtu: [1500]\n", 4, "networks[0].mtu",
     "must be a single value"},
    {"mac_table_size", NET_HEAD "    mac_table_size: 8\n", 4,
     "networks[0].mac_table_size", "must be 16..1048576, got 8"},
    {"mac_aging", NET_HEAD "    mac_aging: 0\n", 4, "networks[0].mac_aging",
     "must be 1..86400, got 0"},
    {"unknown_field", NET_HEAD "    mut: 1500\n", 4, "networks[0].mut",
     "unknown field 'mut' (did you mean 'mtu'?)"},
    {"unknown_field_no_hint", NET_HEAD "    colour: blue\n", 4,
     "networks[0].colour", "unknown field 'colour'"},
    {"unknown_top", "netwrks:\n  - name: a\n", 1, "netwrks",
     "did you mean 'networks'?"},
    {"unknown_port_field", NET_HEAD PORTS "      - tap: t0\n        vlna: 3\n",
     6, "networks[0].ports[0].vlna", "did you mean 'vlan'?"},
    {"tap_with_path", NET_HEAD PORTS "      - tap: t0\n        path: /tmp/s\n",
     6, "networks[0].ports[0].path", "a TAP port has no 'path'"},
    {"path_too_long", NET_HEAD PORTS "      - type: vhost-user\n        name: v\n"
     "        path: /tmp/" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
     7, "networks[0].ports[0].path", "must be 1..107 bytes long"},
    {"duplicate_key", NET_HEAD "    mtu: 1500\n    mtu: 1400\n", 5,
     "networks[0].mtu", "given twice"},
    {"missing_name", "networks:\n  - mode: switch\n", 2, "networks[0]",
     "missing field 'name'"},
    {"missing_tap", NET_HEAD PORTS "      - name: a\n", 5,
     "networks[0].ports[0]", "missing field 'tap'"},
    {"typed_port_tap", NET_HEAD PORTS "      - type: loopback\n"
     "        name: l0\n        tap: t0\n", 7, "networks[0].ports[0].tap",
     "only a port of type tap, veth or macvtap has 'tap' (this one is of type 'loopback')"},
    {"typed_port_netns", NET_HEAD PORTS "      - type: loopback\n"
     "        name: l0\n        netns: ns\n", 7,
     "networks[0].ports[0].netns", "only a port of type tap, veth or macvtap has 'netns'"},
    {"macvtap_no_parent", NET_HEAD PORTS "      - type: macvtap\n"
     "        tap: mv0\n", 5, "networks[0].ports[0]", "missing field 'parent'"},
    {"macvtap_bad_mode", NET_HEAD PORTS "      - type: macvtap\n"
     "        tap: mv0\n        parent: eth0\n        macvtap_mode: hub\n", 8,
     "networks[0].ports[0].macvtap_mode", "must be bridge, private, vepa or passthru"},
    {"macvtap_netns", NET_HEAD PORTS "      - type: macvtap\n"
     "        tap: mv0\n        parent: eth0\n        netns: x\n", 8,
     "networks[0].ports[0].netns", "a macvtap port has no 'netns'"},
    {"vlan_port_name", NET_HEAD PORTS "      - type: vlan\n"
     "        tap: eth0\n", 6, "networks[0].ports[0].tap",
     "a vlan port's name is PARENT.VID"},
    {"vlan_port_vid", NET_HEAD PORTS "      - type: vlan\n"
     "        tap: eth0.4095\n", 6, "networks[0].ports[0].tap",
     "a vlan port's name is PARENT.VID"},
    {"parent_on_tap", NET_HEAD PORTS "      - tap: t0\n        parent: eth0\n", 6,
     "networks[0].ports[0].parent", "only a port of type macvtap has 'parent'"},
    {"typed_port_no_name", NET_HEAD PORTS "      - type: loopback\n", 5,
     "networks[0].ports[0]", "missing field 'name' (a port of type"},
    {"bad_type", NET_HEAD PORTS "      - type: lo op\n        name: l0\n", 5,
     "networks[0].ports[0].type", "only letters"},
    {"bad_name_chars", "networks:\n  - name: my lab\n    mode: switch\n", 2,
     "networks[0].name", "only letters, digits"},
    {"name_too_long",
     "networks:\n  - name: abcdefghijabcdefghijabcdefghijabc\n"
     "    mode: switch\n",
     2, "networks[0].name", "at most 32 characters"},
    {"name_dash_first", "networks:\n  - name: -x\n    mode: switch\n", 2,
     "networks[0].name", "must start with a letter or a digit"},
    {"nat_mtu", "networks:\n  - name: lab\n    mode: nat\n    mtu: 65535\n",
     4, "networks[0].mtu", "at most 65520"},
    {"forwards_on_switch",
     NET_HEAD "    forwards:\n      - {host: 8080, guest: 10.0.2.15}\n", 4,
     "networks[0].forwards", "only a nat network"},
    {"bridge_address_outside",
     "networks:\n  - name: lab\n    mode: bridge\n    subnet: 10.9.0.0/24\n"
     "    bridge_address: 10.8.0.2/24\n", 5,
     "networks[0].bridge_address", "outside subnet 10.9.0.0/24"},
    {"bridge_on_switch", NET_HEAD "    bridge: br0\n", 4,
     "networks[0].bridge", "only a bridge network"},
    {"mode_misspelt", "networks:\n  - name: lab\n    mode: swich\n", 3,
     "networks[0].mode", "unknown mode 'swich' (did you mean 'switch'?)"},
    {"mode_unknown", "networks:\n  - name: lab\n    mode: hub\n", 3,
     "networks[0].mode", "unknown mode 'hub'"},
    {"subnet_syntax", NET_HEAD "    subnet: 10.10.0.0\n", 4,
     "networks[0].subnet", "must be ADDRESS/PREFIX"},
    {"subnet_prefix", NET_HEAD "    subnet: 10.10.0.0/33\n", 4,
     "networks[0].subnet", "must be ADDRESS/PREFIX"},
    {"subnet_host_bits", NET_HEAD "    subnet: 10.10.0.7/24\n", 4,
     "networks[0].subnet", "did you mean 10.10.0.0/24?"},
    {"subnet_too_small", NET_HEAD "    subnet: 10.10.0.0/31\n", 4,
     "networks[0].subnet", "prefix must be"},
    {"gateway_outside", NET_HEAD SUBNET "    gateway: 10.11.0.1\n", 5,
     "networks[0].gateway", "outside subnet 10.10.0.0/24"},
    {"gateway_network", NET_HEAD SUBNET "    gateway: 10.10.0.0\n", 5,
     "networks[0].gateway", "subnet's own address"},
    {"gateway_broadcast", NET_HEAD SUBNET "    gateway: 10.10.0.255\n", 5,
     "networks[0].gateway", "broadcast"},
    {"gateway_no_subnet", NET_HEAD "    gateway: 10.10.0.1\n", 4,
     "networks[0].gateway", "needs a subnet"},
    {"gateway_cidr", NET_HEAD SUBNET "    gateway: 10.10.0.1/24\n", 5,
     "networks[0].gateway", "without prefix"},
    {"tap_too_long", NET_HEAD PORTS "      - tap: abcdefghijklmnop\n", 5,
     "networks[0].ports[0].tap", "at most 15 characters"},
    {"tap_slash", NET_HEAD PORTS "      - tap: a/b\n", 5,
     "networks[0].ports[0].tap", "only letters"},
    {"netns_bad", NET_HEAD PORTS "      - tap: t0\n        netns: ..\n", 6,
     "networks[0].ports[0].netns", "start with a letter"},
    {"address_outside",
     NET_HEAD SUBNET PORTS "      - tap: t0\n        address: 10.9.0.2/24\n", 7,
     "networks[0].ports[0].address", "outside subnet"},
    {"address_gateway",
     NET_HEAD SUBNET PORTS "      - tap: t0\n        address: 10.10.0.1/24\n",
     7, "networks[0].ports[0].address", "gateway"},
    {"address_syntax",
     NET_HEAD PORTS "      - tap: t0\n        address: 10.10.0.300/24\n", 6,
     "networks[0].ports[0].address", "must be ADDRESS/PREFIX"},
    {"address_duplicate",
     NET_HEAD PORTS "      - tap: t0\n        address: 10.0.0.2/24\n"
		    "      - tap: t1\n        address: 10.0.0.2/16\n",
     8, "networks[0].ports[1].address", "already used by"},
    {"vlan_range", NET_HEAD PORTS "      - tap: t0\n        vlan: 4095\n", 6,
     "networks[0].ports[0].vlan", "must be 1..4094, got 4095"},
    {"vlan_zero", NET_HEAD PORTS "      - tap: t0\n        vlan: 0\n", 6,
     "networks[0].ports[0].vlan", "must be 1..4094, got 0"},
    {"vlan_and_trunk",
     NET_HEAD PORTS "      - tap: t0\n        vlan: 3\n        trunk: [4]\n", 6,
     "networks[0].ports[0].vlan", "exclude each other"},
    {"trunk_empty", NET_HEAD PORTS "      - tap: t0\n        trunk: []\n", 6,
     "networks[0].ports[0].trunk", "must not be an empty list"},
    {"trunk_scalar", NET_HEAD PORTS "      - tap: t0\n        trunk: 10\n", 6,
     "networks[0].ports[0].trunk", "must be a list"},
    {"trunk_duplicate",
     NET_HEAD PORTS "      - tap: t0\n        trunk:\n          - 10\n"
		    "          - 20\n          - 10\n",
     9, "networks[0].ports[0].trunk[2]", "VLAN 10 is listed twice"},
    {"trunk_range",
     NET_HEAD PORTS "      - tap: t0\n        trunk: [10, 5000]\n", 6,
     "networks[0].ports[0].trunk[1]", "must be 1..4094, got 5000"},
    {"native_without_trunk",
     NET_HEAD PORTS "      - tap: t0\n        native: 1\n", 6,
     "networks[0].ports[0].native", "native needs trunk"},
    {"native_range",
     NET_HEAD PORTS
     "      - tap: t0\n        trunk: [2]\n        native: 9999\n",
     7, "networks[0].ports[0].native", "must be 1..4094"},
    {"port_name_duplicate",
     NET_HEAD PORTS "      - tap: t0\n        name: p\n"
		    "      - tap: t1\n        name: p\n",
     8, "networks[0].ports[1].name", "port name 'p' is already used"},
    {"tap_duplicate",
     NET_HEAD PORTS "      - tap: t0\n        name: p\n"
		    "      - tap: t0\n        name: q\n",
     7, "networks[0].ports[1].tap", "TAP 't0' is already used"},
    {"tap_duplicate_across_networks",
     NET_HEAD PORTS "      - tap: t0\n"
		    "  - name: lab2\n    mode: switch\n    ports:\n"
		    "      - tap: t0\n",
     9, "networks[1].ports[0].tap", "already used by networks[0]"},
    {"network_name_duplicate", NET_HEAD "  - name: lab\n    mode: isolated\n",
     4, "networks[1].name", "network name 'lab' is already used"},
    {"networks_empty", "networks: []\n", 1, "networks",
     "must not be an empty list"},
    {"networks_not_list", "networks: lab\n", 1, "networks", "must be a list"},
    {"ports_not_list", NET_HEAD "    ports:\n      tap: t0\n", 5,
     "networks[0].ports", "must be a list"},
    {"root_list", "- name: lab\n", 1, "", "must be a mapping"},
    {"syntax_error", NET_HEAD "    mtu: [1500\n    mac_aging: 3\n", 5, "",
     "YAML syntax error"},
    {"syntax_tab", "networks:\n\t- name: lab\n", 2, "", "YAML syntax error"},
    {"alias", "networks:\n  - &x\n    name: lab\n    mode: switch\n  - *x\n", 5,
     "", "aliases"},
    {"two_documents", NET_HEAD "---\n" NET_HEAD, 4, "", "one YAML document"},
    {"empty_file", "", 0, "", "empty"},
    {"comment_only", "# nothing\n", 0, "", "empty"},
};

static void test_reject(void **state)
{
	const struct reject_case *c = *state;
	struct netconf_error err;
	struct netconf *cfg = (void *)1;
	char buf[1024];
	int rc;

	rc = load(c->yaml, &cfg, &err);
	netconf_error_format(&err, buf, sizeof(buf));
	if (rc != -EINVAL || err.line != c->line || strcmp(err.path, c->path) ||
	    !strstr(err.msg, c->msg))
		print_error("case %s: rc %d, got \"%s\"; want line %u, path "
			    "'%s', msg ~ '%s'\n",
			    c->name, rc, buf, c->line, c->path, c->msg);
	assert_int_equal(rc, -EINVAL);
	assert_null(cfg);
	assert_string_equal(err.file, "t.yaml");
	assert_int_equal(err.line, c->line);
	assert_string_equal(err.path, c->path);
	assert_non_null(strstr(err.msg, c->msg));
}

static void test_error_format(void **state)
{
	struct netconf_error err;
	struct netconf *cfg;
	char buf[512];

	assert_int_equal(netconf_load_buffer(
			     "lab.yaml", NET_HEAD "    mtu: 70000\n",
			     strlen(NET_HEAD "    mtu: 70000\n"), &cfg, &err),
			 -EINVAL);
	assert_string_equal(
	    netconf_error_format(&err, buf, sizeof(buf)),
	    "lab.yaml:4: networks[0].mtu: must be 68..65535, got 70000");
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_netconf_XXXXXX";
	struct netconf_error err;
	struct netconf *cfg;
	int fd;

	assert_int_equal(netconf_load_file("/nonexistent/lab.yaml", &cfg, &err),
			 -ENOENT);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_string_equal(err.file, "/nonexistent/lab.yaml");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, lab_yaml, strlen(lab_yaml)),
			 (ssize_t)strlen(lab_yaml));
	close(fd);
	assert_int_equal(netconf_load_file(path, &cfg, &err), 0);
	assert_int_equal(cfg->network_count, 2);
	netconf_free(cfg);
	unlink(path);
	assert_int_equal(netconf_load_file("/tmp", &cfg, &err), -EINVAL);
}

static void test_json_round_trip(void **state)
{
	struct netconf_error err;
	struct netconf *cfg, *back;
	json_t *j1, *j2;

	assert_int_equal(load(lab_yaml, &cfg, &err), 0);
	j1 = netconf_to_json(cfg);
	assert_non_null(j1);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_array_get(json_object_get(j1, "networks"), 0), "mtu")),
	    9000);
	assert_int_equal(netconf_from_json(j1, &back, &err), 0);
	j2 = netconf_to_json(back);
	assert_true(json_equal(j1, j2));
	json_decref(j1);
	json_decref(j2);
	netconf_free(back);
	netconf_free(cfg);
}

/* A port's type: "tap" unless given; a typed port is written with it. */
static void test_port_types(void **state)
{
	static const char yaml[] = "networks:\n"
				   "  - name: lab\n"
				   "    mode: switch\n"
				   "    ports:\n"
				   "      - tap: t0\n"
				   "      - type: tap\n"
				   "        tap: t1\n"
				   "      - type: loopback\n"
				   "        name: hairpin\n"
				   "      - type: vhost-user\n"
				   "        name: vm1\n"
				   "        path: /run/loom/vm1.sock\n";
	struct netconf_error err;
	struct netconf *cfg, *back;
	struct netconf_net *n;
	json_t *j, *ports;

	assert_int_equal(load(yaml, &cfg, &err), 0);
	n = &cfg->networks[0];
	assert_int_equal(n->port_count, 4);
	assert_string_equal(n->ports[3].path, "/run/loom/vm1.sock");
	assert_string_equal(netconf_port_type(&n->ports[0]), "tap");
	assert_true(netconf_port_is_tap(&n->ports[0]));
	assert_true(netconf_port_is_tap(&n->ports[1]));
	assert_false(netconf_port_is_tap(&n->ports[2]));
	assert_string_equal(netconf_port_type(&n->ports[2]), "loopback");
	assert_null(n->ports[2].tap);
	j = netconf_to_json(cfg);
	ports = json_object_get(json_array_get(json_object_get(j, "networks"),
					       0),
				"ports");
	/* TAP ports keep the shape they had before types existed. */
	assert_null(json_object_get(json_array_get(ports, 0), "type"));
	assert_null(json_object_get(json_array_get(ports, 1), "type"));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(ports, 2), "type")),
			    "loopback");
	assert_int_equal(netconf_from_json(j, &back, &err), 0);
	assert_string_equal(netconf_port_type(&back->networks[0].ports[2]),
			    "loopback");
	assert_string_equal(back->networks[0].ports[2].name, "hairpin");
	assert_string_equal(back->networks[0].ports[3].path,
			    "/run/loom/vm1.sock");
	json_decref(j);
	netconf_free(back);
	netconf_free(cfg);
}

static void test_json_single_and_port(void **state)
{
	struct netconf_error err;
	struct netconf_net net;
	struct netconf_port port;
	struct netconf *cfg;
	json_t *j;

	j = json_pack("{s:s, s:s, s:s}", "name", "lab", "mode", "isolated",
		      "subnet", "10.1.0.0/16");
	assert_int_equal(netconf_net_from_json(j, &net, "", &err), 0);
	assert_string_equal(net.gateway, "10.1.0.1");
	assert_int_equal(net.mtu, 1500);
	netconf_net_clear(&net);
	assert_int_equal(netconf_from_json(j, &cfg, &err), 0);
	assert_int_equal(cfg->network_count, 1);
	netconf_free(cfg);
	json_decref(j);

	j = json_pack("{s:s, s:[i,i], s:i}", "tap", "t0", "trunk", 10, 20,
		      "native", 10);
	assert_int_equal(netconf_port_from_json(j, &port, "", &err), 0);
	assert_string_equal(port.name, "t0");
	assert_int_equal(port.trunk_count, 2);
	netconf_port_clear(&port);
	json_decref(j);
}

struct json_case {
	const char *json;
	const char *path;
	const char *msg;
};

static const struct json_case json_rejects[] = {
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"mut\":1}", "mut",
     "did you mean 'mtu'?"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"mtu\":\"1500\"}", "mtu",
     "must be an integer"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"mtu\":0}", "mtu",
     "must be 68..65535, got 0"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"mtu\":-5}", "mtu",
     "must be 68..65535, got -5"},
    {"{\"name\":\"lab\",\"mode\":\"nat\",\"subnet6\":\"fd00::/72\"}",
     "subnet6", "/8../64"},
    {"{\"name\":\"lab\",\"mode\":\"hub\"}", "mode", "unknown mode"},
    {"{\"name\":7,\"mode\":\"switch\"}", "name", "must be a string"},
    {"{\"mode\":\"switch\"}", "", "missing field 'name'"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"ports\":[{\"tap\":\"t\","
     "\"trunk\":[]}]}",
     "ports[0].trunk", "must not be an empty list"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"ports\":[{\"tap\":\"t\","
     "\"trunk\":[3,3]}]}",
     "ports[0].trunk[1]", "listed twice"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"ports\":[{\"name\":\"x\"}]}",
     "ports[0]", "missing field 'tap'"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"ports\":[{\"type\":"
     "\"loopback\"}]}",
     "ports[0]", "missing field 'name'"},
    {"{\"name\":\"lab\",\"mode\":\"switch\",\"ports\":[7]}", "ports[0]",
     "must be an object"},
    {"{\"networks\":[]}", "networks", "1..256"},
    {"{\"networks\":[{\"name\":\"a\",\"mode\":\"switch\"}],\"x\":1}", "x",
     "unknown field"},
};

static void test_json_reject(void **state)
{
	struct netconf_error err;
	struct netconf *cfg;
	json_error_t jerr;
	size_t i;
	json_t *j;

	for (i = 0; i < sizeof(json_rejects) / sizeof(json_rejects[0]); i++) {
		j = json_loads(json_rejects[i].json, 0, &jerr);
		assert_non_null(j);
		cfg = (void *)1;
		assert_int_equal(netconf_from_json(j, &cfg, &err), -EINVAL);
		if (strcmp(err.path, json_rejects[i].path) ||
		    !strstr(err.msg, json_rejects[i].msg))
			print_error("json case %zu: got '%s: %s'\n", i,
				    err.path, err.msg);
		assert_null(cfg);
		assert_int_equal(err.line, 0);
		assert_string_equal(err.path, json_rejects[i].path);
		assert_non_null(strstr(err.msg, json_rejects[i].msg));
		json_decref(j);
	}
}

static void test_port_against_net(void **state)
{
	struct netconf_net net = {.name = "lab",
				  .mode = NETCONF_MODE_SWITCH,
				  .subnet = "10.0.0.0/24"};
	struct netconf_port port = {.tap = "t0", .address = "10.0.0.1/24"};
	struct netconf_error err;

	/* The default gateway (first host) is netd's own. */
	assert_int_equal(netconf_port_validate(&port, &net, "", &err), -EINVAL);
	assert_string_equal(err.path, "address");
	port.address = "10.0.0.9/24";
	assert_int_equal(netconf_port_validate(&port, &net, "", &err), 0);
	assert_int_equal(netconf_port_validate(&port, NULL, "", &err), 0);
}

/* 5 x 1000 ports: each network is within its limit, the file is not. */
static void test_total_port_limit(void **state)
{
	size_t cap = 5 * 1000 * 32 + 1024, off = 0;
	struct netconf_error err;
	struct netconf *cfg;
	char *y = malloc(cap);
	int n, p;

	assert_non_null(y);
	off += (size_t)snprintf(y + off, cap - off, "networks:\n");
	for (n = 0; n < 5; n++) {
		off += (size_t)snprintf(
		    y + off, cap - off,
		    "  - name: n%d\n    mode: switch\n    ports:\n", n);
		for (p = 0; p < 1000; p++)
			off += (size_t)snprintf(y + off, cap - off,
						"      - tap: t%d-%d\n", n, p);
	}
	assert_true(off < cap);
	assert_int_equal(load(y, &cfg, &err), -EINVAL);
	assert_string_equal(err.path, "networks[4].ports");
	assert_non_null(strstr(err.msg, "more than 4096 ports"));
	free(y);
}

static void test_mode_names(void **state)
{
	enum netconf_mode m;

	assert_int_equal(netconf_mode_parse("switch", &m), 0);
	assert_int_equal(m, NETCONF_MODE_SWITCH);
	assert_string_equal(netconf_mode_name(NETCONF_MODE_ISOLATED),
			    "isolated");
	assert_int_equal(netconf_mode_parse("Switch", &m), -EINVAL);
	assert_true(netconf_mode_supported(NETCONF_MODE_SWITCH));
	assert_true(netconf_mode_supported(NETCONF_MODE_NAT));
	assert_true(netconf_mode_supported(NETCONF_MODE_BRIDGE));
}

int main(void)
{
	enum { NREJ = sizeof(rejects) / sizeof(rejects[0]) };
	struct CMUnitTest tests[NREJ + 12];
	size_t i, n = 0;

	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_valid_file);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_defaults_single_network);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_ipv6_subnet);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_error_format);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_load_file);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_json_round_trip);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_port_types);
	tests[n++] =
	    (struct CMUnitTest)cmocka_unit_test(test_json_single_and_port);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_json_reject);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_port_against_net);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_mode_names);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_total_port_limit);
	for (i = 0; i < NREJ; i++)
		tests[n++] = (struct CMUnitTest){
		    .name = rejects[i].name,
		    .test_func = test_reject,
		    .initial_state = (void *)&rejects[i],
		};
	return _cmocka_run_group_tests("netconf", tests, n, NULL, NULL);
}
