/* SPDX-License-Identifier: MIT */
/* netconf_nat.c - network model: the fields of a nat network (IPv6 prefix, host loopback, port forwards), and nat/forwards of a bridge network. */
#include "common/netconf.h"
#include "common/netconf_internal.h"
#include "common/fwdspec.h"
#include "common/inet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A nat network without a subnet gets libslirp's customary one. */
#define NAT_DEFAULT_SUBNET "10.0.2.0/24"

/* ---------------------------------------------------------------------- */
/* Schema (netconf_schema.c links these into the network's fields) */

static const cyaml_strval_t fwd_proto_strings[] = {
    {"tcp", NETCONF_FWD_TCP},
    {"udp", NETCONF_FWD_UDP},
};

const cyaml_schema_field_t netconf_forward_fields[] = {
    CYAML_FIELD_ENUM("proto", CYAML_FLAG_OPTIONAL | CYAML_FLAG_STRICT,
		     struct netconf_forward, proto, fwd_proto_strings,
		     CYAML_ARRAY_LEN(fwd_proto_strings)),
    CYAML_FIELD_STRING_PTR("host", CYAML_FLAG_DEFAULT, struct netconf_forward,
			   host, 0, CYAML_UNLIMITED),
    CYAML_FIELD_STRING_PTR("guest", CYAML_FLAG_DEFAULT,
			   struct netconf_forward, guest, 0, CYAML_UNLIMITED),
    CYAML_FIELD_END};

const cyaml_schema_value_t netconf_forward_entry = {
    CYAML_VALUE_MAPPING(CYAML_FLAG_DEFAULT, struct netconf_forward,
			netconf_forward_fields),
};

const char *netconf_fwd_proto_name(enum netconf_fwd_proto proto)
{
	return proto == NETCONF_FWD_UDP ? "udp" : "tcp";
}

/* ---------------------------------------------------------------------- */
/* Validation */

/* The IPv4 subnet of nat network @net, its default when none is given. */
static int nat_subnet4(const struct netconf_net *net, struct inet_cidr *out)
{
	return inet_cidr_parse(net->subnet ? net->subnet : NAT_DEFAULT_SUBNET,
			       out);
}

static int nat_gateway4(const struct netconf_net *net, struct inet_cidr *out)
{
	struct inet_cidr subnet;

	if (net->gateway)
		return inet_addr_parse(net->gateway, out);
	if (nat_subnet4(net, &subnet))
		return -EINVAL;
	inet_cidr_first_host(&subnet, out);
	return 0;
}

static int nat_gateway6(const struct netconf_net *net, struct inet_cidr *out)
{
	struct inet_cidr subnet;

	if (net->gateway6)
		return inet_addr_parse(net->gateway6, out);
	if (!net->subnet6 || inet_cidr_parse(net->subnet6, &subnet))
		return -EINVAL;
	inet_cidr_first_host(&subnet, out);
	return 0;
}

int netconf_forward_validate(const struct netconf_forward *fwd,
			     const struct netconf_net *net, const char *path,
			     struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	struct fwd_endpoint h, g;
	struct inet_cidr subnet, gw;

	path = path ? path : "";
	netconf_path_field(p, path, "proto");
	if (fwd->proto != NETCONF_FWD_TCP && fwd->proto != NETCONF_FWD_UDP)
		return netconf_err_set(err, p, "must be tcp or udp");
	netconf_path_field(p, path, "host");
	if (!fwd->host)
		return netconf_err_set(err, path, "missing field 'host'");
	if (fwd_host_parse(fwd->host, &h))
		return netconf_err_set(err, p,
			       "'%.60s' is not [ADDR:]PORT (PORT 1..65535; "
			       "an IPv6 address in brackets: [::1]:8080)",
			       fwd->host);
	netconf_path_field(p, path, "guest");
	if (!fwd->guest)
		return netconf_err_set(err, path, "missing field 'guest'");
	if (fwd_guest_parse(fwd->guest, &g))
		return netconf_err_set(err, p,
			       "'%.60s' is not ADDR[:PORT] or NAME[:PORT] (a "
			       "guest's IPv4 or IPv6 address, [ADDR]:PORT for "
			       "IPv6, or its host name)",
			       fwd->guest);
	if (g.name[0] && !strcmp(g.name, "gateway"))
		return netconf_err_set(err, p,
				       "%.60s is the gateway, not a guest",
				       fwd->guest);
	if (net && net->mode == NETCONF_MODE_BRIDGE && g.name[0])
		return netconf_err_set(err, p,
				       "%.60s: a bridge network forwards to "
				       "addresses (names: nat networks)",
				       fwd->guest);
	if (!net || g.name[0])
		return 0; /* a name is resolved while the forward runs */
	if (g.addr.family == AF_INET) {
		if (nat_subnet4(net, &subnet) || !inet_cidr_contains(&subnet,
								    &g.addr))
			return netconf_err_set(err, p,
				       "%.60s is outside the network's subnet "
				       "%s", fwd->guest,
				       net->subnet ? net->subnet
						   : NAT_DEFAULT_SUBNET);
		if (!nat_gateway4(net, &gw) && inet_addr_equal(&gw, &g.addr))
			return netconf_err_set(err, p,
				       "%.60s is the gateway, not a guest",
				       fwd->guest);
	} else {
		if (!net->subnet6 || inet_cidr_parse(net->subnet6, &subnet))
			return netconf_err_set(err, p,
				       "an IPv6 guest needs the network's "
				       "subnet6");
		if (!inet_cidr_contains(&subnet, &g.addr))
			return netconf_err_set(err, p,
				       "%.60s is outside subnet6 %s",
				       fwd->guest, net->subnet6);
		if (!nat_gateway6(net, &gw) && inet_addr_equal(&gw, &g.addr))
			return netconf_err_set(err, p,
				       "%.60s is the gateway, not a guest",
				       fwd->guest);
	}
	return 0;
}

static bool forwards_clash(const struct netconf_forward *a,
			   const struct netconf_forward *b)
{
	struct fwd_endpoint x, y;

	if (a->proto != b->proto || fwd_host_parse(a->host, &x) ||
	    fwd_host_parse(b->host, &y))
		return false;
	return x.port == y.port && inet_addr_equal(&x.addr, &y.addr);
}

static int only_nat(const struct netconf_net *net, const char *path,
		    const char *field, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];

	netconf_path_field(p, path, field);
	return netconf_err_set(err, p,
			       "only a nat network has %s (this one is %s)",
			       field, netconf_mode_name(net->mode));
}

static int forwards_validate(const struct netconf_net *net, const char *path,
			     struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	int rc;

	if (net->forward_count > NETCONF_FORWARDS_MAX) {
		netconf_path_field(p, path, "forwards");
		return netconf_err_set(err, p, "at most %d forwards, got %u",
				       NETCONF_FORWARDS_MAX,
				       net->forward_count);
	}
	for (uint32_t i = 0; i < net->forward_count; i++) {
		netconf_path_index(p, path, "forwards", i);
		rc = netconf_forward_validate(&net->forwards[i], net, p, err);
		if (rc)
			return rc;
		for (uint32_t j = 0; j < i; j++)
			if (forwards_clash(&net->forwards[i],
					   &net->forwards[j]))
				return netconf_err_set(err, p,
				       "%s %s is already forwarded by "
				       "forwards[%u]",
				       netconf_fwd_proto_name(
					   net->forwards[i].proto),
				       net->forwards[i].host, j);
	}
	return 0;
}

/*
 * A bridge network's nat and forwards live in the kernel (netd/knat.c,
 * nftables): the host routes for the guests, so both need an IPv4
 * subnet and the host's IPv4 address on the bridge (masquerade and the
 * forwards' replies go through it); the forwards are IPv4.
 */
static int bridge_nat_validate(const struct netconf_net *net,
			       const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	struct inet_cidr subnet, a;
	struct fwd_endpoint h, g;

	if (!net->nat && !net->forward_count)
		return 0;
	netconf_path_field(p, path, net->nat ? "nat" : "forwards");
	if (!net->subnet || inet_cidr_parse(net->subnet, &subnet) ||
	    subnet.family != AF_INET)
		return netconf_err_set(err, p,
			       "nat and forwards on a bridge network need an "
			       "IPv4 subnet");
	if (!net->bridge_address || inet_cidr_parse(net->bridge_address, &a) ||
	    a.family != AF_INET)
		return netconf_err_set(err, p,
			       "nat and forwards on a bridge network need the "
			       "host's IPv4 address on the bridge "
			       "(bridge_address, e.g. 10.10.0.254/24): the "
			       "host routes for the guests");
	for (uint32_t i = 0; i < net->forward_count; i++) {
		netconf_path_index(p, path, "forwards", i);
		if (net->forwards[i].host && net->forwards[i].guest &&
		    !fwd_host_parse(net->forwards[i].host, &h) &&
		    !fwd_guest_parse(net->forwards[i].guest, &g) &&
		    !g.name[0] && /* forwards_validate refuses names */
		    (h.addr.family != AF_INET || g.addr.family != AF_INET))
			return netconf_err_set(err, p,
				       "a bridge network forwards IPv4 only "
				       "(the kernel path has no IPv6 NAT "
				       "here)");
	}
	return forwards_validate(net, path, err);
}

int netconf_nat_validate(const struct netconf_net *net, const char *path,
			 struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	struct inet_cidr subnet, gw, edge;

	if (net->mode != NETCONF_MODE_NAT) {
		if (net->subnet6)
			return only_nat(net, path, "subnet6", err);
		if (net->gateway6)
			return only_nat(net, path, "gateway6", err);
		if (net->host_loopback)
			return only_nat(net, path, "host_loopback", err);
		if (net->mode == NETCONF_MODE_BRIDGE)
			return bridge_nat_validate(net, path, err);
		if (net->nat) {
			netconf_path_field(p, path, "nat");
			return netconf_err_set(err, p,
				       "only a nat or bridge network has nat "
				       "(this one is %s)",
				       netconf_mode_name(net->mode));
		}
		if (net->forward_count)
			return only_nat(net, path, "forwards", err);
		return 0;
	}
	netconf_path_field(p, path, "mtu");
	if (net->mtu > NETCONF_NAT_MTU_MAX)
		return netconf_err_set(err, p,
			       "a nat network's MTU is at most %d (libslirp), "
			       "got %u", NETCONF_NAT_MTU_MAX, net->mtu);
	netconf_path_field(p, path, "subnet");
	if (net->subnet && (inet_cidr_parse(net->subnet, &subnet) ||
			    subnet.family != AF_INET))
		return netconf_err_set(err, p,
			       "a nat network's subnet is IPv4 (IPv6 goes in "
			       "subnet6)");
	if (!net->subnet) {
		for (uint32_t i = 0; i < net->port_count; i++)
			if (net->ports[i].address)
				return netconf_err_set(err, p,
				       "ports with addresses need the subnet "
				       "they are in (the default is %s)",
				       NAT_DEFAULT_SUBNET);
	}
	if (net->subnet6) {
		netconf_path_field(p, path, "subnet6");
		if (inet_cidr_parse(net->subnet6, &subnet) ||
		    subnet.family != AF_INET6)
			return netconf_err_set(err, p,
				       "'%.60s' is not an IPv6 prefix "
				       "ADDR/LEN", net->subnet6);
		inet_cidr_network(&subnet, &edge);
		if (!inet_addr_equal(&edge, &subnet))
			return netconf_err_set(err, p,
				       "%.60s has host bits set", net->subnet6);
		if (subnet.prefix < 8 || subnet.prefix > 64)
			return netconf_err_set(err, p,
				       "the prefix must be /8../64 (guests "
				       "configure themselves with SLAAC in a "
				       "/64), got /%u", subnet.prefix);
		if (net->gateway6) {
			netconf_path_field(p, path, "gateway6");
			if (inet_addr_parse(net->gateway6, &gw) ||
			    gw.family != AF_INET6)
				return netconf_err_set(err, p,
					       "'%.60s' is not an IPv6 address",
					       net->gateway6);
			if (!inet_cidr_contains(&subnet, &gw) ||
			    inet_addr_equal(&gw, &edge))
				return netconf_err_set(err, p,
					       "%.60s is not a host of %s",
					       net->gateway6, net->subnet6);
		}
	} else if (net->gateway6) {
		netconf_path_field(p, path, "gateway6");
		return netconf_err_set(err, p, "a gateway6 needs a subnet6");
	}
	return forwards_validate(net, path, err);
}

/* ---------------------------------------------------------------------- */
/* Defaults and freeing */

static int str_replace(char **dst, const char *s)
{
	char *n = strdup(s);

	if (!n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

int netconf_forward_set_defaults(struct netconf_forward *fwd)
{
	struct fwd_endpoint h, g;
	char buf[FWDSPEC_STRLEN];

	if (fwd_host_parse(fwd->host, &h) || fwd_guest_parse(fwd->guest, &g))
		return 0; /* not validated: left as given */
	if (!g.port)
		g.port = h.port;
	if (str_replace(&fwd->host, fwd_endpoint_format(&h, buf, sizeof(buf))))
		return -ENOMEM;
	return str_replace(&fwd->guest,
			   fwd_endpoint_format(&g, buf, sizeof(buf)));
}

int netconf_nat_set_defaults(struct netconf_net *net)
{
	struct inet_cidr subnet, gw;
	char buf[INET_CIDR_STRLEN];

	if (net->mode == NETCONF_MODE_BRIDGE)
		goto forwards;
	if (net->mode != NETCONF_MODE_NAT)
		return 0;
	if (!net->subnet && str_replace(&net->subnet, NAT_DEFAULT_SUBNET))
		return -ENOMEM;
	if (net->subnet6 && !net->gateway6 &&
	    !inet_cidr_parse(net->subnet6, &subnet)) {
		inet_cidr_first_host(&subnet, &gw);
		if (str_replace(&net->gateway6,
				inet_addr_format(&gw, buf, sizeof(buf))))
			return -ENOMEM;
	}
forwards:
	for (uint32_t i = 0; i < net->forward_count; i++)
		if (netconf_forward_set_defaults(&net->forwards[i]))
			return -ENOMEM;
	return 0;
}

void netconf_forward_clear(struct netconf_forward *fwd)
{
	free(fwd->host);
	free(fwd->guest);
	memset(fwd, 0, sizeof(*fwd));
}

void netconf_nat_clear(struct netconf_net *net)
{
	free(net->subnet6);
	free(net->gateway6);
	for (uint32_t i = 0; i < net->forward_count; i++)
		netconf_forward_clear(&net->forwards[i]);
	free(net->forwards);
	net->subnet6 = net->gateway6 = NULL;
	net->forwards = NULL;
	net->forward_count = 0;
}

/* ---------------------------------------------------------------------- */
/* JSON */

json_t *netconf_forward_to_json(const struct netconf_forward *fwd)
{
	return json_pack("{s:s,s:s?,s:s?}", "proto",
			 netconf_fwd_proto_name(fwd->proto), "host", fwd->host,
			 "guest", fwd->guest);
}

int netconf_nat_to_json(const struct netconf_net *net, json_t *o)
{
	json_t *a;
	int rc = 0;

	if (net->subnet6)
		rc |= json_object_set_new(o, "subnet6",
					  json_string(net->subnet6));
	if (net->gateway6)
		rc |= json_object_set_new(o, "gateway6",
					  json_string(net->gateway6));
	if (net->host_loopback)
		rc |= json_object_set_new(o, "host_loopback", json_true());
	if (net->nat)
		rc |= json_object_set_new(o, "nat", json_true());
	if (!net->forward_count)
		return rc ? -ENOMEM : 0;
	a = json_array();
	for (uint32_t i = 0; a && i < net->forward_count; i++)
		rc |= json_array_append_new(
		    a, netconf_forward_to_json(&net->forwards[i]));
	rc |= json_object_set_new(o, "forwards", a);
	return rc ? -ENOMEM : 0;
}

static int jstr(const json_t *v, char **dst, const char *path,
		struct netconf_error *err)
{
	if (!json_is_string(v))
		return netconf_err_set(err, path, "must be a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return netconf_err_set(err, path,
				       "must not hold a NUL character");
	return str_replace(dst, json_string_value(v));
}

static int forward_parse_json(const json_t *j, struct netconf_forward *fwd,
			      const char *path, struct netconf_error *err)
{
	char p[NETCONF_PATH_LEN];
	const char *key;
	json_t *v;
	int rc = 0, proto;

	if (!json_is_object(j))
		return netconf_err_set(err, path, "must be an object");
	json_object_foreach((json_t *)j, key, v)
	{
		netconf_path_field(p, path, key);
		if (!strcmp(key, "proto")) {
			if (!json_is_string(v) ||
			    (proto = fwd_proto_parse(json_string_value(v))) < 0)
				return netconf_err_set(err, p,
						       "must be tcp or udp");
			fwd->proto = (enum netconf_fwd_proto)proto;
		} else if (!strcmp(key, "host")) {
			rc = jstr(v, &fwd->host, p, err);
		} else if (!strcmp(key, "guest")) {
			rc = jstr(v, &fwd->guest, p, err);
		} else {
			return netconf_err_unknown_field(
			    err, p, netconf_forward_fields, key);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int netconf_forward_from_json(const json_t *j, struct netconf_forward *out,
			      const char *path, struct netconf_error *err)
{
	int rc;

	path = path ? path : "";
	netconf_err_clear(err, NULL);
	memset(out, 0, sizeof(*out));
	rc = forward_parse_json(j, out, path, err);
	if (!rc)
		rc = netconf_forward_validate(out, NULL, path, err);
	if (!rc)
		rc = netconf_forward_set_defaults(out);
	if (rc)
		netconf_forward_clear(out);
	return rc;
}

int netconf_nat_parse_json(struct netconf_net *net, const char *key,
			   const json_t *v, const char *path,
			   struct netconf_error *err)
{
	char q[NETCONF_PATH_LEN];
	size_t i;
	json_t *e;
	int rc;

	if (!strcmp(key, "subnet6"))
		return jstr(v, &net->subnet6, path, err);
	if (!strcmp(key, "gateway6"))
		return jstr(v, &net->gateway6, path, err);
	if (!strcmp(key, "host_loopback")) {
		if (!json_is_boolean(v))
			return netconf_err_set(err, path,
					       "must be true or false");
		net->host_loopback = json_is_true(v);
		return 0;
	}
	if (!strcmp(key, "nat")) {
		if (!json_is_boolean(v))
			return netconf_err_set(err, path,
					       "must be true or false");
		net->nat = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "forwards"))
		return 1;
	if (!json_is_array(v))
		return netconf_err_set(err, path, "must be a list");
	if (json_array_size(v) > NETCONF_FORWARDS_MAX)
		return netconf_err_set(err, path,
				       "has %zu entries, at most %d allowed",
				       json_array_size(v),
				       NETCONF_FORWARDS_MAX);
	if (!json_array_size(v) || net->forwards)
		return net->forwards ? netconf_err_set(err, path,
						       "is given twice")
				     : 0;
	net->forwards = calloc(json_array_size(v), sizeof(*net->forwards));
	if (!net->forwards)
		return -ENOMEM;
	json_array_foreach(v, i, e)
	{
		netconf_path_fmt(q, "%s[%zu]", path, i);
		net->forward_count++;
		rc = forward_parse_json(e, &net->forwards[i], q, err);
		if (rc)
			return rc;
	}
	return 0;
}
