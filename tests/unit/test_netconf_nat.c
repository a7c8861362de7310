/* SPDX-License-Identifier: MIT */
/* test_netconf_nat.c - nat networks in the network file: IPv6 prefix, host loopback, forwards and their text forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "common/fwdspec.h"
#include "common/netconf.h"

static void host_forms(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"8080", "127.0.0.1:8080"},
	    {"0.0.0.0:80", "0.0.0.0:80"},
	    {"192.0.2.1:65535", "192.0.2.1:65535"},
	    {"[::1]:8080", "[::1]:8080"},
	    {"[::]:1", "[::]:1"},
	};
	static const char *const bad[] = {
	    "", "0", "65536", "080", "-1", "+80", "::1:80", "[::1]", "[::1]80",
	    "1.2.3.4:", ":80", "x:80", "[1.2.3.4]:80", "1.2.3.4:80:1",
	    "[::1]:8080x", "99999999999999999999", "1.2.3.4/24:80", "[::1",
	};
	struct fwd_endpoint e;
	char buf[FWDSPEC_STRLEN];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(fwd_host_parse(ok[i].in, &e), 0);
		assert_string_equal(fwd_endpoint_format(&e, buf, sizeof(buf)),
				    ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fwd_host_parse(bad[i], &e) != -EINVAL)
			print_error("host '%s' accepted\n", bad[i]);
		assert_int_equal(fwd_host_parse(bad[i], &e), -EINVAL);
	}
}

static void guest_forms(void **state)
{
	struct fwd_endpoint e;
	struct sockaddr_storage ss;
	static const char *const bad[] = {
	    "", "10.0.2.15:0", "10.0.2.15:abc", "[10.0.2.15]",
	    "fd00::15:", "[fd00::15]:", "10.0.2.256", "[fd00::15]:70000",
	    /* names: a letter, no dots, no leading '-', at most 63 bytes */
	    "80", "10", "-web", "_web:80", "web.lab", "web:", "web:0",
	    "w eb", "[web]:80", "web:80:80",
	    "a123456789012345678901234567890123456789012345678901234567890123",
	};

	assert_int_equal(fwd_guest_parse("10.0.2.15", &e), 0);
	assert_int_equal(e.addr.family, AF_INET);
	assert_int_equal(e.port, 0);
	assert_int_equal(fwd_guest_parse("10.0.2.15:80", &e), 0);
	assert_int_equal(e.port, 80);
	assert_int_equal(fwd_endpoint_sockaddr(&e, &ss),
			 sizeof(struct sockaddr_in));
	assert_int_equal(fwd_guest_parse("fd00::15", &e), 0);
	assert_int_equal(e.addr.family, AF_INET6);
	assert_int_equal(e.port, 0);
	assert_int_equal(fwd_guest_parse("[fd00::15]", &e), 0);
	assert_int_equal(fwd_guest_parse("[fd00::15]:443", &e), 0);
	assert_int_equal(e.port, 443);
	assert_int_equal(fwd_endpoint_sockaddr(&e, &ss),
			 sizeof(struct sockaddr_in6));
	assert_string_equal(e.name, "");
	/* A guest's host name, resolved by netd while the forward runs. */
	assert_int_equal(fwd_guest_parse("web:80", &e), 0);
	assert_string_equal(e.name, "web");
	assert_int_equal(e.addr.family, AF_UNSPEC);
	assert_int_equal(e.port, 80);
	assert_int_equal(fwd_guest_parse("vm-1_a", &e), 0);
	assert_string_equal(e.name, "vm-1_a");
	assert_int_equal(e.port, 0);
	assert_int_equal(fwd_guest_parse("9lives:8080", &e), 0);
	assert_string_equal(e.name, "9lives");
	assert_int_equal(fwd_guest_parse(
		"a12345678901234567890123456789012345678901234567890123456789012",
		&e), 0);
	/* a host end is never a name */
	assert_int_equal(fwd_host_parse("web:80", &e), -EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (fwd_guest_parse(bad[i], &e) != -EINVAL)
			print_error("guest '%s' accepted\n", bad[i]);
		assert_int_equal(fwd_guest_parse(bad[i], &e), -EINVAL);
	}
	assert_int_equal(fwd_proto_parse("tcp"), 0);
	assert_int_equal(fwd_proto_parse("udp"), 1);
	assert_int_equal(fwd_proto_parse("sctp"), -EINVAL);
}

static int load(const char *yaml, struct netconf **cfg,
		struct netconf_error *err)
{
	return netconf_load_buffer("t.yaml", yaml, strlen(yaml), cfg, err);
}

/* A nat network with every field; defaults made canonical. */
static void nat_file_defaults(void **state)
{
	static const char yaml[] = "name: web\n"
				   "subnet6: fd00:1::/64\n"
				   "host_loopback: true\n"
				   "forwards:\n"
				   "  - host: 8080\n"
				   "    guest: 10.0.2.15:80\n"
				   "  - proto: udp\n"
				   "    host: \"[::]:5353\"\n"
				   "    guest: fd00:1::15\n"
				   "  - host: 8443\n"
				   "    guest: web\n";
	struct netconf_error err;
	struct netconf *cfg;
	struct netconf_net *n;
	char msg[512];
	int ret;

	ret = load(yaml, &cfg, &err);
	if (ret)
		print_error("%s\n", netconf_error_format(&err, msg,
							 sizeof(msg)));
	assert_int_equal(ret, 0);
	n = &cfg->networks[0];
	assert_int_equal(n->mode, NETCONF_MODE_NAT); /* the default */
	assert_string_equal(n->subnet, "10.0.2.0/24");
	assert_string_equal(n->gateway, "10.0.2.1");
	assert_string_equal(n->gateway6, "fd00:1::1");
	assert_true(n->host_loopback);
	assert_int_equal(n->forward_count, 3);
	assert_int_equal(n->forwards[0].proto, NETCONF_FWD_TCP);
	assert_string_equal(n->forwards[0].host, "127.0.0.1:8080");
	assert_string_equal(n->forwards[0].guest, "10.0.2.15:80");
	assert_int_equal(n->forwards[1].proto, NETCONF_FWD_UDP);
	assert_string_equal(n->forwards[1].host, "[::]:5353");
	assert_string_equal(n->forwards[1].guest, "[fd00:1::15]:5353");
	assert_string_equal(n->forwards[2].guest, "web:8443"); /* a name */

	/* The JSON twin carries the same and reads back equal. */
	{
		json_t *j = netconf_net_to_json(n), *j2;
		struct netconf_net back;

		assert_non_null(j);
		assert_int_equal(netconf_net_from_json(j, &back, "", &err), 0);
		j2 = netconf_net_to_json(&back);
		assert_true(json_equal(j, j2));
		assert_true(json_is_true(json_object_get(j, "host_loopback")));
		assert_int_equal(json_array_size(json_object_get(j,
								 "forwards")),
				 3);
		json_decref(j);
		json_decref(j2);
		netconf_net_clear(&back);
	}
	netconf_free(cfg);
}

struct reject {
	const char *yaml;
	const char *path, *msg;
};

static void nat_rejects(void **state)
{
	static const struct reject r[] = {
	    {"name: a\nforwards:\n  - {host: 80, guest: 10.9.0.5}\n",
	     "forwards[0].guest", "outside the network's subnet"},
	    {"name: a\nforwards:\n  - {host: 80, guest: 10.0.2.1}\n",
	     "forwards[0].guest", "is the gateway"},
	    {"name: a\nforwards:\n  - {host: 80, guest: fd00::5}\n",
	     "forwards[0].guest", "needs the network's subnet6"},
	    {"name: a\nforwards:\n  - {host: 80, guest: vm.1}\n",
	     "forwards[0].guest", "is not ADDR[:PORT] or NAME[:PORT]"},
	    {"name: a\nforwards:\n  - {host: 80, guest: \"gateway:80\"}\n",
	     "forwards[0].guest", "is the gateway"},
	    {"name: a\nmode: bridge\nsubnet: 10.1.0.0/24\n"
	     "bridge_address: 10.1.0.254/24\nforwards:\n"
	     "  - {host: 80, guest: web}\n",
	     "forwards[0].guest", "a bridge network forwards to addresses"},
	    {"name: a\nforwards:\n  - {host: 80000, guest: 10.0.2.5}\n",
	     "forwards[0].host", "is not [ADDR:]PORT"},
	    {"name: a\nforwards:\n  - {host: 80, guest: 10.0.2.5}\n"
	     "  - {host: \"127.0.0.1:80\", guest: 10.0.2.6}\n",
	     "forwards[1]", "already forwarded by forwards[0]"},
	    {"name: a\nforwards:\n  - {proto: sctp, host: 80, guest: 10.0.2.5}\n",
	     "forwards[0].proto", "unknown value"},
	    {"name: a\nforwards:\n  - {host: 80}\n", "forwards[0]",
	     "missing field 'guest'"},
	    {"name: a\nhost_loopback: yes please\n",
	     "host_loopback", "true or false"},
	    {"name: a\nmode: switch\nhost_loopback: true\n",
	     "host_loopback", "only a nat network"},
	    {"name: a\nsubnet: fd00::/64\n", "subnet",
	     "subnet is IPv4"},
	    {"name: a\nsubnet6: 10.0.0.0/8\n", "subnet6",
	     "not an IPv6 prefix"},
	    {"name: a\nsubnet6: fd00::1/64\n", "subnet6",
	     "host bits"},
	    {"name: a\ngateway6: fd00::1\n", "gateway6",
	     "needs a subnet6"},
	    {"name: a\nsubnet6: fd00::/64\ngateway6: fd01::1\n",
	     "gateway6", "not a host of"},
	    {"name: a\nports:\n  - {tap: lmx, address: 10.0.2.9/24}\n",
	     "subnet", "need the subnet"},
	};
	struct netconf_error err;
	struct netconf *cfg;
	char msg[512];

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		int rc = load(r[i].yaml, &cfg, &err);

		if (rc != -EINVAL || strcmp(err.path, r[i].path) ||
		    !strstr(err.msg, r[i].msg))
			print_error("case %zu: rc %d: %s\n", i, rc,
				    netconf_error_format(&err, msg,
							 sizeof(msg)));
		assert_int_equal(rc, -EINVAL);
		assert_string_equal(err.path, r[i].path);
		assert_non_null(strstr(err.msg, r[i].msg));
	}
}

/* One forward from the control protocol, then against its network. */
static void forward_json(void **state)
{
	struct netconf_error err;
	struct netconf_forward f;
	struct netconf_net net = {.mode = NETCONF_MODE_NAT};
	json_t *j = json_pack("{s:s,s:s,s:s}", "proto", "udp", "host",
			      "[::1]:9000", "guest", "10.0.2.20");

	assert_int_equal(netconf_forward_from_json(j, &f, "", &err), 0);
	assert_string_equal(f.host, "[::1]:9000");
	assert_string_equal(f.guest, "10.0.2.20:9000");
	assert_int_equal(netconf_forward_validate(&f, &net, "", &err), 0);
	net.subnet = "192.168.0.0/24";
	assert_int_equal(netconf_forward_validate(&f, &net, "", &err),
			 -EINVAL);
	assert_string_equal(err.path, "guest");
	netconf_forward_clear(&f);
	json_decref(j);
	j = json_pack("{s:s,s:s,s:i}", "host", "80", "guest", "10.0.2.3",
		      "extra", 1);
	assert_int_equal(netconf_forward_from_json(j, &f, "", &err), -EINVAL);
	assert_string_equal(err.path, "extra");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(host_forms),
	    cmocka_unit_test(guest_forms),
	    cmocka_unit_test(nat_file_defaults),
	    cmocka_unit_test(nat_rejects),
	    cmocka_unit_test(forward_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
