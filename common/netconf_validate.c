/* SPDX-License-Identifier: MIT */
/* netconf_validate.c - network model: validation, defaults and freeing. */
#include "common/netconf.h"
#include "common/netconf_internal.h"
#include "common/inet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Validation */

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Names: 1..@max characters of [A-Za-z0-9_.-], first one alphanumeric. */
static int name_check(const char *s, size_t max, const char *path,
		      const char *what, struct netconf_error *err)
{
	size_t i, len = strlen(s);

	if (len == 0)
		return netconf_err_set(err, path, "%s must not be empty", what);
	if (len > max)
		return netconf_err_set(
		    err, path,
		    "%s must be at most %zu characters, got '%s' (%zu)", what,
		    max, s, len);
	for (i = 0; i < len; i++)
		if (!name_char_ok(s[i]))
			return netconf_err_set(err, path,
				       "%s may hold only letters, digits, '_', "
				       "'.' and '-', got '%s'",
				       what, s);
	if (s[0] == '.' || s[0] == '-' || s[0] == '_')
		return netconf_err_set(
		    err, path,
		    "%s must start with a letter or a digit, got '%s'", what,
		    s);
	return 0;
}

int netconf_name_check(const char *s, size_t max, const char *path,
		       const char *what, struct netconf_error *err)
{
	return name_check(s, max, path, what, err);
}

static int range_check(const char *key, uint32_t v, const char *path,
		       struct netconf_error *err)
{
	const struct netconf_int_range *r = netconf_int_range_find(key);

	if (r && (v < r->min || v > r->max))
		return netconf_err_set(err, path, "must be %u..%u, got %u",
				       r->min, r->max, v);
	return 0;
}

/* Checks subnet and gateway; fills @subnet and @gw (gw->family 0 if none). */
static int net_addr_check(const struct netconf_net *net, const char *path,
			  struct inet_cidr *subnet, struct inet_cidr *gw,
			  struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN], fix[64];
	struct inet_cidr edge;
	unsigned int maxp;

	memset(subnet, 0, sizeof(*subnet));
	memset(gw, 0, sizeof(*gw));
	if (net->subnet) {
		netconf_path_field(p, path, "subnet");
		if (inet_cidr_parse(net->subnet, subnet))
			return netconf_err_set(err, p,
				       "must be ADDRESS/PREFIX (e.g. "
				       "10.10.0.0/24), got '%s'",
				       net->subnet);
		inet_cidr_network(subnet, &edge);
		if (!inet_addr_equal(&edge, subnet)) {
			inet_cidr_format(&edge, fix, sizeof(fix));
			return netconf_err_set(
			    err, p, "%s has host bits set (did you mean %s?)",
			    net->subnet, fix);
		}
		maxp = subnet->family == AF_INET ? 30 : 126;
		if (subnet->prefix > maxp || subnet->prefix < 8)
			return netconf_err_set(err, p,
				       "prefix must be /8../%u to hold a "
				       "gateway and hosts, got /%u",
				       maxp, subnet->prefix);
	}
	if (net->gateway) {
		netconf_path_field(p, path, "gateway");
		if (!net->subnet)
			return netconf_err_set(err, p,
					       "a gateway needs a subnet");
		if (inet_addr_parse(net->gateway, gw))
			return netconf_err_set(
			    err, p,
			    "must be an IP address without prefix, got '%s'",
			    net->gateway);
		if (!inet_cidr_contains(subnet, gw))
			return netconf_err_set(err, p,
					       "%s is outside subnet %s",
					       net->gateway, net->subnet);
		inet_cidr_network(subnet, &edge);
		if (inet_addr_equal(&edge, gw))
			return netconf_err_set(
			    err, p,
			    "%s is the subnet's own address, not a host",
			    net->gateway);
		inet_cidr_last(subnet, &edge);
		if (gw->family == AF_INET && inet_addr_equal(&edge, gw))
			return netconf_err_set(err, p,
				       "%s is the subnet's broadcast address",
				       net->gateway);
	} else if (net->subnet) {
		inet_cidr_first_host(subnet, gw);
	}
	return 0;
}

static int port_check(const struct netconf_port *port,
		      const struct inet_cidr *subnet,
		      const struct inet_cidr *gw, const char *subnet_str,
		      const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN], gws[64];
	struct inet_cidr addr, edge;
	uint32_t i, j;
	int rc;

	if (port->type) {
		netconf_path_field(p, path, "type");
		rc = name_check(port->type, NETCONF_IFNAME_MAX, p,
				"a port type", err);
		if (rc)
			return rc;
	}
	rc = netconf_macvtap_port_check(port, path, err);
	if (rc)
		return rc;
	if (!netconf_port_has_ifname(port)) {
		/* The fields of a kernel interface: TAP and veth ports. */
		static const char *const tap_only[] = {"tap", "netns",
						       "address"};
		const char *set[] = {port->tap, port->netns, port->address};

		for (i = 0; i < 3; i++) {
			if (!set[i])
				continue;
			netconf_path_field(p, path, tap_only[i]);
			return netconf_err_set(err, p,
				       "only a port of type tap, veth or macvtap has '%s' "
				       "(this one is of type '%s')",
				       tap_only[i], port->type);
		}
		if (!port->name)
			return netconf_err_set(err, path,
				       "missing field 'name' (a port of "
				       "type '%s' has no TAP name to "
				       "default to)", port->type);
	} else {
		if (port->url) {
			netconf_path_field(p, path, "url");
			return netconf_err_set(err, p,
				       "a TAP port has no 'url' (a port of "
				       "type vde has: add type: vde)");
		}
		if (port->path) {
			netconf_path_field(p, path, "path");
			return netconf_err_set(err, p,
				       "a TAP port has no 'path' (a port of "
				       "type vhost-user has: add type: "
				       "vhost-user)");
		}
		netconf_path_field(p, path, "tap");
		if (!port->tap)
			return netconf_err_set(err, path,
					       "missing field 'tap'%s",
					       netconf_port_is_tap(port) ? "" :
					       " (the interface's name)");
		rc = name_check(port->tap, NETCONF_IFNAME_MAX, p, "a TAP name",
				err);
		if (rc)
			return rc;
	}
	if (port->name) {
		netconf_path_field(p, path, "name");
		rc = name_check(port->name, NETCONF_NAME_MAX, p, "a port name",
				err);
		if (rc)
			return rc;
	}
	if (port->url) {
		size_t n = strlen(port->url);

		netconf_path_field(p, path, "url");
		if (!n || n > NETCONF_URL_MAX)
			return netconf_err_set(err, p,
				       "must be 1..%d bytes long",
				       NETCONF_URL_MAX);
		for (i = 0; i < n; i++)
			if ((unsigned char)port->url[i] < 0x21 ||
			    (unsigned char)port->url[i] > 0x7e)
				return netconf_err_set(err, p,
					       "must be printable ASCII without "
					       "spaces (byte %u is not)", i);
	}
	if (port->path) {
		size_t n = strlen(port->path);

		netconf_path_field(p, path, "path");
		if (!n || n > NETCONF_PATH_MAX)
			return netconf_err_set(err, p,
				       "must be 1..%d bytes long (a Unix "
				       "socket's path)", NETCONF_PATH_MAX);
		for (i = 0; i < n; i++)
			if ((unsigned char)port->path[i] < 0x20 ||
			    port->path[i] == 0x7f)
				return netconf_err_set(err, p,
					       "must not hold control "
					       "characters (byte %u does)", i);
	}
	if (port->netns) {
		netconf_path_field(p, path, "netns");
		rc = name_check(port->netns, NETCONF_NETNS_MAX, p,
				"a namespace name", err);
		if (rc)
			return rc;
	}
	if (port->address) {
		netconf_path_field(p, path, "address");
		if (inet_cidr_parse(port->address, &addr))
			return netconf_err_set(err, p,
				       "must be ADDRESS/PREFIX (e.g. "
				       "10.10.0.2/24), got '%s'",
				       port->address);
		if (subnet && subnet->family == addr.family) {
			if (!inet_cidr_contains(subnet, &addr))
				return netconf_err_set(err, p,
					       "%s is outside subnet %s",
					       port->address, subnet_str);
			inet_cidr_network(subnet, &edge);
			if (inet_addr_equal(&edge, &addr))
				return netconf_err_set(err, p,
					       "%s is the subnet's own "
					       "address, not a host",
					       port->address);
			inet_cidr_last(subnet, &edge);
			if (addr.family == AF_INET &&
			    inet_addr_equal(&edge, &addr))
				return netconf_err_set(
				    err, p,
				    "%s is the subnet's broadcast address",
				    port->address);
		}
		if (gw && gw->family && inet_addr_equal(gw, &addr)) {
			inet_addr_format(gw, gws, sizeof(gws));
			return netconf_err_set(err, p,
				       "%s is the network's gateway (%s), "
				       "owned by loom-netd",
				       port->address, gws);
		}
	}
	if (port->vlan) {
		netconf_path_field(p, path, "vlan");
		rc = range_check("vlan", port->vlan, p, err);
		if (rc)
			return rc;
		if (port->trunk_count)
			return netconf_err_set(err, p,
				       "vlan (an access port) and trunk (a "
				       "trunk port) exclude each other");
	}
	for (i = 0; i < port->trunk_count; i++) {
		netconf_path_index(p, path, "trunk", i);
		rc = range_check("trunk", port->trunk[i], p, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++)
			if (port->trunk[j] == port->trunk[i])
				return netconf_err_set(err, p,
					       "VLAN %u is listed twice",
					       port->trunk[i]);
	}
	if (port->native) {
		netconf_path_field(p, path, "native");
		rc = range_check("native", port->native, p, err);
		if (rc)
			return rc;
		if (!port->trunk_count)
			return netconf_err_set(err, p,
				       "native needs trunk: it is the VLAN of "
				       "untagged frames on a trunk port");
	}
	return 0;
}

int netconf_port_validate(const struct netconf_port *port,
			  const struct netconf_net *net, const char *path,
			  struct netconf_error *err)
{
	struct inet_cidr subnet, gw;
	int rc;

	path = path ? path : "";
	if (!net)
		return port_check(port, NULL, NULL, NULL, path, err);
	rc = net_addr_check(net, "", &subnet, &gw, err);
	if (rc)
		return rc;
	return port_check(port, net->subnet ? &subnet : NULL, &gw, net->subnet,
			  path, err);
}

int netconf_net_validate(const struct netconf_net *net, const char *path,
			 struct netconf_error *err)
{
	struct inet_cidr subnet, gw, a, b;
	char p[NETCONF_PATH_LEN], q[NETCONF_PATH_LEN];
	const struct netconf_port *x, *y;
	uint32_t i, j;
	int rc;

	path = path ? path : "";
	if (!net->name)
		return netconf_err_set(err, path, "missing field 'name'");
	netconf_path_field(p, path, "name");
	rc = name_check(net->name, NETCONF_NAME_MAX, p, "a network name", err);
	if (rc)
		return rc;
	netconf_path_field(p, path, "mode");
	if (!netconf_mode_supported(net->mode))
		return netconf_err_set(
		    err, p,
		    "mode %s is not supported yet; use nat, switch, isolated or bridge",
		    netconf_mode_name(net->mode));
	rc = net_addr_check(net, path, &subnet, &gw, err);
	if (rc)
		return rc;
	rc = netconf_nat_validate(net, path, err);
	if (rc)
		return rc;
	rc = netconf_capture_validate(net, path, err);
	if (rc)
		return rc;
	rc = netconf_bridge_validate(net, path, err);
	if (rc)
		return rc;
	rc = netconf_services_validate(net, path, err);
	if (rc)
		return rc;
	rc = netconf_link_validate(net, path, err);
	if (rc)
		return rc;
	netconf_path_field(p, path, "mtu");
	if (net->mtu && (rc = range_check("mtu", net->mtu, p, err)))
		return rc;
	netconf_path_field(p, path, "mac_table_size");
	if (net->mac_table_size &&
	    (rc = range_check("mac_table_size", net->mac_table_size, p, err)))
		return rc;
	netconf_path_field(p, path, "mac_aging");
	if (net->mac_aging &&
	    (rc = range_check("mac_aging", net->mac_aging, p, err)))
		return rc;
	if (net->port_count > NETCONF_PORTS_MAX) {
		netconf_path_field(p, path, "ports");
		return netconf_err_set(err, p, "at most %d ports, got %u",
			       NETCONF_PORTS_MAX, net->port_count);
	}
	for (i = 0; i < net->port_count; i++) {
		x = &net->ports[i];
		netconf_path_index(p, path, "ports", i);
		rc = port_check(x, net->subnet ? &subnet : NULL, &gw,
				net->subnet, p, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++) {
			y = &net->ports[j];
			netconf_path_index(q, path, "ports", j);
			if (!strcmp(x->name ? x->name : x->tap,
				    y->name ? y->name : y->tap)) {
				netconf_path_field(q, p,
						   x->name ? "name" : "tap");
				return netconf_err_set(err, q,
					       "port name '%s' is already used "
					       "by %s.ports[%u]",
					       x->name ? x->name : x->tap,
					       path[0] ? path : "network", j);
			}
			if (x->tap && y->tap && !strcmp(x->tap, y->tap)) {
				netconf_path_field(q, p, "tap");
				return netconf_err_set(
				    err, q,
				    "TAP '%s' is already used by %s.ports[%u]",
				    x->tap, path[0] ? path : "network", j);
			}
			if (x->address && y->address &&
			    !inet_cidr_parse(x->address, &a) &&
			    !inet_cidr_parse(y->address, &b) &&
			    inet_addr_equal(&a, &b)) {
				netconf_path_field(q, p, "address");
				return netconf_err_set(err, q,
					       "address %s is already used by "
					       "%s.ports[%u]",
					       x->address,
					       path[0] ? path : "network", j);
			}
		}
	}
	return 0;
}

int netconf_validate(const struct netconf *cfg, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	uint32_t i, j, k, l;
	int rc;

	if (cfg->network_count == 0)
		return netconf_err_set(err, "networks", "declares no network");
	if (cfg->network_count > NETCONF_NETWORKS_MAX)
		return netconf_err_set(
		    err, "networks", "at most %d networks, got %u",
		    NETCONF_NETWORKS_MAX, cfg->network_count);
	for (i = 0, k = 0; i < cfg->network_count; i++) {
		/* Bounds the quadratic uniqueness checks below. */
		k += cfg->networks[i].port_count;
		if (k > NETCONF_PORTS_TOTAL_MAX) {
			netconf_path_fmt(p, "networks[%u].ports", i);
			return netconf_err_set(
			    err, p,
			    "more than %d ports in all networks together",
			    NETCONF_PORTS_TOTAL_MAX);
		}
	}
	for (i = 0; i < cfg->network_count; i++) {
		netconf_path_fmt(p, "networks[%u]", i);
		rc = netconf_net_validate(&cfg->networks[i], p, err);
		if (rc)
			return rc;
		for (j = 0; j < i; j++)
			if (!strcmp(cfg->networks[i].name,
				    cfg->networks[j].name)) {
				netconf_path_fmt(p, "networks[%u].name", i);
				return netconf_err_set(err, p,
					       "network name '%s' is already "
					       "used by networks[%u]",
					       cfg->networks[i].name, j);
			}
		/* A TAP belongs to one port: check across earlier networks. */
		for (k = 0; k < cfg->networks[i].port_count; k++)
			for (j = 0; j < i; j++)
				for (l = 0; l < cfg->networks[j].port_count;
				     l++) {
					const char *a = cfg->networks[i]
								.ports[k].tap;
					const char *b = cfg->networks[j]
								.ports[l].tap;

					if (!a || !b || strcmp(a, b))
						continue;
					netconf_path_fmt(p,
						 "networks[%u].ports[%u].tap",
						 i, k);
					return netconf_err_set(
					    err, p,
					    "TAP '%s' is already used by "
					    "networks[%u].ports[%u]",
					    cfg->networks[i].ports[k].tap, j,
					    l);
				}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Defaults and freeing */

const char *netconf_port_type(const struct netconf_port *port)
{
	return port->type ? port->type : NETCONF_PORT_TYPE_TAP;
}

int netconf_port_is_tap(const struct netconf_port *port)
{
	return !strcmp(netconf_port_type(port), NETCONF_PORT_TYPE_TAP);
}

int netconf_port_has_ifname(const struct netconf_port *port)
{
	return netconf_port_is_tap(port) ||
	       !strcmp(netconf_port_type(port), NETCONF_PORT_TYPE_VETH) ||
	       !strcmp(netconf_port_type(port), NETCONF_PORT_TYPE_MACVTAP) ||
	       !strcmp(netconf_port_type(port), NETCONF_PORT_TYPE_VLAN);
}

int netconf_port_set_defaults(struct netconf_port *port)
{
	if (!port->name && port->tap) {
		port->name = strdup(port->tap);
		if (!port->name)
			return -ENOMEM;
	}
	if (!port->vlan && !port->trunk_count)
		port->vlan = NETCONF_DEFAULT_VLAN;
	return 0;
}

int netconf_net_set_defaults(struct netconf_net *net)
{
	struct inet_cidr subnet, gw;
	char buf[64];
	uint32_t i;

	if (netconf_nat_set_defaults(net) || netconf_capture_set_defaults(net) ||
	    netconf_bridge_set_defaults(net))
		return -ENOMEM;
	if (!net->mtu)
		net->mtu = NETCONF_DEFAULT_MTU;
	if (!net->mac_table_size)
		net->mac_table_size = NETCONF_DEFAULT_MAC_TABLE_SIZE;
	if (!net->mac_aging)
		net->mac_aging = NETCONF_DEFAULT_MAC_AGING;
	if (net->subnet && !net->gateway &&
	    !inet_cidr_parse(net->subnet, &subnet)) {
		inet_cidr_first_host(&subnet, &gw);
		inet_addr_format(&gw, buf, sizeof(buf));
		net->gateway = strdup(buf);
		if (!net->gateway)
			return -ENOMEM;
	}
	for (i = 0; i < net->port_count; i++)
		if (netconf_port_set_defaults(&net->ports[i]))
			return -ENOMEM;
	return 0;
}

void netconf_port_clear(struct netconf_port *port)
{
	free(port->type);
	free(port->name);
	free(port->tap);
	free(port->netns);
	free(port->address);
	free(port->url);
	free(port->path);
	free(port->parent);
	free(port->macvtap_mode);
	free(port->trunk);
	free(port->antispoof);
	memset(port, 0, sizeof(*port));
}

void netconf_net_clear(struct netconf_net *net)
{
	uint32_t i;

	free(net->name);
	free(net->subnet);
	free(net->gateway);
	for (i = 0; i < net->port_count; i++)
		netconf_port_clear(&net->ports[i]);
	free(net->ports);
	netconf_nat_clear(net);
	netconf_capture_clear(net);
	free(net->bridge);
	free(net->bridge_address);
	netconf_services_clear(net);
	netconf_link_clear(net);
	memset(net, 0, sizeof(*net));
}

void netconf_free(struct netconf *cfg)
{
	uint32_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->network_count; i++)
		netconf_net_clear(&cfg->networks[i]);
	free(cfg->networks);
	free(cfg);
}

/* Sets defaults on every network of a validated configuration. */
int netconf_set_defaults(struct netconf *cfg)
{
	uint32_t i;

	for (i = 0; i < cfg->network_count; i++)
		if (netconf_net_set_defaults(&cfg->networks[i]))
			return -ENOMEM;
	return 0;
}
