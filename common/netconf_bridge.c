// SPDX-License-Identifier: MIT
/* netconf_bridge.c - the kernel path's fields: bridge, bridge_address; a macvtap port's parent and mode; the anti-spoofing default. */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/inet.h"
#include "common/netconf.h"
#include "common/netconf_internal.h"

/* Derived bridge names: "lb-NAME", or "lb-" + a hash when NAME is long. */
#define BRIDGE_PREFIX "lb-"

static int only_bridge(const struct netconf_net *net, const char *path,
		       const char *field, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];

	netconf_path_field(p, path, field);
	return netconf_err_set(err, p,
			       "only a bridge network has %s (this one is %s)",
			       field, netconf_mode_name(net->mode));
}

/* The gateway as it will be: given, or the subnet's first host (the
 * defaults are filled in after validation). Return: false for none. */
static bool bridge_gateway(const struct netconf_net *net, struct inet_cidr *gw)
{
	struct inet_cidr subnet;

	if (net->gateway)
		return !inet_addr_parse(net->gateway, gw);
	if (!net->subnet || inet_cidr_parse(net->subnet, &subnet))
		return false;
	inet_cidr_first_host(&subnet, gw);
	return true;
}

/* bridge_address: a host address in the subnet, nobody else's. */
static int bridge_address_check(const struct netconf_net *net,
				const char *path, struct netconf_error *err)
{
	struct inet_cidr a, subnet, edge, other;
	char p[NETCONF_PATH_LEN];

	netconf_path_field(p, path, "bridge_address");
	if (inet_cidr_parse(net->bridge_address, &a))
		return netconf_err_set(err, p,
			       "must be ADDRESS/PREFIX (e.g. 10.10.0.254/24), "
			       "got '%.60s'", net->bridge_address);
	if (net->subnet && !inet_cidr_parse(net->subnet, &subnet) &&
	    subnet.family == a.family) {
		if (!inet_cidr_contains(&subnet, &a))
			return netconf_err_set(err, p, "%.60s is outside subnet %s",
					       net->bridge_address, net->subnet);
		inet_cidr_network(&subnet, &edge);
		if (inet_addr_equal(&edge, &a))
			return netconf_err_set(err, p,
				       "%.60s is the subnet's own address",
				       net->bridge_address);
		inet_cidr_last(&subnet, &edge);
		if (a.family == AF_INET && inet_addr_equal(&edge, &a))
			return netconf_err_set(err, p,
				       "%.60s is the subnet's broadcast address",
				       net->bridge_address);
	}
	if (bridge_gateway(net, &other) && other.family == a.family &&
	    inet_addr_equal(&other, &a))
		return netconf_err_set(err, p,
			       "%.60s is the gateway's address (netd's services "
			       "answer on it); give the host another one",
			       net->bridge_address);
	for (uint32_t i = 0; i < net->port_count; i++)
		if (net->ports[i].address &&
		    !inet_cidr_parse(net->ports[i].address, &other) &&
		    inet_addr_equal(&other, &a))
			return netconf_err_set(err, p,
				       "%.60s is ports[%u]'s address too",
				       net->bridge_address, i);
	return 0;
}

int netconf_bridge_validate(const struct netconf_net *net, const char *path,
			    struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	int rc;

	if (net->mode != NETCONF_MODE_BRIDGE) {
		if (net->bridge)
			return only_bridge(net, path, "bridge", err);
		if (net->bridge_address)
			return only_bridge(net, path, "bridge_address", err);
		return 0;
	}
	if (net->bridge) {
		netconf_path_field(p, path, "bridge");
		rc = netconf_name_check(net->bridge, NETCONF_IFNAME_MAX, p,
					"a bridge name", err);
		if (rc)
			return rc;
	}
	if (net->bridge_address)
		return bridge_address_check(net, path, err);
	return 0;
}

int netconf_bridge_set_defaults(struct netconf_net *net)
{
	char buf[NETCONF_IFNAME_MAX + 1];
	uint32_t h = 2166136261u;

	if (net->mode != NETCONF_MODE_BRIDGE || net->bridge || !net->name)
		return 0;
	if (strlen(BRIDGE_PREFIX) + strlen(net->name) <= NETCONF_IFNAME_MAX) {
		snprintf(buf, sizeof(buf), BRIDGE_PREFIX "%s", net->name);
	} else {
		/* FNV-1a: stable across restarts and versions. */
		for (const char *c = net->name; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		snprintf(buf, sizeof(buf), BRIDGE_PREFIX "%08x", h);
	}
	net->bridge = strdup(buf);
	return net->bridge ? 0 : -ENOMEM;
}

static int jstr(const json_t *v, char **dst, const char *path,
		struct netconf_error *err)
{
	char *s;

	if (!json_is_string(v))
		return netconf_err_set(err, path, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return netconf_err_set(err, path,
				       "must not hold a NUL character");
	s = strdup(json_string_value(v));
	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

int netconf_bridge_parse_json(struct netconf_net *net, const char *key,
			      const json_t *v, const char *path,
			      struct netconf_error *err)
{
	if (!strcmp(key, "bridge"))
		return jstr(v, &net->bridge, path, err);
	if (!strcmp(key, "bridge_address"))
		return jstr(v, &net->bridge_address, path, err);
	return 1;
}

/* type vlan: `tap` is "PARENT.VID", in netd's namespace, no address. */
static int vlan_port_check(const struct netconf_port *port, const char *path,
			   struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	const char *dot;
	char *end;
	long vid;

	if (port->netns || port->address || port->parent ||
	    port->macvtap_mode) {
		const char *f = port->netns ? "netns" :
				port->address ? "address" :
				port->parent ? "parent" : "macvtap_mode";

		netconf_path_field(p, path, f);
		return netconf_err_set(err, p,
			       "a vlan port has no '%s' (its name, tap: "
			       "PARENT.VID, says it all)", f);
	}
	if (!port->tap)
		return 0; /* port_check names the missing field */
	netconf_path_field(p, path, "tap");
	dot = strrchr(port->tap, '.');
	vid = dot && dot != port->tap ? strtol(dot + 1, &end, 10) : 0;
	if (!dot || dot == port->tap || !dot[1] || *end || vid < 1 ||
	    vid > NETCONF_VLAN_MAX || dot[1] == '0')
		return netconf_err_set(err, p,
			       "a vlan port's name is PARENT.VID (e.g. "
			       "eth0.10, VID 1..4094), got '%.40s'", port->tap);
	return 0;
}

static const char *const macvtap_modes[] = {"bridge", "private", "vepa",
					    "passthru"};

int netconf_macvtap_port_check(const struct netconf_port *port,
			       const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	size_t i;
	int rc;

	if (!strcmp(netconf_port_type(port), NETCONF_PORT_TYPE_VLAN))
		return vlan_port_check(port, path, err);
	if (strcmp(netconf_port_type(port), NETCONF_PORT_TYPE_MACVTAP)) {
		netconf_path_field(p, path, port->parent ? "parent" :
							   "macvtap_mode");
		if (port->parent || port->macvtap_mode)
			return netconf_err_set(err, p,
				       "only a port of type macvtap has '%s'",
				       port->parent ? "parent" : "macvtap_mode");
		return 0;
	}
	if (port->netns || port->address) {
		netconf_path_field(p, path, port->netns ? "netns" : "address");
		return netconf_err_set(err, p,
			       "a macvtap port has no '%s' (it stays in "
			       "netd's namespace, on its parent)",
			       port->netns ? "netns" : "address");
	}
	if (!port->parent)
		return netconf_err_set(err, path,
			       "missing field 'parent' (the interface the "
			       "macvtap sits on)");
	netconf_path_field(p, path, "parent");
	rc = netconf_name_check(port->parent, NETCONF_IFNAME_MAX, p,
				"an interface name", err);
	if (rc || !port->macvtap_mode)
		return rc;
	for (i = 0; i < sizeof(macvtap_modes) / sizeof(macvtap_modes[0]); i++)
		if (!strcmp(port->macvtap_mode, macvtap_modes[i]))
			return 0;
	netconf_path_field(p, path, "macvtap_mode");
	return netconf_err_set(err, p,
		       "must be bridge, private, vepa or passthru, got '%.40s'",
		       port->macvtap_mode);
}

bool netconf_port_antispoof(const struct netconf_net *net,
			    const struct netconf_port *port)
{
	const char *type = netconf_port_type(port);

	if (port->antispoof)
		return *port->antispoof;
	if (net->mode != NETCONF_MODE_BRIDGE || port->trunk_count)
		return false;
	return !strcmp(type, NETCONF_PORT_TYPE_VETH) ||
	       !strcmp(type, NETCONF_PORT_TYPE_TAP);
}
